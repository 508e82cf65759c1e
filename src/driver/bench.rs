//! llama-bench: one process repeats (and warms up) by itself; its results
//! are tests (`pp512`, `tg128`) on stdout in the most structured format
//! the build offers.

use super::probe::{Probe, ToolKind};
use super::{offload_flags, Driver, Invocation, Output, Request};
use crate::model::RunRecord;
use crate::parse::bench::parse_bench;

#[derive(Debug)]
pub struct Bench;

/// The most structured `-o` the build lists.
fn output_format(probe: &Probe) -> &'static str {
    let offered = &probe.flags.bench_outputs;
    ["jsonl", "json", "md"]
        .into_iter()
        .find(|f| offered.iter().any(|o| o == f))
        .unwrap_or("md")
}

impl Driver for Bench {
    fn tool(&self) -> &'static str {
        "llama-bench"
    }

    fn claims(&self, probe: &Probe) -> bool {
        probe.kind == ToolKind::Bench
    }

    /// `-r` from `--reps`, tokbench's `--warmup 0` as `--no-warmup`.
    fn invocation(&self, req: &Request<'_>, probe: &Probe) -> anyhow::Result<Invocation> {
        let mut v = vec!["-m".to_string(), req.model.display().to_string()];
        v.extend([
            "-r".to_string(),
            req.reps.to_string(),
            "-o".to_string(),
            output_format(probe).to_string(),
        ]);
        if req.warmup == 0 && probe.flags.no_warmup {
            v.push("--no-warmup".to_string());
        }
        v.extend(offload_flags(req.offload, probe));
        let mut notes = Vec::new();
        if req.prompt != super::Prompt::Builtin || req.n_predict.is_some() {
            notes.push(
                "-p/-f/-n do not apply to llama-bench; pass its own options after --, e.g. -- -p 512 -n 128"
                    .to_string(),
            );
        }
        v.extend(req.extra.iter().cloned());
        Ok(Invocation { argv: v, notes })
    }

    fn takes_prompt(&self) -> bool {
        false
    }

    /// llama-bench repeats (and warms up) by itself: one process.
    fn processes(&self, _warmup: u32, _reps: u32) -> Vec<bool> {
        vec![false]
    }

    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
        match parse_bench("llama-bench stdout", out.stdout) {
            Ok(parsed) => {
                warnings.extend(parsed.warnings.iter().map(|w| format!("stdout {w}")));
                record.bench = parsed.tests;
                // llama-bench names its backends in its output, not in its log.
                if record.build.backend.is_none() {
                    record.build.backend = record.bench.iter().find_map(|t| t.backends.clone());
                }
                !record.bench.is_empty()
            }
            Err(e) => {
                warnings.push(e.to_string());
                false
            }
        }
    }

    fn nothing_read(&self) -> &'static str {
        "printed no llama-bench results on stdout"
    }

    /// A named metric, or a name shaped like a llama-bench key (checked
    /// against the keys once the first results exist).
    fn check_metric(&self, asked: &str) -> Result<(), crate::metrics::UnknownMetric> {
        crate::metrics::check_planned(asked, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::probe::Flags;
    use crate::driver::test_support::{all_flags, blank_record, probe, request};
    use crate::driver::Prompt;

    #[test]
    fn argv_asks_for_jsonl_and_the_reps() {
        let extra = vec!["-p".to_string(), "512".to_string()];
        let mut req = request(&extra);
        req.warmup = 0;
        req.prompt = Prompt::Builtin;
        req.n_predict = None;
        let inv = Bench
            .invocation(&req, &probe(ToolKind::Bench, all_flags()))
            .unwrap();
        assert_eq!(
            inv.argv,
            [
                "-m",
                "/m/model.gguf",
                "-r",
                "3",
                "-o",
                "jsonl",
                "--no-warmup",
                "-p",
                "512"
            ]
        );
        assert!(inv.notes.is_empty());
        let old = Bench
            .invocation(&req, &probe(ToolKind::Bench, Flags::default()))
            .unwrap();
        assert_eq!(old.argv[4..6], ["-o", "md"]);
    }

    #[test]
    fn tokbench_prompt_options_get_a_note() {
        let inv = Bench
            .invocation(&request(&[]), &probe(ToolKind::Bench, all_flags()))
            .unwrap();
        assert!(inv.notes[0].contains("do not apply to llama-bench"));
    }

    #[test]
    fn one_process_whatever_the_reps() {
        assert_eq!(Bench.processes(2, 5), [false]);
    }

    #[test]
    fn metric_names_are_checked_as_llama_bench_keys() {
        assert!(Bench.check_metric("tg64 @ d512").is_ok());
        assert!(Bench.check_metric("eval_tps").is_ok());
        assert!(crate::driver::completion::Completion
            .check_metric("tg64 @ d512")
            .is_err());
        assert!(Bench.check_metric("evl_tps").is_err());
    }

    #[test]
    fn primary_metric_is_the_generation_test_it_printed() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/llama-bench/2026_current_cpu.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let mut r = blank_record();
        assert!(Bench.read(
            Output {
                stdout: &text,
                stderr: ""
            },
            &mut r,
            &mut Vec::new()
        ));
        assert_eq!(
            Bench.primary_metric("eval_tps", &[r.clone()]).unwrap(),
            "tg8"
        );
        assert!(Bench.primary_metric("tg128", &[r]).is_err());
    }

    #[test]
    fn reads_jsonl_tests_and_the_backend() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/llama-bench/2026_current_cpu.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut r, mut w) = (blank_record(), Vec::new());
        assert!(Bench.read(
            Output {
                stdout: &text,
                stderr: ""
            },
            &mut r,
            &mut w
        ));
        let names: Vec<&str> = r.bench.iter().map(|t| t.test.as_str()).collect();
        assert_eq!(names, ["pp32", "tg8"]);
        assert!(r.build.backend.is_some());
        let (mut r, mut w) = (blank_record(), Vec::new());
        assert!(!Bench.read(
            Output {
                stdout: "no table",
                stderr: ""
            },
            &mut r,
            &mut w
        ));
        assert_eq!(w.len(), 1);
    }
}
