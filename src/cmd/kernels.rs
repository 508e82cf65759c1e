//! `tokbench kernels FILE [FILE_B]`: the kernel summary of a saved profiler
//! export (nsys, ncu, xctrace), or the per-kernel diff of two; the same
//! rendering prints what `--profile` recorded (`crate::cmd::profile`).

use anyhow::{Context, Result};

use super::print_out;
use crate::cli::KernelsArgs;
use crate::exit::Outcome;
use crate::profile::{diff, parse_any, KernelSummary};

fn ms(ns: f64) -> String {
    format!("{:.3} ms", ns / 1e6)
}

fn load(path: &std::path::Path) -> Result<KernelSummary> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    Ok(parse_any(&path.display().to_string(), &text)?)
}

fn short(name: &str) -> String {
    let n: String = name.chars().take(70).collect();
    if n.len() < name.len() {
        n + "..."
    } else {
        n
    }
}

/// The top kernels of one summary.
pub fn render_summary(s: &KernelSummary, top: usize) -> String {
    let mut out = format!(
        "{}: {} kernel(s), {} of kernel time",
        s.tool,
        s.kernels.len(),
        ms(s.kernel_time_ns)
    );
    if let Some(b) = s.gpu_busy_ns {
        out.push_str(&format!(", GPU busy {} (union of intervals)", ms(b)));
    }
    out.push('\n');
    out.push_str("  share  launches      total       mean  op              name\n");
    for k in s.kernels.iter().take(top) {
        out.push_str(&format!(
            "{:6.1}% {:9} {:>10} {:>10}  {:<15} {}\n",
            k.share_pct,
            k.launches,
            ms(k.total_ns),
            ms(k.mean_ns),
            k.op.as_deref().unwrap_or("?"),
            short(&k.name)
        ));
    }
    for n in &s.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

pub fn run(args: &KernelsArgs) -> Result<Outcome> {
    let a = load(&args.a)?;
    let Some(b_path) = &args.b else {
        let text = if args.json {
            serde_json::to_string_pretty(&a)? + "\n"
        } else {
            render_summary(&a, args.top)
        };
        print_out(&text)?;
        return Ok(Outcome::Ok);
    };
    let b = load(b_path)?;
    if args.json {
        let d = diff(&a, &b);
        print_out(
            &(serde_json::to_string_pretty(&serde_json::json!({"a": a, "b": b, "diff": d}))?
                + "\n"),
        )?;
        return Ok(Outcome::Ok);
    }
    print_out(&render_diff(&a, &b, args.top))?;
    Ok(Outcome::Ok)
}

/// Both summaries, then the per-kernel diff (one profiled run per side).
pub fn render_diff(a: &KernelSummary, b: &KernelSummary, top: usize) -> String {
    let d = diff(a, b);
    let mut out = format!("A {}B {}", render_summary(a, top), render_summary(b, top));
    out.push_str("\nper kernel, one profiled run per side (no interval):\n      A total     B total   change  op              name\n");
    for k in d.iter().take(top) {
        let t = |v: Option<f64>| v.map_or("-".to_string(), ms);
        let c = k
            .change_pct
            .map_or("only one side".to_string(), |c| format!("{c:+.1}%"));
        out.push_str(&format!(
            "{:>12} {:>11} {:>8}  {:<15} {}\n",
            t(k.a_total_ns),
            t(k.b_total_ns),
            c,
            k.op.as_deref().unwrap_or("?"),
            short(&k.name)
        ));
    }
    out
}
