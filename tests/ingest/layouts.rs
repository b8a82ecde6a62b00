//! Folders of many runs as frameworks lay them out (tests/fixtures/layouts, written by make.py
//! there; the formats' own trees in tests/fixtures/formats): which files discovery takes as runs,
//! the names the runs get, and the config read for each.

use crate::support::fixture;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tmon::run::{config, naming};
use tmon::source::discover;

/// The runs found under `root`, relative to it.
fn found(root: &Path) -> Vec<String> {
    discover::discover(root).iter().map(|p| rel(root, p)).collect()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

fn names(root: &Path) -> Vec<String> {
    naming::short_names(&discover::discover(root))
}

/// The config of each run found under `root`, by its short name.
fn configs(root: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let files = discover::discover(root);
    let names = naming::short_names(&files);
    names
        .into_iter()
        .zip(&files)
        .map(|(n, f)| {
            let got = config::read(f);
            assert!(got.problems.is_empty(), "{}: {:?}", f.display(), got.problems);
            (n, got.values)
        })
        .collect()
}

fn layout(name: &str) -> PathBuf {
    fixture("layouts").join(name)
}

fn differing(root: &Path) -> Vec<String> {
    let c = configs(root);
    config::differing(&c.values().collect::<Vec<_>>())
}

#[test]
fn one_folder_per_run() {
    let root = layout("folders");
    assert_eq!(
        found(&root),
        ["sweep/lr_1e-1/logs.jsonl", "sweep/lr_1e-2/logs.jsonl", "sweep/lr_1e-3/logs.jsonl"]
    );
    assert_eq!(names(&root), ["lr_1e-1", "lr_1e-2", "lr_1e-3"]);
    let c = configs(&root);
    assert_eq!(c["lr_1e-2"]["lr"], "0.01");
    assert_eq!(c["lr_1e-2"]["batch_size"], "32");
    // output_dir differs in every run but says nothing the name does not.
    assert_eq!(differing(&root), ["lr"]);
}

#[test]
fn hydra_outputs_and_multirun() {
    let root = layout("hydra");
    assert_eq!(
        found(&root),
        [
            "multirun/2024-05-02/08-00-00/0/metrics.jsonl",
            "multirun/2024-05-02/08-00-00/1/metrics.jsonl",
            "outputs/2024-05-01/09-15-02/metrics.jsonl",
            "outputs/2024-05-01/11-40-37/metrics.jsonl"
        ],
        "Hydra's own text log and the hidden .hydra folder are not runs"
    );
    // The shortest part that tells each apart: the job number, or a single run's date and time.
    assert_eq!(names(&root), ["0", "1", "2024-05-01/09-15-02", "2024-05-01/11-40-37"]);
    let outputs = root.join("outputs");
    assert_eq!(names(&outputs), ["09-15-02", "11-40-37"]);
    let c = configs(&outputs);
    assert_eq!(c["09-15-02"]["optimizer/lr"], "0.01");
    assert_eq!(c["11-40-37"]["optimizer/name"], "adam");
    assert_eq!(differing(&outputs), ["optimizer/lr"]);
    let multirun = root.join("multirun");
    assert_eq!(names(&multirun), ["0", "1"]);
    assert_eq!(differing(&multirun), ["data/batch_size"]);
}

#[test]
fn hugging_face_the_newest_checkpoint_is_the_run() {
    let root = layout("huggingface");
    assert_eq!(
        found(&root),
        ["out/lr-2e-5/checkpoint-1000/trainer_state.json", "out/lr-5e-5/trainer_state.json"]
    );
    assert_eq!(names(&root), ["lr-2e-5", "lr-5e-5"]);
    let files = discover::discover(&root);
    assert_eq!(discover::checkpoint_run(&files[0]), Some(root.join("out/lr-2e-5")));
    assert_eq!(discover::checkpoint_run(&files[1]), None);
    let c = configs(&root);
    assert_eq!(c["lr-2e-5"]["hidden_size"], "128");
    assert_eq!(c["lr-5e-5"]["architectures"], "[\"BertForSequenceClassification\"]");
}

#[test]
fn ray_tune_trials_are_their_result_json() {
    let root = layout("ray");
    let got = found(&root);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter().all(|f| f.ends_with("/result.json")),
        "progress.csv and event files are copies: {got:?}"
    );
    assert_eq!(
        names(&root),
        [
            "train_fn_a1b2c_00000_0_lr=0.001_2024-05-03_10-00-00",
            "train_fn_a1b2c_00001_1_lr=0.01_2024-05-03_10-00-01",
            "train_fn_a1b2c_00002_2_lr=0.1_2024-05-03_10-00-02"
        ]
    );
    assert_eq!(differing(&root), ["lr"]);
}

#[test]
fn detectron2_and_mmengine_output_folders() {
    let root = layout("detectron2");
    assert_eq!(found(&root), ["output_lr0.005/metrics.json", "output_lr0.02/metrics.json"]);
    assert_eq!(names(&root), ["output_lr0.005", "output_lr0.02"]);
    assert_eq!(differing(&root), ["SOLVER/BASE_LR"]);

    let root = layout("mmengine");
    assert_eq!(
        found(&root),
        [
            "work_dirs/cfg_a/20240101_120000/vis_data/scalars.json",
            "work_dirs/cfg_b/20240102_130000/vis_data/scalars.json"
        ]
    );
    assert_eq!(names(&root), ["cfg_a", "cfg_b"]);
}

#[test]
fn lightning_versions_and_first_record_configs() {
    let root = layout("lightning");
    assert_eq!(
        found(&root),
        ["lightning_logs/version_0/metrics.csv", "lightning_logs/version_1/metrics.csv"]
    );
    assert_eq!(names(&root), ["version_0", "version_1"]);
    assert_eq!(differing(&root), ["lr"]);

    let root = layout("first-record");
    assert_eq!(names(&root), ["a", "b"]);
    let c = configs(&root);
    assert_eq!(c["a"]["optimizer/lr"], "0.1");
    assert_eq!(differing(&root), ["optimizer/lr"]);
}

#[test]
fn formats_already_read_tensorboard_wandb_mlflow() {
    // A TensorBoard logdir: one run per folder of event files.
    let root = fixture("formats/tb");
    let runs: Vec<PathBuf> = {
        let mut keys: Vec<PathBuf> =
            discover::discover(&root).iter().map(|p| tmon::formats::run_key(p)).collect();
        keys.dedup();
        keys
    };
    assert_eq!(naming::short_names(&runs), ["keras", "restarted", "simple", "tensor", "tf2hist", "torn"]);
    // An MLflow file store: its meta.yaml and metric files are found (followed as they grow), and
    // they make one run per run folder.
    let root = fixture("formats/mlflow/filestore");
    let got = found(&root);
    assert!(got.iter().any(|f| f.ends_with("/metrics/train/acc")), "nested metric names: {got:?}");
    let mut runs: Vec<String> =
        discover::discover(&root).iter().map(|p| rel(&root, &tmon::formats::run_key(p))).collect();
    runs.dedup();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(
        runs.iter().all(|f| f.starts_with("mlruns/161594526441532315/")
            && f.len() == "mlruns/161594526441532315/".len() + 32),
        "{runs:?}"
    );
    // W&B: the run files under wandb/.
    let got = found(&fixture("formats/wandb"));
    assert!(!got.is_empty() && got.iter().all(|f| f.ends_with(".wandb")), "{got:?}");
}

#[test]
fn quoted_globs_are_expanded() {
    let pat = layout("hydra").join("outputs/*/*/metrics.jsonl");
    let got = discover::expand_patterns(&[pat]).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].ends_with("outputs/2024-05-01/09-15-02/metrics.jsonl"), "{got:?}");
    let pat = layout("folders").join("**/logs.jsonl");
    assert_eq!(discover::expand_patterns(&[pat]).unwrap().len(), 3);
    let none = layout("folders").join("*/nothing-*.jsonl");
    assert!(discover::expand_patterns(&[none]).unwrap_err().starts_with("no file or directory matches '"));
    // An existing path is itself, glob characters or not.
    let plain = layout("ray");
    assert_eq!(discover::expand_patterns(std::slice::from_ref(&plain)).unwrap(), [plain]);
}
