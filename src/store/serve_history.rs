//! `tokbench serve` sessions in the history: one row per invocation (one
//! block, a sweep or an A/B session) with the servers, the load, a one-line
//! headline and the session's last summary record as JSON. They are not
//! runs of a binary (no build identity to key them by), so they live in
//! their own table and `tokbench history --serve` lists them.

use rusqlite::params;
use serde::Serialize;

use super::history::{History, HistoryError};

/// One stored serve session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServeSession {
    pub id: i64,
    pub started_at: String,
    /// `block`, `sweep` or `ab`.
    pub mode: String,
    pub label: Option<String>,
    /// The server of each side (one for a one-server session).
    pub servers: Vec<String>,
    pub load: String,
    pub blocks: u64,
    pub interrupted: bool,
    pub headline: String,
    /// The `-o` file, when there was one.
    pub output: Option<String>,
    /// The session's summary record (`serve_block`, `serve_sweep` or `serve_ab`).
    pub summary: serde_json::Value,
}

impl History {
    /// Stores a session (its `id` is ignored); returns the new id.
    pub fn record_serve(&mut self, s: &ServeSession) -> Result<i64, HistoryError> {
        let servers = serde_json::to_string(&s.servers).unwrap_or_default();
        self.conn()
            .execute(
                "INSERT INTO serve_sessions (started_at, mode, label, servers, load, blocks, \
                 interrupted, headline, output, summary) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                params![
                    s.started_at,
                    s.mode,
                    s.label,
                    servers,
                    s.load,
                    s.blocks as i64,
                    s.interrupted,
                    s.headline,
                    s.output,
                    s.summary.to_string()
                ],
            )
            .map_err(|e| self.sql(e))?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Sessions started at or after `since` (RFC 3339 text) with `label`, oldest first.
    pub fn serve_sessions(
        &self,
        since: Option<&str>,
        label: Option<&str>,
    ) -> Result<Vec<ServeSession>, HistoryError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT id, started_at, mode, label, servers, load, blocks, interrupted, headline, \
                 output, summary FROM serve_sessions WHERE (?1 IS NULL OR started_at >= ?1) \
                 AND (?2 IS NULL OR label = ?2) ORDER BY started_at, id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![since, label], |r| {
                let servers: String = r.get(4)?;
                let summary: String = r.get(10)?;
                Ok(ServeSession {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    mode: r.get(2)?,
                    label: r.get(3)?,
                    servers: serde_json::from_str(&servers).unwrap_or_default(),
                    load: r.get(5)?,
                    blocks: r.get::<_, i64>(6)?.max(0) as u64,
                    interrupted: r.get(7)?,
                    headline: r.get(8)?,
                    output: r.get(9)?,
                    summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(at: &str, label: Option<&str>) -> ServeSession {
        ServeSession {
            id: 0,
            started_at: at.into(),
            mode: "ab".into(),
            label: label.map(str::to_string),
            servers: vec![
                "A: llama-server -np 4".into(),
                "B: llama-server -np 16".into(),
            ],
            load: "closed loop, concurrency 16".into(),
            blocks: 12,
            interrupted: false,
            headline: "itl_ms.p50: B slower +4.8% [+3.8%, +5.6%]".into(),
            output: Some("ab.jsonl".into()),
            summary: serde_json::json!({"kind": "serve_ab", "pairs": 6}),
        }
    }

    #[test]
    fn sessions_are_stored_and_listed_by_time_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
        let first = h
            .record_serve(&session("2026-12-01T10:00:00Z", None))
            .unwrap();
        h.record_serve(&session("2026-12-02T10:00:00Z", Some("np")))
            .unwrap();
        let all = h.serve_sessions(None, None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0],
            ServeSession {
                id: first,
                ..session("2026-12-01T10:00:00Z", None)
            }
        );
        let later = h.serve_sessions(Some("2026-12-02"), None).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].label.as_deref(), Some("np"));
        assert!(h.serve_sessions(None, Some("other")).unwrap().is_empty());
    }
}
