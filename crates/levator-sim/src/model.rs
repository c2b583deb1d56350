//! The physiological model: a timeline of actions, what each does to the
//! muscles and pressures over time, and the ground truth that follows.
//!
//! A scenario is expanded (with the subject's parameters and the seed's
//! jitter) into a sorted list of [`Action`]s with exact start times. At any
//! time `t`, [`Timeline::drive`] sums what the live actions do:
//!
//! - **Kegel** (`contraction`, `flick`, `endurance`): pelvic activation
//!   rises on a raised-cosine ramp over the rise time (motor-unit
//!   recruitment), is held with fatigue `0.3 + 0.7 exp(-t/tau_f)` (the
//!   activation cannot be sustained; hypotonic subjects fade fast), then
//!   falls exponentially with the subject's release time constant. An
//!   incomplete release keeps a residual fraction of the rise for a few
//!   seconds before it fades (hypertonic). Accessory subjects co-activate
//!   the abdomen in proportion; breath holders stop breathing and brace.
//! - **Reverse Kegel** (`drop`): activation falls below resting tone by the
//!   subject's drop depth (raised-cosine ramps of 0.8 s).
//! - **Push** (`push`): abdominal activation and abdominal pressure rise
//!   (Valsalva), the probe is pushed outward, and the pelvic floor relaxes
//!   (healthy) or contracts / fails to relax (dyssynergia).
//! - **Cough**: a 0.15 s Gaussian spike of abdominal pressure with an
//!   abdominal EMG burst and a probe jolt. No truth event (a distractor).
//! - **Motion artefact**: a decaying 4 Hz transient of large amplitude on
//!   every channel (cable tug, probe bump); truth `signal_quality`
//!   `artifact`.
//!
//! # Ground truth
//!
//! Truth is computed from the same closed-form shapes, not from the
//! generated signal. The *resting band* of a Kegel is "excess activation
//! below 10 % of the peak excess". Definitions:
//!
//! - `contraction` start at the onset; end at the start of the release
//!   (`end_s`), with `peak` (EMG RMS µV or pressure cmH2O), `peak_pct_mvc`,
//!   `rise_s`, `duration_s`.
//! - `relaxation`/`release` start at the start of the release, `latency_s`
//!   = time to re-enter the resting band; only if that happens before the
//!   next action.
//! - `poor_release` at the start of the release when the subject is still
//!   outside the resting band [`POOR_RELEASE_AFTER_S`] later;
//!   `residual_pct` = remaining excess as % of the peak excess.
//! - `relaxation`/`drop` start at the drop onset, end when back within
//!   10 % of the drop depth -- only when the attempt is a drop by the
//!   detector contract on the *measured* pelvic channel: it falls by at
//!   least [`DROP_MIN_FRAC`] (25 %) of its resting level for at least
//!   [`DROP_MIN_S`] (1 s). The measured fall is smaller than the muscle's:
//!   on pressure devices only the muscular part of the resting pressure
//!   (`1 - pelvic_passive_frac`) can fall, and on EMG the instrument floor
//!   (amplifier noise, mains residue, ECG bleed, measured through the
//!   standard EMG conditioning, see [`EmgPower`]) adds in power to the
//!   resting RMS. A reverse Kegel too shallow to meet the definition (common
//!   for hypertonic and dyssynergic subjects, who cannot let go well) is in
//!   the signal but has no truth event; `Simulator::drop_attempts` lists
//!   every attempt with its measured fall.
//! - `bearing_down` start/end over the push, with `pelvic_response`,
//!   `push` and (manometry) `rao_type`. The response is the subject's
//!   muscle response (relaxed = activation fell >= 20 %), except on
//!   manometry, where it is judged on the modelled anal canal pressure as
//!   clinicians do (relaxed = pressure fell >= 20 %; a hypertonic subject
//!   whose muscle relaxes 20-40 % of tone shows as `unchanged` there).
//! - `accessory` start/end over Kegels with abdominal co-activation of at
//!   least [`ACCESSORY_MIN_FRAC`] of abdominal MVC, on devices with an
//!   abdominal channel (`abdominal_emg` or `abdominal_pressure`): a
//!   single-balloon trainer has nothing that could show it.
//! - `signal_quality`/`artifact` start/end over each motion artefact.

use levator_core::event::{
    Event, EventKind, PelvicResponse, Phase, QualityIssue, RelaxationSubtype,
};
use levator_core::stream::{Role, CMH2O_PER_MMHG};

use crate::device::{Device, DeviceKind};
use crate::rng::Rng;
use crate::scenario::{Scenario, StepKind};
use crate::subject::{rao_type, Subject};

/// A contraction still outside its resting band this long after the start
/// of its release is a `poor_release` (s).
pub const POOR_RELEASE_AFTER_S: f64 = 2.0;

/// The resting band: within this fraction of the peak excess.
pub const REST_BAND_FRAC: f64 = 0.1;

/// Abdominal co-activation (fraction of abdominal MVC) from which a Kegel
/// counts as using accessory muscles.
pub const ACCESSORY_MIN_FRAC: f64 = 0.2;

const DROP_RAMP_S: f64 = 0.8;
const PUSH_RAMP_S: f64 = 0.8;
const COUGH_SIGMA_S: f64 = 0.06;
const COUGH_CENTER_S: f64 = 0.15;

/// Raised-cosine ramp from 0 (u <= 0) to 1 (u >= 1).
#[inline]
fn smooth(u: f64) -> f64 {
    if u <= 0.0 {
        0.0
    } else if u >= 1.0 {
        1.0
    } else {
        0.5 - 0.5 * libm::cos(core::f64::consts::PI * u)
    }
}

/// Fraction of a raised-cosine fall after which 10 % remains.
fn band_crossing_frac() -> f64 {
    libm::acos(2.0 * REST_BAND_FRAC - 1.0) / core::f64::consts::PI
}

/// Trapezoid with raised-cosine edges: up over `up`, flat until `up + hold`,
/// down over `down`.
#[inline]
fn plateau(dt: f64, up: f64, hold: f64, down: f64) -> f64 {
    if dt < up {
        smooth(dt / up)
    } else if dt < up + hold {
        1.0
    } else {
        1.0 - smooth((dt - up - hold) / down)
    }
}

/// What one action is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActionKind {
    /// A Kegel (contraction, flick or endurance hold).
    Kegel {
        /// Peak excess activation (fraction of MVC above tone).
        excess: f64,
        /// Rise time (s).
        rise_s: f64,
        /// Plateau after the rise, before release (s).
        hold_s: f64,
        /// Scenario step kind (contraction, flick or endurance).
        step: StepKind,
    },
    /// A reverse-Kegel drop.
    Drop {
        /// Activation fall below tone (fraction of MVC).
        depth: f64,
        /// Time below rest including the fall ramp (s).
        on_s: f64,
    },
    /// A push.
    Push {
        /// Fraction of the subject's full push.
        level: f64,
        /// Duration including the up ramp (s).
        on_s: f64,
    },
    /// A cough.
    Cough {
        /// Peak abdominal pressure (cmH2O).
        peak_cmh2o: f64,
    },
    /// A motion artefact.
    Artifact {
        /// Duration (s).
        duration_s: f64,
        /// Relative amplitude (1 = typical) and sign.
        amplitude: f64,
    },
}

/// One action at a time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Action {
    /// Onset (s).
    pub t0: f64,
    /// What it is.
    pub kind: ActionKind,
    /// After this time the action contributes nothing (s).
    pub live_until: f64,
}

/// What all live actions do at one instant (before the sensors).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Drive {
    /// Pelvic activation above (+) or below (-) resting tone (fraction of MVC).
    pub pelvic_excess: f64,
    /// Abdominal activation above rest (fraction of abdominal MVC).
    pub abdominal_excess: f64,
    /// Abdominal pressure above rest from pushing, bracing and coughing (cmH2O).
    pub abdominal_cmh2o: f64,
    /// Outward push of the probe (0..1 of a full push; coughs add jolts).
    pub descent: f64,
    /// Whether the breath is being held.
    pub breath_held: bool,
    /// Motion-artefact transient (relative units, ±1 typical).
    pub artifact: f64,
    /// Pelvic muscle fatigue 0..1 (compresses the sEMG spectrum): rises
    /// during holds with the subject's fatigue time constant, recovers
    /// with a 5 s time constant after release.
    pub fatigue: f64,
}

/// Abdominal pressure per unit of abdominal bracing activation (cmH2O).
const BRACE_CMH2O: f64 = 40.0;

/// An expanded scenario: actions with exact times, for one subject.
#[derive(Clone, Debug)]
pub struct Timeline {
    subject: Subject,
    actions: Vec<Action>,
    duration_s: f64,
    first_live: usize,
}

impl Timeline {
    /// Expands `scenario` for `subject`, drawing jitter from `rng`.
    pub fn expand(scenario: &Scenario, subject: &Subject, rng: &mut Rng) -> Timeline {
        let tone = subject.pelvic_tone();
        let mut actions = Vec::new();
        let mut t = 0.0;
        let jit = |rng: &mut Rng, x: f64, j: f64| {
            if j > 0.0 {
                (x + rng.range(-j, j)).max(0.0)
            } else {
                x
            }
        };
        for step in &scenario.steps {
            for _ in 0..step.repeat {
                let on = jit(rng, step.on_s, step.jitter_s);
                let rest = jit(rng, step.rest_s, step.jitter_s);
                let level = if step.jitter_level > 0.0 {
                    step.level * (1.0 + rng.range(-step.jitter_level, step.jitter_level))
                } else {
                    step.level
                };
                let kind = match step.kind {
                    StepKind::Rest => None,
                    StepKind::Contraction | StepKind::Flick | StepKind::Endurance => {
                        let rise = step
                            .rise_s
                            .unwrap_or(subject.rise_s)
                            .min(0.5 * on)
                            .max(0.02);
                        Some(ActionKind::Kegel {
                            excess: level * (1.0 - tone),
                            rise_s: rise,
                            hold_s: on - rise,
                            step: step.kind,
                        })
                    }
                    StepKind::Drop => Some(ActionKind::Drop {
                        depth: (level * subject.drop_frac).min(0.95) * tone,
                        on_s: on.max(DROP_RAMP_S),
                    }),
                    StepKind::Push => Some(ActionKind::Push {
                        level,
                        on_s: on.max(PUSH_RAMP_S),
                    }),
                    StepKind::Cough => Some(ActionKind::Cough {
                        peak_cmh2o: level * rng.range(60.0, 120.0),
                    }),
                    StepKind::Artifact => Some(ActionKind::Artifact {
                        duration_s: on,
                        amplitude: level * if rng.chance(0.5) { 1.0 } else { -1.0 },
                    }),
                };
                if let Some(kind) = kind {
                    actions.push(Action {
                        t0: t,
                        kind,
                        live_until: t + live_span(&kind, subject),
                    });
                }
                t += on + rest;
            }
        }
        let duration_s = t;
        if scenario.artifacts_per_min > 0.0 {
            let mean_gap = 60.0 / scenario.artifacts_per_min;
            let mut ta = rng.exponential(mean_gap);
            while ta < duration_s - 0.5 {
                let kind = ActionKind::Artifact {
                    duration_s: rng.range(0.2, 0.5),
                    amplitude: rng.range(0.5, 1.5) * if rng.chance(0.5) { 1.0 } else { -1.0 },
                };
                actions.push(Action {
                    t0: ta,
                    kind,
                    live_until: ta + live_span(&kind, subject),
                });
                ta += rng.exponential(mean_gap);
            }
            actions.sort_by(|a, b| a.t0.total_cmp(&b.t0));
        }
        Timeline {
            subject: subject.clone(),
            actions,
            duration_s,
            first_live: 0,
        }
    }

    /// Total duration (s).
    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    /// The actions, sorted by onset.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// What the live actions do at time `t`. Calls must come with
    /// non-decreasing `t` (the stream's order); earlier times after later
    /// ones are answered as if all finished actions stay finished.
    pub fn drive(&mut self, t: f64) -> Drive {
        while self.first_live < self.actions.len() && self.actions[self.first_live].live_until < t {
            self.first_live += 1;
        }
        let mut d = Drive::default();
        for a in &self.actions[self.first_live..] {
            if a.t0 > t {
                break;
            }
            if a.live_until < t {
                continue;
            }
            contribute(a, t - a.t0, &self.subject, &mut d);
        }
        d
    }

    /// Restarts [`Timeline::drive`] from time 0.
    pub fn rewind(&mut self) {
        self.first_live = 0;
    }
}

fn live_span(kind: &ActionKind, s: &Subject) -> f64 {
    match *kind {
        ActionKind::Kegel { rise_s, hold_s, .. } => {
            let tail = (12.0 * s.release_tau_s).max(if s.residual_frac > 0.0 {
                s.residual_hold_s + 12.0 * s.residual_tau_s
            } else {
                0.0
            });
            rise_s + hold_s + tail
        }
        ActionKind::Drop { on_s, .. } => on_s + DROP_RAMP_S,
        ActionKind::Push { on_s, .. } => on_s + PUSH_RAMP_S,
        ActionKind::Cough { .. } => 2.0 * COUGH_CENTER_S + 6.0 * COUGH_SIGMA_S,
        ActionKind::Artifact { duration_s, .. } => duration_s,
    }
}

/// Kegel excess activation `dt` seconds after onset, as a fraction of the
/// peak excess.
fn kegel_shape(dt: f64, rise_s: f64, hold_s: f64, s: &Subject) -> f64 {
    if dt < 0.0 {
        return 0.0;
    }
    if dt < rise_s {
        return smooth(dt / rise_s);
    }
    let fatigue = |h: f64| 0.3 + 0.7 * libm::exp(-h / s.fatigue_tau_s);
    if dt < rise_s + hold_s {
        return fatigue(dt - rise_s);
    }
    let v1 = fatigue(hold_s);
    let r = dt - rise_s - hold_s;
    let fast = (1.0 - s.residual_frac) * libm::exp(-r / s.release_tau_s);
    let slow = if s.residual_frac > 0.0 {
        let fade = if r < s.residual_hold_s {
            1.0
        } else {
            libm::exp(-(r - s.residual_hold_s) / s.residual_tau_s)
        };
        s.residual_frac * fade
    } else {
        0.0
    };
    v1 * (fast + slow)
}

fn contribute(a: &Action, dt: f64, s: &Subject, d: &mut Drive) {
    match a.kind {
        ActionKind::Kegel {
            excess,
            rise_s,
            hold_s,
            ..
        } => {
            let shape = kegel_shape(dt, rise_s, hold_s, s);
            d.pelvic_excess += excess * shape;
            // Co-activation follows the effort relative to a maximal squeeze.
            let effort = shape * excess / (1.0 - s.pelvic_tone()).max(1e-6);
            let brace = s.accessory_frac * effort;
            d.abdominal_excess += brace;
            d.abdominal_cmh2o += BRACE_CMH2O * brace;
            if s.breath_hold && dt < rise_s + hold_s + 0.5 {
                d.breath_held = true;
            }
            let held = (dt - rise_s).clamp(0.0, hold_s);
            let mut f = 1.0 - libm::exp(-held / s.fatigue_tau_s);
            if dt > rise_s + hold_s {
                f *= libm::exp(-(dt - rise_s - hold_s) / 5.0);
            }
            d.fatigue = d.fatigue.max(f);
        }
        ActionKind::Drop { depth, on_s } => {
            let p = plateau(dt, DROP_RAMP_S, on_s - DROP_RAMP_S, DROP_RAMP_S);
            d.pelvic_excess -= depth * p;
            // Letting go is a gentle descent of the pelvic floor.
            d.descent += 0.1 * p;
        }
        ActionKind::Push { level, on_s } => {
            let p = plateau(dt, PUSH_RAMP_S, on_s - PUSH_RAMP_S, PUSH_RAMP_S);
            d.pelvic_excess += s.push_pelvic_change * p;
            d.abdominal_excess += s.push_abdominal * level * p;
            d.abdominal_cmh2o += s.push_mmhg * CMH2O_PER_MMHG * level * p;
            d.descent += level * p;
            d.breath_held = d.breath_held || p > 0.5;
        }
        ActionKind::Cough { peak_cmh2o } => {
            let z = (dt - COUGH_CENTER_S) / COUGH_SIGMA_S;
            let g = libm::exp(-0.5 * z * z);
            d.abdominal_cmh2o += peak_cmh2o * g;
            d.abdominal_excess += 0.6 * g;
            d.descent += 1.0 * g;
        }
        ActionKind::Artifact {
            duration_s,
            amplitude,
        } => {
            if dt <= duration_s {
                d.artifact += amplitude
                    * libm::exp(-dt / (0.3 * duration_s))
                    * libm::sin(2.0 * core::f64::consts::PI * 4.0 * dt + 0.5);
            }
        }
    }
}

/// Time after the start of release until the Kegel excess is back within
/// the resting band, or `None` within `limit_s`.
fn release_latency(rise_s: f64, hold_s: f64, s: &Subject, limit_s: f64) -> Option<f64> {
    let t1 = rise_s + hold_s;
    // The shape is monotone after t1, so bisection on [0, limit] is exact.
    let outside = |r: f64| kegel_shape(t1 + r, rise_s, hold_s, s) >= REST_BAND_FRAC;
    if outside(limit_s) {
        return None;
    }
    let (mut lo, mut hi) = (0.0, limit_s);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if outside(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

/// Minimum fall of the measured pelvic channel below its resting level, as
/// a fraction of that level, for a reverse Kegel to be labelled a drop (the
/// detector contract's default: 25 % of rest).
pub const DROP_MIN_FRAC: f64 = 0.25;
/// Minimum time the measured fall must last to be a drop (s).
pub const DROP_MIN_S: f64 = 1.0;
/// Time step of the scan that measures how long a modelled drop stays below
/// the drop level (s).
const DROP_SCAN_STEP_S: f64 = 0.01;

/// How muscle activity and the instrument floor show up in the conditioned
/// pelvic sEMG (the signal the detectors' envelope is the RMS of), measured
/// by running each through the standard EMG conditioning
/// (`ChainConfig::emg` at the device's rate and mains frequency):
/// the envelope power at activation `a` is `gain2 * (mvc * a)^2 + floor_uv2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmgPower {
    /// Fraction of the muscle signal's power the conditioning keeps.
    pub gain2: f64,
    /// Power (µV²) of what is left of the instrument noise, mains hum,
    /// drift and ECG bleed after conditioning.
    pub floor_uv2: f64,
}

/// One reverse-Kegel attempt of a timeline and whether it is a drop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropAttempt {
    /// Start of the attempt (s).
    pub t0: f64,
    /// Time from the start to the end of the full-depth hold (s); the level
    /// then ramps back to rest over 0.8 s.
    pub on_s: f64,
    /// Deepest fall of the measured pelvic level below rest, as a fraction
    /// of rest.
    pub fall_frac: f64,
    /// Whether the fall meets the drop definition (truth event emitted).
    pub is_drop: bool,
}

/// Device-side facts the truth needs (channels, units, pressure scaling).
pub(crate) struct TruthContext<'a> {
    pub subject: &'a Subject,
    pub device: &'a Device,
    /// The measured EMG power model (EMG pelvic channels).
    pub emg: Option<EmgPower>,
}

impl TruthContext<'_> {
    /// The measured pelvic level at activation `a`: the conditioned EMG's
    /// RMS including the instrument floor (µV), or pressure (cmH2O).
    fn measured_pelvic(&self, a: f64) -> f64 {
        match (self.device.pelvic_channel(), self.emg) {
            (Some(Role::PelvicPressure), _) => pelvic_pressure_cmh2o(self.subject, self.device, a),
            (_, Some(p)) => {
                let m = self.subject.pelvic_mvc_uv * a.max(0.0);
                libm::sqrt(p.gain2 * m * m + p.floor_uv2)
            }
            _ => self.subject.pelvic_mvc_uv * a.max(0.0),
        }
    }

    /// A reverse Kegel of `depth` (activation below tone) held `on_s`:
    /// its deepest measured fall (fraction of rest) and whether the level
    /// stays at least [`DROP_MIN_FRAC`] below rest for [`DROP_MIN_S`].
    pub(crate) fn drop_attempt(&self, t0: f64, depth: f64, on_s: f64) -> DropAttempt {
        let tone = self.subject.pelvic_tone();
        let rest = self.measured_pelvic(tone);
        if rest.is_nan() || rest <= 0.0 {
            return DropAttempt {
                t0,
                on_s,
                fall_frac: 0.0,
                is_drop: false,
            };
        }
        let n = libm::ceil((on_s + DROP_RAMP_S) / DROP_SCAN_STEP_S) as usize;
        let mut below = 0usize;
        let mut deepest = 0.0f64;
        for i in 0..=n {
            let dt = i as f64 * DROP_SCAN_STEP_S;
            let p = plateau(dt, DROP_RAMP_S, on_s - DROP_RAMP_S, DROP_RAMP_S);
            let fall = 1.0 - self.measured_pelvic(tone - depth * p) / rest;
            deepest = deepest.max(fall);
            if fall >= DROP_MIN_FRAC {
                below += 1;
            }
        }
        DropAttempt {
            t0,
            on_s,
            fall_frac: deepest,
            is_drop: below as f64 * DROP_SCAN_STEP_S >= DROP_MIN_S,
        }
    }

    /// Pelvic value at activation `a` on the pelvic truth channel, in its
    /// canonical unit (µV RMS or cmH2O, without abdominal transmission).
    fn pelvic_value(&self, a: f64) -> f64 {
        match self.device.pelvic_channel() {
            Some(Role::PelvicPressure) => pelvic_pressure_cmh2o(self.subject, self.device, a),
            _ => self.subject.pelvic_mvc_uv * a,
        }
    }
}

/// Pelvic pressure (cmH2O) produced by pelvic activation `a` (without
/// abdominal transmission): passive pressure plus tone below rest, plus
/// squeeze pressure above rest scaled by the subject's strength.
pub fn pelvic_pressure_cmh2o(s: &Subject, d: &Device, a: f64) -> f64 {
    let tone = s.pelvic_tone();
    let rest = d.pelvic_rest_cmh2o * s.tone_factor;
    let passive = d.pelvic_passive_frac * rest;
    if a <= tone {
        passive + (rest - passive) * (a.max(0.0) / tone)
    } else {
        let strength = s.pelvic_mvc_uv / 45.0;
        rest + d.pelvic_squeeze_cmh2o * strength * (a - tone) / (1.0 - tone).max(1e-6)
    }
}

/// Builds the ground-truth events of a timeline, sorted by the time each
/// becomes known (start: onset; end: end; poor release: onset + elapsed).
pub(crate) fn truth(tl: &Timeline, ctx: &TruthContext<'_>) -> Vec<Event> {
    let s = ctx.subject;
    let tone = s.pelvic_tone();
    let pelvic = ctx.device.pelvic_channel();
    let abdominal = ctx.device.abdominal_channel();
    let mut out: Vec<(f64, Event)> = Vec::new();
    let on = |mut e: Event, ch: Option<Role>| {
        e.channel = ch;
        e
    };
    let acts = tl.actions();
    for (i, a) in acts.iter().enumerate() {
        let t0 = a.t0;
        // Next action that moves the pelvic floor (artefacts and coughs do not).
        let next = acts[i + 1..]
            .iter()
            .find(|b| {
                matches!(
                    b.kind,
                    ActionKind::Kegel { .. } | ActionKind::Drop { .. } | ActionKind::Push { .. }
                )
            })
            .map_or(tl.duration_s(), |b| b.t0);
        match a.kind {
            ActionKind::Kegel {
                excess,
                rise_s,
                hold_s,
                ..
            } => {
                let t1 = t0 + rise_s + hold_s;
                let peak_a = tone + excess;
                out.push((
                    t0,
                    on(
                        Event::new(EventKind::Contraction, Some(Phase::Start), t0),
                        pelvic,
                    ),
                ));
                let mut end = on(
                    Event::new(EventKind::Contraction, Some(Phase::End), t0),
                    pelvic,
                );
                end.end_s = Some(t1);
                end.peak = Some(ctx.pelvic_value(peak_a));
                end.peak_pct_mvc = Some(100.0 * peak_a);
                end.rise_s = Some(rise_s);
                end.duration_s = Some(t1 - t0);
                out.push((t1, end));
                // Only a device with an abdominal channel can show it.
                if abdominal.is_some()
                    && s.accessory_frac * excess / (1.0 - tone) >= ACCESSORY_MIN_FRAC
                {
                    out.push((
                        t0,
                        on(
                            Event::new(EventKind::Accessory, Some(Phase::Start), t0),
                            abdominal,
                        ),
                    ));
                    let mut e = on(
                        Event::new(EventKind::Accessory, Some(Phase::End), t0),
                        abdominal,
                    );
                    e.end_s = Some(t1);
                    e.duration_s = Some(t1 - t0);
                    out.push((t1, e));
                }
                let window = next - t1;
                let latency = release_latency(rise_s, hold_s, s, window.max(0.0));
                let slow = match latency {
                    Some(l) => l > POOR_RELEASE_AFTER_S,
                    None => true,
                };
                if window > POOR_RELEASE_AFTER_S && slow {
                    let mut e = on(Event::new(EventKind::PoorRelease, None, t1), pelvic);
                    let left =
                        kegel_shape(rise_s + hold_s + POOR_RELEASE_AFTER_S, rise_s, hold_s, s);
                    e.residual_pct = Some(100.0 * left);
                    e.elapsed_s = Some(POOR_RELEASE_AFTER_S);
                    out.push((t1 + POOR_RELEASE_AFTER_S, e));
                }
                if let Some(l) = latency {
                    let mut e = on(
                        Event::new(EventKind::Relaxation, Some(Phase::Start), t1),
                        pelvic,
                    );
                    e.subtype = Some(RelaxationSubtype::Release);
                    e.latency_s = Some(l);
                    out.push((t1 + l, e));
                }
            }
            ActionKind::Drop { depth, on_s } => {
                if !ctx.drop_attempt(t0, depth, on_s).is_drop {
                    // too shallow on the measured channel (module docs)
                    continue;
                }
                let end_t = t0 + on_s + DROP_RAMP_S * band_crossing_frac();
                let mut st = on(
                    Event::new(EventKind::Relaxation, Some(Phase::Start), t0),
                    pelvic,
                );
                st.subtype = Some(RelaxationSubtype::Drop);
                out.push((t0, st));
                let mut e = on(
                    Event::new(EventKind::Relaxation, Some(Phase::End), t0),
                    pelvic,
                );
                e.subtype = Some(RelaxationSubtype::Drop);
                e.end_s = Some(end_t);
                e.duration_s = Some(end_t - t0);
                e.peak = Some(ctx.pelvic_value(tone - depth));
                out.push((end_t, e));
            }
            ActionKind::Push { level, on_s } => {
                let end_t = t0 + on_s + PUSH_RAMP_S * band_crossing_frac();
                let (ch, push) = match ctx.device.abdominal_channel() {
                    Some(Role::AbdominalEmg) => (
                        Some(Role::AbdominalEmg),
                        s.abdominal_mvc_uv * s.push_abdominal * level,
                    ),
                    Some(r) => (Some(r), s.push_mmhg * CMH2O_PER_MMHG * level),
                    None if ctx.device.has(Role::ProbeMotion) => {
                        (Some(Role::ProbeMotion), ctx.device.descent_g * level)
                    }
                    None => (
                        pelvic,
                        ctx.device.transmission * s.push_mmhg * CMH2O_PER_MMHG * level,
                    ),
                };
                let (response, rao) = if ctx.device.kind == DeviceKind::Manometry {
                    // Manometry judges the anal canal pressure (Rao): < 20 %
                    // fall is incomplete relaxation, whatever the muscle did.
                    let response = if s.push_pelvic_change > 0.0 {
                        PelvicResponse::Paradoxical
                    } else {
                        let d = ctx.device;
                        let rest = pelvic_pressure_cmh2o(s, d, tone);
                        let during = pelvic_pressure_cmh2o(s, d, tone + s.push_pelvic_change)
                            + d.transmission * s.push_mmhg * CMH2O_PER_MMHG * level;
                        if during <= 0.8 * rest {
                            PelvicResponse::Relaxed
                        } else {
                            PelvicResponse::Unchanged
                        }
                    };
                    (response, rao_type(response, s.push_mmhg * level))
                } else {
                    (s.pelvic_response, None)
                };
                let mut st = on(
                    Event::new(EventKind::BearingDown, Some(Phase::Start), t0),
                    ch,
                );
                st.pelvic_response = Some(response);
                st.push = Some(push);
                st.rao_type = rao;
                out.push((t0, st));
                let mut e = st;
                e.phase = Some(Phase::End);
                e.end_s = Some(end_t);
                e.duration_s = Some(end_t - t0);
                out.push((end_t, e));
            }
            ActionKind::Cough { .. } => {}
            ActionKind::Artifact { duration_s, .. } => {
                let mut st = on(
                    Event::new(EventKind::SignalQuality, Some(Phase::Start), t0),
                    pelvic,
                );
                st.issue = Some(QualityIssue::Artifact);
                out.push((t0, st));
                let mut e = st;
                e.phase = Some(Phase::End);
                e.end_s = Some(t0 + duration_s);
                e.duration_s = Some(duration_s);
                out.push((t0 + duration_s, e));
            }
        }
    }
    // Stable: equal times keep generation order (contraction end before release).
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::SubjectKind;

    #[test]
    fn kegel_shape_is_continuous_and_releases() {
        for kind in SubjectKind::ALL {
            let s = Subject::draw(kind, &mut Rng::new(3));
            let mut prev = kegel_shape(0.0, 0.3, 5.0, &s);
            let mut t = 0.0;
            while t < 30.0 {
                t += 0.001;
                let v = kegel_shape(t, 0.3, 5.0, &s);
                assert!(
                    (v - prev).abs() < 0.05,
                    "{kind:?} jump at {t}: {prev} -> {v}"
                );
                prev = v;
            }
            assert!(prev < 0.01, "{kind:?} did not release: {prev}");
            let l = release_latency(0.3, 5.0, &s, 30.0).unwrap();
            assert!(kegel_shape(5.3 + l + 1e-9, 0.3, 5.0, &s) < REST_BAND_FRAC);
            assert!(kegel_shape(5.3 + l - 1e-3, 0.3, 5.0, &s) >= REST_BAND_FRAC);
        }
    }

    #[test]
    fn band_crossing_of_raised_cosine() {
        let u = band_crossing_frac();
        assert!((1.0 - smooth(u) - REST_BAND_FRAC).abs() < 1e-12);
    }
}
