//! The `e` key: the selected chart, as the view shows it, written to an SVG and a PNG through the
//! app and the loop's handler (`tmon::monitor::hand_off_export`, which writes on a thread and
//! reports back with an event), in a directory of the test's; the footer says what was written,
//! or why nothing was.

use crate::support::ui::*;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tmon::app::App;
use tmon::event::Event;

/// The footer's line as drawn at 120x30.
fn footer(app: &App) -> String {
    text(&draw(app, 120, 30)).lines().last().unwrap_or("").to_owned()
}

/// Presses `e` and runs the loop's handler with `dir` as the directory; returns the event the
/// writing thread sent, already applied to the app.
fn export_to(app: &mut App, dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    assert!(app.update(key('e')));
    let (tx, rx) = mpsc::channel();
    tmon::monitor::hand_off_export(app, dir, &tx);
    assert!(app.take_export().is_none(), "the handler took the job");
    let ev = rx.recv_timeout(Duration::from_secs(60)).expect("the export reports back");
    let Event::Exported(result) = &ev else { panic!("not an export's event: {ev:?}") };
    let result = result.clone();
    assert!(app.update(ev), "the footer changes");
    result
}

#[test]
fn the_key_writes_the_chart_as_shown_to_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = train_app();
    // Smoothing one step up (EMA 0.7), log y, zoomed in on the last half of the run.
    for c in ['s', 'l', '+'] {
        app.update(key(c));
    }
    assert!(app.update(key('e')));
    assert!(footer(&app).contains("writing tmon-loss-200.svg and .png…"), "{}", footer(&app));
    let job = app.take_export().expect("a job for the loop");
    assert_eq!(job.stem, "tmon-loss-200");
    // What the job draws is what the chart engine gives the screen for this view.
    let panel = &job.figure.panels[0];
    assert_eq!(panel.title, "loss · val_loss");
    assert!(
        panel.x_bounds[0] > 99.0 && panel.x_bounds[1] == 200.0,
        "the zoomed window: {:?}",
        panel.x_bounds
    );
    assert!(panel.log_y && panel.smoothed);

    let paths = export_to(&mut app, dir.path()).expect("written");
    let names: Vec<String> =
        paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["tmon-loss-200.svg", "tmon-loss-200.png"]);
    assert!(footer(&app).contains("wrote tmon-loss-200.svg and tmon-loss-200.png"), "{}", footer(&app));

    let svg = std::fs::read_to_string(dir.path().join("tmon-loss-200.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG parses");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(texts.contains(&"loss · val_loss"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("EMA 0.7 · log y") && t.ends_with("ui/train.jsonl")),
        "{texts:?}"
    );
    // The x ticks are within the zoomed window; the NaN at step 120 is flagged in it.
    let x_ticks: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("middle"))
        .filter_map(|n| n.text()?.trim().parse().ok())
        .collect();
    assert!(x_ticks.len() >= 3 && x_ticks.iter().all(|&x| x >= 100.0), "{x_ticks:?}");
    assert!(doc.descendants().any(|n| n.has_tag_name("polygon") && n.attribute("fill") == Some("#C62828")));
    let png = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(dir.path().join("tmon-loss-200.png")).unwrap(),
    ));
    let info = png.read_info().expect("the PNG decodes");
    assert_eq!((info.info().width, info.info().height), (1000, 600));

    // Again: new names, the first files left as they are.
    let before = std::fs::read(dir.path().join("tmon-loss-200.svg")).unwrap();
    let paths = export_to(&mut app, dir.path()).expect("written");
    assert_eq!(paths[0].file_name().unwrap(), "tmon-loss-200-2.svg");
    assert_eq!(std::fs::read(dir.path().join("tmon-loss-200.svg")).unwrap(), before);
    // The next key gives the footer its hints back.
    app.update(key('j'));
    assert!(footer(&app).contains("q quit"), "{}", footer(&app));
}

#[test]
fn a_directory_that_cannot_be_written_is_told_in_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = train_app();
    let err = export_to(&mut app, &dir.path().join("gone")).unwrap_err();
    assert_eq!(err, "cannot write tmon-loss-200.svg: the directory does not exist");
    let line = footer(&app);
    assert!(
        line.contains("export failed: cannot write tmon-loss-200.svg: the directory does not exist"),
        "{line}"
    );
    // A read-only directory (root writes anywhere: only checked for other users).
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        let err = export_to(&mut app, dir.path()).unwrap_err();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(err.ends_with("permission denied"), "{err}");
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was written");
}
