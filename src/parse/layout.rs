//! The key-layout fast path: a line laid out byte for byte like a recent one, except for its
//! numbers and strings, only needs those values parsed.
//!
//! A training log repeats a few layouts (the train line, the eval line) millions of times. When
//! [`LineParser`] parses a line the full way, it remembers the line's layout: the literal bytes
//! between its values (braces, keys, colons, commas, whitespace, and the values that are neither
//! numbers nor strings: `true`, `null`, nested lists), and what each value was. A later line is first
//! matched against the layouts remembered: each literal stretch is compared as bytes and each
//! value is parsed with the scanner's own number and string routines (a list under a top-level
//! key, whose contents change from line to line as DETR's `test_coco_eval_bbox` does, is checked
//! and skipped by the scanner's own routine too, as the full parser skips it; a flat list of
//! numbers, a field per number, is read by the full parser's own list routine and must hold as
//! many numbers as when it was learnt, as the fields' names depend on the count). Any difference
//! (another key, other whitespace, a string where a number was) sends the line to the full
//! parser, which then learns its layout.
//!
//! Why the result is the full parser's, field for field: the literal stretches are the same
//! bytes, so the parser would be in the same place of the grammar (depth, open prefixes, the key
//! being read) at each value; a number, a string or a top-level list changes nothing of that state
//! and is read by the same routine (a list at depth 1, the only depth a borrowed key is found at);
//! and a value of any other kind is in a literal stretch, so it is the same value. Keys are borrowed from the new line at the same offsets (or, for nested and escaped keys and
//! list elements, borrowed from the names the layout kept, as the full parser built them).

use super::line::{numbers, parse_into};
use super::scan::{load8, Cursor};
use super::{Field, LineError, Scalar};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

/// Layouts remembered per parser: the train line, the eval line and a few more.
const LAYOUTS: usize = 4;
/// Lines longer than this are not learnt (a 6 kB config string is a value, but a 100 kB list of
/// numbers would be literal bytes to compare).
const LEARN_MAX: usize = 64 << 10;

/// Layout ids, unique in the process: a consumer that sees the same id twice in a row knows the
/// two lines have the same keys, in the same order, with values of the same kinds.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Num,
    Str,
    /// A list under a top-level key: validated and skipped, a [`Scalar::Composite`].
    List,
    /// A flat list of this many numbers (DETR's `test_coco_eval_bbox`): a field per number,
    /// named as the full parser names them.
    Nums(u32),
}

#[derive(Clone, Debug)]
enum Key {
    /// `len` bytes at `off` within the field's literal stretch: borrowed from the line.
    At { off: u32, len: u32 },
    /// A nested (`a/b`), escaped or list element's (`bbox[0]`) key, as the full parser built
    /// it, from the process's [`names`]: handed out borrowed, with no allocation a line.
    Named(&'static str),
    /// Such a key once [`names`] is full: copied at every line, as the full parser builds it.
    Owned(Box<str>),
}

impl Key {
    /// The key of a field the full parser named itself (not borrowed from the line).
    fn named(k: &str) -> Key {
        match names::get(k) {
            Some(k) => Key::Named(k),
            None => Key::Owned(k.into()),
        }
    }
}

/// The names of the fields whose keys are not in the line as they are (nested keys joined with
/// `/`, keys with escapes, the elements of a list of numbers: DETR's twelve
/// `test_coco_eval_bbox/AP...` a line), kept for the life of the process so that a layout can
/// hand them out as borrowed keys. A layout that copied its key at every line paid an allocation
/// and a free per field and line (2.4% of DETR's CPU). Bounded by [`names::BYTES`] in all: past
/// it, keys are copied as before, so a log whose nested keys never repeat costs no more memory
/// than it did.
mod names {
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// The most bytes of names kept. Real logs have a few hundred keys of a few dozen bytes.
    pub(super) const BYTES: usize = 4 << 20;

    #[derive(Default)]
    pub(super) struct Names {
        set: HashSet<&'static str>,
        pub(super) bytes: usize,
    }

    impl Names {
        /// `k` as a name kept for the life of the process, or None when `cap` bytes of names
        /// would be passed.
        pub(super) fn get(&mut self, k: &str, cap: usize) -> Option<&'static str> {
            if let Some(&kept) = self.set.get(k) {
                return Some(kept);
            }
            if self.bytes + k.len() > cap {
                return None;
            }
            self.bytes += k.len();
            // Leaked on purpose: a name is borrowed by fields of any lifetime, and the total is
            // bounded by the cap.
            let kept: &'static str = Box::leak(k.into());
            self.set.insert(kept);
            Some(kept)
        }
    }

    static NAMES: Mutex<Option<Names>> = Mutex::new(None);

    /// `k` as a name of the process's, or None when [`BYTES`] are kept already. Called when a
    /// layout is learnt, never per line.
    pub(super) fn get(k: &str) -> Option<&'static str> {
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        names.get_or_insert_with(Names::default).get(k, BYTES)
    }
}

#[derive(Clone, Debug)]
enum Value {
    /// The value of slot `n` (the n-th number, string or top-level list of the line).
    Slot(u32),
    /// A value inside a literal stretch.
    Const(Scalar<'static>),
    /// Number `i` of the list of numbers in slot `n`.
    Elem { n: u32, i: u32 },
}

#[derive(Clone, Debug)]
struct FieldPlan {
    key: Key,
    value: Value,
    /// The literal stretch the field's key lies in.
    seg: u32,
}

/// One field of a plain layout: its literal stretch (`lit` bytes at `at` in [`Layout::lit`]), its
/// key within it, and its value, a number, a string or a list.
#[derive(Clone, Copy, Debug)]
struct Step {
    at: u32,
    lit: u32,
    key: u32,
    key_len: u32,
    kind: Kind,
}

/// One remembered layout.
#[derive(Clone, Debug, Default)]
struct Layout {
    id: u64,
    /// When every field is a number, a string or a list under a plain top-level key (the usual
    /// training line), the fields as steps, read by a tighter loop; empty otherwise.
    steps: Vec<Step>,
    /// The literal stretches, one after the other: stretch k ends at `ends[k]`; slot k lies
    /// between stretches k and k + 1.
    lit: Vec<u8>,
    ends: Vec<u32>,
    slots: Vec<Kind>,
    fields: Vec<FieldPlan>,
}

/// A JSON Lines parser that remembers the layouts of the lines it parsed. Its results are
/// [`super::parse_line`]'s exactly; it is faster on lines laid out like recent ones.
#[derive(Debug, Default)]
pub struct LineParser {
    /// Most recently used first.
    layouts: Vec<Layout>,
    spans: Vec<(u32, u32)>,
    /// The numbers of a list slot being read.
    nums: Vec<f64>,
}

impl LineParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one line into `out`, as [`super::parse_line`] does. Returns the id of the line's
    /// layout (never 0), or 0 when the line was not learnt: two lines with the same non-zero id
    /// have the same keys in the same order, and values of the same kinds.
    pub fn parse<'a>(&mut self, line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<u64, LineError> {
        out.clear();
        self.parse_append(line, out)
    }

    /// As [`parse`](Self::parse), but the line's fields are appended to those `out` holds (which
    /// are left as they were when the line is not a record): a reader that gathers the fields of
    /// many lines in one vector parses straight into it, with no copy a line.
    pub fn parse_append<'a>(&mut self, line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<u64, LineError> {
        let base = out.len();
        for i in 0..self.layouts.len() {
            if self.layouts[i].read(line, out, &mut self.nums) {
                if i > 0 {
                    self.layouts[..=i].rotate_right(1);
                }
                return Ok(self.layouts[0].id);
            }
            out.truncate(base);
        }
        if base == 0 {
            return self.parse_full(line, out);
        }
        // The full parser counts a record's fields (`MAX_FIELDS`) from the start of `out`.
        let mut own = Vec::new();
        let r = self.parse_full(line, &mut own);
        out.append(&mut own);
        r
    }

    /// The full parser, into `out` (empty), and the line's layout learnt.
    fn parse_full<'a>(&mut self, line: &'a [u8], out: &mut Vec<Field<'a>>) -> Result<u64, LineError> {
        self.spans.clear();
        if let Err(e) = parse_into(line, out, &mut self.spans) {
            out.clear();
            return Err(e);
        }
        // A list of numbers gave a field per number, with no span of its own: not a layout.
        if line.len() > LEARN_MAX || self.spans.len() != out.len() {
            return Ok(0);
        }
        let mut layout =
            if self.layouts.len() == LAYOUTS { self.layouts.pop() } else { None }.unwrap_or_default();
        layout.learn(line, out, &self.spans);
        self.layouts.insert(0, layout);
        Ok(self.layouts[0].id)
    }
}

impl Layout {
    /// Remembers the layout of `line`, which the full parser read into `fields`, the value of
    /// field i lying at `spans[i]`.
    fn learn(&mut self, line: &[u8], fields: &[Field<'_>], spans: &[(u32, u32)]) {
        self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.lit.clear();
        self.ends.clear();
        self.slots.clear();
        self.fields.clear();
        let base = line.as_ptr() as usize;
        // Where the current literal stretch starts in the line.
        let mut from = 0usize;
        for (k, (f, &(start, end))) in fields.iter().zip(spans).enumerate() {
            // A number whose span is a list: an element of a list of numbers, all of whose
            // fields carry the list's span (the full parser builds their names).
            if matches!(f.value, Scalar::Num(_)) && line.get(start as usize) == Some(&b'[') {
                let key = Key::named(&f.key);
                if k > 0 && spans[k - 1] == (start, end) {
                    let n = self.slots.len() as u32 - 1;
                    let Some(FieldPlan { value: Value::Elem { i, .. }, .. }) = self.fields.last() else {
                        unreachable!("the list's first number was planned just before")
                    };
                    let i = i + 1;
                    self.fields.push(FieldPlan { key, value: Value::Elem { n, i }, seg: n });
                } else {
                    let count = spans[k..].iter().take_while(|&&s| s == (start, end)).count();
                    let n = self.slots.len() as u32;
                    self.lit.extend_from_slice(&line[from..start as usize]);
                    self.ends.push(self.lit.len() as u32);
                    self.slots.push(Kind::Nums(count as u32));
                    self.fields.push(FieldPlan { key, value: Value::Elem { n, i: 0 }, seg: n });
                    from = end as usize;
                }
                continue;
            }
            let (start, end) = (start as usize, end as usize);
            let seg = self.slots.len() as u32;
            let key = match &f.key {
                Cow::Borrowed(k)
                    if (k.as_ptr() as usize) >= base + from
                        && (k.as_ptr() as usize) + k.len() <= base + start =>
                {
                    Key::At { off: (k.as_ptr() as usize - base - from) as u32, len: k.len() as u32 }
                }
                k => Key::named(k),
            };
            let value = match &f.value {
                Scalar::Num(_) => Some(Kind::Num),
                Scalar::Str(_) => Some(Kind::Str),
                // Only under a borrowed key, which is a top-level one: the list is then skipped
                // at depth 1, as the full parser skips it.
                Scalar::Composite if line.get(start) == Some(&b'[') && matches!(key, Key::At { .. }) => {
                    Some(Kind::List)
                }
                _ => None,
            };
            match value {
                Some(kind) => {
                    self.lit.extend_from_slice(&line[from..start]);
                    self.ends.push(self.lit.len() as u32);
                    self.fields.push(FieldPlan { key, value: Value::Slot(seg), seg });
                    self.slots.push(kind);
                    from = end;
                }
                None => {
                    let value = match f.value {
                        Scalar::Bool(b) => Scalar::Bool(b),
                        Scalar::Null => Scalar::Null,
                        _ => Scalar::Composite,
                    };
                    self.fields.push(FieldPlan { key, value: Value::Const(value), seg });
                }
            }
        }
        self.lit.extend_from_slice(&line[from..]);
        self.ends.push(self.lit.len() as u32);
        self.steps.clear();
        let plain =
            self.fields.iter().all(|f| matches!((&f.key, &f.value), (Key::At { .. }, Value::Slot(_))));
        if plain && !self.fields.is_empty() {
            for f in &self.fields {
                let (Key::At { off, len }, Value::Slot(n)) = (&f.key, &f.value) else { unreachable!() };
                let seg = *n as usize;
                let at = if seg == 0 { 0 } else { self.ends[seg - 1] };
                self.steps.push(Step {
                    at,
                    lit: self.ends[seg] - at,
                    key: *off,
                    key_len: *len,
                    kind: self.slots[seg],
                });
            }
        }
    }

    /// [`read`](Self::read) for a plain layout.
    #[inline]
    fn read_steps<'a>(&self, line: &'a [u8], out: &mut Vec<Field<'a>>, nums: &mut Vec<f64>) -> bool {
        let mut c = Cursor { b: line, i: 0 };
        out.reserve(self.steps.len());
        for st in &self.steps {
            let want = &self.lit[st.at as usize..(st.at + st.lit) as usize];
            let Some(have) = line.get(c.i..c.i + want.len()) else { return false };
            if !same(have, want) {
                return false;
            }
            let Some(k) = have.get(st.key as usize..(st.key + st.key_len) as usize) else { return false };
            // SAFETY: as in `read`: the same bytes were a key the full parser borrowed as UTF-8.
            let key = unsafe { std::str::from_utf8_unchecked(k) };
            c.i += want.len();
            if st.kind == Kind::Num {
                let Some(x) = num(&mut c) else { return false };
                push_num(out, key, x);
                continue;
            }
            let key = Cow::Borrowed(key);
            let Some(value) = slot(st.kind, &mut c, nums) else { return false };
            out.push(Field { key, value });
        }
        // The closing stretch.
        let last = self.ends.len() - 1;
        self.literal(last, &mut c) && c.at_end()
    }

    /// Reads `line` if it has this layout, into `out` (which is empty); false if it has not, with
    /// `out` in any state.
    fn read<'a>(&self, line: &'a [u8], out: &mut Vec<Field<'a>>, nums: &mut Vec<f64>) -> bool {
        if !self.steps.is_empty() {
            return self.read_steps(line, out, nums);
        }
        let mut c = Cursor { b: line, i: 0 };
        // Literal stretches compared so far, and where the last one starts in the line.
        let mut done = 0usize;
        let mut seg_at = 0usize;
        out.reserve(self.fields.len());
        for f in &self.fields {
            let seg = f.seg as usize;
            if seg == done {
                if !self.literal(seg, &mut c) {
                    return false;
                }
                seg_at = c.i - self.len(seg);
                done += 1;
            }
            // An element of a list of numbers, under its kept name.
            if let (Key::Named(k), Value::Elem { n, i }) = (&f.key, &f.value) {
                let Some(x) = self.elem(*n, *i, &mut c, nums) else { return false };
                push_num(out, k, x);
                continue;
            }
            // A number under a borrowed key, the usual field, pushed from registers.
            if let (Key::At { off, len }, Value::Slot(n)) = (&f.key, &f.value) {
                if self.slots[*n as usize] == Kind::Num {
                    let k = &line[seg_at + *off as usize..seg_at + (*off + *len) as usize];
                    // SAFETY: as below.
                    let key = unsafe { std::str::from_utf8_unchecked(k) };
                    let Some(x) = num(&mut c) else { return false };
                    push_num(out, key, x);
                    continue;
                }
            }
            let key = match &f.key {
                Key::At { off, len, .. } => {
                    let k = &line[seg_at + *off as usize..seg_at + (*off + *len) as usize];
                    // SAFETY: these bytes equal, byte for byte, the literal stretch the layout
                    // was learnt from, where the full parser found this key as valid UTF-8 (it
                    // was borrowed, so neither escaped nor repaired).
                    Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(k) })
                }
                Key::Named(k) => Cow::Borrowed(*k),
                Key::Owned(k) => Cow::Owned(String::from(&**k)),
            };
            let value = match &f.value {
                Value::Const(v) => v.clone(),
                Value::Slot(n) => match slot(self.slots[*n as usize], &mut c, nums) {
                    Some(v) => v,
                    None => return false,
                },
                Value::Elem { n, i } => match self.elem(*n, *i, &mut c, nums) {
                    Some(x) => Scalar::Num(x),
                    None => return false,
                },
            };
            out.push(Field { key, value });
        }
        while done < self.ends.len() {
            if !self.literal(done, &mut c) {
                return false;
            }
            done += 1;
        }
        c.at_end()
    }

    /// Number `i` of the list of numbers in slot `n`. The whole list is read at its first number
    /// (`nums` keeps it); the count is part of the layout, as the fields' names depend on it.
    #[inline]
    fn elem(&self, n: u32, i: u32, c: &mut Cursor<'_>, nums: &mut Vec<f64>) -> Option<f64> {
        if i == 0 {
            let Kind::Nums(count) = self.slots[n as usize] else { return None };
            if c.peek() != Some(b'[') || !numbers(c, nums) || nums.len() != count as usize {
                return None;
            }
        }
        nums.get(i as usize).copied()
    }

    fn len(&self, seg: usize) -> usize {
        let start = if seg == 0 { 0 } else { self.ends[seg - 1] as usize };
        self.ends[seg] as usize - start
    }

    /// Compares literal stretch `seg` with the line at the cursor and moves past it.
    #[inline]
    fn literal(&self, seg: usize, c: &mut Cursor<'_>) -> bool {
        let start = if seg == 0 { 0 } else { self.ends[seg - 1] as usize };
        let want = &self.lit[start..self.ends[seg] as usize];
        let Some(have) = c.b.get(c.i..c.i + want.len()) else { return false };
        if !same(have, want) {
            return false;
        }
        c.i += want.len();
        true
    }
}

/// Pushes a number's field. Not inlined on purpose: built in the loop, the field went through a
/// temporary on the stack that was written a word at a time and read back 16 bytes at a time, a
/// store-forwarding stall at every number; here its parts come in registers and are stored once.
#[inline(never)]
fn push_num<'a>(out: &mut Vec<Field<'a>>, key: &'a str, x: f64) {
    if out.len() == out.capacity() {
        out.reserve(1);
    }
    let spare = out.spare_capacity_mut();
    spare[0].write(Field { key: Cow::Borrowed(key), value: Scalar::Num(x) });
    // SAFETY: the element at the old length was just written.
    unsafe { out.set_len(out.len() + 1) };
}

/// The value of a slot of kind `kind` at the cursor, read as the full parser reads it, or None
/// when it is not of that kind (or not valid).
#[inline(always)]
fn slot<'a>(kind: Kind, c: &mut Cursor<'a>, nums: &mut Vec<f64>) -> Option<Scalar<'a>> {
    match kind {
        Kind::Num => num(c).map(Scalar::Num),
        Kind::Str => {
            if c.peek() != Some(b'"') {
                return None;
            }
            c.i += 1;
            c.string().ok().map(Scalar::Str)
        }
        Kind::List => {
            if c.peek() != Some(b'[') {
                return None;
            }
            // A list the full parser would read as numbers (`name[i]`) is no skipped list.
            let mut probe = Cursor { b: c.b, i: c.i };
            if numbers(&mut probe, nums) {
                return None;
            }
            c.skip_value(1).ok().map(|()| Scalar::Composite)
        }
        // Planned as `Value::Elem`, never as a slot of its own.
        Kind::Nums(_) => None,
    }
}

/// A number at the cursor as the full parser reads one (`NaN`, `Infinity` and `-Infinity`
/// included), or None.
#[inline(always)]
fn num(c: &mut Cursor<'_>) -> Option<f64> {
    match c.peek() {
        Some(b'-' | b'0'..=b'9') => c.number_ok(),
        Some(b'N') if c.b[c.i..].starts_with(b"NaN") => {
            c.i += 3;
            Some(f64::NAN)
        }
        Some(b'I') if c.b[c.i..].starts_with(b"Infinity") => {
            c.i += 8;
            Some(f64::INFINITY)
        }
        _ => None,
    }
}

/// `a == b` for slices of one length, eight bytes at a time: the stretches are short (`, "lr": `),
/// where a call to `memcmp` costs more than the comparison.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 8 {
        return a == b;
    }
    let mut i = 0;
    while i + 8 <= n {
        if load8(&a[i..]) != load8(&b[i..]) {
            return false;
        }
        i += 8;
    }
    // The last eight bytes, overlapping what was compared.
    i == n || load8(&a[n - 8..]) == load8(&b[n - 8..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    fn check(p: &mut LineParser, line: &str) -> Result<u64, LineError> {
        let (mut fast, mut full) = (Vec::new(), Vec::new());
        let got = p.parse(line.as_bytes(), &mut fast);
        let want = parse_line(line.as_bytes(), &mut full);
        assert_eq!(got.as_ref().err(), want.as_ref().err(), "{line}");
        assert_eq!(bits(&fast), bits(&full), "{line}");
        got
    }

    /// Each field's key and value, numbers by their bits.
    fn bits(fs: &[Field<'_>]) -> Vec<(String, String)> {
        fs.iter()
            .map(|f| {
                let v = match &f.value {
                    Scalar::Num(x) => format!("{:x}", x.to_bits()),
                    other => format!("{other:?}"),
                };
                (f.key.to_string(), v)
            })
            .collect()
    }

    #[test]
    fn a_repeated_layout_is_read_fast_and_as_the_full_parser_reads_it() {
        let mut p = LineParser::new();
        let a = check(
            &mut p,
            r#"{"step": 1, "loss": 2.5, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
        );
        let b = check(
            &mut p,
            r#"{"step": 2, "loss": NaN, "tag": "tr\"ain", "ok": true, "x": [1, "a"], "o": {"a\n": -Infinity}}"#,
        );
        assert_eq!(a, b);
        assert_ne!(a, Ok(0));
        // The eval line: another layout, remembered beside the first.
        let e = check(&mut p, r#"{"step": 2, "eval_loss": 3.25}"#);
        assert_ne!(e, a);
        assert_eq!(
            check(
                &mut p,
                r#"{"step": 3, "loss": 1e-3, "tag": "", "ok": true, "x": [1, "a"], "o": {"a\n": 0}}"#
            ),
            a
        );
        assert_eq!(check(&mut p, r#"{"step": 4, "eval_loss": -0}"#), e);
        // Each differs from the layout somewhere: read by the full parser, with its verdict.
        for line in [
            r#"{"step": 5, "loss": 2.5, "tag": "train", "ok": false, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": "5", "loss": 2.5, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5, "loss": 2.5, "tag": 7, "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5,  "loss": 2.5, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5, "loss": 2.5, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}} x"#,
            r#"{"step": 5, "loss": 2.5, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}"#,
            r#"{"step": 5, "loss": NaNa, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5, "loss": 2.5.1, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5, "loss": 2.5, "tag": "tr\xain", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            r#"{"step": 5, "loss": 01, "tag": "train", "ok": true, "x": [1, "a"], "o": {"a\n": 1}}"#,
            "\u{feff}{\"step\": 5, \"eval_loss\": 3.25}",
            r#"{"step": 6, "eval_loss": 3.25, "eval_loss": 1}"#,
        ] {
            let _ = check(&mut p, line);
        }
        // Six layouts were learnt meanwhile; only the four most recent are kept.
        let again = check(&mut p, r#"{"step": 7, "eval_loss": 1.5}"#);
        assert!(again.as_ref().is_ok_and(|id| Ok(*id) != e));
        assert_eq!(check(&mut p, r#"{"step": 8, "eval_loss": 1.25}"#), again);
    }

    #[test]
    fn a_top_level_list_is_a_value_of_the_layout() {
        // DETR's epoch line: a list of numbers is a field per number (`bbox[0]`, ...), and one
        // slot of that many numbers in the layout.
        let mut p = LineParser::new();
        let l = check(&mut p, r#"{"loss": 1.5, "bbox": [0.25, 0.5, -1], "epoch": 0}"#);
        assert_ne!(l, Ok(0));
        for line in [
            r#"{"loss": 2.5, "bbox": [0.125,NaN , -Infinity], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [ 1e300, 3.3251373767852783, 0 ], "epoch": 1}"#,
        ] {
            assert_eq!(check(&mut p, line), l, "{line}");
        }
        // Another count names its fields otherwise: another layout. So does a list that is not
        // all numbers, or not valid.
        for line in [
            r#"{"loss": 2.5, "bbox": [1, 2], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [1, 2, 3, 4], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [1, 2, "3"], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [1, 2, 3, ], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [1, 2, 03], "epoch": 1}"#,
            r#"{"loss": 2.5, "bbox": [1, 2, 3], "epoch": 1"#,
        ] {
            assert_ne!(check(&mut p, line), l, "{line}");
        }
        // COCO's twelve figures are named from the key; a nested list of numbers and two lists
        // in one line.
        let coco = format!(r#"{{"test_coco_eval_bbox": [{}], "epoch": 3}}"#, ["0.5"; 12].join(", "));
        let c = check(&mut p, &coco);
        assert_ne!(c, Ok(0));
        assert_eq!(check(&mut p, &coco.replace("0.5", "0.25")), c);
        let two = check(&mut p, r#"{"o": {"x": [1, 2]}, "y": [3], "z": [4, 5], "loss": 1.0}"#);
        assert_ne!(two, Ok(0));
        assert_eq!(check(&mut p, r#"{"o": {"x": [-1, 2.5]}, "y": [3e3], "z": [4, NaN], "loss": 7}"#), two);
        assert_ne!(check(&mut p, r#"{"o": {"x": [-1, 2.5]}, "y": [3, 4], "z": [5], "loss": 7}"#), two);
        // A list of anything else is a value of the layout, whatever its contents.
        let a = check(&mut p, r#"{"loss": 1.5, "bbox": [0.25, "x"], "epoch": 0}"#);
        assert_ne!(a, Ok(0));
        // Other contents, other lengths, nested lists and objects, whitespace inside.
        for line in [
            r#"{"loss": 1.25, "bbox": [0.375, 0.5000000000000001, "7"], "epoch": 1}"#,
            r#"{"loss": 1.0, "bbox": [], "epoch": 2}"#,
            r#"{"loss": 1.0, "bbox": [ [1, 2], {"a": [true, null]}, "x\"y" ], "epoch": 3}"#,
        ] {
            assert_eq!(check(&mut p, line), a, "{line}");
        }
        // Not a valid list, not a list, or a list of numbers: the full parser's verdict.
        for line in [
            r#"{"loss": 1.0, "bbox": [1, 2], "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": [1, 2, "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": [1,, 2], "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": [01], "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": 5, "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": {}, "epoch": 4}"#,
            r#"{"loss": 1.0, "bbox": "[1]", "epoch": 4}"#,
        ] {
            let got = check(&mut p, line);
            assert_ne!(got, a, "{line}");
        }
        let deep = format!(r#"{{"loss": 1.0, "bbox": {}{}, "epoch": 4}}"#, "[".repeat(200), "]".repeat(200));
        assert!(check(&mut p, &deep).is_err());
        // A list inside a nested object stays a literal stretch: other contents, another layout.
        let n = check(&mut p, r#"{"o": {"x": ["a", 2]}, "loss": 1.0}"#);
        assert_ne!(n, Ok(0));
        assert_eq!(check(&mut p, r#"{"o": {"x": ["a", 2]}, "loss": 2.0}"#), n);
        assert_ne!(check(&mut p, r#"{"o": {"x": ["a", 3]}, "loss": 2.0}"#), n);
    }

    /// A line from a few layouts, with nested objects, escaped keys, lists of numbers (COCO's
    /// twelve, `name[i]` lists of other counts), strings, and now and then a broken line.
    fn random_line(r: &mut crate::harness::rng::Rng) -> String {
        let num = |r: &mut crate::harness::rng::Rng| match r.below(6) {
            0 => "NaN".to_string(),
            1 => "-Infinity".to_string(),
            2 => format!("{}", r.below(1000)),
            _ => format!("{:?}", r.normal() * 10f64.powi(r.below(9) as i32 - 4)),
        };
        let list = |r: &mut crate::harness::rng::Rng, n: usize| {
            (0..n).map(|_| num(r)).collect::<Vec<_>>().join(if r.below(2) == 0 { ", " } else { "," })
        };
        let layout = r.below(6);
        let line = match layout {
            0 => format!(r#"{{"step": {}, "loss": {}, "lr": {}}}"#, r.below(1 << 20), num(r), num(r)),
            1 => format!(
                r#"{{"epoch": {}, "test_coco_eval_bbox": [{}], "train_loss": {}}}"#,
                r.below(100),
                list(r, 12),
                num(r)
            ),
            2 => {
                let n = 1 + r.below(3);
                format!(
                    r#"{{"o": {{"a": {}, "b\n": {{"c": {}}}}}, "x": [{}], "tag": "t{}", "y": {}}}"#,
                    num(r),
                    num(r),
                    list(r, n),
                    r.below(3),
                    num(r)
                )
            }
            3 => format!(r#"{{"k\u00e9y": {}, "keypoints_coco": [{}]}}"#, num(r), list(r, 10)),
            4 => format!(r#"{{"step": {}, "eval/loss": {}, "ok": true}}"#, r.below(100), num(r)),
            _ => format!(r#"{{"step": {}, "loss": {}"#, r.below(100), num(r)),
        };
        line
    }

    #[test]
    fn kept_names_are_the_full_parsers_keys() {
        // Nested, escaped and list elements' keys are handed out from the kept names, equal to
        // the full parser's, field for field and bit for bit, line after line.
        for seed in 0..40 {
            let mut r = crate::harness::rng::Rng::new(seed);
            let mut p = LineParser::new();
            for _ in 0..300 {
                let _ = check(&mut p, &random_line(&mut r));
            }
        }
        let mut p = LineParser::new();
        let mut out = Vec::new();
        let line =
            format!(r#"{{"o": {{"a": 1}}, "test_coco_eval_bbox": [{}], "x\"y": 2}}"#, ["0.5"; 12].join(", "));
        p.parse(line.as_bytes(), &mut out).unwrap();
        p.parse(line.as_bytes(), &mut out).unwrap();
        let names: Vec<&str> = out.iter().map(|f| f.key.as_ref()).collect();
        assert_eq!(names[..3], ["o/a", "test_coco_eval_bbox/AP", "test_coco_eval_bbox/AP50"]);
        assert_eq!(names[13], "x\"y");
        // None of them is in the line as it is: borrowed, not copied at each line, and the same
        // name for every parser.
        assert!(out.iter().all(|f| matches!(f.key, Cow::Borrowed(_))));
        let mut q = LineParser::new();
        let mut again = Vec::new();
        q.parse(line.as_bytes(), &mut again).unwrap();
        q.parse(line.as_bytes(), &mut again).unwrap();
        for (a, b) in out.iter().zip(&again) {
            assert_eq!(a.key.as_ptr(), b.key.as_ptr(), "{}", a.key);
        }
    }

    #[test]
    fn names_are_kept_up_to_their_bound() {
        let mut n = names::Names::default();
        let abc = n.get("abc", 10).unwrap();
        assert_eq!(n.get("abc", 10).map(str::as_ptr), Some(abc.as_ptr()));
        assert_eq!(n.bytes, 3);
        assert_eq!(n.get("defghij", 10), Some("defghij"));
        assert_eq!(n.get("x", 10), None);
        assert_eq!(n.bytes, 10);
        // Names kept stay kept; an empty name costs nothing.
        assert_eq!(n.get("abc", 10), Some("abc"));
        assert_eq!(n.get("", 10), Some(""));
        // The process's names: a key is kept once, borrowed by every layout after.
        let (Key::Named(a), Key::Named(b)) = (Key::named("o/a"), Key::named("o/a")) else {
            panic!("the process's names are far from their bound")
        };
        assert_eq!(a.as_ptr(), b.as_ptr());
    }

    #[test]
    fn fields_appended_are_those_of_each_line() {
        for seed in 0..40 {
            let mut r = crate::harness::rng::Rng::new(seed);
            let lines: Vec<String> = (0..300).map(|_| random_line(&mut r)).collect();
            let (mut p, mut q) = (LineParser::new(), LineParser::new());
            let mut all = Vec::new();
            let mut one = Vec::new();
            // Something before the first line: appended after it, never cleared.
            all.push(Field { key: Cow::Borrowed("before"), value: Scalar::Null });
            for line in &lines {
                let at = all.len();
                let got = p.parse_append(line.as_bytes(), &mut all);
                let want = q.parse(line.as_bytes(), &mut one);
                assert_eq!(got.as_ref().err(), want.as_ref().err(), "{line}");
                assert_eq!(bits(&all[at..]), bits(&one), "{line}");
                // A line that is not a record leaves the fields before it as they were.
                if want.is_err() {
                    assert_eq!(all.len(), at);
                }
            }
            assert_eq!(all[0].key, "before");
        }
    }

    #[test]
    fn keys_are_borrowed_from_the_new_line() {
        let mut p = LineParser::new();
        let mut out = Vec::new();
        let first = b"{\"loss\": 1.0, \"caf\xc3\xa9\": 2}".to_vec();
        p.parse(&first, &mut out).unwrap();
        let second = b"{\"loss\": 3.0, \"caf\xc3\xa9\": 4}".to_vec();
        p.parse(&second, &mut out).unwrap();
        for f in &out {
            let at = f.key.as_ptr() as usize;
            assert!(matches!(f.key, Cow::Borrowed(_)));
            assert!(at >= second.as_ptr() as usize && at < second.as_ptr() as usize + second.len());
        }
        assert_eq!(out[1].key, "café");
        assert_eq!(out[1].value, Scalar::Num(4.0));
    }
}
