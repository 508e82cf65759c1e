//! `tokbench build`: llama.cpp commits built in tokbench's cache, each in a
//! git worktree and CMake build directory of its own, so that the user's
//! checkout is never touched and a build that exists is reused at once.
//!
//! The flow for one revision: resolve it ([`git`]), key the build by
//! commit, uncommitted changes, backend, CMake arguments and compiler
//! ([`cache`]), take the build's lock ([`lock`]), reuse it or make the
//! worktree, configure, pick the targets this commit has ([`targets`]) and
//! build only those ([`cmake`]). [`command`] is the CLI glue.

pub mod cache;

/// The backend a build is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuildBackend {
    /// Metal on macOS, CUDA when nvcc is found, else CPU
    Auto,
    Cpu,
    Metal,
    Cuda,
}

pub mod cmake;
pub mod git;
pub mod lock;
pub mod prune;
pub mod targets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::model::SourceInfo;
use cache::BuildMeta;
use git::GitError;

/// The revision word for the checkout as it is, uncommitted changes included.
pub const WORKTREE: &str = "WORKTREE";

/// One build asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The user's checkout (any directory inside it).
    pub src: PathBuf,
    pub rev: String,
    /// Tools by their current names (`llama-completion`, `llama-bench`, ...).
    pub tools: Vec<String>,
    pub backend: BuildBackend,
    pub cmake_args: Vec<String>,
    pub jobs: Option<u32>,
    pub cache: PathBuf,
    /// Show the CMake percentage on one updating line (a terminal).
    pub live_progress: bool,
    /// The cmake program (`cmake`: found on PATH).
    pub cmake: PathBuf,
}

/// A build ready to run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Built {
    pub rev: String,
    pub key: String,
    pub source: SourceInfo,
    pub bin_dir: PathBuf,
    pub build_dir: PathBuf,
    pub worktree: PathBuf,
    /// Tool asked for -> its executable at this commit.
    pub tools: BTreeMap<String, PathBuf>,
    /// Found complete in the cache: nothing was built.
    pub reused: bool,
    /// This call's wall time (lock wait included).
    pub seconds: f64,
    pub log: PathBuf,
}

/// Why a build could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{what} '{}': {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{step} {what} failed ({status}); last lines of the log:\n{tail}\nfull log: {}", log.display())]
    Step {
        step: &'static str,
        /// `REV (short hash)`.
        what: String,
        status: String,
        tail: String,
        log: PathBuf,
    },
    #[error("{what} has no target for {}: its build offers {offered}; pass --tool with one of those", missing.join(", "))]
    NoTarget {
        /// `REV (short hash)`.
        what: String,
        missing: Vec<String>,
        offered: String,
    },
    #[error("the build of {what} finished but '{}' is missing; see the log: {}", path.display(), log.display())]
    Missing {
        /// `REV (short hash)`.
        what: String,
        path: PathBuf,
        log: PathBuf,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io { what, path, source }
}

/// The revision resolved: its commit and, for `WORKTREE` with changes,
/// the uncommitted state to apply.
struct Resolved {
    top: PathBuf,
    commit: String,
    uncommitted: Option<git::Uncommitted>,
    subject: String,
    date: String,
}

fn resolve(src: &Path, rev: &str) -> Result<Resolved, GitError> {
    let top = git::toplevel(src)?;
    let (commit, uncommitted) = if rev == WORKTREE {
        let state = git::uncommitted(&top)?;
        let head = git::resolve(&top, "HEAD")?;
        (head, Some(state).filter(|s| !s.is_clean()))
    } else {
        (git::resolve(&top, rev)?, None)
    };
    let (subject, date) = git::subject_and_date(&top, &commit)?;
    Ok(Resolved {
        top,
        commit,
        uncommitted,
        subject,
        date,
    })
}

/// Where a request's build lives and what it is keyed by.
struct Plan {
    repo_dir: PathBuf,
    source_key: String,
    key: String,
    source: SourceInfo,
}

fn plan(req: &Request, r: &Resolved) -> Result<Plan, GitError> {
    let common = git::run(
        &r.top,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )?;
    let repo_dir = cache::repo_dir(&req.cache, &r.top, Path::new(&common));
    let backend = cmake::resolve_backend(req.backend);
    let cmake_args = cmake::configure_args(backend, &req.cmake_args);
    let compiler = cmake::compiler_identity(backend);
    let dirty_key = r.uncommitted.as_ref().map(|u| u.key.clone());
    let source_key = cache::source_key(&r.commit, dirty_key.as_deref());
    let backend_name = cmake::backend_name(backend);
    let key = cache::build_key(&source_key, backend_name, &cmake_args, &compiler);
    let source = SourceInfo {
        repo: r.top.display().to_string(),
        commit: r.commit.clone(),
        subject: r.subject.clone(),
        date: r.date.clone(),
        dirty: dirty_key.is_some(),
        dirty_key,
        backend: backend_name.to_string(),
        cmake_args,
        compiler: Some(compiler),
    };
    Ok(Plan {
        repo_dir,
        source_key,
        key,
        source,
    })
}

/// Builds (or finds) one revision.
pub fn build(req: &Request) -> Result<Built, BuildError> {
    let started = Instant::now();
    let resolved = resolve(&req.src, &req.rev)?;
    let plan = plan(req, &resolved)?;
    let build_dir = plan.repo_dir.join(&plan.key);
    let short = plan.source.commit[..12.min(plan.source.commit.len())].to_string();
    let lock_path = plan.repo_dir.join(format!("{}.lock", plan.key));
    let _lock = lock::acquire(&lock_path, |pid| {
        let who = pid.map_or("another tokbench".to_string(), |p| {
            format!("tokbench (pid {p})")
        });
        crate::say!(
            "tokbench: {who} is building {short} in '{}'; waiting for it",
            build_dir.display()
        );
    })
    .map_err(io_err("cannot lock", &lock_path))?;
    if let Some(meta) = reusable(&build_dir, &req.tools) {
        return finish_reused(req, meta, started);
    }
    let worktree = ensure_worktree(&plan, &resolved)?;
    let meta = make(req, &plan, &worktree, &build_dir, &short)?;
    Ok(built_from(req, meta, false, started))
}

/// The build's metadata when every tool asked for is in it.
fn reusable(build_dir: &Path, tools: &[String]) -> Option<BuildMeta> {
    let meta = BuildMeta::read(build_dir)?;
    let all = tools.iter().all(|t| {
        meta.tools
            .get(t)
            .is_some_and(|target| meta.bin_dir.join(target).is_file())
    });
    all.then_some(meta)
}

fn finish_reused(
    req: &Request,
    mut meta: BuildMeta,
    started: Instant,
) -> Result<Built, BuildError> {
    meta.last_used = now();
    meta.write()
        .map_err(io_err("cannot write", &meta.build_dir))?;
    Ok(built_from(req, meta, true, started))
}

fn built_from(req: &Request, meta: BuildMeta, reused: bool, started: Instant) -> Built {
    let tools = req
        .tools
        .iter()
        .filter_map(|t| Some((t.clone(), meta.bin_dir.join(meta.tools.get(t)?))))
        .collect();
    Built {
        rev: req.rev.clone(),
        key: meta.key.clone(),
        log: meta.build_dir.join(cache::LOG_FILE),
        source: meta.source,
        bin_dir: meta.bin_dir,
        build_dir: meta.build_dir,
        worktree: meta.worktree,
        tools,
        reused,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The worktree for the plan's source, made once (under its own lock, as
/// builds of several configurations share it).
fn ensure_worktree(plan: &Plan, r: &Resolved) -> Result<PathBuf, BuildError> {
    let wt_root = plan.repo_dir.join("wt");
    let wt = wt_root.join(&plan.source_key);
    let ready = wt_root.join(format!("{}.ready", plan.source_key));
    let lock_path = wt_root.join(format!("{}.lock", plan.source_key));
    let _lock = lock::acquire(&lock_path, |_| {}).map_err(io_err("cannot lock", &lock_path))?;
    if ready.is_file() && wt.join(".git").exists() {
        return Ok(wt);
    }
    if wt.exists() {
        // Left half made by an interrupted call: start again.
        git::remove_worktree(&r.top, &wt)?;
        let _ = std::fs::remove_dir_all(&wt);
    }
    git::run(&r.top, &["worktree", "prune"])?;
    git::add_worktree(&r.top, &wt, &r.commit)?;
    if let Some(state) = &r.uncommitted {
        git::apply_uncommitted(&r.top, &wt, state)?;
    }
    std::fs::write(&ready, &r.commit).map_err(io_err("cannot write", &ready))?;
    Ok(wt)
}

/// Configures (once), builds the tools asked for and records the result.
fn make(
    req: &Request,
    plan: &Plan,
    wt: &Path,
    build_dir: &Path,
    short: &str,
) -> Result<BuildMeta, BuildError> {
    std::fs::create_dir_all(build_dir).map_err(io_err("cannot create", build_dir))?;
    warn_if_disk_low(&req.cache);
    let log = build_dir.join(cache::LOG_FILE);
    let started = Instant::now();
    configure(req, plan, wt, build_dir, short)?;
    let tools = pick_targets(req, build_dir, short)?;
    let mut previous = BuildMeta::read(build_dir)
        .map(|m| m.tools)
        .unwrap_or_default();
    compile(req, build_dir, &tools, short, &log)
        .map_err(step_error("building", req, short, &log))?;
    let bin_dir = build_dir.join("bin");
    for target in tools.values() {
        let path = bin_dir.join(target);
        if !path.is_file() {
            return Err(BuildError::Missing {
                what: format!("{} ({short})", req.rev),
                path,
                log: log.clone(),
            });
        }
    }
    previous.extend(tools);
    let meta = BuildMeta {
        key: plan.key.clone(),
        source: plan.source.clone(),
        worktree: wt.to_path_buf(),
        build_dir: build_dir.to_path_buf(),
        bin_dir,
        tools: previous,
        built_at: now(),
        last_used: now(),
        build_seconds: started.elapsed().as_secs_f64(),
    };
    meta.write().map_err(io_err("cannot write", build_dir))?;
    Ok(meta)
}

/// `cmake -S worktree -B build_dir ARGS`, unless it was done.
fn configure(
    req: &Request,
    plan: &Plan,
    wt: &Path,
    build_dir: &Path,
    short: &str,
) -> Result<(), BuildError> {
    if build_dir.join("CMakeCache.txt").is_file() && configured(build_dir) {
        return Ok(());
    }
    crate::say!(
        "tokbench: configuring {} ({short}) in '{}'",
        req.rev,
        build_dir.display()
    );
    let log = build_dir.join(cache::LOG_FILE);
    let mut args: Vec<String> = vec![
        "-S".into(),
        wt.display().to_string(),
        "-B".into(),
        build_dir.display().to_string(),
    ];
    args.extend(plan.source.cmake_args.iter().cloned());
    cmake::run_step(&req.cmake, &args, &log, |_| {}).map_err(step_error(
        "configuring",
        req,
        short,
        &log,
    ))
}

fn step_error(
    step: &'static str,
    req: &Request,
    short: &str,
    log: &Path,
) -> impl FnOnce(cmake::StepFailure) -> BuildError {
    let what = format!("{} ({short})", req.rev);
    let log = log.to_path_buf();
    move |f| BuildError::Step {
        step,
        what,
        status: f.status,
        tail: f.tail,
        log,
    }
}

/// A configure that was interrupted leaves a CMakeCache.txt but no
/// generator files; configure again then.
fn configured(build_dir: &Path) -> bool {
    build_dir.join("Makefile").is_file() || build_dir.join("build.ninja").is_file()
}

fn pick_targets(
    req: &Request,
    build_dir: &Path,
    short: &str,
) -> Result<BTreeMap<String, String>, BuildError> {
    let dir = build_dir.display().to_string();
    let help = std::process::Command::new(&req.cmake)
        .args(["--build", &dir, "--target", "help"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(io_err(
            "cannot run 'cmake --build --target help' in",
            build_dir,
        ))?;
    let offered = targets::parse_help(&String::from_utf8_lossy(&help.stdout));
    let mut picked = BTreeMap::new();
    let mut missing = Vec::new();
    for tool in &req.tools {
        match targets::resolve(tool, &offered) {
            Some(t) => {
                picked.insert(tool.clone(), t.to_string());
            }
            None => missing.push(tool.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(picked);
    }
    let tools: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|t| {
            t.starts_with("llama") || t.starts_with("test-") || *t == "main" || *t == "server"
        })
        .collect();
    Err(BuildError::NoTarget {
        what: format!("{} ({short})", req.rev),
        missing,
        offered: if tools.is_empty() {
            "no llama.cpp tools".into()
        } else {
            tools.join(", ")
        },
    })
}

fn compile(
    req: &Request,
    build_dir: &Path,
    tools: &BTreeMap<String, String>,
    short: &str,
    log: &Path,
) -> Result<(), cmake::StepFailure> {
    let jobs = req
        .jobs
        .map(u64::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u64));
    let mut args: Vec<String> = vec![
        "--build".into(),
        build_dir.display().to_string(),
        "--config".into(),
        "Release".into(),
        "-j".into(),
        jobs.to_string(),
        "--target".into(),
    ];
    let mut names: Vec<String> = tools.values().cloned().collect();
    names.dedup();
    args.extend(names.iter().cloned());
    crate::say!(
        "tokbench: building {} ({short}): {} with {jobs} jobs; log: {}",
        req.rev,
        names.join(" "),
        log.display()
    );
    let mut shown = None;
    let result = cmake::run_step(&req.cmake, &args, log, |line| {
        let pct = targets::progress(line);
        if req.live_progress && pct.is_some() && pct != shown {
            shown = pct;
            progress(&format!(
                "\rtokbench: building {short} {:>3}%",
                pct.unwrap_or(0)
            ));
        }
    });
    if req.live_progress && shown.is_some() {
        progress("\n");
    }
    result
}

fn warn_if_disk_low(cache: &Path) {
    let warning = cache::disk_space(cache)
        .and_then(|(free, total)| cache::low_disk_warning(cache, free, total));
    if let Some(w) = warning {
        crate::say!("warning: {w}");
    }
}

/// RFC 3339 UTC, now.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Progress on stderr without a newline; a closed stderr is not an error.
fn progress(text: &str) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}
