//! Sanitising text that comes from a log before it reaches the terminal.
//!
//! A metric name or a skipped line is written by whatever produced the log. Control characters
//! (C0, DEL, C1), and with them every escape sequence, are replaced with a visible `�`, so a log
//! can never move the cursor, change colours, retitle the window or set the clipboard. Bidi
//! overrides are replaced too: they can make a line read differently from what it contains.

use std::borrow::Cow;

/// The replacement for a character that must not reach the terminal.
pub const REPLACEMENT: char = '\u{FFFD}';

fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (U+0080..=U+009F)
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Returns `s` with every control character (tab becomes a space) and bidi override replaced.
/// Borrows when nothing needs replacing, which is the common case.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c == '\t' {
                    ' '
                } else if is_unsafe(c) {
                    REPLACEMENT
                } else {
                    c
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("train/loss"), Cow::Borrowed("train/loss")));
        assert_eq!(sanitize("Größe ✓ 損失"), "Größe ✓ 損失");
    }

    #[test]
    fn escape_sequences_cannot_reach_the_terminal() {
        let evil = "loss\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07";
        let out = sanitize(evil);
        assert!(!out.chars().any(|c| c.is_control()), "{out:?}");
        assert!(out.starts_with("loss\u{FFFD}[2J"));
    }

    #[test]
    fn c1_controls_newlines_and_bidi_are_replaced() {
        assert_eq!(sanitize("a\u{9b}31mb"), "a\u{FFFD}31mb");
        assert_eq!(sanitize("a\r\nb"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(sanitize("a\tb"), "a b");
        assert_eq!(sanitize("x\u{202E}y"), "x\u{FFFD}y");
        assert_eq!(sanitize("\x7f"), "\u{FFFD}");
    }
}
