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
//! one would not come back identical).
//!
//! A column may also hold values at `f32` precision ([`Packed::push_narrow`], what
//! [`super::Store::keep_display_precision`] asks for): those read back as `v as f32 as f64`,
//! and a decimal block of them is checked at that precision.

/// Values per block.
pub const BLOCK: usize = 64;

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

/// One sealed block: where its bytes start (in 8-byte words of `data`), its encoding and decimal
/// exponent.
#[derive(Clone, Copy, Debug)]
struct Head {
    word: u32,
    kind: u8,
    exp: i8,
}

/// A column of `f64` values (see the module's doc).
#[derive(Clone, Debug, Default)]
pub struct Packed {
    heads: Vec<Head>,
    data: Vec<u8>,
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

/// The integer `m` with `m / 10^exp == v` (at the precision asked), if there is one.
#[inline]
fn mantissa(v: f64, exp: i32, narrow: bool) -> Option<f64> {
    let m = scale(v, -exp).round();
    (m.abs() < EXACT_INT
        && at_precision(scale(m, exp), narrow).to_bits() == at_precision(v, narrow).to_bits())
    .then_some(m)
}

/// The block's values as decimals over one power of ten: (exponent, mantissas), if each value
/// has one within [`EXACT_INT`].
fn decimals(vals: &[f64], narrow: bool) -> Option<(i32, [i64; BLOCK])> {
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
    // An exponent raised by a later value: every value read back again at the final one.
    for (i, &v) in vals.iter().enumerate() {
        if at_precision(scale(ms[i] as f64, exp), narrow).to_bits() != at_precision(v, narrow).to_bits() {
            return None;
        }
    }
    Some((exp, ms))
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
        self.heads.len() * BLOCK + self.stage.len()
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
        let Some(h) = self.heads.get(b) else {
            return at_precision(self.stage[j], self.narrow >> j & 1 == 1);
        };
        let at = h.word as usize * 8;
        match h.kind {
            CONST => f64::from_le_bytes(self.word(at)),
            RAW32 => {
                let p = at + j * 4;
                f32::from_le_bytes([self.data[p], self.data[p + 1], self.data[p + 2], self.data[p + 3]])
                    as f64
            }
            RAW64 => f64::from_le_bytes(self.word(at + j * 8)),
            ARITH => {
                let base = i64::from_le_bytes(self.word(at));
                let stride = i64::from_le_bytes(self.word(at + 8));
                scale((base + j as i64 * stride) as f64, h.exp as i32)
            }
            kind => {
                let w = (kind & 3) as usize;
                let base = i64::from_le_bytes(self.word(at));
                let p = at + 8 + j * w;
                let k = match w {
                    1 => self.data[p] as i64,
                    2 => u16::from_le_bytes([self.data[p], self.data[p + 1]]) as i64,
                    _ => u32::from_le_bytes([self.data[p], self.data[p + 1], self.data[p + 2], 0]) as i64,
                };
                at_precision(scale((base + k) as f64, h.exp as i32), kind & NARROW != 0)
            }
        }
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
            let Some(h) = self.heads.get(b) else {
                for j in j0..j1 {
                    f(b * BLOCK + j, at_precision(self.stage[j], self.narrow >> j & 1 == 1));
                }
                return;
            };
            let at = h.word as usize * 8;
            match h.kind {
                CONST => {
                    let v = f64::from_le_bytes(self.word(at));
                    (j0..j1).for_each(|j| f(b * BLOCK + j, v));
                }
                RAW32 => {
                    let raw = &self.data[at..at + BLOCK * 4];
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
                        f(b * BLOCK + j, f64::from_le_bytes(self.word(at + j * 8)));
                    }
                }
                ARITH => {
                    let base = i64::from_le_bytes(self.word(at));
                    let stride = i64::from_le_bytes(self.word(at + 8));
                    for j in j0..j1 {
                        f(b * BLOCK + j, scale((base + j as i64 * stride) as f64, h.exp as i32));
                    }
                }
                kind => {
                    let w = (kind & 3) as usize;
                    let base = i64::from_le_bytes(self.word(at));
                    let raw = &self.data[at + 8..at + 8 + BLOCK * w];
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

    #[inline]
    fn word(&self, at: usize) -> [u8; 8] {
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.data[at..at + 8]);
        w
    }

    /// Encodes the full staged block.
    fn seal(&mut self) {
        let word = u32::try_from(self.data.len() / 8).expect("a column of at most 32 GiB");
        if !self.compact {
            let head = self.raw(word);
            self.push_head(head);
            return;
        }
        let narrow = self.narrow == u64::MAX;
        let mixed = self.narrow != 0 && !narrow;
        let mask = self.narrow;
        let target = |k: usize, v: f64| at_precision(v, mask >> k & 1 == 1);
        let first = target(0, self.stage[0]);
        let head = if self.stage.iter().enumerate().all(|(k, &v)| target(k, v).to_bits() == first.to_bits()) {
            grow(&mut self.data, 8);
            self.data.extend_from_slice(&first.to_le_bytes());
            Head { word, kind: CONST, exp: 0 }
        } else if let Some((exp, ms)) = (!mixed).then(|| decimals(&self.stage, narrow)).flatten() {
            let stride = ms[1] - ms[0];
            if !narrow && ms.iter().enumerate().all(|(j, &m)| m == ms[0] + j as i64 * stride) {
                grow(&mut self.data, 16);
                self.data.extend_from_slice(&ms[0].to_le_bytes());
                self.data.extend_from_slice(&stride.to_le_bytes());
                self.push_head(Head { word, kind: ARITH, exp: exp as i8 });
                return;
            }
            let lo = ms.iter().copied().min().unwrap_or(0);
            let span = ms.iter().copied().max().unwrap_or(0) - lo;
            let w = match span {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                0x1_0000..=0xff_ffff => 3,
                _ => 0,
            };
            if w == 0 {
                self.raw(word)
            } else {
                let bytes = 8 + BLOCK * w;
                grow(&mut self.data, bytes);
                self.data.extend_from_slice(&lo.to_le_bytes());
                for m in ms {
                    self.data.extend_from_slice(&((m - lo) as u32).to_le_bytes()[..w]);
                }
                Head { word, kind: DEC + w as u8 + if narrow { NARROW } else { 0 }, exp: exp as i8 }
            }
        } else {
            self.raw(word)
        };
        self.push_head(head);
    }

    /// Keeps the header of the block just encoded and empties the stage.
    fn push_head(&mut self, head: Head) {
        if self.heads.len() == self.heads.capacity() {
            self.heads.reserve_exact((self.heads.len() / 8).max(4));
        }
        self.heads.push(head);
        self.stage.clear();
        self.narrow = 0;
    }

    /// The staged block as raw values: `f32` when each survives it (NaN too), else `f64`.
    fn raw(&mut self, word: u32) -> Head {
        let mask = self.narrow;
        let target = |k: usize, v: f64| at_precision(v, mask >> k & 1 == 1);
        let fits = self.stage.iter().enumerate().all(|(k, &v)| {
            let t = target(k, v);
            t.is_nan() || (t as f32 as f64).to_bits() == t.to_bits()
        });
        if fits {
            let mut block = [0u8; BLOCK * 4];
            for (k, (&v, out)) in self.stage.iter().zip(block.chunks_exact_mut(4)).enumerate() {
                out.copy_from_slice(&(target(k, v) as f32).to_le_bytes());
            }
            grow(&mut self.data, BLOCK * 4);
            self.data.extend_from_slice(&block);
            Head { word, kind: RAW32, exp: 0 }
        } else {
            let mut block = [0u8; BLOCK * 8];
            for (k, (&v, out)) in self.stage.iter().zip(block.chunks_exact_mut(8)).enumerate() {
                out.copy_from_slice(&target(k, v).to_le_bytes());
            }
            grow(&mut self.data, BLOCK * 8);
            self.data.extend_from_slice(&block);
            Head { word, kind: RAW64, exp: 0 }
        }
    }

    /// Makes room for about `n` more values, at the bytes a value the sealed blocks took so far
    /// (2 before any).
    pub fn reserve_exact(&mut self, n: usize) {
        let sealed = self.heads.len() * BLOCK;
        let per = if sealed == 0 { 2.0 } else { self.data.len() as f64 / sealed as f64 };
        // A block's worth to spare: the estimate rounds, and the staged values are not sealed yet.
        self.data.reserve_exact((n as f64 * per) as usize + BLOCK * 8);
        self.heads.reserve_exact(n / BLOCK + 1);
    }

    /// Heap bytes held (capacity).
    pub fn bytes(&self) -> usize {
        self.heads.capacity() * std::mem::size_of::<Head>() + self.data.capacity() + self.stage.capacity() * 8
    }

    /// Bytes in use (not capacity): the encoded blocks and their headers.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.heads.len() * std::mem::size_of::<Head>() + self.data.len()
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

/// Room for `n` more bytes in `data`: doubling while small, an eighth once it holds a few MB.
#[inline]
fn grow(data: &mut Vec<u8>, n: usize) {
    if data.capacity() - data.len() < n {
        let extra = if data.len() >= super::GROW_SLOWLY_FROM { data.len() / 8 } else { data.len() };
        data.reserve_exact(extra.max(n).max(256));
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
