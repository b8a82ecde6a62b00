//! Build script: records the commit tmon is built from, for `tmon --version`.
//!
//! Sources, in order: `TMON_BUILD_COMMIT` in the environment (for packagers building from an
//! archive that knows its commit), `git` when this crate's directory is the top of a git checkout,
//! the `.cargo_vcs_info.json` that `cargo package` writes into a crate tarball, the `.tmon-commit`
//! that packaging/build-wheels.sh puts into the Python sdist, and otherwise "unknown". Only `git`
//! and the standard library are used, so the build gains no dependency.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How many hex digits of the commit are shown (git may show more where that many are ambiguous).
const SHORT: usize = 9;

fn main() {
    println!("cargo:rerun-if-env-changed=TMON_BUILD_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let commit = from_env()
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir))
        .or_else(|| from_sdist(&dir))
        .unwrap_or_else(|| {
            // Watching a path that does not exist would re-run this script on every build.
            println!("cargo:rerun-if-changed=build.rs");
            "unknown".to_string()
        });
    println!("cargo:rustc-env=TMON_BUILD_COMMIT={commit}");
}

fn from_env() -> Option<String> {
    let v = std::env::var("TMON_BUILD_COMMIT").ok()?;
    let v = v.trim();
    is_hex(v).then(|| v[..v.len().min(40)].to_string())
}

/// The checkout's HEAD, only when the checkout is this crate's own: a crate unpacked inside some
/// other repository (a vendor directory, `target/package/` during `cargo package`) must not
/// report that repository's commit.
fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let (top, dir) = (Path::new(&top).canonicalize().ok()?, dir.canonicalize().ok()?);
    if top != dir {
        return None;
    }
    // Re-run when HEAD moves: on a commit (the branch's ref file or packed-refs) or a checkout
    // (HEAD itself). `--git-path` resolves these inside worktrees too.
    for p in ["HEAD", "packed-refs"] {
        rerun_if_changed(dir.as_path(), p);
    }
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        rerun_if_changed(dir.as_path(), &branch);
    }
    let sha = git(&dir, &["rev-parse", &format!("--short={SHORT}"), "HEAD"])?;
    is_hex(&sha).then_some(sha)
}

fn rerun_if_changed(dir: &Path, git_path: &str) {
    if let Some(p) = git(dir, &["rev-parse", "--git-path", git_path]) {
        let p = dir.join(p);
        // A path that does not exist would make cargo re-run the script on every build.
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// `cargo package` writes `{"git": {"sha1": "<40 hex>", ...}, ...}`; read just that field rather
/// than pull a JSON parser into the build.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo:rerun-if-changed={}", path.display());
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let len = after[start..].find('"')?;
    let sha = &after[start..start + len];
    (sha.len() == 40 && is_hex(sha)).then(|| sha[..SHORT].to_string())
}

/// One line, the full hash, written by packaging/build-wheels.sh when it makes the sdist.
fn from_sdist(dir: &Path) -> Option<String> {
    let path = dir.join(".tmon-commit");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo:rerun-if-changed={}", path.display());
    let sha = text.trim();
    (sha.len() == 40 && is_hex(sha)).then(|| sha[..SHORT].to_string())
}

fn is_hex(s: &str) -> bool {
    (4..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}
