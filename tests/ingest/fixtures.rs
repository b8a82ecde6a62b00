//! Our own small logs, one per quirk of real training logs (tests/fixtures/), read with zero
//! configuration. They mirror what corpus.rs checks on the real files, so the suite holds on a
//! fresh clone.

use std::path::PathBuf;
use tmon::ingest::{ClockKind, IngestOptions};
use tmon::run::Run;
use tmon::store::SeriesView;

fn fixture(name: &str) -> PathBuf {
    crate::support::fixture(name)
}

fn load(name: &str) -> Run {
    Run::load_file(&fixture(name), IngestOptions::default(), Default::default()).expect("fixture reads")
}

fn series<'a>(run: &'a Run, name: &str) -> SeriesView<'a> {
    let id = run.store.find(name).unwrap_or_else(|| panic!("no series '{name}'"));
    run.store.series(id)
}

fn has(run: &Run, name: &str) -> bool {
    run.store.find(name).is_some()
}

fn skipped_lines(run: &Run) -> Vec<u64> {
    run.store.skipped.kept.iter().map(|s| s.line).collect()
}

#[test]
fn nan_tokens_lines_are_records() {
    let run = load("nan-tokens.jsonl");
    assert_eq!((run.store.records(), run.store.skipped.count), (6, 0));
    assert!(!has(&run, "note"), "a string is not a metric, even one saying NaN");
}

#[test]
fn nan_tokens_become_nonfinite_points() {
    let run = load("nan-tokens.jsonl");
    assert_eq!(run.store.records(), 6);
    let loss = series(&run, "loss");
    assert_eq!(loss.nonfinite(), 4);
    let v = loss.values();
    assert!(v[2].is_nan() && v[3] == f64::INFINITY && v[4] == f64::NEG_INFINITY);
    assert_eq!(loss.min_max(), Some((2.1, 2.5)));
}

#[test]
fn crlf_and_empty_lines() {
    let run = load("crlf.jsonl");
    assert_eq!(run.store.records(), 3);
    assert_eq!(run.store.skipped.count, 0, "an empty CRLF line is not a skipped line");
    assert_eq!(series(&run, "loss").iter().collect::<Vec<_>>(), vec![(1.0, 1.5), (2.0, 1.25), (3.0, 1.0)]);
}

#[test]
fn no_final_newline_reads_the_last_line() {
    let run = load("no-final-newline.jsonl");
    assert_eq!(run.store.records(), 3);
    assert_eq!(series(&run, "loss").last(), Some((3.0, 1.0)));
}

#[test]
fn bom_is_not_part_of_the_first_key() {
    let run = load("bom.jsonl");
    assert_eq!(run.store.records(), 2);
    assert_eq!(run.ingest.step_key(), Some("step"));
    assert_eq!(series(&run, "loss").steps(), vec![1.0, 2.0]);
}

#[test]
fn traceback_and_print_lines_are_counted_with_their_numbers() {
    let run = load("traceback-lines.jsonl");
    assert_eq!(run.store.records(), 3);
    // Blank and whitespace-only lines (3, 4) are ignored; a JSON array (9) is not a record; the
    // half-written last line (11) is counted.
    assert_eq!(skipped_lines(&run), vec![1, 6, 7, 8, 9, 11]);
    assert_eq!(run.store.skipped.count, 6);
    assert!(run.store.skipped.kept[0].text.starts_with("Starting training"));
    assert_eq!(series(&run, "loss").steps(), vec![1.0, 2.0, 3.0]);
}

#[test]
fn mmcv_epoch_iter_global_step_and_val_lines() {
    let run = load("mmcv-epoch-iter.log.json");
    assert_eq!(run.ingest.metadata_records(), 1);
    assert_eq!(run.store.records(), 9);
    assert_eq!(run.ingest.step_key(), Some("epoch+iter"));
    let loss = series(&run, "loss");
    // Epoch length 25 (the val line's iter); a second run appended from epoch 1 restarts.
    assert_eq!(loss.steps(), vec![10.0, 20.0, 35.0, 45.0, 60.0, 10.0, 20.0]);
    assert_eq!(loss.restarts(), &[5]);
    assert_eq!(series(&run, "bbox_mAP").steps(), vec![25.0, 50.0]);
    assert_eq!(series(&run, "val/lr").len(), 2);
    assert_eq!(series(&run, "lr").len(), 7);
    for k in ["iter", "mode", "bbox_mAP_copypaste", "env_info", "seed", "val/epoch"] {
        assert!(!has(&run, k), "{k}");
    }
    let non: Vec<&str> = run.ingest.non_metric_keys().collect();
    assert!(non.contains(&"bbox_mAP_copypaste") && non.contains(&"env_info") && !non.contains(&"epoch"));
}

#[test]
fn mmengine_val_lines_join_the_train_step() {
    let run = load("mmengine-val-step-is-epoch.json");
    assert_eq!(run.store.records(), 6);
    assert_eq!(run.ingest.eval_records(), 3);
    assert_eq!(series(&run, "accuracy/top1").steps(), vec![50.0, 100.0]);
    assert_eq!(series(&run, "mIoU").steps(), vec![150.0]);
    assert_eq!(series(&run, "val/time").steps(), vec![50.0, 100.0, 150.0]);
    assert_eq!(series(&run, "time").values(), vec![0.07, 0.07, 0.07]);
    for id in run.store.ids() {
        assert!(run.store.series(id).restarts().is_empty(), "{}", run.store.name(id));
    }
}

#[test]
fn trainer_state_train_eval_and_summary() {
    let run = load("trainer_state.json");
    assert_eq!(run.ingest.format().as_str(), "trainer_state");
    assert_eq!(run.store.records(), 7);
    assert_eq!(series(&run, "loss").steps(), vec![10.0, 20.0, 30.0, 40.0]);
    assert_eq!(series(&run, "eval_loss").steps(), vec![20.0, 40.0]);
    assert_eq!(series(&run, "train_runtime").steps(), vec![40.0]);
    assert!(!has(&run, "global_step") && !has(&run, "best_metric"), "top-level fields are not records");
}

#[test]
fn chainer_array_without_extension_or_final_newline() {
    let run = load("chainer-array-log");
    assert_eq!(run.ingest.format().as_str(), "json_array");
    assert_eq!(run.ingest.step_key(), Some("iteration"));
    assert_eq!(run.ingest.time_key(), Some("elapsed_time"));
    assert_eq!(
        series(&run, "main/loss").iter().collect::<Vec<_>>(),
        vec![(100.0, 1.5), (200.0, 1.1), (300.0, 0.9)]
    );
    assert_eq!(series(&run, "epoch").times(), vec![3.5, 7.25, 11.0]);
}

#[test]
fn single_pretty_object_is_one_record() {
    let run = load("single-object.json");
    assert_eq!(run.ingest.format().as_str(), "json_object");
    assert_eq!(run.store.records(), 1);
    assert_eq!(series(&run, "accuracy").values(), vec![0.91]);
    assert!(!has(&run, "tags") && !has(&run, "name"));
}

#[test]
fn appended_runs_restart_without_losing_points() {
    let run = load("appended-runs.jsonl");
    assert_eq!(run.store.records(), 8);
    let loss = series(&run, "total_loss");
    assert_eq!(loss.restarts(), &[3]);
    assert_eq!(loss.len(), 8);
    assert_eq!(run.ingest.duplicates(), 0);
}

#[test]
fn split_key_names_series_per_agent() {
    let run = load("two-agents.json");
    assert_eq!(run.store.records(), 4);
    assert_eq!(
        series(&run, "eprewmean[agent_0]").iter().collect::<Vec<_>>(),
        vec![(2048.0, -700.5), (4096.0, -650.5)]
    );
    assert_eq!(series(&run, "eprewmean[agent_1]").values(), vec![-600.25, -550.25]);
    assert!(!has(&run, "eprewmean") && !has(&run, "agent") && !has(&run, "total_timesteps"));
    assert_eq!(run.ingest.time_key(), Some("time_elapsed"));
}

#[test]
fn timedelta_strings_are_the_clock() {
    let run = load("timedelta-strings.jsonl");
    assert_eq!(run.ingest.time_key(), Some("elapsed_time"));
    assert_eq!(run.ingest.clock_kind(), Some(ClockKind::Elapsed));
    assert_eq!(series(&run, "loss").times(), vec![132.0, 86_399.0, 86_401.0]);
    assert!(!has(&run, "remaining_time") && !has(&run, "total_steps"));
    assert!(has(&run, "percentage") && has(&run, "epoch"));
}

#[test]
fn rank_copies_are_dropped_and_counted() {
    let run = load("rank-duplicates.jsonl");
    assert_eq!(run.store.records(), 4);
    assert_eq!(run.ingest.duplicates(), 4);
    let loss = series(&run, "loss");
    assert_eq!(loss.steps(), vec![10.0, 20.0, 30.0, 40.0]);
    assert!(loss.restarts().is_empty());
}

#[test]
fn iso8601_strings_are_a_unix_clock() {
    let run = load("iso-time.jsonl");
    assert_eq!(run.ingest.time_key(), Some("time"));
    assert_eq!(run.ingest.clock_kind(), Some(ClockKind::Unix));
    assert_eq!(series(&run, "loss").times(), vec![1_709_294_400.0, 1_709_294_430.5, 1_709_294_400.0]);
}

#[test]
fn wandb_sparse_keys_media_and_histograms() {
    let run = load("wandb-sparse-media.jsonl");
    assert_eq!(run.store.records(), 4);
    assert_eq!(run.ingest.step_key(), Some("_step"));
    assert_eq!(run.ingest.time_key(), Some("_timestamp"));
    assert_eq!(series(&run, "episodic_reward").steps(), vec![0.0, 3.0]);
    assert_eq!(series(&run, "cumulative_avg_reward").steps(), vec![1.0]);
    let names: Vec<&str> = run.store.ids().map(|id| run.store.name(id)).collect();
    assert!(names.iter().all(|n| !n.starts_with("gameplays") && !n.starts_with("grads")), "{names:?}");
    let h = run.store.histogram(run.store.histograms().find("grads/fc.bias").expect("W&B's histogram"));
    assert_eq!((h.len(), h.step(0), h.point(0).counts.clone()), (1, 3.0, vec![1.0, 2.0]));
    assert!(has(&run, "_runtime"), "the other clock stays a series, an alternative x axis");
}

#[test]
fn nested_config_and_ids_are_not_metrics() {
    let run = load("nested-config.jsonl");
    assert_eq!(run.store.skipped.count, 0);
    assert_eq!(run.ingest.step_key(), Some("training_iteration"));
    assert_eq!(run.ingest.time_key(), Some("timestamp"));
    assert_eq!(series(&run, "info/kl").steps(), vec![1.0, 2.0]);
    assert!(has(&run, "time_this_iter_s"));
    for k in ["pid", "config/lr", "date", "hostname", "done", "custom_metrics", "timestamp"] {
        assert!(!has(&run, k), "{k}");
    }
}

#[test]
fn per_iteration_durations_are_metrics_not_clocks() {
    let run = load("per-iteration-time.jsonl");
    assert_eq!(run.ingest.time_key(), None);
    assert_eq!(series(&run, "time").len(), 2);
    assert_eq!(series(&run, "bbox/AP-date").steps(), vec![39.0, 40.0]);
}

#[test]
fn no_step_key_uses_the_ordinal() {
    let run = load("no-step-key.jsonl");
    assert_eq!(run.ingest.step_key(), None);
    assert_eq!(series(&run, "loss").steps(), vec![0.0, 1.0, 2.0]);
}

#[test]
fn user_overrides_win() {
    let opts =
        IngestOptions { step_key: Some("epoch".into()), time_key: Some("time".into()), ..Default::default() };
    let run = Run::load_file(&fixture("mmcv-epoch-iter.log.json"), opts, Default::default()).expect("reads");
    assert_eq!(run.ingest.step_key(), Some("epoch"));
    assert_eq!(run.ingest.time_key(), Some("time"));
    assert_eq!(series(&run, "loss").steps()[..3], [1.0, 1.0, 2.0]);
    assert_eq!(series(&run, "loss").times()[0], 0.4);
    assert!(has(&run, "iter"), "no longer the step");
}

#[test]
fn a_step_key_the_file_lacks_falls_back_to_the_ordinal() {
    let opts = IngestOptions { step_key: Some("global_step".into()), ..Default::default() };
    let run = Run::load_file(&fixture("no-step-key.jsonl"), opts, Default::default()).expect("reads");
    assert_eq!(series(&run, "loss").steps(), vec![0.0, 1.0, 2.0]);
}

#[test]
fn line_by_line_equals_whole_file() {
    for name in ["mmcv-epoch-iter.log.json", "traceback-lines.jsonl", "rank-duplicates.jsonl", "crlf.jsonl"] {
        let whole = load(name);
        let bytes = std::fs::read(fixture(name)).expect("read");
        let mut live = Run::new(fixture(name), IngestOptions::default(), Default::default());
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            live.push_line(i as u64 + 1, line);
        }
        assert_eq!(live.store.records(), whole.store.records(), "{name}");
        assert_eq!(live.store.skipped.count, whole.store.skipped.count, "{name}");
        for id in whole.store.ids() {
            let (a, b) = (whole.store.series(id), live.store.series(id));
            assert_eq!(a.name(), b.name());
            assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>(), "{name} {}", a.name());
        }
    }
}
