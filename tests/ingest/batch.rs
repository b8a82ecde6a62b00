//! `Run::load_file` (blocks, pieces parsed on every thread of the pool) gives exactly what feeding
//! the lines one by one gives, on a file of several blocks mixing train and eval lines, prints,
//! blank and CRLF lines.

use std::io::Write;
use tmon::ingest::IngestOptions;
use tmon::run::{Run, Threads, BLOCK};

fn mixed_log(min_bytes: usize) -> Vec<u8> {
    mixed_log_with(min_bytes, 0)
}

/// As [`mixed_log`], each training line also carrying `extra` more metrics (long lines: a block
/// of them is a few dozen lines, as in DETR's log or a 200-metric one).
fn mixed_log_with(min_bytes: usize, extra: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut step = 0u64;
    while out.len() < min_bytes {
        step += 1;
        let loss = 2.0 / (1.0 + step as f64 * 1e-3);
        match step % 997 {
            0 => writeln!(out, "Traceback (most recent call last): step {step}"),
            1 => writeln!(out),
            2 => write!(out, "{{\"step\": {step}, \"loss\": {loss}, \"lr\": 0.001}}\r\n"),
            3 => writeln!(out, "{{\"step\": {step}, \"loss\": "),
            _ if step.is_multiple_of(100) => {
                writeln!(out, "{{\"step\": {step}, \"eval_loss\": {}, \"eval_acc\": 0.5}}", loss * 1.1)
            }
            _ => {
                let more: String =
                    (0..extra).map(|k| format!(", \"m{k}\": {}", (step * 31 + k as u64) % 1009)).collect();
                writeln!(
                    out,
                    "{{\"step\": {step}, \"loss\": {loss}, \"lr\": 0.001, \"grad_norm\": {}{more}, \"time\": 1700000000.{step:06}}}",
                    (step % 13) as f64 / 7.0
                )
            }
        }
        .expect("write");
    }
    out
}

#[test]
fn one_thread_equals_line_by_line() {
    same_as_line_by_line(Threads::One);
}

/// Runs `f` on a pool of `n` threads, whatever the machine has: the threads race for the pieces.
fn on_pool<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("pool").install(f)
}

#[test]
fn a_pool_of_threads_equals_line_by_line() {
    // The threads race for the pieces of each block: repeat to meet more interleavings.
    for n in [1, 2, 4, 4, 8] {
        on_pool(n, || same_as_line_by_line(Threads::Auto));
    }
}

#[test]
fn long_lines_on_a_pool_of_threads_equal_line_by_line() {
    // About 1.4 kB a line, under 200 lines a block: every block is cut into pieces the threads
    // share (a block of a thousand lines or more was the only kind that was).
    let bytes = mixed_log_with(32 << 20, 100);
    assert!(bytes.len() / bytes.iter().filter(|&&b| b == b'\n').count() > 1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("train.jsonl");
    std::fs::write(&path, &bytes).expect("write");
    for n in [2, 3] {
        let batch = on_pool(n, || {
            Run::load_file_with(&path, IngestOptions::default(), Default::default(), Threads::Auto)
        })
        .expect("reads");
        assert_same(&batch, &bytes, &path);
    }
}

#[test]
fn push_lines_in_tailer_sized_batches_equals_line_by_line() {
    // As the tailer hands a history over: big batches cut at line ends, the last one without its
    // final newline, numbered on from the batch before. At least three blocks (six batches) and
    // 3 MB (more than 20,000 records).
    let mut bytes = mixed_log((3 * BLOCK).max(3 << 20));
    bytes.pop();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("train.jsonl");
    let mut batched = Run::new(&path, IngestOptions::default(), Default::default());
    let (mut start, mut line) = (0, 1u64);
    while start < bytes.len() {
        let cut = (start + BLOCK / 2).min(bytes.len());
        let end = match memchr_last_newline(&bytes[start..cut]) {
            Some(i) if cut < bytes.len() => start + i + 1,
            _ => bytes.len(),
        };
        batched.push_lines(line, &bytes[start..end]);
        line += bytes[start..end].iter().filter(|&&b| b == b'\n').count() as u64;
        start = end;
    }
    assert_same(&batched, &bytes, &path);
}

fn memchr_last_newline(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

fn same_as_line_by_line(threads: Threads) {
    // Several blocks, the last one partial, and more than 20,000 records.
    let bytes = mixed_log((2 * BLOCK).max(3 << 20) + BLOCK / 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("train.jsonl");
    std::fs::write(&path, &bytes).expect("write");
    let batch =
        Run::load_file_with(&path, IngestOptions::default(), Default::default(), threads).expect("reads");
    assert_same(&batch, &bytes, &path);
}

/// The run of `path` whose lines, `bytes`, were fed one by one (the live path every batch read is
/// held to).
fn line_by_line(path: &std::path::Path, bytes: &[u8]) -> Run {
    let mut live = Run::new(path, IngestOptions::default(), Default::default());
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        live.push_line(i as u64 + 1, line);
    }
    live
}

/// `batch` holds what feeding `bytes` line by line gives.
fn assert_same(batch: &Run, bytes: &[u8], path: &std::path::Path) {
    let live = line_by_line(path, bytes);

    assert!(batch.store.records() > 20_000);
    assert_eq!(batch.store.records(), live.store.records());
    assert_eq!(batch.store.skipped.count, live.store.skipped.count);
    assert!(batch.store.skipped.count > 10);
    let lines = |r: &Run| r.store.skipped.kept.iter().map(|s| (s.line, s.reason.clone())).collect::<Vec<_>>();
    assert_eq!(lines(batch), lines(&live));
    assert_eq!(batch.ingest.time_key(), Some("time"));
    assert_eq!(batch.store.series_count(), live.store.series_count());
    for id in batch.store.ids() {
        let (a, b) = (batch.store.series(id), live.store.series(id));
        assert_eq!(a.name(), b.name());
        let bits = |s: &tmon::store::SeriesView<'_>| {
            s.iter_records().map(|(r, v)| (r, v.to_bits())).collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b), "{}", a.name());
    }
    for r in 0..batch.store.records() as u32 {
        assert_eq!(batch.store.record(r).line, live.store.record(r).line);
    }
}

/// The block reader sizes the store from the first block: a big file's columns are allocated
/// once, close to what they hold, instead of doubling (up to twice the memory, and every value
/// copied at each growth).
#[test]
fn a_big_files_columns_are_sized_from_its_first_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jsonl");
    let n = 300_000usize;
    let mut text = String::with_capacity(n * 40);
    for i in 0..n {
        // f32-exact values: 4 bytes a point.
        text.push_str(&format!("{{\"step\": {i}, \"loss\": {}}}\n", (i % 1000) as f32 / 8.0));
    }
    std::fs::write(&path, &text).expect("write");
    for threads in [Threads::One, Threads::Auto] {
        let run = on_pool(4, || Run::load_file_with(&path, Default::default(), Default::default(), threads))
            .expect("load");
        assert_eq!(run.store.records(), n);
        // Steps (whole numbers, raw f32 blocks: 4 bytes a record; no time in this log), the loss
        // (4), a block header (8 bytes) per 64 values of each, a few runs of line numbers.
        let least = n * (4 + 4) + n / 64 * 16;
        let held = run.store.heap_bytes();
        assert!(held >= least, "{held} < {least}");
        assert!(held < least + least / 10, "{threads:?}: {held} bytes held for {least} needed");
    }
}

/// The block reader analyses a block while it stores the next: the flags must still be those of
/// feeding the lines one by one, in the same order, with the same words. Every harness scenario
/// (NaN, spikes, overfitting against its train loss, dead units, vanishing gradients, a stall, a
/// rewind, a slowdown, a crash with its traceback) one after the other, each a new run appended
/// to the file, and a second loss pair that appears late, whose run dies of an OOM between two
/// records and is resumed.
#[test]
fn flags_of_a_block_analysed_beside_the_next_equal_line_by_line() {
    use tmon::harness::{generate, Scenario};
    let mut text = String::new();
    for (i, &s) in Scenario::ALL.iter().enumerate() {
        for line in generate(s, 11 + i as u64, 2500) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    for k in 0..6000u64 {
        if k == 3000 {
            // The run dies between two records, in the middle of a block, and is resumed from
            // an earlier step: the crash must be read between them, and the restart after it.
            text.push_str("Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>\n");
            text.push_str("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n");
        }
        let x = 1.0 + (k % 17) as f64 / 40.0 + if k == 4000 { 30.0 } else { 0.0 };
        text.push_str(&format!(
            "{{\"step\": {}, \"aux_loss\": {x}, \"time\": {}}}\n",
            20_000 + if k >= 3000 { k - 200 } else { k },
            1.8e9 + k as f64
        ));
        if k % 50 == 0 {
            text.push_str(&format!(
                "{{\"step\": {}, \"val_aux_loss\": {}}}\n",
                20_000 + k,
                x * (1.0 + k as f64 / 3000.0)
            ));
        }
    }
    let bytes = text.into_bytes();
    assert!(bytes.len() > 2 * BLOCK, "{} bytes: too few blocks", bytes.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scenarios.jsonl");
    std::fs::write(&path, &bytes).expect("write");

    let live = line_by_line(&path, &bytes);
    let kinds: std::collections::BTreeSet<_> = live.flags().iter().map(|f| f.kind).collect();
    assert!(kinds.len() >= 6, "too few kinds of flag to compare: {kinds:?}");
    // The harness's crash scenario and the OOM above: each a critical crash at its own step.
    let crashes: Vec<f64> =
        live.flags().iter().filter(|f| f.kind == tmon::analysis::FlagKind::Crash).map(|f| f.step).collect();
    assert!(crashes.len() >= 2 && crashes.contains(&22_999.0), "crashes at {crashes:?}");
    for (threads, pool) in [(Threads::One, 1), (Threads::Auto, 2), (Threads::Auto, 4), (Threads::Auto, 3)] {
        let batch = on_pool(pool, || {
            Run::load_file_with(&path, IngestOptions::default(), Default::default(), threads)
        })
        .expect("reads");
        assert_eq!(batch.store.records(), live.store.records());
        assert_eq!(batch.flags(), live.flags(), "{threads:?} on {pool} threads");
        assert_eq!(batch.analyzer.flags_not_kept(), live.analyzer.flags_not_kept());
    }
}

/// A random log of at least `min_bytes`: train lines with numbers of every form (long mantissas,
/// huge and tiny exponents, -0.0, NaN, Infinity), keys in another order now and then (a second
/// layout of the same keys), eval lines, rank copies, long lines, restarts (the step goes back),
/// bad JSON, blank, CRLF and traceback lines.
fn random_log(seed: u64, min_bytes: usize) -> Vec<u8> {
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*: enough to pick line kinds and digits.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut out = Vec::new();
    let mut step = 0i64;
    while out.len() < min_bytes {
        let r = next();
        let number = |r: u64| -> String {
            match r % 11 {
                0 => "NaN".into(),
                1 => "-0.0".into(),
                2 => format!("{}e-{}", r % 99_999, 290 + r % 40),
                3 => format!("{}.{}e{}", r % 9 + 1, r % 1_000_000_007, 250 + r % 60),
                4 => format!("0.{:019}", r % 10_000_000_000_000_000_000),
                5 => "Infinity".into(),
                6 => format!("{}", (r >> 7) % 100_000),
                _ => format!("{}", f64::from_bits(0x3ff0_0000_0000_0000 | (r >> 12)) - 1.0),
            }
        };
        step += 1;
        let line = match r % 100 {
            0..=1 => {
                step -= (r >> 8) as i64 % 500;
                format!("{{\"step\": {step}, \"loss\": {}, \"lr\": 0.001}}", number(next()))
            }
            2 => String::new(),
            3 => format!("Traceback (most recent call last): step {step}"),
            4 => format!("{{\"step\": {step}, \"loss\": "),
            5 => format!("{{\"step\": {step}, \"loss\": {}}}\r", number(next())),
            6..=9 => format!("{{\"step\": {step}, \"eval_loss\": {}, \"eval_acc\": 0.5}}", number(next())),
            10..=12 => format!(
                "{{\"loss\": {}, \"grad_norm\": {}, \"step\": {step}, \"time\": {}}}",
                number(next()),
                number(next()),
                1.7e9 + step as f64
            ),
            13 => {
                let more: String = (0..60).map(|k| format!(", \"m{k}\": {}", number(next()))).collect();
                format!("{{\"step\": {step}, \"loss\": {}{more}}}", number(next()))
            }
            _ => format!(
                "{{\"step\": {step}, \"loss\": {}, \"lr\": {}, \"grad_norm\": {}, \"time\": {}}}",
                number(next()),
                number(next()),
                number(next()),
                1.7e9 + step as f64
            ),
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        if r % 100 == 20 {
            // A second rank's copy of the line.
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 6, ..Default::default() })]

    /// The block reader, on the calling thread with the pool parsing (the thread `tmon check`
    /// reads from is not one of the pool's), inside pools of 2 and 3 threads, and on one thread,
    /// stores and flags what feeding the lines one by one does, on random logs.
    #[test]
    fn random_logs_read_in_blocks_on_any_threads_equal_line_by_line(seed in proptest::prelude::any::<u64>()) {
        let bytes = random_log(seed, 3 * BLOCK + BLOCK / 3);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("random.jsonl");
        std::fs::write(&path, &bytes).expect("write");
        let live = line_by_line(&path, &bytes);
        proptest::prop_assert!(live.store.records() > 5_000 && live.store.skipped.count > 10);
        let load = |threads| Run::load_file_with(&path, IngestOptions::default(), Default::default(), threads);
        let outside = std::thread::spawn({
            let path = path.clone();
            move || Run::load_file_with(&path, IngestOptions::default(), Default::default(), Threads::Auto)
        });
        let runs = [
            ("outside the pool", outside.join().expect("no panic").expect("reads")),
            ("pool of 2", on_pool(2, || load(Threads::Auto)).expect("reads")),
            ("pool of 3", on_pool(3, || load(Threads::Auto)).expect("reads")),
            ("one thread", load(Threads::One).expect("reads")),
        ];
        for (how, batch) in &runs {
            proptest::prop_assert_eq!(batch.store.records(), live.store.records(), "{}", how);
            proptest::prop_assert_eq!(batch.store.skipped.count, live.store.skipped.count, "{}", how);
            proptest::prop_assert_eq!(batch.ingest.duplicates(), live.ingest.duplicates(), "{}", how);
            proptest::prop_assert_eq!(batch.store.series_count(), live.store.series_count(), "{}", how);
            for id in batch.store.ids() {
                let (a, b) = (batch.store.series(id), live.store.series(id));
                let bits = |s: &tmon::store::SeriesView<'_>| {
                    s.iter_records().map(|(r, v)| (r, v.to_bits())).collect::<Vec<_>>()
                };
                proptest::prop_assert_eq!(a.name(), b.name());
                proptest::prop_assert!(bits(&a) == bits(&b), "{}: {}", how, a.name());
            }
            for r in 0..batch.store.records() as u32 {
                let (a, b) = (batch.store.record(r), live.store.record(r));
                proptest::prop_assert_eq!((a.line, a.step.to_bits()), (b.line, b.step.to_bits()), "{}", how);
            }
            proptest::prop_assert_eq!(batch.flags(), live.flags(), "{}", how);
        }
    }
}
