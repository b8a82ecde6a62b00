//! The command line, as clap derive structs.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "tmon", version, about = "A terminal training monitor for JSON Lines training logs")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log files or directories to monitor.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options about how logs are read, shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct ReadArgs {
    /// Use this key as the step instead of detecting it.
    #[arg(long, value_name = "KEY", global = true)]
    pub step_key: Option<String>,
    /// Use this key as the clock instead of detecting it.
    #[arg(long, value_name = "KEY", global = true)]
    pub time_key: Option<String>,
    /// Override a flag threshold, e.g. `--set spike.z=8` (see docs/flags.md). Repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", global = true)]
    pub set: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs, print what was found and the flags, and exit with a status for scripts.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Log files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when a flag reaches this severity.
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    pub fail_on: crate::analysis::Severity,
}
