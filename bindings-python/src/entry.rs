//! `Entry`: one ledger entry returned by `Engine.apply`, a read-only mapping whose values
//! are built when they are read.
//!
//! `apply` is on every webhook's path, and most callers read two or three fields of what it
//! returns (the amount, the status), if any. So an entry holds the core's entry (its
//! explanation still typed data, not JSON) with its status and the plan's rounding and
//! currency that its explanation shows, and builds a value on access: a field's canonical
//! text typed as the facade types it (`convert::typed_str`: `Decimal`, aware `datetime`),
//! the explanation built from the core's canonical view of it (`typed::to_python`: what
//! `convert::typed_json` makes of its canonical JSON, without the text). `to_dict()` is
//! that same typing of the whole entry: exactly the dict `apply` returned before.

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType};

use partnerkit::ledger::ENTRY_COLUMNS;
use partnerkit::money::{Currency, Rounding};
use partnerkit::report::Status;

use crate::{convert, typed};

/// The keys of an entry, in the order of its canonical JSON: the ledger's columns, then the
/// explanation.
const KEYS: [&str; ENTRY_COLUMNS.len() + 1] = {
    let mut keys = ["explain"; ENTRY_COLUMNS.len() + 1];
    let mut i = 0;
    while i < ENTRY_COLUMNS.len() {
        keys[i] = ENTRY_COLUMNS[i];
        i += 1;
    }
    keys
};

static KEYS_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ITEMS_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static VALUES_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// One ledger entry with its status as of the event that wrote it: a read-only mapping with
/// the keys and typed values of the entry's dict in a report (`to_dict()` gives that dict).
#[pyclass(module = "partnerkit._native", frozen, mapping)]
pub struct Entry {
    entry: partnerkit::ledger::Entry,
    status: Status,
    /// The plan's rounding and currency, which the explanation shows.
    rounding: Rounding,
    plan_currency: Currency,
}

impl Entry {
    /// An entry written by the engine, with what its explanation needs from the plan.
    pub fn new(
        entry: partnerkit::ledger::Entry,
        status: Status,
        rounding: Rounding,
        plan_currency: Currency,
    ) -> Entry {
        Entry {
            entry,
            status,
            rounding,
            plan_currency,
        }
    }

    /// The position of `key` in [`KEYS`], if it is an entry's key.
    fn index(key: &Bound<'_, PyAny>) -> Option<usize> {
        let s = key.cast::<PyString>().ok()?.to_str().ok()?;
        KEYS.iter().position(|k| *k == s)
    }

    /// The typed value of the key at `i`: the canonical JSON's value, typed as the facade's
    /// `_typed` hook types it.
    fn value<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyAny>> {
        let e = &self.entry;
        let text = |s: &str| convert::typed_str(py, KEYS[i], s);
        let optional = |s: Option<&str>| match s {
            Some(s) => text(s),
            None => Ok(py.None().into_bound(py)),
        };
        match KEYS[i] {
            "id" => text(&e.id),
            "partner" => text(&e.partner),
            "kind" => text(e.kind.as_str()),
            "event" => text(&e.event),
            "customer" => optional(e.customer.as_deref()),
            "rule" => optional(e.rule.as_deref()),
            "amount" => text(&partnerkit::money::fmt_amount(
                e.amount,
                e.currency.digits(),
            )),
            "currency" => text(e.currency.as_str()),
            "status" => text(self.status.as_str()),
            "earned_at" => text(&partnerkit::time::fmt_instant(e.earned_at)),
            "available_at" => text(&partnerkit::time::fmt_instant(e.available_at)),
            _ => typed::to_python(py, &e.explain_view(self.rounding, self.plan_currency)),
        }
    }

    /// `collections.abc.<name>(self)`: the views a `Mapping` gives, so `keys()`, `items()`
    /// and `values()` compare and iterate like a dict's.
    fn view<'py>(
        slf: &Bound<'py, Self>,
        cell: &PyOnceLock<Py<PyType>>,
        name: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        cell.import(slf.py(), "collections.abc", name)?
            .call1((slf,))
    }
}

#[pymethods]
impl Entry {
    /// Unhashable, like the dict it stands for (and it compares equal to one).
    #[classattr]
    const __hash__: Option<Py<PyAny>> = None;

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match Entry::index(key) {
            Some(i) => self.value(py, i),
            None => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn __len__(&self) -> usize {
        KEYS.len()
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        Entry::index(key).is_some()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let keys = PyList::new(py, KEYS.iter().map(|k| PyString::intern(py, k)))?;
        Ok(keys.as_any().try_iter()?.into_any())
    }

    /// The value of `key`, or `default` when it is not an entry's key.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match Entry::index(key) {
            Some(i) => self.value(py, i),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    /// The keys, as a `collections.abc.KeysView`.
    fn keys<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Entry::view(slf, &KEYS_VIEW, "KeysView")
    }

    /// The (key, value) pairs, as a `collections.abc.ItemsView`.
    fn items<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Entry::view(slf, &ITEMS_VIEW, "ItemsView")
    }

    /// The values, as a `collections.abc.ValuesView`.
    fn values<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Entry::view(slf, &VALUES_VIEW, "ValuesView")
    }

    /// The entry as a plain dict: the same dict (keys, order and typed values) as the
    /// entry's item in `Report.to_dict()["entries"]`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let view = self
            .entry
            .canonical_view(self.status, self.rounding, self.plan_currency);
        typed::to_python(py, &view)
    }

    /// Equal to another entry or a mapping exactly when `to_dict()` is.
    fn __richcmp__<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let other = if let Ok(o) = other.cast::<Entry>() {
            o.get().to_dict(py)?
        } else if other.is_instance_of::<PyDict>() {
            other.clone()
        } else {
            return Ok(py.NotImplemented());
        };
        match op {
            CompareOp::Eq | CompareOp::Ne => {
                Ok(self.to_dict(py)?.rich_compare(other, op)?.unbind())
            }
            _ => Ok(py.NotImplemented()),
        }
    }

    fn __repr__(&self) -> String {
        let e = &self.entry;
        format!(
            "<Entry {} {} {} {}>",
            e.id,
            partnerkit::money::fmt_amount(e.amount, e.currency.digits()),
            e.currency.as_str(),
            self.status.as_str()
        )
    }

    /// An entry is immutable: a copy is the entry itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// An entry is immutable: a deep copy is the entry itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// Entries do not pickle (they hold the engine's typed entry, which has no stable byte
    /// form of its own): pickle `to_dict()`, a plain dict of the same values.
    fn __reduce__(&self) -> PyResult<Py<PyAny>> {
        Err(PyTypeError::new_err(
            "cannot pickle a partnerkit Entry: pickle entry.to_dict(), a plain dict of the \
             same values",
        ))
    }
}
