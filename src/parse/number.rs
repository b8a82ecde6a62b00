//! Numbers: JSON's grammar plus Python's `NaN`/`Infinity` spellings, read to f64 with correct
//! rounding. Up to 19 significant digits are read into a `u64` here and converted exactly:
//! Clinger's path for a mantissa up to 2^53 and an exponent up to 22, Eisel and Lemire's (from
//! `minimal-lexical`) for the rest; longer mantissas, and the rare values Eisel-Lemire cannot
//! round alone, go to `fast-float2`. Beyond range means ±inf or ±0, never an error.

use super::scan::{load8, Cursor};
use super::LineError;

/// Clinger's fast path is exact for mantissas up to 2^53 and powers of ten up to 10^22, because
/// both operands are then exact doubles and IEEE multiplication/division rounds once.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT_MANTISSA: u64 = 1 << 53;

/// Why a number did not parse: where, and what was expected there (or `-I` not followed by
/// `Infinity`, whose message is the literal's). Small and `Copy`, so the scanner's result stays in
/// registers; the [`LineError`] is built only on the error path.
#[derive(Clone, Copy)]
enum Fail {
    At(usize, &'static str),
    Infinity(usize),
}

impl Cursor<'_> {
    /// Parses a number at the cursor (which is on `-` or a digit), including `-Infinity`. Numbers
    /// beyond f64 range become ±inf. Plain JSON grammar otherwise: no `+`, no leading zeros, no `.5`.
    #[inline]
    pub(crate) fn number(&mut self) -> Result<f64, LineError> {
        match self.scan_number() {
            Ok(v) => Ok(v),
            Err(f) => Err(self.number_error(f)),
        }
    }

    /// [`number`](Self::number) without the error: None where it fails (the cursor is then
    /// anywhere). Its result comes back in registers; a `Result` with a [`LineError`] came back
    /// through the stack, and the caller's copy of the field it built stalled on it.
    #[inline(never)]
    pub(crate) fn number_ok(&mut self) -> Option<f64> {
        self.scan_number().ok()
    }

    #[cold]
    #[inline(never)]
    fn number_error(&mut self, f: Fail) -> LineError {
        match f {
            Fail::At(at, what) => self.err_at(at, what),
            Fail::Infinity(at) => {
                self.i = at;
                match self.literal(b"Infinity") {
                    Err(e) => e,
                    Ok(()) => unreachable!("`Infinity` was not there a moment ago"),
                }
            }
        }
    }

    #[inline(always)]
    fn scan_number(&mut self) -> Result<f64, Fail> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let neg = b.get(i) == Some(&b'-');
        if neg {
            i += 1;
            if b.get(i) == Some(&b'I') {
                if !b[i..].starts_with(b"Infinity") {
                    return Err(Fail::Infinity(i));
                }
                self.i = i + 8;
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
            _ => return Err(Fail::At(i, "a digit")),
        }
        let mut frac: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fstart = i;
            // Zeros before the first significant digit (a learning rate's `0.000299...`) add
            // nothing to the mantissa, so they do not count against its 19 digits.
            if mant == 0 {
                while b.get(i) == Some(&b'0') {
                    i += 1;
                }
            }
            let zeros = i - fstart;
            i += digits(b, i, &mut mant);
            if i == fstart {
                return Err(Fail::At(i, "a digit after '.'"));
            }
            ndigits += i - fstart - zeros;
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
                return Err(Fail::At(i, "a digit in the exponent"));
            }
            if eneg {
                exp = -exp;
            }
        }
        self.i = i;
        // A lone integer 0 is counted in ndigits but adds nothing to mant, so the fast paths are
        // only ever skipped too often, never taken wrongly.
        let e10 = exp - frac;
        if ndigits <= 19 {
            if mant <= MAX_EXACT_MANTISSA && (-22..=22).contains(&e10) {
                let m = mant as f64;
                let v = if e10 >= 0 { m * POW10[e10 as usize] } else { m / POW10[(-e10) as usize] };
                return Ok(if neg { -v } else { v });
            }
            if let Some(v) = lemire(mant, e10) {
                return Ok(if neg { -v } else { v });
            }
        }
        // The grammar was checked above, so fast-float2 sees a plain decimal number. It rounds
        // correctly and saturates to ±inf / ±0 beyond range.
        fast_float2::parse::<f64, _>(&b[start..i]).map_err(|_| Fail::At(start, "a number"))
    }
}

/// `mant * 10^e10` correctly rounded by Eisel and Lemire's algorithm (a 64x128-bit product with
/// a power of five), for an exact mantissa (at most 19 digits, none dropped) and any exponent;
/// None in the rare cases it cannot decide (then the caller's slower paths do). It covers what
/// Clinger's path cannot: the 17-digit mantissas of a float32 printed by Python (beyond 2^53,
/// which took a 128-bit division) and small numbers such as `0.00014984999999999998` (10^-20,
/// which went to `fast-float2` and a second pass over the digits).
#[inline]
fn lemire(mant: u64, e10: i64) -> Option<f64> {
    // Beyond these the value is 0 or inf whatever the 19 digits; `compute_float` says so too,
    // given an exponent that fits its `i32`.
    let q = e10.clamp(-100_000, 100_000) as i32;
    let fp = minimal_lexical::lemire::compute_float::<f64>(q, mant);
    // A negative exponent marks a value it could not round alone.
    if fp.exp < 0 {
        return None;
    }
    Some(f64::from_bits(fp.mant | (fp.exp as u64) << 52))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> f64 {
        let mut c = Cursor { b: s.as_bytes(), i: 0 };
        c.number().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// `number_ok` (the layout's fast path) against `number` and the standard library: the same
    /// value bit for bit and the same end where both parse, None exactly where `number` fails, on
    /// random short decimals, float32 prints of 16-18 digits, exponents, and malformed numbers.
    #[test]
    fn number_ok_is_number_without_the_error() {
        let mut rng = crate::harness::rng::Rng::new(0x2545_F491_4F6C_DD1D);
        let mut next = move || rng.next_u64();
        let fixed = [
            "0",
            "-0",
            "0.0",
            "1e5",
            "1E+5",
            "2.5e-3",
            "-Infinity",
            "-Inf",
            "-I",
            "-",
            "01",
            "1.",
            "1.e3",
            "1e",
            "1e+",
            "-.5",
            "0.000299999",
            "1732610763.733",
            "3.4028234663852886e38",
            "1e400",
            "-1e-400",
            "18446744073709551616",
            "123456789012345678901234567890",
        ];
        let mut texts: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        for _ in 0..300_000 {
            let r = next();
            let digits = 1 + (r % 19) as usize;
            let m = next() % 10u64.pow(digits as u32);
            let text = m.to_string();
            let k = (next() as usize) % (text.len() + 1);
            let mut s = if k == 0 || k == text.len() {
                text.clone()
            } else {
                format!("{}.{}", &text[..k], &text[k..])
            };
            if r & 0x100 != 0 {
                s = format!("0.{}{s}", "0".repeat((r >> 9) as usize % 5));
            }
            if r & 0x4000 != 0 {
                s = format!("{s}e{}", ((next() % 80) as i64) - 40);
            }
            if r & 0x8000 != 0 {
                s.insert(0, '-');
            }
            texts.push(s);
        }
        for s in &texts {
            let line = format!("{s},");
            let mut a = Cursor { b: line.as_bytes(), i: 0 };
            let mut b = Cursor { b: line.as_bytes(), i: 0 };
            match (a.number(), b.number_ok()) {
                (Ok(v), Some(w)) => {
                    assert_eq!(v.to_bits(), w.to_bits(), "{s}");
                    assert_eq!(a.i, b.i, "{s}");
                    let std = s.parse::<f64>().map(f64::to_bits).ok();
                    // Where the whole text is the number ("01" is the number 0, then a 1).
                    if s != "-Infinity" && a.i == s.len() {
                        assert_eq!(Some(v.to_bits()), std, "{s}");
                    }
                }
                (Err(_), None) => {}
                (v, w) => panic!("{s}: number {v:?}, number_ok {w:?}"),
            }
        }
    }

    /// Mantissas beyond 2^53 (Eisel-Lemire's path) against the standard library, on numbers built
    /// to land near rounding ties as well as on random ones.
    #[test]
    fn wide_mantissas_round_as_the_standard_library_does() {
        let mut rng = crate::harness::rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.next_u64();
        let mut checked = 0;
        for _ in 0..400_000 {
            let r = next();
            let digits = 16 + (r % 4) as usize; // 16..=19 digits
            let mut m: u64 = next() % 10u64.saturating_pow(digits as u32);
            if r & 0x30 == 0 {
                // An exact tie: an odd 54-bit integer (halfway between two doubles) times 2^j.
                m = ((next() >> 10) | (1 << 53) | 1) << ((r >> 8) % 10);
            }
            let e = ((next() % 39) as i64) - 19;
            for s in [format!("{m}e{e}"), format!("-{m}e{e}")] {
                assert_eq!(parse(&s).to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
                checked += 1;
            }
            // As Python prints them: digits with a point inside.
            let text = m.to_string();
            if text.len() > 1 {
                let k = 1 + (next() as usize % (text.len() - 1));
                let s = format!("{}.{}", &text[..k], &text[k..]);
                assert_eq!(parse(&s).to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
                for zeros in ["", "000", "000000000"] {
                    let s = format!("0.{zeros}{text}");
                    assert_eq!(parse(&s).to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
                }
            }
        }
        for s in [
            "3.3251373767852783",
            "0.600189745426178",
            "18446744073709551615",
            "9007199254740993",
            "0.9007199254740993",
        ] {
            assert_eq!(parse(s).to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
        }
        assert!(checked > 0);
    }
    /// Every exponent, not only those near 1: Eisel-Lemire's path (and the fallbacks around it)
    /// against the standard library and serde_json, on 1-19 digit mantissas (and 20-25 digits,
    /// which go to `fast-float2`) with exponents from -380 to 330: subnormals, the underflow to
    /// ±0 and the overflow to ±inf (serde_json refuses those, so only the standard library), the
    /// largest and smallest doubles and their neighbours, exact ties, and -0.
    #[test]
    fn every_exponent_rounds_as_the_standard_library_does() {
        let mut rng = crate::harness::rng::Rng::new(0xD1B5_4A32_D192_ED03);
        let mut next = move || rng.next_u64();
        let mut texts: Vec<String> = [
            "-0",
            "-0.0",
            "0e-400",
            "-0e400",
            "1e400",
            "-1e400",
            "1e-400",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "4.9406564584124654e-324",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "9007199254740993e-3",
            "0.00014984999999999998",
            "0.00029969999999999997",
            "18446744073709551615e-20",
            "9999999999999999999e-343",
            "1e-342",
            "1e308",
            "1e309",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..300_000 {
            let r = next();
            let digits = 1 + (r % 25) as u32;
            let mut m = (next() % 10u64.saturating_pow(digits.min(19))).to_string();
            if digits > 19 {
                m.push_str(&"7".repeat((digits - 19) as usize));
            }
            if r & 0x3000 == 0 {
                // Halfway between two doubles: an odd 54-bit integer times 2^j.
                m = (((next() >> 10) | (1 << 53) | 1) << ((r >> 14) % 11)).to_string();
            }
            let e = ((next() % 711) as i64) - 380;
            let k = (next() as usize) % m.len();
            let mut s = if k == 0 { m.clone() } else { format!("{}.{}", &m[..k], &m[k..]) };
            s = if r & 0x100 != 0 && e >= 0 { format!("{s}E+{e}") } else { format!("{s}e{e}") };
            if r & 0x200 != 0 {
                s.insert(0, '-');
            }
            texts.push(s);
        }
        for s in &texts {
            let v = parse(s);
            let std = s.parse::<f64>().unwrap();
            assert_eq!(v.to_bits(), std.to_bits(), "{s}");
            let line = format!("{s},");
            let mut c = Cursor { b: line.as_bytes(), i: 0 };
            assert_eq!(c.number_ok().map(f64::to_bits), Some(v.to_bits()), "{s}");
            assert_eq!(c.i, s.len(), "{s}");
            if std.is_finite() {
                // serde_json reads `-0` as the integer 0 (the module docs say why we do not).
                let j: f64 = serde_json::from_str(s).unwrap();
                if v != 0.0 {
                    assert_eq!(v.to_bits(), j.to_bits(), "{s}");
                }
            }
        }
    }
}
