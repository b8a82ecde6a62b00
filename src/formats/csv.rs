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

use crate::error::Error;
use crate::ingest::Format;
use crate::parse::{Field, Scalar};
use crate::run::Run;
use std::borrow::Cow;
use std::path::Path;

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

/// Reads a CSV file into `run`.
pub fn load(path: &Path, mut run: Run) -> Result<Run, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    run.ingest.set_format(Format::Csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut header: Vec<String> = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut fields: Vec<Field<'_>> = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                run.store.skipped.push(line, format!("not CSV: {e}"), b"");
                if e.is_io_error() {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let cells: Vec<Cow<'_, str>> = record.iter().map(String::from_utf8_lossy).collect();
        if header.is_empty() || is_header_again(&header, &cells) {
            if header.is_empty() && cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            header = cells.iter().map(|c| c.trim_start_matches('\u{feff}').to_owned()).collect();
            continue;
        }
        if cells.len() > header.len() {
            let text = cells.join(",");
            let reason = format!("{} cells, but the header has {} names", cells.len(), header.len());
            run.store.skipped.push(line, reason, text.as_bytes());
            continue;
        }
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let spans = cells.iter().map(|c| c.matches('\n').count()).sum::<usize>();
        if spans > 0 {
            // Loggers quote no multi-line cell: an unclosed quote swallowed the lines after it.
            let text = cells.join(",");
            let reason = format!("a quoted cell runs over {} more lines (an unclosed quote?)", spans);
            run.store.skipped.push(line, reason, text.as_bytes());
            continue;
        }
        let mut row = crate::ingest::recycle(std::mem::take(&mut fields));
        for (name, cell) in header.iter().zip(&cells) {
            if cell.is_empty() {
                continue;
            }
            let value = match number(cell) {
                Some(x) => Scalar::Num(x),
                None => Scalar::Str(Cow::Borrowed(cell.as_ref())),
            };
            row.push(Field { key: Cow::Borrowed(name.as_str()), value });
        }
        run.push_object(line, &row);
        fields = crate::ingest::recycle(row);
    }
    Ok(run)
}

/// A row that names the columns again (a writer that started over into the same file): the same
/// names as the header, or as many names, none a number, with most of them the header's.
fn is_header_again(header: &[String], cells: &[Cow<'_, str>]) -> bool {
    if cells.len() != header.len() || cells.iter().any(|c| c.is_empty() || number(c).is_some()) {
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
