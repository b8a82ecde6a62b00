//! A file's layout, told by its bytes: JSON Lines (one object per line) or a whole-file JSON
//! document (`trainer_state.json`, Chainer's top-level array, pretty-printed JSON).
//!
//! The checks are byte scans (brackets outside strings), not parses: they run on every poll of a
//! half-written file, so they must be cheap and must never fail on garbage.

/// How a file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One record per line: read only what is appended.
    Lines,
    /// One JSON document: read the whole file again when it changes.
    Document,
    /// A top-level array still being written (no closing bracket yet): read element by element
    /// as they are appended (see [`super::frame::ArrayFramer`]). Never returned by [`detect`]:
    /// the tailer decides it when a document's bytes are an unclosed array.
    GrowingArray,
    /// Not text: the bytes are handed over as read ([`super::Framing::Bytes`]). Never returned
    /// by [`detect`].
    Bytes,
    /// Not read at all: changes are reported ([`super::Framing::Watch`]). Never returned by
    /// [`detect`].
    Watch,
}

/// True when `bytes` holds exactly one complete JSON object or array (brackets balanced outside
/// strings), with only whitespace around it. Used for a final line with no newline and for a
/// document that may still be being written.
pub fn complete_json(bytes: &[u8]) -> bool {
    let bytes = strip_bom(bytes);
    let mut it = bytes.iter().copied().skip_while(u8::is_ascii_whitespace);
    match it.next() {
        Some(b'{') | Some(b'[') => {}
        _ => return false,
    }
    let mut depth: u64 = 1;
    let mut in_str = false;
    let mut escaped = false;
    for b in it.by_ref() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    depth == 0 && it.all(|b| b.is_ascii_whitespace())
}

use crate::ingest::format::strip_bom;

/// Decides the layout from the first bytes of a file, or `None` when there is not enough yet:
/// the ingest's decision ([`crate::ingest::format::layout`]), so batch and live reading agree.
/// `settled` says the file has stopped growing.
pub fn detect(name: Option<&str>, head: &[u8], settled: bool) -> Option<Layout> {
    crate::ingest::format::layout(name, head, settled)
        .map(|doc| if doc { Layout::Document } else { Layout::Lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_json_balances_outside_strings() {
        assert!(complete_json(b"{\"a\": 1}"));
        assert!(complete_json(b"  {\"a\": {\"b\": [1, 2]}}\r\n"));
        assert!(complete_json(b"{\"a\": \"}{\\\"\"}"));
        assert!(!complete_json(b"{\"a\": {\"b\": 1}"));
        assert!(!complete_json(b"{\"a\": \"}\"")); // brace inside a string does not close
        assert!(!complete_json(b"{\"a\": 1} x"));
        assert!(!complete_json(b"nan"));
        assert!(!complete_json(b""));
        assert!(complete_json(b"[{\"a\": 1},\n{\"b\": 2}]"));
    }

    #[test]
    fn detect_layouts() {
        assert_eq!(detect(None, b"{\"step\": 1}\n{\"step\"", false), Some(Layout::Lines));
        assert_eq!(detect(None, b"{\n  \"log_history\": [\n", false), Some(Layout::Document));
        assert_eq!(detect(None, b"  [\n", false), None);
        assert_eq!(detect(None, b"  [\n", true), Some(Layout::Document));
        assert_eq!(detect(None, b"[INFO] start\n{\"step\": 1}\n", false), Some(Layout::Lines));
        assert_eq!(detect(None, b"{\"step\": 1}", false), None);
        assert_eq!(detect(None, b"{\"step\": 1}", true), Some(Layout::Lines));
        assert_eq!(detect(None, b"   ", true), None);
        assert_eq!(detect(None, b"Traceback\n", false), Some(Layout::Lines));
        assert_eq!(detect(None, b"[a\nTraceback (most recent call last):\n", false), Some(Layout::Lines));
        assert_eq!(detect(None, b"[{\"step\": 1},\n", false), None);
        assert_eq!(detect(None, b"[\n  {\"step\": 1},\n", false), Some(Layout::Document));
        assert_eq!(detect(Some("trainer_state.json"), b"{\"a\":1}\n", false), Some(Layout::Document));
    }
}
