//! The command line, as clap derive structs, and the conversions from read options to the
//! library's configuration (ingest options, flag thresholds).

use crate::analysis::{FlagConfig, Severity};
use crate::error::Error;
use crate::ingest::IngestOptions;
use clap::{Args, Parser, Subcommand};
/// Shells `tmon completions` knows: clap_complete's own list.
pub use clap_complete::Shell;
use std::path::PathBuf;

/// What `tmon --version` prints after the name: the crate's version and the commit it was built
/// from (set by `build.rs`; "unknown" when built from an archive that does not record it).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TMON_BUILD_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(name = "tmon", version = VERSION, about = "A terminal training monitor for JSON Lines training logs")]
#[command(long_about = "A terminal training monitor for JSON Lines training logs.\n\n\
    `tmon PATH...` opens the monitor on log files or directories; `tmon check PATH...` reads them, \
    prints what it found and the flags, and exits with a status for scripts; `tmon export PATH... \
    --metric REGEX -o FILE.png` draws charts of them (SVG, PNG) or writes their values (CSV).\n\n\
    Exit status: 0 fine; 1 a flag reached `check --fail-on`; 2 a usage error (a number out of \
    range included) or a path that cannot be read; 3 the monitor cannot use the terminal (there is \
    none, standard output is not one, or it failed); 141 `check`'s output was closed (`| head`).\n\n\
    In the monitor, Ctrl-Z suspends (the terminal given back to the shell) and `fg` resumes.")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log files or directories to monitor.
    #[arg(value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// Draw in ASCII only: charts with ASCII dots instead of braille, and frames, markers and
    /// symbols in ASCII too (for fonts or terminals without them; on by itself with TERM=linux).
    #[arg(long)]
    pub ascii: bool,
    /// Leave the mouse to the terminal (for selecting text) instead of taking clicks and the wheel.
    #[arg(long)]
    pub no_mouse: bool,
    /// Poll the files every MS milliseconds instead of waiting for file events (network
    /// filesystems). From 1 to 3600000 (an hour).
    #[arg(long, value_name = "MS", value_parser = poll_parser())]
    pub poll: Option<u64>,
    /// About how many kilobytes a second the screen may send to the terminal while data streams
    /// (a slow SSH link): frames come less often when they are big, never more than a second
    /// behind; keys are answered at once. 0: no limit. From 0 to 1000000.
    #[arg(long, value_name = "KB", default_value_t = crate::monitor::pace::DEFAULT_BYTES / 1000,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub max_output: u64,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options about how logs are read, shared by every command.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// Use this key as the step instead of detecting it.
    #[arg(long, value_name = "KEY", global = true, display_order = 100)]
    pub step_key: Option<String>,
    /// Use this key as the clock instead of detecting it.
    #[arg(long, value_name = "KEY", global = true, display_order = 100)]
    pub time_key: Option<String>,
    /// Override a flag threshold, e.g. `--set spike.z=8` (see docs/flags.md). Repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", global = true, display_order = 100)]
    pub set: Vec<String>,
    /// Most series (metrics) a run may have; the values of further names are counted and said,
    /// not stored.
    #[arg(long, value_name = "N", global = true, display_order = 100,
          default_value_t = crate::ingest::DEFAULT_MAX_SERIES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub max_series: usize,
}

impl Default for ReadArgs {
    fn default() -> Self {
        ReadArgs {
            step_key: None,
            time_key: None,
            set: Vec::new(),
            max_series: crate::ingest::DEFAULT_MAX_SERIES,
        }
    }
}

impl ReadArgs {
    /// The ingest options these arguments ask for.
    pub fn ingest_options(&self) -> IngestOptions {
        IngestOptions {
            step_key: self.step_key.clone(),
            time_key: self.time_key.clone(),
            max_series: self.max_series,
            compact: false,
        }
    }

    /// The flag thresholds: the defaults with every `--set NAME=VALUE` applied in order. A
    /// malformed pair or an unknown name is a usage error.
    pub fn flag_config(&self) -> Result<FlagConfig, Error> {
        let mut cfg = FlagConfig::default();
        for pair in &self.set {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(Error::Usage(format!("--set '{pair}': expected NAME=VALUE, e.g. spike.z=8")));
            };
            cfg.set(name.trim(), value.trim()).map_err(|e| Error::Usage(format!("--set '{pair}': {e}")))?;
        }
        Ok(cfg)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs, print what was found and the flags, and exit with a status for scripts.
    ///
    /// Exit status: 0 when no flag reaches --fail-on, 1 when one does, 2 for a usage error or a
    /// path that cannot be read, 4 when a file has no records (an empty log, a file that is not a
    /// log; said on stderr). When several apply, the highest.
    Check(CheckArgs),
    /// Print a shell completion script, e.g. `tmon completions bash > /etc/bash_completion.d/tmon`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `tmon man > tmon.1 && man ./tmon.1`; `tmon man check` prints
    /// tmon-check(1).
    Man(ManArgs),
    /// Train a small model in-process and watch its log live: see tmon work in ten seconds.
    ///
    /// Real gradient descent on generated data writes a JSON Lines log a few steps a second; the
    /// monitor opens on it. `--no-ui` only writes the log (watch it from a second pane).
    Demo(DemoArgs),
    /// Draw charts of logs' metrics to an SVG or PNG image, or write their values to CSV, for
    /// scripts and papers.
    ///
    /// One chart per metric matching --metric (an eval metric shares its train metric's chart, as
    /// in the monitor); several charts make a grid in one image. Several files draw one line per
    /// run. The output's extension (.svg, .png, .csv) chooses the format. Exit status: 0 written, 2
    /// for a usage error (no metric matches: the metrics are listed), a path that cannot be read,
    /// or an output that cannot be written.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (default: tmon(1) itself).
    #[arg(value_parser = ["check", "completions", "export"])]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Log files or directories (a directory is searched for the log files frameworks write).
    #[arg(required = true, value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// With several runs: order them by this metric's best value (lowest first for losses and
    /// times, highest first for accuracies and throughput), runs without it last.
    #[arg(long, value_name = "METRIC")]
    pub sort: Option<String>,
    /// Exit with status 1 when a flag reaches this severity.
    #[arg(long, value_name = "LEVEL", default_value = "warning", value_enum)]
    pub fail_on: Severity,
    /// Keep reading the files as they grow and print each new flag as it fires, until interrupted.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: run CMD for each new flag, with TMON_KIND, TMON_SEVERITY, TMON_METRIC,
    /// TMON_STEP, TMON_MESSAGE and TMON_PATH in its environment.
    #[arg(long, value_name = "CMD", requires = "follow")]
    pub on_flag: Option<String>,
    /// With --follow: poll the files every MS milliseconds instead of waiting for file events
    /// (for network filesystems). From 1 to 3600000 (an hour).
    #[arg(long, value_name = "MS", requires = "follow", value_parser = poll_parser())]
    pub poll: Option<u64>,
}

/// The longest `--poll` interval: an hour (beyond it a file is not being followed).
pub const POLL_MAX_MS: u64 = 3_600_000;

fn poll_parser() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..=POLL_MAX_MS)
}

/// `--speed`: a finite number of steps a second in [`crate::demo::SPEED`].
fn speed_parser(s: &str) -> Result<f64, String> {
    let (lo, hi) = crate::demo::SPEED;
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| (lo..=hi).contains(x))
        .ok_or_else(|| format!("expected a number from {lo} to {hi}"))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// What goes wrong in the run (healthy shows a run with nothing wrong).
    #[arg(long, default_value = "diverging", value_enum)]
    pub scenario: crate::harness::Scenario,
    /// Keep the log at this path (by default it goes to a new private temporary directory,
    /// removed at exit).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Only write the log (print its path); no monitor.
    #[arg(long)]
    pub no_ui: bool,
    /// Training steps written per second, from 0.1 to 10000.
    #[arg(long, value_name = "STEPS_PER_S", default_value_t = 10.0, value_parser = speed_parser)]
    pub speed: f64,
    /// Seed of the data, the model and the clock's jitter.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Draw in ASCII only (charts with ASCII dots, frames and markers in ASCII).
    #[arg(long)]
    pub ascii: bool,
}

/// The smoothers of `tmon export --smoother`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SmootherKind {
    /// TensorBoard's debiased EMA; --smoothing is the weight, 0 to 0.999 (default 0.6).
    Ema,
    /// W&B's time-weighted EMA; --smoothing 0 to 0.999 (default 0.6).
    Twema,
    /// A Gaussian kernel; --smoothing is sigma in points, 0 to 10000 (default 2).
    Gaussian,
    /// A centred running average; --smoothing is the window in points, 1 to 100001 (default 7).
    Average,
}

/// The x axes of `tmon export --x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum XArg {
    Step,
    /// Time since the run's first record.
    Relative,
    /// Clock time (UTC).
    Wall,
}

impl From<XArg> for crate::chart::XAxis {
    fn from(x: XArg) -> Self {
        match x {
            XArg::Step => crate::chart::XAxis::Step,
            XArg::Relative => crate::chart::XAxis::Relative,
            XArg::Wall => crate::chart::XAxis::Wall,
        }
    }
}

/// An image side in pixels, `--width` and `--height`.
fn pixels() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(100..=8000)
}

/// A step bound, `--from` and `--to`: a finite number.
fn step_parser(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| "expected a step (a finite number)".into())
}

/// A smoothing strength of any smoother (the widest range, the running average's window); the
/// range of the smoother chosen is checked by [`ExportArgs::smoother`].
fn strength_parser(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| (0.0..=100_001.0).contains(x))
        .ok_or_else(|| "expected a number from 0 to 100001".into())
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Log files or directories (read as `tmon check` reads them); each run is a line.
    #[arg(required = true, value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// The metrics: a regex searched in their names, ignoring case, as the monitor's `/` filter
    /// (`'^loss$'` for exactly one).
    #[arg(long, short = 'm', value_name = "REGEX")]
    pub metric: String,
    /// Where to write: FILE.svg, FILE.png or FILE.csv (an existing file is replaced).
    #[arg(short = 'o', long = "output", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub output: PathBuf,
    /// The smoothing strength: the EMA's weight (0 to 0.999), the Gaussian's sigma or the running
    /// average's window in points; 0 (1 for the window) draws the raw values only.
    #[arg(long, value_name = "STRENGTH", value_parser = strength_parser)]
    pub smoothing: Option<f64>,
    /// The smoother.
    #[arg(long, value_enum, default_value = "ema")]
    pub smoother: SmootherKind,
    /// The x axis (a log with no time is drawn against steps).
    #[arg(long = "x", value_enum, default_value = "step", value_name = "AXIS")]
    pub x: XArg,
    /// A log10 y axis.
    #[arg(long)]
    pub log_y: bool,
    /// Fit the y axis to every value instead of the 5-95% percentiles plus a margin (outliers are
    /// otherwise clipped at the edge, as in the monitor).
    #[arg(long)]
    pub no_outliers: bool,
    /// Only the points from this step on.
    #[arg(long, value_name = "STEP", value_parser = step_parser)]
    pub from: Option<f64>,
    /// Only the points up to this step.
    #[arg(long, value_name = "STEP", value_parser = step_parser)]
    pub to: Option<f64>,
    /// The image's width in pixels, 100 to 8000 (default: 1000 for one chart, 640 a column for a
    /// grid).
    #[arg(long, value_name = "PX", value_parser = pixels())]
    pub width: Option<u32>,
    /// The image's height in pixels, 100 to 8000 (default: 600 for one chart, 420 a row for a
    /// grid).
    #[arg(long, value_name = "PX", value_parser = pixels())]
    pub height: Option<u32>,
}

impl ExportArgs {
    /// The smoother asked for, `None` when it smooths nothing; a strength out of its kind's range
    /// is a usage error naming the range.
    pub fn smoother(&self) -> Result<Option<crate::analysis::smooth::Smoother>, Error> {
        use crate::analysis::smooth::{Smoother, MAX_SIGMA, MAX_WEIGHT, MAX_WINDOW};
        let (name, lo, hi, default) = match self.smoother {
            SmootherKind::Ema => ("the EMA's weight", 0.0, MAX_WEIGHT, 0.6),
            SmootherKind::Twema => ("the time-weighted EMA's parameter", 0.0, MAX_WEIGHT, 0.6),
            SmootherKind::Gaussian => ("the Gaussian's sigma", 0.0, MAX_SIGMA, 2.0),
            SmootherKind::Average => ("the running average's window", 1.0, MAX_WINDOW as f64, 7.0),
        };
        let p = self.smoothing.unwrap_or(default);
        let whole = self.smoother != SmootherKind::Average || p.fract() == 0.0;
        if !(lo..=hi).contains(&p) || !whole {
            let what = if self.smoother == SmootherKind::Average { "a whole number" } else { "a number" };
            return Err(Error::Usage(format!("--smoothing {p}: {name} is {what} from {lo} to {hi}")));
        }
        let s = match self.smoother {
            SmootherKind::Ema => Smoother::Ema { weight: p },
            SmootherKind::Twema => Smoother::TimeWeightedEma { param: p },
            SmootherKind::Gaussian => Smoother::Gaussian { sigma: p },
            SmootherKind::Average => Smoother::RunningAverage { window: p as usize },
        };
        let identity = if self.smoother == SmootherKind::Average { p <= 1.0 } else { p == 0.0 };
        Ok((!identity).then_some(s))
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_arguments_parse() {
        let cli =
            Cli::try_parse_from(["tmon", "check", "--fail-on", "critical", "--step-key", "it", "a.jsonl"])
                .unwrap();
        let Some(Command::Check(args)) = cli.command else { panic!("not check") };
        assert_eq!(args.fail_on, Severity::Critical);
        assert_eq!(cli.read.step_key.as_deref(), Some("it"));
        assert_eq!(args.paths, vec![PathBuf::from("a.jsonl")]);

        let cli = Cli::try_parse_from(["tmon", "a.jsonl", "runs/"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.paths.len(), 2);

        // --on-flag and --poll only mean something while following.
        assert!(Cli::try_parse_from(["tmon", "check", "--on-flag", "true", "a.jsonl"]).is_err());
        assert!(Cli::try_parse_from(["tmon", "check", "--follow", "--poll", "0", "a.jsonl"]).is_err());
        assert!(Cli::try_parse_from(["tmon", "check", "--follow", "--poll", "500", "a.jsonl"]).is_ok());
    }

    #[test]
    fn export_arguments_parse_and_check_the_smoothing() {
        let cli = Cli::try_parse_from([
            "tmon",
            "export",
            "a.jsonl",
            "b.jsonl",
            "--metric",
            "loss",
            "-o",
            "out.png",
            "--x",
            "wall",
            "--smoother",
            "gaussian",
            "--smoothing",
            "5",
            "--from",
            "10",
            "--width",
            "800",
        ])
        .unwrap();
        let Some(Command::Export(args)) = cli.command else { panic!("not export") };
        assert_eq!((args.paths.len(), args.x, args.from, args.width), (2, XArg::Wall, Some(10.0), Some(800)));
        let sm = args.smoother().unwrap();
        assert_eq!(sm, Some(crate::analysis::smooth::Smoother::Gaussian { sigma: 5.0 }));
        let parse = |extra: &[&str]| {
            let mut argv = vec!["tmon", "export", "a.jsonl", "-m", "x", "-o", "o.svg"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv) {
                Ok(Cli { command: Some(Command::Export(a)), .. }) => Ok(a),
                Ok(_) => panic!("not export"),
                Err(e) => Err(e.to_string()),
            }
        };
        assert!(parse(&["--from", "nan"]).is_err());
        assert!(parse(&["--width", "50"]).is_err());
        assert!(parse(&["--x", "epoch"]).is_err());
        assert_eq!(parse(&[]).unwrap().smoother().unwrap(), Some(Default::default()));
        assert_eq!(parse(&["--smoothing", "0"]).unwrap().smoother().unwrap(), None);
        let bad = parse(&["--smoothing", "1.5"]).unwrap().smoother().unwrap_err().to_string();
        assert!(bad.contains("from 0 to 0.999"), "{bad}");
        let bad = parse(&["--smoother", "average", "--smoothing", "2.5"]).unwrap().smoother();
        assert!(bad.unwrap_err().to_string().contains("a whole number"));
    }

    #[test]
    fn set_pairs_must_have_a_name_and_a_value() {
        let read = ReadArgs { set: vec!["spike.z".into()], ..Default::default() };
        assert!(matches!(read.flag_config(), Err(Error::Usage(m)) if m.contains("expected NAME=VALUE")));
        let read = ReadArgs { set: vec!["no.such=1".into()], ..Default::default() };
        assert!(matches!(read.flag_config(), Err(Error::Usage(m)) if m.starts_with("--set 'no.such=1': ")));
    }
}
