//! Sweeps made by the harness: several runs of one setup that differ in a knob (the learning
//! rate, the seed), each trained for real and written as users' sweeps are laid out, one folder
//! per run with its log and its config (`<dir>/<name>/logs.jsonl` and `params.json`). For the
//! cross-run flags (`crate::analysis::sweep`) and `tmon check` on many runs.

use super::{Setup, Trainer};
use crate::harness::mlp::OptKind;
use std::path::{Path, PathBuf};

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// The run's folder name (`lr_0.01`, `seed_3`).
    pub name: String,
    pub setup: Setup,
    pub seed: u64,
    /// The run stops after this step, as a crashed process would (its siblings go on).
    pub stop_after: Option<u64>,
}

impl SweepRun {
    /// The run's log, one JSON line per element.
    pub fn lines(&self) -> Vec<String> {
        let mut t = Trainer::from_setup(self.setup.clone(), self.seed);
        let stop = self.stop_after.unwrap_or(u64::MAX);
        std::iter::from_fn(|| t.next_record()).take_while(|r| r.step <= stop as f64).map(|r| r.line).collect()
    }

    /// The run's config as Ray Tune writes `params.json`.
    pub fn params_json(&self) -> String {
        let opt = match self.setup.opt {
            OptKind::Adam => "adam".to_owned(),
            OptKind::Sgd { momentum } => format!("sgd (momentum {momentum})"),
        };
        serde_json::json!({
            "lr": self.setup.lr,
            "seed": self.seed,
            "batch_size": self.setup.batch,
            "optimizer": opt,
            "warmup": self.setup.warmup,
            "steps": self.setup.steps,
            "hidden": &self.setup.dims[1..self.setup.dims.len() - 1],
        })
        .to_string()
    }
}

/// The sweep's base setup: SGD with momentum on a small MLP, a constant learning rate after a
/// short warmup. Stable up to a learning rate of about 0.1; far above it the loss blows up.
pub fn base_setup(steps: u64) -> Setup {
    let mut s = Setup::for_scenario(super::Scenario::Healthy);
    s.opt = OptKind::Sgd { momentum: 0.9 };
    s.head = crate::harness::mlp::Head::Mse;
    s.batch = 64;
    s.cosine = false;
    s.warmup = 20;
    s.steps = steps;
    s
}

/// A learning-rate sweep: one run per rate, all with `seed`.
pub fn lr_sweep(lrs: &[f64], seed: u64, steps: u64) -> Vec<SweepRun> {
    lrs.iter()
        .map(|&lr| SweepRun {
            name: format!("lr_{lr}"),
            setup: Setup { lr, ..base_setup(steps) },
            seed,
            stop_after: None,
        })
        .collect()
}

/// `n` seeds of one healthy setup (learning rate 0.02).
pub fn seed_sweep(n: u64, first_seed: u64, steps: u64) -> Vec<SweepRun> {
    (0..n)
        .map(|i| SweepRun {
            name: format!("seed_{}", first_seed + i),
            setup: Setup { lr: 0.02, ..base_setup(steps) },
            seed: first_seed + i,
            stop_after: None,
        })
        .collect()
}

/// Writes each run as `<dir>/<name>/logs.jsonl` with `params.json` beside it; returns the logs.
pub fn write(dir: &Path, runs: &[SweepRun]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        let folder = dir.join(&r.name);
        std::fs::create_dir_all(&folder)?;
        let mut text = r.lines().join("\n");
        text.push('\n');
        let log = folder.join("logs.jsonl");
        std::fs::write(&log, text)?;
        std::fs::write(folder.join("params.json"), r.params_json() + "\n")?;
        out.push(log);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn losses(r: &SweepRun) -> Vec<(f64, f64)> {
        let mut t = Trainer::from_setup(r.setup.clone(), r.seed);
        std::iter::from_fn(|| t.next_record())
            .filter_map(|rec| rec.fields.iter().find(|(k, _)| k == "loss").map(|(_, v)| (rec.step, *v)))
            .collect()
    }

    #[test]
    #[ignore = "prints loss trajectories for tuning"]
    fn print_trajectories() {
        for r in lr_sweep(&[1.5, 2.0, 2.5], 1, 600) {
            let l = losses(&r);
            let at: Vec<String> = l.iter().step_by(10).map(|(s, v)| format!("{s}:{v:.3}")).collect();
            println!("{}: {}", r.name, at.join(" "));
        }
    }

    #[test]
    fn a_stopped_run_ends_at_its_step() {
        let mut r = lr_sweep(&[0.01], 1, 100).remove(0);
        r.stop_after = Some(40);
        let lines = r.lines();
        assert!(lines.last().unwrap().starts_with("{\"step\": 40,"), "{}", lines.last().unwrap());
        assert!(r.params_json().contains("\"lr\":0.01"));
    }
}
