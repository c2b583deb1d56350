//! Real anorectal manometry (`$LEVATOR_REAL_DATA/anomanor`, see
//! PROVENANCE.md there): the detectors against the operator's markers.
//!
//! Recordings are imported with `levator_sim::import` (markers) and run
//! through the built `levator analyze --format jsonl` (events), exactly as
//! a user would. Per recording:
//!
//! - every `# Push N` marker needs a `bearing_down` start with onset
//!   within 3 s before to 8 s after it, judged with a `pelvic_response` and
//!   the matching `rao_type` (from the push's end event when it has one:
//!   the final judgement; else its start): Rao types I-IV classify
//!   dyssynergia, so a paradoxical push must carry I or II, an unrelaxed
//!   one III or IV, and a relaxed (normal) push none ([`rao_consistent`]);
//! - every `# Squeeze N` / `# Long Squeeze` marker needs a `contraction`
//!   start within 3 s before to 6 s after it;
//! - `contraction` / `bearing_down` starts before the `# RAIR` marker
//!   (after it the balloon is inflated on purpose) that fall outside every
//!   marked manoeuvre and its recovery are false starts: at most one per
//!   recording. Marked manoeuvres are all `#` markers (recognised or not)
//!   and the operator's notes that name one (`husten`/cough, `valsalva`),
//!   from 3 s before the marker to the end of its recovery
//!   ([`recovery_after`]). The same 3 s apply to `# RAIR` itself: the
//!   operator sets every marker at about the start of the manoeuvre, so a
//!   start up to 3 s before it belongs to it (as for squeezes and pushes).
//!
//! The six real recordings (`test1`, `testcommented`,
//! `testdeactivatedchannels`, `testduplicatesqueeze`, `testnolong`,
//! `testnorair`) get all three checks in
//! `real_recordings_meet_the_issue_7_criteria` (ignored until the detectors
//! meet them) and a regression floor at the measured state in
//! `real_recordings_regression_floor` (runs in CI). The six deliberately broken
//! variants of one recording (PROVENANCE: "importer robustness cases")
//! must import with their problems reported or fail naming the line; the
//! markers they do carry must still be detected, but their annotation
//! blocks omit real manoeuvres on purpose (e.g. `testmissingmarkers` has
//! no push markers although the patient pushes three times), so the
//! false-start cap is not applied to them.

mod common;

use std::path::Path;

use common::*;

/// Writes to the real stderr, bypassing the test harness's capture, so the
/// counts appear in CI's output even when the test passes.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use levator_core::event::{Event, EventKind, PelvicResponse, Phase};
use levator_sim::import::{ManometryReader, Marker, MarkerKind};

/// cmH2O per mmHg (events carry cmH2O; manometry speaks mmHg).
const MMHG_CMH2O: f64 = 1.35951;

/// The real recordings (all checks).
const REAL: [&str; 6] = [
    "test1.txt",
    "testcommented.txt",
    "testdeactivatedchannels.txt",
    "testduplicatesqueeze.txt",
    "testnolong.txt",
    "testnorair.txt",
];

/// The importer robustness variants.
const BROKEN: [&str; 6] = [
    "testbadmarkers.txt",
    "testmissingmarkers.txt",
    "testemptymarkers.txt",
    "testnomarkers.txt",
    "testnointerpolation.txt",
    "testshort.txt",
];

/// How long before its marker a manoeuvre may start (s): the issue's
/// "3 s before" of every marker rule.
const BEFORE_MARKER_S: f64 = 3.0;

/// How long after a marker its manoeuvre and recovery last (s); `None`
/// for annotations that mark no manoeuvre.
fn recovery_after(m: &Marker) -> Option<f64> {
    match m.kind {
        MarkerKind::Squeeze(_) => Some(12.0),
        MarkerKind::LongSqueeze => Some(45.0),
        MarkerKind::Push(_) => Some(25.0),
        MarkerKind::Cough(_) => Some(8.0),
        MarkerKind::UnknownProtocol => Some(25.0),
        MarkerKind::Rest | MarkerKind::Rair | MarkerKind::RectalSensory => None,
        MarkerKind::Note => {
            let l = m.label.to_lowercase();
            if l.contains("husten") || l.contains("cough") {
                Some(8.0)
            } else if l.contains("valsalva") {
                Some(25.0)
            } else {
                None
            }
        }
    }
}

/// Whether a push's judgement is complete and follows Rao's classification:
/// a response is required; dyssynergic responses carry their Rao type
/// (paradoxical: I or II, < 20 % relaxation: III or IV); a push that relaxes
/// the anal canal by >= 20 % is normal coordination and, as documented in
/// `levator_core::detect::bearing_down`, has no Rao type.
fn rao_consistent(r: Option<PelvicResponse>, rao: Option<u8>) -> bool {
    matches!(
        (r, rao),
        (Some(PelvicResponse::Paradoxical), Some(1 | 2))
            | (Some(PelvicResponse::Unchanged), Some(3 | 4))
            | (Some(PelvicResponse::Relaxed), None)
    )
}

/// A found push: onset, pelvic response, Rao type and the push (rectal
/// rise, mmHg).
type Judged = (f64, Option<PelvicResponse>, Option<u8>, Option<f64>);

/// One push marker's outcome.
struct Push {
    label: String,
    at_s: f64,
    found: Option<Judged>,
}

/// One recording's outcome.
struct Outcome {
    name: String,
    squeezes: (usize, usize),
    pushes: Vec<Push>,
    false_starts: Vec<(EventKind, f64)>,
    missed: Vec<String>,
    events: usize,
}

fn response(r: Option<PelvicResponse>) -> &'static str {
    match r {
        Some(PelvicResponse::Relaxed) => "relaxed",
        Some(PelvicResponse::Paradoxical) => "paradoxical",
        Some(PelvicResponse::Unchanged) => "unchanged",
        None => "-",
    }
}

fn analyze(path: &Path) -> Vec<Event> {
    let o = levator(&[
        "analyze",
        path.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}: {}", path.display(), stderr(&o));
    parse_jsonl(&stdout(&o))
}

/// Scores `events` against the markers that lie inside the recording
/// (`end_s` = its length; markers beyond it are reported by the importer).
fn evaluate(name: &str, markers: &[Marker], events: &[Event], end_s: f64) -> Outcome {
    let starts: Vec<(usize, &Event)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.phase == Some(Phase::Start)
                && matches!(e.kind, EventKind::Contraction | EventKind::BearingDown)
        })
        .collect();
    let mut used = vec![false; events.len()];
    let mut squeezes = (0, 0);
    let mut pushes = Vec::new();
    let mut missed = Vec::new();
    for m in markers.iter().filter(|m| m.stream_s <= end_s) {
        let (kind, before, after) = match m.kind {
            k if k.is_squeeze() => (EventKind::Contraction, BEFORE_MARKER_S, 6.0),
            k if k.is_push() => (EventKind::BearingDown, BEFORE_MARKER_S, 8.0),
            _ => continue,
        };
        let hit = starts.iter().find(|(i, e)| {
            !used[*i]
                && e.kind == kind
                && e.onset_s >= m.stream_s - before
                && e.onset_s <= m.stream_s + after
        });
        if let Some((i, _)) = hit {
            used[*i] = true;
        } else {
            missed.push(format!("{} at {:.2} s", m.label, m.stream_s));
        }
        if kind == EventKind::Contraction {
            squeezes.1 += 1;
            squeezes.0 += usize::from(hit.is_some());
        } else {
            let found = hit.map(|(i, e)| {
                // The push's end event carries the final judgement.
                let end = events[*i + 1..].iter().find(|x| {
                    x.kind == EventKind::BearingDown
                        && x.phase == Some(Phase::End)
                        && (x.onset_s - e.onset_s).abs() < 1e-6
                });
                let judged = end.filter(|x| x.pelvic_response.is_some()).unwrap_or(e);
                (
                    e.onset_s,
                    judged.pelvic_response,
                    judged.rao_type,
                    judged.push.map(|p| p / MMHG_CMH2O),
                )
            });
            pushes.push(Push {
                label: m.label.clone(),
                at_s: m.stream_s,
                found,
            });
        }
    }
    let rair = markers
        .iter()
        .filter(|m| m.kind == MarkerKind::Rair)
        .map(|m| m.stream_s)
        .fold(f64::INFINITY, f64::min);
    let windows: Vec<(f64, f64)> = markers
        .iter()
        .filter_map(|m| recovery_after(m).map(|d| (m.stream_s - BEFORE_MARKER_S, m.stream_s + d)))
        .collect();
    let false_starts = starts
        .iter()
        .filter(|(_, e)| e.onset_s < rair - BEFORE_MARKER_S)
        .filter(|(_, e)| {
            !windows
                .iter()
                .any(|(a, b)| e.onset_s >= *a && e.onset_s <= *b)
        })
        .map(|(_, e)| (e.kind, e.onset_s))
        .collect();
    Outcome {
        name: name.to_string(),
        squeezes,
        pushes,
        false_starts,
        missed,
        events: events.len(),
    }
}

/// Length of a recording on the stream clock (s).
fn length_s<R>(rec: &ManometryReader<R>) -> f64 {
    rec.rows_total().saturating_sub(1) as f64 * rec.row_period_s()
}

fn print_table(title: &str, rows: &[Outcome]) {
    let found: usize = rows
        .iter()
        .map(|o| o.squeezes.0 + o.pushes.iter().filter(|p| p.found.is_some()).count())
        .sum();
    let total: usize = rows.iter().map(|o| o.squeezes.1 + o.pushes.len()).sum();
    let false_starts: usize = rows.iter().map(|o| o.false_starts.len()).sum();
    report!(
        "{title}: {} recordings, squeeze/push markers found {found}/{total}, {false_starts} unmarked starts before RAIR",
        rows.len()
    );
    report!();
    report!(
        "{:<28} {:>8} {:>8} {:>6} {:>7}  per push: onset, push (rectal rise), pelvic response, Rao type",
        "recording",
        "squeeze",
        "push",
        "false",
        "events"
    );
    for o in rows {
        let found_p = o.pushes.iter().filter(|p| p.found.is_some()).count();
        let pushes: Vec<String> = o
            .pushes
            .iter()
            .map(|p| match p.found {
                Some((t, r, rao, push)) => format!(
                    "{} {:.1}s->{:.1}s push {} {} {}",
                    p.label.trim_start_matches("# "),
                    p.at_s,
                    t,
                    push.map(|p| format!("{p:.0} mmHg"))
                        .unwrap_or_else(|| "-".into()),
                    response(r),
                    rao.map(|t| format!("type {t}"))
                        .unwrap_or_else(|| "no type".into())
                ),
                None => format!("{} {:.1}s MISSED", p.label.trim_start_matches("# "), p.at_s),
            })
            .collect();
        report!(
            "{:<28} {:>4}/{:<3} {:>4}/{:<3} {:>6} {:>7}  {}",
            o.name,
            o.squeezes.0,
            o.squeezes.1,
            found_p,
            o.pushes.len(),
            o.false_starts.len(),
            o.events,
            pushes.join("; ")
        );
        if !o.missed.is_empty() {
            report!("{:<28} missed: {}", "", o.missed.join(", "));
        }
        if !o.false_starts.is_empty() {
            let f: Vec<String> = o
                .false_starts
                .iter()
                .map(|(k, t)| format!("{} {t:.2}s", k.name()))
                .collect();
            report!("{:<28} false starts: {}", "", f.join(", "));
        }
    }
}

/// Imports and analyzes the six real recordings (an import failure panics).
fn real_outcomes(dir: &Path) -> Vec<Outcome> {
    let dir = dir.join("anomanor");
    let mut rows = Vec::new();
    for name in REAL {
        let path = dir.join(name);
        let rec = ManometryReader::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let events = analyze(&path);
        rows.push(evaluate(name, rec.markers(), &events, length_s(&rec)));
    }
    rows
}

/// Regression floor: what the detectors reach on the six real recordings
/// as of this commit. **Not the issue-7 target** (that is
/// [`real_recordings_meet_the_issue_7_criteria`], ignored until the
/// detectors meet it); this test keeps CI green while failing on any
/// regression below the measured state.
/// Squeeze markers with a contraction start: (at least found, of markers).
const FLOOR_SQUEEZES: (usize, usize) = (15, 17);
/// Push markers with a bearing-down start: (at least found, of markers).
const FLOOR_PUSHES: (usize, usize) = (14, 17);
/// Most unmarked contraction / bearing-down starts before `# RAIR`, all six
/// recordings together (8 in session 1; 7 since a breath between two
/// strains no longer splits a push: `testnorair` 149.2 s + 153.3 s; 6
/// since a push on pressure must last 1 s: the cough at `testnolong`
/// 160.6 s; 5 since the stream starts at the operator's `# Rest` marker:
/// `testdeactivatedchannels` 34.6 s, during catheter placement). Since
/// then every recording also meets the issue's own cap of one
/// ([`real_recordings_regression_floor`] checks it per recording).
const CEILING_FALSE_STARTS: usize = 5;

#[test]
fn real_recordings_regression_floor() {
    let Some(dir) = real_dir() else { return };
    let rows = real_outcomes(&dir);
    print_table("REAL MANOMETRY (regression floor)", &rows);
    let squeezes: (usize, usize) = rows
        .iter()
        .fold((0, 0), |a, o| (a.0 + o.squeezes.0, a.1 + o.squeezes.1));
    let pushes: (usize, usize) = rows.iter().fold((0, 0), |a, o| {
        (
            a.0 + o.pushes.iter().filter(|p| p.found.is_some()).count(),
            a.1 + o.pushes.len(),
        )
    });
    let false_starts: usize = rows.iter().map(|o| o.false_starts.len()).sum();
    report!(
        "floor: squeezes {}/{} (floor {}/{}), pushes {}/{} (floor {}/{}), unmarked starts {false_starts} (ceiling {CEILING_FALSE_STARTS})",
        squeezes.0,
        squeezes.1,
        FLOOR_SQUEEZES.0,
        FLOOR_SQUEEZES.1,
        pushes.0,
        pushes.1,
        FLOOR_PUSHES.0,
        FLOOR_PUSHES.1
    );
    assert_eq!(
        squeezes.1, FLOOR_SQUEEZES.1,
        "squeeze markers in the six recordings"
    );
    assert_eq!(
        pushes.1, FLOOR_PUSHES.1,
        "push markers in the six recordings"
    );
    assert!(
        squeezes.0 >= FLOOR_SQUEEZES.0,
        "squeezes found fell below the floor"
    );
    assert!(
        pushes.0 >= FLOOR_PUSHES.0,
        "pushes found fell below the floor"
    );
    assert!(
        false_starts <= CEILING_FALSE_STARTS,
        "unmarked starts rose above the ceiling"
    );
    for o in &rows {
        assert!(
            o.false_starts.len() <= 1,
            "{}: {} unmarked starts before # RAIR (the issue allows one): {:?}",
            o.name,
            o.false_starts.len(),
            o.false_starts
        );
    }
    for o in &rows {
        for p in &o.pushes {
            if let Some((_, r, rao, _)) = p.found {
                assert!(
                    r.is_some(),
                    "{}: {} has no pelvic_response",
                    o.name,
                    p.label
                );
                assert!(
                    rao_consistent(r, rao),
                    "{}: {} has pelvic_response {} with rao_type {rao:?}",
                    o.name,
                    p.label,
                    response(r)
                );
            }
        }
    }
}

/// The issue-7 criteria, unchanged. Ignored while the detectors do not
/// meet them; run with
/// `cargo test -p levator-cli --test real_manometry -- --ignored`.
/// Still failing (session 3): `test1`/`testcommented` `# Squeeze 1` (the
/// squeeze moves the anal high-pressure zone from sensor `6` to `7`: the
/// maximum of the anal sensors, the clinical eSleeve pressure, rises by
/// only 5-9 mmHg, no more than the resting tone waves around it) and the
/// three pushes of `testdeactivatedchannels` (the rectal sensor marked
/// invalid, `B1`, is the one that shows the pushes; the valid `B2` falls
/// by 4-5 mmHg during them although it follows the cough). The cap of one
/// unmarked start per recording is met since the stream starts at the
/// `# Rest` marker (session 3).
#[test]
#[ignore = "issue 7 criteria not yet met by the detectors; run with --ignored"]
fn real_recordings_meet_the_issue_7_criteria() {
    let Some(dir) = real_dir() else { return };
    let rows = real_outcomes(&dir);
    print_table("REAL MANOMETRY", &rows);
    let mut failures = Vec::new();
    for o in &rows {
        if !o.missed.is_empty() {
            failures.push(format!("{}: missed {}", o.name, o.missed.join(", ")));
        }
        if o.false_starts.len() > 1 {
            failures.push(format!(
                "{}: {} false starts before # RAIR (at most 1)",
                o.name,
                o.false_starts.len()
            ));
        }
        for p in &o.pushes {
            if let Some((_, r, rao, _)) = p.found {
                if !rao_consistent(r, rao) {
                    failures.push(format!(
                        "{}: {} has pelvic_response {} with rao_type {rao:?}",
                        o.name,
                        p.label,
                        response(r)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn broken_variants_import_with_problems_or_fail_naming_the_line() {
    let Some(dir) = real_dir() else { return };
    let dir = dir.join("anomanor");
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for name in BROKEN {
        let path = dir.join(name);
        let o = levator(&[
            "analyze",
            path.to_str().unwrap_or_default(),
            "--format",
            "jsonl",
        ]);
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{name}: {err}");
        if !o.status.success() {
            let line = assert_one_line_error(&o, &[name]);
            assert!(
                line.contains("line "),
                "{name}: error does not name the line: {line}"
            );
            report!("{name}: fails: {line}");
            continue;
        }
        let events = parse_jsonl(&stdout(&o));
        let rec = ManometryReader::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let problems = rec.problems();
        assert!(
            !problems.is_empty(),
            "{name}: imports without a reported problem"
        );
        for p in problems {
            assert!(
                err.contains(&p.to_string()),
                "{name}: problem `{p}` not reported on stderr:\n{err}"
            );
        }
        report!(
            "{name}: {} problems reported, e.g. {}",
            problems.len(),
            problems[0]
        );
        let outcome = evaluate(name, rec.markers(), &events, length_s(&rec));
        if !outcome.missed.is_empty() {
            failures.push(format!("{name}: missed {}", outcome.missed.join(", ")));
        }
        rows.push(outcome);
    }
    print_table("BROKEN VARIANTS (false starts not capped)", &rows);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
