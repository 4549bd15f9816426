//! The global allocator of partnerkit's Python extension module and of the core's
//! `fast_alloc` benchmark: mimalloc, through [`Natural`], with its options set by
//! [`configure`]. One crate so that the benchmark measures the allocator the module ships
//! with, not a look-alike. The core library sets no allocator: that is each application's
//! choice, and only these two make it.
//!
//! Why mimalloc instead of the system's (glibc's malloc on Linux): glibc serves every block
//! above its mmap threshold (at most 32 MB) with its own `mmap` and returns it on free, so
//! each large column of an `evaluate_arrow` call (the imported events, the id pass's
//! buffers, the ledger) is fresh pages that the kernel faults in and clears on first touch,
//! on every call. mimalloc keeps freed memory in its arenas and hands it out again, so a
//! notebook that evaluates one backtest after another reuses the pages of the previous call
//! (a first call in a fresh process still pays for fresh pages; [`configure`] says how freed
//! memory is given back); `Engine.apply`'s small allocations measured no slower. Polars'
//! wheels make a like choice. In the Python module only its Rust allocations go through it
//! (Python's objects and pyarrow's buffers keep their own allocators).
//!
//! Features of `libmimalloc-sys` (in Cargo.toml): `local_dynamic_tls` because the module is
//! loaded with `dlopen`, where the initial-exec TLS model may find no static TLS room left.
//! `no_thp`: mimalloc does not ask the kernel for transparent huge pages on its memory
//! (`madvise(MADV_HUGEPAGE)`), leaving the choice to the system's policy, as glibc's malloc
//! does. Where THP is `madvise` (as on the machine measured) and defrag is `madvise` (the
//! kernel's default), memory asked for that way is cleared 2 MB at a fault, after a
//! compaction of memory if it must, while the call waits: on a 2-core VM, a first
//! `evaluate_arrow` of 10M events took 1.55–1.69 s with it and 1.06–1.29 s without, and an
//! engine growing by 100,000 events 6.6–9.3 µs an `apply` with it and 4.4–6.2 µs without;
//! warm evaluations, median 0.95 s with it and 1.00 s without (bench/README, tenth
//! session). Unlike the `MIMALLOC_ALLOW_THP=0` environment variable, the feature does not
//! switch huge pages off for the rest of the host's process.
//!
//! A user declares it as its global allocator and calls [`configure`] once, before the
//! first large allocation is freed:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: partnerkit_alloc::Natural = partnerkit_alloc::Natural;
//!
//! fn main() {
//!     partnerkit_alloc::configure();
//!     let column = vec![7_i64; 1 << 20];
//!     assert_eq!(column.iter().sum::<i64>(), 7 << 20);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_option_get, mi_option_set, mi_option_t, mi_realloc,
    mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

// This crate's own tests run through the allocator they test.
#[cfg(test)]
#[global_allocator]
static GLOBAL: Natural = Natural;

/// The largest alignment a plain `mi_malloc` block has whenever the request's size is a
/// multiple of it: mimalloc's `MI_MAX_ALIGN_SIZE`. A page's first block starts 16-aligned,
/// and block sizes are multiples of 8 bytes, of 16 from 64 bytes up, exactly the size
/// asked below 64 bytes: so a block of a size that is a multiple of `a` (`a` ≤ 16) sits at
/// a multiple of `a`.
const NATURAL_ALIGN: usize = 16;

/// mimalloc as a global allocator that asks for a block by its alignment only when a plain
/// block would not have it, as the standard library asks the system's `malloc`.
///
/// The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every request. mimalloc 3
/// serves that from a plain size class only when the class's block size is a power of two;
/// any other size (a 48-byte entry id, a 368-byte explanation, most of what `Engine.apply`
/// allocates) takes its generic path, which over-allocates by `align - 1` bytes into the
/// next size class and finds its page anew each time (the over-allocation lets an aligned
/// block start inside a larger one). That is more instructions per allocation and up to a
/// size class more memory per block, on every call (bench/README, eighteenth session).
/// Here a request whose alignment a plain block already has (`align` ≤ 16, the size a
/// multiple of it) calls `mi_malloc`; anything else keeps the aligned calls.
pub struct Natural;

/// Whether a plain mimalloc block of `size` bytes has the alignment `align`.
#[inline(always)]
fn natural(size: usize, align: usize) -> bool {
    align <= NATURAL_ALIGN && align <= size && size.is_multiple_of(align)
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes plain and
// aligned blocks alike); a block has the layout's alignment, by `natural` or by the
// aligned call; a null pointer reports failure, as the trait requires.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Natural {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: FFI calls with a size and a power-of-two alignment.
        unsafe {
            if natural(layout.size(), layout.align()) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if natural(layout.size(), layout.align()) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator; a block moved by `mi_realloc` is a plain
        // block of `new_size` bytes, which has the alignment when `natural` says so.
        unsafe {
            if natural(new_size, layout.align()) {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

/// mimalloc's `mi_option_purge_decommits` (its position in `mi_option_e`, the same in
/// mimalloc 2 and 3; `libmimalloc-sys` names no constant for it).
const PURGE_DECOMMITS: mi_option_t = 5;

/// The environment variables mimalloc reads that option from (its current and its legacy
/// name), compared without case as mimalloc compares them.
const PURGE_DECOMMITS_ENV: [&str; 2] = ["MIMALLOC_PURGE_DECOMMITS", "MIMALLOC_RESET_DECOMMITS"];

/// Sets how the allocator gives freed memory back, unless the environment says otherwise:
/// called once, when the Python module is imported and when the benchmark starts.
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
pub fn configure() {
    if !set_by_env() {
        #[allow(unsafe_code)]
        // SAFETY: a store to mimalloc's option table, which its allocation paths read
        // without locks; the option is only read when memory is purged.
        unsafe {
            mi_option_set(PURGE_DECOMMITS, 0)
        };
    }
}

/// Whether the environment names the option [`configure`] sets (mimalloc then reads it
/// from there).
fn set_by_env() -> bool {
    std::env::vars_os().any(|(k, _)| {
        k.to_str().is_some_and(|k| {
            PURGE_DECOMMITS_ENV
                .iter()
                .any(|e| e.eq_ignore_ascii_case(k))
        })
    })
}

/// The allocator's options [`configure`] sets, as they stand (for the tests).
pub fn options() -> Vec<(&'static str, i64)> {
    // SAFETY: a load from mimalloc's option table.
    #[allow(unsafe_code)]
    let purge_decommits = unsafe { mi_option_get(PURGE_DECOMMITS) };
    // `c_long` is 32 bits on Windows.
    #[allow(clippy::useless_conversion)]
    let purge_decommits = i64::from(purge_decommits);
    vec![("purge_decommits", purge_decommits)]
}

#[cfg(test)]
mod tests {
    use super::{configure, natural, options, set_by_env};

    #[test]
    fn configure_gives_freed_memory_back_lazily_unless_the_environment_decides() {
        let before = options();
        configure();
        if set_by_env() {
            // The environment's choice stands.
            assert_eq!(options(), before);
        } else {
            assert_eq!(options(), vec![("purge_decommits", 0)]);
        }
    }

    #[test]
    fn plain_blocks_only_where_they_have_the_alignment() {
        // Sizes of no power of two take the plain call when a multiple of the alignment.
        for (size, align) in [
            (1, 1),
            (24, 8),
            (40, 8),
            (48, 16),
            (80, 16),
            (368, 8),
            (4096, 16),
        ] {
            assert!(natural(size, align), "{size} {align}");
        }
        // Not a multiple, wider than 16, or smaller than the alignment: the aligned call.
        for (size, align) in [(24, 16), (8, 16), (0, 1), (64, 32), (4096, 4096), (12, 8)] {
            assert!(!natural(size, align), "{size} {align}");
        }
    }

    /// `N` bytes marked with `i`.
    fn marked<const N: usize>(i: usize) -> [u8; N] {
        std::array::from_fn(|k| (i + k) as u8)
    }

    /// Pushes 700 values one at a time (the vector reallocates across size classes and
    /// between the plain and aligned calls), checking the alignment at each step and every
    /// value at the end, then shrinks it.
    fn grow<T>(make: impl Fn(usize) -> T, same: impl Fn(&T, &T) -> bool) {
        let mut v: Vec<T> = Vec::new();
        for i in 0..700 {
            v.push(make(i));
            assert_eq!(v.as_ptr() as usize % align_of::<T>(), 0);
        }
        assert!(v.iter().enumerate().all(|(i, x)| same(x, &make(i))));
        v.truncate(3);
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % align_of::<T>(), 0);
        assert!(same(&v[2], &make(2)));
    }

    #[test]
    fn every_block_is_aligned_and_keeps_its_bytes() {
        // Through this test binary's global allocator, which is the module's.
        #[repr(align(16))]
        struct A16([u8; 48]);
        #[repr(align(64))]
        struct A64([u8; 96]);
        #[repr(align(4096))]
        struct Page([u8; 40]);
        #[repr(align(16384))]
        struct Wide([u8; 16384]);
        grow(|i| A16(marked(i)), |a, b| a.0 == b.0);
        grow(|i| A64(marked(i)), |a, b| a.0 == b.0);
        grow(marked::<24>, |a, b| a == b);
        grow(|i| ((i as u128) << 64) | i as u128, |a, b| a == b);
        // Boxes kept alive side by side: blocks of the 96-byte class lie 96 bytes apart, so
        // a plain block for a 32-aligned value of 96 bytes would be misaligned every other
        // time.
        #[repr(align(32))]
        struct A32([u8; 96]);
        let boxes: Vec<Box<A32>> = (0..300).map(|i| Box::new(A32(marked(i)))).collect();
        for (i, b) in boxes.iter().enumerate() {
            assert_eq!(std::ptr::from_ref::<A32>(b) as usize % 32, 0);
            assert_eq!(b.0, marked::<96>(i));
        }
        for i in 0..300 {
            let page = Box::new(Page(marked(i)));
            assert_eq!(std::ptr::from_ref::<Page>(&page) as usize % 4096, 0);
            assert_eq!(page.0, marked::<40>(i));
            let wide = Box::new(Wide(marked(i)));
            assert_eq!(std::ptr::from_ref::<Wide>(&wide) as usize % 16384, 0);
            assert_eq!(wide.0[..5], marked::<5>(i));
            let zeros = vec![0_u64; i + 1];
            assert!(zeros.iter().all(|&w| w == 0));
            assert_eq!(zeros.as_ptr() as usize % 8, 0);
        }
    }
}
