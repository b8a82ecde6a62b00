//! Flags across runs: a sweep tells what normal looks like, so a run is compared with its
//! siblings (the other runs that log the same training loss against the same step key, at least
//! `compare.min_runs` of them). Two kinds, documented with their thresholds in `docs/flags.md`:
//!
//! - `run_outlier`: the run's training loss is far above its siblings' at the same steps. Each
//!   run's loss is reduced to means of log(loss) in buckets of steps (a power-of-two width, at
//!   most [`BUCKETS`] buckets; the width of the coarsest run is used for all, so buckets align
//!   exactly). At each bucket the run's level is compared with the median of its siblings'
//!   levels: the rise must be at least `run_outlier.ratio` times and `run_outlier.z` robust
//!   standard deviations (1.4826 x the MAD of the siblings' levels, in log space, the run itself
//!   left out), at `run_outlier.persist` aligned buckets in a row. A bucket where most of the
//!   run's losses are NaN or infinite is infinitely far above finite siblings (critical). Only
//!   the upward side counts: a run better than its siblings is not a problem.
//! - `run_stopped`: the run stopped while its siblings went on (crashed, or stalled), told with
//!   its last step. By steps: its last step is below `(1 - run_stopped.behind)` x the median
//!   last step of its siblings, most of which (two at least) got to that point or beyond. By the wall clock (for live runs:
//!   the time since records last arrived; for `tmon check`, since the file was last written): it
//!   has been silent `run_stopped.factor` times longer than its siblings (median) while most of
//!   them went past its last step. Never for a run written to within `run_stopped.min_seconds`
//!   (it is still going, however far behind: a sweep's latest trial), nor for a run whose format
//!   says it finished (MLflow's `FINISHED`, W&B's exit code 0).
//!
//! The result is a fresh list each call, deterministic for the same runs: [`compare`] on runs in
//! memory (the monitor), [`compare_digests`] on [`RunDigest`]s, the compact form `tmon check`
//! keeps of each run after dropping its store (a few kB a run).

use super::flags::{Flag, FlagConfig, FlagKind, Severity};
use super::names::{role, Role};
use crate::run::Run;
use crate::store::SeriesId;
use crate::text::{count, duration, step as fmt_step, times};
use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Most buckets a run's loss is reduced to.
pub const BUCKETS: usize = 1024;
/// Training-loss series kept per run, best first ([`loss_rank`]).
pub const LOSSES_KEPT: usize = 4;
/// Above this many siblings the run itself is counted in the median and MAD (one value moves
/// neither by much then, and leaving it out would cost a sort per run and bucket).
const LEAVE_ONE_OUT_MAX: usize = 32;
/// The smallest spread a bucket's levels are given (log space), so identical siblings do not
/// make a z-score infinite: the ratio threshold decides there.
const SIGMA_MIN: f64 = 1e-9;

/// One cross-run flag: the run it is about (its index among the runs compared, and its name),
/// and the flag itself.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossFlag {
    pub run: usize,
    pub name: String,
    pub flag: Flag,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    sum: f64,
    finite: u32,
    nonfinite: u32,
    /// The first step seen in the bucket.
    first: f64,
}

impl Bucket {
    fn is_empty(&self) -> bool {
        self.finite + self.nonfinite == 0
    }

    fn add(&mut self, step: f64, log: Option<f64>) {
        if self.is_empty() || step < self.first {
            self.first = step;
        }
        match log {
            Some(l) => {
                self.sum += l;
                self.finite += 1;
            }
            None => self.nonfinite += 1,
        }
    }

    fn merge(&mut self, o: &Bucket) {
        if o.is_empty() {
            return;
        }
        if self.is_empty() || o.first < self.first {
            self.first = o.first;
        }
        self.sum += o.sum;
        self.finite += o.finite;
        self.nonfinite += o.nonfinite;
    }

    /// Mean log(loss); +inf when most values were NaN or infinite.
    fn level(&self) -> Option<f64> {
        if self.is_empty() {
            None
        } else if self.nonfinite >= self.finite {
            Some(f64::INFINITY)
        } else {
            Some(self.sum / self.finite as f64)
        }
    }
}

/// One training-loss series, reduced to bucket means of log(loss).
#[derive(Clone, Debug)]
pub struct Profile {
    pub metric: String,
    /// Steps per bucket: a power of two.
    width: f64,
    buckets: Vec<Bucket>,
    /// The step of the last point (the series' last, not its largest).
    pub last_step: f64,
    /// A value below zero was seen: not a loss log space can hold; the series is not compared.
    negative: bool,
}

impl Profile {
    fn new(metric: &str) -> Self {
        Profile {
            metric: metric.to_owned(),
            width: 1.0 / 1024.0,
            buckets: Vec::new(),
            last_step: f64::NAN,
            negative: false,
        }
    }

    fn push(&mut self, step: f64, value: f64) {
        if !step.is_finite() || step < 0.0 {
            return;
        }
        self.last_step = step;
        if value < 0.0 {
            self.negative = true;
        }
        let mut i = (step / self.width).floor();
        while i >= BUCKETS as f64 {
            self.widen();
            i = (step / self.width).floor();
        }
        let i = i as usize;
        if i >= self.buckets.len() {
            self.buckets.resize(i + 1, Bucket::default());
        }
        // A loss of exactly 0 sits far below everything (never above its siblings).
        let log = value.is_finite().then(|| value.max(f64::MIN_POSITIVE).ln());
        self.buckets[i].add(step, log);
    }

    /// Whether the series can be compared: it has points, none below zero.
    fn usable(&self) -> bool {
        !self.negative && !self.buckets.is_empty()
    }

    /// Doubles the bucket width, merging pairs.
    fn widen(&mut self) {
        let merged: Vec<Bucket> = self
            .buckets
            .chunks(2)
            .map(|c| {
                let mut b = c[0];
                if let Some(o) = c.get(1) {
                    b.merge(o);
                }
                b
            })
            .collect();
        self.buckets = merged;
        self.width *= 2.0;
    }

    /// The buckets at a width `w` (a power of two, at least this profile's): borrowed at its own.
    fn at_width(&self, w: f64) -> Cow<'_, [Bucket]> {
        let k = (w / self.width).round().max(1.0) as usize;
        if k == 1 {
            return Cow::Borrowed(&self.buckets);
        }
        self.buckets
            .chunks(k)
            .map(|c| {
                let mut b = Bucket::default();
                for x in c {
                    b.merge(x);
                }
                b
            })
            .collect::<Vec<_>>()
            .into()
    }
}

/// How well a training-loss name stands for the run's loss: the plain names first, then the
/// shorter ones (`loss` before `loss_cls`).
pub fn loss_rank(name: &str) -> (u8, usize) {
    const MAIN: &[&str] = &[
        "loss",
        "train/loss",
        "train_loss",
        "total_loss",
        "train/total_loss",
        "training_loss",
        "loss/train",
    ];
    let lower = name.to_lowercase();
    (if MAIN.contains(&lower.as_str()) { 0 } else { 1 }, name.len())
}

/// What the cross-run flags need of a run: a few kB, kept after its store is dropped.
#[derive(Clone, Debug)]
pub struct RunDigest {
    pub path: PathBuf,
    /// The name the run's format records (an MLflow run of a database), for naming.
    pub recorded_name: Option<String>,
    pub status: Option<String>,
    pub step_key: Option<String>,
    /// Its training losses, best first.
    pub profiles: Vec<Profile>,
    /// How long the run has been silent (no record arrived, or no write to its file), if known.
    pub silent_for: Option<Duration>,
}

impl RunDigest {
    /// The digest of `run`; `silent_for` as the caller knows it.
    pub fn of(run: &Run, silent_for: Option<Duration>) -> Self {
        let mut d = RunDigest::bare(run, silent_for);
        let store = &run.store;
        d.profiles = train_losses(run)
            .into_iter()
            .map(|id| {
                let mut p = Profile::new(store.name(id));
                for (s, v) in store.series(id).iter() {
                    p.push(s, v);
                }
                p
            })
            .filter(|p| !p.buckets.is_empty())
            .collect();
        d
    }

    /// The digest of `run` without its losses' profiles, for a run that will be compared with
    /// too few others ([`min_runs`]) to have a cross-run flag: reading a long loss point by point
    /// (a logarithm each) was a tenth of `tmon check`'s wall time on one big log, after the load.
    pub fn bare(run: &Run, silent_for: Option<Duration>) -> Self {
        RunDigest {
            path: run.path.clone(),
            recorded_name: run.info.name.clone(),
            status: run.info.status.clone(),
            step_key: run.ingest.step_key().map(str::to_owned),
            profiles: Vec::new(),
            silent_for,
        }
    }

    fn finished(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("finished"))
    }
}

/// The cross-run flags of `runs` (the monitor's call). `now`, when given, dates each run's
/// silence from when records last arrived (the live set's clock); without it only steps count
/// for `run_stopped`. Names are [`crate::run::naming::run_names`].
pub fn compare(runs: &[&Run], cfg: &FlagConfig, now: Option<Instant>) -> Vec<CrossFlag> {
    let digests: Vec<RunDigest> = runs
        .iter()
        .map(|r| {
            let silent =
                now.and_then(|n| Some(n.saturating_duration_since(r.analyzer.live_stall().last_arrival()?)));
            RunDigest::of(r, silent)
        })
        .collect();
    let names = crate::run::naming::run_names(runs);
    compare_digests(&digests, &names, cfg)
}

/// A run's [`RunDigest`] kept up to date as its store grows (the monitor's): each update reads
/// only the points that arrived since the last one, so a live sweep of 200 runs costs what
/// arrived each second, not every point of every run again. The same digest as
/// [`RunDigest::of`] gives (profiles with no point yet are kept, and left out by the comparison).
#[derive(Clone, Debug, Default)]
pub struct LiveDigest {
    digest: Option<RunDigest>,
    /// The series profiled (aligned with the digest's profiles) and how many of their points
    /// were read.
    read: Vec<(SeriesId, usize)>,
    /// The caller's identity of the run (it changes when the run is replaced by another).
    key: u64,
}

impl LiveDigest {
    /// The digest of `run`, brought up to date; `key` changes whenever the caller's run was
    /// replaced (its points are then read from the start), `silent_for` as the caller knows it.
    pub fn update(&mut self, run: &Run, key: u64, silent_for: Option<Duration>) -> &RunDigest {
        let ids = train_losses(run);
        let same = self.digest.is_some()
            && self.key == key
            && self.read.len() == ids.len()
            && self.read.iter().zip(&ids).all(|((a, _), b)| a == b);
        if !same {
            let store = &run.store;
            self.read = ids.iter().map(|&id| (id, 0)).collect();
            self.key = key;
            self.digest = Some(RunDigest {
                path: run.path.clone(),
                recorded_name: None,
                status: None,
                step_key: None,
                profiles: ids.iter().map(|&id| Profile::new(store.name(id))).collect(),
                silent_for: None,
            });
        }
        let Some(d) = self.digest.as_mut() else { unreachable!("set above") };
        let steps = run.store.steps();
        let mut values = Vec::new();
        for ((id, n), p) in self.read.iter_mut().zip(&mut d.profiles) {
            // Read in order, values and steps alike (each block decoded once, not a value a
            // point): a run's first look reads its whole loss, on the loop's thread.
            let s = run.store.series(*id);
            let len = s.len();
            values.clear();
            s.for_each_value(*n, len, |_, v| values.push(v));
            for (p0, r0, count) in s.record_stretches_in(*n, len) {
                let vals = &values[p0 - *n..p0 - *n + count];
                steps.for_each_from(r0, r0 + count, |r, step| p.push(step, vals[r - r0]));
            }
            *n = len;
        }
        d.recorded_name.clone_from(&run.info.name);
        d.status.clone_from(&run.info.status);
        d.step_key = run.ingest.step_key().map(str::to_owned);
        d.silent_for = silent_for;
        d
    }
}

/// The training losses a run is compared on, best first (at most [`LOSSES_KEPT`]).
fn train_losses(run: &Run) -> Vec<SeriesId> {
    let store = &run.store;
    let mut losses: Vec<(SeriesId, &str)> =
        store.ids().map(|id| (id, store.name(id))).filter(|(_, n)| role(n) == Role::TrainLoss).collect();
    losses.sort_by_key(|(_, n)| loss_rank(n));
    losses.truncate(LOSSES_KEPT);
    losses.into_iter().map(|(id, _)| id).collect()
}

/// The fewest runs that are compared with each other: fewer give no cross-run flag.
pub fn min_runs(cfg: &FlagConfig) -> usize {
    cfg.compare_min_runs.max(3)
}

/// Runs are compared within a group: one training loss, one step key.
type GroupKey<'a> = (&'a str, Option<&'a str>);

/// The cross-run flags of runs known by their digests; `names[i]` is run `i`'s name. Flags come
/// by run, then kind.
pub fn compare_digests<R: Borrow<RunDigest>>(
    runs: &[R],
    names: &[String],
    cfg: &FlagConfig,
) -> Vec<CrossFlag> {
    compare_digests_kept(runs, names, cfg, &mut SweepMemo::default())
}

/// What [`compare_digests`] worked out at each bucket, kept for the next call on the same runs
/// (the monitor's, once a second while a sweep is written): the median and spread of a bucket
/// whose levels are the same, run for run and bit for bit, are taken from here instead of being
/// computed again. Appends change only the last buckets of the runs that grew, so a call reads
/// every bucket's levels but sorts only those.
#[derive(Clone, Debug, Default)]
pub struct SweepMemo {
    groups: HashMap<(String, Option<String>), GroupMemo>,
    /// Buckets whose statistics were computed (not taken from here), over every call.
    computed: u64,
}

impl SweepMemo {
    /// How many buckets' statistics were computed, not taken from the memo, over every call.
    pub fn computed(&self) -> u64 {
        self.computed
    }
}

/// One group's buckets at one width (see [`SweepMemo`]).
#[derive(Clone, Debug, Default)]
struct GroupMemo {
    width: u64,
    buckets: Vec<Option<BucketMemo>>,
}

/// The levels a bucket was judged on ((run, level's bits), in the members' order), and the
/// median and spread each member was compared with (one for all above [`LEAVE_ONE_OUT_MAX`]).
#[derive(Clone, Debug)]
struct BucketMemo {
    levels: Vec<(usize, u64)>,
    stats: Vec<(f64, f64)>,
}

/// As [`compare_digests`], the same flags, with the buckets' statistics kept in `memo` between
/// calls.
pub fn compare_digests_kept<R: Borrow<RunDigest>>(
    runs: &[R],
    names: &[String],
    cfg: &FlagConfig,
    memo: &mut SweepMemo,
) -> Vec<CrossFlag> {
    let runs: Vec<&RunDigest> = runs.iter().map(Borrow::borrow).collect();
    let min = min_runs(cfg);
    // How many runs log each (loss, step key).
    let mut counts: HashMap<(&str, Option<&str>), usize> = HashMap::new();
    for r in &runs {
        for p in r.profiles.iter().filter(|p| p.usable()) {
            *counts.entry((p.metric.as_str(), r.step_key.as_deref())).or_default() += 1;
        }
    }
    // Each run is compared on the loss most runs share (its best-ranked one on a tie).
    let mut groups: HashMap<GroupKey<'_>, Vec<(usize, &Profile)>> = HashMap::new();
    for (i, r) in runs.iter().enumerate() {
        let step_key = r.step_key.as_deref();
        let best = r
            .profiles
            .iter()
            .filter(|p| p.usable())
            .enumerate()
            .max_by_key(|(rank, p)| (counts[&(p.metric.as_str(), step_key)], std::cmp::Reverse(*rank)))
            .map(|(_, p)| p);
        if let Some(p) = best.filter(|p| counts[&(p.metric.as_str(), step_key)] >= min) {
            groups.entry((p.metric.as_str(), step_key)).or_default().push((i, p));
        }
    }
    let mut keys: Vec<_> = groups.keys().copied().collect();
    keys.sort();
    let mut out = Vec::new();
    let mut kept = HashMap::with_capacity(keys.len());
    for k in keys {
        let members = &groups[&k];
        if members.len() < min {
            continue;
        }
        let owned = (k.0.to_owned(), k.1.map(str::to_owned));
        let mut group = memo.groups.remove(&owned).unwrap_or_default();
        memo.computed += outliers(members, names, cfg, &mut group, &mut out);
        stopped(members, &runs, names, cfg, &mut out);
        kept.insert(owned, group);
    }
    // Only the groups compared now are kept.
    memo.groups = kept;
    out.sort_by_key(|c| (c.run, c.flag.kind));
    out
}

fn median(xs: &mut [f64]) -> f64 {
    super::flags::robust::median(xs)
}

/// Median and 1.4826 x MAD of `xs` (reordered).
fn median_sigma(xs: &mut [f64], scratch: &mut Vec<f64>) -> (f64, f64) {
    let m = median(xs);
    scratch.clear();
    scratch.extend(xs.iter().map(|x| (x - m).abs()));
    (m, 1.4826 * median(scratch))
}

/// One judged bucket of a run: its first step, its rise over the siblings' median (log), whether
/// it is out, and how many siblings it was judged against.
#[derive(Clone, Copy)]
struct Judged {
    step: f64,
    rise: f64,
    out: bool,
    siblings: usize,
}

/// `run_outlier` for one group.
fn outliers(
    members: &[(usize, &Profile)],
    names: &[String],
    cfg: &FlagConfig,
    memo: &mut GroupMemo,
    out: &mut Vec<CrossFlag>,
) -> u64 {
    let mut computed = 0;
    let width = members.iter().map(|(_, p)| p.width).fold(0.0, f64::max);
    let grids: Vec<Cow<'_, [Bucket]>> = members.iter().map(|(_, p)| p.at_width(width)).collect();
    let len = grids.iter().map(|g| g.len()).max().unwrap_or(0);
    let min_siblings = min_runs(cfg) - 1;
    let ln_ratio = cfg.run_outlier_ratio.ln();
    let ln_critical = cfg.run_outlier_critical.ln();
    let mut judged: Vec<Vec<Judged>> = (0..members.len()).map(|_| Vec::with_capacity(len)).collect();
    let (mut levels, mut sib, mut scratch, mut key) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if memo.width != width.to_bits() {
        *memo = GroupMemo { width: width.to_bits(), buckets: Vec::new() };
    }
    memo.buckets.resize(len, None);
    for j in 0..len {
        levels.clear();
        levels
            .extend(grids.iter().enumerate().filter_map(|(m, g)| Some((m, g.get(j)?.level()?, g[j].first))));
        if levels.len() < min_siblings + 1 {
            memo.buckets[j] = None;
            continue;
        }
        key.clear();
        key.extend(levels.iter().map(|&(m, level, _)| (members[m].0, level.to_bits())));
        let whole = levels.len() - 1 > LEAVE_ONE_OUT_MAX;
        let known = memo.buckets[j].as_ref().filter(|b| b.levels == key);
        let stats = match known {
            Some(b) => &b.stats,
            None => {
                computed += 1;
                let all: Vec<f64> = levels.iter().map(|l| l.1).collect();
                let stats: Vec<(f64, f64)> = if whole {
                    let mut xs = all.clone();
                    vec![median_sigma(&mut xs, &mut scratch)]
                } else {
                    (0..all.len())
                        .map(|pos| {
                            sib.clear();
                            sib.extend(all.iter().enumerate().filter(|&(q, _)| q != pos).map(|(_, x)| *x));
                            median_sigma(&mut sib, &mut scratch)
                        })
                        .collect()
                };
                &memo.buckets[j].insert(BucketMemo { levels: key.clone(), stats }).stats
            }
        };
        for (pos, &(m, level, first)) in levels.iter().enumerate() {
            let (med, sigma) = stats[if whole { 0 } else { pos }];
            if !med.is_finite() || !sigma.is_finite() {
                // Most siblings are NaN too: nothing to compare with here.
                continue;
            }
            let rise = level - med;
            let z = rise / sigma.max(SIGMA_MIN);
            let is_out = rise >= ln_ratio && z >= cfg.run_outlier_z;
            judged[m].push(Judged { step: first, rise, out: is_out, siblings: levels.len() - 1 });
        }
    }
    for (m, seq) in judged.iter().enumerate() {
        let Some(streak) = qualifying_streak(seq, cfg) else { continue };
        let (run, p) = members[m];
        let first = streak[0];
        let worst = streak.iter().map(|j| j.rise).fold(f64::NEG_INFINITY, f64::max);
        let critical = worst >= ln_critical;
        let how = |r: f64| if r.is_finite() { times(r.exp()) } else { "NaN or infinite".to_owned() };
        let to_end =
            std::ptr::eq(streak.as_ptr().wrapping_add(streak.len()), seq.as_ptr().wrapping_add(seq.len()));
        let lasting = if to_end {
            "to its last step".to_owned()
        } else {
            format!("for {} aligned steps", count(streak.len() as u64))
        };
        let message = if first.rise.is_finite() {
            format!(
                "{} is {} the median of its {} sibling runs at step {} and stays above {lasting} (worst {})",
                p.metric,
                how(first.rise),
                count(first.siblings as u64),
                fmt_step(first.step),
                how(worst)
            )
        } else {
            format!(
                "{} is NaN or infinite from step {} while its {} sibling runs' stays finite",
                p.metric,
                fmt_step(first.step),
                count(first.siblings as u64)
            )
        };
        out.push(CrossFlag {
            run,
            name: names.get(run).cloned().unwrap_or_default(),
            flag: Flag {
                kind: FlagKind::RunOutlier,
                severity: if critical { Severity::Critical } else { Severity::Warning },
                metric: p.metric.clone(),
                step: first.step,
                message,
            },
        });
    }
    computed
}

/// The first streak of outlying buckets that makes a run an outlier: at least
/// `run_outlier.persist` long, and either still going at the run's last judged bucket or covering
/// `run_outlier.span` of its judged buckets (a slow starter that catches up is not an outlier).
fn qualifying_streak<'a>(seq: &'a [Judged], cfg: &FlagConfig) -> Option<&'a [Judged]> {
    let mut i = 0;
    while i < seq.len() {
        if !seq[i].out {
            i += 1;
            continue;
        }
        let end = seq[i..].iter().position(|j| !j.out).map_or(seq.len(), |k| i + k);
        let len = end - i;
        let long = len as f64 >= cfg.run_outlier_span * seq.len() as f64;
        if len >= cfg.run_outlier_persist && (end == seq.len() || long) {
            return Some(&seq[i..end]);
        }
        i = end;
    }
    None
}

/// `run_stopped` for one group.
fn stopped(
    members: &[(usize, &Profile)],
    runs: &[&RunDigest],
    names: &[String],
    cfg: &FlagConfig,
    out: &mut Vec<CrossFlag>,
) {
    let min_quiet = Duration::try_from_secs_f64(cfg.run_stopped_min_seconds).unwrap_or(Duration::MAX);
    for (m, &(run, p)) in members.iter().enumerate() {
        let d = &runs[run];
        if d.finished() || d.silent_for.is_some_and(|s| s < min_quiet) {
            continue;
        }
        let last = p.last_step;
        let siblings: Vec<(f64, Option<Duration>)> = members
            .iter()
            .enumerate()
            .filter(|&(q, _)| q != m)
            .map(|(_, &(r, sp))| (sp.last_step, runs[r].silent_for))
            .collect();
        let ahead: Vec<f64> = siblings.iter().map(|s| s.0).filter(|&s| s > last).collect();
        // Most siblings went past its last step.
        if ahead.len() * 2 <= siblings.len() || ahead.len() < 2 {
            continue;
        }
        let mut lasts: Vec<f64> = siblings.iter().map(|s| s.0).collect();
        let med_last = median(&mut lasts);
        // Siblings that agree on where runs get to (most of them near the median): a sweep's
        // runs end together; unrelated runs checked together do not.
        let floor = (1.0 - cfg.run_stopped_behind) * med_last;
        let together = siblings.iter().filter(|s| s.0 >= floor).count();
        let by_steps = last < floor && together >= 2 && together * 2 > siblings.len();
        let mut quiet: Vec<f64> = siblings.iter().filter_map(|s| s.1.map(|d| d.as_secs_f64())).collect();
        let by_clock = match d.silent_for {
            Some(own) if quiet.len() >= 2 => own.as_secs_f64() >= cfg.run_stopped_factor * median(&mut quiet),
            _ => false,
        };
        if !by_steps && !by_clock {
            continue;
        }
        let mut ahead_sorted = ahead.clone();
        let ahead_med = median(&mut ahead_sorted);
        let silence = d
            .silent_for
            .map(|s| format!("; nothing written for {}", duration(s.as_secs_f64())))
            .unwrap_or_default();
        let message = format!(
            "stopped at step {} while {} of its {} sibling runs went on (to step {}, median){silence}",
            fmt_step(last),
            count(ahead.len() as u64),
            count(siblings.len() as u64),
            fmt_step(ahead_med)
        );
        out.push(CrossFlag {
            run,
            name: names.get(run).cloned().unwrap_or_default(),
            flag: Flag {
                kind: FlagKind::RunStopped,
                severity: Severity::Warning,
                metric: p.metric.clone(),
                step: last,
                message,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(name: &str, points: &[(f64, f64)], silent: Option<u64>) -> RunDigest {
        let mut p = Profile::new("loss");
        for &(s, v) in points {
            p.push(s, v);
        }
        RunDigest {
            path: PathBuf::from(format!("sweep/{name}/logs.jsonl")),
            recorded_name: None,
            status: None,
            step_key: Some("step".into()),
            profiles: vec![p],
            silent_for: silent.map(Duration::from_secs),
        }
    }

    fn curve(scale: f64, steps: u64) -> Vec<(f64, f64)> {
        (1..=steps)
            .map(|s| {
                (
                    s as f64,
                    scale * (1.0 + 2.0 * (-(s as f64) / 30.0).exp()) * (1.0 + 0.05 * ((s * 7) as f64).sin()),
                )
            })
            .collect()
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn a_live_digest_read_in_pieces_is_the_digest_of_the_whole_run() {
        // Five runs, one diverging to NaN; each grows in pieces, its live digest updated after
        // each, and a loss series appears late in one of them (the set of losses changes).
        let mut runs: Vec<Run> = (0..5)
            .map(|k| Run::new(format!("s/r{k}/logs.jsonl"), Default::default(), Default::default()))
            .collect();
        let mut live: Vec<LiveDigest> = vec![LiveDigest::default(); runs.len()];
        let mut line = 1;
        for piece in 0..6u64 {
            for (k, run) in runs.iter_mut().enumerate() {
                let mut text = String::new();
                for s in piece * 700..(piece + 1) * 700 {
                    let v = (1.0 + k as f64 * 0.05) * (1.0 + 3.0 * (-(s as f64) / 500.0).exp());
                    let v = if k == 4 && s > 2500 { f64::NAN } else { v };
                    text.push_str(&format!("{{\"step\": {s}, \"loss\": {v}}}\n"));
                    if k == 2 && piece >= 3 {
                        text.push_str(&format!("{{\"step\": {s}, \"train_loss\": {}}}\n", v * 1.5));
                    }
                }
                run.push_lines(line, text.as_bytes());
                line += 1_000_000;
                live[k].update(run, 7, None);
            }
            let whole: Vec<RunDigest> = runs.iter().map(|r| RunDigest::of(r, None)).collect();
            let pieces: Vec<&RunDigest> =
                runs.iter().zip(&mut live).map(|(r, l)| l.update(r, 7, None)).collect();
            for (w, p) in whole.iter().zip(&pieces) {
                assert_eq!(format!("{:?}", w.profiles), format!("{:?}", p.profiles), "piece {piece}");
                assert_eq!((&w.path, &w.step_key), (&p.path, &p.step_key));
            }
            let cfg = FlagConfig::default();
            assert_eq!(compare_digests(&pieces, &names(5), &cfg), compare_digests(&whole, &names(5), &cfg));
        }
        let flags = compare_digests(
            &runs.iter().map(|r| RunDigest::of(r, None)).collect::<Vec<_>>(),
            &names(5),
            &FlagConfig::default(),
        );
        assert!(flags.iter().any(|f| f.run == 4 && f.flag.kind == FlagKind::RunOutlier), "{flags:#?}");
        // A new key (the run was replaced) reads it again from the start.
        let fresh = Run::new("s/r0/logs.jsonl", Default::default(), Default::default());
        assert!(live[0].update(&fresh, 8, None).profiles.is_empty());
    }

    #[test]
    fn profiles_widen_by_powers_of_two_and_keep_their_means() {
        let mut p = Profile::new("loss");
        for s in 0..5000u32 {
            p.push(s as f64, 2.0);
        }
        assert!(p.buckets.len() <= BUCKETS);
        assert_eq!(p.width, 8.0);
        let b = p.at_width(16.0);
        assert_eq!(b[0].finite, 16);
        assert!((b[0].level().unwrap() - 2f64.ln()).abs() < 1e-12);
        assert_eq!(b[1].first, 16.0);
    }

    #[test]
    fn a_run_far_above_its_siblings_is_an_outlier_and_only_it() {
        let mut runs: Vec<RunDigest> =
            (0..4).map(|i| digest(&format!("ok{i}"), &curve(1.0 + 0.1 * i as f64, 200), None)).collect();
        // From step 100 on, one run's loss grows 20x over its siblings'.
        let bad: Vec<(f64, f64)> =
            curve(1.0, 200).into_iter().map(|(s, v)| (s, if s >= 100.0 { v * 20.0 } else { v })).collect();
        runs.push(digest("bad", &bad, None));
        let flags = compare_digests(&runs, &names(5), &FlagConfig::default());
        assert_eq!(flags.len(), 1, "{flags:#?}");
        assert_eq!((flags[0].run, flags[0].flag.kind, flags[0].flag.step), (4, FlagKind::RunOutlier, 100.0));
        assert_eq!(flags[0].flag.severity, Severity::Warning);
        assert!(
            flags[0].flag.message.starts_with(
                "loss is 17.4x the median of its 4 sibling runs at step 100 and stays above to its last step"
            ),
            "{}",
            flags[0].flag.message
        );
        // Two runs are not a sweep.
        assert!(compare_digests(&runs[3..], &names(2), &FlagConfig::default()).is_empty());
    }

    #[test]
    fn kept_statistics_give_the_flags_of_a_fresh_comparison_as_runs_grow() {
        // 5 runs (each compared without itself) and 40 (with itself): an outlier, a run gone NaN,
        // runs growing at different rates past the width's doubling, one run left out midway.
        for runs_n in [5usize, 40] {
            let full: Vec<Vec<(f64, f64)>> = (0..runs_n)
                .map(|i| {
                    curve(1.0 + 0.01 * i as f64, 2600)
                        .into_iter()
                        .map(|(s, v)| match i {
                            1 if s >= 400.0 => (s, v * 20.0),
                            2 if s >= 900.0 => (s, f64::NAN),
                            _ => (s, v),
                        })
                        .collect()
                })
                .collect();
            let mut memo = SweepMemo::default();
            let mut flagged = 0;
            for (round, n) in
                [10usize, 300, 301, 330, 700, 1024, 1100, 2000, 2001, 2600, 2600].into_iter().enumerate()
            {
                let runs: Vec<RunDigest> = full
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(round == 6 && *i == 3))
                    .map(|(i, c)| digest(&format!("r{i}"), &c[..(n + 7 * i).min(c.len())], None))
                    .collect();
                let names = names(runs.len());
                let cfg = FlagConfig::default();
                let before = memo.computed();
                let kept = compare_digests_kept(&runs, &names, &cfg, &mut memo);
                assert_eq!(kept, compare_digests(&runs, &names, &cfg), "{runs_n} runs at {n}");
                flagged += kept.len();
                if n == 2600 && round == 10 {
                    assert_eq!(memo.computed(), before, "nothing new: every bucket's statistics kept");
                }
                if n == 301 {
                    // Of 300 to 573 buckets, each run's last one (and the one a run enters).
                    let sorted = memo.computed() - before;
                    assert!(sorted <= runs_n as u64 + 1, "one step more a run: {sorted} buckets sorted");
                }
            }
            assert!(flagged > 0, "the outlier and the NaN run are flagged");
        }
    }

    #[test]
    fn nan_is_critical_and_a_short_excursion_is_not_an_outlier() {
        let mut runs: Vec<RunDigest> =
            (0..3).map(|i| digest(&format!("ok{i}"), &curve(1.0 + 0.05 * i as f64, 200), None)).collect();
        let nan: Vec<(f64, f64)> =
            curve(1.0, 200).into_iter().map(|(s, v)| (s, if s >= 150.0 { f64::NAN } else { v })).collect();
        let blip: Vec<(f64, f64)> = curve(1.0, 200)
            .into_iter()
            .map(|(s, v)| (s, if (60.0..63.0).contains(&s) { v * 50.0 } else { v }))
            .collect();
        runs.push(digest("nan", &nan, None));
        runs.push(digest("blip", &blip, None));
        let flags = compare_digests(&runs, &names(5), &FlagConfig::default());
        assert_eq!(flags.len(), 1, "{flags:#?}");
        assert_eq!(
            (flags[0].run, flags[0].flag.severity, flags[0].flag.step),
            (3, Severity::Critical, 150.0)
        );
        assert!(flags[0].flag.message.contains("NaN or infinite from step 150"), "{}", flags[0].flag.message);
    }

    #[test]
    fn a_run_that_stopped_while_its_siblings_went_on() {
        let day = Some(86_400);
        let mut runs: Vec<RunDigest> =
            (0..3).map(|i| digest(&format!("ok{i}"), &curve(1.0, 1000), day)).collect();
        runs.push(digest("short", &curve(1.0, 300), day));
        let flags = compare_digests(&runs, &names(4), &FlagConfig::default());
        assert_eq!(flags.len(), 1, "{flags:#?}");
        assert_eq!((flags[0].run, flags[0].flag.kind, flags[0].flag.step), (3, FlagKind::RunStopped, 300.0));
        assert!(
            flags[0].flag.message.starts_with(
                "stopped at step 300 while 3 of its 3 sibling runs went on (to step 1000, median)"
            ),
            "{}",
            flags[0].flag.message
        );
        // Written to a minute ago: still going (a sweep's latest trial), however far behind.
        runs[3].silent_for = Some(Duration::from_secs(60));
        assert!(compare_digests(&runs, &names(4), &FlagConfig::default()).is_empty());
        // A run whose format says it finished is not stopped.
        runs[3].silent_for = day.map(Duration::from_secs);
        runs[3].status = Some("FINISHED".into());
        assert!(compare_digests(&runs, &names(4), &FlagConfig::default()).is_empty());
    }

    #[test]
    fn live_runs_by_the_wall_clock() {
        // Siblings write every few seconds; one has been silent for 20 minutes, 50 steps behind.
        let mut runs: Vec<RunDigest> =
            (0..4).map(|i| digest(&format!("ok{i}"), &curve(1.0, 1000), Some(2 + i))).collect();
        runs.push(digest("hung", &curve(1.0, 950), Some(1200)));
        let flags = compare_digests(&runs, &names(5), &FlagConfig::default());
        assert_eq!(flags.len(), 1, "{flags:#?}");
        assert_eq!((flags[0].run, flags[0].flag.step), (4, 950.0));
        assert!(flags[0].flag.message.ends_with("nothing written for 20m"), "{}", flags[0].flag.message);
        // Every run at its end, all silent alike: nobody stopped.
        for r in &mut runs {
            r.silent_for = Some(Duration::from_secs(86_400));
        }
        assert!(compare_digests(&runs, &names(5), &FlagConfig::default()).is_empty());
    }
}
