//! TensorBoard's EMA of a charted series without a column of smoothed values: the EMA's state at
//! the start of every summary block (a checkpoint, 48 bytes per [`BLOCK`] points, under a byte a
//! point where a column costs 4 or 8), and smoothed values computed on demand from the nearest
//! checkpoint.
//!
//! The values are bit for bit those a [`crate::chart::values::Column`] of the same EMA would
//! hold: `f32` narrowed before the first value that does not survive the narrowing, `f64` from it
//! on. The block summaries (built by reading the values in order) make a chart read only a few
//! values per column: the partial blocks at its edges, each computed from its block's checkpoint
//! in at most [`BLOCK`] steps, and a cursor makes reading in order O(1) a value.
//!
//! The recursion is a chain of dependent operations a point, which leaves the core waiting: the
//! columns of a run's series (a loading sweep builds them for every run) take two series at once
//! ([`LazyEma::extend_pair`]), their EMAs interleaved a point each, for about the cost of one.

use crate::analysis::smooth::EmaState;
use crate::chart::reduce::BLOCK;
use crate::chart::values::{needs_f64, Ys};
use crate::store::SeriesView;
use std::cell::Cell;

/// The EMA of a series' first `len` points, as checkpoints.
#[derive(Debug)]
pub struct LazyEma {
    weight: f64,
    /// The state before point `k * BLOCK`, for every block begun.
    checkpoints: Vec<EmaState>,
    /// The state after the last point taken.
    state: EmaState,
    len: usize,
    /// (i, the state before point i) where the last extension began: a chart resumed after an
    /// append reads from there, not from the block's checkpoint up to 63 points before.
    mark: (usize, EmaState),
    /// The first point whose smoothed value needs `f64` (`usize::MAX`: none yet).
    wide_from: usize,
}

impl LazyEma {
    pub fn new(weight: f64) -> Self {
        let state = EmaState::new(weight);
        LazyEma { weight, checkpoints: Vec::new(), state, len: 0, wide_from: usize::MAX, mark: (0, state) }
    }

    /// The weight asked for (before clamping), to tell whether a new weight needs a new EMA.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Takes points `self.len()..n` of `ys`, which must extend the points already taken.
    #[cfg(test)]
    pub fn extend<Y: Ys + ?Sized>(&mut self, ys: &Y, n: usize) {
        self.extend_with(ys, n, |_, _| {});
    }

    /// As [`LazyEma::extend`], handing the new smoothed values (as [`EmaValues`] reads them) to
    /// `sink` on the way, `sink(i, values i..)` at most a block at a time and never across a
    /// block's end: a chart's summaries are built in the same pass, not by reading the values
    /// again.
    pub fn extend_with<Y: Ys + ?Sized>(&mut self, ys: &Y, n: usize, mut sink: impl FnMut(usize, &[f64])) {
        let n = n.min(ys.len());
        self.begin(n);
        // The state in locals, and the values read a block at a time into a buffer before the
        // EMA runs over them: in one pass with the reading, the EMA's step was a closure the
        // compiler kept out of line, its state went through memory at every point, which put a
        // store and a load on the EMA's chain of dependent operations. (A loading sweep's series
        // go through `extend_pair`'s loop, two at a time.)
        let (mut state, mut wide_from) = (self.state, self.wide_from);
        let mut buf = [0.0; BLOCK];
        let mut i = self.len;
        while i < n {
            let end = ((i / BLOCK + 1) * BLOCK).min(n);
            if i.is_multiple_of(BLOCK) {
                self.checkpoints.push(state);
            }
            // Read in order: a store's column decodes each block once.
            let vals = &mut buf[i % BLOCK..(end - 1) % BLOCK + 1];
            ys.read_into(i, vals);
            state.push_all(vals);
            narrow(i, vals, &mut wide_from);
            sink(i, vals);
            i = end;
        }
        (self.state, self.wide_from) = (state, wide_from);
        self.len = self.len.max(n);
    }

    /// [`LazyEma::extend_with`] of two series at once (`a` takes points of `ys_a` up to `n_a`
    /// handing them to `sink_a`, `b` likewise), bit for bit as one after the other: when both
    /// take the same points (two metrics of one run, logged together), a block of each is read
    /// and the two EMAs run interleaved ([`EmaState::push_all_pair`]), which costs about what
    /// one EMA alone did; otherwise one after the other.
    pub fn extend_pair<A: Ys + ?Sized, B: Ys + ?Sized>(
        (a, ys_a, n_a, mut sink_a): (&mut LazyEma, &A, usize, impl FnMut(usize, &[f64])),
        (b, ys_b, n_b, mut sink_b): (&mut LazyEma, &B, usize, impl FnMut(usize, &[f64])),
    ) {
        let (n_a, n_b) = (n_a.min(ys_a.len()), n_b.min(ys_b.len()));
        if a.len != b.len || n_a != n_b {
            a.extend_with(ys_a, n_a, sink_a);
            b.extend_with(ys_b, n_b, sink_b);
            return;
        }
        let n = n_a;
        a.begin(n);
        b.begin(n);
        let (mut sa, mut wa) = (a.state, a.wide_from);
        let (mut sb, mut wb) = (b.state, b.wide_from);
        let (mut buf_a, mut buf_b) = ([0.0; BLOCK], [0.0; BLOCK]);
        let mut i = a.len;
        while i < n {
            let end = ((i / BLOCK + 1) * BLOCK).min(n);
            if i.is_multiple_of(BLOCK) {
                a.checkpoints.push(sa);
                b.checkpoints.push(sb);
            }
            let range = i % BLOCK..(end - 1) % BLOCK + 1;
            let (va, vb) = (&mut buf_a[range.clone()], &mut buf_b[range]);
            ys_a.read_into(i, va);
            ys_b.read_into(i, vb);
            sa.push_all_pair(va, &mut sb, vb);
            narrow(i, va, &mut wa);
            narrow(i, vb, &mut wb);
            sink_a(i, va);
            sink_b(i, vb);
            i = end;
        }
        (a.state, a.wide_from, b.state, b.wide_from) = (sa, wa, sb, wb);
        a.len = a.len.max(n);
        b.len = b.len.max(n);
    }

    /// Before taking points up to `n`: where this extension begins, and room for its checkpoints.
    fn begin(&mut self, n: usize) {
        if n > self.len {
            self.mark = (self.len, self.state);
            let blocks = n.div_ceil(BLOCK);
            // Grow by an eighth, not double: a live series adds a block every 64 points.
            if self.checkpoints.capacity() < blocks {
                let have = self.checkpoints.len();
                self.checkpoints.reserve_exact((blocks - have).max(have / 8 + 16));
            }
        }
    }

    /// The smoothed values of `ys` (the series the points were taken from).
    pub fn values<'a>(&'a self, ys: SeriesView<'a>) -> EmaValues<'a> {
        let start = Cell::new((0, EmaState::new(self.weight)));
        EmaValues { ema: self, ys, cursor: start, seq: Cell::new(self.mark) }
    }

    pub fn heap_bytes(&self) -> usize {
        self.checkpoints.capacity() * std::mem::size_of::<EmaState>()
    }
}

/// Narrows the smoothed values `vals` (points `i..`) to `f32` before the first point whose value
/// needs `f64` (`wide_from`, found here the first time one does), as a column of them would
/// hold them.
#[inline]
fn narrow(i: usize, vals: &mut [f64], wide_from: &mut usize) {
    if *wide_from == usize::MAX {
        // Every value looked at without a branch a value (one needing `f64` is rare), then the
        // first of them found.
        if vals.iter().fold(false, |any, &y| any | needs_f64(y)) {
            *wide_from = i + vals.iter().position(|&y| needs_f64(y)).unwrap_or(0);
        }
    }
    // The values before it narrowed in a loop of their own (the compiler's, several at once).
    let upto = wide_from.saturating_sub(i).min(vals.len());
    for y in &mut vals[..upto] {
        *y = *y as f32 as f64;
    }
}

/// The smoothed values, read by index.
pub struct EmaValues<'a> {
    ema: &'a LazyEma,
    ys: SeriesView<'a>,
    /// (i, the state before point i): where the last read by index stopped.
    cursor: Cell<(usize, EmaState)>,
    /// The same for the last pass in order: a chart's next column usually starts there.
    seq: Cell<(usize, EmaState)>,
}

impl EmaValues<'_> {
    /// The state before point `i`, from the nearest of its block's checkpoint and the cursors.
    #[inline]
    fn state_before(&self, i: usize) -> EmaState {
        let block = i / BLOCK;
        let mut best = (block * BLOCK, self.ema.checkpoints[block]);
        for (at, st) in [self.cursor.get(), self.seq.get()] {
            if at <= i && at > best.0 {
                best = (at, st);
            }
        }
        let (k, mut st) = best;
        if k < i {
            // `k..i` lies in `i`'s block: its values read in order, smoothed in registers.
            let mut buf = [0.0; BLOCK];
            let vals = &mut buf[..i - k];
            self.ys.read_values(k, vals);
            st.push_all(vals);
        }
        st
    }

    #[inline]
    fn narrow(&self, i: usize, v: f64) -> f64 {
        if i < self.ema.wide_from {
            v as f32 as f64
        } else {
            v
        }
    }
}

impl Ys for EmaValues<'_> {
    fn len(&self) -> usize {
        self.ema.len
    }

    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        let to = to.min(self.ema.len);
        if from >= to {
            return;
        }
        let mut st = self.state_before(from);
        // The state before the last point too: a chart reads that point again (the window's last
        // drawable one), which would otherwise be computed from the block's checkpoint.
        let mut before_last = st;
        // A block at a time, read then smoothed in registers (see `LazyEma::extend_with`).
        let mut buf = [0.0; BLOCK];
        let mut i = from;
        while i < to {
            let end = ((i / BLOCK + 1) * BLOCK).min(to);
            let vals = &mut buf[i % BLOCK..(end - 1) % BLOCK + 1];
            self.ys.read_values(i, vals);
            if end == to {
                let (head, last) = vals.split_at_mut(end - i - 1);
                st.push_all(head);
                before_last = st;
                st.push_all(last);
            } else {
                st.push_all(vals);
            }
            for (k, &v) in vals.iter().enumerate() {
                f(i + k, self.narrow(i + k, v));
            }
            i = end;
        }
        self.seq.set((to, st));
        self.cursor.set((to - 1, before_last));
    }

    #[inline]
    fn y(&self, i: usize) -> f64 {
        let mut st = self.state_before(i);
        let v = st.push(self.ys.value(i));
        self.cursor.set((i + 1, st));
        self.narrow(i, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::reduce::Envelope;
    use crate::chart::values::Column;
    use crate::store::{RecordMeta, Store};

    /// A series with NaNs, then values whose EMA falls below `f32`'s normal range at `tiny_from`.
    fn store(n: usize, tiny_from: usize) -> Store {
        let mut st = Store::new();
        let id = st.intern("loss");
        for i in 0..n {
            let r = st.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            let y = match i {
                _ if i % 97 == 5 => f64::NAN,
                _ if i >= tiny_from => 1e-300 * (1 + i % 5) as f64,
                _ => ((i * 7919) % 1000) as f64 / 37.0,
            };
            st.push(r, id, y);
        }
        st
    }

    #[test]
    fn values_read_in_any_order_equal_a_column_bit_for_bit() {
        for (n, tiny_from) in [(5000, usize::MAX), (5000, 3000), (130, 0), (1, usize::MAX)] {
            let st = store(n, tiny_from);
            let ys = st.series(0);
            let mut col = Column::default();
            let mut state = EmaState::new(0.9);
            (0..n).for_each(|i| col.push(state.push(ys.value(i))));
            let mut lazy = LazyEma::new(0.9);
            let bits = |y: f64| y.to_bits();
            let mut handed: Vec<u64> = Vec::new();
            // Taken in uneven appends, as a live chart does, starting and ending inside and at
            // the edges of blocks; the values handed on are handed a block at most at a time.
            for to in [1, 63, 64, 65, 200, 1000, 1024, n] {
                lazy.extend_with(&ys, to.min(n), |i, vals| {
                    assert_eq!(i, handed.len(), "{n} {tiny_from}: handed on in order");
                    assert!(
                        vals.len() <= BLOCK && (i + vals.len() - 1) / BLOCK == i / BLOCK,
                        "{i}: across a block"
                    );
                    handed.extend(vals.iter().map(|&y| bits(y)));
                });
            }
            assert_eq!(lazy.len(), n);
            let v = lazy.values(ys);
            let forward: Vec<u64> = (0..n).map(|i| bits(v.y(i))).collect();
            let want: Vec<u64> = (0..n).map(|i| bits(col.y(i))).collect();
            assert_eq!(handed, want, "{n} {tiny_from}: handed on while taking the points");
            assert_eq!(forward, want, "{n} {tiny_from}: in order");
            for (a, b) in [(0, n), (1, n), (n / 2, n), (n - 1, n), (63.min(n - 1), 130.min(n)), (n, n)] {
                let mut got = Vec::new();
                v.for_each_from(a, b, |i, y| got.push((i, bits(y))));
                let want_ab: Vec<(usize, u64)> = (a..b).map(|i| (i, want[i])).collect();
                assert_eq!(got, want_ab, "{n} {tiny_from}: for_each_from({a}, {b})");
            }
            let backward: Vec<u64> = (0..n).rev().map(|i| bits(v.y(i))).collect();
            assert!(backward.iter().rev().eq(want.iter()), "{n} {tiny_from}: backwards");
            let mut i = 0usize;
            for _ in 0..2000 {
                i = (i * 31 + 17) % n;
                assert_eq!(bits(v.y(i)), want[i], "{n} {tiny_from}: point {i} out of order");
            }
            assert_eq!(lazy.wide_from != usize::MAX, matches!(col, Column::F64(_)), "{n} {tiny_from}");
        }
    }

    use proptest::prelude::*;

    /// A series of `n` values from `pattern`, the NaNs and tiny values it holds included.
    fn store_of(pattern: &[f64], n: usize) -> Store {
        let mut st = Store::new();
        let id = st.intern("m");
        for i in 0..n {
            let r = st.begin_record(RecordMeta { step: i as f64, time: f64::NAN, line: i as u64 + 1 });
            st.push(r, id, pattern[(i * 7 + i / 5) % pattern.len()] + (i % 3) as f64 * 1e-3);
        }
        st
    }

    /// Everything a [`LazyEma`] holds and hands on, to compare two ways of building it.
    /// (The states as their `Debug` text: a state's unset first value is a NaN, which `==`
    /// would not find equal to itself.)
    fn seen(e: &LazyEma, ys: SeriesView<'_>, handed: &[u64]) -> (String, usize, usize, Vec<u64>, Vec<u64>) {
        let v = e.values(ys);
        let read: Vec<u64> = (0..e.len()).map(|i| v.y(i).to_bits()).collect();
        let states = format!("{:?} {:?} {:?}", e.checkpoints, e.state, e.mark);
        (states, e.len, e.wide_from, handed.to_vec(), read)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Two series taken together in uneven appends (of the same points or not) hold and hand
        /// on bit for bit what each taken alone does.
        #[test]
        fn pairs_equal_one_after_the_other_bit_for_bit(
            pat_a in prop::collection::vec(prop_oneof![
                8 => -1e3f64..1e3, 1 => Just(f64::NAN), 1 => Just(1e-300), 1 => Just(-0.0), 1 => Just(f64::INFINITY)], 1..40),
            pat_b in prop::collection::vec(prop_oneof![
                8 => -1e3f64..1e3, 1 => Just(f64::NAN), 1 => Just(1e-300), 1 => Just(2.0)], 1..40),
            len_a in 0usize..3000,
            len_b in 0usize..3000,
            same in any::<bool>(),
            weights in (0usize..4, 0usize..4),
            appends in prop::collection::vec((0usize..800, 0usize..800), 1..5),
        ) {
            let w = [0.6, 0.9, 0.999, 0.0];
            let len_b = if same { len_a } else { len_b };
            let (sa, sb) = (store_of(&pat_a, len_a), store_of(&pat_b, len_b));
            let (ya, yb) = (sa.series(0), sb.series(0));
            let (mut pa, mut pb) = (LazyEma::new(w[weights.0]), LazyEma::new(w[weights.1]));
            let (mut oa, mut ob) = (LazyEma::new(w[weights.0]), LazyEma::new(w[weights.1]));
            let (mut ha, mut hb, mut ka, mut kb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut na, mut nb) = (0, 0);
            for (da, db) in appends.iter().copied().chain([(len_a, len_b)]) {
                na += da;
                nb = if same { na } else { nb + db };
                LazyEma::extend_pair(
                    (&mut pa, &ya, na, |_, v: &[f64]| ha.extend(v.iter().map(|y| y.to_bits()))),
                    (&mut pb, &yb, nb, |_, v: &[f64]| hb.extend(v.iter().map(|y| y.to_bits()))),
                );
                oa.extend_with(&ya, na, |_, v| ka.extend(v.iter().map(|y| y.to_bits())));
                ob.extend_with(&yb, nb, |_, v| kb.extend(v.iter().map(|y| y.to_bits())));
                prop_assert_eq!(seen(&pa, ya, &ha), seen(&oa, ya, &ka), "first series");
                prop_assert_eq!(seen(&pb, yb, &hb), seen(&ob, yb, &kb), "second series");
            }
        }
    }

    /// A run read through the real ingest as the monitor's loader reads a compared run (compact
    /// columns, values at display precision): metrics `a` and `b` from their patterns (NaN,
    /// infinities, -0.0, values beyond `f32`, decimals of every length), `b` missing from every
    /// `gap`-th line, the step going back at `restart`, appended in `pieces`.
    fn ingested(pat: (&[f64], &[f64]), n: usize, gap: usize, restart: usize) -> crate::run::Run {
        let opts = crate::ingest::IngestOptions { compact: true, ..Default::default() };
        let mut run = crate::run::Run::new("run/logs.jsonl", opts, Default::default());
        run.store.keep_display_precision();
        let text = |v: f64| match v {
            _ if v.is_nan() => "NaN".to_owned(),
            f64::INFINITY => "Infinity".to_owned(),
            f64::NEG_INFINITY => "-Infinity".to_owned(),
            _ => format!("{v:?}"),
        };
        for i in 0..n {
            let step = if i >= restart { i - restart / 2 } else { i };
            let a = text(pat.0[(i * 7 + i / 5) % pat.0.len()]);
            let line = if gap > 0 && i % gap == gap - 1 {
                format!("{{\"step\": {step}, \"a\": {a}}}")
            } else {
                let b = text(pat.1[(i * 3 + i / 7) % pat.1.len()]);
                format!("{{\"step\": {step}, \"a\": {a}, \"b\": {b}}}")
            };
            run.push_line(i as u64 + 1, line.as_bytes());
        }
        run
    }

    /// The smoothed values as they were read before a block went through a buffer at once: each
    /// value read by index, smoothed one at a time into a column (narrowed as it holds them).
    fn by_index(ys: &SeriesView<'_>, n: usize, weight: f64) -> Column {
        let mut col = Column::default();
        let mut state = EmaState::new(weight);
        (0..n).for_each(|i| col.push(state.push(ys.value(i))));
        col
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Through the real ingest into compact columns at display precision, the values read a
        /// block at a time (`Ys::read_into`), smoothed, narrowed a block at once and summarised,
        /// alone or in pairs, in uneven appends, are bit for bit those of the values read one by
        /// one, smoothed into a column and summarised point by point.
        #[test]
        fn blocks_read_at_once_smooth_and_summarise_as_values_read_one_by_one(
            pat_a in prop::collection::vec(prop_oneof![
                6 => -1e3f64..1e3, 2 => (0u32..100_000).prop_map(|k| k as f64 / 1e4),
                1 => Just(f64::NAN), 1 => Just(1e-300), 1 => Just(-0.0), 1 => Just(f64::INFINITY),
                1 => Just(f64::NEG_INFINITY), 1 => Just(3e39), 1 => Just(2.5)], 1..40),
            pat_b in prop::collection::vec(prop_oneof![
                6 => (0u32..1000).prop_map(|k| k as f64 / 100.0), 2 => -1e3f64..1e3,
                1 => Just(f64::NAN), 1 => Just(1e-42), 1 => Just(0.0), 1 => Just(-0.0)], 1..40),
            n in 1usize..1500,
            gap in prop_oneof![Just(0usize), 2usize..9],
            restart in 0usize..2000,
            weight in 0usize..4,
            appends in prop::collection::vec(0usize..400, 0..5),
        ) {
            let weight = [0.6, 0.9, 0.999, 0.0][weight];
            let run = ingested((&pat_a, &pat_b), n, gap, restart);
            let st = &run.store;
            let (ya, yb) = (st.series(st.find("a").unwrap()), st.series(st.find("b").unwrap()));
            let (na, nb) = (ya.len(), yb.len());
            // The new path: taken in pieces, in pairs while both take the same points.
            let (mut ea, mut eb) = (LazyEma::new(weight), LazyEma::new(weight));
            let (mut env_a, mut env_b) = (Envelope::default(), Envelope::default());
            let (mut ka, mut kb) = (0, 0);
            for d in appends.iter().copied().chain([n]) {
                let (ta, tb) = ((ka + d).min(na), (kb + d).min(nb));
                let (la, lb) = (ea.len(), eb.len());
                if ta > la && tb > lb {
                    env_a.update_with(la, ta, |_, sa| {
                        env_b.update_with(lb, tb, |_, sb| {
                            LazyEma::extend_pair(
                                (&mut ea, &ya, ta, |i, v: &[f64]| sa.points(i, v)),
                                (&mut eb, &yb, tb, |i, v: &[f64]| sb.points(i, v)),
                            );
                        });
                    });
                } else {
                    env_a.update_with(la, ta, |_, sa| ea.extend_with(&ya, ta, |i, v| sa.points(i, v)));
                    env_b.update_with(lb, tb, |_, sb| eb.extend_with(&yb, tb, |i, v| sb.points(i, v)));
                }
                (ka, kb) = (ta, tb);
            }
            for (e, ys, env, len, name) in [(&ea, &ya, &env_a, na, "a"), (&eb, &yb, &env_b, nb, "b")] {
                let col = by_index(ys, len, weight);
                let want: Vec<u64> = (0..len).map(|i| col.y(i).to_bits()).collect();
                let v = e.values(*ys);
                let mut ordered = Vec::new();
                v.for_each_from(0, len, |_, y| ordered.push(y.to_bits()));
                prop_assert_eq!(&ordered, &want, "{}: smoothed values in order", name);
                let indexed: Vec<u64> = (0..len).rev().map(|i| v.y(i).to_bits()).rev().collect();
                prop_assert_eq!(&indexed, &want, "{}: smoothed values by index", name);
                prop_assert_eq!(e.wide_from != usize::MAX, matches!(col, Column::F64(_)), "{}: width", name);
                let mut reference = Envelope::default();
                reference.update(&col, 0);
                prop_assert_eq!(format!("{env:?}"), format!("{reference:?}"), "{}: summaries", name);
                // The store's values read a block at a time are those read by index.
                let mut buf = vec![0.0; len];
                ys.read_into(0, &mut buf);
                let by_i: Vec<u64> = (0..len).map(|i| ys.value(i).to_bits()).collect();
                prop_assert_eq!(buf.iter().map(|y| y.to_bits()).collect::<Vec<_>>(), by_i, "{}: values", name);
            }
        }
    }

    #[test]
    fn checkpoints_cost_under_a_byte_a_point() {
        let st = store(100_000, usize::MAX);
        let mut lazy = LazyEma::new(0.6);
        lazy.extend(&st.series(0), 100_000);
        assert!(lazy.heap_bytes() < 100_000, "{} bytes", lazy.heap_bytes());
        assert_eq!(lazy.checkpoints.len(), 100_000usize.div_ceil(BLOCK));
    }
}
