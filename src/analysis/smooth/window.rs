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
/// three box passes whose widths match sigma (Kovesi, "Fast Almost-Gaussian Filtering", 2010): O(n)
/// for any sigma, and within 3% of the signal's amplitude of the exact kernel on a noisy sine
/// (`gaussian_boxes_approximate_the_kernel`).
pub const GAUSSIAN_EXACT_MAX_SIGMA: f64 = 4.0;

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
        if sigma.is_nan() || sigma <= 0.0 {
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
                cur = box_pass(&cur, starts[i], h, starts[i + 1], n);
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
    let n = ys.len();
    (from..n).map(|p| kernel_at(k, |i| ys[i], n, p)).collect()
}

/// The kernel-weighted average of the finite values around `p` among `n` values read by `at`.
#[inline]
fn kernel_at(k: &[f64], at: impl Fn(usize) -> f64, n: usize, p: usize) -> f64 {
    let r = k.len() / 2;
    let lo = p.saturating_sub(r);
    let hi = (p + r).min(n - 1);
    let (mut s, mut ws) = (0.0, 0.0);
    for i in lo..=hi {
        let y = at(i);
        if y.is_finite() {
            let w = k[i + r - p];
            s += w * y;
            ws += w;
        }
    }
    if ws > 0.0 {
        s / ws
    } else {
        f64::NAN
    }
}

/// A centred smoother (Gaussian or running average) resolved so that any range of its outputs
/// can be computed from the values alone, bit-identical to the same range of a batch run: a chart
/// then keeps no column of smoothed values (nor a copy of the values), and computes what it reads.
///
/// An output depends only on the values within [`Centred::reach`] of it, and on where the fixed
/// blocks of the box passes fall (aligned at absolute indices), so a range is computed from the
/// values around it: `to - from` plus at most [`Centred::overhead`] values read per pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Centred(Plan);

impl Centred {
    /// The resolved smoother for `kind` (its parameter clamped); None for the EMAs.
    pub fn new(kind: super::Smoother) -> Option<Centred> {
        match kind.clamped() {
            super::Smoother::Gaussian { sigma } => Some(Centred(Plan::gaussian(sigma))),
            super::Smoother::RunningAverage { window } => Some(Centred(Plan::running_average(window))),
            _ => None,
        }
    }

    /// How far (in points) an output depends on values before and after it.
    pub fn reach(&self) -> usize {
        self.0.reach()
    }

    /// Values computed beyond a range to compute it (the windows around its ends, the blocks the
    /// box passes align to): computing a range costs about `to - from + overhead()` per pass.
    pub fn overhead(&self) -> usize {
        match &self.0 {
            Plan::Identity => 0,
            Plan::Kernel(k) => k.len(),
            Plan::Boxes(hs) => hs.iter().map(|h| 3 * h + 1).sum(),
        }
    }

    /// Whether each output is computed on its own (an exact kernel or no smoothing): reading one
    /// value costs the kernel's width, not the blocks around it.
    pub fn pointwise(&self) -> bool {
        !matches!(self.0, Plan::Boxes(_))
    }

    /// Appends to `out` the smoothed values of points `from..to` of a series of `n` values read
    /// by `at`: bit for bit `smooth(kind, _, ys)[from..to]` for those `n` values.
    pub fn range(&self, at: impl Fn(usize) -> f64, n: usize, from: usize, to: usize, out: &mut Vec<f64>) {
        let to = to.min(n);
        if from >= to {
            return;
        }
        let base = out.len();
        // The values are read once each into a buffer (`raw`, from point `lo` on), not once per
        // kernel tap or again for the non-finite pass-through: `at` may decode a packed column
        // (a block header, a few bytes, a division), which costs more than the arithmetic. The
        // sums are the same, in the same order.
        let (raw, lo) = match &self.0 {
            Plan::Identity => return out.extend((from..to).map(at)),
            Plan::Kernel(k) => {
                let r = k.len() / 2;
                let lo = from.saturating_sub(r);
                let raw: Vec<f64> = (lo..(to + r).min(n)).map(&at).collect();
                out.extend((from..to).map(|p| kernel_at(k, |i| raw[i - lo], n, p)));
                (raw, lo)
            }
            Plan::Boxes(hs) => {
                // As `tail`, each pass started where the blocks it reads are whole, and ended
                // where the next pass stops reading (an output `p` of a pass reads its input up
                // to `p + h`, so ending the input there leaves it unchanged).
                let m = hs.len();
                let (mut starts, mut ends) = (vec![0; m + 1], vec![0; m + 1]);
                (starts[m], ends[m]) = (from, to);
                for (i, &h) in hs.iter().enumerate().rev() {
                    starts[i] = block_start(starts[i + 1].saturating_sub(h), 2 * h + 1);
                    ends[i] = (ends[i + 1] + h).min(n);
                }
                // `starts[0] <= from` and `ends[0] >= to`: the buffer holds every point asked for.
                let raw: Vec<f64> = (starts[0]..ends[0]).map(&at).collect();
                let mut cur: Option<Vec<f64>> = None;
                for (i, &h) in hs.iter().enumerate() {
                    let input = cur.as_deref().unwrap_or(&raw);
                    cur = Some(box_pass(input, starts[i], h, starts[i + 1], ends[i + 1]));
                }
                out.extend(cur.unwrap_or_default());
                (raw, starts[0])
            }
        };
        for (o, &y) in out[base..].iter_mut().zip(&raw[from - lo..]) {
            if !y.is_finite() {
                *o = y;
            }
        }
    }
}

/// One centred box average of half-width `h` over `input`, whose first element is at absolute
/// index `base` and whose end is the end of the data; returns the outputs for absolute indices
/// `out_start..out_end.min(base + input.len())`.
/// Non-finite inputs are missing; an output with no finite input in its window is NaN.
/// Requires `base <= block_start(out_start - h)`.
///
/// Streams: the prefix sum of the block holding the window's right end runs along with it, and
/// the suffix sums of the block holding its left end are computed once per block, so memory is
/// O(window) and each input is added twice.
fn box_pass(input: &[f64], base: usize, h: usize, out_start: usize, out_end: usize) -> Vec<f64> {
    let n = base + input.len();
    let out_end = out_end.min(n);
    let w = 2 * h + 1;
    debug_assert!(base <= block_start(out_start.saturating_sub(h), w));
    let at = |i: usize| input[i - base];
    let mut out = Vec::with_capacity(out_end.saturating_sub(out_start));
    if out_start >= out_end {
        return out;
    }
    // Block starts of the window's ends, moved along without integer division (which would
    // dominate this loop): a and b each advance by at most one per output.
    let mut a_bs = block_start(out_start.saturating_sub(h), w);
    let mut b_bs = block_start((out_start + h).min(n - 1), w);
    let (mut pre_s, mut pre_c, mut next) = (0.0, 0u32, b_bs);
    let (mut suf_s, mut suf_c) = (vec![0.0; w], vec![0u32; w]);
    let mut suf_block = usize::MAX;
    for p in out_start..out_end {
        let a = p.saturating_sub(h);
        let b = (p + h).min(n - 1);
        // Prefix sum of b's block, from its start to b.
        while next <= b {
            if next == b_bs + w {
                (b_bs, pre_s, pre_c) = (next, 0.0, 0);
            }
            let v = at(next);
            if v.is_finite() {
                pre_s += v;
                pre_c += 1;
            }
            next += 1;
        }
        if a >= a_bs + w {
            a_bs += w;
        }
        let (s, c) = if a_bs == b_bs && a == a_bs {
            (pre_s, pre_c)
        } else {
            if suf_block != a_bs {
                suf_block = a_bs;
                let (mut s, mut c) = (0.0, 0u32);
                for i in (a_bs..(a_bs + w).min(n)).rev() {
                    let v = at(i);
                    if v.is_finite() {
                        s += v;
                        c += 1;
                    }
                    suf_s[i - a_bs] = s;
                    suf_c[i - a_bs] = c;
                }
            }
            if a_bs != b_bs {
                (suf_s[a - a_bs] + pre_s, suf_c[a - a_bs] + pre_c)
            } else {
                // Only a window cut short by the end of the data starts inside a block and ends
                // in it: its block's suffix sum runs from the last point.
                debug_assert_eq!(b, n - 1);
                (suf_s[a - a_bs], suf_c[a - a_bs])
            }
        };
        out.push(if c > 0 { s / c as f64 } else { f64::NAN });
    }
    out
}

/// The exact truncated kernel for any sigma, to measure the box approximation against.
#[cfg(test)]
pub(super) fn exact_gaussian_for_tests(ys: &[f64], sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let k: Vec<f64> = (-r..=r).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    kernel(&k, ys, 0)
}
