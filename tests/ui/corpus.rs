//! Every real log of the corpus opens and draws at 80x24 and 160x48, in the grid and as one chart,
//! with its metric names on screen. Skips with a notice when the corpus is absent.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use std::path::Path;
use tmon::app::{App, Options};
use tmon::run::Run;

#[test]
fn corpus_logs_draw() {
    // From the main checkout; from a worktree under /work/wt the corpus is one level further up.
    let candidates = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/real"),
    ];
    let root = Path::new(candidates.iter().find(|p| Path::new(p).is_dir()).unwrap_or(&candidates[0]));
    let Ok(dirs) = std::fs::read_dir(root) else {
        eprintln!("NOTICE: {} not found; skipping the corpus UI test", root.display());
        return;
    };
    let mut files: Vec<_> = dirs
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten().map(|e| e.path()))
        .collect();
    files.sort();
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
            if let Some(g) = app.groups().first() {
                let name = app.slots[0].live.run.store.name(g.members[0]);
                let shown: String = tmon::ui::sanitize(name).chars().take(8).collect();
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
