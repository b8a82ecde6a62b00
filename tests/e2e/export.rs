//! The `e` key in a real terminal: the monitor, started in a directory of its own, writes the
//! selected chart there as an SVG and a PNG and says their names in the footer.

use crate::support::term::*;

#[test]
fn the_export_key_writes_files_in_the_current_directory() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");
    let cmd = format!("cd '{}' && {}", cwd.path().display(), tmon_cmd(None, &[log]));
    let Some(tmux) = tmux("export", &around(&cmd)) else { return };
    tmux.wait_for("the metrics", |s| s.contains("metrics (") && s.contains("step 200"));
    // The second chart (lr), then export it.
    tmux.keys(&["j", "e"]);
    let screen =
        tmux.wait_for("the files written", |s| s.contains("wrote tmon-lr-200.svg and tmon-lr-200.png"));
    let footer = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(footer.contains("wrote tmon-lr-200.svg"), "the footer says it:\n{screen}");
    for name in ["tmon-lr-200.svg", "tmon-lr-200.png"] {
        let meta = std::fs::metadata(cwd.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(meta.len() > 1000, "{name} holds a chart");
    }
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "q");
}
