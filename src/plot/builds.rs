//! A metric across builds: one column per build, in the order the builds
//! were first run, with the median as a dot, the min–max range as a whisker
//! and every run as a faint point. It takes plain `(label, values)` pairs, so
//! results files grouped by label feed it now and the history database later.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{from_zero, sig, tick, with_legend, Key, Swatch, GRID};
use super::{draw_err, segment_label, PlotError, COLOUR_A, COLOUR_GREY, SIZE};
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

type Stats<'a> = Vec<(&'a str, &'a [f64], crate::stats::Summary)>;

/// The legend: the marks, and what the change beside each median is.
fn keys(stats: &Stats, unit: &str) -> Vec<Key> {
    let first = stats.first().map(|(l, _, _)| short(l)).unwrap_or_default();
    vec![
        Key::new(
            Swatch::Dot(COLOUR_A),
            format!("median ({unit}), min–max whisker"),
        ),
        Key::new(Swatch::Dot(COLOUR_GREY), "each counted run"),
        Key::new(
            Swatch::None,
            format!("beside each median: its value and its change against '{first}'"),
        ),
    ]
}

/// `812 t/s` for the first build, `812 (+3.1 %)` for the others.
fn median_note(median: f64, first: f64, i: usize) -> String {
    if i == 0 || first <= 0.0 {
        sig(median)
    } else {
        format!("{} ({:+.1} %)", sig(median), (median / first - 1.0) * 100.0)
    }
}

/// Draws one column per build that has values (builds without any are
/// skipped), from zero: the median as a dot with its figure, the whisker,
/// and every run as a point beside the whisker (spread sideways, so runs
/// with the same value stay countable).
pub fn render(
    builds: &[(String, Vec<f64>)],
    metric: &str,
    title: &str,
) -> Result<String, PlotError> {
    let stats: Stats = builds
        .iter()
        .filter_map(|(l, v)| Some((l.as_str(), v.as_slice(), crate::stats::summarize(v)?)))
        .collect();
    let (y0, y1) = from_zero(stats.iter().flat_map(|(_, v, _)| v.iter().copied()))
        .ok_or_else(|| PlotError::NoData(format!("no build has a counted run with '{metric}'")))?;
    let labels: Vec<String> = stats.iter().map(|(l, _, _)| short(l)).collect();
    let n = stats.len() as i32;
    let unit = metric_unit(metric);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let area = with_legend(&root.margin(0, 0, 8, 8), &keys(&stats, unit))?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
            .map_err(draw_err)?;
        let label_of = |x: &SegmentValue<i32>| segment_label(&labels, x);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(stats.len())
            .x_label_formatter(&label_of)
            .y_label_formatter(&tick)
            .x_desc("build (in order of first run)")
            .y_desc(format!("{metric} ({unit})"))
            .draw()
            .map_err(draw_err)?;
        draw_columns(&mut chart, &stats)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordi32>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Pixels right of the whisker of the `k`th lowest run: four lanes 5 px
/// apart, so neighbouring values never sit on one another.
fn jitter(k: usize) -> (i32, i32) {
    (12 + 5 * (k % 4) as i32, 0)
}

fn draw_columns(chart: &mut Chart, stats: &Stats) -> Result<(), PlotError> {
    let at = |i: usize| SegmentValue::CenterOf(i as i32);
    let first = stats.first().map_or(0.0, |(_, _, s)| s.median);
    for (i, (_, v, s)) in stats.iter().enumerate() {
        let mut sorted = v.to_vec();
        sorted.sort_by(f64::total_cmp);
        chart
            .draw_series(sorted.iter().enumerate().map(|(k, &y)| {
                EmptyElement::at((at(i), y))
                    + Circle::new(jitter(k), 3, COLOUR_GREY.mix(0.9).filled())
            }))
            .map_err(draw_err)?;
        // The error bar's own dot (filled) marks the median.
        let style = COLOUR_A.filled().stroke_width(2);
        chart
            .draw_series(std::iter::once(ErrorBar::new_vertical(
                at(i),
                s.min,
                s.median,
                s.max,
                style,
                8,
            )))
            .map_err(draw_err)?;
        let font = TextStyle::from(("sans-serif", 13).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        let note = median_note(s.median, first, i);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((at(i), s.median)) + Text::new(note, (-12, 0), font),
            ))
            .map_err(draw_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{
        assert_picture, assert_ticks_from_zero, attrs, count, fixture, legend_boxes,
        marks_in_legends, record, texts,
    };

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
        // Three medians and six runs, plus one legend swatch each.
        assert_eq!(count(&svg, "circle", "fill=\"#1F77B4\""), 3 + 1);
        assert_eq!(count(&svg, "circle", "fill=\"#969696\""), 6 + 1);
        let t = texts(&svg);
        let pos = |l: &str| t.iter().position(|x| x == l);
        assert!(pos("b100") < pos("b200"), "{t:?}");
        assert!(pos("b300-a-very-long-label-that…").is_some(), "{t:?}");
        assert!(pos("empty").is_none());
        assert!(t.iter().any(|x| x == "eval_tps (t/s)"), "{t:?}");
        // Each median with its change against the first build.
        for note in ["41.0", "44.5 (+8.5 %)", "43.0 (+4.9 %)"] {
            assert!(pos(note).is_some(), "{note} not in {t:?}");
        }
        // Medians 41, 44.5, 43: the highest median is drawn highest.
        let cy = attrs(&svg, "circle", "fill=\"#1F77B4\"", "cy");
        assert!(cy[2] < cy[3] && cy[3] < cy[1], "{cy:?}");
        assert!(
            cy.iter().skip(1).all(|y| (60.0..430.0).contains(y)),
            "{cy:?}"
        );
        // Every run beside its whisker, not on it: 12 to 27 px to the right.
        let mx = attrs(&svg, "circle", "fill=\"#1F77B4\"", "cx");
        let rx = attrs(&svg, "circle", "fill=\"#969696\"", "cx");
        for (i, x) in rx.iter().skip(1).take(3).enumerate() {
            let dx = x - mx[1];
            assert!((12.0..=27.0).contains(&dx), "run {i}: {dx}");
        }
        assert_ne!(rx[1], rx[2], "two runs of one build in one lane");
    }

    /// The two H200 fixtures (one run file, one comparison: three labels).
    #[test]
    fn the_h200_builds_as_a_picture() {
        let mut records = fixture("h200_completion_cuda.jsonl");
        records.extend(fixture("h200_compare_cpu_vs_cuda.jsonl"));
        let svg = render(&from_records(&records, "eval_tps"), "eval_tps", "t").unwrap();
        assert_picture(&svg, SIZE, "builds-h200");
        assert_ticks_from_zero(&svg);
        // The legend's two dots, and no data mark under it.
        assert_eq!(legend_boxes(&svg).len(), 1);
        assert_eq!(marks_in_legends(&svg), 2);
        let t = texts(&svg);
        for note in ["873", "52.1 (-94.0 %)", "809 (-7.3 %)"] {
            assert!(t.iter().any(|x| x == note), "{note} not in {t:?}");
        }
    }

    #[test]
    fn no_values_at_all_is_no_data() {
        let e = render(&[("x".to_string(), vec![])], "eval_tps", "t").unwrap_err();
        assert!(matches!(e, PlotError::NoData(_)));
    }
}
