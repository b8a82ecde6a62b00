//! The framing rules written the slow, obvious way, to check `source::frame::Framer` (and the
//! tailer built on it) against: split at `\n`; a line with no NUL byte and at most `max` bytes is
//! itself; any other line is a note whose kept part is what followed its last run of NUL bytes
//! (nothing when a piece of the line passed the cap).

// Each target uses a part of it.
#![allow(dead_code)]

/// What one framed line must be.
#[derive(Debug, PartialEq)]
pub enum Want {
    Line(Vec<u8>),
    Note { nul: bool, long: bool, kept: Vec<u8> },
}

/// The expected lines of `input` (the last one without its newline, if any bytes follow the last
/// newline).
pub fn reference(input: &[u8], max: usize) -> Vec<Want> {
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for l in lines {
        let nul = l.contains(&0);
        // The pieces kept in turn: the line's start, then what follows each run of NUL bytes.
        let pieces: Vec<&[u8]> = l.split(|&b| b == 0).collect();
        let long = pieces.iter().any(|p| p.len() > max);
        if !nul && !long {
            out.push(Want::Line(l.to_vec()));
            continue;
        }
        // Once past the cap, everything up to the newline is dropped.
        let kept = if long { Vec::new() } else { pieces.last().map_or_else(Vec::new, |p| p.to_vec()) };
        out.push(Want::Note { nul, long, kept });
    }
    out
}

/// What a framed line is.
pub fn judge(line: &[u8]) -> Want {
    match tmon::source::frame::note_parts(line) {
        None => Want::Line(line.to_vec()),
        Some((reason, _, kept)) => {
            let reason = String::from_utf8_lossy(reason);
            Want::Note {
                nul: reason.contains("NUL bytes skipped"),
                long: reason.contains("longer than the limit"),
                kept: kept.to_vec(),
            }
        }
    }
}

/// Cuts `data` into (chunk sizes, payload): the first bytes choose the sizes.
pub fn chunks(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let n = data.first().map_or(0, |&b| (b % 8) as usize);
    let sizes: Vec<usize> = data.iter().skip(1).take(n).map(|&b| 1 + b as usize % 97).collect();
    let payload = data.get(1 + n..).unwrap_or_default();
    (sizes, payload)
}

/// `payload` in pieces of the sizes given, cycling.
pub fn pieces<'a>(payload: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < payload.len() {
        let n = sizes.get(k % sizes.len().max(1)).copied().unwrap_or(payload.len()).min(payload.len() - i);
        out.push(&payload[i..i + n]);
        i += n;
        k += 1;
    }
    out
}
