//! Per-run figures of A and B along the run order of a comparison: a trend
//! that both sides share is drift (heat, background load), which the ABBA
//! interleaving cancels; a gap between the two colours is the change.

use plotters::prelude::*;

use super::style::{from_zero, sig, tick, with_legend, Key, Swatch, GRID};
use super::{draw_err, PlotError, COLOUR_A, COLOUR_B, COLOUR_GREY, SIZE};
use crate::metrics::{unit as metric_unit, value as metric_value};
use crate::model::RunRecord;

/// One run's figure at its place in the run order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqPoint {
    /// Position in the run order, from 0, warmups included.
    pub order: u32,
    /// `a`, `b`, or none (a plain run file).
    pub side: Option<String>,
    pub warmup: bool,
    pub value: f64,
}

/// The successful runs' `metric`, in the order the runs started (`seq`
/// breaks ties). Failed runs keep their place but have no point.
pub fn points(records: &[RunRecord], metric: &str) -> Vec<SeqPoint> {
    let mut order: Vec<&RunRecord> = records.iter().collect();
    order.sort_by(|x, y| (&x.started_at, x.seq).cmp(&(&y.started_at, y.seq)));
    order
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == "ok")
        .filter_map(|(i, r)| {
            Some(SeqPoint {
                order: i as u32,
                side: r.side.clone(),
                warmup: r.warmup,
                value: metric_value(r, metric)?,
            })
        })
        .collect()
}

fn side_name(side: Option<&str>) -> &'static str {
    match side {
        Some("b") => "B",
        Some("a") => "A",
        _ => "runs",
    }
}

/// Median of the counted runs of `side`.
fn side_median(points: &[SeqPoint], side: Option<&str>) -> Option<f64> {
    let v: Vec<f64> = points
        .iter()
        .filter(|p| p.side.as_deref() == side && !p.warmup)
        .map(|p| p.value)
        .collect();
    crate::stats::summarize(&v).map(|s| s.median)
}

fn colour_of(side: Option<&str>) -> RGBColor {
    if side == Some("b") {
        COLOUR_B
    } else {
        COLOUR_A
    }
}

/// The legend: the marks, each side's median line, and the change those
/// medians make (the ratio of the two medians drawn, nothing else).
fn keys(points: &[SeqPoint], unit: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    let sides = [Some("a"), Some("b"), None];
    for side in sides
        .iter()
        .filter(|s| points.iter().any(|p| p.side.as_deref() == **s))
    {
        let c = colour_of(*side);
        let mark = if *side == Some("b") {
            Swatch::Triangle(c)
        } else {
            Swatch::Dot(c)
        };
        keys.push(Key::new(mark, side_name(*side)));
        if let Some(m) = side_median(points, *side) {
            let text = format!("median {}: {} {unit}", side_name(*side), sig(m));
            keys.push(Key::new(Swatch::Dashed(c), text));
        }
    }
    if points.iter().any(|p| p.warmup) {
        keys.push(Key::new(Swatch::Ring(COLOUR_GREY), "warmup (not counted)"));
    }
    if let (Some(a), Some(b)) = (
        side_median(points, Some("a")),
        side_median(points, Some("b")),
    ) {
        if a > 0.0 {
            let pct = (b / a - 1.0) * 100.0;
            keys.push(Key::new(
                Swatch::None,
                format!("median B / median A: {pct:+.1} %"),
            ));
        }
    }
    keys
}

/// Draws the points: A as blue circles, B as orange triangles, each side's
/// counted runs joined by a thin line and its median as a dashed line;
/// warmups as hollow circles. The y axis starts at zero.
pub fn render(points: &[SeqPoint], metric: &str, title: &str) -> Result<String, PlotError> {
    let (y0, y1) = from_zero(points.iter().map(|p| p.value))
        .ok_or_else(|| PlotError::NoData(format!("no successful run has '{metric}'")))?;
    let last = points.iter().map(|p| p.order).max().unwrap_or(0);
    let unit = metric_unit(metric);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let area = with_legend(&root.margin(0, 0, 8, 8), &keys(points, unit))?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(last as f64 + 0.5), y0..y1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc("run order (seq, warmups included)")
            .y_desc(format!("{metric} ({unit})"))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&tick)
            .draw()
            .map_err(draw_err)?;
        for side in [Some("a"), Some("b"), None] {
            draw_side(&mut chart, points, side, last)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_side(
    chart: &mut Chart,
    points: &[SeqPoint],
    side: Option<&str>,
    last: u32,
) -> Result<(), PlotError> {
    let mine: Vec<&SeqPoint> = points
        .iter()
        .filter(|p| p.side.as_deref() == side)
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let colour = colour_of(side);
    let counted: Vec<(f64, f64)> = mine
        .iter()
        .filter(|p| !p.warmup)
        .map(|p| (p.order as f64, p.value))
        .collect();
    if let Some(m) = side_median(points, side) {
        chart
            .draw_series(DashedLineSeries::new(
                [(-0.5, m), (last as f64 + 0.5, m)],
                6,
                4,
                colour.mix(0.8).stroke_width(1),
            ))
            .map_err(draw_err)?;
    }
    chart
        .draw_series(LineSeries::new(
            counted.clone(),
            colour.mix(0.4).stroke_width(1),
        ))
        .map_err(draw_err)?;
    if side == Some("b") {
        chart
            .draw_series(
                counted
                    .iter()
                    .map(|&p| TriangleMarker::new(p, 6, colour.filled())),
            )
            .map_err(draw_err)?;
    } else {
        chart
            .draw_series(counted.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(draw_err)?;
    }
    let warm = mine.iter().filter(|p| p.warmup);
    chart
        .draw_series(
            warm.map(|p| Circle::new((p.order as f64, p.value), 5, colour.stroke_width(2))),
        )
        .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{
        assert_picture, assert_ticks_from_zero, attrs, count, elements, fixture, legend_boxes,
        marks_in_legends, record, texts,
    };

    fn session() -> Vec<RunRecord> {
        vec![
            record(0, Some("a"), true, Some(50.0)),
            record(1, Some("b"), true, Some(48.0)),
            record(2, Some("a"), false, Some(49.0)),
            record(3, Some("b"), false, Some(47.0)),
            record(4, Some("b"), false, Some(46.5)),
            record(5, Some("a"), false, Some(48.0)),
            record(6, Some("a"), false, None),
        ]
    }

    #[test]
    fn points_keep_run_order_and_skip_failed_runs() {
        let mut records = session();
        records.reverse();
        let p = points(&records, "eval_tps");
        assert_eq!(p.len(), 6);
        let orders: Vec<u32> = p.iter().map(|p| p.order).collect();
        assert_eq!(orders, [0, 1, 2, 3, 4, 5]);
        assert_eq!(p[3].side.as_deref(), Some("b"));
        assert_eq!(p[3].value, 47.0);
        assert!(p[0].warmup && !p[2].warmup);
    }

    #[test]
    fn svg_has_one_marker_per_run_per_side_and_labelled_axes() {
        let svg = render(&points(&session(), "eval_tps"), "eval_tps", "title").unwrap();
        // Counted runs plus one legend marker each.
        assert_eq!(count(&svg, "circle", "fill=\"#1F77B4\""), 2 + 1);
        assert_eq!(count(&svg, "polygon", "fill=\"#FF7F0E\""), 2 + 1);
        // Warmups: hollow circles, and the legend's ring.
        assert_eq!(count(&svg, "circle", "fill=\"none\""), 2 + 1);
        // One faint line joining each side's counted runs.
        assert_eq!(
            count(&svg, "polyline", "opacity=\"0.4\" stroke=\"#1F77B4\""),
            1
        );
        assert_eq!(
            count(&svg, "polyline", "opacity=\"0.4\" stroke=\"#FF7F0E\""),
            1
        );
        let t = texts(&svg);
        for label in [
            "title",
            "eval_tps (t/s)",
            "run order (seq, warmups included)",
            "A",
            "B",
            // Medians of the counted runs: A 49, 48 -> 48.5; B 47, 46.5 -> 46.75.
            "median A: 48.5 t/s",
            "median B: 46.8 t/s",
            "median B / median A: -3.6 %",
            "warmup (not counted)",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
    }

    #[test]
    fn points_lie_inside_the_frame_in_order() {
        let svg = render(&points(&session(), "eval_tps"), "eval_tps", "t").unwrap();
        let a = "fill=\"#1F77B4\" stroke=\"none\"";
        let (cx, cy) = (
            attrs(&svg, "circle", a, "cx"),
            attrs(&svg, "circle", a, "cy"),
        );
        // The legend's marker, then the two runs of A (seq 2, 5).
        assert_eq!(cx.len(), 3);
        assert!(cx[1] < cx[2], "{cx:?}");
        // 49 t/s is drawn higher (smaller y) than 48 t/s.
        assert!(cy[1] < cy[2], "{cy:?}");
        for (x, y) in cx.iter().zip(&cy).skip(1) {
            assert!(
                (70.0..890.0).contains(x) && (60.0..430.0).contains(y),
                "{x},{y}"
            );
        }
        // The highest (warmup, 50) and lowest (46.5) values are inside too.
        let warm = attrs(&svg, "circle", "fill=\"none\"", "cy");
        let tips = elements(&svg, "polygon")
            .iter()
            .filter_map(|e| e.split("points=\"").nth(1)?.split(' ').next())
            .filter_map(|xy| xy.split(',').nth(1)?.parse::<f64>().ok())
            .collect::<Vec<f64>>();
        assert_eq!((warm.len(), tips.len()), (3, 3));
        for y in warm.iter().skip(1).chain(tips.iter().skip(1)) {
            assert!((60.0..430.0).contains(y), "{y}");
        }
    }

    /// The compare of the H200 fixture (CPU against CUDA) as a picture: the
    /// legend clear of the data, the axis from zero, ticks without `.0`.
    #[test]
    fn the_h200_comparison_as_a_picture() {
        let records = fixture("h200_compare_cpu_vs_cuda.jsonl");
        let svg = render(&points(&records, "eval_tps"), "eval_tps", "t").unwrap();
        assert_picture(&svg, SIZE, "sequence-h200");
        assert_ticks_from_zero(&svg);
        // The legend holds its own swatches and no data mark: the dot of A,
        // the triangle of B, the warmup ring, and the two dashed samples
        // (three dashes of two points each).
        assert_eq!(legend_boxes(&svg).len(), 1);
        assert_eq!(marks_in_legends(&svg), 3 + 2 * 3 * 2);
        let t = texts(&svg);
        for label in [
            "median A: 52.1 t/s",
            "median B: 809 t/s",
            "median B / median A: +1453.4 %",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
    }

    #[test]
    fn nothing_to_plot_says_so() {
        let failed = vec![record(0, Some("a"), false, None)];
        let e = render(&points(&failed, "eval_tps"), "eval_tps", "t").unwrap_err();
        assert_eq!(
            e,
            PlotError::NoData("no successful run has 'eval_tps'".to_string())
        );
    }
}
