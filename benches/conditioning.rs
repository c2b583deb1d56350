//! Cost per channel-sample of the conditioning hot path at 1000 Hz:
//!
//! - `bandpass_4th_20_450`: `butter(4, [20, 450], 'bandpass', fs=1000)`
//!   alone (4 sections), the filter `fixtures/golden/bench_scipy.py` times with
//!   `scipy.signal.sosfilt` for the ratio in the report;
//! - `emg_chain`: the full `ChainConfig::emg(1000.0)` chain (10 Hz
//!   high-pass, that band-pass, nine 50 Hz-harmonic notches, 50 ms moving
//!   RMS: 14 biquads + RMS per sample);
//!
//! each for 1, 2, 4 and 8 channels, one second (1000 samples) per channel
//! per iteration, fed two ways: `block` (each channel's block through
//! `process`) and `frames` (frame by frame, `tick` per channel, as a live
//! stream arrives). Throughput is in channel-samples, so criterion's
//! "time per element" is the cost per channel-sample.
//!
//! Run: `cargo bench --bench conditioning` (measurement time is reduced to
//! keep the run short; pass `-- --measurement-time 10` for more).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use levator::core::conditioning::{butter, Band, Chain, ChainConfig, SosFilter};

const RATE_HZ: f64 = 1000.0;
const BLOCK: usize = 1000;
const CHANNELS: [usize; 4] = [1, 2, 4, 8];

/// Deterministic EMG-like input (no clock, no RNG crate): a 64-bit LCG.
fn input(channels: usize) -> Vec<Vec<f64>> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..channels)
        .map(|_| {
            (0..BLOCK)
                .map(|i| {
                    s = s
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let noise = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    50.0 * noise + 10.0 * (i as f64 * 0.314).sin()
                })
                .collect()
        })
        .collect()
}

trait Stage {
    fn tick(&mut self, x: f64) -> f64;
    fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize;
}

impl Stage for SosFilter {
    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        SosFilter::tick(self, x)
    }
    fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        SosFilter::process(self, input, output)
    }
}

impl Stage for Chain {
    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        Chain::tick(self, x)
    }
    fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        Chain::process(self, input, output)
    }
}

fn bench_stage<S: Stage>(c: &mut Criterion, name: &str, make: impl Fn() -> S) {
    let mut group = c.benchmark_group(name);
    for &channels in &CHANNELS {
        group.throughput(Throughput::Elements((channels * BLOCK) as u64));
        let x = input(channels);
        let mut y = vec![vec![0.0; BLOCK]; channels];
        let mut stages: Vec<S> = (0..channels).map(|_| make()).collect();
        group.bench_with_input(BenchmarkId::new("block", channels), &channels, |b, _| {
            b.iter(|| {
                for ((stage, xi), yi) in stages.iter_mut().zip(&x).zip(y.iter_mut()) {
                    stage.process(black_box(xi), yi);
                }
                black_box(&y);
            })
        });
        let mut stages: Vec<S> = (0..channels).map(|_| make()).collect();
        let mut frame_out = vec![0.0; channels];
        group.bench_with_input(BenchmarkId::new("frames", channels), &channels, |b, _| {
            b.iter(|| {
                for n in 0..BLOCK {
                    for ((stage, xi), out) in stages.iter_mut().zip(&x).zip(frame_out.iter_mut()) {
                        *out = stage.tick(black_box(xi[n]));
                    }
                    black_box(&frame_out);
                }
            })
        });
    }
    group.finish();
}

fn conditioning(c: &mut Criterion) {
    let sos = butter(
        4,
        Band::BandPass {
            low_hz: 20.0,
            high_hz: 450.0,
        },
        RATE_HZ,
    )
    .expect("valid band-pass");
    bench_stage(c, "bandpass_4th_20_450", || SosFilter::new(&sos));
    let config = ChainConfig::emg(RATE_HZ);
    bench_stage(c, "emg_chain", || {
        Chain::new(&config).expect("valid EMG chain")
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = conditioning
}
criterion_main!(benches);
