//! Fuzzes the whole-document reader and the growing array's framer: arbitrary bytes go through
//! `Run::push_document` (parse, flatten, the entries' fingerprints, twice as a rewrite would) and
//! through `ArrayFramer` in arbitrary chunks, which must frame exactly what one push frames.

#![no_main]

#[path = "common/reference.rs"]
mod reference;

use libfuzzer_sys::fuzz_target;
use reference::{chunks, pieces};
use tmon::run::Run;
use tmon::source::frame::ArrayFramer;

fn frame(parts: &[&[u8]], max: usize) -> (Vec<(u64, Vec<u8>)>, bool) {
    let mut a = ArrayFramer::new(max);
    let mut out = Vec::new();
    for p in parts {
        a.push(p);
        if let Some(x) = a.take() {
            out.push(x);
        }
    }
    let mut flat = Vec::new();
    for (first, lines) in out {
        for (i, l) in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
            assert!(l.len() <= max || l.first() == Some(&0), "an element past the cap");
            flat.push((first + i as u64, l.to_vec()));
        }
    }
    (flat, a.closed())
}

fuzz_target!(|data: &[u8]| {
    let (sizes, payload) = chunks(data);
    let mut run = Run::new("fuzz.json", Default::default(), Default::default());
    run.push_document(payload);
    run.push_document(payload);
    let max = 64;
    let whole = frame(&[payload], max);
    let cut = frame(&pieces(payload, &sizes), max);
    assert_eq!(whole, cut, "the chunks changed the elements");
    for (i, (n, _)) in whole.0.iter().enumerate() {
        assert_eq!(*n, i as u64 + 1, "elements numbered in order");
    }
    // The elements read as lines, as the tailer hands them over.
    let mut lines = Run::new("fuzz.json", Default::default(), Default::default());
    for (n, l) in &whole.0 {
        lines.push_lines(*n, l);
    }
});
