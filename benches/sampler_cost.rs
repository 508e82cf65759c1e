//! Sampler cost: tokbench's own CPU time while a session samples at 100 ms.
//!
//! Stand-in `powermetrics`, `nvidia-smi`, `macmon`, `vmmap` and `sudo`
//! scripts (replaying the fixtures) go first on PATH, a `sleep` process is
//! the "benchmarked" process, and a session runs every source on it for
//! `SAMPLER_BENCH_SECS` (default 10) seconds. tokbench's cost is
//! getrusage(RUSAGE_SELF) (all of its threads); the stand-ins' own cost is
//! getrusage(RUSAGE_CHILDREN) (the reaped subprocesses), reported apart.
//!
//! Run: `cargo bench --bench sampler_cost`. Target: under 1 % of one core.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};
use tokbench::sample::{SamplerConfig, Session, SourceKind};

const PREAMBLE: &str = r#"#!/bin/bash
sleep_ms() { sleep "$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))"; }
interval=100; prev=""
for a in "$@"; do case "$prev" in -i|-lms) interval="$a" ;; esac; prev="$a"; done
"#;

const TOOLS: [(&str, &str); 5] = [
    (
        "powermetrics",
        "while true; do for f in \"$FIX\"/pm-*.xml; do sleep_ms \"$interval\"; cat \"$f\"; printf '\\0'; done; done\n",
    ),
    (
        "nvidia-smi",
        "case \"$1\" in --query-compute-apps=*) while true; do sleep_ms \"$interval\"; done ;; esac\n\
         while true; do echo \"$(date '+%Y/%m/%d %H:%M:%S.%3N'), 0, NVIDIA H200, 95, 1024, 300.00, 1980, 55, 310.00\"; sleep_ms \"$interval\"; done\n",
    ),
    (
        "macmon",
        "while true; do while IFS= read -r l; do sleep_ms \"$interval\"; echo \"$l\"; done < \"$FIX/macmon_pipe.jsonl\"; done\n",
    ),
    ("vmmap", "cat \"$FIX/vmmap_summary_llama.txt\"\n"),
    ("sudo", "shift; exec \"$@\"\n"),
];

fn cpu_secs(who: UsageWho) -> f64 {
    let Ok(u) = getrusage(who) else {
        return f64::NAN;
    };
    let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    t(u.user_time()) + t(u.system_time())
}

fn install_tools(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (name, body) in TOOLS {
        let p = dir.join(name);
        std::fs::write(&p, format!("{PREAMBLE}{body}"))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without --bench (`cargo test --all-targets`) a 2 s smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let secs: u64 = std::env::var("SAMPLER_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10 } else { 2 });
    let dir = tempfile::tempdir()?;
    install_tools(dir.path())?;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let plists = std::fs::read(fixtures.join("powermetrics_plist_two.xml"))?;
    for (i, chunk) in plists.split(|&b| b == 0).enumerate() {
        std::fs::write(dir.path().join(format!("pm-{i}.xml")), chunk)?;
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Single-threaded here: nothing else reads the environment yet.
    std::env::set_var("PATH", path);
    std::env::set_var("FIX", dir.path());
    for f in ["macmon_pipe.jsonl", "vmmap_summary_llama.txt"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f))?;
    }
    let mut target = std::process::Command::new("sleep")
        .arg((secs + 30).to_string())
        .spawn()?;
    let cfg = SamplerConfig {
        sources: vec![
            SourceKind::Powermetrics,
            SourceKind::NvidiaSmi,
            SourceKind::Macmon,
            SourceKind::Vmmap,
            SourceKind::Proc,
        ],
        interval: Duration::from_millis(100),
        nvidia_smi_instant: true,
        ..Default::default()
    };
    let (self0, child0) = (
        cpu_secs(UsageWho::RUSAGE_SELF),
        cpu_secs(UsageWho::RUSAGE_CHILDREN),
    );
    let started = Instant::now();
    let session = Session::start(&cfg, target.id()).ok_or("no session")?;
    std::thread::sleep(Duration::from_secs(secs));
    let sampling = session.stop();
    let wall = started.elapsed().as_secs_f64();
    let own = cpu_secs(UsageWho::RUSAGE_SELF) - self0;
    let tools = cpu_secs(UsageWho::RUSAGE_CHILDREN) - child0;
    target.kill()?;
    target.wait()?;
    for s in &sampling.sources {
        println!("source {s} samples={}", s.samples);
    }
    println!(
        "samples={} wall_s={wall:.2} interval_ms=100",
        sampling.samples.len()
    );
    println!(
        "tokbench_cpu_s={own:.4} tokbench_cpu_pct_of_one_core={:.3}",
        own / wall * 100.0
    );
    println!(
        "sampled_tools_cpu_s={tools:.4} sampled_tools_cpu_pct_of_one_core={:.3}",
        tools / wall * 100.0
    );
    Ok(())
}
