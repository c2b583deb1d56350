//! Importers for real recordings made by other tools, mapped onto
//! levator's channel roles and canonical units and delivered as
//! [`SampleSource`](levator_core::stream::SampleSource)s:
//!
//! - [`ManometryReader`]: anorectal manometry text exports (first line
//!   `TIME:` or `ZEIT:`, tab separated, mmHg, an `Annotations:` block with
//!   the operator's protocol markers at the end).
//! - [`EmgTextReader`]: single-column EMG text (`#` header lines with a
//!   `Sampling Rate`, then one raw ADC count per line).
//!
//! Both read line by line (samples are never held in memory as a whole),
//! decode text as UTF-8 with a Latin-1 fallback, report everything odd
//! they tolerate as [`Problem`]s and fail on everything else with an
//! [`ImportError`] that names the line. [`sniff`] recognises the format of
//! a file from its first bytes.
//!
//! ```
//! use levator_core::stream::{Role, SampleSource, SourceItem};
//! use levator_sim::import::{ManometryOptions, ManometryReader, MarkerKind};
//! use std::io::Cursor;
//!
//! let text = "TIME:\tB1\t2\t1\n\
//!             0.00\t10.0\t50.0\t60.0\n\
//!             0.50\t12.0\t52.0\t40.0\n\
//!             1.00\t55.0\t30.0\t20.0\n\
//!             Annotations:\n\
//!             0.90\t# Push 1\n";
//! let mut rec = ManometryReader::new(Cursor::new(text), ManometryOptions::default())?;
//! assert_eq!(rec.spec().rate_hz(), 2.0);
//! assert_eq!(rec.markers()[0].kind, MarkerKind::Push(Some(1)));
//! let pelvic = rec.spec().channel_index(Role::PelvicPressure).unwrap();
//! let Some(SourceItem::Frame(f)) = rec.next_item()? else { panic!() };
//! // the anal canal maximum (60 mmHg), in cmH2O
//! assert!((f.get(pelvic) - 60.0 * 1.35951).abs() < 1e-9);
//! # Ok::<(), levator_sim::import::ImportError>(())
//! ```

mod emg_text;
mod manometry;
mod text;

pub use emg_text::{EmgTextOptions, EmgTextReader, BITALINO_EMG_GAIN, BITALINO_EMG_VCC_V};
pub use manometry::{ManometryOptions, ManometryReader, RectalCombine};

use std::fmt;

use levator_core::stream::{ScaleError, StreamError};

/// Why a recording could not be imported. Every variant that concerns the
/// file's content names the 1-based line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Reading the underlying file failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The input holds no bytes at all.
    #[error("the file is empty")]
    Empty,
    /// A line does not follow the format.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The header is fine but no sample follows it.
    #[error("no samples after the header (file ends at line {line})")]
    NoSamples {
        /// The last line of the file.
        line: u64,
    },
    /// The channels found do not make a valid stream.
    #[error("invalid stream description: {0}")]
    Stream(StreamError),
    /// The ADC description is invalid.
    #[error("invalid ADC scale: {0}")]
    Scale(ScaleError),
}

impl ImportError {
    /// The line the error refers to, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            ImportError::Malformed { line, .. } | ImportError::NoSamples { line } => Some(*line),
            _ => None,
        }
    }

    pub(crate) fn malformed(line: u64, reason: impl Into<String>) -> ImportError {
        ImportError::Malformed {
            line,
            reason: reason.into(),
        }
    }
}

/// What a protocol marker in a manometry annotation block stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    /// `# Rest`: resting pressure measurement.
    Rest,
    /// `# Squeeze N`: short voluntary squeeze (number if given).
    Squeeze(Option<u8>),
    /// `# Long Squeeze`: endurance squeeze (~30 s).
    LongSqueeze,
    /// `# Cough` (number if given).
    Cough(Option<u8>),
    /// `# Push N`: simulated defecation (bearing down), number if given.
    Push(Option<u8>),
    /// `# RAIR`: recto-anal inhibitory reflex test (balloon inflated on purpose).
    Rair,
    /// `# Rectal sensory ...`: rectal sensation testing.
    RectalSensory,
    /// A label starting with `#` that is none of the above (reported as a [`Problem`]).
    UnknownProtocol,
    /// A free note (label not starting with `#`), e.g. `husten`, `valsalva`.
    Note,
}

impl MarkerKind {
    /// Classifies an annotation label.
    ///
    /// ```
    /// use levator_sim::import::MarkerKind;
    /// assert_eq!(MarkerKind::classify("# Squeeze 2"), MarkerKind::Squeeze(Some(2)));
    /// assert_eq!(MarkerKind::classify("# Long Squeeze"), MarkerKind::LongSqueeze);
    /// assert_eq!(MarkerKind::classify("#Push 3"), MarkerKind::Push(Some(3)));
    /// assert_eq!(MarkerKind::classify("# Horrible Squeeze"), MarkerKind::UnknownProtocol);
    /// assert_eq!(MarkerKind::classify("husten"), MarkerKind::Note);
    /// ```
    pub fn classify(label: &str) -> MarkerKind {
        let Some(rest) = label.trim().strip_prefix('#') else {
            return MarkerKind::Note;
        };
        let lower = rest.trim().to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let number = |w: Option<&&str>| -> Result<Option<u8>, ()> {
            match w {
                None => Ok(None),
                Some(w) => w.parse::<u8>().map(Some).map_err(|_| ()),
            }
        };
        match words.as_slice() {
            ["rest"] => MarkerKind::Rest,
            ["long", "squeeze"] => MarkerKind::LongSqueeze,
            ["rair"] => MarkerKind::Rair,
            ["rectal", "sensory", ..] => MarkerKind::RectalSensory,
            ["squeeze", tail @ ..] if tail.len() <= 1 => number(tail.first())
                .map(MarkerKind::Squeeze)
                .unwrap_or(MarkerKind::UnknownProtocol),
            ["push", tail @ ..] if tail.len() <= 1 => number(tail.first())
                .map(MarkerKind::Push)
                .unwrap_or(MarkerKind::UnknownProtocol),
            ["cough", tail @ ..] if tail.len() <= 1 => number(tail.first())
                .map(MarkerKind::Cough)
                .unwrap_or(MarkerKind::UnknownProtocol),
            _ => MarkerKind::UnknownProtocol,
        }
    }

    /// True for the voluntary squeezes (`# Squeeze N`, `# Long Squeeze`).
    pub fn is_squeeze(self) -> bool {
        matches!(self, MarkerKind::Squeeze(_) | MarkerKind::LongSqueeze)
    }

    /// True for `# Push N`.
    pub fn is_push(self) -> bool {
        matches!(self, MarkerKind::Push(_))
    }
}

/// One timestamped annotation of a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// 1-based line of the annotation in the file.
    pub line: u64,
    /// Time as written in the file (the recording's own clock), s.
    pub time_s: f64,
    /// Time on the stream clock (seconds since the first sample, the clock
    /// events use): `time_s` minus the first row's time.
    pub stream_s: f64,
    /// The label as written (trimmed; Latin-1 decoded if needed).
    pub label: String,
    /// What the label stands for.
    pub kind: MarkerKind,
}

/// Something odd in a recording that the importer tolerated. Importers
/// collect these instead of failing or silently ignoring them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// The file has no `Annotations:` block.
    NoAnnotationBlock,
    /// The annotation block (starting at `line`) holds no `#` protocol marker.
    NoMarkers {
        /// Line of the `Annotations:` header.
        line: u64,
    },
    /// A marker of the standard protocol is absent.
    MissingMarker {
        /// The marker as it would be written, e.g. `# Push 3`.
        name: &'static str,
    },
    /// The same marker appears more than once.
    DuplicateMarker {
        /// The label.
        label: String,
        /// Line of its first occurrence.
        first_line: u64,
        /// Line of this occurrence.
        line: u64,
    },
    /// A `#` label that is no known protocol marker.
    UnknownMarker {
        /// Line of the annotation.
        line: u64,
        /// The label.
        label: String,
    },
    /// An annotation with a time but no label.
    EmptyAnnotation {
        /// Line of the annotation.
        line: u64,
    },
    /// A channel marked invalid by a negative-time annotation; it is skipped.
    InvalidChannel {
        /// Line of the annotation.
        line: u64,
        /// The sensor name.
        channel: String,
    },
    /// A negative time on a label that is not a channel; the annotation is ignored.
    NegativeTime {
        /// Line of the annotation.
        line: u64,
        /// The label.
        label: String,
    },
    /// A marker whose time lies outside the recorded rows.
    MarkerOutsideRecording {
        /// Line of the annotation.
        line: u64,
        /// The label.
        label: String,
        /// Its time (file clock), s.
        time_s: f64,
    },
    /// A column the importer does not know how to map; it is skipped.
    UnknownColumn {
        /// The column name.
        name: String,
    },
    /// A row whose spacing from the previous row is not a whole number of
    /// row periods (beyond the tolerance); it is kept at the nearest index.
    IrregularSpacing {
        /// Line of the row.
        line: u64,
        /// Time since the previous row, s.
        delta_s: f64,
        /// The row period of the file, s.
        expected_s: f64,
    },
    /// Rows missing before this row (reported as a `SourceItem::Gap` too).
    Gap {
        /// Line of the row after the gap.
        line: u64,
        /// Number of missing rows.
        lost: u64,
    },
    /// A `#` comment between samples; skipped.
    CommentInData {
        /// Line of the comment.
        line: u64,
    },
    /// Raw counts outside the ADC range the header announces.
    OutOfRange {
        /// First line with such a value.
        first_line: u64,
        /// How many values were out of range.
        count: u64,
    },
}

impl Problem {
    /// The line the problem refers to, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            Problem::NoMarkers { line }
            | Problem::DuplicateMarker { line, .. }
            | Problem::UnknownMarker { line, .. }
            | Problem::EmptyAnnotation { line }
            | Problem::InvalidChannel { line, .. }
            | Problem::NegativeTime { line, .. }
            | Problem::MarkerOutsideRecording { line, .. }
            | Problem::IrregularSpacing { line, .. }
            | Problem::Gap { line, .. }
            | Problem::CommentInData { line } => Some(*line),
            Problem::OutOfRange { first_line, .. } => Some(*first_line),
            Problem::NoAnnotationBlock
            | Problem::MissingMarker { .. }
            | Problem::UnknownColumn { .. } => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoAnnotationBlock => f.write_str("no `Annotations:` block: no markers"),
            Problem::NoMarkers { line } => {
                write!(f, "line {line}: annotation block holds no `#` marker")
            }
            Problem::MissingMarker { name } => write!(f, "marker `{name}` is missing"),
            Problem::DuplicateMarker {
                label,
                first_line,
                line,
            } => write!(
                f,
                "line {line}: marker `{label}` appears again (first at line {first_line})"
            ),
            Problem::UnknownMarker { line, label } => {
                write!(f, "line {line}: unknown marker `{label}`")
            }
            Problem::EmptyAnnotation { line } => write!(f, "line {line}: annotation has no label"),
            Problem::InvalidChannel { line, channel } => write!(
                f,
                "line {line}: channel `{channel}` marked invalid (negative time); skipped"
            ),
            Problem::NegativeTime { line, label } => write!(
                f,
                "line {line}: negative time on `{label}`, which is not a channel; ignored"
            ),
            Problem::MarkerOutsideRecording {
                line,
                label,
                time_s,
            } => write!(
                f,
                "line {line}: marker `{label}` at {time_s} s lies outside the recording"
            ),
            Problem::UnknownColumn { name } => {
                write!(f, "column `{name}` is not a known sensor; skipped")
            }
            Problem::IrregularSpacing {
                line,
                delta_s,
                expected_s,
            } => write!(
                f,
                "line {line}: row follows the previous one after {delta_s:.3} s, \
                 not a multiple of the {expected_s:.3} s row period"
            ),
            Problem::Gap { line, lost } => {
                write!(f, "line {line}: {lost} row(s) missing before this row")
            }
            Problem::CommentInData { line } => {
                write!(f, "line {line}: comment between samples; skipped")
            }
            Problem::OutOfRange { first_line, count } => write!(
                f,
                "line {first_line}: {count} value(s) outside the ADC range of the header"
            ),
        }
    }
}

/// A recording format the importers (or the levator-csv reader) handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// levator-csv v1 (DESIGN.md "Recording format").
    LevatorCsv,
    /// Anorectal manometry text export ([`ManometryReader`]).
    Manometry,
    /// Single-column EMG text ([`EmgTextReader`]).
    EmgText,
}

impl InputFormat {
    /// Short name used on the command line (`csv`, `manometry`, `emg-text`).
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::LevatorCsv => "csv",
            InputFormat::Manometry => "manometry",
            InputFormat::EmgText => "emg-text",
        }
    }
}

/// Recognises a recording format from the first bytes of a file (a few
/// hundred bytes are enough). `None` if it is none of the known ones.
///
/// ```
/// use levator_sim::import::{sniff, InputFormat};
/// assert_eq!(sniff(b"ZEIT:\tB2\tB1\t1\n"), Some(InputFormat::Manometry));
/// assert_eq!(sniff(b"# levator-csv v1\n# rate_hz=10\n"), Some(InputFormat::LevatorCsv));
/// assert_eq!(sniff(b"# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n2048\n"),
///            Some(InputFormat::EmgText));
/// assert_eq!(sniff(b"hello"), None);
/// ```
pub fn sniff(head: &[u8]) -> Option<InputFormat> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = text::latin1(head);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    let upper = first.to_uppercase();
    if upper.starts_with("TIME:") || upper.starts_with("ZEIT:") {
        return Some(InputFormat::Manometry);
    }
    if first.starts_with("# levator-csv") {
        return Some(InputFormat::LevatorCsv);
    }
    let all: Vec<&str> = core::iter::once(first).chain(lines).collect();
    let comments_have_rate = all
        .iter()
        .take_while(|l| l.starts_with('#'))
        .any(|l| l.to_lowercase().contains("sampling rate"));
    if comments_have_rate {
        return Some(InputFormat::EmgText);
    }
    let first_data = all.iter().find(|l| !l.starts_with('#'))?;
    let looks_like_csv_header = first_data.contains(',')
        && first_data.split(',').any(|c| {
            c.trim() == "t_s" || levator_core::stream::Role::parse_column(c.trim()).is_some()
        });
    looks_like_csv_header.then_some(InputFormat::LevatorCsv)
}

#[cfg(test)]
mod real_tests;
