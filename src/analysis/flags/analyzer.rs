//! The streaming [`Analyzer`]: routes each point of a record to the detectors of its series'
//! role, runs the record-level detectors (time gaps, restart, per-layer gradients), and turns
//! findings into flags: de-duplicated per kind and metric (one flag while a condition persists,
//! a new one after `cooldown` records without it or on a severity upgrade), and coalesced per
//! record (thirty losses spiking on one line are one flag naming the others).
//!
//! Two rules are about the file rather than its records, and are told to the analyzer by the live
//! set (`crate::run::live`): the wall-clock stall ([`live_stall`](super::live_stall): records
//! arriving, the clock ticking) and a file that started over ([`Analyzer::file_restarted`]).
//!
//! Bounded: at most [`FLAGS_KEPT`] flags of each severity are kept; the ones after that are
//! counted ([`Analyzer::flags_not_kept`]), never dropped without a word, and a severity's cap
//! never crowds out another's (a critical flag after ten thousand restarts is still kept). A step
//! that goes back at a regular period (a per-epoch counter logged as the step) is told once and
//! then no longer raises a restart per period ([`super::restart::Resets`]).

use super::crash::{self, CrashReader};
use super::gaps::{self, Gaps, LongGap};
use super::live_stall::LiveStall;
use super::restart::{AfterCrash, Reset, Resets, Rewind};
use super::task::{Task, Trend};
use super::writers::{Place, Writers};
use super::{
    amp, dead, divergence, exploding, learning, lr, nonfinite, overfitting, plateau, spike, vanishing, Ctx,
    Finding, Flag, FlagConfig, FlagKind, Quiet, Severity,
};
use crate::analysis::names::{self, Role};
use crate::store::{RecordIdx, RecordMeta, SeriesId, SeriesNames, Store};
use std::time::Instant;

/// Detectors of one series, chosen by its role.
#[derive(Clone, Debug)]
enum Detectors {
    TrainLoss {
        spike: Box<spike::Spike>,
        divergence: Box<divergence::Divergence>,
        plateau: plateau::Plateau,
        learning: Box<learning::Learning>,
    },
    EvalLoss {
        plateau: plateau::Plateau,
        overfitting: Box<overfitting::Overfitting>,
        learning: Box<learning::Learning>,
        pair: Option<SeriesId>,
        checked: usize,
    },
    GradNorm(Box<exploding::Exploding>),
    Lr(lr::Lr),
    Dead(dead::Dead),
    LossScale(amp::LossScale),
    Throughput(Box<super::throughput::Throughput>),
    None,
}

impl Detectors {
    /// A loss whose "not learning" rule saw it learn.
    fn learned(&self) -> bool {
        match self {
            Detectors::TrainLoss { learning, .. } | Detectors::EvalLoss { learning, .. } => {
                learning.learned()
            }
            _ => false,
        }
    }

    fn mark_learned(&mut self) {
        if let Detectors::TrainLoss { learning, .. } | Detectors::EvalLoss { learning, .. } = self {
            learning.mark_learned();
        }
    }

    fn for_role(role: Role, cfg: &FlagConfig) -> Self {
        match role {
            Role::TrainLoss => Detectors::TrainLoss {
                spike: Box::new(spike::Spike::new(cfg)),
                divergence: Box::new(divergence::Divergence::new(cfg)),
                plateau: plateau::Plateau::default(),
                learning: Box::new(learning::Learning::new(learning::TRAIN_BLOCK)),
            },
            Role::EvalLoss => Detectors::EvalLoss {
                plateau: plateau::Plateau::default(),
                overfitting: Box::new(overfitting::Overfitting::new(cfg)),
                learning: Box::new(learning::Learning::new(1)),
                pair: None,
                checked: 0,
            },
            Role::GradNorm => Detectors::GradNorm(Box::new(exploding::Exploding::new(cfg))),
            Role::LearningRate => Detectors::Lr(lr::Lr::default()),
            Role::LossScale => Detectors::LossScale(amp::LossScale::default()),
            Role::DeadFraction => Detectors::Dead(dead::Dead::default()),
            Role::Throughput | Role::StepTime => {
                Detectors::Throughput(Box::new(super::throughput::Throughput::new(cfg)))
            }
            _ => Detectors::None,
        }
    }
}

/// What every point of a series reads or writes, one cache line a series in a dense vector by
/// series id ([`Analyzer::hot`]): a point of a series without detectors (an accuracy, an epoch)
/// touches nothing else, and one with detectors touches its [`SeriesState`] only for them. (The
/// whole state, 568 bytes, had these fields spread over four cache lines, first touched at every
/// point: 7-9% of `tmon check`'s analysis thread.)
#[derive(Clone, Debug)]
#[repr(align(64))]
struct Hot {
    nonfinite: nonfinite::Nonfinite,
    /// The series' last step, when `has_last`.
    last_step: f64,
    /// A held-out task metric: its index in the analyzer's `tasks`.
    task: Option<u32>,
    role: Role,
    /// The series has a [`SeriesState`] (it was seen).
    known: bool,
    has_last: bool,
    /// Its state holds a rewind waiting for confirmation (`SeriesState::rewind` is `Some`).
    rewinding: bool,
    /// Log-space detectors stop once a value <= 0 is seen.
    nonpositive: bool,
    /// A training loss that can be the run's main one (`loss`, a total), decided once.
    main_candidate: bool,
}

const _: () = assert!(std::mem::size_of::<Hot>() == 64);

impl Hot {
    const UNSEEN: Hot = Hot {
        nonfinite: nonfinite::Nonfinite::NEW,
        last_step: 0.0,
        task: None,
        role: Role::Other,
        known: false,
        has_last: false,
        rewinding: false,
        nonpositive: false,
        main_candidate: false,
    };

    fn last_step(&self) -> Option<f64> {
        self.has_last.then_some(self.last_step)
    }
}

/// The rest of a series' state: its detectors, flag latches, a pending rewind.
#[derive(Clone, Debug)]
struct SeriesState {
    rewind: Option<Rewind>,
    det: Detectors,
    /// Position among per-layer gradient norms (the number in the name), parsed once.
    layer: u64,
    /// An eval loss's latest pair lookup: (series count then, the training pair found). The
    /// lookup is a function of the name and of the series then known, so a rewind (which starts
    /// the detectors' own lookup over) reuses it while no series was added.
    pair_lookup: Option<(usize, Option<SeriesId>)>,
    latches: Latches,
}

/// The last flag of each kind: severity and the record it was last seen at.
type Latches = [Option<Latch>; <FlagKind as strum::EnumCount>::COUNT];

#[derive(Clone, Copy, Debug)]
struct Latch {
    severity: Severity,
    last_hit: u64,
}

/// Key of record-level flags (stall, restart) in the latch table.
const RUN: SeriesId = SeriesId::MAX;

/// Flags kept per severity; more are counted, not kept. A run that raises this many has one
/// problem told many times, and the first ten thousand say it; the cap keeps a log that raises a
/// flag every few records from growing memory (and `check`'s output) without bound.
pub const FLAGS_KEPT: usize = 10_000;

/// Raises flags from records as they arrive; holds only bounded per-series state.
#[derive(Debug, Default)]
pub struct Analyzer {
    cfg: FlagConfig,
    flags: Vec<Flag>,
    /// Each series' hot part, by series id; `hot[id].known` exactly when `states[id]` is `Some`.
    hot: Vec<Hot>,
    states: Vec<Option<SeriesState>>,
    /// Latches of record-level flags (stall); per-series ones live in the series' state.
    run_latches: Latches,
    records: u64,
    gaps: Gaps,
    vanishing: vanishing::Vanishing,
    last_restart_record: Option<u64>,
    /// Confirmed rewinds, to tell a per-epoch step counter from restarts.
    resets: Resets,
    /// Flags kept and flags counted beyond [`FLAGS_KEPT`], by severity.
    kept: [usize; 3],
    not_kept: [u64; 3],
    /// The series whose learning rate sets `lr` and warmup (the first one seen).
    lr_series: Option<SeriesId>,
    lr: Option<f64>,
    layers: Vec<(u64, SeriesId, f64)>,
    found: Vec<(SeriesId, Finding)>,
    /// The run's main training loss (`loss`, `total_loss`, `train/loss`), if it has one.
    main_loss: Option<SeriesId>,
    /// A series of the current record went back in steps.
    rewound_here: bool,
    /// Buffers reused from record to record.
    fresh: Vec<(Flag, Vec<String>)>,
    /// The step of the last record seen (where a live stall is dated).
    last_step: Option<f64>,
    /// The wall-clock stall of a live run.
    live: LiveStall,
    /// The sequences the record steps form, to tell two writers from restarts.
    writers: Writers,
    /// Where the current record's step went among them.
    place: Option<Place>,
    /// The largest step a series of the current record went back from.
    rewound_from: Option<f64>,
    /// Reads the log's non-JSON lines for the errors a run dies of.
    crash: CrashReader,
    /// Skipped lines of the store read so far.
    skipped_seen: u64,
    /// The last crash read, for the restart that may follow it.
    last_crash: Option<AfterCrash>,
    /// A crash was read since the last record.
    crash_pending: bool,
    /// Where the crash flags raised since the last record are in `flags`: the next record tells
    /// whether the run died of them (nothing follows, or a resume goes back) or went on.
    crash_flags: Vec<usize>,
    /// The run's loss scale (mixed precision), if it logs one.
    loss_scale: Option<SeriesId>,
    /// The log printed a skipped mixed-precision step (DeepSpeed's `OVERFLOW!`).
    amp_printed: bool,
    /// The run's held-out task metrics (accuracy, AP, error rates), for overfitting and learning.
    tasks: Vec<(SeriesId, Task)>,
    /// One watch per histogram name.
    dists: std::collections::HashMap<String, super::dist::DistWatch>,
}

impl Analyzer {
    pub fn new(cfg: FlagConfig) -> Self {
        Analyzer { live: LiveStall::new(&cfg), cfg, ..Default::default() }
    }

    pub fn config(&self) -> &FlagConfig {
        &self.cfg
    }

    /// Feeds one record: `fields` are the (series, value) pairs it carried, in arrival order.
    pub fn observe(&mut self, store: &Store, rec: RecordIdx, fields: &[(SeriesId, f64)]) {
        // Non-JSON lines that came before this record and were not handed over yet.
        if store.skipped.count != self.skipped_seen {
            self.observe_skipped(store);
        }
        self.observe_record(store, store.record(rec), fields);
        if !store.histograms().is_empty() {
            for (name, step, pct) in histograms_on(store, rec) {
                self.observe_histogram(&name, step, &pct);
            }
        }
    }

    /// Feeds one histogram point: its name, step and percentiles
    /// ([`crate::analysis::dist::percentiles`]). [`Analyzer::observe`] calls it for the
    /// histograms a record carried, after the record's values.
    pub fn observe_histogram(&mut self, name: &str, step: f64, pct: &[f64; 9]) {
        let cfg = &self.cfg;
        let watch = match self.dists.get_mut(name) {
            Some(w) => w,
            None => self.dists.entry(name.to_owned()).or_default(),
        };
        let found = watch.observe(cfg, name, step, pct);
        for f in found {
            if !f.is_still() {
                self.keep(Flag {
                    kind: f.kind,
                    severity: f.severity,
                    metric: name.to_owned(),
                    step: f.began,
                    message: f.message,
                });
            }
        }
    }

    /// As [`observe`](Self::observe), for a reader that analyses records apart from the store
    /// they were appended to (the block reader analyses a block while the next one is stored):
    /// `names` are the run's series as they were when the record was appended, `meta` the
    /// record's.
    pub fn observe_record<N: SeriesNames + ?Sized>(
        &mut self,
        store: &N,
        meta: RecordMeta,
        fields: &[(SeriesId, f64)],
    ) {
        self.records += 1;
        let after_crash = std::mem::take(&mut self.crash_pending);
        self.crash.record();
        let step = meta.step;
        let prev_step = self.last_step.replace(step);
        // Steps that go on past an error line: the run caught it (a batch-size finder's CUDA out
        // of memory, a printed traceback) and did not die of it.
        let went_on = !self.crash_flags.is_empty() && prev_step.is_some_and(|p| step > p);
        let after_crash = if went_on {
            for i in std::mem::take(&mut self.crash_flags) {
                self.survived(i, step);
            }
            self.last_crash = None;
            false
        } else {
            self.crash_flags.clear();
            after_crash
        };
        self.found.clear();
        self.rewound_here = false;
        self.rewound_from = None;
        self.place = Some(self.writers.place(step));
        self.observe_steps(store, fields, step, after_crash);
        if self.place == Some(Place::Returned) {
            if let Some(f) = self.writers.returned(self.rewound_from.map(|from| (from, step))) {
                self.found.push((RUN, f));
            }
        }
        let gap = self.gaps.observe(&self.cfg, step, meta.time);
        // Only a record that started a rewind can still hold one dated here (a series listed
        // twice may have consumed it already): the scan runs only then.
        let now = self.records;
        let rewound_here = self.rewound_here
            && fields
                .iter()
                .any(|&(id, _)| self.state(id).and_then(|s| s.rewind).is_some_and(|r| r.record == now));
        if rewound_here {
            // A shorter pause before a restart is the restart's, not a stall to tell later.
            if let Some(p) = prev_step {
                self.gaps.forget_waiting_at(p);
            }
        }
        match gap {
            Some(g) if rewound_here => self.attach_gap(fields, g),
            Some(g) => self.found.push((RUN, gaps::stall(&self.cfg, g, step))),
            None => {}
        }
        if let Some(g) = self.gaps.due(step) {
            self.found.push((RUN, gaps::stall(&self.cfg, g, step)));
        }
        // The learning rate first, so every message of this record can quote it.
        for &(id, v) in fields {
            if Some(id) == self.lr_series && v.is_finite() {
                self.lr = Some(v);
            }
        }
        let warmup = match self.lr_series.and_then(|id| self.state(id)) {
            Some(SeriesState { det: Detectors::Lr(l), .. }) => l.in_warmup(),
            _ => false,
        };
        self.layers.clear();
        for &(id, v) in fields {
            self.observe_point(store, id, step, v, warmup);
        }
        self.observe_layers(store, step);
        self.soften_component_divergence(store);
        self.recheck_overfitting(store);
        self.flush(store);
    }

    /// An overfitting warning raised by this record with no task metric to weigh, whose task
    /// metric came later in the same record (Hugging Face writes `eval_loss` before `eval_wer`):
    /// weighed again now that the record is in. Only a metric that improves beyond its noise
    /// makes it info; one that merely holds does not (the decision was a warning, and a noisy
    /// accuracy over a small validation set "holds" through real overfitting).
    fn recheck_overfitting<N: SeriesNames + ?Sized>(&mut self, store: &N) {
        if self.tasks.is_empty() {
            return;
        }
        for k in 0..self.found.len() {
            let (id, f) = &self.found[k];
            if f.kind != FlagKind::Overfitting || f.severity != Severity::Warning || f.message.is_empty() {
                continue;
            }
            let Some(Some(SeriesState { det: Detectors::EvalLoss { overfitting, .. }, .. })) =
                self.states.get_mut(*id)
            else {
                continue;
            };
            if !overfitting.warned_without_task() {
                continue;
            }
            let Some((name, Trend::Improves, then, now)) =
                task_since(store, &mut self.tasks, &self.cfg, f.began)
            else {
                continue;
            };
            let note = super::overfitting::improves_note(&name, then, f.began, now);
            overfitting.task_improves(note.clone());
            let f = &mut self.found[k].1;
            f.severity = Severity::Info;
            f.message.push_str(&note);
        }
    }

    fn state(&self, id: SeriesId) -> Option<&SeriesState> {
        self.states.get(id).and_then(Option::as_ref)
    }

    fn hot(&self, id: SeriesId) -> Option<&Hot> {
        self.hot.get(id).filter(|h| h.known)
    }

    /// Creates states for new series, confirms pending rewinds and starts new ones.
    fn observe_steps<N: SeriesNames + ?Sized>(
        &mut self,
        store: &N,
        fields: &[(SeriesId, f64)],
        step: f64,
        after_crash: bool,
    ) {
        let now = self.records;
        for &(id, _) in fields {
            if id >= self.hot.len() || !self.hot[id].known {
                self.first_seen(store, id);
            }
            let h = &mut self.hot[id];
            // Tested first: taking moves the whole (mostly empty) option on every point.
            if h.rewinding {
                h.rewinding = false;
                if let Some(r) = self.states[id].as_mut().and_then(|st| st.rewind.take()) {
                    let writer = r.onto_writer && self.writers.told();
                    if r.confirmed_by(step) && !writer && self.last_restart_record != Some(r.record) {
                        self.last_restart_record = Some(r.record);
                        match self.resets.confirmed(r.record, r.from, r.to) {
                            Reset::Restart => self.found.push((RUN, r.finding(self.last_crash.as_ref()))),
                            Reset::Periodic(f) => self.found.push((RUN, f)),
                            Reset::Expected => {}
                        }
                    }
                }
            }
            if let Some(prev) = h.last_step() {
                // A reset of a per-epoch counter, once known, is no rewind: the series carries on
                // with its baselines.
                if step < prev && !self.resets.expects(now, prev, step) {
                    if let Some(st) = self.states[id].as_mut() {
                        let onto_writer = self.place == Some(Place::Returned);
                        st.rewind = Some(Rewind {
                            from: prev,
                            to: step,
                            record: now,
                            gap: None,
                            onto_writer,
                            after_crash,
                        });
                        h.rewinding = true;
                        self.rewound_here = true;
                        self.rewound_from = Some(self.rewound_from.map_or(prev, |f: f64| f.max(prev)));
                        // A new run (or another axis) starts: its baselines start afresh. A loss
                        // that learned before is a learning run: a resume from its checkpoint
                        // starts low.
                        let learned = st.det.learned();
                        st.det = Detectors::for_role(h.role, &self.cfg);
                        if learned {
                            st.det.mark_learned();
                        }
                        h.nonpositive = false;
                    }
                }
            }
            h.last_step = step;
            h.has_last = true;
            if h.role == Role::LearningRate && self.lr_series.is_none() {
                self.lr_series = Some(id);
            }
            if h.main_candidate && self.main_loss.is_none() {
                self.main_loss = Some(id);
            }
            if h.role == Role::LossScale && self.loss_scale.is_none() {
                self.loss_scale = Some(id);
            }
        }
    }

    /// The state of series `id`, seen for the first time.
    #[cold]
    fn first_seen<N: SeriesNames + ?Sized>(&mut self, store: &N, id: SeriesId) {
        if id >= self.hot.len() {
            self.hot.resize(id + 1, Hot::UNSEEN);
            self.states.resize_with(id + 1, || None);
        }
        let name = store.name(id);
        let role = names::role(name);
        self.states[id] = Some(SeriesState {
            rewind: None,
            det: Detectors::for_role(role, &self.cfg),
            layer: names::layer_index(name).unwrap_or(u64::MAX),
            pair_lookup: None,
            latches: Default::default(),
        });
        let h = &mut self.hot[id];
        *h = Hot {
            role,
            known: true,
            main_candidate: role == Role::TrainLoss && representative(name).0 == 0,
            ..Hot::UNSEEN
        };
        // Asked once per series (the name's test lowercases it: per point it cost 4% of reading
        // an event file whose accuracy is a training one).
        if names::is_task_metric(role) && names::is_held_out(name) {
            h.task = Some(self.tasks.len() as u32);
            self.tasks.push((id, Task::new(role == Role::Accuracy, names::headline_rank(name))));
        }
    }

    fn attach_gap(&mut self, fields: &[(SeriesId, f64)], gap: LongGap) {
        for &(id, _) in fields {
            if let Some(Some(st)) = self.states.get_mut(id) {
                if let Some(r) = st.rewind.as_mut() {
                    r.gap = Some(gap);
                }
            }
        }
    }

    fn observe_point<N: SeriesNames + ?Sized>(
        &mut self,
        store: &N,
        id: SeriesId,
        step: f64,
        v: f64,
        warmup: bool,
    ) {
        let Some(h) = self.hot.get_mut(id).filter(|h| h.known) else { return };
        let role = h.role;
        // Most points are finite and of a series without detectors: they cost a few stores to
        // its hot part.
        if v.is_finite() {
            h.nonfinite.finite(step, v);
            match role {
                Role::LayerGradNorm => {
                    h.nonpositive |= v <= 0.0;
                    let layer = self.states[id].as_ref().map_or(u64::MAX, |st| st.layer);
                    self.layers.push((layer, id, v));
                    return;
                }
                Role::Accuracy | Role::ErrorRate | Role::Other => {
                    h.nonpositive |= v <= 0.0;
                    if let Some(i) = h.task {
                        if let Some((_, t)) = self.tasks.get_mut(i as usize) {
                            t.observe(step, v);
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        let name = store.name(id);
        let train_level = if role == Role::EvalLoss { self.paired_ln_level(store, id) } else { None };
        // A gradient norm's overflow is routine under mixed precision: the run logs a loss scale,
        // printed a skipped step, or its loss stays finite.
        let overflow = if !v.is_finite() && matches!(role, Role::GradNorm | Role::LayerGradNorm) {
            self.overflow_context(store, id)
        } else {
            None
        };
        let cfg = &self.cfg;
        let found = &mut self.found;
        let tasks = &mut self.tasks;
        let (Some(h), Some(Some(st))) = (self.hot.get_mut(id), self.states.get_mut(id)) else { return };
        let (now, cooldown) = (self.records, cfg.cooldown as u64);
        // What `latch` would drop at this record (see `Quiet`).
        let fresh =
            |k: FlagKind| st.latches[k as usize].filter(|l| now - l.last_hit <= cooldown).map(|l| l.severity);
        let quiet = Quiet { spike: fresh(FlagKind::Spike), plateau: fresh(FlagKind::Plateau) };
        let ctx = Ctx { step, name, lr: self.lr, warmup, is_lr: role == Role::LearningRate, quiet };
        if !v.is_finite() {
            let vital = matches!(role, Role::TrainLoss | Role::EvalLoss | Role::LearningRate);
            let found_here = h.nonfinite.observe(cfg, &ctx, v, vital);
            let (run, since) = h.nonfinite.run();
            if let Some(mut f) = found_here {
                // One layer's NaN gradient repeats what the global norm already says.
                if role == Role::LayerGradNorm {
                    f.severity = Severity::Info;
                }
                if let Some(scale) = &overflow {
                    f.severity = Severity::Info;
                    f.message.push_str(&amp::overflow_note(scale.as_ref().map(|(n, s)| (n.as_str(), *s))));
                }
                found.push((id, f));
            } else if let Some(scale) = overflow.as_ref().filter(|_| role == Role::GradNorm) {
                // With a loss scale logged, consecutive overflows are the scale finding its level
                // (GradScaler halves once per step) up to `amp.persist`; without one, an overflow
                // is routine only when isolated: the next point is finite again.
                let persist = if scale.is_some() || self.amp_printed { cfg.amp_persist as u64 } else { 2 };
                if run == persist {
                    // Skipped step after skipped step: the scale never finds one that fits.
                    found.push((
                        id,
                        Finding {
                            kind: FlagKind::Nonfinite,
                            severity: Severity::Warning,
                            began: since,
                            message: amp::persistent(name, run, since),
                        },
                    ));
                }
            }
            return;
        }
        h.nonpositive |= v <= 0.0;
        let positive = !h.nonpositive;
        let latches = &mut st.latches;
        let mut push = |f: Option<Finding>| {
            let Some(f) = f else { return };
            // A condition that still holds under a fresh latch only refreshes it, whatever else
            // this record finds: done here rather than through `flush`. (A divergence may still
            // be softened, which changes its severity: it goes through `flush`.)
            if f.is_still() && f.kind != FlagKind::Divergence {
                if let Some(l) = latches[f.kind as usize].as_mut() {
                    if now - l.last_hit <= cooldown {
                        l.last_hit = now;
                        return;
                    }
                }
            }
            found.push((id, f));
        };
        match &mut st.det {
            Detectors::TrainLoss { spike, divergence, plateau, learning } if positive => {
                // One log and one window for both: the spike is judged before the point joins.
                let x = v.ln();
                push(spike.observe(cfg, &ctx, v, x, divergence.baseline()));
                push(divergence.observe(cfg, &ctx, x));
                if !learning.learned() {
                    let base = divergence.baseline();
                    push(learning.observe(cfg, &ctx, x, || base.scale(), || support(store, tasks, cfg)));
                }
                if !warmup {
                    push(
                        plateau.observe_log(
                            &ctx,
                            divergence.ln_level(),
                            cfg.plateau_train_rel,
                            cfg.plateau_train_patience
                                .max((plateau.seen() as f64 * cfg.plateau_train_patience_frac) as usize),
                            "points",
                        ),
                    );
                }
            }
            Detectors::EvalLoss { plateau, overfitting, learning, .. } => {
                push(plateau.observe(&ctx, v, cfg.plateau_rel, cfg.plateau_patience, "evaluations"));
                if positive {
                    // One log for both rules.
                    let x = v.ln();
                    push(
                        overfitting
                            .observe(cfg, &ctx, v, x, train_level, |low| task_since(store, tasks, cfg, low)),
                    );
                    if !learning.learned() {
                        let noise = overfitting.noise().max(1e-4);
                        push(learning.observe(cfg, &ctx, x, || noise, || support(store, tasks, cfg)));
                    }
                }
            }
            Detectors::GradNorm(e) if positive => push(e.observe(cfg, &ctx, v)),
            Detectors::Lr(l) => push(l.observe(cfg, &ctx, v)),
            Detectors::Dead(d) => push(d.observe(cfg, &ctx, v)),
            Detectors::LossScale(l) => push(l.observe(cfg, &ctx, v)),
            Detectors::Throughput(t) => push(t.observe(cfg, &ctx, v, role == Role::StepTime)),
            _ => {}
        }
    }

    /// For a non-finite gradient norm: `Some` when it is a mixed-precision overflow (the run logs a
    /// loss scale, whose name and latest value are given; printed a skipped step; or its main loss
    /// is finite), `None` when nothing says so.
    fn overflow_context<N: SeriesNames + ?Sized>(
        &self,
        store: &N,
        grad: SeriesId,
    ) -> Option<Option<(String, f64)>> {
        if let Some(id) = self.loss_scale {
            let last = self.hot(id).and_then(|h| h.nonfinite.last_value());
            return Some(last.map(|v| (store.name(id).to_owned(), v)));
        }
        if self.amp_printed {
            return Some(None);
        }
        // Without a loss scale, only an overflow out of an ordinary gradient norm: one that was
        // already exploding (1e14 the step before) overflows in any precision.
        let ordinary = match (self.state(grad), self.hot(grad)) {
            (Some(st), Some(h)) => match (&st.det, h.nonfinite.last_value()) {
                (Detectors::GradNorm(e), Some(v)) => e.ordinary(&self.cfg, v),
                (_, Some(_)) => true,
                (_, None) => false,
            },
            _ => false,
        };
        let main = self.main_loss?;
        let h = self.hot(main)?;
        (ordinary && !h.nonfinite.inside() && h.nonfinite.last_value().is_some()).then_some(None)
    }

    /// The log of the current level of eval loss `id`'s training counterpart (the overfitting rule
    /// takes its `exp` only when it needs the level: most evaluations do not). The pair is looked
    /// up again only when new series appeared since the last try.
    fn paired_ln_level<N: SeriesNames + ?Sized>(&mut self, store: &N, id: SeriesId) -> Option<f64> {
        let count = store.series_count();
        let lookup = match self.state(id).map(|s| &s.det) {
            Some(Detectors::EvalLoss { pair: None, checked, .. }) => *checked != count,
            _ => false,
        };
        if lookup {
            let found = match self.state(id).and_then(|s| s.pair_lookup) {
                Some((then, found)) if then == count => found,
                _ => {
                    // A series' role is a function of its name: the one its state was made with,
                    // when it has one (`role` costs a microsecond).
                    let all: Vec<&str> = (0..count)
                        .filter(|&i| {
                            self.hot(i).map_or_else(|| names::role(store.name(i)), |h| h.role)
                                == Role::TrainLoss
                        })
                        .map(|i| store.name(i))
                        .collect();
                    names::pair_of(store.name(id), &all).and_then(|n| store.find(n))
                }
            };
            if let Some(Some(st)) = self.states.get_mut(id) {
                st.pair_lookup = Some((count, found));
                if let Detectors::EvalLoss { pair, checked, .. } = &mut st.det {
                    *pair = found;
                    *checked = count;
                }
            }
        }
        let pair = match self.state(id).map(|s| &s.det) {
            Some(Detectors::EvalLoss { pair: Some(p), .. }) => *p,
            _ => return None,
        };
        match self.state(pair).map(|s| &s.det) {
            Some(Detectors::TrainLoss { divergence, .. }) => Some(divergence.ln_level()),
            _ => None,
        }
    }

    /// Vanishing gradients: the per-layer norms this record carried, input layer first.
    fn observe_layers<N: SeriesNames + ?Sized>(&mut self, store: &N, step: f64) {
        if self.layers.len() < 2 {
            return;
        }
        self.layers.sort_by_key(|&(idx, id, _)| (idx, id));
        let (_, first_id, first) = self.layers[0];
        let (_, last_id, last) = self.layers[self.layers.len() - 1];
        let found = self.vanishing.observe(
            &self.cfg,
            step,
            (store.name(first_id), first),
            (store.name(last_id), last),
        );
        if let Some(f) = found {
            self.found.push((first_id, f));
        }
    }

    /// A component loss (`loss_ce`) climbing while the main loss (`total_loss`) is not is a
    /// trade-off between loss terms, not a diverging run: told as info.
    fn soften_component_divergence<N: SeriesNames + ?Sized>(&mut self, store: &N) {
        let Some(main) = self.main_loss else { return };
        let main_rising = match self.state(main).map(|s| &s.det) {
            Some(Detectors::TrainLoss { divergence, .. }) => divergence.rising(),
            _ => return,
        };
        if main_rising {
            return;
        }
        for (key, f) in self.found.iter_mut() {
            if f.kind == FlagKind::Divergence && *key != main && f.severity > Severity::Info {
                f.severity = Severity::Info;
                if !f.is_still() {
                    f.message = f.message.replacen(" is diverging:", " is climbing:", 1);
                    f.message.push_str(&format!(
                        " while {} is not rising: a trade-off between loss terms",
                        store.name(main)
                    ));
                }
            }
        }
    }

    /// Turns this record's findings into flags: de-duplicated, then coalesced per (kind,
    /// severity) so one line that trips thirty losses raises one flag naming the others.
    fn flush<N: SeriesNames + ?Sized>(&mut self, store: &N) {
        if self.found.is_empty() {
            return;
        }
        let mut fresh = std::mem::take(&mut self.fresh);
        let mut found = std::mem::take(&mut self.found);
        for (key, f) in found.drain(..) {
            if !self.latch(key, &f) {
                continue;
            }
            let metric = if key == RUN { String::new() } else { store.name(key).to_owned() };
            let flag = Flag { kind: f.kind, severity: f.severity, metric, step: f.began, message: f.message };
            match fresh.iter_mut().find(|(g, _)| g.kind == flag.kind && g.severity == flag.severity) {
                Some((g, others)) if representative(&flag.metric) < representative(&g.metric) => {
                    others.push(std::mem::replace(g, flag).metric);
                }
                Some((_, others)) => others.push(flag.metric),
                None => fresh.push((flag, Vec::new())),
            }
        }
        self.found = found;
        for (mut flag, others) in fresh.drain(..) {
            if !others.is_empty() {
                let shown: Vec<&str> = others.iter().take(3).map(String::as_str).collect();
                let more =
                    if others.len() > 3 { format!(", ... ({} in all)", others.len()) } else { String::new() };
                flag.message.push_str(&format!("; also {}{more}", shown.join(", ")));
            }
            self.keep(flag);
        }
        self.fresh = fresh;
    }

    /// True when the finding is new or more severe than what its kind and metric last raised.
    /// A "still" finding only keeps the latch fresh.
    fn latch(&mut self, key: SeriesId, f: &Finding) -> bool {
        if f.kind == FlagKind::Restart {
            // De-duplicated by rewinding record already; two restarts are two events.
            return true;
        }
        let now = self.records;
        let cooldown = self.cfg.cooldown as u64;
        let latches = if key == RUN {
            &mut self.run_latches
        } else {
            match self.states.get_mut(key) {
                Some(Some(st)) => &mut st.latches,
                _ => return !f.is_still(),
            }
        };
        let slot = &mut latches[f.kind as usize];
        match slot {
            Some(l) if now - l.last_hit <= cooldown => {
                l.last_hit = now;
                if f.is_still() || f.severity <= l.severity {
                    return false;
                }
                l.severity = f.severity;
                true
            }
            _ => {
                *slot = Some(Latch { severity: f.severity, last_hit: now });
                !f.is_still()
            }
        }
    }

    /// Reads the lines the store skipped since the last call (not JSON: a traceback, a print) for
    /// the errors a run dies of, and raises a critical `crash` flag for one, dated at the last
    /// step read. Called by the run after each line it skipped; [`Analyzer::observe`] catches up
    /// on any it was not told of. Only the lines the store kept with their text can be read (the
    /// first `SKIPPED_KEPT`, and the most recent), which is every line when called per line.
    pub fn observe_skipped(&mut self, store: &Store) {
        let sk = &store.skipped;
        while self.skipped_seen < sk.count {
            let line = match sk.kept.get(self.skipped_seen as usize) {
                Some(l) => Some(l),
                None if self.skipped_seen + 1 == sk.count => sk.last.as_ref(),
                // Counted but no longer kept: its text is gone.
                None => None,
            };
            self.skipped_line(line.map(|l| (l.line, l.text.as_str())));
        }
    }

    /// As [`observe_skipped`](Self::observe_skipped), one skipped line at a time, for a reader
    /// that analyses apart from the store (the block reader): the next line the store skipped,
    /// with its number and text when the store kept them (`None`: counted, text gone).
    pub fn skipped_line(&mut self, line: Option<(u64, &str)>) {
        self.skipped_seen += 1;
        let Some((line_no, text)) = line else { return };
        if !self.amp_printed && amp::overflow_line(text) {
            self.amp_printed = true;
        }
        let Some(c) = self.crash.line(line_no, text) else { return };
        let message = crash::message(&c, self.last_step);
        self.last_crash = Some(AfterCrash { text: c.text, step: self.last_step });
        self.crash_pending = true;
        let before = self.flags.len();
        self.keep(Flag {
            kind: FlagKind::Crash,
            severity: Severity::Critical,
            metric: String::new(),
            step: self.last_step.unwrap_or(f64::NAN),
            message,
        });
        if self.flags.len() > before {
            self.crash_flags.push(before);
        }
    }

    /// The crash flag at `i` was an error the run went on from (its next record, at `step`,
    /// carries on forward): info, saying so. A follower that printed it already has printed a
    /// critical; the store of flags, the monitor and `tmon check` tell the truth.
    fn survived(&mut self, i: usize, step: f64) {
        let Some(f) = self.flags.get_mut(i) else { return };
        if f.kind != FlagKind::Crash || f.severity != Severity::Critical {
            return;
        }
        f.severity = Severity::Info;
        f.message = crash::survived_message(&f.message, step);
        self.kept[Severity::Critical as usize] -= 1;
        self.kept[Severity::Info as usize] += 1;
    }

    /// Where the first crash flag still waiting for its verdict is in [`flags`](Self::flags): raised
    /// critical, it becomes info if the next record's step goes on ([`Analyzer::survived`]). A
    /// follower that prints flags as they come holds it (and what follows it) until that record,
    /// or until the run has been quiet for a moment (see `follow::CRASH_HOLD`).
    pub fn undecided_crash(&self) -> Option<usize> {
        self.crash_flags.iter().copied().min()
    }

    /// The error the run died of, while it is the last thing read: a crash (a traceback's last
    /// line, see `crash.rs`) with no record after it. A record after it clears this, whether the
    /// run went on (the error was caught) or restarted.
    pub fn crashed(&self) -> Option<&str> {
        self.last_crash.as_ref().filter(|_| self.crash_pending).map(|c| c.text.as_str())
    }

    /// Adds a flag made elsewhere: for tests and fixtures that need a given flag on screen.
    /// tmon's own flags are all raised by the rules of this module.
    #[doc(hidden)]
    pub fn raise(&mut self, flag: Flag) {
        self.keep(flag);
    }

    /// Keeps `flag`, or counts it once its severity has [`FLAGS_KEPT`] flags.
    fn keep(&mut self, flag: Flag) {
        let s = flag.severity as usize;
        if self.kept[s] < FLAGS_KEPT {
            self.kept[s] += 1;
            self.flags.push(flag);
        } else {
            self.not_kept[s] += 1;
        }
    }

    /// Flags raised beyond [`FLAGS_KEPT`] of their severity: counted, not kept.
    pub fn flags_not_kept(&self) -> u64 {
        self.not_kept.iter().sum()
    }

    /// [`Analyzer::flags_not_kept`] of one severity.
    pub fn flags_not_kept_of(&self, severity: Severity) -> u64 {
        self.not_kept[severity as usize]
    }

    /// The file started over (truncated, replaced, or a document rewritten with another
    /// history) after `last_step` (`None`: before any record): the records that follow belong to
    /// a new run. Raises an `info` restart flag saying so. Steps going back from here are
    /// expected, not a restart to report again, and every baseline (series, time gaps, layers)
    /// starts afresh. Flags raised so far are kept.
    pub fn file_restarted(&mut self, reason: &str, last_step: Option<f64>) {
        for (h, st) in self.hot.iter_mut().zip(&mut self.states) {
            let Some(st) = st else { continue };
            h.has_last = false;
            h.rewinding = false;
            st.rewind = None;
            h.nonpositive = false;
            st.det = Detectors::for_role(h.role, &self.cfg);
        }
        self.gaps = Gaps::default();
        self.crash = CrashReader::default();
        self.crash_pending = false;
        self.crash_flags.clear();
        self.resets = Resets::default();
        self.writers.reset();
        self.vanishing = Default::default();
        self.layers.clear();
        self.lr = None;
        let step = last_step.unwrap_or(0.0);
        self.keep(Flag {
            kind: FlagKind::Restart,
            severity: Severity::Info,
            metric: String::new(),
            step,
            message: format!(
                "the file started over after step {} ({reason}); reading it again from its start",
                crate::text::step(step)
            ),
        });
    }

    /// `n` new records reached the run at `now` (the live stall's clock): raises the "records
    /// resumed" info flag when a stall had been raised. `step_name` is the run's step key (the
    /// flag's metric). Returns true when a flag was raised.
    pub fn records_arrived(&mut self, n: usize, now: Instant, step_name: &str) -> bool {
        let found = self.live.arrived(n, now);
        self.raise_live_stall(found, step_name)
    }

    /// The wall clock says `now` (call about once a second): raises a live stall, warning then
    /// critical, once each per silence. Returns true when a flag was raised.
    pub fn check_live_stall(&mut self, now: Instant, step_name: &str) -> bool {
        let found = self.live.check(now);
        self.raise_live_stall(found, step_name)
    }

    /// The live stall's state (its thresholds as learnt so far).
    pub fn live_stall(&self) -> &LiveStall {
        &self.live
    }

    fn raise_live_stall(&mut self, found: Option<(Severity, String)>, step_name: &str) -> bool {
        let Some((severity, message)) = found else { return false };
        let step = self.last_step.unwrap_or(f64::NAN);
        self.keep(Flag { kind: FlagKind::Stall, severity, metric: step_name.to_owned(), step, message });
        true
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

/// How the run's held-out task metrics moved since `low` (an eval loss's lowest evaluation): the
/// most favourable one (improves, then holds), or the first that got worse; among equals, the
/// headline metric (COCO's `AP` before `AP50` or `class_error`).
fn task_since<N: SeriesNames + ?Sized>(
    store: &N,
    tasks: &mut [(SeriesId, Task)],
    cfg: &FlagConfig,
    low: f64,
) -> Option<(String, Trend, f64, f64)> {
    let rank = |t: Trend| match t {
        Trend::Improves => 0,
        Trend::Holds => 1,
        Trend::Worse => 2,
    };
    // The first of the least (trend, headline rank); the name is copied for that one only.
    // (rank, series, trend, level then, level now)
    type Choice = ((u8, u8), SeriesId, Trend, f64, f64);
    let mut best: Option<Choice> = None;
    for (id, t) in tasks.iter_mut() {
        let Some(then) = t.level_at(low) else { continue };
        let Some(trend) = t.trend_since(then, cfg.overfit_task_z) else { continue };
        let key = (rank(trend), t.headline());
        if best.as_ref().is_none_or(|b| key < b.0) {
            best = Some((key, *id, trend, then, t.level()));
        }
    }
    best.map(|(_, id, trend, then, now)| (store.name(id).to_owned(), trend, then, now))
}

/// What the run's held-out task metrics say to "not learning": one that improved from its first
/// values (it contradicts), else the first one (it stays where it began).
fn support<N: SeriesNames + ?Sized>(
    store: &N,
    tasks: &mut [(SeriesId, Task)],
    cfg: &FlagConfig,
) -> learning::Support {
    // Beyond its noise and by `learning.gain` of its first level: an accuracy that moved by one
    // validation sample has not improved.
    let moved = |t: &mut Task| {
        let first = t.first()?;
        let now = t.level();
        let gain = if t.higher() { now - first } else { first - now };
        let up = t.trend_since(first, cfg.learning_noise_z)? == Trend::Improves
            && gain > cfg.learning_gain * first.abs();
        Some((first, now, up))
    };
    let all: Vec<(String, f64, f64, bool)> = tasks
        .iter_mut()
        .filter_map(|(id, t)| moved(t).map(|(f, n, up)| (store.name(*id).to_owned(), f, n, up)))
        .collect();
    let metric = all.iter().find(|m| m.3).or(all.first()).cloned();
    learning::Support { metric }
}

/// Which metric names a coalesced flag: `loss` or a total first, then the shortest name.
fn representative(name: &str) -> (u8, usize) {
    let lower = name.to_lowercase();
    let main = lower == "loss" || lower.ends_with("/loss") || lower.contains("total");
    (u8::from(!main), name.len())
}

/// The histogram points record `rec` carried: (name, step, percentiles).
pub fn histograms_on(store: &Store, rec: RecordIdx) -> Vec<(String, f64, [f64; 9])> {
    let hs = store.histograms();
    hs.on_record(rec)
        .map(|id| {
            let h = store.histogram(id);
            let p = h.point(h.len() - 1);
            (h.name().to_owned(), p.step, crate::analysis::dist::percentiles(&p.edges, &p.counts))
        })
        .collect()
}
