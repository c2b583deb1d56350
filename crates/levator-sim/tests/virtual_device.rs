//! The virtual device on a real pseudo-terminal: a host that opens the
//! device path with the `serialport` crate (and decodes with
//! levator-serial's `SerialSource`) receives every frame the device sends,
//! in order, and sees every injected fault as a fault.

use std::time::Duration;

use levator_core::stream::{Frame, SourceItem};
use levator_serial::port::{
    Error as PortError, Notice, Protocol, Received, SerialConfig, SerialSource,
};
use levator_serial::protocol::cyton::CytonConfig;
use levator_sim::virtual_device::{ascii_config, DeviceStats, Faults, VirtualDevice, WireProtocol};
use levator_sim::{Device, Scenario, SimConfig, Simulator, SubjectKind};

fn short_sim(device: &str, seconds: f64) -> Simulator {
    let scenario = Scenario::from_toml(&format!(
        "name = \"short\"\n[[step]]\nkind = \"rest\"\nduration_s = 0.5\n\
         [[step]]\nkind = \"contraction\"\non_s = 1.0\nrest_s = {}\n",
        seconds - 1.5
    ))
    .unwrap();
    Simulator::new(&SimConfig {
        scenario,
        subject: SubjectKind::Healthy,
        device: Device::from_name(device).unwrap(),
        seed: 3,
    })
    .unwrap()
}

struct Host {
    frames: Vec<Frame>,
    lost: Vec<(u64, u64)>,
    notices: Vec<Notice>,
    end: Option<PortError>,
}

fn config() -> SerialConfig {
    SerialConfig::default()
        .poll_interval(Duration::from_millis(10))
        .stall_timeout(Duration::from_secs(3))
        .start_timeout(Duration::from_secs(5))
        .queue_capacity(1 << 16)
}

/// Opens the device path like an application would, starts the device,
/// and reads until the stream ends.
fn run(
    sim: Simulator,
    protocol: WireProtocol,
    faults: Faults,
    host_protocol: Protocol,
    config: SerialConfig,
) -> (Host, DeviceStats) {
    let dev = VirtualDevice::open().unwrap();
    let path = dev.path().to_string();
    assert!(path.starts_with("/dev/"), "{path}");
    let port = serialport::new(&path, 115_200)
        .timeout(Duration::from_millis(10))
        .open()
        .unwrap();
    let running = dev.spawn(sim, protocol, faults);
    let mut src = SerialSource::from_port(port, host_protocol, config).unwrap();
    let mut host = Host {
        frames: Vec::new(),
        lost: Vec::new(),
        notices: Vec::new(),
        end: None,
    };
    loop {
        match src.next_received() {
            Ok(Some(Received::Item(SourceItem::Frame(f)))) => host.frames.push(f),
            Ok(Some(Received::Item(SourceItem::Gap { first_index, lost }))) => {
                host.lost.push((first_index, lost))
            }
            Ok(Some(Received::Notice(n))) => host.notices.push(n),
            Ok(None) => break,
            Err(e) => {
                host.end = Some(e);
                break;
            }
        }
    }
    let stats = running.stop().unwrap();
    (host, stats)
}

fn assert_same(got: &Frame, want: &Frame, tol: f64) {
    assert_eq!(got.index, want.index);
    assert_eq!(got.len(), want.len());
    for c in 0..want.len() {
        assert!(
            (got.get(c) - want.get(c)).abs() <= tol,
            "sample {} channel {c}: {} vs {}",
            want.index,
            got.get(c),
            want.get(c)
        );
    }
}

fn assert_disconnected(host: &Host) {
    assert!(
        matches!(host.end, Some(PortError::Disconnected { .. })),
        "expected a disconnect at the end, got {:?}",
        host.end
    );
}

#[test]
fn binary_frames_arrive_complete_and_in_order() {
    let sim = short_sim("emg-probe", 3.0);
    let want: Vec<Frame> = sim.clone().collect();
    let (host, stats) = run(
        sim,
        WireProtocol::Binary,
        Faults::default(),
        Protocol::Binary,
        config(),
    );
    assert_eq!(stats.samples_sent, want.len() as u64);
    assert_eq!(host.frames.len(), want.len(), "lost {:?}", host.lost);
    assert!(host.lost.is_empty() && host.notices.is_empty());
    for (g, w) in host.frames.iter().zip(&want) {
        // i24 at 0.01 µV per count.
        assert_same(g, w, 0.0051);
    }
    // The device closes at the end of the scenario: the host sees it go.
    assert_disconnected(&host);
}

#[test]
fn ascii_lines_with_dropped_and_corrupted_lines_show_as_gaps_and_errors() {
    let sim = short_sim("emg-probe", 2.5);
    let want: Vec<Frame> = sim.clone().collect();
    let faults = Faults {
        drop_prob: 0.03,
        corrupt_prob: 0.03,
        seed: 9,
        ..Faults::default()
    };
    let ascii = ascii_config(&sim.spec()).unwrap();
    let (host, stats) = run(
        sim,
        WireProtocol::Ascii,
        faults,
        Protocol::Ascii(ascii),
        config(),
    );
    assert!(
        stats.packets_dropped > 10 && stats.packets_corrupted > 10,
        "{stats:?}"
    );
    // Every intact line arrives, with its own sample index and values.
    assert_eq!(host.frames.len() as u64, stats.samples_sent);
    for g in &host.frames {
        assert_same(g, &want[g.index as usize], 1e-9);
    }
    assert!(host.frames.windows(2).all(|w| w[0].index < w[1].index));
    // Every corrupted line is a decode error; every missing sample is a
    // reported gap (except drops after the last line, which no host can see).
    let errors = host
        .notices
        .iter()
        .filter(|n| matches!(n, Notice::Decode(_)))
        .count() as u64;
    assert_eq!(errors, stats.packets_corrupted);
    let reported: u64 = host.lost.iter().map(|g| g.1).sum();
    let last = host.frames.last().unwrap().index;
    let trailing = want.len() as u64 - 1 - last;
    assert_eq!(
        reported + trailing,
        stats.samples_dropped + stats.samples_corrupted,
        "{stats:?}"
    );
    assert_disconnected(&host);
}

#[test]
fn binary_corruption_fails_the_crc_and_drops_become_gaps() {
    let sim = short_sim("pressure-trainer-100", 20.0);
    let want: Vec<Frame> = sim.clone().collect();
    let faults = Faults {
        drop_prob: 0.1,
        corrupt_prob: 0.1,
        seed: 4,
        ..Faults::default()
    };
    let (host, stats) = run(
        sim,
        WireProtocol::Binary,
        faults,
        Protocol::Binary,
        config(),
    );
    assert!(
        stats.packets_dropped > 5 && stats.packets_corrupted > 5,
        "{stats:?}"
    );
    assert_eq!(host.frames.len() as u64, stats.samples_sent);
    for g in &host.frames {
        assert_same(g, &want[g.index as usize], 0.0051);
    }
    let crc = host
        .notices
        .iter()
        .filter(|n| matches!(n, Notice::Decode(_)))
        .count() as u64;
    assert!(
        crc >= stats.packets_corrupted,
        "{crc} decode errors for {stats:?}"
    );
    let reported: u64 = host.lost.iter().map(|g| g.1).sum();
    let trailing = want.len() as u64 - 1 - host.frames.last().unwrap().index;
    assert_eq!(
        reported + trailing,
        stats.samples_dropped + stats.samples_corrupted
    );
}

#[test]
fn cyton_handshake_stream_and_dropped_packets() {
    let sim = short_sim("cyton", 3.0);
    let want: Vec<Frame> = sim.clone().collect();
    let faults = Faults {
        drop_prob: 0.02,
        seed: 1,
        ..Faults::default()
    };
    let (host, stats) = run(
        sim,
        WireProtocol::Cyton,
        faults,
        Protocol::Cyton(CytonConfig::default()),
        config(),
    );
    // The host's session: `s`, `v` (answered with `$$$`), `b`.
    assert!(stats.commands >= 3, "{stats:?}");
    assert!(stats.packets_dropped > 0);
    assert_eq!(host.frames.len() as u64, stats.samples_sent);
    for g in &host.frames {
        // Both sides quantise to the Cyton's 0.02235 µV count.
        assert_same(g, &want[g.index as usize], 1e-6);
    }
    let reported: u64 = host.lost.iter().map(|g| g.1).sum();
    let trailing = want.len() as u64 - 1 - host.frames.last().unwrap().index;
    assert_eq!(reported + trailing, stats.samples_dropped);
}

#[test]
fn stall_is_seen_as_a_stall_and_disconnect_as_a_disconnect() {
    // Stall: 0.5 s of stream, then 3 s of silence; the host gives up after 0.8 s.
    let sim = short_sim("emg-probe", 3.0);
    let faults = Faults {
        stall_every_s: Some(0.5),
        stall_s: 3.0,
        ..Faults::default()
    };
    let ascii = ascii_config(&sim.spec()).unwrap();
    let cfg = config().stall_timeout(Duration::from_millis(800));
    let (host, stats) = run(
        sim,
        WireProtocol::Ascii,
        faults,
        Protocol::Ascii(ascii),
        cfg,
    );
    assert!(
        matches!(host.end, Some(PortError::Stalled(_))),
        "{:?}",
        host.end
    );
    assert_eq!(host.frames.len(), 500);
    assert!(stats.stalls >= 1);

    // Disconnect after 1 s of stream: exactly 1000 samples, then the port is gone.
    let sim = short_sim("emg-probe", 3.0);
    let faults = Faults {
        disconnect_after_s: Some(1.0),
        ..Faults::default()
    };
    let (host, stats) = run(
        sim,
        WireProtocol::Binary,
        faults,
        Protocol::Binary,
        config(),
    );
    assert!(stats.disconnected);
    assert_eq!(host.frames.len(), 1000);
    assert_disconnected(&host);
}

#[test]
fn unsupported_streams_and_faults_are_typed_errors() {
    use levator_sim::virtual_device::VirtualError;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let dev = VirtualDevice::open().unwrap();
    let err = dev
        .serve(
            short_sim("manometry", 3.0),
            WireProtocol::Cyton,
            Faults::default(),
            &stop,
        )
        .unwrap_err();
    assert!(matches!(err, VirtualError::Unsupported { .. }), "{err}");
    let dev = VirtualDevice::open().unwrap();
    let bad = Faults {
        drop_prob: 1.5,
        ..Faults::default()
    };
    let err = dev
        .serve(
            short_sim("emg-probe", 3.0),
            WireProtocol::Binary,
            bad,
            &stop,
        )
        .unwrap_err();
    assert!(matches!(err, VirtualError::Faults));
}
