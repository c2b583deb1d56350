//! Resting baseline, resting band and %MVC scale, per channel.
//!
//! Every detector threshold in levator is relative to the user's *own*
//! resting level and its variability, because absolute amplitudes differ
//! several-fold between devices (DESIGN.md: one device reads about 5x lower
//! than another for the same muscle) and between users (hypertonic users
//! rest high). Absolute floors keep a near-silent channel from triggering on
//! noise.
//!
//! A [`Baseline`] runs in two states (see [`BaselineState`]):
//!
//! 1. **Calibrating** for the first [`BaselineConfig::calibration_s`]
//!    seconds (default 5 s, and at least [`MIN_CALIBRATION_SAMPLES`]
//!    samples): a straight line is fitted to the feature
//!    values (streaming least squares, Welford-style). The rest level is
//!    the line at the end of the window, the variability the scatter
//!    around it, so a sensor or a muscle still settling during the
//!    calibration (a drift) does not count as resting variability. The
//!    user is assumed to rest, as every clinical protocol starts with a
//!    rest period (Glazer: 60 s).
//! 2. **Tracking**: the resting level follows the signal slowly (time
//!    constant [`BaselineConfig::tracking_tau_s`], default 30 s), but only
//!    for samples the caller judges to be at rest
//!    ([`Baseline::update`]'s `at_rest`); the variability is measured
//!    around a 5 s local mean, so drift is not mistaken for variability;
//!    the smaller of a slow and a 4x faster estimate is used, so a
//!    calibration spoilt by an early contraction recovers within seconds. During a contraction, a hold or a
//!    push nothing moves, so a 60 s endurance hold cannot drag the rest
//!    level up. While the signal sits *below* the resting band for a long
//!    time (the user's tone settled lower than during calibration) the
//!    level follows downwards with the slower
//!    [`BaselineConfig::settle_tau_s`] (default 120 s), so a drift cannot
//!    become an endless "reverse Kegel".
//!
//! [`BandConfig`] turns the baseline into thresholds ([`Band`]):
//! `on = rest + max(on_sd * sd, on_rel * |rest|, on_floor)` and
//! `band_hi = rest + max(band_sd * sd, band_rel * |rest|, band_floor)`.
//!
//! ```
//! use levator_core::features::baseline::{Baseline, BaselineConfig, BandConfig};
//! let mut b = Baseline::new(BaselineConfig::default(), 10.0).unwrap();
//! for i in 0..50 {
//!     // 5 s of rest at 10 Hz around 20 cmH2O
//!     b.update(20.0 + if i % 2 == 0 { 0.5 } else { -0.5 }, true);
//! }
//! assert!(b.is_calibrated());
//! let band = b.band(&BandConfig::pressure());
//! assert!((band.rest - 20.0).abs() < 0.05);
//! assert!((band.on - band.rest - 4.0).abs() < 1e-9); // the 4 cmH2O floor
//! ```

use core::fmt;

/// The calibration spans at least this many samples, whatever
/// [`BaselineConfig::calibration_s`] says: the resting SD of `n` samples is
/// uncertain by about `1 / sqrt(2 (n - 1))`, i.e. 24% with the 10 rows a
/// 1.85 Hz manometry export gives in 5 s and 16% with 20 (10.8 s there).
/// Every threshold is a multiple of that SD, so a noisy estimate makes
/// false starts or misses. Streams at 4 Hz and faster are not affected.
pub const MIN_CALIBRATION_SAMPLES: u64 = 20;

/// How the resting baseline is calibrated and tracked.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BaselineConfig {
    /// Length of the initial resting calibration (s). Default 5 s: long
    /// enough for several breaths (respiration modulates pressure at
    /// 0.2-0.3 Hz), short enough to fit inside the 60 s rest that opens
    /// the Glazer protocol. Never fewer than [`MIN_CALIBRATION_SAMPLES`]
    /// samples (10.8 s of a 1.85 Hz manometry export).
    pub calibration_s: f64,
    /// Time constant of the slow tracking of the resting level while at
    /// rest (s). Default 30 s: follows electrode settling and sensor
    /// drift over minutes, but a rest level cannot jump with one breath.
    pub tracking_tau_s: f64,
    /// Time constant (s) with which the resting level follows a signal that
    /// stays below the resting band. Default 120 s: a 10 s reverse Kegel
    /// moves the baseline by < 8% of its depth, while a tone that has
    /// settled lower is followed within a few minutes.
    pub settle_tau_s: f64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            calibration_s: 5.0,
            tracking_tau_s: 30.0,
            settle_tau_s: 120.0,
        }
    }
}

impl BaselineConfig {
    /// Sets [`BaselineConfig::calibration_s`].
    pub fn with_calibration_s(mut self, s: f64) -> Self {
        self.calibration_s = s;
        self
    }
}

/// Why a baseline could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineError {
    /// Sample rate not a positive finite number.
    Rate,
    /// `calibration_s` not positive and finite.
    CalibrationTime,
    /// A time constant not positive and finite.
    TimeConstant,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselineError::Rate => f.write_str("sample rate must be a positive finite number"),
            BaselineError::CalibrationTime => {
                f.write_str("baseline calibration_s must be positive and finite")
            }
            BaselineError::TimeConstant => {
                f.write_str("baseline time constants must be positive and finite")
            }
        }
    }
}

impl core::error::Error for BaselineError {}

/// Time constant of the local mean the resting variability is measured
/// around while tracking (s): long against breathing (0.2-0.3 Hz) and
/// envelope noise, short against electrode and sensor drift.
const LOCAL_MEAN_TAU_S: f64 = 5.0;

/// State of a [`Baseline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineState {
    /// Accumulating the initial resting statistics.
    Calibrating,
    /// Calibrated; the rest level follows slowly while at rest.
    Tracking,
}

impl fmt::Display for BaselineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BaselineState::Calibrating => "calibrating",
            BaselineState::Tracking => "tracking",
        })
    }
}

/// Resting level and variability of one feature stream (an EMG envelope in
/// µV, a smoothed pressure in cmH2O, ...).
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    state: BaselineState,
    calibration_samples: u64,
    n: u64,
    mean: f64,
    m2: f64,
    mean_t: f64,
    m2_t: f64,
    c_tx: f64,
    local: f64,
    alpha_local: f64,
    var_fast: f64,
    alpha_var_fast: f64,
    rest: f64,
    var: f64,
    alpha_track: f64,
    alpha_settle: f64,
}

impl Baseline {
    /// A baseline for a feature sampled at `rate_hz`.
    pub fn new(config: BaselineConfig, rate_hz: f64) -> Result<Baseline, BaselineError> {
        if !(rate_hz.is_finite() && rate_hz > 0.0) {
            return Err(BaselineError::Rate);
        }
        if !(config.calibration_s.is_finite() && config.calibration_s > 0.0) {
            return Err(BaselineError::CalibrationTime);
        }
        let taus = [config.tracking_tau_s, config.settle_tau_s];
        if taus.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
            return Err(BaselineError::TimeConstant);
        }
        let calibration_samples =
            (libm::ceil(config.calibration_s * rate_hz) as u64).max(MIN_CALIBRATION_SAMPLES);
        Ok(Baseline {
            state: BaselineState::Calibrating,
            calibration_samples,
            n: 0,
            mean: 0.0,
            m2: 0.0,
            mean_t: 0.0,
            m2_t: 0.0,
            c_tx: 0.0,
            local: 0.0,
            alpha_local: smoothing_alpha(LOCAL_MEAN_TAU_S, rate_hz),
            var_fast: 0.0,
            alpha_var_fast: smoothing_alpha(config.tracking_tau_s / 4.0, rate_hz),
            rest: 0.0,
            var: 0.0,
            alpha_track: smoothing_alpha(config.tracking_tau_s, rate_hz),
            alpha_settle: smoothing_alpha(config.settle_tau_s, rate_hz),
        })
    }

    /// The current state.
    pub fn state(&self) -> BaselineState {
        self.state
    }

    /// True once the initial calibration is complete.
    pub fn is_calibrated(&self) -> bool {
        self.state == BaselineState::Tracking
    }

    /// Feeds one feature value. `at_rest`: the caller judges the muscle to
    /// be at rest (no detector active); ignored while calibrating. Non-finite
    /// values are ignored.
    pub fn update(&mut self, level: f64, at_rest: bool) {
        if !level.is_finite() {
            return;
        }
        match self.state {
            BaselineState::Calibrating => {
                // bivariate Welford over (sample number, level): mean,
                // variance and the linear drift of the calibration window
                let t = self.n as f64;
                self.n += 1;
                let n = self.n as f64;
                let dt = t - self.mean_t;
                let dx = level - self.mean;
                self.mean_t += dt / n;
                self.mean += dx / n;
                self.m2 += dx * (level - self.mean);
                self.m2_t += dt * (t - self.mean_t);
                self.c_tx += dt * (level - self.mean);
                if self.n >= self.calibration_samples {
                    // rest = the drift line at the end of the window;
                    // variability = scatter around it (a sensor settling
                    // during calibration is drift, not rest variability)
                    let (slope, resid) = if self.n > 2 && self.m2_t > 0.0 {
                        let slope = self.c_tx / self.m2_t;
                        let resid = (self.m2 - self.c_tx * slope).max(0.0) / (n - 2.0);
                        (slope, resid)
                    } else if self.n > 1 {
                        (0.0, self.m2 / (n - 1.0))
                    } else {
                        (0.0, 0.0)
                    };
                    self.rest = self.mean + slope * (t - self.mean_t);
                    self.local = self.rest;
                    self.var = resid;
                    self.var_fast = resid;
                    self.state = BaselineState::Tracking;
                }
            }
            BaselineState::Tracking => {
                if at_rest {
                    let d = level - self.rest;
                    self.rest += self.alpha_track * d;
                    // variability around a local (5 s) mean, so that a slow
                    // drift the rest level lags behind is not counted as
                    // resting variability
                    self.local += self.alpha_local * (level - self.local);
                    let v = level - self.local;
                    self.var += self.alpha_track * (v * v - self.var);
                    self.var_fast += self.alpha_var_fast * (v * v - self.var_fast);
                }
            }
        }
    }

    /// Lets the resting level settle downwards towards `level` (called by
    /// the detectors while the signal sits below the resting band without
    /// an event that explains it).
    pub fn settle_down(&mut self, level: f64) {
        if self.state == BaselineState::Tracking && level.is_finite() && level < self.rest {
            self.rest += self.alpha_settle * (level - self.rest);
        }
    }

    /// Resting level (the calibration mean until calibrated).
    pub fn rest(&self) -> f64 {
        match self.state {
            BaselineState::Calibrating => self.mean,
            BaselineState::Tracking => self.rest,
        }
    }

    /// Resting standard deviation.
    pub fn sd(&self) -> f64 {
        match self.state {
            BaselineState::Calibrating if self.n > 1 => libm::sqrt(self.m2 / (self.n - 1) as f64),
            BaselineState::Calibrating => 0.0,
            // the smaller of a slow and a 4x faster estimate: a calibration
            // spoilt by an early contraction recovers within seconds, while
            // a transient rise of variability is not trusted quickly
            BaselineState::Tracking => libm::sqrt(self.var.min(self.var_fast).max(0.0)),
        }
    }

    /// Thresholds from the current rest level and variability.
    pub fn band(&self, config: &BandConfig) -> Band {
        Band::new(self.rest(), self.sd(), config)
    }
}

/// `1 - exp(-1 / (tau * rate))`: the per-sample gain of a one-pole
/// smoother with time constant `tau_s`.
pub fn smoothing_alpha(tau_s: f64, rate_hz: f64) -> f64 {
    if tau_s <= 0.0 || !tau_s.is_finite() {
        return 1.0;
    }
    1.0 - libm::exp(-1.0 / (tau_s * rate_hz))
}

/// How thresholds are derived from a channel's baseline. All amounts are
/// *above the rest level*, in the feature's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BandConfig {
    /// Activity threshold in resting standard deviations.
    pub on_sd: f64,
    /// Activity threshold as a fraction of the resting level.
    pub on_rel: f64,
    /// Absolute floor of the activity threshold (feature unit).
    pub on_floor: f64,
    /// Upper edge of the resting band in resting standard deviations.
    pub band_sd: f64,
    /// Upper edge of the resting band as a fraction of the resting level.
    pub band_rel: f64,
    /// Absolute floor of the resting band's half-width (feature unit).
    pub band_floor: f64,
    /// Retro-dating level in standard deviations: an onset is dated to the
    /// last sample at or below `rest + onset_sd * sd` (or the band floor).
    pub onset_sd: f64,
}

impl BandConfig {
    /// Defaults for surface-EMG envelopes (µV).
    ///
    /// * `on_sd` 6, `on_rel` 0.5: a voluntary pelvic contraction raises
    ///   the envelope several-fold over rest (healthy Glazer means 6.3 µV
    ///   at rest vs 37-50 µV in holds and flicks), while a 50 ms RMS of
    ///   resting noise varies by about 10%; 6 SD keeps resting noise below
    ///   one false crossing per 10 minutes (measured in
    ///   `tests/detect_rest.rs`).
    /// * `on_floor` 1 µV: below the noise of any sEMG amplifier front end.
    /// * band 3 SD / 25% / 0.5 µV: the resting band a release must re-enter.
    /// * `onset_sd` 0.5: onset = last sample within half an SD of rest (a
    ///   recruitment ramp starts smoothly; measured on the simulator's
    ///   Kegels, 0.5 SD dates onsets 2-3 ms closer than 1 SD at no cost in
    ///   false starts).
    pub const fn emg() -> BandConfig {
        BandConfig {
            on_sd: 6.0,
            on_rel: 0.5,
            on_floor: 1.0,
            band_sd: 3.0,
            band_rel: 0.25,
            band_floor: 0.5,
            onset_sd: 0.5,
        }
    }

    /// Defaults for pressure (cmH2O).
    ///
    /// * `on_floor` 4 cmH2O: a vaginal squeeze adds 5-40 cmH2O (DESIGN.md);
    ///   a weak anal squeeze in manometry adds about 7 mmHg (9.5 cmH2O) on
    ///   the real recordings in issue 7; breathing moves resting pressure
    ///   by 1-2 cmH2O.
    /// * `on_sd` 5: with respiration in the resting SD, 5 SD clears a deep
    ///   breath.
    /// * `on_rel` 0: absolute pressure offsets mean nothing physiologically.
    /// * band 3 SD / 2 cmH2O floor.
    pub const fn pressure() -> BandConfig {
        BandConfig {
            on_sd: 5.0,
            on_rel: 0.0,
            on_floor: 4.0,
            band_sd: 3.0,
            band_rel: 0.0,
            band_floor: 2.0,
            onset_sd: 1.0,
        }
    }

    /// Defaults for abdominal (rectal) pressure, the push signal (cmH2O).
    ///
    /// * `on_floor` 10 cmH2O (7.4 mmHg): a bearing-down effort raises
    ///   intra-abdominal pressure by tens of cmH2O (simulated defecation:
    ///   rectal rise >= 40 mmHg is an adequate push, and even the weak
    ///   pushes of a dyssynergic patient in the issue-7 recordings add
    ///   10-30 mmHg), while breathing, talking and shifting posture move it
    ///   by 2-8 cmH2O on the same recordings.
    /// * `on_sd` 5, band 3 SD / 3 cmH2O floor.
    pub const fn abdominal_pressure() -> BandConfig {
        BandConfig {
            on_sd: 5.0,
            on_rel: 0.0,
            on_floor: 10.0,
            band_sd: 3.0,
            band_rel: 0.0,
            band_floor: 3.0,
            onset_sd: 1.0,
        }
    }

    /// Defaults for probe motion along the lift axis (g): a strain pushes
    /// the probe outward by 0.1-0.2 g and a squeeze lifts it by about
    /// 0.1 g, while breathing moves it by < 0.01 g and letting the floor
    /// go in a reverse Kegel lowers it by 0.01-0.02 g: `on_floor` 0.04 g
    /// separates a push from a relaxation.
    pub const fn motion() -> BandConfig {
        BandConfig {
            on_sd: 5.0,
            on_rel: 0.0,
            on_floor: 0.04,
            band_sd: 3.0,
            band_rel: 0.0,
            band_floor: 0.01,
            onset_sd: 1.0,
        }
    }

    /// Checks that every field is finite and non-negative.
    pub fn is_valid(&self) -> bool {
        [
            self.on_sd,
            self.on_rel,
            self.on_floor,
            self.band_sd,
            self.band_rel,
            self.band_floor,
            self.onset_sd,
        ]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0)
            && self.on_floor > 0.0
            && self.band_floor > 0.0
    }
}

/// Thresholds of one channel at one moment (feature unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Resting level.
    pub rest: f64,
    /// Resting standard deviation.
    pub sd: f64,
    /// Activity threshold (above rest).
    pub on: f64,
    /// Upper edge of the resting band.
    pub band_hi: f64,
    /// Lower edge of the resting band (`rest - (band_hi - rest)`).
    pub band_lo: f64,
    /// Retro-dating level: onsets are dated to the last sample at or below it.
    pub quiet: f64,
}

impl Band {
    /// Thresholds from a rest level and SD.
    pub fn new(rest: f64, sd: f64, c: &BandConfig) -> Band {
        let mag = libm::fabs(rest);
        let on = rest + (c.on_sd * sd).max(c.on_rel * mag).max(c.on_floor);
        let half = (c.band_sd * sd).max(c.band_rel * mag).max(c.band_floor);
        let band_hi = (rest + half).min(on);
        let quiet = (rest + (c.onset_sd * sd).max(0.1 * c.band_floor)).min(band_hi);
        Band {
            rest,
            sd,
            on,
            band_hi,
            band_lo: rest - half,
            quiet,
        }
    }
}

/// Maximum voluntary contraction calibration: the highest feature value
/// seen while running, after smoothing over [`MvcCalibration::new`]'s
/// window so that a single noisy sample cannot set the maximum.
#[derive(Clone, Copy, Debug)]
pub struct MvcCalibration {
    alpha: f64,
    smooth: f64,
    started: bool,
    max: f64,
}

impl MvcCalibration {
    /// Calibration for a feature at `rate_hz`, smoothed with a one-pole
    /// filter of time constant `smoothing_s` (0.5 s is the usual MVC
    /// averaging window in sEMG normalisation).
    pub fn new(rate_hz: f64, smoothing_s: f64) -> MvcCalibration {
        MvcCalibration {
            alpha: smoothing_alpha(smoothing_s, rate_hz.max(f64::MIN_POSITIVE)),
            smooth: 0.0,
            started: false,
            max: f64::NEG_INFINITY,
        }
    }

    /// Feeds one feature value (non-finite values are ignored).
    pub fn update(&mut self, level: f64) {
        if !level.is_finite() {
            return;
        }
        if self.started {
            self.smooth += self.alpha * (level - self.smooth);
        } else {
            self.smooth = level;
            self.started = true;
        }
        if self.smooth > self.max {
            self.max = self.smooth;
        }
    }

    /// The calibrated maximum, once any value was seen.
    pub fn value(&self) -> Option<f64> {
        self.started.then_some(self.max)
    }
}

/// A peak as % of MVC: `(peak - rest) / (mvc - rest) * 100`, i.e. the
/// excursion above the user's own rest relative to the maximal excursion.
/// `None` when the MVC is not above rest.
///
/// ```
/// use levator_core::features::baseline::pct_mvc;
/// assert_eq!(pct_mvc(30.0, 5.0, 55.0), Some(50.0));
/// assert_eq!(pct_mvc(30.0, 5.0, 4.0), None);
/// ```
pub fn pct_mvc(peak: f64, rest: f64, mvc: f64) -> Option<f64> {
    let span = mvc - rest;
    (span > 0.0 && span.is_finite() && peak.is_finite()).then(|| (peak - rest) / span * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrates_then_tracks_only_at_rest() {
        let mut b = Baseline::new(BaselineConfig::default(), 100.0).unwrap();
        for i in 0..500 {
            b.update(5.0 + (i % 3) as f64 * 0.1, true);
        }
        assert!(b.is_calibrated());
        let rest = b.rest();
        assert!((rest - 5.1).abs() < 0.01);
        // a 60 s hold at 40 flagged as not at rest must not move the baseline
        for _ in 0..6000 {
            b.update(40.0, false);
        }
        assert_eq!(b.rest(), rest);
        // at rest it follows slowly: after 30 s (one tau) ~63% of the way
        for _ in 0..3000 {
            b.update(7.1, true);
        }
        assert!(
            (b.rest() - (5.1 + 2.0 * 0.632)).abs() < 0.02,
            "{}",
            b.rest()
        );
    }

    #[test]
    fn low_rates_calibrate_on_at_least_twenty_samples() {
        // 5 s at 1.85 Hz would be 10 rows: too few for a resting SD
        let mut b = Baseline::new(BaselineConfig::default(), 1.85).unwrap();
        for i in 0..MIN_CALIBRATION_SAMPLES {
            assert!(!b.is_calibrated(), "calibrated after {i} samples");
            b.update(20.0 + if i % 2 == 0 { 0.5 } else { -0.5 }, true);
        }
        assert!(b.is_calibrated());
        // 5 s at 10 Hz: 50 samples, the configured time decides
        let mut b = Baseline::new(BaselineConfig::default(), 10.0).unwrap();
        for _ in 0..49 {
            b.update(20.0, true);
        }
        assert!(!b.is_calibrated());
        b.update(20.0, true);
        assert!(b.is_calibrated());
    }

    #[test]
    fn rejects_bad_config() {
        assert_eq!(
            Baseline::new(BaselineConfig::default(), 0.0).unwrap_err(),
            BaselineError::Rate
        );
        let c = BaselineConfig::default().with_calibration_s(-1.0);
        assert_eq!(
            Baseline::new(c, 10.0).unwrap_err(),
            BaselineError::CalibrationTime
        );
    }

    #[test]
    fn band_uses_floors() {
        let b = Band::new(5.0, 0.0, &BandConfig::emg());
        assert!((b.on - 7.5).abs() < 1e-12); // 50% of rest beats the 1 µV floor
        assert!((b.band_hi - 6.25).abs() < 1e-12);
        let p = Band::new(20.0, 0.1, &BandConfig::pressure());
        assert!((p.on - 24.0).abs() < 1e-12);
        assert!((p.band_hi - 22.0).abs() < 1e-12);
    }

    #[test]
    fn mvc_is_smoothed_max() {
        let mut m = MvcCalibration::new(100.0, 0.5);
        for i in 0..1000 {
            let x = if i == 10 { 1000.0 } else { 50.0 };
            m.update(x);
        }
        let v = m.value().unwrap();
        assert!((50.0..80.0).contains(&v), "{v}");
    }
}
