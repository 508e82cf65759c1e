//! `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]` and
//! `--query-compute-apps=pid,process_name,used_memory` (FORMATS.md 7).
//!
//! One long-lived `nvidia-smi ... -lms N` per query gives a row per GPU per
//! loop. Values may carry units (`118.68 W`) or not; unsupported values are
//! `[N/A]` (older drivers: `N/A`), and a process that is starting or ending
//! can read `[No data]`: those are `None`, never 0. Power prefers
//! `power.draw.instant` (a true instantaneous reading where the driver has it)
//! over `power.draw`, which some drivers average over a second.

use super::{Sample, SampleParseError, SourceKind};

/// Fields of the live GPU query, with and without `power.draw.instant`
/// (drivers before it reject the whole query with "is not a valid field").
pub const GPU_FIELDS: [&str; 9] = [
    "timestamp",
    "index",
    "name",
    "utilization.gpu",
    "memory.used",
    "memory.total",
    "power.draw",
    "clocks.sm",
    "temperature.gpu",
];
pub const INSTANT_FIELD: &str = "power.draw.instant";
pub const APP_FIELDS: [&str; 3] = ["pid", "process_name", "used_memory"];

/// The fields of the live GPU query.
pub fn gpu_fields(instant: bool) -> Vec<String> {
    let mut v: Vec<String> = GPU_FIELDS.iter().map(|s| s.to_string()).collect();
    if instant {
        v.push(INSTANT_FIELD.to_string());
    }
    v
}

/// argv for a looping GPU query at `interval_ms`.
pub fn gpu_args(instant: bool, interval_ms: Option<u64>) -> Vec<String> {
    query_args("--query-gpu", &gpu_fields(instant), interval_ms)
}

/// argv for a looping compute-apps query.
pub fn apps_args(interval_ms: u64) -> Vec<String> {
    let fields: Vec<String> = APP_FIELDS.iter().map(|s| s.to_string()).collect();
    query_args("--query-compute-apps", &fields, Some(interval_ms))
}

fn query_args(query: &str, fields: &[String], interval_ms: Option<u64>) -> Vec<String> {
    let mut v = vec![
        format!("{query}={}", fields.join(",")),
        "--format=csv,noheader,nounits".to_string(),
    ];
    if let Some(ms) = interval_ms {
        v.extend(["-lms".to_string(), ms.max(1).to_string()]);
    }
    v
}

/// One CSV row read against its field names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub sample: Sample,
    /// `timestamp` as ms since the Unix epoch (the driver's local clock).
    pub ts_ms: Option<i64>,
    pub pid: Option<u32>,
}

/// `[N/A]`, `N/A`, `[No data]`, `[Not Supported]` and friends.
pub fn is_missing(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "N/A" || (v.starts_with('[') && v.ends_with(']'))
}

/// `118.68 W` / `118.68` -> 118.68; missing markers and garbage -> None.
pub fn value(v: &str) -> Option<f64> {
    if is_missing(v) {
        return None;
    }
    let n = v.split_whitespace().next()?;
    n.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// `utilization.gpu [%]` -> `utilization.gpu`; aliases to one name.
pub fn canonical(field: &str) -> &str {
    let name = field.split(" [").next().unwrap_or(field).trim();
    match name {
        "clocks.current.sm" => "clocks.sm",
        "used_gpu_memory" => "used_memory",
        other => other,
    }
}

/// `2026/11/29 18:52:03.181` -> ms since the epoch (read as UTC).
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let (date, clock) = s.trim().split_once(' ')?;
    let d: Vec<i64> = date
        .split('/')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let t: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 || frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let ms: i64 = format!("{frac:0<3}").parse().ok()?;
    let day = days_from_civil(d[0], d[1], d[2])?;
    Some(((day * 24 + t[0]) * 60 + t[1]) * 60_000 + t[2] * 1000 + ms)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Reads one row against `fields` (canonical names).
pub fn parse_row(fields: &[&str], line: &str) -> Result<Row, SampleParseError> {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    if cells.len() != fields.len() {
        return Err(SampleParseError(format!(
            "{} values where {} fields were asked for",
            cells.len(),
            fields.len()
        )));
    }
    let mut row = Row::default();
    let s = &mut row.sample;
    s.source = Some(SourceKind::NvidiaSmi);
    let mut draw = None;
    let mut instant = None;
    for (f, c) in fields.iter().zip(&cells) {
        let v = value(c);
        match *f {
            "timestamp" => row.ts_ms = parse_timestamp_ms(c),
            "index" => s.gpu_index = v.map(|x| x as u32),
            "name" => s.gpu_name = (!is_missing(c)).then(|| c.to_string()),
            "utilization.gpu" => s.gpu_busy_pct = v,
            "memory.used" => s.gpu_mem_used_bytes = v.map(mib),
            "memory.total" => s.gpu_mem_total_bytes = v.map(mib),
            "power.draw" => draw = v,
            "power.draw.instant" => instant = v,
            "clocks.sm" => s.gpu_freq_mhz = v,
            "temperature.gpu" => s.gpu_temp_c = v,
            "pid" => {
                row.pid = v.map(|x| x as u32);
                s.pid = row.pid;
            }
            "process_name" => s.process_name = (!is_missing(c)).then(|| c.to_string()),
            "used_memory" => s.gpu_mem_bytes = v.map(mib),
            _ => {}
        }
    }
    s.gpu_power_w = instant.or(draw);
    Ok(row)
}

fn mib(v: f64) -> u64 {
    (v * 1_048_576.0).round() as u64
}

/// True when `line` is a header (`timestamp, utilization.gpu [%], ...`).
pub fn is_header(line: &str) -> bool {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    cells.iter().all(|c| {
        let name = c.split(" [").next().unwrap_or(c);
        !name.is_empty()
            && name.starts_with(|ch: char| ch.is_ascii_lowercase())
            && name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '_')
    }) && cells
        .iter()
        .any(|c| c.contains('.') || *c == "pid" || *c == "timestamp")
}

/// A saved capture with its header (`--format=csv[,nounits]`). Rows are
/// placed by their timestamps; spans are the gaps per GPU.
pub fn parse_capture(text: &str) -> Result<Vec<Sample>, SampleParseError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().unwrap_or_default();
    if header.contains("is not a valid field to query") {
        return Err(SampleParseError(format!(
            "nvidia-smi refused the query: {header}"
        )));
    }
    if !is_header(header) {
        return Err(SampleParseError(
            "no nvidia-smi CSV header (saved without 'noheader' it is readable)".to_string(),
        ));
    }
    let owned: Vec<String> = header
        .split(',')
        .map(|f| canonical(f).to_string())
        .collect();
    let fields: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut rows = Vec::new();
    for (i, l) in lines.enumerate() {
        if is_header(l) {
            continue;
        }
        let row = parse_row(&fields, l)
            .map_err(|e| SampleParseError(format!("row {}: {}", i + 1, e.0)))?;
        rows.push(row);
    }
    Ok(place_rows(rows))
}

/// Times relative to the first timestamp; span = gap to the same GPU's
/// previous row.
fn place_rows(rows: Vec<Row>) -> Vec<Sample> {
    let first = rows.iter().find_map(|r| r.ts_ms);
    let mut prev: std::collections::HashMap<Option<u32>, i64> = Default::default();
    rows.into_iter()
        .map(|r| {
            let mut s = r.sample;
            if let (Some(ts), Some(f)) = (r.ts_ms, first) {
                s.t_ms = (ts - f) as f64;
                s.span_ms = prev.insert(s.gpu_index, ts).map(|p| (ts - p) as f64);
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::read_fixture;

    const H200_GPU: &str = include_str!("../../fixtures/sample/nvsmi-gpu.csv");
    const H200_APPS: &str = include_str!("../../fixtures/sample/nvsmi-apps.csv");

    #[test]
    fn full_capture_with_units() {
        let v = parse_capture(&read_fixture("sample/nvidia_smi_csv_h200_full.txt")).unwrap();
        assert_eq!(v.len(), 1);
        let s = &v[0];
        assert_eq!(s.gpu_name.as_deref(), Some("NVIDIA H200"));
        assert_eq!(s.gpu_index, Some(0));
        assert_eq!(s.gpu_busy_pct, Some(0.0));
        assert_eq!(s.gpu_power_w, Some(118.68));
        assert_eq!(s.gpu_freq_mhz, Some(465.0));
        assert_eq!(s.gpu_temp_c, Some(33.0));
        assert_eq!(s.gpu_mem_used_bytes, Some(0));
        assert_eq!(s.gpu_mem_total_bytes, Some(143_771 * 1_048_576));
    }

    #[test]
    fn nounits_and_loop() {
        let v = parse_capture(&read_fixture("sample/nvidia_smi_csv_h200_nounits.txt")).unwrap();
        assert_eq!(v[0].gpu_power_w, Some(76.64));
        assert_eq!(v[0].gpu_freq_mhz, Some(345.0));
        let v = parse_capture(&read_fixture("sample/nvidia_smi_csv_h200_loop_lms500.txt")).unwrap();
        assert_eq!(v.len(), 6);
        assert_eq!(v[1].t_ms, 506.0);
        assert_eq!(v[1].span_ms, Some(506.0));
        assert_eq!(v[5].t_ms, 2508.0);
        assert_eq!(v[5].gpu_power_w, Some(76.71));
    }

    #[test]
    fn instant_power_wins_over_draw() {
        let v =
            parse_capture(&read_fixture("sample/nvidia_smi_csv_h200_newer_fields.txt")).unwrap();
        assert_eq!(v[0].gpu_power_w, Some(77.32));
        assert_eq!(v[0].gpu_mem_used_bytes, Some(0));
    }

    #[test]
    fn refusals_and_headerless_are_errors_empty_apps_is_empty() {
        assert!(parse_capture(&read_fixture(
            "sample/nvidia_smi_csv_h200_invalid_field.txt"
        ))
        .is_err());
        assert!(parse_capture(&read_fixture("sample/nvidia_smi_csv_h200_noheader.txt")).is_err());
        let v = parse_capture(&read_fixture(
            "sample/nvidia_smi_csv_h200_compute_apps_empty.txt",
        ))
        .unwrap();
        assert!(v.is_empty());
    }

    #[test]
    fn own_run_h200_gpu_loop() {
        let v = parse_capture(H200_GPU).unwrap();
        assert_eq!(v[0].gpu_power_w, Some(79.53));
        assert_eq!(v[1].span_ms, Some(106.0));
        assert_eq!(v[3].gpu_freq_mhz, Some(1980.0));
        assert_eq!(v[3].gpu_mem_used_bytes, Some(22 * 1_048_576));
    }

    /// `memory.total` and compute-apps' `pid`/`process_name` were dropped once.
    #[test]
    fn every_known_column_is_kept() {
        let v = parse_capture(H200_GPU).unwrap();
        assert_eq!(v[0].gpu_mem_total_bytes, Some(143_771 * 1_048_576));
        assert_eq!(v[1].gpu_mem_used_bytes, Some(1_048_576));
        let apps =
            parse_capture(include_str!("../../fixtures/sample/nvsmi-apps-header.csv")).unwrap();
        assert_eq!(apps.len(), 3);
        let who: Vec<(Option<u32>, Option<&str>, Option<u64>)> = apps
            .iter()
            .map(|s| (s.pid, s.process_name.as_deref(), s.gpu_mem_bytes))
            .collect();
        let bench = Some("/tmp/llama/llama.cpp/build/bin/llama-bench");
        let completion = Some("/tmp/llama/llama.cpp/build/bin/llama-completion");
        assert_eq!(
            who,
            [
                (Some(8797), bench, Some(1636 * 1_048_576)),
                (Some(8875), completion, Some(1864 * 1_048_576)),
                (Some(8896), completion, Some(1282 * 1_048_576)),
            ]
        );
    }

    #[test]
    fn own_run_apps_rows_with_no_data() {
        let fields = ["timestamp", "pid", "process_name", "used_memory"];
        let rows: Vec<Row> = H200_APPS
            .lines()
            .map(|l| parse_row(&fields, l).unwrap())
            .collect();
        assert_eq!(rows[0].pid, Some(8797));
        assert_eq!(rows[0].sample.pid, Some(8797));
        assert_eq!(
            rows[0].sample.process_name.as_deref(),
            Some("/tmp/llama/llama.cpp/build/bin/llama-bench")
        );
        assert_eq!(rows[0].sample.gpu_mem_bytes, Some(518 * 1_048_576));
        assert_eq!(rows[1].sample.gpu_mem_bytes, Some(1636 * 1_048_576));
        let no_data = rows.iter().find(|r| r.pid == Some(8935)).unwrap();
        assert_eq!(no_data.sample.gpu_mem_bytes, Some(518 * 1_048_576));
    }

    #[test]
    fn values_and_markers() {
        assert_eq!(value("[N/A]"), None);
        assert_eq!(value("N/A"), None);
        assert_eq!(value("[No data]"), None);
        assert_eq!(value("118.68 W"), Some(118.68));
        assert_eq!(value("garbage"), None);
        let row = parse_row(&["power.draw", "power.draw.instant"], "75.5, [N/A]").unwrap();
        assert_eq!(row.sample.gpu_power_w, Some(75.5));
        assert!(parse_row(&["power.draw"], "1, 2").is_err());
        assert_eq!(
            parse_timestamp_ms("1970/01/02 00:00:01.5"),
            Some(86_400_000 + 1500)
        );
        assert_eq!(parse_timestamp_ms("2026/13/01 00:00:00.000"), None);
        assert_eq!(parse_timestamp_ms("garbage"), None);
    }
}
