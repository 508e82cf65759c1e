//! `tokbench ops --auto` end to end with the stand-in test-backend-ops.

use serde_json::Value;

use super::{build_dir, ops, rows};
use crate::{stderr, stdout};

fn auto_json(conf_a: &str, conf_b: &str, extra: &[&str]) -> (Value, usize) {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", conf_a);
    let b = build_dir(t.path(), "b", conf_b);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let base = ["--a", a, "--b", b, "--device", "CPU", "--auto", "--json"];
    let o = ops(t.path(), &[&base[..], extra, &["-o", "r.jsonl"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = std::fs::read_to_string(t.path().join("r.jsonl"))
        .unwrap()
        .lines()
        .count();
    (serde_json::from_str(&stdout(&o)).unwrap(), lines)
}

#[test]
fn auto_decides_a_planted_ten_percent_slowdown_before_the_budget() {
    let (json, lines) = auto_json("noise 0.003\n", "noise 0.003\nscale MUL_MAT 1.10\n", &[]);
    let auto = &json["auto"];
    assert_eq!(auto["stop"], "decided", "{auto}");
    let rounds = auto["rounds"].as_u64().unwrap() as usize;
    // Three cases: the first look with an interval at 1 - 5%/(K*3) is round 12.
    assert_eq!(rounds, 12, "{auto}");
    assert_eq!((json["rounds"].as_u64(), lines), (Some(12), 24));
    assert_eq!(auto["cases"], 3);
    let got = rows(&json);
    assert_eq!(got[0], ("MUL_MAT".into(), "slower".into()), "{got:?}");
    for (op, v) in &got[1..] {
        assert_eq!(v, "no significant change", "{op}");
    }
    assert_eq!(json["comparison"]["rows"][0]["decided_at_round"], 12);
}

#[test]
fn an_a_a_session_stops_with_no_false_verdict() {
    let (json, lines) = auto_json("noise 0.003\n", "noise 0.003\n", &["--max-rounds", "20"]);
    let stop = json["auto"]["stop"].as_str().unwrap();
    assert!(stop == "decided" || stop == "round_budget", "{stop}");
    let rounds = json["auto"]["rounds"].as_u64().unwrap() as usize;
    assert!(rounds <= 20 && lines == 2 * rounds, "{rounds} {lines}");
    for (op, v) in rows(&json) {
        assert!(
            v == "no significant change" || v == "inconclusive",
            "{op}: {v}"
        );
    }
}

#[test]
fn auto_reports_its_stop_in_markdown_and_conflicts_with_rounds() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "noise 0.003\n");
    let (a, b) = (a.to_str().unwrap(), a.to_str().unwrap());
    let common = [
        "--a", a, "--b", b, "--device", "CPU", "--auto", "--op", "ADD",
    ];
    let o = ops(t.path(), &[&common[..], &["--format", "markdown"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "| auto | stopped: every case decided after 15 rounds; 1 of 1 case(s) decided;"
        ),
        "{out}"
    );
    assert!(
        out.contains("| decided at |") && out.contains("| round 15 |"),
        "{out}"
    );
    let o = ops(t.path(), &[&common[..], &["--rounds", "5"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the argument '--auto' cannot be used with '--rounds <ROUNDS>'"),
        "{}",
        stderr(&o)
    );
    let o = ops(t.path(), &["--a", a, "--auto"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--auto decides a comparison: give build B too"),
        "{}",
        stderr(&o)
    );
}
