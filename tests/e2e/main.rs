//! The monitor end to end in real terminals (tmux, GNU screen).

#[path = "../support/mod.rs"]
mod support;

mod budget;
mod compare;
mod export;
mod formats;
mod suspend;
mod terms;
mod tmux;
mod view;
