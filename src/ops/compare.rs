//! Per-op comparison of two builds over interleaved rounds.
//!
//! Each round runs `test-backend-ops perf` once per side on the same filter
//! (ABBA order, see [`crate::compare::order`]). A case is matched across
//! builds on (backend, op name, parameter string); its time per run in round
//! k of A is paired with round k of B and judged by
//! [`crate::compare::stats::compare`] (lower is better, so less time per run
//! is `faster`). A case missing or unsupported in a round leaves that pair
//! out. Cases seen on one side only are listed apart: parameter strings
//! change between llama.cpp versions, and such a case has nothing to pair.
//! Rows are sorted by effect, the largest |ln(B/A)| first.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::peak::{self, Peak};
use crate::compare::stats::{compare, regressed, Comparison, Direction, Verdict};
use crate::model::{op_rate, OpResult};
use crate::stats::median;

type Key = (String, String, String);

/// One side's rate and time, medians over its rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideFigures {
    pub rounds: usize,
    pub time_us: f64,
    /// TFLOPS for a compute-bound op, else None.
    pub tflops: Option<f64>,
    /// ggml's GB/s (GiB/s) for a memory-bound op, else None.
    pub gb_s: Option<f64>,
    /// Percent of the device's peak, where it is known.
    pub peak_pct: Option<f64>,
}

/// One op case compared between A and B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRow {
    pub backend: String,
    pub op: String,
    pub params: String,
    pub a: SideFigures,
    pub b: SideFigures,
    /// (B/A - 1) in percent of time per run, with its 95% interval.
    pub change_pct: Option<f64>,
    pub ci_low_pct: Option<f64>,
    pub ci_high_pct: Option<f64>,
    pub verdict: Verdict,
    /// `faster`, `slower`, `no significant change` or `inconclusive`.
    pub verdict_text: String,
    pub comparison: Option<Comparison>,
    /// `--auto`: the round count of the look that decided this case (its
    /// interval and verdict are that look's); None when undecided or fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at_round: Option<usize>,
}

/// A case known to one side only, or to neither as supported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct OpCase {
    pub backend: String,
    pub op: String,
    pub params: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsComparison {
    pub rows: Vec<OpRow>,
    pub only_a: Vec<OpCase>,
    pub only_b: Vec<OpCase>,
    /// Cases neither side supports.
    pub unsupported: Vec<OpCase>,
    pub threshold: f64,
}

/// Peak overrides and the noise band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Noise band as a fraction (0.01).
    pub threshold: f64,
    pub peak_bandwidth_gb_s: Option<f64>,
    pub peak_tflops: Option<f64>,
}

/// Every case of every round, by key: its result in each round (None where
/// absent), and whether any round saw it at all.
fn by_key(rounds: &[Vec<OpResult>]) -> BTreeMap<Key, Vec<Option<OpResult>>> {
    let mut map: BTreeMap<Key, Vec<Option<OpResult>>> = BTreeMap::new();
    for (k, round) in rounds.iter().enumerate() {
        for r in round {
            let slot = map
                .entry(r.key())
                .or_insert_with(|| vec![None; rounds.len()]);
            slot[k] = Some(r.clone());
        }
    }
    map
}

fn time_series(results: &[Option<OpResult>]) -> Vec<f64> {
    results
        .iter()
        .map(|r| {
            r.as_ref()
                .and_then(OpResult::usable_time)
                .unwrap_or(f64::NAN)
        })
        .collect()
}

fn figures(results: &[Option<OpResult>], s: &Settings) -> SideFigures {
    let ok: Vec<&OpResult> = results
        .iter()
        .flatten()
        .filter(|r| r.usable_time().is_some())
        .collect();
    let med = |f: &dyn Fn(&OpResult) -> f64| -> f64 {
        let v: Vec<f64> = ok.iter().map(|r| f(r)).collect();
        if v.is_empty() {
            f64::NAN
        } else {
            median(&v)
        }
    };
    let (flops, bw) = (med(&|r| r.flops), med(&|r| r.bandwidth_gb_s));
    let device = ok.first().map(|r| r.device.as_str()).unwrap_or("");
    let peak: Option<Peak> = peak::lookup(device, s.peak_bandwidth_gb_s, s.peak_tflops);
    let (tflops, gb_s) = op_rate(flops, bw);
    SideFigures {
        rounds: ok.len(),
        time_us: med(&|r| r.time_us),
        tflops,
        gb_s,
        peak_pct: peak.and_then(|p| peak::percent_of_peak(&p, flops.max(0.0), bw.max(0.0))),
    }
}

fn case(key: &Key) -> OpCase {
    OpCase {
        backend: key.0.clone(),
        op: key.1.clone(),
        params: key.2.clone(),
    }
}

fn row(key: &Key, a: &[Option<OpResult>], b: &[Option<OpResult>], s: &Settings) -> OpRow {
    let c = compare(
        &time_series(a),
        &time_series(b),
        true,
        Direction::LowerIsBetter,
        s.threshold,
        0.95,
    );
    let mut row = OpRow {
        backend: key.0.clone(),
        op: key.1.clone(),
        params: key.2.clone(),
        a: figures(a, s),
        b: figures(b, s),
        change_pct: None,
        ci_low_pct: None,
        ci_high_pct: None,
        verdict: Verdict::Inconclusive,
        verdict_text: String::new(),
        comparison: None,
        decided_at_round: None,
    };
    row.judged_by(c, None);
    row
}

impl OpRow {
    /// The case this row judges.
    pub fn case(&self) -> OpCase {
        OpCase {
            backend: self.backend.clone(),
            op: self.op.clone(),
            params: self.params.clone(),
        }
    }

    /// Replaces the judgement (interval, verdict) with another comparison
    /// of the same case, e.g. `--auto`'s at its deciding look.
    pub fn judged_by(&mut self, c: Option<Comparison>, decided_at_round: Option<usize>) {
        let pct = |r: f64| (r - 1.0) * 100.0;
        self.verdict = c.as_ref().map_or(Verdict::Inconclusive, |c| c.verdict);
        self.verdict_text = verdict_text(self.verdict).to_string();
        self.change_pct = c.as_ref().map(|c| pct(c.ratio));
        self.ci_low_pct = c.as_ref().and_then(|c| c.ci_low).map(pct);
        self.ci_high_pct = c.as_ref().and_then(|c| c.ci_high).map(pct);
        self.comparison = c;
        self.decided_at_round = decided_at_round;
    }
}

/// The cases supported on both sides, each with its paired time series
/// (round k of A with round k of B, NaN where a round lacks the case).
pub fn matched_series(
    a: &[Vec<OpResult>],
    b: &[Vec<OpResult>],
) -> Vec<(OpCase, Vec<f64>, Vec<f64>)> {
    let n = a.len().min(b.len());
    let (ma, mb) = (by_key(&a[..n]), by_key(&b[..n]));
    ma.iter()
        .filter(|(_, v)| supported_anywhere(v))
        .filter_map(|(key, ra)| {
            let rb = mb.get(key).filter(|v| supported_anywhere(v))?;
            Some((case(key), time_series(ra), time_series(rb)))
        })
        .collect()
}

/// Sorts rows by effect, the largest first (after a change of judgement).
pub fn sort_by_effect(rows: &mut [OpRow]) {
    rows.sort_by(|x, y| effect(y).total_cmp(&effect(x)));
}

fn supported_anywhere(results: &[Option<OpResult>]) -> bool {
    results.iter().flatten().any(|r| r.supported)
}

/// Compares the rounds of A with those of B (round k of A paired with
/// round k of B; the lengths must match, extra rounds are left out).
pub fn compare_rounds(a: &[Vec<OpResult>], b: &[Vec<OpResult>], s: &Settings) -> OpsComparison {
    let n = a.len().min(b.len());
    let (ma, mb) = (by_key(&a[..n]), by_key(&b[..n]));
    let keys: BTreeSet<&Key> = ma.keys().chain(mb.keys()).collect();
    let mut out = OpsComparison {
        rows: Vec::new(),
        only_a: Vec::new(),
        only_b: Vec::new(),
        unsupported: Vec::new(),
        threshold: s.threshold,
    };
    for key in keys {
        let sa = ma.get(key).filter(|v| supported_anywhere(v));
        let sb = mb.get(key).filter(|v| supported_anywhere(v));
        match (sa, sb) {
            (Some(ra), Some(rb)) => out.rows.push(row(key, ra, rb, s)),
            (Some(_), None) => out.only_a.push(case(key)),
            (None, Some(_)) => out.only_b.push(case(key)),
            (None, None) => out.unsupported.push(case(key)),
        }
    }
    sort_by_effect(&mut out.rows);
    out
}

/// |ln(B/A)|; rows without an estimate sort last.
fn effect(r: &OpRow) -> f64 {
    r.comparison.as_ref().map_or(-1.0, |c| c.ratio.ln().abs())
}

/// One build alone: each supported case's figures over its rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpSummary {
    pub backend: String,
    pub op: String,
    pub params: String,
    pub figures: SideFigures,
    pub min_time_us: f64,
    pub max_time_us: f64,
}

/// Summaries of one build's rounds, in case order; unsupported cases left out.
pub fn summarize_rounds(rounds: &[Vec<OpResult>], s: &Settings) -> Vec<OpSummary> {
    by_key(rounds)
        .iter()
        .filter(|(_, v)| supported_anywhere(v))
        .map(|(key, v)| {
            let t: Vec<f64> = time_series(v)
                .into_iter()
                .filter(|x| x.is_finite())
                .collect();
            OpSummary {
                backend: key.0.clone(),
                op: key.1.clone(),
                params: key.2.clone(),
                figures: figures(v, s),
                min_time_us: t.iter().copied().fold(f64::INFINITY, f64::min),
                max_time_us: t.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect()
}

/// Rows slower beyond `pct` percent over their whole 95% interval.
pub fn regressions(c: &OpsComparison, pct: f64) -> Vec<&OpRow> {
    c.rows
        .iter()
        .filter(|r| {
            r.comparison
                .as_ref()
                .is_some_and(|c| regressed(c, pct, Direction::LowerIsBetter))
        })
        .collect()
}

/// The words for a verdict in every ops output (kept with the rows).
pub fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::NoChange => "no significant change",
        Verdict::Inconclusive => "inconclusive",
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::compare::stats::SplitMix64;

    /// A supported CPU case (its device an H200, for the peak figures).
    pub(crate) fn result(op: &str, params: &str, time_us: f64) -> OpResult {
        OpResult {
            backend: "CPU".into(),
            op: op.into(),
            params: params.into(),
            supported: true,
            time_us,
            bandwidth_gb_s: 1000.0 / time_us,
            device: "NVIDIA H200".into(),
            ..OpResult::default()
        }
    }

    /// `rounds` rounds of three ops with 0.5% noise; B's MUL_MAT `slow` times A's.
    fn rounds(n: usize, slow: f64, seed: u64) -> (Vec<Vec<OpResult>>, Vec<Vec<OpResult>>) {
        let mut rng = SplitMix64::new(seed);
        let mut noisy = |t: f64| t * (1.0 + 0.005 * rng.gaussian());
        let ops = [
            ("ADD", "ne=[4096]", 100.0),
            ("MUL_MAT", "m=4096", 2000.0),
            ("SOFT_MAX", "ne=[512]", 50.0),
        ];
        let mut a = Vec::new();
        let mut b = Vec::new();
        for _ in 0..n {
            a.push(
                ops.iter()
                    .map(|(o, p, t)| result(o, p, noisy(*t)))
                    .collect(),
            );
            b.push(
                ops.iter()
                    .map(|(o, p, t)| {
                        result(o, p, noisy(if *o == "MUL_MAT" { t * slow } else { *t }))
                    })
                    .collect(),
            );
        }
        (a, b)
    }

    const S: Settings = Settings {
        threshold: 0.01,
        peak_bandwidth_gb_s: None,
        peak_tflops: None,
    };

    #[test]
    fn a_planted_ten_percent_slowdown_is_the_one_slower_op_and_sorts_first() {
        let (a, b) = rounds(10, 1.10, 7);
        let c = compare_rounds(&a, &b, &S);
        assert_eq!(c.rows.len(), 3);
        assert_eq!(c.rows[0].op, "MUL_MAT");
        assert_eq!(c.rows[0].verdict, Verdict::Slower);
        let change = c.rows[0].change_pct.unwrap();
        assert!((change - 10.0).abs() < 1.0, "{change}");
        assert!(c.rows[0].ci_low_pct.unwrap() > 8.0);
        for r in &c.rows[1..] {
            assert_ne!(r.verdict, Verdict::Slower, "{}", r.op);
            assert_ne!(r.verdict, Verdict::Faster, "{}", r.op);
        }
        assert_eq!(regressions(&c, 5.0).len(), 1);
        assert!(regressions(&c, 15.0).is_empty());
    }

    #[test]
    fn swapping_sides_turns_slower_into_faster() {
        let (a, b) = rounds(10, 1.10, 3);
        let c = compare_rounds(&b, &a, &S);
        assert_eq!(c.rows[0].op, "MUL_MAT");
        assert_eq!(c.rows[0].verdict, Verdict::Faster);
        assert!(regressions(&c, 1.0).is_empty());
    }

    #[test]
    fn too_few_rounds_are_inconclusive_never_a_claim() {
        let (a, b) = rounds(5, 1.10, 1);
        let c = compare_rounds(&a, &b, &S);
        assert!(c.rows.iter().all(|r| r.verdict == Verdict::Inconclusive));
        assert!(c.rows.iter().all(|r| r.ci_low_pct.is_none()));
    }

    #[test]
    fn cases_of_one_side_and_unsupported_ones_are_listed_apart() {
        let (mut a, mut b) = rounds(6, 1.0, 2);
        for r in &mut a {
            r.push(result("ROPE", "v=0", 10.0));
            r.push(OpResult {
                supported: false,
                ..result("FLASH_ATTN_EXT", "hs=64", 0.0)
            });
        }
        for r in &mut b {
            r.push(result("ROPE", "v=0,mode=2", 10.0));
            r.push(OpResult {
                supported: false,
                ..result("FLASH_ATTN_EXT", "hs=64", 0.0)
            });
        }
        let c = compare_rounds(&a, &b, &S);
        assert_eq!(c.rows.len(), 3);
        assert_eq!(
            c.only_a
                .iter()
                .map(|x| x.params.as_str())
                .collect::<Vec<_>>(),
            ["v=0"]
        );
        assert_eq!(
            c.only_b
                .iter()
                .map(|x| x.params.as_str())
                .collect::<Vec<_>>(),
            ["v=0,mode=2"]
        );
        assert_eq!(c.unsupported.len(), 1);
    }

    #[test]
    fn figures_are_medians_with_percent_of_the_known_peak() {
        let (a, b) = rounds(6, 1.0, 4);
        let c = compare_rounds(&a, &b, &S);
        let add = c.rows.iter().find(|r| r.op == "ADD").unwrap();
        assert_eq!(add.a.rounds, 6);
        assert!((add.a.time_us - 100.0).abs() < 1.0);
        let gb = add.a.gb_s.unwrap();
        assert!((gb - 10.0).abs() < 0.1, "{gb}");
        assert_eq!(add.a.tflops, None);
        let pct = add.a.peak_pct.unwrap();
        assert!((pct - 100.0 * gb * peak::GIB_PER_GB / 4800.0).abs() < 1e-9);
    }

    #[test]
    fn a_case_missing_in_a_round_drops_that_pair_only() {
        let (a, mut b) = rounds(8, 1.10, 5);
        b[3].retain(|r| r.op != "MUL_MAT");
        let c = compare_rounds(&a, &b, &S);
        let mm = c.rows.iter().find(|r| r.op == "MUL_MAT").unwrap();
        assert_eq!(mm.comparison.as_ref().unwrap().n_a, 7);
        assert_eq!(mm.b.rounds, 7);
        assert_eq!(mm.verdict, Verdict::Slower);
    }

    #[test]
    fn one_build_is_summarised_per_case() {
        let (a, _) = rounds(4, 1.0, 6);
        let s = summarize_rounds(&a, &S);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].op, "ADD");
        assert!(
            s[0].min_time_us <= s[0].figures.time_us && s[0].figures.time_us <= s[0].max_time_us
        );
    }
}
