//! Fitting the context to the prompt. A binary's own default context (from
//! its `--help`) may be too small for the prompt plus the generation: the
//! 2023 `main` defaults to 512 and refuses tokbench's built-in prompt with
//! `prompt is too long (545 tokens, max 508)`. Then tokbench passes a `-c`
//! that fits, capped by the model's trained context, and says so; a `-c` of
//! the user's always wins. Pure functions: the plan and the runner call them.

use std::sync::LazyLock;

use regex::Regex;

/// Bytes per prompt token assumed when estimating: generous (English text
/// runs at about 4 bytes per token), since the tokenizer is the model's.
pub const BYTES_PER_TOKEN: u64 = 3;

/// Tokens llama.cpp keeps free beyond the prompt (the 2023 `main` allows
/// a prompt of at most `n_ctx - 4`).
const RESERVED_TOKENS: u64 = 4;

/// Contexts are rounded up to a multiple of this.
const CTX_STEP: u64 = 256;

// `-c N, --ctx-size N    size of the prompt context (default: 512, 0 = loaded from model)`.
static HELP_CTX_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"--ctx-size\b[^\n]*?\(default:\s*(\d+)").expect("ctx-size regex is valid")
});

// `main: error: prompt is too long (545 tokens, max 508)`.
static TOO_LONG_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"prompt is too long \((\d+) tokens, max (\d+)\)").expect("too-long regex is valid")
});

/// The default context size a binary's `--help` states; `0` means "from
/// the model". None when the help does not say.
pub fn default_ctx(help: &str) -> Option<u64> {
    HELP_CTX_RE.captures(help)?[1].parse().ok()
}

/// What a run needs: the prompt's size and the tokens to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub prompt_bytes: u64,
    pub n_predict: u64,
}

impl Need {
    /// Prompt tokens, estimated generously from its bytes.
    pub fn prompt_tokens(&self) -> u64 {
        self.prompt_bytes.div_ceil(BYTES_PER_TOKEN)
    }
    fn tokens(&self) -> u64 {
        self.prompt_tokens() + self.n_predict + RESERVED_TOKENS
    }
}

/// A context tokbench passes with `-c`, and the note that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    pub ctx: u64,
    pub note: String,
}

/// Whether the user's own arguments set the context.
pub fn user_sets_ctx(args: &[String]) -> bool {
    args.iter().any(|a| {
        a == "-c"
            || a == "--ctx-size"
            || a == "--ctx_size"
            || a.starts_with("--ctx-size=")
            || a.starts_with("--ctx_size=")
    })
}

/// The `-c` to pass, or None when the binary's default context holds the
/// prompt and the generation (or is taken from the model, or the user set
/// one, or no larger context is possible within the model's).
pub fn fit(
    default: Option<u64>,
    need: Need,
    model_ctx: Option<u64>,
    user_args: &[String],
) -> Option<Fit> {
    let default = default.filter(|d| *d > 0)?;
    if user_sets_ctx(user_args) || need.tokens() <= default {
        return None;
    }
    let wanted = need.tokens().div_ceil(CTX_STEP) * CTX_STEP;
    let cap = model_ctx.filter(|c| *c > 0);
    let ctx = cap.map_or(wanted, |c| wanted.min(c));
    if ctx <= default {
        return None;
    }
    let capped = match cap {
        Some(c) if c < wanted => format!(" (the model's context_length {c}; {wanted} was wanted)"),
        _ => String::new(),
    };
    let note = format!(
        "the binary's default context is {default} tokens (its --help), too small for the prompt \
         (~{} tokens estimated from {} bytes) plus -n {}: passing -c {ctx}{capped}; \
         pass your own -c after -- to choose another",
        need.prompt_tokens(),
        need.prompt_bytes,
        need.n_predict
    );
    Some(Fit { ctx, note })
}

/// For a run that failed with `prompt is too long (N tokens, max M)`: what
/// to pass instead. `n_predict` is the run's `-n`.
pub fn too_long_hint(stderr: &str, n_predict: u64) -> Option<String> {
    let c = TOO_LONG_RE.captures(stderr)?;
    let tokens: u64 = c[1].parse().ok()?;
    let max: u64 = c[2].parse().ok()?;
    let ctx = (tokens + n_predict + RESERVED_TOKENS).div_ceil(CTX_STEP) * CTX_STEP;
    Some(format!(
        "the prompt is {tokens} tokens but the context holds {max}: pass a larger context \
         after --, e.g. `-- -c {ctx}` (prompt + -n {n_predict}), or a shorter prompt with -p/-f"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help(v: &str) -> String {
        std::fs::read_to_string(format!("fixtures/legacy/{v}/help.txt")).unwrap()
    }

    #[test]
    fn default_contexts_of_each_era() {
        assert_eq!(default_ctx(&help("0.2.20")), Some(512));
        assert_eq!(default_ctx(&help("0.2.79")), Some(0));
        assert_eq!(default_ctx(&help("0.3.2")), Some(4096));
        let current = include_str!("../fixtures/help/llama-completion.txt");
        assert_eq!(default_ctx(current), Some(0));
        assert_eq!(default_ctx("usage: ls [-c]"), None);
    }

    /// tokbench's built-in prompt with -n 128 against the 2023 `main`.
    const BUILTIN: Need = Need {
        prompt_bytes: 2445,
        n_predict: 128,
    };

    #[test]
    fn a_default_of_512_gets_a_context_that_fits() {
        let f = fit(Some(512), BUILTIN, Some(2048), &[]).expect("a fit");
        // 815 estimated + 128 + 4 = 947, rounded up to 1024.
        assert_eq!(f.ctx, 1024);
        assert!(f.note.contains("default context is 512"), "{}", f.note);
        assert!(
            f.note.contains("~815 tokens estimated from 2445 bytes"),
            "{}",
            f.note
        );
        assert!(f.note.contains("passing -c 1024;"), "{}", f.note);
    }

    #[test]
    fn the_model_context_caps_the_fit() {
        let f = fit(Some(512), BUILTIN, Some(768), &[]).expect("a fit");
        assert_eq!(f.ctx, 768);
        assert!(
            f.note.contains("context_length 768; 1024 was wanted"),
            "{}",
            f.note
        );
        // A model context no larger than the default: nothing to gain.
        assert_eq!(fit(Some(512), BUILTIN, Some(512), &[]), None);
    }

    #[test]
    fn no_fit_when_it_is_not_needed_or_the_user_chose() {
        assert_eq!(fit(Some(4096), BUILTIN, Some(2048), &[]), None);
        assert_eq!(fit(Some(0), BUILTIN, Some(2048), &[]), None);
        assert_eq!(fit(None, BUILTIN, Some(2048), &[]), None);
        for user in [
            &["-c", "600"][..],
            &["--ctx-size", "600"],
            &["--ctx-size=600"],
        ] {
            let args: Vec<String> = user.iter().map(|s| s.to_string()).collect();
            assert_eq!(fit(Some(512), BUILTIN, Some(2048), &args), None, "{user:?}");
        }
        let short = Need {
            prompt_bytes: 300,
            n_predict: 128,
        };
        assert_eq!(fit(Some(512), short, None, &[]), None);
    }

    #[test]
    fn a_prompt_too_long_failure_says_what_to_pass() {
        let stderr =
            std::fs::read_to_string("fixtures/legacy/0.2.20/default-prompt-too-long.stderr")
                .unwrap();
        let hint = too_long_hint(&stderr, 128).expect("a hint");
        assert_eq!(
            hint,
            "the prompt is 545 tokens but the context holds 508: pass a larger context after --, \
             e.g. `-- -c 768` (prompt + -n 128), or a shorter prompt with -p/-f"
        );
        assert_eq!(too_long_hint("main: error: unknown argument", 128), None);
    }
}
