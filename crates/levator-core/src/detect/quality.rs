//! Signal quality per channel: mains interference, saturation/clipping,
//! flat line, large artefacts (gaps are reported by the pipeline from the
//! source). Each issue is an interval: a `signal_quality` start and end
//! with `issue` and `channel`.
//!
//! ```text
//!   per issue:  Good ── condition seen (confirm) ──▶ Bad ── clear for hold_s ──▶ Good
//!                          (emits start)                  (emits end)
//! ```
//!
//! While any issue except `mains` is active on a channel, and for
//! [`QualityConfig::hold_s`] after it clears, the channel is *blocked*:
//! detectors neither start nor end events on it and the baseline does not
//! learn from it. Mains hum is removed by the notch filters, so it is
//! reported but does not block.
//!
//! * **Saturation**: a sample at or beyond the configured rails
//!   ([`QualityConfig::rails`]), or [`QualityConfig::clip_run`] identical
//!   consecutive samples at the largest magnitude seen so far (the
//!   flat top of a clipped waveform). On pressure, motion and respiration
//!   channels the run must also last [`NON_EMG_CLIP_S`]: a slow signal
//!   sampled at 10 Hz repeats the top value of an ordinary plateau for a
//!   few tenths of a second, while a clipped sensor stays clipped for the
//!   whole manoeuvre.
//! * **Flat line**: no change at all between consecutive samples for
//!   [`QualityConfig::flatline_emg_s`] (EMG; an unplugged electrode or a
//!   dead amplifier; live sEMG changes every sample even on a 12-bit ADC)
//!   or [`QualityConfig::flatline_other_s`] (pressure/motion, which can
//!   legitimately repeat at 0.01 resolution for a few seconds at rest).
//! * **Mains**: EMG channels at >= 150 Hz: in consecutive blocks of
//!   [`QualityConfig::mains_block_s`], the 50 Hz or 60 Hz Goertzel
//!   component carries more than [`QualityConfig::mains_fraction`] of the
//!   block's AC power. Raised after 2 such blocks, cleared after 3 blocks
//!   below half that fraction (hysteresis) in which the hum's own power
//!   has also fallen below [`MAINS_FADED`] of its last dominant level (a
//!   muscle burst or ECG beat lowers the hum's *share* of the power
//!   without removing it; before this rule a steady 6 µV hum on a quiet
//!   simulated Cyton channel was reported 31 times per 10 minutes).
//! * **Artefact**: EMG channels: the low-frequency (1-10 Hz) part of the
//!   raw signal, which surface EMG does not have but cable and motion
//!   artefacts do, exceeds [`QualityConfig::artifact_factor`] times the
//!   resting envelope and [`QualityConfig::artifact_floor_uv`]. Other
//!   channels: a sample-to-sample jump larger than
//!   [`QualityConfig::jump_factor`] resting SDs and the activity floor in
//!   one sample period at >= 50 Hz (no muscle moves a balloon that fast).
//!   Non-finite samples are artefacts too.

use core::fmt;

use crate::event::{Event, EventKind, Phase, QualityIssue};
use crate::stream::Role;

use super::{samples_for, ConfigError, EventSink};

/// A raised mains report clears only once the hum's power fell below this
/// fraction (a quarter: half the amplitude) of the last block in which it
/// dominated the signal.
pub const MAINS_FADED: f64 = 0.25;

/// Signal-quality parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct QualityConfig {
    /// Optional ADC rails in canonical units `(low, high)`: a sample at or
    /// beyond them is saturated. Default none (use the clip-run heuristic).
    pub rails: Option<(f64, f64)>,
    /// Identical consecutive samples at the largest magnitude seen that
    /// count as clipping. Default 4 (on non-EMG channels at least
    /// [`NON_EMG_CLIP_S`] of samples).
    pub clip_run: u32,
    /// Flat-line duration for EMG (s). Default 0.25 s.
    pub flatline_emg_s: f64,
    /// Flat-line duration for pressure and motion (s). Default 10 s.
    pub flatline_other_s: f64,
    /// Mains analysis block length (s). Default 0.2 s (10 cycles at 50 Hz).
    pub mains_block_s: f64,
    /// Fraction of a block's AC power at 50/60 Hz that counts as mains
    /// interference. Default 0.3: EMG spreads its power over 20-450 Hz,
    /// so a single line carrying 30% of it is hum, not muscle.
    pub mains_fraction: f64,
    /// Low-frequency artefact threshold in resting-envelope multiples.
    /// Default 10.
    pub artifact_factor: f64,
    /// Absolute floor of the artefact threshold (µV). Default 50 µV.
    pub artifact_floor_uv: f64,
    /// Jump threshold for non-EMG channels in resting SDs. Default 20.
    pub jump_factor: f64,
    /// An issue is cleared after the condition was absent this long (s);
    /// the channel stays blocked meanwhile. Default 0.3 s (covers the
    /// settling of the envelope after the artefact).
    pub hold_s: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            rails: None,
            clip_run: 4,
            flatline_emg_s: 0.25,
            flatline_other_s: 10.0,
            mains_block_s: 0.2,
            mains_fraction: 0.8,
            artifact_factor: 10.0,
            artifact_floor_uv: 50.0,
            jump_factor: 20.0,
            hold_s: 0.3,
        }
    }
}

impl QualityConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if let Some((lo, hi)) = self.rails {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(ConfigError::new("quality.rails"));
            }
        }
        let checks: [(bool, &'static str); 8] = [
            (self.clip_run >= 2, "quality.clip_run"),
            (pos(self.flatline_emg_s), "quality.flatline_emg_s"),
            (pos(self.flatline_other_s), "quality.flatline_other_s"),
            (pos(self.mains_block_s), "quality.mains_block_s"),
            (
                pos(self.mains_fraction) && self.mains_fraction < 1.0,
                "quality.mains_fraction",
            ),
            (
                pos(self.artifact_factor) && pos(self.artifact_floor_uv),
                "quality.artifact_factor",
            ),
            (pos(self.jump_factor), "quality.jump_factor"),
            (
                self.hold_s.is_finite() && self.hold_s >= 0.0,
                "quality.hold_s",
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

/// Shortest clipped run (s) that counts as saturation on a non-EMG
/// channel (pressure, motion, respiration): 1 s. A quantised pressure
/// plateau repeats its top value for a few tenths of a second (10 Hz
/// manometry: 4 identical rows at the top of an ordinary push), a clipped
/// sensor for the whole squeeze or push.
pub const NON_EMG_CLIP_S: f64 = 1.0;

const ISSUES: [QualityIssue; 4] = [
    QualityIssue::Mains,
    QualityIssue::Saturation,
    QualityIssue::Flatline,
    QualityIssue::Artifact,
];

/// State of one issue on one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not present.
    Good,
    /// Present (start emitted).
    Bad,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Good => "good",
            State::Bad => "bad",
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct IssueTrack {
    state: State,
    onset_s: f64,
    clear_count: u64,
    clear_since_s: f64,
}

impl IssueTrack {
    const fn new() -> IssueTrack {
        IssueTrack {
            state: State::Good,
            onset_s: 0.0,
            clear_count: 0,
            clear_since_s: 0.0,
        }
    }
}

/// Quality monitor of one channel.
#[derive(Clone, Debug)]
pub struct QualityMonitor {
    role: Role,
    rails: Option<(f64, f64)>,
    clip_run: u64,
    flat_samples: u64,
    hold: u64,
    block: u64,
    mains_fraction: f64,
    artifact_factor: f64,
    artifact_floor: f64,
    jump_factor: f64,
    tracks: [IssueTrack; 4],
    /// Bit `k` set while `tracks[k]` is bad (one test per sample instead
    /// of four).
    bad: u8,
    /// `role.is_emg()`.
    emg: bool,
    /// EMG at >= 100 Hz: the low-frequency artefact band is judged.
    emg_artifacts: bool,
    /// Not EMG, at >= 50 Hz: sample-to-sample jumps are judged.
    jump_artifacts: bool,
    // raw-signal state
    prev: f64,
    have_prev: bool,
    same_run: u64,
    max_abs: f64,
    // mains Goertzel
    coeffs: [f64; 2],
    s1: [f64; 2],
    s2: [f64; 2],
    sum: f64,
    sum_sq: f64,
    n_block: u64,
    mains_hits: u8,
    mains_clean: u8,
    mains_ref: f64,
    mains_enabled: bool,
    // low-frequency artefact band (1-10 Hz): two one-pole stages
    hp_alpha: f64,
    lp_alpha: f64,
    dc: f64,
    lf: f64,
    block_hold: u64,
}

impl QualityMonitor {
    /// A monitor for channel `role` at `rate_hz`.
    pub fn new(
        role: Role,
        rate_hz: f64,
        config: &QualityConfig,
    ) -> Result<QualityMonitor, ConfigError> {
        config.validate()?;
        let flat_s = if role.is_emg() {
            config.flatline_emg_s
        } else {
            config.flatline_other_s
        };
        let block = samples_for(config.mains_block_s, rate_hz).max(8);
        let coeff = |f: f64| {
            let k = libm::round(f * block as f64 / rate_hz);
            2.0 * libm::cos(2.0 * core::f64::consts::PI * k / block as f64)
        };
        Ok(QualityMonitor {
            role,
            rails: config.rails,
            clip_run: if role.is_emg() {
                config.clip_run as u64
            } else {
                (config.clip_run as u64).max(samples_for(NON_EMG_CLIP_S, rate_hz))
            },
            flat_samples: samples_for(flat_s, rate_hz).max(3),
            hold: samples_for(config.hold_s, rate_hz),
            block,
            mains_fraction: config.mains_fraction,
            artifact_factor: config.artifact_factor,
            artifact_floor: config.artifact_floor_uv,
            jump_factor: config.jump_factor,
            tracks: [IssueTrack::new(); 4],
            bad: 0,
            emg: role.is_emg(),
            emg_artifacts: role.is_emg() && rate_hz >= 100.0,
            jump_artifacts: !role.is_emg() && rate_hz >= 50.0,
            prev: 0.0,
            have_prev: false,
            same_run: 0,
            max_abs: 0.0,
            coeffs: [coeff(50.0), coeff(60.0)],
            s1: [0.0; 2],
            s2: [0.0; 2],
            sum: 0.0,
            sum_sq: 0.0,
            n_block: 0,
            mains_hits: 0,
            mains_clean: 0,
            mains_ref: 0.0,
            mains_enabled: role.is_emg() && rate_hz >= 150.0,
            hp_alpha: 1.0 - libm::exp(-2.0 * core::f64::consts::PI * 1.0 / rate_hz),
            lp_alpha: 1.0 - libm::exp(-2.0 * core::f64::consts::PI * 10.0 / rate_hz),
            dc: 0.0,
            lf: 0.0,
            block_hold: 0,
        })
    }

    /// The channel's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// State of one issue.
    pub fn state(&self, issue: QualityIssue) -> State {
        ISSUES
            .iter()
            .position(|i| *i == issue)
            .map_or(State::Good, |k| self.tracks[k].state)
    }

    /// True while detectors must ignore this channel.
    pub fn is_blocked(&self) -> bool {
        // every issue but mains (bit 0) blocks
        self.block_hold > 0 || self.bad & !1 != 0
    }

    /// Blocks the channel for the hold time (after a gap).
    pub fn hold_off(&mut self) {
        self.block_hold = self.hold.max(1);
        self.have_prev = false;
    }

    /// One raw sample (canonical unit). `rest_env` is the channel's resting
    /// feature level (envelope for EMG), `rest_sd` its SD, `on_floor` the
    /// activity floor. Returns whether the sample is usable.
    pub fn tick<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        raw: f64,
        rest_env: f64,
        rest_sd: f64,
        on_floor: f64,
        sink: &mut S,
    ) -> bool {
        // bit k: issue `ISSUES[k]` seen in this sample
        let mut found = 0u8;
        if !raw.is_finite() {
            found |= 1 << 3;
        } else {
            // saturation and flat line
            let same = self.have_prev && raw == self.prev;
            self.same_run = if same { self.same_run + 1 } else { 0 };
            let mag = libm::fabs(raw);
            let at_rail = self.rails.is_some_and(|(lo, hi)| raw <= lo || raw >= hi);
            let clipped = self.same_run + 1 >= self.clip_run && mag >= self.max_abs && mag > 0.0;
            if mag > self.max_abs {
                self.max_abs = mag;
            }
            let saturated = at_rail || clipped;
            let flat = !saturated && self.same_run + 1 >= self.flat_samples;
            found |= (u8::from(saturated) << 1) | (u8::from(flat) << 2);
            // artefacts
            if self.emg {
                if !self.have_prev {
                    self.dc = raw;
                }
                self.dc += self.hp_alpha * (raw - self.dc);
                self.lf += self.lp_alpha * ((raw - self.dc) - self.lf);
                // thresholds are only compared with, so `larger` (not
                // `f64::max`: no NaN handling, the second operands are
                // finite constants) gives the same decisions
                let thr = larger(
                    self.artifact_factor * larger(rest_env, 0.0),
                    self.artifact_floor,
                );
                found |= u8::from(self.emg_artifacts && libm::fabs(self.lf) > thr) << 3;
                if self.mains_enabled {
                    self.mains_step(raw);
                }
            } else if self.have_prev && self.jump_artifacts {
                let thr = (self.jump_factor * rest_sd).max(on_floor);
                found |= u8::from(libm::fabs(raw - self.prev) > thr) << 3;
            }
            self.prev = raw;
            self.have_prev = true;
        }
        found |= u8::from(self.mains_hits >= 2);
        // A track changes only on a hit or while it is bad: skip the four
        // updates in the common case (nothing found, everything good).
        if found | self.bad != 0 {
            for k in 0..ISSUES.len() {
                self.update_track(k, found & (1 << k) != 0, t, sink);
            }
        }
        if self.block_hold > 0 {
            self.block_hold -= 1;
        }
        !self.is_blocked()
    }

    #[inline]
    fn mains_step(&mut self, x: f64) {
        for k in 0..2 {
            let s0 = x + self.coeffs[k] * self.s1[k] - self.s2[k];
            self.s2[k] = self.s1[k];
            self.s1[k] = s0;
        }
        self.sum += x;
        self.sum_sq += x * x;
        self.n_block += 1;
        if self.n_block < self.block {
            return;
        }
        let n = self.n_block as f64;
        let ac_power = (self.sum_sq - self.sum * self.sum / n) / n;
        let mut line = 0.0f64;
        for k in 0..2 {
            // |X|^2 of the Goertzel bin; a sinusoid of amplitude A gives
            // |X| = A n / 2, i.e. power A^2/2 = 2 |X|^2 / n^2
            let p = self.s1[k] * self.s1[k] + self.s2[k] * self.s2[k]
                - self.coeffs[k] * self.s1[k] * self.s2[k];
            line = line.max(2.0 * p / (n * n));
        }
        // hysteresis: raised above `mains_fraction` (2 blocks), cleared
        // only below half of it (3 blocks), so a hum near the limit does
        // not flap on and off; and cleared only once the hum itself has
        // faded (its power below a quarter, i.e. half the amplitude, of the
        // last block that judged it dominant): muscle activity or an ECG
        // beat swamps the hum's share of the power without removing it
        let active = self.mains_hits >= 2;
        let hum = ac_power > 0.0 && line > self.mains_fraction * ac_power;
        let faded = line < MAINS_FADED * self.mains_ref;
        let clean = ac_power <= 0.0 || (line < 0.5 * self.mains_fraction * ac_power && faded);
        if hum {
            self.mains_hits = self.mains_hits.saturating_add(1).min(2);
            self.mains_clean = 0;
            self.mains_ref = line;
        } else if !active {
            self.mains_hits = 0;
        } else if clean {
            self.mains_clean = self.mains_clean.saturating_add(1);
            if self.mains_clean >= 3 {
                self.mains_hits = 0;
            }
        } else {
            self.mains_clean = 0;
        }
        self.s1 = [0.0; 2];
        self.s2 = [0.0; 2];
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.n_block = 0;
    }

    fn update_track<S: EventSink + ?Sized>(&mut self, k: usize, hit: bool, t: f64, sink: &mut S) {
        let hold = if k == 0 { 1 } else { self.hold.max(1) };
        let role = self.role;
        let tr = &mut self.tracks[k];
        match tr.state {
            State::Good => {
                if hit {
                    tr.state = State::Bad;
                    self.bad |= 1 << k;
                    tr.onset_s = t;
                    tr.clear_count = 0;
                    let mut e = Event::new(EventKind::SignalQuality, Some(Phase::Start), t)
                        .detected_at(t)
                        .on_channel(role);
                    e.issue = Some(ISSUES[k]);
                    sink.emit(e);
                }
            }
            State::Bad => {
                if hit {
                    tr.clear_count = 0;
                } else {
                    if tr.clear_count == 0 {
                        tr.clear_since_s = t;
                    }
                    tr.clear_count += 1;
                    if tr.clear_count >= hold {
                        tr.state = State::Good;
                        self.bad &= !(1 << k);
                        let mut e =
                            Event::new(EventKind::SignalQuality, Some(Phase::End), tr.onset_s)
                                .detected_at(t)
                                .on_channel(role);
                        e.issue = Some(ISSUES[k]);
                        e.end_s = Some(tr.clear_since_s);
                        e.duration_s = Some((tr.clear_since_s - tr.onset_s).max(0.0));
                        sink.emit(e);
                    }
                }
            }
        }
    }

    /// Ends every active issue at the end of the stream.
    pub fn finish<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        let role = self.role;
        self.bad = 0;
        for (k, tr) in self.tracks.iter_mut().enumerate() {
            if tr.state == State::Bad {
                tr.state = State::Good;
                let mut e = Event::new(EventKind::SignalQuality, Some(Phase::End), tr.onset_s)
                    .detected_at(t)
                    .on_channel(role);
                e.issue = Some(ISSUES[k]);
                e.end_s = Some(t);
                e.duration_s = Some((t - tr.onset_s).max(0.0));
                sink.emit(e);
            }
        }
    }
}

/// The larger of `a` and `b`, or `b` if `a` is NaN (`f64::max` without
/// its handling of a NaN `b`: only called with a finite `b`).
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    /// Saturation starts on `role` at `rate_hz` for `run` identical samples
    /// at the top of a ramp (the largest magnitude seen so far).
    fn saturation_starts(role: Role, rate_hz: f64, run: usize) -> usize {
        let mut q = QualityMonitor::new(role, rate_hz, &QualityConfig::default()).unwrap();
        let mut events = std::vec::Vec::new();
        let rising = (0..20).map(|k| 10.0 + k as f64); // up to 29
        let plateau = core::iter::repeat(30.05).take(run); // its top, repeated
        let falling = (0..20).map(|k| 29.0 - k as f64);
        for (n, x) in rising.chain(plateau).chain(falling).enumerate() {
            q.tick(n as f64 / rate_hz, x, 0.0, 0.1, 1.0, &mut |e: Event| {
                events.push(e)
            });
        }
        events
            .iter()
            .filter(|e| e.issue == Some(QualityIssue::Saturation) && e.phase == Some(Phase::Start))
            .count()
    }

    /// A steady 60 Hz hum on a quiet 250 Hz channel with bursts of muscle
    /// activity (which swamp the hum's share of the power but not the hum)
    /// is one mains interval, not a start/end per burst; it ends once the
    /// hum itself goes away.
    #[test]
    fn mains_stays_raised_through_muscle_bursts_and_ends_when_the_hum_stops() {
        let rate = 250.0;
        let mut q =
            QualityMonitor::new(Role::AbdominalEmg, rate, &QualityConfig::default()).unwrap();
        let mut events = std::vec::Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut noise = move || {
            // xorshift64*, uniform in [-1, 1): variance 1/3
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            let u = (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
            2.0 * u - 1.0
        };
        let n = (70.0 * rate) as u64;
        for i in 0..n {
            let t = i as f64 / rate;
            let hum = if t < 60.0 {
                6.0 * libm::sin(2.0 * core::f64::consts::PI * 60.0 * t)
            } else {
                0.0
            };
            // 2 s bursts every 5 s from 10 s to 55 s
            let burst = (10.0..55.0).contains(&t) && (t % 5.0) < 2.0;
            let emg = if burst { 35.0 } else { 1.7 } * noise();
            q.tick(t, hum + emg, 1.0, 0.2, 1.0, &mut |e: Event| events.push(e));
        }
        let mains: std::vec::Vec<&Event> = events
            .iter()
            .filter(|e| e.issue == Some(QualityIssue::Mains))
            .collect();
        let starts = mains
            .iter()
            .filter(|e| e.phase == Some(Phase::Start))
            .count();
        let ends: std::vec::Vec<f64> = mains
            .iter()
            .filter(|e| e.phase == Some(Phase::End))
            .filter_map(|e| e.end_s)
            .collect();
        assert_eq!(starts, 1, "{mains:#?}");
        assert_eq!(ends.len(), 1, "{mains:#?}");
        assert!((60.0..61.5).contains(&ends[0]), "ended at {}", ends[0]);
    }

    /// A 10 Hz pressure plateau that repeats its top value for 0.4-0.9 s
    /// is not clipping; a sensor stuck at its top for >= 1 s is. EMG keeps
    /// the 4-sample rule.
    #[test]
    fn non_emg_clip_run_must_last_one_second() {
        for run in [4, 6, 9] {
            assert_eq!(
                saturation_starts(Role::AbdominalPressure, 10.0, run),
                0,
                "{run}"
            );
        }
        assert_eq!(saturation_starts(Role::AbdominalPressure, 10.0, 10), 1);
        assert_eq!(saturation_starts(Role::PelvicPressure, 50.0, 49), 0);
        assert_eq!(saturation_starts(Role::PelvicPressure, 50.0, 50), 1);
        assert_eq!(saturation_starts(Role::PelvicEmg, 1000.0, 3), 0);
        assert_eq!(saturation_starts(Role::PelvicEmg, 1000.0, 4), 1);
    }
}
