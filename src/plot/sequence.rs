//! Per-run figures of A and B along the run order of a comparison: a trend
//! that both sides share is drift (heat, background load), which the ABBA
//! interleaving cancels; a gap between the two colours is the change.

use plotters::prelude::*;

use super::{draw_err, padded_range, PlotError, COLOUR_A, COLOUR_B, SIZE};
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

/// Draws the points: A as blue circles, B as orange triangles, each side's
/// counted runs joined by a thin line; warmups as hollow circles.
pub fn render(points: &[SeqPoint], metric: &str, title: &str) -> Result<String, PlotError> {
    let (y0, y1) = padded_range(points.iter().map(|p| p.value))
        .ok_or_else(|| PlotError::NoData(format!("no successful run has '{metric}'")))?;
    let last = points.iter().map(|p| p.order).max().unwrap_or(0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(last as f64 + 0.5), y0..y1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("run order (seq, warmups included)")
            .y_desc(format!("{metric} ({})", metric_unit(metric)))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(draw_err)?;
        for side in [Some("a"), Some("b"), None] {
            draw_side(&mut chart, points, side)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_side(chart: &mut Chart, points: &[SeqPoint], side: Option<&str>) -> Result<(), PlotError> {
    let mine: Vec<&SeqPoint> = points
        .iter()
        .filter(|p| p.side.as_deref() == side)
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let colour = if side == Some("b") {
        COLOUR_B
    } else {
        COLOUR_A
    };
    let counted: Vec<(f64, f64)> = mine
        .iter()
        .filter(|p| !p.warmup)
        .map(|p| (p.order as f64, p.value))
        .collect();
    chart
        .draw_series(LineSeries::new(
            counted.clone(),
            colour.mix(0.4).stroke_width(1),
        ))
        .map_err(draw_err)?;
    let name = side_name(side);
    if side == Some("b") {
        chart
            .draw_series(
                counted
                    .iter()
                    .map(|&p| TriangleMarker::new(p, 6, colour.filled())),
            )
            .map_err(draw_err)?
            .label(name)
            .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, colour.filled()));
    } else {
        chart
            .draw_series(counted.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(draw_err)?
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
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
    use crate::plot::svg_test::{attrs, count, elements, record, texts};

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
        // Warmups: hollow circles.
        assert_eq!(count(&svg, "circle", "fill=\"none\""), 2);
        // One line joining each side's counted runs.
        assert_eq!(count(&svg, "polyline", "stroke=\"#1F77B4\""), 1);
        assert_eq!(count(&svg, "polyline", "stroke=\"#FF7F0E\""), 1);
        let t = texts(&svg);
        for label in [
            "title",
            "eval_tps (t/s)",
            "run order (seq, warmups included)",
            "A",
            "B",
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
        // The two runs of A (seq 2, 5), then the legend's marker.
        assert_eq!(cx.len(), 3);
        assert!(cx[0] < cx[1], "{cx:?}");
        // 49 t/s is drawn higher (smaller y) than 48 t/s.
        assert!(cy[0] < cy[1], "{cy:?}");
        for (x, y) in cx.iter().zip(&cy).take(2) {
            assert!(
                (70.0..890.0).contains(x) && (30.0..430.0).contains(y),
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
        assert_eq!((warm.len(), tips.len()), (2, 3));
        for y in warm.iter().chain(&tips) {
            assert!((30.0..430.0).contains(y), "{y}");
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
