//! What a run was, in words a reader checks at a glance: the model by name,
//! size and architecture, the GPU by name, and, between two sets of runs,
//! exactly what differs (arguments, binary, build, model, GPU). The
//! comparison header and the check of stored inputs both read it here.

use crate::model::{ModelInfo, RunRecord};

/// `rand-1b-q4_k_m.gguf (911 MiB, llama 'random-llama')`.
pub fn model_line(m: &ModelInfo) -> String {
    if m.path.is_empty() {
        return "unknown".to_string();
    }
    let file = std::path::Path::new(&m.path)
        .file_name()
        .map_or(m.path.clone(), |f| f.to_string_lossy().into_owned());
    let mut parts = vec![super::human::bytes(m.size_bytes)];
    if let Some(g) = &m.gguf {
        match (&g.architecture, &g.name) {
            (Some(a), Some(n)) => parts.push(format!("{a} '{n}'")),
            (Some(a), None) => parts.push(a.clone()),
            (None, Some(n)) => parts.push(format!("'{n}'")),
            (None, None) => {}
        }
    }
    format!("{file} ({})", parts.join(", "))
}

/// The GPU a run used, as its samplers or llama-bench named it.
pub fn gpu_name(r: &RunRecord) -> Option<String> {
    r.timeline
        .iter()
        .find_map(|s| s.gpu_name.clone())
        .or_else(|| {
            let s = r.sampled.as_ref()?;
            Some(s.peak_bandwidth.as_ref()?.device.clone())
        })
        .or_else(|| {
            r.bench.iter().find_map(|t| {
                let g = t.extra.get("gpu_info")?.as_str()?;
                (!g.is_empty()).then(|| g.to_string())
            })
        })
}

/// A run's arguments in groups: an option with the values that follow it
/// (`-n 512`, `-fa on`), or a lone word. The binary (argv[0]) is left out.
pub fn arg_groups(argv: &[String]) -> Vec<String> {
    let is_flag = |s: &str| s.starts_with('-') && s.parse::<f64>().is_err() && s.len() > 1;
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for a in argv.iter().skip(1) {
        match groups.last_mut() {
            Some(g) if !is_flag(a) && is_flag(g[0]) && g.len() == 1 => g.push(a),
            _ => groups.push(vec![a]),
        }
    }
    groups.into_iter().map(|g| shorten(&g.join(" "))).collect()
}

/// A long argument (a prompt) cut to a readable length.
fn shorten(s: &str) -> String {
    let flat = s.replace('\n', " ");
    if flat.chars().count() <= 48 {
        return flat;
    }
    let head: String = flat.chars().take(40).collect();
    format!("{head}... ({} chars)", flat.chars().count())
}

/// The argument groups of `a` not in `b`, and of `b` not in `a`.
pub fn args_diff(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let (ga, gb) = (arg_groups(a), arg_groups(b));
    let only = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|g| !y.contains(g))
            .cloned()
            .collect::<Vec<_>>()
    };
    (only(&ga, &gb), only(&gb, &ga))
}

/// One thing that differs between two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub what: &'static str,
    pub a: String,
    pub b: String,
}

impl Difference {
    pub fn text(&self) -> String {
        format!("{}: A {} / B {}", self.what, self.a, self.b)
    }
}

fn or_none(v: Vec<String>) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join("; ")
    }
}

/// Everything that differs between a run of A and a run of B.
pub fn differences(a: &RunRecord, b: &RunRecord) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |what, x: String, y: String| {
        if x != y {
            out.push(Difference { what, a: x, b: y });
        }
    };
    let (only_a, only_b) = args_diff(&a.argv, &b.argv);
    if !only_a.is_empty() || !only_b.is_empty() {
        push("arguments", or_none(only_a), or_none(only_b));
    }
    let sha = |r: &RunRecord| r.binary.sha256.clone();
    if sha(a) != sha(b) || a.binary.path != b.binary.path {
        push("binary", a.binary.path.clone(), b.binary.path.clone());
    }
    push(
        "build",
        super::build_line(&a.build),
        super::build_line(&b.build),
    );
    push("model", model_line(&a.model), model_line(&b.model));
    let gpu = |r: &RunRecord| gpu_name(r).unwrap_or_else(|| "none seen".to_string());
    push("GPU", gpu(a), gpu(b));
    out
}

/// The differences that make two sets of runs measure different things:
/// the model, or the arguments when the binary or build differs too (two
/// things changed at once); `-n`, `-p`, `-f` always (what is generated).
pub fn incompatible(diffs: &[Difference]) -> Vec<Difference> {
    let builds_differ = diffs
        .iter()
        .any(|d| d.what == "binary" || d.what == "build");
    let workload = |d: &Difference| {
        let words = |s: &str| s.split_whitespace().next().map(str::to_string);
        let flags = ["-n", "-p", "-f", "--n-predict", "--prompt", "--file"];
        d.a.split("; ")
            .chain(d.b.split("; "))
            .filter_map(words)
            .any(|w| flags.contains(&w.as_str()))
    };
    diffs
        .iter()
        .filter(|d| match d.what {
            "model" => true,
            "arguments" => builds_differ || workload(d),
            _ => false,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn args_are_grouped_by_option() {
        let g = arg_groups(&argv("bin -m m.gguf -n 512 -fa on --ignore-eos -t -1"));
        assert_eq!(
            g,
            ["-m m.gguf", "-n 512", "-fa on", "--ignore-eos", "-t -1"]
        );
    }

    #[test]
    fn the_fa_comparison_shows_its_argument() {
        let (a, b) = args_diff(
            &argv("bin -m m -n 512 -fa off"),
            &argv("bin -m m -n 512 -fa on"),
        );
        assert_eq!(a, ["-fa off"]);
        assert_eq!(b, ["-fa on"]);
    }

    #[test]
    fn a_long_prompt_is_shortened() {
        let long = vec![
            "bin".to_string(),
            "-p".into(),
            "word ".repeat(40).trim_end().into(),
        ];
        let g = arg_groups(&long);
        assert!(g[0].starts_with("-p word word"));
        assert!(g[0].ends_with("(202 chars)"), "{}", g[0]);
    }

    #[test]
    fn a_different_generation_length_is_incompatible() {
        let d = vec![Difference {
            what: "arguments",
            a: "-n 512".into(),
            b: "-n 1024".into(),
        }];
        assert_eq!(incompatible(&d).len(), 1);
        let fa = vec![Difference {
            what: "arguments",
            a: "-fa off".into(),
            b: "-fa on".into(),
        }];
        assert!(incompatible(&fa).is_empty());
    }
}
