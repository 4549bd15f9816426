//! Arrow in and out of the fast path (feature `arrow`).
//!
//! Events come in as record batches with the columns below (any order; a column a batch
//! lacks is all null; a column not listed is an error). Every row passes the checks the
//! JSON input's events pass, with the same codes and `events[i].field` paths (`i` counts
//! rows across batches):
//!
//! | column | type | for |
//! |---|---|---|
//! | `id` | string | every event (non-empty) |
//! | `kind` | string: `touch`, `payment`, `refund`, `chargeback` | every event |
//! | `at` | timestamp with a time zone (any unit) | every event |
//! | `partner` | string | touches |
//! | `customer` | string | touches, payments |
//! | `channel` | string: `link`, `coupon`, `deal_registration`, `manual` | touches |
//! | `amount` | decimal128 or decimal string | payments, refunds |
//! | `currency` | string (ISO 4217) | payments; refunds and chargebacks optionally |
//! | `tax`, `discount` | decimal128 or decimal string | payments, optionally |
//! | `payment` | string | refunds, chargebacks |
//!
//! Strings may be `utf8`, `large_utf8`, `utf8_view` or dictionaries of them (a dictionary
//! column is interned once per distinct value). Floating-point amounts are refused: money
//! is exact. A timestamp without a time zone is refused: an instant needs its offset.
//!
//! The ledger goes out as one record batch (see [`ledger_to_batch`]), text columns as
//! dictionaries over the ledger's names, so no string is copied per entry except the id.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int32Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, Decimal128Array, DictionaryArray, Int32Array, Int64Array, StringArray,
    TimestampNanosecondArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use rust_decimal::Decimal;

/// The record batch type of the Arrow crates the core uses (re-exported so that bindings
/// name the same version).
pub use arrow_array::RecordBatch;

use super::columns::{Events, Interner, NONE, REFUND_DIGITS, Strings};
use super::ledger::{Ledger, Total};
use crate::error::{Error, ErrorCode, Result};
use crate::money::Currency;
use crate::plan::Channel;

const COLUMNS: [&str; 11] = [
    "id", "kind", "at", "partner", "customer", "channel", "amount", "currency", "tax", "discount",
    "payment",
];

/// A string column of any of Arrow's string layouts.
enum Text<'a> {
    Absent,
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Dict {
        array: &'a dyn Array,
        keys: Vec<usize>,
        values: Box<Text<'a>>,
    },
}

impl<'a> Text<'a> {
    fn of(a: Option<&'a ArrayRef>, name: &str) -> Result<Text<'a>> {
        let Some(a) = a else { return Ok(Text::Absent) };
        Text::of_array(a.as_ref(), name)
    }

    fn of_array(a: &'a dyn Array, name: &str) -> Result<Text<'a>> {
        Ok(match a.data_type() {
            DataType::Null => Text::Absent,
            DataType::Utf8 => Text::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Text::Large(a.as_string::<i64>()),
            DataType::Utf8View => Text::View(a.as_string_view()),
            DataType::Dictionary(_, _) => {
                let d = a.as_any_dictionary();
                if d.values().is_empty() {
                    // No values: every key is null (any other key would be invalid Arrow).
                    return Ok(Text::Absent);
                }
                Text::Dict {
                    array: a,
                    keys: d.normalized_keys(),
                    values: Box::new(Text::of_array(d.values().as_ref(), name)?),
                }
            }
            t => return Err(column_type(name, t, "a string")),
        })
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Text::Absent => None,
            Text::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Text::View(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Dict {
                array,
                keys,
                values,
            } => {
                if array.is_null(i) {
                    None
                } else {
                    values.get(keys[i])
                }
            }
        }
    }

    /// Whether row `i` holds a value (no string is read).
    fn present(&self, i: usize) -> bool {
        match self {
            Text::Absent => false,
            Text::Utf8(a) => a.is_valid(i),
            Text::Large(a) => a.is_valid(i),
            Text::View(a) => a.is_valid(i),
            Text::Dict { array, .. } => array.is_valid(i),
        }
    }

    /// Interns row `i`'s value; a dictionary column interns each distinct value once.
    fn intern(&self, i: usize, into: &mut Interner, cache: &mut Vec<u32>) -> Option<u32> {
        match self {
            Text::Dict {
                array,
                keys,
                values,
            } => {
                if array.is_null(i) {
                    return None;
                }
                let k = keys[i];
                if cache.len() <= k {
                    cache.resize(k + 1, NONE);
                }
                if cache[k] == NONE {
                    cache[k] = into.intern(values.get(k)?);
                }
                Some(cache[k])
            }
            _ => self.get(i).map(|s| into.intern(s)),
        }
    }
}

/// A decimal column: Arrow decimals or decimal strings.
enum Amounts<'a> {
    Absent,
    Decimal(&'a Decimal128Array, u32),
    Text(Text<'a>),
}

impl<'a> Amounts<'a> {
    fn of(a: Option<&'a ArrayRef>, name: &str) -> Result<Amounts<'a>> {
        let Some(a) = a else {
            return Ok(Amounts::Absent);
        };
        Ok(match a.data_type() {
            DataType::Null => Amounts::Absent,
            DataType::Decimal128(_, s) => {
                let scale = u32::try_from(*s).map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidValue,
                        format!("events.{name}"),
                        format!("a negative decimal scale ({s}) is not supported"),
                    )
                })?;
                Amounts::Decimal(
                    a.as_primitive::<arrow_array::types::Decimal128Type>(),
                    scale,
                )
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("events.{name}"),
                    format!(
                        "column `{name}` is floating point: money must be exact, give a \
                         decimal128 column or decimal strings"
                    ),
                ));
            }
            _ => Amounts::Text(Text::of(Some(a), name).map_err(|_| {
                column_type(name, a.data_type(), "a decimal128 or a decimal string")
            })?),
        })
    }

    /// Row `i` as (mantissa, scale), `None` when null.
    fn get(&self, i: usize, path: &dyn Fn() -> String) -> Result<Option<(i128, u32)>> {
        match self {
            Amounts::Absent => Ok(None),
            Amounts::Decimal(a, s) => Ok(a.is_valid(i).then(|| (a.value(i), *s))),
            Amounts::Text(t) => match t.get(i) {
                None => Ok(None),
                Some(s) => {
                    // The JSON input's refusal, code and words: a typo is InvalidValue,
                    // a well-formed decimal too long to hold exactly LimitExceeded.
                    let d = crate::money::parse_decimal(s).ok_or_else(|| {
                        let (code, message) = crate::dec::refusal(s);
                        Error::new(code, path(), message)
                    })?;
                    Ok(Some((d.mantissa(), d.scale())))
                }
            },
        }
    }
}

fn column_type(name: &str, t: &DataType, want: &str) -> Error {
    Error::new(
        ErrorCode::InvalidValue,
        format!("events.{name}"),
        format!("column `{name}` is {t}: expected {want}"),
    )
}

/// Instants of a timestamp column in nanoseconds.
enum Times<'a> {
    Absent,
    Ns(&'a arrow_array::TimestampNanosecondArray),
    Us(&'a arrow_array::TimestampMicrosecondArray),
    Ms(&'a arrow_array::TimestampMillisecondArray),
    S(&'a arrow_array::TimestampSecondArray),
}

impl<'a> Times<'a> {
    fn of(a: Option<&'a ArrayRef>) -> Result<Times<'a>> {
        let Some(a) = a else { return Ok(Times::Absent) };
        match a.data_type() {
            DataType::Null => Ok(Times::Absent),
            DataType::Timestamp(_, None) => Err(Error::new(
                ErrorCode::InvalidValue,
                "events.at",
                "column `at` is a timestamp without a time zone: an instant needs its offset \
                 (give `timestamp[ns, tz=UTC]`, or localize the column)",
            )),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Ok(Times::Ns(a.as_primitive::<TimestampNanosecondType>()))
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Ok(Times::Us(a.as_primitive::<TimestampMicrosecondType>()))
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                Ok(Times::Ms(a.as_primitive::<TimestampMillisecondType>()))
            }
            DataType::Timestamp(TimeUnit::Second, _) => {
                Ok(Times::S(a.as_primitive::<TimestampSecondType>()))
            }
            t => Err(column_type("at", t, "a timestamp with a time zone")),
        }
    }

    fn get(&self, i: usize) -> Option<Option<i64>> {
        fn at<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
            a: &arrow_array::PrimitiveArray<T>,
            i: usize,
            mul: i64,
        ) -> Option<Option<i64>> {
            a.is_valid(i).then(|| a.value(i).checked_mul(mul))
        }
        match self {
            Times::Absent => None,
            Times::Ns(a) => at(*a, i, 1),
            Times::Us(a) => at(*a, i, 1_000),
            Times::Ms(a) => at(*a, i, 1_000_000),
            Times::S(a) => at(*a, i, 1_000_000_000),
        }
    }
}

/// `(mantissa, scale)` in minor units of a currency with `digits` decimals, with the JSON
/// input's checks: at most 10^18, not negative (`signed: false`), whole minor units.
fn to_minor(
    v: (i128, u32),
    digits: u32,
    unit: &str,
    path: &dyn Fn() -> String,
    signed: bool,
) -> Result<i128> {
    let (m, s) = v;
    // The common case in 64 bits: a small non-negative amount at or below the unit's scale.
    if (0..1_000_000_000_000_000).contains(&m) {
        let m = m as i64;
        if s <= digits {
            if let Some(x) = 10i64.checked_pow(digits - s).and_then(|f| m.checked_mul(f)) {
                return Ok(i128::from(x));
            }
        } else if let Some(f) = 10i64.checked_pow(s - digits)
            && m % f == 0
        {
            return Ok(i128::from(m / f));
        }
    }
    // The value as the error messages show it (written only for an error).
    let shown = || {
        Decimal::try_from_i128_with_scale(m, s.min(28))
            .ok()
            .map_or_else(|| format!("{m}e-{s}"), |d| d.to_string())
    };
    let limit = 10i128.pow(18);
    let too_big = if s <= 38 {
        m.abs() > limit.saturating_mul(10i128.pow(s.min(20)))
            || (s > 20 && m.abs() / 10i128.pow(s - 20) > limit * 10i128.pow(20))
    } else {
        false
    };
    if too_big {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            path(),
            format!(
                "{} is beyond the largest amount partnerkit accepts, 10^18",
                shown()
            ),
        ));
    }
    if !signed && m < 0 {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            path(),
            format!("{} is negative: expected an amount of 0 or more", shown()),
        ));
    }
    let minor = if s <= digits {
        m.checked_mul(10i128.pow(digits - s))
    } else if s - digits > 38 || m % 10i128.pow(s - digits) != 0 {
        None
    } else {
        Some(m / 10i128.pow(s - digits))
    };
    match minor {
        Some(x) => Ok(x),
        None => Err(Error::new(
            ErrorCode::InvalidValue,
            path(),
            format!(
                "{} has more than {digits} decimal places, the minor unit of {unit}",
                shown()
            ),
        )),
    }
}

/// Reads events from record batches (one table), rows numbered across batches.
/// `plan_currency` is unused by the checks; it is the currency a row is read in when the
/// canonical path needs events back.
///
/// # Errors
///
/// `UnknownField` for a column not in the schema above or a value in a column its kind
/// does not use, `MissingField` for a required value that is null, `InvalidValue` for a
/// wrong column type, kind, channel, empty id, float or over-precise amount, and the other
/// checks of JSON input events, each at `events[i].field`.
pub fn events_from_batches(batches: &[RecordBatch], plan_currency: Currency) -> Result<Events> {
    let _ = plan_currency;
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut ev = Events::with_capacity(n);
    let mut base = 0usize;
    // Interning caches for dictionary columns, per batch.
    for batch in batches {
        let schema = batch.schema();
        for f in schema.fields() {
            if !COLUMNS.contains(&f.name().as_str()) {
                return Err(Error::new(
                    ErrorCode::UnknownField,
                    format!("events.{}", f.name()),
                    format!(
                        "unknown column `{}`: event columns are {}",
                        f.name(),
                        COLUMNS.join(", ")
                    ),
                ));
            }
        }
        let col = |name: &str| batch.column_by_name(name);
        let id = Text::of(col("id"), "id")?;
        let kind = Text::of(col("kind"), "kind")?;
        let at = Times::of(col("at"))?;
        let partner = Text::of(col("partner"), "partner")?;
        let customer = Text::of(col("customer"), "customer")?;
        let channel = Text::of(col("channel"), "channel")?;
        let amount = Amounts::of(col("amount"), "amount")?;
        let currency = Text::of(col("currency"), "currency")?;
        let tax = Amounts::of(col("tax"), "tax")?;
        let discount = Amounts::of(col("discount"), "discount")?;
        let payment = Text::of(col("payment"), "payment")?;
        let (mut pc, mut cc, mut yc) = (Vec::new(), Vec::new(), Vec::new());
        // The last currency code parsed, to skip the table lookup on repeats.
        let mut last_currency: Option<(&str, Currency)> = None;
        for i in 0..batch.num_rows() {
            let row = base + i;
            let path = |f: &str| format!("events[{row}].{f}");
            let missing = |f: &str, k: &str, need: &str| {
                Error::new(
                    ErrorCode::MissingField,
                    path(f),
                    format!("missing field `{f}`: a {k} event needs {need}"),
                )
            };
            let stray = |f: &str, k: &str| {
                Error::new(
                    ErrorCode::UnknownField,
                    path(f),
                    format!("field `{f}` does not belong to a {k} event"),
                )
            };
            let Some(id_s) = id.get(i) else {
                return Err(Error::new(
                    ErrorCode::MissingField,
                    path("id"),
                    "missing field `id`",
                ));
            };
            if id_s.is_empty() {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    path("id"),
                    "empty event id",
                ));
            }
            let Some(k) = kind.get(i) else {
                return Err(Error::new(
                    ErrorCode::MissingField,
                    path("kind"),
                    "missing field `kind`",
                ));
            };
            let t = match at.get(i) {
                Some(Some(t)) => t,
                Some(None) => {
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        path("at"),
                        "instant outside the nanosecond timestamp range (1677–2262)",
                    ));
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::MissingField,
                        path("at"),
                        "missing field `at`",
                    ));
                }
            };
            let mut currency_of = |i: usize| -> Result<Option<Currency>> {
                let Some(code) = currency.get(i) else {
                    return Ok(None);
                };
                if let Some((c, cur)) = last_currency
                    && c == code
                {
                    return Ok(Some(cur));
                }
                let cur = Currency::parse(code).ok_or_else(|| {
                    Error::new(
                        ErrorCode::UnknownCurrency,
                        path("currency"),
                        format!("unknown ISO 4217 currency {code:?}"),
                    )
                })?;
                last_currency = Some((code, cur));
                Ok(Some(cur))
            };
            let uses = |fields: &[&str], k: &str| -> Result<()> {
                let present = [
                    ("partner", partner.present(i)),
                    ("customer", customer.present(i)),
                    ("channel", channel.present(i)),
                    (
                        "amount",
                        !matches!(amount, Amounts::Absent) && amount_valid(&amount, i),
                    ),
                    ("currency", currency.present(i)),
                    (
                        "tax",
                        !matches!(tax, Amounts::Absent) && amount_valid(&tax, i),
                    ),
                    (
                        "discount",
                        !matches!(discount, Amounts::Absent) && amount_valid(&discount, i),
                    ),
                    ("payment", payment.present(i)),
                ];
                for (f, here) in present {
                    if here && !fields.contains(&f) {
                        return Err(stray(f, k));
                    }
                }
                Ok(())
            };
            match k {
                "touch" => {
                    uses(&["partner", "customer", "channel"], k)?;
                    let need = "partner, customer, channel";
                    let p = partner
                        .intern(i, &mut ev.partners, &mut pc)
                        .ok_or_else(|| missing("partner", k, need))?;
                    let c = customer
                        .intern(i, &mut ev.customers, &mut cc)
                        .ok_or_else(|| missing("customer", k, need))?;
                    let ch = match channel.get(i) {
                        None => return Err(missing("channel", k, need)),
                        Some("link") => Channel::Link,
                        Some("coupon") => Channel::Coupon,
                        Some("deal_registration") => Channel::DealRegistration,
                        Some("manual") => Channel::Manual,
                        Some(other) => {
                            return Err(Error::new(
                                ErrorCode::InvalidValue,
                                path("channel"),
                                format!(
                                    "unknown channel {other:?}: expected link, coupon, \
                                     deal_registration or manual"
                                ),
                            ));
                        }
                    };
                    ev.push_touch_interned(id_s, t, p, c, ch);
                }
                "payment" => {
                    uses(&["customer", "amount", "currency", "tax", "discount"], k)?;
                    let need = "customer, amount, currency";
                    let c = customer
                        .intern(i, &mut ev.customers, &mut cc)
                        .ok_or_else(|| missing("customer", k, need))?;
                    let cur = currency_of(i)?.ok_or_else(|| missing("currency", k, need))?;
                    let d = cur.digits();
                    let unit = cur.as_str();
                    let a = amount
                        .get(i, &|| path("amount"))?
                        .ok_or_else(|| missing("amount", k, need))?;
                    let a = to_minor(a, d, unit, &|| path("amount"), false)?;
                    let tx = match tax.get(i, &|| path("tax"))? {
                        Some(v) => to_minor(v, d, unit, &|| path("tax"), false)?,
                        None => 0,
                    };
                    let di = match discount.get(i, &|| path("discount"))? {
                        Some(v) => to_minor(v, d, unit, &|| path("discount"), false)?,
                        None => 0,
                    };
                    if tx + di > a {
                        return Err(Error::new(
                            ErrorCode::InvalidValue,
                            path("discount"),
                            "tax + discount exceed the amount: `amount` is the total charged, \
                             tax and discount included",
                        ));
                    }
                    ev.push_payment_wide(id_s, t, c, a, tx, di, cur);
                }
                "refund" | "chargeback" => {
                    let refund = k == "refund";
                    let need = if refund { "payment, amount" } else { "payment" };
                    if refund {
                        uses(&["payment", "amount", "currency"], k)?;
                    } else {
                        uses(&["payment", "currency"], k)?;
                    }
                    let p = payment
                        .intern(i, &mut ev.payments, &mut yc)
                        .ok_or_else(|| missing("payment", k, need))?;
                    let cur = currency_of(i)?;
                    let a = if refund {
                        let v = amount
                            .get(i, &|| path("amount"))?
                            .ok_or_else(|| missing("amount", k, need))?;
                        if v.0 <= 0 {
                            return Err(Error::new(
                                ErrorCode::InvalidValue,
                                path("amount"),
                                "refund amount must be greater than 0",
                            ));
                        }
                        Some(to_minor(
                            v,
                            REFUND_DIGITS,
                            "any currency",
                            &|| path("amount"),
                            false,
                        )?)
                    } else {
                        None
                    };
                    match a {
                        Some(a) => ev.push_refund_wide(id_s, t, p, a, cur),
                        None => ev.push_reversal_interned(id_s, t, p, None, cur),
                    }
                }
                "signup" | "assign" | "adjustment" => {
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        path("kind"),
                        format!(
                            "{k} events are not read from Arrow (kinds: touch, payment, \
                             refund, chargeback); evaluate a JSON document for them"
                        ),
                    ));
                }
                other => {
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        path("kind"),
                        format!("unknown event kind {other:?}"),
                    ));
                }
            }
        }
        base += batch.num_rows();
    }
    Ok(ev)
}

fn amount_valid(a: &Amounts<'_>, i: usize) -> bool {
    match a {
        Amounts::Absent => false,
        Amounts::Decimal(arr, _) => arr.is_valid(i),
        Amounts::Text(t) => t.get(i).is_some(),
    }
}

/// The events as one record batch (the schema [`events_from_batches`] reads): for tests
/// and benchmarks that need Arrow input.
///
/// # Errors
///
/// `InvalidValue` when strings exceed Arrow's 2 GiB `utf8` offsets.
pub fn events_to_batch(ev: &Events) -> Result<RecordBatch> {
    use arrow_array::types::Decimal128Type;
    let n = ev.len();
    let kind: Vec<i32> = ev
        .kind
        .iter()
        .map(|k| match k {
            crate::input::Kind::Touch => 0,
            crate::input::Kind::Payment => 1,
            crate::input::Kind::Refund => 2,
            _ => 3,
        })
        .collect();
    let kinds = strings_of(["touch", "payment", "refund", "chargeback"])?;
    let idx = |v: &[u32]| {
        Int32Array::new(
            ScalarBuffer::from(v.iter().map(|&x| x as i32).collect::<Vec<_>>()),
            Some(NullBuffer::from(
                v.iter().map(|&x| x != NONE).collect::<Vec<_>>(),
            )),
        )
    };
    let is = |k: crate::input::Kind| -> Vec<bool> { ev.kind.iter().map(|x| *x == k).collect() };
    let pay = is(crate::input::Kind::Payment);
    let refund = is(crate::input::Kind::Refund);
    let touch = is(crate::input::Kind::Touch);
    let channel: Vec<i32> = ev
        .channel
        .iter()
        .map(|c| super::compile::channel_index(*c) as i32)
        .collect();
    // Payments in their currency's digits and refunds at REFUND_DIGITS: one scale, 4.
    let amount: Vec<i128> = (0..n)
        .map(|i| {
            let d = ev.currency[i].map_or(REFUND_DIGITS, |c| c.digits());
            let d = if refund[i] { REFUND_DIGITS } else { d };
            ev.amounts(i).0 * 10i128.pow(REFUND_DIGITS - d)
        })
        .collect();
    let scaled = |pick: fn((i128, i128, i128)) -> i128| -> Vec<i128> {
        (0..n)
            .map(|i| {
                let d = ev.currency[i].map_or(REFUND_DIGITS, |c| c.digits());
                pick(ev.amounts(i)) * 10i128.pow(REFUND_DIGITS - d)
            })
            .collect()
    };
    let dec = |v: Vec<i128>, valid: Vec<bool>| -> Result<ArrayRef> {
        Ok(Arc::new(
            arrow_array::PrimitiveArray::<Decimal128Type>::new(
                ScalarBuffer::from(v),
                Some(NullBuffer::from(valid)),
            )
            .with_precision_and_scale(38, REFUND_DIGITS as i8)
            .map_err(arrow_err)?,
        ))
    };
    let amount_valid: Vec<bool> = (0..n).map(|i| pay[i] || refund[i]).collect();
    let mut codes = Strings::default();
    let mut code_of: Vec<(Currency, i32)> = Vec::new();
    let currency: Vec<u32> = ev
        .currency
        .iter()
        .map(|c| match c {
            None => NONE,
            Some(c) => match code_of.iter().find(|(x, _)| x == c) {
                Some((_, k)) => *k as u32,
                None => {
                    codes.push(c.as_str());
                    code_of.push((*c, codes.len() as i32 - 1));
                    codes.len() as u32 - 1
                }
            },
        })
        .collect();
    let dict = |keys: Int32Array, values: ArrayRef| -> Result<ArrayRef> {
        Ok(Arc::new(
            DictionaryArray::<Int32Type>::try_new(keys, values).map_err(arrow_err)?,
        ))
    };
    let masked = |v: &[u32], keep: &[bool]| -> Vec<u32> {
        v.iter()
            .zip(keep)
            .map(|(&x, &k)| if k { x } else { NONE })
            .collect()
    };
    let customer_rows: Vec<bool> = (0..n).map(|i| touch[i] || pay[i]).collect();
    let reversal_rows: Vec<bool> = (0..n).map(|i| !touch[i] && !pay[i]).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(&ev.id)?),
        dict(
            Int32Array::new(ScalarBuffer::from(kind), None),
            Arc::new(kinds),
        )?,
        Arc::new(
            TimestampNanosecondArray::new(ScalarBuffer::from(ev.at.clone()), None)
                .with_timezone("UTC"),
        ),
        dict(
            idx(&masked(&ev.partner, &touch)),
            Arc::new(string_array(&ev.partners.strings)?),
        )?,
        dict(
            idx(&masked(&ev.customer, &customer_rows)),
            Arc::new(string_array(&ev.customers.strings)?),
        )?,
        dict(
            Int32Array::new(
                ScalarBuffer::from(channel),
                Some(NullBuffer::from(touch.clone())),
            ),
            Arc::new(strings_of([
                "coupon",
                "deal_registration",
                "link",
                "manual",
            ])?),
        )?,
        dec(amount, amount_valid)?,
        dict(idx(&currency), Arc::new(string_array(&codes)?))?,
        dec(scaled(|a| a.1), pay.clone())?,
        dec(scaled(|a| a.2), pay.clone())?,
        dict(
            idx(&masked(&ev.payment, &reversal_rows)),
            Arc::new(string_array(&ev.payments.strings)?),
        )?,
    ];
    let fields: Vec<Field> = COLUMNS
        .iter()
        .zip(&columns)
        .map(|(name, c)| {
            Field::new(
                *name,
                c.data_type().clone(),
                *name != "id" && *name != "kind" && *name != "at",
            )
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}

fn arrow_err(e: arrow_schema::ArrowError) -> Error {
    Error::new(ErrorCode::Internal, "", format!("arrow: {e}"))
}

fn strings_of<const N: usize>(v: [&str; N]) -> Result<StringArray> {
    let mut s = Strings::default();
    for x in v {
        s.push(x);
    }
    string_array(&s)
}

/// A `utf8` array sharing the layout of `s` (offsets narrowed to 32 bits).
fn string_array(s: &Strings) -> Result<StringArray> {
    let (bytes, offsets) = s.parts();
    let offsets: Vec<i32> = offsets
        .iter()
        .map(|&o| i32::try_from(o))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidValue,
                "",
                "strings beyond 2 GiB do not fit an Arrow utf8 column",
            )
        })?;
    Ok(StringArray::new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from(bytes.as_bytes().to_vec()),
        None,
    ))
}

/// The ledger as one record batch:
///
/// `id` utf8, `partner` dictionary, `kind` dictionary, `event` dictionary, `customer`
/// dictionary (null for entries without one), `rule` dictionary (nullable), `amount`
/// decimal128(38, s) with `s` the largest minor unit among the ledger's currencies (2 for
/// USD), `currency` dictionary, `status` dictionary (`pending`, `available`, `paid`),
/// `earned_at` and `available_at` timestamp[ns, UTC], and `explain` utf8 (canonical JSON)
/// when explanations were asked for.
///
/// # Errors
///
/// `InvalidValue` when a text column exceeds 2 GiB.
pub fn ledger_to_batch(l: &Ledger) -> Result<RecordBatch> {
    let n = l.len();
    let mut ids = Strings::with_capacity(n, n * 40);
    for i in 0..n {
        ids.push_with(|buf| l.write_id(i, buf));
    }
    let scale = l.currency.iter().map(|c| c.digits()).max().unwrap_or(2);
    let amount: Vec<i128> = (0..n)
        .map(|i| l.amount[i] * 10i128.pow(scale - l.currency[i].digits()))
        .collect();
    let keys = |v: &[u32]| -> Int32Array {
        let valid: Vec<bool> = v.iter().map(|&x| x != NONE).collect();
        let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
        Int32Array::new(
            ScalarBuffer::from(v.iter().map(|&x| x as i32).collect::<Vec<_>>()),
            nulls,
        )
    };
    let dict = |k: Int32Array, values: &Strings| -> Result<ArrayRef> {
        Ok(Arc::new(
            DictionaryArray::<Int32Type>::try_new(k, Arc::new(string_array(values)?))
                .map_err(arrow_err)?,
        ))
    };
    const KINDS: [crate::ledger::EntryKind; 6] = [
        crate::ledger::EntryKind::Commission,
        crate::ledger::EntryKind::Override,
        crate::ledger::EntryKind::Bonus,
        crate::ledger::EntryKind::TrueUp,
        crate::ledger::EntryKind::Reversal,
        crate::ledger::EntryKind::Adjustment,
    ];
    let mut kind_names = Strings::default();
    for k in KINDS {
        kind_names.push(k.as_str());
    }
    let kind: Vec<u32> = l
        .kind
        .iter()
        .map(|k| KINDS.iter().position(|x| x == k).unwrap_or(0) as u32)
        .collect();
    let mut status_names = Strings::default();
    for s in ["pending", "available", "paid"] {
        status_names.push(s);
    }
    let status: Vec<u32> = l
        .status
        .iter()
        .map(|s| match s {
            crate::report::Status::Pending => 0,
            crate::report::Status::Available => 1,
            crate::report::Status::Paid => 2,
        })
        .collect();
    let mut codes = Strings::default();
    let mut seen: Vec<Currency> = Vec::new();
    let currency: Vec<u32> = l
        .currency
        .iter()
        .map(|c| match seen.iter().position(|x| x == c) {
            Some(k) => k as u32,
            None => {
                seen.push(*c);
                codes.push(c.as_str());
                seen.len() as u32 - 1
            }
        })
        .collect();
    let ts = |v: &[i64]| -> ArrayRef {
        Arc::new(
            TimestampNanosecondArray::new(ScalarBuffer::from(v.to_vec()), None)
                .with_timezone("UTC"),
        )
    };
    let mut names = vec![
        "id",
        "partner",
        "kind",
        "event",
        "customer",
        "rule",
        "amount",
        "currency",
        "status",
        "earned_at",
        "available_at",
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(&ids)?),
        dict(keys(&l.partner), &l.partner_names)?,
        dict(keys(&kind), &kind_names)?,
        dict(keys(&l.event), &l.event_names)?,
        dict(keys(&l.customer), &l.customer_names)?,
        dict(keys(&l.rule), &l.rule_names)?,
        Arc::new(
            Decimal128Array::new(ScalarBuffer::from(amount), None)
                .with_precision_and_scale(38, scale as i8)
                .map_err(arrow_err)?,
        ),
        dict(keys(&currency), &codes)?,
        dict(keys(&status), &status_names)?,
        ts(&l.earned_at),
        ts(&l.available_at),
    ];
    if let Some(ex) = &l.explain {
        names.push("explain");
        columns.push(Arc::new(string_array(ex)?));
    }
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(name, c)| Field::new(*name, c.data_type().clone(), c.null_count() > 0))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}

/// Totals per partner and currency as a record batch: `partner` and `currency` utf8,
/// `entries` int64, and `earned`, `reversed`, `net`, `pending`, `available`, `paid` as
/// decimal128(38, s) with `s` the largest minor unit among the currencies.
///
/// # Errors
///
/// As [`ledger_to_batch`].
pub fn totals_to_batch(totals: &[Total]) -> Result<RecordBatch> {
    let scale = totals
        .iter()
        .map(|t| t.currency.digits())
        .max()
        .unwrap_or(2);
    let mut partner = Strings::default();
    let mut currency = Strings::default();
    for t in totals {
        partner.push(&t.partner);
        currency.push(t.currency.as_str());
    }
    let dec = |f: &dyn Fn(&Total) -> i128| -> Result<ArrayRef> {
        let v: Vec<i128> = totals
            .iter()
            .map(|t| f(t) * 10i128.pow(scale - t.currency.digits()))
            .collect();
        Ok(Arc::new(
            Decimal128Array::new(ScalarBuffer::from(v), None)
                .with_precision_and_scale(38, scale as i8)
                .map_err(arrow_err)?,
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(&partner)?),
        Arc::new(string_array(&currency)?),
        Arc::new(Int64Array::from(
            totals.iter().map(|t| t.entries as i64).collect::<Vec<_>>(),
        )),
        dec(&|t| t.earned)?,
        dec(&|t| t.reversed)?,
        dec(&|t| t.net())?,
        dec(&|t| t.pending)?,
        dec(&|t| t.available)?,
        dec(&|t| t.paid)?,
    ];
    let names = [
        "partner",
        "currency",
        "entries",
        "earned",
        "reversed",
        "net",
        "pending",
        "available",
        "paid",
    ];
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(name, c)| Field::new(*name, c.data_type().clone(), false))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}
