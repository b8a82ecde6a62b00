//! JSON for a terminal: serde_json escapes C0 controls but writes DEL, C1 controls (U+009B is a
//! one-character CSI), bidi overrides and the other characters [`is_unsafe`] names as they are.
//! [`SafeJson`] escapes those as `\uXXXX` too (a surrogate pair above U+FFFF), so `tmon check
//! --json` piped to a terminal is as inert as the text output, and still the same JSON to a
//! parser.

use super::is_unsafe;
use serde::Serialize;
use serde_json::ser::Formatter;
use std::io;

/// A compact serde_json formatter (the trait's defaults are the compact layout) that also
/// escapes every character [`is_unsafe`] names.
#[derive(Clone, Copy, Debug, Default)]
pub struct SafeJson;

impl Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json has already escaped `"`, `\` and C0; what is left is ASCII text as a rule.
        if fragment.bytes().all(|b| b < 0x7F) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes `value` as compact JSON through [`SafeJson`].
pub fn to_json_writer<W: io::Write, T: ?Sized + Serialize>(w: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeJson);
    value.serialize(&mut ser)
}

/// `value` as compact JSON through [`SafeJson`].
pub fn to_json_string<T: ?Sized + Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and our types serialise without error.
    let _ = to_json_writer(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_controls_and_bidi_overrides_are_escaped() {
        let s = "a\u{9b}31m\u{202e}b\u{7f}\x1b]0;x\x07\u{E0041}é損";
        let j = to_json_string(&s);
        assert_eq!(j, r#""a\u009b31m\u202eb\u007f\u001b]0;x\u0007\udb40\udc41é損""#);
        let back: String = serde_json::from_str(&j).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn everything_else_is_serde_json_compact() {
        let v = serde_json::json!({"k": [1, 2.5, "x\"y\\z\n"], "n": null});
        assert_eq!(to_json_string(&v), serde_json::to_string(&v).unwrap());
    }
}
