//! Errors: one error enum whose one case carries the core's code, path and message.
//!
//! Every export runs the core through [`partnerkit::guard()`], so bad input and bugs alike
//! reach Swift as a thrown `PartnerKitError` and Kotlin as a `PartnerKitException`, never as
//! a crash: a panic becomes code `Internal`.

use std::fmt;

use partnerkit::ErrorCode as Core;

/// The stable code of an error: the same names as the core, the CLI and every binding
/// (`InvalidJson`, `InvalidValue`, …); its text form (`description` / `toString()`) is that
/// name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
#[uniffi::export(Display)]
pub enum ErrorCode {
    /// The document is not well-formed JSON.
    InvalidJson,
    /// A field the schema does not know (a typo must not silently change who gets paid).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value has the wrong type, format or range.
    InvalidValue,
    /// A currency code is not an ISO 4217 code with a minor unit.
    UnknownCurrency,
    /// A partner id is referenced but not declared.
    UnknownPartner,
    /// A refund or chargeback names a payment that does not exist (yet).
    UnknownPayment,
    /// A refund exceeds what is left unrefunded of its payment.
    RefundExceedsPayment,
    /// The same event id was given twice with different content.
    ConflictingEvent,
    /// Amounts in different currencies were combined where one currency is required.
    CurrencyMismatch,
    /// A currency conversion needs a rate that the input does not provide.
    MissingFxRate,
    /// Partner parents form a cycle.
    CyclicParent,
    /// An event arrived at an incremental engine after a later one was applied.
    LateEvent,
    /// A size or arithmetic limit was exceeded.
    LimitExceeded,
    /// Bytes given to `Engine.restore` are not a snapshot this version can read: not a
    /// snapshot at all, truncated, corrupted, or written in a newer format.
    InvalidSnapshot,
    /// A bug in partnerkit (a panic caught at the boundary): please report it.
    Internal,
}

impl ErrorCode {
    /// The core's code.
    fn core(self) -> Core {
        match self {
            ErrorCode::InvalidJson => Core::InvalidJson,
            ErrorCode::UnknownField => Core::UnknownField,
            ErrorCode::MissingField => Core::MissingField,
            ErrorCode::InvalidValue => Core::InvalidValue,
            ErrorCode::UnknownCurrency => Core::UnknownCurrency,
            ErrorCode::UnknownPartner => Core::UnknownPartner,
            ErrorCode::UnknownPayment => Core::UnknownPayment,
            ErrorCode::RefundExceedsPayment => Core::RefundExceedsPayment,
            ErrorCode::ConflictingEvent => Core::ConflictingEvent,
            ErrorCode::CurrencyMismatch => Core::CurrencyMismatch,
            ErrorCode::MissingFxRate => Core::MissingFxRate,
            ErrorCode::CyclicParent => Core::CyclicParent,
            ErrorCode::LateEvent => Core::LateEvent,
            ErrorCode::LimitExceeded => Core::LimitExceeded,
            ErrorCode::InvalidSnapshot => Core::InvalidSnapshot,
            ErrorCode::Internal => Core::Internal,
        }
    }
}

impl From<Core> for ErrorCode {
    fn from(code: Core) -> Self {
        match code {
            Core::InvalidJson => ErrorCode::InvalidJson,
            Core::UnknownField => ErrorCode::UnknownField,
            Core::MissingField => ErrorCode::MissingField,
            Core::InvalidValue => ErrorCode::InvalidValue,
            Core::UnknownCurrency => ErrorCode::UnknownCurrency,
            Core::UnknownPartner => ErrorCode::UnknownPartner,
            Core::UnknownPayment => ErrorCode::UnknownPayment,
            Core::RefundExceedsPayment => ErrorCode::RefundExceedsPayment,
            Core::ConflictingEvent => ErrorCode::ConflictingEvent,
            Core::CurrencyMismatch => ErrorCode::CurrencyMismatch,
            Core::MissingFxRate => ErrorCode::MissingFxRate,
            Core::CyclicParent => ErrorCode::CyclicParent,
            Core::LateEvent => ErrorCode::LateEvent,
            Core::LimitExceeded => ErrorCode::LimitExceeded,
            Core::InvalidSnapshot => ErrorCode::InvalidSnapshot,
            // The core's codes are `#[non_exhaustive]`; a code added there without a twin
            // here fails this crate's `every_core_code_has_a_twin` test.
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.core().as_str())
    }
}

/// Every error partnerkit reports to Swift and Kotlin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PartnerKitError {
    /// Bad input, with its stable code and the document path of the value at fault
    /// (`plan.rules[0].reward.percent`, `events[17].amount`), or a bug (code `Internal`).
    #[error("{code} at {path}: {message}")]
    Failed {
        /// What kind of problem: branch on this, never on the message.
        code: ErrorCode,
        /// The document path of the value at fault; empty when no one value is.
        path: String,
        /// A sentence for people: the value found and what was expected.
        message: String,
    },
}

impl From<partnerkit::Error> for PartnerKitError {
    fn from(e: partnerkit::Error) -> Self {
        PartnerKitError::Failed {
            code: e.code().into(),
            path: e.path().to_owned(),
            message: e.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_twin() {
        for code in Core::ALL {
            let twin = ErrorCode::from(code);
            assert_eq!(twin.core(), code);
            assert_eq!(twin.to_string(), code.as_str());
        }
    }

    #[test]
    fn core_errors_keep_code_path_and_message() {
        let e = PartnerKitError::from(partnerkit::Error::new(Core::MissingFxRate, "fx", "no rate"));
        assert_eq!(e.to_string(), "MissingFxRate at fx: no rate");
    }
}
