//! Plots as SVG text (plotters' SVG backend: no font files, no system
//! libraries; the text stays `<text>` for the viewer to set).
//!
//! Each plot is a pure function from plain data to an SVG string, so the
//! data can come from results files now and from the history database later:
//!
//! * [`sequence`]: per-run t/s of A and B in run order (drift made visible);
//! * [`timeline`]: one run's GPU busy %, power and memory over time, with the
//!   generation window shaded;
//! * [`builds`]: median t/s per build with min–max whiskers;
//! * [`sweep`]: a sweep's metric against memory with the Pareto front and
//!   the tied group, and the per-parameter effect.
//! * [`serve`]: a `tokbench serve` file: latency and throughput against offered load, TTFT CDFs.

pub mod builds;
pub mod command;
pub mod png;
pub mod sequence;
pub mod serve;
pub mod style;
pub mod sweep;
pub mod timeline;

use plotters::style::RGBColor;

/// Size of every plot, in SVG pixels.
pub const SIZE: (u32, u32) = (900, 480);

/// A (baseline) and B (candidate): blue and orange, told apart by colour-blind readers too.
pub const COLOUR_A: RGBColor = RGBColor(31, 119, 180);
pub const COLOUR_B: RGBColor = RGBColor(255, 127, 14);
pub const COLOUR_GREY: RGBColor = RGBColor(150, 150, 150);
pub const COLOUR_WINDOW: RGBColor = RGBColor(44, 160, 44);

/// Why a plot could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The input holds nothing to draw (says what was missing).
    #[error("nothing to plot: {0}")]
    NoData(String),
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// Turns a plotters error into ours (the SVG backend only fails on writes).
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// `[lo, hi]` of the values, padded by 5% of the span (or ±1 around a
/// single value) so no point sits on the frame.
pub fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) =
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<(f64, f64)>, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })?;
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some((lo - pad, hi + pad))
}

/// The label of a segmented axis's column `i` (nothing between columns).
pub(crate) fn segment_label(
    labels: &[String],
    x: &plotters::coord::ranged1d::SegmentValue<i32>,
) -> String {
    match x {
        plotters::coord::ranged1d::SegmentValue::CenterOf(i) => {
            labels.get(*i as usize).cloned().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// Escapes text placed inside SVG/HTML markup.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
pub(crate) mod svg_test {
    //! Reading back what a plot drew, and records to draw, for the tests.

    use crate::model::RunRecord;

    /// The opening tags of every element named `tag`.
    pub fn elements<'s>(svg: &'s str, tag: &str) -> Vec<&'s str> {
        svg.split(&format!("<{tag} "))
            .skip(1)
            .filter_map(|e| e.split('>').next())
            .collect()
    }

    /// Elements named `tag` whose opening tag contains `needle`.
    pub fn count(svg: &str, tag: &str, needle: &str) -> usize {
        elements(svg, tag)
            .iter()
            .filter(|e| e.contains(needle))
            .count()
    }

    /// The text of every `<text>` element, trimmed.
    pub fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_string())
            })
            .collect()
    }

    /// Values of attribute `attr` of the elements named `tag` that contain `needle`.
    pub fn attrs(svg: &str, tag: &str, needle: &str, attr: &str) -> Vec<f64> {
        let key = format!(" {attr}=\"");
        elements(svg, tag)
            .iter()
            .filter(|e| e.contains(needle))
            .filter_map(|e| {
                let e = format!(" {e}");
                let v = &e[e.find(&key)? + key.len()..];
                v[..v.find('"')?].parse().ok()
            })
            .collect()
    }

    /// Boxes `[x0, y0, x1, y1]` of the legends (their fill is [`super::style::LEGEND_BG`]).
    pub fn legend_boxes(svg: &str) -> Vec<[f64; 4]> {
        let bg = "fill=\"#FAFAFA\"";
        let a = |k| attrs(svg, "rect", bg, k);
        let (x, y, w, h) = (a("x"), a("y"), a("width"), a("height"));
        (0..x.len())
            .map(|i| [x[i], y[i], x[i] + w[i], y[i] + h[i]])
            .collect()
    }

    /// Positions of every mark: circle centres, the first point of each
    /// polygon (a triangle's tip) and every vertex of every polyline.
    pub fn marks(svg: &str) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = attrs(svg, "circle", "", "cx")
            .into_iter()
            .zip(attrs(svg, "circle", "", "cy"))
            .collect();
        let points = |tag: &str| -> Vec<Vec<(f64, f64)>> {
            elements(svg, tag)
                .iter()
                .filter_map(|e| e.split("points=\"").nth(1)?.split('"').next())
                .map(|ps| {
                    ps.split(' ')
                        .filter_map(|xy| {
                            let (x, y) = xy.split_once(',')?;
                            Some((x.parse().ok()?, y.parse().ok()?))
                        })
                        .collect()
                })
                .collect()
        };
        out.extend(points("polygon").iter().filter_map(|p| p.first().copied()));
        out.extend(points("polyline").into_iter().flatten());
        out
    }

    /// How many marks lie inside a legend box: only the legend's own
    /// swatches may (a data point there would be hidden by the box).
    pub fn marks_in_legends(svg: &str) -> usize {
        let boxes = legend_boxes(svg);
        marks(svg)
            .iter()
            .filter(|(x, y)| {
                boxes
                    .iter()
                    .any(|b| (b[0]..=b[2]).contains(x) && (b[1]..=b[3]).contains(y))
            })
            .count()
    }

    /// The plot as a picture: the PNG signature, and twice the SVG's size.
    /// With `TOKBENCH_PLOT_DIR` set, the PNG is also written there as
    /// `{name}.png`, to be looked at.
    pub fn assert_picture(svg: &str, size: (u32, u32), name: &str) {
        let png = crate::plot::png::png(svg).expect("the plot rasterizes");
        if let Some(dir) = std::env::var_os("TOKBENCH_PLOT_DIR") {
            let path = std::path::Path::new(&dir).join(format!("{name}.png"));
            std::fs::write(&path, &png).expect("the PNG is written");
        }
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        assert_eq!((be(16), be(20)), (size.0 * 2, size.1 * 2));
    }

    /// Tick labels: no `.0` left on any, and a `0` (the axis starts at zero).
    pub fn assert_ticks_from_zero(svg: &str) {
        let t = texts(svg);
        assert!(t.iter().any(|x| x == "0"), "no 0 tick in {t:?}");
        assert!(
            !t.iter()
                .any(|x| x.ends_with(".0") && x.parse::<f64>().is_ok()),
            "{t:?}"
        );
    }

    /// The records of a recorded results file under `fixtures/results/`.
    pub fn fixture(name: &str) -> Vec<RunRecord> {
        let path = format!("{}/fixtures/results/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .expect("the fixture exists")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a run record"))
            .collect()
    }

    /// A successful run of `label` with `eval_tps` (None: a failed run).
    pub fn record(seq: u32, side: Option<&str>, warmup: bool, eval_tps: Option<f64>) -> RunRecord {
        let mut r: RunRecord = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tokbench_version": "0", "label": "build-x", "seq": seq,
            "started_at": format!("2025-01-01T00:00:{seq:02}Z"), "warmup": warmup,
            "binary": {"path": "llama", "sha256": "00"}, "argv": [], "env": {}, "build": {},
            "model": {"path": "m.gguf", "size_bytes": 1}, "machine": {"arch": "x86_64",
            "cpu_logical_cores": 2, "memory_total_bytes": 1}, "exit": {"code": 0, "signal": null},
            "status": "ok", "wall_ms": 1000.0, "stdout_bytes": 0, "stderr_bytes": 0
        }))
        .expect("a valid record");
        r.side = side.map(str::to_string);
        match eval_tps {
            Some(v) => {
                r.timings = Some(crate::model::Timings {
                    eval_tps: Some(crate::model::Num(v)),
                    ..Default::default()
                })
            }
            None => r.status = "failed".to_string(),
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_cover_the_data() {
        assert_eq!(padded_range([10.0, 20.0]), Some((9.5, 20.5)));
        assert_eq!(padded_range([4.0]), Some((3.8, 4.2)));
        assert_eq!(padded_range([f64::NAN]), None);
        assert_eq!(padded_range(Vec::new()), None);
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
