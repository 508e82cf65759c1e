//! A stand-in llama-server executable, used only by tokbench's tests: the
//! library's in-process stand-in (`tokbench::serve::standin`) served on the
//! `--port` tokbench adds to a `--server` command, so a test can start,
//! stop and watch a real server process. `--standin SPEC` plants its
//! timings (as `tokbench serve --standin SPEC`); `--pid-file FILE` appends
//! its process id to FILE; every other argument (`-m`, `--host`,
//! `--metrics`) is accepted and ignored. It serves until it is killed
//! (SIGTERM, as tokbench stops a server).

use tokbench::serve::standin::{Standin, StandinConfig};

fn value(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == name {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{name}=")).map(str::to_string)
        }
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = value(&args, "--port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let spec = value(&args, "--standin").unwrap_or_default();
    let cfg: StandinConfig = match spec.parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tokbench-standin-server: {e}");
            std::process::exit(2);
        }
    };
    if let Some(f) = value(&args, "--pid-file") {
        use std::io::Write;
        let line = format!("{}\n", std::process::id());
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&f)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = appended {
            eprintln!("tokbench-standin-server: cannot write '{f}': {e}");
            std::process::exit(1);
        }
    }
    let server = match Standin::start_on(cfg, port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tokbench-standin-server: cannot listen on port {port}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("tokbench-standin-server: listening on {}", server.url());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
