//! The hot path: matching allocates nothing once warm, and how fast it is.
//!
//! A counting allocator wraps the system one for this test binary; it counts only on a
//! thread that asks, so other tests are unaffected.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::samples;
use crate::triage::sigma::{load, Event};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are const-initialised thread-locals without
// destructors, so touching them never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: `ptr` came from `System` with `layout`; the caller's contract holds.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Every record of the sample exports, with its outer row where it has one.
fn events() -> Vec<(Value, Option<Value>)> {
    let mut names: Vec<String> = std::fs::read_dir(samples::ual_dir())
        .expect("testdata/ual")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with('t') && (n.ends_with(".csv") || n.ends_with(".json")))
        .collect();
    names.sort();
    names.push("sua_mailbox.csv".into());
    names
        .iter()
        .flat_map(|n| samples::read(n))
        .map(|r| (r.audit_data, r.outer))
        .collect()
}

fn corpus() -> crate::triage::sigma::Loaded {
    load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigma")]).expect("corpus")
}

fn match_all(rules: &crate::triage::sigma::Loaded, events: &[(Value, Option<Value>)]) -> usize {
    let mut hits = 0;
    for (record, outer) in events {
        let event = match outer {
            Some(o) => Event::with_outer(record, o),
            None => Event::new(record),
        };
        hits += rules.rules.iter().filter(|r| r.matches(&event)).count();
    }
    hits
}

#[test]
fn matching_allocates_nothing_once_warm() {
    let rules = corpus();
    let events = events();
    let warm = match_all(&rules, &events);
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let again = match_all(&rules, &events);
    COUNTING.with(|c| c.set(false));
    assert_eq!(warm, again);
    assert!(warm > 100, "the corpus fires on the samples ({warm} hits)");
    assert_eq!(
        ALLOCATIONS.with(Cell::get),
        0,
        "allocations while matching {} events",
        events.len()
    );
}

/// `cargo test --release --lib sigma::tests::speed::throughput -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn throughput() {
    let rules = corpus();
    let events = events();
    let texts: Vec<String> = events.iter().map(|(r, _)| r.to_string()).collect();
    let rounds = 2_000;
    let start = Instant::now();
    let mut parsed = 0;
    for _ in 0..rounds {
        for t in &texts {
            parsed += usize::from(serde_json::from_str::<Value>(t).is_ok());
        }
    }
    let parse = start.elapsed();
    let start = Instant::now();
    let mut hits = 0;
    for _ in 0..rounds {
        hits += match_all(&rules, &events);
    }
    let matching = start.elapsed();
    let n = (events.len() * rounds) as f64;
    println!(
        "{} events x {rounds}: parse AuditData {:.0} ns/event; match {} rules {:.0} ns/event \
         ({:.1} ns per rule and event); match/parse = {:.2}; {parsed} parsed, {hits} hits",
        events.len(),
        parse.as_nanos() as f64 / n,
        rules.rules.len(),
        matching.as_nanos() as f64 / n,
        matching.as_nanos() as f64 / n / rules.rules.len() as f64,
        matching.as_secs_f64() / parse.as_secs_f64(),
    );
}
