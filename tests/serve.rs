//! `tokbench serve` against the in-process stand-in llama-server with
//! planted timings. Its own test binary, and every test holds one lock:
//! timing tests run one at a time (the machine has 2 cores, and a parallel
//! test would show up as client lag). Tolerances are stated per assertion,
//! in ms; the planted numbers are tens of ms so timer granularity (1 ms)
//! and a busy machine leave them recognisable.

use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use tokbench::serve::block::{self, Api, BlockResult, BlockSpec};
use tokbench::serve::client::Endpoint;
use tokbench::serve::prompts::PromptSpec;
use tokbench::serve::schedule::{Arrival, Extent, Load};
use tokbench::serve::standin::{Standin, StandinConfig};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Tolerance of a latency that spans a few timer wake-ups (the stand-in's
/// prompt sleep, its first token, the client's read): tokio's timer has 1 ms
/// granularity and on this 2-core machine, shared with compilers (load ~12),
/// each wake-up was seen up to ~5 ms late; measured errors were 4-12 ms.
/// Gaps between tokens are scheduled on absolute times and keep 2 ms.
const WAKE_MS: f64 = 15.0;
const TOKBENCH: &str = env!("CARGO_BIN_EXE_tokbench");

/// The tokbench binary, kept out of the user's history database.
fn tokbench() -> Command {
    let mut c = Command::new(TOKBENCH);
    c.env("TOKBENCH_NO_HISTORY", "1");
    c
}

fn spec(api: Api, load: Load, requests: usize, max_tokens: u64) -> BlockSpec {
    BlockSpec {
        index: 0,
        api,
        load,
        extent: Extent::Requests(requests),
        warmup: 1,
        max_tokens,
        prompts: PromptSpec {
            texts: vec!["a short prompt of seven words here".into()],
            tokens: None,
            shared_prefix: None,
            seed: 1,
        },
        seed: 1,
        model: Some("standin".into()),
        request_timeout: Duration::from_secs(30),
    }
}

fn run(cfg: &str, s: &BlockSpec) -> BlockResult {
    let standin = Standin::start(cfg.parse::<StandinConfig>().unwrap()).unwrap();
    let e = Endpoint::parse(&standin.url(), &[]).unwrap();
    block::run(&e, s, &mut |_| {}).unwrap()
}

fn near(what: &str, got: Option<f64>, want: f64, tol_ms: f64) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (got - want).abs() <= tol_ms,
        "{what}: {got:.2} ms, planted {want} ms (tolerance {tol_ms} ms)"
    );
}

fn open(rate: f64, cap: Option<usize>) -> Load {
    Load::Open {
        rate,
        arrival: Arrival::Constant,
        max_concurrency: cap,
    }
}

/// Planted: prompt 60 ms, 20 ms a token, every 3rd chunk two tokens. TTFT
/// (first content) = prompt + one token = 80 ms; ITL per token 20 ms even
/// across the two-token chunks (their 40 ms gap is spread over two tokens).
#[test]
fn planted_ttft_and_itl_are_recovered() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = run(
        "slots=4,prompt_ms=60,token_ms=20,multi_every=3",
        &spec(Api::Completion, open(4.0, None), 30, 16),
    );
    let f = &r.figures;
    assert_eq!((f.requests, f.completed, f.early_stops), (30, 30, 0));
    near("TTFT from send p50", f.ttft_from_send_ms.p50, 80.0, WAKE_MS);
    near("TTFT p50", f.ttft_ms.p50, 80.0, WAKE_MS + 3.0);
    near("ITL p50", f.itl_ms.p50, 20.0, 2.0);
    // Unspread, the two-token chunks' 40 ms gaps would put the p90 at 40 ms.
    near("ITL p90", f.itl_ms.p90, 20.0, 10.0);
    near("TPOT mean", f.tpot_ms.mean, 20.0, 2.0);
    near(
        "e2e from send p50",
        f.e2e_from_send_ms.p50,
        60.0 + 16.0 * 20.0,
        WAKE_MS,
    );
    let req = r.records.iter().find(|x| !x.warmup).unwrap();
    assert!(
        req.chunk_ms.len() < 16 && req.output_tokens == Some(16),
        "chunks {} carried 16 tokens",
        req.chunk_ms.len()
    );
    assert_eq!(f.itl_ms.n, 30 * 15, "one ITL per token after the first");
    // The server's own prompt time is the planted 60 ms; the client's TTFT adds one token and the network.
    near(
        "TTFT - server prompt_ms p50",
        f.server_queue_est_ms.p50,
        20.0,
        WAKE_MS,
    );
    assert!(
        !f.client_behind,
        "dispatch lag p99 {:?}",
        f.dispatch_lag_ms.p99
    );
    assert!(!f.overload.as_ref().unwrap().overloaded);
    assert_eq!(
        r.metrics.as_ref().unwrap().get("tokens_predicted_total"),
        Some(&(31.0 * 16.0 - 16.0))
    );
}

/// 2 slots, each request 20 ms prompt + 10 x 10 ms: capacity ~16 req/s.
/// Offered 40 req/s with --max-concurrency 2 (= the slots): the wait moves
/// into the client, TTFT from the actual send stays at the planted 30 ms
/// while TTFT from the intended send grows to seconds, and overload is said.
#[test]
fn coordinated_omission_is_shown_and_overload_reported() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = run(
        "slots=2,prompt_ms=20,token_ms=10",
        &spec(Api::Completion, open(40.0, Some(2)), 60, 10),
    );
    let f = &r.figures;
    near("TTFT from send p50", f.ttft_from_send_ms.p50, 30.0, WAKE_MS);
    near(
        "TTFT from send p90",
        f.ttft_from_send_ms.p90,
        30.0,
        2.0 * WAKE_MS,
    );
    let from_intended = f.ttft_ms.p90.unwrap();
    assert!(
        from_intended > 1500.0,
        "TTFT from intended p90 {from_intended:.0} ms should be seconds"
    );
    assert!(
        f.client_queue_ms.p90.unwrap() > 1500.0,
        "the wait is client queueing"
    );
    assert!(
        !f.client_behind,
        "slot waits are not dispatch lag: {:?}",
        f.dispatch_lag_ms.p99
    );
    let o = f.overload.as_ref().unwrap();
    assert!(o.overloaded, "{o:?}");
    assert!(o.sustained_rps < 20.0 && o.offered_rps > 35.0, "{o:?}");
}

#[test]
fn early_stops_are_flagged_and_kept_out_of_per_token_figures() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = run(
        "slots=2,token_ms=5,early_stop_every=4",
        &spec(Api::Completion, Load::Closed { concurrency: 2 }, 20, 8),
    );
    let f = &r.figures;
    // The warmup is request 0: requests 3, 7, 11, 15, 19 of the stand-in stop early.
    assert_eq!(f.early_stops, 5);
    assert_eq!(f.tpot_ms.n, 15);
    let stopped: Vec<_> = r.records.iter().filter(|x| x.early_stop).collect();
    assert!(
        stopped
            .iter()
            .all(|x| x.flags[0].contains("early stop: 4 of 8 tokens, stop_type 'eos'")),
        "{:?}",
        stopped[0].flags
    );
}

/// Chat: a role-only first chunk arrives at once; the first token only
/// after the 80 ms prompt. TTFT must be the content chunk's.
#[test]
fn chat_role_only_first_chunk_is_not_the_first_token() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = run(
        "slots=2,prompt_ms=80,token_ms=10",
        &spec(Api::Chat, Load::Closed { concurrency: 1 }, 6, 8),
    );
    let f = &r.figures;
    near(
        "chat TTFT from send p50",
        f.ttft_from_send_ms.p50,
        90.0,
        WAKE_MS,
    );
    near("chat ITL p50", f.itl_ms.p50, 10.0, 2.0);
    for x in r.records.iter().filter(|x| !x.warmup) {
        let first_chunk = x.first_chunk_ms.unwrap() - x.send_ms.unwrap();
        assert!(
            first_chunk < 30.0,
            "role-only chunk after {first_chunk:.1} ms"
        );
        assert_eq!(x.output_tokens, Some(8));
    }
}

/// The CLI end to end: overload and an unmet --slo (exit 3), the -o file
/// with every record kind, `plot serve` on it, and a stand-in still loading.
#[test]
fn cli_reports_overload_unmet_slo_and_writes_records() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.jsonl");
    let o = tokbench()
        .args([
            "serve",
            "--standin",
            "slots=1,prompt_ms=20,token_ms=10,unhealthy_ms=300",
            "--rate",
            "30",
            "--max-concurrency",
            "1",
        ])
        .args([
            "--arrival",
            "constant",
            "--requests",
            "30",
            "--max-tokens",
            "5",
            "--slo",
            "ttft_p50<=200ms,itl_p50<=20ms",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("warning: overload: offered 30"), "{stdout}");
    assert!(
        stdout.contains("slo ttft_p50<=200ms") && stdout.contains("NOT met"),
        "{stdout}"
    );
    assert!(
        stdout.contains("slo itl_p50<=20ms") && stdout.contains("(met)"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "serve_request").count(), 32);
    assert_eq!(kinds.last().map(String::as_str), Some("serve_block"));
    let svg = dir.path().join("s.svg");
    let p = tokbench()
        .args(["plot", "serve"])
        .arg(&out)
        .arg("-o")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    assert!(std::fs::read_to_string(&svg)
        .unwrap()
        .contains("TTFT CDF per block"));
    let c = tokbench()
        .args(["compare"])
        .arg(&out)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&c.stderr).contains("from 'tokbench serve', not a run"),
        "{}",
        String::from_utf8_lossy(&c.stderr)
    );
}

/// A rate sweep on a 2-slot stand-in (capacity ~13 req/s): the knee lies
/// below the overloaded step, and the SLO search brackets the rate.
#[test]
fn rate_sweep_finds_the_knee() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let o = tokbench()
        .args([
            "serve",
            "--standin",
            "slots=2,prompt_ms=30,token_ms=10",
            "--rate-sweep",
            "--rates",
            "4,8,24",
            "--arrival",
            "constant",
        ])
        .args([
            "--requests",
            "30",
            "--max-tokens",
            "12",
            "--warmup",
            "1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["kind"], "serve_sweep");
    assert_eq!(v["knee"], 8.0, "{stdout}");
    assert_eq!(v["points"][2]["overloaded"], true);
}

/// Ctrl-C mid-run: sending stops, requests in flight drain, what was
/// measured is written (the block summary says `interrupted`), exit 130.
#[test]
fn ctrl_c_keeps_what_was_measured_and_exits_130() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.jsonl");
    let child = tokbench()
        .args([
            "serve",
            "--standin",
            "slots=2,token_ms=20",
            "--rate",
            "5",
            "--requests",
            "200",
            "--max-tokens",
            "10",
            "--warmup",
            "0",
            "-o",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130));
    let text = std::fs::read_to_string(&out).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let block = recs.last().unwrap();
    assert_eq!(
        (block["kind"].as_str(), block["interrupted"].as_bool()),
        (Some("serve_block"), Some(true))
    );
    let n = recs.len() - 1;
    assert!((5..60).contains(&n), "{n} requests in 2.5 s at 5 req/s");
    assert!(
        recs[..n].iter().all(|r| r["status"] == "ok"),
        "in-flight requests drained"
    );
}

/// `serve` with the given arguments, as (exit code, stdout, stderr).
fn serve(args: &[&str]) -> (Option<i32>, String, String) {
    let o = tokbench().arg("serve").args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every record of a `-o` file.
fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The load of every A/B block below: 2 clients, 6 counted requests of 12
/// tokens on a 2-slot stand-in, 6 ABBA pairs (the fewest with a 95% interval).
const AB_LOAD: [&str; 8] = [
    "--concurrency",
    "2",
    "--requests",
    "6",
    "--warmup",
    "1",
    "--max-tokens",
    "12",
];

/// B planted 5% slower per token (21 ms against 20 ms): B is slower on the
/// judged ITL p50 with the interval around +5% (each block's ITL p50 stays
/// within 2.5% of its planted value here: a 1 ms tick on 20 ms), and
/// --fail-if-slower 2 exits 3. Records of both sides carry their side.
#[test]
fn ab_of_a_planted_slower_b_says_slower_and_exits_3() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ab.jsonl");
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "--a-standin",
        "slots=2,prompt_ms=10,token_ms=20",
        "--b-standin",
        "slots=2,prompt_ms=10,token_ms=21",
        "--fail-if-slower",
        "2",
        "--json",
        "-o",
        out_s,
    ];
    args.extend(AB_LOAD);
    let db = dir.path().join("h.sqlite");
    let o = Command::new(TOKBENCH)
        .env("TOKBENCH_DB", &db)
        .arg("serve")
        .args(&args)
        .output()
        .unwrap();
    let (code, stdout, stderr) = (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["pairs"].as_u64()),
        (Some("serve_ab"), Some(6))
    );
    assert_eq!(
        v["blocks_a"],
        serde_json::json!([0, 3, 4, 7, 8, 11]),
        "ABBA order"
    );
    let judged = &v["verdicts"][0];
    assert_eq!(
        (judged["metric"].as_str(), judged["verdict"].as_str()),
        (Some("itl_ms.p50"), Some("slower"))
    );
    let ratio = judged["comparison"]["ratio"].as_f64().unwrap();
    assert!((ratio - 1.05).abs() < 0.025, "B/A {ratio}, planted 1.05");
    assert_eq!(v["gate"]["regressed"], true);
    let recs = records(&out);
    let count = |kind: &str, side: &str| {
        recs.iter()
            .filter(|r| r["kind"] == kind && r["side"] == side)
            .count()
    };
    assert_eq!(
        (count("serve_block", "a"), count("serve_block", "b")),
        (6, 6)
    );
    assert_eq!(
        (count("serve_request", "a"), count("serve_request", "b")),
        (42, 42)
    );
    assert_eq!(recs.last().unwrap()["kind"], "serve_ab");
    // `tokbench report` of the file: the verdict, the servers, every block, the plot.
    let md = dir.path().join("r.md");
    let r = tokbench()
        .args(["report", out_s, "--format", "markdown", "-o"])
        .arg(&md)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("## A/B verdict, B against A"), "{text}");
    assert!(text.contains("| B slower | 6 |"), "{text}");
    assert!(text.contains("- B: http://127.0.0.1:"), "{text}");
    assert_eq!(
        text.matches("| closed loop, concurrency 2 | 6/6 |").count(),
        12,
        "{text}"
    );
    // Markdown names the plot and leaves it to the HTML report: no SVG file beside it.
    assert!(text.contains("tokbench report --format html"), "{text}");
    assert!(!dir.path().join("r-serve-1.svg").exists());
    // The history lists the session with its verdict.
    let h = Command::new(TOKBENCH)
        .env("TOKBENCH_DB", &db)
        .args(["history", "--serve", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(
        (rows[0]["mode"].as_str(), rows[0]["blocks"].as_u64()),
        (Some("ab"), Some(12))
    );
    let headline = rows[0]["headline"].as_str().unwrap();
    assert!(headline.starts_with("itl_ms.p50: B slower +"), "{headline}");
}

/// A against itself (the same planted stand-in on both sides): no
/// significant change within a 3% band, and the gate passes (exit 0).
#[test]
fn ab_of_a_against_itself_is_no_significant_change() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let same = "slots=2,prompt_ms=10,token_ms=20";
    let mut args = vec![
        "--a-standin",
        same,
        "--b-standin",
        same,
        "--threshold",
        "3",
        "--fail-if-slower",
        "3",
        "--format",
        "markdown",
    ];
    args.extend(AB_LOAD);
    let (code, stdout, stderr) = serve(&args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| itl_ms.p50 *"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("| no significant change | 6 |"), "{row}");
    assert!(
        stdout.contains("B is not worse than A on itl_ms.p50 beyond 3%"),
        "{stdout}"
    );
}

/// Usage mistakes of an A/B session: exit 2 before anything starts.
#[test]
fn ab_usage_errors_name_what_to_do() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (code, _, stderr) = serve(&[
        "--a-standin",
        "slots=1",
        "--b-standin",
        "slots=1",
        "--metric",
        "itl_p50",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--metric 'itl_p50' is not a serve figure; known: ttft_ms.p50"),
        "{stderr}"
    );
    assert!(
        stderr.contains("itl_ms.p50") && stderr.contains("output_tps"),
        "{stderr}"
    );
    let (code, _, stderr) = serve(&["--a-url", "http://127.0.0.1:9"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("needs both sides"), "{stderr}");
    let (code, _, stderr) = serve(&[
        "--a-standin",
        "slots=1",
        "--b-standin",
        "slots=1",
        "--rate-sweep",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--rate-sweep is for one server")
            && stderr.contains("run 'tokbench serve --server CMD --rate-sweep' once per server"),
        "{stderr}"
    );
}

/// One pair gives no 95% interval: the verdict is inconclusive, and a gate
/// that could check nothing fails (exit 1) rather than pass.
#[test]
fn ab_gate_without_an_interval_fails_rather_than_passes() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut args = vec![
        "--a-standin",
        "slots=2,token_ms=5",
        "--b-standin",
        "slots=2,token_ms=10",
        "--pairs",
        "1",
        "--fail-if-slower",
        "3",
    ];
    args.extend(AB_LOAD);
    let (code, stdout, stderr) = serve(&args);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("itl_ms.p50: 1 pair gives no 95% interval (at least 6 are needed)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--fail-if-slower 3%: NOT checked"),
        "{stdout}"
    );
}

/// `--api chat --prompt-tokens N`: the server wraps each prompt in its chat
/// template (the stand-in's adds two words), measured through
/// `/apply-template` and taken off, so the server evaluates N tokens.
#[test]
fn chat_prompt_lengths_count_the_chat_template() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.jsonl");
    let (code, stdout, stderr) = serve(&[
        "--standin",
        "slots=2",
        "--api",
        "chat",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "4",
        "--prompt-tokens",
        "20",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("counts the chat template's 2 tokens (from /apply-template)"),
        "{stdout}"
    );
    let prompt_n: Vec<u64> = records(&out)
        .into_iter()
        .filter(|r| r["kind"] == "serve_request")
        .map(|r| r["timings"]["prompt_n"].as_u64().unwrap())
        .collect();
    assert_eq!(prompt_n, [20; 6], "2 warmups and 4 counted, each 20 tokens");
}

/// A self-signed certificate for `localhost` only: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let k = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    (k.cert.pem(), k.signing_key.serialize_pem())
}

/// An unrelated CA certificate (its own name, so it is not mistaken for the server's issuer).
fn other_ca() -> String {
    let mut p = rcgen::CertificateParams::new(vec!["ca.example".to_string()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "tokbench test CA");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    p.self_signed(&key).unwrap().pem()
}

/// The last `serve_block` record of a results file.
fn last_block(out: &std::path::Path) -> serde_json::Value {
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .rfind(|v| v["kind"] == "serve_block")
        .expect("a serve_block record")
}

fn serve_https(url: &str, extra: &[&str], out: &std::path::Path) -> std::process::Output {
    tokbench()
        .args([
            "serve",
            "--url",
            url,
            "--rate",
            "20",
            "--max-concurrency",
            "2",
        ])
        .args([
            "--arrival",
            "constant",
            "--requests",
            "40",
            "--max-tokens",
            "8",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// Planted: prompt 20 ms, 5 ms a token. Over https trusted through
/// `--cacert`, TTFT from send is prompt + one token = 25 ms, as over http,
/// and the 42 requests (2 warm-up) ride on a handful of kept-alive
/// connections: one for `/health`, one for `/props` and `/v1/models`, the
/// block's own (prompts, then the 2 warmed for `--max-concurrency 2`), so
/// at most 5 TLS handshakes, never one per request.
#[test]
fn https_with_cacert_keeps_alive_and_recovers_planted_ttft() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (cert, key) = self_signed();
    let standin = Standin::start_tls(
        "slots=4,prompt_ms=20,token_ms=5".parse().unwrap(),
        &cert,
        &key,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let out = dir.path().join("s.jsonl");
    let o = serve_https(&standin.url(), &["--cacert", ca.to_str().unwrap()], &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(standin.url().starts_with("https://localhost:"));
    let b = last_block(&out);
    assert_eq!(
        (b["requests"].as_u64(), b["completed"].as_u64()),
        (Some(40), Some(40)),
        "{b}"
    );
    assert_eq!(b["errors"], serde_json::json!({}));
    assert!(b["server"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://localhost:"));
    near(
        "TTFT from send p50",
        b["ttft_from_send_ms"]["p50"].as_f64(),
        25.0,
        WAKE_MS,
    );
    near("ITL p50", b["itl_ms"]["p50"].as_f64(), 5.0, 2.0);
    let handshakes = standin.connections();
    assert!(
        (3..=5).contains(&handshakes),
        "{handshakes} TLS handshakes for 42 requests"
    );
    assert!(!stderr.contains("--insecure"), "{stderr}");
}

/// A certificate the client does not trust: exit 1 at the first request,
/// the URL and the cause named, `--cacert` suggested. The trust store is
/// pinned (SSL_CERT_FILE: an unrelated CA) so the machine's store cannot
/// change the answer. Then `--insecure` runs the load, warning once.
#[test]
fn https_untrusted_fails_clearly_and_insecure_runs_with_a_warning() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (cert, key) = self_signed();
    let standin = Standin::start_tls(StandinConfig::default(), &cert, &key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, other_ca()).unwrap();
    let out = dir.path().join("s.jsonl");
    let o = tokbench()
        .env("SSL_CERT_FILE", &other)
        .args([
            "serve",
            "--url",
            &standin.url(),
            "--requests",
            "3",
            "--max-tokens",
            "2",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&standin.url()), "{stderr}");
    assert!(
        stderr.contains("not trusted") && stderr.contains("--cacert FILE"),
        "{stderr}"
    );
    assert_eq!(standin.connections(), 0);
    // Trusted, but reached by an address the certificate (localhost only) does not carry.
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let by_ip = format!("https://127.0.0.1:{}", standin.port);
    let o = tokbench()
        .args(["serve", "--url", &by_ip, "--cacert", ca.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not valid for this host name"), "{stderr}");

    let o = serve_https(&standin.url(), &["--insecure"], &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("warning: --insecure").count(), 1, "{stderr}");
    assert_eq!(last_block(&out)["completed"].as_u64(), Some(40));
}

/// `--cacert`/`--insecure` without an https URL do nothing: a usage error
/// (2). An https URL to a plain-http port says what is probably wrong.
#[test]
fn tls_options_without_https_and_https_to_plain_http() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let standin = Standin::start(StandinConfig::default()).unwrap();
    let o = tokbench()
        .args(["serve", "--url", &standin.url(), "--insecure"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("apply to https:// URLs"), "{stderr}");
    let url = format!("https://127.0.0.1:{}", standin.port);
    let o = tokbench()
        .args(["serve", "--url", &url, "--insecure", "--requests", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&url) && stderr.contains("does this port serve https?"),
        "{stderr}"
    );
}

const STANDIN_SERVER: &str = env!("CARGO_BIN_EXE_tokbench-standin-server");

/// Ctrl-C in the second block of an A/B session of two servers tokbench
/// starts: exit 130, the blocks measured so far (and the cut one) are in
/// `-o` with the A/B record saying `interrupted`, and no server it started
/// is left running.
#[test]
fn ab_ctrl_c_keeps_the_blocks_stops_the_servers_and_exits_130() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ab.jsonl");
    let pids = dir.path().join("pids");
    let server = |token_ms: u32| {
        format!(
            "{STANDIN_SERVER} --standin slots=2,token_ms={token_ms} --pid-file {}",
            pids.display()
        )
    };
    let child = tokbench()
        .args([
            "serve",
            "--a-server",
            &server(20),
            "--b-server",
            &server(21),
        ])
        .args(["--concurrency", "2", "--requests", "20", "--warmup", "0"])
        .args(["--max-tokens", "12", "--json", "-o"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Each block: 20 requests of 12 tokens at 20 ms on 2 slots, about 2.4 s.
    std::thread::sleep(Duration::from_millis(4000));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let recs = records(&out);
    let blocks: Vec<&serde_json::Value> =
        recs.iter().filter(|r| r["kind"] == "serve_block").collect();
    assert!(
        (1..=3).contains(&blocks.len()),
        "{} blocks in 4 s",
        blocks.len()
    );
    assert_eq!(
        (
            blocks[0]["side"].as_str(),
            blocks[0]["interrupted"].as_bool()
        ),
        (Some("a"), Some(false)),
        "the first block ran to its end"
    );
    let last = recs.last().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["interrupted"].as_bool()),
        (Some("serve_ab"), Some(true))
    );
    let started: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert!(started.len() >= 2, "A then B were started: {started:?}");
    for p in started {
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok();
        assert!(!alive, "server pid {p} is still running");
    }
}

/// `--slo` in an A/B session: every block is checked. Prompts of 20 (SD 8)
/// tokens: A reads a prompt token in 2 ms (TTFT about 70 ms), B in 4 ms
/// (about 100 ms), so A meets `ttft_p50<=85ms` in all its blocks and B in
/// none: B misses the SLO (exit 3). Some of B's requests still meet it
/// alone, so B's goodput is above 0 and judged lower (higher is better).
#[test]
fn ab_with_slo_counts_the_blocks_meeting_it_and_b_missing_it_exits_3() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slo.jsonl");
    let mut args = vec![
        "--a-standin",
        "slots=2,prompt_ms=10,prompt_ms_per_token=2,token_ms=20",
        "--b-standin",
        "slots=2,prompt_ms=10,prompt_ms_per_token=4,token_ms=20",
        "--prompt-tokens",
        "20:8",
        "--slo",
        "ttft_p50<=85ms",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(AB_LOAD);
    let (code, stdout, stderr) = serve(&args);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("--slo 'ttft_p50<=85ms': A met it in 6/6 blocks, B in 0/6: B missed it in some block (exit 3)"),
        "{stdout}"
    );
    let recs = records(&out);
    let v = recs.last().unwrap();
    assert_eq!(v["kind"], "serve_ab");
    assert_eq!(
        v["slo"],
        serde_json::json!({"targets": "ttft_p50<=85ms", "a_met": 6, "a_blocks": 6, "b_met": 0, "b_blocks": 6})
    );
    let goodput = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["metric"] == "goodput_rps")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        (
            goodput["verdict"].as_str(),
            goodput["lower_is_better"].as_bool()
        ),
        (Some("slower"), Some(false))
    );
    let met: Vec<bool> = recs
        .iter()
        .filter(|r| r["kind"] == "serve_block")
        .map(|r| r["slo_met"].as_bool().unwrap())
        .collect();
    assert_eq!(met.iter().filter(|m| **m).count(), 6, "{met:?}");
}
