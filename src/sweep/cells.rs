//! The cells of a sweep: the product of its dimensions, each named by its
//! arguments as given (`-t 4 -fa on`), the first dimension varying slowest
//! (llama-bench's order).

use serde::Serialize;

use super::vary::{shell_words, Dimension};

/// Most cells one sweep may have.
pub const MAX_CELLS: usize = 1000;

/// One configuration of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The cell's name in every output: its arguments as given.
    pub name: String,
    /// The arguments it adds to the command line.
    pub args: Vec<String>,
    /// Index of its value in each dimension.
    pub coords: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    #[error(
        "nothing to sweep: give at least one --vary (e.g. --vary \"-t 1,2,4\") or two --vary-args"
    )]
    NoDimension,
    #[error("'{0}' is varied twice: give all its values in one --vary")]
    Twice(String),
    #[error("'{0}' is both varied and among the fixed arguments after --: remove one")]
    Fixed(String),
    #[error("the grid has {0} cells, more than {MAX_CELLS}: narrow the --vary lists")]
    TooMany(usize),
}

/// The product of `dims`. `fixed` are the arguments every cell shares
/// (after `--`): a varied flag may not be among them.
pub fn product(dims: &[Dimension], fixed: &[String]) -> Result<Vec<Cell>, CellError> {
    if dims.is_empty() {
        return Err(CellError::NoDimension);
    }
    check_flags(dims, fixed)?;
    let total = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(d.len()))
        .unwrap_or(usize::MAX);
    if total > MAX_CELLS {
        return Err(CellError::TooMany(total));
    }
    let mut cells = Vec::with_capacity(total);
    for k in 0..total {
        let mut coords = vec![0; dims.len()];
        let mut rest = k;
        for (i, d) in dims.iter().enumerate().rev() {
            coords[i] = rest % d.len();
            rest /= d.len();
        }
        let args: Vec<String> = dims
            .iter()
            .zip(&coords)
            .flat_map(|(d, &c)| d.args(c))
            .collect();
        cells.push(Cell {
            name: shell_words(&args),
            args,
            coords,
        });
    }
    Ok(cells)
}

/// Flags varied twice, or varied and fixed.
fn check_flags(dims: &[Dimension], fixed: &[String]) -> Result<(), CellError> {
    let mut seen: Vec<&str> = Vec::new();
    for d in dims {
        let flags: Vec<&str> = match d {
            Dimension::Flag { flag, .. } => vec![flag.as_str()],
            Dimension::Args { sets } => {
                let mut f: Vec<&str> = sets
                    .iter()
                    .flatten()
                    .map(String::as_str)
                    .filter(|w| is_flag(w))
                    .collect();
                f.sort_unstable();
                f.dedup();
                f
            }
        };
        for f in flags {
            if seen.contains(&f) {
                return Err(CellError::Twice(f.to_string()));
            }
            if fixed.iter().any(|w| w == f) {
                return Err(CellError::Fixed(f.to_string()));
            }
            seen.push(f);
        }
    }
    Ok(())
}

/// A word that names an option (`-t`, `--threads`), not a negative number.
fn is_flag(w: &str) -> bool {
    w.starts_with('-') && w.len() > 1 && !w[1..].starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::vary::{parse_vary, parse_vary_args};

    fn dims(texts: &[&str]) -> Vec<Dimension> {
        texts.iter().map(|t| parse_vary(t).unwrap()).collect()
    }

    #[test]
    fn the_product_in_llama_bench_order() {
        let cells = product(&dims(&["-t 1,2", "-b 64,512", "-fa on,off"]), &[]).unwrap();
        let names: Vec<&str> = cells.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "-t 1 -b 64 -fa on",
                "-t 1 -b 64 -fa off",
                "-t 1 -b 512 -fa on",
                "-t 1 -b 512 -fa off",
                "-t 2 -b 64 -fa on",
                "-t 2 -b 64 -fa off",
                "-t 2 -b 512 -fa on",
                "-t 2 -b 512 -fa off",
            ]
        );
        assert_eq!(cells[5].args, ["-t", "2", "-b", "64", "-fa", "off"]);
        assert_eq!(cells[5].coords, [1, 0, 1]);
    }

    #[test]
    fn vary_args_is_one_more_dimension() {
        let mut d = dims(&["-fa on,off"]);
        d.push(
            parse_vary_args(&["-t 4 -tb 8".into(), "-t 8".into()])
                .unwrap()
                .unwrap(),
        );
        let cells = product(&d, &["-ngl".into(), "99".into()]).unwrap();
        assert_eq!(cells.len(), 4);
        assert_eq!(cells[1].name, "-fa on -t 8");
        assert_eq!(cells[2].args, ["-fa", "off", "-t", "4", "-tb", "8"]);
    }

    #[test]
    fn conflicts_and_limits() {
        let twice = product(&dims(&["-t 1,2", "-t 4"]), &[]).unwrap_err();
        assert_eq!(twice, CellError::Twice("-t".into()));
        let fixed = product(&dims(&["-t 1,2"]), &["-t".into(), "4".into()]).unwrap_err();
        assert_eq!(fixed, CellError::Fixed("-t".into()));
        // A negative value among the fixed arguments is not a flag.
        assert!(product(&dims(&["-t 1,2"]), &["-ngl".into(), "-1".into()]).is_ok());
        let big = product(&dims(&["-t 1-40", "-b 1-40"]), &[]).unwrap_err();
        assert_eq!(big, CellError::TooMany(1600));
        assert_eq!(product(&[], &[]).unwrap_err(), CellError::NoDimension);
    }
}
