//! One test per rule of the line parser (issue 2): lenient tokens, numbers, strings, tolerated
//! framing, errors that say where, and bad input that must fail fast instead of panicking.

use std::borrow::Cow;
use tmon::parse::{parse_document, parse_line, Field, JsonValue, LineError, Scalar, MAX_DEPTH, MAX_FIELDS};

fn fields(line: &[u8]) -> Vec<(String, Scalar<'static>)> {
    let mut out = Vec::new();
    parse_line(line, &mut out).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(line)));
    out.into_iter().map(|f| (f.key.into_owned(), owned(f.value))).collect()
}

fn owned(v: Scalar<'_>) -> Scalar<'static> {
    match v {
        Scalar::Str(s) => Scalar::Str(Cow::Owned(s.into_owned())),
        Scalar::Num(x) => Scalar::Num(x),
        Scalar::Bool(b) => Scalar::Bool(b),
        Scalar::Null => Scalar::Null,
        Scalar::Composite => Scalar::Composite,
        Scalar::Hist(h) => Scalar::Hist(h),
    }
}

fn err(line: &[u8]) -> LineError {
    let mut out = Vec::new();
    let e = parse_line(line, &mut out).expect_err("should fail");
    assert!(out.is_empty(), "fields left behind on error");
    e
}

fn num(line: &str, key: &str) -> f64 {
    match fields(line.as_bytes()).into_iter().find(|(k, _)| k == key) {
        Some((_, Scalar::Num(x))) => x,
        other => panic!("{key} in {line}: {other:?}"),
    }
}

fn s(x: &str) -> Scalar<'static> {
    Scalar::Str(Cow::Owned(x.to_owned()))
}

#[test]
fn typical_line() {
    let f =
        fields(br#"{"step": 1234, "loss": 0.4823745191, "lr": 3e-4, "ok": true, "tag": "train", "x": null}"#);
    assert_eq!(
        f,
        vec![
            ("step".into(), Scalar::Num(1234.0)),
            ("loss".into(), Scalar::Num(0.4823745191)),
            ("lr".into(), Scalar::Num(0.0003)),
            ("ok".into(), Scalar::Bool(true)),
            ("tag".into(), s("train")),
            ("x".into(), Scalar::Null),
        ]
    );
}

#[test]
fn python_nonfinite_tokens() {
    assert!(num(r#"{"a": NaN}"#, "a").is_nan());
    assert_eq!(num(r#"{"a": Infinity}"#, "a"), f64::INFINITY);
    assert_eq!(num(r#"{"a":-Infinity}"#, "a"), f64::NEG_INFINITY);
    // Inside a list of numbers too, one field per number.
    let a = fields(br#"{"a": [NaN, -Infinity, Infinity]}"#);
    assert_eq!(a.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a[0]", "a[1]", "a[2]"]);
    assert!(matches!(a[0].1, Scalar::Num(x) if x.is_nan()));
    assert_eq!(a[1].1, Scalar::Num(f64::NEG_INFINITY));
    assert_eq!(a[2].1, Scalar::Num(f64::INFINITY));
    // Inside any other list (validated while skipped).
    assert_eq!(fields(br#"{"a": [NaN, "x", Infinity]}"#), vec![("a".into(), Scalar::Composite)]);
    // Not other spellings.
    for bad in
        [&br#"{"a": nan}"#[..], br#"{"a": inf}"#, br#"{"a": -NaN}"#, br#"{"a": Infinit}"#, br#"{"a": +1}"#]
    {
        assert!(matches!(err(bad), LineError::NotJson(_)), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn nonfinite_words_inside_strings_are_left_alone() {
    // Ray's result.json: a JSON document escaped inside a string, containing `Infinity`.
    let line = br#"{"flow_params": "{\n  \"lanes_distribution\": Infinity,\n  \"x\": NaN\n}", "n": 1}"#;
    let f = fields(line);
    assert_eq!(f[0], ("flow_params".into(), s("{\n  \"lanes_distribution\": Infinity,\n  \"x\": NaN\n}")));
    assert_eq!(f[1], ("n".into(), Scalar::Num(1.0)));
    assert_eq!(fields(br#"{"a": "NaN"}"#), vec![("a".into(), s("NaN"))]);
}

#[test]
fn numbers() {
    assert_eq!(num(r#"{"a": 1e400}"#, "a"), f64::INFINITY);
    assert_eq!(num(r#"{"a": -1e400}"#, "a"), f64::NEG_INFINITY);
    assert_eq!(num(r#"{"a": 1e-400}"#, "a"), 0.0);
    assert_eq!(num(r#"{"a": 1e99999999999999999999}"#, "a"), f64::INFINITY);
    let z = num(r#"{"a": -0.0}"#, "a");
    assert!(z == 0.0 && z.is_sign_negative());
    let z = num(r#"{"a": -0}"#, "a");
    assert!(z == 0.0 && z.is_sign_negative());
    assert_eq!(num(r#"{"a": 0}"#, "a").to_bits(), 0);
    assert_eq!(num(r#"{"a": 18446744073709551617}"#, "a"), 18446744073709551617.0);
    assert_eq!(num(r#"{"a": 9007199254740993}"#, "a"), 9007199254740992.0); // ties to even
    assert_eq!(num(r#"{"a": 1732612345.123}"#, "a"), 1732612345.123);
    assert_eq!(num(r#"{"a": 8e-10}"#, "a"), 8e-10);
    assert_eq!(num(r#"{"a": 5.27162132754432e+20}"#, "a"), 5.27162132754432e20);
    // The number that hung Java and PHP parsers; std's parser is correctly rounded.
    let t = "2.2250738585072011e-308";
    assert_eq!(num(&format!(r#"{{"a": {t}}}"#), "a"), t.parse::<f64>().unwrap());
    assert_eq!(num(r#"{"a": 0.30000000000000004441}"#, "a"), 0.30000000000000004);
    assert_eq!(num(r#"{"a": 1E2}"#, "a"), 100.0);
    for bad in ["01", "1.", ".5", "1e", "1e+", "-", "--1", "0x10", "1.e3"] {
        let line = format!(r#"{{"a": {bad}}}"#);
        assert!(matches!(err(line.as_bytes()), LineError::NotJson(_)), "{line}");
    }
}

#[test]
fn escapes_and_surrogates() {
    let f = fields(br#"{"a": "q\"b\\s\/f\bf\fn\nr\rt\t", "u": "\u00e9\u4e2d\ud83d\ude00"}"#);
    assert_eq!(f[0].1, s("q\"b\\s/f\u{8}f\u{c}n\nr\rt\t"));
    assert_eq!(f[1].1, s("é中😀"));
    // A lone surrogate is not a character: U+FFFD, and the record survives.
    assert_eq!(fields(br#"{"a": "x\ud83dy"}"#)[0].1, s("x\u{FFFD}y"));
    assert_eq!(fields(br#"{"a": "\ude00"}"#)[0].1, s("\u{FFFD}"));
    assert_eq!(fields(br#"{"a": "\ud83d\u0041"}"#)[0].1, s("\u{FFFD}A"));
    // Escaped key.
    assert_eq!(fields(br#"{"a\u002fb": 1}"#)[0].0, "a/b");
    assert!(matches!(err(br#"{"a": "\x"}"#), LineError::NotJson(_)));
    assert!(matches!(err(br#"{"a": "\u12G4"}"#), LineError::NotJson(_)));
    assert!(matches!(err(br#"{"a": "abc\"#), LineError::NotJson(_)));
}

#[test]
fn borrowed_when_no_escapes() {
    let line = br#"{"step": 1, "name": "run-1", "esc\n": "a\tb", "n": {"x": "y"}}"#;
    let mut out: Vec<Field<'_>> = Vec::new();
    parse_line(line, &mut out).unwrap();
    assert!(matches!(out[0].key, Cow::Borrowed("step")));
    assert!(matches!(out[1].key, Cow::Borrowed("name")));
    assert!(matches!(out[1].value, Scalar::Str(Cow::Borrowed("run-1"))));
    assert!(matches!(out[2].key, Cow::Owned(_)));
    assert!(matches!(out[2].value, Scalar::Str(Cow::Owned(_))));
    assert!(matches!(&out[3].key, Cow::Owned(k) if k == "n/x"));
    assert!(matches!(out[3].value, Scalar::Str(Cow::Borrowed("y"))));
    // Valid non-ASCII UTF-8 is borrowed too.
    parse_line("{\"Größe\": \"中文\"}".as_bytes(), &mut out).unwrap();
    assert!(matches!(out[0].key, Cow::Borrowed("Größe")));
    assert!(matches!(out[0].value, Scalar::Str(Cow::Borrowed("中文"))));
}

#[test]
fn invalid_utf8_is_lossy() {
    let f = fields(b"{\"k\xff\": \"a\xc3b\", \"n\": \"\xe4\xb8\xad\\n\xff\"}");
    assert_eq!(f[0], ("k\u{FFFD}".into(), s("a\u{FFFD}b")));
    assert_eq!(f[1], ("n".into(), s("中\n\u{FFFD}")));
    // Outside strings it is still an error.
    assert!(matches!(err(b"{\"a\": 1\xff}"), LineError::NotJson(_)));
}

#[test]
fn framing_bom_whitespace_crlf() {
    let want = vec![("a".to_string(), Scalar::Num(1.0))];
    assert_eq!(fields(b"\xEF\xBB\xBF{\"a\":1}"), want);
    assert_eq!(fields(b"\xEF\xBB\xBF  {\"a\":1}\r"), want);
    assert_eq!(fields(b" \t{ \"a\" :\t1 } \r\n"), want);
    assert_eq!(fields(b"{\"a\":1}\r"), want);
    // Raw control characters inside strings (strict JSON forbids them) cost nothing to accept.
    assert_eq!(fields(b"{\"a\": \"x\ty\x01\"}"), vec![("a".to_string(), s("x\ty\u{1}"))]);
    // A BOM anywhere else is garbage.
    assert!(matches!(err(b" \xEF\xBB\xBF{\"a\":1}"), LineError::NotJson(_)));
}

#[test]
fn nested_objects_flatten_and_lists_are_skipped() {
    let line = br#"{"info": {"kl": 0.1, "learner": {"cur_lr": 5e-5, "a/b": {"c": 2}, "d": 3}, "e": 4},
        "hist": {"_type": "histogram", "values": [1, [2, {"x": [3]}], {}], "bins": []},
        "custom_metrics": {}, "z": [{"a": 1}, {"b": {"c": [null, true, "s]\"}"]}}], "last": 5}"#;
    let f = fields(line);
    let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "info/kl",
            "info/learner/cur_lr",
            "info/learner/a/b/c",
            "info/learner/d",
            "info/e",
            "hist/_type",
            "hist/values",
            "hist/bins",
            "custom_metrics",
            "z",
            "last"
        ]
    );
    assert_eq!(f[2].1, Scalar::Num(2.0));
    assert_eq!(f[3].1, Scalar::Num(3.0));
    assert_eq!(f[4].1, Scalar::Num(4.0));
    for i in [6, 7, 8, 9] {
        assert_eq!(f[i].1, Scalar::Composite, "{}", f[i].0);
    }
    assert_eq!(f[10].1, Scalar::Num(5.0));
    // Bad content inside a skipped list is still an error.
    assert!(matches!(err(br#"{"a": [1, 2,]}"#), LineError::NotJson(_)));
    assert!(matches!(err(br#"{"a": [{"b" 1}]}"#), LineError::NotJson(_)));
    assert!(matches!(err(br#"{"a": [1}"#), LineError::NotJson(_)));
}

#[test]
fn empty_objects() {
    assert_eq!(fields(b"{}"), vec![]);
    assert_eq!(fields(b" { } "), vec![]);
    assert_eq!(
        fields(br#"{"a": {}, "b": { }}"#),
        vec![("a".into(), Scalar::Composite), ("b".into(), Scalar::Composite)]
    );
    assert_eq!(fields(br#"{"a": {"b": {}}}"#), vec![("a/b".into(), Scalar::Composite)]);
}

#[test]
fn duplicate_keys_are_all_kept_in_order() {
    assert_eq!(
        fields(br#"{"a": 1, "b": 2, "a": 3}"#),
        vec![("a".into(), Scalar::Num(1.0)), ("b".into(), Scalar::Num(2.0)), ("a".into(), Scalar::Num(3.0))]
    );
}

#[test]
fn not_an_object() {
    for line in [&b"[1,2]"[..], b"3", b"\"x\"", b"null", b" [ ] \r", b"NaN", b"-Infinity", b"true"] {
        assert_eq!(err(line), LineError::NotObject, "{}", String::from_utf8_lossy(line));
    }
    assert!(matches!(err(b"[1,2"), LineError::NotJson(_)));
    assert!(matches!(err(b"3 4"), LineError::NotJson(_)));
}

#[test]
fn errors_say_where_and_why() {
    let e = err(br#"{"a": 1 "b": 2}"#).to_string();
    assert_eq!(e, "not JSON: expected ',' or '}' at column 9 (found '\"')");
    let e = err(br#"{"a": 1}x"#).to_string();
    assert!(e.contains("trailing garbage") && e.contains("column 9"), "{e}");
    let e = err(br#"{"a": 1, "b": 0.5"#).to_string();
    assert!(e.contains("column 18") && e.contains("end of line"), "{e}");
    let e = err(br#"{"a" 1}"#).to_string();
    assert!(e.contains("':'") && e.contains("column 6"), "{e}");
    let e = err(br#"{"a": "unterminated"#).to_string();
    assert!(e.contains("close the string"), "{e}");
    let e = err(b"Traceback (most recent call last):").to_string();
    assert_eq!(e, "not JSON: expected '{' at column 1 (found 'T')");
    assert_eq!(err(b"").to_string(), "not JSON: empty line");
    assert_eq!(err(b" \r").to_string(), "not JSON: empty line");
    let e = err(b"{\"a\": \x01}").to_string();
    assert!(e.contains("0x01") && e.contains("column 7"), "{e}");
}

#[test]
fn trailing_garbage_is_an_error() {
    for line in [&br#"{"a":1}}"#[..], br#"{"a":1},"#, br#"{"a":1} {"b":2}"#, b"{\"a\":1}\r\x00"] {
        assert!(matches!(err(line), LineError::NotJson(m) if m.contains("trailing garbage")));
    }
}

#[test]
fn truncated_lines_are_errors() {
    let line = br#"{"a": {"b": [1, {"c": "d"}], "e": 1.5e3}, "f": "x\u00e9", "g": -Infinity}"#;
    assert!(parse_line(line, &mut Vec::new()).is_ok());
    for cut in 0..line.len() {
        let mut out = Vec::new();
        assert!(parse_line(&line[..cut], &mut out).is_err(), "prefix {cut} parsed");
    }
}

#[test]
fn deep_nesting_is_too_deep_not_a_crash() {
    let n = 100_000;
    let objs = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    assert_eq!(err(objs.as_bytes()), LineError::TooDeep(MAX_DEPTH));
    let lists = format!(r#"{{"a":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    assert_eq!(err(lists.as_bytes()), LineError::TooDeep(MAX_DEPTH));
    let mixed = format!(r#"{{"a":{}}}"#, r#"[{"b":"#.repeat(n));
    assert_eq!(err(mixed.as_bytes()), LineError::TooDeep(MAX_DEPTH));
    assert_eq!(err("[".repeat(n).as_bytes()), LineError::TooDeep(MAX_DEPTH));
    assert_eq!(parse_document(objs.as_bytes()), Err(LineError::TooDeep(MAX_DEPTH)));
    assert_eq!(parse_document(lists.as_bytes()), Err(LineError::TooDeep(MAX_DEPTH)));
}

#[test]
fn depth_limit_is_exactly_128() {
    // 128 levels of objects: the innermost holds a field.
    let ok = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    let f = fields(ok.as_bytes());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, vec!["a"; MAX_DEPTH].join("/"));
    let deep = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
    assert_eq!(err(deep.as_bytes()), LineError::TooDeep(MAX_DEPTH));
    // The line's object plus 127 lists.
    let ok = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert_eq!(fields(ok.as_bytes()), vec![("a".into(), Scalar::Composite)]);
    let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(err(deep.as_bytes()), LineError::TooDeep(MAX_DEPTH));
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_document(ok.as_bytes()).is_ok());
}

#[test]
fn big_line_parses_in_linear_time() {
    // ~100 MB: a long string, a long list, many fields, and a long number.
    let mut line = String::with_capacity(110 << 20);
    line.push_str(r#"{"s": ""#);
    line.push_str(&"x".repeat(40 << 20));
    line.push_str(r#"", "l": ["#);
    line.push_str(&"1.5, ".repeat(4 << 20));
    line.push_str(r#"0], "n": "#);
    line.push_str(&"7".repeat(10 << 20));
    for i in 0..500_000 {
        line.push_str(&format!(r#", "k{i}": {i}.5"#));
    }
    line.push('}');
    let t = std::time::Instant::now();
    let mut out = Vec::new();
    parse_line(line.as_bytes(), &mut out).unwrap();
    let dt = t.elapsed();
    assert_eq!(out.len(), 3 + 500_000);
    assert!(matches!(&out[0].value, Scalar::Str(Cow::Borrowed(x)) if x.len() == 40 << 20));
    assert_eq!(out[2].value, Scalar::Num(f64::INFINITY));
    assert_eq!(out[500_002].value, Scalar::Num(499_999.5));
    // Generous even for a debug build on a loaded machine; quadratic behaviour would take hours.
    assert!(dt.as_secs() < 60, "{} MB took {dt:?}", line.len() >> 20);
    // The same line cut short fails just as fast.
    drop(out);
    line.pop();
    assert!(parse_line(line.as_bytes(), &mut Vec::new()).is_err());
}

#[test]
fn binary_garbage_is_not_json() {
    for len in [1usize, 7, 100, 10_000] {
        let mut bytes = crate::support::rng::bytes(len as u64, len);
        bytes[0] = 0x80;
        assert!(matches!(err(&bytes), LineError::NotJson(_)));
        assert!(matches!(parse_document(&bytes), Err(LineError::NotJson(_))));
    }
    assert!(matches!(err(b"\x00\x00\x00"), LineError::NotJson(_)));
}

#[test]
fn document_pretty_printed_with_nan_and_no_final_newline() {
    let doc = b"\xEF\xBB\xBF[\n    {\n        \"epoch\": 1,\n        \"loss/discrim\": NaN,\n        \"elapsed_time\": -Infinity\n    },\n    {\n        \"epoch\": 2, \"s\": \"Infinity\", \"l\": [1, {}]\n    }\n]";
    let v = parse_document(doc).unwrap();
    let JsonValue::Array(items) = &v else { panic!("{v:?}") };
    assert_eq!(items.len(), 2);
    let JsonValue::Object(o) = &items[0] else { panic!() };
    assert_eq!(o[0], ("epoch".into(), JsonValue::Num(1.0)));
    assert!(matches!(o[1].1, JsonValue::Num(x) if x.is_nan()));
    assert_eq!(o[2].1, JsonValue::Num(f64::NEG_INFINITY));
    let JsonValue::Object(o) = &items[1] else { panic!() };
    assert_eq!(o[1].1, JsonValue::Str("Infinity".into()));
    assert_eq!(o[2].1, JsonValue::Array(vec![JsonValue::Num(1.0), JsonValue::Object(vec![])]));
    assert!(matches!(parse_document(b"[1, 2] x"), Err(LineError::NotJson(m)) if m.contains("trailing")));
    assert!(matches!(parse_document(b"  "), Err(LineError::NotJson(_))));
    assert!(matches!(parse_document(b"[1, 2"), Err(LineError::NotJson(_))));
}

#[test]
fn multi_megabyte_document() {
    let mut doc = String::from("{\n  \"global_step\": 5000,\n  \"log_history\": [\n");
    for i in 0..50_000 {
        let loss = if i % 1000 == 7 { "NaN".to_string() } else { format!("{}", 1.0 / (i + 1) as f64) };
        doc.push_str(&format!(
            "    {{\n      \"epoch\": {:.2},\n      \"learning_rate\": 1e-05,\n      \"loss\": {loss},\n      \"step\": {i}\n    }}{}\n",
            i as f64 / 100.0,
            if i + 1 < 50_000 { "," } else { "" }
        ));
    }
    doc.push_str("  ]\n}\n");
    assert!(doc.len() > 4 << 20);
    let v = parse_document(doc.as_bytes()).unwrap();
    let JsonValue::Object(top) = &v else { panic!() };
    let JsonValue::Array(h) = &top[1].1 else { panic!() };
    assert_eq!(h.len(), 50_000);
    let mut out = Vec::new();
    tmon::parse::flatten_value(&h[7], &mut out).unwrap();
    assert!(matches!(out[2].value, Scalar::Num(x) if x.is_nan()));
    tmon::parse::flatten_value(&h[8], &mut out).unwrap();
    assert_eq!(out[2].value, Scalar::Num(1.0 / 9.0));
    assert_eq!(out[3], Field { key: "step".into(), value: Scalar::Num(8.0) });
}

#[test]
fn flatten_value_matches_parse_line_on_nested_objects() {
    let line = br#"{"a": {"b": 1, "c": {"d": "x"}}, "e": [], "f": {}, "g": null}"#;
    let doc = parse_document(line).unwrap();
    let mut from_doc = Vec::new();
    tmon::parse::flatten_value(&doc, &mut from_doc).unwrap();
    let mut from_line = Vec::new();
    parse_line(line, &mut from_line).unwrap();
    assert_eq!(from_doc, from_line);
    assert_eq!(tmon::parse::flatten_value(&JsonValue::Num(1.0), &mut from_doc), Err(LineError::NotObject));
}

#[test]
fn memory_per_line_is_bounded() {
    // A long key over many nested fields would allocate (key length x fields) bytes of joined keys.
    let line = format!(r#"{{"{}": {{{}"z": 1}}}}"#, "k".repeat(1 << 20), r#""a": 1, "#.repeat(100));
    assert!(matches!(err(line.as_bytes()), LineError::TooLarge(m) if m.contains("nested keys")));
    let doc = parse_document(line.as_bytes()).unwrap();
    let mut out = Vec::new();
    assert!(matches!(tmon::parse::flatten_value(&doc, &mut out), Err(LineError::TooLarge(_))));
    assert!(out.is_empty());
    // Many top-level fields are fine up to the limit, then an error, not gigabytes of fields.
    let fields_line = |n: usize| format!("{{{}\"z\": 1}}", "\"k\": 1, ".repeat(n - 1));
    let full = fields_line(MAX_FIELDS);
    let mut out = Vec::new();
    parse_line(full.as_bytes(), &mut out).unwrap();
    assert_eq!(out.len(), MAX_FIELDS);
    let e = err(fields_line(MAX_FIELDS + 1).as_bytes());
    assert_eq!(e.to_string(), format!("record too large: more than {MAX_FIELDS} fields"));
}
