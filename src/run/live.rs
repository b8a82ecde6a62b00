//! The live set: the files followed as they grow, each with the run read from it. The monitor and
//! `tmon check --follow` share it; each keeps its own loop around it (the monitor's also answers
//! keys and draws, `--follow`'s prints flags), and neither does the following itself.
//!
//! - [`Feed`] starts the source layer's thread on the paths and bounds the bytes it has sent but
//!   the loop has not taken yet ([`IN_FLIGHT_MAX`]): a big file read from its start, or a writer
//!   faster than the loop, streams through a few chunks of memory instead of queueing whole.
//! - [`LiveSet::apply`] feeds each [`SourceEvent`] to the run of its file (a file found later gets
//!   an entry; the file's state and restarts are kept; a file whose history someone else reads,
//!   such as the monitor's loader, holds its events until that history is handed over, then
//!   follows it with its lines renumbered).
//! - With [`LiveSet::set_offload`] (the monitor), big pieces of files in other formats are not
//!   decoded by `apply`: the run goes with them to a [`DecodeJob`] for another thread, and the
//!   file's events wait until [`LiveFile::take_back`].
//! - [`LiveSet::tick`] is the clock of the wall-clock stall (the analyzer raises it; see
//!   `analysis::flags::live_stall`): the loop calls it about once a second.
//!
//! Each entry is a [`LiveFile`] plus whatever the consumer keeps beside it (the monitor's loading
//! state and step rate, `--follow`'s print cursor): see [`Entry`].

use super::Run;
use crate::formats::follow::Decoder;
use crate::source::{self, FileState, SourceEvent, SourceHandle, Sources};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines and documents sent by the source but not yet taken by the loop, in bytes at most: the
/// source waits beyond it.
pub const IN_FLIGHT_MAX: usize = 16 << 20;

/// One followed file: the run read from it, and what is known about the file itself.
#[derive(Debug)]
pub struct LiveFile {
    pub run: Run,
    /// The last state reported (`Waiting` until the file is seen).
    pub state: FileState,
    /// Restarts seen (truncation, replacement, recreation, rewriting).
    pub restarts: usize,
    /// Why the file cannot be read, while it cannot (the state is then `Unreadable`).
    pub problem: Option<String>,
    /// Lines of a history read by someone else: the source numbers the lines after it from 1.
    line_base: u64,
    /// While such a history is awaited: the source's events about the file, in order.
    held: Option<Vec<SourceEvent>>,
    /// The reader of a file in another format (TensorBoard events, a W&B run file, CSV, an
    /// MLflow file-store run), made from its first bytes; it keeps what a torn last record lacks.
    decoder: Option<Decoder>,
    /// The files this entry reads, by the source's numbers: itself, and the other files of its
    /// run ([`LiveSet`] routes them here: the event files of one TensorBoard folder).
    paths: Vec<(usize, std::path::PathBuf)>,
    /// The entry whose run this file's bytes go to, when it is not this one.
    pub member_of: Option<usize>,
    /// When the decoder was last given bytes, while the step it read last may still get values.
    unflushed: Option<Instant>,
    /// The run and its decoder are with a [`DecodeJob`] on another thread (the run here is a
    /// blank stand-in): every event about the file waits in `held` until
    /// [`take_back`](Self::take_back).
    away: bool,
    /// The job made by the last event, for the consumer to hand to a thread ([`Self::take_job`]).
    outbox: Option<DecodeJob>,
    /// Bytes of the job away and of the events held meanwhile: the source counts them as not
    /// taken yet (see [`InFlight::set_parked`]), so a big file found later streams through a
    /// bounded amount of memory while it is decoded elsewhere.
    parked: usize,
}

/// Bytes to decode for a run, handed to another thread with the run and its decoder (see
/// [`LiveSet::set_offload`]): the monitor's loop never decodes a big piece of a binary file or a
/// database's history itself. [`DecodeJob::run`] (on any thread) gives what
/// [`LiveFile::take_back`] takes.
#[derive(Debug)]
pub struct DecodeJob {
    run: Run,
    decoder: Option<Decoder>,
    file: usize,
    path: PathBuf,
    offset: u64,
    bytes: Vec<u8>,
    /// Hold the run's values at display precision (runs compared), here rather than on the loop.
    compact: bool,
}

impl DecodeJob {
    /// Decodes the bytes into the run, as the live file would have.
    pub fn run(mut self) -> Decoded {
        if self.compact && !self.run.store.display_precision() {
            self.run.store.keep_display_precision();
        }
        let gained =
            decode_into(&mut self.run, &mut self.decoder, &self.path, self.file, self.offset, &self.bytes);
        Decoded { run: self.run, decoder: self.decoder, bytes: self.bytes.len(), gained }
    }

    /// The bytes to decode.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Holds the run's values at display precision (see
    /// [`Store::keep_display_precision`](crate::store::Store::keep_display_precision)) before
    /// decoding: the runs are compared.
    pub fn compact(&mut self) {
        self.compact = true;
    }
}

/// A [`DecodeJob`] done: the run and decoder, to go back to their live file.
#[derive(Debug)]
pub struct Decoded {
    run: Run,
    decoder: Option<Decoder>,
    /// The bytes decoded.
    pub bytes: usize,
    /// Records the run gained.
    pub gained: usize,
}

/// Decodes bytes of file `file` (at `path`) into `run` with `decoder` (made from the first bytes
/// when there is none yet); returns the records gained.
fn decode_into(
    run: &mut Run,
    decoder: &mut Option<Decoder>,
    path: &Path,
    file: usize,
    offset: u64,
    bytes: &[u8],
) -> usize {
    let before = run.store.records();
    if decoder.is_none() {
        *decoder = Decoder::for_file(path, bytes, run);
        if decoder.is_none() {
            // The source said it is not text, but no reader knows it: said once, kept visible.
            if run.store.skipped.count == 0 {
                let reason = "a file in a format tmon does not read: not followed";
                run.store.skipped.push(0, reason, &bytes[..bytes.len().min(64)]);
            }
            return 0;
        }
    }
    if let Some(dec) = decoder.as_mut() {
        dec.bytes(run, file, path, offset, bytes, false);
    }
    run.store.records().saturating_sub(before)
}

/// A decoder's last step is fed once its files have been quiet this long (see
/// [`LiveFile::tick`]): a writer flushes a step's events together, so a step cut by the end of a
/// read is finished by the next read well within it.
pub const QUIET: Duration = Duration::from_millis(30);

/// A file's history read by someone else than the source (the monitor's loader): everything up
/// to the end of the last complete line when the file was opened (a file in another format: up
/// to its size then, with the files of its run); the source follows from there.
#[derive(Debug)]
pub struct History {
    pub run: Run,
    /// Lines read: the source numbers the lines after the history from 1; they are moved past it.
    pub lines: u64,
    /// Why the history stopped short of its end (a read error), if it did.
    pub error: Option<String>,
    /// For a file in another format (TensorBoard events, a W&B run file, CSV): the decoder that
    /// read the history, holding what its last record lacks; it goes on with the bytes the source
    /// reads after it.
    pub decoder: Option<Decoder>,
}

impl History {
    /// The history of a JSON Lines file: `lines` read into `run`.
    pub fn lines(run: Run, lines: u64, error: Option<String>) -> History {
        History { run, lines, error, decoder: None }
    }
}

/// What one source event did to the live set.
#[derive(Clone, Debug, PartialEq)]
pub enum Fed {
    /// The event is about no file the set knows.
    Nothing,
    /// A file was found. `replaced`: an entry set up for another path under its number (a guess
    /// made before the source reported) started over.
    Found { file: usize, replaced: bool },
    /// Held until the file's history is handed over ([`LiveFile::take_history`]).
    Held { file: usize },
    /// Lines applied: `bytes` of them, giving `gained` records.
    Lines { file: usize, bytes: usize, gained: usize },
    /// A whole document applied, giving `gained` new records.
    Document { file: usize, gained: usize },
    /// The file started over.
    Restarted { file: usize },
    /// The file's state changed.
    State { file: usize, state: FileState },
    /// The file cannot be read, for this reason.
    Unreadable { file: usize, reason: String },
    /// `bytes` to decode went to a [`DecodeJob`] with the run ([`LiveFile::take_job`]).
    Away { file: usize, bytes: usize },
}

impl Fed {
    /// Records the run gained.
    pub fn gained(&self) -> usize {
        match self {
            Fed::Lines { gained, .. } | Fed::Document { gained, .. } => *gained,
            _ => 0,
        }
    }
}

impl LiveFile {
    /// A file not seen yet, to be read into `run`.
    pub fn new(run: Run) -> Self {
        LiveFile {
            run,
            state: FileState::Waiting,
            restarts: 0,
            problem: None,
            line_base: 0,
            held: None,
            decoder: None,
            paths: Vec::new(),
            member_of: None,
            unflushed: None,
            away: false,
            outbox: None,
            parked: 0,
        }
    }

    /// The path of file number `file` when this entry reads it (the run's path otherwise).
    fn path_of(&self, file: usize) -> &Path {
        self.paths.iter().find(|(f, _)| *f == file).map_or(self.run.path.as_path(), |(_, p)| p.as_path())
    }

    /// Decodes bytes of a file in another format; returns the records gained.
    fn decode(&mut self, file: usize, offset: u64, bytes: &[u8]) -> usize {
        let path = self.path_of(file).to_owned();
        decode_into(&mut self.run, &mut self.decoder, &path, file, offset, bytes)
    }

    /// Whether the run is away with a [`DecodeJob`].
    pub fn away(&self) -> bool {
        self.away
    }

    /// The job the last event made, to run on another thread and hand back with
    /// [`take_back`](Self::take_back).
    pub fn take_job(&mut self) -> Option<DecodeJob> {
        self.outbox.take()
    }

    /// Bytes away or held while away (see [`LiveFile::parked`]).
    pub fn parked(&self) -> usize {
        self.parked
    }

    /// The run goes with `bytes` to a [`DecodeJob`]; a blank stand-in (its name and config kept)
    /// stays until it is back.
    fn send_away(&mut self, file: usize, offset: u64, bytes: Vec<u8>) {
        let path = self.path_of(file).to_owned();
        let mut blank = Run::new(self.run.path.clone(), Default::default(), Default::default());
        blank.info = self.run.info.clone();
        let run = std::mem::replace(&mut self.run, blank);
        self.parked += bytes.len();
        self.outbox =
            Some(DecodeJob { run, decoder: self.decoder.take(), file, path, offset, bytes, compact: false });
        self.away = true;
        self.unflushed = None;
        self.held.get_or_insert_with(Vec::new);
    }

    /// A [`DecodeJob`] of this file is done: the run and decoder are back. Returns the records
    /// gained, the bytes decoded, and the events held meanwhile, which the caller applies now, in
    /// order (the next big piece among them goes away again).
    pub fn take_back(&mut self, back: Decoded, now: Instant) -> (usize, usize, Vec<SourceEvent>) {
        if !self.away {
            return (0, 0, Vec::new());
        }
        let Decoded { run, decoder, bytes, gained } = back;
        self.run = run;
        self.decoder = decoder;
        self.away = false;
        self.parked = 0;
        self.unflushed = self.decoder.is_some().then_some(now);
        self.arrived(gained, now);
        self.seen();
        (gained, bytes, self.held.take().unwrap_or_default())
    }

    /// Applies one event about this file at `now` (its lines renumbered past a history handed
    /// over; held while one is awaited).
    pub fn apply(&mut self, ev: SourceEvent, now: Instant) -> Fed {
        self.apply_offloading(ev, now, None)
    }

    /// As [`apply`](Self::apply), but bytes of at least `over` (when given) go to a
    /// [`DecodeJob`] with the run instead of being decoded here ([`Fed::Away`]).
    pub fn apply_offloading(&mut self, ev: SourceEvent, now: Instant, over: Option<usize>) -> Fed {
        let file = ev.file();
        if let Some(held) = self.held.as_mut() {
            // While the run is away, its state waits with the rest (the stand-in must not take it).
            if self.away || !matches!(ev, SourceEvent::State { .. } | SourceEvent::Unreadable { .. }) {
                if self.away {
                    self.parked += payload(&ev);
                }
                held.push(ev);
                return Fed::Held { file };
            }
        }
        let ev = match ev {
            SourceEvent::Bytes { file, offset, bytes } if over.is_some_and(|n| bytes.len() >= n) => {
                let n = bytes.len();
                self.send_away(file, offset, bytes);
                return Fed::Away { file, bytes: n };
            }
            ev => ev,
        };
        if let SourceEvent::Bytes { file, offset, bytes } = &ev {
            let gained = self.decode(*file, *offset, bytes);
            self.unflushed = self.decoder.is_some().then_some(now);
            self.arrived(gained, now);
            self.seen();
            return Fed::Lines { file: *file, bytes: bytes.len(), gained };
        }
        if let SourceEvent::Changed { file } = &ev {
            // A database changed: what is new in it comes as the bytes of its runs (see
            // `formats::mlflow::read_watched`), this entry's own run among them.
            self.seen();
            return Fed::State { file: *file, state: self.state };
        }
        if let (SourceEvent::Restarted { file, reason }, Some(dec)) = (&ev, self.decoder.as_mut()) {
            // A CSV rewritten whole with a new column (as Lightning does) is no restart: its rows
            // are read again and not taken twice.
            if dec.restarted(&mut self.run, *file) {
                self.restarts += 1;
                self.run.note_restart(reason);
                dec.declare_again(&mut self.run);
            }
            return Fed::Restarted { file: *file };
        }
        let ev = match ev {
            SourceEvent::Lines { file, first_line, bytes } => {
                SourceEvent::Lines { file, first_line: first_line + self.line_base, bytes }
            }
            SourceEvent::Restarted { .. } => {
                self.line_base = 0;
                self.restarts += 1;
                ev
            }
            ev => ev,
        };
        let gained = self.run.apply(&ev);
        self.arrived(gained, now);
        match ev {
            SourceEvent::State { state, .. } => {
                self.state = state;
                self.problem = None;
                Fed::State { file, state }
            }
            SourceEvent::Unreadable { reason, .. } => {
                self.state = FileState::Unreadable;
                self.problem = Some(reason.clone());
                Fed::Unreadable { file, reason }
            }
            SourceEvent::Lines { bytes, .. } => {
                self.seen();
                Fed::Lines { file, bytes: bytes.len(), gained }
            }
            SourceEvent::Document { .. } => {
                self.seen();
                Fed::Document { file, gained }
            }
            SourceEvent::Restarted { .. } => Fed::Restarted { file },
            SourceEvent::Found { .. } | SourceEvent::Changed { .. } => Fed::Nothing,
            // Handled above.
            SourceEvent::Bytes { .. } => Fed::Nothing,
        }
    }

    /// Data means the file is there, whatever state was last reported.
    fn seen(&mut self) {
        if self.state == FileState::Waiting {
            self.state = FileState::Live;
        }
    }

    /// `n` records reached the run at `now`: the live stall's clock.
    fn arrived(&mut self, n: usize, now: Instant) -> bool {
        let step_name = self.run.ingest.step_key().unwrap_or("");
        self.run.analyzer.records_arrived(n, now, step_name)
    }

    /// Feeds the last step a decoder holds now, quiet or not (the end of a history: what it
    /// holds is not news). True when a record was fed.
    pub fn settle(&mut self, now: Instant) -> bool {
        self.feed_held(now, true)
    }

    /// When the last step a decoder holds is due to be fed ([`QUIET`] after its last bytes).
    pub fn held_until(&self) -> Option<Instant> {
        self.unflushed.filter(|_| self.decoder.is_some()).map(|t| t + QUIET)
    }

    fn feed_held(&mut self, now: Instant, always: bool) -> bool {
        let mut fed = false;
        if let (Some(t), Some(dec)) = (self.unflushed, self.decoder.as_mut()) {
            if always || now.saturating_duration_since(t) >= QUIET {
                self.unflushed = None;
                let before = self.run.store.records();
                dec.flush(&mut self.run);
                let gained = self.run.store.records().saturating_sub(before);
                if gained > 0 {
                    self.arrived(gained, now);
                    fed = true;
                }
            }
        }
        fed
    }

    /// The wall clock says `now`: feeds the last step a decoder holds once its files have been
    /// quiet for [`QUIET`]; true when the analyzer raised a live stall or a record was fed.
    pub fn tick(&mut self, now: Instant) -> bool {
        let fed = self.feed_held(now, false);
        let step_name = self.run.ingest.step_key().unwrap_or("");
        self.run.analyzer.check_live_stall(now, step_name) || fed
    }

    /// Someone else reads the file's history (call before the source starts): the source's
    /// events about the file, but for its state, wait until [`take_history`](Self::take_history).
    pub fn await_history(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// Whether a history is awaited.
    pub fn awaits_history(&self) -> bool {
        self.held.is_some() && !self.away
    }

    /// The awaited history: it becomes the file's run (a read error is noted as a skipped line
    /// where the reading stopped), and the lines the source reads next are numbered after it.
    /// Returns the events held meanwhile, which the caller applies now, in order.
    pub fn take_history(&mut self, history: History, now: Instant) -> Vec<SourceEvent> {
        let held = self.held.take().unwrap_or_default();
        let History { mut run, lines, error, decoder } = history;
        if let Some(e) = error {
            let reason =
                format!("reading the history stopped here ({e}): the lines up to the end are missing");
            run.store.skipped.push(lines + 1, reason, b"");
        }
        let records = run.store.records();
        self.run = run;
        if decoder.is_some() {
            self.decoder = decoder;
            self.unflushed = None;
        }
        self.arrived(records, now);
        self.line_base = lines;
        held
    }
}

/// An entry of a live set: a followed file, and what its consumer keeps beside it.
pub trait Entry {
    fn live(&self) -> &LiveFile;
    fn live_mut(&mut self) -> &mut LiveFile;
    /// The run read into this entry is named by `path` (a TensorBoard run by its folder, as
    /// `tmon check` names it), not by the file found first.
    fn name_run(&mut self, _path: &Path) {}
    /// With offloading on ([`LiveSet::set_offload`]): bytes of at least this many go to a
    /// [`DecodeJob`] on another thread rather than being decoded by the caller.
    fn offload_over(&self) -> usize {
        usize::MAX
    }
}

impl Entry for LiveFile {
    fn live(&self) -> &LiveFile {
        self
    }
    fn live_mut(&mut self) -> &mut LiveFile {
        self
    }
}

/// The followed files, numbered as the source numbers them (see [`SourceEvent::Found`]). Reads as
/// a slice of its entries. Files that make one run ([`crate::formats::group`]: the event files of
/// one TensorBoard folder) are read into the entry of the first one found; the others' entries
/// stay empty, marked [`LiveFile::member_of`].
#[derive(Debug)]
pub struct LiveSet<T> {
    files: Vec<T>,
    /// The entry reading each group of files, by the group's key.
    groups: std::collections::HashMap<std::path::PathBuf, usize>,
    /// Big pieces to decode go to [`DecodeJob`]s (see [`LiveSet::set_offload`]).
    offload: bool,
}

impl<T> Default for LiveSet<T> {
    fn default() -> Self {
        LiveSet { files: Vec::new(), groups: Default::default(), offload: false }
    }
}

impl<T> From<Vec<T>> for LiveSet<T> {
    fn from(files: Vec<T>) -> Self {
        LiveSet { files, groups: Default::default(), offload: false }
    }
}

impl<T> Deref for LiveSet<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.files
    }
}

impl<T> DerefMut for LiveSet<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.files
    }
}

impl<'a, T> IntoIterator for &'a LiveSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.files.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut LiveSet<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.files.iter_mut()
    }
}

impl<T: Entry> LiveSet<T> {
    /// Off by default. On (the monitor): bytes of a file in another format at least as many as
    /// its entry's [`Entry::offload_over`] are not decoded by [`apply`](Self::apply) but go with
    /// the run to a [`DecodeJob`] ([`Fed::Away`], [`LiveFile::take_job`]); the entry holds its
    /// events until [`LiveFile::take_back`]. `check --follow` decodes in its loop: nothing there
    /// answers keys.
    pub fn set_offload(&mut self, on: bool) {
        self.offload = on;
    }

    /// Bytes away with decode jobs or held while they are (see [`LiveFile::parked`]).
    pub fn parked(&self) -> usize {
        if !self.offload {
            return 0;
        }
        self.files.iter().map(|e| e.live().parked).sum()
    }

    /// Applies one event at `now`. A file found gets an entry made by `new` from its path (gaps in
    /// the numbering get placeholders with an empty path, until found).
    pub fn apply(&mut self, ev: SourceEvent, now: Instant, mut new: impl FnMut(&Path) -> T) -> Fed {
        if let SourceEvent::Found { file, path } = ev {
            while self.files.len() < file {
                self.files.push(new(Path::new("")));
            }
            let replaced = if file == self.files.len() {
                self.files.push(new(&path));
                false
            } else {
                let replaced = self.files[file].live().run.path != path;
                if replaced {
                    self.files[file] = new(&path);
                }
                replaced
            };
            self.join_group(file, path);
            return Fed::Found { file, replaced };
        }
        let file = ev.file();
        // A run's bytes and restarts go to the entry that reads it; a file's state stays its own.
        let to = match ev {
            SourceEvent::Bytes { .. } | SourceEvent::Restarted { .. } => {
                self.files.get(file).and_then(|e| e.live().member_of).unwrap_or(file)
            }
            _ => file,
        };
        let offload = self.offload;
        let fed = match self.files.get_mut(to) {
            Some(e) => {
                let over = offload.then(|| e.offload_over());
                e.live_mut().apply_offloading(ev, now, over)
            }
            None => Fed::Nothing,
        };
        match fed {
            Fed::Lines { bytes, gained, .. } if to != file => Fed::Lines { file: to, bytes, gained },
            Fed::Away { bytes, .. } if to != file => Fed::Away { file: to, bytes },
            Fed::Restarted { .. } if to != file => Fed::Restarted { file: to },
            fed => fed,
        }
    }

    /// File `file`, found at `path`, reads into its own entry or into the entry of its run.
    fn join_group(&mut self, file: usize, path: PathBuf) {
        self.files[file].live_mut().member_of = None;
        let group = crate::formats::group(&path);
        {
            let own = &mut self.files[file].live_mut().paths;
            own.retain(|(f, _)| *f != file);
            own.push((file, path.clone()));
        }
        let Some(group) = group else { return };
        let lead = *self.groups.entry(group.key).or_insert(file);
        if lead == file {
            self.files[file].name_run(&group.run_path);
        } else if lead < self.files.len() {
            self.files[file].live_mut().member_of = Some(lead);
            let paths = &mut self.files[lead].live_mut().paths;
            paths.retain(|(f, _)| *f != file);
            paths.push((file, path));
        }
    }

    /// The end of a history read through the source (`check --follow` before it follows): the
    /// last steps the decoders hold are fed now, with the history (see [`LiveFile::settle`]).
    pub fn settle(&mut self, now: Instant) {
        for e in &mut self.files {
            e.live_mut().settle(now);
        }
    }

    /// The earliest time a decoder's held step is due ([`LiveFile::held_until`]): a loop that
    /// wakes then and calls [`feed_held`](Self::feed_held) shows a paused writer's last step at
    /// once, not at its next clock tick.
    pub fn held_until(&self) -> Option<Instant> {
        self.files.iter().filter_map(|e| e.live().held_until()).min()
    }

    /// Feeds the held steps that are due at `now`; returns the entries that gained records.
    pub fn feed_held(&mut self, now: Instant) -> Vec<usize> {
        let mut fed = Vec::new();
        for (i, e) in self.files.iter_mut().enumerate() {
            if e.live_mut().feed_held(now, false) {
                fed.push(i);
            }
        }
        fed
    }

    /// The clock of the wall-clock stall (call about once a second). True when a flag was raised.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut raised = false;
        for e in &mut self.files {
            raised |= e.live_mut().tick(now);
        }
        raised
    }
}

/// The source options of a live set: `--poll MS` (`None`: notifications plus the safety poll),
/// the files in other formats than JSON read as bytes for their decoders
/// ([`crate::formats::framing`]), and an MLflow database read by SQLite on the source's thread,
/// one stream of news per MLflow run ([`crate::formats::mlflow::read_watched`]): the database's
/// own entry reads its first run, each other run is found as `mlflow.db#<run id>`.
pub fn source_options(poll: Option<Duration>) -> source::SourceOptions {
    let mut opts = source::SourceOptions::with_poll(poll);
    opts.tail.classify = Some(crate::formats::framing);
    opts.tail.watch_read = Some(crate::formats::mlflow::read_watched);
    opts
}

/// Bytes in the channel between the source thread and the loop.
#[derive(Debug, Default)]
struct Gate {
    bytes: AtomicUsize,
    /// Bytes taken by the loop but not decoded yet (away with decode jobs, or held meanwhile).
    parked: AtomicUsize,
    closed: AtomicBool,
}

fn payload(ev: &SourceEvent) -> usize {
    match ev {
        SourceEvent::Lines { bytes, .. }
        | SourceEvent::Document { bytes, .. }
        | SourceEvent::Bytes { bytes, .. } => bytes.len(),
        _ => 0,
    }
}

/// The count of bytes a [`Feed`] has sent and its loop not taken yet. Clones share it: a loop
/// that starts taking events before it holds the feed (the monitor's, whose feed is started on
/// another thread) keeps a clone made before the feed was started.
#[derive(Clone, Debug, Default)]
pub struct InFlight(Arc<Gate>);

impl InFlight {
    /// The loop took `ev` from the channel: its bytes no longer count as in flight.
    pub fn taken(&self, ev: &SourceEvent) {
        let n = payload(ev);
        if n > 0 {
            self.0.bytes.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Bytes sent and not taken yet.
    pub fn bytes(&self) -> usize {
        self.0.bytes.load(Ordering::Acquire)
    }

    /// Bytes the loop took but has not decoded yet ([`LiveSet::parked`]): the source waits on
    /// them as on the bytes in flight.
    pub fn set_parked(&self, n: usize) {
        self.0.parked.store(n, Ordering::Release);
    }
}

/// The source layer's thread following the paths of a live set, and the bound on the bytes it
/// has sent that the loop has not taken. Dropping it stops the thread.
#[derive(Debug)]
pub struct Feed {
    gate: InFlight,
    /// Dropped after the gate is opened (the source may be waiting on it).
    handle: Option<SourceHandle>,
}

impl Feed {
    /// Starts following `sources` (already polled, or not) on the source layer's thread; `send`
    /// hands each event to the loop and returns false once the loop is gone. The thread waits
    /// while more than [`IN_FLIGHT_MAX`] bytes are sent and not [`taken`](Self::taken).
    pub fn start<F>(sources: Sources, send: F) -> std::io::Result<Feed>
    where
        F: FnMut(SourceEvent) -> bool + Send + 'static,
    {
        Feed::start_counted(sources, InFlight::default(), send)
    }

    /// As [`start`](Self::start), counting the bytes in flight in `gate` (which the loop holds).
    pub fn start_counted<F>(sources: Sources, gate: InFlight, mut send: F) -> std::io::Result<Feed>
    where
        F: FnMut(SourceEvent) -> bool + Send + 'static,
    {
        let source_gate = gate.clone();
        let handle = source::spawn_sources(sources, move |ev| {
            let n = payload(&ev);
            if n > 0 {
                let g = &source_gate.0;
                // Wait while the loop is behind (it subtracts what it takes).
                while g.bytes.load(Ordering::Acquire) + g.parked.load(Ordering::Acquire) > IN_FLIGHT_MAX
                    && !g.closed.load(Ordering::Acquire)
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                g.bytes.fetch_add(n, Ordering::AcqRel);
            }
            send(ev)
        })?;
        Ok(Feed { gate, handle: Some(handle) })
    }

    /// The loop took `ev` from the channel: its bytes no longer count as in flight.
    pub fn taken(&self, ev: &SourceEvent) {
        self.gate.taken(ev);
    }

    /// Bytes sent and not taken yet.
    pub fn in_flight(&self) -> usize {
        self.gate.bytes()
    }

    /// Why file notifications could not be used, if they could not (the poll alone then runs).
    pub fn notice(&self) -> Option<String> {
        self.handle.as_ref().and_then(SourceHandle::notice)
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        // The source may be waiting on the gate: let it go before joining it.
        self.gate.0.closed.store(true, Ordering::Release);
        drop(self.handle.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FlagKind;
    use crate::source::SourceOptions;
    use std::path::PathBuf;

    fn lines(file: usize, first_line: u64, text: &str) -> SourceEvent {
        SourceEvent::Lines { file, first_line, bytes: text.as_bytes().to_vec() }
    }

    fn entry(path: &Path) -> LiveFile {
        LiveFile::new(Run::new(path, Default::default(), Default::default()))
    }

    #[test]
    fn events_reach_the_runs_of_their_files() {
        let t0 = Instant::now();
        let mut set: LiveSet<LiveFile> = LiveSet::default();
        let found = SourceEvent::Found { file: 1, path: PathBuf::from("b.jsonl") };
        assert_eq!(set.apply(found, t0, entry), Fed::Found { file: 1, replaced: false });
        assert_eq!(set.len(), 2, "a placeholder for file 0");
        let found = SourceEvent::Found { file: 0, path: PathBuf::from("a.jsonl") };
        assert_eq!(set.apply(found, t0, entry), Fed::Found { file: 0, replaced: true });
        let fed =
            set.apply(lines(1, 1, "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n"), t0, entry);
        assert_eq!(fed, Fed::Lines { file: 1, bytes: 46, gained: 2 });
        assert_eq!(set[1].state, FileState::Live, "data means the file is there");
        assert_eq!(set[1].run.store.records(), 2);
        let fed = set.apply(SourceEvent::Restarted { file: 1, reason: "truncated".into() }, t0, entry);
        assert_eq!(fed, Fed::Restarted { file: 1 });
        assert_eq!(set[1].restarts, 1);
        let restart = set[1].run.flags().last().expect("a restart flag");
        assert_eq!((restart.kind, restart.step), (FlagKind::Restart, 2.0));
        assert_eq!(set.apply(lines(7, 1, "{}\n"), t0, entry), Fed::Nothing);
    }

    #[test]
    fn the_clock_raises_the_stall_of_a_silent_file() {
        let t0 = Instant::now();
        let mut set: LiveSet<LiveFile> = LiveSet::default();
        set.apply(SourceEvent::Found { file: 0, path: PathBuf::from("a.jsonl") }, t0, entry);
        set.apply(lines(0, 1, "{\"step\": 7, \"loss\": 1}\n"), t0, entry);
        assert!(!set.tick(t0 + Duration::from_secs(299)));
        assert!(set.tick(t0 + Duration::from_secs(300)));
        let flag = set[0].run.flags().last().expect("a stall");
        assert_eq!((flag.kind, flag.step, flag.metric.as_str()), (FlagKind::Stall, 7.0, "step"));
    }

    #[test]
    fn a_history_handed_over_comes_first_and_the_held_events_follow_it() {
        let t0 = Instant::now();
        let mut f = entry(Path::new("a.jsonl"));
        f.await_history();
        assert_eq!(f.apply(lines(0, 1, "{\"step\": 3}\n"), t0), Fed::Held { file: 0 });
        let state = SourceEvent::State { file: 0, state: FileState::Live };
        assert_eq!(f.apply(state, t0), Fed::State { file: 0, state: FileState::Live }, "states pass");
        let mut run = Run::new("a.jsonl", Default::default(), Default::default());
        run.push_lines(1, b"{\"step\": 1}\n{\"step\": 2}\n");
        let held = f.take_history(History::lines(run, 2, None), t0);
        assert_eq!(held.len(), 1);
        for ev in held {
            f.apply(ev, t0);
        }
        let last = f.run.store.last_record().expect("records");
        assert_eq!((last.step, last.line), (3.0, 3), "numbered after the history");
    }

    #[test]
    fn the_feed_holds_the_source_back_while_the_loop_is_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.jsonl");
        let line = format!("{{\"step\": 1, \"pad\": \"{}\"}}\n", "x".repeat(1000));
        std::fs::write(&path, line.repeat(3 * IN_FLIGHT_MAX / line.len())).expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let sources = Sources::new(std::slice::from_ref(&path), SourceOptions::default());
        let feed = Feed::start(sources, move |ev| tx.send(ev).is_ok()).expect("start");
        // Nothing taken: the source stops a chunk past the bound.
        let t0 = Instant::now();
        let mut last = 0;
        while t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
            let now = feed.in_flight();
            if now > 0 && now == last {
                break;
            }
            last = now;
        }
        let held = feed.in_flight();
        assert!(held > IN_FLIGHT_MAX / 2 && held <= IN_FLIGHT_MAX + (8 << 20), "{held} bytes in flight");
        // Taking everything lets the whole file through.
        let mut bytes = 0;
        while bytes < 3 * IN_FLIGHT_MAX / line.len() * line.len() {
            let ev = rx.recv_timeout(Duration::from_secs(10)).expect("more events");
            feed.taken(&ev);
            bytes += payload(&ev);
        }
        drop(feed);
    }
}
