//! Bounded robust statistics for streaming detectors (NOTES §3): a ring buffer of recent values,
//! median and MAD (x1.4826), and a log-space baseline whose noise scale is estimated from first
//! differences, so a falling trend is not mistaken for noise. The current point is always judged
//! against a baseline built before it is added.

/// The last `cap` values, oldest first (numbers, or the [`key`]s of numbers).
#[derive(Clone, Debug)]
pub struct Ring<T = f64> {
    buf: Vec<T>,
    cap: usize,
    head: usize,
}

impl<T: Copy> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Ring { buf: Vec::with_capacity(cap.max(1)), cap: cap.max(1), head: 0 }
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn push(&mut self, x: T) {
        if self.buf.len() < self.cap {
            self.buf.push(x);
        } else {
            self.buf[self.head] = x;
            self.head += 1;
            if self.head == self.cap {
                self.head = 0;
            }
        }
    }
    /// Adds `x`; returns the value that fell out, if the ring was full.
    pub fn push_evict(&mut self, x: T) -> Option<T> {
        if self.buf.len() < self.cap {
            self.buf.push(x);
            return None;
        }
        let old = std::mem::replace(&mut self.buf[self.head], x);
        self.head += 1;
        if self.head == self.cap {
            self.head = 0;
        }
        Some(old)
    }
    /// The values, in no particular order.
    pub fn values(&self) -> &[T] {
        &self.buf
    }
    /// The `i`-th value, oldest first.
    pub fn get(&self, i: usize) -> T {
        let j = self.head + i;
        // `head` is 0 until the ring is full, so no wrap happens before that.
        self.buf[if j >= self.cap { j - self.cap } else { j }]
    }
    /// The newest value.
    pub fn last(&self) -> Option<T> {
        (!self.buf.is_empty()).then(|| self.get(self.buf.len() - 1))
    }
    /// Values `from..to` (oldest-first positions) as at most two slices, in order.
    pub fn slices(&self, from: usize, to: usize) -> (&[T], &[T]) {
        let to = to.min(self.len());
        if from >= to {
            return (&[], &[]);
        }
        let (a, b) = (self.head + from, self.head + to);
        if b <= self.cap {
            (&self.buf[a..b], &[])
        } else if a >= self.cap {
            (&self.buf[a - self.cap..b - self.cap], &[])
        } else {
            (&self.buf[a..], &self.buf[..b - self.cap])
        }
    }
    /// Copies values `from..to` (oldest-first positions) into `out`.
    pub fn copy_range(&self, from: usize, to: usize, out: &mut Vec<T>) {
        out.clear();
        // The oldest-first order is buf[head..] then buf[..head]: copy as at most two slices.
        let (a, b) = self.slices(from, to);
        out.extend_from_slice(a);
        out.extend_from_slice(b);
    }
}

impl Ring<f64> {
    /// Median of the newest `n` values (all when fewer).
    pub fn median_last(&self, n: usize, scratch: &mut Vec<f64>) -> f64 {
        let len = self.len();
        self.copy_range(len.saturating_sub(n), len, scratch);
        median(scratch)
    }
}

/// The position of `x` in the order of [`f64::total_cmp`], as an integer: sorting keys is
/// sorting values, and integer comparisons are cheaper.
#[inline]
pub fn key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

/// The value of a [`key`] (the mapping is its own inverse).
#[inline]
fn value(k: i64) -> f64 {
    f64::from_bits((k ^ ((((k >> 63) as u64) >> 1) as i64)) as u64)
}

/// The last `cap` values and a sorted copy of them (as [`key`]s): the median costs O(1) and a
/// push slides one value over the values between the evicted one and its own place, cheaper
/// than selecting the median again at every point.
#[derive(Clone, Debug)]
pub struct SortedWindow {
    ring: Ring,
    sorted: Vec<i64>,
}

impl SortedWindow {
    pub fn new(cap: usize) -> Self {
        SortedWindow { ring: Ring::new(cap), sorted: Vec::with_capacity(cap.max(1)) }
    }
    pub fn len(&self) -> usize {
        self.ring.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }
    /// The values in arrival order.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
    /// Adds `x` (not NaN); returns the value that fell out, if the window was full.
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let kx = key(x);
        let Some(old) = self.ring.push_evict(x) else {
            let at = self.sorted.partition_point(|&y| y < kx);
            self.sorted.insert(at, kx);
            return None;
        };
        if let Ok(s) = <&mut [i64; 3]>::try_from(&mut self.sorted[..]) {
            // The overfitting rule's 3 evaluations: the ring's three keys sorted by selects (a
            // network of three compare-exchanges), where `slide_short`'s direction branch
            // mispredicted on noisy evaluations (2.8% of `tmon check`'s CPU on DETR, whose lines
            // carry 60 eval losses).
            let v = self.ring.values();
            let (a, b, c) = (key(v[0]), key(v[1]), key(v[2]));
            let (lo, hi) = (a.min(b), a.max(b));
            let mid = lo.max(c);
            *s = [lo.min(c), mid.min(hi), mid.max(hi)];
            return Some(old);
        }
        let ko = key(old);
        if let Ok(s) = <&mut [i64; SMALL]>::try_from(&mut self.sorted[..]) {
            slide(s, ko, kx);
            return Some(old);
        }
        if self.sorted.len() < SMALL {
            slide_short(&mut self.sorted, ko, kx);
            return Some(old);
        }
        let s = &mut self.sorted;
        // Both places by binary search, then one `copy_within`: sliding the new key over its
        // neighbours one compare at a time mispredicts on noisy values (BENCHMARKS.md: 2-3.6% less
        // CPU for `tmon check` on the peers-style log; counting places instead was slower).
        let (from, below_new) = (s.partition_point(|&y| y < ko), s.partition_point(|&y| y < kx));
        if s.get(from) != Some(&ko) {
            // Unreachable while the invariant holds; keep the window sorted regardless.
            s.insert(below_new, kx);
            return Some(old);
        }
        // `from` is the evicted key's first place; the new key goes before the first greater
        // or equal key once the evicted one is out (equal keys are the same value: either order).
        if kx > ko {
            // The evicted key was counted below the new one.
            let to = below_new - 1;
            s.copy_within(from + 1..=to, from);
            s[to] = kx;
        } else {
            s.copy_within(below_new..from, below_new + 1);
            s[below_new] = kx;
        }
        Some(old)
    }
    /// Median of the values in the window; NaN when empty.
    pub fn median(&self) -> f64 {
        let n = self.sorted.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => value(self.sorted[n / 2]),
            _ => (value(self.sorted[n / 2 - 1]) + value(self.sorted[n / 2])) / 2.0,
        }
    }
}

/// The window size of the spike, divergence and exploding-gradient rules (`spike.window`'s
/// default), given a path of its own.
const SMALL: usize = 16;

/// Takes key `ko` (present) out of the sorted `s` and puts `kx` in, without looking up places
/// and without a branch: every slot is computed from its neighbours with selects the compiler
/// unrolls. For a window of 16 this costs about 0.6x the two binary searches and the
/// `copy_within` (a `memmove` call) of the general path (a stand-alone loop of 20M noisy pushes:
/// 20-24 against 32-36 ns a push), and the one formula for both directions about 0.75x the
/// earlier two, one for each direction, whose branch mispredicted on noisy values (the same kind
/// of loop: 10.4 against 13.4 ns a push).
///
/// Why it is that path's result: keys are the values' bits, so equal keys are the same value and
/// it does not matter which copy of `ko` goes. With `ko`'s first copy taken out, the window reads
/// `t[j] = s[j]` below it and `s[j + 1]` from it on, that is `s[j]` where `s[j] < ko` and
/// `s[j + 1]` elsewhere (`t[15]` is past the end: plus infinity). Putting `kx` into the sorted `t`
/// gives, at slot j, the middle one of `t[j - 1] <= t[j]` and `kx`: `max(t[j - 1], min(t[j], kx))`
/// (`t[-1]` minus infinity).
#[inline]
fn slide(s: &mut [i64; SMALL], ko: i64, kx: i64) {
    let src = *s;
    let mut t = [i64::MAX; SMALL];
    for j in 0..SMALL {
        let next = if j + 1 < SMALL { src[j + 1] } else { i64::MAX };
        t[j] = if src[j] < ko { src[j] } else { next };
    }
    for j in 0..SMALL {
        let prev = if j > 0 { t[j - 1] } else { i64::MIN };
        s[j] = prev.max(t[j].min(kx));
    }
}

/// [`slide`] for a window shorter than [`SMALL`] other than 3 (`overfit.strips` set to another
/// count; the default 3 is sorted by selects in [`SortedWindow::push`]), whose
/// `copy_within` of one or two keys was mostly the cost of calling `memmove`. In place: going
/// up, slot j reads slot j + 1 before it is written; going down, the old slot j - 1 is kept.
#[inline]
fn slide_short(s: &mut [i64], ko: i64, kx: i64) {
    let n = s.len();
    if kx > ko {
        for j in 0..n {
            let next = if j + 1 < n { s[j + 1] } else { i64::MAX };
            let cur = s[j];
            s[j] = if cur >= ko { cur.max(next.min(kx)) } else { cur };
        }
    } else {
        let mut prev = i64::MIN;
        for slot in s.iter_mut() {
            let cur = *slot;
            *slot = if cur <= ko { cur.min(prev.max(kx)) } else { cur };
            prev = cur;
        }
    }
}

/// Median of `xs` (reordered in place); NaN when empty.
pub fn median(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    // Up to three values (the task and overfitting rules' levels, at every evaluation) by
    // selects on their keys: the same values as the selection below, which costs a call and
    // unpredictable branches.
    match *xs {
        [] => return f64::NAN,
        [a] => return a,
        [a, b] => {
            let (a, b) = (key(a), key(b));
            // As below: the lower value goes through `f64::max` from minus infinity.
            return (f64::NEG_INFINITY.max(value(a.min(b))) + value(a.max(b))) / 2.0;
        }
        [a, b, c] => {
            let (a, b, c) = (key(a), key(b), key(c));
            return value(a.min(b).max(a.max(b).min(c)));
        }
        _ => {}
    }
    let (_, &mut hi, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        hi
    } else {
        let lo = xs[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// Robust standard deviation: 1.4826 x the median absolute deviation (reorders `xs`).
pub fn mad_sigma(xs: &mut [f64]) -> f64 {
    let m = median(xs);
    for x in xs.iter_mut() {
        *x = (*x - m).abs();
    }
    1.4826 * median(xs)
}

/// Median of values given by their [`key`]s (reordered in place); NaN when empty. Selecting
/// integer keys is several times cheaper than selecting values by `total_cmp`. The reference for
/// [`NearHints`], which the detectors use.
#[cfg(test)]
fn median_keys(keys: &mut [i64]) -> f64 {
    let n = keys.len();
    if n == 0 {
        return f64::NAN;
    }
    let (below, &mut hi, _) = keys.select_nth_unstable(n / 2);
    let hi = value(hi);
    if n % 2 == 1 {
        hi
    } else {
        let lo = below.iter().copied().max().map_or(f64::NAN, value);
        (lo + hi) / 2.0
    }
}

/// [`mad_sigma`] of values given by their [`key`]s, none NaN (reordered in place).
#[cfg(test)]
fn mad_sigma_keys(keys: &mut [i64]) -> f64 {
    let m = median_keys(keys);
    for k in keys.iter_mut() {
        *k = key((value(*k) - m).abs());
    }
    1.4826 * median_keys(keys)
}

/// The `W` largest of `keys`, largest first (`i64::MIN` where there are fewer): each key is put
/// in place with selects (as in [`slide`]), no branch, so keys in any order cost the same.
#[inline]
fn largest<const W: usize>(keys: &[i64]) -> [i64; W] {
    let mut best = [i64::MIN; W];
    for &k in keys {
        let old = best;
        best[0] = old[0].max(k);
        for j in 1..W {
            best[j] = old[j].max(old[j - 1].min(k));
        }
    }
    best
}

/// The `W` smallest of `keys`, smallest first (`i64::MAX` where there are fewer).
#[inline]
fn smallest<const W: usize>(keys: &[i64]) -> [i64; W] {
    let mut best = [i64::MAX; W];
    for &k in keys {
        let old = best;
        best[0] = old[0].min(k);
        for j in 1..W {
            best[j] = old[j].min(old[j - 1].max(k));
        }
    }
    best
}

/// The most places from the hint's at which [`ranks_near`] looks.
const NEAR: usize = 8;

/// The keys of ranks `r - 1` (when `pair`; `r` is then at least 1) and `r` of `keys` in ascending
/// order, found from `hint` (a key near rank `r`: the same statistic at the previous refresh);
/// `None` when rank `r` is too far from the hint's. `split` is scratch of at least twice the keys.
///
/// Why it is the selection's result: order statistics of integers are unique, whichever way they
/// are found. The keys are split without branches into the `c` below the hint and the rest. When
/// `c > r`, ranks `r` and `r - 1` are among those below, at places `c - 1 - r` and `c - r`
/// counted down from their largest; otherwise among the rest, at places `r - c` and `r - 1 - c`
/// counted up from their smallest (rank `r - 1` is the largest below the hint when `c == r`).
/// A window that slides by a quarter moves them by a few places (DETR's noise scales: within 4
/// in four refreshes of five, within 8 in 92%), so the few largest or smallest of one side (about
/// half the window) are all that is needed, where a selection reorders the whole window with
/// unpredictable branches.
#[inline]
fn ranks_near(keys: &[i64], r: usize, pair: bool, hint: i64, split: &mut [i64]) -> Option<(i64, i64)> {
    let n = keys.len();
    let (below, rest) = split.split_at_mut(n);
    let (mut c, mut u) = (0, 0);
    for &k in keys {
        let lower = k < hint;
        below[c] = k;
        rest[u] = k;
        c += usize::from(lower);
        u += usize::from(!lower);
    }
    if c > r {
        let at = c - 1 - r;
        let t = at + 1 + usize::from(pair);
        let pick = |b: &[i64]| (b[t - 1], b[at]);
        let below = &below[..c];
        return if t <= 4 {
            Some(pick(&largest::<4>(below)))
        } else if t <= NEAR {
            Some(pick(&largest::<NEAR>(below)))
        } else {
            None
        };
    }
    let at = r - c;
    let lower = if pair && at == 0 { below[..c].iter().copied().max()? } else { i64::MIN };
    let pick = |b: &[i64]| {
        (
            if !pair {
                b[at]
            } else if at == 0 {
                lower
            } else {
                b[at - 1]
            },
            b[at],
        )
    };
    let rest = &rest[..u];
    if at < 4 {
        Some(pick(&smallest::<4>(rest)))
    } else if at < NEAR {
        Some(pick(&smallest::<NEAR>(rest)))
    } else {
        None
    }
}

/// Median of values given by their [`key`]s, found from `hint` (the key at rank `n / 2` the last
/// time, kept in it for the next) by [`ranks_near`], or selected when that is too far. The same
/// value as a selection (`median_keys`), bit for bit; NaN when empty. `keys` may be reordered.
fn median_keys_near(keys: &mut [i64], hint: &mut Option<i64>, split: &mut Vec<i64>) -> f64 {
    let n = keys.len();
    if n == 0 {
        return f64::NAN;
    }
    let (r, pair) = (n / 2, n.is_multiple_of(2));
    if split.len() < 2 * n {
        split.resize(2 * n, 0);
    }
    let (lo, hi) = match hint.and_then(|h| ranks_near(keys, r, pair, h, split)) {
        Some(found) => found,
        None => {
            let (below, &mut hi, _) = keys.select_nth_unstable(r);
            (if pair { below.iter().copied().max().unwrap_or(hi) } else { hi }, hi)
        }
    };
    *hint = Some(hi);
    if pair {
        (value(lo) + value(hi)) / 2.0
    } else {
        value(hi)
    }
}

/// Hints for a median and the MAD around it, kept from one refresh to the next: a window that
/// slides by a quarter moves its order statistics by a few ranks, which [`ranks_near`] finds in
/// two passes without branches where a selection reorders the whole window.
#[derive(Clone, Debug, Default)]
pub struct NearHints {
    median: Option<i64>,
    mad: Option<i64>,
    split: Vec<i64>,
}

impl NearHints {
    /// The median found last time, as a value (a centre for [`LogBaseline::scale_at_most`]).
    fn last_median(&self) -> Option<f64> {
        self.median.map(value)
    }

    /// Median of values given by their [`key`]s (reordered in place), as a selection finds it.
    pub fn median(&mut self, keys: &mut [i64]) -> f64 {
        median_keys_near(keys, &mut self.median, &mut self.split)
    }

    /// [`mad_sigma`] of values given by their [`key`]s (reordered in place), bit for bit.
    pub fn mad_sigma(&mut self, keys: &mut [i64]) -> f64 {
        let m = median_keys_near(keys, &mut self.median, &mut self.split);
        for k in keys.iter_mut() {
            *k = key((value(*k) - m).abs());
        }
        1.4826 * median_keys_near(keys, &mut self.mad, &mut self.split)
    }
}

/// A bound on the MAD (the median absolute deviation from the median, as [`mad_sigma`] finds it
/// before its factor) of the values whose [`key`]s are `a` and `b`: `fl(hi - lo)` for
/// `[lo, hi] = [centre - half, centre + half]`, when more than half of them lie in it; `None`
/// otherwise. (Why: [`LogBaseline::scale_at_most`].) One counting pass, no selection.
fn mad_at_most(a: &[i64], b: &[i64], centre: f64, half: f64) -> Option<f64> {
    let (lo, hi) = (centre - half, centre + half);
    // Far from overflow, so the mean of two values in the interval stays in it.
    if !(half > 0.0 && lo.abs() < 1e300 && hi.abs() < 1e300) {
        return None;
    }
    let (klo, khi) = (key(lo), key(hi));
    let count = |s: &[i64]| s.iter().map(|&k| usize::from(klo <= k && k <= khi)).sum::<usize>();
    (count(a) + count(b) > (a.len() + b.len()) / 2).then_some(hi - lo)
}

/// Differences in the noise scale.
const DIFFS: usize = 64;
/// The noise scale is refreshed every this many points (it moves slowly; this keeps the cost
/// per point small on files with millions of lines).
const REFRESH: usize = 16;
/// Differences kept: those of the latest refresh plus the ones pushed since.
const KEPT: usize = DIFFS + REFRESH;
/// Smallest noise scale in log units (1%), so a near-constant series is not infinitely sensitive.
const MIN_SCALE: f64 = 0.01;

/// A baseline for a positive series in log space: the rolling median of the last `window` log
/// values, and a noise scale from the MAD of first differences divided by sqrt(2) (the
/// difference of two independent noises has twice the variance).
///
/// The scale is refreshed every `REFRESH` points from the last `DIFFS` differences, but only
/// computed when a detector asks for it: most points are judged by the level alone (a value
/// below the ratio guard cannot be a spike whatever the noise), so on a healthy series the two
/// selections a refresh costs are mostly never paid. The differences of the latest refresh are
/// still in the ring when it is computed late, so the scale is the same as an eager one.
#[derive(Clone, Debug)]
pub struct LogBaseline {
    values: SortedWindow,
    /// The differences as [`key`]s: the noise scale's selections work on keys, so they are
    /// converted once a point rather than all 64 again at every refresh.
    diffs: Ring<i64>,
    /// Differences pushed so far.
    diffs_pushed: u64,
    scale: f64,
    since_refresh: usize,
    /// `diffs_pushed` at the latest refresh, while its scale is not computed yet.
    pending: Option<u64>,
    keys: Vec<i64>,
    hints: NearHints,
    /// The latest [`LogBaseline::scale_at_most`]: the refresh it was for (`pending`), the bound
    /// asked (bits) and what was found.
    bound: Option<(u64, u64, Option<f64>)>,
}

impl LogBaseline {
    pub fn new(window: usize) -> Self {
        LogBaseline {
            values: SortedWindow::new(window.max(1)),
            diffs: Ring::new(KEPT),
            diffs_pushed: 0,
            scale: MIN_SCALE,
            since_refresh: REFRESH,
            pending: None,
            keys: Vec::with_capacity(DIFFS),
            hints: NearHints::default(),
            bound: None,
        }
    }

    /// Points seen so far (capped at the window).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// For log value `x` not yet added: (median of the previous values, robust z of `x`).
    pub fn assess(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.values.is_empty() {
            return None;
        }
        let level = self.values.median();
        Some((level, (x - level) / self.scale()))
    }

    /// The current noise scale of one log value (robust sigma), at least 1%.
    pub fn scale(&mut self) -> f64 {
        if let Some(at) = self.pending.take() {
            let behind = (self.diffs_pushed - at) as usize;
            let to = self.diffs.len() - behind;
            let from = to - (at as usize).min(DIFFS);
            self.diffs.copy_range(from, to, &mut self.keys);
            self.scale = self.hints.mad_sigma(&mut self.keys) / std::f64::consts::SQRT_2;
        }
        self.scale.max(MIN_SCALE)
    }

    /// A bound on [`LogBaseline::scale`] (at least it, bit for bit as computed), about `want`,
    /// when the differences tell it without the scale's two selections; `None` when they do not
    /// (then ask `scale`). A rule whose threshold is `max(floor, k x scale)` needs no more than
    /// to know `k x scale` is under the floor, which on a healthy series it is by far: the
    /// divergence rule of a loss above half its ratio asked for the scale at every refresh, the
    /// two selections 3-4% of `tmon check`'s CPU on DETR's 60 training losses a line.
    ///
    /// Why it is a bound: if at least `n / 2 + 1` of the `n` differences lie in `[lo, hi]`, fewer
    /// than half lie on either side, so the median (both middle ranks, and their rounded mean) is
    /// in `[lo, hi]` too, and those differences' rounded deviations from it are at most
    /// `w = fl(hi - lo)` (rounding is monotone and `w` is the rounded width): the deviations'
    /// middle ranks are at most `w`, and so is the MAD. Every step from the MAD to the scale
    /// (times 1.4826, over sqrt(2), the floor) is monotone, so the same steps on `w` bound it.
    /// The interval is centred on the last median found (0 before one), `want`'s width wide.
    ///
    /// Kept until the next refresh, as the scale is (a rule asks at every point of a climb).
    pub fn scale_at_most(&mut self, want: f64) -> Option<f64> {
        let Some(at) = self.pending else { return Some(self.scale.max(MIN_SCALE)) };
        match self.bound {
            Some((then, asked, found)) if then == at && asked == want.to_bits() => found,
            _ => {
                let found = self.bound_now(at, want);
                self.bound = Some((at, want.to_bits(), found));
                found
            }
        }
    }

    fn bound_now(&self, at: u64, want: f64) -> Option<f64> {
        let behind = (self.diffs_pushed - at) as usize;
        let to = self.diffs.len() - behind;
        let n = (at as usize).min(DIFFS);
        let half = want * std::f64::consts::SQRT_2 / 1.4826 / 2.0;
        let centre = self.hints.last_median().filter(|c| c.is_finite()).unwrap_or(0.0);
        let (a, b) = self.diffs.slices(to - n, to);
        let w = mad_at_most(a, b, centre, half)?;
        Some((1.4826 * w / std::f64::consts::SQRT_2).max(MIN_SCALE))
    }

    /// The noise scale without its floor (an evaluation's loss can be far steadier than 1%).
    pub fn raw_scale(&mut self) -> f64 {
        self.scale();
        self.scale
    }

    /// Median of the newest `window` values, the newest included.
    pub fn level(&self) -> f64 {
        self.values.median()
    }

    /// Adds log value `x`.
    pub fn push(&mut self, x: f64) {
        if let Some(prev) = self.values.ring().last() {
            self.diffs.push(key(x - prev));
            self.diffs_pushed += 1;
        }
        self.values.push(x);
        self.since_refresh += 1;
        if self.since_refresh >= REFRESH && self.diffs_pushed >= 8 {
            self.since_refresh = 0;
            self.pending = Some(self.diffs_pushed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_by_hand() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
        // |x - 3| = 2,1,0,1,97 -> median 1.
        assert!((mad_sigma(&mut [1.0, 2.0, 3.0, 4.0, 100.0]) - 1.4826).abs() < 1e-12);
    }

    #[test]
    fn ring_keeps_the_newest() {
        let mut r = Ring::new(3);
        for x in 1..=5 {
            r.push(x as f64);
        }
        assert_eq!((r.get(0), r.get(2), r.last()), (3.0, 5.0, Some(5.0)));
        let mut s = Vec::new();
        for (from, to, want) in
            [(0, 3, vec![3.0, 4.0, 5.0]), (1, 3, vec![4.0, 5.0]), (0, 1, vec![3.0]), (2, 9, vec![5.0])]
        {
            r.copy_range(from, to, &mut s);
            assert_eq!(s, want, "{from}..{to}");
        }
        assert_eq!(r.median_last(2, &mut s), 4.5);
    }

    #[test]
    fn sorted_window_median_matches_a_full_select() {
        for cap in [1, 2, 7, 16, 64, 65, 200] {
            let mut w = SortedWindow::new(cap);
            let mut r = Ring::new(cap);
            let mut x = 0.3f64;
            let mut s = Vec::new();
            for i in 0..1000 {
                // A deterministic jumble with repeats, negative values and both zeros.
                x = (x * 7.31 + 0.17).fract();
                let v = match i % 7 {
                    0 => 0.5,
                    1 => -x,
                    2 if i % 3 == 0 => -0.0,
                    2 => 0.0,
                    _ => x,
                };
                assert_eq!(w.push(v).is_some(), i >= cap);
                r.push(v);
                assert_eq!(w.median().to_bits(), r.median_last(cap, &mut s).to_bits(), "cap {cap} at {i}");
                assert!(w.sorted.windows(2).all(|p| p[0] <= p[1]), "cap {cap} at {i}");
            }
        }
    }

    /// Windows of 16 and under (their own paths) and of 17 (the general one) hold exactly the ring's
    /// values sorted, on values with many repeats, both zeros and infinities.
    #[test]
    fn sorted_window_holds_the_ring_sorted() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for cap in [1, 2, 3, 5, SMALL - 1, SMALL, SMALL + 1] {
            let mut w = SortedWindow::new(cap);
            let mut s = Vec::new();
            for i in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = match x % 11 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => f64::INFINITY,
                    3 => f64::NEG_INFINITY,
                    4..=6 => ((x >> 8) % 5) as f64 - 2.0,
                    _ => (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5,
                };
                w.push(v);
                w.ring().copy_range(0, w.len(), &mut s);
                let mut want: Vec<i64> = s.iter().map(|&v| key(v)).collect();
                want.sort_unstable();
                assert_eq!(w.sorted, want, "cap {cap} at {i}");
            }
        }
    }

    /// The slide of a window of 16 before it was one formula: a pass for each direction.
    fn slide_by_direction(s: &mut [i64; SMALL], ko: i64, kx: i64) {
        let src = *s;
        for j in 0..SMALL {
            let (prev, cur) = (if j > 0 { src[j - 1] } else { i64::MIN }, src[j]);
            let next = if j + 1 < SMALL { src[j + 1] } else { i64::MAX };
            s[j] = match (kx > ko, cur >= ko, cur <= ko) {
                (true, true, _) => cur.max(next.min(kx)),
                (false, _, true) => cur.min(prev.max(kx)),
                _ => cur,
            };
        }
    }

    /// `slide` against the earlier pass for each direction and against a sort, on raw keys: few
    /// distinct keys (many repeats), the extreme keys, and wide random ones, 32 seeds.
    #[test]
    fn the_one_formula_slide_is_the_sort() {
        for seed in 0..32u64 {
            let mut rng = crate::harness::rng::Rng::new(seed);
            let mut next = || rng.next_u64();
            let draw = |r: u64| match (seed % 4, r % 13) {
                (_, 0) => i64::MIN,
                (_, 1) => i64::MAX,
                (0, _) => (r >> 8) as i64 % 3,
                (1, _) => (r >> 8) as i64 % 40 - 20,
                _ => r as i64,
            };
            let mut ring: Vec<i64> = (0..SMALL).map(|_| draw(next())).collect();
            let mut s: [i64; SMALL] = ring.clone().try_into().unwrap();
            s.sort_unstable();
            let mut old = s;
            for i in 0..5_000 {
                let kx = draw(next());
                let h = i % SMALL;
                let ko = std::mem::replace(&mut ring[h], kx);
                slide(&mut s, ko, kx);
                slide_by_direction(&mut old, ko, kx);
                let mut want = ring.clone();
                want.sort_unstable();
                assert_eq!(s[..], want[..], "seed {seed} at {i}");
                assert_eq!(s, old, "seed {seed} at {i}");
            }
        }
    }

    #[test]
    fn a_steady_trend_is_not_noise() {
        // A loss falling 1% per step with no noise: differences are constant, so the scale is
        // the floor, and a point continuing the trend has a z-score of about -1/0.01 * ... < 0.
        let mut b = LogBaseline::new(16);
        for i in 0..100 {
            b.push(-0.01 * i as f64);
        }
        let (_, z) = b.assess(-0.01 * 100.0).unwrap();
        assert!(z < 0.0, "z {z}");
        let (_, z) = b.assess(-0.01 * 100.0 + 0.5).unwrap();
        assert!(z > 20.0, "z {z}");
    }

    /// A deterministic jumble with repeats and negative values.
    fn jumble(n: usize) -> Vec<f64> {
        let mut x = 0.3f64;
        (0..n)
            .map(|i| {
                x = (x * 7.31 + 0.17).fract();
                if i % 7 == 0 {
                    0.25
                } else {
                    (x - 0.4) * (1.0 + (i % 13) as f64)
                }
            })
            .collect()
    }

    #[test]
    fn keys_sort_like_total_cmp() {
        let mut xs = jumble(300);
        xs.extend([0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, -1e-310]);
        for &a in &xs {
            assert_eq!(value(key(a)).to_bits(), a.to_bits());
            for &b in &xs[..40] {
                assert_eq!(key(a).cmp(&key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
        for n in [1, 2, 3, 16, 63, 64] {
            let xs = &jumble(n + 5)[5..];
            let mut keys: Vec<i64> = xs.iter().map(|&x| key(x)).collect();
            assert_eq!(mad_sigma_keys(&mut keys), mad_sigma(&mut xs.to_vec()), "n {n}");
        }
    }

    /// `NearHints` against the selections on sliding windows of many sizes and strides, with
    /// repeats, both zeros, infinities and NaNs of both signs (ordered as `total_cmp` orders them),
    /// steady and jumping data (hints near and far), bit for bit.
    #[test]
    fn near_hints_are_the_selections() {
        for seed in 1..=40u64 {
            let mut rng = crate::harness::rng::Rng::new(seed);
            let mut rnd = move || rng.next_u64();
            let n = [1, 2, 3, 7, 8, 16, 63, 64, 65, 127, 128][seed as usize % 11];
            let stride = [1, 3, 16, 32, 64][seed as usize % 5];
            let len = 400 + n;
            let mut walk = 0.0f64;
            let xs: Vec<f64> = (0..len)
                .map(|_| {
                    let r = rnd();
                    walk += ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.1;
                    match r % 23 {
                        0 => 0.0,
                        1 => -0.0,
                        2 if seed % 3 == 0 => f64::INFINITY,
                        3 if seed % 3 == 0 => f64::NEG_INFINITY,
                        4 if seed % 4 == 0 => f64::NAN,
                        5 if seed % 4 == 0 => -f64::NAN,
                        6..=8 => ((r >> 8) % 3) as f64,
                        9 if seed % 2 == 0 => walk + 100.0,
                        _ => walk + ((r >> 20) % 1000) as f64 * 1e-4,
                    }
                })
                .collect();
            let mut hints = NearHints::default();
            let mut start = 0;
            while start + n <= len {
                let w = &xs[start..start + n];
                let mut a: Vec<i64> = w.iter().map(|&v| key(v)).collect();
                let mut b = a.clone();
                assert_eq!(
                    hints.median(&mut a).to_bits(),
                    median_keys(&mut b).to_bits(),
                    "seed {seed} at {start}"
                );
                let mut a: Vec<i64> = w.iter().map(|&v| key(v)).collect();
                let mut b = a.clone();
                assert_eq!(
                    hints.mad_sigma(&mut a).to_bits(),
                    mad_sigma_keys(&mut b).to_bits(),
                    "seed {seed} at {start}"
                );
                if !w.iter().any(|v| v.is_nan()) {
                    assert_eq!(
                        hints.mad_sigma(&mut w.iter().map(|&v| key(v)).collect::<Vec<_>>()).to_bits(),
                        mad_sigma(&mut w.to_vec()).to_bits(),
                        "seed {seed} at {start}"
                    );
                }
                start += stride;
            }
        }
    }

    /// The selects for up to three values are the selection, bit for bit, on every triple of
    /// values with both zeros, infinities and NaNs of both signs.
    #[test]
    fn small_medians_are_the_selection() {
        fn selected(xs: &mut [f64]) -> f64 {
            let n = xs.len();
            let (_, &mut hi, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
            if n % 2 == 1 {
                hi
            } else {
                let lo = xs[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo + hi) / 2.0
            }
        }
        let vals = [0.0, -0.0, 1.5, -2.0, 1.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, 3e-310];
        for &a in &vals {
            assert_eq!(median(&mut [a]).to_bits(), selected(&mut [a]).to_bits());
            for &b in &vals {
                assert_eq!(median(&mut [a, b]).to_bits(), selected(&mut [a, b]).to_bits(), "{a} {b}");
                for &c in &vals {
                    let want = selected(&mut [a, b, c]).to_bits();
                    assert_eq!(median(&mut [a, b, c]).to_bits(), want, "{a} {b} {c}");
                }
            }
        }
    }

    /// Every place around a hint: the hint at each key of a window with repeats, and between them.
    #[test]
    fn ranks_near_every_place() {
        let (mut split, mut found) = (Vec::new(), 0);
        for n in 1..=20usize {
            let keys: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 13 - 6).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            let (r, pair) = (n / 2, n % 2 == 0);
            for hint in -8..=8 {
                split.resize(2 * n, 0);
                if let Some((lo, hi)) = ranks_near(&keys, r, pair, hint, &mut split) {
                    found += 1;
                    assert_eq!(hi, sorted[r], "n {n} hint {hint}");
                    if pair {
                        assert_eq!(lo, sorted[r - 1], "n {n} hint {hint}");
                    }
                }
            }
        }
        // Most hints are near enough: the places are found, not selected.
        assert!(found > 20 * 17 * 3 / 4, "{found}");
    }

    /// The noise scale as it was computed before it was made lazy: at every refresh.
    struct Eager {
        diffs: Ring,
        last: Option<f64>,
        since: usize,
        scale: f64,
    }

    impl Eager {
        fn push(&mut self, x: f64) {
            if let Some(p) = self.last.replace(x) {
                self.diffs.push(x - p);
            }
            self.since += 1;
            if self.since >= REFRESH && self.diffs.len() >= 8 {
                self.since = 0;
                let mut s = Vec::new();
                self.diffs.copy_range(0, self.diffs.len(), &mut s);
                self.scale = mad_sigma(&mut s) / std::f64::consts::SQRT_2;
            }
        }
    }

    /// `scale_at_most` is never under the scale computed: on steady, noisy, trending and jumping
    /// series (with both zeros, repeats, infinities), asked for bounds just under, at and over the
    /// scale, at every point, with the scale computed or pending; and it is found for wide bounds.
    #[test]
    fn the_bound_is_at_least_the_scale() {
        let (mut found, mut asked) = (0, 0);
        for seed in 0..48u64 {
            let mut rng = crate::harness::rng::Rng::new(seed);
            let mut rnd = move || rng.next_u64();
            let mut base = LogBaseline::new([1, 3, 16, 50][seed as usize % 4]);
            let mut level = 0.0f64;
            for i in 0..1500 {
                let r = rnd();
                let u = (r >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                level += match seed % 6 {
                    0 => 0.0,
                    1 => -0.002,
                    2 => 0.3,
                    _ => 0.0,
                };
                let x = match (seed % 6, r % 97) {
                    (_, 0) if seed % 5 == 0 => f64::INFINITY,
                    (_, 1) if seed % 5 == 0 => f64::NEG_INFINITY,
                    (_, 2..=4) => level + 5.0,
                    // Few distinct differences: the MAD is one of them, the bound often tight.
                    (3, _) => level + ((r >> 8) % 3) as f64 * 0.01,
                    (0, _) if seed % 4 == 0 => level + ((r >> 8) % 5) as f64 * 0.125,
                    (4, _) if i % 200 < 3 => level + 3.0,
                    (5, _) => level + u * 1e-6,
                    _ => level + u * [0.01, 0.1, 1.0][seed as usize % 3],
                };
                base.push(if x == 0.0 && r % 2 == 0 { -0.0 } else { x });
                let exact = base.clone().scale();
                let fs = [0.0, 0.999_999, 1.0, 1.000_001, 10.0, 1e6].into_iter();
                for f in fs.chain((0..40).map(|j| 0.5 + j as f64 * 0.05)) {
                    asked += 1;
                    if let Some(b) = base.scale_at_most(exact * f) {
                        found += 1;
                        assert!(exact <= b, "seed {seed} at {i}: scale {exact} over its bound {b}");
                    }
                }
                // Computed now and then, as the rules ask: the bound is then the scale.
                if i % 37 == 0 {
                    let s = base.scale();
                    assert_eq!(base.scale_at_most(s / 2.0), Some(s), "seed {seed} at {i}");
                }
            }
        }
        assert!(found > asked / 3, "{found} of {asked}");
    }

    /// `mad_at_most` against the MAD found by the selections, bit for bit, on windows of 1 to
    /// 130 keys split in two slices: random values, ties, both zeros, values packed at the
    /// interval's ends (where the bound is the MAD itself), huge values and non-finite ones
    /// (outside the interval), and intervals that hold just over and just under half.
    #[test]
    fn the_mad_bound_is_at_least_the_mad() {
        let (mut found, mut tight) = (0, 0);
        for seed in 0..400u64 {
            let mut rng = crate::harness::rng::Rng::new(seed);
            let mut rnd = move || rng.next_u64();
            let n = 1 + (rnd() % 130) as usize;
            let centre = [0.0, -0.0, 0.37, -1e-3, 5e200][seed as usize % 5];
            let half = [1e-3, 0.25, 1.0, 3e-300][(seed / 5) as usize % 4];
            let (lo, hi) = (centre - half, centre + half);
            let mut xs: Vec<f64> = (0..n)
                .map(|_| {
                    let r = rnd();
                    let u = (r >> 11) as f64 / (1u64 << 53) as f64;
                    match r % 17 {
                        0 => lo,
                        1 => hi,
                        2 => centre,
                        3 => -0.0,
                        4 => 0.0,
                        5 if seed % 3 == 0 => f64::INFINITY,
                        6 if seed % 3 == 0 => f64::NAN,
                        7 if seed % 3 == 0 => -f64::NAN,
                        8 => 1e300,
                        9 => -1e300,
                        _ => centre + (u - 0.5) * half * [1.0, 2.2, 4.0][(r >> 5) as usize % 3],
                    }
                })
                .collect();
            // The tight case: just over half at the two ends, the median at one of them.
            if seed % 4 == 1 {
                let k = n / 2 + 1;
                for (i, x) in xs.iter_mut().enumerate() {
                    *x = if i < k / 2 + k % 2 {
                        lo
                    } else if i < k {
                        hi
                    } else {
                        1e300
                    };
                }
            }
            let keys: Vec<i64> = xs.iter().map(|&x| key(x)).collect();
            let split = (rnd() as usize) % (n + 1);
            let Some(w) = mad_at_most(&keys[..split], &keys[split..], centre, half) else { continue };
            found += 1;
            let mad = mad_sigma_keys(&mut keys.clone()) / 1.4826;
            let mut devs: Vec<i64> = keys.clone();
            let m = median_keys(&mut devs.clone());
            for k in devs.iter_mut() {
                *k = key((value(*k) - m).abs());
            }
            let exact = median_keys(&mut devs);
            assert!(exact <= w, "seed {seed}: MAD {exact} over its bound {w} (n {n})");
            assert!(mad_sigma_keys(&mut keys.clone()) <= 1.4826 * w, "seed {seed}: {mad} {w}");
            tight += usize::from(exact == w);
        }
        assert!(found > 100 && tight > 20, "found {found}, tight {tight}");
    }

    #[test]
    fn a_late_scale_is_the_eager_scale() {
        let xs = jumble(2000);
        // Ask at every point, every 5th, every 37th (after several refreshes were skipped).
        for every in [1, 5, 37] {
            let mut lazy = LogBaseline::new(16);
            let mut eager = Eager { diffs: Ring::new(DIFFS), last: None, since: REFRESH, scale: MIN_SCALE };
            for (i, &x) in xs.iter().enumerate() {
                lazy.push(x);
                eager.push(x);
                if i % every == 0 {
                    assert_eq!(lazy.scale(), eager.scale.max(MIN_SCALE), "point {i}, every {every}");
                }
            }
        }
    }
}
