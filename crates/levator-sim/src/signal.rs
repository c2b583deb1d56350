//! Sample-level signal components: band-limited sEMG noise, ECG bleed,
//! mains hum and slow drift. All are streaming (state carried from sample
//! to sample), seeded, and computed with `libm` for bit-identical output
//! on every machine.

use core::f64::consts::PI;

use crate::rng::Rng;

/// A second-order section, transposed direct form II.
#[derive(Clone, Copy, Debug)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    /// Butterworth (Q = 1/sqrt 2) low-pass or high-pass, RBJ cookbook
    /// bilinear design.
    fn butterworth(fs: f64, f0: f64, high: bool) -> Biquad {
        let w0 = 2.0 * PI * f0 / fs;
        let (sw, cw) = (libm::sin(w0), libm::cos(w0));
        let alpha = sw / (2.0 * core::f64::consts::FRAC_1_SQRT_2);
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high {
            ((1.0 + cw) / 2.0, -(1.0 + cw))
        } else {
            ((1.0 - cw) / 2.0, 1.0 - cw)
        };
        Biquad {
            b: [b0 / a0, b1 / a0, b0 / a0],
            a: [-2.0 * cw / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }

    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// First-order section by the bilinear transform (prewarped corner, a
/// zero at Nyquist for the low-pass), whose corner may change every
/// sample.
#[derive(Clone, Copy, Debug, Default)]
struct OnePole {
    x1: f64,
    y1: f64,
}

impl OnePole {
    /// Low-pass with `k = tan(pi fc / fs)`.
    #[inline]
    fn low(&mut self, x: f64, k: f64) -> f64 {
        let b = k / (1.0 + k);
        let a1 = (k - 1.0) / (k + 1.0);
        let y = b * (x + self.x1) - a1 * self.y1;
        self.x1 = x;
        self.y1 = y;
        y
    }

    /// High-pass with `k = tan(pi fc / fs)`.
    #[inline]
    fn high(&mut self, x: f64, k: f64) -> f64 {
        let b = 1.0 / (1.0 + k);
        let a1 = (k - 1.0) / (k + 1.0);
        let y = b * (x - self.x1) - a1 * self.y1;
        self.x1 = x;
        self.y1 = y;
        y
    }
}

#[inline]
fn prewarp(fs: f64, corner_hz: f64) -> f64 {
    // Keep the corner below Nyquist (tan diverges there).
    libm::tan(PI * corner_hz.min(0.49 * fs) / fs)
}

/// Spectral compression scales tabulated for the output normalisation.
const SCALES: [f64; 9] = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0];

/// Unit-RMS Gaussian noise with the spectrum of surface EMG.
///
/// The sEMG interference pattern is the sum of many asynchronous
/// motor-unit action potentials: to first order Gaussian noise whose RMS
/// follows the activation. Its spectrum follows the classic parametric
/// model (Shwedyk et al. 1977)
/// `P(f) ~ f_h^4 f^2 / ((f^2 + f_l^2) (f^2 + f_h^2)^2)`, here with
/// `f_l` = 60 Hz and a subject-specific `f_h`, made here by white noise
/// through a first-order (bilinear) high-pass at `f_l` and two first-order low-passes
/// at `f_h`; then the amplifier's band (two 2nd-order Butterworth
/// high-passes at 20 Hz, one low-pass at the upper band edge, 450 Hz or
/// 0.45 x rate). Fatigue compresses the spectrum (conduction velocity
/// falls): [`EmgNoise::tick`] takes a scale on `f_h` (1 = fresh), so the
/// median frequency drops during an endurance hold.
#[derive(Clone, Debug)]
pub struct EmgNoise {
    rng: Rng,
    fs: f64,
    corner_hz: f64,
    k_low: f64,
    high_pass: OnePole,
    shape: [OnePole; 2],
    band: [Biquad; 3],
    norms: [f64; SCALES.len()],
}

impl EmgNoise {
    /// Noise for sample rate `fs`, spectral corner `corner_hz` (`f_h`) and
    /// amplifier band `low_hz`..`high_hz`.
    pub fn new(rng: Rng, fs: f64, corner_hz: f64, low_hz: f64, high_hz: f64) -> EmgNoise {
        let mut me = EmgNoise {
            rng,
            fs,
            corner_hz,
            k_low: prewarp(fs, 60.0),
            high_pass: OnePole::default(),
            shape: [OnePole::default(); 2],
            band: [
                Biquad::butterworth(fs, low_hz, true),
                Biquad::butterworth(fs, low_hz, true),
                Biquad::butterworth(fs, high_hz, false),
            ],
            norms: [1.0; SCALES.len()],
        };
        // Output variance for unit white input = energy of the impulse
        // response; measured once per tabulated scale so the output has
        // unit RMS whatever the fatigue.
        let n = (fs * 4.0) as usize;
        for (k, &scale) in SCALES.iter().enumerate() {
            let mut probe = me.clone();
            let mut energy = 0.0;
            for i in 0..n {
                let x = if i == 0 { 1.0 } else { 0.0 };
                let y = probe.filter(x, scale);
                energy += y * y;
            }
            me.norms[k] = if energy > 0.0 {
                1.0 / libm::sqrt(energy)
            } else {
                1.0
            };
        }
        me
    }

    #[inline]
    fn filter(&mut self, x: f64, scale: f64) -> f64 {
        let hp = self.high_pass.high(x, self.k_low);
        let k = prewarp(self.fs, self.corner_hz * scale);
        let first = self.shape[0].low(hp, k);
        let s = self.shape[1].low(first, k);
        self.band.iter_mut().fold(s, |acc, b| b.tick(acc))
    }

    #[inline]
    fn norm(&self, scale: f64) -> f64 {
        let s = scale.clamp(SCALES[0], 1.0);
        let pos = (s - SCALES[0]) / 0.05;
        let i = (pos as usize).min(SCALES.len() - 2);
        let f = pos - i as f64;
        self.norms[i] * (1.0 - f) + self.norms[i + 1] * f
    }

    /// The next sample (unit RMS on average) with the spectrum's corner
    /// scaled by `scale` (1 = fresh muscle, 0.6..1).
    #[inline]
    pub fn tick(&mut self, scale: f64) -> f64 {
        let x = self.rng.gaussian();
        let s = scale.clamp(SCALES[0], 1.0);
        self.filter(x, s) * self.norm(s)
    }
}

/// Heartbeat train giving a unit-amplitude ECG-like waveform (P-less QRS
/// plus T wave) for bleed into surface EMG: the heart's field reaches the
/// abdominal electrodes at several µV to tens of µV.
#[derive(Clone, Debug)]
pub struct Ecg {
    rng: Rng,
    rr_s: f64,
    last_beat: f64,
    next_beat: f64,
}

impl Ecg {
    /// A heart beating at `bpm` (RR jitter 3 %), first beat within one RR.
    pub fn new(mut rng: Rng, bpm: f64) -> Ecg {
        let rr_s = 60.0 / bpm;
        let first = rng.range(0.1, rr_s);
        Ecg {
            rng,
            rr_s,
            last_beat: -10.0,
            next_beat: first,
        }
    }

    /// The waveform at time `t` (non-decreasing between calls).
    #[inline]
    pub fn at(&mut self, t: f64) -> f64 {
        while t >= self.next_beat - 0.05 {
            self.last_beat = self.next_beat;
            let rr = self.rr_s * (1.0 + 0.03 * self.rng.gaussian()).clamp(0.8, 1.2);
            self.next_beat += rr;
        }
        let dt = t - self.last_beat;
        if !(-0.05..=0.5).contains(&dt) {
            return 0.0;
        }
        let g = |c: f64, w: f64| {
            let z = (dt - c) / w;
            libm::exp(-0.5 * z * z)
        };
        g(0.0, 0.010) - 0.3 * g(0.028, 0.010) - 0.15 * g(-0.025, 0.010) + 0.25 * g(0.25, 0.045)
    }
}

/// Mains hum at `hz`: fundamental plus 30 % third and 10 % fifth harmonic
/// (rectifier loads make mains interference rich in odd harmonics). Phase
/// is computed from the sample index, so it never drifts. Harmonics at or
/// above Nyquist are left out: every real front end filters before it
/// samples (the ADS1299 of the OpenBCI Cyton decimates through a sinc
/// filter), so they do not alias into the band.
#[derive(Clone, Copy, Debug)]
pub struct Mains {
    hz: f64,
    fs: f64,
    phase: f64,
}

impl Mains {
    /// Hum at `hz` for sample rate `fs` with a starting phase (rad).
    pub fn new(hz: f64, fs: f64, phase: f64) -> Mains {
        Mains { hz, fs, phase }
    }

    /// Unit-fundamental hum at sample `n`.
    #[inline]
    pub fn at(&self, n: u64) -> f64 {
        let cycles = libm::fmod(self.hz * n as f64, self.fs) / self.fs;
        let p = 2.0 * PI * cycles + self.phase;
        let nyquist = 0.5 * self.fs;
        let mut v = libm::sin(p);
        if 3.0 * self.hz < nyquist {
            v += 0.3 * libm::sin(3.0 * p);
        }
        if 5.0 * self.hz < nyquist {
            v += 0.1 * libm::sin(5.0 * p);
        }
        v
    }
}

/// Slow baseline drift: two incommensurate sines of 0.01-0.1 Hz
/// (electrode half-cell potentials, sensor temperature).
#[derive(Clone, Copy, Debug)]
pub struct Drift {
    f: [f64; 2],
    phase: [f64; 2],
}

impl Drift {
    /// A drift drawn from `rng`.
    pub fn new(rng: &mut Rng) -> Drift {
        Drift {
            f: [rng.range(0.01, 0.03), rng.range(0.05, 0.1)],
            phase: [rng.range(0.0, 2.0 * PI), rng.range(0.0, 2.0 * PI)],
        }
    }

    /// Unit-amplitude drift at time `t`.
    #[inline]
    pub fn at(&self, t: f64) -> f64 {
        0.6 * libm::sin(2.0 * PI * self.f[0] * t + self.phase[0])
            + 0.4 * libm::sin(2.0 * PI * self.f[1] * t + self.phase[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emg_noise_has_unit_rms_and_no_dc() {
        for (fs, scale) in [(250.0, 1.0), (1000.0, 1.0), (1000.0, 0.72), (2000.0, 0.6)] {
            let mut n = EmgNoise::new(Rng::new(1), fs, 180.0, 20.0, 450.0f64.min(0.45 * fs));
            let count = (fs * 60.0) as usize;
            let (mut s, mut s2) = (0.0, 0.0);
            for _ in 0..count {
                let x = n.tick(scale);
                s += x;
                s2 += x * x;
            }
            let rms = libm::sqrt(s2 / count as f64);
            assert!((rms - 1.0).abs() < 0.05, "fs {fs}: rms {rms}");
            assert!((s / count as f64).abs() < 0.01);
        }
    }

    #[test]
    fn mains_harmonics_above_nyquist_are_filtered_out() {
        let fundamental =
            |hz: f64, fs: f64, n: u64| libm::sin(2.0 * PI * libm::fmod(hz * n as f64, fs) / fs);
        // Cyton: 250 Hz sampling, 60 Hz mains: 180 and 300 Hz are above
        // Nyquist, only the fundamental is left
        let cyton = Mains::new(60.0, 250.0, 0.0);
        // 1 kHz probe: 150 and 250 Hz are in band and present
        let probe = Mains::new(50.0, 1000.0, 0.0);
        let (mut cyton_err, mut probe_diff) = (0.0f64, 0.0f64);
        for n in 0..1000 {
            cyton_err = cyton_err.max((cyton.at(n) - fundamental(60.0, 250.0, n)).abs());
            probe_diff = probe_diff.max((probe.at(n) - fundamental(50.0, 1000.0, n)).abs());
        }
        assert!(cyton_err < 1e-12, "{cyton_err}");
        assert!(probe_diff > 0.3, "{probe_diff}");
    }

    #[test]
    fn ecg_beats_at_the_heart_rate() {
        let mut e = Ecg::new(Rng::new(2), 60.0);
        let mut peaks = 0;
        let mut prev = 0.0;
        let mut rising = false;
        for i in 0..60_000 {
            let v = e.at(i as f64 / 1000.0);
            if v < prev && rising && prev > 0.5 {
                peaks += 1;
            }
            rising = v > prev;
            prev = v;
        }
        assert!((57..=63).contains(&peaks), "{peaks} beats in 60 s");
    }
}
