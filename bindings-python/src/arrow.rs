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

/// Evaluates Arrow `events` for the document `doc` (`{plan, partners, fx, as_of}`, with
/// `events` empty) under the host's `limits` (a `dict` or JSON text of the fields to
/// change): the ledger (`explain` adds each entry's explanation), the totals per partner
/// and currency, and `None` when the fast path ran natively, else why the canonical path
/// ran. `columns` (a sequence of names) writes only those ledger columns, in the canonical
/// order; `None` writes them all.
#[pyfunction]
#[pyo3(signature = (doc, events, explain=false, limits=None, columns=None))]
pub fn evaluate_arrow<'py>(
    py: Python<'py>,
    doc: &Bound<'py, PyAny>,
    events: PyTable,
    explain: bool,
    limits: Option<&Bound<'py, PyAny>>,
    columns: Option<&Bound<'py, PyAny>>,
) -> PyResult<Evaluated<'py>> {
    // The columns are checked before anything is evaluated: a typo costs no evaluation.
    let columns = match columns {
        None => partnerkit::fast::arrow::LedgerColumns::all(),
        Some(c) => {
            let c = partnerkit::fast::arrow::LedgerColumns::from_names(&column_names(c)?)
                .map_err(|e| crate::error::to_py(py, &e))?;
            c.check_explain(explain)
                .map_err(|e| crate::error::to_py(py, &e))?;
            c
        }
    };
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
            &input.fx,
            input.as_of,
            &partnerkit::fast::Options { explain },
        )?;
        // The totals are summed while the ledger's columns are written.
        let (ledger, totals) =
            partnerkit::fast::arrow::ledger_and_totals_into_batches_with(out.ledger, &columns)?;
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

/// The names in `columns`: any iterable of `str` but a `str` itself (whose letters would be
/// taken for names). Anything else is `InvalidValue` at `columns` or at the item's path.
fn column_names(columns: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let py = columns.py();
    let not_names = || {
        crate::error::raise(
            py,
            "InvalidValue",
            "columns",
            "expected a sequence of column names (a list of str)",
        )
    };
    if columns.is_instance_of::<pyo3::types::PyString>() {
        return Err(not_names());
    }
    let items = columns.try_iter().map_err(|_| not_names())?;
    let mut names = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let name = item.cast::<pyo3::types::PyString>().map_err(|_| {
            crate::error::raise(
                py,
                "InvalidValue",
                &format!("columns[{i}]"),
                "expected a column name (str)",
            )
        })?;
        names.push(name.to_str()?.to_owned());
    }
    Ok(names)
}

/// The record batch type pyo3-arrow and the core share.
mod arrow_array_batch {
    pub use partnerkit::fast::arrow::RecordBatch;
}
