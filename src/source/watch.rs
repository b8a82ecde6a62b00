//! The watcher thread: wakes [`Sources`] when files change and hands the events to a sink.
//!
//! Wake-ups come from `notify` (inotify on Linux) watching each file's *parent directory*,
//! non-recursively, so creation, `mv` and deletion are seen as well as writes. A stat poll of
//! every file (with a search of the watched directories) runs anyway, at an interval that depends
//! on how far the notifications can be trusted ([`Trust`], decided per directory by
//! [`super::fs_kind`]):
//!
//! - every watched directory on a local filesystem, watched, with no lost events: every local
//!   write reaches inotify, so the poll is only a safety net against a missed event, every
//!   [`SourceOptions::local_safety_poll`] (30 s). Directories are searched again when a
//!   notification says something was created or renamed in them, and at that slow poll.
//! - some directory on a network filesystem (NFS, Lustre, GPFS, SMB, FUSE, 9p, Ceph, ...), whose
//!   writes from other machines inotify never hears of, or a watch that could not be added (the
//!   directory is missing, or the inotify limit is reached), or events lost in the last minute
//!   (a queue overflow, an error): every [`SourceOptions::safety_poll`] (1 s), directories
//!   searched every [`SourceOptions::rescan`] (2 s).
//! - with [`SourceOptions::poll`] set (`--poll MS`) there is no inotify at all, only the poll at
//!   that interval.
//!
//! Besides that poll, the thread wakes only for a notification, and once more [`TailOptions::settle`]
//! after files changed (a final line with no newline is taken once its file has settled). An idle
//! watcher on a local disk so wakes every 30 s.
//!
//! Bursts are coalesced: after a wake-up the thread waits [`SourceOptions::debounce`], drains
//! every queued notification, and reads everything available in one go, so a trainer writing
//! 10,000 lines a second causes at most a few hundred reads a second, each taking many lines.
//!
//! [`TailOptions::settle`]: super::TailOptions::settle

use super::fs_kind::{FsKind, Trust};
use super::sources::Sources;
use super::{SourceEvent, SourceOptions};
use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// After lost notifications (a queue overflow, an error), how long the fast poll stays on.
const LOST_EVENTS_DISTRUST: Duration = Duration::from_secs(60);

enum Wake {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// The running watcher. Dropping it (or [`SourceHandle::stop`]) stops the thread and waits for it.
#[derive(Debug)]
pub struct SourceHandle {
    stop: Arc<AtomicBool>,
    wake: Sender<Wake>,
    thread: Option<JoinHandle<()>>,
    notice: Arc<Mutex<Option<String>>>,
    status: Arc<Mutex<Status>>,
}

/// What the thread last decided: the trust and the poll interval that follows from it.
#[derive(Clone, Debug)]
struct Status {
    trust: Trust,
    interval: Duration,
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wake::Fs(_) => "Fs",
            Wake::Stop => "Stop",
        })
    }
}

impl SourceHandle {
    /// Stops the thread and waits for it to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// False once the thread has ended (stopped, or its sink refused an event).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Why inotify could not be used, if it could not (tmon then relies on the poll alone).
    pub fn notice(&self) -> Option<String> {
        self.notice.lock().ok().and_then(|n| n.clone())
    }

    /// How far file notifications are trusted now (decided again at every full poll).
    pub fn trust(&self) -> Trust {
        self.status.lock().map_or(Trust::Untrusted("unknown".into()), |s| s.trust.clone())
    }

    /// The interval of the stat poll now in force (see [`SourceHandle::trust`]).
    pub fn poll_interval(&self) -> Duration {
        self.status.lock().map_or(Duration::ZERO, |s| s.interval)
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(Wake::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Follows `paths` in a background thread, calling `sink` with each event in order. The sink
/// returns false when its consumer is gone; the thread then ends. To wrap events into another
/// type, map them in the sink: `move |ev| tx.send(Event::Source(ev)).is_ok()`.
pub fn spawn<F>(paths: &[PathBuf], opts: SourceOptions, sink: F) -> std::io::Result<SourceHandle>
where
    F: FnMut(SourceEvent) -> bool + Send + 'static,
{
    spawn_sources(Sources::new(paths, opts), sink)
}

/// [`spawn`] with events sent over a channel.
pub fn spawn_channel(
    paths: &[PathBuf],
    opts: SourceOptions,
) -> std::io::Result<(SourceHandle, Receiver<SourceEvent>)> {
    let (tx, rx) = mpsc::channel();
    let h = spawn(paths, opts, move |ev| tx.send(ev).is_ok())?;
    Ok((h, rx))
}

/// Continues following already-polled [`Sources`] in a background thread (so a caller can read
/// the existing content synchronously first, then follow).
pub fn spawn_sources<F>(sources: Sources, sink: F) -> std::io::Result<SourceHandle>
where
    F: FnMut(SourceEvent) -> bool + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let notice = Arc::new(Mutex::new(None));
    let mut watcher = None;
    if sources.options().poll.is_none() {
        let fs_tx = tx.clone();
        match notify::recommended_watcher(move |res| {
            let _ = fs_tx.send(Wake::Fs(res));
        }) {
            Ok(w) => watcher = Some(w),
            Err(e) => {
                if let Ok(mut n) = notice.lock() {
                    *n = Some(format!("file notifications unavailable ({e}); polling every second"));
                }
            }
        }
    }
    // Until the first full poll has added the watches, nothing is trusted yet.
    let trust = match watcher {
        Some(_) => Trust::Untrusted("not watching yet".into()),
        None => Trust::PollOnly,
    };
    let interval = trust.interval(sources.options());
    let status = Arc::new(Mutex::new(Status { trust, interval }));
    let loop_stop = stop.clone();
    let loop_status = status.clone();
    let thread = std::thread::Builder::new()
        .name("tmon-source".into())
        .spawn(move || run(sources, watcher, rx, loop_stop, loop_status, sink))?;
    Ok(SourceHandle { stop, wake: tx, thread: Some(thread), notice, status })
}


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
struct WatchedDir {
    id: Option<(u64, u64)>,
    kind: FsKind,
    /// The path as notifications spell it (`notify` makes relative paths absolute).
    abs: PathBuf,
}

/// The directories watched, and one that could not be (if any) at the last sync.
#[derive(Default)]
struct Watches {
    dirs: HashMap<PathBuf, WatchedDir>,
    unwatched: Option<PathBuf>,
}

impl Watches {
    /// Watches every directory `sources` needs (dropping the stale ones). Returns how many
    /// watches were added.
    fn sync(&mut self, w: &mut notify::RecommendedWatcher, sources: &Sources) -> usize {
        self.dirs.retain(|dir, d| {
            let keep = dir_id(dir) == d.id;
            if !keep {
                let _ = w.unwatch(dir);
            }
            keep
        });
        self.unwatched = None;
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
    fn lost(&mut self, w: &mut notify::RecommendedWatcher, path: &Path) -> bool {
        let Some(dir) = self.dirs.iter().find(|(_, d)| d.abs == path).map(|(k, _)| k.clone()) else {
            return false;
        };
        self.dirs.remove(&dir);
        let _ = w.unwatch(&dir);
        true
    }

    fn trust(&self, opts: &SourceOptions, lost_events: bool) -> Trust {
        let dirs = self.dirs.iter().map(|(p, d)| (p.as_path(), d.kind));
        Trust::decide(opts, true, dirs, self.unwatched.as_deref(), lost_events)
    }
}

/// What the notifications since the last round ask for.
#[derive(Default)]
struct Todo {
    full: bool,
    files: Vec<usize>,
    stop: bool,
    /// Notifications were lost (an error, a queue overflow).
    lost_events: bool,
    /// Paths that a notification says were deleted or moved away (maybe watched directories).
    removed: Vec<PathBuf>,
}

impl Todo {
    /// Notes what a wake-up asks for. Returns false when it asks for nothing (our own opens and
    /// reads, a change to a file not followed): no reason to wait for more.
    fn take(&mut self, w: Wake, sources: &mut Sources) -> bool {
        let ev = match w {
            Wake::Stop => {
                self.stop = true;
                return true;
            }
            Wake::Fs(Err(_)) => {
                self.full = true;
                self.lost_events = true;
                return true;
            }
            Wake::Fs(Ok(ev)) => ev,
        };
        // Our own opens and reads show up as access events: never a reason to read.
        if matches!(ev.kind, EventKind::Access(_)) {
            return false;
        }
        let mut relevant = false;
        if ev.need_rescan() {
            self.full = true;
            self.lost_events = true;
            sources.request_rescan();
            relevant = true;
        }
        let removed = matches!(ev.kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)));
        let structural = removed || matches!(ev.kind, EventKind::Create(_));
        for p in &ev.paths {
            if removed {
                self.removed.push(p.clone());
            }
            let hits = p.file_name().map_or(&[][..], |n| sources.by_name(n));
            for &i in hits {
                relevant = true;
                if !self.files.contains(&i) {
                    self.files.push(i);
                }
            }
            if hits.is_empty() && structural && sources.has_dirs() {
                sources.request_rescan();
                self.full = true;
                relevant = true;
            }
        }
        relevant
    }
}

fn run<F>(
    mut sources: Sources,
    mut watcher: Option<notify::RecommendedWatcher>,
    rx: Receiver<Wake>,
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<Status>>,
    mut sink: F,
) where
    F: FnMut(SourceEvent) -> bool,
{
    let opts = sources.options().clone();
    let mut watches = Watches::default();
    let mut watch_gen = None;
    let mut out = Vec::new();
    let mut todo = Todo { full: true, ..Default::default() };
    let mut next_full = Instant::now();
    let mut settle = Settle::new(opts.tail.settle);
    let mut lost_until: Option<Instant> = None;
    // This round was asked for by a change (a notification, bytes still waiting), not the clock.
    let mut woken = true;
    loop {
        if stop.load(Ordering::SeqCst) || todo.stop {
            return;
        }
        let now = Instant::now();
        if std::mem::take(&mut todo.lost_events) {
            lost_until = Some(now + LOST_EVENTS_DISTRUST);
        }
        if let Some(w) = watcher.as_mut() {
            for p in todo.removed.drain(..) {
                todo.full |= watches.lost(w, &p);
            }
        }
        todo.removed.clear();
        let full = std::mem::take(&mut todo.full) || now >= next_full;
        let files = std::mem::take(&mut todo.files);
        let more = if full {
            let more = sources.poll(now, &mut out);
            let mut trust = Trust::PollOnly;
            if let Some(w) = watcher.as_mut() {
                // Re-checked on every full poll: directories may appear or be recreated.
                if watches.sync(w, &sources) > 0 {
                    // What was written before a new watch was in place sent no notification.
                    todo.full = true;
                    if sources.has_dirs() {
                        sources.request_rescan();
                    }
                }
                watch_gen = Some(sources.generation());
                trust = watches.trust(&opts, lost_until.is_some_and(|t| now < t));
            }
            let interval = trust.interval(&opts);
            next_full = now + interval;
            if let Ok(mut s) = status.lock() {
                *s = Status { trust, interval };
            }
            settle.take_due(now);
            // A clock round that found something found a change no notification told of.
            if woken || !out.is_empty() {
                settle.changed(0..sources.tailers().len(), now);
            }
            more
        } else {
            let mut polled = files.clone();
            for i in settle.take_due(now) {
                if !polled.contains(&i) {
                    polled.push(i);
                }
            }
            let more = sources.poll_only(&polled, now, &mut out);
            if let Some(w) = watcher.as_mut().filter(|_| watch_gen != Some(sources.generation())) {
                todo.full |= watches.sync(w, &sources) > 0;
                watch_gen = Some(sources.generation());
            }
            settle.changed(files.iter().copied(), now);
            more
        };
        woken = false;
        for ev in out.drain(..) {
            if !sink(ev) {
                return;
            }
        }
        if more || todo.full {
            // Bytes are still waiting (or a new watch asks for one more look): go on at once,
            // but take notifications along.
            todo.full = true;
            woken = true;
            while let Ok(w) = rx.try_recv() {
                todo.take(w, &mut sources);
            }
            continue;
        }
        let due = settle.next().map_or(next_full, |t| t.min(next_full));
        match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(w) => {
                let relevant = todo.take(w, &mut sources);
                if relevant && !opts.debounce.is_zero() && !todo.stop {
                    std::thread::sleep(opts.debounce);
                }
                while let Ok(w) = rx.try_recv() {
                    todo.take(w, &mut sources);
                }
                woken = !todo.files.is_empty() || todo.full;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The files to poll once more when they have settled: a final line with no newline is taken
/// only after its file stopped growing for [`TailOptions::settle`], and when the writer stops
/// mid-line nothing else would wake the thread before the slow poll.
///
/// [`TailOptions::settle`]: super::TailOptions::settle
struct Settle {
    after: Duration,
    due: Vec<(usize, Instant)>,
}

impl Settle {
    fn new(settle: Duration) -> Self {
        // Just past the settle time, so the tailer sees it as reached.
        Settle { after: settle + Duration::from_millis(1), due: Vec::new() }
    }

    /// These files changed (or may have) at `now`.
    fn changed(&mut self, files: impl Iterator<Item = usize>, now: Instant) {
        let at = now + self.after;
        for i in files {
            match self.due.iter_mut().find(|(f, _)| *f == i) {
                Some(d) => d.1 = at,
                None => self.due.push((i, at)),
            }
        }
    }

    /// Removes and returns the files due at `now`.
    fn take_due(&mut self, now: Instant) -> Vec<usize> {
        let due = self.due.iter().filter(|(_, t)| *t <= now).map(|&(i, _)| i).collect();
        self.due.retain(|(_, t)| *t > now);
        due
    }

    fn next(&self) -> Option<Instant> {
        self.due.iter().map(|&(_, t)| t).min()
    }
}
