//! `--on-flag CMD`: runs a user's command for each new flag, without ever blocking tmon.
//!
//! The command string is the user's own and goes to `sh -c` unchanged; the flag's details travel
//! only in environment variables (`TMON_KIND`, `TMON_SEVERITY`, `TMON_METRIC`, `TMON_STEP`,
//! `TMON_MESSAGE`, `TMON_PATH`), so nothing written in a log can inject shell. What comes from a
//! log (the metric, the message, the path) is sanitised on its way into the environment: a NUL
//! cannot be passed there at all (a key with `\u0000` once kept a critical page from going out),
//! and the other control characters would reach the terminal of whoever reads the page. Each
//! value is also capped at [`ENV_VALUE_MAX`] characters, under the kernel's limit for one
//! variable, so a 2 MB metric name cannot make the command fail to start either.
//!
//! Each command runs in its own process group with stdin closed and its stdout sent to tmon's
//! stderr (tmon's stdout may be a JSON stream a script reads). A background thread reaps it: a
//! non-zero exit, a spawn error or a timeout (the whole group is then killed) is reported on
//! stderr. At most [`MAX_RUNNING`] commands run at once; flags beyond that are reported as
//! skipped rather than queued, so a flood of flags cannot fork-bomb the machine.

use crate::analysis::Flag;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest value of a `TMON_*` variable, in characters (longer ones end with `…`).
pub const ENV_VALUE_MAX: usize = 4096;

/// `s` as it may go into the environment: sanitised (no NUL, no control character) and capped.
pub fn env_value(s: &str) -> String {
    let clean = crate::text::sanitize(s);
    match clean.char_indices().nth(ENV_VALUE_MAX) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean.into_owned(),
    }
}

/// Commands allowed to run at the same time.
pub const MAX_RUNNING: usize = 16;

/// Runs the `--on-flag` command.
#[derive(Debug, Clone)]
pub struct Hooks {
    cmd: String,
    timeout: Duration,
    running: Arc<AtomicUsize>,
}

impl Hooks {
    pub fn new(cmd: impl Into<String>, timeout: Duration) -> Self {
        Hooks { cmd: cmd.into(), timeout, running: Arc::new(AtomicUsize::new(0)) }
    }

    /// Commands still running.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Waits until no command runs, at most `limit`.
    pub fn wait_idle(&self, limit: Duration) {
        let t0 = Instant::now();
        while self.running() > 0 && t0.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the command for `flag` of the file at `path` and returns at once.
    pub fn fire(&self, path: &str, flag: &Flag) {
        let what = format!("{} {} at step {}", flag.severity, flag.kind, super::flag_step(flag.step));
        if self.running() >= MAX_RUNNING {
            eprintln!("tmon: --on-flag: {MAX_RUNNING} commands still running; not run for {what}");
            return;
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&self.cmd)
            .env("TMON_KIND", flag.kind.as_str())
            .env("TMON_SEVERITY", flag.severity.as_str())
            .env("TMON_METRIC", env_value(&flag.metric))
            .env("TMON_STEP", super::flag_step(flag.step))
            .env("TMON_MESSAGE", env_value(&flag.message))
            .env("TMON_PATH", env_value(path))
            .stdin(Stdio::null())
            .stdout(stderr_stdio());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("tmon: --on-flag: cannot run sh for {what}: {e}");
                return;
            }
        };
        self.running.fetch_add(1, Ordering::SeqCst);
        let running = self.running.clone();
        let timeout = self.timeout;
        let spawned = std::thread::Builder::new().name("tmon-hook".into()).spawn({
            let running = running.clone();
            move || {
                reap(child, timeout, &what);
                running.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if let Err(e) = spawned {
            // The child runs on unreaped; say so rather than block.
            eprintln!("tmon: --on-flag: cannot watch the command: {e}");
            running.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn stderr_stdio() -> Stdio {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            return Stdio::from(fd);
        }
    }
    Stdio::null()
}

fn reap(mut child: std::process::Child, timeout: Duration, what: &str) {
    let t0 = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    eprintln!("tmon: --on-flag command failed ({status}) for {what}");
                }
                return;
            }
            Ok(None) if t0.elapsed() >= timeout => {
                kill_group(&mut child);
                let _ = child.wait();
                eprintln!(
                    "tmon: --on-flag command killed after {} for {what}",
                    crate::text::duration(timeout.as_secs_f64())
                );
                return;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(25)),
            Err(e) => {
                eprintln!("tmon: --on-flag: lost track of the command for {what}: {e}");
                return;
            }
        }
    }
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group we created for
            // this child (process_group(0) made its pid the group id); no memory is involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            return;
        }
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_hold_no_nul_nor_control_and_are_capped() {
        assert_eq!(env_value("loss"), "loss");
        let v = env_value("lo\u{0}ss\x1b]0;x\x07");
        assert!(!v.chars().any(|c| c.is_control()), "{v:?}");
        assert!(v.starts_with("lo\\x00ss\\x1b]0;x\\x07"), "{v:?}");
        let long = env_value(&"é".repeat(3 * ENV_VALUE_MAX));
        assert_eq!(long.chars().count(), ENV_VALUE_MAX + 1);
        assert!(long.ends_with('…'));
    }
}
