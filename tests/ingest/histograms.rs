//! Histograms in JSON Lines, through the real parse and ingest: the documented forms are one
//! value each (never a series per bin), the key-layout fast path never mistakes a histogram line
//! for a line it learnt, the line-by-line and the block reader agree, and malformed or cut
//! histograms are counted, never a panic.

use crate::support::fixture;
use tmon::analysis::FlagConfig;
use tmon::ingest::IngestOptions;
use tmon::parse::{parse_line, LineParser, Scalar};
use tmon::run::Run;

const NATURAL: &str =
    r#"{"step": 100, "loss": 0.5, "hist/fc1.weight": {"bins": [-1, 0, 1, 2], "counts": [3, 5, 2]}}"#;
const TB: &str = r#"{"step": 100, "hist/w": {"min": -1.0, "max": 2.0, "num": 6, "sum": 2.0, "sum_squares": 4.0, "bucket_limit": [0.0, 1.0, 1.7976931348623157e308], "bucket": [1, 3, 2]}}"#;

#[test]
fn both_forms_are_one_histogram_field() {
    let mut out = Vec::new();
    parse_line(NATURAL.as_bytes(), &mut out).unwrap();
    assert_eq!(out.len(), 3);
    let Scalar::Hist(h) = &out[2].value else { panic!("{:?}", out[2]) };
    let h = h.as_ref().as_ref().unwrap();
    assert_eq!(
        (out[2].key.as_ref(), &h.edges[..], &h.counts[..]),
        ("hist/fc1.weight", &[-1.0, 0.0, 1.0, 2.0][..], &[3.0, 5.0, 2.0][..])
    );
    parse_line(TB.as_bytes(), &mut out).unwrap();
    let Scalar::Hist(h) = &out[1].value else { panic!("{:?}", out[1]) };
    assert_eq!(h.as_ref().as_ref().unwrap().edges, vec![-1.0, 0.0, 1.0, 2.0]);
    // Nested under a prefix: the joined key.
    parse_line(br#"{"step": 1, "hist": {"fc1": {"bins": [0, 1], "counts": [4]}}}"#, &mut out).unwrap();
    assert_eq!(out[1].key, "hist/fc1");
}

/// A parser that learnt the layout of a line replays it for lines with the same bytes between
/// their values; a histogram line never gets there (it is never learnt), even repeated byte for
/// byte, and a learnt line never swallows a histogram.
#[test]
fn the_layout_fast_path_never_mishandles_a_histogram_line() {
    let lines = [
        r#"{"step": 1, "loss": 0.5, "h": {"bins": 5, "counts": 6}}"#,
        r#"{"step": 2, "loss": 0.4, "h": {"bins": 5, "counts": 6}}"#,
        r#"{"step": 3, "loss": 0.4, "h": {"bins": [0, 1], "counts": [6]}}"#,
        r#"{"step": 3, "loss": 0.4, "h": {"bins": [0, 1], "counts": [6]}}"#,
        NATURAL,
        NATURAL,
        TB,
        TB,
        r#"{"step": 101, "loss": 0.3, "hist/fc1.weight": {"bins": [-1, 0, 1], "counts": [3, 5, 2]}}"#,
        r#"{"step": 102, "loss": 0.3, "hist/fc1.weight": {"bins": [-1, 0, 1, 2], "counts": [3, 5, 2]}}"#,
        r#"{"step": 103, "loss": 0.2, "vals": [1, 2, 3], "hist/fc1.weight": {"bins": [-1, 0, 1, 2], "counts": [3, 5, 2]}}"#,
        r#"{"step": 104, "loss": 0.2, "vals": [1, 2, 3], "hist/fc1.weight": {"bins": [-1, 0, 1, 2], "counts": [3, 5, 2]}}"#,
    ];
    let mut parser = LineParser::new();
    for (i, l) in lines.iter().enumerate() {
        let (mut fast, mut full) = (Vec::new(), Vec::new());
        let layout = parser.parse(l.as_bytes(), &mut fast).unwrap();
        parse_line(l.as_bytes(), &mut full).unwrap();
        assert_eq!(fast, full, "line {i}");
        if full.iter().any(|f| matches!(f.value, Scalar::Hist(_))) {
            assert_eq!(layout, 0, "line {i}: a histogram line was learnt as a layout");
        }
    }
}

#[test]
fn malformed_and_cut_histograms_are_counted_never_a_panic() {
    let mut run = Run::new("h.jsonl", IngestOptions::default(), FlagConfig::default());
    let bad = [
        r#"{"step": 1, "h": {"bins": [0, 1, 2], "counts": [1, 2, 3]}}"#,
        r#"{"step": 2, "h": {"bins": [0, 1, 2], "counts": [1, -2]}}"#,
        r#"{"step": 3, "h": {"bins": [0, NaN, 2], "counts": [1, 2]}}"#,
        r#"{"step": 4, "h": {"bucket_limit": [1, 2], "bucket": [1]}}"#,
        r#"{"step": 5, "h": {"bins": [0, 1], "counts": [Infinity]}}"#,
    ];
    for (i, l) in bad.iter().enumerate() {
        run.push_line(i as u64 + 1, l.as_bytes());
    }
    let (n, kept) = run.store.histograms().bad();
    assert_eq!(n, 5);
    assert!(
        kept[0].reason.contains("3 edges for 3 counts") && kept[1].reason.contains("negative"),
        "{kept:?}"
    );
    assert!(kept[2].reason.contains("NaN") && kept[2].line == 3);
    // The records stay: their steps are there, with nothing lost silently.
    assert_eq!(run.store.records(), 5);
    assert!(run.store.histograms().find("h").is_none());
    // Every cut of a histogram line: an error or a record, never a panic.
    for cut in 0..TB.len() {
        let mut out = Vec::new();
        let _ = parse_line(&TB.as_bytes()[..cut], &mut out);
        let _ = LineParser::new().parse(&TB.as_bytes()[..cut], &mut out);
    }
    // Shown by the binary's report.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, bad.join("\n")).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_tmon")).arg("check").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("malformed histograms: 5") && text.contains("line 2: h: count 1 is negative"),
        "{text}"
    );
}

/// The block reader (`tmon check`'s) and the line-by-line path (the monitor's) read the same
/// histograms and raise the same flags from them.
#[test]
fn the_block_and_the_line_path_agree() {
    let path = fixture("ui/dists.jsonl");
    let block = Run::load_file(&path, IngestOptions::default(), FlagConfig::default()).unwrap();
    let mut lines = Run::new(&path, IngestOptions::default(), FlagConfig::default());
    for (i, l) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
        lines.push_line(i as u64 + 1, l.as_bytes());
    }
    let (a, b) = (block.store.histograms(), lines.store.histograms());
    assert_eq!(a.len(), 4);
    assert_eq!(a.len(), b.len());
    for id in 0..a.len() {
        let (x, y) = (block.store.histogram(id), lines.store.histogram(id));
        assert_eq!(x.name(), y.name());
        assert_eq!(x.len(), y.len());
        for i in 0..x.len() {
            assert_eq!(x.point(i), y.point(i));
        }
    }
    assert_eq!(a.bad().0, 1);
    assert_eq!(block.flags(), lines.flags());
    assert!(block
        .flags()
        .iter()
        .any(|f| f.kind.as_str() == "dead_units" && f.metric == "act/relu1" && f.step == 300.0));
}
