//! Figures drawn from runs read by the real ingest: what a log can put in a chart (names with
//! markup and control characters, a series with no finite value, a restarted run) still makes an
//! SVG that parses and a PNG of the size asked for.

use super::{png, svg, Figure, Panel, Source};
use crate::chart::{self, XAxis};
use crate::run::Run;

fn run(text: &str) -> Run {
    let mut run = Run::new("r.jsonl", Default::default(), Default::default());
    run.push_lines(1, text.as_bytes());
    run
}

/// The figure of series `ids` of `run` alone, `w` x `h`, smoothed as the monitor does by default.
fn figure(run: &Run, ids: &[usize], w: u32, h: u32) -> Figure {
    let req = chart::Request {
        members: &[],
        x_axis: XAxis::Step,
        zoom: None,
        anchor: None,
        width: 0,
        smoother: Some(Default::default()),
        outliers: true,
        log: false,
    };
    let data = chart::Data { key: (0, 0), store: &run.store, flags: run.flags() };
    let src = Source { data, members: ids, run: "r.jsonl" };
    let panel = Panel::build(&[src], &req, (w, h), &mut chart::Cache::default());
    Figure { width: w, height: h, cols: 1, panels: vec![panel] }
}

fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_owned())
        .collect()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = ::png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("the PNG decodes");
    (reader.info().width, reader.info().height)
}

#[test]
fn names_with_markup_and_control_characters_are_drawn_as_text() {
    let name = "a<b>&\\\"c'\\u001b[31m";
    let text: String =
        (1..=30).map(|s| format!("{{\"step\": {s}, \"{name}\": {}}}\n", 1.0 / s as f64)).collect();
    let run = run(&text);
    let fig = figure(&run, &[0], 800, 500);
    let t = texts(&svg(&fig).unwrap());
    // The escape character is shown, never sent; the markup is text.
    assert!(t.iter().any(|x| x == "a<b>&\"c'\\x1b[31m"), "{t:?}");
    assert_eq!(png_size(&png(&fig).unwrap()), (800, 500));
}

#[test]
fn a_series_with_no_finite_value_says_so() {
    let run = run("{\"step\": 1, \"loss\": NaN}\n{\"step\": 2, \"loss\": Infinity}\n");
    let fig = figure(&run, &[0], 640, 400);
    let t = texts(&svg(&fig).unwrap());
    assert!(t.iter().any(|x| x == "no data in this window"), "{t:?}");
    assert!(t.iter().any(|x| x == "NaN / Infinity"), "{t:?}");
    assert_eq!(png_size(&png(&fig).unwrap()), (640, 400));
}

#[test]
fn a_restarted_run_is_drawn_one_line_per_attempt_at_the_plot_width() {
    let mut text = String::new();
    for (from, to, base) in [(1, 3001, 10.0), (1500, 4001, 20.0)] {
        for step in from..to {
            text.push_str(&format!("{{\"step\": {step}, \"loss\": {}}}\n", base + (step % 7) as f64));
        }
    }
    let run = run(&text);
    let fig = figure(&run, &[0], 1000, 600);
    let p = &fig.panels[0];
    assert_eq!((p.lines.len(), p.lines[0].raw.len(), p.lines[0].smooth.len()), (1, 2, 2));
    // The chart engine reduced each line to the plot's width: at most two points a column.
    let w = p.plot_width as usize;
    assert!(w > 800 && w < 1000, "{w}");
    for part in p.lines[0].raw.iter().chain(&p.lines[0].smooth) {
        assert!(part.len() <= 2 * w + 2, "{} points for {w} columns", part.len());
    }
    let doc = svg(&fig).unwrap();
    roxmltree::Document::parse(&doc).expect("the SVG parses");
}
