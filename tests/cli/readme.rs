//! Every snippet in README.md is tested: the Python ones run against the machine's real Python and
//! must produce a log that `tmon check --json` reads with the metrics the README promises.
//!
//! A snippet is tested when an HTML comment stands right before its code block:
//! `<!-- readme-test: KIND expect=a,b nonfinite=c -->`. KIND tells tests/readme/drive.py how to
//! drive it (a loop, or a framework callback whose hooks a simulated trainer calls).

use crate::support::cli::{json, tmon, BIN};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

struct Snippet {
    line: usize,
    kind: String,
    expect: Vec<String>,
    nonfinite: Vec<String>,
    /// Every word after the kind.
    words: Vec<String>,
    code: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snippets() -> Vec<Snippet> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(spec) = l.trim().strip_prefix("<!-- readme-test:").and_then(|s| s.strip_suffix("-->"))
        else {
            continue;
        };
        let mut words = spec.split_whitespace();
        let kind = words.next().expect("a kind after readme-test:").to_owned();
        let words: Vec<String> = words.map(str::to_owned).collect();
        let (mut expect, mut nonfinite) = (Vec::new(), Vec::new());
        for w in &words {
            let list = |v: &str| v.split(',').map(str::to_owned).collect::<Vec<_>>();
            if let Some(v) = w.strip_prefix("expect=") {
                expect = list(v);
            } else if let Some(v) = w.strip_prefix("nonfinite=") {
                nonfinite = list(v);
            }
        }
        assert!(lines[i + 1].starts_with("```"), "README line {}: a code block must follow", i + 1);
        let body: Vec<&str> = lines[i + 2..].iter().take_while(|l| !l.starts_with("```")).copied().collect();
        out.push(Snippet { line: i + 1, kind, expect, nonfinite, words, code: body.join("\n") + "\n" });
    }
    out
}

fn python() -> Option<&'static str> {
    ["python3", "python"].into_iter().find(|p| Command::new(p).arg("--version").output().is_ok())
}

/// `tmon check --json --fail-on critical LOG`: the exit status and the document.
fn check_json(log: &Path) -> (Option<i32>, serde_json::Value) {
    let ran = tmon(["check", "--json", "--fail-on", "critical", log.to_str().unwrap()], LIMIT);
    (ran.code, json(&ran))
}

#[test]
fn readme_python_snippets_write_logs_tmon_reads() {
    let snippets = snippets();
    assert!(snippets.len() >= 5, "README.md should have its five Python snippets marked for testing");
    let Some(py) = python() else {
        panic!("python3 is required to test README's snippets (CI installs it)");
    };
    for s in &snippets {
        if s.kind == "sh" {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("snippet.py");
        std::fs::write(&file, &s.code).unwrap();
        let out = Command::new(py)
            .arg(repo().join("tests/readme/drive.py"))
            .arg(&s.kind)
            .arg(&file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README snippet at line {} ({}) failed:\n{}",
            s.line,
            s.kind,
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, report) = check_json(&dir.path().join("run/logs.jsonl"));
        let run = &report["runs"][0];
        // The snippet whose loss goes NaN fails a `--fail-on critical` check (a NaN loss is
        // critical); the others are healthy runs and pass it.
        let want = if s.nonfinite.iter().any(|m| m.contains("loss")) { 1 } else { 0 };
        assert_eq!(code, Some(want), "snippet at line {}: {run}", s.line);
        assert_eq!(run["skipped_lines"], 0, "snippet at line {}: no line may be skipped", s.line);
        if s.kind == "model" {
            // Sequential(Linear(4, 8), ReLU(), Linear(8, 8), ReLU(), Linear(8, 2)) in drive.py;
            // the two identical Linear+ReLU pairs are not consecutive copies, so nothing folds.
            assert_eq!(run["model"]["params"], 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2, "{run}");
            assert_eq!(run["model"]["children"].as_array().map(Vec::len), Some(5), "{run}");
            assert_eq!(run["model"]["children"][0]["shape"], "Linear(4→8)", "{run}");
            assert!(!run["metrics"].as_array().unwrap().iter().any(|m| m["name"] == "model/params"), "{run}");
        }
        let metrics = run["metrics"].as_array().expect("metrics");
        for name in &s.expect {
            let m = metrics.iter().find(|m| m["name"] == name.as_str());
            let m = m.unwrap_or_else(|| panic!("snippet at line {}: no metric '{name}' in {run}", s.line));
            assert!(m["points"].as_u64().unwrap() > 0, "snippet at line {}: '{name}' has no points", s.line);
        }
        // `hists=a,b`: the histograms the snippet must log, every one at each of its steps.
        let hists =
            s.words.iter().find_map(|w| w.strip_prefix("hists=")).map(|v| v.split(',').collect::<Vec<_>>());
        for name in hists.unwrap_or_default() {
            let all = run["histograms"].as_array().expect("histograms");
            let h = all.iter().find(|h| h["name"] == name);
            let h = h.unwrap_or_else(|| panic!("snippet at line {}: no histogram '{name}' in {run}", s.line));
            assert!(h["points"].as_u64().unwrap() >= 10, "snippet at line {}: {h}", s.line);
            assert_eq!(run["malformed_histograms"], 0, "snippet at line {}", s.line);
        }
        for name in &s.nonfinite {
            let m = metrics.iter().find(|m| m["name"] == name.as_str()).expect("metric");
            assert!(
                m["nonfinite"].as_u64().unwrap() > 0,
                "snippet at line {}: '{name}' should hold a NaN",
                s.line
            );
        }
    }
}

/// The log of a training-harness run that diverges to NaN, split where it is still healthy: the
/// first part is on disk before a command starts, the rest is appended while it follows.
fn diverging_log() -> (String, String) {
    let lines = tmon::harness::generate(tmon::harness::Scenario::Diverging, 1, 600);
    let (head, tail) = lines.split_at(250);
    (head.join("\n") + "\n", tail.join("\n") + "\n")
}

/// A directory with a training log at `run/logs.jsonl` (its healthy first part), and fake `curl`
/// and `notify-send` that record how they were called.
fn shell_sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    std::fs::write(dir.path().join("run/logs.jsonl"), diverging_log().0).unwrap();
    let bin = dir.path().join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["curl", "notify-send"] {
        // One write per call: hooks run concurrently and their records must not interleave.
        let body = if name == "curl" { "$(cat)" } else { "" };
        let script = format!("#!/bin/sh\nprintf '%s\\n%s\\n' \"{name} $*\" \"{body}\" >> \"$CALLS\"\n");
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

#[test]
fn readme_shell_commands_work() {
    let path = format!(
        "{}:{}:{}",
        "fakebin",
        Path::new(BIN).parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let blocks = readme_blocks("sh");
    assert!(blocks.len() >= 4, "README.md should have its shell commands marked for testing");
    let needs_jq = blocks.iter().any(|(_, _, code)| code.contains("jq "));
    if needs_jq && !crate::support::tool("jq", &["--version"]) {
        return;
    }
    for (line, spec, code) in blocks {
        let dir = shell_sandbox();
        let calls = dir.path().join("calls.txt");
        let mut child = Command::new("bash")
            .args(["-c", &format!("set -e\n{code}")])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("CALLS", &calls)
            .env("WEBHOOK_URL", "http://127.0.0.1:9/hook")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let expect_call = spec.iter().find_map(|w| w.strip_prefix("expect-call=")).map(str::to_owned);
        if spec.iter().any(|w| w == "follow") {
            // `--follow` runs until interrupted: wait for the hook, then stop it as a user would.
            let name = expect_call.clone().expect("a follow block names the command it expects");
            std::thread::sleep(std::time::Duration::from_millis(500));
            let mut log =
                std::fs::OpenOptions::new().append(true).open(dir.path().join("run/logs.jsonl")).unwrap();
            std::io::Write::write_all(&mut log, diverging_log().1.as_bytes()).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline
                && !std::fs::read_to_string(&calls).unwrap_or_default().contains(&name)
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
            let status = child.wait().unwrap();
            assert!(status.success(), "README line {line}: `tmon check --follow` should exit 0 on SIGTERM");
        } else {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "README line {line} failed:\n{code}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if spec.iter().all(|w| w != "follow") {
            let mut log =
                std::fs::OpenOptions::new().append(true).open(dir.path().join("run/logs.jsonl")).unwrap();
            std::io::Write::write_all(&mut log, diverging_log().1.as_bytes()).unwrap();
        }
        if let Some(name) = expect_call {
            let recorded = std::fs::read_to_string(&calls).unwrap_or_default();
            assert!(recorded.contains(&name), "README line {line}: {name} was not called");
            if name == "curl" {
                let body = recorded.lines().find(|l| l.starts_with('{')).expect("curl got a body on stdin");
                let json: serde_json::Value = serde_json::from_str(body).expect("the webhook body is JSON");
                let text = json["text"].as_str().expect("a text field");
                let kinds = tmon::analysis::FlagKind::ALL;
                assert!(
                    kinds.iter().any(|k| text.contains(k.as_str())),
                    "webhook text names no flag: {text}"
                );
                assert!(text.contains(", step "), "webhook text lacks the metric and step: {text}");
            }
        }
    }
}

/// The code blocks marked `<!-- readme-test: KIND ... -->` for one KIND: (line, words, code).
fn readme_blocks(kind: &str) -> Vec<(usize, Vec<String>, String)> {
    snippets()
        .into_iter()
        .filter(|s| s.kind == kind)
        .map(|s| (s.line, s.words.clone(), s.code.clone()))
        .collect()
}

#[test]
fn readme_keys_table_matches_the_key_bindings() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("<!-- keys:begin").expect("keys table in README");
    let end = readme.find("<!-- keys:end").expect("keys table end");
    let table = &readme[start..end];
    for b in tmon::app::keys::BINDINGS.iter().filter(|b| !b.help.is_empty()) {
        let keys = b.keys.split(", ").map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let row = format!("| {keys} | {} |", b.help);
        assert!(table.contains(&row), "README's keys table lacks the row: {row}");
    }
}

#[test]
fn readme_repo_log_gives_what_the_readme_says() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- check tests/fixtures/ui/train.jsonl"));
    let log = repo().join("tests/fixtures/ui/train.jsonl");
    let ran = tmon(["check", "--json", log.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(1), "a flag reaches the default --fail-on");
    let doc = json(&ran);
    let run = &doc["runs"][0];
    assert_eq!(run["skipped_lines"], 1, "the traceback line");
    let kinds: Vec<&str> =
        run["flags"].as_array().unwrap().iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(kinds.contains(&"nonfinite") && kinds.contains(&"spike"), "{kinds:?}");
}
