//! W&B run files.
use crate::error::Error;
use crate::run::Run;
use std::path::Path;
pub fn load(path: &Path, _run: Run) -> Result<Run, Error> {
    Err(Error::Read { path: path.to_owned(), reason: "todo".into() })
}
