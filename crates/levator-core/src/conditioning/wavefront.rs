//! Block execution of a biquad cascade as a *wavefront*: at step `n`,
//! section `k` filters sample `n - k`, so the `W` sections of one step are
//! independent of each other and run as SIMD lanes.
//!
//! Sample by sample, a cascade of `W` transposed-direct-form-II biquads is
//! a chain of `W` dependent multiply-adds per sample, and a scalar
//! instruction per coefficient: 14 sections (the 1 kHz EMG chain) cost
//! about 20 ns per sample on this project's machine. Skewed in time, step
//! `n` takes section `k`'s input from section `k - 1`'s output of step
//! `n - 1` (the same sample, one section further), a one-lane shift, and
//! every section does its own update on its own lane. Each lane performs
//! exactly the scalar operations of `biquad::DirectForm2Transposed::run`
//! in the same order (no fused multiply-add), so the output is
//! **bit-identical** to running the sections one after the other, sample
//! by sample (tested against [`Chain::tick`](super::Chain::tick)).
//!
//! A block of `B` samples takes `B + W - 1` steps: during the first and
//! last `W - 1` steps some lanes have no sample yet (or any more) and keep
//! their state unchanged (a masked step). The state left behind is the
//! cascade's state after the last sample, exactly as sample by sample, so
//! the block API and the per-sample API can be mixed freely.

use biquad::{Coefficients, DirectForm2Transposed};

/// Longest cascade run as a wavefront (sections); longer ones run sample by
/// sample. 24 = the 2 kHz EMG chain (high-pass, 4 band-pass sections, 19
/// mains notches).
pub(crate) const MAX_WAVEFRONT: usize = 24;

/// Shortest cascade worth a wavefront: with fewer sections the dependent
/// chain per sample is short and the scalar loop is as fast.
pub(crate) const MIN_WAVEFRONT: usize = 4;

/// The coefficients of a cascade, one array per coefficient
/// (structure of arrays: lane `k` = section `k`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wavefront {
    b0: [f64; MAX_WAVEFRONT],
    b1: [f64; MAX_WAVEFRONT],
    b2: [f64; MAX_WAVEFRONT],
    a1: [f64; MAX_WAVEFRONT],
    a2: [f64; MAX_WAVEFRONT],
    len: usize,
}

impl Wavefront {
    /// The lanes of `sections`, or `None` when the cascade is too short or
    /// too long for a wavefront.
    pub(crate) fn new(sections: &[Coefficients<f64>]) -> Option<Wavefront> {
        if !(MIN_WAVEFRONT..=MAX_WAVEFRONT).contains(&sections.len()) {
            return None;
        }
        let mut l = Wavefront {
            b0: [0.0; MAX_WAVEFRONT],
            b1: [0.0; MAX_WAVEFRONT],
            b2: [0.0; MAX_WAVEFRONT],
            a1: [0.0; MAX_WAVEFRONT],
            a2: [0.0; MAX_WAVEFRONT],
            len: sections.len(),
        };
        for (k, c) in sections.iter().enumerate() {
            l.b0[k] = c.b0;
            l.b1[k] = c.b1;
            l.b2[k] = c.b2;
            l.a1[k] = c.a1;
            l.a2[k] = c.a2;
        }
        Some(l)
    }

    /// Filters `data` in place through `stages` (the sections these lanes
    /// were built from, in order, with their running state), updating the
    /// state as `data.len()` calls of each stage's `run` would. Returns
    /// false (and touches nothing) when `stages` does not have
    /// [`len`](Self::len) sections.
    pub(crate) fn run(&self, stages: &mut [DirectForm2Transposed<f64>], data: &mut [f64]) -> bool {
        if stages.len() != self.len {
            return false;
        }
        // (sections, groups of two lanes)
        macro_rules! dispatch {
            ($(($w:literal, $g:literal))*) => {
                match self.len {
                    $($w => self.run_w::<$w, $g>(stages, data),)*
                    _ => return false,
                }
            };
        }
        dispatch!((4, 2)(5, 3)(6, 3)(7, 4)(8, 4)(9, 5)(10, 5)(11, 6)(12, 6)(
            13, 7
        )(14, 7)(15, 8)(16, 8)(17, 9)(18, 9)(19, 10)(20, 10)(
            21, 11
        )(22, 11)(23, 12)(24, 12));
        true
    }

    /// The wavefront of exactly `W` sections (`stages.len() == W`) in `G`
    /// groups of two lanes: group `j` holds sections `j` and `j + G` (the
    /// second lane of the last group is unused when `W` is odd). With that
    /// layout the inputs of group `j > 0` are exactly the outputs of group
    /// `j - 1` of the previous step (no shuffle), and only group 0 mixes
    /// the new sample with group `G - 1`'s first lane.
    #[inline(never)]
    fn run_w<const W: usize, const G: usize>(
        &self,
        stages: &mut [DirectForm2Transposed<f64>],
        data: &mut [f64],
    ) {
        let lane = |a: &[f64; MAX_WAVEFRONT]| -> [[f64; 2]; G] {
            core::array::from_fn(|j| [a[j], if j + G < W { a[j + G] } else { 0.0 }])
        };
        let c = Coeffs::<G> {
            b0: lane(&self.b0),
            b1: lane(&self.b1),
            b2: lane(&self.b2),
            a1: lane(&self.a1),
            a2: lane(&self.a2),
        };
        let mut st = State::<G> {
            s1: [[0.0; 2]; G],
            s2: [[0.0; 2]; G],
            y: [[0.0; 2]; G],
        };
        for (k, s) in stages.iter().enumerate().take(W) {
            st.s1[k % G][k / G] = s.s1;
            st.s2[k % G][k / G] = s.s2;
        }
        // the last section's lane
        let (out_j, out_l) = ((W - 1) % G, (W - 1) / G);
        // lane (j, l) is section j + l * G: its busy window
        let section: [[usize; 2]; G] = core::array::from_fn(|j| [j, j + G]);
        let n_in = data.len();
        let lag = W - 1;
        for n in 0..lag {
            // filling: nothing leaves the last section yet
            let x = data.get(n).copied().unwrap_or(0.0);
            st.step_masked(&c, x, &section, n, n_in);
        }
        for n in lag..n_in {
            // every lane busy: data[n] in, data[n - lag] out
            let x = data[n];
            st.step(&c, x);
            data[n - lag] = st.y[out_j][out_l];
        }
        for n in lag.max(n_in)..n_in + lag {
            st.step_masked(&c, 0.0, &section, n, n_in);
            if let Some(o) = data.get_mut(n - lag) {
                *o = st.y[out_j][out_l];
            }
        }
        for (k, s) in stages.iter_mut().enumerate().take(W) {
            s.s1 = st.s1[k % G][k / G];
            s.s2 = st.s2[k % G][k / G];
        }
    }
}

struct Coeffs<const G: usize> {
    b0: [[f64; 2]; G],
    b1: [[f64; 2]; G],
    b2: [[f64; 2]; G],
    a1: [[f64; 2]; G],
    a2: [[f64; 2]; G],
}

struct State<const G: usize> {
    s1: [[f64; 2]; G],
    s2: [[f64; 2]; G],
    /// Each lane's output of the last step.
    y: [[f64; 2]; G],
}

impl<const G: usize> State<G> {
    /// Lane inputs of the next step: `x` into section 0, section `k - 1`'s
    /// last output into section `k`.
    #[inline(always)]
    fn inputs(&self, x: f64) -> [[f64; 2]; G] {
        core::array::from_fn(|j| {
            if j == 0 {
                [x, self.y[G - 1][0]]
            } else {
                self.y[j - 1]
            }
        })
    }

    /// One step with every lane busy. The operations and their order are
    /// those of `DirectForm2Transposed::run`.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // parallel arrays, one index
    fn step(&mut self, c: &Coeffs<G>, x: f64) {
        let u = self.inputs(x);
        for j in 0..G {
            for l in 0..2 {
                let out = self.s1[j][l] + c.b0[j][l] * u[j][l];
                self.s1[j][l] = self.s2[j][l] + c.b1[j][l] * u[j][l] - c.a1[j][l] * out;
                self.s2[j][l] = c.b2[j][l] * u[j][l] - c.a2[j][l] * out;
                self.y[j][l] = out;
            }
        }
    }

    /// Step `n` of a block of `n_in` samples where a lane is busy only
    /// when its section has a sample (`0 <= n - k < n_in`); idle lanes
    /// keep their state (their output is never used).
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // parallel arrays, one index
    fn step_masked(
        &mut self,
        c: &Coeffs<G>,
        x: f64,
        section: &[[usize; 2]; G],
        n: usize,
        n_in: usize,
    ) {
        let u = self.inputs(x);
        for j in 0..G {
            for l in 0..2 {
                let k = section[j][l];
                let busy = k <= n && n - k < n_in;
                let out = self.s1[j][l] + c.b0[j][l] * u[j][l];
                let s1 = self.s2[j][l] + c.b1[j][l] * u[j][l] - c.a1[j][l] * out;
                let s2 = c.b2[j][l] * u[j][l] - c.a2[j][l] * out;
                if busy {
                    self.s1[j][l] = s1;
                    self.s2[j][l] = s2;
                }
                self.y[j][l] = out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biquad::Biquad;

    /// `len` stable test sections (poles inside the unit circle).
    fn coefficients() -> [Coefficients<f64>; MAX_WAVEFRONT] {
        core::array::from_fn(|k| {
            let r = 0.5 + 0.02 * k as f64;
            Coefficients {
                a1: -1.2 * r,
                a2: r * r,
                b0: 0.3 + 0.01 * k as f64,
                b1: -0.1,
                b2: 0.05 * k as f64,
            }
        })
    }

    #[test]
    fn bit_identical_to_sample_by_sample_for_every_width_and_block() {
        let input: [f64; 300] =
            core::array::from_fn(|i| libm::sin(0.37 * i as f64) * 100.0 + (i % 7) as f64);
        for len in MIN_WAVEFRONT..=MAX_WAVEFRONT {
            let coeffs = coefficients();
            let base = coeffs.map(DirectForm2Transposed::<f64>::new);
            let lanes = Wavefront::new(&coeffs[..len]).expect("fits");
            let mut reference = base;
            let expected: [f64; 300] = core::array::from_fn(|i| {
                let mut y = input[i];
                for s in reference.iter_mut().take(len) {
                    y = s.run(y);
                }
                y
            });
            for block in [1, 2, 3, len - 1, len, len + 1, 64, 300] {
                let mut stages = base;
                let mut data = input;
                for chunk in data.chunks_mut(block) {
                    assert!(lanes.run(&mut stages[..len], chunk));
                }
                for i in 0..300 {
                    assert_eq!(
                        data[i].to_bits(),
                        expected[i].to_bits(),
                        "len {len} block {block} i {i}"
                    );
                }
                for k in 0..len {
                    assert_eq!(stages[k].s1.to_bits(), reference[k].s1.to_bits());
                    assert_eq!(stages[k].s2.to_bits(), reference[k].s2.to_bits());
                }
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        let coeffs = coefficients();
        let base = coeffs.map(DirectForm2Transposed::<f64>::new);
        assert!(Wavefront::new(&coeffs[..MIN_WAVEFRONT - 1]).is_none());
        let lanes = Wavefront::new(&coeffs[..8]).expect("fits");
        let mut stages = base;
        let mut data = [1.0; 4];
        assert!(!lanes.run(&mut stages[..7], &mut data));
        assert_eq!(data, [1.0; 4]);
    }
}
