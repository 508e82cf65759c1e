//! Exact-value tests for every era, on the fixtures under `fixtures/llama/`
//! (the public samples in `../shared/samples/public/` are checked by the
//! shared-samples suite, `tests/shared_samples/`).

use super::*;
use crate::model::Num;

fn n(v: f64) -> Option<Num> {
    Some(Num(v))
}

fn parse_clean(text: &str) -> Vec<TimingBlock> {
    let out = parse_timings(text);
    assert_eq!(out.warnings, [], "unexpected warnings");
    out.blocks
}

fn one(text: &str) -> TimingBlock {
    let blocks = parse_clean(text);
    assert_eq!(blocks.len(), 1, "expected one block, got {blocks:#?}");
    blocks.into_iter().next().expect("one block")
}

fn block(
    kind: BlockKind,
    label: Option<&str>,
    line: usize,
    unit: Option<&str>,
    timings: Timings,
) -> TimingBlock {
    TimingBlock {
        kind,
        label: label.map(str::to_string),
        line,
        eval_unit: unit.map(str::to_string),
        timings,
    }
}

fn derived(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn main_2023() {
    let b = one(include_str!("../../fixtures/llama/2023pre_main.txt"));
    let t = Timings {
        mem_per_token_bytes: Some(14368644),
        load_ms: n(1201.33),
        sampling_ms: n(977.25),
        eval_ms: n(29874.10),
        eval_ms_per_token: n(58.35),
        eval_tps: n(1000.0 / 58.35),
        total_ms: n(32511.90),
        derived: derived(&["eval_tps"]),
        ..Timings::default()
    };
    assert_eq!(b, block(BlockKind::Main2023, None, 2, None, t));
}

#[test]
fn print_timings_2023a_ms_per_run() {
    let b = one(include_str!("../../fixtures/llama/2023a_ms_per_run.txt"));
    let t = Timings {
        load_ms: n(3104.52),
        sampling_ms: n(9.12),
        sampling_runs: Some(12),
        prompt_eval_ms: n(21377.05),
        prompt_eval_tokens: Some(230),
        prompt_eval_ms_per_token: n(92.94),
        prompt_eval_tps: n(1000.0 / 92.94),
        eval_ms: n(1482.20),
        eval_tokens: Some(11),
        eval_ms_per_token: n(134.75),
        eval_tps: n(1000.0 / 134.75),
        total_ms: n(26011.47),
        derived: derived(&["eval_tps", "prompt_eval_tps"]),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

#[test]
fn print_timings_2023b_ms_per_token_only() {
    let b = one(include_str!("../../fixtures/llama/2023b_ms_per_token.txt"));
    let t = Timings {
        load_ms: n(1893.40),
        sampling_ms: n(41.02),
        sampling_runs: Some(64),
        prompt_eval_ms: n(1104.87),
        prompt_eval_tokens: Some(14),
        prompt_eval_ms_per_token: n(78.92),
        prompt_eval_tps: n(1000.0 / 78.92),
        eval_ms: n(6912.30),
        eval_tokens: Some(63),
        eval_ms_per_token: n(109.72),
        eval_tps: n(1000.0 / 109.72),
        total_ms: n(8120.77),
        derived: derived(&["eval_tps", "prompt_eval_tps"]),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

#[test]
fn print_timings_2023c_two_blocks_with_inf() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2023c_tokens_per_second.txt"
    ));
    assert_eq!(blocks.len(), 2);
    let first = Timings {
        load_ms: n(31022.48),
        sampling_ms: n(14.80),
        sampling_runs: Some(29),
        prompt_eval_ms: n(9876.54),
        prompt_eval_tokens: Some(12),
        prompt_eval_ms_per_token: n(823.05),
        prompt_eval_tps: n(1.22),
        eval_ms: n(45123.45),
        eval_tokens: Some(28),
        eval_ms_per_token: n(1611.55),
        eval_tps: n(0.62),
        total_ms: n(55111.02),
        ..Timings::default()
    };
    assert_eq!(
        blocks[0],
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), first)
    );
    let t = &blocks[1].timings;
    assert_eq!(blocks[1].line, 7);
    assert_eq!(t.prompt_eval_ms, n(0.0));
    assert_eq!(t.prompt_eval_tps, n(f64::INFINITY));
    assert_eq!(t.prompt_eval_tps.and_then(|v| v.finite()), None);
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(60040.10), Some(40), n(0.67))
    );
    assert_eq!(t.total_ms, n(60101.66));
    assert!(t.derived.is_empty());
}

#[test]
fn print_timings_2023d_decimal_comma() {
    let b = one(include_str!("../../fixtures/llama/2023d_decimal_comma.txt"));
    let t = Timings {
        load_ms: n(812.44),
        sampling_ms: n(25.10),
        sampling_runs: Some(48),
        prompt_eval_ms: n(3573.96),
        prompt_eval_tokens: Some(12),
        prompt_eval_ms_per_token: n(297.83),
        prompt_eval_tps: n(3.36),
        eval_ms: n(13905.64),
        eval_tokens: Some(47),
        eval_ms_per_token: n(295.86),
        eval_tps: n(3.38),
        total_ms: n(17544.71),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

#[test]
fn print_timings_2024a_ten_wide_no_total_count() {
    let b = one(include_str!(
        "../../fixtures/llama/2024a_total_no_count.txt"
    ));
    let t = Timings {
        load_ms: n(198.03),
        sampling_ms: n(11.54),
        sampling_runs: Some(64),
        prompt_eval_ms: n(301.72),
        prompt_eval_tokens: Some(8),
        prompt_eval_ms_per_token: n(37.72),
        prompt_eval_tps: n(26.51),
        eval_ms: n(3987.06),
        eval_tokens: Some(63),
        eval_ms_per_token: n(63.29),
        eval_tps: n(15.80),
        total_ms: n(4342.18),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

#[test]
fn print_timings_2024b_total_tokens_and_inf() {
    let b = one(include_str!("../../fixtures/llama/2024b_total_tokens.txt"));
    let t = Timings {
        load_ms: n(71.40),
        sampling_ms: n(0.0),
        sampling_runs: Some(1),
        prompt_eval_ms: n(12.06),
        prompt_eval_tokens: Some(11),
        prompt_eval_ms_per_token: n(1.10),
        prompt_eval_tps: n(912.11),
        eval_ms: n(0.0),
        eval_tokens: Some(1),
        eval_ms_per_token: n(0.0),
        eval_tps: n(f64::INFINITY),
        total_ms: n(40.02),
        total_tokens: Some(12),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

#[test]
fn overflowing_fields_touch() {
    let b = one(include_str!(
        "../../fixtures/llama/2024_overflow_fields.txt"
    ));
    let t = Timings {
        load_ms: n(41012.55),
        sampling_ms: n(12004.10),
        sampling_runs: Some(287233),
        prompt_eval_ms: n(2716390.91),
        prompt_eval_tokens: Some(286721),
        prompt_eval_ms_per_token: n(9.47),
        prompt_eval_tps: n(105.55),
        eval_ms: n(115222.19),
        eval_tokens: Some(511),
        eval_ms_per_token: n(225.48),
        eval_tps: n(4.43),
        total_ms: n(2843617.25),
        total_tokens: Some(287233),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::LlamaPrintTimings, None, 1, Some("runs"), t)
    );
}

fn perf_2024d() -> Timings {
    Timings {
        sampling_ms: n(2.71),
        sampling_runs: Some(71),
        load_ms: n(611.09),
        prompt_eval_ms: n(82.40),
        prompt_eval_tokens: Some(7),
        prompt_eval_ms_per_token: n(11.77),
        prompt_eval_tps: n(84.95),
        eval_ms: n(1702.33),
        eval_tokens: Some(63),
        eval_ms_per_token: n(27.02),
        eval_tps: n(37.01),
        total_ms: n(1795.68),
        total_tokens: Some(70),
        ..Timings::default()
    }
}

#[test]
fn llama_perf_2024d_timestamped() {
    let b = one(include_str!(
        "../../fixtures/llama/2024d_perf_timestamped.txt"
    ));
    assert_eq!(
        b,
        block(BlockKind::LlamaPerf, None, 1, Some("runs"), perf_2024d())
    );
}

#[test]
fn llama_perf_2025b_graphs_reused() {
    let b = one(include_str!("../../fixtures/llama/2025b_graphs_reused.txt"));
    let t = Timings {
        sampling_ms: n(287.14),
        sampling_runs: Some(300),
        load_ms: n(2410.90),
        prompt_eval_ms: n(3650.02),
        prompt_eval_tokens: Some(18),
        prompt_eval_ms_per_token: n(202.78),
        prompt_eval_tps: n(4.93),
        eval_ms: n(80412.55),
        eval_tokens: Some(282),
        eval_ms_per_token: n(285.15),
        eval_tps: n(3.51),
        total_ms: n(84999.31),
        total_tokens: Some(300),
        graphs_reused: Some(281),
        ..Timings::default()
    };
    assert_eq!(b, block(BlockKind::LlamaPerf, None, 1, Some("runs"), t));
}

#[test]
fn common_perf_print_2025c() {
    let b = one(include_str!(
        "../../fixtures/llama/2025c_common_perf_peval.txt"
    ));
    let t = Timings {
        sampling_ms: n(68.12),
        samplers_ms: n(44.07),
        samplers_runs: Some(500),
        load_ms: n(1190.35),
        prompt_eval_ms: n(18.77),
        prompt_eval_tokens: Some(9),
        prompt_eval_ms_per_token: n(2.09),
        prompt_eval_tps: n(479.49),
        eval_ms: n(4710.93),
        eval_tokens: Some(490),
        eval_ms_per_token: n(9.61),
        eval_tps: n(104.01),
        total_ms: n(4801.44),
        total_tokens: Some(499),
        unaccounted_ms: n(3.62),
        unaccounted_pct: n(0.1),
        graphs_reused: Some(488),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(BlockKind::CommonPerfPrint, None, 1, Some("runs"), t)
    );
}

fn common_2026_timestamped() -> Timings {
    Timings {
        sampling_ms: n(27.55),
        samplers_ms: n(6.86),
        samplers_runs: Some(40),
        load_ms: n(1026.15),
        prompt_eval_ms: n(41.36),
        prompt_eval_tokens: Some(8),
        prompt_eval_ms_per_token: n(5.17),
        prompt_eval_tps: n(193.41),
        eval_ms: n(691.15),
        eval_tokens: Some(31),
        eval_ms_per_token: n(22.30),
        eval_tps: n(44.85),
        total_ms: n(765.60),
        total_tokens: Some(39),
        unaccounted_ms: n(5.54),
        unaccounted_pct: n(0.7),
        graphs_reused: Some(30),
        ..Timings::default()
    }
}

#[test]
fn common_perf_print_2026_timestamped_and_plain() {
    let b = one(include_str!(
        "../../fixtures/llama/2026_common_perf_timestamped.txt"
    ));
    assert_eq!(
        b,
        block(
            BlockKind::CommonPerfPrint,
            None,
            1,
            Some("runs"),
            common_2026_timestamped()
        )
    );
    let b = one(include_str!(
        "../../fixtures/llama/2026_common_perf_plain.txt"
    ));
    let t = &b.timings;
    assert_eq!(
        (t.sampling_ms, t.samplers_ms, t.samplers_runs),
        (n(29.28), n(7.66), Some(40))
    );
    assert_eq!(
        (t.load_ms, t.prompt_eval_ms, t.prompt_eval_tps),
        (n(502.53), n(37.22), n(214.94))
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(689.74), Some(31), n(44.94))
    );
    assert_eq!(
        (t.total_ms, t.unaccounted_ms, t.unaccounted_pct),
        (n(760.28), n(4.04), n(0.5))
    );
}

#[test]
fn common_perf_print_in_full_cpu_and_cuda_logs() {
    let b = one(include_str!(
        "../../fixtures/llama/2026_completion_cpu_stderr.txt"
    ));
    assert_eq!((b.kind, b.line), (BlockKind::CommonPerfPrint, 17));
    let t = &b.timings;
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_ms_per_token),
        (n(1256.99), Some(63), n(19.95))
    );
    assert_eq!(
        (t.eval_tps, t.prompt_eval_tps, t.graphs_reused),
        (n(50.12), n(187.79), Some(62))
    );
    let b = one(include_str!(
        "../../fixtures/llama/2026_completion_cuda_stderr.txt"
    ));
    assert_eq!((b.kind, b.line), (BlockKind::CommonPerfPrint, 16));
    let t = &b.timings;
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(294.58), Some(255), n(865.65))
    );
    assert_eq!(
        (t.prompt_eval_ms, t.prompt_eval_tokens, t.prompt_eval_tps),
        (n(19.75), Some(12), n(607.44))
    );
    assert_eq!(
        (t.unaccounted_ms, t.unaccounted_pct, t.graphs_reused),
        (n(5.42), n(1.4), Some(253))
    );
}

#[test]
fn log_jsonl_records() {
    let b = one(include_str!(
        "../../fixtures/llama/2026_completion_log_jsonl.txt"
    ));
    assert_eq!((b.kind, b.line), (BlockKind::CommonPerfPrint, 55));
    let t = &b.timings;
    assert_eq!(
        (t.sampling_ms, t.samplers_ms, t.load_ms),
        (n(29.33), n(7.43), n(489.48))
    );
    assert_eq!((t.prompt_eval_ms, t.prompt_eval_tps), (n(40.70), n(196.58)));
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(681.87), Some(31), n(45.46))
    );
    assert_eq!(
        (t.total_ms, t.total_tokens, t.unaccounted_pct),
        (n(755.73), Some(39), n(0.5))
    );
    assert_eq!(t.graphs_reused, Some(30));
}

#[test]
fn speculative_2025_draft_and_target() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2025_speculative_draft_target.txt"
    ));
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    let (d, t) = (&blocks[0], &blocks[1]);
    assert_eq!(
        (d.kind, d.label.as_deref(), d.line),
        (BlockKind::LlamaPerf, Some("draft"), 12)
    );
    assert_eq!(
        (d.timings.load_ms, d.timings.prompt_eval_tokens),
        (n(150.31), Some(188))
    );
    assert_eq!(
        (d.timings.eval_tps, d.timings.graphs_reused),
        (n(f64::INFINITY), Some(170))
    );
    assert_eq!(d.timings.sampling_ms, None);
    assert_eq!(
        (t.kind, t.label.as_deref(), t.line),
        (BlockKind::LlamaPerf, Some("target"), 20)
    );
    assert_eq!(
        (t.timings.sampling_ms, t.timings.sampling_runs),
        (n(11.20), Some(130))
    );
    assert_eq!(
        (t.timings.load_ms, t.timings.total_ms),
        (n(802.45), n(3301.07))
    );
    assert_eq!(
        (t.timings.total_tokens, t.timings.graphs_reused),
        (Some(157), Some(28))
    );
}

#[test]
fn speculative_2026_draft_and_target() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2026_speculative_draft_target.txt"
    ));
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    let (d, t) = (&blocks[0], &blocks[1]);
    assert_eq!(
        (d.kind, d.label.as_deref(), d.line),
        (BlockKind::LlamaPerf, Some("draft"), 4)
    );
    assert_eq!(
        (d.timings.prompt_eval_ms, d.timings.total_ms),
        (n(1500.50), n(2200.10))
    );
    assert_eq!(
        (t.kind, t.label.as_deref(), t.line),
        (BlockKind::CommonPerfPrint, Some("target"), 12)
    );
    assert_eq!(
        (t.timings.samplers_ms, t.timings.samplers_runs),
        (n(9.40), Some(128))
    );
    assert_eq!(
        (t.timings.unaccounted_ms, t.timings.unaccounted_pct),
        (n(2224.59), n(78.1))
    );
    assert_eq!(
        (t.timings.eval_tps, t.timings.graphs_reused),
        (n(f64::INFINITY), Some(25))
    );
}

#[test]
fn perplexity_then_main_are_two_blocks() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2023_perplexity_then_main.txt"
    ));
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].line, blocks[1].line), (5, 10));
    assert_eq!(blocks[0].timings.prompt_eval_tokens, Some(5120));
    assert_eq!(blocks[0].timings.eval_tps, n(f64::INFINITY));
    assert_eq!(blocks[1].timings.eval_tps, n(33.00));
    assert_eq!(blocks[1].timings.total_ms, n(3400.00));
    assert!(blocks
        .iter()
        .all(|b| b.label.is_none() && b.timings.derived.is_empty()));
}

#[test]
fn server_slots_cpu_log() {
    let blocks = parse_clean(include_str!("../../fixtures/llama/2026_server_log_cpu.txt"));
    let labels: Vec<_> = blocks
        .iter()
        .map(|b| (b.label.as_deref(), b.line))
        .collect();
    assert_eq!(
        labels,
        [
            (Some("slot 3 task 0"), 12),
            (Some("slot 2 task 18"), 19),
            (Some("slot 2 task 37"), 26)
        ]
    );
    let t = Timings {
        prompt_eval_ms: n(47.16),
        prompt_eval_tokens: Some(8),
        prompt_eval_ms_per_token: n(5.90),
        prompt_eval_tps: n(169.63),
        eval_ms: n(353.19),
        eval_tokens: Some(16),
        eval_ms_per_token: n(23.55),
        eval_tps: n(42.47),
        total_ms: n(400.35),
        total_tokens: Some(24),
        graphs_reused: Some(15),
        ..Timings::default()
    };
    assert_eq!(
        blocks[0],
        block(
            BlockKind::ServerSlot,
            Some("slot 3 task 0"),
            12,
            Some("tokens"),
            t
        )
    );
    assert_eq!(blocks[2].timings.eval_tps, n(44.30));
}

#[test]
fn server_slots_cuda_log() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2026_server_log_cuda.txt"
    ));
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[1].label.as_deref(), Some("slot 3 task 129"));
    let t = &blocks[1].timings;
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(135.43), Some(64), n(465.18))
    );
    assert_eq!(
        (t.total_ms, t.total_tokens, t.graphs_reused),
        (n(137.25), Some(65), Some(191))
    );
}

#[test]
fn server_slot_draft_acceptance_with_wrapper_prefix() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2026_server_slot_draft_wrapped.txt"
    ));
    assert_eq!(blocks.len(), 2);
    let t = Timings {
        prompt_eval_ms: n(210.33),
        prompt_eval_tokens: Some(640),
        prompt_eval_ms_per_token: n(0.33),
        prompt_eval_tps: n(3042.84),
        eval_ms: n(1843.20),
        eval_tokens: Some(512),
        eval_ms_per_token: n(3.60),
        eval_tps: n(277.78),
        total_ms: n(2053.53),
        total_tokens: Some(1152),
        graphs_reused: Some(301),
        draft_acceptance: n(0.71250),
        draft_accepted: Some(285),
        draft_generated: Some(400),
        ..Timings::default()
    };
    assert_eq!(
        blocks[0],
        block(
            BlockKind::ServerSlot,
            Some("slot 0 task 388"),
            2,
            Some("tokens"),
            t
        )
    );
    assert_eq!(
        (blocks[1].label.as_deref(), blocks[1].line),
        (Some("slot 1 task 390"), 8)
    );
    assert_eq!(blocks[1].timings.total_ms, n(102.50));
}

#[test]
fn server_slot_bare_header_with_continuation_lines() {
    let b = one(include_str!(
        "../../fixtures/llama/2026_server_slot_continuation.txt"
    ));
    let t = Timings {
        prompt_eval_ms: n(530.12),
        prompt_eval_tokens: Some(1024),
        prompt_eval_ms_per_token: n(0.52),
        prompt_eval_tps: n(1931.62),
        eval_ms: n(4012.44),
        eval_tokens: Some(256),
        eval_ms_per_token: n(15.67),
        eval_tps: n(63.80),
        total_ms: n(4542.56),
        total_tokens: Some(1280),
        graphs_reused: Some(255),
        ..Timings::default()
    };
    // The stray unprefixed line after `release` belongs to no block.
    assert_eq!(
        b,
        block(
            BlockKind::ServerSlot,
            Some("slot 0 task 388"),
            1,
            Some("tokens"),
            t
        )
    );
}

/// llama-server's 2026 block as quoted in issues: no `slot print_timing:` prefix.
#[test]
fn server_block_without_slot_prefix_with_draft_acceptance() {
    let b = one(include_str!(
        "../../fixtures/llama/2026_server_bare_block_draft.txt"
    ));
    let t = Timings {
        prompt_eval_ms: n(210.33),
        prompt_eval_tokens: Some(640),
        prompt_eval_ms_per_token: n(0.33),
        prompt_eval_tps: n(3042.84),
        eval_ms: n(1843.20),
        eval_tokens: Some(512),
        eval_ms_per_token: n(3.60),
        eval_tps: n(277.78),
        total_ms: n(2053.53),
        total_tokens: Some(1152),
        graphs_reused: Some(301),
        draft_acceptance: n(0.71250),
        draft_accepted: Some(285),
        draft_generated: Some(400),
        ..Timings::default()
    };
    assert_eq!(b, block(BlockKind::ServerSlot, None, 1, Some("tokens"), t));
}

#[test]
fn two_bare_server_blocks_in_a_pasted_comment() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2026_server_bare_block_two.txt"
    ));
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    assert_eq!((blocks[0].line, blocks[1].line), (4, 11));
    let (a, b) = (&blocks[0].timings, &blocks[1].timings);
    assert_eq!(
        (a.eval_tps, a.eval_tokens, a.graphs_reused),
        (n(42.47), Some(16), Some(15))
    );
    assert_eq!((a.prompt_eval_tps, a.total_ms), (n(169.63), n(400.35)));
    assert_eq!(a.draft_acceptance, None);
    assert_eq!(
        (b.eval_tps, b.prompt_eval_tokens, b.total_tokens),
        (n(333.33), Some(4), Some(34))
    );
    assert_eq!(
        (b.draft_acceptance, b.draft_accepted, b.draft_generated),
        (n(0.66667), Some(20), Some(30))
    );
}

#[test]
fn server_2024_text_log_generation_eval() {
    let b = one(include_str!(
        "../../fixtures/llama/2024_server_text_generation_eval.txt"
    ));
    let t = Timings {
        prompt_eval_ms: n(28.75),
        prompt_eval_tokens: Some(10),
        prompt_eval_ms_per_token: n(2.88),
        prompt_eval_tps: n(347.83),
        eval_ms: n(512.40),
        eval_tokens: Some(31),
        eval_ms_per_token: n(16.53),
        eval_tps: n(60.50),
        total_ms: n(541.15),
        ..Timings::default()
    };
    assert_eq!(
        b,
        block(
            BlockKind::ServerSlot,
            Some("slot 0 task 5"),
            1,
            Some("runs"),
            t
        )
    );
}

#[test]
fn server_2024_json_logs_llama_and_ollama() {
    let blocks = parse_clean(include_str!(
        "../../fixtures/llama/2024_server_json_log.txt"
    ));
    assert_eq!(blocks.len(), 2);
    let a = &blocks[0];
    assert_eq!(
        (a.kind, a.label.as_deref(), a.line),
        (BlockKind::ServerSlot, Some("slot 0 task 2"), 1)
    );
    assert_eq!(
        (a.timings.prompt_eval_ms, a.timings.prompt_eval_tps),
        (n(40.10), n(324.19))
    );
    assert_eq!(
        (a.timings.eval_ms, a.timings.eval_tokens, a.timings.eval_tps),
        (n(700.50), Some(40), n(57.10))
    );
    assert_eq!(a.timings.total_ms, n(740.60));
    let b = &blocks[1];
    assert_eq!((b.label.as_deref(), b.line), (Some("slot 1 task 9"), 4));
    assert_eq!(
        (b.timings.eval_ms, b.timings.eval_tps, b.timings.total_ms),
        (n(2050.00), n(24.39), n(2351.20))
    );
}

#[test]
fn cli_footer() {
    let b = one(include_str!("../../fixtures/llama/2026_cli_footer.txt"));
    let t = Timings {
        prompt_eval_tps: n(812.4),
        eval_tps: n(61.9),
        ..Timings::default()
    };
    assert_eq!(b, block(BlockKind::CliFooter, None, 5, None, t));
    let b = one(include_str!(
        "../../fixtures/llama/2026_cli_footer_decimal_comma.txt"
    ));
    assert_eq!(
        (b.timings.prompt_eval_tps, b.timings.eval_tps, b.line),
        (n(178.2), n(23.7), 1)
    );
}

#[test]
fn truncated_and_garbage_lines_warn_and_keep_the_rest() {
    let out = parse_timings(include_str!(
        "../../fixtures/llama/2026_truncated_garbage.txt"
    ));
    let lines: Vec<usize> = out.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7], "{:#?}", out.warnings);
    assert_eq!(
        out.warnings[0].message,
        "timing line 'load time = 50x.53 ms' not fully read: expected 'X ms'"
    );
    assert_eq!(out.blocks.len(), 1);
    let t = &out.blocks[0].timings;
    assert_eq!(
        (t.sampling_ms, t.samplers_ms, t.samplers_runs),
        (n(29.28), n(7.66), Some(40))
    );
    assert_eq!(t.load_ms, None);
    // What was printed before the cut is kept; the cut part is not guessed.
    assert_eq!(
        (t.prompt_eval_ms, t.prompt_eval_tokens, t.prompt_eval_tps),
        (n(37.22), Some(8), None)
    );
    assert_eq!(
        (t.eval_ms, t.eval_tokens, t.eval_tps),
        (n(689.74), None, None)
    );
    assert_eq!((t.total_ms, t.graphs_reused), (None, None));
}

#[test]
fn empty_and_unrelated_input() {
    assert_eq!(parse_timings(""), TimingsOutput::default());
    assert_eq!(parse_timings("\n\n\r\n"), TimingsOutput::default());
    assert_eq!(
        parse_timings("hello\nworld: eval time = 5 ms\nfoo = bar"),
        TimingsOutput::default()
    );
    let out = parse_timings("common_perf_print:        eval time =");
    assert_eq!((out.blocks.len(), out.warnings.len()), (0, 1));
}

#[test]
fn huge_count_is_a_warning_not_a_panic() {
    let out = parse_timings("llama_perf_context_print:    graphs reused = 99999999999999999999999");
    assert_eq!(out.blocks, []);
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn tabs_crlf_and_nan() {
    let text = "llama_print_timings:\tload time =  10.00 ms\r\nllama_print_timings:        eval time =  0.00 ms /  1 runs   (  nan ms per token,  -nan tokens per second)\r\n";
    let b = one(text);
    assert_eq!(b.timings.load_ms, n(10.0));
    assert!(b.timings.eval_ms_per_token.is_some_and(|v| v.0.is_nan()));
    assert!(b.timings.eval_tps.is_some_and(|v| v.0.is_nan()));
    assert!(b.timings.derived.is_empty());
}

/// The own-run recordings also kept in `shared/samples/public/` (copied
/// byte for byte into `fixtures/llama/`). Other people's public samples are
/// checked by the shared-samples suite (`tests/shared_samples/`).
mod own_run {
    use super::*;

    use crate::fixtures::read_fixture;

    #[test]
    fn current_logs_of_every_kind() {
        let b = one(&read_fixture("llama/2026_common_perf_timestamped.txt"));
        assert_eq!(b.timings, common_2026_timestamped());
        let b = one(&read_fixture(
            "llama/2026_completion_cpu_full_stderr_timestamped.txt",
        ));
        assert_eq!(b.timings, common_2026_timestamped());
        let t = one(&read_fixture("llama/2026_completion_log_jsonl.txt")).timings;
        assert_eq!((t.eval_ms, t.eval_tps), (n(681.87), n(45.46)));
    }

    #[test]
    fn server_log() {
        let blocks = parse_clean(&read_fixture("llama/2026_server_log_cpu.txt"));
        assert_eq!(blocks.len(), 3);
        let t = &blocks[1].timings;
        assert_eq!(blocks[1].label.as_deref(), Some("slot 2 task 18"));
        assert_eq!(
            (t.prompt_eval_ms, t.prompt_eval_tokens, t.prompt_eval_tps),
            (n(93.97), Some(26), n(276.69))
        );
        assert_eq!(
            (t.eval_ms, t.eval_tps, t.graphs_reused),
            (n(337.37), n(44.46), Some(29))
        );
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const FIXTURES: &[&str] = &[
        include_str!("../../fixtures/llama/2023pre_main.txt"),
        include_str!("../../fixtures/llama/2023d_decimal_comma.txt"),
        include_str!("../../fixtures/llama/2024_overflow_fields.txt"),
        include_str!("../../fixtures/llama/2024_server_json_log.txt"),
        include_str!("../../fixtures/llama/2026_speculative_draft_target.txt"),
        include_str!("../../fixtures/llama/2026_server_slot_continuation.txt"),
        include_str!("../../fixtures/llama/2026_completion_log_jsonl.txt"),
        include_str!("../../fixtures/llama/2026_cli_footer.txt"),
    ];

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC*") {
            let _ = parse_timings(&s);
        }

        #[test]
        fn never_panics_on_mutated_fixtures(
            idx in 0..FIXTURES.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = FIXTURES[idx].as_bytes().to_vec();
            for (at, byte) in edits {
                let i = at.index(bytes.len().max(1));
                if i < bytes.len() { bytes[i] = byte; }
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_timings(&text);
        }
    }
}
