//! Samplers end to end: stand-in `powermetrics`, `vmmap`, `macmon`,
//! `nvidia-smi` and `sudo` scripts on PATH replay recorded samples at the
//! requested interval (or refuse, die, print `[N/A]`), and the real
//! `tokbench` runs the stand-in llama binary under them.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::{json, stderr, stdout, Sandbox, STANDIN};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sample")
        .join(name)
}

/// `sleep` for `$1` ms, as the tools do between samples.
const SLEEP_MS: &str = r#"sleep_ms() { sleep "$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))"; }
interval=100
prev=""
for a in "$@"; do
  case "$prev" in -i|-lms) interval="$a" ;; esac
  prev="$a"
done
"#;

const POWERMETRICS: &str = r#"
echo "$@" >> "$SB/powermetrics.argv"
if [ -n "$PM_REFUSE" ]; then
  echo "powermetrics must be invoked as the superuser" >&2
  exit 1
fi
n=0
case " $* " in *" -n 1 "*) n=1 ;; esac
while true; do
  for f in "$SB"/pm-*.xml; do
    sleep_ms "$interval"
    cat "$f"
    printf '\0'
    [ "$n" = 1 ] && exit 0
  done
done
"#;

const VMMAP: &str = r#"
echo "$@" >> "$SB/vmmap.argv"
cat "$SB/vmmap.txt"
"#;

const MACMON: &str = r#"
while true; do
  while IFS= read -r line; do
    sleep_ms "$interval"
    echo "$line"
  done < "$SB/macmon.jsonl"
done
"#;

/// Rows for the query it is given; `NVSMI_DIE_AFTER` rows then exit 3,
/// `NVSMI_NA=1` prints `[N/A]` for power.
const NVIDIA_SMI: &str = r#"
query="$1"
loop=0
case " $* " in *" -lms "*) loop=1 ;; esac
power="300.00"; instant="310.00"
[ -n "$NVSMI_NA" ] && power="[N/A]" && instant="[N/A]"
row() {
  if [ -n "$NVSMI_HOT" ]; then
    # Hot (310 W) until the time the stand-in llama binary wrote, else idle (80 W).
    if [ "$(date +%s)" -lt "$(cat "$SB/hot_until" 2>/dev/null || echo 0)" ]; then
      power="300.00"; instant="310.00"
    else
      power="80.00"; instant="80.00"
    fi
  fi
  case "$query" in
    --query-compute-apps=*)
      # Builtins only: a `cat` per process made one scan take 0.3 s on an idle
      # machine and over 0.8 s under load, longer than the stand-in llama run,
      # so no row named it and `gpu_mem_bytes_peak` was missing (the flaky
      # nvidia_smi_na_power_is_missing_not_zero). nvidia-smi answers at once.
      for p in /proc/[0-9]*; do
        comm=""
        read -r comm < "$p/comm" 2>/dev/null
        if [ "$comm" = "tokbench-standi" ]; then echo "${p#/proc/}, tokbench-standin, 512"; fi
      done ;;
    *power.draw.instant*) echo "$(date '+%Y/%m/%d %H:%M:%S.%3N'), 0, NVIDIA H200, 95, 1024, 143771, $power, 1980, 55, $instant" ;;
    *) echo "$(date '+%Y/%m/%d %H:%M:%S.%3N'), 0, NVIDIA H200, 95, 1024, 143771, $power, 1980, 55" ;;
  esac
}
if [ "$loop" = 0 ]; then row; exit 0; fi
i=0
while true; do
  row
  [ -n "$NVSMI_GARBAGE" ] && echo "%%garbage%%"
  i=$((i + 1))
  if [ -n "$NVSMI_DIE_AFTER" ] && [ "$i" -ge "$NVSMI_DIE_AFTER" ]; then
    echo "Unable to determine the device handle for GPU0000:00:00.0: GPU is lost" >&2
    exit 3
  fi
  sleep_ms "$interval"
done
"#;

const SUDO: &str = r#"
echo "sudo: a password is required" >&2
exit 1
"#;

fn write_tool(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{SLEEP_MS}{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A sandbox whose PATH starts with the stand-in tools named in `tools`.
pub(crate) fn sandbox(tools: &[&str]) -> Sandbox {
    let sb = Sandbox::new();
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for t in tools {
        let body = match *t {
            "powermetrics" => POWERMETRICS,
            "vmmap" => VMMAP,
            "macmon" => MACMON,
            "nvidia-smi" => NVIDIA_SMI,
            "sudo" => SUDO,
            other => panic!("no stand-in for {other}"),
        };
        write_tool(&bin, t, body);
    }
    let plists = std::fs::read(fixture("powermetrics_plist_two.xml")).unwrap();
    for (i, chunk) in plists.split(|&b| b == 0).enumerate() {
        std::fs::write(sb.path(&format!("pm-{i}.xml")), chunk).unwrap();
    }
    std::fs::copy(fixture("vmmap_summary_llama.txt"), sb.path("vmmap.txt")).unwrap();
    std::fs::copy(fixture("macmon_pipe.jsonl"), sb.path("macmon.jsonl")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = sb.path("").display().to_string();
    sb.set("PATH", &path).set("SB", root.trim_end_matches('/'))
}

fn record(o: &Output, i: usize) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    json(o)["runs"][i].clone()
}

fn timeline_of<'a>(r: &'a Value, source: &str) -> Vec<&'a Value> {
    r["timeline"]
        .as_array()
        .map(|a| a.iter().filter(|s| s["source"] == source).collect())
        .unwrap_or_default()
}

fn warnings_with(o: &Output, needle: &str) -> usize {
    stderr(o).lines().filter(|l| l.contains(needle)).count()
}

const GIB: u64 = 1 << 30;

#[test]
fn powermetrics_and_vmmap_standins_give_exact_figures_in_the_run() {
    let sb = sandbox(&["powermetrics", "vmmap", "sudo"]).set("STANDIN_SLEEP_MS", "1500");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "16",
        "--sampler",
        "powermetrics,vmmap",
        "--json",
    ]);
    let r = record(&o, 0);
    let pm = timeline_of(&r, "powermetrics");
    assert!(pm.len() >= 5, "{}", r["timeline"]);
    // The stand-in replays the two recorded plists in turn.
    assert_eq!(pm[0]["gpu_power_w"], 12.5);
    assert_eq!(pm[0]["gpu_busy_pct"], 97.5);
    assert_eq!(pm[0]["gpu_freq_mhz"], 1398.0);
    assert_eq!(pm[0]["combined_power_w"], 13.75);
    assert_eq!(pm[0]["span_ms"], 101.25);
    assert_eq!(pm[1]["gpu_power_w"], 10.0);
    assert_eq!(pm[1]["thermal_pressure"], "Fair");
    let vm = timeline_of(&r, "vmmap");
    assert!(!vm.is_empty(), "{}", r["timeline"]);
    assert_eq!(vm[0]["phys_footprint_bytes"], 3 * GIB / 2);
    let s = &r["sampled"];
    assert_eq!(s["peak_phys_footprint_bytes"], 2 * GIB);
    assert_eq!(
        s["gpu_mem_bytes_peak"],
        64 * 1024 + 512 * 1_048_576 + 8192 * 1024
    );
    let max = s["gpu_power_w_max"].as_f64().unwrap();
    assert!(max == 12.5 || max == 10.0, "{s}");
    let mean = s["gpu_power_w_mean"].as_f64().unwrap();
    assert!((10.0..=12.5).contains(&mean), "{s}");
    // 15 eval runs: energy per token is the window's energy over them.
    let j = s["gpu_energy_j"].as_f64().unwrap();
    assert!((s["gpu_j_per_token"].as_f64().unwrap() - j / 15.0).abs() < 1e-9);
    assert_eq!(s["window"]["kind"], "generation");
    // vmmap was asked about the benchmarked process.
    let argv = std::fs::read_to_string(sb.path("vmmap.argv")).unwrap();
    assert!(argv.lines().all(|l| l.starts_with("--summary ")), "{argv}");
    // Each run adds a metric line to the summary.
    let summary = json(&o)["summary"].clone();
    assert!(summary
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["metric"] == "gpu_power_w"));
}

#[test]
fn refusing_powermetrics_warns_once_and_the_run_goes_on() {
    let sb = sandbox(&["powermetrics", "sudo"]).set("PM_REFUSE", "1");
    let o = sb.run(&[
        "--reps",
        "2",
        "-n",
        "8",
        "--sampler",
        "powermetrics",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        warnings_with(&o, "powermetrics: not available"),
        1,
        "{}",
        stderr(&o)
    );
    let line = stderr(&o);
    assert!(
        line.contains("sudo -v") && line.contains("--sampler macmon"),
        "{line}"
    );
    let r = record(&o, 1);
    let missing = r["sampled"]["missing"].as_array().unwrap();
    assert!(missing.iter().any(|m| m
        .as_str()
        .unwrap()
        .starts_with("powermetrics: not available")));
    assert!(r["timeline"].is_null(), "{r}");
}

#[test]
fn require_sampler_fails_before_running_anything() {
    let sb = sandbox(&[]);
    let o = sb.run(&["--reps", "1", "--sampler", "macmon", "--require-sampler"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("macmon: not available"),
        "{}",
        stderr(&o)
    );
    assert!(sb.argvs().is_empty(), "the binary ran: {:?}", sb.argvs());
}

#[test]
fn nvidia_smi_dying_mid_run_never_fails_the_run() {
    let sb = sandbox(&["nvidia-smi"])
        .set("NVSMI_DIE_AFTER", "3")
        .set("STANDIN_SLEEP_MS", "1000");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "nvidia-smi",
        "--json",
    ]);
    let r = record(&o, 0);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("nvidia-smi: failed mid-run") && w.contains("GPU is lost")),
        "{warnings:?}"
    );
    let src = &r["sampled"]["sources"][0];
    assert_eq!(src["state"], "failed");
    assert!(timeline_of(&r, "nvidia-smi")
        .iter()
        .any(|s| s["gpu_power_w"] == 310.0));
}

#[test]
fn nvidia_smi_garbage_lines_are_counted_not_fatal() {
    let sb = sandbox(&["nvidia-smi"])
        .set("NVSMI_GARBAGE", "1")
        .set("STANDIN_SLEEP_MS", "600");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "nvidia-smi",
        "--json",
    ]);
    let r = record(&o, 0);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("nvidia-smi: ") && w.contains("unreadable output frame(s)")),
        "{warnings:?}"
    );
    assert_eq!(r["sampled"]["sources"][0]["state"], "ok");
    assert!((r["sampled"]["gpu_power_w_mean"].as_f64().unwrap() - 310.0).abs() < 1e-9);
}

/// 32 tokens: a 620 ms generation window (20 ms a token), so samples land
/// in it even when a loaded machine spaces the stand-in's rows 200-300 ms
/// apart (with 8 tokens, 140 ms, none did at 8 runs in parallel).
#[test]
fn nvidia_smi_na_power_is_missing_not_zero() {
    let sb = sandbox(&["nvidia-smi"])
        .set("NVSMI_NA", "1")
        .set("STANDIN_SLEEP_MS", "800");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "32",
        "--sampler",
        "nvidia-smi",
        "--json",
    ]);
    let r = record(&o, 0);
    let s = &r["sampled"];
    assert!(s["gpu_power_w_mean"].is_null(), "{s}");
    assert!(s["gpu_energy_j"].is_null(), "{s}");
    assert_eq!(s["gpu_busy_pct_mean"], 95.0);
    assert_eq!(s["gpu_temp_c_max"], 55.0);
    let missing: Vec<&str> = s["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("gpu_power_w: no value from nvidia-smi")),
        "{missing:?}"
    );
    // The process's own GPU memory came from the compute-apps query.
    assert_eq!(s["gpu_mem_bytes_peak"], 512 * 1_048_576);
    // The H200 is in the bandwidth table.
    assert_eq!(s["peak_bandwidth"]["gbps"], 4800.0);
    assert!(s["roofline_pct"].as_f64().unwrap() > 0.0);
}

#[test]
fn nvidia_smi_energy_uses_instant_power() {
    let sb = sandbox(&["nvidia-smi"]).set("STANDIN_SLEEP_MS", "800");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "nvidia-smi",
        "--json",
    ]);
    let s = record(&o, 0)["sampled"].clone();
    let mean = s["gpu_power_w_mean"].as_f64().unwrap();
    assert!((mean - 310.0).abs() < 1e-9, "{s}");
    let window =
        s["window"]["end_ms"].as_f64().unwrap() - s["window"]["start_ms"].as_f64().unwrap();
    let energy = s["gpu_energy_j"].as_f64().unwrap();
    assert!((energy - 310.0 * window / 1000.0).abs() < 1e-6, "{s}");
    assert!(
        (s["tokens_per_j"].as_f64().unwrap() * s["gpu_j_per_token"].as_f64().unwrap() - 1.0).abs()
            < 1e-9
    );
}

#[test]
fn macmon_standin_is_read_without_root() {
    let sb = sandbox(&["macmon"]).set("STANDIN_SLEEP_MS", "800");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "macmon",
        "--json",
    ]);
    let r = record(&o, 0);
    let mm = timeline_of(&r, "macmon");
    assert!(mm.len() >= 3, "{}", r["timeline"]);
    assert_eq!(mm[0]["gpu_power_w"], 8.5);
    assert_eq!(mm[0]["gpu_temp_c"], 61.5);
    // Spans come from macmon's own timestamps.
    assert_eq!(mm[1]["span_ms"], 100.0);
}

#[test]
fn sampler_processes_are_reaped_after_the_run() {
    let sb =
        sandbox(&["powermetrics", "nvidia-smi", "macmon", "vmmap"]).set("STANDIN_SLEEP_MS", "500");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "powermetrics,nvidia-smi,macmon,vmmap",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bin = sb.path("bin").display().to_string();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&bin))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn parse_reads_sampler_captures_per_sample() {
    let sb = Sandbox::new();
    let files = [
        "powermetrics_text_two.txt",
        "powermetrics_plist_two.xml",
        "vmmap_summary_llama.txt",
        "macmon_pipe.jsonl",
        "nvsmi-gpu.csv",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let mut args = vec!["parse", "--json"];
    args.extend(paths.iter().map(String::as_str));
    let o = sb.cmd(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v[0]["sample_format"], "powermetrics-text");
    assert_eq!(v[0]["samples"][1]["t_ms"], 200.0);
    assert_eq!(v[0]["samples"][1]["gpu_power_w"], 10.0);
    assert_eq!(v[1]["sample_format"], "powermetrics-plist");
    assert_eq!(v[1]["samples"][0]["gpu_busy_pct"], 97.5);
    assert_eq!(v[2]["samples"][0]["phys_footprint_peak_bytes"], 2 * GIB);
    assert_eq!(v[3]["samples"][2]["span_ms"], 150.0);
    assert_eq!(v[4]["samples"][3]["gpu_freq_mhz"], 1980.0);
    let table = sb.cmd(&["parse", &paths[0]]).output().unwrap();
    let out = stdout(&table);
    assert!(
        out.contains("powermetrics-text: 2 sample(s)") && out.contains("13.75"),
        "{out}"
    );
}

#[test]
fn doctor_lists_every_source_and_why() {
    let sb = sandbox(&["vmmap"]);
    let o = sb.cmd(&["doctor"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for s in ["powermetrics", "vmmap", "macmon", "nvidia-smi", "proc"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(s)),
            "{s} missing in\n{out}"
        );
    }
    assert!(out.contains("'macmon' not found on PATH"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("vmmap") && l.contains("usable:")),
        "{out}"
    );
}

#[test]
fn proc_sampler_reports_the_process_memory() {
    let sb = sandbox(&[]).set("STANDIN_SLEEP_MS", "500");
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "proc",
        "--json",
    ]);
    let r = record(&o, 0);
    let s = &r["sampled"];
    let rss = s["peak_rss_bytes"].as_u64().unwrap();
    // The stand-in is a small Rust binary: more than 100 KiB, less than 1 GiB.
    assert!((100 << 10..1 << 30).contains(&rss), "{s}");
    let proc = timeline_of(&r, "proc");
    assert!(proc.len() >= 3, "{}", r["timeline"]);
    assert!(
        proc.iter().skip(1).any(|p| p["cpu_pct"].is_number()),
        "{}",
        r["timeline"]
    );
    assert_eq!(s["sources"][0]["state"], "ok");
}

#[test]
fn sampler_none_adds_nothing_to_the_record() {
    let sb = sandbox(&[]);
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "none",
        "--json",
    ]);
    let r = record(&o, 0);
    assert!(r["sampled"].is_null() && r["timeline"].is_null(), "{r}");
}

#[test]
fn cooldown_auto_waits_until_the_gpu_is_back_near_idle() {
    // With STANDIN_HOT_FILE each run leaves the stand-in GPU "hot" (310 W
    // against 80 W idle) for 2 to 3 s; without it the GPU never heats up.
    let compare = |hot: bool| {
        let mut sb = sandbox(&["nvidia-smi"]).set("NVSMI_HOT", "1");
        if hot {
            let file = sb.path("hot_until").display().to_string();
            sb = sb.set("STANDIN_HOT_FILE", &file);
        }
        let model = sb.model();
        let args = [
            "compare", "--a", STANDIN, "-m", &model, "--b-args", "-t 2", "--pairs", "1",
        ];
        let t = std::time::Instant::now();
        let o = sb
            .cmd(&args)
            .args([
                "-n",
                "8",
                "--sampler",
                "nvidia-smi",
                "--cooldown",
                "auto",
                "--json",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (t.elapsed(), json(&o))
    };
    let (cold, _) = compare(false);
    let (hot, report) = compare(true);
    // Three pauses (after each of the four runs but the last) wait out the heat.
    assert!(
        hot >= cold + std::time::Duration::from_millis(2500),
        "{cold:?} vs {hot:?}"
    );
    assert!(
        !report["warnings"]
            .to_string()
            .contains("not back near idle"),
        "{}",
        report["warnings"]
    );
}

#[test]
fn cooldown_auto_without_a_gpu_sampler_says_so() {
    let sb = sandbox(&[]);
    let model = sb.model();
    let o = sb
        .cmd(&[
            "compare", "--a", STANDIN, "-m", &model, "--b-args", "-t 2", "--pairs", "1",
        ])
        .args(["--sampler", "proc", "--cooldown", "auto", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        json(&o)["warnings"]
            .to_string()
            .contains("--cooldown auto needs a GPU sampler"),
        "{}",
        stdout(&o)
    );
}

const STANDIN_SERVER: &str = env!("CARGO_BIN_EXE_tokbench-standin-server");

/// `serve --server` with the nvidia-smi stand-in: the block's record keeps
/// the samplers' timeline on the server process (the compute-apps rows of
/// the stand-in server's pid, 512 MiB), the same shape a run keeps, and
/// `plot timeline` draws it from the serve file.
#[test]
fn a_serve_block_keeps_its_sampler_timeline_and_plot_timeline_draws_it() {
    let sb = sandbox(&["nvidia-smi"]);
    let server = format!("{STANDIN_SERVER} --standin slots=2,token_ms=20");
    let o = sb
        .cmd(&[
            "serve",
            "--server",
            &server,
            "--sampler",
            "nvidia-smi",
            "--concurrency",
            "2",
            "--requests",
            "10",
            "--max-tokens",
            "12",
            "--no-history",
            "-o",
            "s.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recs = sb.results("s.jsonl");
    let block = recs.iter().find(|r| r["kind"] == "serve_block").unwrap();
    let timeline = timeline_of(block, "nvidia-smi");
    assert!(timeline.len() >= 5, "{}", block["timeline"]);
    assert!(
        timeline.iter().any(|s| s["gpu_busy_pct"] == 95.0),
        "{}",
        block["timeline"]
    );
    assert!(
        timeline
            .iter()
            .any(|s| s["gpu_mem_bytes"] == 512 * 1_048_576),
        "the server process's own GPU memory: {}",
        block["timeline"]
    );
    let t: Vec<f64> = timeline
        .iter()
        .map(|s| s["t_ms"].as_f64().unwrap())
        .collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "ordered by time: {t:?}");
    assert_eq!(block["sampled"]["gpu_mem_bytes_peak"], 512 * 1_048_576);
    let p = sb
        .cmd(&["plot", "timeline", "s.jsonl", "-o", "t.svg"])
        .output()
        .unwrap();
    assert_eq!(p.status.code(), Some(0), "{}", stderr(&p));
    let svg = std::fs::read_to_string(sb.path("t.svg")).unwrap();
    assert!(svg.contains("serve block 0"), "titled by its block");
    assert!(svg.contains("GPU W") && svg.contains("GPU busy %"));
    let r = sb
        .cmd(&["report", "s.jsonl", "--format", "html", "-o", "r.html"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let html = std::fs::read_to_string(sb.path("r.html")).unwrap();
    assert!(
        html.contains("timeline of the first block with one"),
        "the report draws it too"
    );
    let none = sb
        .cmd(&["plot", "timeline", "s.jsonl", "--seq", "7", "-o", "u.svg"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("no block has index '7'"),
        "{}",
        stderr(&none)
    );
}
