//! Following files: the synchronous tailer, file operations under a watcher, trust and polling,
//! documents, resuming after the loader, live against batch, and `check --follow`.
//! (The idle-wakeup test is alone in tests/tail_idle.rs: it counts this process's threads.)

#[path = "../support/mod.rs"]
mod support;

mod agree;
mod appended;
mod document;
mod files;
mod follow;
mod formats;
mod offload;
mod ops;
mod resume;
mod signal;
mod tailer;
mod trust;
mod watched;
