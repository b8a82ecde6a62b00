//! The `tmon` binary: parses the command line and starts the library.

use clap::Parser;
use tmon::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => {
            let _ = args;
            eprintln!("tmon check: not built yet");
            std::process::exit(2);
        }
        None => {
            eprintln!("tmon: the monitor is not built yet");
            std::process::exit(2);
        }
    }
}
