//! llama-completion (and any generation tool without a conversation mode):
//! one generation per process, llama.cpp's timing block on stderr.

use super::probe::{Probe, ToolKind};
use super::timings::{generation_argv, read_timings};
use super::{Driver, Invocation, Output, Request};
use crate::model::RunRecord;

#[derive(Debug)]
pub struct Completion;

impl Driver for Completion {
    fn tool(&self) -> &'static str {
        "llama-completion"
    }

    fn claims(&self, probe: &Probe) -> bool {
        probe.kind == ToolKind::Completion
    }

    fn invocation(&self, req: &Request<'_>, probe: &Probe) -> anyhow::Result<Invocation> {
        Ok(Invocation {
            argv: generation_argv(req, probe, &[]),
            notes: Vec::new(),
        })
    }

    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
        read_timings(out, record, warnings)
    }

    fn nothing_read(&self) -> &'static str {
        "printed no timing block"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::probe::Flags;
    use crate::driver::test_support::{blank_record, probe, request};
    use crate::driver::{Offload, DEFAULT_PROMPT};

    #[test]
    fn argv_is_a_deterministic_generation_with_the_users_args_last() {
        let extra = vec!["-t".to_string(), "4".to_string()];
        let mut req = request(&extra);
        req.offload = Offload::All;
        let p = probe(
            ToolKind::Completion,
            Flags {
                seed: true,
                temp: true,
                ignore_eos: true,
                ngl: true,
                ..Flags::default()
            },
        );
        let inv = Completion.invocation(&req, &p).unwrap();
        assert_eq!(
            inv.argv,
            [
                "-m",
                "/m/model.gguf",
                "-p",
                "hello",
                "-n",
                "16",
                "--seed",
                "42",
                "--temp",
                "0",
                "--ignore-eos",
                "-ngl",
                "999",
                "-t",
                "4"
            ]
        );
        assert!(inv.notes.is_empty());
    }

    #[test]
    fn a_bare_old_binary_gets_only_what_it_takes() {
        let mut req = request(&[]);
        req.prompt = crate::driver::Prompt::Builtin;
        req.n_predict = None;
        let inv = Completion
            .invocation(&req, &probe(ToolKind::Completion, Flags::default()))
            .unwrap();
        assert_eq!(inv.argv[..4], ["-m", "/m/model.gguf", "-p", DEFAULT_PROMPT]);
        assert_eq!(inv.argv[4..], ["-n", "128"]);
    }

    #[test]
    fn warmups_then_counted_runs_one_process_each() {
        assert_eq!(
            Completion.processes(2, 3),
            [true, true, false, false, false]
        );
    }

    #[test]
    fn reads_the_quickstart_recording() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/llama");
        let stderr = std::fs::read_to_string(dir.join("cpu_quickstart_completion.stderr")).unwrap();
        let stdout = std::fs::read_to_string(dir.join("cpu_quickstart_completion.stdout")).unwrap();
        let (mut r, mut w) = (blank_record(), Vec::new());
        let out = Output {
            stdout: &stdout,
            stderr: &stderr,
        };
        assert!(Completion.read(out, &mut r, &mut w));
        let t = r.timings.clone().unwrap();
        assert!(t.eval_tps.is_some() && t.prompt_eval_tps.is_some(), "{t:?}");
        assert_eq!(
            Completion.primary_metric("eval_tps", &[r]).unwrap(),
            "eval_tps"
        );
    }
}
