//! Run names: the shortest part of a run's path that tells it apart from the other runs shown
//! with it (`lr_1e-3`, not `/home/u/exp/sweep/lr_1e-3/logs.jsonl`).
//!
//! The rule, applied to the paths' components (no file system access, so the same paths always
//! get the same names):
//! - Hugging Face's `checkpoint-N/` folder above a `trainer_state.json` is left out: the run is
//!   named by its output folder, and keeps its name when a newer checkpoint takes over.
//! - The directories all paths start with and the components they all end with (the file name
//!   when it is the same everywhere, `vis_data/scalars.json`) are dropped.
//! - Of what is left, the fewest components that still tell every run apart are kept, the
//!   outermost first (`cfg_a`, not its timestamp folder under it); when all runs have the same
//!   depth the same positions are used for every run, so a grid sweep reads `lr_1e-3/seed_1`
//!   on every row. The file name is kept only when it is what differs (`a` and `b` for `a.jsonl`
//!   and `b.jsonl`, the log extension dropped).
//! - Hydra's `<date>/<time>` folders stay together (`2024-01-05/12-30-00`) unless every run has
//!   the same date, which is then dropped with the rest of the common prefix.
//! - One run alone is named by its file, or by its folder when the file has a framework's fixed
//!   name (`metrics.json`, `trainer_state.json`, ...).
//! - Runs that still share a name get `#2`, `#3`, ... in order.
//!
//! [`run_names`] prefers the name a run's format records (W&B, MLflow) when it is unique: a
//! W&B run folder or an MLflow run id says less than the name the user gave the run.

use super::Run;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// Most components of a path's distinguishing middle tried in combinations; beyond it the whole
/// middle is the name (2^12 subsets at most).
const SUBSET_MAX: usize = 12;

/// File names frameworks give their logs: a run is named by its folder, not by these.
const FIXED_NAMES: &[&str] = &[
    "metrics.json",
    "scalars.json",
    "progress.json",
    "result.json",
    "trainer_state.json",
    "metrics.csv",
    "results.csv",
    "progress.csv",
    "mlflow.db",
    "meta.yaml",
    "log.txt",
    "log",
    "logs.jsonl",
    "log.jsonl",
    "metrics.jsonl",
    "train.jsonl",
    "trainer_log.jsonl",
    "history.jsonl",
    "wandb-history.jsonl",
];

/// Folders that say nothing about the run they hold (a single run is named past them).
const PLAIN_DIRS: &[&str] = &["vis_data", "files", "logs", "log", "tb", "tensorboard", "events"];

/// The short name of each path (same order, same length). Deterministic; see the module docs.
pub fn short_names(paths: &[PathBuf]) -> Vec<String> {
    let comps: Vec<Vec<String>> = paths.iter().map(|p| components(p)).collect();
    if comps.is_empty() {
        return Vec::new();
    }
    let mut names = if comps.len() == 1 { vec![alone(&comps[0])] } else { apart(&comps) };
    number_repeats(&mut names);
    names
}

/// The names of `runs`: the name a run's format records (a W&B display name, an MLflow run
/// name) when it has one that no other run has, else its [`short_names`] name (runs that share a
/// file, the runs of one `mlflow.db`, told apart by their recorded name or their position).
pub fn run_names(runs: &[&Run]) -> Vec<String> {
    let items: Vec<(&Path, Option<&str>)> =
        runs.iter().map(|r| (r.path.as_path(), r.info.name.as_deref())).collect();
    names_for(&items)
}

/// [`run_names`] from each run's path and recorded name (for callers that keep only those, such
/// as `tmon check` after dropping each run's store).
pub fn names_for(items: &[(&Path, Option<&str>)]) -> Vec<String> {
    let mut shared: HashMap<&Path, usize> = HashMap::new();
    let mut recorded: HashMap<&str, usize> = HashMap::new();
    for (p, n) in items {
        *shared.entry(*p).or_default() += 1;
        if let Some(n) = n.filter(|n| !n.trim().is_empty()) {
            *recorded.entry(n).or_default() += 1;
        }
    }
    let paths: Vec<PathBuf> = items
        .iter()
        .enumerate()
        .map(|(i, (p, n))| {
            if shared[p] > 1 {
                let own = n.map_or_else(|| format!("run{}", i + 1), str::to_owned);
                // A name with a slash would read as more folders.
                p.join(own.replace('/', "_"))
            } else {
                p.to_path_buf()
            }
        })
        .collect();
    let mut names = short_names(&paths);
    for (name, (_, n)) in names.iter_mut().zip(items) {
        if let Some(n) = n.filter(|n| !n.trim().is_empty() && recorded[n] == 1) {
            *name = n.to_owned();
        }
    }
    number_repeats(&mut names);
    names
}

/// The path's named components, with a Hugging Face `checkpoint-N` folder left out.
fn components(path: &Path) -> Vec<String> {
    let mut out: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect();
    let n = out.len();
    if n >= 2 && out[n - 1] == "trainer_state.json" && is_checkpoint(&out[n - 2]) {
        out.remove(n - 2);
    }
    out
}

fn is_checkpoint(s: &str) -> bool {
    s.strip_prefix("checkpoint-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[2] == b'-'
        && b[5] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
}

/// The name of a run shown alone: its file, or its folder when the file name is a fixed one.
fn alone(c: &[String]) -> String {
    let Some((file, dirs)) = c.split_last() else { return String::from("run") };
    if !FIXED_NAMES.contains(&file.as_str()) {
        return strip_log_extension(file).to_owned();
    }
    let dir = dirs.iter().rev().find(|d| !PLAIN_DIRS.contains(&d.as_str()) && d.as_str() != "..");
    match dir {
        Some(d) if is_time(d) => {
            let i = dirs.iter().rposition(|x| x == d).unwrap_or(0);
            match i.checked_sub(1).map(|j| &dirs[j]) {
                Some(date) if is_date(date) => format!("{date}/{d}"),
                _ => d.clone(),
            }
        }
        Some(d) => d.clone(),
        None => file.clone(),
    }
}

/// Names that tell several runs apart.
fn apart(comps: &[Vec<String>]) -> Vec<String> {
    let min_len = comps.iter().map(Vec::len).min().unwrap_or(0);
    // The common prefix holds directories only: at least the last component stays.
    let mut prefix = 0;
    while prefix + 1 < min_len && comps.iter().all(|c| c[prefix] == comps[0][prefix]) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < min_len - prefix
        && comps.iter().all(|c| c[c.len() - 1 - suffix] == comps[0][comps[0].len() - 1 - suffix])
    {
        suffix += 1;
    }
    // A Hydra time folder common to all stays with its date when the dates differ.
    while suffix > 0
        && comps.iter().all(|c| {
            let t = c.len() - suffix;
            t > prefix && is_time(&c[t]) && is_date(&c[t - 1])
        })
    {
        suffix -= 1;
    }
    // Hydra: a common date folder is dropped; a date that differs stays with its time.
    let middles: Vec<Vec<String>> = comps.iter().map(|c| join_hydra(&c[prefix..c.len() - suffix])).collect();
    // Whether position k of the middle `m` is the path's file name.
    let last_is_file = |m: &Vec<String>, k: usize| suffix == 0 && k + 1 == m.len();
    let same_len = middles.iter().all(|m| m.len() == middles[0].len() && !m.is_empty());
    let picked: Vec<Vec<(usize, String)>> = if same_len {
        let positions = fewest_positions(&middles);
        middles.iter().map(|m| positions.iter().map(|&k| (k, m[k].clone())).collect()).collect()
    } else {
        middles
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if m.is_empty() {
                    // `runs/logs.jsonl` beside `runs/a/logs.jsonl`: named by its folder.
                    let c = &comps[i];
                    let folder = prefix.checked_sub(1).map(|j| c[j].clone());
                    vec![(usize::MAX, folder.unwrap_or_else(|| c.last().cloned().unwrap_or_default()))]
                } else {
                    shortest_window(i, &middles).into_iter().map(|k| (k, m[k].clone())).collect()
                }
            })
            .collect()
    };
    let names: Vec<String> = picked
        .iter()
        .zip(&middles)
        .map(|(parts, m)| {
            parts
                .iter()
                .map(
                    |(k, s)| if *k != usize::MAX && last_is_file(m, *k) { strip_log_extension(s) } else { s },
                )
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    // Dropping the extension must not make two names one (`a.json` and `a.jsonl`).
    let unique: HashSet<&String> = names.iter().collect();
    if unique.len() == names.len() {
        return names;
    }
    picked.iter().map(|parts| parts.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("/")).collect()
}

/// A middle with each Hydra `<date>`, `<time>` pair made one component.
fn join_hydra(m: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(m.len());
    let mut i = 0;
    while i < m.len() {
        if i + 1 < m.len() && is_date(&m[i]) && is_time(&m[i + 1]) {
            out.push(format!("{}/{}", m[i], m[i + 1]));
            i += 2;
        } else {
            out.push(m[i].clone());
            i += 1;
        }
    }
    out
}

/// Middles of one length: the fewest positions whose components tell every run apart, the
/// outermost first; all of them when none do (identical paths).
fn fewest_positions(middles: &[Vec<String>]) -> Vec<usize> {
    let len = middles[0].len();
    let all: Vec<usize> = (0..len).collect();
    // Positions where the runs differ: the others cannot help.
    let varying: Vec<usize> = (0..len).filter(|&k| middles.iter().any(|m| m[k] != middles[0][k])).collect();
    if varying.is_empty() || varying.len() > SUBSET_MAX {
        return if varying.is_empty() { all } else { varying };
    }
    let tells_apart = |set: &[usize]| {
        let mut seen = HashSet::new();
        middles.iter().all(|m| seen.insert(set.iter().map(|&k| m[k].as_str()).collect::<Vec<_>>()))
    };
    for size in 1..=varying.len() {
        let mut pick: Vec<usize> = (0..size).collect();
        loop {
            let set: Vec<usize> = pick.iter().map(|&i| varying[i]).collect();
            if tells_apart(&set) {
                return set;
            }
            // The next combination in lexicographic order.
            let Some(i) = (0..size).rev().find(|&i| pick[i] < varying.len() - size + i) else { break };
            pick[i] += 1;
            for j in i + 1..size {
                pick[j] = pick[j - 1] + 1;
            }
        }
    }
    varying
}

/// Middles of different lengths: the shortest run of consecutive components of middle `i` that
/// no other middle holds, the outermost first; the whole middle when every window is shared.
fn shortest_window(i: usize, middles: &[Vec<String>]) -> Vec<usize> {
    let m = &middles[i];
    let held_elsewhere =
        |w: &[String]| middles.iter().enumerate().any(|(j, o)| j != i && o.windows(w.len()).any(|x| x == w));
    for size in 1..=m.len() {
        for start in 0..=m.len() - size {
            if !held_elsewhere(&m[start..start + size]) {
                return (start..start + size).collect();
            }
        }
    }
    (0..m.len()).collect()
}

/// `a.jsonl` -> `a`: a log's extension says nothing about the run.
fn strip_log_extension(name: &str) -> &str {
    for ext in [".log.json", ".jsonl", ".ndjson", ".json", ".csv"] {
        if let Some(stem) = name.strip_suffix(ext) {
            if !stem.is_empty() {
                return stem;
            }
        }
    }
    name
}

/// Names given twice get `#2`, `#3`, ... in order.
fn number_repeats(names: &mut [String]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let taken: HashSet<String> = names.iter().cloned().collect();
    for n in names.iter_mut() {
        let k = seen.entry(n.clone()).or_default();
        *k += 1;
        if *k > 1 {
            let mut c = *k;
            while taken.contains(&format!("{n} #{c}")) {
                c += 1;
            }
            *n = format!("{n} #{c}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[&str]) -> Vec<String> {
        short_names(&paths.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    #[test]
    fn common_folders_and_file_names_are_dropped() {
        assert_eq!(
            names(&[
                "/home/u/exp/sweep/lr_1e-3/logs.jsonl",
                "/home/u/exp/sweep/lr_1e-2/logs.jsonl",
                "/home/u/exp/sweep/lr_1e-1/logs.jsonl"
            ]),
            ["lr_1e-3", "lr_1e-2", "lr_1e-1"]
        );
        // A common folder under the runs goes too.
        assert_eq!(
            names(&[
                "w/cfg_a/20240101_120000/vis_data/scalars.json",
                "w/cfg_b/20240102_130000/vis_data/scalars.json"
            ]),
            ["cfg_a", "cfg_b"]
        );
    }

    #[test]
    fn a_grid_sweep_is_named_by_the_same_positions_on_every_row() {
        assert_eq!(
            names(&["s/lr_1e-3/seed_1/m.jsonl", "s/lr_1e-3/seed_2/m.jsonl", "s/lr_1e-2/seed_1/m.jsonl"]),
            ["lr_1e-3/seed_1", "lr_1e-3/seed_2", "lr_1e-2/seed_1"]
        );
        // A constant folder between the differing ones is skipped.
        assert_eq!(names(&["a/x/1/l.jsonl", "b/x/1/l.jsonl"]), ["a", "b"]);
    }

    #[test]
    fn the_file_name_is_kept_only_when_it_is_what_differs() {
        assert_eq!(names(&["runs/a.jsonl", "runs/b.jsonl"]), ["a", "b"]);
        assert_eq!(names(&["x/a.json", "x/a.jsonl"]), ["a.json", "a.jsonl"]);
        assert_eq!(
            names(&["r/a/logs.jsonl", "r/a/logs2.jsonl", "r/b/logs.jsonl"]),
            ["a/logs", "a/logs2", "b/logs"]
        );
        assert_eq!(names(&["r/a/train.jsonl", "r/b/eval.jsonl"]), ["a", "b"]);
    }

    #[test]
    fn hydra_dates_stay_with_their_times_unless_common() {
        assert_eq!(
            names(&["outputs/2024-01-05/12-30-00/m.jsonl", "outputs/2024-01-05/14-02-11/m.jsonl"]),
            ["12-30-00", "14-02-11"]
        );
        assert_eq!(
            names(&["outputs/2024-01-05/12-30-00/m.jsonl", "outputs/2024-01-06/12-30-00/m.jsonl"]),
            ["2024-01-05/12-30-00", "2024-01-06/12-30-00"]
        );
        assert_eq!(names(&["outputs/2024-01-05/12-30-00/metrics.jsonl"]), ["2024-01-05/12-30-00"]);
        // Multirun jobs are numbered under one date and time.
        assert_eq!(
            names(&["multirun/2024-01-05/12-30-00/0/m.jsonl", "multirun/2024-01-05/12-30-00/1/m.jsonl"]),
            ["0", "1"]
        );
    }

    #[test]
    fn hugging_face_runs_are_named_by_their_output_folder() {
        assert_eq!(
            names(&[
                "out/lr3/checkpoint-1500/trainer_state.json",
                "out/lr4/checkpoint-500/trainer_state.json"
            ]),
            ["lr3", "lr4"]
        );
        assert_eq!(names(&["/x/bert-ft/checkpoint-1500/trainer_state.json"]), ["bert-ft"]);
        // Its name does not change when a newer checkpoint takes over.
        assert_eq!(
            names(&["out/a/checkpoint-9/trainer_state.json", "out/b/checkpoint-1/trainer_state.json"]),
            names(&["out/a/checkpoint-10/trainer_state.json", "out/b/checkpoint-1/trainer_state.json"])
        );
    }

    #[test]
    fn runs_alone_and_ragged_trees() {
        assert_eq!(names(&["/tmp/train_lr3.jsonl"]), ["train_lr3"]);
        assert_eq!(names(&["runs/exp1/vis_data/scalars.json"]), ["exp1"]);
        assert_eq!(names(&["runs/tb_run"]), ["tb_run"]);
        assert_eq!(names(&["runs/logs.jsonl", "runs/a/logs.jsonl"]), ["runs", "a"]);
        assert_eq!(names(&["e/a/x/l.jsonl", "e/b/l.jsonl", "e/a/y/l.jsonl"]), ["x", "b", "y"]);
    }

    #[test]
    fn identical_paths_are_numbered_and_names_are_deterministic() {
        assert_eq!(names(&["a/m.jsonl", "a/m.jsonl"]), ["a", "a #2"]);
        let p = ["q/r1/s/l.jsonl", "q/r2/s/l.jsonl", "q/r3/t/l.jsonl"];
        assert_eq!(names(&p), names(&p));
        assert_eq!(names(&p), ["r1", "r2", "r3"]);
        assert!(names(&[]).is_empty());
    }
}
