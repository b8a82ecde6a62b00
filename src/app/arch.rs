//! The architecture pane's side of the state: the run's model (read again only when the lines it
//! comes from change), the series that name its layers, the step the blocks are coloured at, and
//! the keys on the pane (↑/↓ a block, Enter opens or closes it, `[`/`]` the step, `c` the metric).

use super::{Action, App, Focus, Pane};
use crate::model::{LayerIndex, Model};
use std::rc::Rc;

/// What the model and the layer index were computed from.
#[derive(Debug, Default)]
pub struct ModelCache {
    /// (slot, run epoch, skipped lines and caught model lines, model records) for the model.
    model_key: Option<(usize, u64, u64, usize)>,
    model: Option<Rc<Model>>,
    /// (slot, run epoch, series) for the index.
    index_key: Option<(usize, u64, usize)>,
    index: Rc<LayerIndex>,
}

impl App {
    /// The run on screen's model (a model record, else a printed model), if it has one.
    pub fn model(&self) -> Option<Rc<Model>> {
        let slot = self.slot()?;
        let store = &slot.run().store;
        let key = (
            self.current,
            self.run_epoch(),
            // Only the kept skipped lines and the printed model's lines caught past them can
            // hold a printed model: more skipped lines (a progress bar's) change neither, and the
            // model is not read again.
            store.skipped.kept.len() as u64 + (store.skipped.model_lines.changes() << 20),
            store.model.as_deref().map_or(0, |m| m as *const Model as usize),
        );
        let mut c = self.model_cache.borrow_mut();
        if c.model_key != Some(key) {
            c.model = Model::of_store(store).map(Rc::new);
            c.model_key = Some(key);
        }
        // A model in the run's own log, else the one printed in the stdout log beside it.
        c.model.clone().or_else(|| slot.model_beside.clone())
    }

    /// The run on screen's series indexed by the layer they name.
    pub fn layer_index(&self) -> Rc<LayerIndex> {
        let Some(slot) = self.slot() else { return Rc::default() };
        let store = &slot.run().store;
        let key = (self.current, self.run_epoch(), store.series_count());
        let mut c = self.model_cache.borrow_mut();
        if c.index_key != Some(key) {
            c.index = Rc::new(LayerIndex::of_store(store));
            c.index_key = Some(key);
        }
        c.index.clone()
    }

    /// The per-layer metrics that name a block of the model, most useful first.
    pub fn arch_metrics(&self) -> Vec<String> {
        let Some(model) = self.model() else { return Vec::new() };
        let index = self.layer_index();
        let mut paths = Vec::new();
        collect_paths(&model.root, "", &mut paths);
        index.metrics_of(paths.iter().map(String::as_str))
    }

    /// The step the blocks are coloured at: the one chosen with `[`/`]`, else the newest record's.
    pub fn arch_step(&self) -> Option<f64> {
        let store = &self.slot()?.run().store;
        let last = store.last_record()?.step;
        Some(self.view.arch.step.unwrap_or(last))
    }

    /// An action on the architecture pane: `Some(changed)` when the pane took it.
    pub(super) fn arch_action(&mut self, action: Action) -> Option<bool> {
        if action == Action::ArchMetric {
            if self.view.pane != Pane::Architecture {
                return Some(false);
            }
            let n = self.arch_metrics().len();
            self.view.arch.metric = if n == 0 { 0 } else { (self.view.arch.metric + 1) % n };
            return Some(n > 1);
        }
        if self.view.pane != Pane::Architecture || self.view.focus != Focus::Metrics {
            return None;
        }
        let model = self.model()?;
        let rows = crate::model::rows(&model.root, &self.view.arch.toggled);
        let a = &mut self.view.arch;
        a.cursor = a.cursor.min(rows.len().saturating_sub(1));
        match action {
            Action::Up => a.cursor = a.cursor.saturating_sub(1),
            Action::Down => a.cursor = (a.cursor + 1).min(rows.len().saturating_sub(1)),
            Action::Enter => {
                let row = rows.get(a.cursor)?;
                if !row.expandable {
                    return Some(false);
                }
                if !a.toggled.remove(&row.key) {
                    a.toggled.insert(row.key.clone());
                }
            }
            Action::CursorLeft | Action::CursorRight | Action::CursorLeftFar | Action::CursorRightFar => {
                return Some(self.move_arch_step(action));
            }
            Action::Follow => a.step = None,
            _ => return None,
        }
        Some(true)
    }

    /// Moves the colouring step through the run's records, by a hundredth or a tenth of them.
    fn move_arch_step(&mut self, action: Action) -> bool {
        let Some(slot) = self.slots.get(self.current) else { return false };
        let steps = slot.run().store.steps();
        if steps.is_empty() {
            return false;
        }
        let at = match self.view.arch.step {
            Some(s) => steps.partition_point(|x| x < s).min(steps.len() - 1),
            None => steps.len() - 1,
        };
        let far = matches!(action, Action::CursorLeftFar | Action::CursorRightFar);
        let by = (steps.len() / if far { 10 } else { 100 }).max(1);
        let right = matches!(action, Action::CursorRight | Action::CursorRightFar);
        let to = if right { (at + by).min(steps.len() - 1) } else { at.saturating_sub(by) };
        self.view.arch.step = Some(steps.get(to));
        true
    }
}

/// Every module path of the tree, each copy of a folded run by its own name.
pub fn collect_paths(m: &crate::model::Module, path: &str, out: &mut Vec<String>) {
    for c in &m.children {
        for name in c.copy_names() {
            let p = if path.is_empty() { name } else { format!("{path}.{name}") };
            collect_paths(c, &p, out);
            out.push(p);
        }
    }
}
