//! `tmon` through its binary: `check` on good and bad input, `demo`, `check --follow --set`, and
//! the README's snippets and commands.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod check;
mod compare;
mod demo;
mod export;
mod follow_crash;
mod follow_formats;
mod follow_set;
mod model;
mod readme;
mod reliability;
mod version;
