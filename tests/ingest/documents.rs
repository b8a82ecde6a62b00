//! Whole-file documents rewritten in place (trainer_state.json) and files that start over: what
//! was taken is not taken twice, and a restart is flagged and read again from the start.

use tmon::analysis::{FlagKind, Severity};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn trainer_state(losses: &[(u32, f64)]) -> Vec<u8> {
    let entries: Vec<String> = losses
        .iter()
        .map(|(s, l)| format!("    {{\n      \"loss\": {l},\n      \"step\": {s}\n    }}"))
        .collect();
    format!("{{\n  \"global_step\": 9,\n  \"log_history\": [\n{}\n  ]\n}}\n", entries.join(",\n"))
        .into_bytes()
}

fn new_run() -> Run {
    Run::new("trainer_state.json", IngestOptions::default(), Default::default())
}

fn loss_steps(run: &Run) -> Vec<f64> {
    run.store.series(run.store.find("loss").expect("loss")).steps()
}

#[test]
fn a_growing_document_is_taken_once() {
    let mut run = new_run();
    run.push_document(&trainer_state(&[(10, 1.0), (20, 0.9)]));
    run.push_document(&trainer_state(&[(10, 1.0), (20, 0.9)]));
    assert_eq!(run.store.records(), 2);
    run.push_document(&trainer_state(&[(10, 1.0), (20, 0.9), (30, 0.8), (40, 0.7)]));
    assert_eq!(loss_steps(&run), vec![10.0, 20.0, 30.0, 40.0]);
    assert!(run.flags().is_empty());
    assert_eq!(run.ingest.format().as_str(), "trainer_state");
}

#[test]
fn a_shorter_or_different_document_is_a_restart() {
    let mut run = new_run();
    run.push_document(&trainer_state(&[(10, 1.0), (20, 0.9), (30, 0.8)]));
    run.push_document(&trainer_state(&[(10, 1.1)]));
    assert_eq!(loss_steps(&run), vec![10.0, 20.0, 30.0, 10.0]);
    assert_eq!(run.flags().len(), 1);
    let f = &run.flags()[0];
    assert_eq!((f.kind, f.severity, f.step), (FlagKind::Restart, Severity::Info, 30.0));
    assert!(f.message.contains("fewer"), "{}", f.message);
    // Same length but another history (a new run in the same output directory).
    run.push_document(&trainer_state(&[(5, 1.2), (20, 1.0)]));
    assert_eq!(loss_steps(&run), vec![10.0, 20.0, 30.0, 10.0, 5.0, 20.0]);
    assert_eq!(run.flags().len(), 2, "{:#?}", run.flags());
    let loss = run.store.series(run.store.find("loss").expect("loss"));
    assert_eq!(loss.restarts(), &[3, 4]);
}

#[test]
fn a_document_caught_mid_write_is_counted_and_changes_nothing() {
    let mut run = new_run();
    run.push_document(&trainer_state(&[(10, 1.0)]));
    let full = trainer_state(&[(10, 1.0), (20, 0.9)]);
    run.push_document(&full[..full.len() / 2]);
    assert_eq!(run.store.records(), 1);
    assert_eq!(run.store.skipped.count, 1);
    run.push_document(&full);
    assert_eq!(loss_steps(&run), vec![10.0, 20.0]);
    assert!(run.flags().is_empty());
}

#[test]
fn note_restart_resets_the_ordinal_and_mmcv_epochs_and_flags_it() {
    let mut run = Run::new("x.log.json", IngestOptions::default(), Default::default());
    let lines = [
        r#"{"mode": "train", "epoch": 1, "iter": 10, "loss": 2.0}"#,
        r#"{"mode": "train", "epoch": 1, "iter": 20, "loss": 1.9}"#,
        r#"{"mode": "train", "epoch": 2, "iter": 10, "loss": 1.8}"#,
    ];
    for (i, l) in lines.iter().enumerate() {
        run.push_line(i as u64 + 1, l.as_bytes());
    }
    assert_eq!(loss_steps(&run), vec![10.0, 20.0, 30.0]);
    run.note_restart("file truncated");
    let f = run.flags().last().expect("a flag");
    assert_eq!((f.kind, f.severity), (FlagKind::Restart, Severity::Info));
    assert!(f.message.contains("file truncated"));
    // The new file is another run: it starts at epoch 2 with nothing known of epoch lengths.
    run.push_line(1, br#"{"mode": "train", "epoch": 2, "iter": 10, "loss": 1.5}"#);
    run.push_line(2, br#"{"mode": "train", "epoch": 3, "iter": 10, "loss": 1.4}"#);
    assert_eq!(loss_steps(&run), vec![10.0, 20.0, 30.0, 10.0, 20.0]);

    let mut plain = Run::new("y.jsonl", IngestOptions::default(), Default::default());
    plain.push_line(1, br#"{"loss": 1.0}"#);
    plain.push_line(2, br#"{"loss": 0.9}"#);
    plain.note_restart("replaced");
    plain.push_line(1, br#"{"loss": 0.8}"#);
    assert_eq!(loss_steps(&plain), vec![0.0, 1.0, 0.0]);
}

#[test]
fn a_single_object_rewritten_is_one_more_record_each_time() {
    let mut run = Run::new("summary.json", IngestOptions::default(), Default::default());
    run.push_document(b"{\n  \"loss\": 1.0,\n  \"acc\": 0.5\n}\n");
    run.push_document(b"{\n  \"loss\": 1.0,\n  \"acc\": 0.5\n}\n");
    run.push_document(b"{\n  \"loss\": 0.8,\n  \"acc\": 0.6\n}\n");
    assert_eq!(run.ingest.format().as_str(), "json_object");
    let acc = run.store.series(run.store.find("acc").expect("acc"));
    assert_eq!(acc.values(), vec![0.5, 0.6]);
    assert!(run.flags().is_empty());
}
