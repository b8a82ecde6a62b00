//! A run's configuration (its hyperparameters), read where frameworks write it, flattened like
//! metrics (`optimizer/lr`), and the keys whose values differ between runs.
//!
//! Where, nearest first (a key found nearer is not overridden by one found farther):
//! 1. what the log's format records itself (W&B's config, MLflow's params: already in
//!    [`RunInfo::config`](crate::formats::RunInfo) when the run is read);
//! 2. the log's first record, when it has no step and holds a `config` object
//!    (`{"config": {"lr": 3e-4, ...}}` written before training starts);
//! 3. files in the log's folder (the run folder itself for a TensorBoard or MLflow run folder):
//!    Hydra's `.hydra/config.yaml`, Lightning's `hparams.yaml`, Ray Tune's `params.json`,
//!    `args.json` (argparse dumps), `config.yaml` (detectron2; an old W&B run's, whose
//!    `{desc, value}` wrappers are taken off), `config.json`;
//! 4. the same files in the folder above (a log one level down its run folder: `tb/`,
//!    `vis_data/`, Hugging Face's `checkpoint-N/`).
//!
//! Values are text: numbers as Rust writes an `f64` (integers without a fraction), strings as
//! they are, `true`/`false`/`null`, lists as compact JSON. YAML is read with `serde_yaml_ng`,
//! JSON with our lenient document parser (Python writes `NaN` in configs too). A file that cannot
//! be read or parsed is named in [`ConfigRead::problems`], never silently taken as empty.

use super::Run;
use crate::parse::{parse_document, JsonValue};
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Config files looked for in a run's folder, in the order they take precedence.
pub const FILES: &[&str] =
    &[".hydra/config.yaml", "hparams.yaml", "params.json", "args.json", "config.yaml", "config.json"];

/// Largest config file read: a bigger one is not a run's configuration.
pub const MAX_BYTES: u64 = 4 << 20;
/// Most keys taken from one file.
pub const MAX_KEYS: usize = 10_000;
/// How much of a log is read to find its first record.
const FIRST_RECORD_MAX: u64 = 1 << 20;

/// Keys that name where a run writes or what it is called: they differ between every pair of
/// runs and say nothing the run's name does not, so [`differing`] leaves them out.
pub const BOOKKEEPING: &[&str] = &[
    "output_dir",
    "logging_dir",
    "log_dir",
    "logdir",
    "save_dir",
    "work_dir",
    "run_dir",
    "checkpoint_dir",
    "run_name",
    "run_id",
    "trial_id",
    "experiment_id",
    "timestamp",
];

/// What [`read`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigRead {
    /// The config, flattened.
    pub values: BTreeMap<String, String>,
    /// The files it came from, nearest first.
    pub files: Vec<PathBuf>,
    /// Files that are there but could not be used, each with the reason.
    pub problems: Vec<String>,
}

/// Reads the config of the run logged at `log` (a log file, or a run folder): its first record,
/// then the files beside it and in the folder above. Does not include what the format records
/// itself ([`Run::read_config`] merges both).
pub fn read(log: &Path) -> ConfigRead {
    let mut out = ConfigRead::default();
    if let Some(first) = first_record_config(log) {
        out.values = first;
    }
    for (k, v) in trainer_state_totals(log) {
        out.values.entry(k).or_insert(v);
    }
    let folder = if log.is_dir() { Some(log) } else { log.parent() };
    let Some(folder) = folder.map(|f| if f.as_os_str().is_empty() { Path::new(".") } else { f }) else {
        return out;
    };
    let above = folder.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
    for dir in std::iter::once(folder).chain(above) {
        for name in FILES {
            let path = dir.join(name);
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if !meta.is_file() {
                continue;
            }
            match read_file(&path, meta.len()) {
                Ok(values) => {
                    for (k, v) in values {
                        out.values.entry(k).or_insert(v);
                    }
                    out.files.push(path);
                }
                Err(why) => out.problems.push(format!("{}: {why}", path.display())),
            }
        }
    }
    out
}

/// Keys (the last part of a flattened key, in any case) that say how many steps a run will take:
/// Hugging Face's `max_steps`, LLaMA-Factory's `total_steps`, detectron2's `SOLVER.MAX_ITER`,
/// mmengine's `max_iters`, schedulers' `num_training_steps`, ...
pub const TOTAL_KEYS: &[&str] = &[
    "max_steps",
    "total_steps",
    "max_iter",
    "max_iters",
    "num_training_steps",
    "total_iters",
    "train_steps",
];

/// The steps the run will take, as its config says (a [`TOTAL_KEYS`] key, or `num_train_epochs`
/// times `steps_per_epoch`); None when it says nothing (or `-1`, "unset", as Lightning writes).
pub fn total_steps(config: &BTreeMap<String, String>) -> Option<f64> {
    let num = |name: &str| {
        config
            .iter()
            .filter(|(k, _)| k.rsplit(['/', '.']).next().is_some_and(|last| last.eq_ignore_ascii_case(name)))
            .find_map(|(_, v)| v.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 1.0))
    };
    TOTAL_KEYS
        .iter()
        .find_map(|k| num(k))
        .or_else(|| Some(num("num_train_epochs")? * num("steps_per_epoch")?))
}

/// How far the tail of a `trainer_state.json` is searched for its totals.
const STATE_TAIL: u64 = 64 << 10;

/// `max_steps` and `num_train_epochs` of a Hugging Face `trainer_state.json` (the Trainer's own
/// totals, top-level keys written after `log_history`, so the file's tail holds them); nothing
/// for another file.
fn trainer_state_totals(log: &Path) -> Vec<(String, String)> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    if log.file_name().is_none_or(|n| n != "trainer_state.json") {
        return Vec::new();
    }
    let Ok(mut file) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(log) else {
        return Vec::new();
    };
    let len = file.metadata().map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(len.saturating_sub(STATE_TAIL))).is_err()
        || file.take(STATE_TAIL).read_to_end(&mut tail).is_err()
    {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&tail);
    let mut out = Vec::new();
    for key in ["max_steps", "num_train_epochs"] {
        let pat = format!("\n  \"{key}\":\\s*([0-9][0-9.eE+]*)");
        let re = regex::Regex::new(&pat).expect("a valid pattern");
        if let Some(m) = re.captures_iter(&text).last().and_then(|c| c.get(1)) {
            out.push((key.to_owned(), m.as_str().to_owned()));
        }
    }
    out
}

/// One config file, flattened; the reason it could not be used otherwise.
pub fn read_file(path: &Path, len: u64) -> Result<BTreeMap<String, String>, String> {
    if len > MAX_BYTES {
        return Err(format!("{len} bytes, more than a config holds (at most {MAX_BYTES} are read)"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let mut out = BTreeMap::new();
    if yaml {
        let text = String::from_utf8_lossy(&bytes);
        let doc: Yaml = serde_yaml_ng::from_str(&text).map_err(|e| format!("not YAML: {e}"))?;
        flatten_yaml(&unwrap_wandb(doc), &mut out)?;
    } else {
        let doc = parse_document(&bytes).map_err(|e| e.to_string())?;
        flatten_json(&doc, &mut out)?;
    }
    Ok(out)
}

/// The `config` object of a log's first record, when that record has no step (written before
/// training starts).
pub fn first_record_config(log: &Path) -> Option<BTreeMap<String, String>> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (the monitor's
    // loader reads configs of whatever it was given, a named pipe too).
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(log).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    // Up to the first line's end only (in small reads): the log itself may be a GiB, and the
    // monitor's loader looks here for every run of a sweep.
    let mut head = Vec::new();
    std::io::BufReader::with_capacity(16 << 10, file.take(FIRST_RECORD_MAX))
        .read_until(b'\n', &mut head)
        .ok()?;
    let line = head.split(|&b| b == b'\n').next()?;
    let JsonValue::Object(fields) = parse_document(line).ok()? else { return None };
    let numeric = |k: &str| fields.iter().any(|(key, v)| key == k && matches!(v, JsonValue::Num(_)));
    if crate::ingest::keys::STEP_KEYS.iter().any(|k| numeric(k)) {
        return None;
    }
    let (_, config) = fields.iter().find(|(k, v)| k == "config" && matches!(v, JsonValue::Object(_)))?;
    let mut out = BTreeMap::new();
    flatten_json(config, &mut out).ok()?;
    Some(out)
}

/// A JSON config flattened into `out` (`a/b` keys).
pub fn flatten_json(v: &JsonValue, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    fn walk(prefix: &str, v: &JsonValue, out: &mut BTreeMap<String, String>) -> Result<(), String> {
        match v {
            JsonValue::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    walk(&join(prefix, k), x, out)?;
                }
                Ok(())
            }
            _ if prefix.is_empty() => Err("not an object of settings".to_owned()),
            _ => put(out, prefix, json_text(v)),
        }
    }
    walk("", v, out)
}

/// A YAML config flattened into `out`.
pub fn flatten_yaml(v: &Yaml, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    fn walk(prefix: &str, v: &Yaml, out: &mut BTreeMap<String, String>) -> Result<(), String> {
        match v {
            Yaml::Tagged(t) => walk(prefix, &t.value, out),
            Yaml::Mapping(m) if !m.is_empty() => {
                for (k, x) in m {
                    let Some(k) = yaml_key(k) else { continue };
                    walk(&join(prefix, &k), x, out)?;
                }
                Ok(())
            }
            // An empty file: no settings, not an error.
            Yaml::Null if prefix.is_empty() => Ok(()),
            _ if prefix.is_empty() => Err("not a mapping of settings".to_owned()),
            _ => put(out, prefix, yaml_text(v)),
        }
    }
    walk("", v, out)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}/{key}")
    }
}

fn put(out: &mut BTreeMap<String, String>, key: &str, value: String) -> Result<(), String> {
    if out.len() >= MAX_KEYS {
        return Err(format!("more than {MAX_KEYS} settings"));
    }
    out.insert(key.to_owned(), value);
    Ok(())
}

/// A number as config text: integers without a fraction, others as Rust writes them.
fn number_text(x: f64) -> String {
    format!("{x}")
}

/// A JSON value as config text (compact JSON for lists and empty objects).
fn json_text(v: &JsonValue) -> String {
    match v {
        JsonValue::Str(s) => s.clone(),
        other => {
            let mut s = String::new();
            write_json(other, &mut s);
            s
        }
    }
}

fn write_json(v: &JsonValue, s: &mut String) {
    match v {
        JsonValue::Null => s.push_str("null"),
        JsonValue::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        JsonValue::Num(x) if x.is_finite() => s.push_str(&number_text(*x)),
        JsonValue::Num(x) => s.push_str(crate::text::nonfinite(*x).unwrap_or("NaN")),
        JsonValue::Str(t) => s.push_str(&serde_json::Value::String(t.clone()).to_string()),
        JsonValue::Array(a) => {
            s.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_json(x, s);
            }
            s.push(']');
        }
        JsonValue::Object(m) => {
            s.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(&serde_json::Value::String(k.clone()).to_string());
                s.push_str(": ");
                write_json(x, s);
            }
            s.push('}');
        }
    }
}

fn yaml_key(k: &Yaml) -> Option<String> {
    match k {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(_) | Yaml::Bool(_) => Some(yaml_text(k)),
        Yaml::Null => Some("null".to_owned()),
        Yaml::Tagged(t) => yaml_key(&t.value),
        _ => None,
    }
}

/// A YAML value as config text.
fn yaml_text(v: &Yaml) -> String {
    match v {
        Yaml::Null => "null".to_owned(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(x)) if x.is_finite() => number_text(x),
            (_, _, Some(x)) => crate::text::nonfinite(x).unwrap_or("NaN").to_owned(),
            _ => n.to_string(),
        },
        Yaml::String(s) => s.clone(),
        Yaml::Tagged(t) => yaml_text(&t.value),
        // Lists and empty mappings: compact JSON.
        other => {
            let mut s = String::new();
            write_json(&yaml_to_json(other), &mut s);
            s
        }
    }
}

fn yaml_to_json(v: &Yaml) -> JsonValue {
    match v {
        Yaml::Null => JsonValue::Null,
        Yaml::Bool(b) => JsonValue::Bool(*b),
        Yaml::Number(n) => JsonValue::Num(n.as_f64().unwrap_or(f64::NAN)),
        Yaml::String(s) => JsonValue::Str(s.clone()),
        Yaml::Sequence(a) => JsonValue::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Mapping(m) => {
            JsonValue::Object(m.iter().filter_map(|(k, x)| Some((yaml_key(k)?, yaml_to_json(x)))).collect())
        }
        Yaml::Tagged(t) => yaml_to_json(&t.value),
    }
}

/// An old W&B run's `config.yaml` wraps each value as `{desc: ..., value: ...}` beside a
/// `wandb_version` key: the values, unwrapped (W&B's own `_wandb` entry left out).
fn unwrap_wandb(doc: Yaml) -> Yaml {
    let Yaml::Mapping(m) = &doc else { return doc };
    let wrapped = |v: &Yaml| matches!(v, Yaml::Mapping(x) if x.contains_key("value"));
    let is_wandb = m.contains_key("wandb_version")
        && m.iter().filter(|(k, _)| k.as_str() != Some("wandb_version")).all(|(_, v)| wrapped(v));
    if !is_wandb {
        return doc;
    }
    let mut out = serde_yaml_ng::Mapping::new();
    for (k, v) in m {
        if matches!(k.as_str(), Some("wandb_version" | "_wandb")) {
            continue;
        }
        if let Yaml::Mapping(x) = v {
            if let Some(value) = x.get("value") {
                out.insert(k.clone(), value.clone());
            }
        }
    }
    Yaml::Mapping(out)
}

/// The keys whose values differ between the runs, sorted: a key one run has and another lacks
/// differs too. Runs with no config at all are left out (nothing was found for them, which says
/// nothing about their settings), and so are [`BOOKKEEPING`] keys. Numbers compare as numbers
/// (`0.001` and `1e-3` are one value).
pub fn differing(configs: &[&BTreeMap<String, String>]) -> Vec<String> {
    let with: Vec<&BTreeMap<String, String>> = configs.iter().copied().filter(|c| !c.is_empty()).collect();
    if with.len() < 2 {
        return Vec::new();
    }
    let mut keys: Vec<&String> = with.iter().flat_map(|c| c.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !is_bookkeeping(k))
        .filter(|k| {
            let first = with[0].get(*k);
            with[1..].iter().any(|c| !same_value(first, c.get(*k)))
        })
        .cloned()
        .collect()
}

fn is_bookkeeping(key: &str) -> bool {
    let last = key.rsplit('/').next().unwrap_or(key);
    BOOKKEEPING.contains(&last)
}

fn same_value(a: Option<&String>, b: Option<&String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a == b || matches!((a.trim().parse::<f64>(), b.trim().parse::<f64>()), (Ok(x), Ok(y)) if x == y)
        }
        (None, None) => true,
        _ => false,
    }
}

impl Run {
    /// Fills [`RunInfo::config`](crate::formats::RunInfo) with what [`read`] finds for the run's
    /// path (what the format recorded stays: it is the nearest). Reads files: call it where
    /// blocking is fine (a loader's thread, `tmon check`). Returns the config files that could
    /// not be used, each with the reason.
    pub fn read_config(&mut self) -> Vec<String> {
        let found = read(&self.path);
        for (k, v) in found.values {
            self.info.config.entry(k).or_insert(v);
        }
        found.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_total_steps_come_from_the_config_keys_frameworks_write() {
        assert_eq!(total_steps(&map(&[("max_steps", "400"), ("lr", "1e-3")])), Some(400.0));
        assert_eq!(total_steps(&map(&[("SOLVER/MAX_ITER", "90000")])), Some(90000.0));
        assert_eq!(total_steps(&map(&[("train_cfg/max_iters", "2e4")])), Some(20000.0));
        assert_eq!(total_steps(&map(&[("trainer/max_steps", "-1")])), None, "Lightning's unset");
        assert_eq!(total_steps(&map(&[("num_train_epochs", "3"), ("steps_per_epoch", "500")])), Some(1500.0));
        assert_eq!(total_steps(&map(&[("num_train_epochs", "3")])), None, "epochs alone are not steps");
        assert_eq!(total_steps(&map(&[("max_steps_per_epoch", "9")])), None);
    }

    #[test]
    fn a_trainer_state_gives_its_own_totals() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ui/trainer_state.json");
        let found = read(&fixture);
        assert_eq!(found.values.get("max_steps").map(String::as_str), Some("400"));
        assert_eq!(total_steps(&found.values), Some(400.0));
        // Not another file's, and not a log_history entry's (indented deeper).
        let d = tempfile::tempdir().unwrap();
        let other = d.path().join("metrics.json");
        fs::write(&other, "{\"step\": 1, \"max_steps\": 9}\n").unwrap();
        assert!(trainer_state_totals(&other).is_empty());
        let nested = d.path().join("trainer_state.json");
        fs::write(&nested, "{\n  \"log_history\": [\n    {\n      \"max_steps\": 9\n    }\n  ]\n}\n")
            .unwrap();
        assert!(trainer_state_totals(&nested).is_empty());
    }

    #[test]
    fn a_fifo_is_not_waited_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.jsonl");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("path");
        // SAFETY: mkfifo(3) on a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(read(&path)).expect("send"));
        let got = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("read returns without a writer");
        assert!(got.values.is_empty());
    }

    #[test]
    fn differing_keys_only() {
        // Twelve runs sharing 40 keys and differing in lr and batch_size give two.
        let configs: Vec<BTreeMap<String, String>> = (0..12)
            .map(|i| {
                let mut c: BTreeMap<String, String> =
                    (0..40).map(|k| (format!("model/k{k}"), format!("v{k}"))).collect();
                c.insert("optimizer/lr".into(), ["1e-3", "3e-4", "1e-4"][i % 3].into());
                c.insert("batch_size".into(), ["32", "64"][i / 6].into());
                c.insert("output_dir".into(), format!("out/run{i}"));
                c
            })
            .collect();
        let refs: Vec<&BTreeMap<String, String>> = configs.iter().collect();
        assert_eq!(differing(&refs), ["batch_size", "optimizer/lr"]);
        // Numbers compare as numbers; a missing key differs; empty configs are left out.
        let (a, b, c, none) =
            (map(&[("lr", "0.001"), ("x", "1")]), map(&[("lr", "1e-3")]), map(&[("lr", "1e-3")]), map(&[]));
        assert_eq!(differing(&[&a, &b, &c, &none]), ["x"]);
        assert!(differing(&[&b, &c]).is_empty());
        assert!(differing(&[&a]).is_empty());
    }

    #[test]
    fn files_beside_the_log_and_above_it_nearest_first() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("run");
        fs::create_dir_all(run.join(".hydra")).unwrap();
        fs::create_dir_all(run.join("tb")).unwrap();
        fs::write(
            run.join(".hydra/config.yaml"),
            "optimizer:\n  name: adam\n  lr: 0.001\n  betas: [0.9, 0.999]\nbatch_size: 64\nmodel: {}\n",
        )
        .unwrap();
        fs::write(run.join("params.json"), "{\"batch_size\": 32, \"seed\": 7, \"eps\": NaN}").unwrap();
        fs::write(run.join("tb/hparams.yaml"), "dropout: 0.1\nname: !!python/tuple [a, b]\n").unwrap();
        fs::write(run.join("tb/log.jsonl"), "{\"step\": 1, \"loss\": 1}\n").unwrap();
        let got = read(&run.join("tb/log.jsonl"));
        assert!(got.problems.is_empty(), "{:?}", got.problems);
        assert_eq!(
            got.values,
            map(&[
                ("batch_size", "64"),
                ("dropout", "0.1"),
                ("eps", "NaN"),
                ("model", "{}"),
                ("name", "[\"a\", \"b\"]"),
                ("optimizer/betas", "[0.9, 0.999]"),
                ("optimizer/lr", "0.001"),
                ("optimizer/name", "adam"),
                ("seed", "7"),
            ])
        );
        assert_eq!(got.files.len(), 3);
    }

    #[test]
    fn a_first_record_without_a_step_holding_a_config() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("m.jsonl");
        fs::write(
            &log,
            "{\"config\": {\"lr\": 3e-4, \"model\": {\"depth\": 12}}}\n{\"step\": 1, \"loss\": 2}\n",
        )
        .unwrap();
        assert_eq!(first_record_config(&log), Some(map(&[("lr", "0.0003"), ("model/depth", "12")])));
        // With a step, the first record is a training record (Ray's carries its config each time).
        fs::write(&log, "{\"step\": 0, \"config\": {\"lr\": 1}}\n").unwrap();
        assert_eq!(first_record_config(&log), None);
        // mmcv's first record holds its config as one string of Python: not a config object.
        fs::write(&log, "{\"env_info\": \"x\", \"config\": \"lr = 0.1\"}\n").unwrap();
        assert_eq!(first_record_config(&log), None);
    }

    #[test]
    fn old_wandb_yaml_is_unwrapped_and_bad_files_are_named() {
        let top = tempfile::tempdir().unwrap();
        let d = top.path().join("run");
        fs::create_dir(&d).unwrap();
        fs::write(
            d.join("config.yaml"),
            "wandb_version: 1\n_wandb:\n  desc: null\n  value: {cli_version: 0.9}\nlr:\n  desc: null\n  value: 0.0007\n",
        )
        .unwrap();
        fs::write(d.join("args.json"), "[1, 2]").unwrap();
        fs::write(d.join("config.json"), "{\"a\": ").unwrap();
        let got = read(&d.join("log.jsonl"));
        assert_eq!(got.values, map(&[("lr", "0.0007")]));
        assert_eq!(got.problems.len(), 2, "{:?}", got.problems);
        assert!(got.problems.iter().any(|p| p.contains("args.json: not an object")), "{:?}", got.problems);
        assert!(got.problems.iter().any(|p| p.contains("config.json: not JSON")), "{:?}", got.problems);
    }
}
