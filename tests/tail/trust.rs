//! How often the watcher polls, by how far notifications can be trusted (`source::fs_kind`):
//! slowly when every directory is local and watched, every second when a directory is on a
//! network filesystem (forced here with `distrust_notifications`: CI has no NFS), could not be
//! watched, or lost its watch.
//!
//! A write that sends the watcher no notification is made through a hard link in a directory
//! that is not watched: inotify reports a write to the watchers of the directory it was made
//! through, so the watched directory hears nothing, as with a write from another NFS client.

use crate::support::tail::*;
use std::path::Path;
use std::time::{Duration, Instant};
use tmon::source::fs_kind::Trust;
use tmon::source::SourceOptions;

/// Options whose slow poll is too slow to explain anything a test sees.
fn slow_local() -> SourceOptions {
    SourceOptions { local_safety_poll: Duration::from_secs(120), ..SourceOptions::default() }
}

fn handle(c: &Collector) -> &tmon::source::SourceHandle {
    c.handle.as_ref().expect("running")
}

fn wait_trust(c: &mut Collector, what: &str, cond: impl Fn(&Trust) -> bool) {
    let t0 = Instant::now();
    while !cond(&handle(c).trust()) {
        assert!(t0.elapsed() < DEADLINE, "timed out waiting for trust {what}; it is {:?}", handle(c).trust());
        c.pump(Duration::from_millis(20));
    }
}

/// `a/run.jsonl` (followed, with two lines) and `b/run.jsonl`, a hard link to it.
fn linked(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (root.join("a"), root.join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let followed = a.join("run.jsonl");
    append(&followed, lines(0..2).as_bytes());
    let link = b.join("run.jsonl");
    std::fs::hard_link(&followed, &link).unwrap();
    (followed, link)
}

#[test]
fn a_local_directory_is_trusted_polled_slowly_and_appends_arrive_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..3).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), SourceOptions::default());
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    assert_eq!(handle(&c).poll_interval(), Duration::from_secs(30));
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 3));
    let t0 = Instant::now();
    append(&path, lines(3..5).as_bytes());
    c.wait_for("appended lines", |c| c.file(0).current().steps().len() == 5);
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}: no notification?", t0.elapsed());
    assert_eq!(c.file(0).current().steps(), range(5));
}

#[test]
fn a_write_without_notification_waits_for_the_slow_poll_or_the_next_event_when_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (followed, link) = linked(dir.path());
    let mut c = Collector::start(std::slice::from_ref(&followed), slow_local());
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 2));
    // Past the one look the watcher takes once the start has settled.
    c.settle(Duration::from_millis(1500));
    append(&link, lines(2..4).as_bytes());
    c.settle(Duration::from_secs(3));
    assert_eq!(c.file(0).current().steps(), range(2), "the write through the link was notified");
    // The next notified write brings the missed lines along.
    append(&followed, lines(4..5).as_bytes());
    c.wait_for("all lines", |c| c.file(0).current().steps().len() == 5);
    assert_eq!(c.file(0).current().steps(), range(5));
}

#[test]
fn a_distrusted_directory_is_polled_every_second_and_unnotified_writes_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let (followed, link) = linked(dir.path());
    let opts = SourceOptions { distrust_notifications: true, ..slow_local() };
    let mut c = Collector::start(std::slice::from_ref(&followed), opts);
    wait_trust(&mut c, "untrusted", |t| matches!(t, Trust::Untrusted(r) if r.contains("distrusted")));
    assert_eq!(handle(&c).poll_interval(), Duration::from_secs(1));
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 2));
    // Past the one look the watcher takes once the start has settled: only the poll is left.
    c.settle(Duration::from_millis(1500));
    let t0 = Instant::now();
    append(&link, lines(2..4).as_bytes());
    c.wait_for("lines written through the link", |c| c.file(0).current().steps().len() == 4);
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}: not the 1 s poll", t0.elapsed());
    assert_eq!(c.file(0).current().steps(), range(4));
}

#[test]
fn a_final_line_without_newline_is_taken_once_settled_without_a_poll() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    append(&path, lines(0..1).as_bytes());
    // Both polls far away: only the follow-up after the change can take the line.
    let opts = SourceOptions { safety_poll: Duration::from_secs(120), ..slow_local() };
    let mut c = Collector::start(std::slice::from_ref(&path), opts);
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 1));
    append(&path, line(1).trim_end().as_bytes());
    c.wait_for("the unterminated line", |c| c.file(0).current().steps().len() == 2);
    assert_eq!(c.file(0).current().steps(), range(2));
}

#[test]
fn a_missing_directory_is_polled_every_second_until_it_can_be_watched() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("later");
    let path = sub.join("run.jsonl");
    let mut c = Collector::start(std::slice::from_ref(&path), slow_local());
    wait_trust(&mut c, "untrusted", |t| matches!(t, Trust::Untrusted(r) if r.contains("not watched")));
    assert_eq!(handle(&c).poll_interval(), Duration::from_secs(1));
    std::fs::create_dir(&sub).unwrap();
    append(&path, lines(0..3).as_bytes());
    c.wait_for("the file in the new directory", |c| {
        c.files.first().and_then(|f| f.incarnations.last()).is_some_and(|i| i.steps().len() == 3)
    });
    wait_trust(&mut c, "local once watched", |t| *t == Trust::Local);
}

#[test]
fn a_deleted_and_recreated_directory_is_watched_again() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("run");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("log.jsonl");
    append(&path, lines(0..2).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&path), slow_local());
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    c.wait_for("history", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 2));
    std::fs::remove_dir_all(&sub).unwrap();
    wait_trust(&mut c, "untrusted while gone", |t| matches!(t, Trust::Untrusted(_)));
    std::fs::create_dir(&sub).unwrap();
    append(&path, lines(0..4).as_bytes());
    c.wait_for("the recreated file", |c| c.file(0).current().steps() == range(4));
    wait_trust(&mut c, "local again", |t| *t == Trust::Local);
    // Watched again: a new append arrives at once, well before the slow poll.
    let t0 = Instant::now();
    append(&path, lines(4..5).as_bytes());
    c.wait_for("an append", |c| c.file(0).current().steps().len() == 5);
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}", t0.elapsed());
}

#[test]
fn a_trusted_directory_finds_new_runs_by_notification_not_by_rescanning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let first = root.join("run1").join("log.jsonl");
    std::fs::create_dir(first.parent().unwrap()).unwrap();
    append(&first, lines(0..2).as_bytes());
    let mut c = Collector::start(std::slice::from_ref(&root), slow_local());
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    c.wait_for("run1", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 2));
    c.settle(Duration::from_millis(1500));
    // A new run two levels down, its file written as soon as its directory exists.
    let t0 = Instant::now();
    let later = root.join("sweep").join("run2").join("log.jsonl");
    std::fs::create_dir_all(later.parent().unwrap()).unwrap();
    append(&later, lines(0..3).as_bytes());
    c.wait_for("sweep/run2", |c| c.files.len() == 2 && c.file(1).current().steps().len() == 3);
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}: not by notification", t0.elapsed());
    // A file written later in the new directory: its watch is in place.
    append(&later, lines(3..4).as_bytes());
    c.wait_for("an append in sweep/run2", |c| c.file(1).current().steps().len() == 4);
    assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
    assert_eq!(handle(&c).trust(), Trust::Local);
}

#[test]
fn a_symlink_pointed_at_a_file_in_another_directory_is_followed_there_by_notification() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("run3"), dir.path().join("run4"));
    std::fs::create_dir(&old).unwrap();
    std::fs::create_dir(&new).unwrap();
    append(&old.join("log.jsonl"), lines(0..2).as_bytes());
    let link = dir.path().join("latest.jsonl");
    std::os::unix::fs::symlink(old.join("log.jsonl"), &link).unwrap();
    let mut c = Collector::start(std::slice::from_ref(&link), slow_local());
    wait_trust(&mut c, "local", |t| *t == Trust::Local);
    c.wait_for("run3", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 2));
    // Re-pointed atomically, as `ln -sfn` does, at a file of another name.
    let target = new.join("metrics.jsonl");
    append(&target, lines(0..3).as_bytes());
    let tmp = dir.path().join("latest.tmp");
    std::os::unix::fs::symlink(&target, &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    c.wait_for("run4", |c| c.file(0).restarts.len() == 1 && c.file(0).current().steps().len() == 3);
    c.settle(Duration::from_millis(1500));
    let t0 = Instant::now();
    append(&target, lines(3..5).as_bytes());
    c.wait_for("an append to run4", |c| c.file(0).current().steps().len() == 5);
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}: not by notification", t0.elapsed());
    assert_eq!(c.file(0).current().steps(), range(5));
}

#[test]
fn poll_only_keeps_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let c = Collector::start(
        std::slice::from_ref(&path),
        SourceOptions::with_poll(Some(Duration::from_millis(250))),
    );
    assert_eq!(handle(&c).trust(), Trust::PollOnly);
    assert_eq!(handle(&c).poll_interval(), Duration::from_millis(250));
}
