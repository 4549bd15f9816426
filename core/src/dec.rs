//! Decimal values in documents: always JSON strings (`"49.99"`), never JSON numbers.
//!
//! A JSON number goes through a binary float in most JSON stacks (JavaScript's included), so
//! a number where money or a rate is expected is rejected with a message that says so,
//! rather than silently accepted with whatever cents the float happened to keep.

use std::fmt;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorCode};
use crate::money::parse_decimal;

/// A decimal written as a JSON string, parsed strictly (see [`parse_decimal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

impl Dec {
    /// The value.
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl Dec {
    /// Parses decimal text the way a document's decimals are read, or says why not as an
    /// [`Error`] at `path`: `LimitExceeded` past 28 significant digits, `InvalidValue` for
    /// anything but plain digits with an optional `-` and `.`. For bindings whose hosts hand
    /// decimals over as text (Swift `Decimal`, Kotlin `BigDecimal`).
    pub fn parse(s: &str, path: &str) -> Result<Decimal, Error> {
        parse_decimal(s).ok_or_else(|| {
            let (code, message) = refusal(s);
            Error::new(code, path, message)
        })
    }
}

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Self {
        Dec(d)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

struct DecVisitor;

const EXPECTED: &str = "a decimal string like \"49.99\"";

impl<'de> Visitor<'de> for DecVisitor {
    type Value = Dec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        parse_decimal(v)
            .map(Dec)
            .ok_or_else(|| E::custom(refusal(v).1))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Err(number_rejected(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Err(number_rejected(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        Err(number_rejected(v))
    }
}

/// Words that mark a decimal beyond range; `json.rs` maps them to `LimitExceeded`.
pub(crate) const TOO_LONG: &str = "beyond the digits partnerkit represents exactly";

/// Why `v` is not a decimal partnerkit reads, with the code that says so.
pub(crate) fn refusal(v: &str) -> (ErrorCode, String) {
    if well_formed(v) {
        // Well formed but too long to hold exactly: a limit, not a typo.
        return (
            ErrorCode::LimitExceeded,
            format!("decimal \"{v}\" is {TOO_LONG} (28 significant digits)"),
        );
    }
    (
        ErrorCode::InvalidValue,
        format!(
            "invalid decimal \"{v}\": expected {EXPECTED} (digits, an optional '-' and '.', no exponent)"
        ),
    )
}

/// `-?digits(.digits)?`: the grammar, whatever the length.
fn well_formed(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

fn number_rejected<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!(
        "found the JSON number {v}: decimals must be written as strings like \"{v}\", \
         because JSON numbers pass through binary floats and lose cents"
    ))
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(DecVisitor)
    }
}

impl JsonSchema for Dec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "A decimal number written as a string, e.g. \"49.99\"."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_only() {
        let d: Dec = serde_json::from_str("\"49.90\"").unwrap();
        assert_eq!(d.0.to_string(), "49.90");
        let e = serde_json::from_str::<Dec>("49.9").unwrap_err().to_string();
        assert!(e.contains("must be written as strings"), "{e}");
        assert!(serde_json::from_str::<Dec>("\"1e3\"").is_err());
        assert!(serde_json::from_str::<Dec>("\" 1\"").is_err());
    }

    #[test]
    fn parse_names_the_code() {
        assert_eq!(Dec::parse("-0.50", "x").unwrap().to_string(), "-0.50");
        let long = Dec::parse("1.00000000000000000000000000001", "x").unwrap_err();
        assert_eq!((long.code(), long.path()), (ErrorCode::LimitExceeded, "x"));
        let bad = Dec::parse("NaN", "y").unwrap_err();
        assert_eq!((bad.code(), bad.path()), (ErrorCode::InvalidValue, "y"));
    }
}
