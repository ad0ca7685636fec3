//! The process's allocator and its tuning, shared by the binary and the benchmark example
//! (`examples/stage_cost.rs` includes this file), so both measure the same thing.

// mimalloc: parsing allocates a few small strings per line; the system allocator spent
// ~15% of ingest time in malloc/free (perf), mimalloc removes most of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (the same index in v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Call first thing in `main`, before any other thread exists.
pub fn tune() {
    // Parsing threads allocate events that the hunt threads free. By default mimalloc gives
    // emptied pages back to the kernel after 10 ms, and the parsers soon fault them in again
    // as zeroed (transparent huge) pages: perf showed 16% of hunt in `clear_page_erms` and
    // 0.3-0.6 s of system time per 100 MB. Never purging keeps the peak RSS about the same.
    // SAFETY: sets one integer option; no pointers involved. Called before other threads.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
