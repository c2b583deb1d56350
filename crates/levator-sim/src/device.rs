//! Device profiles: which channels a probe delivers, at what rate, with
//! what noise, interference, resolution and range.
//!
//! | name | channels | rate (Hz) | notes |
//! |---|---|---|---|
//! | `emg-probe` | pelvic_emg, abdominal_emg (µV) | 1000 | 2-channel clinical sEMG, 16-bit over ±500 µV, 50 Hz mains |
//! | `emg-probe-2000` | same | 2000 | as above at 2 kHz |
//! | `pressure-trainer` | pelvic_pressure (cmH2O), probe_motion (g) | 50 (50-100) | consumer balloon trainer with accelerometer |
//! | `pressure-trainer-100` | same | 100 | as above at 100 Hz |
//! | `two-sensor-trainer` | pelvic_pressure, abdominal_pressure (cmH2O) | 50 (20-100) | Perifit-style pelvic + abdominal sensors |
//! | `manometry` | abdominal_pressure (= rectal), pelvic_pressure (= anal canal), written in mmHg | 10 | high-resolution anorectal manometry |
//! | `cyton` | pelvic_emg, abdominal_emg (µV) | 250 | OpenBCI Cyton: 24-bit, gain 24, 60 Hz mains, no hardware notch |
//!
//! Any device can add a `respiration` belt channel
//! ([`Device::with_respiration`]).

use core::fmt;

use levator_core::stream::{ChannelSpec, Role, StreamSpec, Unit, CMH2O_PER_MMHG};

/// The built-in device profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// 2-channel sEMG probe at 1000 Hz.
    EmgProbe1000,
    /// 2-channel sEMG probe at 2000 Hz.
    EmgProbe2000,
    /// Pressure trainer (pelvic pressure + probe motion) at 50 Hz.
    PressureTrainer,
    /// Pressure trainer at 100 Hz.
    PressureTrainer100,
    /// Two-sensor pressure trainer (pelvic + abdominal pressure).
    TwoSensorTrainer,
    /// High-resolution anorectal manometry (rectal + anal pressure, mmHg) at 10 Hz.
    Manometry,
    /// OpenBCI Cyton (2 of its 8 channels used) at 250 Hz.
    Cyton,
}

impl DeviceKind {
    /// Every profile, in a fixed order.
    pub const ALL: [DeviceKind; 7] = [
        DeviceKind::EmgProbe1000,
        DeviceKind::EmgProbe2000,
        DeviceKind::PressureTrainer,
        DeviceKind::PressureTrainer100,
        DeviceKind::TwoSensorTrainer,
        DeviceKind::Manometry,
        DeviceKind::Cyton,
    ];

    /// Name used on the command line and in recording headers.
    pub const fn name(self) -> &'static str {
        match self {
            DeviceKind::EmgProbe1000 => "emg-probe",
            DeviceKind::EmgProbe2000 => "emg-probe-2000",
            DeviceKind::PressureTrainer => "pressure-trainer",
            DeviceKind::PressureTrainer100 => "pressure-trainer-100",
            DeviceKind::TwoSensorTrainer => "two-sensor-trainer",
            DeviceKind::Manometry => "manometry",
            DeviceKind::Cyton => "cyton",
        }
    }

    /// Parses a name written by [`DeviceKind::name`] (`_` accepted for `-`;
    /// `emg-probe-1000` is an alias of `emg-probe`).
    pub fn from_name(name: &str) -> Option<DeviceKind> {
        let n = name.replace('_', "-");
        if n == "emg-probe-1000" {
            return Some(DeviceKind::EmgProbe1000);
        }
        DeviceKind::ALL.into_iter().find(|k| k.name() == n)
    }

    /// One-line description.
    pub const fn description(self) -> &'static str {
        match self {
            DeviceKind::EmgProbe1000 => "2-channel sEMG probe (pelvic + abdominal), 1000 Hz",
            DeviceKind::EmgProbe2000 => "2-channel sEMG probe (pelvic + abdominal), 2000 Hz",
            DeviceKind::PressureTrainer => {
                "pressure trainer (pelvic pressure + probe motion), 50 Hz"
            }
            DeviceKind::PressureTrainer100 => {
                "pressure trainer (pelvic pressure + probe motion), 100 Hz"
            }
            DeviceKind::TwoSensorTrainer => {
                "two-sensor trainer (pelvic + abdominal pressure), 50 Hz"
            }
            DeviceKind::Manometry => "anorectal manometry (rectal + anal pressure, mmHg), 10 Hz",
            DeviceKind::Cyton => "OpenBCI Cyton (pelvic + abdominal EMG), 250 Hz",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a device configuration is invalid.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum DeviceError {
    /// The requested rate is outside the device's range.
    #[error("sample rate {rate_hz} Hz is outside this device's range {min_hz}-{max_hz} Hz")]
    Rate {
        /// Requested rate.
        rate_hz: f64,
        /// Lowest rate the device supports.
        min_hz: f64,
        /// Highest rate the device supports.
        max_hz: f64,
    },
    /// Mains frequency other than 50 or 60 Hz.
    #[error("mains frequency must be 50 or 60 Hz, not {0}")]
    Mains(f64),
    /// The channel set is not a valid stream.
    #[error("invalid channel set: {0}")]
    Stream(levator_core::stream::StreamError),
}

/// Resolution and range of one channel, in the unit it is written in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adc {
    /// Quantisation step.
    pub lsb: f64,
    /// Lowest representable value (clipping below).
    pub min: f64,
    /// Highest representable value (clipping above).
    pub max: f64,
}

impl Adc {
    /// Quantises and clips `x` (NaN passes through).
    #[inline]
    pub fn apply(&self, x: f64) -> f64 {
        let c = x.clamp(self.min, self.max);
        libm::round(c / self.lsb) * self.lsb
    }
}

/// A device profile with all its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Which profile.
    pub kind: DeviceKind,
    /// Sample rate (Hz).
    pub rate_hz: f64,
    /// Lowest supported rate (Hz).
    pub min_rate_hz: f64,
    /// Highest supported rate (Hz).
    pub max_rate_hz: f64,
    /// The channels, in stream order.
    pub channels: Vec<ChannelSpec>,
    /// EMG instrument (amplifier + electrode) noise, RMS µV.
    pub emg_noise_uv: f64,
    /// Mains frequency (Hz).
    pub mains_hz: f64,
    /// Mains hum amplitude at the fundamental (µV); 3rd harmonic 30 %, 5th 10 %.
    pub mains_uv: f64,
    /// Electrode half-cell drift amplitude (µV).
    pub emg_drift_uv: f64,
    /// ECG R-wave amplitude bleeding into the abdominal EMG (µV).
    pub ecg_abdominal_uv: f64,
    /// ECG amplitude in the pelvic EMG (µV).
    pub ecg_pelvic_uv: f64,
    /// EMG ADC.
    pub emg_adc: Adc,
    /// Upper band edge of the sEMG spectrum at this rate (Hz): 450 or 0.45 x rate.
    pub emg_band_high_hz: f64,
    /// Nominal pelvic resting pressure (cmH2O) for a tone factor of 1.
    pub pelvic_rest_cmh2o: f64,
    /// Pelvic pressure added by a maximal contraction of a subject of
    /// strength 1 (cmH2O).
    pub pelvic_squeeze_cmh2o: f64,
    /// Passive (non-muscular) part of the resting pelvic pressure (fraction).
    pub pelvic_passive_frac: f64,
    /// Fraction of abdominal pressure changes transmitted into the pelvic sensor.
    pub transmission: f64,
    /// Abdominal (or rectal) resting pressure (cmH2O).
    pub abdominal_rest_cmh2o: f64,
    /// Respiratory swing of abdominal pressure (cmH2O, + on inhale).
    pub respiration_cmh2o: f64,
    /// Pressure sensor noise, RMS cmH2O.
    pub pressure_noise_cmh2o: f64,
    /// Slow pressure sensor drift amplitude (cmH2O).
    pub pressure_drift_cmh2o: f64,
    /// Time constant of the pressure response to muscle activation (s).
    pub pressure_tau_s: f64,
    /// Pressure ADC, in the unit the pressure channels are written in.
    pub pressure_adc: Adc,
    /// Probe lift at a maximal contraction of a subject of strength 1 (g).
    pub lift_g: f64,
    /// Outward probe descent at a full push (g).
    pub descent_g: f64,
    /// Respiratory probe movement (g; the pelvic floor descends on inhale).
    pub respiration_g: f64,
    /// Accelerometer noise, RMS g.
    pub motion_noise_g: f64,
    /// Motion ADC (g).
    pub motion_adc: Adc,
}

const EMG: [ChannelSpec; 2] = [
    ChannelSpec::canonical(Role::PelvicEmg),
    ChannelSpec::canonical(Role::AbdominalEmg),
];

impl Device {
    /// The profile's default configuration.
    pub fn new(kind: DeviceKind) -> Device {
        let mut d = Device {
            kind,
            rate_hz: 1000.0,
            min_rate_hz: 1000.0,
            max_rate_hz: 1000.0,
            channels: EMG.to_vec(),
            emg_noise_uv: 0.35,
            mains_hz: 50.0,
            mains_uv: 1.5,
            emg_drift_uv: 4.0,
            ecg_abdominal_uv: 12.0,
            ecg_pelvic_uv: 1.0,
            emg_adc: Adc {
                lsb: 1000.0 / 65536.0,
                min: -500.0,
                max: 500.0,
            },
            emg_band_high_hz: 450.0,
            pelvic_rest_cmh2o: 19.0,
            pelvic_squeeze_cmh2o: 30.0,
            pelvic_passive_frac: 0.6,
            transmission: 0.5,
            abdominal_rest_cmh2o: 10.0,
            respiration_cmh2o: 1.5,
            pressure_noise_cmh2o: 0.15,
            pressure_drift_cmh2o: 0.4,
            pressure_tau_s: 0.15,
            pressure_adc: Adc {
                lsb: 0.01,
                min: -20.0,
                max: 300.0,
            },
            lift_g: 0.10,
            descent_g: 0.15,
            respiration_g: 0.005,
            motion_noise_g: 0.002,
            motion_adc: Adc {
                lsb: 0.001,
                min: -2.0,
                max: 2.0,
            },
        };
        match kind {
            DeviceKind::EmgProbe1000 => {}
            DeviceKind::EmgProbe2000 => {
                d.rate_hz = 2000.0;
                d.min_rate_hz = 2000.0;
                d.max_rate_hz = 2000.0;
            }
            DeviceKind::PressureTrainer | DeviceKind::PressureTrainer100 => {
                d.rate_hz = if kind == DeviceKind::PressureTrainer {
                    50.0
                } else {
                    100.0
                };
                d.min_rate_hz = 50.0;
                d.max_rate_hz = 100.0;
                d.channels = vec![
                    ChannelSpec::canonical(Role::PelvicPressure),
                    ChannelSpec::canonical(Role::ProbeMotion),
                ];
            }
            DeviceKind::TwoSensorTrainer => {
                d.rate_hz = 50.0;
                d.min_rate_hz = 20.0;
                d.max_rate_hz = 100.0;
                d.channels = vec![
                    ChannelSpec::canonical(Role::PelvicPressure),
                    ChannelSpec::canonical(Role::AbdominalPressure),
                ];
                // The pelvic sensor sits in the vagina; the abdominal one is
                // separate, so less of the abdominal pressure reaches it.
                d.transmission = 0.35;
            }
            DeviceKind::Manometry => {
                d.rate_hz = 10.0;
                d.min_rate_hz = 10.0;
                d.max_rate_hz = 10.0;
                d.channels = vec![
                    ChannelSpec {
                        role: Role::AbdominalPressure,
                        unit: Unit::MmHg,
                    },
                    ChannelSpec {
                        role: Role::PelvicPressure,
                        unit: Unit::MmHg,
                    },
                ];
                // Anal canal: resting ~60 mmHg, squeeze adds ~100 mmHg;
                // rectum: ~5 mmHg at rest.
                d.pelvic_rest_cmh2o = 60.0 * CMH2O_PER_MMHG;
                d.pelvic_squeeze_cmh2o = 100.0 * CMH2O_PER_MMHG;
                d.pelvic_passive_frac = 0.2;
                d.transmission = 0.05;
                d.abdominal_rest_cmh2o = 5.0 * CMH2O_PER_MMHG;
                d.respiration_cmh2o = 1.5 * CMH2O_PER_MMHG;
                d.pressure_noise_cmh2o = 0.4 * CMH2O_PER_MMHG;
                d.pressure_drift_cmh2o = 1.0;
                d.pressure_tau_s = 0.3;
                d.pressure_adc = Adc {
                    lsb: 0.1,
                    min: -20.0,
                    max: 400.0,
                };
            }
            DeviceKind::Cyton => {
                d.rate_hz = 250.0;
                d.min_rate_hz = 250.0;
                d.max_rate_hz = 250.0;
                d.mains_hz = 60.0;
                d.mains_uv = 6.0;
                d.emg_noise_uv = 0.5;
                d.emg_drift_uv = 20.0;
                // 4.5 V reference, gain 24, 24-bit two's complement.
                let lsb = 4.5 / 24.0 / 8_388_607.0 * 1e6;
                d.emg_adc = Adc {
                    lsb,
                    min: -8_388_608.0 * lsb,
                    max: 8_388_607.0 * lsb,
                };
            }
        }
        d.emg_band_high_hz = 450.0f64.min(0.45 * d.rate_hz);
        d
    }

    /// A profile by name (see [`DeviceKind::name`]).
    pub fn from_name(name: &str) -> Option<Device> {
        DeviceKind::from_name(name).map(Device::new)
    }

    /// The same device at another rate within its supported range.
    pub fn with_rate(mut self, rate_hz: f64) -> Result<Device, DeviceError> {
        if !(rate_hz.is_finite() && rate_hz >= self.min_rate_hz && rate_hz <= self.max_rate_hz) {
            return Err(DeviceError::Rate {
                rate_hz,
                min_hz: self.min_rate_hz,
                max_hz: self.max_rate_hz,
            });
        }
        self.rate_hz = rate_hz;
        self.emg_band_high_hz = 450.0f64.min(0.45 * rate_hz);
        Ok(self)
    }

    /// The same device with 50 or 60 Hz mains.
    pub fn with_mains_hz(mut self, mains_hz: f64) -> Result<Device, DeviceError> {
        if mains_hz != 50.0 && mains_hz != 60.0 {
            return Err(DeviceError::Mains(mains_hz));
        }
        self.mains_hz = mains_hz;
        Ok(self)
    }

    /// The same device with a respiration belt channel appended.
    pub fn with_respiration(mut self) -> Device {
        if !self.channels.iter().any(|c| c.role == Role::Respiration) {
            self.channels
                .push(ChannelSpec::canonical(Role::Respiration));
        }
        self
    }

    /// The stream this device delivers.
    pub fn spec(&self) -> Result<StreamSpec, DeviceError> {
        StreamSpec::new(self.rate_hz, &self.channels).map_err(DeviceError::Stream)
    }

    /// Whether the device has a channel of `role`.
    pub fn has(&self, role: Role) -> bool {
        self.channels.iter().any(|c| c.role == role)
    }

    /// The channel a pelvic event is judged on: pelvic EMG if present,
    /// else pelvic pressure.
    pub fn pelvic_channel(&self) -> Option<Role> {
        [Role::PelvicEmg, Role::PelvicPressure]
            .into_iter()
            .find(|r| self.has(*r))
    }

    /// The channel abdominal activity is seen on: abdominal EMG if present,
    /// else abdominal pressure.
    pub fn abdominal_channel(&self) -> Option<Role> {
        [Role::AbdominalEmg, Role::AbdominalPressure]
            .into_iter()
            .find(|r| self.has(*r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_a_valid_stream() {
        for k in DeviceKind::ALL {
            let d = Device::new(k);
            let spec = d.spec().unwrap();
            assert!(spec.len() >= 2);
            assert_eq!(DeviceKind::from_name(k.name()), Some(k));
            let r = d.clone().with_respiration();
            assert_eq!(r.spec().unwrap().len(), spec.len() + 1);
            assert!(d.pelvic_channel().is_some());
        }
        assert_eq!(
            DeviceKind::from_name("emg_probe_2000"),
            Some(DeviceKind::EmgProbe2000)
        );
    }

    #[test]
    fn rate_and_mains_are_validated() {
        let d = Device::new(DeviceKind::PressureTrainer);
        assert_eq!(d.clone().with_rate(80.0).unwrap().rate_hz, 80.0);
        assert!(matches!(
            d.clone().with_rate(10.0),
            Err(DeviceError::Rate { .. })
        ));
        assert!(d.clone().with_rate(f64::NAN).is_err());
        assert!(d.clone().with_mains_hz(55.0).is_err());
        let adc = Device::new(DeviceKind::EmgProbe1000).emg_adc;
        assert_eq!(adc.apply(1e6), adc.apply(500.0));
        assert!((adc.apply(1.0) - 1.0).abs() <= adc.lsb / 2.0);
    }
}
