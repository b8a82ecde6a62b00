//! Cutting bytes into records, the one framing every reader uses (the tailer, `tmon check`'s
//! batch reader, the monitor's history loader), so a file followed and the same file read at
//! once give the same lines with the same numbers.
//!
//! - [`Framer`]: JSON Lines. A line is at most [`MAX_LINE`] bytes: a longer one is not kept (its
//!   bytes are dropped up to its newline, so memory stays bounded). Runs of NUL bytes are never
//!   buffered: a crash can leave a file with a hole (a sparse stretch reads as zeros, gigabytes of
//!   them with no newline), and those bytes are counted, not kept. What followed the last run on
//!   its line is kept as the line (a run restarted after a crash appends its first record there).
//! - [`ArrayFramer`]: the elements of a top-level JSON array that is still being written
//!   (`[\n{...},\n{...},\n` with no closing bracket yet), one by one as they are appended, each as
//!   a line of its own (numbered by its place in the array, as a whole document's entries are).
//!
//! A line that was not kept as it is (too long, or holding NUL bytes) becomes a *note line*: a
//! NUL byte, the reason, a NUL, the start of the dropped bytes (to show), a NUL, and what was kept
//! of the line. The framer drops every NUL byte of the input, so a framed line that starts with a
//! NUL is always a note: the ingest counts it as a skipped line with its reason (and reads what
//! was kept), see [`note_parts`].

/// The longest line (or array element) any reader keeps: longer ones are skipped, with a count.
pub const MAX_LINE: usize = 256 << 20;

/// Bytes of a dropped line kept to show with its note.
const NOTE_TEXT: usize = 240;

/// Splits a note line into (reason, shown text, kept bytes); `None` for an ordinary line.
pub fn note_parts(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = line.strip_prefix(b"\0")?;
    let mut parts = rest.splitn(3, |&b| b == 0);
    let reason = parts.next()?;
    let text = parts.next().unwrap_or_default();
    let kept = parts.next().unwrap_or_default();
    Some((reason, text, kept))
}

/// What went wrong on the line being framed.
#[derive(Clone, Debug, Default)]
struct Trouble {
    /// NUL bytes seen on the line.
    nul: u64,
    /// Other bytes of the line dropped (before a run of NUL bytes, or past the cap).
    dropped: u64,
    /// The first of the dropped bytes, to show.
    text: Vec<u8>,
    /// The line passed the cap: drop everything up to its newline.
    long: bool,
}

impl Trouble {
    fn any(&self) -> bool {
        self.nul > 0 || self.long
    }

    fn drop_bytes(&mut self, bytes: &[u8]) {
        let room = NOTE_TEXT.saturating_sub(self.text.len());
        self.text.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.dropped += bytes.len() as u64;
    }

    fn reason(&self, max_line: usize) -> String {
        let mut r = String::new();
        if self.long {
            r = format!(
                "a line of {} bytes, longer than the limit of {}: not read",
                self.dropped + self.nul,
                size_text(max_line as u64)
            );
        }
        if self.nul > 0 {
            if !r.is_empty() {
                r.push_str("; ");
            }
            r.push_str(&format!(
                "{} NUL bytes skipped (a hole in the file, as a crash or a preallocating writer leaves)",
                self.nul
            ));
            if self.dropped > 0 && !self.long {
                r.push_str(&format!("; the {} bytes before them on the line were dropped", self.dropped));
            }
        }
        r
    }
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// How many NUL bytes `b` starts with. A hole is gigabytes of them: 64 bytes are looked at a time
/// (OR-ed together, which the compiler vectorises), then one at a time.
fn nul_run(b: &[u8]) -> usize {
    let mut n = 0;
    for c in b.chunks_exact(64) {
        if c.iter().fold(0u8, |a, &x| a | x) != 0 {
            break;
        }
        n += 64;
    }
    n + b[n..].iter().take_while(|&&x| x == 0).count()
}

/// Frames a stream of bytes into `\n`-terminated lines (see the module's doc). Feed it with
/// [`push`](Self::push); take the complete lines with [`take`](Self::take).
#[derive(Debug)]
pub struct Framer {
    max_line: usize,
    /// Complete lines, then the current line's kept bytes.
    buf: Vec<u8>,
    /// Where the current line starts in `buf`.
    line_start: usize,
    /// Complete lines in `buf`.
    lines: u64,
    trouble: Trouble,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(MAX_LINE)
    }
}

impl Framer {
    pub fn new(max_line: usize) -> Self {
        Framer {
            max_line: max_line.max(1),
            buf: Vec::new(),
            line_start: 0,
            lines: 0,
            trouble: Trouble::default(),
        }
    }

    /// Appends bytes of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        let current = self.buf.len() - self.line_start;
        let fast = !self.trouble.any()
            && chunk.len() <= self.max_line
            && memchr::memchr(0, chunk).is_none()
            && memchr::memchr(b'\n', chunk).is_none_or(|first| current + first <= self.max_line);
        if fast {
            // The usual case: whole lines and a partial one, none too long, no NUL byte.
            self.buf.extend_from_slice(chunk);
            if let Some(last) = memchr::memrchr(b'\n', chunk) {
                self.lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
                self.line_start = self.buf.len() - (chunk.len() - last - 1);
            }
            self.check_cap();
            return;
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            match memchr::memchr2(b'\n', 0, rest) {
                None => {
                    self.keep(rest);
                    break;
                }
                Some(i) => {
                    self.keep(&rest[..i]);
                    if rest[i] == b'\n' {
                        self.end_line();
                        rest = &rest[i + 1..];
                    } else {
                        let n = nul_run(&rest[i..]);
                        self.hole(n as u64);
                        rest = &rest[i + n..];
                    }
                }
            }
        }
    }

    /// Bytes of the current line (no newline yet).
    fn keep(&mut self, bytes: &[u8]) {
        if self.trouble.long {
            self.trouble.drop_bytes(bytes);
            return;
        }
        self.buf.extend_from_slice(bytes);
        self.check_cap();
    }

    fn check_cap(&mut self) {
        if self.buf.len() - self.line_start > self.max_line {
            let line = self.buf.split_off(self.line_start);
            self.trouble.drop_bytes(&line);
            self.trouble.long = true;
        }
    }

    /// A run of `n` NUL bytes on the current line: what came before it on the line is dropped.
    fn hole(&mut self, n: u64) {
        if !self.trouble.long {
            let before = self.buf.split_off(self.line_start);
            self.trouble.drop_bytes(&before);
        }
        self.trouble.nul += n;
    }

    fn end_line(&mut self) {
        if self.trouble.any() {
            let kept = self.buf.split_off(self.line_start);
            let t = std::mem::take(&mut self.trouble);
            self.buf.push(0);
            self.buf.extend_from_slice(t.reason(self.max_line).as_bytes());
            self.buf.push(0);
            self.buf.extend(t.text.iter().filter(|&&b| b != 0 && b != b'\n'));
            self.buf.push(0);
            self.buf.extend_from_slice(&kept);
        }
        self.buf.push(b'\n');
        self.lines += 1;
        self.line_start = self.buf.len();
    }

    /// Complete lines are waiting.
    pub fn has_lines(&self) -> bool {
        self.lines > 0
    }

    /// Takes the complete lines (each ending with `\n`) and how many there are; the current line
    /// stays.
    pub fn take(&mut self) -> (Vec<u8>, u64) {
        let rest = self.buf.split_off(self.line_start);
        let lines = std::mem::replace(&mut self.buf, rest);
        self.line_start = 0;
        (lines, std::mem::take(&mut self.lines))
    }

    /// A framer of `max_line` that frames into `buf`'s allocation (emptied first): a reader
    /// that frames many files one after the other reuses its memory instead of faulting in fresh
    /// pages for each (see [`Framer::into_buffer`]).
    pub fn with_buffer(max_line: usize, mut buf: Vec<u8>) -> Self {
        buf.clear();
        Framer { buf, ..Framer::new(max_line) }
    }

    /// The framer's buffer, for [`Framer::with_buffer`] (what it holds is dropped).
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// As [`take`](Self::take), reusing `spare`'s allocation for what stays (so a reader that
    /// hands the lines back as the next `spare` swaps two buffers instead of allocating).
    pub fn take_reusing(&mut self, mut spare: Vec<u8>) -> (Vec<u8>, u64) {
        spare.clear();
        spare.extend_from_slice(&self.buf[self.line_start..]);
        self.buf.truncate(self.line_start);
        let lines = std::mem::replace(&mut self.buf, spare);
        self.line_start = 0;
        (lines, std::mem::take(&mut self.lines))
    }

    /// The current line's bytes so far (empty when it holds only dropped bytes).
    pub fn partial(&self) -> &[u8] {
        &self.buf[self.line_start..]
    }

    /// True when the current line has bytes or dropped bytes.
    pub fn has_partial(&self) -> bool {
        self.buf.len() > self.line_start || self.trouble.any()
    }

    /// True when the current line had bytes dropped (it will be a note line).
    pub fn partial_troubled(&self) -> bool {
        self.trouble.any()
    }

    /// Ends the current line as if a newline followed (the last line of a file without one) and
    /// returns it, with no newline; `None` when there is none. Take the complete lines first.
    pub fn finish_line(&mut self) -> Option<Vec<u8>> {
        if !self.has_partial() {
            return None;
        }
        self.end_line();
        let (mut line, _) = self.take();
        line.pop();
        Some(line)
    }

    /// Forgets everything (the file starts over).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.line_start = 0;
        self.lines = 0;
        self.trouble = Trouble::default();
    }
}

/// Where an [`ArrayFramer`] is in the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// Before the opening `[`.
    Start,
    /// Between elements.
    Between,
    /// Inside an element.
    Element,
    /// After the closing `]`.
    Closed,
}

/// Frames the elements of a top-level JSON array as it is written (see the module's doc).
#[derive(Debug)]
pub struct ArrayFramer {
    max_line: usize,
    at: At,
    depth: u32,
    in_str: bool,
    escaped: bool,
    /// The element being read is a scalar (ends at `,`, `]` or white space).
    scalar: bool,
    elem: Vec<u8>,
    trouble: Trouble,
    /// Stream bytes taken so far, and up to the end of the last complete element.
    pos: u64,
    committed: u64,
    /// Framed elements not taken yet, each a line.
    out: Vec<u8>,
    /// Elements framed so far (taken or not), and the number of the first one not taken.
    count: u64,
    first_untaken: u64,
}

impl Default for ArrayFramer {
    fn default() -> Self {
        ArrayFramer::new(MAX_LINE)
    }
}

impl ArrayFramer {
    pub fn new(max_line: usize) -> Self {
        ArrayFramer {
            max_line: max_line.max(1),
            at: At::Start,
            depth: 0,
            in_str: false,
            escaped: false,
            scalar: false,
            elem: Vec::new(),
            trouble: Trouble::default(),
            pos: 0,
            committed: 0,
            out: Vec::new(),
            count: 0,
            first_untaken: 1,
        }
    }

    /// Appends bytes of the stream. Bytes after the closing `]` are ignored (see
    /// [`reopen`](Self::reopen)).
    pub fn push(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if self.at == At::Closed {
                return;
            }
            self.pos += 1;
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        match self.at {
            At::Start => {
                if b == b'[' {
                    self.at = At::Between;
                    self.committed = self.pos;
                }
                // A BOM or white space before the bracket; anything else is not an array's and
                // is passed over.
            }
            At::Between => match b {
                b' ' | b'\t' | b'\r' | b'\n' | b',' | 0 => {}
                b']' => self.at = At::Closed,
                _ => {
                    self.at = At::Element;
                    self.depth = 0;
                    self.in_str = false;
                    self.escaped = false;
                    self.scalar = !matches!(b, b'{' | b'[' | b'"');
                    self.elem_byte(b);
                }
            },
            At::Element => self.elem_byte(b),
            At::Closed => {}
        }
    }

    fn elem_byte(&mut self, b: u8) {
        if self.scalar {
            if matches!(b, b',' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                self.end_element();
                if b == b']' {
                    self.at = At::Closed;
                }
                return;
            }
            self.keep(b);
            return;
        }
        if b == 0 {
            // A hole inside an element: counted, never buffered.
            self.trouble.nul += 1;
            return;
        }
        self.keep(b);
        if self.in_str {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_str = false;
                if self.depth == 0 {
                    self.end_element();
                }
            }
            return;
        }
        match b {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.end_element();
                }
            }
            _ => {}
        }
    }

    fn keep(&mut self, b: u8) {
        if self.trouble.long {
            self.trouble.dropped += 1;
            return;
        }
        // An element is one line: its own line breaks (white space in JSON) become spaces.
        self.elem.push(if b == b'\n' || b == b'\r' { b' ' } else { b });
        if self.elem.len() > self.max_line {
            let e = std::mem::take(&mut self.elem);
            self.trouble.drop_bytes(&e);
            self.trouble.long = true;
        }
    }

    fn end_element(&mut self) {
        self.at = At::Between;
        if self.trouble.any() {
            let t = std::mem::take(&mut self.trouble);
            self.out.push(0);
            self.out.extend_from_slice(t.reason(self.max_line).as_bytes());
            self.out.push(0);
            self.out.extend(t.text.iter().filter(|&&b| b != 0 && b != b'\n'));
            self.out.push(0);
            if !t.long {
                self.out.extend_from_slice(&self.elem);
            }
        } else {
            self.out.extend_from_slice(&self.elem);
        }
        self.elem.clear();
        self.out.push(b'\n');
        self.count += 1;
        self.committed = self.pos;
    }

    /// Takes the elements framed so far, as lines, with the number of the first (1-based place in
    /// the array); `None` when there are none.
    pub fn take(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.out.is_empty() {
            return None;
        }
        let first = self.first_untaken;
        self.first_untaken = self.count + 1;
        Some((first, std::mem::take(&mut self.out)))
    }

    /// The closing `]` was read.
    pub fn closed(&self) -> bool {
        self.at == At::Closed
    }

    /// Stream bytes up to the end of the last complete element (or the opening bracket).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Goes back to the end of the last complete element, forgetting what was read after it: the
    /// writer may have replaced the closing bracket (`]` overwritten by `,{...}]`) or be rewriting
    /// the whole array with more elements. Read the stream again from [`committed`](Self::committed).
    pub fn reopen(&mut self) {
        if self.at != At::Start {
            self.at = At::Between;
        }
        self.elem.clear();
        self.trouble = Trouble::default();
        self.pos = self.committed;
    }

    /// Elements framed so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(input: &[u8], chunk: usize, max: usize) -> Vec<Vec<u8>> {
        let mut f = Framer::new(max);
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            f.push(c);
            let (lines, n) = f.take();
            assert_eq!(n as usize, lines.iter().filter(|&&b| b == b'\n').count());
            out.extend(lines.split(|&b| b == b'\n').map(<[u8]>::to_vec));
            out.pop();
        }
        if let Some(last) = f.finish_line() {
            out.push(last);
        }
        out
    }

    #[test]
    fn plain_lines_are_split_at_newlines_whatever_the_chunks() {
        let input = b"{\"a\": 1}\r\n\n{\"b\": 2}\nlast";
        for chunk in 1..input.len() + 1 {
            let got = frame(input, chunk, 1000);
            assert_eq!(got, vec![b"{\"a\": 1}\r".to_vec(), vec![], b"{\"b\": 2}".to_vec(), b"last".to_vec()]);
        }
    }

    #[test]
    fn a_hole_is_counted_not_kept_and_the_record_after_it_is_read() {
        let mut input = b"{\"step\": 1}\n{\"step\": 2, \"lo".to_vec();
        input.extend(std::iter::repeat_n(0u8, 10_000));
        input.extend_from_slice(b"{\"step\": 3}\n{\"step\": 4}\n");
        for chunk in [1, 7, 4096, 1 << 20] {
            let got = frame(&input, chunk, 64);
            assert_eq!(got.len(), 3, "{chunk}");
            assert_eq!(got[0], b"{\"step\": 1}");
            let (reason, text, kept) = note_parts(&got[1]).expect("a note");
            let reason = String::from_utf8_lossy(reason);
            assert!(reason.starts_with("10000 NUL bytes skipped"), "{reason}");
            assert!(reason.contains("the 15 bytes before"), "{reason}");
            assert_eq!(text, b"{\"step\": 2, \"lo");
            assert_eq!(kept, b"{\"step\": 3}");
            assert_eq!(got[2], b"{\"step\": 4}");
        }
    }

    #[test]
    fn a_line_past_the_cap_is_dropped_up_to_its_newline() {
        let mut input = b"{\"a\": 1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 300));
        input.extend_from_slice(b"\n{\"b\": 2}\n");
        for chunk in [1, 10, 1000] {
            let mut f = Framer::new(100);
            let mut peak = 0;
            let mut all = Vec::new();
            for c in input.chunks(chunk) {
                f.push(c);
                peak = peak.max(f.partial().len());
                all.extend(f.take().0);
            }
            assert!(peak <= 100, "{peak}");
            let lines: Vec<&[u8]> = all.split(|&b| b == b'\n').collect();
            assert_eq!(lines[0], b"{\"a\": 1}");
            let (reason, _, kept) = note_parts(lines[1]).expect("a note");
            assert_eq!(
                String::from_utf8_lossy(reason),
                "a line of 300 bytes, longer than the limit of 100 bytes: not read"
            );
            assert!(kept.is_empty());
            assert_eq!(lines[2], b"{\"b\": 2}");
        }
    }

    fn elements(input: &[u8], chunk: usize) -> (Vec<(u64, String)>, bool) {
        let mut a = ArrayFramer::new(1000);
        let mut got = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            a.push(c);
            if let Some((first, lines)) = a.take() {
                for (i, l) in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
                    got.push((first + i as u64, String::from_utf8_lossy(l).into_owned()));
                }
            }
        }
        (got, a.closed())
    }

    #[test]
    fn array_elements_come_out_as_they_are_completed() {
        let input = b"[\n{\"a\": 1},\n  {\"b\": [1, {\"c\": \"]}\"}],\n \"d\": 2},\n7, \"s\"";
        for chunk in 1..input.len() + 1 {
            let (got, closed) = elements(input, chunk);
            assert!(!closed);
            assert_eq!(
                got,
                vec![
                    (1, "{\"a\": 1}".to_owned()),
                    (2, "{\"b\": [1, {\"c\": \"]}\"}],  \"d\": 2}".to_owned()),
                    (3, "7".to_owned()),
                    (4, "\"s\"".to_owned()),
                ],
                "chunks of {chunk}"
            );
        }
        let (got, closed) = elements(b"[{\"a\": 1}, {\"a\": 2}]", 3);
        assert!(closed);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_closing_bracket_overwritten_is_read_again_from_the_last_element() {
        let mut a = ArrayFramer::new(1000);
        let first = b"[{\"a\": 1}]";
        a.push(first);
        assert!(a.closed());
        assert_eq!(a.take().map(|(n, _)| n), Some(1));
        assert_eq!(a.committed(), 9);
        // The writer seeks back over `]` and appends: the stream is read again from `committed`.
        let now = b"[{\"a\": 1},{\"a\": 2}]";
        a.reopen();
        a.push(&now[a.committed() as usize..]);
        let (n, line) = a.take().expect("the new element");
        assert_eq!((n, line), (2, b"{\"a\": 2}\n".to_vec()));
        assert!(a.closed());
    }
}
