//! Errors: one enum, stable codes, and the path of the offending value.
//!
//! Every error names the document path of the value at fault
//! (`plan.rules[2].reward.percent`, `events[17].amount`) and says what was expected, so a
//! host can show it to whoever wrote the document. Codes are part of the public contract:
//! bindings expose them verbatim and conformance vectors pin one case per code.

use std::fmt;

/// The stable machine-readable code of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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
    /// Bytes given to `Engine::restore` are not a snapshot this version can read: not a
    /// snapshot at all, truncated, corrupted, or written in a newer format.
    InvalidSnapshot,
    /// A bug in partnerkit: please report it.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::InvalidJson,
        ErrorCode::UnknownField,
        ErrorCode::MissingField,
        ErrorCode::InvalidValue,
        ErrorCode::UnknownCurrency,
        ErrorCode::UnknownPartner,
        ErrorCode::UnknownPayment,
        ErrorCode::RefundExceedsPayment,
        ErrorCode::ConflictingEvent,
        ErrorCode::CurrencyMismatch,
        ErrorCode::MissingFxRate,
        ErrorCode::CyclicParent,
        ErrorCode::LateEvent,
        ErrorCode::LimitExceeded,
        ErrorCode::InvalidSnapshot,
        ErrorCode::Internal,
    ];

    /// The code as written in JSON and exposed by every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "InvalidJson",
            ErrorCode::UnknownField => "UnknownField",
            ErrorCode::MissingField => "MissingField",
            ErrorCode::InvalidValue => "InvalidValue",
            ErrorCode::UnknownCurrency => "UnknownCurrency",
            ErrorCode::UnknownPartner => "UnknownPartner",
            ErrorCode::UnknownPayment => "UnknownPayment",
            ErrorCode::RefundExceedsPayment => "RefundExceedsPayment",
            ErrorCode::ConflictingEvent => "ConflictingEvent",
            ErrorCode::CurrencyMismatch => "CurrencyMismatch",
            ErrorCode::MissingFxRate => "MissingFxRate",
            ErrorCode::CyclicParent => "CyclicParent",
            ErrorCode::LateEvent => "LateEvent",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::InvalidSnapshot => "InvalidSnapshot",
            ErrorCode::Internal => "Internal",
        }
    }

    /// Parses a code written by [`ErrorCode::as_str`].
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong and where: the payload of every [`Error`] variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Document path of the offending value, e.g. `plan.rules[2].reward.percent`.
    pub path: String,
    /// A sentence for humans: the value found and what was expected.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every error partnerkit returns. Each variant carries a [`Problem`] (path and message);
/// [`Error::code`] gives the stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is documented on its ErrorCode twin
pub enum Error {
    #[error("InvalidJson at {0}")]
    InvalidJson(Problem),
    #[error("UnknownField at {0}")]
    UnknownField(Problem),
    #[error("MissingField at {0}")]
    MissingField(Problem),
    #[error("InvalidValue at {0}")]
    InvalidValue(Problem),
    #[error("UnknownCurrency at {0}")]
    UnknownCurrency(Problem),
    #[error("UnknownPartner at {0}")]
    UnknownPartner(Problem),
    #[error("UnknownPayment at {0}")]
    UnknownPayment(Problem),
    #[error("RefundExceedsPayment at {0}")]
    RefundExceedsPayment(Problem),
    #[error("ConflictingEvent at {0}")]
    ConflictingEvent(Problem),
    #[error("CurrencyMismatch at {0}")]
    CurrencyMismatch(Problem),
    #[error("MissingFxRate at {0}")]
    MissingFxRate(Problem),
    #[error("CyclicParent at {0}")]
    CyclicParent(Problem),
    #[error("LateEvent at {0}")]
    LateEvent(Problem),
    #[error("LimitExceeded at {0}")]
    LimitExceeded(Problem),
    #[error("InvalidSnapshot at {0}")]
    InvalidSnapshot(Problem),
    #[error("Internal at {0}")]
    Internal(Problem),
}

impl Error {
    /// Builds the variant of `code` at `path`.
    pub fn new(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> Self {
        let p = Problem::new(path, message);
        match code {
            ErrorCode::InvalidJson => Error::InvalidJson(p),
            ErrorCode::UnknownField => Error::UnknownField(p),
            ErrorCode::MissingField => Error::MissingField(p),
            ErrorCode::InvalidValue => Error::InvalidValue(p),
            ErrorCode::UnknownCurrency => Error::UnknownCurrency(p),
            ErrorCode::UnknownPartner => Error::UnknownPartner(p),
            ErrorCode::UnknownPayment => Error::UnknownPayment(p),
            ErrorCode::RefundExceedsPayment => Error::RefundExceedsPayment(p),
            ErrorCode::ConflictingEvent => Error::ConflictingEvent(p),
            ErrorCode::CurrencyMismatch => Error::CurrencyMismatch(p),
            ErrorCode::MissingFxRate => Error::MissingFxRate(p),
            ErrorCode::CyclicParent => Error::CyclicParent(p),
            ErrorCode::LateEvent => Error::LateEvent(p),
            ErrorCode::LimitExceeded => Error::LimitExceeded(p),
            ErrorCode::InvalidSnapshot => Error::InvalidSnapshot(p),
            ErrorCode::Internal => Error::Internal(p),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidJson(_) => ErrorCode::InvalidJson,
            Error::UnknownField(_) => ErrorCode::UnknownField,
            Error::MissingField(_) => ErrorCode::MissingField,
            Error::InvalidValue(_) => ErrorCode::InvalidValue,
            Error::UnknownCurrency(_) => ErrorCode::UnknownCurrency,
            Error::UnknownPartner(_) => ErrorCode::UnknownPartner,
            Error::UnknownPayment(_) => ErrorCode::UnknownPayment,
            Error::RefundExceedsPayment(_) => ErrorCode::RefundExceedsPayment,
            Error::ConflictingEvent(_) => ErrorCode::ConflictingEvent,
            Error::CurrencyMismatch(_) => ErrorCode::CurrencyMismatch,
            Error::MissingFxRate(_) => ErrorCode::MissingFxRate,
            Error::CyclicParent(_) => ErrorCode::CyclicParent,
            Error::LateEvent(_) => ErrorCode::LateEvent,
            Error::LimitExceeded(_) => ErrorCode::LimitExceeded,
            Error::InvalidSnapshot(_) => ErrorCode::InvalidSnapshot,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The path and message.
    pub fn problem(&self) -> &Problem {
        match self {
            Error::InvalidJson(p)
            | Error::UnknownField(p)
            | Error::MissingField(p)
            | Error::InvalidValue(p)
            | Error::UnknownCurrency(p)
            | Error::UnknownPartner(p)
            | Error::UnknownPayment(p)
            | Error::RefundExceedsPayment(p)
            | Error::ConflictingEvent(p)
            | Error::CurrencyMismatch(p)
            | Error::MissingFxRate(p)
            | Error::CyclicParent(p)
            | Error::LateEvent(p)
            | Error::LimitExceeded(p)
            | Error::InvalidSnapshot(p)
            | Error::Internal(p) => p,
        }
    }

    /// Document path of the offending value.
    pub fn path(&self) -> &str {
        &self.problem().path
    }

    /// Human-readable message (without the path).
    pub fn message(&self) -> &str {
        &self.problem().message
    }

    /// `{"code","path","message"}` as compact JSON: what the CLI prints and bindings expose.
    pub fn to_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("code".into(), self.code().as_str().into());
        m.insert("path".into(), self.path().into());
        m.insert("message".into(), self.message().into());
        serde_json::Value::Object(m).to_string()
    }

    /// Shorthand for an arithmetic overflow at `path`.
    pub fn overflow(path: impl Into<String>) -> Self {
        Error::new(
            ErrorCode::LimitExceeded,
            path,
            "arithmetic overflow: the amount exceeds what partnerkit can represent exactly",
        )
    }
}

/// Every problem found in one document (validation reports them all at once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issues(pub Vec<Error>);

impl Issues {
    /// Records one problem.
    pub fn push(&mut self, code: ErrorCode, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Error::new(code, path, message));
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first problem, with the count of the others in its message, as one error; or
    /// `Ok(())` when there are none.
    pub fn into_result(self) -> Result<(), Error> {
        let mut it = self.0.into_iter();
        match it.next() {
            None => Ok(()),
            Some(first) => {
                let more = it.count();
                if more == 0 {
                    Err(first)
                } else {
                    let msg = format!(
                        "{} (and {more} more problem{}; `partnerkit validate` lists them all)",
                        first.message(),
                        if more == 1 { "" } else { "s" }
                    );
                    Err(Error::new(first.code(), first.path(), msg))
                }
            }
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            assert_eq!(Error::new(c, "p", "m").code(), c);
        }
    }

    #[test]
    fn json_shape() {
        let e = Error::new(
            ErrorCode::InvalidValue,
            "plan.rules[0].reward.percent",
            "bad",
        );
        assert_eq!(
            e.to_json(),
            r#"{"code":"InvalidValue","path":"plan.rules[0].reward.percent","message":"bad"}"#
        );
    }
}
