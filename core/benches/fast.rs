//! The columnar fast path on ten million payments, with the system allocator (the
//! benchmarks are in `shared/fast.rs`; `fast_alloc` runs the same ones under mimalloc, and
//! its doc comment gives both targets' figures).
//!
//! ```text
//! cargo bench -p partnerkit --bench fast                       # 10M payments
//! PARTNERKIT_BENCH_PAYMENTS=1000000 cargo bench -p partnerkit --bench fast
//! cargo bench -p partnerkit --features arrow --bench fast      # also: fed from Arrow
//! ```

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "shared/fast.rs"]
mod shared;

fn fast(c: &mut Criterion) {
    shared::fast(c, "fast");
}

criterion_group!(benches, fast);
criterion_main!(benches);
