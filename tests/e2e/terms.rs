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

/// The colour codes in a tmux capture (`capture-pane -e` writes each cell's colour as tmux holds
/// it: `38;2;R;G;B` for RGB, `38;5;N` for a palette index, the basic colours as indices below 16).
fn colour_codes(tmux: &Tmux) -> (usize, Vec<u32>) {
    let out = tmux.cmd(&["capture-pane", "-e", "-p", "-t", "e2e"]);
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    let rgb = s.matches("38;2;").count() + s.matches("48;2;").count();
    let mut indexed = Vec::new();
    for pat in ["38;5;", "48;5;"] {
        for (at, _) in s.match_indices(pat) {
            let n: String = s[at + pat.len()..].chars().take_while(char::is_ascii_digit).collect();
            indexed.extend(n.parse::<u32>().ok());
        }
    }
    (rgb, indexed)
}

#[test]
fn colours_follow_no_color_colorterm_and_term() {
    // (environment, what the screen may hold): true colour only where COLORTERM says so.
    let cases = [
        ("COLORTERM=truecolor TERM=xterm-256color", "rgb"),
        ("COLORTERM=24bit TERM=tmux-256color", "rgb"),
        ("TERM=xterm-256color", "256"),
        ("COLORTERM=truecolor TERM=linux", "16"),
        ("NO_COLOR=1 COLORTERM=truecolor TERM=xterm-256color", "none"),
    ];
    for (env, want) in cases {
        let cmd = format!("env -u COLORTERM -u NO_COLOR {env} '{}' '{FIXTURE}'", crate::support::cli::BIN);
        let Some(tmux) = tmux(&format!("colours-{want}"), &around(&cmd)) else { return };
        tmux.wait_for("the metrics", |s| s.contains("metrics (") && s.contains("step 200"));
        let (rgb, indexed) = colour_codes(&tmux);
        match want {
            "rgb" => assert!(rgb > 0, "{env}: no RGB colour"),
            "256" => {
                assert_eq!(rgb, 0, "{env}: RGB sent without COLORTERM");
                assert!(indexed.iter().any(|&n| n >= 16), "{env}: no 256-colour index: {indexed:?}");
            }
            "16" => {
                assert_eq!(rgb, 0, "{env}: RGB sent to the Linux console");
                assert!(!indexed.is_empty() && indexed.iter().all(|&n| n < 16), "{env}: {indexed:?}");
            }
            _ => assert!(rgb == 0 && indexed.is_empty(), "{env}: colour with NO_COLOR: {rgb} {indexed:?}"),
        }
        tmux.keys(&["q"]);
        let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
        assert_restored(&screen, env);
    }
}

#[test]
fn ascii_is_ascii_throughout() {
    let cmd = format!("env TERM=xterm-256color '{}' --ascii '{FIXTURE}'", crate::support::cli::BIN);
    let Some(tmux) = tmux("ascii", &around(&cmd)) else { return };
    let mut screen = tmux.wait_for("the metrics", |s| s.contains("metrics (") && s.contains("step 200"));
    // The grid, one chart with the cursor, the flags focused, the help.
    for keys in [&["Enter", "]"][..], &["Escape", "Escape", "a"], &["?"]] {
        let tmon_part: String = screen.lines().filter(|l| !l.contains("SHELL-BEFORE-TMON")).collect();
        let odd: String = tmon_part.chars().filter(|c| !c.is_ascii()).collect();
        assert!(odd.is_empty(), "--ascii drew {odd:?}:\n{screen}");
        assert!(screen.contains("+-") && screen.contains('|'), "ASCII frames:\n{screen}");
        tmux.keys(keys);
        screen = tmux.capture();
    }
    let screen = tmux.wait_for("the help", |s| s.contains("+ keys"));
    assert!(screen.is_ascii(), "{screen}");
    tmux.keys(&["q", "q"]);
    let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
    assert_restored(&screen, "--ascii");
}
