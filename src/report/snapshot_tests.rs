//! Snapshots (insta) of every reporter's output over recorded H200 runs
//! (fixtures/results): `tokbench run`'s table, markdown and csv
//! (`compare`'s are in `compare::snapshot_tests`). A change to a reporter shows as a diff of its
//! snapshot under `src/report/snapshots/`; accept it with `cargo insta
//! review` (or `INSTA_UPDATE=always`) once it is the intended output.

use crate::format::Format;
use crate::model::RunRecord;
use crate::report::{render, RunReport};

fn records(name: &str) -> Vec<RunRecord> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/results")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_report(name: &str) -> RunReport {
    let mut r = RunReport::from_records(records(name));
    // The version of the tokbench that renders, not of the one that ran.
    r.tokbench_version = "test".into();
    r
}

#[test]
fn run_completion_cuda_table() {
    // Every column: the snapshot must not depend on the terminal it ran in.
    insta::assert_snapshot!(crate::report::table::render_at(
        &run_report("h200_completion_cuda.jsonl"),
        None
    ));
}

#[test]
fn run_completion_cuda_markdown() {
    insta::assert_snapshot!(render(
        &run_report("h200_completion_cuda.jsonl"),
        Format::Markdown
    ));
}

#[test]
fn run_completion_cuda_csv() {
    insta::assert_snapshot!(render(
        &run_report("h200_completion_cuda.jsonl"),
        Format::Csv
    ));
}

#[test]
fn run_llama_bench_table() {
    insta::assert_snapshot!(crate::report::table::render_at(
        &run_report("h200_llama_bench.jsonl"),
        None
    ));
}

#[test]
fn run_llama_bench_markdown() {
    insta::assert_snapshot!(render(
        &run_report("h200_llama_bench.jsonl"),
        Format::Markdown
    ));
}

#[test]
fn run_llama_bench_csv() {
    insta::assert_snapshot!(render(&run_report("h200_llama_bench.jsonl"), Format::Csv));
}
