//! partnerkit for Swift and Kotlin, through uniffi: this crate is the library behind the
//! Swift package `PartnerKit` and the Kotlin package `dev.partnerkit` (Android).
//!
//! Thin by design: each export parses, calls the core through [`partnerkit::guard()`] (so a
//! panic reaches the app as a `PartnerKitError` with code `Internal` and the app lives on),
//! and converts. Documents cross as JSON, the canonical report is the core's own bytes, and
//! only small records are mirrored (entries, statements, balances, validation issues,
//! errors), with decimals as `Decimal` / `BigDecimal` and instants as dates. Two objects
//! hold core state: a [`Report`] and the incremental [`Engine`].

use std::sync::Arc;

use partnerkit::guard;
use rust_decimal::Decimal;

mod convert;
mod engine;
mod error;
mod plan;
mod report;

pub use engine::{Engine, PartnerBalance};
pub use error::{ErrorCode, PartnerKitError};
pub use plan::{Plan, ValidationIssue, validate_plan};
pub use report::{
    Balance, Entry, EntryKind, EntryStatus, Report, Statement, StatementLine, StatementStatus,
};

uniffi::setup_scaffolding!("partnerkit");

/// Evaluates an input document `{plan, partners, events, fx, as_of}` (SPEC §2) into its
/// report. Bad input is a `PartnerKitError` with the code and path of the value at fault.
///
/// `limits_json` is the host's limits (SPEC §1) as a JSON object naming the ceilings to
/// change, e.g. `{"max_events": 100000000}`; absent (the default), the core's defaults apply.
#[uniffi::export(default(limits_json = None))]
pub fn evaluate(
    input_json: String,
    limits_json: Option<String>,
) -> Result<Arc<Report>, PartnerKitError> {
    let report =
        guard(|| partnerkit::evaluate_json_with(&input_json, &limits(limits_json.as_deref())?))?;
    Ok(Arc::new(Report::from(report)))
}

/// The host's limits: the defaults when none are given.
pub(crate) fn limits(json: Option<&str>) -> partnerkit::Result<partnerkit::Limits> {
    json.map_or_else(
        || Ok(partnerkit::Limits::default()),
        partnerkit::Limits::from_json,
    )
}

/// `amount` as an input document may carry it in `currency`, with exactly the currency's
/// minor-unit digits (`49.9` USD is `49.90`): check an amount before writing it into an
/// event. More decimals than the currency has is `InvalidValue` (partnerkit never rounds
/// an input), an unknown code `UnknownCurrency`, beyond 10^18 `LimitExceeded`.
#[uniffi::export]
pub fn amount_in(amount: Decimal, currency: String) -> Result<Decimal, PartnerKitError> {
    Ok(guard(|| partnerkit::input::amount_in(amount, &currency))?)
}

/// The JSON Schema of the plan document (generated from the core's types).
#[uniffi::export]
pub fn plan_json_schema() -> Result<String, PartnerKitError> {
    Ok(guard(|| Ok(partnerkit::json_schema()))?)
}

/// The partnerkit version this library was built from.
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Panics inside the core on purpose. Not part of the API: the test suites call it to
/// prove that a panic reaches Swift and Kotlin as a `PartnerKitError` with code `Internal`
/// and that the app lives on.
#[uniffi::export(name = "_debug_panic")]
pub fn debug_panic(message: String) -> Result<(), PartnerKitError> {
    Ok(guard(|| partnerkit::guard::debug_panic(&message))?)
}
