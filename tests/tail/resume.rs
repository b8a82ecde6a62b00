//! A tailer that starts where another reader left off (the monitor's loader reads the history;
//! the tailer follows from the end of it): what follows is news, numbered from 1, and a file that
//! changed in between is a restart from its start.

use crate::support::tail::*;
use std::time::Instant;
use tmon::source::{FileId, FileState, Resume, SourceEvent, Sources, TailOptions, Tailer};

fn restarts(evs: &[SourceEvent]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            SourceEvent::Restarted { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn resume_after(path: &std::path::Path) -> Resume {
    let meta = std::fs::metadata(path).unwrap();
    Resume { id: FileId::of(&meta), offset: meta.len() }
}

#[test]
fn only_what_follows_the_history_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, lines(0..100).as_bytes());
    let r = resume_after(&path);
    append(&path, lines(100..103).as_bytes());
    let mut t = Tailer::new(0, &path, TailOptions::default());
    t.resume_at(r);
    let evs = t.poll_at(Instant::now());
    assert_eq!(evs[0], SourceEvent::State { file: 0, state: FileState::Live });
    assert_eq!(lines_of(&evs), [(1, lines(100..103))]);
    assert!(restarts(&evs).is_empty());
    append(&path, lines(103..104).as_bytes());
    assert_eq!(lines_of(&t.poll_at(Instant::now())), [(4, lines(103..104))]);
}

#[test]
fn a_file_replaced_or_truncated_since_the_history_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, lines(0..10).as_bytes());
    let r = resume_after(&path);
    // Rotated away (kept, so the new file cannot get its inode back).
    std::fs::rename(&path, dir.path().join("a.jsonl.1")).unwrap();
    append(&path, lines(50..52).as_bytes());
    let mut t = Tailer::new(0, &path, TailOptions::default());
    t.resume_at(r);
    let evs = t.poll_at(Instant::now());
    assert_eq!(restarts(&evs), ["replaced"]);
    assert_eq!(lines_of(&evs), [(1, lines(50..52))], "the new file from its start");

    let path = dir.path().join("b.jsonl");
    append(&path, lines(0..10).as_bytes());
    let r = resume_after(&path);
    std::fs::File::create(&path).unwrap(); // truncates the same file
    append(&path, lines(70..71).as_bytes());
    let mut t = Tailer::new(0, &path, TailOptions::default());
    t.resume_at(r);
    let evs = t.poll_at(Instant::now());
    assert_eq!(restarts(&evs), ["truncated"]);
    assert_eq!(lines_of(&evs), [(1, lines(70..71))]);
}

#[test]
fn sources_resume_the_files_named_and_read_the_others_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    append(&a, lines(0..5).as_bytes());
    append(&b, lines(0..2).as_bytes());
    let opts =
        tmon::source::SourceOptions { resume: vec![(a.clone(), resume_after(&a))], ..Default::default() };
    let mut sources = Sources::new(&[a.clone(), b.clone()], opts);
    let evs = sources.poll_all(Instant::now());
    let of = |file: usize| -> Vec<(u64, String)> {
        lines_of(&evs.iter().filter(|e| e.file() == file).cloned().collect::<Vec<_>>())
    };
    assert!(of(0).is_empty(), "a's history was read elsewhere");
    assert_eq!(of(1), [(1, lines(0..2))]);
    append(&a, lines(5..6).as_bytes());
    let evs = sources.poll_all(Instant::now());
    assert_eq!(lines_of(&evs), [(1, lines(5..6))]);
}
