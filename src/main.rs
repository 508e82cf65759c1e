use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tokbench::cli::Cli::parse();
    match tokbench::app::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
