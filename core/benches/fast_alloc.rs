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
//! `evaluate_columns_owned`'s time here; `bench/README.md`, "The allocator: memory reused
//! instead of fresh pages"). mimalloc keeps freed memory in its arenas and hands it out
//! again, as the Python extension module does: this target's global allocator *is* the
//! module's (the workspace crate `partnerkit-alloc`), with the options the module sets on
//! import (`partnerkit_alloc::configure`). The library itself never picks an allocator:
//! that is its users' choice, so only this bench binary and the extension do.
//!
//! The options matter here as much as the allocator. mimalloc purges memory that stays free
//! past its `purge_delay` (1 s in its version 3), and an evaluation here takes about that
//! long: with mimalloc's default purge (`MADV_DONTNEED`), each evaluation's columns were
//! fresh pages again. The module's purge (`MADV_FREE`) leaves them for the next evaluation
//! unless the kernel needs the memory. Alternated on this project's 2-core machine
//! (`taskset -c 1`, twenty-fourth session of `bench/README.md`): `evaluate_columns_10m`
//! 1.08–1.22 s with the default purge, 0.78–0.93 s with the module's.

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: partnerkit_alloc::Natural = partnerkit_alloc::Natural;

#[path = "shared/fast.rs"]
mod shared;

fn fast(c: &mut Criterion) {
    // Before the benchmark frees anything: as the module does on import.
    partnerkit_alloc::configure();
    shared::fast(c, "fast_alloc");
}

criterion_group!(benches, fast);
criterion_main!(benches);
