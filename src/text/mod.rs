//! Text as a person reads it, in one place: numbers, steps, durations and counts, fitting text to
//! a width, and the one gate between a log's strings and the terminal.
//!
//! **Numbers** ([`value`], [`value_prose`], [`value_table`], all [`value_sig`]): one notation,
//! with the number of significant digits chosen by where the number is read.
//! - 3 digits, [`value`]: a cell of the monitor (metric list, chart titles, header, axis labels,
//!   which add digits only where ticks would otherwise read the same: [`axis_labels`]).
//! - 4 digits, [`value_prose`]: inside a sentence (flag messages).
//! - 5 digits, [`value_table`]: `tmon check`'s table, where final values are compared by eye.
//!
//! A number is written plainly while its integer part fits in those digits and it is at least
//! 0.001 (`0.0312`, `12.3`, `1234.6`), with an SI suffix above that up to 10^15 (`2.31k`, `1.5M`,
//! `7T`; a suffix rather than `123000`, which would claim digits we do not show), and in
//! exponent form outside (`1.2e-4`, `-3.21e20`). Rounding happens once, so `999.96` at three
//! digits is `1k`, not `1000`. Trailing zeros are dropped.
//!
//! **Non-finite values** are spelled as the logs and Python spell them, everywhere a person reads
//! them: `NaN`, `Infinity`, `-Infinity` (JSON output writes them as those strings too).
//!
//! **Steps** ([`step`]): whole steps in full (`123456`), fractional ones (epochs) with up to
//! three decimals (`1.5`), tiny or huge ones as a 3-digit value.
//!
//! **Durations** ([`duration`]): the two largest units, a zero second unit left out: `250ms`,
//! `2.5s`, `45s`, `3m12s`, `12m`, `2h05m`, `1d03h`.
//!
//! **Counts** ([`count`]): digits grouped by thousands, `1,048,576`. **Ratios** ([`times`]):
//! `3.2x`, `4000x`.
//!
//! **Width** ([`width`], [`fit`], [`fit_left`], [`elide_middle`]): measured in terminal cells
//! with `unicode-width`, as ratatui measures them, so a CJK name takes the room it really takes.
//!
//! **Names** of enums are derived (strum, clap's `ValueEnum`); [`parse_name`] reads one back.
//!
//! **The sanitiser** ([`sanitize`]) is the one gate to the terminal: every string that comes from
//! a log (metric names, keys, skipped lines, paths, flag messages quoting them) goes through it on
//! every path to a screen. JSON output goes through [`to_json_writer`] / [`to_json_string`],
//! which escape the same characters as `\uXXXX`.

mod fit;
mod json;
mod names;
mod num;
mod sanitize;

pub use fit::{elide_middle, fit, fit_left, pad, width, wrap};
pub use json::{to_json_string, to_json_writer, SafeJson};
pub use names::parse_name;
pub use num::{
    axis_labels, compact, count, duration, format_distinct, nonfinite, step, times, value, value_prose,
    value_sig, value_table, PROSE_DIGITS, SCREEN_DIGITS, TABLE_DIGITS,
};
pub use sanitize::{is_unsafe, sanitize};
