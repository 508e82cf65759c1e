//! `tokbench parse`: read llama.cpp output or sampler captures from files
//! or stdin and print what was found.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::ParseArgs;
use crate::detect::parse_any;
use crate::exit::Outcome;

use super::print_out;

fn read_input(path: &PathBuf) -> Result<(String, Vec<u8>)> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok(("<stdin>".to_string(), buf));
    }
    let shown = path.display().to_string();
    if path.is_dir() {
        anyhow::bail!("'{shown}' is a directory: pass the files inside it");
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read '{shown}'"))?;
    Ok((shown, bytes))
}

pub fn run(args: &ParseArgs) -> Result<Outcome> {
    let mut files = args.files.clone();
    if files.is_empty() {
        if std::io::stdin().is_terminal() {
            anyhow::bail!(
                "no input: pass files to read, or pipe llama.cpp output into 'tokbench parse -'"
            );
        }
        files.push(PathBuf::from("-"));
    }
    let mut parsed = Vec::new();
    let mut failed = false;
    for f in &files {
        let result = read_input(f).and_then(|(name, bytes)| Ok(parse_any(&name, &bytes)?));
        match result {
            Ok(p) => parsed.push(p),
            Err(e) => {
                crate::say!("error: {e:#}");
                failed = true;
            }
        }
    }
    print_out(&crate::report::parsed::render(&parsed, args.out.format()))?;
    Ok(if failed { Outcome::Failed } else { Outcome::Ok })
}
