//! `tmon export` through the binary: charts as SVG (read back with an XML parser: the series, the
//! axis labels, the flag and NaN marks where the steps are) and PNG (decoded: the size asked for,
//! the series' colours), values as CSV (read back: what `tmon check --json` reports), several
//! runs, and the usage errors.

use crate::support::cli::{json, tmon, Ran};
use crate::support::fixture;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn export(args: &[&str]) -> Ran {
    let mut argv = vec!["export"];
    argv.extend_from_slice(args);
    tmon(argv, LIMIT)
}

fn ok(ran: &Ran) {
    assert_eq!(ran.code, Some(0), "tmon export failed: {}", ran.stderr);
}

/// The fixture every test draws: loss, val_loss, lr and grad_norm over steps 1 to 200, a NaN loss at
/// step 120 (a critical flag), a loss spike at 150 (a warning) and a traceback line.
fn train() -> String {
    fixture("ui/train.jsonl").to_string_lossy().into_owned()
}

/// A text element of an SVG: what it says, where, and how it is anchored.
#[derive(Debug)]
struct Text {
    text: String,
    x: f64,
    anchor: String,
}

fn texts(doc: &roxmltree::Document) -> Vec<Text> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| Text {
            text: n.text().unwrap_or("").trim().to_owned(),
            x: n.attribute("x").and_then(|v| v.parse().ok()).unwrap_or(f64::NAN),
            anchor: n.attribute("text-anchor").unwrap_or("").to_owned(),
        })
        .collect()
}

/// The points of a `points="x,y x,y"` attribute.
fn points(node: roxmltree::Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|p| p.split_once(','))
        .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
        .collect()
}

/// The pixel x of `step` on the x axis, from the positions of two of its tick labels.
fn x_of(texts: &[Text], step: f64, (a, b): (f64, f64)) -> f64 {
    let at = |v: f64| {
        let label = tmon::text::step(v);
        texts
            .iter()
            .find(|t| t.text == label && t.anchor == "middle")
            .unwrap_or_else(|| panic!("no x tick {label}"))
            .x
    };
    let (xa, xb) = (at(a), at(b));
    xa + (xb - xa) * (step - a) / (b - a)
}

#[test]
fn an_svg_holds_the_series_the_axis_labels_and_the_marks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loss.svg");
    let ran = export(&[&train(), "--metric", "loss", "-o", out.to_str().unwrap()]);
    ok(&ran);
    assert!(ran.stderr.contains("1 line could not be read"), "the traceback line is told: {}", ran.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG parses as XML");
    let svg = doc.root_element();
    assert_eq!((svg.attribute("width"), svg.attribute("height")), (Some("1000"), Some("600")));
    let t = texts(&doc);
    let said = |s: &str| t.iter().any(|x| x.text == s);
    // The title (loss and its eval partner), the notes, the legend, the axis name.
    assert!(said("loss · val_loss"), "{t:?}");
    // The run's name as `check` gives it (`train.jsonl` is a framework's fixed name: the folder).
    // Nothing clipped: the spike at step 150 is flagged, and a flagged point is always framed.
    assert!(said("EMA 0.6 · ui"), "{t:?}");
    for s in ["loss", "val_loss", "NaN / Infinity", "critical flag", "warning flag", "step"] {
        assert!(said(s), "no '{s}' in {t:?}");
    }
    // Axis labels in the terminal's formatting: steps as steps, values by `text::value`.
    for s in ["50", "100", "150", "200", "2", "4", "6", "8"] {
        assert!(said(s), "no tick label '{s}' in {t:?}");
    }
    // The series: each smoothed line bright over its raw line in a faint tint of its colour, in
    // the plot's width of points at most (the chart engine's reduction: two per column).
    let lines: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("polyline")).collect();
    let stroke = |c: &str| {
        lines.iter().filter(|n| n.attribute("stroke") == Some(c)).map(|n| points(*n)).collect::<Vec<_>>()
    };
    let (loss, val) = (stroke("#1F77B4"), stroke("#FF7F0E"));
    let (loss_raw, val_raw) = (stroke("#A6C9E1"), stroke("#FFCC9F"));
    // (The legend draws a short sample of each bright line too.)
    assert_eq!((loss.len(), val.len(), loss_raw.len(), val_raw.len()), (2, 2, 1, 1));
    assert!(loss_raw[0].len() > 150 && loss_raw[0].len() <= 2 * 1000, "{} raw points", loss_raw[0].len());
    assert_eq!(val_raw[0].len(), 10, "val_loss has ten points");
    // A flag at the top edge over step 120 (the NaN loss: critical) and one over 150 (the spike).
    let polys: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("polygon")).collect();
    let marks = |fill: &str| -> Vec<f64> {
        polys
            .iter()
            .filter(|n| n.attribute("fill") == Some(fill))
            .map(|n| points(*n).iter().map(|p| p.0).sum::<f64>() / 3.0)
            .collect()
    };
    let ticks = (100.0, 150.0);
    let near = |xs: &[f64], step: f64| xs.iter().any(|x| (x - x_of(&t, step, ticks)).abs() <= 2.0);
    assert!(near(&marks("#C62828"), 120.0), "no critical flag at step 120: {:?}", marks("#C62828"));
    assert!(near(&marks("#E69100"), 150.0), "no warning flag at step 150: {:?}", marks("#E69100"));
    // The NaN at step 120 as a × (two strokes) on the bottom edge.
    let crosses: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#C62828"))
        .map(|n| {
            (n.attribute("x1").unwrap().parse::<f64>().unwrap()
                + n.attribute("x2").unwrap().parse::<f64>().unwrap())
                / 2.0
        })
        .collect();
    assert!(near(&crosses, 120.0), "no NaN mark at step 120: {crosses:?}");
}

#[test]
fn a_png_decodes_at_the_size_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chart.png");
    ok(&export(&[
        &train(),
        "-m",
        "^grad_norm$",
        "--width",
        "640",
        "--height",
        "400",
        "-o",
        out.to_str().unwrap(),
    ]));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("its pixels");
    assert_eq!((info.width, info.height), (640, 400));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    // The smoothed line in its colour (blue), on white.
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    let close = |p: &[u8], c: [u8; 3]| p.iter().zip(c).all(|(a, b)| (*a as i32 - b as i32).abs() <= 12);
    let blue = px.iter().filter(|p| close(p, [31, 119, 180])).count();
    let white = px.iter().filter(|p| close(p, [255, 255, 255])).count();
    assert!(blue > 500, "{blue} pixels of the series' colour");
    assert!(white > px.len() / 2, "a white ground");
    // One side alone keeps the default's proportions.
    let out = dir.path().join("wide.PNG");
    ok(&export(&[&train(), "-m", "^lr$", "--width", "2000", "-o", out.to_str().unwrap()]));
    let reader =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (2000, 1200));
}

/// The CSV's rows, by column name.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("read the CSV");
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn num(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or_else(|_| panic!("not a number: {s}")),
    }
}

#[test]
fn a_csv_holds_what_check_reports() {
    let dir = tempfile::tempdir().unwrap();
    for log in [train(), fixture("nan-tokens.jsonl").to_string_lossy().into_owned()] {
        let out = dir.path().join("values.csv");
        ok(&export(&[&log, "-m", ".", "-o", out.to_str().unwrap()]));
        let (header, rows) = csv_rows(&out);
        assert_eq!(header, ["metric", "step", "value", "smoothed"]);
        let report = json(&tmon(["check", "--json", &log], LIMIT));
        let metrics = report["runs"][0]["metrics"].as_array().unwrap();
        assert!(!metrics.is_empty());
        for m in metrics {
            let name = m["name"].as_str().unwrap();
            let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == name).collect();
            assert_eq!(mine.len() as u64, m["points"].as_u64().unwrap(), "{name}: one row per point");
            let nonfinite = mine.iter().filter(|r| !num(&r[2]).is_finite()).count();
            assert_eq!(nonfinite as u64, m["nonfinite"].as_u64().unwrap(), "{name}");
            let last = mine.last().unwrap();
            let json_num = |v: &serde_json::Value| v.as_f64().unwrap_or_else(|| num(v.as_str().unwrap()));
            assert_eq!(num(&last[1]), json_num(&m["last_step"]), "{name}");
            let (value, want) = (num(&last[2]), json_num(&m["last"]));
            assert!(value == want || (value.is_nan() && want.is_nan()), "{name}: last {value} != {want}");
            // check's smoothed last is TensorBoard's EMA 0.6 too, from the series' tail.
            let (sm, want) = (num(&last[3]), json_num(&m["smoothed_last"]));
            assert!(
                (sm - want).abs() <= 1e-9 * want.abs().max(1.0) || (sm.is_nan() && want.is_nan()),
                "{name}: {sm} {want}"
            );
        }
    }
}

#[test]
fn several_files_give_one_line_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    for (name, scale) in [("lr_1e-3", 1.0), ("lr_1e-4", 2.0)] {
        let run = dir.path().join(name);
        std::fs::create_dir(&run).unwrap();
        let text: String =
            (1..=50).map(|s| format!("{{\"step\": {s}, \"loss\": {}}}\n", scale / s as f64)).collect();
        std::fs::write(run.join("logs.jsonl"), text).unwrap();
        logs.push(run.join("logs.jsonl").to_string_lossy().into_owned());
    }
    let svg = dir.path().join("sweep.svg");
    ok(&export(&[&logs[0], &logs[1], "-m", "loss", "--log-y", "-o", svg.to_str().unwrap()]));
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let t = texts(&doc);
    assert!(t.iter().any(|x| x.text == "lr_1e-3") && t.iter().any(|x| x.text == "lr_1e-4"), "{t:?}");
    // A log axis over values from 0.02 to 2 (outliers clipped): 1, 2 and 5 times powers of ten,
    // labelled as the terminal writes them.
    assert!(t.iter().any(|x| x.text == "0.02") && t.iter().any(|x| x.text == "0.1"), "{t:?}");
    assert!(t.iter().any(|x| x.text == "EMA 0.6 · log y · outliers clipped"), "{t:?}");
    let bright = |c: &str| {
        doc.descendants().filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(c)).count()
    };
    assert!(bright("#1F77B4") >= 1 && bright("#FF7F0E") >= 1, "one colour per run");

    let csv = dir.path().join("sweep.csv");
    ok(&export(&[
        &logs[0],
        &logs[1],
        "-m",
        "^loss$",
        "--smoothing",
        "0",
        "--from",
        "10",
        "--to",
        "19",
        "-o",
        csv.to_str().unwrap(),
    ]));
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header, ["run", "metric", "step", "value", "smoothed"]);
    assert_eq!(rows.len(), 20, "ten steps of two runs");
    assert_eq!((rows[0][0].as_str(), rows[10][0].as_str()), ("lr_1e-3", "lr_1e-4"));
    assert!(rows.iter().all(|r| r[3] == r[4]), "smoothing 0 writes the values");
    assert_eq!(num(&rows[19][3]), 2.0 / 19.0);
}

#[test]
fn a_time_axis_reads_as_clock_times() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wall.svg");
    let log = fixture("iso-time.jsonl");
    ok(&export(&[log.to_str().unwrap(), "-m", "loss", "--x", "wall", "-o", out.to_str().unwrap()]));
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let t = texts(&doc);
    assert!(t.iter().any(|x| x.text == "wall time (UTC), 2024-03-01"), "{t:?}");
    let clock = t
        .iter()
        .filter(|x| x.anchor == "middle" && x.text.len() >= 5 && x.text.as_bytes()[2] == b':')
        .count();
    assert!(clock >= 2, "clock-time ticks: {t:?}");
    let out = dir.path().join("rel.csv");
    ok(&export(&[log.to_str().unwrap(), "-m", "loss", "--x", "relative", "-o", out.to_str().unwrap()]));
    let (header, rows) = csv_rows(&out);
    assert_eq!(header[2], "relative_time");
    assert_eq!((num(&rows[0][2]), num(&rows[1][2])), (0.0, 30.5));
}

#[test]
fn usage_errors_exit_2_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.svg");
    let out = out.to_str().unwrap();
    let ran = export(&[&train(), "-m", "accuracy", "-o", out]);
    assert_eq!(ran.code, Some(2));
    assert!(
        ran.stderr.contains(
            "no metric matches --metric 'accuracy'; the metrics are: loss, lr, grad_norm, val_loss"
        ),
        "{}",
        ran.stderr
    );
    let cases: [(&[&str], &str); 6] = [
        (&["-m", "loss", "-o", "x.txt"], "must end in .svg, .png or .csv"),
        (&["-m", "(", "-o", out], "--metric '('"),
        (&["-m", "loss", "--from", "50", "--to", "10", "-o", out], "--from 50 is after --to 10"),
        (
            &["-m", "loss", "--from", "500", "-o", out],
            "no point of loss and val_loss between step 500 and its last; its steps run from 1 to 200",
        ),
        (&["-m", "loss", "--smoothing", "2", "-o", out], "from 0 to 0.999"),
        (&["-m", "loss", "-o", "/nonexistent-dir/x.png"], "cannot write '/nonexistent-dir/x.png'"),
    ];
    for (args, want) in cases {
        let mut argv = vec![train()];
        argv.extend(args.iter().map(|s| s.to_string()));
        let ran = export(&argv.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(want), "{args:?}: {}", ran.stderr);
    }
    let ran = export(&["no/such.jsonl", "-m", "loss", "-o", out]);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("cannot read 'no/such.jsonl'"), "{}", ran.stderr);
    assert!(!Path::new(out).exists(), "nothing is written on an error");
}

#[test]
fn many_metrics_make_a_grid_in_one_image() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.svg");
    ok(&export(&[&train(), "-m", ".", "-o", out.to_str().unwrap()]));
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let t = texts(&doc);
    // loss with val_loss, lr, grad_norm: three charts side by side, 640 pixels each.
    for title in ["loss · val_loss", "lr", "grad_norm"] {
        assert!(t.iter().any(|x| x.text == title && x.anchor == "start"), "no chart '{title}'");
    }
    assert_eq!(doc.root_element().attribute("width"), Some("1920"));
}
