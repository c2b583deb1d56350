//! The progress bar: drawn on stderr only when stderr is a terminal (here
//! a real pseudo-terminal) and the run has lasted longer than the
//! threshold (1 s; `LEVATOR_PROGRESS_AFTER_MS` lowers it so a short test
//! run can show it); never when stderr is a pipe; never on stdout.

mod common;

use std::fs::OpenOptions;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serialport::{SerialPort, TTYPort};

/// Runs `levator ARGS` with stderr on a pseudo-terminal; returns (stdout, what the terminal showed).
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, String) {
    let (mut master, slave) = TTYPort::pair().unwrap_or_else(|e| panic!("pty: {e}"));
    let path = slave.name().unwrap_or_default();
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_levator"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(tty));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("levator: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("levator: {e}"));
    let _ = master.set_timeout(Duration::from_millis(200));
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    drop(slave);
    (out, String::from_utf8_lossy(&seen).into_owned())
}

fn fixture() -> String {
    fixtures()
        .join("sim_emg_glazer_short_healthy_s1.csv")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn bar_on_a_terminal_after_the_threshold() {
    let f = fixture();
    let (out, tty) = on_terminal(
        &["analyze", &f, "--format", "jsonl"],
        &[("LEVATOR_PROGRESS_AFTER_MS", "0")],
    );
    assert!(out.status.success());
    assert!(
        tty.contains("analyzing ["),
        "no bar on the terminal: {tty:?}"
    );
    assert!(tty.contains('%'), "{tty:?}");
    // stdout still carries only the events.
    parse_jsonl(&stdout(&out));
}

#[test]
fn no_bar_for_a_short_run_even_on_a_terminal() {
    let f = fixtures()
        .join("sim_manometry_bearing_down_healthy_s4.csv")
        .to_string_lossy()
        .into_owned();
    let (out, tty) = on_terminal(&["analyze", &f, "--format", "jsonl"], &[]);
    assert!(out.status.success());
    assert!(
        !tty.contains("analyzing"),
        "bar on a sub-second run: {tty:?}"
    );
}

#[test]
fn no_bar_when_stderr_is_a_pipe() {
    let f = fixture();
    let o = levator_env(
        &["analyze", &f, "--format", "jsonl"],
        &[("LEVATOR_PROGRESS_AFTER_MS", "0")],
    );
    assert!(o.status.success());
    assert!(!stderr(&o).contains("analyzing"), "{}", stderr(&o));
}
