//! One run's timeline: GPU busy %, power (W) and memory (GiB) in three
//! panels over the time since the run started, with the run's phases
//! (start-up, prompt, generation) shaded when the run placed its generation
//! window (`sampled.window`): what the GPU did while the model loaded,
//! read the prompt, decoded and exited.

use plotters::prelude::*;

use super::style::{from_zero, tick, with_legend, Key, Swatch, GRID};
use super::{draw_err, PlotError, COLOUR_GREY, COLOUR_WINDOW, SIZE};
use crate::model::RunRecord;
use crate::sample::{Sample, WindowKind};

/// One named line of a panel: (seconds since the run's start, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn wide and pale under the others: a line that another often
    /// covers exactly (the device's GPU memory under the process's).
    pub under: bool,
}

/// A phase of the run shaded on every panel, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// What the timeline plot draws, taken out of a run record.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineData {
    pub busy: Vec<Line>,
    pub power: Vec<Line>,
    pub memory: Vec<Line>,
    /// Start-up (load), prompt and generation, when the generation window
    /// was placed (not the whole run); in run order.
    pub phases: Vec<Phase>,
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
/// The figure drawn under the others (see [`Line::under`]).
const UNDER: &str = "GPU memory used (device)";
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
            let under = name.starts_with(UNDER);
            out.push(Line {
                name,
                points,
                under,
            });
        }
    }
    out
}

/// The phases of a run whose generation window was placed: generation is
/// the window; the prompt ran just before it, for the prompt time llama.cpp
/// reported; everything before the prompt is start-up (model load, context,
/// warmup), which is all that can be said of it from the record.
pub fn phases(r: &RunRecord) -> Vec<Phase> {
    let Some(w) = r
        .sampled
        .as_ref()
        .and_then(|s| s.window.as_ref())
        .filter(|w| w.kind == WindowKind::Generation)
    else {
        return Vec::new();
    };
    let phase = |name: &str, start_ms: f64, end_ms: f64| Phase {
        name: name.to_string(),
        start_s: start_ms.max(0.0) / 1000.0,
        end_s: end_ms / 1000.0,
    };
    let prompt_ms = r
        .timings
        .as_ref()
        .and_then(|t| t.prompt_eval_ms.as_ref())
        .map(|n| n.0)
        .filter(|v| v.is_finite() && *v > 0.0);
    let prompt_start = w.start_ms - prompt_ms.unwrap_or(0.0);
    let mut out = Vec::new();
    if prompt_start > 0.0 {
        out.push(phase("start-up (load)", 0.0, prompt_start));
    }
    if prompt_ms.is_some() {
        out.push(phase("prompt", prompt_start, w.start_ms));
    }
    out.push(phase("generation", w.start_ms, w.end_ms));
    out
}

impl TimelineData {
    pub fn from_record(r: &RunRecord) -> TimelineData {
        TimelineData {
            phases: phases(r),
            ..TimelineData::from_samples(&r.timeline, r.wall_ms)
        }
    }

    /// A timeline without phases (a serve block: the load is the whole
    /// span), drawn to `end_ms` or its last sample.
    pub fn from_samples(samples: &[Sample], end_ms: f64) -> TimelineData {
        let last = samples.iter().map(|s| s.t_ms).fold(end_ms, f64::max);
        TimelineData {
            busy: lines(samples, &BUSY),
            power: lines(samples, &POWER),
            memory: lines(samples, &MEMORY),
            phases: Vec::new(),
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

/// Shade of each phase: start-up grey, prompt olive, generation green.
fn phase_colour(name: &str) -> RGBColor {
    match name {
        "generation" => COLOUR_WINDOW,
        "prompt" => RGBColor(188, 189, 34),
        _ => COLOUR_GREY,
    }
}

fn keys(lines: &[Line], phases: &[Phase]) -> Vec<Key> {
    let mut keys: Vec<Key> = lines
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(l, c)| {
            let swatch = if l.under {
                Swatch::Wide(*c)
            } else {
                Swatch::Line(*c)
            };
            Key::new(swatch, l.name.as_str())
        })
        .collect();
    keys.extend(
        phases
            .iter()
            .map(|p| Key::new(Swatch::Band(phase_colour(&p.name)), p.name.as_str())),
    );
    keys
}

/// Draws the panels that have data, stacked, on a shared time axis, each
/// with its legend above it and the run's phases shaded.
pub fn render(data: &TimelineData, title: &str) -> Result<String, PlotError> {
    let panels = data.panels();
    if panels.is_empty() {
        return Err(PlotError::NoData(
            "the run has no timeline of GPU busy, power or memory (run with --sampler)".into(),
        ));
    }
    let height = 60 + 250 * panels.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let areas = root.margin(0, 0, 8, 8).split_evenly((panels.len(), 1));
        for (i, ((desc, lines), area)) in panels.iter().zip(&areas).enumerate() {
            let last = i + 1 == panels.len();
            let area = with_legend(area, &keys(lines, &data.phases))?;
            panel(&area, desc, lines, data, last)?;
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
    let (y0, y1) = from_zero(values).unwrap_or((0.0, 1.0));
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .x_label_area_size(if last { 36 } else { 20 })
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..data.end_s.max(1e-3), y0..y1)
        .map_err(draw_err)?;
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .y_desc(desc);
    if last {
        mesh.x_desc("time since the run started (s)");
    }
    mesh.draw().map_err(draw_err)?;
    for p in &data.phases {
        let shade = phase_colour(&p.name).mix(0.15).filled();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(p.start_s, y0), (p.end_s, y1)],
                shade,
            )))
            .map_err(draw_err)?;
    }
    for (line, colour) in lines.iter().zip(PALETTE.iter().cycle()) {
        let style = if line.under {
            colour.mix(0.35).stroke_width(7)
        } else {
            colour.stroke_width(2)
        };
        chart
            .draw_series(LineSeries::new(line.points.clone(), style))
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
        let spans: Vec<(&str, f64, f64)> = d
            .phases
            .iter()
            .map(|p| (p.name.as_str(), p.start_s, p.end_s))
            .collect();
        assert_eq!(
            spans,
            [("start-up (load)", 0.0, 0.2), ("generation", 0.2, 0.4)]
        );
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
        // One line per figure, plus its legend swatch; the device's GPU
        // memory is drawn wide (under the process's line, when there is one).
        assert_eq!(
            count(&svg, "polyline", "stroke=\"#1F77B4\" stroke-width=\"2\""),
            2 * 2
        );
        assert_eq!(
            count(&svg, "polyline", "stroke=\"#1F77B4\" stroke-width=\"7\""),
            2
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
            "start-up (load)",
            "generation",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        // The window shaded in each panel: 0.2 s of a 1 s axis.
        let widths = attrs(&svg, "rect", "opacity=\"0.15\" fill=\"#2CA02C\"", "width");
        assert_eq!(widths.len(), 3);
        let plot_width = 900.0 - 2.0 * 8.0 - 70.0 - 2.0 * 8.0;
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
                .any(|x| x == "busy (%)" || x == "generation" || x == "prompt"),
            "{t:?}"
        );
        r.timeline.clear();
        let e = render(&TimelineData::from_record(&r), "tl").unwrap_err();
        assert!(matches!(e, PlotError::NoData(_)));
    }

    /// Run seq 1 of the H200 fixture: prompt 32.05 ms before a window at
    /// 1840.46..3012.09 ms, so start-up is everything before 1808.41 ms.
    #[test]
    fn the_h200_run_has_its_phases_and_both_gpu_memory_lines() {
        let records = fixture("h200_completion_cuda.jsonl");
        let d = TimelineData::from_record(&records[1]);
        let names: Vec<&str> = d.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["start-up (load)", "prompt", "generation"]);
        assert!(
            (d.phases[1].start_s - 1.80841).abs() < 1e-5,
            "{:?}",
            d.phases
        );
        assert!((d.phases[2].end_s - 3.01209).abs() < 1e-5, "{:?}", d.phases);
        let mem: Vec<(&str, bool)> = d
            .memory
            .iter()
            .map(|l| (l.name.as_str(), l.under))
            .collect();
        assert_eq!(
            mem,
            [
                ("GPU memory used (device)", true),
                ("GPU memory (process)", false),
                ("RSS", false)
            ]
        );
    }

    #[test]
    fn the_h200_timeline_as_a_picture() {
        let records = fixture("h200_completion_cuda.jsonl");
        let svg = render(&TimelineData::from_record(&records[1]), "tl").unwrap();
        assert_picture(&svg, (900, 60 + 250 * 3), "timeline-h200");
        assert_ticks_from_zero(&svg);
        // Three legends, above their panels, holding only their swatches:
        // two line samples (busy), one (power), three (memory), each two
        // points, and no data mark.
        assert_eq!(legend_boxes(&svg).len(), 3);
        assert_eq!(marks_in_legends(&svg), (2 + 1 + 3) * 2);
    }
}
