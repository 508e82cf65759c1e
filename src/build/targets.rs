//! Pure functions over CMake's output: the targets a build tree offers
//! (`cmake --build DIR --target help`), which of them is the tool asked for
//! at this commit (llama.cpp renamed its tools), and the progress percentage
//! in a build's log lines.

use std::sync::OnceLock;

use regex::Regex;

/// The names a tool had over llama.cpp's history, newest first:
/// `main` became `llama-cli` (mid 2024), whose one-shot mode became
/// `llama-completion` (late 2025); `server` became `llama-server`.
pub fn aliases(tool: &str) -> &'static [&'static str] {
    match tool {
        "llama-completion" | "completion" => &["llama-completion", "llama-cli", "main"],
        "llama-cli" | "cli" => &["llama-cli", "main"],
        "llama-server" | "server" => &["llama-server", "server"],
        "llama-bench" | "bench" => &["llama-bench"],
        _ => &[],
    }
}

/// The target that builds `tool` in a tree offering `available`: its newest
/// name present there, or `tool` itself when it is offered verbatim.
pub fn resolve<'a>(tool: &str, available: &'a [String]) -> Option<&'a str> {
    let has = |name: &str| available.iter().find(|t| *t == name).map(String::as_str);
    aliases(tool)
        .iter()
        .find_map(|name| has(name))
        .or_else(|| has(tool))
}

/// Target names in `cmake --build DIR --target help` output, for the
/// Makefile generators (`... name`) and Ninja (`name: phony`).
pub fn parse_help(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("... ") {
                return rest.split_whitespace().next();
            }
            let (name, kind) = line.split_once(": ")?;
            let ninja_kind = [
                "phony",
                "CUSTOM_COMMAND",
                "CXX_EXECUTABLE_LINKER",
                "C_EXECUTABLE_LINKER",
            ];
            let is_target = ninja_kind.iter().any(|k| kind.trim_start().starts_with(k));
            (is_target && !name.contains(['/', ' '])).then_some(name)
        })
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The percentage in a CMake build line (`[ 42%] Building CXX object ...`
/// for Makefiles, `[12/40] ...` for Ninja, as a percentage).
pub fn progress(line: &str) -> Option<u8> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^\s*\[\s*(?:(\d{1,3})%|(\d+)/(\d+))\]").expect("progress regex compiles")
    });
    let caps = re.captures(line)?;
    if let Some(pct) = caps.get(1) {
        return pct.as_str().parse::<u8>().ok().filter(|p| *p <= 100);
    }
    let done: u64 = caps.get(2)?.as_str().parse().ok()?;
    let total: u64 = caps.get(3)?.as_str().parse().ok()?;
    (total > 0 && done <= total).then(|| (done * 100 / total) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn completion_follows_the_renames() {
        let now = names(&["llama-cli", "llama-completion", "llama-server"]);
        let mid = names(&["llama-cli", "llama-server"]);
        let old = names(&["main", "server", "quantize"]);
        assert_eq!(resolve("llama-completion", &now), Some("llama-completion"));
        assert_eq!(resolve("llama-completion", &mid), Some("llama-cli"));
        assert_eq!(resolve("llama-completion", &old), Some("main"));
        assert_eq!(resolve("llama-server", &old), Some("server"));
        assert_eq!(resolve("llama-bench", &old), None);
        assert_eq!(resolve("test-backend-ops", &now), None);
        assert_eq!(resolve("quantize", &old), Some("quantize"));
    }

    #[test]
    fn makefile_help_lists_targets() {
        let text = "The following are some of the valid targets for this Makefile:\n\
            ... all (the default if no target is provided)\n\
            ... clean\n\
            ... depend\n\
            ... llama-completion\n\
            ... ggml-base\n\
            ... llama.o\n";
        assert_eq!(
            parse_help(text),
            names(&[
                "all",
                "clean",
                "depend",
                "ggml-base",
                "llama-completion",
                "llama.o"
            ])
        );
    }

    #[test]
    fn ninja_help_lists_targets() {
        let text = "All primary targets available:\n\n\
            llama-completion: phony\n\
            bin/llama-bench: phony\n\
            build.ninja: RERUN_CMAKE\n\
            all: phony\n\
            test-backend-ops: phony\n";
        assert_eq!(
            parse_help(text),
            names(&["all", "llama-completion", "test-backend-ops"])
        );
    }

    #[test]
    fn progress_from_both_generators() {
        assert_eq!(progress("[ 42%] Building CXX object src/x.o"), Some(42));
        assert_eq!(progress("[100%] Built target llama-completion"), Some(100));
        assert_eq!(progress("[12/48] Building CXX object a.o"), Some(25));
        assert_eq!(progress("gmake[2]: Leaving directory"), None);
        assert_eq!(progress("[300%] nonsense"), None);
        assert_eq!(progress("[5/0] nonsense"), None);
    }
}
