//! The per-channel conditioning chain: high-pass → band-pass → low-pass →
//! mains notches → envelope, built once from a validated [`ChainConfig`].

use core::fmt;

use super::butterworth::{butter, Band, DesignError};
use super::comb::{iircomb, CombCoefficients, CombLine, NotchKind};
use super::guard::InputGuard;
use super::notch::{design_bank, Mains, NotchError, MAX_NOTCHES};
use biquad::Coefficients;

use super::sos::{row_to_coefficients, Cascade, Sos, IDENTITY, MAX_SECTIONS};
use super::wavefront::{Wavefront, MAX_WAVEFRONT};
use crate::features::envelope::{
    window_samples, EnvelopeError, MovingRms, RectifiedLowPass, TeagerKaiser,
};
use crate::stream::Role;

/// Sections one chain can hold: three Butterworth stages plus the notches.
pub const MAX_CHAIN_SECTIONS: usize = 3 * MAX_SECTIONS + MAX_NOTCHES;

/// Blocks shorter than this run sample by sample in
/// [`Chain::process`] (the wavefront's fill and drain would cost more
/// than it saves).
const MIN_BLOCK: usize = 16;

/// [`Chain::process_in_place`] takes blocks in pieces of this many samples
/// (a copy of the input lives on the stack for the non-finite fallback).
const IN_PLACE_BLOCK: usize = 256;

/// Longest moving-RMS window (samples) a [`Chain`] supports when the crate
/// is built without `alloc`: the window then lives inline in the chain.
/// With `alloc` the window is allocated once at construction and may be up
/// to [`MAX_RMS_WINDOW`](crate::features::envelope::MAX_RMS_WINDOW).
pub const NO_ALLOC_RMS_CAPACITY: usize = 1024;

#[cfg(feature = "alloc")]
type RmsStorage = alloc::vec::Vec<f64>;
#[cfg(not(feature = "alloc"))]
type RmsStorage = [f64; NO_ALLOC_RMS_CAPACITY];

/// The last stage of a chain: which amplitude envelope (if any) `tick`
/// returns.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum EnvelopeConfig {
    /// No envelope: `tick` returns the filtered signal.
    None,
    /// Moving RMS over `window_ms` (see
    /// [`MovingRms`]).
    MovingRms {
        /// Window length, ms (rounded to whole samples).
        window_ms: f64,
    },
    /// Full-wave rectification and a Butterworth low-pass.
    RectifiedLowPass {
        /// Low-pass -3 dB frequency, Hz.
        cutoff_hz: f64,
        /// Low-pass order, 1..=8.
        order: u8,
    },
    /// Teager-Kaiser energy operator (output one sample late, units²).
    TeagerKaiser,
}

/// Configuration of one channel's conditioning [`Chain`].
///
/// Stages run in the order of the fields; each `Option` stage is skipped
/// when `None`. Filter orders are scipy's `N` (a band-pass of order `N` has
/// `2N` poles, `N` sections). Start from a preset and adjust fields:
///
/// ```
/// use levator_core::conditioning::{ChainConfig, Mains};
/// let mut config = ChainConfig::emg(2000.0);
/// config.mains = Some(Mains::Hz60);
/// config.notch_q = 20.0;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ChainConfig {
    /// Sample rate of the channel, Hz (> 0).
    pub rate_hz: f64,
    /// High-pass -3 dB frequency, Hz (removes offset and drift), or `None`.
    pub highpass_hz: Option<f64>,
    /// High-pass order, 1..=8.
    pub highpass_order: u8,
    /// Band-pass edges `(low, high)`, Hz, or `None`.
    pub band_hz: Option<(f64, f64)>,
    /// Band-pass order `N`, 1..=8 (`2N` poles).
    pub band_order: u8,
    /// Low-pass -3 dB frequency, Hz, or `None`.
    pub lowpass_hz: Option<f64>,
    /// Low-pass order, 1..=8.
    pub lowpass_order: u8,
    /// Mains frequency to notch (with harmonics), or `None` for no notches.
    pub mains: Option<Mains>,
    /// Notch quality factor: -3 dB width of each notch is `f/notch_q`.
    pub notch_q: f64,
    /// Highest harmonic frequency to notch, Hz; `None` = all below Nyquist.
    /// Applies to the [`NotchKind::Cascade`] only.
    pub notch_max_hz: Option<f64>,
    /// How the notches are built: one biquad per harmonic
    /// ([`NotchKind::Cascade`], the default) or one comb filter for all of
    /// them ([`NotchKind::Comb`], when the rate is a multiple of the mains
    /// frequency; the cascade otherwise). See [`comb`](super::comb) for how
    /// the two differ.
    pub notch_kind: NotchKind,
    /// Final envelope stage.
    pub envelope: EnvelopeConfig,
}

impl ChainConfig {
    /// No filtering and no envelope at `rate_hz`: `tick(x) == x` (apart
    /// from the input guard).
    pub const fn passthrough(rate_hz: f64) -> ChainConfig {
        ChainConfig {
            rate_hz,
            highpass_hz: None,
            highpass_order: 2,
            band_hz: None,
            band_order: 4,
            lowpass_hz: None,
            lowpass_order: 2,
            mains: None,
            notch_q: 30.0,
            notch_max_hz: None,
            notch_kind: NotchKind::Cascade,
            envelope: EnvelopeConfig::None,
        }
    }

    /// Surface-EMG preset, adapted to `rate_hz`:
    ///
    /// - high-pass 10 Hz, order 2 (offset, motion drift), when 10 Hz is
    ///   below 0.45·rate;
    /// - band-pass 20 Hz .. min(450 Hz, 0.45·rate), order 4 (the standard
    ///   sEMG band, e.g. 20-450 Hz at 1 kHz, 20-112.5 Hz at 250 Hz), when
    ///   the upper edge is above 30 Hz;
    /// - 50 Hz mains notches, Q 30, every harmonic below Nyquist (set
    ///   `mains = Some(Mains::Hz60)` in 60 Hz countries); above 4 kHz the
    ///   notches stop at the band's upper edge to stay within
    ///   [`MAX_NOTCHES`]; built as a cascade of biquads
    ///   ([`NotchKind::Cascade`]; see [`comb`](super::comb) for why the
    ///   cheaper comb is not the default);
    /// - 50 ms moving RMS envelope (at least one sample).
    ///
    /// Below ~67 Hz sampling no EMG band fits; the preset then keeps only
    /// the RMS envelope.
    pub fn emg(rate_hz: f64) -> ChainConfig {
        let mut c = ChainConfig::passthrough(rate_hz);
        let upper = (0.45 * rate_hz).min(450.0);
        if 10.0 < upper {
            c.highpass_hz = Some(10.0);
        }
        if upper > 30.0 {
            c.band_hz = Some((20.0, upper));
        }
        c.mains = Some(Mains::Hz50);
        if rate_hz > 4000.0 {
            c.notch_max_hz = Some(upper);
        }
        // 50 ms, but never shorter than one sample (very low rates).
        c.envelope = EnvelopeConfig::MovingRms {
            window_ms: 50.0f64.max(1000.0 / rate_hz),
        };
        c
    }

    /// Pressure preset (vaginal/anal probe, manometry), adapted to
    /// `rate_hz`: no high-pass (the resting pressure is signal), no notch;
    /// a 2nd-order low-pass at min(5 Hz, rate/4) against sensor noise when
    /// the rate is at least 20 Hz; below that (e.g. 10 Hz high-resolution
    /// manometry, already smoothed by the system) no filtering at all.
    pub fn pressure(rate_hz: f64) -> ChainConfig {
        let mut c = ChainConfig::passthrough(rate_hz);
        if rate_hz >= 20.0 {
            c.lowpass_hz = Some((rate_hz / 4.0).min(5.0));
        }
        c
    }

    /// The preset for a channel role: [`emg`](Self::emg) for EMG roles,
    /// [`pressure`](Self::pressure) for pressure, probe motion and
    /// respiration (all slow signals whose level matters).
    pub fn for_role(role: Role, rate_hz: f64) -> ChainConfig {
        if role.is_emg() {
            ChainConfig::emg(rate_hz)
        } else {
            ChainConfig::pressure(rate_hz)
        }
    }
}

impl Default for ChainConfig {
    /// [`ChainConfig::emg`] at 1000 Hz. Set `rate_hz` to your stream's
    /// rate, or better start from a preset with the right rate.
    fn default() -> ChainConfig {
        ChainConfig::emg(1000.0)
    }
}

/// Why [`Chain::new`] refused a configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChainError {
    /// `rate_hz` not finite or not > 0.
    InvalidRate {
        /// The rate given, Hz.
        rate_hz: f64,
    },
    /// The high-pass stage is invalid.
    HighPass(DesignError),
    /// The band-pass stage is invalid.
    BandPass(DesignError),
    /// The low-pass stage is invalid.
    LowPass(DesignError),
    /// The notch bank is invalid.
    Notch(NotchError),
    /// The envelope stage is invalid.
    Envelope(EnvelopeError),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::InvalidRate { rate_hz } => {
                write!(
                    f,
                    "sample rate {rate_hz} Hz is not a positive finite number"
                )
            }
            ChainError::HighPass(e) => write!(f, "high-pass: {e}"),
            ChainError::BandPass(e) => write!(f, "band-pass: {e}"),
            ChainError::LowPass(e) => write!(f, "low-pass: {e}"),
            ChainError::Notch(e) => write!(f, "mains notch: {e}"),
            ChainError::Envelope(e) => write!(f, "envelope: {e}"),
        }
    }
}

impl core::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ChainError::InvalidRate { .. } => None,
            ChainError::HighPass(e) | ChainError::BandPass(e) | ChainError::LowPass(e) => Some(e),
            ChainError::Notch(e) => Some(e),
            ChainError::Envelope(e) => Some(e),
        }
    }
}

// Inline on purpose: the chain needs no heap (boxing would need `alloc`).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum EnvelopeStage {
    None,
    MovingRms(MovingRms<RmsStorage>),
    RectifiedLowPass(RectifiedLowPass),
    TeagerKaiser(TeagerKaiser),
}

impl EnvelopeStage {
    /// Validate and build the envelope stage of `config`.
    pub(crate) fn new(config: &ChainConfig) -> Result<EnvelopeStage, ChainError> {
        let rate_hz = config.rate_hz;
        Ok(match config.envelope {
            EnvelopeConfig::None => EnvelopeStage::None,
            EnvelopeConfig::MovingRms { window_ms } => {
                let n = window_samples(window_ms, rate_hz).map_err(ChainError::Envelope)?;
                EnvelopeStage::MovingRms(rms_with_len(n).map_err(ChainError::Envelope)?)
            }
            EnvelopeConfig::RectifiedLowPass { cutoff_hz, order } => {
                EnvelopeStage::RectifiedLowPass(
                    RectifiedLowPass::new(cutoff_hz, order, rate_hz)
                        .map_err(ChainError::Envelope)?,
                )
            }
            EnvelopeConfig::TeagerKaiser => EnvelopeStage::TeagerKaiser(TeagerKaiser::new()),
        })
    }

    #[inline(always)]
    pub(crate) fn tick(&mut self, y: f64) -> f64 {
        match self {
            EnvelopeStage::None => y,
            EnvelopeStage::MovingRms(r) => r.tick(y),
            EnvelopeStage::RectifiedLowPass(r) => r.tick(y),
            EnvelopeStage::TeagerKaiser(t) => t.tick(y),
        }
    }

    pub(crate) fn reset(&mut self) {
        match self {
            EnvelopeStage::None => {}
            EnvelopeStage::MovingRms(r) => r.reset(),
            EnvelopeStage::RectifiedLowPass(r) => r.reset(),
            EnvelopeStage::TeagerKaiser(t) => t.reset(),
        }
    }
}

/// The validated filter sections of a config, in run order.
pub(crate) struct Design {
    coefficients: [Coefficients<f64>; MAX_CHAIN_SECTIONS],
    len: usize,
    pub(crate) n_notches: usize,
    /// The comb notch that runs after the sections, if any.
    pub(crate) comb: Option<CombCoefficients>,
}

impl Design {
    pub(crate) fn coefficients(&self) -> &[Coefficients<f64>] {
        &self.coefficients[..self.len.min(MAX_CHAIN_SECTIONS)]
    }

    fn push(&mut self, c: Coefficients<f64>) {
        if let Some(slot) = self.coefficients.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    fn push_sos(&mut self, sos: &Sos) {
        for c in sos.coefficients() {
            self.push(c);
        }
    }
}

/// Validate `config`'s filters and design them (high-pass, band-pass,
/// low-pass, notches). Capacity is 3 × MAX_SECTIONS + MAX_NOTCHES, so
/// every valid design fits.
pub(crate) fn design(config: &ChainConfig) -> Result<Design, ChainError> {
    let rate_hz = config.rate_hz;
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        return Err(ChainError::InvalidRate { rate_hz });
    }
    let mut d = Design {
        coefficients: [IDENTITY; MAX_CHAIN_SECTIONS],
        len: 0,
        n_notches: 0,
        comb: None,
    };
    if let Some(hz) = config.highpass_hz {
        let sos = butter(
            config.highpass_order,
            Band::HighPass { cutoff_hz: hz },
            rate_hz,
        )
        .map_err(ChainError::HighPass)?;
        d.push_sos(&sos);
    }
    if let Some((low_hz, high_hz)) = config.band_hz {
        let sos = butter(
            config.band_order,
            Band::BandPass { low_hz, high_hz },
            rate_hz,
        )
        .map_err(ChainError::BandPass)?;
        d.push_sos(&sos);
    }
    if let Some(hz) = config.lowpass_hz {
        let sos = butter(
            config.lowpass_order,
            Band::LowPass { cutoff_hz: hz },
            rate_hz,
        )
        .map_err(ChainError::LowPass)?;
        d.push_sos(&sos);
    }
    if let Some(mains) = config.mains {
        if config.notch_kind == NotchKind::Comb {
            match iircomb(mains.hz(), config.notch_q, rate_hz) {
                Ok(comb) => {
                    // harmonics strictly between DC and Nyquist
                    d.n_notches = (comb.delay - 1) / 2;
                    d.comb = Some(comb);
                    return Ok(d);
                }
                // no comb at this rate (not a multiple of the mains
                // frequency, too long, or no harmonic below Nyquist):
                // the cascade, as documented
                Err(NotchError::NotAComb { .. } | NotchError::InvalidFrequency { .. }) => {}
                Err(e) => return Err(ChainError::Notch(e)),
            }
        }
        d.n_notches = design_bank(
            mains,
            config.notch_q,
            rate_hz,
            config.notch_max_hz,
            |_, row| {
                d.push(row_to_coefficients(&row));
            },
        )
        .map_err(ChainError::Notch)?;
    }
    Ok(d)
}

/// One channel's conditioning: all filters of a [`ChainConfig`] packed
/// into one cascade of biquads, then the envelope.
///
/// - `tick(x)` returns the envelope (or the filtered signal when the
///   envelope is `None`); [`filtered`](Self::filtered) gives the filtered
///   signal of the last sample either way.
/// - `process` is `tick` over a block; any chunking of a stream gives
///   bit-identical output to feeding it whole.
/// - NaN / ±∞ / `|x| > INPUT_LIMIT` inputs are replaced by the last good
///   input and counted ([`rejected_inputs`](Self::rejected_inputs)); see
///   the [guard policy](super::guard).
/// - Never allocates after construction, never panics, never reads a clock.
///
/// ```
/// use levator_core::conditioning::{Chain, ChainConfig};
/// let mut emg = Chain::new(&ChainConfig::emg(1000.0))?;
/// let envelope = emg.tick(12.5);
/// assert!(envelope.is_finite());
/// let mut out = [0.0; 3];
/// emg.process(&[1.0, f64::NAN, 2.0], &mut out);
/// assert_eq!(emg.rejected_inputs(), 1);
/// # Ok::<(), levator_core::conditioning::ChainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Chain {
    config: ChainConfig,
    cascade: Cascade<MAX_CHAIN_SECTIONS>,
    /// The cascade's coefficients as lanes, for blocks (`None` when the
    /// cascade is too short or too long for a wavefront).
    wavefront: Option<Wavefront>,
    comb: Option<CombLine<f64>>,
    n_notches: usize,
    envelope: EnvelopeStage,
    guard: InputGuard,
    filtered: f64,
    state_resets: u64,
}

impl Chain {
    /// Validate `config` and build the chain (the only allocation, with
    /// `alloc`, is the moving-RMS window).
    pub fn new(config: &ChainConfig) -> Result<Chain, ChainError> {
        let design = design(config)?;
        let mut cascade = Cascade::<MAX_CHAIN_SECTIONS>::new();
        for c in design.coefficients() {
            cascade.push(*c);
        }
        Ok(Chain {
            config: *config,
            cascade,
            wavefront: Wavefront::new(design.coefficients()),
            comb: design.comb.as_ref().map(CombLine::new),
            n_notches: design.n_notches,
            envelope: EnvelopeStage::new(config)?,
            guard: InputGuard::new(),
            filtered: 0.0,
            state_resets: 0,
        })
    }

    /// Condition one sample; returns the envelope (or the filtered sample
    /// when the envelope is `None`).
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        let mut y = self.cascade.run(x);
        if let Some(comb) = self.comb.as_mut() {
            y = comb.run(y);
        }
        if !y.is_finite() {
            // Unreachable for stable filters and guarded input; a safety
            // net so that state can never stay poisoned.
            self.cascade.reset();
            if let Some(comb) = self.comb.as_mut() {
                comb.reset();
            }
            self.state_resets = self.state_resets.saturating_add(1);
            y = 0.0;
        }
        self.filtered = y;
        self.envelope.tick(y)
    }

    /// Condition a block: `output[i] = tick(input[i])` for the first
    /// `min(input.len(), output.len())` samples; returns that count.
    /// Samples beyond it are not consumed.
    ///
    /// Bit-identical to `tick` per sample (so any chunking of a stream
    /// gives the same output), and faster on blocks of a few dozen samples
    /// or more: the biquad cascade of a block runs as a wavefront, every
    /// section on its own SIMD lane working on a different sample (see
    /// `conditioning/wavefront.rs`).
    pub fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        self.process_with_filtered(input, &mut [], output)
    }

    /// [`process`](Self::process) that also writes each sample's filtered
    /// (pre-envelope) value, what [`filtered`](Self::filtered) returns
    /// after its `tick`, to `filtered[i]` (when `filtered` is that long;
    /// pass `&mut []` for none). Conditions and returns
    /// `min(input.len(), output.len())` samples.
    ///
    /// ```
    /// use levator_core::conditioning::{Chain, ChainConfig};
    /// let mut emg = Chain::new(&ChainConfig::emg(1000.0))?;
    /// let input: Vec<f64> = (0..64).map(|i| (i as f64 * 0.3).sin() * 40.0).collect();
    /// let (mut filtered, mut envelope) = ([0.0; 64], [0.0; 64]);
    /// assert_eq!(emg.process_with_filtered(&input, &mut filtered, &mut envelope), 64);
    /// assert_eq!(filtered[63], emg.filtered());
    /// # Ok::<(), levator_core::conditioning::ChainError>(())
    /// ```
    pub fn process_with_filtered(
        &mut self,
        input: &[f64],
        filtered: &mut [f64],
        output: &mut [f64],
    ) -> usize {
        let n = input.len().min(output.len());
        let (input, output) = (&input[..n], &mut output[..n]);
        if n < MIN_BLOCK || self.wavefront.is_none() {
            for (i, (o, &x)) in output.iter_mut().zip(input).enumerate() {
                *o = self.tick(x);
                if let Some(f) = filtered.get_mut(i) {
                    *f = self.filtered;
                }
            }
        } else {
            self.process_wavefront(input, filtered, output);
        }
        n
    }

    /// Condition a block in place (see [`process`](Self::process)).
    pub fn process_in_place(&mut self, data: &mut [f64]) {
        let mut input = [0.0f64; IN_PLACE_BLOCK];
        for chunk in data.chunks_mut(IN_PLACE_BLOCK) {
            let input = &mut input[..chunk.len()];
            input.copy_from_slice(chunk);
            self.process(input, chunk);
        }
    }

    /// A block through the input guard, the wavefront, the comb, then the
    /// envelope. Should a filter output be non-finite (the safety net of
    /// `tick`, unreachable for stable designs), the block is rerun sample
    /// by sample from the state it started with, so that the reset happens
    /// at the same sample as with `tick`.
    fn process_wavefront(&mut self, input: &[f64], filtered: &mut [f64], output: &mut [f64]) {
        let guard = self.guard;
        let mut saved = [(0.0f64, 0.0f64); MAX_WAVEFRONT];
        for (s, stage) in saved.iter_mut().zip(self.cascade.stages_mut().iter()) {
            *s = (stage.s1, stage.s2);
        }
        let comb = self.comb;
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.guard.admit(x);
        }
        let mut finite = match self.wavefront.as_ref() {
            Some(w) => w.run(self.cascade.stages_mut(), output),
            None => false,
        };
        if finite {
            if let Some(comb) = self.comb.as_mut() {
                for v in output.iter_mut() {
                    *v = comb.run(*v);
                }
            }
            finite = output.iter().all(|v| v.is_finite());
        }
        if !finite {
            self.guard = guard;
            for (s, stage) in saved.iter().zip(self.cascade.stages_mut().iter_mut()) {
                (stage.s1, stage.s2) = *s;
            }
            self.comb = comb;
            for (i, (o, &x)) in output.iter_mut().zip(input).enumerate() {
                *o = self.tick(x);
                if let Some(f) = filtered.get_mut(i) {
                    *f = self.filtered;
                }
            }
            return;
        }
        if let Some(last) = output.last() {
            self.filtered = *last;
        }
        for (f, &y) in filtered.iter_mut().zip(output.iter()) {
            *f = y;
        }
        for v in output.iter_mut() {
            *v = self.envelope.tick(*v);
        }
    }

    /// The filtered (pre-envelope) value of the last sample ticked.
    pub fn filtered(&self) -> f64 {
        self.filtered
    }

    /// Inputs replaced by the input guard (NaN, ±∞, `|x| > INPUT_LIMIT`)
    /// since construction or the last [`reset`](Self::reset).
    pub fn rejected_inputs(&self) -> u64 {
        self.guard.rejected()
    }

    /// Times the filter state was reset because it became non-finite
    /// (expected to stay 0; non-zero means a numerically unstable design).
    pub fn state_resets(&self) -> u64 {
        self.state_resets
    }

    /// Back to the just-constructed state (filters, envelope, counters).
    pub fn reset(&mut self) {
        self.cascade.reset();
        if let Some(comb) = self.comb.as_mut() {
            comb.reset();
        }
        self.guard.reset();
        self.filtered = 0.0;
        self.state_resets = 0;
        self.envelope.reset();
    }

    /// The configuration this chain was built from.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Number of biquad sections run per sample (filters, and the notches
    /// of a [`NotchKind::Cascade`]).
    pub fn sections(&self) -> usize {
        self.cascade.len()
    }

    /// Number of mains harmonics notched between DC and Nyquist (by
    /// either kind of notch).
    pub fn notches(&self) -> usize {
        self.n_notches
    }

    /// The notch kind in use: [`NotchKind::Comb`] only when a comb was
    /// asked for and exists at this rate (see [`ChainConfig::notch_kind`]).
    pub fn notch_kind(&self) -> NotchKind {
        if self.comb.is_some() {
            NotchKind::Comb
        } else {
            NotchKind::Cascade
        }
    }
}

#[cfg(feature = "alloc")]
fn rms_with_len(n: usize) -> Result<MovingRms<RmsStorage>, EnvelopeError> {
    MovingRms::with_storage(alloc::vec![0.0; n], n)
}

#[cfg(not(feature = "alloc"))]
fn rms_with_len(n: usize) -> Result<MovingRms<RmsStorage>, EnvelopeError> {
    if n > NO_ALLOC_RMS_CAPACITY {
        return Err(EnvelopeError::WindowTooLong {
            samples: n,
            max: NO_ALLOC_RMS_CAPACITY,
        });
    }
    MovingRms::with_storage([0.0; NO_ALLOC_RMS_CAPACITY], n)
}
