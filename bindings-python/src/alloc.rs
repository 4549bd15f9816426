//! The extension module's allocator: mimalloc, and how it gives freed memory back.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// The extension module's global allocator: mimalloc instead of the system's (glibc's
/// malloc on Linux). glibc serves every block above its mmap threshold (at most 32 MB) with
/// its own `mmap` and returns it on free, so each large column of an `evaluate_arrow` call
/// (the imported events, the id pass's buffers, the ledger) is fresh pages that the kernel
/// faults in and clears on first touch, on every call. mimalloc keeps freed memory in its
/// arenas and hands it out again, so a notebook that evaluates one backtest after another
/// reuses the pages of the previous call (a first call in a fresh process still pays for
/// fresh pages; [`configure`] says how freed memory is given back); `Engine.apply`'s
/// small allocations measured no slower. Polars' wheels make a like choice. Only this
/// module's Rust allocations go through it (Python's objects and pyarrow's buffers keep
/// their own allocators); the core library sets none, leaving the choice to each
/// application. `local_dynamic_tls` (in Cargo.toml) because the module is loaded with
/// `dlopen`, where the initial-exec TLS model may find no static TLS room left.
///
/// `no_thp` (in Cargo.toml): mimalloc does not ask the kernel for transparent huge pages on
/// its memory (`madvise(MADV_HUGEPAGE)`), leaving the choice to the system's policy, as
/// glibc's malloc does. Where THP is `madvise` (as on the machine measured) and defrag is
/// `madvise` (the kernel's default), memory asked for that way is cleared 2 MB at a fault,
/// after a compaction of memory if it must, while the call waits: on a 2-core VM, a first
/// `evaluate_arrow` of 10M events took 1.55–1.69 s with it and 1.06–1.29 s without, and an
/// engine growing by 100,000 events 6.6–9.3 µs an `apply` with it and 4.4–6.2 µs without;
/// warm evaluations, median 0.95 s with it and 1.00 s without (bench/README, tenth
/// session). Unlike the `MIMALLOC_ALLOW_THP=0` environment variable, the feature does not
/// switch huge pages off for the rest of the host's process.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_decommits` (its position in `mi_option_e`, the same in
/// mimalloc 2 and 3; `libmimalloc-sys` names no constant for it).
const PURGE_DECOMMITS: mi_option_t = 5;

/// The environment variables mimalloc reads that option from (its current and its legacy
/// name), compared without case as mimalloc compares them.
const PURGE_DECOMMITS_ENV: [&str; 2] = ["MIMALLOC_PURGE_DECOMMITS", "MIMALLOC_RESET_DECOMMITS"];

/// Sets how the allocator gives freed memory back, unless the environment says otherwise:
/// called once, when the module is imported.
///
/// mimalloc purges memory that stays free past its `purge_delay` (1 s in version 3). By
/// default a purge *decommits* (`madvise(MADV_DONTNEED)` on Linux): the pages go back to
/// the kernel at once, and the next call that reuses the address range faults each page in
/// again and has the kernel clear it. Warm `evaluate_arrow` calls of 10M events, one after
/// another, spent 0.04–0.37 s of system time each that way, and 0.00–0.12 s with
/// `purge_decommits` 0 (bench/README, eleventh session). Then a purge *resets* instead
/// (`MADV_FREE`): the kernel takes the pages only when it needs memory, and a call that
/// reuses them before then pays no fault. The memory stays in the process's resident size
/// until the kernel takes it, so peak resident size reads higher; it is not more memory
/// the process holds against the kernel's need.
/// `MIMALLOC_PURGE_DECOMMITS` set in the environment (mimalloc reads it when the library
/// loads) is left to decide.
pub(crate) fn configure() {
    let set_by_env = std::env::vars_os().any(|(k, _)| {
        k.to_str().is_some_and(|k| {
            PURGE_DECOMMITS_ENV
                .iter()
                .any(|e| e.eq_ignore_ascii_case(k))
        })
    });
    if !set_by_env {
        #[allow(unsafe_code)]
        // SAFETY: a store to mimalloc's option table, which its allocation paths read
        // without locks; the option is only read when memory is purged.
        unsafe {
            mi_option_set(PURGE_DECOMMITS, 0)
        };
    }
}

/// The allocator's options this module sets, as they stand (for the tests).
pub(crate) fn options() -> Vec<(&'static str, i64)> {
    // SAFETY: a load from mimalloc's option table.
    #[allow(unsafe_code)]
    let purge_decommits = unsafe { mi_option_get(PURGE_DECOMMITS) };
    // `c_long` is 32 bits on Windows.
    #[allow(clippy::useless_conversion)]
    let purge_decommits = i64::from(purge_decommits);
    vec![("purge_decommits", purge_decommits)]
}
