//! The sEMG has a realistic spectrum: median frequency near 100-140 Hz
//! in healthy muscle, lower in hypertonic subjects, and falling during an
//! endurance hold as the muscle fatigues.

use levator_core::event::{EventKind, Phase};
use levator_sim::Simulator;
use rustfft::{num_complex::Complex, FftPlanner};

/// Median frequency of `x` (Welch: 1024-point Hann windows, 50 % overlap).
fn median_frequency(x: &[f64], fs: f64) -> f64 {
    let n = 1024;
    let fft = FftPlanner::new().plan_fft_forward(n);
    let mut psd = vec![0.0; n / 2];
    let mut start = 0;
    while start + n <= x.len() {
        let mean = x[start..start + n].iter().sum::<f64>() / n as f64;
        let mut buf: Vec<Complex<f64>> = (0..n)
            .map(|i| {
                let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                Complex::new((x[start + i] - mean) * w, 0.0)
            })
            .collect();
        fft.process(&mut buf);
        for (p, c) in psd.iter_mut().zip(&buf) {
            *p += c.norm_sqr();
        }
        start += n / 2;
    }
    // Ignore DC drift below 10 Hz.
    let lo = (10.0 * n as f64 / fs) as usize;
    let total: f64 = psd[lo..].iter().sum();
    let mut acc = 0.0;
    for (k, p) in psd.iter().enumerate().skip(lo) {
        acc += p;
        if acc >= total / 2.0 {
            return k as f64 * fs / n as f64;
        }
    }
    fs / 2.0
}

fn holds(scenario: &str, subject: &str, seed: u64) -> (Vec<f64>, Vec<(f64, f64)>) {
    let mut sim = Simulator::from_names(scenario, subject, "emg-probe", seed).unwrap();
    let holds = sim
        .truth()
        .iter()
        .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::End))
        .map(|e| (e.onset_s + e.rise_s.unwrap(), e.end_s.unwrap()))
        .collect();
    let x = sim.by_ref().map(|f| f.get(0)).collect();
    (x, holds)
}

fn mdf_between(x: &[f64], a: f64, b: f64) -> f64 {
    median_frequency(&x[(a * 1000.0) as usize..(b * 1000.0) as usize], 1000.0)
}

#[test]
fn healthy_median_frequency_is_physiological_and_hypertonic_lower() {
    for seed in 1..=3 {
        let (x, h) = holds("glazer_short", "healthy", seed);
        // The two 5 s tonic holds (after three flicks).
        for &(a, b) in &h[3..5] {
            let mdf = mdf_between(&x, a, b);
            eprintln!("healthy seed {seed}: MDF {mdf}");
            assert!(
                (105.0..=160.0).contains(&mdf),
                "healthy seed {seed}: MDF {mdf}"
            );
        }
        let (x, h) = holds("glazer_short", "hypertonic", seed);
        for &(a, b) in &h[3..5] {
            let mdf = mdf_between(&x, a, b);
            eprintln!("hypertonic seed {seed}: MDF {mdf}");
            assert!(
                (75.0..=115.0).contains(&mdf),
                "hypertonic seed {seed}: MDF {mdf}"
            );
        }
    }
}

#[test]
fn median_frequency_falls_during_an_endurance_hold() {
    let (x, h) = holds("endurance", "hypotonic", 2);
    let (a, b) = h[0];
    let early = mdf_between(&x, a, a + 10.0);
    let late = mdf_between(&x, b - 10.0, b);
    eprintln!("hypotonic endurance MDF {early} -> {late}");
    assert!(late < 0.9 * early, "MDF {early} -> {late}");
}
