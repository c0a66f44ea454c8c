//! cinema-fuzz: a fuzz harness that runs on stable Rust, for a bounded time,
//! in CI and locally — cargo-fuzz would need a nightly toolchain.
//!
//! Three [`targets`] take untrusted bytes: `protocol` (the engine decoding
//! and handling requests), `reply` (the host decoding and checking what a
//! module answers) and `datasets` (the MovieLens importers). [`run::fuzz`]
//! mutates a corpus with [`mutate::Mutator`] and runs each input under
//! `catch_unwind`: a panic, or one allocation far larger than any input
//! warrants, is a crash and its input is saved.
//!
//! Without compiler instrumentation there is no coverage to steer by; the
//! corpus keeps an input when it shows a *feature* never seen before — a new
//! (request, reply) pair, a new error kind from a parser, a new way a reply
//! is refused — which keeps the corpus small and varied.

pub mod mutate;
pub mod run;
pub mod targets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Something to fuzz.
pub trait Target {
    /// Its name on the command line and in `corpus/` and `crashes/`.
    fn name(&self) -> &'static str;

    /// Valid inputs to start from (also written to an empty corpus folder).
    fn seeds(&self) -> Vec<Vec<u8>>;

    /// Tokens worth splicing into inputs, e.g. separators or encoded requests.
    fn dictionary(&self) -> Vec<Vec<u8>>;

    /// Longest input worth trying.
    fn max_len(&self) -> usize;

    /// Runs one input and names what it showed. Panicking is the bug being
    /// looked for; after a panic the harness calls [`Target::reset`].
    fn run(&mut self, input: &[u8]) -> Vec<String>;

    /// Drops any state a panic may have left half-changed.
    fn reset(&mut self) {}
}

thread_local! {
    static LARGEST_ALLOCATION: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, noting the largest single allocation made on each
/// thread. A bug that sizes a buffer from an attacker's number (say a top-N
/// of four billion) shows up natively only as a huge, lazily backed
/// allocation; inside the sandbox it is a crash. This makes it visible.
struct Tracking;

fn note(size: usize) {
    // `try_with`: the thread may be past its thread-locals while tearing down.
    let _ = LARGEST_ALLOCATION.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every call is passed unchanged to `System`; the bookkeeping neither
// allocates nor unwinds.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// The largest single allocation on this thread since the last call.
pub fn take_largest_allocation() -> usize {
    LARGEST_ALLOCATION.with(|largest| largest.replace(0))
}

/// An error message as a feature: numbers (decimal or hex) and quoted
/// values vary without meaning a new path, so they are blanked, and the
/// length is capped.
pub fn shape(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(96));
    let (mut quoted, mut number) = (false, false);
    for c in message.chars() {
        number = number && c.is_ascii_alphanumeric();
        if c == '`' {
            quoted = !quoted;
            out.push(c);
        } else if quoted || number {
            continue;
        } else if c.is_ascii_digit() && !out.ends_with(|p: char| p.is_alphanumeric()) {
            number = true;
            out.push('#');
        } else {
            out.push(c);
        }
        if out.len() >= 96 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_blank_numbers_and_quoted_values() {
        assert_eq!(shape("u.data:12: movie id `x7` is not a number"), "u.data:#: movie id `` is not a number");
        assert_eq!(shape("reply at 0xffff00+16 lies outside"), "reply at #+# lies outside");
        assert_eq!(shape("cinema-fuzz v2"), "cinema-fuzz v2");
        assert_eq!(shape(&"a".repeat(500)).len(), 96);
    }

    #[test]
    fn the_largest_allocation_is_seen_and_reset() {
        take_largest_allocation();
        let big = vec![0u8; 3 << 20];
        assert!(take_largest_allocation() >= 3 << 20);
        drop(big);
        assert!(take_largest_allocation() < 3 << 20);
    }
}
