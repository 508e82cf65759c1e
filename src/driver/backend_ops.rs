//! test-backend-ops: one `perf` invocation per round of `tokbench ops`. Its
//! argv is the op filter (`-b DEVICE [-o OPS] [-p REGEX]`) after the mode
//! word, with `--output sql` where the build's usage lists it (older builds
//! print the console form, read just as well); its results are op cases
//! ([`crate::model::OpResult`]) in the run record's `ops`.

use super::probe::{Probe, ToolKind};
use super::{Driver, Invocation, Output, Request};
use crate::model::RunRecord;
use crate::parse::backend_ops::parse_output;

#[derive(Debug)]
pub struct BackendOps;

/// What `tokbench ops` asks of every invocation: the backend device and
/// test-backend-ops' own op (`-o`) and parameter (`-p`) filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpFilter {
    pub device: String,
    pub ops: Option<String>,
    pub params: Option<String>,
}

/// The argv of one round: `perf -b DEVICE [-o OPS] [-p REGEX] [--output sql]`.
pub fn perf_argv(filter: &OpFilter, probe: &Probe) -> Vec<String> {
    let mut argv = vec!["perf".to_string(), "-b".into(), filter.device.clone()];
    if let Some(op) = &filter.ops {
        argv.extend(["-o".into(), op.clone()]);
    }
    if let Some(p) = &filter.params {
        argv.extend(["-p".into(), p.clone()]);
    }
    if probe.flags.sql_output {
        argv.extend(["--output".into(), "sql".into()]);
    }
    argv
}

/// From `Backend i/n: NAME` lines: the first that is not a CPU-side backend.
pub fn first_gpu(listing: &str) -> Option<String> {
    listing
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Backend ")?
                .split_once(": ")
                .map(|(_, n)| n.trim())
        })
        .find(|n| !["CPU", "BLAS", "RPC"].iter().any(|c| n.starts_with(c)))
        .map(str::to_string)
}

impl Driver for BackendOps {
    fn tool(&self) -> &'static str {
        "test-backend-ops"
    }

    fn claims(&self, probe: &Probe) -> bool {
        probe.kind == ToolKind::BackendOps
    }

    /// Not a generation tool: `run`/`compare` on it say what to use.
    fn invocation(&self, req: &Request<'_>, _probe: &Probe) -> anyhow::Result<Invocation> {
        anyhow::bail!(
            "'{}' is test-backend-ops, which measures single ops, not generation: compare two builds of it with 'tokbench ops --a PATH --b PATH [--op OP]'",
            req.bin.display()
        )
    }

    fn takes_prompt(&self) -> bool {
        false
    }

    /// Each round is one process; there is no warmup process (test-backend-ops
    /// repeats each case for about a second by itself).
    fn processes(&self, _warmup: u32, reps: u32) -> Vec<bool> {
        vec![false; reps as usize]
    }

    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
        match parse_output("test-backend-ops stdout", out.stdout) {
            Ok(cases) => {
                if record.build.backend.is_none() {
                    record.build.backend = cases.first().map(|c| c.backend.clone());
                }
                record.ops = cases;
                true
            }
            Err(e) => {
                warnings.push(e.to_string());
                false
            }
        }
    }

    fn nothing_read(&self) -> &'static str {
        "printed no test-backend-ops perf results on stdout (check --op / --params and --device)"
    }

    /// test-backend-ops exits 1 when a case failed to allocate or compute;
    /// the other cases' figures are sound.
    fn kept_exit(&self, code: i32) -> Option<&'static str> {
        (code == 1).then_some("a case failed to allocate or compute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::probe::Flags;
    use crate::driver::test_support::{blank_record, probe};

    fn filter() -> OpFilter {
        OpFilter {
            device: "CUDA0".into(),
            ops: Some("SOFT_MAX,ADD".into()),
            params: Some(r"ne=\[4096".into()),
        }
    }

    #[test]
    fn the_argv_is_the_filter_with_sql_where_the_usage_lists_it() {
        let sql = Flags {
            sql_output: true,
            ..Flags::default()
        };
        let p = probe(ToolKind::BackendOps, sql);
        assert_eq!(
            perf_argv(&filter(), &p),
            [
                "perf",
                "-b",
                "CUDA0",
                "-o",
                "SOFT_MAX,ADD",
                "-p",
                r"ne=\[4096",
                "--output",
                "sql"
            ]
        );
        let old = probe(ToolKind::BackendOps, Flags::default());
        let bare = OpFilter {
            ops: None,
            params: None,
            ..filter()
        };
        assert_eq!(perf_argv(&bare, &old), ["perf", "-b", "CUDA0"]);
    }

    /// The first lines of the usage of the pinned 0c1e570 build.
    const USAGE_0C1E570: &str = "Usage: ./bin/test-backend-ops [mode] [options]\n\nValid modes:\n  perf     performance evaluation\n\nOptions:\n  -o <op|regex,..>            comma separated list of exact op names\n  -b <backend>                run tests on the given backend (e.g. CPU, MTL0, CUDA0)\n  -p <params regex>           filter test cases by a regex matched against their params\n  --output <console|sql|csv>  output format (default: console)\n";

    #[test]
    fn the_usage_is_recognised_with_or_without_sql_output() {
        use crate::driver::probe::{classify, read_flags};
        assert_eq!(classify(USAGE_0C1E570), Some(ToolKind::BackendOps));
        assert!(read_flags(USAGE_0C1E570).sql_output);
        let old = USAGE_0C1E570.replace(
            "  --output <console|sql|csv>  output format (default: console)\n",
            "",
        );
        assert_eq!(classify(&old), Some(ToolKind::BackendOps));
        assert!(!read_flags(&old).sql_output);
    }

    #[test]
    fn the_first_gpu_backend_is_the_default_device() {
        let l = "Testing 3 devices\n\nBackend 1/3: BLAS\nBackend 2/3: CUDA0\nBackend 3/3: CPU\n";
        assert_eq!(first_gpu(l).as_deref(), Some("CUDA0"));
        assert_eq!(first_gpu("Backend 1/1: CPU\n"), None);
    }

    #[test]
    fn read_keeps_every_case_and_names_the_backend() {
        let text = "INSERT INTO test_backend_ops (backend_name, op_name, op_params, test_mode, supported, time_us) VALUES ('CPU', 'SOFT_MAX', 'a', 'perf', '1', '12.5');\n";
        let mut r = blank_record();
        let mut w = Vec::new();
        let out = Output {
            stdout: text,
            stderr: "",
        };
        assert!(BackendOps.read(out, &mut r, &mut w));
        assert_eq!((r.ops.len(), r.ops[0].time_us), (1, 12.5));
        assert_eq!(r.build.backend.as_deref(), Some("CPU"));
        let empty = Output {
            stdout: "Testing 1 devices\n",
            stderr: "",
        };
        assert!(!BackendOps.read(empty, &mut blank_record(), &mut w));
        assert!(w[0].contains("no test-backend-ops perf results"), "{w:?}");
        assert_eq!(
            BackendOps.kept_exit(1),
            Some("a case failed to allocate or compute")
        );
        assert_eq!(BackendOps.kept_exit(2), None);
    }
}
