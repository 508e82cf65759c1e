//! A `serve -o` file read back, for `tokbench report` and the history: its
//! block summaries (one row each), its sweep's knee and SLO rate, and its
//! A/B verdict. Blocks are read as JSON rather than typed records so that
//! files of earlier schema versions still render (a missing figure is `-`).

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use super::ab::AbSummary;
use super::render::{markdown, num};

/// The summaries of a `serve -o` file (its per-request records are left to `plot serve`).
#[derive(Debug, Clone, Default)]
pub struct ServeFile {
    pub blocks: Vec<Value>,
    pub sweeps: Vec<Value>,
    pub ab: Option<AbSummary>,
}

/// Whether the file's first record is one `tokbench serve` wrote.
pub fn is_serve_file(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let first = text.lines().find(|l| !l.trim().is_empty());
    first
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v["kind"].as_str().map(|k| k.starts_with("serve_")))
        .unwrap_or(false)
}

/// Reads the block, sweep and A/B records.
pub fn read(path: &Path) -> Result<ServeFile> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read results file '{shown}'"))?;
    let mut f = ServeFile::default();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("results file '{shown}' line {}: not JSON", i + 1))?;
        match v["kind"].as_str() {
            Some("serve_block") => f.blocks.push(v),
            Some("serve_sweep") => f.sweeps.push(v),
            Some("serve_ab") => {
                let ab = serde_json::from_value(v).with_context(|| {
                    format!("results file '{shown}' line {}: a serve_ab record this tokbench cannot read", i + 1)
                })?;
                f.ab = Some(ab);
            }
            _ => {}
        }
    }
    Ok(f)
}

/// One block's sampler timeline, as `plot timeline` draws it.
#[derive(Debug, Clone)]
pub struct BlockTimeline {
    pub block: u64,
    pub side: Option<String>,
    pub samples: Vec<crate::sample::Sample>,
}

fn has_timeline(b: &Value) -> bool {
    b["timeline"].as_array().is_some_and(|a| !a.is_empty())
}

/// The timeline of block `block` (its index), or of the first block that
/// has one.
pub fn block_timeline(f: &ServeFile, block: Option<u32>) -> Result<BlockTimeline> {
    let b = match block {
        None => f.blocks.iter().find(|b| has_timeline(b)).context(
            "no block has a timeline: run 'tokbench serve --server CMD' with --sampler (e.g. --sampler nvidia-smi or proc) to record one",
        )?,
        Some(n) => {
            let b = f
                .blocks
                .iter()
                .find(|b| b["block"].as_u64() == Some(u64::from(n)))
                .ok_or_else(|| crate::exit::UsageError(format!("no block has index '{n}'")))?;
            if !has_timeline(b) {
                anyhow::bail!("block '{n}' has no timeline: it ran without a sampler or against a server tokbench did not start");
            }
            b
        }
    };
    let samples = serde_json::from_value(b["timeline"].clone())
        .context("a serve_block timeline this tokbench cannot read")?;
    Ok(BlockTimeline {
        block: b["block"].as_u64().unwrap_or_default(),
        side: b["side"].as_str().map(str::to_string),
        samples,
    })
}

const BLOCK_HEADER: [&str; 11] = [
    "block",
    "side",
    "load",
    "completed",
    "req/s",
    "output tok/s",
    "TTFT p50",
    "TTFT p99",
    "ITL p50",
    "ITL p99",
    "e2e p50",
];

fn block_row(b: &Value) -> Vec<String> {
    let ms = |d: &str, s: &str| num(b[d][s].as_f64());
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or("-".into());
    vec![
        b["block"].as_u64().map_or("-".into(), |n| n.to_string()),
        text(&b["side"]),
        text(&b["load"]["description"]),
        format!(
            "{}/{}",
            b["completed"].as_u64().unwrap_or(0),
            b["requests"].as_u64().unwrap_or(0)
        ),
        num(b["throughput"]["achieved_rps"].as_f64()),
        num(b["throughput"]["output_tps"].as_f64()),
        ms("ttft_ms", "p50"),
        ms("ttft_ms", "p99"),
        ms("itl_ms", "p50"),
        ms("itl_ms", "p99"),
        ms("e2e_ms", "p50"),
    ]
}

/// The blocks as a markdown table (latencies in ms), with each block's warnings under it.
pub fn blocks_markdown(f: &ServeFile) -> String {
    let rows: Vec<Vec<String>> = f.blocks.iter().map(block_row).collect();
    let mut out = markdown(&BLOCK_HEADER, &rows);
    for b in &f.blocks {
        let n = b["block"].as_u64().unwrap_or(0);
        for w in b["warnings"].as_array().into_iter().flatten() {
            out.push_str(&format!("- block {n}: {}\n", w.as_str().unwrap_or("")));
        }
    }
    out
}

/// The strings of a JSON array (none when it is not one).
fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A sweep's knee and SLO rate, one line each.
pub fn sweep_markdown(s: &Value) -> String {
    let slo = strings(&s["slo"]);
    let mut out = format!(
        "- axis: {}; knee (the highest load the server followed): {}\n",
        s["axis"].as_str().unwrap_or("rate"),
        num(s["knee"].as_f64())
    );
    if !slo.is_empty() {
        out.push_str(&format!(
            "- highest load meeting --slo {}: {}\n",
            slo.join(","),
            num(s["slo_max"].as_f64())
        ));
    }
    out
}

/// The command without its `--port N` (a free port, new for every start).
pub fn without_port(argv: &[&str]) -> String {
    let mut out = Vec::new();
    let mut skip = false;
    for a in argv {
        match (skip, *a) {
            (true, _) => skip = false,
            (false, "--port") => skip = true,
            (false, a) if a.starts_with("--port=") => {}
            (false, a) => out.push(a),
        }
    }
    out.join(" ")
}

/// The server of each side (or of the one-server run), from its first block:
/// the command tokbench started (its port left out), else the URL it was given.
pub fn servers(f: &ServeFile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<Option<&str>> = Vec::new();
    for b in &f.blocks {
        let side = b["side"].as_str();
        if seen.contains(&side) {
            continue;
        }
        seen.push(side);
        let s = &b["server"];
        let argv = strings(&s["argv"]);
        let what = if argv.is_empty() {
            format!(
                "{} (not started by tokbench)",
                s["url"].as_str().unwrap_or("-")
            )
        } else {
            let build = s["build_info"].as_str().unwrap_or("build unknown");
            format!("{} ({build})", without_port(&argv))
        };
        let side = side
            .map(|x| format!("{}: ", x.to_uppercase()))
            .unwrap_or_default();
        out.push(format!("{side}{what}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serve_file_is_told_from_a_run_file_and_its_blocks_render() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        let block = serde_json::json!({"kind": "serve_block", "block": 3, "side": "b",
            "load": {"description": "closed loop, concurrency 2"}, "completed": 6, "requests": 6,
            "throughput": {"achieved_rps": 5.5, "output_tps": 66.0},
            "ttft_ms": {"p50": 31.25, "p99": null}, "itl_ms": {"p50": 20.5, "p99": 24.0},
            "e2e_ms": {"p50": 251.0}, "warnings": ["1 requests stopped early"],
            "server": {"url": "http://127.0.0.1:8080", "build_info": "b1-abc",
                "argv": ["llama-server", "-np", "2", "--port", "8080", "--host", "127.0.0.1"]}});
        let req = serde_json::json!({"kind": "serve_request", "block": 3});
        std::fs::write(&p, format!("{req}\n{block}\n")).unwrap();
        assert!(is_serve_file(&p));
        let f = read(&p).unwrap();
        assert_eq!((f.blocks.len(), f.ab.is_none()), (1, true));
        let md = blocks_markdown(&f);
        assert!(
            md.contains("| 3 | b | closed loop, concurrency 2 | 6/6 | 5.50 | 66.00 | 31.25 | - | 20.50 | 24.00 | 251 |"),
            "{md}"
        );
        assert!(md.contains("- block 3: 1 requests stopped early"), "{md}");
        assert_eq!(
            servers(&f),
            ["B: llama-server -np 2 --host 127.0.0.1 (b1-abc)"]
        );
        let run = dir.path().join("r.jsonl");
        std::fs::write(&run, "{\"schema_version\": 2, \"label\": \"x\"}\n").unwrap();
        assert!(!is_serve_file(&run));
    }

    #[test]
    fn a_sweep_says_its_knee_and_slo_rate() {
        let s = serde_json::json!({"kind": "serve_sweep", "axis": "rate", "knee": 8.0,
            "slo_max": 4.0, "slo": ["ttft_p99<=500ms"]});
        assert_eq!(
            sweep_markdown(&s),
            "- axis: rate; knee (the highest load the server followed): 8.00\n\
             - highest load meeting --slo ttft_p99<=500ms: 4.00\n"
        );
    }
}
