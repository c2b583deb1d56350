//! Proves the hot path allocates nothing: a counting global allocator
//! wraps the system allocator, and every `tick` / `process` of the
//! conditioning layer runs with counting switched on.

// The workspace denies unsafe code; implementing `GlobalAlloc` requires
// `unsafe impl` and unsafe calls into `System`. This test file is the only
// place that needs it, and it only forwards to `System` while counting.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use levator::core::conditioning::{
    butter, Band, Chain, ChainBank, ChainConfig, EnvelopeConfig, Mains, MainsNotch, SosFilter,
};
use levator::core::features::envelope::{MovingRms, RectifiedLowPass, TeagerKaiser};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Only the test's own thread is counted (the harness may allocate on
    // other threads at any time).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn tick_and_process_allocate_nothing_after_construction() {
    // Positive control: the counter sees allocations.
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);

    let rate = 1000.0;
    let n = 50_000;
    let input: Vec<f64> = (0..n)
        .map(|i| {
            if i % 1009 == 0 {
                f64::NAN
            } else {
                ((i * 7919) % 1000) as f64 / 10.0 - 50.0
            }
        })
        .collect();
    let mut output = vec![0.0; n];
    let mut filtered = vec![0.0; n];

    let mut configs = vec![ChainConfig::emg(rate), ChainConfig::pressure(rate)];
    let mut c = ChainConfig::emg(rate);
    c.envelope = EnvelopeConfig::RectifiedLowPass {
        cutoff_hz: 5.0,
        order: 2,
    };
    configs.push(c);
    let mut c = ChainConfig::emg(rate);
    c.envelope = EnvelopeConfig::TeagerKaiser;
    configs.push(c);
    let mut c = ChainConfig::emg(rate);
    c.notch_kind = levator::core::conditioning::NotchKind::Comb;
    configs.push(c);
    let mut chains: Vec<Chain> = configs.iter().map(|c| Chain::new(c).unwrap()).collect();

    let sos = butter(
        4,
        Band::BandPass {
            low_hz: 20.0,
            high_hz: 450.0,
        },
        rate,
    )
    .unwrap();
    let mut sos_filter = SosFilter::new(&sos);
    let mut notch = MainsNotch::new(Mains::Hz50, 30.0, rate, None).unwrap();
    let mut rms = MovingRms::new(50.0, rate).unwrap();
    let mut rect = RectifiedLowPass::new(5.0, 2, rate).unwrap();
    let mut tk = TeagerKaiser::new();
    let mut banks: Vec<ChainBank<4>> = configs
        .iter()
        .map(|c| ChainBank::<4>::new(c).unwrap())
        .collect();
    let frames: Vec<[f64; 4]> = input
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    let mut frames_out = vec![[0.0; 4]; frames.len()];

    let count = allocations_in(|| {
        for chain in chains.iter_mut() {
            chain.process(&input, &mut output);
            // the block path (wavefront) with per-sample filtered values,
            // in blocks around the shortest wavefront block
            for (k, block) in input.chunks(17).take(200).enumerate() {
                let at = k * 17;
                let end = at + block.len();
                chain.process_with_filtered(block, &mut filtered[at..end], &mut output[at..end]);
            }
            for &x in &input {
                std::hint::black_box(chain.tick(x));
            }
            chain.process_in_place(&mut output);
            chain.reset();
        }
        sos_filter.process(&input, &mut output);
        notch.process(&input, &mut output);
        rms.process(&input, &mut output);
        rect.process(&input, &mut output);
        tk.process(&input, &mut output);
        for &x in &input {
            std::hint::black_box(
                sos_filter.tick(x) + notch.tick(x) + rms.tick(x) + rect.tick(x) + tk.tick(x),
            );
        }
        rms.reset();
        for bank in banks.iter_mut() {
            bank.process(&frames, &mut frames_out);
            for f in &frames {
                std::hint::black_box(bank.tick(*f));
            }
            bank.reset();
        }
    });
    assert_eq!(count, 0, "hot path allocated {count} times");
    assert!(
        chains.iter().all(|c| c.rejected_inputs() == 0),
        "reset clears"
    );
    assert!(rms.rejected_inputs() == 0 && sos_filter.rejected_inputs() > 0);
}
