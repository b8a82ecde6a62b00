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
//! Followed ([`read_watched`], on the source's thread after each change of the database or its
//! `-wal`), the rows after the last one read are sent as news, one stream per MLflow run; see
//! [`open_db_waiting`] for why nothing is ever created beside the database.
//!
//! Consecutive values at one step become one record ([`Gather`]); the step is MLflow's `step`,
//! the clock its millisecond `timestamp`. MLflow's SQL store writes NaN as 0 with `is_nan` set
//! and ±Infinity as ±`f64::MAX`: both are read back as what was logged.

use super::Gather;
use crate::error::Error;
use crate::ingest::{ClockKind, Format};
use crate::run::Run;
use crate::store::SeriesId;
use std::collections::HashMap;
use std::io::Read;
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
/// `apart`: the records of each run are analysed on a thread of its own, when the runs are no
/// more than the cores.
pub fn load_db(path: &Path, new_run: &dyn Fn(&Path) -> Run, apart: bool) -> Result<Vec<Run>, Error> {
    let (mut runs, mut follow) = load_db_with(path, new_run, None, apart)?;
    follow.flush(&mut runs);
    Ok(runs)
}

/// Opens the database read-only; a writer holding its lock for a moment is waited for, not
/// reported as an error.
fn open_db(path: &Path) -> Result<rusqlite::Connection, Error> {
    open_db_waiting(path, std::time::Duration::from_secs(5))
}

/// Whether the database is in WAL mode (its header's read and write versions are 2), from its
/// first 20 bytes; false when they cannot be read.
fn is_wal(path: &Path) -> bool {
    let mut head = [0u8; 20];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && head[18] == 2
        && head[19] == 2
}

/// Opens the database read-only, waiting at most `wait` for a writer's lock. Nothing is created
/// or written beside it, whatever its journal mode:
///
/// - A rollback-journal database (MLflow's default: SQLAlchemy leaves SQLite's `delete` mode) is
///   opened with `SQLITE_OPEN_READ_ONLY`: SQLite only takes a shared lock (`fcntl`, no file
///   written) while a statement reads.
/// - In WAL mode SQLite opens (and creates, even for a read-only connection) the `-wal` and
///   `-shm` files. While a writer has the database open they exist, and a read-only connection
///   uses them as the writer does: it reads the log, and takes its read lock in the `-shm` index
///   (the shared memory through which readers tell the writer which frames they still need;
///   the log and the database are never written). When they do not exist, no writer has the
///   database open and everything is in the file itself: it is opened `immutable=1` (no lock, no
///   `-wal`/`-shm` made). A writer that opens it meanwhile writes to a new `-wal`, never to the
///   file until a checkpoint a thousand pages later, so the short read is not torn.
fn open_db_waiting(path: &Path, wait: std::time::Duration) -> Result<rusqlite::Connection, Error> {
    use rusqlite::{Connection, OpenFlags};
    let flags =
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let companion = |ext: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p).exists()
    };
    let immutable = is_wal(path) && !(companion("-wal") && companion("-shm"));
    let uri = db_uri(path, immutable);
    let con = Connection::open_with_flags(uri, flags).map_err(|e| db_error(path, e))?;
    con.busy_timeout(wait).map_err(|e| db_error(path, e))?;
    Ok(con)
}

/// A `file:` URI naming `path` (percent-encoded: a path may hold `?` or `#`).
fn db_uri(path: &Path, immutable: bool) -> String {
    use std::os::unix::ffi::OsStrExt;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file:");
    for &b in abs.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str(if immutable { "?mode=ro&immutable=1" } else { "?mode=ro" });
    uri
}

/// The last metric row's rowid now (0 for none): where a history read now ends.
pub fn last_row(path: &Path) -> Result<i64, Error> {
    let con = open_db(path)?;
    con.query_row("SELECT COALESCE(MAX(rowid), 0) FROM metrics", [], |r| r.get(0))
        .map_err(|e| db_error(path, e))
}

/// A run of the database as the `runs` table says it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbRun {
    pub id: String,
    pub name: Option<String>,
    pub status: Option<String>,
}

/// One row of the `metrics` table (the value as stored: see [`logged_value`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricRow {
    pub rowid: i64,
    pub run: String,
    pub key: String,
    /// The stored value's bits (NULL: none), so that any value survives the trip as is.
    pub value: Option<u64>,
    pub timestamp: Option<i64>,
    pub step: Option<i64>,
    pub is_nan: bool,
}

/// What a look at the database found: its runs (all, not deleted), the params of runs not known
/// before, and the metric rows after a cursor. Made on the thread that reads files
/// ([`read_watched`]: one per MLflow run), applied where the runs are (the formats' decoder,
/// [`super::follow::Decoder`]).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbNews {
    pub runs: Vec<DbRun>,
    pub params: Vec<(String, String, String)>,
    pub metrics: Vec<MetricRow>,
}

/// What [`DbNews`] is sent as: bytes that start with this mark (nothing a database starts with).
pub const NEWS_MARK: &[u8] = b"tmon:mlflow-news\n";

impl DbNews {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = NEWS_MARK.to_vec();
        out.extend_from_slice(&serde_json::to_vec(self).unwrap_or_default());
        out
    }

    /// The news in bytes made by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Option<DbNews> {
        serde_json::from_slice(bytes.strip_prefix(NEWS_MARK)?).ok()
    }
}

/// The runs (not deleted) of a database, oldest first.
fn db_runs(con: &rusqlite::Connection, path: &Path) -> Result<Vec<DbRun>, Error> {
    let mut q = con
        .prepare(
            "SELECT run_uuid, name, status FROM runs \
             WHERE lifecycle_stage IS NULL OR lifecycle_stage != 'deleted' ORDER BY start_time, run_uuid",
        )
        .map_err(|e| db_error(path, e))?;
    let rows = q
        .query_map([], |r| Ok(DbRun { id: r.get(0)?, name: r.get(1)?, status: r.get(2)? }))
        .map_err(|e| db_error(path, e))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|e| db_error(path, e))
}

/// The params of every run, as (run, key, value).
fn db_params(con: &rusqlite::Connection, path: &Path) -> Result<Vec<(String, String, String)>, Error> {
    let mut q = con.prepare("SELECT run_uuid, key, value FROM params").map_err(|e| db_error(path, e))?;
    let mut rows = q.query([]).map_err(|e| db_error(path, e))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| db_error(path, e))? {
        let id: String = r.get(0).map_err(|e| db_error(path, e))?;
        let key: String = r.get(1).map_err(|e| db_error(path, e))?;
        let value: Option<String> = r.get(2).ok();
        out.push((id, key, value.unwrap_or_default()));
    }
    Ok(out)
}

/// One row of the `metrics` table, borrowed from the statement.
pub struct RowRef<'a> {
    pub rowid: i64,
    pub run: &'a str,
    pub key: &'a str,
    pub value: Option<f64>,
    pub timestamp: Option<i64>,
    pub step: Option<i64>,
    pub is_nan: bool,
}

impl From<&RowRef<'_>> for MetricRow {
    fn from(r: &RowRef<'_>) -> Self {
        MetricRow {
            rowid: r.rowid,
            run: r.run.to_owned(),
            key: r.key.to_owned(),
            value: r.value.map(f64::to_bits),
            timestamp: r.timestamp,
            step: r.step,
            is_nan: r.is_nan,
        }
    }
}

/// Calls `f` on the metric rows after `after` (up to `until`, at most [`CHUNK_ROWS`] of them)
/// in rowid order, one short statement, so the writer is never locked out for long. Returns
/// how many there were.
fn each_metric(
    con: &rusqlite::Connection,
    path: &Path,
    after: i64,
    until: i64,
    mut f: impl FnMut(RowRef<'_>),
) -> Result<usize, Error> {
    let mut q = con
        .prepare_cached(
            "SELECT rowid, run_uuid, key, value, timestamp, step, is_nan FROM metrics \
             WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid LIMIT ?3",
        )
        .map_err(|e| db_error(path, e))?;
    let mut rows = q.query(rusqlite::params![after, until, CHUNK_ROWS]).map_err(|e| db_error(path, e))?;
    let mut n = 0;
    while let Some(r) = rows.next().map_err(|e| db_error(path, e))? {
        n += 1;
        let text = |i| r.get_ref(i).ok().and_then(|v| v.as_str().ok()).unwrap_or("");
        f(RowRef {
            rowid: r.get(0).map_err(|e| db_error(path, e))?,
            run: text(1),
            key: text(2),
            value: r.get::<_, f64>(3).ok(),
            timestamp: r.get(4).ok(),
            step: r.get(5).ok(),
            is_nan: r.get::<_, Option<bool>>(6).ok().flatten().unwrap_or(false),
        });
    }
    Ok(n)
}

/// Reads what is new in a database since `cursor` (the last metric row read; `known`: the runs
/// already read, whose params are not read again): at most [`CHUNK_ROWS`] metric rows. Returns
/// the news and the new cursor; call again while it moves.
pub fn read_news(path: &Path, cursor: i64, known: &dyn Fn(&str) -> bool) -> Result<(DbNews, i64), Error> {
    let con = open_db(path)?;
    let runs = db_runs(&con, path)?;
    let params = if runs.iter().all(|r| known(&r.id)) {
        Vec::new()
    } else {
        db_params(&con, path)?.into_iter().filter(|(id, ..)| !known(id)).collect()
    };
    let mut metrics = Vec::new();
    each_metric(&con, path, cursor, i64::MAX, |r| metrics.push(MetricRow::from(&r)))?;
    let next = metrics.last().map_or(cursor, |m| m.rowid);
    Ok((DbNews { runs, params, metrics }, next))
}

/// How long a followed database's writer lock is waited for: the source's thread reads every
/// followed file, so a busy database is tried again at its next change rather than waited on.
const FOLLOW_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// What is new in a followed database (the source's [`crate::source::tail::WatchRead`]): the
/// metric rows after the cursor (at most [`CHUNK_ROWS`]; `more` while a chunk was full), split
/// into one part per MLflow run (its id the key, [`DbNews`] encoded), each with its run's name
/// and status. The params of every run are sent again when the runs or the params changed
/// (`memo`: a checksum of both), and a run whose name or status changed gets a part then too.
pub fn read_watched(
    path: &Path,
    cursor: &mut crate::source::tail::WatchCursor,
) -> Result<crate::source::tail::WatchNews, String> {
    use std::hash::{Hash, Hasher};
    let con = open_db_waiting(path, FOLLOW_WAIT).map_err(|e| e.to_string())?;
    let runs = db_runs(&con, path).map_err(|e| e.to_string())?;
    let (count, last): (i64, i64) = con
        .query_row("SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM params", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| db_error(path, e).to_string())?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for r in &runs {
        (&r.id, &r.name, &r.status).hash(&mut h);
    }
    (count, last).hash(&mut h);
    let memo = h.finish();
    let fresh = memo != cursor.memo;
    let params = if fresh { db_params(&con, path).map_err(|e| e.to_string())? } else { Vec::new() };
    let after = i64::try_from(cursor.at).unwrap_or(i64::MAX);
    let mut by_run: HashMap<&str, Vec<MetricRow>> =
        runs.iter().map(|r| (r.id.as_str(), Vec::new())).collect();
    let mut n = 0;
    let mut next = after;
    each_metric(&con, path, after, i64::MAX, |r| {
        n += 1;
        next = r.rowid;
        // Rows of deleted runs are left out, as `tmon check` leaves them.
        if let Some(rows) = by_run.get_mut(r.run) {
            rows.push(MetricRow::from(&r));
        }
    })
    .map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    for info in &runs {
        let metrics = by_run.remove(info.id.as_str()).unwrap_or_default();
        if metrics.is_empty() && !fresh {
            continue;
        }
        let params: Vec<_> = params.iter().filter(|(id, ..)| *id == info.id).cloned().collect();
        let news = DbNews { runs: vec![info.clone()], params, metrics };
        parts.push((info.id.clone(), news.encode()));
    }
    cursor.at = u64::try_from(next).unwrap_or(0);
    cursor.memo = memo;
    Ok(crate::source::tail::WatchNews { parts, more: n as i64 >= CHUNK_ROWS })
}

/// The series of one run by metric name. A run logs a few metrics as a rule, and a row's key is
/// looked up among them by comparing strings, faster than hashing it (a row is a value: the
/// lookup is per value); past [`Keys::FEW`] a hash map takes over.
#[derive(Debug, Default)]
struct Keys {
    few: Vec<(Box<str>, SeriesId)>,
    many: HashMap<Box<str>, SeriesId>,
}

impl Keys {
    const FEW: usize = 16;

    fn id(&mut self, key: &str, run: &mut Run) -> SeriesId {
        self.number(key, &mut || run.store.intern(key))
    }

    /// The number of `key`, given by `new` the first time.
    fn number(&mut self, key: &str, new: &mut dyn FnMut() -> SeriesId) -> SeriesId {
        if let Some((_, id)) = self.few.iter().find(|(k, _)| &**k == key) {
            return *id;
        }
        if let Some(&id) = self.many.get(key) {
            return id;
        }
        let id = new();
        if self.few.len() < Self::FEW {
            self.few.push((key.into(), id));
        } else {
            self.many.insert(key.into(), id);
        }
        id
    }
}

/// Follows the runs of a database: which run each is, and the record each is gathering.
#[derive(Debug, Default)]
pub struct DbFollow {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    gathers: Vec<Gather>,
    rows: Vec<u64>,
    /// The series of each run, by metric name.
    series: Vec<Keys>,
    /// The last metric row read.
    pub cursor: i64,
}

impl DbFollow {
    /// The place of run `id` among the runs followed.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// How many runs are followed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Follows run `id` too, into `run` (made empty by the caller); returns its place.
    pub fn add(&mut self, id: &str, info: &DbRun, run: &mut Run) -> usize {
        declare(run);
        run.info.name = Some(info.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| id.to_owned()));
        run.info.status = info.status.clone();
        self.index.insert(id.to_owned(), self.ids.len());
        self.ids.push(id.to_owned());
        self.gathers.push(Gather::default());
        self.rows.push(0);
        self.series.push(Keys::default());
        self.ids.len() - 1
    }

    /// Feeds one metric row of the news to run number `k` (`run`).
    pub fn metric(&mut self, k: usize, run: &mut Run, m: &MetricRow) {
        let r = RowRef {
            rowid: m.rowid,
            run: &m.run,
            key: &m.key,
            value: m.value.map(f64::from_bits),
            timestamp: m.timestamp,
            step: m.step,
            is_nan: m.is_nan,
        };
        self.row(k, run, &r);
    }

    /// Feeds one metric row to run number `k` (`run`).
    fn row(&mut self, k: usize, run: &mut Run, m: &RowRef<'_>) {
        let id = self.series[k].id(m.key, run);
        self.push(k, run, m.rowid, id, m.value, m.timestamp, m.step, m.is_nan);
    }

    /// Feeds one metric row, its series known, to run number `k` (`run`).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        k: usize,
        run: &mut Run,
        rowid: i64,
        id: SeriesId,
        value: Option<f64>,
        timestamp: Option<i64>,
        step: Option<i64>,
        is_nan: bool,
    ) {
        self.cursor = self.cursor.max(rowid);
        self.rows[k] += 1;
        let x = logged_value(value.unwrap_or(f64::NAN), is_nan);
        let time = timestamp.map_or(f64::NAN, |t| t as f64 / 1000.0);
        self.gathers[k].add(run, self.rows[k], step.unwrap_or(0) as f64, time, id, x);
    }

    /// Feeds the records gathered (`runs` in the order of the runs followed).
    pub fn flush(&mut self, runs: &mut [Run]) {
        for (g, run) in self.gathers.iter_mut().zip(runs) {
            g.flush(run);
        }
    }

    /// Feeds the record gathered by run number `k`.
    pub fn flush_one(&mut self, k: usize, run: &mut Run) {
        self.gathers[k].flush(run);
    }
}

/// Metric rows read by [`read_rows`], with the metric names first seen in them (key numbers count
/// up from 0 across batches).
struct Batch {
    rows: Vec<PlainRow>,
    names: Vec<String>,
}

/// A metric row with its run and key as numbers: its run's place, its key's number.
struct PlainRow {
    rowid: i64,
    run: u32,
    key: u32,
    value: Option<f64>,
    timestamp: Option<i64>,
    step: Option<i64>,
    is_nan: bool,
}

/// Rows sent at a time.
const BATCH_ROWS: usize = 8192;

/// Reads the metric rows up to rowid `end` of the runs in `places` (by run id), chunk by chunk
/// (see [`each_metric`]), and sends them in batches until done or the receiver is gone.
fn read_rows(
    con: &rusqlite::Connection,
    path: &Path,
    end: i64,
    places: &HashMap<String, usize>,
    tx: &std::sync::mpsc::SyncSender<Batch>,
) -> Result<(), Error> {
    let mut keys = Keys::default();
    let mut next_key: SeriesId = 0;
    let mut batch = Batch { rows: Vec::with_capacity(BATCH_ROWS), names: Vec::new() };
    let mut after = i64::MIN;
    // Rows come in runs of one MLflow run: its place is looked up once per run of rows.
    let mut last: (String, Option<usize>) = (String::new(), None);
    let mut gone = false;
    loop {
        let n = each_metric(con, path, after, end, |m| {
            after = m.rowid;
            if gone {
                return;
            }
            if last.0 != m.run || last.1.is_none() {
                last = (m.run.to_owned(), places.get(m.run).copied());
            }
            let Some(k) = last.1 else { return };
            let key = keys.number(m.key, &mut || {
                batch.names.push(m.key.to_owned());
                next_key += 1;
                next_key - 1
            });
            batch.rows.push(PlainRow {
                rowid: m.rowid,
                run: k as u32,
                key: key as u32,
                value: m.value,
                timestamp: m.timestamp,
                step: m.step,
                is_nan: m.is_nan,
            });
            if batch.rows.len() >= BATCH_ROWS {
                let full = std::mem::replace(
                    &mut batch,
                    Batch { rows: Vec::with_capacity(BATCH_ROWS), names: Vec::new() },
                );
                gone = tx.send(full).is_err();
            }
        })?;
        if (n as i64) < CHUNK_ROWS || gone {
            break;
        }
    }
    let _ = tx.send(batch);
    Ok(())
}

/// Feeds one metric row read (its key numbered `key` among `names`) to its run.
fn feed_row(
    runs: &mut [Run],
    follow: &mut DbFollow,
    ids: &mut [Vec<Option<SeriesId>>],
    names: &[String],
    r: &PlainRow,
    key: usize,
) {
    let k = r.run as usize;
    let slot = &mut ids[k];
    if slot.len() <= key {
        slot.resize(key + 1, None);
    }
    let id = *slot[key].get_or_insert_with(|| runs[k].store.intern(&names[key]));
    follow.push(k, &mut runs[k], r.rowid, id, r.value, r.timestamp, r.step, r.is_nan);
}

/// The first and last rowid of the metric rows up to `end`; `None` when there are none, or when
/// the rowids are so sparse that reading them in ranges would mean many empty ranges.
fn rowid_span(con: &rusqlite::Connection, path: &Path, end: i64) -> Result<Option<(i64, i64)>, Error> {
    let (lo, hi): (Option<i64>, Option<i64>) = con
        // Two subqueries: each a look at one end of the table (together in one SELECT, SQLite
        // scans every row).
        .query_row("SELECT (SELECT MIN(rowid) FROM metrics), (SELECT MAX(rowid) FROM metrics)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| db_error(path, e))?;
    Ok(match (lo, hi) {
        (Some(lo), Some(hi)) if lo <= hi.min(end) && hi.min(end) - lo < CHUNK_ROWS << 16 => {
            Some((lo, hi.min(end)))
        }
        _ => None,
    })
}

/// The metric rows with rowids in `after + 1..=upto` (one statement) of the runs in `places`,
/// their keys numbered from 0 in the order met, for a whole read (their rowids are not read:
/// no follower goes on after them). Values are read as [`each_metric`] reads them; a run id or
/// key that is not text, or not UTF-8, is "" as there.
fn read_range(
    con: &rusqlite::Connection,
    path: &Path,
    after: i64,
    upto: i64,
    places: &HashMap<String, usize>,
) -> Result<Batch, Error> {
    use rusqlite::types::ValueRef;
    let mut q = con
        .prepare_cached(
            "SELECT run_uuid, key, value, timestamp, step, is_nan FROM metrics \
             WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid",
        )
        .map_err(|e| db_error(path, e))?;
    let mut rows = q.query(rusqlite::params![after, upto]).map_err(|e| db_error(path, e))?;
    let mut batch = Batch { rows: Vec::new(), names: Vec::new() };
    // The keys met, by their bytes (a run logs a few: compared, not hashed).
    let mut keys: Vec<(Vec<u8>, u32)> = Vec::new();
    // Rows come in runs of one MLflow run: its place is looked up once per run of rows.
    let mut last: (Vec<u8>, Option<usize>) = (Vec::new(), None);
    fn text(v: ValueRef<'_>) -> &[u8] {
        match v {
            ValueRef::Text(b) => b,
            _ => &[],
        }
    }
    fn utf8(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap_or("")
    }
    let int = |v: ValueRef<'_>| match v {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    };
    while let Some(r) = rows.next().map_err(|e| db_error(path, e))? {
        let run = text(r.get_ref_unwrap(0));
        if last.0 != run || last.1.is_none() {
            last = (run.to_owned(), places.get(utf8(run)).copied());
        }
        let Some(k) = last.1 else { continue };
        let key_bytes = text(r.get_ref_unwrap(1));
        let key = match keys.iter().find(|(b, _)| b.as_slice() == key_bytes) {
            Some(&(_, n)) => n,
            None => {
                batch.names.push(utf8(key_bytes).to_owned());
                let n = batch.names.len() as u32 - 1;
                keys.push((key_bytes.to_owned(), n));
                n
            }
        };
        let value = match r.get_ref_unwrap(2) {
            ValueRef::Integer(i) => Some(i as f64),
            ValueRef::Real(x) => Some(x),
            _ => None,
        };
        batch.rows.push(PlainRow {
            rowid: 0,
            run: k as u32,
            key,
            value,
            timestamp: int(r.get_ref_unwrap(3)),
            step: int(r.get_ref_unwrap(4)),
            is_nan: int(r.get_ref_unwrap(5)).is_some_and(|i| i != 0),
        });
    }
    Ok(batch)
}

/// Reads the runs (not deleted) of an MLflow SQLite store with their metric rows up to rowid
/// `until` (all for `None`), in insertion order, chunk by chunk; the record each run is
/// gathering is left to the follower (flushed by [`load_db`]).
pub fn load_db_until(
    path: &Path,
    new_run: &dyn Fn(&Path) -> Run,
    until: Option<i64>,
) -> Result<(Vec<Run>, DbFollow), Error> {
    load_db_with(path, new_run, until, false)
}

/// [`load_db_until`], the records of each run analysed on a thread of its own when `apart` and
/// the runs are no more than the cores.
fn load_db_with(
    path: &Path,
    new_run: &dyn Fn(&Path) -> Run,
    until: Option<i64>,
    apart: bool,
) -> Result<(Vec<Run>, DbFollow), Error> {
    let con = open_db(path)?;
    let mut runs: Vec<Run> = Vec::new();
    let mut follow = DbFollow::default();
    for info in db_runs(&con, path)? {
        let mut run = new_run(path);
        follow.add(&info.id.clone(), &info, &mut run);
        runs.push(run);
    }
    for (id, key, value) in db_params(&con, path)? {
        if let Some(k) = follow.index(&id) {
            runs[k].info.config.insert(key, value);
        }
    }
    if apart && runs.len() <= super::par::threads() {
        for run in &mut runs {
            run.analyse_apart();
        }
    }
    let end = until.unwrap_or(i64::MAX);
    let places: HashMap<String, usize> = follow.index.clone();
    let mut names: Vec<String> = Vec::new();
    // Per run, the series of each key number the reader gave.
    let mut ids: Vec<Vec<Option<SeriesId>>> = vec![Vec::new(); runs.len()];
    let threads = if apart && until.is_none() { super::par::threads() } else { 1 };
    let span = if threads > 1 { rowid_span(&con, path, end)? } else { None };
    if let Some((lo, hi)) = span {
        // SQLite's work is most of the load (its thread took three quarters of the CPU time):
        // the rows are read in ranges of rowids on every core, each thread with a read-only
        // connection of its own, and fed in rowid order on this thread.
        let pieces = ((hi - lo) / CHUNK_ROWS + 1) as usize;
        let cons = std::sync::Mutex::new(vec![con]);
        let mut global: HashMap<String, usize> = HashMap::new();
        let mut failed: Option<Error> = None;
        super::par::ordered(
            pieces,
            threads,
            |j| {
                let after = lo - 1 + j as i64 * CHUNK_ROWS;
                let upto = (after + CHUNK_ROWS).min(hi);
                let spare = cons.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let con = match spare {
                    Some(con) => con,
                    None => open_db(path)?,
                };
                let read = read_range(&con, path, after, upto, &places);
                cons.lock().unwrap_or_else(|e| e.into_inner()).push(con);
                read
            },
            |_, read| match read {
                _ if failed.is_some() => {}
                Err(e) => failed = Some(e),
                Ok(batch) => {
                    // The range's key numbers, as numbers of the whole read.
                    let map: Vec<usize> = batch
                        .names
                        .into_iter()
                        .map(|name| {
                            let next = names.len();
                            *global.entry(name).or_insert_with_key(|name| {
                                names.push(name.clone());
                                next
                            })
                        })
                        .collect();
                    for r in &batch.rows {
                        feed_row(&mut runs, &mut follow, &mut ids, &names, r, map[r.key as usize]);
                    }
                }
            },
        );
        if let Some(e) = failed {
            return Err(e);
        }
    } else {
        // SQLite reads on a thread of its own while this one feeds the runs.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        std::thread::scope(|scope| -> Result<(), Error> {
            let reader = scope.spawn(move || read_rows(&con, path, end, &places, &tx));
            for batch in rx {
                names.extend(batch.names);
                for r in &batch.rows {
                    feed_row(&mut runs, &mut follow, &mut ids, &names, r, r.key as usize);
                }
            }
            reader.join().unwrap_or_else(|_| {
                Err(Error::Read { path: path.to_owned(), reason: "the reader failed".into() })
            })
        })?;
    }
    for run in &mut runs {
        run.analyse_here();
    }
    if let Some(u) = until {
        // Every row up to `until` was read: the follower goes on after it.
        follow.cursor = u;
    }
    Ok((runs, follow))
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

/// Reads one file-store run (its folder) into `run`, its metric files decoded on up to
/// `threads` threads.
pub fn load_run_dir(dir: &Path, run: Run, threads: usize) -> Result<Run, Error> {
    let (mut run, mut follow, _) = read_run_dir_with(dir, run, None, threads)?;
    follow.gather.flush(&mut run);
    Ok(run)
}

/// The name `meta.yaml` and the `params/` folder give a file-store run; its status.
fn read_meta(dir: &Path, run: &mut Run) -> Result<(), Error> {
    let meta_path = dir.join("meta.yaml");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let meta: Meta = serde_yaml_ng::from_str(&text).map_err(|e| Error::Read {
        path: meta_path.clone(),
        reason: format!("not an MLflow meta.yaml: {e}"),
    })?;
    let tag_name = std::fs::read_to_string(dir.join("tags").join("mlflow.runName")).ok();
    run.info.name = meta.run_name.filter(|n| !n.is_empty()).or(tag_name).or(meta.run_id);
    run.info.status = meta.status.map(status_name);
    Ok(())
}

/// A `meta.yaml` as it is now (while following): the run's name and status, when it parses.
pub fn apply_meta(run: &mut Run, text: &[u8]) {
    if let Ok(meta) = serde_yaml_ng::from_slice::<Meta>(text) {
        if let Some(name) = meta.run_name.filter(|n| !n.is_empty()).or(meta.run_id) {
            run.info.name = Some(name);
        }
        if let Some(s) = meta.status {
            run.info.status = Some(status_name(s));
        }
    }
}

/// One metric file of a followed file-store run.
#[derive(Debug)]
pub struct MetricFile {
    /// The metric's name (its path under `metrics/`).
    pub name: String,
    id: Option<SeriesId>,
    /// Lines read.
    pub lines: u64,
}

impl MetricFile {
    pub fn new(name: String) -> Self {
        MetricFile { name, id: None, lines: 0 }
    }
}

/// Follows a file-store run: the record it is gathering over its metric files.
#[derive(Debug, Default)]
pub struct RunFollow {
    gather: Gather,
    /// Points read so far (the "line" of each record).
    points: u64,
}

impl RunFollow {
    /// Feeds the whole lines `bytes` of metric file `f`, in the order written (the lines of
    /// several files are not put in time order while following: each file's are new).
    pub fn lines(&mut self, run: &mut Run, f: &mut MetricFile, bytes: &[u8]) {
        let id = *f.id.get_or_insert_with(|| run.store.intern(&f.name));
        for line in bytes.split(|&b| b == b'\n') {
            f.lines += 1;
            match metric_line(line) {
                Some(None) => {}
                Some(Some((ts, v, step))) => {
                    self.points += 1;
                    self.gather.add(run, self.points, step as f64, ts as f64 / 1000.0, id, v);
                }
                None => {
                    let reason = format!("metrics/{} line {}: not `timestamp value step`", f.name, f.lines);
                    run.store.skipped.push(f.lines, reason, line);
                }
            }
        }
        // The last split piece is the empty one after the final newline.
        f.lines -= 1;
    }

    /// Feeds the record gathered last (the reading pauses).
    pub fn flush(&mut self, run: &mut Run) {
        self.gather.flush(run);
    }

    /// Prepares `run` for a file-store run's metrics.
    pub fn declare(run: &mut Run) {
        declare(run);
    }
}

/// A metric line: `Some(None)` for a blank one, `None` for one that is not `timestamp value
/// step`.
fn metric_line(line: &[u8]) -> Option<Option<(i64, f64, i64)>> {
    let line_s = String::from_utf8_lossy(line);
    let mut cells = line_s.split_whitespace();
    let Some(first) = cells.next() else { return Some(None) };
    let ts = first.parse::<i64>().ok();
    let value = cells.next().and_then(|c| c.parse::<f64>().ok());
    // Files written before MLflow 1.0 have no step: MLflow reads them at step 0.
    let step = match cells.next() {
        Some(c) => c.parse::<i64>().ok(),
        None => Some(0),
    };
    match (ts, value, step, cells.next().is_none()) {
        (Some(ts), Some(v), Some(step), true) => Some(Some((ts, v, step))),
        _ => None,
    }
}

/// What reading a file-store run left for following it: each metric file's state, where its
/// whole lines end and the bytes of a line not finished yet.
#[derive(Debug)]
pub struct Left {
    pub path: PathBuf,
    pub file: MetricFile,
    pub offset: u64,
    pub partial: Vec<u8>,
}

/// Reads a file-store run: `meta.yaml`, `params/`, and its metric files: every one, whole
/// (`only` None), or those given, each up to the byte given, whole lines only (the history of a
/// followed run; what is left of each is returned). The points of all files are put in time
/// order (then step, then file order), the one order the store has across files.
pub fn read_run_dir(
    dir: &Path,
    run: Run,
    only: Option<&[(PathBuf, u64)]>,
) -> Result<(Run, RunFollow, Vec<Left>), Error> {
    read_run_dir_with(dir, run, only, 1)
}

/// One point of a metric file: its timestamp, step and value.
type Point = (i64, i64, f64);

/// What one metric file holds: its points in the order of the file, unless `sorted` (then put
/// in time then step order, the lines of one time and step in their order), its bad lines, and
/// where its whole lines end.
#[derive(Debug, Default)]
struct Decoded {
    points: Vec<Point>,
    /// Bad lines: (line, text).
    bad: Vec<(u64, Vec<u8>)>,
    /// The line ends read.
    lines: u64,
    whole: u64,
    partial: Vec<u8>,
}

/// How much of a metric file is read at a time: a file is never held whole, only its points.
const FILE_CHUNK: usize = 1 << 20;

/// Reads metric file `p` up to `end` (whole lines only) or whole, and puts its points in time
/// order (a stable sort, skipped when they are in order already, as a writer writes them).
fn decode_metric_file(p: &Path, end: Option<u64>) -> std::io::Result<Decoded> {
    let mut d = Decoded::default();
    let mut file = std::fs::File::open(p)?.take(end.unwrap_or(u64::MAX));
    let mut buf: Vec<u8> = Vec::with_capacity(FILE_CHUNK);
    let mut line_no = 0u64;
    let mut eof = false;
    while !eof {
        let had = buf.len();
        (&mut file).take(FILE_CHUNK as u64).read_to_end(&mut buf)?;
        eof = buf.len() == had;
        let whole = match (eof, end) {
            (true, None) => buf.len(),
            _ => memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1),
        };
        if whole == 0 && !eof {
            continue;
        }
        let n = memchr::memchr_iter(b'\n', &buf[..whole]).count();
        d.lines += n as u64;
        // A chunk's whole lines; at the end, the last line without its line end too.
        let pieces = if buf[..whole].ends_with(b"\n") { n } else { n + 1 };
        for line in buf[..whole].split(|&b| b == b'\n').take(pieces) {
            line_no += 1;
            decode_metric_line(&mut d, line_no, line);
        }
        d.whole += whole as u64;
        if eof {
            d.partial = buf[whole..].to_vec();
        } else {
            buf.drain(..whole);
        }
    }
    let sorted = d.points.windows(2).all(|w| (w[0].0, w[0].1) <= (w[1].0, w[1].1));
    if !sorted {
        d.points.sort_by_key(|&(ts, step, _)| (ts, step));
    }
    Ok(d)
}

fn decode_metric_line(d: &mut Decoded, line_no: u64, line: &[u8]) {
    match metric_line(line) {
        Some(None) => {}
        Some(Some((ts, v, step))) => d.points.push((ts, step, v)),
        None => d.bad.push((line_no, line.to_vec())),
    }
}

/// [`read_run_dir`] on up to `threads` threads: the metric files are decoded at once, their
/// points merged in time order as they are fed.
fn read_run_dir_with(
    dir: &Path,
    mut run: Run,
    only: Option<&[(PathBuf, u64)]>,
    threads: usize,
) -> Result<(Run, RunFollow, Vec<Left>), Error> {
    declare(&mut run);
    read_meta(dir, &mut run)?;
    for (p, name) in files_under(&dir.join("params")) {
        if let Ok(v) = std::fs::read_to_string(&p) {
            run.info.config.insert(name, v);
        }
    }
    let files: Vec<(PathBuf, String, Option<u64>)> = match only {
        None => files_under(&dir.join("metrics")).into_iter().map(|(p, n)| (p, n, None)).collect(),
        Some(parts) => {
            let mut v: Vec<(PathBuf, String, Option<u64>)> =
                parts.iter().filter_map(|(p, end)| Some((p.clone(), metric_name(p)?, Some(*end)))).collect();
            v.sort_by(|a, b| a.1.cmp(&b.1));
            v
        }
    };
    let mut ids = Vec::new();
    let mut left = Vec::new();
    let mut decoded: Vec<std::vec::IntoIter<Point>> = Vec::new();
    let mut failed: Option<Error> = None;
    super::par::ordered(
        files.len(),
        threads,
        |k| decode_metric_file(&files[k].0, files[k].2),
        |k, d| {
            let (p, name, end) = &files[k];
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    failed.get_or_insert_with(|| Error::io(p, e));
                    return;
                }
            };
            if failed.is_some() {
                return;
            }
            ids.push(run.store.intern(name));
            for (line, text) in &d.bad {
                let reason = format!("metrics/{name} line {line}: not `timestamp value step`");
                run.store.skipped.push(*line, reason, text);
            }
            if end.is_some() {
                let mut f = MetricFile::new(name.clone());
                f.id = ids.last().copied();
                f.lines = d.lines;
                left.push(Left { path: p.clone(), file: f, offset: d.whole, partial: d.partial });
            }
            decoded.push(d.points.into_iter());
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    // Each file's points are in (time, step) order: merged by (time, step, file), they are in
    // the order of sorting all of them by (time, step, file, line).
    let mut heads: std::collections::BinaryHeap<std::cmp::Reverse<(i64, i64, usize, u64)>> =
        std::collections::BinaryHeap::new();
    let mut values = vec![0.0; decoded.len()];
    for (k, it) in decoded.iter_mut().enumerate() {
        if let Some((ts, step, v)) = it.next() {
            values[k] = v;
            heads.push(std::cmp::Reverse((ts, step, k, 0)));
        }
    }
    let mut follow = RunFollow::default();
    while let Some(std::cmp::Reverse((ts, step, k, _))) = heads.pop() {
        follow.points += 1;
        follow.gather.add(&mut run, follow.points, step as f64, ts as f64 / 1000.0, ids[k], values[k]);
        if let Some((ts, step, v)) = decoded[k].next() {
            values[k] = v;
            heads.push(std::cmp::Reverse((ts, step, k, 0)));
        }
    }
    Ok((run, follow, left))
}

/// The name of a metric file (its path under the run's `metrics/` folder, `train/acc`), from
/// its path: `None` when it is under no `metrics` folder (at most three levels of nesting).
pub fn metric_name(path: &Path) -> Option<String> {
    let parts: Vec<&std::ffi::OsStr> = path.iter().collect();
    let at = parts.iter().rposition(|c| *c == "metrics")?;
    let rest = &parts[at + 1..];
    if rest.is_empty() || rest.len() > 4 || at == 0 {
        return None;
    }
    Some(rest.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// Whether `path` looks like a metric file of a file-store run by its path alone: under a
/// `metrics` folder, named as metrics are (not like any other log file).
pub fn is_metric_path(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let other = [".json", ".jsonl", ".ndjson", ".csv", ".wandb", ".yaml", ".txt", ".log", ".db"];
    metric_name(path).is_some()
        && !other.iter().any(|e| name.to_ascii_lowercase().ends_with(e))
        && !super::tfevents::is_event_file_name(name)
}

/// The run folder of a file-store run's `meta.yaml` or metric file (by its path).
pub fn run_dir_of(path: &Path) -> Option<PathBuf> {
    if path.file_name().is_some_and(|n| n == "meta.yaml") {
        return path.parent().map(Path::to_owned);
    }
    if !is_metric_path(path) {
        return None;
    }
    let parts: Vec<&std::ffi::OsStr> = path.iter().collect();
    let at = parts.iter().rposition(|c| *c == "metrics")?;
    Some(parts[..at].iter().collect())
}

/// Whether `path` is a metric file of a file-store run (its folder is one).
pub fn is_metric_file(path: &Path) -> bool {
    is_metric_path(path) && run_dir_of(path).is_some_and(|d| is_run_dir(&d))
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
