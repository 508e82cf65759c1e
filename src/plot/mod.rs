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
pub mod sequence;
pub mod serve;
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

pub use crate::markup::escape;

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
}
