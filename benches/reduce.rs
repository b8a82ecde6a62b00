//! Timing of the chart reduction and the smoothers on a 1M-point series, with plain
//! `std::time` (no criterion): `cargo bench --bench reduce`. Prints the best and median of
//! several runs, in milliseconds.

use std::hint::black_box;
use std::time::Instant;
use tmon::analysis::smooth::{smooth, SmoothCache, Smoother};
use tmon::chart::reduce::slice::{minmax_columns, reduce, View, XOrder};

const N: usize = 1_000_000;
const RUNS: usize = 15;

fn time<T>(label: &str, mut f: impl FnMut() -> T) {
    let mut ms: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!("{label:<58} best {:>8.3} ms   median {:>8.3} ms", ms[0], ms[RUNS / 2]);
}

/// A loss-like curve: decaying, noisy (a 64-bit LCG), a few NaNs and one spike.
fn series() -> (Vec<f64>, Vec<f64>) {
    let mut s: u64 = 42;
    let xs: Vec<f64> = (0..N).map(|i| i as f64).collect();
    let mut ys: Vec<f64> = (0..N)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            2.0 * (-(i as f64) / 2e5).exp() + 0.1 * e
        })
        .collect();
    for i in (0..N).step_by(100_003) {
        ys[i] = f64::NAN;
    }
    ys[654_321] = 50.0;
    (xs, ys)
}

fn main() {
    let (xs, ys) = series();
    let hi = (N - 1) as f64;
    println!("{N} points, {RUNS} runs each");
    // A yardstick for how loaded the machine is: one pass that reads every value.
    time("baseline: sum of 1M f64", || ys.iter().filter(|y| y.is_finite()).sum::<f64>());
    time("minmax_columns, 200 columns (checks sortedness)", || minmax_columns(&xs, &ys, 0.0, hi, 200));
    let view = View::new(0.0, hi, 200);
    time("reduce, 200 columns, XOrder::Sorted", || reduce(&xs, &ys, &view, XOrder::Sorted));
    time("reduce, 200 columns, XOrder::Unsorted (linear pass)", || reduce(&xs, &ys, &view, XOrder::Unsorted));
    let robust = View { percentiles: Some((5.0, 95.0)), margin: 0.05, ..view };
    time("reduce, 200 columns, Sorted, 5-95% y bounds", || reduce(&xs, &ys, &robust, XOrder::Sorted));
    let last_10k = View::new(hi - 10_000.0, hi, 200);
    time("reduce, 200 columns, Sorted, last 10k steps", || reduce(&xs, &ys, &last_10k, XOrder::Sorted));
    let r = reduce(&xs, &ys, &view, XOrder::Sorted);
    assert!(r.points.contains(&(654_321.0, 50.0)), "the spike must survive");
    println!("  -> {} points, {} NaN marks", r.points.len(), r.nonfinite_x.len());

    for kind in [
        Smoother::Ema { weight: 0.6 },
        Smoother::TimeWeightedEma { param: 0.6 },
        Smoother::Gaussian { sigma: 5.0 },
        Smoother::Gaussian { sigma: 10.0 },
        Smoother::Gaussian { sigma: 100.0 },
        Smoother::RunningAverage { window: 101 },
        Smoother::RunningAverage { window: 3465 },
    ] {
        time(&format!("smooth {}", kind.label()), || smooth(kind, &xs, &ys));
    }
    for kind in [Smoother::Ema { weight: 0.6 }, Smoother::Gaussian { sigma: 100.0 }] {
        let mut cache = SmoothCache::new();
        cache.update(kind, &xs[..N - 1000], &ys[..N - 1000]);
        // Only the update is timed, not the clone that resets the cache.
        let mut ms: Vec<f64> = (0..RUNS)
            .map(|_| {
                let mut c = cache.clone();
                let t = Instant::now();
                black_box(c.update(kind, &xs, &ys));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let label = format!("SmoothCache: append 1000 to 999k, {}", kind.label());
        println!("{label:<58} best {:>8.3} ms   median {:>8.3} ms", ms[0], ms[RUNS / 2]);
    }
}
