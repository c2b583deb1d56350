//! Helpers shared by the integration tests: run the built `levator`
//! binary, scratch files, and the JSON-lines event contract.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use levator_core::event::Event;

/// Runs `levator ARGS` with stdin closed and returns its output.
pub fn levator(args: &[&str]) -> Output {
    levator_env(args, &[])
}

/// Runs `levator ARGS` with extra environment variables.
pub fn levator_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_levator"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run levator: {e}"),
    }
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory unique to this test process and `name`, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "levator-cli-test-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    p
}

/// The committed fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Keys an event line may carry (DESIGN.md event contract).
pub const EVENT_KEYS: [&str; 19] = [
    "kind",
    "phase",
    "subtype",
    "onset_s",
    "detected_s",
    "end_s",
    "channel",
    "peak",
    "peak_pct_mvc",
    "rise_s",
    "duration_s",
    "latency_s",
    "pelvic_response",
    "push",
    "rao_type",
    "residual_pct",
    "elapsed_s",
    "issue",
    "samples_lost",
];

/// Parses `analyze --format jsonl` output line by line against the
/// contract: every line one JSON object with known snake_case keys, a
/// known kind, numeric onset and detection times, and byte-identical to
/// `serde_json::to_string(&event.rounded())`. Panics naming the line.
pub fn parse_jsonl(out: &str) -> Vec<Event> {
    let kinds = [
        "contraction",
        "relaxation",
        "bearing_down",
        "poor_release",
        "signal_quality",
        "accessory",
    ];
    let mut events = Vec::new();
    for (i, line) in out.lines().enumerate() {
        let n = i + 1;
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line {n} is not JSON ({e}): {line:?}"));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("stdout line {n} is not an object: {line}"));
        for k in obj.keys() {
            assert!(
                EVENT_KEYS.contains(&k.as_str()),
                "line {n}: unknown key {k}: {line}"
            );
        }
        let kind = obj["kind"].as_str().unwrap_or_default();
        assert!(kinds.contains(&kind), "line {n}: unknown kind {kind:?}");
        assert!(obj["onset_s"].is_number(), "line {n}: onset_s: {line}");
        assert!(
            obj.get("detected_s").is_some_and(|d| d.is_number()),
            "line {n}: a detected event needs detected_s: {line}"
        );
        if let Some(p) = obj.get("phase") {
            assert!(
                p == "start" || p == "end",
                "line {n}: phase must be start/end: {line}"
            );
        }
        let e: Event = serde_json::from_value(v.clone())
            .unwrap_or_else(|err| panic!("line {n}: not an Event ({err}): {line}"));
        let again = serde_json::to_string(&e.rounded()).unwrap_or_default();
        assert_eq!(
            again, line,
            "line {n} is not in the canonical contract form"
        );
        assert!(
            e.detected_s.unwrap_or(f64::NAN) >= e.onset_s - 1e-9,
            "line {n}: detected before its onset: {line}"
        );
        events.push(e);
    }
    events
}

/// Asserts the classic failure shape: non-zero exit, nothing on stdout,
/// exactly one stderr line `levator: error: ...` containing every needle,
/// and no panic.
pub fn assert_one_line_error(o: &Output, needles: &[&str]) -> String {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(o.stdout.is_empty(), "stdout must stay empty: {}", stdout(o));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line expected: {err:?}");
    assert!(lines[0].starts_with("levator: error: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "stderr {:?} lacks {n:?}", lines[0]);
    }
    lines[0].to_string()
}

/// The real-data folder of `LEVATOR_REAL_DATA`, or `None` after a loud
/// `SKIPPED` on the real stderr (past the harness's capture). When `CI` is
/// set the variable is required: a missing folder fails the test.
pub fn real_dir() -> Option<PathBuf> {
    match std::env::var_os("LEVATOR_REAL_DATA") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "LEVATOR_REAL_DATA must be set when CI is set"
            );
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED: LEVATOR_REAL_DATA not set");
            None
        }
    }
}
