//! Measures the serial layer on a real pseudo-terminal: the latency a
//! sample picks up between being written on the device side and its frame
//! reaching the consumer of `SerialSource`, and the highest frame rate the
//! reader sustains without loss.
//!
//! ```text
//! cargo run --release -p levator-serial --example pty_latency [-- SECONDS]
//! ```
//!
//! Latency: one-sample binary frames written at 1 kHz; for each, the time
//! from just before `write` on the master side to `next_item` returning it.
//! Throughput: one-sample frames written as fast as the pty accepts them;
//! reports frames/s delivered and any samples lost (there must be none).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use levator_core::stream::{Role, SampleSource, SourceItem, Unit};
use levator_serial::port::{Protocol, Received, SerialConfig, SerialSource};
use levator_serial::protocol::binary::{ChannelFormat, Encoder, SampleFormat, StreamHeader};
use serialport::TTYPort;

fn header() -> StreamHeader {
    StreamHeader::new(
        1000.0,
        &[
            ChannelFormat::new(
                Role::PelvicEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
            ChannelFormat::new(
                Role::AbdominalEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
        ],
    )
    .expect("valid header")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn latency(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (mut master, slave) = TTYPort::pair()?;
    let mut src = SerialSource::from_port(
        Box::new(slave),
        Protocol::BinaryWithHeader(header()),
        SerialConfig::default(),
    )?;
    let writer = thread::spawn(move || -> std::io::Result<(Vec<Instant>, TTYPort)> {
        let mut enc = Encoder::new(header());
        let mut sent = Vec::with_capacity(n);
        let start = Instant::now();
        for i in 0..n {
            let due = start + Duration::from_micros(1000 * i as u64);
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            let f = enc
                .data_frame(&[i as f64, -(i as f64)])
                .map_err(std::io::Error::other)?;
            sent.push(Instant::now());
            master.write_all(&f)?;
        }
        Ok((sent, master))
    });
    let mut received = vec![None; n];
    let mut got = 0;
    while got < n {
        match src.next_item()? {
            Some(SourceItem::Frame(f)) => {
                if let Some(slot) = received.get_mut(f.index as usize) {
                    *slot = Some(Instant::now());
                }
                got += 1;
            }
            Some(SourceItem::Gap { lost, .. }) => return Err(format!("{lost} samples lost").into()),
            None => return Err("stream ended".into()),
        }
    }
    let (sent, _master) = writer.join().map_err(|_| "writer panicked")??;
    let mut lat: Vec<Duration> = sent
        .iter()
        .zip(&received)
        .filter_map(|(s, r)| r.map(|r| r.saturating_duration_since(*s)))
        .collect();
    lat.sort_unstable();
    println!(
        "latency over {} one-sample frames at 1 kHz: median {:.1} us, p99 {:.1} us, max {:.1} us",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        lat[lat.len() - 1].as_secs_f64() * 1e6,
    );
    src.close()?;
    Ok(())
}

fn throughput(seconds: f64, samples_per_frame: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (mut master, slave) = TTYPort::pair()?;
    let mut src = SerialSource::from_port(
        Box::new(slave),
        Protocol::BinaryWithHeader(header()),
        SerialConfig::default(),
    )?;
    let dur = Duration::from_secs_f64(seconds);
    let want = Arc::new(AtomicU64::new(u64::MAX));
    let want_w = want.clone();
    let writer = thread::spawn(move || -> std::io::Result<(u64, u64, TTYPort)> {
        let mut enc = Encoder::new(header());
        let vals: Vec<f64> = (0..samples_per_frame).flat_map(|_| [0.5, 1.0]).collect();
        let start = Instant::now();
        let (mut frames, mut bytes) = (0u64, 0u64);
        let mut batch = Vec::new();
        while start.elapsed() < dur {
            batch.clear();
            for _ in 0..256 {
                batch.extend_from_slice(&enc.data_frame(&vals).map_err(std::io::Error::other)?);
            }
            master.write_all(&batch)?;
            frames += 256;
            bytes += batch.len() as u64;
        }
        want_w.store(frames * samples_per_frame as u64, Ordering::SeqCst);
        Ok((frames, bytes, master))
    });
    let start = Instant::now();
    let (mut samples, mut lost) = (0u64, 0u64);
    while samples + lost < want.load(Ordering::SeqCst) {
        match src.next_received()? {
            Some(Received::Item(SourceItem::Frame(_))) => samples += 1,
            Some(Received::Item(SourceItem::Gap { lost: l, .. })) => lost += l,
            Some(Received::Notice(n)) => return Err(format!("decode problem: {n:?}").into()),
            None => return Err("stream ended".into()),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (frames_written, bytes, master) = writer.join().map_err(|_| "writer panicked")??;
    let stats = src.stats();
    println!(
        "throughput, {samples_per_frame} sample(s)/frame: {:.0} frames/s = {:.0} samples/s \
         ({:.1} MB/s) sustained over {secs:.2} s; delivered {samples} of {}, lost {lost}, \
         crc failures {}, queue overflow {}",
        frames_written as f64 / secs,
        samples as f64 / secs,
        bytes as f64 / secs / 1e6,
        frames_written * samples_per_frame as u64,
        stats.decode.crc_failures,
        stats.overflow_samples,
    );
    drop(master);
    src.close()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    latency((seconds * 1000.0) as usize)?;
    throughput(seconds, 1)?;
    throughput(seconds, 20)?;
    Ok(())
}
