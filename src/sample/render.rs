//! Per-sample table of a saved capture (`tokbench parse FILE`).

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::Value;

use super::Sample;

/// Sample fields in display order (only those present are shown).
const COLUMNS: [&str; 18] = [
    "t_ms",
    "span_ms",
    "gpu_index",
    "gpu_name",
    "gpu_busy_pct",
    "gpu_freq_mhz",
    "gpu_power_w",
    "cpu_power_w",
    "combined_power_w",
    "gpu_temp_c",
    "thermal_pressure",
    "gpu_mem_used_bytes",
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
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(cols.clone());
    for m in &maps {
        t.add_row(cols.iter().map(|c| m.get(*c).map(text).unwrap_or_default()));
    }
    out.push_str(&format!("{t}\n"));
    out
}
