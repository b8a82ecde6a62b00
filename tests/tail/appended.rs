//! Reads without a look ([`Tailer::poll_appended`]): a file that notifications say was only
//! written to is read at its offset with no stat of its path and no compare of its head. What
//! that must never let through: a truncation, a rewrite in place that outgrew the old size between
//! two reads, a rewrite that kept the bytes before the offset (caught by the next look, within
//! [`LOOK_EVERY`]).

use crate::support::tail::*;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tmon::source::tail::{LOOK_EVERY, SEAM};
use tmon::source::{SourceEvent, SourceOptions, TailOptions, Tailer};

fn other_line(step: u64) -> String {
    format!("{{\"step\": {step}, \"loss\": {:.4}, \"note\": \"rerun\"}}\n", 2.0 / (step as f64 + 3.0))
}

/// A log holding `content`, and a tailer that made its first full round of it at the instant
/// returned (after being refused a read without a look, never having looked).
fn followed(content: &str) -> (tempfile::TempDir, PathBuf, Tailer, Instant) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    std::fs::write(&path, content).unwrap();
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let t0 = Instant::now();
    assert_eq!(t.poll_appended(t0, &mut Vec::new()), None, "never looked at: a full round first");
    assert_eq!(lines_of(&t.poll_at(t0)), [(1, content.to_owned())]);
    (dir, path, t, t0)
}

#[test]
fn an_append_is_read_at_the_offset_without_a_look_until_one_is_due() {
    let (_dir, path, mut t, t0) = followed(&lines(0..50));
    let mut out = Vec::new();
    append(&path, lines(50..60).as_bytes());
    assert_eq!(t.poll_appended(t0 + Duration::from_millis(100), &mut out), Some(false));
    assert_eq!(lines_of(&out), [(51, lines(50..60))]);
    out.clear();
    assert_eq!(t.poll_appended(t0 + Duration::from_millis(200), &mut out), Some(false), "nothing new");
    assert!(out.is_empty());
    // A line in pieces: held until its newline, numbering going on.
    let l = line(60);
    append(&path, &l.as_bytes()[..7]);
    assert_eq!(t.poll_appended(t0 + Duration::from_millis(300), &mut out), Some(false));
    assert!(out.is_empty(), "{out:?}");
    append(&path, &l.as_bytes()[7..]);
    assert_eq!(t.poll_appended(t0 + Duration::from_millis(400), &mut out), Some(false));
    assert_eq!(lines_of(&out), [(61, l)]);
    out.clear();
    // A look is due: the caller makes a full round, after which reads go on without one.
    append(&path, lines(61..62).as_bytes());
    assert_eq!(t.poll_appended(t0 + LOOK_EVERY, &mut out), None);
    assert_eq!(lines_of(&t.poll_at(t0 + LOOK_EVERY)), [(62, lines(61..62))]);
    append(&path, lines(62..63).as_bytes());
    assert_eq!(t.poll_appended(t0 + LOOK_EVERY, &mut out), Some(false));
    assert_eq!(lines_of(&out), [(63, lines(62..63))]);
}

#[test]
fn a_truncation_or_a_rewrite_that_outgrew_the_offset_is_left_to_a_full_round() {
    let (_dir, path, mut t, t0) = followed(&lines(0..50));
    let mut out = Vec::new();
    // Truncated (shorter than what was read): not read, and the full round says so.
    std::fs::write(&path, lines(0..3)).unwrap();
    assert_eq!(t.poll_appended(t0, &mut out), None);
    assert!(out.is_empty());
    let evs = t.poll_at(t0);
    assert_eq!(evs[0], SourceEvent::Restarted { file: 0, reason: "truncated".into() });
    assert_eq!(lines_of(&evs), [(1, lines(0..3))]);
    // Rewritten with "w" by a rerun that wrote more than was read: the size grew as by an append,
    // but the bytes before the offset are another run's.
    let rerun: String = (0..80).map(other_line).collect();
    std::fs::write(&path, &rerun).unwrap();
    assert_eq!(t.poll_appended(t0, &mut out), None);
    assert!(out.is_empty(), "no byte of the rerun read as an append: {out:?}");
    let evs = t.poll_at(t0);
    assert_eq!(evs[0], SourceEvent::Restarted { file: 0, reason: "rewritten".into() });
    assert_eq!(lines_of(&evs), [(1, rerun)]);
}

#[test]
fn a_rewrite_that_kept_the_bytes_before_the_offset_is_caught_by_the_next_look() {
    // The one rewrite a read without a look cannot tell from an append: the rerun's bytes before
    // the offset are the old ones, at the same place, but its first line differs. What follows is
    // read as an append until the next look (within `LOOK_EVERY`), which compares the head and
    // starts the rerun over from its first line.
    let first = format!("{{\"run\": \"aaaa\"}}\n{}", lines(0..50));
    let (_dir, path, mut t, t0) = followed(&first);
    let rerun = format!("{{\"run\": \"bbbb\"}}\n{}{}", lines(0..50), lines(50..52));
    assert_eq!(rerun.len() - lines(50..52).len(), first.len());
    assert!(first.len() > SEAM);
    std::fs::write(&path, &rerun).unwrap();
    let mut out = Vec::new();
    assert_eq!(t.poll_appended(t0 + Duration::from_millis(10), &mut out), Some(false));
    assert_eq!(lines_of(&out), [(52, lines(50..52))]);
    out.clear();
    assert_eq!(t.poll_appended(t0 + LOOK_EVERY, &mut out), None, "a look is due");
    let evs = t.poll_at(t0 + LOOK_EVERY);
    assert_eq!(evs[0], SourceEvent::Restarted { file: 0, reason: "rewritten".into() });
    assert_eq!(lines_of(&evs), [(1, rerun)]);
}

#[test]
fn a_log_appended_line_by_line_then_rewritten_longer_keeps_every_record_of_both_runs() {
    // Through the watcher and inotify: the appends are notified writes (read without a look),
    // and so is the rerun's truncation and its writes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, "").unwrap();
    let mut c = Collector::start(std::slice::from_ref(&path), SourceOptions::default());
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    for s in 0..40 {
        f.write_all(line(s).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    c.wait_for("the first run", |c| c.files.first().is_some_and(|f| f.current().steps().len() == 40));
    drop(f);
    let mut g = std::fs::File::create(&path).unwrap();
    let rerun: String = (0..100).map(other_line).collect();
    g.write_all(rerun.as_bytes()).unwrap();
    for s in 100..120 {
        g.write_all(other_line(s).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    c.wait_for("the rerun", |c| c.file(0).restarts.len() == 1 && c.file(0).current().steps().len() == 120);
    c.settle(Duration::from_millis(300));
    let log = c.file(0);
    assert_eq!(log.incarnations[0].steps(), range(40));
    assert_eq!(log.restarts, ["rewritten"]);
    assert_eq!(log.incarnations[1].steps(), range(120));
    assert!(String::from_utf8_lossy(&log.incarnations[1].bytes).lines().all(|l| l.contains("rerun")));
    assert!(log.incarnations.iter().all(|i| i.numbering_errors.is_empty()));
}
