//! Fuzzes the TensorBoard event file reader (TFRecord framing, then `Event` protobufs): no panic,
//! hang or huge allocation on any bytes, and the same points whether the file is read at once or
//! as it grows (cut at a point the first byte picks, as a tailer would see it).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tmon::formats::tfevents::EventReader;
use tmon::run::Run;

/// Every series as (name, [(step bits, value bits)]), NaN made one value.
fn read(bytes: &[u8], cuts: &[usize]) -> Vec<(String, Vec<(u64, u64)>)> {
    let mut run = Run::new("f", Default::default(), Default::default());
    EventReader::declare(&mut run);
    let mut reader = EventReader::new();
    let (mut buf, mut offset, mut fed) = (Vec::new(), 0u64, 0);
    for (i, &cut) in cuts.iter().enumerate() {
        buf.extend_from_slice(&bytes[fed..cut]);
        fed = cut;
        let used = reader.feed(&mut run, &buf, i + 1 == cuts.len(), "f", offset);
        buf.drain(..used);
        offset += used as u64;
    }
    reader.flush(&mut run);
    let st = &run.store;
    st.ids()
        .map(|id| {
            let s = st.series(id);
            let pts = (0..s.len())
                .map(|i| {
                    let v = s.value(i);
                    (s.step(i).to_bits(), if v.is_nan() { 1 } else { v.to_bits() })
                })
                .collect();
            (s.name().to_owned(), pts)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else { return };
    let cut = first as usize * body.len() / 255;
    assert_eq!(read(body, &[body.len()]), read(body, &[cut, body.len()]));
});
