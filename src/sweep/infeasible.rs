//! Why a cell is infeasible: a crash, an out-of-memory error, a model that
//! failed to load, a timeout, or another failure; each with one line that
//! names its cause. Pure: the facts of a failed run in, a [`Cause`] out.

use serde::{Deserialize, Serialize};

use crate::model::ExitInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// Killed by a signal (segfault, abort).
    Crash,
    /// The log says memory ran out (host or device).
    OutOfMemory,
    /// The model or its context could not be loaded or created.
    LoadFailure,
    /// Ran past `--timeout`.
    Timeout,
    /// Finished but its output holds no value of the metric.
    NoMetric,
    /// Any other failure (a non-zero exit).
    Failed,
}

impl CauseKind {
    pub fn word(self) -> &'static str {
        match self {
            CauseKind::Crash => "crash",
            CauseKind::OutOfMemory => "out of memory",
            CauseKind::LoadFailure => "load failure",
            CauseKind::Timeout => "timeout",
            CauseKind::NoMetric => "no metric",
            CauseKind::Failed => "failed",
        }
    }
}

/// The cause of a cell's infeasibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub kind: CauseKind,
    /// One line: the log line that names it, or what the run did.
    pub line: String,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.word(), self.line)
    }
}

/// Lowercase markers of an out-of-memory failure in llama.cpp's logs
/// (CPU allocation, CUDA, Metal, Vulkan).
const OOM: [&str; 7] = [
    "out of memory",
    "cudamalloc failed",
    "failed to allocate",
    "std::bad_alloc",
    "insufficient memory",
    "errorOutOfDeviceMemory",
    "not enough memory",
];

/// Lowercase markers of a model or context that could not be set up.
const LOAD: [&str; 5] = [
    "failed to load model",
    "error loading model",
    "unable to load model",
    "failed to create context",
    "failed to initialize",
];

/// Classifies a failed run from its exit and its log (`text`: the run's
/// error message and stderr tail). Memory is looked for first: a CUDA
/// out-of-memory often ends in an abort, and the abort is not the cause.
pub fn classify(exit: &ExitInfo, text: &str) -> Cause {
    if let Some(line) = find_line(text, &OOM) {
        return cause(CauseKind::OutOfMemory, line);
    }
    if exit.timed_out {
        return cause(CauseKind::Timeout, "ran past --timeout".to_string());
    }
    if let Some(line) = find_line(text, &LOAD) {
        return cause(CauseKind::LoadFailure, line);
    }
    if let Some(sig) = exit.signal.filter(|_| !exit.interrupted) {
        let detail = find_line(text, &["ggml_assert", "segmentation fault", "aborted"]);
        let what = format!("killed by signal {sig}");
        return cause(
            CauseKind::Crash,
            detail.map_or(what.clone(), |d| format!("{what}: {d}")),
        );
    }
    let last = text.lines().rev().map(str::trim).find(|l| !l.is_empty());
    let line = match (exit.code, last) {
        (Some(c), Some(l)) => format!("exit code {c}: {l}"),
        (Some(c), None) => format!("exit code {c}"),
        (None, Some(l)) => l.to_string(),
        (None, None) => "failed without a message".to_string(),
    };
    cause(CauseKind::Failed, line)
}

/// A run that succeeded but gave no value of `metric`.
pub fn no_metric(metric: &str) -> Cause {
    cause(
        CauseKind::NoMetric,
        format!("its output holds no '{metric}'"),
    )
}

fn cause(kind: CauseKind, line: String) -> Cause {
    Cause {
        kind,
        line: first_line(&line),
    }
}

/// The first line, without tokbench's `cause: ` label and llama.cpp's log
/// prefix (`0.00.405.200 E `).
fn first_line(s: &str) -> String {
    static PREFIX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?:cause: )?(?:\d+\.\d+\.\d+\.\d+ [A-Z] )?").expect("a valid pattern")
    });
    let line = s.lines().next().unwrap_or("").trim();
    PREFIX.replace(line, "").trim().to_string()
}

/// The first line of `text` holding one of the lowercase `markers`.
fn find_line(text: &str, markers: &[&str]) -> Option<String> {
    text.lines()
        .find(|l| {
            let l = l.to_lowercase();
            markers.iter().any(|m| l.contains(&m.to_lowercase()))
        })
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: Option<i32>, signal: Option<i32>, timed_out: bool) -> ExitInfo {
        ExitInfo {
            code,
            signal,
            timed_out,
            ..Default::default()
        }
    }

    #[test]
    fn cuda_out_of_memory_beats_the_abort_it_ends_in() {
        let log = "llama_init_from_model: n_ctx = 131072\n\
                   ggml_backend_cuda_buffer_type_alloc_buffer: allocating 70000.00 MiB on device 0: cudaMalloc failed: out of memory\n\
                   GGML_ASSERT(buf) failed\n";
        let c = classify(&exit(None, Some(6), false), log);
        assert_eq!(c.kind, CauseKind::OutOfMemory);
        assert!(c
            .line
            .starts_with("ggml_backend_cuda_buffer_type_alloc_buffer: allocating 70000.00 MiB"));
        assert_eq!(
            c.to_string().lines().count(),
            1,
            "the cause is one line: {c}"
        );
    }

    #[test]
    fn crash_load_failure_timeout_and_plain_failure() {
        let segv = classify(&exit(None, Some(11), false), "some log\n");
        assert_eq!(segv.to_string(), "crash: killed by signal 11");
        let load = classify(
            &exit(Some(1), None, false),
            "main: error: failed to load model 'x.gguf'\nmore\n",
        );
        assert_eq!(load.kind, CauseKind::LoadFailure);
        assert_eq!(load.line, "main: error: failed to load model 'x.gguf'");
        let slow = classify(&exit(None, Some(9), true), "");
        assert_eq!(slow.to_string(), "timeout: ran past --timeout");
        let other = classify(&exit(Some(3), None, false), "line one\nthe last words\n\n");
        assert_eq!(other.to_string(), "failed: exit code 3: the last words");
        assert_eq!(
            no_metric("eval_tps").to_string(),
            "no metric: its output holds no 'eval_tps'"
        );
    }

    #[test]
    fn the_cause_line_drops_the_log_prefix() {
        let text = "run 3 of 'llama' exited with code 1\ncause: 0.00.405.200 E cudaMalloc failed: out of memory\n";
        let c = classify(&exit(Some(1), None, false), text);
        assert_eq!(c.line, "cudaMalloc failed: out of memory");
    }

    #[test]
    fn host_allocation_failure_is_out_of_memory() {
        let c = classify(
            &exit(None, Some(6), false),
            "terminate called after throwing an instance of 'std::bad_alloc'\n",
        );
        assert_eq!(c.kind, CauseKind::OutOfMemory);
    }
}
