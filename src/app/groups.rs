//! The charts of a run: its series in creation order, each eval series drawn with its train
//! partner. Comparing runs: one chart per metric any run has.

use super::Group;
use crate::analysis::names::pair_of;
use crate::store::Store;

/// Series in creation order, each eval series placed with its train partner (by
/// [`pair_of`]) when one exists.
pub(super) fn pair_series(store: &Store) -> Vec<Group> {
    let names: Vec<&str> = store.ids().map(|id| store.name(id)).collect();
    let mut partner_of: Vec<Option<usize>> = vec![None; names.len()];
    let mut is_partner = vec![false; names.len()];
    for id in store.ids() {
        if !crate::analysis::names::is_eval(names[id]) {
            continue;
        }
        let Some(train) = pair_of(names[id], &names).and_then(|n| store.find(n)) else { continue };
        if train != id && partner_of[train].is_none() && !is_partner[train] {
            partner_of[train] = Some(id);
            is_partner[id] = true;
        }
    }
    store
        .ids()
        .filter(|&id| !is_partner[id])
        .map(|id| {
            let members: Vec<_> = std::iter::once(id).chain(partner_of[id]).collect();
            let names = members.iter().map(|&m| store.name(m).to_owned()).collect();
            Group { members, names }
        })
        .collect()
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
                out.push(Group { members, names: vec![name.to_owned()] });
            }
        }
    }
    out
}
