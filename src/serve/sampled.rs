//! The samplers (`--sampler`: nvidia-smi, proc, ...) on the llama-server
//! process tokbench started, over one block: started before the block's
//! first request, stopped after its last, summarised over that whole span
//! (there is no generation window to cut out: the load is the window).
//! A server tokbench did not start has no process to watch; nvidia-smi
//! reads the whole GPU, so it would still say something, but a figure that
//! may include another process's work is not attached to a block.

use crate::sample::{summarize, RunFacts, SampledFigures, SamplerConfig, Session, SourceState};
use crate::sample::{Sample, Window, WindowKind};

/// Sampling of one block.
pub struct BlockSampling {
    session: Session,
    started: std::time::Instant,
}

/// Starts the samplers on `pid`, if any are configured.
pub fn start(cfg: &SamplerConfig, pid: u32) -> Option<BlockSampling> {
    Session::start(cfg, pid).map(|session| BlockSampling {
        session,
        started: std::time::Instant::now(),
    })
}

impl BlockSampling {
    /// Stops and summarises; `warnings` gets one line per source that
    /// failed. Also gives the block's timeline (every sample, in ms since
    /// the samplers started, as a run record keeps its own).
    pub fn finish(
        self,
        cfg: &SamplerConfig,
        facts: &RunFacts,
        warnings: &mut Vec<String>,
    ) -> (SampledFigures, Vec<Sample>) {
        let offset_ms = self
            .started
            .saturating_duration_since(self.session.t0())
            .as_secs_f64()
            * 1000.0;
        let end_ms = self.session.t0().elapsed().as_secs_f64() * 1000.0;
        let sampling = self.session.stop();
        for s in &sampling.sources {
            if matches!(s.state, SourceState::Failed | SourceState::NoSamples) {
                warnings.push(s.to_string());
            }
        }
        let window = Window {
            kind: WindowKind::WholeRun,
            start_ms: offset_ms,
            end_ms,
            basis: "the block's load".to_string(),
        };
        let mut f = summarize(&sampling, window, facts);
        f.peak_bandwidth = f.peak_bandwidth.or(cfg.peak_bandwidth.clone());
        (f, sampling.samples)
    }
}
