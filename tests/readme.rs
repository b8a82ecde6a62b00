//! Every snippet in README.md is tested: the Python ones run against the machine's real Python and
//! must produce a log that `tmon check --json` reads with the metrics the README promises.
//!
//! A snippet is tested when an HTML comment stands right before its code block:
//! `<!-- readme-test: KIND expect=a,b nonfinite=c -->`. KIND tells tests/readme/drive.py how to
//! drive it (a loop, or a framework callback whose hooks a simulated trainer calls).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Snippet {
    line: usize,
    kind: String,
    expect: Vec<String>,
    nonfinite: Vec<String>,
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
        let (mut expect, mut nonfinite) = (Vec::new(), Vec::new());
        for w in words {
            let list = |v: &str| v.split(',').map(str::to_owned).collect::<Vec<_>>();
            if let Some(v) = w.strip_prefix("expect=") {
                expect = list(v);
            } else if let Some(v) = w.strip_prefix("nonfinite=") {
                nonfinite = list(v);
            }
        }
        assert!(lines[i + 1].starts_with("```"), "README line {}: a code block must follow", i + 1);
        let body: Vec<&str> = lines[i + 2..].iter().take_while(|l| !l.starts_with("```")).copied().collect();
        out.push(Snippet { line: i + 1, kind, expect, nonfinite, code: body.join("\n") + "\n" });
    }
    out
}

fn python() -> Option<&'static str> {
    ["python3", "python"].into_iter().find(|p| Command::new(p).arg("--version").output().is_ok())
}

fn check_json(log: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tmon"))
        .args(["check", "--json", "--fail-on", "critical"])
        .arg(log)
        .output()
        .expect("run tmon");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "tmon check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tmon check --json prints JSON")
}

#[test]
fn readme_python_snippets_write_logs_tmon_reads() {
    let snippets = snippets();
    assert!(snippets.len() >= 4, "README.md should have its four Python snippets marked for testing");
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
        let report = check_json(&dir.path().join("run/logs.jsonl"));
        let run = &report["runs"][0];
        assert_eq!(run["skipped_lines"], 0, "snippet at line {}: no line may be skipped", s.line);
        let metrics = run["metrics"].as_array().expect("metrics");
        for name in &s.expect {
            let m = metrics.iter().find(|m| m["name"] == name.as_str());
            let m = m.unwrap_or_else(|| panic!("snippet at line {}: no metric '{name}' in {run}", s.line));
            assert!(m["points"].as_u64().unwrap() > 0, "snippet at line {}: '{name}' has no points", s.line);
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
