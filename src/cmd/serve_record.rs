//! A finished `tokbench serve` session into the history (`serve_sessions`):
//! its servers, load, a one-line headline and its summary record. Skipped
//! with `--no-history`; a database that cannot be written is a warning
//! unless it was named (`--db`, `TOKBENCH_DB`), as for runs.

use anyhow::Result;

use crate::cli::ServeArgs;
use crate::serve::ab::AbSummary;
use crate::serve::render::num;
use crate::serve::summary::{BlockSummary, SweepSummary};
use crate::serve::{ab_render, stored};
use crate::store::db::DbChoice;
use crate::store::serve_history::ServeSession;

fn server_of(b: &BlockSummary) -> String {
    match &b.server.argv {
        Some(argv) => {
            let words: Vec<&str> = argv.iter().map(String::as_str).collect();
            stored::without_port(&words)
        }
        None => b.server.url.clone(),
    }
}

fn base(
    args: &ServeArgs,
    mode: &str,
    blocks: &[BlockSummary],
    summary: serde_json::Value,
) -> ServeSession {
    ServeSession {
        id: 0,
        started_at: blocks
            .first()
            .map(|b| b.started_at.clone())
            .unwrap_or_default(),
        mode: mode.to_string(),
        label: args.label.clone(),
        servers: blocks.first().map(server_of).into_iter().collect(),
        load: blocks
            .first()
            .map(|b| b.load.description.clone())
            .unwrap_or_default(),
        blocks: blocks.len() as u64,
        interrupted: blocks.iter().any(|b| b.interrupted),
        headline: String::new(),
        output: args.output.as_ref().map(|p| p.display().to_string()),
        summary,
    }
}

/// A one-block session.
pub fn of_block(args: &ServeArgs, b: &BlockSummary) -> ServeSession {
    let f = &b.figures;
    let overload = f.overload.as_ref().is_some_and(|o| o.overloaded);
    ServeSession {
        headline: format!(
            "ITL p50 {} ms, TTFT p50 {} ms, {} tok/s, {} req/s{}",
            num(f.itl_ms.p50),
            num(f.ttft_ms.p50),
            num(f.throughput.output_tps),
            num(f.throughput.achieved_rps),
            if overload { ", overload" } else { "" }
        ),
        ..base(
            args,
            "block",
            std::slice::from_ref(b),
            serde_json::to_value(b).unwrap_or_default(),
        )
    }
}

/// A sweep.
pub fn of_sweep(args: &ServeArgs, s: &SweepSummary, blocks: &[BlockSummary]) -> ServeSession {
    let slo = match (s.slo.is_empty(), s.slo_max) {
        (true, _) => String::new(),
        (false, r) => format!("; highest {} meeting --slo: {}", s.axis, num(r)),
    };
    ServeSession {
        headline: format!("knee at {} {}{slo}", s.axis, num(s.knee)),
        ..base(
            args,
            "sweep",
            blocks,
            serde_json::to_value(s).unwrap_or_default(),
        )
    }
}

/// An A/B session: its headline is the judged figure's verdict.
pub fn of_ab(args: &ServeArgs, s: &AbSummary, blocks: &[BlockSummary]) -> ServeSession {
    let headline = s.verdicts.first().map_or(String::new(), |v| {
        format!(
            "{}: {} {}",
            v.metric,
            ab_render::verdict_text(v.verdict),
            ab_render::change(v)
        )
    });
    ServeSession {
        servers: vec![format!("A: {}", s.a), format!("B: {}", s.b)],
        headline,
        ..base(
            args,
            "ab",
            blocks,
            serde_json::to_value(s).unwrap_or_default(),
        )
    }
}

/// Stores the session, unless the history is off.
pub fn record(db: &DbChoice, session: &ServeSession) -> Result<()> {
    if db.disabled {
        return Ok(());
    }
    let stored = db.open().and_then(|mut h| Ok(h.record_serve(session)?));
    match stored {
        Ok(_) => Ok(()),
        Err(e) if db.explicit => Err(e.context("cannot record the serve session in the history")),
        Err(e) => {
            crate::say!("warning: could not record the serve session in the history: {e:#}");
            Ok(())
        }
    }
}
