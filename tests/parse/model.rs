//! `print(model)` text of real architectures (tests/fixtures/model, printed by torch,
//! torchvision and transformers with make.py there): the tree, the folding of repeated blocks and
//! the parameter totals against the real models' `sum(p.numel())`.

use std::path::PathBuf;
use tmon::model::text::parse_text;
use tmon::model::{Model, Module, Params};

fn fixture(name: &str) -> (String, serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model");
    let text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
    let meta = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    (text, serde_json::from_str(&meta).unwrap())
}

fn parsed(name: &str) -> (Model, serde_json::Value) {
    let (text, meta) = fixture(name);
    let m = parse_text(&text).unwrap_or_else(|| panic!("{name}: no model read"));
    assert!(!m.broken(), "{name}: marked broken");
    (m, meta)
}

fn child<'a>(m: &'a Module, name: &str) -> &'a Module {
    m.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no child {name} in {}", m.kind))
}

#[test]
fn every_fixture_totals_the_real_parameter_and_module_counts() {
    for name in ["resnet18", "gpt2", "small_cnn"] {
        let (m, meta) = parsed(name);
        assert_eq!(m.root.kind, meta["type"].as_str().unwrap(), "{name}");
        assert_eq!(m.params(), Params::Exact(meta["params"].as_u64().unwrap()), "{name}");
        assert_eq!(m.root.count(), meta["modules"].as_u64().unwrap(), "{name}: modules");
    }
}

#[test]
fn gpt2_keeps_torch_folding_of_its_twelve_blocks() {
    let (m, _) = parsed("gpt2");
    let names: Vec<&str> = m.root.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["wte", "wpe", "drop", "h", "ln_f"]);
    let h = child(&m.root, "h");
    assert_eq!(h.children.len(), 1);
    let block = &h.children[0];
    assert_eq!((block.kind.as_str(), block.repeat, block.name.as_str()), ("GPT2Block", 12, "0"));
    assert_eq!(block.copy_names().last().unwrap(), "11");
    // One block: 2 LayerNorms, attention (c_attn, c_proj) and the MLP (c_fc, c_proj).
    let one = 2 * 1536 + (768 * 2304 + 2304) + (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768);
    assert_eq!(block.params, Params::Exact(one));
    assert_eq!(h.total_params(), Params::Exact(12 * one));
    let attn = child(block, "attn");
    assert_eq!(
        tmon::model::shape_hint(&child(attn, "c_attn").kind, &child(attn, "c_attn").args).unwrap(),
        "Conv1D(768→2304)"
    );
}

#[test]
fn resnet18_folds_identical_basic_blocks_and_not_the_downsampling_ones() {
    let (m, _) = parsed("resnet18");
    let names: Vec<&str> = m.root.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    );
    let layer1 = child(&m.root, "layer1");
    assert_eq!(layer1.children.len(), 1);
    assert_eq!(layer1.children[0].repeat, 2);
    for l in ["layer2", "layer3", "layer4"] {
        let layer = child(&m.root, l);
        assert_eq!(layer.children.len(), 2, "{l}");
        assert!(layer.children[0].children.iter().any(|c| c.name == "downsample"), "{l}");
        assert_eq!(layer.children[1].repeat, 1, "{l}");
    }
    let conv1 = child(&m.root, "conv1");
    assert_eq!(conv1.params, Params::Exact(3 * 64 * 7 * 7));
    assert_eq!(tmon::model::shape_hint(&conv1.kind, &conv1.args).unwrap(), "Conv2d(3→64, 7×7, /2)");
    let fc = child(&m.root, "fc");
    assert_eq!(tmon::model::shape_hint(&fc.kind, &fc.args).unwrap(), "Linear(512→1000)");
}

#[test]
fn small_cnn_reads_in_forward_order() {
    let (m, _) = parsed("small_cnn");
    let features = child(&m.root, "features");
    let kinds: Vec<&str> = features.children.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "Conv2d",
            "BatchNorm2d",
            "ReLU",
            "MaxPool2d",
            "Conv2d",
            "BatchNorm2d",
            "ReLU",
            "MaxPool2d",
            "Dropout2d"
        ]
    );
    assert_eq!(child(&m.root, "classifier").total_params(), Params::Exact(3136 * 128 + 128 + 1290));
}

/// Every cut of every fixture, and every fixture with one line cut short, reads without a panic
/// and is marked broken unless the cut left it whole.
#[test]
fn truncated_prints_are_marked_never_a_panic_or_a_hang() {
    for name in ["resnet18", "gpt2", "small_cnn"] {
        let (text, _) = fixture(name);
        let whole = text.trim_end().len();
        for cut in (0..text.len()).filter(|&c| text.is_char_boundary(c)) {
            let m = parse_text(&text[..cut]);
            if cut < whole {
                if let Some(m) = m {
                    assert!(m.broken(), "{name} cut at {cut} not marked");
                    assert!(
                        !matches!(m.params(), Params::Exact(_)) || m.root.children.is_empty(),
                        "{name} cut at {cut}"
                    );
                }
            }
        }
        let lines: Vec<&str> = text.lines().collect();
        for i in 1..lines.len() - 1 {
            let mut cut = lines.clone();
            let l = cut[i];
            cut[i] = &l[..l.len() / 2];
            let m = parse_text(&cut.join("\n")).unwrap();
            assert!(
                m.broken() || cut[i].trim().is_empty() || l.trim() == ")",
                "{name}: line {i} cut not marked"
            );
        }
    }
}
