//! Reading the history: which stored runs a build spec (id, label, commit)
//! or a filter selects, the per-build rows of `tokbench history`, and the
//! stored records themselves. All of the history's SQL outside its writer.

use anyhow::{Context, Result};
use serde::Serialize;

use super::history::History;
use crate::model::RunRecord;

/// A stored run as `history --runs` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub build_id: i64,
    pub label: String,
    pub started_at: String,
    pub warmup: bool,
    pub status: String,
    pub source: String,
    pub model: String,
    pub eval_tps: Option<f64>,
    pub prompt_eval_tps: Option<f64>,
}

/// A build as `history` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct BuildRow {
    pub id: i64,
    pub label: String,
    pub source: String,
    pub commit: Option<String>,
    pub build_number: Option<i64>,
    pub backend: Option<String>,
    pub device: Option<String>,
    pub binary_sha256: Option<String>,
    /// Counted, successful runs matching the filters.
    pub runs: usize,
    pub median_eval_tps: Option<f64>,
    pub last_run: String,
    /// llama-bench runs: one entry per key (`pp512 fa=1`, `tg128 fa=1`),
    /// in the order printed; empty for other tools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyMedian>,
}

/// One llama-bench key of a build's runs: the median over its counted runs
/// of each run's mean t/s (the value `run` and `compare` judge).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyMedian {
    pub key: String,
    /// Counted runs with a value of this key.
    pub runs: usize,
    pub median_tps: Option<f64>,
}

/// Which stored runs a filter or a `--from-history` side selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub builds: Option<Vec<i64>>,
    pub label: Option<String>,
    pub model: Option<String>,
    pub since: Option<String>,
}

/// Resolves a build id, a run label, a commit (prefix) or an exported
/// `commit-key` name to build ids; a label keeps its runs only.
pub fn resolve_build(h: &History, spec: &str) -> Result<Filter> {
    let ids = |sql: &str, arg: &str| -> Result<Vec<i64>> {
        let mut stmt = h.conn().prepare(sql).map_err(|e| h.sql(e))?;
        let rows = stmt
            .query_map([arg], |r| r.get::<_, i64>(0))
            .map_err(|e| h.sql(e))?;
        Ok(rows.collect::<Result<Vec<_>, _>>().map_err(|e| h.sql(e))?)
    };
    if let Ok(id) = spec.parse::<i64>() {
        if !ids("SELECT id FROM builds WHERE id = ?1", &id.to_string())?.is_empty() {
            return Ok(build_filter(vec![id]));
        }
    }
    let by_label = ids(
        "SELECT build_id FROM runs WHERE label = ?1 UNION SELECT build_id FROM ops_rounds WHERE label = ?1",
        spec,
    )?;
    if !by_label.is_empty() {
        return Ok(Filter {
            builds: Some(by_label),
            label: Some(spec.to_string()),
            ..Filter::default()
        });
    }
    let by_commit = match spec.split_once('-') {
        Some((c, k)) if k.len() == 6 => ids("SELECT id FROM builds WHERE substr(key, 1, 6) = ?1", k)?
            .into_iter()
            .filter(|_| c.len() == 7)
            .collect(),
        _ => ids(
            "SELECT id FROM builds WHERE commit_hash IS NOT NULL AND ?1 <> '' AND commit_hash LIKE ?1 || '%'",
            spec,
        )?,
    };
    match by_commit.len() {
        0 => anyhow::bail!(
            "no build in the history matches '{spec}' (not a build id, a run label or a commit): see 'tokbench history'"
        ),
        1 => Ok(build_filter(by_commit)),
        _ => anyhow::bail!(
            "'{spec}' matches several builds ({}): pass a build id from 'tokbench history'",
            by_commit.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn build_filter(ids: Vec<i64>) -> Filter {
    Filter {
        builds: Some(ids),
        ..Filter::default()
    }
}

/// Runs matching the filter, oldest first.
pub fn query_runs(h: &History, f: &Filter) -> Result<Vec<RunRow>> {
    let sql =
        "SELECT r.id, r.build_id, r.label, r.started_at, r.warmup, r.status, r.source, m.path,
               r.eval_tps, r.prompt_eval_tps
               FROM runs r JOIN models m ON m.id = r.model_id
               WHERE (?1 IS NULL OR r.label = ?1) AND (?2 IS NULL OR instr(m.path, ?2) > 0)
               AND (?3 IS NULL OR r.started_at >= ?3) ORDER BY r.started_at, r.id";
    let mut stmt = h.conn().prepare(sql).map_err(|e| h.sql(e))?;
    let rows = stmt
        .query_map(rusqlite::params![f.label, f.model, f.since], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                build_id: r.get(1)?,
                label: r.get(2)?,
                started_at: r.get(3)?,
                warmup: r.get(4)?,
                status: r.get(5)?,
                source: r.get(6)?,
                model: r.get(7)?,
                eval_tps: r.get(8)?,
                prompt_eval_tps: r.get(9)?,
            })
        })
        .map_err(|e| h.sql(e))?;
    let all = rows.collect::<Result<Vec<_>, _>>().map_err(|e| h.sql(e))?;
    Ok(all
        .into_iter()
        .filter(|r| match &f.builds {
            Some(b) => b.contains(&r.build_id),
            None => true,
        })
        .collect())
}

/// One row per build and label: a build run with different arguments under
/// different labels (configurations) shows as several rows with one id.
pub fn build_rows(h: &History, runs: &[RunRow]) -> Result<Vec<BuildRow>> {
    let mut keys: Vec<(i64, String)> = Vec::new();
    for r in runs {
        let key = (r.build_id, r.label.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort_by_key(|k| k.0);
    let mut out = Vec::new();
    for (id, label) in keys {
        let mine: Vec<&RunRow> = runs
            .iter()
            .filter(|r| r.build_id == id && r.label == label)
            .collect();
        let counted: Vec<&&RunRow> = mine
            .iter()
            .filter(|r| !r.warmup && r.status == "ok")
            .collect();
        let evals: Vec<f64> = counted.iter().filter_map(|r| r.eval_tps).collect();
        let ids: Vec<i64> = counted.iter().map(|r| r.id).collect();
        let keys = key_medians(h, &ids)?;
        let last = mine
            .iter()
            .map(|r| r.started_at.as_str())
            .max()
            .unwrap_or("");
        let row = h
            .conn()
            .query_row(
                "SELECT source, commit_hash, build_number, backend, device, binary_sha256 FROM builds WHERE id = ?1",
                [id],
                |r| {
                    Ok(BuildRow {
                        id,
                        label,
                        source: r.get(0)?,
                        commit: r.get(1)?,
                        build_number: r.get(2)?,
                        backend: r.get(3)?,
                        device: r.get(4)?,
                        binary_sha256: r.get(5)?,
                        runs: counted.len(),
                        median_eval_tps: (!evals.is_empty()).then(|| crate::stats::median(&evals)),
                        last_run: last.to_string(),
                        keys,
                    })
                },
            )
            .map_err(|e| h.sql(e))?;
        out.push(row);
    }
    out.sort_by(|a, b| a.last_run.cmp(&b.last_run));
    Ok(out)
}

/// The llama-bench keys of these runs with their medians, in the order
/// the first run printed them.
fn key_medians(h: &History, run_ids: &[i64]) -> Result<Vec<KeyMedian>> {
    let mut stmt = h
        .conn()
        .prepare(
            "SELECT COALESCE(key, test), avg_tps FROM bench_tests WHERE run_id = ?1 ORDER BY idx",
        )
        .map_err(|e| h.sql(e))?;
    let mut values: Vec<(String, Vec<f64>, usize)> = Vec::new();
    for id in run_ids {
        let rows = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?))
            })
            .map_err(|e| h.sql(e))?;
        for row in rows {
            let (key, tps) = row.map_err(|e| h.sql(e))?;
            let i = match values.iter().position(|v| v.0 == key) {
                Some(i) => i,
                None => {
                    values.push((key, Vec::new(), 0));
                    values.len() - 1
                }
            };
            values[i].2 += 1;
            values[i].1.extend(tps);
        }
    }
    Ok(values
        .into_iter()
        .map(|(key, v, runs)| KeyMedian {
            key,
            runs,
            median_tps: (!v.is_empty()).then(|| crate::stats::median(&v)),
        })
        .collect())
}

/// The stored records of the runs `filter` selects, in run order.
pub fn stored_records(h: &History, filter: &Filter) -> Result<Vec<RunRecord>> {
    let mut out = Vec::new();
    for row in query_runs(h, filter)? {
        let json: String = h
            .conn()
            .query_row("SELECT record FROM runs WHERE id = ?1", [row.id], |r| {
                r.get(0)
            })
            .map_err(|e| h.sql(e))?;
        let rec: RunRecord = serde_json::from_str(&json)
            .with_context(|| format!("stored run {} cannot be read by this tokbench", row.id))?;
        out.push(rec);
    }
    Ok(out)
}
