//! A metric across builds: one column per build, in the order the builds
//! were first run, with the median as a dot, the min–max range as a whisker
//! and every run as a faint point. It takes plain `(label, values)` pairs, so
//! results files grouped by label feed it now and the history database later.

use plotters::prelude::*;

use super::{draw_err, padded_range, segment_label, PlotError, COLOUR_A, COLOUR_GREY, SIZE};
use crate::metrics::{counted, unit as metric_unit, value as metric_value};
use crate::model::RunRecord;

/// Longest build label shown under its column.
const MAX_LABEL: usize = 28;

/// Counted runs' `metric` grouped by label, builds in the order of their
/// first run (by start time).
pub fn from_records(records: &[RunRecord], metric: &str) -> Vec<(String, Vec<f64>)> {
    let mut runs: Vec<&RunRecord> = counted(records).collect();
    runs.sort_by(|x, y| (&x.started_at, x.seq).cmp(&(&y.started_at, y.seq)));
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for r in runs {
        let Some(v) = metric_value(r, metric) else {
            continue;
        };
        match out.iter_mut().find(|(l, _)| *l == r.label) {
            Some((_, vs)) => vs.push(v),
            None => out.push((r.label.clone(), vec![v])),
        }
    }
    out
}

fn short(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_string();
    }
    let head: String = label.chars().take(MAX_LABEL - 1).collect();
    format!("{head}…")
}

/// Draws one column per build that has values (builds without any are skipped).
pub fn render(
    builds: &[(String, Vec<f64>)],
    metric: &str,
    title: &str,
) -> Result<String, PlotError> {
    let stats: Vec<(&str, &[f64], crate::stats::Summary)> = builds
        .iter()
        .filter_map(|(l, v)| Some((l.as_str(), v.as_slice(), crate::stats::summarize(v)?)))
        .collect();
    let (y0, y1) = padded_range(stats.iter().flat_map(|(_, v, _)| v.iter().copied()))
        .ok_or_else(|| PlotError::NoData(format!("no build has a counted run with '{metric}'")))?;
    let labels: Vec<String> = stats.iter().map(|(l, _, _)| short(l)).collect();
    let n = stats.len() as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
            .map_err(draw_err)?;
        let label_of = |x: &SegmentValue<i32>| segment_label(&labels, x);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(stats.len())
            .x_label_formatter(&label_of)
            .x_desc("build (in order of first run)")
            .y_desc(format!(
                "{metric} ({}): median, min–max",
                metric_unit(metric)
            ))
            .draw()
            .map_err(draw_err)?;
        let at = |i: usize| SegmentValue::CenterOf(i as i32);
        let runs = stats
            .iter()
            .enumerate()
            .flat_map(|(i, (_, v, _))| v.iter().map(move |&y| (i, y)));
        chart
            .draw_series(
                runs.map(|(i, y)| Circle::new((at(i), y), 2, COLOUR_GREY.mix(0.6).filled())),
            )
            .map_err(draw_err)?;
        // The error bar's own dot (filled) marks the median.
        chart
            .draw_series(stats.iter().enumerate().map(|(i, (_, _, s))| {
                let style = COLOUR_A.filled().stroke_width(2);
                ErrorBar::new_vertical(at(i), s.min, s.median, s.max, style, 12)
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{attrs, count, record, texts};

    #[test]
    fn records_group_by_label_in_order_of_first_run() {
        let mut rs = Vec::new();
        for (seq, label, v) in [
            (3, "new", 52.0),
            (0, "old", 50.0),
            (1, "old", 51.0),
            (4, "new", 53.0),
        ] {
            let mut r = record(seq, None, false, Some(v));
            r.label = label.to_string();
            rs.push(r);
        }
        let mut warm = record(2, None, true, Some(1.0));
        warm.label = "old".to_string();
        rs.push(warm);
        assert_eq!(
            from_records(&rs, "eval_tps"),
            vec![
                ("old".to_string(), vec![50.0, 51.0]),
                ("new".to_string(), vec![52.0, 53.0])
            ]
        );
    }

    #[test]
    fn one_median_dot_per_build_every_run_and_the_labels() {
        let builds = vec![
            ("b100".to_string(), vec![40.0, 41.0, 42.0]),
            ("b200".to_string(), vec![44.0, 45.0]),
            ("empty".to_string(), vec![]),
            (
                "b300-a-very-long-label-that-goes-on-and-on".to_string(),
                vec![43.0],
            ),
        ];
        let svg = render(&builds, "eval_tps", "across builds").unwrap();
        assert_eq!(count(&svg, "circle", "fill=\"#1F77B4\""), 3);
        assert_eq!(count(&svg, "circle", "fill=\"#969696\""), 6);
        let t = texts(&svg);
        let pos = |l: &str| t.iter().position(|x| x == l);
        assert!(pos("b100") < pos("b200"), "{t:?}");
        assert!(pos("b300-a-very-long-label-that…").is_some(), "{t:?}");
        assert!(pos("empty").is_none());
        assert!(
            t.iter().any(|x| x == "eval_tps (t/s): median, min–max"),
            "{t:?}"
        );
        // Medians 41, 44.5, 43: the highest median is drawn highest.
        let cy = attrs(&svg, "circle", "fill=\"#1F77B4\"", "cy");
        assert!(cy[1] < cy[2] && cy[2] < cy[0], "{cy:?}");
        assert!(cy.iter().all(|y| (30.0..430.0).contains(y)), "{cy:?}");
    }

    #[test]
    fn no_values_at_all_is_no_data() {
        let e = render(&[("x".to_string(), vec![])], "eval_tps", "t").unwrap_err();
        assert!(matches!(e, PlotError::NoData(_)));
    }
}
