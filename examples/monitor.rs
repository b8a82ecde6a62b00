//! Runs the monitor on the files given, with the library's options spelled out (the `tmon`
//! binary parses the same through clap). `--ascii` draws without braille; `--poll MS` polls the
//! files instead of using file notifications.

fn main() {
    let mut opts = tmon::MonitorOptions::default();
    let mut paths = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--ascii" {
            opts.ascii = true;
        } else if a == "--poll" {
            let ms = args.next().and_then(|v| v.to_str().and_then(|v| v.parse::<u64>().ok()));
            match ms {
                Some(ms) if ms > 0 => opts.poll = Some(std::time::Duration::from_millis(ms)),
                _ => {
                    eprintln!("tmon: --poll needs a number of milliseconds > 0");
                    std::process::exit(2);
                }
            }
        } else {
            paths.push(std::path::PathBuf::from(a));
        }
    }
    if let Err(e) = tmon::run_monitor(&paths, opts) {
        eprintln!("tmon: {e}");
        std::process::exit(2);
    }
}
