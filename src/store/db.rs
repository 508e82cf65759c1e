//! Which history database an invocation uses (`--db`, `TOKBENCH_DB`, the
//! data directory, `--no-history`), and opening it.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::history::History;

/// Which database the invocation uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DbChoice {
    pub path: Option<PathBuf>,
    /// Named by `--db` or `TOKBENCH_DB` (failures are errors, not warnings).
    pub explicit: bool,
    /// `--no-history` or `TOKBENCH_NO_HISTORY=1`: runs are not recorded.
    pub disabled: bool,
}

impl DbChoice {
    /// `--db` wins over `TOKBENCH_DB`, which wins over the data directory.
    pub fn resolve(db: Option<PathBuf>, no_history: bool) -> DbChoice {
        let env_db = std::env::var_os("TOKBENCH_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let env_off = std::env::var("TOKBENCH_NO_HISTORY")
            .map(|v| !v.is_empty() && v != "0")
            .unwrap_or(false);
        let explicit = db.or(env_db);
        DbChoice {
            explicit: explicit.is_some(),
            path: explicit.or_else(crate::store::history::default_path),
            disabled: no_history || env_off,
        }
    }

    /// Opens the database for a command that reads or writes it on purpose.
    pub fn open(&self) -> Result<History> {
        let path = self.path.clone().context(
            "no data directory is known for the default history database: pass --db PATH or set TOKBENCH_DB",
        )?;
        Ok(History::open(&path)?)
    }
}
