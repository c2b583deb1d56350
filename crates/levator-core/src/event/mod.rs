//! Events layer: what the detectors report (DESIGN.md "Events").
//!
//! One flat, `Copy` [`Event`] type serves both detector output and
//! simulator ground truth (where [`Event::detected_s`] is `None`), so a
//! single scorer can compare any detector with any truth. With the `serde`
//! feature an event serializes to the JSON-lines form of the contract:
//! snake_case names, seconds as floats, absent fields omitted.

use core::fmt;

use crate::stream::Role;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EventKind {
    /// Pelvic activity rises above the resting band.
    Contraction,
    /// Back in the resting band after a contraction (`release`) or a
    /// deliberate fall below rest (`drop`, the reverse Kegel).
    Relaxation,
    /// Abdominal push (Valsalva, simulated defecation).
    BearingDown,
    /// After a contraction the pelvic signal did not return to rest in time.
    PoorRelease,
    /// A problem with the signal itself.
    SignalQuality,
    /// Abdominal co-contraction during a pelvic contraction.
    Accessory,
}

impl EventKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EventKind; 6] = [
        EventKind::Contraction,
        EventKind::Relaxation,
        EventKind::BearingDown,
        EventKind::PoorRelease,
        EventKind::SignalQuality,
        EventKind::Accessory,
    ];

    /// The snake_case name used in JSON lines.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::Contraction => "contraction",
            EventKind::Relaxation => "relaxation",
            EventKind::BearingDown => "bearing_down",
            EventKind::PoorRelease => "poor_release",
            EventKind::SignalQuality => "signal_quality",
            EventKind::Accessory => "accessory",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Start or end of an interval event. Instant events (`poor_release`) have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Phase {
    /// The interval begins.
    Start,
    /// The interval ends.
    End,
}

/// Subtype of a `relaxation` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RelaxationSubtype {
    /// Back inside the resting band after a contraction.
    Release,
    /// Deliberate fall below rest without abdominal push (reverse Kegel).
    Drop,
}

/// How the pelvic floor answered a push (`bearing_down` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PelvicResponse {
    /// Pelvic activity fell by 20% or more (normal coordination).
    Relaxed,
    /// Pelvic activity rose (dyssynergia).
    Paradoxical,
    /// Less than 20% relaxation (dyssynergia).
    Unchanged,
}

/// What is wrong with the signal (`signal_quality` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum QualityIssue {
    /// Mains interference (50/60 Hz and harmonics).
    Mains,
    /// Saturation / clipping at the ADC rails.
    Saturation,
    /// Flat line (electrode off, sensor dead).
    Flatline,
    /// Samples missing from the source.
    Gap,
    /// Large non-physiological transient (motion, cable).
    Artifact,
}

impl QualityIssue {
    /// The snake_case name used in JSON lines.
    pub const fn name(self) -> &'static str {
        match self {
            QualityIssue::Mains => "mains",
            QualityIssue::Saturation => "saturation",
            QualityIssue::Flatline => "flatline",
            QualityIssue::Gap => "gap",
            QualityIssue::Artifact => "artifact",
        }
    }
}

/// One detected (or ground-truth) event.
///
/// Fields that do not apply to a kind are `None` and are omitted from JSON.
/// Times are seconds from stream start.
///
/// ```
/// use levator_core::event::{Event, EventKind, Phase};
/// use levator_core::stream::Role;
/// let e = Event::new(EventKind::Contraction, Some(Phase::Start), 12.304)
///     .detected_at(12.331)
///     .on_channel(Role::PelvicEmg);
/// assert!((e.latency_s().unwrap() - 0.027).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Start or end, for interval events.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub phase: Option<Phase>,
    /// Relaxation subtype.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub subtype: Option<RelaxationSubtype>,
    /// Estimated start of the event, retro-dated (s).
    pub onset_s: f64,
    /// Stream time at which the detector emitted it (s); `None` in truth labels.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub detected_s: Option<f64>,
    /// End of the interval, on `end` events (s).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub end_s: Option<f64>,
    /// The channel the event was judged on.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub channel: Option<Role>,
    /// Peak of the contraction, in the channel's canonical unit.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub peak: Option<f64>,
    /// Peak as % of the calibrated maximum voluntary contraction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub peak_pct_mvc: Option<f64>,
    /// Time from onset to reaching the plateau/peak (s).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub rise_s: Option<f64>,
    /// Duration of the interval (s).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub duration_s: Option<f64>,
    /// Release latency: from the start of the fall to re-entering the band (s).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub latency_s: Option<f64>,
    /// How the pelvic floor answered a push.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub pelvic_response: Option<PelvicResponse>,
    /// Push strength: abdominal rise above rest, in the channel's canonical unit.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub push: Option<f64>,
    /// Rao dyssynergia type 1-4 (manometry).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub rao_type: Option<u8>,
    /// Poor release: residual level as % of the contraction's rise.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub residual_pct: Option<f64>,
    /// Poor release: time since the contraction ended (s).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub elapsed_s: Option<f64>,
    /// Signal-quality issue.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub issue: Option<QualityIssue>,
    /// Samples lost (quality `gap`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub samples_lost: Option<u64>,
}

impl Event {
    /// An event with only kind, phase and onset set.
    pub const fn new(kind: EventKind, phase: Option<Phase>, onset_s: f64) -> Event {
        Event {
            kind,
            phase,
            subtype: None,
            onset_s,
            detected_s: None,
            end_s: None,
            channel: None,
            peak: None,
            peak_pct_mvc: None,
            rise_s: None,
            duration_s: None,
            latency_s: None,
            pelvic_response: None,
            push: None,
            rao_type: None,
            residual_pct: None,
            elapsed_s: None,
            issue: None,
            samples_lost: None,
        }
    }

    /// Sets [`Event::detected_s`].
    pub const fn detected_at(mut self, detected_s: f64) -> Event {
        self.detected_s = Some(detected_s);
        self
    }

    /// Sets [`Event::channel`].
    pub const fn on_channel(mut self, role: Role) -> Event {
        self.channel = Some(role);
        self
    }

    /// Detection latency `detected_s - onset_s`, when detected.
    pub fn latency_s(&self) -> Option<f64> {
        self.detected_s.map(|d| d - self.onset_s)
    }

    /// The same event with every float field rounded to 1 µs / 6 decimals,
    /// the precision of the JSON-lines form (keeps `12.304` from printing
    /// as `12.304000000000002`).
    pub fn rounded(mut self) -> Event {
        fn r(x: f64) -> f64 {
            libm::round(x * 1e6) / 1e6
        }
        fn ro(x: Option<f64>) -> Option<f64> {
            x.map(r)
        }
        self.onset_s = r(self.onset_s);
        self.detected_s = ro(self.detected_s);
        self.end_s = ro(self.end_s);
        self.peak = ro(self.peak);
        self.peak_pct_mvc = ro(self.peak_pct_mvc);
        self.rise_s = ro(self.rise_s);
        self.duration_s = ro(self.duration_s);
        self.latency_s = ro(self.latency_s);
        self.push = ro(self.push);
        self.residual_pct = ro(self.residual_pct);
        self.elapsed_s = ro(self.elapsed_s);
        self
    }

    /// True for `start` events and instant events: the ones a scorer
    /// matches against truth onsets.
    pub fn is_onset(&self) -> bool {
        !matches!(self.phase, Some(Phase::End))
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn json_matches_contract() {
        let e = Event::new(EventKind::Contraction, Some(Phase::Start), 12.304)
            .detected_at(12.331)
            .on_channel(Role::PelvicEmg);
        let s = serde_json::to_string(&e).unwrap();
        assert_eq!(
            s,
            r#"{"kind":"contraction","phase":"start","onset_s":12.304,"detected_s":12.331,"channel":"pelvic_emg"}"#
        );
        let back: Event = serde_json::from_str(&s).unwrap();
        assert_eq!(back, e);
        let truth: Event = serde_json::from_str(
            r#"{"kind":"poor_release","onset_s":14.52,"residual_pct":38.0,"elapsed_s":2.0}"#,
        )
        .unwrap();
        assert_eq!(truth.phase, None);
        assert_eq!(truth.detected_s, None);
    }
}
