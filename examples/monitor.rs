//! Runs the monitor on the files given, as `tmon FILE...` will once main.rs calls `run_monitor`.
//! Used by the end-to-end test (tests/e2e_tmux.rs). `--ascii` draws without braille.

fn main() {
    let mut opts = tmon::MonitorOptions::default();
    let mut paths = Vec::new();
    for a in std::env::args_os().skip(1) {
        if a == "--ascii" {
            opts.ascii = true;
        } else {
            paths.push(std::path::PathBuf::from(a));
        }
    }
    if let Err(e) = tmon::run_monitor(&paths, opts) {
        eprintln!("tmon: {e}");
        std::process::exit(2);
    }
}
