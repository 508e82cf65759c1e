//! `serve -o FILE`: records appended on a writer thread. Each record is
//! flushed and synced as it comes (a crash loses nothing finished), and a
//! sync can take milliseconds: on the client's own runtime it would show up
//! as dispatch lag, so it happens here instead.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::Result;
use serde::Serialize;

use crate::store::jsonl::{JsonlWriter, StoreError};

pub struct RecordWriter {
    tx: Option<mpsc::Sender<serde_json::Value>>,
    thread: Option<JoinHandle<Result<(), StoreError>>>,
}

impl RecordWriter {
    pub fn open(path: &Path) -> Result<RecordWriter, StoreError> {
        let mut w = JsonlWriter::open(path)?;
        let (tx, rx) = mpsc::channel::<serde_json::Value>();
        let thread = std::thread::spawn(move || {
            for v in rx {
                w.append(&v)?;
            }
            Ok(())
        });
        Ok(RecordWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues one record (a writer that failed drops it: [`Self::check`] says why).
    pub fn send<T: Serialize>(&self, record: &T) {
        if let (Some(tx), Ok(v)) = (&self.tx, serde_json::to_value(record)) {
            let _ = tx.send(v);
        }
    }

    /// The writer's error, if it stopped on one.
    pub fn check(&mut self) -> Result<()> {
        if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
            return self.join();
        }
        Ok(())
    }

    fn join(&mut self) -> Result<()> {
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => Ok(r?),
            Some(Err(_)) => anyhow::bail!("the results writer thread panicked"),
            None => Ok(()),
        }
    }

    /// Writes what is queued and closes the file.
    pub fn finish(mut self) -> Result<()> {
        self.join()
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_arrive_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.jsonl");
        let w = RecordWriter::open(&p).unwrap();
        for i in 0..50 {
            w.send(&serde_json::json!({"kind": "serve_request", "index": i}));
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let idx: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["index"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(idx, (0..50).collect::<Vec<u64>>());
    }

    #[test]
    fn a_directory_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RecordWriter::open(dir.path()).is_err());
    }
}
