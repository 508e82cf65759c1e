use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = tokbench::cmd::llama_flags::parse();
    match tokbench::cmd::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            tokbench::say!("error: {e:#}");
            ExitCode::from(tokbench::exit::error_code(&e))
        }
    }
}
