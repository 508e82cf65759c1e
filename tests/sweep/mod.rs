//! The sweep pipeline end to end on the stand-in, whose rate, memory and
//! failures depend on its arguments (`STANDIN_ARG_RULES`): each run is a
//! real `tokbench run` (spawn, parse, proc sampler, `-o`), its record goes
//! through `sweep::spec::outcome` into the race, and the result is the one
//! `tokbench sweep` prints. Until the command is wired onto the session
//! engine, the loop below (warmups, then `next_round`/`record`/`end_round`)
//! stands in for the engine's schedule; the groups asserted are exact.

use std::path::Path;
use std::time::Instant;

use clap::Parser;
use tokbench::cli::SweepArgs;
use tokbench::model::RunRecord;
use tokbench::sweep::infeasible::CauseKind;
use tokbench::sweep::race::{Outcome, Status, StopReason};
use tokbench::sweep::recommend::Tool;
use tokbench::sweep::result::SweepResult;
use tokbench::sweep::spec::{outcome, SweepSpec};

use super::{Sandbox, STANDIN};

#[derive(Parser)]
struct Options {
    #[command(flatten)]
    args: SweepArgs,
}

fn spec(sb: &Sandbox, vary: &str, extra: &[&str]) -> SweepSpec {
    let model = sb.model();
    let mut argv = vec!["sweep", "--bin", STANDIN, "-m", &model, "--vary", vary];
    argv.extend_from_slice(extra);
    SweepSpec::from_args(&Options::try_parse_from(argv).unwrap().args, 17).unwrap()
}

/// One `tokbench run` of `args`; its record from `-o`.
fn run_once(sb: &Sandbox, args: &[String], sampler: &str, k: usize) -> RunRecord {
    let out = format!("run{k}.jsonl");
    let model = sb.model();
    let mut argv: Vec<&str> = vec![
        "--no-history",
        "run",
        "--bin",
        STANDIN,
        "-m",
        &model,
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        sampler,
        "--sample-interval",
        "50ms",
        "-o",
        &out,
        "--",
    ];
    argv.extend(args.iter().map(String::as_str));
    sb.cmd(&argv).output().unwrap();
    let text = std::fs::read_to_string(sb.path(&out)).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

/// Warmups, then rounds until the race is over: what the engine's schedule will do.
fn sweep(sb: &Sandbox, spec: &SweepSpec, sampler: &str) -> SweepResult {
    let mut race = spec.new_race();
    let start = Instant::now();
    let mut k = 0;
    for c in race.warmup_order() {
        k += 1;
        let r = run_once(sb, &spec.cell_args(c), sampler, k);
        let result = match outcome(&r, &spec.metric) {
            Outcome::Infeasible(cause) => Err(cause),
            Outcome::Measured(_) => Ok(()),
        };
        race.record_warmup(c, result);
    }
    while let Some(order) = race.next_round() {
        for c in order {
            k += 1;
            let r = run_once(sb, &spec.cell_args(c), sampler, k);
            race.record(c, outcome(&r, &spec.metric));
        }
        race.end_round(start.elapsed());
    }
    spec.finish(&race, Tool::Completion)
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
    let s = spec(
        &sb,
        "-t 1,2,4,8,16",
        &["--max-rounds", "20", "--", "-ngl", "0"],
    );
    let r = sweep(&sb, &s, "proc");
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
    let s = spec(&sb, "-b 64,256,512", &["--max-rounds", "16"]);
    let r = sweep(&sb, &s, "none");
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
