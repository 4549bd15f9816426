//! `Plan`: a plan document held as JSON text, validated by the core on demand.
//!
//! A plan under construction in a notebook or an admin form is usually wrong several ways at
//! once, so building one never raises for its content: `validate()` lists every problem,
//! and `evaluate` refuses an invalid plan with the first one. Only text that is not JSON at
//! all (or a Python value with no JSON form) is refused at once. Pickling sends the text.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::{convert, error};

/// A plan document (`{"schema": "partnerkit/plan@1", ...}`).
#[pyclass(module = "partnerkit._native", frozen)]
pub struct Plan {
    text: String,
}

impl Plan {
    /// A plan holding `text` (already JSON: a grid point of a sweep, written by the core).
    pub fn from_text(text: String) -> Plan {
        Plan { text }
    }

    /// The document's JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn checked(py: Python<'_>, text: String) -> PyResult<Plan> {
        let problems = error::run(py, || Ok(partnerkit::Plan::validate_json(&text)))?;
        match problems.first() {
            Some(e) if e.code() == partnerkit::ErrorCode::InvalidJson => Err(error::to_py(py, e)),
            _ => Ok(Plan { text }),
        }
    }
}

#[pymethods]
impl Plan {
    /// A plan from its JSON text (`str` or `bytes`).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Plan> {
        let text = convert::document(text, "plan")?.into_owned();
        Plan::checked(py, text)
    }

    /// A plan from a `dict` of Python values (decimals as `Decimal` or `str`).
    #[staticmethod]
    fn from_dict(py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<Plan> {
        if doc.is_instance_of::<PyString>() || doc.is_instance_of::<PyBytes>() {
            return Err(PyTypeError::new_err(
                "Plan.from_dict takes a dict: use Plan.from_json for JSON text",
            ));
        }
        let text = convert::document(doc, "plan")?.into_owned();
        Plan::checked(py, text)
    }

    /// Every problem of the plan, in document order, as `PartnerkitError` instances (not
    /// raised); empty when the plan is valid.
    fn validate<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let problems = error::run(py, || Ok(partnerkit::Plan::validate_json(&self.text)))?;
        problems
            .iter()
            .map(|e| error::instance(py, e.code().as_str(), e.path(), e.message()))
            .collect()
    }

    /// The document's JSON text, as given (or as written from the dict).
    fn to_json(&self) -> &str {
        &self.text
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let from_json = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().text.as_str()])?;
        PyTuple::new(slf.py(), [from_json, args.into_any()])
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Plan>()
            .is_ok_and(|o| o.get().text == self.text)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.text.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        const SHOWN: usize = 60;
        let head: String = self.text.chars().take(SHOWN).collect();
        let more = if self.text.chars().nth(SHOWN).is_some() {
            "..."
        } else {
            ""
        };
        format!("<Plan {head}{more}>")
    }
}
