//! Money: currencies, rounding, formatting and exact allocation.
//!
//! Every amount is a [`Decimal`] (base-10, no floats), interpreted against a
//! [`Currency`] whose ISO 4217 minor unit says how many decimals a payable
//! amount may have. Rounding is explicit ([`Rounding`]) and symmetric around
//! zero, and splitting money ([`allocate`]) never creates or loses a minor
//! unit: the parts always add up to the total.
//!
//! Nothing here panics on any input: invalid input or arithmetic overflow
//! yields `None`.

mod iso4217;

use std::borrow::Cow;
use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use iso4217::ISO_4217;

/// Largest scale a [`Decimal`] can carry; more minor-unit digits than this
/// cannot be represented.
const MAX_DIGITS: u32 = 28;

/// An ISO 4217 currency with a defined minor unit, e.g. `USD` or `JPY`.
///
/// Stored inline as three uppercase ASCII letters, so it is `Copy` and cheap
/// to compare. It can only be built by [`Currency::parse`] (or
/// deserialization), so every value is a code from the ISO 4217 table.
// The minor-unit digits ride along with the code: they are a function of it (so the derived
// comparisons are unchanged) and reading them is on every ledger entry's path.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3], u8);

impl Currency {
    /// Parses an ISO 4217 code with a defined minor unit (`"USD"`, `"JPY"`,
    /// `"BHD"`, `"CLF"`, ...).
    ///
    /// Case-sensitive: only uppercase is accepted, because currency codes in
    /// plans and ledgers should have one spelling. Returns `None` if the code
    /// is unknown or has no minor unit (`XAU`, `XDR`, `XXX`, ...).
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        lookup(bytes).map(|d| Currency(bytes, d as u8))
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn as_str(&self) -> &str {
        // `parse` only admits uppercase ASCII, so this never falls back; the
        // fallback exists only to avoid a panic path.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of minor-unit digits: USD 2, JPY 0, BHD 3, CLF 4, ...
    pub fn digits(&self) -> u32 {
        u32::from(self.1)
    }
}

/// Minor-unit digits of `code`, if it is in the table (sorted by code).
///
/// The codes compare as three-byte numbers, which order as the text does: every event's
/// currency is looked up, and comparing strings costs a `memcmp` call per probe.
fn lookup(code: [u8; 3]) -> Option<u32> {
    let key = |c: &[u8]| -> u32 {
        match *c {
            [a, b, d] => u32::from_be_bytes([0, a, b, d]),
            // Every code of the table has three letters (tested); a longer one sorts last.
            _ => u32::MAX,
        }
    };
    let want = key(&code);
    ISO_4217
        .binary_search_by(|(c, _)| key(c.as_bytes()).cmp(&want))
        .ok()
        .and_then(|i| ISO_4217.get(i))
        .map(|&(_, digits)| digits)
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;

        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"USD\"")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::parse(v)
                    .ok_or_else(|| E::custom(format!("unknown ISO 4217 currency {v:?}")))
            }
        }

        deserializer.deserialize_str(CodeVisitor)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Currency").into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 alphabetic currency code with a defined minor unit, e.g. \"USD\"."
        })
    }
}

/// How a plan rounds amounts to the currency's minor unit.
///
/// All modes are symmetric around zero: rounding `-x` gives exactly the
/// negation of rounding `x`. This is a deliberate finance choice, so that a
/// refund or clawback mirrors the original payout to the minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Round to nearest; ties away from zero (`2.5 -> 3`, `-2.5 -> -3`).
    #[default]
    HalfUp,
    /// Round to nearest; ties to even, a.k.a. banker's rounding
    /// (`2.5 -> 2`, `3.5 -> 4`, `-2.5 -> -2`).
    HalfEven,
    /// Truncate toward zero (`1.999 -> 1.99`, `-1.999 -> -1.99`).
    Down,
    /// Round away from zero (`1.001 -> 1.01`, `-1.001 -> -1.01`).
    Up,
}

impl Rounding {
    /// Rounds `x` to `digits` decimal places and returns it with exactly
    /// `digits` scale (`25.0` at 2 digits becomes `25.00`), so that the scale
    /// of an amount always matches its currency.
    ///
    /// The scale cannot be raised beyond what a [`Decimal`] can hold: a value
    /// with ~28 significant integer digits, or `digits > 28`, keeps the
    /// largest scale that fits. Zero is always returned without a sign.
    pub fn round(self, x: Decimal, digits: u32) -> Decimal {
        let strategy = match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        };
        let mut r = x.round_dp_with_strategy(digits, strategy);
        // round_dp_with_strategy leaves fewer decimals untouched; pad so that
        // "25.0" becomes "25.00" and amounts compare and print uniformly.
        r.rescale(digits);
        if r.is_zero() {
            // Rounding -0.001 toward zero yields a signed zero; normalize it so
            // it never surfaces as "-0.00".
            r.set_sign_positive(true);
        }
        r
    }

    /// The canonical name, as used in plans: `"half_up"`, `"half_even"`,
    /// `"down"` or `"up"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
            Rounding::Down => "down",
            Rounding::Up => "up",
        }
    }
}

/// Formats a money amount with exactly `digits` decimals: `25` at 2 digits is
/// `"25.00"`.
///
/// The input is expected to be rounded already. Trailing zeros beyond
/// `digits` are dropped (`25.000` prints as `"25.00"`), but an amount that
/// really has more decimals than `digits` is printed with its own scale
/// rather than silently rounded, so a missed rounding step stays visible.
/// Zero never prints with a sign (`"0.00"`, never `"-0.00"`).
pub fn fmt_amount(x: Decimal, digits: u32) -> String {
    decimal_text(with_minor_unit(x, digits))
}

/// `x` exactly as `Decimal`'s `Display` writes it (`"-12.340"`, `"0.05"`, `"7"`, and
/// `"-0.00"` for a negative zero): the mantissa's digits, the point `scale` places from
/// the right, a `-` for a negative sign.
///
/// The canonical JSON's amounts ([`fmt_amount`]) and plain numbers (percents, weights,
/// computed amounts, rates) are written through here, and so are the bindings' typed
/// values made from them. `Display` finds the digits one division of the 96-bit mantissa
/// at a time and writes them through `Formatter::pad_integral`, about 580 instructions for
/// an amount; this is `itoa`'s digits of the same mantissa and one allocation
/// (bench/README, twenty-third session). A property test holds it to `Display`.
pub fn decimal_text(x: Decimal) -> String {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(x.mantissa().unsigned_abs());
    let scale = x.scale() as usize;
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if x.is_sign_negative() {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(digits);
    } else if digits.len() <= scale {
        // A fraction only: "0." and the zeros the mantissa's digits do not reach.
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// The value [`fmt_amount`] prints: `x` with scale exactly `digits` when that loses nothing
/// (`25` at 2 digits is `25.00`), its own scale otherwise, and zero without a sign.
///
/// For hosts that receive amounts as decimals rather than text (Swift `Decimal`, Kotlin
/// `BigDecimal`): the digits they see are then those of the canonical report.
pub fn with_minor_unit(x: Decimal, digits: u32) -> Decimal {
    let mut x = x;
    if fits_minor_unit(x, digits) {
        // Lossless: only trailing zeros are added or removed.
        x.rescale(digits);
    }
    if x.is_zero() {
        x.set_sign_positive(true);
    }
    x
}

/// True when `x` has no more decimal places than `digits`, ignoring trailing
/// zeros: `49.90` fits 2 digits, `49.999` does not, `1.000` fits 0 digits.
pub fn fits_minor_unit(x: Decimal, digits: u32) -> bool {
    // Only trailing zeros past `digits` need the (dividing) normalization.
    x.scale() <= digits || x.normalize().scale() <= digits
}

/// Splits `total` among `shares` in proportion to their weights, so that the
/// parts add up to `total` exactly (largest-remainder method).
///
/// Each share is `(weight, key)`. Weights are non-negative and need not add
/// up to one. With `W` the sum of the weights and `U` the total in minor units, each
/// share first gets `floor(U * w / W)` units; the units left over go one each
/// to the shares with the largest fractional remainders. Ties on the remainder
/// go to the larger weight, then to the smaller key (byte-wise), so the result
/// does not depend on the order of the shares. A negative total is split as
/// its absolute value and negated, so allocation is symmetric around zero.
///
/// Returns the parts in input order, each with scale exactly `digits`;
/// zero-weight shares get zero.
///
/// Returns `None` if `total` is not a whole number of minor units at
/// `digits`, if `shares` is empty, if any weight is negative, if all weights
/// are zero, if `digits > 28`, or on arithmetic overflow.
pub fn allocate(total: Decimal, digits: u32, shares: &[(Decimal, &str)]) -> Option<Vec<Decimal>> {
    if shares.is_empty() || digits > MAX_DIGITS || !fits_minor_unit(total, digits) {
        return None;
    }
    let mut weight_sum = Decimal::ZERO;
    for &(w, _) in shares {
        if w < Decimal::ZERO {
            return None;
        }
        weight_sum = weight_sum.checked_add(w)?;
    }
    if weight_sum.is_zero() {
        return None;
    }

    // Work in whole minor units of |total|; the sign is restored at the end.
    let scale_factor = Decimal::try_from_i128_with_scale(10_i128.checked_pow(digits)?, 0).ok()?;
    let units = total.abs().checked_mul(scale_factor)?.trunc();
    let units_int = units.to_i128()?;

    let mut parts: Vec<i128> = Vec::with_capacity(shares.len());
    let mut remainders: Vec<Decimal> = Vec::with_capacity(shares.len());
    let mut assigned: i128 = 0;
    for &(w, _) in shares {
        let quota = units.checked_mul(w)?.checked_div(weight_sum)?;
        let floor = quota.floor();
        remainders.push(quota.checked_sub(floor)?);
        let floor_int = floor.to_i128()?;
        assigned = assigned.checked_add(floor_int)?;
        parts.push(floor_int);
    }

    // Priority for the leftover units: largest remainder, then larger weight,
    // then smaller key. The index is a last resort so that even duplicate
    // keys give a deterministic (total) order.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (wa, ka) = shares[a];
        let (wb, kb) = shares[b];
        remainders[b]
            .cmp(&remainders[a])
            .then_with(|| wb.cmp(&wa))
            .then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
            .then(a.cmp(&b))
    });

    let mut leftover = units_int.checked_sub(assigned)?;
    // With exact arithmetic 0 <= leftover < (number of positive weights) and
    // the first pass below does all the work. Decimal division rounds at the
    // 28th significant digit, so for extreme inputs a floor can be one unit
    // off; the loops absorb that while keeping the sum exact. Both terminate:
    // some weight is positive, and when leftover < 0 the parts sum to more
    // than |leftover|, so some part can still give a unit back.
    while leftover > 0 {
        for &i in &order {
            if leftover == 0 {
                break;
            }
            if !shares[i].0.is_zero() {
                parts[i] += 1;
                leftover -= 1;
            }
        }
    }
    while leftover < 0 {
        for &i in order.iter().rev() {
            if leftover == 0 {
                break;
            }
            if parts[i] > 0 {
                parts[i] -= 1;
                leftover += 1;
            }
        }
    }

    let negative = total.is_sign_negative();
    parts
        .into_iter()
        .map(|p| {
            let p = if negative { -p } else { p };
            Decimal::try_from_i128_with_scale(p, digits).ok()
        })
        .collect()
}

/// Parses a decimal string strictly, keeping the scale as written (`"49.90"`
/// has scale 2).
///
/// Accepted: an optional `-`, one or more ASCII digits, then optionally `.`
/// followed by one or more digits. Leading zeros are fine (`"00.5"` is 0.5).
/// Rejected (`None`): `+`, exponents, whitespace, a leading or trailing `.`,
/// thousands separators, more than 28 significant digits or more than 28
/// decimals. Amounts in plans are data, so anything ambiguous is refused
/// rather than guessed.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !frac_part.is_none_or(all_digits) {
        return None;
    }
    let frac_part = frac_part.unwrap_or("");
    let scale = u32::try_from(frac_part.len()).ok()?;
    if scale > MAX_DIGITS {
        return None;
    }

    let mut mantissa: i128 = 0;
    let mut significant: u32 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        let d = i128::from(b - b'0');
        if significant == 0 && d == 0 {
            // Leading zeros carry no information and do not count.
            continue;
        }
        significant += 1;
        if significant > MAX_DIGITS {
            return None;
        }
        // At most 28 digits: < 10^28, far below i128::MAX.
        mantissa = mantissa * 10 + d;
    }
    if negative {
        // i128 has no negative zero, so "-0.00" becomes an unsigned 0.00.
        mantissa = -mantissa;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).expect("test literal")
    }

    fn cur(code: &str) -> Currency {
        Currency::parse(code).expect("test currency")
    }

    #[test]
    fn currency_parse_and_digits() {
        for (code, digits) in [
            ("USD", 2),
            ("EUR", 2),
            ("JPY", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("CLF", 4),
            ("ISK", 0),
            ("XOF", 0),
            ("GBP", 2),
            ("CHF", 2),
            ("CNY", 2),
            ("INR", 2),
            ("BRL", 2),
            ("UYW", 4),
            ("XCG", 2),
            ("ZWG", 2),
        ] {
            let c = cur(code);
            assert_eq!(c.as_str(), code);
            assert_eq!(c.digits(), digits, "{code}");
        }
        for bad in [
            "XAU", "XXX", "XDR", "usd", "Usd", "US", "USDD", "", "HRK", "ÜSD", "US ",
        ] {
            assert_eq!(Currency::parse(bad), None, "{bad:?}");
        }
        // Every code of the table is found with its digits, and the codes between and
        // around them are not (the lookup compares codes as numbers).
        for &(code, digits) in super::ISO_4217 {
            assert_eq!(cur(code).digits(), digits, "{code}");
        }
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in [b'A', b'M', b'Z'] {
                    let code = String::from_utf8(vec![a, b, c]).expect("ASCII");
                    let listed = super::ISO_4217.iter().any(|(k, _)| *k == code);
                    assert_eq!(Currency::parse(&code).is_some(), listed, "{code}");
                }
            }
        }
    }

    #[test]
    fn currency_display_debug_serde() {
        let c = cur("JPY");
        assert_eq!(c.to_string(), "JPY");
        assert_eq!(format!("{c:?}"), "JPY");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"JPY\"");
        assert_eq!(serde_json::from_str::<Currency>("\"JPY\"").unwrap(), c);
        let err = serde_json::from_str::<Currency>("\"XYZ\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown ISO 4217 currency \"XYZ\""),
            "{err}"
        );
        assert!(serde_json::from_str::<Currency>("12").is_err());
    }

    #[test]
    fn currency_schema_is_pattern_string() {
        let schema = serde_json::to_value(schemars::schema_for!(Currency)).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["pattern"], "^[A-Z]{3}$");
    }

    #[test]
    fn rounding_serde_names() {
        for (mode, name) in [
            (Rounding::HalfUp, "half_up"),
            (Rounding::HalfEven, "half_even"),
            (Rounding::Down, "down"),
            (Rounding::Up, "up"),
        ] {
            assert_eq!(mode.as_str(), name);
            assert_eq!(serde_json::to_string(&mode).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Rounding>(&format!("\"{name}\"")).unwrap(),
                mode
            );
        }
        assert_eq!(Rounding::default(), Rounding::HalfUp);
        for bad in ["\"HalfUp\"", "\"half-up\"", "\"bankers\"", "\"\"", "0"] {
            assert!(serde_json::from_str::<Rounding>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rounding_table() {
        use Rounding::*;
        let cases: &[(Rounding, &str, u32, &str)] = &[
            // HalfUp: ties away from zero.
            (HalfUp, "2.5", 0, "3"),
            (HalfUp, "-2.5", 0, "-3"),
            (HalfUp, "3.5", 0, "4"),
            (HalfUp, "0.125", 2, "0.13"),
            (HalfUp, "-0.125", 2, "-0.13"),
            (HalfUp, "1.2345", 3, "1.235"),
            (HalfUp, "-1.2345", 3, "-1.235"),
            (HalfUp, "1234.5", 0, "1235"),
            (HalfUp, "0.124", 2, "0.12"),
            // HalfEven: banker's.
            (HalfEven, "2.5", 0, "2"),
            (HalfEven, "-2.5", 0, "-2"),
            (HalfEven, "3.5", 0, "4"),
            (HalfEven, "-3.5", 0, "-4"),
            (HalfEven, "0.125", 2, "0.12"),
            (HalfEven, "0.135", 2, "0.14"),
            (HalfEven, "-0.125", 2, "-0.12"),
            (HalfEven, "-0.135", 2, "-0.14"),
            (HalfEven, "1234.5", 0, "1234"),
            (HalfEven, "1.2345", 3, "1.234"),
            (HalfEven, "-1.2345", 3, "-1.234"),
            (HalfEven, "1.2355", 3, "1.236"),
            (HalfEven, "0.1251", 2, "0.13"),
            // Down: toward zero.
            (Down, "2.5", 0, "2"),
            (Down, "-2.5", 0, "-2"),
            (Down, "1.999", 2, "1.99"),
            (Down, "-1.999", 2, "-1.99"),
            (Down, "-1.239", 2, "-1.23"),
            (Down, "1.2349", 3, "1.234"),
            (Down, "-1.2349", 3, "-1.234"),
            // Up: away from zero.
            (Up, "2.1", 0, "3"),
            (Up, "-2.1", 0, "-3"),
            (Up, "1.001", 2, "1.01"),
            (Up, "-1.001", 2, "-1.01"),
            (Up, "-1.231", 2, "-1.24"),
            (Up, "1.2341", 3, "1.235"),
            (Up, "-1.2341", 3, "-1.235"),
            (Up, "1.23", 2, "1.23"),
        ];
        for &(mode, x, digits, want) in cases {
            let got = mode.round(d(x), digits);
            assert_eq!(got.to_string(), want, "{mode:?} {x} @{digits}");
        }
    }

    #[test]
    fn rounding_pads_and_never_returns_negative_zero() {
        let r = Rounding::HalfUp.round(d("25.0"), 2);
        assert_eq!(r.scale(), 2);
        assert_eq!(r.to_string(), "25.00");
        assert_eq!(fmt_amount(r, 2), "25.00");
        assert_eq!(Rounding::HalfEven.round(d("7"), 3).to_string(), "7.000");
        for mode in [
            Rounding::HalfUp,
            Rounding::HalfEven,
            Rounding::Down,
            Rounding::Up,
        ] {
            let z = mode.round(d("-0.001"), 2);
            if z.is_zero() {
                assert_eq!(z.to_string(), "0.00", "{mode:?}");
            }
        }
        assert_eq!(Rounding::Down.round(d("-0.001"), 2).to_string(), "0.00");
    }

    #[test]
    fn fmt_amount_cases() {
        assert_eq!(fmt_amount(d("25"), 2), "25.00");
        assert_eq!(fmt_amount(d("25.000"), 2), "25.00");
        assert_eq!(fmt_amount(d("-0.5"), 1), "-0.5");
        assert_eq!(fmt_amount(d("-3"), 0), "-3");
        assert_eq!(fmt_amount(d("1234"), 0), "1234");
        assert_eq!(fmt_amount(d("0.1230"), 3), "0.123");
        // More decimals than the currency has: shown as-is, never rounded.
        assert_eq!(fmt_amount(d("1.005"), 2), "1.005");
        // Negative zero prints unsigned.
        assert_eq!(fmt_amount(-d("0.00"), 2), "0.00");
        let mut neg_zero = Decimal::new(0, 2);
        neg_zero.set_sign_negative(true);
        assert_eq!(fmt_amount(neg_zero, 2), "0.00");
        assert_eq!(fmt_amount(neg_zero, 0), "0");
    }

    #[test]
    fn fits_minor_unit_cases() {
        assert!(fits_minor_unit(d("49.90"), 2));
        assert!(fits_minor_unit(d("49.9"), 2));
        assert!(!fits_minor_unit(d("49.999"), 2));
        assert!(fits_minor_unit(d("1.000"), 0));
        assert!(!fits_minor_unit(d("1.5"), 0));
        assert!(fits_minor_unit(d("0.0000"), 0));
        assert!(fits_minor_unit(d("-1.2340"), 3));
    }

    fn alloc(total: &str, digits: u32, shares: &[(&str, &str)]) -> Option<Vec<String>> {
        let shares: Vec<(Decimal, &str)> = shares.iter().map(|&(w, k)| (d(w), k)).collect();
        allocate(d(total), digits, &shares)
            .map(|parts| parts.iter().map(Decimal::to_string).collect())
    }

    #[test]
    fn allocate_thirds_extra_cent_to_smallest_key() {
        assert_eq!(
            alloc("100.00", 2, &[("1", "a"), ("1", "b"), ("1", "c")]).unwrap(),
            ["33.34", "33.33", "33.33"]
        );
        // Input order does not matter: the "a" share still gets the cent.
        assert_eq!(
            alloc("100.00", 2, &[("1", "c"), ("1", "b"), ("1", "a")]).unwrap(),
            ["33.33", "33.33", "33.34"]
        );
        // A total with fewer decimals is still returned at the currency scale.
        assert_eq!(
            alloc("100", 2, &[("1", "a"), ("1", "b"), ("1", "c")]).unwrap(),
            ["33.34", "33.33", "33.33"]
        );
    }

    #[test]
    fn allocate_zero_digits() {
        assert_eq!(
            alloc("10", 0, &[("0.5", "x"), ("0.3", "y"), ("0.2", "z")]).unwrap(),
            ["5", "3", "2"]
        );
    }

    #[test]
    fn allocate_single_unit_goes_to_smallest_key() {
        assert_eq!(
            alloc("0.01", 2, &[("1", "m"), ("1", "b"), ("1", "z")]).unwrap(),
            ["0.00", "0.01", "0.00"]
        );
    }

    #[test]
    fn allocate_larger_weight_wins_equal_remainder() {
        // Quotas 0.5 and 1.5: same remainder 0.5, one unit left over; it goes
        // to the larger weight even though its key sorts later.
        assert_eq!(
            alloc("2", 0, &[("1", "a"), ("3", "b")]).unwrap(),
            ["0", "2"]
        );
        // Largest remainder beats weight: 10 by 1:2 -> quotas 3.33 and 6.67.
        assert_eq!(
            alloc("10", 0, &[("1", "a"), ("2", "b")]).unwrap(),
            ["3", "7"]
        );
    }

    #[test]
    fn allocate_negative_total_is_symmetric() {
        assert_eq!(
            alloc("-100.00", 2, &[("1", "a"), ("1", "b"), ("1", "c")]).unwrap(),
            ["-33.34", "-33.33", "-33.33"]
        );
        assert_eq!(
            alloc("-0.01", 2, &[("1", "b"), ("0", "a")]).unwrap(),
            ["-0.01", "0.00"]
        );
    }

    #[test]
    fn allocate_zero_weight_and_zero_total() {
        assert_eq!(
            alloc("1.00", 2, &[("0", "a"), ("1", "b"), ("1", "c")]).unwrap(),
            ["0.00", "0.50", "0.50"]
        );
        assert_eq!(
            alloc("0", 2, &[("1", "a"), ("2", "b")]).unwrap(),
            ["0.00", "0.00"]
        );
        // Zero-weight shares never receive leftover units, whatever their key.
        assert_eq!(
            alloc("0.01", 2, &[("0", "a"), ("1", "z")]).unwrap(),
            ["0.00", "0.01"]
        );
    }

    #[test]
    fn allocate_rejects_bad_input() {
        // Not a whole number of minor units.
        assert_eq!(alloc("100.005", 2, &[("1", "a")]), None);
        assert_eq!(alloc("1.5", 0, &[("1", "a")]), None);
        // All-zero weights, no shares, negative weights.
        assert_eq!(alloc("1.00", 2, &[("0", "a"), ("0", "b")]), None);
        assert_eq!(alloc("1.00", 2, &[]), None);
        assert_eq!(alloc("1.00", 2, &[("-1", "a"), ("2", "b")]), None);
        // Too many digits for a Decimal.
        assert_eq!(alloc("1", 29, &[("1", "a")]), None);
        // Overflow: the total in minor units does not fit.
        assert_eq!(
            alloc("9999999999999999999999999999", 2, &[("1", "a")]),
            None
        );
    }

    #[test]
    fn allocate_extreme_weights_do_not_panic_and_sum() {
        let shares = [
            (d("0.0000000000000000000000000001"), "a"),
            (d("9999999999999999999999999999"), "b"),
            (d("3"), "c"),
        ];
        if let Some(parts) = allocate(d("12345.67"), 2, &shares) {
            let sum = parts.iter().fold(Decimal::ZERO, |acc, p| acc + p);
            assert_eq!(sum, d("12345.67"));
        }
    }

    #[test]
    fn parse_decimal_table() {
        for (s, want) in [
            ("0", "0"),
            ("49.90", "49.90"),
            ("00.5", "0.5"),
            ("-1.25", "-1.25"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("007", "7"),
            (
                "1234567890123456789012345678",
                "1234567890123456789012345678",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            ("000000000000000000000000000000001", "1"),
        ] {
            let got = parse_decimal(s).unwrap_or_else(|| panic!("{s:?} rejected"));
            assert_eq!(got.to_string(), want, "{s:?}");
        }
        assert_eq!(parse_decimal("49.90").map(|x| x.scale()), Some(2));
        for s in [
            "",
            "-",
            "+1",
            "1.",
            ".5",
            "-.5",
            "1e5",
            "1E5",
            " 1",
            "1 ",
            "1,000",
            "1_000",
            "--1",
            "1.2.3",
            "0x10",
            "١",
            "12345678901234567890123456789",
            "0.00000000000000000000000000001",
            "NaN",
            "inf",
        ] {
            assert_eq!(parse_decimal(s), None, "{s:?}");
        }
    }
}

/// The largest amount partnerkit accepts in a document: 10^18 (a quintillion units of any
/// currency). Bounding inputs keeps every sum and product of a ledger far inside
/// `rust_decimal`'s 28 digits, so no arithmetic on accepted input can overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0);

/// Whether `x` is within ±[`MAX_AMOUNT`].
pub fn within_limits(x: Decimal) -> bool {
    // A mantissa up to 10^18 is within whatever the scale: no decimal comparison needed.
    x.mantissa().unsigned_abs() <= 1_000_000_000_000_000_000 || x.abs() <= MAX_AMOUNT
}

#[cfg(test)]
mod text_tests {
    use super::*;
    use proptest::prelude::*;

    /// `-0.00`: `from_parts` drops the sign of a zero, `set_sign_negative` keeps it.
    fn negative_zero() -> Decimal {
        let mut z = Decimal::new(0, 2);
        z.set_sign_negative(true);
        z
    }

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        for (x, text) in [
            (Decimal::new(-12_340, 3), "-12.340"),
            (Decimal::new(5, 2), "0.05"),
            // As many digits as the scale: no zeros between the point and the digits.
            (Decimal::new(12, 2), "0.12"),
            (Decimal::new(10_000, 5), "0.10000"),
            (Decimal::new(7, 0), "7"),
            (Decimal::new(0, 2), "0.00"),
            (Decimal::new(0, 0), "0"),
            (negative_zero(), "-0.00"),
            (Decimal::new(-1, 28), "-0.0000000000000000000000000001"),
            (Decimal::MAX, "79228162514264337593543950335"),
            (Decimal::MIN, "-79228162514264337593543950335"),
            (
                Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 28),
                "7.9228162514264337593543950335",
            ),
        ] {
            assert_eq!(decimal_text(x), text);
            assert_eq!(x.to_string(), text, "the table itself is Display's");
        }
    }

    proptest! {
        #[test]
        fn any_decimal_is_written_as_display_writes_it(
            lo in any::<u32>(),
            mid in any::<u32>(),
            hi in any::<u32>(),
            negative in any::<bool>(),
            scale in 0u32..=28,
            small in any::<bool>(),
        ) {
            // Half the cases with a mantissa of a few digits, where the leading zeros of a
            // fraction and a zero mantissa live.
            let (mid, hi, lo) = if small { (0, 0, lo % 100_000) } else { (mid, hi, lo) };
            // The sign set apart: `from_parts` would drop a zero's, and `-0.00` is a case.
            let mut x = Decimal::from_parts(lo, mid, hi, false, scale);
            x.set_sign_negative(negative);
            prop_assert_eq!(decimal_text(x), x.to_string());
        }
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn max_amount_is_ten_to_the_eighteenth() {
        assert_eq!(MAX_AMOUNT.to_string(), "1000000000000000000");
        assert!(within_limits(MAX_AMOUNT) && within_limits(-MAX_AMOUNT));
        assert!(!within_limits(MAX_AMOUNT + Decimal::ONE));
    }
}
