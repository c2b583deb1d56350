//! `levator` binary frames v1: encoder and decoder.
//!
//! The wire format is specified in the crate documentation
//! ([`crate`], section "levator binary frames v1"). In short:
//!
//! ```text
//! A5 5A | ver | type | seq u16 | len u16 | payload (len bytes) | crc u16
//! ```
//!
//! all integers little-endian, CRC-16/CCITT-FALSE over `ver..payload`.
//!
//! ```
//! use levator_core::stream::{Role, Unit};
//! use levator_serial::protocol::binary::{ChannelFormat, Decoder, Encoder, SampleFormat, StreamHeader};
//! use levator_serial::protocol::Decoded;
//!
//! let header = StreamHeader::new(100.0, &[
//!     ChannelFormat::new(Role::PelvicPressure, Unit::CmH2O, SampleFormat::I16, 0.25, 0.0),
//! ]).unwrap();
//! let mut enc = Encoder::new(header);
//! let mut wire = Vec::new();
//! wire.extend_from_slice(&enc.header_frame());
//! wire.extend_from_slice(&enc.data_frame(&[21.5, 22.0]).unwrap());
//!
//! let mut dec = Decoder::new();
//! let mut values = Vec::new();
//! dec.push(&wire, &mut |item| if let Decoded::Frame(f) = item { values.push(f.get(0)) });
//! assert_eq!(values, vec![21.5, 22.0]);
//! ```

use core::fmt;
use core::ops::Deref;

use levator_core::stream::{ChannelSpec, Frame, Role, StreamError, StreamSpec, Unit, MAX_CHANNELS};

use super::{emit_gap, Decode, DecodeError, DecodeStats, Decoded};
use crate::crc;

/// First sync byte.
pub const SYNC0: u8 = 0xA5;
/// Second sync byte.
pub const SYNC1: u8 = 0x5A;
/// Protocol version spoken by this module.
pub const VERSION: u8 = 1;
/// Bytes before the payload: sync (2), version, type, sequence (2), length (2).
pub const PREFIX_LEN: usize = 8;
/// Largest payload a frame may carry.
pub const MAX_PAYLOAD: usize = 1024;
/// Largest whole frame: prefix + payload + CRC.
pub const MAX_FRAME_LEN: usize = PREFIX_LEN + MAX_PAYLOAD + 2;
/// Bytes of a data-frame payload before the samples (first index u32, count u8).
pub const DATA_PREFIX_LEN: usize = 5;

/// Frame type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameType {
    /// Stream header: rate, channel roles, units, sample formats, scales.
    Header = 0x01,
    /// Samples.
    Data = 0x02,
    /// Event / marker at a sample index.
    Marker = 0x03,
    /// Device-side error report.
    Error = 0x04,
}

impl FrameType {
    /// Parses a frame type byte.
    pub const fn from_u8(b: u8) -> Option<FrameType> {
        match b {
            0x01 => Some(FrameType::Header),
            0x02 => Some(FrameType::Data),
            0x03 => Some(FrameType::Marker),
            0x04 => Some(FrameType::Error),
            _ => None,
        }
    }
}

/// How one channel's samples are stored: signed little-endian integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleFormat {
    /// 2 bytes.
    I16,
    /// 3 bytes, two's complement.
    I24,
    /// 4 bytes.
    I32,
}

impl SampleFormat {
    /// Bytes per sample (also the code sent in the header).
    pub const fn width(self) -> usize {
        match self {
            SampleFormat::I16 => 2,
            SampleFormat::I24 => 3,
            SampleFormat::I32 => 4,
        }
    }

    /// Parses the header code (2, 3 or 4).
    pub const fn from_width(code: u8) -> Option<SampleFormat> {
        match code {
            2 => Some(SampleFormat::I16),
            3 => Some(SampleFormat::I24),
            4 => Some(SampleFormat::I32),
            _ => None,
        }
    }

    /// Smallest representable raw value.
    pub const fn min(self) -> i32 {
        match self {
            SampleFormat::I16 => i16::MIN as i32,
            SampleFormat::I24 => -(1 << 23),
            SampleFormat::I32 => i32::MIN,
        }
    }

    /// Largest representable raw value.
    pub const fn max(self) -> i32 {
        match self {
            SampleFormat::I16 => i16::MAX as i32,
            SampleFormat::I24 => (1 << 23) - 1,
            SampleFormat::I32 => i32::MAX,
        }
    }

    fn write(self, raw: i32, out: &mut [u8]) {
        let b = raw.to_le_bytes();
        let w = self.width();
        out[..w].copy_from_slice(&b[..w]);
    }

    fn read(self, b: &[u8]) -> i32 {
        match self {
            SampleFormat::I16 => i32::from(i16::from_le_bytes([b[0], b[1]])),
            SampleFormat::I24 => i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8,
            SampleFormat::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        }
    }
}

/// Wire code of a [`Role`] (header byte).
pub const fn role_code(role: Role) -> u8 {
    match role {
        Role::PelvicEmg => 0,
        Role::AbdominalEmg => 1,
        Role::PelvicPressure => 2,
        Role::AbdominalPressure => 3,
        Role::ProbeMotion => 4,
        Role::Respiration => 5,
    }
}

/// Parses a [`role_code`].
pub const fn role_from_code(code: u8) -> Option<Role> {
    match code {
        0 => Some(Role::PelvicEmg),
        1 => Some(Role::AbdominalEmg),
        2 => Some(Role::PelvicPressure),
        3 => Some(Role::AbdominalPressure),
        4 => Some(Role::ProbeMotion),
        5 => Some(Role::Respiration),
        _ => None,
    }
}

/// Wire code of a [`Unit`] (header byte).
pub const fn unit_code(unit: Unit) -> u8 {
    match unit {
        Unit::Microvolt => 0,
        Unit::CmH2O => 1,
        Unit::MmHg => 2,
        Unit::G => 3,
        Unit::Arbitrary => 4,
    }
}

/// Parses a [`unit_code`].
pub const fn unit_from_code(code: u8) -> Option<Unit> {
    match code {
        0 => Some(Unit::Microvolt),
        1 => Some(Unit::CmH2O),
        2 => Some(Unit::MmHg),
        3 => Some(Unit::G),
        4 => Some(Unit::Arbitrary),
        _ => None,
    }
}

/// One channel as announced in the stream header: value in `unit` =
/// `raw * scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelFormat {
    /// What the channel measures.
    pub role: Role,
    /// The unit of `raw * scale + offset` (converted to canonical on decode).
    pub unit: Unit,
    /// Integer width on the wire.
    pub sample: SampleFormat,
    /// Unit per raw count (finite, non-zero).
    pub scale: f32,
    /// Value of raw count 0 (finite).
    pub offset: f32,
}

impl ChannelFormat {
    /// A channel description.
    pub const fn new(
        role: Role,
        unit: Unit,
        sample: SampleFormat,
        scale: f32,
        offset: f32,
    ) -> ChannelFormat {
        ChannelFormat {
            role,
            unit,
            sample,
            scale,
            offset,
        }
    }

    /// Raw count to a value in the channel's canonical unit.
    #[inline]
    pub fn to_canonical(&self, raw: i32) -> f64 {
        self.unit
            .to_canonical(f64::from(raw) * f64::from(self.scale) + f64::from(self.offset))
    }
}

/// Why a [`StreamHeader`] is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Rate not positive, not finite, or outside 0.001 Hz ..= 4 294 967.295 Hz.
    Rate,
    /// Roles/units/channel count rejected by [`StreamSpec::new`].
    Stream(StreamError),
    /// Channel `n` has a zero or non-finite scale, or a non-finite offset.
    Scale(u8),
    /// Unknown role, unit or sample-format code in a received header.
    Code,
    /// Received header payload has the wrong length.
    Length,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Rate => f.write_str("sample rate must be within 0.001 Hz and 4.29 MHz"),
            HeaderError::Stream(e) => write!(f, "{e}"),
            HeaderError::Scale(n) => write!(
                f,
                "channel {n}: scale must be finite and non-zero, offset finite"
            ),
            HeaderError::Code => f.write_str("unknown role, unit or sample format code"),
            HeaderError::Length => f.write_str("stream header payload has the wrong length"),
        }
    }
}

impl core::error::Error for HeaderError {}

/// The stream header: sample rate and per-channel formats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamHeader {
    rate_mhz: u32,
    len: u8,
    channels: [ChannelFormat; MAX_CHANNELS],
    spec: StreamSpec,
}

impl StreamHeader {
    /// Validates a header. The rate travels in millihertz, so it is
    /// rounded to 0.001 Hz.
    pub fn new(rate_hz: f64, channels: &[ChannelFormat]) -> Result<StreamHeader, HeaderError> {
        if !(rate_hz.is_finite() && rate_hz > 0.0) {
            return Err(HeaderError::Rate);
        }
        let mhz = libm::round(rate_hz * 1000.0);
        if !(1.0..=f64::from(u32::MAX)).contains(&mhz) {
            return Err(HeaderError::Rate);
        }
        Self::from_millihertz(mhz as u32, channels)
    }

    /// Validates a header with the rate given in millihertz.
    pub fn from_millihertz(
        rate_mhz: u32,
        channels: &[ChannelFormat],
    ) -> Result<StreamHeader, HeaderError> {
        if rate_mhz == 0 {
            return Err(HeaderError::Rate);
        }
        if channels.len() > MAX_CHANNELS {
            return Err(HeaderError::Stream(StreamError::TooManyChannels));
        }
        let mut specs = [ChannelSpec::canonical(Role::PelvicEmg); MAX_CHANNELS];
        let n = channels.len();
        for (i, c) in channels.iter().enumerate() {
            if !(c.scale.is_finite() && c.scale != 0.0 && c.offset.is_finite()) {
                return Err(HeaderError::Scale(i as u8));
            }
            specs[i] = ChannelSpec {
                role: c.role,
                unit: c.unit,
            };
        }
        // Validate roles/units against the core contract, then describe the
        // decoded stream in canonical units (decoders convert).
        StreamSpec::new(f64::from(rate_mhz) / 1000.0, &specs[..n]).map_err(HeaderError::Stream)?;
        let mut canonical = specs;
        for c in canonical.iter_mut().take(n) {
            *c = ChannelSpec::canonical(c.role);
        }
        let spec = StreamSpec::new(f64::from(rate_mhz) / 1000.0, &canonical[..n])
            .map_err(HeaderError::Stream)?;
        let mut out = [ChannelFormat::new(
            Role::PelvicEmg,
            Unit::Microvolt,
            SampleFormat::I16,
            1.0,
            0.0,
        ); MAX_CHANNELS];
        out[..n].copy_from_slice(&channels[..n]);
        Ok(StreamHeader {
            rate_mhz,
            len: n as u8,
            channels: out,
            spec,
        })
    }

    /// Sample rate in Hz.
    pub fn rate_hz(&self) -> f64 {
        f64::from(self.rate_mhz) / 1000.0
    }

    /// Sample rate in millihertz, as sent on the wire.
    pub fn rate_millihertz(&self) -> u32 {
        self.rate_mhz
    }

    /// The channels, in stream order.
    pub fn channels(&self) -> &[ChannelFormat] {
        &self.channels[..usize::from(self.len)]
    }

    /// The stream as decoded: same rate and roles, canonical units.
    pub fn spec(&self) -> StreamSpec {
        self.spec
    }

    /// Bytes of one sample of every channel.
    pub fn bytes_per_frame(&self) -> usize {
        self.channels().iter().map(|c| c.sample.width()).sum()
    }

    /// Most samples per channel one data frame can carry.
    pub fn max_samples_per_frame(&self) -> usize {
        ((MAX_PAYLOAD - DATA_PREFIX_LEN) / self.bytes_per_frame().max(1)).min(255)
    }

    /// Payload length of the header frame.
    pub fn payload_len(&self) -> usize {
        5 + 11 * usize::from(self.len)
    }

    fn write_payload(&self, out: &mut [u8]) -> usize {
        out[0..4].copy_from_slice(&self.rate_mhz.to_le_bytes());
        out[4] = self.len;
        let mut p = 5;
        for c in self.channels() {
            out[p] = role_code(c.role);
            out[p + 1] = unit_code(c.unit);
            out[p + 2] = c.sample.width() as u8;
            out[p + 3..p + 7].copy_from_slice(&c.scale.to_le_bytes());
            out[p + 7..p + 11].copy_from_slice(&c.offset.to_le_bytes());
            p += 11;
        }
        p
    }

    /// Parses a header frame payload.
    pub fn parse_payload(payload: &[u8]) -> Result<StreamHeader, HeaderError> {
        if payload.len() < 5 {
            return Err(HeaderError::Length);
        }
        let rate_mhz = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let n = usize::from(payload[4]);
        if n == 0 || n > MAX_CHANNELS {
            return Err(HeaderError::Stream(if n == 0 {
                StreamError::NoChannels
            } else {
                StreamError::TooManyChannels
            }));
        }
        if payload.len() != 5 + 11 * n {
            return Err(HeaderError::Length);
        }
        let mut ch = [ChannelFormat::new(
            Role::PelvicEmg,
            Unit::Microvolt,
            SampleFormat::I16,
            1.0,
            0.0,
        ); MAX_CHANNELS];
        for (i, c) in ch.iter_mut().take(n).enumerate() {
            let b = &payload[5 + 11 * i..5 + 11 * (i + 1)];
            let role = role_from_code(b[0]).ok_or(HeaderError::Code)?;
            let unit = unit_from_code(b[1]).ok_or(HeaderError::Code)?;
            let sample = SampleFormat::from_width(b[2]).ok_or(HeaderError::Code)?;
            let scale = f32::from_le_bytes([b[3], b[4], b[5], b[6]]);
            let offset = f32::from_le_bytes([b[7], b[8], b[9], b[10]]);
            *c = ChannelFormat::new(role, unit, sample, scale, offset);
        }
        StreamHeader::from_millihertz(rate_mhz, &ch[..n])
    }
}

/// One encoded frame, ready to write (derefs to `&[u8]`).
#[derive(Clone)]
pub struct WireFrame {
    buf: [u8; MAX_FRAME_LEN],
    len: usize,
}

impl WireFrame {
    /// The frame's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Deref for WireFrame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for WireFrame {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for WireFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// Why a frame could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The number of values is zero or not a multiple of the channel count.
    Length,
    /// More samples than fit one frame (see
    /// [`StreamHeader::max_samples_per_frame`]).
    TooLarge,
    /// A value is NaN or infinite.
    NonFinite,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Length => {
                f.write_str("value count must be a non-zero multiple of the channel count")
            }
            EncodeError::TooLarge => f.write_str("too many samples for one frame"),
            EncodeError::NonFinite => f.write_str("value is NaN or infinite"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Builds `levator` binary frames for one stream: keeps the frame sequence
/// number and the sample index.
#[derive(Clone, Debug)]
pub struct Encoder {
    header: StreamHeader,
    seq: u16,
    next_sample: u32,
    saturated: u64,
}

impl Encoder {
    /// An encoder starting at sequence number 0 and sample index 0.
    pub fn new(header: StreamHeader) -> Encoder {
        Encoder {
            header,
            seq: 0,
            next_sample: 0,
            saturated: 0,
        }
    }

    /// The stream header this encoder writes.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// Sequence number the next frame will carry.
    pub fn sequence(&self) -> u16 {
        self.seq
    }

    /// Device sample index of the next data frame's first sample.
    pub fn next_sample_index(&self) -> u32 {
        self.next_sample
    }

    /// Values clamped to the sample format's range so far.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    fn frame(&mut self, ty: FrameType, fill: impl FnOnce(&mut [u8]) -> usize) -> WireFrame {
        let mut f = WireFrame {
            buf: [0; MAX_FRAME_LEN],
            len: 0,
        };
        let n = fill(&mut f.buf[PREFIX_LEN..PREFIX_LEN + MAX_PAYLOAD]);
        f.buf[0] = SYNC0;
        f.buf[1] = SYNC1;
        f.buf[2] = VERSION;
        f.buf[3] = ty as u8;
        f.buf[4..6].copy_from_slice(&self.seq.to_le_bytes());
        f.buf[6..8].copy_from_slice(&(n as u16).to_le_bytes());
        let crc = crc::crc16(&f.buf[2..PREFIX_LEN + n]);
        f.buf[PREFIX_LEN + n..PREFIX_LEN + n + 2].copy_from_slice(&crc.to_le_bytes());
        f.len = PREFIX_LEN + n + 2;
        self.seq = self.seq.wrapping_add(1);
        f
    }

    /// The stream header frame (send at start and about once a second so a
    /// host that connects mid-stream can sync).
    pub fn header_frame(&mut self) -> WireFrame {
        let h = self.header;
        self.frame(FrameType::Header, |p| h.write_payload(p))
    }

    /// A data frame from values in each channel's declared unit,
    /// interleaved sample by sample (`[s0c0, s0c1, s1c0, s1c1, ...]`).
    /// Values are quantised to `round((v - offset) / scale)`; values outside
    /// the sample format's range are clamped and counted in
    /// [`Encoder::saturated`].
    pub fn data_frame(&mut self, values: &[f64]) -> Result<WireFrame, EncodeError> {
        let c = self.header.channels().len();
        self.check_len(values.len())?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EncodeError::NonFinite);
        }
        let mut raw = [0i32; MAX_PAYLOAD / 2];
        for (i, v) in values.iter().enumerate() {
            let ch = self.header.channels()[i % c];
            let q = libm::round((v - f64::from(ch.offset)) / f64::from(ch.scale));
            let clamped = q.clamp(f64::from(ch.sample.min()), f64::from(ch.sample.max()));
            if clamped != q {
                self.saturated += 1;
            }
            raw[i] = clamped as i32;
        }
        self.data_frame_raw(&raw[..values.len()])
    }

    /// A data frame from raw counts, interleaved sample by sample. Counts
    /// outside the sample format's range are clamped and counted.
    pub fn data_frame_raw(&mut self, raw: &[i32]) -> Result<WireFrame, EncodeError> {
        let n = self.check_len(raw.len())?;
        let header = self.header;
        let c = header.channels().len();
        let first = self.next_sample;
        let mut saturated = 0;
        let f = self.frame(FrameType::Data, |p| {
            p[0..4].copy_from_slice(&first.to_le_bytes());
            p[4] = n as u8;
            let mut at = DATA_PREFIX_LEN;
            for (i, &r) in raw.iter().enumerate() {
                let fmt = header.channels()[i % c].sample;
                let v = r.clamp(fmt.min(), fmt.max());
                if v != r {
                    saturated += 1;
                }
                fmt.write(v, &mut p[at..]);
                at += fmt.width();
            }
            at
        });
        self.saturated += saturated;
        self.next_sample = first.wrapping_add(n as u32);
        Ok(f)
    }

    /// A marker frame at the next sample index.
    pub fn marker_frame(&mut self, code: u16, value: i32) -> WireFrame {
        let at = self.next_sample;
        self.marker_frame_at(at, code, value)
    }

    /// A marker frame at a given device sample index.
    pub fn marker_frame_at(&mut self, sample_index: u32, code: u16, value: i32) -> WireFrame {
        self.frame(FrameType::Marker, |p| {
            p[0..4].copy_from_slice(&sample_index.to_le_bytes());
            p[4..6].copy_from_slice(&code.to_le_bytes());
            p[6..10].copy_from_slice(&value.to_le_bytes());
            10
        })
    }

    /// A device error frame.
    pub fn error_frame(&mut self, code: u16, detail: u32) -> WireFrame {
        self.frame(FrameType::Error, |p| {
            p[0..2].copy_from_slice(&code.to_le_bytes());
            p[2..6].copy_from_slice(&detail.to_le_bytes());
            6
        })
    }

    fn check_len(&self, values: usize) -> Result<usize, EncodeError> {
        let c = self.header.channels().len();
        if values == 0 || values % c != 0 {
            return Err(EncodeError::Length);
        }
        let n = values / c;
        if n > self.header.max_samples_per_frame() {
            return Err(EncodeError::TooLarge);
        }
        Ok(n)
    }
}

/// Push-style decoder of `levator` binary frames with resynchronisation,
/// CRC checking and gap detection. Holds one frame of buffer; never
/// allocates.
#[derive(Clone)]
pub struct Decoder {
    buf: [u8; MAX_FRAME_LEN],
    len: usize,
    header: Option<StreamHeader>,
    expected_seq: Option<u16>,
    /// (device index expected next, stream index it maps to)
    anchor: Option<(u32, u64)>,
    next_index: u64,
    pending_garbage: u64,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("buffered", &self.len)
            .field("header", &self.header)
            .field("next_index", &self.next_index)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Decoder {
    /// A decoder that waits for a stream header before decoding data.
    pub fn new() -> Decoder {
        Decoder {
            buf: [0; MAX_FRAME_LEN],
            len: 0,
            header: None,
            expected_seq: None,
            anchor: None,
            next_index: 0,
            pending_garbage: 0,
            stats: DecodeStats::default(),
        }
    }

    /// A decoder that already knows the stream header (data frames decode
    /// before the device's first header frame).
    pub fn with_header(header: StreamHeader) -> Decoder {
        let mut d = Decoder::new();
        d.header = Some(header);
        d
    }

    /// The stream header in force, if any.
    pub fn header(&self) -> Option<&StreamHeader> {
        self.header.as_ref()
    }

    /// The counters so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Stream index the next frame will get (absent gaps).
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Feeds bytes; `sink` gets every item in order.
    pub fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        self.stats.bytes_in += bytes.len() as u64;
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = rest.len().min(MAX_FRAME_LEN - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
            self.process(sink);
        }
    }

    /// End of the byte stream: bytes of an incomplete frame are counted as
    /// skipped and the garbage count is reported.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        if self.len > 0 {
            let n = self.len;
            self.drop_front(n);
        }
        self.flush_garbage(sink);
    }

    fn drop_front(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
        self.pending_garbage += n as u64;
        self.stats.bytes_skipped += n as u64;
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn flush_garbage(&mut self, sink: &mut dyn FnMut(Decoded)) {
        if self.pending_garbage > 0 {
            sink(Decoded::Error(DecodeError::Garbage {
                bytes: self.pending_garbage,
            }));
            self.pending_garbage = 0;
        }
    }

    fn process(&mut self, sink: &mut dyn FnMut(Decoded)) {
        loop {
            if self.len == 0 {
                return;
            }
            if self.buf[0] != SYNC0 {
                let skip = self.buf[1..self.len]
                    .iter()
                    .position(|&b| b == SYNC0)
                    .map_or(self.len, |p| p + 1);
                self.drop_front(skip);
                continue;
            }
            if self.len < 2 {
                return;
            }
            if self.buf[1] != SYNC1 {
                self.drop_front(1);
                continue;
            }
            if self.len < PREFIX_LEN {
                return;
            }
            let plen = usize::from(u16::from_le_bytes([self.buf[6], self.buf[7]]));
            if plen > MAX_PAYLOAD {
                self.drop_front(1);
                continue;
            }
            let total = PREFIX_LEN + plen + 2;
            if self.len < total {
                return;
            }
            let computed = crc::crc16(&self.buf[2..PREFIX_LEN + plen]);
            let received =
                u16::from_le_bytes([self.buf[PREFIX_LEN + plen], self.buf[PREFIX_LEN + plen + 1]]);
            if computed != received {
                self.stats.crc_failures += 1;
                self.flush_garbage(sink);
                sink(Decoded::Error(DecodeError::Crc { received, computed }));
                self.drop_front(1);
                continue;
            }
            self.flush_garbage(sink);
            let mut payload = [0u8; MAX_PAYLOAD];
            payload[..plen].copy_from_slice(&self.buf[PREFIX_LEN..PREFIX_LEN + plen]);
            let (version, ty) = (self.buf[2], self.buf[3]);
            let seq = u16::from_le_bytes([self.buf[4], self.buf[5]]);
            self.consume(total);
            self.handle_frame(version, ty, seq, &payload[..plen], sink);
        }
    }

    fn handle_frame(
        &mut self,
        version: u8,
        ty: u8,
        seq: u16,
        payload: &[u8],
        sink: &mut dyn FnMut(Decoded),
    ) {
        if version != VERSION {
            self.stats.rejected += 1;
            sink(Decoded::Error(DecodeError::UnsupportedVersion(version)));
            return;
        }
        if let Some(expected) = self.expected_seq {
            let d = seq.wrapping_sub(expected);
            if d != 0 && d < 0x8000 {
                self.stats.frames_lost += u64::from(d);
            }
        }
        self.expected_seq = Some(seq.wrapping_add(1));
        let bad = |stats: &mut DecodeStats, sink: &mut dyn FnMut(Decoded)| {
            stats.rejected += 1;
            sink(Decoded::Error(DecodeError::BadPayload { frame_type: ty }));
        };
        match FrameType::from_u8(ty) {
            None => {
                self.stats.rejected += 1;
                sink(Decoded::Error(DecodeError::UnknownFrameType(ty)));
            }
            Some(FrameType::Header) => match StreamHeader::parse_payload(payload) {
                Ok(h) => {
                    if self.header != Some(h) {
                        if self.header.is_some() {
                            // A different stream: device indices restart.
                            self.anchor = None;
                        }
                        self.header = Some(h);
                        sink(Decoded::Spec(h.spec()));
                    }
                }
                Err(_) => bad(&mut self.stats, sink),
            },
            Some(FrameType::Data) => self.handle_data(payload, ty, sink),
            Some(FrameType::Marker) => {
                if payload.len() != 10 {
                    bad(&mut self.stats, sink);
                    return;
                }
                let dev = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
                let code = u16::from_le_bytes([payload[4], payload[5]]);
                let value = i32::from_le_bytes([payload[6], payload[7], payload[8], payload[9]]);
                let index = match self.anchor {
                    Some((exp, next)) => {
                        let delta = i64::from(dev.wrapping_sub(exp) as i32);
                        (next as i64).saturating_add(delta).max(0) as u64
                    }
                    None => u64::from(dev),
                };
                sink(Decoded::Marker { index, code, value });
            }
            Some(FrameType::Error) => {
                if payload.len() != 6 {
                    bad(&mut self.stats, sink);
                    return;
                }
                let code = u16::from_le_bytes([payload[0], payload[1]]);
                let detail = u32::from_le_bytes([payload[2], payload[3], payload[4], payload[5]]);
                sink(Decoded::DeviceError { code, detail });
            }
        }
    }

    fn handle_data(&mut self, payload: &[u8], ty: u8, sink: &mut dyn FnMut(Decoded)) {
        if payload.len() < DATA_PREFIX_LEN {
            self.stats.rejected += 1;
            sink(Decoded::Error(DecodeError::BadPayload { frame_type: ty }));
            return;
        }
        let first = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let n = usize::from(payload[4]);
        let Some(header) = self.header else {
            self.stats.rejected += 1;
            sink(Decoded::Error(DecodeError::NoHeader { samples: n as u64 }));
            return;
        };
        let per = header.bytes_per_frame();
        if n == 0 || payload.len() != DATA_PREFIX_LEN + n * per {
            self.stats.rejected += 1;
            sink(Decoded::Error(DecodeError::BadPayload { frame_type: ty }));
            return;
        }
        let start = match self.anchor {
            // First data of a stream: the device index is the stream index
            // (a host that connects mid-stream starts at the device's count).
            None => u64::from(first),
            Some((expected, next)) => {
                let d = first.wrapping_sub(expected);
                if d == 0 {
                    next
                } else if d < 0x8000_0000 {
                    emit_gap(&mut self.stats, next, u64::from(d), sink);
                    next + u64::from(d)
                } else {
                    self.stats.rejected += 1;
                    sink(Decoded::Error(DecodeError::CounterReset));
                    next
                }
            }
        };
        let channels = header.channels();
        let mut at = DATA_PREFIX_LEN;
        let mut values = [0.0f64; MAX_CHANNELS];
        for s in 0..n {
            for (c, ch) in channels.iter().enumerate() {
                let w = ch.sample.width();
                values[c] = ch.to_canonical(ch.sample.read(&payload[at..at + w]));
                at += w;
            }
            self.stats.frames += 1;
            sink(Decoded::Frame(Frame::new(
                start + s as u64,
                &values[..channels.len()],
            )));
        }
        self.next_index = start + n as u64;
        self.anchor = Some((first.wrapping_add(n as u32), self.next_index));
    }
}

impl Decode for Decoder {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        Decoder::push(self, bytes, sink)
    }
    fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        Decoder::finish(self, sink)
    }
    fn stats(&self) -> DecodeStats {
        self.stats
    }
    fn spec(&self) -> Option<StreamSpec> {
        self.header.map(|h| h.spec())
    }
}
