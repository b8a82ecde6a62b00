//! View changes computed away from the loop (issue 14, "Big logs stay responsive"): on a big run,
//! smoothing every charted series again (`m`, `s`), reading them on another x axis (`x`), or
//! building the columns a frame let go of (`Esc` back to the grid) takes hundreds of milliseconds
//! to seconds. The loop asks [`App::plan_columns`] before each frame: when the frame's columns
//! are cheap to bring up to date ([`OFF_LOOP_POINTS`]) they are built inline as before; otherwise
//! the app records what it waits for ([`Recompute`]) and hands back a [`chart::ColumnsJob`] for the
//! monitor's worker, whose result comes back as [`Event::Prepared`](crate::event::Event).
//!
//! Until it arrives, each chart it covers shows the last chart computed for it (the previous
//! frame) with a "computing…" mark, so keys, the clock and new data are answered at once. The
//! newest request wins: a result whose number is not the newest one is dropped, and a view whose
//! columns become cheap again (the user went back) cancels what was pending.

use super::App;
use crate::analysis::smooth::Smoother;
use crate::chart::{self, XAxis};
use crate::store::SeriesId;

/// Above this many points of work (see `chart::Cache::work`) a frame's columns are built away
/// from the loop. Measured (`cargo bench --bench view_change`, BENCHMARKS.md): building columns
/// costs about 15-20 ns a point on this machine, so this is a few milliseconds inline.
pub const OFF_LOOP_POINTS: usize = 1 << 18;

/// What a request was for: the run (its [`chart::Data::key`]), the series, the x axis and the
/// smoother.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub key: (usize, u64),
    /// Sorted, without repeats.
    pub members: Vec<SeriesId>,
    pub x_axis: XAxis,
    pub smoother: Option<Smoother>,
}

/// The requests sent and the one the app waits for.
#[derive(Debug)]
pub struct Recompute {
    /// The number of the newest request (0: none yet).
    seq: u64,
    pending: Option<Spec>,
    /// Points of work from which a frame's columns are built away from the loop
    /// ([`OFF_LOOP_POINTS`]; tests lower it to see a small fixture go through the worker's path).
    pub threshold: usize,
}

impl Default for Recompute {
    fn default() -> Self {
        Recompute { seq: 0, pending: None, threshold: OFF_LOOP_POINTS }
    }
}

impl Recompute {
    /// The newest request's number: a worker's job whose number is older is no longer wanted.
    pub fn latest(&self) -> u64 {
        self.seq
    }

    /// What the app waits for, if anything.
    pub fn pending(&self) -> Option<&Spec> {
        self.pending.as_ref()
    }

    /// The view needs `spec` computed away from the loop: the number of the request to send, or
    /// `None` when that very request is already pending.
    pub fn want(&mut self, spec: Spec) -> Option<u64> {
        if self.pending.as_ref() == Some(&spec) {
            return None;
        }
        self.seq += 1;
        self.pending = Some(spec);
        Some(self.seq)
    }

    /// The view no longer needs what was pending (its columns are cheap again): any result in
    /// flight is stale. Returns whether something was pending.
    pub fn cancel(&mut self) -> bool {
        if self.pending.take().is_some() {
            self.seq += 1;
            return true;
        }
        false
    }

    /// A result numbered `seq` arrived: whether it is the one the app waits for (then nothing is
    /// pending any more); an older one is stale and dropped.
    pub fn accept(&mut self, seq: u64) -> bool {
        if seq != self.seq || self.pending.is_none() {
            return false;
        }
        self.pending = None;
        true
    }

    /// Whether the chart of `members` of the run `key` waits for the pending request.
    pub fn covers(&self, key: (usize, u64), members: &[SeriesId]) -> bool {
        self.pending.as_ref().is_some_and(|p| p.key == key && members.iter().any(|m| p.members.contains(m)))
    }
}

impl App {
    /// Before a frame: the columns of the charts `groups` (indices into [`App::groups`]) it will
    /// draw are built inline when that is cheap ([`App::warm_groups`]), else a job for the worker
    /// is returned (with its request number) and the charts show their last frame until its
    /// result arrives. Comparing runs, the overlay's columns are built inline as before.
    pub fn plan_columns(&mut self, groups: &[usize]) -> Option<(u64, chart::ColumnsJob)> {
        if let Some(job) = self.columns_job(groups) {
            return Some(job);
        }
        if self.recompute.pending().is_none() {
            self.warm_groups(groups);
        }
        None
    }

    fn columns_job(&mut self, groups: &[usize]) -> Option<(u64, chart::ColumnsJob)> {
        let data = if self.comparing() { None } else { self.chart_source() };
        let Some(data) = data else {
            self.recompute.cancel();
            return None;
        };
        let mut members: Vec<SeriesId> = groups
            .iter()
            .filter_map(|&g| self.groups.get(g))
            .flat_map(|g| g.members.iter().copied())
            .collect();
        members.sort_unstable();
        members.dedup();
        let (x_axis, smoother) = (self.view.x_axis, self.view.smoother());
        let work = self.cache.borrow().work(data, &members, x_axis, smoother);
        if work < self.recompute.threshold || members.is_empty() {
            self.recompute.cancel();
            return None;
        }
        let spec = Spec { key: data.key, members: members.clone(), x_axis, smoother };
        if self
            .recompute
            .pending()
            .is_some_and(|p| p.key == spec.key && p.x_axis == x_axis && p.smoother == smoother)
            && spec.members.iter().all(|m| self.recompute.pending().is_some_and(|p| p.members.contains(m)))
        {
            // Already on its way (the same view; the charts on screen are among those asked for).
            return None;
        }
        let job = chart::ColumnsJob::new(data, &members, x_axis, smoother);
        let seq = self.recompute.want(spec)?;
        Some((seq, job))
    }

    /// A worker's result (request `seq`): installed when it is the newest request's and its run
    /// is still the one on screen; a stale one is dropped. Returns whether the screen changes.
    pub(super) fn prepared(&mut self, seq: u64, prepared: chart::Prepared) -> bool {
        let Some(spec) = self.recompute.pending().cloned() else { return false };
        if !self.recompute.accept(seq) {
            return false;
        }
        let same_run = self.chart_source().is_some_and(|d| d.key == spec.key && d.key == prepared.key);
        if same_run {
            self.cache.borrow_mut().install(prepared);
        }
        true
    }

    /// Whether the chart of `members` (of the run on screen) waits for columns being computed
    /// away from the loop: it then shows its last frame, marked "computing…".
    pub fn computing(&self, members: &[SeriesId]) -> bool {
        self.recompute.pending().is_some()
            && self.chart_source().is_some_and(|d| self.recompute.covers(d.key, members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sm: f64) -> Spec {
        Spec {
            key: (0, 1),
            members: vec![0, 1],
            x_axis: XAxis::Step,
            smoother: Some(Smoother::Ema { weight: sm }),
        }
    }

    #[test]
    fn the_newest_request_wins() {
        let mut r = Recompute::default();
        let first = r.want(spec(0.9)).expect("sent");
        // The same request again is not sent twice.
        assert_eq!(r.want(spec(0.9)), None);
        let second = r.want(spec(0.99)).expect("sent");
        assert!(second > first);
        // The first result is stale: dropped, the second still pending.
        assert!(!r.accept(first));
        assert_eq!(r.pending(), Some(&spec(0.99)));
        assert!(r.accept(second));
        assert_eq!(r.pending(), None);
        // A late duplicate of an accepted result changes nothing.
        assert!(!r.accept(second));
    }

    #[test]
    fn a_cancelled_request_makes_its_result_stale() {
        let mut r = Recompute::default();
        let seq = r.want(spec(0.9)).expect("sent");
        assert!(r.cancel());
        assert!(!r.cancel());
        assert!(!r.accept(seq));
        assert!(r.latest() > seq);
        // Asking for it again sends a new request.
        let again = r.want(spec(0.9)).expect("sent");
        assert!(again > seq && r.accept(again));
    }

    #[test]
    fn covers_only_the_pending_runs_series() {
        let mut r = Recompute::default();
        assert!(!r.covers((0, 1), &[0]));
        r.want(spec(0.9));
        assert!(r.covers((0, 1), &[1, 5]));
        assert!(!r.covers((0, 1), &[5]));
        assert!(!r.covers((0, 2), &[0]), "another epoch of the run is another run");
    }
}
