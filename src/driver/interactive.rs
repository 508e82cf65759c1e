//! The interactive llama-cli of late 2025 on: it prints only a
//! `[ Prompt: x t/s | Generation: y t/s ]` footer (on stdout, also when
//! stdout is not a terminal) and is driven with `--single-turn`.

use std::path::Path;

use super::completion::Completion;
use super::probe::{Probe, ToolKind};
use super::timings::generation_argv;
use super::{Driver, Invocation, Output, Request};
use crate::model::RunRecord;

#[derive(Debug)]
pub struct InteractiveCli;

/// llama-completion beside the binary, or from the same build.
fn completion_hint(bin: &Path) -> String {
    let sibling = bin.with_file_name("llama-completion");
    if sibling.exists() {
        format!("'{}', built alongside it", sibling.display())
    } else {
        "llama-completion from the same build".to_string()
    }
}

fn unattended_error(bin: &Path) -> String {
    format!(
        "'{}' is an interactive llama-cli without --single-turn, so it cannot be run unattended; \
         benchmark {} instead",
        bin.display(),
        completion_hint(bin)
    )
}

fn footer_note(bin: &Path) -> String {
    format!(
        "'{}' is the interactive llama-cli: it prints only '[ Prompt: x t/s | Generation: y t/s ]', \
         rounded to 0.1 t/s, with no load time, token counts or per-phase times, and it wraps the \
         prompt in the chat template. For full timings benchmark {}",
        bin.display(),
        completion_hint(bin)
    )
}

impl Driver for InteractiveCli {
    fn tool(&self) -> &'static str {
        "llama-cli (interactive)"
    }

    fn claims(&self, probe: &Probe) -> bool {
        probe.kind == ToolKind::InteractiveCli
    }

    fn invocation(&self, req: &Request<'_>, probe: &Probe) -> anyhow::Result<Invocation> {
        if !probe.flags.single_turn {
            anyhow::bail!(unattended_error(req.bin));
        }
        let mut own = vec!["-no-cnv"];
        own.retain(|_| probe.flags.no_cnv);
        // One turn, then exit; --simple-io drops the spinner drawn with backspaces.
        own.push("--single-turn");
        if probe.flags.simple_io {
            own.push("--simple-io");
        }
        Ok(Invocation {
            argv: generation_argv(req, probe, &own),
            notes: vec![footer_note(req.bin)],
        })
    }

    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
        // The footer is one more timing format of the same reader.
        Completion.read(out, record, warnings)
    }

    fn nothing_read(&self) -> &'static str {
        "printed no '[ Prompt: ... | Generation: ... ]' footer"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::probe::Flags;
    use crate::driver::test_support::{blank_record, probe, request};

    #[test]
    fn single_turn_and_simple_io_and_a_note_about_the_footer() {
        let p = probe(
            ToolKind::InteractiveCli,
            Flags {
                single_turn: true,
                simple_io: true,
                ..Flags::default()
            },
        );
        let inv = InteractiveCli.invocation(&request(&[]), &p).unwrap();
        assert_eq!(inv.argv[6..], ["--single-turn", "--simple-io"]);
        assert!(
            inv.notes[0].contains("rounded to 0.1 t/s"),
            "{:?}",
            inv.notes
        );
    }

    #[test]
    fn without_single_turn_it_cannot_run_unattended() {
        let p = probe(ToolKind::InteractiveCli, Flags::default());
        let e = InteractiveCli.invocation(&request(&[]), &p).unwrap_err();
        assert!(e.to_string().contains("cannot be run unattended"), "{e}");
    }

    #[test]
    fn reads_the_footer() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/llama/2026_cli_footer.txt");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut r, mut w) = (blank_record(), Vec::new());
        assert!(InteractiveCli.read(
            Output {
                stdout: &text,
                stderr: ""
            },
            &mut r,
            &mut w
        ));
        assert!(r.timings.and_then(|t| t.eval_tps).is_some());
    }
}
