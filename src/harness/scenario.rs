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
}

impl Scenario {
    /// Every scenario, healthy first.
    pub const ALL: &'static [Scenario] = <Scenario as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
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
        };
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
                dims: vec![8, 32, 32, 3],
                lr: 2e-3,
                cosine: false,
                steps: 1000,
                n_train: 100,
                label_noise: 0.25,
                eval_every: 25,
                ..healthy
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
        }
    }
}
