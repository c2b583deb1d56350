//! # Score: detected events against ground truth
//!
//! One scorer compares any detector output with any truth (simulator
//! labels, hand labels), both as [`Event`]s (truth has `detected_s: None`).
//!
//! **What is matched.** Only *onset* events ([`Event::is_onset`]: `start`
//! phases and instant events such as `poor_release`), per row: one row per
//! [`EventKind`], with `relaxation` split into `relaxation/release` and
//! `relaxation/drop` (different behaviours). A detection matches a truth
//! event of the same row when their `onset_s` differ by at most
//! [`ScoreConfig::tolerance_s`] (default 1.0 s: every protocol in levator
//! separates two events of one kind by more than twice that, e.g. Glazer
//! flicks 2 s on / 10 s rest, so a window of ±1 s can never pair one truth
//! with two detections of different events, yet covers onset uncertainty
//! at 1.85-10 Hz manometry rates). Pairs are assigned greedily in order of
//! increasing onset difference, each event used at most once.
//!
//! **Metrics per row**: true/false positives, misses, precision, recall,
//! F1; onset error = |detected onset - true onset| (median, p95); detection
//! latency = `detected_s` - true onset (median, p95; the delay a user
//! feels); false events per 10 minutes = false positives / duration x 600;
//! for `bearing_down`, the fraction of matched pushes whose
//! `pelvic_response` (and, where both have one, `rao_type`) agree, taken
//! from the detector's end event of the push when there is one (a start
//! event carries a provisional judgement).
//!
//! ```
//! use levator_core::event::{Event, EventKind, Phase};
//! use levator_core::score::{score, ScoreConfig};
//! let truth = [Event::new(EventKind::Contraction, Some(Phase::Start), 10.0)];
//! let detected = [
//!     Event::new(EventKind::Contraction, Some(Phase::Start), 10.004).detected_at(10.02),
//!     Event::new(EventKind::Contraction, Some(Phase::Start), 50.0).detected_at(50.02),
//! ];
//! let report = score(&detected, &truth, &ScoreConfig::new(600.0));
//! let row = report.row("contraction").unwrap();
//! assert_eq!((row.true_positives, row.false_positives, row.missed), (1, 1, 0));
//! assert!((row.latency_median_s.unwrap() - 0.02).abs() < 1e-9);
//! assert!((row.false_per_10min - 1.0).abs() < 1e-9);
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
#[cfg(feature = "alloc")]
use core::fmt;

#[cfg(feature = "alloc")]
use crate::event::{Event, EventKind, RelaxationSubtype};

/// How to score.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ScoreConfig {
    /// Largest |detected onset - true onset| that still matches (s).
    /// Default 1.0 s (see the module docs).
    pub tolerance_s: f64,
    /// Length of the scored recording (s), for false events per 10 min.
    pub duration_s: f64,
}

impl ScoreConfig {
    /// Default tolerance for a recording of `duration_s` seconds.
    pub const fn new(duration_s: f64) -> ScoreConfig {
        ScoreConfig {
            tolerance_s: 1.0,
            duration_s,
        }
    }

    /// Sets [`ScoreConfig::tolerance_s`].
    pub const fn with_tolerance_s(mut self, tolerance_s: f64) -> ScoreConfig {
        self.tolerance_s = tolerance_s;
        self
    }
}

/// Scores of one event kind.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Row {
    /// `contraction`, `relaxation/release`, `relaxation/drop`,
    /// `bearing_down`, `poor_release`, `signal_quality`, `accessory`.
    pub label: &'static str,
    /// Onset events in the truth.
    pub truth: usize,
    /// Onset events detected.
    pub detected: usize,
    /// Matched pairs.
    pub true_positives: usize,
    /// Detections without a truth event.
    pub false_positives: usize,
    /// Truth events without a detection.
    pub missed: usize,
    /// tp / (tp + fp); `None` without detections.
    pub precision: Option<f64>,
    /// tp / (tp + missed); `None` without truth events.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall (0 when either is 0).
    pub f1: Option<f64>,
    /// Median |onset error| of matched pairs (s).
    pub onset_error_median_s: Option<f64>,
    /// 95th percentile |onset error| (s).
    pub onset_error_p95_s: Option<f64>,
    /// Median detection latency `detected_s - true onset` (s).
    pub latency_median_s: Option<f64>,
    /// 95th percentile detection latency (s).
    pub latency_p95_s: Option<f64>,
    /// False positives per 10 minutes of recording.
    pub false_per_10min: f64,
    /// `bearing_down`: fraction of matched pairs whose `pelvic_response`
    /// agrees (and `rao_type`, when both carry one).
    pub attribute_agreement: Option<f64>,
}

/// The score of a whole recording (or a set of recordings merged with
/// [`Report::merge`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg(feature = "alloc")]
pub struct Report {
    /// Length of the scored material (s).
    pub duration_s: f64,
    /// One row per kind present in truth or detections, in a fixed order.
    pub rows: Vec<Row>,
    /// Raw matched samples kept for merging: (row label, |onset error|,
    /// latency).
    #[cfg_attr(feature = "serde", serde(skip))]
    pairs: Vec<(&'static str, f64, f64)>,
    #[cfg_attr(feature = "serde", serde(skip))]
    agreements: Vec<(&'static str, bool)>,
}

#[cfg(feature = "alloc")]
const LABELS: [&str; 7] = [
    "contraction",
    "relaxation/release",
    "relaxation/drop",
    "bearing_down",
    "poor_release",
    "accessory",
    "signal_quality",
];

#[cfg(feature = "alloc")]
fn label_of(e: &Event) -> &'static str {
    match (e.kind, e.subtype) {
        (EventKind::Contraction, _) => LABELS[0],
        (EventKind::Relaxation, Some(RelaxationSubtype::Drop)) => LABELS[2],
        (EventKind::Relaxation, _) => LABELS[1],
        (EventKind::BearingDown, _) => LABELS[3],
        (EventKind::PoorRelease, _) => LABELS[4],
        (EventKind::Accessory, _) => LABELS[5],
        (EventKind::SignalQuality, _) => LABELS[6],
    }
}

/// Matches `detected` against `truth` (see the module docs).
#[cfg(feature = "alloc")]
pub fn score(detected: &[Event], truth: &[Event], config: &ScoreConfig) -> Report {
    let mut counts: Vec<(&'static str, usize, usize, usize)> = Vec::new(); // label, truth, det, tp
    let mut pairs = Vec::new();
    let mut agreements = Vec::new();
    for label in LABELS {
        let t: Vec<&Event> = truth
            .iter()
            .filter(|e| e.is_onset() && label_of(e) == label && e.onset_s.is_finite())
            .collect();
        let d: Vec<&Event> = detected
            .iter()
            .filter(|e| e.is_onset() && label_of(e) == label && e.onset_s.is_finite())
            .collect();
        if t.is_empty() && d.is_empty() {
            continue;
        }
        let mut cand: Vec<(f64, usize, usize)> = Vec::new();
        for (i, te) in t.iter().enumerate() {
            for (j, de) in d.iter().enumerate() {
                let err = libm::fabs(de.onset_s - te.onset_s);
                if err <= config.tolerance_s {
                    cand.push((err, i, j));
                }
            }
        }
        cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut t_used = alloc::vec![false; t.len()];
        let mut d_used = alloc::vec![false; d.len()];
        let mut tp = 0;
        for (err, i, j) in cand {
            if t_used[i] || d_used[j] {
                continue;
            }
            t_used[i] = true;
            d_used[j] = true;
            tp += 1;
            let latency = d[j].detected_s.unwrap_or(d[j].onset_s) - t[i].onset_s;
            pairs.push((label, err, latency));
            if label == LABELS[3] {
                // the detector's final word is on the end event of the
                // same interval (the start carries a provisional one)
                let fin = detected
                    .iter()
                    .find(|e| {
                        e.kind == d[j].kind
                            && e.phase == Some(crate::event::Phase::End)
                            && e.onset_s == d[j].onset_s
                    })
                    .unwrap_or(d[j]);
                let resp_ok =
                    t[i].pelvic_response.is_none() || t[i].pelvic_response == fin.pelvic_response;
                let rao_ok = match (t[i].rao_type, fin.rao_type) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                agreements.push((label, resp_ok && rao_ok));
            }
        }
        counts.push((label, t.len(), d.len(), tp));
    }
    let mut report = Report {
        duration_s: config.duration_s,
        rows: Vec::new(),
        pairs,
        agreements,
    };
    report.rows = counts
        .iter()
        .map(|&(label, nt, nd, tp)| report.make_row(label, nt, nd, tp))
        .collect();
    report
}

#[cfg(feature = "alloc")]
impl Report {
    /// The row with `label` (`"contraction"`, `"relaxation/release"`, ...).
    pub fn row(&self, label: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.label == label)
    }

    /// Total false positives per 10 minutes over all rows.
    pub fn false_per_10min(&self) -> f64 {
        self.rows.iter().map(|r| r.false_per_10min).sum()
    }

    /// Pools another report into this one (counts and samples add up, the
    /// medians and percentiles are recomputed over all matched pairs).
    pub fn merge(&mut self, other: &Report) {
        let mut counts: Vec<(&'static str, usize, usize, usize)> = Vec::new();
        for label in LABELS {
            let a = self.row(label);
            let b = other.row(label);
            if a.is_none() && b.is_none() {
                continue;
            }
            let get =
                |r: Option<&Row>| r.map_or((0, 0, 0), |r| (r.truth, r.detected, r.true_positives));
            let (t1, d1, p1) = get(a);
            let (t2, d2, p2) = get(b);
            counts.push((label, t1 + t2, d1 + d2, p1 + p2));
        }
        self.duration_s += other.duration_s;
        self.pairs.extend_from_slice(&other.pairs);
        self.agreements.extend_from_slice(&other.agreements);
        self.rows = counts
            .iter()
            .map(|&(label, nt, nd, tp)| self.make_row(label, nt, nd, tp))
            .collect();
    }

    fn make_row(&self, label: &'static str, nt: usize, nd: usize, tp: usize) -> Row {
        let mut errs: Vec<f64> = Vec::new();
        let mut lats: Vec<f64> = Vec::new();
        for (l, e, lat) in &self.pairs {
            if *l == label {
                errs.push(*e);
                lats.push(*lat);
            }
        }
        let fp = nd - tp;
        let precision = (nd > 0).then(|| tp as f64 / nd as f64);
        let recall = (nt > 0).then(|| tp as f64 / nt as f64);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        let agree: Vec<bool> = self
            .agreements
            .iter()
            .filter(|(l, _)| *l == label)
            .map(|(_, ok)| *ok)
            .collect();
        let attribute_agreement = (!agree.is_empty())
            .then(|| agree.iter().filter(|ok| **ok).count() as f64 / agree.len() as f64);
        Row {
            label,
            truth: nt,
            detected: nd,
            true_positives: tp,
            false_positives: fp,
            missed: nt - tp,
            precision,
            recall,
            f1,
            onset_error_median_s: percentile(&mut errs, 0.5),
            onset_error_p95_s: percentile(&mut errs, 0.95),
            latency_median_s: percentile(&mut lats, 0.5),
            latency_p95_s: percentile(&mut lats, 0.95),
            false_per_10min: if self.duration_s > 0.0 {
                fp as f64 / self.duration_s * 600.0
            } else {
                0.0
            },
            attribute_agreement,
        }
    }
}

/// Percentile `q` (0..=1) of `values` by linear interpolation between
/// order statistics (numpy's default); `None` when empty. Sorts in place.
#[cfg(feature = "alloc")]
pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = libm::floor(pos) as usize;
    let hi = libm::ceil(pos) as usize;
    let frac = pos - lo as f64;
    Some(values[lo] + (values[hi] - values[lo]) * frac)
}

/// Formats seconds as milliseconds, `-` when absent.
#[cfg(feature = "alloc")]
struct Ms(Option<f64>);

#[cfg(feature = "alloc")]
impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{:>8.1}", v * 1000.0),
            None => write!(f, "{:>8}", "-"),
        }
    }
}

/// Formats a ratio with three decimals, `-` when absent.
#[cfg(feature = "alloc")]
struct Ratio(Option<f64>);

#[cfg(feature = "alloc")]
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v:>6.3}"),
            None => write!(f, "{:>6}", "-"),
        }
    }
}

#[cfg(feature = "alloc")]
impl fmt::Display for Report {
    /// A fixed-width table, one line per row (times in ms).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<19} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}",
            "kind",
            "truth",
            "det",
            "fp",
            "miss",
            "prec",
            "recall",
            "F1",
            "err_med",
            "err_p95",
            "lat_med",
            "lat_p95",
            "fp/10m"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<19} {:>5} {:>5} {:>5} {:>5} {} {} {} {} {} {} {} {:>7.2}",
                r.label,
                r.truth,
                r.detected,
                r.false_positives,
                r.missed,
                Ratio(r.precision),
                Ratio(r.recall),
                Ratio(r.f1),
                Ms(r.onset_error_median_s),
                Ms(r.onset_error_p95_s),
                Ms(r.latency_median_s),
                Ms(r.latency_p95_s),
                r.false_per_10min
            )?;
        }
        write!(f, "duration {:.1} s", self.duration_s)
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::event::Phase;

    fn start(kind: EventKind, onset: f64) -> Event {
        Event::new(kind, Some(Phase::Start), onset)
    }

    #[test]
    fn greedy_matching_prefers_closest() {
        let truth = [
            start(EventKind::Contraction, 10.0),
            start(EventKind::Contraction, 11.5),
        ];
        let det = [
            start(EventKind::Contraction, 11.0).detected_at(11.1),
            start(EventKind::Contraction, 11.45).detected_at(11.5),
        ];
        let r = score(&det, &truth, &ScoreConfig::new(60.0));
        let row = r.row("contraction").unwrap();
        assert_eq!(row.true_positives, 2);
        assert_eq!(row.f1, Some(1.0));
        assert!((row.onset_error_median_s.unwrap() - 0.525).abs() < 1e-9);
    }

    #[test]
    fn end_events_are_not_scored_and_kinds_are_separate() {
        let truth = [
            start(EventKind::BearingDown, 5.0),
            Event::new(EventKind::BearingDown, Some(Phase::End), 5.0),
        ];
        let det = [start(EventKind::Contraction, 5.0).detected_at(5.1)];
        let r = score(&det, &truth, &ScoreConfig::new(600.0));
        assert_eq!(r.row("bearing_down").unwrap().missed, 1);
        assert_eq!(r.row("bearing_down").unwrap().recall, Some(0.0));
        assert_eq!(r.row("contraction").unwrap().false_positives, 1);
        assert!((r.false_per_10min() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn merge_pools_counts_and_samples() {
        let truth = [start(EventKind::Contraction, 1.0)];
        let a = [start(EventKind::Contraction, 1.01).detected_at(1.02)];
        let b = [start(EventKind::Contraction, 1.03).detected_at(1.06)];
        let mut r = score(&a, &truth, &ScoreConfig::new(10.0));
        r.merge(&score(&b, &truth, &ScoreConfig::new(10.0)));
        let row = r.row("contraction").unwrap();
        assert_eq!((row.truth, row.true_positives), (2, 2));
        assert!((row.latency_median_s.unwrap() - 0.04).abs() < 1e-9);
        assert_eq!(r.duration_s, 20.0);
    }

    #[test]
    fn percentile_interpolates() {
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&mut v, 0.5), Some(2.5));
        assert_eq!(percentile(&mut v, 1.0), Some(4.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
