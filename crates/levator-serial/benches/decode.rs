//! Decoder throughput on in-memory byte streams (no I/O): how many frames
//! per second each codec turns bytes into, single-threaded.
//!
//! `cargo bench -p levator-serial --bench decode`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use levator_core::stream::{Role, Unit};
use levator_serial::protocol::ascii::{AsciiConfig, AsciiDecoder, AsciiEncoder};
use levator_serial::protocol::binary::{
    ChannelFormat, Decoder, Encoder, SampleFormat, StreamHeader,
};
use levator_serial::protocol::cyton::{CytonConfig, CytonDecoder, CytonEncoder, Gain};
use levator_serial::protocol::Decoded;

const FRAMES: usize = 10_000;

fn binary_wire(samples_per_frame: usize) -> Vec<u8> {
    let h = StreamHeader::new(
        2000.0,
        &[
            ChannelFormat::new(
                Role::PelvicEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
            ChannelFormat::new(
                Role::AbdominalEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
        ],
    )
    .expect("valid header");
    let mut enc = Encoder::new(h);
    let mut wire = enc.header_frame().to_vec();
    let vals: Vec<f64> = (0..samples_per_frame)
        .flat_map(|i| [i as f64, -(i as f64)])
        .collect();
    for _ in 0..FRAMES / samples_per_frame {
        wire.extend_from_slice(&enc.data_frame(&vals).expect("encodable"));
    }
    wire
}

/// Something that feeds bytes to a decoder with a given sink.
type Feed<'a> = dyn FnMut(&mut dyn FnMut(Decoded)) + 'a;

fn count(push: &mut Feed<'_>) -> usize {
    let mut n = 0;
    push(&mut |i| {
        if let Decoded::Frame(f) = i {
            n += 1;
            black_box(f);
        }
    });
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(FRAMES as u64));
    for spf in [1, 20] {
        let wire = binary_wire(spf);
        g.bench_function(format!("binary_2ch_{spf}_samples_per_frame"), |b| {
            b.iter(|| {
                let mut d = Decoder::new();
                let n = count(&mut |s| d.push(black_box(&wire), s));
                assert_eq!(n, FRAMES);
            })
        });
    }
    let cfg = AsciiConfig::roles(100.0, &[Role::PelvicPressure, Role::ProbeMotion]).expect("cfg");
    let mut enc = AsciiEncoder::new(cfg);
    let mut wire = Vec::new();
    for i in 0..FRAMES {
        wire.extend_from_slice(&enc.encode(&[20.0 + i as f64 * 0.01, 0.02]).expect("line"));
    }
    g.bench_function("ascii_2col", |b| {
        b.iter(|| {
            let mut d = AsciiDecoder::new(cfg);
            let n = count(&mut |s| d.push(black_box(&wire), s));
            assert_eq!(n, FRAMES);
        })
    });
    let mut enc = CytonEncoder::new([Gain::X24; 8]);
    let mut wire = Vec::new();
    for i in 0..FRAMES {
        wire.extend_from_slice(&enc.packet(&[i as f64; 8], None).expect("packet"));
    }
    g.bench_function("cyton_8ch", |b| {
        b.iter(|| {
            let mut d = CytonDecoder::new(CytonConfig::default()).expect("cfg");
            let n = count(&mut |s| d.push(black_box(&wire), s));
            assert_eq!(n, FRAMES);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
