//! The text PyTorch's `print(model)` writes, read back into a [`Module`] tree:
//!
//! ```text
//! GPT2Model(
//!   (wte): Embedding(50257, 768)
//!   (h): ModuleList(
//!     (0-11): 12 x GPT2Block(
//!       (ln_1): LayerNorm((768,), eps=1e-05, elementwise_affine=True)
//!       ...
//!     )
//!   )
//! )
//! ```
//!
//! A print starts on a line ending in `Type(` (what comes before the type, a logger's prefix or
//! torchrun's `[rank0]:`, is left out, and taken off the following lines that carry it too) whose
//! next line is a child `(name): ...`. Children are `(name): Type(args)` on one line, or
//! `(name): Type(` opening a container closed by a `)` line; `(0-11): 12 x Type(` is torch's own
//! folding of repeated blocks. Lines inside a container that are neither are its own arguments.
//! A print cut short (the log ends, a line is cut, a gap in the lines) keeps what was read, and the
//! modules left open are marked broken; nothing here can panic or loop on any input.

use super::{Model, Module, Source};

/// How deep a print may nest before the rest is treated as broken (real models nest < 20).
pub(crate) const MAX_DEPTH: usize = 64;

/// The type name a line opens (`GPT2Model(` -> `GPT2Model`), with the length of what precedes it.
pub(crate) fn opening(line: &str) -> Option<(usize, &str)> {
    let body = line.trim_end();
    let head = body.strip_suffix('(')?;
    let start = head
        .char_indices()
        .rfind(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let kind = &head[start..];
    let first = kind.chars().next()?;
    (first.is_alphabetic() || first == '_').then_some((start, kind))
}

/// A child line `(name): rest`, as `(name, rest)`.
fn child(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start().strip_prefix('(')?;
    let close = t.find("):")?;
    let rest = &t[close + 2..];
    // `(name): Type...`, or `(name):` alone when the line was cut right there.
    (rest.is_empty() || rest.starts_with(' ')).then(|| (&t[..close], rest.trim_start()))
}

/// `12 x GPT2Block(...)` -> (12, `GPT2Block(...)`).
fn repeat(rest: &str) -> (u32, &str) {
    if let Some((n, tail)) = rest.split_once(" x ") {
        if let Ok(n) = n.trim().parse::<u32>() {
            if n > 0 {
                return (n, tail);
            }
        }
    }
    (1, rest)
}

/// Whether the parentheses of `s` balance (a whole one-line module).
fn balanced(s: &str) -> bool {
    let mut depth = 0i64;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// `Type(args)` -> (`Type`, `args`), when the line holds a whole module.
fn leaf(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim_end();
    let open = rest.find('(')?;
    let kind = &rest[..open];
    if kind.is_empty() || !kind.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    let args = rest[open + 1..].strip_suffix(')')?;
    balanced(args).then_some((kind, args))
}

/// The folded name `0-11` -> `0` (the copies are named from it).
fn first_name(name: &str) -> &str {
    match name.split_once('-') {
        Some((a, b)) if a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok() => a,
        _ => name,
    }
}

/// Reads one print starting at `lines[0]` (which must open a module). Returns the root and how
/// many lines it took; the root is marked broken when the print did not close.
pub fn parse_at(lines: &[(u64, &str)]) -> Option<(Module, usize)> {
    let (first_no, first) = *lines.first()?;
    if child(first).is_some() {
        // A child line of a print: a print starts on its root.
        return None;
    }
    let (cut, kind) = opening(first)?;
    let prefix = &first[..cut];
    // The first child must follow, or this is just a line ending in `(`.
    let next = lines.get(1).map(|&(_, l)| l.strip_prefix(prefix).unwrap_or(l))?;
    if !next.starts_with("  (") {
        return None;
    }
    let mut stack: Vec<Module> = vec![Module::new("", kind, "")];
    let mut last_no = first_no;
    for (i, &(no, raw)) in lines.iter().enumerate().skip(1) {
        if no != last_no + 1 {
            return Some((close_all(stack, &format!("the print stops at line {last_no}")), i));
        }
        last_no = no;
        let line = if prefix.is_empty() { raw } else { raw.strip_prefix(prefix).unwrap_or(raw) };
        let t = line.trim();
        // torch indents each level by two spaces: a line that does not sit where the open
        // modules say belongs to a module whose opening line was lost.
        let indent = line.len() - line.trim_start().len();
        if t == ")" {
            let want = 2 * (stack.len() - 1);
            if indent > want {
                stack.last_mut()?.broken.get_or_insert_with(|| format!("line {no} does not fit the print"));
                continue;
            }
            if indent < want {
                close_to(&mut stack, indent / 2 + 1, no);
            }
            let done = stack.pop()?;
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => return Some((done, i + 1)),
            }
            continue;
        }
        if !t.is_empty() {
            let want = 2 * stack.len();
            if indent > want {
                stack.last_mut()?.broken.get_or_insert_with(|| format!("line {no} does not fit the print"));
                continue;
            }
            if indent < want {
                if indent < 2 {
                    return Some((close_all(stack, &format!("the print stops at line {no}")), i));
                }
                close_to(&mut stack, indent / 2, no);
            }
        }
        let Some((name, rest)) = child(line) else {
            if t.is_empty() || t.starts_with('{') {
                // A blank or a JSON line inside a print: the print was cut short.
                return Some((close_all(stack, &format!("the print stops at line {no}")), i));
            }
            // A container's own arguments (its extra_repr), on lines of their own.
            let top = stack.last_mut()?;
            if !top.args.is_empty() {
                top.args.push_str(", ");
            }
            top.args.push_str(t);
            continue;
        };
        let (n, rest) = repeat(rest);
        let name = first_name(name);
        if let Some((ckind, args)) = leaf(rest) {
            let mut m = Module::new(name, ckind, args);
            m.repeat = n;
            stack.last_mut()?.children.push(m);
        } else if let Some((_, ckind)) = opening(rest).filter(|&(at, _)| at == 0) {
            if stack.len() >= MAX_DEPTH {
                return Some((close_all(stack, &format!("nested too deep at line {no}")), i));
            }
            let mut m = Module::new(name, ckind, "");
            m.repeat = n;
            stack.push(m);
        } else {
            // A line cut short (the store keeps the start of long lines) or not a module at all.
            let ckind = rest.split('(').next().unwrap_or("").trim();
            let mut m = Module::new(name, if ckind.is_empty() { "?" } else { ckind }, "");
            m.repeat = n;
            m.broken = Some(format!("line {no} could not be read"));
            stack.last_mut()?.children.push(m);
        }
    }
    Some((close_all(stack, &format!("the print is cut short after line {last_no}")), lines.len()))
}

/// Closes open modules (each marked broken: its `)` was lost) until `depth` are open.
fn close_to(stack: &mut Vec<Module>, depth: usize, no: u64) {
    while stack.len() > depth.max(1) {
        let Some(mut top) = stack.pop() else { return };
        top.broken.get_or_insert_with(|| format!("its end is missing before line {no}"));
        if let Some(parent) = stack.last_mut() {
            parent.children.push(top);
        }
    }
}

/// Closes the modules left open by a print cut short, each marked broken.
fn close_all(mut stack: Vec<Module>, why: &str) -> Module {
    while let Some(mut top) = stack.pop() {
        top.broken.get_or_insert_with(|| why.to_string());
        match stack.last_mut() {
            Some(parent) => parent.children.push(top),
            None => return top,
        }
    }
    Module::new("", "?", "")
}

/// Finishes a parsed root: parameter counts, folding of repeated siblings.
pub fn finish(mut root: Module) -> Module {
    root.compute_params();
    root.fold();
    root
}

/// The model printed in `lines` (line number, text), the last whole print, else the last one
/// cut short.
pub fn find_last<'a>(lines: impl Iterator<Item = (u64, &'a str)>) -> Option<Model> {
    let lines: Vec<(u64, &str)> = lines.collect();
    let mut best: Option<(Module, u64)> = None;
    let mut i = 0;
    while i < lines.len() {
        match opening(lines[i].1).and_then(|_| parse_at(&lines[i..])) {
            Some((root, used)) => {
                let whole = root.broken.is_none();
                if whole || best.as_ref().is_none_or(|(b, _)| b.broken.is_some()) {
                    best = Some((root, lines[i].0));
                }
                i += used.max(1);
            }
            None => i += 1,
        }
    }
    let (root, line) = best?;
    let root = finish(root);
    Some(Model { name: root.kind.clone(), root, source: Source::Text { line } })
}

/// Parses a whole text (a fixture, a stdout log) as [`find_last`] does.
pub fn parse_text(text: &str) -> Option<Model> {
    find_last(text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Params;

    const SMALL: &str =
        "Net(\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n  (act): ReLU()\n  \
                         (fc2): Linear(in_features=8, out_features=2, bias=False)\n)\n";

    #[test]
    fn a_small_print_is_read_whole() {
        let m = parse_text(SMALL).unwrap();
        assert_eq!(m.root.kind, "Net");
        assert_eq!(
            m.root.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["fc1", "act", "fc2"]
        );
        assert_eq!(m.params(), Params::Exact(4 * 8 + 8 + 16));
        assert!(!m.broken());
    }

    #[test]
    fn a_prefix_on_every_line_is_taken_off() {
        let text: String = SMALL.lines().map(|l| format!("[rank0]: {l}\n")).collect();
        let m = parse_text(&text).unwrap();
        assert_eq!(m.params(), Params::Exact(56));
    }

    #[test]
    fn every_cut_of_a_print_is_marked_never_a_panic() {
        for cut in 0..SMALL.len() {
            let Some(m) = parse_text(&SMALL[..cut]) else { continue };
            // A cut before the final `)` is always marked.
            if cut < SMALL.len() - 2 {
                assert!(m.broken(), "cut at {cut} not marked");
            }
        }
    }

    #[test]
    fn any_bytes_read_without_a_panic() {
        for text in [
            "\u{fffd}\u{fffd}(\n  (a): é(\n",
            "ü€(\n  (é): Linear(\n)",
            "x\u{fffd}Net(\n  (\u{fffd}):",
            "(\n(\n)",
        ] {
            let _ = parse_text(text);
        }
        let m = parse_text("→Net(\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)").unwrap();
        assert_eq!(m.root.kind, "Net");
    }

    #[test]
    fn text_that_only_looks_like_a_print_is_not_one() {
        assert!(parse_text("print(\nhello\n)").is_none());
        assert!(parse_text("Epoch 1 (\n").is_none());
        assert!(parse_text("AdamW (\nParameter Group 0\n)").is_none());
    }
}
