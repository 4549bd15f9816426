//! `Report`: a handle on the core's report.
//!
//! Its one serialized form is the core's canonical JSON, handed through byte for byte;
//! `to_dict()` builds the same document's typed values from the core's canonical view
//! (`typed::to_python`, docs/adr/0008), without the text between. For
//! DataFrames the entries and statements also come out as columns of the same strings the
//! canonical JSON holds (written by the same core formatters), minus the nested parts
//! (`explain`, `lines`): a million entries then never become a million nested dicts. The
//! facade turns the strings into `Decimal` and `datetime` by `partnerkit::report::FIELD_TYPES`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use partnerkit::money::fmt_amount;
use partnerkit::report::FieldType;
use partnerkit::time::fmt_instant;

use crate::error;

/// The result of an evaluation.
#[pyclass(module = "partnerkit._native", frozen)]
pub struct Report {
    inner: partnerkit::Report,
}

impl Report {
    /// Wraps a core report.
    pub fn new(inner: partnerkit::Report) -> Self {
        Report { inner }
    }
}

/// The name a field type has in `_native.report_field_types()`.
pub fn field_type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Decimal => "decimal",
        FieldType::Instant => "instant",
        FieldType::Date => "date",
        // `FieldType` is non-exhaustive: a new kind reads as text until the facade knows it.
        _ => "text",
    }
}

/// Builds a `{name: list}` dict from columns filled row by row.
struct Table<const N: usize> {
    names: [&'static str; N],
    columns: [Vec<Option<String>>; N],
}

impl<const N: usize> Table<N> {
    fn new(names: [&'static str; N], rows: usize) -> Self {
        Table {
            names,
            columns: std::array::from_fn(|_| Vec::with_capacity(rows)),
        }
    }

    fn row(&mut self, cells: [Option<String>; N]) {
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            column.push(cell);
        }
    }

    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let out = PyDict::new(py);
        for (name, column) in self.names.into_iter().zip(self.columns) {
            out.set_item(name, PyList::new(py, column)?)?;
        }
        Ok(out)
    }
}

#[pymethods]
impl Report {
    /// The canonical JSON (SPEC §11): the core's bytes, identical in every binding.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        error::run(py, || Ok(self.inner.to_canonical_json()))
    }

    /// The canonical report as typed Python values (the facade's `to_dict()`): the dicts
    /// `json.loads(to_json(), object_pairs_hook=_typed)` gives, built from the core's view
    /// of the report without writing and parsing its text.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::typed::to_python(py, &self.inner.canonical_view())
    }

    /// The entries as columns of canonical strings (everything but `explain`).
    fn entry_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let mut t = Table::new(partnerkit::ledger::ENTRY_COLUMNS, r.entries.len());
        for (e, status) in r.entries.iter().zip(&r.statuses) {
            t.row([
                Some(e.id.to_string()),
                Some(e.partner.to_string()),
                Some(e.kind.as_str().to_owned()),
                Some(e.event.to_string()),
                e.customer.as_ref().map(|c| c.to_string()),
                e.rule.as_ref().map(|c| c.to_string()),
                Some(fmt_amount(e.amount, e.currency.digits())),
                Some(e.currency.as_str().to_owned()),
                Some(status.as_str().to_owned()),
                Some(fmt_instant(e.earned_at)),
                Some(fmt_instant(e.available_at)),
            ]);
        }
        t.into_py(py)
    }

    /// The statements as columns of canonical strings (everything but `lines`; `payable` is
    /// a column of `bool`).
    fn statement_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let mut t = Table::new(
            [
                "partner",
                "period",
                "start",
                "end",
                "currency",
                "opening_balance",
                "credits",
                "debits",
                "closing_balance",
                "threshold",
                "payable",
                "payout",
                "carried_forward",
                "written_off",
                "due",
                "status",
            ],
            r.statements.len(),
        );
        for s in &r.statements {
            let money = |x| Some(fmt_amount(x, s.currency.digits()));
            t.row([
                Some(s.partner.to_string()),
                Some(s.period.label()),
                Some(fmt_instant(s.start)),
                Some(fmt_instant(s.end)),
                Some(s.currency.as_str().to_owned()),
                money(s.opening_balance),
                money(s.credits),
                money(s.debits),
                money(s.closing_balance),
                money(s.threshold),
                None, // payable: bools, set below
                money(s.payout),
                money(s.carried_forward),
                money(s.written_off),
                Some(s.due.to_string()),
                Some(s.status.as_str().to_owned()),
            ]);
        }
        let out = t.into_py(py)?;
        // Replaces the column of the same name in place: the key keeps its position.
        let payable: Vec<bool> = r.statements.iter().map(|s| s.payable).collect();
        out.set_item("payable", payable)?;
        Ok(out)
    }

    /// A partner's balances as of the report, per currency: `(currency, pending,
    /// available)` with amounts as canonical strings; paid entries are excluded.
    fn balances(&self, partner: &str) -> Vec<(String, String, String)> {
        self.inner
            .balances(partner)
            .into_iter()
            .map(|(c, pending, available)| {
                (
                    c.as_str().to_owned(),
                    fmt_amount(pending, c.digits()),
                    fmt_amount(available, c.digits()),
                )
            })
            .collect()
    }

    /// Number of ledger entries.
    fn __len__(&self) -> usize {
        self.inner.entries.len()
    }

    fn __repr__(&self) -> String {
        let r = &self.inner;
        format!(
            "<Report plan={:?} as_of={} entries={} statements={}>",
            r.plan,
            fmt_instant(r.as_of),
            r.entries.len(),
            r.statements.len()
        )
    }
}
