//! The byte budget for the terminal: how soon a frame that only shows new data may be drawn, so
//! that following a fast run over SSH sends about `--max-output` kilobytes a second whatever the
//! line rate. A token bucket: drawing spends the frame's bytes, credit comes back at the budget's
//! rate (at most a second's worth is saved up), and a data frame waits while the credit is
//! negative, but never longer than [`STALE`] after the last frame. Frames the user asked for (a
//! key, the mouse, a resize) are drawn at once and spend like any other.

use std::time::{Duration, Instant};

/// The longest a frame with new data waits for the budget: the screen is never further behind.
pub const STALE: Duration = Duration::from_secs(1);

/// The default budget, in bytes a second (about what a slow SSH link carries without lag, and
/// under a tenth of a 2 Mbit/s one).
pub const DEFAULT_BYTES: u64 = 20_000;

#[derive(Debug, Clone)]
pub struct Budget {
    /// Bytes a second; 0 = no limit.
    rate: f64,
    /// Bytes that may be sent now (negative: owed).
    credit: f64,
    at: Instant,
}

impl Budget {
    /// A budget of `rate` bytes a second (0: no limit), starting with a second's worth of credit.
    pub fn new(rate: u64, now: Instant) -> Self {
        Budget { rate: rate as f64, credit: rate as f64, at: now }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.credit = (self.credit + dt * self.rate).min(self.rate);
        self.at = now.max(self.at);
    }

    /// A frame of `bytes` was sent at `now`.
    pub fn spend(&mut self, bytes: u64, now: Instant) {
        self.refill(now);
        self.credit -= bytes as f64;
    }

    /// When a data frame may be drawn, given the last frame's time and the frame pace: at
    /// `last + pace` when the budget has credit by then, later while it is in debt, and no later
    /// than `last + STALE` (or `last + pace` when the pace is slower than that).
    pub fn due(&self, last: Instant, pace: Duration) -> Instant {
        let earliest = last + pace;
        if self.rate <= 0.0 || self.credit >= 0.0 {
            return earliest;
        }
        let paid = self.at + Duration::from_secs_f64(-self.credit / self.rate);
        paid.clamp(earliest, last + STALE.max(pace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const PACE: Duration = Duration::from_millis(50);

    /// Frames drawn by a loop that always has new data, over `secs`, each `frame` bytes.
    fn simulate(rate: u64, frame: u64, secs: u64) -> (u64, u64) {
        let t0 = Instant::now();
        let mut b = Budget::new(rate, t0);
        let (mut last, mut frames, mut bytes) = (t0, 0, 0);
        let end = t0 + Duration::from_secs(secs);
        loop {
            let at = b.due(last, PACE);
            if at >= end {
                return (frames, bytes);
            }
            b.spend(frame, at);
            (last, frames, bytes) = (at, frames + 1, bytes + frame);
        }
    }

    #[test]
    fn small_frames_keep_the_frame_pace() {
        // 500-byte frames at 20 a second are 10 KB/s: under a 20 KB/s budget, no frame waits.
        let (frames, _) = simulate(20_000, 500, 10);
        assert!((199..=201).contains(&frames), "{frames}");
    }

    #[test]
    fn big_frames_are_spaced_to_the_budget() {
        // 5 KB frames would be 100 KB/s at the frame pace; the budget allows 4 a second.
        let (frames, bytes) = simulate(20_000, 5_000, 30);
        let rate = bytes as f64 / 30.0;
        assert!((19_000.0..=21_500.0).contains(&rate), "{rate} B/s in {frames} frames");
    }

    #[test]
    fn frames_bigger_than_the_budget_still_come_every_second() {
        let (frames, _) = simulate(20_000, 100_000, 10);
        assert!((9..=11).contains(&frames), "{frames}");
    }

    #[test]
    fn no_limit_is_the_frame_pace() {
        let (frames, _) = simulate(0, 1_000_000, 2);
        assert!((39..=41).contains(&frames), "{frames}");
    }

    #[test]
    fn credit_saved_is_at_most_a_second() {
        let t0 = Instant::now();
        let mut b = Budget::new(10_000, t0);
        // Idle for a minute: a burst of two seconds' worth still has to wait for the second half.
        let t1 = t0 + Duration::from_secs(60);
        b.spend(20_000, t1);
        let due = b.due(t1, PACE);
        assert!(due >= t1 + 990 * MS && due <= t1 + STALE, "{:?}", due - t1);
    }
}
