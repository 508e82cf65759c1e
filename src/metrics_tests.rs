use super::*;
use crate::model::Num;

fn bench_run(seq: u32, warmup: bool, tests: &[(&str, u64, u64, f64)]) -> RunRecord {
    let mut r = crate::plot::svg_test::record(seq, None, warmup, None);
    r.status = "ok".into();
    r.timings = None;
    r.bench = tests
        .iter()
        .map(|&(key, p, g, tps)| BenchTest {
            test: key.split(' ').next().unwrap_or(key).to_string(),
            key: key.to_string(),
            n_prompt: p,
            n_gen: g,
            avg_tps: Num(tps),
            ..BenchTest::default()
        })
        .collect();
    r
}

#[test]
fn directions_come_from_the_registry_not_the_unit() {
    assert_eq!(direction("tokens_per_j"), Some(Direction::HigherIsBetter));
    assert_eq!(direction("gpu_j_per_token"), Some(Direction::LowerIsBetter));
    assert_eq!(direction("gpu_busy_pct"), Some(Direction::HigherIsBetter));
    assert_eq!(direction("roofline_pct"), Some(Direction::HigherIsBetter));
    assert_eq!(direction("load_ms"), Some(Direction::LowerIsBetter));
    assert_eq!(direction("tg128"), Some(Direction::HigherIsBetter));
    assert_eq!(direction("tg64 @ d512"), Some(Direction::HigherIsBetter));
    assert_eq!(direction("pp512 fa=1"), Some(Direction::HigherIsBetter));
}

#[test]
fn misspelt_metric_is_unknown_not_a_higher_is_better_tps() {
    // The defect: `--metric evl_tps` was judged as a higher-is-better t/s figure.
    assert_eq!(direction("evl_tps"), None);
    assert_eq!(unit("evl_tps"), "");
    let e = check_planned("evl_tps", false).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(
            "unknown metric 'evl_tps': known metrics are eval_tps, prompt_eval_tps, load_ms"
        ),
        "{text}"
    );
    assert!(text.contains("roofline_pct"), "{text}");
    // A bench-key shape is only accepted up front for llama-bench.
    assert!(check_planned("tg128", false).is_err());
    assert!(check_planned("tg128", true).is_ok());
}

#[test]
fn unknown_key_of_a_llama_bench_session_lists_the_keys_present() {
    let runs = [bench_run(
        0,
        true,
        &[
            ("pp512 fa=0", 512, 0, 3e4),
            ("tg128 fa=0", 0, 128, 747.0),
            ("pp512 fa=1", 512, 0, 4e4),
            ("tg128 fa=1", 0, 128, 895.0),
        ],
    )];
    assert!(check_keys("tg128 fa=1", &runs).is_ok());
    let text = check_keys("tg128", &runs).unwrap_err().to_string();
    assert!(
        text.ends_with("; this llama-bench session has pp512 fa=0, tg128 fa=0, pp512 fa=1, tg128 fa=1 (pass one with --metric)"),
        "{text}"
    );
}

#[test]
fn primary_of_a_depth_run_is_its_generation_test_with_depth() {
    // The defect: `-n 64 -d 512` judged `tg64 @ d512`, then gated on `tg64`.
    let runs = [
        bench_run(
            0,
            true,
            &[
                ("pp512 @ d512", 512, 0, 38210.4),
                ("tg64 @ d512", 0, 64, 792.9),
            ],
        ),
        bench_run(
            1,
            false,
            &[
                ("pp512 @ d512", 512, 0, 39674.2),
                ("tg64 @ d512", 0, 64, 859.7),
            ],
        ),
    ];
    assert_eq!(primary("eval_tps", &runs), "tg64 @ d512");
    assert_eq!(primary("eval_tps", &runs[..1]), "tg64 @ d512");
    assert_eq!(primary("pp512 @ d512", &runs), "pp512 @ d512");
    assert_eq!(value(&runs[1], "tg64 @ d512"), Some(859.7));
    assert_eq!(value(&runs[1], "tg64"), None);
    assert_eq!(names_in(&runs), ["wall_ms", "pp512 @ d512", "tg64 @ d512"]);
}

#[test]
fn fa_grid_keys_are_separate_metrics() {
    let r = bench_run(
        0,
        false,
        &[
            ("pp512 fa=0", 512, 0, 32428.73),
            ("tg128 fa=0", 0, 128, 747.13),
            ("pp512 fa=1", 512, 0, 41148.47),
            ("tg128 fa=1", 0, 128, 895.30),
        ],
    );
    assert_eq!(value(&r, "tg128 fa=0"), Some(747.13));
    assert_eq!(value(&r, "tg128 fa=1"), Some(895.30));
    assert_eq!(primary("eval_tps", std::slice::from_ref(&r)), "tg128 fa=0");
    assert_eq!(
        generation_test(&r.bench).map(|t| t.key()),
        Some("tg128 fa=0")
    );
    assert_eq!(prompt_test(&r.bench).map(|t| t.key()), Some("pp512 fa=0"));
}

#[test]
fn records_without_keys_are_named_by_their_test() {
    let mut r = bench_run(0, false, &[("tg128", 0, 128, 50.0)]);
    r.bench[0].key.clear();
    assert_eq!(r.bench[0].key(), "tg128");
    assert_eq!(value(&r, "tg128"), Some(50.0));
}

#[test]
fn renders_with_the_registry_decimals() {
    assert_eq!(render("eval_tps", 47.123), "47.12");
    assert_eq!(render("peak_rss_bytes", 1310052352.4), "1310052352");
    assert_eq!(render("tg128 fa=1", 895.304), "895.30");
}
