//! [`LiveRun`]: a [`Run`] fed by the source layer, with its wall-clock stall and file state. The
//! UI and `tmon check --follow` keep one per file and hand it every event about that file.

use super::stall::{LiveStall, StallConfig};
use super::{apply, FileState, SourceEvent};
use crate::run::Run;
use std::time::Instant;

/// One followed file: what was read, and what is known about the file itself.
#[derive(Debug)]
pub struct LiveRun {
    pub run: Run,
    pub stall: LiveStall,
    /// The last state reported (`Waiting` until the file is seen).
    pub state: FileState,
    /// Restarts seen (truncation, replacement, recreation).
    pub restarts: usize,
}

impl LiveRun {
    pub fn new(run: Run, stall: StallConfig) -> Self {
        LiveRun { run, stall: LiveStall::new(stall), state: FileState::Waiting, restarts: 0 }
    }

    /// Applies one event about this file at `now`; returns the records gained.
    pub fn apply(&mut self, ev: &SourceEvent, now: Instant) -> usize {
        match ev {
            SourceEvent::State { state, .. } => self.state = *state,
            SourceEvent::Restarted { .. } => self.restarts += 1,
            _ => {}
        }
        let n = apply(&mut self.run, ev);
        self.stall.arrived(&mut self.run, n, now);
        n
    }

    /// Checks the wall-clock stall (call about once a second). True when a flag was raised.
    pub fn tick(&mut self, now: Instant) -> bool {
        self.stall.check(&mut self.run, now)
    }
}
