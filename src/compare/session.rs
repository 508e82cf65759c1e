//! A live comparison: plan both sides, run a warmup of each, then pairs in
//! ABBA order (fixed `--pairs`, or `--auto` until decided or out of budget),
//! writing every run to `-o` with its side as it ends.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::cooldown::{self, Cooldown};
use super::order::{pair_order, Side, WARMUP_ORDER};
use super::report::CONFIDENCE;
use super::stats::{auto_should_stop, AutoDecision, AutoRule, Comparison, Direction};
use crate::app::UsageError;
use crate::cli::{CompareArgs, Gpu};
use crate::model::RunRecord;
use crate::plan::{check_model, plan_side, Plan, PlannedRun, SideSpec};
use crate::runner::{self, interrupt, RunContext, Stop};
use crate::store::jsonl::JsonlWriter;

pub struct Sides {
    pub a: Plan,
    pub b: Plan,
}

fn split_args(s: &Option<String>, flag: &str) -> Result<Vec<String>> {
    let Some(s) = s else { return Ok(Vec::new()) };
    shlex::split(s).ok_or_else(|| {
        UsageError(format!(
            "{flag} '{s}' has an unclosed quote or a trailing backslash"
        ))
        .into()
    })
}

/// Plans both sides; refuses a comparison of a build with itself.
pub fn plan_sides(args: &CompareArgs) -> Result<Sides> {
    let Some(bin_a) = &args.a else {
        return Err(UsageError(
            "compare needs --a PATH (and --b PATH or --b-args), or two results files".into(),
        )
        .into());
    };
    let Some(model_path) = &args.model else {
        return Err(UsageError("compare needs -m MODEL when it runs binaries".into()).into());
    };
    let bin_b = args.b.clone().unwrap_or_else(|| bin_a.clone());
    let (gpu_a, gpu_b) = (
        args.a_gpu.unwrap_or(args.gpu),
        args.b_gpu.unwrap_or(args.gpu),
    );
    if bin_b == *bin_a && args.a_args == args.b_args && gpu_a == gpu_b {
        return Err(UsageError(
            "A and B are the same binary with the same arguments: pass --b PATH, or --a-args/--b-args, or --a-gpu/--b-gpu".into(),
        )
        .into());
    }
    let model = check_model(model_path)?;
    let side = |bin, gpu, label: &Option<String>, own: Vec<String>| SideSpec {
        bin,
        gpu,
        label: label.clone(),
        extra: own.into_iter().chain(args.extra.iter().cloned()).collect(),
        reps: 1,
    };
    let spec_a = side(
        bin_a.clone(),
        gpu_a,
        &args.a_label,
        split_args(&args.a_args, "--a-args")?,
    );
    let spec_b = side(
        bin_b,
        gpu_b,
        &args.b_label,
        split_args(&args.b_args, "--b-args")?,
    );
    let mut a = plan_side(&spec_a, model_path, model.clone(), &args.opts)?;
    let mut b = plan_side(&spec_b, model_path, model, &args.opts)?;
    if a.probe.kind != b.probe.kind {
        bail!(
            "A is {:?} and B is {:?}: compare two binaries of the same kind",
            a.probe.kind,
            b.probe.kind
        );
    }
    if a.label == b.label {
        let (ta, tb) = side_tags(args, gpu_a, gpu_b);
        a.label = format!("{} {ta}", a.label);
        b.label = format!("{} {tb}", b.label);
    }
    Ok(Sides { a, b })
}

/// What tells two sides with the same build label apart: their offload,
/// else their own arguments, else just the side.
fn side_tags(args: &CompareArgs, gpu_a: Gpu, gpu_b: Gpu) -> (String, String) {
    let gpu = |g: Gpu| format!("{g:?}").to_lowercase();
    if gpu_a != gpu_b {
        return (
            format!("[--gpu {}]", gpu(gpu_a)),
            format!("[--gpu {}]", gpu(gpu_b)),
        );
    }
    match (&args.a_args, &args.b_args) {
        (a, b) if a != b => (
            format!("[{}]", a.as_deref().unwrap_or("")),
            format!("[{}]", b.as_deref().unwrap_or("")),
        ),
        _ => ("(A)".to_string(), "(B)".to_string()),
    }
}

/// How long and how far a session may go.
pub struct Budget {
    /// Fixed number of pairs, or None for `--auto`.
    pub pairs: Option<usize>,
    pub rule: AutoRule,
    pub max_time: Duration,
    pub cooldown: Option<Cooldown>,
    pub warmup: u32,
    pub primary: String,
    pub threshold: f64,
}

/// How an `--auto` session ended, and the comparison it decided on.
pub type AutoEnd = (String, Option<Comparison>);

/// What a session produced.
pub struct Outcome {
    pub records: Vec<RunRecord>,
    pub stop: Stop,
    /// For `--auto`: how it ended, and the comparison it decided on.
    pub auto: Option<AutoEnd>,
    /// Remarks for the report's warnings.
    pub notes: Vec<String>,
}

/// The pause between runs, resolved: `auto` carries the idle baseline.
enum Pause {
    Fixed(Duration),
    Auto(cooldown::Reading),
}

/// Takes the idle baseline for `--cooldown auto` (before any run). Without
/// a GPU figure to watch there is no pause, and a note says so.
fn resolve_pause(c: Option<Cooldown>, sides: &Sides, notes: &mut Vec<String>) -> Option<Pause> {
    match c? {
        Cooldown::Fixed(d) => Some(Pause::Fixed(d)),
        Cooldown::Auto => match cooldown::baseline(&sides.a.sampler) {
            Ok(idle) => Some(Pause::Auto(idle)),
            Err(why) => {
                notes.push(why);
                None
            }
        },
    }
}

struct Runner<'a> {
    sides: &'a Sides,
    ctx: [RunContext; 2],
    writer: Option<JsonlWriter>,
    records: Vec<RunRecord>,
    seq: u32,
    progress: Progress,
    cooldown: Option<Pause>,
    /// Remarks for the report (e.g. a cooldown that timed out).
    notes: Vec<String>,
    /// The primary metric and its direction, once a run decided it.
    primary: Option<(String, Direction)>,
}

impl Runner<'_> {
    /// One run of one side. Some(stop) when the session must end.
    fn run(&mut self, side: Side, warmup: bool) -> Result<Option<Stop>> {
        if let Some(sig) = interrupt::received() {
            return Ok(Some(Stop::Interrupted(sig)));
        }
        if !self.records.is_empty() {
            self.pause();
        }
        let (plan, ctx, name) = match side {
            Side::A => (&self.sides.a, &self.ctx[0], "a"),
            Side::B => (&self.sides.b, &self.ctx[1], "b"),
        };
        let run = PlannedRun {
            seq: self.seq,
            warmup,
        };
        self.seq += 1;
        self.progress.start(name, warmup);
        let (record, stop) = runner::step(plan, ctx, &run, Some(name), &mut self.writer)?;
        self.progress.done(&record);
        self.records.push(record);
        Ok(stop)
    }

    fn pause(&mut self) {
        match &self.cooldown {
            None => {}
            Some(Pause::Fixed(d)) => std::thread::sleep(*d),
            Some(Pause::Auto(idle)) => {
                let (waited, reached) = cooldown::wait_for(&self.sides.a.sampler, idle);
                if !reached {
                    self.notes.push(format!(
                        "--cooldown auto: the GPU was not back near idle after {} (went on)",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ));
                }
            }
        }
    }

    /// Primary-metric values of the complete pairs so far.
    fn paired_values(&self, metric: &str) -> (Vec<f64>, Vec<f64>) {
        super::report::paired_series(&self.records, metric)
    }

    /// The primary metric as the first successful run decides it
    /// (`eval_tps` of a llama-bench session is its generation test), checked
    /// against the keys it printed: a name it lacks is a usage error. Until
    /// a run succeeds, the name asked for.
    fn primary(&mut self, asked: &str) -> Result<(String, Direction)> {
        if let Some(p) = &self.primary {
            return Ok(p.clone());
        }
        let fallback = crate::metrics::direction(asked).unwrap_or(Direction::HigherIsBetter);
        if !self.records.iter().any(|r| r.status == "ok") {
            return Ok((asked.to_string(), fallback));
        }
        let name =
            crate::metrics::resolve(asked, &self.records).map_err(|e| UsageError(e.to_string()))?;
        let dir = crate::metrics::direction(&name).unwrap_or(fallback);
        self.primary = Some((name.clone(), dir));
        Ok((name, dir))
    }
}

/// Runs the session. Every finished run is on disk before the next starts.
pub fn run(sides: &Sides, budget: &Budget) -> Result<Outcome> {
    let writer = sides
        .a
        .output
        .as_deref()
        .map(JsonlWriter::open)
        .transpose()?;
    if let Some(dir) = &sides.a.keep_logs {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --keep-logs directory '{}'", dir.display()))?;
    }
    let stem = runner::log_stem();
    let ctx = [
        RunContext::for_plan(&sides.a, format!("{stem}-a"))?,
        RunContext::for_plan(&sides.b, format!("{stem}-b"))?,
    ];
    let total = budget.pairs.unwrap_or(budget.rule.max_pairs) * 2 + budget.warmup as usize * 2;
    let mut notes = Vec::new();
    let cooldown = resolve_pause(budget.cooldown, sides, &mut notes);
    let mut r = Runner {
        sides,
        ctx,
        writer,
        records: Vec::new(),
        seq: 0,
        progress: Progress::new(total as u64, budget.pairs.is_none()),
        cooldown,
        notes,
        primary: None,
    };
    let (stop, auto) = drive(&mut r, budget)?;
    r.progress.finish();
    Ok(Outcome {
        records: r.records,
        stop,
        auto,
        notes: r.notes,
    })
}

fn drive(r: &mut Runner<'_>, budget: &Budget) -> Result<(Stop, Option<AutoEnd>)> {
    for _ in 0..budget.warmup {
        for side in WARMUP_ORDER {
            if let Some(stop) = r.run(side, true)? {
                return Ok((stop, None));
            }
        }
    }
    let started = Instant::now();
    // Checked after the warmups, before any counted run (after the first
    // pair when there are no warmups or they all failed).
    r.primary(&budget.primary)?;
    for k in 0.. {
        if budget.pairs.is_some_and(|n| k >= n) {
            return Ok((Stop::Completed, None));
        }
        let (name, dir) = r.primary(&budget.primary)?;
        if budget.pairs.is_none() && started.elapsed() >= budget.max_time {
            let (a, b) = r.paired_values(&name);
            let last = super::stats::auto_final(&a, &b, dir, budget.threshold, &budget.rule);
            let why = format!(
                "--max-time {} spent after {k} pairs",
                humantime::format_duration(budget.max_time)
            );
            return Ok((Stop::Completed, Some((why, last))));
        }
        for side in pair_order(k) {
            if let Some(stop) = r.run(side, false)? {
                return Ok((stop, None));
            }
        }
        let (name, dir) = r.primary(&budget.primary)?;
        if budget.pairs.is_none() {
            let (a, b) = r.paired_values(&name);
            match auto_should_stop(&a, &b, dir, budget.threshold, &budget.rule) {
                AutoDecision::Continue => {}
                AutoDecision::Decided(c) => {
                    let why = format!(
                        "decided after {} pairs (each look at {:.2}% confidence, {:.0}% overall)",
                        a.len(),
                        budget.rule.per_look_confidence() * 100.0,
                        CONFIDENCE * 100.0
                    );
                    return Ok((Stop::Completed, Some((why, Some(c)))));
                }
                AutoDecision::BudgetSpent(c) => {
                    let why = format!(
                        "--max-pairs {} spent without a decision",
                        budget.rule.max_pairs
                    );
                    return Ok((Stop::Completed, Some((why, c))));
                }
            }
        }
    }
    Ok((Stop::Completed, None))
}

/// Progress on stderr: a bar with ETA on a terminal, a line per run otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: u64, open_ended: bool) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::new(total);
        let tmpl = if open_ended {
            "{elapsed_precise} [{bar:30}] {pos} runs (--auto, at most {len}) {msg}"
        } else {
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta} {msg}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(tmpl) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar: Some(bar) }
    }
    fn start(&self, side: &str, warmup: bool) {
        let what = if warmup { "warmup" } else { "run" };
        match &self.bar {
            Some(b) => b.set_message(format!("{} {what}", side.to_uppercase())),
            None => crate::app::progress(&format!("tokbench: {} {what} ... ", side.to_uppercase())),
        }
    }
    fn done(&self, record: &RunRecord) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(runner::progress_text(record));
            }
            None => crate::app::progress(&format!("{}\n", runner::progress_text(record))),
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
