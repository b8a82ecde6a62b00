//! Real terminals for the end-to-end tests: a tmux server of their own, or a GNU screen session,
//! running a shell command (usually the `tmon` under test between two markers), and a poll of
//! what the screen shows.

use std::process::Command;
use std::time::{Duration, Instant};

/// The shell line a terminal runs: a marker, `cmd`, and what `cmd` exited with. The shell then
/// waits, so the screen it leaves stays readable.
pub fn around(cmd: &str) -> String {
    format!("echo SHELL-BEFORE-TMON; {cmd}; echo TMON-EXITED $?; sleep 60")
}

/// `tmon ARGS...` quoted for the shell, with `TERM` set when given.
pub fn tmon_cmd(term: Option<&str>, args: &[&str]) -> String {
    let mut cmd = term.map(|t| format!("TERM={t} ")).unwrap_or_default();
    cmd.push_str(&format!("'{}'", super::cli::BIN));
    for a in args {
        cmd.push_str(&format!(" '{a}'"));
    }
    cmd
}

/// What a terminal shows once `tmon` has quit: its exit status 0, the shell's screen back, and
/// nothing of tmon's left on it.
pub fn assert_restored(screen: &str, what: &str) {
    assert!(screen.contains("TMON-EXITED 0"), "{what}: {screen}");
    assert!(screen.contains("SHELL-BEFORE-TMON"), "{what}: the shell's screen is back:\n{screen}");
    assert!(!screen.contains("metrics ("), "{what}: tmon's screen is left behind:\n{screen}");
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

pub struct Tmux {
    pub socket: String,
}

/// A tmux server of its own (named after `tag`) running `script` in a 100x30 session `e2e`; `None`
/// when tmux is not installed (see [`super::tool`]).
pub fn tmux(tag: &str, script: &str) -> Option<Tmux> {
    if !super::tool("tmux", &["-V"]) {
        return None;
    }
    let tmux = Tmux { socket: format!("tmon-e2e-{tag}-{}-{}", std::process::id(), nanos()) };
    let out = tmux.cmd(&["new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", script]);
    assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
    Some(tmux)
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

/// GNU screen, driven with `-X stuff` and read with `-X hardcopy` (which writes each cell's low
/// byte only: read the ASCII text).
pub struct Screen {
    name: String,
    dir: tempfile::TempDir,
}

/// A GNU screen session running `script` with the alternate screen on, as a user's screenrc (or
/// the distribution's) usually has it; `None` when screen is not installed.
pub fn screen(script: &str) -> Option<Screen> {
    // `screen -v` exits 1 on some versions: it is there if it says anything.
    let there = Command::new("screen").arg("-v").output().is_ok_and(|o| !o.stdout.is_empty());
    if !there {
        super::skip(super::REQUIRE_TOOLS, "GNU screen is not installed (.ci/run installs it)");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("screenrc");
    std::fs::write(&rc, "altscreen on\ndefutf8 on\nstartup_message off\n").expect("screenrc");
    let s = Screen { name: format!("tmon-e2e-{}-{}", std::process::id(), nanos()), dir };
    let st = Command::new("screen")
        .env("LANG", "C.UTF-8")
        .args(["-c", &rc.display().to_string(), "-U", "-dmS", &s.name, "sh", "-c", script])
        .status()
        .expect("start screen");
    assert!(st.success());
    Some(s)
}

impl Screen {
    pub fn x(&self, args: &[&str]) -> std::process::Output {
        Command::new("screen").args(["-S", &self.name, "-p", "0", "-X"]).args(args).output().expect("screen")
    }
    pub fn capture(&self) -> String {
        let file = self.dir.path().join("hardcopy");
        let _ = std::fs::remove_file(&file);
        self.x(&["hardcopy", &file.display().to_string()]);
        std::fs::read(&file).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
    pub fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        wait_for(&format!("{what} in GNU screen"), || self.capture(), cond)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.x(&["quit"]);
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

/// The selected metric's name as the list shows it (without a trailing `…`).
pub fn selected(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("▸ "))?;
    let name = line.split("▸ ").nth(1)?.split_whitespace().next()?;
    Some(name.trim_end_matches('…').to_owned())
}
