//! `partnerkit._native`: the native half of the Python package `partnerkit`.
//!
//! A thin layer over the core (see the repository's ARCHITECTURE.md): each function turns
//! its Python argument into the JSON document the core reads (`convert`), calls the core
//! with the GIL released and panics contained (`error::run`), and hands the result back —
//! reports as handles whose canonical JSON is the core's own bytes (`report`). The Python
//! facade (`python/partnerkit/__init__.py`) adds DataFrame and Arrow input and typed views;
//! `engine` is the incremental engine behind a mutex; `simulate` the simulator's scenario
//! and functions (Monte Carlo, backtests, sweeps), whose results cross as the core's JSON.

mod arrow;
mod convert;
mod document;
mod engine;
mod entry;
mod error;
mod event;
mod plan;
mod report;
mod simulate;

/// The extension module's global allocator: mimalloc instead of the system's (glibc's
/// malloc on Linux). glibc serves every block above its mmap threshold (at most 32 MB) with
/// its own `mmap` and returns it on free, so each large column of an `evaluate_arrow` call
/// (the imported events, the id pass's buffers, the ledger) is fresh pages that the kernel
/// faults in and clears on first touch, on every call. mimalloc keeps freed memory in its
/// arenas (purged after `purge_delay`, 1 s in its version 3) and hands it out again, so a
/// notebook that evaluates one backtest after another reuses the pages of the previous
/// call (a first call in a fresh process still pays for fresh pages); `Engine.apply`'s
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

/// The module `partnerkit._native`.
#[pyo3::pymodule]
mod _native {
    use pyo3::prelude::*;
    use pyo3::types::PyDict;

    #[pymodule_export]
    use crate::arrow::evaluate_arrow;
    #[pymodule_export]
    use crate::convert::Columns;
    #[pymodule_export]
    use crate::engine::Engine;
    #[pymodule_export]
    use crate::entry::Entry;
    #[pymodule_export]
    use crate::event::_reads_natively;
    #[pymodule_export]
    use crate::plan::Plan;
    #[pymodule_export]
    use crate::report::Report;
    #[pymodule_export]
    use crate::simulate::{
        Scenario, compare_json, scenario_json_schema, simulate_json, sweep_points,
    };

    /// Evaluates an input document (a JSON `str`/`bytes`, or a `dict` of Python values)
    /// under the host's `limits` (a `dict` or JSON text of the fields to change).
    #[pyfunction]
    #[pyo3(signature = (input, limits=None))]
    fn evaluate(
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Report> {
        let text = crate::convert::document(input, "")?;
        let limits = crate::convert::limits_text(limits)?;
        let report = crate::error::run(py, || {
            partnerkit::evaluate_json_with(&text, &crate::convert::limits(limits.as_deref())?)
        })?;
        Ok(Report::new(report))
    }

    /// Every error code, in the core's declaration order.
    #[pyfunction]
    fn error_codes() -> Vec<&'static str> {
        partnerkit::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect()
    }

    /// The typed strings of the canonical report: key -> "decimal" | "instant" | "date".
    #[pyfunction]
    fn report_field_types(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let out = PyDict::new(py);
        for (key, t) in partnerkit::report::FIELD_TYPES {
            out.set_item(key, crate::report::field_type_name(*t))?;
        }
        Ok(out)
    }

    /// The plan JSON Schema, generated from the core's types.
    #[pyfunction]
    fn plan_json_schema(py: Python<'_>) -> PyResult<String> {
        crate::error::run(py, || Ok(partnerkit::json_schema()))
    }

    /// Panics inside the core on purpose, so tests can show that a panic arrives as a
    /// catchable `InternalError` and the interpreter lives on.
    #[pyfunction]
    fn _debug_panic(py: Python<'_>, message: &str) -> PyResult<()> {
        crate::error::run(py, || partnerkit::guard::debug_panic(message))
    }
}
