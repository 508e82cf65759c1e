//! The llama-cli of 2024-2025 and legacy `main`: the same timing block as
//! llama-completion, but their help offers a conversation mode that starts
//! by default with a chat template, so they are driven with `-no-cnv`.

use super::completion::Completion;
use super::probe::{Probe, ToolKind};
use super::timings::generation_argv;
use super::{Driver, Invocation, Output, Request};
use crate::model::RunRecord;

#[derive(Debug)]
pub struct LegacyCli;

impl Driver for LegacyCli {
    fn tool(&self) -> &'static str {
        "llama-cli / main (timing blocks)"
    }

    fn claims(&self, probe: &Probe) -> bool {
        probe.kind == ToolKind::Completion && probe.flags.no_cnv
    }

    fn invocation(&self, req: &Request<'_>, probe: &Probe) -> anyhow::Result<Invocation> {
        Ok(Invocation {
            argv: generation_argv(req, probe, &["-no-cnv"]),
            notes: Vec::new(),
        })
    }

    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
        Completion.read(out, record, warnings)
    }

    fn nothing_read(&self) -> &'static str {
        Completion.nothing_read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::probe::Flags;
    use crate::driver::test_support::{blank_record, probe, request};

    #[test]
    fn conversation_mode_is_turned_off_before_the_users_args() {
        let extra = vec!["-c".to_string(), "2048".to_string()];
        let p = probe(
            ToolKind::Completion,
            Flags {
                no_cnv: true,
                ..Flags::default()
            },
        );
        let inv = LegacyCli.invocation(&request(&extra), &p).unwrap();
        assert_eq!(inv.argv[6..], ["-no-cnv", "-c", "2048"]);
    }

    #[test]
    fn reads_a_2024_timing_block() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/llama/2024b_total_tokens.txt");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut r, mut w) = (blank_record(), Vec::new());
        assert!(LegacyCli.read(
            Output {
                stdout: "",
                stderr: &text
            },
            &mut r,
            &mut w
        ));
        assert!(r.timings.and_then(|t| t.eval_tps).is_some());
    }
}
