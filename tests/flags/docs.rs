//! `docs/flags.md` holds the one table of every threshold, generated from
//! `FlagConfig::describe()`; this test fails when the two drift. To regenerate the table:
//! `TMON_UPDATE_DOCS=1 cargo test --release --test flags docs::`.

use tmon::analysis::{FlagConfig, FlagKind};

const BEGIN: &str = "<!-- thresholds:begin (generated from FlagConfig::describe) -->\n";
const END: &str = "<!-- thresholds:end -->";

#[test]
fn the_threshold_table_in_docs_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/flags.md");
    let doc = std::fs::read_to_string(path).expect("docs/flags.md exists");
    let start = doc.find(BEGIN).expect("docs/flags.md has the thresholds:begin marker") + BEGIN.len();
    let end = doc[start..].find(END).expect("docs/flags.md has the thresholds:end marker") + start;
    let table = FlagConfig::markdown_table();
    if doc[start..end] != table {
        if std::env::var_os("TMON_UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{}{}{}", &doc[..start], table, &doc[end..])).expect("write docs");
            return;
        }
        panic!("docs/flags.md's threshold table is stale; run TMON_UPDATE_DOCS=1 cargo test --release --test flags docs::\n{table}");
    }
    // Every key can be set to its own default.
    let mut cfg = FlagConfig::default();
    for t in FlagConfig::describe() {
        cfg.set(t.key, &t.default).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(cfg, FlagConfig::default());
}

#[test]
fn every_flag_kind_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/flags.md")).unwrap();
    for &k in FlagKind::ALL {
        assert!(doc.contains(&format!("### `{}`", k.as_str())), "docs/flags.md has no section for {k}");
    }
}
