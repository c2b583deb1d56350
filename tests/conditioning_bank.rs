//! `ChainBank<N>` (N channels in SIMD lanes) against N scalar `Chain`s:
//! bit-identical output, guard and counters per lane, chunking invariance.

use levator::core::conditioning::{
    Chain, ChainBank, ChainConfig, EnvelopeConfig, Mains, NotchKind,
};

fn frames<const N: usize>(len: usize, seed: u64) -> Vec<[f64; N]> {
    let mut s = seed;
    (0..len)
        .map(|n| {
            core::array::from_fn(|ch| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                if (s >> 40) % 4001 == 0 {
                    return f64::NAN;
                }
                let noise = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                (ch as f64 + 1.0) * 40.0 * noise + 10.0 * (n as f64 * 0.314).sin() + 3.0
            })
        })
        .collect()
}

fn configs(rate: f64) -> Vec<ChainConfig> {
    let mut v = vec![ChainConfig::emg(rate), ChainConfig::pressure(rate)];
    let mut c = ChainConfig::emg(rate);
    c.envelope = EnvelopeConfig::RectifiedLowPass {
        cutoff_hz: 6.0,
        order: 3,
    };
    c.mains = Some(Mains::Hz60);
    v.push(c);
    let mut c = ChainConfig::emg(rate);
    c.envelope = EnvelopeConfig::TeagerKaiser;
    v.push(c);
    // comb notches (a comb at 50 Hz; at 60 Hz a comb where the rate allows,
    // the cascade fallback elsewhere)
    for mains in [Mains::Hz50, Mains::Hz60] {
        let mut c = ChainConfig::emg(rate);
        c.notch_kind = NotchKind::Comb;
        c.mains = Some(mains);
        v.push(c);
    }
    v
}

fn check<const N: usize>(rate: f64) {
    let input = frames::<N>(10_000, 77 + N as u64);
    for config in configs(rate) {
        let mut bank = ChainBank::<N>::new(&config).unwrap();
        let mut chains: Vec<Chain> = (0..N).map(|_| Chain::new(&config).unwrap()).collect();
        assert_eq!(bank.sections(), chains[0].sections());
        for (i, frame) in input.iter().enumerate() {
            let out = bank.tick(*frame);
            let filtered = bank.filtered();
            for ch in 0..N {
                let want = chains[ch].tick(frame[ch]);
                assert_eq!(
                    out[ch].to_bits(),
                    want.to_bits(),
                    "{config:?} N={N} frame {i} ch {ch}"
                );
                assert_eq!(filtered[ch].to_bits(), chains[ch].filtered().to_bits());
            }
        }
        for (ch, chain) in chains.iter().enumerate() {
            assert_eq!(bank.rejected_inputs(ch), chain.rejected_inputs());
        }
        assert!((0..N).map(|ch| bank.rejected_inputs(ch)).sum::<u64>() > 0);
        assert_eq!(bank.rejected_inputs(N), 0);
        assert_eq!(bank.config(), &config);

        // process == tick, in chunks of any size (incl. 0 and 1)
        bank.reset();
        let mut whole = vec![[0.0; N]; input.len()];
        assert_eq!(bank.process(&input, &mut whole), input.len());
        bank.reset();
        let mut in_place = input.clone();
        bank.process_in_place(&mut in_place);
        assert!(whole
            .iter()
            .flatten()
            .zip(in_place.iter().flatten())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        bank.reset();
        let mut chunked = Vec::with_capacity(input.len());
        let mut rest: &[[f64; N]] = &input;
        let mut k = 0usize;
        while !rest.is_empty() {
            let n = [0, 1, 7, 1000, 3][k % 5].min(rest.len());
            k += 1;
            let mut out = vec![[0.0; N]; n];
            bank.process(&rest[..n], &mut out);
            chunked.extend_from_slice(&out);
            rest = &rest[n..];
        }
        assert!(whole
            .iter()
            .flatten()
            .zip(chunked.iter().flatten())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn bank_of_1_equals_chain() {
    check::<1>(1000.0);
}

#[test]
fn bank_of_2_equals_chains() {
    check::<2>(2000.0);
}

#[test]
fn bank_of_4_equals_chains() {
    check::<4>(1000.0);
}

#[test]
fn bank_of_8_equals_chains() {
    check::<8>(250.0);
}

#[test]
fn bank_rejects_what_chain_rejects() {
    let mut c = ChainConfig::emg(1000.0);
    c.band_order = 0;
    assert_eq!(
        ChainBank::<4>::new(&c).unwrap_err(),
        Chain::new(&c).unwrap_err()
    );
}

/// Regression (found by `conditioning_props` in CI): an input at exactly
/// `INPUT_LIMIT` through a low-pass rings slightly above the limit; the
/// scalar envelope's guard held it while the bank's lanes squared it, so
/// the two disagreed. Both now apply the same per-lane guard.
#[test]
fn bank_matches_chain_when_the_filter_output_passes_the_input_limit() {
    use levator::core::conditioning::{EnvelopeConfig, INPUT_LIMIT};
    let mut config = ChainConfig::passthrough(10.0);
    config.lowpass_hz = Some(4.347328151883431);
    config.lowpass_order = 1;
    config.notch_q = 0.5;
    config.envelope = EnvelopeConfig::MovingRms {
        window_ms: 356.01541303362046,
    };
    let mut chain = Chain::new(&config).unwrap();
    let mut bank = ChainBank::<2>::new(&config).unwrap();
    for x in [INPUT_LIMIT, f64::NAN, INPUT_LIMIT, -INPUT_LIMIT, 0.0, 1.0] {
        let y = chain.tick(x);
        let yb = bank.tick([x, 1.0]);
        assert!(y.is_finite());
        assert_eq!(y.to_bits(), yb[0].to_bits(), "input {x}");
    }
}
