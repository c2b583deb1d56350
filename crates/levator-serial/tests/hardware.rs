//! Tier 3: a real device. Run by hand with the probe plugged in:
//!
//! ```text
//! LEVATOR_SERIAL_PORT=/dev/ttyUSB0 LEVATOR_SERIAL_PROTOCOL=cyton \
//!     cargo test -p levator-serial --features hardware-tests --test hardware -- --nocapture
//! ```
//!
//! `LEVATOR_SERIAL_PROTOCOL` is `cyton` (default) or `binary`.

use std::time::{Duration, Instant};

use levator_core::stream::{SampleSource, SourceItem};
use levator_serial::port::{list_ports, Protocol, SerialConfig, SerialSource};
use levator_serial::protocol::cyton::CytonConfig;

#[test]
fn device_streams_two_seconds_without_loss() {
    let Ok(path) = std::env::var("LEVATOR_SERIAL_PORT") else {
        eprintln!("SKIPPED: LEVATOR_SERIAL_PORT not set");
        return;
    };
    println!("ports: {:?}", list_ports().unwrap());
    let protocol = match std::env::var("LEVATOR_SERIAL_PROTOCOL").as_deref() {
        Ok("binary") => Protocol::Binary,
        _ => Protocol::Cyton(CytonConfig::default()),
    };
    let mut src = SerialSource::open(&path, protocol, SerialConfig::default()).unwrap();
    let rate = src.spec().rate_hz();
    let want = (2.0 * rate) as u64;
    let end = Instant::now() + Duration::from_secs(5);
    let (mut frames, mut lost) = (0u64, 0u64);
    while frames + lost < want {
        assert!(
            Instant::now() < end,
            "only {frames} frames in 5 s at {rate} Hz"
        );
        match src.next_item().unwrap() {
            Some(SourceItem::Frame(_)) => frames += 1,
            Some(SourceItem::Gap { lost: l, .. }) => lost += l,
            None => panic!("stream ended"),
        }
    }
    let stats = src.close().unwrap();
    println!("{frames} frames, {lost} lost, {stats:?}");
    assert_eq!(lost, 0);
}
