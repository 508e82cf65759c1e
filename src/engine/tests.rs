//! The engine's loop over recorded outputs (no process is started).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::schedule::{Abba, Sequential};
use super::sink::{Sink, Starting};
use super::test_support::{bin, cell, fixture};
use super::*;
use crate::driver::probe::ToolKind;
use crate::driver::{Invocation, Output, Request};
use crate::runner::executor::{Recorded, Replay};
use crate::runner::process::Ending;

fn completion_ok() -> Recorded {
    Recorded::ok("", &fixture("llama/2026_completion_cpu_stderr.txt"), 500)
}

/// Logs what reaches it, to check the order of events.
#[derive(Default)]
struct Log(Vec<String>);

impl Sink for Log {
    fn starting(&mut self, s: &Starting<'_>) {
        self.0.push(format!("start {}", s.index));
    }
    fn finished(&mut self, r: &RunRecord) -> anyhow::Result<()> {
        self.0.push(format!("done {} {}", r.seq, r.status));
        Ok(())
    }
    fn close(&mut self) {
        self.0.push("close".into());
    }
}

fn settings() -> Settings {
    Settings {
        timeout: Duration::from_secs(5),
        ..Settings::default()
    }
}

/// One cell's runs in order, with the default settings and no sink.
fn run_alone(c: &Cell, exec: &Replay) -> Result<Outcome> {
    let mut sched = Sequential::of_cell(0, &c.processes);
    run(
        std::slice::from_ref(c),
        &settings(),
        &mut sched,
        exec,
        &mut [],
    )
}

#[test]
fn run_is_one_cell_of_warmups_then_counted_runs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(
        bin(dir.path(), "llama-completion"),
        ToolKind::Completion,
        vec![true, false, false],
    );
    let exec = Replay::new([completion_ok(), completion_ok(), completion_ok()]);
    let mut sched = Sequential::of_cell(0, &c.processes);
    let mut log = Log::default();
    let out = run(
        std::slice::from_ref(&c),
        &settings(),
        &mut sched,
        &exec,
        &mut [&mut log],
    )
    .unwrap();
    assert_eq!(out.stop, Stop::Completed);
    let seen: Vec<(u32, bool)> = out.records.iter().map(|r| (r.seq, r.warmup)).collect();
    assert_eq!(seen, [(0, true), (1, false), (2, false)]);
    assert!(out
        .records
        .iter()
        .all(|r| r.status == "ok" && r.timings.is_some()));
    assert_eq!(exec.calls()[0], c.full_argv());
    assert_eq!(out.records[0].argv, c.full_argv());
}

#[test]
fn every_run_reaches_every_sink_before_the_next_starts() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(
        bin(dir.path(), "b"),
        ToolKind::Completion,
        vec![false, false],
    );
    let exec = Replay::new([completion_ok(), completion_ok()]);
    let (mut first, mut second) = (Log::default(), Log::default());
    let mut sched = Sequential::of_cell(0, &c.processes);
    run(
        &[c],
        &settings(),
        &mut sched,
        &exec,
        &mut [&mut first, &mut second],
    )
    .unwrap();
    let expected = ["start 0", "done 0 ok", "start 1", "done 1 ok", "close"];
    assert_eq!(first.0, expected);
    assert_eq!(second.0, expected);
}

#[test]
fn a_failed_run_stops_the_session_unless_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(
        bin(dir.path(), "b"),
        ToolKind::Completion,
        vec![false, false, false],
    );
    let crash = || Recorded::ok("", "GGML_ASSERT(x) failed\n", 10).ending(Ending::Signaled(6));
    let exec = Replay::new([completion_ok(), crash(), completion_ok()]);
    let out = run_alone(&c, &exec).unwrap();
    assert_eq!(out.stop, Stop::FailedRun);
    assert_eq!(out.records.len(), 2);
    let err = out.records[1].error.as_deref().unwrap();
    assert!(
        err.starts_with("run 1 of '") && err.contains("killed by SIGABRT (6)"),
        "{err}"
    );
    assert!(err.contains("cause: GGML_ASSERT(x) failed"), "{err}");

    let sigill = Recorded::ok("", "", 10).ending(Ending::Signaled(nix::libc::SIGILL));
    let exec = Replay::new([sigill]);
    let out = run_alone(&c, &exec).unwrap();
    let err = out.records[0].error.as_deref().unwrap();
    assert!(
        err.contains("killed by SIGILL (4)\nhint: the binary used a CPU instruction"),
        "{err}"
    );
    assert!(err.contains("-DGGML_NATIVE=OFF"), "{err}");

    let exec = Replay::new([completion_ok(), crash(), completion_ok()]);
    let keep = Settings {
        keep_going: true,
        ..settings()
    };
    let mut sched = Sequential::of_cell(0, &c.processes);
    let out = run(&[c], &keep, &mut sched, &exec, &mut []).unwrap();
    assert_eq!(out.stop, Stop::Completed);
    assert_eq!(out.records.len(), 3);
}

#[test]
fn exit_0_without_results_fails_with_the_drivers_words() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(bin(dir.path(), "llama-bench"), ToolKind::Bench, vec![false]);
    let exec = Replay::new([Recorded::ok("nothing here\n", "", 10)]);
    let out = run_alone(&c, &exec).unwrap();
    let err = out.records[0].error.as_deref().unwrap();
    assert!(
        err.contains("exited 0 but printed no llama-bench results on stdout"),
        "{err}"
    );
}

#[test]
fn warnings_are_collected_with_their_cell_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = cell(bin(dir.path(), "a"), ToolKind::Completion, vec![false]);
    let mut b = cell(bin(dir.path(), "b"), ToolKind::Completion, vec![false]);
    (a.side, b.side) = (Some("a"), Some("b"));
    let no_eval = "llama_perf_context_print:        load time =     100.00 ms\nllama_perf_context_print: prompt eval time =      50.00 ms /    10 tokens (    5.00 ms per token,   200.00 tokens per second)\n";
    let exec = Replay::new([
        completion_ok(),
        completion_ok(),
        completion_ok(),
        Recorded::ok("", no_eval, 10),
    ]);
    let mut sched: Abba<()> = Abba::fixed(0, 2, None);
    let out = run(&[a, b], &settings(), &mut sched, &exec, &mut []).unwrap();
    let sides: Vec<&str> = out
        .records
        .iter()
        .map(|r| r.side.as_deref().unwrap())
        .collect();
    assert_eq!(sides, ["a", "b", "b", "a"]);
    let w: Vec<(usize, Option<u32>)> = out.warnings.iter().map(|w| (w.cell, w.seq)).collect();
    assert_eq!(w, [(0, Some(3))]);
    assert!(
        out.warnings[0].text.contains("no eval (generation) line"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn a_binary_that_cannot_start_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(bin(dir.path(), "b"), ToolKind::Completion, vec![false]);
    let exec = Replay::new([]);
    let mut sched = Sequential::of_cell(0, &c.processes);
    let mut log = Log::default();
    let e = run(&[c], &settings(), &mut sched, &exec, &mut [&mut log]).unwrap_err();
    assert!(e.to_string().contains("cannot start"), "{e}");
    assert_eq!(
        log.0,
        ["start 0", "close"],
        "sinks are closed on the way out"
    );
}

static STARTED: AtomicUsize = AtomicUsize::new(0);
static READY: AtomicUsize = AtomicUsize::new(0);
static STOPPED: AtomicUsize = AtomicUsize::new(0);

/// A long-lived tool: started once, then each run is a block of load.
#[derive(Debug)]
struct Server;

struct Running;

impl crate::driver::Service for Running {
    fn ready(&mut self) -> anyhow::Result<()> {
        READY.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn stop(&mut self) {
        STOPPED.fetch_add(1, Ordering::SeqCst);
    }
}

impl crate::driver::Driver for Server {
    fn tool(&self) -> &'static str {
        "server"
    }
    fn claims(&self, _: &crate::driver::probe::Probe) -> bool {
        false
    }
    fn invocation(
        &self,
        _: &Request<'_>,
        _: &crate::driver::probe::Probe,
    ) -> anyhow::Result<Invocation> {
        Ok(Invocation::default())
    }
    fn read(&self, _: Output<'_>, _: &mut RunRecord, _: &mut Vec<String>) -> bool {
        true
    }
    fn nothing_read(&self) -> &'static str {
        "served nothing"
    }
    fn start(
        &self,
        _: &Path,
        _: &[String],
    ) -> anyhow::Result<Option<Box<dyn crate::driver::Service>>> {
        STARTED.fetch_add(1, Ordering::SeqCst);
        Ok(Some(Box::new(Running)))
    }
}

#[test]
fn a_long_lived_driver_is_started_once_ready_and_stopped_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cell(
        bin(dir.path(), "llama-server"),
        ToolKind::Completion,
        vec![false, false, false],
    );
    c.driver = &Server;
    let exec = Replay::new([
        Recorded::ok("", "", 1),
        Recorded::ok("", "", 1),
        Recorded::ok("", "", 1),
    ]);
    let out = run_alone(&c, &exec).unwrap();
    assert_eq!(out.records.len(), 3);
    let counts = [&STARTED, &READY, &STOPPED].map(|a| a.load(Ordering::SeqCst));
    assert_eq!(counts, [1, 1, 1]);
}

#[test]
fn offload_check_names_the_backend_and_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cell(bin(dir.path(), "b"), ToolKind::Completion, vec![false]);
    let cpu = BuildInfo {
        backend: Some("CPU".into()),
        ..Default::default()
    };
    assert_eq!(c.offload_warning(&cpu), None, "nothing asked, nothing said");
    c.offload_to = Some("CUDA");
    assert_eq!(
        c.offload_warning(&cpu).as_deref(),
        Some("--gpu cuda was asked for but the build reports backend 'CPU': nothing was offloaded to a CUDA device")
    );
    let cuda = BuildInfo {
        backend: Some("CUDA".into()),
        ..Default::default()
    };
    assert_eq!(c.offload_warning(&cuda), None);
}

/// test-backend-ops exits 1 when one case failed to allocate; the cases it
/// printed are kept with a warning. Exit 1 with nothing read
/// fails the round and stops the session.
#[test]
fn an_ops_round_that_exits_1_keeps_its_cases_and_one_with_nothing_read_stops_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(
        bin(dir.path(), "test-backend-ops"),
        ToolKind::BackendOps,
        vec![false, false, false],
    );
    let sql = fixture("test-backend-ops/cpu_0c1e570_add.sql");
    let exec = Replay::new([
        Recorded::ok(&sql, "", 100).ending(Ending::Exited(1)),
        Recorded::ok("", "", 100).ending(Ending::Exited(1)),
        Recorded::ok(&sql, "", 100),
    ]);
    let out = run_alone(&c, &exec).unwrap();
    assert_eq!(out.stop, Stop::FailedRun);
    assert_eq!(out.records.len(), 2);
    let kept = &out.records[0];
    assert_eq!((kept.status.as_str(), kept.ops.len()), ("ok", 2));
    assert_eq!(
        kept.warnings,
        ["exited 1 (a case failed to allocate or compute); the results it printed are kept"]
    );
    assert_eq!(out.records[1].status, "failed");
    assert!(out.records[1]
        .error
        .as_deref()
        .unwrap()
        .contains("exited with code 1"));
}

/// A block of load, as a long-lived cell's step gives it.
#[derive(Debug)]
struct Block {
    seq: u32,
    cell: usize,
    cut: bool,
    warnings: Vec<String>,
}

impl Finished for Block {
    fn seq(&self) -> u32 {
        self.seq
    }
    fn failed(&self) -> bool {
        false
    }
    fn interrupted(&self) -> bool {
        self.cut
    }
    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

type Events = std::rc::Rc<std::cell::RefCell<Vec<String>>>;

/// A mock server: start, ready and stop are logged with its cell.
struct Mock {
    cell: usize,
    log: Events,
}

impl crate::driver::Service for Mock {
    fn ready(&mut self) -> anyhow::Result<()> {
        self.log.borrow_mut().push(format!("ready {}", self.cell));
        Ok(())
    }
    fn stop(&mut self) {
        self.log.borrow_mut().push(format!("stop {}", self.cell));
    }
}

/// Two long-lived cells; the step at `cut_at` is cut off by Ctrl-C.
struct Servers {
    lifetime: Lifetime,
    log: Events,
    cut_at: Option<u32>,
}

impl Work for Servers {
    type Record = Block;
    type Service = Mock;
    fn lifetime(&self, _: usize) -> Lifetime {
        self.lifetime
    }
    fn side(&self, cell: usize) -> Option<&'static str> {
        Some(["a", "b"][cell])
    }
    fn name(&self, cell: usize) -> String {
        format!("server {cell}")
    }
    fn start(&mut self, cell: usize) -> anyhow::Result<Option<Mock>> {
        self.log.borrow_mut().push(format!("start {cell}"));
        Ok(Some(Mock {
            cell,
            log: self.log.clone(),
        }))
    }
    fn step(
        &mut self,
        cell: usize,
        run: record::Planned,
        service: Option<&mut Mock>,
    ) -> anyhow::Result<Block> {
        assert_eq!(service.map(|s| s.cell), Some(cell), "the cell's own server");
        self.log.borrow_mut().push(format!("block {cell}"));
        Ok(Block {
            seq: run.seq,
            cell,
            cut: self.cut_at == Some(run.seq),
            warnings: vec![format!("w{}", run.seq)],
        })
    }
}

/// Sinks see each block before the next block's server starts.
struct BlockLog(Events);

impl Sink<Block> for BlockLog {
    fn finished(&mut self, b: &Block) -> anyhow::Result<()> {
        self.0.borrow_mut().push(format!("sink {}", b.seq));
        Ok(())
    }
    fn close(&mut self) {
        self.0.borrow_mut().push("close".into());
    }
}

fn serve_session(lifetime: Lifetime, cut_at: Option<u32>) -> (Outcome<Block>, Vec<String>) {
    let log = Events::default();
    let mut work = Servers {
        lifetime,
        log: log.clone(),
        cut_at,
    };
    let mut sched: Abba<(), Block> = Abba::fixed(0, 2, None);
    let mut sink = BlockLog(log.clone());
    let out = session(&mut work, &settings(), 2, &mut sched, &mut [&mut sink]).unwrap();
    let events = log.borrow().clone();
    (out, events)
}

#[test]
fn a_per_block_service_is_stopped_before_the_other_cells_starts() {
    let (out, events) = serve_session(Lifetime::Block, None);
    assert_eq!(out.stop, Stop::Completed);
    let cells: Vec<usize> = out.records.iter().map(|b| b.cell).collect();
    assert_eq!(cells, [0, 1, 1, 0], "ABBA");
    let each = |c: usize, seq: u32| {
        [
            format!("start {c}"),
            format!("ready {c}"),
            format!("block {c}"),
            format!("sink {seq}"),
            format!("stop {c}"),
        ]
    };
    let mut want: Vec<String> = [(0, 0), (1, 1), (1, 2), (0, 3)]
        .iter()
        .flat_map(|&(c, s)| each(c, s))
        .collect();
    want.push("close".into());
    assert_eq!(events, want);
    let w: Vec<(usize, Option<u32>, &str)> = out
        .warnings
        .iter()
        .map(|w| (w.cell, w.seq, w.text.as_str()))
        .collect();
    assert_eq!(
        w,
        [
            (0, Some(0), "w0"),
            (1, Some(1), "w1"),
            (1, Some(2), "w2"),
            (0, Some(3), "w3")
        ]
    );
}

#[test]
fn a_per_session_service_starts_once_per_cell_and_stops_at_the_end() {
    let (out, events) = serve_session(Lifetime::Session, None);
    assert_eq!(out.records.len(), 4);
    let starts = events.iter().filter(|e| e.starts_with("start")).count();
    let stops: Vec<&String> = events.iter().filter(|e| e.starts_with("stop")).collect();
    assert_eq!((starts, stops.len()), (2, 2));
    let last_sink = events.iter().rposition(|e| e == "sink 3").unwrap();
    let first_stop = events.iter().position(|e| e.starts_with("stop")).unwrap();
    assert!(first_stop > last_sink, "{events:?}");
}

#[test]
fn a_block_cut_off_by_ctrl_c_is_kept_its_server_stopped_and_the_session_ends() {
    let (out, events) = serve_session(Lifetime::Block, Some(1));
    assert!(matches!(out.stop, Stop::Interrupted(_)), "{:?}", out.stop);
    assert_eq!(out.records.len(), 2, "the cut block is kept");
    assert_eq!(
        &events[events.len() - 3..],
        ["sink 1", "stop 1", "close"],
        "its server is stopped, nothing more starts"
    );
}
