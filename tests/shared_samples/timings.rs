//! llama.cpp timing blocks of every era and a llama-bench table, as other
//! people printed them (public samples).

use crate::{Check, Samples};
use tokbench::model::{BenchTest, BlockKind, Num, TimingBlock};
use tokbench::parse::bench::parse_bench;
use tokbench::parse::timings::parse_timings;

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "timings::pre_2023_main_readme",
            run: pre_2023_main_readme,
        },
        Check {
            name: "timings::timings_2023a_ms_per_run",
            run: timings_2023a_ms_per_run,
        },
        Check {
            name: "timings::timings_2023c_two_blocks",
            run: timings_2023c_two_blocks,
        },
        Check {
            name: "timings::timings_2024a_b1820",
            run: timings_2024a_b1820,
        },
        Check {
            name: "timings::timings_2024c_total_tokens",
            run: timings_2024c_total_tokens,
        },
        Check {
            name: "timings::perf_2024d_and_2025a",
            run: perf_2024d_and_2025a,
        },
        Check {
            name: "timings::perf_2025b_graphs_reused",
            run: perf_2025b_graphs_reused,
        },
        Check {
            name: "timings::common_perf_2025c",
            run: common_perf_2025c,
        },
        Check {
            name: "timings::cli_footer",
            run: cli_footer,
        },
        Check {
            name: "bench::markdown_m1_ultra_without_footer",
            run: markdown_m1_ultra,
        },
    ]
}

fn n(v: f64) -> Option<Num> {
    Some(Num(v))
}

fn parse_clean(text: &str) -> Vec<TimingBlock> {
    let out = parse_timings(text);
    assert_eq!(out.warnings, [], "unexpected warnings");
    out.blocks
}

fn one(text: &str) -> TimingBlock {
    let mut blocks = parse_clean(text);
    assert_eq!(blocks.len(), 1, "expected one block, got {blocks:#?}");
    blocks.remove(0)
}

fn pre_2023_main_readme(s: &Samples) {
    let b = one(&s.text("llama_timings_2023pre_main_readme_m1pro.txt"));
    let t = &b.timings;
    assert_eq!(
        (b.kind, t.mem_per_token_bytes, t.load_ms),
        (BlockKind::Main2023, Some(14434244), n(1332.48))
    );
    assert_eq!(
        (t.sampling_ms, t.eval_ms, t.eval_ms_per_token),
        (n(1081.40), n(31378.77), n(61.41))
    );
    assert_eq!((t.total_ms, t.eval_tps), (n(34036.74), n(1000.0 / 61.41)));
    assert_eq!(t.derived, ["eval_tps"]);
}

fn timings_2023a_ms_per_run(s: &Samples) {
    let t = one(&s.text("llama_timings_2023a_msperrun_mac_cpu.txt")).timings;
    assert_eq!(
        (t.load_ms, t.sampling_ms, t.sampling_runs),
        (n(2675.75), n(7.61), Some(10))
    );
    assert_eq!(
        (
            t.prompt_eval_ms,
            t.prompt_eval_tokens,
            t.prompt_eval_ms_per_token
        ),
        (n(25471.90), Some(271), n(93.99))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_ms_per_token),
        (n(1245.02), Some(9), n(138.34))
    );
    assert_eq!((t.total_ms, t.total_tokens), (n(29757.34), None));
    assert_eq!(t.derived, ["eval_tps", "prompt_eval_tps"]);
}

fn timings_2023c_two_blocks(s: &Samples) {
    let blocks = parse_clean(&s.text("llama_timings_2023c_tps_metal_m2max_70b.txt"));
    assert_eq!(blocks.len(), 2);
    let t = &blocks[0].timings;
    assert_eq!(
        (t.load_ms, t.sampling_runs, t.prompt_eval_tps),
        (n(28606.21), Some(31), n(1.05))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps, t.total_ms),
        (n(49937.32), Some(30), n(0.60), n(60533.22))
    );
    let t = &blocks[1].timings;
    assert_eq!((blocks[1].line, t.prompt_eval_tps), (7, n(f64::INFINITY)));
    assert_eq!(
        (t.eval_ms, t.eval_tps, t.total_ms),
        (n(54622.37), n(0.66), n(54698.42))
    );
}

fn timings_2024a_b1820(s: &Samples) {
    let t = one(&s.text("llama_timings_2024a_b1820_main_cpu.txt")).timings;
    assert_eq!(
        (t.load_ms, t.sampling_ms, t.prompt_eval_tps),
        (n(241.72), n(12.37), n(22.56))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(4221.33), Some(63), n(14.92))
    );
    assert_eq!((t.total_ms, t.total_tokens), (n(4607.89), None));
}

fn timings_2024c_total_tokens(s: &Samples) {
    let t = one(&s.text("llama_timings_2024c_metal_m1_embedding_total_tokens.txt")).timings;
    assert_eq!(
        (t.load_ms, t.prompt_eval_ms, t.prompt_eval_tps),
        (n(63.92), n(10.28), n(875.74))
    );
    assert_eq!(
        (t.eval_tps, t.total_ms, t.total_tokens),
        (n(f64::INFINITY), n(34.40), Some(10))
    );
}

fn perf_2024d_and_2025a(s: &Samples) {
    let b = one(&s.text("llama_timings_2024d_b4343_perf_timestamped.txt"));
    let t = &b.timings;
    assert_eq!(
        (b.kind, t.sampling_ms, t.sampling_runs, t.load_ms),
        (BlockKind::LlamaPerf, n(2.53), Some(71), n(593.37))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(1689.96), Some(63), n(37.28))
    );
    assert_eq!((t.total_ms, t.total_tokens), (n(1778.88), Some(70)));
    let t = one(&s.text("llama_timings_2025a_b4465_perf_metal_m4.txt")).timings;
    assert_eq!((t.prompt_eval_ms, t.prompt_eval_tps), (n(46.00), n(152.17)));
    assert_eq!(
        (t.eval_ms, t.eval_ms_per_token, t.eval_tps),
        (n(662.77), n(10.52), n(95.06))
    );
}

fn perf_2025b_graphs_reused(s: &Samples) {
    let t = one(&s.text("llama_timings_2025b_b6396_graphs_reused_riscv.txt")).timings;
    assert_eq!(
        (t.sampling_ms, t.sampling_runs, t.load_ms),
        (n(309.26), Some(282), n(2572.71))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(73900.69), Some(264), n(3.57))
    );
    assert_eq!(
        (t.total_ms, t.total_tokens, t.graphs_reused),
        (n(78583.60), Some(281), Some(263))
    );
}

fn common_perf_2025c(s: &Samples) {
    let t = one(&s.text("llama_timings_2025c_common_perf_print_pr17382.txt")).timings;
    assert_eq!(
        (t.sampling_ms, t.samplers_ms, t.samplers_runs),
        (n(70.90), n(45.40), Some(520))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(4852.86), Some(511), n(105.30))
    );
    assert_eq!(
        (t.unaccounted_ms, t.unaccounted_pct, t.graphs_reused),
        (n(3.18), n(0.1), Some(508))
    );
}

fn cli_footer(s: &Samples) {
    let b = one(&s.text("llama_cli_2026_new_cli_timing_footer.txt"));
    assert_eq!(
        (b.kind, b.timings.prompt_eval_tps, b.timings.eval_tps),
        (BlockKind::CliFooter, n(53.6), n(7.5))
    );
}

fn check(t: &BenchTest, test: &str, p: u64, g: u64, avg: f64, sd: f64) {
    assert_eq!(t.test, test);
    assert_eq!((t.n_prompt, t.n_gen, t.n_depth), (p, g, 0), "{test}");
    assert_eq!((t.avg_tps, t.stddev_tps), (Num(avg), Num(sd)), "{test}");
}

fn markdown_m1_ultra(s: &Samples) {
    let name = "llama_bench_2026_metal_blas_m1ultra_b7825.md";
    let out = parse_bench(name, &s.text(name)).expect("the table parses");
    assert_eq!(out.tests.len(), 4);
    check(&out.tests[0], "pp512", 512, 0, 5587.84, 12.06);
    check(&out.tests[1], "pp4096", 4096, 0, 4381.75, 0.41);
    check(&out.tests[2], "tg128", 0, 128, 242.56, 3.63);
    check(&out.tests[3], "pp4096+tg128", 4096, 128, 2211.38, 15.05);
    for t in &out.tests {
        assert_eq!(t.backends.as_deref(), Some("Metal,BLAS"));
        assert_eq!(t.n_threads, Some(16));
        assert_eq!(t.model_type.as_deref(), Some("llama 1B Q4_K - Medium"));
        assert_eq!(t.model_n_params, Some(1_100_000_000));
        // The excerpt has no footer: no build is invented.
        assert_eq!((t.build_commit.as_deref(), t.build_number), (None, None));
    }
}
