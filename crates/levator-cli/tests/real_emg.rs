//! Real surface EMG (`$LEVATOR_REAL_DATA/biosppy/emg_1.txt`, BioSPPy's
//! example recording, 1 kHz, 12-bit counts): its bursts must be detected
//! as contractions by `levator analyze`.
//!
//! Reference onsets come from an independent offline detector run by hand
//! (not in this test): NeuroKit2 0.2.13 `emg_process(uv, sampling_rate=1000)`
//! on the same file converted with the same front-end scale. It reports 19
//! onsets; the ones whose burst RMS is at least 4x the resting RMS (a
//! 250 ms window RMS of ~45-140 counts against ~10 at rest) are the clear
//! bursts below. Bursts before the pipeline's warm-up plus baseline
//! calibration cannot be judged (the detector is still learning rest) and
//! are listed but not required.

mod common;

use common::*;

/// Writes to the real stderr, bypassing the test harness's capture, so the
/// counts appear in CI's output even when the test passes.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use levator_core::detect::PipelineConfig;
use levator_core::event::{EventKind, Phase};

/// NeuroKit2 onsets of the clear bursts (s) and their offsets.
const CLEAR_BURSTS: [(f64, f64); 4] = [
    (1.469, 1.833),
    (15.530, 16.947),
    (25.631, 25.857),
    (26.414, 26.653),
];

/// All 19 NeuroKit2 onsets, for the printed comparison.
const NEUROKIT_ONSETS: [f64; 19] = [
    1.469, 15.530, 17.364, 17.695, 18.057, 18.337, 18.727, 19.128, 23.177, 25.631, 26.414, 35.893,
    36.086, 36.489, 36.731, 37.234, 38.215, 40.044, 44.947,
];

/// Largest |detected onset - reference onset| accepted (s).
const ONSET_TOLERANCE_S: f64 = 0.5;

#[test]
fn emg_bursts_are_detected_as_contractions() {
    let Some(dir) = real_dir() else { return };
    let path = dir.join("biosppy").join("emg_1.txt");
    let o = levator(&[
        "analyze",
        path.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = parse_jsonl(&stdout(&o));
    let contractions: Vec<(f64, Option<f64>)> = events
        .iter()
        .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::Start))
        .map(|e| {
            let end = events
                .iter()
                .find(|x| {
                    x.kind == EventKind::Contraction
                        && x.phase == Some(Phase::End)
                        && (x.onset_s - e.onset_s).abs() < 1e-9
                })
                .and_then(|x| x.end_s);
            (e.onset_s, end)
        })
        .collect();
    let d = PipelineConfig::default();
    let learning_s = d.warmup_s + d.baseline.calibration_s;
    report!("levator contraction onsets (s) -> end:");
    for (t, end) in &contractions {
        let near = NEUROKIT_ONSETS
            .iter()
            .map(|r| t - r)
            .min_by(|a, b| a.abs().total_cmp(&b.abs()))
            .unwrap_or(f64::NAN);
        report!(
            "  {t:8.3} -> {}   nearest NeuroKit2 onset {near:+.3} s",
            end.map(|e| format!("{e:.3}")).unwrap_or_else(|| "-".into())
        );
    }
    report!(
        "NeuroKit2: {} onsets; levator: {} contraction starts",
        NEUROKIT_ONSETS.len(),
        contractions.len()
    );
    let mut missed = Vec::new();
    for (on, off) in CLEAR_BURSTS {
        let started = contractions
            .iter()
            .any(|(t, _)| (t - on).abs() <= ONSET_TOLERANCE_S);
        // A burst inside a detected contraction (merged with its neighbour) counts too.
        let covered = contractions
            .iter()
            .any(|(t, end)| *t <= on && end.is_some_and(|e| e >= off));
        let status = if on < learning_s {
            "before the baseline is learnt: not judged"
        } else if started || covered {
            "detected"
        } else {
            missed.push(format!("burst at {on:.3}-{off:.3} s"));
            "MISSED"
        };
        report!("clear burst {on:7.3}-{off:7.3} s: {status}");
    }
    assert!(
        missed.is_empty(),
        "EMG bursts not detected as contractions (onset within ±{ONSET_TOLERANCE_S} s): {}",
        missed.join(", ")
    );
}
