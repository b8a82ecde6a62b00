//! A watched file holding several streams (a database of many runs, read by its own library
//! through [`TailOptions::watch_read`]): its first stream is reported as the file itself, each
//! other one as a file of its own, found before its bytes; a replaced file starts them all over.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tmon::source::{tail, Framing, SourceEvent, SourceOptions, Sources};

/// A watched file's reader (the test's stand-in for a database): each line `key value` after
/// the cursor (a line count) is news for stream `key`.
fn read_lines(path: &Path, cursor: &mut tail::WatchCursor) -> Result<tail::WatchNews, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[cursor.at as usize..] {
        let (key, value) = line.split_once(' ').ok_or("not `key value`")?;
        parts.push((key.to_owned(), value.as_bytes().to_vec()));
    }
    cursor.at = lines.len() as u64;
    Ok(tail::WatchNews { parts, more: false })
}

fn watching() -> SourceOptions {
    let mut opts = SourceOptions::default();
    opts.tail.classify = Some(|_, head| head.starts_with(b"DB").then_some(Framing::Watch));
    opts.tail.watch_read = Some(read_lines);
    opts
}

#[test]
fn the_streams_of_a_watched_file_are_its_own_then_files_of_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("store.db");
    std::fs::write(&db, "DB header\n").expect("write");
    let other = dir.path().join("b.jsonl");
    std::fs::write(&other, "{\"step\": 1}\n").expect("write");
    let mut sources = Sources::new(&[db.clone(), other.clone()], watching());
    let bytes = |evs: &[SourceEvent]| -> Vec<(usize, String)> {
        evs.iter()
            .filter_map(|e| match e {
                SourceEvent::Bytes { file, bytes, .. } => {
                    Some((*file, String::from_utf8_lossy(bytes).into_owned()))
                }
                _ => None,
            })
            .collect()
    };
    let evs = sources.poll_all(Instant::now());
    assert_eq!(bytes(&evs), [(0, "header".to_owned())], "the first stream is the file's own");
    let mut f = std::fs::OpenOptions::new().append(true).open(&db).expect("open");
    f.write_all(b"DB more\nrun2 first\nrun3 x\n").expect("append");
    drop(f);
    let evs = sources.poll_all(Instant::now());
    assert_eq!(bytes(&evs), [(0, "more".to_owned()), (2, "first".to_owned()), (3, "x".to_owned())]);
    let found: Vec<(usize, PathBuf)> = evs
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Found { file, path } => Some((*file, path.clone())),
            _ => None,
        })
        .collect();
    let name = |k: &str| PathBuf::from(format!("{}#{k}", db.display()));
    assert_eq!(found, [(2, name("run2")), (3, name("run3"))], "numbered after the files found before");
    let at = |n: usize| evs.iter().position(|e| e.file() == n).expect("an event");
    assert!(matches!(evs[at(2)], SourceEvent::Found { .. }), "found before its bytes");
    // Replaced: every stream starts over, the streams keep their numbers.
    let new = dir.path().join("store.db.new");
    std::fs::write(&new, "DB again\n").expect("write");
    std::fs::rename(&new, &db).expect("replace");
    let evs = sources.poll_all(Instant::now());
    let restarted: Vec<usize> =
        evs.iter().filter(|&e| matches!(e, SourceEvent::Restarted { .. })).map(|e| e.file()).collect();
    assert_eq!(restarted, [0, 2, 3], "{evs:?}");
    assert_eq!(bytes(&evs), [(0, "again".to_owned())]);
    assert_eq!(sources.open_files(), sources.tailers().iter().filter(|t| t.is_open()).count());
}
