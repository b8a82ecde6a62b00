//! Flags: a fixed, machine-readable vocabulary of problems found in a run, and the streaming
//! [`Analyzer`] that raises them one record at a time (so a file read at once and the same file
//! tailed line by line raise the same flags, by construction: there is no end-of-file logic).
//!
//! Each detector lives in its own file and names the published rule it builds on (NOTES §3).
//! Metrics get their detectors from their role by name ([`crate::analysis::names`]). The
//! analyzer keeps bounded state per series (rings of a few dozen values, running bests), reads
//! only the current record from the [`Store`], and de-duplicates: a condition that persists
//! raises one flag dated where it began; the same kind on the same metric raises again only
//! after `cooldown` records without it, or when its severity goes up.
//! Thresholds: [`FlagConfig`], documented in `docs/flags.md`.

mod clock;
mod config;
mod dead;
mod divergence;
mod exploding;
mod lr;
mod nonfinite;
mod overfitting;
mod plateau;
pub mod robust;
mod spike;
pub mod text;
mod throughput;
mod vanishing;

pub use config::{FlagConfig, Threshold};

use crate::analysis::names::{self, Role};
use crate::store::{RecordIdx, SeriesId, Store};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// What kind of problem a flag reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Nonfinite,
    Spike,
    Divergence,
    Plateau,
    Overfitting,
    Stall,
    Restart,
    DeadUnits,
    VanishingGradient,
    ExplodingGradient,
    ThroughputDrop,
    LrAnomaly,
}

impl FlagKind {
    pub const ALL: [FlagKind; 12] = [
        FlagKind::Nonfinite,
        FlagKind::Spike,
        FlagKind::Divergence,
        FlagKind::Plateau,
        FlagKind::Overfitting,
        FlagKind::Stall,
        FlagKind::Restart,
        FlagKind::DeadUnits,
        FlagKind::VanishingGradient,
        FlagKind::ExplodingGradient,
        FlagKind::ThroughputDrop,
        FlagKind::LrAnomaly,
    ];

    /// The machine-readable name, as in `tmon check --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Nonfinite => "nonfinite",
            FlagKind::Spike => "spike",
            FlagKind::Divergence => "divergence",
            FlagKind::Plateau => "plateau",
            FlagKind::Overfitting => "overfitting",
            FlagKind::Stall => "stall",
            FlagKind::Restart => "restart",
            FlagKind::DeadUnits => "dead_units",
            FlagKind::VanishingGradient => "vanishing_gradient",
            FlagKind::ExplodingGradient => "exploding_gradient",
            FlagKind::ThroughputDrop => "throughput_drop",
            FlagKind::LrAnomaly => "lr_anomaly",
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a flag is. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity '{s}' (expected info, warning or critical)")),
        }
    }
}

/// One problem found in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The series the flag is about (for `stall` and `restart`, the step series or "").
    pub metric: String,
    /// The step where the condition began.
    pub step: f64,
    /// A sentence a person understands.
    pub message: String,
}

/// What a detector found at one point, before de-duplication.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The step where the condition began.
    pub began: f64,
    pub message: String,
}

/// What a detector knows about the point it judges.
pub(crate) struct Ctx<'a> {
    pub step: f64,
    pub name: &'a str,
    /// The latest learning rate of the run, for messages.
    pub lr: Option<f64>,
    /// True while the learning rate has only risen (warmup).
    pub warmup: bool,
    /// The series is itself a learning rate.
    pub is_lr: bool,
}

/// Detectors of one series, chosen by its role.
#[derive(Clone, Debug)]
enum Detectors {
    TrainLoss { spike: Box<spike::Spike>, divergence: Box<divergence::Divergence>, plateau: plateau::Plateau },
    EvalLoss { plateau: plateau::Plateau, overfitting: overfitting::Overfitting, pair: Option<SeriesId> },
    GradNorm(exploding::Exploding),
    Lr(lr::Lr),
    Dead(dead::Dead),
    Throughput(throughput::Throughput),
    None,
}

#[derive(Clone, Debug)]
struct SeriesState {
    role: Role,
    last_step: Option<f64>,
    /// Positive-only detectors (log space) stop once a value <= 0 is seen.
    nonpositive: bool,
    nonfinite: nonfinite::Nonfinite,
    det: Detectors,
}

impl SeriesState {
    fn new(name: &str, cfg: &FlagConfig) -> Self {
        let role = names::role(name);
        let det = match role {
            Role::TrainLoss => Detectors::TrainLoss {
                spike: Box::new(spike::Spike::new(cfg)),
                divergence: Box::new(divergence::Divergence::new(cfg)),
                plateau: plateau::Plateau::default(),
            },
            Role::EvalLoss => Detectors::EvalLoss {
                plateau: plateau::Plateau::default(),
                overfitting: overfitting::Overfitting::default(),
                pair: None,
            },
            Role::GradNorm => Detectors::GradNorm(exploding::Exploding::new(cfg)),
            Role::LearningRate => Detectors::Lr(lr::Lr::default()),
            Role::DeadFraction => Detectors::Dead(dead::Dead::default()),
            Role::Throughput | Role::StepTime => Detectors::Throughput(throughput::Throughput::new(cfg)),
            _ => Detectors::None,
        };
        SeriesState { role, last_step: None, nonpositive: false, nonfinite: Default::default(), det }
    }
}

#[derive(Clone, Copy, Debug)]
struct Latch {
    severity: Severity,
    last_hit: u64,
}

/// Key of record-level flags (stall, restart) in the latch table.
const RUN: SeriesId = SeriesId::MAX;

/// Raises flags from records as they arrive; holds only bounded per-series state.
#[derive(Debug, Default)]
pub struct Analyzer {
    cfg: FlagConfig,
    flags: Vec<Flag>,
    states: Vec<Option<SeriesState>>,
    latches: HashMap<(FlagKind, SeriesId), Latch>,
    records: u64,
    clock: clock::Clock,
    vanishing: vanishing::Vanishing,
    /// The series whose learning rate sets `lr` and warmup (the first one seen).
    lr_series: Option<SeriesId>,
    lr: Option<f64>,
    /// Number of store series when eval-loss pairs were last looked up.
    pairs_checked: usize,
    layer_scratch: Vec<(u64, SeriesId, f64)>,
}

impl Analyzer {
    pub fn new(cfg: FlagConfig) -> Self {
        Analyzer { cfg, ..Default::default() }
    }

    pub fn config(&self) -> &FlagConfig {
        &self.cfg
    }

    /// Feeds one record: `fields` are the (series, value) pairs it carried, in arrival order.
    pub fn observe(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]) {
        self.records += 1;
        let meta = store.record(rec);
        let step = meta.step;
        let mut restart: Option<(f64, f64, SeriesId)> = None;
        for &(id, _) in fields {
            if id >= self.states.len() {
                self.states.resize_with(id + 1, || None);
            }
            let cfg = &self.cfg;
            let st = self.states[id].get_or_insert_with(|| SeriesState::new(store.name(id), cfg));
            if let Some(prev) = st.last_step {
                if step < prev && restart.is_none() {
                    restart = Some((prev, step, id));
                }
            }
            st.last_step = Some(step);
            if st.role == Role::LearningRate && self.lr_series.is_none() {
                self.lr_series = Some(id);
            }
        }
        if let Some(found) = self.clock.observe(&self.cfg, step, meta.time, restart.map(|r| (r.0, r.1))) {
            let metric = restart.map(|r| store.name(r.2)).unwrap_or("");
            self.emit(RUN, metric, found);
        }
        // The learning rate first, so every message of this record can quote it.
        for &(id, v) in fields {
            if Some(id) == self.lr_series && v.is_finite() {
                self.lr = Some(v);
            }
        }
        let warmup = match self.lr_series.and_then(|id| self.states[id].as_ref()) {
            Some(SeriesState { det: Detectors::Lr(l), .. }) => l.in_warmup(),
            _ => false,
        };
        self.layer_scratch.clear();
        for &(id, v) in fields {
            self.observe_point(store, id, step, v, warmup);
        }
        self.observe_layers(store, step);
    }

    fn observe_point(&mut self, store: &Store, id: SeriesId, step: f64, v: f64, warmup: bool) {
        let name = store.name(id);
        let Some(role) = self.states[id].as_ref().map(|s| s.role) else { return };
        if role == Role::LayerGradNorm && v.is_finite() {
            self.layer_scratch.push((names::layer_index(name).unwrap_or(u64::MAX), id, v));
        }
        if role == Role::EvalLoss {
            self.find_pair(store, id);
        }
        // The paired training loss's level, read before this series' state is borrowed.
        let train_level = match self.states[id].as_ref().map(|s| &s.det) {
            Some(Detectors::EvalLoss { pair: Some(p), .. }) => match self.states[*p].as_ref().map(|s| &s.det)
            {
                Some(Detectors::TrainLoss { divergence, .. }) => Some(divergence.level()),
                _ => None,
            },
            _ => None,
        };
        let cfg = &self.cfg;
        let ctx = Ctx { step, name, lr: self.lr, warmup, is_lr: role == Role::LearningRate };
        let mut found: Vec<Finding> = Vec::new();
        let Some(st) = self.states[id].as_mut() else { return };
        let vital = matches!(role, Role::TrainLoss | Role::EvalLoss | Role::LearningRate);
        let nonfinite = st.nonfinite.observe(cfg, &ctx, v, vital).map(|mut f| {
            // One layer's NaN gradient repeats what the global norm already says.
            if role == Role::LayerGradNorm {
                f.severity = Severity::Info;
            }
            f
        });
        found.extend(nonfinite);
        if v.is_finite() {
            if v <= 0.0 {
                st.nonpositive = true;
            }
            let positive = !st.nonpositive;
            match &mut st.det {
                Detectors::TrainLoss { spike, divergence, plateau } if positive => {
                    found.extend(spike.observe(cfg, &ctx, v));
                    found.extend(divergence.observe(cfg, &ctx, v));
                    if !warmup {
                        let level = divergence.level();
                        found.extend(plateau.observe(
                            &ctx,
                            level,
                            cfg.plateau_train_rel,
                            cfg.plateau_train_patience,
                            "points",
                        ));
                    }
                }
                Detectors::EvalLoss { plateau, overfitting, .. } => {
                    found.extend(plateau.observe(
                        &ctx,
                        v,
                        cfg.plateau_rel,
                        cfg.plateau_patience,
                        "evaluations",
                    ));
                    if positive {
                        found.extend(overfitting.observe(cfg, &ctx, v, train_level));
                    }
                }
                Detectors::GradNorm(e) if positive => found.extend(e.observe(cfg, &ctx, v)),
                Detectors::Lr(l) => found.extend(l.observe(cfg, &ctx, v)),
                Detectors::Dead(d) => found.extend(d.observe(cfg, &ctx, v)),
                Detectors::Throughput(t) => found.extend(t.observe(cfg, &ctx, v, role == Role::StepTime)),
                _ => {}
            }
        }
        for f in found {
            self.emit(id, name, f);
        }
    }

    /// Looks up the training counterpart of eval loss `id`, again only when new series appeared.
    fn find_pair(&mut self, store: &Store, id: SeriesId) {
        let unpaired =
            matches!(self.states[id].as_ref().map(|s| &s.det), Some(Detectors::EvalLoss { pair: None, .. }));
        if !unpaired || self.pairs_checked == store.series_count() {
            return;
        }
        self.pairs_checked = store.series_count();
        let all: Vec<&str> =
            store.ids().map(|i| store.name(i)).filter(|n| names::role(n) == Role::TrainLoss).collect();
        let found = names::pair_of(store.name(id), &all).and_then(|n| store.find(n));
        if let Some(Some(SeriesState { det: Detectors::EvalLoss { pair, .. }, .. })) = self.states.get_mut(id)
        {
            *pair = found;
        }
    }

    /// Vanishing gradients: the per-layer norms this record carried, input layer first.
    fn observe_layers(&mut self, store: &Store, step: f64) {
        if self.layer_scratch.len() < 2 {
            return;
        }
        self.layer_scratch.sort_by_key(|&(idx, id, _)| (idx, id));
        let (_, first_id, first) = self.layer_scratch[0];
        let (_, last_id, last) = self.layer_scratch[self.layer_scratch.len() - 1];
        let found = self.vanishing.observe(
            &self.cfg,
            step,
            (store.name(first_id), first),
            (store.name(last_id), last),
        );
        if let Some(f) = found {
            self.emit(first_id, store.name(first_id), f);
        }
    }

    /// De-duplicates a finding and raises it as a flag when it is new or more severe.
    fn emit(&mut self, key: SeriesId, metric: &str, f: Finding) {
        let now = self.records;
        let cooldown = self.cfg.cooldown as u64;
        match self.latches.get_mut(&(f.kind, key)) {
            Some(l) if now - l.last_hit <= cooldown => {
                l.last_hit = now;
                if f.severity <= l.severity {
                    return;
                }
                l.severity = f.severity;
            }
            _ => {
                self.latches.insert((f.kind, key), Latch { severity: f.severity, last_hit: now });
            }
        }
        self.flags.push(Flag {
            kind: f.kind,
            severity: f.severity,
            metric: metric.to_owned(),
            step: f.began,
            message: f.message,
        });
    }

    /// Raises a flag found outside the records (a file truncated, the wall clock of a live stall).
    pub fn raise(&mut self, flag: Flag) {
        self.flags.push(flag);
    }

    /// All flags raised so far, in the order they were raised.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// Flags raised after the first `cursor` ones: a consumer keeps `flags().len()` as its cursor
    /// and asks for what is new.
    pub fn flags_since(&self, cursor: usize) -> &[Flag] {
        &self.flags[cursor.min(self.flags.len())..]
    }

    /// The most severe flag raised so far, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.flags.iter().map(|f| f.severity).max()
    }
}
