//! llama.cpp flags typed before `--` (issue 14, item 7), on the real binary
//! and the stand-in: each mistake of the issue, and what it does now.

use super::{stderr, Sandbox};

/// `-fa` was read as `-f a` (a prompt file named `a`); `-ngl 99` failed with
/// `invalid value 'gl' for '--n-predict'`; `-fa on` with `unexpected argument`.
#[test]
fn fa_and_ngl_before_the_double_dash_reach_llama_cpp() {
    let sb = Sandbox::new();
    for (flags, want) in [
        (&["-fa", "-ngl", "99"][..], &["-fa", "-ngl", "99"][..]),
        (&["-fa", "on", "-t", "2"][..], &["-fa", "on", "-t", "2"][..]),
    ] {
        let mut args = vec![
            "--reps",
            "1",
            "--warmup",
            "0",
            "-n",
            "8",
            "--sampler",
            "none",
        ];
        args.extend_from_slice(flags);
        let o = sb.run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let note = format!("tokbench: note: passing '{}' to llama.cpp", want.join(" "));
        assert!(stderr(&o).contains(&note), "{}", stderr(&o));
        let argv = sb.argvs().pop().unwrap();
        assert!(
            argv.ends_with(&want.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "{argv:?}"
        );
        // No prompt file named 'a' was read: the prompt is the built-in one.
        assert!(!argv.iter().any(|a| a == "a"), "{argv:?}");
    }
}

#[test]
fn other_llama_flags_before_the_double_dash_are_usage_errors() {
    let sb = Sandbox::new();
    let o = sb.run(&["-mg", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "error: '-mg' is a llama.cpp flag, not a tokbench option: put it after '--' (e.g. 'tokbench run ... -- -mg ...')"
        ),
        "{}",
        stderr(&o)
    );
    let o = sb.run(&["-ngl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("error: '-ngl' is a llama.cpp flag that needs a value"),
        "{}",
        stderr(&o)
    );
    assert!(sb.argvs().is_empty(), "nothing ran");
}
