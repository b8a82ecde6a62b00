//! Turning the paths given to `tmon check` into log files that are safe to read: directories
//! expand to the logs inside, and anything that is not a regular file (a FIFO, a socket, a device)
//! is refused before it is opened, so tmon never blocks waiting for a writer that never comes.

use crate::error::Error;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

/// The log files `path` stands for: itself when it is a regular file, the logs found inside when
/// it is a directory. Anything else, or a directory with no logs, is an error naming the path.
pub fn expand(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = fs::metadata(path).map_err(|e| read_error(path, &e))?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !meta.is_dir() {
        return Err(not_regular(path, &meta));
    }
    let found = discover(path).map_err(|e| read_error(path, &e))?;
    if found.is_empty() {
        return Err(Error::Read {
            path: path.to_owned(),
            reason: "no log files in this directory (looked for *.jsonl, *.log.json, metrics.json, \
                     scalars.json, progress.json, result.json, trainer_state.json, \
                     events.out.tfevents.*, *.wandb, metrics.csv, results.csv, mlflow.db, mlruns/, \
                     then any *.json)"
                .to_owned(),
        });
    }
    Ok(found)
}

/// Checks that `path` can be opened for reading without blocking and is still a regular file once
/// open (it may have been swapped for a FIFO since it was listed). The file is closed again: the
/// reading itself is `Run::load_file`'s.
pub fn check_readable(path: &Path) -> Result<(), Error> {
    let meta = fs::metadata(path).map_err(|e| read_error(path, &e))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta));
    }
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    let (_file, meta) = crate::source::tail::open_for_reading(path).map_err(|e| read_error(path, &e))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta));
    }
    Ok(())
}

/// A read error naming the path, with a short lower-case reason (no "(os error N)"), the same
/// the source layer gives when following.
pub fn read_error(path: &Path, e: &io::Error) -> Error {
    Error::Read { path: path.to_owned(), reason: crate::source::tail::io_reason(e) }
}

fn not_regular(path: &Path, meta: &Metadata) -> Error {
    Error::Read { path: path.to_owned(), reason: crate::source::tail::not_regular(meta) }
}

/// The log files under `dir`: the source layer's discovery, shared with the monitor.
fn discover(dir: &Path) -> io::Result<Vec<PathBuf>> {
    fs::read_dir(dir)?;
    Ok(crate::source::discover::scan(dir, crate::source::discover::MAX_DEPTH).files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_expand_to_known_log_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("run1/vis_data")).unwrap();
        fs::create_dir_all(d.join(".git")).unwrap();
        fs::write(d.join("run1/vis_data/scalars.json"), "{}\n").unwrap();
        fs::write(d.join("run1/train.jsonl"), "{}\n").unwrap();
        fs::write(d.join("run1/config.json"), "{}\n").unwrap();
        fs::write(d.join(".git/x.jsonl"), "{}\n").unwrap();
        let found = expand(d).unwrap();
        assert_eq!(found, vec![d.join("run1/train.jsonl"), d.join("run1/vis_data/scalars.json")]);
    }

    #[test]
    fn a_directory_without_known_names_falls_back_to_json_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("fruits.json"), "{}\n").unwrap();
        fs::write(dir.path().join("notes.txt"), "hi\n").unwrap();
        assert_eq!(expand(dir.path()).unwrap(), vec![dir.path().join("fruits.json")]);
    }

    #[test]
    fn an_empty_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = expand(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with(&format!("cannot read '{}': no log files", dir.path().display())), "{err}");
    }

    #[test]
    fn a_fifo_is_refused_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.jsonl");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = expand(&fifo).unwrap_err().to_string();
        assert!(err.contains("not a regular file (a FIFO)"), "{err}");
        assert!(check_readable(&fifo).is_err());
        // Found in a directory, it is not taken as a log.
        assert!(expand(dir.path()).is_err());
    }

    #[test]
    fn os_reasons_are_short_and_lower_case() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.jsonl");
        fs::write(&file, "{}\n").unwrap();
        let err = expand(&file.join("x")).unwrap_err().to_string();
        assert!(err.ends_with("': not a directory"), "{err}");
        let err = expand(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(err.ends_with("': no such file or directory"), "{err}");
    }
}
