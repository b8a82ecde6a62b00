use super::*;
use proptest::prelude::*;

fn ramp(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Small deterministic wiggle in [0, 1).
fn wiggle(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect()
}

#[test]
fn a_single_spike_among_a_million_survives() {
    let n = 1_000_000;
    let xs = ramp(n);
    let mut ys = wiggle(n);
    ys[543_210] = 1000.0;
    ys[777_777] = -1000.0;
    let pts = minmax_columns(&xs, &ys, 0.0, (n - 1) as f64, 200);
    assert!(pts.len() <= 2 * 200 + 2, "{} points", pts.len());
    assert!(pts.contains(&(543_210.0, 1000.0)));
    assert!(pts.contains(&(777_777.0, -1000.0)));
    // Drawn in x order, so the line passes through both spikes.
    assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn columns_bound_the_output_and_the_ends_are_exact() {
    let n = 10_000;
    let xs = ramp(n);
    let ys = wiggle(n);
    for columns in [1, 2, 7, 80, 200, 5000] {
        let pts = minmax_columns(&xs, &ys, 100.0, 9000.0, columns);
        assert!(pts.len() <= 2 * columns + 2, "{columns}: {}", pts.len());
        assert_eq!(pts[0], (100.0, ys[100]), "{columns}");
        assert_eq!(*pts.last().unwrap(), (9000.0, ys[9000]), "{columns}");
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
    }
    // More columns than points: every point comes back.
    let pts = minmax_columns(&xs[..50], &ys[..50], 0.0, 49.0, 400);
    assert_eq!(pts, xs[..50].iter().copied().zip(ys[..50].iter().copied()).collect::<Vec<_>>());
}

#[test]
fn nonfinite_steps_are_reported_once_per_column() {
    let xs = ramp(1000);
    let mut ys = wiggle(1000);
    ys[500] = f64::NAN;
    ys[501] = f64::NAN; // same column as 500 with 10 columns
    ys[700] = f64::INFINITY;
    let r = reduce(&xs, &ys, &View::new(0.0, 999.0, 10), XOrder::Sorted);
    assert_eq!(r.nonfinite_x, vec![500.0, 700.0]);
    assert!(r.nonfinite_y[0].is_nan() && r.nonfinite_y[1] == f64::INFINITY);
    assert_eq!(r.nonfinite().count(), 2);
    assert!(r.points.iter().all(|p| p.1.is_finite()));
    assert_eq!(r.in_window, 1000);
    // Outside the window they are not reported.
    let r = reduce(&xs, &ys, &View::new(0.0, 400.0, 10), XOrder::Sorted);
    assert!(r.nonfinite_x.is_empty());
}

#[test]
fn unsorted_input_from_a_restarted_run() {
    // Steps 0..100, then a restart from 50 to 150: x goes backwards at index 100.
    let xs: Vec<f64> = (0..100).chain(50..150).map(f64::from).collect();
    let mut ys: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
    ys[150] = 99.0; // x = 100, after the restart
    ys[60] = -5.0; // x = 60, before it
    for order in [XOrder::Unknown, XOrder::Unsorted] {
        let r = reduce(&xs, &ys, &View::new(0.0, 149.0, 15), order);
        assert!(r.points.contains(&(100.0, 99.0)));
        assert!(r.points.contains(&(60.0, -5.0)));
        assert!(r.points.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(r.points.len() <= 32);
        assert_eq!(r.in_window, 200);
        assert_eq!(r.points[0], (0.0, 0.0));
        assert_eq!(*r.points.last().unwrap(), (149.0, 9.0));
    }
}

#[test]
fn empty_single_and_out_of_range() {
    assert!(minmax_columns(&[], &[], 0.0, 1.0, 10).is_empty());
    assert_eq!(minmax_columns(&[3.0], &[7.0], 0.0, 10.0, 10), vec![(3.0, 7.0)]);
    assert_eq!(minmax_columns(&[3.0], &[7.0], 3.0, 3.0, 10), vec![(3.0, 7.0)]);
    let xs = ramp(100);
    let ys = wiggle(100);
    let r = reduce(&xs, &ys, &View::new(200.0, 300.0, 10), XOrder::Unknown);
    assert!(r.points.is_empty() && r.in_window == 0 && r.y_bounds.is_none());
    assert!(minmax_columns(&xs, &ys, -50.0, -1.0, 10).is_empty());
    assert!(minmax_columns(&xs, &ys, 0.0, 99.0, 0).is_empty());
    assert!(minmax_columns(&xs, &ys, f64::NAN, 99.0, 10).is_empty());
    // A reversed window is swapped; mismatched lengths use the shorter.
    assert_eq!(minmax_columns(&xs, &ys, 99.0, 0.0, 10), minmax_columns(&xs, &ys, 0.0, 99.0, 10));
    assert_eq!(minmax_columns(&xs, &ys[..3], 0.0, 99.0, 10).len(), 3);
    // Only non-finite values: nothing drawn, but the steps are marked.
    let r = reduce(&[1.0, 2.0], &[f64::NAN, f64::NAN], &View::new(0.0, 10.0, 100), XOrder::Unknown);
    assert!(r.points.is_empty());
    assert_eq!(r.nonfinite_x, vec![1.0, 2.0]);
}

#[test]
fn log_scale_hides_non_positive_values() {
    let xs = ramp(4);
    let ys = [100.0, 0.0, -3.0, 0.001];
    let view = View { scale: YScale::Log10, ..View::new(0.0, 3.0, 100) };
    let r = reduce(&xs, &ys, &view, XOrder::Sorted);
    assert_eq!(r.points, vec![(0.0, 2.0), (3.0, -3.0)]);
    assert_eq!(r.unplottable, 2);
    assert!(r.nonfinite_x.is_empty());
    assert_eq!(r.y_bounds, Some((-3.0, 2.0)));
    assert_eq!(YScale::Log10.unmap(2.0), 100.0);
    assert_eq!(YScale::Log10.map(0.0), None);
    assert_eq!(minmax_bounds_scaled(&ys, YScale::Log10, 0.0), Some((-3.0, 2.0)));
}

#[test]
fn robust_bounds_ignore_outliers() {
    // 1..=101: ranks 5 and 95 of 0..=100 are the values 6 and 96.
    let mut ys: Vec<f64> = (1..=101).map(f64::from).collect();
    assert_eq!(robust_bounds(&ys, 5.0, 95.0, 0.0), Some((6.0, 96.0)));
    // A margin of 10% of the span (90) on each side.
    assert_eq!(robust_bounds(&ys, 5.0, 95.0, 0.1), Some((-3.0, 105.0)));
    ys.reverse();
    ys[0] = 1e9; // the 101 becomes an outlier: still rank 100, not in the 5..95 bounds
    ys.push(f64::NAN);
    assert_eq!(robust_bounds(&ys, 5.0, 95.0, 0.0), Some((6.0, 96.0)));
    assert_eq!(minmax_bounds(&ys, 0.0), Some((1.0, 1e9)));
    assert_eq!(robust_bounds(&[f64::NAN], 5.0, 95.0, 0.1), None);
    assert_eq!(minmax_bounds(&[], 0.1), None);
    // Swapped or out-of-range percentiles still work.
    assert_eq!(robust_bounds(&[1.0, 2.0, 3.0], 200.0, -5.0, 0.0), Some((1.0, 3.0)));
    assert_eq!(
        robust_bounds_scaled(&[1.0, 10.0, 100.0, -1.0], YScale::Log10, 0.0, 100.0, 0.0),
        Some((0.0, 2.0))
    );
}

#[test]
fn flat_ranges_get_height() {
    assert_eq!(pad(5.0, 5.0, 0.1), (4.5, 5.5));
    assert_eq!(pad(0.0, 0.0, 0.0), (-1.0, 1.0));
    let (a, b) = pad(f64::MAX, f64::MAX, 0.1);
    assert!(a < b && a.is_finite() && b.is_finite());
    let (a, b) = pad(-f64::MAX, f64::MAX, 0.5);
    assert_eq!((a, b), (-f64::MAX, f64::MAX));
    assert_eq!(robust_bounds(&[2.0; 10], 5.0, 95.0, 0.05), Some((1.8, 2.2)));
    let (a, b) = pad(5e-324, 5e-324, 0.0);
    assert!(a < b);
}

#[test]
fn view_bounds_follow_the_view() {
    let n = 200_000;
    let xs = ramp(n);
    let mut ys = wiggle(n);
    ys[1000] = 1e6;
    let plain = reduce(&xs, &ys, &View::new(0.0, n as f64, 100), XOrder::Sorted);
    assert_eq!(plain.y_bounds, Some((0.0, 1e6)));
    let robust = View { percentiles: Some((5.0, 95.0)), margin: 0.0, ..View::new(0.0, n as f64, 100) };
    let (lo, hi) = reduce(&xs, &ys, &robust, XOrder::Sorted).y_bounds.unwrap();
    // Sampled past 65536 points: close to the exact 0.05 and 0.95.
    assert!((lo - 0.05).abs() < 0.01 && (hi - 0.95).abs() < 0.01, "{lo} {hi}");
}

#[test]
fn window_is_a_binary_search() {
    let xs = [1.0, 2.0, 2.0, 3.0, 5.0];
    assert_eq!(window(&xs, 2.0, 3.0), 1..4);
    assert_eq!(window(&xs, 3.5, 4.5), 4..4);
    assert_eq!(window(&xs, 9.0, 10.0), 5..5);
    assert_eq!(window(&xs, 4.0, 2.0), 4..4);
}

#[test]
fn cache_recomputes_only_on_change() {
    let xs = ramp(1000);
    let ys = wiggle(1000);
    let mut cache = ReduceCache::new();
    let view = View::new(0.0, 999.0, 50);
    let first = cache.get(1, &xs, &ys, &view, XOrder::Sorted).clone();
    assert_eq!(first, reduce(&xs, &ys, &view, XOrder::Sorted));
    cache.get(1, &xs, &ys, &view, XOrder::Sorted);
    assert_eq!(cache.computes(), 1);
    cache.get(2, &xs, &ys, &view, XOrder::Sorted); // data changed
    cache.get(2, &xs[..900], &ys[..900], &view, XOrder::Sorted); // length changed
    cache.get(2, &xs[..900], &ys[..900], &View { x_lo: 10.0, ..view }, XOrder::Sorted);
    cache.get(2, &xs[..900], &ys[..900], &View { columns: 51, x_lo: 10.0, ..view }, XOrder::Sorted);
    assert_eq!(cache.computes(), 5);
    let robust = View { percentiles: Some((5.0, 95.0)), columns: 51, x_lo: 10.0, ..view };
    cache.get(2, &xs[..900], &ys[..900], &robust, XOrder::Sorted);
    cache.get(2, &xs[..900], &ys[..900], &robust, XOrder::Sorted);
    assert_eq!(cache.computes(), 6);
    cache.clear();
    cache.get(2, &xs[..900], &ys[..900], &robust, XOrder::Sorted);
    assert_eq!(cache.computes(), 7);
}

/// Per column, the brute-force min and max of the drawable values in the window.
fn brute_extremes(xs: &[f64], ys: &[f64], view: &View) -> Vec<Option<(f64, f64)>> {
    let (lo, hi, columns) = (view.x_lo, view.x_hi, view.columns);
    let per_x = if hi > lo { columns as f64 / (hi - lo) } else { 0.0 };
    let mut out = vec![None; columns];
    for (&x, &y) in xs.iter().zip(ys) {
        if let Some(y) = view.scale.map(y).filter(|_| x >= lo && x <= hi) {
            let c = (((x - lo) * per_x) as usize).min(columns - 1);
            let e: &mut Option<(f64, f64)> = &mut out[c];
            *e = Some(e.map_or((y, y), |(a, b)| (a.min(y), b.max(y))));
        }
    }
    out
}

proptest! {
    /// Sorted data gives the same result through the binary search and the linear pass, and every
    /// column's true min and max are in the output, with nothing outside them.
    #[test]
    fn reduction_keeps_every_columns_extremes(
        mut pts in prop::collection::vec(
            (0u32..500, prop_oneof![9 => -100.0f64..100.0, 1 => Just(f64::NAN)]), 0..400),
        columns in 1usize..60,
        lo in 0u32..250,
        width in 0u32..400,
        sort in any::<bool>(),
        log in any::<bool>(),
    ) {
        if sort {
            pts.sort_by_key(|p| p.0);
        }
        let xs: Vec<f64> = pts.iter().map(|p| f64::from(p.0)).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let (lo, hi) = (f64::from(lo), f64::from(lo + width));
        let scale = if log { YScale::Log10 } else { YScale::Linear };
        let view = View { scale, ..View::new(lo, hi, columns) };
        let r = reduce(&xs, &ys, &view, XOrder::Unsorted);
        if sort {
            // Debug text, since NaN != NaN.
            prop_assert_eq!(format!("{r:?}"), format!("{:?}", reduce(&xs, &ys, &view, XOrder::Sorted)));
        }
        prop_assert!(r.points.len() <= 2 * columns + 2);
        prop_assert!(r.points.windows(2).all(|w| w[0].0 <= w[1].0));
        let per_x = if hi > lo { columns as f64 / (hi - lo) } else { 0.0 };
        for (c, e) in brute_extremes(&xs, &ys, &view).into_iter().enumerate() {
            let here: Vec<f64> = r.points.iter()
                .filter(|p| (((p.0 - lo) * per_x) as usize).min(columns - 1) == c)
                .map(|p| p.1).collect();
            match e {
                None => prop_assert!(here.is_empty()),
                Some((a, b)) => {
                    prop_assert!(here.contains(&a) && here.contains(&b));
                    prop_assert!(here.iter().all(|&y| y >= a && y <= b));
                }
            }
        }
    }
}
