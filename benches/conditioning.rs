//! Cost per channel-sample of the conditioning hot path at 1000 Hz:
//!
//! - `bandpass_4th_20_450`: `butter(4, [20, 450], 'bandpass', fs=1000)`
//!   alone (4 sections), the filter `fixtures/golden/bench_scipy.py` times with
//!   `scipy.signal.sosfilt` for the ratio in the report;
//! - `emg_chain`: the full `ChainConfig::emg(1000.0)` chain (10 Hz
//!   high-pass, that band-pass, nine 50 Hz-harmonic notches, 50 ms moving
//!   RMS: 14 biquads + RMS per sample);
//! - `emg_chain_comb`: that chain with `notch_kind = NotchKind::Comb`
//!   (5 biquads + one comb filter for every mains harmonic + RMS);
//!
//! each for 1, 2, 4 and 8 channels, one second (1000 samples) per channel
//! per iteration, fed three ways: `block` (each channel's block through
//! its own `process`), `frames` (frame by frame, `tick` per channel, as a
//! live stream arrives) and `bank` (frame by frame through `ChainBank`s,
//! the channels in SIMD lanes of one biquad cascade; 8 channels as two
//! banks of 4).
//! Throughput is in channel-samples, so criterion's "time per element"
//! is the cost per channel-sample.
//!
//! Run: `cargo bench --bench conditioning` (measurement time is reduced to
//! keep the run short; pass `-- --measurement-time 10` for more).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use levator::core::conditioning::{
    butter, Band, Chain, ChainBank, ChainConfig, NotchKind, SosFilter,
};

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

/// Frame-by-frame through `ChainBank`s: `ChainBank<N>` for N <= 4, and two
/// `ChainBank<4>` for 8 channels (lanes beyond 4 do not vectorize well on
/// the baseline x86-64 target; see the `ChainBank` docs).
fn banks(c: &mut Criterion, name: &str, config: &ChainConfig) {
    let mut group = c.benchmark_group(name);
    for &channels in &CHANNELS {
        group.throughput(Throughput::Elements((channels * BLOCK) as u64));
        let x = input(channels);
        let frame = |n: usize, first: usize| -> [f64; 4] {
            core::array::from_fn(|k| x.get(first + k).map_or(0.0, |ch| ch[n]))
        };
        let id = BenchmarkId::new("bank", channels);
        match channels {
            1 => {
                let frames: Vec<[f64; 1]> = (0..BLOCK).map(|n| [x[0][n]]).collect();
                let mut out = vec![[0.0; 1]; BLOCK];
                let mut bank = ChainBank::<1>::new(config).expect("valid config");
                group.bench_function(id, |b| {
                    b.iter(|| {
                        bank.process(black_box(&frames), &mut out);
                        black_box(&out);
                    })
                });
            }
            2 => {
                let frames: Vec<[f64; 2]> = (0..BLOCK).map(|n| [x[0][n], x[1][n]]).collect();
                let mut out = vec![[0.0; 2]; BLOCK];
                let mut bank = ChainBank::<2>::new(config).expect("valid config");
                group.bench_function(id, |b| {
                    b.iter(|| {
                        bank.process(black_box(&frames), &mut out);
                        black_box(&out);
                    })
                });
            }
            4 => {
                let frames: Vec<[f64; 4]> = (0..BLOCK).map(|n| frame(n, 0)).collect();
                let mut out = vec![[0.0; 4]; BLOCK];
                let mut bank = ChainBank::<4>::new(config).expect("valid config");
                group.bench_function(id, |b| {
                    b.iter(|| {
                        bank.process(black_box(&frames), &mut out);
                        black_box(&out);
                    })
                });
            }
            _ => {
                let lo: Vec<[f64; 4]> = (0..BLOCK).map(|n| frame(n, 0)).collect();
                let hi: Vec<[f64; 4]> = (0..BLOCK).map(|n| frame(n, 4)).collect();
                let mut out = vec![[0.0; 8]; BLOCK];
                let mut a = ChainBank::<4>::new(config).expect("valid config");
                let mut b4 = ChainBank::<4>::new(config).expect("valid config");
                group.bench_function(id, |b| {
                    b.iter(|| {
                        for ((l, h), o) in black_box(&lo).iter().zip(hi.iter()).zip(out.iter_mut())
                        {
                            o[..4].copy_from_slice(&a.tick(*l));
                            o[4..].copy_from_slice(&b4.tick(*h));
                        }
                        black_box(&out);
                    })
                });
            }
        }
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
    // The band-pass alone as a bank: a chain config with only that stage.
    let mut bandpass_only = ChainConfig::passthrough(RATE_HZ);
    bandpass_only.band_hz = Some((20.0, 450.0));
    bandpass_only.band_order = 4;
    banks(c, "bandpass_4th_20_450", &bandpass_only);
    banks(c, "emg_chain", &config);
    let mut comb = ChainConfig::emg(RATE_HZ);
    comb.notch_kind = NotchKind::Comb;
    bench_stage(c, "emg_chain_comb", || {
        Chain::new(&comb).expect("valid EMG chain")
    });
    banks(c, "emg_chain_comb", &comb);
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
