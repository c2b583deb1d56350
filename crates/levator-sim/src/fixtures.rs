//! The committed fixture set (`fixtures/` at the workspace root): which
//! simulations they are, and how to render them again byte for byte.
//!
//! Regenerate all with
//! `cargo run -p levator-sim --example make_fixtures` (writes into
//! `fixtures/`); `-- --check` only compares. The test
//! `tests/fixtures_reproduce.rs` does the comparison on every CI run.

use crate::{render_recording, Error, SimConfig, Simulator};

/// One fixture: a simulation and how it is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixtureSpec {
    /// File stem: `<stem>.csv` and `<stem>.truth.jsonl`.
    pub stem: &'static str,
    /// Built-in scenario.
    pub scenario: &'static str,
    /// Subject profile.
    pub subject: &'static str,
    /// Device profile.
    pub device: &'static str,
    /// Seed.
    pub seed: u64,
    /// Rate override (within the device's range).
    pub rate_hz: Option<f64>,
    /// Add a respiration channel.
    pub respiration: bool,
    /// Write the `t_s` column.
    pub with_time: bool,
    /// What the fixture is for.
    pub purpose: &'static str,
}

/// The fixture set.
pub const FIXTURES: [FixtureSpec; 7] = [
    FixtureSpec {
        stem: "sim_emg_glazer_short_healthy_s1",
        scenario: "glazer_short",
        subject: "healthy",
        device: "emg-probe",
        seed: 1,
        rate_hz: None,
        respiration: false,
        with_time: false,
        purpose: "1 kHz 2-channel sEMG, short Glazer assessment (no t_s column: rate from header)",
    },
    FixtureSpec {
        stem: "sim_cyton_quick_flicks_hypertonic_s2",
        scenario: "quick_flicks",
        subject: "hypertonic",
        device: "cyton",
        seed: 2,
        rate_hz: None,
        respiration: false,
        with_time: true,
        purpose: "250 Hz Cyton sEMG, slow/incomplete releases (poor_release truth)",
    },
    FixtureSpec {
        stem: "sim_manometry_bearing_down_dyssynergic_s3",
        scenario: "bearing_down",
        subject: "dyssynergic",
        device: "manometry",
        seed: 3,
        rate_hz: None,
        respiration: false,
        with_time: true,
        purpose: "10 Hz anorectal manometry in mmHg, three pushes with Rao type",
    },
    FixtureSpec {
        stem: "sim_manometry_bearing_down_healthy_s4",
        scenario: "bearing_down",
        subject: "healthy",
        device: "manometry",
        seed: 4,
        rate_hz: None,
        respiration: false,
        with_time: true,
        purpose: "10 Hz anorectal manometry, normal relaxation when pushing",
    },
    FixtureSpec {
        stem: "sim_pressure_demo_healthy_s5",
        scenario: "demo",
        subject: "healthy",
        device: "pressure-trainer",
        seed: 5,
        rate_hz: None,
        respiration: true,
        with_time: true,
        purpose: "50 Hz pressure + probe motion + respiration: flicks, holds, drops, pushes, cough",
    },
    FixtureSpec {
        stem: "sim_two_sensor_glazer_accessory_s6",
        scenario: "glazer",
        subject: "accessory",
        device: "two-sensor-trainer",
        seed: 6,
        rate_hz: None,
        respiration: false,
        with_time: true,
        purpose: "50 Hz pelvic + abdominal pressure, full Glazer with abdominal co-contraction",
    },
    FixtureSpec {
        stem: "sim_two_sensor_rest_10min_healthy_s7",
        scenario: "rest_10min",
        subject: "healthy",
        device: "two-sensor-trainer",
        seed: 7,
        rate_hz: Some(20.0),
        respiration: false,
        with_time: true,
        purpose: "10 min of rest at 20 Hz: drift and false-positive checks (empty truth)",
    },
];

impl FixtureSpec {
    /// The simulation config of this fixture.
    pub fn config(&self) -> Result<SimConfig, Error> {
        let mut c = SimConfig::from_names(self.scenario, self.subject, self.device, self.seed)?;
        if let Some(r) = self.rate_hz {
            c.device = c.device.with_rate(r)?;
        }
        if self.respiration {
            c.device = c.device.with_respiration();
        }
        Ok(c)
    }

    /// Renders the fixture: (CSV bytes, truth JSONL bytes).
    pub fn render(&self) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let mut sim = Simulator::new(&self.config()?)?;
        let (mut csv, mut truth) = (Vec::new(), Vec::new());
        render_recording(&mut sim, &mut csv, &mut truth, self.with_time)?;
        Ok((csv, truth))
    }
}
