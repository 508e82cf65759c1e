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

fn cpu_vs_cuda() -> crate::compare::report::CompareReport {
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
    report
}

fn compare_text(format: Format) -> String {
    crate::compare::render::render(&cpu_vs_cuda(), format)
}

#[test]
fn compare_cpu_vs_cuda_table() {
    // Every column, no colour: the snapshot must not depend on the terminal.
    insta::assert_snapshot!(crate::compare::render::table_at(&cpu_vs_cuda(), None));
}

#[test]
fn compare_cpu_vs_cuda_markdown() {
    insta::assert_snapshot!(compare_text(Format::Markdown));
}

#[test]
fn compare_cpu_vs_cuda_csv() {
    insta::assert_snapshot!(compare_text(Format::Csv));
}

#[test]
fn compare_cpu_vs_cuda_table_fits_80_columns() {
    let t = crate::compare::render::table_at(&cpu_vs_cuda(), Some(80));
    let table: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
        .collect();
    assert!(!table.is_empty());
    for l in &table {
        assert!(l.chars().count() <= 80, "{l}");
    }
    // No cell is wrapped: every metric keeps its one row.
    assert_eq!(
        table.iter().filter(|l| l.contains("│ eval_tps ")).count(),
        1
    );
    assert!(
        t.contains("left out to fit 80 columns: p, medians B/A"),
        "{t}"
    );
    insta::assert_snapshot!(t);
}

#[test]
fn incompatible_inputs_are_warned_about_first_and_say_what_differs() {
    let mut records = records("h200_compare_cpu_vs_cuda.jsonl");
    for r in records
        .iter_mut()
        .filter(|r| r.side.as_deref() == Some("b"))
    {
        let i = r.argv.iter().position(|a| a == "-n").unwrap();
        r.argv[i + 1] = "1024".into();
    }
    let judge = Judge {
        primary: "eval_tps".into(),
        threshold: 0.01,
        fail_if_slower_pct: None,
        primary_override: None,
    };
    let report = build(records, Pairing::Separate, &judge);
    let w = &report.warnings[0];
    assert!(w.starts_with(crate::compare::report::INCOMPATIBLE), "{w}");
    assert!(
        w.contains("A -n 128; -ngl 0; -dev none / B -n 1024; -ngl 999"),
        "{w}"
    );
    let t = crate::compare::render::table_at(&report, None);
    assert!(t.starts_with("WARNING: A and B are not comparable"), "{t}");
    let md = crate::compare::render::render(&report, Format::Markdown);
    assert!(
        md.starts_with("> **WARNING: A and B are not comparable"),
        "{md}"
    );
}

#[test]
fn the_fa_style_comparison_is_not_called_incompatible() {
    let report = cpu_vs_cuda();
    assert!(!report
        .warnings
        .iter()
        .any(|w| w.starts_with(crate::compare::report::INCOMPATIBLE)));
}

#[test]
fn the_medians_column_agrees_with_the_medians_beside_it() {
    let report = cpu_vs_cuda();
    let t = crate::compare::render::table_at(&report, None);
    // load_ms 616.20 -> 523.49: the medians' ratio is -15.05 %; the
    // paired estimate (-13.18 %) has its own, labelled column.
    let row = t.lines().find(|l| l.contains("│ load_ms ")).unwrap();
    let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).collect();
    assert_eq!(
        &cells[1..7],
        ["load_ms", "ms", "616", "523", "-15.05%", "-13.18%"]
    );
    assert!(t.contains("B/A (HL est.): paired Hodges-Lehmann estimate"));
    assert!(!t.contains("-0.00%"));
}

#[test]
fn pr_markdown_has_one_row_per_test_and_a_details_block() {
    let md = compare_text(Format::Markdown);
    let head = md.lines().find(|l| l.starts_with("| model |")).unwrap();
    assert_eq!(
        head,
        "| model | size | backend | test | t/s A: llama-completion@0c1e570 | t/s B: llama-completion@0c1e570 | speedup | 95% CI | verdict |"
    );
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| rand-1b-q4_k_m |"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(
        rows[0].contains("| tg128 | 52.1 | 809.2 | 15.611 | 14.676 .. 16.027 | faster |"),
        "{}",
        rows[0]
    );
    let details = md.find("<details>").unwrap();
    assert!(md[details..].contains("| eval_tps | t/s |"));
    assert!(md.trim_end().ends_with("</details>"));
}
