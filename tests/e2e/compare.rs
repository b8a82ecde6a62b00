//! Comparing runs end to end, through tmux: open a folder of runs, see a run that a sweep launches
//! meanwhile join the view, hide one, show one alone, quit.

use crate::support::term::*;

fn copy_run(from: &str, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/sweep/");
    std::fs::copy(format!("{src}{from}/logs.jsonl"), to.join("logs.jsonl")).expect("copy log");
}

/// The runs panel's title row.
fn runs_title(screen: &str) -> String {
    screen.lines().find(|l| l.contains("┌ runs (")).unwrap_or("").to_owned()
}

#[test]
fn a_folder_of_runs_a_run_joining_hide_solo_quit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = dir.path().join("sweep");
    copy_run("lr_0.001", &runs.join("lr_0.001"));
    copy_run("lr_0.01", &runs.join("lr_0.01"));
    let Some(tmux) = tmux("compare", &around(&tmon_cmd(None, &[runs.to_str().unwrap()]))) else { return };

    let screen = tmux.wait_for("two runs in the panel", |s| {
        runs_title(s).contains("runs (2)") && s.contains("lr_0.001") && s.contains("lr_0.01 ")
    });
    assert!(screen.lines().next().is_some_and(|l| l.contains("2 runs")), "{screen}");

    // The sweep launches its next trial: a new folder with a log in it.
    copy_run("lr_0.1", &runs.join("lr_0.1"));
    let screen = tmux.wait_for("the new run in the panel", |s| {
        runs_title(s).contains("runs (3)") && s.contains("lr_0.1 ")
    });
    // Its flags (the NaN it reached) are in its row.
    let row = screen.lines().find(|l| l.contains("lr_0.1 ")).unwrap_or("");
    assert!(row.contains('✖'), "the new run's critical flags in its row:\n{screen}");

    // Hide the selected run (the first by name), then show one alone.
    tmux.keys(&["h"]);
    tmux.wait_for("one run hidden", |s| runs_title(s).contains("1 hidden") && s.contains("○a"));
    tmux.keys(&["Tab", "v"]);
    tmux.wait_for("lr_0.01 alone", |s| runs_title(s).contains("lr_0.01 alone"));
    tmux.keys(&["H"]);
    tmux.wait_for("every run shown again", |s| {
        let t = runs_title(s);
        t.contains("runs (3)") && !t.contains("hidden") && !t.contains("alone")
    });

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}
