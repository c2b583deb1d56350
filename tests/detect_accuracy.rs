//! Accuracy of the detectors against the simulator's ground truth
//! (precision, recall, F1, onset error, detection latency, false events
//! per 10 minutes), per device.
//!
//! The default run is a small labelled set that CI can afford in a debug
//! build, with floors the detectors are known to meet. The full table of
//! the closing note is
//!
//! ```text
//! LEVATOR_EVAL_FULL=1 cargo test --release --test detect_accuracy -- --nocapture
//! ```
//!
//! (6 subject profiles x 6 scenarios x 3 seeds on each of the 7 device
//! profiles).

mod detect_common;

use detect_common::simulate;
use levator::core::score::Report;

const SUBJECTS: [&str; 6] = [
    "healthy",
    "hypotonic",
    "hypertonic",
    "dyssynergic",
    "accessory",
    "breath_holding",
];
const SCENARIOS: [&str; 6] = [
    "glazer_short",
    "quick_flicks",
    "endurance",
    "reverse_kegel",
    "bearing_down",
    "demo",
];
const DEVICES: [&str; 7] = [
    "emg-probe",
    "emg-probe-2000",
    "cyton",
    "pressure-trainer",
    "pressure-trainer-100",
    "two-sensor-trainer",
    "manometry",
];

fn evaluate(device: &str, scenarios: &[&str], subjects: &[&str], seeds: &[u64]) -> Report {
    let mut total: Option<Report> = None;
    for scenario in scenarios {
        for subject in subjects {
            for &seed in seeds {
                let report = simulate(scenario, subject, device, seed).report();
                match total.as_mut() {
                    Some(t) => t.merge(&report),
                    None => total = Some(report),
                }
            }
        }
    }
    total.expect("at least one recording")
}

fn print(device: &str, report: &Report) {
    println!("### {device}\n{report}");
    for row in &report.rows {
        if let Some(a) = row.attribute_agreement {
            println!("{}: pelvic_response/rao_type agreement {:.3}", row.label, a);
        }
    }
}

#[test]
fn emg_probe_meets_the_floors() {
    let report = evaluate(
        "emg-probe",
        &["quick_flicks", "bearing_down", "glazer_short"],
        &["healthy", "hypertonic", "dyssynergic", "accessory"],
        &[11],
    );
    print("emg-probe (CI set)", &report);
    let row = |label: &str| {
        report
            .row(label)
            .unwrap_or_else(|| panic!("no {label} row"))
            .clone()
    };
    let c = row("contraction");
    assert!(c.f1.unwrap() >= 0.9, "contraction F1 {:?}", c.f1);
    assert!(
        c.latency_median_s.unwrap() <= 0.1,
        "{:?}",
        c.latency_median_s
    );
    assert!(c.onset_error_median_s.unwrap() <= 0.06);
    assert!(row("relaxation/release").f1.unwrap() >= 0.9);
    assert!(row("bearing_down").f1.unwrap() >= 0.97);
    assert!(row("poor_release").f1.unwrap() >= 0.85);
    assert!(row("accessory").f1.unwrap() >= 0.85);
}

#[test]
fn manometry_meets_the_floors() {
    let report = evaluate(
        "manometry",
        &["bearing_down", "quick_flicks"],
        &["healthy", "dyssynergic"],
        &[12, 13],
    );
    print("manometry (CI set)", &report);
    let push = report.row("bearing_down").unwrap();
    assert_eq!(push.f1, Some(1.0));
    assert!(
        push.attribute_agreement.unwrap() >= 0.9,
        "Rao/response agreement"
    );
    assert!(report.row("contraction").unwrap().f1.unwrap() >= 0.97);
}

#[test]
fn full_table() {
    if std::env::var("LEVATOR_EVAL_FULL").is_err() {
        eprintln!("full accuracy table skipped: set LEVATOR_EVAL_FULL=1 (release build advised)");
        return;
    }
    let mut all: Option<Report> = None;
    for device in DEVICES {
        let report = evaluate(device, &SCENARIOS, &SUBJECTS, &[1, 2, 3]);
        print(device, &report);
        match all.as_mut() {
            Some(a) => a.merge(&report),
            None => all = Some(report),
        }
    }
    if let Some(a) = all {
        print("all devices", &a);
    }
}
