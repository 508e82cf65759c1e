//! The recommendation as ready command lines: one for llama-completion and
//! one for llama-server, whose flag spellings differ.
//!
//! A sweep through llama-bench gives its arguments in llama-bench's
//! spelling (`-nkvo 1`, `--repack 0`, `-ts 1/1`); the common-argument tools
//! spell the same settings `-nkvo`, `--no-repack`, `-ts 1,1`. llama-bench's
//! test parameters (`-p`, `-n`, `-r`, ...) have no place in either line.
//! llama-server has no prompt, file, conversation or single-turn options:
//! those are left out of its line. Every change is listed in `notes`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::vary::shell_words;

/// The tool the sweep ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Completion,
    Bench,
}

/// The cell recommended and its command lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub cell: String,
    pub why: String,
    pub completion: String,
    pub server: String,
    /// Arguments translated or left out, and why.
    pub notes: Vec<String>,
}

/// llama-bench switches given as `<0|1>` that the other tools spell as a
/// bare flag: (bench flags, the flag for 1, the flag for 0).
const BENCH_SWITCHES: [(&[&str], &str, &str); 5] = [
    (&["-nkvo", "--no-kv-offload"], "-nkvo", ""),
    (&["--no-host"], "--no-host", ""),
    (&["--repack"], "", "--no-repack"),
    (&["-nopo", "--no-op-offload"], "--no-op-offload", ""),
    (&["-mmp", "--mmap"], "", "--no-mmap"),
];

/// llama-bench options that describe its test, not the configuration
/// (with the number of values they take).
const BENCH_ONLY: [(&str, usize); 14] = [
    ("-p", 1),
    ("--n-prompt", 1),
    ("-n", 1),
    ("--n-gen", 1),
    ("-pg", 1),
    ("-d", 1),
    ("--n-depth", 1),
    ("-r", 1),
    ("--repetitions", 1),
    ("-o", 1),
    ("--output", 1),
    ("--delay", 1),
    ("--progress", 0),
    ("--no-warmup", 0),
];

/// llama-completion options llama-server does not take.
const NOT_SERVER: [(&str, usize); 14] = [
    ("-p", 1),
    ("--prompt", 1),
    ("-f", 1),
    ("--file", 1),
    ("-sys", 1),
    ("--system-prompt", 1),
    ("-cnv", 0),
    ("--conversation", 0),
    ("-no-cnv", 0),
    ("--no-conversation", 0),
    ("-st", 0),
    ("--single-turn", 0),
    ("--simple-io", 0),
    ("--display-prompt", 0),
];

/// The command lines of `args` (the cell's and the fixed ones, in the
/// swept tool's spelling). `bin` is the binary swept; the other tools are
/// taken from its directory.
pub fn command_lines(
    tool: Tool,
    bin: &Path,
    model: &Path,
    cell: &str,
    why: &str,
    args: &[String],
) -> Recommendation {
    let mut notes = Vec::new();
    let common = match tool {
        Tool::Completion => args.to_vec(),
        Tool::Bench => from_bench(args, &mut notes),
    };
    let server_args = drop_options(&common, &NOT_SERVER, "llama-server", &mut notes);
    let sibling = |name: &str| match tool {
        Tool::Completion if name == "llama-completion" => bin.display().to_string(),
        _ => bin
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(name.to_string(), |d| d.join(name).display().to_string()),
    };
    let line = |program: String, rest: &[String]| {
        let mut words = vec![program, "-m".to_string(), model.display().to_string()];
        words.extend_from_slice(rest);
        shell_words(&words)
    };
    Recommendation {
        cell: cell.to_string(),
        why: why.to_string(),
        completion: line(sibling("llama-completion"), &common),
        server: line(sibling("llama-server"), &server_args),
        notes,
    }
}

/// llama-bench's spelling to the common one.
fn from_bench(args: &[String], notes: &mut Vec<String>) -> Vec<String> {
    let rest = drop_options(
        args,
        &BENCH_ONLY,
        "the recommendation (llama-bench test parameters)",
        notes,
    );
    let mut out = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let (flag, value) = (rest[i].as_str(), rest.get(i + 1).map(String::as_str));
        if let (Some((_, on, off)), Some(v)) = (switch(flag), value) {
            let word = if v == "0" { off } else { on };
            if !word.is_empty() {
                out.push(word.to_string());
            }
            notes.push(format!(
                "llama-bench '{flag} {v}' is '{word}' in the other tools"
            ));
            i += 2;
            continue;
        }
        match (flag, value) {
            ("-ts" | "--tensor-split" | "-dev" | "--device", Some(v)) if v.contains('/') => {
                out.extend([flag.to_string(), v.replace('/', ",")]);
                i += 2;
            }
            _ => {
                out.push(rest[i].clone());
                i += 1;
            }
        }
    }
    out
}

fn switch(flag: &str) -> Option<&'static (&'static [&'static str], &'static str, &'static str)> {
    BENCH_SWITCHES
        .iter()
        .find(|(names, _, _)| names.contains(&flag))
}

/// `args` without the options in `table` (and their values).
fn drop_options(
    args: &[String],
    table: &[(&str, usize)],
    from: &str,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some((_, n)) = table.iter().find(|(f, _)| *f == args[i]) {
            let end = (i + 1 + n).min(args.len());
            notes.push(format!(
                "'{}' left out of {from}",
                shell_words(&args[i..end])
            ));
            i = end;
        } else {
            out.push(args[i].clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        shlex::split(s).unwrap()
    }

    #[test]
    fn completion_and_server_lines() {
        let r = command_lines(
            Tool::Completion,
            Path::new("/opt/llama/bin/llama-completion"),
            Path::new("/m/gemma 3.gguf"),
            "-t 2 -fa on",
            "the best",
            &words("-t 2 -fa on -ngl 99 -no-cnv -p hello"),
        );
        assert_eq!(
            r.completion,
            "/opt/llama/bin/llama-completion -m '/m/gemma 3.gguf' -t 2 -fa on -ngl 99 -no-cnv -p hello"
        );
        assert_eq!(
            r.server,
            "/opt/llama/bin/llama-server -m '/m/gemma 3.gguf' -t 2 -fa on -ngl 99"
        );
        assert_eq!(
            r.notes,
            [
                "'-no-cnv' left out of llama-server",
                "'-p hello' left out of llama-server"
            ]
        );
    }

    #[test]
    fn llama_bench_spellings_become_the_common_ones() {
        let r = command_lines(
            Tool::Bench,
            Path::new("bin/llama-bench"),
            Path::new("m.gguf"),
            "-fa on -nkvo 1",
            "the best",
            &words("-fa on -nkvo 1 --repack 0 -mmp 1 -ts 3/1 -n 128 -p 512 -r 1 -ub 512"),
        );
        assert_eq!(
            r.completion,
            "bin/llama-completion -m m.gguf -fa on -nkvo --no-repack -ts 3,1 -ub 512"
        );
        assert_eq!(
            r.server,
            "bin/llama-server -m m.gguf -fa on -nkvo --no-repack -ts 3,1 -ub 512"
        );
        assert!(r
            .notes
            .contains(&"llama-bench '--repack 0' is '--no-repack' in the other tools".to_string()));
        assert!(r.notes.contains(
            &"'-n 128' left out of the recommendation (llama-bench test parameters)".to_string()
        ));
    }

    #[test]
    fn a_bare_binary_name_gives_bare_sibling_names() {
        let r = command_lines(
            Tool::Bench,
            Path::new("llama-bench"),
            Path::new("m.gguf"),
            "-t 4",
            "the best",
            &words("-t 4"),
        );
        assert_eq!(r.completion, "llama-completion -m m.gguf -t 4");
        assert_eq!(r.server, "llama-server -m m.gguf -t 4");
        assert!(r.notes.is_empty());
    }
}
