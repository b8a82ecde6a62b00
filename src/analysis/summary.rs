//! The end-of-training summary: scalars a trainer writes once, when training ends (Hugging Face's
//! `train_runtime`, `train_samples_per_second`, `train_steps_per_second`, `total_flos`,
//! `train_loss`, the mean training loss over the whole run). One point each: they are read as a
//! summary (the monitor's metric list, `tmon check`'s report), not drawn as single-point charts,
//! and `train_loss` must not be taken for the training-loss curve that `eval_loss` pairs with.

use crate::store::{SeriesId, Store};

/// The key whose single point marks the end-of-training record.
const END_MARK: &str = "train_runtime";

/// The series of `store` that make its end-of-training summary, in creation order: when
/// `train_runtime` has exactly one point, every series with exactly one point at that step whose
/// name is `total_flos` or starts with `train_` (an eval at the last step keeps its chart).
pub fn summary_ids(store: &Store) -> Vec<SeriesId> {
    let Some(mark) = store.find(END_MARK) else { return Vec::new() };
    let m = store.series(mark);
    if m.len() != 1 {
        return Vec::new();
    }
    let at = m.step(0);
    store
        .ids()
        .filter(|&id| {
            let name = store.name(id);
            let s = store.series(id);
            (name.starts_with("train_") || name == "total_flos") && s.len() == 1 && s.step(0) == at
        })
        .collect()
}
