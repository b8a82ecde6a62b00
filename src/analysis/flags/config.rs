//! Every threshold of every detector, in one table: its name (as `--set` takes it), default, the
//! values it accepts and its meaning. `docs/flags.md` is checked against [`FlagConfig::describe`]
//! by a test, so the two cannot drift.
//!
//! Every value is range-checked when set: a window of 4294967296 points or a ratio of NaN is a
//! clear usage error, never an allocation that aborts or a detector that silently never fires.

use std::fmt;

/// One documented threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub key: &'static str,
    pub default: String,
    /// The values `--set` accepts.
    pub range: ValueRange,
    /// A whole number (a count or a window), not any number in the range.
    pub whole: bool,
    pub meaning: &'static str,
}

/// The values a threshold accepts: from `min` (included, or excluded when `min_open`) to `max`
/// (included). Maxima are far beyond any useful value; they keep windows from asking for memory
/// that does not exist and products of thresholds finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    pub min: f64,
    pub min_open: bool,
    pub max: f64,
}

impl ValueRange {
    /// Whether `x` is accepted (NaN never is).
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.min_open { x > self.min } else { x >= self.min };
        above && x <= self.max
    }
}

impl fmt::Display for ValueRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = |x: f64| if x >= 1e4 { format!("{x:e}") } else { format!("{x}") };
        let open = if self.min_open { "(" } else { "[" };
        write!(f, "{open}{}, {}]", num(self.min), num(self.max))
    }
}

/// `[min, max]`.
const fn ge(min: f64, max: f64) -> ValueRange {
    ValueRange { min, min_open: false, max }
}

/// `(min, max]`.
const fn gt(min: f64, max: f64) -> ValueRange {
    ValueRange { min, min_open: true, max }
}

/// The types thresholds have: whole numbers (counts, windows) or any number.
trait Kind: Sized {
    const WHOLE: bool;
    /// `x` as this type (in range already); None when it is not whole and must be.
    fn from_number(x: f64) -> Option<Self>;
}
impl Kind for usize {
    const WHOLE: bool = true;
    fn from_number(x: f64) -> Option<Self> {
        (x.fract() == 0.0 && (0.0..=1e15).contains(&x)).then_some(x as usize)
    }
}
impl Kind for f64 {
    const WHOLE: bool = false;
    fn from_number(x: f64) -> Option<Self> {
        Some(x)
    }
}

macro_rules! thresholds {
    ($( $field:ident : $ty:ty = $default:expr, $key:literal, $range:expr, $doc:literal; )*) => {
        /// Thresholds of every detector. Defaults are in [`FlagConfig::describe`] and
        /// `docs/flags.md`; override one with [`FlagConfig::set`] (`--set spike.z=8`).
        #[derive(Clone, Debug, PartialEq)]
        pub struct FlagConfig {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        impl Default for FlagConfig {
            fn default() -> Self {
                FlagConfig { $( $field: $default, )* }
            }
        }

        impl FlagConfig {
            /// Overrides one threshold by its documented name, e.g. `spike.z=8`.
            pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
                match key {
                    $( $key => self.$field = parse_value::<$ty>(key, value, $range)?, )*
                    _ => return Err(format!(
                        "unknown threshold '{key}' (known: {})",
                        [$( $key ),*].join(", ")
                    )),
                }
                Ok(())
            }

            /// The thresholds as the Markdown table kept in `docs/flags.md`.
            pub fn markdown_table() -> String {
                let mut out = String::from("| threshold | default | accepts | meaning |\n|---|---|---|---|\n");
                for t in Self::describe() {
                    let whole = if t.whole { "whole number in " } else { "" };
                    out.push_str(&format!(
                        "| `{}` | {} | {whole}{} | {} |\n",
                        t.key,
                        t.default,
                        t.range,
                        t.meaning.replace('|', "\\|")
                    ));
                }
                out
            }

            /// Every threshold: name, default and meaning, in documentation order.
            pub fn describe() -> Vec<Threshold> {
                let d = FlagConfig::default();
                vec![$( Threshold {
                    key: $key,
                    default: d.$field.to_string(),
                    range: $range,
                    whole: <$ty as Kind>::WHOLE,
                    meaning: $doc,
                }, )*]
            }
        }
    };
}

/// Parses `value` for `key`: a number in `range`, and a whole one for a count.
fn parse_value<T: Kind>(key: &str, value: &str, range: ValueRange) -> Result<T, String> {
    let what = if T::WHOLE { "a whole number" } else { "a number" };
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| range.contains(*x))
        .and_then(T::from_number)
        .ok_or_else(|| format!("threshold '{key}' needs {what} in {range}, got '{value}'"))
}

thresholds! {
    cooldown: usize = 500, "cooldown", ge(0.0, 1e9),
        "Records after the last sighting of a condition before the same kind on the same metric can raise a new flag (a severity upgrade always can).";
    nonfinite_loss_critical: usize = 1, "nonfinite.loss_critical", ge(0.0, 1.0),
        "1: the first NaN/Infinity of a loss is critical (other metrics: warning); 0: warning for all.";
    spike_z: f64 = 8.0, "spike.z", gt(0.0, 1e6),
        "Loss spike: robust z-score of log(loss) above the median of the previous `spike.window` values, with the noise scale from the MAD (x1.4826) of log differences.";
    spike_ratio: f64 = 2.5, "spike.ratio", ge(1.0, 1e9),
        "Loss spike: the value must also be at least this many times that median.";
    spike_window: usize = 16, "spike.window", ge(1.0, 1e4),
        "Points in the rolling median that is the spike baseline (the current point excluded).";
    spike_min_points: usize = 50, "spike.min_points", ge(1.0, 1e9),
        "Points a training loss needs before spikes or divergence are judged.";
    divergence_ratio: f64 = 3.0, "divergence.ratio", ge(1.0, 1e9),
        "Divergence (warning): the rolling median of the training loss rises to this many times its best rolling median.";
    divergence_critical: f64 = 30.0, "divergence.critical", ge(1.0, 1e9),
        "Divergence (critical): ... to this many times its best.";
    divergence_noise_z: f64 = 10.0, "divergence.noise_z", ge(0.0, 1e6),
        "Divergence: the rise must also exceed this many standard errors of the rolling median (noisy small-batch losses need a larger rise); the critical threshold moves up by the same amount.";
    plateau_rel: f64 = 1e-4, "plateau.rel", ge(0.0, 1.0),
        "Plateau on an eval loss (ReduceLROnPlateau): an improvement smaller than this fraction of the best does not count.";
    plateau_patience: usize = 10, "plateau.patience", ge(1.0, 1e9),
        "Plateau on an eval loss: evaluations without improvement (info).";
    plateau_train_rel: f64 = 0.01, "plateau.train_rel", ge(0.0, 1.0),
        "Plateau on a training loss: its rolling median must beat its best by this fraction to count as improving.";
    plateau_train_patience: usize = 1000, "plateau.train_patience", ge(1.0, 1e9),
        "Plateau on a training loss: points without improvement (info; never during LR warmup)...";
    plateau_train_patience_frac: f64 = 0.25, "plateau.train_patience_frac", ge(0.0, 1.0),
        "... or this fraction of the points seen so far, when that is more (a long run improves slowly).";
    learning_gain: f64 = 0.03, "learning.gain", gt(0.0, 1.0),
        "Not learning (plateau, warning): a loss whose best level (training: means of 128 points; eval: each evaluation) is not confidently this fraction below its first values...";
    learning_noise_z: f64 = 3.0, "learning.noise_z", ge(0.0, 1e6),
        "... counting this many standard errors of the difference (from the loss's own noise) in its favour: a run too noisy to be sure is not told...";
    learning_min_points: usize = 500, "learning.min_points", ge(1.0, 1e9),
        "... after this many training-loss points (outside LR warmup)...";
    learning_min_evals: usize = 10, "learning.min_evals", ge(1.0, 1e9),
        "... or this many evaluations. An accuracy that improved meanwhile makes it info.";
    overfit_gl: f64 = 5.0, "overfit.gl", gt(0.0, 1e6),
        "Overfitting (Prechelt's generalization loss, GL = 100*(E_val/E_min - 1)): the median of the last `overfit.strips` evaluations this many percent above the best such median...";
    overfit_strips: usize = 3, "overfit.strips", ge(1.0, 1e4),
        "... (evaluations in that median: a rise must hold for most of them)...";
    overfit_noise_z: f64 = 3.0, "overfit.noise_z", ge(0.0, 1e6),
        "... and the rise larger than this many standard errors of that median (noisy evaluations need a larger rise)...";
    overfit_train_drop: f64 = 0.1, "overfit.train_drop", ge(0.0, 1.0),
        "... while the paired training loss (when logged) has fallen by at least this fraction since the best: a flat training loss means noise or a shift, a rising one divergence.";
    overfit_min_evals: usize = 5, "overfit.min_evals", ge(1.0, 1e9),
        "Evaluations needed before overfitting is judged.";
    overfit_task_z: f64 = 3.0, "overfit.task_z", ge(0.0, 1e6),
        "A rising eval loss is info while a held-out task metric (accuracy, AP, mIoU, BLEU, an error rate) is not worse than at the loss's lowest evaluation by more than this many standard errors (it still improves, or holds).";
    stall_factor: f64 = 20.0, "stall.factor", ge(1.0, 1e6),
        "Stall: a gap between records this many times the median of the recent gaps...";
    stall_min_seconds: f64 = 60.0, "stall.min_seconds", ge(0.0, 1e9),
        "... and at least this many seconds.";
    stall_critical_seconds: f64 = 3600.0, "stall.critical_seconds", ge(0.0, 1e9),
        "A stall at least this long is critical.";
    stall_rhythm_factor: f64 = 100.0, "stall.rhythm_factor", ge(1.0, 1e9),
        "Stall in a fast run: a gap shorter than `stall.min_seconds` is a stall when it is at least this many times the usual interval...";
    stall_rhythm_min_seconds: f64 = 5.0, "stall.rhythm_min_seconds", ge(0.0, 1e9),
        "... and at least this many seconds (a floor against jitter), and does not recur at regular steps (checkpoints, evaluations: the run's rhythm). Told once the run has gone past where it would have recurred.";
    stall_min_gaps: usize = 16, "stall.min_gaps", ge(1.0, 1e9),
        "Gaps in the record clock needed before stalls are judged.";
    live_stall_factor: f64 = 10.0, "live_stall.factor", ge(1.0, 1e6),
        "Live stall (the monitor and `check --follow`, by the wall clock): no new record for this many times the usual interval between arrivals (their median)...";
    live_stall_min_seconds: f64 = 300.0, "live_stall.min_seconds", ge(0.0, 1e9),
        "... and at least this many seconds (a checkpoint save is not a stall).";
    live_stall_critical_seconds: f64 = 1800.0, "live_stall.critical_seconds", ge(0.0, 1e9),
        "A live stall this long (and at least 3x the warning threshold) is critical.";
    dead_frac: f64 = 0.7, "dead.frac", gt(0.0, 100.0),
        "Dead units (AUTOTRAINER's dying-ReLU rule): a dead/zero fraction at or above this (a value above 1 is read as a percentage)...";
    dead_critical: f64 = 0.95, "dead.critical", gt(0.0, 100.0),
        "... critical at or above this fraction.";
    dead_persist: usize = 5, "dead.persist", ge(1.0, 1e9),
        "Points in a row the dead fraction must stay at or above `dead.frac`.";
    vanishing_ratio: f64 = 1e-3, "vanishing.ratio", gt(0.0, 1.0),
        "Vanishing gradient (AUTOTRAINER): first-layer / last-layer gradient norm below this...";
    vanishing_first_max: f64 = 1e-4, "vanishing.first_max", gt(0.0, 1e9),
        "... and the first layer's gradient norm below this...";
    vanishing_persist: usize = 5, "vanishing.persist", ge(1.0, 1e9),
        "... for this many records in a row.";
    exploding_ratio: f64 = 10.0, "exploding.ratio", ge(1.0, 1e9),
        "Exploding gradient (warning): the global gradient norm at least this many times the median of its previous `spike.window` values...";
    exploding_z: f64 = 6.0, "exploding.z", ge(0.0, 1e6),
        "... with a robust z-score (log space, scale from differences) at least this.";
    exploding_critical: f64 = 1000.0, "exploding.critical", ge(1.0, 1e9),
        "Exploding gradient (critical): at least this many times that median.";
    exploding_min_points: usize = 32, "exploding.min_points", ge(1.0, 1e9),
        "Points the gradient norm needs before it is judged.";
    throughput_drop: f64 = 0.12, "throughput.drop", gt(0.0, 1.0),
        "Throughput drop (CUSUM on log throughput, Page 1954): the smallest sustained drop looked for, as a fraction of the baseline (the reference shift; half of it is the CUSUM's allowance)...";
    throughput_noise_z: f64 = 3.0, "throughput.noise_z", ge(0.0, 1e6),
        "... raised to this many noise deviations of one point (robust, from differences of log throughput) when the run is noisier...";
    throughput_patience: usize = 16, "throughput.patience", ge(1.0, 1e6),
        "... flagged when the CUSUM sum passes this many half-shifts: about this many points a full shift below the baseline (fewer for a deeper drop; single dips at eval or checkpoint steps add little).";
    throughput_baseline: usize = 128, "throughput.baseline", ge(8.0, 1e6),
        "Points in the baseline (median and noise of log throughput).";
    amp_min_scale: f64 = 1.0, "amp.min_scale", ge(0.0, 1e9),
        "Mixed precision: a logged loss scale (`loss_scale`, `grad_scale`, `scale`) that falls to this or below, having been above it, means the gradients overflow at every scale (warning; DeepSpeed's `min_loss_scale` is 1). Above it an infinite gradient norm is an overflow, step skipped (info).";
    amp_persist: usize = 50, "amp.persist", ge(1.0, 1e9),
        "Mixed precision: a gradient norm non-finite this many points in a row while the loss stays finite is no occasional overflow (warning).";
    lr_jump: f64 = 10.0, "lr.jump", ge(1.0, 1e9),
        "LR anomaly: the learning rate rises to this many times the highest value it had before (warm restarts return to the old peak and are fine). A negative or NaN learning rate is always flagged.";
    dist_baseline: usize = 5, "dist.baseline", ge(1.0, 1e6),
        "Distributions (histograms): the median over a histogram's first this many points with a non-zero range is its baseline (a histogram that starts at zero width, a bias initialised to zero, is judged once it spreads).";
    dist_collapse: f64 = 1e-3, "dist.collapse", ge(0.0, 1.0),
        "Dead layer (`dead_units`): a histogram's range (0th to 100th percentile) at or below this fraction of its baseline range (zero width: every value the same)...";
    dist_persist: usize = 3, "dist.persist", ge(1.0, 1e9),
        "... or above `dist.explode`, for this many points of the histogram in a row.";
    dist_explode: f64 = 100.0, "dist.explode", gt(1.0, 1e9),
        "Exploding weights (`exploding_weights`; `exploding_gradient` for a histogram whose name says grad): the middle 68% of a histogram (16th to 84th percentile) at least this many times as wide as at its baseline...";
    dist_explode_critical: f64 = 1e4, "dist.explode_critical", gt(1.0, 1e9),
        "... critical at least this many times.";
    // Across runs (crate::analysis::sweep): one block, kept together.
    compare_min_runs: usize = 3, "compare.min_runs", ge(3.0, 1e6),
        "Runs that must log the same training loss against the same step key before they are compared with each other (`run_outlier`, `run_stopped`).";
    run_outlier_ratio: f64 = 4.0, "run_outlier.ratio", gt(1.0, 1e9),
        "Run outlier: at an aligned step, the run's training loss at least this many times the median of its siblings' (bucket means of log(loss))...";
    run_outlier_z: f64 = 6.0, "run_outlier.z", gt(0.0, 1e6),
        "... and at least this many robust standard deviations (1.4826 x MAD of the siblings' log losses) above that median...";
    run_outlier_persist: usize = 5, "run_outlier.persist", ge(1.0, 1e6),
        "... at this many aligned steps in a row (a single spike does not make a run an outlier)...";
    run_outlier_span: f64 = 0.25, "run_outlier.span", gt(0.0, 1.0),
        "... still going at the run's last aligned step, or covering at least this fraction of its aligned steps (a slow starter that catches up with its siblings is not an outlier).";
    run_outlier_critical: f64 = 30.0, "run_outlier.critical", gt(1.0, 1e9),
        "Run outlier (critical): the ratio reaches this, or the run's loss is NaN or infinite where its siblings' is finite.";
    run_stopped_behind: f64 = 0.25, "run_stopped.behind", gt(0.0, 1.0),
        "Run stopped (by steps): its last step is below (1 - this) x the median last step of its siblings, and most of them (two at least) went on to within this fraction of that median (siblings that end all over the place say nothing about where this one should)...";
    run_stopped_min_seconds: f64 = 300.0, "run_stopped.min_seconds", ge(0.0, 1e9),
        "... and no record (or file write) for at least this many seconds: a run written to recently is still going, however far behind.";
    run_stopped_factor: f64 = 10.0, "run_stopped.factor", ge(1.0, 1e6),
        "Run stopped (by the wall clock): silent for at least this many times the median silence of its siblings (and `run_stopped.min_seconds`), while most of them went past its last step.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_and_rejects() {
        let mut c = FlagConfig::default();
        c.set("spike.z", "12").unwrap();
        assert_eq!(c.spike_z, 12.0);
        c.set("plateau.patience", "3").unwrap();
        assert_eq!(c.plateau_patience, 3);
        assert!(c.set("plateau.patience", "2.5").is_err());
        assert!(c.set("spike.z", "-1").is_err());
        assert!(c.set("spike.z", "NaN").is_err());
        assert!(c.set("spike.z", "0").is_err(), "a z-score of 0 flags everything");
        assert!(c.set("spike.window", "4294967296").unwrap_err().contains("[1, 1e4]"));
        assert!(c.set("spike.window", "18446744073709551615").is_err());
        assert!(c.set("throughput.drop", "1").is_ok());
        assert!(c.set("throughput.drop", "1.5").is_err());
        assert!(c.set("nope", "1").unwrap_err().contains("spike.z"));
    }

    #[test]
    fn every_threshold_is_described_once() {
        let d = FlagConfig::describe();
        let mut keys: Vec<&str> = d.iter().map(|t| t.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), d.len());
        assert!(d.iter().all(|t| !t.meaning.is_empty()));
        // Every default is in its own range.
        for t in &d {
            let x: f64 = t.default.parse().expect("a number");
            assert!(t.range.contains(x), "{}: default {} outside {}", t.key, t.default, t.range);
        }
    }
}
