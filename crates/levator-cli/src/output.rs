//! How events reach the user: the JSON-lines contract (one event per line
//! on stdout, nothing else) or an aligned table, coloured only when stdout
//! is a terminal.

use std::io::{self, IsTerminal, Write};

use levator_core::event::{Event, EventKind, PelvicResponse, Phase, RelaxationSubtype};

/// `--format` of commands that print events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    /// Aligned, human-readable lines and a summary.
    Table,
    /// Exactly one JSON event per line on stdout (DESIGN.md contract).
    Jsonl,
}

/// ANSI colours, used only when stdout is a terminal.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour iff stdout is a terminal and `NO_COLOR` is not set.
    pub fn detect() -> Style {
        Style {
            color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Wraps `text` in the colour of `kind`.
    pub fn kind(&self, kind: EventKind, text: &str) -> String {
        let code = match kind {
            EventKind::Contraction => "32",
            EventKind::Relaxation => "36",
            EventKind::BearingDown => "33",
            EventKind::PoorRelease => "35",
            EventKind::SignalQuality => "31",
            EventKind::Accessory => "34",
        };
        self.paint(code, text)
    }

    /// Dims `text`.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Bold `text`.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Red warning text.
    pub fn warn(&self, text: &str) -> String {
        self.paint("31", text)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The JSON line of an event: `serde_json::to_string(&event.rounded())`.
pub fn json_line(e: &Event) -> String {
    // Event serialization has no map keys or non-string keys that could fail.
    serde_json::to_string(&e.rounded())
        .unwrap_or_else(|err| format!("{{\"kind\":\"signal_quality\",\"error\":\"{err}\"}}"))
}

/// The phase column: `start`/`end`, the relaxation subtype, or `-`.
fn phase_text(e: &Event) -> String {
    let phase = match e.phase {
        Some(Phase::Start) => "start",
        Some(Phase::End) => "end",
        None => "",
    };
    match e.subtype {
        Some(RelaxationSubtype::Release) => format!("{phase} release"),
        Some(RelaxationSubtype::Drop) => format!("{phase} drop"),
        None if phase.is_empty() => "-".to_string(),
        None => phase.to_string(),
    }
}

/// Key fields of an event, `name=value` separated by two spaces.
pub fn details(e: &Event) -> String {
    let mut d: Vec<String> = Vec::new();
    if let Some(c) = e.channel {
        d.push(c.to_string());
    }
    if let Some(v) = e.end_s {
        d.push(format!("end={v:.2}s"));
    }
    if let Some(v) = e.duration_s {
        d.push(format!("dur={v:.2}s"));
    }
    if let Some(v) = e.peak {
        d.push(format!("peak={v:.1}"));
    }
    if let Some(v) = e.peak_pct_mvc {
        d.push(format!("mvc={v:.0}%"));
    }
    if let Some(v) = e.rise_s {
        d.push(format!("rise={v:.2}s"));
    }
    if let Some(v) = e.latency_s {
        d.push(format!("release={v:.2}s"));
    }
    if let Some(v) = e.pelvic_response {
        d.push(format!("pelvic={}", response_name(v)));
    }
    if let Some(v) = e.push {
        d.push(format!("push={v:.1}"));
    }
    if let Some(v) = e.rao_type {
        d.push(format!("rao=type {}", roman(v)));
    }
    if let Some(v) = e.residual_pct {
        d.push(format!("residual={v:.0}%"));
    }
    if let Some(v) = e.elapsed_s {
        d.push(format!("after={v:.1}s"));
    }
    if let Some(v) = e.issue {
        d.push(format!("issue={}", v.name()));
    }
    if let Some(v) = e.samples_lost {
        d.push(format!("lost={v}"));
    }
    d.join("  ")
}

/// The JSON name of a pelvic response.
pub fn response_name(r: PelvicResponse) -> &'static str {
    match r {
        PelvicResponse::Relaxed => "relaxed",
        PelvicResponse::Paradoxical => "paradoxical",
        PelvicResponse::Unchanged => "unchanged",
    }
}

/// Roman numeral of a Rao type (1-4), the way clinicians write it.
pub fn roman(t: u8) -> String {
    match t {
        1 => "I".into(),
        2 => "II".into(),
        3 => "III".into(),
        4 => "IV".into(),
        n => n.to_string(),
    }
}

/// Header line of the event table.
pub fn table_header(style: &Style) -> String {
    style.bold(&format!(
        "{:>9}  {:>9}  {:>7}  {:<14} {:<14} details",
        "detected", "onset", "delay", "kind", "phase"
    ))
}

/// One aligned table line for an event: detection time, onset, delay
/// (detection minus onset; for `end` events minus the end), kind, phase, details.
pub fn table_line(e: &Event, style: &Style) -> String {
    let det = e
        .detected_s
        .map(|d| format!("{d:>8.2}s"))
        .unwrap_or_else(|| format!("{:>9}", "-"));
    // For `end` events the delay that matters is from the end itself.
    let reference = match (e.phase, e.end_s) {
        (Some(Phase::End), Some(end)) => end,
        _ => e.onset_s,
    };
    let lat = e
        .detected_s
        .map(|d| format!("{:>5.0}ms", (d - reference) * 1000.0))
        .unwrap_or_else(|| format!("{:>7}", "-"));
    let kind = style.kind(e.kind, &format!("{:<14}", e.kind.name()));
    format!(
        "{det}  {:>8.2}s  {lat}  {kind} {:<14} {}",
        e.onset_s,
        phase_text(e),
        details(e)
    )
}

/// Writes events in the chosen format.
#[derive(Debug)]
pub struct EventPrinter {
    format: EventFormat,
    style: Style,
    header_done: bool,
}

impl EventPrinter {
    /// A printer for `format` with colour decided by [`Style::detect`].
    pub fn new(format: EventFormat) -> EventPrinter {
        EventPrinter {
            format,
            style: Style::detect(),
            header_done: false,
        }
    }

    /// The style in use.
    pub fn style(&self) -> Style {
        self.style
    }

    fn header(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            writeln!(out, "{}", table_header(&self.style))?;
        }
        Ok(())
    }

    /// Prints one event.
    pub fn event(&mut self, out: &mut impl Write, e: &Event) -> io::Result<()> {
        match self.format {
            EventFormat::Jsonl => writeln!(out, "{}", json_line(e)),
            EventFormat::Table => {
                self.header(out)?;
                writeln!(out, "{}", table_line(e, &self.style))
            }
        }
    }

    /// Prints a free line in table mode (a marker, a note); nothing in jsonl mode.
    pub fn note(&mut self, out: &mut impl Write, text: &str) -> io::Result<()> {
        match self.format {
            EventFormat::Jsonl => Ok(()),
            EventFormat::Table => {
                self.header(out)?;
                writeln!(out, "{}", self.style.dim(text))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levator_core::stream::Role;

    #[test]
    fn json_line_is_the_contract() {
        let e = Event::new(EventKind::Contraction, Some(Phase::Start), 12.304)
            .detected_at(12.331000000001)
            .on_channel(Role::PelvicEmg);
        assert_eq!(
            json_line(&e),
            r#"{"kind":"contraction","phase":"start","onset_s":12.304,"detected_s":12.331,"channel":"pelvic_emg"}"#
        );
    }

    #[test]
    fn table_line_is_aligned_and_plain_without_colour() {
        let style = Style { color: false };
        let mut e = Event::new(EventKind::BearingDown, Some(Phase::Start), 40.1).detected_at(40.3);
        e.pelvic_response = Some(PelvicResponse::Paradoxical);
        e.rao_type = Some(3);
        let l = table_line(&e, &style);
        assert!(
            l.starts_with("   40.30s     40.10s    200ms  bearing_down   start"),
            "{l}"
        );
        assert!(l.ends_with("pelvic=paradoxical  rao=type III"), "{l}");
        assert!(!l.contains('\x1b'));
        let mut end = Event::new(EventKind::Contraction, Some(Phase::End), 10.0).detected_at(14.25);
        end.end_s = Some(14.0);
        let l = table_line(&end, &style);
        assert!(
            l.contains("   250ms  contraction"),
            "delay from the end: {l}"
        );
        let coloured = Style { color: true }.kind(EventKind::Contraction, "x");
        assert_eq!(coloured, "\x1b[32mx\x1b[0m");
    }

    #[test]
    fn printer_counts_and_jsonl_prints_only_events() {
        let mut p = EventPrinter::new(EventFormat::Jsonl);
        let mut out = Vec::new();
        let e = Event::new(EventKind::PoorRelease, None, 1.0).detected_at(3.0);
        p.event(&mut out, &e).unwrap();
        p.note(&mut out, "marker").unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.lines().count(), 1);
    }
}
