//! What the watcher thread has to do next: what the notifications since its last round ask for
//! ([`Todo`]), and which files to look at once more when they have settled ([`Settle`]).

use super::super::sources::Sources;
use super::dirs::Watches;
use super::Wake;
use notify::event::ModifyKind;
use notify::EventKind;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the notifications since the last round ask for.
#[derive(Default)]
pub(super) struct Todo {
    /// A full round: every file, the directory search when due, the watches.
    pub full: bool,
    /// The files a notification named.
    pub files: Vec<usize>,
    pub stop: bool,
    /// Notifications were lost (an error, a queue overflow).
    pub lost_events: bool,
    /// Paths that a notification says were deleted or moved away (maybe watched directories).
    pub removed: Vec<PathBuf>,
}

impl Todo {
    /// Notes what a wake-up asks for. Returns false when it asks for nothing (our own opens and
    /// reads, a change to a file not followed): no reason to wait for more.
    pub fn take(&mut self, w: Wake, sources: &mut Sources, watches: &Watches) -> bool {
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
            let name = p.file_name().unwrap_or_default();
            let (hits, links) = (sources.by_name(name), watches.by_target(name));
            for &i in hits.iter().chain(links) {
                relevant = true;
                if !self.files.contains(&i) {
                    self.files.push(i);
                }
            }
            if hits.is_empty() && links.is_empty() && structural && sources.has_dirs() {
                sources.request_rescan();
                self.full = true;
                relevant = true;
            }
        }
        relevant
    }
}

/// The files to poll once more when they have settled: a final line with no newline is taken
/// only after its file stopped growing for [`TailOptions::settle`], and when the writer stops
/// mid-line nothing else would wake the thread before the slow poll.
///
/// [`TailOptions::settle`]: super::super::TailOptions::settle
pub(super) struct Settle {
    after: Duration,
    due: HashMap<usize, Instant>,
}

impl Settle {
    pub fn new(settle: Duration) -> Self {
        // Just past the settle time, so the tailer sees it as reached.
        Settle { after: settle + Duration::from_millis(1), due: HashMap::new() }
    }

    /// These files changed (or may have) at `now`.
    pub fn changed(&mut self, files: impl Iterator<Item = usize>, now: Instant) {
        let at = now + self.after;
        self.due.extend(files.map(|i| (i, at)));
    }

    /// Removes and returns the files due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<usize> {
        let due = self.due.iter().filter(|(_, t)| **t <= now).map(|(&i, _)| i).collect();
        self.due.retain(|_, t| *t > now);
        due
    }

    pub fn next(&self) -> Option<Instant> {
        self.due.values().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_due_once_its_last_change_has_settled() {
        let t0 = Instant::now();
        let mut s = Settle::new(Duration::from_secs(1));
        assert_eq!(s.next(), None);
        s.changed([1, 2].into_iter(), t0);
        s.changed([2].into_iter(), t0 + Duration::from_millis(500));
        assert_eq!(s.next(), Some(t0 + Duration::from_millis(1001)));
        assert!(s.take_due(t0 + Duration::from_millis(1000)).is_empty(), "not yet settled");
        assert_eq!(s.take_due(t0 + Duration::from_millis(1001)), vec![1]);
        // File 2 changed later: it is not held back by file 1, nor taken before its own time.
        assert_eq!(s.next(), Some(t0 + Duration::from_millis(1501)));
        assert_eq!(s.take_due(t0 + Duration::from_secs(2)), vec![2]);
        assert_eq!(s.next(), None, "nothing left to wake for");
    }
}
