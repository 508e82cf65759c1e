//! Plots as SVG text (plotters' SVG backend: no system libraries; the text
//! stays `<text>` for the viewer to set), and as PNG ([`png`]: that SVG
//! rasterized with the font built into tokbench). [`style`] holds what all
//! share: the legend strip above the data, zero-based axes, plain ticks.
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

pub use crate::markup::escape;

#[cfg(test)]
pub(crate) mod svg_test;

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
