//! Per-layer families (`tmon::analysis::families`) found in real logs read by the real ingest:
//! none in the real corpus (no log there writes per-layer metrics, and its many `a/b` names must
//! not be mistaken for layers), and exactly the fixture's own in tests/fixtures/heatmap.

use tmon::analysis::families::of_store;
use tmon::ingest::IngestOptions;
use tmon::run::Run;

#[test]
fn no_family_in_the_real_corpus() {
    let Some(logs) = crate::support::corpus::logs() else { return };
    let mut found = Vec::new();
    let mut names = 0;
    for path in &logs {
        let Ok(run) = Run::load_file(path, IngestOptions::default(), Default::default()) else { continue };
        names += run.store.series_count();
        for f in of_store(&run.store) {
            found.push(format!("{}: {} {:?}", crate::support::corpus::name(path), f.name, f.layers));
        }
    }
    assert!(names > 100, "the corpus's logs read into only {names} series");
    assert!(found.is_empty(), "families found in the real corpus: {found:#?}");
}

#[test]
fn the_fixture_families_in_forward_order() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/heatmap/layers.jsonl");
    let run = Run::load_file(path.as_ref(), IngestOptions::default(), Default::default()).unwrap();
    let fams: Vec<(String, Vec<String>)> =
        of_store(&run.store).into_iter().map(|f| (f.name, f.layers)).collect();
    let grad: Vec<String> = (0..12).map(|i| format!("layer{i}")).collect();
    let weight: Vec<String> = std::iter::once("wte".to_owned())
        .chain((0..6).map(|b| format!("blocks.{b}.attn")))
        .chain(std::iter::once("lm_head".to_owned()))
        .collect();
    assert_eq!(
        fams,
        vec![
            ("grad_norm".to_owned(), grad),
            ("dead_frac".to_owned(), (0..4).map(|i| format!("fc{i}")).collect()),
            ("weight_norm".to_owned(), weight),
        ]
    );
}
