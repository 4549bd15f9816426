//! `evaluate_arrow`: the core's columnar fast path fed from any Arrow stream.
//!
//! Events arrive through the Arrow PyCapsule interface (`__arrow_c_stream__`: a pyarrow
//! Table or RecordBatchReader, a polars DataFrame, ...), so their buffers are read in place
//! rather than copied through Python objects; the ledger and the totals leave as pyarrow
//! Tables built from the core's record batches through the same interface.

use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// What `evaluate_arrow` returns: the ledger and totals tables, and which path ran.
type Evaluated<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Option<String>);

/// Evaluates Arrow `events` for the document `doc` (`{plan, partners, as_of}`, with
/// `events` empty) under the host's `limits` (a `dict` or JSON text of the fields to
/// change): the ledger (`explain` adds each entry's explanation), the totals per partner
/// and currency, and `None` when the fast path ran natively, else why the canonical path
/// ran.
#[pyfunction]
#[pyo3(signature = (doc, events, explain=false, limits=None))]
pub fn evaluate_arrow<'py>(
    py: Python<'py>,
    doc: &Bound<'py, PyAny>,
    events: PyTable,
    explain: bool,
    limits: Option<&Bound<'py, PyAny>>,
) -> PyResult<Evaluated<'py>> {
    let text = crate::convert::document(doc, "")?;
    let limits = crate::convert::limits_text(limits)?;
    let (batches, _schema) = events.into_inner();
    let (ledger, totals, path) = crate::error::run(py, || {
        let limits = crate::convert::limits(limits.as_deref())?;
        let input = limits.parse_input(&text)?;
        let program = partnerkit::fast::Program::with_limits(input.plan, limits);
        let currency = program.plan().doc().currency;
        let events = partnerkit::fast::arrow::events_from_batches(&batches, currency)?;
        drop(batches);
        // The events are handed over: the ledger takes their ids rather than a copy, and
        // the rest is freed while the ledger is put in order.
        let out = program.evaluate_columns_owned(
            &input.partners,
            events,
            input.as_of,
            &partnerkit::fast::Options { explain },
        )?;
        // The totals are summed while the ledger's columns are written.
        let (ledger, totals) = partnerkit::fast::arrow::ledger_and_totals_into_batches(out.ledger)?;
        let path = match out.path {
            partnerkit::fast::Path::Native => None,
            partnerkit::fast::Path::Canonical { reason } => Some(reason),
        };
        Ok((ledger, totals, path))
    })?;
    let table = |b: arrow_array_batch::RecordBatch| -> PyResult<Bound<'py, PyAny>> {
        let schema = b.schema();
        PyTable::try_new(vec![b], schema)?.into_pyarrow(py)
    };
    Ok((table(ledger)?, table(totals)?, path))
}

/// The record batch type pyo3-arrow and the core share.
mod arrow_array_batch {
    pub use partnerkit::fast::arrow::RecordBatch;
}
