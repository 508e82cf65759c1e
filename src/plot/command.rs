//! `tokbench plot`: results files in, one SVG out. The loading and picking
//! here is shared with `tokbench report`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{builds, sequence, timeline};
use crate::app::{Outcome, UsageError};
use crate::cli::{PlotArgs, PlotKind};
use crate::compare::stored::{comparison, load};
use crate::model::RunRecord;

/// The run `--seq` names, or the first counted run with a timeline.
pub fn pick_timeline(records: &[RunRecord], seq: Option<u32>) -> Result<&RunRecord> {
    let Some(n) = seq else {
        return crate::summary::counted(records)
            .find(|r| !r.timeline.is_empty())
            .context("no counted run has a timeline: run with --sampler (e.g. --sampler nvidia-smi) to record one");
    };
    let r = records
        .iter()
        .find(|r| r.seq == n)
        .ok_or_else(|| UsageError(format!("no run has seq '{n}'")))?;
    if r.timeline.is_empty() {
        anyhow::bail!("run seq '{n}' has no timeline: it was made without a sampler");
    }
    Ok(r)
}

/// `A = label, B = label` or the one label.
pub fn sides_title(records: &[RunRecord]) -> String {
    let label = |s: Option<&str>| {
        records
            .iter()
            .find(|r| r.side.as_deref() == s)
            .map(|r| r.label.clone())
    };
    match (label(Some("a")), label(Some("b"))) {
        (Some(a), Some(b)) => format!("{a} vs {b}"),
        _ => records.first().map(|r| r.label.clone()).unwrap_or_default(),
    }
}

/// `--metric` as the records decide it (`eval_tps` of llama-bench runs is
/// their generation test); a name they do not hold is a usage error.
fn plotted(records: &[RunRecord], asked: &str) -> Result<String> {
    Ok(crate::metrics::resolve(asked, records).map_err(|e| UsageError(e.to_string()))?)
}

pub fn sequence_svg(records: &[RunRecord], metric: &str) -> Result<String> {
    let metric = &plotted(records, metric)?;
    let title = format!("{metric} per run: {}", sides_title(records));
    Ok(sequence::render(
        &sequence::points(records, metric),
        metric,
        &title,
    )?)
}

pub fn timeline_svg(r: &RunRecord) -> Result<String> {
    let title = format!("run seq {} ({}): GPU busy, power, memory", r.seq, r.label);
    Ok(timeline::render(
        &timeline::TimelineData::from_record(r),
        &title,
    )?)
}

pub fn builds_svg(records: &[RunRecord], metric: &str) -> Result<String> {
    let metric = &plotted(records, metric)?;
    let title = format!("{metric} across builds");
    Ok(builds::render(
        &builds::from_records(records, metric),
        metric,
        &title,
    )?)
}

/// The sweep plot of a file written by `sweep --format json`.
pub fn sweep_svg(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    let r: crate::sweep::result::SweepResult = serde_json::from_str(&text).map_err(|e| {
        UsageError(format!(
            "'{}' is not a sweep result ({e}): plot sweep reads the output of 'tokbench sweep --format json'",
            path.display()
        ))
    })?;
    let title = format!("sweep: {} of {} cells", r.metric, r.rows.len());
    Ok(super::sweep::render(&r, &title)?)
}

fn sequence_records(loaded: Vec<(PathBuf, Vec<RunRecord>)>) -> Result<Vec<RunRecord>> {
    if let Some((records, _)) = comparison(&loaded) {
        return Ok(records);
    }
    match loaded.as_slice() {
        [(_, one)] => Ok(one.clone()),
        _ => Err(UsageError(
            "plot sequence takes one results file (from 'compare -o' or 'run -o') or two run files (A and B)".into(),
        )
        .into()),
    }
}

pub fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write '{}'", path.display()))
}

pub fn run(args: &PlotArgs, db: &crate::history_cmd::DbChoice) -> Result<Outcome> {
    if args.from_history {
        if args.kind != PlotKind::Builds {
            return Err(UsageError("--from-history draws the 'builds' plot only".into()).into());
        }
        let h = db.open()?;
        let records = crate::history_cmd::stored_records(&h, &Default::default())?;
        write(&args.output, &builds_svg(&records, &args.metric)?)?;
        crate::say!("tokbench: wrote '{}'", args.output.display());
        return Ok(Outcome::Ok);
    }
    let loaded = || load(&args.files);
    let svg = match args.kind {
        PlotKind::Sequence => sequence_svg(&sequence_records(loaded()?)?, &args.metric)?,
        PlotKind::Timeline => {
            let loaded = loaded()?;
            let [(_, records)] = loaded.as_slice() else {
                return Err(UsageError("plot timeline takes one results file".into()).into());
            };
            timeline_svg(pick_timeline(records, args.seq)?)?
        }
        PlotKind::Builds => {
            let all: Vec<RunRecord> = loaded()?.into_iter().flat_map(|(_, rs)| rs).collect();
            builds_svg(&all, &args.metric)?
        }
        PlotKind::Sweep => {
            let [file] = args.files.as_slice() else {
                return Err(UsageError(
                    "plot sweep takes one file: the output of 'sweep --format json'".into(),
                )
                .into());
            };
            sweep_svg(file)?
        }
    };
    write(&args.output, &svg)?;
    crate::say!("tokbench: wrote '{}'", args.output.display());
    Ok(Outcome::Ok)
}
