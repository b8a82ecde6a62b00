//! Records from several writers, read by the real ingest and analyzer (and `tmon check`):
//! - copies of a record written by several ranks are dropped and counted, and the count is shown
//!   by `check` (text and JSON) and the monitor's header; two valid records at one step with
//!   different values are both kept;
//! - two processes appending to one log keep their steps as written and are told once
//!   (`writers`), not as a restart per rewind; an eval record that arrives after a later step
//!   keeps its own step.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::process::Command;
use tmon::run::Run;

const BIN: &str = env!("CARGO_BIN_EXE_tmon");

fn fixture(rel: &str) -> String {
    format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// A run read line by line through the real ingest and analyzer.
fn read(path: &str) -> Run {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    run_of(&text)
}

fn run_of(text: &[u8]) -> Run {
    let mut run = Run::new("log.jsonl", Default::default(), Default::default());
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        run.push_line(i as u64 + 1, line);
    }
    run
}

fn check_json(path: &str) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["check", "--json", "--fail-on", "critical", path])
        .output()
        .expect("run tmon");
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc["runs"][0].clone()
}

fn check_text(path: &str) -> String {
    let out = Command::new(BIN).args(["check", "--fail-on", "critical", path]).output().expect("run tmon");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kinds(run: &Run, kind: &str) -> usize {
    run.flags().iter().filter(|f| f.kind.as_str() == kind).count()
}

// ---- 7. duplicates ----

#[test]
fn two_valid_records_at_one_step_are_both_kept() {
    // One writer, two micro-batches at steps 1 and 2: losses 1-4% apart, the same learning rate.
    let path = fixture("writers/same-step-records.jsonl");
    let run = check_json(&path);
    assert_eq!(run["records"], 5, "{run}");
    assert_eq!(run["duplicates"], 0, "{run}");
    let loss = run["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "loss").expect("loss");
    assert_eq!(loss["points"], 5);
    assert!(!check_text(&path).contains("duplicate"), "nothing dropped, nothing said");
}

#[test]
fn rank_copies_are_dropped_counted_and_reported() {
    let path = fixture("rank-duplicates.jsonl");
    let run = check_json(&path);
    assert_eq!((run["records"].as_u64(), run["duplicates"].as_u64()), (Some(4), Some(4)), "{run}");
    let text = check_text(&path);
    assert!(text.contains("format jsonl, 4 records, 0 skipped lines, 4 duplicates dropped"), "{text}");

    // The monitor's header says it too.
    let app = tmon::app::App::from_runs(vec![read(&path)], Default::default());
    let mut term = Terminal::new(TestBackend::new(140, 30)).expect("terminal");
    term.draw(|f| tmon::ui::render(f, &app)).expect("draw");
    let buf = term.backend().buffer().clone();
    let header: String = (0..buf.area.width).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
    assert!(header.contains("4 records") && header.contains("4 duplicates dropped"), "{header}");
}

#[test]
fn llama_factory_two_gpu_copies_are_still_dropped() {
    let Some(path) = crate::support::corpus::file("llama-factory/sft-two-gpu-duplicated-trainer_log.jsonl")
    else {
        return;
    };
    let path = path.to_str().expect("a UTF-8 path").to_owned();
    let run = check_json(&path);
    let (records, dups) = (run["records"].as_u64().unwrap(), run["duplicates"].as_u64().unwrap());
    assert_eq!(records + dups, 1360);
    assert!(dups >= 670, "{dups} copies dropped");
    let flags = run["flags"].as_array().unwrap();
    assert!(!flags.iter().any(|f| f["kind"] == "writers"), "ranks' copies are dropped, not two writers");
    assert_eq!(flags.iter().filter(|f| f["kind"] == "restart").count(), 1, "the one real resume");
}

// ---- 9. two writers ----

#[test]
fn two_writers_keep_their_steps_and_are_told_once() {
    let path = fixture("writers/two-writers.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let written: Vec<f64> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["step"].as_f64().expect("step"))
        .collect();
    let run = read(&path);
    let loss = run.store.series(run.store.find("loss").expect("loss"));
    assert_eq!(loss.steps(), written, "every record at the step it was written with");
    assert_eq!(kinds(&run, "writers"), 1, "{:?}", run.flags());
    assert_eq!(kinds(&run, "restart"), 0, "no restart storm: {:?}", run.flags());
    let told = run.flags().iter().find(|f| f.kind.as_str() == "writers").expect("writers");
    assert!(told.message.starts_with("two writers"), "{}", told.message);
    assert!(told.step <= 5.0, "told as soon as the second writer carries on: step {}", told.step);

    // Through the binary, the same.
    let json = check_json(&path);
    let flags = json["flags"].as_array().unwrap();
    assert_eq!(flags.iter().filter(|f| f["kind"] == "writers").count(), 1, "{flags:?}");
    assert_eq!(flags.iter().filter(|f| f["kind"] == "restart").count(), 0, "{flags:?}");
}

#[test]
fn a_second_writers_eval_records_keep_their_own_steps() {
    // Writer A trains (loss); writer B, behind it, logs only an accuracy: recognised as eval
    // records (keys train records never had), but not moved to A's steps.
    let mut text = String::new();
    for k in 1..=20 {
        text.push_str(&format!("{{\"step\": {}, \"loss\": {}}}\n", k + 40, 1.0 / k as f64));
        text.push_str(&format!("{{\"step\": {k}, \"acc\": {}}}\n", 0.5 + k as f64 / 100.0));
    }
    let run = run_of(text.as_bytes());
    let acc = run.store.series(run.store.find("acc").expect("acc"));
    assert_eq!(acc.steps(), (1..=20).map(f64::from).collect::<Vec<_>>());
    assert_eq!(kinds(&run, "restart"), 0, "{:?}", run.flags());
}

#[test]
fn a_resumed_run_is_a_restart_not_two_writers() {
    // 0..1000 by 10, crash, resume from the checkpoint at 600, run past the old end.
    let mut text = String::new();
    for s in (0..=1000).step_by(10).chain((600..=1500).step_by(10)) {
        text.push_str(&format!("{{\"step\": {s}, \"loss\": {}}}\n", 2.0 / (1.0 + s as f64).sqrt()));
    }
    let run = run_of(text.as_bytes());
    assert_eq!(kinds(&run, "restart"), 1, "{:?}", run.flags());
    assert_eq!(kinds(&run, "writers"), 0, "{:?}", run.flags());
}

#[test]
fn no_scenario_of_the_harness_looks_like_two_writers() {
    use tmon::harness::{Scenario, Trainer};
    for &scenario in Scenario::ALL {
        for seed in 0..12 {
            let mut trainer = Trainer::new(scenario, seed);
            let mut run = Run::new("h.jsonl", Default::default(), Default::default());
            let mut line = 0;
            while let Some(rec) = trainer.next_record() {
                line += 1;
                run.push_line(line, rec.line.as_bytes());
            }
            assert_eq!(kinds(&run, "writers"), 0, "{scenario} seed {seed}: {:?}", run.flags());
        }
    }
}
