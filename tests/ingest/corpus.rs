//! One test per file of the real corpus (`../shared/corpus/real`), checking what SOURCES.md says
//! about it with zero configuration. Each test skips, with a notice, when the corpus is absent
//! (and fails then under `TMON_REQUIRE_CORPUS=1`, as in CI). Files with bare `NaN` tokens have a
//! second test for their NaN counts.

use std::path::PathBuf;
use tmon::ingest::IngestOptions;
use tmon::run::Run;
use tmon::store::SeriesView;

fn corpus_file(rel: &str) -> Option<PathBuf> {
    crate::support::corpus::file(rel)
}

fn load(rel: &str) -> Option<Run> {
    let path = corpus_file(rel)?;
    Some(Run::load_file(&path, IngestOptions::default(), Default::default()).expect("corpus file reads"))
}

fn series<'a>(run: &'a Run, name: &str) -> SeriesView<'a> {
    let id = run.store.find(name).unwrap_or_else(|| panic!("no series '{name}'"));
    run.store.series(id)
}

fn has(run: &Run, name: &str) -> bool {
    run.store.find(name).is_some()
}

fn names(run: &Run) -> Vec<&str> {
    run.store.ids().map(|id| run.store.name(id)).collect()
}

fn nonfinite(run: &Run, names: &[&str]) -> usize {
    names.iter().map(|n| series(run, n).nonfinite()).sum()
}

fn strictly_increasing(steps: &[f64]) -> bool {
    steps.windows(2).all(|w| w[0] < w[1])
}

fn no_restarts(run: &Run) {
    for id in run.store.ids() {
        assert!(run.store.series(id).restarts().is_empty(), "{} restarts", run.store.name(id));
    }
}

// ---- detectron2 ----

#[test]
fn detectron2_fruits_bbox_eval_nan() {
    let Some(run) = load("detectron2/fruits-bbox-eval-nan.json") else { return };
    // Bare NaN tokens are read as NaN: every line is a record, none skipped.
    assert_eq!((run.store.records(), run.store.skipped.count), (16, 0));
    assert_eq!(run.ingest.step_key(), Some("iteration"));
    // `time` is seconds per iteration, and `bbox/AP-date` a class's AP: neither is a clock.
    assert_eq!(run.ingest.time_key(), None);
    // 15 train lines (3 of them carry the eval keys with a bare NaN).
    assert_eq!(series(&run, "time").len(), 15);
    assert_eq!(series(&run, "time").len(), series(&run, "data_time").len());
    no_restarts(&run);
}

#[test]
fn detectron2_fruits_bbox_eval_nan_tokens() {
    let Some(run) = load("detectron2/fruits-bbox-eval-nan.json") else { return };
    assert_eq!(run.store.records(), 16);
    assert_eq!(run.store.skipped.count, 0);
    assert_eq!(series(&run, "bbox/APs").nonfinite(), 3);
    assert_eq!(series(&run, "bbox/AP-date").steps(), vec![99.0, 199.0, 300.0]);
    assert_eq!(run.store.last_record().map(|r| r.step), Some(300.0));
    assert_eq!(series(&run, "total_loss").len(), 15);
    no_restarts(&run);
}

#[test]
fn detectron2_mask2former_wide_segm_eval() {
    let Some(run) = load("detectron2/mask2former-wide-segm-eval.json") else { return };
    // Bare NaN tokens are read as NaN: every line is a record, none skipped.
    assert_eq!((run.store.records(), run.store.skipped.count), (328, 0));
    // 38 keys per train line: all but `iteration` are metrics.
    for k in ["loss_ce", "loss_ce_8", "loss_dice_0", "loss_mask_8", "loss_mgm_entropy", "total_loss"] {
        assert!(has(&run, k), "{k}");
    }
    // Three runs in one file: the step goes back twice.
    assert_eq!(series(&run, "total_loss").restarts().len(), 2);
    // Run 2 ends with an `eta_seconds`-only line at 493: a record, not an eval line.
    assert!(series(&run, "eta_seconds").steps().contains(&493.0));
}

#[test]
fn detectron2_mask2former_nan_tokens() {
    let Some(run) = load("detectron2/mask2former-wide-segm-eval.json") else { return };
    assert_eq!(run.store.records(), 328);
    assert_eq!(series(&run, "segm/AP").steps(), vec![2000.0, 4000.0]);
    assert_eq!(nonfinite(&run, &["bbox/APs", "segm/APs"]), 4);
    assert_eq!(series(&run, "bbox/AP").min_max(), Some((0.0, 0.0)));
}

#[test]
fn detectron2_maskrcnn_appended_runs_crlf() {
    let Some(run) = load("detectron2/maskrcnn-appended-runs-crlf.json") else { return };
    assert_eq!(run.store.records(), 119);
    assert_eq!(run.store.skipped.count, 0);
    assert!(names(&run).iter().all(|n| !n.contains('\r')));
    let loss = series(&run, "total_loss");
    // Line 15 holds only `eta_seconds` and `iteration`; line 14 lacks `eta_seconds`.
    assert_eq!(loss.len(), 118);
    assert_eq!(series(&run, "eta_seconds").len(), 118);
    // 225 -> 9: the second run appended to the file; the aborted runs stuck at 9 are kept.
    assert_eq!(loss.restarts(), &[14]);
    assert_eq!(loss.steps()[..2], [9.0, 9.0]);
    assert_eq!(loss.steps()[14..18], [9.0, 9.0, 9.0, 9.0]);
    assert_eq!(run.ingest.duplicates(), 0);
}

// ---- mmcv 1.x / mmdetection 2.x ----

fn mmcv_checks(run: &Run, epoch_len: f64) {
    assert_eq!(run.ingest.step_key(), Some("epoch+iter"));
    assert_eq!(run.ingest.metadata_records(), 1);
    let loss = series(run, "loss");
    assert!(strictly_increasing(&loss.steps()), "global step monotone within the run");
    for k in ["iter", "mode", "env_info", "config", "bbox_mAP_copypaste"] {
        assert!(!has(run, k), "{k} is not a metric");
    }
    let map = series(run, "bbox_mAP");
    assert_eq!(map.len(), 12);
    // Val lines land at the end of their epoch: epoch * loader length.
    let want: Vec<f64> = (1..=12).map(|e| e as f64 * epoch_len).collect();
    assert_eq!(map.steps(), want);
    assert_eq!(series(run, "val/lr").len(), 12);
    assert_eq!(series(run, "lr").len(), loss.len());
    let all = series(run, "epoch").steps();
    assert!(strictly_increasing(&all));
    no_restarts(run);
}

#[test]
fn mmdet_yolof_epoch_based() {
    let Some(run) = load("mmdet/yolof-epoch-based.log.json") else { return };
    assert_eq!(run.store.records(), 192);
    mmcv_checks(&run, 791.0);
    // Epoch 2's first train line (iter 50) comes right after epoch 1's 791 iterations.
    assert_eq!(series(&run, "loss").steps()[15], 841.0);
}

#[test]
fn mmdet_eltd_r101_no_final_newline() {
    let Some(run) = load("mmdet/eltd-r101-no-final-newline.log.json") else { return };
    assert_eq!(run.store.records() + 1, 385);
    mmcv_checks(&run, 1581.0);
    // The last record, with no trailing newline, was read: the 12th val line.
    assert_eq!(series(&run, "bbox_mAP").last(), Some((12.0 * 1581.0, 0.545)));
    assert!(has(&run, "grad_norm") && has(&run, "num_pos") && has(&run, "pos_recall"));
}

#[test]
fn mmdet_maskrcnn_nan_divergence() {
    let Some(run) = load("mmdet/maskrcnn-nan-divergence.log.json") else { return };
    assert_eq!(run.ingest.metadata_records(), 1);
    // Bare NaN tokens are read as NaN: every line is a record, none skipped.
    assert_eq!((run.store.records(), run.store.skipped.count), (88, 0));
    assert_eq!(run.ingest.step_key(), Some("epoch+iter"));
    assert!(strictly_increasing(&series(&run, "acc").steps()));
}

#[test]
fn mmdet_maskrcnn_nan_tokens() {
    let Some(run) = load("mmdet/maskrcnn-nan-divergence.log.json") else { return };
    assert_eq!(run.store.records(), 88);
    let losses = ["loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "loss_mask", "loss"];
    assert_eq!(nonfinite(&run, &losses), 444);
    assert_eq!(series(&run, "loss").nonfinite(), 74);
    assert_eq!(nonfinite(&run, &["acc", "lr", "time", "memory"]), 0);
    assert_eq!(series(&run, "loss").last().map(|p| p.0), Some(4400.0));
}

// ---- mmengine ----

#[test]
fn mmengine_mmseg_iter_based() {
    let Some(run) = load("mmengine/mmseg-iter-based-scalars.json") else { return };
    assert_eq!(run.store.records(), 87);
    assert_eq!(run.ingest.step_key(), Some("step"));
    assert!(has(&run, "decode.loss_ce") && has(&run, "aux.acc_seg"));
    // The val line shares step 4000 with the train line before it; its timings are val/.
    assert_eq!(series(&run, "mIoU").steps(), vec![4000.0]);
    assert_eq!(series(&run, "val/time").steps(), vec![4000.0]);
    assert_eq!(series(&run, "time").len(), 86);
    no_restarts(&run);
}

#[test]
fn mmengine_mmpretrain_val_step_is_epoch() {
    let Some(run) = load("mmengine/mmpretrain-val-step-is-epoch-scalars.json") else { return };
    assert_eq!(run.store.records(), 200);
    assert_eq!(run.ingest.eval_records(), 100);
    // Val lines (step = epoch) are joined to the train line before them: no 100 drops.
    let top1 = series(&run, "accuracy/top1");
    let want: Vec<f64> = (1..=100).map(|e| e as f64 * 96.0).collect();
    assert_eq!(top1.steps(), want);
    assert_eq!(series(&run, "val/data_time").len(), 100);
    assert_eq!(series(&run, "data_time").len(), 100);
    assert_eq!(series(&run, "loss").steps(), want);
    no_restarts(&run);
}

#[test]
fn mmengine_mmpose_keys_with_spaces() {
    let Some(run) = load("mmengine/mmpose-keys-with-spaces-scalars.json") else { return };
    assert_eq!(run.store.records(), 915);
    assert_eq!(run.ingest.eval_records(), 15);
    let ap = series(&run, "coco/AP .5");
    assert_eq!(ap.len(), 15);
    // Val every 10 epochs of 6 steps, joined to the train step before it.
    let want: Vec<f64> = (1..=15).map(|k| k as f64 * 60.0).collect();
    assert_eq!(ap.steps(), want);
    assert_eq!(series(&run, "coco/AP (M)").min_max(), Some((-1.0, -1.0)));
    let (lr_min, _) = series(&run, "lr").min_max().expect("lr");
    assert!((lr_min - 8e-10).abs() < 1e-15);
    assert_eq!(series(&run, "time").len(), 900);
    assert_eq!(series(&run, "val/time").len(), 15);
    no_restarts(&run);
}

// ---- stable-baselines3, OpenAI baselines ----

#[test]
fn sb3_ddpg_humanoid() {
    let Some(run) = load("sb3/ddpg-humanoid-progress.json") else { return };
    assert_eq!(run.store.records(), 1000);
    assert_eq!(run.ingest.step_key(), Some("time/total_timesteps"));
    assert_eq!(run.ingest.time_key(), Some("time/time_elapsed"));
    assert_eq!(series(&run, "train/actor_loss").len(), 999);
    assert_eq!(series(&run, "time/episodes").len(), 1000);
    let t = series(&run, "rollout/ep_rew_mean").times();
    assert_eq!((t[0], t[999]), (1.0, 20114.0));
    assert!(!has(&run, "time/total_timesteps") && !has(&run, "time/time_elapsed"));
    no_restarts(&run);
}

#[test]
fn baselines_ppo2_two_agents() {
    let Some(run) = load("openai-baselines/ppo2-two-agents-progress.json") else { return };
    assert_eq!(run.store.records(), 2);
    assert_eq!(run.ingest.step_key(), Some("total_timesteps"));
    assert_eq!(series(&run, "eprewmean[agent_0]").iter().collect::<Vec<_>>(), vec![(2048.0, -711.043725)]);
    assert_eq!(series(&run, "eprewmean[agent_1]").iter().collect::<Vec<_>>(), vec![(2048.0, -602.926234)]);
    assert!(!has(&run, "eprewmean") && !has(&run, "agent"));
    assert_eq!(run.ingest.duplicates(), 0);
}

#[test]
fn baselines_ddpg_one_epoch() {
    let Some(run) = load("openai-baselines/ddpg-one-epoch-progress.json") else { return };
    assert_eq!(run.store.records(), 1);
    assert_eq!(run.ingest.step_key(), Some("total/steps"));
    assert_eq!(run.ingest.time_key(), Some("total/duration"));
    assert!(!has(&run, "learner"), "a numeric-looking string stays a string");
    assert!(run.ingest.non_metric_keys().any(|k| k == "learner"));
    assert_eq!(series(&run, "rollout/return_lateset").len(), 1);
    assert!(run.store.series_count() >= 20);
}

// ---- Ray Tune ----

#[test]
fn ray_rllib_ppo_flow() {
    let Some(run) = load("ray/rllib-ppo-flow-result.json") else { return };
    assert_eq!(run.store.records(), 2);
    assert_eq!(run.ingest.step_key(), Some("training_iteration"));
    assert_eq!(run.ingest.time_key(), Some("timestamp"));
    assert_eq!(run.store.record(0).time, 1_541_979_254.0);
    assert_eq!(series(&run, "info/kl").len(), 2);
    assert_eq!(series(&run, "timesteps_total").steps(), vec![1.0, 2.0]);
    for k in ["pid", "date", "hostname", "done", "node_ip", "experiment_id", "custom_metrics"] {
        assert!(!has(&run, k), "{k} is not a metric");
    }
    assert!(names(&run).iter().all(|n| !n.starts_with("config/")), "the trainer config is not metrics");
    assert_eq!(run.store.skipped.count, 0, "`Infinity` inside a string is not a token");
}

// ---- Weights & Biases ----

#[test]
fn wandb_a2c_diverged() {
    let Some(run) = load("wandb/a2c-diverged-nan-history.jsonl") else { return };
    // Bare NaN tokens are read as NaN: every line is a record, none skipped.
    assert_eq!((run.store.records(), run.store.skipped.count), (99, 0));
    assert_eq!(run.ingest.step_key(), Some("_step"));
    assert_eq!(run.ingest.time_key(), Some("_timestamp"));
    assert!(has(&run, "Episode reward") && has(&run, "Value Loss"));
}

#[test]
fn wandb_a2c_diverged_nan_tokens() {
    let Some(run) = load("wandb/a2c-diverged-nan-history.jsonl") else { return };
    assert_eq!(run.store.records(), 99);
    assert_eq!(nonfinite(&run, &["Episode reward", "Policy Loss", "Value Loss"]), 291);
    assert_eq!(series(&run, "Episode length").nonfinite(), 0);
    let t = series(&run, "Episode length").times();
    assert_eq!(t[97], t[98], "the last two records share their time");
    assert!(strictly_increasing(&series(&run, "Episode length").steps()));
}

#[test]
fn wandb_a2c_gradient_histograms() {
    let Some(run) = load("wandb/a2c-gradient-histograms-history.jsonl") else { return };
    assert_eq!(run.store.records(), 500);
    assert!(names(&run).iter().all(|n| !n.starts_with("gradients/")), "histograms are not metrics");
    // W&B's `{"_type": "histogram", "values", "bins"}`: 6 gradient histograms, 5 steps each.
    let hs = run.store.histograms();
    assert_eq!(hs.len(), 6);
    assert_eq!(hs.bad().0, 0);
    for id in 0..hs.len() {
        let h = run.store.histogram(id);
        assert!(hs.name(id).starts_with("gradients/") && h.len() == 5, "{} {}", hs.name(id), h.len());
        // The run's losses fell to exactly 0 within its first 100 steps: from its first
        // histogram (step 98) on, every gradient is 0. A distribution that never had a spread is
        // not judged (no baseline): no flag, and none is raised.
        for i in 0..h.len() {
            let p = h.point(i);
            let pct = tmon::analysis::dist::percentiles(&p.edges, &p.counts);
            assert!(p.total > 0.0 && pct[8] - pct[0] == 0.0, "{pct:?}");
        }
    }
    assert!(run.flags().iter().all(|f| hs.find(&f.metric).is_none()), "{:?}", run.flags());
    assert_eq!(series(&run, "Policy Loss").len(), 500);
    no_restarts(&run);
}

#[test]
fn wandb_spaceinvaders_sparse_keys_video() {
    let Some(run) = load("wandb/spaceinvaders-sparse-keys-video-history.jsonl") else { return };
    assert_eq!(run.store.records(), 198);
    let ep = series(&run, "episodic_reward");
    let cum = series(&run, "cumulative_avg_reward");
    assert_eq!(ep.len() + cum.len() + 2, 198, "two lines hold only the video");
    assert_eq!(ep.steps()[..3], [0.0, 3.0, 5.0]);
    assert!(names(&run).iter().all(|n| !n.starts_with("gameplays")), "a media object is not a metric");
    assert!(ep.times().iter().all(|t| *t > 1.5e9));
}

// ---- Hugging Face ----

#[test]
fn huggingface_whisper_trainer_state() {
    let Some(run) = load("huggingface/whisper-trainer_state.json") else { return };
    assert_eq!(run.ingest.format().as_str(), "trainer_state");
    assert_eq!(run.store.records(), 206);
    assert_eq!(run.ingest.step_key(), Some("step"));
    let loss = series(&run, "loss");
    assert_eq!(loss.len(), 200);
    let eval = series(&run, "eval_wer");
    assert_eq!(eval.steps(), vec![1000.0, 2000.0, 3000.0, 4000.0, 5000.0]);
    let train_steps = loss.steps();
    assert!(eval.steps().iter().all(|s| train_steps.contains(s)), "eval shares train steps");
    assert_eq!(series(&run, "train_runtime").steps(), vec![5000.0]);
    assert!(!has(&run, "best_model_checkpoint") && !has(&run, "global_step"));
    no_restarts(&run);
}

// ---- LLaMA-Factory ----

/// The rank copies the ingest drops, and counts, in the two-GPU log (measured: a change in how
/// copies are told from records shows here).
const DUPLICATES: u64 = 679;

#[test]
fn llama_factory_two_gpu_duplicated() {
    let Some(run) = load("llama-factory/sft-two-gpu-duplicated-trainer_log.jsonl") else { return };
    assert_eq!(run.ingest.step_key(), Some("current_steps"));
    assert_eq!(run.ingest.time_key(), Some("elapsed_time"));
    // Every record twice (the ranks): copies dropped and counted, not 416 restarts.
    assert_eq!(run.store.records() as u64 + run.ingest.duplicates(), 1360);
    assert_eq!(run.ingest.duplicates(), DUPLICATES);
    let loss = series(&run, "loss");
    // The one real restart: a resume from a checkpoint at step 5010 (elapsed time back to 0:02:38).
    assert_eq!(loss.restarts().len(), 1);
    let r = loss.restarts()[0];
    assert_eq!(loss.step(r), 5010.0);
    assert_eq!(loss.time(r), 158.0);
    assert!(loss.times().iter().all(|t| t.is_finite()));
    assert!(!has(&run, "remaining_time") && !has(&run, "total_steps"));
    // The "N day(s), H:MM:SS" form of the same file's time strings reads as seconds.
    let path = corpus_file("llama-factory/sft-two-gpu-duplicated-trainer_log.jsonl").expect("present");
    let text = std::fs::read(path).expect("read");
    let first = text.split(|&b| b == b'\n').next().expect("a line");
    let mut fields = Vec::new();
    tmon::parse::parse_line(first, &mut fields).expect("first line parses");
    let remaining = fields.iter().find(|f| f.key == "remaining_time").expect("remaining_time");
    let tmon::parse::Scalar::Str(s) = &remaining.value else { panic!("a string") };
    assert_eq!(s, "1 day, 0:08:23");
    assert_eq!(tmon::ingest::clock::parse_timedelta(s), Some(86_400.0 + 8.0 * 60.0 + 23.0));
}

#[test]
fn llama_factory_qwen_with_eval() {
    let Some(run) = load("llama-factory/qwen-sft-with-eval-trainer_log.jsonl") else { return };
    assert_eq!(run.store.records(), 689);
    assert_eq!(run.ingest.duplicates(), 0);
    let eval = series(&run, "eval_loss");
    assert_eq!(eval.len(), 13);
    let loss_steps = series(&run, "loss").steps();
    assert!(eval.steps().iter().all(|s| loss_steps.contains(s)));
    assert_eq!(series(&run, "loss").len(), 675);
    assert_eq!(run.store.last_record().map(|r| r.time), Some(6.0 * 3600.0 + 48.0 * 60.0 + 6.0));
    no_restarts(&run);
}

// ---- DETR, Chainer ----

#[test]
fn detr_log_txt() {
    let Some(run) = load("detr/detr-300ep-log.txt") else { return };
    assert_eq!(run.ingest.format().as_str(), "jsonl");
    assert_eq!(run.store.records(), 300);
    assert_eq!(run.ingest.step_key(), Some("epoch"));
    assert_eq!(run.ingest.time_key(), None);
    // 94 keys: the step and a constant parameter count are not metrics; the list of COCOeval's
    // 12 summary numbers is 12 metrics named by their place in `stats`.
    assert_eq!(run.store.series_count(), 91 + 12);
    assert!(!has(&run, "n_parameters") && !has(&run, "test_coco_eval_bbox"));
    let ap = series(&run, "test_coco_eval_bbox/AP");
    assert_eq!(ap.len(), 300);
    assert!(has(&run, "test_coco_eval_bbox/ARl") && !has(&run, "test_coco_eval_bbox[0]"));
    let loss = series(&run, "train_loss");
    assert_eq!((loss.step(0), loss.step(299)), (0.0, 299.0));
    no_restarts(&run);
}

#[test]
fn chainer_log_without_extension() {
    let Some(src) = corpus_file("chainer/adda-result-log.json") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log");
    std::fs::copy(src, &path).expect("copy");
    let run = Run::load_file(&path, IngestOptions::default(), Default::default()).expect("reads");
    assert_eq!(run.ingest.format().as_str(), "json_array");
    assert_eq!(run.store.records(), 119);
    assert_eq!(run.ingest.step_key(), Some("iteration"));
    assert_eq!(run.ingest.time_key(), Some("elapsed_time"));
    for k in ["loss/discrim", "loss/encoder", "validation/main/accuracy", "validation/main/loss", "epoch"] {
        assert_eq!(series(&run, k).len(), 119, "{k}");
    }
    assert!(!has(&run, "iteration") && !has(&run, "elapsed_time"));
    assert!(strictly_increasing(&series(&run, "epoch").steps()));
    assert!((run.store.record(0).time - 8.95107626914978).abs() < 1e-9);
}
