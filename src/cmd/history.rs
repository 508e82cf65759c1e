//! The history commands (`history`, `import`, `export`,
//! `compare --from-history`; the `tokbench ops` rounds in `history_ops`). Runs reach the history through the engine's
//! history sink (see `cmd::Sinks`); the SQL lives in `store::query`.

use anyhow::Result;

use crate::cli::{CompareArgs, ExportArgs, ExportFormat, Format, HistoryArgs, ImportArgs};
use crate::exit::{Outcome, UsageError};
use crate::model::RunRecord;
use crate::store::db::DbChoice;
use crate::store::history::History;
use crate::store::query::{
    build_rows, query_runs, resolve_build, stored_records, BuildRow, Filter, RunRow,
};

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
        "test",
        "median t/s",
        "last run",
    ];
    let body = rows.iter().flat_map(build_lines).collect();
    (head, body)
}

/// A build's lines: one per llama-bench key with its median, else one with
/// the median eval rate.
fn build_lines(b: &BuildRow) -> Vec<Vec<String>> {
    let line = |runs: usize, test: &str, median: Option<f64>| {
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
            runs.to_string(),
            test.to_string(),
            tps(median),
            b.last_run.clone(),
        ]
    };
    if b.keys.is_empty() {
        return vec![line(b.runs, "eval", b.median_eval_tps)];
    }
    b.keys
        .iter()
        .map(|k| line(k.runs, &k.key, k.median_tps))
        .collect()
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
    let mut g = crate::grid::Grid::plain(head);
    for r in body {
        g.row(r.clone());
    }
    crate::report::grid_text(&g, format)
}

/// `tokbench history --serve`: the serve sessions, oldest first.
fn serve_sessions(args: &HistoryArgs, h: &History) -> Result<Outcome> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let rows = h.serve_sessions(since.as_deref(), args.label.as_deref())?;
    let format = args.out.format();
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&rows)? + "\n",
        f => {
            let head = [
                "id", "started", "mode", "label", "servers", "load", "blocks", "headline",
            ];
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|s| {
                    let cut = if s.interrupted { " (interrupted)" } else { "" };
                    vec![
                        s.id.to_string(),
                        s.started_at.clone(),
                        s.mode.clone(),
                        opt(&s.label),
                        s.servers.join("; "),
                        s.load.clone(),
                        s.blocks.to_string(),
                        format!("{}{cut}", s.headline),
                    ]
                })
                .collect();
            render_rows(&head, &body, f)
        }
    };
    print!("{text}");
    if rows.is_empty() && format != Format::Json {
        crate::say!(
            "tokbench: no serve sessions in '{}' match",
            h.path().display()
        );
    }
    Ok(Outcome::Ok)
}

/// `tokbench history`.
pub fn cmd_history(args: &HistoryArgs, db: &DbChoice) -> Result<Outcome> {
    let h = db.open()?;
    if args.serve {
        return serve_sessions(args, &h);
    }
    let mut filter = match &args.build {
        Some(spec) => resolve_build(&h, spec)?,
        None => Filter::default(),
    };
    filter.since = args.since.as_deref().map(parse_since).transpose()?;
    if args.ops {
        return super::history_ops::list(args, &h, filter);
    }
    filter.label = args.label.clone().or(filter.label);
    filter.model = args.model.clone();
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
    let write = match args.format {
        ExportFormat::LlamaBenchSqlite => export::write_sqlite,
        ExportFormat::LlamaBenchJson => export::write_json,
        ExportFormat::TestBackendOpsSqlite => {
            return super::history_ops::export(args, &h, &filters)
        }
    };
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
    write(&args.file, &rows)?;
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
    super::compare::finish(&report, args, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query::KeyMedian;

    fn build(keys: Vec<KeyMedian>) -> BuildRow {
        BuildRow {
            id: 3,
            label: "fa".into(),
            source: "tokbench".into(),
            commit: Some("abc1234".into()),
            build_number: Some(7001),
            backend: Some("CUDA".into()),
            device: None,
            binary_sha256: Some("0123456789abcdef".into()),
            runs: 4,
            median_eval_tps: Some(61.25),
            last_run: "2026-12-01T10:00:00Z".into(),
            keys,
        }
    }

    #[test]
    fn a_llama_bench_build_lists_one_line_per_key() {
        let key = |k: &str, runs, m| KeyMedian {
            key: k.into(),
            runs,
            median_tps: Some(m),
        };
        let b = build(vec![
            key("pp512 fa=1", 4, 601.5),
            key("tg128 fa=1", 3, 61.25),
        ]);
        let lines = build_lines(&b);
        let cols = |l: &[String]| (l[7].clone(), l[8].clone(), l[9].clone());
        assert_eq!(lines.len(), 2);
        assert_eq!(
            cols(&lines[0]),
            ("4".into(), "pp512 fa=1".into(), "601.50".into())
        );
        assert_eq!(
            cols(&lines[1]),
            ("3".into(), "tg128 fa=1".into(), "61.25".into())
        );
        assert_eq!(lines[1][6], "0123456789ab");
        let plain = build_lines(&build(Vec::new()));
        assert_eq!(cols(&plain[0]), ("4".into(), "eval".into(), "61.25".into()));
        let (head, _) = build_table(&[]);
        assert_eq!(head[8..10], ["test", "median t/s"]);
    }
}
