//! Flags across runs on sweeps made by real training (`tmon::harness::sweep`), written to disk
//! one folder per run and read back through the real loader: `run_outlier` fires on the diverging
//! run and nowhere else, `run_stopped` on the run that stopped early, and healthy sweeps of many
//! seeds raise nothing.

use tmon::analysis::sweep::{compare, CrossFlag};
use tmon::analysis::{FlagConfig, FlagKind, Severity};
use tmon::harness::sweep::{lr_sweep, seed_sweep, write, SweepRun};
use tmon::run::Run;

const STEPS: u64 = 600;

/// The cross-run flags of `runs`, written to a temporary folder and read back as `tmon check`
/// reads them.
fn flags_of(runs: &[SweepRun]) -> (Vec<String>, Vec<CrossFlag>) {
    let dir = tempfile::tempdir().unwrap();
    let logs = write(dir.path(), runs).unwrap();
    let loaded: Vec<Run> = logs
        .iter()
        .map(|p| {
            let mut r = Run::load_file(p, Default::default(), FlagConfig::default()).unwrap();
            assert!(r.read_config().is_empty());
            r
        })
        .collect();
    let refs: Vec<&Run> = loaded.iter().collect();
    assert!(refs.iter().all(|r| r.info.config.contains_key("lr")), "params.json is read");
    let names = tmon::run::naming::run_names(&refs);
    (names, compare(&refs, &FlagConfig::default(), None))
}

#[test]
fn the_diverging_run_of_a_learning_rate_sweep_and_no_other() {
    for seed in 1..=4 {
        let runs = lr_sweep(&[0.01, 0.03, 0.1, 0.3, 2.0], seed, STEPS);
        let (names, flags) = flags_of(&runs);
        assert_eq!(names, ["lr_0.01", "lr_0.03", "lr_0.1", "lr_0.3", "lr_2"]);
        assert_eq!(flags.len(), 1, "seed {seed}: {flags:#?}");
        let f = &flags[0];
        assert_eq!((f.run, f.name.as_str(), f.flag.kind), (4, "lr_2", FlagKind::RunOutlier), "seed {seed}");
        assert_eq!(f.flag.severity, Severity::Critical, "it goes to NaN: {f:?}");
        assert_eq!(f.flag.metric, "loss");
        // Dated where it rose: within the warmup, before the loss turned NaN.
        assert!(f.flag.step <= 40.0, "seed {seed}: {f:?}");
    }
}

#[test]
fn a_run_that_stopped_while_its_siblings_went_on() {
    let mut runs = lr_sweep(&[0.01, 0.02, 0.03, 0.05], 3, STEPS);
    runs[1].stop_after = Some(200);
    let (_, flags) = flags_of(&runs);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!((f.run, f.flag.kind, f.flag.step), (1, FlagKind::RunStopped, 200.0));
    assert!(
        f.flag.message.contains("while 3 of its 3 sibling runs went on (to step 600, median)"),
        "{}",
        f.flag.message
    );
}

#[test]
fn healthy_sweeps_raise_nothing() {
    // 20 seeds of one setup.
    let (_, flags) = flags_of(&seed_sweep(20, 1, STEPS));
    assert!(flags.is_empty(), "{flags:#?}");
    // Learning rates that all train, some slower than others, for several seeds.
    for seed in 1..=4 {
        let (_, flags) = flags_of(&lr_sweep(&[0.003, 0.01, 0.03, 0.1, 0.3], seed, STEPS));
        assert!(flags.is_empty(), "seed {seed}: {flags:#?}");
    }
}
