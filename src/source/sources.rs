//! [`Sources`]: the synchronous core that follows every path given to tmon (files, files that do
//! not exist yet, directories searched for logs). It owns one [`Tailer`] per file and numbers the
//! files in the order they were found. The watcher thread ([`super::watch`]) decides when to poll
//! it; tests and one-shot readers may poll it directly.

use super::discover::scan;
use super::tail::Tailer;
use super::{SourceEvent, SourceOptions};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Every followed file, and the directories searched for more.
#[derive(Debug)]
pub struct Sources {
    opts: SourceOptions,
    dir_roots: Vec<PathBuf>,
    tailers: Vec<Tailer>,
    known: HashSet<PathBuf>,
    by_name: HashMap<OsString, Vec<usize>>,
    /// Tailers whose `Found` was sent.
    announced: usize,
    scanned_dirs: Vec<PathBuf>,
    last_scan: Option<Instant>,
    rescan_requested: bool,
    /// Bumped whenever the set of files or directories changes (the watcher re-syncs on it).
    generation: u64,
    /// Tailers holding a descriptor now.
    open: usize,
    /// The streams of watched files (the runs of a database), by (file, key): the first stream of
    /// a file is reported as the file itself, each other one as a file of its own
    /// ([`Tailer::part`], found as `<path>#<key>`).
    parts: HashMap<(usize, String), usize>,
}

impl Sources {
    /// Follows `paths`: a directory is searched for log files (now and later); anything else is a
    /// file, existing or not. Nothing is read before the first poll.
    pub fn new(paths: &[PathBuf], opts: SourceOptions) -> Self {
        let mut s = Sources {
            opts,
            dir_roots: Vec::new(),
            tailers: Vec::new(),
            known: HashSet::new(),
            by_name: HashMap::new(),
            announced: 0,
            scanned_dirs: Vec::new(),
            last_scan: None,
            rescan_requested: false,
            generation: 0,
            open: 0,
            parts: HashMap::new(),
        };
        for p in paths {
            if p.is_dir() {
                s.dir_roots.push(p.clone());
            } else {
                s.add(p.clone());
            }
        }
        s.rescan(Instant::now());
        s
    }

    fn add(&mut self, path: PathBuf) {
        if !self.known.insert(path.clone()) {
            return;
        }
        let index = self.tailers.len();
        if let Some(name) = path.file_name() {
            self.by_name.entry(name.to_owned()).or_default().push(index);
            // A database in WAL mode commits to `<name>-wal` (see `Tailer`'s watched files).
            let mut wal = name.to_owned();
            wal.push("-wal");
            self.by_name.entry(wal).or_default().push(index);
        }
        // A symlinked log (`latest.jsonl -> run3.jsonl`): notifications name the target.
        if let Some(name) = link_target(&path).as_deref().and_then(Path::file_name) {
            let v = self.by_name.entry(name.to_owned()).or_default();
            if !v.contains(&index) {
                v.push(index);
            }
        }
        let mut tailer = Tailer::new(index, path, self.opts.tail.clone());
        if let Some((_, r)) = self.opts.resume.iter().find(|(p, _)| p == tailer.path()) {
            tailer.resume_at(*r);
        }
        self.tailers.push(tailer);
        self.generation += 1;
    }

    /// Searches the directories again; new log files get the next numbers.
    pub fn rescan(&mut self, now: Instant) {
        self.last_scan = Some(now);
        self.rescan_requested = false;
        if self.dir_roots.is_empty() {
            return;
        }
        let mut dirs = Vec::new();
        for root in self.dir_roots.clone() {
            let found = scan(&root, self.opts.max_depth);
            dirs.extend(found.dirs);
            for f in found.files {
                self.add(f);
            }
        }
        if dirs != self.scanned_dirs {
            self.scanned_dirs = dirs;
            self.generation += 1;
        }
    }

    /// Asks for a directory search at the next full poll (a file was created somewhere).
    pub fn request_rescan(&mut self) {
        self.rescan_requested = true;
    }

    pub fn has_dirs(&self) -> bool {
        !self.dir_roots.is_empty()
    }

    /// Polls every file (searching the directories first when due). Returns true when some file
    /// has more bytes waiting.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<SourceEvent>) -> bool {
        let due = self.last_scan.is_none_or(|t| now.saturating_duration_since(t) >= self.opts.rescan);
        if self.rescan_requested || due {
            self.rescan(now);
        }
        self.announce(out);
        let mut more = false;
        for i in 0..self.tailers.len() {
            more |= self.poll_one(i, now, out);
        }
        more
    }

    /// Polls only the files numbered in `files` (those a notification named). Those also in
    /// `written` (notifications said only that they were written to) are read without a look at
    /// their path where that settles it ([`Tailer::poll_appended`]).
    pub fn poll_only(
        &mut self,
        files: &[usize],
        written: &[usize],
        now: Instant,
        out: &mut Vec<SourceEvent>,
    ) -> bool {
        self.announce(out);
        let mut more = false;
        for &i in files {
            if i >= self.tailers.len() {
                continue;
            }
            if written.contains(&i) {
                if let Some(m) = self.tailers[i].poll_appended(now, out) {
                    more |= m;
                    continue;
                }
            }
            more |= self.poll_one(i, now, out);
        }
        more
    }

    /// Polls one file within the budget of open files: room is made first when the budget is
    /// spent, and again (with one more try) when the file could not be opened for want of a
    /// descriptor.
    fn poll_one(&mut self, i: usize, now: Instant, out: &mut Vec<SourceEvent>) -> bool {
        if self.open >= self.opts.max_open {
            self.make_room(i, self.opts.max_open * 3 / 4);
        }
        let mut more = self.poll_counted(i, now, out);
        if self.tailers[i].starved() {
            self.make_room(i, self.open / 2);
            more |= self.poll_counted(i, now, out);
        }
        more
    }

    fn poll_counted(&mut self, i: usize, now: Instant, out: &mut Vec<SourceEvent>) -> bool {
        let t = &mut self.tailers[i];
        let was = t.is_open();
        let from = out.len();
        let more = t.poll(now, out);
        match (was, t.is_open()) {
            (false, true) => self.open += 1,
            (true, false) => self.open -= 1,
            _ => {}
        }
        let parts = self.tailers[i].take_parts();
        // A watched file that started over starts its streams over too.
        let restarted: Vec<String> = out[from..]
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Restarted { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect();
        for reason in restarted {
            let mut own: Vec<usize> =
                self.parts.iter().filter(|((f, _), &n)| *f == i && n != i).map(|(_, &n)| n).collect();
            own.sort_unstable();
            out.extend(own.into_iter().map(|file| SourceEvent::Restarted { file, reason: reason.clone() }));
        }
        for (key, offset, bytes) in parts {
            let file = self.part_number(i, key, out);
            out.push(SourceEvent::Bytes { file, offset, bytes });
        }
        more
    }

    /// The number stream `key` of file `i` is reported as (a new one is announced).
    fn part_number(&mut self, i: usize, key: String, out: &mut Vec<SourceEvent>) -> usize {
        if let Some(&n) = self.parts.get(&(i, key.clone())) {
            return n;
        }
        let n = if self.parts.keys().any(|(f, _)| *f == i) {
            let mut name = self.tailers[i].path().as_os_str().to_owned();
            name.push(format!("#{key}"));
            let n = self.tailers.len();
            self.tailers.push(Tailer::part(n, PathBuf::from(name), self.opts.tail.clone()));
            self.generation += 1;
            // Found before its bytes.
            self.announce(out);
            n
        } else {
            i
        };
        self.parts.insert((i, key), n);
        n
    }

    /// Closes the handles of the files idle longest (not file `keep`) until at most `target` are
    /// open.
    fn make_room(&mut self, keep: usize, target: usize) {
        let mut open: Vec<(Option<Instant>, usize)> = self
            .tailers
            .iter()
            .enumerate()
            .filter(|(j, t)| *j != keep && t.is_open())
            .map(|(j, t)| (t.last_active(), j))
            .collect();
        open.sort_unstable();
        for (_, j) in open {
            if self.open <= target {
                break;
            }
            self.tailers[j].close_handle();
            self.open -= 1;
        }
    }

    /// Files holding a descriptor now.
    pub fn open_files(&self) -> usize {
        self.open
    }

    /// Polls until nothing more is waiting (one-shot reads and tests).
    pub fn poll_all(&mut self, now: Instant) -> Vec<SourceEvent> {
        let mut out = Vec::new();
        while self.poll(now, &mut out) {}
        out
    }

    fn announce(&mut self, out: &mut Vec<SourceEvent>) {
        for t in &self.tailers[self.announced..] {
            out.push(SourceEvent::Found { file: t.index(), path: t.path().to_owned() });
        }
        self.announced = self.tailers.len();
    }

    /// The files whose name is `name` (notifications carry paths that may be spelled differently
    /// from the ones given, e.g. `./x` for `x`, so the name is what is matched).
    pub fn by_name(&self, name: &OsStr) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn options(&self) -> &SourceOptions {
        &self.opts
    }

    pub fn tailers(&self) -> &[Tailer] {
        &self.tailers
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The directories to watch: each file's parent, and every directory searched.
    pub fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut set: BTreeSet<PathBuf> = self.scanned_dirs.iter().cloned().collect();
        for t in &self.tailers {
            let parent = t.path().parent().filter(|p| !p.as_os_str().is_empty());
            set.insert(parent.unwrap_or(Path::new(".")).to_owned());
            if let Some(dir) = link_target(t.path()).as_deref().and_then(Path::parent) {
                set.insert(dir.to_owned());
            }
        }
        set.into_iter().collect()
    }
}

/// Where `path` points when it is a symlink (writes land in the target's directory).
fn link_target(path: &Path) -> Option<PathBuf> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    is_link.then(|| std::fs::canonicalize(path).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines_of(evs: &[SourceEvent], file: usize) -> String {
        evs.iter()
            .filter_map(|e| match e {
                SourceEvent::Lines { file: f, bytes, .. } if *f == file => {
                    Some(String::from_utf8_lossy(bytes))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn more_files_than_the_budget_are_all_followed_with_few_descriptors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<PathBuf> = (0..40).map(|i| dir.path().join(format!("run{i}.jsonl"))).collect();
        for (i, p) in paths.iter().enumerate() {
            std::fs::write(p, format!("{{\"step\": 1, \"run\": {i}}}\n")).expect("write");
        }
        let opts = SourceOptions { max_open: 6, ..Default::default() };
        let mut sources = Sources::new(&paths, opts);
        let evs = sources.poll_all(Instant::now());
        for i in 0..paths.len() {
            assert_eq!(lines_of(&evs, i), format!("{{\"step\": 1, \"run\": {i}}}\n"), "file {i}");
        }
        assert!(sources.open_files() <= 6, "{} open", sources.open_files());
        let open = sources.tailers().iter().filter(|t| t.is_open()).count();
        assert_eq!(open, sources.open_files(), "the count is exact");
        // Every file grows: the closed ones are opened again, the budget still holds.
        for p in &paths {
            let mut f = std::fs::OpenOptions::new().append(true).open(p).expect("open");
            f.write_all(b"{\"step\": 2}\n").expect("append");
        }
        let evs = sources.poll_all(Instant::now());
        for i in 0..paths.len() {
            assert_eq!(lines_of(&evs, i), "{\"step\": 2}\n", "file {i}");
        }
        assert!(sources.open_files() <= 6, "{} open", sources.open_files());
        assert!(!evs
            .iter()
            .any(|e| matches!(e, SourceEvent::Restarted { .. } | SourceEvent::Unreadable { .. })));
    }
}
