//! `levator demo`: the simulated session runs, prints live events and a
//! summary with the expected event kinds, scored against ground truth.

mod common;

use common::*;
use levator_core::event::EventKind;

#[test]
fn demo_prints_expected_kinds_and_summary() {
    // --speed 100: the real pacing path, ~2 s for the 195 s session.
    let o = levator(&["demo", "--speed", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    println!("{out}");
    for needle in [
        "levator demo: hypertonic subject",
        "contraction",
        "bearing_down",
        "subject: reverse Kegel attempt, too shallow for a drop",
        "summary",
        "Glazer-style metrics",
        "resting tone",
        "detection against the simulator's ground truth",
        "lat med",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle:?}");
    }
    assert!(out
        .lines()
        .any(|l| l.contains("start") && l.contains("contraction")));
}

#[test]
fn demo_jsonl_is_the_event_contract() {
    let o = levator(&["demo", "--fast", "--format", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = parse_jsonl(&stdout(&o));
    let has = |k: EventKind| events.iter().any(|e| e.kind == k && e.is_onset());
    assert!(has(EventKind::Contraction), "no contraction");
    assert!(has(EventKind::BearingDown), "no bearing_down");
    let pushes: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::BearingDown && e.is_onset())
        .collect();
    assert!(
        pushes.iter().all(|e| e.pelvic_response.is_some()),
        "every push is judged: {pushes:?}"
    );
}

#[test]
fn demo_is_deterministic_per_seed() {
    let a = levator(&["demo", "--fast", "--format", "jsonl", "--seed", "11"]);
    let b = levator(&["demo", "--fast", "--format", "jsonl", "--seed", "11"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}
