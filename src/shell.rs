//! What a user installs beside the binary: shell completions and man pages,
//! both generated from the clap definitions in `cli`, so they never drift
//! from the options the binary takes.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// `tokbench completions SHELL`: the completion script on stdout.
pub fn completions(shell: Shell) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tokbench", &mut buf);
    write_stdout(&buf)
        .with_context(|| format!("cannot write the {shell} completions to standard output"))
}

/// `tokbench man`: the tokbench(1) page on stdout; with a directory, one page
/// per command written there (tokbench.1, tokbench-run.1, ...), as
/// `man tokbench-run` expects.
pub fn man(dir: Option<&Path>) -> Result<()> {
    let Some(dir) = dir else {
        let mut buf = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut buf)
            .context("cannot render the man page")?;
        return write_stdout(&buf).context("cannot write the man page to standard output");
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the man page directory '{}'", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write the man pages into '{}'", dir.display()))?;
    crate::say!("wrote the tokbench man pages into '{}'", dir.display());
    Ok(())
}

/// A reader that went away (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
