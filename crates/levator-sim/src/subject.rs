//! Subject profiles: how a simulated person's pelvic floor behaves.
//!
//! Every profile is a set of parameter *ranges*; [`Subject::draw`] picks
//! one value per parameter from a seeded generator, so seed 7 of
//! `hypertonic` is always the same person and seeds 1..100 are a small
//! population.
//!
//! Muscle activity is expressed as *activation*: the sEMG RMS amplitude as
//! a fraction of the subject's maximal voluntary contraction (MVC).
//! Resting tone is a small positive activation (tonic motor-unit firing
//! keeps the pelvic floor closed at rest); a Kegel raises it, a reverse
//! Kegel lowers it below rest, and a push (bearing down) should lower it
//! too, which dyssynergic subjects fail to do.
//!
//! | parameter | healthy | hypotonic | hypertonic | dyssynergic |
//! |---|---|---|---|---|
//! | resting sEMG (µV RMS) | 1.0-2.0 | 0.6-1.2 | 3.0-6.0 | 1.5-3.0 |
//! | MVC sEMG (µV RMS) | 35-60 | 10-20 | 25-45 | 30-50 |
//! | rise time (s) | 0.15-0.35 | 0.4-0.8 | 0.2-0.5 | 0.2-0.4 |
//! | release time constant (s) | 0.04-0.08 | 0.05-0.10 | 0.5-1.2 | 0.08-0.15 |
//! | incomplete-release residual (% of rise) | 0 | 0 | 25-50 for 3-6 s | 0 |
//! | fatigue time constant in a hold (s) | 150-300 | 25-50 | 80-150 | 120-250 |
//! | reverse-Kegel depth (% of tone) | 30-50 | 20-40 | 5-20 | 10-30 |
//! | pelvic change when pushing | -40..-70 % of tone | -30..-60 % | -20..-40 % | paradoxical +10..+30 % MVC, or -0..-12 % of tone |
//! | push (rectal rise, mmHg) | 45-90 | 40-70 | 40-70 | 15-35 or 45-80 |
//!
//! | sEMG spectrum corner f_h (Hz) | 200-250 | 170-210 | 110-150 | 200-250 |
//!
//! `accessory` is healthy plus abdominal co-contraction of 25-50 % of
//! abdominal MVC during every Kegel (healthy: 3-8 %). `breath_holding` is
//! healthy plus breath held and the abdomen braced (8-15 % abdominal MVC)
//! during every Kegel. Respiration is 12-18 breaths/min, heart rate 60-80
//! bpm for everyone.

use core::fmt;

use levator_core::event::PelvicResponse;

use crate::rng::Rng;

/// The built-in subject profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// Normal tone, strong fast contraction, quick full release, relaxes
    /// when pushing.
    Healthy,
    /// Weak (low MVC), slow rise, fatigues in endurance holds.
    Hypotonic,
    /// High resting tone, slow and incomplete release, shallow reverse Kegel.
    Hypertonic,
    /// Paradoxical contraction or < 20 % relaxation when bearing down.
    Dyssynergic,
    /// Recruits the abdomen during Kegels (accessory co-contraction).
    Accessory,
    /// Holds the breath and braces the abdomen during Kegels.
    BreathHolding,
}

impl SubjectKind {
    /// Every profile, in a fixed order.
    pub const ALL: [SubjectKind; 6] = [
        SubjectKind::Healthy,
        SubjectKind::Hypotonic,
        SubjectKind::Hypertonic,
        SubjectKind::Dyssynergic,
        SubjectKind::Accessory,
        SubjectKind::BreathHolding,
    ];

    /// Name used on the command line and in recording headers.
    pub const fn name(self) -> &'static str {
        match self {
            SubjectKind::Healthy => "healthy",
            SubjectKind::Hypotonic => "hypotonic",
            SubjectKind::Hypertonic => "hypertonic",
            SubjectKind::Dyssynergic => "dyssynergic",
            SubjectKind::Accessory => "accessory",
            SubjectKind::BreathHolding => "breath_holding",
        }
    }

    /// Parses a name written by [`SubjectKind::name`] (`-` accepted for `_`).
    pub fn from_name(name: &str) -> Option<SubjectKind> {
        let n = name.replace('-', "_");
        SubjectKind::ALL.into_iter().find(|k| k.name() == n)
    }

    /// One-line description.
    pub const fn description(self) -> &'static str {
        match self {
            SubjectKind::Healthy => "normal tone, strong contraction, quick full release",
            SubjectKind::Hypotonic => "weak, low MVC, slow rise, fatigues in endurance holds",
            SubjectKind::Hypertonic => "high resting tone, slow and incomplete release",
            SubjectKind::Dyssynergic => {
                "paradoxical contraction or < 20% relaxation when bearing down"
            }
            SubjectKind::Accessory => "abdominal co-contraction during Kegels",
            SubjectKind::BreathHolding => "holds the breath and braces during Kegels",
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One simulated person: every parameter drawn from the profile's ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    /// The profile the parameters were drawn from.
    pub kind: SubjectKind,
    /// Pelvic sEMG RMS at rest (µV, reference electrode gain).
    pub pelvic_rest_uv: f64,
    /// Pelvic sEMG RMS at maximal voluntary contraction (µV).
    pub pelvic_mvc_uv: f64,
    /// Abdominal sEMG RMS at rest (µV).
    pub abdominal_rest_uv: f64,
    /// Abdominal sEMG RMS at maximal effort (µV).
    pub abdominal_mvc_uv: f64,
    /// Default time from onset to plateau of a contraction (s).
    pub rise_s: f64,
    /// Time constant of the exponential release after a contraction (s).
    pub release_tau_s: f64,
    /// Fraction of the contraction's rise still held after the fast release
    /// (incomplete release; 0 for most profiles).
    pub residual_frac: f64,
    /// How long the residual is held before it fades (s).
    pub residual_hold_s: f64,
    /// Time constant of the residual's fade (s).
    pub residual_tau_s: f64,
    /// Time constant of fatigue during a hold: activation decays as
    /// `exp(-t / fatigue_tau_s)` (s).
    pub fatigue_tau_s: f64,
    /// Depth of a reverse-Kegel drop as a fraction of resting tone.
    pub drop_frac: f64,
    /// Pelvic change during a push, in activation units (fraction of MVC):
    /// negative = relaxation, positive = paradoxical contraction.
    pub push_pelvic_change: f64,
    /// How the pelvic floor answers a push (follows from `push_pelvic_change`).
    pub pelvic_response: PelvicResponse,
    /// Rectal (abdominal) pressure rise of a full push (mmHg).
    pub push_mmhg: f64,
    /// Abdominal activation of a full push (fraction of abdominal MVC).
    pub push_abdominal: f64,
    /// Abdominal co-activation during every Kegel (fraction of abdominal MVC).
    pub accessory_frac: f64,
    /// Whether the breath is held (respiration stops) during Kegels.
    pub breath_hold: bool,
    /// Respiration rate (Hz).
    pub respiration_hz: f64,
    /// Heart rate (beats/min), for ECG bleed into the abdominal EMG.
    pub heart_rate_bpm: f64,
    /// Resting pressure scale relative to the device's nominal resting
    /// pressure (tone; >1 for hypertonic).
    pub tone_factor: f64,
    /// Upper corner `f_h` of the pelvic sEMG spectrum (Hz), see
    /// [`crate::signal::EmgNoise`]: healthy 200-250 Hz gives a median
    /// frequency of about 115-140 Hz during a contraction; hypertonic
    /// 110-150 Hz about 85-105 Hz (below the 115 Hz cut-off seen in pain
    /// patients); hypotonic 170-210 Hz.
    pub emg_corner_hz: f64,
}

impl Subject {
    /// Draws a subject of profile `kind` from `rng`.
    pub fn draw(kind: SubjectKind, rng: &mut Rng) -> Subject {
        let mut s = Subject {
            kind,
            pelvic_rest_uv: rng.range(1.0, 2.0),
            pelvic_mvc_uv: rng.range(35.0, 60.0),
            abdominal_rest_uv: rng.range(1.5, 3.0),
            abdominal_mvc_uv: rng.range(60.0, 120.0),
            rise_s: rng.range(0.15, 0.35),
            release_tau_s: rng.range(0.04, 0.08),
            residual_frac: 0.0,
            residual_hold_s: 0.0,
            residual_tau_s: 1.0,
            fatigue_tau_s: rng.range(150.0, 300.0),
            drop_frac: rng.range(0.30, 0.50),
            push_pelvic_change: 0.0,
            pelvic_response: PelvicResponse::Relaxed,
            push_mmhg: rng.range(45.0, 90.0),
            push_abdominal: rng.range(0.4, 0.6),
            accessory_frac: rng.range(0.03, 0.08),
            breath_hold: false,
            respiration_hz: rng.range(0.2, 0.3),
            heart_rate_bpm: rng.range(60.0, 80.0),
            tone_factor: rng.range(0.9, 1.1),
            emg_corner_hz: 0.0,
        };
        // Relaxation when pushing, as a fraction of resting tone.
        let mut relax_frac = rng.range(0.40, 0.70);
        match kind {
            SubjectKind::Healthy => {}
            SubjectKind::Hypotonic => {
                s.pelvic_rest_uv = rng.range(0.6, 1.2);
                s.pelvic_mvc_uv = rng.range(10.0, 20.0);
                s.rise_s = rng.range(0.4, 0.8);
                s.release_tau_s = rng.range(0.05, 0.10);
                s.fatigue_tau_s = rng.range(25.0, 50.0);
                s.drop_frac = rng.range(0.20, 0.40);
                relax_frac = rng.range(0.30, 0.60);
                s.push_mmhg = rng.range(40.0, 70.0);
                s.tone_factor = rng.range(0.7, 0.9);
            }
            SubjectKind::Hypertonic => {
                s.pelvic_rest_uv = rng.range(3.0, 6.0);
                s.pelvic_mvc_uv = rng.range(25.0, 45.0);
                s.rise_s = rng.range(0.2, 0.5);
                s.release_tau_s = rng.range(0.5, 1.2);
                s.residual_frac = rng.range(0.25, 0.50);
                s.residual_hold_s = rng.range(3.0, 6.0);
                s.residual_tau_s = rng.range(1.0, 2.0);
                s.fatigue_tau_s = rng.range(80.0, 150.0);
                s.drop_frac = rng.range(0.05, 0.20);
                relax_frac = rng.range(0.20, 0.40);
                s.push_mmhg = rng.range(40.0, 70.0);
                s.tone_factor = rng.range(1.3, 1.7);
            }
            SubjectKind::Dyssynergic => {
                s.pelvic_rest_uv = rng.range(1.5, 3.0);
                s.pelvic_mvc_uv = rng.range(30.0, 50.0);
                s.rise_s = rng.range(0.2, 0.4);
                s.release_tau_s = rng.range(0.08, 0.15);
                s.fatigue_tau_s = rng.range(120.0, 250.0);
                s.drop_frac = rng.range(0.10, 0.30);
                s.tone_factor = rng.range(1.0, 1.3);
                s.push_mmhg = if rng.chance(0.5) {
                    rng.range(45.0, 80.0)
                } else {
                    rng.range(15.0, 35.0)
                };
            }
            SubjectKind::Accessory => {
                s.accessory_frac = rng.range(0.25, 0.50);
            }
            SubjectKind::BreathHolding => {
                s.breath_hold = true;
                s.accessory_frac = rng.range(0.08, 0.15);
            }
        }
        let tone = s.pelvic_rest_uv / s.pelvic_mvc_uv;
        if kind == SubjectKind::Dyssynergic {
            if rng.chance(0.5) {
                s.push_pelvic_change = rng.range(0.10, 0.30);
                s.pelvic_response = PelvicResponse::Paradoxical;
            } else {
                s.push_pelvic_change = -rng.range(0.0, 0.12) * tone;
                s.pelvic_response = PelvicResponse::Unchanged;
            }
        } else {
            s.push_pelvic_change = -relax_frac * tone;
            s.pelvic_response = PelvicResponse::Relaxed;
        }
        // Drawn last so that adding it changed no other parameter.
        s.emg_corner_hz = match kind {
            SubjectKind::Hypertonic => rng.range(110.0, 150.0),
            SubjectKind::Hypotonic => rng.range(170.0, 210.0),
            _ => rng.range(200.0, 250.0),
        };
        s
    }

    /// Resting pelvic activation (fraction of MVC).
    pub fn pelvic_tone(&self) -> f64 {
        self.pelvic_rest_uv / self.pelvic_mvc_uv
    }

    /// Resting abdominal activation (fraction of abdominal MVC).
    pub fn abdominal_tone(&self) -> f64 {
        self.abdominal_rest_uv / self.abdominal_mvc_uv
    }

    /// Rao dyssynergia type of this subject's pushes (see [`rao_type`]).
    pub fn rao_type(&self) -> Option<u8> {
        rao_type(self.pelvic_response, self.push_mmhg)
    }
}

/// Rao dyssynergia type: I = adequate push + paradoxical, II = inadequate
/// push + paradoxical, III = adequate push + < 20 % relaxation, IV =
/// inadequate push + < 20 % relaxation; `None` for a relaxed response.
/// Adequate = rectal pressure rise >= 40 mmHg.
pub fn rao_type(response: PelvicResponse, push_mmhg: f64) -> Option<u8> {
    let adequate = push_mmhg >= 40.0;
    match (response, adequate) {
        (PelvicResponse::Relaxed, _) => None,
        (PelvicResponse::Paradoxical, true) => Some(1),
        (PelvicResponse::Paradoxical, false) => Some(2),
        (PelvicResponse::Unchanged, true) => Some(3),
        (PelvicResponse::Unchanged, false) => Some(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in SubjectKind::ALL {
            assert_eq!(SubjectKind::from_name(k.name()), Some(k));
        }
        assert_eq!(
            SubjectKind::from_name("breath-holding"),
            Some(SubjectKind::BreathHolding)
        );
        assert_eq!(SubjectKind::from_name("athlete"), None);
    }

    #[test]
    fn profiles_respect_their_ranges() {
        for seed in 0..200 {
            let mut r = Rng::new(seed);
            let h = Subject::draw(SubjectKind::Healthy, &mut r);
            assert!(h.pelvic_rest_uv < 2.0 && h.release_tau_s * 2.31 < 0.2);
            assert_eq!(h.pelvic_response, PelvicResponse::Relaxed);
            let mut r = Rng::new(seed);
            let t = Subject::draw(SubjectKind::Hypertonic, &mut r);
            assert!(t.pelvic_rest_uv > 2.0 && t.residual_frac >= 0.25);
            let mut r = Rng::new(seed);
            let d = Subject::draw(SubjectKind::Dyssynergic, &mut r);
            assert_ne!(d.pelvic_response, PelvicResponse::Relaxed);
            assert!(d.rao_type().is_some());
            if d.pelvic_response == PelvicResponse::Unchanged {
                assert!(d.push_pelvic_change <= 0.0);
                assert!(-d.push_pelvic_change < 0.2 * d.pelvic_tone());
            }
        }
    }

    #[test]
    fn dyssynergic_population_covers_all_rao_types() {
        let mut seen = [false; 4];
        for seed in 0..100 {
            let d = Subject::draw(SubjectKind::Dyssynergic, &mut Rng::new(seed));
            if let Some(t) = d.rao_type() {
                seen[usize::from(t) - 1] = true;
            }
        }
        assert_eq!(seen, [true; 4]);
    }
}
