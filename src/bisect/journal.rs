//! What a bisect measured, kept in tokbench's cache under a key of its
//! arguments, so that a bisect interrupted (exit 130) and run again the
//! same way reuses its endpoint check, every step it decided and its final
//! check, and measures only what is left. Written after each of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Verdict;
use crate::compare::stats::Comparison;

/// A comparison of two builds (the endpoints, or the first bad commit and
/// its parent), as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// The metric compared, as the runs named it (`eval_tps`, `tg128`).
    pub metric: String,
    /// B over A on the primary metric, with its interval and verdict.
    pub comparison: Comparison,
    /// Why the adaptive session stopped.
    pub stopped: Option<String>,
    pub seconds: f64,
}

/// A step's judgement as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Saved {
    Measured(Verdict),
    BuildFailed { message: String, build_seconds: f64 },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub key: String,
    pub endpoints: Option<Checked>,
    /// Commit hash -> its judgement.
    pub steps: BTreeMap<String, Saved>,
    /// (first bad commit, its check against its parent).
    pub final_check: Option<(String, Checked)>,
}

/// A short hash of the arguments that decide what a bisect measures.
pub fn key(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Where the journal of `key` lives.
pub fn path(cache: &Path, key: &str) -> PathBuf {
    cache.join("bisect").join(format!("{key}.json"))
}

impl Journal {
    /// The journal kept under `path`, or an empty one for `key` (none yet,
    /// unreadable, or another key's).
    pub fn load(path: &Path, key: &str) -> Journal {
        let kept = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Journal>(&t).ok())
            .filter(|j| j.key == key);
        kept.unwrap_or_else(|| Journal {
            key: key.to_string(),
            ..Journal::default()
        })
    }

    /// Whether anything was kept from an earlier run.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_none() && self.steps.is_empty() && self.final_check.is_none()
    }

    /// Writes it whole (a temporary file renamed over the old one: a
    /// reader never sees half of it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bisect::Class;

    #[test]
    fn a_saved_journal_is_read_back_only_under_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let k = key(&["a".into(), "b".into()]);
        assert_eq!(k.len(), 16);
        assert_ne!(k, key(&["ab".into()]));
        let p = path(dir.path(), &k);
        let mut j = Journal::load(&p, &k);
        assert!(j.is_empty());
        j.steps.insert(
            "abc".into(),
            Saved::Measured(Verdict {
                class: Class::LikeBad,
                pairs: 9,
                ratio_to_good: None,
                error_rate: Some(0.01),
                build_seconds: 1.5,
                measure_seconds: 2.0,
            }),
        );
        j.steps.insert(
            "def".into(),
            Saved::BuildFailed {
                message: "no".into(),
                build_seconds: 0.5,
            },
        );
        j.save(&p).unwrap();
        assert_eq!(Journal::load(&p, &k), j);
        assert!(Journal::load(&p, "other").is_empty());
    }
}
