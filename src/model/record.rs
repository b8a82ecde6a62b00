//! The JSON form of a model, one record of the log:
//!
//! ```json
//! {"model": {"name": "gpt2", "type": "GPT2Model", "params": 124439808, "repr": "",
//!            "children": [{"name": "wte", "type": "Embedding", "params": 38597376,
//!                          "repr": "50257, 768", "children": []}, ...]}}
//! ```
//!
//! `name`, `type` and `children` make a module; `params` (the module's parameters, children
//! included) and `repr` (what it prints about itself, `extra_repr()`) are optional: without
//! `params` the count is worked out from `repr` as for printed text. Consecutive identical
//! numbered children are folded (`12 × GPT2Block`).

use super::{Model, Module, Params, Source};
use serde_json::Value;

/// Whether parsed fields look like a model record: a `model/children` list was flattened.
pub fn is_model_key(key: &str) -> bool {
    key == "model/children"
}

/// Reads the model out of a record line; `None` when the line holds no `model` object. A module
/// without a name or type is kept with `?` and marked broken.
pub fn parse_record(bytes: &[u8], line: u64) -> Option<Model> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let m = v.get("model")?;
    if !m.is_object() {
        return None;
    }
    let mut root = module(m, 0);
    root.compute_params();
    root.fold();
    let name =
        m.get("name").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(&root.kind).to_string();
    root.name = String::new();
    Some(Model { name, root, source: Source::Record { line } })
}

fn module(v: &Value, depth: usize) -> Module {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let mut m = Module::new(s("name").unwrap_or(""), s("type").unwrap_or("?"), s("repr").unwrap_or(""));
    if s("type").is_none() {
        m.broken = Some("the record gives no type".into());
    }
    m.params = match v.get("params").and_then(Value::as_u64) {
        Some(n) => Params::Exact(n),
        None => Params::Unknown,
    };
    if let Some(kids) = v.get("children").and_then(Value::as_array) {
        // serde_json stops at 128 levels; a tree that deep is cut there.
        if depth < super::text::MAX_DEPTH {
            m.children = kids.iter().map(|c| module(c, depth + 1)).collect();
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_as_a_tree_with_its_counts() {
        let line = br#"{"model": {"name": "mlp", "type": "MLP", "params": 50, "children": [
            {"name": "0", "type": "Linear", "params": 20, "repr": "in_features=4, out_features=4, bias=True", "children": []},
            {"name": "1", "type": "Linear", "params": 20, "repr": "in_features=4, out_features=4, bias=True", "children": []},
            {"name": "head", "type": "Linear", "repr": "in_features=4, out_features=2, bias=True"}]}}"#;
        let m = parse_record(line, 3).unwrap();
        assert_eq!(m.name, "mlp");
        assert_eq!(m.params(), Params::Exact(50));
        assert_eq!(m.root.children.len(), 2);
        assert_eq!(m.root.children[0].repeat, 2);
        assert_eq!(m.root.children[1].params, Params::Exact(10));
        assert_eq!(m.source, Source::Record { line: 3 });
    }

    #[test]
    fn not_a_model_record() {
        assert!(parse_record(br#"{"model": "resnet"}"#, 1).is_none());
        assert!(parse_record(b"{\"model\": {", 1).is_none());
        let m = parse_record(br#"{"model": {"children": [1, "x"]}}"#, 1).unwrap();
        assert!(m.broken());
    }
}
