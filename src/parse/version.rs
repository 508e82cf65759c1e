//! Build identity from a `--version` banner or a run's log (FORMATS.md §1.5):
//! `version: …` / `built with … for …`, llama-bench's `build: <commit> (<n>)`
//! footer, and the backend from device-init, `load_backend` and
//! `system_info` lines. Knowing the build lets results of different builds
//! be told apart even when the user did not name them.

use std::sync::LazyLock;

use regex::Regex;

use super::text::log_lines;
use crate::model::BuildInfo;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("version regex is valid")
}

// Current: `version: 0.5.0-dev (build 0, commit unknown)`.
static VERSION_BUILD_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^version:\s*(\S+)\s*\(build\s+(\d+),\s*commit\s+([^)\s]+)\s*\)"));
// 2024-2025: `version: 5615 (f470bc36)`, the version being the build number.
static VERSION_OLD_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^version:\s*(\d+)\s*\(([^)\s]+)\)"));
// Older logs put the printer's name first: `main: built with cc ... for x86_64-linux-gnu`.
static BUILT_WITH_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:[a-z_]+:\s+)?built with (.+) for (.+)$"));
// The run log of `main`/`llama-cli` of 2023 to mid 2024: `main: build = 1 (b38a16d)`.
static LOG_BUILD_EQ_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[a-z_]+:\s+build\s*=\s*(\d+)\s*\(([^)\s]+)\)\s*$"));
// The run log of late 2024: `build: 1 (74d73dc) with gcc (...) 11.4.0 for x86_64-linux-gnu`.
static LOG_BUILD_WITH_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^build:\s*(\d+)\s*\(([^)\s]+)\)\s+with\s+(.+)\s+for\s+(\S+)\s*$"));
static BENCH_FOOTER_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^build:\s*(\S+)\s*\((\d+)\)\s*$"));
static LOAD_BACKEND_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^load_backend:\s*loaded\s+(\S+)\s+backend\b"));
// `ggml_cuda_init:`, `ggml_metal_init:`, `ggml_vulkan:`, `ggml_sycl_init:`.
static DEVICE_INIT_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^ggml_(cuda|metal|vulkan|sycl)[a-z_]*:"));
// `system_info: … | CUDA : ARCHS = 900 | … | CPU : SSE3 = 1 | …`.
static SYSTEM_INFO_SECTION_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\|\s*([A-Za-z][A-Za-z0-9_]*)\s+:\s"));

/// Reads `version: ... (build N, commit C)` / `version: N (C)`, `built with X
/// for Y`, and the backend from log lines. None when nothing is found.
pub fn parse_build_info(text: &str) -> Option<BuildInfo> {
    let mut info = BuildInfo::default();
    let mut backends: Vec<String> = Vec::new();
    for line in log_lines(text) {
        let l = line.text.as_str();
        read_version(l, &mut info);
        read_backends(l, &mut backends);
    }
    info.backend = summarise_backends(&backends);
    (info != BuildInfo::default()).then_some(info)
}

/// `unknown` is what builds without git metadata print; it names nothing.
fn known(s: &str) -> Option<String> {
    (s != "unknown").then(|| s.to_string())
}

fn read_version(l: &str, info: &mut BuildInfo) {
    if let Some(c) = VERSION_BUILD_RE.captures(l) {
        info.version = Some(c[1].to_string());
        info.build_number = c[2].parse().ok();
        info.commit = known(&c[3]);
    } else if let Some(c) = VERSION_OLD_RE.captures(l) {
        info.version = Some(c[1].to_string());
        info.build_number = c[1].parse().ok();
        info.commit = known(&c[2]);
    } else if let Some(c) = BUILT_WITH_RE.captures(l) {
        info.compiler = Some(c[1].trim().to_string());
        info.target = Some(c[2].trim().to_string());
    } else if let Some(c) = LOG_BUILD_EQ_RE.captures(l) {
        info.build_number = c[1].parse().ok();
        info.commit = known(&c[2]);
    } else if let Some(c) = LOG_BUILD_WITH_RE.captures(l) {
        info.build_number = c[1].parse().ok();
        info.commit = known(&c[2]);
        info.compiler = Some(c[3].trim().to_string());
        info.target = Some(c[4].trim().to_string());
    } else if let Some(c) = BENCH_FOOTER_RE.captures(l) {
        // A banner, when present, is the more complete source.
        if info.commit.is_none() && info.build_number.is_none() {
            info.commit = known(&c[1]);
            info.build_number = c[2].parse().ok();
        }
    }
}

fn read_backends(l: &str, backends: &mut Vec<String>) {
    let mut add = |name: &str| {
        let name = match name.to_ascii_lowercase().as_str() {
            "cuda" => "CUDA".to_string(),
            "metal" | "mtl" => "Metal".to_string(),
            "vulkan" => "Vulkan".to_string(),
            "sycl" => "SYCL".to_string(),
            "cpu" => "CPU".to_string(),
            _ => name.to_string(),
        };
        if !backends.contains(&name) {
            backends.push(name);
        }
    };
    if let Some(c) = DEVICE_INIT_RE.captures(l) {
        add(&c[1]);
    } else if let Some(c) = LOAD_BACKEND_RE.captures(l) {
        add(&c[1]);
    } else if l.starts_with("system_info:") {
        for c in SYSTEM_INFO_SECTION_RE.captures_iter(l) {
            add(&c[1]);
        }
    }
}

/// The accelerators seen, in order (`Metal,BLAS` like llama-bench writes
/// it); `CPU` only when nothing else was; None when no line named any.
fn summarise_backends(backends: &[String]) -> Option<String> {
    let accelerators: Vec<&str> = backends
        .iter()
        .map(String::as_str)
        .filter(|b| *b != "CPU")
        .collect();
    if !accelerators.is_empty() {
        Some(accelerators.join(","))
    } else {
        backends.first().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn current_banner_without_git_metadata() {
        let info = parse_build_info(include_str!("../../fixtures/llama/2026_version_banner.txt"));
        let want = BuildInfo {
            version: s("0.5.0-dev"),
            commit: None,
            build_number: Some(0),
            compiler: s("GNU 13.3.0"),
            target: s("Linux x86_64"),
            backend: None,
            source: None,
        };
        assert_eq!(info, Some(want));
    }

    #[test]
    fn current_banner_with_commit() {
        let info = parse_build_info(
            "version: 0.5.0-dev (build 1, commit 0c1e570)\nbuilt with GNU 13.3.0 for Linux x86_64\n",
        );
        let info = info.expect("banner");
        assert_eq!((info.version, info.commit), (s("0.5.0-dev"), s("0c1e570")));
        assert_eq!(info.build_number, Some(1));
    }

    #[test]
    fn older_banner_with_log_prefix() {
        let text = "0.00.000.101 I version: 5615 (f470bc36)\n\
                    0.00.000.102 I built with cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0 for x86_64-linux-gnu\n";
        let want = BuildInfo {
            version: s("5615"),
            commit: s("f470bc36"),
            build_number: Some(5615),
            compiler: s("cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"),
            target: s("x86_64-linux-gnu"),
            backend: None,
            source: None,
        };
        assert_eq!(parse_build_info(text), Some(want));
    }

    #[test]
    fn cuda_from_device_init_and_bench_footer() {
        let info = parse_build_info(include_str!(
            "../../fixtures/llama/2026_bench_cuda_stderr_md.txt"
        ));
        let want = BuildInfo {
            backend: s("CUDA"),
            build_number: Some(0),
            ..BuildInfo::default()
        };
        assert_eq!(info, Some(want));
    }

    #[test]
    fn bench_footer_with_commit() {
        let info = parse_build_info(include_str!("../../fixtures/llama/2026_bench_cpu_md.txt"));
        let want = BuildInfo {
            commit: s("0c1e570"),
            build_number: Some(1),
            ..BuildInfo::default()
        };
        assert_eq!(info, Some(want));
    }

    #[test]
    fn system_info_cuda_and_cpu() {
        let gpu = parse_build_info(include_str!(
            "../../fixtures/llama/2026_completion_cuda_stderr.txt"
        ));
        assert_eq!(gpu.and_then(|i| i.backend), s("CUDA"));
        let cpu = parse_build_info(include_str!(
            "../../fixtures/llama/2026_completion_cpu_stderr.txt"
        ));
        assert_eq!(cpu.and_then(|i| i.backend), s("CPU"));
        let jsonl = parse_build_info(include_str!(
            "../../fixtures/llama/2026_completion_log_jsonl.txt"
        ));
        assert_eq!(jsonl.and_then(|i| i.backend), s("CPU"));
    }

    #[test]
    fn metal_and_load_backend_lines() {
        let text = "ggml_metal_init: allocating\nggml_metal_init: found device: Apple M2 Max\n\
                    load_backend: loaded BLAS backend from /opt/libggml-blas.so\n\
                    load_backend: loaded CPU backend from /opt/libggml-cpu.so\n";
        assert_eq!(
            parse_build_info(text).and_then(|i| i.backend),
            s("Metal,BLAS")
        );
        let text = "[7] load_backend: loaded CUDA backend from /usr/lib/libggml-cuda.so\n";
        assert_eq!(parse_build_info(text).and_then(|i| i.backend), s("CUDA"));
    }

    fn legacy(commit: &str, compiler: &str, version: Option<&str>) -> BuildInfo {
        BuildInfo {
            version: version.map(str::to_string),
            commit: s(commit),
            build_number: Some(1),
            compiler: s(compiler),
            target: s("x86_64-linux-gnu"),
            backend: None,
            source: None,
        }
    }

    /// The 2023 `main` has no --version: its build is read from the run log
    /// (`main: build = 1 (b38a16d)`, `main: built with ...`).
    #[test]
    fn legacy_run_logs_name_their_build() {
        let cc = "cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0";
        let gcc = "gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0";
        let log =
            |v: &str| std::fs::read_to_string(format!("fixtures/legacy/{v}/run.stderr")).unwrap();
        assert_eq!(
            parse_build_info(&log("0.2.20")),
            Some(legacy("b38a16d", cc, None))
        );
        assert_eq!(
            parse_build_info(&log("0.2.79")),
            Some(legacy("9c77ec1", cc, None))
        );
        assert_eq!(
            parse_build_info(&log("0.3.2")),
            Some(legacy("74d73dc", gcc, None))
        );
    }

    #[test]
    fn legacy_version_banners() {
        let cc = "cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0";
        let gcc = "gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0";
        let v =
            |v: &str| std::fs::read_to_string(format!("fixtures/legacy/{v}/version.txt")).unwrap();
        assert_eq!(
            parse_build_info(&v("0.2.79")),
            Some(legacy("9c77ec1", cc, Some("1")))
        );
        assert_eq!(
            parse_build_info(&v("0.3.2")),
            Some(legacy("74d73dc", gcc, Some("1")))
        );
        // The 2023 `main` answers --version with its usage: nothing to read.
        let help = std::fs::read_to_string("fixtures/legacy/0.2.20/help.txt").unwrap();
        assert_eq!(parse_build_info(&help), None);
    }

    #[test]
    fn nothing_found() {
        assert_eq!(parse_build_info(""), None);
        assert_eq!(
            parse_build_info("hello\nversion of nothing\nbuilt with"),
            None
        );
        let server = include_str!("../../fixtures/llama/2026_server_log_cpu.txt");
        assert_eq!(parse_build_info(server), None);
    }

    #[test]
    fn own_run_recordings() {
        use crate::fixtures::read_fixture;
        let info = parse_build_info(&read_fixture(
            "llama/2026_completion_cpu_full_stderr_timestamped.txt",
        ));
        assert_eq!(info.and_then(|i| i.backend), s("CPU"));
        let info = parse_build_info(&read_fixture("llama-bench/2026_current_cpu.md"));
        let info = info.expect("footer");
        assert_eq!((info.commit, info.build_number), (s("0c1e570"), Some(1)));
    }
}
