//! The session summary printed by `analyze --format table`, `demo` and
//! `monitor`: event counts and Glazer-style metrics with flags.
//!
//! Metrics follow the Glazer protocol's phases, taken from the detected
//! events rather than from a fixed timetable (so they work for any
//! session): **rest** = pelvic feature level (EMG envelope µV or pressure)
//! outside any detected contraction, drop or push and outside the
//! [`RECOVERY_S`] after one; **flicks** = contractions up to
//! [`FLICK_MAX_S`] long; **tonic holds** = longer ones below
//! [`ENDURANCE_MIN_S`]; **endurance** = longer still. Per phase: count,
//! mean and peak amplitude, variability (SD, CV) and mean rise time;
//! release (recovery) time from `relaxation`/`release` events.
//!
//! Flags use the cut-offs of DESIGN.md (pain patients, surface EMG):
//! resting tone > 2.0 µV, rest SD > 0.20 µV, recovery > 0.2 s, contraction
//! amplitude < 17 µV. They apply to EMG only (µV); pressure sessions get
//! the numbers without µV flags. Median frequency needs the raw spectrum
//! and is not computed here.

use std::collections::BTreeMap;

use levator_core::detect::glazer::GlazerCutoffs;
use levator_core::detect::Snapshot;
use levator_core::event::{Event, EventKind, PelvicResponse, Phase, RelaxationSubtype};
use levator_core::features::stats::RunningStats;
use levator_core::score::percentile;
use levator_core::stream::Role;

use crate::output::{roman, Style};

/// Time after a detected interval ends before samples count as rest again (s).
pub const RECOVERY_S: f64 = 2.0;
/// Longest contraction counted as a quick flick (s).
pub const FLICK_MAX_S: f64 = 4.0;
/// Shortest contraction counted as an endurance hold (s).
pub const ENDURANCE_MIN_S: f64 = 30.0;

fn mean_sd(v: &[f64]) -> (Option<f64>, Option<f64>) {
    let mut m = RunningStats::new();
    v.iter().for_each(|x| m.push(*x));
    (m.mean(), m.sd())
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    percentile(&mut v, 0.5)
}

/// The event holding the final judgement of a push: its `end` event when
/// that has a pelvic response, else the `start`.
pub fn final_judgement<'a>(events: &'a [Event], start: &'a Event) -> &'a Event {
    events
        .iter()
        .find(|x| {
            x.kind == EventKind::BearingDown
                && x.phase == Some(Phase::End)
                && x.pelvic_response.is_some()
                && (x.onset_s - start.onset_s).abs() < 1e-9
        })
        .unwrap_or(start)
}

/// Accumulates a session's events and rest levels.
#[derive(Debug)]
pub struct Summary {
    pelvic: Option<Role>,
    rate_hz: f64,
    open: BTreeMap<EventKind, u32>,
    rest_until: f64,
    rest: RunningStats,
    events: Vec<Event>,
}

/// One metric line: label, value text, and the flag raised (if any).
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// What is measured.
    pub label: String,
    /// The value, formatted with its unit.
    pub value: String,
    /// A warning when a cut-off is crossed.
    pub flag: Option<String>,
}

impl Summary {
    /// A summary for a stream at `rate_hz` whose pelvic channel is `pelvic` (if any).
    pub fn new(pelvic: Option<Role>, rate_hz: f64) -> Summary {
        Summary {
            pelvic,
            rate_hz,
            open: BTreeMap::new(),
            rest_until: 0.0,
            rest: RunningStats::new(),
            events: Vec::new(),
        }
    }

    /// Takes one step of the run: the events emitted and the features after it.
    pub fn step(&mut self, events: &[Event], snapshot: &Snapshot) {
        for e in events {
            self.events.push(*e);
            let interval = matches!(
                (e.kind, e.subtype),
                (EventKind::Contraction, _)
                    | (EventKind::BearingDown, _)
                    | (EventKind::Relaxation, Some(RelaxationSubtype::Drop))
            );
            if !interval {
                continue;
            }
            let n = self.open.entry(e.kind).or_default();
            match e.phase {
                Some(Phase::Start) => *n += 1,
                Some(Phase::End) => {
                    *n = n.saturating_sub(1);
                    self.rest_until = self.rest_until.max(snapshot.t_s + RECOVERY_S);
                }
                None => {}
            }
        }
        let active = self.open.values().any(|n| *n > 0);
        if !active && snapshot.t_s >= self.rest_until {
            if let Some((level, _band)) = snapshot.pelvic {
                self.rest.push(level);
            }
        }
    }

    /// All events seen, in emission order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Count of events per kind, splitting starts and ends.
    pub fn counts(&self) -> BTreeMap<&'static str, (usize, usize, usize)> {
        let mut m: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
        for e in &self.events {
            let label = match (e.kind, e.subtype) {
                (EventKind::Relaxation, Some(RelaxationSubtype::Drop)) => "relaxation/drop",
                (EventKind::Relaxation, _) => "relaxation/release",
                (k, _) => k.name(),
            };
            let c = m.entry(label).or_default();
            match e.phase {
                Some(Phase::Start) => c.0 += 1,
                Some(Phase::End) => c.1 += 1,
                None => c.2 += 1,
            }
        }
        m
    }

    /// The Glazer-style metrics with their flags.
    pub fn metrics(&self) -> Vec<Metric> {
        // One source of truth for the cut-offs: the core's Glazer module.
        let cut = GlazerCutoffs::default();
        let emg = self.pelvic.is_some_and(Role::is_emg);
        let unit = match self.pelvic {
            Some(r) if r.is_emg() => "µV",
            Some(_) => "cmH2O",
            None => "",
        };
        let mut out = Vec::new();
        let mut push = |label: &str, value: String, flag: Option<String>| {
            out.push(Metric {
                label: label.to_string(),
                value,
                flag,
            })
        };
        if self.pelvic.is_none() {
            push(
                "pelvic metrics",
                "no pelvic channel in this stream".into(),
                None,
            );
        }
        if let (true, Some(sd), Some(mean)) =
            (self.pelvic.is_some(), self.rest.sd(), self.rest.mean())
        {
            push(
                "resting tone",
                format!(
                    "{mean:.2} {unit} (SD {sd:.2}, {:.0} s of rest)",
                    self.rest.count() as f64 / self.rate_hz
                ),
                (emg && mean > cut.rest_mean_uv).then(|| {
                    format!(
                        "elevated (> {} µV): overactive pelvic floor",
                        cut.rest_mean_uv
                    )
                }),
            );
            if emg && sd > cut.rest_sd_uv {
                push(
                    "rest variability",
                    format!("SD {sd:.2} µV"),
                    Some(format!("unstable rest (SD > {} µV)", cut.rest_sd_uv)),
                );
            }
        }
        let ends: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::End))
            .collect();
        let dur = |e: &&Event| e.duration_s.or_else(|| e.end_s.map(|x| x - e.onset_s));
        let phases: [(&str, f64, f64); 3] = [
            ("quick flicks", 0.0, FLICK_MAX_S),
            ("tonic holds", FLICK_MAX_S, ENDURANCE_MIN_S),
            ("endurance", ENDURANCE_MIN_S, f64::INFINITY),
        ];
        let mut all_peaks = Vec::new();
        for (name, lo, hi) in phases {
            let group: Vec<&&Event> = ends
                .iter()
                .filter(|e| dur(e).is_some_and(|d| d > lo && d <= hi))
                .collect();
            if group.is_empty() {
                continue;
            }
            let peaks: Vec<f64> = group.iter().filter_map(|e| e.peak).collect();
            let rises: Vec<f64> = group.iter().filter_map(|e| e.rise_s).collect();
            all_peaks.extend_from_slice(&peaks);
            let (pm, psd) = mean_sd(&peaks);
            let max = peaks.iter().copied().fold(f64::NAN, f64::max);
            let (rm, _) = mean_sd(&rises);
            let mut value = format!("{} x", group.len());
            if let Some(pm) = pm {
                value.push_str(&format!(", mean peak {pm:.1} {unit}, max {max:.1}"));
                if let Some(sd) = psd {
                    if pm.abs() > 1e-9 {
                        value.push_str(&format!(", CV {:.0}%", sd / pm * 100.0));
                    }
                }
            }
            if let Some(rm) = rm {
                value.push_str(&format!(", rise {rm:.2} s"));
            }
            push(name, value, None);
        }
        if let (true, (Some(pm), _)) = (emg, mean_sd(&all_peaks)) {
            if pm < cut.contraction_uv {
                push(
                    "contraction amplitude",
                    format!("{pm:.1} µV"),
                    Some(format!("weak (< {} µV)", cut.contraction_uv)),
                );
            }
        }
        let releases: Vec<f64> = self
            .events
            .iter()
            .filter(|e| {
                e.kind == EventKind::Relaxation && e.subtype == Some(RelaxationSubtype::Release)
            })
            .filter_map(|e| e.latency_s)
            .collect();
        if let Some(m) = median(&releases) {
            push(
                "recovery (release)",
                format!("median {m:.2} s over {}", releases.len()),
                (emg && m > cut.recovery_s)
                    .then(|| format!("slow (> {} s): letting go is hard", cut.recovery_s)),
            );
        }
        let poor = self
            .events
            .iter()
            .filter(|e| e.kind == EventKind::PoorRelease)
            .count();
        if poor > 0 || !ends.is_empty() {
            push(
                "poor release",
                format!("{poor} of {} contractions", ends.len()),
                (poor > 0).then(|| "did not return to rest in time".to_string()),
            );
        }
        let drops = self
            .events
            .iter()
            .filter(|e| {
                e.kind == EventKind::Relaxation
                    && e.subtype == Some(RelaxationSubtype::Drop)
                    && e.phase == Some(Phase::Start)
            })
            .count();
        if drops > 0 {
            push("reverse Kegel drops", format!("{drops}"), None);
        }
        for (i, start) in self
            .events
            .iter()
            .filter(|e| e.kind == EventKind::BearingDown && e.phase == Some(Phase::Start))
            .enumerate()
        {
            // The push's end event carries the final judgement (the whole push seen).
            let e = final_judgement(&self.events, start);
            let resp = e.pelvic_response.map(|r| match r {
                PelvicResponse::Relaxed => "relaxed",
                PelvicResponse::Paradoxical => "paradoxical",
                PelvicResponse::Unchanged => "unchanged (< 20% relaxation)",
            });
            let mut value = format!(
                "at {:.1} s, pelvic floor {}",
                e.onset_s,
                resp.unwrap_or("not judged")
            );
            if let Some(t) = e.rao_type {
                value.push_str(&format!(", Rao type {}", roman(t)));
            }
            let flag = matches!(
                e.pelvic_response,
                Some(PelvicResponse::Paradoxical | PelvicResponse::Unchanged)
            )
            .then(|| "dyssynergic pattern".to_string());
            push(&format!("push {}", i + 1), value, flag);
        }
        out
    }

    /// Renders counts and metrics as indented lines.
    pub fn render(&self, style: &Style) -> Vec<String> {
        let mut lines = vec![style.bold("events")];
        let counts = self.counts();
        if counts.is_empty() {
            lines.push("  (none)".into());
        }
        for (label, (s, e, i)) in counts {
            let detail = if i > 0 {
                format!("{i}")
            } else {
                format!("{s} start / {e} end")
            };
            lines.push(format!("  {label:<20} {detail}"));
        }
        lines.push(style.bold("Glazer-style metrics"));
        for m in self.metrics() {
            let flag = m
                .flag
                .map(|f| format!("  {}", style.warn(&format!("! {f}"))))
                .unwrap_or_default();
            lines.push(format!("  {:<22} {}{flag}", m.label, m.value));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levator_core::features::baseline::{Band, BandConfig};

    fn snap(t_s: f64, level: f64) -> Snapshot {
        Snapshot {
            t_s,
            pelvic: Some((level, Band::new(level, 0.1, &BandConfig::emg()))),
            push: None,
        }
    }

    fn contraction(onset: f64, dur: f64, peak: f64) -> [Event; 2] {
        let s = Event::new(EventKind::Contraction, Some(Phase::Start), onset).detected_at(onset);
        let mut e = s;
        e.phase = Some(Phase::End);
        e.end_s = Some(onset + dur);
        e.duration_s = Some(dur);
        e.peak = Some(peak);
        e.rise_s = Some(0.3);
        [s, e]
    }

    #[test]
    fn hypertonic_weak_session_raises_the_glazer_flags() {
        let mut s = Summary::new(Some(Role::PelvicEmg), 10.0);
        for i in 0..100 {
            // rest alternating 3.0 / 3.6 µV: mean 3.3, SD ~0.3
            s.step(
                &[],
                &snap(i as f64 * 0.1, if i % 2 == 0 { 3.0 } else { 3.6 }),
            );
        }
        let [a, b] = contraction(10.0, 2.0, 12.0);
        s.step(&[a], &snap(10.0, 12.0));
        // inside the contraction: not rest
        s.step(&[], &snap(11.0, 50.0));
        s.step(&[b], &snap(12.0, 12.0));
        // recovery window: still not rest
        s.step(&[], &snap(13.0, 40.0));
        let mut rel = Event::new(EventKind::Relaxation, Some(Phase::Start), 12.0).detected_at(12.9);
        rel.subtype = Some(RelaxationSubtype::Release);
        rel.latency_s = Some(0.9);
        s.step(&[rel], &snap(14.5, 3.3));
        let m = s.metrics();
        let get = |l: &str| m.iter().find(|x| x.label == l).cloned();
        let rest = get("resting tone").unwrap();
        assert!(rest.value.starts_with("3.30 µV"), "{rest:?}");
        assert!(rest.flag.is_some());
        assert!(get("rest variability").unwrap().flag.is_some());
        let flicks = get("quick flicks").unwrap();
        assert!(
            flicks.value.starts_with("1 x, mean peak 12.0 µV"),
            "{flicks:?}"
        );
        assert!(
            get("contraction amplitude").unwrap().flag.is_some(),
            "12 µV < 17 µV"
        );
        assert!(
            get("recovery (release)").unwrap().flag.is_some(),
            "0.9 s > 0.2 s"
        );
        assert_eq!(s.counts()["contraction"], (1, 1, 0));
    }

    #[test]
    fn pressure_sessions_get_numbers_without_uv_flags() {
        let mut s = Summary::new(Some(Role::PelvicPressure), 10.0);
        for i in 0..50 {
            s.step(&[], &snap(i as f64 * 0.1, 30.0 + (i % 2) as f64));
        }
        let [a, b] = contraction(6.0, 8.0, 12.0);
        s.step(&[a, b], &snap(6.0, 30.0));
        let m = s.metrics();
        assert!(m.iter().all(|x| x.flag.is_none()), "{m:?}");
        assert!(m
            .iter()
            .any(|x| x.label == "tonic holds" && x.value.contains("cmH2O")));
    }

    #[test]
    fn push_uses_the_end_events_judgement() {
        let mut s = Summary::new(Some(Role::PelvicPressure), 10.0);
        let mut start =
            Event::new(EventKind::BearingDown, Some(Phase::Start), 5.0).detected_at(5.5);
        start.pelvic_response = Some(PelvicResponse::Unchanged);
        start.rao_type = Some(4);
        let mut end = start;
        end.phase = Some(Phase::End);
        end.pelvic_response = Some(PelvicResponse::Paradoxical);
        end.rao_type = Some(1);
        s.step(&[start, end], &snap(6.0, 30.0));
        let push = s
            .metrics()
            .into_iter()
            .find(|x| x.label == "push 1")
            .unwrap();
        assert!(
            push.value.contains("paradoxical") && push.value.ends_with("Rao type I"),
            "{push:?}"
        );
        assert!(push.flag.is_some());
    }
}
