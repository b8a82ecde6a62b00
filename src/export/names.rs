//! Names of runs in an exported chart's legend and CSV, from their paths.

use std::path::{Component, PathBuf};

// stand-in until cmpcore merges
/// The shortest part of each path that tells it apart from the others: the components left when
/// those all paths share at the start and at the end are cut off (`sweep/lr_1e-3/logs.jsonl` and
/// `sweep/lr_1e-4/logs.jsonl` are `lr_1e-3` and `lr_1e-4`), the extension dropped when what is left
/// is a file name (`a.jsonl` and `b.jsonl` are `a` and `b`). One path is its file name.
pub(super) fn short_names(paths: &[PathBuf]) -> Vec<String> {
    let parts: Vec<Vec<String>> = paths
        .iter()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    if parts.len() < 2 {
        return parts.iter().map(|p| p.last().cloned().unwrap_or_default()).collect();
    }
    let shortest = parts.iter().map(Vec::len).min().unwrap_or(0);
    let same_at = |i: &dyn Fn(&Vec<String>) -> Option<&String>| parts.iter().all(|p| i(p) == i(&parts[0]));
    let mut tail = 0;
    while tail + 1 < shortest && same_at(&|p| p.get(p.len() - 1 - tail)) {
        tail += 1;
    }
    let mut head = 0;
    while head + tail + 1 < shortest && same_at(&|p| p.get(head)) {
        head += 1;
    }
    parts
        .iter()
        .map(|p| {
            let mut kept: Vec<String> = p[head.min(p.len())..p.len() - tail.min(p.len())].to_vec();
            if tail == 0 {
                if let Some(last) = kept.last_mut() {
                    if let Some((stem, _)) = last.rsplit_once('.').filter(|(s, _)| !s.is_empty()) {
                        *last = stem.to_owned();
                    }
                }
            }
            let name = kept.join("/");
            if name.is_empty() {
                p.last().cloned().unwrap_or_default()
            } else {
                name
            }
        })
        .collect()
}

/// Names for runs read from `paths` (a path can hold several runs, e.g. an `mlflow.db`), with
/// `own` the name the run's format records, if any: the paths' short names, told apart by the
/// recorded names, then by a number, where they are the same.
pub fn run_names(paths: &[PathBuf], own: &[Option<String>]) -> Vec<String> {
    let mut names = short_names(paths);
    for i in 0..names.len() {
        let clash = (0..names.len()).any(|j| j != i && names[j] == names[i]);
        if clash {
            if let Some(o) = own.get(i).and_then(Option::as_ref) {
                names[i] = format!("{}/{o}", names[i]);
            }
        }
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let counts = names.iter().fold(std::collections::HashMap::<String, usize>::new(), |mut m, n| {
        *m.entry(n.clone()).or_default() += 1;
        m
    });
    for n in names.iter_mut() {
        if counts[n] > 1 {
            let k = seen.entry(n.clone()).or_default();
            *k += 1;
            *n = format!("{n}#{k}");
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[&str]) -> Vec<String> {
        short_names(&paths.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    #[test]
    fn short_names_keep_what_tells_runs_apart() {
        assert_eq!(
            names(&["/home/u/sweep/lr_1e-3/logs.jsonl", "/home/u/sweep/lr_1e-4/logs.jsonl"]),
            ["lr_1e-3", "lr_1e-4"]
        );
        assert_eq!(names(&["runs/a.jsonl", "runs/b.jsonl"]), ["a", "b"]);
        assert_eq!(names(&["x/run1/logs.jsonl", "y/run1/logs.jsonl"]), ["x", "y"]);
        assert_eq!(names(&["run/logs.jsonl"]), ["logs.jsonl"]);
        assert_eq!(names(&["a/logs.jsonl", "a/b/logs.jsonl"]), ["a", "a/b"]);
    }

    #[test]
    fn run_names_are_unique() {
        let paths = [PathBuf::from("mlflow.db"), PathBuf::from("mlflow.db"), PathBuf::from("mlflow.db")];
        let got = run_names(&paths, &[Some("base".into()), Some("lr".into()), None]);
        assert_eq!(got, ["mlflow/base", "mlflow/lr", "mlflow"]);
        let got = run_names(&paths[..2], &[None, None]);
        assert_eq!(got, ["mlflow#1", "mlflow#2"]);
    }
}
