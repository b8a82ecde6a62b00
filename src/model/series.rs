//! A module's path matched to the run's per-layer series: `blocks.3.attn` is named by
//! `grad_norm/blocks.3.attn`, `blocks.3.attn/grad_norm`, `blocks.3.attn.grad_norm` or
//! `grad_norm/blocks.3.attn.weight`. [`split_layer`] is the one place a series name is read as
//! (metric, layer); the rest only indexes what it says.

use crate::store::{SeriesId, Store};
use std::collections::HashMap;

/// One series naming a layer: the metric it measures and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSeries {
    pub metric: String,
    pub id: SeriesId,
}

/// The ways a series name can read as (metric, layer path): `metric/layer`, `layer/metric`,
/// `layer.metric`. The layer loses a parameter suffix (`.weight`, `.bias`) and the wrappers'
/// prefixes (`module.` of DistributedDataParallel, `_orig_mod.` of `torch.compile`).
pub fn split_layer(name: &str) -> Vec<(&str, &str)> {
    fn clean(l: &str) -> Option<&str> {
        let mut l = l.trim_end_matches(".weight").trim_end_matches(".bias");
        for p in ["module.", "_orig_mod."] {
            l = l.strip_prefix(p).unwrap_or(l);
        }
        (!l.is_empty()).then_some(l)
    }
    let mut out = Vec::new();
    if let Some((metric, layer)) = name.rsplit_once('/') {
        out.extend(clean(layer).map(|l| (metric, l)));
        if let Some((layer, metric)) = name.split_once('/') {
            out.extend(clean(layer).map(|l| (metric, l)));
        }
    } else if let Some((layer, metric)) = name.rsplit_once('.') {
        if metric.chars().any(|c| c.is_alphabetic()) && metric != "weight" && metric != "bias" {
            out.extend(clean(layer).map(|l| (metric, l)));
        }
    }
    out
}

/// The run's series indexed by the layer they name.
#[derive(Clone, Debug, Default)]
pub struct LayerIndex {
    by_layer: HashMap<String, Vec<LayerSeries>>,
}

fn rank(metric: &str) -> (u8, String) {
    let m = metric.to_ascii_lowercase();
    let r = if m.contains("grad") {
        0
    } else if m.contains("dead") {
        1
    } else if m.contains("weight") || m.contains("norm") {
        2
    } else {
        3
    };
    (r, m)
}

impl LayerIndex {
    pub fn new<'a>(names: impl IntoIterator<Item = (SeriesId, &'a str)>) -> Self {
        let mut by_layer: HashMap<String, Vec<LayerSeries>> = HashMap::new();
        for (id, name) in names {
            for (metric, layer) in split_layer(name) {
                by_layer
                    .entry(layer.to_string())
                    .or_default()
                    .push(LayerSeries { metric: metric.to_string(), id });
            }
        }
        LayerIndex { by_layer }
    }

    /// The metrics that name at least one of `paths`, most useful for colouring first (gradient
    /// norms, dead fractions, weight norms, then by name).
    pub fn metrics_of<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            paths.into_iter().flat_map(|p| self.lookup(p).iter().map(|s| s.metric.as_str())).collect();
        let mut v: Vec<String> = set.into_iter().map(str::to_string).collect();
        v.sort_by_key(|m| rank(m));
        v
    }

    pub fn of_store(store: &Store) -> Self {
        LayerIndex::new(store.ids().map(|id| (id, store.name(id))))
    }

    /// The series naming the module at `path` (attribute names from the root joined by `.`):
    /// the path itself, or, when the log names layers from another root, the longest match at a
    /// `.` boundary either way (`transformer.h.3` <-> `h.3`; never a bare number such as `3`).
    pub fn lookup(&self, path: &str) -> &[LayerSeries] {
        if path.is_empty() {
            return &[];
        }
        if let Some(v) = self.by_layer.get(path) {
            return v;
        }
        // The log drops a root prefix the printed path has (`h.3.attn` for `transformer.h.3.attn`).
        let mut rest = path;
        while let Some((_, tail)) = rest.split_once('.') {
            rest = tail;
            if rest.split('.').all(|p| p.parse::<u64>().is_ok()) {
                break;
            }
            if let Some(v) = self.by_layer.get(rest) {
                return v;
            }
        }
        // The log adds a prefix the printed path lacks (`model.fc1` for `fc1`).
        let suffix = format!(".{path}");
        if path.split('.').any(|p| p.parse::<u64>().is_err()) {
            let mut best: Option<&Vec<LayerSeries>> = None;
            let mut best_len = usize::MAX;
            for (layer, v) in &self.by_layer {
                if layer.ends_with(&suffix) && layer.len() < best_len {
                    best = Some(v);
                    best_len = layer.len();
                }
            }
            if let Some(v) = best {
                return v;
            }
        }
        &[]
    }

    /// The series of `metric` naming the module at `path`.
    pub fn find(&self, path: &str, metric: &str) -> Option<SeriesId> {
        self.lookup(path).iter().find(|s| s.metric == metric).map(|s| s.id)
    }
}

/// The series of `metric` naming the module at `path`, among `names` (see [`LayerIndex::lookup`]).
pub fn layer_series<'a>(
    path: &str,
    metric: &str,
    names: impl IntoIterator<Item = (SeriesId, &'a str)>,
) -> Option<SeriesId> {
    LayerIndex::new(names).find(path, metric)
}

/// The value of series `id` at `step`: its last point at or before it (`None` before the first).
pub fn value_at(store: &Store, id: SeriesId, step: f64) -> Option<f64> {
    let s = store.series(id);
    let n = s.len();
    let i = if step.is_finite() {
        // Points are in record order; steps rise except across a restart, where this still
        // finds a point at or before the step.
        let mut lo = 0usize;
        let mut hi = n;
        while lo < hi {
            let mid = (lo + hi) / 2;
            if s.step(mid) <= step {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    } else {
        n
    };
    (i > 0).then(|| s.value(i - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(names: &[&str]) -> LayerIndex {
        LayerIndex::new(names.iter().enumerate().map(|(i, n)| (i as SeriesId, *n)))
    }

    #[test]
    fn each_spelling_of_a_layer_metric_finds_the_module() {
        let ix = index(&[
            "grad_norm/blocks.3.attn",
            "blocks.3.attn/weight_norm",
            "blocks.3.mlp.dead_frac",
            "grad_norm/module.fc1.weight",
            "loss",
            "train/loss",
        ]);
        assert_eq!(ix.find("blocks.3.attn", "grad_norm"), Some(0));
        assert_eq!(ix.find("blocks.3.attn", "weight_norm"), Some(1));
        assert_eq!(ix.find("blocks.3.mlp", "dead_frac"), Some(2));
        assert_eq!(ix.find("fc1", "grad_norm"), Some(3));
        assert_eq!(ix.find("blocks.3", "grad_norm"), None);
        let paths = ["blocks.3.attn", "blocks.3.mlp", "fc1", "head"];
        assert_eq!(ix.metrics_of(paths), ["grad_norm", "dead_frac", "weight_norm"]);
    }

    #[test]
    fn paths_from_another_root_match_at_a_dot_never_a_bare_number() {
        let ix = index(&["grad_norm/h.3.attn", "grad_norm/model.fc1", "grad_norm/3"]);
        assert_eq!(ix.find("transformer.h.3.attn", "grad_norm"), Some(0));
        assert_eq!(ix.find("fc1", "grad_norm"), Some(1));
        assert_eq!(ix.find("layer.3", "grad_norm"), None);
        assert_eq!(ix.find("h.3", "grad_norm"), None);
    }
}
