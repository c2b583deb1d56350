//! Butterworth design as second-order sections, the same algorithm as
//! `scipy.signal.butter(N, Wn, btype, fs=fs, output="sos")`.
//!
//! The steps mirror scipy's `iirfilter` (scipy/signal/_filter_design.py),
//! in zero-pole-gain form throughout:
//!
//! 1. `buttap`: analog prototype poles `-exp(iπm/2N)`, `m = -N+1, -N+3, …,
//!    N-1`, no zeros, gain 1;
//! 2. normalize the edges to Nyquist (`Wn = f / (fs/2)`) and prewarp with
//!    `4·tan(π·Wn/2)` (scipy designs at `fs = 2` after normalizing, which is
//!    `2·fs·tan(π·f/fs)` in physical units);
//! 3. `lp2lp_zpk` / `lp2hp_zpk` / `lp2bp_zpk` / `lp2bs_zpk` (band edges give
//!    `wo = sqrt(w1·w2)`, `bw = w2 - w1`);
//! 4. `bilinear_zpk` at `fs = 2`;
//! 5. `zpk2sos` with `pairing='nearest'`: conjugate pairs merged with
//!    `_cplxreal`'s tolerance `100·ε`, the pole closest to the unit circle
//!    placed in the *last* section, each pole paired with its nearest zero,
//!    overall gain multiplied into the numerator of the *first* section.
//!
//! Ties are broken like numpy (`argmin`/`argsort` take the first index),
//! so section order and pairing match scipy, not just the response.

use core::fmt;

use super::complex::Complex;
use super::sos::{Sos, MAX_SECTIONS};

/// Lowest supported filter order.
pub const MIN_ORDER: u8 = 1;
/// Highest supported filter order (a band filter of order 8 has 16 poles,
/// i.e. [`MAX_SECTIONS`] sections).
pub const MAX_ORDER: u8 = 8;

/// Which band a filter passes, with its edge frequencies in Hz.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Band {
    /// Pass below `cutoff_hz` (scipy `btype="lowpass"`).
    LowPass {
        /// -3 dB frequency, Hz.
        cutoff_hz: f64,
    },
    /// Pass above `cutoff_hz` (scipy `btype="highpass"`).
    HighPass {
        /// -3 dB frequency, Hz.
        cutoff_hz: f64,
    },
    /// Pass between the edges (scipy `btype="bandpass"`).
    BandPass {
        /// Lower -3 dB edge, Hz.
        low_hz: f64,
        /// Upper -3 dB edge, Hz.
        high_hz: f64,
    },
    /// Reject between the edges (scipy `btype="bandstop"`).
    BandStop {
        /// Lower -3 dB edge, Hz.
        low_hz: f64,
        /// Upper -3 dB edge, Hz.
        high_hz: f64,
    },
}

impl Band {
    /// scipy's `btype` name for this band.
    pub const fn scipy_name(&self) -> &'static str {
        match self {
            Band::LowPass { .. } => "lowpass",
            Band::HighPass { .. } => "highpass",
            Band::BandPass { .. } => "bandpass",
            Band::BandStop { .. } => "bandstop",
        }
    }
}

/// Why [`butter`] refused a design.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum DesignError {
    /// Order outside `MIN_ORDER..=MAX_ORDER`.
    InvalidOrder {
        /// The order asked for.
        order: u8,
    },
    /// Sample rate not finite or not > 0.
    InvalidRate {
        /// The rate asked for, Hz.
        rate_hz: f64,
    },
    /// An edge frequency is NaN or infinite.
    NonFiniteFrequency,
    /// An edge frequency is <= 0 Hz.
    FrequencyNotPositive {
        /// The offending frequency, Hz.
        hz: f64,
    },
    /// An edge frequency is at or above Nyquist (`rate_hz / 2`).
    AboveNyquist {
        /// The offending frequency, Hz.
        hz: f64,
        /// Nyquist frequency, Hz.
        nyquist_hz: f64,
    },
    /// A band's lower edge is not below its upper edge.
    EdgesNotIncreasing {
        /// Lower edge, Hz.
        low_hz: f64,
        /// Upper edge, Hz.
        high_hz: f64,
    },
    /// The design produced a non-finite coefficient (extreme edges, e.g.
    /// a band narrower than double precision can represent).
    Degenerate,
}

impl fmt::Display for DesignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DesignError::InvalidOrder { order } => write!(
                f,
                "filter order {order} not supported (must be {MIN_ORDER}..={MAX_ORDER})"
            ),
            DesignError::InvalidRate { rate_hz } => {
                write!(
                    f,
                    "sample rate {rate_hz} Hz is not a positive finite number"
                )
            }
            DesignError::NonFiniteFrequency => f.write_str("filter frequency is NaN or infinite"),
            DesignError::FrequencyNotPositive { hz } => {
                write!(f, "filter frequency {hz} Hz must be > 0")
            }
            DesignError::AboveNyquist { hz, nyquist_hz } => write!(
                f,
                "filter frequency {hz} Hz must be below Nyquist ({nyquist_hz} Hz)"
            ),
            DesignError::EdgesNotIncreasing { low_hz, high_hz } => write!(
                f,
                "band edges must increase, got {low_hz} Hz .. {high_hz} Hz"
            ),
            DesignError::Degenerate => {
                f.write_str("filter design produced non-finite coefficients")
            }
        }
    }
}

impl core::error::Error for DesignError {}

/// Most roots any design handles: 2 × MAX_ORDER.
const CAP: usize = 2 * MAX_ORDER as usize;

/// Fixed-capacity, order-preserving list of complex roots.
#[derive(Clone, Copy)]
struct Roots {
    v: [Complex; CAP],
    n: usize,
}

impl Roots {
    const fn new() -> Roots {
        Roots {
            v: [Complex::ZERO; CAP],
            n: 0,
        }
    }

    fn push(&mut self, z: Complex) {
        if let Some(slot) = self.v.get_mut(self.n) {
            *slot = z;
            self.n += 1;
        }
    }

    fn as_slice(&self) -> &[Complex] {
        &self.v[..self.n.min(CAP)]
    }

    fn len(&self) -> usize {
        self.n
    }

    /// Remove and return element `i`, keeping the order (numpy `delete`).
    fn remove(&mut self, i: usize) -> Complex {
        let n = self.n.min(CAP);
        if i >= n {
            return Complex::ZERO;
        }
        let out = self.v[i];
        self.v.copy_within(i + 1..n, i);
        self.n = n - 1;
        out
    }

    fn count_real(&self) -> usize {
        self.as_slice().iter().filter(|z| z.is_real()).count()
    }

    fn prod<F: Fn(Complex) -> Complex>(&self, f: F) -> Complex {
        self.as_slice()
            .iter()
            .fold(Complex::ONE, |acc, &z| acc * f(z))
    }
}

/// Design a digital Butterworth filter of order `order` (1..=8) as
/// second-order sections, matching
/// `scipy.signal.butter(order, Wn, btype, fs=rate_hz, output="sos")`.
///
/// For band-pass and band-stop, `order` is scipy's `N`: the filter has
/// `2·N` poles and `N` sections.
///
/// ```
/// use levator_core::conditioning::{butter, Band};
/// // scipy: butter(2, 100, 'lowpass', fs=1000, output='sos')
/// let sos = butter(2, Band::LowPass { cutoff_hz: 100.0 }, 1000.0)?;
/// let s = sos.sections()[0];
/// let want = [0.06745527388907, 0.13491054777814, 0.06745527388907,
///             1.0, -1.14298050253990, 0.41280159809619];
/// for (a, b) in s.iter().zip(want) {
///     assert!((a - b).abs() < 1e-12);
/// }
/// # Ok::<(), levator_core::conditioning::DesignError>(())
/// ```
pub fn butter(order: u8, band: Band, rate_hz: f64) -> Result<Sos, DesignError> {
    if !(MIN_ORDER..=MAX_ORDER).contains(&order) {
        return Err(DesignError::InvalidOrder { order });
    }
    if !rate_hz.is_finite() || rate_hz <= 0.0 {
        return Err(DesignError::InvalidRate { rate_hz });
    }
    let nyquist_hz = rate_hz / 2.0;
    let check = |hz: f64| -> Result<f64, DesignError> {
        if !hz.is_finite() {
            return Err(DesignError::NonFiniteFrequency);
        }
        if hz <= 0.0 {
            return Err(DesignError::FrequencyNotPositive { hz });
        }
        // scipy: Wn = Wn / (fs/2); requires 0 < Wn < 1.
        let wn = hz / nyquist_hz;
        if wn >= 1.0 {
            return Err(DesignError::AboveNyquist { hz, nyquist_hz });
        }
        Ok(wn)
    };
    // scipy: fs = 2.0; warped = 2 * fs * tan(pi * Wn / fs)
    let warp = |wn: f64| 2.0 * 2.0 * libm::tan(core::f64::consts::PI * wn / 2.0);

    let n = usize::from(order);
    // buttap
    let mut proto = Roots::new();
    for i in 0..n {
        let m = -(n as f64) + 1.0 + 2.0 * i as f64;
        let theta = core::f64::consts::PI * m / (2.0 * n as f64);
        // -exp(1j*theta)
        proto.push(-Complex::new(libm::cos(theta), libm::sin(theta)));
    }

    let mut z = Roots::new();
    let mut p = Roots::new();
    let k: f64;
    match band {
        Band::LowPass { cutoff_hz } => {
            let wo = warp(check(cutoff_hz)?);
            for &pp in proto.as_slice() {
                p.push(pp.scale(wo));
            }
            k = libm::pow(wo, n as f64);
        }
        Band::HighPass { cutoff_hz } => {
            let wo = warp(check(cutoff_hz)?);
            for &pp in proto.as_slice() {
                p.push(Complex::real(wo) / pp);
            }
            for _ in 0..n {
                z.push(Complex::ZERO);
            }
            // k * real(prod(-z) / prod(-p)); prototype has no zeros.
            k = (Complex::ONE / proto.prod(|x| -x)).re;
        }
        Band::BandPass { low_hz, high_hz } | Band::BandStop { low_hz, high_hz } => {
            let w1 = check(low_hz)?;
            let w2 = check(high_hz)?;
            if w1 >= w2 {
                return Err(DesignError::EdgesNotIncreasing { low_hz, high_hz });
            }
            let (lo, hi) = (warp(w1), warp(w2));
            let bw = hi - lo;
            let wo = libm::sqrt(lo * hi);
            let wo2 = Complex::real(wo * wo);
            let stop = matches!(band, Band::BandStop { .. });
            let mut base = Roots::new();
            for &pp in proto.as_slice() {
                base.push(if stop {
                    // (bw/2) / p
                    Complex::real(bw / 2.0) / pp
                } else {
                    // p * bw/2  (numpy evaluates (p * bw) / 2)
                    pp.scale(bw).scale(0.5)
                });
            }
            for &b in base.as_slice() {
                p.push(b + (b * b - wo2).sqrt());
            }
            for &b in base.as_slice() {
                p.push(b - (b * b - wo2).sqrt());
            }
            if stop {
                for _ in 0..n {
                    z.push(Complex::new(0.0, wo));
                }
                for _ in 0..n {
                    z.push(Complex::new(0.0, -wo));
                }
                k = (Complex::ONE / proto.prod(|x| -x)).re;
            } else {
                for _ in 0..n {
                    z.push(Complex::ZERO);
                }
                k = libm::pow(bw, n as f64);
            }
        }
    }

    // bilinear_zpk at fs = 2
    let fs2 = Complex::real(4.0);
    let degree = p.len().saturating_sub(z.len());
    let k = k * (z.prod(|x| fs2 - x) / p.prod(|x| fs2 - x)).re;
    let mut zd = Roots::new();
    let mut pd = Roots::new();
    for &x in z.as_slice() {
        zd.push((fs2 + x) / (fs2 - x));
    }
    for _ in 0..degree {
        zd.push(Complex::real(-1.0));
    }
    for &x in p.as_slice() {
        pd.push((fs2 + x) / (fs2 - x));
    }

    let sos = zpk2sos(zd, pd, k)?;
    if sos
        .sections()
        .iter()
        .any(|row| row.iter().any(|c| !c.is_finite()))
    {
        return Err(DesignError::Degenerate);
    }
    Ok(sos)
}

/// numpy `finfo(float64).eps`.
const EPS: f64 = f64::EPSILON;

/// scipy `_cplxreal` followed by `concatenate((zc, zr))`: conjugate pairs
/// merged into one element with positive imaginary part (sorted by real
/// part, then |imag|), then the real elements (imag exactly 0) sorted.
fn cplxreal(input: &Roots) -> Result<Roots, DesignError> {
    let tol = 100.0 * EPS;
    let mut z = *input;
    let n = z.len();
    // lexsort((abs(imag), real)): stable sort by real, then |imag|.
    // Insertion sort is stable and n <= 16.
    {
        let v = &mut z.v[..n];
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && key_less(v[j], v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
    }
    let mut zr = Roots::new();
    let mut zp = Roots::new();
    let mut zn = Roots::new();
    for &x in z.as_slice() {
        if libm::fabs(x.im) <= tol * x.abs() {
            zr.push(Complex::real(x.re));
        } else if x.im > 0.0 {
            zp.push(x);
        } else {
            zn.push(x);
        }
    }
    if zp.len() != zn.len() {
        return Err(DesignError::Degenerate);
    }
    // Runs of (approximately) equal real part are re-sorted by |imag|.
    let m = zp.len();
    let mut start = 0;
    while start < m {
        let mut stop = start;
        while stop + 1 < m && (zp.v[stop + 1].re - zp.v[stop].re) <= tol * zp.v[stop].abs() {
            stop += 1;
        }
        if stop > start {
            sort_by_abs_imag(&mut zp.v[start..=stop]);
            sort_by_abs_imag(&mut zn.v[start..=stop]);
        }
        start = stop + 1;
    }
    let mut out = Roots::new();
    for (a, b) in zp.as_slice().iter().zip(zn.as_slice()) {
        if (*a - b.conj()).abs() > tol * b.abs() {
            return Err(DesignError::Degenerate);
        }
        let c = (*a + b.conj()).scale(0.5);
        out.push(c);
    }
    for &x in zr.as_slice() {
        out.push(x);
    }
    Ok(out)
}

fn key_less(a: Complex, b: Complex) -> bool {
    a.re < b.re || (a.re == b.re && libm::fabs(a.im) < libm::fabs(b.im))
}

fn sort_by_abs_imag(v: &mut [Complex]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && libm::fabs(v[j].im) < libm::fabs(v[j - 1].im) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// numpy `argmin(abs(1 - abs(p)))` over the given indices: first minimum.
fn idx_worst(p: &Roots, only_real: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in p.as_slice().iter().enumerate() {
        if only_real && !x.is_real() {
            continue;
        }
        let d = libm::fabs(1.0 - x.abs());
        match best {
            Some((_, bd)) if d < bd => best = Some((i, d)),
            None => best = Some((i, d)),
            Some(_) => {}
        }
    }
    best.map(|(i, _)| i)
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Complex,
    Any,
}

/// scipy `_nearest_real_complex_idx`: the closest element of the wanted
/// kind (ties: lowest index, as a stable argsort).
fn nearest(z: &Roots, to: Complex, which: Which) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in z.as_slice().iter().enumerate() {
        let ok = match which {
            Which::Any => true,
            Which::Real => x.is_real(),
            Which::Complex => !x.is_real(),
        };
        if !ok {
            continue;
        }
        let d = (*x - to).abs();
        match best {
            Some((_, bd)) if d < bd => best = Some((i, d)),
            None => best = Some((i, d)),
            Some(_) => {}
        }
    }
    best.map(|(i, _)| i)
}

/// numpy `poly` of up to two roots, real part (all our sections have
/// conjugate or real root pairs), right-aligned into 3 slots.
fn poly3(roots: &[Complex]) -> [f64; 3] {
    match roots {
        [] => [0.0, 0.0, 1.0],
        [r] => [0.0, 1.0, (-*r).re],
        [r1, r2, ..] => {
            // convolve([1, -r1], [1, -r2]) = [1, -r2 + -r1, (-r1)(-r2)]
            let c1 = -*r2 + -*r1;
            let c2 = (-*r1) * (-*r2);
            [1.0, c1.re, c2.re]
        }
    }
}

fn section(zs: &[Complex], ps: &[Complex]) -> [f64; 6] {
    let b = poly3(zs);
    let a = poly3(ps);
    [b[0], b[1], b[2], a[0], a[1], a[2]]
}

/// scipy `zpk2sos(z, p, k, pairing='nearest')` for digital filters.
fn zpk2sos(z_in: Roots, p_in: Roots, k: f64) -> Result<Sos, DesignError> {
    let mut z = z_in;
    let mut p = p_in;
    let mut sos = Sos::empty();
    if z.len() == 0 && p.len() == 0 {
        sos.push_row([k, 0.0, 0.0, 1.0, 0.0, 0.0]);
        return Ok(sos);
    }
    while p.len() < z.len() {
        p.push(Complex::ZERO);
    }
    while z.len() < p.len() {
        z.push(Complex::ZERO);
    }
    let n_sections = p.len().div_ceil(2);
    if p.len() % 2 == 1 {
        p.push(Complex::ZERO);
        z.push(Complex::ZERO);
    }
    if n_sections > MAX_SECTIONS || p.len() > CAP {
        return Err(DesignError::Degenerate);
    }
    let mut z = cplxreal(&z)?;
    let mut p = cplxreal(&p)?;

    let mut rows = [[0.0f64; 6]; MAX_SECTIONS];
    for si in (0..n_sections).rev() {
        let p1_idx = idx_worst(&p, false).ok_or(DesignError::Degenerate)?;
        let p1 = p.remove(p1_idx);
        let real_p_left = p.count_real();
        let row = if p1.is_real() && real_p_left == 0 {
            // Special case 1: last remaining real pole.
            let zi = nearest(&z, p1, Which::Real).ok_or(DesignError::Degenerate)?;
            let z1 = z.remove(zi);
            section(&[z1, Complex::ZERO], &[p1, Complex::ZERO])
        } else if p.len() + 1 == z.len() && !p1.is_real() && real_p_left == 1 && z.count_real() == 1
        {
            // Special case 2: must pair with a complex zero.
            let zi = nearest(&z, p1, Which::Complex).ok_or(DesignError::Degenerate)?;
            let z1 = z.remove(zi);
            section(&[z1, z1.conj()], &[p1, p1.conj()])
        } else {
            let p2 = if p1.is_real() {
                let i = idx_worst(&p, true).ok_or(DesignError::Degenerate)?;
                p.remove(i)
            } else {
                p1.conj()
            };
            if z.len() > 0 {
                let zi = nearest(&z, p1, Which::Any).ok_or(DesignError::Degenerate)?;
                let z1 = z.remove(zi);
                if !z1.is_real() {
                    section(&[z1, z1.conj()], &[p1, p2])
                } else if z.len() > 0 {
                    let zi2 = nearest(&z, p1, Which::Real).ok_or(DesignError::Degenerate)?;
                    let z2 = z.remove(zi2);
                    section(&[z1, z2], &[p1, p2])
                } else {
                    section(&[z1], &[p1, p2])
                }
            } else {
                section(&[], &[p1, p2])
            }
        };
        rows[si] = row;
    }
    if p.len() != 0 || z.len() != 0 {
        return Err(DesignError::Degenerate);
    }
    for row in rows.iter().take(n_sections) {
        sos.push_row(*row);
    }
    // put gain in first sos
    if let Some(first) = sos.rows_mut().first_mut() {
        first[0] *= k;
        first[1] *= k;
        first[2] *= k;
    }
    Ok(sos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_parameters() {
        let lp = Band::LowPass { cutoff_hz: 10.0 };
        assert_eq!(
            butter(0, lp, 100.0),
            Err(DesignError::InvalidOrder { order: 0 })
        );
        assert_eq!(
            butter(9, lp, 100.0),
            Err(DesignError::InvalidOrder { order: 9 })
        );
        assert!(matches!(
            butter(2, lp, f64::NAN),
            Err(DesignError::InvalidRate { .. })
        ));
        assert!(matches!(
            butter(2, lp, 0.0),
            Err(DesignError::InvalidRate { .. })
        ));
        assert!(matches!(
            butter(2, Band::LowPass { cutoff_hz: 50.0 }, 100.0),
            Err(DesignError::AboveNyquist { .. })
        ));
        assert!(matches!(
            butter(
                2,
                Band::HighPass {
                    cutoff_hz: f64::NAN
                },
                100.0
            ),
            Err(DesignError::NonFiniteFrequency)
        ));
        assert!(matches!(
            butter(2, Band::HighPass { cutoff_hz: -1.0 }, 100.0),
            Err(DesignError::FrequencyNotPositive { .. })
        ));
        assert!(matches!(
            butter(
                2,
                Band::BandPass {
                    low_hz: 20.0,
                    high_hz: 20.0
                },
                100.0
            ),
            Err(DesignError::EdgesNotIncreasing { .. })
        ));
        assert!(matches!(
            butter(
                2,
                Band::BandStop {
                    low_hz: 20.0,
                    high_hz: 60.0
                },
                100.0
            ),
            Err(DesignError::AboveNyquist { .. })
        ));
    }

    #[test]
    fn section_counts() {
        for order in 1..=8u8 {
            let lp = butter(order, Band::LowPass { cutoff_hz: 10.0 }, 100.0).unwrap();
            assert_eq!(lp.len(), usize::from(order).div_ceil(2));
            let bp = butter(
                order,
                Band::BandPass {
                    low_hz: 5.0,
                    high_hz: 20.0,
                },
                100.0,
            )
            .unwrap();
            assert_eq!(bp.len(), usize::from(order));
        }
    }
}
