//! One run's timeline: GPU busy %, power (W) and memory (GiB) in three
//! panels over the time since the run started, with the generation window
//! shaded when the run placed it (`sampled.window`): what the GPU did while
//! the model loaded, decoded and exited.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{draw_err, padded_range, PlotError, COLOUR_WINDOW, SIZE};
use crate::model::RunRecord;
use crate::sample::{Sample, WindowKind};

/// One named line of a panel: (seconds since the run's start, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What the timeline plot draws, taken out of a run record.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineData {
    pub busy: Vec<Line>,
    pub power: Vec<Line>,
    pub memory: Vec<Line>,
    /// The generation window in seconds, when it was placed (not the whole run).
    pub window: Option<(f64, f64)>,
    /// Right end of the x axis: the run's wall time or its last sample.
    pub end_s: f64,
}

type Getter = fn(&Sample) -> Option<f64>;

const GIB: f64 = (1u64 << 30) as f64;

const BUSY: [(&str, Getter); 2] = [
    ("GPU busy %", |s| s.gpu_busy_pct),
    ("CPU % (process)", |s| s.cpu_pct),
];
const POWER: [(&str, Getter); 3] = [
    ("GPU W", |s| s.gpu_power_w),
    ("CPU W", |s| s.cpu_power_w),
    ("combined W", |s| s.combined_power_w),
];
const MEMORY: [(&str, Getter); 4] = [
    ("GPU memory used (device)", |s| {
        s.gpu_mem_used_bytes.map(|b| b as f64 / GIB)
    }),
    ("GPU memory (process)", |s| {
        s.gpu_mem_bytes.map(|b| b as f64 / GIB)
    }),
    ("RSS", |s| s.rss_bytes.map(|b| b as f64 / GIB)),
    ("phys footprint", |s| {
        s.phys_footprint_bytes.map(|b| b as f64 / GIB)
    }),
];

/// Lines of the figures that some sample has, one per figure and GPU.
fn lines(samples: &[Sample], figures: &[(&str, Getter)]) -> Vec<Line> {
    let mut gpus: Vec<Option<u32>> = samples.iter().map(|s| s.gpu_index).collect();
    gpus.sort();
    gpus.dedup();
    let several = gpus.iter().flatten().count() > 1;
    let mut out = Vec::new();
    for (name, get) in figures {
        for gpu in &gpus {
            let points: Vec<(f64, f64)> = samples
                .iter()
                .filter(|s| s.gpu_index == *gpu)
                .filter_map(|s| Some((s.t_ms / 1000.0, get(s).filter(|v| v.is_finite())?)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let name = match gpu {
                Some(i) if several => format!("{name} (GPU {i})"),
                _ => name.to_string(),
            };
            out.push(Line { name, points });
        }
    }
    out
}

impl TimelineData {
    pub fn from_record(r: &RunRecord) -> TimelineData {
        let window = r
            .sampled
            .as_ref()
            .and_then(|s| s.window.as_ref())
            .filter(|w| w.kind == WindowKind::Generation)
            .map(|w| (w.start_ms / 1000.0, w.end_ms / 1000.0));
        let last = r.timeline.iter().map(|s| s.t_ms).fold(r.wall_ms, f64::max);
        TimelineData {
            busy: lines(&r.timeline, &BUSY),
            power: lines(&r.timeline, &POWER),
            memory: lines(&r.timeline, &MEMORY),
            window,
            end_s: last / 1000.0,
        }
    }

    fn panels(&self) -> Vec<(&'static str, &[Line])> {
        [
            ("busy (%)", self.busy.as_slice()),
            ("power (W)", self.power.as_slice()),
            ("memory (GiB)", self.memory.as_slice()),
        ]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .collect()
    }
}

/// Colours of the lines within a panel.
const PALETTE: [RGBColor; 4] = [
    super::COLOUR_A,
    super::COLOUR_B,
    RGBColor(148, 103, 189),
    RGBColor(214, 39, 40),
];

/// Draws the panels that have data, stacked, on a shared time axis.
pub fn render(data: &TimelineData, title: &str) -> Result<String, PlotError> {
    let panels = data.panels();
    if panels.is_empty() {
        return Err(PlotError::NoData(
            "the run has no timeline of GPU busy, power or memory (run with --sampler)".into(),
        ));
    }
    let height = 60 + 220 * panels.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let areas = root.split_evenly((panels.len(), 1));
        for (i, ((desc, lines), area)) in panels.iter().zip(&areas).enumerate() {
            let last = i + 1 == panels.len();
            panel(area, desc, lines, data, last)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    desc: &str,
    lines: &[Line],
    data: &TimelineData,
    last: bool,
) -> Result<(), PlotError> {
    let values = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let (y0, y1) = padded_range(values).unwrap_or((0.0, 1.0));
    // From zero, and with headroom above the data for the legend.
    let (y0, y1) = (y0.min(0.0), y1 + (y1 - y0.min(0.0)) * 0.45);
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .x_label_area_size(if last { 36 } else { 20 })
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..data.end_s.max(1e-3), y0..y1)
        .map_err(draw_err)?;
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(desc);
    if last {
        mesh.x_desc("time since the run started (s)");
    }
    mesh.draw().map_err(draw_err)?;
    if let Some((s, e)) = data.window {
        shade(&mut chart, s, e, y0, y1)?;
    }
    for (line, colour) in lines.iter().zip(PALETTE.iter().cycle()) {
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(line.points.clone(), colour.stroke_width(2)))
            .map_err(draw_err)?
            .label(line.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_err)
}

fn shade(
    chart: &mut ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    start: f64,
    end: f64,
    y0: f64,
    y1: f64,
) -> Result<(), PlotError> {
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(start, y0), (end, y1)],
            COLOUR_WINDOW.mix(0.15).filled(),
        )))
        .map_err(draw_err)?
        .label("generation window")
        .legend(|(x, y)| {
            Rectangle::new(
                [(x, y - 5), (x + 16, y + 5)],
                COLOUR_WINDOW.mix(0.3).filled(),
            )
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{attrs, count, record, texts};
    use crate::sample::{SampledFigures, SourceKind, Window};

    fn sampled_run() -> RunRecord {
        let mut r = record(1, None, false, Some(50.0));
        r.timeline = (1..=5)
            .map(|i| Sample {
                t_ms: i as f64 * 200.0,
                source: Some(SourceKind::NvidiaSmi),
                gpu_index: Some(0),
                gpu_busy_pct: Some(20.0 * i as f64),
                gpu_power_w: Some(100.0 + i as f64),
                gpu_mem_used_bytes: Some(i << 30),
                ..Default::default()
            })
            .collect();
        r.sampled = Some(SampledFigures {
            window: Some(Window {
                kind: WindowKind::Generation,
                start_ms: 200.0,
                end_ms: 400.0,
                basis: "log timestamp".into(),
            }),
            ..Default::default()
        });
        r
    }

    #[test]
    fn data_from_a_record_in_seconds_and_gib() {
        let d = TimelineData::from_record(&sampled_run());
        assert_eq!(d.window, Some((0.2, 0.4)));
        assert_eq!(d.end_s, 1.0);
        assert_eq!(d.busy[0].name, "GPU busy %");
        assert_eq!(d.busy[0].points[4], (1.0, 100.0));
        assert_eq!(d.power[0].points[0], (0.2, 101.0));
        assert_eq!(d.memory[0].points[2], (0.6, 3.0));
        assert_eq!((d.busy.len(), d.power.len(), d.memory.len()), (1, 1, 1));
    }

    #[test]
    fn three_panels_with_their_lines_labels_and_the_window() {
        let svg = render(&TimelineData::from_record(&sampled_run()), "tl").unwrap();
        // One line per figure, plus its legend swatch.
        assert_eq!(
            count(&svg, "polyline", "stroke=\"#1F77B4\" stroke-width=\"2\""),
            3 * 2
        );
        let t = texts(&svg);
        for label in [
            "tl",
            "busy (%)",
            "power (W)",
            "memory (GiB)",
            "time since the run started (s)",
            "GPU busy %",
            "GPU W",
            "GPU memory used (device)",
            "generation window",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        // The window shaded in each panel: 0.2 s of a 1 s axis.
        let widths = attrs(&svg, "rect", "opacity=\"0.15\"", "width");
        assert_eq!(widths.len(), 3);
        let plot_width = 900.0 - 70.0 - 2.0 * 8.0;
        assert!(
            widths.iter().all(|w| (w / plot_width - 0.2).abs() < 0.02),
            "{widths:?}"
        );
    }

    #[test]
    fn panels_without_data_are_left_out_and_whole_run_is_not_shaded() {
        let mut r = sampled_run();
        for s in &mut r.timeline {
            (s.gpu_busy_pct, s.gpu_power_w) = (None, None);
        }
        if let Some(w) = r.sampled.as_mut().and_then(|s| s.window.as_mut()) {
            w.kind = WindowKind::WholeRun;
        }
        let svg = render(&TimelineData::from_record(&r), "tl").unwrap();
        let t = texts(&svg);
        assert!(t.iter().any(|x| x == "memory (GiB)"));
        assert!(
            !t.iter()
                .any(|x| x == "busy (%)" || x == "generation window"),
            "{t:?}"
        );
        r.timeline.clear();
        let e = render(&TimelineData::from_record(&r), "tl").unwrap_err();
        assert!(matches!(e, PlotError::NoData(_)));
    }
}
