//! What the test binaries share. Each binary (a directory under tests/ with a `main.rs`) includes
//! it with `#[path = "../support/mod.rs"] mod support;`.
//!
//! A test that cannot run here (no corpus beside the checkout, no tmux) says so on stderr and
//! passes, so a fresh clone passes on the in-repo fixtures; `.ci/run` sets `TMON_REQUIRE_CORPUS=1`
//! and `TMON_REQUIRE_TOOLS=1`, which turn those skips into failures: CI cannot pass without
//! having run them.
#![allow(dead_code)]

pub mod cli;
pub mod corpus;
pub mod flatten;
pub mod rng;
pub mod tail;
pub mod term;
pub mod ui;

use std::io::Write;

/// Set by `.ci/run`: a test that needs the corpus fails when it is missing.
pub const REQUIRE_CORPUS: &str = "TMON_REQUIRE_CORPUS";
/// Set by `.ci/run`: a test that needs tmux, GNU screen or jq fails when it is missing.
pub const REQUIRE_TOOLS: &str = "TMON_REQUIRE_TOOLS";

/// Whether the environment variable `var` asks for something (set, and neither empty nor `0`).
pub fn env_flag(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current().name().unwrap_or("a test").to_owned()
}

/// Something the running test needs is missing: fails when `require` is set, else says so and
/// lets the caller return. The notice goes to the real stderr, past libtest's capture, so a run
/// that skipped something shows it.
pub fn skip(require: &str, missing: &str) {
    let test = test_name();
    if env_flag(require) {
        panic!("{test}: {missing}, and {require} is set: this test must run here");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {missing} (with {require}=1 this fails)");
}

/// Whether `program` runs (`program args...` exits 0); when it does not, [`skip`]s under
/// [`REQUIRE_TOOLS`].
pub fn tool(program: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(program).args(args).output().is_ok_and(|o| o.status.success());
    if !ok {
        skip(REQUIRE_TOOLS, &format!("{program} is not installed (.ci/run installs it)"));
    }
    ok
}

/// A path under the repository's tests/fixtures.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Makes a FIFO at `path` (no external `mkfifo` needed, so no test skips for want of one).
pub fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path without NUL");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}: {}", path.display(), std::io::Error::last_os_error());
}
