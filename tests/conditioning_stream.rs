//! Streaming contract of the conditioning layer: any chunking gives the
//! same output as the whole signal (bit for bit), `tick` equals `process`,
//! bad samples never poison state, bad configs give typed errors.

use levator::core::conditioning::{
    butter, Band, Chain, ChainConfig, ChainError, DesignError, EnvelopeConfig, Mains, MainsNotch,
    NotchError, SosFilter, INPUT_LIMIT,
};
use levator::core::features::envelope::{EnvelopeError, MovingRms, RectifiedLowPass, TeagerKaiser};
use levator::core::stream::Role;

/// splitmix64: small, seeded, no clock.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// EMG-like test signal: noise bursts, 50 Hz hum, drift, a DC offset.
fn signal(len: usize, rate_hz: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed);
    (0..len)
        .map(|n| {
            let t = n as f64 / rate_hz;
            let burst = if (t % 4.0) > 2.0 { 40.0 } else { 3.0 };
            burst * rng.signed()
                + 8.0 * (2.0 * std::f64::consts::PI * 50.0 * t).sin()
                + 20.0 * (0.3 * t).sin()
                + 5.0
        })
        .collect()
}

fn all_configs(rate_hz: f64) -> Vec<ChainConfig> {
    let mut v = vec![
        ChainConfig::emg(rate_hz),
        ChainConfig::pressure(rate_hz),
        ChainConfig::passthrough(rate_hz),
    ];
    let mut c = ChainConfig::emg(rate_hz);
    c.envelope = EnvelopeConfig::RectifiedLowPass {
        cutoff_hz: 6.0,
        order: 4,
    };
    v.push(c);
    let mut c = ChainConfig::emg(rate_hz);
    c.envelope = EnvelopeConfig::TeagerKaiser;
    c.mains = Some(Mains::Hz60);
    v.push(c);
    let mut c = ChainConfig::emg(rate_hz);
    c.envelope = EnvelopeConfig::None;
    c.lowpass_hz = Some(rate_hz * 0.3);
    c.lowpass_order = 8;
    v.push(c);
    let mut c = ChainConfig::emg(rate_hz);
    c.notch_kind = levator::core::conditioning::NotchKind::Comb;
    v.push(c);
    v
}

fn whole(chain: &mut Chain, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    assert_eq!(chain.process(x, &mut y), x.len());
    y
}

#[test]
fn random_chunking_is_bit_identical_to_whole_signal() {
    let rate = 1000.0;
    // 60 s with NaN, inf and huge values sprinkled in, so the guard's hold
    // state is carried across chunk boundaries too.
    let mut x = signal(60_000, rate, 11);
    let mut rng = Rng(5);
    for _ in 0..200 {
        let i = rng.below(x.len() as u64) as usize;
        x[i] = match rng.below(3) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            _ => -1e200,
        };
    }
    for config in all_configs(rate) {
        let reference = whole(&mut Chain::new(&config).unwrap(), &x);
        let mut chain = Chain::new(&config).unwrap();
        let mut got = Vec::with_capacity(x.len());
        let mut rest: &[f64] = &x;
        let mut sizes = [0usize; 4];
        while !rest.is_empty() {
            // chunk sizes 0, 1, small, large
            let n = match rng.below(4) {
                0 => 0,
                1 => 1,
                2 => rng.below(17) as usize,
                _ => rng.below(5000) as usize,
            }
            .min(rest.len());
            sizes[match n {
                0 => 0,
                1 => 1,
                2..=16 => 2,
                _ => 3,
            }] += 1;
            let mut out = vec![0.0; n];
            assert_eq!(chain.process(&rest[..n], &mut out), n);
            got.extend_from_slice(&out);
            rest = &rest[n..];
        }
        assert!(
            sizes.iter().all(|&c| c > 0),
            "all chunk kinds used: {sizes:?}"
        );
        assert_eq!(got.len(), reference.len());
        for (i, (a, b)) in got.iter().zip(&reference).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{config:?}: sample {i}");
        }
        assert_eq!(chain.rejected_inputs(), 200);
    }
}

/// `Chain::process` runs the biquad cascade of a block as a wavefront
/// (every section on its own SIMD lane); it must equal `tick` bit for bit
/// at every cascade length (250 Hz: 7 sections, 1 kHz: 14, 2 kHz: 24,
/// 4 kHz: beyond the wavefront), for block sizes around the shortest
/// wavefront block (16) and the cascade lengths, with hostile input.
#[test]
fn wavefront_blocks_equal_tick_at_every_rate() {
    for rate in [250.0, 500.0, 1000.0, 2000.0, 4000.0] {
        let mut x = signal(6_000, rate, 17);
        let mut rng = Rng(9);
        for _ in 0..30 {
            let i = rng.below(x.len() as u64) as usize;
            x[i] = match rng.below(3) {
                0 => f64::NAN,
                1 => f64::NEG_INFINITY,
                _ => 1e150,
            };
        }
        for config in all_configs(rate) {
            let mut a = Chain::new(&config).unwrap();
            let ticked: Vec<f64> = x.iter().map(|&v| a.tick(v)).collect();
            for block in [15, 16, 17, 23, 24, 25, 256, 257, 1000] {
                let mut b = Chain::new(&config).unwrap();
                let mut got = vec![0.0; x.len()];
                for (input, output) in x.chunks(block).zip(got.chunks_mut(block)) {
                    assert_eq!(b.process(input, output), input.len());
                }
                for (i, (p, q)) in ticked.iter().zip(&got).enumerate() {
                    assert_eq!(
                        p.to_bits(),
                        q.to_bits(),
                        "{rate} Hz {config:?} block {block} {i}"
                    );
                }
                assert_eq!(a.filtered().to_bits(), b.filtered().to_bits());
                assert_eq!(a.rejected_inputs(), b.rejected_inputs());
                assert_eq!(b.state_resets(), 0);
                // the filtered (pre-envelope) values of every sample
                let mut c = Chain::new(&config).unwrap();
                let mut d = Chain::new(&config).unwrap();
                let mut env = vec![0.0; x.len()];
                let mut filt = vec![0.0; x.len()];
                for ((input, output), f) in x
                    .chunks(block)
                    .zip(env.chunks_mut(block))
                    .zip(filt.chunks_mut(block))
                {
                    assert_eq!(c.process_with_filtered(input, f, output), input.len());
                }
                for (i, &v) in x.iter().enumerate() {
                    assert_eq!(d.tick(v).to_bits(), env[i].to_bits(), "{rate} Hz {i}");
                    assert_eq!(d.filtered().to_bits(), filt[i].to_bits(), "{rate} Hz {i}");
                }
                // the state left behind is the same: continue sample by sample
                for &v in &x[..100] {
                    assert_eq!(a.clone().tick(v).to_bits(), b.tick(v).to_bits());
                    a.tick(v);
                }
                a = Chain::new(&config).unwrap();
                for &v in &x {
                    a.tick(v);
                }
            }
        }
    }
}

#[test]
fn tick_equals_process_for_every_stage() {
    let rate = 2000.0;
    let x = signal(20_000, rate, 3);
    for config in all_configs(rate) {
        let mut a = Chain::new(&config).unwrap();
        let mut b = Chain::new(&config).unwrap();
        let mut c = Chain::new(&config).unwrap();
        let ticked: Vec<f64> = x.iter().map(|&v| a.tick(v)).collect();
        let processed = whole(&mut b, &x);
        let mut in_place = x.clone();
        c.process_in_place(&mut in_place);
        for i in 0..x.len() {
            assert_eq!(
                ticked[i].to_bits(),
                processed[i].to_bits(),
                "{config:?} {i}"
            );
            assert_eq!(ticked[i].to_bits(), in_place[i].to_bits(), "{config:?} {i}");
        }
        assert_eq!(a.filtered().to_bits(), b.filtered().to_bits());
    }
    // Each primitive on its own.
    let sos = butter(
        6,
        Band::BandStop {
            low_hz: 45.0,
            high_hz: 55.0,
        },
        rate,
    )
    .unwrap();
    let (mut f1, mut f2) = (SosFilter::new(&sos), SosFilter::new(&sos));
    let mut n1 = MainsNotch::new(Mains::Hz60, 25.0, rate, None).unwrap();
    let mut n2 = n1;
    let mut r1 = MovingRms::new(50.0, rate).unwrap();
    let mut r2 = r1.clone();
    let mut e1 = RectifiedLowPass::new(5.0, 2, rate).unwrap();
    let mut e2 = e1;
    let mut t1 = TeagerKaiser::new();
    let mut t2 = t1;
    let mut out = vec![0.0; x.len()];
    f2.process(&x, &mut out);
    assert!(x
        .iter()
        .zip(&out)
        .all(|(&v, o)| f1.tick(v).to_bits() == o.to_bits()));
    n2.process(&x, &mut out);
    assert!(x
        .iter()
        .zip(&out)
        .all(|(&v, o)| n1.tick(v).to_bits() == o.to_bits()));
    let mut n3 = MainsNotch::new(Mains::Hz60, 25.0, rate, None).unwrap();
    let mut in_place = x.clone();
    n3.process_in_place(&mut in_place);
    assert_eq!(in_place, out);
    r2.process(&x, &mut out);
    assert!(x
        .iter()
        .zip(&out)
        .all(|(&v, o)| r1.tick(v).to_bits() == o.to_bits()));
    e2.process(&x, &mut out);
    assert!(x
        .iter()
        .zip(&out)
        .all(|(&v, o)| e1.tick(v).to_bits() == o.to_bits()));
    t2.process(&x, &mut out);
    assert!(x
        .iter()
        .zip(&out)
        .all(|(&v, o)| t1.tick(v).to_bits() == o.to_bits()));
}

#[test]
fn process_with_mismatched_lengths_consumes_only_what_fits() {
    let config = ChainConfig::emg(1000.0);
    let x = signal(100, 1000.0, 9);
    let mut a = Chain::new(&config).unwrap();
    let mut b = Chain::new(&config).unwrap();
    let mut short = [0.0; 40];
    assert_eq!(a.process(&x, &mut short), 40);
    assert_eq!(a.process(&x[40..], &mut []), 0);
    let mut rest = [0.0; 60];
    assert_eq!(a.process(&x[40..], &mut rest), 60);
    let reference = whole(&mut b, &x);
    assert_eq!(&reference[..40], &short[..]);
    assert_eq!(&reference[40..], &rest[..]);
}

#[test]
fn nan_is_held_counted_and_never_poisons() {
    let rate = 1000.0;
    let x = signal(10_000, rate, 21);
    let mut clean = Chain::new(&ChainConfig::emg(rate)).unwrap();
    let mut dirty = Chain::new(&ChainConfig::emg(rate)).unwrap();
    let mut expect_held = Chain::new(&ChainConfig::emg(rate)).unwrap();
    let mut last_good = 0.0;
    for (i, &v) in x.iter().enumerate() {
        let bad = (2000..2050).contains(&i) || i % 997 == 0;
        let input = if bad { f64::NAN } else { v };
        let y = dirty.tick(input);
        assert!(y.is_finite(), "sample {i}");
        // Policy: a rejected sample is replaced by the last accepted one.
        let held = if bad { last_good } else { v };
        if !bad {
            last_good = v;
        }
        assert_eq!(y.to_bits(), expect_held.tick(held).to_bits(), "sample {i}");
        clean.tick(v);
    }
    let bad_count = 50
        + (0..10_000)
            .filter(|i| i % 997 == 0 && !(2000..2050).contains(i))
            .count();
    assert_eq!(dirty.rejected_inputs(), bad_count as u64);
    assert_eq!(clean.rejected_inputs(), 0);
    assert_eq!(dirty.state_resets(), 0);
    dirty.reset();
    assert_eq!(dirty.rejected_inputs(), 0);
    // Infinities and absurd magnitudes follow the same policy.
    for v in [
        f64::INFINITY,
        f64::NEG_INFINITY,
        INPUT_LIMIT * 10.0,
        -f64::MAX,
    ] {
        assert!(dirty.tick(v).is_finite());
    }
    assert_eq!(dirty.rejected_inputs(), 4);
    assert!(dirty.tick(INPUT_LIMIT).is_finite());
    assert_eq!(dirty.rejected_inputs(), 4, "INPUT_LIMIT itself is accepted");
}

#[test]
fn reset_returns_to_the_constructed_state() {
    let x = signal(3000, 1000.0, 4);
    let mut a = Chain::new(&ChainConfig::emg(1000.0)).unwrap();
    let first = whole(&mut a, &x);
    a.reset();
    let second = whole(&mut a, &x);
    assert_eq!(first, second);
}

#[test]
fn presets_build_at_every_typical_rate() {
    for rate in [
        1.0, 10.0, 20.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 10_000.0, 48_000.0,
    ] {
        for role in Role::ALL {
            let config = ChainConfig::for_role(role, rate);
            let chain = Chain::new(&config).unwrap_or_else(|e| panic!("{role} @ {rate} Hz: {e}"));
            assert!(chain.sections() <= levator::core::conditioning::MAX_CHAIN_SECTIONS);
        }
    }
    // 10 Hz high-resolution manometry: no filter can sit below 5 Hz Nyquist
    // sensibly, so the pressure preset is a pass-through.
    let hrm = ChainConfig::pressure(10.0);
    assert_eq!(hrm.lowpass_hz, None);
    assert_eq!(Chain::new(&hrm).unwrap().sections(), 0);
    // 50 Hz pressure trainer: a 5 Hz low-pass.
    assert_eq!(ChainConfig::pressure(50.0).lowpass_hz, Some(5.0));
    // EMG at 1 kHz: 10 Hz HP (1 section), 20-450 band-pass N=4 (4), 9 notches.
    let emg = Chain::new(&ChainConfig::emg(1000.0)).unwrap();
    assert_eq!((emg.sections(), emg.notches()), (14, 9));
    // OpenBCI Cyton at 250 Hz: band tops out at 112.5 Hz, notches 50 and 100.
    let cyton = ChainConfig::emg(250.0);
    assert_eq!(cyton.band_hz, Some((20.0, 112.5)));
    assert_eq!(Chain::new(&cyton).unwrap().notches(), 2);
    assert_eq!(ChainConfig::default(), ChainConfig::emg(1000.0));
}

#[test]
fn invalid_configs_give_typed_errors() {
    let base = ChainConfig::emg(1000.0);
    let err = |f: &dyn Fn(&mut ChainConfig)| {
        let mut c = base;
        f(&mut c);
        Chain::new(&c).expect_err("config must be rejected")
    };
    assert!(matches!(
        err(&|c| c.rate_hz = f64::NAN),
        ChainError::InvalidRate { .. }
    ));
    assert!(matches!(
        err(&|c| c.rate_hz = -5.0),
        ChainError::InvalidRate { .. }
    ));
    assert!(matches!(
        err(&|c| c.rate_hz = 0.0),
        ChainError::InvalidRate { .. }
    ));
    assert!(matches!(
        err(&|c| c.highpass_hz = Some(600.0)),
        ChainError::HighPass(DesignError::AboveNyquist { .. })
    ));
    assert!(matches!(
        err(&|c| c.highpass_order = 0),
        ChainError::HighPass(DesignError::InvalidOrder { order: 0 })
    ));
    assert!(matches!(
        err(&|c| c.band_order = 9),
        ChainError::BandPass(DesignError::InvalidOrder { order: 9 })
    ));
    assert!(matches!(
        err(&|c| c.band_hz = Some((450.0, 20.0))),
        ChainError::BandPass(DesignError::EdgesNotIncreasing { .. })
    ));
    assert!(matches!(
        err(&|c| c.band_hz = Some((f64::NAN, 20.0))),
        ChainError::BandPass(DesignError::NonFiniteFrequency)
    ));
    assert!(matches!(
        err(&|c| c.band_hz = Some((20.0, 500.0))),
        ChainError::BandPass(DesignError::AboveNyquist { .. })
    ));
    assert!(matches!(
        err(&|c| c.lowpass_hz = Some(0.0)),
        ChainError::LowPass(DesignError::FrequencyNotPositive { .. })
    ));
    assert!(matches!(
        err(&|c| c.notch_q = 0.0),
        ChainError::Notch(NotchError::InvalidQ { .. })
    ));
    assert!(matches!(
        err(&|c| c.notch_q = f64::INFINITY),
        ChainError::Notch(NotchError::InvalidQ { .. })
    ));
    // A low Q makes the high harmonics' notches wider than Nyquist allows:
    // scipy's iirnotch would return an unstable section (pole radius > 1);
    // found by conditioning_props in CI (Q 0.5 at 2 kHz, 950 Hz harmonic).
    assert!(matches!(
        err(&|c| {
            c.rate_hz = 2000.0;
            c.notch_q = 0.5;
        }),
        ChainError::Notch(NotchError::BandwidthTooWide { hz, .. }) if hz == 950.0
    ));
    assert!(matches!(
        err(&|c| c.notch_max_hz = Some(f64::NAN)),
        ChainError::Notch(NotchError::InvalidMaxFrequency { .. })
    ));
    assert!(matches!(
        err(&|c| {
            c.rate_hz = 20_000.0;
            c.band_hz = None;
        }),
        ChainError::Notch(NotchError::TooManyHarmonics { needed: 199 })
    ));
    assert!(matches!(
        err(&|c| c.envelope = EnvelopeConfig::MovingRms { window_ms: 0.0 }),
        ChainError::Envelope(EnvelopeError::InvalidWindow { .. })
    ));
    assert!(matches!(
        err(&|c| c.envelope = EnvelopeConfig::MovingRms { window_ms: 0.2 }),
        ChainError::Envelope(EnvelopeError::InvalidWindow { .. })
    ));
    assert!(matches!(
        err(&|c| c.envelope = EnvelopeConfig::MovingRms { window_ms: 1e12 }),
        ChainError::Envelope(EnvelopeError::WindowTooLong { .. })
    ));
    assert!(matches!(
        err(&|c| c.envelope = EnvelopeConfig::RectifiedLowPass {
            cutoff_hz: 5.0,
            order: 0
        }),
        ChainError::Envelope(EnvelopeError::LowPass(DesignError::InvalidOrder {
            order: 0
        }))
    ));
    // Errors are Copy, Display and std errors with a source chain.
    let e = err(&|c| c.band_order = 9);
    let copy = e;
    assert_eq!(copy, e);
    assert!(e.to_string().contains("band-pass"), "{e}");
    let source = std::error::Error::source(&e).expect("has a source");
    assert!(source.to_string().contains("order 9"), "{source}");
}

/// Steady-state gain of `filter` for a sine at `hz` (RMS out / RMS in).
fn gain(mut filter: impl FnMut(f64) -> f64, hz: f64, rate_hz: f64) -> f64 {
    let n = (rate_hz * 4.0) as usize;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..n {
        let x = (2.0 * std::f64::consts::PI * hz * i as f64 / rate_hz).sin();
        let y = filter(x);
        if i >= n / 2 {
            num += y * y;
            den += x * x;
        }
    }
    (num / den).sqrt()
}

#[test]
fn responses_do_what_the_names_say() {
    let rate = 1000.0;
    let bp = butter(
        4,
        Band::BandPass {
            low_hz: 20.0,
            high_hz: 450.0,
        },
        rate,
    )
    .unwrap();
    let g = |hz| {
        let mut f = SosFilter::new(&bp);
        gain(|x| f.tick(x), hz, rate)
    };
    assert!((g(100.0) - 1.0).abs() < 1e-3, "pass band");
    assert!(
        (g(20.0) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-2,
        "-3 dB at the edge"
    );
    assert!(g(2.0) < 1e-3, "stop band");
    let mut notch = MainsNotch::new(Mains::Hz50, 30.0, rate, None).unwrap();
    assert!(
        gain(|x| notch.tick(x), 150.0, rate) < 1e-2,
        "3rd harmonic notched"
    );
    let mut notch = MainsNotch::new(Mains::Hz50, 30.0, rate, None).unwrap();
    assert!(
        (gain(|x| notch.tick(x), 75.0, rate) - 1.0).abs() < 0.02,
        "between harmonics"
    );
    // The whole EMG chain (no envelope) removes hum and drift, keeps EMG band.
    let mut c = ChainConfig::emg(rate);
    c.envelope = EnvelopeConfig::None;
    let mut chain = Chain::new(&c).unwrap();
    assert!(gain(|x| chain.tick(x), 50.0, rate) < 1e-2);
    let mut chain = Chain::new(&c).unwrap();
    assert!(gain(|x| chain.tick(x), 0.5, rate) < 1e-4);
    let mut chain = Chain::new(&c).unwrap();
    assert!((gain(|x| chain.tick(x), 125.0, rate) - 1.0).abs() < 0.05);
}
