//! `--profile` on `run` and `compare`: once the measured runs are done,
//! each cell's command runs once more under the profiler (never counted),
//! its files stay in the profile directory, and the kernel summary (per
//! side, and the per-kernel diff of two) is printed and stored: a
//! `"kind": "profile"` line in `-o`, and `<side>-summary.json` beside the
//! traces. Nothing here changes the exit code: a profiler that is missing,
//! refused or failing is a warning.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::kernels::{render_diff, render_summary};
use crate::cli::{Format, ProfileArgs};
use crate::engine::{Cell, Stop};
use crate::plan::Plan;
use crate::profile::wrap::{profile, Profiled, Request};
use crate::store::jsonl::JsonlWriter;

/// Kernels shown per summary.
const TOP: usize = 15;

/// How much longer than one measured run the profiled run may take (ncu
/// replays every kernel it profiles).
const TIMEOUT_FACTOR: u32 = 4;

/// Profiles every cell of `plan` when `--profile` was given and the session
/// completed; returns what was recorded (empty when nothing was asked).
pub fn after_session(args: &ProfileArgs, plan: &Plan, stop: Stop) -> Result<Vec<Profiled>> {
    let Some(tool) = args.profile else {
        return Ok(Vec::new());
    };
    if stop != Stop::Completed {
        crate::say!("note: --profile skipped: the measured session did not complete");
        return Ok(Vec::new());
    }
    let dir = args.profile_dir.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "tokbench-profile-{}",
            crate::engine::record::log_stem()
        ))
    });
    let mut done = Vec::new();
    for cell in &plan.cells {
        crate::engine::sink::progress(&format!(
            "tokbench: profiled run{} under {} (not counted) ...\n",
            cell.side
                .map_or(String::new(), |s| format!(" of {}", s.to_uppercase())),
            tool.program()
        ));
        let p = profile_cell(cell, tool, &dir, args.profile_launch_count, plan);
        if let Some(e) = &p.error {
            crate::say!("warning: {e}; the measured runs are unaffected");
        }
        store(&p, &dir, plan.settings.output.as_ref())?;
        done.push(p);
    }
    show(&done, plan.format)?;
    Ok(done)
}

fn profile_cell(
    cell: &Cell,
    tool: crate::profile::wrap::Profiler,
    dir: &std::path::Path,
    launch_count: u32,
    plan: &Plan,
) -> Profiled {
    let cmd = cell.full_argv();
    let req = Request {
        tool,
        cmd: &cmd,
        dir,
        stem: cell.side.unwrap_or("run"),
        launch_count,
    };
    profile(&req, cell.side, plan.settings.timeout * TIMEOUT_FACTOR)
}

/// The summary beside the traces, and a line in the results file.
fn store(p: &Profiled, dir: &std::path::Path, output: Option<&PathBuf>) -> Result<()> {
    if let Some(path) = output {
        let value = serde_json::to_value(p)?;
        JsonlWriter::open(path)?.append_value(&value)?;
    }
    if p.summary.is_some() {
        let path = dir.join(format!(
            "{}-summary.json",
            p.side.as_deref().unwrap_or("run")
        ));
        let text = serde_json::to_string_pretty(p)? + "\n";
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write the profile summary '{}'", path.display()))?;
    }
    Ok(())
}

/// The summaries after the report: on stdout for a table or markdown, on
/// stderr where stdout is JSON or CSV (it must stay parseable).
fn show(done: &[Profiled], format: Format) -> Result<()> {
    let summaries: Vec<_> = done.iter().filter_map(|p| p.summary.as_ref()).collect();
    let text = match (done.len(), summaries.as_slice()) {
        (2, [a, b]) => render_diff(a, b, TOP),
        (_, list) => list.iter().map(|s| render_summary(s, TOP)).collect(),
    };
    if text.is_empty() {
        return Ok(());
    }
    let text = format!("\nprofiled run (not counted):\n{text}");
    match format {
        Format::Table | Format::Markdown => super::print_out(&text),
        Format::Json | Format::Csv => {
            crate::engine::sink::progress(&text);
            Ok(())
        }
    }
}
