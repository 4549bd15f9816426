//! `partnerkit._native`: the native half of the Python package `partnerkit`.
//!
//! A thin layer over the core (see the repository's ARCHITECTURE.md): each function turns
//! its Python argument into the JSON document the core reads (`convert`), calls the core
//! with the GIL released and panics contained (`error::run`; `Engine.apply` of one dict
//! keeps the GIL, `engine`), and hands the result back —
//! reports as handles whose canonical JSON is the core's own bytes (`report`). The Python
//! facade (`python/partnerkit/__init__.py`) adds DataFrame and Arrow input and typed views;
//! `engine` is the incremental engine behind a mutex; `simulate` the simulator's scenario
//! and functions (Monte Carlo, backtests, sweeps), whose results cross as the core's JSON.
//! The module's allocator and the options it sets on import are the workspace crate
//! `partnerkit-alloc`'s, which the core's `fast_alloc` benchmark uses too.

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
mod typed;

/// The module's global allocator: mimalloc, through `partnerkit-alloc` (whose crate docs say
/// why, and why not every block is asked for by its alignment).
#[global_allocator]
static GLOBAL: partnerkit_alloc::Natural = partnerkit_alloc::Natural;

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

    /// Sets the allocator's options when the module is imported
    /// (`partnerkit_alloc::configure`).
    #[pymodule_init]
    fn init(_m: &Bound<'_, PyModule>) -> PyResult<()> {
        partnerkit_alloc::configure();
        Ok(())
    }

    /// The core's canonical JSON `text` (statements, progress, a report) as Python values,
    /// typed as the facade types them: `Decimal`, aware `datetime` and `date` under the keys
    /// `report_field_types()` names, everything else as `json.loads` reads it. The facade's
    /// `Engine.statements()` and `Engine.progress()` read through it (private: text that is
    /// not the core's JSON is an `Internal` error).
    #[pyfunction]
    fn _typed_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::typed_json(py, text)
    }

    /// JSON `text` read into `serde_json` values, then built through the serializer that
    /// `Entry` and `Report.to_dict()` build the core's views with (`typed::to_python`): for
    /// the tests, which hold it to `_typed_json` on documents no vector has.
    #[pyfunction]
    fn _typed_serialized<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| crate::error::raise(py, "InvalidJson", "", &format!("not JSON: {e}")))?;
        crate::typed::to_python(py, &value)
    }

    /// The allocator's options the module sets, as they stand: name to value (for the
    /// tests; mimalloc's names).
    #[pyfunction]
    fn _allocator_options() -> Vec<(&'static str, i64)> {
        partnerkit_alloc::options()
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
