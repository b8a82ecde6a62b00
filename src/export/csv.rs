//! The values behind a chart as CSV, for scripts: one row per point, every point (not the reduced
//! chart), in the order the log wrote them.
//!
//! Columns: `run` (only when several runs are exported), `metric`, `step`, then `relative_time`
//! (seconds since the run's first record) or `wall_time` (unix seconds) when the x axis asked for
//! is a time axis (empty when the log has no time), `value` (as logged) and `smoothed` (by the
//! smoother asked for, as the chart draws it; the value itself when smoothing is off). Numbers are
//! written in full (they read back to the same `f64`), NaN and infinities as `NaN`, `Infinity`
//! and `-Infinity`.

use super::series::Points;
use crate::analysis::smooth::Smoother;
use crate::chart::XAxis;
use crate::run::Run;
use std::io::Write;

/// What the CSV holds besides the values.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// A time axis adds its column.
    pub x_axis: XAxis,
    pub smoother: Option<Smoother>,
    /// Only the points whose step is within this range (inclusive; `None`: open).
    pub from: Option<f64>,
    pub to: Option<f64>,
    /// Whether to write the `run` column.
    pub with_run: bool,
}

/// Writes the `metrics` of each `(name, run)` (those the run has) as CSV to `out`; returns how
/// many rows it wrote.
pub fn write<W: Write>(
    out: W,
    runs: &[(&str, &Run)],
    metrics: &[String],
    opts: &CsvOptions,
) -> std::io::Result<u64> {
    let mut w = ::csv::Writer::from_writer(out);
    let time_col = match opts.x_axis {
        XAxis::Step => None,
        XAxis::Relative => Some("relative_time"),
        XAxis::Wall => Some("wall_time"),
    };
    let mut header: Vec<&str> = Vec::new();
    if opts.with_run {
        header.push("run");
    }
    header.extend(["metric", "step"]);
    header.extend(time_col);
    header.extend(["value", "smoothed"]);
    w.write_record(&header)?;
    let mut rows = 0u64;
    for &(name, run) in runs {
        for metric in metrics {
            let Some(id) = run.store.find(metric) else { continue };
            let p = Points::new(&run.store, id, XAxis::Step);
            let t = Points::new(&run.store, id, opts.x_axis);
            // The smoothing of the chart on the axis asked for (only the time-weighted EMA reads x).
            let smoothed = t.smoothed(opts.smoother);
            for i in (0..p.series.len()).filter(|&i| p.in_steps(i, opts.from, opts.to)) {
                let mut rec: Vec<String> = Vec::with_capacity(6);
                if opts.with_run {
                    rec.push(name.to_owned());
                }
                rec.push(metric.clone());
                rec.push(step(p.series.step(i)));
                if time_col.is_some() {
                    rec.push(if t.axis == XAxis::Step { String::new() } else { number(t.x(i)) });
                }
                rec.push(number(p.series.value(i)));
                rec.push(number(smoothed[i]));
                w.write_record(&rec)?;
                rows += 1;
            }
        }
    }
    w.flush()?;
    Ok(rows)
}

/// A value in full: the shortest text that reads back to the same `f64`, with an exponent when
/// very large or small; `NaN`, `Infinity`, `-Infinity`.
pub fn number(x: f64) -> String {
    match crate::text::nonfinite(x) {
        Some(s) => s.to_owned(),
        None => format!("{x:?}"),
    }
}

/// A step in full: whole steps without a fraction.
fn step(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        number(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_exactly() {
        for x in [0.1, 1.0 / 3.0, 1e-300, 2.5e20, -0.0, 123456789.125] {
            assert_eq!(number(x).parse::<f64>().unwrap().to_bits(), x.to_bits(), "{x}");
        }
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(step(120.0), "120");
        assert_eq!(step(1.5), "1.5");
    }

    #[test]
    fn rows_hold_step_time_value_and_smoothed() {
        let mut run = Run::new("r.jsonl", Default::default(), Default::default());
        let text = "{\"step\": 1, \"time\": 1700000000, \"loss\": 2}\n\
                    {\"step\": 2, \"time\": 1700000001.5, \"loss\": NaN}\n\
                    {\"step\": 3, \"time\": 1700000003, \"loss\": 1}\n";
        run.push_lines(1, text.as_bytes());
        let opts = CsvOptions {
            x_axis: XAxis::Relative,
            smoother: Some(Smoother::Ema { weight: 0.5 }),
            from: Some(2.0),
            to: None,
            with_run: true,
        };
        let mut out = Vec::new();
        let rows = write(&mut out, &[("a,b", &run)], &["loss".to_owned(), "nope".to_owned()], &opts).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(rows, 2);
        // EMA 0.5 of 2 then 1 (the NaN passes, not counted): (0.5*2*0.5 + 0.5*1) / (1 - 0.25).
        let sm = (0.5 * 0.5 * 2.0 + 0.5 * 1.0) / 0.75;
        let want = format!(
            "run,metric,step,relative_time,value,smoothed\n\"a,b\",loss,2,1.5,NaN,NaN\n\"a,b\",loss,3,3.0,1.0,{sm:?}\n"
        );
        assert_eq!(text, want);
    }
}
