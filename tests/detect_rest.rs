//! Ten minutes of rest must give no detector events (issue 4: at most 0.5
//! false events per 10 minutes), on simulated devices at 10 Hz to 2 kHz
//! and on hand-made rest with mains hum, drift and ECG bleed.

mod detect_common;

use detect_common::{dump, run_frames, simulate, Noise};
use levator::core::detect::PipelineConfig;
use levator::core::event::{Event, EventKind};
use levator::core::stream::{ChannelSpec, Frame, Role, StreamSpec};

/// Everything a detector could falsely report at rest (signal-quality
/// reports are not detector decisions about the muscles).
fn muscle_events(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.kind != EventKind::SignalQuality && e.is_onset())
        .copied()
        .collect()
}

#[test]
fn simulated_ten_minute_rest_gives_no_events() {
    for (device, subject, seed) in [
        ("emg-probe", "healthy", 1),
        ("emg-probe", "hypertonic", 2),
        ("manometry", "healthy", 3),
        ("pressure-trainer", "healthy", 4),
        ("two-sensor-trainer", "hypotonic", 5),
    ] {
        let run = simulate("rest_10min", subject, device, seed);
        assert!(run.duration_s >= 599.0);
        let false_events = muscle_events(&run.detected);
        assert!(
            false_events.is_empty(),
            "{device}/{subject}: {}",
            dump(&false_events)
        );
        let quality = run
            .detected
            .iter()
            .filter(|e| e.kind == EventKind::SignalQuality && e.is_onset())
            .count();
        assert!(quality <= 1, "{device}/{subject}: {}", dump(&run.detected));
    }
}

#[test]
fn hand_made_rest_with_hum_drift_and_ecg_gives_no_events() {
    let rate = 1000.0;
    let spec = StreamSpec::new(
        rate,
        &[
            ChannelSpec::canonical(Role::PelvicEmg),
            ChannelSpec::canonical(Role::AbdominalEmg),
        ],
    )
    .unwrap();
    let mut n = Noise::new(77);
    let two_pi = 2.0 * std::f64::consts::PI;
    let frames: Vec<Frame> = (0..(600.0 * rate) as u64)
        .map(|i| {
            let t = i as f64 / rate;
            let hum = 3.0 * (two_pi * 50.0 * t).sin() + 0.9 * (two_pi * 150.0 * t).sin();
            let drift = 40.0 * (two_pi * 0.03 * t).sin() + 10.0 * (two_pi * 0.4 * t).sin();
            let phase = (t % 0.9) / 0.04;
            let qrs = if phase < 1.0 {
                (std::f64::consts::PI * phase).sin()
            } else {
                0.0
            };
            let p = 2.5 * n.gaussian() + hum + drift + 1.5 * qrs;
            let a = 2.0 * n.gaussian() + hum + 0.5 * drift + 12.0 * qrs;
            Frame::new(i, &[p, a])
        })
        .collect();
    let ev = run_frames(spec, PipelineConfig::default(), &frames);
    assert!(muscle_events(&ev).is_empty(), "{}", dump(&ev));
}

#[test]
fn hand_made_manometry_rest_at_10_hz_gives_no_events() {
    let rate = 10.0;
    let spec = StreamSpec::new(
        rate,
        &[
            ChannelSpec::canonical(Role::AbdominalPressure),
            ChannelSpec::canonical(Role::PelvicPressure),
        ],
    )
    .unwrap();
    let mut n = Noise::new(5);
    let two_pi = 2.0 * std::f64::consts::PI;
    let frames: Vec<Frame> = (0..(600.0 * rate) as u64)
        .map(|i| {
            let t = i as f64 / rate;
            let breath = 2.0 * (two_pi * 0.22 * t).sin();
            // anal slow waves (~1/min) and sensor drift
            let slow = 6.0 * (two_pi * 0.017 * t).sin() + 3.0 * (two_pi * 0.004 * t).sin();
            Frame::new(
                i,
                &[
                    8.0 + breath + 0.5 * n.gaussian(),
                    80.0 + slow + 0.3 * breath + 2.0 * n.gaussian(),
                ],
            )
        })
        .collect();
    let ev = run_frames(spec, PipelineConfig::default(), &frames);
    assert!(muscle_events(&ev).is_empty(), "{}", dump(&ev));
}
