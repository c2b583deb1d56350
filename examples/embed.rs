//! The smallest useful embedding: a real-time pipeline for a 2-channel
//! surface-EMG stream, fed frame by frame, printing every event as a JSON
//! line. The frames come from the simulator; on a device they would come
//! from your ADC driver.
//!
//! `cargo run --example embed`
use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::stream::{ChannelSpec, Role, StreamSpec};
use levator_sim::Simulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Channel A: pelvic floor, channel B: abdomen, both in µV at 1 kHz.
    let spec = StreamSpec::new(
        1000.0,
        &[
            ChannelSpec::canonical(Role::PelvicEmg),
            ChannelSpec::canonical(Role::AbdominalEmg),
        ],
    )?;
    let mut pipeline = Pipeline::new(spec, PipelineConfig::default())?;
    // A healthy subject doing 10 quick flicks, measured by a 1 kHz sEMG probe.
    let sim = Simulator::from_names("quick_flicks", "healthy", "emg-probe", 1)?;
    assert_eq!(sim.spec(), spec);
    let mut print = |e: Event| match serde_json::to_string(&e.rounded()) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("cannot serialize event: {err}"),
    };
    for frame in sim {
        pipeline.tick(&frame, &mut print); // never fails, never allocates
    }
    pipeline.finish(&mut print); // close intervals still open
    Ok(())
}
