//! Reading back what a plot drew (its elements, legend boxes and marks;
//! the plot as a PNG picture), and records to draw, for the tests.

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

/// Boxes `[x0, y0, x1, y1]` of the legends (their fill is the legend background of `style`).
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
