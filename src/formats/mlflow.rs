//! MLflow.
use crate::error::Error;
use crate::run::Run;
use std::path::Path;
pub const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("meta.yaml").is_file() && dir.join("metrics").is_dir()
}
pub fn load_db(path: &Path, _new_run: &dyn Fn(&Path) -> Run) -> Result<Vec<Run>, Error> {
    Err(Error::Read { path: path.to_owned(), reason: "todo".into() })
}
pub fn load_run_dir(path: &Path, _run: Run) -> Result<Run, Error> {
    Err(Error::Read { path: path.to_owned(), reason: "todo".into() })
}
