//! `serve` and `monitor` over a real pseudo-terminal: the virtual probe
//! on one end, live detection on the other, in all three protocols.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// Starts `levator serve ARGS` and returns it with the device path it printed.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_levator"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start levator serve: {e}"));
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let path = line.trim().to_string();
    assert!(path.starts_with("/dev/"), "serve printed {path:?}");
    (child, path)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn monitor_reads_the_virtual_probe_in_levator_protocol() {
    // 50 Hz pressure trainer: cheap to decode and detect even in a loaded debug build.
    let (dev, path) = serve(&[
        "--protocol",
        "levator",
        "--device",
        "pressure-trainer",
        "--speed",
        "20",
        "--duration",
        "20",
    ]);
    let o = levator(&[
        "monitor",
        "--port",
        &path,
        "--duration",
        "3",
        "--format",
        "jsonl",
    ]);
    stop(dev);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = parse_jsonl(&stdout(&o));
    eprintln!("{} events over the levator protocol", events.len());
    assert!(
        events
            .iter()
            .any(|e| e.kind == levator_core::event::EventKind::Contraction),
        "the demo's flicks start within 20 s of the session (x20 for 3 s = 60 s)"
    );
}

#[test]
fn monitor_table_shows_bars_and_summary_over_ascii() {
    let (dev, path) = serve(&[
        "--protocol",
        "ascii",
        "--device",
        "pressure-trainer",
        "--speed",
        "20",
        "--duration",
        "20",
    ]);
    let o = levator(&[
        "monitor",
        "--port",
        &path,
        "--protocol",
        "ascii",
        "--rate",
        "50",
        "--columns",
        "pelvic_pressure_cmh2o,probe_motion_g",
        "--timestamp",
        "ms",
        "--duration",
        "3",
        "--bars",
    ]);
    stop(dev);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("monitoring"), "{out}");
    assert!(out.contains("pelvic_pressure"), "{out}");
    assert!(out.contains('█'), "bar view missing:\n{out}");
    assert!(out.contains("summary"), "{out}");
    assert!(out.contains("link"), "{out}");
}

#[test]
fn monitor_speaks_cyton() {
    let (dev, path) = serve(&["--protocol", "cyton", "--speed", "10", "--duration", "20"]);
    let o = levator(&[
        "monitor",
        "--port",
        &path,
        "--protocol",
        "cyton",
        "--duration",
        "3",
        "--format",
        "jsonl",
    ]);
    stop(dev);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_jsonl(&stdout(&o));
}

#[test]
fn ctrl_c_ends_monitor_cleanly_with_a_summary() {
    let (dev, path) = serve(&["--protocol", "levator", "--speed", "5", "--duration", "20"]);
    let mon = Command::new(env!("CARGO_BIN_EXE_levator"))
        .args(["monitor", "--port", &path])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start monitor: {e}"));
    std::thread::sleep(Duration::from_secs(2));
    let sent = Command::new("kill")
        .args(["-INT", &mon.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(sent, "could not send SIGINT");
    let o = mon
        .wait_with_output()
        .unwrap_or_else(|e| panic!("monitor: {e}"));
    stop(dev);
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("summary"), "{out}");
    assert!(out.contains("Glazer-style metrics"), "{out}");
}

#[test]
fn monitor_errors_are_one_line() {
    let o = levator(&[
        "monitor",
        "--port",
        "/dev/levator-no-such-port",
        "--duration",
        "1",
    ]);
    assert_one_line_error(&o, &["/dev/levator-no-such-port"]);
    let o = levator(&["monitor", "--port", "/dev/null", "--protocol", "ascii"]);
    assert_one_line_error(&o, &["--rate"]);
    let o = levator(&[
        "monitor",
        "--port",
        "/dev/null",
        "--protocol",
        "ascii",
        "--rate",
        "50",
        "--columns",
        "pelvic_pressure_furlongs",
    ]);
    assert_one_line_error(&o, &["pelvic_pressure_furlongs"]);
}

#[test]
fn serve_stops_cleanly_on_ctrl_c() {
    let (dev, _path) = serve(&["--protocol", "ascii", "--duration", "30"]);
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-INT", &dev.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(sent, "could not send SIGINT");
    let o = dev
        .wait_with_output()
        .unwrap_or_else(|e| panic!("serve: {e}"));
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    assert!(stderr(&o).contains("stopped after"), "{}", stderr(&o));
}

#[test]
fn a_flaky_link_gives_gap_events_and_warnings() {
    let (dev, path) = serve(&[
        "--protocol",
        "levator",
        "--device",
        "pressure-trainer",
        "--speed",
        "20",
        "--duration",
        "20",
        "--drop-prob",
        "0.2",
        "--corrupt-prob",
        "0.2",
    ]);
    let o = levator(&[
        "monitor",
        "--port",
        &path,
        "--duration",
        "3",
        "--format",
        "jsonl",
    ]);
    stop(dev);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = parse_jsonl(&stdout(&o));
    let gaps = events
        .iter()
        .filter(|e| e.issue == Some(levator_core::event::QualityIssue::Gap))
        .count();
    assert!(
        gaps > 0,
        "dropped packets must show as signal_quality gap events"
    );
    assert!(
        stderr(&o).contains("levator: warning:"),
        "corrupted packets must be reported: {}",
        stderr(&o)
    );
}
