//! ASCII lines: one sample per line, numbers separated by commas, tabs,
//! semicolons or spaces, as DIY Arduino perineometers print them.
//!
//! - Lines end in `\n`, `\r` or `\r\n`; empty lines are ignored.
//! - If a line contains `,`, `\t` or `;`, fields are split on those
//!   (surrounding spaces trimmed, so `1.5, 2` works); otherwise on runs of
//!   spaces.
//! - An optional leading timestamp column (seconds, milliseconds or
//!   microseconds) lets the decoder see dropped lines: a jump of `k`
//!   sample periods reports `k - 1` lost samples. A timestamp that goes
//!   backwards (e.g. `micros()` wrapping after 71 minutes) or jumps more
//!   than [`MAX_TIMESTAMP_GAP_S`] is reported and the sample kept.
//! - Each data column maps to a channel role (or is ignored), with an
//!   optional linear scale `value = raw * scale + offset` for raw ADC counts.
//! - Every non-empty line becomes either a frame, or a
//!   [`DecodeError::Line`] with its line number followed by a one-sample
//!   [`Decoded::Gap`] (the line was a sample slot): never dropped silently.
//!
//! ```
//! use levator_core::stream::Role;
//! use levator_serial::protocol::ascii::{AsciiConfig, AsciiDecoder, TimestampUnit};
//! use levator_serial::protocol::Decoded;
//!
//! let cfg = AsciiConfig::roles(100.0, &[Role::PelvicPressure, Role::AbdominalPressure])
//!     .unwrap()
//!     .with_timestamp(TimestampUnit::Milliseconds);
//! let mut dec = AsciiDecoder::new(cfg);
//! let mut items = Vec::new();
//! dec.push(b"0,20.5,3.1\r\n10,21.0,3.2\r\n40,oops,3\r\n", &mut |i| items.push(i));
//! assert!(matches!(items[0], Decoded::Frame(f) if f.get(0) == 20.5));
//! assert!(matches!(items[2], Decoded::Error(_)));
//! assert_eq!(items[3], Decoded::Gap { first_index: 2, lost: 1 });
//! assert_eq!(dec.stats().rejected, 1);
//! ```

use core::fmt::{self, Write as _};
use core::ops::Deref;

use levator_core::stream::{ChannelSpec, Frame, Role, StreamError, StreamSpec, Unit, MAX_CHANNELS};

use super::binary::EncodeError;
use super::{emit_gap, Decode, DecodeError, DecodeStats, Decoded, LineError};

/// Longest accepted line, terminator excluded.
pub const MAX_LINE_LEN: usize = 256;
/// Most columns a line may have (timestamp included).
pub const MAX_COLUMNS: usize = 16;
/// A forward timestamp jump longer than this (seconds) is reported as
/// [`LineError::TimestampJump`] rather than as that many lost samples (a
/// corrupted digit in `millis()` output must not declare hours lost; a
/// real outage that long ends the stream by the port's stall timeout first).
pub const MAX_TIMESTAMP_GAP_S: f64 = 10.0;

/// Unit of the optional leading timestamp column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampUnit {
    /// Seconds.
    Seconds,
    /// Milliseconds (Arduino `millis()`).
    Milliseconds,
    /// Microseconds (Arduino `micros()`).
    Microseconds,
}

impl TimestampUnit {
    /// Seconds per unit.
    pub const fn seconds(self) -> f64 {
        match self {
            TimestampUnit::Seconds => 1.0,
            TimestampUnit::Milliseconds => 1e-3,
            TimestampUnit::Microseconds => 1e-6,
        }
    }
}

/// Where one data column goes: `value = raw * scale + offset` in `channel.unit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AsciiColumn {
    /// Role and unit of the column.
    pub channel: ChannelSpec,
    /// Unit per printed count (1 when the device prints physical values).
    pub scale: f64,
    /// Value of a printed 0.
    pub offset: f64,
}

impl AsciiColumn {
    /// A column printed in `unit` directly.
    pub const fn new(role: Role, unit: Unit) -> AsciiColumn {
        AsciiColumn {
            channel: ChannelSpec { role, unit },
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// A column of raw counts converted with `raw * scale + offset`.
    pub const fn scaled(role: Role, unit: Unit, scale: f64, offset: f64) -> AsciiColumn {
        AsciiColumn {
            channel: ChannelSpec { role, unit },
            scale,
            offset,
        }
    }
}

/// Why an [`AsciiConfig`] is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// No column, or more than [`MAX_COLUMNS`].
    Columns,
    /// Column `n` has a zero or non-finite scale, or a non-finite offset.
    Scale(u8),
    /// The mapped channels do not form a valid stream.
    Stream(StreamError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Columns => write!(f, "between 1 and {MAX_COLUMNS} columns required"),
            ConfigError::Scale(n) => write!(f, "column {n}: scale must be finite and non-zero"),
            ConfigError::Stream(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Layout of the lines: rate, optional timestamp column, column mapping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AsciiConfig {
    timestamp: Option<TimestampUnit>,
    columns: [Option<AsciiColumn>; MAX_COLUMNS],
    n_columns: usize,
    /// For each stream channel, the data column it comes from.
    source: [u8; MAX_CHANNELS],
    spec: StreamSpec,
}

impl AsciiConfig {
    /// Validates a layout. `columns` lists the data columns after the
    /// optional timestamp; `None` marks a column that is read but ignored.
    /// The stream's channels are the mapped columns, in order.
    pub fn new(rate_hz: f64, columns: &[Option<AsciiColumn>]) -> Result<AsciiConfig, ConfigError> {
        if columns.is_empty() || columns.len() > MAX_COLUMNS - 1 {
            return Err(ConfigError::Columns);
        }
        let mut specs = [ChannelSpec::canonical(Role::PelvicEmg); MAX_CHANNELS];
        let mut source = [0u8; MAX_CHANNELS];
        let mut n = 0;
        for (i, c) in columns.iter().enumerate() {
            let Some(c) = c else { continue };
            if !(c.scale.is_finite() && c.scale != 0.0 && c.offset.is_finite()) {
                return Err(ConfigError::Scale(i as u8));
            }
            if n == MAX_CHANNELS {
                return Err(ConfigError::Stream(StreamError::TooManyChannels));
            }
            specs[n] = c.channel;
            source[n] = i as u8;
            n += 1;
        }
        StreamSpec::new(rate_hz, &specs[..n]).map_err(ConfigError::Stream)?;
        let mut canonical = specs;
        for c in canonical.iter_mut().take(n) {
            *c = ChannelSpec::canonical(c.role);
        }
        let spec = StreamSpec::new(rate_hz, &canonical[..n]).map_err(ConfigError::Stream)?;
        let mut cols = [None; MAX_COLUMNS];
        cols[..columns.len()].copy_from_slice(columns);
        Ok(AsciiConfig {
            timestamp: None,
            columns: cols,
            n_columns: columns.len(),
            source,
            spec,
        })
    }

    /// One column per role, in canonical units, no timestamp.
    pub fn roles(rate_hz: f64, roles: &[Role]) -> Result<AsciiConfig, ConfigError> {
        let mut cols = [None; MAX_COLUMNS];
        if roles.len() >= MAX_COLUMNS {
            return Err(ConfigError::Columns);
        }
        for (c, r) in cols.iter_mut().zip(roles) {
            *c = Some(AsciiColumn::new(*r, r.canonical_unit()));
        }
        AsciiConfig::new(rate_hz, &cols[..roles.len()])
    }

    /// Declares a leading timestamp column.
    pub fn with_timestamp(mut self, unit: TimestampUnit) -> AsciiConfig {
        self.timestamp = Some(unit);
        self
    }

    /// The timestamp column's unit, if any.
    pub fn timestamp(&self) -> Option<TimestampUnit> {
        self.timestamp
    }

    /// The data columns (after the timestamp).
    pub fn columns(&self) -> &[Option<AsciiColumn>] {
        &self.columns[..self.n_columns]
    }

    /// Fields per line, timestamp included.
    pub fn fields(&self) -> usize {
        self.n_columns + usize::from(self.timestamp.is_some())
    }

    /// The decoded stream (canonical units).
    pub fn spec(&self) -> StreamSpec {
        self.spec
    }
}

/// Push-style decoder of ASCII lines.
#[derive(Clone, Debug)]
pub struct AsciiDecoder {
    config: AsciiConfig,
    line: [u8; MAX_LINE_LEN],
    len: usize,
    too_long: bool,
    line_no: u64,
    next_index: u64,
    last_t: Option<f64>,
    stats: DecodeStats,
}

impl AsciiDecoder {
    /// A decoder for lines laid out as `config` says.
    pub fn new(config: AsciiConfig) -> AsciiDecoder {
        AsciiDecoder {
            config,
            line: [0; MAX_LINE_LEN],
            len: 0,
            too_long: false,
            line_no: 0,
            next_index: 0,
            last_t: None,
            stats: DecodeStats::default(),
        }
    }

    /// The layout.
    pub fn config(&self) -> &AsciiConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Feeds bytes; `sink` gets every item in order.
    pub fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        self.stats.bytes_in += bytes.len() as u64;
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                self.end_line(sink);
            } else if self.len < MAX_LINE_LEN {
                self.line[self.len] = b;
                self.len += 1;
            } else {
                self.too_long = true;
                self.stats.bytes_skipped += 1;
            }
        }
    }

    /// End of the byte stream: a last line without terminator is decoded.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        self.end_line(sink);
    }

    /// A rejected line was one sample slot: report why, then count the
    /// sample as lost so indices (and timestamp gap detection) stay true.
    fn reject(&mut self, kind: LineError, sink: &mut dyn FnMut(Decoded)) {
        self.stats.rejected += 1;
        sink(Decoded::Error(DecodeError::Line {
            line: self.line_no,
            kind,
        }));
        emit_gap(&mut self.stats, self.next_index, 1, sink);
        self.next_index += 1;
        if let Some(t) = self.last_t {
            self.last_t = Some(t + 1.0 / self.config.spec.rate_hz());
        }
    }

    fn end_line(&mut self, sink: &mut dyn FnMut(Decoded)) {
        let len = core::mem::take(&mut self.len);
        if core::mem::take(&mut self.too_long) {
            self.line_no += 1;
            self.stats.bytes_skipped += len as u64;
            self.reject(LineError::TooLong, sink);
            return;
        }
        let line = self.line;
        let Ok(text) = core::str::from_utf8(&line[..len]) else {
            self.line_no += 1;
            self.reject(LineError::NotUtf8, sink);
            return;
        };
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.line_no += 1;
        let mut fields = [0.0f64; MAX_COLUMNS];
        match parse_fields(text, &mut fields) {
            Err(kind) => self.reject(kind, sink),
            Ok(found) if found != self.config.fields() => self.reject(
                LineError::ColumnCount {
                    found: found as u16,
                    expected: self.config.fields() as u16,
                },
                sink,
            ),
            Ok(_) => self.emit(&fields, sink),
        }
    }

    fn emit(&mut self, fields: &[f64], sink: &mut dyn FnMut(Decoded)) {
        let data = if let Some(unit) = self.config.timestamp {
            let t = fields[0] * unit.seconds();
            if let Some(last) = self.last_t {
                let dt = t - last;
                if dt <= 0.0 {
                    // The sample is kept; the clock problem is reported.
                    sink(Decoded::Error(DecodeError::Line {
                        line: self.line_no,
                        kind: LineError::TimestampNotIncreasing,
                    }));
                } else {
                    let steps = libm::round(dt * self.config.spec.rate_hz());
                    if dt > MAX_TIMESTAMP_GAP_S {
                        // A clock glitch or reset, not a believable outage:
                        // report it, keep the sample, re-anchor.
                        sink(Decoded::Error(DecodeError::Line {
                            line: self.line_no,
                            kind: LineError::TimestampJump,
                        }));
                    } else if steps >= 2.0 {
                        let lost = steps as u64 - 1;
                        emit_gap(&mut self.stats, self.next_index, lost, sink);
                        self.next_index = self.next_index.saturating_add(lost);
                    }
                }
            }
            self.last_t = Some(t);
            &fields[1..]
        } else {
            fields
        };
        let n = self.config.spec.len();
        let mut values = [0.0; MAX_CHANNELS];
        for (ch, v) in values.iter_mut().enumerate().take(n) {
            let col = usize::from(self.config.source[ch]);
            if let Some(c) = self.config.columns[col] {
                *v = c.channel.unit.to_canonical(data[col] * c.scale + c.offset);
            }
        }
        self.stats.frames += 1;
        sink(Decoded::Frame(Frame::new(self.next_index, &values[..n])));
        self.next_index += 1;
    }
}

/// Splits and parses one trimmed, non-empty line into `out`; returns the
/// number of fields.
fn parse_fields(text: &str, out: &mut [f64; MAX_COLUMNS]) -> Result<usize, LineError> {
    let delimited = text.bytes().any(|b| matches!(b, b',' | b'\t' | b';'));
    let mut n = 0;
    let mut put = |i: usize, field: &str| -> Result<(), LineError> {
        let field = field.trim();
        if i >= MAX_COLUMNS {
            return Ok(());
        }
        if field.is_empty() {
            return Err(LineError::EmptyField(i as u16));
        }
        let v: f64 = field.parse().map_err(|_| LineError::NotANumber(i as u16))?;
        if !v.is_finite() {
            return Err(LineError::NonFinite(i as u16));
        }
        out[i] = v;
        Ok(())
    };
    if delimited {
        for f in text.split([',', '\t', ';']) {
            put(n, f)?;
            n += 1;
        }
    } else {
        for f in text.split_ascii_whitespace() {
            put(n, f)?;
            n += 1;
        }
    }
    Ok(n)
}

impl Decode for AsciiDecoder {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        AsciiDecoder::push(self, bytes, sink)
    }
    fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        AsciiDecoder::finish(self, sink)
    }
    fn stats(&self) -> DecodeStats {
        self.stats
    }
    fn spec(&self) -> Option<StreamSpec> {
        Some(self.config.spec)
    }
}

/// One formatted line including its `\r\n` terminator (derefs to `&[u8]`).
#[derive(Clone)]
pub struct Line {
    buf: [u8; MAX_LINE_LEN + 2],
    len: usize,
}

impl Line {
    /// The line's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Deref for Line {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Line {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => write!(f, "{s:?}"),
            Err(_) => write!(f, "{:?}", self.as_bytes()),
        }
    }
}

struct LineWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Formats lines for an [`AsciiConfig`] layout (the device side: the
/// simulator's virtual serial device, tests).
#[derive(Clone, Debug)]
pub struct AsciiEncoder {
    config: AsciiConfig,
    separator: char,
    index: u64,
}

impl AsciiEncoder {
    /// Comma-separated lines for `config`.
    pub fn new(config: AsciiConfig) -> AsciiEncoder {
        AsciiEncoder {
            config,
            separator: ',',
            index: 0,
        }
    }

    /// Uses another separator (`,`, `\t`, `;` or ` `).
    pub fn with_separator(mut self, separator: char) -> AsciiEncoder {
        self.separator = separator;
        self
    }

    /// Sample index of the next line.
    pub fn next_index(&self) -> u64 {
        self.index
    }

    /// Skips `n` samples (the next timestamp jumps: a dropped-line fault).
    pub fn skip(&mut self, n: u64) {
        self.index += n;
    }

    /// One line for one sample: `values` are the mapped channels in stream
    /// order, in each column's unit; ignored columns print `0`. The
    /// timestamp (if configured) is `index / rate` in its unit.
    pub fn encode(&mut self, values: &[f64]) -> Result<Line, EncodeError> {
        let n = self.config.spec.len();
        if values.len() != n {
            return Err(EncodeError::Length);
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EncodeError::NonFinite);
        }
        let mut line = Line {
            buf: [0; MAX_LINE_LEN + 2],
            len: 0,
        };
        let mut w = LineWriter {
            buf: &mut line.buf[..MAX_LINE_LEN],
            len: 0,
        };
        let sep = self.separator;
        let mut first = true;
        let mut field = |w: &mut LineWriter, v: f64| -> fmt::Result {
            if !first {
                w.write_char(sep)?;
            }
            first = false;
            write!(w, "{v}")
        };
        if let Some(unit) = self.config.timestamp {
            let t = self.index as f64 / self.config.spec.rate_hz() / unit.seconds();
            field(&mut w, t).map_err(|_| EncodeError::TooLarge)?;
        }
        let mut ch = 0;
        for col in self.config.columns() {
            let raw = match col {
                Some(c) => {
                    let v = (values[ch] - c.offset) / c.scale;
                    ch += 1;
                    v
                }
                None => 0.0,
            };
            field(&mut w, raw).map_err(|_| EncodeError::TooLarge)?;
        }
        let len = w.len;
        line.buf[len] = b'\r';
        line.buf[len + 1] = b'\n';
        line.len = len + 2;
        self.index += 1;
        Ok(line)
    }
}
