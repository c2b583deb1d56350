//! Property tests of the Butterworth designer over random valid inputs:
//! every design is stable and has the textbook response (unity gain in
//! the pass band, -3 dB at each edge, zero/deep attenuation where the band
//! type demands it). Complements the scipy golden vectors, which pin the
//! exact coefficients of fixed cases.

use levator::core::conditioning::{butter, iirnotch, Band, Sos};
use proptest::prelude::*;

/// |H(e^{iω})| of a cascade at `hz`.
fn magnitude(sos: &Sos, hz: f64, rate_hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / rate_hz;
    // z^-1 = e^{-iω}
    let (c1, s1) = (w.cos(), -w.sin());
    let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
    sos.sections().iter().fold(1.0, |acc, r| {
        let num = (r[0] + r[1] * c1 + r[2] * c2, r[1] * s1 + r[2] * s2);
        let den = (r[3] + r[4] * c1 + r[5] * c2, r[4] * s1 + r[5] * s2);
        acc * num.0.hypot(num.1) / den.0.hypot(den.1)
    })
}

/// A second-order section is stable iff both poles are inside the unit
/// circle: |a2| < 1 and |a1| < 1 + a2 (the stability triangle).
fn stable(sos: &Sos) -> bool {
    sos.sections()
        .iter()
        .all(|r| r[3] == 1.0 && r[5].abs() < 1.0 && r[4].abs() < 1.0 + r[5])
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(100.0),
        Just(250.0),
        Just(500.0),
        Just(1000.0),
        Just(2000.0)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lowpass_and_highpass(order in 1u8..=8, rate_hz in rate(), frac in 0.02f64..0.8) {
        let fc = frac * rate_hz / 2.0;
        let lp = butter(order, Band::LowPass { cutoff_hz: fc }, rate_hz).unwrap();
        let hp = butter(order, Band::HighPass { cutoff_hz: fc }, rate_hz).unwrap();
        prop_assert!(stable(&lp) && stable(&hp));
        prop_assert_eq!(lp.len(), usize::from(order).div_ceil(2));
        prop_assert!((magnitude(&lp, 0.0, rate_hz) - 1.0).abs() < 1e-9, "LP DC gain");
        prop_assert!(magnitude(&lp, rate_hz / 2.0, rate_hz) < 1e-9, "LP zero at Nyquist");
        prop_assert!((magnitude(&hp, rate_hz / 2.0, rate_hz) - 1.0).abs() < 1e-9, "HP Nyquist gain");
        prop_assert!(magnitude(&hp, 0.0, rate_hz) < 1e-9, "HP zero at DC");
        let edge = std::f64::consts::FRAC_1_SQRT_2;
        prop_assert!((magnitude(&lp, fc, rate_hz) - edge).abs() < 1e-9, "LP -3 dB at fc");
        prop_assert!((magnitude(&hp, fc, rate_hz) - edge).abs() < 1e-9, "HP -3 dB at fc");
    }

    #[test]
    fn bandpass_and_bandstop(
        order in 1u8..=8,
        rate_hz in rate(),
        lo_frac in 0.02f64..0.6,
        width in 0.1f64..1.0,
    ) {
        let nyq = rate_hz / 2.0;
        let lo = lo_frac * nyq;
        let hi = lo + width * (0.95 * nyq - lo);
        let bp = butter(order, Band::BandPass { low_hz: lo, high_hz: hi }, rate_hz).unwrap();
        let bs = butter(order, Band::BandStop { low_hz: lo, high_hz: hi }, rate_hz).unwrap();
        prop_assert!(stable(&bp) && stable(&bs));
        prop_assert_eq!(bp.len(), usize::from(order));
        // Bilinear prewarping puts the -3 dB points exactly at the edges;
        // the peak is at the geometric centre of the *warped* edges.
        let warp = |f: f64| (std::f64::consts::PI * f / rate_hz).tan();
        let centre = (warp(lo) * warp(hi)).sqrt().atan() * rate_hz / std::f64::consts::PI;
        let edge = std::f64::consts::FRAC_1_SQRT_2;
        prop_assert!((magnitude(&bp, centre, rate_hz) - 1.0).abs() < 1e-8, "BP centre gain");
        prop_assert!((magnitude(&bp, lo, rate_hz) - edge).abs() < 1e-8, "BP low edge");
        prop_assert!((magnitude(&bp, hi, rate_hz) - edge).abs() < 1e-8, "BP high edge");
        prop_assert!(magnitude(&bp, 0.0, rate_hz) < 1e-9 && magnitude(&bp, nyq, rate_hz) < 1e-9);
        prop_assert!((magnitude(&bs, 0.0, rate_hz) - 1.0).abs() < 1e-8, "BS DC gain");
        prop_assert!((magnitude(&bs, nyq, rate_hz) - 1.0).abs() < 1e-8, "BS Nyquist gain");
        prop_assert!(magnitude(&bs, centre, rate_hz) < 1e-6, "BS zero at centre");
        prop_assert!((magnitude(&bs, lo, rate_hz) - edge).abs() < 1e-8, "BS low edge");
    }

    #[test]
    fn notch_is_zero_at_f0_and_unity_far_away(
        rate_hz in rate(),
        frac in 0.05f64..0.95,
        q in 1.0f64..100.0,
    ) {
        let f0 = frac * rate_hz / 2.0;
        let row = iirnotch(f0, q, rate_hz).unwrap();
        let sos = Sos::from_sections(&[row]).unwrap();
        prop_assert!(stable(&sos));
        prop_assert!(magnitude(&sos, f0, rate_hz) < 1e-9);
        prop_assert!((magnitude(&sos, 0.0, rate_hz) - 1.0).abs() < 1e-12);
        prop_assert!((magnitude(&sos, rate_hz / 2.0, rate_hz) - 1.0).abs() < 1e-12);
    }
}

use levator::core::conditioning::{
    Chain, ChainBank, ChainConfig, EnvelopeConfig, Mains, NotchKind, INPUT_LIMIT,
};

/// Any config, mostly valid, sometimes not: frequencies are drawn as
/// fractions of Nyquist, with rare nonsense (NaN, negative, zero, above
/// Nyquist), orders mostly 1..=8 with rare 0 or 9, and so on.
fn any_config() -> impl Strategy<Value = ChainConfig> {
    // A frequency as a fraction of Nyquist (> 1 is above Nyquist).
    let frac = || {
        prop_oneof![
            12 => (0.001f64..0.95).prop_map(Some),
            4 => Just(None),
            1 => Just(Some(f64::NAN)),
            1 => Just(Some(-0.1)),
            1 => Just(Some(0.0)),
            1 => (1.0f64..3.0).prop_map(Some),
        ]
    };
    let order = || prop_oneof![20 => 1u8..=8, 1 => Just(0u8), 1 => 9u8..=255];
    let rate = prop_oneof![
        20 => prop_oneof![Just(10.0), Just(100.0), Just(250.0), Just(1000.0), Just(2000.0)],
        4 => 1.0f64..20_000.0,
        1 => Just(f64::NAN),
        1 => Just(0.0),
        1 => Just(-250.0),
    ];
    let envelope = prop_oneof![
        Just(EnvelopeConfig::None),
        (0.0f64..500.0).prop_map(|window_ms| EnvelopeConfig::MovingRms { window_ms }),
        (0.001f64..1.2, order()).prop_map(|(f, order)| EnvelopeConfig::RectifiedLowPass {
            cutoff_hz: f, // scaled by Nyquist below
            order,
        }),
        Just(EnvelopeConfig::TeagerKaiser),
    ];
    let q = prop_oneof![10 => 0.5f64..100.0, 1 => Just(0.0), 1 => Just(f64::NAN)];
    let mains = prop_oneof![Just(None), Just(Some(Mains::Hz50)), Just(Some(Mains::Hz60))];
    let kind = prop_oneof![Just(NotchKind::Cascade), Just(NotchKind::Comb)];
    (
        rate,
        (frac(), order()),
        (frac(), 0.05f64..0.9, order()),
        (frac(), order()),
        (mains, q, kind),
        envelope,
    )
        .prop_map(|(rate_hz, hp, bp, lp, (mains, q, kind), envelope)| {
            let nyq = rate_hz / 2.0;
            let mut c = ChainConfig::passthrough(rate_hz);
            c.highpass_hz = hp.0.map(|f| f * nyq);
            c.highpass_order = hp.1;
            // upper edge: a fraction of the way from the lower edge to Nyquist
            c.band_hz = bp.0.map(|f| (f * nyq, f * nyq + bp.1 * (nyq - f * nyq)));
            c.band_order = bp.2;
            c.lowpass_hz = lp.0.map(|f| f * nyq);
            c.lowpass_order = lp.1;
            c.mains = mains;
            c.notch_q = q;
            c.notch_kind = kind;
            c.envelope = match envelope {
                EnvelopeConfig::RectifiedLowPass { cutoff_hz, order } => {
                    EnvelopeConfig::RectifiedLowPass {
                        cutoff_hz: cutoff_hz * nyq,
                        order,
                    }
                }
                other => other,
            };
            c
        })
}

fn any_sample() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e4f64..1e4,
        1 => any::<f64>(),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE / 4.0),
            Just(INPUT_LIMIT),
        ],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Construction either fails with a typed error or yields a chain whose
    /// output stays finite for any input, counting exactly the rejected
    /// samples; a 2-lane bank agrees bit for bit.
    #[test]
    fn any_config_any_input_never_panics_or_poisons(
        config in any_config(),
        input in proptest::collection::vec(any_sample(), 0..400),
    ) {
        let chain = Chain::new(&config);
        let bank = ChainBank::<2>::new(&config);
        // (Debug text: NaN fields make PartialEq fail on equal errors.)
        prop_assert_eq!(
            format!("{:?}", chain.as_ref().err()),
            format!("{:?}", bank.as_ref().err())
        );
        if let (Ok(mut chain), Ok(mut bank)) = (chain, bank) {
            let mut rejected = 0;
            for &x in &input {
                if x.is_nan() || x.abs() > INPUT_LIMIT {
                    rejected += 1;
                }
                let y = chain.tick(x);
                let yb = bank.tick([x, 1.0]);
                prop_assert!(y.is_finite(), "{:?} gave {} for {}", config, y, x);
                prop_assert_eq!(y.to_bits(), yb[0].to_bits());
            }
            prop_assert_eq!(chain.rejected_inputs(), rejected);
            prop_assert_eq!(bank.rejected_inputs(0), rejected);
            prop_assert_eq!(chain.state_resets(), 0);
        }
    }
}
