//! partnerkit errors as JavaScript `Error`s with `code`, `path` and `message`.
//!
//! The core's error is the whole story (stable code, document path, a sentence saying what
//! was found and what was expected), so the binding copies it onto a plain `Error` rather than
//! inventing a class hierarchy: `err.code === "InvalidValue"` is what callers switch on.

use napi::bindgen_prelude::{JsObjectValue, Status};
use napi::{Env, JsValue};

/// Builds the JS `Error` for a core error and hands it to napi to throw (or to reject a
/// promise with): napi throws the very object it references.
pub fn to_js(env: &Env, e: &partnerkit::Error) -> napi::Error {
    build(env, e).unwrap_or_else(|fallback| fallback)
}

fn build(env: &Env, e: &partnerkit::Error) -> Result<napi::Error, napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.message()))?;
    obj.set_named_property("code", e.code().as_str())?;
    obj.set_named_property("path", e.path())?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// Runs `f` inside the core's panic guard and turns its error into a JS `Error`.
pub fn call<T>(env: &Env, f: impl FnOnce() -> partnerkit::Result<T>) -> napi::Result<T> {
    partnerkit::guard(f).map_err(|e| to_js(env, &e))
}

/// An error about an argument itself (not its content), at `path` (`""`: the document).
pub fn invalid(path: &str, message: impl Into<String>) -> partnerkit::Error {
    partnerkit::Error::new(partnerkit::ErrorCode::InvalidValue, path, message)
}
