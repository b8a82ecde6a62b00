//! Shared helpers of the UI tests: runs built from our fixture logs, an app at a fixed clock, and
//! rendering on a `TestBackend`.
#![allow(dead_code)]

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Duration;
use tmon::analysis::{Flag, FlagKind, Severity};
use tmon::app::{App, Options};
use tmon::run::Run;
use tmon::store::RecordMeta;
use tmon::ui::Theme;

pub const T0: f64 = 1_700_000_000.0;

/// A run from a fixture under tests/fixtures/ui. The records are built here (bare `NaN` kept, a
/// clock of 2 s a step) so the screens depend on the fixture only, not on how ingest evolves; the
/// end-to-end test covers the real ingest.
pub fn fixture_run(name: &str) -> Run {
    let rel = format!("tests/fixtures/ui/{name}");
    let text = std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
    let mut run = Run::new(&rel, Default::default(), Default::default());
    for (i, line) in text.lines().enumerate() {
        let st = &mut run.store;
        let fixed = line.replace("NaN", "\"NaN\"");
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&fixed) {
            Ok(map) => {
                let step = map.get("step").and_then(|v| v.as_f64()).unwrap_or(i as f64);
                let rec = st.begin_record(RecordMeta { step, time: T0 + 2.0 * step, line: i as u64 + 1 });
                for (k, v) in &map {
                    let x = match v {
                        serde_json::Value::String(s) if s == "NaN" => f64::NAN,
                        v => match v.as_f64() {
                            Some(x) => x,
                            None => continue,
                        },
                    };
                    if k != "step" {
                        let id = st.intern(k);
                        st.push(rec, id, x);
                    }
                }
            }
            Err(e) => st.skipped.push(i as u64 + 1, format!("not JSON: {e}"), line.as_bytes()),
        }
    }
    run
}

/// The flags the detectors would raise on train.jsonl (raised by hand: the detectors are tested
/// in their own module).
pub fn raise_train_flags(run: &mut Run) {
    let flag = |kind, severity, metric: &str, step, message: &str| Flag {
        kind,
        severity,
        metric: metric.into(),
        step,
        message: message.into(),
    };
    run.analyzer.raise(flag(FlagKind::LrAnomaly, Severity::Info, "lr", 20.0, "warmup ended at 1e-3"));
    run.analyzer.raise(flag(FlagKind::Nonfinite, Severity::Critical, "loss", 120.0, "loss is NaN"));
    run.analyzer.raise(flag(
        FlagKind::Spike,
        Severity::Warning,
        "loss",
        150.0,
        "loss jumped to 9 (20x its median)",
    ));
}

/// The app on train.jsonl with its flags, colour on, the clock 3 s after the last data.
pub fn train_app() -> App {
    let mut run = fixture_run("train.jsonl");
    raise_train_flags(&mut run);
    let mut app = App::from_runs(vec![run], Options::default());
    app.theme = Theme { color: true };
    app.slots[0].last_data = Some(Duration::from_secs(10));
    app.now = Duration::from_secs(13);
    app
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
