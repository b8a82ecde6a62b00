//! Runs the real `tmon` binary with a time limit, so a hang fails the test instead of hanging CI,
//! and reads what `tmon check --json` says.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tmon");

/// What a run of `tmon` did.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// `tmon ARGS...`, ready to run (stdin closed).
pub fn command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Runs `tmon ARGS...`, killing it and failing the test if it runs longer than `limit`.
pub fn tmon<I, S>(args: I, limit: Duration) -> Ran
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(command(args), limit)
}

/// Runs `cmd`, killing it and failing the test if it runs longer than `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Ran {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn tmon");
    // Pipes are drained on their own threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait tmon") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    Ran { code: status.code(), stdout, stderr, elapsed }
}

/// Parses `--json` output, requiring exactly one JSON document.
pub fn json(ran: &Ran) -> serde_json::Value {
    serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", ran.stdout))
}

/// The run for `path_suffix` in a `--json` document.
pub fn run_of<'a>(doc: &'a serde_json::Value, path_suffix: &str) -> &'a serde_json::Value {
    doc["runs"]
        .as_array()
        .expect("runs is an array")
        .iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(path_suffix)))
        .unwrap_or_else(|| panic!("no run for {path_suffix} in {doc}"))
}

/// The metric called `name` in a run, if present.
pub fn metric<'a>(run: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    run["metrics"].as_array()?.iter().find(|m| m["name"] == name)
}

/// Starts `tmon ARGS...` (a follower: it runs until killed) with its stdout read on a thread: each
/// line arrives on the receiver with the moment it was read. Stderr is dropped.
pub fn spawn_lines<I, S>(args: I) -> (std::process::Child, std::sync::mpsc::Receiver<(Instant, String)>)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    use std::io::BufRead;
    let mut child = command(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn tmon");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    (child, rx)
}
