//! `simulate`, `eval`, `latency`, `inspect` and `--help` of every command.

mod common;

use common::*;

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "demo", "analyze", "simulate", "eval", "latency", "inspect", "serve", "monitor",
    ] {
        let o = levator(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("Example"),
            "{cmd} --help has no example:\n{out}"
        );
        assert!(
            out.contains(&format!("levator {cmd}")),
            "{cmd} --help example does not show the command"
        );
    }
    let o = levator(&["--help"]);
    assert!(stdout(&o).contains("Examples"));
}

#[test]
fn simulate_list_shows_builtins() {
    let o = levator(&["simulate", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for n in ["demo", "glazer", "hypertonic", "manometry", "emg-probe"] {
        assert!(out.contains(n), "{n} missing from --list");
    }
}

#[test]
fn simulate_then_eval_scores_against_truth() {
    let dir = scratch("eval");
    let rec = dir.join("bd.csv");
    let o = levator(&[
        "simulate",
        "--scenario",
        "bearing_down",
        "--subject",
        "dyssynergic",
        "--device",
        "manometry",
        "--seed",
        "5",
        "--out",
        rec.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("bd.truth.jsonl").exists());
    let o = levator(&["eval", rec.to_str().unwrap_or_default()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("bearing_down"), "{out}");
    let o = levator(&["eval", rec.to_str().unwrap_or_default(), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap_or_default();
    let rows = v["report"]["rows"].as_array().cloned().unwrap_or_default();
    let bd = rows
        .iter()
        .find(|r| r["label"] == "bearing_down")
        .unwrap_or_else(|| panic!("no bearing_down row: {v}"));
    assert_eq!(bd["truth"], 3, "{bd}");
    assert!(bd["recall"].is_number(), "{bd}");
    // A truth file that is not JSON lines fails naming the line.
    let bad = write(
        &dir,
        "bad.jsonl",
        b"{\"kind\":\"contraction\",\"onset_s\":1.0}\nnot json\n",
    );
    let o = levator(&[
        "eval",
        rec.to_str().unwrap_or_default(),
        "--truth",
        bad.to_str().unwrap_or_default(),
    ]);
    assert_one_line_error(&o, &["bad.jsonl", "line 2"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn latency_over_a_directory() {
    let dir = scratch("latency");
    for (dev, name) in [("manometry", "m.csv"), ("two-sensor-trainer", "p.csv")] {
        let o = levator(&[
            "simulate",
            "--scenario",
            "bearing_down",
            "--subject",
            "healthy",
            "--device",
            dev,
            "--out",
            dir.join(name).to_str().unwrap_or_default(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = levator(&["latency", dir.to_str().unwrap_or_default()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    println!("{out}");
    assert!(out.contains("10 Hz: 1 recording"), "{out}");
    assert!(out.contains("50 Hz: 1 recording"), "{out}");
    assert!(out.contains("bearing_down"), "{out}");
    let empty = scratch("latency-empty");
    let o = levator(&["latency", empty.to_str().unwrap_or_default()]);
    assert_one_line_error(&o, &["no labelled recordings"]);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(empty);
}

#[test]
fn monitor_lists_ports() {
    let o = levator(&["monitor", "--list-ports"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).trim().is_empty(),
        "prints the ports or says there are none"
    );
    let o = levator(&["monitor"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--port is required without --list-ports"
    );
}
