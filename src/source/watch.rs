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
//! A file that the notifications of a round name only for writes to its data is read at its
//! offset without a stat ([`super::Tailer::poll_appended`]; see [`super::tail`] for what that
//! still catches); any other notification naming it (a creation, rename, deletion or change of
//! attributes), its settle time, and every full round give it a full look.
//!
//! [`TailOptions::settle`]: super::TailOptions::settle

mod deadlines;
mod dirs;
mod requests;

use super::fs_kind::Trust;
use super::sources::Sources;
use super::{SourceEvent, SourceOptions};
use deadlines::SettleDeadlines;
use dirs::Watches;
use requests::Requests;
use std::path::PathBuf;
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
    let mut requests = Requests { full: true, ..Default::default() };
    let mut next_full = Instant::now();
    let mut settle = SettleDeadlines::new(opts.tail.settle);
    let mut lost_until: Option<Instant> = None;
    // This round was asked for by a change (a notification, bytes still waiting), not the clock.
    let mut woken = true;
    loop {
        if stop.load(Ordering::SeqCst) || requests.stop {
            return;
        }
        let now = Instant::now();
        if std::mem::take(&mut requests.lost_events) {
            lost_until = Some(now + LOST_EVENTS_DISTRUST);
        }
        if let Some(w) = watcher.as_mut() {
            for p in requests.removed.drain(..) {
                requests.full |= watches.lost(w, &p);
            }
        }
        requests.removed.clear();
        let full = std::mem::take(&mut requests.full) || now >= next_full;
        let files = std::mem::take(&mut requests.files);
        let looked = std::mem::take(&mut requests.looked);
        let more = if full {
            let more = sources.poll(now, &mut out);
            let mut trust = Trust::PollOnly;
            if let Some(w) = watcher.as_mut() {
                // Re-checked on every full poll: directories may appear or be recreated.
                if watches.sync(w, &sources) > 0 {
                    // What was written before a new watch was in place sent no notification.
                    requests.full = true;
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
            let settle_due = settle.take_due(now);
            for &i in &settle_due {
                if !polled.contains(&i) {
                    polled.push(i);
                }
            }
            // Files only written to are read without a stat; those due to settle get a full look.
            let written: Vec<usize> =
                files.iter().copied().filter(|i| !looked.contains(i) && !settle_due.contains(i)).collect();
            let more = sources.poll_only(&polled, &written, now, &mut out);
            // A file replaced may be a symlink pointed elsewhere: its new target's directory
            // needs a watch, which a full round adds.
            let replaced = out.iter().any(|e| matches!(e, SourceEvent::Restarted { .. }));
            if let Some(w) = watcher.as_mut() {
                if replaced || watch_gen != Some(sources.generation()) {
                    requests.full |= watches.sync(w, &sources) > 0;
                    watch_gen = Some(sources.generation());
                }
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
        if more || requests.full {
            // Bytes are still waiting (or a new watch asks for one more look): go on at once,
            // but take notifications along.
            requests.full = true;
            woken = true;
            while let Ok(w) = rx.try_recv() {
                requests.take(w, &mut sources, &watches);
            }
            continue;
        }
        let due = settle.next().map_or(next_full, |t| t.min(next_full));
        match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(w) => {
                let relevant = requests.take(w, &mut sources, &watches);
                if relevant && !opts.debounce.is_zero() && !requests.stop {
                    std::thread::sleep(opts.debounce);
                }
                while let Ok(w) = rx.try_recv() {
                    requests.take(w, &mut sources, &watches);
                }
                woken = !requests.files.is_empty() || requests.full;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
