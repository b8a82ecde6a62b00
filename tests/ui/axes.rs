//! Stable y axes while following (issue 14, "Over SSH"): a log fed line by line through the real
//! ingest and analyzer, charted after each line as the monitor's single-chart view asks. The y
//! range, and so every tick label, changes only when a value leaves it (out to a nice bound) or
//! when the data clearly moved away from an edge, not with each noisy point; a flagged spike is
//! still shown whole.

use crate::support::ui::*;
use crossterm::event::KeyCode;
use tmon::app::App;
use tmon::event::Event;
use tmon::source::SourceEvent;

/// Points across the chart (a 160-column single chart in braille).
const WIDTH: usize = 220;

/// A noisy loss decaying slowly over `n` steps (a fixed LCG: the same every run), with `spike`
/// (step, value) written in place of one value.
fn line(s: u64, seed: &mut u64, spike: Option<(u64, f64)>) -> String {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let u = (*seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
    let mut loss = 0.4 + 2.0 * (-(s as f64) / 900.0).exp() + 0.12 * u;
    if let Some((_, v)) = spike.filter(|&(at, _)| at == s) {
        loss = v;
    }
    format!("{{\"step\": {s}, \"loss\": {loss:.5}, \"lr\": 0.001}}\n")
}

/// One frame's y bounds and tick labels.
type Frame = ([f64; 2], Vec<String>);

/// Follows a run fed one line per event; after each line, the loss chart's y bounds and the tick
/// labels the single-chart view writes for them.
fn follow(n: u64, spike: Option<(u64, f64)>) -> (App, Vec<Frame>) {
    let run = tmon::run::Run::new("follow.jsonl", Default::default(), Default::default());
    let mut app = App::from_runs(vec![run], Default::default());
    let mut seed = 7;
    let mut frames = Vec::new();
    for s in 1..=n {
        let text = line(s, &mut seed, spike);
        app.update(Event::Source(SourceEvent::Lines { file: 0, first_line: s, bytes: text.into_bytes() }));
        if s == 1 {
            app.update(code(KeyCode::Enter)); // the single chart of the selected metric, loss
        }
        let g = app.selected_group().expect("a chart").clone();
        assert_eq!(g.names[0], "loss");
        let d = app.chart_data(&g.members, WIDTH).expect("chart data");
        let ticks = tmon::chart::y_ticks(d.y_bounds[0], d.y_bounds[1], false, 9);
        frames.push((d.y_bounds, ticks));
    }
    (app, frames)
}

fn changes(frames: &[Frame], from: usize) -> usize {
    frames[from..].windows(2).filter(|w| w[0].1 != w[1].1).count()
}

#[test]
fn tick_labels_hold_still_while_a_noisy_decaying_loss_is_followed() {
    let (app, frames) = follow(3000, None);
    // After the first 50 points (the chart's first moments, when every point is news).
    let n = changes(&frames, 50);
    eprintln!("y tick labels changed {n} times over 2950 points");
    assert!(n <= 12, "the y ticks changed {n} times over 2950 points");
    // The range holds the data the outlier-aware range asks for.
    let [lo, hi] = frames.last().unwrap().0;
    assert!(lo <= 0.4 && (2.0..=3.5).contains(&hi), "{lo} {hi}");
    // The chart drawn from it: its y labels are those of the held range.
    let screen = text(&draw(&app, 160, 48));
    assert!(screen.contains("┌ loss"), "{screen}");
}

#[test]
fn a_flagged_spike_while_following_is_shown_whole_and_the_axis_settles_again() {
    let spike = (2000, 60.0);
    let (app, frames) = follow(2600, Some(spike));
    let flags = app.slots[0].run().flags();
    assert!(
        flags.iter().any(|f| f.metric == "loss" && f.step == spike.0 as f64),
        "the spike is flagged: {flags:?}"
    );
    // From the frame the spike arrived in, the range holds it: never clipped.
    for (i, (b, _)) in frames.iter().enumerate().skip(spike.0 as usize - 1) {
        assert!(b[1] >= spike.1, "frame {}: y range {b:?} clips the flagged spike", i + 1);
    }
    // And the axis moved once for it, not with every point after it.
    let n = changes(&frames, spike.0 as usize - 1);
    assert!(n <= 3, "{n} changes after the spike");
}
