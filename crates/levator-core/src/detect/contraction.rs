//! Contraction start/end on the pelvic channel (EMG envelope in µV or
//! smoothed pressure in cmH2O).
//!
//! ```text
//!            level > start threshold              min_on elapsed
//!   Idle ───────────────────────────▶ Rising ─────────────────────▶ Active ──┐
//!    ▲  ◀──── fell back (spike) ───────┘  │ push confirmed               ▲    │ level < end level
//!    │                                    ▼                              │    ▼
//!    │                                 Absorbed (the rise belongs to  Falling ── min_off elapsed ──▶ Idle
//!    └──── push over, level < on ─────  a bearing_down event)                  (emits end)
//! ```
//!
//! * **Start threshold**: [`Band::on`], raised after an end to
//!   `rest + rearm_fraction * (last reference - rest)` until the level has
//!   been back in the resting band once, so a slow or bumpy release is not
//!   split into two contractions.
//! * **Onset** (`onset_s`): retro-dated to the last sample at or below
//!   [`Band::quiet`] (rest + 1 SD by default) before the rise, minus the
//!   front end's delay.
//! * **End**: the level falls below `rest + end_fraction * (ref - rest)`
//!   for [`ContractionConfig::min_off_s`], where `ref` is the peak, decaying
//!   towards the level with [`ContractionConfig::reference_tau_s`] so that
//!   fatigue during a 60 s endurance hold does not end the contraction.
//!   `end_s` is retro-dated to the last sample at or above
//!   `rest + hold_fraction * (ref - rest)`: the end of the hold, where the
//!   fall starts.

use core::fmt;

use crate::event::{Event, EventKind, Phase};
use crate::features::baseline::{pct_mvc, smoothing_alpha, Band};
use crate::stream::Role;

use super::{samples_for, ConfigError, EventSink};

/// Contraction detector parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ContractionConfig {
    /// The level must stay above the start threshold this long before a
    /// start is emitted (s; at least one sample). Default 0.015 s: rejects
    /// single-sample spikes at kHz rates while keeping the 30 ms median
    /// latency target of issue 4; at 10 Hz and below it is one sample.
    pub min_on_s: f64,
    /// The level must stay below the end level this long before the end is
    /// emitted (s; at least one sample). Default 0.1 s: EMG envelopes dip
    /// briefly during a hold (motor-unit firing is irregular).
    pub min_off_s: f64,
    /// End when the level falls below this fraction of the excursion from
    /// rest to the (decaying) peak. Default 0.5 (half relaxation).
    pub end_fraction: f64,
    /// The hold is taken to last while the level stays at or above this
    /// fraction of the excursion; `end_s` is the last such sample.
    /// Default 0.7.
    pub hold_fraction: f64,
    /// Time constant with which the peak reference decays towards the
    /// level (s). Default 4 s: a release (Glazer healthy recovery < 0.2 s,
    /// slow hypertonic releases 1-3 s) falls faster than this; fatigue in
    /// a 60 s endurance hold (amplitude halves over a minute) is slower.
    pub reference_tau_s: f64,
    /// After an end, a new start needs the level back in the resting band
    /// first, or a rise above this fraction of the previous excursion.
    /// Default 0.8.
    pub rearm_fraction: f64,
}

impl Default for ContractionConfig {
    fn default() -> Self {
        ContractionConfig {
            min_on_s: 0.015,
            min_off_s: 0.1,
            end_fraction: 0.5,
            hold_fraction: 0.7,
            reference_tau_s: 4.0,
            rearm_fraction: 0.8,
        }
    }
}

impl ContractionConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let nonneg = |v: f64| v.is_finite() && v >= 0.0;
        let frac = |v: f64| v.is_finite() && v > 0.0 && v < 1.0;
        if !nonneg(self.min_on_s) {
            return Err(ConfigError::new("contraction.min_on_s"));
        }
        if !nonneg(self.min_off_s) {
            return Err(ConfigError::new("contraction.min_off_s"));
        }
        if !frac(self.end_fraction) {
            return Err(ConfigError::new("contraction.end_fraction"));
        }
        if !frac(self.hold_fraction) || self.hold_fraction < self.end_fraction {
            return Err(ConfigError::new("contraction.hold_fraction"));
        }
        if !(self.reference_tau_s.is_finite() && self.reference_tau_s > 0.0) {
            return Err(ConfigError::new("contraction.reference_tau_s"));
        }
        if !frac(self.rearm_fraction) {
            return Err(ConfigError::new("contraction.rearm_fraction"));
        }
        Ok(())
    }
}

/// Detector state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// At rest (or releasing after an end).
    Idle,
    /// Above the start threshold, not yet for `min_on_s`.
    Rising,
    /// A contraction is under way (start emitted).
    Active,
    /// Below the end level, not yet for `min_off_s`.
    Falling,
    /// The rise is part of a push and is reported by `bearing_down`.
    Absorbed,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "idle",
            State::Rising => "rising",
            State::Active => "active",
            State::Falling => "falling",
            State::Absorbed => "absorbed",
        })
    }
}

/// What the other detectors tell the contraction detector this sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// Signal quality is bad: do not start, do not end, freeze.
    pub blocked: bool,
    /// An abdominal rise is being judged (push or not): hold a pending start.
    pub defer: bool,
    /// A push is confirmed: a pelvic rise now belongs to the push.
    pub absorb: bool,
}

/// A finished contraction, handed to the release detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ended {
    /// End of the hold (start of the fall), s.
    pub end_s: f64,
    /// Peak level.
    pub peak: f64,
    /// Resting level when the contraction started.
    pub rest: f64,
}

/// Contraction start/end detector (see the module docs).
#[derive(Clone, Debug)]
pub struct ContractionDetector {
    role: Role,
    state: State,
    min_on: u64,
    min_off: u64,
    end_fraction: f64,
    hold_fraction: f64,
    rearm_fraction: f64,
    ref_alpha: f64,
    delay_s: f64,
    mvc: Option<f64>,
    count: u64,
    last_quiet_s: f64,
    rearm_level: f64,
    onset_s: f64,
    rest: f64,
    peak: f64,
    t90_s: f64,
    t90_level: f64,
    reference: f64,
    last_high_s: f64,
}

impl ContractionDetector {
    /// A detector for `role` sampled at `rate_hz`; `delay_s` is the front
    /// end's delay subtracted from retro-dated onsets.
    pub fn new(
        role: Role,
        rate_hz: f64,
        delay_s: f64,
        config: &ContractionConfig,
    ) -> Result<ContractionDetector, ConfigError> {
        config.validate()?;
        Ok(ContractionDetector {
            role,
            state: State::Idle,
            min_on: samples_for(config.min_on_s, rate_hz),
            min_off: samples_for(config.min_off_s, rate_hz),
            end_fraction: config.end_fraction,
            hold_fraction: config.hold_fraction,
            rearm_fraction: config.rearm_fraction,
            ref_alpha: smoothing_alpha(config.reference_tau_s, rate_hz),
            delay_s: delay_s.max(0.0),
            mvc: None,
            count: 0,
            last_quiet_s: 0.0,
            rearm_level: f64::NEG_INFINITY,
            onset_s: 0.0,
            rest: 0.0,
            peak: 0.0,
            t90_s: 0.0,
            t90_level: 0.0,
            reference: 0.0,
            last_high_s: 0.0,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Sets the MVC level used for `peak_pct_mvc`.
    pub fn set_mvc(&mut self, mvc: Option<f64>) {
        self.mvc = mvc;
    }

    /// True while a contraction is started and not ended.
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active | State::Falling)
    }

    /// True unless at rest.
    pub fn is_busy(&self) -> bool {
        self.state != State::Idle || self.rearm_level > f64::NEG_INFINITY
    }

    /// Retro-dated onset of the current (or pending) contraction, s.
    pub fn onset_s(&self) -> Option<f64> {
        (self.state != State::Idle).then_some(self.onset_s)
    }

    /// Forgets everything in flight (after a gap); emits nothing.
    pub fn reset(&mut self, t: f64) {
        self.state = State::Idle;
        self.count = 0;
        self.rearm_level = f64::NEG_INFINITY;
        self.last_quiet_s = t;
    }

    /// One sample at time `t` (s) with feature `level`.
    pub fn tick<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        level: f64,
        band: &Band,
        gate: Gate,
        sink: &mut S,
    ) -> Option<Ended> {
        if gate.blocked {
            match self.state {
                State::Rising => self.state = State::Idle,
                State::Idle => self.last_quiet_s = t,
                State::Active | State::Falling | State::Absorbed => {}
            }
            self.count = 0;
            return None;
        }
        match self.state {
            State::Idle => {
                if level <= band.band_hi {
                    self.rearm_level = f64::NEG_INFINITY;
                }
                if level <= band.quiet {
                    self.last_quiet_s = t;
                }
                if level > band.on.max(self.rearm_level) {
                    self.onset_s = (self.last_quiet_s - self.delay_s).max(0.0);
                    self.rest = band.rest;
                    self.count = 1;
                    self.state = if gate.absorb {
                        State::Absorbed
                    } else {
                        State::Rising
                    };
                    if self.state == State::Rising {
                        self.begin_peak(t, level);
                        return self.try_start(t, level, gate, sink);
                    }
                }
                None
            }
            State::Rising => {
                if gate.absorb {
                    self.state = State::Absorbed;
                    return None;
                }
                if level <= band.on.max(self.rearm_level) {
                    self.state = State::Idle;
                    if level <= band.quiet {
                        self.last_quiet_s = t;
                    }
                    return None;
                }
                self.count += 1;
                self.track_peak(t, level);
                self.try_start(t, level, gate, sink)
            }
            State::Active => {
                self.track_peak(t, level);
                if level < self.end_level(band) {
                    self.state = State::Falling;
                    self.count = 1;
                    return self.try_end(t, sink);
                }
                None
            }
            State::Falling => {
                if level >= self.end_level(band) {
                    self.state = State::Active;
                    self.track_peak(t, level);
                    return None;
                }
                self.reference += self.ref_alpha * (level - self.reference);
                self.count += 1;
                self.try_end(t, sink)
            }
            State::Absorbed => {
                if !gate.absorb && !gate.defer && level <= band.on {
                    self.state = State::Idle;
                    self.rearm_level = f64::NEG_INFINITY;
                    if level <= band.quiet {
                        self.last_quiet_s = t;
                    }
                }
                None
            }
        }
    }

    /// Emits the end of an active contraction at `t` (end of stream).
    pub fn finish<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) -> Option<Ended> {
        if self.is_active() {
            let end_s = self.last_high_s.clamp(self.onset_s, t.max(self.onset_s));
            sink.emit(self.end_event(t, end_s));
            self.state = State::Idle;
            return Some(Ended {
                end_s,
                peak: self.peak,
                rest: self.rest,
            });
        }
        self.state = State::Idle;
        None
    }

    fn end_level(&self, band: &Band) -> f64 {
        (self.rest + self.end_fraction * (self.reference - self.rest)).max(band.band_hi)
    }

    fn begin_peak(&mut self, t: f64, level: f64) {
        self.peak = level;
        self.t90_s = t;
        self.t90_level = level;
        self.reference = level;
        self.last_high_s = t;
    }

    fn track_peak(&mut self, t: f64, level: f64) {
        if level > self.peak {
            self.peak = level;
        }
        let p90 = self.rest + 0.9 * (self.peak - self.rest);
        if self.t90_level < p90 && level >= p90 {
            self.t90_s = t;
            self.t90_level = level;
        }
        if level > self.reference {
            self.reference = level;
        } else {
            self.reference += self.ref_alpha * (level - self.reference);
        }
        if level >= self.rest + self.hold_fraction * (self.reference - self.rest) {
            self.last_high_s = t;
        }
    }

    fn try_start<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        _level: f64,
        gate: Gate,
        sink: &mut S,
    ) -> Option<Ended> {
        if self.count >= self.min_on && !gate.defer {
            self.state = State::Active;
            let e = Event::new(EventKind::Contraction, Some(Phase::Start), self.onset_s)
                .detected_at(t)
                .on_channel(self.role);
            sink.emit(e);
        }
        None
    }

    fn try_end<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) -> Option<Ended> {
        if self.count < self.min_off {
            return None;
        }
        let end_s = self.last_high_s;
        sink.emit(self.end_event(t, end_s));
        self.state = State::Idle;
        self.rearm_level = self.rest + self.rearm_fraction * (self.reference - self.rest);
        Some(Ended {
            end_s,
            peak: self.peak,
            rest: self.rest,
        })
    }

    fn end_event(&self, t: f64, end_s: f64) -> Event {
        let mut e = Event::new(EventKind::Contraction, Some(Phase::End), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.end_s = Some(end_s);
        e.peak = Some(self.peak);
        e.peak_pct_mvc = self.mvc.and_then(|m| pct_mvc(self.peak, self.rest, m));
        e.rise_s = Some((self.t90_s - self.onset_s).max(0.0));
        e.duration_s = Some((end_s - self.onset_s).max(0.0));
        e
    }
}
