//! Fuzzes `parse_line` and `parse_document` on arbitrary bytes: neither may panic, hang or blow
//! up, and they must agree (same success, same flattened fields) on every input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tmon::parse::{flatten_value, parse_document, parse_line, Field, JsonValue, LineError, Scalar};

/// Fields as comparable data: NaN equals NaN, numbers compared by bits.
fn key_values(fields: &[Field<'_>]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            let v = match &f.value {
                Scalar::Num(x) if x.is_nan() => "NaN".to_owned(),
                Scalar::Num(x) => format!("{:x}", x.to_bits()),
                other => format!("{other:?}"),
            };
            (f.key.to_string(), v)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut line_fields = Vec::new();
    let line = parse_line(data, &mut line_fields);
    let doc = parse_document(data);
    match (&line, &doc) {
        (Ok(()), Ok(v)) => {
            let mut doc_fields = Vec::new();
            flatten_value(v, &mut doc_fields).expect("a document that is a line's object flattens");
            assert_eq!(key_values(&line_fields), key_values(&doc_fields));
        }
        (Err(LineError::NotObject), Ok(v)) => assert!(!matches!(v, JsonValue::Object(_))),
        (Err(LineError::TooDeep(_)), Err(LineError::TooDeep(_))) => {}
        (Err(LineError::NotJson(_)), Err(LineError::NotJson(_))) => {}
        (Err(LineError::TooLarge(_)), Ok(_)) => {}
        _ => panic!("parse_line {line:?} but parse_document {doc:?}"),
    }
    if line.is_err() {
        assert!(line_fields.is_empty());
    }
});
