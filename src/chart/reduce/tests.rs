//! The reducer against a slow one that reads every point (the oracle), on random, periodic and
//! restarted data; and what a chart relies on: spikes survive, the ends are exact, NaNs are marked.

use super::*;
use crate::chart::stretches;
use proptest::prelude::*;

/// The slow reducer, the oracle: one pass over every point, in index order, keeping per column the
/// first index of the smallest and of the largest plotted value and the leftmost non-finite value;
/// percentiles over every drawable value of the window. Points with an x that is not a number are
/// not drawn.
fn oracle(xs: &[f64], ys: &[f64], view: &View) -> Reduced {
    let n = xs.len().min(ys.len());
    let Some(cols) = Columns::of_view(view).filter(|_| n > 0) else { return Reduced::default() };
    let before = |a: usize, b: usize| xs[a] < xs[b] || (xs[a] == xs[b] && a < b);
    let plot = |i: usize| view.scale.map(ys[i]);
    // Per column: the index of its min, of its max, of its leftmost non-finite value.
    let mut col: Vec<[Option<usize>; 3]> = vec![[None; 3]; view.columns];
    let (mut first, mut last): (Option<usize>, Option<usize>) = (None, None);
    let mut plotted = Vec::new();
    let mut out = Reduced::default();
    for i in 0..n {
        if !(xs[i] >= cols.lo && xs[i] <= cols.hi) {
            continue;
        }
        out.in_window += 1;
        let c = &mut col[cols.of(xs[i])];
        match plot(i) {
            Some(v) => {
                plotted.push(v);
                if c[0].is_none_or(|m| v < plot(m).unwrap()) {
                    c[0] = Some(i);
                }
                if c[1].is_none_or(|m| v > plot(m).unwrap()) {
                    c[1] = Some(i);
                }
                if first.is_none_or(|f| before(i, f)) {
                    first = Some(i);
                }
                if last.is_none_or(|l| before(l, i)) {
                    last = Some(i);
                }
            }
            None if !ys[i].is_finite() && c[2].is_none_or(|f| before(i, f)) => c[2] = Some(i),
            None => {}
        }
    }
    let mut idx: Vec<usize> = first.into_iter().collect();
    for c in &col {
        if let [Some(mn), Some(mx), _] = *c {
            for i in if before(mn, mx) { [mn, mx] } else { [mx, mn] } {
                if idx.last() != Some(&i) {
                    idx.push(i);
                }
            }
        }
        if let Some(i) = c[2] {
            out.nonfinite_x.push(xs[i]);
            out.nonfinite_y.push(ys[i]);
        }
    }
    if let Some(l) = last.filter(|l| idx.last() != Some(l)) {
        idx.push(l);
    }
    out.points = idx.iter().map(|&i| (xs[i], plot(i).unwrap())).collect();
    out.y_bounds = match view.percentiles {
        None => {
            let (lo, hi) =
                plotted.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            (lo <= hi).then(|| pad(lo, hi, view.margin))
        }
        Some((p_lo, p_hi)) => bounds::percentile_bounds(&mut plotted, p_lo, p_hi, view.margin),
    };
    out
}

/// The one reducer over `xs`, split where x goes back (as the charts split a restarted run).
fn reduce_all(xs: &[f64], ys: &[f64], view: &View) -> Reduced {
    reduce(xs, ys, &Envelope::of(ys), &stretches(xs), view)
}

/// Debug text, so that NaNs compare equal.
fn same(a: &Reduced, b: &Reduced) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Checks the reducer against the oracle on every view of `views`: exactly, except for the
/// percentile bounds of a window too big to be read whole, which must lie between the oracle's
/// percentiles one point either side (a sample that aliases with periodic data does not).
fn check(what: &str, xs: &[f64], ys: &[f64], views: &[View]) {
    for view in views {
        let got = reduce_all(xs, ys, view);
        let want = oracle(xs, ys, view);
        let exact = Reduced { y_bounds: want.y_bounds, ..got.clone() };
        assert!(same(&exact, &want), "{what}, {view:?}:\n got {got:?}\nwant {want:?}");
        if view.percentiles.is_none() || want.in_window <= PERCENTILE_SAMPLE {
            assert_eq!(got.y_bounds, want.y_bounds, "{what}, {view:?}");
            continue;
        }
        let Some((p_lo, p_hi)) = view.percentiles else { unreachable!() };
        // The sampled percentiles themselves (no margin; a flat range is padded around its value).
        let (lo, hi) = reduce_all(xs, ys, &View { margin: 0.0, ..*view }).y_bounds.expect("bounds");
        let (lo, hi) = if lo < hi { (lo, hi) } else { ((lo + hi) / 2.0, (lo + hi) / 2.0) };
        let mut values: Vec<f64> = (0..xs.len().min(ys.len()))
            .filter(|&i| xs[i] >= view.x_lo.min(view.x_hi) && xs[i] <= view.x_hi.max(view.x_lo))
            .filter_map(|i| view.scale.map(ys[i]))
            .collect();
        values.sort_by(f64::total_cmp);
        let at =
            |p: f64| values[((p.clamp(0.0, 100.0) / 100.0) * (values.len() - 1) as f64).round() as usize];
        let within = |v: f64, p: f64| v >= at(p - 1.0) && v <= at(p + 1.0);
        assert!(
            within(lo, p_lo) && within(hi, p_hi),
            "{what}, {view:?}: sampled {lo}..{hi}, exact {}..{}",
            at(p_lo),
            at(p_hi)
        );
    }
}

/// A 64-bit LCG in [0, 1).
fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A noisy series with spikes, NaNs, infinities, zeros, negative values and ties, three points
/// a step.
fn noisy(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rnd = rng(12345);
    let xs: Vec<f64> = (0..n).map(|i| (i / 3) as f64).collect();
    let ys = (0..n)
        .map(|i| match i % 997 {
            5 => f64::NAN,
            6 => f64::INFINITY,
            7 => 0.0,
            8 => -3.0,
            9 => 1e6,
            10 => f64::NEG_INFINITY,
            _ if i % 13 == 0 => 2.0,
            _ => 1.0 + rnd(),
        })
        .collect();
    (xs, ys)
}

/// Views over `[0, span]`: whole and zoomed, narrow and wide, linear and log, min/max and 5-95%.
fn views(span: f64) -> Vec<View> {
    let mut out = Vec::new();
    for scale in [YScale::Linear, YScale::Log10] {
        for percentiles in [None, Some((5.0, 95.0))] {
            for (lo, hi, columns) in [
                (0.0, span, 200),
                (0.0, span, 7),
                (span * 0.4, span * 0.41, 37),
                (span * 0.9, span * 2.0, 120),
                (-5.0, 3.0, 8),
                (0.0, 0.0, 5),
                (span * 2.0, span * 3.0, 10),
            ] {
                out.push(View { x_lo: lo, x_hi: hi, columns, scale, percentiles, margin: 0.1 });
            }
        }
    }
    out
}

#[test]
fn the_reducer_agrees_with_the_oracle_on_random_data() {
    let (xs, ys) = noisy(60_000);
    check("noisy", &xs, &ys, &views(20_000.0));
    // Random walks at several lengths, the window's length not a multiple of anything.
    for (seed, n) in [(1, 1), (2, 63), (3, 4097), (4, 123_457)] {
        let mut rnd = rng(seed);
        let xs: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let mut y = 0.0;
        let ys: Vec<f64> = (0..n)
            .map(|_| {
                y += rnd() - 0.5;
                y
            })
            .collect();
        check(&format!("walk {n}"), &xs, &ys, &views(n as f64 * 0.5));
    }
}

#[test]
fn the_reducer_agrees_with_the_oracle_on_periodic_data() {
    // An eval spike every `period`th point (2.5% of the points or fewer): with a sample taken every
    // k-th point, a period that k divides puts far more spikes in the sample than in the data.
    for period in [13, 40, 64, 100, 4096] {
        for n in [200_000, 230_001, 262_144] {
            let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let ys: Vec<f64> =
                (0..n).map(|i| if i % period == 0 { 50.0 } else { 1.0 + (i % 7) as f64 * 0.01 }).collect();
            check(&format!("period {period}, {n} points"), &xs, &ys, &views(n as f64));
        }
    }
}

#[test]
fn the_reducer_agrees_with_the_oracle_on_restarted_and_resetting_runs() {
    // Three attempts of a restarted run (the second resumes from step 30k), an x that is not a
    // number, and periodic spikes: drawn as one envelope over every part.
    let mut xs: Vec<f64> = (0..50_000).chain(30_000..90_000).chain(60_000..70_000).map(f64::from).collect();
    xs[12_345] = f64::NAN;
    let ys: Vec<f64> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| if (*x as usize).is_multiple_of(40) { 50.0 } else { 1.0 + (i % 5) as f64 * 0.1 })
        .collect();
    assert_eq!(stretches(&xs).len(), 4);
    check("restarted", &xs, &ys, &views(90_000.0));
    // A step counter that resets every epoch: 300 parts.
    let xs: Vec<f64> = (0..30_000).map(|i| f64::from(i % 100)).collect();
    let (_, ys) = noisy(30_000);
    check("resetting", &xs, &ys, &views(100.0));
}

#[test]
fn a_single_spike_among_a_million_survives() {
    let n = 1_000_000;
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut ys: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    ys[543_210] = 1000.0;
    ys[777_777] = -1000.0;
    let pts = reduce_all(&xs, &ys, &View::new(0.0, (n - 1) as f64, 200)).points;
    assert!(pts.len() <= 2 * 200 + 2, "{} points", pts.len());
    assert!(pts.contains(&(543_210.0, 1000.0)));
    assert!(pts.contains(&(777_777.0, -1000.0)));
    // Drawn in x order, so the line passes through both spikes.
    assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn columns_bound_the_output_and_the_ends_are_exact() {
    let n = 10_000;
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let ys: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    for columns in [1, 2, 7, 80, 200, 5000] {
        let pts = reduce_all(&xs, &ys, &View::new(100.0, 9000.0, columns)).points;
        assert!(pts.len() <= 2 * columns + 2, "{columns}: {}", pts.len());
        assert_eq!(pts[0], (100.0, ys[100]), "{columns}");
        assert_eq!(*pts.last().unwrap(), (9000.0, ys[9000]), "{columns}");
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
    }
    // More columns than points: every point comes back.
    let pts = reduce_all(&xs[..50], &ys[..50], &View::new(0.0, 49.0, 400)).points;
    assert_eq!(pts, xs[..50].iter().copied().zip(ys[..50].iter().copied()).collect::<Vec<_>>());
}

#[test]
fn nonfinite_steps_are_reported_once_per_column() {
    let xs: Vec<f64> = (0..1000).map(f64::from).collect();
    let mut ys: Vec<f64> = (0..1000).map(|i| f64::from(i % 10)).collect();
    ys[500] = f64::NAN;
    ys[501] = f64::NAN; // same column as 500 with 10 columns
    ys[700] = f64::INFINITY;
    let r = reduce_all(&xs, &ys, &View::new(0.0, 999.0, 10));
    assert_eq!(r.nonfinite_x, vec![500.0, 700.0]);
    assert!(r.nonfinite_y[0].is_nan() && r.nonfinite_y[1] == f64::INFINITY);
    assert!(r.points.iter().all(|p| p.1.is_finite()));
    assert_eq!(r.in_window, 1000);
    // Outside the window they are not reported.
    assert!(reduce_all(&xs, &ys, &View::new(0.0, 400.0, 10)).nonfinite_x.is_empty());
}

#[test]
fn a_restarted_run_is_reduced_over_its_parts() {
    // Steps 0..100, then a restart from 50 to 150: x goes backwards at index 100.
    let xs: Vec<f64> = (0..100).chain(50..150).map(f64::from).collect();
    let mut ys: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
    ys[150] = 99.0; // x = 100, after the restart
    ys[60] = -5.0; // x = 60, before it
    let r = reduce_all(&xs, &ys, &View::new(0.0, 149.0, 15));
    assert!(r.points.contains(&(100.0, 99.0)));
    assert!(r.points.contains(&(60.0, -5.0)));
    assert!(r.points.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(r.points.len() <= 32);
    assert_eq!(r.in_window, 200);
    assert_eq!(r.points[0], (0.0, 0.0));
    assert_eq!(*r.points.last().unwrap(), (149.0, 9.0));
    // One part alone: the first attempt.
    let env = Envelope::of(&ys);
    let first = reduce(&xs[..], &ys, &env, &[(0, 100)], &View::new(0.0, 149.0, 15));
    assert_eq!(first.in_window, 100);
    assert!(!first.points.contains(&(100.0, 99.0)) && first.points.contains(&(60.0, -5.0)));
}

#[test]
fn empty_single_and_out_of_range() {
    let pts = |xs: &[f64], ys: &[f64], lo, hi, c| reduce_all(xs, ys, &View::new(lo, hi, c)).points;
    assert!(pts(&[], &[], 0.0, 1.0, 10).is_empty());
    assert_eq!(pts(&[3.0], &[7.0], 0.0, 10.0, 10), vec![(3.0, 7.0)]);
    assert_eq!(pts(&[3.0], &[7.0], 3.0, 3.0, 10), vec![(3.0, 7.0)]);
    let xs: Vec<f64> = (0..100).map(f64::from).collect();
    let ys: Vec<f64> = (0..100).map(|i| f64::from(i % 7)).collect();
    let r = reduce_all(&xs, &ys, &View::new(200.0, 300.0, 10));
    assert!(r.points.is_empty() && r.in_window == 0 && r.y_bounds.is_none());
    assert!(pts(&xs, &ys, -50.0, -1.0, 10).is_empty());
    assert!(pts(&xs, &ys, 0.0, 99.0, 0).is_empty());
    assert!(pts(&xs, &ys, f64::NAN, 99.0, 10).is_empty());
    // A reversed window is swapped; mismatched lengths use the shorter.
    assert_eq!(pts(&xs, &ys, 99.0, 0.0, 10), pts(&xs, &ys, 0.0, 99.0, 10));
    let short = reduce(&xs[..], &ys[..3], &Envelope::of(&ys[..3]), &[(0, 100)], &View::new(0.0, 99.0, 10));
    assert_eq!(short.in_window, 3);
    assert_eq!(short.points, pts(&xs[..3], &ys[..3], 0.0, 99.0, 10));
    // Only non-finite values: nothing drawn, but the steps are marked.
    let r = reduce_all(&[1.0, 2.0], &[f64::NAN, f64::NAN], &View::new(0.0, 10.0, 100));
    assert!(r.points.is_empty());
    assert_eq!(r.nonfinite_x, vec![1.0, 2.0]);
}

#[test]
fn log_scale_hides_non_positive_values() {
    let xs = [0.0, 1.0, 2.0, 3.0];
    let ys = [100.0, 0.0, -3.0, 0.001];
    let view = View { scale: YScale::Log10, ..View::new(0.0, 3.0, 100) };
    let r = reduce_all(&xs, &ys, &view);
    assert_eq!(r.points, vec![(0.0, 2.0), (3.0, -3.0)]);
    assert!(r.nonfinite_x.is_empty());
    assert_eq!(r.y_bounds, Some((-3.0, 2.0)));
    assert_eq!(YScale::Log10.unmap(2.0), 100.0);
    assert_eq!(YScale::Log10.map(0.0), None);
}

#[test]
fn percentile_bounds_ignore_outliers() {
    let bounds = |ys: &[f64], lo, hi, margin| bounds::percentile_bounds(&mut ys.to_vec(), lo, hi, margin);
    // 1..=101: ranks 5 and 95 of 0..=100 are the values 6 and 96.
    let mut ys: Vec<f64> = (1..=101).map(f64::from).collect();
    assert_eq!(bounds(&ys, 5.0, 95.0, 0.0), Some((6.0, 96.0)));
    // A margin of 10% of the span (90) on each side.
    assert_eq!(bounds(&ys, 5.0, 95.0, 0.1), Some((-3.0, 105.0)));
    ys.reverse();
    ys[0] = 1e9; // the 101 becomes an outlier: still rank 100, not in the 5..95 bounds
    assert_eq!(bounds(&ys, 5.0, 95.0, 0.0), Some((6.0, 96.0)));
    assert_eq!(bounds(&[], 5.0, 95.0, 0.1), None);
    // Swapped or out-of-range percentiles still work.
    assert_eq!(bounds(&[1.0, 2.0, 3.0], 200.0, -5.0, 0.0), Some((1.0, 3.0)));
    assert_eq!(bounds(&[2.0; 10], 5.0, 95.0, 0.05), Some((1.8, 2.2)));
}

#[test]
fn flat_ranges_get_height() {
    assert_eq!(pad(5.0, 5.0, 0.1), (4.5, 5.5));
    assert_eq!(pad(0.0, 0.0, 0.0), (-1.0, 1.0));
    let (a, b) = pad(f64::MAX, f64::MAX, 0.1);
    assert!(a < b && a.is_finite() && b.is_finite());
    let (a, b) = pad(-f64::MAX, f64::MAX, 0.5);
    assert_eq!((a, b), (-f64::MAX, f64::MAX));
    let (a, b) = pad(5e-324, 5e-324, 0.0);
    assert!(a < b);
}

#[test]
fn view_bounds_follow_the_view() {
    let n = 200_000;
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut ys: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    ys[1000] = 1e6;
    assert_eq!(reduce_all(&xs, &ys, &View::new(0.0, n as f64, 100)).y_bounds, Some((0.0, 1e6)));
    let robust = View { percentiles: Some((5.0, 95.0)), margin: 0.0, ..View::new(0.0, n as f64, 100) };
    let (lo, hi) = reduce_all(&xs, &ys, &robust).y_bounds.unwrap();
    // Sampled past 4096 points: close to the exact 0.05 and 0.95.
    assert!((lo - 0.05).abs() < 0.01 && (hi - 0.95).abs() < 0.01, "{lo} {hi}");
}

#[test]
fn percentile_bounds_frame_the_bulk() {
    let (xs, ys) = noisy(200_000);
    let view = View { percentiles: Some((5.0, 95.0)), margin: 0.1, ..View::new(0.0, 1e9, 50) };
    let (lo, hi) = reduce_all(&xs, &ys, &view).y_bounds.expect("bounds");
    assert!(lo > 0.5 && lo < 1.2 && hi > 1.9 && hi < 2.3, "{lo} {hi}");
}

#[test]
fn gallop_finds_the_end_of_a_column_from_any_guess() {
    let xs: Vec<f64> = (0..300).map(|i| (i / 7) as f64).collect();
    for i in [0, 7, 50, 294] {
        let want = xs.partition_point(|&x| x <= xs[i]);
        for guess in [0, i, i + 1, i + 3, i + 7, i + 100, 1000] {
            assert_eq!(gallop(&xs[..], i, xs.len(), guess, |x| x <= xs[i]), want, "{i} {guess}");
        }
    }
}

#[test]
fn updates_equal_a_fresh_build() {
    let (_, ys) = noisy(10_000);
    let mut env = Envelope::default();
    let mut n = 0;
    for k in [1, 63, 64, 65, 1000, 3, 5000] {
        n += k;
        env.update(&ys[..n], n - k);
    }
    assert_eq!(env, Envelope::of(&ys[..n]));
    // A changed tail is recomputed from the first changed value.
    let mut changed = ys[..n].to_vec();
    changed[n - 10] = -1e9;
    env.update(&changed, n - 10);
    assert_eq!(env, Envelope::of(&changed));
}

/// Grows `xs` / `ys` (sorted xs) by the appends `sizes`, changing the `tail` values before each
/// append's end as a centred smoother does, and checks at every step that the reduction resumed
/// from the last one equals a fresh one on every view.
fn check_resumed(what: &str, xs: &[f64], ys: &[f64], sizes: &[usize], tail: usize, views: &[View]) {
    for view in views {
        let mut state = Resumable::default();
        let mut ys_now = ys.to_vec();
        let mut n = 0;
        for (k, &size) in sizes.iter().enumerate() {
            n = (n + size).min(xs.len());
            // The values just before the old end change (a smoother's reach).
            let from = n.saturating_sub(size + tail);
            for (i, y) in ys_now.iter_mut().enumerate().take(n).skip(from) {
                if (i + k) % 5 == 0 {
                    *y = -*y + k as f64;
                }
            }
            state.changed_from(from);
            let env = Envelope::of(&ys_now[..n]);
            let got = reduce_resumed(&xs[..n], &ys_now[..n], &env, view, &mut state);
            let want = reduce(&xs[..n], &ys_now[..n], &env, &[(0, n)], view);
            assert!(
                same(&got, &want),
                "{what}, {view:?}, step {k} ({n} points):\n got {got:?}\nwant {want:?}"
            );
        }
    }
}

/// Values that count how many of them are read.
struct Counted<'a>(&'a [f64], std::cell::Cell<usize>);

impl Ys for Counted<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn y(&self, i: usize) -> f64 {
        self.1.set(self.1.get() + 1);
        self.0[i]
    }
}

#[test]
fn a_resumed_reduction_reads_only_the_columns_of_new_points() {
    let (xs, ys) = noisy(100_000);
    let view = View { x_lo: 0.0, x_hi: 40_000.0, columns: 80, ..View::new(0.0, 0.0, 1) };
    let mut state = Resumable::default();
    let env = Envelope::of(&ys[..90_000]);
    let all = Counted(&ys[..90_000], Default::default());
    reduce_resumed(&xs[..90_000], &all, &env, &view, &mut state);
    let env = Envelope::of(&ys[..90_010]);
    let grown = Counted(&ys[..90_010], Default::default());
    let got = reduce_resumed(&xs[..90_010], &grown, &env, &view, &mut state);
    assert!(same(&got, &reduce(&xs[..90_010], &ys[..90_010], &env, &[(0, 90_010)], &view)));
    // A column is 1,250 points: the last one's partial blocks and the new points, not 90,000.
    let (first, then) = (all.1.get(), grown.1.get());
    assert!(then < 400 && first > 2_000, "{first} values read, then {then}");
}

/// xs that count how many of them are read.
struct CountedXs<'a>(&'a [f64], std::cell::Cell<usize>);

impl Xs for CountedXs<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn x(&self, i: usize) -> f64 {
        self.1.set(self.1.get() + 1);
        self.0[i]
    }
}

#[test]
fn a_resumed_reduction_draws_again_only_the_columns_of_new_points() {
    // 80 columns of 1,250 points each: a fresh reduction reads the xs of about 160 drawn points
    // (and searches the window's ends); an append reads those of the last column's few.
    let (xs, ys) = noisy(100_000);
    let view = View { x_lo: 0.0, x_hi: 100_000.0, columns: 80, ..View::new(0.0, 0.0, 1) };
    let mut state = Resumable::default();
    let mut n = 90_000;
    let env = Envelope::of(&ys[..n]);
    let fresh = CountedXs(&xs[..n], Default::default());
    reduce_resumed(&fresh, &ys[..n], &env, &view, &mut state);
    assert!(fresh.1.get() > 150, "{} xs read at first", fresh.1.get());
    for grow in [1, 1, 5, 64, 1] {
        n += grow;
        let env = Envelope::of(&ys[..n]);
        let grown = CountedXs(&xs[..n], Default::default());
        let got = reduce_resumed(&grown, &ys[..n], &env, &view, &mut state);
        assert!(same(&got, &reduce(&xs[..n], &ys[..n], &env, &[(0, n)], &view)), "{n} points");
        assert!(grown.1.get() < 40, "{} xs read after {grow} appended", grown.1.get());
    }
}

#[test]
fn a_resumed_reduction_equals_a_fresh_one() {
    let (xs, ys) = noisy(12_000);
    let sizes = [1, 1, 63, 64, 65, 1000, 3, 5000, 1, 2, 5000, 900];
    let mut vs = views(4000.0);
    // A window that follows the data ahead of it, as an overlay's does.
    vs.push(View { x_lo: 0.0, x_hi: 4200.0, columns: 76, ..View::new(0.0, 0.0, 1) });
    check_resumed("appends", &xs, &ys, &sizes, 0, &vs);
    check_resumed("appends with a changed tail", &xs, &ys, &sizes, 40, &vs);
    // All NaN from the middle on (a run that diverged), and nothing drawable at first.
    let nan_tail: Vec<f64> =
        ys.iter().enumerate().map(|(i, &y)| if i > 6000 { f64::NAN } else { y }).collect();
    check_resumed("a NaN tail", &xs, &nan_tail, &sizes, 0, &vs);
    let nan_head: Vec<f64> =
        ys.iter().enumerate().map(|(i, &y)| if i < 6000 { f64::NAN } else { y }).collect();
    check_resumed("a NaN head", &xs, &nan_head, &sizes, 3, &vs);
    // Another view starts over.
    let mut state = Resumable::default();
    let env = Envelope::of(&ys[..]);
    reduce_resumed(&xs[..], &ys[..], &env, &vs[0], &mut state);
    let got = reduce_resumed(&xs[..], &ys[..], &env, &vs[1], &mut state);
    assert!(same(&got, &reduce(&xs[..], &ys[..], &env, &[(0, xs.len())], &vs[1])));
}

proptest! {
    /// Any data, sorted or not, with NaN xs and values: the same as the oracle (the windows are
    /// small enough to be read whole, so the percentiles too).
    #[test]
    fn the_reducer_agrees_with_the_oracle_on_any_data(
        mut pts in prop::collection::vec(
            (prop_oneof![19 => (0u32..500).prop_map(f64::from), 1 => Just(f64::NAN)],
             prop_oneof![8 => -100.0f64..100.0, 1 => Just(f64::NAN), 1 => Just(0.0)]), 0..400),
        columns in 1usize..60,
        lo in 0u32..250,
        width in 0u32..400,
        sort in any::<bool>(),
        log in any::<bool>(),
        percentiles in any::<bool>(),
    ) {
        if sort {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let scale = if log { YScale::Log10 } else { YScale::Linear };
        let view = View {
            scale,
            percentiles: percentiles.then_some((5.0, 95.0)),
            margin: 0.1,
            ..View::new(f64::from(lo), f64::from(lo + width), columns)
        };
        let (got, want) = (reduce_all(&xs, &ys, &view), oracle(&xs, &ys, &view));
        prop_assert!(same(&got, &want), "got {:?}\nwant {:?}", got, want);
        prop_assert!(got.points.len() <= 2 * columns + 2);
    }

    /// Any sorted data grown by any appends (with a changed tail): a resumed reduction is a fresh one.
    #[test]
    fn a_resumed_reduction_equals_a_fresh_one_on_any_data(
        mut pts in prop::collection::vec(
            ((0u32..500).prop_map(f64::from),
             prop_oneof![8 => -100.0f64..100.0, 1 => Just(f64::NAN), 1 => Just(0.0)]), 1..600),
        sizes in prop::collection::vec(1usize..200, 1..8),
        tail in 0usize..20,
        columns in 1usize..60,
        lo in 0u32..250,
        width in 0u32..400,
        log in any::<bool>(),
    ) {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let scale = if log { YScale::Log10 } else { YScale::Linear };
        let view = View { scale, ..View::new(f64::from(lo), f64::from(lo + width), columns) };
        check_resumed("any", &xs, &ys, &sizes, tail, &[view]);
    }
}

/// The window's first drawable point keeps its index while a changed tail changes its value (a
/// case proptest found): the kept drawing must not show the old value.
#[test]
fn a_resumed_reduction_draws_the_first_points_new_value() {
    // At x 0, 9, 14 (five points), 31 (ten) and 54 (21).
    let xs: Vec<f64> = [(0.0, 1), (9.0, 1), (14.0, 5), (31.0, 10), (54.0, 21)]
        .iter()
        .flat_map(|&(x, k)| std::iter::repeat_n(x, k))
        .collect();
    let mut ys = vec![0.0; xs.len()];
    ys[1..4].copy_from_slice(&[69.35626428381488, 58.80538802396552, 5.955546501783403]);
    let view = View { scale: YScale::Log10, ..View::new(1.0, 14.0, 39) };
    check_resumed("first point changed", &xs, &ys, &[1, 4, 1, 1, 1, 11, 1], 15, &[view]);
}

/// A summary's fields, the values as bits (so a `-0.0` is not a `0.0`).
fn acc_bits(a: &Acc) -> (u64, u64, u64, u32, u32, u32, u32) {
    (a.min_v.to_bits(), a.max_v.to_bits(), a.min_pos_v.to_bits(), a.min, a.max, a.min_pos, a.nonfinite)
}

/// Values that make ties and edge cases likely: a few small integers (constant runs and equal
/// values at several places), both zeros, the infinities, NaN, huge and tiny magnitudes.
fn tricky_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1000.0f64..1000.0,
        4 => (-3i32..4).prop_map(f64::from),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => prop_oneof![Just(1e-300), Just(-1e-300), Just(1e300), Just(-1e300), Just(f64::MIN_POSITIVE / 4.0)],
        1 => any::<f64>(),
    ]
}

/// The block summaries of `ys`, handed over one value at a time ([`Summaries::point`]): what
/// [`Summaries::points`] must build.
fn summaries_pointwise(start: Acc, from: usize, ys: &[f64], end: usize) -> (Acc, Vec<Acc>) {
    let mut s = Summaries { acc: start, out: Vec::new(), end };
    for (k, &y) in ys.iter().enumerate() {
        s.point(from + k, y);
    }
    (s.acc, s.out)
}

proptest! {
    /// A stretch's summary at once is the values' one after the other, bit for bit (the first of
    /// equal values and of `-0.0` and `0.0`, NaN and infinities left out, the first non-finite).
    #[test]
    fn a_stretch_summarised_at_once_is_its_points_one_by_one(
        ys in prop::collection::vec(tricky_value(), 0..150),
        from in 0usize..1_000_000,
    ) {
        let mut want = Acc::EMPTY;
        for (k, &y) in ys.iter().enumerate() {
            want.point(from + k, y);
        }
        prop_assert_eq!(acc_bits(&Acc::of_slice(from, &ys)), acc_bits(&want));
    }

    /// Block summaries built from slices cut at any places (across block ends, at the data's end,
    /// past it), continuing a partial block's summary (a resumed append), are those built a value
    /// at a time.
    #[test]
    fn block_summaries_from_slices_are_those_built_a_value_at_a_time(
        ys in prop::collection::vec(tricky_value(), 0..400),
        cuts in prop::collection::vec(0usize..400, 0..8),
        from in 0usize..200,
        end_past in 0usize..500,
        resumed in prop::collection::vec(tricky_value(), 0..3),
    ) {
        // A partial block's summary to continue (its points just before `from`).
        let mut start = Acc::EMPTY;
        for (k, &y) in resumed.iter().enumerate() {
            if let Some(i) = from.checked_sub(resumed.len() - k) {
                start.point(i, y);
            }
        }
        let end = from + end_past;
        let (want_acc, want_out) = summaries_pointwise(start, from, &ys, end);
        let mut s = Summaries { acc: start, out: Vec::new(), end };
        let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= ys.len()).collect();
        cuts.push(0);
        cuts.push(ys.len());
        cuts.sort_unstable();
        for w in cuts.windows(2) {
            s.points(from + w[0], &ys[w[0]..w[1]]);
        }
        prop_assert_eq!(acc_bits(&s.acc), acc_bits(&want_acc));
        prop_assert_eq!(s.out.len(), want_out.len());
        for (got, want) in s.out.iter().zip(&want_out) {
            prop_assert_eq!(acc_bits(got), acc_bits(want));
        }
    }
}

/// Time of the block summaries, a value at a time against a stretch at once (`cargo test
/// --release --lib summaries_timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn summaries_timing() {
    let mut r = rng(7);
    let n = 1 << 20;
    let series: [(&str, Vec<f64>); 3] = [
        ("falling loss", (0..n).map(|i| 3.0 / (1.0 + i as f64 / 1e4) + 0.01 * r()).collect()),
        ("noise", (0..n).map(|_| r() - 0.5).collect()),
        ("rising acc", (0..n).map(|i| 1.0 - 1.0 / (1.0 + i as f64 / 1e3)).collect()),
    ];
    for (what, ys) in &series {
        let (mut t_old, mut t_new) = (std::time::Duration::MAX, std::time::Duration::MAX);
        for _ in 0..15 {
            let t = std::time::Instant::now();
            let (_, old) = summaries_pointwise(Acc::EMPTY, 0, ys, n);
            t_old = t_old.min(t.elapsed());
            let t = std::time::Instant::now();
            let mut s = Summaries { acc: Acc::EMPTY, out: Vec::new(), end: n };
            for (b, c) in ys.chunks(BLOCK).enumerate() {
                s.points(b * BLOCK, c);
            }
            t_new = t_new.min(t.elapsed());
            assert_eq!(s.out.len(), old.len());
        }
        println!(
            "{what}: {n} values, a value at a time {t_old:?}, a stretch at once {t_new:?} (least of 15)"
        );
    }
}
