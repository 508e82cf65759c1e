use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tokbench::cli::Cli::parse();
    match tokbench::cmd::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            tokbench::say!("error: {e:#}");
            ExitCode::from(tokbench::exit::error_code(&e))
        }
    }
}
