//! Our chart rasteriser (`tmon::ui::raster`) against ratatui's `Chart`: random line sets drawn
//! both ways on a `TestBackend` (overlapping lines, NaN gaps, points outside the bounds, flat and
//! vertical lines, a single point, empty series, braille and character marks, zero-width bounds,
//! every terminal size we snapshot and odd chart sizes), and every screen of the snapshot
//! scenarios drawn both ways: the buffers must be the same cell for cell (symbol, colours and
//! modifiers).

use crate::support::rng::Rng;
use crate::support::ui::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::Terminal;
use tmon::app::{App, Options};
use tmon::ui::raster::{self, Axes, Kind, Mark, Series};

/// The first cell where two buffers differ, for the failure message.
fn first_difference(a: &Buffer, b: &Buffer) -> String {
    for y in 0..a.area.height {
        for x in 0..a.area.width {
            if a[(x, y)] != b[(x, y)] {
                return format!("at ({x}, {y}): ours {:?}, ratatui's {:?}", a[(x, y)], b[(x, y)]);
            }
        }
    }
    "the areas differ".to_owned()
}

fn colour(rng: &mut Rng) -> Option<Color> {
    match rng.below(6) {
        0 => None,
        1 => Some(Color::Reset),
        2 => Some(Color::Indexed(rng.below(256) as u8)),
        3 => Some(Color::Rgb(rng.below(256) as u8, rng.below(256) as u8, rng.below(256) as u8)),
        4 => Some(Color::Red),
        _ => Some(Color::Indexed(rng.below(4) as u8)),
    }
}

fn style(rng: &mut Rng) -> Style {
    let mut s = Style::default();
    if let Some(c) = colour(rng) {
        s = s.fg(c);
    }
    if rng.below(3) == 0 {
        s = s.add_modifier(Modifier::BOLD);
    }
    if rng.below(5) == 0 {
        s = s.bg(Color::Blue);
    }
    s
}

fn bounds(rng: &mut Rng) -> [f64; 2] {
    let lo = (rng.uniform() - 0.5) * 10f64.powi(rng.below(7) as i32 - 2);
    // Never inverted: ratatui's line clipping loops forever on a window whose min is above its max
    // (the charts' bounds never are).
    let span = match rng.below(12) {
        0 => 0.0,
        _ => rng.uniform() * 10f64.powi(rng.below(7) as i32 - 2) + 1e-9,
    };
    [lo, lo + span]
}

/// A series' points in bounds `xb`, `yb`: a walk that leaves the bounds now and then, with NaN
/// gaps, flat stretches, repeated xs; or a single point; or none.
fn points(rng: &mut Rng, xb: [f64; 2], yb: [f64; 2], shared: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (xs, ys) = ((xb[1] - xb[0]).abs().max(1e-6), (yb[1] - yb[0]).abs().max(1e-6));
    let n = match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => 2,
        3 if !shared.is_empty() => return shared.to_vec(),
        _ => rng.below(400) + 2,
    };
    let mut out = Vec::with_capacity(n);
    let mut x = xb[0] - xs * 0.1 * rng.uniform();
    let mut y = yb[0] + ys * rng.uniform();
    let flat = rng.below(5) == 0;
    for _ in 0..n {
        match rng.below(40) {
            0 => out.push((x, f64::NAN)),
            1 => out.push((f64::NAN, y)),
            2 => out.push((x, y + ys * 3.0)),
            3 => out.push((x, y - ys * 3.0)),
            4 => out.push((x, f64::INFINITY)),
            5 => out.push((xb[1], yb[1])),
            6 => out.push((xb[0], yb[0])),
            _ => out.push((x, y)),
        }
        if rng.below(10) != 0 {
            x += xs * rng.uniform() * 3.0 / n as f64;
        }
        if !flat {
            y += ys * rng.normal() * 0.08;
        }
    }
    out
}

fn label(rng: &mut Rng) -> String {
    let len = rng.below(9);
    (0..len).map(|_| ['1', '.', 'e', '-', 'k', 'µ', '5', '0'][rng.below(8)]).collect()
}

/// A buffer with something under the chart: random symbols and styles.
fn scribbled(area: Rect, rng: &mut Rng) -> Buffer {
    let mut buf = Buffer::empty(area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if rng.below(3) == 0 {
                let c = ['a', '│', ' ', '⣿', '#'][rng.below(5)];
                buf[(x, y)].set_char(c).set_style(style(rng));
            }
        }
    }
    buf
}

/// Draws `series` over `axes` in `area` of a `w`x`h` terminal both ways; the two buffers.
fn both(w: u16, h: u16, area: Rect, under: &Buffer, axes: &Axes, series: &[Series]) -> (Buffer, Buffer) {
    let draw = |ratatui: bool| {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("backend");
        term.draw(|f| {
            *f.buffer_mut() = under.clone();
            if ratatui {
                raster::chart_ratatui(f.buffer_mut(), area, axes.clone(), series);
            } else {
                raster::chart_raster(f.buffer_mut(), area, axes.clone(), series);
            }
        })
        .expect("draw");
        term.backend().buffer().clone()
    };
    (draw(false), draw(true))
}

#[test]
fn random_charts_are_drawn_as_ratatuis_chart_draws_them() {
    // The terminal sizes the snapshots use, and charts of odd sizes inside them.
    let sizes: [(u16, u16); 6] = [(80, 24), (160, 48), (100, 30), (10, 3), (1, 1), (60, 20)];
    let marks =
        [Mark::Braille, Mark::Char('×'), Mark::Char('▼'), Mark::Char('*'), Mark::Char('.'), Mark::Char('a')];
    let mut drawn = 0;
    for seed in 0..1500u64 {
        let mut rng = Rng::new(seed);
        let (w, h) = sizes[rng.below(sizes.len())];
        let area = if rng.below(3) == 0 {
            Rect::new(0, 0, w, h)
        } else {
            let (x, y) = (rng.below(w as usize) as u16, rng.below(h as usize) as u16);
            Rect::new(x, y, rng.below((w - x) as usize + 1) as u16, rng.below((h - y) as usize + 1) as u16)
        };
        let (xb, yb) = (bounds(&mut rng), bounds(&mut rng));
        let span = |s: String| Span::styled(s, Style::default().fg(Color::DarkGray));
        let axes = Axes {
            x_bounds: xb,
            y_bounds: yb,
            x_labels: (0..rng.below(4)).map(|_| span(label(&mut rng))).collect(),
            y_labels: (0..rng.below(4)).map(|_| span(label(&mut rng))).collect(),
            style: style(&mut rng),
        };
        let mut sets: Vec<Vec<(f64, f64)>> = Vec::new();
        for _ in 0..rng.below(14) {
            let prev = sets.last().cloned().unwrap_or_default();
            sets.push(points(&mut rng, xb, yb, &prev));
        }
        let series: Vec<Series> = sets
            .iter()
            .map(|p| Series {
                points: p,
                mark: marks[rng.below(marks.len())],
                kind: if rng.below(4) == 0 { Kind::Scatter } else { Kind::Line },
                style: style(&mut rng),
            })
            .collect();
        let under = scribbled(Rect::new(0, 0, w, h), &mut rng);
        let (ours, theirs) = both(w, h, area, &under, &axes, &series);
        assert!(ours == theirs, "seed {seed}, {w}x{h}, chart {area:?}: {}", first_difference(&ours, &theirs));
        let (bare, _) = both(w, h, area, &under, &axes, &[]);
        drawn += usize::from(ours != bare);
    }
    // The comparison is not of empty plots: most charts' series drew dots.
    assert!(drawn > 850, "the series of {drawn} of 1500 charts drew anything");
}

/// The app drawn at `w`x`h` with our rasteriser and with ratatui's `Chart`.
fn screens_agree(name: &str, app: &App) {
    for (w, h) in [(80, 24), (160, 48), (100, 30), (10, 3), (1, 1), (47, 19)] {
        raster::use_ratatui(true);
        let theirs = draw(app, w, h).backend().buffer().clone();
        raster::use_ratatui(false);
        let ours = draw(app, w, h).backend().buffer().clone();
        assert!(ours == theirs, "{name} at {w}x{h}: {}", first_difference(&ours, &theirs));
    }
}

#[test]
fn every_chart_screen_is_drawn_as_ratatuis_chart_draws_it() {
    let mut app = train_app();
    screens_agree("grid", &app);
    app.update(code(KeyCode::Enter));
    screens_agree("single", &app);
    app.update(key('['));
    screens_agree("single with the cursor", &app);
    app.update(key('l'));
    app.update(key('o'));
    screens_agree("log y without outlier scaling", &app);
    let ascii = app_of(vec![load("ui/train.jsonl")], Options { ascii: true, ..Default::default() });
    screens_agree("ascii", &ascii);

    let mut sweep = sweep_app();
    screens_agree("sweep grid", &sweep);
    sweep.color = false;
    screens_agree("sweep without colour", &sweep);
    sweep.color = true;
    sweep.update(key('s'));
    screens_agree("sweep, stronger smoothing", &sweep);
    sweep.update(code(KeyCode::Enter));
    sweep.update(key('['));
    for _ in 0..3 {
        sweep.update(key('{'));
    }
    screens_agree("sweep single chart with the cursor", &sweep);
    let ascii = app_of(sweep_runs(), Options { ascii: true, ..Default::default() });
    screens_agree("sweep ascii", &ascii);
}
