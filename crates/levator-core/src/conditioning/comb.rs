//! Mains-interference comb notch: one filter that notches the mains
//! frequency and **every** harmonic (and DC) for the price of one delay
//! line, `scipy.signal.iircomb(f0, Q, ftype="notch", fs=fs)` exactly.
//!
//! With `N = fs/f0` (an integer), `β = tan(N·Δω/4)` where `Δω = 2π·f0/(fs·Q)`
//! is the -3 dB width of each notch (so `β = tan(π/(2Q))` whatever the
//! rate), `g = 1/(1+β)` and `a = (1-β)/(1+β)` (Orfanidis, *Introduction to
//! Signal Processing*, eq. 11.5.1, as scipy implements it):
//!
//! ```text
//!            1 - z^-N
//! H(z) = g · ----------        zeros at k·f0 for k = 0, 1, ..., N-1
//!            1 - a·z^-N        (DC, the mains frequency, every harmonic)
//! ```
//!
//! Compared with the cascade of [`iirnotch`](super::iirnotch) sections
//! ([`MainsNotch`](super::MainsNotch)):
//!
//! - **cost**: one multiply-add pair and one delay-line slot per sample,
//!   whatever the number of harmonics (the cascade runs one biquad per
//!   harmonic: 9 at 1 kHz, 19 at 2 kHz);
//! - **shape**: every notch of the comb has the same -3 dB width `f0/Q`
//!   (1.7 Hz at 50 Hz, Q 30), while the cascade's k-th notch is `k·f0/Q`
//!   wide (15 Hz at 450 Hz). The comb removes less EMG around the upper
//!   harmonics, but a mains frequency off by `δ` moves the k-th harmonic by
//!   `k·δ`, which a narrow upper notch then only partly removes;
//! - **DC**: the comb also removes DC (after the EMG chain's high-pass
//!   there is none left) and, for even `N`, Nyquist;
//! - **availability**: only when `fs` is an integer multiple of `f0`
//!   (1000, 2000, 250 Hz at 50 Hz; 1000 Hz is not a multiple of 60 Hz), and
//!   `N <=` [`MAX_COMB_DELAY`] (the delay line lives inline, no heap).
//!
//! ## Which one the presets use
//!
//! The cascade, still. Measured on issue 8's machine, the comb makes the
//! whole detection [`Pipeline`](crate::detect::Pipeline) about 20% cheaper
//! per channel-sample at 1 kHz (the EMG chain alone: 33 -> 10 ns), and it
//! keeps more of the EMG (white noise band-passed to 20-450 Hz loses 5% of
//! its power to the comb, 24% to the cascade, whose upper notches are up
//! to 15 Hz wide). But in the simulator's full accuracy table
//! (`LEVATOR_EVAL_FULL=1 cargo test --release --test detect_accuracy`,
//! 108 sessions per device, same code otherwise) it is not better
//! everywhere: at 1 kHz contraction F1 0.984 -> 0.988, release 0.978 ->
//! 0.985, but reverse-Kegel drops 0.981 -> 0.968 (recall 0.988 -> 0.938)
//! and poor release 0.889 -> 0.874; at 2 kHz contraction 0.989 -> 0.993,
//! drop 0.944 -> 0.955, poor release 0.809 -> 0.788. Its narrow upper
//! notches also suppress a drifting mains harmonic less (at 450 Hz a
//! 0.2 Hz mains error leaves the 9th harmonic only 0.8 dB down instead of
//! 12.5 dB) and its impulse response rings longer (-60 dB after 1.3 s
//! instead of 0.7 s). So the comb is opt-in
//! ([`ChainConfig::notch_kind`](super::ChainConfig::notch_kind),
//! `PipelineConfig::notch_kind`): a choice for CPU-bound many-channel set-ups
//! on a stable grid, not a free win.
//!
//! Execution is scipy's `lfilter` (transposed direct form II) reduced to
//! its non-zero taps: the `N - 1` middle states of that form only shift
//! (scipy adds `x·0 - y·0` to them, which is exact), so a delay line of `N`
//! values `v = a·y - g·x` and `y = g·x + v[n - N]` perform the same
//! floating-point operations as `scipy.signal.lfilter(b, a, x)`.

use core::ops::{Add, Mul, Sub};

use num_traits::ConstZero;

use super::guard::InputGuard;
use super::notch::{Mains, NotchError};

/// Longest delay line (samples) of a comb notch: `fs/f0` up to 200, i.e.
/// rates up to 10 kHz at 50 Hz mains and 12 kHz at 60 Hz. The line lives
/// inline in every chain (1.6 kB), so no heap is needed.
pub const MAX_COMB_DELAY: usize = 200;

/// How the mains notches of a [`Chain`](super::Chain) are built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum NotchKind {
    /// One [`iirnotch`](super::iirnotch) biquad per harmonic below Nyquist
    /// (and at or below `notch_max_hz`), each `k·f0/Q` wide. The default.
    #[default]
    Cascade,
    /// One [`iircomb`] comb filter (every harmonic and DC, each `f0/Q`
    /// wide) when the rate is an integer multiple of the mains frequency
    /// and `rate/f0 <=` [`MAX_COMB_DELAY`]; otherwise the cascade. Ignores
    /// `notch_max_hz` (the comb costs the same for every harmonic). Needs
    /// `Q > 1`.
    Comb,
}

/// Coefficients of a comb notch: `b = [gain, 0, ..., 0, -gain]`,
/// `a = [1, 0, ..., 0, -pole]`, both of length `delay + 1`, as returned by
/// `scipy.signal.iircomb(f0, Q, ftype="notch", fs=fs)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CombCoefficients {
    /// Delay `N = fs/f0` in samples.
    pub delay: usize,
    /// `g = 1/(1+β)`: `b[0]`, and `-b[N]`.
    pub gain: f64,
    /// `a = (1-β)/(1+β)`: `-a[N]` (the N-th root of it is the pole radius).
    pub pole: f64,
}

/// The comb notch `scipy.signal.iircomb(freq_hz, q, ftype="notch",
/// fs=rate_hz)` (default `pass_zero=False`: DC is notched too).
///
/// Errors as [`iirnotch`](super::iirnotch) for the rate, frequency and Q;
/// [`NotchError::NotAComb`] when `rate_hz` is not an integer multiple of
/// `freq_hz` (scipy's test: `|f0 - fs/N| / fs <= 1e-14`) or the delay
/// exceeds [`MAX_COMB_DELAY`]; [`NotchError::BandwidthTooWide`] for
/// `q <= 1` (scipy returns a pole outside the unit circle for `q < 1`).
///
/// ```
/// use levator_core::conditioning::iircomb;
/// let c = iircomb(50.0, 30.0, 1000.0)?;
/// assert_eq!(c.delay, 20);
/// assert!(c.pole > 0.9 && c.pole < 1.0);
/// # Ok::<(), levator_core::conditioning::NotchError>(())
/// ```
pub fn iircomb(freq_hz: f64, q: f64, rate_hz: f64) -> Result<CombCoefficients, NotchError> {
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        return Err(NotchError::InvalidRate { rate_hz });
    }
    let nyquist_hz = rate_hz / 2.0;
    if !freq_hz.is_finite() || freq_hz <= 0.0 || freq_hz >= nyquist_hz {
        return Err(NotchError::InvalidFrequency {
            hz: freq_hz,
            nyquist_hz,
        });
    }
    if !q.is_finite() || q <= 0.0 {
        return Err(NotchError::InvalidQ { q });
    }
    let n = libm::round(rate_hz / freq_hz);
    if libm::fabs(freq_hz - rate_hz / n) / rate_hz > 1e-14 || n > MAX_COMB_DELAY as f64 {
        return Err(NotchError::NotAComb {
            hz: freq_hz,
            rate_hz,
        });
    }
    // N·Δω/4 = π/(2Q): β is finite and positive (a stable, |a| < 1 design)
    // only for Q > 1.
    if q <= 1.0 {
        return Err(NotchError::BandwidthTooWide {
            hz: freq_hz,
            q,
            nyquist_hz,
        });
    }
    let pi = core::f64::consts::PI;
    let w0 = (2.0 * pi * freq_hz) / rate_hz;
    let w_delta = w0 / q;
    let beta = libm::tan(n * w_delta / 4.0);
    Ok(CombCoefficients {
        delay: n as usize,
        gain: 1.0 / (1.0 + beta),
        pole: (1.0 - beta) / (1.0 + beta),
    })
}

/// The delay line of a comb notch over any sample type (`f64`, or the
/// lanes of a [`ChainBank`](super::ChainBank)): the same operations in the
/// same order per lane. No guard (the owner guards its input).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CombLine<T> {
    gain: f64,
    pole: f64,
    line: [T; MAX_COMB_DELAY],
    delay: usize,
    pos: usize,
}

impl<T> CombLine<T>
where
    T: Copy + ConstZero + Add<Output = T> + Sub<Output = T>,
    f64: Mul<T, Output = T>,
{
    pub(crate) fn new(c: &CombCoefficients) -> CombLine<T> {
        CombLine {
            gain: c.gain,
            pole: c.pole,
            line: [T::ZERO; MAX_COMB_DELAY],
            delay: c.delay.clamp(1, MAX_COMB_DELAY),
            pos: 0,
        }
    }

    /// One sample: `y = g·x + v[n-N]`, then `v[n] = a·y - g·x`.
    #[inline(always)]
    pub(crate) fn run(&mut self, x: T) -> T {
        let gx = self.gain * x;
        let mut y = gx;
        if let Some(slot) = self.line.get_mut(self.pos) {
            y = gx + *slot;
            *slot = self.pole * y - gx;
        }
        self.pos += 1;
        if self.pos >= self.delay {
            self.pos = 0;
        }
        y
    }

    pub(crate) fn reset(&mut self) {
        self.line = [T::ZERO; MAX_COMB_DELAY];
        self.pos = 0;
    }
}

/// A streaming comb notch at the mains frequency ([`iircomb`]), with the
/// [input guard](super::guard).
///
/// ```
/// use levator_core::conditioning::{CombNotch, Mains};
/// let mut comb = CombNotch::new(Mains::Hz50, 30.0, 1000.0)?;
/// // a 150 Hz hum (3rd harmonic) dies out
/// let mut y = 0.0;
/// for n in 0..2000 {
///     let t = n as f64 / 1000.0;
///     y = comb.tick((2.0 * std::f64::consts::PI * 150.0 * t).sin());
/// }
/// assert!(y.abs() < 1e-3);
/// # Ok::<(), levator_core::conditioning::NotchError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CombNotch {
    coefficients: CombCoefficients,
    line: CombLine<f64>,
    guard: InputGuard,
}

impl CombNotch {
    /// A comb notch at `mains` and all its harmonics, -3 dB width
    /// `mains/q` each; see [`iircomb`] for the errors.
    pub fn new(mains: Mains, q: f64, rate_hz: f64) -> Result<CombNotch, NotchError> {
        let coefficients = iircomb(mains.hz(), q, rate_hz)?;
        Ok(CombNotch {
            coefficients,
            line: CombLine::new(&coefficients),
            guard: InputGuard::new(),
        })
    }

    /// The design being run.
    pub fn coefficients(&self) -> &CombCoefficients {
        &self.coefficients
    }

    /// Filter one sample.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        self.line.run(x)
    }

    /// Filter a block: `output[i] = tick(input[i])` for the first
    /// `min(input.len(), output.len())` samples; returns that count.
    pub fn process(&mut self, input: &[f64], output: &mut [f64]) -> usize {
        let n = input.len().min(output.len());
        for (o, &x) in output.iter_mut().zip(input.iter()) {
            *o = self.tick(x);
        }
        n
    }

    /// Back to the just-constructed state.
    pub fn reset(&mut self) {
        self.line.reset();
        self.guard.reset();
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
    fn comb_exists_only_for_integer_ratios() {
        assert_eq!(iircomb(50.0, 30.0, 1000.0).map(|c| c.delay), Ok(20));
        assert_eq!(iircomb(50.0, 30.0, 250.0).map(|c| c.delay), Ok(5));
        assert_eq!(iircomb(60.0, 30.0, 2400.0).map(|c| c.delay), Ok(40));
        assert!(matches!(
            iircomb(60.0, 30.0, 1000.0),
            Err(NotchError::NotAComb { .. })
        ));
        assert!(matches!(
            iircomb(50.0, 30.0, 50.0 * (MAX_COMB_DELAY + 1) as f64),
            Err(NotchError::NotAComb { .. })
        ));
        assert!(iircomb(50.0, 30.0, 50.0 * MAX_COMB_DELAY as f64).is_ok());
        assert!(matches!(
            iircomb(50.0, 1.0, 1000.0),
            Err(NotchError::BandwidthTooWide { .. })
        ));
        assert!(matches!(
            iircomb(50.0, f64::NAN, 1000.0),
            Err(NotchError::InvalidQ { .. })
        ));
        assert!(matches!(
            iircomb(500.0, 30.0, 1000.0),
            Err(NotchError::InvalidFrequency { .. })
        ));
    }

    /// Stable for every accepted Q: `0 < a < 1` (poles at radius a^(1/N)).
    #[test]
    fn accepted_combs_are_stable() {
        for &q in &[1.0001, 1.5, 2.0, 10.0, 30.0, 1000.0] {
            let c = iircomb(50.0, q, 1000.0).unwrap();
            assert!(
                c.pole.abs() < 1.0 && c.gain > 0.0 && c.gain < 1.0,
                "{q}: {c:?}"
            );
        }
    }

    /// Zero gain at every harmonic and DC, unity gain half-way between.
    #[test]
    fn notches_every_harmonic() {
        let c = iircomb(50.0, 30.0, 1000.0).unwrap();
        // H(e^jw) = g (1 - e^{-jwN}) / (1 - a e^{-jwN}): depends on wN only
        let mag = |f: f64| {
            let th = 2.0 * core::f64::consts::PI * f / 1000.0 * c.delay as f64;
            let (re_n, im_n) = (1.0 - libm::cos(th), libm::sin(th));
            let (re_d, im_d) = (1.0 - c.pole * libm::cos(th), c.pole * libm::sin(th));
            c.gain * libm::sqrt((re_n * re_n + im_n * im_n) / (re_d * re_d + im_d * im_d))
        };
        for k in 0..10 {
            assert!(mag(50.0 * k as f64) < 1e-9, "harmonic {k}");
            assert!(
                (mag(50.0 * k as f64 + 25.0) - 1.0).abs() < 1e-12,
                "between {k}"
            );
            // -3 dB at +-f0/(2Q) around each notch
            let edge = mag(50.0 * k as f64 + 50.0 / 60.0);
            assert!(
                (edge - core::f64::consts::FRAC_1_SQRT_2).abs() < 1e-9,
                "{k}: {edge}"
            );
        }
    }

    #[test]
    fn guard_holds_last_good() {
        let mut comb = CombNotch::new(Mains::Hz50, 30.0, 1000.0).unwrap();
        let a = comb.tick(1.0);
        let mut fresh = CombNotch::new(Mains::Hz50, 30.0, 1000.0).unwrap();
        assert_eq!(a, fresh.tick(1.0));
        let b = comb.tick(f64::NAN);
        assert_eq!(b, fresh.tick(1.0));
        assert_eq!(comb.rejected_inputs(), 1);
        comb.reset();
        assert_eq!(comb.rejected_inputs(), 0);
        assert_eq!(comb.tick(1.0), a);
    }
}
