//! Every threshold of every detector, in one table: its name (as `--set` takes it), default and
//! meaning. `docs/flags.md` is checked against [`FlagConfig::describe`] by a test, so the two
//! cannot drift.

/// One documented threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub key: &'static str,
    pub default: String,
    pub meaning: &'static str,
}

macro_rules! thresholds {
    ($( $field:ident : $ty:ty = $default:expr, $key:literal, $doc:literal; )*) => {
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
                    $( $key => self.$field = parse_value::<$ty>(key, value)?, )*
                    _ => return Err(format!(
                        "unknown threshold '{key}' (known: {})",
                        [$( $key ),*].join(", ")
                    )),
                }
                Ok(())
            }

            /// The thresholds as the Markdown table kept in `docs/flags.md`.
            pub fn markdown_table() -> String {
                let mut out = String::from("| threshold | default | meaning |\n|---|---|---|\n");
                for t in Self::describe() {
                    out.push_str(&format!("| `{}` | {} | {} |\n", t.key, t.default, t.meaning.replace('|', "\\|")));
                }
                out
            }

            /// Every threshold: name, default and meaning, in documentation order.
            pub fn describe() -> Vec<Threshold> {
                let d = FlagConfig::default();
                vec![$( Threshold { key: $key, default: d.$field.to_string(), meaning: $doc }, )*]
            }
        }
    };
}

fn parse_value<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    let v = value.trim();
    let ok = v.parse::<f64>().map(|x| x.is_finite() && x >= 0.0).unwrap_or(false);
    if !ok {
        return Err(format!("threshold '{key}' needs a finite number >= 0, got '{value}'"));
    }
    v.parse::<T>().map_err(|_| format!("threshold '{key}' needs a whole number, got '{value}'"))
}

thresholds! {
    cooldown: usize = 500, "cooldown",
        "Records after the last sighting of a condition before the same kind on the same metric can raise a new flag (a severity upgrade always can).";
    nonfinite_loss_critical: usize = 1, "nonfinite.loss_critical",
        "1: the first NaN/Infinity of a loss is critical (other metrics: warning); 0: warning for all.";
    spike_z: f64 = 8.0, "spike.z",
        "Loss spike: robust z-score of log(loss) above the median of the previous `spike.window` values, with the noise scale from the MAD (x1.4826) of log differences.";
    spike_ratio: f64 = 2.5, "spike.ratio",
        "Loss spike: the value must also be at least this many times that median.";
    spike_window: usize = 16, "spike.window",
        "Points in the rolling median that is the spike baseline (the current point excluded).";
    spike_min_points: usize = 50, "spike.min_points",
        "Points a training loss needs before spikes or divergence are judged.";
    divergence_ratio: f64 = 3.0, "divergence.ratio",
        "Divergence (warning): the rolling median of the training loss rises to this many times its best rolling median.";
    divergence_critical: f64 = 30.0, "divergence.critical",
        "Divergence (critical): ... to this many times its best.";
    divergence_noise_z: f64 = 10.0, "divergence.noise_z",
        "Divergence: the rise must also exceed this many standard errors of the rolling median (noisy small-batch losses need a larger rise); the critical threshold moves up by the same amount.";
    plateau_rel: f64 = 1e-4, "plateau.rel",
        "Plateau on an eval loss (ReduceLROnPlateau): an improvement smaller than this fraction of the best does not count.";
    plateau_patience: usize = 10, "plateau.patience",
        "Plateau on an eval loss: evaluations without improvement (info).";
    plateau_train_rel: f64 = 0.01, "plateau.train_rel",
        "Plateau on a training loss: its rolling median must beat its best by this fraction to count as improving.";
    plateau_train_patience: usize = 1000, "plateau.train_patience",
        "Plateau on a training loss: points without improvement (info; never during LR warmup)...";
    plateau_train_patience_frac: f64 = 0.25, "plateau.train_patience_frac",
        "... or this fraction of the points seen so far, when that is more (a long run improves slowly).";
    overfit_gl: f64 = 5.0, "overfit.gl",
        "Overfitting (Prechelt's generalization loss, GL = 100*(E_val/E_min - 1)): the median of the last `overfit.strips` evaluations this many percent above the best such median...";
    overfit_strips: usize = 3, "overfit.strips",
        "... (evaluations in that median: a rise must hold for most of them)...";
    overfit_noise_z: f64 = 3.0, "overfit.noise_z",
        "... and the rise larger than this many standard errors of that median (noisy evaluations need a larger rise)...";
    overfit_train_drop: f64 = 0.1, "overfit.train_drop",
        "... while the paired training loss (when logged) has fallen by at least this fraction since the best: a flat training loss means noise or a shift, a rising one divergence.";
    overfit_min_evals: usize = 5, "overfit.min_evals",
        "Evaluations needed before overfitting is judged.";
    stall_factor: f64 = 20.0, "stall.factor",
        "Stall: a gap between records this many times the median of the recent gaps...";
    stall_min_seconds: f64 = 60.0, "stall.min_seconds",
        "... and at least this many seconds.";
    stall_critical_seconds: f64 = 3600.0, "stall.critical_seconds",
        "A stall at least this long is critical.";
    stall_min_gaps: usize = 16, "stall.min_gaps",
        "Gaps in the record clock needed before stalls are judged.";
    live_stall_factor: f64 = 10.0, "live_stall.factor",
        "Live stall (the monitor and `check --follow`, by the wall clock): no new record for this many times the usual interval between arrivals (their median)...";
    live_stall_min_seconds: f64 = 300.0, "live_stall.min_seconds",
        "... and at least this many seconds (a checkpoint save is not a stall).";
    live_stall_critical_seconds: f64 = 1800.0, "live_stall.critical_seconds",
        "A live stall this long (and at least 3x the warning threshold) is critical.";
    dead_frac: f64 = 0.7, "dead.frac",
        "Dead units (AUTOTRAINER's dying-ReLU rule): a dead/zero fraction at or above this (a value above 1 is read as a percentage)...";
    dead_critical: f64 = 0.95, "dead.critical",
        "... critical at or above this fraction.";
    dead_persist: usize = 5, "dead.persist",
        "Points in a row the dead fraction must stay at or above `dead.frac`.";
    vanishing_ratio: f64 = 1e-3, "vanishing.ratio",
        "Vanishing gradient (AUTOTRAINER): first-layer / last-layer gradient norm below this...";
    vanishing_first_max: f64 = 1e-4, "vanishing.first_max",
        "... and the first layer's gradient norm below this...";
    vanishing_persist: usize = 5, "vanishing.persist",
        "... for this many records in a row.";
    exploding_ratio: f64 = 10.0, "exploding.ratio",
        "Exploding gradient (warning): the global gradient norm at least this many times the median of its previous `spike.window` values...";
    exploding_z: f64 = 6.0, "exploding.z",
        "... with a robust z-score (log space, scale from differences) at least this.";
    exploding_critical: f64 = 1000.0, "exploding.critical",
        "Exploding gradient (critical): at least this many times that median.";
    exploding_min_points: usize = 32, "exploding.min_points",
        "Points the gradient norm needs before it is judged.";
    throughput_drop: f64 = 0.5, "throughput.drop",
        "Throughput drop: the rolling median of the last `throughput.window` points falls below (1 - this) x the run's baseline (median of the previous `throughput.baseline` points).";
    throughput_window: usize = 16, "throughput.window",
        "Points in the recent rolling median (single dips at eval or checkpoint steps do not move it).";
    throughput_baseline: usize = 128, "throughput.baseline",
        "Points in the baseline window, before the recent ones.";
    lr_jump: f64 = 10.0, "lr.jump",
        "LR anomaly: the learning rate rises to this many times the highest value it had before (warm restarts return to the old peak and are fine). A negative or NaN learning rate is always flagged.";
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
    }
}
