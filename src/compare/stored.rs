//! Results files read back for a comparison: one file written by
//! `compare -o` (both sides, interleaved), one file of two labels (split by
//! label), or two files of one label each taken as A and B.
//! Shared by `compare FILES`, `plot` and `report`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::report::Pairing;
use crate::model::RunRecord;
use crate::store::jsonl;

/// Every file's records, in the order given; an empty file is an error.
pub fn load(files: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<RunRecord>)>> {
    let mut out = Vec::new();
    for f in files {
        let records = jsonl::read(f)?;
        if records.is_empty() {
            anyhow::bail!("results file '{}' holds no runs", f.display());
        }
        out.push((f.clone(), records));
    }
    Ok(out)
}

fn has_both_sides(records: &[RunRecord]) -> bool {
    let has = |s: &str| records.iter().any(|r| r.side.as_deref() == Some(s));
    has("a") && has("b")
}

/// The labels of a file's runs, in the order they first appear.
pub fn labels(records: &[RunRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        if !out.contains(&r.label) {
            out.push(r.label.clone());
        }
    }
    out
}

fn as_side(records: &[RunRecord], side: &str) -> Vec<RunRecord> {
    records
        .iter()
        .cloned()
        .map(|mut r| {
            r.side = Some(side.to_string());
            r
        })
        .collect()
}

/// A file given as one side must hold the runs of one label: one holding
/// several (both sides of an earlier compare, or several builds) is never
/// merged into a side.
fn one_side(path: &Path, records: &[RunRecord]) -> Result<()> {
    let l = labels(records);
    if l.len() > 1 || has_both_sides(records) {
        anyhow::bail!(
            "results file '{}' holds the runs of {} labels ({}): it cannot be one side of a comparison; \
             pass it alone (tokbench compare '{}') or write each side to its own file",
            path.display(),
            l.len(),
            l.join(", "),
            path.display()
        );
    }
    Ok(())
}

/// The records of a comparison, as `tokbench compare FILES` reads them: one
/// file holding both sides (interleaved), one file holding exactly two
/// labels (split by label, separate sessions), or two files of one label
/// each taken as A and B. `split`: a single file of two labels is split
/// (`compare FILE`); without it such a file is runs (`report`, `plot`).
/// `Ok(None)`: the files make no comparison.
pub fn comparison(
    loaded: &[(PathBuf, Vec<RunRecord>)],
    split: bool,
) -> Result<Option<(Vec<RunRecord>, Pairing)>> {
    match loaded {
        [(_, one)] if has_both_sides(one) => Ok(Some((one.clone(), Pairing::Interleaved))),
        [(_, one)] if split => match labels(one).as_slice() {
            [la, lb] => {
                let of = |l: &String| {
                    one.iter()
                        .filter(|r| &r.label == l)
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let mut records = as_side(&of(la), "a");
                records.extend(as_side(&of(lb), "b"));
                Ok(Some((records, Pairing::Separate)))
            }
            _ => Ok(None),
        },
        [(pa, a), (pb, b)] => {
            one_side(pa, a)?;
            one_side(pb, b)?;
            let mut records = as_side(a, "a");
            records.extend(as_side(b, "b"));
            Ok(Some((records, Pairing::Separate)))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(label: &str, side: Option<&str>) -> RunRecord {
        let mut r = crate::model::test_support::blank_record();
        r.label = label.into();
        r.side = side.map(str::to_string);
        r.status = "ok".into();
        r
    }

    #[test]
    fn a_file_with_both_sides_is_not_taken_as_side_a() {
        let both = vec![run("fa-off", Some("a")), run("fa-on", Some("b"))];
        let other = vec![run("n1024", None)];
        let loaded = vec![
            (PathBuf::from("cmp.jsonl"), both),
            (PathBuf::from("b.jsonl"), other),
        ];
        let e = comparison(&loaded, false).unwrap_err().to_string();
        assert!(
            e.contains("'cmp.jsonl' holds the runs of 2 labels (fa-off, fa-on)"),
            "{e}"
        );
    }

    #[test]
    fn a_file_of_two_labels_is_split_by_label() {
        let one = vec![run("x", None), run("y", None), run("x", None)];
        let (records, pairing) = comparison(&[(PathBuf::from("f"), one)], true)
            .unwrap()
            .unwrap();
        assert_eq!(pairing, Pairing::Separate);
        let sides: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.label.as_str(), r.side.as_deref().unwrap()))
            .collect();
        assert_eq!(sides, [("x", "a"), ("x", "a"), ("y", "b")]);
    }

    #[test]
    fn a_file_of_one_label_is_no_comparison() {
        let one = vec![run("x", None)];
        assert!(comparison(&[(PathBuf::from("f"), one)], true)
            .unwrap()
            .is_none());
        let two = vec![run("x", None), run("y", None)];
        assert!(comparison(&[(PathBuf::from("f"), two)], false)
            .unwrap()
            .is_none());
    }
}
