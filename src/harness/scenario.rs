//! The harness's scenarios and the knobs each one turns.

use super::mlp::{Act, Head, OptKind};
use std::str::FromStr;

/// A kind of training run the harness can make. Its name (`dead-relu`, as `tmon demo
/// --scenario` takes it) is derived.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Scenario {
    /// Nothing wrong: warmup, cosine decay, Adam, enough data.
    Healthy,
    /// A peak learning rate far too high for SGD: the loss climbs, then becomes NaN.
    Diverging,
    /// A big net on few noisy samples trained long: val loss turns up while train loss falls.
    Overfitting,
    /// A short burst of a huge learning rate knocks most ReLU units dead.
    DeadRelu,
    /// A deep sigmoid net: the first layers' gradients vanish.
    Vanishing,
    /// The loop pauses for 30 minutes (the simulated clock jumps).
    Stall,
    /// The process crashes and resumes from an earlier checkpoint, rewinding the step.
    Restart,
    /// From a step on, every step takes three times as long (another job took the GPU).
    Slowdown,
    /// A learning rate a thousand times too small: the loss hardly moves from its first values
    /// and the accuracy stays where it began.
    SmallLr,
    /// From a step on, throughput falls by 20% (a second process shares the GPU).
    #[strum(serialize = "slowdown-20")]
    #[value(name = "slowdown-20")]
    Slowdown20,
    /// From a step on, throughput falls by 40% (a slow data loader).
    #[strum(serialize = "slowdown-40")]
    #[value(name = "slowdown-40")]
    Slowdown40,
    /// A fast run (30 ms steps) pauses once for 300 steps' time (9 s), with checkpoint pauses of
    /// the same length every 250 steps around it.
    Pause,
    /// A fast run whose checkpoint saves pause it for 300 steps' time every 100 steps: its rhythm.
    Checkpoints,
    /// The process dies with a traceback (a CUDA error) written into the log, and resumes from
    /// the last checkpoint, appending to the same file.
    Crash,
    /// Mixed precision with dynamic loss scaling (real float16 rounding of the scaled gradients):
    /// overflowing steps log an infinite gradient norm, are skipped and halve the loss scale.
    MixedPrecision,
    /// A detection-style log: eval lines with the total loss, auxiliary losses (one per decoder
    /// depth, DETR style) and a task metric (AP); the auxiliary losses turn up while AP improves.
    Detection,
}

impl Scenario {
    /// Every scenario, healthy first.
    pub const ALL: &'static [Scenario] = <Scenario as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A healthy run with a feature that must not be flagged (checkpoint pauses, mixed-precision
    /// overflows, auxiliary losses turning up while the task metric improves): nothing at
    /// warning or above, for any seed.
    pub fn is_control(self) -> bool {
        matches!(
            self,
            Scenario::Healthy | Scenario::Checkpoints | Scenario::MixedPrecision | Scenario::Detection
        )
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::parse_name("scenario", s)
    }
}

/// Everything that defines a harness run. Public so tests and the demo can vary one knob.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// Input, hidden..., classes.
    pub dims: Vec<usize>,
    pub act: Act,
    pub head: Head,
    pub bias_init: f32,
    pub opt: OptKind,
    /// Peak learning rate.
    pub lr: f64,
    pub warmup: u64,
    /// Cosine decay to 10% of the peak after warmup; constant otherwise.
    pub cosine: bool,
    /// (first step, number of steps, factor): the learning rate is multiplied for a few steps.
    pub lr_kick: Option<(u64, u64, f64)>,
    /// (first step, factor): from that step on the learning rate is multiplied by the factor at
    /// every step (an exponential schedule with its decay written the wrong way up).
    pub lr_growth: Option<(u64, f64)>,
    pub steps: u64,
    pub batch: usize,
    pub n_train: usize,
    pub n_val: usize,
    pub label_noise: f64,
    pub eval_every: u64,
    /// Mean simulated seconds per step.
    pub dt: f64,
    pub eval_seconds: f64,
    pub checkpoint_every: u64,
    pub checkpoint_seconds: f64,
    /// (step, seconds): the loop stops for that long after logging that step.
    pub pause: Option<(u64, f64)>,
    /// (step, factor): from that step on, steps take `factor` times as long.
    pub slowdown: Option<(u64, f64)>,
    /// The process dies after this step and resumes from the last checkpoint.
    pub crash_at: Option<u64>,
    pub restart_seconds: f64,
    /// The crash writes a Python traceback into the log before the resume.
    pub crash_traceback: bool,
    /// Mixed precision: (initial loss scale, good steps before the scale doubles). The scaled
    /// gradients are rounded to float16; a step whose gradients overflow is skipped.
    pub amp: Option<(f64, u64)>,
    /// Detection-style eval lines (`test_loss`, auxiliary `test_loss_ce_0`.., `test_AP`) and
    /// train lines with the matching names.
    pub detection: bool,
    /// Every this many steps the train line also carries histograms (the natural form, 32 bins
    /// from the tensor's min to its max, as `torch.histc` makes them) of the first and last
    /// layers' weights and weight gradients; 0 for none. They add no series and move no value.
    pub hist_every: u64,
}

impl Setup {
    pub fn for_scenario(s: Scenario) -> Setup {
        let healthy = Setup {
            dims: vec![8, 16, 16, 3],
            act: Act::Relu,
            head: Head::SoftmaxCe,
            bias_init: 0.0,
            opt: OptKind::Adam,
            lr: 3e-3,
            warmup: 50,
            cosine: true,
            lr_kick: None,
            lr_growth: None,
            steps: 1000,
            batch: 16,
            n_train: 2000,
            n_val: 256,
            label_noise: 0.05,
            eval_every: 50,
            dt: 0.2,
            eval_seconds: 2.0,
            checkpoint_every: 250,
            checkpoint_seconds: 4.0,
            pause: None,
            slowdown: None,
            crash_at: None,
            restart_seconds: 90.0,
            crash_traceback: false,
            amp: None,
            detection: false,
            hist_every: 10,
        };
        let fast = Setup { dt: 0.03, eval_seconds: 0.3, checkpoint_seconds: 0.5, ..healthy.clone() };
        match s {
            Scenario::Healthy => healthy,
            Scenario::Diverging => Setup {
                head: Head::Mse,
                opt: OptKind::Sgd { momentum: 0.9 },
                lr: 0.02,
                cosine: false,
                lr_growth: Some((300, 1.03)),
                steps: 600,
                ..healthy
            },
            Scenario::Overfitting => Setup {
                dims: vec![8, 64, 64, 3],
                lr: 3e-3,
                cosine: false,
                steps: 1000,
                n_train: 60,
                label_noise: 0.4,
                eval_every: 25,
                ..healthy.clone()
            },
            Scenario::DeadRelu => Setup {
                opt: OptKind::Sgd { momentum: 0.9 },
                lr: 0.05,
                lr_kick: Some((300, 3, 300.0)),
                ..healthy
            },
            Scenario::Vanishing => Setup {
                dims: [8].into_iter().chain([16; 10]).chain([3]).collect(),
                act: Act::Sigmoid,
                opt: OptKind::Sgd { momentum: 0.9 },
                lr: 0.05,
                steps: 300,
                ..healthy
            },
            Scenario::Stall => Setup { pause: Some((400, 1800.0)), ..healthy },
            Scenario::Restart => Setup { crash_at: Some(600), ..healthy },
            Scenario::Slowdown => Setup { slowdown: Some((500, 3.0)), ..healthy },
            Scenario::SmallLr => Setup { lr: 3e-6, ..healthy },
            Scenario::Slowdown20 => Setup { slowdown: Some((500, 1.0 / 0.8)), ..healthy },
            Scenario::Slowdown40 => Setup { slowdown: Some((500, 1.0 / 0.6)), ..healthy },
            Scenario::Pause => Setup { pause: Some((400, 300.0 * 0.03)), checkpoint_seconds: 9.0, ..fast },
            Scenario::Checkpoints => Setup { checkpoint_every: 100, checkpoint_seconds: 9.0, ..fast },
            Scenario::Crash => Setup { crash_at: Some(600), crash_traceback: true, ..healthy },
            Scenario::MixedPrecision => Setup { amp: Some((65536.0, 100)), ..healthy },
            Scenario::Detection => Setup {
                dims: vec![8, 32, 32, 3],
                lr: 2e-3,
                cosine: false,
                n_train: 200,
                label_noise: 0.3,
                eval_every: 25,
                detection: true,
                ..healthy
            },
        }
    }
}
