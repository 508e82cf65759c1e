//! The `--vary` grammar: one flag and its values, in llama-bench's list and
//! range syntax, and `--vary-args`: whole argument sets as one dimension.
//!
//! `--vary "-t 1,2,4,8"`, `--vary "-ub 64-512*2"` (64, 128, 256, 512),
//! `--vary "-t 2-8+2"` (2, 4, 6, 8), `--vary "-t 1-4"` (1, 2, 3, 4),
//! `--vary "-fa on,off"`, `--vary "--threads=1,2"`. A comma list may mix
//! ranges and plain values; values that are not ranges are taken as written
//! (`-ngl -1` is the value `-1`, not a range). Pure: text in, a
//! [`Dimension`] or a [`VaryError`] naming the input out.

use serde::{Deserialize, Serialize};

/// Most values one range may expand to (a typo like `1-100000` is caught).
pub const MAX_RANGE_VALUES: usize = 1024;

/// One dimension of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Dimension {
    /// A flag and its values: each value gives the arguments `[flag, value]`.
    Flag { flag: String, values: Vec<String> },
    /// Whole argument sets (`--vary-args`): each value is its words as given.
    Args { sets: Vec<Vec<String>> },
}

impl Dimension {
    pub fn len(&self) -> usize {
        match self {
            Dimension::Flag { values, .. } => values.len(),
            Dimension::Args { sets } => sets.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The arguments of value `i`.
    pub fn args(&self, i: usize) -> Vec<String> {
        match self {
            Dimension::Flag { flag, values } => vec![flag.clone(), values[i].clone()],
            Dimension::Args { sets } => sets[i].clone(),
        }
    }

    /// How value `i` reads in a cell name (`-t 4`, `-t 4 -tb 8`).
    pub fn label(&self, i: usize) -> String {
        shell_words(&self.args(i))
    }

    /// How the dimension is named in per-parameter tables (`-t`, `args`).
    pub fn name(&self) -> String {
        match self {
            Dimension::Flag { flag, .. } => flag.clone(),
            Dimension::Args { .. } => "--vary-args".to_string(),
        }
    }
}

/// Words joined with spaces, single-quoted only where a POSIX shell would
/// need it (so `-ts 3,1` stays as typed).
pub fn shell_words(words: &[String]) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./,:=+@%^".contains(c);
    words
        .iter()
        .map(|w| {
            if !w.is_empty() && w.chars().all(safe) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaryError {
    #[error("--vary '{0}': expected a flag and its values, e.g. --vary \"-t 1,2,4\"")]
    Shape(String),
    #[error("--vary '{0}': '{1}' is not a flag (flags start with '-')")]
    NotAFlag(String, String),
    #[error("--vary '{0}': empty value in the list '{1}' (values are separated by single commas)")]
    EmptyValue(String, String),
    #[error("--vary '{0}': range '{1}' {2}")]
    BadRange(String, String, String),
    #[error("--vary '{0}': the value '{1}' is listed twice")]
    Duplicate(String, String),
    #[error("--vary-args '{0}': {1}")]
    BadArgs(String, String),
}

/// Parses one `--vary` value.
pub fn parse_vary(text: &str) -> Result<Dimension, VaryError> {
    let shape = || VaryError::Shape(text.to_string());
    let words = shlex::split(text).ok_or_else(shape)?;
    let (flag, spec) = match words.as_slice() {
        [one] => one.split_once('=').ok_or_else(shape)?,
        [flag, spec] => (flag.as_str(), spec.as_str()),
        _ => return Err(shape()),
    };
    if !flag.starts_with('-') || flag.len() < 2 {
        return Err(VaryError::NotAFlag(text.into(), flag.into()));
    }
    let mut values: Vec<String> = Vec::new();
    for item in spec.split(',') {
        if item.is_empty() {
            return Err(VaryError::EmptyValue(text.into(), spec.into()));
        }
        for v in
            expand_item(item).map_err(|why| VaryError::BadRange(text.into(), item.into(), why))?
        {
            if values.contains(&v) {
                return Err(VaryError::Duplicate(text.into(), v));
            }
            values.push(v);
        }
    }
    Ok(Dimension::Flag {
        flag: flag.to_string(),
        values,
    })
}

/// Parses the `--vary-args` values (all of them form one dimension).
pub fn parse_vary_args(texts: &[String]) -> Result<Option<Dimension>, VaryError> {
    if texts.is_empty() {
        return Ok(None);
    }
    let mut sets: Vec<Vec<String>> = Vec::new();
    for t in texts {
        let words = shlex::split(t)
            .ok_or_else(|| VaryError::BadArgs(t.clone(), "unbalanced quotes".into()))?;
        if words.is_empty() {
            return Err(VaryError::BadArgs(t.clone(), "no arguments".into()));
        }
        if sets.contains(&words) {
            return Err(VaryError::BadArgs(t.clone(), "given twice".into()));
        }
        sets.push(words);
    }
    Ok(Some(Dimension::Args { sets }))
}

/// One list item: a range (`a-b`, `a-b+s`, `a-b*m`, non-negative integers)
/// or a plain value. Err holds why a range is wrong.
fn expand_item(item: &str) -> Result<Vec<String>, String> {
    let Some((first, rest)) = split_range(item) else {
        return Ok(vec![item.to_string()]);
    };
    let (last, op, by) = match rest.find(['+', '*']) {
        Some(i) => (&rest[..i], &rest[i..i + 1], Some(&rest[i + 1..])),
        None => (rest, "+", None),
    };
    let num = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("has '{s}' where a whole number belongs"))
    };
    let (a, b) = (num(first)?, num(last)?);
    let by = by.map(num).transpose()?.unwrap_or(1);
    if a > b {
        return Err(format!("runs backwards ({a} > {b})"));
    }
    let next: Box<dyn Fn(u64) -> Option<u64>> = match op {
        "+" if by >= 1 => Box::new(move |x: u64| x.checked_add(by)),
        "*" if by >= 2 && a >= 1 => Box::new(move |x: u64| x.checked_mul(by)),
        "*" if a == 0 => return Err("multiplies from 0 (it would never grow)".into()),
        "*" => return Err("needs a multiplier of at least 2".into()),
        _ => return Err("needs a step of at least 1".into()),
    };
    let mut out = Vec::new();
    let mut x = Some(a);
    while let Some(v) = x.filter(|&v| v <= b) {
        if out.len() == MAX_RANGE_VALUES {
            return Err(format!("gives more than {MAX_RANGE_VALUES} values"));
        }
        out.push(v.to_string());
        x = next(v);
    }
    Ok(out)
}

/// `a-rest` when the item starts with digits followed by '-' (so `-1`,
/// `q8_0` and `on` are plain values).
fn split_range(item: &str) -> Option<(&str, &str)> {
    let dash = item.find('-')?;
    let first = &item[..dash];
    (!first.is_empty() && first.bytes().all(|c| c.is_ascii_digit()))
        .then(|| (first, &item[dash + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        match parse_vary(text).unwrap() {
            Dimension::Flag { values, .. } => values,
            d => panic!("not a flag dimension: {d:?}"),
        }
    }

    #[test]
    fn lists_and_llama_bench_ranges() {
        assert_eq!(values("-t 1,2,4,8"), ["1", "2", "4", "8"]);
        assert_eq!(values("-ub 64-512*2"), ["64", "128", "256", "512"]);
        assert_eq!(values("-t 2-8+2"), ["2", "4", "6", "8"]);
        assert_eq!(values("-t 1-4"), ["1", "2", "3", "4"]);
        // A step that overshoots stops below the last value, as llama-bench does.
        assert_eq!(values("-b 100-600*4"), ["100", "400"]);
        assert_eq!(values("-t 1,4-6,16"), ["1", "4", "5", "6", "16"]);
        assert_eq!(values("-fa on,off"), ["on", "off"]);
        assert_eq!(values("-ctk f16,q8_0"), ["f16", "q8_0"]);
        assert_eq!(values("-ngl -1,0"), ["-1", "0"]);
        assert_eq!(values("--threads=1,2"), ["1", "2"]);
    }

    #[test]
    fn the_flag_and_labels() {
        let d = parse_vary("-fa on,off").unwrap();
        assert_eq!(d.name(), "-fa");
        assert_eq!(d.args(1), ["-fa", "off"]);
        assert_eq!(d.label(0), "-fa on");
        let a = parse_vary_args(&["-t 4 -tb 8".into(), "-t 8".into()])
            .unwrap()
            .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.args(0), ["-t", "4", "-tb", "8"]);
        assert_eq!(a.label(1), "-t 8");
        assert_eq!(parse_vary_args(&[]).unwrap(), None);
    }

    #[test]
    fn bad_input_names_the_input() {
        let err = |t: &str| parse_vary(t).unwrap_err().to_string();
        assert!(err("-t").contains("expected a flag and its values"));
        assert!(err("t 1,2").contains("'t' is not a flag"));
        assert!(err("-t 1,,2").contains("empty value"));
        assert!(err("-t 8-1").contains("runs backwards (8 > 1)"));
        assert!(err("-t 1-8*1").contains("multiplier of at least 2"));
        assert!(err("-t 0-8*2").contains("multiplies from 0"));
        assert!(err("-t 1-8+0").contains("step of at least 1"));
        assert!(err("-t 1-x").contains("has 'x' where a whole number belongs"));
        assert!(err("-t 1,2,1").contains("'1' is listed twice"));
        assert!(err("-t 1-100000").contains("more than 1024 values"));
        assert!(err("-t 1 2").contains("expected a flag"));
        let args = parse_vary_args(&["-t 4".into(), "-t 4".into()]).unwrap_err();
        assert_eq!(args.to_string(), "--vary-args '-t 4': given twice");
    }

    #[test]
    fn quoted_words_stay_whole_in_labels() {
        let a = parse_vary_args(&["-ot 'blk=CPU x'".into()])
            .unwrap()
            .unwrap();
        assert_eq!(a.args(0), ["-ot", "blk=CPU x"]);
        assert_eq!(a.label(0), "-ot 'blk=CPU x'");
        assert_eq!(shell_words(&["it's".into(), "".into()]), "'it'\\''s' ''");
    }
}
