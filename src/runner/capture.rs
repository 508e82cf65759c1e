//! Bounded capture of a child's output stream.
//!
//! A benchmarked binary may print gigabytes (a runaway generation, a debug
//! build). tokbench keeps the head (the version banner and load log) and the
//! tail (the timing block) of each stream, counts what it dropped, and streams
//! everything to the `--keep-logs` file when one was asked for. Memory stays
//! bounded by `head_cap + tail_cap` per stream whatever the child writes.

use std::collections::VecDeque;
use std::io::{Read, Write};

/// Default bytes kept from the start and from the end of a stream.
pub const HEAD_CAP: usize = 256 * 1024;
pub const TAIL_CAP: usize = 4 * 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_cap: usize,
    tail_cap: usize,
    /// Bytes the child wrote in all.
    pub total_bytes: u64,
    /// Bytes dropped between head and tail.
    pub dropped_bytes: u64,
    /// The first error writing the log copy, if any (the capture goes on).
    pub log_error: Option<String>,
}

impl Capture {
    pub fn new(head_cap: usize, tail_cap: usize) -> Self {
        Capture {
            head_cap,
            tail_cap,
            ..Default::default()
        }
    }

    pub fn push(&mut self, mut chunk: &[u8]) {
        self.total_bytes += chunk.len() as u64;
        let room = self.head_cap.saturating_sub(self.head.len());
        if room > 0 {
            let n = room.min(chunk.len());
            self.head.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
        }
        if chunk.len() >= self.tail_cap {
            self.dropped_bytes += (self.tail.len() + chunk.len() - self.tail_cap) as u64;
            self.tail.clear();
            self.tail.extend(&chunk[chunk.len() - self.tail_cap..]);
            return;
        }
        let overflow = (self.tail.len() + chunk.len()).saturating_sub(self.tail_cap);
        if overflow > 0 {
            self.tail.drain(..overflow);
            self.dropped_bytes += overflow as u64;
        }
        self.tail.extend(chunk);
    }

    /// The kept text, decoded lossily (generated tokens may split UTF-8
    /// sequences), with a marker where bytes were dropped.
    pub fn text(&self) -> String {
        let mut bytes = self.head.clone();
        if self.dropped_bytes > 0 {
            let marker = format!("\n[tokbench: {} bytes not kept]\n", self.dropped_bytes);
            bytes.extend_from_slice(marker.as_bytes());
        }
        bytes.extend(self.tail.iter());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The last `n` lines of the kept text (for error messages).
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let text = self.text();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// Reads `reader` to its end into a [`Capture`], copying every byte to `log`.
pub fn drain(mut reader: impl Read, mut log: Option<Box<dyn Write + Send>>) -> Capture {
    let mut cap = Capture::new(HEAD_CAP, TAIL_CAP);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                cap.push(&buf[..n]);
                if let Some(w) = log.as_mut() {
                    if let Err(e) = w.write_all(&buf[..n]) {
                        cap.log_error.get_or_insert_with(|| e.to_string());
                        log = None;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if let Some(mut w) = log {
        if let Err(e) = w.flush() {
            cap.log_error.get_or_insert_with(|| e.to_string());
        }
    }
    cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_and_counts_the_rest() {
        let mut c = Capture::new(4, 6);
        c.push(b"abcdefgh");
        c.push(b"ijklmnop");
        assert_eq!(c.total_bytes, 16);
        assert_eq!(c.dropped_bytes, 6);
        assert_eq!(c.text(), "abcd\n[tokbench: 6 bytes not kept]\nklmnop");
    }

    #[test]
    fn small_streams_are_kept_whole() {
        let mut c = Capture::new(4, 6);
        c.push(b"ab");
        c.push(b"cdef");
        assert_eq!(c.text(), "abcdef");
        assert_eq!(c.dropped_bytes, 0);
    }

    #[test]
    fn last_lines_skips_blank_lines() {
        let mut c = Capture::new(100, 100);
        c.push(b"one\ntwo\n\nthree\n\n");
        assert_eq!(c.last_lines(2), vec!["two", "three"]);
    }

    #[test]
    fn a_chunk_larger_than_the_tail_keeps_its_end() {
        let mut c = Capture::new(0, 3);
        c.push(b"xy");
        c.push(b"abcdefg");
        assert_eq!(c.text(), "\n[tokbench: 6 bytes not kept]\nefg");
    }
}
