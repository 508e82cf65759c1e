//! A block's figures from its request records: percentiles with intervals
//! of every latency, throughput achieved against offered, the client's own
//! lateness, errors by kind, and the overload test. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::quantile::{min_n, percentile, Percentile};
use super::request::RequestRecord;
use crate::stats::{mean, stddev};

/// p99 dispatch lag (ms) above which the client is said to have fallen
/// behind its schedule: the run is marked `client behind` and exits 1.
pub const CLIENT_BEHIND_P99_MS: f64 = 20.0;

/// Shortfall of the sustained rate, beyond what the latency spread explains,
/// that calls a run overloaded (fraction of the offered rate).
pub const OVERLOAD_SHORTFALL: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dist {
    pub n: usize,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    /// 95% intervals, `[low, high]`, a side null when the data cannot bound it.
    pub ci95: BTreeMap<&'static str, [Option<f64>; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Percentiles and mean of `xs` (any order).
pub fn dist(xs: &[f64]) -> Dist {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mut ci95 = BTreeMap::new();
    let mut get = |name: &'static str, p: f64| {
        let Percentile { value, low, high } = percentile(&v, p);
        ci95.insert(name, [low, high]);
        value
    };
    let (p50, p90, p99) = (get("p50", 0.5), get("p90", 0.9), get("p99", 0.99));
    let note = if v.len() < min_n(0.99) {
        Some(format!("too few for a p99 ({} < {})", v.len(), min_n(0.99)))
    } else if ci95["p99"][1].is_none() {
        Some("too few for an upper bound on the p99".to_string())
    } else {
        None
    };
    Dist {
        n: v.len(),
        mean: (!v.is_empty()).then(|| mean(&v)),
        p50,
        p90,
        p99,
        ci95,
        note,
    }
}

impl Dist {
    /// A statistic by name: p50, p90, p99 or mean.
    pub fn stat(&self, name: &str) -> Option<f64> {
        match name {
            "p50" => self.p50,
            "p90" => self.p90,
            "p99" => self.p99,
            "mean" => self.mean,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    pub offered_rps: Option<f64>,
    pub achieved_rps: Option<f64>,
    pub output_tps: Option<f64>,
    pub wall_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overload {
    pub overloaded: bool,
    pub offered_rps: f64,
    pub sustained_rps: f64,
    /// TTFT (from the intended send) of the last third over the first third.
    pub queue_growth: Option<f64>,
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub requests: usize,
    pub completed: usize,
    pub early_stops: usize,
    pub cache_hits: usize,
    pub errors: BTreeMap<String, usize>,
    pub ttft_ms: Dist,
    pub ttft_from_send_ms: Dist,
    pub e2e_ms: Dist,
    pub e2e_from_send_ms: Dist,
    pub tpot_ms: Dist,
    pub itl_ms: Dist,
    pub client_queue_ms: Dist,
    pub dispatch_lag_ms: Dist,
    pub server_queue_est_ms: Dist,
    pub prompt_tokens: Dist,
    pub output_tokens: Dist,
    pub throughput: Throughput,
    pub client_behind: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overload: Option<Overload>,
}

fn collect(rs: &[&RequestRecord], f: impl Fn(&RequestRecord) -> Option<f64>) -> Vec<f64> {
    rs.iter().filter_map(|r| f(r)).collect()
}

/// Figures over the counted (non-warmup) requests; `offered` is the open
/// loop's rate.
pub fn figures(records: &[RequestRecord], offered: Option<f64>) -> Figures {
    let counted: Vec<&RequestRecord> = records.iter().filter(|r| !r.warmup).collect();
    let ok: Vec<&RequestRecord> = counted.iter().copied().filter(|r| r.ok()).collect();
    let full: Vec<&RequestRecord> = ok.iter().copied().filter(|r| r.full_length()).collect();
    let mut errors = BTreeMap::new();
    for r in counted.iter().filter(|r| !r.ok()) {
        *errors
            .entry(r.error_kind.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    let itl: Vec<f64> = full.iter().flat_map(|r| r.itl_ms()).collect();
    let dispatch = dist(&collect(&counted, |r| r.dispatch_lag_ms));
    Figures {
        requests: counted.len(),
        completed: ok.len(),
        early_stops: ok.iter().filter(|r| r.early_stop).count(),
        cache_hits: ok
            .iter()
            .filter(|r| r.flags.iter().any(|f| f.starts_with("cache hit")))
            .count(),
        errors,
        ttft_ms: dist(&collect(&ok, |r| r.ttft_ms)),
        ttft_from_send_ms: dist(&collect(&ok, |r| r.ttft_from_send_ms)),
        e2e_ms: dist(&collect(&ok, |r| r.e2e_ms)),
        e2e_from_send_ms: dist(&collect(&ok, |r| r.e2e_from_send_ms)),
        tpot_ms: dist(&collect(&full, |r| r.tpot_ms)),
        itl_ms: dist(&itl),
        client_queue_ms: dist(&collect(&counted, |r| Some(r.client_queue_ms))),
        client_behind: dispatch
            .p99
            .or(dispatch.p50)
            .is_some_and(|p| p > CLIENT_BEHIND_P99_MS),
        dispatch_lag_ms: dispatch,
        server_queue_est_ms: dist(&collect(&ok, |r| r.server_queue_est_ms)),
        prompt_tokens: dist(&collect(&ok, |r| {
            r.timings.as_ref()?.prompt_n.map(|n| n as f64)
        })),
        output_tokens: dist(&collect(&ok, |r| r.output_tokens.map(|n| n as f64))),
        throughput: throughput(&counted, &ok, offered),
        overload: offered.and_then(|_| overload(&ok)),
    }
}

fn span(xs: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    xs.fold(None, |acc, x| match acc {
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    })
}

fn throughput(
    counted: &[&RequestRecord],
    ok: &[&RequestRecord],
    offered: Option<f64>,
) -> Throughput {
    let start = span(counted.iter().map(|r| r.intended_ms)).map(|s| s.0);
    let end = span(ok.iter().filter_map(|r| r.end_ms)).map(|s| s.1);
    let wall_s = match (start, end) {
        (Some(a), Some(b)) if b > a => (b - a) / 1000.0,
        _ => 0.0,
    };
    let tokens: u64 = ok.iter().filter_map(|r| r.output_tokens).sum();
    let per_s = |x: f64| (wall_s > 0.0).then(|| x / wall_s);
    Throughput {
        offered_rps: offered,
        achieved_rps: per_s(ok.len() as f64),
        output_tps: per_s(tokens as f64),
        wall_s,
    }
}

/// Overload: the completions are spread over a longer time than the
/// arrivals beyond what the spread of latencies explains (the sustained rate
/// falls short of the realised offered rate), or the wait grows through the
/// run (last third's median TTFT from the intended send over three times the
/// first third's and 100 ms more).
pub fn overload(ok: &[&RequestRecord]) -> Option<Overload> {
    let mut rs: Vec<&RequestRecord> = ok.to_vec();
    rs.sort_by(|a, b| a.intended_ms.total_cmp(&b.intended_ms));
    let n = rs.len();
    if n < 6 {
        return None;
    }
    let arrivals = span(rs.iter().map(|r| r.intended_ms))?;
    let ends = span(rs.iter().filter_map(|r| r.end_ms))?;
    let (arr_ms, end_ms) = (arrivals.1 - arrivals.0, ends.1 - ends.0);
    if arr_ms <= 0.0 || end_ms <= 0.0 {
        return None;
    }
    let offered = (n - 1) as f64 / arr_ms * 1000.0;
    let sustained = (n - 1) as f64 / end_ms * 1000.0;
    let e2e: Vec<f64> = rs.iter().filter_map(|r| r.e2e_from_send_ms).collect();
    let noise_ms = 3.0 * std::f64::consts::SQRT_2 * stddev(&e2e);
    let spread_out = end_ms - arr_ms > noise_ms + OVERLOAD_SHORTFALL * arr_ms;
    let third = n / 3;
    let med = |part: &[&RequestRecord]| crate::stats::median(&collect(part, |r| r.ttft_ms));
    let (first, last) = (med(&rs[..third]), med(&rs[n - third..]));
    let growth = (first > 0.0).then(|| last / first);
    let growing = last > 3.0 * first && last - first > 100.0;
    let why = match (spread_out, growing) {
        (true, _) => Some(format!(
            "completions took {:.1} s for arrivals over {:.1} s",
            end_ms / 1000.0,
            arr_ms / 1000.0
        )),
        (false, true) => Some(format!(
            "TTFT from the intended send grew from {first:.0} ms to {last:.0} ms through the run"
        )),
        _ => None,
    };
    Some(Overload {
        overloaded: why.is_some(),
        offered_rps: offered,
        sustained_rps: sustained,
        queue_growth: growth,
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::request::{record, Trace};

    /// A request sent at `at` (ms) that waited `wait` ms, then took 50 ms.
    fn req(i: usize, at: f64, wait: f64) -> RequestRecord {
        let first = at + wait + 20.0;
        let t = Trace {
            intended_ms: at,
            dispatched_ms: at,
            slot_ms: at + wait,
            send_ms: Some(at + wait + 0.5),
            first_chunk_ms: Some(first),
            content: (0..4).map(|k| (first + 10.0 * k as f64, Some(1))).collect(),
            end_ms: Some(first + 31.0),
            stop: Some("limit".into()),
            predicted: Some(4),
            ..Trace::default()
        };
        record(t, 0, i, false, 4)
    }

    #[test]
    fn dist_of_a_small_sample_says_no_p99() {
        let d = dist(&[3.0, 1.0, 2.0]);
        assert_eq!((d.n, d.p50, d.p99, d.mean), (3, Some(2.0), None, Some(2.0)));
        assert!(d
            .note
            .as_deref()
            .unwrap()
            .contains("too few for a p99 (3 < 100)"));
    }

    #[test]
    fn steady_load_is_not_overload() {
        let rs: Vec<RequestRecord> = (0..60).map(|i| req(i, i as f64 * 100.0, 0.0)).collect();
        let f = figures(&rs, Some(10.0));
        let o = f.overload.unwrap();
        assert!(!o.overloaded, "{o:?}");
        assert!((o.offered_rps - 10.0).abs() < 1e-9 && (o.sustained_rps - 10.0).abs() < 1e-9);
        assert_eq!(f.itl_ms.p50, Some(10.0));
        assert_eq!(f.ttft_ms.p50, Some(20.0));
        assert!(!f.client_behind);
    }

    #[test]
    fn growing_client_queue_is_overload_and_ttft_from_send_stays() {
        // Offered every 100 ms, served every 200 ms: the wait grows by 100 ms a request.
        let rs: Vec<RequestRecord> = (0..60)
            .map(|i| req(i, i as f64 * 100.0, i as f64 * 100.0))
            .collect();
        let f = figures(&rs, Some(10.0));
        let o = f.overload.unwrap();
        assert!(o.overloaded);
        assert!((o.sustained_rps - 5.0).abs() < 0.01, "{}", o.sustained_rps);
        assert!(f.ttft_ms.p90.unwrap() > 5000.0);
        assert_eq!(f.ttft_from_send_ms.p90, Some(19.5));
        assert!(
            !f.client_behind,
            "slot waits are client queueing, not dispatch lag"
        );
        assert_eq!(f.dispatch_lag_ms.p50, Some(0.5));
    }

    #[test]
    fn errors_and_early_stops_are_counted_apart() {
        let mut rs: Vec<RequestRecord> = (0..4).map(|i| req(i, i as f64, 0.0)).collect();
        rs[1].early_stop = true;
        rs[2].status = "error";
        rs[2].error_kind = Some("http_500".into());
        let f = figures(&rs, None);
        assert_eq!((f.requests, f.completed, f.early_stops), (4, 3, 1));
        assert_eq!(f.errors.get("http_500"), Some(&1));
        assert_eq!(
            f.tpot_ms.n, 2,
            "early stops are kept out of the per-token figures"
        );
    }
}
