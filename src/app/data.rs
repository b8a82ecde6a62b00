//! Data events into the slots: the files the monitor's starter planned, what the source layer reports (applied through the live set,
//! [`LiveSet::apply`](crate::run::LiveSet::apply)), what the opener saw of each file, and the
//! histories the loader read; and the swap of a big file's preview for its history.
//!
//! Loading a big file: the opener's preview (the records of its last MiB) is shown while the
//! history is read. For a JSON Lines file given on the command line (and a file in another
//! format: event files, W&B run files, CSV, decoded there with the decoder handed over), the monitor's loader reads
//! the history up to the end of the last complete line it saw and hands over a whole run
//! ([`Event::Loaded`]); the source follows the file from that point, and the live set holds its
//! news until the history is in, then applies it, its line numbers moved past the history's. For
//! other files (documents, files found later) the source streams the history from the start into
//! the slot's [`LiveFile`](crate::run::LiveFile), and the preview goes once the bytes received
//! reach the end the opener saw. Either way lines are only ever pushed into the real run, once, in
//! order: the preview is a picture, never merged.
//!
//! A file in another format streamed that way (and any big piece of a live one) is decoded on the
//! loader's pool: its run goes there with each piece ([`Fed::Away`], [`App::take_decodes`]) and
//! comes back ([`Event::Decoded`]); meanwhile the slot shows it is loading, over a blank picture.

use super::{App, Loading, Slot};
use crate::event::{Event, History, Opened};
use crate::run::{Fed, Run};
use std::time::Instant;

/// Clock ticks without a line after which a history that ended short of the opener's `end` counts
/// as loaded.
const IDLE_TICKS_DONE: u8 = 3;

impl App {
    /// Slot `file`'s run was replaced by another: its series ids now mean other series.
    fn replaced(&mut self, file: usize) {
        self.run_epoch += 1;
        if let Some(s) = self.slots.get_mut(file) {
            s.epoch = self.run_epoch;
        }
    }

    /// The monitor clock as an `Instant` (what the stall rule works on).
    pub(super) fn instant(&self) -> Instant {
        self.epoch + self.now
    }

    /// Applies a data event (source, opener, loader) to the slots; returns the records gained.
    pub(super) fn apply_data(&mut self, ev: Event) -> usize {
        let now = self.now;
        let instant = self.instant();
        match ev {
            Event::Source(ev) => {
                let opts = &self.opts;
                let fed = self.slots.apply(ev, instant, |path| loading_slot(opts, path));
                let gained = fed.gained();
                let (file, done) = match fed {
                    Fed::Found { file, replaced } => {
                        if replaced {
                            self.replaced(file);
                        }
                        return 0;
                    }
                    Fed::Nothing | Fed::Held { .. } | Fed::State { .. } => return 0,
                    Fed::Away { file, .. } => {
                        self.sent_away(file);
                        return 0;
                    }
                    // Nothing more will come until it can be read: the header says why.
                    Fed::Unreadable { file, .. } => {
                        if !self.slots[file].live.awaits_history() && !self.slots[file].live.away() {
                            self.finish_loading(file);
                        }
                        return 0;
                    }
                    Fed::Lines { file, bytes, .. } => {
                        let loading = self.slots[file].loading.as_mut();
                        let done = loading.is_some_and(|l| {
                            l.received += bytes as u64;
                            l.idle_ticks = 0;
                            l.end.is_some_and(|end| l.received >= end)
                        });
                        (file, done)
                    }
                    // A whole document is its whole history; a restart starts a new one.
                    Fed::Document { file, .. } | Fed::Restarted { file } => (file, true),
                };
                let slot = &mut self.slots[file];
                if done {
                    self.finish_loading(file);
                } else if gained > 0 && slot.loading.is_none() {
                    note_data(slot, now);
                }
                gained
            }
            Event::Planned { file, path, history } => {
                let opts = &self.opts;
                let found = crate::source::SourceEvent::Found { file, path };
                if let Fed::Found { replaced: true, .. } =
                    self.slots.apply(found, instant, |path| loading_slot(opts, path))
                {
                    self.run_epoch += 1;
                }
                if history {
                    self.history_from_loader(file);
                }
                0
            }
            Event::Opened { file, info } => {
                self.opened(file, *info);
                0
            }
            Event::Progress { file, bytes } => {
                if let Some(l) = self.slots.get_mut(file).and_then(|s| s.loading.as_mut()) {
                    l.received = bytes;
                }
                0
            }
            Event::Loaded { file, history, columns } => self.loaded(file, *history, columns),
            Event::Decoded { file, back } => self.decoded(file, *back),
            Event::Key(_)
            | Event::Mouse(_)
            | Event::Resize(..)
            | Event::Tick
            | Event::Quit
            | Event::Suspend
            | Event::Continue
            | Event::Exported(_)
            | Event::Prepared { .. } => 0,
        }
    }

    fn opened(&mut self, file: usize, info: Opened) {
        let Some(slot) = self.slots.get_mut(file) else { return };
        // Only the first report about the file that is still loading counts.
        if slot.live.run.path != info.path {
            return;
        }
        // A run away with a decode job finishes loading once it is back.
        let from_loader = slot.live.awaits_history() || slot.live.away();
        if slot.file_config != info.config {
            slot.file_config = info.config;
            self.config_gen += 1;
        }
        slot.model_beside = info.model_beside.map(|m| std::rc::Rc::new(*m));
        let slot = &mut self.slots[file];
        let Some(l) = slot.loading.as_mut().filter(|l| l.end.is_none()) else { return };
        l.end = Some(info.end);
        l.total = info.size;
        slot.idle_at_open = info.idle;
        if l.received >= info.end && !from_loader {
            self.finish_loading(file);
        } else if info.preview.is_some() {
            l.preview = info.preview;
            self.replaced(file);
        }
    }

    /// The loader read the history: it becomes the slot's run, and what the source read after it
    /// (held meanwhile) follows. Returns the records gained.
    /// With it, `columns`: the columns of its charted series, built by the loader (installed
    /// as the run's; what the source read after the history extends them at the next frame).
    fn loaded(
        &mut self,
        file: usize,
        history: History,
        columns: Option<Box<crate::chart::Prepared>>,
    ) -> usize {
        let instant = self.instant();
        let Some(slot) = self.slots.get_mut(file) else { return 0 };
        if slot.loading.is_none() || !slot.live.awaits_history() {
            return 0;
        }
        let held = slot.live.take_history(history, instant);
        let mut gained = slot.live.run.store.records();
        self.replaced(file);
        self.finish_loading(file);
        for ev in held {
            gained += self.apply_data(Event::Source(ev));
        }
        // Columns of values at display precision only: a run narrowed later (`App::refresh`)
        // would no longer be the data they were built from.
        let slot = &self.slots[file];
        if let Some(c) = columns.filter(|_| slot.live.run.store.display_precision()) {
            self.cache.borrow_mut().install_as(*c, (file, slot.epoch));
        }
        gained
    }

    /// Slot `file`'s run went to a decode job with a piece of its file (see
    /// [`LiveSet::set_offload`](crate::run::LiveSet::set_offload)): the job waits for the loop to
    /// hand it to a thread ([`App::take_decodes`]), and the slot shows it is reading until the run is back
    /// (a blank picture in its place: the run is not here to draw, and a run that came back
    /// between two pieces of a long history is not flashed between them).
    fn sent_away(&mut self, file: usize) {
        let comparing = self.comparing();
        let Some(slot) = self.slots.get_mut(file) else { return };
        let Some(mut job) = slot.live.take_job() else { return };
        let n = job.len() as u64;
        if comparing {
            job.compact();
        }
        self.decodes.push((file, job));
        let r = &slot.live.run;
        let mut blank = Run::new(r.path.clone(), Default::default(), Default::default());
        blank.info = r.info.clone();
        match slot.loading.as_mut() {
            Some(l) if l.preview.is_none() => l.preview = Some(blank),
            Some(_) => {}
            // A live run catching up with a big piece (a rewritten CSV, a writer far ahead).
            None => {
                slot.loading =
                    Some(Loading { total: n, end: Some(n), preview: Some(blank), ..Default::default() })
            }
        }
        self.replaced(file);
    }

    /// A decode job is done: the run is back in its slot, and the events held meanwhile follow
    /// (the next big piece among them goes away again). Returns the records gained.
    fn decoded(&mut self, file: usize, back: crate::run::live::Decoded) -> usize {
        let (now, instant) = (self.now, self.instant());
        let Some(slot) = self.slots.get_mut(file) else { return 0 };
        let (mut gained, bytes, held) = slot.live.take_back(back, instant);
        let done = slot.loading.as_mut().is_some_and(|l| {
            l.received += bytes as u64;
            l.idle_ticks = 0;
            l.end.is_some_and(|end| l.received >= end)
        });
        if done {
            self.finish_loading(file);
        } else if let Some(l) = slot.loading.as_mut() {
            l.back_at = Some(now);
        } else if gained > 0 {
            note_data(slot, now);
        }
        self.replaced(file);
        for ev in held {
            gained += self.apply_data(Event::Source(ev));
        }
        gained
    }

    /// The decode jobs made since the last call, each with the slot it goes back to
    /// ([`Event::Decoded`]): the loop hands them to its loader's pool.
    pub fn take_decodes(&mut self) -> Vec<(usize, crate::run::live::DecodeJob)> {
        std::mem::take(&mut self.decodes)
    }

    /// Bytes the loop took from the source but has not decoded yet (away with decode jobs, or
    /// held meanwhile): the source counts them as in flight.
    pub fn parked_bytes(&self) -> usize {
        self.slots.parked()
    }

    /// Pieces of files in other formats are decoded on other threads ([`App::take_decodes`]):
    /// the monitor's loop answers keys while a big history decodes.
    pub fn set_offload(&mut self, on: bool) {
        self.slots.set_offload(on);
    }

    /// The history of `file` will come from the monitor's loader (call before the source
    /// starts): the source's lines about the file wait for it.
    pub fn history_from_loader(&mut self, file: usize) {
        if let Some(slot) = self.slots.get_mut(file).filter(|s| s.loading.is_some()) {
            slot.live.await_history();
        }
    }

    /// The history is in: the real run replaces the preview.
    fn finish_loading(&mut self, file: usize) {
        let Some(slot) = self.slots.get_mut(file) else { return };
        let Some(l) = slot.loading.take() else { return };
        if l.preview.is_some() {
            self.replaced(file);
        }
        let now = self.now;
        let slot = &mut self.slots[file];
        if slot.live.run.store.records() > 0 {
            // The history is not news: a file that was stale when opened stays "ended".
            let idle = slot.idle_at_open;
            note_data(slot, now);
            slot.idle_at_open = idle;
        }
    }

    /// When a decoder's held step is due (see [`crate::run::LiveSet::held_until`]), on the
    /// monitor clock ([`App::now`]'s).
    pub fn held_until(&self) -> Option<std::time::Duration> {
        let held = self.slots.held_until().map(|t| t.saturating_duration_since(self.epoch));
        // And when a history decoded off the loop is due to count as in (see `SETTLE`).
        let settled = self.slots.iter().filter_map(settles_at).min();
        held.into_iter().chain(settled).min()
    }

    /// Feeds the held steps that are due now (a paused writer's last step). True when a run
    /// gained records.
    pub fn feed_held(&mut self) -> bool {
        let now = self.now;
        let settled: Vec<usize> =
            (0..self.slots.len()).filter(|&i| settles_at(&self.slots[i]).is_some_and(|t| now >= t)).collect();
        for &i in &settled {
            self.finish_loading(i);
        }
        let fed = self.slots.feed_held(self.instant());
        for &i in &fed {
            let slot = &mut self.slots[i];
            if slot.loading.is_none() {
                note_data(slot, now);
            }
        }
        if !fed.is_empty() {
            self.run_epoch += 1;
            // Worked out again before the next frame (see `App::settle`).
            self.unsettled = true;
        }
        !fed.is_empty() || !settled.is_empty()
    }

    /// The clock: the wall-clock stall of every run, and the safety net of loading. True when
    /// something shown changed.
    pub(super) fn tick(&mut self) -> bool {
        let mut changed = self.slots.tick(self.instant());
        let mut finished = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            // A run away with a decode job is back when it is done, however long that takes.
            let from_loader = slot.live.awaits_history() || slot.live.away();
            if let Some(l) = slot.loading.as_mut().filter(|l| l.end.is_some() && !from_loader) {
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
}

/// When a slot's history, decoded off the loop, counts as in: [`super::SETTLE`] after the run
/// last came back, unless it is away again.
fn settles_at(slot: &Slot) -> Option<std::time::Duration> {
    let back = slot.loading.as_ref()?.back_at?;
    (!slot.live.away()).then_some(back + super::SETTLE)
}

/// A slot for a file just found, loading until its history is in.
fn loading_slot(opts: &super::Options, path: &std::path::Path) -> Slot {
    let mut slot = Slot::new(Run::new(path, opts.ingest.clone(), opts.flags.clone()));
    slot.loading = Some(Loading::default());
    slot
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
