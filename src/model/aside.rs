//! The lines of a printed model, caught as lines are skipped and kept aside, whatever came before
//! them: the store keeps the text of the first [`crate::store::SKIPPED_KEPT`] skipped lines only,
//! and a script that draws a progress bar before it prints its model (tqdm writes a line per
//! update when its output is a file) has used them all by then.
//!
//! Every skipped line is offered ([`ModelLines::offer`]); only the lines of a print are kept: a
//! print starts on a line that opens a module (`GPT2Model(`, after any prefix such as `[rank0]: `)
//! followed at once by a child line (`  (wte): ...`), and ends at its root's `)` at the left
//! margin, or where [`super::text::parse_at`] would stop reading it (a gap in the line numbers, a
//! blank or JSON line, a line at the left margin that is not `)`). Bounded: the last print read
//! whole (else the last one cut short) and the one being read, each up to [`MAX_PRINT_LINES`].

use super::text;

/// Most lines kept of one print (torch folds repeated blocks, so a real print is a few hundred
/// lines; an unfolded stack of a hundred blocks is a few thousand). A longer one is kept cut short.
pub const MAX_PRINT_LINES: usize = 8192;

/// The lines of the last printed model (and of the one being printed).
#[derive(Clone, Debug, Default)]
pub struct ModelLines {
    /// The last print read to its end: whole, or else cut short when no whole one was met.
    done: Vec<(u64, String)>,
    done_whole: bool,
    /// The print being read, and the prefix its lines carry.
    open: Vec<(u64, String)>,
    prefix: String,
    /// A line that opens a module: a print when the next line is a child.
    candidate: Option<(u64, String, usize)>,
    /// Counts every change to the lines kept (for the caches of what is read from them).
    changes: u64,
}

impl ModelLines {
    /// Looks at one skipped line (its number and kept text).
    pub fn offer(&mut self, no: u64, line: &str) {
        if !self.open.is_empty() && !self.extend(no, line) {
            return;
        }
        if let Some((cno, ctext, cut)) = self.candidate.take() {
            let prefix = &ctext[..cut];
            let body = line.strip_prefix(prefix).unwrap_or(line);
            if cno + 1 == no && body.starts_with("  (") {
                self.prefix = prefix.to_owned();
                self.open = vec![(cno, ctext), (no, line.to_owned())];
                self.changes += 1;
                return;
            }
        }
        if let Some((cut, _)) = text::opening(line) {
            self.candidate = Some((no, line.to_owned(), cut));
        }
    }

    /// Adds a line to the open print. `false`: it took the line (or the print ended on it);
    /// `true`: the print ended before it, and the line is to be looked at afresh.
    fn extend(&mut self, no: u64, line: &str) -> bool {
        let last = self.open.last().map_or(0, |l| l.0);
        let body = line.strip_prefix(self.prefix.as_str()).unwrap_or(line);
        let t = body.trim();
        let indent = body.len() - body.trim_start().len();
        if no != last + 1 || t.is_empty() || t.starts_with('{') || (indent < 2 && t != ")") {
            self.close();
            return true;
        }
        if self.open.len() >= MAX_PRINT_LINES {
            self.close();
            return false;
        }
        self.open.push((no, line.to_owned()));
        self.changes += 1;
        if indent == 0 {
            // The root's `)`.
            self.close();
        }
        false
    }

    /// Ends the open print: it replaces the last one when it is whole, or when that one was not.
    fn close(&mut self) {
        let open = std::mem::take(&mut self.open);
        let lines: Vec<(u64, &str)> = open.iter().map(|(n, l)| (*n, l.as_str())).collect();
        let whole = text::parse_at(&lines).is_some_and(|(root, _)| root.broken.is_none());
        if whole || !self.done_whole {
            self.done = open;
            self.done_whole = whole;
        }
        self.changes += 1;
    }

    /// The lines kept: the last print read to its end, then the one being read.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &str)> {
        self.done.iter().chain(&self.open).map(|(n, l)| (*n, l.as_str()))
    }

    /// Whether no line is kept.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.open.is_empty()
    }

    /// How many times the lines kept changed.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.done.iter().chain(&self.open).map(|(_, l)| l.capacity() + 32).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: &str = "Net(\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n  (blocks): ModuleList(\n    \
                       (0-1): 2 x Block(\n      (fc): Linear(in_features=8, out_features=8, bias=True)\n    )\n  )\n)";

    fn offer_all(m: &mut ModelLines, from: u64, text: &str) -> u64 {
        let mut no = from;
        for l in text.lines() {
            m.offer(no, l);
            no += 1;
        }
        no
    }

    #[test]
    fn a_print_among_other_lines_is_kept_alone() {
        let mut m = ModelLines::default();
        let mut no = 1;
        for i in 0..3000 {
            m.offer(no, &format!(" {i}%|██▌      | {i}/3000 [00:01<00:10, 99.0it/s]"));
            no += 1;
        }
        m.offer(no, "Epoch 1 (");
        no = offer_all(&mut m, no + 1, NET);
        m.offer(no, "Traceback (most recent call last):");
        let lines: Vec<(u64, &str)> = m.lines().collect();
        assert_eq!(lines.len(), NET.lines().count());
        assert_eq!(lines[0], (3002, "Net("));
        let model = text::find_last(m.lines()).unwrap();
        assert_eq!(model.root.kind, "Net");
        assert!(!model.broken());
    }

    #[test]
    fn a_later_whole_print_wins_and_a_cut_one_does_not_replace_a_whole_one() {
        let mut m = ModelLines::default();
        let no = offer_all(&mut m, 1, &NET.replace("Net(", "First("));
        let no = offer_all(&mut m, no + 5, &NET.replace("Net(", "Second("));
        let cut: String = NET.replace("Net(", "Third(").lines().take(3).collect::<Vec<_>>().join("\n");
        let no = offer_all(&mut m, no + 5, &cut);
        m.offer(no + 3, "loss 0.5");
        assert_eq!(text::find_last(m.lines()).unwrap().root.kind, "Second");
        // With a prefix on every line.
        let mut p = ModelLines::default();
        let text: String = NET.lines().map(|l| format!("[rank0]: {l}\n")).collect();
        offer_all(&mut p, 10, &text);
        let model = text::find_last(p.lines()).unwrap();
        assert_eq!((model.root.kind.as_str(), model.broken()), ("Net", false));
    }

    #[test]
    fn bounded_and_never_a_panic() {
        let mut m = ModelLines::default();
        m.offer(1, "Huge(");
        for i in 0..(MAX_PRINT_LINES as u64 + 100) {
            m.offer(i + 2, &format!("  (l{i}): Linear(in_features=1, out_features=1, bias=True)"));
        }
        assert!(m.lines().count() <= MAX_PRINT_LINES);
        for text in ["(\n", ")\n", "\u{fffd}(\n  (", "x(\n  (a): b(\n)\n"] {
            offer_all(&mut m, 1, text);
        }
    }
}
