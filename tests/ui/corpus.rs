//! Every real log of the corpus opens and draws at 80x24 and 160x48, in the grid and as one chart,
//! with its metric names on screen. Skips with a notice when the corpus is absent (a failure then
//! under `TMON_REQUIRE_CORPUS=1`).

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::{App, Options};
use tmon::run::Run;

#[test]
fn corpus_logs_draw() {
    let Some(files) = crate::support::corpus::logs() else { return };
    let mut drawn = 0;
    for path in files {
        let run = match Run::load_file(&path, Default::default(), Default::default()) {
            Ok(run) => run,
            Err(e) => panic!("{e}"),
        };
        let mut app = App::from_runs(vec![run], Options::default());
        for (w, h) in [(80, 24), (160, 48)] {
            let screen = text(&draw(&app, w, h));
            assert!(screen.contains(" tmon "), "{}:\n{screen}", path.display());
            // Every log of the corpus has metrics: the first one's name is on screen.
            let g = app.groups().first().unwrap_or_else(|| panic!("{}: no metric", path.display()));
            let name = app.slots[0].live.run.store.name(g.members[0]);
            // Cut in the middle where it is long: its start and its end show.
            let clean = tmon::text::sanitize(name);
            let chars: Vec<char> = clean.chars().collect();
            let head: String = chars.iter().take(4).collect();
            let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
            for shown in [head, tail] {
                assert!(screen.contains(&shown), "{}: '{shown}' not on screen:\n{screen}", path.display());
            }
        }
        app.update(code(KeyCode::Enter));
        app.update(key('l'));
        app.update(key('x'));
        draw(&app, 80, 24);
        drawn += 1;
    }
    eprintln!("drew {drawn} corpus logs");
    assert!(drawn > 0);
}
