//! `--profile`: one extra run of the benchmarked command under a profiler,
//! after the measured runs and never counted. [`steps`] is the pure part
//! (the profiler's commands and the files they leave); [`profile`] runs
//! them, keeps every file in the profile directory and reads the export
//! with the parsers of this folder. A profiler that is missing, refused or
//! fails gives an error string the caller shows as a warning: the measured
//! runs are unaffected.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::{parse_any, KernelSummary};
use crate::runner::process::{self, Ending, Spawn};

/// The profilers `--profile` can wrap a run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profiler {
    /// Nsight Compute: replays each kernel (slow; limited by a launch count).
    Ncu,
    /// Nsight Systems, then its `cuda_gpu_kern_sum` report.
    Nsys,
    /// Instruments' Metal System Trace (macOS).
    Xctrace,
}

impl Profiler {
    pub fn program(self) -> &'static str {
        match self {
            Profiler::Ncu => "ncu",
            Profiler::Nsys => "nsys",
            Profiler::Xctrace => "xctrace",
        }
    }
}

/// The table xctrace exports: the GPU intervals of the first run.
pub const XCTRACE_XPATH: &str =
    "/trace-toc/run[@number=\"1\"]/data/table[@schema=\"metal-gpu-intervals\"]";

/// One command of a profiling, and the file its stdout is kept in.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The profiler's argv, program name first.
    pub argv: Vec<String>,
    pub stdout_to: PathBuf,
}

/// A profiling planned: its commands, the export they leave (read by the
/// parsers) and every file kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub export: PathBuf,
    pub files: Vec<PathBuf>,
}

/// How the profiling is asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub tool: Profiler,
    /// The benchmarked command: binary then arguments.
    pub cmd: &'a [String],
    pub dir: &'a Path,
    /// File-name prefix (`run`, `a`, `b`).
    pub stem: &'a str,
    /// ncu: kernels profiled at most.
    pub launch_count: u32,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

/// The profiler's commands for `req`. Pure: nothing is run.
pub fn steps(req: &Request<'_>) -> Plan {
    let at = |name: &str| req.dir.join(format!("{}-{name}", req.stem));
    let path = |p: &Path| p.display().to_string();
    let with_cmd = |mut v: Vec<String>| {
        v.extend(req.cmd.iter().cloned());
        v
    };
    match req.tool {
        Profiler::Ncu => {
            let csv = at("ncu.csv");
            let mut v = s(&["ncu", "--csv", "--print-units", "base"]);
            v.extend(s(&[
                "--metrics",
                "gpu__time_duration.sum",
                "--launch-count",
            ]));
            v.extend([
                req.launch_count.to_string(),
                "--log-file".into(),
                path(&csv),
            ]);
            let steps = vec![Step {
                argv: with_cmd(v),
                stdout_to: at("ncu.stdout"),
            }];
            Plan {
                steps,
                export: csv.clone(),
                files: vec![csv],
            }
        }
        Profiler::Nsys => {
            let base = at("nsys");
            let rep = PathBuf::from(format!("{}.nsys-rep", path(&base)));
            let mut record = s(&["nsys", "profile", "--cuda-graph-trace=node"]);
            record.extend(s(&["--force-overwrite", "true", "-o"]));
            record.push(path(&base));
            let mut stats = s(&["nsys", "stats", "--report", "cuda_gpu_kern_sum"]);
            stats.extend(s(&["--format", "csv"]));
            stats.push(path(&rep));
            let csv = at("cuda_gpu_kern_sum.csv");
            let steps = vec![
                Step {
                    argv: with_cmd(record),
                    stdout_to: at("nsys.stdout"),
                },
                Step {
                    argv: stats,
                    stdout_to: csv.clone(),
                },
            ];
            Plan {
                steps,
                export: csv.clone(),
                files: vec![rep, csv],
            }
        }
        Profiler::Xctrace => xctrace_steps(req, &at),
    }
}

fn xctrace_steps(req: &Request<'_>, at: &dyn Fn(&str) -> PathBuf) -> Plan {
    let trace = at("metal.trace").display().to_string();
    let mut record = s(&["xctrace", "record", "--template", "Metal System Trace"]);
    record.extend(["--no-prompt".into(), "--output".into(), trace.clone()]);
    record.extend(s(&["--launch", "--"]));
    record.extend(req.cmd.iter().cloned());
    let export = |what: &[&str]| {
        let mut v = s(&["xctrace", "export", "--input"]);
        v.push(trace.clone());
        v.extend(s(what));
        v
    };
    let (toc, xml) = (at("toc.xml"), at("metal-gpu-intervals.xml"));
    let steps = vec![
        Step {
            argv: record,
            stdout_to: at("xctrace.stdout"),
        },
        Step {
            argv: export(&["--toc"]),
            stdout_to: toc.clone(),
        },
        Step {
            argv: export(&["--xpath", XCTRACE_XPATH]),
            stdout_to: xml.clone(),
        },
    ];
    Plan {
        steps,
        export: xml.clone(),
        files: vec![PathBuf::from(trace), toc, xml],
    }
}

/// What one profiled run left, as stored in the results (`"kind": "profile"`).
#[derive(Debug, Clone, Serialize)]
pub struct Profiled {
    pub kind: &'static str,
    /// `a` / `b` in a comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    pub tool: Profiler,
    /// Every profiler command run, program first.
    pub commands: Vec<Vec<String>>,
    /// Trace and export files kept.
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<KernelSummary>,
    /// Why there is no summary (the profiler missing, refused or failing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs the profiling of `req` (each command at most `timeout`).
pub fn profile(req: &Request<'_>, side: Option<&str>, timeout: Duration) -> Profiled {
    let plan = steps(req);
    let mut out = Profiled {
        kind: "profile",
        side: side.map(str::to_string),
        tool: req.tool,
        commands: plan.steps.iter().map(|s| s.argv.clone()).collect(),
        files: plan.files.iter().map(|f| f.display().to_string()).collect(),
        summary: None,
        error: None,
    };
    match run_plan(req, &plan, timeout) {
        Ok(summary) => out.summary = Some(summary),
        Err(e) => out.error = Some(e),
    }
    out
}

fn run_plan(req: &Request<'_>, plan: &Plan, timeout: Duration) -> Result<KernelSummary, String> {
    let program = req.tool.program();
    let Some(bin) = crate::sample::probe::which(program) else {
        return Err(format!(
            "--profile {program}: '{program}' is not on PATH; install it (or add its directory to PATH), or leave --profile out"
        ));
    };
    std::fs::create_dir_all(req.dir)
        .map_err(|e| format!("cannot create --profile-dir '{}': {e}", req.dir.display()))?;
    for step in &plan.steps {
        run_step(&bin, step, timeout)?;
    }
    let text = std::fs::read_to_string(&plan.export)
        .map_err(|e| format!("{program} left no export '{}': {e}", plan.export.display()))?;
    parse_any(&plan.export.display().to_string(), &text).map_err(|e| e.to_string())
}

fn run_step(bin: &Path, step: &Step, timeout: Duration) -> Result<(), String> {
    let args: Vec<OsString> = step.argv[1..].iter().map(OsString::from).collect();
    let stderr_to = step.stdout_to.with_extension("stderr");
    let spec = Spawn {
        program: bin,
        args: &args,
        timeout,
        logs: Some((step.stdout_to.clone(), stderr_to)),
    };
    let shown = crate::runner::shell_words(&step.argv);
    let f = process::run(&spec, |_| {}).map_err(|e| format!("cannot start '{shown}': {e}"))?;
    if f.ending == Ending::Exited(0) {
        return Ok(());
    }
    // ncu and nsys print their own errors (==ERROR== ...) on stdout.
    let (name, tail) = match f.stderr.last_lines(8) {
        t if t.is_empty() => ("stdout", f.stdout.last_lines(8)),
        t => ("stderr", t),
    };
    Err(format!(
        "'{shown}' ended with {:?}; last lines of its {name}:\n  {}",
        f.ending,
        tail.join("\n  ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(tool: Profiler) -> Request<'static> {
        static CMD: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| s(&["/b/llama-completion", "-m", "m.gguf", "-n", "8"]));
        Request {
            tool,
            cmd: &CMD,
            dir: Path::new("/p"),
            stem: "a",
            launch_count: 50,
        }
    }

    #[test]
    fn ncu_writes_its_csv_to_a_log_file_limited_by_launch_count() {
        let p = steps(&req(Profiler::Ncu));
        let want = "ncu --csv --print-units base --metrics gpu__time_duration.sum --launch-count 50 --log-file /p/a-ncu.csv /b/llama-completion -m m.gguf -n 8";
        assert_eq!(p.steps[0].argv.join(" "), want);
        assert_eq!(p.export, PathBuf::from("/p/a-ncu.csv"));
    }

    #[test]
    fn nsys_records_graph_nodes_then_exports_the_kernel_summary() {
        let p = steps(&req(Profiler::Nsys));
        assert_eq!(
            p.steps[0].argv.join(" "),
            "nsys profile --cuda-graph-trace=node --force-overwrite true -o /p/a-nsys /b/llama-completion -m m.gguf -n 8"
        );
        assert_eq!(
            p.steps[1].argv.join(" "),
            "nsys stats --report cuda_gpu_kern_sum --format csv /p/a-nsys.nsys-rep"
        );
        assert_eq!(p.export, p.steps[1].stdout_to);
        assert_eq!(p.files[0], PathBuf::from("/p/a-nsys.nsys-rep"));
    }

    #[test]
    fn xctrace_launches_after_its_own_options_then_exports_toc_and_table() {
        let p = steps(&req(Profiler::Xctrace));
        assert_eq!(
            p.steps[0].argv[..4],
            s(&["xctrace", "record", "--template", "Metal System Trace"])
        );
        let launch = p.steps[0]
            .argv
            .iter()
            .position(|a| a == "--launch")
            .unwrap();
        assert_eq!(p.steps[0].argv[launch + 2], "/b/llama-completion");
        assert!(p.steps[0].argv[..launch].contains(&"--no-prompt".to_string()));
        assert_eq!(p.steps[1].argv.last().unwrap(), "--toc");
        assert_eq!(p.steps[2].argv.last().unwrap(), XCTRACE_XPATH);
        assert_eq!(p.export, PathBuf::from("/p/a-metal-gpu-intervals.xml"));
    }
}
