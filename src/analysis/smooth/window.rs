//! The two centred smoothers: a Gaussian kernel and a running average. Each output depends only on
//! the inputs within a fixed reach of it, so after an append only the last `reach` outputs change,
//! and [`tail`] recomputes exactly those, bit-identical to a batch run.
//!
//! Window sums use fixed blocks (van Herk / Gil-Werman): the array is cut into blocks as wide as
//! the window, aligned at absolute indices, and a window's sum is a suffix sum of one block plus a
//! prefix sum of the next. That is O(n) for any width, adds only values inside the window (a huge
//! value leaving the window cannot wreck later sums, as it would with a running sum), and rounds
//! the same way wherever a computation starts.

/// Up to this sigma (in points) the Gaussian is an exact kernel truncated at ±3 sigma; above it,
/// three box passes whose widths match sigma (Kovesi, "Fast Almost-Gaussian Filtering", 2010), O(n)
/// for any sigma and within a few percent of the exact kernel.
pub const GAUSSIAN_EXACT_MAX_SIGMA: f64 = 10.0;

/// How a centred smoother is computed, after its parameter is resolved.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Plan {
    Identity,
    /// Exact kernel, weights for offsets `-r..=r`.
    Kernel(Vec<f64>),
    /// Box passes with these half-widths, in order.
    Boxes(Vec<usize>),
}

impl Plan {
    pub(super) fn gaussian(sigma: f64) -> Plan {
        if !(sigma > 0.0) {
            return Plan::Identity;
        }
        let sigma = sigma.min(super::MAX_SIGMA);
        if sigma <= GAUSSIAN_EXACT_MAX_SIGMA {
            let r = (3.0 * sigma).ceil() as i64;
            let k = (-r..=r).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
            return Plan::Kernel(k);
        }
        // Kovesi: n boxes of widths wl or wl + 2 (odd) whose variances (w^2 - 1)/12 add up to sigma^2.
        let n = 3.0;
        let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
        let mut wl = ideal.floor() as i64;
        if wl % 2 == 0 {
            wl -= 1;
        }
        let wlf = wl as f64;
        let m = ((12.0 * sigma * sigma - n * wlf * wlf - 4.0 * n * wlf - 3.0 * n) / (-4.0 * wlf - 4.0))
            .round()
            .clamp(0.0, n) as usize;
        let widths = (0..3).map(|i| if i < m { wl } else { wl + 2 });
        Plan::Boxes(widths.map(|w| (w.max(1) as usize) / 2).collect())
    }

    pub(super) fn running_average(window: usize) -> Plan {
        match window.min(super::MAX_WINDOW) / 2 {
            0 => Plan::Identity,
            h => Plan::Boxes(vec![h]),
        }
    }

    /// How far (in points) an output can depend on inputs after it: appending to a series of
    /// length n changes only outputs from `n - reach() - 1` on.
    pub(super) fn reach(&self) -> usize {
        match self {
            Plan::Identity => 0,
            Plan::Kernel(k) => k.len() / 2,
            Plan::Boxes(hs) => hs.iter().sum(),
        }
    }
}

/// Gaussian kernel smoothing; `sigma` in points, clamped to 0..=10000 (0 or NaN returns the
/// input). Each output is the kernel-weighted average of the finite values within ±3 sigma (fewer
/// at the ends, renormalised); see [`GAUSSIAN_EXACT_MAX_SIGMA`] for large sigma. Non-finite values
/// pass through and are left out of their neighbours' averages.
pub fn gaussian(ys: &[f64], sigma: f64) -> Vec<f64> {
    tail(&Plan::gaussian(sigma), ys, 0)
}

/// Centred running average over `window` points (`window/2` on each side, so an even window grows
/// by one; 0 and 1 return the input; at most 100001). Fewer points at the ends. Non-finite values
/// pass through and are left out of their neighbours' averages.
pub fn running_average(ys: &[f64], window: usize) -> Vec<f64> {
    tail(&Plan::running_average(window), ys, 0)
}

/// The smoothed outputs for indices `from..ys.len()`, bit-identical to the same slice of a batch
/// run over all of `ys`.
pub(super) fn tail(plan: &Plan, ys: &[f64], from: usize) -> Vec<f64> {
    let n = ys.len();
    let from = from.min(n);
    let mut out = match plan {
        Plan::Identity => return ys[from..].to_vec(),
        Plan::Kernel(k) => kernel(k, ys, from),
        Plan::Boxes(hs) => {
            // Walk back from the last pass to find where each pass must start so that every block
            // it reads is whole.
            let mut starts = vec![0; hs.len() + 1];
            starts[hs.len()] = from;
            for (i, &h) in hs.iter().enumerate().rev() {
                starts[i] = block_start(starts[i + 1].saturating_sub(h), 2 * h + 1);
            }
            let mut cur = ys[starts[0]..].to_vec();
            for (i, &h) in hs.iter().enumerate() {
                cur = box_pass(&cur, starts[i], h, starts[i + 1]);
            }
            cur
        }
    };
    for (o, &y) in out.iter_mut().zip(&ys[from..]) {
        if !y.is_finite() {
            *o = y;
        }
    }
    out
}

fn block_start(i: usize, w: usize) -> usize {
    i / w * w
}

fn kernel(k: &[f64], ys: &[f64], from: usize) -> Vec<f64> {
    let r = k.len() / 2;
    let n = ys.len();
    (from..n)
        .map(|p| {
            let lo = p.saturating_sub(r);
            let hi = (p + r).min(n - 1);
            let (mut s, mut ws) = (0.0, 0.0);
            for (i, &y) in ys[lo..=hi].iter().enumerate() {
                if y.is_finite() {
                    let w = k[lo + i + r - p];
                    s += w * y;
                    ws += w;
                }
            }
            if ws > 0.0 {
                s / ws
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// One centred box average of half-width `h` over `input`, whose first element is at absolute
/// index `base`; returns the outputs for absolute indices `out_start..base + input.len()`.
/// Non-finite inputs are missing; an output with no finite input in its window is NaN.
/// Requires `base <= block_start(out_start - h)`.
fn box_pass(input: &[f64], base: usize, h: usize, out_start: usize) -> Vec<f64> {
    let n = base + input.len();
    let w = 2 * h + 1;
    let region = block_start(out_start.saturating_sub(h), w).max(base);
    debug_assert!(region == base || region % w == 0);
    let at = |i: usize| input[i - base];
    let len = n - region;
    let (mut pre_s, mut pre_c) = (vec![0.0; len], vec![0u32; len]);
    let (mut suf_s, mut suf_c) = (vec![0.0; len], vec![0u32; len]);
    let mut bs = region;
    while bs < n {
        let be = (block_start(bs, w) + w).min(n);
        let (mut s, mut c) = (0.0, 0u32);
        for i in bs..be {
            let v = at(i);
            if v.is_finite() {
                s += v;
                c += 1;
            }
            pre_s[i - region] = s;
            pre_c[i - region] = c;
        }
        let (mut s, mut c) = (0.0, 0u32);
        for i in (bs..be).rev() {
            let v = at(i);
            if v.is_finite() {
                s += v;
                c += 1;
            }
            suf_s[i - region] = s;
            suf_c[i - region] = c;
        }
        bs = be;
    }
    (out_start..n)
        .map(|p| {
            let a = p.saturating_sub(h);
            let b = (p + h).min(n - 1);
            let (ia, ib) = (a - region, b - region);
            let (s, c) = if a / w != b / w {
                (suf_s[ia] + pre_s[ib], suf_c[ia] + pre_c[ib])
            } else if a % w == 0 {
                (pre_s[ib], pre_c[ib])
            } else {
                // Only a window cut short by the end of the data starts inside a block and ends
                // in it: its block's suffix sum runs from the last point.
                debug_assert_eq!(b, n - 1);
                (suf_s[ia], suf_c[ia])
            };
            if c > 0 {
                s / c as f64
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// The exact truncated kernel for any sigma, to measure the box approximation against.
#[cfg(test)]
pub(super) fn exact_gaussian_for_tests(ys: &[f64], sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let k: Vec<f64> = (-r..=r).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    kernel(&k, ys, 0)
}
