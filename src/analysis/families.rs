//! Per-layer metric families: the same metric logged once per layer (`grad_norm/layer0` …
//! `grad_norm/layer11`, `fc1/dead_frac`, `layers.3.grad_norm`, `weight_norm/blocks.3.attn`),
//! found from the series names alone, with the layers in forward order (input first).
//!
//! A name is split into a fixed part and a varying part in every way the usual loggers write it:
//! one `/`-separated segment varies (`grad_norm/<layer>`, `<layer>/grad_norm`, `a/<layer>/b`),
//! or, in a name without `/`, everything before the last `.` (`<layer>.grad_norm`). Names that
//! share a fixed part make a candidate; it is a family only when its varying parts look like
//! layers: a number attached to a module-path part (`layer3`, `fc1`, `blocks.3.attn`, `h.11`)
//! or a known layer word (`embed`, `lm_head`), and never a word that names a split, a device or a
//! task metric (`train/loss` and `val/loss`, `gpu0/util`, `bbox/AP50`, `acc/top1` are not
//! layers). A family needs at least two numbered layers, or three layers named by layer words.
//!
//! Order: input words (`embed`, `wte`, `stem`) first, output words (`head`, `classifier`,
//! `ln_f`) last, and in between token by token: numbers by value (`layer9` before `layer10`,
//! `blocks.2` before `blocks.10`), words in the order the log first wrote them (the order a
//! model's modules are usually logged in: `conv2` before `fc1`).

use crate::store::SeriesId;
use serde::Serialize;
use std::collections::HashMap;

/// One family: a metric logged per layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Family {
    /// The metric's name without its layer part (`grad_norm`; `grads/*/norm` when the layer is
    /// in the middle).
    pub name: String,
    /// The layer parts, input first.
    pub layers: Vec<String>,
    /// The series of each layer, in the order of `layers`.
    #[serde(skip)]
    pub ids: Vec<SeriesId>,
}

impl Family {
    /// The row of series `id`, if it is one of the family's layers.
    pub fn row_of(&self, id: SeriesId) -> Option<usize> {
        self.ids.iter().position(|&i| i == id)
    }
}

/// Words that mark a part as something else than a layer: splits, devices, ranks, task metrics,
/// optimiser groups.
const NOT_LAYER: &[&str] = &[
    "train",
    "training",
    "val",
    "valid",
    "validation",
    "eval",
    "test",
    "dev",
    "loss",
    "acc",
    "accuracy",
    "top",
    "ap",
    "map",
    "ar",
    "f1",
    "gpu",
    "cuda",
    "cpu",
    "rank",
    "worker",
    "node",
    "device",
    "epoch",
    "step",
    "iter",
    "seed",
    "fold",
    "task",
    "class",
    "pg",
    "group",
    "lr",
    "time",
    "mem",
    "memory",
    "util",
    "bleu",
    "rouge",
    "wer",
    "cer",
    "p",
    "mse",
    "mae",
    "recall",
    "precision",
    "ece",
    "tp",
    "fp",
    "fn",
    "ips",
    "throughput",
    "samples",
    "tokens",
    "fps",
    "q",
    "percentile",
    "pct",
    "env",
    "agent",
    "episode",
    "reward",
    "return",
    "level",
    "scale",
    "rate",
    "k",
];

/// Words of the input end of a model.
const INPUT_WORDS: &[&str] =
    &["embed", "embeds", "embedding", "embeddings", "emb", "wte", "wpe", "stem", "input", "in", "patch"];
/// Words of the output end of a model.
const OUTPUT_WORDS: &[&str] =
    &["head", "lm", "classifier", "output", "out", "ln_f", "final", "pooler", "logits", "fc_out", "norm_f"];
/// Words of module names (a part made only of words is a layer only with one of these).
const LAYER_WORDS: &[&str] = &[
    "layer",
    "layers",
    "block",
    "blocks",
    "blk",
    "h",
    "fc",
    "linear",
    "lin",
    "conv",
    "bn",
    "norm",
    "ln",
    "attn",
    "attention",
    "mlp",
    "ffn",
    "stage",
    "res",
    "encoder",
    "decoder",
    "enc",
    "dec",
    "down",
    "up",
    "transformer",
    "cell",
    "lstm",
    "gru",
    "rnn",
    "dense",
    "hidden",
    "proj",
    "mixer",
    "features",
    "backbone",
    "neck",
    "l",
];

/// A token of a layer part: a number, or a word.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Tok {
    Num(u64),
    Word(String),
}

/// The tokens of a layer part: split on `.`, `/`, `_`, `-` and between letters and digits.
fn tokens(layer: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    for part in layer.to_lowercase().split(['.', '/', '_', '-', ' ', ':']).filter(|p| !p.is_empty()) {
        let mut cur = String::new();
        let mut digits = false;
        for c in part.chars() {
            let d = c.is_ascii_digit();
            if !cur.is_empty() && d != digits {
                out.push(tok(&cur, digits));
                cur.clear();
            }
            digits = d;
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(tok(&cur, digits));
        }
    }
    out
}

fn tok(s: &str, digits: bool) -> Tok {
    match digits.then(|| s.parse::<u64>().ok()).flatten() {
        Some(n) => Tok::Num(n),
        None => Tok::Word(s.to_owned()),
    }
}

/// How a part looks: not a layer, a numbered layer, or a layer named by words only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    No,
    Numbered,
    Named,
}

fn look(layer: &str) -> Look {
    let toks = tokens(layer);
    let words = || toks.iter().filter_map(|t| if let Tok::Word(w) = t { Some(w.as_str()) } else { None });
    if toks.is_empty() || words().any(|w| NOT_LAYER.contains(&w)) {
        return Look::No;
    }
    let whole = layer.to_lowercase();
    let layer_word =
        |w: &str| LAYER_WORDS.contains(&w) || INPUT_WORDS.contains(&w) || OUTPUT_WORDS.contains(&w);
    if toks.iter().any(|t| matches!(t, Tok::Num(_))) {
        // A bare number (`grad_norm/3`) or one after a module word or inside a module path.
        let first_word = words().next();
        return if first_word.is_none() || words().any(layer_word) || whole.contains('.') {
            Look::Numbered
        } else {
            Look::No
        };
    }
    if words().any(layer_word)
        || INPUT_WORDS.contains(&whole.as_str())
        || OUTPUT_WORDS.contains(&whole.as_str())
    {
        Look::Named
    } else {
        Look::No
    }
}

/// Where a layer sits: 0 at the input end, 1 in the body, 2 at the output end.
fn end_of(layer: &str) -> u8 {
    let lower = layer.to_lowercase();
    let toks = tokens(layer);
    let first = toks.first();
    let numbered = toks.iter().any(|t| matches!(t, Tok::Num(_)));
    let has = |list: &[&str]| {
        list.contains(&lower.as_str()) || matches!(first, Some(Tok::Word(w)) if list.contains(&w.as_str()))
    };
    if has(INPUT_WORDS) && !(numbered && first.is_some_and(|t| matches!(t, Tok::Word(w) if w == "in"))) {
        0
    } else if (has(OUTPUT_WORDS) || lower == "ln_f" || lower.ends_with("lm_head"))
        && !lower.starts_with("layer")
    {
        2
    } else {
        1
    }
}

/// The split of a name: (fixed pattern with `*` for the layer, layer part).
fn splits(name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let segs: Vec<&str> = name.split('/').collect();
    if segs.len() > 1 {
        for k in 0..segs.len() {
            if segs[k].is_empty() {
                continue;
            }
            let pattern: Vec<&str> =
                segs.iter().enumerate().map(|(i, s)| if i == k { "*" } else { s }).collect();
            out.push((pattern.join("/"), segs[k].to_owned()));
        }
    } else if let Some((layer, metric)) = name.rsplit_once('.') {
        if !layer.is_empty() && !metric.is_empty() && !metric.chars().all(|c| c.is_ascii_digit()) {
            out.push((format!("*.{metric}"), layer.to_owned()));
        }
    }
    out
}

/// The family's name from its pattern: the fixed part when the layer is at an end
/// (`grad_norm/*` -> `grad_norm`), else the pattern.
fn family_name(pattern: &str) -> String {
    pattern
        .strip_prefix("*/")
        .or_else(|| pattern.strip_prefix("*."))
        .or_else(|| pattern.strip_suffix("/*"))
        .filter(|s| !s.contains('*'))
        .unwrap_or(pattern)
        .to_owned()
}

/// The families among `names` (series ids with their names, in creation order). Each series is in
/// at most one family (the largest it could be in); families come in the order their first series
/// was created.
pub fn detect<'a>(names: impl IntoIterator<Item = (SeriesId, &'a str)>) -> Vec<Family> {
    let names: Vec<(SeriesId, &str)> = names.into_iter().collect();
    let mut candidates: HashMap<String, Vec<(SeriesId, String)>> = HashMap::new();
    for &(id, name) in &names {
        for (pattern, layer) in splits(name) {
            if look(&layer) != Look::No {
                candidates.entry(pattern).or_default().push((id, layer));
            }
        }
    }
    let mut cands: Vec<(String, Vec<(SeriesId, String)>)> = candidates
        .into_iter()
        .filter(|(_, m)| {
            let numbered = m.iter().filter(|(_, l)| look(l) == Look::Numbered).count();
            numbered >= 2 || (numbered == 0 && m.len() >= 3)
        })
        .collect();
    // The largest first, then the earliest; a series goes to the first family that takes it.
    cands.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].0.cmp(&b.1[0].0)).then(a.0.cmp(&b.0)));
    let mut taken = std::collections::HashSet::new();
    let mut out: Vec<Family> = Vec::new();
    for (pattern, members) in cands {
        let free: Vec<(SeriesId, String)> =
            members.into_iter().filter(|(id, _)| !taken.contains(id)).collect();
        let numbered = free.iter().filter(|(_, l)| look(l) == Look::Numbered).count();
        if !(numbered >= 2 || (numbered == 0 && free.len() >= 3)) {
            continue;
        }
        taken.extend(free.iter().map(|(id, _)| *id));
        let ordered = order(free);
        out.push(Family {
            name: family_name(&pattern),
            layers: ordered.iter().map(|(_, l)| l.clone()).collect(),
            ids: ordered.iter().map(|(id, _)| *id).collect(),
        });
    }
    out.sort_by_key(|f| f.ids.iter().min().copied());
    out
}

/// The families of a store's series (its end-of-training summary left out).
pub fn of_store(store: &crate::store::Store) -> Vec<Family> {
    let summary = crate::analysis::summary::summary_ids(store);
    detect(store.ids().filter(|id| !summary.contains(id)).map(|id| (id, store.name(id))))
}

/// Where a flag points into the heatmaps: the family (an index into `families`) and the rows
/// (layers) it concerns, for the flags about layers (`dead_units`, `vanishing_gradient`,
/// `exploding_gradient`); `None` for the others, or when no family fits.
///
/// A flag on a family's own series names its layer, and the layers that show the same condition
/// at the flag's step are marked with it. A flag on a global series (`dead_frac`, `grad_norm`)
/// points into the family that shows it (a dead-fraction family for dead units, else the
/// per-layer gradient norms), marking the layers that show the condition at the flag's step:
/// dead (a dead fraction at or above `dead.frac`, or a gradient norm of exactly 0, there and at
/// three in four of the next 16 points), vanishing
/// (below `vanishing.first_max`), or exploding (at least `exploding.ratio` x the median of the
/// layer's previous 16 points).
pub fn flag_target(
    families: &[Family],
    store: &crate::store::Store,
    flag: &crate::analysis::Flag,
    cfg: &crate::analysis::FlagConfig,
) -> Option<(usize, Vec<usize>)> {
    use crate::analysis::names::{role, Role};
    use crate::analysis::FlagKind as K;
    if !matches!(flag.kind, K::DeadUnits | K::VanishingGradient | K::ExplodingGradient) {
        return None;
    }
    let role_of = |f: &Family| f.ids.first().map(|&id| role(store.name(id)));
    let own = store
        .find(&flag.metric)
        .and_then(|id| families.iter().enumerate().find_map(|(fi, f)| f.row_of(id).map(|row| (fi, row))));
    let fi = match own {
        Some((fi, _)) => fi,
        None => {
            let want: &[Role] = match flag.kind {
                K::DeadUnits => &[Role::DeadFraction, Role::LayerGradNorm],
                _ => &[Role::LayerGradNorm],
            };
            want.iter().find_map(|r| families.iter().position(|f| role_of(f) == Some(*r)))?
        }
    };
    let fam = &families[fi];
    let dead_frac = role_of(fam) == Some(Role::DeadFraction);
    let shows = |id: SeriesId| -> bool {
        let s = store.series(id);
        let n = s.len();
        // The first point at or after the flag's step (binary search: steps do not go back).
        let (mut i, mut hi) = (0, n);
        while i < hi {
            let m = (i + hi) / 2;
            if s.step(m) < flag.step {
                i = m + 1;
            } else {
                hi = m;
            }
        }
        if i >= n {
            return false;
        }
        let v = s.value(i);
        let dead = |v: f64| {
            if dead_frac {
                let frac = if v > 1.0 && v <= 100.0 { v / 100.0 } else { v };
                frac >= cfg.dead_frac
            } else {
                v == 0.0
            }
        };
        match flag.kind {
            // Dead from the flag's step on: at it, and at three in four of the next 16 points (a
            // dead layer still gets the odd batch through).
            K::DeadUnits => {
                let next: Vec<f64> = (i + 1..n.min(i + 17)).map(|j| s.value(j)).collect();
                dead(v) && next.iter().filter(|&&v| dead(v)).count() * 4 >= next.len() * 3
            }
            K::VanishingGradient => v.is_finite() && v < cfg.vanishing_first_max,
            _ => {
                let mut prev: Vec<f64> =
                    (i.saturating_sub(16)..i).map(|j| s.value(j)).filter(|v| v.is_finite()).collect();
                if prev.is_empty() {
                    return false;
                }
                prev.sort_by(f64::total_cmp);
                let median = prev[prev.len() / 2];
                v.is_finite() && median > 0.0 && v >= cfg.exploding_ratio * median
            }
        }
    };
    let mut rows: Vec<usize> = own.map(|(_, r)| r).into_iter().collect();
    let own_row = own.map(|(_, r)| r);
    rows.extend(
        fam.ids.iter().enumerate().filter(|&(r, &id)| Some(r) != own_row && shows(id)).map(|(r, _)| r),
    );
    rows.sort_unstable();
    Some((fi, rows))
}

/// A layer with its sort key: (end of the model, tokens as (kind, value), series, name).
type Keyed = (u8, Vec<(u8, u64)>, SeriesId, String);

/// Orders layers input first (see the module's doc).
fn order(mut members: Vec<(SeriesId, String)>) -> Vec<(SeriesId, String)> {
    // Words at each depth ranked by the first series (creation order) that has them there.
    members.sort_by_key(|(id, _)| *id);
    let mut rank: HashMap<(usize, String), usize> = HashMap::new();
    let keyed: Vec<Keyed> = members
        .into_iter()
        .map(|(id, layer)| {
            let key = tokens(&layer)
                .into_iter()
                .enumerate()
                .map(|(depth, t)| match t {
                    Tok::Num(n) => (0, n),
                    Tok::Word(w) => {
                        let next = rank.len();
                        (1, *rank.entry((depth, w)).or_insert(next) as u64)
                    }
                })
                .collect();
            (end_of(&layer), key, id, layer)
        })
        .collect();
    let mut keyed = keyed;
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.into_iter().map(|(_, _, id, l)| (id, l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fams(names: &[&str]) -> Vec<(String, Vec<String>)> {
        detect(names.iter().enumerate().map(|(i, n)| (i, *n)))
            .into_iter()
            .map(|f| (f.name, f.layers))
            .collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layers_in_forward_order() {
        let names: Vec<String> = [12, 3, 0, 10, 9, 1, 2, 11, 4, 5, 6, 7, 8]
            .iter()
            .map(|i| format!("grad_norm/layer{i}"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let got = fams(&refs);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "grad_norm");
        let want: Vec<String> = (0..=12).map(|i| format!("layer{i}")).collect();
        assert_eq!(got[0].1, want);
    }

    #[test]
    fn module_paths_and_ends() {
        let got = fams(&[
            "weight_norm/lm_head",
            "weight_norm/blocks.10.attn",
            "weight_norm/blocks.2.mlp",
            "weight_norm/blocks.2.attn",
            "weight_norm/wte",
            "weight_norm/blocks.10.mlp",
        ]);
        assert_eq!(
            got,
            vec![(
                "weight_norm".into(),
                strs(&["wte", "blocks.2.attn", "blocks.2.mlp", "blocks.10.attn", "blocks.10.mlp", "lm_head"])
            )]
        );
    }

    #[test]
    fn layer_first_and_dotted_forms() {
        let got = fams(&["conv1/dead_frac", "conv2/dead_frac", "fc1/dead_frac", "loss"]);
        assert_eq!(got, vec![("dead_frac".into(), strs(&["conv1", "conv2", "fc1"]))]);
        let got =
            fams(&["layers.0.grad_norm", "layers.1.grad_norm", "layers.10.grad_norm", "layers.2.grad_norm"]);
        assert_eq!(got, vec![("grad_norm".into(), strs(&["layers.0", "layers.1", "layers.2", "layers.10"]))]);
        let got = fams(&["grads/h0/norm", "grads/h1/norm", "grads/h2/norm"]);
        assert_eq!(got, vec![("grads/*/norm".into(), strs(&["h0", "h1", "h2"]))]);
    }

    #[test]
    fn no_family_of_splits_devices_or_task_metrics() {
        for names in [
            &["train/loss", "val/loss", "test/loss"][..],
            &["gpu0/util", "gpu1/util", "gpu2/util"],
            &["bbox/AP", "bbox/AP50", "bbox/AP75", "bbox/APs"],
            &["acc/top1", "acc/top5"],
            &["eval/loss_ce_0", "eval/loss_ce_1", "eval/loss_ce_2"],
            &["loss_ce_0", "loss_ce_1", "loss_ce_2"],
            &["lr-pg0", "lr-pg1"],
            &["lr/group0", "lr/group1"],
            &["grad_norm/weight", "grad_norm/bias"],
            &["time/step", "time/data", "time/forward"],
            &["rollout/ep_rew_mean", "rollout/ep_len_mean", "train/entropy_loss"],
            &["charts/episodic_return", "charts/episodic_length", "losses/value_loss"],
        ] {
            assert_eq!(fams(names), vec![], "{names:?}");
        }
    }

    #[test]
    fn one_family_per_series() {
        // `a/layer0/b` could vary in either part; the larger family wins.
        let got = fams(&["grad/layer0/norm", "grad/layer1/norm", "grad/layer2/norm", "grad/layer0/max"]);
        assert_eq!(got, vec![("grad/*/norm".into(), strs(&["layer0", "layer1", "layer2"]))]);
    }
}
