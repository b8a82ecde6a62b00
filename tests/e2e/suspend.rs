//! The monitor and job control, end to end in a real terminal (tmux, an interactive bash):
//! Ctrl-Z and SIGTSTP give the terminal back to the shell (cooked, cursor shown, the alternate
//! screen left) and stop tmon; `fg` brings the monitor back, redrawn, and keys work; SIGQUIT
//! quits with the terminal restored; and with its output redirected to a file the monitor refuses
//! to start (status 3) instead of drawing into the file.
//!
//! Every wait polls the screen (up to 30 s, for a loaded machine); nothing is asserted after a
//! fixed sleep. Skips with a notice when tmux is not installed (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROMPT: &str = "tmon-e2e$ ";

/// A tmux server of its own with one pane running an interactive bash.
struct Shell {
    socket: String,
}

impl Shell {
    fn start(tag: &str) -> Shell {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let sh = Shell { socket: format!("tmon-e2e-{tag}-{}-{nanos}", std::process::id()) };
        let cmd = format!("env PS1='{PROMPT}' bash --norc --noprofile -i");
        let out = sh.tmux(&["new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", &cmd]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        sh.wait_for("the prompt", |s| s.contains(PROMPT.trim_end()));
        sh
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// A pane variable, e.g. `alternate_on` or `cursor_flag`.
    fn var(&self, name: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "e2e", &format!("#{{{name}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Types `line` (literally) and Enter.
    fn run(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", line]);
        self.tmux(&["send-keys", "-t", "e2e", "Enter"]);
    }

    fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "e2e", key]);
    }

    /// Polls the pane until `cond` holds; returns that screen.
    fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if cond(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(30) {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until tmon's screen is up (the alternate screen, with the metrics list).
    fn wait_monitor(&self, what: &str) -> String {
        self.wait_for(what, |s| s.contains("metrics (") && self.var("alternate_on") == "1")
    }

    /// Waits until the shell has the terminal back after tmon stopped: the normal screen, bash's
    /// job report and a fresh prompt; then checks the terminal is cooked and the cursor shown.
    fn wait_stopped(&self, what: &str, n: u32) {
        let screen = self.wait_for(what, |s| {
            self.var("alternate_on") == "0"
                && s.contains("Stopped")
                && s.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
        });
        assert!(!screen.contains("metrics ("), "{what}: tmon's screen is left behind:\n{screen}");
        assert_eq!(self.var("cursor_flag"), "1", "{what}: the cursor is still hidden");
        self.assert_cooked(what, n);
    }

    /// `stty` run by the shell sees canonical mode (`icanon`, not `-icanon`). The marker is
    /// computed by the shell so the typed command line never matches it.
    fn assert_cooked(&self, what: &str, n: u32) {
        self.run(&format!("stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo STTY-$((1000+{n}))"));
        let marker = format!("STTY-{}", 1000 + n);
        let screen = self.wait_for("stty's answer", |s| s.lines().any(|l| l.trim() == marker));
        let lines: Vec<&str> = screen.lines().map(str::trim).collect();
        let at = lines.iter().position(|l| *l == marker).expect("marker");
        assert_eq!(lines[at - 1], "icanon", "{what}: the terminal is left in raw mode:\n{screen}");
    }

    /// The status of the last command, printed by the shell.
    fn status(&self, n: u32) -> String {
        self.run(&format!("echo STATUS-$((2000+{n}))=$?"));
        let marker = format!("STATUS-{}=", 2000 + n);
        let screen = self.wait_for("the exit status", |s| s.lines().any(|l| l.trim().starts_with(&marker)));
        let line = screen.lines().map(str::trim).find(|l| l.starts_with(&marker)).expect("status line");
        line[marker.len()..].to_owned()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let socket = self.tmux(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.tmux(&["kill-server"]);
        let path = String::from_utf8_lossy(&socket.stdout).trim().to_owned();
        if path.contains(&self.socket) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// tmux and bash, or a skip (a failure under `TMON_REQUIRE_TOOLS`, as `.ci/run` sets it).
fn tmux_available() -> bool {
    crate::support::tool("tmux", &["-V"]) && crate::support::tool("bash", &["--version"])
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tmon"))
}

fn log_in(dir: &Path) -> PathBuf {
    let log = dir.join("logs.jsonl");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/train.jsonl");
    std::fs::copy(fixture, &log).expect("copy fixture");
    log
}

#[test]
fn ctrl_z_gives_the_terminal_back_and_fg_brings_the_monitor_back() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(dir.path());
    let sh = Shell::start("ctrlz");
    sh.run(&format!("'{}' '{}'", bin().display(), log.display()));
    sh.wait_monitor("the monitor");

    sh.key("C-z");
    sh.wait_stopped("Ctrl-Z", 1);

    sh.run("fg");
    sh.wait_monitor("the monitor after fg");
    // Redrawn in full (the header's first line too), and it answers keys.
    sh.wait_for("the header", |s| {
        s.lines().next().is_some_and(|l| l.contains("tmon") && l.contains("records"))
    });
    sh.key("?");
    sh.wait_for("the help", |s| s.contains("this help"));
    sh.key("?");
    sh.wait_for("the help closed", |s| !s.contains("this help"));

    // A second round trip works as well as the first.
    sh.key("C-z");
    sh.wait_stopped("a second Ctrl-Z", 2);
    sh.run("fg");
    sh.wait_monitor("the monitor after the second fg");

    sh.key("q");
    sh.wait_for("the shell", |s| s.trim_end().ends_with(PROMPT.trim_end()) && sh.var("alternate_on") == "0");
    assert_eq!(sh.status(1), "0");
    sh.assert_cooked("after q", 3);
}

#[test]
fn sigtstp_from_outside_suspends_and_sigquit_restores_the_terminal() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(dir.path());
    let pidfile = dir.path().join("tmon.pid");
    let sh = Shell::start("tstp");
    // `exec` keeps the pid the shell wrote.
    sh.run(&format!(
        "sh -c 'echo $$ > \"$0\"; exec \"$1\" \"$2\"' '{}' '{}' '{}'",
        pidfile.display(),
        bin().display(),
        log.display()
    ));
    sh.wait_monitor("the monitor");
    let pid = std::fs::read_to_string(&pidfile).expect("pid file").trim().to_owned();
    let kill = |sig: &str| {
        let st = Command::new("kill").args(["-s", sig, &pid]).status().expect("kill");
        assert!(st.success(), "kill -s {sig} {pid}");
    };

    kill("TSTP");
    sh.wait_stopped("SIGTSTP", 1);
    sh.run("fg");
    sh.wait_monitor("the monitor after fg");
    sh.key("?");
    sh.wait_for("the help", |s| s.contains("this help"));

    kill("QUIT");
    sh.wait_for("tmon to quit", |s| {
        sh.var("alternate_on") == "0"
            && s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
    });
    assert_eq!(sh.status(1), "0", "SIGQUIT quits like SIGTERM");
    assert_eq!(sh.var("cursor_flag"), "1", "the cursor is still hidden");
    sh.assert_cooked("after SIGQUIT", 2);
    let screen = sh.capture();
    assert!(!screen.contains("metrics ("), "tmon's screen is left behind:\n{screen}");
}

#[test]
fn with_stdout_redirected_the_monitor_refuses_to_start() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(dir.path());
    let out = dir.path().join("screen.txt");
    let sh = Shell::start("redirect");
    // stdin and stderr are the terminal; only stdout goes to the file.
    sh.run(&format!("'{}' '{}' > '{}'", bin().display(), log.display(), out.display()));
    sh.wait_for("tmon's message", |s| s.contains("not a terminal"));
    assert_eq!(sh.status(1), "3", "the status for a terminal tmon cannot use");
    let screen = sh.capture();
    assert!(screen.contains("tmon: cannot use the terminal: standard output is not a terminal"), "{screen}");
    assert!(screen.contains("tmon check"), "it says what to use instead:\n{screen}");
    let drawn = std::fs::read(&out).expect("the redirect's file");
    assert!(drawn.is_empty(), "the monitor drew into the file: {:?}", String::from_utf8_lossy(&drawn));
    sh.assert_cooked("after the refusal", 1);
}
