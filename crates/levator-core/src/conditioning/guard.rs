//! The input guard: what every streaming stage does with NaN, ±∞ and
//! absurdly large samples.
//!
//! Policy (the same in [`SosFilter`](super::SosFilter),
//! [`MainsNotch`](super::MainsNotch), [`Chain`](super::Chain) and the
//! envelopes in [`crate::features::envelope`]):
//!
//! - a sample is *accepted* when `|x| <= INPUT_LIMIT` (this is false for
//!   NaN and ±∞);
//! - a rejected sample is replaced by the last accepted sample (0.0 before
//!   the first one, i.e. "hold last good value"), so filter state stays
//!   finite and the output stays continuous;
//! - every rejected sample is counted; the count is exposed as
//!   `rejected_inputs()` and is cleared only by `reset()`.
//!
//! Downstream code (detectors) should watch the counter and report a
//! `signal_quality` event when it grows: the guard keeps the numbers sane,
//! it does not make the data good.

/// Largest accepted input magnitude. Physical samples (µV, cmH2O, g) are
/// many orders of magnitude below this; anything above is treated like a
/// non-finite sample so that filter state can never overflow to ±∞.
pub const INPUT_LIMIT: f64 = 1e100;

/// Hold-last-good replacement of non-finite / out-of-range samples, with a
/// counter. See the module docs for the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct InputGuard {
    last_good: f64,
    rejected: u64,
}

impl InputGuard {
    /// A guard that has seen nothing yet (holds 0.0).
    pub(crate) const fn new() -> InputGuard {
        InputGuard {
            last_good: 0.0,
            rejected: 0,
        }
    }

    /// Return `x` if it is acceptable, else the last accepted value.
    #[inline(always)]
    pub(crate) fn admit(&mut self, x: f64) -> f64 {
        if libm::fabs(x) <= INPUT_LIMIT {
            self.last_good = x;
            x
        } else {
            self.rejected = self.rejected.saturating_add(1);
            self.last_good
        }
    }

    /// Number of samples replaced since construction or the last reset.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Forget the held value and the count.
    pub(crate) fn reset(&mut self) {
        *self = InputGuard::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_last_good_and_counts() {
        let mut g = InputGuard::new();
        assert_eq!(g.admit(f64::NAN), 0.0);
        assert_eq!(g.admit(2.5), 2.5);
        assert_eq!(g.admit(f64::NAN), 2.5);
        assert_eq!(g.admit(f64::INFINITY), 2.5);
        assert_eq!(g.admit(f64::NEG_INFINITY), 2.5);
        assert_eq!(g.admit(1e300), 2.5);
        assert_eq!(g.admit(-INPUT_LIMIT), -INPUT_LIMIT);
        assert_eq!(g.rejected(), 5);
        g.reset();
        assert_eq!(g.rejected(), 0);
        assert_eq!(g.admit(f64::NAN), 0.0);
    }
}
