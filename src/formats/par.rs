//! Decoding in parallel, feeding in order: the readers of big files cut what they read into
//! pieces (runs of records), decode the pieces on every core, and feed the decoded records to the
//! run on the calling thread, in the file's order. Records, skipped counts and flags are exactly
//! those of decoding one piece after the other.
//!
//! The calling thread never idles while a piece is waiting to be decoded: when the next piece in
//! order has not been claimed by a helper, it decodes it itself, and while a helper decodes that
//! one, it decodes a later one. Helpers stay at most a few pieces
//! ahead of the feeding, so the decoded pieces held at once are bounded.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The threads a reader may use: the cores the process may run on, asked once (the answer reads
/// the cgroup's files each time, and the monitor asks on every frame).
pub fn threads() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
}

/// Runs `f` on every job, the jobs dealt round `threads` threads (this one included) in their
/// order: given biggest first, each thread gets about the same share. Returns the jobs, in another
/// order. For independent jobs of known size on the monitor's loop, where a pool shared with the
/// loaders could keep the loop waiting behind a loader's piece.
pub fn dealt<T: Send>(jobs: Vec<T>, threads: usize, f: impl Fn(&mut T) + Sync) -> Vec<T> {
    let threads = threads.min(jobs.len());
    if threads < 2 {
        let mut jobs = jobs;
        jobs.iter_mut().for_each(&f);
        return jobs;
    }
    let mut shares: Vec<Vec<T>> = (0..threads).map(|_| Vec::new()).collect();
    for (k, job) in jobs.into_iter().enumerate() {
        shares[k % threads].push(job);
    }
    std::thread::scope(|sc| {
        let (mine, theirs) = shares.split_at_mut(1);
        for share in theirs.iter_mut() {
            let f = &f;
            sc.spawn(move || share.iter_mut().for_each(f));
        }
        mine[0].iter_mut().for_each(&f);
    });
    shares.into_iter().flatten().collect()
}

struct State<T> {
    /// The first piece no thread has claimed.
    next: usize,
    /// Pieces fed so far.
    fed: usize,
    /// Decoded pieces waiting for their turn.
    ready: BTreeMap<usize, T>,
    /// A helper panicked: the caller decodes what is left itself.
    broken: bool,
}

fn lock<T>(m: &Mutex<State<T>>) -> MutexGuard<'_, State<T>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Calls `decode(j)` for every piece `j` in `0..n`, on up to `threads` threads (this one
/// included), and `feed(j, decoded)` on this thread in the order of `j`.
pub fn ordered<T: Send>(
    n: usize,
    threads: usize,
    decode: impl Fn(usize) -> T + Sync,
    mut feed: impl FnMut(usize, T),
) {
    if threads < 2 || n < 2 {
        for j in 0..n {
            feed(j, decode(j));
        }
        return;
    }
    let ahead = 2 * threads + 2;
    let state = Mutex::new(State { next: 0, fed: 0, ready: BTreeMap::new(), broken: false });
    let cv = Condvar::new();
    std::thread::scope(|s| {
        for _ in 1..threads.min(n) {
            s.spawn(|| {
                /// Wakes the caller if the decoder panics, so it never waits for a piece that
                /// will not come.
                struct Guard<'a, T>(&'a Mutex<State<T>>, &'a Condvar);
                impl<T> Drop for Guard<'_, T> {
                    fn drop(&mut self) {
                        if std::thread::panicking() {
                            lock(self.0).broken = true;
                            self.1.notify_all();
                        }
                    }
                }
                let _guard = Guard(&state, &cv);
                loop {
                    let j = {
                        let mut st = lock(&state);
                        loop {
                            if st.next >= n || st.broken {
                                return;
                            }
                            if st.next < st.fed + ahead {
                                break;
                            }
                            st = cv.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                        st.next += 1;
                        st.next - 1
                    };
                    let t = decode(j);
                    lock(&state).ready.insert(j, t);
                    cv.notify_all();
                }
            });
        }
        for j in 0..n {
            let t = {
                let mut st = lock(&state);
                loop {
                    if let Some(t) = st.ready.remove(&j) {
                        break Some(t);
                    }
                    if st.next <= j || st.broken {
                        // Not claimed (or its helper is gone): decoded here.
                        st.next = st.next.max(j + 1);
                        break None;
                    }
                    if st.next < n && st.next < st.fed + ahead {
                        // A helper is decoding piece j: rather than wait, decode a later one.
                        let later = st.next;
                        st.next += 1;
                        drop(st);
                        let t = decode(later);
                        st = lock(&state);
                        st.ready.insert(later, t);
                        continue;
                    }
                    st = cv.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            let t = t.unwrap_or_else(|| decode(j));
            lock(&state).fed = j + 1;
            cv.notify_all();
            feed(j, t);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fed_in_order_whatever_the_threads() {
        for threads in [1, 2, 4, 8] {
            let mut got = Vec::new();
            ordered(100, threads, |j| j * j, |j, x| got.push((j, x)));
            let want: Vec<(usize, usize)> = (0..100).map(|j| (j, j * j)).collect();
            assert_eq!(got, want, "{threads} threads");
        }
        let mut none = 0;
        ordered(0, 4, |j| j, |_, _| none += 1);
        assert_eq!(none, 0);
    }
}
