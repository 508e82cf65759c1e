//! What the generation tools share (llama-completion, the llama-cli of
//! 2024-2025, legacy `main`, the interactive llama-cli): the argv of one
//! deterministic generation, and the reading of llama.cpp's timing blocks.

use super::probe::{Flags, Probe};
use super::{offload_flags, Output, Prompt, Request, DEFAULT_N_PREDICT, DEFAULT_PROMPT};
use crate::model::{BlockKind, RunRecord, TimingBlock};
use crate::parse::timings::parse_timings;

/// `-m`, the prompt, `-n`, a fixed seed, greedy sampling, no early stop,
/// the offload flags, and the user's own arguments last (they win).
/// `tool_flags` go between tokbench's and the user's.
pub fn generation_argv(req: &Request<'_>, probe: &Probe, tool_flags: &[&str]) -> Vec<String> {
    let f: &Flags = &probe.flags;
    let mut v = vec!["-m".to_string(), req.model.display().to_string()];
    match &req.prompt {
        Prompt::Text(p) => v.extend(["-p".to_string(), p.clone()]),
        Prompt::File(file) => v.extend(["-f".to_string(), file.display().to_string()]),
        Prompt::Builtin => v.extend(["-p".to_string(), DEFAULT_PROMPT.to_string()]),
    }
    v.extend([
        "-n".to_string(),
        req.n_predict.unwrap_or(DEFAULT_N_PREDICT).to_string(),
    ]);
    if f.seed {
        v.extend(["--seed".to_string(), req.seed.to_string()]);
    }
    if f.temp {
        v.extend(["--temp".to_string(), "0".to_string()]);
    }
    if f.ignore_eos {
        v.push("--ignore-eos".to_string());
    }
    v.extend(tool_flags.iter().map(|s| s.to_string()));
    v.extend(offload_flags(req.offload, probe));
    v.extend(req.extra.iter().cloned());
    v
}

/// Reads the timing blocks (stderr, or stdout with `--log-jsonl`) into the
/// record: the primary block's timings, all blocks when there are several.
pub fn read_timings(out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
    let mut parsed = parse_timings(out.stderr);
    if parsed.blocks.is_empty() {
        // --log-jsonl sends the log, timings included, to stdout.
        parsed = parse_timings(out.stdout);
    }
    warnings.extend(parsed.warnings.iter().map(|w| format!("stderr {w}")));
    let Some(main) = primary_block(&parsed.blocks) else {
        return false;
    };
    if main.timings.eval_tps.is_none() && main.timings.eval_ms.is_none() {
        warnings.push(
            "its timing block has no eval (generation) line: no generation figures for this run"
                .to_string(),
        );
    }
    record.timings = Some(main.timings.clone());
    if parsed.blocks.len() > 1 {
        record.blocks = parsed.blocks;
    }
    true
}

/// The block that describes the run: with speculative decoding the target
/// model's, otherwise the last complete one (a run may print an earlier
/// block for a sub-task).
pub fn primary_block(blocks: &[TimingBlock]) -> Option<&TimingBlock> {
    let has_eval = |b: &&TimingBlock| b.timings.eval_tps.is_some() || b.timings.eval_ms.is_some();
    blocks
        .iter()
        .rev()
        .filter(has_eval)
        .find(|b| b.label.as_deref() == Some("target"))
        .or_else(|| {
            blocks
                .iter()
                .rev()
                .find(|b| has_eval(b) && b.kind != BlockKind::ServerSlot)
        })
        .or_else(|| blocks.last())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::test_support::blank_record;

    fn fixture(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/llama")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn speculative_runs_report_the_target_block() {
        let text = fixture("2026_speculative_draft_target.txt");
        let (mut r, mut w) = (blank_record(), Vec::new());
        let out = Output {
            stdout: "",
            stderr: &text,
        };
        assert!(read_timings(out, &mut r, &mut w));
        assert!(r.blocks.len() >= 2, "all blocks kept: {}", r.blocks.len());
        let target = primary_block(&r.blocks).unwrap();
        assert_eq!(target.label.as_deref(), Some("target"));
        assert_eq!(r.timings.as_ref(), Some(&target.timings));
    }

    #[test]
    fn log_jsonl_timings_are_read_from_stdout() {
        let text = fixture("2026_completion_log_jsonl.txt");
        let (mut r, mut w) = (blank_record(), Vec::new());
        assert!(read_timings(
            Output {
                stdout: &text,
                stderr: ""
            },
            &mut r,
            &mut w
        ));
        assert!(r.timings.as_ref().and_then(|t| t.eval_tps).is_some());
    }

    #[test]
    fn a_log_without_timings_reads_nothing() {
        let (mut r, mut w) = (blank_record(), Vec::new());
        let out = Output {
            stdout: "hello",
            stderr: "load_model: done\n",
        };
        assert!(!read_timings(out, &mut r, &mut w));
        assert!(r.timings.is_none());
    }
}
