//! Feeding what the source layer and the opener report into the slots, and grouping series into
//! charts.
//!
//! Loading a big file: the opener's preview (the records of its last MiB) is shown while the
//! history is read. For a JSON Lines file given on the command line, the monitor's loader reads
//! the history up to the end of the last complete line it saw and hands over a whole run
//! ([`Event::Loaded`]); the source follows the file from that point, and its news waits in the
//! slot until the history is in, then follows it, its line numbers moved past the history's. For
//! other files (documents, files found later) the source streams the history from the start into
//! the slot's [`LiveRun`], and the preview goes once the bytes received reach the end the opener
//! saw. Either way lines are only ever pushed into the real run, once, in order: the preview is a
//! picture, never merged.

use super::{App, Group, Loading, Slot};
use crate::analysis::names::pair_of;
use crate::event::{Event, History, Opened};
use crate::run::Run;
use crate::source::{FileState, SourceEvent};
use crate::store::Store;
use std::time::Instant;

/// Clock ticks without a line after which a history that ended short of the opener's `end` counts
/// as loaded.
const IDLE_TICKS_DONE: u8 = 3;

impl App {
    /// The monitor clock as an `Instant` (what the stall rule works on).
    fn instant(&self) -> Instant {
        self.epoch + self.now
    }

    /// Applies a data event (source, opener) to the slots.
    pub(super) fn apply_data(&mut self, ev: Event) {
        let now = self.now;
        let instant = self.instant();
        match ev {
            Event::Source(SourceEvent::Found { file, path }) => self.ensure_slot(file, &path),
            Event::Source(ev) => {
                let file = ev.file();
                let Some(slot) = self.slots.get_mut(file) else { return };
                // Until the loader's history is in, what the source read after it waits.
                if let Some(l) = slot.loading.as_mut().filter(|l| l.from_loader) {
                    if !matches!(ev, SourceEvent::State { .. }) {
                        l.held.push(ev);
                        return;
                    }
                }
                let ev = slot.renumber(ev);
                let gained = slot.live.apply(&ev, instant);
                // Data means the file is there, whatever state was last reported.
                if matches!(ev, SourceEvent::Lines { .. } | SourceEvent::Document { .. })
                    && slot.live.state == FileState::Waiting
                {
                    slot.live.state = FileState::Live;
                }
                let mut done = false;
                match &ev {
                    SourceEvent::Lines { bytes, .. } => {
                        if let Some(l) = slot.loading.as_mut() {
                            l.received += bytes.len() as u64;
                            l.idle_ticks = 0;
                            done = l.end.is_some_and(|end| l.received >= end);
                        }
                    }
                    // A whole document is its whole history; a restart starts a new one.
                    SourceEvent::Document { .. } | SourceEvent::Restarted { .. } => done = true,
                    _ => {}
                }
                if done {
                    self.finish_loading(file);
                } else if gained > 0 && slot.loading.is_none() {
                    note_data(slot, now);
                }
            }
            Event::Opened { file, info } => self.opened(file, *info),
            Event::Progress { file, bytes } => {
                if let Some(l) = self.slots.get_mut(file).and_then(|s| s.loading.as_mut()) {
                    l.received = bytes;
                }
            }
            Event::Loaded { file, history } => self.loaded(file, *history),
            Event::Key(_) | Event::Mouse(_) | Event::Resize(..) | Event::Tick | Event::Quit => {}
        }
    }

    fn opened(&mut self, file: usize, info: Opened) {
        let Some(slot) = self.slots.get_mut(file) else { return };
        // Only the first report about the file that is still loading counts.
        if slot.live.run.path != info.path {
            return;
        }
        let Some(l) = slot.loading.as_mut().filter(|l| l.end.is_none()) else { return };
        l.end = Some(info.end);
        l.total = info.size;
        slot.idle_at_open = info.idle;
        if l.received >= info.end && !l.from_loader {
            self.finish_loading(file);
        } else if info.preview.is_some() {
            l.preview = info.preview;
            self.run_epoch += 1;
        }
    }

    /// The loader read the history: it becomes the slot's run, and what the source read after it
    /// (held meanwhile) follows.
    fn loaded(&mut self, file: usize, history: History) {
        let instant = self.instant();
        let Some(slot) = self.slots.get_mut(file) else { return };
        let Some(l) = slot.loading.as_mut().filter(|l| l.from_loader) else { return };
        l.from_loader = false;
        let held = std::mem::take(&mut l.held);
        let History { mut run, lines, error } = history;
        if let Some(e) = error {
            let reason =
                format!("reading the history stopped here ({e}): the lines up to the end are missing");
            run.store.skipped.push(lines + 1, reason, b"");
        }
        let records = run.store.records();
        slot.live.run = run;
        slot.live.stall.arrived(&mut slot.live.run, records, instant);
        slot.line_base = lines;
        self.run_epoch += 1;
        self.finish_loading(file);
        for ev in held {
            self.apply_data(Event::Source(ev));
        }
    }

    /// The history of `file` will come from the monitor's loader (call before the source
    /// starts): the source's lines about the file wait for it.
    pub fn history_from_loader(&mut self, file: usize) {
        if let Some(l) = self.slots.get_mut(file).and_then(|s| s.loading.as_mut()) {
            l.from_loader = true;
        }
    }

    /// The history is in: the real run replaces the preview.
    fn finish_loading(&mut self, file: usize) {
        let Some(slot) = self.slots.get_mut(file) else { return };
        let Some(l) = slot.loading.take() else { return };
        if l.preview.is_some() {
            self.run_epoch += 1;
        }
        if slot.live.run.store.records() > 0 {
            // The history is not news: a file that was stale when opened stays "ended".
            let idle = slot.idle_at_open;
            note_data(slot, self.now);
            slot.idle_at_open = idle;
        }
    }

    /// The clock: the wall-clock stall of every run, and the safety net of loading. True when
    /// something shown changed.
    pub(super) fn tick(&mut self) -> bool {
        let instant = self.instant();
        let mut changed = false;
        let mut finished = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            changed |= slot.live.tick(instant);
            if let Some(l) = slot.loading.as_mut().filter(|l| l.end.is_some() && !l.from_loader) {
                l.idle_ticks = l.idle_ticks.saturating_add(1);
                if l.idle_ticks >= IDLE_TICKS_DONE {
                    finished.push(i);
                }
            }
        }
        for i in finished {
            self.finish_loading(i);
            changed = true;
        }
        changed
    }

    /// A file was found: its slot, numbered as the source numbers it. A slot that was set up for
    /// another path under that number (a guess before the source reported) starts over.
    fn ensure_slot(&mut self, file: usize, path: &std::path::Path) {
        let fresh = |app: &App, path: &std::path::Path| {
            let run = Run::new(path, app.opts.ingest.clone(), app.opts.flags.clone());
            let mut slot = Slot::new(run, app.opts.stall.clone());
            slot.loading = Some(Loading::default());
            slot.live.state = FileState::Waiting;
            slot
        };
        while self.slots.len() < file {
            let placeholder = fresh(self, std::path::Path::new(""));
            self.slots.push(placeholder);
        }
        if file == self.slots.len() {
            let slot = fresh(self, path);
            self.slots.push(slot);
        } else if self.slots[file].live.run.path != path {
            self.slots[file] = fresh(self, path);
            self.run_epoch += 1;
        }
    }
}

impl Slot {
    /// Lines after a history the loader read are numbered by the source from 1; they follow it.
    fn renumber(&mut self, ev: SourceEvent) -> SourceEvent {
        match ev {
            SourceEvent::Lines { file, first_line, bytes } => {
                SourceEvent::Lines { file, first_line: first_line + self.line_base, bytes }
            }
            SourceEvent::Restarted { .. } => {
                self.line_base = 0;
                ev
            }
            ev => ev,
        }
    }
}

fn note_data(slot: &mut Slot, now: std::time::Duration) {
    slot.last_data = Some(now);
    if let Some(last) = slot.live.run.store.last_record() {
        slot.rate.note(now, last.step);
    }
    // A run that gets data again after being opened stale is live again.
    if slot.idle_at_open.is_some_and(|i| i >= super::status::STALLED_AFTER) && slot.loading.is_none() {
        slot.idle_at_open = None;
    }
}

/// Series in creation order, each eval series placed with its train partner (by
/// [`pair_of`]) when one exists.
pub(super) fn pair_series(store: &Store) -> Vec<Group> {
    let names: Vec<&str> = store.ids().map(|id| store.name(id)).collect();
    let mut partner_of: Vec<Option<usize>> = vec![None; names.len()];
    let mut is_partner = vec![false; names.len()];
    for id in store.ids() {
        if !crate::analysis::names::is_eval(names[id]) {
            continue;
        }
        let Some(train) = pair_of(names[id], &names).and_then(|n| store.find(n)) else { continue };
        if train != id && partner_of[train].is_none() && !is_partner[train] {
            partner_of[train] = Some(id);
            is_partner[id] = true;
        }
    }
    store
        .ids()
        .filter(|&id| !is_partner[id])
        .map(|id| Group { members: std::iter::once(id).chain(partner_of[id]).collect() })
        .collect()
}
