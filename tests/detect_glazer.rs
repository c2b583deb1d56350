//! Glazer assessment on simulated Glazer-protocol recordings: per-phase
//! metrics and the cut-off flags separate a hypertonic subject (high,
//! unstable resting tone; slow recovery) from a healthy one.

mod detect_common;

use levator::core::detect::glazer::{assess, GlazerConfig, GlazerPhase};
use levator::core::detect::PipelineConfig;
use levator_sim::{SimConfig, Simulator};

fn glazer(subject: &str, seed: u64) -> levator::core::detect::glazer::GlazerReport {
    let config = SimConfig::from_names("glazer", subject, "emg-probe", seed).unwrap();
    let mut sim = Simulator::new(&config).unwrap();
    let spec = sim.spec();
    // the simulator's Glazer protocol starts with the 60 s rest at t = 0
    assess(
        spec,
        sim.by_ref(),
        &GlazerConfig::default(),
        PipelineConfig::default(),
    )
    .unwrap()
}

#[test]
fn glazer_metrics_and_flags_separate_hypertonic_from_healthy() {
    let healthy = glazer("healthy", 4);
    let hyper = glazer("hypertonic", 4);
    for r in [&healthy, &hyper] {
        assert_eq!(r.phases.len(), 5);
        let flicks = r.phase(GlazerPhase::Flicks).unwrap();
        assert_eq!(flicks.contractions, 5, "{r:#?}");
        let tonic = r.phase(GlazerPhase::Tonic).unwrap();
        assert_eq!(tonic.contractions, 5, "{r:#?}");
        // a weak, fluctuating hypertonic endurance hold (2-3x rest) can be
        // split into several contractions (a known weakness, see the note)
        assert!(r.phase(GlazerPhase::Endurance).unwrap().contractions >= 1);
        // contraction phases are far above rest
        let rest = r.phase(GlazerPhase::PreRest).unwrap().mean.unwrap();
        assert!(tonic.mean.unwrap() > 3.0 * rest);
        assert!(flicks.peak.unwrap() >= tonic.peak.unwrap() * 0.8);
        assert!(flicks.rise_s.unwrap() > 0.05 && flicks.rise_s.unwrap() < 1.0);
        for p in &r.phases {
            let cv = p.cv.unwrap();
            assert!(cv > 0.0 && cv < 2.0, "{p:?}");
        }
    }
    assert_eq!(
        healthy.phase(GlazerPhase::Endurance).unwrap().contractions,
        1
    );
    let h_rest = healthy.phase(GlazerPhase::PreRest).unwrap();
    let t_rest = hyper.phase(GlazerPhase::PreRest).unwrap();
    assert!(t_rest.mean.unwrap() > 1.5 * h_rest.mean.unwrap());
    assert!(hyper.flags.rest_tone_high);
    // recovery includes the 50 ms envelope window: healthy ~0.15-0.3 s
    assert!(healthy.recovery_s.unwrap() < 0.35, "{healthy:#?}");
    assert!(hyper.flags.slow_recovery, "{hyper:#?}");
    assert!(
        hyper.recovery_s.unwrap_or(f64::INFINITY) > healthy.recovery_s.unwrap(),
        "{hyper:#?}"
    );
    // present when levator-core is built with its `spectral` feature
    if let Some(mf) = healthy
        .phase(GlazerPhase::Endurance)
        .unwrap()
        .median_frequency_hz
    {
        assert!((40.0..250.0).contains(&mf), "{mf}");
    }
}

#[test]
fn glazer_report_serializes() {
    let r = glazer("healthy", 9);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"phase\":\"pre_rest\""), "{json}");
    assert!(json.contains("\"rest_tone_high\""));
}
