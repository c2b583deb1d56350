//! OpenBCI Cyton decoder: arbitrary bytes, arbitrary chunking. Must not
//! panic; chunking must not matter; every byte is either in a decoded
//! 33-byte packet or counted as skipped.
#![no_main]

use levator_serial::protocol::cyton::{AccelAxis, CytonConfig, CytonDecoder, PACKET_LEN};
use levator_serial::protocol::Decoded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let cfg = CytonConfig {
        motion_axis: Some(AccelAxis::NegY),
        ..CytonConfig::default()
    };
    let run = |chunk: usize| {
        let mut d = CytonDecoder::new(cfg).unwrap();
        let mut items = Vec::new();
        for c in bytes.chunks(chunk) {
            d.push(c, &mut |i| items.push(i));
        }
        d.finish(&mut |i| items.push(i));
        (items, d.stats())
    };
    let (whole, s) = run(bytes.len().max(1));
    let (chunked, _) = run(step);
    assert_eq!(whole, chunked);
    let frames = whole
        .iter()
        .filter(|i| matches!(i, Decoded::Frame(_)))
        .count() as u64;
    assert_eq!(frames, s.frames);
    assert_eq!(s.bytes_skipped + s.frames * PACKET_LEN as u64, s.bytes_in);
    assert_eq!(s.bytes_in, bytes.len() as u64);
});
