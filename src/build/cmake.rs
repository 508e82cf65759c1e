//! Running CMake: the configure arguments for a backend, the compiler's
//! identity (part of a build's key), and a configure or build step whose
//! whole output goes to the build's log while its percentage is shown.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use super::BuildBackend;
use crate::sample::probe::which;

/// Lines of a failed step's output shown in its error.
pub const TAIL_LINES: usize = 25;

/// The backend `auto` stands for here: Metal on macOS, CUDA when `nvcc` is
/// found, else the CPU.
pub fn resolve_backend(b: BuildBackend) -> BuildBackend {
    match b {
        BuildBackend::Auto if cfg!(target_os = "macos") => BuildBackend::Metal,
        BuildBackend::Auto if nvcc().is_some() => BuildBackend::Cuda,
        BuildBackend::Auto => BuildBackend::Cpu,
        other => other,
    }
}

fn nvcc() -> Option<PathBuf> {
    which("nvcc").or_else(|| {
        let p = PathBuf::from("/usr/local/cuda/bin/nvcc");
        p.is_file().then_some(p)
    })
}

pub fn backend_name(b: BuildBackend) -> &'static str {
    match b {
        BuildBackend::Auto => "auto",
        BuildBackend::Cpu => "cpu",
        BuildBackend::Metal => "metal",
        BuildBackend::Cuda => "cuda",
    }
}

/// Configure arguments: release, tests on (so that `test-backend-ops` never
/// needs a second configuration), no libcurl, the backend's switches, then
/// the user's own, which come last and so win.
pub fn configure_args(backend: BuildBackend, user: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "-DCMAKE_BUILD_TYPE=Release",
        "-DLLAMA_BUILD_TESTS=ON",
        "-DLLAMA_CURL=OFF",
    ]
    .map(String::from)
    .to_vec();
    let switches: &[&str] = match backend {
        BuildBackend::Cuda => &["-DGGML_CUDA=ON", "-DGGML_METAL=OFF"],
        BuildBackend::Metal => &["-DGGML_METAL=ON"],
        BuildBackend::Cpu | BuildBackend::Auto => &["-DGGML_METAL=OFF", "-DGGML_CUDA=OFF"],
    };
    args.extend(switches.iter().map(|s| s.to_string()));
    args.extend(user.iter().cloned());
    args
}

/// The compiler CMake will pick (`$CXX`, else `c++`), by its `--version`
/// line; with CUDA, nvcc's release line too.
pub fn compiler_identity(backend: BuildBackend) -> String {
    let cxx = std::env::var("CXX")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "c++".into());
    let mut id = first_line_of(Path::new(&cxx), |t| t.lines().next().map(str::to_string))
        .unwrap_or_else(|| format!("{cxx} (version unknown)"));
    if backend == BuildBackend::Cuda {
        let release = nvcc().and_then(|p| {
            first_line_of(&p, |t| {
                t.lines()
                    .rev()
                    .find(|l| l.contains("release"))
                    .map(str::to_string)
            })
        });
        if let Some(r) = release {
            id.push_str(" + ");
            id.push_str(&r);
        }
    }
    id
}

fn first_line_of(program: &Path, pick: impl Fn(&str) -> Option<String>) -> Option<String> {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    pick(&String::from_utf8_lossy(&out.stdout)).map(|l| l.trim().to_string())
}

/// How a step failed: its exit status (or why it could not start) and the
/// last lines of its output.
#[derive(Debug)]
pub struct StepFailure {
    pub status: String,
    pub tail: String,
}

/// Runs `cmake args...` (`cmake`: the program), appending its stdout and stderr to `log` and
/// calling `on_line` with each line as it comes.
pub fn run_step(
    cmake: &Path,
    args: &[String],
    log: &Path,
    mut on_line: impl FnMut(&str),
) -> Result<(), StepFailure> {
    let fail = |status: String, tail: String| StepFailure { status, tail };
    let mut file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| fail(format!("cannot open the log: {e}"), String::new()))?;
    let _ = writeln!(file, "$ cmake {}", crate::runner::shell_words(args));
    let mut child = Command::new(cmake)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(
                format!(
                    "cannot start cmake ({e}): install cmake (3.14 or newer) and put it on PATH"
                ),
                String::new(),
            )
        })?;
    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|r| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    for line in rx {
        let _ = writeln!(file, "{line}");
        on_line(&line);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child
        .wait()
        .map_err(|e| fail(e.to_string(), String::new()))?;
    let _ = writeln!(file, "# {status}");
    if status.success() {
        return Ok(());
    }
    Err(fail(status.to_string(), Vec::from(tail).join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_arguments_come_last() {
        let user = vec!["-DLLAMA_BUILD_TESTS=OFF".to_string()];
        let args = configure_args(BuildBackend::Cuda, &user);
        assert_eq!(args[0], "-DCMAKE_BUILD_TYPE=Release");
        assert!(args.contains(&"-DGGML_CUDA=ON".to_string()));
        assert_eq!(args.last().unwrap(), "-DLLAMA_BUILD_TESTS=OFF");
        let cpu = configure_args(BuildBackend::Cpu, &[]);
        assert!(cpu.contains(&"-DGGML_METAL=OFF".to_string()));
        assert!(cpu.contains(&"-DLLAMA_BUILD_TESTS=ON".to_string()));
    }

    #[test]
    fn auto_resolves_to_a_real_backend() {
        assert_ne!(resolve_backend(BuildBackend::Auto), BuildBackend::Auto);
        assert_eq!(resolve_backend(BuildBackend::Cpu), BuildBackend::Cpu);
    }
}
