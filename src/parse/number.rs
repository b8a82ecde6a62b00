//! Numbers: JSON's grammar plus Python's `NaN`/`Infinity` spellings, read to f64 with correct
//! rounding. The common case (up to 19 significant digits, a small exponent) is computed here
//! exactly; the rest goes to `fast-float2`. Beyond range means ±inf or ±0, never an error.

use super::scan::{load8, Cursor};
use super::LineError;

/// Clinger's fast path is exact for mantissas up to 2^53 and powers of ten up to 10^22, because
/// both operands are then exact doubles and IEEE multiplication/division rounds once.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT_MANTISSA: u64 = 1 << 53;

impl Cursor<'_> {
    /// Parses a number at the cursor (which is on `-` or a digit), including `-Infinity`. Numbers
    /// beyond f64 range become ±inf. Plain JSON grammar otherwise: no `+`, no leading zeros, no `.5`.
    #[inline]
    pub(crate) fn number(&mut self) -> Result<f64, LineError> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let neg = b.get(i) == Some(&b'-');
        if neg {
            i += 1;
            if b.get(i) == Some(&b'I') {
                self.i = i;
                self.literal(b"Infinity")?;
                return Ok(f64::NEG_INFINITY);
            }
        }
        let mut mant: u64 = 0;
        let mut ndigits: usize = 0;
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                ndigits = 1;
            }
            Some(b'1'..=b'9') => {
                let n = digits(b, i, &mut mant);
                i += n;
                ndigits += n;
            }
            _ => return Err(self.err_at(i, "a digit")),
        }
        let mut frac: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fstart = i;
            i += digits(b, i, &mut mant);
            if i == fstart {
                return Err(self.err_at(i, "a digit after '.'"));
            }
            ndigits += i - fstart;
            frac = (i - fstart) as i64;
        }
        let mut exp: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let estart = i;
            while let Some(&c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                // Saturate: anything this large is already ±inf or 0.
                if exp < 1_000_000 {
                    exp = exp * 10 + i64::from(c - b'0');
                }
                i += 1;
            }
            if i == estart {
                return Err(self.err_at(i, "a digit in the exponent"));
            }
            if eneg {
                exp = -exp;
            }
        }
        self.i = i;
        // Leading zeros of "0.000123" are counted in ndigits but add nothing to mant, so the fast
        // path is only ever skipped too often, never taken wrongly.
        let e10 = exp - frac;
        if ndigits <= 19 && mant <= MAX_EXACT_MANTISSA && (-22..=22).contains(&e10) {
            let m = mant as f64;
            let v = if e10 >= 0 { m * POW10[e10 as usize] } else { m / POW10[(-e10) as usize] };
            return Ok(if neg { -v } else { v });
        }
        // The grammar was checked above, so fast-float2 sees a plain decimal number. It rounds
        // correctly and saturates to ±inf / ±0 beyond range.
        fast_float2::parse::<f64, _>(&b[start..i]).map_err(|_| self.err_at(start, "a number"))
    }
}

const POW10_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Folds the run of digits at `i` into `mant` (wrapping past 19 digits; the caller counts) and
/// returns its length. Eight bytes at a time: a serial loop costs two dependent instructions per
/// digit plus a mispredicted exit for every number, as metric values vary in length.
#[inline(always)]
fn digits(b: &[u8], mut i: usize, mant: &mut u64) -> usize {
    let start = i;
    while let Some(chunk) = b.get(i..i + 8) {
        let v = load8(chunk);
        let d = v.wrapping_sub(ZEROS);
        // A byte is a digit iff it is >= '0' (no borrow from subtracting 0x30) and <= '9' (adding
        // 0x46 does not reach 0x80). The lowest flagged byte is exact: borrows only move upward.
        let non_digit = (d | v.wrapping_add(0x4646_4646_4646_4646)) & HIGH_BITS;
        if non_digit == 0 {
            *mant = mant.wrapping_mul(100_000_000).wrapping_add(eight(d));
            i += 8;
            continue;
        }
        let n = (non_digit.trailing_zeros() / 8) as usize; // digits before the first non-digit, 0..=7
        if n > 0 {
            // Shifting the n digits to the top leaves zeros in front, which add nothing; the bytes
            // from the non-digit on (and any borrow they caused) fall off the end.
            *mant = mant.wrapping_mul(POW10_U64[n]).wrapping_add(eight(d << (8 * (8 - n))));
        }
        return i + n - start;
    }
    // Fewer than 8 bytes left in the line.
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        *mant = mant.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        i += 1;
    }
    i - start
}

/// The value of 8 digit values (0..=9, one per byte, the first digit in the lowest byte).
#[inline(always)]
fn eight(d: u64) -> u64 {
    // Combine neighbours into pairs, pairs into fours, fours into the whole.
    let d = (d * 10 + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d * 100 + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    (d * 10_000 + (d >> 32)) & 0xFFFF_FFFF
}
