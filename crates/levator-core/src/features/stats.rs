//! Running statistics: mean, sample SD and peak of a stream, in O(1)
//! memory (Welford's algorithm). Used by the Glazer assessment and by
//! session summaries; non-finite values are ignored and not counted.

/// Running count, mean, sample standard deviation and peak (Welford).
///
/// ```
/// use levator_core::features::stats::RunningStats;
/// let mut s = RunningStats::new();
/// for x in [2.0, 4.0, f64::NAN, 6.0] {
///     s.push(x);
/// }
/// assert_eq!(s.count(), 3);
/// assert_eq!(s.mean(), Some(4.0));
/// assert_eq!(s.sd(), Some(2.0));
/// assert_eq!(s.peak(), Some(6.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunningStats {
    n: u64,
    mean: f64,
    m2: f64,
    peak: f64,
}

impl RunningStats {
    /// Nothing seen yet.
    pub const fn new() -> RunningStats {
        RunningStats {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            peak: 0.0,
        }
    }

    /// Adds one value; NaN and ±∞ are ignored.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        if self.n == 1 || x > self.peak {
            self.peak = x;
        }
    }

    /// How many finite values were added.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean, once a value was added.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Sample standard deviation (n - 1), once two values were added.
    pub fn sd(&self) -> Option<f64> {
        (self.n > 1).then(|| libm::sqrt(self.m2 / (self.n - 1) as f64))
    }

    /// Largest value, once a value was added.
    pub fn peak(&self) -> Option<f64> {
        (self.n > 0).then_some(self.peak)
    }
}
