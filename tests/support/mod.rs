//! What the test binaries share. Each binary (a directory under tests/ with a `main.rs`) includes
//! it with `#[path = "../support/mod.rs"] mod support;`.
#![allow(dead_code)]

pub mod cli;
pub mod flatten;
pub mod tail;
pub mod term;
pub mod ui;
