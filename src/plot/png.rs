//! PNG plots: the SVG a plot drew, rasterized by resvg with the DejaVu Sans
//! font that ships in `assets/fonts/` (built into the binary), so a PNG looks
//! the same on every machine and no system font is read.
//!
//! Also the choice of format from an output path's extension (`.png` or
//! `.svg`), shared by `tokbench plot -o` and the report's figure files.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::PlotError;

/// DejaVu Sans 2.37 (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";

/// Pixels per SVG pixel: 2 keeps 12 px labels sharp on a high-density screen.
pub const SCALE: f32 = 2.0;

/// What a plot file is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    /// The format the extension of `path` names (`.svg`, `.png`, any case);
    /// anything else is an error that names the extensions.
    pub fn from_path(path: &Path) -> Result<ImageFormat, String> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(format!(
                "cannot tell the image format of '{}': name the output file '.png' or '.svg'",
                path.display()
            )),
        }
    }
}

/// The options with the embedded font as every family (`sans-serif` included).
fn options() -> &'static resvg::usvg::Options<'static> {
    static OPTIONS: OnceLock<resvg::usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FONT_FAMILY);
        db.set_serif_family(FONT_FAMILY);
        db.set_monospace_family(FONT_FAMILY);
        resvg::usvg::Options {
            font_family: FONT_FAMILY.to_string(),
            fontdb: Arc::new(db),
            ..Default::default()
        }
    })
}

/// The SVG text rasterized at [`SCALE`] on its own (white) background.
pub fn rasterize(svg: &str) -> Result<resvg::tiny_skia::Pixmap, PlotError> {
    let tree = resvg::usvg::Tree::from_str(svg, options())
        .map_err(|e| PlotError::Draw(format!("the plot's SVG cannot be read back: {e}")))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(SCALE)
        .ok_or_else(|| PlotError::Draw("the plot's SVG has no size".to_string()))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| PlotError::Draw("the plot is too large to rasterize".to_string()))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let scale = resvg::tiny_skia::Transform::from_scale(SCALE, SCALE);
    resvg::render(&tree, scale, &mut pixmap.as_mut());
    Ok(pixmap)
}

/// The SVG text as PNG bytes.
pub fn png(svg: &str) -> Result<Vec<u8>, PlotError> {
    rasterize(svg)?
        .encode_png()
        .map_err(|e| PlotError::Draw(format!("PNG encoding failed: {e}")))
}

/// The bytes of a plot in `format`.
pub fn encode(svg: &str, format: ImageFormat) -> Result<Vec<u8>, PlotError> {
    match format {
        ImageFormat::Svg => Ok(svg.as_bytes().to_vec()),
        ImageFormat::Png => png(svg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        let f = |p: &str| ImageFormat::from_path(Path::new(p));
        assert_eq!(f("a/seq.png"), Ok(ImageFormat::Png));
        assert_eq!(f("seq.SVG"), Ok(ImageFormat::Svg));
        let e = f("seq.jpg").unwrap_err();
        assert!(
            e.contains("'seq.jpg'") && e.contains("'.png' or '.svg'"),
            "{e}"
        );
        assert!(f("seq").is_err());
    }

    #[test]
    fn png_has_the_signature_and_twice_the_svg_size() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><text x="2" y="20" font-family="sans-serif" font-size="14">ab</text></svg>"#;
        let bytes = png(svg).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let pixmap = rasterize(svg).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (80, 60));
        // The text was set with the embedded font: some pixels are dark.
        let dark = pixmap.pixels().iter().filter(|p| p.red() < 100).count();
        assert!(dark > 20, "{dark} dark pixels");
    }
}
