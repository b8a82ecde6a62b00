//! What the notifications since the watcher thread's last round ask it to do ([`Requests`]): a
//! full round, some files looked at, a rescan, or stopping.

use super::super::sources::Sources;
use super::dirs::Watches;
use super::Wake;
use notify::event::ModifyKind;
use notify::EventKind;
use std::path::PathBuf;

/// What the notifications since the last round ask for.
#[derive(Default)]
pub(super) struct Requests {
    /// A full round: every file, the directory search when due, the watches.
    pub full: bool,
    /// The files a notification named.
    pub files: Vec<usize>,
    /// Of those, the ones a notification named for something else than a write to the file's
    /// data (a creation, rename, deletion, change of attributes): they get a full look.
    pub looked: Vec<usize>,
    pub stop: bool,
    /// Notifications were lost (an error, a queue overflow).
    pub lost_events: bool,
    /// Paths that a notification says were deleted or moved away (maybe watched directories).
    pub removed: Vec<PathBuf>,
}

impl Requests {
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
        let written = matches!(ev.kind, EventKind::Modify(ModifyKind::Data(_)));
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
                if !written && !self.looked.contains(&i) {
                    self.looked.push(i);
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
