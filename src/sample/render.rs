//! Per-sample table of a saved capture (`tokbench parse FILE`).

use serde_json::Value;

use super::Sample;

/// Sample fields in display order (only those present are shown).
const COLUMNS: [&str; 22] = [
    "t_ms",
    "span_ms",
    "pid",
    "process_name",
    "gpu_index",
    "gpu_name",
    "gpu_busy_pct",
    "gpu_freq_mhz",
    "gpu_power_w",
    "cpu_power_w",
    "ane_power_w",
    "combined_power_w",
    "gpu_temp_c",
    "thermal_pressure",
    "gpu_mem_used_bytes",
    "gpu_mem_total_bytes",
    "gpu_mem_bytes",
    "rss_bytes",
    "rss_peak_bytes",
    "phys_footprint_bytes",
    "phys_footprint_peak_bytes",
    "cpu_pct",
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `<format>: N sample(s)` and a table of their figures.
pub fn samples_table(format: &str, samples: &[Sample]) -> String {
    let maps: Vec<serde_json::Map<String, Value>> = samples
        .iter()
        .filter_map(|s| match serde_json::to_value(s) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        })
        .collect();
    let cols: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| maps.iter().any(|m| m.contains_key(*c)))
        .collect();
    let mut out = format!("{format}: {} sample(s)\n", samples.len());
    if maps.is_empty() {
        return out;
    }
    let mut g = crate::grid::Grid::plain(&cols);
    for m in &maps {
        g.row(cols.iter().map(|c| m.get(*c).map(text).unwrap_or_default()));
    }
    out.push_str(&g.to_terminal());
    for (i, s) in samples
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.gpu_regions.is_empty())
    {
        out.push_str(&regions_line(i + 1, s));
    }
    out
}

/// `sample 1: gpu_mem_bytes 545325056 = IOAccelerator 65536 + ...`: which
/// regions the GPU memory figure sums, region by region.
fn regions_line(n: usize, s: &Sample) -> String {
    let parts: Vec<String> = s
        .gpu_regions
        .iter()
        .map(|r| format!("{} {}", r.name, r.resident_bytes))
        .collect();
    format!(
        "sample {n}: gpu_mem_bytes {} = {} (RESIDENT of {})\n",
        s.gpu_mem_bytes.unwrap_or(0),
        parts.join(" + "),
        super::vmmap::GPU_REGIONS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmmap_regions_are_listed_under_the_table() {
        let text = include_str!("../../fixtures/sample/vmmap_summary_llama.txt");
        let s = super::super::vmmap::parse_summary(text).unwrap();
        let out = samples_table("vmmap", &[s]);
        assert!(
            out.ends_with(
                "sample 1: gpu_mem_bytes 545325056 = IOAccelerator 65536 + IOAccelerator (graphics) \
                 536870912 + IOSurface 8388608 (RESIDENT of IOAccelerator*, IOSurface, owned unmapped \
                 (graphics))\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn nvidia_smi_apps_show_pid_and_process_name() {
        let text = include_str!("../../fixtures/sample/nvsmi-apps-header.csv");
        let v = super::super::nvidia_smi::parse_capture(text).unwrap();
        let out = samples_table("nvidia-smi-csv", &v);
        let header = out.lines().nth(2).unwrap();
        assert!(
            header.contains("pid") && header.contains("process_name"),
            "{out}"
        );
        assert!(
            out.contains("/tmp/llama/llama.cpp/build/bin/llama-bench"),
            "{out}"
        );
    }
}
