//! Every file operation a training run does to its log, driven by a writer thread while the
//! watcher follows the file. Nothing may be lost and nothing counted twice: each test checks
//! the exact step sequence of every incarnation of the file, and the line numbering.
//!
//! Each scenario runs with inotify (the default) and poll-only (`--poll`, standing in for a
//! network filesystem where inotify hears nothing).

use crate::support::tail::*;
use std::path::PathBuf;
use std::time::Duration;
use tmon::source::{FileState, SourceOptions};

fn inotify() -> SourceOptions {
    SourceOptions::default()
}

fn polling() -> SourceOptions {
    SourceOptions::with_poll(Some(Duration::from_millis(100)))
}

fn split_appends(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    c.wait_for("waiting state", |c| c.files.first().is_some_and(|f| f.states == [FileState::Waiting]));
    // LF and CRLF lines, cut anywhere (inside multibyte characters and between \r and \n).
    let mut content = String::new();
    for s in 0..400u64 {
        let l = line(s);
        if s % 3 == 0 {
            content.push_str(&l.replace('\n', "\r\n"));
        } else {
            content.push_str(&l);
        }
    }
    let p = path.clone();
    let bytes = content.clone().into_bytes();
    let writer = std::thread::spawn(move || append_in_pieces(&p, &bytes, 97, 7));
    c.wait_for("all 400 steps", |c| c.file(0).current().steps().len() >= 400);
    writer.join().unwrap();
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.states, [FileState::Waiting, FileState::Live]);
    assert!(f.restarts.is_empty(), "{:?}", f.restarts);
    assert_eq!(f.incarnations.len(), 1);
    assert_eq!(f.current().steps(), range(400));
    assert!(f.current().numbering_errors.is_empty(), "{:?}", f.current().numbering_errors);
    // Byte-exact: the lines read are the file, CRLF and UTF-8 intact.
    assert_eq!(f.current().bytes, content.as_bytes());
    assert_eq!(std::fs::read(&path).unwrap(), content.as_bytes(), "the file was not touched");
}

#[test]
fn split_appends_inotify() {
    split_appends(inotify());
}

#[test]
fn split_appends_poll_only() {
    split_appends(polling());
}

fn truncate(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..50).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    c.wait_for("first 50", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 50));
    // A rerun opening the log with "w": truncated to zero, then written again.
    let f = std::fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
    drop(f);
    append_in_pieces(&path, lines(0..30).as_bytes(), 200, 3);
    c.wait_for("second run", |c| {
        c.file(0).incarnations.len() == 2 && c.file(0).current().steps().len() == 30
    });
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.restarts, ["truncated"]);
    assert_eq!(f.incarnations[0].steps(), range(50));
    assert_eq!(f.incarnations[1].steps(), range(30));
    assert!(f.incarnations.iter().all(|i| i.numbering_errors.is_empty()));
}

#[test]
fn truncate_inotify() {
    truncate(inotify());
}

#[test]
fn truncate_poll_only() {
    truncate(polling());
}

fn rotate_by_rename(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..1).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    c.wait_for("first line", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 1));
    // Logrotate style: the rest of the old file is written, the file is moved away, and a new
    // one starts at once. What the old file got before the move is read through the handle
    // tmon still holds, even if tmon never polled in between.
    append(&path, lines(1..40).as_bytes());
    std::fs::rename(&path, dir.path().join("run.jsonl.1")).unwrap();
    append(&path, lines(0..20).as_bytes());
    c.wait_for("new file", |c| c.file(0).incarnations.len() == 2 && c.file(0).current().steps().len() == 20);
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.incarnations[0].steps(), range(40));
    assert_eq!(f.incarnations[1].steps(), range(20));
    assert_eq!(f.restarts.len(), 1, "{:?}", f.restarts);
}

#[test]
fn rotate_by_rename_inotify() {
    rotate_by_rename(inotify());
}

#[test]
fn rotate_by_rename_poll_only() {
    rotate_by_rename(polling());
}

#[test]
fn replace_by_renaming_a_new_file_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..25).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), inotify());
    c.wait_for("first 25", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 25));
    let tmp = dir.path().join("run.jsonl.tmp");
    append(&tmp, lines(0..60).as_bytes());
    std::fs::rename(&tmp, &path).unwrap();
    c.wait_for("replacement", |c| {
        c.file(0).incarnations.len() == 2 && c.file(0).current().steps().len() == 60
    });
    // The new file then grows as usual.
    append_in_pieces(&path, lines(60..90).as_bytes(), 50, 11);
    c.wait_for("growth", |c| c.file(0).current().steps().len() == 90);
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.restarts, ["replaced"]);
    assert_eq!(f.incarnations[0].steps(), range(25));
    assert_eq!(f.incarnations[1].steps(), range(90));
}

fn delete_and_recreate(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..30).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    c.wait_for("first 30", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 30));
    std::fs::remove_file(&path).unwrap();
    c.wait_for("gone", |c| c.file(0).states.last() == Some(&FileState::Gone));
    assert_eq!(c.file(0).current().steps(), range(30), "what was read is kept");
    append_in_pieces(&path, lines(0..35).as_bytes(), 300, 5);
    c.wait_for("back", |c| c.file(0).incarnations.len() == 2 && c.file(0).current().steps().len() == 35);
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.states, [FileState::Live, FileState::Gone, FileState::Live]);
    assert_eq!(f.restarts, ["recreated"]);
    assert_eq!(f.incarnations[0].steps(), range(30));
    assert_eq!(f.incarnations[1].steps(), range(35));
}

#[test]
fn delete_and_recreate_inotify() {
    delete_and_recreate(inotify());
}

#[test]
fn delete_and_recreate_poll_only() {
    delete_and_recreate(polling());
}

#[test]
fn start_before_the_file_and_its_directory_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out").join("run.jsonl");
    let mut c = Collector::start(std::slice::from_ref(&path), inotify());
    c.wait_for("waiting", |c| c.files.first().is_some_and(|f| f.states == [FileState::Waiting]));
    std::fs::create_dir(dir.path().join("out")).unwrap();
    append_in_pieces(&path, lines(0..100).as_bytes(), 150, 9);
    c.wait_for("100 steps", |c| c.file(0).current().steps().len() == 100);
    c.settle(Duration::from_millis(300));
    let f = c.file(0);
    assert_eq!(f.states, [FileState::Waiting, FileState::Live]);
    assert!(f.restarts.is_empty(), "appearing is not a restart: {:?}", f.restarts);
    assert_eq!(f.current().steps(), range(100));
}

#[test]
fn final_line_without_newline_is_taken_once_the_file_settles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("20210427_101754.log.json");
    let mut content = lines(0..10);
    content.pop(); // mmdet's last line has no newline
    append(&path, content.as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), inotify());
    c.wait_for("10 steps incl. the unterminated one", |c| {
        c.files.first().is_some_and(|f| f.current().steps().len() == 10)
    });
    // A half-written line (a buffered writer flushed mid-line) is held, however long it waits.
    append(&path, b"\n{\"step\": 10, \"lo");
    c.settle(Duration::from_millis(2500));
    assert_eq!(c.file(0).current().steps(), range(10));
    append(&path, b"ss\": 0.5}\n");
    append(&path, lines(11..15).as_bytes());
    c.wait_for("15 steps", |c| c.file(0).current().steps().len() == 15);
    c.settle(Duration::from_millis(300));
    let inc = c.file(0).current();
    assert_eq!(inc.steps(), range(15));
    assert!(inc.numbering_errors.is_empty(), "{:?}", inc.numbering_errors);
    assert_eq!(inc.next_line, 16);
}

#[test]
fn a_burst_of_ten_thousand_lines_is_read_in_few_wakeups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, b"");
    let mut c = Collector::start(std::slice::from_ref(&path), inotify());
    c.wait_for("live", |c| c.files.first().is_some_and(|f| f.states == [FileState::Live]));
    let p = path.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        for s in 0..10_000 {
            f.write_all(line(s).as_bytes()).unwrap(); // one write(2) per line
        }
    });
    c.wait_for("10,000 steps", |c| c.file(0).current().steps().len() == 10_000);
    writer.join().unwrap();
    let f = c.file(0);
    assert_eq!(f.current().steps(), range(10_000));
    assert!(f.lines_events < 1_000, "{} reads for 10,000 lines", f.lines_events);
    eprintln!("10,000 single-line writes arrived in {} events", f.lines_events);
}

fn directory(opts: SourceOptions) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    append(&root.join("a").join("x.jsonl").tap_dir(), lines(0..5).as_bytes());
    std::fs::write(root.join("notes.txt"), "not a log\n").unwrap();
    let mut c = Collector::start(std::slice::from_ref(&root), opts);
    c.wait_for("a/x.jsonl", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 5));
    // A new run directory appears later, two levels down.
    let later = root.join("b").join("run2").join("metrics.json");
    std::fs::create_dir_all(later.parent().unwrap()).unwrap();
    append_in_pieces(&later, lines(0..40).as_bytes(), 100, 13);
    c.wait_for("b/run2/metrics.json", |c| c.files.len() == 2 && c.file(1).current().steps().len() == 40);
    c.settle(Duration::from_millis(300));
    assert_eq!(c.files.len(), 2, "notes.txt is not a log");
    assert_eq!(c.file(0).path, root.join("a").join("x.jsonl"));
    assert_eq!(c.file(1).path, later);
    assert_eq!(c.file(1).current().steps(), range(40));
}

#[test]
fn directory_inotify() {
    directory(inotify());
}

#[test]
fn directory_poll_only() {
    directory(polling());
}

trait TapDir {
    fn tap_dir(self) -> PathBuf;
}
impl TapDir for PathBuf {
    /// Creates the parent directory, returns the path.
    fn tap_dir(self) -> PathBuf {
        std::fs::create_dir_all(self.parent().unwrap()).unwrap();
        self
    }
}

#[test]
fn stopping_the_watcher_is_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let mut c = Collector::start(&[path], inotify());
    c.wait_for("waiting", |c| !c.files.is_empty());
    let h = c.handle.take().unwrap();
    assert!(h.is_running());
    let t0 = std::time::Instant::now();
    h.stop();
    assert!(t0.elapsed() < Duration::from_secs(2), "stop took {:?}", t0.elapsed());
}

#[test]
fn a_symlinked_log_is_followed_at_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let target = runs.join("run3.jsonl");
    append(&target, lines(0..5).as_bytes());
    let link = dir.path().join("latest.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // Polling every 60 s: only a notification from the target's directory can be this quick.
    let opts = SourceOptions { safety_poll: Duration::from_secs(60), ..SourceOptions::default() };
    let mut c = Collector::start(std::slice::from_ref(&link), opts);
    c.wait_for("first 5", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 5));
    append(&target, lines(5..10).as_bytes());
    c.wait_for("5 more through the link", |c| c.file(0).current().steps().len() == 10);
    assert_eq!(c.file(0).current().steps(), range(10));
}
