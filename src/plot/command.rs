//! The plots' entry points over run records (shared by `tokbench plot` and
//! `tokbench report`): which run a timeline shows, and each kind as SVG text, and
//! the plot file written as SVG or PNG by its extension.

use std::path::Path;

use anyhow::{Context, Result};

use super::png::ImageFormat;
use super::{builds, sequence, timeline};
use crate::exit::UsageError;
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

/// The timeline of a `serve -o` file's block (`--seq` is the block's index).
pub fn serve_timeline_svg(file: &Path, block: Option<u32>) -> Result<String> {
    let f = crate::serve::stored::read(file)?;
    let t = crate::serve::stored::block_timeline(&f, block)?;
    let side = t
        .side
        .as_deref()
        .map_or(String::new(), |s| format!(" ({})", s.to_uppercase()));
    let title = format!(
        "serve block {}{side}: the server's GPU busy, power, memory",
        t.block
    );
    Ok(timeline::render(
        &timeline::TimelineData::from_samples(&t.samples, 0.0),
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

pub fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write '{}'", path.display()))
}

/// The format `path`'s extension names, checked before any work is done.
pub fn image_format(path: &Path) -> Result<ImageFormat> {
    Ok(ImageFormat::from_path(path).map_err(UsageError)?)
}

/// Writes a plot as SVG or PNG, as the extension of `path` says.
pub fn write_plot(path: &Path, svg: &str) -> Result<()> {
    let bytes = super::png::encode(svg, image_format(path)?)?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write '{}'", path.display()))
}
