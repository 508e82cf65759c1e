//! `tokbench plot` and `tokbench report` end to end, on results files the
//! stand-in llama binary makes: a drifting comparison, a run sampled by the
//! stand-in `nvidia-smi`, and runs of three "builds" (`--standin-scale`).

use std::process::Output;

use super::{stderr, Sandbox, STANDIN};

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
}

fn read(sb: &Sandbox, name: &str) -> String {
    std::fs::read_to_string(sb.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn count(svg: &str, tag: &str, needle: &str) -> usize {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .filter(|e| e.split('>').next().is_some_and(|e| e.contains(needle)))
        .count()
}

/// A 10-pair comparison whose rates fall 0.5% per run; B is 3% slower.
fn drifting_compare(sb: &Sandbox) {
    let model = sb.model();
    let o = sb
        .cmd(&[
            "compare",
            "--a",
            STANDIN,
            "-m",
            &model,
            "--b-args",
            "--standin-scale 0.97",
            "-n",
            "8",
            "--pairs",
            "10",
            "--sampler",
            "none",
            "-o",
            "cmp.jsonl",
        ])
        .output()
        .unwrap();
    ok(&o);
}

fn drifting() -> Sandbox {
    Sandbox::new()
        .set("STANDIN_NOISE", "0.002")
        .set("STANDIN_DRIFT", "-0.005")
}

#[test]
fn sequence_plot_draws_every_run_of_both_sides() {
    let sb = drifting();
    drifting_compare(&sb);
    ok(&sb
        .cmd(&["plot", "sequence", "cmp.jsonl", "-o", "seq.svg"])
        .output()
        .unwrap());
    let svg = read(&sb, "seq.svg");
    assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
    // 10 counted runs per side plus the legend marker; 1 warmup per side
    // plus the legend's ring.
    assert_eq!(count(&svg, "circle", "fill=\"#1F77B4\""), 11);
    assert_eq!(count(&svg, "polygon", "fill=\"#FF7F0E\""), 11);
    assert_eq!(count(&svg, "circle", "fill=\"none\""), 2 + 1);
    assert!(svg.contains("eval_tps (t/s)"));
    // The stated change is the ratio of the two medians drawn: B is 3% slower.
    let change: f64 = svg
        .split("median B / median A: ")
        .nth(1)
        .and_then(|t| t.split(" %").next())
        .and_then(|t| t.trim().parse().ok())
        .expect("the change of the medians is stated");
    assert!((-4.0..-2.0).contains(&change), "{change}");
}

/// `-o seq.png` wrote SVG into a .png file; now the extension picks the format.
#[test]
fn plot_format_follows_the_output_extension() {
    let sb = drifting();
    drifting_compare(&sb);
    ok(&sb
        .cmd(&["plot", "sequence", "cmp.jsonl", "-o", "seq.png"])
        .output()
        .unwrap());
    let png = std::fs::read(sb.path("seq.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    assert_eq!((be(16), be(20)), (1800, 960), "900x480 at 2x");
    let o = sb
        .cmd(&["plot", "sequence", "cmp.jsonl", "-o", "seq.jpg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "error: cannot tell the image format of 'seq.jpg': name the output file '.png' or '.svg'"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!sb.path("seq.jpg").exists());
}

#[test]
fn html_report_of_a_comparison_is_self_contained() {
    let sb = drifting();
    drifting_compare(&sb);
    ok(&sb
        .cmd(&["report", "cmp.jsonl", "-o", "report.html"])
        .output()
        .unwrap());
    let html = read(&sb, "report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(
        html.contains("<th>metric</th><th>unit</th><th>A median</th>"),
        "{html}"
    );
    assert!(
        html.contains("verdict: B is slower than A in eval_tps"),
        "{html}"
    );
    assert!(html.contains("drift in eval_tps"), "{html}");
    assert!(html.contains("<h2>Machine</h2>"));
    assert_eq!(html.matches("<svg ").count(), 1, "the sequence plot");
    for external in ["src=", "href=", "<script", "<link", "url("] {
        assert!(!html.contains(external), "{external} in the page");
    }
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("</table>").count()
    );
}

#[test]
fn markdown_report_names_its_plots_and_links_no_file_it_cannot_show() {
    let sb = drifting();
    drifting_compare(&sb);
    let o = sb
        .cmd(&[
            "report",
            "cmp.jsonl",
            "-o",
            "out.md",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    ok(&o);
    let md = read(&sb, "out.md");
    assert!(md.contains("| metric | unit | A median |"), "{md}");
    assert!(!md.contains(".svg"), "{md}");
    assert!(md.contains("> note: plots (sequence"), "{md}");
    assert!(md.contains("tokbench report --format html"), "{md}");
    assert!(!sb.path("out-sequence.svg").exists());
}

fn sampled_run(sb: &Sandbox) {
    let o = sb.run(&[
        "--reps",
        "2",
        "--warmup",
        "1",
        "-n",
        "8",
        "--sampler",
        "nvidia-smi",
        "-o",
        "tl.jsonl",
    ]);
    ok(&o);
}

#[test]
fn timeline_plot_of_a_sampled_run() {
    let sb = crate::samplers::sandbox(&["nvidia-smi"]).set("STANDIN_SLEEP_MS", "600");
    sampled_run(&sb);
    ok(&sb
        .cmd(&["plot", "timeline", "tl.jsonl", "-o", "tl.svg"])
        .output()
        .unwrap());
    let svg = read(&sb, "tl.svg");
    for label in [
        "run seq 1 ",
        "busy (%)",
        "power (W)",
        "memory (GiB)",
        "GPU busy %",
        "generation",
    ] {
        assert!(svg.contains(label), "{label} missing");
    }
    // The stand-in's 95% busy and 310 W each as one line (+ legend swatch);
    // its 1 GiB of device memory wide and pale, under a process's line.
    assert_eq!(
        count(&svg, "polyline", "stroke=\"#1F77B4\" stroke-width=\"2\""),
        4
    );
    assert_eq!(
        count(&svg, "polyline", "stroke=\"#1F77B4\" stroke-width=\"7\""),
        2
    );
    // --seq picks the warmup; an unknown seq is a usage error.
    ok(&sb
        .cmd(&["plot", "timeline", "tl.jsonl", "--seq", "0", "-o", "w.svg"])
        .output()
        .unwrap());
    assert!(read(&sb, "w.svg").contains("run seq 0 "));
    let o = sb
        .cmd(&["plot", "timeline", "tl.jsonl", "--seq", "9", "-o", "x.svg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no run has seq '9'"), "{}", stderr(&o));
}

#[test]
fn timeline_without_a_sampler_says_what_to_do() {
    let sb = Sandbox::new();
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-n",
        "8",
        "--sampler",
        "none",
        "-o",
        "r.jsonl",
    ]);
    ok(&o);
    let o = sb
        .cmd(&["plot", "timeline", "r.jsonl", "-o", "t.svg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("run with --sampler"), "{}", stderr(&o));
    assert!(!sb.path("t.svg").exists());
}

#[test]
fn builds_plot_and_runs_report_group_files_by_label() {
    let sb = Sandbox::new().set("STANDIN_NOISE", "0.01");
    let files = ["b1.jsonl", "b2.jsonl", "b3.jsonl"];
    for (i, (file, scale)) in files.iter().zip(["1.0", "1.05", "0.95"]).enumerate() {
        let label = format!("build-{}", i + 1);
        let o = sb.run(&[
            "--reps",
            "3",
            "-n",
            "8",
            "--sampler",
            "none",
            "--label",
            &label,
            "-o",
            file,
            "--",
            "--standin-scale",
            scale,
        ]);
        ok(&o);
    }
    let mut args = vec!["plot", "builds"];
    args.extend(files);
    args.extend(["-o", "builds.svg"]);
    ok(&sb.cmd(&args).output().unwrap());
    let svg = read(&sb, "builds.svg");
    let at = |l: &str| {
        svg.find(&format!("\n{l}\n"))
            .unwrap_or_else(|| panic!("{l}"))
    };
    assert!(at("build-1") < at("build-2") && at("build-2") < at("build-3"));
    assert_eq!(
        count(&svg, "circle", "fill=\"#1F77B4\""),
        3 + 1,
        "one median each, and the legend's"
    );
    assert_eq!(
        count(&svg, "circle", "fill=\"#969696\""),
        9 + 1,
        "every counted run, and the legend's"
    );

    // The same plot from the history database the runs were recorded in.
    ok(&sb
        .cmd(&["plot", "builds", "--from-history", "-o", "hist.svg"])
        .output()
        .unwrap());
    let hist = read(&sb, "hist.svg");
    let at_h = |l: &str| {
        hist.find(&format!("\n{l}\n"))
            .unwrap_or_else(|| panic!("{l}"))
    };
    assert!(at_h("build-1") < at_h("build-2") && at_h("build-2") < at_h("build-3"));
    assert_eq!(count(&hist, "circle", "fill=\"#1F77B4\""), 3 + 1);
    assert_eq!(
        count(&hist, "circle", "fill=\"#969696\""),
        9 + 1,
        "counted runs only, and the legend's"
    );

    let mut args = vec!["report"];
    args.extend(files);
    args.extend(["-o", "runs.html"]);
    ok(&sb.cmd(&args).output().unwrap());
    let html = read(&sb, "runs.html");
    assert_eq!(html.matches("<h2>Runs: build-").count(), 3);
    assert!(html.contains("<th>95% CI of mean</th>"), "{html}");
    // A sequence per file and the builds plot.
    assert_eq!(html.matches("<svg ").count(), 4);
    assert!(html.contains("across builds"));
}
