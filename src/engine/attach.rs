//! Joins a run's sampling to its record: the generation window from the
//! log, the per-run figures, the timeline, and one warning per source that
//! failed mid-run. Sources that were not available at all are said once
//! per session (by the plan), and in each record's `sampled.missing`.

use crate::model::RunRecord;
use crate::sample::{summarize, RunFacts, SamplerConfig, Sampling, SourceState, Window};

/// Fills `record.sampled` and `record.timeline`. `w` is the generation
/// window the driver placed (from the process's start); `offset_ms` is how
/// long after the process's start the timeline's 0 ms lies.
pub fn attach(
    record: &mut RunRecord,
    sampling: Sampling,
    cfg: &SamplerConfig,
    w: Window,
    offset_ms: f64,
) {
    let t = record.timings.as_ref();
    let window = Window {
        start_ms: w.start_ms - offset_ms,
        end_ms: w.end_ms - offset_ms,
        ..w
    };
    let facts = RunFacts {
        eval_tokens: t.and_then(|t| t.eval_tokens),
        eval_tps: t.and_then(|t| t.eval_tps).and_then(|n| n.finite()),
        // The bytes a decode step reads: the tensors, not the header and vocabulary.
        model_bytes: record
            .model
            .gguf
            .as_ref()
            .and_then(|g| g.tensor_bytes)
            .filter(|b| *b > 0)
            .unwrap_or(record.model.size_bytes),
        peak_bandwidth: cfg.peak_bandwidth.clone(),
    };
    let figures = summarize(&sampling, window, &facts);
    for s in &sampling.sources {
        match (s.state, &s.detail) {
            (SourceState::Failed | SourceState::NoSamples, _) => {
                record.warnings.push(s.to_string())
            }
            (SourceState::Ok, Some(note)) => record.warnings.push(format!("{}: {note}", s.source)),
            _ => {}
        }
    }
    record.sampled = Some(figures);
    record.timeline = sampling.samples;
}
