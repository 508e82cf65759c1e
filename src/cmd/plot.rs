//! `tokbench plot`: results files (or the history) in, one SVG or PNG out
//! (by the extension of `-o`).

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{PlotArgs, PlotKind};
use crate::compare::stored::{comparison, load};
use crate::exit::{Outcome, UsageError};
use crate::model::RunRecord;
use crate::plot::command::{
    builds_svg, image_format, pick_timeline, sequence_svg, sweep_svg, timeline_svg, write_plot,
};
use crate::store::db::DbChoice;
use crate::store::query::stored_records;

fn sequence_records(loaded: Vec<(PathBuf, Vec<RunRecord>)>) -> Result<Vec<RunRecord>> {
    if let Some((records, _)) = comparison(&loaded, false)? {
        return Ok(records);
    }
    match loaded.as_slice() {
        [(_, one)] => Ok(one.clone()),
        _ => Err(UsageError(
            "plot sequence takes one results file (from 'compare -o' or 'run -o') or two run files (A and B)".into(),
        )
        .into()),
    }
}

/// `plot serve`: its records are not runs, so it reads its own file.
fn serve_plot(args: &PlotArgs) -> Result<Outcome> {
    let [file] = args.files.as_slice() else {
        return Err(
            UsageError("plot serve takes one results file (from 'serve -o')".into()).into(),
        );
    };
    let title = format!("tokbench serve: {}", file.display());
    write_plot(
        &args.output,
        &crate::plot::serve::render(&crate::plot::serve::read(file)?, &title)?,
    )?;
    crate::say!("tokbench: wrote '{}'", args.output.display());
    Ok(Outcome::Ok)
}

/// One `serve -o` file (its blocks' timelines are drawn, not runs').
fn serve_file(files: &[PathBuf]) -> bool {
    matches!(files, [f] if crate::serve::stored::is_serve_file(f))
}

pub fn run(args: &PlotArgs, db: &DbChoice) -> Result<Outcome> {
    image_format(&args.output)?;
    if args.from_history {
        if args.kind != PlotKind::Builds {
            return Err(UsageError("--from-history draws the 'builds' plot only".into()).into());
        }
        let h = db.open()?;
        let records = stored_records(&h, &Default::default())?;
        write_plot(&args.output, &builds_svg(&records, &args.metric)?)?;
        crate::say!("tokbench: wrote '{}'", args.output.display());
        return Ok(Outcome::Ok);
    }
    let loaded = || load(&args.files);
    let svg = match args.kind {
        PlotKind::Serve => return serve_plot(args),
        PlotKind::Sequence => sequence_svg(&sequence_records(loaded()?)?, &args.metric)?,
        PlotKind::Timeline if serve_file(&args.files) => {
            crate::plot::command::serve_timeline_svg(&args.files[0], args.seq)?
        }
        PlotKind::Timeline => {
            let loaded = loaded()?;
            let [(_, records)] = loaded.as_slice() else {
                return Err(UsageError("plot timeline takes one results file".into()).into());
            };
            timeline_svg(pick_timeline(records, args.seq)?)?
        }
        PlotKind::Builds => {
            let all: Vec<RunRecord> = loaded()?.into_iter().flat_map(|(_, rs)| rs).collect();
            builds_svg(&all, &args.metric)?
        }
        PlotKind::Sweep => {
            let [file] = args.files.as_slice() else {
                return Err(UsageError(
                    "plot sweep takes one file: the output of 'sweep --format json'".into(),
                )
                .into());
            };
            sweep_svg(file)?
        }
    };
    write_plot(&args.output, &svg)?;
    crate::say!("tokbench: wrote '{}'", args.output.display());
    Ok(Outcome::Ok)
}
