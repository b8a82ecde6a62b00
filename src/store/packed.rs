//! A column of `f64` held in blocks of [`BLOCK`] values, each block in the smallest of a few
//! encodings that gives every value back bit for bit: one value for the whole block (a constant
//! such as a weight decay, or a stretch of NaN times), decimals (the block's values are integers
//! `base + k` over one power of ten, `k` in 1, 2 or 3 bytes: what a script printing `"loss":
//! 2.308` or `"step": 41000` writes), or the raw values as `f32` (when each survives it) or
//! `f64`.
//!
//! The values of the block being filled are kept as they came and encoded when it is full, so an
//! append never re-encodes anything. Reading a value is O(1): its block's header, then at most a
//! few bytes, a conversion and a division by an exact power of ten (the same operation a
//! correctly rounded parse of that decimal ends with, which is why it gives the parsed `f64` back;
//! each block is checked value by value when it is encoded, and falls back to raw values if any
//! one would not come back identical). A reader in order takes a block's values at once
//! ([`Packed::read_into`]: a chart's smoother and summaries, a block at a time).
//!
//! The sealed blocks are held in shared chunks of [`CHUNK_BLOCKS`] blocks (`Arc`): a clone of a
//! column (what [`super::Store::snapshot`] hands the monitor's worker) copies a pointer a chunk,
//! not the values, and an append to a column whose last chunk a clone still shares copies that
//! chunk alone (copy on write), so the clone never sees a later value.
//!
//! A column may also hold values at `f32` precision ([`Packed::push_narrow`], what
//! [`super::Store::keep_display_precision`] asks for): those read back as `v as f32 as f64`,
//! and a decimal block of them is checked at that precision.

use std::sync::Arc;

/// Values per block.
pub const BLOCK: usize = 64;

/// Sealed blocks per shared chunk (65,536 values): a clone costs a pointer per chunk, an append
/// after a clone copies at most one chunk (a few hundred KB at most).
pub const CHUNK_BLOCKS: usize = 1024;

/// The powers of ten a `f64` holds exactly.
const P10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];
/// Decimal exponents tried: a value is `m / 10^e` with `e` in this range.
const EXP_MIN: i32 = -22;
const EXP_MAX: i32 = 22;
/// Integers at most this large are exact in a `f64`.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

const CONST: u8 = 0;
const RAW32: u8 = 1;
const RAW64: u8 = 2;
/// Decimals in steps of one size: `base + k * stride` over a power of ten (steps, a clock's
/// ticks).
const ARITH: u8 = 3;
/// `DEC + width` (1 to 3 bytes a value), `+ NARROW` when read at `f32` precision.
const DEC: u8 = 8;
const NARROW: u8 = 16;

/// One sealed block: where its bytes start (in 8-byte words of its chunk's `data`), its encoding
/// and decimal exponent.
#[derive(Clone, Copy, Debug)]
struct Head {
    word: u32,
    kind: u8,
    exp: i8,
}

/// Up to [`CHUNK_BLOCKS`] sealed blocks: their headers and bytes.
#[derive(Clone, Debug, Default)]
struct Chunk {
    heads: Vec<Head>,
    data: Vec<u8>,
}

/// A column of `f64` values (see the module's doc).
#[derive(Clone, Debug, Default)]
pub struct Packed {
    /// The sealed blocks, [`CHUNK_BLOCKS`] a chunk (the last may hold fewer), shared by clones.
    chunks: Vec<Arc<Chunk>>,
    /// Sealed blocks in all.
    sealed: usize,
    /// The values of the block being filled, as they came.
    stage: Vec<f64>,
    /// Bit `k` set: `stage[k]` is read at `f32` precision.
    narrow: u64,
    /// Blocks are encoded as constants and decimals where they can be ([`Packed::compact`]);
    /// otherwise always as raw values (cheaper to append, for a reader that drops the store soon).
    compact: bool,
}

#[inline]
fn scale(m: f64, exp: i32) -> f64 {
    if exp >= 0 {
        m / P10[exp as usize]
    } else {
        m * P10[(-exp) as usize]
    }
}

#[inline]
fn at_precision(v: f64, narrow: bool) -> f64 {
    if narrow {
        v as f32 as f64
    } else {
        v
    }
}

/// `x` rounded to an integer nearby (ties either way: [`mantissa`] checks what it gives), without
/// a call: `f64::round` is a libm call on the baseline x86-64 target, once a value sealed.
#[inline]
fn round_near(x: f64) -> f64 {
    // Added to a magnitude below 2^51, 1.5 * 2^52 leaves no bits below the units: the sum is
    // rounded to an integer (to even on a tie), and the difference is exact.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    if x.abs() < 2_251_799_813_685_248.0 {
        (x + SHIFT) - SHIFT
    } else {
        x.round()
    }
}

/// The integer `m` with `m / 10^exp == v` (at the precision asked), if there is one.
#[inline]
fn mantissa(v: f64, exp: i32, narrow: bool) -> Option<f64> {
    let m = round_near(scale(v, -exp));
    (m.abs() < EXACT_INT
        && at_precision(scale(m, exp), narrow).to_bits() == at_precision(v, narrow).to_bits())
    .then_some(m)
}

/// Values a run checked at once by [`run_at`].
const RUN: usize = 8;

/// The mantissas of `run` at `exp` into `ms` and their smallest and largest, if [`mantissa`]
/// finds one for every value (and `exp` is the block's): the same operations, without a branch a
/// value (the compiler runs several values at once), and `None` as soon as one value has none,
/// or one's scaled value is not below 2^51 (which `round_near` rounds another way): the caller
/// then checks that run a value at a time.
#[inline]
fn run_at(run: &[f64], exp: i32, narrow: bool, ms: &mut [i64]) -> Option<(i64, i64)> {
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let p = P10[exp.unsigned_abs() as usize];
    let (mut ok, mut lo, mut hi) = (true, f64::INFINITY, f64::NEG_INFINITY);
    let mut mf = [0.0; RUN];
    for (&v, m) in run.iter().zip(&mut mf) {
        // `scale(v, -exp)`, then `round_near`, then `scale(m, exp)` (10^0 multiplies and divides
        // alike).
        let x = if exp >= 0 { v * p } else { v / p };
        *m = (x + SHIFT) - SHIFT;
        let back = if exp >= 0 { *m / p } else { *m * p };
        let same = at_precision(back, narrow).to_bits() == at_precision(v, narrow).to_bits();
        ok &= (x.abs() < 2_251_799_813_685_248.0) & same;
        lo = lo.min(*m);
        hi = hi.max(*m);
    }
    if !ok {
        return None;
    }
    for (o, &m) in ms.iter_mut().zip(&mf) {
        *o = m as i64;
    }
    Some((lo as i64, hi as i64))
}

/// The block's values as decimals over one power of ten: the exponent and the smallest and
/// largest mantissa (the mantissas themselves in `ms`), if each value has one within
/// [`EXACT_INT`].
fn decimals(vals: &[f64], narrow: bool, ms: &mut [i64; BLOCK]) -> Option<(i32, i64, i64)> {
    let mut exp = i32::MIN;
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    // Values before `scalar` go one at a time (a run of [`RUN`] that had one value fail the
    // check at the block's exponent).
    let mut scalar = 0;
    let mut i = 0;
    while i < vals.len() {
        if exp != i32::MIN && i >= scalar {
            // Runs of values at the block's exponent, checked without a branch a value.
            while let Some(run) = vals.get(i..i + RUN) {
                let Some((l, h)) = run_at(run, exp, narrow, &mut ms[i..i + RUN]) else {
                    scalar = i + RUN;
                    break;
                };
                (lo, hi) = (lo.min(l), hi.max(h));
                i += RUN;
            }
            if i == vals.len() {
                break;
            }
        }
        let v = vals[i];
        i += 1;
        let i = i - 1;
        if !v.is_finite() {
            return None;
        }
        if exp != i32::MIN {
            if let Some(m) = mantissa(v, exp, narrow) {
                let m = m as i64;
                ms[i] = m;
                lo = lo.min(m);
                hi = hi.max(m);
                continue;
            }
        }
        // The smallest exponent from where this value's digits start (or the block's).
        let from_digits = if v == 0.0 { 0 } else { -(v.abs().log10().floor() as i32) };
        let from = if exp == i32::MIN {
            from_digits.clamp(EXP_MIN, EXP_MAX)
        } else {
            (exp + 1).max(from_digits).min(EXP_MAX + 1)
        };
        let mut found = None;
        for e in from..=EXP_MAX {
            if scale(v.abs(), -e) >= EXACT_INT {
                break;
            }
            if let Some(m) = mantissa(v, e, narrow) {
                found = Some((e, m));
                break;
            }
        }
        let (e, m) = found?;
        if exp != i32::MIN && e > exp {
            if e - exp > EXP_MAX {
                return None;
            }
            // The values before, at the finer exponent: exact integer products, checked (the
            // smallest and largest among them, so their products too).
            let f = P10[(e - exp) as usize];
            for mm in &mut ms[..i] {
                let wide = *mm as f64 * f;
                if wide.abs() >= EXACT_INT {
                    return None;
                }
                *mm = wide as i64;
            }
            lo = (lo as f64 * f) as i64;
            hi = (hi as f64 * f) as i64;
        }
        exp = exp.max(e);
        let m = m as i64;
        ms[i] = m;
        lo = lo.min(m);
        hi = hi.max(m);
    }
    // Each value was read back at the exponent it was found at; one found before the exponent
    // was raised reads back the same at the final one, unchecked: `m * 10^d` is exact (checked
    // above), and `m * 10^d / 10^(e+d)` is the same real number as `m / 10^e` (or the same
    // product with a negative exponent), which IEEE 754's correctly rounded division and
    // multiplication round to the same `f64`. (The tests read every value of every encoding back.)
    Some((exp, lo, hi))
}

impl Packed {
    /// An empty column that encodes its blocks as constants and decimals where it can.
    pub fn compact() -> Packed {
        Packed { compact: true, ..Packed::default() }
    }

    /// Whether blocks are encoded as constants and decimals where they can be.
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// From the next block on, encodes as constants and decimals where it can.
    pub fn set_compact(&mut self) {
        self.compact = true;
    }

    pub fn len(&self) -> usize {
        self.sealed * BLOCK + self.stage.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `v`, read back bit for bit (a NaN as a NaN).
    #[inline]
    pub fn push(&mut self, v: f64) {
        self.stage_value(v);
    }

    /// Appends `v` at `f32` precision: read back as `v as f32 as f64`.
    #[inline]
    pub fn push_narrow(&mut self, v: f64) {
        self.narrow |= 1 << self.stage.len();
        self.stage_value(v);
    }

    #[inline]
    fn stage_value(&mut self, v: f64) {
        if self.stage.capacity() == 0 {
            self.stage.reserve_exact(BLOCK);
        }
        self.stage.push(v);
        if self.stage.len() == BLOCK {
            self.seal();
        }
    }

    /// Value `i`.
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        let b = i / BLOCK;
        let j = i % BLOCK;
        if b >= self.sealed {
            return at_precision(self.stage[j], self.narrow >> j & 1 == 1);
        }
        let chunk = &*self.chunks[b / CHUNK_BLOCKS];
        let h = chunk.heads[b % CHUNK_BLOCKS];
        let data = &chunk.data[..];
        let at = h.word as usize * 8;
        match h.kind {
            CONST => f64::from_le_bytes(word(data, at)),
            RAW32 => {
                let p = at + j * 4;
                f32::from_le_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]]) as f64
            }
            RAW64 => f64::from_le_bytes(word(data, at + j * 8)),
            ARITH => {
                let base = i64::from_le_bytes(word(data, at));
                let stride = i64::from_le_bytes(word(data, at + 8));
                scale((base + j as i64 * stride) as f64, h.exp as i32)
            }
            kind => {
                let w = (kind & 3) as usize;
                let base = i64::from_le_bytes(word(data, at));
                let p = at + 8 + j * w;
                let k = match w {
                    1 => data[p] as i64,
                    2 => u16::from_le_bytes([data[p], data[p + 1]]) as i64,
                    _ => u32::from_le_bytes([data[p], data[p + 1], data[p + 2], 0]) as i64,
                };
                at_precision(scale((base + k) as f64, h.exp as i32), kind & NARROW != 0)
            }
        }
    }

    /// The chunk block number `sealed` goes into, unshared: a new one when the chunks so far are
    /// full (or one made room for it: [`Packed::reserve_exact`]), a copy of it when a clone of
    /// the column still holds it (copy on write).
    fn open_chunk(chunks: &mut Vec<Arc<Chunk>>, sealed: usize) -> &mut Chunk {
        let c = sealed / CHUNK_BLOCKS;
        if c > 0 && sealed.is_multiple_of(CHUNK_BLOCKS) {
            // The chunk before is full: it lets go of its spare room (it never grows again), and
            // the next starts at about its size (a column keeps its bytes a value).
            let before = chunks[c - 1].data.len();
            if let Some(full) = Arc::get_mut(&mut chunks[c - 1]) {
                if full.data.capacity() - full.data.len() > full.data.len() / 16 {
                    full.data.shrink_to_fit();
                }
            }
            if c == chunks.len() {
                let mut next = Chunk::default();
                next.data.reserve_exact(before + BLOCK * 8);
                next.heads.reserve_exact(CHUNK_BLOCKS);
                chunks.push(Arc::new(next));
            }
        } else if c == chunks.len() {
            chunks.push(Arc::default());
        }
        Arc::make_mut(&mut chunks[c])
    }

    /// Calls `f(i, value i)` for `i` in `from..to` (to at most the length), in order: each
    /// block's header read once for its values, which are those [`Packed::get`] gives, bit for
    /// bit. A chart's first pass over a series (its smoother and summaries) reads every value.
    #[inline]
    pub fn for_each_from(&self, from: usize, to: usize, mut f: impl FnMut(usize, f64)) {
        let to = to.min(self.len());
        let mut i = from;
        while i < to {
            let b = i / BLOCK;
            let (j0, j1) = (i % BLOCK, (to - b * BLOCK).min(BLOCK));
            if b >= self.sealed {
                for j in j0..j1 {
                    f(b * BLOCK + j, at_precision(self.stage[j], self.narrow >> j & 1 == 1));
                }
                return;
            }
            let chunk = &*self.chunks[b / CHUNK_BLOCKS];
            let h = chunk.heads[b % CHUNK_BLOCKS];
            let data = &chunk.data[..];
            let at = h.word as usize * 8;
            match h.kind {
                CONST => {
                    let v = f64::from_le_bytes(word(data, at));
                    (j0..j1).for_each(|j| f(b * BLOCK + j, v));
                }
                RAW32 => {
                    let raw = &data[at..at + BLOCK * 4];
                    for j in j0..j1 {
                        let p = j * 4;
                        f(
                            b * BLOCK + j,
                            f32::from_le_bytes([raw[p], raw[p + 1], raw[p + 2], raw[p + 3]]) as f64,
                        );
                    }
                }
                RAW64 => {
                    for j in j0..j1 {
                        f(b * BLOCK + j, f64::from_le_bytes(word(data, at + j * 8)));
                    }
                }
                ARITH => {
                    let base = i64::from_le_bytes(word(data, at));
                    let stride = i64::from_le_bytes(word(data, at + 8));
                    for j in j0..j1 {
                        f(b * BLOCK + j, scale((base + j as i64 * stride) as f64, h.exp as i32));
                    }
                }
                kind => {
                    let w = (kind & 3) as usize;
                    let base = i64::from_le_bytes(word(data, at));
                    let raw = &data[at + 8..at + 8 + BLOCK * w];
                    let (exp, narrow) = (h.exp as i32, kind & NARROW != 0);
                    let value = |k: i64| at_precision(scale((base + k) as f64, exp), narrow);
                    match w {
                        1 => (j0..j1).for_each(|j| f(b * BLOCK + j, value(raw[j] as i64))),
                        2 => (j0..j1).for_each(|j| {
                            f(b * BLOCK + j, value(u16::from_le_bytes([raw[2 * j], raw[2 * j + 1]]) as i64))
                        }),
                        _ => (j0..j1).for_each(|j| {
                            let p = 3 * j;
                            f(
                                b * BLOCK + j,
                                value(u32::from_le_bytes([raw[p], raw[p + 1], raw[p + 2], 0]) as i64),
                            )
                        }),
                    }
                }
            }
            i = b * BLOCK + j1;
        }
    }

    /// Values `from..from + out.len()` into `out` (which must end at most at the length), those
    /// [`Packed::get`] gives, bit for bit: each block's header read once, its values decoded in a
    /// loop of their own without a call a value (a chart's smoother and summaries read a series
    /// this way, a block at a time).
    pub fn read_into(&self, from: usize, out: &mut [f64]) {
        let mut i = from;
        let mut rest = out;
        while !rest.is_empty() {
            let (b, j0) = (i / BLOCK, i % BLOCK);
            let n = (BLOCK - j0).min(rest.len());
            let (here, after) = std::mem::take(&mut rest).split_at_mut(n);
            self.block_into(b, j0, here);
            i += n;
            rest = after;
        }
    }

    /// Values `j0..j0 + out.len()` of block `b` into `out`.
    #[inline]
    fn block_into(&self, b: usize, j0: usize, out: &mut [f64]) {
        if b >= self.sealed {
            let stage = &self.stage[j0..j0 + out.len()];
            for (k, (o, &v)) in out.iter_mut().zip(stage).enumerate() {
                *o = at_precision(v, self.narrow >> (j0 + k) & 1 == 1);
            }
            return;
        }
        let chunk = &*self.chunks[b / CHUNK_BLOCKS];
        let h = chunk.heads[b % CHUNK_BLOCKS];
        let data = &chunk.data[..];
        let at = h.word as usize * 8;
        let n = out.len();
        match h.kind {
            CONST => out.fill(f64::from_le_bytes(word(data, at))),
            RAW32 => {
                let raw = &data[at + j0 * 4..at + (j0 + n) * 4];
                for (o, c) in out.iter_mut().zip(raw.chunks_exact(4)) {
                    *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64;
                }
            }
            RAW64 => {
                let raw = &data[at + j0 * 8..at + (j0 + n) * 8];
                for (o, c) in out.iter_mut().zip(raw.chunks_exact(8)) {
                    *o = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                }
            }
            ARITH => {
                let base = i64::from_le_bytes(word(data, at));
                let stride = i64::from_le_bytes(word(data, at + 8));
                for (k, o) in out.iter_mut().enumerate() {
                    *o = scale((base + (j0 + k) as i64 * stride) as f64, h.exp as i32);
                }
            }
            kind => {
                let w = (kind & 3) as usize;
                let base = i64::from_le_bytes(word(data, at));
                let raw = &data[at + 8 + j0 * w..at + 8 + (j0 + n) * w];
                let (exp, narrow) = (h.exp as i32, kind & NARROW != 0);
                // `base + k` is a mantissa the seal checked to be below 2^53 in magnitude, so the
                // sum of the two as `f64` is exact: the same `f64` as the integer sum converted,
                // and a loop the compiler can run on several values at once.
                let base = base as f64;
                match w {
                    1 => decode(out, raw.iter().map(|&k| k as i32), base, exp, narrow),
                    2 => decode(
                        out,
                        raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as i32),
                        base,
                        exp,
                        narrow,
                    ),
                    _ => decode(
                        out,
                        raw.chunks_exact(3).map(|c| i32::from_le_bytes([c[0], c[1], c[2], 0])),
                        base,
                        exp,
                        narrow,
                    ),
                }
            }
        }
    }

    /// Encodes the full staged block.
    fn seal(&mut self) {
        let chunk = Self::open_chunk(&mut self.chunks, self.sealed);
        let data = &mut chunk.data;
        let word = u32::try_from(data.len() / 8).expect("a chunk of at most 32 GiB");
        let (stage, mask) = (&self.stage, self.narrow);
        let head = if self.compact { encode(stage, mask, data, word) } else { raw(stage, mask, data, word) };
        if chunk.heads.len() == chunk.heads.capacity() {
            // (The chunk is not full: at least one more header fits.)
            chunk.heads.reserve_exact((chunk.heads.len() / 8).max(4).min(CHUNK_BLOCKS - chunk.heads.len()));
        }
        chunk.heads.push(head);
        self.sealed += 1;
        self.stage.clear();
        self.narrow = 0;
    }

    /// Makes room for about `n` more values, at the bytes a value the sealed blocks took so far
    /// (2 before any): in the chunk being filled, and in as many chunks after it as they need.
    pub fn reserve_exact(&mut self, n: usize) {
        let per = match self.chunks.first() {
            Some(c) if !c.heads.is_empty() => c.data.len() as f64 / (c.heads.len() * BLOCK) as f64,
            _ => 2.0,
        };
        let mut blocks = n / BLOCK + 1;
        let mut c = self.sealed / CHUNK_BLOCKS;
        Self::open_chunk(&mut self.chunks, self.sealed);
        while blocks > 0 {
            if c == self.chunks.len() {
                self.chunks.push(Arc::default());
            }
            let chunk = Arc::make_mut(&mut self.chunks[c]);
            let take = blocks.min(CHUNK_BLOCKS - chunk.heads.len());
            // A block's worth to spare: the estimate rounds.
            chunk.data.reserve_exact((take as f64 * BLOCK as f64 * per) as usize + BLOCK * 8);
            chunk.heads.reserve_exact(take);
            blocks -= take;
            c += 1;
        }
    }

    /// Heap bytes held (capacity; a chunk shared with a clone counts in each).
    pub fn bytes(&self) -> usize {
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| c.heads.capacity() * std::mem::size_of::<Head>() + c.data.capacity() + 16)
            .sum();
        chunks + self.chunks.capacity() * 8 + self.stage.capacity() * 8
    }

    /// Bytes in use (not capacity): the encoded blocks and their headers.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.chunks.iter().map(|c| c.heads.len() * std::mem::size_of::<Head>() + c.data.len()).sum()
    }

    /// Whether `self` and `other` hold the same sealed chunks (a clone before either grew), for
    /// tests of the sharing.
    pub fn shares_chunks_with(&self, other: &Packed) -> bool {
        !self.chunks.is_empty()
            && self.chunks.len() == other.chunks.len()
            && self.chunks.iter().zip(&other.chunks).all(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// The values in order.
    pub fn to_vec(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// The index of the first value for which `pred` is false, the values being partitioned by
    /// it (as [`slice::partition_point`]).
    pub fn partition_point(&self, mut pred: impl FnMut(f64) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.get(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The last value, if any.
    pub fn last(&self) -> Option<f64> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }
}

/// A decimal block's values into `out`: `(base + k) / 10^exp` for its offsets `k`, at `f32`
/// precision if `narrow` (as [`Packed::get`] computes each).
#[inline(always)]
fn decode(out: &mut [f64], ks: impl Iterator<Item = i32>, base: f64, exp: i32, narrow: bool) {
    let ms = out.iter_mut().zip(ks);
    match (exp >= 0, narrow) {
        (true, false) => {
            let p = P10[exp as usize];
            ms.for_each(|(o, k)| *o = (base + k as f64) / p);
        }
        (true, true) => {
            let p = P10[exp as usize];
            ms.for_each(|(o, k)| *o = ((base + k as f64) / p) as f32 as f64);
        }
        (false, false) => {
            let p = P10[(-exp) as usize];
            ms.for_each(|(o, k)| *o = (base + k as f64) * p);
        }
        (false, true) => {
            let p = P10[(-exp) as usize];
            ms.for_each(|(o, k)| *o = ((base + k as f64) * p) as f32 as f64);
        }
    }
}

#[inline]
fn word(data: &[u8], at: usize) -> [u8; 8] {
    let mut w = [0u8; 8];
    w.copy_from_slice(&data[at..at + 8]);
    w
}

/// Encodes a full block (`stage`, `mask` its values read at `f32` precision) into `data`, whose
/// end is at `word`: a constant, steps of one size, decimals, or raw values.
fn encode(stage: &[f64], mask: u64, data: &mut Vec<u8>, word: u32) -> Head {
    let narrow = mask == u64::MAX;
    let mixed = mask != 0 && !narrow;
    let target = |k: usize, v: f64| at_precision(v, mask >> k & 1 == 1);
    let first = target(0, stage[0]);
    if stage.iter().enumerate().all(|(k, &v)| target(k, v).to_bits() == first.to_bits()) {
        grow(data, 8);
        data.extend_from_slice(&first.to_le_bytes());
        return Head { word, kind: CONST, exp: 0 };
    }
    let mut ms = [0i64; BLOCK];
    let Some((exp, lo, hi)) = (!mixed).then(|| decimals(stage, narrow, &mut ms)).flatten() else {
        return raw(stage, mask, data, word);
    };
    let stride = ms[1] - ms[0];
    if !narrow && ms.iter().enumerate().all(|(j, &m)| m == ms[0] + j as i64 * stride) {
        grow(data, 16);
        data.extend_from_slice(&ms[0].to_le_bytes());
        data.extend_from_slice(&stride.to_le_bytes());
        return Head { word, kind: ARITH, exp: exp as i8 };
    }
    let w = match hi - lo {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => return raw(stage, mask, data, word),
    };
    // The base, then each value's offset from it in `w` bytes (little-endian), written in place
    // and appended at once.
    let mut block = [0u8; 8 + BLOCK * 3];
    block[..8].copy_from_slice(&lo.to_le_bytes());
    let out = &mut block[8..8 + BLOCK * w];
    match w {
        1 => out.iter_mut().zip(&ms).for_each(|(o, &m)| *o = (m - lo) as u8),
        2 => out
            .chunks_exact_mut(2)
            .zip(&ms)
            .for_each(|(o, &m)| o.copy_from_slice(&((m - lo) as u16).to_le_bytes())),
        _ => out
            .chunks_exact_mut(3)
            .zip(&ms)
            .for_each(|(o, &m)| o.copy_from_slice(&((m - lo) as u32).to_le_bytes()[..3])),
    }
    grow(data, 8 + BLOCK * w);
    data.extend_from_slice(&block[..8 + BLOCK * w]);
    Head { word, kind: DEC + w as u8 + if narrow { NARROW } else { 0 }, exp: exp as i8 }
}

/// A full block as raw values: `f32` when each survives it (NaN too), else `f64`.
fn raw(stage: &[f64], mask: u64, data: &mut Vec<u8>, word: u32) -> Head {
    let target = |k: usize, v: f64| at_precision(v, mask >> k & 1 == 1);
    let fits = stage.iter().enumerate().all(|(k, &v)| {
        let t = target(k, v);
        t.is_nan() || (t as f32 as f64).to_bits() == t.to_bits()
    });
    if fits {
        let mut block = [0u8; BLOCK * 4];
        for (k, (&v, out)) in stage.iter().zip(block.chunks_exact_mut(4)).enumerate() {
            out.copy_from_slice(&(target(k, v) as f32).to_le_bytes());
        }
        grow(data, BLOCK * 4);
        data.extend_from_slice(&block);
        Head { word, kind: RAW32, exp: 0 }
    } else {
        let mut block = [0u8; BLOCK * 8];
        for (k, (&v, out)) in stage.iter().zip(block.chunks_exact_mut(8)).enumerate() {
            out.copy_from_slice(&target(k, v).to_le_bytes());
        }
        grow(data, BLOCK * 8);
        data.extend_from_slice(&block);
        Head { word, kind: RAW64, exp: 0 }
    }
}

impl FromIterator<f64> for Packed {
    fn from_iter<I: IntoIterator<Item = f64>>(values: I) -> Packed {
        let mut p = Packed::compact();
        values.into_iter().for_each(|v| p.push(v));
        p
    }
}

impl PartialEq<[f64]> for Packed {
    fn eq(&self, other: &[f64]) -> bool {
        self.len() == other.len() && other.iter().enumerate().all(|(i, v)| self.get(i) == *v)
    }
}

impl<const N: usize> PartialEq<[f64; N]> for Packed {
    fn eq(&self, other: &[f64; N]) -> bool {
        *self == other[..]
    }
}

/// Room for `n` more bytes in a chunk's `data`: doubling, up to the most a chunk can hold.
#[inline]
fn grow(data: &mut Vec<u8>, n: usize) {
    if data.capacity() - data.len() < n {
        let most = (CHUNK_BLOCKS * BLOCK * 8).saturating_sub(data.len());
        data.reserve_exact(data.len().max(256).min(most).max(n));
    }
}

/// The seal as it was before it was made cheaper (branch seal, 2026-12-07), kept to check that
/// the blocks are encoded the same, byte for byte: `decimals` and `encode` verbatim.
#[cfg(test)]
mod reference {
    use super::*;

    /// The block's values as decimals over one power of ten: (exponent, mantissas), if each value
    /// has one within [`EXACT_INT`].
    pub(super) fn decimals(vals: &[f64], narrow: bool) -> Option<(i32, [i64; BLOCK])> {
        let mut ms = [0i64; BLOCK];
        let mut exp = i32::MIN;
        for (i, &v) in vals.iter().enumerate() {
            if !v.is_finite() {
                return None;
            }
            if exp != i32::MIN {
                if let Some(m) = mantissa(v, exp, narrow) {
                    ms[i] = m as i64;
                    continue;
                }
            }
            // The smallest exponent from where this value's digits start (or the block's).
            let lo = if v == 0.0 { 0 } else { -(v.abs().log10().floor() as i32) };
            let from =
                if exp == i32::MIN { lo.clamp(EXP_MIN, EXP_MAX) } else { (exp + 1).max(lo).min(EXP_MAX + 1) };
            let mut found = None;
            for e in from..=EXP_MAX {
                if scale(v.abs(), -e) >= EXACT_INT {
                    break;
                }
                if let Some(m) = mantissa(v, e, narrow) {
                    found = Some((e, m));
                    break;
                }
            }
            let (e, m) = found?;
            if exp != i32::MIN && e > exp {
                if e - exp > EXP_MAX {
                    return None;
                }
                // The values before, at the finer exponent: exact integer products, checked.
                let f = P10[(e - exp) as usize];
                for mm in &mut ms[..i] {
                    let wide = *mm as f64 * f;
                    if wide.abs() >= EXACT_INT {
                        return None;
                    }
                    *mm = wide as i64;
                }
            }
            exp = exp.max(e);
            ms[i] = m as i64;
        }
        // Each value was read back at the exponent it was found at; one found before the exponent
        // was raised reads back the same at the final one, unchecked: `m * 10^d` is exact (checked
        // above), and `m * 10^d / 10^(e+d)` is the same real number as `m / 10^e` (or the same
        // product with a negative exponent), which IEEE 754's correctly rounded division and
        // multiplication round to the same `f64`. (The tests read every value of every encoding back.)
        Some((exp, ms))
    }

    /// Encodes a full block (`stage`, `mask` its values read at `f32` precision) into `data`, whose
    /// end is at `word`: a constant, steps of one size, decimals, or raw values.
    pub(super) fn encode(stage: &[f64], mask: u64, data: &mut Vec<u8>, word: u32) -> Head {
        let narrow = mask == u64::MAX;
        let mixed = mask != 0 && !narrow;
        let target = |k: usize, v: f64| at_precision(v, mask >> k & 1 == 1);
        let first = target(0, stage[0]);
        if stage.iter().enumerate().all(|(k, &v)| target(k, v).to_bits() == first.to_bits()) {
            grow(data, 8);
            data.extend_from_slice(&first.to_le_bytes());
            return Head { word, kind: CONST, exp: 0 };
        }
        let Some((exp, ms)) = (!mixed).then(|| decimals(stage, narrow)).flatten() else {
            return raw(stage, mask, data, word);
        };
        let stride = ms[1] - ms[0];
        if !narrow && ms.iter().enumerate().all(|(j, &m)| m == ms[0] + j as i64 * stride) {
            grow(data, 16);
            data.extend_from_slice(&ms[0].to_le_bytes());
            data.extend_from_slice(&stride.to_le_bytes());
            return Head { word, kind: ARITH, exp: exp as i8 };
        }
        let lo = ms.iter().copied().min().unwrap_or(0);
        let span = ms.iter().copied().max().unwrap_or(0) - lo;
        let w = match span {
            0..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xff_ffff => 3,
            _ => return raw(stage, mask, data, word),
        };
        grow(data, 8 + BLOCK * w);
        data.extend_from_slice(&lo.to_le_bytes());
        for m in ms {
            data.extend_from_slice(&((m - lo) as u32).to_le_bytes()[..w]);
        }
        Head { word, kind: DEC + w as u8 + if narrow { NARROW } else { 0 }, exp: exp as i8 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn check(vals: &[f64]) -> Packed {
        let mut plain = Packed::default();
        let mut p = Packed::compact();
        for &v in vals {
            p.push(v);
            plain.push(v);
        }
        assert_eq!((p.len(), plain.len()), (vals.len(), vals.len()));
        for (i, &v) in vals.iter().enumerate() {
            assert!(same(p.get(i), v), "value {i}: {v:e} read back as {:e}", p.get(i));
            assert!(same(plain.get(i), v), "value {i}: {v:e} read back as {:e} (plain)", plain.get(i));
        }
        assert!(p.used() <= plain.used() + plain.used() / 32, "{} vs {}", p.used(), plain.used());
        in_order_as_by_index(&p);
        in_order_as_by_index(&plain);
        p
    }

    /// `for_each_from` gives what `get` gives, bit for bit, over the whole column and ranges
    /// starting and ending inside blocks, at their edges and in the block being filled.
    fn in_order_as_by_index(p: &Packed) {
        let n = p.len();
        let cuts = [0, 1, 63, 64, 65, 130, n / 2, n.saturating_sub(65), n.saturating_sub(1), n, n + 5];
        for &a in &cuts {
            for &b in &cuts {
                let mut got = Vec::new();
                p.for_each_from(a, b, |i, v| got.push((i, v.to_bits())));
                let want: Vec<(usize, u64)> = (a.min(n)..b.min(n)).map(|i| (i, p.get(i).to_bits())).collect();
                assert_eq!(got, want, "for_each_from({a}, {b}) of {n}");
                if a < b.min(n) {
                    let mut out = vec![0.5; b.min(n) - a];
                    p.read_into(a, &mut out);
                    let got: Vec<(usize, u64)> =
                        out.iter().enumerate().map(|(k, v)| (a + k, v.to_bits())).collect();
                    assert_eq!(got, want, "read_into({a}, {}) of {n}", b.min(n) - a);
                }
            }
        }
    }

    /// A small deterministic generator (xorshift).
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed.max(1);
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn a_clone_shares_the_sealed_chunks_and_never_sees_later_appends() {
        // Three chunks and a half, raw, decimal, constant and narrowed blocks, then a clone; each
        // side then appends (across a chunk's end) values the other must not see.
        let mut r = rng(11);
        let n = CHUNK_BLOCKS * BLOCK * 3 + CHUNK_BLOCKS * BLOCK / 2 + 17;
        let val = |i: usize, x: u64| match (i / BLOCK) % 4 {
            0 => (x % 10_000) as f64 / 100.0,
            1 => f64::from_bits(0x3ff0_0000_0000_0000 | (x >> 12)),
            2 => 0.25,
            _ => (i as f64).sqrt(),
        };
        for compact in [false, true] {
            let mut p = if compact { Packed::compact() } else { Packed::default() };
            let mut want = Vec::with_capacity(n);
            for i in 0..n {
                let v = val(i, r());
                if i % 3 == 0 {
                    p.push_narrow(v);
                    want.push(v as f32 as f64);
                } else {
                    p.push(v);
                    want.push(v);
                }
            }
            let mut snap = p.clone();
            assert!(snap.shares_chunks_with(&p), "a clone copies no sealed block");
            let more = CHUNK_BLOCKS * BLOCK;
            for i in n..n + more {
                p.push(val(i, r()) + 1.0);
            }
            assert!(!snap.shares_chunks_with(&p));
            assert_eq!(snap.len(), n);
            for (i, &w) in want.iter().enumerate() {
                assert!(same(snap.get(i), w), "clone, value {i}");
                assert!(same(p.get(i), w), "original, value {i}");
            }
            // The clone grows on its own: the original keeps what it appended.
            let theirs: Vec<f64> = (n..n + more).map(|i| p.get(i)).collect();
            for i in 0..more {
                snap.push(-(i as f64));
            }
            for (k, &t) in theirs.iter().enumerate() {
                assert!(same(p.get(n + k), t), "original, appended value {k}");
                assert!(same(snap.get(n + k), -(k as f64)), "clone, appended value {k}");
            }
            // Only the chunk both shared at the clone is copied: the ones before stay shared.
            let shared = p.chunks.iter().zip(&snap.chunks).filter(|(a, b)| Arc::ptr_eq(a, b)).count();
            assert_eq!(shared, n / (CHUNK_BLOCKS * BLOCK), "compact {compact}");
        }
    }

    #[test]
    fn full_chunks_hold_little_spare_room() {
        let mut p = Packed::compact();
        let mut r = rng(5);
        for _ in 0..CHUNK_BLOCKS * BLOCK * 5 {
            p.push((r() % 1000) as f64 / 8.0);
        }
        let used = p.used();
        assert!(p.bytes() <= used + used / 8 + 64 * 1024, "{} bytes held for {used} used", p.bytes());
    }

    #[test]
    fn printed_decimals_come_back_bit_for_bit_in_two_bytes_a_value() {
        let mut r = rng(7);
        let mut vals = Vec::new();
        for i in 0..6400 {
            // A loss printed with four digits, as `f"{loss:.4g}"` writes it.
            let v: f64 = format!("{:.4}", 2.5 * (-(i as f64) / 3000.0).exp() + (r() % 100) as f64 * 1e-4)
                .parse()
                .unwrap();
            vals.push(v);
        }
        let p = check(&vals);
        assert!(p.used() < vals.len() * 9 / 4, "{} bytes for {} values", p.used(), vals.len());
    }

    #[test]
    fn steps_times_and_constants_take_about_a_byte_a_value_or_less() {
        let steps: Vec<f64> = (0..64_000).map(|i| (i * 10) as f64).collect();
        let p = check(&steps);
        assert!(p.used() < steps.len() / 2, "{}", p.used());
        let times: Vec<f64> = (0..64_000)
            .map(|i| format!("{:.1}", 1_767_225_600.3 + i as f64 * 0.25).parse().unwrap())
            .collect();
        let p = check(&times);
        assert!(p.used() <= times.len() * 5 / 4, "{}", p.used());
        let jitter: Vec<f64> = (0..64_000)
            .map(|i| {
                format!("{:.1}", 1_767_225_600.3 + i as f64 * 0.25 + (i * 7 % 3) as f64 * 0.1)
                    .parse()
                    .unwrap()
            })
            .collect();
        let p = check(&jitter);
        assert!(p.used() <= jitter.len() * 5 / 4, "{}", p.used());
        let p = check(&[f64::NAN; 6400]);
        assert!(p.used() <= 6400 / 4, "{}", p.used());
        check(&[0.01; 6400]);
    }

    #[test]
    fn any_value_comes_back_exactly() {
        let mut r = rng(11);
        let specials = [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            1e300,
            1e-300,
            5e-324,
            0.1,
            0.2,
            0.30000000000000004,
            9007199254740993.0,
            123456789012345678.0,
            1e22,
            1e23,
            -2.5,
            0.40251234459877014,
        ];
        let mut vals = Vec::new();
        for i in 0..20_000u64 {
            let v = match r() % 6 {
                0 => specials[(r() % specials.len() as u64) as usize],
                1 => f64::from_bits(r()),
                2 => (r() % 100_000) as f64 / 1000.0,
                3 => f32::from_bits(r() as u32) as f64,
                4 => i as f64,
                _ => format!("{:.3e}", f64::from_bits(r() >> 2)).parse().unwrap_or(1.0),
            };
            vals.push(v);
        }
        check(&vals);
        // Blocks of one kind each, and runs of the same value across and inside blocks.
        for pattern in 0..6 {
            let block: Vec<f64> = (0..300)
                .map(|i| match pattern {
                    0 => 1.5,
                    1 => -0.0,
                    2 => (i / 7) as f64 * 0.001,
                    3 => 1e17 + (i as f64) * 16.0,
                    4 => 0.1 * i as f64,
                    _ => 1.0 / (i + 1) as f64,
                })
                .collect();
            check(&block);
        }
    }

    /// A block of 64 values from `seed`, of the sort a log holds and of the sort it should not:
    /// decimals with a varying number of digits (as `%.4g` prints them), negative values, steps,
    /// constants, values a bit off a short decimal (equal to it at `f32` precision only), and
    /// now and then -0.0, NaN, infinities, 1e-300, 1e300, integers near 2^53 or any bit pattern.
    fn random_block(seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        let style = r() % 6;
        let digits = (r() % 12) as i32;
        let magnitude = (r() % 50) as i32 - 25;
        let base = (r() % 1_000_000) as f64;
        let stride = (r() % 1000) as f64;
        // A third of the blocks hold the odd values (specials, a skipped tick).
        let wild = r().is_multiple_of(3);
        let specials = [
            -0.0,
            0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            1e300,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            4_503_599_627_370_497.5,
            1e22,
            1e23,
            1e-22,
            0.1,
            1000.0,
            999.9999999999999,
            1000.0000000000001,
        ];
        let decimal = |x: f64, d: i32| -> f64 {
            let text = format!("{x:.*e}", d.clamp(0, 16) as usize);
            text.parse::<f64>().unwrap()
        };
        (0..BLOCK)
            .map(|j| {
                let x = r();
                let sign = if x & 1 == 1 { -1.0 } else { 1.0 };
                let scale = 10f64.powi(magnitude);
                if wild && x % 23 == 7 {
                    return specials[(x >> 8) as usize % specials.len()];
                }
                match style {
                    // %.Ng of a wandering value, N varying a little.
                    0 => decimal(
                        sign * scale * (1.0 + ((x >> 16) % 10_000) as f64 / 997.0),
                        digits + ((x >> 40) % 3) as i32 - 1,
                    ),
                    // Steps or clock ticks over a power of ten, now and then a tick skipped.
                    1 => {
                        (base + stride * (j as f64 + (wild && (x >> 20).is_multiple_of(7)) as u8 as f64))
                            * scale
                    }
                    // A constant, now and then another value.
                    2 => {
                        if (x >> 30).is_multiple_of(9) {
                            sign * base
                        } else {
                            base * scale
                        }
                    }
                    // Short decimals nudged by a few ulps (the same at f32 precision, not at f64).
                    3 => {
                        let d = decimal(scale * ((x >> 16) % 100_000) as f64, digits);
                        f64::from_bits(d.to_bits().wrapping_add((x >> 50) % 5))
                    }
                    // Any bit pattern, or any f32.
                    4 => {
                        if x >> 63 == 0 {
                            f64::from_bits(x)
                        } else {
                            f32::from_bits((x >> 17) as u32) as f64
                        }
                    }
                    // Integers around 2^53 and 2^51.
                    _ => sign * ((1u64 << (51 + (x >> 40) % 3)) as f64 + ((x >> 8) % 64) as f64 - 32.0),
                }
            })
            .collect()
    }

    /// The random blocks reach every encoding (else the comparison below would prove little).
    #[test]
    fn random_blocks_reach_every_encoding() {
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 1..3000 {
            for mask in [0, u64::MAX] {
                kinds.insert(encode(&random_block(seed), mask, &mut Vec::new(), 0).kind);
            }
        }
        let want = [
            CONST,
            RAW32,
            RAW64,
            ARITH,
            DEC + 1,
            DEC + 2,
            DEC + 3,
            DEC + NARROW + 1,
            DEC + NARROW + 2,
            DEC + NARROW + 3,
        ];
        for k in want {
            assert!(kinds.contains(&k), "no block encoded as {k} ({kinds:?})");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// The seal encodes every block as the seal before it did: the same kind, exponent and
        /// bytes, values read at `f64`, at `f32` or mixed, at any offset in the chunk.
        #[test]
        fn blocks_are_encoded_as_by_the_reference_seal(seed in 1u64.., masks in 0u8..4, before in 0usize..3) {
            let block = random_block(seed);
            let mask = match masks {
                0 | 1 => 0,
                2 => u64::MAX,
                _ => seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            };
            let mut ours = vec![0xa5u8; before * 8];
            let mut theirs = ours.clone();
            let word = before as u32;
            let a = encode(&block, mask, &mut ours, word);
            let b = reference::encode(&block, mask, &mut theirs, word);
            proptest::prop_assert_eq!((a.word, a.kind, a.exp), (b.word, b.kind, b.exp), "block {:?}", block);
            proptest::prop_assert_eq!(ours, theirs);
        }

        /// `read_into` gives what `get` gives, bit for bit, on columns of random blocks (every
        /// encoding, NaN, infinities, -0.0, huge and tiny values) pushed at `f64`, at `f32` or
        /// mixed, from any point for any length, across blocks and into the block being filled.
        #[test]
        fn values_read_into_a_buffer_are_those_read_by_index(
            seeds in proptest::collection::vec(1u64.., 1..5),
            masks in 0u8..4,
            extra in 0usize..64,
            cuts in proptest::collection::vec((0usize..400, 0usize..200), 1..8),
        ) {
            let mut vals: Vec<f64> = seeds.iter().flat_map(|&s| random_block(s)).collect();
            vals.extend(random_block(seeds[0] ^ 0x55).into_iter().take(extra));
            let narrow_at = |i: usize| match masks {
                0 => false,
                1 => true,
                _ => (i as u64 ^ seeds[0]).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 63 == 1,
            };
            let mut p = if masks == 3 { Packed::default() } else { Packed::compact() };
            for (i, &v) in vals.iter().enumerate() {
                if narrow_at(i) { p.push_narrow(v) } else { p.push(v) }
            }
            let n = p.len();
            for (a, len) in cuts {
                let a = a.min(n);
                let len = len.min(n - a);
                let mut out = vec![0.25; len];
                p.read_into(a, &mut out);
                for (k, v) in out.iter().enumerate() {
                    proptest::prop_assert_eq!(v.to_bits(), p.get(a + k).to_bits(), "value {} of {}", a + k, n);
                }
            }
        }
    }

    #[test]
    fn narrowed_values_read_back_at_f32_precision() {
        let mut r = rng(3);
        let mut p = Packed::compact();
        let mut want = Vec::new();
        for i in 0..1000 {
            let v: f64 = if i % 97 == 5 {
                f64::NAN
            } else {
                format!("{:.4}", (r() % 100_000) as f64 / 7e3).parse().unwrap()
            };
            p.push_narrow(v);
            want.push(v as f32 as f64);
        }
        // From here on exact (a value beyond f32 arrived mid-block).
        for i in 0..200 {
            let v = if i == 0 { 1e300 } else { 0.1 * i as f64 };
            p.push(v);
            want.push(v);
        }
        assert_eq!(p.len(), want.len());
        for (i, &v) in want.iter().enumerate() {
            assert!(same(p.get(i), v), "value {i}: want {v:e}, got {:e}", p.get(i));
        }
        in_order_as_by_index(&p);
    }

    #[test]
    fn partition_point_and_comparisons_match_a_slice() {
        let vals: Vec<f64> = (0..1000).map(|i| (i / 3) as f64).collect();
        let p = check(&vals);
        for x in [-1.0, 0.0, 5.0, 100.5, 332.0, 333.0, 1e9] {
            assert_eq!(p.partition_point(|v| v < x), vals.partition_point(|&v| v < x), "{x}");
        }
        assert!(p == vals[..]);
        assert_eq!(p.last(), Some(333.0));
        assert_eq!(p.to_vec(), vals);
    }
}
