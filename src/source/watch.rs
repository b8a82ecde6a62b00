//! The watcher thread: wakes [`Sources`] when files change and hands the events to a sink.
//!
//! Wake-ups come from `notify` (inotify on Linux) watching each file's *parent directory*,
//! non-recursively, so creation, `mv` and deletion are seen as well as writes. A stat poll runs
//! every [`SourceOptions::safety_poll`] anyway, because inotify never hears about writes made by
//! another machine on NFS, Lustre or GPFS. With [`SourceOptions::poll`] set there is no inotify
//! at all, only the poll at that interval.
//!
//! Bursts are coalesced: after a wake-up the thread waits [`SourceOptions::debounce`], drains
//! every queued notification, and reads everything available in one go, so a trainer writing
//! 10,000 lines a second causes at most a few hundred reads a second, each taking many lines.

use super::sources::Sources;
use super::{SourceEvent, SourceOptions};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

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
    let loop_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name("tmon-source".into())
        .spawn(move || run(sources, watcher, rx, loop_stop, sink))?;
    Ok(SourceHandle { stop, wake: tx, thread: Some(thread), notice })
}

/// Directories watched, with the identity they had when the watch was added (a directory deleted
/// and recreated loses its inotify watch and must be watched again).
type Watched = HashMap<PathBuf, Option<(u64, u64)>>;

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

fn sync_watches(w: &mut notify::RecommendedWatcher, sources: &Sources, watched: &mut Watched) {
    watched.retain(|dir, id| {
        let keep = dir_id(dir) == *id;
        if !keep {
            let _ = w.unwatch(dir);
        }
        keep
    });
    for dir in sources.watch_dirs() {
        if !watched.contains_key(&dir) && w.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
            let id = dir_id(&dir);
            watched.insert(dir, id);
        }
    }
}

/// What the notifications since the last round ask for.
#[derive(Default)]
struct Todo {
    full: bool,
    files: Vec<usize>,
    stop: bool,
}

impl Todo {
    fn take(&mut self, w: Wake, sources: &mut Sources) {
        let ev = match w {
            Wake::Stop => {
                self.stop = true;
                return;
            }
            Wake::Fs(Err(_)) => {
                self.full = true;
                return;
            }
            Wake::Fs(Ok(ev)) => ev,
        };
        // Our own opens and reads show up as access events: never a reason to read.
        if matches!(ev.kind, EventKind::Access(_)) {
            return;
        }
        if ev.need_rescan() {
            self.full = true;
            sources.request_rescan();
        }
        let structural = matches!(ev.kind, EventKind::Create(_) | EventKind::Remove(_))
            || matches!(ev.kind, EventKind::Modify(notify::event::ModifyKind::Name(_)));
        for p in &ev.paths {
            let hits = p.file_name().map_or(&[][..], |n| sources.by_name(n));
            for &i in hits {
                if !self.files.contains(&i) {
                    self.files.push(i);
                }
            }
            if hits.is_empty() && structural && sources.has_dirs() {
                sources.request_rescan();
                self.full = true;
            }
        }
    }
}

fn run<F>(
    mut sources: Sources,
    mut watcher: Option<notify::RecommendedWatcher>,
    rx: Receiver<Wake>,
    stop: Arc<AtomicBool>,
    mut sink: F,
) where
    F: FnMut(SourceEvent) -> bool,
{
    let opts = sources.options().clone();
    let interval = opts.poll.unwrap_or(opts.safety_poll);
    let mut watched = Watched::new();
    let mut watch_gen = None;
    let mut out = Vec::new();
    let mut todo = Todo { full: true, ..Default::default() };
    let mut next_full = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) || todo.stop {
            return;
        }
        let now = Instant::now();
        let more = if todo.full || now >= next_full {
            next_full = now + interval;
            let more = sources.poll(now, &mut out);
            if let Some(w) = watcher.as_mut() {
                // Re-checked on every full poll: directories may appear or be recreated.
                sync_watches(w, &sources, &mut watched);
                watch_gen = Some(sources.generation());
            }
            more
        } else {
            let more = sources.poll_only(&todo.files, now, &mut out);
            if let Some(w) = watcher.as_mut().filter(|_| watch_gen != Some(sources.generation())) {
                sync_watches(w, &sources, &mut watched);
                watch_gen = Some(sources.generation());
            }
            more
        };
        todo.full = false;
        todo.files.clear();
        for ev in out.drain(..) {
            if !sink(ev) {
                return;
            }
        }
        if more {
            // Bytes are still waiting: read on at once, but take notifications along.
            todo.full = true;
            while let Ok(w) = rx.try_recv() {
                todo.take(w, &mut sources);
            }
            continue;
        }
        let timeout = next_full.saturating_duration_since(Instant::now());
        match rx.recv_timeout(timeout) {
            Ok(w) => {
                todo.take(w, &mut sources);
                if !opts.debounce.is_zero() && !todo.stop {
                    std::thread::sleep(opts.debounce);
                }
                while let Ok(w) = rx.try_recv() {
                    todo.take(w, &mut sources);
                }
            }
            Err(RecvTimeoutError::Timeout) => todo.full = true,
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
