//! The UI tests' apps: runs read from our fixture logs by the real ingest and analyzer
//! (`Run::load_file`), an app over them at a fixed clock with colour on, drawing on a
//! `TestBackend`, and key events. A change in what the ingest or the analyzer says about a
//! fixture shows up in the screens drawn from it.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::PathBuf;
use std::time::Duration;
use tmon::app::{App, Options};
use tmon::run::Run;

/// A run read from `tests/fixtures/REL` with zero configuration, named by that relative path (so
/// screens do not depend on where the checkout is).
pub fn load(rel: &str) -> Run {
    let mut run = Run::load_file(&super::fixture(rel), Default::default(), Default::default())
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    run.path = PathBuf::from("tests/fixtures").join(rel);
    run
}

/// The monitor over `runs` as a user sees it a moment after opening them: colour on, the clock 3 s
/// after the last data arrived.
pub fn app_of(runs: Vec<Run>, opts: Options) -> App {
    let mut app = App::from_runs(runs, opts);
    app.color = true;
    for slot in &mut app.slots {
        slot.last_data = Some(Duration::from_secs(10));
    }
    app.now = Duration::from_secs(13);
    app
}

/// The app on tests/fixtures/ui/train.jsonl: loss, val_loss, lr and grad_norm over 200 steps,
/// a NaN loss at step 120, a loss spike at 150 and a traceback line.
pub fn train_app() -> App {
    app_of(vec![load("ui/train.jsonl")], Options::default())
}

pub fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| tmon::ui::render(f, app)).expect("draw");
    term
}

/// The screen as text, one line per row.
pub fn text(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

pub fn key(c: char) -> tmon::event::Event {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    tmon::event::Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: crossterm::event::KeyCode) -> tmon::event::Event {
    use crossterm::event::{KeyEvent, KeyModifiers};
    tmon::event::Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The runs of the sweep fixture (tests/fixtures/ui/sweep: four learning rates, one diverging to
/// NaN, one killed early), each read from its log by the real ingest and analyzer, in the order a
/// directory scan finds them.
pub fn sweep_runs() -> Vec<Run> {
    ["lr_0.001", "lr_0.003", "lr_0.01", "lr_0.1"]
        .into_iter()
        .map(|d| {
            let mut run = load(&format!("ui/sweep/{d}/logs.jsonl"));
            // As `tmon check` and the monitor's loader read it: the config.json beside the log.
            let problems = run.read_config();
            assert!(problems.is_empty(), "{problems:?}");
            assert!(!run.info.config.is_empty(), "{d}: a config");
            run
        })
        .collect()
}

/// The monitor comparing the sweep's runs, as a user sees it a moment after opening the folder.
/// The clock has ticked once: the flags across runs are raised on the clock.
pub fn sweep_app() -> App {
    let mut app = app_of(sweep_runs(), Options::default());
    app.update(tmon::event::Event::Tick);
    app
}

/// A mouse event at `(x, y)` as the monitor's loop handles it: resolved on the screen's layout
/// (`ui::pointer`) into an action for the app. Whether the screen changed.
pub fn mouse(app: &mut App, kind: crossterm::event::MouseEventKind, x: u16, y: u16) -> bool {
    let m = crossterm::event::MouseEvent {
        kind,
        column: x,
        row: y,
        modifiers: crossterm::event::KeyModifiers::NONE,
    };
    let action = app.screen.and_then(|area| tmon::ui::pointer(app, area, &m));
    action.is_some_and(|a| app.act(a))
}

/// Where `needle` starts on the drawn screen (column, row).
pub fn find(screen: &str, needle: &str) -> (u16, u16) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            return (line[..i].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle:?} is not on the screen:\n{screen}");
}
