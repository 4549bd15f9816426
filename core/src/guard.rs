//! Panic containment for foreign boundaries.
//!
//! A bug in partnerkit must never abort the host process of a Python, Node or mobile app.
//! Every binding runs its calls into the core through [`guard`], which turns a panic into
//! an [`Error`] with code `Internal` that the binding raises like any other error.
//! [`debug_panic`] exists so that each binding's test suite can prove it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, ErrorCode, Result};

/// Runs `f`, turning a panic into an `Internal` error that carries the panic message.
///
/// Bindings hold no state that a panic could leave half-updated across this call, except
/// engines, which they replace only after a successful call; hence `AssertUnwindSafe`.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            Err(Error::new(
                ErrorCode::Internal,
                "",
                format!("partnerkit panicked (a bug: please report it): {what}"),
            ))
        }
    }
}

/// Panics on purpose, inside the core.
///
/// Not part of any program's logic: bindings expose it under a private name so that their
/// tests can check that a panic reaches the host language as a catchable `Internal` error
/// and that the process lives on.
pub fn debug_panic(message: &str) -> Result<()> {
    panic!("deliberate panic for testing: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let err = guard(|| debug_panic("boom")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(err.message().contains("boom"), "{}", err.message());
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(guard(|| Ok(7)).unwrap(), 7);
        let err =
            guard::<()>(|| Err(Error::new(ErrorCode::InvalidValue, "/x", "bad"))).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidValue);
    }
}
