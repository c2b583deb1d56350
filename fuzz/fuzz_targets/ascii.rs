//! ASCII line decoder: arbitrary bytes, arbitrary chunking, with and
//! without a timestamp column. Must not panic; chunking must not matter;
//! every non-empty line is a frame or a counted rejection.
#![no_main]

use levator_core::stream::Role;
use levator_serial::protocol::ascii::{AsciiConfig, AsciiDecoder, TimestampUnit};
use levator_serial::protocol::Decoded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let plain = AsciiConfig::roles(100.0, &[Role::PelvicPressure, Role::ProbeMotion]).unwrap();
    for cfg in [plain, plain.with_timestamp(TimestampUnit::Milliseconds)] {
        let run = |chunk: usize| {
            let mut d = AsciiDecoder::new(cfg);
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
        assert_eq!(s.bytes_in, bytes.len() as u64);
        let frames = whole
            .iter()
            .filter(|i| matches!(i, Decoded::Frame(_)))
            .count() as u64;
        assert_eq!(frames, s.frames);
        // Indices never go backwards.
        let mut last = None;
        for i in &whole {
            if let Decoded::Frame(f) = i {
                assert!(last.is_none_or(|l| f.index > l));
                last = Some(f.index);
            }
        }
    }
});
