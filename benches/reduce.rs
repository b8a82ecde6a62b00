//! Timing of the chart reduction (`tmon::chart::reduce`, the one reducer every chart uses) and
//! the smoothers on a 1M-point series, with plain `std::time` (no criterion):
//! `cargo bench --bench reduce`. Prints the best and median of several runs, in milliseconds.

use std::hint::black_box;
use std::time::Instant;
use tmon::analysis::smooth::{smooth, SmoothCache, Smoother};
use tmon::chart::reduce::{reduce, Envelope, View};

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
    // Paid once per charted series (its first frame), then extended by the points that arrive.
    time("block summaries of 1M values (Envelope::of)", || Envelope::of(&ys));
    let env = Envelope::of(&ys);
    let all = [(0, N)];
    let view = View::new(0.0, hi, 200);
    time("reduce, 200 columns, whole run", || reduce(&xs[..], &ys, &env, &all, &view));
    let robust = View { percentiles: Some((5.0, 95.0)), margin: 0.05, ..view };
    time("reduce, 200 columns, whole run, 5-95% y bounds", || reduce(&xs[..], &ys, &env, &all, &robust));
    let last_10k = View::new(hi - 10_000.0, hi, 200);
    time("reduce, 200 columns, last 10k steps", || reduce(&xs[..], &ys, &env, &all, &last_10k));
    // A restarted run: the second attempt resumes from the middle, so the xs go back once; each
    // attempt is drawn as its own line.
    let half = N / 2;
    let restarted: Vec<f64> = (0..half).chain(half / 2..half / 2 + (N - half)).map(|i| i as f64).collect();
    time("reduce, 200 columns, restarted run (2 attempts, 2 lines)", || {
        [(0, half), (half, N)].map(|p| reduce(&restarted[..], &ys, &env, &[p], &robust))
    });
    // A step counter that resets every 1000 points: 1000 parts, one envelope.
    let resets: Vec<f64> = (0..N).map(|i| (i % 1000) as f64).collect();
    let parts: Vec<_> = (0..N / 1000).map(|k| (k * 1000, (k + 1) * 1000)).collect();
    let wrap = View::new(0.0, 999.0, 200);
    time("reduce, 200 columns, 1000 parts in one envelope", || reduce(&resets[..], &ys, &env, &parts, &wrap));
    let r = reduce(&xs[..], &ys, &env, &all, &view);
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
