//! Peak figures of a few devices, for "% of peak" in `tokbench ops`.
//!
//! Matched on `device_description` (case-insensitive substring), the most
//! specific name first. Only datasheet figures: memory bandwidth in GB/s
//! (10^9 bytes) and the dense FP16/BF16 tensor rate in TFLOPS (no sparsity).
//! A compute-bound op's "% of peak" is against that one rate, whatever its
//! types; an op on another precision (FP32, INT8) reads low or high against
//! it, which the report says. CPUs vary too much to list: none is known.

use serde::{Deserialize, Serialize};

/// What is known of one device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    pub bandwidth_gb_s: Option<f64>,
    pub dense_f16_tflops: Option<f64>,
}

/// (substring, bandwidth GB/s, dense FP16/BF16 TFLOPS), most specific first.
const KNOWN: [(&str, f64, f64); 6] = [
    ("H200", 4800.0, 989.0),
    ("H100 PCIe", 2000.0, 756.0),
    ("H100", 3350.0, 989.0),
    ("A100", 2039.0, 312.0),
    ("RTX 4090", 1008.0, 165.2),
    ("L40S", 864.0, 362.0),
];

/// The peak of a device by its description; overrides (from the command
/// line) win over the table.
pub fn lookup(device: &str, bandwidth: Option<f64>, tflops: Option<f64>) -> Option<Peak> {
    let lower = device.to_lowercase();
    let known = KNOWN
        .iter()
        .find(|(name, ..)| lower.contains(&name.to_lowercase()));
    let peak = Peak {
        bandwidth_gb_s: bandwidth.or(known.map(|k| k.1)),
        dense_f16_tflops: tflops.or(known.map(|k| k.2)),
    };
    (peak.bandwidth_gb_s.is_some() || peak.dense_f16_tflops.is_some()).then_some(peak)
}

/// ggml's "GB/s" divides bytes by 1024^3; datasheets use 10^9.
pub const GIB_PER_GB: f64 = 1.073_741_824;

/// Percent of the peak for a rate as test-backend-ops reports it: FLOP/s
/// when `flops` > 0, else ggml's GiB/s.
pub fn percent_of_peak(peak: &Peak, flops: f64, bandwidth_gib_s: f64) -> Option<f64> {
    if flops > 0.0 {
        return peak.dense_f16_tflops.map(|t| 100.0 * flops / (t * 1e12));
    }
    let bw = peak.bandwidth_gb_s?;
    (bandwidth_gib_s > 0.0).then(|| 100.0 * bandwidth_gib_s * GIB_PER_GB / bw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h200_is_found_and_h100_pcie_before_h100() {
        let h200 = lookup("NVIDIA H200", None, None).unwrap();
        assert_eq!(h200.bandwidth_gb_s, Some(4800.0));
        assert_eq!(h200.dense_f16_tflops, Some(989.0));
        let pcie = lookup("NVIDIA H100 PCIe", None, None).unwrap();
        assert_eq!(pcie.bandwidth_gb_s, Some(2000.0));
        assert_eq!(lookup("AMD EPYC 9654", None, None), None);
    }

    #[test]
    fn overrides_win_and_make_a_cpu_known() {
        let p = lookup("AMD EPYC 9654", Some(460.8), None).unwrap();
        assert_eq!(p.bandwidth_gb_s, Some(460.8));
        assert_eq!(p.dense_f16_tflops, None);
        assert_eq!(
            lookup("NVIDIA H200", Some(4000.0), None)
                .unwrap()
                .bandwidth_gb_s,
            Some(4000.0)
        );
    }

    #[test]
    fn percent_uses_flops_or_converted_bandwidth() {
        let p = lookup("NVIDIA H200", None, None).unwrap();
        assert!((percent_of_peak(&p, 494.5e12, 0.0).unwrap() - 50.0).abs() < 1e-9);
        // 2235.17 GiB/s = 2400 GB/s = 50% of 4800.
        let pct = percent_of_peak(&p, 0.0, 2400.0 / GIB_PER_GB).unwrap();
        assert!((pct - 50.0).abs() < 1e-9);
        assert_eq!(percent_of_peak(&p, 0.0, 0.0), None);
    }
}
