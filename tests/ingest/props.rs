//! Property tests: whatever the bytes, ingest neither panics nor loses a line without a word, and
//! reading a file whole or line by line agrees.

use proptest::prelude::*;
use tmon::ingest::IngestOptions;
use tmon::run::Run;

/// Lines that look like training logs, with the quirks mixed in.
fn log_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..50, -1e3f64..1e3).prop_map(|(s, l)| format!("{{\"step\": {s}, \"loss\": {l}}}")),
        (1u32..4, 0u32..40, 0f64..5.0).prop_map(|(e, i, l)| format!(
            "{{\"mode\": \"train\", \"epoch\": {e}, \"iter\": {i}, \"loss\": {l}}}"
        )),
        (1u32..4, 0f64..1.0)
            .prop_map(|(e, m)| format!("{{\"mode\": \"val\", \"epoch\": {e}, \"iter\": 40, \"mAP\": {m}}}")),
        (0u32..9).prop_map(|s| format!(
            "{{\"step\": {s}, \"acc\": 0.5, \"time\": 0.3, \"agent\": \"a{}\"}}",
            s % 2
        )),
        Just("{\"env_info\": \"x\", \"config\": \"y\"}".to_owned()),
        Just("Traceback (most recent call last):".to_owned()),
        Just(String::new()),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut run = Run::new("x", IngestOptions::default(), Default::default());
        let mut lines = 0u64;
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            run.push_line(i as u64 + 1, line);
            lines += 1;
        }
        prop_assert!(run.store.records() as u64 + run.store.skipped.count <= lines);
        run.push_document(&bytes);
        run.note_restart("test");
    }

    #[test]
    fn every_line_is_a_record_a_skip_a_copy_metadata_or_blank(lines in proptest::collection::vec(log_line(), 0..80)) {
        let text = lines.join("\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, &text).expect("write");
        let whole = Run::load_file(&path, IngestOptions::default(), Default::default()).expect("reads");
        let blank = lines.iter().filter(|l| l.trim().is_empty()).count() as u64;
        let accounted = whole.store.records() as u64
            + whole.store.skipped.count
            + whole.ingest.duplicates()
            + whole.ingest.metadata_records()
            + blank;
        prop_assert_eq!(accounted, lines.len() as u64);

        let mut live = Run::new(&path, IngestOptions::default(), Default::default());
        for (i, l) in lines.iter().enumerate() {
            live.push_line(i as u64 + 1, l.as_bytes());
        }
        prop_assert_eq!(live.store.records(), whole.store.records());
        for id in whole.store.ids() {
            let (a, b) = (whole.store.series(id), live.store.series(id));
            prop_assert_eq!(a.name(), b.name());
            prop_assert_eq!(a.steps(), b.steps());
        }
    }
}
