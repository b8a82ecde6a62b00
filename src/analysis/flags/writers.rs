//! `writers` (info): two processes append to one log (a run launched twice into one folder, two
//! trials sharing a file), so its steps interleave two sequences: 61, 1, 62, 2, 3, 63, 4... Told
//! once, instead of a `restart` for every time the second writer's step is below the first's.
//!
//! The record steps are split into chains, each a sequence that only goes up: a record carries on
//! the current chain when its step is at or past that chain's last step and close to it (within
//! one and a half of the chain's last increment); otherwise it carries on another chain it is close to
//! (the tightest), or starts a new one (a resumed run's rewind lands below every chain). Two
//! writers show when a record whose series' step went back carries on another chain exactly
//! where that chain left off: a resumed run goes back to a checkpoint, behind where the old run
//! stopped, never just past it. One such return can be chance (a resume whose checkpoint happens
//! to be where an earlier stretch ended), so it is told only once the steps went back and forth
//! between chains [`RETURNS`] times within [`WINDOW`] records, one of them a series' step going
//! back. From then on a step going back onto a chain is no restart; a rewind to a new place
//! still is.

use super::{Finding, FlagKind, Severity};
use crate::text::step;

/// Chains remembered; beyond that the least recently used is forgotten.
const CHAINS: usize = 4;
/// A step carries on a chain when it is at most this many of the chain's increments past its end:
/// a writer's next record is one increment on (1.5 leaves room for a jittered clock step), while
/// a resume lands on a checkpoint, anywhere.
const CLOSE: f64 = 1.5;
/// Returns to another chain (back or forth) needed to tell two writers...
pub const RETURNS: usize = 3;
/// ... within this many records.
pub const WINDOW: u64 = 64;

#[derive(Clone, Copy, Debug)]
struct Chain {
    last: f64,
    /// The chain's last increment (None while it has one record).
    stride: Option<f64>,
    /// When it last took a record (for forgetting the least recently used).
    used: u64,
}

/// Where a record's step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On the chain that took the record before (or not a step at all).
    Same,
    /// Onto another chain, just past where it left off.
    Returned,
    /// To a new chain: below every chain, or far past them.
    New,
}

/// The chains of a run's record steps, and whether two writers were told.
#[derive(Clone, Debug, Default)]
pub struct Writers {
    chains: Vec<Chain>,
    current: usize,
    records: u64,
    told: bool,
    /// The records of the latest returns to another chain, oldest first.
    returns: Vec<u64>,
    /// The latest return whose series' step went back: (from, to).
    rewind: Option<(f64, f64)>,
}

impl Writers {
    /// Whether the run was found to have two writers.
    pub fn told(&self) -> bool {
        self.told
    }

    /// Places a record's step on a chain.
    pub fn place(&mut self, s: f64) -> Place {
        self.records += 1;
        if !s.is_finite() {
            return Place::Same;
        }
        if self.chains.is_empty() {
            self.chains.push(Chain { last: s, stride: None, used: self.records });
            self.current = 0;
            return Place::Same;
        }
        // The increment to judge closeness by, for a chain that has none yet: the largest known.
        let fallback = self
            .chains
            .iter()
            .filter_map(|c| c.stride)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        let close = |c: &Chain| {
            s >= c.last
                && match c.stride.or(fallback) {
                    Some(d) => s - c.last <= CLOSE * d,
                    None => true,
                }
        };
        if close(&self.chains[self.current]) {
            self.extend(self.current, s);
            return Place::Same;
        }
        let other = (0..self.chains.len())
            .filter(|&i| i != self.current && self.chains[i].last < s && close(&self.chains[i]))
            .max_by(|&a, &b| self.chains[a].last.total_cmp(&self.chains[b].last));
        if let Some(i) = other {
            self.current = i;
            self.extend(i, s);
            return Place::Returned;
        }
        if s >= self.chains[self.current].last {
            // A jump ahead on the same sequence (steps skipped, a sparse log).
            self.extend(self.current, s);
            return Place::Same;
        }
        let chain = Chain { last: s, stride: None, used: self.records };
        if self.chains.len() < CHAINS {
            self.chains.push(chain);
            self.current = self.chains.len() - 1;
        } else {
            let oldest = (0..self.chains.len()).min_by_key(|&i| self.chains[i].used).unwrap_or(0);
            self.chains[oldest] = chain;
            self.current = oldest;
        }
        Place::New
    }

    fn extend(&mut self, i: usize, s: f64) {
        let c = &mut self.chains[i];
        if s > c.last {
            c.stride = Some(s - c.last);
        }
        c.last = s;
        c.used = self.records;
    }

    /// The record carried on another chain ([`Place::Returned`]); `rewind` is (from, to) when a
    /// series' step went back with it. The first time the returns show two writers, the finding
    /// that says so, dated at the step the latest rewind went back to.
    pub fn returned(&mut self, rewind: Option<(f64, f64)>) -> Option<Finding> {
        if self.told {
            return None;
        }
        if rewind.is_some() {
            self.rewind = rewind;
        }
        if self.returns.len() == RETURNS {
            self.returns.remove(0);
        }
        self.returns.push(self.records);
        if self.returns.len() < RETURNS || self.records - self.returns[0] > WINDOW {
            return None;
        }
        let (from, to) = self.rewind?;
        self.told = true;
        Some(Finding {
            kind: FlagKind::Writers,
            severity: Severity::Info,
            began: to,
            message: format!(
                "two writers append to this log: the step goes back and forth between two sequences \
                 (from {} back to {}, where the other one left off), so its curves mix two runs; \
                 give each run its own log",
                step(from),
                step(to)
            ),
        })
    }

    /// The file started over: the chains start afresh (a second writer is told again).
    pub fn reset(&mut self) {
        *self = Writers::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(steps: &[f64]) -> Vec<Place> {
        let mut w = Writers::default();
        steps.iter().map(|&s| w.place(s)).collect()
    }

    #[test]
    fn interleaved_sequences_return_to_their_chain() {
        use Place::*;
        // A ahead at 60, B starting at 1; both going on.
        let p = places(&[58.0, 59.0, 60.0, 1.0, 61.0, 2.0, 3.0, 62.0, 4.0]);
        assert_eq!(p, vec![Same, Same, Same, New, Returned, Returned, Same, Returned, Returned]);
    }

    #[test]
    fn a_resumed_run_is_a_new_chain_and_never_returns() {
        use Place::*;
        // 0..100 by 10, crash, resume from the checkpoint at 50, past the old end.
        let mut steps: Vec<f64> = (0..=10).map(|k| k as f64 * 10.0).collect();
        steps.extend((5..=15).map(|k| k as f64 * 10.0));
        let p = places(&steps);
        assert_eq!(p[11], New);
        assert!(p.iter().filter(|x| **x == Returned).count() == 0, "{p:?}");
        // Resumed again, from 120 (behind where the second run stopped, two increments past the
        // first's end).
        let mut w = Writers::default();
        for &s in &steps {
            w.place(s);
        }
        assert_eq!(w.place(120.0), New);
    }

    #[test]
    fn eval_lines_at_the_same_step_and_sparse_steps_stay_on_the_chain() {
        let p = places(&[10.0, 20.0, 20.0, 30.0, 1000.0, 1010.0]);
        assert!(p.iter().all(|x| *x == Place::Same), "{p:?}");
    }
}
