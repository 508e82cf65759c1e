//! `tokbench sweep` end to end on the stand-in, whose rate, memory and
//! failures depend on its arguments (`STANDIN_ARG_RULES`): the real
//! command on the session engine (warmups, then seeded rounds with
//! elimination), its JSON result read back, every run in `-o` with its
//! cell. The groups asserted are exact.

use std::path::Path;

use serde_json::Value;
use tokbench::sweep::infeasible::CauseKind;
use tokbench::sweep::race::{Status, StopReason};
use tokbench::sweep::result::SweepResult;

use super::{Sandbox, STANDIN};

/// `tokbench sweep --vary VARY EXTRA` with the proc sampler or none; its
/// exit code, its JSON result and the records of `-o`.
fn sweep(
    sb: &Sandbox,
    vary: &str,
    sampler: &str,
    extra: &[&str],
) -> (i32, SweepResult, Vec<Value>) {
    let model = sb.model();
    let mut argv = vec![
        "sweep",
        "--no-history",
        "--bin",
        STANDIN,
        "-m",
        &model,
        "--vary",
        vary,
        "-n",
        "8",
        "--sampler",
        sampler,
        "--sample-interval",
        "50ms",
        "--order-seed",
        "17",
        "--format",
        "json",
        "-o",
        "runs.jsonl",
    ];
    argv.extend_from_slice(extra);
    let o = sb.cmd(&argv).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let r: SweepResult = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", super::stderr(&o)));
    (o.status.code().unwrap_or(-1), r, sb.results("runs.jsonl"))
}

fn status<'a>(r: &'a SweepResult, cell: &str) -> &'a Status {
    &r.rows
        .iter()
        .find(|row| row.cell == cell)
        .unwrap_or_else(|| panic!("no row '{cell}' in {r:#?}"))
        .status
}

#[test]
fn tied_cells_infeasible_causes_and_an_elimination() {
    let rules = "-t 1 => STANDIN_ALLOC_MB=96; \
                 -t 2 => scale=0.997&STANDIN_ALLOC_MB=16; \
                 -t 4 => scale=0.97&STANDIN_ALLOC_MB=40; \
                 -t 8 => STANDIN_CRASH=segv; \
                 -t 16 => STANDIN_MESSAGE=ggml_backend_cuda_buffer_type_alloc_buffer: cudaMalloc failed: out of memory&STANDIN_EXIT=1";
    let sb = Sandbox::new()
        .set("STANDIN_NOISE", "0.001")
        .set("STANDIN_SLEEP_MS", "150")
        .set("STANDIN_ARG_RULES", rules);
    let (code, r, runs) = sweep(
        &sb,
        "-t 1,2,4,8,16",
        "proc",
        &["--max-rounds", "20", "--", "-ngl", "0"],
    );
    assert_eq!(code, 0, "{r:#?}");
    // Every run in -o with its cell: the warmup of each, then the rounds.
    let cells: Vec<&str> = runs.iter().map(|x| x["cell"].as_str().unwrap()).collect();
    assert_eq!(runs.iter().filter(|x| x["warmup"] == true).count(), 5);
    assert!(cells.contains(&"-t 16") && cells.contains(&"-t 1"));
    let counted_t1 = runs
        .iter()
        .filter(|x| x["cell"] == "-t 1" && x["warmup"] == false)
        .count();
    assert_eq!(
        counted_t1,
        r.rows.iter().find(|x| x.cell == "-t 1").unwrap().rounds
    );
    assert_eq!(*status(&r, "-t 1"), Status::Best, "{r:#?}");
    assert_eq!(*status(&r, "-t 2"), Status::Tied);
    assert!(matches!(status(&r, "-t 4"), Status::Eliminated { round } if *round < 20));
    let Status::Infeasible { cause } = status(&r, "-t 8") else {
        panic!("{r:#?}")
    };
    assert_eq!(cause.kind, CauseKind::Crash);
    let Status::Infeasible { cause } = status(&r, "-t 16") else {
        panic!("{r:#?}")
    };
    assert_eq!(cause.kind, CauseKind::OutOfMemory);
    assert!(
        cause.line.contains("cudaMalloc failed: out of memory"),
        "{cause:?}"
    );
    assert_eq!(r.tied_group, ["-t 1", "-t 2"]);
    assert_eq!(r.stop, Some(StopReason::AllTied));
    let rss = |cell: &str| {
        r.rows
            .iter()
            .find(|x| x.cell == cell)
            .unwrap()
            .peak_rss_bytes
            .unwrap()
    };
    assert!(
        rss("-t 1") > rss("-t 2") + (60 << 20),
        "{} vs {}",
        rss("-t 1"),
        rss("-t 2")
    );
    let rec = r.recommendation.as_ref().unwrap();
    assert_eq!(rec.cell, "-t 2");
    let model = sb.model();
    let dir = Path::new(STANDIN).parent().unwrap();
    assert_eq!(rec.completion, format!("{STANDIN} -m {model} -t 2 -ngl 0"));
    assert_eq!(
        rec.server,
        format!(
            "{} -m {model} -t 2 -ngl 0",
            dir.join("llama-server").display()
        )
    );
    // -t 4 is slower than -t 2 and uses more memory: off the front.
    assert_eq!(r.pareto, ["-t 1", "-t 2"]);
    plot_of(&sb, &r);
}

/// `tokbench plot sweep` on the JSON of `r`: the tied cells are labelled,
/// the eliminated one is not; a results file that is not a sweep is a usage error.
fn plot_of(sb: &Sandbox, r: &SweepResult) {
    let json = tokbench::sweep::render::render(r, tokbench::cli::Format::Json);
    std::fs::write(sb.path("sweep.json"), json).unwrap();
    let o = sb
        .cmd(&["plot", "sweep", "sweep.json", "-o", "sweep.svg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", super::stderr(&o));
    let svg = std::fs::read_to_string(sb.path("sweep.svg")).unwrap();
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim())
        })
        .collect();
    assert!(texts.contains(&"-t 2"), "{texts:?}");
    assert!(texts.contains(&"peak host RSS (MiB)"));
    assert!(texts.contains(&"-t: median eval_tps"));
    assert!(!texts.contains(&"-t 4"));
    std::fs::write(sb.path("runs.jsonl"), "{}\n").unwrap();
    let bad = sb
        .cmd(&["plot", "sweep", "runs.jsonl", "-o", "x.svg"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", super::stderr(&bad));
    assert!(super::stderr(&bad).contains("is not a sweep result"));
}

#[test]
fn drift_during_the_sweep_gives_no_false_winner() {
    // Three identical cells losing 0.4% per run: each round's random order
    // spreads the drift over every cell, and pairing by round cancels it.
    let sb = Sandbox::new()
        .set("STANDIN_NOISE", "0.001")
        .set("STANDIN_DRIFT", "-0.004");
    let (code, r, _) = sweep(&sb, "-b 64,256,512", "none", &["--max-rounds", "16"]);
    assert_eq!(code, 0, "{r:#?}");
    for row in &r.rows {
        assert!(
            matches!(row.status, Status::Best | Status::Tied | Status::Undecided),
            "{:?}: {r:#?}",
            row.status
        );
    }
    assert_ne!(r.stop, Some(StopReason::OneLeft));
    let drift = r.drift.as_ref().unwrap();
    assert!(drift.drift, "the drift is seen: {drift:?}");
}

#[test]
fn dry_run_lists_cells_and_every_cell_infeasible_exits_1() {
    let sb = Sandbox::new().set(
        "STANDIN_ARG_RULES",
        "-t 1 => STANDIN_CRASH=segv; -t 2 => STANDIN_CRASH=segv",
    );
    let model = sb.model();
    let base = [
        "sweep",
        "--no-history",
        "--bin",
        STANDIN,
        "-m",
        &model,
        "--vary",
        "-t 1,2",
        "--order-seed",
        "4",
    ];
    let mut dry = base.to_vec();
    dry.push("--dry-run");
    let o = sb.cmd(&dry).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", super::stderr(&o));
    let text = super::stdout(&o);
    assert!(
        text.starts_with(
            "2 cells; each round runs every surviving cell once, in a random order (seed 4)\n"
        ),
        "{text}"
    );
    assert!(text.contains("   2  -t 2\n"), "{text}");
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .trim_start()
            .starts_with(STANDIN),
        "{text}"
    );
    assert!(sb.argvs().is_empty(), "a dry run runs nothing");
    let (code, r, runs) = sweep(&sb, "-t 1,2", "none", &[]);
    assert_eq!(code, 1, "{r:#?}");
    assert!(
        r.rows.iter().all(
            |x| matches!(&x.status, Status::Infeasible { cause } if cause.kind == CauseKind::Crash)
        ),
        "{r:#?}"
    );
    assert_eq!(runs.len(), 2, "only the warmups ran");
    assert_eq!(r.recommendation, None);
}

/// Regression (issue 12): a sweep whose budget ended after one round called
/// its leader `best` and recommended it, with no look taken.
#[test]
fn a_sweep_that_ends_before_the_first_look_decides_no_cell() {
    let sb = Sandbox::new()
        .set("STANDIN_SLEEP_MS", "300")
        .set("STANDIN_ARG_RULES", "-t 2 => scale=0.5");
    // 300 ms runs (warmups included) against a 1.5 s budget: the first
    // round ends at 1.2 s, a second would overrun it.
    let (code, r, _) = sweep(&sb, "-t 1,2", "none", &["--max-time", "1500ms"]);
    assert_eq!(code, 0, "{r:#?}");
    assert_eq!(r.stop, Some(StopReason::TimeBudget));
    assert_eq!((r.rounds, r.looks_taken), (1, 0));
    assert!(
        r.rows.iter().all(|x| x.status == Status::Undecided),
        "{r:#?}"
    );
    assert!(r.tied_group.is_empty());
    assert_eq!(r.recommendation, None);
    assert_eq!(r.leader.as_deref(), Some("-t 1"));
    let model = sb.model();
    let o = sb
        .cmd(&[
            "sweep",
            "--no-history",
            "--bin",
            STANDIN,
            "-m",
            &model,
            "--vary",
            "-t 1,2",
            "-n",
            "8",
            "--sampler",
            "none",
            "--order-seed",
            "17",
            "--max-time",
            "1500ms",
        ])
        .output()
        .unwrap();
    let t = super::stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", super::stderr(&o));
    let first = r.first_look.unwrap();
    let why = format!("undecided / not enough rounds (first look at round {first})");
    assert_eq!(t.matches(&why).count(), 2, "{t}");
    assert!(!t.contains("best:") && !t.contains("tied with"), "{t}");
    assert!(t.contains("\nno cell was decided: the sweep ended (the time budget (--max-time) is spent) after 1 round(s)"), "{t}");
    assert!(
        t.contains("\nrecommendation: none (no cell was decided)\n"),
        "{t}"
    );
}

/// Issue 12: `--max-time` was checked only at round ends, so a first round
/// of slow cells overran it by up to a whole round. Now the budget is
/// checked before each run: the cut round's run is in `-o`, not in the race.
#[test]
fn the_time_budget_ends_a_sweep_mid_round_and_leaves_the_round_out() {
    let sb = Sandbox::new().set("STANDIN_SLEEP_MS", "1000");
    // 1 s runs against 3 s: the warmups end at about 2 s, the first run of
    // round 1 at about 3 s, before the round's second run.
    let (code, r, records) = sweep(&sb, "-t 1,2", "none", &["--max-time", "3s"]);
    assert_eq!(code, 0, "{r:#?}");
    assert_eq!(r.stop, Some(StopReason::TimeBudget));
    let cut = r.unfinished_round.expect("the round the budget cut");
    assert_eq!((cut.round, cut.runs), (1, 1));
    assert_eq!((r.rounds, r.runs, r.looks_taken), (0, 0, 0), "{r:#?}");
    assert!(
        r.rows.iter().all(|x| x.rounds == 0 && x.median.is_none()),
        "{r:#?}"
    );
    let warm: Vec<bool> = records.iter().map(|x| x["warmup"] == true).collect();
    assert_eq!(warm, [true, true, false], "{records:#?}");
}

/// Ctrl-C in the third round: exit 130, the finished runs in `-o` and in the
/// history with their cells, and the partial result claims no winner (two
/// rounds are before the first look).
#[test]
fn sigint_during_a_sweep_keeps_the_runs_and_claims_no_winner() {
    use nix::sys::signal::{kill, Signal};
    // Runs 0-1 are the warmups, 2-5 two rounds; run 6 hangs.
    let sb = Sandbox::new()
        .set("STANDIN_FAIL_AT", "6")
        .set("STANDIN_HANG", "1");
    let model = sb.model();
    let child = sb
        .cmd(&[
            "sweep",
            "--bin",
            STANDIN,
            "-m",
            &model,
            "--vary",
            "-t 1,2",
            "-n",
            "8",
            "--sampler",
            "none",
            "--order-seed",
            "17",
            "--format",
            "json",
            "-o",
            "runs.jsonl",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while std::fs::read_to_string(sb.path("runs.jsonl"))
        .unwrap_or_default()
        .lines()
        .count()
        < 6
    {
        assert!(t.elapsed().as_secs() < 30, "runs never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        Signal::SIGINT,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", super::stderr(&o));
    let r: SweepResult =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", super::stdout(&o)));
    assert_eq!(r.stop, Some(StopReason::Interrupted));
    assert_eq!((r.rounds, r.looks_taken), (2, 0), "{r:#?}");
    assert!(
        r.rows.iter().all(|x| x.status == Status::Undecided),
        "{r:#?}"
    );
    assert!(r.rows.iter().all(|x| x.rounds == 2), "{r:#?}");
    assert!(r.tied_group.is_empty() && r.recommendation.is_none());
    let runs = sb.results("runs.jsonl");
    assert_eq!(runs.len(), 7, "6 finished and the interrupted one");
    assert_eq!(runs[6]["exit"]["interrupted"], true);
    let cells = |rs: &[Value]| -> Vec<String> {
        let mut v: Vec<String> = rs[..6]
            .iter()
            .map(|x| x["cell"].as_str().unwrap().into())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        cells(&runs),
        ["-t 1", "-t 1", "-t 1", "-t 2", "-t 2", "-t 2"]
    );
    let db = rusqlite::Connection::open(sb.path("history.sqlite")).unwrap();
    let mut q = db
        .prepare("SELECT json_extract(record, '$.cell') FROM runs WHERE status = 'ok' ORDER BY id")
        .unwrap();
    let in_db: Vec<String> = q
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let from_file: Vec<String> = runs[..6]
        .iter()
        .map(|x| x["cell"].as_str().unwrap().into())
        .collect();
    assert_eq!(in_db, from_file);
}
