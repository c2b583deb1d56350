//! Second-order sections: the coefficient container [`Sos`] and the
//! streaming [`SosFilter`] that runs them with `biquad`'s transposed
//! direct form II.

use core::fmt;

use biquad::{Biquad, Coefficients, DirectForm2Transposed};

use super::butterworth::{butter, Band, DesignError};
use super::guard::InputGuard;

/// Maximum number of second-order sections in one [`Sos`] (enough for an
/// 8th-order band-pass or band-stop Butterworth filter). Fixed so that
/// filters need no heap.
pub const MAX_SECTIONS: usize = 8;

/// A cascade of up to [`MAX_SECTIONS`] second-order sections, in scipy's
/// layout: each row is `[b0, b1, b2, a0, a1, a2]` with `a0 == 1`, the first
/// row carries the overall gain, and rows run in order (row 0 first), the
/// same as `scipy.signal.sosfilt`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sos {
    rows: [[f64; 6]; MAX_SECTIONS],
    len: usize,
}

/// Why a set of raw sections was refused by [`Sos::from_sections`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SosError {
    /// More rows than [`MAX_SECTIONS`].
    TooManySections {
        /// Rows supplied.
        given: usize,
    },
    /// A coefficient is NaN or infinite.
    NonFinite,
    /// `a0` of some row is zero, so the section cannot be normalized.
    ZeroLeadingDenominator,
}

impl fmt::Display for SosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SosError::TooManySections { given } => write!(
                f,
                "{given} second-order sections given, at most {MAX_SECTIONS} supported"
            ),
            SosError::NonFinite => f.write_str("a section coefficient is NaN or infinite"),
            SosError::ZeroLeadingDenominator => {
                f.write_str("a section has a0 == 0 and cannot be normalized")
            }
        }
    }
}

impl core::error::Error for SosError {}

impl Sos {
    /// An empty cascade (passes samples through unchanged).
    pub const fn empty() -> Sos {
        Sos {
            rows: [[0.0; 6]; MAX_SECTIONS],
            len: 0,
        }
    }

    /// Build from raw rows `[b0, b1, b2, a0, a1, a2]` (e.g. copied from
    /// scipy). Each row is normalized so that `a0 == 1`.
    ///
    /// ```
    /// use levator_core::conditioning::Sos;
    /// let sos = Sos::from_sections(&[[2.0, 0.0, 0.0, 2.0, -1.0, 0.0]])?;
    /// assert_eq!(sos.sections()[0], [1.0, 0.0, 0.0, 1.0, -0.5, 0.0]);
    /// # Ok::<(), levator_core::conditioning::SosError>(())
    /// ```
    pub fn from_sections(rows: &[[f64; 6]]) -> Result<Sos, SosError> {
        if rows.len() > MAX_SECTIONS {
            return Err(SosError::TooManySections { given: rows.len() });
        }
        let mut sos = Sos::empty();
        for row in rows {
            if row.iter().any(|c| !c.is_finite()) {
                return Err(SosError::NonFinite);
            }
            if row[3] == 0.0 {
                return Err(SosError::ZeroLeadingDenominator);
            }
            let a0 = row[3];
            let normalized = [
                row[0] / a0,
                row[1] / a0,
                row[2] / a0,
                1.0,
                row[4] / a0,
                row[5] / a0,
            ];
            if normalized.iter().any(|c| !c.is_finite()) {
                return Err(SosError::NonFinite);
            }
            sos.push_row(normalized);
        }
        Ok(sos)
    }

    /// Append a normalized row; returns false (and changes nothing) when full.
    pub(crate) fn push_row(&mut self, row: [f64; 6]) -> bool {
        match self.rows.get_mut(self.len) {
            Some(slot) => {
                *slot = row;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Mutable access to the rows in use (design code places sections).
    pub(crate) fn rows_mut(&mut self) -> &mut [[f64; 6]] {
        let len = self.len.min(MAX_SECTIONS);
        &mut self.rows[..len]
    }

    /// The sections in use, scipy layout `[b0, b1, b2, a0, a1, a2]`.
    pub fn sections(&self) -> &[[f64; 6]] {
        let len = self.len.min(MAX_SECTIONS);
        &self.rows[..len]
    }

    /// Number of sections.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no sections (identity filter).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sections as `biquad` coefficients (`a0` dropped, it is 1).
    pub fn coefficients(&self) -> impl Iterator<Item = Coefficients<f64>> + '_ {
        self.sections().iter().map(row_to_coefficients)
    }
}

impl Default for Sos {
    fn default() -> Sos {
        Sos::empty()
    }
}

pub(crate) fn row_to_coefficients(r: &[f64; 6]) -> Coefficients<f64> {
    Coefficients {
        a1: r[4],
        a2: r[5],
        b0: r[0],
        b1: r[1],
        b2: r[2],
    }
}

/// The pass-through section.
pub(crate) const IDENTITY: Coefficients<f64> = Coefficients {
    a1: 0.0,
    a2: 0.0,
    b0: 1.0,
    b1: 0.0,
    b2: 0.0,
};

/// A fixed-capacity run of DF2T biquads executed in order (no guard: the
/// owner guards the input). Shared by [`SosFilter`], the notch bank and
/// the chain, which packs all its filters into one cascade.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cascade<const N: usize> {
    stages: [DirectForm2Transposed<f64>; N],
    len: usize,
}

impl<const N: usize> Cascade<N> {
    pub(crate) const fn new() -> Cascade<N> {
        Cascade {
            stages: [DirectForm2Transposed::<f64>::new(IDENTITY); N],
            len: 0,
        }
    }

    /// Append a section; false when the cascade is full.
    pub(crate) fn push(&mut self, c: Coefficients<f64>) -> bool {
        match self.stages.get_mut(self.len) {
            Some(slot) => {
                *slot = DirectForm2Transposed::<f64>::new(c);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Append every section of `sos`; false when it does not fit (the
    /// cascade is then left unchanged).
    pub(crate) fn push_sos(&mut self, sos: &Sos) -> bool {
        if self.len + sos.len() > N {
            return false;
        }
        sos.coefficients().all(|c| self.push(c))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The sections in use, in run order (with their state).
    pub(crate) fn stages_mut(&mut self) -> &mut [DirectForm2Transposed<f64>] {
        let len = self.len.min(N);
        &mut self.stages[..len]
    }

    /// Run one sample through all sections in order.
    #[inline(always)]
    pub(crate) fn run(&mut self, x: f64) -> f64 {
        let mut y = x;
        for stage in self.stages.iter_mut().take(self.len) {
            y = stage.run(y);
        }
        y
    }

    /// Zero every section's state (coefficients kept).
    pub(crate) fn reset(&mut self) {
        for stage in self.stages.iter_mut() {
            stage.reset_state();
        }
    }
}

/// A streaming cascade of second-order sections, transposed direct form II
/// (`biquad::DirectForm2Transposed`), state carried across calls.
///
/// Non-finite inputs are handled by the [input guard](super::guard).
///
/// ```
/// use levator_core::conditioning::{Band, SosFilter};
/// let mut lp = SosFilter::butter(4, Band::LowPass { cutoff_hz: 5.0 }, 100.0)?;
/// let mut y = 0.0;
/// for _ in 0..500 {
///     y = lp.tick(1.0);
/// }
/// assert!((y - 1.0).abs() < 1e-9); // unity DC gain
/// # Ok::<(), levator_core::conditioning::DesignError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SosFilter {
    sos: Sos,
    cascade: Cascade<MAX_SECTIONS>,
    guard: InputGuard,
}

impl SosFilter {
    /// A filter running `sos`, with zero initial state.
    pub fn new(sos: &Sos) -> SosFilter {
        let mut cascade = Cascade::new();
        // Cannot fail: an Sos holds at most MAX_SECTIONS rows.
        let _ = cascade.push_sos(sos);
        SosFilter {
            sos: *sos,
            cascade,
            guard: InputGuard::new(),
        }
    }

    /// Design a Butterworth filter with [`butter`] and run it.
    pub fn butter(order: u8, band: Band, rate_hz: f64) -> Result<SosFilter, DesignError> {
        Ok(SosFilter::new(&butter(order, band, rate_hz)?))
    }

    /// Filter one sample.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let x = self.guard.admit(x);
        self.cascade.run(x)
    }

    /// Filter a block: `output[i] = tick(input[i])` for the first
    /// `min(input.len(), output.len())` samples; returns that count.
    /// Samples beyond it are not consumed.
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

    /// Back to the just-constructed state (zero state, counter cleared).
    pub fn reset(&mut self) {
        self.cascade.reset();
        self.guard.reset();
    }

    /// The coefficients being run.
    pub fn sos(&self) -> &Sos {
        &self.sos
    }

    /// Inputs replaced by the guard (NaN, ±∞, |x| > `INPUT_LIMIT`) since
    /// construction or the last [`reset`](Self::reset).
    pub fn rejected_inputs(&self) -> u64 {
        self.guard.rejected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_sections_validates() {
        let row = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(
            Sos::from_sections(&[row; MAX_SECTIONS + 1]),
            Err(SosError::TooManySections {
                given: MAX_SECTIONS + 1
            })
        );
        assert_eq!(
            Sos::from_sections(&[[f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0]]),
            Err(SosError::NonFinite)
        );
        assert_eq!(
            Sos::from_sections(&[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]),
            Err(SosError::ZeroLeadingDenominator)
        );
        assert_eq!(
            Sos::from_sections(&[[1.0, 0.0, 0.0, 1e-320, 1.0, 0.0]]),
            Err(SosError::NonFinite)
        );
        assert_eq!(
            Sos::from_sections(&[row; MAX_SECTIONS]).map(|s| s.len()),
            Ok(8)
        );
        assert!(Sos::from_sections(&[]).is_ok_and(|s| s.is_empty()));
    }

    #[test]
    fn empty_filter_is_identity_and_guarded() {
        let mut f = SosFilter::new(&Sos::empty());
        assert_eq!(f.tick(3.5), 3.5);
        assert_eq!(f.tick(f64::NAN), 3.5);
        assert_eq!(f.rejected_inputs(), 1);
        f.reset();
        assert_eq!(f.rejected_inputs(), 0);
        assert_eq!(f.tick(f64::INFINITY), 0.0);
    }
}
