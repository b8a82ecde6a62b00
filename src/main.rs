//! The `tmon` binary: parses the command line, calls the library, and maps results to exit
//! statuses (0 fine, 1 a flag reached `--fail-on`, 2 a usage error or an unreadable path, 3 the
//! terminal could not be used). It also owns the process-wide settings the library must not
//! change: glibc's allocator tuning for the monitor, and the soft limit of open files raised to the
//! hard one.

use clap::{CommandFactory, Parser};
use std::io::{self, Write};
use std::process::ExitCode;
use tmon::check::{self, CheckError};
use tmon::cli::{CheckArgs, Cli, Command, DemoArgs, ExportArgs, ManArgs, ReadArgs, Shell};
use tmon::text::sanitize;

/// The status for usage errors and unreadable paths (clap uses it for its own errors too).
const USAGE: u8 = 2;
/// The status when the terminal cannot be used (none, or it failed): not the user's usage.
const TERMINAL: u8 = 3;

fn main() -> ExitCode {
    raise_open_files_limit();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => check(&args, &cli.read),
        Some(Command::Completions(c)) => completions(c.shell),
        Some(Command::Man(m)) => man(&m),
        Some(Command::Demo(d)) => demo(&d, &cli.read),
        Some(Command::Export(e)) => export(&e, &cli.read),
        None if cli.paths.is_empty() => {
            // `tmon` alone: show how to use it rather than open an empty monitor.
            let _ = Cli::command().print_help();
            ExitCode::from(USAGE)
        }
        None => monitor(&cli.paths, (cli.ascii, cli.no_mouse), cli.poll, cli.max_output, &cli.read),
    }
}

/// `tmon PATH...`: the live monitor.
/// `look` is `(--ascii, --no-mouse)`.
/// `max_output` is `--max-output`, in kilobytes a second.
fn monitor(
    paths: &[std::path::PathBuf],
    look: (bool, bool),
    poll: Option<u64>,
    max_output: u64,
    read: &ReadArgs,
) -> ExitCode {
    let (ascii, no_mouse) = look;
    let flags = match read.flag_config() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e.to_string()));
            return ExitCode::from(USAGE);
        }
    };
    let opts = tmon::MonitorOptions {
        ascii,
        no_mouse,
        poll: poll.map(std::time::Duration::from_millis),
        max_output: max_output.saturating_mul(1000),
        // The monitor keeps every run's columns for the whole session: encoded compactly.
        ingest: tmon::ingest::IngestOptions { compact: true, ..read.ingest_options() },
        flags,
        after_load: Some(trim_heap),
        ..Default::default()
    };
    // A quoted glob (`tmon 'outputs/*/metrics.jsonl'`) is expanded here, as `check` does.
    let paths = match tmon::source::discover::expand_patterns(paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e));
            return ExitCode::from(USAGE);
        }
    };
    keep_big_buffers_out_of_the_heap();
    match tmon::run_monitor(&paths, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ tmon::Error::Terminal(_)) => {
            eprintln!("tmon: {e}");
            ExitCode::from(TERMINAL)
        }
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e.to_string()));
            ExitCode::from(USAGE)
        }
    }
}

/// Raises the soft limit of open files to the hard one: a sweep of 2,000 trial folders is
/// followed under the usual soft limit of 1,024 too (the source layer keeps only about half the
/// limit open and reopens the rest on change), but more room means fewer reopens. Set here, in the
/// binary: it holds for the whole process, and the library only reads it.
fn raise_open_files_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit and setrlimit only read and write the struct we own.
    unsafe {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            // Some systems refuse an infinite soft limit for files: a high finite one then.
            let want = if r.rlim_max == libc::RLIM_INFINITY { 1 << 20 } else { r.rlim_max };
            r.rlim_cur = want.max(r.rlim_cur);
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// Hands the memory freed after a history load back to the system (the monitor's
/// `after_load`). The history is built on the loader's threads (parse buffers, the preview) and
/// handed to the monitor's; glibc keeps what those threads freed in their arenas, resident memory
/// that nothing uses.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The monitor's history arrives in batches of megabytes. glibc raises its mmap threshold after
/// the first such buffer is freed, so later ones land in the heap and fragment it: the monitor's
/// peak memory grew by a fifth (measured with `benches/monitor/run.sh open`). A fixed threshold
/// keeps them mapped, and returned to the system when freed. Set here, in the binary: it holds
/// for the whole process.
fn keep_big_buffers_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter, under glibc's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn check(args: &CheckArgs, read: &ReadArgs) -> ExitCode {
    if args.follow {
        return follow(args, read);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    match check::run(args, read, &mut out, &mut err) {
        Ok(outcome) => ExitCode::from(outcome.code() as u8),
        // The reader went away (`tmon check x | head`): stop quietly, as a killed `cat` would.
        Err(CheckError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            let _ = writeln!(err, "tmon: {}", sanitize(&e.to_string()));
            ExitCode::from(USAGE)
        }
    }
}

/// `tmon export`: a chart as an image, or its values as CSV. Every failure is status 2 (a usage
/// error, a path that cannot be read, an output that cannot be written).
fn export(args: &ExportArgs, read: &ReadArgs) -> ExitCode {
    let mut err = io::stderr();
    match tmon::export::command::run(args, read, &mut err) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "tmon: {}", sanitize(&e.to_string()));
            ExitCode::from(USAGE)
        }
    }
}

fn completions(shell: Shell) -> ExitCode {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tmon", &mut buf);
    write_stdout(&buf)
}

fn man(args: &ManArgs) -> ExitCode {
    let mut root = Cli::command();
    // Propagates the global read options into the subcommands' pages.
    root.build();
    let cmd = match &args.command {
        None => root,
        Some(name) => match (root.find_subcommand(name), page_name(name)) {
            (Some(sub), Some(page)) => sub.clone().name(page).version(env!("CARGO_PKG_VERSION")),
            _ => {
                eprintln!("tmon: no manual page for '{}'", sanitize(name));
                return ExitCode::from(USAGE);
            }
        },
    };
    let mut buf = Vec::new();
    if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
        eprintln!("tmon: cannot render the man page: {e}");
        return ExitCode::from(USAGE);
    }
    write_stdout(&buf)
}

/// The page names the root page refers to (clap_mangen lists subcommands as `tmon-NAME(1)`).
fn page_name(sub: &str) -> Option<&'static str> {
    match sub {
        "check" => Some("tmon-check"),
        "completions" => Some("tmon-completions"),
        "export" => Some("tmon-export"),
        _ => None,
    }
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            eprintln!("tmon: cannot write the output: {e}");
            ExitCode::from(USAGE)
        }
    }
}

/// `tmon check --follow`: prints each flag as it fires until Ctrl-C or SIGTERM (status 0), or
/// until its output's reader goes away (status 141, as for `check`).
fn follow(args: &CheckArgs, read: &ReadArgs) -> ExitCode {
    let flags = match read.flag_config() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e.to_string()));
            return ExitCode::from(USAGE);
        }
    };
    let opts = tmon::follow::FollowOptions {
        json: args.json,
        on_flag: args.on_flag.clone(),
        poll: args.poll.map(std::time::Duration::from_millis),
        ingest: read.ingest_options(),
        flags,
        watch_output: stdout_fd(),
        ..Default::default()
    };
    let stop = match tmon::follow::stop_on_signals() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("tmon: cannot install signal handlers: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let paths = match tmon::source::discover::expand_patterns(&args.paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e));
            return ExitCode::from(USAGE);
        }
    };
    let mut out = io::stdout().lock();
    match tmon::follow::follow(&paths, &opts, &mut out, stop) {
        // The reader went away: the status of a process killed by SIGPIPE, as `check` gives.
        Ok(summary) if summary.output_closed => ExitCode::from(141),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tmon: {}", sanitize(&e.to_string()));
            ExitCode::from(USAGE)
        }
    }
}

/// Standard output's file descriptor, for `check --follow` to notice its reader leaving.
fn stdout_fd() -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        Some(io::stdout().as_raw_fd())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// `tmon demo`: a real small training run written at a human pace, watched by the monitor.
fn demo(args: &DemoArgs, read: &ReadArgs) -> ExitCode {
    // Checked before anything is written, with or without the monitor.
    if let Err(e) = read.flag_config() {
        eprintln!("tmon: {e}");
        return ExitCode::from(USAGE);
    }
    if !args.no_ui {
        // Refused before anything is written: the monitor would refuse anyway.
        if let Err(e) = tmon::tui::require_terminal() {
            eprintln!("tmon: {e}");
            return ExitCode::from(TERMINAL);
        }
    }
    let mut log = match tmon::demo::DemoLog::create(args.out.as_deref()) {
        Ok(log) => log,
        Err(e) => {
            let what =
                args.out.as_ref().map_or("a temporary folder".to_owned(), |p| format!("'{}'", p.display()));
            eprintln!("tmon: cannot create {what} for the demo's log: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let path = log.path.clone();
    let opts = tmon::demo::DemoOptions {
        scenario: args.scenario,
        speed: args.speed,
        seed: args.seed,
        ..Default::default()
    };
    if args.no_ui {
        // The log is watched from elsewhere: it outlives this process.
        log.keep();
        eprintln!("tmon demo: writing a {} run to {} (Ctrl-C stops)", args.scenario, path.display());
        eprintln!("watch it from another pane with: tmon {}", path.display());
        let stop = std::sync::atomic::AtomicBool::new(false);
        return match tmon::demo::write_log(&opts, &log, &stop) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tmon: cannot write '{}': {e}", path.display());
                ExitCode::from(USAGE)
            }
        };
    }
    let (stop, writer) = match tmon::demo::spawn_writer(opts, &log) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("tmon: cannot start the demo's writer: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let code = monitor(
        std::slice::from_ref(&path),
        (args.ascii, false),
        None,
        tmon::monitor::pace::DEFAULT_BYTES / 1000,
        read,
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Ok(Err(e)) = writer.join() {
        eprintln!("tmon: the demo could not write '{}': {e}", path.display());
    }
    // Dropping the log removes its temporary folder (a log at `--out` stays).
    drop(log);
    code
}
