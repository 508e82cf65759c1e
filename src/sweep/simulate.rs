//! Simulated sweeps: the race driven by a model of noisy, drifting runs,
//! for the unit tests and `benches/sweep_power.rs`.
//!
//! A run of cell c at run index t (warmups included) yields
//! rate_c x (1 - drift x t / T) x (1 + noise x N(0,1)), T the runs of a full
//! design (every cell, every round), and takes one second, so `max_time` is
//! counted in runs.

use std::time::Duration;

use super::race::{Measurement, Outcome, Race, RaceConfig, Status, StopReason};
use crate::compare::stats::SplitMix64;

/// The cells' true rates and the run-to-run behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub rates: Vec<f64>,
    /// One standard deviation, as a fraction of the rate.
    pub noise: f64,
    /// Linear loss over a full design, as a fraction (0.1: 10% slower at the end).
    pub drift: f64,
}

/// What one simulated sweep reported.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    pub statuses: Vec<Status>,
    pub rounds: usize,
    /// Measured runs (warmups not counted).
    pub runs: usize,
    pub stop: Option<StopReason>,
}

impl SimResult {
    /// The best cell and those tied with it.
    pub fn best_group(&self) -> Vec<usize> {
        (0..self.statuses.len())
            .filter(|&i| matches!(self.statuses[i], Status::Best | Status::Tied))
            .collect()
    }
}

/// Runs one sweep of `s` under `cfg`; `seed` drives the noise.
pub fn run(s: &Scenario, cfg: RaceConfig, seed: u64) -> SimResult {
    let mut race = Race::new(s.rates.len(), cfg);
    let mut rng = SplitMix64::new(seed);
    let full = (s.rates.len() * (cfg.max_rounds + 1)).max(1) as f64;
    let mut t = 0usize;
    let mut sample = |cell: usize, rng: &mut SplitMix64| {
        let v =
            s.rates[cell] * (1.0 - s.drift * t as f64 / full) * (1.0 + s.noise * rng.gaussian());
        t += 1;
        v
    };
    for c in race.warmup_order() {
        sample(c, &mut rng);
        race.record_warmup(c, Ok(()));
    }
    let mut seconds = 0u64;
    while let Some(order) = race.next_round() {
        for c in order {
            let value = sample(c, &mut rng);
            seconds += 1;
            race.record(c, Outcome::Measured(measured(value)));
        }
        race.end_round(Duration::from_secs(seconds));
    }
    SimResult {
        statuses: race.statuses(),
        rounds: race.rounds_done(),
        runs: race.runs(),
        stop: race.stop_reason(),
    }
}

fn measured(value: f64) -> Measurement {
    Measurement {
        value,
        peak_rss_bytes: None,
        gpu_mem_bytes: None,
        j_per_token: None,
    }
}
