//! The flags on real logs from `../shared/corpus/real` (see its SOURCES.md): no false alarm on
//! healthy runs, restarts where runs were appended, none where val lines use another axis.
//! Skipped with a notice when the corpus is absent, a failure then under `TMON_REQUIRE_CORPUS=1`
//! (see tests/support/corpus.rs). The quirks themselves have small fixtures of our own in
//! rules.rs.

use tmon::analysis::{Flag, FlagConfig, FlagKind, Severity};
use tmon::ingest::IngestOptions;
use tmon::run::Run;

fn flags(file: &str, step_key: Option<&str>) -> Option<Vec<Flag>> {
    let path = crate::support::corpus::file(file)?;
    let opts = IngestOptions { step_key: step_key.map(str::to_owned), ..Default::default() };
    let run = Run::load_file(&path, opts, FlagConfig::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
    Some(run.flags().to_vec())
}

fn show(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|f| format!("  {} {} {} @{}: {}\n", f.severity, f.kind, f.metric, f.step, f.message))
        .collect()
}

#[test]
fn healthy_real_runs_raise_nothing_at_warning() {
    for file in [
        "llama-factory/sft-two-gpu-duplicated-trainer_log.jsonl",
        "llama-factory/qwen-sft-with-eval-trainer_log.jsonl",
        "mmdet/eltd-r101-no-final-newline.log.json",
        "mmdet/yolof-epoch-based.log.json",
        "mmengine/mmseg-iter-based-scalars.json",
        "mmengine/mmpretrain-val-step-is-epoch-scalars.json",
        "mmengine/mmpose-keys-with-spaces-scalars.json",
        "sb3/ddpg-humanoid-progress.json",
        "wandb/spaceinvaders-sparse-keys-video-history.jsonl",
        "wandb/a2c-gradient-histograms-history.jsonl",
    ] {
        let Some(f) = flags(file, None) else { return };
        let bad: Vec<Flag> = f.into_iter().filter(|x| x.severity >= Severity::Warning).collect();
        assert!(bad.is_empty(), "{file}:\n{}", show(&bad));
    }
}

#[test]
fn val_lines_on_the_epoch_axis_are_not_restarts() {
    // mmengine: `time` and `data_time` go 96, 1, 192, 2, ... (SOURCES.md).
    for file in [
        "mmengine/mmpretrain-val-step-is-epoch-scalars.json",
        "mmengine/mmpose-keys-with-spaces-scalars.json",
    ] {
        let Some(f) = flags(file, Some("step")) else { return };
        assert!(f.iter().all(|x| x.kind != FlagKind::Restart), "{file}:\n{}", show(&f));
    }
}

#[test]
fn appended_detectron2_runs_are_restarts_and_components_are_not_divergence() {
    let Some(f) = flags("detectron2/mask2former-wide-segm-eval.json", Some("iteration")) else { return };
    // Three runs in one file: 19 -> 1999, 19 -> 492, 19 -> 3999.
    let restarts: Vec<f64> = f.iter().filter(|x| x.kind == FlagKind::Restart).map(|x| x.step).collect();
    assert_eq!(restarts, vec![19.0, 19.0], "{}", show(&f));
    // loss_ce rises 4x in run 3 while total_loss falls: a trade-off, told as info.
    assert!(f.iter().all(|x| x.severity < Severity::Warning), "{}", show(&f));
    let Some(f) = flags("detectron2/maskrcnn-appended-runs-crlf.json", Some("iteration")) else { return };
    assert_eq!(f.iter().filter(|x| x.kind == FlagKind::Restart).count(), 1, "{}", show(&f));
    assert!(f.iter().all(|x| x.severity < Severity::Warning), "{}", show(&f));
}

#[test]
fn nan_losses_are_one_critical_flag() {
    let Some(path) = crate::support::corpus::file("mmdet/maskrcnn-nan-divergence.log.json") else { return };
    let run = Run::load_file(&path, IngestOptions::default(), FlagConfig::default()).unwrap();
    // The NaN lines are records (the parser reads bare NaN), not skipped lines.
    assert_eq!(run.store.skipped.count, 0);
    let nf: Vec<&Flag> = run.flags().iter().filter(|x| x.kind == FlagKind::Nonfinite).collect();
    assert_eq!(nf.len(), 1, "one flag for the six losses going NaN on one line:\n{}", show(run.flags()));
    assert_eq!(nf[0].severity, Severity::Critical);
    assert_eq!(nf[0].metric, "loss");
}

#[test]
fn no_crash_writers_or_not_learning_on_the_corpus() {
    // None of these runs crashed into its log, has two writers or failed to learn.
    let Some(files) = crate::support::corpus::logs() else { return };
    for f in files {
        let run = Run::load_file(&f, IngestOptions::default(), FlagConfig::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let bad: Vec<Flag> = run
            .flags()
            .iter()
            .filter(|x| {
                x.kind == FlagKind::Crash
                    || x.kind == FlagKind::Writers
                    || (x.kind == FlagKind::Plateau && x.severity >= Severity::Warning)
                    || (x.kind == FlagKind::ThroughputDrop)
                    || (x.kind == FlagKind::Stall && x.message.contains("regular steps"))
            })
            .cloned()
            .collect();
        assert!(bad.is_empty(), "{}:\n{}", f.display(), show(&bad));
    }
}

#[test]
fn detr_auxiliary_test_losses_turning_up_while_the_ap_improves_are_info() {
    // DETR (SOURCES.md): the auxiliary test losses turn up over and over while the task improves
    // (COCO AP 0.27 at epoch 12 -> 0.66 at 299). The AP is read from the list column
    // `test_coco_eval_bbox` (`.../AP`), and the overfitting rule weighs each turn against it, the
    // headline task metric, rather than `test_class_error` (which wobbles 5 -> 70 on 60 images and
    // made four of the turns warnings): each is info naming the AP (or AP50, when only it still
    // improves), and none is a warning.
    let Some(f) = flags("detr/detr-300ep-log.txt", None) else { return };
    let of: Vec<&Flag> = f.iter().filter(|x| x.kind == FlagKind::Overfitting).collect();
    assert_eq!(of.len(), 13, "{}", show(&f));
    for x in &of {
        assert_eq!(x.severity, Severity::Info, "{}", x.message);
        assert!(x.message.contains("but test_coco_eval_bbox/AP"), "{}", x.message);
    }
    let on_ap = of.iter().filter(|x| x.message.contains("but test_coco_eval_bbox/AP ")).count();
    assert_eq!(on_ap, 12, "{}", show(&f));
}
