//! Minimal complex arithmetic for filter design (`no_std`, math via `libm`).
//!
//! Only what the Butterworth design needs: the four operations, conjugate,
//! modulus and the principal square root. Design runs once at construction,
//! so clarity wins over speed here.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// A complex number `re + i·im` in double precision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Complex {
    pub(crate) re: f64,
    pub(crate) im: f64,
}

impl Complex {
    pub(crate) const ZERO: Complex = Complex { re: 0.0, im: 0.0 };
    pub(crate) const ONE: Complex = Complex { re: 1.0, im: 0.0 };

    pub(crate) const fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }

    pub(crate) const fn real(re: f64) -> Complex {
        Complex { re, im: 0.0 }
    }

    pub(crate) fn conj(self) -> Complex {
        Complex::new(self.re, -self.im)
    }

    /// Modulus `|z|` (overflow-safe via `hypot`).
    pub(crate) fn abs(self) -> f64 {
        libm::hypot(self.re, self.im)
    }

    /// Multiply by a real scalar (numpy's complex * float: both parts scaled).
    pub(crate) fn scale(self, s: f64) -> Complex {
        Complex::new(self.re * s, self.im * s)
    }

    /// True when the imaginary part is exactly zero (numpy's `isreal`).
    pub(crate) fn is_real(self) -> bool {
        self.im == 0.0
    }

    /// Principal square root (branch cut on the negative real axis, the sign
    /// of a zero imaginary part selects the side, as C99 `csqrt`).
    pub(crate) fn sqrt(self) -> Complex {
        if self.re == 0.0 && self.im == 0.0 {
            return Complex::new(0.0, self.im);
        }
        let t = libm::sqrt((libm::fabs(self.re) + self.abs()) * 0.5);
        if self.re >= 0.0 {
            Complex::new(t, self.im / (2.0 * t))
        } else {
            Complex::new(libm::fabs(self.im) / (2.0 * t), libm::copysign(t, self.im))
        }
    }
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

impl Div for Complex {
    type Output = Complex;
    /// Smith's algorithm (as numpy), robust against overflow.
    fn div(self, o: Complex) -> Complex {
        if libm::fabs(o.re) >= libm::fabs(o.im) {
            if o.re == 0.0 && o.im == 0.0 {
                return Complex::new(self.re / o.re, self.im / o.re);
            }
            let r = o.im / o.re;
            let d = o.re + o.im * r;
            Complex::new((self.re + self.im * r) / d, (self.im - self.re * r) / d)
        } else {
            let r = o.re / o.im;
            let d = o.re * r + o.im;
            Complex::new((self.re * r + self.im) / d, (self.im * r - self.re) / d)
        }
    }
}

impl Neg for Complex {
    type Output = Complex;
    fn neg(self) -> Complex {
        Complex::new(-self.re, -self.im)
    }
}

#[cfg(test)]
mod tests {
    use super::Complex;

    fn close(a: Complex, b: Complex) -> bool {
        (a - b).abs() <= 1e-15 * (1.0 + b.abs())
    }

    #[test]
    fn arithmetic_identities() {
        let a = Complex::new(1.5, -2.0);
        let b = Complex::new(-0.25, 3.0);
        assert!(close((a * b) / b, a));
        assert!(close((a + b) - b, a));
        assert!(close(a * a.conj(), Complex::real(a.abs() * a.abs())));
        assert!(close(-a + a, Complex::ZERO));
        assert!(close(
            Complex::ONE / Complex::new(0.0, 1.0),
            Complex::new(0.0, -1.0)
        ));
    }

    #[test]
    fn principal_sqrt() {
        for z in [
            Complex::new(4.0, 0.0),
            Complex::new(-4.0, 0.0),
            Complex::new(-4.0, -0.0),
            Complex::new(3.0, 4.0),
            Complex::new(-3.0, -4.0),
            Complex::new(0.0, 2.0),
        ] {
            let s = z.sqrt();
            assert!(close(s * s, z), "{z:?} -> {s:?}");
            assert!(s.re >= 0.0);
        }
        assert_eq!(Complex::new(-4.0, 0.0).sqrt(), Complex::new(0.0, 2.0));
        assert_eq!(Complex::new(-4.0, -0.0).sqrt(), Complex::new(0.0, -2.0));
    }
}
