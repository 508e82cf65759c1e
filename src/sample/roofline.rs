//! The memory-bandwidth roofline of decoding: every generated token reads
//! the whole model once, so `model bytes x eval t/s` cannot exceed the
//! device's peak memory bandwidth. The share of that limit a run reaches
//! says how much headroom decoding has left.
//!
//! Peak figures are the vendors' published numbers (GB/s, 10^9 bytes).
//! Binned parts share a name with their full part (an M3 Max with 30 GPU
//! cores has 300 GB/s, not 400): `--peak-bandwidth` overrides the table.

/// (name fragment, GB/s). The longest fragment found in the device name wins.
const TABLE: [(&str, f64); 33] = [
    ("Apple M1", 68.25),
    ("Apple M1 Pro", 200.0),
    ("Apple M1 Max", 400.0),
    ("Apple M1 Ultra", 800.0),
    ("Apple M2", 100.0),
    ("Apple M2 Pro", 200.0),
    ("Apple M2 Max", 400.0),
    ("Apple M2 Ultra", 800.0),
    ("Apple M3", 100.0),
    ("Apple M3 Pro", 150.0),
    ("Apple M3 Max", 400.0),
    ("Apple M3 Ultra", 819.0),
    ("Apple M4", 120.0),
    ("Apple M4 Pro", 273.0),
    ("Apple M4 Max", 546.0),
    ("H200", 4800.0),
    ("H100 80GB HBM3", 3350.0),
    ("H100 PCIe", 2000.0),
    ("H100 NVL", 3900.0),
    ("A100-SXM4-80GB", 2039.0),
    ("A100 80GB PCIe", 1935.0),
    ("A100-SXM4-40GB", 1555.0),
    ("A100-PCIE-40GB", 1555.0),
    ("L40S", 864.0),
    ("L4", 300.0),
    ("A10", 600.0),
    ("T4", 320.0),
    ("V100", 900.0),
    ("RTX 5090", 1792.0),
    ("RTX 4090", 1008.0),
    ("RTX 4080", 716.8),
    ("RTX 3090", 936.0),
    ("RTX 3080", 760.0),
];

/// Peak bandwidth (GB/s) for a device name such as `NVIDIA H200` or
/// `Apple M2 Max`, by the longest table entry it contains as a whole word.
pub fn peak_gbps(device: &str) -> Option<f64> {
    TABLE
        .iter()
        .filter(|(frag, _)| contains_word(device, frag))
        .max_by_key(|(frag, _)| frag.len())
        .map(|(_, gbps)| *gbps)
}

/// `frag` occurs in `s` not followed by a letter or digit (so `L4` does
/// not match `L40S`, nor `Apple M1` match `Apple M10`).
fn contains_word(s: &str, frag: &str) -> bool {
    s.match_indices(frag).any(|(i, _)| {
        let after = s[i + frag.len()..].chars().next();
        let before = s[..i].chars().next_back();
        !after.is_some_and(|c| c.is_ascii_alphanumeric())
            && !before.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Decode bandwidth as a percentage of the peak.
pub fn roofline_pct(model_bytes: u64, eval_tps: f64, peak_gbps: f64) -> Option<f64> {
    if !(eval_tps.is_finite() && eval_tps > 0.0 && peak_gbps > 0.0) || model_bytes == 0 {
        return None;
    }
    Some(model_bytes as f64 * eval_tps / (peak_gbps * 1e9) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lookup_prefers_the_longest_whole_word() {
        assert_eq!(peak_gbps("NVIDIA H200"), Some(4800.0));
        assert_eq!(peak_gbps("Apple M2 Max"), Some(400.0));
        assert_eq!(peak_gbps("Apple M2"), Some(100.0));
        assert_eq!(peak_gbps("NVIDIA L40S"), Some(864.0));
        assert_eq!(peak_gbps("NVIDIA L4"), Some(300.0));
        assert_eq!(peak_gbps("NVIDIA GeForce RTX 4090"), Some(1008.0));
        assert_eq!(peak_gbps("Intel(R) Xeon(R)"), None);
    }

    #[test]
    fn h200_example_from_the_issue() {
        // 904 MiB x 897 t/s over 4.8 TB/s is about 17.7 %.
        let pct = roofline_pct(904 * 1_048_576, 897.0, 4800.0).unwrap();
        assert!((pct - 17.71).abs() < 0.01, "{pct}");
        assert_eq!(roofline_pct(0, 897.0, 4800.0), None);
        assert_eq!(roofline_pct(1, f64::INFINITY, 4800.0), None);
    }
}
