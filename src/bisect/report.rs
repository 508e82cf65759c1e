//! The bisect report: what was searched, the endpoints' check, the steps
//! (commit, class, pairs, ratio to good with its interval, build and
//! measuring time), the skipped commits, the first bad commit with its
//! change against its parent, the error rates and the total time. Text
//! ends with `first bad commit: <short> <subject>`; JSON is the struct.

use serde::Serialize;

use super::journal::Checked;
use super::{CommitInfo, Interval, Mark, Step};

/// How the bisect ended, as the report and `--format json` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Result {
    Found,
    NothingToBisect,
    AllSkipped,
    Interrupted,
}

/// The first bad commit and its check against its parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstBad {
    #[serde(flatten)]
    pub commit: CommitInfo,
    pub parent: Option<CommitInfo>,
    /// The commit over its parent on the metric, with its 95% interval.
    pub change: Option<Interval>,
    /// The check's verdict (`slower`, `faster`, `no_change`, `inconclusive`).
    pub verdict: Option<String>,
    /// The check found the change sought beyond the threshold.
    pub confirmed: bool,
    pub check: Option<Checked>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub commit: CommitInfo,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BisectReport {
    pub result: Result,
    /// `slowdown` or `improvement`.
    pub looking_for: &'static str,
    pub metric: String,
    pub threshold_pct: f64,
    pub good: CommitInfo,
    pub bad: CommitInfo,
    pub commits_in_range: usize,
    pub paths: Vec<String>,
    /// Bad over good.
    pub endpoints: Option<Checked>,
    pub steps: Vec<Step>,
    pub skipped: Vec<Skipped>,
    /// All skipped: the first bad commit is one of these.
    pub remaining: Vec<CommitInfo>,
    pub first_bad: Option<FirstBad>,
    /// Steps taken from an earlier run of the same bisect.
    pub reused_steps: usize,
    pub search_error_rate: Option<f64>,
    pub total_seconds: f64,
    pub notes: Vec<String>,
}

fn pct(r: f64) -> String {
    format!("{:+.1}%", (r - 1.0) * 100.0)
}

fn interval(i: &Interval) -> String {
    format!(
        "{:.3} [{:.3}, {:.3}] ({} [{}, {}])",
        i.estimate,
        i.lo,
        i.hi,
        pct(i.estimate),
        pct(i.lo),
        pct(i.hi)
    )
}

/// `ratio [lo, hi] (change), verdict, N pairs (why it stopped)`.
pub fn checked_line(c: &Checked) -> String {
    let cmp = &c.comparison;
    let ratio = match (cmp.ci_low, cmp.ci_high) {
        (Some(lo), Some(hi)) => interval(&Interval {
            estimate: cmp.ratio,
            lo,
            hi,
        }),
        _ => format!("{:.3} ({}, no interval)", cmp.ratio, pct(cmp.ratio)),
    };
    let verdict = serde_json::to_value(cmp.verdict)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default();
    let why = c
        .stopped
        .as_deref()
        .map(|w| format!(", {w}"))
        .unwrap_or_default();
    format!("{ratio}, {verdict}, {} pairs{why}", cmp.n_a)
}

fn commit_line(c: &CommitInfo) -> String {
    format!("{} {} ({})", c.short(), c.subject, c.date)
}

fn step_row(i: usize, s: &Step) -> String {
    let class = match (&s.verdict, s.mark) {
        (Some(v), _) => serde_json::to_value(v.class)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default(),
        (None, _) => "no build".into(),
    };
    let v = s.verdict.as_ref();
    let pairs = v.map_or("-".into(), |v| v.pairs.to_string());
    let ratio = v.and_then(|v| v.ratio_to_good).map_or("-".into(), |r| {
        format!("{:.3} [{:.3}, {:.3}]", r.estimate, r.lo, r.hi)
    });
    let err = v
        .and_then(|v| v.error_rate)
        .map_or("-".into(), |e| format!("{e:.4}"));
    let build = v.map_or("-".into(), |v| format!("{:.1}s", v.build_seconds));
    let meas = v.map_or("-".into(), |v| format!("{:.1}s", v.measure_seconds));
    format!(
        "{:>3}  {:<12}  {:<4}  {:<10} {:>5}  {:<24} {:>7}  {:>7}  {:>8}  {}\n",
        i + 1,
        s.commit.short(),
        s.mark.git_word(),
        class,
        pairs,
        ratio,
        err,
        build,
        meas,
        s.commit.subject
    )
}

fn render_steps(r: &BisectReport, out: &mut String) {
    if r.steps.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\nsteps:\n{:>3}  {:<12}  {:<4}  {:<10} {:>5}  {:<24} {:>7}  {:>7}  {:>8}  subject\n",
        "#", "commit", "mark", "class", "pairs", "ratio to good [95%]", "error", "build", "measure"
    ));
    for (i, s) in r.steps.iter().enumerate() {
        out.push_str(&step_row(i, s));
    }
    if !r.skipped.is_empty() {
        out.push_str("\nskipped:\n");
        for s in &r.skipped {
            out.push_str(&format!(
                "  {} {}: {}\n",
                s.commit.short(),
                s.commit.subject,
                s.reason
            ));
        }
    }
}

fn render_end(r: &BisectReport, out: &mut String) {
    if let Some(f) = &r.first_bad {
        out.push_str(&format!("\nfound: {}\n", commit_line(&f.commit)));
        match (&f.parent, &f.check) {
            (Some(p), Some(c)) => {
                out.push_str(&format!(
                    "  against its parent {}: {}\n",
                    p.short(),
                    checked_line(c)
                ));
                if !f.confirmed {
                    out.push_str("  the check against its parent is undecided: the change may be spread over several commits, or within noise at this commit alone\n");
                }
            }
            _ => out.push_str("  not checked against its parent\n"),
        }
    }
    if !r.remaining.is_empty() {
        out.push_str("\nevery commit left was skipped; the first bad commit is one of:\n");
        for c in &r.remaining {
            out.push_str(&format!("  {}\n", commit_line(c)));
        }
    }
    let rate = r
        .search_error_rate
        .map_or("not known (no step decided)".into(), |e| {
            format!("at most {e:.4} (the sum of the steps' error rates)")
        });
    out.push_str(&format!("error rate of the whole search: {rate}\n"));
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "total time: {}\n",
        humantime::format_duration(std::time::Duration::from_secs(
            r.total_seconds.round() as u64
        ))
    ));
    if let Some(f) = &r.first_bad {
        out.push_str(&format!(
            "first bad commit: {} {}\n",
            f.commit.short(),
            f.commit.subject
        ));
    }
}

/// The text report.
pub fn render(r: &BisectReport) -> String {
    let mut out = format!(
        "bisect: the commit that made {} {} by more than {}%\n  good {}\n  bad  {}\n",
        r.metric,
        if r.looking_for == "improvement" {
            "better"
        } else {
            "worse"
        },
        r.threshold_pct,
        commit_line(&r.good),
        commit_line(&r.bad)
    );
    let paths = match r.paths.is_empty() {
        true => String::new(),
        false => format!(" touching {}", r.paths.join(", ")),
    };
    out.push_str(&format!(
        "  {} commit(s) in the range{paths}\n",
        r.commits_in_range
    ));
    if let Some(e) = &r.endpoints {
        out.push_str(&format!("endpoints, bad over good: {}\n", checked_line(e)));
    }
    if r.reused_steps > 0 {
        out.push_str(&format!(
            "{} step(s) reused from an earlier run of this bisect\n",
            r.reused_steps
        ));
    }
    render_steps(r, &mut out);
    if r.result == Result::NothingToBisect {
        let worse = match r.looking_for {
            "improvement" => "better",
            _ => "worse",
        };
        out.push_str(&format!("nothing to bisect: the bad endpoint is not significantly {worse} than the good one beyond the threshold\n"));
    }
    render_end(r, &mut out);
    out
}

/// The skipped steps with their reasons.
pub fn skipped(steps: &[Step]) -> Vec<Skipped> {
    steps
        .iter()
        .filter(|s| s.mark == Mark::Skip)
        .map(|s| Skipped {
            commit: s.commit.clone(),
            reason: s.skip_reason.clone().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::{Class, Verdict};

    fn commit(h: char, subject: &str) -> CommitInfo {
        CommitInfo {
            hash: h.to_string().repeat(40),
            subject: subject.into(),
            date: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn report() -> BisectReport {
        let step = Step {
            commit: commit('c', "slower kernel"),
            mark: Mark::Bad,
            skip_reason: None,
            verdict: Some(Verdict {
                class: Class::LikeBad,
                pairs: 9,
                ratio_to_good: Some(Interval {
                    estimate: 0.9,
                    lo: 0.88,
                    hi: 0.92,
                }),
                error_rate: Some(0.0117),
                build_seconds: 3.25,
                measure_seconds: 9.5,
            }),
        };
        let broken = Step {
            commit: commit('d', "broken"),
            mark: Mark::Skip,
            skip_reason: Some("does not build: x".into()),
            verdict: None,
        };
        BisectReport {
            result: Result::Found,
            looking_for: "slowdown",
            metric: "eval_tps".into(),
            threshold_pct: 1.0,
            good: commit('a', "good one"),
            bad: commit('b', "bad one"),
            commits_in_range: 4,
            paths: vec!["ggml".into()],
            endpoints: None,
            skipped: skipped(&[step.clone(), broken.clone()]),
            steps: vec![broken, step],
            remaining: Vec::new(),
            first_bad: Some(FirstBad {
                commit: commit('c', "slower kernel"),
                parent: None,
                change: None,
                verdict: None,
                confirmed: false,
                check: None,
            }),
            reused_steps: 0,
            search_error_rate: Some(0.0117),
            total_seconds: 75.0,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_text_report_lists_steps_and_skips_and_ends_with_the_first_bad_commit() {
        let text = render(&report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "bisect: the commit that made eval_tps worse by more than 1%"
        );
        assert!(
            text.contains("  4 commit(s) in the range touching ggml\n"),
            "{text}"
        );
        let row = lines
            .iter()
            .find(|l| l.contains("slower kernel") && l.contains("like-bad"))
            .unwrap();
        for cell in [
            "cccccccccccc",
            "bad",
            "9",
            "0.900 [0.880, 0.920]",
            "0.0117",
            "3.2s",
            "9.5s",
        ] {
            assert!(row.contains(cell), "{cell}: {row}");
        }
        assert!(
            text.contains("  dddddddddddd broken: does not build: x\n"),
            "{text}"
        );
        assert!(text.contains("found: cccccccccccc slower kernel (2026-01-01T00:00:00Z)\n  not checked against its parent\n"), "{text}");
        assert!(
            text.contains("error rate of the whole search: at most 0.0117 "),
            "{text}"
        );
        assert!(text.contains("total time: 1m 15s\n"), "{text}");
        assert_eq!(
            lines.last(),
            Some(&"first bad commit: cccccccccccc slower kernel")
        );
        assert_eq!(text.matches("first bad commit:").count(), 1, "{text}");
    }
}
