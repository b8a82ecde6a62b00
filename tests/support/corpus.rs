//! The real corpus: `../shared/corpus/real` beside the checkout (its SOURCES.md says what each
//! file is), or wherever `TMON_CORPUS` points. The one place that finds it.
//!
//! When it is missing, [`dir`], [`file`] and [`logs`] return `None` after [`super::skip`]: a
//! notice, or a failure under `TMON_REQUIRE_CORPUS=1` (set by `.ci/run`). Pointing `TMON_CORPUS`
//! at a missing directory is how to check that rule.

use std::path::{Path, PathBuf};

/// Where the corpus should be.
pub fn root() -> PathBuf {
    match std::env::var_os("TMON_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real"),
    }
}

/// The corpus directory, if it is there.
pub fn dir() -> Option<PathBuf> {
    let root = root();
    if root.join("SOURCES.md").is_file() {
        return Some(root);
    }
    super::skip(super::REQUIRE_CORPUS, &format!("no corpus at {}", root.display()));
    None
}

/// A file of the corpus, by its path under the corpus directory. A corpus that is there but lacks
/// the file is incomplete: that fails.
pub fn file(rel: &str) -> Option<PathBuf> {
    let path = dir()?.join(rel);
    assert!(path.is_file(), "the corpus has no {rel} (looked at {})", path.display());
    Some(path)
}

/// Every log of the corpus (each file under its framework directories), sorted.
pub fn logs() -> Option<Vec<PathBuf>> {
    let root = dir()?;
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.parent() != Some(root.as_path()) {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 20, "the corpus at {} looks incomplete: {out:?}", root.display());
    Some(out)
}

/// `path` as the corpus names it (relative to its directory).
pub fn name(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}
