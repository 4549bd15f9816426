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
    try_lift: |s| decimal(&s),
});

/// Reads the text of a host decimal. The error is a `PartnerKitError` inside uniffi's
/// `anyhow::Error`: uniffi hands an argument's lift error of the function's own error type
/// to the caller as that error, so the app gets `LimitExceeded` / `InvalidValue`, not a crash.
fn decimal(text: &str) -> uniffi::Result<Decimal> {
    Dec::parse(text, "").map_err(|e| PartnerKitError::from(e).into())
}

/// An instant as Swift `Date` / Kotlin `java.time.Instant`.
pub(crate) fn time(t: Instant) -> SystemTime {
    SystemTime::from(t)
}

/// A money amount with exactly its currency's minor-unit digits, as the canonical report
/// writes it: `9.8` USD crosses as `9.80`.
pub(crate) fn money(x: Decimal, c: Currency) -> Decimal {
    with_minor_unit(x, c.digits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn host_decimals_cross_exactly_or_as_errors() {
        assert_eq!(decimal("-12.340").unwrap().to_string(), "-12.340");
        let code = |text: &str| match decimal(text).unwrap_err().downcast::<PartnerKitError>() {
            Ok(PartnerKitError::Failed { code, .. }) => code,
            Err(e) => panic!("not a PartnerKitError: {e}"),
        };
        assert_eq!(
            code("1.0000000000000000000000000001"),
            ErrorCode::LimitExceeded
        );
        assert_eq!(code("NaN"), ErrorCode::InvalidValue);
    }

    #[test]
    fn money_has_the_currency_digits() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(money(Decimal::new(98, 1), usd).to_string(), "9.80");
        let mut negative_zero = Decimal::new(0, 3);
        negative_zero.set_sign_negative(true);
        assert_eq!(money(negative_zero, usd).to_string(), "0.00");
    }
}
