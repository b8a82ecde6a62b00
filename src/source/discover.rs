//! Finding log files in a directory by the names training frameworks give them.
//!
//! Names taken: `*.jsonl` (W&B history, LLaMA-Factory's `trainer_log.jsonl`, ours),
//! `metrics.json` (detectron2), `scalars.json` (mmengine), `progress.json` (stable-baselines3,
//! OpenAI baselines), `result.json` (Ray Tune), `*.log.json` (mmcv/mmdet 2.x),
//! `trainer_state.json` (Hugging Face), plus two names that need a look inside: `log.txt` (DETR,
//! DeiT, MAE write JSON Lines there; taken only if its first line is a JSON object) and `log`
//! (Chainer's LogReport; taken only if it starts with `[`). Other formats: TensorBoard's
//! `events.out.tfevents.*`, W&B's `*.wandb`, `metrics.csv` (Lightning), `results.csv`
//! (Ultralytics), `mlflow.db` and an MLflow file-store run's `meta.yaml`.
//!
//! The walk goes [`MAX_DEPTH`] directory levels down, skips hidden directories and does not
//! follow directory symlinks (no loops). Results are sorted, so file numbers are deterministic.
//!
//! Each log file is one run, except where a framework writes one run twice:
//! - Hugging Face saves `trainer_state.json` in every `checkpoint-N/` directory, each a prefix of
//!   the next: only the newest checkpoint's is kept (the run of the output folder, see
//!   [`checkpoint_run`]), and none when the output folder has its own.
//! - Ray Tune (`result.json`), detectron2 (`metrics.json`) and mmengine (`scalars.json`) write
//!   the same scalars to TensorBoard event files beside their JSON when asked to: the JSON is
//!   the run (it has more: Ray's config, detectron2's eval lines), the event files of that
//!   folder are left out. Ray's `progress.csv` is not a log name at all, for the same reason.
//!
//! [`expand_patterns`] expands quoted globs (`tmon 'outputs/*/metrics.jsonl'`) with the `glob`
//! crate, for the command line.

use super::layout::complete_json;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How many directory levels below the given directory are searched.
/// Five: Hydra's multirun jobs with a TensorBoard folder, from the project's root
/// (`multirun/<date>/<time>/<job>/tb/`), and mmengine's `work_dirs/<cfg>/<time>/vis_data/`.
pub const MAX_DEPTH: usize = 5;

/// The log files at `path`: the path itself when it is a file or does not exist (yet), the log
/// files found inside when it is a directory.
pub fn discover(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        scan(path, MAX_DEPTH).files
    } else {
        vec![path.to_owned()]
    }
}

/// What a directory walk found.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Log files, sorted.
    pub files: Vec<PathBuf>,
    /// Every directory visited (the root included), for the watcher.
    pub dirs: Vec<PathBuf>,
}

/// Walks `root` down to `max_depth` levels of subdirectories.
pub fn scan(root: &Path, max_depth: usize) -> Scan {
    let mut out = Scan::default();
    walk(root, 0, max_depth, &mut out);
    if out.files.is_empty() {
        // No file has a framework's log name (logs renamed by hand, e.g. `run1.json`): take the
        // JSON files directly inside the directory rather than find nothing.
        out.files = fallback_json(root);
    }
    out.files.sort();
    out.dirs.sort();
    drop_superseded_checkpoints(&mut out.files);
    drop_event_copies(&mut out.files);
    out
}

/// Log names whose writers may also write the same scalars to TensorBoard in the same folder.
const JSON_WITH_EVENT_COPIES: &[&str] = &["result.json", "metrics.json", "scalars.json"];

/// Event files in a folder whose JSON log (Ray, detectron2, mmengine) is the run already.
fn drop_event_copies(files: &mut Vec<PathBuf>) {
    let json_dirs: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| JSON_WITH_EVENT_COPIES.contains(&n))
        })
        .filter_map(|p| p.parent().map(Path::to_owned))
        .collect();
    if json_dirs.is_empty() {
        return;
    }
    files.retain(|p| {
        let events =
            p.file_name().and_then(|n| n.to_str()).is_some_and(crate::formats::tfevents::is_event_file_name);
        !(events && p.parent().is_some_and(|d| json_dirs.contains(d)))
    });
}

/// The output folder a Hugging Face checkpoint's `trainer_state.json` stands for
/// (`out/checkpoint-1500/trainer_state.json` -> `out`): a run whose log moves to the next
/// checkpoint's folder as training goes on. None for any other path.
pub fn checkpoint_run(path: &Path) -> Option<PathBuf> {
    if path.file_name()? != "trainer_state.json" {
        return None;
    }
    let dir = path.parent()?;
    let n = dir.file_name()?.to_str()?.strip_prefix("checkpoint-")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(dir.parent()?.to_owned())
}

/// True when `path` holds glob characters (`*`, `?`, `[`) and does not exist as written: a
/// pattern the shell did not expand (it was quoted).
pub fn is_pattern(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.contains(['*', '?', '[']) && std::fs::symlink_metadata(path).is_err()
}

/// The paths given on the command line with each quoted glob replaced by what it matches,
/// sorted (`**` matches any number of folders). A pattern that matches nothing, or is not a
/// valid pattern, is an error naming it: waiting for a file called `*` is never what was meant.
pub fn expand_patterns(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        if !is_pattern(p) {
            out.push(p.clone());
            continue;
        }
        let text = p.to_string_lossy();
        let matches = glob::glob(&text).map_err(|e| format!("'{text}' is not a valid pattern: {e}"))?;
        let mut found: Vec<PathBuf> = matches.filter_map(Result::ok).collect();
        if found.is_empty() {
            return Err(format!("no file or directory matches '{text}'"));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn walk(dir: &Path, depth: usize, max_depth: usize, out: &mut Scan) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    out.dirs.push(dir.to_owned());
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let path = e.path();
        if ft.is_dir() {
            let hidden = e.file_name().to_str().is_none_or(|n| n.starts_with('.'));
            if depth < max_depth && !hidden {
                walk(&path, depth + 1, max_depth, out);
            }
        } else if (ft.is_file() || (ft.is_symlink() && path.is_file())) && is_log_file(&path) {
            out.files.push(path);
        }
    }
}

/// True when the file's name (and for ambiguous names, its first bytes) says it is a log.
pub fn is_log_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    match name {
        "metrics.json" | "scalars.json" | "progress.json" | "result.json" | "trainer_state.json" => true,
        // Other formats (crate::formats): Lightning, Ultralytics, MLflow's SQLite and file stores.
        "metrics.csv" | "results.csv" | "mlflow.db" => true,
        "meta.yaml" => path.parent().is_some_and(crate::formats::mlflow::is_run_dir),
        "log.txt" => first_line_is_object(path),
        "log" => starts_with_array(path),
        _ => {
            name.ends_with(".jsonl")
                || name.ends_with(".ndjson")
                || name.ends_with(".log.json")
                || name.ends_with(".wandb")
                || name.contains("tfevents")
                // A file-store MLflow run's metric files (`metrics/loss`, `metrics/train/acc`):
                // followed with its `meta.yaml`, as one run.
                || crate::formats::mlflow::is_metric_file(path)
        }
    }
}

fn fallback_json(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| !n.starts_with('.') && n.ends_with(".json")))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect()
}

fn head(path: &Path, n: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    // Never blocking on a FIFO swapped in since the directory was listed.
    if let Ok((f, meta)) = super::tail::open_for_reading(path) {
        if meta.is_file() {
            let _ = f.take(n).read_to_end(&mut buf);
        }
    }
    buf
}

fn first_line_is_object(path: &Path) -> bool {
    let buf = head(path, 256 * 1024);
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') && complete_json(line)
}

fn starts_with_array(path: &Path) -> bool {
    head(path, 4096).iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// `run/checkpoint-500/trainer_state.json`, `run/checkpoint-1000/...`: keep the highest N, or
/// none when `run/trainer_state.json` exists.
fn drop_superseded_checkpoints(files: &mut Vec<PathBuf>) {
    let checkpoint_of = |p: &Path| -> Option<(PathBuf, u64)> {
        let run = checkpoint_run(p)?;
        let n = p.parent()?.file_name()?.to_str()?.strip_prefix("checkpoint-")?.parse().ok()?;
        Some((run, n))
    };
    let mut newest: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for p in files.iter() {
        if let Some((run, n)) = checkpoint_of(p) {
            let e = newest.entry(run).or_insert(n);
            *e = (*e).max(n);
        }
    }
    if newest.is_empty() {
        return;
    }
    let own: Vec<PathBuf> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "trainer_state.json"))
        .filter_map(|p| p.parent().map(Path::to_owned))
        .collect();
    files.retain(|p| match checkpoint_of(p) {
        Some((run, n)) => newest.get(&run) == Some(&n) && !own.contains(&run),
        None => true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str, content: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    #[test]
    fn finds_framework_names_sorted_and_bounded() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(r, "b/metrics.json", "{}\n");
        touch(r, "a/trainer_log.jsonl", "{}\n");
        touch(r, "work/20210503_181721.log.json", "{}\n");
        touch(r, "notes.txt", "hello\n");
        touch(r, "config.json", "{}\n");
        touch(r, "detr/log.txt", "{\"epoch\": 0}\n");
        touch(r, "text/log.txt", "epoch 0 loss 1\n");
        touch(r, "chainer/result/log", "[\n  {\"epoch\": 1}\n]");
        touch(r, ".hidden/x.jsonl", "{}\n");
        touch(r, "1/2/3/4/5/deep.jsonl", "{}\n");
        touch(r, "1/2/3/4/5/6/too_deep.jsonl", "{}\n");
        let rel: Vec<String> =
            discover(r).iter().map(|p| p.strip_prefix(r).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            rel,
            [
                "1/2/3/4/5/deep.jsonl",
                "a/trainer_log.jsonl",
                "b/metrics.json",
                "chainer/result/log",
                "detr/log.txt",
                "work/20210503_181721.log.json"
            ]
        );
    }

    #[test]
    fn keeps_only_the_newest_checkpoint_state() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(r, "run/checkpoint-500/trainer_state.json", "{}");
        touch(r, "run/checkpoint-1500/trainer_state.json", "{}");
        touch(r, "run/checkpoint-1000/trainer_state.json", "{}");
        touch(r, "other/checkpoint-10/trainer_state.json", "{}");
        touch(r, "other/trainer_state.json", "{}");
        let rel: Vec<String> =
            discover(r).iter().map(|p| p.strip_prefix(r).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(rel, ["other/trainer_state.json", "run/checkpoint-1500/trainer_state.json"]);
    }

    #[test]
    fn a_file_or_missing_path_is_itself() {
        let p = Path::new("/nonexistent/tmon/run.jsonl");
        assert_eq!(discover(p), vec![p.to_owned()]);
    }
}
