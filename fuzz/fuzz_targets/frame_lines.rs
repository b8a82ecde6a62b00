//! Fuzzes the line framer every reader uses (`source::frame::Framer`): arbitrary bytes, cut into
//! arbitrary chunks, with a small line cap. It must never panic, never hold more than the cap of
//! one line, and give exactly the lines of the slow reference, whatever the chunks.

#![no_main]

#[path = "common/reference.rs"]
mod reference;

use libfuzzer_sys::fuzz_target;
use reference::{chunks, judge, pieces, reference};
use tmon::source::frame::Framer;

fuzz_target!(|data: &[u8]| {
    let (sizes, payload) = chunks(data);
    let max = 1 + data.first().map_or(0, |&b| b as usize / 8) % 48;
    let mut f = Framer::new(max);
    let mut framed = Vec::new();
    let mut count = 0;
    for piece in pieces(payload, &sizes) {
        f.push(piece);
        assert!(f.partial().len() <= max, "a partial line past the cap");
        let (lines, n) = f.take();
        assert_eq!(n as usize, lines.iter().filter(|&&b| b == b'\n').count());
        assert!(lines.is_empty() || lines.ends_with(b"\n"));
        count += n;
        framed.extend_from_slice(&lines);
    }
    let mut got: Vec<_> = framed.split(|&b| b == b'\n').map(judge).collect();
    got.pop();
    if let Some(last) = f.finish_line() {
        got.push(judge(&last));
        count += 1;
    }
    assert_eq!(got.len() as u64, count);
    assert_eq!(got, reference(payload, max));
});
