//! The heatmap pane (issue "Inside the network", part 1): snapshots at 80x24 and 160x48 of the
//! fixture tests/fixtures/heatmap/layers.jsonl read by the real ingest and analyzer, the keys that
//! open it and read a cell, flags that point into it, and the harness's dying-ReLU, vanishing and
//! exploding runs as the drawn buffer shows them.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use ratatui::layout::Rect;
use tmon::analysis::FlagKind;
use tmon::app::{App, Focus, Options, Pane};
use tmon::harness::{Scenario, Trainer};
use tmon::run::Run;

fn snap(name: &str, app: &App, w: u16, h: u16) {
    let term = draw(app, w, h);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

fn layers_app() -> App {
    app_of(vec![load("heatmap/layers.jsonl")], Options::default())
}

/// Selects the metric list's entry of family `name` and presses Enter.
fn open_family(app: &mut App, name: &str) {
    let fi = app.families().iter().position(|f| f.name == name).expect("the family");
    let gi = app.groups().iter().position(|g| g.family == Some(fi) && !g.layer).expect("its entry");
    while app.view.selected < gi {
        app.update(key('j'));
    }
    app.update(code(KeyCode::Enter));
    assert_eq!((app.view.pane, app.view.heat_family), (Pane::Heatmap, fi));
}

/// Selects the first flag of `kind` in the flags panel and presses Enter.
fn jump_to(app: &mut App, kind: FlagKind) -> tmon::analysis::Flag {
    app.update(key('a'));
    let i = app.flag_rows().iter().position(|(_, f)| f.kind == kind).expect("the flag");
    let flag = app.flag_rows()[i].1.clone();
    for _ in 0..i {
        app.update(key('j'));
    }
    app.update(code(KeyCode::Enter));
    flag
}

/// A harness run read line by line by the real ingest and analyzer.
fn harness_app(scenario: Scenario) -> App {
    let mut run = Run::new(format!("{scenario}.jsonl"), Default::default(), Default::default());
    for (i, line) in Trainer::new(scenario, 1).enumerate() {
        run.push_line(i as u64 + 1, line.as_bytes());
    }
    app_of(vec![run], Options::default())
}

#[test]
fn heatmap_screens() {
    let mut app = layers_app();
    // One entry per family in the metric list, and the heatmap pane among those `i` cycles.
    assert_eq!(app.panes(), vec![Pane::Charts, Pane::Heatmap]);
    snap("heatmap_list", &app, 80, 24);
    open_family(&mut app, "grad_norm");
    snap("heatmap", &app, 80, 24);
    snap("heatmap", &app, 160, 48);
    // The cursor reads one cell: the layer, the step and the value.
    app.update(key(']'));
    app.update(key('{'));
    app.update(key('j'));
    app.update(key('j'));
    let screen = text(&draw(&app, 160, 48));
    assert!(screen.contains("▸ layer2 · step "), "{screen}");
    snap("heatmap_cursor", &app, 160, 48);
    // Without colour: shade characters, one layer per row.
    app.color = false;
    snap("heatmap_no_color", &app, 80, 24);
    // Esc: the cursor, then back to the charts.
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.pane, Pane::Heatmap);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view.pane, Pane::Charts);
    // `i` opens it again.
    app.update(key('i'));
    assert_eq!(app.view.pane, Pane::Heatmap);
}

#[test]
fn space_expands_a_family_into_its_layers() {
    let mut app = layers_app();
    let before = app.groups().len();
    let fi = app.families().iter().position(|f| f.name == "dead_frac").unwrap();
    let gi = app.groups().iter().position(|g| g.family == Some(fi)).unwrap();
    while app.view.selected < gi {
        app.update(key('j'));
    }
    app.update(key(' '));
    assert_eq!(app.groups().len(), before + 4);
    let layers: Vec<&str> = app.groups().iter().filter(|g| g.layer).map(|g| g.names[0].as_str()).collect();
    assert_eq!(layers, ["dead_frac/fc0", "dead_frac/fc1", "dead_frac/fc2", "dead_frac/fc3"]);
    assert_eq!(app.view.selected, gi, "the selection stays on the family");
    let screen = text(&draw(&app, 80, 24));
    assert!(screen.contains("- dead_frac · 4 layers") && screen.contains("  dead_frac/fc1"), "{screen}");
    app.update(key(' '));
    assert_eq!(app.groups().len(), before);
}

#[test]
fn a_flag_on_a_layer_opens_its_heatmap_at_its_step() {
    let mut app = layers_app();
    let flag = jump_to(&mut app, FlagKind::DeadUnits);
    assert_eq!(flag.metric, "dead_frac/fc1");
    let fam = app.heat_family().expect("a heatmap").clone();
    assert_eq!((fam.name.as_str(), app.view.heat_row, app.view.cursor), ("dead_frac", 1, Some(flag.step)));
    assert_eq!(app.heat_marks().iter().map(|m| m.0).collect::<Vec<_>>(), [1]);
    let screen = text(&draw(&app, 160, 48));
    assert!(screen.contains(&format!("▸ fc1 · step {} · ", flag.step)), "{screen}");
    assert!(screen.contains("●fc1"), "{screen}");
}

/// The text row of the heatmap in `buf` (drawn at `plot`) that names layer `name`.
fn row_of(buf: &ratatui::buffer::Buffer, plot: Rect, name: &str) -> u16 {
    (plot.y..plot.y + plot.height)
        .find(|&y| {
            let label: String =
                (plot.x.saturating_sub(12)..plot.x).map(|x| buf[(x, y)].symbol().to_owned()).collect();
            label.contains(&format!("{name} "))
        })
        .unwrap_or_else(|| panic!("no row names {name}"))
}

/// The layer's row and the colour bar's lowest colour, in a colour frame of 120x40.
fn row_cells(app: &App, layer: usize) -> (Vec<ratatui::buffer::Cell>, ratatui::buffer::Cell, Rect) {
    let term = draw(app, 120, 40);
    let (plot, bar) = tmon::ui::heatmap_plot(app, Rect::new(0, 0, 120, 40)).expect("a heatmap");
    let buf = term.backend().buffer().clone();
    let y = row_of(&buf, plot, &format!("layer{layer}"));
    let row: Vec<_> = (plot.x..plot.x + plot.width).map(|x| buf[(x, y)].clone()).collect();
    (row, buf[(bar.x + 1, bar.y + bar.height - 1)].clone(), plot)
}

#[test]
fn dying_relu_the_dead_layers_rows_are_the_lowest_colour_from_the_flag_on() {
    let mut app = harness_app(Scenario::DeadRelu);
    let flag = jump_to(&mut app, FlagKind::DeadUnits);
    assert_eq!(flag.metric, "dead_frac");
    let fam = app.heat_family().expect("the dead units flag opens a heatmap").clone();
    assert_eq!(fam.name, "grad_norm");
    // The layers whose gradients are exactly 0 at the flag's step: the two hidden layers.
    let store = &app.slot().unwrap().run().store;
    let target = tmon::analysis::families::flag_target(app.families(), store, &flag, &Default::default());
    assert_eq!(target, Some((app.view.heat_family, vec![0, 1])));
    // The exploding gradient's flag marks the layers that jumped too: every layer is marked.
    assert!(app.heat_marks().iter().any(|m| m.0 == 0));
    // The whole run, to see the flag's step and everything after it.
    app.update(key('r'));
    let (plot, _) = tmon::ui::heatmap_plot(&app, Rect::new(0, 0, 120, 40)).unwrap();
    let data = app.heatmap_data(plot.width as usize).expect("the heatmap's data");
    let from = data.column_of(flag.step).expect("the flag's step is in the window") + 1;
    for layer in [0, 1] {
        let (row, lowest, _) = row_cells(&app, layer);
        assert_eq!(lowest.symbol(), "█");
        for (c, cell) in row.iter().enumerate().skip(from) {
            assert_eq!((cell.symbol(), cell.fg), ("█", lowest.fg), "layer{layer}, column {c}");
        }
        // Before the kick the layer was alive: not the lowest colour.
        assert!(row[..from.saturating_sub(5)].iter().all(|c| c.fg != lowest.fg), "layer{layer}");
    }
    // The output layer stays alive.
    let (row, lowest, _) = row_cells(&app, 2);
    assert!(row.iter().skip(from).all(|c| c.fg != lowest.fg));
}

#[test]
fn vanishing_the_input_layers_are_the_low_end_of_the_scale() {
    let mut app = harness_app(Scenario::Vanishing);
    let flag = jump_to(&mut app, FlagKind::VanishingGradient);
    assert_eq!(flag.metric, "grad_norm/layer0");
    assert_eq!(app.heat_family().map(|f| f.layers.len()), Some(11));
    app.update(key('r'));
    app.color = false;
    let term = draw(&app, 120, 40);
    let (plot, _) = tmon::ui::heatmap_plot(&app, Rect::new(0, 0, 120, 40)).unwrap();
    let buf = term.backend().buffer();
    let row = |l: u16| -> String {
        let y = row_of(buf, plot, &format!("layer{l}"));
        (plot.x..plot.x + plot.width).map(|x| buf[(x, y)].symbol()).collect()
    };
    assert!(app.heatmap_data(plot.width as usize).unwrap().log.is_some(), "norms over decades: a log scale");
    assert!(row(0).chars().all(|c| c == ' ' || c == '░'), "layer0: {:?}", row(0));
    assert!(row(10).chars().all(|c| c == '▓' || c == '█'), "layer10: {:?}\n{}", row(10), text(&term));
    let marks = app.heat_marks();
    assert_eq!(marks.first().map(|m| m.0), Some(0), "{marks:?}");
}

#[test]
fn exploding_the_jump_is_the_top_of_the_scale_in_the_marked_layers() {
    let mut app = harness_app(Scenario::DeadRelu);
    let flag = jump_to(&mut app, FlagKind::ExplodingGradient);
    assert_eq!(flag.metric, "grad_norm");
    let marks: Vec<usize> = app.heat_marks().iter().map(|m| m.0).collect();
    assert!(!marks.is_empty(), "the layers that jumped are marked");
    app.color = false;
    let (plot, _) = tmon::ui::heatmap_plot(&app, Rect::new(0, 0, 120, 40)).unwrap();
    let data = app.heatmap_data(plot.width as usize).unwrap();
    let col = data.column_of(flag.step).unwrap();
    let term = draw(&app, 120, 40);
    let buf = term.backend().buffer();
    // Each marked layer's cell at the jump is darker than any of the ten columns before it.
    let rank = |x: u16, y: u16| tmon::ui::SHADES.iter().position(|c| buf[(x, y)].symbol() == c.to_string());
    for m in marks {
        let y = row_of(buf, plot, &format!("layer{m}"));
        let at = rank(plot.x + col as u16, y).unwrap();
        let before = (col.saturating_sub(10)..col).filter_map(|c| rank(plot.x + c as u16, y)).max().unwrap();
        assert!(at > before, "layer{m}: shade {at} at the jump, up to {before} before");
    }
    assert_eq!(app.view.focus, Focus::Flags);
}

#[test]
fn clicks_read_a_cell_or_select_a_layer_and_the_wheel_moves_through_the_layers() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let click = MouseEventKind::Down(MouseButton::Left);
    let mut app = layers_app();
    open_family(&mut app, "grad_norm");
    app.update(tmon::event::Event::Resize(160, 48));
    let area = Rect::new(0, 0, 160, 48);
    let screen = text(&draw(&app, 160, 48));
    assert_eq!(app.view.cursor, None);
    // A layer's name: that layer, the cursor on the window's newest step.
    let (x, y) = find(&screen, "layer7 ");
    assert!(mouse(&mut app, click, x + 1, y));
    assert_eq!(app.view.heat_row, 7);
    assert_eq!(app.view.cursor, Some(200.0));
    let screen = text(&draw(&app, 160, 48));
    assert!(screen.contains("▸ layer7 · step 200 · "), "{screen}");
    // A cell: its layer, the step in the middle of its column, reversed on the drawn buffer.
    let (plot, _) = tmon::ui::heatmap_plot(&app, area).expect("the heatmap is drawn");
    let (_, y4) = find(&screen, "layer4 ");
    let col = 30;
    assert!(mouse(&mut app, click, plot.x + col, y4 + 1));
    assert_eq!(app.view.heat_row, 4);
    let h = app.heatmap_data(plot.width as usize).expect("its cells");
    let [lo, hi] = h.x_bounds;
    let want = lo + (hi - lo) * (col as f64 + 0.5) / plot.width as f64;
    assert_eq!(app.view.cursor, Some(want));
    assert_eq!(h.column_of(want), Some(col as usize));
    let term = draw(&app, 160, 48);
    let cell = &term.backend().buffer()[(plot.x + col, y4)];
    assert!(cell.modifier.contains(ratatui::style::Modifier::REVERSED), "the cursor's cell is marked");
    let screen = text(&term);
    let read = h.step_of(col as usize);
    assert!(screen.contains("▸ layer4 · step "), "{screen}");
    assert!((want - read).abs() < 1e-9, "the cursor reads the column's step");
    // Dragging moves the cursor along the same layer.
    assert!(mouse(&mut app, MouseEventKind::Drag(MouseButton::Left), plot.x + col + 20, y4));
    assert_eq!(app.view.heat_row, 4);
    assert!(app.view.cursor.unwrap() > want);
    // The wheel over the heatmap: the next layer down, then up (the window is not zoomed).
    assert!(mouse(&mut app, MouseEventKind::ScrollDown, plot.x + 5, y4));
    assert_eq!(app.view.heat_row, 5);
    assert!(mouse(&mut app, MouseEventKind::ScrollUp, plot.x + 5, y4));
    assert!(mouse(&mut app, MouseEventKind::ScrollUp, plot.x + 5, y4));
    assert_eq!(app.view.heat_row, 3);
    assert_eq!(app.view.zoom, None);
    // The keys go on from where the mouse left the cursor.
    app.update(key('j'));
    assert_eq!(app.view.heat_row, 4);
    // Below the rows (the step axis): a click does nothing.
    let (_, axis_y) = find(&text(&draw(&app, 160, 48)), "step     1");
    assert!(!mouse(&mut app, click, plot.x + 3, axis_y));
    assert_eq!(app.view.heat_row, 4);
}
