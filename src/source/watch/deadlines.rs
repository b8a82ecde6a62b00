//! When the watcher thread must look at files again although no notification asks for it: once
//! each changed file has settled ([`SettleDeadlines`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The files to poll once more when they have settled: a final line with no newline is taken
/// only after its file stopped growing for [`TailOptions::settle`], and when the writer stops
/// mid-line nothing else would wake the thread before the slow poll.
///
/// [`TailOptions::settle`]: super::super::TailOptions::settle
pub(super) struct SettleDeadlines {
    after: Duration,
    due: HashMap<usize, Instant>,
}

impl SettleDeadlines {
    pub fn new(settle: Duration) -> Self {
        // Just past the settle time, so the tailer sees it as reached.
        SettleDeadlines { after: settle + Duration::from_millis(1), due: HashMap::new() }
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
        let mut s = SettleDeadlines::new(Duration::from_secs(1));
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
