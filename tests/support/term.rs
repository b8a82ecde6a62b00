//! Shared by the end-to-end tests: a tmux server of their own, and the tmon binary under test.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }
    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "e2e", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    /// Polls the pane until `cond` holds (10 s at most); returns the last capture.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        wait_for(what, || self.capture(), cond)
    }
}

/// Captures the screen with `capture` until `cond` holds (10 s at most); returns the last capture.
pub fn wait_for(what: &str, capture: impl Fn() -> String, cond: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = capture();
        if cond(&screen) {
            return screen;
        }
        if start.elapsed() > Duration::from_secs(10) {
            panic!("timed out waiting for {what}; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let socket = self.cmd(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.cmd(&["kill-server"]);
        // tmux can leave the socket file behind; a CI machine should not collect them.
        let path = String::from_utf8_lossy(&socket.stdout).trim().to_owned();
        if path.contains(&self.socket) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The selected metric's name as the list shows it (without a trailing `…`).
pub fn selected(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("▸ "))?;
    let name = line.split("▸ ").nth(1)?.split_whitespace().next()?;
    Some(name.trim_end_matches('…').to_owned())
}

pub fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// The `tmon` binary cargo built for this test.
pub fn monitor_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tmon"))
}
