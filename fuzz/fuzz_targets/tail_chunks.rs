//! Fuzzes the tailer's framing end to end: arbitrary bytes appended to a real file in arbitrary
//! chunks, the tailer polled after each. The lines it sends must be the reference's complete
//! lines, numbered without a gap, whatever the chunks; it never panics.

#![no_main]

#[path = "common/reference.rs"]
mod reference;

use libfuzzer_sys::fuzz_target;
use reference::{chunks, judge, reference};
use std::io::Write;
use std::time::Instant;
use tmon::source::{SourceEvent, TailOptions, Tailer};

fuzz_target!(|data: &[u8]| {
    let (sizes, payload) = chunks(data);
    // A first record, so the layout is JSON Lines whatever follows.
    let mut content = b"{}\n".to_vec();
    content.extend_from_slice(payload);
    let max = 64;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fuzz.jsonl");
    let mut file = std::fs::File::create(&path).expect("create");
    let opts = TailOptions { max_line: max, block: 16, budget: 64, ..Default::default() };
    let mut t = Tailer::new(0, &path, opts);
    // One instant: the settle time never passes, so a last line without newline stays held.
    let now = Instant::now();
    let mut sent = Vec::new();
    let mut next = 1;
    let mut rest: &[u8] = &content;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes.get(k % sizes.len().max(1)).copied().unwrap_or(rest.len()).min(rest.len());
        file.write_all(&rest[..n]).expect("write");
        rest = &rest[n..];
        k += 1;
        for ev in t.poll_at(now) {
            if let SourceEvent::Lines { first_line, bytes, .. } = ev {
                assert_eq!(first_line, next, "lines numbered without a gap");
                next += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
                sent.extend_from_slice(&bytes);
            }
        }
    }
    let mut got: Vec<_> = sent.split(|&b| b == b'\n').map(judge).collect();
    got.pop();
    let complete = content.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    assert_eq!(got, reference(&content[..complete], max));
});
