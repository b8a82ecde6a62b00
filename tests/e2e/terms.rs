//! tmon in the terminals people run it in: tmux with `TERM` set to `xterm-256color`, `screen` and
//! `linux` (the Linux console, whose font has no braille: charts fall back to ASCII), and GNU
//! screen. Each opens a log, shows its metrics, quits on `q` and gives the shell its screen back.
//! Skips with a notice when tmux (or screen) is not installed; fails then under
//! `TMON_REQUIRE_TOOLS=1`, as in CI.

use crate::support::term::*;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");

fn has_braille(s: &str) -> bool {
    s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
}

#[test]
fn tmux_with_each_term() {
    for term in ["xterm-256color", "screen", "linux"] {
        let script = around(&tmon_cmd(Some(term), &[FIXTURE]));
        let Some(tmux) = tmux(&format!("term-{term}"), &script) else { return };
        let screen = tmux.wait_for("the metrics", |s| s.contains("metrics (") && s.contains("step 200"));
        // Braille dots where the font has them; ASCII on the Linux console.
        assert_eq!(has_braille(&screen), term != "linux", "TERM={term}:\n{screen}");
        tmux.keys(&["j", "Enter", "q"]);
        let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
        assert_restored(&screen, &format!("TERM={term}"));
    }
}

#[test]
fn gnu_screen() {
    let Some(s) = screen(&around(&tmon_cmd(Some("screen"), &[FIXTURE]))) else { return };
    s.wait_for("the metrics", |t| t.contains("metrics (") && t.contains("step 200"));
    s.x(&["stuff", "j"]);
    s.x(&["stuff", "q"]);
    let screen = s.wait_for("tmon to exit", |t| t.contains("TMON-EXITED"));
    assert_restored(&screen, "GNU screen");
}
