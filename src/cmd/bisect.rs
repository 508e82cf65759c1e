//! `tokbench bisect` glue: the range checked ([`crate::bisect::validate`]),
//! the endpoints built and compared adaptively (the `compare --auto`
//! session, [`super::compare::execute`]), then git's bisection with a
//! measuring oracle: each commit built and run in rounds against the
//! cached good and bad builds on the session engine
//! ([`crate::bisect::schedule`], [`crate::bisect::measure`]), the first bad
//! commit checked against its parent, the report, and the journal that
//! lets a second identical bisect reuse what the first measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::compare::execute;
use super::revs::{label, ToolBuild};
use super::{print_out, Sinks};
use crate::bisect::journal::{self, Checked, Journal, Saved};
use crate::bisect::report::{self, BisectReport, FirstBad};
use crate::bisect::schedule::rounds3;
use crate::bisect::{
    self, measure, Class, CommitInfo, Config, Judgement, Oracle, Outcome as Search, Range, Step,
    Verdict,
};
use crate::cli::{BisectArgs, BuildOpts, CompareArgs, CompareRevArgs, Format};
use crate::compare::report::Judge;
use crate::compare::stats::{AutoRule, Verdict as Change};
use crate::engine::schedule::{Look, Rule};
use crate::engine::{self, Cell, Stop};
use crate::exit::{Outcome, UsageError};
use crate::plan::{plan_cell, plan_compare, Plan, SideSpec};
use crate::runner::executor::ProcessExecutor;
use crate::runner::interrupt;
use crate::store::db::DbChoice;

/// Exit status when the endpoints do not differ as sought.
pub const NOTHING_TO_BISECT: u8 = 4;

pub fn run(args: &BisectArgs, db: &DbChoice) -> Result<Outcome> {
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    crate::metrics::check_planned(&args.metric, args.tool == "llama-bench")
        .map_err(|e| UsageError(e.to_string()))?;
    let cache = super::revs::cache_root()?;
    let cfg = Config {
        src: args.src.clone(),
        good: args.good.clone(),
        bad: args.bad.clone(),
        paths: args.paths.clone(),
        work_dir: cache.join("bisect").join("wt"),
    };
    let range = bisect::validate(&cfg)?;
    let tb = ToolBuild {
        src: args.src.clone(),
        tool: args.tool.clone(),
        opts: args.compile.build.clone(),
        jobs: args.compile.jobs,
        cache: cache.clone(),
    };
    if args.opts.dry_run {
        return dry_run(&range, &tb, &args.paths);
    }
    let key = journal_key(args, &range);
    let mut s = Session {
        args,
        db,
        tb,
        started: Instant::now(),
        journal_path: journal::path(&cache, &key),
        journal: Journal::default(),
    };
    s.journal = Journal::load(&s.journal_path, &key);
    if !s.journal.is_empty() {
        crate::say!(
            "tokbench: reusing what an earlier run of this bisect measured ({})",
            s.journal_path.display()
        );
    }
    match s.bisect(&cfg, &range) {
        Err(e) if e.is::<Interrupted>() => Ok(interrupted(
            e.downcast_ref::<Interrupted>().map_or(2, |i| i.0),
        )),
        r => r,
    }
}

/// A signal arrived while an endpoint was building.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted(i32);

/// What decides a bisect's measurements: a second run with the same key
/// reuses the first one's.
fn journal_key(args: &BisectArgs, range: &Range) -> String {
    let mut parts = vec![
        range.top.display().to_string(),
        range.good.hash.clone(),
        range.bad.hash.clone(),
        args.tool.clone(),
        args.metric.clone(),
        args.threshold.to_string(),
        args.improvement.to_string(),
        args.max_pairs.to_string(),
        format!("{:?} {:?}", args.compile.build.backend, args.gpu),
        args.model.display().to_string(),
        format!("{:?}", args.opts.n_predict),
        format!("{:?} {:?}", args.opts.prompt, args.opts.file),
    ];
    parts.extend(args.paths.iter().map(|p| format!("path {p}")));
    parts.extend(
        args.compile
            .build
            .cmake_args
            .iter()
            .map(|a| format!("cmake {a}")),
    );
    parts.extend(args.extra.iter().map(|a| format!("arg {a}")));
    journal::key(&parts)
}

/// `--dry-run`: the commits in the range and whether each build exists.
fn dry_run(range: &Range, tb: &ToolBuild, paths: &[String]) -> Result<Outcome> {
    let touching = match paths.is_empty() {
        true => String::new(),
        false => format!(" touching {}", paths.join(", ")),
    };
    let mut out = format!(
        "bisect --dry-run: {} commit(s) after good {} up to bad {}{touching}, newest first:\n",
        range.commits.len(),
        range.good.short(),
        range.bad.short()
    );
    let mut to_build = 0;
    let mut line = |what: &str, c: &CommitInfo| -> Result<()> {
        let cached = crate::build::cached(&tb.request(&c.hash))?;
        to_build += usize::from(cached.is_none());
        let state = cached.map_or("would build".to_string(), |d| {
            format!("built: {}", d.display())
        });
        out.push_str(&format!(
            "  {what:<6} {} {}  [{state}]\n",
            c.short(),
            c.subject
        ));
        Ok(())
    };
    line("good", &range.good)?;
    for c in &range.commits {
        line(if c.hash == range.bad.hash { "bad" } else { "" }, c)?;
    }
    let steps = (range.commits.len() as f64).log2().ceil().max(1.0);
    out.push_str(&format!(
        "builds: the two endpoints, then about {steps} of the {} commits (git's bisection); {to_build} of these are not built yet\n",
        range.commits.len()
    ));
    print_out(&out)?;
    Ok(Outcome::Ok)
}

/// A comparison session's end: checked, or interrupted by this signal.
enum Ran {
    Checked(Box<Checked>),
    Interrupted(i32),
}

struct Session<'a> {
    args: &'a BisectArgs,
    db: &'a DbChoice,
    tb: ToolBuild,
    started: Instant,
    journal_path: PathBuf,
    journal: Journal,
}

impl Session<'_> {
    fn deadline_left(&self) -> Duration {
        self.args.max_time.saturating_sub(self.started.elapsed())
    }

    fn save(&self) {
        if let Err(e) = self.journal.save(&self.journal_path) {
            crate::say!(
                "warning: cannot write '{}' ({e}): a second run will measure again",
                self.journal_path.display()
            );
        }
    }

    /// The change sought: slower, or faster with --improvement.
    fn sought(&self) -> Change {
        match self.args.improvement {
            true => Change::Faster,
            false => Change::Slower,
        }
    }

    fn endpoint(&self, c: &CommitInfo, which: &str) -> Result<(String, PathBuf)> {
        let built = self.tb.build(&c.hash);
        if let (Err(_), Some(sig)) = (&built, interrupt::received()) {
            return Err(Interrupted(sig).into());
        }
        let (b, path) = built.with_context(|| {
            format!(
                "the {which} endpoint '{}' ({}) does not build: nothing to compare",
                if which == "good" {
                    &self.args.good
                } else {
                    &self.args.bad
                },
                c.short()
            )
        })?;
        Ok((label(&b), path))
    }

    fn bisect(mut self, cfg: &Config, range: &Range) -> Result<Outcome> {
        let good = self.endpoint(&range.good, "good")?;
        let bad = self.endpoint(&range.bad, "bad")?;
        let plan = plan_compare(&self.compare_args(&good, &bad))?;
        let ends = match self.journal.endpoints.clone() {
            Some(c) => c,
            None => match self.check(&good, &bad)? {
                Ran::Checked(c) => {
                    self.journal.endpoints = Some((*c).clone());
                    self.save();
                    *c
                }
                Ran::Interrupted(sig) => return Ok(interrupted(sig)),
            },
        };
        let mut rep = self.report(range, Some(ends.clone()));
        if ends.comparison.verdict != self.sought() {
            return self.nothing_to_bisect(rep);
        }
        let bad_higher = ends.comparison.ratio > 1.0;
        let mut oracle = Measuring {
            s: &mut self,
            plan,
            bad_higher,
            metric: ends.metric.clone(),
            reused: 0,
            time_spent: false,
        };
        let found = bisect::bisect(cfg, range, &mut oracle, &mut |s| announce(s))?;
        rep.reused_steps = oracle.reused;
        if oracle.time_spent {
            rep.notes.push(format!(
                "--max-time {} was spent: the commits left were skipped unmeasured",
                humantime::format_duration(self.args.max_time)
            ));
        }
        self.finish(found, rep)
    }

    fn report(&self, range: &Range, endpoints: Option<Checked>) -> BisectReport {
        BisectReport {
            result: report::Result::Found,
            looking_for: if self.args.improvement {
                "improvement"
            } else {
                "slowdown"
            },
            metric: self.args.metric.clone(),
            threshold_pct: self.args.threshold,
            good: range.good.clone(),
            bad: range.bad.clone(),
            commits_in_range: range.commits.len(),
            paths: self.args.paths.clone(),
            endpoints,
            steps: Vec::new(),
            skipped: Vec::new(),
            remaining: Vec::new(),
            first_bad: None,
            reused_steps: 0,
            search_error_rate: None,
            total_seconds: 0.0,
            notes: Vec::new(),
        }
    }

    fn nothing_to_bisect(&self, mut rep: BisectReport) -> Result<Outcome> {
        rep.result = report::Result::NothingToBisect;
        self.print(&mut rep)?;
        let worse = if self.args.improvement {
            "better"
        } else {
            "worse"
        };
        crate::say!(
            "tokbench: nothing to bisect: bad is not significantly {worse} than good beyond {}% ({})",
            self.args.threshold,
            rep.endpoints.as_ref().map(report::checked_line).unwrap_or_default()
        );
        Ok(Outcome::Code(NOTHING_TO_BISECT))
    }

    fn print(&self, rep: &mut BisectReport) -> Result<()> {
        rep.total_seconds = self.started.elapsed().as_secs_f64();
        let text = match self.args.opts.out.format() {
            Format::Json => serde_json::to_string_pretty(rep)? + "\n",
            _ => report::render(rep),
        };
        print_out(&text)
    }
}

fn interrupted(sig: i32) -> Outcome {
    crate::say!("tokbench: interrupted; builds and measurements are kept: run the same bisect again to go on");
    Outcome::Interrupted(sig)
}

fn announce(s: &Step) {
    let how = match (&s.verdict, &s.skip_reason) {
        (_, Some(why)) => why.clone(),
        (Some(v), None) => {
            let ratio = v
                .ratio_to_good
                .map(|r| format!(", {:.3} [{:.3}, {:.3}] of good", r.estimate, r.lo, r.hi))
                .unwrap_or_default();
            let class = serde_json::to_value(v.class).unwrap_or_default();
            format!(
                "{} after {} pair(s){ratio}",
                class.as_str().unwrap_or("?"),
                v.pairs
            )
        }
        (None, None) => String::new(),
    };
    crate::say!(
        "tokbench: {} {}: {} ({how})",
        s.commit.short(),
        s.commit.subject,
        s.mark.git_word()
    );
}

impl Session<'_> {
    /// The `compare --auto` arguments of A (label, binary) against B.
    fn compare_args(&self, a: &(String, PathBuf), b: &(String, PathBuf)) -> CompareArgs {
        let args = self.args;
        CompareArgs {
            files: Vec::new(),
            a: Some(a.1.clone()),
            b: Some(b.1.clone()),
            model: Some(args.model.clone()),
            a_args: None,
            b_args: None,
            gpu: args.gpu,
            a_gpu: None,
            b_gpu: None,
            a_label: Some(a.0.clone()),
            b_label: Some(b.0.clone()),
            pairs: args.max_pairs,
            auto: true,
            max_pairs: args.max_pairs,
            max_time: self.deadline_left(),
            threshold: args.threshold,
            fail_if_slower: None,
            metric: args.metric.clone(),
            cooldown: None,
            from_history: Vec::new(),
            revs: CompareRevArgs {
                src: None,
                a_rev: None,
                b_rev: None,
                tool: args.tool.clone(),
                build: BuildOpts {
                    backend: args.compile.build.backend,
                    cmake_args: Vec::new(),
                },
                git_bisect_exit: false,
            },
            opts: args.opts.clone(),
            history: args.history.clone(),
            profile: crate::cli::ProfileArgs::default(),
            extra: args.extra.clone(),
        }
    }

    /// B against A, interleaved and adaptive, into the history.
    fn check(&self, a: &(String, PathBuf), b: &(String, PathBuf)) -> Result<Ran> {
        let t = Instant::now();
        let cargs = self.compare_args(a, b);
        crate::say!("tokbench: comparing {} (A) with {} (B)", a.0, b.0);
        let plan = plan_compare(&cargs)?;
        let judge = Judge {
            primary: cargs.metric.clone(),
            threshold: cargs.threshold / 100.0,
            fail_if_slower_pct: None,
            primary_override: None,
        };
        let mut sinks = Sinks::open(&plan, self.db, true)?;
        let (rep, stop) = execute(&plan, &cargs, judge, &ProcessExecutor, &mut sinks)?;
        if let Stop::Interrupted(sig) = stop {
            return Ok(Ran::Interrupted(sig));
        }
        if let Some(r) = rep.runs.iter().find(|r| r.status != "ok" && !r.warmup) {
            anyhow::bail!(
                "a run of '{}' failed, so {} and {} cannot be compared: {}",
                r.argv.first().map(String::as_str).unwrap_or("?"),
                a.0,
                b.0,
                r.error.as_deref().unwrap_or("see its output")
            );
        }
        let m = rep
            .metrics
            .iter()
            .find(|m| m.metric == rep.primary_metric)
            .with_context(|| {
                format!(
                    "the runs measured no '{}': pass --metric with one they print",
                    rep.primary_metric
                )
            })?;
        Ok(Ran::Checked(Box::new(Checked {
            metric: rep.primary_metric.clone(),
            comparison: m.comparison.clone(),
            stopped: rep.auto.clone(),
            seconds: t.elapsed().as_secs_f64(),
        })))
    }

    /// After the search: the final check, the report, the exit status.
    fn finish(mut self, found: Search, mut rep: BisectReport) -> Result<Outcome> {
        rep.skipped = report::skipped(found.steps());
        rep.steps = found.steps().to_vec();
        let errors: Vec<Option<f64>> = rep
            .steps
            .iter()
            .map(|s| s.verdict.as_ref().and_then(|v| v.error_rate))
            .collect();
        rep.search_error_rate = measure::search_error_rate(&errors);
        match found {
            Search::Found { first_bad, .. } => {
                let (f, stop) = self.final_check(first_bad)?;
                rep.first_bad = Some(f);
                if let Some(sig) = stop {
                    rep.notes
                        .push("interrupted during the check against the parent".into());
                    self.print(&mut rep)?;
                    return Ok(interrupted(sig));
                }
                self.print(&mut rep)?;
                Ok(Outcome::Ok)
            }
            Search::AllSkipped { remaining, .. } => {
                rep.result = report::Result::AllSkipped;
                rep.remaining = remaining;
                self.print(&mut rep)?;
                crate::say!(
                    "error: every commit left in the range was skipped: the first bad commit is one of the {} listed",
                    rep.remaining.len()
                );
                Ok(Outcome::Failed)
            }
            Search::Interrupted { .. } => {
                rep.result = report::Result::Interrupted;
                self.print(&mut rep)?;
                Ok(interrupted(
                    interrupt::received().unwrap_or(nix::libc::SIGINT),
                ))
            }
        }
    }

    /// The first bad commit measured against its parent once more.
    fn final_check(&mut self, commit: CommitInfo) -> Result<(FirstBad, Option<i32>)> {
        let mut f = FirstBad {
            commit: commit.clone(),
            parent: None,
            change: None,
            verdict: None,
            confirmed: false,
            check: None,
        };
        let top = crate::build::git::toplevel(&self.args.src)?;
        let parent_hash = crate::build::git::resolve(&top, &format!("{}^", commit.hash))?;
        let (subject, date) = crate::build::git::subject_and_date(&top, &parent_hash)?;
        f.parent = Some(CommitInfo {
            hash: parent_hash.clone(),
            subject,
            date,
        });
        let kept = self
            .journal
            .final_check
            .clone()
            .filter(|(h, _)| *h == commit.hash);
        let checked = match kept {
            Some((_, c)) => c,
            None => {
                let parent = self.endpoint_or_skip(&parent_hash)?;
                let child = self.endpoint_or_skip(&commit.hash)?;
                let (Some(parent), Some(child)) = (parent, child) else {
                    return Ok((f, None));
                };
                match self.check(&parent, &child)? {
                    Ran::Interrupted(sig) => return Ok((f, Some(sig))),
                    Ran::Checked(c) => {
                        self.journal.final_check = Some((commit.hash.clone(), (*c).clone()));
                        self.save();
                        *c
                    }
                }
            }
        };
        let cmp = &checked.comparison;
        f.change = cmp
            .ci_low
            .zip(cmp.ci_high)
            .map(|(lo, hi)| crate::bisect::Interval {
                estimate: cmp.ratio,
                lo,
                hi,
            });
        f.verdict = serde_json::to_value(cmp.verdict)?
            .as_str()
            .map(str::to_string);
        f.confirmed = cmp.verdict == self.sought();
        f.check = Some(checked);
        Ok((f, None))
    }

    /// A build for the final check; one that fails leaves it unchecked.
    fn endpoint_or_skip(&self, hash: &str) -> Result<Option<(String, PathBuf)>> {
        match self.tb.build(hash) {
            Ok((b, p)) => Ok(Some((label(&b), p))),
            Err(e) => {
                crate::say!("warning: no check against the parent: {e}");
                Ok(None)
            }
        }
    }
}

/// The oracle that measures: the commit built, then rounds against the
/// good and bad builds until [`measure::look`] decides.
struct Measuring<'a, 'b> {
    s: &'a mut Session<'b>,
    /// The endpoints' comparison plan: its cells and settings.
    plan: Plan,
    bad_higher: bool,
    metric: String,
    reused: usize,
    /// `--max-time` ran out: the commits left were not measured.
    time_spent: bool,
}

impl Oracle for Measuring<'_, '_> {
    fn judge(&mut self, step: usize, commit: &CommitInfo) -> Judgement {
        if let Some(saved) = self.s.journal.steps.get(&commit.hash).cloned() {
            self.reused += 1;
            return match saved {
                Saved::Measured(v) => Judgement::Measured(v),
                Saved::BuildFailed {
                    message,
                    build_seconds,
                } => Judgement::BuildFailed {
                    message,
                    build_seconds,
                },
            };
        }
        crate::say!(
            "tokbench: step {step}: {} {}",
            commit.short(),
            commit.subject
        );
        let j = self.measure(commit);
        let keep = match &j {
            Judgement::Measured(v)
                if v.class != Class::Undecided || v.pairs >= self.s.args.max_pairs =>
            {
                Some(Saved::Measured(v.clone()))
            }
            Judgement::BuildFailed {
                message,
                build_seconds,
            } => Some(Saved::BuildFailed {
                message: message.clone(),
                build_seconds: *build_seconds,
            }),
            _ => None,
        };
        if let Some(k) = keep {
            self.s.journal.steps.insert(commit.hash.clone(), k);
            self.s.save();
        }
        j
    }
}

impl Measuring<'_, '_> {
    fn measure(&mut self, commit: &CommitInfo) -> Judgement {
        if self.s.deadline_left().is_zero() {
            self.time_spent = true;
            crate::say!(
                "warning: {} is skipped: --max-time is spent",
                commit.short()
            );
            return Judgement::Measured(undecided(0));
        }
        let t = Instant::now();
        let built = self.s.tb.build(&commit.hash);
        let build_seconds = t.elapsed().as_secs_f64();
        if interrupt::received().is_some() {
            return Judgement::Stop;
        }
        let (b, bin) = match built {
            Ok(x) => x,
            Err(e) => {
                crate::say!("warning: {} is skipped: {e:#}", commit.short());
                return Judgement::BuildFailed {
                    message: format!("{e:#}"),
                    build_seconds,
                };
            }
        };
        match self.rounds(&label(&b), bin) {
            Ok(Some(mut v)) => {
                v.build_seconds = build_seconds;
                v.measure_seconds = t.elapsed().as_secs_f64() - build_seconds;
                if v.class == Class::Undecided {
                    crate::say!(
                        "warning: {} is skipped: undecided after {} pair(s)",
                        commit.short(),
                        v.pairs
                    );
                }
                Judgement::Measured(v)
            }
            Ok(None) => Judgement::Stop,
            Err(e) => {
                crate::say!("warning: {} is skipped: {e:#}", commit.short());
                Judgement::RunFailed {
                    message: format!("{e:#}"),
                }
            }
        }
    }

    /// The step's cells: the endpoints' (as planned once) and the commit's.
    fn cells(&self, label: &str, bin: PathBuf) -> Result<Vec<Cell>> {
        let args = self.s.args;
        let side = SideSpec {
            bin,
            gpu: args.gpu,
            label: Some(label.to_string()),
            extra: args.extra.clone(),
            reps: 1,
        };
        let good = &self.plan.cells[0];
        let commit = plan_cell(&side, &args.model, good.model.clone(), &args.opts)?;
        if commit.probe.kind != good.probe.kind {
            anyhow::bail!(
                "its {} is {}, the endpoints' is {}",
                args.tool,
                commit.driver.tool(),
                good.driver.tool()
            );
        }
        let mut cells = vec![good.clone(), self.plan.cells[1].clone(), commit];
        for (c, name) in cells.iter_mut().zip(measure::SIDES) {
            c.side = Some(name);
        }
        Ok(cells)
    }

    /// Rounds until decided; `None` when interrupted.
    fn rounds(&mut self, label: &str, bin: PathBuf) -> Result<Option<Verdict>> {
        let cells = self.cells(label, bin)?;
        let rule = AutoRule {
            max_pairs: self.s.args.max_pairs as usize,
            ..AutoRule::default()
        };
        let (metric, bad_higher) = (self.metric.clone(), self.bad_higher);
        let look: Rule<Verdict> = Box::new(move |records, look| {
            let r = measure::rounds(records, &metric);
            Ok(match look {
                Look::BeforePair(_) => None,
                Look::AfterPair(_) => measure::look(&r, bad_higher, &rule, false),
                Look::TimeSpent(_) => measure::look(&r, bad_higher, &rule, true),
            })
        });
        let left = self.s.deadline_left();
        let mut sched = rounds3(self.s.args.opts.warmup, rule.max_pairs, left, look);
        let mut sinks = Sinks::open(&self.plan, self.s.db, true)?;
        let out = engine::run(
            &cells,
            &self.plan.settings,
            &mut sched,
            &ProcessExecutor,
            &mut sinks.all(),
        )?;
        match out.stop {
            Stop::Interrupted(_) => return Ok(None),
            Stop::FailedRun => {
                let r = out.records.iter().find(|r| r.status != "ok");
                anyhow::bail!(
                    "a run of {} failed: {}",
                    r.and_then(|r| r.side.clone()).unwrap_or_default(),
                    r.and_then(|r| r.error.clone()).unwrap_or_default()
                );
            }
            Stop::Completed => {}
        }
        let pairs = measure::rounds(&out.records, &self.metric).len() as u32;
        Ok(Some(sched.ended.unwrap_or_else(|| undecided(pairs))))
    }
}

fn undecided(pairs: u32) -> Verdict {
    Verdict {
        class: Class::Undecided,
        pairs,
        ratio_to_good: None,
        error_rate: None,
        build_seconds: 0.0,
        measure_seconds: 0.0,
    }
}
