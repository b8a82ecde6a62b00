//! The charts of a run: each eval series drawn with its train partner, ranked by what a user looks
//! at first ([`chart_rank`]: the main loss and the eval metrics, then the learning rate and the
//! gradient norms, then the rest, counters and timings last), in creation order within a rank.
//! The end-of-training summary (`crate::analysis::summary`) is no chart: the metric list shows it
//! apart.
//! Comparing runs: one chart per metric any run has.

use super::Group;
use crate::analysis::names::{self, pair_of, Role};
use crate::store::Store;

/// Where a series' chart goes, lowest first (README, "Order of charts"):
/// 0. the main training loss (`loss`, `train_loss`, `train/loss`, `total_loss`);
/// 1. the eval metrics: the main eval loss (`val_loss`, `eval_loss`) and held-out task metrics
///    (`val_acc`, `bbox/AP`, `eval_wer`, `test_class_error`);
/// 2. the learning rate and the gradient norms;
/// 3. the rest (loss terms, throughput, loss scale, anything unknown);
/// 4. counters and timings: `epoch`, `iter`, `eta_seconds`, `data_time`, `time`, `*_runtime`.
///
/// A chart takes the lowest rank of its series (`loss_ce` with `test_loss_ce` is a 3, `loss` with
/// `val_loss` a 0).
pub fn chart_rank(name: &str) -> u8 {
    const COUNTERS: &[&str] = &[
        "epoch",
        "iter",
        "iteration",
        "step",
        "global_step",
        "eta",
        "eta_seconds",
        "eta_s",
        "elapsed",
        "elapsed_time",
        "timestamp",
        "runtime",
        "data_time",
        "time",
        "n_parameters",
        "total_flos",
    ];
    let lower = name.to_lowercase();
    let last = lower.rsplit('/').next().unwrap_or(&lower);
    let toks = names::tokens(name);
    let core: Vec<&str> = toks
        .iter()
        .map(String::as_str)
        .filter(|t| {
            !matches!(*t, "train" | "training" | "val" | "valid" | "validation" | "eval" | "test" | "dev")
        })
        .collect();
    let main_loss = core == ["loss"] || (core.contains(&"total") && core.contains(&"loss"));
    let role = names::role(name);
    if COUNTERS.contains(&last)
        || last.ends_with("_time")
        || last.ends_with("_runtime")
        || last.starts_with("eta")
        || role == Role::StepTime
    {
        return 4;
    }
    match role {
        Role::TrainLoss if main_loss => 0,
        Role::EvalLoss if main_loss => 1,
        Role::Accuracy | Role::ErrorRate if names::is_held_out(name) => 1,
        Role::LearningRate | Role::GradNorm | Role::LayerGradNorm => 2,
        _ => 3,
    }
}

/// Charts by [`chart_rank`], then creation order, each eval series placed with its train partner (by
/// [`pair_of`]) when one exists; the end-of-training summary's series left out (and never a
/// partner: HF's `eval_loss` pairs with `loss`, not with the one-point `train_loss`).
pub(super) fn pair_series(store: &Store) -> Vec<Group> {
    let mut summary = vec![false; store.series_count()];
    for id in crate::analysis::summary::summary_ids(store) {
        summary[id] = true;
    }
    let names: Vec<&str> = store.ids().map(|id| store.name(id)).collect();
    let candidates: Vec<&str> = store.ids().filter(|&id| !summary[id]).map(|id| names[id]).collect();
    let mut partner_of: Vec<Option<usize>> = vec![None; names.len()];
    let mut is_partner = vec![false; names.len()];
    for id in store.ids() {
        if summary[id] || !crate::analysis::names::is_eval(names[id]) {
            continue;
        }
        let Some(train) = pair_of(names[id], &candidates).and_then(|n| store.find(n)) else { continue };
        if train != id && partner_of[train].is_none() && !is_partner[train] {
            partner_of[train] = Some(id);
            is_partner[id] = true;
        }
    }
    let mut groups: Vec<(u8, Group)> = store
        .ids()
        .filter(|&id| !is_partner[id] && !summary[id])
        .map(|id| {
            let members: Vec<usize> = std::iter::once(id).chain(partner_of[id]).collect();
            let rank = members.iter().map(|&m| chart_rank(names[m])).min().unwrap_or(3);
            let names = members.iter().map(|&m| store.name(m).to_owned()).collect();
            (rank, Group { members, names, family: None, layer: false })
        })
        .collect();
    // Stable: creation order within a rank.
    groups.sort_by_key(|(rank, _)| *rank);
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Comparing runs: one chart per metric of any of `stores`, in the order the first store that
/// has it created it (so a run that logs more shows its extra metrics after the shared ones); the
/// members are the metric's series in `shown`, the selected run's store (none when it lacks it).
/// Train and eval series get a chart each: the colours are the runs'.
pub(super) fn metrics_of<'a>(stores: impl Iterator<Item = &'a Store>, shown: &Store) -> Vec<Group> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for store in stores {
        for id in store.ids() {
            let name = store.name(id);
            if seen.insert(name.to_owned()) {
                let members = shown.find(name).into_iter().collect();
                out.push(Group { members, names: vec![name.to_owned()], family: None, layer: false });
            }
        }
    }
    out
}

/// The metric list with each per-layer family as one entry (where its first layer's chart was),
/// its layers listed under it when it is expanded (`expanded` names the families that are). A
/// family's entry charts its first and last layer (input and output, where vanishing gradients
/// part); its layers are the charts of its series.
pub(super) fn collapse_families(
    groups: Vec<Group>,
    families: &[crate::analysis::Family],
    expanded: &[String],
    store: &Store,
) -> Vec<Group> {
    if families.is_empty() {
        return groups;
    }
    let mut family_of = vec![None; store.series_count()];
    for (fi, f) in families.iter().enumerate() {
        for &id in &f.ids {
            family_of[id] = Some(fi);
        }
    }
    let of = |g: &Group| g.members.first().and_then(|&id| family_of.get(id).copied().flatten());
    let mut layer_groups: Vec<Vec<Group>> = vec![Vec::new(); families.len()];
    for g in &groups {
        if let Some(fi) = of(g) {
            layer_groups[fi].push(g.clone());
        }
    }
    let mut emitted = vec![false; families.len()];
    let mut out = Vec::new();
    for g in groups {
        let Some(fi) = of(&g) else {
            out.push(g);
            continue;
        };
        if std::mem::replace(&mut emitted[fi], true) {
            continue;
        }
        let f = &families[fi];
        let ends: Vec<usize> = match f.ids.as_slice() {
            [a, .., z] => vec![*a, *z],
            other => other.to_vec(),
        };
        let names = ends.iter().map(|&id| store.name(id).to_owned()).collect();
        out.push(Group { members: ends, names, family: Some(fi), layer: false });
        if expanded.contains(&f.name) {
            let mut layers = std::mem::take(&mut layer_groups[fi]);
            layers.sort_by_key(|l| l.members.first().and_then(|&id| f.row_of(id)));
            out.extend(layers.into_iter().map(|l| Group { family: Some(fi), layer: true, ..l }));
        }
    }
    out
}
