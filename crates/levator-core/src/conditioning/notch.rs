//! Mains-interference notches: one second-order notch at the mains
//! frequency (50 or 60 Hz) and at each harmonic below Nyquist.
//!
//! Each notch is `scipy.signal.iirnotch(w0, Q, fs)` exactly (scipy's form
//! follows Orfanidis, *Introduction to Signal Processing*, eqs. 11.3.7 and
//! 11.3.21): with `ω0 = 2π·f0/fs`, `Δω = ω0/Q` (the -3 dB bandwidth),
//! `β = tan(Δω/2)`, `g = 1/(1+β)`:
//!
//! ```text
//! b = g · [1, -2·cos ω0, 1]        a = [1, -2·g·cos ω0, 2·g - 1]
//! ```
//!
//! This is the same filter as the RBJ "Audio EQ Cookbook" notch when its
//! bandwidth is specified as the -3 dB width `f0/Q` (Orfanidis parameterizes
//! by the exact digital bandwidth, RBJ by an analog Q; for the high Q used
//! for mains the two agree closely, but only this form matches scipy, and
//! the golden vectors check it).
//!
//! Capacity: at most [`MAX_NOTCHES`] notches, stored inline (no heap).
//! 40 covers every harmonic of 50 Hz below Nyquist up to 4 kHz sampling
//! and of 60 Hz up to 4.8 kHz. Above that, limit the harmonics with
//! `max_hz` (a band-pass usually removes them anyway); asking for more is an
//! error ([`NotchError::TooManyHarmonics`]), never a silent truncation.

use core::fmt;

use super::guard::InputGuard;
use super::sos::{row_to_coefficients, Cascade};

/// Most notches one [`MainsNotch`] holds.
pub const MAX_NOTCHES: usize = 40;

/// Mains (power-line) frequency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Mains {
    /// 50 Hz (Europe, Africa, most of Asia and Oceania).
    #[cfg_attr(feature = "serde", serde(rename = "50"))]
    Hz50,
    /// 60 Hz (the Americas, parts of Japan, Korea, Taiwan, ...).
    #[cfg_attr(feature = "serde", serde(rename = "60"))]
    Hz60,
}

impl Mains {
    /// The fundamental in Hz.
    pub const fn hz(self) -> f64 {
        match self {
            Mains::Hz50 => 50.0,
            Mains::Hz60 => 60.0,
        }
    }
}

/// Why a notch design was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum NotchError {
    /// Sample rate not finite or not > 0.
    InvalidRate {
        /// The rate asked for, Hz.
        rate_hz: f64,
    },
    /// Notch frequency not finite, <= 0, or >= Nyquist.
    InvalidFrequency {
        /// The frequency asked for, Hz.
        hz: f64,
        /// Nyquist frequency, Hz.
        nyquist_hz: f64,
    },
    /// Quality factor not finite or not > 0.
    InvalidQ {
        /// The Q asked for.
        q: f64,
    },
    /// The notch's -3 dB bandwidth (`hz / q`) reaches Nyquist: the design
    /// would have its poles on or outside the unit circle (unstable), which
    /// scipy's `iirnotch` does not check. Raise Q or lower the frequency
    /// (for harmonic banks, lower `max_hz`).
    BandwidthTooWide {
        /// The notch frequency, Hz.
        hz: f64,
        /// The Q asked for.
        q: f64,
        /// Nyquist frequency, Hz.
        nyquist_hz: f64,
    },
    /// `max_hz` is NaN or <= 0.
    InvalidMaxFrequency {
        /// The limit asked for, Hz.
        max_hz: f64,
    },
    /// More harmonics below the limit than [`MAX_NOTCHES`].
    TooManyHarmonics {
        /// Harmonics that would be needed.
        needed: usize,
    },
    /// No comb notch ([`iircomb`](super::iircomb)) at this rate: the rate
    /// is not an integer multiple of the frequency, or the delay would
    /// exceed [`MAX_COMB_DELAY`](super::MAX_COMB_DELAY).
    NotAComb {
        /// The notch frequency, Hz.
        hz: f64,
        /// The sample rate, Hz.
        rate_hz: f64,
    },
}

impl fmt::Display for NotchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotchError::InvalidRate { rate_hz } => {
                write!(
                    f,
                    "sample rate {rate_hz} Hz is not a positive finite number"
                )
            }
            NotchError::InvalidFrequency { hz, nyquist_hz } => write!(
                f,
                "notch frequency {hz} Hz must be > 0 and below Nyquist ({nyquist_hz} Hz)"
            ),
            NotchError::InvalidQ { q } => write!(f, "notch Q {q} must be a positive finite number"),
            NotchError::BandwidthTooWide { hz, q, nyquist_hz } => write!(
                f,
                "notch at {hz} Hz with Q {q} is {bw} Hz wide, reaching Nyquist ({nyquist_hz} Hz): \
                 the filter would be unstable; raise Q (above {min_q}) or lower the notch limit",
                bw = hz / q,
                min_q = hz / nyquist_hz
            ),
            NotchError::InvalidMaxFrequency { max_hz } => {
                write!(f, "notch limit {max_hz} Hz must be > 0")
            }
            NotchError::TooManyHarmonics { needed } => write!(
                f,
                "{needed} mains harmonics below the limit, at most {MAX_NOTCHES} supported; \
                 lower the notch limit (max_hz)"
            ),
            NotchError::NotAComb { hz, rate_hz } => write!(
                f,
                "no comb notch at {hz} Hz for {rate_hz} Hz sampling: the rate must be an \
                 integer multiple of the frequency, at most {} times it",
                super::comb::MAX_COMB_DELAY
            ),
        }
    }
}

impl core::error::Error for NotchError {}

/// One notch section, `scipy.signal.iirnotch(freq_hz, q, fs=rate_hz)`, in
/// scipy's SOS row layout `[b0, b1, b2, 1, a1, a2]`.
///
/// ```
/// use levator_core::conditioning::iirnotch;
/// let row = iirnotch(50.0, 30.0, 1000.0)?;
/// // zero gain at 50 Hz: b has roots on the unit circle at ±50 Hz
/// assert!((row[0] - row[2]).abs() < 1e-15);
/// # Ok::<(), levator_core::conditioning::NotchError>(())
/// ```
pub fn iirnotch(freq_hz: f64, q: f64, rate_hz: f64) -> Result<[f64; 6], NotchError> {
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
    // Stability: the pole radius is sqrt(2·gain - 1) < 1 iff tan(bw/2) > 0,
    // i.e. the bandwidth hz/q stays below Nyquist.
    if freq_hz / q >= nyquist_hz {
        return Err(NotchError::BandwidthTooWide {
            hz: freq_hz,
            q,
            nyquist_hz,
        });
    }
    let pi = core::f64::consts::PI;
    let w0 = 2.0 * freq_hz / rate_hz;
    let bw = w0 / q * pi;
    let w0 = w0 * pi;
    let beta = libm::tan(bw / 2.0);
    let gain = 1.0 / (1.0 + beta);
    let c = libm::cos(w0);
    Ok([
        gain,
        gain * (-2.0 * c),
        gain,
        1.0,
        -2.0 * gain * c,
        2.0 * gain - 1.0,
    ])
}

/// A bank of [`iirnotch`] sections at the mains frequency and its
/// harmonics, run in series (fundamental first).
///
/// ```
/// use levator_core::conditioning::{Mains, MainsNotch};
/// let notch = MainsNotch::new(Mains::Hz50, 30.0, 1000.0, None)?;
/// // 50, 100, ..., 450 Hz (500 Hz is Nyquist itself)
/// assert_eq!(notch.len(), 9);
/// # Ok::<(), levator_core::conditioning::NotchError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MainsNotch {
    cascade: Cascade<MAX_NOTCHES>,
    rows: [[f64; 6]; MAX_NOTCHES],
    freqs_hz: [f64; MAX_NOTCHES],
    guard: InputGuard,
}

/// Harmonic frequencies `k·f0 < min(Nyquist, max_hz]`, validated; shared
/// with the chain, which packs the notches into its own cascade.
pub(crate) fn design_bank(
    mains: Mains,
    q: f64,
    rate_hz: f64,
    max_hz: Option<f64>,
    mut each: impl FnMut(f64, [f64; 6]),
) -> Result<usize, NotchError> {
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        return Err(NotchError::InvalidRate { rate_hz });
    }
    if !q.is_finite() || q <= 0.0 {
        return Err(NotchError::InvalidQ { q });
    }
    if let Some(m) = max_hz {
        if m.is_nan() || m <= 0.0 {
            return Err(NotchError::InvalidMaxFrequency { max_hz: m });
        }
    }
    let nyquist_hz = rate_hz / 2.0;
    let f0 = mains.hz();
    let limit = max_hz.unwrap_or(f64::INFINITY);
    // Count first so that an error leaves nothing half-built: harmonics
    // k·f0 strictly below Nyquist and at or below the limit. (Float-to-int
    // casts saturate, so an infinite limit is fine.)
    let below_nyquist = (libm::ceil(nyquist_hz / f0) as usize).saturating_sub(1);
    let below_limit = libm::floor(limit / f0) as usize;
    let needed = below_nyquist.min(below_limit);
    if needed > MAX_NOTCHES {
        return Err(NotchError::TooManyHarmonics { needed });
    }
    // The widest notch is the highest harmonic; refuse before building any.
    let top_hz = f0 * needed as f64;
    if needed > 0 && top_hz / q >= nyquist_hz {
        return Err(NotchError::BandwidthTooWide {
            hz: top_hz,
            q,
            nyquist_hz,
        });
    }
    for k in 1..=needed {
        let f = f0 * k as f64;
        each(f, iirnotch(f, q, rate_hz)?);
    }
    Ok(needed)
}

impl MainsNotch {
    /// Notches at `mains` and each harmonic below Nyquist and (if given) at
    /// or below `max_hz`, all with quality factor `q` (-3 dB width `f/q`).
    /// A rate at or below twice the mains frequency gives an empty bank.
    pub fn new(
        mains: Mains,
        q: f64,
        rate_hz: f64,
        max_hz: Option<f64>,
    ) -> Result<MainsNotch, NotchError> {
        let mut bank = MainsNotch {
            cascade: Cascade::new(),
            rows: [[0.0; 6]; MAX_NOTCHES],
            freqs_hz: [0.0; MAX_NOTCHES],
            guard: InputGuard::new(),
        };
        let mut i = 0usize;
        design_bank(mains, q, rate_hz, max_hz, |f, row| {
            if let (Some(r), Some(fr)) = (bank.rows.get_mut(i), bank.freqs_hz.get_mut(i)) {
                *r = row;
                *fr = f;
                bank.cascade.push(row_to_coefficients(&row));
                i += 1;
            }
        })?;
        Ok(bank)
    }

    /// Number of notches.
    pub fn len(&self) -> usize {
        self.cascade.len()
    }

    /// True when no harmonic fits below Nyquist (identity filter).
    pub fn is_empty(&self) -> bool {
        self.cascade.len() == 0
    }

    /// Notch centre frequencies, Hz, ascending.
    pub fn frequencies_hz(&self) -> &[f64] {
        &self.freqs_hz[..self.len().min(MAX_NOTCHES)]
    }

    /// The notch sections, scipy layout, in the order they run.
    pub fn sections(&self) -> &[[f64; 6]] {
        &self.rows[..self.len().min(MAX_NOTCHES)]
    }

    /// Filter one sample.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        self.cascade.run(x)
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

    /// Filter a block in place.
    pub fn process_in_place(&mut self, data: &mut [f64]) {
        for v in data.iter_mut() {
            *v = self.tick(*v);
        }
    }

    /// Back to the just-constructed state.
    pub fn reset(&mut self) {
        self.cascade.reset();
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
    fn harmonics_below_nyquist() {
        let n = MainsNotch::new(Mains::Hz60, 30.0, 250.0, None).unwrap();
        assert_eq!(n.frequencies_hz(), &[60.0, 120.0]);
        let n = MainsNotch::new(Mains::Hz50, 30.0, 2000.0, Some(450.0)).unwrap();
        assert_eq!(n.len(), 9);
        let n = MainsNotch::new(Mains::Hz50, 30.0, 100.0, None).unwrap();
        assert!(n.is_empty());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            MainsNotch::new(Mains::Hz50, 0.0, 1000.0, None),
            Err(NotchError::InvalidQ { .. })
        ));
        assert!(matches!(
            MainsNotch::new(Mains::Hz50, 30.0, f64::NAN, None),
            Err(NotchError::InvalidRate { .. })
        ));
        assert_eq!(
            MainsNotch::new(Mains::Hz50, 30.0, 10_000.0, None).err(),
            Some(NotchError::TooManyHarmonics { needed: 99 })
        );
        assert!(matches!(
            iirnotch(500.0, 30.0, 1000.0),
            Err(NotchError::InvalidFrequency { .. })
        ));
    }

    /// Pole radius sqrt(a2) < 1 for every accepted design, and the first
    /// refused one is exactly where the bandwidth reaches Nyquist.
    #[test]
    fn accepted_notches_are_stable() {
        for &rate in &[250.0, 1000.0, 2000.0] {
            for &q in &[0.1, 0.5, 0.9, 1.0, 2.0, 30.0] {
                for k in 1..40 {
                    let f = 25.0 * k as f64;
                    match iirnotch(f, q, rate) {
                        Ok(row) => {
                            assert!(f / q < rate / 2.0, "{f} Hz Q {q} at {rate}");
                            assert!(row[5].abs() < 1.0, "{f} Hz Q {q} at {rate}: a2 {}", row[5]);
                        }
                        Err(NotchError::BandwidthTooWide { .. }) => {
                            assert!(f / q >= rate / 2.0)
                        }
                        Err(NotchError::InvalidFrequency { .. }) => assert!(f >= rate / 2.0),
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
        assert_eq!(
            MainsNotch::new(Mains::Hz50, 0.5, 2000.0, None).err(),
            Some(NotchError::BandwidthTooWide {
                hz: 950.0,
                q: 0.5,
                nyquist_hz: 1000.0
            })
        );
        // the same Q is fine once the harmonics stop below the limit
        assert!(MainsNotch::new(Mains::Hz50, 0.5, 2000.0, Some(450.0)).is_ok());
    }
}
