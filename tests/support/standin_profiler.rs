//! A stand-in for NVIDIA's `ncu` and `nsys` and Apple's `xctrace`, used only
//! by tokbench's tests (no Nsight Systems is installed on the H200 machine
//! and no Mac is available). Linked under the tool's name into a directory
//! on PATH, it reads the options the real tool takes, runs the profiled
//! command (its stdout and exit status pass through), and then writes the
//! export the real tool would write, replayed from `fixtures/profile/`:
//!
//! * `ncu --csv --print-units base --metrics M --launch-count N --log-file F CMD...`:
//!   a real ncu recording from the H200 into F (as `--log-file` does).
//! * `nsys profile --cuda-graph-trace=node --force-overwrite true -o BASE CMD...`:
//!   BASE.nsys-rep; `nsys stats --report cuda_gpu_kern_sum --format csv REP`:
//!   the documented CSV (with nsys' preamble) on stdout.
//! * `xctrace record --template T --no-prompt --output X.trace --launch -- CMD...`:
//!   X.trace; `xctrace export --input X.trace --toc` / `--xpath XP`: the
//!   table of contents / the `metal-gpu-intervals` table on stdout.
//!
//! `STANDIN_PROFILER_REFUSE=1` answers as ncu does without permission to
//! the GPU counters (exit 1, nothing written). An option the real tool does
//! not take is an error, so a wrong argv fails the test.

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/profile");
const XPATH: &str = "/trace-toc/run[@number=\"1\"]/data/table[@schema=\"metal-gpu-intervals\"]";

fn fail(tool: &str, why: &str) -> ! {
    eprintln!("{tool} (stand-in): {why}");
    exit(1)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name))
        .unwrap_or_else(|e| fail("stand-in", &format!("{name}: {e}")))
}

/// Splits `--opt value` pairs (the `takes_value` ones) and bare flags from
/// the command that follows them; returns (options, command).
fn split<'a>(
    tool: &str,
    args: &'a [String],
    with_value: &[&str],
    bare: &[&str],
) -> (Vec<(&'a str, &'a str)>, &'a [String]) {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            return (opts, &args[i + 1..]);
        }
        if !a.starts_with('-') {
            return (opts, &args[i..]);
        }
        if bare.contains(&a) {
            opts.push((a, ""));
            i += 1;
        } else if with_value.contains(&a) {
            let v = args
                .get(i + 1)
                .map_or_else(|| fail(tool, &format!("{a} needs a value")), String::as_str);
            opts.push((a, v));
            i += 2;
        } else {
            fail(tool, &format!("unknown option '{a}'"));
        }
    }
    (opts, &[])
}

fn opt<'a>(opts: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    opts.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

/// Runs the profiled command; its exit status is the tool's.
fn launch(tool: &str, cmd: &[String]) -> i32 {
    let Some((bin, rest)) = cmd.split_first() else {
        fail(tool, "no command to profile");
    };
    let status = Command::new(bin)
        .args(rest)
        .status()
        .unwrap_or_else(|e| fail(tool, &format!("cannot launch '{bin}': {e}")));
    status.code().unwrap_or(1)
}

fn ncu(args: &[String]) -> i32 {
    if std::env::var_os("STANDIN_PROFILER_REFUSE").is_some() {
        println!("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters on the target device 0.");
        return 1;
    }
    let values = ["--print-units", "--metrics", "--launch-count", "--log-file"];
    let (opts, cmd) = split("ncu", args, &values, &["--csv"]);
    let Some(log) = opt(&opts, "--log-file") else {
        fail("ncu", "no --log-file");
    };
    let code = launch("ncu", cmd);
    std::fs::write(log, fixture("ncu_h200_completion_session4.csv"))
        .unwrap_or_else(|e| fail("ncu", &format!("{log}: {e}")));
    code
}

fn nsys(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("profile") => {
            let values = ["--force-overwrite", "-o"];
            let (opts, cmd) = split("nsys", &args[1..], &values, &["--cuda-graph-trace=node"]);
            let base = opt(&opts, "-o").unwrap_or("report1");
            let code = launch("nsys", cmd);
            std::fs::write(format!("{base}.nsys-rep"), "stand-in nsys report\n")
                .unwrap_or_else(|e| fail("nsys", &e.to_string()));
            code
        }
        Some("stats") => {
            let (opts, rest) = split("nsys", &args[1..], &["--report", "--format"], &[]);
            if opt(&opts, "--report") != Some("cuda_gpu_kern_sum")
                || opt(&opts, "--format") != Some("csv")
            {
                fail(
                    "nsys",
                    "stats: this stand-in answers --report cuda_gpu_kern_sum --format csv only",
                );
            }
            let Some(rep) = rest.first().filter(|r| Path::new(r).is_file()) else {
                fail("nsys", "stats: no such report file");
            };
            print!(
                "{}",
                fixture("nsys_cuda_gpu_kern_sum.csv")
                    .replace("report1", rep.trim_end_matches(".nsys-rep"))
            );
            0
        }
        _ => fail("nsys", "usage: nsys profile|stats ..."),
    }
}

fn xctrace(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("record") => {
            let values = ["--template", "--output"];
            let (opts, cmd) = split("xctrace", &args[1..], &values, &["--no-prompt", "--launch"]);
            if opt(&opts, "--template") != Some("Metal System Trace") {
                fail(
                    "xctrace",
                    "record: --template 'Metal System Trace' expected",
                );
            }
            let out = PathBuf::from(opt(&opts, "--output").unwrap_or("Launch.trace"));
            let code = launch("xctrace", cmd);
            std::fs::create_dir_all(&out).unwrap_or_else(|e| fail("xctrace", &e.to_string()));
            code
        }
        Some("export") => {
            let (opts, _) = split("xctrace", &args[1..], &["--input", "--xpath"], &["--toc"]);
            if !opt(&opts, "--input").is_some_and(|p| Path::new(p).is_dir()) {
                fail("xctrace", "export: --input is not a trace");
            }
            if opt(&opts, "--toc").is_some() {
                println!("<?xml version=\"1.0\"?>\n<trace-toc><run number=\"1\"><data><table schema=\"metal-gpu-intervals\"/></data></run></trace-toc>");
            } else if opt(&opts, "--xpath") == Some(XPATH) {
                print!("{}", fixture("xctrace_metal_gpu_intervals.xml"));
            } else {
                fail(
                    "xctrace",
                    "export: --toc or the metal-gpu-intervals --xpath expected",
                );
            }
            0
        }
        _ => fail("xctrace", "usage: xctrace record|export ..."),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = Path::new(&args[0])
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let code = match name.as_str() {
        "ncu" => ncu(&args[1..]),
        "nsys" => nsys(&args[1..]),
        "xctrace" => xctrace(&args[1..]),
        other => fail(other, "link this stand-in as ncu, nsys or xctrace"),
    };
    exit(code)
}
