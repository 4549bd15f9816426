//! The columnar fast path on ten million payments, with mimalloc as the process's global
//! allocator: the same benchmarks as `fast` (both include `shared/fast.rs`), in the group
//! `fast_alloc`, so the two allocators' figures sit side by side.
//!
//! ```text
//! cargo bench -p partnerkit --bench fast_alloc
//! cargo bench -p partnerkit --features arrow --bench fast --bench fast_alloc   # both, with Arrow
//! ```
//!
//! Why a second target: glibc's malloc serves every block above its mmap threshold (at most
//! 32 MB) with its own `mmap` and unmaps it on free, so each evaluation's large columns are
//! fresh pages whose first touch the kernel faults in and clears (about a quarter of
//! `evaluate_columns_owned`'s time here). mimalloc keeps freed memory in its arenas for a
//! while (`purge_delay`, 1 s in its version 3) and hands it out again, as the Python
//! extension module does (`bindings-python/src/alloc.rs`). The library itself never picks an
//! allocator: that is its users' choice, so only this bench binary and the extension do.
//!
//! Both, alternated on this project's shared 2-core machine (`taskset -c 1`, load average
//! 2.2–2.5; more in `bench/README.md`): `evaluate_columns_owned_10m` 1.31 s and 1.23 s on
//! the system allocator, 0.93 s and 1.00 s here (11.9M and 11.0M events/s);
//! `evaluate_columns_10m` 1.31 s and 1.27 s against 1.02 s and 1.01 s. Page faults an
//! evaluation: about 268k against 1.2k.

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "shared/fast.rs"]
mod shared;

fn fast(c: &mut Criterion) {
    shared::fast(c, "fast_alloc");
}

criterion_group!(benches, fast);
criterion_main!(benches);
