//! `macmon pipe` (Apple silicon, no root): one JSON object per line
//! (FORMATS.md 6). Power is in W, averaged by macmon over its own measured
//! interval; `gpu_usage` is `[MHz, ratio]` (v0.7+ also prints
//! `gpu_freq_mhz`/`gpu_active_ratio`); `timestamp` (v0.6+) is RFC 3339.
//! `gpu_temp_avg` of 0.0 means the sensor gave nothing, not 0 degrees C.

use serde_json::Value;

use super::{Sample, SampleParseError, SourceKind};

/// argv after the program for a live sampler at `interval_ms`.
pub fn args(interval_ms: u64) -> Vec<String> {
    vec![
        "pipe".to_string(),
        "-i".to_string(),
        interval_ms.max(1).to_string(),
    ]
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_f64().filter(|x| x.is_finite())
}

/// Nanoseconds since the Unix epoch of the line's RFC 3339 `timestamp`
/// (integers, so differences are exact).
pub fn timestamp_ns(v: &Value) -> Option<i128> {
    let s = v.get("timestamp")?.as_str()?;
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos())
}

/// One `macmon pipe` line. `t_ms` is left at 0: the caller places it.
pub fn parse_line(line: &str) -> Result<(Sample, Option<i128>), SampleParseError> {
    let v: Value = serde_json::from_str(line.trim())
        .map_err(|e| SampleParseError(format!("not a macmon JSON line: {e}")))?;
    if !v.is_object() || (v.get("gpu_power").is_none() && v.get("gpu_usage").is_none()) {
        return Err(SampleParseError(
            "a JSON object without gpu_power or gpu_usage: not macmon pipe output".to_string(),
        ));
    }
    let usage = v.get("gpu_usage").and_then(|u| u.as_array());
    let usage_at = |i: usize| {
        usage
            .and_then(|a| a.get(i))
            .and_then(|x| x.as_f64())
            .filter(|x| x.is_finite())
    };
    let freq = num(&v, &["gpu_freq_mhz"]).or_else(|| usage_at(0));
    let ratio = num(&v, &["gpu_active_ratio"]).or_else(|| usage_at(1));
    let sample = Sample {
        source: Some(SourceKind::Macmon),
        gpu_freq_mhz: freq,
        gpu_busy_pct: ratio.map(|r| r * 100.0),
        gpu_power_w: num(&v, &["gpu_power"]),
        cpu_power_w: num(&v, &["cpu_power"]),
        combined_power_w: num(&v, &["all_power"]),
        gpu_temp_c: num(&v, &["temp", "gpu_temp_avg"]).filter(|t| *t > 0.0),
        ..Default::default()
    };
    Ok((sample, timestamp_ns(&v)))
}

/// Every line of a saved capture; times come from `timestamp` when present
/// (spans are the gaps between timestamps), else samples are 0 ms apart.
pub fn parse_capture(text: &str) -> Result<Vec<Sample>, SampleParseError> {
    let mut out = Vec::new();
    let mut first: Option<i128> = None;
    let mut prev: Option<i128> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (mut s, ts) =
            parse_line(line).map_err(|e| SampleParseError(format!("line {}: {}", i + 1, e.0)))?;
        if let Some(ts) = ts {
            let f = *first.get_or_insert(ts);
            s.t_ms = (ts - f) as f64 / 1e6;
            s.span_ms = prev.map(|p| (ts - p) as f64 / 1e6);
            prev = Some(ts);
        }
        out.push(s);
    }
    if out.is_empty() {
        return Err(SampleParseError("no macmon line".to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = include_str!("../../fixtures/sample/macmon_pipe.jsonl");

    #[test]
    fn own_capture_spans_from_timestamps() {
        let v = parse_capture(OWN).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].t_ms, 100.0);
        assert_eq!(v[1].span_ms, Some(100.0));
        assert_eq!(v[2].t_ms, 250.0);
        assert_eq!(v[2].span_ms, Some(150.0));
        assert_eq!(v[0].gpu_power_w, Some(8.5));
        assert_eq!(v[2].gpu_busy_pct, Some(50.0));
        // gpu_temp_avg 0.0 is "no reading".
        assert_eq!(v[2].gpu_temp_c, None);
        // v0.7 names win over the deprecated gpu_usage pair.
        assert_eq!(v[1].gpu_freq_mhz, Some(1400.0));
    }

    #[test]
    fn garbage_lines_are_errors() {
        assert!(parse_line("{").is_err());
        assert!(parse_line("[1,2]").is_err());
        assert!(parse_line("{\"a\":1}").is_err());
        let (s, ts) = parse_line("{\"gpu_power\":\"x\",\"gpu_usage\":[\"a\"]}").unwrap();
        assert_eq!(s.gpu_power_w, None);
        assert_eq!(ts, None);
    }
}
