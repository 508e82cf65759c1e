//! `tokbench report`: results files in, one report out. A comparison (one
//! `compare -o` file, or two run files) gets the comparison table, its
//! verdict and the run-order plot; run files get their summary tables, and
//! a plot across builds when they hold more than one label. Tables come
//! from the markdown reporters, statistics from `summary`/`compare::report`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::{Format, ReportArgs, ReportFormat};
use crate::compare::report::{build, Judge};
use crate::compare::stored::{comparison, load};
use crate::exit::Outcome;
use crate::model::RunRecord;
use crate::plot::command::{builds_svg, pick_timeline, sequence_svg, timeline_svg, write};
use crate::plot::PlotError;
use crate::report::html::{self, Document, Figure, Section};
use crate::report::{machine_line, RunReport};

/// Adds a figure, or a note when the data holds nothing to draw.
fn add_figure(doc: &mut Document, name: &str, caption: &str, svg: Result<String>) -> Result<()> {
    match svg {
        Ok(svg) => doc.figures.push(Figure {
            name: name.to_string(),
            caption: caption.to_string(),
            svg,
        }),
        Err(e)
            if e.downcast_ref::<PlotError>()
                .is_some_and(|p| matches!(p, PlotError::NoData(_))) =>
        {
            doc.notes.push(format!("{name} plot: {e}"))
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn comparison_doc(
    records: Vec<RunRecord>,
    pairing: crate::compare::report::Pairing,
    args: &ReportArgs,
) -> Result<Document> {
    let judge = Judge {
        primary: args.metric.clone(),
        threshold: args.threshold / 100.0,
        fail_if_slower_pct: None,
        primary_override: None,
    };
    let report = build(records, pairing, &judge);
    let mut doc = Document {
        title: format!(
            "tokbench comparison: {} vs {}",
            report.a.label, report.b.label
        ),
        ..Document::default()
    };
    doc.sections.push(Section {
        title: "Comparison (B against A)".to_string(),
        markdown: crate::compare::render::render(&report, Format::Markdown),
    });
    if let Some(m) = &report.machine {
        doc.sections.push(Section {
            title: "Machine".to_string(),
            markdown: format!(
                "| | |\n|---|---|\n| machine | {} |\n| tokbench | {} |\n",
                machine_line(m),
                report.tokbench_version
            ),
        });
    }
    let caption = format!(
        "{} of every run in run order, from zero: A blue circles, B orange triangles, warmups hollow; dashed: each side's median",
        args.metric
    );
    add_figure(
        &mut doc,
        "sequence",
        &caption,
        sequence_svg(&report.runs, &args.metric),
    )?;
    for side in ["a", "b"] {
        let mine: Vec<RunRecord> = report
            .runs
            .iter()
            .filter(|r| r.side.as_deref() == Some(side))
            .cloned()
            .collect();
        if let Ok(r) = pick_timeline(&mine, None) {
            let caption = format!(
                "timeline of {} run seq {}: GPU busy, power, memory; start-up, prompt and generation shaded",
                side.to_uppercase(),
                r.seq
            );
            add_figure(
                &mut doc,
                &format!("timeline-{side}"),
                &caption,
                timeline_svg(r),
            )?;
        }
    }
    Ok(doc)
}

fn runs_doc(loaded: Vec<(PathBuf, Vec<RunRecord>)>, args: &ReportArgs) -> Result<Document> {
    let mut doc = Document::default();
    let mut all = Vec::new();
    for (i, (path, records)) in loaded.into_iter().enumerate() {
        let report = RunReport::from_records(records.clone());
        doc.sections.push(Section {
            title: format!("Runs: {} ({})", report.label, path.display()),
            markdown: crate::report::markdown::render(&report),
        });
        let caption = format!(
            "{} of every run of '{}' in run order (hollow: warmup)",
            args.metric, report.label
        );
        add_figure(
            &mut doc,
            &format!("sequence-{}", i + 1),
            &caption,
            sequence_svg(&records, &args.metric),
        )?;
        if let Ok(r) = pick_timeline(&records, None) {
            let caption = format!(
                "timeline of '{}' run seq {}: GPU busy, power, memory; start-up, prompt and generation shaded",
                report.label, r.seq
            );
            add_figure(
                &mut doc,
                &format!("timeline-{}", i + 1),
                &caption,
                timeline_svg(r),
            )?;
        }
        all.extend(records);
    }
    let labels = crate::plot::builds::from_records(&all, &args.metric);
    if labels.len() > 1 {
        let caption = format!(
            "{} across builds, from zero: median (dot, with its change against the first build), min–max (whisker), every run (grey, beside it)",
            args.metric
        );
        add_figure(&mut doc, "builds", &caption, builds_svg(&all, &args.metric))?;
    }
    let names = crate::compare::stored::labels(&all);
    doc.title = match names.as_slice() {
        [one] => format!("tokbench runs: {one}"),
        _ => format!(
            "tokbench runs: {} labels ({})",
            names.len(),
            names.join(", ")
        ),
    };
    Ok(doc)
}

/// The sections of one `serve -o` file: the A/B verdict, the servers, the
/// blocks, the sweep, the `plot serve` figure and, when a block has one,
/// its sampler timeline.
fn serve_sections(doc: &mut Document, file: &Path, i: usize) -> Result<()> {
    use crate::serve::{ab_render, stored};
    let f = stored::read(file)?;
    let shown = file.display();
    if let Some(ab) = &f.ab {
        doc.sections.push(Section {
            title: format!("A/B verdict, B against A ({shown})"),
            markdown: ab_render::render(ab, &[], Format::Markdown),
        });
    }
    let servers: String = stored::servers(&f)
        .iter()
        .map(|l| format!("- {l}\n"))
        .collect();
    doc.sections.push(Section {
        title: format!("Blocks ({shown}; latencies in ms)"),
        markdown: format!("{servers}\n{}", stored::blocks_markdown(&f)),
    });
    for s in &f.sweeps {
        doc.sections.push(Section {
            title: format!("Sweep ({shown})"),
            markdown: stored::sweep_markdown(s),
        });
    }
    let title = format!("tokbench serve: {shown}");
    let caption = "latency percentiles and throughput against offered load; TTFT CDF per block";
    let svg =
        crate::plot::serve::read(file).and_then(|d| Ok(crate::plot::serve::render(&d, &title)?));
    add_figure(doc, &format!("serve-{}", i + 1), caption, svg)?;
    if stored::block_timeline(&f, None).is_ok() {
        let caption = "timeline of the first block with one: the server's GPU busy, power, memory";
        let svg = crate::plot::command::serve_timeline_svg(file, None);
        add_figure(doc, &format!("serve-timeline-{}", i + 1), caption, svg)?;
    }
    Ok(())
}

/// The document of `serve -o` files.
fn serve_doc(files: &[PathBuf]) -> Result<Document> {
    let mut doc = Document {
        title: "tokbench serve".to_string(),
        ..Document::default()
    };
    for (i, file) in files.iter().enumerate() {
        serve_sections(&mut doc, file, i)?;
    }
    Ok(doc)
}

/// The document for the files: a serve report, a comparison when they make one, else runs.
pub fn document(files: &[PathBuf], args: &ReportArgs) -> Result<Document> {
    let serve = files
        .iter()
        .filter(|f| crate::serve::stored::is_serve_file(f))
        .count();
    if serve == files.len() {
        return serve_doc(files);
    }
    if serve > 0 {
        return Err(crate::exit::UsageError(
            "report takes 'serve -o' files or run files, not both at once".into(),
        )
        .into());
    }
    let loaded = load(files)?;
    match comparison(&loaded, false)? {
        Some((records, pairing)) => comparison_doc(records, pairing, args),
        None => runs_doc(loaded, args),
    }
}

/// Markdown of the document. A PR comment or a step summary cannot show
/// SVG files beside it, so the plots are named in a note, not linked.
pub fn markdown(doc: &Document) -> String {
    let mut out = format!("# {}\n", doc.title);
    for s in &doc.sections {
        out.push_str(&format!("\n## {}\n\n{}", s.title, s.markdown));
    }
    if !doc.figures.is_empty() {
        let names: Vec<&str> = doc.figures.iter().map(|f| f.name.as_str()).collect();
        out.push_str(&format!(
            "\n> note: plots ({}) are left out of the markdown (it cannot show them); \
             they are in the HTML report (`tokbench report --format html`) or drawn by `tokbench plot`\n",
            names.join(", ")
        ));
    }
    for n in &doc.notes {
        out.push_str(&format!("\n> note: {n}\n"));
    }
    out
}

pub fn run(args: &ReportArgs) -> Result<Outcome> {
    let doc = document(&args.files, args)?;
    match args.format {
        ReportFormat::Html => write(&args.output, &html::render(&doc))?,
        ReportFormat::Markdown => write(&args.output, &markdown(&doc))?,
    }
    for n in &doc.notes {
        crate::say!("note: {n}");
    }
    crate::say!("tokbench: wrote '{}'", args.output.display());
    Ok(Outcome::Ok)
}
