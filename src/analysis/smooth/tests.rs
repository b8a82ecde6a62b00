use super::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same_nonfinite = !w.is_finite() && g.to_bits() == w.to_bits();
        assert!(same_nonfinite || close(*g, *w), "at {i}: got {g}, want {w}");
    }
}

/// Deterministic noise in [-1, 1] (a 64-bit LCG), so tests need no seed files.
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn ema_matches_hand_arithmetic() {
    // w = 0.6:
    // y=1: last = 0*0.6 + 0.4*1 = 0.4;       debias 1-0.6   = 0.4   -> 1
    // y=2: last = 0.4*0.6 + 0.4*2 = 1.04;    debias 1-0.36  = 0.64  -> 1.625
    // y=3: last = 1.04*0.6 + 0.4*3 = 1.824;  debias 1-0.216 = 0.784 -> 2.326530612244898
    assert_close(&ema(&[1.0, 2.0, 3.0], 0.6), &[1.0, 1.625, 1.824 / 0.784]);
    // A non-finite value passes through and is not counted: the 2 is the second counted value.
    assert_close(&ema(&[1.0, f64::NAN, 2.0, f64::INFINITY], 0.6), &[1.0, f64::NAN, 1.625, f64::INFINITY]);
    // w = 0.9, y = 10, 0: last = 1, then 0.9; debias 0.1 then 0.19 -> 10, 4.736842105263158
    assert_close(&ema(&[10.0, 0.0], 0.9), &[10.0, 0.9 / 0.19]);
    // Default smoother is this EMA at 0.6.
    assert_close(&smooth(Smoother::default(), &[], &[1.0, 2.0, 3.0]), &[1.0, 1.625, 1.824 / 0.784]);
}

#[test]
fn ema_constant_series_is_exact_and_weight_zero_is_identity() {
    for w in [0.6, 0.9, 0.99, 0.999] {
        let ys = vec![0.1; 1000];
        assert_eq!(ema(&ys, w), ys, "weight {w}");
        let with_nan = [0.3, f64::NAN, 0.3, 0.3];
        let got = ema(&with_nan, w);
        assert!(got[1].is_nan() && got[0] == 0.3 && got[2] == 0.3 && got[3] == 0.3);
    }
    let ys = noise(100, 1);
    assert_eq!(ema(&ys, 0.0), ys);
}

#[test]
fn weights_are_clamped() {
    // Weight 1 would never move; it is clamped to 0.999, so the second value counts a little.
    let got = ema(&[0.0, 1.0], 1.0);
    assert_close(&got, &[0.0, 0.001 / (1.0 - 0.999 * 0.999)]);
    assert_eq!(ema(&[0.0, 1.0], -3.0), vec![0.0, 1.0]);
    assert_eq!(ema(&[1.0, 2.0, 3.0], f64::NAN), ema(&[1.0, 2.0, 3.0], 0.6));
}

#[test]
fn twema_matches_hand_arithmetic() {
    // param 0.81 -> s = 0.9. Range 1000, so d is the x gap itself.
    // x=0 y=1:  acc 1, norm 1                                        -> 1
    // x=1 y=2:  a = 0.9:  acc 0.9+2 = 2.9, norm 1.9                  -> 1.5263157894736843
    // x=3 y=4:  a = 0.81: acc 2.9*0.81+4 = 6.349, norm 1.9*0.81+1 = 2.539 -> 2.5005907837731...
    // x=1000:   a = 0.9^997 ~ 3e-46: the past is forgotten          -> 10
    let xs = [0.0, 1.0, 3.0, 1000.0];
    let got = twema(&xs, &[1.0, 2.0, 4.0, 10.0], 0.81);
    assert_close(&got, &[1.0, 2.9 / 1.9, 6.349 / 2.539, 10.0]);
}

#[test]
fn twema_uneven_spacing_matters() {
    let ys = [1.0, 2.0, 4.0, 10.0];
    let even = twema(&[0.0, 1.0, 2.0, 1000.0], &ys, 0.81);
    let uneven = twema(&[0.0, 1.0, 3.0, 1000.0], &ys, 0.81);
    // x=2: a = 0.9: acc 2.9*0.9+4 = 6.61, norm 2.71.
    assert_close(&even[2..3], &[6.61 / 2.71]);
    // A wider gap forgets more of the past, so the value is closer to the new y.
    assert!(uneven[2] > even[2]);
}

#[test]
fn twema_on_thousandth_spacing_is_tensorboard_ema() {
    let xs: Vec<f64> = (0..=1000).map(f64::from).collect();
    let ys = noise(1001, 7);
    let tw = twema(&xs, &ys, 0.81);
    let tb = ema(&ys, 0.9);
    for (a, b) in tw.iter().zip(&tb) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
}

#[test]
fn twema_nonfinite_and_degenerate_x() {
    // NaN y passes through; the next point's gap is measured from the last counted x (0 -> 2).
    let got = twema(&[0.0, 1.0, 2.0, 1000.0], &[1.0, f64::NAN, 2.0, 2.0], 0.81);
    let a = 0.81f64; // 0.9^2
    assert!(got[1].is_nan());
    assert_close(&got[2..3], &[(a + 2.0) / (a + 1.0)]);
    // All x equal: no decay at all, a cumulative mean. A backward x (restart) decays nothing.
    assert_close(&twema(&[5.0, 5.0, 5.0], &[1.0, 2.0, 6.0], 0.5), &[1.0, 1.5, 3.0]);
    assert_close(&twema(&[10.0, 0.0], &[1.0, 3.0], 0.5), &[1.0, 2.0]);
    // Mismatched xs: the index is x.
    assert_eq!(twema(&[], &[1.0, 2.0], 0.81), twema(&[0.0, 1.0], &[1.0, 2.0], 0.81));
    // param 0 returns the input.
    let ys = noise(50, 3);
    let xs: Vec<f64> = (0..50).map(f64::from).collect();
    assert_eq!(twema(&xs, &ys, 0.0), ys);
    assert_eq!(twema(&xs, &[7.0; 50], 0.9), vec![7.0; 50]);
}

#[test]
fn gaussian_matches_hand_arithmetic() {
    // sigma 1, reach 3: weights e^(-k^2/2) for k = -3..=3.
    let ys = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let (w1, w2, w3) = ((-0.5f64).exp(), (-2.0f64).exp(), (-4.5f64).exp());
    let got = gaussian(&ys, 1.0);
    assert_close(&got[3..4], &[1.0 / (1.0 + 2.0 * (w1 + w2 + w3))]);
    // At the edge the kernel is cut and renormalised: offsets 0..=3 from index 0.
    assert_close(&got[0..1], &[w3 / (1.0 + w1 + w2 + w3)]);
    // A NaN neighbour is left out of the average; the NaN stays.
    let got = gaussian(&[1.0, f64::NAN, 3.0], 1.0);
    assert!(got[1].is_nan());
    assert_close(&got[0..1], &[(1.0 + 3.0 * w2) / (1.0 + w2)]);
    assert_eq!(gaussian(&ys, 0.0), ys.to_vec());
}

#[test]
fn gaussian_boxes_approximate_the_kernel() {
    let n = 2000;
    let ys: Vec<f64> =
        noise(n, 11).iter().enumerate().map(|(i, e)| (i as f64 / 50.0).sin() * 3.0 + e).collect();
    for sigma in [4.5, 6.0, 10.5, 25.0, 60.0] {
        let approx = gaussian(&ys, sigma);
        assert!(matches!(window::Plan::gaussian(sigma), window::Plan::Boxes(_)));
        let exact = window::exact_gaussian_for_tests(&ys, sigma);
        // Away from the ends (where the two truncate differently), within 3% of the amplitude.
        let reach = (3.0 * sigma) as usize;
        let worst = (reach..n - reach).map(|i| (approx[i] - exact[i]).abs()).fold(0.0, f64::max);
        eprintln!("sigma {sigma}: worst {worst}");
        assert!(worst < 0.03 * 3.0, "sigma {sigma}: worst {worst}");
    }
}

#[test]
fn running_average_matches_hand_arithmetic() {
    assert_close(&running_average(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 5), &[2.0, 2.5, 3.0, 4.0, 4.5, 5.0]);
    // Window 3; the NaN is skipped by its neighbours and kept in place.
    let got = running_average(&[1.0, 2.0, f64::NAN, 4.0, 10.0], 3);
    assert_close(&got, &[1.5, 1.5, f64::NAN, 7.0, 7.0]);
    // An even window grows by one: 4 -> 5.
    assert_eq!(
        running_average(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 4),
        running_average(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 5)
    );
    assert_eq!(running_average(&[1.0, 5.0], 1), vec![1.0, 5.0]);
}

#[test]
fn a_huge_value_leaving_the_window_does_not_wreck_the_average() {
    // A running sum would compute (1e20 + 1) - 1e20 = 0 once the spike leaves.
    let mut ys = vec![1.0; 400];
    ys[0] = 1e20;
    let got = running_average(&ys, 3);
    assert!(got[2..].iter().all(|&v| v == 1.0), "{:?}", &got[..5]);
    // Sigma 30 runs three boxes of 59, 59 and 61 points: a reach of 29 + 29 + 30 = 88.
    let got = gaussian(&ys, 30.0);
    assert!(got[1..89].iter().all(|&v| v > 1.0));
    assert!(got[89..].iter().all(|&v| v == 1.0));
}

#[test]
fn strength_ladder_and_cycle() {
    let e = Smoother::default();
    assert_eq!(e.name(), "EMA");
    assert_eq!(e.label(), "EMA 0.6");
    let up: Vec<f64> = (1..=7)
        .scan(e, |s, _| {
            *s = s.with_strength_step(1);
            Some(s.param())
        })
        .collect();
    assert_eq!(up, vec![0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99]);
    assert_eq!(e.with_strength_step(-1).param(), 0.5);
    assert_eq!(e.with_strength_step(100).param(), 0.999);
    assert_eq!(e.with_strength_step(-100).param(), 0.0);
    assert_eq!(Smoother::Ema { weight: 0.999 }.with_strength_step(1).param(), 0.999);
    // Between entries: to the next entry in that direction.
    assert_eq!(Smoother::Ema { weight: 0.65 }.with_strength_step(1).param(), 0.7);
    assert_eq!(Smoother::Ema { weight: 0.65 }.with_strength_step(-1).param(), 0.6);
    assert_eq!(
        Smoother::RunningAverage { window: 7 }.with_strength_step(1),
        Smoother::RunningAverage { window: 11 }
    );
    assert_eq!(Smoother::Gaussian { sigma: 2.0 }.with_strength_step(-2), Smoother::Gaussian { sigma: 1.0 });

    // m cycles through the four kinds and back, at the same strength.
    let e = Smoother::Ema { weight: 0.9 };
    let t = e.next();
    let g = t.next();
    let r = g.next();
    assert_eq!(t, Smoother::TimeWeightedEma { param: 0.9 });
    assert_eq!(g, Smoother::Gaussian { sigma: 10.0 });
    assert_eq!(r, Smoother::RunningAverage { window: 35 });
    assert_eq!(r.next(), e);
    assert_eq!([t.name(), g.name(), r.name()], ["TWEMA", "Gaussian", "running avg"]);
    assert_eq!(g.label(), "Gaussian σ=10");
}

#[test]
fn parameters_are_clamped() {
    assert_eq!(Smoother::Ema { weight: 2.0 }.clamped(), Smoother::Ema { weight: 0.999 });
    assert_eq!(Smoother::TimeWeightedEma { param: -1.0 }.clamped(), Smoother::TimeWeightedEma { param: 0.0 });
    assert_eq!(Smoother::Gaussian { sigma: f64::NAN }.clamped(), Smoother::Gaussian { sigma: 2.0 });
    assert_eq!(Smoother::RunningAverage { window: 0 }.clamped(), Smoother::RunningAverage { window: 1 });
    assert_eq!(Smoother::RunningAverage { window: 1 }.with_param(1e12).param(), MAX_WINDOW as f64);
    assert_eq!(Smoother::Gaussian { sigma: 1.0 }.with_param(1e9).param(), MAX_SIGMA);
    assert_eq!(Smoother::Ema { weight: 0.5 }.param_range(), (0.0, 0.999));
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn all_kinds() -> Vec<Smoother> {
    vec![
        Smoother::Ema { weight: 0.6 },
        Smoother::Ema { weight: 0.99 },
        Smoother::TimeWeightedEma { param: 0.9 },
        Smoother::Gaussian { sigma: 3.0 },
        Smoother::Gaussian { sigma: 40.0 },
        Smoother::RunningAverage { window: 1 },
        Smoother::RunningAverage { window: 9 },
        Smoother::RunningAverage { window: 101 },
    ]
}

fn series(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut ys = noise(n, 5);
    for i in (0..n).step_by(37) {
        ys[i] = if i % 2 == 0 { f64::NAN } else { f64::INFINITY };
    }
    // A restarted run: x goes back at n/2.
    let xs = (0..n).map(|i| if i < n / 2 { i as f64 } else { (i - n / 4) as f64 * 1.5 }).collect();
    (xs, ys)
}

#[test]
fn ema_state_is_bit_identical_to_batch() {
    let (_, ys) = series(3000);
    for w in [0.0, 0.6, 0.99] {
        let mut st = EmaState::new(w);
        let live: Vec<u64> = ys.iter().map(|&y| st.push(y).to_bits()).collect();
        let batch: Vec<u64> = ema(&ys, w).iter().map(|v| v.to_bits()).collect();
        assert_eq!(live, batch);
        assert_eq!(st.count() as usize, ys.iter().filter(|y| y.is_finite()).count());
    }
}

#[test]
fn cache_appends_are_bit_identical_to_batch() {
    let (xs, ys) = series(1500);
    for kind in all_kinds() {
        let mut cache = SmoothCache::new();
        let mut n = 0;
        for chunk in [1, 1, 2, 7, 100, 1, 300, 13, 500, 575] {
            n += chunk;
            let got: Vec<u64> = cache.update(kind, &xs[..n], &ys[..n]).iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = smooth(kind, &xs[..n], &ys[..n]).iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{kind:?} at n = {n}");
        }
        assert_eq!(n, 1500);
        // Only the time-weighted EMA recomputes everything (its range grew); the others extend.
        if !matches!(kind, Smoother::TimeWeightedEma { .. }) {
            assert_eq!(cache.full_recomputes(), 1, "{kind:?}");
        }
    }
}

#[test]
fn cache_recomputes_on_changes_that_are_not_appends() {
    let (xs, ys) = series(200);
    let kind = Smoother::Gaussian { sigma: 2.0 };
    let mut cache = SmoothCache::new();
    cache.update(kind, &xs, &ys);
    // Same data: nothing to do.
    cache.update(kind, &xs, &ys);
    assert_eq!(cache.full_recomputes(), 1);
    // Another smoother, a shorter series, or a changed last point: recompute.
    let other = Smoother::Ema { weight: 0.6 };
    assert_eq!(bits(cache.update(other, &xs, &ys)), bits(&ema(&ys, 0.6)));
    cache.update(other, &xs[..100], &ys[..100]);
    let mut changed = ys.clone();
    changed[99] = 42.0;
    assert_eq!(bits(cache.update(other, &xs[..150], &changed[..150])), bits(&ema(&changed[..150], 0.6)));
    assert_eq!(cache.full_recomputes(), 4);
    cache.clear();
    assert!(cache.values().is_empty());
    cache.update(other, &[], &[]);
    assert!(cache.values().is_empty());
}

#[test]
fn twema_with_fixed_range_extends_without_recompute() {
    let xs: Vec<f64> = (0..100).map(f64::from).collect();
    let ys = noise(100, 9);
    let mut st = TwemaState::new(0.9, 50.0);
    let live: Vec<f64> = xs.iter().zip(&ys).map(|(&x, &y)| st.push(x, y)).collect();
    assert_eq!(live, twema_with_range(&xs, &ys, 0.9, 50.0));
}

proptest! {
    /// Every smoother keeps the length, keeps non-finite values in place, and (being a weighted
    /// average) stays within the range of the finite inputs.
    #[test]
    fn smoothers_are_bounded_averages(
        ys in prop::collection::vec(
            prop_oneof![8 => -1e6f64..1e6, 1 => Just(f64::NAN), 1 => Just(f64::NEG_INFINITY)], 0..300),
        which in 0usize..8,
    ) {
        let kind = all_kinds()[which];
        let xs: Vec<f64> = (0..ys.len()).map(|i| (i * i) as f64).collect();
        let out = smooth(kind, &xs, &ys);
        prop_assert_eq!(out.len(), ys.len());
        let finite: Vec<f64> = ys.iter().copied().filter(|y| y.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let slack = 1e-9 * lo.abs().max(hi.abs()).max(1.0);
        for (o, y) in out.iter().zip(&ys) {
            if y.is_finite() {
                prop_assert!(*o >= lo - slack && *o <= hi + slack, "{} outside {}..{}", o, lo, hi);
            } else {
                prop_assert_eq!(o.to_bits(), y.to_bits());
            }
        }
    }
}

proptest! {
    /// The block sums agree with a plain average over each clipped window.
    #[test]
    fn running_average_matches_brute_force(
        ys in prop::collection::vec(prop_oneof![9 => -1e3f64..1e3, 1 => Just(f64::NAN)], 0..200),
        window in 1usize..60,
    ) {
        let got = running_average(&ys, window);
        let h = window / 2;
        for (p, g) in got.iter().enumerate() {
            if !ys[p].is_finite() {
                prop_assert!(g.is_nan());
                continue;
            }
            let win = &ys[p.saturating_sub(h)..(p + h + 1).min(ys.len())];
            let fin: Vec<f64> = win.iter().copied().filter(|y| y.is_finite()).collect();
            let want = fin.iter().sum::<f64>() / fin.len() as f64;
            prop_assert!((g - want).abs() <= 1e-9 * want.abs().max(1.0), "at {}: {} vs {}", p, g, want);
        }
    }
}

proptest! {
    /// Any range of a centred smoother, computed from the values alone (as a chart reads it
    /// without a column), is bit for bit that range of the batch run.
    #[test]
    fn centred_ranges_equal_the_batch_bit_for_bit(
        ys in prop::collection::vec(
            prop_oneof![8 => -1e6f64..1e6, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY)], 0..700),
        gaussian in any::<bool>(),
        sigma in 0.0f64..40.0,
        window in 1usize..250,
        a in 0usize..700,
        len in 0usize..300,
    ) {
        let kind = if gaussian { Smoother::Gaussian { sigma } } else { Smoother::RunningAverage { window } };
        let centred = Centred::new(kind).unwrap();
        let batch = smooth(kind, &[], &ys);
        let n = ys.len();
        let from = a.min(n);
        let to = (from + len).min(n);
        let mut got = Vec::new();
        centred.range(|i| ys[i], n, from, to, &mut got);
        let bits = |v: &[f64]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&batch[from..to]), "{:?} {}..{} of {}", kind, from, to, n);
    }
}

#[test]
fn centred_ranges_equal_the_batch_at_large_reach() {
    let mut ys = noise(40_000, 3);
    ys[1234] = f64::NAN;
    ys[39_999] = f64::NEG_INFINITY;
    for kind in [
        Smoother::Gaussian { sigma: 1000.0 },
        Smoother::Gaussian { sigma: 4.0 },
        Smoother::RunningAverage { window: 3465 },
        Smoother::RunningAverage { window: 100_001 },
    ] {
        let centred = Centred::new(kind).unwrap();
        let batch = smooth(kind, &[], &ys);
        for (from, to) in
            [(0, 40_000), (0, 1), (39_999, 40_000), (17_000, 17_064), (5, 9000), (31_000, 40_000)]
        {
            let mut got = Vec::new();
            centred.range(|i| ys[i], ys.len(), from, to, &mut got);
            let same = got.iter().zip(&batch[from..to]).all(|(g, b)| g.to_bits() == b.to_bits());
            assert!(same && got.len() == to - from, "{kind:?} {from}..{to}");
        }
    }
    assert!(Centred::new(Smoother::Ema { weight: 0.6 }).is_none());
}

/// A value for the EMA's bit-identity tests: ordinary ones, runs of one value (a constant stretch
/// the EMA returns as is), NaN, infinities, zeros of both signs, and huge, tiny and subnormal
/// magnitudes with long mantissas.
fn ema_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        10 => -1e3f64..1e3,
        3 => Just(0.25),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => prop_oneof![Just(1.7e308), Just(-1.7e308), Just(f64::MAX), Just(f64::MIN)],
        1 => prop_oneof![Just(1e-300), Just(-3e-310), Just(f64::MIN_POSITIVE), Just(5e-324)],
        1 => any::<f64>(),
    ]
}

/// The weights the bit-identity tests use: the ends, the UI's ladder and any in between (those
/// out of range are clamped).
fn ema_weight() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(0.6),
        Just(0.9),
        Just(0.99),
        Just(0.999),
        0.0f64..1.0,
        Just(f64::NAN),
        Just(1.5),
    ]
}

/// Series for those tests: mostly short, some long enough to settle at a high weight (a
/// constant start, a long settled run). Built by repeating a random pattern with noise so long
/// ones stay cheap to generate.
fn ema_series(max: usize) -> impl Strategy<Value = Vec<f64>> {
    (prop::collection::vec(ema_value(), 1..64), 0usize..max, 0usize..40, any::<u64>()).prop_map(
        |(pattern, n, constant, seed)| {
            let wiggle = noise(n, seed);
            (0..n)
                .map(|i| {
                    if i < constant {
                        return 0.25;
                    }
                    let y = pattern[i % pattern.len()];
                    // Ordinary values get noise, so long series are not periodic.
                    if y.is_finite() && y.abs() < 1e3 && y != 0.25 {
                        y + wiggle[i]
                    } else {
                        y
                    }
                })
                .collect()
        },
    )
}

fn pushed_one_by_one(weight: f64, ys: &[f64]) -> (Vec<u64>, EmaState) {
    let mut st = EmaState::new(weight);
    let out = ys.iter().map(|&y| st.push(y).to_bits()).collect();
    (out, st)
}

/// Cuts `0..n` at the given points (resumed appends, as live data arrives).
fn pieces(n: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
    at.extend([0, n]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| (w[0], w[1])).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// `push_all` (its settling and settled stretches) and `push_all_pair` (two series
    /// interleaved, of other lengths and weights, each taken in its own pieces) give bit for bit
    /// what `push` one value after the other gives, and leave the same state.
    #[test]
    fn push_all_and_pairs_equal_push_bit_for_bit(
        a in ema_series(6000),
        b in ema_series(6000),
        wa in ema_weight(),
        wb in ema_weight(),
        cuts_a in prop::collection::vec(any::<usize>(), 0..6),
        cuts_b in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let (want_a, end_a) = pushed_one_by_one(wa, &a);
        let (want_b, end_b) = pushed_one_by_one(wb, &b);
        let bits = |v: &[f64]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();

        let mut got = a.clone();
        let mut st = EmaState::new(wa);
        for (x, y) in pieces(a.len(), &cuts_a) {
            st.push_all(&mut got[x..y]);
        }
        prop_assert_eq!(bits(&got), want_a.clone(), "push_all");
        prop_assert_eq!(format!("{st:?}"), format!("{end_a:?}"));

        // Pieces of each series taken together, a piece of one with a piece of the other (the
        // excess of the longer one alone), as many times as the longer list of pieces needs.
        let (pa, pb) = (pieces(a.len(), &cuts_a), pieces(b.len(), &cuts_b));
        let (mut ga, mut gb) = (a.clone(), b.clone());
        let (mut sa, mut sb) = (EmaState::new(wa), EmaState::new(wb));
        for k in 0..pa.len().max(pb.len()) {
            let (xa, ya) = pa.get(k).copied().unwrap_or((a.len(), a.len()));
            let (xb, yb) = pb.get(k).copied().unwrap_or((b.len(), b.len()));
            sa.push_all_pair(&mut ga[xa..ya], &mut sb, &mut gb[xb..yb]);
        }
        prop_assert_eq!(bits(&ga), want_a, "pair: first series");
        prop_assert_eq!(bits(&gb), want_b, "pair: second series");
        // (As `Debug` text: an unset first value is a NaN, which `==` finds unequal to itself.)
        prop_assert_eq!(format!("{sa:?} {sb:?}"), format!("{end_a:?} {end_b:?}"));
    }
}

#[test]
fn long_pairs_settle_and_stay_bit_identical() {
    // Long enough for 0.999 to settle (37,412 points); a constant start, NaNs, a restart's jump.
    let n = 60_000;
    let mut a = noise(n, 11);
    let mut b = noise(n, 12);
    a[..5000].fill(2.0);
    for i in (0..n).step_by(997) {
        a[i] = f64::NAN;
        b[(i + 3) % n] = f64::NEG_INFINITY;
    }
    b[30_000..].iter_mut().for_each(|y| *y = *y * 1e-3 + 7.0);
    for (wa, wb) in [(0.6, 0.6), (0.999, 0.6), (0.99, 0.999), (0.0, 0.9)] {
        let (want_a, end_a) = pushed_one_by_one(wa, &a);
        let (want_b, end_b) = pushed_one_by_one(wb, &b);
        let (mut ga, mut gb) = (a.clone(), b.clone());
        let (mut sa, mut sb) = (EmaState::new(wa), EmaState::new(wb));
        for k in (0..n).step_by(64) {
            let e = (k + 64).min(n);
            sa.push_all_pair(&mut ga[k..e], &mut sb, &mut gb[k..e]);
        }
        assert!(ga.iter().map(|y| y.to_bits()).eq(want_a), "{wa} {wb}: first");
        assert!(gb.iter().map(|y| y.to_bits()).eq(want_b), "{wa} {wb}: second");
        assert_eq!(format!("{sa:?} {sb:?}"), format!("{end_a:?} {end_b:?}"));
        assert!(sa.settled() && sb.settled(), "{wa} {wb}: settled by the end");
    }
}
