//! A sweep at a glance: on the left the metric against memory, one point
//! per feasible cell, the Pareto front joined by a line, the tied group in
//! orange and the best ringed; on the right the per-parameter effect, the
//! median of the cells' medians for each value of each dimension.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{from_zero, tick, with_legend, Key, Swatch, GRID};
use super::{
    draw_err, padded_range, segment_label, PlotError, COLOUR_A, COLOUR_B, COLOUR_GREY, SIZE,
};
use crate::metrics::unit as metric_unit;
use crate::metrics::Direction;
use crate::stats::median;
use crate::sweep::race::Status;
use crate::sweep::result::{non_dominated, Row, SweepResult};

/// A feasible cell's point: (memory in MiB or rank, metric).
#[derive(Debug, Clone, PartialEq)]
pub struct CellPoint {
    pub cell: String,
    pub x: f64,
    pub y: f64,
    pub tied: bool,
    pub best: bool,
    /// On the sweep's Pareto front (every objective it used).
    pub pareto: bool,
    /// On the front of the two plotted quantities (the metric and the memory
    /// axis): the points the front line joins.
    pub front: bool,
}

/// The points and the x axis's name: GPU memory where every feasible cell
/// has it, else host RSS, else the rank (nothing sampled).
pub fn points(r: &SweepResult) -> (Vec<CellPoint>, String) {
    let feasible: Vec<&Row> = r.rows.iter().filter(|row| row.median.is_some()).collect();
    let gpu = feasible.iter().all(|row| row.gpu_mem_bytes.is_some());
    let rss = feasible.iter().all(|row| row.peak_rss_bytes.is_some());
    let axis = match (gpu, rss) {
        (true, _) => "peak GPU memory (MiB)",
        (false, true) => "peak host RSS (MiB)",
        _ => "rank (no memory sampled)",
    };
    let x_of = |i: usize, row: &Row| {
        let mib = |b: Option<u64>| b.map(|b| b as f64 / 1_048_576.0);
        match (gpu, rss) {
            (true, _) => mib(row.gpu_mem_bytes),
            (false, true) => mib(row.peak_rss_bytes),
            _ => Some(i as f64 + 1.0),
        }
    };
    let mut pts: Vec<CellPoint> = feasible
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            Some(CellPoint {
                cell: row.cell.clone(),
                x: x_of(i, row)?,
                y: row.median?,
                tied: r.tied_group.contains(&row.cell),
                best: row.status == Status::Best,
                pareto: r.pareto.contains(&row.cell),
                front: false,
            })
        })
        .collect();
    if gpu || rss {
        mark_plotted_front(&mut pts, r.direction, r.threshold);
    }
    (pts, axis.to_string())
}

/// Marks the points no other beats on both plotted quantities (more of the
/// metric, or less where lower is better, and less memory), with the
/// sweep's threshold as the memory tolerance, as the result's front uses.
fn mark_plotted_front(pts: &mut [CellPoint], direction: Direction, tol: f64) {
    let sign = match direction {
        Direction::HigherIsBetter => -1.0,
        Direction::LowerIsBetter => 1.0,
    };
    let scores: Vec<Vec<f64>> = pts.iter().map(|p| vec![sign * p.y, p.x]).collect();
    for i in non_dominated(&scores, &[0.0, tol]) {
        pts[i].front = true;
    }
}

/// Per dimension: its name and (value label, median of the medians) per value.
pub fn effects(r: &SweepResult) -> Vec<(String, Vec<(String, f64)>)> {
    r.dimensions
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            let per_value = (0..dim.len())
                .filter_map(|v| {
                    let ms: Vec<f64> = r
                        .rows
                        .iter()
                        .filter(|row| row.coords.get(d) == Some(&v))
                        .filter_map(|row| row.median)
                        .collect();
                    let label = dim.args(v).last().cloned().unwrap_or_default();
                    (!ms.is_empty()).then(|| (label, median(&ms)))
                })
                .collect();
            (dim.name(), per_value)
        })
        .collect()
}

pub fn render(r: &SweepResult, title: &str) -> Result<String, PlotError> {
    let (pts, axis) = points(r);
    if pts.is_empty() {
        return Err(PlotError::NoData("no feasible cell has a median".into()));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + 300, SIZE.1)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let (left, right) = root.split_horizontally(SIZE.0 - 60);
        scatter(&left, &pts, &axis, &r.metric)?;
        let effects = effects(r);
        if !effects.is_empty() {
            let panels = right.split_evenly((effects.len(), 1));
            for (panel, (name, values)) in panels.iter().zip(&effects) {
                effect(panel, name, values, &r.metric)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

const SCATTER_KEYS: [(Swatch, &str); 4] = [
    (Swatch::Line(COLOUR_A), "Pareto front (metric, memory)"),
    (Swatch::Dot(COLOUR_B), "tied with the best"),
    (Swatch::Dot(COLOUR_GREY), "other cells"),
    (Swatch::Ring(BLACK), "the best"),
];

fn scatter(
    area: &DrawingArea<SVGBackend, Shift>,
    pts: &[CellPoint],
    axis: &str,
    metric: &str,
) -> Result<(), PlotError> {
    let (x0, x1) = padded_range(pts.iter().map(|p| p.x)).unwrap_or((0.0, 1.0));
    let (y0, y1) = from_zero(pts.iter().map(|p| p.y)).unwrap_or((0.0, 1.0));
    let area = &with_legend(area, &SCATTER_KEYS.map(|(s, t)| Key::new(s, t)))?;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc(axis)
        .y_desc(format!("{metric} ({}): median", metric_unit(metric)))
        .draw()
        .map_err(draw_err)?;
    let mut front: Vec<(f64, f64)> = pts.iter().filter(|p| p.front).map(|p| (p.x, p.y)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart
        .draw_series(LineSeries::new(staircase(&front), COLOUR_A.stroke_width(1)))
        .map_err(draw_err)?;
    let colour = |p: &CellPoint| if p.tied { COLOUR_B } else { COLOUR_GREY };
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.x, p.y), 5, colour(p).filled())),
        )
        .map_err(draw_err)?;
    chart
        .draw_series(
            pts.iter()
                .filter(|p| p.best)
                .map(|p| Circle::new((p.x, p.y), 9, BLACK.stroke_width(2))),
        )
        .map_err(draw_err)?;
    label_cells(&mut chart, pts, (x0 + x1) / 2.0)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The front from point to point as steps: from each point, across at its
/// value to the next point's memory, then up or down to it, so the line
/// never passes above a cell the front does not hold.
fn staircase(front: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut steps = Vec::with_capacity(front.len() * 2);
    for (i, &(x, y)) in front.iter().enumerate() {
        if i > 0 {
            steps.push((x, front[i - 1].1));
        }
        steps.push((x, y));
    }
    steps
}

/// The best's, the tied cells' and the front cells' labels beside their
/// point, to the left of points right of `mid` so none runs off the frame.
/// A label that would overlap one already placed is left out (the table
/// names every cell); the best and the tied cells are placed first.
fn label_cells(chart: &mut Chart, pts: &[CellPoint], mid: f64) -> Result<(), PlotError> {
    let mut order: Vec<&CellPoint> = pts.iter().filter(|p| p.tied || p.front).collect();
    order.sort_by_key(|p| (!p.best, !p.tied));
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let mut shown = Vec::new();
    for p in order {
        let (px, py) = chart.backend_coord(&(p.x, p.y));
        let width = 7 * p.cell.chars().count() as i32;
        let right = p.x > mid;
        let x0 = if right { px - 10 - width } else { px + 10 };
        let rect = (x0, py - 20, x0 + width, py - 6);
        let overlaps =
            |q: &(i32, i32, i32, i32)| rect.0 < q.2 && q.0 < rect.2 && rect.1 < q.3 && q.1 < rect.3;
        if placed.iter().any(overlaps) {
            continue;
        }
        placed.push(rect);
        shown.push((p, right));
    }
    chart
        .draw_series(shown.into_iter().map(|(p, right)| {
            let (h, dx) = if right {
                (HPos::Right, -10)
            } else {
                (HPos::Left, 10)
            };
            let style =
                TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(h, VPos::Bottom));
            EmptyElement::at((p.x, p.y)) + Text::new(p.cell.clone(), (dx, -6), style)
        }))
        .map_err(draw_err)?;
    Ok(())
}

fn effect(
    area: &DrawingArea<SVGBackend, Shift>,
    name: &str,
    values: &[(String, f64)],
    metric: &str,
) -> Result<(), PlotError> {
    let (y0, y1) = from_zero(values.iter().map(|v| v.1)).unwrap_or((0.0, 1.0));
    let n = values.len().max(1) as i32;
    let labels: Vec<String> = values.iter().map(|v| v.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{name}: median {metric}"), ("sans-serif", 13))
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(45)
        .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
        .map_err(draw_err)?;
    let label_of = |x: &SegmentValue<i32>| segment_label(&labels, x);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(values.len())
        .x_label_formatter(&label_of)
        .y_label_formatter(&tick)
        .draw()
        .map_err(draw_err)?;
    let at = |i: usize| SegmentValue::CenterOf(i as i32);
    chart
        .draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (at(i), v.1)),
            COLOUR_A.stroke_width(2),
        ))
        .map_err(draw_err)?;
    chart
        .draw_series(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| Circle::new((at(i), v.1), 4, COLOUR_A.filled())),
        )
        .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{
        assert_picture, assert_ticks_from_zero, count, legend_boxes, marks_in_legends, texts,
    };
    use crate::sweep::vary::parse_vary;

    fn row(
        cell: &str,
        coords: Vec<usize>,
        median: Option<f64>,
        rss_mb: u64,
        status: Status,
    ) -> Row {
        Row {
            cell: cell.into(),
            args: shlex::split(cell).unwrap(),
            coords,
            median,
            change_pct: None,
            change_ci_low_pct: None,
            change_ci_high_pct: None,
            rounds: 10,
            status,
            peak_rss_bytes: median.map(|_| rss_mb << 20),
            gpu_mem_bytes: None,
            j_per_token: None,
        }
    }

    fn result() -> SweepResult {
        let json = serde_json::json!({
            "metric": "eval_tps", "dimensions": [], "direction": "higher_is_better",
            "threshold": 0.01, "alpha": 0.05, "seed": 1, "rounds": 10, "runs": 30,
            "runs_without_racing": 40, "stop": "all_tied", "per_look_confidence": null,
            "looks": [], "rows": [], "tied_group": ["-t 2 -fa on", "-t 1 -fa on"],
            "pareto": ["-t 2 -fa on", "-t 1 -fa on"], "pareto_objectives": ["metric", "host memory"],
            "drift": null, "recommendation": null
        });
        let mut r: SweepResult = serde_json::from_value(json).unwrap();
        r.dimensions = vec![
            parse_vary("-t 1,2").unwrap(),
            parse_vary("-fa on,off").unwrap(),
        ];
        r.rows = vec![
            row("-t 2 -fa on", vec![1, 0], Some(60.0), 700, Status::Best),
            row("-t 1 -fa on", vec![0, 0], Some(59.8), 500, Status::Tied),
            row(
                "-t 2 -fa off",
                vec![1, 1],
                Some(50.0),
                800,
                Status::Eliminated { round: 4 },
            ),
            row(
                "-t 1 -fa off",
                vec![0, 1],
                None,
                0,
                Status::Infeasible {
                    cause: crate::sweep::infeasible::no_metric("eval_tps"),
                },
            ),
        ];
        r
    }

    #[test]
    fn memory_axis_groups_and_effects() {
        let r = result();
        let (pts, axis) = points(&r);
        assert_eq!(axis, "peak host RSS (MiB)");
        assert_eq!(pts.len(), 3);
        assert_eq!(
            (pts[1].x, pts[1].y, pts[1].tied, pts[1].best),
            (500.0, 59.8, true, false)
        );
        assert!(pts[0].best && !pts[2].tied && !pts[2].pareto);
        let e = effects(&r);
        assert_eq!(e[0].0, "-t");
        assert_eq!(e[0].1, [("1".to_string(), 59.8), ("2".to_string(), 55.0)]);
        assert_eq!(
            e[1].1,
            [("on".to_string(), 59.9), ("off".to_string(), 50.0)]
        );
    }

    #[test]
    fn the_line_joins_only_the_front_of_the_plotted_axes_as_steps() {
        let mut r = result();
        // On the result's front (say, for its energy) but slower than the
        // best at the same memory, within 1%: off the plotted front.
        r.rows[2].peak_rss_bytes = Some(703 << 20);
        r.pareto.push("-t 2 -fa off".into());
        let (pts, _) = points(&r);
        let front: Vec<&str> = pts
            .iter()
            .filter(|p| p.front)
            .map(|p| p.cell.as_str())
            .collect();
        assert_eq!(front, ["-t 2 -fa on", "-t 1 -fa on"]);
        assert!(pts[2].pareto && !pts[2].front);
        assert_eq!(
            staircase(&[(500.0, 59.8), (700.0, 60.0)]),
            [(500.0, 59.8), (700.0, 59.8), (700.0, 60.0)]
        );
    }

    #[test]
    fn the_svg_marks_the_front_the_tied_group_and_the_best() {
        let svg = render(&result(), "sweep").unwrap();
        let t = texts(&svg);
        assert!(t.contains(&"-t 1 -fa on".to_string()), "{t:?}");
        assert!(!t.contains(&"-t 2 -fa off".to_string()));
        assert!(t.contains(&"-fa: median eval_tps".to_string()));
        // Tied points in orange (255,127,14), the eliminated one grey.
        assert_eq!(count(&svg, "circle", "fill=\"#FF7F0E\""), 2 + 1);
        assert!(count(&svg, "circle", "fill=\"#969696\"") >= 1);
        assert_picture(&svg, (SIZE.0 + 300, SIZE.1), "sweep");
        assert_ticks_from_zero(&svg);
        // One legend: the front's line (two points), three dots, no data mark.
        assert_eq!(legend_boxes(&svg).len(), 1);
        assert_eq!(marks_in_legends(&svg), 2 + 3);
    }

    #[test]
    fn nothing_feasible_is_no_data() {
        let mut r = result();
        r.rows.retain(|row| row.median.is_none());
        assert!(matches!(render(&r, "x"), Err(PlotError::NoData(_))));
    }
}
