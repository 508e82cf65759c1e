//! The cells of a `tokbench serve` session, as the session engine runs
//! them: each cell is one target (the llama-server driver's
//! [`Target`]), its service the started or reached server, each step one
//! block of load against it. One cell for a one-server run (its server up
//! for the session); two for A/B (each side's server up for one block
//! only). The engine's sinks here: `-o` gets each block's summary before
//! the next block starts (its request records went there as they ended),
//! and an A/B session prints a line per block.

use std::cell::RefCell;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::serve_plan::{load_at, server_log, Plan};
use crate::cli::ServeArgs;
use crate::driver::server::{self, BlockPlan, Reach, Running, Target};
use crate::driver::Service;
use crate::engine::record::Planned;
use crate::engine::sink::Sink;
use crate::engine::{Finished, Lifetime, Work};
use crate::serve::block::BlockSpec;
use crate::serve::output::RecordWriter;
use crate::serve::prompts::PromptSpec;
use crate::serve::request::RequestRecord;
use crate::serve::schedule::Load;
use crate::serve::summary::BlockSummary;
use crate::serve::tls::TlsOptions;

impl Finished for BlockSummary {
    fn seq(&self) -> u32 {
        self.block as u32
    }
    fn failed(&self) -> bool {
        server::all_failed(self)
    }
    fn interrupted(&self) -> bool {
        self.interrupted
    }
    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// A record of one side of an A/B session: the record with its `side`.
#[derive(serde::Serialize)]
struct Sided<'a, T> {
    side: &'static str,
    #[serde(flatten)]
    record: &'a T,
}

/// The serve session's cells: targets, the load of every block, `-o`.
pub(super) struct Cells<'a> {
    args: &'a ServeArgs,
    plan: &'a Plan,
    targets: Vec<(Target, Option<&'static str>)>,
    lifetime: Lifetime,
    writer: Option<&'a RefCell<RecordWriter>>,
    /// The load of a block the engine schedules (a sweep gives its own).
    load: Load,
    /// Blocks started so far: the next block's index.
    blocks: usize,
}

impl<'a> Cells<'a> {
    pub(super) fn new(
        args: &'a ServeArgs,
        plan: &'a Plan,
        targets: Vec<(Target, Option<&'static str>)>,
        lifetime: Lifetime,
        writer: Option<&'a RefCell<RecordWriter>>,
    ) -> Cells<'a> {
        let load = load_at(args, plan, None, args.rate.is_none());
        Cells {
            args,
            plan,
            targets,
            lifetime,
            writer,
            load,
            blocks: 0,
        }
    }

    pub(super) fn describe(&self, cell: usize) -> String {
        self.targets[cell].0.describe()
    }

    /// The server log of the cell's next start: one per block and side in
    /// an A/B session, beside the one-server log.
    fn log(&self, cell: usize) -> PathBuf {
        match self.targets[cell].1 {
            Some(side) => {
                server_log(self.args).with_extension(format!("{side}{}.log", self.blocks))
            }
            None => server_log(self.args),
        }
    }

    /// Starts the cell's target and waits until it is ready (a sweep,
    /// which runs its blocks itself).
    pub(super) fn bring_up(&mut self, cell: usize) -> Result<Running> {
        let mut at = self.start_target(cell)?;
        at.ready()
            .with_context(|| format!("{} did not become ready", self.name(cell)))?;
        Ok(at)
    }

    fn start_target(&self, cell: usize) -> Result<Running> {
        let reach = Reach {
            headers: self.args.headers.clone(),
            tls: TlsOptions {
                cacert: self.args.cacert.clone(),
                insecure: self.args.insecure,
            },
            ready_timeout: self.args.ready_timeout,
            api: self.plan.api,
        };
        server::start(&self.targets[cell].0, &reach, &self.log(cell))
            .with_context(|| self.name(cell))
    }

    /// One block of `load` against `at`, seeded with `seed`; its request
    /// records go to `-o` as they end (the summary is the caller's).
    pub(super) fn block(
        &mut self,
        at: &mut Running,
        load: Load,
        seed: u64,
        side: Option<&'static str>,
    ) -> Result<BlockSummary> {
        let spec = BlockSpec {
            index: self.blocks,
            api: self.plan.api,
            load,
            extent: self.plan.extent,
            warmup: self.args.warmup as usize,
            max_tokens: self.args.max_tokens,
            prompts: PromptSpec {
                seed,
                ..self.plan.prompts.clone()
            },
            seed,
            model: None,
            request_timeout: self.args.request_timeout,
        };
        self.blocks += 1;
        let plan = BlockPlan {
            sampler: &self.plan.sampler,
            slo: &self.plan.targets,
            label: self.args.label.as_deref(),
            side,
        };
        let writer = self.writer;
        let mut sink = |r: &RequestRecord| match (writer, side) {
            (Some(w), Some(side)) => w.borrow().send(&Sided { side, record: r }),
            (Some(w), None) => w.borrow().send(r),
            _ => {}
        };
        let s = server::block(at, spec, &plan, &mut sink);
        if let Some(w) = self.writer {
            w.borrow_mut().check()?;
        }
        s
    }
}

impl Work for Cells<'_> {
    type Record = BlockSummary;
    type Service = Running;

    fn lifetime(&self, _cell: usize) -> Lifetime {
        self.lifetime
    }
    fn side(&self, cell: usize) -> Option<&'static str> {
        self.targets[cell].1
    }
    fn name(&self, cell: usize) -> String {
        match self.targets[cell].1 {
            Some(side) => format!("side {} (block {})", side.to_uppercase(), self.blocks),
            None => format!("'{}'", self.describe(cell)),
        }
    }
    fn start(&mut self, cell: usize) -> Result<Option<Running>> {
        self.start_target(cell).map(Some)
    }
    fn step(
        &mut self,
        cell: usize,
        _run: Planned,
        service: Option<&mut Running>,
    ) -> Result<BlockSummary> {
        let at = service.context("a serve cell's target was not started")?;
        let (load, seed) = (self.load, self.args.seed);
        self.block(at, load, seed, self.targets[cell].1)
    }
}

/// `-o`: each block's summary, after its request records.
pub(super) struct BlockFile<'a>(pub(super) &'a RefCell<RecordWriter>);

impl Sink<BlockSummary> for BlockFile<'_> {
    fn finished(&mut self, s: &BlockSummary) -> Result<()> {
        self.0.borrow().send(s);
        self.0.borrow_mut().check()
    }
}

/// A/B: one line per finished block with the judged figure.
pub(super) struct BlockLine<'a> {
    pub(super) metric: &'a str,
}

impl Sink<BlockSummary> for BlockLine<'_> {
    fn finished(&mut self, s: &BlockSummary) -> Result<()> {
        crate::say!(
            "tokbench: block {} ({}): {} = {}",
            s.block,
            s.side.unwrap_or("-").to_uppercase(),
            self.metric,
            crate::serve::render::num(crate::serve::ab::value(s, self.metric))
        );
        Ok(())
    }
}

/// The error of a session that stopped on a block in which every request failed.
pub(super) fn failed_block(records: &[BlockSummary]) -> anyhow::Error {
    let text = records
        .last()
        .and_then(|s| s.warnings.iter().find(|w| w.starts_with("every request")))
        .cloned()
        .unwrap_or_else(|| "a block failed".to_string());
    match records.last() {
        Some(BlockSummary {
            side: Some(side),
            block,
            ..
        }) => {
            anyhow::anyhow!(text).context(format!("side {} (block {block})", side.to_uppercase()))
        }
        _ => anyhow::anyhow!(text),
    }
}
