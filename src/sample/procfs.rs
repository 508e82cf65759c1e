//! Linux `/proc/<pid>/status` (VmRSS, VmHWM) and `/proc/<pid>/stat`
//! (utime + stime, for the process's CPU %). Plain files, read by the
//! `proc` source; a zombie's status has no Vm lines, which gives an empty
//! sample, not an error.

use super::{Sample, SampleParseError, SourceKind};

fn kib_field(line: &str, key: &str) -> Option<u64> {
    let rest = line.strip_prefix(key)?.trim();
    let n = rest.strip_suffix("kB").unwrap_or(rest).trim();
    // A value too large for bytes in a u64 is garbage, not a figure.
    n.parse::<u64>().ok().and_then(|k| k.checked_mul(1024))
}

/// One status file.
pub fn parse_status(text: &str) -> Sample {
    let mut s = Sample {
        source: Some(SourceKind::Proc),
        ..Default::default()
    };
    for line in text.lines() {
        if let Some(v) = kib_field(line, "VmRSS:") {
            s.rss_bytes = Some(v);
        } else if let Some(v) = kib_field(line, "VmHWM:") {
            s.rss_peak_bytes = Some(v);
        }
    }
    s
}

/// Several status snapshots saved one after another (a new snapshot starts
/// where a key repeats).
pub fn parse_capture(text: &str) -> Result<Vec<Sample>, SampleParseError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut seen: Vec<String> = Vec::new();
    for line in text.lines() {
        let key = line.split(':').next().unwrap_or_default().to_string();
        if seen.contains(&key) {
            out.push(parse_status(&current));
            current.clear();
            seen.clear();
        }
        seen.push(key);
        current.push_str(line);
        current.push('\n');
    }
    out.push(parse_status(&current));
    out.retain(|s| !s.is_empty());
    if out.is_empty() {
        return Err(SampleParseError("no VmRSS or VmHWM line".to_string()));
    }
    Ok(out)
}

/// utime + stime (clock ticks) from `/proc/<pid>/stat`. The command name is
/// in parentheses and may hold spaces, so fields are counted after the last `)`.
pub fn parse_stat_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3 of the stat line, utime 14, stime 15.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU % of one core over the measured interval between two readings.
pub fn cpu_pct(
    ticks_before: u64,
    ticks_after: u64,
    ticks_per_s: f64,
    elapsed_ms: f64,
) -> Option<f64> {
    if elapsed_ms <= 0.0 || ticks_per_s <= 0.0 || ticks_after < ticks_before {
        return None;
    }
    let cpu_s = (ticks_after - ticks_before) as f64 / ticks_per_s;
    Some(cpu_s / (elapsed_ms / 1000.0) * 100.0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_kib_figure_too_large_for_bytes_overflowed_in_debug_builds() {
        let s = parse_status("VmRSS:\t18446744073709551615 kB\nVmHWM:\t2048 kB\n");
        assert_eq!(s.rss_bytes, None);
        assert_eq!(s.rss_peak_bytes, Some(2048 * 1024));
    }

    use super::*;

    const OWN: &str = include_str!("../../fixtures/sample/proc-status.txt");

    #[test]
    fn own_run_status_snapshots() {
        let v = parse_capture(OWN).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].rss_bytes, Some(316_492 * 1024));
        assert_eq!(v[0].rss_peak_bytes, Some(316_492 * 1024));
        assert_eq!(v[2].rss_bytes, Some(466_692 * 1024));
        assert_eq!(v[2].rss_peak_bytes, Some(1_281_088 * 1024));
    }

    #[test]
    fn zombie_status_is_empty_and_garbage_an_error() {
        assert!(parse_status("Name:\tllama\nState:\tZ (zombie)\n").is_empty());
        assert!(parse_capture("hello").is_err());
        assert_eq!(parse_status("VmRSS: lots kB").rss_bytes, None);
    }

    #[test]
    fn stat_ticks_survive_spaces_in_the_name() {
        let line = "4242 (llama (x) y) R 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 100 1000 200";
        assert_eq!(parse_stat_ticks(line), Some(200));
        assert_eq!(parse_stat_ticks("garbage"), None);
        assert_eq!(parse_stat_ticks("1 (x) R 1"), None);
    }

    #[test]
    fn cpu_pct_uses_the_measured_interval() {
        assert_eq!(cpu_pct(100, 150, 100.0, 250.0), Some(200.0));
        assert_eq!(cpu_pct(100, 150, 100.0, 0.0), None);
        assert_eq!(cpu_pct(150, 100, 100.0, 10.0), None);
    }
}
