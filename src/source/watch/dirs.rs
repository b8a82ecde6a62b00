//! The directories the watcher has inotify watches on: which ones, on what kind of filesystem,
//! and whether one could not be watched; these decide the [`Trust`]. Also the names that
//! followed symlinks point at, since notifications name the target.

use super::super::fs_kind::{FsKind, Trust};
use super::super::sources::Sources;
use super::super::SourceOptions;
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

fn dir_id(p: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(p).ok().map(|_| (0, 0))
    }
}

/// One watched directory: its identity when the watch was added (a directory deleted and
/// recreated loses its inotify watch and must be watched again) and its filesystem's kind.
pub(super) struct WatchedDir {
    id: Option<(u64, u64)>,
    kind: FsKind,
    /// The path as notifications spell it (`notify` makes relative paths absolute).
    abs: PathBuf,
}

/// The directories watched, and one that could not be (if any) at the last sync.
#[derive(Default)]
pub(super) struct Watches {
    dirs: HashMap<PathBuf, WatchedDir>,
    unwatched: Option<PathBuf>,
    /// File names that followed symlinks point at now, with the files' numbers (a symlink can
    /// be re-pointed, to a file of another name, after [`Sources`] noted its first target).
    targets: HashMap<OsString, Vec<usize>>,
}

impl Watches {
    /// Watches every directory `sources` needs (dropping the stale ones). Returns how many
    /// watches were added.
    pub(super) fn sync(&mut self, w: &mut notify::RecommendedWatcher, sources: &Sources) -> usize {
        self.dirs.retain(|dir, d| {
            let keep = dir_id(dir) == d.id;
            if !keep {
                let _ = w.unwatch(dir);
            }
            keep
        });
        self.unwatched = None;
        self.targets.clear();
        for t in sources.tailers() {
            let is_link = std::fs::symlink_metadata(t.path()).is_ok_and(|m| m.file_type().is_symlink());
            let target = is_link.then(|| std::fs::canonicalize(t.path()).ok()).flatten();
            if let Some(name) = target.as_deref().and_then(Path::file_name) {
                self.targets.entry(name.to_owned()).or_default().push(t.index());
            }
        }
        let mut added = 0;
        for dir in sources.watch_dirs() {
            if self.dirs.contains_key(&dir) {
                continue;
            }
            if w.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
                let abs = std::env::current_dir().map_or_else(|_| dir.clone(), |cwd| cwd.join(&dir));
                let d = WatchedDir { id: dir_id(&dir), kind: FsKind::of_path(&dir), abs };
                self.dirs.insert(dir, d);
                added += 1;
            } else if self.unwatched.is_none() {
                self.unwatched = Some(dir);
            }
        }
        added
    }

    /// `path` was deleted or moved away; if it is a watched directory, its watch went with it.
    /// Returns true then.
    pub(super) fn lost(&mut self, w: &mut notify::RecommendedWatcher, path: &Path) -> bool {
        let Some(dir) = self.dirs.iter().find(|(_, d)| d.abs == path).map(|(k, _)| k.clone()) else {
            return false;
        };
        self.dirs.remove(&dir);
        let _ = w.unwatch(&dir);
        true
    }

    pub(super) fn trust(&self, opts: &SourceOptions, lost_events: bool) -> Trust {
        let dirs = self.dirs.iter().map(|(p, d)| (p.as_path(), d.kind));
        Trust::decide(opts, true, dirs, self.unwatched.as_deref(), lost_events)
    }

    /// The followed symlinks whose target is named `name`.
    pub(super) fn by_target(&self, name: &OsStr) -> &[usize] {
        self.targets.get(name).map_or(&[], Vec::as_slice)
    }
}
