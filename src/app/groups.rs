//! The charts of a run: its series in creation order, each eval series drawn with its train
//! partner. The end-of-training summary (`crate::analysis::summary`) is no chart: the metric list
//! shows it apart.

use super::Group;
use crate::analysis::names::pair_of;
use crate::store::Store;

/// Series in creation order, each eval series placed with its train partner (by
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
    store
        .ids()
        .filter(|&id| !is_partner[id] && !summary[id])
        .map(|id| Group { members: std::iter::once(id).chain(partner_of[id]).collect() })
        .collect()
}
