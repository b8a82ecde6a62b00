//! Comparing runs: with two runs or more open, every chart overlays the runs shown, and the runs
//! panel lists them. This is the state behind it: each run's colour, letter and visibility, the
//! solo run, the baseline, the panel's sort, the config keys that tell the runs apart, and the
//! flags raised across runs.
//!
//! A run's colour comes from a hash of its name (so the same name gets the same colour in every
//! session), moved to the next free colour when another run already has it (while colours are
//! left), and never changes during the session. Its letter (`a`, `b`, ...) follows the order runs
//! were found; letters and markers keep runs apart where colour cannot (`NO_COLOR`, 16 colours).

use super::{App, Slot, Status};
use crate::analysis::names::higher_is_better;
use crate::analysis::sweep::{compare_digests_kept, LiveDigest, RunDigest, SweepMemo};
use crate::analysis::{Flag, Severity};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How many run colours the palettes have (the ui's theme maps an index to a colour).
pub const COLOURS: usize = 12;

/// The letters given to runs, in the order they were found; later runs have none.
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// With more runs shown than this, charts draw only the smoothed lines.
pub const RAW_MAX_RUNS: usize = 3;

/// One run as the comparison sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLook {
    /// The path its colour was given for (a slot whose file is replaced gets a new colour).
    path: PathBuf,
    /// Index into the theme's run palette (below [`COLOURS`]).
    pub colour: usize,
    pub letter: Option<char>,
    pub hidden: bool,
}

/// A column of the runs panel, to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Status,
    Step,
    /// The selected metric's last value.
    Last,
    /// The selected metric's best value (min, or max where higher is better).
    Best,
    Flags,
    /// A config key that differs between runs (an index into [`Compare::config_keys`]).
    Config(usize),
}

/// The comparison's state.
#[derive(Clone, Debug)]
pub struct Compare {
    /// One per slot.
    pub looks: Vec<RunLook>,
    /// Each slot's short name (the part of its path that tells it from the others).
    pub names: Vec<String>,
    /// Shown alone (with the baseline).
    pub solo: Option<usize>,
    /// The run the others are read against: always listed first, and its values are what the
    /// cursor's legend compares with.
    pub baseline: Option<usize>,
    pub sort: SortKey,
    /// Whether the sort is the column's natural order reversed (`I`).
    pub reversed: bool,
    /// Config keys whose values differ between runs (only those are columns).
    pub config_keys: Vec<String>,
    /// Each slot's config: what its log's format records, then what its files say
    /// ([`Slot::file_config`]), as `tmon check` reads it.
    pub configs: Vec<BTreeMap<String, String>>,
    /// Flags raised by comparing runs with their siblings: (slot, flag).
    pub cross: Vec<(usize, Flag)>,
    /// What the names, looks and config keys were computed from: (slot paths, run epoch, config
    /// generation).
    seen: (Vec<PathBuf>, u64, u64),
    /// Each slot's digest for the flags across runs, extended as its run grows.
    digests: Vec<LiveDigest>,
    /// The stores' generations the cross-run flags were computed from.
    cross_seen: u64,
    /// The buckets' statistics of the last comparison (only the buckets that moved are sorted).
    memo: SweepMemo,
}

impl Default for Compare {
    fn default() -> Self {
        Compare {
            looks: Vec::new(),
            names: Vec::new(),
            solo: None,
            baseline: None,
            sort: SortKey::Name,
            reversed: false,
            config_keys: Vec::new(),
            configs: Vec::new(),
            cross: Vec::new(),
            digests: Vec::new(),
            seen: (Vec::new(), u64::MAX, u64::MAX),
            cross_seen: u64::MAX,
            memo: SweepMemo::default(),
        }
    }
}

/// 64-bit FNV-1a: a hash that stays the same across sessions, builds and platforms.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The colour a run named `name` gets, given the colours already taken: its hash's, or the next
/// free one after it while any is free.
pub fn colour_for(name: &str, taken: &[usize]) -> usize {
    let home = (fnv1a(name) % COLOURS as u64) as usize;
    if taken.len() >= COLOURS {
        return home;
    }
    (0..COLOURS).map(|k| (home + k) % COLOURS).find(|c| !taken.contains(c)).unwrap_or(home)
}

/// How a run is doing, in a word or two for the panel's status column.
pub fn status_word(s: Status) -> String {
    match s {
        Status::Loading(p) => format!("load {p}%"),
        Status::Waiting => "waiting".into(),
        Status::Live => "live".into(),
        Status::Quiet(s) => format!("quiet {}", super::status::human_secs(s)),
        Status::Stalled(s) => format!("stalled {}", super::status::human_secs(s)),
        Status::Ended => "ended".into(),
        Status::Crashed => "crashed".into(),
        Status::Gone => "gone".into(),
        Status::Unreadable => "cannot read".into(),
    }
}

/// Statuses in the order that needs a look first (the panel's natural order for the column).
fn status_rank(s: Option<Status>) -> u8 {
    match s {
        Some(Status::Gone | Status::Unreadable | Status::Crashed) => 0,
        Some(Status::Stalled(_)) => 1,
        Some(Status::Quiet(_)) => 2,
        Some(Status::Waiting) => 3,
        Some(Status::Loading(_)) => 4,
        Some(Status::Live) => 5,
        Some(Status::Ended) => 6,
        None => 7,
    }
}

/// A run's count of flags by severity: (critical, warning, info).
pub type FlagCount = (usize, usize, usize);

/// Orders numbers so that NaN (a missing value) comes last either way.
fn cmp_num(a: Option<f64>, b: Option<f64>) -> Ordering {
    let key = |v: Option<f64>| v.filter(|v| !v.is_nan());
    match (key(a), key(b)) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Names compared as a person reads them: numbers by their value (`run9` before `run10`,
/// `lr_0.001` before `lr_0.01`, `lr_1e-4` before `lr_1e-3`), the rest by character.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (number_at(x), number_at(y)) {
            (Some((m, i)), Some((n, j))) => {
                let o = m.total_cmp(&n).then_with(|| x[..i].cmp(&y[..j]));
                if o != Ordering::Equal {
                    return o;
                }
                (x, y) = (&x[i..], &y[j..]);
            }
            _ => {
                let (Some(c), Some(d)) = (x.chars().next(), y.chars().next()) else {
                    return x.len().cmp(&y.len());
                };
                if c != d {
                    return c.cmp(&d);
                }
                (x, y) = (&x[c.len_utf8()..], &y[d.len_utf8()..]);
            }
        }
    }
}

/// The number `s` starts with (digits, a fraction, an exponent) and its length in bytes.
fn number_at(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let digits = |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = digits(0);
    if end == 0 {
        return None;
    }
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits(end + 1);
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'-' | b'+')));
        if b.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            end = digits(end + 1 + sign);
        }
    }
    s[..end].parse().ok().map(|v| (v, end))
}

/// A slot that is a run (not a placeholder for a file number not reported yet).
pub(super) fn is_run(s: &Slot) -> bool {
    // A file read into another file's run (a TensorBoard folder's later event files) is not one.
    !s.name.is_empty() && s.live.member_of.is_none()
}

impl App {
    /// Whether runs are compared: two or more are open.
    pub fn comparing(&self) -> bool {
        self.slots.iter().filter(|s| is_run(s)).nth(1).is_some()
    }

    /// The slots that are runs, in the order they were found.
    pub fn run_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().enumerate().filter(|(_, s)| is_run(s)).map(|(i, _)| i)
    }

    /// Whether slot `i`'s run is drawn on the charts.
    pub fn shown(&self, i: usize) -> bool {
        let c = &self.compare;
        match c.solo {
            Some(s) => i == s || c.baseline == Some(i),
            None => !c.looks.get(i).is_some_and(|l| l.hidden),
        }
    }

    /// The runs drawn on the charts, in drawing order: as found, the baseline above them, the
    /// selected run on top.
    pub fn shown_runs(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.run_slots().filter(|&i| self.shown(i)).collect();
        let mut lift = |i: Option<usize>| {
            if let Some(p) = i.and_then(|i| out.iter().position(|&j| j == i)) {
                let i = out.remove(p);
                out.push(i);
            }
        };
        lift(self.compare.baseline);
        lift(Some(self.current));
        out
    }

    /// Whether charts draw the raw values of the runs shown (a few runs), or only their smoothed
    /// lines.
    pub fn raw_shown(&self) -> bool {
        self.shown_runs().len() <= RAW_MAX_RUNS
    }

    /// Slot `i`'s short name.
    pub fn run_name(&self, i: usize) -> &str {
        self.compare.names.get(i).map_or("", String::as_str)
    }

    /// Slot `i`'s look (colour, letter, hidden).
    pub fn look(&self, i: usize) -> Option<&RunLook> {
        self.compare.looks.get(i)
    }

    /// The status of slot `i`'s run.
    pub fn status_of(&self, i: usize) -> Option<Status> {
        let s = self.slots.get(i)?;
        let loading = s.loading.as_ref().map(super::Loading::progress);
        let analyzer = &s.live.run.analyzer;
        let stall_after = analyzer.live_stall().warn_after();
        let crashed = analyzer.crashed().is_some();
        Some(super::status::status(
            s.state(),
            loading,
            s.last_data,
            s.idle_at_open,
            stall_after,
            crashed,
            self.now,
        ))
    }

    /// The metric the runs panel reads (the selected chart's first).
    pub fn panel_metric(&self) -> Option<&str> {
        self.selected_group().and_then(|g| g.names.first()).map(String::as_str)
    }

    /// Slot `i`'s last and best value of `metric` (best: the smallest, or the largest where
    /// higher is better), and whether higher is better.
    pub fn last_and_best(&self, i: usize, metric: &str) -> (Option<f64>, Option<f64>) {
        let Some(store) = self.slots.get(i).map(|s| &s.run().store) else { return (None, None) };
        let Some(s) = store.find(metric).map(|id| store.series(id)) else { return (None, None) };
        let best = s.min_max().map(|(lo, hi)| if higher_is_better(metric) == Some(true) { hi } else { lo });
        (s.last().map(|(_, y)| y), best)
    }

    /// Slot `i`'s flags by severity, the cross-run ones included.
    pub fn flag_count(&self, i: usize) -> FlagCount {
        let Some(slot) = self.slots.get(i) else { return (0, 0, 0) };
        let cross = self.compare.cross.iter().filter(|(j, _)| *j == i).map(|(_, f)| f);
        slot.run().flags().iter().chain(cross).fold((0, 0, 0), |(c, w, n), f| match f.severity {
            Severity::Critical => (c + 1, w, n),
            Severity::Warning => (c, w + 1, n),
            Severity::Info => (c, w, n + 1),
        })
    }

    /// Flags by severity over every open run, hidden ones and those not on screen included (the
    /// header's health badge: a NaN in a run not shown is still seen).
    pub fn health(&self) -> FlagCount {
        self.run_slots().map(|i| self.flag_count(i)).fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    }

    /// Slot `i`'s value of config key `key` (as JSON text).
    pub fn config_value(&self, i: usize, key: &str) -> Option<&str> {
        self.compare.configs.get(i)?.get(key).map(String::as_str)
    }

    /// The runs panel's rows: the baseline first, then the others in the sort's order.
    pub fn run_order(&self) -> Vec<usize> {
        let c = &self.compare;
        let mut rows: Vec<usize> = self.run_slots().collect();
        let metric = self.panel_metric().map(str::to_owned);
        let better_high = metric.as_deref().and_then(higher_is_better) == Some(true);
        let cmp = |&a: &usize, &b: &usize| -> Ordering {
            let natural = match c.sort {
                SortKey::Name => natural_cmp(self.run_name(a), self.run_name(b)),
                SortKey::Status => status_rank(self.status_of(a)).cmp(&status_rank(self.status_of(b))),
                SortKey::Step => {
                    let last = |i: usize| self.slots[i].run().store.last_record().map(|r| -r.step);
                    cmp_num(last(a), last(b))
                }
                SortKey::Last | SortKey::Best => {
                    let Some(m) = metric.as_deref() else { return Ordering::Equal };
                    let pick = |i: usize| {
                        let (last, best) = self.last_and_best(i, m);
                        let v = if c.sort == SortKey::Last { last } else { best };
                        v.map(|v| if better_high { -v } else { v })
                    };
                    cmp_num(pick(a), pick(b))
                }
                SortKey::Flags => self.flag_count(b).cmp(&self.flag_count(a)),
                SortKey::Config(k) => {
                    let Some(key) = c.config_keys.get(k) else { return Ordering::Equal };
                    let (va, vb) = (self.config_value(a, key), self.config_value(b, key));
                    let num = |v: Option<&str>| v.and_then(|v| v.trim_matches('"').parse::<f64>().ok());
                    match (num(va), num(vb)) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        _ => match (va, vb) {
                            (Some(x), Some(y)) => natural_cmp(x, y),
                            (Some(_), None) => Ordering::Less,
                            (None, Some(_)) => Ordering::Greater,
                            (None, None) => Ordering::Equal,
                        },
                    }
                }
            };
            let o = if c.reversed { natural.reverse() } else { natural };
            o.then_with(|| natural_cmp(self.run_name(a), self.run_name(b))).then(a.cmp(&b))
        };
        rows.sort_by(cmp);
        if let Some(p) = c.baseline.and_then(|b| rows.iter().position(|&i| i == b)) {
            let b = rows.remove(p);
            rows.insert(0, b);
        }
        rows
    }

    /// The panel's columns in order (what `<` and `>` step through).
    pub fn sort_keys(&self) -> Vec<SortKey> {
        let mut keys =
            vec![SortKey::Name, SortKey::Status, SortKey::Step, SortKey::Last, SortKey::Best, SortKey::Flags];
        keys.extend((0..self.compare.config_keys.len()).map(SortKey::Config));
        keys
    }

    /// Keeps the comparison in step with the slots: names, colours and letters for new runs, a
    /// new colour for a slot whose file was replaced, the config keys that differ. Cheap when
    /// nothing changed.
    pub(super) fn refresh_compare(&mut self) {
        let paths: Vec<PathBuf> = self.slots.iter().map(|s| s.live.run.path.clone()).collect();
        let key = (paths, self.run_epoch, self.config_gen);
        if key == self.compare.seen {
            return;
        }
        let runs: Vec<usize> = self.run_slots().collect();
        // The names `tmon check` gives the same runs (a W&B or MLflow run's recorded name when
        // it tells it apart, else the shortest part of its path that does).
        let short =
            crate::run::naming::run_names(&runs.iter().map(|&i| self.slots[i].run()).collect::<Vec<_>>());
        let configs: Vec<BTreeMap<String, String>> = self
            .slots
            .iter()
            .map(|s| {
                let mut c = s.run().info.config.clone();
                for (k, v) in &s.file_config.values {
                    c.entry(k.clone()).or_insert_with(|| v.clone());
                }
                c
            })
            .collect();
        let c = &mut self.compare;
        c.names = vec![String::new(); self.slots.len()];
        for (&i, n) in runs.iter().zip(short) {
            c.names[i] = n;
        }
        c.looks.truncate(self.slots.len());
        for i in 0..self.slots.len() {
            let path = &key.0[i];
            if c.looks.get(i).is_some_and(|l| &l.path == path) {
                continue;
            }
            let taken: Vec<usize> =
                c.looks.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| l.colour).collect();
            let look = RunLook {
                path: path.clone(),
                colour: colour_for(&c.names[i], &taken),
                letter: LETTERS.get(i).map(|&b| b as char),
                hidden: false,
            };
            match c.looks.get_mut(i) {
                Some(l) => *l = RunLook { hidden: l.hidden, ..look },
                None => c.looks.push(look),
            }
        }
        let run_configs: Vec<&BTreeMap<String, String>> = runs.iter().map(|&i| &configs[i]).collect();
        let keys =
            if run_configs.len() > 1 { crate::run::config::differing(&run_configs) } else { Vec::new() };
        c.configs = configs;
        if keys != c.config_keys {
            if let SortKey::Config(k) = c.sort {
                let name = c.config_keys.get(k);
                c.sort = name
                    .and_then(|n| keys.iter().position(|x| x == n))
                    .map_or(SortKey::Name, SortKey::Config);
            }
            c.config_keys = keys;
        }
        for i in [c.solo, c.baseline].into_iter().flatten() {
            if i >= self.slots.len() {
                c.solo = c.solo.filter(|&s| s < self.slots.len());
                c.baseline = c.baseline.filter(|&b| b < self.slots.len());
            }
        }
        c.seen = key;
    }

    /// Recomputes the flags raised across runs when any run got data (called on the clock, so a
    /// sweep being written is compared about once a second, not on every line).
    pub(super) fn refresh_cross_flags(&mut self) {
        if !self.comparing() {
            self.compare.cross.clear();
            return;
        }
        let seen = self
            .slots
            .iter()
            .fold(self.run_epoch, |h, s| h.wrapping_mul(31).wrapping_add(s.run().store.generation()));
        if seen == self.compare.cross_seen {
            return;
        }
        let slots: Vec<usize> = self.run_slots().collect();
        let instant = self.instant();
        // Each run's digest is extended with what arrived since the last look (not read again
        // whole: this runs on the loop's thread, once a second while a sweep is written).
        let mut digests = std::mem::take(&mut self.compare.digests);
        digests.resize_with(self.slots.len(), LiveDigest::default);
        let found = {
            let refs: Vec<&RunDigest> = digests
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| slots.contains(i))
                .map(|(i, d)| {
                    let slot = &self.slots[i];
                    let run = slot.run();
                    // A run's silence is dated from the last record that arrived (the live clock).
                    let silent = run
                        .analyzer
                        .live_stall()
                        .last_arrival()
                        .map(|t| instant.saturating_duration_since(t));
                    d.update(run, slot.epoch, silent)
                })
                .collect();
            let names: Vec<String> = slots.iter().map(|&i| self.run_name(i).to_owned()).collect();
            // The rules `tmon check` applies.
            compare_digests_kept(&refs, &names, &self.opts.flags, &mut self.compare.memo)
        };
        self.compare.digests = digests;
        self.compare.cross = found.into_iter().filter_map(|f| Some((*slots.get(f.run)?, f.flag))).collect();
        self.compare.cross_seen = seen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_come_from_the_name_and_stay_apart_while_colours_are_left() {
        let home = colour_for("lr_1e-3", &[]);
        assert_eq!(home, colour_for("lr_1e-3", &[]), "the same name, the same colour");
        let next = colour_for("lr_1e-3", &[home]);
        assert_ne!(next, home);
        let all: Vec<usize> = (0..COLOURS).collect();
        assert_eq!(colour_for("lr_1e-3", &all), home, "all taken: the name's own colour");
        // Twelve names get twelve colours.
        let mut taken = Vec::new();
        for i in 0..COLOURS {
            taken.push(colour_for(&format!("run{i}"), &taken));
        }
        taken.sort();
        taken.dedup();
        assert_eq!(taken.len(), COLOURS);
    }

    #[test]
    fn natural_order_reads_numbers_as_numbers() {
        let mut v = vec!["run10", "run9", "run1", "lr_0.01", "lr_0.001", "lr_1e-3", "lr_1e-4", "run010"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["lr_1e-4", "lr_0.001", "lr_1e-3", "lr_0.01", "run1", "run9", "run010", "run10"]);
    }
}
