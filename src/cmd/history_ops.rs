//! The history of `tokbench ops` rounds: `tokbench history --ops` (one line
//! per build and op case) and `tokbench export --format
//! test-backend-ops-sqlite`. The SQL lives in `store::ops_history`.

use anyhow::Result;

use crate::cli::{ExportArgs, Format, HistoryArgs};
use crate::exit::Outcome;
use crate::ops::render::{rate_text, time_text};
use crate::store::history::History;
use crate::store::ops_history::{ops_lines, OpsFilter, OpsLine, StoredOp};
use crate::store::query::Filter;

fn table(lines: &[OpsLine], format: Format) -> String {
    let mut g = crate::grid::Grid::plain(&[
        "build",
        "label",
        "commit",
        "backend",
        "op",
        "params",
        "rounds",
        "time/run",
        "rate",
        "last round",
    ]);
    for l in lines {
        let rate = crate::ops::compare::SideFigures {
            rounds: l.rounds,
            time_us: l.median_time_us,
            tflops: l.median_tflops,
            gb_s: l.median_gb_s,
            peak_pct: None,
        };
        g.row([
            l.build_id.to_string(),
            l.label.clone(),
            l.commit.clone().unwrap_or_else(|| "-".into()),
            l.backend.clone(),
            l.op.clone(),
            l.params.clone(),
            l.rounds.to_string(),
            time_text(l.median_time_us),
            rate_text(&rate),
            l.last_round.clone(),
        ]);
    }
    crate::report::grid_text(&g, format)
}

/// `tokbench history --ops`.
/// `build` is what `--build` resolved to, with `--since` parsed into it.
pub fn list(args: &HistoryArgs, h: &History, build: Filter) -> Result<Outcome> {
    let filter = OpsFilter {
        builds: build.builds,
        label: args.label.clone().or(build.label),
        since: build.since,
    };
    let lines = ops_lines(&h.stored_ops(&filter)?);
    let format = args.out.format();
    match format {
        Format::Json => print!("{}", serde_json::to_string_pretty(&lines)? + "\n"),
        f => print!("{}", table(&lines, f)),
    }
    if lines.is_empty() && format != Format::Json {
        crate::say!(
            "tokbench: no 'tokbench ops' rounds in '{}' match",
            h.path().display()
        );
    }
    Ok(Outcome::Ok)
}

/// `tokbench export --format test-backend-ops-sqlite FILE`: every stored
/// case of the builds named (all when none), one row per case per round.
pub fn export(args: &ExportArgs, h: &History, filters: &[Filter]) -> Result<Outcome> {
    let stored: Vec<StoredOp> = h
        .stored_ops(&OpsFilter::default())?
        .into_iter()
        .filter(|s| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    f.builds.as_ref().is_none_or(|b| b.contains(&s.build_id))
                        && f.label.as_ref().is_none_or(|l| *l == s.label)
                })
        })
        .collect();
    if stored.is_empty() {
        anyhow::bail!(
            "nothing to export from '{}': no stored 'tokbench ops' rounds match (see 'tokbench history --ops')",
            h.path().display()
        );
    }
    let rows: Vec<(String, crate::model::OpResult)> = stored
        .iter()
        .map(|s| {
            let commit = crate::store::export::export_commit(s.commit.as_deref(), &s.build_key);
            (commit, s.result.clone())
        })
        .collect();
    crate::ops::export::write_sqlite(&args.file, &rows)?;
    let mut names: Vec<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
    names.sort();
    names.dedup();
    crate::say!(
        "tokbench: wrote {} row(s) into '{}' (table test_backend_ops); build_commit values: {}",
        rows.len(),
        args.file.display(),
        names.join(", ")
    );
    Ok(Outcome::Ok)
}
