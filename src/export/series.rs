//! A series' points as an export reads them: their x on a chart's axis, the points within a range
//! of steps, and the smoothed values the chart engine draws (the whole series smoothed, each
//! attempt of a restarted run on its own, as `crate::chart` does).

use crate::analysis::smooth::{smooth, Smoother};
use crate::chart::{self, XAxis};
use crate::store::{SeriesId, SeriesView, Store};

/// A series' points with their x on a chart's axis (steps when the log has no time).
pub struct Points<'a> {
    pub series: SeriesView<'a>,
    /// The axis the xs are on.
    pub axis: XAxis,
    t0: f64,
}

impl<'a> Points<'a> {
    pub fn new(store: &'a Store, id: SeriesId, axis: XAxis) -> Self {
        let (axis, t0) = chart::effective_axis(store, axis);
        Points { series: store.series(id), axis, t0 }
    }

    /// x of point `i`.
    pub fn x(&self, i: usize) -> f64 {
        match self.axis {
            XAxis::Step => self.series.step(i),
            XAxis::Relative => self.series.time(i) - self.t0,
            XAxis::Wall => self.series.time(i),
        }
    }

    /// Whether point `i`'s step is within `[from, to]` (an open end when `None`).
    pub fn in_steps(&self, i: usize, from: Option<f64>, to: Option<f64>) -> bool {
        let s = self.series.step(i);
        from.is_none_or(|f| s >= f) && to.is_none_or(|t| s <= t)
    }

    /// The x range of the points whose step is within `[from, to]`, if any.
    pub fn x_range_of_steps(&self, from: Option<f64>, to: Option<f64>) -> Option<(f64, f64)> {
        let mut out: Option<(f64, f64)> = None;
        for i in (0..self.series.len()).filter(|&i| self.in_steps(i, from, to)) {
            let x = self.x(i);
            if x.is_finite() {
                out = Some(out.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
            }
        }
        out
    }

    /// The step of the last point whose x is at most `x`.
    pub fn last_step_at(&self, x: f64) -> Option<f64> {
        (0..self.series.len()).rev().find(|&i| self.x(i) <= x).map(|i| self.series.step(i))
    }

    /// The smoothed value of every point, as the chart engine smooths the series for this axis:
    /// the whole series at once, or each stretch where x does not go back on its own (a restarted
    /// run), NaN for a point whose x is not a number. `None` smooths nothing (the raw values).
    pub fn smoothed(&self, smoother: Option<Smoother>) -> Vec<f64> {
        let ys = self.series.values();
        let Some(k) = smoother else { return ys };
        let xs: Vec<f64> = (0..ys.len()).map(|i| self.x(i)).collect();
        let parts = chart::stretches(&xs);
        if parts.len() == 1 && parts[0] == (0, xs.len()) {
            return smooth(k, &xs, &ys);
        }
        if parts.len() > chart::MAX_STRETCHES {
            return smooth(k, &xs, &ys);
        }
        let mut out = vec![f64::NAN; ys.len()];
        for (a, b) in parts {
            out[a..b].copy_from_slice(&smooth(k, &xs[a..b], &ys[a..b]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Run;

    fn run(text: &str) -> Run {
        let mut run = Run::new("r.jsonl", Default::default(), Default::default());
        run.push_lines(1, text.as_bytes());
        run
    }

    #[test]
    fn a_restarted_run_is_smoothed_per_attempt() {
        let mut text = String::new();
        for (from, to, base) in [(1, 11, 10.0), (5, 15, 20.0)] {
            for step in from..to {
                text.push_str(&format!("{{\"step\": {step}, \"loss\": {base}}}\n"));
            }
        }
        let run = run(&text);
        let p = Points::new(&run.store, 0, XAxis::Step);
        let sm = p.smoothed(Some(Smoother::default()));
        assert_eq!(sm.len(), 20);
        // Constant within each attempt: the second does not start from the first one's values.
        assert!(sm[..10].iter().all(|&v| v == 10.0) && sm[10..].iter().all(|&v| v == 20.0), "{sm:?}");
        assert_eq!(p.x_range_of_steps(Some(12.0), None), Some((12.0, 14.0)));
        assert_eq!(p.last_step_at(7.5), Some(7.0));
    }

    #[test]
    fn time_axes_fall_back_to_steps_without_time() {
        let run = run("{\"step\": 3, \"loss\": 1}\n{\"step\": 4, \"loss\": 2}\n");
        let p = Points::new(&run.store, 0, XAxis::Relative);
        assert_eq!(p.axis, XAxis::Step);
        assert_eq!(p.x(1), 4.0);
        let run = run_with_time();
        let p = Points::new(&run.store, 0, XAxis::Relative);
        assert_eq!((p.axis, p.x(0), p.x(1)), (XAxis::Relative, 0.0, 2.5));
    }

    fn run_with_time() -> Run {
        run("{\"step\": 1, \"time\": 1700000000, \"loss\": 1}\n{\"step\": 2, \"time\": 1700000002.5, \"loss\": 2}\n")
    }
}
