//! For benches/formats/follow_latency.sh: writes a log of 20 healthy steps in one format, or
//! appends one step with a NaN loss to it, in one write.
//!
//! Usage: append_step (start|nan) (jsonl|tfevents|csv) DIR   (prints the log's path on `start`)

use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};
use tmon::formats::tfevents::{Event, Summary, Value};
use tmon::formats::tfrecord;

fn path(fmt: &str, dir: &Path) -> PathBuf {
    match fmt {
        "jsonl" => dir.join("run.jsonl"),
        "tfevents" => dir.join("events.out.tfevents.1700000000.bench"),
        _ => dir.join("metrics.csv"),
    }
}

fn step(fmt: &str, s: i64, loss: f64, out: &mut Vec<u8>) {
    match fmt {
        "jsonl" => {
            let loss = if loss.is_nan() { "NaN".to_owned() } else { loss.to_string() };
            out.extend(format!("{{\"step\": {s}, \"loss\": {loss}, \"lr\": 0.001}}\n").bytes());
        }
        "tfevents" => {
            for (tag, x) in [("loss", loss), ("lr", 0.001)] {
                let value = Value { tag: tag.into(), simple_value: Some(x as f32), ..Default::default() };
                let summary = Some(Summary { value: vec![value] });
                let ev = Event { wall_time: 1.7e9 + s as f64, step: s, summary, ..Default::default() };
                tfrecord::encode(&ev.encode_to_vec(), out);
            }
        }
        _ => out.extend(format!("{s},{loss},0.001\n").bytes()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, what, fmt, dir] = &args[..] else {
        return Err("usage: append_step (start|nan) FORMAT DIR".into());
    };
    let dir = Path::new(dir);
    let log = path(fmt, dir);
    let mut out = Vec::new();
    if what == "start" {
        std::fs::create_dir_all(dir)?;
        if fmt == "csv" {
            out.extend(b"step,loss,lr\n");
        }
        for s in 0..20 {
            step(fmt, s, 2.0 / (1.0 + s as f64), &mut out);
        }
        std::fs::write(&log, &out)?;
        println!("{}", log.display());
    } else {
        step(fmt, 20, f64::NAN, &mut out);
        std::fs::OpenOptions::new().append(true).open(&log)?.write_all(&out)?;
    }
    Ok(())
}
