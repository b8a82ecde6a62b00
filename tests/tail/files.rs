//! Issue 10, the file system side: every way a file broke following, kept fixed. Each test failed
//! before its fix; the ones seen through the binary run the binary.
//!
//! - a FIFO (or a symlink to one) never hangs the monitor; `q` and SIGTERM end it;
//! - a log rewritten in place (`open(path, "w")`, shrinking and growing between two looks) is a
//!   restart, with every record of both runs, in order, with inotify and with `--poll`;
//! - 2,000 files under a limit of 256 descriptors are all followed, and every NaN is reported;
//! - a JSON array still being written is read element by element as it grows;
//! - a sparse file's hole costs no memory in `tmon check` and is counted as skipped;
//! - permission denied, `/dev/zero`, a FIFO and a symlink loop are said, not "waiting".

use crate::support::mkfifo;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};
use tmon::source::{self, SourceEvent, SourceOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tmon");
/// How long a condition may take on a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

fn line(step: u64, run: &str) -> String {
    format!("{{\"step\": {step}, \"loss\": {:.5}, \"run\": \"{run}\"}}\n", 1.0 / (step as f64 + 2.0))
}

fn steps_of(bytes: &[u8]) -> Vec<u64> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).expect("a JSON line");
            v["step"].as_u64().expect("a step")
        })
        .collect()
}

/// What the source said about file 0: the bytes of each incarnation, the restarts.
#[derive(Default, Debug)]
struct Seen {
    incarnations: Vec<Vec<u8>>,
    restarts: Vec<String>,
    problems: Vec<String>,
}

impl Seen {
    fn take(&mut self, ev: SourceEvent) {
        match ev {
            SourceEvent::Lines { bytes, .. } => {
                if self.incarnations.is_empty() {
                    self.incarnations.push(Vec::new());
                }
                let cur = self.incarnations.last_mut().expect("one");
                cur.extend_from_slice(&bytes);
                if !bytes.ends_with(b"\n") {
                    cur.push(b'\n');
                }
            }
            SourceEvent::Restarted { reason, .. } => {
                self.restarts.push(reason);
                self.incarnations.push(Vec::new());
            }
            SourceEvent::Unreadable { reason, .. } => self.problems.push(reason),
            _ => {}
        }
    }

    fn pump_until(&mut self, rx: &Receiver<SourceEvent>, what: &str, cond: impl Fn(&Seen) -> bool) {
        let t0 = Instant::now();
        while !cond(self) {
            assert!(t0.elapsed() < DEADLINE, "timed out waiting for {what}: {:?}", self.summary());
            if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
                self.take(ev);
            }
        }
    }

    fn steps(&self, i: usize) -> Vec<u64> {
        self.incarnations.get(i).map_or_else(Vec::new, |b| steps_of(b))
    }

    fn summary(&self) -> (Vec<usize>, &[String]) {
        (self.incarnations.iter().map(|b| steps_of(b).len()).collect(), &self.restarts)
    }
}

fn rewritten_in_place(opts: SourceOptions) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, "").expect("create");
    let (handle, rx) = source::spawn_channel(std::slice::from_ref(&path), opts).expect("spawn");
    let mut seen = Seen::default();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let p = path.clone();
    // The training script: a first run, then a rerun that reopens the log with "w" and writes
    // more than the first run did, at once, so the shrink is never seen.
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).expect("open");
        for s in 0..300 {
            f.write_all(line(s, "first").as_bytes()).expect("write");
        }
        drop(f);
        go_rx.recv().expect("go");
        let second: String = (0..500).map(|s| line(s, "second")).collect();
        let mut f = std::fs::File::create(&p).expect("open with w");
        f.write_all(second.as_bytes()).expect("write");
        drop(f);
        go_rx.recv().expect("go");
        // And once more, with as many bytes as the second run: the size alone says nothing.
        let third: String = (0..500).map(|s| line(s, "thirdd")).collect();
        std::fs::File::create(&p).expect("open with w").write_all(third.as_bytes()).expect("write");
    });
    seen.pump_until(&rx, "the first run", |s| s.steps(0).len() == 300);
    go_tx.send(()).expect("go");
    seen.pump_until(&rx, "the second run", |s| s.restarts.len() == 1 && s.steps(1).len() == 500);
    go_tx.send(()).expect("go");
    seen.pump_until(&rx, "the third run", |s| s.restarts.len() == 2 && s.steps(2).len() == 500);
    writer.join().expect("writer");
    // Nothing more comes: no record twice, no extra restart.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(600) {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            seen.take(ev);
        }
    }
    drop(handle);
    let want: Vec<u64> = (0..300).collect();
    assert_eq!(seen.steps(0), want, "the first run, exactly");
    let want: Vec<u64> = (0..500).collect();
    assert_eq!(seen.steps(1), want, "the second run from its first record");
    assert_eq!(seen.steps(2), want, "the third run from its first record");
    assert_eq!(seen.incarnations.len(), 3);
    for r in &seen.restarts {
        assert!(r == "rewritten" || r == "truncated", "{r}");
    }
    assert_eq!(seen.restarts[1], "rewritten", "same size, other content: only the fingerprint tells");
    let runs: Vec<bool> = seen.incarnations[2]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| String::from_utf8_lossy(l).contains("thirdd"))
        .collect();
    assert!(runs.iter().all(|&t| t), "no line of another run mixed in");
}

#[test]
fn a_log_rewritten_in_place_is_a_restart_with_every_record_inotify() {
    rewritten_in_place(SourceOptions::default());
}

#[test]
fn a_log_rewritten_in_place_is_a_restart_with_every_record_poll() {
    rewritten_in_place(SourceOptions::with_poll(Some(Duration::from_millis(100))));
}

/// A child's stdout lines, read on a thread.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    rx
}

fn stderr_of(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    })
}

/// Waits for stdout lines until `n` satisfy `pred` (or the deadline); returns them.
fn collect(rx: &Receiver<String>, n: usize, pred: impl Fn(&str) -> bool) -> Vec<String> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while got.len() < n && t0.elapsed() < Duration::from_secs(120) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            if pred(&l) {
                got.push(l);
            }
        }
    }
    got
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tmon did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_binary_flags_a_rewrite_seen_by_the_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    let mut first: String = (0..200).map(|s| line(s, "first")).collect();
    // A NaN in the history: once its flag is printed, the history is read.
    first.push_str("{\"step\": 200, \"loss\": NaN}\n");
    std::fs::write(&path, &first).expect("write");
    let mut child = Command::new(BIN)
        .args(["check", "--follow", "--json", "--poll", "200"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let rx = lines_of(&mut child);
    assert_eq!(collect(&rx, 1, |l| l.contains("nonfinite")).len(), 1, "the history's flag");
    let second: String = (0..400).map(|s| line(s, "second")).collect();
    std::fs::File::create(&path).expect("w").write_all(second.as_bytes()).expect("write");
    let got = collect(&rx, 1, |l| l.contains("\"kind\":\"restart\""));
    stop(child);
    assert_eq!(got.len(), 1, "a restart flag for the rewritten log");
    assert!(got[0].contains("rewritten") || got[0].contains("truncated"), "{}", got[0]);
}

/// `tmon ARGS` with its limit of open files set to `n` (soft and hard, so tmon cannot raise it).
fn tmon_with_fd_limit(args: &[&std::ffi::OsStr], n: u64) -> Child {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; it only lowers this child's limit before exec.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::rlimit { rlim_cur: n as libc::rlim_t, rlim_max: n as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().expect("spawn tmon")
}

#[test]
fn two_thousand_files_under_256_descriptors_report_every_nan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 2000;
    let healthy: String = (0..5).map(|s| line(s, "t")).collect();
    for i in 0..n {
        let d = dir.path().join(format!("trial_{i:04}"));
        std::fs::create_dir(&d).expect("mkdir");
        let mut text = healthy.clone();
        if i == 0 {
            // The first trial's NaN is in its history: once it is printed, the history is read.
            text.push_str("{\"step\": 5, \"loss\": NaN}\n");
        }
        std::fs::write(d.join("metrics.jsonl"), text).expect("write");
    }
    let args =
        [std::ffi::OsStr::new("check"), "--follow".as_ref(), "--json".as_ref(), dir.path().as_os_str()];
    let mut child = tmon_with_fd_limit(&args, 256);
    let rx = lines_of(&mut child);
    let err = stderr_of(&mut child);
    let first = collect(&rx, 1, |l| l.contains("nonfinite"));
    assert_eq!(first.len(), 1, "the history's NaN");
    assert!(first[0].contains("trial_0000"), "{}", first[0]);
    // The last 300 trials diverge now, while followed.
    let late: Vec<usize> = (n - 300..n).collect();
    for &i in &late {
        let p = dir.path().join(format!("trial_{i:04}/metrics.jsonl"));
        std::fs::OpenOptions::new()
            .append(true)
            .open(p)
            .expect("open")
            .write_all(b"{\"step\": 5, \"loss\": NaN}\n")
            .expect("append");
    }
    let got = collect(&rx, late.len(), |l| l.contains("nonfinite"));
    stop(child);
    let stderr = err.join().expect("stderr");
    let mut trials: Vec<String> = got
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["path"].as_str().expect("path").to_owned()
        })
        .collect();
    trials.sort();
    trials.dedup();
    assert_eq!(trials.len(), late.len(), "every NaN reported once; stderr:\n{stderr}");
    for (&i, t) in late.iter().zip(&trials) {
        assert!(t.ends_with(&format!("trial_{i:04}/metrics.jsonl")), "{t}");
    }
}

/// The monitor's state after the source layer looked at `path` (the real path: `Sources` polls
/// the file system) and its header as drawn.
fn monitor_on(path: &Path) -> (tmon::app::App, String) {
    let mut app = tmon::app::App::new(&[path], Default::default());
    let mut sources = tmon::source::Sources::new(&[path.to_owned()], SourceOptions::default());
    for ev in sources.poll_all(Instant::now()) {
        app.update(tmon::event::Event::Source(ev));
    }
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 10)).expect("term");
    term.draw(|f| tmon::ui::render(f, &app)).expect("draw");
    let buf = term.backend().buffer();
    let header: String = (0..buf.area.width).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
    (app, header)
}

#[test]
fn the_monitor_says_why_a_path_cannot_be_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.jsonl");
    mkfifo(&fifo);
    let to_fifo = dir.path().join("to-pipe.jsonl");
    std::os::unix::fs::symlink(&fifo, &to_fifo).expect("symlink");
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::os::unix::fs::symlink(&b, &a).expect("symlink");
    std::os::unix::fs::symlink(&a, &b).expect("symlink");
    let cases: [(&Path, &str); 4] = [
        (&fifo, "not a regular file (a FIFO)"),
        (&to_fifo, "not a regular file (a FIFO)"),
        (Path::new("/dev/zero"), "not a regular file (a character device)"),
        (&a, "a symlink loop"),
    ];
    for (path, why) in cases {
        let (app, header) = monitor_on(path);
        assert_eq!(app.status(), Some(tmon::app::Status::Unreadable), "{}", path.display());
        let problem = app.slots[0].live.problem.clone().unwrap_or_default();
        assert!(problem.contains(why), "{}: {problem}", path.display());
        assert!(header.contains("cannot read: ") && header.contains(why), "{header}");
        assert!(!header.contains("waiting"), "{header}");
    }
    // Readable again: the problem goes, the data comes.
    std::fs::remove_file(&a).expect("rm");
    std::fs::write(&a, line(1, "x")).expect("write");
    let (app, header) = monitor_on(&a);
    assert_eq!(app.slots[0].live.problem, None);
    assert_eq!(app.slots[0].run().store.records(), 1, "{header}");
}

/// Makes `cmd` run as user `nobody` when we are root (root reads every file, so a
/// permission can only be denied to another user), else as we are.
fn as_unprivileged(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
}

#[test]
fn check_follow_says_a_file_in_a_directory_cannot_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ok = dir.path().join("ok.jsonl");
    let secret = dir.path().join("secret.jsonl");
    std::fs::write(&ok, line(1, "ok")).expect("write");
    std::fs::write(&secret, line(1, "secret")).expect("write");
    std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    // A copy of the binary another user can run whatever the checkout's permissions (a clone
    // under /root is not theirs to enter).
    let bin_dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = bin_dir.path().join("tmon");
    std::fs::copy(BIN, &bin).expect("copy tmon");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let spawn = |bin: &Path| {
        let mut cmd = Command::new(bin);
        cmd.args(["check", "--follow"]).arg(dir.path()).stdout(Stdio::null()).stderr(Stdio::piped());
        as_unprivileged(&mut cmd);
        cmd.spawn()
    };
    // The copy, or the checkout's binary where the temporary directory is mounted noexec.
    let mut child = spawn(&bin).or_else(|_| spawn(Path::new(BIN))).expect("spawn tmon");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut l = String::new();
        while err.read_line(&mut l).is_ok_and(|n| n > 0) {
            let _ = tx.send(std::mem::take(&mut l));
        }
    });
    let said = collect(&rx, 1, |l| l.contains("secret.jsonl"));
    stop(child);
    assert_eq!(said.len(), 1, "stderr names the unreadable file");
    assert!(said[0].contains("cannot be read: permission denied"), "{}", said[0]);
}

#[test]
fn a_growing_json_array_is_read_record_by_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metrics_log.json");
    std::fs::write(&path, "[\n").expect("create");
    let (handle, rx) =
        source::spawn_channel(std::slice::from_ref(&path), SourceOptions::default()).expect("spawn");
    let mut run = tmon::run::Run::new(&path, Default::default(), Default::default());
    let p = path.clone();
    let n = 300u64;
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).expect("open");
        for s in 0..n {
            // json.dumps(record) + ",\n", a hundred times a second.
            writeln!(f, "{{\"step\": {s}, \"loss\": {}, \"lr\": 0.001}},", 1.0 / (s as f64 + 1.0))
                .expect("write");
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let t0 = Instant::now();
    let mut seen_while_writing = 0;
    while run.store.records() < n as usize {
        assert!(t0.elapsed() < DEADLINE, "{} records of {n}", run.store.records());
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            run.apply(&ev);
            if !writer.is_finished() {
                seen_while_writing = run.store.records();
            }
        }
    }
    writer.join().expect("writer");
    assert!(seen_while_writing > 0, "records appear as they are appended");
    let steps: Vec<f64> = (0..run.store.records()).map(|r| run.store.record(r as u32).step).collect();
    assert_eq!(steps, (0..n).map(|s| s as f64).collect::<Vec<_>>());
    assert_eq!(run.store.skipped.count, 0);
    // Closed at the end: nothing more, nothing twice.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open")
        .write_all(b"{\"step\": 300}\n]\n")
        .expect("close");
    let t0 = Instant::now();
    while run.store.records() < n as usize + 1 && t0.elapsed() < DEADLINE {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            run.apply(&ev);
        }
    }
    drop(handle);
    assert_eq!(run.store.records(), n as usize + 1);
    // `tmon check` reads the same file (closed) and an unclosed one the same way.
    let checked = tmon::run::Run::load_file(&path, Default::default(), Default::default()).expect("check");
    assert_eq!(checked.store.records(), n as usize + 1);
    let open = dir.path().join("open.json");
    std::fs::write(&open, "[\n{\"step\": 1, \"loss\": 1},\n{\"step\": 2, \"loss\": 0.5},\n{\"step\": 3")
        .expect("write");
    let checked = tmon::run::Run::load_file(&open, Default::default(), Default::default()).expect("check");
    assert_eq!(checked.store.records(), 2);
}

/// Runs `tmon ARGS` to its end and returns its output and peak resident memory in kB (from
/// `wait4`, for this child alone).
fn run_measured(args: &[&std::ffi::OsStr]) -> (i32, String, String, i64) {
    let mut child =
        Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let out = lines_of(&mut child);
    let err = stderr_of(&mut child);
    let mut status = 0;
    // SAFETY: rusage is ours to fill; wait4 reaps exactly this child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let stdout: Vec<String> = out.iter().collect();
    (libc::WEXITSTATUS(status), stdout.join("\n"), err.join().expect("stderr"), ru.ru_maxrss)
}

#[test]
fn a_sparse_hole_costs_no_memory_and_is_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crashed.jsonl");
    let mut f = std::fs::File::create(&path).expect("create");
    for s in 0..10 {
        f.write_all(line(s, "a").as_bytes()).expect("write");
    }
    // A hole of 1 GiB with no newline (what a crash or a preallocating writer leaves), then the
    // run goes on.
    let len = f.metadata().expect("meta").len();
    f.set_len(len + (1 << 30)).expect("set_len");
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    for s in 10..20 {
        f.write_all(line(s, "a").as_bytes()).expect("write");
    }
    drop(f);
    let (code, stdout, stderr, max_rss_kb) =
        run_measured(&[std::ffi::OsStr::new("check"), "--json".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let run = &doc["runs"][0];
    assert_eq!(run["records"], 20, "{run}");
    assert_eq!(run["skipped_lines"], 1, "the hole, counted: {run}");
    assert!(max_rss_kb < 200 * 1024, "tmon check held {max_rss_kb} kB for a 1 GiB hole");
    // The text report says what was skipped and why.
    let (code, text, _, _) = run_measured(&[std::ffi::OsStr::new("check"), path.as_os_str()]);
    assert_eq!(code, 0);
    assert!(text.contains("1073741824 NUL bytes skipped (a hole in the file"), "{text}");
}

#[test]
fn the_monitor_on_a_fifo_answers_q_and_sigterm() {
    use crate::support::term::{around, tmon_cmd, tmux};
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.jsonl");
    mkfifo(&fifo);
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
    let reason = |s: &str| s.contains("not a regular file (a FIFO)");
    for (i, path) in [&fifo, &link].iter().enumerate() {
        let Some(t) = tmux(&format!("fifo-q{i}"), &around(&tmon_cmd(None, &[path.to_str().unwrap()]))) else {
            return;
        };
        t.wait_for("the header's reason", reason);
        t.keys(&["q"]);
        t.wait_for("q to quit", |s| s.contains("TMON-EXITED 0"));
    }
    // SIGTERM to tmon itself: the shell writes its pid, then becomes tmon.
    let pid_file = dir.path().join("pid");
    let cmd = format!(
        "sh -c 'echo $$ > {}; exec \"$0\" \"$1\"' {}",
        pid_file.display(),
        tmon_cmd(None, &[fifo.to_str().unwrap()])
    );
    let Some(t) = tmux("fifo-term", &around(&cmd)) else { return };
    t.wait_for("the header's reason", reason);
    let pid: i32 = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().expect("a pid");
    // SAFETY: kill(2) on tmon's own process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    t.wait_for("SIGTERM to quit", |s| s.contains("TMON-EXITED 0"));
}
