//! The fault matrix (README, "Faults and what tokbench does"): the cases not
//! already pinned elsewhere in `tests/cli.rs`. Each test asserts what the user
//! sees, the exit code and what is kept on disk. The disk cases use paths that
//! fail for root too (CI runs as root): `/dev/full`, a directory, a path under
//! a regular file, and `RLIMIT_FSIZE` for a disk that fills mid-line.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use super::{json, no_standin_left, stderr, Sandbox, STANDIN};

mod fuzz;

/// Kills any stand-in of `sb` still running when a test ends, so a failing
/// test does not leave a hanging process behind.
struct Reaper<'a>(&'a Sandbox);

impl Drop for Reaper<'_> {
    fn drop(&mut self) {
        let state = self.0.path("state").display().to_string();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let pid = entry.file_name().to_string_lossy().parse::<i32>();
            if let (true, Ok(pid)) = (String::from_utf8_lossy(&environ).contains(&state), pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn nonzero_exit_after_timings_is_a_failed_run_whose_timings_are_kept() {
    let sb = Sandbox::new().set("STANDIN_EXIT", "2");
    let o = sb.run(&["--reps", "1", "--warmup", "0", "-o", "r.jsonl", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run 0 of") && stderr(&o).contains("exited with code 2"),
        "{}",
        stderr(&o)
    );
    let rec = &sb.results("r.jsonl")[0];
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["exit"]["code"], 2);
    assert_eq!(
        rec["timings"]["eval_tps"], 50.0,
        "the printed timings are kept"
    );
    let r = json(&o);
    assert_eq!(r["failed_runs"], serde_json::json!([0]));
    assert!(
        r["summary"].as_array().map_or(0, Vec::len) == 0,
        "a failed run is not counted: {}",
        r["summary"]
    );
}

/// A GGUF v3 with one F32 tensor of 4 elements (16 bytes of data) of which
/// only `data_len` bytes are present.
fn tiny_gguf(data_len: usize) -> Vec<u8> {
    let mut v = b"GGUF".to_vec();
    v.extend(3u32.to_le_bytes());
    v.extend(1u64.to_le_bytes()); // tensors
    v.extend(1u64.to_le_bytes()); // metadata keys
    let key = b"general.architecture";
    v.extend((key.len() as u64).to_le_bytes());
    v.extend(key);
    v.extend(8u32.to_le_bytes()); // string
    v.extend(5u64.to_le_bytes());
    v.extend(b"llama");
    v.extend(1u64.to_le_bytes());
    v.extend(b"w");
    v.extend(1u32.to_le_bytes()); // dims
    v.extend(4u64.to_le_bytes());
    v.extend(0u32.to_le_bytes()); // F32
    v.extend(0u64.to_le_bytes()); // offset
    v.resize(v.len().div_ceil(32) * 32, 0);
    v.resize(v.len() + data_len, 0);
    v
}

#[test]
fn a_gguf_shorter_than_its_header_promises_is_refused_before_launching() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("whole.gguf"), tiny_gguf(16)).unwrap();
    std::fs::write(sb.path("cut.gguf"), tiny_gguf(15)).unwrap();
    let run = |model: &str| {
        sb.cmd(&["run", "--bin", STANDIN, "-m", model, "--reps", "1"])
            .output()
            .unwrap()
    };
    let o = run("cut.gguf");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("model 'cut.gguf' is incomplete")
            && err.contains("143 bytes but its header promises at least 144"),
        "{err}"
    );
    assert!(sb.argvs().is_empty(), "a cut model launched the binary");
    // The same file, whole, is accepted: the refusal is about the size.
    assert_eq!(run("whole.gguf").status.code(), Some(0));
    assert_eq!(sb.argvs().len(), 2, "warmup and one run");
}

#[test]
fn an_out_of_memory_message_is_shown_as_the_cause() {
    let oom = "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 4096.00 MiB on device 0: cudaMalloc failed: out of memory";
    let sb = Sandbox::new()
        .set("STANDIN_MESSAGE", oom)
        .set("STANDIN_CRASH", "abort");
    let o = sb.run(&["--reps", "1", "--warmup", "0", "-o", "r.jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("killed by SIGABRT"), "{err}");
    assert!(
        err.contains(&format!("cause: 0.00.405.200 E {oom}")),
        "{err}"
    );
    let rec = &sb.results("r.jsonl")[0];
    assert_eq!(rec["status"], "failed");
    assert!(rec["error"].as_str().unwrap().contains("cause: "), "{rec}");
}

/// Peak resident memory of one waited-for child, in bytes: `wait4` gives the
/// child's own rusage merged with that of the children it waited for.
fn wait_with_maxrss(pid: i32, mut while_running: impl FnMut()) -> (i32, u64) {
    loop {
        let mut status = 0;
        // SAFETY: plain syscall on our own child with valid out-pointers.
        let mut ru: nix::libc::rusage = unsafe { std::mem::zeroed() };
        let got = unsafe { nix::libc::wait4(pid, &mut status, nix::libc::WNOHANG, &mut ru) };
        assert!(got >= 0, "wait4 failed");
        if got == pid {
            let code = nix::libc::WEXITSTATUS(status);
            return (code, ru.ru_maxrss as u64 * 1024);
        }
        while_running();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn vm_hwm_bytes(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// 1 GiB on stdout and 1 GiB on stderr. tokbench's memory is measured two
/// ways: its own VmHWM polled every 5 ms while it runs (tokbench alone, a
/// lower bound that may miss the last 5 ms), and `wait4`'s ru_maxrss (the
/// largest of tokbench and the stand-in it waited for: an upper bound).
#[test]
fn a_one_gib_flood_keeps_memory_bounded_and_the_timings() {
    const GIB: u64 = 1 << 30;
    const BOUND: u64 = 64 << 20;
    let sb = Sandbox::new().set("STANDIN_FLOOD", &GIB.to_string());
    let model = sb.model();
    let out = std::fs::File::create(sb.path("report.json")).unwrap();
    let err = std::fs::File::create(sb.path("stderr.txt")).unwrap();
    // Reaped by wait4 below, which `Child::wait` would not let us call.
    #[allow(clippy::zombie_processes)]
    let child = sb
        .cmd(&["run", "--bin", STANDIN, "-m", &model, "--reps", "1"])
        .args(["--warmup", "0", "--json", "-o", "r.jsonl"])
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut hwm = 0;
    let (code, maxrss) = wait_with_maxrss(pid, || {
        hwm = hwm.max(vm_hwm_bytes(pid).unwrap_or(0));
    });
    let err = std::fs::read_to_string(sb.path("stderr.txt")).unwrap();
    assert_eq!(code, 0, "{err}");
    eprintln!("1 GiB flood: tokbench VmHWM {hwm} bytes, wait4 ru_maxrss {maxrss} bytes");
    assert!(hwm > 0 && hwm < BOUND, "VmHWM {hwm}");
    assert!(maxrss < BOUND, "ru_maxrss {maxrss}");
    let rec = &sb.results("r.jsonl")[0];
    assert_eq!(rec["status"], "ok");
    assert_eq!(rec["timings"]["eval_tps"], 50.0);
    assert!(
        rec["stdout_bytes"].as_u64().unwrap() > GIB,
        "{}",
        rec["stdout_bytes"]
    );
    assert!(
        rec["stderr_bytes"].as_u64().unwrap() > GIB,
        "{}",
        rec["stderr_bytes"]
    );
    let warned = rec["warnings"].as_array().unwrap();
    assert!(
        warned
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("stderr: ")
                && w.as_str().unwrap().contains("not kept")),
        "{warned:?}"
    );
}

/// A wrapper that makes the stand-in ignore SIGTERM (an ignored signal stays
/// ignored across exec), so tokbench sits in its SIGTERM-to-SIGKILL grace.
fn term_ignoring_standin(sb: &Sandbox) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = sb.path("stubborn-llama");
    let body = format!("#!/bin/sh\ntrap '' TERM\nexec '{STANDIN}' \"$@\"\n");
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn second_ctrl_c_exits_at_once_and_left_the_child_group_running() {
    let sb = Sandbox::new()
        .set("STANDIN_FAIL_AT", "1")
        .set("STANDIN_HANG", "1");
    let _reaper = Reaper(&sb);
    let (bin, model) = (term_ignoring_standin(&sb), sb.model());
    let child = sb
        .cmd(&["run", "--bin", &bin, "-m", &model, "--reps", "3"])
        .args(["--warmup", "0", "-p", "hi", "-o", "r.jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    wait_until("run 1 started", Duration::from_secs(20), || {
        sb.argvs().len() == 2
    });
    std::thread::sleep(Duration::from_millis(200));
    kill(pid, Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    kill(pid, Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        second.elapsed() < Duration::from_millis(1000),
        "the second Ctrl-C took {:?} (the SIGKILL grace is 2 s)",
        second.elapsed()
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(sb.results("r.jsonl").len(), 1, "run 0 stays on disk");
    wait_until("no stand-in left", Duration::from_secs(1), || {
        no_standin_left(&sb)
    });
}

#[test]
fn results_file_that_cannot_be_written_is_a_clear_error() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("adir")).unwrap();
    std::fs::write(sb.path("afile"), "").unwrap();
    let cases = [
        (
            "/dev/full",
            "cannot write to results file '/dev/full': No space left on device",
            1,
        ),
        (
            "adir",
            "cannot open results file 'adir' for appending: it is a directory",
            0,
        ),
        (
            "afile/r.jsonl",
            "cannot open results file 'afile/r.jsonl' for appending: Not a directory",
            0,
        ),
    ];
    for (path, msg, launched) in cases {
        let before = sb.argvs().len();
        let o = sb.run(&["--reps", "2", "--warmup", "0", "-p", "hi", "-o", path]);
        assert_eq!(o.status.code(), Some(1), "{path}");
        assert!(stderr(&o).contains(msg), "{path}: {}", stderr(&o));
        assert!(stderr(&o).contains("-o") || stderr(&o).contains("intact"));
        // An unopenable file is found before any run; /dev/full only at the
        // first write, which stops the sequence.
        assert_eq!(sb.argvs().len() - before, launched, "{path}");
    }
    assert!(std::fs::metadata(sb.path("adir")).unwrap().is_dir());
    assert_eq!(std::fs::read(sb.path("afile")).unwrap(), b"");
}

/// The results file may grow by `room` bytes more (RLIMIT_FSIZE, which
/// binds root too; SIGXFSZ ignored so the write fails with EFBIG instead).
fn with_file_room(cmd: &mut Command, current: u64, room: u64) {
    use nix::sys::resource::{setrlimit, Resource};
    use nix::sys::signal::{signal, SigHandler};
    let limit = current + room;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            signal(Signal::SIGXFSZ, SigHandler::SigIgn).map_err(std::io::Error::from)?;
            setrlimit(Resource::RLIMIT_FSIZE, limit, limit).map_err(std::io::Error::from)
        });
    }
}

#[test]
fn disk_full_mid_line_left_a_partial_record_that_broke_the_results_file() {
    let sb = Sandbox::new().set("STANDIN_ARGV_LOG", "");
    // The history database would hit the size limit too; it has its own cases.
    let args = [
        "--reps",
        "2",
        "--warmup",
        "0",
        "-p",
        "hi",
        "-o",
        "r.jsonl",
        "--no-history",
    ];
    assert_eq!(sb.run(&args).status.code(), Some(0));
    let kept = std::fs::read(sb.path("r.jsonl")).unwrap();
    assert_eq!(lines_in(&sb.path("r.jsonl")), 2);
    let model = sb.model();
    let mut cmd = sb.cmd(&["run", "--bin", STANDIN, "-m", &model]);
    cmd.args(args);
    with_file_room(&mut cmd, kept.len() as u64, 100);
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write to results file 'r.jsonl': File too large")
            && stderr(&o).contains("the runs written before are intact"),
        "{}",
        stderr(&o)
    );
    let now = std::fs::read(sb.path("r.jsonl")).unwrap();
    assert!(
        now == kept,
        "the two earlier runs must be intact with no partial line after them; \
         {} bytes became {}, ending {:?}",
        kept.len(),
        now.len(),
        String::from_utf8_lossy(&now[now.len().saturating_sub(60)..])
    );
    // A later invocation appends cleanly after them.
    assert_eq!(sb.run(&args).status.code(), Some(0));
    assert_eq!(sb.results("r.jsonl").len(), 4);
}

#[test]
fn a_missing_sampler_tool_is_a_warning_and_the_run_goes_on() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("empty-bin")).unwrap();
    let path = sb.path("empty-bin").display().to_string();
    let sb = sb.set("PATH", &path);
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "--sampler",
        "macmon",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: macmon: not available"),
        "{}",
        stderr(&o)
    );
    let rec = &json(&o)["runs"][0];
    assert_eq!(rec["status"], "ok");
    let missing = rec["sampled"]["missing"].as_array().unwrap();
    assert!(
        missing
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("macmon: not available")),
        "{missing:?}"
    );
}

/// `sudo` that refuses with `-n` and, without it, blocks as a real one
/// waiting for a password would.
const PROMPTING_SUDO: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$SB/sudo.argv"
if [ "$1" != "-n" ]; then
  sleep 30
  exit 1
fi
echo "sudo: a password is required" >&2
exit 1
"#;

/// tokbench uses sudo only when it is not root, so as root (CI) this runs
/// copies of tokbench and the stand-in as `nobody` from a sandbox that user
/// can read.
#[test]
fn sudo_that_would_prompt_is_only_run_with_n_and_never_blocks() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let _reaper = Reaper(&sb);
    let bin = sb.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let exe = |name: &str, body: &[u8]| {
        std::fs::write(bin.join(name), body).unwrap();
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    exe("sudo", PROMPTING_SUDO.as_bytes());
    exe("powermetrics", b"#!/bin/sh\nexit 1\n");
    exe("tokbench", &std::fs::read(super::TOKBENCH).unwrap());
    exe("llama-completion", &std::fs::read(STANDIN).unwrap());
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o777)).unwrap();
    let model = sb.model();
    let mut cmd = Command::new(bin.join("tokbench"));
    cmd.args([
        "run",
        "--bin",
        bin.join("llama-completion").to_str().unwrap(),
    ])
    .args(["-m", &model, "--reps", "1", "--warmup", "0", "-p", "hi"])
    .args(["--sampler", "powermetrics", "--json"])
    .current_dir(sb.path(""))
    .envs(sb.env.iter().map(|(k, v)| (k, v)))
    .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
    .env("SB", sb.path("").display().to_string());
    if nix::unistd::geteuid().is_root() {
        cmd.uid(65534).gid(65534);
    }
    let t = Instant::now();
    let o = cmd.output().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: powermetrics: not available")
            && stderr(&o).contains("sudo: a password is required")
            && stderr(&o).contains("sudo -v"),
        "{}",
        stderr(&o)
    );
    let calls = std::fs::read_to_string(sb.path("sudo.argv")).unwrap();
    assert!(
        !calls.is_empty() && calls.lines().all(|l| l.starts_with("-n powermetrics ")),
        "{calls}"
    );
}

#[test]
fn ctrl_c_during_the_binary_probe_was_reported_as_not_a_llama_binary() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let _reaper = Reaper(&sb);
    let slow = sb.path("slow-llama");
    let body = format!("#!/bin/sh\nsleep 3\nexec '{STANDIN}' \"$@\"\n");
    std::fs::write(&slow, body).unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let model = sb.model();
    let child = sb
        .cmd(&["run", "--bin", slow.to_str().unwrap(), "-m", &model])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("interrupted before any run started") && !err.contains("does not look like"),
        "{err}"
    );
    assert!(sb.argvs().is_empty());
}

/// A "llama binary" that answers the probe like the stand-in but dies after
/// the first lines of its timing block (a crash while printing it).
fn cut_block_llama(sb: &Sandbox) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = sb.path("cut-block-llama");
    let p = "0.02.549.483 I common_perf_print:";
    let body = format!(
        "#!/bin/sh\ncase \"$*\" in *--help*|*--version*) exec '{STANDIN}' \"$@\" ;; esac\n\
         echo '{p}        load time =     410.05 ms' >&2\n\
         echo '{p} prompt eval time =      20.00 ms /    10 tokens (    2.00 ms per token,   500.00 tokens per second)' >&2\n\
         exit 1\n"
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn a_timing_block_cut_short_by_a_failure_keeps_what_was_printed() {
    let sb = Sandbox::new();
    let (bin, model) = (cut_block_llama(&sb), sb.model());
    let o = sb
        .cmd(&["run", "--bin", &bin, "-m", &model, "--reps", "1"])
        .args(["--warmup", "0", "-o", "r.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("exited with code 1"), "{err}");
    assert!(err.contains("prompt eval time =      20.00 ms"), "{err}");
    let rec = &sb.results("r.jsonl")[0];
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["timings"]["prompt_eval_tps"], 500.0, "{rec}");
    assert_eq!(rec["timings"]["load_ms"], 410.05);
    assert!(rec["timings"]["eval_tps"].is_null(), "{rec}");
}

#[test]
fn keep_logs_directory_that_cannot_be_created_is_refused_before_running() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("afile"), "x").unwrap();
    let o = sb.run(&["--reps", "1", "--keep-logs", "afile/logs", "-o", "r.jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot create --keep-logs directory 'afile/logs'"),
        "{}",
        stderr(&o)
    );
    assert!(sb.argvs().is_empty(), "a run was launched");
    assert_eq!(std::fs::read(sb.path("afile")).unwrap(), b"x");
}

#[test]
fn stdout_closed_by_its_reader_panicked_with_broken_pipe() {
    let sb = Sandbox::new();
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    drop(read_end);
    let model = sb.model();
    let o = sb
        .cmd(&["run", "--bin", STANDIN, "-m", &model, "--reps", "1"])
        .args(["--warmup", "0", "-o", "r.jsonl"])
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sb.results("r.jsonl")[0]["status"], "ok");
    // Other write errors are reported, not ignored.
    let o = sb
        .cmd(&["parse", &super::fixture("llama/2026_cli_footer.txt")])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: cannot write the report to standard output: No space left"),
        "{}",
        stderr(&o)
    );
}

/// The runs stored in the history database `db`: (id, started_at).
fn history_runs(sb: &Sandbox, db: &str) -> Vec<(Value, Value)> {
    let o = sb
        .cmd(&["history", "--db", db, "--runs", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].clone(), r["started_at"].clone()))
        .collect()
}

#[test]
fn history_database_that_cannot_be_opened_stops_before_any_run() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("adir")).unwrap();
    std::fs::write(sb.path("afile"), "x").unwrap();
    let cases = [
        (
            "adir",
            "cannot open history database 'adir': it is a directory",
        ),
        (
            "afile/h.sqlite",
            "cannot open history database 'afile/h.sqlite': cannot create 'afile'",
        ),
        ("/dev/full", "'/dev/full' is not a SQLite database"),
    ];
    for (db, msg) in cases {
        let o = sb.run(&["--reps", "1", "--db", db, "-o", "r.jsonl"]);
        assert_eq!(o.status.code(), Some(1), "{db}");
        assert!(stderr(&o).contains(msg), "{db}: {}", stderr(&o));
        assert!(sb.argvs().is_empty(), "{db}: a run was launched");
    }
    assert_eq!(std::fs::read(sb.path("afile")).unwrap(), b"x");
}

/// Room for the history's files to grow: enough to open the database (its
/// `-shm` index is 32 KiB) but not for many transactions in its `-wal`.
fn history_room(sb: &Sandbox) -> u64 {
    let len = |n: &str| std::fs::metadata(sb.path(n)).map_or(0, |m| m.len());
    len("h.sqlite-wal").max(len("h.sqlite-shm")).max(32768) + 4096
}

const SHORT_RUN: [&str; 8] = [
    "--warmup",
    "0",
    "-p",
    "hi",
    "--sampler",
    "none",
    "--db",
    "h.sqlite",
];

#[test]
fn history_database_full_mid_run_is_a_warning_and_the_runs_go_on() {
    let sb = Sandbox::new().set("STANDIN_ARGV_LOG", "");
    let first = sb.run(&[&SHORT_RUN[..], &["--reps", "1", "-o", "r.jsonl"]].concat());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let stored = history_runs(&sb, "h.sqlite");
    assert_eq!(stored.len(), 1);
    let model = sb.model();
    let mut cmd = sb.cmd(&["run", "--bin", STANDIN, "-m", &model]);
    cmd.args(SHORT_RUN).args(["--reps", "3", "-o", "r.jsonl"]);
    with_file_room(&mut cmd, 0, history_room(&sb));
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let warned = err.matches("warning: could not record a run in the history");
    assert_eq!(warned.count(), 1, "{err}");
    assert!(err.contains("the benchmark goes on"), "{err}");
    assert_eq!(
        sb.results("r.jsonl").len(),
        4,
        "every run is in the JSONL file"
    );
    // The database keeps what it held and what fit before it filled.
    let now = history_runs(&sb, "h.sqlite");
    assert!(
        now.len() < 4 && now.starts_with(&stored),
        "{stored:?} then {now:?}"
    );
}

#[test]
fn a_full_disk_at_history_open_was_called_a_damaged_database() {
    let sb = Sandbox::new();
    let first = sb.run(&[&SHORT_RUN[..], &["--reps", "1"]].concat());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let stored = history_runs(&sb, "h.sqlite");
    let before = sb.argvs().len();
    let model = sb.model();
    let mut cmd = sb.cmd(&["run", "--bin", STANDIN, "-m", &model]);
    cmd.args(SHORT_RUN).args(["--reps", "1"]);
    // Too little room even for the database's 32 KiB shared-memory index,
    // which SQLite creates again when it opens the file.
    with_file_room(&mut cmd, 0, 16384);
    std::fs::remove_file(sb.path("h.sqlite-shm")).ok();
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cannot open history database 'h.sqlite': disk I/O error"),
        "{err}"
    );
    assert!(
        !err.contains("damaged"),
        "a full disk is not a damaged file: {err}"
    );
    assert_eq!(sb.argvs().len(), before, "a run was launched");
    assert_eq!(history_runs(&sb, "h.sqlite"), stored);
}

#[test]
fn closed_stderr_or_stdout_of_compare_panicked() {
    let sb = Sandbox::new();
    let model = sb.model();
    let closed = || {
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        drop(read_end);
        Stdio::from(write_end)
    };
    // Progress lines go to a closed stderr between runs: the runs go on.
    let o = sb
        .cmd(&[
            "run", "--bin", STANDIN, "-m", &model, "--reps", "2", "-o", "r.jsonl",
        ])
        .stderr(closed())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(sb.results("r.jsonl").len(), 3);
    // The error lines of a failed run to a closed stderr: exit 1, not a panic (101).
    let o = sb
        .cmd(&[
            "run", "--bin", STANDIN, "-m", &model, "--reps", "1", "--warmup", "0",
        ])
        .env("STANDIN_NO_TIMINGS", "1")
        .stderr(closed())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    // compare's report to a closed stdout.
    let o = sb
        .cmd(&[
            "compare", "--a", STANDIN, "-m", &model, "--b-args", "-t 2", "--pairs", "1",
        ])
        .args(["-o", "c.jsonl"])
        .stdout(closed())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sb.results("c.jsonl").len(), 4);
}
