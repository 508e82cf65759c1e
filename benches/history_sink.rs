//! The bookkeeping cost of one run: what the history sink (SQLite, WAL,
//! `synchronous=NORMAL`, one transaction per run) and the JSONL sink
//! (append + fsync, the durable record) add per finished run.
//!
//! Each iteration hands one recorded H200 run (fixtures/results) to the
//! engine's sinks, as the session loop does after every run, with a fresh
//! `started_at` so the history stores it as a new run. Prints the median
//! and p90 per run of each sink.
//!
//! Run: `cargo bench --bench history_sink` (HISTORY_BENCH_RUNS, default 500).
//! Target: the history sink at most 1 ms per run (median).

use std::time::Instant;

use tokbench::engine::sink::{HistorySink, JsonlSink, Sink};
use tokbench::model::RunRecord;
use tokbench::store::history::History;
use tokbench::store::jsonl::JsonlWriter;

fn record() -> Result<RunRecord, Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/results/h200_completion_cuda.jsonl"
    );
    let text = std::fs::read_to_string(path)?;
    let line = text
        .lines()
        .find(|l| l.contains("\"warmup\":false"))
        .ok_or("no counted run")?;
    Ok(serde_json::from_str(line)?)
}

/// Milliseconds per run of `sink` over `n` runs: (median, p90).
fn per_run(
    sink: &mut dyn Sink,
    base: &RunRecord,
    n: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let mut r = base.clone();
        r.seq = i as u32;
        r.started_at = format!("2026-12-01T00:{:02}:{:02}.{i:06}Z", i / 60 % 60, i % 60);
        let t = Instant::now();
        sink.finished(&r)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[n / 2], times[n * 9 / 10]))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without --bench (`cargo test --all-targets`) a short smoke run.
    let long = std::env::args().any(|a| a == "--bench");
    let n: usize = match long {
        true => std::env::var("HISTORY_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500),
        false => 20,
    };
    let base = record()?;
    let dir = tempfile::tempdir()?;
    // Before: SQLite's default for WAL (synchronous=FULL: a sync per commit).
    let full = History::open(&dir.path().join("full.db"))?;
    full.conn().execute_batch("PRAGMA synchronous=FULL")?;
    let (f50, f90) = per_run(&mut HistorySink::new(full), &base, n)?;
    // Now: what History::open sets (synchronous=NORMAL).
    let mut history = HistorySink::new(History::open(&dir.path().join("history.db"))?);
    let mut jsonl = JsonlSink(JsonlWriter::open(&dir.path().join("runs.jsonl"))?);
    let (h50, h90) = per_run(&mut history, &base, n)?;
    let (j50, j90) = per_run(&mut jsonl, &base, n)?;
    println!("runs={n} history_sync_full_ms_median={f50:.3} p90={f90:.3}");
    println!("runs={n} history_ms_per_run_median={h50:.3} history_ms_p90={h90:.3} jsonl_ms_per_run_median={j50:.3} jsonl_ms_p90={j90:.3}");
    let stored: i64 = History::open(&dir.path().join("history.db"))?
        .conn()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))?;
    if stored != n as i64 {
        return Err(format!("the history holds {stored} runs, not {n}").into());
    }
    if long {
        println!(
            "target history <= 1 ms per run: {}",
            if h50 <= 1.0 { "met" } else { "NOT met" }
        );
    }
    Ok(())
}
