//! Determinism: the same frames give the same events, bit for bit,
//! whatever the chunking (`tick` one by one, `process` over random block
//! sizes including empty blocks), and a replay gives the same events again.

mod detect_common;

use detect_common::Noise;
use levator::core::detect::{EventQueue, EventSink, Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::stream::Frame;
use levator_sim::{SimConfig, Simulator};

fn frames_of(scenario: &str, subject: &str, device: &str, seed: u64) -> (Simulator, Vec<Frame>) {
    let config = SimConfig::from_names(scenario, subject, device, seed).unwrap();
    let mut sim = Simulator::new(&config).unwrap();
    let frames: Vec<Frame> = sim.by_ref().collect();
    (sim, frames)
}

fn bits(events: &[Event]) -> Vec<String> {
    // Debug of f64 prints the shortest round-trip form: equal strings mean
    // equal bits
    events.iter().map(|e| format!("{e:?}")).collect()
}

#[test]
fn any_chunking_gives_identical_events() {
    for (scenario, subject, device) in [
        ("glazer_short", "hypertonic", "emg-probe"),
        ("bearing_down", "dyssynergic", "manometry"),
        ("demo", "accessory", "two-sensor-trainer"),
    ] {
        let (sim, frames) = frames_of(scenario, subject, device, 3);
        let spec = sim.spec();
        // whole, with tick
        let mut whole = Vec::new();
        let mut p = Pipeline::new(spec, PipelineConfig::default()).unwrap();
        for f in &frames {
            p.tick(f, &mut |e: Event| whole.push(e));
        }
        p.finish(&mut |e: Event| whole.push(e));
        assert!(whole.len() > 5, "{scenario}: too few events to compare");
        // random chunks with process, including empty ones
        for seed in 0..3u64 {
            let mut rng = Noise::new(seed);
            let mut chunked = Vec::new();
            let mut p = Pipeline::new(spec, PipelineConfig::default()).unwrap();
            let mut at = 0;
            while at < frames.len() {
                let n = ((rng.uniform() * 700.0) as usize).min(frames.len() - at);
                p.process(&frames[at..at + n], &mut |e: Event| chunked.push(e));
                at += n;
            }
            p.finish(&mut |e: Event| chunked.push(e));
            assert_eq!(bits(&whole), bits(&chunked), "{scenario} chunking {seed}");
        }
    }
}

#[test]
fn fixed_capacity_queue_sink_gives_the_same_events() {
    let (sim, frames) = frames_of("quick_flicks", "healthy", "pressure-trainer", 8);
    let mut direct = Vec::new();
    let mut p = Pipeline::new(sim.spec(), PipelineConfig::default()).unwrap();
    p.process(&frames, &mut |e: Event| direct.push(e));
    let mut queued = Vec::new();
    let mut q: EventQueue<16> = EventQueue::new();
    let mut p = Pipeline::new(sim.spec(), PipelineConfig::default()).unwrap();
    for f in &frames {
        p.tick(f, &mut q);
        while let Some(e) = q.pop() {
            queued.push(e);
        }
    }
    assert_eq!(q.dropped(), 0);
    assert_eq!(bits(&direct), bits(&queued));
    // a queue that is never drained drops and counts, never panics
    let mut small: EventQueue<2> = EventQueue::new();
    let mut p = Pipeline::new(sim.spec(), PipelineConfig::default()).unwrap();
    p.process(&frames, &mut small);
    assert_eq!(small.len(), 2);
    assert_eq!(small.dropped() as usize, direct.len() - 2);
    small.emit(direct[0]);
    assert_eq!(small.dropped() as usize, direct.len() - 1);
}
