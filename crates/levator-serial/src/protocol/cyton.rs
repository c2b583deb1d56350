//! OpenBCI Cyton: 33-byte packets over the USB dongle at 115200 baud,
//! 250 Hz, plus the text commands of a session.
//!
//! Packet (big-endian):
//!
//! | byte | content |
//! |---|---|
//! | 0 | header `0xA0` |
//! | 1 | sample counter, +1 per packet, wraps 255 → 0 |
//! | 2..26 | 8 channels × 24-bit two's complement ADS1299 counts |
//! | 26..32 | 6 aux bytes; with footer `0xC0`: accelerometer X, Y, Z as i16 |
//! | 32 | footer `0xC0`..=`0xC6` (aux format) |
//!
//! Channel µV = count × 4.5 V / gain / (2^23 − 1) × 1e6 (gain 24 gives
//! 0.02235 µV per count). Accelerometer g = count × 0.002 / 2^4 (the
//! scale OpenBCI's own software uses); the board sends a new reading at
//! 25 Hz and zeros in between, so an all-zero triple means "no new
//! reading" and the decoder holds the last one.
//!
//! The packet has no checksum: the decoder checks header and footer, and
//! the sample counter turns lost packets into gap reports (a loss of
//! 256·k + d packets is seen as d).
//!
//! ```
//! use levator_serial::protocol::cyton::{encode_packet, Packet, Gain};
//! let mut ch = [0i32; 8];
//! ch[0] = 1000;
//! ch[1] = -8_388_607;
//! let bytes = encode_packet(7, &ch, &[0; 6], 0xC0);
//! let p = Packet::parse(&bytes).unwrap();
//! let uv = p.channels_uv(&[Gain::X24; 8]);
//! assert!((uv[0] - 22.351744).abs() < 1e-6);
//! assert!((uv[1] + 187_500.0).abs() < 1e-6);
//! ```

use levator_core::stream::{ChannelSpec, Frame, Role, StreamError, StreamSpec, MAX_CHANNELS};

use super::binary::EncodeError;
use super::{emit_gap, Decode, DecodeError, DecodeStats, Decoded};

/// Bytes per packet.
pub const PACKET_LEN: usize = 33;
/// Packet header byte.
pub const HEADER: u8 = 0xA0;
/// Sample rate of a Cyton without Daisy.
pub const SAMPLE_RATE_HZ: f64 = 250.0;
/// Baud rate of the USB dongle.
pub const BAUD: u32 = 115_200;
/// ADS1299 reference voltage.
pub const VREF_V: f64 = 4.5;
/// Accelerometer g per count.
pub const ACCEL_G_PER_COUNT: f64 = 0.002 / 16.0;
/// EEG/EMG channels per packet.
pub const CHANNELS: usize = 8;
/// Largest 24-bit count.
pub const COUNT_MAX: i32 = (1 << 23) - 1;
/// Smallest 24-bit count.
pub const COUNT_MIN: i32 = -(1 << 23);

/// True for a valid footer byte (`0xC0..=0xC6`).
pub const fn is_footer(b: u8) -> bool {
    b >= 0xC0 && b <= 0xC6
}

/// ADS1299 programmable gain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Gain {
    /// ×1
    X1,
    /// ×2
    X2,
    /// ×4
    X4,
    /// ×6
    X6,
    /// ×8
    X8,
    /// ×12
    X12,
    /// ×24 (board default)
    #[default]
    X24,
}

impl Gain {
    /// Every gain, in code order.
    pub const ALL: [Gain; 7] = [
        Gain::X1,
        Gain::X2,
        Gain::X4,
        Gain::X6,
        Gain::X8,
        Gain::X12,
        Gain::X24,
    ];

    /// The amplification factor.
    pub const fn factor(self) -> u8 {
        match self {
            Gain::X1 => 1,
            Gain::X2 => 2,
            Gain::X4 => 4,
            Gain::X6 => 6,
            Gain::X8 => 8,
            Gain::X12 => 12,
            Gain::X24 => 24,
        }
    }

    /// The digit used in channel setting commands (`b'0'..=b'6'`).
    pub const fn code(self) -> u8 {
        b'0' + self as u8
    }

    /// Parses [`Gain::code`].
    pub fn from_code(code: u8) -> Option<Gain> {
        Gain::ALL.into_iter().find(|g| g.code() == code)
    }

    /// Parses a factor (1, 2, 4, 6, 8, 12, 24).
    pub fn from_factor(factor: u8) -> Option<Gain> {
        Gain::ALL.into_iter().find(|g| g.factor() == factor)
    }

    /// µV per count: 4.5 / gain / (2^23 − 1) × 1e6.
    pub fn uv_per_count(self) -> f64 {
        VREF_V / f64::from(self.factor()) / f64::from(COUNT_MAX) * 1e6
    }
}

/// One decoded packet, raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Sample counter.
    pub counter: u8,
    /// ADS1299 counts, sign-extended.
    pub channels: [i32; CHANNELS],
    /// Aux bytes.
    pub aux: [u8; 6],
    /// Footer byte.
    pub footer: u8,
}

impl Packet {
    /// Parses one packet, checking header and footer.
    pub fn parse(bytes: &[u8; PACKET_LEN]) -> Result<Packet, DecodeError> {
        if bytes[0] != HEADER {
            return Err(DecodeError::Garbage { bytes: 1 });
        }
        if !is_footer(bytes[32]) {
            return Err(DecodeError::BadFooter(bytes[32]));
        }
        let mut channels = [0i32; CHANNELS];
        for (i, c) in channels.iter_mut().enumerate() {
            let b = &bytes[2 + 3 * i..5 + 3 * i];
            *c = i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8;
        }
        let mut aux = [0u8; 6];
        aux.copy_from_slice(&bytes[26..32]);
        Ok(Packet {
            counter: bytes[1],
            channels,
            aux,
            footer: bytes[32],
        })
    }

    /// The packet's bytes.
    pub fn to_bytes(&self) -> [u8; PACKET_LEN] {
        encode_packet(self.counter, &self.channels, &self.aux, self.footer)
    }

    /// Channel values in µV with each channel's gain.
    pub fn channels_uv(&self, gains: &[Gain; CHANNELS]) -> [f64; CHANNELS] {
        let mut out = [0.0; CHANNELS];
        for (o, (c, g)) in out.iter_mut().zip(self.channels.iter().zip(gains)) {
            *o = f64::from(*c) * g.uv_per_count();
        }
        out
    }

    /// Accelerometer counts X, Y, Z, when the footer is `0xC0`.
    pub fn accel_counts(&self) -> Option<[i16; 3]> {
        if self.footer != 0xC0 {
            return None;
        }
        let a = &self.aux;
        Some([
            i16::from_be_bytes([a[0], a[1]]),
            i16::from_be_bytes([a[2], a[3]]),
            i16::from_be_bytes([a[4], a[5]]),
        ])
    }

    /// Accelerometer X, Y, Z in g, when the footer is `0xC0` and the
    /// packet carries a reading (not all zero).
    pub fn accel_g(&self) -> Option<[f64; 3]> {
        let c = self.accel_counts()?;
        if c == [0, 0, 0] {
            return None;
        }
        Some(c.map(|v| f64::from(v) * ACCEL_G_PER_COUNT))
    }
}

/// Builds a packet's bytes. Counts are clamped to 24 bits; a footer
/// outside `0xC0..=0xC6` is written as given (for fault injection).
pub fn encode_packet(
    counter: u8,
    channels: &[i32; CHANNELS],
    aux: &[u8; 6],
    footer: u8,
) -> [u8; PACKET_LEN] {
    let mut out = [0u8; PACKET_LEN];
    out[0] = HEADER;
    out[1] = counter;
    for (i, c) in channels.iter().enumerate() {
        let b = (*c).clamp(COUNT_MIN, COUNT_MAX).to_be_bytes();
        out[2 + 3 * i..5 + 3 * i].copy_from_slice(&b[1..4]);
    }
    out[26..32].copy_from_slice(aux);
    out[32] = footer;
    out
}

/// Aux bytes for footer `0xC0` carrying accelerometer counts.
pub fn accel_aux(counts: [i16; 3]) -> [u8; 6] {
    let mut out = [0u8; 6];
    for (i, c) in counts.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&c.to_be_bytes());
    }
    out
}

/// Builds packets from physical values (the device side: the simulator's
/// virtual Cyton, tests).
#[derive(Clone, Debug)]
pub struct CytonEncoder {
    counter: u8,
    gains: [Gain; CHANNELS],
    saturated: u64,
}

impl CytonEncoder {
    /// Starts at counter 0 with the given gains.
    pub fn new(gains: [Gain; CHANNELS]) -> CytonEncoder {
        CytonEncoder {
            counter: 0,
            gains,
            saturated: 0,
        }
    }

    /// The counter the next packet carries.
    pub fn counter(&self) -> u8 {
        self.counter
    }

    /// Changes one channel's gain (after a channel setting command).
    pub fn set_gain(&mut self, channel: usize, gain: Gain) {
        if let Some(g) = self.gains.get_mut(channel) {
            *g = gain;
        }
    }

    /// Skips `n` packets (a dropped-packet fault: the counter jumps).
    pub fn skip(&mut self, n: u8) {
        self.counter = self.counter.wrapping_add(n);
    }

    /// Values clamped to the 24-bit range (or accelerometer i16) so far.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    /// One packet from 8 channel values in µV and an optional accelerometer
    /// reading in g (footer `0xC0`; `None` sends zeros = no new reading).
    pub fn packet(
        &mut self,
        uv: &[f64; CHANNELS],
        accel_g: Option<[f64; 3]>,
    ) -> Result<[u8; PACKET_LEN], EncodeError> {
        if uv.iter().any(|v| !v.is_finite())
            || accel_g.is_some_and(|a| a.iter().any(|v| !v.is_finite()))
        {
            return Err(EncodeError::NonFinite);
        }
        let mut counts = [0i32; CHANNELS];
        for (c, (v, g)) in counts.iter_mut().zip(uv.iter().zip(&self.gains)) {
            let q = libm::round(v / g.uv_per_count());
            let cl = q.clamp(f64::from(COUNT_MIN), f64::from(COUNT_MAX));
            if cl != q {
                self.saturated += 1;
            }
            *c = cl as i32;
        }
        let aux = match accel_g {
            None => [0; 6],
            Some(a) => accel_aux(a.map(|g| {
                let q = libm::round(g / ACCEL_G_PER_COUNT);
                let cl = q.clamp(f64::from(i16::MIN), f64::from(i16::MAX));
                if cl != q {
                    self.saturated += 1;
                }
                cl as i16
            })),
        };
        let p = encode_packet(self.counter, &counts, &aux, 0xC0);
        self.counter = self.counter.wrapping_add(1);
        Ok(p)
    }
}

/// An accelerometer axis mapped to the `probe_motion` channel, with sign
/// (+ = inward/cranial lift).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccelAxis {
    /// +X
    X,
    /// +Y
    Y,
    /// +Z
    Z,
    /// −X
    NegX,
    /// −Y
    NegY,
    /// −Z
    NegZ,
}

impl AccelAxis {
    fn pick(self, a: [f64; 3]) -> f64 {
        match self {
            AccelAxis::X => a[0],
            AccelAxis::Y => a[1],
            AccelAxis::Z => a[2],
            AccelAxis::NegX => -a[0],
            AccelAxis::NegY => -a[1],
            AccelAxis::NegZ => -a[2],
        }
    }
}

/// Which Cyton channels feed which roles, and their gains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CytonConfig {
    /// Gain of each ADS1299 channel (must match the board's settings).
    pub gains: [Gain; CHANNELS],
    /// Role of each channel (1..=8 → index 0..=7); `None` = not streamed.
    pub roles: [Option<Role>; CHANNELS],
    /// Accelerometer axis delivered as `probe_motion` (g), if any.
    pub motion_axis: Option<AccelAxis>,
}

impl Default for CytonConfig {
    /// Channel 1 pelvic EMG, channel 2 abdominal EMG, gain 24, no motion.
    fn default() -> Self {
        let mut roles = [None; CHANNELS];
        roles[0] = Some(Role::PelvicEmg);
        roles[1] = Some(Role::AbdominalEmg);
        CytonConfig {
            gains: [Gain::X24; CHANNELS],
            roles,
            motion_axis: None,
        }
    }
}

impl CytonConfig {
    /// The decoded stream: 250 Hz, mapped channels in channel order, then
    /// probe motion.
    pub fn spec(&self) -> Result<StreamSpec, StreamError> {
        let mut specs = [ChannelSpec::canonical(Role::PelvicEmg); MAX_CHANNELS + 1];
        let mut n = 0;
        for r in self.roles.iter().flatten() {
            specs[n] = ChannelSpec::canonical(*r);
            n += 1;
        }
        if self.motion_axis.is_some() {
            specs[n] = ChannelSpec::canonical(Role::ProbeMotion);
            n += 1;
        }
        StreamSpec::new(SAMPLE_RATE_HZ, &specs[..n])
    }
}

/// Push-style Cyton packet decoder with resync and counter-gap detection.
#[derive(Clone, Debug)]
pub struct CytonDecoder {
    config: CytonConfig,
    spec: StreamSpec,
    buf: [u8; PACKET_LEN],
    len: usize,
    in_sync: bool,
    expected_counter: Option<u8>,
    next_index: u64,
    accel: [f64; 3],
    pending_garbage: u64,
    stats: DecodeStats,
}

impl CytonDecoder {
    /// A decoder for the given mapping (fails if the mapped roles do not
    /// form a valid stream, e.g. a role used twice).
    pub fn new(config: CytonConfig) -> Result<CytonDecoder, StreamError> {
        let spec = config.spec()?;
        Ok(CytonDecoder {
            config,
            spec,
            buf: [0; PACKET_LEN],
            len: 0,
            in_sync: false,
            expected_counter: None,
            next_index: 0,
            accel: [0.0; 3],
            pending_garbage: 0,
            stats: DecodeStats::default(),
        })
    }

    /// The mapping.
    pub fn config(&self) -> &CytonConfig {
        &self.config
    }

    /// The decoded stream.
    pub fn spec(&self) -> StreamSpec {
        self.spec
    }

    /// The counters so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Changes one channel's gain (after sending a channel setting command).
    pub fn set_gain(&mut self, channel: usize, gain: Gain) {
        if let Some(g) = self.config.gains.get_mut(channel) {
            *g = gain;
        }
    }

    /// Feeds bytes; `sink` gets every item in order.
    pub fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        self.stats.bytes_in += bytes.len() as u64;
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = rest.len().min(PACKET_LEN - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
            self.process(sink);
        }
    }

    /// End of the byte stream: a partial packet is counted as skipped.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        let n = self.len;
        self.drop_front(n);
        self.flush_garbage(sink);
    }

    fn drop_front(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
        self.pending_garbage += n as u64;
        self.stats.bytes_skipped += n as u64;
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
            if self.buf[0] != HEADER {
                self.in_sync = false;
                let skip = self.buf[1..self.len]
                    .iter()
                    .position(|&b| b == HEADER)
                    .map_or(self.len, |p| p + 1);
                self.drop_front(skip);
                continue;
            }
            if self.len < PACKET_LEN {
                return;
            }
            let mut bytes = [0u8; PACKET_LEN];
            bytes.copy_from_slice(&self.buf);
            let packet = match Packet::parse(&bytes) {
                Ok(p) => p,
                Err(e) => {
                    if self.in_sync {
                        // A packet was due here: count and report it.
                        self.stats.footer_failures += 1;
                        self.flush_garbage(sink);
                        sink(Decoded::Error(e));
                        self.in_sync = false;
                    }
                    self.drop_front(1);
                    continue;
                }
            };
            self.len = 0;
            self.in_sync = true;
            self.flush_garbage(sink);
            self.handle(packet, sink);
        }
    }

    fn handle(&mut self, p: Packet, sink: &mut dyn FnMut(Decoded)) {
        if let Some(e) = self.expected_counter {
            let lost = p.counter.wrapping_sub(e);
            if lost != 0 {
                emit_gap(&mut self.stats, self.next_index, u64::from(lost), sink);
                self.next_index += u64::from(lost);
            }
        }
        self.expected_counter = Some(p.counter.wrapping_add(1));
        if let Some(a) = p.accel_g() {
            self.accel = a;
        }
        let uv = p.channels_uv(&self.config.gains);
        let mut values = [0.0; MAX_CHANNELS];
        let mut n = 0;
        for (r, v) in self.config.roles.iter().zip(uv) {
            if r.is_some() && n < MAX_CHANNELS {
                values[n] = v;
                n += 1;
            }
        }
        if let Some(axis) = self.config.motion_axis {
            if n < MAX_CHANNELS {
                values[n] = axis.pick(self.accel);
                n += 1;
            }
        }
        self.stats.frames += 1;
        sink(Decoded::Frame(Frame::new(self.next_index, &values[..n])));
        self.next_index += 1;
    }
}

impl Decode for CytonDecoder {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Decoded)) {
        CytonDecoder::push(self, bytes, sink)
    }
    fn finish(&mut self, sink: &mut dyn FnMut(Decoded)) {
        CytonDecoder::finish(self, sink)
    }
    fn stats(&self) -> DecodeStats {
        self.stats
    }
    fn spec(&self) -> Option<StreamSpec> {
        Some(self.spec)
    }
}

/// Session commands (single ASCII bytes / short strings sent to the board).
pub mod command {
    use super::{Gain, CHANNELS};
    use core::fmt;

    /// Soft reset; the board answers with its identification ending in `$$$`.
    pub const RESET: u8 = b'v';
    /// Restore default channel settings (answer ends in `$$$`).
    pub const DEFAULTS: u8 = b'd';
    /// Start streaming packets.
    pub const START: u8 = b'b';
    /// Stop streaming.
    pub const STOP: u8 = b's';
    /// The end-of-reply marker.
    pub const EOT: &[u8; 3] = b"$$$";

    /// ADS1299 input selection (channel setting command, 4th field).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub enum Input {
        /// Normal electrode input.
        #[default]
        Normal,
        /// Inputs shorted (noise measurement).
        Shorted,
        /// Bias measurement.
        BiasMeas,
        /// Supply measurement.
        Mvdd,
        /// Temperature sensor.
        Temp,
        /// Internal test signal.
        TestSig,
        /// Bias drive positive.
        BiasDrp,
        /// Bias drive negative.
        BiasDrn,
    }

    impl Input {
        const ALL: [Input; 8] = [
            Input::Normal,
            Input::Shorted,
            Input::BiasMeas,
            Input::Mvdd,
            Input::Temp,
            Input::TestSig,
            Input::BiasDrp,
            Input::BiasDrn,
        ];
    }

    /// One channel's settings (`x N P G I B S2 S1 X`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ChannelSettings {
        /// Channel powered down.
        pub powered_down: bool,
        /// Programmable gain.
        pub gain: Gain,
        /// Input selection.
        pub input: Input,
        /// Include in bias generation.
        pub bias: bool,
        /// Connect to SRB2.
        pub srb2: bool,
        /// Connect to SRB1 (all channels).
        pub srb1: bool,
    }

    impl Default for ChannelSettings {
        /// The board default: on, ×24, normal input, bias on, SRB2 on, SRB1 off.
        fn default() -> Self {
            ChannelSettings {
                powered_down: false,
                gain: Gain::X24,
                input: Input::Normal,
                bias: true,
                srb2: true,
                srb1: false,
            }
        }
    }

    /// Why a channel command could not be built or parsed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum CommandError {
        /// Channel outside 1..=8.
        Channel,
        /// Not of the form `x N P G I B S2 S1 X`.
        Syntax,
    }

    impl fmt::Display for CommandError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                CommandError::Channel => f.write_str("Cyton channel must be 1..=8"),
                CommandError::Syntax => f.write_str("not a channel setting command x...X"),
            }
        }
    }

    impl core::error::Error for CommandError {}

    fn bit(b: bool) -> u8 {
        if b {
            b'1'
        } else {
            b'0'
        }
    }

    /// The 9-byte channel setting command for channel 1..=8.
    ///
    /// ```
    /// use levator_serial::protocol::cyton::{command::{channel_settings, ChannelSettings}, Gain};
    /// let s = ChannelSettings { gain: Gain::X8, ..ChannelSettings::default() };
    /// assert_eq!(&channel_settings(3, &s).unwrap(), b"x3040110X");
    /// ```
    pub fn channel_settings(channel: u8, s: &ChannelSettings) -> Result<[u8; 9], CommandError> {
        if !(1..=CHANNELS as u8).contains(&channel) {
            return Err(CommandError::Channel);
        }
        Ok([
            b'x',
            b'0' + channel,
            bit(s.powered_down),
            s.gain.code(),
            b'0' + s.input as u8,
            bit(s.bias),
            bit(s.srb2),
            bit(s.srb1),
            b'X',
        ])
    }

    /// Parses a channel setting command (the board side).
    pub fn parse_channel_settings(cmd: &[u8]) -> Result<(u8, ChannelSettings), CommandError> {
        let [b'x', ch, p, g, i, b, s2, s1, b'X'] = *cmd else {
            return Err(CommandError::Syntax);
        };
        let flag = |c: u8| match c {
            b'0' => Ok(false),
            b'1' => Ok(true),
            _ => Err(CommandError::Syntax),
        };
        let channel = ch.wrapping_sub(b'0');
        if !(1..=CHANNELS as u8).contains(&channel) {
            return Err(CommandError::Channel);
        }
        let input = Input::ALL
            .get(usize::from(i.wrapping_sub(b'0')))
            .copied()
            .ok_or(CommandError::Syntax)?;
        Ok((
            channel,
            ChannelSettings {
                powered_down: flag(p)?,
                gain: Gain::from_code(g).ok_or(CommandError::Syntax)?,
                input,
                bias: flag(b)?,
                srb2: flag(s2)?,
                srb1: flag(s1)?,
            },
        ))
    }

    /// Largest reply kept by [`Reply`].
    pub const MAX_REPLY: usize = 512;

    /// Accumulates a text reply until `$$$` (the `v` handshake, `d`,
    /// channel commands).
    #[derive(Clone)]
    pub struct Reply {
        buf: [u8; MAX_REPLY],
        len: usize,
        overflow: usize,
        done: bool,
    }

    impl Default for Reply {
        fn default() -> Self {
            Reply::new()
        }
    }

    impl fmt::Debug for Reply {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Reply")
                .field(
                    "text",
                    &core::str::from_utf8(self.text()).unwrap_or("<binary>"),
                )
                .field("overflow", &self.overflow)
                .field("done", &self.done)
                .finish()
        }
    }

    impl Reply {
        /// An empty reply.
        pub fn new() -> Reply {
            Reply {
                buf: [0; MAX_REPLY],
                len: 0,
                overflow: 0,
                done: false,
            }
        }

        /// Feeds bytes. Returns `Some(n)` once `$$$` has been seen, `n`
        /// being how many of `bytes` belonged to the reply (the rest is
        /// stream data).
        pub fn push(&mut self, bytes: &[u8]) -> Option<usize> {
            if self.done {
                return Some(0);
            }
            for (i, &b) in bytes.iter().enumerate() {
                if self.len < MAX_REPLY {
                    self.buf[self.len] = b;
                    self.len += 1;
                } else {
                    // Keep the tail so `$$$` is still recognised.
                    self.buf.copy_within(1.., 0);
                    self.buf[MAX_REPLY - 1] = b;
                    self.overflow += 1;
                }
                if self.len >= 3 && &self.buf[self.len - 3..self.len] == EOT {
                    self.done = true;
                    return Some(i + 1);
                }
            }
            None
        }

        /// True once `$$$` was received.
        pub fn is_complete(&self) -> bool {
            self.done
        }

        /// The reply without the `$$$` marker.
        pub fn text(&self) -> &[u8] {
            let end = if self.done { self.len - 3 } else { self.len };
            &self.buf[..end]
        }

        /// Bytes dropped from the front because the reply was too long.
        pub fn overflow(&self) -> usize {
            self.overflow
        }

        /// The firmware version after `Firmware: ` (e.g. `v3.1.2`), if any.
        pub fn firmware(&self) -> Option<&str> {
            let text = core::str::from_utf8(self.text()).ok()?;
            let at = text.find("Firmware: ")? + "Firmware: ".len();
            text[at..].split_whitespace().next()
        }

        /// True if the reply mentions a Daisy module (16 channels at 125 Hz,
        /// not supported by this decoder).
        pub fn has_daisy(&self) -> bool {
            self.text()
                .windows(5)
                .any(|w| w.eq_ignore_ascii_case(b"daisy"))
        }
    }
}
