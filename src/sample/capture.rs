//! Saved sampler captures for `tokbench parse`: recognises powermetrics
//! (text or plist), vmmap --summary, macmon pipe, nvidia-smi CSV (with its
//! header) and /proc status snapshots, and returns their samples.

use super::{macmon, nvidia_smi, powermetrics, procfs, vmmap, Sample, SampleParseError};

/// Which format a capture holds, when it is a sampler format at all.
pub fn detect(text: &str) -> Option<&'static str> {
    let first = text.lines().find(|l| !l.trim().is_empty())?.trim();
    if text.contains(powermetrics::SAMPLE_HEADER) {
        Some("powermetrics-text")
    } else if text.contains("<plist") && (text.contains("elapsed_ns") || text.contains("gpu_power"))
    {
        Some("powermetrics-plist")
    } else if text.contains("Physical footprint:") {
        Some("vmmap")
    } else if first.starts_with('{') && first.contains("\"gpu_power\"") {
        Some("macmon")
    } else if nvidia_smi::is_header(first) || first.contains("is not a valid field to query") {
        Some("nvidia-smi-csv")
    } else if text
        .lines()
        .any(|l| l.starts_with("VmRSS:") || l.starts_with("VmHWM:"))
    {
        Some("proc-status")
    } else if powermetrics::is_excerpt(text) {
        // Power and thermal lines quoted without the sample header.
        Some("powermetrics-text")
    } else {
        None
    }
}

/// The samples of a recognised capture.
pub fn parse(format: &str, text: &str) -> Result<Vec<Sample>, SampleParseError> {
    match format {
        "powermetrics-text" => powermetrics::parse_text(text),
        "powermetrics-plist" => powermetrics::parse_plist_stream(text.as_bytes()),
        "vmmap" => vmmap::parse_summary(text).map(|s| vec![s]),
        "macmon" => macmon::parse_capture(text),
        "nvidia-smi-csv" => nvidia_smi::parse_capture(text),
        "proc-status" => procfs::parse_capture(text),
        other => Err(SampleParseError(format!(
            "unknown capture format '{other}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::read_fixture;
    use proptest::prelude::*;

    const FORMATS: [&str; 6] = [
        "powermetrics-text",
        "powermetrics-plist",
        "vmmap",
        "macmon",
        "nvidia-smi-csv",
        "proc-status",
    ];

    proptest! {
        #[test]
        fn no_parser_panics_on_garbage(s in "(\\PC|\n|\u{0}){0,400}") {
            let _ = detect(&s);
            for f in FORMATS {
                let _ = parse(f, &s);
            }
            let _ = super::super::nvidia_smi::parse_row(&["timestamp", "power.draw", "pid"], &s);
            let _ = super::super::window::perf_log_time_ms(&s);
            let _ = super::super::procfs::parse_stat_ticks(&s);
        }

        #[test]
        fn no_parser_panics_on_mangled_fixtures(cut in 0usize..4000, junk in "\\PC{0,20}") {
            for text in [
                include_str!("../../fixtures/sample/powermetrics_text_two.txt"),
                include_str!("../../fixtures/sample/vmmap_summary_llama.txt"),
                include_str!("../../fixtures/sample/nvsmi-gpu.csv"),
            ] {
                let mut t: String = text.chars().take(cut).collect();
                t.push_str(&junk);
                if let Some(f) = detect(&t) {
                    let _ = parse(f, &t);
                }
            }
        }
    }

    #[test]
    fn detects_every_own_capture() {
        for (file, fmt) in [
            ("powermetrics_text_two.txt", "powermetrics-text"),
            ("powermetrics_text_macos11_layout.txt", "powermetrics-text"),
            ("powermetrics_text_gpu_power_only.txt", "powermetrics-text"),
            ("powermetrics_plist_two.xml", "powermetrics-plist"),
            (
                "powermetrics_plist_gpu_energy_only.xml",
                "powermetrics-plist",
            ),
            ("vmmap_summary_llama.txt", "vmmap"),
            ("vmmap_summary_owned_unmapped.txt", "vmmap"),
            ("macmon_pipe.jsonl", "macmon"),
            ("nvidia_smi_csv_h200_full.txt", "nvidia-smi-csv"),
            ("nvidia_smi_csv_h200_invalid_field.txt", "nvidia-smi-csv"),
            ("nvsmi-gpu.csv", "nvidia-smi-csv"),
            ("proc-status.txt", "proc-status"),
        ] {
            assert_eq!(
                detect(&read_fixture(&format!("sample/{file}"))),
                Some(fmt),
                "{file}"
            );
        }
        assert_eq!(
            detect(&read_fixture("llama/2026_common_perf_plain.txt")),
            None
        );
        assert_eq!(detect(""), None);
    }
}
