//! The load schedule: when each request is meant to be sent.
//!
//! Open loop: arrival times are drawn up front from a seeded process
//! (Poisson, constant spacing, or gamma with a chosen coefficient of
//! variation) and kept as absolute offsets from the block's start, so a late
//! request never pushes the later ones back (that would hide the queue:
//! coordinated omission). Closed loop: C clients each send the next request
//! as soon as their previous one ended; there is no schedule to fall behind.

use std::time::Duration;

use crate::compare::stats::SplitMix64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    Poisson,
    Constant,
    /// Gamma-distributed gaps with this coefficient of variation (1 = Poisson).
    Gamma(f64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    #[error("--arrival '{0}' is not known: use poisson, constant or gamma:CV (e.g. gamma:2)")]
    Unknown(String),
    #[error(
        "--arrival '{0}': the coefficient of variation must be a number above 0 (e.g. gamma:0.5)"
    )]
    BadCv(String),
}

impl std::str::FromStr for Arrival {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "poisson" => Ok(Arrival::Poisson),
            "constant" => Ok(Arrival::Constant),
            _ => {
                let cv = s
                    .strip_prefix("gamma:")
                    .ok_or_else(|| ScheduleError::Unknown(s.to_string()))?;
                match cv.parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => Ok(Arrival::Gamma(v)),
                    _ => Err(ScheduleError::BadCv(s.to_string())),
                }
            }
        }
    }
}

impl std::fmt::Display for Arrival {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arrival::Poisson => write!(f, "poisson"),
            Arrival::Constant => write!(f, "constant"),
            Arrival::Gamma(cv) => write!(f, "gamma:{cv}"),
        }
    }
}

/// How many requests a block sends: a count, or as many as fit in a duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    Requests(usize),
    Duration(Duration),
}

/// How the load is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Requests per second on a schedule; `max_concurrency` client slots cap
    /// the requests in flight (a request waits for a slot: client queueing).
    Open {
        rate: f64,
        arrival: Arrival,
        max_concurrency: Option<usize>,
    },
    /// C clients, each sending its next request when its last one ended.
    Closed { concurrency: usize },
}

impl Load {
    /// The offered rate of an open loop.
    pub fn rate(&self) -> Option<f64> {
        match self {
            Load::Open { rate, .. } => Some(*rate),
            Load::Closed { .. } => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Load::Open {
                rate,
                arrival,
                max_concurrency,
            } => {
                let cap = max_concurrency
                    .map(|c| format!(", max concurrency {c}"))
                    .unwrap_or_default();
                format!("open loop, {rate} req/s {arrival}{cap}")
            }
            Load::Closed { concurrency } => format!("closed loop, concurrency {concurrency}"),
        }
    }
}

/// One gap (seconds) of the arrival process at `rate` per second.
fn gap(arrival: Arrival, rate: f64, rng: &mut SplitMix64) -> f64 {
    match arrival {
        Arrival::Constant => 1.0 / rate,
        Arrival::Poisson => -(1.0 - rng.next_f64()).ln() / rate,
        Arrival::Gamma(cv) => {
            let shape = 1.0 / (cv * cv);
            gamma(shape, rng) / (shape * rate)
        }
    }
}

/// A Gamma(shape, 1) draw (Marsaglia and Tsang; shapes below 1 by the
/// `U^(1/shape)` boost).
fn gamma(shape: f64, rng: &mut SplitMix64) -> f64 {
    if shape < 1.0 {
        let u = 1.0 - rng.next_f64();
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.gaussian();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.next_f64();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Intended send times (seconds from the block's start) of an open loop:
/// the first request at 0, then one gap after another, `extent` deciding
/// where it ends. Same seed, same schedule.
pub fn send_times(arrival: Arrival, rate: f64, extent: Extent, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::new();
    let mut t = 0.0;
    loop {
        match extent {
            Extent::Requests(n) if out.len() >= n => break,
            Extent::Duration(d) if t > d.as_secs_f64() => break,
            _ => {}
        }
        out.push(t);
        t += gap(arrival, rate, &mut rng);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(ts: &[f64]) -> Vec<f64> {
        ts.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn cv(xs: &[f64]) -> f64 {
        crate::stats::stddev(xs) / crate::stats::mean(xs)
    }

    #[test]
    fn arrival_names_parse() {
        assert_eq!("poisson".parse::<Arrival>(), Ok(Arrival::Poisson));
        assert_eq!("gamma:2".parse::<Arrival>(), Ok(Arrival::Gamma(2.0)));
        assert!(matches!(
            "gamma:0".parse::<Arrival>(),
            Err(ScheduleError::BadCv(_))
        ));
        assert!(matches!(
            "burst".parse::<Arrival>(),
            Err(ScheduleError::Unknown(_))
        ));
    }

    #[test]
    fn constant_schedule_is_evenly_spaced() {
        let ts = send_times(Arrival::Constant, 4.0, Extent::Requests(5), 1);
        assert_eq!(ts, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn poisson_gaps_have_the_rate_and_cv_one() {
        let ts = send_times(Arrival::Poisson, 10.0, Extent::Requests(20_001), 7);
        let g = gaps(&ts);
        assert!(
            (crate::stats::mean(&g) - 0.1).abs() < 0.003,
            "{}",
            crate::stats::mean(&g)
        );
        assert!((cv(&g) - 1.0).abs() < 0.03, "{}", cv(&g));
    }

    #[test]
    fn gamma_gaps_have_the_asked_cv() {
        for want in [0.5, 2.0] {
            let ts = send_times(Arrival::Gamma(want), 5.0, Extent::Requests(20_001), 3);
            let g = gaps(&ts);
            assert!((crate::stats::mean(&g) - 0.2).abs() < 0.01);
            assert!(
                (cv(&g) - want).abs() < 0.06 * want,
                "cv {} want {want}",
                cv(&g)
            );
        }
    }

    #[test]
    fn same_seed_same_schedule_and_duration_bounds_it() {
        let a = send_times(Arrival::Poisson, 3.0, Extent::Requests(50), 9);
        assert_eq!(
            a,
            send_times(Arrival::Poisson, 3.0, Extent::Requests(50), 9)
        );
        assert_ne!(
            a,
            send_times(Arrival::Poisson, 3.0, Extent::Requests(50), 10)
        );
        let d = send_times(
            Arrival::Constant,
            2.0,
            Extent::Duration(Duration::from_secs(3)),
            1,
        );
        assert_eq!(d.len(), 7);
        assert_eq!(d.last(), Some(&3.0));
    }
}
