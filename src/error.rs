//! The library's error type.

use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A path could not be read; the message names the path and the reason.
    #[error("cannot read '{}': {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
    /// The terminal could not be used: there is none (stdin/stdout not a terminal and no
    /// controlling terminal), or it failed (a dropped connection while drawing).
    #[error("cannot use the terminal: {0}")]
    Terminal(std::io::Error),
}

impl Error {
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        Error::Read { path: path.to_owned(), reason }
    }
}
