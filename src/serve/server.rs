//! `--server CMD`: tokbench starts llama-server itself. The command is split
//! by shell-word rules and run without a shell, in its own process group
//! (a terminal's Ctrl-C reaches tokbench only, which then stops it), with
//! `--host 127.0.0.1 --port N` (a free port) and `--metrics` added unless
//! the command names them, its stdout and stderr kept in a log file. Ready
//! is `/health` answering 200; a server that exits first is an error that
//! quotes the end of its log. It is stopped (SIGTERM to the group, SIGKILL
//! after a grace time) when the run ends, fails or is interrupted.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::client::{Endpoint, Pool};
use crate::runner::interrupt::{self, TrackedGroup};

/// Lines of the server log quoted in an error.
const LOG_TAIL: usize = 15;
/// How long a SIGTERM'd server may take before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The argv to run and the port it will listen on.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerArgv {
    pub argv: Vec<String>,
    pub host: String,
    pub port: u16,
}

fn flag_value(argv: &[String], names: &[&str]) -> Option<String> {
    argv.iter().enumerate().find_map(|(i, a)| {
        names.iter().find_map(|n| {
            if a == n {
                argv.get(i + 1).cloned()
            } else {
                a.strip_prefix(&format!("{n}=")).map(str::to_string)
            }
        })
    })
}

/// Splits `cmd` and adds what tokbench needs; `free_port` is used when the
/// command names none.
pub fn plan_argv(cmd: &str, free_port: u16) -> Result<ServerArgv> {
    let mut argv = shlex::split(cmd)
        .filter(|a| !a.is_empty())
        .with_context(|| {
            format!("--server '{cmd}' cannot be split into words (an unclosed quote?)")
        })?;
    let port = match flag_value(&argv, &["--port"]) {
        Some(p) => p
            .parse()
            .with_context(|| format!("--server '{cmd}': '--port {p}' is not a port number"))?,
        None => {
            argv.extend(["--port".to_string(), free_port.to_string()]);
            free_port
        }
    };
    let host = match flag_value(&argv, &["--host"]) {
        Some(h) if h == "0.0.0.0" || h == "::" => "127.0.0.1".to_string(),
        Some(h) => h,
        None => {
            argv.extend(["--host".to_string(), "127.0.0.1".to_string()]);
            "127.0.0.1".to_string()
        }
    };
    if !argv.iter().any(|a| a == "--metrics") {
        argv.push("--metrics".to_string());
    }
    Ok(ServerArgv { argv, host, port })
}

/// A free TCP port on 127.0.0.1 (bound, read and released).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("cannot find a free port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

/// The last `n` lines of a log file.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A llama-server started by tokbench; stopped when dropped.
pub struct Server {
    child: Child,
    pub argv: Vec<String>,
    pub endpoint: Endpoint,
    pub log: PathBuf,
    _group: TrackedGroup,
}

impl Server {
    /// Starts the server and waits until `/health` answers 200.
    pub fn start(
        cmd: &str,
        log: &Path,
        ready_within: Duration,
        headers: &[String],
    ) -> Result<Server> {
        let mut server = Server::spawn(cmd, log, headers)?;
        server.wait_ready(ready_within)?;
        Ok(server)
    }

    /// Starts the server without waiting for it ([`Server::wait_ready`]).
    pub fn spawn(cmd: &str, log: &Path, headers: &[String]) -> Result<Server> {
        let plan = plan_argv(cmd, free_port()?)?;
        let out = File::create(log)
            .with_context(|| format!("cannot create server log '{}'", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(&plan.argv[0])
            .args(&plan.argv[1..])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start server '{}'", plan.argv[0]))?;
        let group = interrupt::track_group(child.id());
        let url = format!("http://{}:{}", plan.host, plan.port);
        let endpoint = Endpoint::parse(&url, headers)?;
        Ok(Server {
            child,
            argv: plan.argv,
            endpoint,
            log: log.to_path_buf(),
            _group: group,
        })
    }

    /// The server's process id (its process group's leader).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the server has exited, quoting its log.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Ok(Some(status)) = self.child.try_wait() {
            anyhow::bail!(
                "server '{}' exited ({status}); the last lines of its log '{}':\n{}",
                self.argv[0],
                self.log.display(),
                log_tail(&self.log, LOG_TAIL)
            );
        }
        Ok(())
    }

    /// Waits until `/health` answers 200; an error if the server exits
    /// first or `within` runs out, quoting its log.
    pub fn wait_ready(&mut self, within: Duration) -> Result<()> {
        let endpoint = self.endpoint.clone();
        let timed_out = wait_healthy(&endpoint, within, Some(&mut || self.check_alive()))?;
        if timed_out {
            anyhow::bail!(
                "server '{}' was not ready (/health 200) within {}; the last lines of its log '{}':\n{}",
                self.argv[0],
                humantime::format_duration(within),
                self.log.display(),
                log_tail(&self.log, LOG_TAIL)
            );
        }
        Ok(())
    }

    /// SIGTERM to the group, SIGKILL after [`STOP_GRACE`].
    pub fn stop(&mut self) {
        use nix::sys::signal::{killpg, Signal};
        let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = killpg(pgid, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < STOP_GRACE {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `/health` until it answers 200 (a loading llama-server answers
/// 503); `alive` is asked between polls. True when `within` ran out.
/// `alive` None: a server tokbench did not start, for which a refused
/// connection is an error at once rather than a server still starting.
pub fn wait_healthy(
    endpoint: &Endpoint,
    within: Duration,
    alive: Option<&mut dyn FnMut() -> Result<()>>,
) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = Pool::new(endpoint.clone());
    let start = Instant::now();
    let mut alive = alive;
    loop {
        if let Some(f) = alive.as_mut() {
            f()?;
        }
        if interrupt::received().is_some() {
            anyhow::bail!("interrupted while waiting for the server to be ready");
        }
        match rt.block_on(pool.text("GET", "/health", None)) {
            Ok((200, _)) => return Ok(false),
            Err(e) if alive.is_none() => return Err(e.into()),
            _ => {}
        }
        if start.elapsed() > within {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the server says about itself (`/props`, `/v1/models`), kept in the results.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerInfo {
    pub url: String,
    pub total_slots: Option<u64>,
    pub build_info: Option<String>,
    pub model_path: Option<String>,
    pub n_ctx: Option<u64>,
    /// `/v1/models` `data[0]`: the OpenAI model id and `meta` (context, params).
    pub model: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

impl ServerInfo {
    pub fn model_id(&self) -> Option<String> {
        self.model.as_ref()?.get("id")?.as_str().map(str::to_string)
    }
}

/// Reads `/props` and `/v1/models`; what is missing stays None.
pub fn info(endpoint: &Endpoint) -> Result<ServerInfo> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = Pool::new(endpoint.clone());
    let props = rt.block_on(pool.json("GET", "/props", None)).ok();
    let models = rt.block_on(pool.json("GET", "/v1/models", None)).ok();
    let p = props.unwrap_or_default();
    Ok(ServerInfo {
        url: endpoint.url(),
        total_slots: p["total_slots"].as_u64(),
        build_info: p["build_info"].as_str().map(str::to_string),
        model_path: p["model_path"].as_str().map(str::to_string),
        n_ctx: p["default_generation_settings"]["n_ctx"].as_u64(),
        model: models.and_then(|m| m["data"].get(0).cloned()),
        argv: None,
        log: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_gets_host_port_and_metrics() {
        let a = plan_argv("llama-server -m 'my model.gguf' -np 4", 5555).unwrap();
        assert_eq!(
            a.argv,
            [
                "llama-server",
                "-m",
                "my model.gguf",
                "-np",
                "4",
                "--port",
                "5555",
                "--host",
                "127.0.0.1",
                "--metrics"
            ]
        );
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 5555));
    }

    #[test]
    fn named_port_and_host_are_kept() {
        let a = plan_argv("llama-server --port=8081 --host 0.0.0.0 --metrics", 1).unwrap();
        assert_eq!(
            a.argv,
            [
                "llama-server",
                "--port=8081",
                "--host",
                "0.0.0.0",
                "--metrics"
            ]
        );
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 8081));
        assert!(plan_argv("llama-server --port x", 1).is_err());
        assert!(plan_argv("llama-server -m 'open", 1).is_err());
        assert!(plan_argv("   ", 1).is_err());
    }

    #[test]
    fn early_exit_quotes_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let cmd = "sh -c 'echo loading; echo failed to load model >&2; exit 3' --";
        let err = Server::start(cmd, &log, Duration::from_secs(10), &[])
            .err()
            .unwrap();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("exited") && msg.contains("failed to load model"),
            "{msg}"
        );
    }
}
