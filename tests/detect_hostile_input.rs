//! Bad input never panics: arbitrary sample values (NaN, infinities,
//! subnormals, 1e300), arbitrary gaps, repeated and backwards sample
//! indices, and frames with fewer values than the stream has channels, on
//! every channel layout the devices use, at rates from 1.85 Hz to 2 kHz.
//! Every emitted event must still be well formed (finite times, detection
//! never before onset).

use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::{Event, EventKind, Phase};
use levator::core::stream::{ChannelSpec, Frame, Role, StreamSpec, Unit};
use proptest::prelude::*;

fn layouts() -> Vec<Vec<ChannelSpec>> {
    let c = ChannelSpec::canonical;
    vec![
        vec![c(Role::PelvicEmg), c(Role::AbdominalEmg)],
        vec![c(Role::PelvicEmg)],
        vec![c(Role::PelvicPressure), c(Role::ProbeMotion)],
        vec![c(Role::PelvicPressure), c(Role::AbdominalPressure)],
        vec![
            ChannelSpec {
                role: Role::AbdominalPressure,
                unit: Unit::MmHg,
            },
            ChannelSpec {
                role: Role::PelvicPressure,
                unit: Unit::MmHg,
            },
        ],
        Role::ALL.iter().map(|&r| c(r)).collect(),
    ]
}

#[derive(Clone, Debug)]
enum Step {
    Frame(Vec<f64>),
    Gap(u64),
    Rewind(u64),
    Poll(f64),
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -50.0f64..50.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e300),
        1 => Just(-1e300),
        1 => Just(f64::MIN_POSITIVE / 4.0),
        1 => any::<f64>(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        20 => prop::collection::vec(value(), 0..8).prop_map(Step::Frame),
        1 => (0u64..5_000).prop_map(Step::Gap),
        1 => (0u64..50).prop_map(Step::Rewind),
        1 => (-10.0f64..1e4).prop_map(Step::Poll),
    ]
}

fn check(e: &Event) {
    assert!(e.onset_s.is_finite(), "{e:?}");
    let d = e.detected_s.expect("a detector always dates its decision");
    assert!(d.is_finite(), "{e:?}");
    assert!(d >= e.onset_s - 1e-9, "detected before onset: {e:?}");
    if let Some(end) = e.end_s {
        assert!(end.is_finite() && end >= e.onset_s - 1e-9, "{e:?}");
    }
    if e.kind == EventKind::PoorRelease {
        assert_eq!(e.phase, None);
    }
    if e.phase == Some(Phase::End) {
        assert!(e.end_s.is_some(), "end events carry end_s: {e:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hostile_streams_never_panic(
        layout in 0usize..6,
        rate in prop_oneof![Just(1.85f64), Just(10.0), Just(50.0), Just(250.0), Just(1000.0), Just(2000.0)],
        steps in prop::collection::vec(step(), 0..600),
        warm in 0usize..3000,
    ) {
        let layouts = layouts();
        let spec = StreamSpec::new(rate, &layouts[layout]).unwrap();
        let mut p = Pipeline::new(spec, PipelineConfig::default()).unwrap();
        let mut sink = |e: Event| check(&e);
        let mut index = 0u64;
        // a plausible warm-up so the detectors are armed when the junk arrives
        for i in 0..warm as u64 {
            let v: Vec<f64> = (0..spec.len()).map(|c| 10.0 + ((i * 31 + c as u64 * 7) % 17) as f64 * 0.1).collect();
            p.tick(&Frame::new(index, &v), &mut sink);
            index += 1;
        }
        for s in steps {
            match s {
                Step::Frame(v) => {
                    p.tick(&Frame::new(index, &v), &mut sink);
                    index += 1;
                }
                Step::Gap(lost) => {
                    p.gap(index, lost, &mut sink);
                    index += lost;
                }
                Step::Rewind(back) => index = index.saturating_sub(back),
                Step::Poll(t) => p.poll(t, &mut sink),
            }
        }
        p.finish(&mut sink);
    }
}
