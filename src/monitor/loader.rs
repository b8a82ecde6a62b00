//! The opener: looks at each file once when the monitor finds it, so a big log shows its newest
//! data at once. It reads the file's size and last MiB, parses the complete lines there into a
//! preview run, and says where the last complete line ends. The source layer meanwhile streams the
//! whole history from the start into the real run; the app shows the preview until that history
//! reaches `end` (see `app::glue`). The opener never follows the file: the source does.

use super::MonitorOptions;
use crate::event::{Event, Opened};
use crate::run::Run;
use crate::source::shape::{detect, Layout};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::SystemTime;

/// The end of the file read first. Files up to this size get no preview: their history arrives
/// in one read anyway.
pub const TAIL_BYTES: u64 = 1 << 20;

/// Opens `path` on its own thread and sends [`Event::Opened`] for file number `file`.
pub fn spawn(file: usize, path: PathBuf, opts: MonitorOptions, tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new().name(format!("tmon-open-{file}")).spawn(move || {
        let info = Box::new(open(&path, &opts));
        // The loop may be gone (quit): nothing to do then.
        let _ = tx.send(Event::Opened { file, info });
    })?;
    Ok(())
}

/// Looks at `path` as it is now.
pub fn open(path: &Path, opts: &MonitorOptions) -> Opened {
    let mut out = Opened { path: path.to_owned(), size: 0, end: 0, idle: None, preview: None };
    let Ok(mut f) = File::open(path) else { return out };
    let Ok(meta) = f.metadata() else { return out };
    if !meta.is_file() {
        return out;
    }
    out.size = meta.len();
    out.idle = meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok());
    let start = out.size.saturating_sub(TAIL_BYTES);
    let mut tail = Vec::with_capacity((out.size - start) as usize);
    if f.seek(SeekFrom::Start(start)).is_err() || (&mut f).take(TAIL_BYTES).read_to_end(&mut tail).is_err() {
        // Unreadable now: the source will say more; count the history as loaded when it arrives.
        out.end = 0;
        return out;
    }
    let Some(last_nl) = memchr::memrchr(b'\n', &tail) else {
        // No complete line in the last MiB (or in a small file): nothing to preview.
        out.end = start;
        return out;
    };
    out.end = start + last_nl as u64 + 1;
    if start == 0 || !is_lines(path, &mut f) {
        return out;
    }
    // The first (cut) line of the tail is not whole.
    let Some(first_nl) = memchr::memchr(b'\n', &tail[..=last_nl]) else { return out };
    let body = &tail[first_nl + 1..last_nl];
    if body.is_empty() {
        return out;
    }
    let mut run = Run::new(path, opts.ingest.clone(), opts.flags.clone());
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        // Line numbers are unknown this far into the file: the preview counts from 1.
        run.push_line(i as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line));
    }
    out.preview = Some(run);
    out
}

/// Whether the file is JSON Lines (a whole-file document is re-read by the source, not previewed).
fn is_lines(path: &Path, f: &mut File) -> bool {
    let mut head = Vec::with_capacity(64 << 10);
    if f.seek(SeekFrom::Start(0)).is_err() || (&mut *f).take(64 << 10).read_to_end(&mut head).is_err() {
        return false;
    }
    let name = path.file_name().and_then(|n| n.to_str());
    detect(name, &head, true) == Some(Layout::Lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_big_file_gets_a_preview_of_its_complete_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.jsonl");
        let mut f = std::fs::File::create(&path).expect("create");
        let mut n = 0u64;
        while n * 40 < 2 * TAIL_BYTES {
            writeln!(f, "{{\"step\": {n}, \"loss\": 1.5}}").expect("write");
            n += 1;
        }
        write!(f, "{{\"step\": {n}, \"lo").expect("write a partial line");
        drop(f);
        let got = open(&path, &MonitorOptions::default());
        let size = std::fs::metadata(&path).expect("meta").len();
        assert_eq!(got.size, size);
        assert_eq!(got.end, size - format!("{{\"step\": {n}, \"lo").len() as u64);
        let run = got.preview.expect("a preview");
        let last = run.store.last_record().expect("records");
        assert_eq!(last.step, (n - 1) as f64, "the partial line is not in the preview");
        assert_eq!(run.store.skipped.count, 0, "the cut first line was left out");
        assert!(run.store.records() > 10_000);
    }

    #[test]
    fn small_missing_and_document_files_get_no_preview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let small = dir.path().join("small.jsonl");
        std::fs::write(&small, "{\"step\": 1}\n{\"step\": 2}\n").expect("write");
        let got = open(&small, &MonitorOptions::default());
        assert!(got.preview.is_none());
        assert_eq!((got.size, got.end), (24, 24));
        let missing = open(&dir.path().join("none.jsonl"), &MonitorOptions::default());
        assert_eq!((missing.size, missing.end), (0, 0));
        let doc = dir.path().join("trainer_state.json");
        let mut text = String::from("{\"log_history\": [\n");
        while (text.len() as u64) < 2 * TAIL_BYTES {
            text.push_str("  {\"step\": 1, \"loss\": 1.0},\n");
        }
        text.push_str("  {\"step\": 2}\n]}\n");
        std::fs::write(&doc, &text).expect("write");
        assert!(open(&doc, &MonitorOptions::default()).preview.is_none());
    }
}
