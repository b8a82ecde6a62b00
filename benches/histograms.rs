//! Memory of histograms (issue 16, "Tests and evidence"): 100 histograms of 64 bins each, logged
//! at 10,000 steps in the natural form, read line by line through the real parse and ingest
//! (`Run::push_line`), must stay under 100 MB. Prints the file's size (the lines are made in
//! memory, one at a time, never all at once), the time, the histograms' bytes in the store and
//! the process' peak RSS (`VmHWM`).
//!
//! Run: `cargo bench --bench histograms` (`HISTS=100 BINS=64 STEPS=10000` by default).

use std::time::Instant;
use tmon::run::Run;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

/// One step's line: a loss and `hists` histograms of a bell whose width drifts, `torch.histc`
/// style (edges from the tensor's min to its max, float32 digits, whole counts).
fn line(step: usize, hists: usize, bins: usize, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "{{\"step\": {step}, \"loss\": {}", 2.0 / (1.0 + step as f64 * 0.001));
    for h in 0..hists {
        let width = 0.02 * (1.0 + h as f64 * 0.01) * (1.0 + step as f64 * 1e-4);
        let (lo, hi) = (-3.0 * width, 3.0 * width);
        let _ = write!(out, ", \"hist/layers.{h}.weight\": {{\"bins\": [");
        for k in 0..=bins {
            let e = (lo + (hi - lo) * k as f64 / bins as f64) as f32;
            let _ = write!(out, "{}{e}", if k > 0 { ", " } else { "" });
        }
        out.push_str("], \"counts\": [");
        for k in 0..bins {
            let x = -3.0 + 6.0 * (k as f64 + 0.5) / bins as f64;
            let c = (40_000.0 * (-x * x / 2.0).exp() * (1.0 + 0.01 * ((step + k + h) % 7) as f64)).round();
            let _ = write!(out, "{}{c}", if k > 0 { ", " } else { "" });
        }
        out.push_str("]}");
    }
    out.push('}');
}

fn main() {
    let (hists, bins, steps) = (env("HISTS", 100), env("BINS", 64), env("STEPS", 10_000));
    let mut run = Run::new("bench.jsonl", Default::default(), Default::default());
    let before = peak_rss_mb();
    let t = Instant::now();
    let mut buf = String::new();
    let mut bytes = 0usize;
    for s in 0..steps {
        line(s, hists, bins, &mut buf);
        bytes += buf.len() + 1;
        run.push_line(s as u64 + 1, buf.as_bytes());
    }
    let secs = t.elapsed().as_secs_f64();
    let hs = run.store.histograms();
    let points: usize = (0..hs.len()).map(|id| run.store.histogram(id).len()).sum();
    assert_eq!(points, hists * steps, "every histogram of every step kept");
    assert_eq!(run.store.series_count(), 1, "histograms are not series");
    println!(
        "{hists} histograms x {bins} bins x {steps} steps: {:.0} MB of JSON Lines read in {secs:.1} s; \
         histograms {:.1} MB in the store ({:.0} bytes a histogram); peak RSS {:.1} MB (at start {before:.1} MB); \
         {} flags",
        bytes as f64 / 1e6,
        hs.heap_bytes() as f64 / 1e6,
        hs.heap_bytes() as f64 / points as f64,
        peak_rss_mb(),
        run.flags().len()
    );
}
