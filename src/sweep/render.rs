//! The sweep's result as a table, markdown, json or csv. One grid of cells
//! (header and rows of text) feeds the table, markdown and csv, so the
//! three always agree; json is the [`SweepResult`] itself.

use super::race::Status;
use super::result::{Row, SweepResult};
use crate::format::Format;
use crate::grid::{md_cell, Column, Grid};

/// The cells' grid: what the table and the markdown print; the lines under
/// it are its notes.
fn grid(r: &SweepResult) -> Grid {
    let mut g = Grid::new(vec![
        Column::left("cell"),
        Column::right("median"),
        Column::right("vs best (95% CI)").short("vs best"),
        Column::right("rounds").priority(3),
        Column::left("status"),
        Column::right("peak RSS").priority(2),
        Column::right("GPU mem").priority(2),
        Column::right("J/token").priority(1),
    ]);
    for row in &r.rows {
        g.row(grid_row(r, row));
    }
    g.notes = footer(r);
    g
}

pub fn render(r: &SweepResult, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        Format::Csv => csv(r),
        Format::Markdown => markdown(r),
        Format::Table => table(r),
    }
}

/// The status as one cell of text.
pub fn status_text(s: &Status) -> String {
    match s {
        Status::Best => "best".into(),
        Status::Tied => "tied".into(),
        Status::Eliminated { round } => format!("eliminated at round {round}"),
        Status::Infeasible { cause } => format!("infeasible ({})", shorten(&cause.to_string())),
        Status::Undecided => "undecided".into(),
    }
}

/// A row's status; an undecided cell of a sweep that took no look says why.
fn row_status(r: &SweepResult, row: &Row) -> String {
    match (&row.status, r.looks_taken) {
        (Status::Undecided, 0) => format!("undecided / {}", too_few(r)),
        (s, _) => status_text(s),
    }
}

/// Why a sweep that judged nothing could not: the rounds ended before the
/// first look, or (a tiny `--max-rounds`) the look had no interval.
fn too_few(r: &SweepResult) -> String {
    match r.first_look {
        Some(n) if r.rounds < n => format!("not enough rounds (first look at round {n})"),
        _ => "too few rounds for an interval at the per-look level (raise --max-rounds)".into(),
    }
}

/// Whether the sweep judged nothing: feasible cells, none best.
fn nothing_decided(r: &SweepResult) -> bool {
    let feasible = r.rows.iter().any(|row| row.median.is_some());
    feasible && !r.rows.iter().any(|row| matches!(row.status, Status::Best))
}

/// Longest cause shown in a table cell (the json keeps it whole).
const MAX_CAUSE: usize = 72;

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_CAUSE {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX_CAUSE - 1).collect();
    format!("{head}…")
}

fn mib(b: Option<u64>) -> String {
    b.map_or("-".into(), crate::report::human::bytes)
}

fn change_text(res: &SweepResult, r: &Row) -> String {
    let leader = res.leader.as_deref() == Some(r.cell.as_str());
    match (r.change_pct, r.change_ci_low_pct, r.change_ci_high_pct) {
        (Some(c), _, _) if matches!(r.status, Status::Best) => format!("{c:+.2}%"),
        (Some(c), _, _) if leader => format!("{c:+.2}% (the leader, not judged)"),
        (Some(c), Some(lo), Some(hi)) => format!("{c:+.2}% [{lo:+.2}, {hi:+.2}]"),
        (Some(c), _, _) => format!("{c:+.2}% (too few rounds for an interval)"),
        _ => "-".into(),
    }
}

fn grid_row(res: &SweepResult, r: &Row) -> [String; 8] {
    [
        r.cell.clone(),
        r.median.map_or("-".into(), |m| format!("{m:.2}")),
        change_text(res, r),
        r.rounds.to_string(),
        row_status(res, r),
        mib(r.peak_rss_bytes),
        mib(r.gpu_mem_bytes),
        r.j_per_token.map_or("-".into(), |j| format!("{j:.4}")),
    ]
}

/// The lines under the table: groups, front, drift, racing, recommendation.
pub fn footer(r: &SweepResult) -> Vec<String> {
    let groups = match nothing_decided(r) {
        true => format!(
            "no cell was decided: the sweep ended ({}) after {} round(s): {}; the changes are against the leader so far, not judged",
            r.stop.map_or("-", |s| s.text()),
            r.rounds,
            too_few(r)
        ),
        false => format!("tied with the best: {}", list(&r.tied_group)),
    };
    let mut out = vec![
        groups,
        format!(
            "Pareto front ({}): {}",
            r.pareto_objectives.join(", "),
            list(&r.pareto)
        ),
    ];
    out.extend(drift_line(r));
    out.push(racing_line(r));
    if let Some(rec) = &r.recommendation {
        out.push(format!("recommendation: {}", rec.completion));
        out.push(format!("recommendation (llama-server): {}", rec.server));
        out.push(format!("  ({}: {})", rec.cell, rec.why));
        out.extend(rec.notes.iter().map(|n| format!("  note: {n}")));
    } else if nothing_decided(r) {
        out.push("recommendation: none (no cell was decided)".into());
    } else {
        out.push("recommendation: none (no feasible cell)".into());
    }
    out
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn racing_line(r: &SweepResult) -> String {
    let saved = if r.runs_without_racing > 0 {
        100.0 * (1.0 - r.runs as f64 / r.runs_without_racing as f64)
    } else {
        0.0
    };
    let level = r.per_look_confidence.map_or(String::new(), |c| {
        format!(
            "; decisions at {:.3}% per look (looks at rounds {:?})",
            100.0 * c,
            r.looks
        )
    });
    let cut = r.unfinished_round.map_or(String::new(), |u| {
        format!(
            " mid-round (the {} run(s) of round {} are in -o and the history, not in these figures)",
            u.runs, u.round
        )
    });
    format!(
        "racing: {} rounds, {} runs ({saved:.0}% fewer than every cell every round); ended: {}{cut}; seed {}{level}",
        r.rounds,
        r.runs,
        r.stop.map_or("-", |s| s.text()),
        r.seed
    )
}

fn drift_line(r: &SweepResult) -> Option<String> {
    let d = r.drift.as_ref()?;
    let t = d.a.as_ref()?;
    let text = if !d.drift {
        format!(
            "drift: none significant over the rounds (best: {:+.2}%, p={:.2})",
            t.total_change_pct, t.p_value
        )
    } else if d.cancelled {
        format!("drift: the best's {:+.2}% over the rounds (p={:.3}) hit every cell alike; the comparisons paired by round cancel it", t.total_change_pct, t.p_value)
    } else {
        format!("drift: {:+.2}% over the rounds (p={:.3}) and the paired ratios trend too: read the changes with care", t.total_change_pct, t.p_value)
    };
    Some(text)
}

fn headline(r: &SweepResult) -> String {
    format!(
        "sweep of {} cells on {} ({}), threshold {:.2}%",
        r.rows.len(),
        r.metric,
        match r.direction {
            crate::compare::stats::Direction::HigherIsBetter => "higher is better",
            crate::compare::stats::Direction::LowerIsBetter => "lower is better",
        },
        r.threshold * 100.0
    )
}

fn table(r: &SweepResult) -> String {
    format!("{}\n{}", headline(r), grid(r).to_terminal())
}

fn markdown(r: &SweepResult) -> String {
    format!("**{}**\n\n{}", md_cell(&headline(r)), grid(r).to_markdown())
}

fn csv(r: &SweepResult) -> String {
    let mut g = Grid::plain(&[
        "cell",
        "median",
        "change_pct",
        "change_ci_low_pct",
        "change_ci_high_pct",
        "rounds",
        "status",
        "peak_rss_bytes",
        "gpu_mem_bytes",
        "j_per_token",
        "tied",
        "pareto",
    ]);
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let opt_u = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    for row in &r.rows {
        g.row([
            row.cell.clone(),
            opt(row.median),
            opt(row.change_pct),
            opt(row.change_ci_low_pct),
            opt(row.change_ci_high_pct),
            row.rounds.to_string(),
            row_status(r, row),
            opt_u(row.peak_rss_bytes),
            opt_u(row.gpu_mem_bytes),
            opt(row.j_per_token),
            r.tied_group.contains(&row.cell).to_string(),
            r.pareto.contains(&row.cell).to_string(),
        ]);
    }
    g.to_csv()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::stats::Direction;
    use crate::sweep::infeasible::{Cause, CauseKind};
    use crate::sweep::race::{StopReason, UnfinishedRound};
    use crate::sweep::recommend::Recommendation;

    fn row(
        cell: &str,
        median: Option<f64>,
        change: Option<(f64, f64, f64)>,
        status: Status,
    ) -> Row {
        Row {
            cell: cell.into(),
            args: shlex::split(cell).unwrap(),
            coords: vec![0],
            median,
            change_pct: change.map(|c| c.0),
            change_ci_low_pct: change.map(|c| c.1),
            change_ci_high_pct: change.map(|c| c.2),
            rounds: if median.is_some() { 12 } else { 0 },
            status,
            peak_rss_bytes: median.map(|_| 512 << 20),
            gpu_mem_bytes: None,
            j_per_token: None,
        }
    }

    fn result() -> SweepResult {
        SweepResult {
            metric: "eval_tps".into(),
            dimensions: vec![],
            direction: Direction::HigherIsBetter,
            threshold: 0.01,
            alpha: 0.05,
            seed: 7,
            rounds: 12,
            runs: 30,
            runs_without_racing: 36,
            stop: Some(StopReason::AllTied),
            unfinished_round: None,
            per_look_confidence: Some(0.9995),
            looks: vec![12],
            looks_taken: 1,
            first_look: Some(12),
            leader: Some("-t 2".into()),
            rows: vec![
                row("-t 2", Some(50.0), Some((0.0, 0.0, 0.0)), Status::Best),
                row("-t 1", Some(49.9), Some((-0.2, -0.6, 0.3)), Status::Tied),
                row(
                    "-t 4",
                    Some(40.0),
                    Some((-20.0, -21.0, -19.0)),
                    Status::Eliminated { round: 6 },
                ),
                row(
                    "-t 8",
                    None,
                    None,
                    Status::Infeasible {
                        cause: Cause {
                            kind: CauseKind::OutOfMemory,
                            line: "cudaMalloc failed: out of memory".into(),
                        },
                    },
                ),
            ],
            tied_group: vec!["-t 2".into(), "-t 1".into()],
            pareto: vec!["-t 2".into()],
            pareto_objectives: vec!["metric".into(), "host memory".into()],
            drift: None,
            recommendation: Some(Recommendation {
                cell: "-t 2".into(),
                why: "the least host memory among the 2 cells tied with the best".into(),
                completion: "llama-completion -m m.gguf -t 2".into(),
                server: "llama-server -m m.gguf -t 2".into(),
                notes: vec![],
            }),
        }
    }

    #[test]
    fn the_table_shows_statuses_groups_and_the_recommendation() {
        let t = render(&result(), Format::Table);
        assert!(t.contains("-0.20% [-0.60, +0.30]"), "{t}");
        assert!(t.contains("eliminated at round 6"));
        assert!(t.contains("infeasible (out of memory: cudaMalloc failed: out of memory)"));
        assert!(t.contains("tied with the best: '-t 2', '-t 1'\n"));
        assert!(t.contains("Pareto front (metric, host memory): '-t 2'\n"));
        assert!(t.contains("racing: 12 rounds, 30 runs (17% fewer than every cell every round); ended: every survivor is tied with the best; seed 7"));
        assert!(t.contains("\nrecommendation: llama-completion -m m.gguf -t 2\n"));
        assert!(t.contains("\nrecommendation (llama-server): llama-server -m m.gguf -t 2\n"));
        assert!(t.contains("512 MiB"));
    }

    #[test]
    fn markdown_csv_and_json_carry_the_same_rows() {
        let r = result();
        let md = render(&r, Format::Markdown);
        assert!(
            md.contains("| -t 1 | 49.90 | -0.20% [-0.60, +0.30] | 12 | tied | 512 MiB | - | - |"),
            "{md}"
        );
        let csv = render(&r, Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[2],
            "-t 1,49.9,-0.2,-0.6,0.3,12,tied,536870912,,,true,false"
        );
        assert!(lines[4].starts_with(
            "-t 8,,,,,0,infeasible (out of memory: cudaMalloc failed: out of memory)"
        ));
        let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
        assert_eq!(json["rows"][2]["round"], 6);
        assert_eq!(
            json["recommendation"]["server"],
            "llama-server -m m.gguf -t 2"
        );
        let back: SweepResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_round_the_budget_cut_short_is_named_in_the_racing_line() {
        let mut r = result();
        r.stop = Some(StopReason::TimeBudget);
        r.unfinished_round = Some(UnfinishedRound { round: 13, runs: 2 });
        let t = render(&r, Format::Table);
        assert!(t.contains("; ended: the time budget (--max-time) is spent mid-round (the 2 run(s) of round 13 are in -o and the history, not in these figures); seed 7"), "{t}");
        let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
        assert_eq!(json["unfinished_round"]["round"], 13);
        assert_eq!(json["unfinished_round"]["runs"], 2);
        assert!(render(&result(), Format::Json)
            .find("unfinished_round")
            .is_none());
    }

    /// Regression (issue 12): one round and no look printed `best`.
    #[test]
    fn a_sweep_that_took_no_look_claims_no_best() {
        let mut r = result();
        r.rounds = 1;
        r.looks_taken = 0;
        r.stop = Some(StopReason::TimeBudget);
        r.tied_group.clear();
        r.recommendation = None;
        r.rows = vec![
            row("-t 2", Some(50.0), Some((0.0, 0.0, 0.0)), Status::Undecided),
            row(
                "-t 1",
                Some(45.0),
                Some((-10.0, -10.0, -10.0)),
                Status::Undecided,
            ),
        ];
        r.rows[0].change_ci_low_pct = None;
        r.rows[0].change_ci_high_pct = None;
        r.rows.iter_mut().for_each(|row| row.rounds = 1);
        let t = render(&r, Format::Table);
        assert!(!t.contains("best:") && !t.contains("tied"), "{t}");
        assert_eq!(
            t.matches("undecided / not enough rounds (first look at round 12)")
                .count(),
            2,
            "{t}"
        );
        assert!(t.contains("+0.00% (the leader, not judged)"), "{t}");
        assert!(t.contains("\nno cell was decided: the sweep ended (the time budget (--max-time) is spent) after 1 round(s): not enough rounds (first look at round 12); the changes are against the leader so far, not judged\n"), "{t}");
        assert!(
            t.contains("\nrecommendation: none (no cell was decided)\n"),
            "{t}"
        );
        let csv = render(&r, Format::Csv);
        assert!(
            csv.contains(",1,undecided / not enough rounds (first look at round 12),"),
            "{csv}"
        );
    }
}
