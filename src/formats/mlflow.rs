//! MLflow's local tracking stores, one tmon run per MLflow run, named by its `run_name`.
//!
//! - **SQLite** (`mlflow.db`, MLflow 3's default): the `runs`, `metrics`, `params`, `tags` and
//!   `experiments` tables, read with the database opened read-only. Metrics are read in insertion
//!   order in chunks of [`CHUNK_ROWS`] rows, one short statement each, so a reader never holds
//!   the database's shared lock for long and the training process writing it is never locked out
//!   (in WAL mode readers do not block writers at all). Deleted runs are left out.
//! - **The file store** (`mlruns/<experiment>/<run>/`): `meta.yaml` (name, status), `params/`
//!   (the config; a name with `/` is a nested folder), `metrics/<name>` (lines of
//!   `timestamp value step`; nested folders again). The lines of all metrics are put in time order
//!   (then step, then file order), the one order the store has across files.
//!
//! Consecutive values at one step become one record ([`Gather`]); the step is MLflow's `step`,
//! the clock its millisecond `timestamp`. MLflow's SQL store writes NaN as 0 with `is_nan` set
//! and ±Infinity as ±`f64::MAX`: both are read back as what was logged.

use super::Gather;
use crate::error::Error;
use crate::ingest::{ClockKind, Format};
use crate::run::Run;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The first bytes of every SQLite database.
pub const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Metric rows read per statement.
pub const CHUNK_ROWS: i64 = 50_000;

/// Whether `dir` is a file-store run folder: a `meta.yaml` and a `metrics/` folder.
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("meta.yaml").is_file() && dir.join("metrics").is_dir()
}

fn declare(run: &mut Run) {
    run.ingest.declare(Format::Mlflow, "step", Some(("timestamp", ClockKind::Unix)));
}

/// A value as logged: MLflow's SQL store keeps NaN as `is_nan` and ±Infinity as ±`f64::MAX`.
fn logged_value(value: f64, is_nan: bool) -> f64 {
    if is_nan {
        f64::NAN
    } else if value == f64::MAX {
        f64::INFINITY
    } else if value == f64::MIN {
        f64::NEG_INFINITY
    } else {
        value
    }
}

/// MLflow's run status numbers (`RunStatus` in the file store's `meta.yaml`).
fn status_name(n: i64) -> String {
    match n {
        1 => "RUNNING".to_owned(),
        2 => "SCHEDULED".to_owned(),
        3 => "FINISHED".to_owned(),
        4 => "FAILED".to_owned(),
        5 => "KILLED".to_owned(),
        n => format!("status {n}"),
    }
}

fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Read { path: path.to_owned(), reason: format!("not an MLflow database: {e}") }
}

/// Reads every run (not deleted) of an MLflow SQLite store; `new_run` makes an empty run.
pub fn load_db(path: &Path, new_run: &dyn Fn(&Path) -> Run) -> Result<Vec<Run>, Error> {
    use rusqlite::{Connection, OpenFlags};
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let con = Connection::open_with_flags(path, flags).map_err(|e| db_error(path, e))?;
    // A writer holding its lock for a moment is waited for, not reported as an error.
    con.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| db_error(path, e))?;

    let mut runs: Vec<Run> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    {
        let mut q = con
            .prepare(
                "SELECT run_uuid, name, status FROM runs \
                 WHERE lifecycle_stage IS NULL OR lifecycle_stage != 'deleted' ORDER BY start_time, run_uuid",
            )
            .map_err(|e| db_error(path, e))?;
        let rows = q
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
            })
            .map_err(|e| db_error(path, e))?;
        for row in rows {
            let (id, name, status) = row.map_err(|e| db_error(path, e))?;
            let mut run = new_run(path);
            declare(&mut run);
            run.info.name = Some(name.filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone()));
            run.info.status = status;
            index.insert(id, runs.len());
            runs.push(run);
        }
    }
    {
        let mut q = con.prepare("SELECT run_uuid, key, value FROM params").map_err(|e| db_error(path, e))?;
        let mut rows = q.query([]).map_err(|e| db_error(path, e))?;
        while let Some(r) = rows.next().map_err(|e| db_error(path, e))? {
            let (id, key, value): (String, String, Option<String>) = (
                r.get(0).map_err(|e| db_error(path, e))?,
                r.get(1).map_err(|e| db_error(path, e))?,
                r.get(2).ok(),
            );
            if let Some(&i) = index.get(&id) {
                runs[i].info.config.insert(key, value.unwrap_or_default());
            }
        }
    }
    let mut gathers: Vec<Gather> = (0..runs.len()).map(|_| Gather::default()).collect();
    let mut rows_read: Vec<u64> = vec![0; runs.len()];
    let mut after = i64::MIN;
    let mut q = con
        .prepare(
            "SELECT rowid, run_uuid, key, value, timestamp, step, is_nan FROM metrics \
             WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )
        .map_err(|e| db_error(path, e))?;
    loop {
        let mut rows = q.query(rusqlite::params![after, CHUNK_ROWS]).map_err(|e| db_error(path, e))?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(|e| db_error(path, e))? {
            n += 1;
            after = r.get(0).map_err(|e| db_error(path, e))?;
            let id = r.get_ref(1).map_err(|e| db_error(path, e))?.as_str().unwrap_or("");
            let Some(&i) = index.get(id) else { continue };
            let key = r.get_ref(2).map_err(|e| db_error(path, e))?.as_str().unwrap_or("");
            let value: Option<f64> = r.get(3).ok();
            let ts: Option<i64> = r.get(4).ok();
            let step: Option<i64> = r.get(5).ok();
            let is_nan: bool = r.get::<_, Option<bool>>(6).ok().flatten().unwrap_or(false);
            rows_read[i] += 1;
            let run = &mut runs[i];
            let series = run.store.intern(key);
            let x = logged_value(value.unwrap_or(f64::NAN), is_nan);
            let time = ts.map_or(f64::NAN, |t| t as f64 / 1000.0);
            gathers[i].add(run, rows_read[i], step.unwrap_or(0) as f64, time, series, x);
        }
        // The statement ends here: its shared lock is given back before the next chunk.
        drop(rows);
        if n < CHUNK_ROWS {
            break;
        }
    }
    for (run, g) in runs.iter_mut().zip(&mut gathers) {
        g.flush(run);
    }
    Ok(runs)
}

/// `meta.yaml` of a file-store run (the fields tmon shows).
#[derive(Debug, Default, serde::Deserialize)]
struct Meta {
    run_name: Option<String>,
    run_id: Option<String>,
    status: Option<i64>,
}

/// The files under `dir`, recursively, as (path, name relative to `dir` with `/`), sorted.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(PathBuf, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 32 => walk(root, &p, depth + 1, out),
                Ok(t) if t.is_file() => {
                    if let Ok(rel) = p.strip_prefix(root) {
                        let name = rel.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/");
                        out.push((p, name));
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, 0, &mut out);
    out
}

/// Reads one file-store run (its folder) into `run`.
pub fn load_run_dir(dir: &Path, mut run: Run) -> Result<Run, Error> {
    let meta_path = dir.join("meta.yaml");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let meta: Meta = serde_yaml_ng::from_str(&text).map_err(|e| Error::Read {
        path: meta_path.clone(),
        reason: format!("not an MLflow meta.yaml: {e}"),
    })?;
    declare(&mut run);
    let tag_name = std::fs::read_to_string(dir.join("tags").join("mlflow.runName")).ok();
    run.info.name = meta.run_name.filter(|n| !n.is_empty()).or(tag_name).or(meta.run_id);
    run.info.status = meta.status.map(status_name);
    for (p, name) in files_under(&dir.join("params")) {
        if let Ok(v) = std::fs::read_to_string(&p) {
            run.info.config.insert(name, v);
        }
    }
    // (timestamp, step, file order, line order) -> value
    let mut points: Vec<(i64, i64, usize, u64, f64)> = Vec::new();
    let mut ids = Vec::new();
    for (k, (p, name)) in files_under(&dir.join("metrics")).into_iter().enumerate() {
        ids.push(run.store.intern(&name));
        let text = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let line_s = String::from_utf8_lossy(line);
            let cells: Vec<&str> = line_s.split_whitespace().collect();
            if cells.is_empty() {
                continue;
            }
            let ts = cells.first().and_then(|c| c.parse::<i64>().ok());
            let value = cells.get(1).and_then(|c| c.parse::<f64>().ok());
            // Files written before MLflow 1.0 have no step: MLflow reads them at step 0.
            let step = match cells.get(2) {
                Some(c) => c.parse::<i64>().ok(),
                None => Some(0),
            };
            match (ts, value, step, cells.len() <= 3) {
                (Some(ts), Some(v), Some(step), true) => points.push((ts, step, k, i as u64 + 1, v)),
                _ => {
                    let reason = format!("metrics/{name} line {}: not `timestamp value step`", i + 1);
                    run.store.skipped.push(i as u64 + 1, reason, line);
                }
            }
        }
    }
    points.sort_by_key(|&(ts, step, k, line, _)| (ts, step, k, line));
    let mut g = Gather::default();
    for (n, &(ts, step, k, _, v)) in points.iter().enumerate() {
        g.add(&mut run, n as u64 + 1, step as f64, ts as f64 / 1000.0, ids[k], v);
    }
    g.flush(&mut run);
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_as_logged() {
        assert!(logged_value(0.0, true).is_nan());
        assert_eq!(logged_value(f64::MAX, false), f64::INFINITY);
        assert_eq!(logged_value(f64::MIN, false), f64::NEG_INFINITY);
        assert_eq!(logged_value(1.5, false), 1.5);
        assert_eq!(status_name(3), "FINISHED");
    }
}
