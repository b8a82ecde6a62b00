//! What `tmon check` says about one run: a small summary taken from a [`Run`] (so the run's store
//! can be dropped before the next file is read), serialised as the `--json` schema.

use crate::analysis::smooth::ema;
use crate::analysis::{Flag, Severity};
use crate::run::Run;
use crate::store::{SeriesView, SkippedLine};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// TensorBoard's default smoothing weight, used for the `smoothed_last` column.
pub const SMOOTHING_WEIGHT: f64 = 0.6;
/// How many skipped lines the text output shows per file.
pub const SKIPPED_SHOWN: usize = 5;

/// The `--json` document: `{"runs": [...], "compare": {"flags": [...]}}`.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub runs: &'a [RunReport],
    pub compare: Compare<'a>,
}

/// What comparing the runs with each other found.
#[derive(Debug, Serialize)]
pub struct Compare<'a> {
    /// Flags across runs (`run_outlier`, `run_stopped`).
    pub flags: &'a [CompareFlag],
}

/// A flag across runs: `run` is the run's `name`.
#[derive(Debug, Clone, Serialize)]
pub struct CompareFlag {
    pub kind: &'static str,
    pub severity: Severity,
    pub run: String,
    #[serde(serialize_with = "empty_as_null")]
    pub metric: String,
    #[serde(serialize_with = "step")]
    pub step: f64,
    pub message: String,
}

impl From<&crate::analysis::sweep::CrossFlag> for CompareFlag {
    fn from(c: &crate::analysis::sweep::CrossFlag) -> Self {
        CompareFlag {
            kind: c.flag.kind.as_str(),
            severity: c.flag.severity,
            run: c.name.clone(),
            metric: c.flag.metric.clone(),
            step: c.flag.step,
            message: c.flag.message.clone(),
        }
    }
}

/// One file's summary.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub path: String,
    pub format: &'static str,
    pub records: u64,
    pub skipped_lines: u64,
    /// Records dropped as copies of a record already read (several ranks writing one log).
    pub duplicates: u64,
    pub step_key: Option<String>,
    pub time_key: Option<String>,
    pub metrics: Vec<MetricRow>,
    /// The end-of-training summary (`crate::analysis::summary`): scalars written once when
    /// training ended (HF's `train_runtime`, `total_flos`, `train_loss`, ...), not in `metrics`.
    pub summary: Vec<MetricRow>,
    /// Metrics logged per layer (`crate::analysis::families`): the family's name and its
    /// layers, input first.
    pub families: Vec<crate::analysis::Family>,
    pub flags: Vec<FlagRow>,
    /// Flags raised beyond the analyzer's cap of each severity: counted, not listed.
    pub flags_not_kept: u64,
    /// The same count by severity (info, warning, critical), for the text output.
    #[serde(skip)]
    pub flags_not_kept_by: [u64; 3],
    /// Values not stored because the run had as many series as it may (`--max-series`).
    pub fields_dropped: u64,
    /// That cap, for the text output.
    #[serde(skip)]
    pub max_series: usize,
    /// The run's name among the runs checked: the name its format records (W&B, MLflow) when
    /// unique, else the shortest part of its path that tells it apart (`crate::run::naming`).
    pub name: String,
    /// The name the run's format records, if any (for naming).
    #[serde(skip)]
    pub recorded_name: Option<String>,
    /// The run's status, when its format records one (MLflow, W&B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The run's configuration, flattened (`optimizer/lr`): what its format records (W&B config,
    /// MLflow params) and the config files beside it (`crate::run::config`).
    pub config: BTreeMap<String, String>,
    /// Config files beside the run that could not be read, each with the reason.
    #[serde(skip)]
    pub config_problems: Vec<String>,
    /// The step of the run's last record.
    #[serde(skip)]
    pub last_step: Option<f64>,
    /// Values read that are not drawn as metrics, by kind (`histograms`, `images`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub not_metrics: BTreeMap<&'static str, u64>,
    /// The first few skipped lines, for the text output.
    #[serde(skip)]
    pub skipped: Vec<SkippedLine>,
    /// The model's architecture (`crate::model`): `{"name", "type", "params", "children", ...}`
    /// from a printed model or a model record, or `null`.
    pub model: Option<serde_json::Value>,
    /// The same in one line, for the text output.
    #[serde(skip)]
    pub model_line: Option<String>,
    /// The run's histograms (distributions over steps), in the order first read.
    pub histograms: Vec<HistRow>,
    /// Histograms whose content was wrong (edges and counts of mismatched lengths, a negative
    /// count, a NaN edge): counted, not kept.
    pub malformed_histograms: u64,
    /// The first few malformed histograms: (line, key, reason), for the text output.
    #[serde(skip)]
    pub malformed: Vec<(u64, String, String)>,
}

/// One histogram's row: how many steps it was logged at, and the first and last.
#[derive(Debug, Clone, Serialize)]
pub struct HistRow {
    pub name: String,
    pub points: u64,
    #[serde(serialize_with = "step_or_null")]
    pub first_step: Option<f64>,
    #[serde(serialize_with = "step_or_null")]
    pub last_step: Option<f64>,
}

impl HistRow {
    fn of(store: &crate::store::Store) -> Vec<HistRow> {
        (0..store.histograms().len())
            .map(|id| {
                let h = store.histogram(id);
                let n = h.len();
                HistRow {
                    name: h.name().to_owned(),
                    points: n as u64,
                    first_step: (n > 0).then(|| h.step(0)),
                    last_step: (n > 0).then(|| h.step(n - 1)),
                }
            })
            .collect()
    }
}

/// One series' row in the metrics table.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    pub name: String,
    pub points: u64,
    pub nonfinite: u64,
    #[serde(serialize_with = "step_or_null")]
    pub first_step: Option<f64>,
    #[serde(serialize_with = "step_or_null")]
    pub last_step: Option<f64>,
    #[serde(serialize_with = "num_or_null")]
    pub last: Option<f64>,
    #[serde(serialize_with = "num_or_null")]
    pub min: Option<f64>,
    #[serde(serialize_with = "num_or_null")]
    pub max: Option<f64>,
    #[serde(serialize_with = "num_or_null")]
    pub smoothed_last: Option<f64>,
}

/// One flag, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct FlagRow {
    pub kind: &'static str,
    pub severity: Severity,
    /// The metric the flag is about; `null` in JSON for a flag about the whole run (a restart, a
    /// crash, two writers).
    #[serde(serialize_with = "empty_as_null")]
    pub metric: String,
    #[serde(serialize_with = "step")]
    pub step: f64,
    pub message: String,
}

impl RunReport {
    /// Summarises `run`; `path` is the path as the user gave it (or as found in a directory).
    pub fn from_run(path: String, run: &Run) -> Self {
        let store = &run.store;
        // The end-of-training summary is listed apart, as the monitor shows it apart from its charts.
        let summary_ids = crate::analysis::summary::summary_ids(store);
        let metrics = store
            .ids()
            .filter(|id| !summary_ids.contains(id))
            .map(|id| MetricRow::from_series(store.series(id)))
            .collect();
        let summary = summary_ids.iter().map(|&id| MetricRow::from_series(store.series(id))).collect();
        let model = crate::model::Model::of_store(store);
        RunReport {
            path,
            format: run.ingest.format().as_str(),
            records: store.records() as u64,
            skipped_lines: store.skipped.count,
            duplicates: run.ingest.duplicates(),
            step_key: run.ingest.step_key().map(str::to_owned),
            time_key: run.ingest.time_key().map(str::to_owned),
            metrics,
            summary,
            families: crate::analysis::families::of_store(store),
            flags: run.flags().iter().map(FlagRow::from).collect(),
            flags_not_kept: run.analyzer.flags_not_kept(),
            fields_dropped: store.fields_dropped(),
            max_series: run.ingest.max_series(),
            flags_not_kept_by: [Severity::Info, Severity::Warning, Severity::Critical]
                .map(|s| run.analyzer.flags_not_kept_of(s)),
            name: crate::run::naming::short_names(std::slice::from_ref(&run.path)).remove(0),
            recorded_name: run.info.name.clone(),
            status: run.info.status.clone(),
            config: run.info.config.clone(),
            config_problems: Vec::new(),
            last_step: store.last_record().map(|r| r.step),
            not_metrics: run.info.not_metrics.clone(),
            skipped: store.skipped.kept.iter().take(SKIPPED_SHOWN).cloned().collect(),
            model: model.as_ref().map(crate::model::Model::to_json),
            model_line: model.as_ref().map(crate::model::Model::summary),
            histograms: HistRow::of(store),
            malformed_histograms: store.histograms().bad().0,
            malformed: store
                .histograms()
                .bad()
                .1
                .iter()
                .take(SKIPPED_SHOWN)
                .map(|b| (b.line, b.name.clone(), b.reason.clone()))
                .collect(),
        }
    }

    /// The most severe flag, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.flags.iter().map(|f| f.severity).max()
    }
}

impl MetricRow {
    fn from_series(s: SeriesView<'_>) -> Self {
        let n = s.len();
        let last = s.last();
        let smoothed_last = smoothed_last(&s, SMOOTHING_WEIGHT);
        let (min, max) = match s.min_max() {
            Some((lo, hi)) => (Some(lo), Some(hi)),
            None => (None, None),
        };
        MetricRow {
            name: s.name().to_owned(),
            points: n as u64,
            nonfinite: s.nonfinite() as u64,
            first_step: (n > 0).then(|| s.step(0)),
            last_step: last.map(|(step, _)| step),
            last: last.map(|(_, v)| v),
            min,
            max,
            smoothed_last,
        }
    }
}

/// The last value of TensorBoard's EMA over the series, from its tail only.
///
/// A point `k` finite points before the end weighs `w^k` in the EMA; once `w^k` is below 1e-25 the
/// older points (and the debiasing term, which is then exactly 1 in f64) no longer change the
/// result beyond rounding. So only the tail holding that many finite points is smoothed, which
/// keeps `tmon check` from walking (and copying) every series a second time.
pub fn smoothed_last(s: &SeriesView<'_>, w: f64) -> Option<f64> {
    let n = s.len();
    if n == 0 {
        return None;
    }
    let needed = if w <= 0.0 {
        1
    } else if w >= 1.0 {
        n
    } else {
        ((1e-25f64).ln() / w.ln()).ceil().max(1.0) as usize
    };
    let mut start = n;
    let mut finite = 0;
    while start > 0 && finite < needed {
        start -= 1;
        if s.value(start).is_finite() {
            finite += 1;
        }
    }
    let tail: Vec<f64> = (start..n).map(|i| s.value(i)).collect();
    ema(&tail, w).last().copied()
}

impl From<&Flag> for FlagRow {
    fn from(f: &Flag) -> Self {
        FlagRow {
            kind: f.kind.as_str(),
            severity: f.severity,
            metric: f.metric.clone(),
            step: f.step,
            message: f.message.clone(),
        }
    }
}

fn empty_as_null<S: Serializer>(x: &str, s: S) -> Result<S::Ok, S::Error> {
    if x.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(x)
    }
}

fn num<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    // JSON has no NaN or infinities: they are written as the strings Python and JavaScript use.
    match crate::text::nonfinite(x) {
        None => s.serialize_f64(x),
        Some(name) => s.serialize_str(name),
    }
}

/// Steps are integers in almost every log: written as such (`100`, not `100.0`).
fn step<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.fract() == 0.0 && x.abs() < EXACT {
        s.serialize_i64(*x as i64)
    } else {
        num(*x, s)
    }
}

fn num_or_null<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => num(*x, s),
        None => s.serialize_none(),
    }
}

fn step_or_null<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => step(x, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{FlagConfig, FlagKind};
    use crate::ingest::IngestOptions;

    fn run_of(text: &str) -> Run {
        let mut run = Run::new("t.jsonl", IngestOptions::default(), FlagConfig::default());
        for (i, line) in text.lines().enumerate() {
            run.push_line(i as u64 + 1, line.as_bytes());
        }
        run
    }

    #[test]
    fn metrics_rows_summarise_each_series() {
        // An accuracy that becomes NaN: a nonfinite warning.
        let run = run_of(
            "{\"step\": 1, \"loss\": 2.0, \"acc\": 0.5}\n{\"step\": 2, \"loss\": 1.0, \"acc\": NaN}\nTraceback\n",
        );
        assert_eq!(run.flags().iter().map(|f| f.kind).collect::<Vec<_>>(), [FlagKind::Nonfinite]);
        let r = RunReport::from_run("t.jsonl".into(), &run);
        assert_eq!((r.records, r.skipped_lines, r.skipped.len()), (2, 1, 1));
        let loss = r.metrics.iter().find(|m| m.name == "loss").unwrap();
        assert_eq!((loss.points, loss.first_step, loss.last_step), (2, Some(1.0), Some(2.0)));
        assert_eq!((loss.min, loss.max, loss.last), (Some(1.0), Some(2.0), Some(1.0)));
        // Debiased EMA by hand: (0.4*2) -> 2; (0.6*0.8 + 0.4*1) / (1 - 0.36) = 0.88 / 0.64.
        assert!((loss.smoothed_last.unwrap() - 0.88 / 0.64).abs() < 1e-12);
        assert_eq!(r.worst(), Some(Severity::Warning));
    }

    #[test]
    fn the_smoothed_tail_equals_the_full_ema() {
        let mut st = crate::store::Store::new();
        let id = st.intern("loss");
        let mut x: u64 = 12345;
        for i in 0..5000u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = if i % 97 == 0 { f64::NAN } else { 1e6 * (-(i as f64) / 50.0).exp() + noise };
            let r = st.begin_record(crate::store::RecordMeta { step: i as f64, time: f64::NAN, line: 0 });
            st.push(r, id, v);
            if i % 10 != 0 && i < 4990 {
                continue;
            }
            let view = st.series(id);
            let full = *ema(&view.values(), SMOOTHING_WEIGHT).last().unwrap();
            let tail = smoothed_last(&view, SMOOTHING_WEIGHT).unwrap();
            if full.is_nan() {
                assert!(tail.is_nan(), "point {i}");
            } else {
                assert!((tail - full).abs() <= 1e-14 * full.abs(), "point {i}: {tail} vs {full}");
            }
        }
    }

    #[test]
    fn json_writes_nonfinite_as_strings_and_steps_as_integers() {
        let row = MetricRow {
            name: "loss".into(),
            points: 3,
            nonfinite: 2,
            first_step: Some(0.0),
            last_step: Some(2.5),
            last: Some(f64::NAN),
            min: Some(f64::NEG_INFINITY),
            max: Some(f64::INFINITY),
            smoothed_last: None,
        };
        let v = serde_json::to_value(&row).unwrap();
        assert_eq!(v["first_step"], serde_json::json!(0));
        assert_eq!(v["last_step"], serde_json::json!(2.5));
        assert_eq!(v["last"], "NaN");
        assert_eq!(v["min"], "-Infinity");
        assert_eq!(v["max"], "Infinity");
        assert!(v["smoothed_last"].is_null());
    }
}
