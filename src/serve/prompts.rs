//! The prompts of a block: a built-in text or `--prompts FILE`, cut to a
//! length in the server's own tokens (`/tokenize`, `/detokenize`) when
//! `--prompt-tokens N[:SD]` asks, and made unique with a nonce at the front
//! so no request is served from another's prompt cache. `--shared-prefix N`
//! puts the first N tokens of the text in front of the nonce instead, for
//! the deliberate prefix-cache scenario. With `--api chat` the server
//! wraps each prompt in its chat template: the template's own tokens
//! (measured once through `/apply-template` and `/tokenize`) are taken off
//! each target, so `--prompt-tokens N` is the length the server evaluates.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use super::client::{ClientError, Pool};
use crate::compare::stats::SplitMix64;

/// How the prompts are made.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSpec {
    /// The texts, used in turn (at least one).
    pub texts: Vec<String>,
    /// Target length in server tokens: mean and standard deviation.
    pub tokens: Option<(usize, f64)>,
    pub shared_prefix: Option<usize>,
    pub seed: u64,
}

/// `N` or `N:SD`.
pub fn parse_tokens(s: &str) -> Result<(usize, f64), String> {
    let (n, sd) = s.split_once(':').unwrap_or((s, "0"));
    let n: usize = n.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| {
        format!(
            "--prompt-tokens '{s}': the length must be a whole number above 0 (e.g. 256 or 256:32)"
        )
    })?;
    let sd: f64 = sd
        .trim()
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| {
            format!("--prompt-tokens '{s}': the spread must be a number of 0 or more (e.g. 256:32)")
        })?;
    Ok((n, sd))
}

/// `--prompts FILE`: JSON Lines (`"text"` or `{"prompt": "text"}`) or one prompt a line.
pub fn read_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --prompts file '{}'", path.display()))?;
    let out: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(v) if v["prompt"].is_string() => {
                v["prompt"].as_str().unwrap_or_default().to_string()
            }
            _ => l.to_string(),
        })
        .collect();
    if out.is_empty() {
        anyhow::bail!("--prompts file '{}' holds no prompt: write one prompt a line (or JSONL with a \"prompt\" field)", path.display());
    }
    Ok(out)
}

/// The nonce at the front of request `i`'s prompt.
fn nonce(run: u64, i: usize) -> String {
    format!("[{run:08x}-{i}]")
}

/// Per-request target lengths (seeded, at least 1 token).
fn lengths(spec: &PromptSpec, count: usize) -> Option<Vec<usize>> {
    let (n, sd) = spec.tokens?;
    let mut rng = SplitMix64::new(spec.seed ^ 0x5eed_7e47);
    Some(
        (0..count)
            .map(|_| (n as f64 + sd * rng.gaussian()).round().max(1.0) as usize)
            .collect(),
    )
}

async fn tokenize(pool: &Pool, text: &str) -> Result<Vec<u64>> {
    let v = pool
        .json("POST", "/tokenize", Some(json!({"content": text})))
        .await
        .context("cannot measure prompt lengths with the server's /tokenize")?;
    Ok(v["tokens"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_u64()).collect())
        .unwrap_or_default())
}

async fn detokenize(pool: &Pool, ids: &[u64]) -> Result<String> {
    let v = pool
        .json("POST", "/detokenize", Some(json!({"tokens": ids})))
        .await
        .context("cannot cut the prompt to length with the server's /detokenize")?;
    Ok(v["content"].as_str().unwrap_or_default().to_string())
}

/// Most distinct prompt bodies built ahead; later requests reuse them in
/// turn (each still unique by its nonce).
pub const MAX_BODIES: usize = 1000;

/// The prompts of a block: request `i` gets `prefix`, its nonce, then body
/// `i % bodies.len()`.
#[derive(Debug, Clone)]
pub struct Prompts {
    pub prefix: String,
    pub bodies: Vec<String>,
    pub run: u64,
    /// Whether the server may reuse cached prompt prefixes (`--shared-prefix`).
    pub cache_prompt: bool,
    /// What the block's record should say about how lengths were made.
    pub notes: Vec<String>,
}

impl Prompts {
    pub fn get(&self, i: usize) -> String {
        let body = &self.bodies[i % self.bodies.len()];
        format!("{}{} {body}", self.prefix, nonce(self.run, i))
    }
}

/// Tokens the chat template adds around one user message (`/apply-template`),
/// or None when the server has no such endpoint (404). Tokenized whole and
/// bare, so a merge at the template's edges may shift it by a token.
async fn template_tokens(pool: &Pool, probe: &str) -> Result<Option<usize>> {
    let messages = json!({"messages": [{"role": "user", "content": probe}]});
    let v = match pool.json("POST", "/apply-template", Some(messages)).await {
        Ok(v) => v,
        Err(ClientError::Status(404, _)) => return Ok(None),
        Err(e) => {
            return Err(e)
                .context("cannot measure the chat template with the server's /apply-template")
        }
    };
    let templated = v["prompt"].as_str().unwrap_or_default();
    let with = tokenize(pool, templated).await?.len();
    let bare = tokenize(pool, probe).await?.len();
    Ok(Some(with.saturating_sub(bare)))
}

/// The chat template's tokens to take off each length, with the note saying so.
async fn chat_overhead(pool: &Pool, chat: bool, probe: &str) -> Result<(usize, Option<String>)> {
    if !chat {
        return Ok((0, None));
    }
    Ok(match template_tokens(pool, probe).await? {
        Some(n) => (
            n,
            Some(format!("--prompt-tokens counts the chat template's {n} tokens (from /apply-template)")),
        ),
        None => (
            0,
            Some("the server has no /apply-template: chat prompts are --prompt-tokens plus the chat template's tokens".to_string()),
        ),
    })
}

/// Builds the prompts for a block of about `count` requests, unique per
/// `run`; `chat`: the server applies its chat template to each.
pub async fn build(
    pool: &Pool,
    spec: &PromptSpec,
    count: usize,
    run: u64,
    chat: bool,
) -> Result<Prompts> {
    let count = count.clamp(1, MAX_BODIES);
    let lens = lengths(spec, count);
    let from = spec.shared_prefix.unwrap_or(0);
    let need = lens.iter().flatten().copied().max().unwrap_or(0) + from;
    let mut ids = Vec::new();
    if need > 0 {
        let all = tokenize(pool, &spec.texts.join("\n")).await?;
        if all.is_empty() {
            anyhow::bail!("the server's /tokenize gave no tokens for the prompt text");
        }
        ids = all.iter().copied().cycle().take(need).collect();
    }
    let prefix = match spec.shared_prefix {
        Some(n) => format!("{} ", detokenize(pool, &ids[..n]).await?),
        None => String::new(),
    };
    let Some(lens) = lens else {
        return Ok(Prompts {
            prefix,
            bodies: spec.texts.clone(),
            run,
            cache_prompt: spec.shared_prefix.is_some(),
            notes: Vec::new(),
        });
    };
    let probe = nonce(run, count);
    let (template, note) = chat_overhead(pool, chat, &probe).await?;
    let nonce_len = tokenize(pool, &probe).await?.len() + template;
    let mut cut: HashMap<usize, String> = HashMap::new();
    let mut bodies = Vec::with_capacity(count);
    for l in lens {
        let n = l.saturating_sub(nonce_len).max(1);
        if let std::collections::hash_map::Entry::Vacant(e) = cut.entry(n) {
            e.insert(detokenize(pool, &ids[from..from + n]).await?);
        }
        bodies.push(cut[&n].clone());
    }
    Ok(Prompts {
        prefix,
        bodies,
        run,
        cache_prompt: spec.shared_prefix.is_some(),
        notes: note.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lengths_parse() {
        assert_eq!(parse_tokens("256"), Ok((256, 0.0)));
        assert_eq!(parse_tokens("256:32"), Ok((256, 32.0)));
        assert!(parse_tokens("0").unwrap_err().contains("above 0"));
        assert!(parse_tokens("5:-1").unwrap_err().contains("spread"));
    }

    #[test]
    fn prompts_file_reads_lines_and_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.txt");
        std::fs::write(&p, "plain one\n\n\"quoted\"\n{\"prompt\": \"from json\"}\n").unwrap();
        assert_eq!(
            read_file(&p).unwrap(),
            vec!["plain one", "quoted", "from json"]
        );
        std::fs::write(&p, "\n\n").unwrap();
        assert!(read_file(&p)
            .unwrap_err()
            .to_string()
            .contains("holds no prompt"));
    }

    #[test]
    fn lengths_are_seeded_and_positive() {
        let spec = PromptSpec {
            texts: vec!["x".into()],
            tokens: Some((10, 50.0)),
            shared_prefix: None,
            seed: 1,
        };
        let a = lengths(&spec, 200).unwrap();
        assert_eq!(a, lengths(&spec, 200).unwrap());
        assert!(a.iter().all(|&n| n >= 1) && a.iter().any(|&n| n > 10));
    }
}
