//! The stdout log kept beside a run's log: many scripts write their metrics to a JSON Lines file
//! and everything else (`print(model)`, tracebacks, progress bars) to the terminal, saved by
//! `python train.py > train.log`, `tee`, Hydra's job log or W&B's `files/output.log`. When the
//! run's own log holds no model, the model printed there is the run's ([`read`]).
//!
//! Which file counts, in the folder of the run's log (the run folder itself for a TensorBoard or
//! MLflow run folder; the first found; never the log itself):
//! [`NAMES`], then for a W&B run file (`run-<id>.wandb`) its folder's `files/output.log` (what the
//! SDK saves of the console). Only the first [`MAX_BYTES`] are read (a model is printed before
//! training starts); a `\r` inside a line (a progress bar redrawn in place) keeps what a terminal
//! shows, the text after the last one. Reading a file can block: call this where blocking is fine
//! (a loader's thread, `tmon check`), never on the event loop.

use super::{aside::ModelLines, text, Model, Source};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// The names of a stdout log beside a run's log, in the order they are looked for.
pub const NAMES: &[&str] = &[
    "stdout.log",
    "stdout.txt",
    "output.log",
    "output.txt",
    "console.log",
    "train.log",
    "training.log",
    "log.txt",
];

/// Most bytes read of a stdout log.
pub const MAX_BYTES: u64 = 64 << 20;
/// Longest line read whole (the rest of a longer line is skipped).
const MAX_LINE: usize = 64 << 10;

/// The stdout log of the run logged at `log`, if one is there.
pub fn find(log: &Path) -> Option<PathBuf> {
    // A run folder (TensorBoard, MLflow) is its own folder.
    let folder = if log.is_dir() { Some(log) } else { log.parent() };
    let folder = folder.map(|f| if f.as_os_str().is_empty() { Path::new(".") } else { f })?;
    let own = std::fs::canonicalize(log).ok();
    let is_log = |p: &Path| own.is_some() && std::fs::canonicalize(p).ok() == own;
    let wandb = log
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("run-") && n.ends_with(".wandb"))
        .then(|| folder.join("files").join("output.log"));
    NAMES.iter().map(|n| folder.join(n)).chain(wandb).find(|p| p.is_file() && !is_log(p))
}

/// The model printed in the stdout log beside `log` (its source names that file), if there is
/// such a log and it holds a print.
pub fn read(log: &Path) -> Option<Model> {
    let path = find(log)?;
    let file = std::fs::File::open(&path).ok()?;
    let mut reader = std::io::BufReader::new(file.take(MAX_BYTES));
    let mut lines = ModelLines::default();
    let mut buf = Vec::new();
    let mut no = 0u64;
    loop {
        buf.clear();
        match read_line(&mut reader, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        no += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // What a terminal shows of a line redrawn in place.
        let shown = match memchr::memrchr(b'\r', line) {
            Some(i) => &line[i + 1..],
            None => line,
        };
        lines.offer(no, &String::from_utf8_lossy(shown));
    }
    let mut model = text::find_last(lines.lines())?;
    let line = model.source.line();
    model.source = Source::Beside { file: path.display().to_string(), line };
    Some(model)
}

/// Reads one line into `buf`, keeping at most [`MAX_LINE`] bytes of it (and its newline); returns
/// the bytes consumed (0 at the end).
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut used = 0;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(used);
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        if done && take > room {
            buf.push(b'\n');
        }
        r.consume(take);
        used += take;
        if done {
            return Ok(used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: &str = "Net(\n  (fc): Linear(in_features=4, out_features=2, bias=True)\n)\n";

    #[test]
    fn the_first_name_found_counts_never_the_log_itself() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("metrics.jsonl");
        std::fs::write(&log, "{\"step\": 1}\n").unwrap();
        assert!(read(&log).is_none());
        std::fs::write(d.path().join("train.log"), format!("starting\n{NET}")).unwrap();
        let m = read(&log).unwrap();
        assert_eq!(m.root.kind, "Net");
        assert_eq!(
            m.source,
            Source::Beside { file: d.path().join("train.log").display().to_string(), line: 2 }
        );
        std::fs::write(d.path().join("stdout.log"), "no model here\n").unwrap();
        assert_eq!(find(&log), Some(d.path().join("stdout.log")));
        assert!(read(&log).is_none());
        // A log named like a stdout log is not its own stdout log.
        let own = d.path().join("output.log");
        std::fs::write(&own, NET).unwrap();
        std::fs::remove_file(d.path().join("stdout.log")).unwrap();
        assert_eq!(find(&own), Some(d.path().join("train.log")));
    }

    #[test]
    fn progress_bars_redrawn_in_place_and_long_lines() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("metrics.jsonl");
        let bar: String = (0..5000).map(|i| format!("\r{i}/5000 [{}]", "#".repeat(i % 40))).collect();
        let long = "x".repeat(3 * MAX_LINE);
        std::fs::write(d.path().join("stdout.log"), format!("{bar}\n{long}\n{}", NET.replace('\n', "\r\n")))
            .unwrap();
        let m = read(&log).unwrap();
        assert_eq!((m.root.kind.as_str(), m.source.line()), ("Net", 3));
        assert!(!m.broken());
    }

    #[test]
    fn a_wandb_run_folder_s_console_output() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("files")).unwrap();
        std::fs::write(d.path().join("files/output.log"), NET).unwrap();
        assert_eq!(read(&d.path().join("run-abc.wandb")).unwrap().root.kind, "Net");
        assert!(read(&d.path().join("metrics.jsonl")).is_none());
        // A run folder (TensorBoard's) looks inside itself.
        std::fs::write(d.path().join("files/stdout.log"), NET).unwrap();
        assert_eq!(find(&d.path().join("files")), Some(d.path().join("files/stdout.log")));
    }
}
