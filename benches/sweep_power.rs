//! Error rates and cost of `tokbench sweep`'s racing, measured by simulation.
//!
//! `cargo bench --bench sweep_power -- --trials N` (default 200; without
//! `--bench`, as under `cargo test --all-targets`, a 5-trial smoke run)
//! drives the library's own race (`tokbench::sweep::simulate`, the logic the
//! command runs) over simulated sweeps of 8 cells: rate x (1 - drift x t/T)
//! x (1 + noise x N(0,1)) at 1% noise, threshold 1%. The cells' true rates:
//! 100 (the true best), 99.6 (within the noise band: truly tied), 98 (2%
//! worse: just beyond the band), 97, 95, 92, 90, 80. The last line is the
//! summary: `miss_best=X worse_called_tied=Y runs_saved=Z
//! drift_miss_best=U drift_false_elim=V`, where
//! * miss_best: the reported best group (best and tied) lacks the true best;
//! * worse_called_tied: a cell worse than the true best by more than the
//!   threshold is in the reported best group;
//! * runs_saved: 1 - runs made / runs of every cell in each round the race
//!   took (the same rounds without elimination);
//! * drift_*: the same grid with a 20% loss over a full design, and equal
//!   cells under that drift: the share of sweeps that eliminated any of them.
//!
//! Measured (`--trials 200`): see the README's sweep section.

use std::time::Instant;
use tokbench::sweep::race::{RaceConfig, Status};
use tokbench::sweep::simulate::{run, Scenario, SimResult};

const RATES: [f64; 8] = [100.0, 99.6, 98.0, 97.0, 95.0, 92.0, 90.0, 80.0];
const THRESHOLD: f64 = 0.01;

fn cfg(seed: u64) -> RaceConfig {
    RaceConfig {
        threshold: THRESHOLD,
        seed,
        max_time: None,
        ..RaceConfig::default()
    }
}

fn trials_arg(full: bool) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--trials")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if full { 200 } else { 5 })
}

/// Figures over `trials` sweeps of one scenario.
struct Figures {
    miss_best: f64,
    worse_tied: f64,
    any_eliminated: f64,
    saved: f64,
    saved_vs_max: f64,
    median_rounds: usize,
}

fn figures(s: &Scenario, trials: u64, seed: u64) -> Figures {
    let results: Vec<SimResult> = (0..trials)
        .map(|t| run(s, cfg(seed + t), seed ^ (t << 20)))
        .collect();
    let best = (0..s.rates.len())
        .max_by(|&a, &b| s.rates[a].total_cmp(&s.rates[b]))
        .unwrap_or(0);
    let top = s.rates[best];
    let share = |hit: &dyn Fn(&SimResult) -> bool| {
        results.iter().filter(|r| hit(r)).count() as f64 / trials as f64
    };
    let worse = |c: usize| s.rates[c] < top / (1.0 + THRESHOLD);
    let (runs, full, rounds): (usize, usize, Vec<usize>) =
        results.iter().fold((0, 0, Vec::new()), |(a, b, mut r), x| {
            r.push(x.rounds);
            (a + x.runs, b + x.rounds * s.rates.len(), r)
        });
    let max = cfg(0).max_rounds * s.rates.len() * trials as usize;
    let mut rounds = rounds;
    rounds.sort_unstable();
    Figures {
        miss_best: share(&|r| !r.best_group().contains(&best)),
        worse_tied: share(&|r| r.best_group().iter().any(|&c| worse(c))),
        any_eliminated: share(&|r| {
            r.statuses
                .iter()
                .any(|s| matches!(s, Status::Eliminated { .. }))
        }),
        saved: 1.0 - runs as f64 / full.max(1) as f64,
        saved_vs_max: 1.0 - runs as f64 / max.max(1) as f64,
        median_rounds: rounds.get(rounds.len() / 2).copied().unwrap_or(0),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let trials = trials_arg(full);
    let start = Instant::now();
    println!(
        "sweep_power: {trials} trials per figure; 8 cells {RATES:?}; noise 1%; threshold 1%; alpha 0.05"
    );
    let grid = Scenario {
        rates: RATES.to_vec(),
        noise: 0.01,
        drift: 0.0,
    };
    let g = figures(&grid, trials, 1_000_000);
    println!(
        "grid: best group misses the true best {:.3}; a cell >1% worse called tied {:.3}; \
         median {} rounds; runs saved {:.3} vs the same rounds, {:.3} vs --max-rounds for all",
        g.miss_best, g.worse_tied, g.median_rounds, g.saved, g.saved_vs_max
    );
    let drifting = Scenario {
        drift: 0.2,
        ..grid.clone()
    };
    let d = figures(&drifting, trials, 2_000_000);
    println!(
        "grid with 20% drift: misses the true best {:.3}; worse called tied {:.3}; runs saved {:.3}",
        d.miss_best, d.worse_tied, d.saved
    );
    let equal = Scenario {
        rates: vec![100.0; 4],
        noise: 0.01,
        drift: 0.2,
    };
    let e = figures(&equal, trials, 3_000_000);
    println!(
        "4 equal cells with 20% drift: a false elimination in {:.3} of sweeps (median {} rounds)",
        e.any_eliminated, e.median_rounds
    );
    println!("elapsed: {:.1} s", start.elapsed().as_secs_f64());
    println!(
        "miss_best={:.3} worse_called_tied={:.3} runs_saved={:.3} drift_miss_best={:.3} drift_false_elim={:.3}",
        g.miss_best, g.worse_tied, g.saved, d.miss_best, e.any_eliminated
    );
}
