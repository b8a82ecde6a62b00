//! The monitor's export: a chart's [`Figure`], drawn to an SVG and a PNG and written to a
//! directory on a thread of its own (drawing and writing files must not hold up the loop that
//! answers keys), under names that never replace a file: `tmon-<metric>-<step>.svg` and `.png`,
//! then `tmon-<metric>-<step>-2.svg` and so on.

use super::figure::Figure;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A chart to write, and the name its files start from.
#[derive(Clone, Debug)]
pub struct Job {
    pub figure: Figure,
    /// `tmon-<metric>-<step>`, safe as a file name.
    pub stem: String,
}

/// What the files of a run's `metric`, shown up to `step`, are called: `tmon-<metric>-<step>`,
/// with everything but ASCII letters, digits, `.`, `-` and `_` replaced by `_` (a metric such as
/// `train/loss` becomes `train_loss`) and a long name cut.
pub fn file_stem(metric: &str, step: Option<f64>) -> String {
    let mut name = String::new();
    for c in metric.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    let name: String = name.trim_matches(|c| c == '_' || c == '.' || c == '-').chars().take(60).collect();
    let name = if name.is_empty() { "chart".to_owned() } else { name };
    match step.filter(|s| s.is_finite()) {
        Some(s) => format!("tmon-{name}-{}", crate::text::step(s).replace('-', "m")),
        None => format!("tmon-{name}"),
    }
}

/// Draws `job` and writes `STEM.svg` and `STEM.png` in `dir` under the first stem that names no
/// existing file; returns the two paths. Nothing is written when drawing fails.
pub fn write(job: &Job, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let svg = super::svg(&job.figure)?;
    let png = super::png(&job.figure)?;
    for n in 1..10_000 {
        let stem = if n == 1 { job.stem.clone() } else { format!("{}-{n}", job.stem) };
        let (a, b) = (dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.png")));
        if a.exists() || b.exists() {
            continue;
        }
        // `create_new`: a file that appeared since the look above is never replaced.
        match create(&a, svg.as_bytes()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {}", name(&a), reason(&e))),
        }
        match create(&b, &png) {
            Ok(()) => return Ok(vec![a, b]),
            Err(e) => {
                let _ = std::fs::remove_file(&a);
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    continue;
                }
                return Err(format!("cannot write {}: {}", name(&b), reason(&e)));
            }
        }
    }
    Err(format!("cannot find a free name for {} in {}", job.stem, dir.display()))
}

/// Writes `job` (as [`write`]) on a new thread and hands the outcome to `done` there; an error if
/// the thread cannot be started.
pub fn spawn(
    job: Job,
    dir: PathBuf,
    done: impl FnOnce(Result<Vec<PathBuf>, String>) + Send + 'static,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name("tmon-export".into())
        .spawn(move || done(write(&job, &dir)))
        .map(|_| ())
        .map_err(|e| format!("cannot start a thread to write the chart: {e}"))
}

fn create(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// An I/O error as a person reads it, without the OS error number.
fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "the directory does not exist".into(),
        std::io::ErrorKind::ReadOnlyFilesystem => "read-only file system".into(),
        std::io::ErrorKind::StorageFull => "no space left on the device".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_file_names() {
        assert_eq!(file_stem("loss", Some(500.0)), "tmon-loss-500");
        assert_eq!(file_stem("train/loss", Some(1.5)), "tmon-train_loss-1.5");
        assert_eq!(file_stem("../../etc/passwd", Some(3.0)), "tmon-etc_passwd-3");
        assert_eq!(file_stem("損失 (val)", None), "tmon-val");
        assert_eq!(file_stem("///", Some(f64::NAN)), "tmon-chart");
        assert_eq!(file_stem("x", Some(-4.0)), "tmon-x-m4");
        assert!(file_stem(&"a".repeat(500), Some(1.0)).len() < 80);
    }
}
