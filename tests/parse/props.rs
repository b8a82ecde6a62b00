//! Property tests of the line parser: it never panics on arbitrary or mutated input, it reads
//! generated objects exactly as a reference flattening of the same tree (and of serde_json's parse
//! of the same text) says, and `parse_document` agrees with `parse_line` on single objects.
//!
//! Run long with e.g. `PROPTEST_CASES=200000 cargo test --release --test parse props::`.

use crate::support::flatten::{flatten, list_of, num, owned, reference, sorted, Tree, V};
use crate::support::rng::Rng;
use proptest::prelude::*;
use tmon::parse::{flatten_value, parse_document, parse_line, JsonValue, LineError, LineParser};

/// A generated JSON value that remembers how it was written and what it should parse to.
#[derive(Clone, Debug)]
enum Node {
    Num(String, f64),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

/// How to write strings: as serde_json does, or with every non-ASCII char as `\uXXXX` (surrogate
/// pairs above the BMP) so that the escape decoder is exercised.
#[derive(Clone, Copy, Debug)]
enum Esc {
    Serde,
    Unicode,
}

fn number(nonfinite: bool) -> BoxedStrategy<Node> {
    let finite = prop_oneof![
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| Node::Num(serde_json::to_string(&x).unwrap(), x)),
        any::<i64>().prop_map(|x| Node::Num(x.to_string(), x as f64)),
        any::<u64>().prop_map(|x| Node::Num(x.to_string(), x as f64)),
        // Arbitrary decimal text, including long mantissas and out-of-range exponents.
        "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?".prop_map(|t| {
            let x: f64 = t.parse().unwrap();
            Node::Num(t, x)
        }),
        // The typical metric: a few digits after the point.
        "[0-9]\\.[0-9]{1,12}".prop_map(|t| {
            let x: f64 = t.parse().unwrap();
            Node::Num(t, x)
        }),
    ];
    if nonfinite {
        prop_oneof![
            3 => finite,
            1 => prop_oneof![
                Just(Node::Num("NaN".into(), f64::NAN)),
                Just(Node::Num("Infinity".into(), f64::INFINITY)),
                Just(Node::Num("-Infinity".into(), f64::NEG_INFINITY)),
            ],
        ]
        .boxed()
    } else {
        finite.boxed()
    }
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z_/. ]{0,12}",
        any::<String>(),
        // The words the lenient number reader must leave alone inside strings.
        "(NaN|Infinity|-Infinity|\\\\|\"|\\{|\\}|\\[|\\]|,|:| ){0,6}",
    ]
    .boxed()
}

fn leaf(nonfinite: bool) -> BoxedStrategy<Node> {
    prop_oneof![
        4 => number(nonfinite),
        2 => text().prop_map(Node::Str),
        1 => any::<bool>().prop_map(Node::Bool),
        1 => Just(Node::Null),
    ]
    .boxed()
}

fn dedupe(kv: Vec<(String, Node)>) -> Vec<(String, Node)> {
    let mut seen = std::collections::HashSet::new();
    kv.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
}

fn object(nonfinite: bool) -> BoxedStrategy<Node> {
    leaf(nonfinite)
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Node::List),
                prop::collection::vec((text(), inner), 0..6).prop_map(|kv| Node::Obj(dedupe(kv))),
            ]
        })
        .prop_flat_map(move |x| {
            prop::collection::vec((text(), Just(x).boxed().prop_union(leaf(nonfinite)).boxed()), 0..10)
                .prop_map(|kv| Node::Obj(dedupe(kv)))
        })
        .boxed()
}

/// A deterministic whitespace source, so one u64 of the test case decides all the spacing.
struct Ws(Rng);
impl Ws {
    fn new(seed: u64) -> Ws {
        Ws(Rng::new(seed))
    }
    fn put(&mut self, out: &mut String) {
        out.push_str(["", "", "", " ", "  ", "\t", "\n", "\r\n", " \t "][self.0.below(9)]);
    }
}

fn write_str(s: &str, esc: Esc, out: &mut String) {
    match esc {
        Esc::Serde => out.push_str(&serde_json::to_string(s).unwrap()),
        Esc::Unicode => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
                    c => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
        }
    }
}

fn write(n: &Node, esc: Esc, ws: &mut Ws, out: &mut String) {
    ws.put(out);
    match n {
        Node::Num(t, _) => out.push_str(t),
        Node::Str(s) => write_str(s, esc, out),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null => out.push_str("null"),
        Node::List(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, esc, ws, out);
            }
            ws.put(out);
            out.push(']');
        }
        Node::Obj(kv) => {
            out.push('{');
            for (i, (k, x)) in kv.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws.put(out);
                write_str(k, esc, out);
                ws.put(out);
                out.push(':');
                write(x, esc, ws, out);
            }
            ws.put(out);
            out.push('}');
        }
    }
    ws.put(out);
}

/// The flattening the tree itself says the parser must produce, in order.
fn expected(n: &Node) -> Vec<(String, V)> {
    fn tree(n: &Node) -> Tree {
        match n {
            Node::Obj(kv) => Tree::Obj(kv.iter().map(|(k, x)| (k.clone(), tree(x))).collect()),
            Node::List(xs) => list_of(xs.iter().map(|x| match x {
                Node::Num(_, v) => Some(*v),
                _ => None,
            })),
            Node::Num(_, x) => Tree::Leaf(num(*x)),
            Node::Str(s) => Tree::Leaf(V::Str(s.clone())),
            Node::Bool(b) => Tree::Leaf(V::Bool(*b)),
            Node::Null => Tree::Leaf(V::Null),
        }
    }
    flatten(&tree(n))
}

fn has_inf(n: &Node) -> bool {
    match n {
        Node::Num(_, x) => x.is_infinite(),
        Node::List(xs) => xs.iter().any(has_inf),
        Node::Obj(kv) => kv.iter().any(|(_, x)| has_inf(x)),
        _ => false,
    }
}

/// serde_json reads "-0" as the integer 0; the sign of zero is the one place we differ on purpose.
fn zero_sign_blind(v: Vec<(String, V)>) -> Vec<(String, V)> {
    v.into_iter().map(|(k, x)| (k, if x == num(-0.0) { num(0.0) } else { x })).collect()
}

/// parse_line and parse_document must agree on every input: same success, same fields.
fn consistent(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut line_fields = Vec::new();
    let line = parse_line(bytes, &mut line_fields);
    let doc = parse_document(bytes);
    match (&line, &doc) {
        (Ok(()), Ok(v)) => {
            let mut doc_fields = Vec::new();
            prop_assert!(flatten_value(v, &mut doc_fields).is_ok());
            prop_assert_eq!(owned(&line_fields), owned(&doc_fields));
        }
        (Err(LineError::NotObject), Ok(v)) => prop_assert!(!matches!(v, JsonValue::Object(_))),
        (Err(LineError::TooDeep(_)), Err(LineError::TooDeep(_))) => {}
        (Err(LineError::NotJson(_)), Err(LineError::NotJson(_))) => {}
        _ => prop_assert!(false, "parse_line {:?} but parse_document {:?}", line, doc),
    }
    Ok(())
}

fn mutate(mut b: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    const JSONISH: &[u8] = b"{}[]\":,\\ -0123456789.eENaIfinity\xff\xc3\r";
    for &(op, pos, byte) in ops {
        let at = if b.is_empty() { 0 } else { pos % (b.len() + 1) };
        let c = if byte & 1 == 0 { JSONISH[byte as usize % JSONISH.len()] } else { byte };
        match op % 5 {
            0 if at < b.len() => b[at] = c,
            1 => b.insert(at, c),
            2 if at < b.len() => {
                b.remove(at);
            }
            3 => b.truncate(at),
            _ => {
                let seg: Vec<u8> = b[at..b.len().min(at + byte as usize % 16)].to_vec();
                b.splice(at..at, seg);
            }
        }
    }
    b
}

/// The same tree with other values in its leaves (numbers, strings, and now and then a leaf of
/// another kind): what the next line of a log looks like.
fn revalue(n: &Node, rng: &mut Rng) -> Node {
    match n {
        Node::Obj(kv) => Node::Obj(kv.iter().map(|(k, x)| (k.clone(), revalue(x, rng))).collect()),
        Node::List(xs) => Node::List(xs.iter().map(|x| revalue(x, rng)).collect()),
        _ if rng.below(10) == 0 => match rng.below(4) {
            0 => Node::Str("text".into()),
            1 => Node::Null,
            2 => Node::Num("NaN".into(), f64::NAN),
            _ => Node::Num("-Infinity".into(), f64::NEG_INFINITY),
        },
        Node::Num(..) => {
            let x = (rng.next_u64() as i64 as f64) / (1u64 << rng.below(60)) as f64;
            Node::Num(format!("{x:?}"), x)
        }
        Node::Str(s) => Node::Str(format!("{s}{}", rng.below(1000))),
        other => other.clone(),
    }
}

/// What the key-layout parser and the full parser make of one line must be the same.
fn same_as_full(p: &mut LineParser, bytes: &[u8]) -> Result<(), TestCaseError> {
    let (mut fast, mut full) = (Vec::new(), Vec::new());
    let a = p.parse(bytes, &mut fast);
    let b = parse_line(bytes, &mut full);
    prop_assert_eq!(a.as_ref().err(), b.as_ref().err(), "{}", String::from_utf8_lossy(bytes));
    prop_assert_eq!(owned(&fast), owned(&full), "{}", String::from_utf8_lossy(bytes));
    Ok(())
}

proptest! {
    /// Lines that share a layout with lines read before (the same tree and spacing, other
    /// values), and mutated copies of them, read exactly as `parse_line` reads them.
    #[test]
    fn layouts_read_as_the_full_parser(
        obj in object(true),
        seed in any::<u64>(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut rng = Rng::new(seed);
        let mut p = LineParser::new();
        let line = |n: &Node| {
            let mut s = String::new();
            write(n, Esc::Serde, &mut Ws::new(seed), &mut s);
            s.into_bytes()
        };
        let first = line(&obj);
        same_as_full(&mut p, &first)?;
        for _ in 0..4 {
            let next = revalue(&obj, &mut rng);
            let bytes = line(&next);
            same_as_full(&mut p, &bytes)?;
            same_as_full(&mut p, &mutate(bytes, &ops))?;
        }
        same_as_full(&mut p, &first)?;
        let mut spaced = first.clone();
        spaced.push(b' ');
        same_as_full(&mut p, &spaced)?;
        same_as_full(&mut p, &first[..first.len().saturating_sub(1)])?;
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        consistent(&bytes)?;
    }

    #[test]
    fn never_panics_on_jsonish_bytes(
        bytes in prop::collection::vec(prop::sample::select(b"{}[]\":,\\ 0123456789-+.eENaInfitylsu\xff\t".to_vec()), 0..256)
    ) {
        consistent(&bytes)?;
    }

    #[test]
    fn never_panics_on_mutated_lines(
        obj in object(true), seed in any::<u64>(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut s = String::new();
        write(&obj, Esc::Serde, &mut Ws::new(seed), &mut s);
        let bytes = mutate(s.into_bytes(), &ops);
        consistent(&bytes)?;
        // Whatever serde_json reads as an object (strict JSON), we read too, to the same fields
        // (unless a mutation made duplicate keys, which serde_json collapses).
        if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let mut out = Vec::new();
            prop_assert!(parse_line(&bytes, &mut out).is_ok(), "serde_json accepts {:?}", String::from_utf8_lossy(&bytes));
            let ours = sorted(zero_sign_blind(owned(&out)));
            let mut keys: Vec<&String> = ours.iter().map(|(k, _)| k).collect();
            keys.dedup();
            if keys.len() == ours.len() {
                prop_assert_eq!(ours, sorted(zero_sign_blind(reference(&v))));
            }
        }
    }

    #[test]
    fn strict_objects_match_the_tree_and_serde_json(obj in object(false), seed in any::<u64>(), uni in any::<bool>()) {
        let mut s = String::new();
        write(&obj, if uni { Esc::Unicode } else { Esc::Serde }, &mut Ws::new(seed), &mut s);
        let mut out = Vec::new();
        let r = parse_line(s.as_bytes(), &mut out);
        prop_assert!(r.is_ok(), "{:?} on {}", r, s);
        let ours = owned(&out);
        prop_assert_eq!(&ours, &expected(&obj), "{}", s);
        match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(v) => prop_assert_eq!(sorted(zero_sign_blind(ours)), sorted(zero_sign_blind(reference(&v)))),
            // serde_json refuses numbers beyond f64 range, which we read as infinities.
            Err(e) => prop_assert!(
                e.to_string().contains("out of range") && has_inf(&obj),
                "{} on {}", e, s
            ),
        }
    }

    #[test]
    fn lenient_objects_match_the_tree(obj in object(true), seed in any::<u64>(), uni in any::<bool>()) {
        let mut s = String::new();
        write(&obj, if uni { Esc::Unicode } else { Esc::Serde }, &mut Ws::new(seed), &mut s);
        let mut out = Vec::new();
        let r = parse_line(s.as_bytes(), &mut out);
        prop_assert!(r.is_ok(), "{:?} on {}", r, s);
        prop_assert_eq!(owned(&out), expected(&obj), "{}", s);
        // A BOM in front and a CRLF behind change nothing.
        let framed = [&b"\xEF\xBB\xBF"[..], s.as_bytes(), b"\r"].concat();
        let mut out2 = Vec::new();
        prop_assert!(parse_line(&framed, &mut out2).is_ok());
        prop_assert_eq!(owned(&out2), expected(&obj));
    }

    #[test]
    fn document_agrees_with_line(obj in object(true), seed in any::<u64>()) {
        let mut s = String::new();
        write(&obj, Esc::Serde, &mut Ws::new(seed), &mut s);
        let mut from_line = Vec::new();
        prop_assert!(parse_line(s.as_bytes(), &mut from_line).is_ok());
        let doc = parse_document(s.as_bytes());
        prop_assert!(doc.is_ok(), "{:?}", doc);
        let doc = doc.unwrap();
        let mut from_doc = Vec::new();
        prop_assert!(flatten_value(&doc, &mut from_doc).is_ok());
        prop_assert_eq!(owned(&from_line), owned(&from_doc));
    }

    #[test]
    fn numbers_are_bit_exact(t in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?") {
        let line = format!("{{\"x\":{t}}}");
        let mut out = Vec::new();
        prop_assert!(parse_line(line.as_bytes(), &mut out).is_ok());
        let std_value: f64 = t.parse().unwrap();
        prop_assert_eq!(owned(&out)[0].1.clone(), num(std_value), "{}", t);
        if let Ok(serde_json::Value::Number(n)) = serde_json::from_str::<serde_json::Value>(&t) {
            prop_assert_eq!(n.as_f64().unwrap(), std_value, "{}", t);
        }
    }
}
