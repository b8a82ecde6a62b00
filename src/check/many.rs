//! `tmon check` on many runs: the main metrics every row shows, `--sort`, each run's status, and
//! the one table (a row a run: name, status, steps, the main metrics' last and best values, the
//! config keys that differ between runs, flags).

use super::report::{MetricRow, RunReport};
use super::text::{table, NAME_WIDTH_MAX};
use crate::analysis::names::{higher_is_better, role, Role};
use crate::analysis::sweep::{loss_rank, CrossFlag};
use crate::analysis::{FlagKind, Severity};
use crate::text::{count, elide_middle, sanitize, step, value_table};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Most differing config keys shown as columns (`--json` has every key).
pub const CONFIG_COLUMNS: usize = 8;
/// Widest config value cell, in terminal cells.
const CONFIG_WIDTH: usize = 24;
/// A run written to within this long is `live`.
const LIVE: Duration = Duration::from_secs(60);

/// The metrics every row shows: the training loss, the eval loss and the accuracy most runs
/// log (the best-named on a tie); `sort` first when it is another.
pub fn main_metrics(reports: &[RunReport], sort: Option<&str>) -> Vec<String> {
    let mut runs_with: HashMap<&str, usize> = HashMap::new();
    for r in reports {
        for m in &r.metrics {
            *runs_with.entry(m.name.as_str()).or_default() += 1;
        }
    }
    let pick = |want: &dyn Fn(&str) -> bool| -> Option<String> {
        runs_with
            .iter()
            .filter(|(n, _)| want(n))
            .max_by(|a, b| {
                a.1.cmp(b.1).then_with(|| loss_rank(b.0).cmp(&loss_rank(a.0))).then_with(|| b.0.cmp(a.0))
            })
            .map(|(n, _)| (*n).to_owned())
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(s) = sort {
        out.push(s.to_owned());
    }
    let eval_acc = |n: &str| role(n) == Role::Accuracy && crate::analysis::names::is_eval(n);
    let any_acc = |n: &str| role(n) == Role::Accuracy;
    for m in [
        pick(&|n| role(n) == Role::TrainLoss),
        pick(&|n| role(n) == Role::EvalLoss),
        pick(&eval_acc).or_else(|| pick(&any_acc)),
    ]
    .into_iter()
    .flatten()
    {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// The best value of a metric: the lowest, or the highest when higher is better.
pub fn best(m: &MetricRow) -> Option<f64> {
    if higher_is_better(&m.name) == Some(true) {
        m.max
    } else {
        m.min
    }
}

/// Orders `idx` (positions in `reports`) by `metric`'s best value, best first; runs without it
/// (or with no finite best) last, in their order.
pub fn sort_by_metric(idx: &mut [usize], reports: &[RunReport], metric: &str) {
    let higher = higher_is_better(metric) == Some(true);
    let key = |i: &usize| -> Option<f64> {
        let m = reports[*i].metrics.iter().find(|m| m.name == metric)?;
        best(m).filter(|x| x.is_finite())
    };
    idx.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let o = x.total_cmp(&y);
            if higher {
                o.reverse()
            } else {
                o
            }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// A run's status for the table: what its format records (MLflow, W&B), else what its flags say
/// (`crashed`, `stopped`, `stalled`), else how long ago its file was written (`live` within a
/// minute, `quiet` within `run_stopped.min_seconds`, `ended` after).
pub fn status(r: &RunReport, cross: &[&CrossFlag], silent: Option<Duration>, quiet: Duration) -> String {
    if let Some(s) = &r.status {
        return sanitize(&s.to_lowercase()).into_owned();
    }
    if r.flags.iter().any(|f| f.kind == "crash") {
        return "crashed".to_owned();
    }
    if cross.iter().any(|c| c.flag.kind == FlagKind::RunStopped) {
        return "stopped".to_owned();
    }
    match silent {
        Some(s) if s < LIVE => "live".to_owned(),
        Some(s) if s < quiet => "quiet".to_owned(),
        _ if r
            .flags
            .iter()
            .any(|f| f.kind == FlagKind::Stall.as_str() && f.severity >= Severity::Warning) =>
        {
            "stalled".to_owned()
        }
        _ => "ended".to_owned(),
    }
}

/// Flags by severity, worst first: `1 critical, 2 warning`; `-` for none.
fn flag_counts(r: &RunReport, cross: &[&CrossFlag]) -> String {
    let mut n = [0u64; 3];
    for s in r.flags.iter().map(|f| f.severity).chain(cross.iter().map(|c| c.flag.severity)) {
        n[s as usize] += 1;
    }
    for (i, k) in r.flags_not_kept_by.iter().enumerate() {
        n[i] += k;
    }
    let parts: Vec<String> = [(2, "critical"), (1, "warning"), (0, "info")]
        .iter()
        .filter(|(i, _)| n[*i] > 0)
        .map(|(i, w)| format!("{} {w}", count(n[*i])))
        .collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One row of the table, with what it needs besides the report.
pub struct Row<'a> {
    pub report: &'a RunReport,
    pub status: String,
    pub cross: Vec<&'a CrossFlag>,
}

/// The table of many runs (ending with a newline), rows in the order given.
pub fn render_table(rows: &[Row<'_>], metrics: &[String], config_keys: &[String]) -> String {
    let shown_keys = &config_keys[..config_keys.len().min(CONFIG_COLUMNS)];
    let mut header: Vec<String> = vec!["name".into(), "status".into(), "steps".into()];
    for m in metrics {
        let m = elide_middle(&sanitize(m), NAME_WIDTH_MAX / 2);
        header.push(format!("{m} last"));
        header.push(format!("{m} best"));
    }
    for k in shown_keys {
        header.push(elide_middle(&sanitize(k), CONFIG_WIDTH));
    }
    header.push("flags".into());
    let mut right = vec![false, false, true];
    right.extend(std::iter::repeat_n(true, metrics.len() * 2));
    right.extend(std::iter::repeat_n(false, shown_keys.len() + 1));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let r = row.report;
            let mut c = vec![
                elide_middle(&sanitize(&r.name), NAME_WIDTH_MAX),
                row.status.clone(),
                r.last_step.map_or_else(|| "-".to_owned(), step),
            ];
            for m in metrics {
                let found = r.metrics.iter().find(|x| &x.name == m);
                let v = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), value_table);
                c.push(v(found.and_then(|x| x.last)));
                c.push(v(found.and_then(best)));
            }
            for k in shown_keys {
                c.push(
                    r.config
                        .get(k)
                        .map_or_else(|| "-".to_owned(), |v| elide_middle(&sanitize(v), CONFIG_WIDTH)),
                );
            }
            c.push(flag_counts(r, &row.cross));
            c
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut o = table(&header_refs, &cells, &right);
    if config_keys.len() > shown_keys.len() {
        let _ = writeln!(
            o,
            "    ... and {} more config keys that differ (--json lists every run's config)",
            count((config_keys.len() - shown_keys.len()) as u64)
        );
    }
    o
}
