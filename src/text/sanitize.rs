//! The one gate between a log's text and the terminal.
//!
//! A metric name, a skipped line or a path is written by whatever produced the log. Each
//! character a terminal would act on, or that could make one text read as another, is replaced
//! by a visible escape in the notation Python's `repr` uses (`\n`, `\t`, `\x1b`, `\u202e`,
//! `\U000e0041`), so a log can never move the cursor, change colours, retitle the window, set the
//! clipboard, start a line of its own or reorder what is shown, and two names that differ only
//! in invisible characters still read differently. Replaced:
//! - C0 controls, DEL and C1 controls (U+0080..U+009F, whose U+009B is a one-character CSI):
//!   with them every escape sequence (CSI, OSC, DCS, ...) loses its introducer and is shown as
//!   inert text;
//! - bidirectional controls: the embeddings and overrides U+202A..U+202E, the isolates
//!   U+2066..U+2069, the marks U+200E, U+200F and U+061C;
//! - every other invisible format character (Unicode category Cf: zero-width spaces and joiners,
//!   the word joiner and invisible operators, the BOM, soft hyphens, interlinear annotations, tag
//!   characters), the line and paragraph separators U+2028 and U+2029, and the characters that
//!   draw as nothing (the Hangul fillers, the combining grapheme joiner).
//!
//! Plain text, accents, CJK and emoji (variation selectors included) pass unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for a character that must not reach the terminal as it is (see the module docs).
pub fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7F..=0x9F).contains(&u) {
        return true;
    }
    if u < 0xAD {
        return false;
    }
    matches!(
        u,
        0x00AD // soft hyphen
            | 0x034F // combining grapheme joiner
            | 0x0600..=0x0605
            | 0x061C // Arabic letter mark
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160 // Hangul fillers
            | 0x17B4..=0x17B5 // Khmer inherent vowels, drawn as nothing
            | 0x180E // Mongolian vowel separator
            | 0x200B..=0x200F // zero-width space, non-joiner, joiner; LRM, RLM
            | 0x2028..=0x202E // line and paragraph separators; bidi embeddings and overrides
            | 0x2060..=0x206F // word joiner, invisible operators, bidi isolates, deprecated format
            | 0x3164 // Hangul filler
            | 0xFEFF // BOM, zero-width no-break space
            | 0xFFA0 // halfwidth Hangul filler
            | 0xFFF9..=0xFFFB // interlinear annotation
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F // tag characters
    )
}

/// Appends the visible escape of `c` to `out`.
fn escape_into(out: &mut String, c: char) {
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if (c as u32) <= 0xFF => write!(out, "\\x{:02x}", c as u32),
        c if (c as u32) <= 0xFFFF => write!(out, "\\u{:04x}", c as u32),
        c => write!(out, "\\U{:08x}", c as u32),
    };
}

/// `s` with every character of [`is_unsafe`] replaced by its visible escape. Borrows when
/// nothing needs replacing, which is the common case (printable ASCII is checked byte by byte).
pub fn sanitize(s: &str) -> Cow<'_, str> {
    let ascii_clean = s.bytes().all(|b| (0x20..0x7F).contains(&b));
    if ascii_clean || !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("train/loss"), Cow::Borrowed("train/loss")));
        for s in ["Größe ✓ 損失", "C:\\runs\\a", "👍🏽 ❤️ loss", "مرحبا", "loss (val) [0]"]
        {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn escape_sequences_cannot_reach_the_terminal() {
        let evil = "loss\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07\x1bP+q\x1b\\";
        let out = sanitize(evil);
        assert!(!out.chars().any(|c| c.is_control()), "{out:?}");
        assert_eq!(out, "loss\\x1b[2J\\x1b]0;pwned\\x07\\x1b]52;c;aGk=\\x07\\x1bP+q\\x1b\\");
    }

    #[test]
    fn c1_controls_newlines_and_tabs_are_escaped() {
        assert_eq!(sanitize("a\u{9b}31mb"), "a\\x9b31mb");
        assert_eq!(sanitize("a\u{9d}0;t\u{9c}"), "a\\x9d0;t\\x9c");
        assert_eq!(sanitize("a\r\nb"), "a\\r\\nb");
        assert_eq!(sanitize("a\tb"), "a\\tb");
        assert_eq!(sanitize("\x7f\0"), "\\x7f\\x00");
        assert_eq!(sanitize("a\u{85}b"), "a\\x85b");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        for (c, want) in [
            ('\u{202A}', "\\u202a"),
            ('\u{202B}', "\\u202b"),
            ('\u{202C}', "\\u202c"),
            ('\u{202D}', "\\u202d"),
            ('\u{202E}', "\\u202e"),
            ('\u{2066}', "\\u2066"),
            ('\u{2067}', "\\u2067"),
            ('\u{2068}', "\\u2068"),
            ('\u{2069}', "\\u2069"),
            ('\u{200E}', "\\u200e"),
            ('\u{200F}', "\\u200f"),
            ('\u{061C}', "\\u061c"),
        ] {
            assert_eq!(sanitize(&format!("x{c}y")), format!("x{want}y"));
        }
        // The classic: a name that reads "loss_lav" but is "loss_" + RLO + "val".
        assert_eq!(sanitize("loss_\u{202E}val"), "loss_\\u202eval");
    }

    #[test]
    fn invisible_characters_cannot_forge_a_name() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{2062}', '\u{FEFF}', '\u{00AD}', '\u{2028}',
            '\u{2029}', '\u{3164}', '\u{115F}', '\u{034F}', '\u{180E}', '\u{FFF9}', '\u{206A}',
        ] {
            let forged = format!("lo{c}ss");
            assert_ne!(sanitize(&forged), "loss", "U+{:04X}", c as u32);
            assert!(sanitize(&forged).is_ascii(), "U+{:04X}", c as u32);
        }
        // Tag characters spell hidden ASCII.
        assert_eq!(sanitize("a\u{E0041}"), "a\\U000e0041");
    }

    #[test]
    fn every_character_is_judged() {
        // Across all of Unicode: controls and format characters are escaped, and an escaped
        // string holds nothing the terminal acts on.
        for u in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(u) else { continue };
            if c.is_control() {
                assert!(is_unsafe(c), "U+{u:04X}");
            }
            if is_unsafe(c) {
                let s = sanitize(&c.to_string()).into_owned();
                assert!(s.starts_with('\\') && s.is_ascii(), "U+{u:04X}: {s}");
            }
        }
    }
}
