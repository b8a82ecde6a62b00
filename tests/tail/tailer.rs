//! The synchronous core, with the clock given: no threads, no sleeps.

use crate::support::tail::*;
use std::time::{Duration, Instant};
use tmon::source::{FileState, SourceEvent, TailOptions, Tailer};

#[test]
fn unterminated_last_line_waits_for_the_settle_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"{\"step\": 0}\n{\"step\": 1}");
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let t0 = Instant::now();
    let evs = t.poll_at(t0);
    assert_eq!(evs[0], SourceEvent::State { file: 0, state: FileState::Live });
    assert_eq!(lines_of(&evs), [(1, "{\"step\": 0}\n".to_owned())]);
    assert!(t.poll_at(t0 + Duration::from_millis(900)).is_empty(), "not settled yet");
    let evs = t.poll_at(t0 + Duration::from_millis(1000));
    assert_eq!(lines_of(&evs), [(2, "{\"step\": 1}".to_owned())]);
    // Its newline arrives later: not a new line, and numbering goes on.
    append(&path, b"\n{\"step\": 2}\n");
    let evs = t.poll_at(t0 + Duration::from_millis(5000));
    assert_eq!(lines_of(&evs), [(3, "{\"step\": 2}\n".to_owned())]);
}

#[test]
fn an_incomplete_object_is_never_taken_while_the_file_lives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"{\"step\": 0}\n{\"step\": 1, \"x\": {\"y\": 2}");
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let t0 = Instant::now();
    t.poll_at(t0);
    assert!(t.poll_at(t0 + Duration::from_secs(3600)).is_empty());
    // When the file goes away, the fragment is handed over (the ingest counts it as skipped).
    std::fs::remove_file(&path).unwrap();
    let evs = t.poll_at(t0 + Duration::from_secs(3601));
    assert_eq!(lines_of(&evs), [(2, "{\"step\": 1, \"x\": {\"y\": 2}".to_owned())]);
    assert!(evs.contains(&SourceEvent::State { file: 0, state: FileState::Gone }));
}

#[test]
fn truncation_starts_over_at_line_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, lines(0..5).as_bytes());
    let mut t = Tailer::new(3, &path, TailOptions::default());
    assert_eq!(lines_of(&t.poll_once()).len(), 1);
    std::fs::write(&path, lines(0..2)).unwrap();
    let evs = t.poll_once();
    assert_eq!(evs[0], SourceEvent::Restarted { file: 3, reason: "truncated".into() });
    assert_eq!(lines_of(&evs), [(1, lines(0..2))]);
}

#[test]
fn big_files_stream_out_in_bounded_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let content = lines(0..100_000);
    append(&path, content.as_bytes());
    let opts = TailOptions { budget: 1 << 20, ..Default::default() };
    let mut t = Tailer::new(0, &path, opts);
    let mut out = Vec::new();
    let mut rounds = 0;
    while t.poll(Instant::now(), &mut out) {
        rounds += 1;
    }
    assert!(rounds >= content.len() / (1 << 20) - 1, "{rounds} rounds for {} bytes", content.len());
    let all: String = lines_of(&out).into_iter().map(|(_, s)| s).collect();
    assert_eq!(all, content);
}

#[test]
fn a_fifo_or_a_directory_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.jsonl");
    crate::support::mkfifo(&fifo);
    let mut t = Tailer::new(0, &fifo, TailOptions::default());
    // Opening a FIFO for reading would block until a writer comes: it must not be opened, and the
    // reason is said (not "waiting").
    let reason = "not a regular file (a FIFO); tmon reads log files".to_owned();
    assert_eq!(t.poll_once(), [SourceEvent::Unreadable { file: 0, reason }]);
    assert_eq!(t.state(), Some(FileState::Unreadable));
    assert!(t.poll_once().is_empty(), "said once");
    let mut t = Tailer::new(0, dir.path(), TailOptions::default());
    let reason = "not a regular file (a directory); tmon reads log files".to_owned();
    assert_eq!(t.poll_once(), [SourceEvent::Unreadable { file: 0, reason }]);
}

#[test]
fn empty_lines_and_a_bom_keep_the_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"\xEF\xBB\xBF{\"step\": 0}\n\n{\"step\": 1}\n");
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let evs = t.poll_once();
    assert_eq!(lines_of(&evs).len(), 1);
    append(&path, b"{\"step\": 2}\n");
    assert_eq!(lines_of(&t.poll_once()), [(4, "{\"step\": 2}\n".to_owned())]);
}

#[test]
fn a_crlf_split_after_a_taken_final_line_adds_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"{\"step\": 0}");
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let t0 = Instant::now();
    t.poll_at(t0);
    assert_eq!(lines_of(&t.poll_at(t0 + Duration::from_secs(1))), [(1, "{\"step\": 0}".to_owned())]);
    append(&path, b"\r");
    assert!(lines_of(&t.poll_at(t0 + Duration::from_secs(2))).is_empty());
    assert!(lines_of(&t.poll_at(t0 + Duration::from_secs(5))).is_empty());
    append(&path, b"\n{\"step\": 1}\r\n");
    assert_eq!(lines_of(&t.poll_at(t0 + Duration::from_secs(6))), [(2, "{\"step\": 1}\r\n".to_owned())]);
}

#[test]
fn an_over_long_line_becomes_a_note_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"{\"step\": 0}\n");
    let opts = TailOptions { max_line: 4096, block: 4096, budget: 8192, ..Default::default() };
    let mut t = Tailer::new(0, &path, opts);
    t.poll_once();
    // 50 kB with no newline, written in pieces, then its end and a normal line.
    for _ in 0..10 {
        append(&path, &[b'x'; 5000]);
        t.poll_once();
    }
    append(&path, b"xxxx\n{\"step\": 2}\n");
    let evs = t.poll_once();
    let got = lines_of(&evs);
    // The note goes out when the long line ends, numbered as line 2; the next line is line 3.
    let (first, text) = &got[0];
    assert_eq!(*first, 2);
    let note = text.split('\n').next().expect("the note");
    let (reason, _, kept) = tmon::source::frame::note_parts(note.as_bytes()).expect("a note line");
    assert_eq!(
        String::from_utf8_lossy(reason),
        "a line of 50004 bytes, longer than the limit of 4096 bytes: not read"
    );
    assert!(kept.is_empty());
    assert!(text.ends_with("\n{\"step\": 2}\n"), "{text}");
    // Read from the start, the same.
    let mut t2 = Tailer::new(
        0,
        &path,
        TailOptions { max_line: 4096, block: 4096, budget: 8192, ..Default::default() },
    );
    let all = lines_of(&t2.poll_once());
    let text: String = all.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("|");
    assert!(text.contains("longer than the limit of 4096 bytes: not read"), "{text}");
    assert!(text.ends_with("{\"step\": 2}\n"), "{text}");
    assert!(all.iter().all(|(_, s)| s.len() < 5000), "no long line kept");
}

/// Following a log does not write its inode: reading what was appended leaves its access time
/// alone (under `relatime` every read after a write would set it, a journalled write per append).
#[cfg(target_os = "linux")]
#[test]
fn following_a_file_of_ours_leaves_its_access_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"{\"step\": 0}\n");
    let long_ago = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800);
    let set_atime = || {
        let f = std::fs::File::options().append(true).open(&path).unwrap();
        f.set_times(std::fs::FileTimes::new().set_accessed(long_ago)).unwrap();
    };
    set_atime();
    let accessed = || std::fs::metadata(&path).unwrap().accessed().unwrap();
    assert_eq!(accessed(), long_ago);
    let mut t = Tailer::new(0, &path, TailOptions::default());
    let t0 = Instant::now();
    assert_eq!(lines_of(&t.poll_at(t0)), [(1, "{\"step\": 0}\n".to_owned())]);
    append(&path, b"{\"step\": 1}\n");
    set_atime();
    assert_eq!(lines_of(&t.poll_at(t0 + Duration::from_millis(10))), [(2, "{\"step\": 1}\n".to_owned())]);
    assert_eq!(accessed(), long_ago, "the access time was written");
}
