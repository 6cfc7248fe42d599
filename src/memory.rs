//! Allocator settings that make freed memory go back to the operating system.
//!
//! Measured with `bench/signin.sh` (1,000 sign-ins at concurrency 64, December 2026): before the
//! hashing pool, glibc's defaults left 10.4 GB resident after the run. Every 19 MiB argon2 buffer
//! is first served by `mmap`, but freeing one raises glibc's *dynamic* mmap threshold to its size,
//! so later buffers come from the per-thread arenas, and the trim threshold (twice that) lets each
//! arena keep them. With the threshold fixed (the `MALLOC_MMAP_THRESHOLD_` equivalent of the
//! settings below) the same old code fell back to 25 MB when idle (peak 537 MB). The pool
//! (`auth::hasher`) now keeps one buffer per thread and no longer frees them, so this matters
//! for what remains: a stored hash with a higher memory cost gets a buffer for one call, and
//! large request bodies or result sets. Fixed thresholds keep glibc from ratcheting up and
//! hoarding them. glibc tuning was kept over a different allocator (mimalloc, jemalloc): it
//! measured as well for this load and adds no C dependency to the build.

/// Allocations from this size on get their own mapping, unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 1024 * 1024;
/// Free memory at the top of a heap beyond this is returned at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: i32 = 4 * 1024 * 1024;

/// Fixes glibc's mmap and trim thresholds. Call first thing in `main`, before other threads.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread
    // exists, and both values are within glibc's documented ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
