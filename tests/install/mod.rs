//! What a user installs beside the binary: `tokbench completions SHELL` and
//! `tokbench man`, generated from the clap definitions.

use super::{stderr, stdout, Sandbox};

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands_and_options() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "_tokbench()"),
        ("zsh", "#compdef tokbench"),
        ("fish", "complete -c tokbench"),
    ] {
        let o = sb.cmd(&["completions", shell]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(marker), "{shell}: no '{marker}' in\n{out}");
        for word in [
            "compare",
            "sample-interval",
            "fail-if-slower",
            "completions",
        ] {
            assert!(out.contains(word), "{shell}: no '{word}'");
        }
    }
    let o = sb.cmd(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

#[test]
fn man_page_on_stdout_and_one_page_per_command_in_a_directory() {
    let sb = Sandbox::new();
    let o = sb.cmd(&["man"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH tokbench 1"), "{page}");
    assert!(page.contains("tokbench\\-compare(1)"), "{page}");
    let dir = sb.path("man/man1");
    let o = sb
        .cmd(&["man", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = std::fs::read_to_string(dir.join("tokbench-run.1")).unwrap();
    assert!(run.contains(".TH tokbench-run 1"), "{run}");
    assert!(run.contains("\\-\\-sample\\-interval"), "{run}");
    for page in ["tokbench.1", "tokbench-compare.1", "tokbench-man.1"] {
        assert!(dir.join(page).is_file(), "{page} missing");
    }
}
