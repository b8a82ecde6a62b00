//! Feeding what the source reports into the runs, and grouping series into charts.
// TODO(lead): replace with source::apply once the source layer lands.

use super::fallback::train_names_for;
use super::{App, Group, Slot};
use crate::event::Event;
use crate::run::Run;
use crate::source::{FileState, SourceEvent};
use crate::store::Store;

impl App {
    /// Applies a data event (source, preview, progress, loaded) to the runs.
    pub(super) fn apply_data(&mut self, ev: Event) {
        let now = self.now;
        match ev {
            Event::Source(SourceEvent::Found { file, path }) => {
                let run = Run::new(path, self.opts.ingest.clone(), self.opts.flags.clone());
                self.ensure_slot(file, run);
            }
            Event::Source(SourceEvent::Lines { file, first_line, bytes }) => {
                let Some(slot) = self.slots.get_mut(file) else { return };
                let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                for (i, line) in body.split(|&b| b == b'\n').enumerate() {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    slot.run.push_line(first_line + i as u64, line);
                }
                note_data(slot, now);
            }
            Event::Source(SourceEvent::Document { file, bytes }) => {
                let Some(slot) = self.slots.get_mut(file) else { return };
                slot.run.push_document(&bytes);
                note_data(slot, now);
            }
            Event::Source(SourceEvent::Restarted { file, reason }) => {
                if let Some(slot) = self.slots.get_mut(file) {
                    slot.run.note_restart(&reason);
                }
            }
            Event::Source(SourceEvent::State { file, state }) => {
                if let Some(slot) = self.slots.get_mut(file) {
                    slot.state = state;
                }
            }
            Event::Preview { file, run } => {
                // Only until the whole file is read: a late preview must not replace it.
                if let Some(slot) = self.slots.get_mut(file).filter(|s| s.loading.is_some()) {
                    slot.run = *run;
                    slot.state = FileState::Live;
                    self.run_epoch += 1;
                }
            }
            Event::Progress { file, done, total } => {
                if let Some(slot) = self.slots.get_mut(file).filter(|s| s.loading.is_some()) {
                    slot.loading = Some((done, total));
                }
            }
            Event::Loaded { file, run, idle } => {
                if let Some(slot) = self.slots.get_mut(file) {
                    self.run_epoch += 1;
                    slot.run = *run;
                    slot.loading = None;
                    slot.state = FileState::Live;
                    note_data(slot, now);
                    slot.idle_at_open = idle;
                }
            }
            Event::Key(_) | Event::Mouse(_) | Event::Resize(..) | Event::Tick | Event::Quit => {}
        }
    }

    fn ensure_slot(&mut self, file: usize, run: Run) {
        if file < self.slots.len() {
            return;
        }
        while self.slots.len() < file {
            let placeholder = Run::new("", self.opts.ingest.clone(), self.opts.flags.clone());
            self.slots.push(Slot::new(placeholder));
        }
        self.slots.push(Slot::new(run));
    }
}

fn note_data(slot: &mut Slot, now: std::time::Duration) {
    slot.last_data = Some(now);
    if let Some(last) = slot.run.store.last_record() {
        slot.rate.note(now, last.step);
    }
    if slot.run.store.records() > 0 {
        // A run that gets data again after being opened stale is live again.
        if slot.idle_at_open.is_some_and(|i| i >= super::status::STALLED_AFTER) && slot.loading.is_none() {
            slot.idle_at_open = None;
        }
    }
}

/// Series in creation order, each eval series placed with its train partner when one exists.
pub(super) fn pair_series(store: &Store) -> Vec<Group> {
    let mut partner_of: Vec<Option<usize>> = vec![None; store.series_count()];
    let mut is_partner = vec![false; store.series_count()];
    for id in store.ids() {
        for cand in train_names_for(store.name(id)) {
            if let Some(train) = store.find(&cand).filter(|&t| t != id && partner_of[t].is_none()) {
                if !is_partner[train] {
                    partner_of[train] = Some(id);
                    is_partner[id] = true;
                    break;
                }
            }
        }
    }
    store
        .ids()
        .filter(|&id| !is_partner[id])
        .map(|id| Group { members: std::iter::once(id).chain(partner_of[id]).collect() })
        .collect()
}
