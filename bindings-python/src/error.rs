//! Errors: a core `Error` is raised as the `partnerkit.PartnerkitError` subclass of its code.
//!
//! The exception classes live in Python (`partnerkit/_errors.py`) because most of them are
//! also `ValueError`s, and multiple inheritance is plain there. Every call into the core goes
//! through [`run`]: the GIL is released while the core works, and a panic comes back as an
//! `Internal` error instead of tearing through the interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// `partnerkit._errors.ERRORS`: code -> exception class.
static CLASSES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
/// `partnerkit._errors.PartnerkitError`, for a code the table does not know.
static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Runs a call into the core with the GIL released and panics turned into `Internal`.
pub fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> partnerkit::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| partnerkit::guard(f))
        .map_err(|e| raise(py, e.code().as_str(), e.path(), e.message()))
}

/// The core's error as the Python exception to raise.
pub fn to_py(py: Python<'_>, e: &partnerkit::Error) -> PyErr {
    raise(py, e.code().as_str(), e.path(), e.message())
}

/// The exception of `code` at `path`; if the classes cannot be loaded, that failure.
pub fn raise(py: Python<'_>, code: &str, path: &str, message: &str) -> PyErr {
    match instance(py, code, path, message) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// An exception object (not raised): what `Plan.validate` returns, one per problem.
pub fn instance<'py>(
    py: Python<'py>,
    code: &str,
    path: &str,
    message: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let classes = CLASSES.import(py, "partnerkit._errors", "ERRORS")?;
    let class = match classes.get_item(code)? {
        Some(c) => c,
        None => BASE
            .import(py, "partnerkit._errors", "PartnerkitError")?
            .clone()
            .into_any(),
    };
    class.call1((code, path, message))
}
