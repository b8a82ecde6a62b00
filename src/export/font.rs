//! The one font of exported charts, compiled in: DejaVu Sans cut down to the characters charts
//! use (`font/README.md` says how, `font/LICENSE` under which license). Charts are measured and
//! drawn with it on every machine, and no system font is ever looked up (a bare GPU box or a CI
//! container has none).

use std::sync::OnceLock;

/// The font's bytes.
const BYTES: &[u8] = include_bytes!("font/DejaVuSans-subset.ttf");

/// The name plotters knows the font by, which an SVG also carries as its `font-family`: a viewer
/// draws the text in DejaVu Sans where it has it (the metrics the labels were placed with), or
/// in its own sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Registers the font with plotters (once per process); an error if it cannot be read.
pub fn ensure() -> Result<(), String> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the built-in font cannot be read".into())
    }
}

/// The width in pixels of `text` drawn `px` pixels high (an estimate from its length if the font
/// cannot be read).
pub fn text_width(text: &str, px: f64) -> u32 {
    use plotters::style::IntoFont;
    let estimate = (text.chars().count() as f64 * px * 0.6) as u32;
    if ensure().is_err() {
        return estimate;
    }
    (FAMILY, px).into_font().box_size(text).map_or(estimate, |(w, _)| w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::IntoFont;

    #[test]
    fn the_font_measures_text_without_any_system_font() {
        ensure().expect("font");
        let font = (FAMILY, 20.0).into_font();
        let (w1, h) = font.box_size("loss").expect("measure");
        let (w2, _) = font.box_size("loss · val_loss").expect("measure");
        assert!(w1 > 20 && h > 10, "{w1}x{h}");
        assert!(w2 > 2 * w1, "{w1} {w2}");
    }
}
