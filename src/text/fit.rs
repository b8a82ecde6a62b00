//! Text to a width in terminal cells: measured with `unicode-width`, as ratatui measures it, so
//! a wide character (CJK, most emoji) counts for two cells and the cut never splits one.

use unicode_width::UnicodeWidthChar;

/// The ellipsis that marks a cut.
const ELLIPSIS: char = '…';

fn cells(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The width of `s` in terminal cells (a sanitised string: control characters count for none).
pub fn width(s: &str) -> usize {
    s.chars().map(cells).sum()
}

/// The longest prefix of `s` that fits in `w` cells, as a byte length.
fn head_len(s: &str, w: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += cells(c);
        if used > w {
            return i;
        }
    }
    s.len()
}

/// The start (byte index) of the longest suffix of `s` that fits in `w` cells.
fn tail_start(s: &str, w: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices().rev() {
        used += cells(c);
        if used > w {
            return i + c.len_utf8();
        }
    }
    0
}

/// `s` cut to `w` cells, ending with `…` when cut.
pub fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_owned();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = s[..head_len(s, w - 1)].to_owned();
    out.push(ELLIPSIS);
    out
}

/// `s` cut from the left to `w` cells, starting with `…` when cut (paths: the end matters most).
pub fn fit_left(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_owned();
    }
    if w == 0 {
        return String::new();
    }
    format!("{ELLIPSIS}{}", &s[tail_start(s, w - 1)..])
}

/// `s` cut to `w` cells in the middle, keeping its start and its end with `…` between them: a
/// metric name's start says its group (`train/`, `model.layers.`) and its end the quantity
/// (`loss`, `grad_norm`), which is what tells names apart. The end gets the odd cell.
pub fn elide_middle(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_owned();
    }
    if w == 0 {
        return String::new();
    }
    let room = w - 1;
    let tail_w = room.div_ceil(2);
    let head = &s[..head_len(s, room - tail_w)];
    let tail = &s[tail_start(s, tail_w)..];
    format!("{head}{ELLIPSIS}{tail}")
}

/// `s` padded with spaces to `w` cells (by display width, so a CJK name takes the room it really
/// takes and the column after it stays in place); `s` as it is when already wider.
pub fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// `s` broken into lines of at most `w` cells at spaces, for prose (the help's texts): a word
/// wider than `w` is cut with [`fit`] rather than split, so nothing is drawn past `w`.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|x| !x.is_empty()) {
        let need = if line.is_empty() { width(word) } else { width(&line) + 1 + width(word) };
        if need > w && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        if width(&line) > w {
            lines.push(fit(&line, w));
            line.clear();
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let text = "inside the network: charts, heatmaps, distributions, architecture";
        let lines = wrap(text, 30);
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("quit", 30), ["quit"]);
        assert_eq!(wrap("", 30), [""]);
        assert_eq!(wrap("損失 損失 損失", 9), ["損失 損失", "損失"]);
        assert_eq!(wrap("abcdefgh ij", 4), ["abc…", "ij"]);
    }

    #[test]
    fn widths_are_terminal_cells() {
        assert_eq!(width("loss"), 4);
        assert_eq!(width("損失"), 4);
        assert_eq!(width("é"), 1);
        assert_eq!(width(""), 0);
    }

    #[test]
    fn fit_cuts_at_the_end() {
        assert_eq!(fit("train/loss", 20), "train/loss");
        assert_eq!(fit("train/loss", 6), "train…");
        assert_eq!(fit("train/loss", 1), "…");
        assert_eq!(fit("train/loss", 0), "");
        // A wide character that does not fit whole is left out: 5 cells, not 6.
        assert_eq!(fit("損失損失", 6), "損失…");
        assert!(width(&fit("損失損失", 6)) <= 6);
    }

    #[test]
    fn fit_left_keeps_the_end() {
        assert_eq!(fit_left("/runs/a/log.jsonl", 10), "…log.jsonl");
        assert_eq!(fit_left("abc", 3), "abc");
        assert_eq!(fit_left("abc", 0), "");
        assert_eq!(fit_left("損失損失", 4), "…失");
    }

    #[test]
    fn elide_middle_keeps_both_ends() {
        let name = "model.layers.17.self_attn.q_proj.weight.grad_norm";
        let e = elide_middle(name, 21);
        assert_eq!(e, "model.laye….grad_norm");
        assert_eq!(width(&e), 21);
        assert_eq!(elide_middle("short", 21), "short");
        assert_eq!(elide_middle("abcdef", 1), "…");
        assert_eq!(elide_middle("abcdef", 0), "");
        assert_eq!(elide_middle("abcdef", 4), "a…ef");
        let wide = elide_middle("損失損失損失損失", 9);
        assert!(width(&wide) <= 9 && wide.starts_with('損') && wide.ends_with('失'), "{wide}");
    }

    #[test]
    fn a_huge_name_is_elided_in_one_pass() {
        let name = format!("a{}z", "m".repeat(2 << 20));
        let e = elide_middle(&name, 40);
        assert_eq!(width(&e), 40);
        assert!(e.starts_with('a') && e.ends_with('z'));
    }
}
