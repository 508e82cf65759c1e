//! The `test_backend_ops` SQLite table, as `test-backend-ops perf --output
//! sql | sqlite3 FILE` would build it, so `scripts/compare-llama-bench.py
//! --tool test-backend-ops -i FILE -b A -c B` reads a `tokbench ops` session.
//!
//! One row per case per round. `build_commit` is `<commit, 7 chars>-<6 hex>`
//! with the hex taken from the side and its binary's path: two builds of one
//! commit (a planted change) stay apart, and every value has the same length
//! (compare-llama-bench.py cuts all of them to the shortest).

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use sha2::{Digest, Sha256};

use crate::model::OpResult;
use crate::store::export::ExportError;

/// The columns and types of `test-backend-ops --output sql` (0c1e570).
pub const COLUMNS: [(&str, &str); 16] = [
    ("test_time", "TEXT"),
    ("build_commit", "TEXT"),
    ("backend_name", "TEXT"),
    ("op_name", "TEXT"),
    ("op_params", "TEXT"),
    ("test_mode", "TEXT"),
    ("supported", "INTEGER"),
    ("passed", "INTEGER"),
    ("error_message", "TEXT"),
    ("time_us", "REAL"),
    ("flops", "REAL"),
    ("bandwidth_gb_s", "REAL"),
    ("memory_kb", "INTEGER"),
    ("n_runs", "INTEGER"),
    ("device_description", "TEXT"),
    ("backend_reg_name", "TEXT"),
];

/// `0c1e570-3fa2b1`: the build's commit and 6 hex of (side, binary path).
pub fn side_commit(commit: &str, side: &str, binary: &Path) -> String {
    let c: String = if commit.is_empty() {
        "unknown".into()
    } else {
        commit.chars().take(7).collect()
    };
    let digest = Sha256::digest(format!("{side}:{}", binary.display()).as_bytes());
    format!("{c:0<7}-{}", &hex::encode(digest)[..6])
}

fn values(commit: &str, r: &OpResult) -> Vec<SqlValue> {
    let t = |s: &str| SqlValue::Text(s.to_string());
    vec![
        t(&r.test_time),
        t(commit),
        t(&r.backend),
        t(&r.op),
        t(&r.params),
        t("perf"),
        SqlValue::Integer(r.supported as i64),
        SqlValue::Integer(r.supported as i64),
        t(&r.error),
        SqlValue::Real(r.time_us),
        SqlValue::Real(r.flops),
        SqlValue::Real(r.bandwidth_gb_s),
        SqlValue::Integer(r.memory_kb as i64),
        SqlValue::Integer(r.n_runs as i64),
        t(&r.device),
        t(&r.backend),
    ]
}

/// Writes (build_commit, result) rows into a new SQLite file.
pub fn write_sqlite(path: &Path, rows: &[(String, OpResult)]) -> Result<(), ExportError> {
    if path.exists() {
        return Err(ExportError::Exists {
            path: path.display().to_string(),
        });
    }
    let err = |e: rusqlite::Error| ExportError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let mut conn = rusqlite::Connection::open(path).map_err(err)?;
    let cols: Vec<String> = COLUMNS.iter().map(|(n, t)| format!("  {n} {t}")).collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS test_backend_ops (\n{}\n);",
        cols.join(",\n")
    ))
    .map_err(err)?;
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    let sql = format!(
        "INSERT INTO test_backend_ops ({}) VALUES ({})",
        names.join(", "),
        vec!["?"; names.len()].join(", ")
    );
    let tx = conn.transaction().map_err(err)?;
    {
        let mut stmt = tx.prepare(&sql).map_err(err)?;
        for (commit, r) in rows {
            stmt.execute(rusqlite::params_from_iter(values(commit, r)))
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_land_in_the_binarys_own_table_with_distinct_equal_length_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite");
        let r = OpResult {
            backend: "CPU".into(),
            op: "ADD".into(),
            params: "ne=[4096]".into(),
            supported: true,
            time_us: 12.5,
            bandwidth_gb_s: 40.0,
            n_runs: 100,
            ..OpResult::default()
        };
        let ca = side_commit("0c1e5701234", "A", Path::new("/x/a/test-backend-ops"));
        let cb = side_commit("0c1e570", "B", Path::new("/x/b/test-backend-ops"));
        assert_ne!(ca, cb);
        assert_eq!(ca.len(), cb.len());
        assert!(ca.starts_with("0c1e570-"));
        write_sqlite(&path, &[(ca.clone(), r.clone()), (cb, r)]).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let (n, t): (i64, f64) = conn
            .query_row("SELECT COUNT(*), SUM(time_us) FROM test_backend_ops WHERE supported = 1 AND passed = 1 AND test_mode = 'perf'", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap();
        assert_eq!((n, t), (2, 25.0));
        let e = write_sqlite(&path, &[]).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
    }
}
