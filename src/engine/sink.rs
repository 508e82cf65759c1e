//! Where each finished run goes, in order, before the next run starts: the
//! JSONL results file (the durable record), the history database, the
//! progress display. The engine is handed its sinks; none is global.

use std::io::Write;

use crate::model::RunRecord;
use crate::store::history::History;
use crate::store::jsonl::JsonlWriter;

/// A run about to start, for the progress display.
#[derive(Debug, Clone, Copy)]
pub struct Starting<'a> {
    /// 0-based position in the session.
    pub index: usize,
    /// The schedule's planned runs, and whether it may stop earlier.
    pub planned: (usize, bool),
    /// How many of the planned runs are warmups.
    pub warmups: usize,
    pub side: Option<&'a str>,
    pub warmup: bool,
}

/// `R` is what a step gives: a run record (the default) or a serve block's summary.
pub trait Sink<R = RunRecord> {
    fn starting(&mut self, _run: &Starting<'_>) {}
    /// Takes a finished step. An error stops the session (the results file
    /// could not be written); sinks that may fail softly warn instead.
    fn finished(&mut self, record: &R) -> anyhow::Result<()>;
    fn close(&mut self) {}
}

/// `-o FILE`: one JSON line per run, appended and fsynced as it ends.
pub struct JsonlSink(pub JsonlWriter);

impl Sink for JsonlSink {
    fn finished(&mut self, record: &RunRecord) -> anyhow::Result<()> {
        Ok(self.0.append(record)?)
    }
}

/// The history database. A failed write is one warning, then the
/// benchmark goes on (the JSONL file is the durable record).
pub struct HistorySink {
    history: History,
    warned: bool,
}

impl HistorySink {
    pub fn new(history: History) -> HistorySink {
        HistorySink {
            history,
            warned: false,
        }
    }
}

impl Sink for HistorySink {
    fn finished(&mut self, record: &RunRecord) -> anyhow::Result<()> {
        if let Err(e) = self.history.record(record, "run") {
            if !self.warned {
                crate::say!(
                    "warning: could not record a run in the history: {e}; the benchmark goes on"
                );
                self.warned = true;
            }
        }
        Ok(())
    }
}

/// Writes progress to stderr. A closed stderr must not stop a benchmark
/// whose runs are being written to disk, so write errors are ignored
/// (`eprint!` would panic on them).
pub fn progress(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// A rate for a progress line: four significant digits at most, never
/// fewer than the integer part (`33346 t/s`, `812.4 t/s`, `3.142 t/s`).
pub fn rate(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let int_digits = if v.abs() < 1.0 {
        1
    } else {
        v.abs().log10().floor() as i32 + 1
    };
    let decimals = (4 - int_digits).clamp(0, 3) as usize;
    format!("{v:.decimals$}")
}

/// A short line about a finished run, for progress output.
pub fn progress_text(r: &RunRecord) -> String {
    if r.status != "ok" {
        return "failed".to_string();
    }
    let mut parts = vec![format!("{:.0} ms", r.wall_ms)];
    if let Some(t) = &r.timings {
        if let Some(v) = t.eval_tps {
            parts.push(format!("eval {} t/s", rate(v.0)));
        }
        if let Some(v) = t.prompt_eval_tps {
            parts.push(format!("prompt {} t/s", rate(v.0)));
        }
    }
    for b in &r.bench {
        parts.push(format!("{} {} t/s", b.key(), rate(b.avg_tps.0)));
    }
    if !r.ops.is_empty() {
        parts.push(format!("{} op case(s)", r.ops.len()));
    }
    parts.join(", ")
}

/// Progress on stderr: a bar with ETA on a terminal, a line per run
/// otherwise (`tokbench: run 2/5 ... 812 ms, eval 40.1 t/s`). Warmups and
/// counted runs are numbered apart, from 1, per side in a comparison.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Runs started so far, by (side, warmup).
    started: Vec<(Option<String>, bool, usize)>,
}

impl Progress {
    /// A bar only when stderr is a terminal and `bar` is asked for.
    pub fn new(bar: bool) -> Progress {
        use std::io::IsTerminal;
        let bar = (bar && std::io::stderr().is_terminal()).then(indicatif::ProgressBar::hidden);
        Progress {
            bar,
            started: Vec::new(),
        }
    }

    /// The 1-based number of this run among the runs of its kind and side.
    fn number(&mut self, s: &Starting<'_>) -> usize {
        let side = s.side.map(str::to_string);
        match self
            .started
            .iter_mut()
            .find(|(sd, w, _)| *sd == side && *w == s.warmup)
        {
            Some(e) => {
                e.2 += 1;
                e.2
            }
            None => {
                self.started.push((side, s.warmup, 1));
                1
            }
        }
    }

    fn start_bar(bar: &indicatif::ProgressBar, planned: (usize, bool)) {
        bar.set_length(planned.0 as u64);
        let tmpl = if planned.1 {
            "{elapsed_precise} [{bar:30}] {pos} runs (--auto, at most {len}) {msg}"
        } else {
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta} {msg}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(tmpl) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
}

/// The words of a starting run, `number` being its 1-based place among the
/// runs of its kind (and side): `warmup 1/1`, `run 1/5`, `A run 3/10`,
/// `B warmup 1/1`; with `--auto` the counted total is open (`A run 3`).
pub fn starting_text(s: &Starting<'_>, number: usize) -> String {
    let sides = if s.side.is_some() { 2 } else { 1 };
    let (what, total) = if s.warmup {
        ("warmup", Some(s.warmups / sides))
    } else {
        let counted = s.planned.0.saturating_sub(s.warmups) / sides;
        ("run", (!s.planned.1).then_some(counted))
    };
    let count = match total {
        Some(t) if t > 0 => format!("{number}/{t}"),
        _ => number.to_string(),
    };
    match s.side {
        Some(side) => format!("{} {what} {count}", side.to_uppercase()),
        None => format!("{what} {count}"),
    }
}

impl Sink for Progress {
    fn starting(&mut self, s: &Starting<'_>) {
        let text = starting_text(s, self.number(s));
        match &self.bar {
            Some(b) => {
                if s.index == 0 {
                    Self::start_bar(b, s.planned);
                }
                b.set_message(text);
            }
            None => progress(&format!("tokbench: {text} ... ")),
        }
    }

    fn finished(&mut self, record: &RunRecord) -> anyhow::Result<()> {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(progress_text(record));
            }
            None => progress(&format!("{}\n", progress_text(record))),
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reps_5_progress_counts_counted_runs_1_to_5_and_warmups_apart() {
        let mut p = Progress::new(false);
        let mut texts = Vec::new();
        for (index, warmup) in [true, false, false, false, false, false]
            .into_iter()
            .enumerate()
        {
            let s = Starting {
                index,
                planned: (6, false),
                warmups: 1,
                side: None,
                warmup,
            };
            texts.push(starting_text(&s, p.number(&s)));
        }
        assert_eq!(
            texts,
            [
                "warmup 1/1",
                "run 1/5",
                "run 2/5",
                "run 3/5",
                "run 4/5",
                "run 5/5"
            ]
        );
    }

    #[test]
    fn compare_progress_names_the_side_and_the_run_index() {
        let mut p = Progress::new(false);
        let order = [
            ("a", true),
            ("b", true),
            ("a", false),
            ("b", false),
            ("b", false),
        ];
        let texts: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(index, (side, warmup))| {
                let s = Starting {
                    index,
                    planned: (22, false),
                    warmups: 2,
                    side: Some(side),
                    warmup: *warmup,
                };
                starting_text(&s, p.number(&s))
            })
            .collect();
        assert_eq!(
            texts,
            [
                "A warmup 1/1",
                "B warmup 1/1",
                "A run 1/10",
                "B run 1/10",
                "B run 2/10"
            ]
        );
        let auto = Starting {
            index: 9,
            planned: (40, true),
            warmups: 2,
            side: Some("a"),
            warmup: false,
        };
        assert_eq!(starting_text(&auto, 4), "A run 4");
    }

    #[test]
    fn rates_keep_four_significant_digits() {
        assert_eq!(rate(33345.713215), "33346");
        assert_eq!(rate(812.4321), "812.4");
        assert_eq!(rate(52.094), "52.09");
        assert_eq!(rate(0.3712), "0.371");
    }

    #[test]
    fn progress_rates_are_rounded() {
        let mut r = crate::driver::test_support::blank_record();
        r.status = "ok".into();
        r.wall_ms = 812.4;
        r.bench.push(crate::model::BenchTest {
            test: "pp512".into(),
            avg_tps: crate::model::Num(33345.713215),
            ..Default::default()
        });
        assert_eq!(progress_text(&r), "812 ms, pp512 33346 t/s");
    }

    #[test]
    fn history_sink_stores_each_run_once() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.db")).unwrap();
        let mut sink = HistorySink::new(h);
        let mut r = crate::driver::test_support::blank_record();
        r.started_at = "2026-01-01T00:00:00Z".into();
        sink.finished(&r).unwrap();
        sink.finished(&r).unwrap();
        let h = History::open(&dir.path().join("h.db")).unwrap();
        let n: i64 = h
            .conn()
            .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
