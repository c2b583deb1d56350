//! Amplitude envelopes of a conditioned signal: moving RMS, rectify +
//! low-pass, and the Teager-Kaiser energy operator.
//!
//! All three are streaming (state carried across calls), `tick` and
//! `process` agree bit for bit, and the per-sample path never allocates.
//! Non-finite or out-of-range inputs are handled by the conditioning
//! layer's input guard (hold last good value, count it; see
//! [`crate::conditioning`]).

use core::fmt;

use crate::conditioning::guard::InputGuard;
use crate::conditioning::{butter, Band, DesignError, SosFilter};

/// Longest moving-RMS window, in samples, that [`MovingRms::new`] will
/// allocate (2^22 samples = 32 MiB; over an hour at 1 kHz).
pub const MAX_RMS_WINDOW: usize = 1 << 22;

/// Why an envelope could not be built.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Sample rate not finite or not > 0.
    InvalidRate {
        /// The rate asked for, Hz.
        rate_hz: f64,
    },
    /// Window length not finite, not > 0, or shorter than one sample.
    InvalidWindow {
        /// The window asked for, ms.
        window_ms: f64,
    },
    /// The window needs more samples than allowed (see
    /// [`MAX_RMS_WINDOW`], or the chain's no-`alloc` capacity).
    WindowTooLong {
        /// Samples needed.
        samples: usize,
        /// Samples available.
        max: usize,
    },
    /// Caller-provided storage is shorter than the window.
    StorageTooSmall {
        /// Samples needed.
        needed: usize,
        /// Samples provided.
        available: usize,
    },
    /// The smoothing low-pass could not be designed.
    LowPass(DesignError),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::InvalidRate { rate_hz } => {
                write!(
                    f,
                    "sample rate {rate_hz} Hz is not a positive finite number"
                )
            }
            EnvelopeError::InvalidWindow { window_ms } => write!(
                f,
                "envelope window {window_ms} ms must be finite and at least one sample long"
            ),
            EnvelopeError::WindowTooLong { samples, max } => write!(
                f,
                "envelope window of {samples} samples exceeds the maximum of {max}"
            ),
            EnvelopeError::StorageTooSmall { needed, available } => write!(
                f,
                "envelope storage holds {available} samples, window needs {needed}"
            ),
            EnvelopeError::LowPass(e) => write!(f, "envelope low-pass: {e}"),
        }
    }
}

impl core::error::Error for EnvelopeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            EnvelopeError::LowPass(e) => Some(e),
            _ => None,
        }
    }
}

/// Window length in samples for `window_ms` at `rate_hz`:
/// `round(window_ms · rate_hz / 1000)`, at least 1.
///
/// ```
/// use levator_core::features::envelope::window_samples;
/// assert_eq!(window_samples(50.0, 1000.0), Ok(50));
/// assert_eq!(window_samples(50.0, 250.0), Ok(13)); // 12.5 rounds up
/// assert!(window_samples(0.1, 1000.0).is_err()); // under one sample
/// ```
pub fn window_samples(window_ms: f64, rate_hz: f64) -> Result<usize, EnvelopeError> {
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        return Err(EnvelopeError::InvalidRate { rate_hz });
    }
    if !window_ms.is_finite() || window_ms <= 0.0 {
        return Err(EnvelopeError::InvalidWindow { window_ms });
    }
    let n = libm::round(window_ms * rate_hz / 1000.0);
    if n < 1.0 {
        return Err(EnvelopeError::InvalidWindow { window_ms });
    }
    if n > MAX_RMS_WINDOW as f64 {
        return Err(EnvelopeError::WindowTooLong {
            samples: if n >= usize::MAX as f64 {
                usize::MAX
            } else {
                n as usize
            },
            max: MAX_RMS_WINDOW,
        });
    }
    Ok(n as usize)
}

/// Moving root-mean-square over the last `window_len` samples, O(1) per
/// sample.
///
/// The window's squares live in a ring buffer `S` (any `AsMut<[f64]>`:
/// a caller's `&mut [f64]` or array with [`with_storage`](Self::with_storage),
/// or a `Vec` allocated once by [`new`](Self::new) under the `alloc`
/// feature); it is never resized.
///
/// Exactness: a running sum of squares is updated per sample (add the new
/// square, subtract the one leaving) and, every time the ring wraps (every
/// `window_len` samples), recomputed exactly from the buffer, so rounding
/// error never accumulates beyond one window. The recompute happens at
/// fixed sample counts, so output does not depend on how the stream is
/// chunked.
///
/// Warm-up: until the window has filled, the mean is over the samples seen
/// so far (no ramp from zero).
///
/// ```
/// use levator_core::features::envelope::MovingRms;
/// let mut rms = MovingRms::with_storage([0.0; 4], 4)?;
/// for x in [3.0, -3.0, 3.0, -3.0, 3.0] {
///     assert_eq!(rms.tick(x), 3.0);
/// }
/// # Ok::<(), levator_core::features::envelope::EnvelopeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MovingRms<S> {
    storage: S,
    window_len: usize,
    pos: usize,
    filled: usize,
    sum_sq: f64,
    guard: InputGuard,
}

#[cfg(feature = "alloc")]
impl MovingRms<alloc::vec::Vec<f64>> {
    /// A moving RMS over `window_ms` at `rate_hz`, with its window storage
    /// allocated once, here (see [`window_samples`] for the rounding).
    pub fn new(window_ms: f64, rate_hz: f64) -> Result<Self, EnvelopeError> {
        let n = window_samples(window_ms, rate_hz)?;
        MovingRms::with_storage(alloc::vec![0.0; n], n)
    }
}

impl<S: AsRef<[f64]> + AsMut<[f64]>> MovingRms<S> {
    /// A moving RMS over `window_len` samples using caller-provided
    /// `storage` (at least `window_len` long; contents are overwritten).
    pub fn with_storage(mut storage: S, window_len: usize) -> Result<Self, EnvelopeError> {
        let available = storage.as_ref().len();
        if window_len == 0 {
            return Err(EnvelopeError::InvalidWindow { window_ms: 0.0 });
        }
        if available < window_len {
            return Err(EnvelopeError::StorageTooSmall {
                needed: window_len,
                available,
            });
        }
        storage.as_mut().fill(0.0);
        Ok(MovingRms {
            storage,
            window_len,
            pos: 0,
            filled: 0,
            sum_sq: 0.0,
            guard: InputGuard::new(),
        })
    }

    /// Window length in samples.
    pub fn window_len(&self) -> usize {
        self.window_len
    }

    /// Push one sample, return the RMS of the window ending with it.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        let sq = x * x;
        let len = self.window_len;
        let buf = self.storage.as_mut();
        if let Some(slot) = buf.get_mut(self.pos) {
            let old = *slot;
            *slot = sq;
            self.sum_sq += sq - old;
        }
        self.pos += 1;
        if self.pos >= len {
            self.pos = 0;
            // Exact recompute once per window: no drift, ever.
            // Explicit left fold from 0.0 (ChainBank's lanes do the same,
            // so both stay bit-identical).
            let mut sum = 0.0;
            for v in buf.iter().take(len) {
                sum += *v;
            }
            self.sum_sq = sum;
        }
        if self.filled < len {
            self.filled += 1;
        }
        let mean = self.sum_sq / self.filled as f64;
        if mean > 0.0 {
            libm::sqrt(mean)
        } else {
            0.0
        }
    }

    /// Block form of [`tick`](Self::tick) over the first
    /// `min(input.len(), output.len())` samples; returns that count.
    pub fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        let n = input.len().min(output.len());
        for (o, &x) in output.iter_mut().zip(input.iter()) {
            *o = self.tick(x);
        }
        n
    }

    /// Empty the window (and clear the input-guard counter).
    pub fn reset(&mut self) {
        self.storage.as_mut().fill(0.0);
        self.pos = 0;
        self.filled = 0;
        self.sum_sq = 0.0;
        self.guard.reset();
    }

    /// Inputs replaced by the input guard since construction or reset.
    pub fn rejected_inputs(&self) -> u64 {
        self.guard.rejected()
    }
}

/// Full-wave rectification followed by a Butterworth low-pass: the
/// classic "linear envelope" of EMG.
///
/// ```
/// use levator_core::features::envelope::RectifiedLowPass;
/// let mut env = RectifiedLowPass::new(5.0, 2, 1000.0)?;
/// let mut y = 0.0;
/// for n in 0..5000 {
///     // ±1 square wave: rectified it is a constant 1
///     y = env.tick(if (n / 10) % 2 == 0 { 1.0 } else { -1.0 });
/// }
/// assert!((y - 1.0).abs() < 1e-6);
/// # Ok::<(), levator_core::features::envelope::EnvelopeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RectifiedLowPass {
    lowpass: SosFilter,
    guard: InputGuard,
}

impl RectifiedLowPass {
    /// `|x|` then a low-pass of `order` (1..=8) at `cutoff_hz`.
    pub fn new(cutoff_hz: f64, order: u8, rate_hz: f64) -> Result<Self, EnvelopeError> {
        if !rate_hz.is_finite() || rate_hz <= 0.0 {
            return Err(EnvelopeError::InvalidRate { rate_hz });
        }
        let sos =
            butter(order, Band::LowPass { cutoff_hz }, rate_hz).map_err(EnvelopeError::LowPass)?;
        Ok(RectifiedLowPass {
            lowpass: SosFilter::new(&sos),
            guard: InputGuard::new(),
        })
    }

    /// Push one sample, return the envelope.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        self.lowpass.tick(libm::fabs(x))
    }

    /// Block form of [`tick`](Self::tick); returns the count processed.
    pub fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        let n = input.len().min(output.len());
        for (o, &x) in output.iter_mut().zip(input.iter()) {
            *o = self.tick(x);
        }
        n
    }

    /// Back to the just-constructed state.
    pub fn reset(&mut self) {
        self.lowpass.reset();
        self.guard.reset();
    }

    /// Inputs replaced by the input guard since construction or reset.
    pub fn rejected_inputs(&self) -> u64 {
        self.guard.rejected()
    }
}

/// The Teager-Kaiser energy operator `ψ[n] = x[n]² - x[n-1]·x[n+1]`.
///
/// Causal form: `tick(x[n])` returns `ψ[n-1] = x[n-1]² - x[n]·x[n-2]`, i.e.
/// the output is **one sample late** (it needs the next sample). Samples
/// before the first are taken as 0. Units are the input's squared (µV²).
/// ψ can be negative for noisy input; rectify or smooth it for detection.
///
/// ```
/// use levator_core::features::envelope::TeagerKaiser;
/// // For A·cos(Ωn), ψ = A²·sin²(Ω) exactly.
/// let (a, w) = (2.0_f64, 0.3_f64);
/// let mut tk = TeagerKaiser::new();
/// let mut y = 0.0;
/// for n in 0..10 {
///     y = tk.tick(a * (w * n as f64).cos());
/// }
/// assert!((y - a * a * w.sin().powi(2)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TeagerKaiser {
    x1: f64,
    x2: f64,
    guard: InputGuard,
}

impl TeagerKaiser {
    /// An operator with zero history.
    pub const fn new() -> TeagerKaiser {
        TeagerKaiser {
            x1: 0.0,
            x2: 0.0,
            guard: InputGuard::new(),
        }
    }

    /// Push `x[n]`, return `ψ[n-1]`.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        let y = self.x1 * self.x1 - x * self.x2;
        self.x2 = self.x1;
        self.x1 = x;
        y
    }

    /// Block form of [`tick`](Self::tick); returns the count processed.
    pub fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        let n = input.len().min(output.len());
        for (o, &x) in output.iter_mut().zip(input.iter()) {
            *o = self.tick(x);
        }
        n
    }

    /// Forget the history and the counter.
    pub fn reset(&mut self) {
        *self = TeagerKaiser::new();
    }

    /// Inputs replaced by the input guard since construction or reset.
    pub fn rejected_inputs(&self) -> u64 {
        self.guard.rejected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_rms_matches_direct_computation() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rng = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
        };
        let xs: [f64; 2000] = core::array::from_fn(|_| rng());
        let w = 37;
        let mut rms = MovingRms::with_storage([0.0; 64], w).unwrap();
        for (i, &x) in xs.iter().enumerate() {
            let got = rms.tick(x);
            let lo = (i + 1).saturating_sub(w);
            let win = &xs[lo..=i];
            let want = libm::sqrt(win.iter().map(|v| v * v).sum::<f64>() / win.len() as f64);
            assert!(
                (got - want).abs() <= 1e-12 * want.max(1.0),
                "{i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn moving_rms_does_not_drift() {
        // A huge burst then silence: a plain running sum keeps a residue of
        // rounding error; the periodic recompute returns to exactly 0.
        let mut rms = MovingRms::with_storage([0.0; 10], 10).unwrap();
        for i in 0..1000 {
            rms.tick(if i % 3 == 0 { 1e8 } else { 1e-3 });
        }
        let mut last = f64::NAN;
        for _ in 0..25 {
            last = rms.tick(0.0);
        }
        assert_eq!(last, 0.0);
    }

    #[test]
    fn moving_rms_errors() {
        assert!(matches!(
            MovingRms::with_storage([0.0; 4], 5),
            Err(EnvelopeError::StorageTooSmall {
                needed: 5,
                available: 4
            })
        ));
        assert!(matches!(
            MovingRms::with_storage([0.0; 4], 0),
            Err(EnvelopeError::InvalidWindow { .. })
        ));
        assert!(window_samples(f64::NAN, 1000.0).is_err());
        assert!(window_samples(50.0, -1.0).is_err());
        assert!(matches!(
            window_samples(1e9, 1e6),
            Err(EnvelopeError::WindowTooLong { .. })
        ));
    }

    #[test]
    fn nan_does_not_poison() {
        let mut rms = MovingRms::with_storage([0.0; 8], 8).unwrap();
        let mut tk = TeagerKaiser::new();
        for i in 0..100 {
            let x = if i % 7 == 3 { f64::NAN } else { 1.0 };
            assert!(rms.tick(x).is_finite());
            assert!(tk.tick(x).is_finite());
        }
        assert_eq!(rms.rejected_inputs(), 14);
        assert_eq!(tk.rejected_inputs(), 14);
    }
}
