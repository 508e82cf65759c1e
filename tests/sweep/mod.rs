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
