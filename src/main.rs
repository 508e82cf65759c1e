use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tokbench::cli::Cli::parse();
    match tokbench::app::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            tokbench::say!("error: {e:#}");
            let usage = e.downcast_ref::<tokbench::app::UsageError>().is_some();
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}
