//! Scalar conversions at the boundary: decimals, instants, dates and money digits.
//!
//! Decimals cross as their exact text (Foundation `Decimal` in Swift, `java.math.BigDecimal`
//! in Kotlin, per `uniffi.toml`), never as floats. Text that is not a decimal partnerkit can
//! hold exactly is refused the way a document's decimal is, as a `PartnerKitError`.

use std::time::SystemTime;

use partnerkit::dec::Dec;
use partnerkit::money::{Currency, with_minor_unit};
use partnerkit::time::Instant;
use rust_decimal::Decimal;

use crate::PartnerKitError;

uniffi::custom_type!(Decimal, String, {
    remote,
    lower: |d| d.to_string(),
    // The error is a `PartnerKitError`, so uniffi hands it to the caller as one.
    try_lift: |s| Dec::parse(&s, "").map_err(|e| PartnerKitError::from(e).into()),
});

/// An instant as Swift `Date` / Kotlin `java.time.Instant`.
pub(crate) fn time(t: Instant) -> SystemTime {
    SystemTime::from(t)
}

/// A money amount with exactly its currency's minor-unit digits, as the canonical report
/// writes it: `9.8` USD crosses as `9.80`.
pub(crate) fn money(x: Decimal, c: Currency) -> Decimal {
    with_minor_unit(x, c.digits())
}
