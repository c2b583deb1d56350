//! The importers on the real recordings of `LEVATOR_REAL_DATA`
//! (`../shared/data/real`, see PROVENANCE.md there).

use std::path::PathBuf;

use levator_core::stream::{Role, SampleSource, SourceItem};

use super::*;

/// The real-data folder, or `None` after a loud skip message (a failure
/// when `CI` is set).
fn real_dir() -> Option<PathBuf> {
    match std::env::var_os("LEVATOR_REAL_DATA") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "LEVATOR_REAL_DATA must be set in CI"
            );
            eprintln!("SKIPPED: LEVATOR_REAL_DATA not set");
            None
        }
    }
}

struct Imported {
    frames: u64,
    first_index: Option<u64>,
    skipped: u64,
    rows: u64,
    gaps: u64,
    markers: Vec<Marker>,
    problems: Vec<Problem>,
    rate_hz: f64,
    latin1: u64,
    reader_rectal: Vec<String>,
    reader_anal: Vec<String>,
}

fn import(name: &str) -> Option<Imported> {
    let dir = real_dir()?;
    let path = dir.join("anomanor").join(name);
    let mut r = match ManometryReader::open(&path) {
        Ok(r) => r,
        Err(e) => panic!("{name}: {e}"),
    };
    let (mut frames, mut gaps) = (0, 0);
    let mut first_index = None;
    loop {
        match r.next_item() {
            Ok(Some(SourceItem::Frame(f))) => {
                first_index.get_or_insert(f.index);
                assert_eq!(f.len(), r.spec().len());
                assert!(f.values().iter().all(|v| v.is_finite()));
                frames += 1
            }
            Ok(Some(SourceItem::Gap { .. })) => gaps += 1,
            Ok(None) => break,
            Err(e) => panic!("{name}: {e}"),
        }
    }
    eprintln!(
        "{name}: {frames} frames at {:.3} Hz, {} markers, {} problems",
        r.spec().rate_hz(),
        r.markers().len(),
        r.problems().len()
    );
    Some(Imported {
        frames,
        first_index,
        skipped: r.rows_skipped(),
        rows: r.rows_total(),
        gaps,
        rate_hz: r.spec().rate_hz(),
        latin1: r.latin1_lines(),
        reader_rectal: r.rectal_sensors().iter().map(|s| s.to_string()).collect(),
        reader_anal: r.anal_sensors().iter().map(|s| s.to_string()).collect(),
        markers: r.markers().to_vec(),
        problems: r.problems().to_vec(),
    })
}

fn protocol(m: &[Marker]) -> Vec<MarkerKind> {
    m.iter()
        .map(|m| m.kind)
        .filter(|k| *k != MarkerKind::Note)
        .collect()
}

#[test]
fn test1_imports_cleanly_at_054_s() {
    let Some(r) = import("test1.txt") else { return };
    // 679 rows; the stream starts at the `# Rest` marker (40.91 s): the 76
    // rows 0.00-40.50 s are catheter placement
    assert_eq!(r.rows, 679);
    assert_eq!(r.skipped, 76);
    assert_eq!(r.frames, 679 - 76);
    assert_eq!(r.first_index, Some(76));
    assert_eq!(r.gaps, 0);
    assert!((r.rate_hz - 1.0 / 0.54).abs() < 1e-6);
    assert_eq!(
        protocol(&r.markers),
        vec![
            MarkerKind::Rest,
            MarkerKind::Squeeze(Some(1)),
            MarkerKind::Squeeze(Some(2)),
            MarkerKind::LongSqueeze,
            MarkerKind::Cough(None),
            MarkerKind::Push(Some(1)),
            MarkerKind::Push(Some(2)),
            MarkerKind::Push(Some(3)),
            MarkerKind::Rair,
        ]
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.reader_rectal, vec!["B2", "B1"]);
    assert_eq!(r.reader_anal.len(), 10);
}

#[test]
fn deactivated_channels_are_skipped() {
    let Some(r) = import("testdeactivatedchannels.txt") else {
        return;
    };
    assert_eq!(r.reader_rectal, vec!["B2"]);
    assert!(!r.reader_anal.contains(&"6".to_string()));
    assert_eq!(r.reader_anal.len(), 9);
    assert!(r.problems.contains(&Problem::InvalidChannel {
        line: 727,
        channel: "B1".into()
    }));
}

#[test]
fn duplicate_squeeze_and_latin1_notes() {
    let Some(r) = import("testduplicatesqueeze.txt") else {
        return;
    };
    assert!((r.rate_hz - 1.0 / 0.17).abs() < 1e-6);
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::DuplicateMarker { line: 1720, .. })));
    assert_eq!(r.latin1, 3);
    assert!(r
        .markers
        .iter()
        .any(|m| m.label == "Ballonvolumen f\u{fc}r n\u{e4}chste Bef\u{fc}llung30 cc"));
}

#[test]
fn broken_annotation_blocks_are_reported() {
    let Some(empty) = import("testemptymarkers.txt") else {
        return;
    };
    assert!(empty.problems.contains(&Problem::NoMarkers { line: 1643 }));
    let Some(none) = import("testnomarkers.txt") else {
        return;
    };
    assert!(none.problems.contains(&Problem::NoAnnotationBlock));
    let Some(missing) = import("testmissingmarkers.txt") else {
        return;
    };
    assert!(missing
        .problems
        .contains(&Problem::MissingMarker { name: "# Push 1" }));
    let Some(bad) = import("testbadmarkers.txt") else {
        return;
    };
    assert!(bad.problems.contains(&Problem::UnknownMarker {
        line: 1647,
        label: "# Top Push 1".into()
    }));
    let Some(norair) = import("testnorair.txt") else {
        return;
    };
    assert!(norair.problems.iter().any(|p| matches!(
        p,
        Problem::NegativeTime { line: 2121, label } if label == "# RAIR"
    )));
    assert!((norair.rate_hz - 10.0).abs() < 1e-6);
    let Some(short) = import("testshort.txt") else {
        return;
    };
    assert_eq!(short.frames, 20);
    assert!(short
        .problems
        .iter()
        .any(|p| matches!(p, Problem::MarkerOutsideRecording { line: 33, .. })));
    for name in [
        "testcommented.txt",
        "testnointerpolation.txt",
        "testnolong.txt",
    ] {
        let Some(r) = import(name) else { return };
        assert!(r.frames > 600, "{name}");
        assert_eq!(r.gaps, 0, "{name}");
    }
}

#[test]
fn biosppy_emg_imports_in_microvolts() {
    let Some(dir) = real_dir() else { return };
    let mut r = match EmgTextReader::open(dir.join("biosppy").join("emg_1.txt")) {
        Ok(r) => r,
        Err(e) => panic!("emg_1.txt: {e}"),
    };
    assert_eq!(r.spec().rate_hz(), 1000.0);
    assert_eq!(r.spec().channels()[0].role, Role::PelvicEmg);
    let (mut n, mut max_abs) = (0u64, 0.0f64);
    while let Some(item) = r.next_item().unwrap_or_else(|e| panic!("emg_1.txt: {e}")) {
        if let SourceItem::Frame(f) = item {
            n += 1;
            max_abs = max_abs.max(f.get(0).abs());
        }
    }
    eprintln!("emg_1.txt: {n} samples, max |x| = {max_abs:.0} µV");
    assert_eq!(n, 63_880);
    // Surface EMG bursts: hundreds of µV, well inside the ±1.6 mV range.
    assert!(max_abs > 100.0 && max_abs < 1700.0, "{max_abs}");
    assert!(r.problems().is_empty());
}
