//! `crash` (critical): the run died of an error written into its log. Training scripts write
//! their tracebacks to the same file as their JSON lines when stdout and stderr go to one log
//! (`python train.py > log 2>&1`, a cluster's job log), and a resumed run appends to it. The
//! lines that are not JSON are kept by the store (`store.skipped`, with their text); this reads
//! them as they arrive and recognises the errors training dies of:
//!
//! - a Python `Traceback (most recent call last):` and its exception line (the first line after
//!   the indented frames: `RuntimeError: CUDA error: an illegal memory access was encountered`),
//!   with chained tracebacks ("During handling of the above exception...") read as one crash;
//! - CUDA out of memory, CUDA errors and NCCL timeouts outside a traceback (a C++ abort, the
//!   NCCL watchdog);
//! - the shell's `Killed` (the OOM killer's SIGKILL), segmentation faults, aborts and
//!   `Fatal Python error`.
//!
//! One crash per stretch of non-JSON lines: eight ranks printing eight tracebacks are one crash.
//! Dated at the last step logged before it. Line prefixes that launchers add (`[rank0]: `,
//! `[default0]:`, `0: `) are removed first. The text is the log's and is sanitised wherever it
//! is printed, like every string from a log.

use crate::text::step;

/// Longest exception text kept in a message, in characters.
const TEXT_MAX: usize = 200;

/// What was recognised on a line.
#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    /// The error as the log wrote it (the exception line), trimmed and cut to [`TEXT_MAX`].
    pub text: String,
    /// 1-based line number in the file.
    pub line: u64,
}

/// Reads non-JSON lines one at a time.
#[derive(Clone, Debug, Default)]
pub struct CrashReader {
    /// Inside a traceback, waiting for its exception line.
    in_traceback: bool,
    /// A crash was told since the last record: the rest of this stretch is the same crash.
    told: bool,
}

impl CrashReader {
    /// A record arrived: the next error is a new crash.
    pub fn record(&mut self) {
        self.told = false;
        self.in_traceback = false;
    }

    /// Reads one non-JSON line; returns the crash it completes, if it is a new one.
    pub fn line(&mut self, line: u64, text: &str) -> Option<Crash> {
        let text = strip_prefix(text.trim_end_matches(['\r', '\n']));
        let found = self.recognise(text);
        match found {
            Some(t) if !self.told => {
                self.told = true;
                Some(Crash { text: cut(t.trim()), line })
            }
            _ => None,
        }
    }

    fn recognise<'a>(&mut self, text: &'a str) -> Option<&'a str> {
        let trimmed = text.trim();
        if trimmed.starts_with("Traceback (most recent call last)") {
            self.in_traceback = true;
            return None;
        }
        if self.in_traceback {
            // Frames and source lines are indented; so are `^^^^` markers. A chained traceback's
            // connecting sentence comes after an exception line, so it is never read here.
            if trimmed.is_empty() || text.starts_with([' ', '\t']) {
                return None;
            }
            self.in_traceback = false;
            if looks_like_exception(trimmed) {
                return Some(trimmed);
            }
        }
        fatal_line(trimmed).then_some(trimmed)
    }
}

/// `Name: message` or a bare `Name` where the name is a (dotted) Python identifier ending in
/// `Error`, `Exception`, `Interrupt`, `Exit` or a known error class.
fn looks_like_exception(line: &str) -> bool {
    let name = line.split(':').next().unwrap_or(line).trim();
    let ident = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    // After a traceback whatever unindented line follows is the exception in practice; an
    // identifier-shaped name is the common case, and a few frameworks print other shapes
    // (`torch.distributed.elastic.multiprocessing.errors.ChildFailedError:` included).
    ident || line.contains("Error") || line.contains("Exception")
}

/// A line that says the process died, outside a traceback.
fn fatal_line(line: &str) -> bool {
    if line.len() > 4096 {
        return false;
    }
    if line == "Killed" || line.starts_with("Killed ") || is_shell_signal(line, "Killed") {
        return true;
    }
    const ANYWHERE: &[&str] = &[
        "CUDA out of memory",
        "OutOfMemoryError",
        "CUDA error: ",
        "Watchdog caught collective operation timeout",
        "NCCL communicator was aborted",
        "Segmentation fault",
        "Fatal Python error",
        "terminate called after throwing an instance of",
        "Bus error (core dumped)",
        "Aborted (core dumped)",
        "(signal 11)",
        "SIGSEGV",
    ];
    if ANYWHERE.iter().any(|p| line.contains(p)) {
        return true;
    }
    let nccl = line.contains("NCCL") || line.contains("nccl");
    nccl && (line.contains("timed out") || line.contains("Timeout") || line.contains("timeout"))
        && (line.contains("collective") || line.contains("Watchdog") || line.contains("ran for"))
        || nccl
            && (line.contains("ncclInternalError")
                || line.contains("ncclSystemError")
                || line.contains("ncclUnhandledCudaError"))
}

/// The shell's report of a child killed by a signal: `./run.sh: line 3: 12345 Killed   python train.py`.
fn is_shell_signal(line: &str, signal: &str) -> bool {
    let Some(at) = line.find(": line ") else { return false };
    let rest = &line[at + 7..];
    let mut parts = rest.split_whitespace();
    let line_no = parts.next().is_some_and(|p| p.trim_end_matches(':').chars().all(|c| c.is_ascii_digit()));
    let pid = parts.next().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    line_no && pid && parts.next() == Some(signal)
}

/// Removes the prefix a launcher puts before each line of a rank: `[rank0]: `, `[default3]:`,
/// `0: ` (srun `--label`).
fn strip_prefix(text: &str) -> &str {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix('[') {
        if let Some(end) = rest.find("]:") {
            let tag = &rest[..end];
            if tag.len() <= 32 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                let after = &rest[end + 2..];
                return after.strip_prefix(' ').unwrap_or(after);
            }
        }
    }
    if let Some(end) = t.find(": ") {
        if end > 0 && end <= 5 && t[..end].chars().all(|c| c.is_ascii_digit()) {
            return &t[end + 2..];
        }
    }
    text
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(TEXT_MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// The crash flag's message: `last` is the last step logged before it.
pub fn message(crash: &Crash, last: Option<f64>) -> String {
    match last {
        Some(s) => format!("the run crashed after step {}: {} (line {})", step(s), crash.text, crash.line),
        None => format!("the run crashed before its first record: {} (line {})", crash.text, crash.line),
    }
}

/// The message of a crash flag whose run went on at `next` (the error was caught): what was read,
/// and that it was not fatal.
pub fn survived_message(crashed: &str, next: f64) -> String {
    let what = crashed
        .strip_prefix("the run crashed after step ")
        .map_or(crashed.to_owned(), |rest| format!("an error after step {rest}"));
    format!("{what}; the run went on at step {}: caught, not fatal", step(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Vec<String> {
        let mut r = CrashReader::default();
        lines.iter().enumerate().filter_map(|(i, l)| r.line(i as u64 + 1, l)).map(|c| c.text).collect()
    }

    #[test]
    fn a_traceback_is_one_crash_with_its_exception_line() {
        let tb = [
            "Traceback (most recent call last):",
            "  File \"train.py\", line 42, in <module>",
            "    loss.backward()",
            "    ^^^^^^^^^^^^^^^",
            "RuntimeError: CUDA error: an illegal memory access was encountered",
            "CUDA kernel errors might be asynchronously reported at some other API call.",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            "  File \"train.py\", line 50, in <module>",
            "OSError: [Errno 28] No space left on device",
        ];
        assert_eq!(read(&tb), ["RuntimeError: CUDA error: an illegal memory access was encountered"]);
        let ranks = [
            "[rank1]: Traceback (most recent call last):",
            "[rank1]:   File \"x.py\"",
            "[rank1]: KeyError: 'x'",
        ];
        assert_eq!(read(&ranks), ["KeyError: 'x'"]);
    }

    #[test]
    fn deaths_without_a_traceback() {
        for line in [
            "Killed",
            "./run.sh: line 3: 12345 Killed                  python train.py",
            "Segmentation fault (core dumped)",
            "Fatal Python error: Segmentation fault",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
            "[E ProcessGroupNCCL.cpp:828] [Rank 3] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1, OpType=ALLREDUCE, Timeout(ms)=600000) ran for 600041 milliseconds before timing out.",
            "terminate called after throwing an instance of 'c10::Error'",
        ] {
            assert_eq!(read(&[line]).len(), 1, "{line}");
        }
    }

    #[test]
    fn ordinary_prints_are_no_crash() {
        for line in [
            "Epoch 3: 45%|████      | 45/100 [00:05<00:06, 9.1it/s]",
            "NCCL INFO Channel 00/02 : 0 1",
            "UserWarning: torch.cuda.amp.GradScaler is deprecated",
            "Traceback (most recent call last): \u{1b}[31mboom\u{1b}[0m",
            "Starting training with config x.yaml",
            "Skilled workers: 4",
            "[1, 2, 3]",
            "[2024-01-01 12:00:00] loss went down",
        ] {
            assert!(read(&[line]).is_empty(), "{line}");
        }
    }

    #[test]
    fn a_long_exception_is_cut() {
        let long = format!("ValueError: {}", "x".repeat(1000));
        let got = read(&["Traceback (most recent call last):", "  File \"a\"", &long]);
        assert_eq!(got[0].chars().count(), TEXT_MAX + 3);
    }
}
