//! Columns of values read by index, so that no chart keeps a copy of what the store holds: the xs
//! ([`Xs`]: a slice, or a series' xs read through the store's record table, see
//! `crate::chart::columns::XView`) and the ys ([`Ys`]: a slice, a series read from the store, a
//! smoothed column, or values computed on demand). A derived column is kept as `f32` while its
//! values fit ([`Column`]).

use crate::store::SeriesView;

/// A column of sorted-or-not x values read by index: a slice, or a series' xs read through the
/// store's record table (`crate::chart::columns::XView`, so no chart keeps a copy of them).
pub trait Xs {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn x(&self, i: usize) -> f64;
    /// Calls `f(i, x)` for `i` in `from..to`, in order (a view overrides it with a sequential pass).
    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        (from..to).for_each(|i| f(i, self.x(i)));
    }
    /// The xs copied out (the rare paths that need a slice).
    fn to_vec(&self) -> Vec<f64> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each_from(0, self.len(), |_, x| v.push(x));
        v
    }
    /// The first index in `lo..hi` whose x is not `pred` (`pred` true then false along the xs).
    fn partition_point(&self, lo: usize, hi: usize, pred: impl Fn(f64) -> bool) -> usize {
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.x(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

impl<T: Xs + ?Sized> Xs for &T {
    fn len(&self) -> usize {
        (**self).len()
    }
    #[inline]
    fn x(&self, i: usize) -> f64 {
        (**self).x(i)
    }
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, f: impl FnMut(usize, f64)) {
        (**self).for_each_from(from, to, f)
    }
}

impl Xs for [f64] {
    fn len(&self) -> usize {
        <[f64]>::len(self)
    }
    #[inline]
    fn x(&self, i: usize) -> f64 {
        self[i]
    }
}

/// A column of y values read by index: a slice, or a series read straight from the store (so the
/// charts need not keep a copy of every charted series' values).
pub trait Ys {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn y(&self, i: usize) -> f64;
    /// Calls `f(i, y)` for `i` in `from..to`, in order (values computed on demand override it
    /// with a sequential pass).
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        (from..to).for_each(|i| f(i, self.y(i)));
    }
    /// The values `from..from + out.len()` into `out` (which must end at most at the length), as
    /// [`Ys::for_each_from`] gives them: a block's values read at once (a series in the store
    /// decodes them in a loop of its own).
    #[inline]
    fn read_into(&self, from: usize, out: &mut [f64]) {
        self.for_each_from(from, from + out.len(), |i, y| out[i - from] = y);
    }
    /// The values as one `f64` slice's worth (the rare paths that need a slice, and tests).
    #[cfg(test)]
    fn to_f64(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.y(i)).collect()
    }
}

impl Ys for [f64] {
    fn len(&self) -> usize {
        <[f64]>::len(self)
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        self[i]
    }
}

impl Ys for Vec<f64> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        self[i]
    }
}

/// A column of derived values (a smoothed line) kept as `f32`, half the memory of `f64` and
/// plenty for drawing, until a value would not survive the narrowing (beyond `f32`'s range, or
/// below its smallest normal number): the column then holds `f64` from then on.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Default for Column {
    fn default() -> Self {
        Column::F32(Vec::new())
    }
}

/// Whether `v` would not survive narrowing to `f32`: finite and non-zero, beyond `f32`'s range or
/// below its smallest normal number.
#[inline]
pub fn needs_f64(v: f64) -> bool {
    let a = v.abs();
    a.is_finite() && a != 0.0 && !((f32::MIN_POSITIVE as f64)..=(f32::MAX as f64)).contains(&a)
}

impl Column {
    pub fn push(&mut self, v: f64) {
        match self {
            Column::F32(c) => {
                if needs_f64(v) {
                    let mut wide: Vec<f64> = Vec::with_capacity(c.capacity().max(c.len() + 1));
                    wide.extend(c.iter().map(|&x| x as f64));
                    wide.push(v);
                    *self = Column::F64(wide);
                } else {
                    c.push(v as f32);
                }
            }
            Column::F64(c) => c.push(v),
        }
    }

    /// Room for `n` values, growing by an eighth (a million-point column would otherwise hold
    /// twice its size after its first live append).
    pub fn reserve_for(&mut self, n: usize) {
        fn grow<T>(v: &mut Vec<T>, n: usize) {
            if v.capacity() < n {
                let len = v.len();
                v.reserve_exact((n - len).max(if len == 0 { 0 } else { len / 8 + 64 }));
            }
        }
        match self {
            Column::F32(c) => grow(c, n),
            Column::F64(c) => grow(c, n),
        }
    }

    pub fn is_empty(&self) -> bool {
        Ys::len(self) == 0
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Column::F32(c) => c.capacity() * 4,
            Column::F64(c) => c.capacity() * 8,
        }
    }
}

impl Ys for Column {
    fn len(&self) -> usize {
        match self {
            Column::F32(c) => c.len(),
            Column::F64(c) => c.len(),
        }
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        match self {
            Column::F32(c) => c[i] as f64,
            Column::F64(c) => c[i],
        }
    }
}

/// Values of either kind, borrowed.
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    Column(&'a Column),
    Slice(&'a [f64]),
}

impl Ys for Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::Column(c) => Ys::len(*c),
            Values::Slice(s) => s.len(),
        }
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        match self {
            Values::Column(c) => c.y(i),
            Values::Slice(s) => s[i],
        }
    }
}

impl Ys for SeriesView<'_> {
    fn len(&self) -> usize {
        SeriesView::len(self)
    }
    #[inline]
    fn y(&self, i: usize) -> f64 {
        self.value(i)
    }
    #[inline]
    fn for_each_from(&self, from: usize, to: usize, f: impl FnMut(usize, f64)) {
        self.for_each_value(from, to.min(SeriesView::len(self)), f);
    }
    #[inline]
    fn read_into(&self, from: usize, out: &mut [f64]) {
        self.read_values(from, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_narrow_to_f32_until_a_value_would_not_survive_it() {
        let mut c = Column::default();
        for v in [1.5, f64::NAN, f64::INFINITY, 0.0, -3.25e30] {
            c.push(v);
        }
        assert!(matches!(c, Column::F32(_)));
        assert_eq!(c.y(0), 1.5);
        assert!(c.y(1).is_nan() && c.y(2) == f64::INFINITY);
        c.push(1e-300);
        assert!(matches!(c, Column::F64(_)), "a tiny value would have become 0");
        assert_eq!(c.to_f64()[..5].iter().filter(|v| v.is_finite()).count(), 3);
        assert_eq!(c.y(5), 1e-300);
        let mut big = Column::default();
        big.push(1e39);
        assert_eq!(big.y(0), 1e39, "a huge value would have become infinite");
    }
}
