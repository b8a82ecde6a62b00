//! Which key is the step, which is the clock, and which numeric keys are not metrics.
//!
//! The step key is chosen from the first record that carries a number (so mmcv's metadata line does
//! not decide it), by this priority: [`STEP_KEYS`]. mmcv 1.x writes `iter` (which restarts every
//! epoch) next to `epoch`: that pair becomes [`StepMode::EpochIter`]. With no known key, the step is
//! the record's 0-based ordinal.
//!
//! The clock is chosen in this order: a unix epoch number under [`UNIX_KEYS`]; any string that is an
//! ISO 8601 date-time; an elapsed duration under [`ELAPSED_KEYS`] (seconds, or `str(timedelta)`).
//! Only exact names count: `bbox/AP-date` is a metric, and detectron2's or mmcv's `time` (seconds
//! per iteration, far below 1e9) is a metric too.
//!
//! Not metrics, though numeric: the chosen step key and time key (other step or clock keys such as
//! `epoch` or `_runtime` stay series: they are useful alternative axes), mmcv's within-epoch `iter`,
//! [`CONFIG_KEYS`] (process ids, seeds, parameter counts, totals: constants that would only clutter
//! the metric list), anything under `config/` (Ray's trainer config), and the fields of media or
//! histogram objects (`{"_type": "video-file", "size": ...}`).

use super::clock::{parse_iso8601, parse_timedelta, unix_seconds, ClockKind};
use crate::parse::{Field, Scalar};

/// Step keys, best first.
pub const STEP_KEYS: &[&str] = &[
    "step",
    "global_step",
    "iteration",
    "_step",
    "training_iteration",
    "time/total_timesteps",
    "total/steps",
    "current_steps",
    "timesteps_total",
    "total_timesteps",
    "iter",
    "epoch",
    "total/epochs",
];

/// Names that hold a unix epoch when their value is in range ([`unix_seconds`]).
pub const UNIX_KEYS: &[&str] = &["_timestamp", "timestamp", "time", "wall_time", "walltime", "unix_time"];

/// Names that hold the time elapsed since the start, best first.
pub const ELAPSED_KEYS: &[&str] = &[
    "_runtime",
    "time_total_s",
    "time/time_elapsed",
    "time_elapsed",
    "elapsed_time",
    "elapsed",
    "total/duration",
    "time_since_restore",
    "runtime",
];

/// Numeric keys that describe the setup, not the training.
pub const CONFIG_KEYS: &[&str] = &[
    "pid",
    "seed",
    "n_parameters",
    "num_parameters",
    "n_params",
    "num_params",
    "world_size",
    "rank",
    "local_rank",
    "node_rank",
    "total_steps",
    "max_steps",
    "num_train_epochs",
];

/// String columns that name who wrote the record (several agents or learners writing one file):
/// their value splits every metric of the record into its own series, `name[value]`.
pub const SPLIT_KEYS: &[&str] = &["agent", "agent_id", "policy_id"];

/// String keys whose value says a record is an evaluation record (mmcv's `"mode": "val"`).
pub const MODE_KEYS: &[&str] = &["mode"];

/// How the step of a record is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepMode {
    /// The record's 0-based ordinal.
    Ordinal,
    /// The value of this key.
    Key(String),
    /// mmcv: `iter` counts within `epoch`; the global step is derived from both.
    EpochIter,
}

/// A clock: its key and what it measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    pub key: String,
    pub kind: ClockKind,
}

/// True for a key that is a setup constant rather than a metric.
pub fn is_config_key(key: &str) -> bool {
    CONFIG_KEYS.contains(&key) || key.starts_with("config/")
}

fn num(v: &Scalar<'_>) -> Option<f64> {
    match v {
        Scalar::Num(x) => Some(*x),
        _ => None,
    }
}

/// Picks the step from a record's fields, by [`STEP_KEYS`] priority.
pub fn detect_step(fields: &[Field<'_>]) -> StepMode {
    let has_num = |k: &str| fields.iter().any(|f| f.key == k && num(&f.value).is_some());
    for &k in STEP_KEYS {
        if has_num(k) {
            if k == "iter" && has_num("epoch") {
                return StepMode::EpochIter;
            }
            return StepMode::Key(k.to_owned());
        }
    }
    StepMode::Ordinal
}

/// Picks the clock from a record's fields, or None when it has none.
pub fn detect_clock(fields: &[Field<'_>]) -> Option<Clock> {
    let find = |k: &str| fields.iter().find(|f| f.key == k).map(|f| &f.value);
    for &k in UNIX_KEYS {
        if let Some(x) = find(k).and_then(num) {
            if unix_seconds(x).is_some() {
                return Some(Clock { key: k.to_owned(), kind: ClockKind::Unix });
            }
        }
    }
    for f in fields {
        if let Scalar::Str(s) = &f.value {
            if parse_iso8601(s).is_some() {
                return Some(Clock { key: f.key.to_string(), kind: ClockKind::Unix });
            }
        }
    }
    for &k in ELAPSED_KEYS {
        match find(k) {
            Some(Scalar::Num(x)) if x.is_finite() && *x >= 0.0 => {
                return Some(Clock { key: k.to_owned(), kind: ClockKind::Elapsed })
            }
            Some(Scalar::Str(s)) if parse_timedelta(s).is_some() => {
                return Some(Clock { key: k.to_owned(), kind: ClockKind::Elapsed })
            }
            _ => {}
        }
    }
    None
}

/// Prefixes (with their trailing `/`) of nested objects that are media or histograms: objects
/// with a string `_type` field, as W&B writes them.
pub fn media_prefixes(fields: &[Field<'_>]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| matches!(f.value, Scalar::Str(_)))
        .filter_map(|f| f.key.strip_suffix("/_type").map(|p| format!("{p}/")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn f<'a>(key: &'a str, value: Scalar<'a>) -> Field<'a> {
        Field { key: Cow::Borrowed(key), value }
    }

    #[test]
    fn step_priority() {
        let r = [f("epoch", Scalar::Num(1.0)), f("iteration", Scalar::Num(287.0))];
        assert_eq!(detect_step(&r), StepMode::Key("iteration".into()));
        let mm = [
            f("mode", Scalar::Str("train".into())),
            f("epoch", Scalar::Num(1.0)),
            f("iter", Scalar::Num(50.0)),
        ];
        assert_eq!(detect_step(&mm), StepMode::EpochIter);
        let eng = [f("iter", Scalar::Num(50.0)), f("epoch", Scalar::Num(1.0)), f("step", Scalar::Num(50.0))];
        assert_eq!(detect_step(&eng), StepMode::Key("step".into()));
        assert_eq!(detect_step(&[f("loss", Scalar::Num(1.0))]), StepMode::Ordinal);
        // A step key holding a string does not count.
        assert_eq!(detect_step(&[f("step", Scalar::Str("1".into()))]), StepMode::Ordinal);
    }

    #[test]
    fn clock_choice() {
        let d2 = [f("time", Scalar::Num(0.31)), f("data_time", Scalar::Num(0.01))];
        assert_eq!(detect_clock(&d2), None);
        let ray = [
            f("date", Scalar::Str("2018-11-11_13-34-14".into())),
            f("time_total_s", Scalar::Num(77.4)),
            f("timestamp", Scalar::Num(1_541_979_254.0)),
        ];
        assert_eq!(detect_clock(&ray), Some(Clock { key: "timestamp".into(), kind: ClockKind::Unix }));
        let lf = [f("elapsed_time", Scalar::Str("0:02:12".into()))];
        assert_eq!(detect_clock(&lf), Some(Clock { key: "elapsed_time".into(), kind: ClockKind::Elapsed }));
        let iso = [f("ts", Scalar::Str("2024-01-01T00:00:00Z".into()))];
        assert_eq!(detect_clock(&iso).map(|c| c.kind), Some(ClockKind::Unix));
        assert_eq!(detect_clock(&[f("bbox/AP-date", Scalar::Num(79.7))]), None);
    }
}
