//! `--ascii`: the screen drawn in ASCII only, for terminals and fonts without box drawing, braille
//! or symbols (a serial console, some Windows terminals, logs of a session). The regions already
//! choose ASCII markers (plot points, sparklines, selection, flags); this last pass over the drawn
//! buffer turns what remains (frames, axes, ellipses, separators, and any character a log's names
//! bring) into ASCII, so nothing else can slip through.

use ratatui::buffer::Buffer;

/// Every cell of `buf` in ASCII.
pub fn to_ascii(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        let sym = cell.symbol();
        if sym.is_ascii() {
            continue;
        }
        let c = sym.chars().next().map_or(' ', ascii_of);
        // A wide character's second cell is blank already: the replacement takes one cell and the
        // blank the other.
        cell.set_char(c);
    }
}

/// The ASCII character that stands for `c` on screen.
pub fn ascii_of(c: char) -> char {
    match c {
        c if c.is_ascii() => c,
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╰' | '╯' | '╔' | '╗' | '╚'
        | '╝' => '+',
        '─' | '━' | '═' | '╌' | '┄' => '-',
        '│' | '┃' | '║' | '╎' | '┆' => '|',
        '…' => '~',
        '·' | '•' => '|',
        '↑' | '▲' | '△' => '^',
        '↓' | '▼' | '▽' => 'v',
        '←' | '◀' => '<',
        '→' | '▸' | '▶' => '>',
        '×' => 'x',
        '✖' | '✗' => 'X',
        '✓' | '✔' => 'v',
        '●' | '◉' => '*',
        '○' => 'o',
        '◆' => 'B',
        '█' | '▇' | '▆' => '#',
        '▅' | '▄' => '=',
        '▃' => '-',
        '▂' => '.',
        '▁' => '_',
        '░' | '▒' | '▓' => '.',
        'σ' => 's',
        '⏎' => '<',
        '\u{2800}' => ' ',
        '\u{2801}'..='\u{28FF}' => '*',
        _ => '?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_the_ui_draws_has_an_ascii_stand_in() {
        for c in "┌┐└┘─│…·↑↓←→▸▼▲×✖✓●○◆█░▁σ⏎⣿".chars() {
            let a = ascii_of(c);
            assert!(a.is_ascii() && a != '?', "{c} -> {a}");
        }
        assert_eq!(ascii_of('損'), '?');
    }

    #[test]
    fn a_buffer_is_ascii_after_the_pass() {
        use ratatui::layout::Rect;
        use ratatui::style::Style;
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        buf.set_string(0, 0, "┌損失…│⣿ab", Style::new());
        to_ascii(&mut buf);
        let row: String = (0..12).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        assert!(row.is_ascii(), "{row}");
        assert_eq!(row.trim_end(), "+? ? ~|*ab");
    }
}
