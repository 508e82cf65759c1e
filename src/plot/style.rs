//! What every plot shares: tick labels without a useless `.0`, axes that
//! start at zero, the grid's colour, and the legend, drawn in a strip of its
//! own above the plotting area so it can never cover data.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{draw_err, PlotError};

/// Fill of every legend box (the tests find legends by it).
pub const LEGEND_BG: RGBColor = RGBColor(250, 250, 250);
/// Major grid lines (minor ones are left out: they crowd a raster image).
pub const GRID: RGBColor = RGBColor(225, 225, 225);

const KEY_FONT: u32 = 13;
const ROW_H: u32 = 20;
/// Width of a character of the legend's font, generously (DejaVu Sans at 13 px).
const CHAR_W: f64 = 7.0;
const SWATCH_W: i32 = 22;
const KEY_GAP: i32 = 18;

/// A tick label: up to 4 decimals, trailing zeros dropped (`500`, `2.5`).
pub fn tick(v: &f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".to_string(),
        s => s.to_string(),
    }
}

/// `[0, max]` with 5% headroom: a rate or amount axis that starts at zero,
/// so the gap between two bars reads at its true size.
pub fn from_zero(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let hi = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?;
    Some((0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 }))
}

/// A figure with a few significant digits (`812`, `51.2`, `0.379`).
pub fn sig(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    Line(RGBColor),
    /// A wide, pale line: a series drawn under another that may hide it.
    Wide(RGBColor),
    Dashed(RGBColor),
    Band(RGBColor),
    Dot(RGBColor),
    Ring(RGBColor),
    Triangle(RGBColor),
    /// No mark: a statement (such as the change of the medians).
    None,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub swatch: Swatch,
    pub text: String,
}

impl Key {
    pub fn new(swatch: Swatch, text: impl Into<String>) -> Key {
        Key {
            swatch,
            text: text.into(),
        }
    }
}

fn key_width(k: &Key) -> i32 {
    let mark = if k.swatch == Swatch::None {
        0
    } else {
        SWATCH_W + 6
    };
    mark + (k.text.chars().count() as f64 * CHAR_W).ceil() as i32
}

/// The keys in rows that fit `width` pixels (a key wider than a row gets one to itself).
pub fn rows(keys: &[Key], width: u32) -> Vec<Vec<&Key>> {
    let mut out: Vec<Vec<&Key>> = Vec::new();
    let mut used = 0;
    for k in keys {
        let w = key_width(k) + KEY_GAP;
        match out.last_mut() {
            Some(row) if used + w <= width as i32 => {
                row.push(k);
                used += w;
            }
            _ => {
                out.push(vec![k]);
                used = w;
            }
        }
    }
    out
}

/// Height of the strip the keys need at `width` (0 without keys).
pub fn legend_height(keys: &[Key], width: u32) -> u32 {
    match rows(keys, width).len() as u32 {
        0 => 0,
        n => n * ROW_H + 8,
    }
}

fn swatch(
    area: &DrawingArea<SVGBackend, Shift>,
    s: Swatch,
    x: i32,
    y: i32,
) -> Result<(), PlotError> {
    let line =
        |c: RGBColor, w: u32| PathElement::new(vec![(x, y), (x + SWATCH_W, y)], c.stroke_width(w));
    let mid = (x + SWATCH_W / 2, y);
    match s {
        Swatch::Line(c) => area.draw(&line(c, 2)),
        Swatch::Wide(c) => area.draw(&PathElement::new(
            vec![(x, y), (x + SWATCH_W, y)],
            c.mix(0.35).stroke_width(7),
        )),
        Swatch::Dashed(c) => area.draw(&DashedPathElement::new(
            vec![(x, y), (x + SWATCH_W, y)],
            5,
            3,
            c.stroke_width(2),
        )),
        Swatch::Band(c) => area.draw(&Rectangle::new(
            [(x, y - 6), (x + SWATCH_W, y + 6)],
            c.mix(0.3).filled(),
        )),
        Swatch::Dot(c) => area.draw(&Circle::new(mid, 4, c.filled())),
        Swatch::Ring(c) => area.draw(&Circle::new(mid, 5, c.stroke_width(2))),
        Swatch::Triangle(c) => area.draw(&TriangleMarker::new(mid, 6, c.filled())),
        Swatch::None => Ok(()),
    }
    .map_err(draw_err)
}

/// Draws the keys in a boxed strip filling `area` (made `legend_height` tall).
pub fn legend(area: &DrawingArea<SVGBackend, Shift>, keys: &[Key]) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    let rows = rows(keys, w.saturating_sub(16));
    if rows.is_empty() {
        return Ok(());
    }
    let widest = rows
        .iter()
        .map(|r| r.iter().map(|k| key_width(k) + KEY_GAP).sum::<i32>())
        .max()
        .unwrap_or(0);
    let box_w = (widest + 8).min(w as i32 - 4);
    area.draw(&Rectangle::new(
        [(4, 2), (4 + box_w, h as i32 - 2)],
        ShapeStyle::from(&LEGEND_BG).filled(),
    ))
    .map_err(draw_err)?;
    area.draw(&Rectangle::new(
        [(4, 2), (4 + box_w, h as i32 - 2)],
        GRID.stroke_width(1),
    ))
    .map_err(draw_err)?;
    let font = ("sans-serif", KEY_FONT)
        .into_font()
        .into_text_style(area)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
    for (i, row) in rows.iter().enumerate() {
        let y = 4 + ROW_H as i32 / 2 + 2 + i as i32 * ROW_H as i32;
        let mut x = 12;
        for k in row {
            if k.swatch != Swatch::None {
                swatch(area, k.swatch, x, y)?;
                x += SWATCH_W + 6;
            }
            area.draw(&Text::new(k.text.clone(), (x, y), font.clone()))
                .map_err(draw_err)?;
            x += key_width(k)
                - if k.swatch == Swatch::None {
                    0
                } else {
                    SWATCH_W + 6
                }
                + KEY_GAP;
        }
    }
    Ok(())
}

/// `area` split into the legend strip on top and the rest.
pub fn with_legend<'a>(
    area: &DrawingArea<SVGBackend<'a>, Shift>,
    keys: &[Key],
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, PlotError> {
    let h = legend_height(keys, area.dim_in_pixel().0.saturating_sub(16));
    let (top, rest) = area.split_vertically(h);
    legend(&top, keys)?;
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drop_the_useless_decimals() {
        let t: Vec<String> = [500.0, 2.5, 0.25, -0.0, 1e-6, 15000.0, 0.1 + 0.2]
            .iter()
            .map(tick)
            .collect();
        assert_eq!(t, ["500", "2.5", "0.25", "0", "0", "15000", "0.3"]);
    }

    #[test]
    fn rate_axes_start_at_zero() {
        assert_eq!(from_zero([720.0, 900.0]), Some((0.0, 945.0)));
        assert_eq!(from_zero([0.0]), Some((0.0, 1.0)));
        assert_eq!(from_zero([f64::NAN]), None);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(
            [812.4, 51.23, 2.456, 0.37939].map(sig),
            ["812", "51.2", "2.46", "0.379"]
        );
    }

    #[test]
    fn keys_wrap_into_rows_that_fit() {
        let keys: Vec<Key> = (0..6)
            .map(|i| Key::new(Swatch::Dot(BLACK), format!("key number {i}")))
            .collect();
        // Each key: 28 + 12*7 = 112, plus the gap: 130 px.
        assert_eq!(rows(&keys, 900).len(), 1);
        assert_eq!(
            rows(&keys, 300).iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 2, 2]
        );
        assert_eq!(legend_height(&keys, 300), 3 * ROW_H + 8);
        assert_eq!(legend_height(&[], 300), 0);
    }
}
