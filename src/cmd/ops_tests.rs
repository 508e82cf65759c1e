//! `ops --auto` sessions on recorded test-backend-ops output (the pinned
//! CPU build's SQL for two ADD cases), replayed by the executor mock.

use super::*;
use crate::cli::{Cli, Command};
use crate::compare::stats::{SplitMix64, Verdict};
use crate::driver::probe::ToolKind;
use crate::engine::order::{pair_order, Side};
use crate::engine::test_support::{bin, cell, fixture};
use crate::runner::executor::{Recorded, Replay};
use clap::Parser;

fn args(extra: &[&str]) -> OpsArgs {
    let argv = ["tokbench", "ops", "--a", "a", "--b", "b", "--device", "CPU"];
    match Cli::try_parse_from(argv.iter().chain(extra))
        .unwrap()
        .command
    {
        Command::Ops(a) => *a,
        _ => unreachable!(),
    }
}

fn cells(dir: &Path) -> Vec<Cell> {
    let mut a = cell(bin(dir, "a"), ToolKind::BackendOps, vec![false]);
    let mut b = cell(bin(dir, "b"), ToolKind::BackendOps, vec![false]);
    (a.side, b.side) = (Some("a"), Some("b"));
    vec![a, b]
}

/// The recorded SQL with each case's time_us times its factor and noise.
fn recording(factors: [f64; 2], rng: &mut SplitMix64, noise: f64) -> Recorded {
    let sql = fixture("test-backend-ops/cpu_0c1e570_add.sql");
    let mut case = 0;
    let lines: Vec<String> = sql
        .lines()
        .map(|l| {
            if !l.starts_with("INSERT") {
                return l.to_string();
            }
            let mut v: Vec<String> = l.split("', '").map(str::to_string).collect();
            let t: f64 = v[9].parse().unwrap();
            v[9] = format!("{:.6}", t * factors[case] * (1.0 + noise * rng.gaussian()));
            case += 1;
            v.join("', '")
        })
        .collect();
    Recorded::ok(&lines.join("\n"), "", 1200)
}

/// Recordings for `pairs` pairs in the engine's ABBA order; B's second
/// case (ne=[4096,512]) takes `slow` times A's.
fn replay(pairs: usize, slow: f64, seed: u64) -> Replay {
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::new();
    for k in 0..pairs {
        for side in pair_order(k) {
            let f = match side {
                Side::A => [1.0, 1.0],
                Side::B => [1.0, slow],
            };
            out.push(recording(f, &mut rng, 0.003));
        }
    }
    Replay::new(out)
}

fn run(a: &OpsArgs, exec: &Replay) -> (OpsReport, Vec<RunRecord>) {
    let dir = tempfile::tempdir().unwrap();
    let cells = cells(dir.path());
    let (records, stop, auto) = session(&cells, a, exec, &mut Sinks::none()).unwrap();
    assert_eq!(stop, Stop::Completed);
    let (ra, rb) = rounds_of(&records);
    let report = build_report(a, &cells, (&ra, &rb), auto.as_ref(), "CPU");
    (report, records)
}

#[test]
fn auto_decides_a_planted_slowdown_before_the_budget() {
    let a = args(&["--auto", "--fail-if-slower", "5"]);
    let exec = replay(50, 1.10, 11);
    let (report, records) = run(&a, &exec);
    let auto = report.auto.clone().unwrap();
    assert_eq!(auto.stop, AutoStop::Decided);
    // Two cases: the first look where an interval exists at 1 - 5%/(K*2).
    assert_eq!(auto.rounds, auto.looks[0]);
    assert!(auto.rounds < 50);
    assert_eq!(records.len(), 2 * auto.rounds);
    assert_eq!(exec.calls().len(), 2 * auto.rounds);
    let rows = &report.comparison.as_ref().unwrap().rows;
    assert_eq!(rows.len(), 2);
    let at = Some(auto.rounds);
    assert!(rows.iter().all(|r| r.decided_at_round == at), "{rows:?}");
    assert_eq!(rows[0].verdict, Verdict::Slower);
    assert!(
        rows[0].params.contains("nr=[1,512,1,1]"),
        "{}",
        rows[0].params
    );
    assert_eq!(rows[1].verdict, Verdict::NoChange);
    let change = rows[0].change_pct.unwrap();
    assert!((change - 10.0).abs() < 0.5, "{change}");
    assert_eq!(report.regressions.len(), 1);
    let text = render(&report, crate::format::Format::Table);
    assert!(text.contains("every case decided after"), "{text}");
    assert!(text.contains(&format!("round {}", auto.rounds)), "{text}");
}

#[test]
fn an_a_a_session_stops_without_a_false_verdict() {
    let a = args(&["--auto", "--max-rounds", "20"]);
    for seed in 0..5 {
        let (report, _) = run(&a, &replay(20, 1.0, seed));
        let auto = report.auto.clone().unwrap();
        assert!(
            matches!(auto.stop, AutoStop::Decided | AutoStop::RoundBudget),
            "{auto:?}"
        );
        for r in &report.comparison.as_ref().unwrap().rows {
            assert!(
                matches!(r.verdict, Verdict::NoChange | Verdict::Inconclusive),
                "seed {seed}: {} {:?}",
                r.params,
                r.verdict
            );
        }
    }
}

#[test]
fn fixed_rounds_keep_the_95_percent_report_without_auto() {
    let a = args(&["--rounds", "8"]);
    let (report, records) = run(&a, &replay(8, 1.10, 2));
    assert_eq!((report.rounds, records.len()), (8, 16));
    assert!(report.auto.is_none());
    let rows = &report.comparison.as_ref().unwrap().rows;
    assert_eq!(rows[0].verdict, Verdict::Slower);
    assert_eq!(rows[0].decided_at_round, None);
}

#[test]
fn rounds_and_auto_conflict_and_auto_needs_two_builds() {
    let argv = [
        "tokbench", "ops", "--a", "a", "--b", "b", "--auto", "--rounds", "5",
    ];
    let e = Cli::try_parse_from(argv).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
    let one = match Cli::try_parse_from(["tokbench", "ops", "--a", "a", "--auto"])
        .unwrap()
        .command
    {
        Command::Ops(a) => *a,
        _ => unreachable!(),
    };
    let err = super::run(&one, &DbChoice::resolve(None, true)).unwrap_err();
    assert_eq!(crate::exit::error_code(&err), 2);
    assert!(
        err.to_string().contains("--auto decides a comparison"),
        "{err}"
    );
}
