//! `tokbench plot serve`: a `serve -o` file drawn in three panels: latency
//! percentiles (TTFT p50 and p99, ITL p50) against the offered load, the
//! achieved throughput against the offered load (with the line where they
//! are equal: a server that keeps up stays on it), and the CDF of TTFT
//! (from the intended send) of each block.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;
use serde_json::Value;

use super::style::{from_zero, tick, with_legend, Key, Swatch, GRID};
use super::{draw_err, PlotError, COLOUR_A, COLOUR_B, COLOUR_GREY, COLOUR_WINDOW};

/// Most blocks whose CDFs are drawn (the first ones).
const MAX_CDFS: usize = 8;

/// One block's point on the curves.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockPoint {
    pub offered: f64,
    pub achieved: Option<f64>,
    pub ttft_p50: Option<f64>,
    pub ttft_p99: Option<f64>,
    pub itl_p50: Option<f64>,
}

/// What the plot needs from the records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServeData {
    pub blocks: Vec<BlockPoint>,
    /// Per block (in order): its counted requests' TTFT.
    pub ttft: Vec<(usize, Vec<f64>)>,
    pub axis: &'static str,
}

fn offered(b: &Value) -> Option<f64> {
    b["load"]["rate_rps"]
        .as_f64()
        .or(b["load"]["concurrency"].as_f64())
}

/// Reads the `serve_block` and `serve_request` records of a `serve -o` file.
pub fn read(path: &Path) -> Result<ServeData> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read results file '{}'", path.display()))?;
    let mut d = ServeData {
        axis: "offered req/s",
        ..ServeData::default()
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("results file '{}': a line is not JSON", path.display()))?;
        match v["kind"].as_str() {
            Some("serve_block") => {
                if v["load"]["mode"] == "closed" {
                    d.axis = "concurrency";
                }
                let f = |k: &str, s: &str| v[k][s].as_f64();
                let Some(x) = offered(&v) else { continue };
                d.blocks.push(BlockPoint {
                    offered: x,
                    achieved: v["throughput"]["achieved_rps"].as_f64(),
                    ttft_p50: f("ttft_ms", "p50"),
                    ttft_p99: f("ttft_ms", "p99"),
                    itl_p50: f("itl_ms", "p50"),
                });
            }
            Some("serve_request") if v["warmup"] == false && v["status"] == "ok" => {
                let (Some(b), Some(t)) = (v["block"].as_u64(), v["ttft_ms"].as_f64()) else {
                    continue;
                };
                match d.ttft.iter_mut().find(|(k, _)| *k == b as usize) {
                    Some((_, ts)) => ts.push(t),
                    None => d.ttft.push((b as usize, vec![t])),
                }
            }
            _ => {}
        }
    }
    if d.blocks.is_empty() {
        anyhow::bail!("results file '{}' holds no 'serve_block' record: make it with 'tokbench serve -o FILE'", path.display());
    }
    d.blocks.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    Ok(d)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn line(
    chart: &mut Chart<'_, '_>,
    pts: Vec<(f64, f64)>,
    colour: RGBColor,
) -> Result<(), PlotError> {
    let style = colour.stroke_width(2);
    chart
        .draw_series(LineSeries::new(pts.clone(), style))
        .map_err(draw_err)?;
    chart
        .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
        .map_err(draw_err)?;
    Ok(())
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

/// A panel's chart with its caption, its legend strip and its mesh.
fn frame<'a, 'b>(
    area: &'a Area<'b>,
    title: &str,
    keys: &[Key],
    x: (f64, f64),
    y: (f64, f64),
    desc: (&str, &str),
) -> Result<Chart<'a, 'b>, PlotError> {
    let area = area.titled(title, ("sans-serif", 16)).map_err(draw_err)?;
    let area = with_legend(&area, keys)?;
    let mut c = ChartBuilder::on(&area)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(draw_err)?;
    c.configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc(desc.0)
        .y_desc(desc.1)
        .draw()
        .map_err(draw_err)?;
    Ok(c)
}

fn latency_panel(area: &Area<'_>, d: &ServeData) -> Result<(), PlotError> {
    let xr = from_zero(d.blocks.iter().map(|b| b.offered)).unwrap_or((0.0, 1.0));
    let ys = d
        .blocks
        .iter()
        .flat_map(|b| [b.ttft_p50, b.ttft_p99, b.itl_p50])
        .flatten();
    let yr = from_zero(ys).ok_or_else(|| PlotError::NoData("no block has a TTFT".into()))?;
    let keys = [
        Key::new(Swatch::Line(COLOUR_A), "TTFT p50"),
        Key::new(Swatch::Line(COLOUR_B), "TTFT p99"),
        Key::new(Swatch::Line(COLOUR_WINDOW), "ITL p50"),
    ];
    let title = "latency against offered load";
    let mut c = frame(area, title, &keys, xr, yr, (d.axis, "ms"))?;
    let series = |f: fn(&BlockPoint) -> Option<f64>| {
        d.blocks
            .iter()
            .filter_map(|b| Some((b.offered, f(b)?)))
            .collect::<Vec<_>>()
    };
    line(&mut c, series(|b| b.ttft_p50), COLOUR_A)?;
    line(&mut c, series(|b| b.ttft_p99), COLOUR_B)?;
    line(&mut c, series(|b| b.itl_p50), COLOUR_WINDOW)
}

fn throughput_panel(area: &Area<'_>, d: &ServeData) -> Result<(), PlotError> {
    let xr = from_zero(d.blocks.iter().map(|b| b.offered)).unwrap_or((0.0, 1.0));
    let open = d.axis != "concurrency";
    let ys = d.blocks.iter().filter_map(|b| b.achieved);
    let yr = from_zero(ys.chain(open.then_some(xr.1))).unwrap_or((0.0, 1.0));
    let mut keys = vec![Key::new(Swatch::Line(COLOUR_A), "achieved")];
    if open {
        keys.push(Key::new(Swatch::Line(COLOUR_GREY), "achieved = offered"));
    }
    let title = "achieved against offered";
    let mut c = frame(area, title, &keys, xr, yr, (d.axis, "achieved req/s"))?;
    if open {
        c.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (xr.1, xr.1)],
            COLOUR_GREY.stroke_width(1),
        ))
        .map_err(draw_err)?;
    }
    line(
        &mut c,
        d.blocks
            .iter()
            .filter_map(|b| Some((b.offered, b.achieved?)))
            .collect(),
        COLOUR_A,
    )
}

fn cdf_panel(area: &Area<'_>, d: &ServeData) -> Result<(), PlotError> {
    let xr = from_zero(d.ttft.iter().flat_map(|(_, v)| v.iter().copied())).unwrap_or((0.0, 1.0));
    let colour = |i: usize| Palette99::pick(i).to_rgba();
    let rgb = |i: usize| {
        let (r, g, b) = colour(i).rgb();
        RGBColor(r, g, b)
    };
    let keys: Vec<Key> = d
        .ttft
        .iter()
        .take(MAX_CDFS)
        .enumerate()
        .map(|(i, (b, _))| Key::new(Swatch::Line(rgb(i)), format!("block {b}")))
        .collect();
    let desc = ("TTFT from intended send (ms)", "fraction");
    let mut c = frame(area, "TTFT CDF per block", &keys, xr, (0.0, 1.0), desc)?;
    for (i, (_, v)) in d.ttft.iter().take(MAX_CDFS).enumerate() {
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len() as f64;
        let pts: Vec<(f64, f64)> = s
            .iter()
            .enumerate()
            .map(|(k, &x)| (x, (k + 1) as f64 / n))
            .collect();
        c.draw_series(LineSeries::new(pts, rgb(i).stroke_width(2)))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The three panels side by side.
pub fn render(d: &ServeData, title: &str) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1350, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
        let panels = root.split_evenly((1, 3));
        latency_panel(&panels[0], d)?;
        throughput_panel(&panels[1], d)?;
        cdf_panel(&panels[2], d)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test::{
        assert_picture, assert_ticks_from_zero, count, legend_boxes, marks_in_legends, texts,
    };

    #[test]
    fn serve_file_reads_blocks_and_requests() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        let lines = [
            r#"{"kind":"serve_request","block":0,"warmup":false,"status":"ok","ttft_ms":50.0}"#,
            r#"{"kind":"serve_request","block":0,"warmup":true,"status":"ok","ttft_ms":999.0}"#,
            r#"{"kind":"serve_request","block":0,"warmup":false,"status":"ok","ttft_ms":70.0}"#,
            r#"{"kind":"serve_block","block":0,"load":{"mode":"open","rate_rps":2.0},"throughput":{"achieved_rps":1.9},"ttft_ms":{"p50":60.0,"p99":null},"itl_ms":{"p50":20.0}}"#,
            r#"{"kind":"serve_block","block":1,"load":{"mode":"open","rate_rps":1.0},"throughput":{"achieved_rps":1.0},"ttft_ms":{"p50":55.0},"itl_ms":{"p50":19.0}}"#,
        ];
        std::fs::write(&p, lines.join("\n")).unwrap();
        let d = read(&p).unwrap();
        let want = BlockPoint {
            offered: 1.0,
            achieved: Some(1.0),
            ttft_p50: Some(55.0),
            ttft_p99: None,
            itl_p50: Some(19.0),
        };
        assert_eq!(d.blocks[0], want);
        assert_eq!(d.blocks[1].offered, 2.0);
        assert_eq!(d.ttft, vec![(0, vec![50.0, 70.0])]);
        let svg = render(&d, "serve").unwrap();
        assert!(texts(&svg).iter().any(|t| t == "TTFT CDF per block"));
        assert_picture(&svg, (1350, 480), "serve");
        assert_ticks_from_zero(&svg);
        // Three legends (latency: three line samples, throughput: two, the
        // CDFs: one block), two points each, and no data mark under them.
        assert_eq!(legend_boxes(&svg).len(), 3);
        assert_eq!(marks_in_legends(&svg), (3 + 2 + 1) * 2);
        assert!(
            count(&svg, "circle", "") >= 4,
            "one dot per block and series"
        );
        std::fs::write(&p, lines[0]).unwrap();
        assert!(read(&p)
            .unwrap_err()
            .to_string()
            .contains("no 'serve_block' record"));
    }
}
