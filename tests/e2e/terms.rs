//! tmon in the terminals people run it in: tmux with `TERM` set to `xterm-256color`, `screen` and
//! `linux` (the Linux console, whose font has no braille: charts fall back to ASCII), and GNU
//! screen. Each opens a log, shows its metrics, quits on `q` and gives the shell its screen back.
//! Skips with a notice when tmux (or screen) is not installed.

use crate::support::term::*;
use std::process::Command;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");

fn has_braille(s: &str) -> bool {
    s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

#[test]
fn tmux_with_each_term() {
    if !tmux_available() {
        eprintln!("NOTICE: tmux is not installed; skipping the TERM end-to-end test");
        return;
    }
    let bin = monitor_binary();
    for term in ["xterm-256color", "screen", "linux"] {
        let tmux = Tmux { socket: format!("tmon-e2e-term-{}-{}", std::process::id(), nanos()) };
        let script = format!(
            "echo SHELL-BEFORE-TMON; TERM={term} '{}' '{FIXTURE}'; echo TMON-EXITED $?; sleep 60",
            bin.display()
        );
        let out = tmux.cmd(&["new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", &script]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        let screen = tmux.wait_for("the metrics", |s| s.contains("metrics (") && s.contains("step 200"));
        // Braille dots where the font has them; ASCII on the Linux console.
        assert_eq!(has_braille(&screen), term != "linux", "TERM={term}:\n{screen}");
        tmux.keys(&["j", "Enter", "q"]);
        let screen = tmux.wait_for("tmon to exit", |s| s.contains("TMON-EXITED"));
        assert!(screen.contains("TMON-EXITED 0"), "TERM={term}: {screen}");
        assert!(screen.contains("SHELL-BEFORE-TMON"), "TERM={term}: the shell's screen is back:\n{screen}");
        assert!(!screen.contains("metrics ("), "TERM={term}: tmon's screen is left behind:\n{screen}");
    }
}

/// GNU screen, driven with `-X stuff` and read with `-X hardcopy` (which writes each cell's low
/// byte only: the test reads the ASCII text).
struct Screen {
    name: String,
    dir: tempfile::TempDir,
}

impl Screen {
    fn x(&self, args: &[&str]) -> std::process::Output {
        Command::new("screen").args(["-S", &self.name, "-p", "0", "-X"]).args(args).output().expect("screen")
    }
    fn capture(&self) -> String {
        let file = self.dir.path().join("hardcopy");
        let _ = std::fs::remove_file(&file);
        self.x(&["hardcopy", &file.display().to_string()]);
        std::fs::read(&file).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
    fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        wait_for(&format!("{what} in GNU screen"), || self.capture(), cond)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.x(&["quit"]);
    }
}

#[test]
fn gnu_screen() {
    if !Command::new("screen").arg("-v").output().is_ok_and(|o| !o.stdout.is_empty()) {
        eprintln!("NOTICE: GNU screen is not installed; skipping the screen end-to-end test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("screenrc");
    // The alternate screen, as a user's screenrc (or the distribution's) usually turns on.
    std::fs::write(&rc, "altscreen on\ndefutf8 on\nstartup_message off\n").expect("screenrc");
    let s = Screen { name: format!("tmon-e2e-{}-{}", std::process::id(), nanos()), dir };
    let script = format!(
        "echo SHELL-BEFORE-TMON; TERM=screen '{}' '{FIXTURE}'; echo TMON-EXITED $?; sleep 60",
        monitor_binary().display()
    );
    let st = Command::new("screen")
        .env("LANG", "C.UTF-8")
        .args(["-c", &rc.display().to_string(), "-U", "-dmS", &s.name, "sh", "-c", &script])
        .status()
        .expect("start screen");
    assert!(st.success());
    s.wait_for("the metrics", |t| t.contains("metrics (") && t.contains("step 200"));
    s.x(&["stuff", "j"]);
    s.x(&["stuff", "q"]);
    let screen = s.wait_for("tmon to exit", |t| t.contains("TMON-EXITED"));
    assert!(screen.contains("TMON-EXITED 0"), "{screen}");
    assert!(screen.contains("SHELL-BEFORE-TMON"), "the shell's screen is back:\n{screen}");
    assert!(!screen.contains("metrics ("), "tmon's screen is left behind:\n{screen}");
}
