//! Release after a contraction (`relaxation` subtype `release`) and
//! `poor_release`.
//!
//! ```text
//!          contraction ended                 level <= band_hi
//!   Idle ────────────────────▶ Watching ─────────────────────▶ Settling ── min_in_band ──▶ Idle
//!    ▲                          │  ▲  ◀──── above band again ────┘              (emits release)
//!    │                          │  └ deadline passed: emits poor_release once
//!    └── new contraction / gap ─┘
//! ```
//!
//! * `latency_s` of the release = first sample back at rest (level <=
//!   [`Band::band_hi`], or within [`ReleaseConfig::release_fraction`] of
//!   the contraction's rise) minus the end of the hold (contraction
//!   `end_s`); the release is confirmed after the level stayed there for
//!   [`ReleaseConfig::min_in_band_s`].
//! * `poor_release` fires when the level is not back at rest by
//!   `end_s + release_timeout_s`: `detected_s` is that deadline (also when
//!   it is noticed later, by a sample or by [`ReleaseDetector::poll`]),
//!   `elapsed_s` the timeout, `residual_pct` = (level - rest) / (peak - rest)
//!   x 100 with the last level before the deadline.
//!
//! **Default timeout 2.0 s.** The clinical reference is Glazer's recovery
//! cut-off: healthy women return to rest within 0.2 s of the end of a
//! contraction; longer recovery is associated with pelvic pain
//! (hypertonic dysfunction). 0.2 s cannot be the alarm threshold of a live
//! trainer: envelope smoothing alone takes 50-100 ms and a deliberate,
//! calm let-go takes up to about a second. 2.0 s is ten times the
//! clinical cut-off and flags only releases that clearly stall (slow
//! exponential decays with time constants of about a second or more,
//! partial plateaus); the measured `latency_s` of every release is
//! reported so the clinical 0.2 s comparison can be made offline (the
//! Glazer assessment does).

use core::fmt;

use crate::event::{Event, EventKind, RelaxationSubtype};
use crate::features::baseline::Band;
use crate::stream::Role;

use super::contraction::Ended;
use super::{samples_for, ConfigError, EventSink};

/// Release / poor-release parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ReleaseConfig {
    /// Time after the end of the hold by which the level must be back in
    /// the resting band (s). Default 2.0 s (see the module docs).
    pub release_timeout_s: f64,
    /// How long the level must stay inside the band to confirm a release
    /// (s; at least one sample). Default 0.1 s: two envelope windows.
    pub min_in_band_s: f64,
    /// A release is complete when the level is inside the resting band or
    /// has let go of all but this fraction of the contraction's rise above
    /// rest. Default 0.1: 90% let go, the usual "return to baseline"
    /// criterion of recovery times (a strong squeeze's envelope keeps a
    /// few percent for a while as motor units derecruit, which is not a
    /// failure to relax). `poor_release` uses the same level.
    pub release_fraction: f64,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            release_timeout_s: 2.0,
            min_in_band_s: 0.1,
            release_fraction: 0.1,
        }
    }
}

impl ReleaseConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.release_timeout_s.is_finite() && self.release_timeout_s > 0.0) {
            return Err(ConfigError::new("release.release_timeout_s"));
        }
        if !(self.min_in_band_s.is_finite() && self.min_in_band_s >= 0.0) {
            return Err(ConfigError::new("release.min_in_band_s"));
        }
        if !(self.release_fraction.is_finite()
            && self.release_fraction >= 0.0
            && self.release_fraction < 1.0)
        {
            return Err(ConfigError::new("release.release_fraction"));
        }
        Ok(())
    }
}

/// Detector state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No contraction to watch.
    Idle,
    /// A contraction ended; waiting for the level to re-enter the band.
    Watching,
    /// Back in the band, waiting for `min_in_band_s`.
    Settling,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "idle",
            State::Watching => "watching",
            State::Settling => "settling",
        })
    }
}

/// Release and poor-release detector.
#[derive(Clone, Debug)]
pub struct ReleaseDetector {
    role: Role,
    state: State,
    timeout_s: f64,
    min_in_band: u64,
    count: u64,
    end_s: f64,
    peak: f64,
    rest: f64,
    deadline_s: f64,
    poor_emitted: bool,
    back_s: f64,
    last_level: f64,
    release_fraction: f64,
}

impl ReleaseDetector {
    /// A detector for `role` at `rate_hz`.
    pub fn new(
        role: Role,
        rate_hz: f64,
        config: &ReleaseConfig,
    ) -> Result<ReleaseDetector, ConfigError> {
        config.validate()?;
        Ok(ReleaseDetector {
            role,
            state: State::Idle,
            timeout_s: config.release_timeout_s,
            min_in_band: samples_for(config.min_in_band_s, rate_hz),
            count: 0,
            end_s: 0.0,
            peak: 0.0,
            rest: 0.0,
            deadline_s: 0.0,
            poor_emitted: false,
            back_s: 0.0,
            last_level: 0.0,
            release_fraction: config.release_fraction,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// True while a release is being watched.
    pub fn is_busy(&self) -> bool {
        self.state != State::Idle
    }

    /// Starts watching after a contraction ended.
    pub fn begin(&mut self, ended: Ended, level: f64) {
        self.state = State::Watching;
        self.end_s = ended.end_s;
        self.peak = ended.peak;
        self.rest = ended.rest;
        self.deadline_s = ended.end_s + self.timeout_s;
        self.poor_emitted = false;
        self.count = 0;
        self.last_level = level;
    }

    /// Stops watching without an event (a new contraction began, a gap).
    pub fn cancel(&mut self) {
        self.state = State::Idle;
    }

    /// When [`ReleaseDetector::poll`] has a timeout to fire, s.
    pub fn poll_at(&self) -> Option<f64> {
        (self.state == State::Watching && !self.poor_emitted).then_some(self.deadline_s)
    }

    /// Fires the poor-release timeout if `now_s` has passed it.
    pub fn poll<S: EventSink + ?Sized>(&mut self, now_s: f64, sink: &mut S) {
        if self.state == State::Watching && !self.poor_emitted && now_s >= self.deadline_s {
            self.emit_poor(sink);
        }
    }

    /// One sample. `blocked`: quality is bad, the level is not trusted (the
    /// timeout still runs on the last trusted level).
    pub fn tick<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        level: f64,
        band: &Band,
        blocked: bool,
        sink: &mut S,
    ) {
        if self.state == State::Idle {
            return;
        }
        // the timeout is judged on what was known before this sample
        if t >= self.deadline_s && self.state == State::Watching && !self.poor_emitted {
            self.emit_poor(sink);
        }
        if blocked {
            return;
        }
        self.last_level = level;
        let inside = level <= self.release_level(band);
        match self.state {
            State::Idle => {}
            State::Watching => {
                if inside {
                    self.state = State::Settling;
                    self.back_s = t;
                    self.count = 1;
                    self.try_confirm(t, sink);
                }
            }
            State::Settling => {
                if inside {
                    self.count += 1;
                    self.try_confirm(t, sink);
                } else {
                    self.state = State::Watching;
                    if t >= self.deadline_s && !self.poor_emitted {
                        self.emit_poor(sink);
                    }
                }
            }
        }
    }

    /// Back "at rest": inside the resting band, or within
    /// `release_fraction` of the contraction's rise above rest.
    fn release_level(&self, band: &Band) -> f64 {
        band.band_hi
            .max(self.rest + self.release_fraction * (self.peak - self.rest))
    }

    fn try_confirm<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if self.count < self.min_in_band {
            return;
        }
        let mut e = Event::new(EventKind::Relaxation, None, self.end_s)
            .detected_at(t)
            .on_channel(self.role);
        e.phase = Some(crate::event::Phase::Start);
        e.subtype = Some(RelaxationSubtype::Release);
        e.latency_s = Some((self.back_s - self.end_s).max(0.0));
        sink.emit(e);
        self.state = State::Idle;
    }

    fn emit_poor<S: EventSink + ?Sized>(&mut self, sink: &mut S) {
        let span = self.peak - self.rest;
        let residual = if span > 0.0 {
            (self.last_level - self.rest) / span * 100.0
        } else {
            0.0
        };
        let mut e = Event::new(EventKind::PoorRelease, None, self.end_s)
            .detected_at(self.deadline_s)
            .on_channel(self.role);
        e.residual_pct = Some(residual);
        e.elapsed_s = Some(self.timeout_s);
        sink.emit(e);
        self.poor_emitted = true;
    }
}
