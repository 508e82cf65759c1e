//! llama.cpp flags typed before `--` (issue 14, item 7). People used to
//! `./main -m model.gguf -p "..." -n 128 -ngl 99 -fa` type those flags where
//! tokbench reads its own options, and clap then reads `-fa` as `-f a` (a
//! prompt file named `a`) or `-ngl 99` as `-n gl`. Before clap sees the
//! command line of a command that passes arguments to llama.cpp (`run`,
//! `compare`, `sweep`), this rewrites it:
//!
//! * tokbench's own options win: `-m`, `-p`, `-f`, `-n`, `-o`, `--seed`, ...
//!   keep their meaning (they take the same values as llama.cpp's);
//! * the common tuning flags `-ngl`, `-fa`, `-t`, `-c`, `-b`, `-ub`, `-ctk`,
//!   `-ctv` (and their long names) move, with their value, to just after
//!   `--`, as if typed there (a note says so);
//! * `--metal` becomes `--gpu metal`;
//! * any other flag of llama.cpp's (the pinned `--help` lists them) is a
//!   usage error that says to put it after `--`.
//!
//! Everything after `--` is left alone.

use std::ffi::OsString;
use std::sync::OnceLock;

use clap::{CommandFactory, Parser};

use crate::cli::Cli;

/// The flags moved after `--` (by their short names; their long names follow).
const PASSED: [&str; 8] = ["-ngl", "-fa", "-t", "-c", "-b", "-ub", "-ctk", "-ctv"];

/// The values `-fa` takes; without one it is the bare switch of older builds.
const FA_VALUES: [&str; 7] = ["on", "off", "auto", "0", "1", "true", "false"];

/// Names of each flag llama.cpp's help lists, one group per line
/// (`["-ngl", "--gpu-layers", "--n-gpu-layers"]`).
fn llama_flags() -> &'static [Vec<String>] {
    static FLAGS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        let helps = [
            include_str!("../../fixtures/help/llama-completion.txt"),
            include_str!("../../fixtures/help/llama-bench.txt"),
            include_str!("../../fixtures/help/llama-cli.txt"),
        ];
        helps.iter().flat_map(|h| flag_groups(h)).collect()
    })
}

/// The flag names at the start of each line of a llama.cpp `--help`.
pub fn flag_groups(help: &str) -> Vec<Vec<String>> {
    help.lines()
        .filter(|l| !l.trim_start().starts_with("---"))
        .filter_map(|l| {
            let names: Vec<String> = l
                .split_whitespace()
                .map_while(|w| {
                    let w = w.trim_end_matches(',');
                    let letter = w
                        .trim_start_matches('-')
                        .starts_with(|c: char| c.is_ascii_alphabetic());
                    (w.starts_with('-') && letter).then(|| w.to_string())
                })
                .collect();
            (!names.is_empty()).then_some(names)
        })
        .collect()
}

/// What a token before `--` is.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// tokbench's own option; `true` when its value is the next token.
    Ours(bool),
    /// A flag moved after `--` (named by its short name).
    Passed(&'static str),
    /// Another llama.cpp flag.
    Llama,
    /// Not a flag either knows (clap judges it).
    Other,
}

/// tokbench's options of one command: (name as typed, takes a value).
fn our_options(cmd: &clap::Command, sub: &clap::Command) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for a in cmd.get_arguments().chain(sub.get_arguments()) {
        let takes = a.get_action().takes_values();
        if let Some(s) = a.get_short() {
            out.push((format!("-{s}"), takes));
        }
        for l in a
            .get_long()
            .into_iter()
            .chain(a.get_all_aliases().into_iter().flatten())
        {
            out.push((format!("--{l}"), takes));
        }
    }
    out.push(("-h".into(), false));
    out.push(("--help".into(), false));
    out
}

fn classify(token: &str, ours: &[(String, bool)]) -> Token {
    let name = token.split_once('=').map_or(token, |(n, _)| n);
    if let Some((_, takes)) = ours.iter().find(|(o, _)| o == name) {
        return Token::Ours(*takes && !token.contains('='));
    }
    // `-fVALUE`: one of our short options with its value attached, unless
    // the whole token is a llama.cpp flag (`-fa` is never `-f a`).
    let group = llama_flags().iter().find(|g| g.iter().any(|n| n == name));
    if let Some(g) = group {
        return match PASSED.iter().find(|p| g.iter().any(|n| n == *p)) {
            Some(p) => Token::Passed(p),
            None => Token::Llama,
        };
    }
    let attached = token.len() > 2 && !token.starts_with("--");
    match ours
        .iter()
        .find(|(o, _)| attached && token.starts_with(o.as_str()))
    {
        Some(_) => Token::Ours(false),
        None => Token::Other,
    }
}

/// Whether `next` is the value of the passed flag `flag`.
fn is_value(flag: &str, next: Option<&String>) -> bool {
    let Some(v) = next else { return false };
    if flag == "-fa" {
        return v.split(',').all(|x| FA_VALUES.contains(&x));
    }
    v != "--" && (!v.starts_with('-') || v.parse::<f64>().is_ok())
}

/// The rewritten arguments, and one note per flag moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    pub args: Vec<String>,
    pub notes: Vec<String>,
}

/// Rewrites the tokens of the command `sub` (those after its name, up to
/// `--`); `cmd` is the whole CLI (for the global options).
pub fn rewrite(
    cmd: &clap::Command,
    sub: &clap::Command,
    tokens: &[String],
) -> Result<Rewritten, String> {
    let ours = our_options(cmd, sub);
    let end = tokens
        .iter()
        .position(|t| t == "--")
        .unwrap_or(tokens.len());
    let (mut kept, mut moved, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < end {
        let t = &tokens[i];
        let next = tokens[..end].get(i + 1);
        match classify(t, &ours) {
            Token::Ours(with_value) => {
                kept.push(t.clone());
                if with_value {
                    kept.extend(next.cloned());
                    i += 1;
                }
            }
            _ if t == "--metal" => {
                kept.extend(["--gpu".to_string(), "metal".to_string()]);
                notes.push("'--metal' read as '--gpu metal'".to_string());
            }
            Token::Passed(flag) => {
                moved.push(t.clone());
                if !t.contains('=') && is_value(flag, next) {
                    moved.extend(next.cloned());
                    i += 1;
                } else if !t.contains('=') && flag != "-fa" {
                    return Err(format!(
                        "'{t}' is a llama.cpp flag that needs a value (e.g. '{t} 8'): give it one, after '--'"
                    ));
                }
            }
            Token::Llama => {
                return Err(format!(
                    "'{t}' is a llama.cpp flag, not a tokbench option: put it after '--' \
                     (e.g. 'tokbench {} ... -- {t} ...')",
                    sub.get_name()
                ))
            }
            Token::Other => kept.push(t.clone()),
        }
        i += 1;
    }
    Ok(assemble(kept, moved, &tokens[end..], notes))
}

/// `kept -- moved after`, where `after` is `--` and what followed it (or
/// nothing); no `--` is added when nothing moved and there was none.
fn assemble(
    kept: Vec<String>,
    moved: Vec<String>,
    after: &[String],
    mut notes: Vec<String>,
) -> Rewritten {
    let mut args = kept;
    if !moved.is_empty() {
        notes.push(format!(
            "passing '{}' to llama.cpp, as if after '--'",
            moved.join(" ")
        ));
    }
    if !moved.is_empty() || !after.is_empty() {
        args.push("--".to_string());
    }
    args.extend(moved);
    args.extend(after.iter().skip(1).cloned());
    Rewritten { args, notes }
}

/// Whether a command passes arguments to llama.cpp after `--`.
fn passes_args(sub: &clap::Command) -> bool {
    sub.get_arguments().any(|a| a.is_last_set())
}

/// The whole command line rewritten (see the module docs); an argument that
/// is not UTF-8 leaves it as it is, for clap to judge.
pub fn rewrite_argv(
    cmd: &clap::Command,
    argv: Vec<OsString>,
) -> Result<(Vec<OsString>, Vec<String>), String> {
    let Some(words) = argv
        .iter()
        .map(|a| a.to_str().map(str::to_string))
        .collect::<Option<Vec<String>>>()
    else {
        return Ok((argv, Vec::new()));
    };
    let at = words
        .iter()
        .skip(1)
        .position(|w| cmd.find_subcommand(w).is_some());
    let Some(at) = at.map(|i| i + 1) else {
        return Ok((argv, Vec::new()));
    };
    let sub = cmd.find_subcommand(&words[at]).expect("found above");
    if !passes_args(sub) || words[1..at].iter().any(|w| w == "--") {
        return Ok((argv, Vec::new()));
    }
    let r = rewrite(cmd, sub, &words[at + 1..])?;
    let mut out: Vec<OsString> = words[..=at].iter().map(OsString::from).collect();
    out.extend(r.args.into_iter().map(OsString::from));
    Ok((out, r.notes))
}

/// The command line parsed, after the rewrite; a misplaced llama.cpp flag
/// exits 2 with clap's usage, like any usage error.
pub fn parse() -> Cli {
    let mut cmd = Cli::command();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let (argv, notes) = match rewrite_argv(&cmd, argv) {
        Ok(r) => r,
        Err(msg) => cmd
            .error(clap::error::ErrorKind::UnknownArgument, msg)
            .exit(),
    };
    let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    for n in notes {
        crate::say!("tokbench: note: {n}");
    }
    cli
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<OsString> {
        shlex::split(line)
            .unwrap()
            .into_iter()
            .map(OsString::from)
            .collect()
    }

    fn rewritten(line: &str) -> Result<(String, Vec<String>), String> {
        let (out, notes) = rewrite_argv(&Cli::command(), argv(line))?;
        let words: Vec<String> = out
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        Ok((
            shlex::try_join(words.iter().map(String::as_str)).unwrap(),
            notes,
        ))
    }

    #[test]
    fn the_seed_habit_runs_as_meant() {
        let (line, notes) =
            rewritten("tokbench run --bin ./main -m model.gguf -p 'Hi there' -n 128 --metal")
                .unwrap();
        assert_eq!(
            line,
            "tokbench run --bin ./main -m model.gguf -p 'Hi there' -n 128 --gpu metal"
        );
        assert_eq!(notes, ["'--metal' read as '--gpu metal'"]);
    }

    #[test]
    fn tuning_flags_move_after_the_double_dash_with_their_values() {
        let (line, notes) = rewritten(
            "tokbench run --bin b -m m.gguf -fa -ngl 99 -t 8 -c 4096 -b 512 -ub 256 -ctk q8_0 -ctv q8_0 --reps 3",
        )
        .unwrap();
        assert_eq!(
            line,
            "tokbench run --bin b -m m.gguf --reps 3 -- -fa -ngl 99 -t 8 -c 4096 -b 512 -ub 256 -ctk q8_0 -ctv q8_0"
        );
        assert_eq!(
            notes,
            ["passing '-fa -ngl 99 -t 8 -c 4096 -b 512 -ub 256 -ctk q8_0 -ctv q8_0' to llama.cpp, as if after '--'"]
        );
        // `-fa on` keeps its value; long names move too; what was after `--` stays last.
        let (line, _) =
            rewritten("tokbench compare --a x --b y -m m.gguf -fa on --n-gpu-layers 99 -- -fa off")
                .unwrap();
        assert_eq!(
            line,
            "tokbench compare --a x --b y -m m.gguf -- -fa on --n-gpu-layers 99 -fa off"
        );
    }

    #[test]
    fn fa_is_never_a_prompt_file_named_a() {
        let (line, _) = rewritten("tokbench run --bin b -m m.gguf -fa -n 16").unwrap();
        assert_eq!(line, "tokbench run --bin b -m m.gguf -n 16 -- -fa");
        // tokbench's own -f still reads the file the user named.
        let (line, notes) = rewritten("tokbench run --bin b -m m.gguf -f prompt.txt").unwrap();
        assert_eq!(
            (line.as_str(), notes.len()),
            ("tokbench run --bin b -m m.gguf -f prompt.txt", 0)
        );
    }

    #[test]
    fn other_llama_flags_are_refused_with_where_to_put_them() {
        let e = rewritten("tokbench run --bin b -m m.gguf -mg 1").unwrap_err();
        assert_eq!(
            e,
            "'-mg' is a llama.cpp flag, not a tokbench option: put it after '--' (e.g. 'tokbench run ... -- -mg ...')"
        );
        let e = rewritten("tokbench sweep --bin b -m m.gguf --vary '-t 1,2' -no-cnv").unwrap_err();
        assert!(e.starts_with("'-no-cnv' is a llama.cpp flag"), "{e}");
        let e = rewritten("tokbench run --bin b -m m.gguf -ngl").unwrap_err();
        assert!(
            e.starts_with("'-ngl' is a llama.cpp flag that needs a value"),
            "{e}"
        );
    }

    #[test]
    fn values_of_our_options_and_other_commands_are_left_alone() {
        for line in [
            "tokbench compare --a x --b y -m m.gguf --a-args -fa --b-args '-fa on'",
            "tokbench sweep --bin b -m m.gguf --vary '-fa on,off'",
            "tokbench run --bin b -m m.gguf -- -mg 1 -fa",
            "tokbench parse -fa",
            "tokbench run --bin b -m m.gguf -n -1",
        ] {
            assert_eq!(rewritten(line).unwrap().0, line);
        }
    }

    /// tokbench's short options on the commands that pass flags to
    /// llama.cpp: the clashes with llama.cpp's are these, on purpose (same
    /// meaning, or `-o`, which llama-bench's own output format must not take).
    #[test]
    fn our_short_options_are_the_known_ones() {
        let cmd = Cli::command();
        for name in ["run", "compare", "sweep"] {
            let sub = cmd.find_subcommand(name).unwrap();
            let mut shorts: Vec<String> = our_options(&cmd, sub)
                .into_iter()
                .map(|(o, _)| o)
                .filter(|o| !o.starts_with("--"))
                .collect();
            shorts.sort();
            assert_eq!(shorts, ["-f", "-h", "-m", "-n", "-o", "-p"], "{name}");
            for p in PASSED {
                assert!(!shorts.iter().any(|s| s == p), "{p} is ours on {name}");
            }
        }
    }

    #[test]
    fn the_help_lists_flags_by_line() {
        let g = flag_groups(
            "-ngl,  --gpu-layers, --n-gpu-layers N   max. number\n  -1 = infinity\n----- x -----\n",
        );
        assert_eq!(g, [vec!["-ngl", "--gpu-layers", "--n-gpu-layers"]]);
        let all = llama_flags();
        for p in PASSED {
            assert!(
                all.iter().any(|g| g.iter().any(|n| n == p)),
                "{p} not in the pinned help"
            );
        }
    }
}
