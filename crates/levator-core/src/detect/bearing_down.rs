//! Bearing down (pushing, Valsalva, simulated defecation) and abdominal
//! co-contraction during a Kegel (`accessory`).
//!
//! ```text
//!          push signal > on                      held push_confirm_s
//!   Idle ─────────────────────▶ Pending ─────────────────┬──────────────▶ Pushing ── below off for push_pause_s ──▶ Idle
//!    ▲  ◀─ fell back (cough) ──┘        │ pelvic led, or  │ (emits start)            (emits end: response, push, rao_type)
//!    │                                  │ pelvic rise >=  │
//!    │                                  ▼ 2x abdominal    │
//!    └──── below off for min_off_s ── Accessory ◀─────────┘ (emits accessory start / end)
//! ```
//!
//! **Push signal**, in order of preference: `abdominal_pressure` (rectal
//! balloon, abdominal sensor), `abdominal_emg`, or, with neither,
//! *outward* `probe_motion` (a strain pushes the probe outward/down, a
//! lift pulls it in; the pipeline feeds the motion with its sign flipped).
//!
//! **Limitation.** With a single pelvic pressure balloon and nothing else,
//! a push and a squeeze both raise the pressure: abdominal pressure is
//! transmitted into the balloon. No rule on that one signal can tell them
//! apart, so levator does not guess: such a stream reports contractions
//! only, and no `bearing_down` events.
//!
//! **Push or squeeze?** When the abdominal signal rises, the pelvic
//! contraction detector holds its start until this detector decides:
//! * the pelvic rise started at least [`BearingDownConfig::accessory_lead_s`]
//!   before the abdominal one: a Kegel with abdominal co-contraction
//!   (`accessory` events; the contraction is reported as usual);
//! * the pelvic rise is at least [`BearingDownConfig::squeeze_ratio`]
//!   (default 2, the two-sensor trainer rule from DESIGN.md) times the
//!   abdominal rise: also a squeeze with accessory recruitment. Pressures
//!   are compared in cmH2O; EMG rises in multiples of each channel's own
//!   activity threshold above rest;
//! * EMG only: the pelvic signal was already above its activity threshold,
//!   from a rise that began earlier, when the abdominal one crossed its
//!   own, and the abdominal rise has not reached the accessory level
//!   ([`BearingDownConfig::accessory_emg_rel`]) within the decision window:
//!   minor co-activation during a squeeze (a hypertonic pelvic floor makes
//!   the two-sensor ratio unreliable: its activity unit is large);
//! * otherwise a push: `bearing_down` start, and any pelvic rise inside it
//!   is reported through the push (`pelvic_response: paradoxical`), not as
//!   a separate contraction.
//!
//! The rise is judged after [`BearingDownConfig::push_confirm_s`]; with an
//! abdominal EMG channel a squeeze that is already clear (pelvic rise above
//! its threshold and at least `squeeze_ratio` times the abdominal one)
//! after [`EARLY_SQUEEZE_S`], so a Kegel with abdominal co-contraction is
//! not held back for the whole window. Abdominal co-contraction is
//! reported as `accessory` when its sustained level ([`SUSTAIN_TAU_S`])
//! rises by [`BearingDownConfig::accessory_emg_rel`] times the abdominal
//! rest (EMG) or by [`BearingDownConfig::accessory_cmh2o`] (pressure).
//!
//! A push ends once the signal has stayed below its off level for
//! [`BearingDownConfig::push_pause_s`] (2 s: a breath between two strains
//! of one bearing-down attempt does not split it into two pushes; the
//! pelvic response is judged over the strains, not the pauses). After a
//! push or co-contraction ends, the signal must come back inside its
//! resting band before another push can start (the tail of one push is
//! not a second push).
//!
//! **Pelvic response** (mean pelvic level over the push against the pelvic
//! rest level before it): `relaxed` when it fell by at least
//! [`BearingDownConfig::relax_fraction`] (20%, the manometric criterion
//! for adequate anal relaxation), `paradoxical` when it rose by at least
//! as much (20% of rest, and at least out of the resting band: Rao's
//! "paradoxical increase in anal sphincter pressure"), `unchanged`
//! otherwise (less than 20% relaxation). The start event carries a
//! provisional response judged over the confirmation window; the end event
//! the final one. With a pelvic pressure balloon and only probe motion for
//! the push (single-balloon trainers) the response is not judged
//! (`None`): the balloon's rise during a push is transmitted abdominal
//! pressure, which nothing on such a device measures separately.
//! With two pressures (a pelvic balloon beside an abdominal sensor) the
//! part of the pelvic pressure that is transmitted abdominal pressure is
//! taken out first: its ratio is learnt from the resting breaths (the
//! abdominal swing of each breath reaches the balloon in proportion;
//! [`TRANSMISSION_MIN_R2`] says when the estimate is trusted), and the
//! mean pelvic level over the push is lowered by that ratio times the
//! abdominal rise. Without a trusted ratio (no breathing seen at rest, or
//! anal manometry, where the sphincter's own tone waves dominate) the
//! pelvic level is judged as measured.
//!
//! **Rao types** (manometry: `abdominal_pressure` = rectal, `pelvic_pressure`
//! = anal canal). Rao's classification of dyssynergic defecation (Rao SSC,
//! Welcher KD, Leistikow JS, "Obstructive defecation: a failure of
//! rectoanal coordination", Am J Gastroenterol 1998;93:1042-50; Rao,
//! Gastroenterol Clin N Am 2008): with *adequate* propulsion = a rise of
//! intrarectal pressure >= 40 mmHg (54.38 cmH2O):
//! * **type 1**: adequate push, paradoxical rise of anal pressure;
//! * **type 2**: inadequate push, paradoxical anal contraction;
//! * **type 3**: adequate push, absent or incomplete (< 20%) anal relaxation;
//! * **type 4**: inadequate push, absent or incomplete anal relaxation.
//!
//! A push with >= 20% anal relaxation is not dyssynergic and gets no
//! `rao_type`.

use core::fmt;

use crate::event::{Event, EventKind, PelvicResponse, Phase};
use crate::features::baseline::Band;
use crate::stream::{Role, CMH2O_PER_MMHG};

use super::{samples_for, ConfigError, EventSink};

/// With an `abdominal_emg` push signal, a rise judged a squeeze (the
/// pelvic rise under way and above its activity threshold, and at least
/// `squeeze_ratio` times the abdominal one) is released this soon (s)
/// instead of after the whole [`BearingDownConfig::push_confirm_s`], which
/// held the contraction start of every Kegel with abdominal co-contraction
/// for 0.5 s (simulator, 3 EMG devices x 6 scenarios x 6 subjects x 2
/// seeds: contraction latency p95 375 -> 325 ms, false pushes 11 -> 0).
/// 0.1 s: two 50 ms envelope windows of both channels.
pub const EARLY_SQUEEZE_S: f64 = 0.1;

/// Co-contraction is judged on the abdominal level smoothed with this time
/// constant (s), not on its momentary peak: a 50 ms RMS envelope of sEMG
/// fluctuates by about 15% from window to window, so the highest sample of
/// a 2-10 s hold reads 30-45% above the sustained activation (and a
/// breath swings abdominal pressure by 1-3 cmH2O). 0.5 s is the usual
/// averaging window of sEMG amplitude normalisation (as for the MVC).
pub const SUSTAIN_TAU_S: f64 = 0.5;

/// Passive transmission (pressure pairs): the breathing swing of the
/// abdominal pressure is followed, at rest, by the pelvic sensor in
/// proportion to how much abdominal pressure reaches it (the *pressure
/// transmission ratio* of urodynamics, there measured with coughs). The
/// swings are taken about moving means with this time constant (s): a
/// breath lasts 3-6 s.
pub const TRANSMISSION_DETREND_S: f64 = 2.0;

/// The transmission ratio is estimated over this much rest (s, time
/// constant of the running covariances).
pub const TRANSMISSION_TAU_S: f64 = 60.0;

/// The ratio is used only when the abdominal swings explain at least this
/// share of the pelvic ones at rest (R², squared correlation; 0.25 is a
/// correlation of 0.5) **and** the slope is a possible passive ratio,
/// above 0 and at most 1 (a pelvic sensor cannot receive more of an
/// abdominal swing than there is; a steeper slope means the pelvic signal's
/// own activity follows the breathing, and the model does not hold). On a
/// simulated vaginal balloon beside an abdominal sensor (35% transmitted)
/// the estimate reads 0.34-0.38 at R² 0.44-0.93. On the issue-7 anal
/// manometry recordings the sphincter's own tone waves dominate: over the
/// marked rest R² 0.00-0.38 at slopes -0.07..4.4, none passes, and the
/// response is judged on the raw anal pressure as Rao's criteria are.
pub const TRANSMISSION_MIN_R2: f64 = 0.25;

/// After activity (a contraction, a push, a drop, an artefact) the
/// estimate resumes only after this much rest (s): the moving means must
/// settle, and a fading contraction is not a breathing swing.
pub const TRANSMISSION_SETTLE_S: f64 = 4.0;

/// Rest needed before the ratio is used (s): two or three breaths.
pub const TRANSMISSION_MIN_S: f64 = 10.0;

/// Running estimate of the passive transmission ratio from resting
/// breathing swings (allocation-free, O(1) per sample).
#[derive(Clone, Copy, Debug)]
struct Transmission {
    detrend_alpha: f64,
    cov_alpha: f64,
    min_n: u64,
    mean_p: f64,
    mean_a: f64,
    saa: f64,
    spp: f64,
    spa: f64,
    n: u64,
    fresh: bool,
    settle: u64,
    settle_left: u64,
}

impl Transmission {
    fn new(rate_hz: f64) -> Transmission {
        Transmission {
            detrend_alpha: crate::features::baseline::smoothing_alpha(
                TRANSMISSION_DETREND_S,
                rate_hz,
            ),
            cov_alpha: crate::features::baseline::smoothing_alpha(TRANSMISSION_TAU_S, rate_hz),
            min_n: samples_for(TRANSMISSION_MIN_S, rate_hz),
            mean_p: 0.0,
            mean_a: 0.0,
            saa: 0.0,
            spp: 0.0,
            spa: 0.0,
            n: 0,
            fresh: true,
            settle: samples_for(TRANSMISSION_SETTLE_S, rate_hz),
            settle_left: 0,
        }
    }

    /// A resting sample of both pressures.
    fn rest(&mut self, pelvic: f64, abdominal: f64) {
        if !(pelvic.is_finite() && abdominal.is_finite()) {
            return;
        }
        if self.fresh {
            // after activity the moving means start again from here, and
            // the swings count once the means have settled
            self.mean_p = pelvic;
            self.mean_a = abdominal;
            self.fresh = false;
            self.settle_left = self.settle;
            return;
        }
        let dp = pelvic - self.mean_p;
        let da = abdominal - self.mean_a;
        self.mean_p += self.detrend_alpha * dp;
        self.mean_a += self.detrend_alpha * da;
        if self.settle_left > 0 {
            self.settle_left -= 1;
            return;
        }
        // a plain running mean at first, then a moving one
        let w = (1.0 / (self.n + 1) as f64).max(self.cov_alpha);
        self.saa += w * (da * da - self.saa);
        self.spp += w * (dp * dp - self.spp);
        self.spa += w * (dp * da - self.spa);
        self.n += 1;
    }

    /// Not a resting sample: the next one restarts the moving means.
    fn pause(&mut self) {
        self.fresh = true;
    }

    /// The ratio, once enough rest has shown that breathing reaches the
    /// pelvic sensor (see [`TRANSMISSION_MIN_R2`]).
    fn ratio(&self) -> Option<f64> {
        if self.n < self.min_n || !(self.saa > 0.0 && self.spp > 0.0) {
            return None;
        }
        let r2 = self.spa * self.spa / (self.saa * self.spp);
        let k = self.spa / self.saa;
        (r2 >= TRANSMISSION_MIN_R2 && k > 0.0 && k <= 1.0).then_some(k)
    }
}

/// Bearing-down parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BearingDownConfig {
    /// After the push signal rose above its activity threshold, it must
    /// stay there this long (s; at least two samples) before the rise is
    /// judged: a squeeze with abdominal co-contraction (`accessory`) or a
    /// push. For `abdominal_emg` this is also the shortest push. Default
    /// 0.5 s: the abdominal EMG burst of a cough lasts 0.2-0.4 s, a push
    /// (simulated defecation) 10-20 s; while the rise is judged a pelvic
    /// contraction start is held, so this is also the longest delay a
    /// Kegel with abdominal co-contraction can get.
    pub push_confirm_s: f64,
    /// The shortest push on a pressure or motion push signal (s; at least
    /// [`push_confirm_s`](Self::push_confirm_s)): a rise judged a push
    /// (not a squeeze) after `push_confirm_s` emits its `bearing_down`
    /// start only once it has lasted this long. Default 1.0 s: a cough
    /// raises rectal pressure by 40-80 mmHg for up to 0.8 s above the
    /// activity threshold (measured at the `# Cough` markers of the issue-7
    /// manometry recordings; `testnolong` 160.6 s was such a cough counted
    /// as a push), while a bearing-down effort lasts seconds (simulated
    /// defecation 10-20 s). Pressure devices have no 30 ms latency budget
    /// (simulator: push detection latency median 0.71 -> 1.13 s, F1 0.997
    /// -> 1.000).
    pub push_confirm_pressure_s: f64,
    /// Abdominal co-contraction (`accessory`) ends after the signal stayed
    /// below its off level this long (s). Default 0.3 s.
    pub min_off_s: f64,
    /// A push ends after the signal stayed below its off level this long
    /// (s). Default 2.0 s: a bearing-down attempt is often two or three
    /// strains with a quick breath between them (an inspiration takes
    /// 1-2 s); one attempt is one push, not several. `end_s` is still the
    /// start of the pause.
    pub push_pause_s: f64,
    /// Off level: `rest + off_fraction * (peak - rest)`, at least the
    /// resting band's upper edge. Default 0.3.
    pub off_fraction: f64,
    /// A pelvic rise that began this much earlier than the abdominal rise
    /// is a Kegel with accessory co-contraction (s). Default 0.2 s.
    pub accessory_lead_s: f64,
    /// With two pressures (manometry, two-sensor trainers), a pelvic rise
    /// that began this much earlier than the abdominal one is a squeeze
    /// with abdominal co-contraction whatever the sizes (s). Default 1.0 s:
    /// at 2-10 Hz a retro-dated onset is uncertain by a few samples, and a
    /// paradoxical anal rise can lead a push by a fraction of a second.
    /// Never less than three sample periods.
    pub pressure_lead_s: f64,
    /// A pelvic rise at least this many times the abdominal rise is a
    /// squeeze, not a push. Default 2.0 (two-sensor trainer rule).
    pub squeeze_ratio: f64,
    /// Pelvic relaxation counted as `relaxed` (fraction of resting level).
    /// Default 0.2 (manometry: < 20% relaxation = dyssynergia).
    pub relax_fraction: f64,
    /// Rectal pressure rise for an adequate push (cmH2O). Default
    /// 40 mmHg = 54.38 cmH2O (Rao 1998).
    pub adequate_push_cmh2o: f64,
    /// Abdominal EMG co-contraction during a Kegel is reported as
    /// `accessory` once the abdominal envelope rose by this multiple of its
    /// resting level. Default 8 (a 9-fold envelope): some transversus
    /// abdominis co-activation is normal physiology and raises a quiet
    /// abdominal envelope a few-fold; recruiting the abdominal wall to
    /// squeeze (20% or more of its maximum, i.e. 12-25 µV on a 60-120 µV
    /// maximum over a 2-3 µV rest) raises it about ten-fold.
    pub accessory_emg_rel: f64,
    /// Abdominal pressure rise during a Kegel reported as `accessory`
    /// (cmH2O). Default 8 cmH2O: breathing swings abdominal pressure by
    /// 1-3 cmH2O; bracing the abdominal wall adds about 40 cmH2O at full
    /// effort, so 8 cmH2O is a 20% effort.
    pub accessory_cmh2o: f64,
    /// While a pressure or motion push signal has just left its resting
    /// level (above rest + 1 SD) but is not yet above its activity
    /// threshold, a pelvic contraction start is held for at most this long
    /// (s). Default 0.8 s: abdominal pressure reaches a pelvic balloon
    /// (transmission) as fast as the push signal rises, so without the
    /// hold the start of every push on a pressure trainer would look like
    /// a squeeze. Not used for abdominal EMG (ECG bleed makes it stir
    /// every heartbeat).
    pub stir_hold_s: f64,
}

impl Default for BearingDownConfig {
    fn default() -> Self {
        BearingDownConfig {
            push_confirm_s: 0.5,
            push_confirm_pressure_s: 1.0,
            min_off_s: 0.3,
            push_pause_s: 2.0,
            off_fraction: 0.3,
            accessory_lead_s: 0.2,
            pressure_lead_s: 1.0,
            squeeze_ratio: 2.0,
            relax_fraction: 0.2,
            adequate_push_cmh2o: 40.0 * CMH2O_PER_MMHG,
            accessory_emg_rel: 8.0,
            accessory_cmh2o: 8.0,
            stir_hold_s: 0.8,
        }
    }
}

impl BearingDownConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let nonneg = |v: f64| v.is_finite() && v >= 0.0;
        let checks: [(bool, &'static str); 13] = [
            (
                nonneg(self.push_confirm_pressure_s),
                "bearing_down.push_confirm_pressure_s",
            ),
            (nonneg(self.push_pause_s), "bearing_down.push_pause_s"),
            (nonneg(self.pressure_lead_s), "bearing_down.pressure_lead_s"),
            (nonneg(self.stir_hold_s), "bearing_down.stir_hold_s"),
            (
                self.accessory_emg_rel.is_finite() && self.accessory_emg_rel > 0.0,
                "bearing_down.accessory_emg_rel",
            ),
            (
                self.accessory_cmh2o.is_finite() && self.accessory_cmh2o > 0.0,
                "bearing_down.accessory_cmh2o",
            ),
            (nonneg(self.push_confirm_s), "bearing_down.push_confirm_s"),
            (nonneg(self.min_off_s), "bearing_down.min_off_s"),
            (
                self.off_fraction.is_finite() && self.off_fraction > 0.0 && self.off_fraction < 1.0,
                "bearing_down.off_fraction",
            ),
            (
                nonneg(self.accessory_lead_s),
                "bearing_down.accessory_lead_s",
            ),
            (
                self.squeeze_ratio.is_finite() && self.squeeze_ratio > 0.0,
                "bearing_down.squeeze_ratio",
            ),
            (
                self.relax_fraction.is_finite()
                    && self.relax_fraction > 0.0
                    && self.relax_fraction < 1.0,
                "bearing_down.relax_fraction",
            ),
            (
                self.adequate_push_cmh2o.is_finite() && self.adequate_push_cmh2o > 0.0,
                "bearing_down.adequate_push_cmh2o",
            ),
        ];
        for (ok, field) in checks {
            if !ok {
                return Err(ConfigError::new(field));
            }
        }
        Ok(())
    }
}

/// Detector state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No abdominal activity.
    Idle,
    /// Abdominal signal above threshold, push not yet confirmed.
    Pending,
    /// A push is under way (start emitted).
    Pushing,
    /// Abdominal co-activation during a Kegel (an `accessory` start is
    /// emitted once it is large enough).
    Accessory,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "idle",
            State::Pending => "pending",
            State::Pushing => "pushing",
            State::Accessory => "accessory",
        })
    }
}

/// What the pelvic side looks like this sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PelvicView {
    /// Pelvic feature level.
    pub level: f64,
    /// Pelvic thresholds.
    pub band: Band,
    /// Onset of a pelvic rise in progress (pending or started contraction).
    pub rise_onset_s: Option<f64>,
}

/// Bearing-down / accessory detector.
#[derive(Clone, Debug)]
pub struct BearingDownDetector {
    role: Role,
    pelvic_role: Option<Role>,
    state: State,
    config: BearingDownConfig,
    pressure_pair: bool,
    min_decide: u64,
    min_early: u64,
    pelvic_first: bool,
    sustain_alpha: f64,
    sustained: f64,
    sustained_peak: f64,
    min_confirm: u64,
    decided: bool,
    min_off: u64,
    min_pause: u64,
    count: u64,
    below: u64,
    last_quiet_s: f64,
    onset_s: f64,
    below_since_s: f64,
    rest: f64,
    on: f64,
    peak: f64,
    pelvic_rest: f64,
    pelvic_on: f64,
    pelvic_half_band: f64,
    pelvic_peak: f64,
    pelvic_sum: f64,
    pelvic_n: u64,
    push_sum: f64,
    transmission: Transmission,
    accessory_reported: bool,
    stir: u64,
    max_stir: u64,
    last_mid_s: f64,
    armed: bool,
    pressure_lead_s: f64,
    pending_on: f64,
}

impl BearingDownDetector {
    /// A detector on push channel `role` (for `probe_motion` the caller
    /// feeds `-motion`), judging the response on `pelvic_role`.
    pub fn new(
        role: Role,
        pelvic_role: Option<Role>,
        rate_hz: f64,
        config: &BearingDownConfig,
    ) -> Result<BearingDownDetector, ConfigError> {
        config.validate()?;
        let pressure_pair =
            role == Role::AbdominalPressure && pelvic_role == Some(Role::PelvicPressure);
        Ok(BearingDownDetector {
            role,
            pelvic_role,
            state: State::Idle,
            config: *config,
            pressure_pair,
            min_decide: samples_for(config.push_confirm_s, rate_hz).max(2),
            min_early: samples_for(EARLY_SQUEEZE_S, rate_hz).max(2),
            pelvic_first: false,
            sustain_alpha: crate::features::baseline::smoothing_alpha(SUSTAIN_TAU_S, rate_hz),
            sustained: 0.0,
            sustained_peak: 0.0,
            min_confirm: if role == Role::AbdominalEmg {
                samples_for(config.push_confirm_s, rate_hz)
            } else {
                samples_for(
                    config.push_confirm_s.max(config.push_confirm_pressure_s),
                    rate_hz,
                )
            }
            .max(2),
            decided: false,
            min_off: samples_for(config.min_off_s, rate_hz),
            min_pause: samples_for(config.push_pause_s, rate_hz),
            count: 0,
            below: 0,
            last_quiet_s: 0.0,
            onset_s: 0.0,
            below_since_s: 0.0,
            rest: 0.0,
            on: 0.0,
            peak: 0.0,
            pelvic_rest: 0.0,
            pelvic_on: 0.0,
            pelvic_half_band: 0.0,
            pelvic_peak: 0.0,
            pelvic_sum: 0.0,
            pelvic_n: 0,
            push_sum: 0.0,
            transmission: Transmission::new(rate_hz),
            accessory_reported: false,
            stir: 0,
            last_mid_s: 0.0,
            armed: true,
            pending_on: 0.0,
            // at least three sample periods: onsets are retro-dated to
            // whole samples, a lead of one or two rows means nothing at 2 Hz
            pressure_lead_s: config.pressure_lead_s.max(3.0 / rate_hz),
            max_stir: samples_for(config.stir_hold_s, rate_hz),
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// True while the pelvic contraction detector must hold a start.
    pub fn defers(&self, pelvic_rise_onset_s: Option<f64>) -> bool {
        match self.state {
            // pressure pairs are judged by the two-sensor ratio alone
            State::Pending => {
                let lead = if self.pressure_pair {
                    self.pressure_lead_s
                } else {
                    self.config.accessory_lead_s
                };
                !matches!(pelvic_rise_onset_s, Some(p) if p + lead <= self.onset_s)
            }
            // a pressure or outward-motion push signal that starts to leave
            // rest: hold a pelvic start briefly (transmitted abdominal
            // pressure raises the pelvic balloon as fast as the push signal)
            State::Idle => {
                self.role != Role::AbdominalEmg && (1..=self.max_stir).contains(&self.stir)
            }
            State::Pushing | State::Accessory => false,
        }
    }

    /// True while a push is confirmed.
    pub fn is_pushing(&self) -> bool {
        self.state == State::Pushing
    }

    /// True unless idle.
    pub fn is_busy(&self) -> bool {
        self.state != State::Idle
    }

    /// Forgets a pending push; ends an active one at `t` (gap).
    pub fn interrupt<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        self.finish(t, sink);
        self.last_quiet_s = t;
    }

    /// Ends whatever is active at the end of the stream.
    pub fn finish<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        // a push paused below its off level ended where the pause began
        let end_s = if self.below > 0 {
            self.below_since_s.min(t)
        } else {
            t
        };
        match self.state {
            State::Pushing => self.emit_push_end(t, end_s, sink),
            State::Accessory if self.accessory_reported => self.emit_accessory_end(t, end_s, sink),
            State::Idle | State::Pending | State::Accessory => {}
        }
        self.state = State::Idle;
    }

    /// One sample: `level` is the push signal (motion already sign-flipped),
    /// `band` its thresholds; `pelvic` the pelvic side when present.
    pub fn tick<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        level: f64,
        band: &Band,
        pelvic: Option<&PelvicView>,
        blocked: bool,
        sink: &mut S,
    ) {
        if blocked {
            // freeze: an artefact neither starts, confirms nor ends a push
            if self.state == State::Idle {
                self.last_quiet_s = t;
            }
            return;
        }
        if self.pressure_pair {
            match pelvic {
                Some(p)
                    if self.state == State::Idle
                        && p.rise_onset_s.is_none()
                        && (p.band.band_lo..=p.band.band_hi).contains(&p.level)
                        && (band.band_lo..=band.band_hi).contains(&level) =>
                {
                    self.transmission.rest(p.level, level)
                }
                _ => self.transmission.pause(),
            }
        }
        match self.state {
            State::Idle => {
                if level <= band.band_hi {
                    self.armed = true;
                }
                if level <= band.rest + 0.5 * (band.on - band.rest) {
                    self.last_mid_s = t;
                }
                if level <= band.quiet {
                    self.last_quiet_s = t;
                    self.stir = 0;
                } else {
                    self.stir = self.stir.saturating_add(1);
                }
                // during a squeeze, a smaller abdominal pressure rise is
                // enough to look for accessory co-contraction
                let squeezing = pelvic.is_some_and(|p| p.rise_onset_s.is_some());
                self.pending_on = if squeezing && self.role == Role::AbdominalPressure {
                    band.on.min(band.rest + self.config.accessory_cmh2o)
                } else {
                    band.on
                };
                if level > self.pending_on && self.armed {
                    self.state = State::Pending;
                    // retro-date to the last quiet sample, but no earlier
                    // than the rising edge extrapolated back to rest from
                    // its mid-point and threshold crossings (a push signal
                    // can hover just above quiet with breathing first)
                    let edge = self.last_mid_s - (t - self.last_mid_s);
                    self.onset_s = self.last_quiet_s.max(edge);
                    self.rest = band.rest;
                    self.on = band.on;
                    self.peak = level;
                    self.sustained = level;
                    self.sustained_peak = level;
                    self.count = 1;
                    self.decided = false;
                    self.pelvic_sum = 0.0;
                    self.pelvic_n = 0;
                    self.push_sum = 0.0;
                    self.pelvic_first = false;
                    if let Some(p) = pelvic {
                        self.pelvic_rest = p.band.rest;
                        self.pelvic_on = p.band.on;
                        self.pelvic_half_band = p.band.band_hi - p.band.rest;
                        self.pelvic_peak = p.level;
                        // the pelvic signal already above its activity
                        // threshold, from a rise that began earlier
                        self.pelvic_first = p.level > p.band.on
                            && matches!(p.rise_onset_s, Some(o) if o < self.onset_s);
                    }
                    self.accumulate(level, pelvic);
                    self.try_confirm(t, pelvic, sink);
                }
            }
            State::Pending => {
                if level <= self.pending_on {
                    self.state = State::Idle;
                    if level <= band.quiet {
                        self.last_quiet_s = t;
                    }
                    return;
                }
                self.count += 1;
                self.sustain(level);
                self.accumulate(level, pelvic);
                self.try_confirm(t, pelvic, sink);
            }
            State::Pushing | State::Accessory => {
                self.sustain(level);
                let off = (self.rest + self.config.off_fraction * (self.peak - self.rest))
                    .max(band.band_hi);
                // the pelvic response is judged over the effort, not over
                // a pause (a breath between strains, or the end of it)
                if level >= off {
                    self.accumulate(level, pelvic);
                }
                if level < off {
                    if self.below == 0 {
                        self.below_since_s = t;
                    }
                    self.below += 1;
                    let needed = if self.state == State::Pushing {
                        self.min_pause
                    } else {
                        self.min_off
                    };
                    if self.below >= needed {
                        let end_s = self.below_since_s;
                        if self.state == State::Pushing {
                            self.emit_push_end(t, end_s, sink);
                        } else if self.accessory_reported {
                            self.emit_accessory_end(t, end_s, sink);
                        }
                        self.state = State::Idle;
                        self.last_quiet_s = t;
                        // the tail of this push must settle into the band
                        // before another one can start
                        self.armed = false;
                    }
                } else {
                    self.below = 0;
                    if self.state == State::Accessory {
                        self.try_report_accessory(t, sink);
                    }
                }
            }
        }
    }

    fn accessory_threshold(&self) -> f64 {
        if self.role == Role::AbdominalEmg {
            self.config.accessory_emg_rel * libm::fabs(self.rest)
        } else {
            self.config.accessory_cmh2o
        }
    }

    fn try_report_accessory<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if self.accessory_reported || self.role == Role::ProbeMotion {
            return;
        }
        if self.sustained_peak - self.rest >= self.accessory_threshold() {
            self.accessory_reported = true;
            let e = Event::new(EventKind::Accessory, Some(Phase::Start), self.onset_s)
                .detected_at(t)
                .on_channel(self.role);
            sink.emit(e);
        }
    }

    /// Follows the sustained (smoothed) push-signal level and its maximum.
    fn sustain(&mut self, level: f64) {
        if level.is_finite() {
            self.sustained += self.sustain_alpha * (level - self.sustained);
            if self.sustained > self.sustained_peak {
                self.sustained_peak = self.sustained;
            }
        }
    }

    fn accumulate(&mut self, level: f64, pelvic: Option<&PelvicView>) {
        if level > self.peak {
            self.peak = level;
        }
        if let Some(p) = pelvic {
            if p.level.is_finite() {
                self.pelvic_sum += p.level;
                self.push_sum += level;
                self.pelvic_n += 1;
                if p.level > self.pelvic_peak {
                    self.pelvic_peak = p.level;
                }
            }
        }
    }

    fn try_confirm<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        pelvic: Option<&PelvicView>,
        sink: &mut S,
    ) {
        if !self.decided
            && self.role == Role::AbdominalEmg
            && self.count >= self.min_early
            && pelvic.is_some_and(|p| p.rise_onset_s.is_some() && p.level > p.band.on)
            && self.is_squeeze(pelvic, false)
        {
            // EMG: a pelvic rise already under way that clearly outweighs
            // the abdominal one is a squeeze; say so now rather than hold
            // the contraction start for the whole decision window
            self.decided = true;
            self.below = 0;
            self.state = State::Accessory;
            self.accessory_reported = false;
            self.try_report_accessory(t, sink);
            return;
        }
        if self.count < self.min_decide {
            return;
        }
        if !self.decided {
            // squeeze or push is judged on the start of the rise (which
            // led, and by how much); a push must then last
            self.decided = true;
            if self.is_squeeze(pelvic, true) {
                self.below = 0;
                self.state = State::Accessory;
                self.accessory_reported = false;
                self.try_report_accessory(t, sink);
                return;
            }
        }
        if self.count < self.min_confirm {
            return;
        }
        self.below = 0;
        self.state = State::Pushing;
        let mut e = Event::new(EventKind::BearingDown, Some(Phase::Start), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.pelvic_response = self.response();
        e.push = Some(self.push_amount());
        e.rao_type = self.rao_type(e.pelvic_response);
        sink.emit(e);
    }

    /// Whether the abdominal rise belongs to a squeeze; `window`: the whole
    /// decision window ([`BearingDownConfig::push_confirm_s`]) has been seen.
    fn is_squeeze(&self, pelvic: Option<&PelvicView>, window: bool) -> bool {
        let Some(p) = pelvic else { return false };
        if self.role == Role::ProbeMotion {
            // outward motion is a strain whatever the pressure does
            return false;
        }
        let pelvic_rise = self.pelvic_peak - self.pelvic_rest;
        let abd_rise = self.peak - self.rest;
        if pelvic_rise <= 0.0 || abd_rise <= 0.0 {
            return false;
        }
        if self.pressure_pair {
            // both in cmH2O: a squeeze clearly under way before the
            // abdominal rise, or the two-sensor ratio (a paradoxical anal
            // rise may well lead a weak rectal push by a fraction of a
            // second at 10 Hz)
            if matches!(p.rise_onset_s, Some(o) if o + self.pressure_lead_s <= self.onset_s) {
                return true;
            }
            return pelvic_rise >= self.config.squeeze_ratio * abd_rise;
        }
        if let Some(onset) = p.rise_onset_s {
            if onset + self.config.accessory_lead_s <= self.onset_s {
                return true;
            }
        }
        if window && self.pelvic_first && self.peak - self.rest < self.accessory_threshold() {
            // the pelvic floor was already contracting above its threshold
            // when the abdominal signal crossed its own, and the abdominal
            // activity has not even momentarily reached what counts as
            // accessory use: minor co-activation during a squeeze (a
            // bearing-down effort recruits the abdominal wall far above
            // that within its first half second)
            return true;
        }
        {
            let p_unit = (self.pelvic_on - self.pelvic_rest).max(f64::MIN_POSITIVE);
            let a_unit = (self.on - self.rest).max(f64::MIN_POSITIVE);
            pelvic_rise / p_unit >= self.config.squeeze_ratio * (abd_rise / a_unit)
        }
    }

    fn push_amount(&self) -> f64 {
        self.peak - self.rest
    }

    fn response(&self) -> Option<PelvicResponse> {
        self.pelvic_role?;
        if self.pelvic_n == 0 {
            return None;
        }
        if self.role == Role::ProbeMotion && self.pelvic_role == Some(Role::PelvicPressure) {
            // the balloon sees the push itself (transmitted abdominal
            // pressure) and nothing measures it separately: cannot judge
            return None;
        }
        let mut mean = self.pelvic_sum / self.pelvic_n as f64;
        if self.pressure_pair {
            // the part of the pelvic pressure that is transmitted abdominal
            // pressure is not pelvic activity
            if let Some(k) = self.transmission.ratio() {
                mean -= k * (self.push_sum / self.pelvic_n as f64 - self.rest);
            }
        }
        let rest = self.pelvic_rest;
        let rise = (self.config.relax_fraction * libm::fabs(rest)).max(self.pelvic_half_band);
        Some(if mean >= rest + rise {
            PelvicResponse::Paradoxical
        } else if mean <= rest - self.config.relax_fraction * libm::fabs(rest) {
            PelvicResponse::Relaxed
        } else {
            PelvicResponse::Unchanged
        })
    }

    fn rao_type(&self, response: Option<PelvicResponse>) -> Option<u8> {
        if !self.pressure_pair {
            return None;
        }
        let adequate = self.push_amount() >= self.config.adequate_push_cmh2o;
        match (response?, adequate) {
            (PelvicResponse::Paradoxical, true) => Some(1),
            (PelvicResponse::Paradoxical, false) => Some(2),
            (PelvicResponse::Unchanged, true) => Some(3),
            (PelvicResponse::Unchanged, false) => Some(4),
            (PelvicResponse::Relaxed, _) => None,
        }
    }

    fn emit_push_end<S: EventSink + ?Sized>(&mut self, t: f64, end_s: f64, sink: &mut S) {
        let mut e = Event::new(EventKind::BearingDown, Some(Phase::End), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.end_s = Some(end_s);
        e.duration_s = Some((end_s - self.onset_s).max(0.0));
        e.pelvic_response = self.response();
        e.push = Some(self.push_amount());
        e.rao_type = self.rao_type(e.pelvic_response);
        sink.emit(e);
    }

    fn emit_accessory_end<S: EventSink + ?Sized>(&mut self, t: f64, end_s: f64, sink: &mut S) {
        let mut e = Event::new(EventKind::Accessory, Some(Phase::End), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.end_s = Some(end_s);
        e.duration_s = Some((end_s - self.onset_s).max(0.0));
        sink.emit(e);
    }
}
