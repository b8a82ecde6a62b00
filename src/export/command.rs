//! `tmon export`: reads logs as `tmon check` does, picks the metrics a regex matches, and writes
//! their charts (one image, a grid when there are several) or their values (CSV).
//!
//! Charts: one per matched metric, an eval metric with its train metric when both match (as the
//! monitor pairs them); several runs are overlaid, one line per run, on the union of their x
//! ranges. The image's charts are drawn from the chart engine exactly as the monitor draws them.

use super::figure::{self, Figure, Panel, Source};
use super::{csv, ExportError, Format};
use crate::analysis::names::{is_eval, pair_of};
use crate::chart::{self, XAxis};
use crate::check::paths;
use crate::cli::{ExportArgs, ReadArgs};
use crate::run::Run;
use crate::store::SeriesId;
use crate::text::sanitize;
use std::io::Write;
use std::path::PathBuf;

/// At most this many charts in one image: beyond, each is too small to read.
pub const MAX_CHARTS: usize = 24;

/// What `tmon export` wrote.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub format: Format,
    /// Charts in the image, or rows in the CSV.
    pub count: u64,
}

/// Runs `tmon export`; notes (lines the logs could not read) go to `err`.
pub fn run(args: &ExportArgs, read: &ReadArgs, err: &mut dyn Write) -> Result<Written, ExportError> {
    let usage = |m: String| ExportError::Tmon(crate::Error::Usage(m));
    let format = Format::of(&args.output).ok_or_else(|| {
        usage(format!(
            "-o '{}': the file name must end in .svg, .png or .csv (it chooses the format)",
            args.output.display()
        ))
    })?;
    let cfg = read.flag_config()?;
    let smoother = args.smoother()?;
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(usage(format!("--from {from} is after --to {to}")));
        }
    }
    let re =
        regex::RegexBuilder::new(&args.metric).case_insensitive(true).size_limit(1 << 20).build().map_err(
            |e| {
                usage(format!(
                    "--metric '{}': {}",
                    args.metric,
                    e.to_string().lines().last().unwrap_or("").trim()
                ))
            },
        )?;

    let runs = load(&args.paths, read, &cfg)?;
    for run in &runs {
        let skipped = run.store.skipped.count;
        if skipped > 0 {
            let lines = if skipped == 1 { "line" } else { "lines" };
            let path = sanitize(&run.path.to_string_lossy()).into_owned();
            writeln!(err, "tmon: {path}: {skipped} {lines} could not be read (`tmon check` shows them)").ok();
        }
    }
    let run_names = crate::run::naming::run_names(&runs.iter().collect::<Vec<_>>());

    // The metrics matched, in the order they first appear.
    let mut all: Vec<&str> = Vec::new();
    for run in &runs {
        for id in run.store.ids() {
            let name = run.store.name(id);
            if !all.contains(&name) {
                all.push(name);
            }
        }
    }
    let matched: Vec<&str> = all.iter().copied().filter(|n| re.is_match(n)).collect();
    if matched.is_empty() {
        const SHOWN: usize = 40;
        let mut list: Vec<String> = all.iter().take(SHOWN).map(|n| sanitize(n).into_owned()).collect();
        if all.len() > SHOWN {
            list.push(format!("and {} more", all.len() - SHOWN));
        }
        let have = if all.is_empty() {
            "the logs hold no metric".to_owned()
        } else {
            format!("the metrics are: {}", list.join(", "))
        };
        return Err(usage(format!("no metric matches --metric '{}'; {have}", sanitize(&args.metric))));
    }

    if format == Format::Csv {
        let file = std::fs::File::create(&args.output).map_err(|e| ExportError::write(&args.output, e))?;
        let opts = csv::CsvOptions {
            x_axis: args.x.into(),
            smoother,
            from: args.from,
            to: args.to,
            with_run: runs.len() > 1,
        };
        let pairs: Vec<(&str, &Run)> = run_names.iter().map(String::as_str).zip(&runs).collect();
        let metrics: Vec<String> = matched.iter().map(|m| m.to_string()).collect();
        let rows = csv::write(std::io::BufWriter::new(file), &pairs, &metrics, &opts)
            .map_err(|e| ExportError::write(&args.output, e))?;
        return Ok(Written { path: args.output.clone(), format, count: rows });
    }

    let groups = pair(&matched);
    if groups.len() > MAX_CHARTS {
        return Err(usage(format!(
            "--metric '{}' matches {} charts; an image holds at most {MAX_CHARTS}: narrow the regex, or write CSV",
            sanitize(&args.metric),
            groups.len()
        )));
    }
    let n = groups.len();
    let (cols, rows) = figure::grid(n);
    let (dw, dh) = figure::default_size(n);
    let (width, height) = match (args.width, args.height) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (w, (w as u64 * dh as u64 / dw as u64).clamp(100, 8000) as u32),
        (None, Some(h)) => ((h as u64 * dw as u64 / dh as u64).clamp(100, 8000) as u32, h),
        (None, None) => (dw, dh),
    };
    let axis: XAxis = args.x.into();
    let mut cache = chart::Cache::default();
    let mut panels = Vec::with_capacity(n);
    for (g, group) in groups.iter().enumerate() {
        // Each run's ids of the group's metrics (a run may lack some).
        let ids: Vec<Vec<SeriesId>> =
            runs.iter().map(|r| group.iter().filter_map(|m| r.store.find(m)).collect()).collect();
        let sources: Vec<Source<'_>> = runs
            .iter()
            .enumerate()
            .filter(|(k, _)| !ids[*k].is_empty())
            .map(|(k, r)| Source {
                data: chart::Data { key: (k, 0), store: &r.store, flags: r.flags() },
                members: &ids[k],
                run: &run_names[k],
            })
            .collect();
        let (zoom, anchor) = match window(&sources, axis, args.from, args.to) {
            Ok(w) => w,
            Err(have) => {
                return Err(usage(format!(
                    "no point of {} between step {} and {}; {have}",
                    sanitize(&group.join(" and ")),
                    args.from.map_or("its first".into(), crate::text::step),
                    args.to.map_or("its last".into(), crate::text::step),
                )))
            }
        };
        let req = chart::Request {
            members: &[],
            x_axis: axis,
            zoom,
            anchor,
            width: 0,
            smoother,
            outliers: !args.no_outliers,
            log: args.log_y,
        };
        let (_, _, cw, ch) = figure::cell(g, width, height, cols, rows);
        panels.push(Panel::build(&sources, &req, (cw, ch), &mut cache));
    }
    let fig = Figure { width, height, cols, panels };
    let bytes = match format {
        Format::Svg => super::svg(&fig).map(String::into_bytes),
        _ => super::png(&fig),
    }
    .map_err(ExportError::Draw)?;
    std::fs::write(&args.output, bytes).map_err(|e| ExportError::write(&args.output, e))?;
    Ok(Written { path: args.output.clone(), format, count: n as u64 })
}

/// Every run `paths` stand for, read as `tmon check` reads them (a run two paths stand for is read
/// once); the first path that cannot be read is an error.
fn load(
    given: &[PathBuf],
    read: &ReadArgs,
    cfg: &crate::analysis::FlagConfig,
) -> Result<Vec<Run>, ExportError> {
    let mut runs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in given {
        for path in paths::expand(p)? {
            if !seen.insert(crate::formats::run_key(&path)) {
                continue;
            }
            paths::check_readable(&path)?;
            runs.extend(Run::load_all(&path, read.ingest_options(), cfg.clone())?);
        }
    }
    Ok(runs)
}

/// The charts of the matched metrics: each alone, or an eval metric with its train metric when
/// both matched (by `crate::analysis::names::pair_of`, as the monitor pairs them).
fn pair(matched: &[&str]) -> Vec<Vec<String>> {
    let mut partner: Vec<Option<usize>> = vec![None; matched.len()];
    let mut taken = vec![false; matched.len()];
    for (i, &name) in matched.iter().enumerate() {
        if !is_eval(name) {
            continue;
        }
        let Some(train) = pair_of(name, matched).and_then(|t| matched.iter().position(|&m| m == t)) else {
            continue;
        };
        if train != i && partner[train].is_none() && !taken[train] {
            partner[train] = Some(i);
            taken[i] = true;
        }
    }
    (0..matched.len())
        .filter(|&i| !taken[i])
        .map(|i| std::iter::once(i).chain(partner[i]).map(|k| matched[k].to_owned()).collect())
        .collect()
}

/// The x window `(zoom, anchor)` of the points whose step is within `[from, to]`: `(None, None)`
/// without bounds (the whole run, or the union of the runs'). An error saying which steps the
/// series have when no point is within.
fn window(
    sources: &[Source<'_>],
    axis: XAxis,
    from: Option<f64>,
    to: Option<f64>,
) -> Result<(Option<f64>, Option<f64>), String> {
    if from.is_none() && to.is_none() {
        return Ok((None, None));
    }
    let mut range: Option<(f64, f64)> = None;
    let mut steps: Option<(f64, f64)> = None;
    for s in sources {
        for &id in s.members {
            let p = super::series::Points::new(s.data.store, id, axis);
            if let Some((a, b)) = p.x_range_of_steps(from, to) {
                range = Some(range.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
            }
            let all = super::series::Points::new(s.data.store, id, XAxis::Step).x_range_of_steps(None, None);
            if let Some((a, b)) = all {
                steps = Some(steps.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
            }
        }
    }
    match range {
        Some((lo, hi)) => Ok((Some(hi - lo), Some(hi))),
        None => Err(match steps {
            Some((a, b)) => {
                format!("its steps run from {} to {}", crate::text::step(a), crate::text::step(b))
            }
            None => "it has no points".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_metrics_share_their_train_metrics_chart() {
        let got = pair(&["loss", "lr", "val_loss", "val_acc"]);
        assert_eq!(got, vec![vec!["loss", "val_loss"], vec!["lr"], vec!["val_acc"]]);
        assert_eq!(pair(&["val_loss"]), vec![vec!["val_loss"]]);
    }
}
