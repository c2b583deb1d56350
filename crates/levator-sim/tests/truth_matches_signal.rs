//! The ground truth describes the generated signal: contractions are above
//! rest, releases return to rest, poor releases stay above it, drops go
//! below it, pushes move the channels the way the truth says.

use levator_core::conditioning::{Chain, ChainConfig, EnvelopeConfig, Mains};
use levator_core::event::{Event, EventKind, PelvicResponse, Phase, RelaxationSubtype};
use levator_core::stream::Role;
use levator_sim::{Simulator, SubjectKind};

/// One channel of a whole recording plus a slow moving-mean-removed
/// version (drift out) for EMG envelopes.
struct Channel {
    rate: f64,
    raw: Vec<f64>,
    emg: bool,
}

impl Channel {
    fn collect(sim: &mut Simulator, role: Role) -> Channel {
        let spec = sim.spec();
        let i = spec.channel_index(role).unwrap();
        let raw: Vec<f64> = sim.by_ref().map(|f| f.get(i)).collect();
        Channel {
            rate: spec.rate_hz(),
            raw,
            emg: role.is_emg(),
        }
    }

    fn idx(&self, t: f64) -> usize {
        ((t * self.rate).round().max(0.0) as usize).min(self.raw.len())
    }

    /// EMG: RMS after removing the 50 ms local mean (drift); pressure: mean.
    fn level(&self, a: f64, b: f64) -> f64 {
        let (i0, i1) = (self.idx(a), self.idx(b));
        assert!(i1 > i0 + 2, "empty window {a}..{b}");
        if !self.emg {
            return self.raw[i0..i1].iter().sum::<f64>() / (i1 - i0) as f64;
        }
        let w = (0.05 * self.rate) as usize;
        let mut acc = 0.0;
        for i in i0..i1 {
            let lo = i.saturating_sub(w / 2);
            let hi = (i + w / 2).min(self.raw.len());
            let m = self.raw[lo..hi].iter().sum::<f64>() / (hi - lo) as f64;
            acc += (self.raw[i] - m).powi(2);
        }
        (acc / (i1 - i0) as f64).sqrt()
    }
}

fn starts(truth: &[Event], kind: EventKind) -> Vec<Event> {
    truth
        .iter()
        .filter(|e| e.kind == kind && e.phase != Some(Phase::End))
        .copied()
        .collect()
}

fn ends(truth: &[Event], kind: EventKind) -> Vec<Event> {
    truth
        .iter()
        .filter(|e| e.kind == kind && e.phase == Some(Phase::End))
        .copied()
        .collect()
}

/// Time of the next pelvic action onset after `t`.
fn next_onset(truth: &[Event], t: f64) -> f64 {
    truth
        .iter()
        .filter(|e| {
            e.phase == Some(Phase::Start)
                && matches!(
                    e.kind,
                    EventKind::Contraction | EventKind::BearingDown | EventKind::Relaxation
                )
                && e.subtype != Some(RelaxationSubtype::Release)
                && e.onset_s > t + 1e-9
        })
        .map(|e| e.onset_s)
        .fold(f64::INFINITY, f64::min)
}

fn check_kegels(scenario: &str, subject: SubjectKind, device: &str, seed: u64) {
    let mut sim = Simulator::from_names(scenario, subject.name(), device, seed).unwrap();
    let truth = sim.truth().to_vec();
    let role = if device.contains("emg") || device == "cyton" {
        Role::PelvicEmg
    } else {
        Role::PelvicPressure
    };
    let ch = Channel::collect(&mut sim, role);
    let ctx = format!("{scenario}/{}/{device}/{seed}", subject.name());
    let first = starts(&truth, EventKind::Contraction)[0].onset_s;
    let rest = ch.level(1.0, first - 0.5);
    let contractions = ends(&truth, EventKind::Contraction);
    assert!(!contractions.is_empty(), "{ctx}: no contraction in truth");
    for c in &contractions {
        let peak = c.peak.unwrap();
        let (on, end) = (c.onset_s + c.rise_s.unwrap(), c.end_s.unwrap());
        let level = ch.level(on, end);
        // Fatigue keeps at least 30 % of the rise over a long hold.
        assert!(
            level > rest + 0.3 * (peak - rest),
            "{ctx}: contraction at {:.2} s: level {level:.2} vs rest {rest:.2}, peak {peak:.2}",
            c.onset_s
        );
        assert_eq!(c.channel, Some(role));
    }
    for r in starts(&truth, EventKind::Relaxation)
        .iter()
        .filter(|e| e.subtype == Some(RelaxationSubtype::Release))
    {
        let back = r.onset_s + r.latency_s.unwrap();
        let stop = (back + 1.0).min(next_onset(&truth, r.onset_s) - 0.1);
        if stop - back < 0.3 {
            continue;
        }
        let peak = contractions
            .iter()
            .find(|c| (c.end_s.unwrap() - r.onset_s).abs() < 1e-9)
            .unwrap()
            .peak
            .unwrap();
        let level = ch.level(back + 0.1, stop);
        assert!(
            level < rest + 0.2 * (peak - rest) + 0.15 * rest,
            "{ctx}: release at {:.2} s not back to rest: {level:.2} vs rest {rest:.2} (peak {peak:.2})",
            r.onset_s
        );
    }
    for p in starts(&truth, EventKind::PoorRelease) {
        let c = contractions
            .iter()
            .find(|c| (c.end_s.unwrap() - p.onset_s).abs() < 1e-9)
            .unwrap();
        let peak = c.peak.unwrap();
        let t = p.onset_s + p.elapsed_s.unwrap();
        let level = ch.level(t - 0.3, t);
        let expect = rest + p.residual_pct.unwrap() / 100.0 * (peak - rest);
        assert!(
            level > rest + 0.5 * (expect - rest),
            "{ctx}: poor release at {:.2} s is at rest: {level:.2} vs rest {rest:.2}",
            p.onset_s
        );
    }
}

#[test]
fn contractions_and_releases_are_in_the_emg() {
    for (i, subject) in SubjectKind::ALL.into_iter().enumerate() {
        check_kegels("glazer_short", subject, "emg-probe", 1 + i as u64);
    }
    check_kegels("quick_flicks", SubjectKind::Hypertonic, "cyton", 9);
}

#[test]
fn contractions_and_releases_are_in_the_pressure() {
    for (i, subject) in SubjectKind::ALL.into_iter().enumerate() {
        check_kegels("glazer_short", subject, "pressure-trainer", 11 + i as u64);
    }
    check_kegels("glazer_short", SubjectKind::Healthy, "manometry", 4);
}

#[test]
fn hypertonic_truth_has_poor_releases_and_healthy_has_none() {
    let h = Simulator::from_names("glazer", "hypertonic", "emg-probe", 2).unwrap();
    assert!(!starts(h.truth(), EventKind::PoorRelease).is_empty());
    for p in starts(h.truth(), EventKind::PoorRelease) {
        assert!(p.residual_pct.unwrap() > 10.0);
    }
    let ok = Simulator::from_names("glazer", "healthy", "emg-probe", 2).unwrap();
    assert!(starts(ok.truth(), EventKind::PoorRelease).is_empty());
    let releases = starts(ok.truth(), EventKind::Relaxation);
    assert_eq!(releases.len(), 11, "5 flicks + 5 holds + endurance");
    assert!(releases.iter().all(|r| r.latency_s.unwrap() < 0.2));
}

/// The drop truth follows the measured channel: every reverse-Kegel
/// attempt's predicted fall matches the fall of the conditioned signal
/// (EMG: RMS of the standard EMG chain's output; pressure: mean), and only
/// attempts that meet the drop definition (25 % of rest for 1 s) have truth.
#[test]
fn drops_follow_the_measured_fall() {
    let mut seen = (0, 0);
    for (subject, device) in [
        (SubjectKind::Healthy, "emg-probe"),
        (SubjectKind::Hypertonic, "emg-probe"),
        (SubjectKind::Hypotonic, "emg-probe-2000"),
        (SubjectKind::Healthy, "cyton"),
        (SubjectKind::Hypotonic, "pressure-trainer"),
        (SubjectKind::Dyssynergic, "two-sensor-trainer"),
        (SubjectKind::Healthy, "manometry"),
    ] {
        let mut sim = Simulator::from_names("reverse_kegel", subject.name(), device, 5).unwrap();
        let truth = sim.truth().to_vec();
        let attempts = sim.drop_attempts().to_vec();
        assert_eq!(attempts.len(), 5, "{subject:?}/{device}");
        let mains = if sim.config().device.mains_hz == 60.0 {
            Mains::Hz60
        } else {
            Mains::Hz50
        };
        let role = sim.config().device.pelvic_channel().unwrap();
        let mut ch = Channel::collect(&mut sim, role);
        if ch.emg {
            let mut config = ChainConfig::emg(ch.rate);
            config.mains = Some(mains);
            config.envelope = EnvelopeConfig::None;
            let mut chain = Chain::new(&config).unwrap();
            for v in ch.raw.iter_mut() {
                *v = chain.tick(*v);
            }
            ch.emg = false;
        }
        let level = |a: f64, b: f64| {
            if role.is_emg() {
                let (i0, i1) = (ch.idx(a), ch.idx(b));
                (ch.raw[i0..i1].iter().map(|v| v * v).sum::<f64>() / (i1 - i0) as f64).sqrt()
            } else {
                ch.level(a, b)
            }
        };
        let rest = level(2.0, attempts[0].t0 - 1.0);
        let drops = ends(&truth, EventKind::Relaxation);
        for a in &attempts {
            let fall = 1.0 - level(a.t0 + 1.0, a.t0 + a.on_s - 0.1) / rest;
            assert!(
                (fall - a.fall_frac).abs() < 0.08,
                "{subject:?}/{device} at {:.1} s: measured fall {fall:.3}, predicted {:.3}",
                a.t0,
                a.fall_frac
            );
            let labelled = drops.iter().find(|d| (d.onset_s - a.t0).abs() < 1e-9);
            assert_eq!(labelled.is_some(), a.is_drop, "{subject:?}/{device} {a:?}");
            if let Some(d) = labelled {
                assert_eq!(d.subtype, Some(RelaxationSubtype::Drop));
                assert!(a.fall_frac >= 0.25);
                seen.0 += 1;
            } else {
                seen.1 += 1;
            }
        }
        assert_eq!(drops.len(), attempts.iter().filter(|a| a.is_drop).count());
    }
    // both kinds are exercised
    assert!(seen.0 >= 10 && seen.1 >= 10, "{seen:?}");
}

#[test]
fn pushes_match_the_pelvic_response() {
    for seed in 1..=6 {
        for subject in [SubjectKind::Healthy, SubjectKind::Dyssynergic] {
            let mut sim =
                Simulator::from_names("bearing_down", subject.name(), "emg-probe", seed).unwrap();
            let truth = sim.truth().to_vec();
            let frames: Vec<_> = sim.by_ref().collect();
            let mk = |c: usize| Channel {
                rate: 1000.0,
                raw: frames.iter().map(|f| f.get(c)).collect(),
                emg: true,
            };
            let (pelvic, abdominal) = (mk(0), mk(1));
            let pushes = ends(&truth, EventKind::BearingDown);
            assert_eq!(pushes.len(), 3);
            let first = pushes[0].onset_s;
            let (rest_p, rest_a) = (
                pelvic.level(2.0, first - 1.0),
                abdominal.level(2.0, first - 1.0),
            );
            for p in pushes {
                let (a, b) = (p.onset_s + 1.5, p.end_s.unwrap() - 1.5);
                let (lp, la) = (pelvic.level(a, b), abdominal.level(a, b));
                let ctx = format!("{subject:?} seed {seed} push at {:.1}", p.onset_s);
                assert!(la > 3.0 * rest_a, "{ctx}: abdominal {la} vs {rest_a}");
                assert!(p.push.unwrap() > 0.0);
                assert_eq!(p.channel, Some(Role::AbdominalEmg));
                match p.pelvic_response.unwrap() {
                    PelvicResponse::Relaxed => {
                        assert!(lp < 0.92 * rest_p, "{ctx}: {lp} vs {rest_p}")
                    }
                    PelvicResponse::Paradoxical => {
                        assert!(lp > 2.0 * rest_p, "{ctx}: {lp} vs {rest_p}")
                    }
                    PelvicResponse::Unchanged => {
                        assert!((lp / rest_p - 1.0).abs() < 0.2, "{ctx}: {lp} vs {rest_p}")
                    }
                }
            }
        }
    }
}

#[test]
fn manometry_pushes_carry_rao_types_that_match_the_pressures() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=12 {
        let mut sim =
            Simulator::from_names("bearing_down", "dyssynergic", "manometry", seed).unwrap();
        let truth = sim.truth().to_vec();
        let frames: Vec<_> = sim.by_ref().collect();
        // Column 0 rectal, 1 anal; both mmHg.
        let mk = |c: usize| Channel {
            rate: 10.0,
            raw: frames.iter().map(|f| f.get(c)).collect(),
            emg: false,
        };
        let (rectal, anal) = (mk(0), mk(1));
        let pushes = ends(&truth, EventKind::BearingDown);
        let first = pushes[0].onset_s;
        let (rest_r, rest_a) = (rectal.level(2.0, first - 1.0), anal.level(2.0, first - 1.0));
        for p in pushes {
            let (a, b) = (p.onset_s + 2.0, p.end_s.unwrap() - 2.0);
            let rise_mmhg = rectal.level(a, b) - rest_r;
            let anal_ratio = anal.level(a, b) / rest_a;
            let rao = p
                .rao_type
                .expect("dyssynergic manometry push has a Rao type");
            seen.insert(rao);
            let adequate = rao == 1 || rao == 3;
            // Push strength: truth says >= 40 mmHg exactly when adequate
            // (allow the measurement a 3 mmHg margin around the cut-off).
            if adequate {
                assert!(rise_mmhg > 37.0, "seed {seed}: type {rao} rise {rise_mmhg}");
            } else {
                assert!(rise_mmhg < 43.0, "seed {seed}: type {rao} rise {rise_mmhg}");
            }
            if rao <= 2 {
                assert!(
                    anal_ratio > 1.05,
                    "seed {seed}: paradoxical ratio {anal_ratio}"
                );
            } else {
                assert!(
                    anal_ratio > 0.8,
                    "seed {seed}: incomplete relaxation ratio {anal_ratio}"
                );
            }
        }
    }
    assert!(seen.len() >= 3, "Rao types seen: {seen:?}");
}

#[test]
fn accessory_subjects_get_accessory_truth() {
    let mut sim = Simulator::from_names("glazer_short", "accessory", "emg-probe", 3).unwrap();
    let truth = sim.truth().to_vec();
    let frames: Vec<_> = sim.by_ref().collect();
    let abdominal = Channel {
        rate: 1000.0,
        raw: frames.iter().map(|f| f.get(1)).collect(),
        emg: true,
    };
    let contractions = ends(&truth, EventKind::Contraction);
    let acc = ends(&truth, EventKind::Accessory);
    // Flicks and tonic holds recruit the abdomen (the light endurance hold
    // may stay under the 20 % threshold).
    assert!(acc.len() >= 5, "{} accessory events", acc.len());
    let rest = abdominal.level(1.0, contractions[0].onset_s - 0.5);
    for a in acc {
        assert_eq!(a.channel, Some(Role::AbdominalEmg));
        assert!(contractions
            .iter()
            .any(|c| c.onset_s == a.onset_s && c.end_s == a.end_s));
        let level = abdominal.level(a.onset_s + 0.3, a.end_s.unwrap());
        assert!(level > 3.0 * rest, "abdominal {level} vs rest {rest}");
    }
    let healthy = Simulator::from_names("glazer_short", "healthy", "emg-probe", 3).unwrap();
    assert!(starts(healthy.truth(), EventKind::Accessory).is_empty());
    // the same subject on devices with and without an abdominal channel
    for (device, visible) in [
        ("two-sensor-trainer", true),
        ("manometry", true),
        ("pressure-trainer", false),
        ("pressure-trainer-100", false),
    ] {
        let sim = Simulator::from_names("glazer_short", "accessory", device, 3).unwrap();
        let n = starts(sim.truth(), EventKind::Accessory).len();
        assert_eq!(n > 0, visible, "{device}: {n} accessory labels");
    }
}

#[test]
fn truth_is_sorted_by_the_time_it_becomes_known() {
    let sim = Simulator::from_names("demo", "hypertonic", "emg-probe", 8).unwrap();
    let known = |e: &Event| match (e.phase, e.kind) {
        (Some(Phase::End), _) => e.end_s.unwrap(),
        (_, EventKind::PoorRelease) => e.onset_s + e.elapsed_s.unwrap(),
        (_, EventKind::Relaxation) if e.subtype == Some(RelaxationSubtype::Release) => {
            e.onset_s + e.latency_s.unwrap()
        }
        _ => e.onset_s,
    };
    let t: Vec<f64> = sim.truth().iter().map(known).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "{t:?}");
    assert!(sim.truth().iter().all(|e| e.detected_s.is_none()));
    assert!(sim.truth().iter().all(|e| e.onset_s <= sim.duration_s()));
}

#[test]
fn push_strength_in_the_truth_is_what_the_sensors_show() {
    for (device, role, tol) in [
        ("two-sensor-trainer", Role::AbdominalPressure, 0.15),
        ("pressure-trainer", Role::ProbeMotion, 0.15),
    ] {
        for seed in 1..=3 {
            let mut sim = Simulator::from_names("bearing_down", "healthy", device, seed).unwrap();
            let truth = sim.truth().to_vec();
            let ch = Channel::collect(&mut sim, role);
            let pushes = ends(&truth, EventKind::BearingDown);
            let rest = ch.level(2.0, pushes[0].onset_s - 1.0);
            for p in pushes {
                assert_eq!(p.channel, Some(role));
                let level = ch.level(p.onset_s + 2.0, p.end_s.unwrap() - 2.0);
                // Pressure rises by `push`; the probe moves outward (down) by it.
                let seen = if role == Role::ProbeMotion {
                    rest - level
                } else {
                    level - rest
                };
                let push = p.push.unwrap();
                assert!(
                    (seen - push).abs() <= tol * push,
                    "{device} seed {seed}: sensor shows {seen:.3}, truth push {push:.3}"
                );
            }
        }
    }
}
