//! The detection hot path allocates nothing: after construction,
//! `Pipeline::tick`, `process`, `gap`, `poll` and `finish` run with a
//! counting global allocator that must not see a single allocation.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use levator::core::detect::{EventQueue, Pipeline, PipelineConfig};
use levator::core::stream::{ChannelSpec, Frame, Role, StreamSpec};

struct Counting;

static ARMED: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::SeqCst) {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::SeqCst) {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn pipeline_hot_path_never_allocates() {
    let rate = 1000.0;
    let spec = StreamSpec::new(
        rate,
        &[
            ChannelSpec::canonical(Role::PelvicEmg),
            ChannelSpec::canonical(Role::AbdominalEmg),
            ChannelSpec::canonical(Role::AbdominalPressure),
        ],
    )
    .unwrap();
    // a signal that makes every detector work: rest, squeezes with slow
    // releases, a push, a drop, an artefact, NaNs, a gap
    let two_pi = 2.0 * std::f64::consts::PI;
    let mut state = 1u64;
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let frames: Vec<Frame> = (0..60_000u64)
        .map(|i| {
            let t = i as f64 / rate;
            let squeeze = if (10.0..13.0).contains(&t) || (20.0..21.0).contains(&t) {
                40.0
            } else if (13.0..17.0).contains(&t) {
                15.0
            } else {
                0.0
            };
            let drop = if (40.0..45.0).contains(&t) { -2.0 } else { 0.0 };
            let push = if (30.0..36.0).contains(&t) { 60.0 } else { 0.0 };
            let art = if (50.0..50.3).contains(&t) {
                800.0 * (two_pi * 4.0 * t).sin()
            } else {
                0.0
            };
            let mut p = (4.0 + drop + squeeze) * noise() * 1.7 + art;
            if (52.0..52.002).contains(&t) {
                p = f64::NAN;
            }
            let a = (2.0 + push * 0.5) * noise() * 1.7;
            Frame::new(i, &[p, a, 10.0 + push + 0.3 * noise()])
        })
        .filter(|f| !(55_000..55_100).contains(&f.index))
        .collect();
    let mut pipeline = Pipeline::new(spec, PipelineConfig::default()).unwrap();
    let mut queue: EventQueue<256> = EventQueue::new();
    let mut seen = 0usize;
    ALLOCS.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    for chunk in frames.chunks(37) {
        pipeline.process(chunk, &mut queue);
        if let Some(t) = pipeline.poll_at() {
            pipeline.poll(t, &mut queue);
        }
        while queue.pop().is_some() {
            seen += 1;
        }
    }
    pipeline.tick(&frames[100], &mut queue); // rejected (from the past)
    pipeline.gap(70_000, 5, &mut queue);
    pipeline.finish(&mut queue);
    ARMED.store(false, Ordering::SeqCst);
    while queue.pop().is_some() {
        seen += 1;
    }
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst),
        0,
        "allocations on the hot path"
    );
    assert!(
        seen >= 10,
        "the signal should have produced events, got {seen}"
    );
    assert_eq!(queue.dropped(), 0);
}
