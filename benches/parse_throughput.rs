//! Parsing cost must grow linearly with the input: a long-running
//! llama-server log is read whole by `tokbench parse`. This builds llama-server
//! logs of 10, 50 and 100 MB from the recorded CPU server log (its lines
//! repeated with rising task ids, slot ids and varied figures) and times
//! `parse_timings` and `parse_any` (what `tokbench parse FILE` runs) on each.
//! MB/s that stays roughly constant is linear growth; MB/s falling with size
//! would be a quadratic part.
//!
//! Run: `cargo bench --bench parse_throughput` (PARSE_BENCH_SIZES_MB,
//! default "10,50,100"; PARSE_BENCH_REPS, best of, default 3;
//! PARSE_BENCH_SHAPE=one-line for one line without a newline instead).

use std::time::Instant;

use tokbench::detect::parse_any;
use tokbench::parse::timings::parse_timings;

/// The recorded log with its task ids and figures varied per copy `i`.
fn vary(template: &str, i: usize) -> String {
    let task = format!("task {}", i + 1);
    let slot = format!("id  {}", i % 4);
    template
        .replace("task 0", &task)
        .replace("id  3", &slot)
        .replace("47.16 ms", &format!("{}.{:02} ms", 40 + i % 17, i % 100))
        .replace("353.19 ms", &format!("{}.{:02} ms", 300 + i % 97, i % 100))
}

/// A parser under test; returns the timing blocks it found.
type Parse<'a> = &'a dyn Fn(&str) -> usize;

fn server_log(template: &str, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + template.len());
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&vary(template, i));
        i += 1;
    }
    out
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/llama/2026_server_log_cpu.txt"
    );
    let template = std::fs::read_to_string(path).expect("the server log fixture");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // binary without it, as a smoke test: one small size, one repetition.
    let full = std::env::args().any(|a| a == "--bench");
    let default_sizes = if full { "10,50,100" } else { "1" };
    let sizes: Vec<usize> = std::env::var("PARSE_BENCH_SIZES_MB")
        .unwrap_or_else(|_| default_sizes.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = std::env::var("PARSE_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let shape = std::env::var("PARSE_BENCH_SHAPE").unwrap_or_default();
    for mb in sizes {
        let log = if shape == "one-line" {
            "x".repeat(mb * 1_000_000)
        } else {
            server_log(&template, mb * 1_000_000)
        };
        let timed = |parse: Parse| {
            let mut best = f64::INFINITY;
            let mut blocks = 0;
            for _ in 0..reps.max(1) {
                let t = Instant::now();
                blocks = parse(&log);
                best = best.min(t.elapsed().as_secs_f64());
            }
            (best, blocks)
        };
        let parsers: [(&str, Parse); 2] = [
            ("parse_timings", &|s| parse_timings(s).blocks.len()),
            // What `tokbench parse FILE` runs: format detection, then the parser.
            ("parse_any", &|s| {
                parse_any("bench", s.as_bytes()).map_or(0, |p| p.blocks.len())
            }),
        ];
        for (name, parse) in parsers {
            let (best, blocks) = timed(parse);
            println!(
                "fn={name} size_mb={mb} bytes={} blocks={blocks} best_secs={best:.3} mb_per_s={:.1}",
                log.len(),
                log.len() as f64 / 1e6 / best
            );
        }
    }
}
