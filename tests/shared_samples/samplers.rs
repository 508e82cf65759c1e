//! powermetrics, vmmap and macmon captures as other people recorded them
//! (public samples), and capture-format detection on them.

use crate::{Check, Samples};
use tokbench::sample::capture::detect;
use tokbench::sample::powermetrics::{parse_plist_stream, parse_text};
use tokbench::sample::vmmap::{parse_size, parse_summary};
use tokbench::sample::{macmon, Sample};

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "powermetrics::macos26_gpu_power_only",
            run: macos26_gpu_power_only,
        },
        Check {
            name: "powermetrics::macos14_m1_combined_power",
            run: macos14_m1_combined_power,
        },
        Check {
            name: "powermetrics::macos11_old_gpu_names",
            run: macos11_old_gpu_names,
        },
        Check {
            name: "powermetrics::intel_lifetime_sample_skipped",
            run: intel_lifetime,
        },
        Check {
            name: "powermetrics::plist_single_and_multi",
            run: plist_single_and_multi,
        },
        Check {
            name: "powermetrics::plist_gpu_energy_only",
            run: plist_gpu_energy_only,
        },
        Check {
            name: "vmmap::macos26_llama_server",
            run: vmmap_macos26_llama_server,
        },
        Check {
            name: "vmmap::macos14_and_13",
            run: vmmap_macos14_and_13,
        },
        Check {
            name: "macmon::beszel_line_exact",
            run: macmon_beszel_line,
        },
        Check {
            name: "capture::detects_every_public_capture",
            run: detects_every_capture,
        },
    ]
}

fn text_samples(s: &Samples, name: &str) -> Vec<Sample> {
    parse_text(&s.text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn plist_samples(s: &Samples, name: &str) -> Vec<Sample> {
    parse_plist_stream(s.text(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn macos26_gpu_power_only(s: &Samples) {
    let v = text_samples(s, "powermetrics_text_macos26_m2pro_gpu_power_fixture.txt");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].span_ms, Some(503.05));
    assert_eq!(v[0].gpu_freq_mhz, Some(444.0));
    assert_eq!(v[0].gpu_busy_pct, Some(0.97));
    assert_eq!(v[0].gpu_power_w, Some(0.004));
    assert_eq!(v[0].combined_power_w, None);
}

fn macos14_m1_combined_power(s: &Samples) {
    let v = text_samples(s, "powermetrics_text_macos14_m1.txt");
    assert_eq!(v[0].span_ms, Some(5009.62));
    assert_eq!(v[0].cpu_power_w, Some(0.057));
    assert_eq!(v[0].gpu_power_w, Some(0.001));
    assert_eq!(v[0].combined_power_w, Some(0.059));
}

fn macos11_old_gpu_names(s: &Samples) {
    let v = text_samples(s, "powermetrics_text_macos11_m1_gpuload.txt");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].span_ms, Some(1013.6));
    assert_eq!(v[0].gpu_busy_pct, Some(100.0));
    assert_eq!(v[0].gpu_freq_mhz, Some(1278.0));
    // `GPU Power` is printed twice (processor and GPU sections): the first counts.
    assert_eq!(v[0].gpu_power_w, Some(7.539));
    assert_eq!(v[0].combined_power_w, Some(7.731));
}

fn intel_lifetime(s: &Samples) {
    let v = text_samples(s, "powermetrics_text_macos10.14_intel_mbp8_1_showall.txt");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].span_ms, Some(10043.73));
    assert_eq!(v[0].combined_power_w, Some(4.84));
    assert_eq!(v[0].thermal_pressure.as_deref(), Some("Nominal"));
    assert_eq!(v[0].gpu_power_w, None);
}

fn plist_single_and_multi(s: &Samples) {
    let v = plist_samples(s, "powermetrics_plist_macos13_m1.xml");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].span_ms, Some(2019.17875));
    assert_eq!(v[0].gpu_power_w, Some(0.0153528));
    assert_eq!(v[0].combined_power_w, Some(0.0594301));
    assert_eq!(v[0].gpu_freq_mhz, Some(714.836));
    assert_eq!(v[0].gpu_busy_pct, Some(1.6659));
    assert_eq!(v[0].thermal_pressure.as_deref(), Some("Nominal"));
    let multi = plist_samples(s, "powermetrics_plist_gpu_power_multi_macos15_m4pro.xml");
    assert_eq!(multi.len(), 5);
}

fn plist_gpu_energy_only(s: &Samples) {
    let v = plist_samples(s, "powermetrics_plist_gpu_power_macos15_m4pro.xml");
    assert_eq!(v[0].gpu_freq_mhz, Some(338.0));
    // 9 mJ over 5005.449083 ms.
    assert_eq!(v[0].gpu_power_w, Some(9.0 / 5005.449083));
}

fn vmmap_macos26_llama_server(s: &Samples) {
    let v = parse_summary(&s.text("vmmap_summary_macos26_llama_server_metal.txt")).expect("parses");
    assert_eq!(v.phys_footprint_bytes, parse_size("11.5G"));
    assert_eq!(v.phys_footprint_peak_bytes, parse_size("14.5G"));
    // 64K + 4864K + owned unmapped (graphics) 72.0M, RESIDENT column.
    assert_eq!(v.gpu_mem_bytes, Some((64 + 4864) * 1024 + 72 * 1048576));
}

fn vmmap_macos14_and_13(s: &Samples) {
    let v =
        parse_summary(&s.text("vmmap_summary_macos14_clion_ioaccelerator.txt")).expect("parses");
    // IOAccelerator 161.4M + IOSurface 85.5M resident.
    let want = parse_size("161.4M")
        .zip(parse_size("85.5M"))
        .map(|(a, b)| a + b);
    assert_eq!(v.gpu_mem_bytes, want);
    let v =
        parse_summary(&s.text("vmmap_summary_macos13_intel_memory_user_100M.txt")).expect("parses");
    assert_eq!(v.phys_footprint_bytes, parse_size("100.3M"));
    assert_eq!(v.phys_footprint_peak_bytes, parse_size("100.3M"));
}

fn macmon_beszel_line(s: &Samples) {
    let v = macmon::parse_capture(&s.text("macmon_pipe_2026_beszel_test_fixture.jsonl"))
        .expect("parses");
    assert_eq!(v.len(), 1);
    let m = &v[0];
    assert_eq!(m.gpu_freq_mhz, Some(503.0));
    assert_eq!(m.gpu_busy_pct, Some(0.013633215799927711 * 100.0));
    assert_eq!(m.gpu_power_w, Some(0.010859241709113121));
    assert_eq!(m.combined_power_w, Some(0.6468324661254883));
    assert_eq!(m.gpu_temp_c, Some(29.44516944885254));
    assert_eq!((m.t_ms, m.span_ms), (0.0, None));
}

fn detects_every_capture(s: &Samples) {
    for (file, fmt) in [
        ("powermetrics_text_macos14_m1.txt", "powermetrics-text"),
        (
            "powermetrics_text_macos11_m1_gpuload.txt",
            "powermetrics-text",
        ),
        ("powermetrics_plist_macos13_m1.xml", "powermetrics-plist"),
        ("vmmap_summary_macos26_llama_server_metal.txt", "vmmap"),
        ("vmmap_summary_macos14_clion_ioaccelerator.txt", "vmmap"),
        ("macmon_pipe_2026_beszel_test_fixture.jsonl", "macmon"),
    ] {
        assert_eq!(detect(&s.text(file)), Some(fmt), "{file}");
    }
}
