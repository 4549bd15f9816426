//! The one shape shared by `Plan` and `Scenario`: a JSON document held as text, validated
//! by the core on demand.
//!
//! A document under construction in a notebook is usually wrong several ways at once, so
//! building one never raises for its content: `validate()` lists every problem, and the
//! functions that use it refuse an invalid one with the first. Only text that is not JSON at
//! all (or a Python value with no JSON form) is refused at once. Pickling sends the text.
//! Both classes are written by [`document_class!`] so that they cannot drift apart.

use pyo3::prelude::*;

use crate::error;

/// `text` if it is JSON at all (its other problems wait for `validate()`), else the
/// `InvalidJson` error raised.
pub fn checked(
    py: Python<'_>,
    text: String,
    validate: fn(&str) -> Vec<partnerkit::Error>,
) -> PyResult<String> {
    let problems = error::run(py, || Ok(validate(&text)))?;
    match problems.first() {
        Some(e) if e.code() == partnerkit::ErrorCode::InvalidJson => Err(error::to_py(py, e)),
        _ => Ok(text),
    }
}

/// Every problem of `text`, in document order, as `PartnerkitError` instances (not raised).
pub fn problems<'py>(
    py: Python<'py>,
    text: &str,
    validate: fn(&str) -> Vec<partnerkit::Error>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let problems = error::run(py, || Ok(validate(text)))?;
    problems
        .iter()
        .map(|e| error::instance(py, e.code().as_str(), e.path(), e.message()))
        .collect()
}

/// A hash of the text, consistent with `__eq__` (equal texts, equal documents).
pub fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// `<Class {first 60 characters}...>`.
pub fn repr(class: &str, text: &str) -> String {
    const SHOWN: usize = 60;
    let head: String = text.chars().take(SHOWN).collect();
    let more = if text.chars().nth(SHOWN).is_some() {
        "..."
    } else {
        ""
    };
    format!("<{class} {head}{more}>")
}

/// Declares a frozen `#[pyclass]` holding a document's JSON text, with `from_json`,
/// `from_dict`, `validate`, `to_json`, pickling, equality, hashing and a short repr.
/// `$what` names the document in conversion errors ("plan"), `$validate` is the core's
/// `validate_json` for it.
macro_rules! document_class {
    ($(#[$doc:meta])* $name:ident, $what:literal, $validate:path) => {
        $(#[$doc])*
        #[pyclass(module = "partnerkit._native", frozen)]
        pub struct $name {
            text: String,
        }

        impl $name {
            /// A document holding `text`, already JSON written by the core (a grid point of
            /// a sweep).
            #[allow(dead_code)]
            pub fn from_text(text: String) -> $name {
                $name { text }
            }

            /// The document's JSON text.
            pub fn text(&self) -> &str {
                &self.text
            }
        }

        #[pymethods]
        impl $name {
            #[doc = concat!("A ", $what, " from its JSON text (`str` or `bytes`).")]
            #[staticmethod]
            fn from_json(
                py: pyo3::Python<'_>,
                text: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<$name> {
                let text = $crate::convert::document(text, $what)?.into_owned();
                let text = $crate::document::checked(py, text, $validate)?;
                Ok($name { text })
            }

            #[doc = concat!("A ", $what, " from a `dict` of Python values (decimals as `Decimal` or `str`).")]
            #[staticmethod]
            fn from_dict(
                py: pyo3::Python<'_>,
                doc: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<$name> {
                use pyo3::types::{PyBytes, PyString};
                if doc.is_instance_of::<PyString>() || doc.is_instance_of::<PyBytes>() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(concat!(
                        stringify!($name),
                        ".from_dict takes a dict: use ",
                        stringify!($name),
                        ".from_json for JSON text"
                    )));
                }
                let text = $crate::convert::document(doc, $what)?.into_owned();
                let text = $crate::document::checked(py, text, $validate)?;
                Ok($name { text })
            }

            #[doc = concat!("Every problem of the ", $what, ", in document order, as `PartnerkitError` instances (not raised); empty when it is valid.")]
            fn validate<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<Vec<pyo3::Bound<'py, pyo3::PyAny>>> {
                $crate::document::problems(py, &self.text, $validate)
            }

            /// The document's JSON text, as given (or as written from the dict).
            fn to_json(&self) -> &str {
                &self.text
            }

            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyTuple>> {
                let from_json = slf.get_type().getattr("from_json")?;
                let args = pyo3::types::PyTuple::new(slf.py(), [slf.get().text.as_str()])?;
                pyo3::types::PyTuple::new(slf.py(), [from_json, args.into_any()])
            }

            fn __eq__(&self, other: &pyo3::Bound<'_, pyo3::PyAny>) -> bool {
                other
                    .cast::<$name>()
                    .is_ok_and(|o| o.get().text == self.text)
            }

            fn __hash__(&self) -> u64 {
                $crate::document::text_hash(&self.text)
            }

            fn __repr__(&self) -> String {
                $crate::document::repr(stringify!($name), &self.text)
            }
        }
    };
}

pub(crate) use document_class;
