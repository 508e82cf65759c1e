//! From `tokbench sweep`'s options to what the engine needs: the cells, the
//! race settings and, after each run, the race's view of it; at the end the
//! result with its recommendation. Glue, kept apart so the command's wiring
//! onto the session engine is short.

use std::path::PathBuf;
use std::time::Duration;

use super::cells::{product, Cell};
use super::infeasible::{classify, no_metric};
use super::race::{Measurement, Outcome, Race, RaceConfig};
use super::recommend::{command_lines, Tool};
use super::result::{summarize, Prefer, SweepResult};
use super::vary::{parse_vary, parse_vary_args, Dimension};
use crate::exit::UsageError;
use crate::model::RunRecord;

/// What `tokbench sweep` was asked, as plain values (`cmd::sweep` fills it
/// from the command line), so the sweep does not depend on the cli.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepOptions {
    pub bin: PathBuf,
    pub model: PathBuf,
    /// `--vary` texts, e.g. `-t 1,2,4`.
    pub vary: Vec<String>,
    /// `--vary-args` texts: one more dimension of whole argument sets.
    pub vary_args: Vec<String>,
    pub metric: String,
    /// The noise band in percent.
    pub threshold: f64,
    pub max_time: Duration,
    pub max_rounds: u32,
    pub min_rounds: u32,
    pub prefer: Prefer,
    pub order_seed: Option<u64>,
    /// The arguments after `--`.
    pub extra: Vec<String>,
}

/// A validated sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    pub bin: PathBuf,
    pub model: PathBuf,
    pub dimensions: Vec<Dimension>,
    pub cells: Vec<Cell>,
    /// The arguments every cell shares (after `--`).
    pub fixed: Vec<String>,
    pub metric: String,
    pub race: RaceConfig,
    pub prefer: Prefer,
}

impl SweepSpec {
    /// Checks the options; every mistake is a usage error (exit 2).
    pub fn from_args(a: &SweepOptions, seed: u64) -> Result<SweepSpec, UsageError> {
        let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
        let mut dims: Vec<Dimension> = a
            .vary
            .iter()
            .map(|t| parse_vary(t))
            .collect::<Result<_, _>>()
            .map_err(|e| usage(&e))?;
        dims.extend(parse_vary_args(&a.vary_args).map_err(|e| usage(&e))?);
        let cells = product(&dims, &a.extra).map_err(|e| usage(&e))?;
        if a.min_rounds > a.max_rounds {
            return Err(UsageError(format!(
                "--min-rounds '{}' is above --max-rounds '{}'",
                a.min_rounds, a.max_rounds
            )));
        }
        let direction = crate::metrics::direction(&a.metric).ok_or_else(|| {
            let e = crate::metrics::check_planned(&a.metric, true).err();
            UsageError(e.map_or_else(
                || format!("unknown metric '{}'", a.metric),
                |e| e.to_string(),
            ))
        })?;
        let race = RaceConfig {
            direction,
            threshold: a.threshold / 100.0,
            alpha: 0.05,
            min_rounds: a.min_rounds as usize,
            max_rounds: a.max_rounds as usize,
            max_time: Some(a.max_time),
            seed: a.order_seed.unwrap_or(seed),
            eliminate: true,
        };
        Ok(SweepSpec {
            bin: a.bin.clone(),
            model: a.model.clone(),
            dimensions: dims,
            cells,
            fixed: a.extra.clone(),
            metric: a.metric.clone(),
            race,
            prefer: a.prefer,
        })
    }

    /// A cell's arguments followed by the fixed ones.
    pub fn cell_args(&self, cell: usize) -> Vec<String> {
        let mut v = self.cells[cell].args.clone();
        v.extend(self.fixed.iter().cloned());
        v
    }

    pub fn new_race(&self) -> Race {
        Race::new(self.cells.len(), self.race)
    }

    /// The result with its recommendation, once the race is over (or
    /// interrupted).
    pub fn finish(&self, race: &Race, tool: Tool) -> SweepResult {
        let mut r = summarize(race, &self.cells, &self.dimensions, &self.metric);
        let pick = r
            .recommend_cell(self.prefer)
            .map(|(row, why)| (row.cell.clone(), why));
        r.recommendation = pick.and_then(|(name, why)| {
            let i = self.cells.iter().position(|c| c.name == name)?;
            Some(command_lines(
                tool,
                &self.bin,
                &self.model,
                &name,
                &why,
                &self.cell_args(i),
            ))
        });
        r
    }
}

/// What a finished run means to the race: its metric and costs, or the
/// cause that makes its cell infeasible.
pub fn outcome(r: &RunRecord, metric: &str) -> Outcome {
    if r.status != "ok" {
        let text = r.error.clone().unwrap_or_default();
        return Outcome::Infeasible(classify(&r.exit, &text));
    }
    let Some(value) = crate::metrics::value(r, metric) else {
        return Outcome::Infeasible(no_metric(metric));
    };
    let sampled = r.sampled.as_ref();
    Outcome::Measured(Measurement {
        value,
        peak_rss_bytes: sampled.and_then(|s| s.peak_rss_bytes),
        gpu_mem_bytes: sampled.and_then(|s| s.gpu_mem_bytes_peak),
        j_per_token: sampled.and_then(|s| s.combined_j_per_token.or(s.gpu_j_per_token)),
    })
}

/// `--dry-run`: one line per cell, its name and its command line.
pub fn dry_run_text(spec: &SweepSpec, command_of: impl Fn(usize) -> String) -> String {
    let mut out = format!(
        "{} cells; each round runs every surviving cell once, in a random order (seed {})\n",
        spec.cells.len(),
        spec.race.seed
    );
    for (i, c) in spec.cells.iter().enumerate() {
        out.push_str(&format!(
            "{:>4}  {}\n      {}\n",
            i + 1,
            c.name,
            command_of(i)
        ));
    }
    out
}

/// The elapsed time and the budget left, for the progress line.
pub fn progress_text(race: &Race, cells: usize, elapsed: Duration) -> String {
    let left = race
        .config()
        .max_time
        .map(|m| m.saturating_sub(elapsed))
        .map_or(String::new(), |l| {
            format!(
                ", {} left",
                humantime::format_duration(Duration::from_secs(l.as_secs()))
            )
        });
    format!(
        "round {}/{}: {} of {cells} cells in the race{left}",
        race.rounds_done() + 1,
        race.config().max_rounds,
        race.survivors().len()
    )
}
