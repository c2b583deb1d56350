//! [`ChainBank`]: several channels with the same [`ChainConfig`] run in
//! lockstep, one biquad cascade whose samples are lanes of `N` channels.
//!
//! `biquad::DirectForm2Transposed` is generic over its sample type; here
//! the sample is [`Lanes<N>`](Lanes), `N` doubles that every operation
//! treats element-wise. The compiler turns those element-wise operations
//! into SIMD instructions, so `N` channels cost little more than one
//! (measured in `benches/conditioning.rs`). Each lane performs exactly the
//! scalar operations of a [`Chain`](super::Chain) in the same order, so a
//! bank's output is **bit-identical** to `N` separate chains (tested).
//!
//! Choosing `N`: `N = 2` and `N = 4` vectorize well on the baseline
//! x86-64 target (SSE2). At `N = 8` (a 64-byte sample) the compiler stops
//! inlining `biquad`'s `run` and calls it once per section, which is no
//! faster per channel than the scalar chain; for 8 channels use two
//! `ChainBank<4>` (as `benches/conditioning.rs` does). Measured on this
//! project's (shared, loaded) machine for the full EMG chain at 1 kHz
//! (14 biquads + RMS), best of 30 runs: scalar `Chain` ≈ 20 ns per
//! channel-sample, `ChainBank<2>` ≈ 13, `ChainBank<4>` ≈ 9,
//! `ChainBank<8>` ≈ 21, two `ChainBank<4>` ≈ 10.

use core::ops::{Add, Mul, Sub};

use biquad::{Biquad, Coefficients, DirectForm2Transposed};

#[cfg(feature = "alloc")]
use super::chain::EnvelopeConfig;
use super::chain::{design, ChainConfig, ChainError, EnvelopeStage};
use super::comb::{CombLine, NotchKind};
use super::guard::INPUT_LIMIT;
use super::sos::IDENTITY;
use super::MAX_CHAIN_SECTIONS;
#[cfg(feature = "alloc")]
use crate::features::envelope::window_samples;

/// `N` samples, one per channel, operated on element-wise (the biquad
/// sample type of a [`ChainBank`]).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(32))]
pub struct Lanes<const N: usize>(pub [f64; N]);

impl<const N: usize> Add for Lanes<N> {
    type Output = Lanes<N>;
    #[inline(always)]
    fn add(self, o: Lanes<N>) -> Lanes<N> {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a += b;
        }
        Lanes(r)
    }
}

impl<const N: usize> Sub for Lanes<N> {
    type Output = Lanes<N>;
    #[inline(always)]
    fn sub(self, o: Lanes<N>) -> Lanes<N> {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a -= b;
        }
        Lanes(r)
    }
}

impl<const N: usize> Mul<Lanes<N>> for f64 {
    type Output = Lanes<N>;
    #[inline(always)]
    fn mul(self, o: Lanes<N>) -> Lanes<N> {
        let mut r = o.0;
        for a in r.iter_mut() {
            *a *= self;
        }
        Lanes(r)
    }
}

impl<const N: usize> num_traits::Zero for Lanes<N> {
    fn zero() -> Lanes<N> {
        Lanes([0.0; N])
    }
    fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v == 0.0)
    }
}

impl<const N: usize> num_traits::ConstZero for Lanes<N> {
    const ZERO: Lanes<N> = Lanes([0.0; N]);
}

/// `N` channels conditioned with one [`ChainConfig`], in lockstep.
///
/// Same contract as [`Chain`](super::Chain): `tick` / `process` agree, any chunking
/// gives the same output, per-lane input guard and counters, no
/// allocation after construction, no panics. Output lane `i` is
/// bit-identical to a [`Chain`](super::Chain) fed channel `i` alone.
///
/// ```
/// use levator_core::conditioning::{ChainBank, ChainConfig};
/// // OpenBCI Cyton: 8 EMG channels at 250 Hz.
/// let mut bank = ChainBank::<8>::new(&ChainConfig::emg(250.0))?;
/// let envelopes: [f64; 8] = bank.tick([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, f64::NAN]);
/// assert!(envelopes.iter().all(|v| v.is_finite()));
/// assert_eq!(bank.rejected_inputs(7), 1);
/// # Ok::<(), levator_core::conditioning::ChainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ChainBank<const N: usize> {
    config: ChainConfig,
    stages: [DirectForm2Transposed<f64, Lanes<N>>; MAX_CHAIN_SECTIONS],
    len: usize,
    comb: Option<CombLine<Lanes<N>>>,
    envelope: BankEnvelope<N>,
    last_good: [f64; N],
    rejected: [u64; N],
    filtered: [f64; N],
    state_resets: u64,
}

impl<const N: usize> ChainBank<N> {
    /// Validate `config` and build `N` identical channels.
    pub fn new(config: &ChainConfig) -> Result<ChainBank<N>, ChainError> {
        let design = design(config)?;
        let envelope = BankEnvelope::new(config)?;
        let mut stages =
            [DirectForm2Transposed::<f64, Lanes<N>>::new(IDENTITY); MAX_CHAIN_SECTIONS];
        let coefficients: &[Coefficients<f64>] = design.coefficients();
        for (stage, c) in stages.iter_mut().zip(coefficients) {
            *stage = DirectForm2Transposed::new(*c);
        }
        Ok(ChainBank {
            config: *config,
            stages,
            len: coefficients.len(),
            comb: design.comb.as_ref().map(CombLine::new),
            envelope,
            last_good: [0.0; N],
            rejected: [0; N],
            filtered: [0.0; N],
            state_resets: 0,
        })
    }

    /// Condition one frame of `N` samples; returns the `N` envelopes (or
    /// filtered samples when the envelope is `None`).
    #[inline]
    pub fn tick(&mut self, x: [f64; N]) -> [f64; N] {
        // The input guard of every lane, branch-free (same policy and
        // result as `InputGuard::admit`).
        let mut v = x;
        for ((s, last), count) in v
            .iter_mut()
            .zip(self.last_good.iter_mut())
            .zip(self.rejected.iter_mut())
        {
            let ok = libm::fabs(*s) <= INPUT_LIMIT;
            *s = if ok { *s } else { *last };
            *last = *s;
            *count = count.saturating_add(u64::from(!ok));
        }
        let mut y = Lanes(v);
        for stage in self.stages.iter_mut().take(self.len) {
            y = stage.run(y);
        }
        if let Some(comb) = self.comb.as_mut() {
            y = comb.run(y);
        }
        if y.0.iter().any(|s| !s.is_finite()) {
            for stage in self.stages.iter_mut() {
                stage.reset_state();
            }
            if let Some(comb) = self.comb.as_mut() {
                comb.reset();
            }
            self.state_resets = self.state_resets.saturating_add(1);
            y = Lanes([0.0; N]);
        }
        self.filtered = y.0;
        self.envelope.tick(y)
    }

    /// Condition a block of frames: `output[i] = tick(input[i])` for the
    /// first `min(input.len(), output.len())` frames; returns that count.
    pub fn process(&mut self, input: &[[f64; N]], output: &mut [[f64; N]]) -> usize {
        let n = input.len().min(output.len());
        for (o, &x) in output.iter_mut().zip(input.iter()) {
            *o = self.tick(x);
        }
        n
    }

    /// Condition a block of frames in place.
    pub fn process_in_place(&mut self, frames: &mut [[f64; N]]) {
        for f in frames.iter_mut() {
            *f = self.tick(*f);
        }
    }

    /// Filtered (pre-envelope) values of the last frame.
    pub fn filtered(&self) -> [f64; N] {
        self.filtered
    }

    /// Inputs of channel `lane` replaced by the input guard since
    /// construction or reset (0 for a lane `>= N`).
    pub fn rejected_inputs(&self, lane: usize) -> u64 {
        self.rejected.get(lane).copied().unwrap_or(0)
    }

    /// Times the shared filter state was reset because it became
    /// non-finite (expected to stay 0).
    pub fn state_resets(&self) -> u64 {
        self.state_resets
    }

    /// Back to the just-constructed state.
    pub fn reset(&mut self) {
        for stage in self.stages.iter_mut() {
            stage.reset_state();
        }
        if let Some(comb) = self.comb.as_mut() {
            comb.reset();
        }
        self.envelope.reset();
        self.last_good = [0.0; N];
        self.rejected = [0; N];
        self.filtered = [0.0; N];
        self.state_resets = 0;
    }

    /// The configuration shared by all lanes.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// Number of biquad sections run per frame (filters, and the notches
    /// of a [`NotchKind::Cascade`]).
    pub fn sections(&self) -> usize {
        self.len
    }

    /// The notch kind in use (see [`Chain::notch_kind`](super::Chain::notch_kind)).
    pub fn notch_kind(&self) -> NotchKind {
        if self.comb.is_some() {
            NotchKind::Comb
        } else {
            NotchKind::Cascade
        }
    }
}

/// The envelope stage of a bank: the moving RMS vectorized across lanes
/// (with `alloc`), every other envelope as one scalar stage per lane.
#[derive(Clone, Debug)]
enum BankEnvelope<const N: usize> {
    PerLane([EnvelopeStage; N]),
    #[cfg(feature = "alloc")]
    Rms(LaneRms<N>),
}

impl<const N: usize> BankEnvelope<N> {
    fn new(config: &ChainConfig) -> Result<BankEnvelope<N>, ChainError> {
        // Validate exactly as a Chain does (same errors).
        let scalar = EnvelopeStage::new(config)?;
        #[cfg(feature = "alloc")]
        if let EnvelopeConfig::MovingRms { window_ms } = config.envelope {
            let len = window_samples(window_ms, config.rate_hz).map_err(ChainError::Envelope)?;
            return Ok(BankEnvelope::Rms(LaneRms {
                buf: alloc::vec![Lanes([0.0; N]); len],
                pos: 0,
                filled: 0,
                sum_sq: Lanes([0.0; N]),
                last_good: [0.0; N],
            }));
        }
        Ok(BankEnvelope::PerLane(core::array::from_fn(|_| {
            scalar.clone()
        })))
    }

    #[inline(always)]
    fn tick(&mut self, y: Lanes<N>) -> [f64; N] {
        match self {
            BankEnvelope::PerLane(stages) => {
                let mut out = y.0;
                for (o, stage) in out.iter_mut().zip(stages.iter_mut()) {
                    *o = stage.tick(*o);
                }
                out
            }
            #[cfg(feature = "alloc")]
            BankEnvelope::Rms(r) => r.tick(y),
        }
    }

    fn reset(&mut self) {
        match self {
            BankEnvelope::PerLane(stages) => stages.iter_mut().for_each(EnvelopeStage::reset),
            #[cfg(feature = "alloc")]
            BankEnvelope::Rms(r) => {
                r.buf.fill(Lanes([0.0; N]));
                r.pos = 0;
                r.filled = 0;
                r.sum_sq = Lanes([0.0; N]);
                r.last_good = [0.0; N];
            }
        }
    }
}

/// [`MovingRms`](crate::features::envelope::MovingRms) over lanes: the
/// same operations in the same order per lane (running sum, exact
/// recompute on every wrap, mean over the samples seen while warming up),
/// so each lane is bit-identical to the scalar envelope.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
struct LaneRms<const N: usize> {
    buf: alloc::vec::Vec<Lanes<N>>,
    pos: usize,
    filled: usize,
    sum_sq: Lanes<N>,
    /// Per-lane input guard, as `MovingRms` has: a filter output beyond
    /// `INPUT_LIMIT` (a ringing response to an input at the limit) is
    /// replaced by the lane's last good value.
    last_good: [f64; N],
}

#[cfg(feature = "alloc")]
impl<const N: usize> LaneRms<N> {
    #[inline(always)]
    fn tick(&mut self, y: Lanes<N>) -> [f64; N] {
        let len = self.buf.len();
        let mut sq = y.0;
        for (v, held) in sq.iter_mut().zip(self.last_good.iter_mut()) {
            if libm::fabs(*v) <= INPUT_LIMIT {
                *held = *v;
            } else {
                *v = *held;
            }
            *v = *v * *v;
        }
        let sq = Lanes(sq);
        if let Some(slot) = self.buf.get_mut(self.pos) {
            let old = *slot;
            *slot = sq;
            self.sum_sq = self.sum_sq + (sq - old);
        }
        self.pos += 1;
        if self.pos >= len {
            self.pos = 0;
            let mut sum = Lanes([0.0; N]);
            for v in self.buf.iter() {
                sum = sum + *v;
            }
            self.sum_sq = sum;
        }
        if self.filled < len {
            self.filled += 1;
        }
        let filled = self.filled as f64;
        let mut out = self.sum_sq.0;
        for v in out.iter_mut() {
            let mean = *v / filled;
            *v = if mean > 0.0 { libm::sqrt(mean) } else { 0.0 };
        }
        out
    }
}
