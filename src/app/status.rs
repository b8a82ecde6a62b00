//! A run's status as the header shows it (live, quiet for N s, stalled, ...) and its step rate.

use crate::source::FileState;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// Without a new line for this long, a live run is "quiet".
pub const QUIET_AFTER: Duration = Duration::from_secs(5);
/// A file not written for this long when it was opened is "ended" (W&B marks a run crashed after
/// 10 minutes). A live run is "stalled" when the live stall rule would warn
/// (`analysis::LiveStall::warn_after`: 10 usual intervals, at least 5 minutes).
pub const STALLED_AFTER: Duration = Duration::from_secs(300);
/// Steps per second are measured over this window.
const RATE_WINDOW: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The history is still being read; percent done.
    Loading(u8),
    Waiting,
    Live,
    Quiet(u64),
    Stalled(u64),
    /// Not written for a long time before tmon opened it, and not since.
    Ended,
    /// The last thing the log says is an error the run died of (a traceback with no record
    /// after it), and the file has been quiet since for [`crate::follow::CRASH_HOLD`]: the same
    /// wait `check --follow` gives a crash flag before calling it fatal.
    Crashed,
    Gone,
    /// The path exists but cannot be read (the slot's `live.problem` says why).
    Unreadable,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Loading(p) => write!(f, "loading {p}%"),
            Status::Waiting => f.write_str("waiting for file"),
            Status::Live => f.write_str("live"),
            Status::Quiet(s) => write!(f, "quiet for {}", human_secs(*s)),
            Status::Stalled(s) => write!(f, "stalled for {}", human_secs(*s)),
            Status::Ended => f.write_str("ended"),
            Status::Crashed => f.write_str("crashed"),
            Status::Gone => f.write_str("file gone"),
            Status::Unreadable => f.write_str("cannot read"),
        }
    }
}

/// A silence as [`crate::text::duration`] writes it: to the second below two minutes, to the
/// minute above (`42s`, `12m`, `3h05m`), so the header changes (and the screen is redrawn) once a
/// minute rather than every second during a long silence.
pub fn human_secs(s: u64) -> String {
    let shown = if s < 120 { s } else { s - s % 60 };
    crate::text::duration(shown as f64)
}

/// The status of a file at `now`, given when data last arrived, how stale it was when opened, the
/// silence after which it counts as stalled, and whether the last thing read is an error the run
/// died of (`Analyzer::crashed`). The one place a run's status is decided: the header and the
/// runs panel both ask `App::status_of`, which asks this.
pub fn status(
    state: FileState,
    loading: Option<(u64, u64)>,
    last_data: Option<Duration>,
    idle_at_open: Option<Duration>,
    stalled_after: Duration,
    crashed: bool,
    now: Duration,
) -> Status {
    if state == FileState::Gone {
        return Status::Gone;
    }
    if state == FileState::Unreadable {
        return Status::Unreadable;
    }
    // Before the source has looked at the file, "loading" rather than "waiting".
    if let Some((done, total)) = loading {
        let pct = done.saturating_mul(100).checked_div(total).unwrap_or(0).min(99);
        return Status::Loading(pct as u8);
    }
    if state == FileState::Waiting {
        return Status::Waiting;
    }
    let Some(last) = last_data else { return if crashed { Status::Crashed } else { Status::Live } };
    let quiet = now.saturating_sub(last);
    let idle = quiet + idle_at_open.unwrap_or_default();
    // A traceback is "crashed" once the file has been quiet a moment after it: a caught error's
    // next record usually follows at once (and then it is no crash at all).
    if crashed && idle >= crate::follow::CRASH_HOLD {
        return Status::Crashed;
    }
    if idle_at_open.is_some_and(|i| i >= STALLED_AFTER) {
        Status::Ended
    } else if idle >= stalled_after {
        Status::Stalled(idle.as_secs())
    } else if idle >= QUIET_AFTER {
        Status::Quiet(idle.as_secs())
    } else {
        Status::Live
    }
}

/// Steps per second over the last few seconds of arrivals.
#[derive(Clone, Debug, Default)]
pub struct StepRate {
    samples: VecDeque<(Duration, f64)>,
}

impl StepRate {
    /// Notes that the newest step was `step` at `now`.
    pub fn note(&mut self, now: Duration, step: f64) {
        if !step.is_finite() {
            return;
        }
        if let Some(&(_, last)) = self.samples.back() {
            if step < last {
                self.samples.clear(); // a restart: the old rate means nothing
            }
        }
        self.samples.push_back((now, step));
        while self.samples.len() > 2 && now.saturating_sub(self.samples[0].0) > RATE_WINDOW {
            self.samples.pop_front();
        }
    }

    /// Steps per second, or `None` before two samples a moment apart or after a long silence.
    pub fn per_sec(&self, now: Duration) -> Option<f64> {
        let (&(t0, s0), &(t1, s1)) = (self.samples.front()?, self.samples.back()?);
        if now.saturating_sub(t1) > RATE_WINDOW {
            return Some(0.0);
        }
        let dt = (t1.saturating_sub(t0)).as_secs_f64();
        (dt >= 0.5).then(|| (s1 - s0) / dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn status_follows_the_clock() {
        let st = |now| status(FileState::Live, None, Some(S(100)), Some(S(0)), S(300), false, now);
        assert_eq!(st(S(101)), Status::Live);
        assert_eq!(st(S(107)), Status::Quiet(7));
        assert_eq!(st(S(100 + 400)), Status::Stalled(400));
        // A slow run's longer stall threshold.
        let slow = status(FileState::Live, None, Some(S(100)), None, S(600), false, S(500));
        assert_eq!(slow, Status::Quiet(400));
        assert_eq!(
            status(FileState::Live, None, Some(S(0)), Some(S(3600)), S(300), false, S(1)),
            Status::Ended
        );
        assert_eq!(status(FileState::Gone, None, None, None, S(300), false, S(1)), Status::Gone);
        let unreadable = status(FileState::Unreadable, Some((0, 0)), None, None, S(300), false, S(1));
        assert_eq!(unreadable, Status::Unreadable, "not loading, not waiting");
        let loading = status(FileState::Waiting, Some((50, 200)), None, None, S(300), false, S(1));
        assert_eq!(loading, Status::Loading(25));
        assert_eq!(status(FileState::Waiting, None, None, None, S(300), false, S(1)), Status::Waiting);
        // A traceback at the end: crashed once quiet for a moment after it, before "stalled"
        // or "ended"; while loading, still loading.
        let crashed = |now| status(FileState::Live, None, Some(S(100)), Some(S(0)), S(300), true, now);
        assert_eq!(crashed(S(101)), Status::Live);
        assert_eq!(crashed(S(104)), Status::Crashed);
        assert_eq!(crashed(S(1000)), Status::Crashed);
        let old = status(FileState::Live, None, Some(S(0)), Some(S(3600)), S(300), true, S(1));
        assert_eq!(old, Status::Crashed, "an old log that ends in a traceback");
        assert_eq!(
            status(FileState::Live, Some((1, 2)), None, None, S(300), true, S(1)),
            Status::Loading(50)
        );
        assert_eq!(Status::Quiet(7).to_string(), "quiet for 7s");
        assert_eq!(Status::Stalled(725).to_string(), "stalled for 12m");
        assert_eq!(Status::Stalled(3725).to_string(), "stalled for 1h02m");
    }

    #[test]
    fn rate_is_steps_over_seconds() {
        let mut r = StepRate::default();
        r.note(S(0), 0.0);
        assert_eq!(r.per_sec(S(0)), None);
        r.note(S(2), 20.0);
        assert_eq!(r.per_sec(S(2)), Some(10.0));
        assert_eq!(r.per_sec(S(60)), Some(0.0));
    }
}
