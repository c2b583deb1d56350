//! Retro-dated contraction onsets (`onset_s`) on hand-made 1 kHz EMG with
//! a known true onset: a recruitment ramp leaves the resting noise slowly,
//! so the last sample at the quiet level is late; the fitted foot of the
//! rise (`ContractionConfig::onset_max_power`) is closer. The same
//! recordings run with the fit disabled (the level-crossing rule) give the
//! reference, and the start decisions must not change.

mod detect_common;

use detect_common::{run_frames, starts, BandNoise, Noise};
use levator::core::detect::PipelineConfig;
use levator::core::event::{Event, EventKind};
use levator::core::stream::{ChannelSpec, Frame, Role, StreamSpec};

const RATE: f64 = 1000.0;

/// Raised-cosine ramp 0 -> 1 over `rise` s from `t0`, hold for 2 s, then a
/// brisk release (tau 50 ms).
fn squeeze(t: f64, t0: f64, rise: f64) -> f64 {
    let u = (t - t0) / rise;
    if u <= 0.0 {
        0.0
    } else if u < 1.0 {
        0.5 - 0.5 * (std::f64::consts::PI * u).cos()
    } else if t < t0 + rise + 2.0 {
        1.0
    } else {
        (-(t - t0 - rise - 2.0) / 0.05).exp()
    }
}

/// Single-channel pelvic EMG (µV): Gaussian noise whose RMS is 3 µV at rest
/// plus `amp` times the activation, with 50 Hz hum.
fn frames(onsets: &[(f64, f64)], amp: f64, seconds: f64, seed: u64) -> Vec<Frame> {
    let mut noise = Noise::new(seed);
    (0..(seconds * RATE) as u64)
        .map(|i| {
            let t = i as f64 / RATE;
            let act: f64 = onsets.iter().map(|&(t0, r)| squeeze(t, t0, r)).sum();
            let hum = 3.0 * (2.0 * std::f64::consts::PI * 50.0 * t).sin();
            Frame::new(i, &[(3.0 + amp * act) * noise.gaussian() + hum])
        })
        .collect()
}

fn spec() -> StreamSpec {
    StreamSpec::new(RATE, &[ChannelSpec::canonical(Role::PelvicEmg)]).unwrap()
}

fn run(frames: &[Frame], fit: bool) -> Vec<Event> {
    let mut config = PipelineConfig::default();
    if !fit {
        config.contraction.onset_max_power = 0;
    }
    starts(&run_frames(spec(), config, frames), EventKind::Contraction)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn fitted_onset_of_slow_recruitment_ramps_beats_the_level_crossing() {
    // 4 squeezes per recording with rise times of 0.2-0.8 s (the
    // physiological range), 6 recordings
    let onsets = [(8.0, 0.2), (14.0, 0.4), (20.0, 0.6), (26.0, 0.8)];
    let (mut fitted, mut crossing) = (Vec::new(), Vec::new());
    for seed in 1..=6 {
        let f = frames(&onsets, 30.0, 31.0, seed);
        let new = run(&f, true);
        let old = run(&f, false);
        assert_eq!(new.len(), onsets.len(), "seed {seed}: {new:#?}");
        assert_eq!(old.len(), onsets.len(), "seed {seed}: {old:#?}");
        for ((n, o), &(t0, _)) in new.iter().zip(&old).zip(&onsets) {
            // the start decision itself is unchanged
            assert_eq!(n.detected_s, o.detected_s, "seed {seed} onset {t0}");
            // never later than the level crossing
            assert!(
                n.onset_s <= o.onset_s + 1e-9,
                "{} > {}",
                n.onset_s,
                o.onset_s
            );
            fitted.push((n.onset_s - t0).abs());
            crossing.push((o.onset_s - t0).abs());
        }
    }
    let (fit_med, cross_med) = (median(fitted.clone()), median(crossing.clone()));
    eprintln!("median |onset error|: fitted {fit_med:.4} s, level crossing {cross_med:.4} s");
    // measured: fitted 0.044 s, level crossing 0.058 s (this envelope,
    // 3 µV of resting noise under 30 µV squeezes, leaves the resting
    // noise late on the slow ramps; the simulator's numbers are in the
    // module docs of levator-core's contraction detector)
    assert!(
        fit_med < 0.85 * cross_med,
        "fitted {fit_med} vs crossing {cross_med}"
    );
    assert!(fit_med <= 0.045, "fitted median |onset error| {fit_med}");
    let worst = fitted.iter().copied().fold(0.0, f64::max);
    assert!(worst <= 0.13, "worst fitted |onset error| {worst}");
}

#[test]
fn a_sharp_onset_stays_sharp() {
    // a step-like squeeze (rise 20 ms): the fit must not pull the onset
    // into the resting noise before it. It may move it earlier than the
    // level crossing by a quarter of the crossing-to-decision time
    // (`ONSET_BACK`): measured worst -15 ms here (the level crossing:
    // -9 ms)
    let onsets = [(8.0, 0.02), (14.0, 0.02), (20.0, 0.02)];
    for seed in 1..=4 {
        let f = frames(&onsets, 30.0, 24.0, seed);
        let new = run(&f, true);
        assert_eq!(new.len(), onsets.len(), "seed {seed}: {new:#?}");
        for (e, &(t0, _)) in new.iter().zip(&onsets) {
            assert!(
                (e.onset_s - t0).abs() <= 0.02,
                "seed {seed}: onset {} vs {t0}",
                e.onset_s
            );
        }
    }
}

/// Raised-cosine ramp from 0 (u <= 0) to 1 (u >= 1).
fn raised_cosine(u: f64) -> f64 {
    if u <= 0.0 {
        0.0
    } else if u < 1.0 {
        0.5 - 0.5 * (std::f64::consts::PI * u).cos()
    } else {
        1.0
    }
}

/// A squeeze from a residual plateau (hypertonic, incomplete release):
/// 3.4 µV of resting noise, a 0.3 s ramp to +26 µV held 2 s, a release
/// that leaves 40% of the rise for 6 s (then it fades), and a second
/// squeeze at `second_at` while the plateau is still there (a restart, not
/// a start from rest).
fn plateau_frames(second_at: f64, seed: u64) -> Vec<Frame> {
    let mut noise = BandNoise::new(seed, RATE);
    let ramp = |t: f64, t0: f64| raised_cosine((t - t0) / 0.3);
    let first = |t: f64| {
        let end = 8.3 + 2.0;
        if t < end {
            ramp(t, 8.0)
        } else {
            // brisk fall to the residual plateau, which fades after 6 s
            let d = t - end;
            0.6 * (-d / 0.05).exp() + 0.4 * (-(d - 6.0).max(0.0) / 0.5).exp()
        }
    };
    let second = |t: f64| {
        if t < second_at + 2.3 {
            ramp(t, second_at)
        } else {
            (-(t - second_at - 2.3) / 0.05).exp()
        }
    };
    (0..(22.0 * RATE) as u64)
        .map(|i| {
            let t = i as f64 / RATE;
            let act = (first(t) + second(t)).min(1.0);
            Frame::new(i, &[(3.4 + 26.0 * act) * noise.next()])
        })
        .collect()
}

#[test]
fn a_squeeze_from_a_residual_plateau_is_dated_to_its_own_foot() {
    // the restart's onset used to be the last time the smoothed level sat
    // near the plateau's valley, which a noisy plateau can leave for
    // seconds (measured here before RESTART_BACK: errors -0.58 to +0.13 s,
    // median |error| 0.13 s); now not before the rise's own mid-point by
    // more than its mid-to-decision time (measured: -0.10 to +0.13 s,
    // median 0.08 s)
    let second_at = 15.0;
    let mut errors = Vec::new();
    for seed in 1..=6 {
        let f = plateau_frames(second_at, seed);
        let s = run(&f, true);
        assert_eq!(s.len(), 2, "seed {seed}: {s:#?}");
        assert!(s[1].detected_s.unwrap() > second_at, "seed {seed}: {s:#?}");
        errors.push(s[1].onset_s - second_at);
    }
    let abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    eprintln!("restart onset errors (s): {errors:?}");
    assert!(abs.iter().all(|&e| e <= 0.15), "{errors:?}");
    assert!(median(abs) <= 0.1, "{errors:?}");
}

/// A weak tonic squeeze from a residual plateau: the first squeeze (0.3 s
/// ramp to +20 µV over 4 µV of band-limited resting noise, held 2 s)
/// leaves 35% of its rise (a level of 11 µV) for 12 s; at 14 s a 6 s hold
/// lifts the level by a further 38% of the plateau (+4.2 µV over 0.5 s;
/// the shape of the simulator's hypertonic Glazer tonic holds).
fn tonic_from_plateau_frames(seed: u64) -> Vec<Frame> {
    let mut noise = BandNoise::new(seed, RATE);
    let smooth = raised_cosine;
    (0..(26.0 * RATE) as u64)
        .map(|i| {
            let t = i as f64 / RATE;
            let first = if t < 10.3 {
                smooth((t - 8.0) / 0.3)
            } else {
                let d = t - 10.3;
                0.65 * (-d / 0.05).exp() + 0.35 * (-(d - 12.0).max(0.0) / 0.5).exp()
            };
            let tonic = 0.21 * (smooth((t - 14.0) / 0.5) - smooth((t - 20.0) / 0.5));
            Frame::new(i, &[(4.0 + 20.0 * (first + tonic)) * noise.next()])
        })
        .collect()
}

#[test]
fn a_sustained_weak_squeeze_from_a_residual_plateau_starts_a_contraction() {
    // before SLOW_RESTART_TAU_S the smoothed level had to clear the
    // plateau's valley by twice the activity margin: measured, the hold was
    // missed on 4 of 6 seeds and reported 2.7-3.4 s late on the others; now
    // decided 0.95-1.6 s after its onset (the 0.5 s average must rise), the
    // onset dated -0.6..+0.7 s
    for seed in 1..=6 {
        let s = run(&tonic_from_plateau_frames(seed), true);
        let second: Vec<&Event> = s.iter().filter(|e| e.detected_s.unwrap() > 12.0).collect();
        assert_eq!(second.len(), 1, "seed {seed}: {s:#?}");
        let (onset, detected) = (second[0].onset_s, second[0].detected_s.unwrap());
        eprintln!("seed {seed}: onset {onset:.3}, detected {detected:.3}");
        assert!((14.0..16.0).contains(&detected), "seed {seed}: {s:#?}");
        assert!((onset - 14.0).abs() <= 0.7, "seed {seed}: {s:#?}");
    }
}
