//! The model's architecture: a tree of modules read from the text PyTorch's `print(model)` writes
//! into a log (`text`), or from a JSON record `{"model": {...}}` (`record`), with parameter counts
//! worked out from the printed shapes where the text allows (`params`), repeated blocks folded,
//! and each module's path matched to the run's per-layer series (`series`).
//!
//! It sits between parsing and the store: the ingest hands a model record to [`record`] and keeps
//! the tree in the store; the printed text is read from the lines the store kept as skipped
//! (a printed model is not JSON), when the run's model is asked for ([`Model::of_store`]).

pub mod aside;
pub mod beside;
pub mod params;
pub mod record;
pub mod series;
pub mod text;

pub use params::{leaf_params, shape_hint, Params};
pub use series::{layer_series, value_at, LayerIndex, LayerSeries};

/// One module of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// The attribute name in its parent (`conv1`, `0`, `h`); for a folded run of repeated blocks,
    /// the first index (`0` of `(0-11): 12 x GPT2Block`). Empty for the root.
    pub name: String,
    /// The class name (`Linear`, `GPT2Block`).
    pub kind: String,
    /// What the module printed about itself (`in_features=768, out_features=3072, bias=True`).
    pub args: String,
    /// How many identical copies this entry stands for (12 for `(0-11): 12 x GPT2Block`); 1 when
    /// the module is not folded. Folded copies are named by consecutive integers from `name`.
    pub repeat: u32,
    /// Parameters of one copy, its children included.
    pub params: Params,
    pub children: Vec<Module>,
    /// Why the text of this module could not be read whole (a print cut short, a line cut), if so.
    pub broken: Option<String>,
}

impl Module {
    pub fn new(name: &str, kind: &str, args: &str) -> Self {
        Module {
            name: name.to_string(),
            kind: kind.to_string(),
            args: args.to_string(),
            repeat: 1,
            params: Params::Unknown,
            children: Vec::new(),
            broken: None,
        }
    }

    /// Parameters of all copies this entry stands for.
    pub fn total_params(&self) -> Params {
        self.params.times(self.repeat as u64)
    }

    /// Number of modules in the tree, folded copies counted once each.
    pub fn count(&self) -> u64 {
        self.repeat as u64 * (1 + self.children.iter().map(Module::count).sum::<u64>())
    }

    /// The names of the copies this entry stands for: `name` alone, or `0`..`11` when folded.
    pub fn copy_names(&self) -> Vec<String> {
        if self.repeat <= 1 {
            return vec![self.name.clone()];
        }
        match self.name.parse::<u64>() {
            Ok(first) => (0..self.repeat as u64).map(|i| (first + i).to_string()).collect(),
            Err(_) => vec![self.name.clone()],
        }
    }

    /// Works out the parameter counts bottom up: a leaf from its printed shape (or the count the
    /// record gave), a container as the sum of its children when all are known.
    pub fn compute_params(&mut self) {
        for c in &mut self.children {
            c.compute_params();
        }
        if self.children.is_empty() {
            if self.params == Params::Unknown && self.broken.is_none() {
                self.params = leaf_params(&self.kind, &self.args);
            }
            return;
        }
        if self.params == Params::Unknown {
            let sum = self.children.iter().map(Module::total_params).fold(Params::Exact(0), Params::plus);
            // A container may hold parameters of its own that the text does not show (attention's
            // in-projection): known cases say "at least".
            self.params = if params::own_params_hidden(&self.kind) { sum.at_least() } else { sum };
            if self.broken.is_some() {
                self.params = self.params.at_least();
            }
        }
    }

    /// Folds runs of consecutive siblings named by consecutive integers with the same type and
    /// structure (`(0) BasicBlock`, `(1) BasicBlock` of a `Sequential`) into one entry with a
    /// repeat count, as torch itself does for a `ModuleList`; recursively.
    pub fn fold(&mut self) {
        for c in &mut self.children {
            c.fold();
        }
        let mut out: Vec<Module> = Vec::with_capacity(self.children.len());
        for c in std::mem::take(&mut self.children) {
            if let Some(last) = out.last_mut() {
                if can_join(last, &c) {
                    last.repeat += c.repeat;
                    continue;
                }
            }
            out.push(c);
        }
        self.children = out;
    }
}

/// Whether `next` continues the folded run `last` (consecutive integer names, same shape).
fn can_join(last: &Module, next: &Module) -> bool {
    let (Ok(a), Ok(b)) = (last.name.parse::<u64>(), next.name.parse::<u64>()) else { return false };
    a + last.repeat as u64 == b && last.broken.is_none() && next.broken.is_none() && same_shape(last, next)
}

/// Same type, same printed arguments, same params, same children (names included), recursively.
fn same_shape(a: &Module, b: &Module) -> bool {
    a.kind == b.kind
        && a.args == b.args
        && a.params == b.params
        && a.children.len() == b.children.len()
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| x.name == y.name && x.repeat == y.repeat && same_shape(x, y))
}

/// One line of the tree as drawn: a module (or a folded run of copies), where it sits, and the
/// paths that name it in the run's series.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    pub module: &'a Module,
    /// The key its open/closed state is kept under (the path; `h.0-11` for a folded run).
    pub key: String,
    /// The module paths it stands for: one, or each copy of a folded run (`h.0` .. `h.11`).
    pub paths: Vec<String>,
    pub depth: usize,
    /// It has children (or copies) to show.
    pub expandable: bool,
    pub open: bool,
    /// One copy of a folded run, shown as the run was opened (its repeat is then 1).
    pub copy: bool,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

impl Row<'_> {
    /// Parameters of what the row stands for (all copies of a folded run).
    pub fn params(&self) -> Params {
        if self.copy {
            self.module.params
        } else {
            self.module.total_params()
        }
    }
    /// How many copies the row stands for.
    pub fn repeat(&self) -> u32 {
        if self.copy {
            1
        } else {
            self.module.repeat
        }
    }
}

/// The rows of the tree in forward order: the root open unless `toggled` says otherwise, every
/// other module closed unless `toggled` holds its key.
pub fn rows<'a>(root: &'a Module, toggled: &std::collections::BTreeSet<String>) -> Vec<Row<'a>> {
    fn walk<'a>(
        m: &'a Module,
        path: String,
        depth: usize,
        copy: bool,
        toggled: &std::collections::BTreeSet<String>,
        out: &mut Vec<Row<'a>>,
    ) {
        let parent = match path.rsplit_once('.') {
            Some((p, _)) => p.to_string(),
            None => String::new(),
        };
        let folded = m.repeat > 1 && !copy;
        let (key, paths) = if folded {
            let names = m.copy_names();
            let key = join(&parent, &format!("{}-{}", names[0], names[names.len() - 1]));
            (key, names.iter().map(|n| join(&parent, n)).collect())
        } else {
            (path.clone(), vec![path.clone()])
        };
        let root = depth == 0;
        let open = root != toggled.contains(&key);
        let expandable = folded || !m.children.is_empty();
        out.push(Row { module: m, key, paths: paths.clone(), depth, expandable, open, copy });
        if !open || !expandable {
            return;
        }
        if folded {
            for p in paths {
                walk(m, p, depth + 1, true, toggled, out);
            }
        } else {
            for c in &m.children {
                walk(c, join(&path, &c.name), depth + 1, false, toggled, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, String::new(), 0, false, toggled, &mut out);
    out
}

/// Where a model came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `print(model)` text starting on this line of the log.
    Text { line: u64 },
    /// A `{"model": {...}}` record on this line.
    Record { line: u64 },
    /// `print(model)` text starting on this line of the stdout log beside the run's log
    /// ([`beside`]).
    Beside { file: String, line: u64 },
}

impl Source {
    /// The line the model starts on.
    pub fn line(&self) -> u64 {
        match *self {
            Source::Text { line } | Source::Record { line } | Source::Beside { line, .. } => line,
        }
    }
}

/// A run's model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The name the record gave, else the root's type.
    pub name: String,
    pub root: Module,
    pub source: Source,
}

impl Model {
    /// Parameters of the whole model.
    pub fn params(&self) -> Params {
        self.root.total_params()
    }

    /// Whether any part of the tree could not be read.
    pub fn broken(&self) -> bool {
        fn any(m: &Module) -> bool {
            m.broken.is_some() || m.children.iter().any(any)
        }
        any(&self.root)
    }

    /// The run's model: a model record (the last one) takes precedence over printed text; of
    /// printed models, the last whole one (else the last one cut short), from the skipped lines
    /// the store kept and the printed model's lines it caught past them ([`aside`]).
    pub fn of_store(store: &crate::store::Store) -> Option<Model> {
        if let Some(m) = &store.model {
            return Some((**m).clone());
        }
        let lines = store.skipped.kept.iter().map(|s| (s.line, s.text.as_str()));
        let kept = text::find_last(lines);
        let caught = text::find_last(store.skipped.model_lines.lines());
        match (kept, caught) {
            (Some(k), Some(c)) => {
                let rank = |m: &Model| (!m.broken(), m.source.line());
                Some(if rank(&c) >= rank(&k) { c } else { k })
            }
            (k, c) => c.or(k),
        }
    }

    /// One line for a report: `GPT2Model, 124M parameters, 162 modules (printed at line 3)`;
    /// `, cut short` when part of it could not be read.
    pub fn summary(&self) -> String {
        let name = if self.name == self.root.kind {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.root.kind)
        };
        let params = match self.params() {
            Params::Exact(n) => format!("{} parameters", crate::text::count(n)),
            p @ Params::AtLeast(_) => format!("{p} parameters (some not known)"),
            Params::Unknown => "parameters not known".to_string(),
        };
        let from = match &self.source {
            Source::Text { line } => format!("printed at line {line}"),
            Source::Record { line } => format!("model record at line {line}"),
            Source::Beside { file, line } => {
                let name = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy());
                format!("printed at line {line} of {}", name.unwrap_or_default())
            }
        };
        let broken = if self.broken() { ", cut short: parts could not be read" } else { "" };
        format!("{name}, {params}, {} modules ({from}){broken}", crate::text::count(self.root.count()))
    }

    /// The model as JSON for `tmon check --json`: `{"name","type","params","children"}` (params
    /// a number when exact, else null; `"params_at_least"` then gives the known part).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = module_json(&self.root);
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("name".into(), self.name.clone().into());
            let src = match &self.source {
                Source::Text { line } => serde_json::json!({"kind": "text", "line": line}),
                Source::Record { line } => serde_json::json!({"kind": "record", "line": line}),
                Source::Beside { file, line } => {
                    serde_json::json!({"kind": "text", "line": line, "file": file})
                }
            };
            o.insert("source".into(), src);
        }
        v
    }
}

fn module_json(m: &Module) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), m.name.clone().into());
    o.insert("type".into(), m.kind.clone().into());
    o.insert("params".into(), m.total_params().exact().map_or(serde_json::Value::Null, Into::into));
    if let Params::AtLeast(n) = m.total_params() {
        o.insert("params_at_least".into(), n.into());
    }
    if m.repeat > 1 {
        o.insert("repeat".into(), m.repeat.into());
    }
    if let Some(h) = shape_hint(&m.kind, &m.args) {
        o.insert("shape".into(), h.into());
    }
    if let Some(b) = &m.broken {
        o.insert("broken".into(), b.clone().into());
    }
    o.insert("children".into(), m.children.iter().map(module_json).collect::<Vec<_>>().into());
    serde_json::Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, kind: &str, args: &str) -> Module {
        Module::new(name, kind, args)
    }

    #[test]
    fn identical_numbered_siblings_fold_and_different_ones_do_not() {
        let block = |n: &str, down: bool| {
            let mut b = leaf(n, "BasicBlock", "");
            b.children.push(leaf("conv1", "Conv2d", "64, 64, kernel_size=(3, 3), bias=False"));
            if down {
                b.children.push(leaf("downsample", "Conv2d", "64, 128, kernel_size=(1, 1), bias=False"));
            }
            b
        };
        let mut root = leaf("", "Sequential", "");
        root.children = vec![block("0", true), block("1", false), block("2", false), block("3", false)];
        root.compute_params();
        root.fold();
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[1].repeat, 3);
        assert_eq!(root.children[1].copy_names(), ["1", "2", "3"]);
        assert_eq!(root.total_params(), Params::Exact(4 * 64 * 64 * 9 + 64 * 128));
    }

    #[test]
    fn rows_open_the_root_and_what_was_toggled_and_folded_runs_open_into_copies() {
        let mut block = leaf("0", "Block", "");
        block.children.push(leaf("fc", "Linear", "in_features=2, out_features=2, bias=True"));
        block.repeat = 3;
        let mut h = leaf("h", "ModuleList", "");
        h.children.push(block);
        let mut root = leaf("", "Net", "");
        root.children = vec![leaf("emb", "Embedding", "10, 2"), h];
        root.compute_params();
        let mut open = std::collections::BTreeSet::new();
        let keys = |open: &std::collections::BTreeSet<String>| -> Vec<String> {
            rows(&root, open).iter().map(|r| r.key.clone()).collect()
        };
        assert_eq!(keys(&open), ["", "emb", "h"]);
        open.insert("h".to_string());
        assert_eq!(keys(&open), ["", "emb", "h", "h.0-2"]);
        let r = rows(&root, &open);
        assert_eq!(r[3].paths, ["h.0", "h.1", "h.2"]);
        assert_eq!(r[3].params(), Params::Exact(18));
        open.insert("h.0-2".to_string());
        open.insert("h.1".to_string());
        assert_eq!(keys(&open), ["", "emb", "h", "h.0-2", "h.0", "h.1", "h.1.fc", "h.2"]);
        assert_eq!(rows(&root, &open)[5].params(), Params::Exact(6));
    }

    #[test]
    fn an_unknown_leaf_makes_its_parents_at_least() {
        let mut root = leaf("", "Net", "");
        root.children =
            vec![leaf("a", "Linear", "in_features=2, out_features=3, bias=True"), leaf("b", "Mystery", "")];
        root.compute_params();
        assert_eq!(root.params, Params::AtLeast(9));
        assert_eq!(root.children[1].params, Params::Unknown);
    }
}
