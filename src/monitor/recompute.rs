//! The worker that builds a view change's columns away from the loop (see `app::recompute`): one
//! thread, fed [`ColumnsJob`]s, answering with [`Event::Prepared`]. Only the newest job matters:
//! the jobs queued behind it are skipped, and a job that a newer request made useless stops
//! between series (the loop's request number is shared as an atomic).

use crate::chart::ColumnsJob;
use crate::event::Event;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

/// The loop's handle on the worker.
pub struct Worker {
    jobs: Sender<(u64, ColumnsJob)>,
    latest: Arc<AtomicU64>,
}

impl Worker {
    /// Starts the worker thread; its results go to `events`. It ends when the handle is dropped.
    pub fn start(events: Sender<Event>) -> std::io::Result<Worker> {
        let (jobs, rx) = mpsc::channel::<(u64, ColumnsJob)>();
        let latest = Arc::new(AtomicU64::new(0));
        let newest = latest.clone();
        std::thread::Builder::new().name("tmon-view".into()).spawn(move || {
            while let Ok(mut job) = rx.recv() {
                // Only the newest job queued is worth building.
                while let Ok(newer) = rx.try_recv() {
                    job = newer;
                }
                let (seq, job) = job;
                let stale = || newest.load(Ordering::Relaxed) != seq;
                if stale() {
                    continue;
                }
                let Some(columns) = job.run(stale) else { continue };
                if events.send(Event::Prepared { seq, columns: Box::new(columns) }).is_err() {
                    return;
                }
            }
        })?;
        Ok(Worker { jobs, latest })
    }

    /// The newest request's number (see `app::recompute::Recompute::latest`): a job with another
    /// number stops.
    pub fn set_latest(&self, seq: u64) {
        self.latest.store(seq, Ordering::Relaxed);
    }

    /// Hands job `seq` to the worker (the newest request).
    pub fn submit(&self, seq: u64, job: ColumnsJob) {
        self.set_latest(seq);
        let _ = self.jobs.send((seq, job));
    }
}
