//! `levator analyze`: the JSON-lines contract on stdout, the table, and
//! the progress bar staying off when stderr is not a terminal.

mod common;

use common::*;
use levator_core::event::EventKind;

#[test]
fn jsonl_output_is_exactly_the_event_contract() {
    let dir = scratch("jsonl");
    let rec = dir.join("flicks.csv");
    let o = levator(&[
        "simulate",
        "--scenario",
        "quick_flicks",
        "--subject",
        "healthy",
        "--device",
        "two-sensor-trainer",
        "--seed",
        "3",
        "--out",
        rec.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = levator(&[
        "analyze",
        rec.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = parse_jsonl(&stdout(&o));
    let starts = events
        .iter()
        .filter(|e| e.kind == EventKind::Contraction && e.is_onset())
        .count();
    eprintln!("{} events, {starts} contraction starts", events.len());
    assert!(
        starts >= 5,
        "10 flicks simulated, {starts} contraction starts found"
    );
    // Same input, same output, bit for bit.
    let again = levator(&[
        "analyze",
        rec.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(again.stdout, o.stdout);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_committed_fixture_analyzes_to_the_contract() {
    let mut n = 0;
    let Ok(rd) = std::fs::read_dir(fixtures()) else {
        panic!("fixtures folder missing at {}", fixtures().display());
    };
    let mut paths: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    paths.sort();
    for p in paths {
        let o = levator(&[
            "analyze",
            p.to_str().unwrap_or_default(),
            "--format",
            "jsonl",
        ]);
        assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
        let events = parse_jsonl(&stdout(&o));
        eprintln!("{}: {} events", p.display(), events.len());
        n += 1;
    }
    assert!(n >= 3, "only {n} fixtures");
}

#[test]
fn table_has_events_summary_and_no_progress_bar_without_a_terminal() {
    let p = fixtures().join("sim_manometry_bearing_down_dyssynergic_s3.csv");
    let o = levator(&["analyze", p.to_str().unwrap_or_default()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("bearing_down"), "{out}");
    assert!(out.contains("summary"), "{out}");
    assert!(out.contains("Glazer-style metrics"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when stdout is a pipe");
    let err = stderr(&o);
    assert!(
        !err.contains('\r') && !err.contains("analyzing"),
        "progress bar on a pipe: {err:?}"
    );
}

#[test]
fn input_format_override_and_content_detection() {
    let dir = scratch("detect");
    // A levator-csv file with a misleading extension is still detected.
    let body =
        b"# levator-csv v1\n# rate_hz=10\nt_s,pelvic_pressure_cmh2o\n0.0,20\n0.1,20\n0.2,20\n";
    let p = write(&dir, "recording.txt", body);
    let o = levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Forcing the wrong format fails naming the line.
    let o = levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--input-format",
        "manometry",
    ]);
    assert_one_line_error(&o, &["line 1", "TIME:"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn config_file_changes_the_pipeline_and_bad_configs_fail() {
    let dir = scratch("config");
    let p = fixtures().join("sim_manometry_bearing_down_healthy_s4.csv");
    let good = write(&dir, "good.toml", b"warmup_s = 1.0\n");
    let o = levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
        "--config",
        good.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_jsonl(&stdout(&o));
    let typo = write(&dir, "typo.toml", b"warmup_seconds = 1.0\n");
    let o = levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--config",
        typo.to_str().unwrap_or_default(),
    ]);
    assert_one_line_error(&o, &["typo.toml", "unknown key `warmup_seconds`"]);
    let bad = write(&dir, "bad.toml", b"warmup_s = -4.0\n");
    let o = levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--config",
        bad.to_str().unwrap_or_default(),
    ]);
    assert_one_line_error(&o, &["warmup_s"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// The Cyton fixture was recorded (simulated) under 60 Hz mains and says so
/// in its header (`mains_hz=60`): the default analysis notches 60 Hz, the
/// same as `--mains 60`, and differs from forcing 50 Hz; a config file that
/// sets `mains` beats the header, `--mains` beats both.
#[test]
fn mains_comes_from_the_flag_the_config_or_the_recording_header() {
    let dir = scratch("mains");
    let p = fixtures().join("sim_cyton_quick_flicks_hypertonic_s2.csv");
    let p = p.to_str().unwrap_or_default();
    let run = |extra: &[&str]| {
        let mut args = vec!["analyze", p, "--format", "jsonl"];
        args.extend_from_slice(extra);
        let o = levator(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        parse_jsonl(&stdout(&o));
        o.stdout
    };
    let header = run(&[]);
    assert_eq!(header, run(&["--mains", "60"]));
    let fifty = run(&["--mains", "50"]);
    assert_ne!(
        header, fifty,
        "50 Hz notches must change a 60 Hz recording's analysis"
    );
    let cfg = write(&dir, "fifty.toml", b"mains = \"50\"\n");
    let cfg = cfg.to_str().unwrap_or_default();
    assert_eq!(run(&["--config", cfg]), fifty);
    assert_eq!(run(&["--config", cfg, "--mains", "60"]), header);
    // a config file that does not mention mains leaves it to the header
    let other = write(&dir, "other.toml", b"warmup_s = 0.5\n");
    assert_eq!(
        run(&["--config", other.to_str().unwrap_or_default()]),
        header
    );
    let o = levator(&["analyze", p, "--mains", "55"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected 50, 60 or off"),
        "{}",
        stderr(&o)
    );
    // an unreadable header value is reported, not silently used
    let text = std::fs::read_to_string(p).unwrap();
    let bad = write(
        &dir,
        "bad_mains.csv",
        text.replacen("mains_hz=60", "mains_hz=55", 1).as_bytes(),
    );
    let o = levator(&[
        "analyze",
        bad.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("mains_hz=55"), "{}", stderr(&o));
    assert_eq!(
        o.stdout, fifty,
        "unreadable header: the default (50 Hz) is used"
    );
    let _ = std::fs::remove_dir_all(dir);
}
