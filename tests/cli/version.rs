//! `tmon --version` through the binary: the crate's version and the commit the binary was built
//! from, which `build.rs` takes from git in a checkout.

use std::path::Path;
use std::process::Command;

fn tmon(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tmon")).args(args).output().expect("run tmon");
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("utf-8");
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn git(args: &[&str]) -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit `build.rs` should have recorded: HEAD when this crate's directory is the top of a
/// git checkout (always, for the repository's own test runs).
fn expected_commit() -> Option<String> {
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().ok()?;
    if Path::new(&top).canonicalize().ok()? != here {
        return None;
    }
    git(&["rev-parse", "--short=9", "HEAD"])
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let (code, out, err) = tmon(&["--version"]);
    assert_eq!(code, 0, "stderr: {err}");
    let line = out.strip_suffix('\n').expect("one line ending in a newline");
    let rest = line
        .strip_prefix(&format!("tmon {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("unexpected --version: {line:?}"));
    let commit = rest.strip_suffix(')').unwrap_or_else(|| panic!("unexpected --version: {line:?}"));
    match expected_commit() {
        Some(head) => assert_eq!(commit, head, "--version names a commit other than HEAD"),
        // Built outside a checkout (an unpacked crate): a recorded commit or the word "unknown".
        None => assert!(
            commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
            "unexpected commit in {line:?}"
        ),
    }
}

#[test]
fn short_flag_prints_the_same_line() {
    let (long, short) = (tmon(&["--version"]), tmon(&["-V"]));
    assert_eq!(short.0, 0);
    assert_eq!(short.1, long.1);
}
