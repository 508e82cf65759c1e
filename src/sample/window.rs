//! Placing the generation phase on a run's timeline, so GPU figures describe
//! decoding rather than model loading.
//!
//! Current llama.cpp logs prefix each line with `M.SS.mmm.uuu` since the
//! process started (`0.02.549.483 I common_perf_print: ...`); the perf block
//! is printed right after generation ends, so generation is
//! `[that time - eval_ms, that time]`. Without timestamps, generation is
//! taken to end at the process's exit, less nothing, and to start `eval_ms`
//! (plus a little slack) before. Without an eval time: the whole run.

use std::sync::LazyLock;

use regex::Regex;

pub use crate::model::sampled::{Window, WindowKind};

/// Slack added before generation when the end is taken from the exit time
/// (the process prints and frees memory after decoding).
pub const EXIT_SLACK_MS: f64 = 50.0;

/// How far past tokbench's own wall clock a log time may lie and still be
/// believed (the two clocks start a few ms apart).
const CLOCK_TOLERANCE_MS: f64 = 50.0;

static TS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\[\d+\]\s*)*(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) [A-Z] ")
        .expect("timestamp regex is valid")
});

/// `M.SS.mmm.uuu` -> ms.
pub fn log_time_ms(line: &str) -> Option<f64> {
    let c = TS_RE.captures(line)?;
    let n = |i: usize| c[i].parse::<f64>().ok();
    Some(n(1)? * 60_000.0 + n(2)? * 1000.0 + n(3)? + n(4)? / 1000.0)
}

/// The log time of the last timestamped `eval time` line (the perf block).
pub fn perf_log_time_ms(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .rev()
        .filter(|l| l.contains("eval time") && !l.contains("prompt eval time"))
        .find_map(log_time_ms)
}

/// The generation window of a run that lasted `wall_ms`.
pub fn generation_window(perf_ms: Option<f64>, eval_ms: Option<f64>, wall_ms: f64) -> Window {
    let whole = Window {
        kind: WindowKind::WholeRun,
        start_ms: 0.0,
        end_ms: wall_ms,
        basis: "no eval time".to_string(),
    };
    let Some(eval) = eval_ms.filter(|e| e.is_finite() && *e > 0.0 && *e <= wall_ms) else {
        return whole;
    };
    if let Some(end) = perf_ms.filter(|p| *p >= eval && *p <= wall_ms + CLOCK_TOLERANCE_MS) {
        return Window {
            kind: WindowKind::Generation,
            start_ms: end - eval,
            end_ms: end,
            basis: "log timestamp".to_string(),
        };
    }
    Window {
        kind: WindowKind::Generation,
        start_ms: (wall_ms - eval - EXIT_SLACK_MS).max(0.0),
        end_ms: wall_ms,
        basis: "eval time before exit".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::read_fixture;

    #[test]
    fn log_times() {
        assert_eq!(
            log_time_ms("0.02.549.483 I common_perf_print: x"),
            Some(2549.483)
        );
        assert_eq!(log_time_ms("1.05.000.000 I x"), Some(65_000.0));
        assert_eq!(log_time_ms("common_perf_print: eval time"), None);
    }

    #[test]
    fn perf_time_from_the_own_run_log() {
        let log = read_fixture("llama/2026_common_perf_timestamped.txt");
        // `0.02.742.802 I common_perf_print:        eval time = ...`
        assert_eq!(perf_log_time_ms(&log), Some(2742.802));
        assert_eq!(
            perf_log_time_ms(&read_fixture("llama/2026_common_perf_plain.txt")),
            None
        );
    }

    #[test]
    fn window_choices() {
        let w = generation_window(Some(2549.483), Some(300.0), 3000.0);
        assert_eq!(w.kind, WindowKind::Generation);
        assert_eq!((w.start_ms, w.end_ms), (2249.483, 2549.483));
        assert_eq!(w.basis, "log timestamp");
        // A log time past the exit is not believed.
        let w = generation_window(Some(9000.0), Some(300.0), 3000.0);
        assert_eq!((w.start_ms, w.end_ms), (2650.0, 3000.0));
        assert_eq!(w.basis, "eval time before exit");
        let w = generation_window(None, None, 3000.0);
        assert_eq!(w.kind, WindowKind::WholeRun);
        assert_eq!((w.start_ms, w.end_ms), (0.0, 3000.0));
        let w = generation_window(None, Some(f64::INFINITY), 3000.0);
        assert_eq!(w.kind, WindowKind::WholeRun);
    }
}
