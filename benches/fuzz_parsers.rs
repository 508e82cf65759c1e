//! Parser fuzzing: every parser gets mutated copies of the recorded fixtures
//! and must return (Ok or a typed error) without panicking.
//!
//! cargo-fuzz needs a nightly toolchain, which this project's CI does not
//! have, so this is a seeded mutation fuzzer on stable: per target it takes
//! its own fixtures as seeds (plus every other fixture for splicing) and
//! applies 1-4 of: byte flips, truncation, a line spliced in from another
//! fixture, random line insertion, line duplication or deletion, digit
//! runs made huge, separators swapped. Panics are caught with
//! `catch_unwind`; each finding is written to
//! `target/fuzz-findings/<target>-<n>.bin` so it can be replayed.
//!
//! Run: `cargo bench --bench fuzz_parsers` (FUZZ_ITERS per target, default
//! 20000; FUZZ_SEED, default 1). Prints `target=<name> executions=<n>
//! recognised=<r> panics=<k>` per target (`recognised`: mutated inputs that
//! still gave a result) and exits 1 if any target panicked.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokbench::detect;
use tokbench::parse::{bench, server, timings, version};
use tokbench::sample::{capture, macmon, nvidia_smi, powermetrics, procfs, vmmap};

/// xorshift64*: reproducible without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Parses one input; true when something was recognised (a rough gauge of
/// how many mutated inputs still reach the parser's deeper code).
type Parser = fn(&[u8]) -> bool;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The targets: a name, the fixture files (under fixtures/, by prefix) that
/// seed it, and the call.
fn targets() -> Vec<(&'static str, &'static str, Parser)> {
    vec![
        ("timings", "llama/", |b| {
            !timings::parse_timings(&text(b)).blocks.is_empty()
        }),
        ("server_log", "llama/2026_server", |b| {
            !timings::parse_timings(&text(b)).blocks.is_empty()
        }),
        ("server_json", "llama/2026_server", |b| {
            !server::parse_server_json(&text(b)).is_empty()
        }),
        ("llama_bench", "llama-bench/", |b| {
            bench::parse_bench("fuzz", &text(b)).is_ok_and(|o| !o.tests.is_empty())
        }),
        ("version", "help/", |b| {
            version::parse_build_info(&text(b)).is_some()
        }),
        ("detect_any", "", |b| detect::parse_any("fuzz", b).is_ok()),
        ("powermetrics_text", "sample/powermetrics_text", |b| {
            powermetrics::parse_text(&text(b)).is_ok_and(|s| !s.is_empty())
        }),
        ("powermetrics_plist", "sample/powermetrics_plist", |b| {
            powermetrics::parse_plist_stream(b).is_ok_and(|s| !s.is_empty())
        }),
        ("vmmap", "sample/vmmap", |b| {
            vmmap::parse_summary(&text(b)).is_ok()
        }),
        ("macmon", "sample/macmon", |b| {
            macmon::parse_capture(&text(b)).is_ok_and(|s| !s.is_empty())
        }),
        ("nvidia_smi", "sample/nvsmi", |b| {
            nvidia_smi::parse_capture(&text(b)).is_ok_and(|s| !s.is_empty())
        }),
        ("proc_status", "sample/proc-status", |b| {
            procfs::parse_capture(&text(b)).is_ok_and(|s| !s.is_empty())
        }),
        ("sample_capture", "sample/", |b| {
            let t = text(b);
            capture::detect(&t).is_some_and(|f| capture::parse(f, &t).is_ok())
        }),
    ]
}

fn fixtures(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["llama", "llama-bench", "llama-cli", "help", "sample"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                let name = format!("{dir}/{}", e.file_name().to_string_lossy());
                out.push((name, bytes));
            }
        }
    }
    out.sort();
    out
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// One mutation of `input`; `all` is every fixture, for splicing.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, all: &[(String, Vec<u8>)]) {
    let other = &all[rng.below(all.len())].1;
    let other_lines = lines(other);
    let mut ls = lines(input);
    match rng.below(9) {
        0 | 1 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(input.len());
                if let Some(b) = input.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            return;
        }
        2 => {
            input.truncate(rng.below(input.len() + 1));
            return;
        }
        3 if !other_lines.is_empty() => {
            let l = other_lines[rng.below(other_lines.len())].clone();
            ls.insert(rng.below(ls.len() + 1), l);
        }
        4 => {
            let junk: Vec<u8> = (0..rng.below(80)).map(|_| rng.next() as u8).collect();
            ls.insert(rng.below(ls.len() + 1), junk);
        }
        5 if !ls.is_empty() => {
            let i = rng.below(ls.len());
            let l = ls[i].clone();
            for _ in 0..=rng.below(3) {
                ls.insert(i, l.clone());
            }
        }
        6 if !ls.is_empty() => {
            ls.remove(rng.below(ls.len()));
        }
        7 => {
            // Numbers that overflow every integer type, or become empty.
            let digits = ["99999999999999999999999999", "-1", "", "1e400", "NaN", "0"];
            let d = digits[rng.below(digits.len())].as_bytes();
            let at = rng.below(input.len() + 1);
            input.splice(at..at, d.iter().copied());
            return;
        }
        _ => {
            let seps = [b' ', b'\t', b',', b'|', b':', b'"', b'\0', b'\r'];
            for b in input.iter_mut() {
                if seps.contains(b) && rng.below(16) == 0 {
                    *b = seps[rng.below(seps.len())];
                }
            }
            return;
        }
    }
    *input = ls.concat();
}

fn main() {
    let iters: u64 = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let all = fixtures(&root.join("fixtures"));
    let findings =
        PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_string()))
            .join("fuzz-findings");
    // Panics are counted, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));
    let mut total_panics = 0;
    for (name, prefix, parse) in targets() {
        let seeds: Vec<&Vec<u8>> = all
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, b)| b)
            .collect();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (mut panics, mut recognised, started) = (0u64, 0u64, Instant::now());
        for _ in 0..iters {
            let mut input = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut input, &all);
            }
            match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
                Ok(true) => recognised += 1,
                Ok(false) => {}
                Err(_) => {
                    panics += 1;
                    let _ = std::fs::create_dir_all(&findings);
                    let _ = std::fs::write(findings.join(format!("{name}-{panics}.bin")), &input);
                }
            }
        }
        println!(
            "target={name} seeds={} executions={iters} recognised={recognised} panics={panics} secs={:.1}",
            seeds.len(),
            started.elapsed().as_secs_f64()
        );
        total_panics += panics;
    }
    if total_panics > 0 {
        eprintln!("{total_panics} panic(s); inputs in {}", findings.display());
        std::process::exit(1);
    }
}
