//! Replay pacing with an injected clock: frames arrive at the requested
//! speed within one sample period; loops and seeks keep indices increasing.

use std::time::Duration;

use levator_core::stream::{ChannelSpec, Frame, Role, SampleSource, SourceItem, StreamSpec};
use levator_sim::replay::{CsvFile, ManualClock, MemoryRecording, Pacing, Replay, ReplayError};
use levator_sim::rng::Rng;
use levator_sim::{write_recording, Simulator};

fn memory(n: u64, rate: f64) -> MemoryRecording {
    let spec = StreamSpec::new(rate, &[ChannelSpec::canonical(Role::PelvicPressure)]).unwrap();
    MemoryRecording::new(spec, (0..n).map(|i| Frame::new(i, &[i as f64])).collect())
}

fn frame(item: Option<SourceItem>) -> Frame {
    match item {
        Some(SourceItem::Frame(f)) => f,
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[test]
fn frames_arrive_on_schedule_at_every_speed() {
    for speed in [0.5, 1.0, 3.0, 100.0] {
        let rate = 250.0;
        let clock = ManualClock::new();
        let pacing = if speed == 1.0 {
            Pacing::RealTime
        } else {
            Pacing::Speed(speed)
        };
        let mut replay = Replay::new(memory(2000, rate), clock.clone(), pacing).unwrap();
        let period = 1.0 / (rate * speed);
        // A consumer that works a random 0-90 % of a period per frame, and
        // sometimes stalls for 5 periods (then the replay catches up).
        let mut rng = Rng::new(1);
        let start = clock.now_s();
        for k in 0..2000u64 {
            let asked = clock.now_s();
            let f = frame(replay.next_item().unwrap());
            assert_eq!(f.index, k);
            let due = start + k as f64 * period;
            let now = clock.now_s();
            // Never early; when the consumer asks in time, delivered on the
            // dot; when it is late, at once (catching up, no drift).
            assert!(
                now >= due - 1e-9,
                "speed {speed}: frame {k} early: {now} < {due}"
            );
            assert!(
                now <= due.max(asked) + 1e-6,
                "speed {speed}: frame {k} held back: {now} vs due {due}, asked {asked}"
            );
            if asked <= due {
                assert!(
                    (now - due).abs() <= period,
                    "speed {speed}: frame {k}: {now} vs {due}"
                );
            }
            let busy = if k % 97 == 0 {
                5.0 * period
            } else {
                rng.range(0.0, 0.9) * period
            };
            clock.advance(Duration::from_secs_f64(busy));
        }
        // Wall time matches the recording time / speed.
        let total = clock.now_s() - start;
        let want = 2000.0 / rate / speed;
        assert!(
            (total - want).abs() < 2.0 * period,
            "speed {speed}: {total} vs {want}"
        );
    }
}

#[test]
fn as_fast_as_possible_never_waits_and_speed_is_validated() {
    let clock = ManualClock::new();
    let mut replay =
        Replay::new(memory(500, 1000.0), clock.clone(), Pacing::AsFastAsPossible).unwrap();
    let mut n = 0;
    while replay.next_item().unwrap().is_some() {
        n += 1;
    }
    assert_eq!((n, clock.sleeps(), clock.now_s()), (500, 0, 0.0));
    for bad in [0.49, 100.5, f64::NAN, -1.0] {
        assert!(matches!(
            Replay::new(memory(5, 10.0), ManualClock::new(), Pacing::Speed(bad)),
            Err(ReplayError::Speed(_))
        ));
    }
    assert!(replay.set_pacing(Pacing::Speed(1000.0)).is_err());
}

#[test]
fn loops_and_seeks_keep_the_output_continuous() {
    let clock = ManualClock::new();
    let mut replay = Replay::new(memory(100, 10.0), clock.clone(), Pacing::Speed(2.0))
        .unwrap()
        .looping(true);
    let mut values = Vec::new();
    for k in 0..250u64 {
        let f = frame(replay.next_item().unwrap());
        assert_eq!(f.index, k, "output index");
        values.push(f.get(0));
    }
    assert_eq!(replay.loops(), 2);
    assert_eq!(values[99..102], [99.0, 0.0, 1.0]);
    assert_eq!(values[249], 49.0);
    // Pacing held across the loops: 250 frames at 10 Hz x2 = 12.45 s.
    assert!((clock.now_s() - 12.45).abs() < 0.051, "{}", clock.now_s());
    // Seek backwards and forwards; indices keep increasing.
    replay.seek(2.0).unwrap();
    assert!((replay.position_s() - 2.0).abs() < 1e-9);
    let f = frame(replay.next_item().unwrap());
    assert_eq!((f.index, f.get(0)), (250, 20.0));
    replay.seek(9.5).unwrap();
    let f = frame(replay.next_item().unwrap());
    assert_eq!((f.index, f.get(0)), (251, 95.0));
    assert!(matches!(replay.seek(-1.0), Err(ReplayError::Seek(_))));
    assert!(matches!(
        replay.seek(f64::INFINITY),
        Err(ReplayError::Seek(_))
    ));
}

#[test]
fn csv_files_replay_with_seek_loop_and_gaps() {
    let dir = std::env::temp_dir().join(format!("levator-sim-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stem = dir.join("flicks");
    let mut sim = Simulator::from_names("quick_flicks", "healthy", "manometry", 3).unwrap();
    let frames: Vec<_> = sim.clone().collect();
    let n = write_recording(&mut sim, &stem, true).unwrap();
    assert_eq!(n as usize, frames.len());
    let file = CsvFile::open(&dir.join("flicks.csv")).unwrap();
    assert_eq!(file.reader().metadata()["subject"], "healthy");
    let clock = ManualClock::new();
    let mut replay = Replay::new(file, clock.clone(), Pacing::Speed(50.0))
        .unwrap()
        .looping(true);
    replay.seek(30.0).unwrap();
    let f = frame(replay.next_item().unwrap());
    assert_eq!(f.index, 0);
    assert!((f.get(1) - frames[300].get(1)).abs() < 1e-3);
    // Play to the end and around: the first frame again after the last.
    let left = frames.len() - 301;
    for _ in 0..left {
        replay.next_item().unwrap();
    }
    let f = frame(replay.next_item().unwrap());
    assert_eq!(f.index, left as u64 + 1);
    assert!((f.get(1) - frames[0].get(1)).abs() < 1e-3);
    assert_eq!(replay.loops(), 1);
    std::fs::remove_dir_all(&dir).unwrap();

    // A hole in the file is reported as a gap in output indices.
    let spec = StreamSpec::new(10.0, &[ChannelSpec::canonical(Role::PelvicEmg)]).unwrap();
    let holed = MemoryRecording::new(
        spec,
        vec![
            Frame::new(0, &[0.0]),
            Frame::new(1, &[1.0]),
            Frame::new(4, &[4.0]),
        ],
    );
    let mut replay = Replay::new(holed, ManualClock::new(), Pacing::RealTime).unwrap();
    replay.seek(0.1).unwrap();
    assert_eq!(frame(replay.next_item().unwrap()).index, 0);
    assert_eq!(
        replay.next_item().unwrap(),
        Some(SourceItem::Gap {
            first_index: 1,
            lost: 2
        })
    );
    let f = frame(replay.next_item().unwrap());
    assert_eq!((f.index, f.get(0)), (3, 4.0));
}
