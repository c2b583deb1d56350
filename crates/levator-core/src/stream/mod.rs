//! Source layer: channel roles, canonical units, stream descriptions and
//! [`Frame`]s (one sample per channel, with its sample index).
//!
//! Everything inside levator works in canonical units (µV, cmH2O, g,
//! arbitrary units); [`Unit::to_canonical`] and [`AdcScale`] convert at the
//! edges.

use core::fmt;

/// The most channels one stream may carry (an OpenBCI Cyton has 8).
pub const MAX_CHANNELS: usize = 8;

/// 1 mmHg expressed in cmH2O.
pub const CMH2O_PER_MMHG: f64 = 1.35951;

/// What a channel measures (DESIGN.md "Channels and units").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Role {
    /// Vaginal / anal / perianal surface EMG (clinical channel A), µV.
    PelvicEmg,
    /// Abdominal wall surface EMG (clinical channel B), µV.
    AbdominalEmg,
    /// Probe pressure; in manometry the anal high-pressure zone, cmH2O.
    PelvicPressure,
    /// Rectal balloon or abdominal pressure sensor, cmH2O.
    AbdominalPressure,
    /// Probe motion along the lift axis, + = inward/cranial (lift), g.
    ProbeMotion,
    /// Breathing belt, + = inhale, arbitrary units.
    Respiration,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 6] = [
        Role::PelvicEmg,
        Role::AbdominalEmg,
        Role::PelvicPressure,
        Role::AbdominalPressure,
        Role::ProbeMotion,
        Role::Respiration,
    ];

    /// The snake_case name used in files and events (`pelvic_emg`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Role::PelvicEmg => "pelvic_emg",
            Role::AbdominalEmg => "abdominal_emg",
            Role::PelvicPressure => "pelvic_pressure",
            Role::AbdominalPressure => "abdominal_pressure",
            Role::ProbeMotion => "probe_motion",
            Role::Respiration => "respiration",
        }
    }

    /// Parses a role name as written by [`Role::name`].
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The unit levator uses for this role internally.
    pub const fn canonical_unit(self) -> Unit {
        match self {
            Role::PelvicEmg | Role::AbdominalEmg => Unit::Microvolt,
            Role::PelvicPressure | Role::AbdominalPressure => Unit::CmH2O,
            Role::ProbeMotion => Unit::G,
            Role::Respiration => Unit::Arbitrary,
        }
    }

    /// True for the two EMG roles.
    pub const fn is_emg(self) -> bool {
        matches!(self, Role::PelvicEmg | Role::AbdominalEmg)
    }

    /// True for the two pressure roles.
    pub const fn is_pressure(self) -> bool {
        matches!(self, Role::PelvicPressure | Role::AbdominalPressure)
    }

    /// Splits a recording column name `<role>_<unit>` (e.g.
    /// `pelvic_emg_uv`, `abdominal_pressure_mmhg`) into role and unit.
    ///
    /// ```
    /// use levator_core::stream::{Role, Unit};
    /// assert_eq!(Role::parse_column("abdominal_pressure_mmhg"),
    ///            Some((Role::AbdominalPressure, Unit::MmHg)));
    /// assert_eq!(Role::parse_column("heart_rate_bpm"), None);
    /// ```
    pub fn parse_column(column: &str) -> Option<(Role, Unit)> {
        let (role, unit) = column.rsplit_once('_')?;
        let role = Role::from_name(role)?;
        let unit = Unit::from_suffix(unit)?;
        unit.is_compatible(role).then_some((role, unit))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A physical unit a sample may arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Unit {
    /// Microvolts (canonical for EMG).
    Microvolt,
    /// Centimetres of water (canonical for pressure).
    CmH2O,
    /// Millimetres of mercury (manometry exports); converted to cmH2O.
    MmHg,
    /// Standard gravity (canonical for probe motion).
    G,
    /// Arbitrary units (canonical for respiration).
    Arbitrary,
}

impl Unit {
    /// The column-name suffix (`uv`, `cmh2o`, `mmhg`, `g`, `au`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Unit::Microvolt => "uv",
            Unit::CmH2O => "cmh2o",
            Unit::MmHg => "mmhg",
            Unit::G => "g",
            Unit::Arbitrary => "au",
        }
    }

    /// Parses a suffix as written by [`Unit::suffix`].
    pub fn from_suffix(suffix: &str) -> Option<Unit> {
        [
            Unit::Microvolt,
            Unit::CmH2O,
            Unit::MmHg,
            Unit::G,
            Unit::Arbitrary,
        ]
        .into_iter()
        .find(|u| u.suffix() == suffix)
    }

    /// Whether a value in this unit can be converted to `role`'s canonical unit.
    pub const fn is_compatible(self, role: Role) -> bool {
        matches!(
            (self, role.canonical_unit()),
            (Unit::Microvolt, Unit::Microvolt)
                | (Unit::CmH2O | Unit::MmHg, Unit::CmH2O)
                | (Unit::G, Unit::G)
                | (Unit::Arbitrary, Unit::Arbitrary)
        )
    }

    /// Converts a value in this unit to the canonical unit of its kind
    /// (only mmHg changes: x [`CMH2O_PER_MMHG`]).
    ///
    /// ```
    /// use levator_core::stream::Unit;
    /// assert!((Unit::MmHg.to_canonical(40.0) - 54.3804).abs() < 1e-9);
    /// ```
    #[inline]
    pub fn to_canonical(self, value: f64) -> f64 {
        match self {
            Unit::MmHg => value * CMH2O_PER_MMHG,
            _ => value,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// Linear conversion of raw ADC counts to µV: `(count - offset) * uv_per_count`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AdcScale {
    /// Microvolts per count at the electrode (after dividing out the gain).
    pub uv_per_count: f64,
    /// The count that corresponds to 0 µV (e.g. 2048 for a unipolar 12-bit ADC).
    pub offset: f64,
}

impl AdcScale {
    /// Scale for a bipolar ADC of `bits` bits with reference `vref_v` volts
    /// and amplifier `gain`: µV per count = vref / gain / (2^(bits-1) - 1) x 1e6.
    ///
    /// The OpenBCI Cyton (4.5 V, gain 24, 24 bits) gives 0.02235 µV per count:
    ///
    /// ```
    /// use levator_core::stream::AdcScale;
    /// let s = AdcScale::bipolar(4.5, 24.0, 24).unwrap();
    /// assert!((s.uv_per_count - 0.02235).abs() < 1e-5);
    /// assert!((s.to_uv(1000.0) - 22.35).abs() < 1e-2);
    /// ```
    pub fn bipolar(vref_v: f64, gain: f64, bits: u32) -> Result<AdcScale, ScaleError> {
        if !(2..=32).contains(&bits) {
            return Err(ScaleError::Bits);
        }
        if !(vref_v.is_finite() && vref_v > 0.0 && gain.is_finite() && gain > 0.0) {
            return Err(ScaleError::NonPositive);
        }
        let full = (1u64 << (bits - 1)) as f64 - 1.0;
        Ok(AdcScale {
            uv_per_count: vref_v / gain / full * 1e6,
            offset: 0.0,
        })
    }

    /// Scale for a unipolar ADC of `bits` bits spanning `vref_v` volts, centred
    /// at mid-scale (typical of Arduino/BITalino EMG front ends).
    pub fn unipolar_centred(vref_v: f64, gain: f64, bits: u32) -> Result<AdcScale, ScaleError> {
        if !(2..=32).contains(&bits) {
            return Err(ScaleError::Bits);
        }
        if !(vref_v.is_finite() && vref_v > 0.0 && gain.is_finite() && gain > 0.0) {
            return Err(ScaleError::NonPositive);
        }
        let levels = (1u64 << bits) as f64;
        Ok(AdcScale {
            uv_per_count: vref_v / gain / levels * 1e6,
            offset: levels / 2.0,
        })
    }

    /// Converts one raw count to µV.
    #[inline]
    pub fn to_uv(&self, count: f64) -> f64 {
        (count - self.offset) * self.uv_per_count
    }
}

/// Why an [`AdcScale`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleError {
    /// Bit depth outside 2..=32.
    Bits,
    /// Reference voltage or gain not a positive finite number.
    NonPositive,
}

impl fmt::Display for ScaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaleError::Bits => f.write_str("ADC bit depth must be between 2 and 32"),
            ScaleError::NonPositive => {
                f.write_str("ADC reference voltage and gain must be positive and finite")
            }
        }
    }
}

impl core::error::Error for ScaleError {}

/// One channel of a stream: its role and the unit its samples arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChannelSpec {
    /// What the channel measures.
    pub role: Role,
    /// The unit samples arrive in (converted to the role's canonical unit).
    pub unit: Unit,
}

impl ChannelSpec {
    /// A channel in its role's canonical unit.
    pub const fn canonical(role: Role) -> ChannelSpec {
        ChannelSpec {
            role,
            unit: role.canonical_unit(),
        }
    }
}

/// Description of a stream: one sample rate shared by up to
/// [`MAX_CHANNELS`] channels, each with a distinct role.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamSpec {
    rate_hz: f64,
    len: usize,
    channels: [ChannelSpec; MAX_CHANNELS],
}

impl StreamSpec {
    /// Validates a stream description.
    ///
    /// ```
    /// use levator_core::stream::{ChannelSpec, Role, StreamSpec};
    /// let spec = StreamSpec::new(1000.0, &[
    ///     ChannelSpec::canonical(Role::PelvicEmg),
    ///     ChannelSpec::canonical(Role::AbdominalEmg),
    /// ]).unwrap();
    /// assert_eq!(spec.channel_index(Role::AbdominalEmg), Some(1));
    /// ```
    pub fn new(rate_hz: f64, channels: &[ChannelSpec]) -> Result<StreamSpec, StreamError> {
        if !(rate_hz.is_finite() && rate_hz > 0.0) {
            return Err(StreamError::Rate);
        }
        if channels.is_empty() {
            return Err(StreamError::NoChannels);
        }
        if channels.len() > MAX_CHANNELS {
            return Err(StreamError::TooManyChannels);
        }
        let mut out = [ChannelSpec::canonical(Role::PelvicEmg); MAX_CHANNELS];
        for (i, c) in channels.iter().enumerate() {
            if !c.unit.is_compatible(c.role) {
                return Err(StreamError::Unit(c.role, c.unit));
            }
            if channels[..i].iter().any(|p| p.role == c.role) {
                return Err(StreamError::DuplicateRole(c.role));
            }
            out[i] = *c;
        }
        Ok(StreamSpec {
            rate_hz,
            len: channels.len(),
            channels: out,
        })
    }

    /// Sample rate in Hz.
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }

    /// The channels, in stream order.
    pub fn channels(&self) -> &[ChannelSpec] {
        &self.channels[..self.len]
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a valid stream has at least one channel.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Position of the channel with `role`, if the stream carries it.
    pub fn channel_index(&self, role: Role) -> Option<usize> {
        self.channels().iter().position(|c| c.role == role)
    }

    /// Stream time in seconds of sample `index`.
    #[inline]
    pub fn time_s(&self, index: u64) -> f64 {
        index as f64 / self.rate_hz
    }
}

/// Why a [`StreamSpec`] is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// Sample rate not a positive finite number.
    Rate,
    /// No channels given.
    NoChannels,
    /// More than [`MAX_CHANNELS`] channels.
    TooManyChannels,
    /// Two channels with the same role.
    DuplicateRole(Role),
    /// A unit that cannot express this role.
    Unit(Role, Unit),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Rate => f.write_str("sample rate must be a positive finite number"),
            StreamError::NoChannels => f.write_str("a stream needs at least one channel"),
            StreamError::TooManyChannels => {
                write!(f, "a stream carries at most {MAX_CHANNELS} channels")
            }
            StreamError::DuplicateRole(r) => write!(f, "channel role {r} appears twice"),
            StreamError::Unit(r, u) => write!(f, "unit {u} cannot express channel role {r}"),
        }
    }
}

impl core::error::Error for StreamError {}

/// One sample per channel, with the sample index since stream start.
///
/// `Copy` and fixed-size so it moves through lock-free queues without
/// allocation. Values are in the order of the stream's [`StreamSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// Sample index since stream start (time = index / rate).
    pub index: u64,
    len: u8,
    values: [f64; MAX_CHANNELS],
}

impl Frame {
    /// A frame from up to [`MAX_CHANNELS`] values; extra values are ignored
    /// (the returned frame's [`Frame::len`] tells how many were kept).
    pub fn new(index: u64, values: &[f64]) -> Frame {
        let len = values.len().min(MAX_CHANNELS);
        let mut v = [0.0; MAX_CHANNELS];
        v[..len].copy_from_slice(&values[..len]);
        Frame {
            index,
            len: len as u8,
            values: v,
        }
    }

    /// The sample values, one per channel.
    #[inline]
    pub fn values(&self) -> &[f64] {
        &self.values[..self.len as usize]
    }

    /// Mutable access to the sample values.
    #[inline]
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values[..self.len as usize]
    }

    /// Number of channels in the frame.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for a frame with no channels.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Value of channel `i`, or NaN if the frame has no such channel.
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        if i < self.len as usize {
            self.values[i]
        } else {
            f64::NAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_spec_rejects_bad_input() {
        let emg = ChannelSpec::canonical(Role::PelvicEmg);
        assert_eq!(StreamSpec::new(0.0, &[emg]), Err(StreamError::Rate));
        assert_eq!(StreamSpec::new(f64::NAN, &[emg]), Err(StreamError::Rate));
        assert_eq!(StreamSpec::new(10.0, &[]), Err(StreamError::NoChannels));
        assert_eq!(
            StreamSpec::new(10.0, &[emg, emg]),
            Err(StreamError::DuplicateRole(Role::PelvicEmg))
        );
        let bad = ChannelSpec {
            role: Role::PelvicEmg,
            unit: Unit::MmHg,
        };
        assert_eq!(
            StreamSpec::new(10.0, &[bad]),
            Err(StreamError::Unit(Role::PelvicEmg, Unit::MmHg))
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn column_names_round_trip() {
        for role in Role::ALL {
            let unit = role.canonical_unit();
            let name = format!("{}_{}", role.name(), unit.suffix());
            assert_eq!(Role::parse_column(&name), Some((role, unit)));
        }
        assert_eq!(Role::parse_column("pelvic_emg_mmhg"), None);
    }

    #[test]
    fn frame_truncates_and_reports_missing_channels() {
        let f = Frame::new(3, &[1.0; 10]);
        assert_eq!(f.len(), MAX_CHANNELS);
        assert!(f.get(MAX_CHANNELS).is_nan());
    }
}

/// One item delivered by a [`SampleSource`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SourceItem {
    /// A frame of samples.
    Frame(Frame),
    /// Samples known to be missing: `lost` samples starting at sample index
    /// `first_index` (sequence-counter gap, queue overflow, dropped packet).
    /// The next frame's index continues after the gap.
    Gap {
        /// Index of the first missing sample.
        first_index: u64,
        /// How many samples were lost.
        lost: u64,
    },
}

/// Anything that produces a stream of frames: a serial device, the
/// simulator, a file replay. The pipeline does not care which.
///
/// `next_item` may block (a live device waiting for bytes, a replay pacing
/// itself in real time); `Ok(None)` means the stream ended cleanly.
pub trait SampleSource {
    /// Why the source failed (device unplugged, malformed file, ...).
    type Error: fmt::Display + fmt::Debug;

    /// The stream this source delivers (rate and channel roles).
    fn spec(&self) -> StreamSpec;

    /// The next frame or gap report; `Ok(None)` at the clean end of the stream.
    fn next_item(&mut self) -> Result<Option<SourceItem>, Self::Error>;
}
