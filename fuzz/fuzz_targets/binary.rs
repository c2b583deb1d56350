//! levator binary decoder: arbitrary bytes, arbitrary chunking. Must not
//! panic; chunked and whole decoding must agree; every byte is accounted
//! for; a frame only comes out of a CRC-checked data frame.
#![no_main]

use levator_core::stream::{Role, Unit};
use levator_serial::protocol::binary::{ChannelFormat, Decoder, SampleFormat, StreamHeader};
use levator_serial::protocol::Decoded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let known = StreamHeader::new(
        1000.0,
        &[
            ChannelFormat::new(
                Role::PelvicEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
            ChannelFormat::new(
                Role::PelvicPressure,
                Unit::MmHg,
                SampleFormat::I16,
                0.1,
                0.0,
            ),
        ],
    )
    .unwrap();
    let run = |d: &mut Decoder, chunk: usize| {
        let mut items = Vec::new();
        for c in bytes.chunks(chunk) {
            d.push(c, &mut |i| items.push(i));
        }
        d.finish(&mut |i| items.push(i));
        items
    };
    for mut d in [Decoder::new(), Decoder::with_header(known)] {
        let mut d2 = d.clone();
        let whole = run(&mut d, bytes.len().max(1));
        let chunked = run(&mut d2, step);
        assert_eq!(whole, chunked);
        let s = d.stats();
        assert_eq!(s.bytes_in, bytes.len() as u64);
        assert!(s.bytes_skipped <= s.bytes_in);
        let frames = whole
            .iter()
            .filter(|i| matches!(i, Decoded::Frame(_)))
            .count() as u64;
        assert_eq!(frames, s.frames);
        if frames > 0 {
            assert!(bytes.windows(2).any(|w| w == [0xA5, 0x5A]));
        }
    }
});
