//! Snapshots (insta) of `tokbench compare`'s reporters over a recorded H200
//! comparison (fixtures/results): table, markdown and csv. Accept an
//! intended change with `cargo insta review` (or `INSTA_UPDATE=always`).

use crate::compare::report::{build, Judge, Pairing};
use crate::format::Format;
use crate::model::RunRecord;

fn records(name: &str) -> Vec<RunRecord> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/results")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn compare_text(format: Format) -> String {
    let judge = Judge {
        primary: "eval_tps".into(),
        threshold: 0.01,
        fail_if_slower_pct: Some(5.0),
        primary_override: None,
    };
    let mut report = build(
        records("h200_compare_cpu_vs_cuda.jsonl"),
        Pairing::Interleaved,
        &judge,
    );
    report.tokbench_version = "test".into();
    crate::compare::render::render(&report, format)
}

#[test]
fn compare_cpu_vs_cuda_table() {
    insta::assert_snapshot!(compare_text(Format::Table));
}

#[test]
fn compare_cpu_vs_cuda_markdown() {
    insta::assert_snapshot!(compare_text(Format::Markdown));
}

#[test]
fn compare_cpu_vs_cuda_csv() {
    insta::assert_snapshot!(compare_text(Format::Csv));
}
