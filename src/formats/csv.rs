//! CSV logs with a header row: Lightning's `CSVLogger` (`metrics.csv`: train and val rows apart,
//! blank cells where a row has no value), Keras' `CSVLogger` (an `epoch` column), Ultralytics'
//! `results.csv` (headers and cells padded with spaces), and any CSV whose columns hold numbers.
//!
//! Each row is read as a JSON Lines record with the header's names as keys (a blank cell is a key
//! the row does not have), so the step column is detected as for JSON Lines (`step`, then
//! `epoch`, ...), sparse val rows are placed as eval records are, and `--step-key` applies.
//! Numbers include `nan`, `inf` and `-inf` as Python writes them; other cells stay strings (an
//! ISO date column becomes the clock). A row that repeats the header (a writer that started over
//! into the same file) starts the columns again; a row longer than the header, or one whose quote
//! never closes (it swallows the lines after it), is skipped and counted.

use crate::ingest::Format;
use crate::parse::{Field, Scalar};
use crate::run::Run;
use std::borrow::Cow;

/// Whether a file is CSV: named `*.csv` (and not JSON inside), or, by content alone, a first
/// line of two or more names (not numbers, no spaces: not prose) followed by a line of as many
/// cells, one a number.
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    let head = crate::ingest::format::strip_bom(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        return false;
    }
    if name.to_ascii_lowercase().ends_with(".csv") {
        return true;
    }
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let (Some(h), Some(row)) = (lines.next(), lines.next()) else { return false };
    let (Ok(h), Ok(row)) = (std::str::from_utf8(h), std::str::from_utf8(row)) else { return false };
    let names: Vec<&str> = h.split(',').map(str::trim).collect();
    let cells: Vec<&str> = row.split(',').map(str::trim).collect();
    names.len() >= 2
        && cells.len() == names.len()
        && names.iter().all(|n| !n.is_empty() && number(n).is_none() && !n.contains(['{', '"', ':', ' ']))
        && cells.iter().any(|c| number(c).is_some())
}

/// A cell's number: decimal, exponent, or Python's `nan`/`inf`/`-inf` (any case).
pub fn number(cell: &str) -> Option<f64> {
    let c = cell.trim();
    if c.is_empty() {
        return None;
    }
    c.parse::<f64>().ok()
}

/// Reads CSV incrementally, as the bytes come: a row is taken once its line ends (or, at the end
/// of a file read whole, [`finish`](Self::finish)). Records and line numbers are those of the
/// `csv` crate's reader with `flexible` rows and `Trim::All` (the engine underneath is its own).
#[derive(Debug)]
pub struct CsvReader {
    core: csv_core::Reader,
    header: Vec<String>,
    /// The fields of the row being read, and where each ends.
    out: Vec<u8>,
    ends: Vec<usize>,
    outlen: usize,
    endlen: usize,
    /// The line the row being read starts on, once it has started.
    start: Option<u64>,
    done: bool,
    /// When following: a fingerprint of each row fed (see [`restarted`](Self::restarted)).
    rows: Option<Vec<u64>>,
    /// After a rewrite, the rows read again so far that match those fed before.
    replay: Option<usize>,
}

impl CsvReader {
    /// A reader of one file into `run` (its format is set here).
    pub fn new(run: &mut Run) -> Self {
        run.ingest.set_format(Format::Csv);
        CsvReader {
            core: csv_core::Reader::new(),
            header: Vec::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            outlen: 0,
            endlen: 0,
            start: None,
            done: false,
            rows: None,
            replay: None,
        }
    }

    /// A reader for a file that is followed: a rewrite that only adds a column (as Lightning's
    /// `CSVLogger` does) is told from a new run written over the file.
    pub fn following(run: &mut Run) -> Self {
        CsvReader { rows: Some(Vec::new()), ..Self::new(run) }
    }

    /// The line reached.
    pub fn line(&self) -> u64 {
        self.core.line()
    }

    /// Reads the rows completed by `input`.
    pub fn feed(&mut self, run: &mut Run, mut input: &[u8]) {
        while !input.is_empty() && !self.done {
            let nin = self.step(run, input);
            input = &input[nin..];
        }
    }

    /// The end of the file: the last row is taken even without its newline.
    pub fn finish(&mut self, run: &mut Run) {
        while !self.done {
            self.step(run, &[]);
        }
    }

    /// One call of the engine (an empty `input` is the end of the file); returns the bytes used.
    fn step(&mut self, run: &mut Run, input: &[u8]) -> usize {
        use csv_core::ReadRecordResult as R;
        if self.start.is_none() {
            self.start = Some(self.core.line());
        }
        let (res, nin, nout, nend) =
            self.core.read_record(input, &mut self.out[self.outlen..], &mut self.ends[self.endlen..]);
        self.outlen += nout;
        self.endlen += nend;
        match res {
            R::InputEmpty => {}
            R::OutputFull => self.out.resize(self.out.len() * 2, 0),
            R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
            R::Record => {
                let line = self.start.take().unwrap_or(0);
                let (out, ends) = (std::mem::take(&mut self.out), std::mem::take(&mut self.ends));
                self.row(run, line, &out, &ends[..self.endlen]);
                (self.out, self.ends) = (out, ends);
                (self.outlen, self.endlen) = (0, 0);
            }
            R::End => self.done = true,
        }
        nin
    }

    /// The file started over (truncated or rewritten): it is read again from its first byte.
    /// Returns false: a rewrite is told from a new run by the rows themselves (the rows read
    /// again that match those read before are not taken twice; the first that differs is a
    /// restart).
    pub fn restarted(&mut self) -> bool {
        self.core.reset();
        (self.outlen, self.endlen, self.start, self.done) = (0, 0, None, false);
        self.header.clear();
        if self.rows.is_some() {
            self.replay = Some(0);
        }
        false
    }

    fn row(&mut self, run: &mut Run, line: u64, out: &[u8], ends: &[usize]) {
        let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(ends.len());
        let mut at = 0;
        for &end in ends {
            cells.push(String::from_utf8_lossy(out[at..end].trim_ascii()));
            at = end;
        }
        self.cells(run, line, &cells, None);
    }

    /// Takes one row of cells (trimmed), with their numbers when they were read already.
    fn cells<S: AsRef<str>>(&mut self, run: &mut Run, line: u64, cells: &[S], nums: Option<&[Option<f64>]>) {
        let header = &self.header;
        if header.is_empty() || is_header_again(header, cells, nums) {
            if header.is_empty() && cells.iter().all(|c| c.as_ref().is_empty()) {
                return;
            }
            self.header =
                cells.iter().map(|c| c.as_ref().trim_start_matches('\u{feff}').to_owned()).collect();
            return;
        }
        let joined = || cells.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join(",");
        if cells.len() > header.len() {
            let reason = format!("{} cells, but the header has {} names", cells.len(), header.len());
            run.store.skipped.push(line, reason, joined().as_bytes());
            return;
        }
        if cells.iter().all(|c| c.as_ref().is_empty()) {
            return;
        }
        let spans = cells.iter().map(|c| c.as_ref().matches('\n').count()).sum::<usize>();
        if spans > 0 {
            // Loggers quote no multi-line cell: an unclosed quote swallowed the lines after it.
            let reason = format!("a quoted cell runs over {} more lines (an unclosed quote?)", spans);
            run.store.skipped.push(line, reason, joined().as_bytes());
            return;
        }
        if let Some(rows) = self.rows.as_mut() {
            let fp = fingerprint(header, cells);
            if let Some(i) = self.replay {
                if rows.get(i) == Some(&fp) {
                    self.replay = Some(i + 1);
                    return;
                }
                self.replay = None;
                if i < rows.len() {
                    // Not the rows read before: another run written over the file.
                    rows.truncate(i);
                    run.note_restart("rewritten");
                    run.ingest.set_format(Format::Csv);
                }
            }
            rows.push(fp);
        }
        let mut row: Vec<Field<'_>> = Vec::with_capacity(cells.len());
        for (k, (name, cell)) in header.iter().zip(cells).enumerate() {
            let cell = cell.as_ref();
            if cell.is_empty() {
                continue;
            }
            let x = match nums {
                Some(nums) => nums[k],
                None => number(cell),
            };
            let value = match x {
                Some(x) => Scalar::Num(x),
                None => Scalar::Str(Cow::Borrowed(cell)),
            };
            row.push(Field { key: Cow::Borrowed(name.as_str()), value });
        }
        run.push_object(line, &row);
    }
}

/// A piece of a file read whole is at least this many bytes (it ends at a line end): the unit
/// one thread decodes.
const PIECE: usize = 256 << 10;

/// The rows of a piece of a file without quotes, split into cells on one of the threads: each
/// cell trimmed, with its number.
#[derive(Debug, Default)]
struct Piece<'a> {
    texts: Vec<&'a str>,
    nums: Vec<Option<f64>>,
    /// Each row: its line in the piece (from 0) and where its cells end.
    rows: Vec<(u64, usize)>,
    /// The line ends the piece holds.
    lines: u64,
}

/// Splits `text` (whole lines but perhaps the file's last; no quote, no carriage return) into
/// rows as the engine does: one row a line, cells between commas, an empty line no row.
fn decode_piece(text: &str) -> Piece<'_> {
    let mut p = Piece::default();
    for (r, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        for cell in line.split(',') {
            let cell = cell.trim_ascii();
            p.texts.push(cell);
            p.nums.push(number(cell));
        }
        p.rows.push((r as u64, p.texts.len()));
    }
    p.lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
    p
}

/// Reads a whole CSV file into `run` (made for it: `tmon check`), on up to `threads` threads.
/// The bytes are read a chunk at a time; while a chunk holds no quote (a quoted cell may hold a
/// line end, so the file could not be cut at any line end), no carriage return and only UTF-8,
/// it is cut into pieces at line ends, the pieces are split into cells on every thread and their
/// rows taken in order on this one. From the first chunk that does, the engine reads the rest.
/// Records, line numbers and skipped rows are those of [`CsvReader::feed`] on the whole file.
pub fn read_file(path: &std::path::Path, run: &mut Run, threads: usize) -> Result<(), crate::error::Error> {
    use std::io::Read;
    let io = |e| crate::error::Error::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut reader = CsvReader::new(run);
    let mut buf: Vec<u8> = Vec::new();
    let mut simple = true;
    // The line the bytes in `buf` start on, and the number of the next row: the line after
    // the row taken last, as the engine numbers rows (blank lines before a row count as its).
    let (mut line, mut next) = (1u64, 1u64);
    loop {
        let had = buf.len();
        (&mut file).take(super::follow::CHUNK as u64).read_to_end(&mut buf).map_err(io)?;
        let eof = buf.len() == had;
        if !simple {
            reader.feed(run, &buf);
            buf.clear();
            if eof {
                reader.finish(run);
                return Ok(());
            }
            continue;
        }
        let whole = if eof { buf.len() } else { memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1) };
        let part = &buf[..whole];
        let text = match memchr::memchr2(b'"', b'\r', part) {
            None => std::str::from_utf8(part).ok(),
            Some(_) => None,
        };
        let Some(text) = text else {
            // The engine goes on from here, at the line reached.
            simple = false;
            reader.core.set_line(line);
            reader.start = Some(next);
            continue;
        };
        let mut bounds = vec![0];
        let mut at = 0;
        while at < text.len() {
            let target = at + PIECE;
            at = match text.as_bytes().get(target..) {
                Some(rest) => memchr::memchr(b'\n', rest).map_or(text.len(), |i| target + i + 1),
                None => text.len(),
            };
            bounds.push(at);
        }
        super::par::ordered(
            bounds.len() - 1,
            threads,
            |j| decode_piece(&text[bounds[j]..bounds[j + 1]]),
            |_, p| {
                let mut from = 0;
                for &(r, to) in &p.rows {
                    reader.cells(run, next, &p.texts[from..to], Some(&p.nums[from..to]));
                    next = line + r + 1;
                    from = to;
                }
                line += p.lines;
            },
        );
        buf.drain(..whole);
        if eof {
            return Ok(());
        }
    }
}

/// What a row says, whatever the order of its columns: its non-empty cells with their names.
fn fingerprint<S: AsRef<str>>(header: &[String], cells: &[S]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut sum = 0u64;
    for (name, cell) in header.iter().zip(cells).filter(|(_, c)| !c.as_ref().is_empty()) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (name, cell.as_ref()).hash(&mut h);
        sum = sum.wrapping_add(h.finish());
    }
    sum
}

/// A row that names the columns again (a writer that started over into the same file): the same
/// names as the header, or as many names, none a number, with most of them the header's.
fn is_header_again<S: AsRef<str>>(header: &[String], cells: &[S], nums: Option<&[Option<f64>]>) -> bool {
    if cells.len() != header.len() {
        return false;
    }
    let num = |k: usize, c: &str| nums.map_or_else(|| number(c), |n| n[k]).is_some();
    if cells.iter().enumerate().any(|(k, c)| c.as_ref().is_empty() || num(k, c.as_ref())) {
        return false;
    }
    let same = header.iter().zip(cells).filter(|(h, c)| h.as_str() == c.as_ref()).count();
    same * 2 > header.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_by_name_or_by_content() {
        assert!(looks_like("metrics.csv", b"epoch,loss\n"));
        assert!(looks_like("metrics.CSV", b""));
        assert!(!looks_like("metrics.csv", b"{\"loss\": 1}\n"));
        assert!(looks_like("log.txt", b"epoch,loss,acc\n0,1.5,0.2\n"));
        assert!(!looks_like("log.txt", b"epoch 1, loss 2\nepoch 2, loss 1\n"));
        assert!(!looks_like("log.txt", b"just,text\nmore,text\n"));
        assert!(!looks_like("log.txt", b"epoch 1,loss 2\nepoch 2,3\n"));
    }

    #[test]
    fn python_numbers() {
        assert!(number("nan").unwrap().is_nan());
        assert_eq!(number(" -inf "), Some(f64::NEG_INFINITY));
        assert_eq!(number("1e-3"), Some(0.001));
        assert_eq!(number("epoch"), None);
        assert_eq!(number(""), None);
    }
}
