use super::*;
use crate::serve::block::Api;
use crate::serve::figures::figures;
use crate::serve::schedule::{Extent, Load};
use crate::serve::summary::LoadInfo;

/// A block whose p50 ITL is `itl` ms and output `tps` tok/s.
fn block(index: usize, itl: f64, tps: f64) -> BlockSummary {
    let mut f = figures(&[], None);
    f.itl_ms.p50 = Some(itl);
    f.throughput.output_tps = Some(tps);
    BlockSummary {
        kind: "serve_block",
        schema_version: 0,
        tokbench_version: "0",
        started_at: String::new(),
        block: index,
        side: None,
        label: None,
        api: Api::Completion,
        load: LoadInfo::of(&Load::Closed { concurrency: 1 }, &Extent::Requests(1)),
        warmup: 0,
        max_tokens: 1,
        seed: 0,
        server: Default::default(),
        figures: f,
        metrics_delta: None,
        sampled: None,
        timeline: Vec::new(),
        slo: Vec::new(),
        slo_met: None,
        goodput_rps: None,
        interrupted: false,
        warnings: Vec::new(),
    }
}

fn sides(a: &[f64], b: &[f64]) -> (Vec<BlockSummary>, Vec<BlockSummary>) {
    let mk = |xs: &[f64]| {
        xs.iter()
            .enumerate()
            .map(|(i, &x)| block(i, x, 1000.0 / x))
            .collect()
    };
    (mk(a), mk(b))
}

fn refs(v: &[BlockSummary]) -> Vec<&BlockSummary> {
    v.iter().collect()
}

const A: [f64; 6] = [20.0, 20.2, 19.9, 20.1, 20.0, 19.8];

#[test]
fn b_five_percent_slower_in_itl_is_slower_and_fails_the_gate() {
    let b: Vec<f64> = A.iter().map(|x| x * 1.05).collect();
    let (a, b) = sides(&A, &b);
    let v = judge(&refs(&a), &refs(&b), "itl_ms.p50", 0.01);
    assert_eq!(v.verdict, Verdict::Slower);
    assert!(v.lower_is_better);
    let c = v.comparison.as_ref().unwrap();
    assert!((c.ratio - 1.05).abs() < 1e-9, "{}", c.ratio);
    assert_eq!(v.pairs, 6);
    assert!(gate(&v, 3.0).regressed && gate(&v, 3.0).checked);
    assert!(!gate(&v, 6.0).regressed, "5% is not beyond 6%");
    // The same blocks in tok/s: B's throughput is lower, also slower.
    let t = judge(&refs(&a), &refs(&b), "output_tps", 0.01);
    assert_eq!(t.verdict, Verdict::Slower);
    assert!(!t.lower_is_better);
    assert!(gate(&t, 3.0).regressed);
}

#[test]
fn a_against_itself_is_no_significant_change() {
    let b: Vec<f64> = A.iter().rev().copied().collect();
    let (a, b) = sides(&A, &b);
    let v = judge(&refs(&a), &refs(&b), "itl_ms.p50", 0.03);
    assert_eq!(v.verdict, Verdict::NoChange);
    assert!(!gate(&v, 3.0).regressed);
}

#[test]
fn too_few_pairs_give_no_interval_and_no_claim() {
    let (a, b) = sides(&A[..3], &[30.0, 30.0, 30.0]);
    let v = judge(&refs(&a), &refs(&b), "itl_ms.p50", 0.01);
    assert_eq!(v.verdict, Verdict::Inconclusive);
    assert_eq!(
        v.note.as_deref(),
        Some("3 pairs give no 95% interval (at least 6 are needed)")
    );
    let g = gate(&v, 3.0);
    assert!(!g.regressed && !g.checked, "a gate that checked nothing");
}

#[test]
fn a_figure_missing_in_every_block_is_said_so() {
    let (a, b) = sides(&A, &A);
    let v = judge(&refs(&a), &refs(&b), "ttft_ms.p99", 0.01);
    assert_eq!(v.pairs, 0);
    assert_eq!(
        v.note.as_deref(),
        Some("not measured on both sides of any pair")
    );
}

#[test]
fn metric_names_are_checked_and_the_known_ones_listed() {
    assert!(check_metric("itl_ms.p50").is_ok());
    assert!(check_metric("output_tps").is_ok());
    let e = check_metric("itl_p50").unwrap_err().to_string();
    assert!(
        e.starts_with("--metric 'itl_p50' is not a serve figure; known: ttft_ms.p50, "),
        "{e}"
    );
    assert!(
        e.contains("e2e_from_send_ms.p99") && e.ends_with("goodput_rps"),
        "{e}"
    );
    assert_eq!(known_metrics().len(), 9 * 4 + 3);
}

#[test]
fn the_judged_figure_comes_first_and_is_not_repeated() {
    let (a, b) = sides(&A, &A);
    let v = verdicts(&refs(&a), &refs(&b), "output_tps", 0.01, false);
    assert_eq!(v[0].metric, "output_tps");
    assert_eq!(v.iter().filter(|x| x.metric == "output_tps").count(), 1);
    let v = verdicts(&refs(&a), &refs(&b), "e2e_ms.mean", 0.01, false);
    assert_eq!((v[0].metric.as_str(), v.len()), ("e2e_ms.mean", 10));
}

/// `--slo`: blocks that met it are counted per side; one B block that
/// missed it is B missing the SLO; goodput is judged, higher is better.
#[test]
fn slo_blocks_count_each_side_and_goodput_is_judged_higher_is_better() {
    let (mut a, mut b) = sides(&A, &A);
    for (i, s) in a.iter_mut().chain(b.iter_mut()).enumerate() {
        s.slo_met = Some(true);
        s.goodput_rps = Some(if i < 6 { 10.0 } else { 8.0 + 0.01 * i as f64 });
    }
    b[4].slo_met = Some(false);
    let x = slo_blocks("itl_p99<=60ms", &refs(&a), &refs(&b));
    assert_eq!((x.a_met, x.a_blocks, x.b_met, x.b_blocks), (6, 6, 5, 6));
    assert!(x.b_unmet());
    let all = slo_blocks("itl_p99<=60ms", &refs(&a), &refs(&a));
    assert!(!all.b_unmet());
    let v = verdicts(&refs(&a), &refs(&b), "itl_ms.p50", 0.01, true);
    let g = v.iter().find(|v| v.metric == "goodput_rps").unwrap();
    assert!(!g.lower_is_better);
    assert_eq!(g.verdict, Verdict::Slower, "B's goodput about 19% lower");
    let without = verdicts(&refs(&a), &refs(&b), "itl_ms.p50", 0.01, false);
    assert!(without.iter().all(|v| v.metric != "goodput_rps"));
}
