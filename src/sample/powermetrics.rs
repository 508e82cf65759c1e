//! macOS `powermetrics --samplers cpu_power,gpu_power,thermal`: text output
//! and `-f plist` (XML plists separated by NUL bytes, sturdier to read).
//!
//! Text lines differ by macOS release (FORMATS.md 4.2): `GPU active ...` on
//! 11-12, `GPU HW active ...` from 13 on; `Package Power` before 13,
//! `Combined Power (CPU + GPU + ANE)` after. Power is printed in mW and each
//! sample states the time it measured (`(503.05ms elapsed)`), which is the
//! interval energy is integrated over.

use std::sync::LazyLock;

use plist::Value;
use regex::Regex;

use super::{Sample, SampleParseError, SourceKind};

/// The line that starts every text sample.
pub const SAMPLE_HEADER: &str = "*** Sampled system activity";

static ELAPSED_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(([0-9]+(?:\.[0-9]+)?)ms elapsed\)").expect("elapsed regex is valid")
});
static VALUE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([A-Za-z][^:]*?):\s+([0-9]+(?:\.[0-9]+)?)\s*(mW|W|MHz|%)")
        .expect("value regex is valid")
});

/// argv after the program for a live sampler at `interval_ms`.
pub fn args(interval_ms: u64, plist: bool) -> Vec<String> {
    let mut v = vec![
        "--samplers".to_string(),
        "cpu_power,gpu_power,thermal".to_string(),
        "-i".to_string(),
        interval_ms.max(1).to_string(),
    ];
    if plist {
        v.extend(["-f".to_string(), "plist".to_string()]);
    }
    v
}

/// Lines that a powermetrics excerpt (pasted without its `*** Sampled
/// system activity` header) is recognised by.
const EXCERPT_LINES: [&str; 6] = [
    "CPU Power:",
    "GPU Power:",
    "ANE Power:",
    "Combined Power (CPU + GPU + ANE):",
    "Package Power:",
    "Current pressure level:",
];

/// Whether `text` holds powermetrics power or thermal lines without a
/// sample header (an excerpt as quoted in issues).
pub fn is_excerpt(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        EXCERPT_LINES.iter().any(|p| l.starts_with(p))
            && (l.starts_with("Current pressure level:") || VALUE_RE.is_match(l))
    })
}

/// Every sample of a saved text capture; `t_ms` is the end of each sample
/// counted from the start of the first (the sum of the elapsed times). An
/// excerpt without a header is one sample with no measured interval.
pub fn parse_text(text: &str) -> Result<Vec<Sample>, SampleParseError> {
    let chunks = split_text_samples(text);
    if chunks.is_empty() {
        if is_excerpt(text) {
            return Ok(vec![parse_text_sample(text)]);
        }
        return Err(SampleParseError(format!(
            "no '{SAMPLE_HEADER}' line and no power or thermal line: not powermetrics text output"
        )));
    }
    let mut t = 0.0;
    let mut out = Vec::new();
    for chunk in chunks {
        let mut s = parse_text_sample(chunk);
        // The lifetime summary (`--show-initial-usage`) covers no interval.
        if s.span_ms == Some(0.0) {
            continue;
        }
        t += s.span_ms.unwrap_or(0.0);
        s.t_ms = t;
        out.push(s);
    }
    Ok(out)
}

/// The text of each sample, from its header line to the next one.
pub fn split_text_samples(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.match_indices(SAMPLE_HEADER).map(|(i, _)| i).collect();
    starts.extend(
        text.match_indices("*** Lifetime system activity")
            .map(|(i, _)| i),
    );
    starts.sort_unstable();
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts.iter().zip(ends).map(|(&a, b)| &text[a..b]).collect()
}

/// One text sample (its header line and the lines up to the next header).
pub fn parse_text_sample(chunk: &str) -> Sample {
    let mut s = Sample {
        source: Some(SourceKind::Powermetrics),
        ..Default::default()
    };
    let mut idle_pct = None;
    for line in chunk.lines() {
        // `*** Running tasks ***` also has three stars.
        if line.starts_with("***") && line.contains("system activity") {
            s.span_ms = ELAPSED_RE
                .captures(line)
                .and_then(|c| c[1].parse::<f64>().ok());
            continue;
        }
        if let Some(level) = line.trim().strip_prefix("Current pressure level:") {
            s.thermal_pressure = Some(level.trim().to_string());
            continue;
        }
        if let Some(w) = intel_package_watts(line) {
            s.combined_power_w = Some(w);
            continue;
        }
        let Some(c) = VALUE_RE.captures(line) else {
            continue;
        };
        let (name, unit) = (c[1].trim(), &c[3]);
        let Ok(v) = c[2].parse::<f64>() else {
            continue;
        };
        let watts = if unit == "mW" { v / 1000.0 } else { v };
        match name {
            "GPU HW active frequency" | "GPU active frequency" => s.gpu_freq_mhz = Some(v),
            "GPU HW active residency" | "GPU active residency" => s.gpu_busy_pct = Some(v),
            "GPU idle residency" => idle_pct = Some(v),
            "GPU Power" => s.gpu_power_w = s.gpu_power_w.or(Some(watts)),
            "CPU Power" => s.cpu_power_w = Some(watts),
            "ANE Power" => s.ane_power_w = Some(watts),
            "Combined Power (CPU + GPU + ANE)" | "Package Power" => {
                s.combined_power_w = Some(watts)
            }
            _ => {}
        }
    }
    if s.gpu_busy_pct.is_none() {
        s.gpu_busy_pct = idle_pct.map(|i| round6(100.0 - i));
    }
    s
}

/// `Intel energy model derived package power (CPUs+GT+SA): 4.84W`.
fn intel_package_watts(line: &str) -> Option<f64> {
    let rest = line
        .trim()
        .strip_prefix("Intel energy model derived package power")?;
    let value = rest.split(':').nth(1)?.trim().strip_suffix('W')?;
    value.trim().parse().ok()
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Every plist of a saved `-f plist` capture (NUL-separated).
pub fn parse_plist_stream(bytes: &[u8]) -> Result<Vec<Sample>, SampleParseError> {
    let mut out = Vec::new();
    let mut t = 0.0;
    for (i, chunk) in bytes.split(|&b| b == 0).enumerate() {
        if chunk.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let mut s = parse_plist_sample(chunk)
            .map_err(|e| SampleParseError(format!("plist {}: {}", i + 1, e.0)))?;
        t += s.span_ms.unwrap_or(0.0);
        s.t_ms = t;
        out.push(s);
    }
    if out.is_empty() {
        return Err(SampleParseError("no plist found".to_string()));
    }
    Ok(out)
}

fn real(d: &plist::Dictionary, key: &str) -> Option<f64> {
    match d.get(key)? {
        Value::Real(v) => Some(*v),
        Value::Integer(i) => i.as_signed().map(|v| v as f64),
        _ => None,
    }
}

/// One plist sample. Power keys are mW; `gpu.freq_hz` is in MHz despite its
/// name (FORMATS.md 4.4); `gpu.gpu_energy` is mJ over `elapsed_ns`.
pub fn parse_plist_sample(bytes: &[u8]) -> Result<Sample, SampleParseError> {
    let value = Value::from_reader_xml(bytes)
        .map_err(|e| SampleParseError(format!("not a readable plist: {e}")))?;
    let top = value
        .as_dictionary()
        .ok_or_else(|| SampleParseError("the plist is not a dictionary".to_string()))?;
    let elapsed_ms = real(top, "elapsed_ns").map(|ns| ns / 1e6);
    let mut s = Sample {
        source: Some(SourceKind::Powermetrics),
        span_ms: elapsed_ms,
        thermal_pressure: top
            .get("thermal_pressure")
            .and_then(|v| v.as_string())
            .map(str::to_string),
        ..Default::default()
    };
    if let Some(p) = top.get("processor").and_then(|v| v.as_dictionary()) {
        s.gpu_power_w = real(p, "gpu_power").map(|mw| mw / 1000.0);
        s.cpu_power_w = real(p, "cpu_power").map(|mw| mw / 1000.0);
        s.ane_power_w = real(p, "ane_power").map(|mw| mw / 1000.0);
        s.combined_power_w = real(p, "combined_power")
            .or_else(|| real(p, "package_power"))
            .map(|mw| mw / 1000.0);
    }
    if let Some(g) = top.get("gpu").and_then(|v| v.as_dictionary()) {
        s.gpu_freq_mhz = real(g, "freq_hz");
        s.gpu_busy_pct = real(g, "idle_ratio").map(|r| round6((1.0 - r) * 100.0));
        if s.gpu_power_w.is_none() {
            let energy_mj = real(g, "gpu_energy");
            s.gpu_power_w = match (energy_mj, elapsed_ms) {
                (Some(mj), Some(ms)) if ms > 0.0 => Some(mj / ms),
                _ => None,
            };
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::read_fixture;

    const OWN_TEXT: &str = include_str!("../../fixtures/sample/powermetrics_text_two.txt");
    const OWN_PLIST: &[u8] = include_bytes!("../../fixtures/sample/powermetrics_plist_two.xml");

    #[test]
    fn own_text_fixture_gives_exact_figures_per_sample() {
        let v = parse_text(OWN_TEXT).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].span_ms, Some(101.25));
        assert_eq!(v[0].t_ms, 101.25);
        assert_eq!(v[0].gpu_freq_mhz, Some(1398.0));
        assert_eq!(v[0].gpu_busy_pct, Some(97.5));
        assert_eq!(v[0].gpu_power_w, Some(12.5));
        assert_eq!(v[0].cpu_power_w, Some(1.25));
        assert_eq!(v[0].ane_power_w, Some(0.0));
        assert_eq!(v[0].combined_power_w, Some(13.75));
        assert_eq!(v[0].thermal_pressure.as_deref(), Some("Nominal"));
        assert_eq!(v[1].t_ms, 101.25 + 98.75);
        assert_eq!(v[1].gpu_power_w, Some(10.0));
        assert_eq!(v[1].thermal_pressure.as_deref(), Some("Fair"));
    }

    /// Lines quoted without the `*** Sampled system activity` header.
    #[test]
    fn an_excerpt_without_header_is_one_sample() {
        let text = include_str!("../../fixtures/sample/powermetrics_text_excerpt.txt");
        assert!(is_excerpt(text));
        let v = parse_text(text).unwrap();
        assert_eq!(v.len(), 1);
        let s = &v[0];
        assert_eq!(s.cpu_power_w, Some(2.345));
        assert_eq!(s.gpu_power_w, Some(18.765));
        assert_eq!(s.ane_power_w, Some(0.0));
        assert_eq!(s.combined_power_w, Some(21.11));
        assert_eq!(s.thermal_pressure.as_deref(), Some("Nominal"));
        assert_eq!((s.span_ms, s.t_ms), (None, 0.0));
        assert_eq!(s.source, Some(SourceKind::Powermetrics));
        let thermal =
            parse_text("**** Thermal pressure ****\n\nCurrent pressure level: Heavy\n").unwrap();
        assert_eq!(thermal[0].thermal_pressure.as_deref(), Some("Heavy"));
        assert!(!is_excerpt("GPU Power draw was high\nCPU Power: lots"));
    }

    #[test]
    fn own_plist_fixture_matches_the_text_one() {
        let v = parse_plist_stream(OWN_PLIST).unwrap();
        let t = parse_text(OWN_TEXT).unwrap();
        assert_eq!(v.len(), 2);
        for (p, t) in v.iter().zip(&t) {
            assert_eq!(p.span_ms, t.span_ms);
            assert_eq!(p.t_ms, t.t_ms);
            assert_eq!(p.gpu_power_w, t.gpu_power_w);
            assert_eq!(p.cpu_power_w, t.cpu_power_w);
            assert_eq!(p.combined_power_w, t.combined_power_w);
            assert_eq!(p.gpu_freq_mhz, t.gpu_freq_mhz);
            assert_eq!(p.thermal_pressure, t.thermal_pressure);
        }
        assert_eq!(v[0].gpu_busy_pct, Some(97.5));
        assert_eq!(v[1].gpu_busy_pct, Some(90.0));
    }

    #[test]
    fn gpu_power_sampler_only() {
        let v = parse_text(&read_fixture("sample/powermetrics_text_gpu_power_only.txt")).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].span_ms, Some(250.5));
        assert_eq!(v[0].gpu_freq_mhz, Some(1398.0));
        assert_eq!(v[0].gpu_busy_pct, Some(42.0));
        assert_eq!(v[0].gpu_power_w, Some(3.125));
        assert_eq!((v[0].cpu_power_w, v[0].combined_power_w), (None, None));
    }

    #[test]
    fn macos11_layout_uses_old_gpu_names_and_package_power() {
        let v = parse_text(&read_fixture("sample/powermetrics_text_macos11_layout.txt")).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].span_ms, Some(1005.0));
        assert_eq!(v[0].gpu_busy_pct, Some(88.0));
        assert_eq!(v[0].gpu_freq_mhz, Some(1128.0));
        // `GPU Power` is printed twice (processor and GPU sections): the first counts.
        assert_eq!(v[0].gpu_power_w, Some(6.25));
        assert_eq!(v[0].combined_power_w, Some(6.4));
    }

    #[test]
    fn intel_lifetime_sample_is_skipped_and_package_power_read() {
        let v = parse_text(&read_fixture("sample/powermetrics_text_intel_lifetime.txt")).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].span_ms, Some(2000.5));
        assert_eq!(v[0].t_ms, 2000.5);
        assert_eq!(v[0].combined_power_w, Some(3.25));
        assert_eq!(v[0].thermal_pressure.as_deref(), Some("Moderate"));
        assert_eq!(v[0].gpu_power_w, None);
    }

    #[test]
    fn plist_without_processor_derives_gpu_power_from_energy() {
        let x = read_fixture("sample/powermetrics_plist_gpu_energy_only.xml");
        let v = parse_plist_stream(x.as_bytes()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].span_ms, Some(250.0));
        assert_eq!(v[0].gpu_freq_mhz, Some(1398.0));
        assert_eq!(v[0].gpu_busy_pct, Some(80.0));
        // 2500 mJ over 250 ms.
        assert_eq!(v[0].gpu_power_w, Some(10.0));
        assert_eq!(v[0].combined_power_w, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_text("hello").is_err());
        assert!(parse_plist_stream(b"<plist><dict><key>x").is_err());
        assert!(parse_plist_stream(b"\0\0").is_err());
        let s = parse_text_sample(
            "*** Sampled system activity (x) (garbage ms elapsed) ***\nGPU Power: lots mW\n",
        );
        assert_eq!(s.span_ms, None);
        assert_eq!(s.gpu_power_w, None);
    }
}
