//! `--slo "ttft_p99<=500ms,itl_p99<=60ms"`: latency targets, checked on a
//! block's figures (the run passes when every one holds) and per request
//! for goodput (the requests that met every target, per second).

use serde::Serialize;

use super::figures::{Dist, Figures};
use super::request::RequestRecord;

pub const FIGURES: [&str; 6] = [
    "ttft",
    "ttft_from_send",
    "e2e",
    "e2e_from_send",
    "tpot",
    "itl",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// ttft, ttft_from_send, e2e, e2e_from_send, tpot or itl.
    pub figure: String,
    /// p50, p90, p99 or mean.
    pub stat: String,
    pub max_ms: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--slo '{spec}': {why}; write targets like 'ttft_p99<=500ms,itl_p99<=60ms' (figures {figures}; p50, p90, p99 or mean; ms or s)", figures = FIGURES.join(", "))]
pub struct SloError {
    pub spec: String,
    pub why: String,
}

/// Parses a comma-separated list of `FIGURE_STAT<=VALUE[ms|s]`.
pub fn parse(spec: &str) -> Result<Vec<Target>, SloError> {
    let err = |why: String| SloError {
        spec: spec.to_string(),
        why,
    };
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once("<=")
            .ok_or_else(|| err(format!("'{part}' has no '<='")))?;
        let (figure, stat) = name
            .trim()
            .rsplit_once('_')
            .ok_or_else(|| err(format!("'{name}' names no statistic")))?;
        if !FIGURES.contains(&figure) || !["p50", "p90", "p99", "mean"].contains(&stat) {
            return Err(err(format!("'{name}' is not a known figure and statistic")));
        }
        out.push(Target {
            figure: figure.to_string(),
            stat: stat.to_string(),
            max_ms: parse_ms(value.trim())
                .ok_or_else(|| err(format!("'{value}' is not a time")))?,
        });
    }
    if out.is_empty() {
        return Err(err("no target given".to_string()));
    }
    Ok(out)
}

fn parse_ms(v: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(|x| x * scale)
}

fn dist<'a>(f: &'a Figures, figure: &str) -> Option<&'a Dist> {
    Some(match figure {
        "ttft" => &f.ttft_ms,
        "ttft_from_send" => &f.ttft_from_send_ms,
        "e2e" => &f.e2e_ms,
        "e2e_from_send" => &f.e2e_from_send_ms,
        "tpot" => &f.tpot_ms,
        "itl" => &f.itl_ms,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub target: String,
    pub value_ms: Option<f64>,
    /// None when the figure could not be computed (too few requests for a p99):
    /// an unmeasured target is not met.
    pub met: bool,
}

/// Every target checked on the block's figures.
pub fn check(targets: &[Target], f: &Figures) -> Vec<Check> {
    targets
        .iter()
        .map(|t| {
            let value = dist(f, &t.figure).and_then(|d| d.stat(&t.stat));
            Check {
                target: format!("{}_{}<={}ms", t.figure, t.stat, t.max_ms),
                value_ms: value,
                met: value.is_some_and(|v| v <= t.max_ms),
            }
        })
        .collect()
}

/// A request's own value of a figure; for ITL its largest gap per token.
fn own(r: &RequestRecord, figure: &str) -> Option<f64> {
    match figure {
        "ttft" => r.ttft_ms,
        "ttft_from_send" => r.ttft_from_send_ms,
        "e2e" => r.e2e_ms,
        "e2e_from_send" => r.e2e_from_send_ms,
        "tpot" => r.tpot_ms,
        _ => r.itl_ms().into_iter().reduce(f64::max),
    }
}

/// Whether one request met every target on its own figures (goodput).
pub fn request_good(targets: &[Target], r: &RequestRecord) -> bool {
    r.ok()
        && targets.iter().all(|t| match own(r, &t.figure) {
            Some(v) => v <= t.max_ms,
            // A one-token answer has no ITL or TPOT to miss.
            None => matches!(t.figure.as_str(), "itl" | "tpot"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_units() {
        let t = parse("ttft_p99<=500ms, itl_p50<=0.06s,e2e_from_send_mean<=2s").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].figure.as_str(), t[0].stat.as_str(), t[0].max_ms),
            ("ttft", "p99", 500.0)
        );
        assert_eq!(t[1].max_ms, 60.0);
        assert_eq!(
            (t[2].figure.as_str(), t[2].max_ms),
            ("e2e_from_send", 2000.0)
        );
    }

    #[test]
    fn bad_targets_say_why() {
        assert!(parse("ttft<500").unwrap_err().why.contains("no '<='"));
        assert!(parse("latency_p99<=5ms")
            .unwrap_err()
            .why
            .contains("not a known"));
        assert!(parse("ttft_p99<=fast")
            .unwrap_err()
            .why
            .contains("not a time"));
        assert!(parse("").is_err());
    }
}
