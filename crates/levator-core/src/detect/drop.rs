//! Deliberate drop below rest: `relaxation` subtype `drop` (the reverse
//! Kegel, the down-training exercise for an overactive pelvic floor).
//!
//! ```text
//!      mean of the last min_drop_s below the           the fall has lasted
//!      drop level, no push (onset fitted)               min_drop_s since the onset
//!   Idle ──────────────────────────────────▶ Sinking ─────────────────────────▶ Dropped ──┐ window mean >= recover level
//!    ▲  ◀──────── window mean back up ─────────┘            (emits start)          ▲       ▼
//!    │                                                                             └── Recovering
//!    └─────────────────────────── held min_off_s (emits end) ────────────────────────────┘
//! ```
//!
//! * **Decision on the mean of the last second.** The contract (issue 4)
//!   is a fall of at least 25% of rest *for at least 1 s*
//!   ([`DropConfig::min_drop_s`]). The detector judges exactly that
//!   quantity: the mean of the pelvic level over the last `min_drop_s`,
//!   kept as [`WINDOW_BLOCKS`] block means (allocation-free at any rate).
//!   A drop starts at the first block end whose window mean is below the
//!   drop level, once the fall (dated from the signal, below) has lasted
//!   `min_drop_s` (a deep, sudden drop brings the mean down sooner).
//!   Requiring every sample (or a lightly smoothed level) to
//!   stay below the drop level for the whole second instead makes the
//!   decision hinge on the noisiest moment of the second: a 250 Hz EMG
//!   envelope (50 ms windows of about 12 samples) scatters by about 23% of
//!   rest from window to window, so a 30% drop with a 0.2 s-smoothed level
//!   still rose back above a 25% drop level every second or so and was
//!   missed (simulated OpenBCI Cyton: 20 of 75 drops), while the mean of a
//!   second scatters by about 5% of rest there.
//! * **Drop level**: `rest - max(drop_fraction * |rest| + margin_sd * sd,
//!   drop_sd * sd)`, where `rest` is the mean of the resting windows of the
//!   last [`LOCAL_REST_S`] (the rest just before the fall; the baseline's
//!   rest level until the window SD is learnt).
//!   Default 25% of the user's own rest (issue 4), and at least
//!   [`DropConfig::drop_sd`] = 3 resting SDs *of the window mean*, so that
//!   noise alone cannot produce a drop: the mean of a second is one
//!   decision per second, and 3 SDs (one-sided 0.13%) keep a stationary
//!   resting signal to well under one false drop in 10 minutes even where
//!   the SD and not the 25% sets the level. `sd` is learnt from the
//!   window means at rest (time constant [`SD_TAU_S`], trusted after
//!   [`SD_MIN_S`] of rest; until then the baseline's SD of the unwindowed
//!   feature, which is larger, and never more than it).
//! * **Noise margin** ([`DropConfig::margin_sd`], 1 SD of the window mean
//!   on top of the 25%): the sliding mean is tested at every block end,
//!   and the lowest of the 5-10 independent one-second means of a 5-10 s
//!   reverse Kegel reads about 1 SD below the level actually held, so
//!   without the margin the decision followed the noisiest second, not
//!   the level held (simulator, all 7 devices x 3 seeds, margin 0 -> 1,
//!   measured while this detector was written, before the onset-fit and
//!   local-rest refinements:
//!   false drops 64 -> 11, mostly 15-24% dips on the 250 Hz Cyton and
//!   breathing-assisted 21% dips on pressure trainers; misses 4 -> 18,
//!   mostly manometry drops labelled at 25.4-26.4%, i.e. at the
//!   criterion itself).
//! * **Rest reference.** Once a window mean is more than [`LEARN_FALL`]
//!   of the drop fraction (12.5% of rest) below rest, the rest level the
//!   drop is judged against is latched, and after half a window of that
//!   the detector reports itself busy so that the pipeline's baseline
//!   stops learning: the fall of a reverse Kegel lies inside the resting
//!   band for a second or more before it is judged, and a baseline that
//!   followed it down shrank the fall by a few percent of rest per drop,
//!   which added up over a session until the later drops were missed
//!   (simulator, 1-2 kHz EMG). One noisy window is not a drop in the
//!   making (half a window keeps the baseline of every other detector as
//!   it was), and neither is a level that stays that low for more than
//!   [`FIT_WINDOWS`] windows without becoming a drop: that is a changed
//!   resting tone, which the baseline must be free to settle to. After a
//!   drop the latch is re-armed only once a window is back within half
//!   that distance of rest: a tone that stays 13-15% low after a long
//!   drop was latched again at once and held the baseline for another
//!   10 s (real 10 Hz manometry, anomanor `testnolong`: the squeeze that
//!   followed was judged a push).
//! * **Onset from the signal.** The start is decided at the end of the
//!   first second whose mean is low enough, long after the fall began, so
//!   `onset_s` is not the decision time nor a threshold crossing of a
//!   noisy level: a ramp from rest down to the window mean (rest before
//!   it, the window mean after it, a straight line between) is fitted by
//!   least squares to the block means of the last [`FIT_WINDOWS`] windows
//!   (at most [`HISTORY_BLOCKS`], none from before the end of the previous
//!   drop), and the onset is the start of the fitted ramp (where the
//!   signal left rest).
//!   Every block contributes, so one noisy window cannot move it.
//! * **No push**: with an abdominal channel, a drop is only accepted while
//!   no bearing-down is pending or active (a push also lowers pelvic
//!   activity in a coordinated defecation: that is a `bearing_down` with
//!   `pelvic_response: relaxed`, not a reverse Kegel). A stretch of at most
//!   [`INTERRUPT_GRACE_S`] in which the drop is not allowed freezes it
//!   rather than ending it; a longer one ends it and forgets the block
//!   history (a contraction or push is no part of a drop's window).
//! * **End**: the window mean back above
//!   `rest - recover_fraction * (rest - drop level)` for
//!   [`DropConfig::min_off_s`]; `end_s` = the last sample whose level
//!   smoothed with [`DropConfig::smoothing_s`] was still below that level.

use core::fmt;

use crate::event::{Event, EventKind, Phase, RelaxationSubtype};
use crate::features::baseline::Band;
use crate::stream::Role;

use super::{samples_for, ConfigError, EventSink};

/// Reverse-Kegel drop parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DropConfig {
    /// Minimum fall below rest as a fraction of the resting level.
    /// Default 0.25 (issue 4).
    pub drop_fraction: f64,
    /// Minimum fall below rest in resting SDs of the mean over
    /// `min_drop_s`. Default 3 (see the module docs).
    pub drop_sd: f64,
    /// Noise margin added to the fractional fall, in resting SDs of the
    /// window mean. Default 1 (see the module docs).
    pub margin_sd: f64,
    /// How long the fall must last (s): the decision is on the mean level
    /// over this window. Default 1.0 (issue 4).
    pub min_drop_s: f64,
    /// The drop ends when the window mean recovers above
    /// `rest - recover_fraction * (rest - drop level)`. Default 0.5.
    pub recover_fraction: f64,
    /// How long the window mean must stay recovered to end the drop (s).
    /// Default 0.2.
    pub min_off_s: f64,
    /// Time constant of the smoothing of the level that dates `end_s` (the
    /// last smoothed sample below the recover level) (s). Default 0.2 s:
    /// the 50 ms EMG envelope of a quiet muscle fluctuates by 10-20% from
    /// one window to the next.
    pub smoothing_s: f64,
}

impl Default for DropConfig {
    fn default() -> Self {
        DropConfig {
            drop_fraction: 0.25,
            drop_sd: 3.0,
            margin_sd: 1.0,
            min_drop_s: 1.0,
            recover_fraction: 0.5,
            min_off_s: 0.2,
            smoothing_s: 0.2,
        }
    }
}

impl DropConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.drop_fraction.is_finite() && self.drop_fraction > 0.0 && self.drop_fraction < 1.0)
        {
            return Err(ConfigError::new("drop.drop_fraction"));
        }
        if !(self.drop_sd.is_finite() && self.drop_sd >= 0.0) {
            return Err(ConfigError::new("drop.drop_sd"));
        }
        if !(self.margin_sd.is_finite() && self.margin_sd >= 0.0) {
            return Err(ConfigError::new("drop.margin_sd"));
        }
        if !(self.min_drop_s.is_finite() && self.min_drop_s >= 0.0 && self.min_drop_s <= 3600.0) {
            return Err(ConfigError::new("drop.min_drop_s"));
        }
        if !(self.recover_fraction.is_finite()
            && self.recover_fraction > 0.0
            && self.recover_fraction <= 1.0)
        {
            return Err(ConfigError::new("drop.recover_fraction"));
        }
        if !(self.min_off_s.is_finite() && self.min_off_s >= 0.0) {
            return Err(ConfigError::new("drop.min_off_s"));
        }
        if !(self.smoothing_s.is_finite() && self.smoothing_s >= 0.0) {
            return Err(ConfigError::new("drop.smoothing_s"));
        }
        Ok(())
    }
}

/// Detector state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not below rest (for a whole window).
    Idle,
    /// The window mean is below the drop level, but the fall (dated from
    /// the signal) has not yet lasted `min_drop_s`.
    Sinking,
    /// A drop is under way (start emitted).
    Dropped,
    /// The window mean recovered above the recover level, not yet for
    /// `min_off_s`.
    Recovering,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "idle",
            State::Sinking => "sinking",
            State::Dropped => "dropped",
            State::Recovering => "recovering",
        })
    }
}

/// Blocks per decision window ([`DropConfig::min_drop_s`]): the window
/// mean is updated at every block end, i.e. every 50 ms with the default
/// 1 s window (one sample per block below 20 Hz).
pub const WINDOW_BLOCKS: usize = 20;

/// The onset is fitted to the block means of the last `FIT_WINDOWS`
/// decision windows (10 s by default): a shallow drop whose window mean
/// reaches the drop level only late in a 5-10 s reverse Kegel is judged up
/// to about 5 s after it began, and the fit needs rest before the fall as
/// well as the dropped level after it (with 3.2 windows such onsets fell
/// outside the history and were dated 1.5-2 s late).
pub const FIT_WINDOWS: usize = 10;

/// Block means kept (at least `FIT_WINDOWS` windows of [`WINDOW_BLOCKS`]).
pub const HISTORY_BLOCKS: usize = FIT_WINDOWS * WINDOW_BLOCKS;

/// A drop (started) survives a stretch of at most this long (s) in which
/// it is not allowed (a push pending, a contraction or release starting,
/// bad quality): it is frozen, and ended (at the start of the stretch)
/// only when the stretch lasts longer. A push is judged after 0.5 s
/// ([`BearingDownConfig::push_confirm_s`](super::BearingDownConfig::push_confirm_s));
/// a shorter stretch is an ECG beat or a cough lifting the abdominal
/// signal over its threshold for a moment, which ended a reverse Kegel
/// in the middle and started a second one (measured on the simulator's
/// `demo` sessions on 1 kHz EMG).
pub const INTERRUPT_GRACE_S: f64 = 0.5;

/// The resting SD of the window mean is learnt from windows no more than
/// this fraction of the drop fraction below rest (half of 25%: 12.5% of
/// rest); see [`DropDetector`]'s `learn_sd`.
pub const LEARN_FALL: f64 = 0.5;

/// Time constant of the rest level a fall is measured from (s): the mean
/// of the window means at rest (the windows the SD is learnt from), so
/// that a drop is a fall from the rest just before it. The baseline's own
/// rest level follows with 30 s ([`BaselineConfig::tracking_tau_s`](crate::features::baseline::BaselineConfig::tracking_tau_s))
/// and lagged 3-4% of rest behind a slowly wandering resting envelope,
/// which a 30% reverse Kegel then had to make up (simulated 2 kHz EMG).
/// 5 s: the baseline's own window for local resting variability, several
/// breaths long.
pub const LOCAL_REST_S: f64 = 5.0;

/// Time constant of the learnt resting variance of the window mean (s).
pub const SD_TAU_S: f64 = 10.0;
/// Rest the window mean's SD must have been learnt over before it is used
/// (s).
pub const SD_MIN_S: f64 = 5.0;

/// Reverse-Kegel drop detector.
#[derive(Clone, Debug)]
pub struct DropDetector {
    role: Role,
    state: State,
    min_drop_s: f64,
    drop_fraction: f64,
    drop_sd: f64,
    margin_sd: f64,
    recover_fraction: f64,
    min_off: u64,
    count: u64,
    onset_s: f64,
    back_s: f64,
    drop_level: f64,
    rest: f64,
    alpha: f64,
    smooth: f64,
    primed: bool,
    candidate: bool,
    // block means
    block_len: u64,
    window_blocks: usize,
    block_sum: f64,
    block_n: u64,
    block_start_s: f64,
    hist: [f64; HISTORY_BLOCKS],
    hist_t: [f64; HISTORY_BLOCKS],
    hist_head: usize,
    hist_len: usize,
    // resting variance of the window mean
    alpha_var: f64,
    var_win: f64,
    local_rest: f64,
    alpha_local: f64,
    n_var: u64,
    min_var: u64,
    learn_hold: usize,
    latched_rest: Option<f64>,
    latched_for: usize,
    armed: bool,
    since_end: usize,
    grace: u64,
    disallowed: u64,
    disallowed_since_s: f64,
}

impl DropDetector {
    /// A detector for `role` at `rate_hz`.
    pub fn new(role: Role, rate_hz: f64, config: &DropConfig) -> Result<DropDetector, ConfigError> {
        config.validate()?;
        let window = samples_for(config.min_drop_s, rate_hz);
        let block_len = window.div_ceil(WINDOW_BLOCKS as u64).max(1);
        let window_blocks = (window.div_ceil(block_len) as usize).clamp(1, WINDOW_BLOCKS);
        let blocks_per_s = rate_hz / block_len as f64;
        Ok(DropDetector {
            role,
            state: State::Idle,
            min_drop_s: config.min_drop_s,
            drop_fraction: config.drop_fraction,
            drop_sd: config.drop_sd,
            margin_sd: config.margin_sd,
            recover_fraction: config.recover_fraction,
            min_off: samples_for(config.min_off_s, rate_hz),
            count: 0,
            onset_s: 0.0,
            back_s: 0.0,
            drop_level: 0.0,
            rest: 0.0,
            alpha: crate::features::baseline::smoothing_alpha(config.smoothing_s, rate_hz),
            smooth: 0.0,
            primed: false,
            candidate: false,
            block_len,
            window_blocks,
            block_sum: 0.0,
            block_n: 0,
            block_start_s: 0.0,
            hist: [0.0; HISTORY_BLOCKS],
            hist_t: [0.0; HISTORY_BLOCKS],
            hist_head: 0,
            hist_len: 0,
            alpha_var: crate::features::baseline::smoothing_alpha(SD_TAU_S, blocks_per_s),
            var_win: 0.0,
            local_rest: 0.0,
            alpha_local: crate::features::baseline::smoothing_alpha(LOCAL_REST_S, blocks_per_s),
            n_var: 0,
            min_var: samples_for(SD_MIN_S, blocks_per_s),
            learn_hold: 0,
            latched_rest: None,
            latched_for: 0,
            armed: true,
            since_end: 0,
            grace: samples_for(INTERRUPT_GRACE_S, rate_hz),
            disallowed: 0,
            disallowed_since_s: 0.0,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// True while a drop is started and not ended.
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Dropped | State::Recovering)
    }

    /// Retro-dated onset of the drop under way, if any.
    pub fn onset_s(&self) -> Option<f64> {
        self.is_active().then_some(self.onset_s)
    }

    /// True while a drop is under way or in the making (the window mean
    /// below the drop level): the resting baseline must not learn then.
    pub fn is_busy(&self) -> bool {
        self.state != State::Idle || self.candidate
    }

    /// The drop level for a band (see the module docs for the SD used).
    pub fn drop_level(&self, band: &Band) -> f64 {
        self.drop_level_at(self.rest_ref(band), band)
    }

    /// The drop level below a rest level `rest` with the SD of `band`.
    fn drop_level_at(&self, rest: f64, band: &Band) -> f64 {
        let sd = self.sd(band);
        rest - (self.drop_fraction * libm::fabs(rest) + self.margin_sd * sd).max(self.drop_sd * sd)
    }

    /// Resting SD of the window mean: learnt once [`SD_MIN_S`] of rest has
    /// been seen, capped by the band's SD of the unwindowed feature.
    fn sd(&self, band: &Band) -> f64 {
        if self.n_var >= self.min_var {
            libm::sqrt(self.var_win).min(band.sd)
        } else {
            band.sd
        }
    }

    /// Learns the resting variance of the window mean from a window that
    /// is at rest: idle and allowed for a whole window since the last drop
    /// or interruption, no block of it below the drop level, and its mean
    /// inside `[rest - LEARN_FALL * drop_fraction * |rest|, band_hi]`. The
    /// lower bound is a fixed fraction of rest, not a multiple of the SD
    /// learnt: the falling edge of a reverse Kegel is inside the resting
    /// band for a second or more before it is judged, and with an
    /// SD-relative bound learning from it inflated the SD, which lowered
    /// the drop level, which let deeper windows in: every later drop of
    /// the session was missed (simulator, 2 kHz EMG and 250 Hz Cyton).
    fn learn_sd(&mut self, mean: f64, band: &Band) {
        if self.learn_hold > 0 {
            self.learn_hold -= 1;
            return;
        }
        let rest = self.rest_ref(band);
        let d = mean - rest;
        let floor = -LEARN_FALL * self.drop_fraction * libm::fabs(rest);
        if !d.is_finite() || d < floor || mean > band.band_hi {
            return;
        }
        if self.n_var == 0 {
            self.var_win = d * d;
            self.local_rest = mean;
        } else {
            self.var_win += self.alpha_var * (d * d - self.var_win);
            self.local_rest += self.alpha_local * (mean - self.local_rest);
        }
        self.n_var = self.n_var.saturating_add(1);
    }

    /// The rest level a fall is measured from: the mean of the resting
    /// windows of the last [`LOCAL_REST_S`] once the window SD is learnt
    /// (the same windows), the baseline's rest level until then.
    fn rest_ref(&self, band: &Band) -> f64 {
        if self.n_var >= self.min_var {
            self.local_rest
        } else {
            band.rest
        }
    }

    /// Forgets the block history (after a contraction, a push, a gap).
    fn forget(&mut self) {
        self.hist_len = 0;
        self.block_n = 0;
        self.block_sum = 0.0;
        self.candidate = false;
        self.latched_rest = None;
        self.learn_hold = self.window_blocks;
    }

    /// Forgets a pending drop; ends an active one at `t` (a gap, a push).
    pub fn interrupt<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if self.is_active() {
            self.emit_end(t, self.frozen_end(t), sink);
        }
        self.state = State::Idle;
        self.disallowed = 0;
        self.forget();
    }

    /// `end_s` of a drop ended at `t`: the start of a frozen stretch, if
    /// one is under way.
    fn frozen_end(&self, t: f64) -> f64 {
        if self.disallowed > 0 {
            self.disallowed_since_s.min(t)
        } else {
            t
        }
    }

    /// One sample. `allowed`: no push pending/active, no contraction or
    /// release in progress and quality good.
    pub fn tick<S: EventSink + ?Sized>(
        &mut self,
        t: f64,
        level: f64,
        band: &Band,
        allowed: bool,
        sink: &mut S,
    ) {
        if !allowed {
            if self.state != State::Idle && self.disallowed < self.grace {
                // freeze for a moment (see INTERRUPT_GRACE_S)
                if self.disallowed == 0 {
                    self.disallowed_since_s = t;
                }
                self.disallowed += 1;
                return;
            }
            if self.is_active() {
                self.emit_end(t, self.frozen_end(t), sink);
            }
            self.state = State::Idle;
            self.disallowed = 0;
            self.forget();
            return;
        }
        self.disallowed = 0;
        if !level.is_finite() {
            return;
        }
        if self.primed {
            self.smooth += self.alpha * (level - self.smooth);
        } else {
            self.smooth = level;
            self.primed = true;
        }
        if self.is_active() && self.smooth < self.recover_level() {
            self.back_s = t;
        }
        if self.block_n == 0 {
            self.block_start_s = t;
            self.block_sum = 0.0;
        }
        self.block_sum += level;
        self.block_n += 1;
        if self.block_n < self.block_len {
            return;
        }
        let mean = self.block_sum / self.block_n as f64;
        self.block_n = 0;
        self.push_block(mean);
        let Some(window) = self.window_mean() else {
            return;
        };
        // A window more than LEARN_FALL of the drop fraction below rest is
        // not rest for this detector's SD (see learn_sd), and the rest
        // level a drop is judged against is latched there: the pipeline's
        // baseline keeps learning from such a window (it is inside the
        // resting band), and following it down the fall shrank by a few
        // percent of rest before it was judged (simulator: 14 of 80 drops
        // on 1 kHz EMG missed). It is released once a window is back
        // within that distance of the latched rest.
        let near = LEARN_FALL * self.drop_fraction;
        let reference = self.latched_rest.unwrap_or(self.rest_ref(band));
        if window - reference < -near * libm::fabs(reference) {
            self.learn_hold = self.window_blocks;
            // (only once a drop can be judged: before the window's SD is
            // learnt the drop level is out of reach anyway; and only from
            // rest: after a drop the level must first come back near rest,
            // or the tail of a drop, or a resting tone that has settled
            // lower, would hold the baseline again at once)
            if self.state == State::Idle
                && self.latched_rest.is_none()
                && self.armed
                && self.n_var >= self.min_var
            {
                self.latched_rest = Some(reference);
            }
        } else {
            self.latched_rest = None;
            // re-armed once clearly back at rest (half that distance:
            // hysteresis against a lower tone whose noise reaches up)
            if window - reference >= -0.5 * near * libm::fabs(reference) {
                self.armed = true;
            }
        }
        let rest = self.latched_rest.unwrap_or(self.rest_ref(band));
        // such a window is a drop in the making for the pipeline's baseline
        // too (is_busy): learning from it moved the rest level down by a
        // few percent per reverse Kegel, which added up over a session of
        // them until the later ones were missed
        // (once it has lasted half a window: one noisy window is not a
        // reverse Kegel)
        self.latched_for = if self.latched_rest.is_some() {
            self.latched_for.saturating_add(1)
        } else {
            0
        };
        // and for at most FIT_WINDOWS windows: a level that stays that low
        // without becoming a drop is a changed resting tone (or, in
        // manometry, a reflex relaxation of the anal canal), which the
        // baseline must be free to settle to
        self.candidate = matches!(self.state, State::Idle | State::Sinking)
            && 2 * self.latched_for >= self.window_blocks
            && self.latched_for <= FIT_WINDOWS * self.window_blocks;
        match self.state {
            State::Idle => {
                self.learn_sd(window, band);
                let dl = self.drop_level_at(rest, band);
                if window < dl {
                    self.state = State::Sinking;
                    self.rest = rest;
                    self.drop_level = dl;
                    self.onset_s = self.fit_onset(rest, window);
                    self.try_start(t, sink);
                }
            }
            State::Sinking => {
                if window < self.drop_level {
                    self.try_start(t, sink);
                } else {
                    self.state = State::Idle;
                }
            }
            State::Dropped => {
                if window >= self.recover_level() {
                    self.state = State::Recovering;
                    self.count = self.block_len;
                    self.try_end(t, sink);
                }
            }
            State::Recovering => {
                if window < self.recover_level() {
                    self.state = State::Dropped;
                } else {
                    self.count += self.block_len;
                    self.try_end(t, sink);
                }
            }
        }
    }

    /// Ends an active drop at the end of the stream.
    pub fn finish<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if self.is_active() {
            self.emit_end(t, self.frozen_end(t), sink);
        }
        self.state = State::Idle;
        self.disallowed = 0;
    }

    fn push_block(&mut self, mean: f64) {
        self.since_end = self.since_end.saturating_add(1);
        let slot = (self.hist_head + self.hist_len) % HISTORY_BLOCKS;
        self.hist[slot] = mean;
        self.hist_t[slot] = self.block_start_s;
        if self.hist_len < HISTORY_BLOCKS {
            self.hist_len += 1;
        } else {
            self.hist_head = (self.hist_head + 1) % HISTORY_BLOCKS;
        }
    }

    /// The `k`-th block mean of the history, oldest first.
    fn block(&self, k: usize) -> f64 {
        self.hist[(self.hist_head + k) % HISTORY_BLOCKS]
    }

    /// Mean of the last `window_blocks` block means, once there are that
    /// many.
    fn window_mean(&self) -> Option<f64> {
        if self.hist_len < self.window_blocks {
            return None;
        }
        let first = self.hist_len - self.window_blocks;
        let sum: f64 = (first..self.hist_len).map(|k| self.block(k)).sum();
        Some(sum / self.window_blocks as f64)
    }

    /// Start of the ramp from `rest` down to `dropped` that fits the block
    /// history best (least squares over the ramp's start and end blocks;
    /// rest before the start, `dropped` after the end, a straight line
    /// between). O(n^2) in the history length with prefix sums, once per
    /// drop.
    fn fit_onset(&self, rest: f64, dropped: f64) -> f64 {
        // the last FIT_WINDOWS windows, and nothing from before the end of
        // the previous drop (a fit reaching back into it dated the onset
        // to the previous drop's)
        let n = self
            .hist_len
            .min(self.since_end)
            .min(FIT_WINDOWS * self.window_blocks);
        if n == 0 {
            return self.block_start_s;
        }
        let first = self.hist_len - n;
        // prefix sums of x and k * x (k = block number)
        let mut sx = [0.0f64; HISTORY_BLOCKS + 1];
        let mut skx = [0.0f64; HISTORY_BLOCKS + 1];
        for k in 0..n {
            let x = self.block(first + k);
            sx[k + 1] = sx[k] + x;
            skx[k + 1] = skx[k] + k as f64 * x;
        }
        let (m0, m1) = (rest, dropped);
        let d = m1 - m0;
        // maximise 2 sum(x f) - sum(f^2) (the same minimum as the SSE)
        let mut best = f64::NEG_INFINITY;
        let mut best_a = n - 1;
        for a in 0..n {
            let head = 2.0 * m0 * sx[a] - a as f64 * m0 * m0;
            for b in a..=n {
                let l = (b - a) as f64;
                let ramp = if b > a {
                    let x = sx[b] - sx[a];
                    let kx = skx[b] - skx[a];
                    // f_k = m0 + d (k - a + 0.5) / l on a <= k < b
                    let xf = m0 * x + d / l * (kx - (a as f64 - 0.5) * x);
                    let ff = l * m0 * m0 + m0 * d * l + d * d * (l / 3.0 - 1.0 / (12.0 * l));
                    2.0 * xf - ff
                } else {
                    0.0
                };
                let tail = 2.0 * m1 * (sx[n] - sx[b]) - (n - b) as f64 * m1 * m1;
                let score = head + ramp + tail;
                if score > best {
                    best = score;
                    best_a = a;
                }
            }
        }
        self.hist_t[(self.hist_head + first + best_a) % HISTORY_BLOCKS]
    }

    /// Emits the start once the fall, dated from the signal, has lasted
    /// `min_drop_s` (a deep, sudden drop brings the window mean below the
    /// drop level sooner).
    fn try_start<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if t - self.onset_s < self.min_drop_s - 1e-9 {
            return;
        }
        self.state = State::Dropped;
        self.latched_rest = None;
        self.candidate = false;
        // the drop lasts at least until now, even if the smoothed level
        // never dips below the recovery level again (found by
        // tests/detect_hostile_input.rs: a stale `back_s` dated the end
        // before the onset)
        self.back_s = t;
        let mut e = Event::new(EventKind::Relaxation, Some(Phase::Start), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.subtype = Some(RelaxationSubtype::Drop);
        sink.emit(e);
    }

    fn recover_level(&self) -> f64 {
        self.rest - self.recover_fraction * (self.rest - self.drop_level)
    }

    fn try_end<S: EventSink + ?Sized>(&mut self, t: f64, sink: &mut S) {
        if self.count >= self.min_off {
            self.emit_end(t, self.back_s, sink);
            self.state = State::Idle;
        }
    }

    fn emit_end<S: EventSink + ?Sized>(&mut self, t: f64, end_s: f64, sink: &mut S) {
        // the windows still holding the drop are not rest, and the next
        // onset is fitted to what follows
        self.learn_hold = self.window_blocks;
        self.armed = false;
        self.since_end = 0;
        let mut e = Event::new(EventKind::Relaxation, Some(Phase::End), self.onset_s)
            .detected_at(t)
            .on_channel(self.role);
        e.subtype = Some(RelaxationSubtype::Drop);
        let end_s = end_s.max(self.onset_s);
        e.end_s = Some(end_s);
        e.duration_s = Some(end_s - self.onset_s);
        sink.emit(e);
        self.state = State::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::baseline::BandConfig;

    /// splitmix64: the next uniform number in [0, 1) of a deterministic
    /// stream (no allocation, no std).
    fn splitmix_uniform(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Drop starts' onsets (at most 8) on a synthetic EMG envelope at
    /// `rate` Hz resting at 1.7 µV whose 50 ms windows scatter by
    /// `rel_sd` of rest (the resting SD the baseline reports), with falls
    /// of `fall` (fraction of rest) over `drops` (start, end) s.
    fn onsets_of(rate: f64, rel_sd: f64, fall: f64, drops: &[(f64, f64)], seconds: f64) -> Vec8 {
        onsets_above(1.0, rate, rel_sd, fall, drops, seconds)
    }

    /// [`onsets_of`] on a signal resting at `gain` times the rest level
    /// the baseline reports (a baseline lagging behind the resting level).
    fn onsets_above(
        gain: f64,
        rate: f64,
        rel_sd: f64,
        fall: f64,
        drops: &[(f64, f64)],
        seconds: f64,
    ) -> Vec8 {
        let rest = 1.7;
        let sd = rel_sd * rest;
        let mut d = DropDetector::new(Role::PelvicEmg, rate, &DropConfig::default()).unwrap();
        let band = Band::new(rest, sd, &BandConfig::emg());
        let mut found = Vec8::default();
        let mut sink = |e: Event| {
            if e.kind == EventKind::Relaxation && e.phase == Some(Phase::Start) && found.n < 8 {
                found.v[found.n] = e.onset_s;
                found.n += 1;
            }
        };
        // splitmix64 -> uniform noise, constant over each 50 ms window
        let per_window = libm::round(0.05 * rate).max(1.0) as usize;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut noise = 0.0;
        for i in 0..(seconds * rate) as usize {
            if i % per_window == 0 {
                let u = splitmix_uniform(&mut state);
                // uniform on [-a, a] has SD a / sqrt(3)
                noise = (2.0 * u - 1.0) * sd * libm::sqrt(3.0);
            }
            let t = i as f64 / rate;
            let mean = if drops.iter().any(|&(a, b)| (a..b).contains(&t)) {
                (1.0 - fall) * gain * rest
            } else {
                gain * rest
            };
            d.tick(t, mean + noise, &band, true, &mut sink);
        }
        found
    }

    /// Up to eight onsets, without allocating in a `no_std` test.
    #[derive(Default, Debug)]
    struct Vec8 {
        v: [f64; 8],
        n: usize,
    }

    impl Vec8 {
        fn as_slice(&self) -> &[f64] {
            &self.v[..self.n]
        }
    }

    fn drop_onsets(fall: f64, seconds: f64) -> Vec8 {
        onsets_of(1000.0, 0.15, fall, &[(30.0, 35.0)], seconds)
    }

    #[test]
    fn a_30_percent_drop_in_a_noisy_envelope_is_found_and_dated() {
        // 2 SDs of the unsmoothed envelope are 30% of rest: judged against
        // them this drop hovered at the drop level and was missed
        let found = drop_onsets(0.30, 45.0);
        assert_eq!(found.n, 1, "{found:?}");
        assert!((29.5..=30.6).contains(&found.v[0]), "{found:?}");
    }

    #[test]
    fn resting_noise_alone_is_not_a_drop() {
        assert_eq!(drop_onsets(0.0, 300.0).n, 0);
    }

    #[test]
    fn a_15_percent_dip_is_not_a_drop() {
        assert_eq!(drop_onsets(0.15, 45.0).n, 0);
    }

    /// Five 6 s reverse Kegels of 30% on a 250 Hz envelope whose 50 ms
    /// windows scatter by 23% of rest (the simulated OpenBCI Cyton).
    const CYTON_DROPS: [(f64, f64); 5] = [
        (30.0, 36.0),
        (46.0, 52.0),
        (62.0, 68.0),
        (78.0, 84.0),
        (94.0, 100.0),
    ];

    #[test]
    fn every_30_percent_drop_in_a_250_hz_envelope_is_found_and_dated() {
        // judged on a 0.2 s-smoothed level that had to stay below the drop
        // level for a whole second, the noise lifted it back above every
        // second or so and most of these were missed
        let found = onsets_of(250.0, 0.23, 0.30, &CYTON_DROPS, 110.0);
        assert_eq!(found.n, 5, "{found:?}");
        for (onset, (start, _)) in found.as_slice().iter().zip(CYTON_DROPS) {
            assert!((onset - start).abs() <= 0.5, "{found:?}");
        }
    }

    #[test]
    fn a_15_percent_dip_in_a_250_hz_envelope_is_not_a_drop() {
        // the mean of some second of a 6 s, 15% dip reads 20-25% below
        // rest on such noise: the noise margin keeps it from counting
        let found = onsets_of(250.0, 0.23, 0.15, &CYTON_DROPS, 110.0);
        assert_eq!(found.n, 0, "{found:?}");
    }

    #[test]
    fn resting_250_hz_noise_alone_is_not_a_drop() {
        assert_eq!(onsets_of(250.0, 0.23, 0.0, &[], 600.0).n, 0);
    }

    #[test]
    fn a_fall_is_measured_from_the_rest_just_before_it() {
        // the resting envelope sits 8% above the baseline's (lagging) rest
        // level (measured on the simulator's 2 kHz EMG: 4-10%): a 30% fall
        // from it is only 24.4% below the baseline's rest, and was missed
        let found = onsets_above(1.08, 1000.0, 0.15, 0.30, &[(30.0, 36.0)], 45.0);
        assert_eq!(found.n, 1, "{found:?}");
        assert!((found.v[0] - 30.0).abs() <= 0.5, "{found:?}");
        // and a 15% dip from it is still none
        assert_eq!(
            onsets_above(1.08, 1000.0, 0.15, 0.15, &[(30.0, 36.0)], 45.0).n,
            0
        );
    }

    #[test]
    fn a_lower_tone_after_a_drop_does_not_hold_the_baseline() {
        // a 40% drop from 30 to 36 s, after which the level settles 15%
        // below the old rest (a recover level of 20% below rest ends the
        // drop there). Before re-arming, the detector latched that lower
        // tone as a new drop in the making at once and held the pipeline's
        // baseline for 10 s (a real 10 Hz manometry recording, anomanor
        // testnolong: a squeeze after such a stretch was judged a push)
        let rate = 1000.0;
        let rest = 1.7;
        let config = DropConfig {
            recover_fraction: 0.8,
            ..DropConfig::default()
        };
        let mut d = DropDetector::new(Role::PelvicEmg, rate, &config).unwrap();
        let band = Band::new(rest, 0.05 * rest, &BandConfig::emg());
        let mut starts = 0;
        let mut ends = 0;
        let mut busy_after = 0u64;
        let mut sink = |e: Event| match e.phase {
            Some(Phase::Start) => starts += 1,
            _ => ends += 1,
        };
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut noise = 0.0;
        for i in 0..60_000usize {
            if i % 50 == 0 {
                let u = splitmix_uniform(&mut state);
                noise = (2.0 * u - 1.0) * 0.05 * rest * libm::sqrt(3.0);
            }
            let t = i as f64 / rate;
            let mean = if t < 30.0 {
                rest
            } else if t < 36.0 {
                0.6 * rest
            } else {
                0.85 * rest
            };
            d.tick(t, mean + noise, &band, true, &mut sink);
            if t > 40.0 && d.is_busy() {
                busy_after += 1;
            }
        }
        assert_eq!((starts, ends), (1, 1));
        assert_eq!(busy_after, 0);
    }

    #[test]
    fn the_onset_fit_stays_after_the_previous_drop() {
        // 10 Hz (one sample per block): two drops 9 s apart fit inside the
        // history; the second one's onset must not reach back to the first
        let found = onsets_of(10.0, 0.05, 0.40, &[(30.0, 35.0), (44.0, 49.0)], 60.0);
        assert_eq!(found.n, 2, "{found:?}");
        assert!((found.v[0] - 30.0).abs() <= 0.5, "{found:?}");
        assert!((found.v[1] - 44.0).abs() <= 0.5, "{found:?}");
    }
}
