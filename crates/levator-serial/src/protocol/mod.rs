//! Pure byte codecs: bytes in, frames or typed errors out. No I/O, no
//! clock, no allocation, `no_std`.
//!
//! Every decoder is push-style: hand it whatever bytes arrived (any
//! chunking, down to one byte at a time) and it calls your sink once per
//! [`Decoded`] item. Splitting a byte stream at any point gives the same
//! items. Nothing is dropped silently: skipped garbage, CRC or footer
//! failures, malformed lines and sequence gaps all come out as items and
//! are counted in [`DecodeStats`].
//!
//! - [`binary`]: `levator` binary frames v1 (the crate docs hold the spec).
//! - [`ascii`]: one sample per text line, as DIY Arduino devices print.
//! - [`cyton`]: OpenBCI Cyton 33-byte packets and session commands.

use core::fmt;

use levator_core::stream::{Frame, StreamSpec};

pub mod ascii;
pub mod binary;
pub mod cyton;

pub use binary::EncodeError;

/// One thing a decoder recognised in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decoded {
    /// The stream description was announced or changed (binary stream
    /// header). Frames that follow use it.
    Spec(StreamSpec),
    /// A frame of samples in canonical units (µV, cmH2O, g, a.u.).
    Frame(Frame),
    /// `lost` samples starting at index `first_index` never arrived
    /// (sequence/sample-counter or timestamp gap). The next frame's index
    /// continues after the gap.
    Gap {
        /// Index of the first missing sample.
        first_index: u64,
        /// How many samples are missing.
        lost: u64,
    },
    /// A marker / event sent by the device, at sample `index`.
    Marker {
        /// Sample index the marker refers to.
        index: u64,
        /// Device-defined marker code.
        code: u16,
        /// Device-defined value.
        value: i32,
    },
    /// The device reported an error of its own (binary error frame).
    DeviceError {
        /// Device-defined error code.
        code: u16,
        /// Device-defined detail.
        detail: u32,
    },
    /// Bytes that could not be decoded; see [`DecodeError`]. Already
    /// counted in [`DecodeStats`].
    Error(DecodeError),
}

/// What went wrong while decoding. Small and `Copy`, one variant per cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// `bytes` bytes were skipped while searching for the next frame
    /// start (garbage, line noise, a frame cut short). Reported once the
    /// decoder is back in sync, or on [`Decode::finish`].
    Garbage {
        /// Number of bytes discarded.
        bytes: u64,
    },
    /// A binary frame failed its CRC; its bytes were rescanned for a frame
    /// start.
    Crc {
        /// CRC carried by the frame.
        received: u16,
        /// CRC computed over the frame.
        computed: u16,
    },
    /// A binary frame with a valid CRC but a protocol version this decoder
    /// does not speak; skipped.
    UnsupportedVersion(u8),
    /// A binary frame with a valid CRC but an unknown frame type; skipped.
    UnknownFrameType(u8),
    /// A binary frame whose payload does not match its type (wrong length,
    /// invalid stream header); skipped.
    BadPayload {
        /// The frame type byte.
        frame_type: u8,
    },
    /// A binary data frame arrived before any stream header, so its
    /// samples cannot be interpreted; they are lost.
    NoHeader {
        /// Samples per channel in the frame.
        samples: u64,
    },
    /// The device's sample counter jumped backwards (device reset without a
    /// new header, or duplicated data). The stream index continues without a
    /// gap from here.
    CounterReset,
    /// A Cyton packet start was found but its footer byte was not
    /// 0xC0..=0xC6 (or a packet was expected and something else came):
    /// sync lost, bytes rescanned.
    BadFooter(u8),
    /// An ASCII line could not be parsed; its sample is lost.
    Line {
        /// 1-based line number since the decoder started.
        line: u64,
        /// Why the line was rejected.
        kind: LineError,
    },
}

/// Why an ASCII line was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineError {
    /// Longer than [`ascii::MAX_LINE_LEN`] bytes.
    TooLong,
    /// Not valid UTF-8.
    NotUtf8,
    /// A different number of columns than configured.
    ColumnCount {
        /// Columns found.
        found: u16,
        /// Columns expected (including the timestamp column).
        expected: u16,
    },
    /// A field (0-based column) is empty.
    EmptyField(u16),
    /// A field (0-based column) is not a number.
    NotANumber(u16),
    /// A field (0-based column) is NaN or infinite.
    NonFinite(u16),
    /// The timestamp did not increase; the sample is kept.
    TimestampNotIncreasing,
    /// The timestamp jumped forward by more than
    /// [`ascii::MAX_TIMESTAMP_GAP_S`]; the sample is kept, no gap assumed.
    TimestampJump,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong => write!(f, "line longer than {} bytes", ascii::MAX_LINE_LEN),
            LineError::NotUtf8 => f.write_str("line is not valid UTF-8"),
            LineError::ColumnCount { found, expected } => {
                write!(f, "{found} columns, expected {expected}")
            }
            LineError::EmptyField(c) => write!(f, "column {c} is empty"),
            LineError::NotANumber(c) => write!(f, "column {c} is not a number"),
            LineError::NonFinite(c) => write!(f, "column {c} is NaN or infinite"),
            LineError::TimestampNotIncreasing => f.write_str("timestamp did not increase"),
            LineError::TimestampJump => write!(
                f,
                "timestamp jumped more than {} s ahead",
                ascii::MAX_TIMESTAMP_GAP_S
            ),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Garbage { bytes } => write!(f, "skipped {bytes} undecodable bytes"),
            DecodeError::Crc { received, computed } => write!(
                f,
                "CRC mismatch: frame carries {received:#06x}, computed {computed:#06x}"
            ),
            DecodeError::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            DecodeError::UnknownFrameType(t) => write!(f, "unknown frame type {t:#04x}"),
            DecodeError::BadPayload { frame_type } => {
                write!(f, "malformed payload in frame of type {frame_type:#04x}")
            }
            DecodeError::NoHeader { samples } => write!(
                f,
                "data frame before any stream header: {samples} samples lost"
            ),
            DecodeError::CounterReset => f.write_str("device sample counter went backwards"),
            DecodeError::BadFooter(b) => write!(f, "Cyton packet footer {b:#04x} invalid"),
            DecodeError::Line { line, kind } => write!(f, "line {line}: {kind}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Running counters of a decoder. Every sample, byte and frame that did not
/// make it into a [`Decoded::Frame`] is counted here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Bytes pushed into the decoder.
    pub bytes_in: u64,
    /// Frames (one sample per channel) emitted.
    pub frames: u64,
    /// Bytes discarded while resynchronising.
    pub bytes_skipped: u64,
    /// Binary frames that failed their CRC.
    pub crc_failures: u64,
    /// Cyton packets with a bad footer / lost sync.
    pub footer_failures: u64,
    /// Frames or lines rejected after framing (bad version, type, payload,
    /// malformed line, data before header).
    pub rejected: u64,
    /// Samples reported lost through [`Decoded::Gap`] items.
    pub samples_lost: u64,
    /// Number of [`Decoded::Gap`] items.
    pub gaps: u64,
    /// Binary frames missing according to the frame sequence number.
    pub frames_lost: u64,
}

/// The common interface of the three decoders, so the port layer can run
/// any of them. Each decoder also has the same methods as inherent
/// methods, so the trait need not be in scope.
pub trait Decode {
    /// Feeds bytes; `sink` is called once per recognised item, in order.
    fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded));

    /// Flushes what is pending at the end of the byte stream (a final ASCII
    /// line without newline, a garbage count, an incomplete frame reported as
    /// garbage).
    fn finish(&mut self, sink: &mut dyn FnMut(Decoded));

    /// The counters so far.
    fn stats(&self) -> DecodeStats;

    /// The stream description, once known (binary: after the stream header).
    fn spec(&self) -> Option<StreamSpec>;
}

/// Carries over the sample index across a gap: shared bookkeeping for all
/// decoders.
pub(crate) fn emit_gap(
    stats: &mut DecodeStats,
    first_index: u64,
    lost: u64,
    sink: &mut dyn FnMut(Decoded),
) {
    if lost == 0 {
        return;
    }
    stats.samples_lost = stats.samples_lost.saturating_add(lost);
    stats.gaps += 1;
    sink(Decoded::Gap { first_index, lost });
}
