//! The training harness: a tiny MLP on generated data, trained by real gradient descent, writing
//! JSON Lines as users' training scripts do. It makes the pathologies the flags must catch
//! (divergence to NaN, overfitting, dead ReLUs, vanishing gradients, a stalled loop, a crash and
//! resume, a slowdown) from real training rather than hand-drawn curves, and will power `tmon demo`.
//!
//! Deterministic for a seed: the PRNG is our own ([`rng::Rng`]) and the clock is simulated
//! (a fixed epoch plus jittered step durations), so no output depends on the machine.
//!
//! Each step writes `{"step", "loss", "lr", "grad_norm", "grad_norm/layer0".., "dead_frac",
//! "samples_per_s", "time"}` (every `hist_every` steps with histograms of the first and last
//! layers' weights and gradients too); every `eval_every` steps an eval line `{"step", "val_loss",
//! "val_acc", "time"}` follows. Non-finite values are written as bare `NaN`/`Infinity`, like
//! Python's `json.dumps`.

pub mod data;
pub mod mlp;
pub mod rng;
mod scenario;
pub mod sweep;

pub use scenario::{Scenario, Setup};

use crate::analysis::Analyzer;
use crate::store::{RecordIdx, RecordMeta, SeriesId, Store};
use data::{Dataset, Teacher};
use mlp::{Act, Mlp, Optimizer};
use rng::Rng;
use std::collections::VecDeque;

/// 2026-01-01T00:00:00Z: where every simulated clock starts.
pub const EPOCH: f64 = 1_767_225_600.0;

/// One log record, structured: what the JSON line says, with values exactly as a parser reads
/// them back from the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub step: f64,
    /// Unix seconds.
    pub time: f64,
    /// Metrics in line order (without `step` and `time`).
    pub fields: Vec<(String, f64)>,
    /// The line as written, without newline.
    pub line: String,
    /// Not a record: a line the script printed (a traceback), which ingest skips. `fields` is
    /// empty; `step` and `time` are those of the record before it.
    pub text: bool,
}

impl Record {
    /// A printed line (not JSON) after the record at `step`, `time`.
    pub fn text(step: f64, time: f64, line: &str) -> Record {
        Record { step, time, fields: Vec::new(), line: line.to_owned(), text: true }
    }
}

/// Formats a number as Python's `json.dumps` would accept back: bare `NaN`/`Infinity` tokens,
/// exponent form for very small or large magnitudes.
fn fmt_num(v: f64, digits_f32: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = v.abs();
    let exp = a != 0.0 && !(1e-4..1e15).contains(&a);
    match (digits_f32, exp) {
        (true, true) => format!("{:e}", v as f32),
        (true, false) => format!("{}", v as f32),
        (false, true) => format!("{v:e}"),
        (false, false) => format!("{v}"),
    }
}

fn parse_num(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or(f64::NAN),
    }
}

struct RecordBuilder {
    step: f64,
    fields: Vec<(String, f64)>,
    line: String,
}

impl RecordBuilder {
    fn new(step: u64) -> Self {
        RecordBuilder { step: step as f64, fields: Vec::new(), line: format!("{{\"step\": {step}") }
    }
    fn num(&mut self, key: &str, v: f64) {
        let s = fmt_num(v, true);
        self.line.push_str(&format!(", \"{key}\": {s}"));
        self.fields.push((key.to_owned(), parse_num(&s)));
    }
    /// A JSON value on the line that is not a metric (the model record): not in `fields`.
    fn raw(&mut self, key: &str, json: &str) {
        self.line.push_str(&format!(", \"{key}\": {json}"));
    }

    /// A histogram of `values` in the natural form, `bins` bins from their min to their max (as
    /// `torch.histc(t, bins)` counts them). In the line only: histograms are not metrics.
    fn hist(&mut self, key: &str, values: &[f32], bins: usize) {
        let (lo, hi) =
            values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if !(lo.is_finite() && hi.is_finite()) {
            return;
        }
        let mut counts = vec![0u64; bins];
        let width = (hi - lo) / bins as f32;
        for &v in values {
            let k = if width > 0.0 { (((v - lo) / width) as usize).min(bins - 1) } else { 0 };
            counts[k] += 1;
        }
        let edges: Vec<String> = (0..=bins).map(|k| fmt_num((lo + width * k as f32) as f64, true)).collect();
        let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
        self.line.push_str(&format!(
            ", \"{key}\": {{\"bins\": [{}], \"counts\": [{}]}}",
            edges.join(", "),
            counts.join(", ")
        ));
    }
    fn finish(mut self, time: f64) -> Record {
        let s = format!("{time:.3}");
        self.line.push_str(&format!(", \"time\": {s}}}"));
        Record { step: self.step, time: parse_num(&s), fields: self.fields, line: self.line, text: false }
    }
}

/// The model as a `{"model": ...}` value (see `crate::model::record`): `layer0`.. are the
/// Linear layers the `grad_norm/layer0`.. series name, each followed by its activation.
fn model_record(m: &Mlp) -> String {
    let act = match m.act {
        Act::Relu => "ReLU",
        Act::Sigmoid => "Sigmoid",
    };
    let mut children = Vec::new();
    let mut total = 0usize;
    for (i, l) in m.layers.iter().enumerate() {
        let n = l.w.len() + l.b.len();
        total += n;
        children.push(format!(
            "{{\"name\": \"layer{i}\", \"type\": \"Linear\", \"params\": {n}, \"repr\": \"in_features={}, out_features={}, bias=True\", \"children\": []}}",
            l.n_in, l.n_out
        ));
        if i + 1 < m.layers.len() {
            children.push(format!(
                "{{\"name\": \"act{i}\", \"type\": \"{act}\", \"params\": 0, \"repr\": \"\", \"children\": []}}"
            ));
        }
    }
    format!(
        "{{\"name\": \"mlp\", \"type\": \"Mlp\", \"params\": {total}, \"repr\": \"\", \"children\": [{}]}}",
        children.join(", ")
    )
}

/// What the crash scenario's process writes as it dies.
const TRACEBACK: [&str; 6] = [
    "Traceback (most recent call last):",
    "  File \"train.py\", line 128, in <module>",
    "    loss.backward()",
    "  File \"torch/_tensor.py\", line 522, in backward",
    "RuntimeError: CUDA error: an illegal memory access was encountered",
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.",
];

/// Confidence of the detection scenario's auxiliary heads (logits scaled by these).
const AUX_TEMPERATURES: [f32; 3] = [0.5, 0.75, 1.5];

#[derive(Clone)]
struct Checkpoint {
    model: Mlp,
    opt: Optimizer,
    step: u64,
}

/// Trains step by step and yields log records one at a time.
pub struct Trainer {
    setup: Setup,
    model: Mlp,
    opt: Optimizer,
    train: Dataset,
    val: Dataset,
    rng: Rng,
    clock_rng: Rng,
    step: u64,
    clock: f64,
    checkpoint: Option<Checkpoint>,
    crashed: bool,
    pending: VecDeque<Record>,
    /// Mixed precision: the loss scale and the good steps since it last changed.
    scale: f64,
    good_steps: u64,
}

impl Trainer {
    /// The scenario's setup with `seed`.
    pub fn new(scenario: Scenario, seed: u64) -> Self {
        Self::from_setup(Setup::for_scenario(scenario), seed)
    }

    /// A custom setup (e.g. a scenario's with a smaller batch). Sizes are clamped to at least
    /// one (and the net to an input and an output layer) so no setup can panic.
    pub fn from_setup(mut setup: Setup, seed: u64) -> Self {
        setup.dims.iter_mut().for_each(|d| *d = (*d).max(1));
        while setup.dims.len() < 2 {
            setup.dims.push(1);
        }
        setup.batch = setup.batch.max(1);
        setup.n_train = setup.n_train.max(1);
        setup.n_val = setup.n_val.max(1);
        let mut root = Rng::new(seed);
        let mut data_rng = root.fork();
        let mut init_rng = root.fork();
        let clock_rng = root.fork();
        let rng = root.fork();
        // The teacher depends on the seed only, so scenarios with one seed share a task.
        let teacher = Teacher::new(setup.dims[0], setup.dims[setup.dims.len() - 1], &mut data_rng);
        let train = teacher.sample(setup.n_train, setup.label_noise, &mut data_rng);
        let val = teacher.sample(setup.n_val, setup.label_noise, &mut data_rng);
        let model = Mlp::new(&setup.dims, setup.act, setup.head, setup.bias_init, &mut init_rng);
        let opt = Optimizer::new(setup.opt, &model);
        let scale = setup.amp.map_or(1.0, |(s, _)| s);
        Trainer {
            setup,
            model,
            opt,
            train,
            val,
            rng,
            clock_rng,
            step: 0,
            clock: EPOCH,
            checkpoint: None,
            crashed: false,
            pending: VecDeque::new(),
            scale,
            good_steps: 0,
        }
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The learning rate the schedule gives at `step` (1-based): linear warmup, then cosine
    /// decay to 10% of the peak, with the setup's kick multiplied in.
    fn lr_at(&self, step: u64) -> f64 {
        let s = &self.setup;
        let t = step as f64;
        let warm = if s.warmup > 0 { (t / s.warmup as f64).min(1.0) } else { 1.0 };
        let progress =
            ((t - s.warmup as f64) / (s.steps.max(s.warmup + 1) - s.warmup) as f64).clamp(0.0, 1.0);
        let decay =
            if s.cosine { 0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()) } else { 1.0 };
        let kick = match s.lr_kick {
            Some((at, len, factor)) if step >= at && step - at < len => factor,
            _ => 1.0,
        };
        let growth = match s.lr_growth {
            Some((at, factor)) if step > at => factor.powf((step - at) as f64),
            _ => 1.0,
        };
        s.lr * warm * decay * kick * growth
    }

    fn train_step(&mut self) {
        self.step += 1;
        let step = self.step;
        let lr = self.lr_at(step);
        let (x, y) = self.train.batch(self.setup.batch, &mut self.rng);
        let (mut stats, mut grads) = self.model.loss_and_grads(&x, &y);
        let scale = self.scale;
        let mut skipped = false;
        if let Some((_, growth)) = self.setup.amp {
            // Dynamic loss scaling as `torch.cuda.amp.GradScaler` does it: the gradients of the
            // scaled loss are float16; one that overflows makes the step a skipped one and halves
            // the scale; `growth` good steps in a row double it.
            let overflow = mlp::half_gradients(&mut grads, scale as f32);
            mlp::norms_into(&grads, &mut stats);
            if overflow {
                skipped = true;
                self.scale *= 0.5;
                self.good_steps = 0;
            } else {
                self.good_steps += 1;
                if self.good_steps >= growth {
                    self.scale *= 2.0;
                    self.good_steps = 0;
                }
            }
        }
        if !skipped {
            self.opt.step(&mut self.model, &grads, lr as f32);
        }

        // Simulated clock: a jittered step, and now and then a slow data-loader step.
        let jitter = (1.0 + 0.05 * self.clock_rng.normal()).max(0.5);
        let slow = if self.clock_rng.uniform() < 0.01 { 3.0 } else { 1.0 };
        let slower = match self.setup.slowdown {
            Some((at, factor)) if step >= at => factor,
            _ => 1.0,
        };
        let dt = self.setup.dt * jitter * slow * slower;
        self.clock += dt;
        if let Some((at, secs)) = self.setup.pause {
            if step == at + 1 {
                self.clock += secs;
            }
        }

        let mut r = RecordBuilder::new(step);
        r.num("loss", stats.loss as f64);
        if self.setup.detection {
            // Auxiliary losses, one per decoder depth as DETR logs them: the loss of the logits
            // at a lower confidence (a shallower head is less sure of itself).
            for (i, t) in AUX_TEMPERATURES.iter().enumerate() {
                r.num(&format!("loss_ce_{i}"), self.model.loss_at(&x, &y, *t) as f64);
            }
        }
        r.num("lr", lr);
        r.num("grad_norm", stats.grad_norm as f64);
        for (i, g) in stats.layer_norms.iter().enumerate() {
            r.num(&format!("grad_norm/layer{i}"), *g as f64);
        }
        if self.setup.act == Act::Relu {
            r.num("dead_frac", stats.dead_frac as f64);
        }
        r.num("samples_per_s", self.setup.batch as f64 / dt);
        if step == 1 {
            // The module tree, as the README's helper writes it, on the first record's line.
            r.raw("model", &model_record(&self.model));
        }
        if self.setup.amp.is_some() {
            r.num("loss_scale", scale);
        }
        if self.setup.hist_every > 0 && (step == 1 || step.is_multiple_of(self.setup.hist_every)) {
            let last = self.model.layers.len() - 1;
            for i in [0, last] {
                r.hist(&format!("hist/layer{i}.weight"), &self.model.layers[i].w, 32);
                r.hist(&format!("grad/layer{i}.weight"), &grads.w[i], 32);
            }
        }
        self.pending.push_back(r.finish(self.clock));

        if self.setup.eval_every > 0 && step.is_multiple_of(self.setup.eval_every) {
            let (vl, va) = self.model.evaluate(&self.val.x, &self.val.y);
            self.clock += self.setup.eval_seconds;
            let mut r = RecordBuilder::new(step);
            if self.setup.detection {
                r.num("test_loss", vl as f64);
                for (i, t) in AUX_TEMPERATURES.iter().enumerate() {
                    r.num(
                        &format!("test_loss_ce_{i}"),
                        self.model.loss_at(&self.val.x, &self.val.y, *t) as f64,
                    );
                }
                r.num("test_AP", va as f64);
            } else {
                r.num("val_loss", vl as f64);
                r.num("val_acc", va as f64);
            }
            self.pending.push_back(r.finish(self.clock));
        }
        if self.setup.checkpoint_every > 0 && step.is_multiple_of(self.setup.checkpoint_every) {
            self.checkpoint = Some(Checkpoint { model: self.model.clone(), opt: self.opt.clone(), step });
            self.clock += self.setup.checkpoint_seconds;
        }
        if let Some(crash_at) = self.setup.crash_at {
            if step == crash_at && !self.crashed {
                // The process dies here; a new one loads the last checkpoint and appends to the
                // same log, so the next line's step is the checkpoint's step + 1.
                self.crashed = true;
                if self.setup.crash_traceback {
                    for line in TRACEBACK {
                        self.pending.push_back(Record::text(step as f64, self.clock, line));
                    }
                }
                if let Some(ck) = self.checkpoint.clone() {
                    self.model = ck.model;
                    self.opt = ck.opt;
                    self.step = ck.step;
                }
                self.clock += self.setup.restart_seconds;
            }
        }
    }

    /// The next record, or `None` once the setup's steps are done.
    pub fn next_record(&mut self) -> Option<Record> {
        while self.pending.is_empty() {
            if self.step >= self.setup.steps {
                return None;
            }
            self.train_step();
        }
        self.pending.pop_front()
    }
}

impl Iterator for Trainer {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        self.next_record().map(|r| r.line)
    }
}

/// Appends `record` (not a [`Record::text`] line) to `store` exactly as the ingest stage does (`begin_record`, then `intern` +
/// `push` per field), with the step and the clock already known; returns the record and its
/// (series, value) pairs, ready for `Analyzer::observe`.
pub fn append(record: &Record, line: u64, store: &mut Store) -> (RecordIdx, Vec<(SeriesId, f64)>) {
    let rec = store.begin_record(RecordMeta { step: record.step, time: record.time, line });
    let fields = record
        .fields
        .iter()
        .map(|(name, v)| {
            let id = store.intern(name);
            store.push(rec, id, *v);
            (id, *v)
        })
        .collect();
    (rec, fields)
}

/// [`append`], then shows the record to `analyzer`. For tests and the demo, which need the clock
/// before the real ingest detects it.
/// A printed line ([`Record::text`]) is skipped with its text, as ingest does, and shown to the
/// analyzer as the run shows it ([`Analyzer::observe_skipped`]).
pub fn feed(record: &Record, line: u64, store: &mut Store, analyzer: &mut Analyzer) {
    if record.text {
        store.skipped.push(line, "not JSON: expected value at column 1", record.line.as_bytes());
        analyzer.observe_skipped(store);
        return;
    }
    let (rec, fields) = append(record, line, store);
    analyzer.observe(store, rec, &fields);
}

/// A long run for cost measurements: the scenario's records over and over, each repeat 1000
/// steps further on and its clock one second later per record, `n` records in all.
pub fn repeated(scenario: Scenario, seed: u64, n: usize) -> impl Iterator<Item = Record> {
    let mut t = Trainer::new(scenario, seed);
    let base: Vec<Record> = std::iter::from_fn(|| t.next_record()).collect();
    (0..n).map(move |i| {
        let mut r = base[i % base.len()].clone();
        r.step += (i / base.len() * 1000) as f64;
        r.time += i as f64;
        r
    })
}

/// The whole log of a scenario run for `steps` training steps, one JSON line per element.
pub fn generate(scenario: Scenario, seed: u64, steps: u64) -> Vec<String> {
    let mut setup = Setup::for_scenario(scenario);
    setup.steps = steps;
    Trainer::from_setup(setup, seed).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_python_would() {
        assert_eq!(fmt_num(f64::NAN, true), "NaN");
        assert_eq!(fmt_num(f64::NEG_INFINITY, true), "-Infinity");
        assert_eq!(fmt_num(1e-7, true), "1e-7");
        assert_eq!(fmt_num(0.25, true), "0.25");
        assert_eq!(parse_num("1e-7"), 1e-7);
    }
}
