//! partnerkit for Node.js: a thin napi-rs layer over the core crate.
//!
//! Every export parses its arguments, calls the core inside [`partnerkit::guard()`] (so a bug
//! throws an `Error` with code `Internal` instead of aborting the process), and converts the
//! result. Documents cross as JSON text; reports stay Rust values until asked for, and their
//! JSON is the core's canonical bytes. Money is always a decimal string.

mod convert;
mod engine;
mod error;
mod plan;
mod report;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Task};
use napi_derive::napi;

pub use engine::{Engine, PartnerBalance};
pub use plan::{Plan, Problem};
pub use report::{Balance, Report};

/// Evaluates an input document `{plan, partners, events, fx, as_of}` (a JSON string or an
/// object) under the host's `limits` (the fields to change, e.g. `{max_events: 100000000}`;
/// the defaults otherwise) and returns its report. Throws an `Error` with `code`, `path` and
/// `message`.
#[napi(ts_args_type = "input: string | InputDocument, limits?: string | HostLimits | null")]
pub fn evaluate(env: Env, input: Unknown, limits: Option<Unknown>) -> napi::Result<Report> {
    let text = convert::document_text(&env, "the input", input)?;
    let limits = convert::limits_text(&env, limits)?;
    let report = error::call(&env, || {
        partnerkit::evaluate_json_with(&text, &convert::limits(limits.as_deref())?)
    })?;
    Ok(Report::new(report))
}

/// Like `evaluate`, but parses and evaluates on a worker thread of the libuv pool and
/// returns a promise; only turning an object input into JSON happens on the calling thread.
#[napi(
    ts_args_type = "input: string | InputDocument, limits?: string | HostLimits | null",
    ts_return_type = "Promise<Report>"
)]
pub fn evaluate_async(
    env: Env,
    input: Unknown,
    limits: Option<Unknown>,
) -> napi::Result<AsyncTask<EvaluateTask>> {
    let text = convert::document_text(&env, "the input", input)?;
    let limits = convert::limits_text(&env, limits)?;
    Ok(AsyncTask::new(EvaluateTask {
        text,
        limits,
        run: |text, limits| partnerkit::evaluate_json_with(text, &convert::limits(limits)?),
    }))
}

/// An evaluation run off the main thread.
pub struct EvaluateTask {
    text: String,
    /// The host limits as JSON text, read on the worker so that their errors reject the
    /// promise like the document's.
    limits: Option<String>,
    run: fn(&str, Option<&str>) -> partnerkit::Result<partnerkit::Report>,
}

impl Task for EvaluateTask {
    type Output = partnerkit::Result<partnerkit::Report>;
    type JsValue = Report;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        // The core's error is carried to `resolve`, which runs on the main thread and can
        // build the JS `Error` with its code and path.
        let text = std::mem::take(&mut self.text);
        let limits = self.limits.take();
        let run = self.run;
        Ok(partnerkit::guard(|| run(&text, limits.as_deref())))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Report> {
        output.map(Report::new).map_err(|e| error::to_js(&env, &e))
    }
}

/// Not part of the API: panics inside the core so tests can check that the panic throws an
/// `Error` with code `Internal` and the process lives on.
#[napi(js_name = "_debugPanic")]
pub fn debug_panic(env: Env, message: String) -> napi::Result<()> {
    error::call(&env, || partnerkit::guard::debug_panic(&message))
}

/// Not part of the API: like `_debugPanic`, on the worker thread of `evaluateAsync`.
#[napi(js_name = "_debugPanicAsync", ts_return_type = "Promise<never>")]
pub fn debug_panic_async(message: String) -> AsyncTask<EvaluateTask> {
    AsyncTask::new(EvaluateTask {
        text: message,
        limits: None,
        run: |m, _| {
            partnerkit::guard::debug_panic(m)?;
            Err(error::invalid("", "debug_panic returned"))
        },
    })
}
