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
    pub side: Option<&'a str>,
    pub warmup: bool,
}

pub trait Sink {
    fn starting(&mut self, _run: &Starting<'_>) {}
    /// Takes a finished run. An error stops the session (the results file
    /// could not be written); sinks that may fail softly warn instead.
    fn finished(&mut self, record: &RunRecord) -> anyhow::Result<()>;
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

/// A short line about a finished run, for progress output.
pub fn progress_text(r: &RunRecord) -> String {
    if r.status != "ok" {
        return "failed".to_string();
    }
    let mut parts = vec![format!("{:.0} ms", r.wall_ms)];
    if let Some(t) = &r.timings {
        if let Some(v) = t.eval_tps {
            parts.push(format!("eval {} t/s", v.0));
        }
        if let Some(v) = t.prompt_eval_tps {
            parts.push(format!("prompt {} t/s", v.0));
        }
    }
    for b in &r.bench {
        parts.push(format!("{} {} t/s", b.key(), b.avg_tps.0));
    }
    if !r.ops.is_empty() {
        parts.push(format!("{} op case(s)", r.ops.len()));
    }
    parts.join(", ")
}

/// Progress on stderr: a bar with ETA on a terminal, a line per run
/// otherwise (`tokbench: run 2/5 ... 812 ms, eval 40.1 t/s`).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A bar only when stderr is a terminal and `bar` is asked for.
    pub fn new(bar: bool) -> Progress {
        use std::io::IsTerminal;
        let bar = (bar && std::io::stderr().is_terminal()).then(indicatif::ProgressBar::hidden);
        Progress { bar }
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

/// The words of a starting run: `warmup 1/3`, or `A run` in a comparison.
pub fn starting_text(s: &Starting<'_>) -> String {
    let what = if s.warmup { "warmup" } else { "run" };
    match s.side {
        Some(side) => format!("{} {what}", side.to_uppercase()),
        None => format!("{what} {}/{}", s.index + 1, s.planned.0),
    }
}

impl Sink for Progress {
    fn starting(&mut self, s: &Starting<'_>) {
        match &self.bar {
            Some(b) => {
                if s.index == 0 {
                    Self::start_bar(b, s.planned);
                }
                b.set_message(starting_text(s));
            }
            None => progress(&format!("tokbench: {} ... ", starting_text(s))),
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
    fn starting_text_counts_runs_or_names_the_side() {
        let s = Starting {
            index: 1,
            planned: (5, false),
            side: None,
            warmup: false,
        };
        assert_eq!(starting_text(&s), "run 2/5");
        let s = Starting {
            side: Some("b"),
            warmup: true,
            ..s
        };
        assert_eq!(starting_text(&s), "B warmup");
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
