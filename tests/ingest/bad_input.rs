//! Bad input never panics or hangs: invalid UTF-8, binary garbage, huge lines, lines across block
//! boundaries, and paths that are not regular files. Generated here rather than committed.

use std::io::Write;
use tmon::ingest::IngestOptions;
use tmon::run::{Run, BLOCK};

fn load_bytes(bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, bytes).expect("write");
    Run::load_file(&path, IngestOptions::default(), Default::default()).expect("reads")
}

#[test]
fn invalid_utf8_is_a_counted_skip() {
    let mut bytes = b"{\"step\": 1, \"loss\": 1.0}\n".to_vec();
    bytes.extend_from_slice(b"\xff\xfe\x80 not json at all\n");
    bytes.extend_from_slice(b"{\"step\": 2, \"name\": \"caf\xe9\", \"loss\": 0.5}\n");
    bytes.extend_from_slice(b"{\"step\": 3, \"loss\": 0.25}\n");
    let run = load_bytes(&bytes);
    let skipped: Vec<u64> = run.store.skipped.kept.iter().map(|s| s.line).collect();
    // Line 2 is not JSON; line 3 holds invalid UTF-8 inside a string, which is read lossily
    // (U+FFFD): a record, its loss kept.
    assert_eq!(skipped, vec![2]);
    assert_eq!(run.store.records(), 3);
    let loss = run.store.series(run.store.find("loss").expect("loss"));
    assert_eq!(loss.last(), Some((3.0, 0.25)));
}

#[test]
fn binary_garbage_is_skipped_lines_not_a_panic() {
    let bytes = crate::support::rng::bytes(7, 256 * 1024);
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let run = load_bytes(&bytes);
    assert_eq!(run.store.records(), 0);
    assert!(run.store.skipped.count > 0);
    assert!(run.store.skipped.count <= lines + 1);
    assert!(run.store.skipped.kept.iter().all(|s| s.text.len() <= 4 * tmon::store::SKIPPED_TEXT_MAX));
}

#[test]
fn garbage_starting_like_a_document_falls_back_to_lines() {
    let mut bytes = b"[ this is not json\n".to_vec();
    bytes.extend_from_slice(b"{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": 1.0}");
    let run = load_bytes(&bytes);
    assert_eq!(run.ingest.format().as_str(), "jsonl");
    assert_eq!(run.store.records(), 2);
    assert_eq!(run.store.skipped.count, 1);
    assert_eq!(run.store.skipped.kept[0].line, 1);
}

#[test]
fn lines_across_block_boundaries_and_a_huge_line() {
    let mut bytes = Vec::new();
    let mut n = 0u64;
    while bytes.len() < 3 * BLOCK {
        n += 1;
        writeln!(
            bytes,
            "{{\"step\": {n}, \"loss\": {}, \"lr\": 0.001, \"note\": \"padding {n}\"}}",
            1.0 / n as f64
        )
        .expect("write");
    }
    // One record longer than a block, then a last line without a newline.
    let long = "x".repeat(BLOCK + 12_345);
    writeln!(bytes, "{{\"step\": {}, \"loss\": 0.5, \"blob\": \"{long}\"}}", n + 1).expect("write");
    write!(bytes, "{{\"step\": {}, \"loss\": 0.25}}", n + 2).expect("write");
    let run = load_bytes(&bytes);
    assert_eq!(run.store.skipped.count, 0);
    assert_eq!(run.store.records() as u64, n + 2);
    let loss = run.store.series(run.store.find("loss").expect("loss"));
    assert_eq!(loss.len() as u64, n + 2);
    assert!(loss.steps().windows(2).all(|w| w[1] == w[0] + 1.0), "no line lost or split at a boundary");
    assert_eq!(loss.last(), Some(((n + 2) as f64, 0.25)));
    assert_eq!(run.store.record((n + 1) as u32).line, n + 2);
}

#[test]
fn a_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Run::load_file(dir.path(), IngestOptions::default(), Default::default()).expect_err("a dir");
    let msg = err.to_string();
    assert!(msg.contains(&dir.path().display().to_string()) && msg.contains("directory"), "{msg}");
}

#[test]
fn a_missing_file_is_an_error() {
    let err = Run::load_file(
        std::path::Path::new("/nonexistent/x.jsonl"),
        IngestOptions::default(),
        Default::default(),
    )
    .expect_err("missing");
    assert!(err.to_string().contains("no such file"), "{err}");
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fifo");
    crate::support::mkfifo(&path);
    let err = Run::load_file(&path, IngestOptions::default(), Default::default()).expect_err("a fifo");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn an_empty_file_is_an_empty_run() {
    let run = load_bytes(b"");
    assert_eq!(run.store.records(), 0);
    assert_eq!(run.store.skipped.count, 0);
    let run = load_bytes(b"\n\n  \r\n");
    assert_eq!((run.store.records(), run.store.skipped.count), (0, 0));
}

#[test]
fn a_broken_pretty_document_is_read_as_lines() {
    let run =
        load_bytes(b"{\n  \"log_history\": [\n    {\"step\": 1, \"loss\": 2.0},\n    {\"step\": 2, \"lo");
    assert_eq!(run.ingest.format().as_str(), "jsonl");
    // Line 3 is a whole object but for its trailing comma: not JSON, so every line is a counted
    // skip.
    assert_eq!((run.store.records(), run.store.skipped.count), (0, 4));
    assert_eq!(run.store.skipped.kept.first().map(|s| s.line), Some(1));
    assert_eq!(run.store.skipped.kept.last().map(|s| s.line), Some(4));
}

#[test]
fn a_line_of_many_blocks_is_one_record() {
    let mut bytes = b"{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.5, \"blob\": \"".to_vec();
    bytes.resize(bytes.len() + 16 * BLOCK, b'y');
    bytes.extend_from_slice(b"\"}\nnot json\n");
    let run = load_bytes(&bytes);
    assert_eq!(run.store.records(), 2);
    assert_eq!(run.store.skipped.count, 1);
    assert_eq!(run.store.skipped.kept[0].line, 3);
    assert!(run.store.find("blob").is_none());
}
