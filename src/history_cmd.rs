//! The history commands (`history`, `import`, `export`,
//! `compare --from-history`) and the recorder that stores every run.
//!
//! The recorder is installed once per invocation by `app` and called by
//! `runner::step` right after the JSONL append; it is process-wide so that
//! the runner's and the comparison session's signatures stay as they are.
//! A default database that cannot be opened or written gives one warning
//! and the benchmark goes on; an explicit `--db` that cannot be opened stops
//! the command before anything runs.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::app::{Outcome, UsageError};
use crate::cli::{CompareArgs, ExportArgs, ExportFormat, Format, HistoryArgs, ImportArgs};
use crate::model::RunRecord;
use crate::store::history::History;

/// Which database the invocation uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DbChoice {
    pub path: Option<PathBuf>,
    /// Named by `--db` or `TOKBENCH_DB` (failures are errors, not warnings).
    pub explicit: bool,
    /// `--no-history` or `TOKBENCH_NO_HISTORY=1`: runs are not recorded.
    pub disabled: bool,
}

impl DbChoice {
    /// `--db` wins over `TOKBENCH_DB`, which wins over the data directory.
    pub fn resolve(db: Option<PathBuf>, no_history: bool) -> DbChoice {
        let env_db = std::env::var_os("TOKBENCH_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let env_off = std::env::var("TOKBENCH_NO_HISTORY")
            .map(|v| !v.is_empty() && v != "0")
            .unwrap_or(false);
        let explicit = db.or(env_db);
        DbChoice {
            explicit: explicit.is_some(),
            path: explicit.or_else(crate::store::history::default_path),
            disabled: no_history || env_off,
        }
    }

    /// Opens the database for a command that reads or writes it on purpose.
    pub fn open(&self) -> Result<History> {
        let path = self.path.clone().context(
            "no data directory is known for the default history database: pass --db PATH or set TOKBENCH_DB",
        )?;
        Ok(History::open(&path)?)
    }
}

struct Recorder {
    history: Option<History>,
    warned: bool,
}

static RECORDER: Mutex<Option<Recorder>> = Mutex::new(None);

/// Opens the history for a benchmark. An explicit database that cannot be
/// opened is an error; the default one gives a warning and no recording.
pub fn install_recorder(choice: &DbChoice) -> Result<()> {
    if choice.disabled {
        return Ok(());
    }
    let history = match choice.open() {
        Ok(h) => Some(h),
        Err(e) if choice.explicit => return Err(e),
        Err(e) => {
            crate::say!("warning: runs will not be recorded in the history: {e:#}");
            None
        }
    };
    if let Ok(mut slot) = RECORDER.lock() {
        *slot = Some(Recorder {
            history,
            warned: false,
        });
    }
    Ok(())
}

/// Records one finished run; a failure is a warning (once), never an error.
pub fn record_run(record: &RunRecord) {
    let Ok(mut slot) = RECORDER.lock() else {
        return;
    };
    let Some(rec) = slot.as_mut() else {
        return;
    };
    let Some(h) = rec.history.as_mut() else {
        return;
    };
    if let Err(e) = h.record(record, "run") {
        if !rec.warned {
            crate::say!(
                "warning: could not record a run in the history: {e}; the benchmark goes on"
            );
            rec.warned = true;
        }
    }
}

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
    let by_label = ids("SELECT DISTINCT build_id FROM runs WHERE label = ?1", spec)?;
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

/// `2026-01-31`, an RFC 3339 time, or a duration back from now (`7d`, `12h`).
pub fn parse_since(s: &str) -> Result<String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(d) = humantime::parse_duration(s.trim()) {
        let t = time::OffsetDateTime::now_utc() - d;
        return Ok(t.format(&Rfc3339).unwrap_or_default());
    }
    if time::OffsetDateTime::parse(s.trim(), &Rfc3339).is_ok() {
        return Ok(s.trim().to_string());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(s.trim(), &fmt).is_ok() {
        return Ok(format!("{}T00:00:00Z", s.trim()));
    }
    Err(UsageError(format!(
        "--since '{s}' is neither a date (2026-01-31), an RFC 3339 time nor a duration (7d, 12h)"
    ))
    .into())
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
fn build_rows(h: &History, runs: &[RunRow]) -> Result<Vec<BuildRow>> {
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
                    })
                },
            )
            .map_err(|e| h.sql(e))?;
        out.push(row);
    }
    out.sort_by(|a, b| a.last_run.cmp(&b.last_run));
    Ok(out)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(T::to_string)
        .unwrap_or_else(|| "-".to_string())
}

fn tps(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}"))
        .unwrap_or_else(|| "-".to_string())
}

fn build_table(rows: &[BuildRow]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let head = vec![
        "id",
        "label",
        "commit",
        "build",
        "backend",
        "device",
        "binary",
        "runs",
        "median eval t/s",
        "last run",
    ];
    let body = rows
        .iter()
        .map(|b| {
            vec![
                b.id.to_string(),
                b.label.clone(),
                opt(&b.commit),
                opt(&b.build_number),
                opt(&b.backend),
                opt(&b.device),
                b.binary_sha256
                    .as_deref()
                    .map(|s| s[..12.min(s.len())].to_string())
                    .unwrap_or_else(|| b.source.clone()),
                b.runs.to_string(),
                tps(b.median_eval_tps),
                b.last_run.clone(),
            ]
        })
        .collect();
    (head, body)
}

fn run_table(rows: &[RunRow]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let head = vec![
        "run",
        "build",
        "label",
        "started",
        "kind",
        "status",
        "model",
        "eval t/s",
        "prompt t/s",
    ];
    let body = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.build_id.to_string(),
                r.label.clone(),
                r.started_at.clone(),
                if r.warmup { "warmup" } else { "counted" }.to_string(),
                r.status.clone(),
                r.model.clone(),
                tps(r.eval_tps),
                tps(r.prompt_eval_tps),
            ]
        })
        .collect();
    (head, body)
}

fn render_rows(head: &[&str], body: &[Vec<String>], format: Format) -> String {
    match format {
        Format::Markdown => {
            let mut s = format!(
                "| {} |\n|{}\n",
                head.join(" | "),
                " --- |".repeat(head.len())
            );
            for r in body {
                let cells: Vec<String> =
                    r.iter().map(|c| crate::report::markdown::cell(c)).collect();
                s.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            s
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(head);
            for r in body {
                let _ = w.write_record(r);
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        _ => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
                .set_header(head.to_vec());
            for r in body {
                t.add_row(r.clone());
            }
            format!("{t}\n")
        }
    }
}

/// `tokbench history`.
pub fn cmd_history(args: &HistoryArgs, db: &DbChoice) -> Result<Outcome> {
    let h = db.open()?;
    let mut filter = match &args.build {
        Some(spec) => resolve_build(&h, spec)?,
        None => Filter::default(),
    };
    filter.label = args.label.clone().or(filter.label);
    filter.model = args.model.clone();
    filter.since = args.since.as_deref().map(parse_since).transpose()?;
    let runs = query_runs(&h, &filter)?;
    let format = args.out.format();
    let text = if args.runs {
        match format {
            Format::Json => serde_json::to_string_pretty(&runs)? + "\n",
            f => {
                let (head, body) = run_table(&runs);
                render_rows(&head, &body, f)
            }
        }
    } else {
        let builds = build_rows(&h, &runs)?;
        match format {
            Format::Json => serde_json::to_string_pretty(&builds)? + "\n",
            f => {
                let (head, body) = build_table(&builds);
                render_rows(&head, &body, f)
            }
        }
    };
    print!("{text}");
    if runs.is_empty() && format != Format::Json {
        crate::say!("tokbench: no runs in '{}' match", h.path().display());
    }
    Ok(Outcome::Ok)
}

/// `tokbench import FILE...`: every file is tried; any failure gives exit 1.
pub fn cmd_import(args: &ImportArgs, db: &DbChoice) -> Result<Outcome> {
    let mut h = db.open()?;
    let mut failed = false;
    let mut counts = Vec::new();
    for f in &args.files {
        match crate::store::import::import_file(&mut h, f, args.label.as_deref()) {
            Ok(c) => {
                crate::say!(
                    "tokbench: '{}' ({}): {} test(s) or record(s) read, {} run(s) added, {} already there",
                    c.file, c.format, c.tests, c.runs_added, c.runs_skipped
                );
                counts.push(c);
            }
            Err(e) => {
                crate::say!("error: {e}");
                failed = true;
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&counts)?);
    }
    Ok(if failed { Outcome::Failed } else { Outcome::Ok })
}

/// `tokbench export --format llama-bench-sqlite|llama-bench-json FILE`.
pub fn cmd_export(args: &ExportArgs, db: &DbChoice) -> Result<Outcome> {
    use crate::store::export;
    let h = db.open()?;
    let filters: Vec<Filter> = args
        .build
        .iter()
        .map(|spec| resolve_build(&h, spec))
        .collect::<Result<_>>()?;
    let ids: Vec<i64> = filters
        .iter()
        .flat_map(|f| f.builds.clone().unwrap_or_default())
        .collect();
    let mut runs = export::stored_runs(&h, &ids)?;
    // A build named by a label means that label's runs only, as in `history`.
    runs.retain(|r| {
        filters.is_empty()
            || filters.iter().any(|f| {
                f.builds.as_ref().is_none_or(|b| b.contains(&r.build_id))
                    && f.label.as_ref().is_none_or(|l| *l == r.record.label)
            })
    });
    let rows: Vec<_> = runs.iter().flat_map(export::rows_of).collect();
    if rows.is_empty() {
        anyhow::bail!(
            "nothing to export from '{}': no counted, successful runs match",
            h.path().display()
        );
    }
    match args.format {
        ExportFormat::LlamaBenchSqlite => export::write_sqlite(&args.file, &rows)?,
        ExportFormat::LlamaBenchJson => export::write_json(&args.file, &rows)?,
    }
    let mut names: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get("build_commit")?.as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    crate::say!(
        "tokbench: wrote {} row(s) of {} run(s) to '{}'; build_commit values: {}",
        rows.len(),
        runs.len(),
        args.file.display(),
        names.join(", ")
    );
    Ok(Outcome::Ok)
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

fn side_records(
    h: &History,
    spec: &str,
    model: Option<&str>,
    side: &str,
) -> Result<Vec<RunRecord>> {
    let mut filter = resolve_build(h, spec)?;
    filter.model = model.map(str::to_string);
    let ids = filter.builds.clone().unwrap_or_default();
    let mut out = stored_records(h, &filter)?;
    for rec in &mut out {
        rec.side = Some(side.to_string());
    }
    if crate::summary::counted(&out).next().is_none() {
        anyhow::bail!(
            "'{spec}' (build {}) has no counted, successful run{} in the history",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            model
                .map(|m| format!(" with model '{m}'"))
                .unwrap_or_default()
        );
    }
    Ok(out)
}

/// `tokbench compare --from-history A B`: the same statistics and verdicts
/// as a live compare, unpaired, with the note that the runs were not interleaved.
pub fn cmd_compare(args: &CompareArgs, db: &DbChoice) -> Result<Outcome> {
    use crate::compare::report::{build, Judge, Pairing};
    let [a, b] = args.from_history.as_slice() else {
        return Err(UsageError("--from-history takes two builds: BUILD_A BUILD_B".into()).into());
    };
    let h = db.open()?;
    let (fa, fb) = (resolve_build(&h, a)?, resolve_build(&h, b)?);
    if fa.builds == fb.builds && fa.label == fb.label {
        return Err(UsageError(format!(
            "'{a}' and '{b}' name the same build and runs: compare two different builds"
        ))
        .into());
    }
    let model = args.model.as_ref().map(|m| m.display().to_string());
    let mut records = side_records(&h, a, model.as_deref(), "a")?;
    let rb = side_records(&h, b, model.as_deref(), "b")?;
    let models = |rs: &[RunRecord]| -> Vec<String> {
        let mut v: Vec<String> = rs.iter().map(|r| r.model.path.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (ma, mb) = (models(&records), models(&rb));
    records.extend(rb);
    let judge = Judge {
        primary: args.metric.clone(),
        threshold: args.threshold / 100.0,
        fail_if_slower_pct: args.fail_if_slower,
        primary_override: None,
    };
    crate::metrics::resolve(&judge.primary, &records).map_err(|e| UsageError(e.to_string()))?;
    let mut report = build(records, Pairing::Separate, &judge);
    report.warnings.insert(
        0,
        format!(
            "runs read from the history '{}' (A: '{a}', B: '{b}')",
            h.path().display()
        ),
    );
    if ma != mb {
        report.warnings.push(format!(
            "A and B ran different models (A: {}; B: {}): pass -m to choose one",
            ma.join(", "),
            mb.join(", ")
        ));
    }
    crate::compare::command::finish(&report, args, None)
}
