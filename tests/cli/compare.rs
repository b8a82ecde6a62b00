//! `tmon check` on many runs through the binary: a learning-rate sweep trained by the harness,
//! one folder per run, checked as a folder and as a quoted glob: every run listed with its name
//! and config, the cross-run flags on the right run only, the table, `--sort`, exit statuses.

use crate::support::cli::{json, tmon};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, SystemTime};
use tmon::harness::sweep::{lr_sweep, write};

const LIMIT: Duration = Duration::from_secs(60);

/// Makes every file under `dir` look written a day ago: a finished sweep, not one running now.
fn age(dir: &Path) {
    let then = SystemTime::now() - Duration::from_secs(86_400);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            age(&p);
        } else {
            std::fs::File::options().write(true).open(&p).unwrap().set_modified(then).unwrap();
        }
    }
}

fn sweep(dir: &Path, stop: Option<(usize, u64)>) {
    let mut runs = lr_sweep(&[0.01, 0.03, 0.1, 0.3, 2.0], 1, 600);
    if let Some((i, at)) = stop {
        runs[i].stop_after = Some(at);
    }
    write(dir, &runs).unwrap();
    age(dir);
}

fn names(doc: &Value) -> Vec<&str> {
    doc["runs"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect()
}

#[test]
fn a_sweep_lists_every_run_with_its_config_and_flags_the_diverging_one() {
    let d = tempfile::tempdir().unwrap();
    sweep(d.path(), None);
    let ran = tmon(["check", "--json", d.path().to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(1), "the diverging run's flags fail the check: {}", ran.stderr);
    let doc = json(&ran);
    assert_eq!(names(&doc), ["lr_0.01", "lr_0.03", "lr_0.1", "lr_0.3", "lr_2"]);
    for (r, lr) in doc["runs"].as_array().unwrap().iter().zip(["0.01", "0.03", "0.1", "0.3", "2"]) {
        assert_eq!(r["config"]["lr"], lr, "{}", r["name"]);
        assert_eq!(r["config"]["batch_size"], "64");
        assert_eq!(r["config"]["hidden"], "[16, 16]");
    }
    let flags = doc["compare"]["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert_eq!(flags[0]["run"], "lr_2");
    assert_eq!(flags[0]["kind"], "run_outlier");
    assert_eq!(flags[0]["severity"], "critical");
    assert_eq!(flags[0]["metric"], "loss");
    assert!(flags[0]["step"].is_u64(), "{}", flags[0]);

    // The same runs through a quoted glob, in text: one table, then each run's part.
    let pattern = d.path().join("*/logs.jsonl");
    let ran = tmon(["check", pattern.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let out = &ran.stdout;
    assert!(out.starts_with("runs (5):\n"), "{out}");
    let header = out.lines().nth(1).unwrap();
    for col in
        ["name", "status", "steps", "loss last", "loss best", "val_loss last", "val_acc best", "lr", "flags"]
    {
        assert!(header.contains(col), "no column {col}: {header}");
    }
    assert!(!header.contains("batch_size"), "batch_size is the same in every run: {header}");
    let row = out.lines().find(|l| l.starts_with("    lr_2 ")).expect("a row for lr_2");
    assert!(row.contains("ended") && row.contains("critical"), "{row}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("critical  run_outlier ") && l.contains(" loss ")),
        "{out}"
    );
    // lr_0.3 kills its ReLUs (its own dead_units flags); lr_2 diverges.
    assert!(out.ends_with("checked 5 files: 2 with a flag at warning or above\n"), "{out}");
    // Cross-run flags count for --fail-on like any other.
    let ran = tmon(["check", "--fail-on", "critical", pattern.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(1));
}

#[test]
fn sort_orders_by_the_best_value_and_an_unknown_metric_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    sweep(d.path(), None);
    let dir = d.path().to_str().unwrap();
    let ran = tmon(["check", "--json", "--sort", "val_acc", dir], LIMIT);
    let doc = json(&ran);
    let best = |r: &Value| {
        r["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "val_acc")
            .and_then(|m| m["max"].as_f64())
    };
    let order: Vec<Option<f64>> = doc["runs"].as_array().unwrap().iter().map(best).collect();
    let finite: Vec<f64> = order.iter().flatten().copied().filter(|x| x.is_finite()).collect();
    assert!(finite.windows(2).all(|w| w[0] >= w[1]), "highest accuracy first: {order:?}");
    let ran = tmon(["check", "--sort", "loss", dir], LIMIT);
    let rows: Vec<&str> = ran.stdout.lines().skip(2).take(5).collect();
    assert!(rows[4].starts_with("    lr_2 "), "the NaN run has no finite best and goes last: {rows:#?}");
    let ran = tmon(["check", "--sort", "no_such_metric", dir], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert!(
        ran.stderr.starts_with("tmon: --sort 'no_such_metric': no run logs this metric"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_run_that_stopped_early_is_told_with_its_last_step() {
    let d = tempfile::tempdir().unwrap();
    sweep(d.path(), Some((1, 150)));
    let ran = tmon(["check", "--json", d.path().to_str().unwrap()], LIMIT);
    let doc = json(&ran);
    let flags: Vec<(&str, &str, u64)> = doc["compare"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["run"].as_str().unwrap(), f["kind"].as_str().unwrap(), f["step"].as_u64().unwrap()))
        .collect();
    assert!(flags.contains(&("lr_0.03", "run_stopped", 150)), "{flags:?}");
    assert!(flags.iter().all(|f| f.0 == "lr_2" || f.1 == "run_stopped"), "{flags:?}");
    let ran = tmon(["check", d.path().to_str().unwrap()], LIMIT);
    let row = ran.stdout.lines().find(|l| l.starts_with("    lr_0.03 ")).expect("a row");
    assert!(row.contains("stopped") && row.contains("150"), "{row}");
}

#[test]
fn names_from_a_log_are_made_safe_and_a_glob_matching_nothing_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    for name in ["a\u{1b}[31m", "b"] {
        let run = d.path().join(name);
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("logs.jsonl"), "{\"step\": 1, \"loss\": 1}\n").unwrap();
        std::fs::write(run.join("args.json"), format!("{{\"tag\": \"{}\\u001b[2J\"}}", name.len())).unwrap();
    }
    let ran = tmon(["check", d.path().to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(!ran.stdout.contains('\u{1b}'), "raw ESC in:\n{}", ran.stdout);
    assert!(ran.stdout.contains("a\\x1b[31m"), "{}", ran.stdout);
    let ran = tmon(["check", "--json", d.path().to_str().unwrap()], LIMIT);
    assert!(!ran.stdout.contains('\u{1b}'));
    assert_eq!(json(&ran)["runs"][0]["config"]["tag"], "6\u{1b}[2J");

    let none = d.path().join("*/nothing.jsonl");
    let ran = tmon(["check", none.to_str().unwrap()], LIMIT);
    assert_eq!(ran.code, Some(2));
    assert_eq!(ran.stderr, format!("tmon: no file or directory matches '{}'\n", none.display()));
    // The monitor and `check --follow` expand globs too, and say so before they start.
    for args in [vec![none.to_str().unwrap()], vec!["check", "--follow", none.to_str().unwrap()]] {
        let ran = tmon(&args, LIMIT);
        assert_eq!(ran.code, Some(2), "{args:?}");
        assert_eq!(ran.stderr, format!("tmon: no file or directory matches '{}'\n", none.display()));
    }
}
