//! Results files read back for a comparison: one file written by
//! `compare -o` (both sides, interleaved), or two files taken as A and B.
//! Shared by `compare FILES`, `plot` and `report`.

use std::path::PathBuf;

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

/// The records of a comparison, as `tokbench compare FILES` reads them: one
/// file holding both sides (interleaved), or two files taken as A and B.
pub fn comparison(loaded: &[(PathBuf, Vec<RunRecord>)]) -> Option<(Vec<RunRecord>, Pairing)> {
    match loaded {
        [(_, one)] if has_both_sides(one) => Some((one.clone(), Pairing::Interleaved)),
        [(_, a), (_, b)] => {
            let mut records = Vec::new();
            for (rs, side) in [(a, "a"), (b, "b")] {
                records.extend(rs.iter().cloned().map(|mut r| {
                    r.side = Some(side.to_string());
                    r
                }));
            }
            Some((records, Pairing::Separate))
        }
        _ => None,
    }
}
