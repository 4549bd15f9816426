//! The input document: plan, partners, events, FX rates and `as_of` (SPEC §2).
//!
//! Events arrive as flat JSON objects (`{"id", "kind", "at", ...}`) and are checked per kind:
//! a field that does not belong to the kind is `UnknownField`, a missing one `MissingField`,
//! so a webhook mapped wrongly fails loudly instead of paying the wrong partner.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::dec::Dec;
use crate::error::{Error, ErrorCode, Result};
use crate::json::{from_str_at, from_value_at};
use crate::money::{Currency, fits_minor_unit, within_limits};
use crate::plan::{Channel, Plan};
use crate::time::{Instant, parse_date, parse_instant};

/// An RFC 3339 instant in a document (offset required), stored as UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At(pub Instant);

impl JsonSchema for At {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Instant".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 instant with an offset, e.g. \"2026-01-15T12:00:00Z\"."
        })
    }
}

/// The newtype-struct name under which an [`At`] asks its deserializer for an instant.
///
/// JSON text and JSON values answer as for any newtype: with the RFC 3339 text, which is
/// parsed. A deserializer that holds instants as values (the Python binding's event reader,
/// given a `datetime` in UTC) may instead answer `visit_i128` with the nanoseconds since
/// the Unix epoch: the instant without text written and parsed back in between. Only
/// instants that text could give (years 0000 to 9999) are taken so.
pub const INSTANT_TOKEN: &str = "$partnerkit::input::At";

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<At, D::Error> {
        d.deserialize_newtype_struct(INSTANT_TOKEN, AtVisitor)
    }
}

/// Reads an instant's text where it lies, without copying it into a `String` first; it
/// takes what serde's `String` takes (text, and bytes that are UTF-8), with the same
/// `expected a string` when given anything else; and the nanoseconds of an
/// [`INSTANT_TOKEN`] answer.
struct AtVisitor;

impl<'de> serde::de::Visitor<'de> for AtVisitor {
    type Value = At;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> std::result::Result<At, D::Error> {
        d.deserialize_string(self)
    }

    fn visit_i128<E: serde::de::Error>(self, nanos: i128) -> std::result::Result<At, E> {
        use chrono::Datelike;
        // Years 1677 to 2262 (every instant a binding hands over today) fit an `i64`, whose
        // division is a few instructions where an `i128`'s is a library call.
        let (secs, sub) = match i64::try_from(nanos) {
            Ok(n) => (
                Some(n.div_euclid(1_000_000_000)),
                u32::try_from(n.rem_euclid(1_000_000_000)).ok(),
            ),
            Err(_) => (
                i64::try_from(nanos.div_euclid(1_000_000_000)).ok(),
                u32::try_from(nanos.rem_euclid(1_000_000_000)).ok(),
            ),
        };
        secs.zip(sub)
            .and_then(|(secs, sub)| chrono::DateTime::from_timestamp(secs, sub))
            .filter(|t| (0..=9999).contains(&t.naive_utc().year()))
            .map(At)
            .ok_or_else(|| {
                E::custom(format!(
                    "instant {nanos} ns from the Unix epoch is outside years 0000 to 9999"
                ))
            })
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<At, E> {
        parse_instant(s).map(At).map_err(E::custom)
    }

    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> std::result::Result<At, E> {
        match std::str::from_utf8(b) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(b), &self)),
        }
    }
}

/// A `YYYY-MM-DD` date in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Date(chrono::NaiveDate);

impl JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "description": "A calendar date, e.g. \"2026-01-31\"."
        })
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        parse_date(&s).map(Date).map_err(serde::de::Error::custom)
    }
}

/// A partner's status from an instant on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    /// Earning.
    Active,
    /// Temporarily not earning.
    Suspended,
    /// No longer in the program.
    Terminated,
}

/// A partner's status from `at` on.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StatusChange")]
struct StatusDoc {
    /// When the status takes effect.
    at: At,
    /// The status from then on.
    status: PartnerStatus,
}

/// A partner (SPEC §2.2).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Partner")]
struct PartnerDoc {
    /// Unique partner id.
    id: String,
    /// Free-text segment ("affiliate", "agency", "reseller", ...).
    #[serde(default)]
    segment: Option<String>,
    /// Parent partner id, for overrides.
    #[serde(default)]
    parent: Option<String>,
    /// When the partner joined.
    #[serde(default)]
    joined_at: Option<At>,
    /// Status changes; the partner is active before the first one.
    #[serde(default)]
    status: Vec<StatusDoc>,
    /// Initial tier.
    #[serde(default)]
    tier: Option<String>,
    /// Customer keys the partner itself controls (self-referral detection).
    #[serde(default)]
    own_customers: Vec<String>,
    /// Free attributes that rules can match.
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    /// Statement currency when the plan pays in the partner's currency.
    #[serde(default)]
    payout_currency: Option<Currency>,
}

/// A partner (SPEC §2.2).
#[derive(Clone, Debug, PartialEq)]
pub struct Partner {
    /// Unique id.
    pub id: String,
    /// Free-text segment ("affiliate", "agency", ...).
    pub segment: Option<String>,
    /// Parent partner id, for overrides.
    pub parent: Option<String>,
    /// When the partner joined.
    pub joined_at: Option<Instant>,
    /// Status changes, sorted by instant; active before the first one.
    pub status: Vec<(Instant, PartnerStatus)>,
    /// Initial tier.
    pub tier: Option<String>,
    /// Customer keys the partner itself controls (self-referral detection), sorted.
    pub own_customers: Vec<String>,
    /// Free attributes, matched by rules.
    pub attributes: BTreeMap<String, String>,
    /// Statement currency when the plan pays in the partner's currency.
    pub payout_currency: Option<Currency>,
}

impl Partner {
    /// A partner with only its id: active throughout, no segment, parent, tier,
    /// attributes or payout currency (what a benchmark or a simulated population needs).
    pub fn new(id: impl Into<String>) -> Partner {
        Partner {
            id: id.into(),
            segment: None,
            parent: None,
            joined_at: None,
            status: Vec::new(),
            tier: None,
            own_customers: Vec::new(),
            attributes: BTreeMap::new(),
            payout_currency: None,
        }
    }

    /// The status in force at `t` (a change takes effect at its instant).
    pub fn status_at(&self, t: Instant) -> PartnerStatus {
        self.status
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(PartnerStatus::Active, |(_, s)| *s)
    }
}

/// An event (SPEC §2.3), flat: which fields belong to which `kind` is checked when it is read
/// (a field of another kind is `UnknownField`, a missing one `MissingField`).
#[derive(Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Event")]
struct RawEvent {
    /// Unique event id: the same id with the same content is a duplicate and ignored.
    #[schemars(with = "String")]
    id: EventId,
    /// What happened.
    kind: Kind,
    /// When it happened.
    at: At,
    /// touch, adjustment: the partner.
    #[serde(default)]
    partner: Option<String>,
    /// touch, signup, payment, assign: the customer key.
    #[serde(default)]
    customer: Option<String>,
    /// touch: how the partner reached the customer.
    #[serde(default)]
    channel: Option<Channel>,
    /// touch: campaign tag.
    #[serde(default)]
    campaign: Option<String>,
    /// touch: IP address or a hash of it.
    #[serde(default)]
    ip: Option<String>,
    /// touch: free metadata.
    #[serde(default)]
    meta: Option<BTreeMap<String, String>>,
    /// signup: whether the lead meets the host's criteria (default true).
    #[serde(default)]
    qualified: Option<bool>,
    /// payment (total charged, tax and discount included), refund, adjustment (signed).
    #[serde(default)]
    amount: Option<Dec>,
    /// payment, adjustment: the amount's currency.
    #[serde(default)]
    currency: Option<Currency>,
    /// payment: tax included in `amount`.
    #[serde(default)]
    tax: Option<Dec>,
    /// payment: discount included in `amount`.
    #[serde(default)]
    discount: Option<Dec>,
    /// payment: product id.
    #[serde(default)]
    product: Option<String>,
    /// payment: subscription id.
    #[serde(default)]
    subscription: Option<String>,
    /// payment: order id.
    #[serde(default)]
    order: Option<String>,
    /// refund, chargeback: the id of the payment event.
    #[serde(default)]
    payment: Option<String>,
    /// adjustment, assign: why.
    #[serde(default)]
    reason: Option<String>,
    /// assign: `[{partner, weight}]`.
    #[serde(default)]
    partners: Option<serde_json::Value>,
}

/// An event's id, read straight into the shared text an [`Event`] holds: one allocation
/// per event instead of a `String` copied into an `Arc` (every event pays it, the webhook
/// path's one event per call included). It takes what serde's `String` takes, with the
/// same `expected a string` when given anything else.
#[derive(PartialEq)]
struct EventId(std::sync::Arc<str>);

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<EventId, D::Error> {
        d.deserialize_string(EventIdVisitor)
    }
}

/// The visitor of [`EventId`]: `String`'s, making an `Arc<str>` from the text where it lies.
struct EventIdVisitor;

impl serde::de::Visitor<'_> for EventIdVisitor {
    type Value = EventId;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<EventId, E> {
        Ok(EventId(std::sync::Arc::from(s)))
    }

    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> std::result::Result<EventId, E> {
        match std::str::from_utf8(b) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(b), &self)),
        }
    }
}

/// The kind of an event; the order is the canonical rank (SPEC §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A partner reached a customer.
    Touch,
    /// A manual (re)attribution.
    Assign,
    /// A customer signed up.
    Signup,
    /// A customer paid.
    Payment,
    /// Part of a payment was refunded.
    Refund,
    /// A payment was disputed and reversed.
    Chargeback,
    /// A manual bonus or penalty.
    Adjustment,
}

impl Kind {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Touch => "touch",
            Kind::Assign => "assign",
            Kind::Signup => "signup",
            Kind::Payment => "payment",
            Kind::Refund => "refund",
            Kind::Chargeback => "chargeback",
            Kind::Adjustment => "adjustment",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event (SPEC §2.3): id, instant, and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Unique id (duplicates with the same content are ignored). Shared, because every
    /// entry the event causes names it.
    pub id: std::sync::Arc<str>,
    /// When it happened.
    pub at: Instant,
    /// What happened.
    pub body: Body,
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::Touch(_) => Kind::Touch,
            Body::Signup { .. } => Kind::Signup,
            Body::Payment(_) => Kind::Payment,
            Body::Refund { .. } => Kind::Refund,
            Body::Chargeback { .. } => Kind::Chargeback,
            Body::Adjustment { .. } => Kind::Adjustment,
            Body::Assign { .. } => Kind::Assign,
        }
    }

    /// The canonical order key `(at, kind rank, id)`.
    pub fn order_key(&self) -> (Instant, Kind, &str) {
        (self.at, self.kind(), &self.id)
    }
}

/// A touch: a partner reached a customer.
#[derive(Clone, Debug, PartialEq)]
pub struct Touch {
    /// The partner.
    pub partner: String,
    /// The customer key.
    pub customer: String,
    /// How.
    pub channel: Channel,
    /// Campaign tag.
    pub campaign: Option<String>,
    /// IP address or a hash of it.
    pub ip: Option<String>,
    /// Free metadata.
    pub meta: BTreeMap<String, String>,
}

/// A payment.
#[derive(Clone, Debug, PartialEq)]
pub struct Payment {
    /// The customer key.
    pub customer: String,
    /// Amount charged, before tax and discount are taken out for the net base.
    pub amount: Decimal,
    /// Currency of every amount of this payment.
    pub currency: Currency,
    /// Tax included in `amount`.
    pub tax: Decimal,
    /// Discount included in `amount`.
    pub discount: Decimal,
    /// Product.
    pub product: Option<String>,
    /// Subscription.
    pub subscription: Option<String>,
    /// Order.
    pub order: Option<String>,
}

/// One partner's part in a manual assignment.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignShare {
    /// The partner.
    pub partner: String,
    /// Its weight as given (positive; the weights are normalized to sum to 1).
    pub weight: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignShareDoc {
    partner: String,
    weight: Dec,
}

/// What an event says happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// A partner reached a customer.
    Touch(Touch),
    /// A customer signed up.
    Signup {
        /// The customer key.
        customer: String,
        /// Whether the lead met the host's criteria (absent: not said).
        qualified: Option<bool>,
    },
    /// A customer paid.
    Payment(Payment),
    /// Part of a payment was refunded.
    Refund {
        /// The payment event's id.
        payment: String,
        /// Amount refunded, in the payment's currency.
        amount: Decimal,
        /// The currency the host says the refund is in; when given it must be the
        /// payment's (a mismatch is `CurrencyMismatch`, not a conversion).
        currency: Option<Currency>,
    },
    /// A payment was disputed; what is left of it is reversed.
    Chargeback {
        /// The payment event's id.
        payment: String,
        /// The currency the host says the dispute is in; when given it must be the
        /// payment's.
        currency: Option<Currency>,
    },
    /// A manual bonus (positive) or penalty (negative).
    Adjustment {
        /// The partner.
        partner: String,
        /// Signed amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
        /// Why.
        reason: String,
    },
    /// A manual (re)attribution of a customer, overriding the model from its instant on.
    Assign {
        /// The customer key.
        customer: String,
        /// The partners credited and their weights, in the order given (empty: nobody is
        /// credited from now on).
        partners: Vec<AssignShare>,
        /// Why (kept in every explanation that uses the assignment).
        reason: String,
    },
}

/// One FX rate: 1 `from` = `rate` `to`, from `date` on.
#[derive(Clone, Debug, PartialEq)]
pub struct FxRate {
    /// First date the rate applies to.
    pub date: chrono::NaiveDate,
    /// Source currency.
    pub from: Currency,
    /// Target currency.
    pub to: Currency,
    /// Units of `to` per unit of `from`.
    pub rate: Decimal,
}

/// One FX rate: 1 `from` = `rate` `to`, from `date` on (SPEC §2.4).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FxRate")]
struct FxDoc {
    /// First date the rate applies to.
    date: Date,
    /// Source currency.
    from: Currency,
    /// Target currency.
    to: Currency,
    /// Units of `to` per unit of `from`, as a decimal string.
    rate: Dec,
}

/// The input of an evaluation: plan, partners, events, FX rates and `as_of` (SPEC §2).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerkit input")]
struct InputDoc {
    /// The plan. Read as a value first so that every problem in it is reported at once.
    #[serde(default)]
    #[schemars(with = "crate::plan::PlanDoc")]
    plan: Option<serde_json::Value>,
    /// Plan versions `[{effective_from, plan}]` in the order they take effect (SPEC §2.5), instead of `plan`.
    #[serde(default)]
    plan_history: Option<serde_json::Value>,
    /// The partners.
    #[serde(default)]
    partners: Vec<PartnerDoc>,
    /// The events, in any order.
    #[serde(default)]
    events: Vec<RawEvent>,
    /// FX rates.
    #[serde(default)]
    fx: Vec<FxDoc>,
    /// The instant the report is as of: later events are left out. Required to evaluate;
    /// an engine's starting document may leave it out.
    #[serde(default)]
    as_of: Option<At>,
}

/// The JSON Schema of the input document (plan, partners, events, FX rates, `as_of`),
/// generated from the types that read it, pretty-printed. Events are one flat object whose
/// field descriptions name the kinds they belong to.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(InputDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// A whole evaluation input, parsed and checked.
#[derive(Clone, Debug)]
pub struct Input {
    /// The plan.
    pub plan: Plan,
    /// The partners.
    pub partners: Vec<Partner>,
    /// The events, in the order given (evaluation sorts them canonically).
    pub events: Vec<Event>,
    /// FX rates.
    pub fx: Vec<FxRate>,
    /// The instant the report is as of.
    pub as_of: Instant,
}

impl Input {
    /// Parses the input document `{plan, partners, events, fx, as_of}`.
    ///
    /// The default [`crate::Limits`] apply; a host with other limits calls
    /// [`crate::Limits::parse_input`].
    pub fn from_json(json: &str) -> Result<Input> {
        crate::Limits::default().parse_input(json)
    }

    /// Parses an input document whose `as_of` may be absent (an incremental engine's
    /// starting document); the instant is `None` then, and `Input::as_of` the last
    /// representable instant.
    pub(crate) fn parse(json: &str, require_as_of: bool) -> Result<(Input, Option<Instant>)> {
        let doc: InputDoc = from_str_at(json, "")?;
        // Checked before anything else, where serde would report a required field.
        if require_as_of && doc.as_of.is_none() {
            return Err(Error::new(
                ErrorCode::MissingField,
                "as_of",
                "missing field `as_of`",
            ));
        }
        let plan = match (doc.plan, doc.plan_history) {
            (Some(p), None) => Plan::from_value(&p, "plan")?,
            (None, Some(h)) => Plan::from_history_value(&h, "plan_history")?,
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    "plan_history",
                    "give either `plan` or `plan_history` (a list of versions), not both",
                ));
            }
            (None, None) => {
                return Err(Error::new(
                    ErrorCode::MissingField,
                    "plan",
                    "missing field `plan`",
                ));
            }
        };
        let partners = doc
            .partners
            .into_iter()
            .enumerate()
            .map(|(i, p)| partner(p, i))
            .collect::<Result<Vec<_>>>()?;
        let events = doc
            .events
            .into_iter()
            .enumerate()
            .map(|(i, e)| event(e, i))
            .collect::<Result<Vec<_>>>()?;
        let fx = doc
            .fx
            .into_iter()
            .enumerate()
            .map(|(i, f)| fx_rate(f, i))
            .collect::<Result<Vec<_>>>()?;
        let as_of = doc.as_of.map(|a| a.0);
        let input = Input {
            plan,
            partners,
            events,
            fx,
            as_of: as_of.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        };
        Ok((input, as_of))
    }
}

/// Parses one event from a JSON value (`path` locates errors, e.g. `events[3]`).
pub fn event_from_value(v: &serde_json::Value, path: &str) -> Result<Event> {
    let raw: RawEvent = from_value_at(v, path)?;
    event_at(raw, path)
}

/// Parses one event from JSON text (`path` locates errors, e.g. `events[0]`).
pub fn event_from_str(json: &str, path: &str) -> Result<Event> {
    let raw: RawEvent = crate::json::from_str_at(json, path)?;
    event_at(raw, path)
}

/// Parses one event from any serde deserializer — how a binding reads a host's own values
/// (a Python dict) without writing them as JSON text first. The deserializer must present
/// what the JSON document would hold (decimals and instants as their strings), so that what
/// is accepted and how it reads cannot differ from [`event_from_str`]. Errors are not
/// located below `path` (serde errors of another format carry no path): a binding that needs
/// the located error reads the same value again as JSON text, which gives it.
pub fn event_from_deserializer<'de, D: Deserializer<'de>>(
    d: D,
    path: &str,
) -> Result<CheckedEvent> {
    let raw = RawEvent::deserialize(d)
        .map_err(|e| Error::new(ErrorCode::InvalidValue, path, e.to_string()))?;
    event_at(raw, path).map(CheckedEvent)
}

/// An event that passed a document's checks, as read by [`event_from_deserializer`]: an
/// engine applies it as it applies an event of JSON text, without checking it again
/// (`Engine::apply_checked_with_status`; a Rust-built [`Event`] is checked, since nothing
/// vouches for it). Only this module makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedEvent(Event);

impl CheckedEvent {
    /// The event.
    pub fn event(&self) -> &Event {
        &self.0
    }

    /// The event, owned.
    pub fn into_event(self) -> Event {
        self.0
    }
}

/// Parses one partner from a JSON value (`path` locates errors, e.g. `partner`).
pub fn partner_from_value(v: &serde_json::Value, path: &str) -> Result<Partner> {
    let doc: PartnerDoc = from_value_at(v, path)?;
    partner_at(doc, path)
}

/// Parses one FX rate from a JSON value (`path` locates errors, e.g. `fx[0]`).
pub fn fx_rate_from_value(v: &serde_json::Value, path: &str) -> Result<FxRate> {
    let doc: FxDoc = from_value_at(v, path)?;
    fx_rate_at(doc, path)
}

fn partner(p: PartnerDoc, i: usize) -> Result<Partner> {
    partner_at(p, &format!("partners[{i}]"))
}

fn partner_at(p: PartnerDoc, path: &str) -> Result<Partner> {
    if p.id.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{path}.id"),
            "empty partner id",
        ));
    }
    let mut status: Vec<(Instant, PartnerStatus)> =
        p.status.into_iter().map(|s| (s.at.0, s.status)).collect();
    status.sort_by_key(|(at, _)| *at);
    if let Some(w) = status.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{path}.status"),
            format!(
                "two status changes at the same instant {}",
                crate::time::fmt_instant(w[0].0)
            ),
        ));
    }
    let mut own = p.own_customers;
    own.sort();
    own.dedup();
    Ok(Partner {
        id: p.id,
        segment: p.segment,
        parent: p.parent,
        joined_at: p.joined_at.map(|a| a.0),
        status,
        tier: p.tier,
        own_customers: own,
        attributes: p.attributes,
        payout_currency: p.payout_currency,
    })
}

fn event(raw: RawEvent, i: usize) -> Result<Event> {
    event_at(raw, &format!("events[{i}]"))
}

/// Checks that the fields present are exactly those the kind allows and requires.
fn event_at(raw: RawEvent, path: &str) -> Result<Event> {
    let kind = raw.kind;
    // In the order of `EVENT_FIELDS`.
    let present: [bool; 17] = [
        raw.partner.is_some(),
        raw.customer.is_some(),
        raw.channel.is_some(),
        raw.campaign.is_some(),
        raw.ip.is_some(),
        raw.meta.is_some(),
        raw.qualified.is_some(),
        raw.amount.is_some(),
        raw.currency.is_some(),
        raw.tax.is_some(),
        raw.discount.is_some(),
        raw.product.is_some(),
        raw.subscription.is_some(),
        raw.order.is_some(),
        raw.payment.is_some(),
        raw.reason.is_some(),
        raw.partners.is_some(),
    ];
    let fields = EventFields::of(kind);
    let here = present
        .iter()
        .enumerate()
        .fold(0u32, |m, (i, &p)| m | (u32::from(p) << i));
    // The first field, in `EVENT_FIELDS` order, that is there without belonging to the kind
    // or missing though the kind needs it: one test of the masks for a well-formed event.
    let wrong = (here & !fields.allowed) | (!here & fields.required);
    if wrong != 0 {
        let i = wrong.trailing_zeros();
        let field = EVENT_FIELDS.get(i as usize).copied().unwrap_or("(unnamed)");
        return Err(if here & (1 << i) != 0 {
            Error::new(
                ErrorCode::UnknownField,
                format!("{path}.{field}"),
                format!("field `{field}` does not belong to a {kind} event"),
            )
        } else {
            Error::new(
                ErrorCode::MissingField,
                format!("{path}.{field}"),
                format!(
                    "missing field `{field}`: a {kind} event needs {}",
                    fields.names.join(", ")
                ),
            )
        });
    }
    if raw.id.0.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{path}.id"),
            "empty event id",
        ));
    }
    let missing = |f: &str| Error::new(ErrorCode::Internal, format!("{path}.{f}"), "checked above");
    let body = match kind {
        Kind::Touch => Body::Touch(Touch {
            partner: raw.partner.ok_or_else(|| missing("partner"))?,
            customer: raw.customer.ok_or_else(|| missing("customer"))?,
            channel: raw.channel.ok_or_else(|| missing("channel"))?,
            campaign: raw.campaign,
            ip: raw.ip,
            meta: raw.meta.unwrap_or_default(),
        }),
        Kind::Signup => Body::Signup {
            customer: raw.customer.ok_or_else(|| missing("customer"))?,
            qualified: raw.qualified,
        },
        Kind::Payment => {
            let currency = raw.currency.ok_or_else(|| missing("currency"))?;
            let amount = money(raw.amount, currency, path, "amount", false)?;
            let tax = money(raw.tax, currency, path, "tax", false)?;
            let discount = money(raw.discount, currency, path, "discount", false)?;
            if tax + discount > amount {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("{path}.discount"),
                    format!(
                        "tax {tax} + discount {discount} exceed the amount {amount}: \
                         `amount` is the total charged, tax and discount included"
                    ),
                ));
            }
            Body::Payment(Payment {
                customer: raw.customer.ok_or_else(|| missing("customer"))?,
                amount,
                currency,
                tax,
                discount,
                product: raw.product,
                subscription: raw.subscription,
                order: raw.order,
            })
        }
        Kind::Refund => {
            let amount = raw.amount.ok_or_else(|| missing("amount"))?.get();
            if amount <= Decimal::ZERO {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("{path}.amount"),
                    format!("refund amount {amount} must be greater than 0"),
                ));
            }
            Body::Refund {
                payment: raw.payment.ok_or_else(|| missing("payment"))?,
                amount,
                currency: raw.currency,
            }
        }
        Kind::Chargeback => Body::Chargeback {
            payment: raw.payment.ok_or_else(|| missing("payment"))?,
            currency: raw.currency,
        },
        Kind::Adjustment => {
            let currency = raw.currency.ok_or_else(|| missing("currency"))?;
            Body::Adjustment {
                partner: raw.partner.ok_or_else(|| missing("partner"))?,
                amount: money(raw.amount, currency, path, "amount", true)?,
                currency,
                reason: raw.reason.ok_or_else(|| missing("reason"))?,
            }
        }
        Kind::Assign => Body::Assign {
            customer: raw.customer.ok_or_else(|| missing("customer"))?,
            partners: assign_shares(raw.partners.ok_or_else(|| missing("partners"))?, path)?,
            reason: raw.reason.ok_or_else(|| missing("reason"))?,
        },
    };
    Ok(Event {
        id: raw.id.0,
        at: raw.at.0,
        body,
    })
}

/// The optional body fields of an event, in the order `event_at` checks them: bit `i` of
/// an [`EventFields`] mask stands for `EVENT_FIELDS[i]`.
const EVENT_FIELDS: [&str; 17] = [
    "partner",
    "customer",
    "channel",
    "campaign",
    "ip",
    "meta",
    "qualified",
    "amount",
    "currency",
    "tax",
    "discount",
    "product",
    "subscription",
    "order",
    "payment",
    "reason",
    "partners",
];

/// The body fields one kind of event requires and allows, as names (for messages) and as
/// masks over [`EVENT_FIELDS`] (for the checks: one bit test per field on every webhook,
/// rather than searching name lists).
struct EventFields {
    /// The required fields, in the order the `MissingField` message lists them.
    names: &'static [&'static str],
    required: u32,
    /// Required or optional.
    allowed: u32,
}

impl EventFields {
    const fn new(required: &'static [&'static str], optional: &[&str]) -> EventFields {
        let required_mask = mask(required);
        EventFields {
            names: required,
            required: required_mask,
            allowed: required_mask | mask(optional),
        }
    }

    fn of(kind: Kind) -> &'static EventFields {
        const TOUCH: EventFields = EventFields::new(
            &["partner", "customer", "channel"],
            &["campaign", "ip", "meta"],
        );
        const SIGNUP: EventFields = EventFields::new(&["customer"], &["qualified"]);
        const PAYMENT: EventFields = EventFields::new(
            &["customer", "amount", "currency"],
            &["tax", "discount", "product", "subscription", "order"],
        );
        const REFUND: EventFields = EventFields::new(&["payment", "amount"], &["currency"]);
        const CHARGEBACK: EventFields = EventFields::new(&["payment"], &["currency"]);
        const ADJUSTMENT: EventFields =
            EventFields::new(&["partner", "amount", "currency", "reason"], &[]);
        const ASSIGN: EventFields = EventFields::new(&["customer", "partners", "reason"], &[]);
        match kind {
            Kind::Touch => &TOUCH,
            Kind::Signup => &SIGNUP,
            Kind::Payment => &PAYMENT,
            Kind::Refund => &REFUND,
            Kind::Chargeback => &CHARGEBACK,
            Kind::Adjustment => &ADJUSTMENT,
            Kind::Assign => &ASSIGN,
        }
    }
}

/// The mask of `names` over [`EVENT_FIELDS`] (evaluated at compile time: a name that is not
/// a field fails the build).
const fn mask(names: &[&str]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < names.len() {
        let mut j = 0;
        while !same(names[i].as_bytes(), EVENT_FIELDS[j].as_bytes()) {
            j += 1;
        }
        m |= 1 << j;
        i += 1;
    }
    m
}

/// Byte-wise equality, usable in a `const fn`.
const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The `partners` of an assign event: each listed once, with a positive weight.
fn assign_shares(v: serde_json::Value, path: &str) -> Result<Vec<AssignShare>> {
    let path = format!("{path}.partners");
    let docs: Vec<AssignShareDoc> = from_value_at(&v, &path)?;
    let mut out: Vec<AssignShare> = Vec::with_capacity(docs.len());
    for (j, d) in docs.into_iter().enumerate() {
        let w = d.weight.get();
        if !within_limits(w) {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("{path}[{j}].weight"),
                format!("weight {w} is beyond the largest number partnerkit accepts, 10^18"),
            ));
        }
        if w <= Decimal::ZERO {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("{path}[{j}].weight"),
                format!(
                    "weight {w} must be greater than 0 (leave a partner out to give it nothing)"
                ),
            ));
        }
        if out.iter().any(|s| s.partner == d.partner) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("{path}[{j}].partner"),
                format!(
                    "partner \"{}\" is listed twice: give it one weight",
                    d.partner
                ),
            ));
        }
        out.push(AssignShare {
            partner: d.partner,
            weight: w,
        });
    }
    Ok(out)
}

/// An optional amount of `currency` of an event at `path`.`field`: zero when absent, else
/// within its minor unit and not negative unless `signed`. The path is only written when
/// the check fails (every payment passes here three times).
fn money(
    v: Option<Dec>,
    currency: Currency,
    path: &str,
    field: &str,
    signed: bool,
) -> Result<Decimal> {
    match v {
        None => Ok(Decimal::ZERO),
        Some(v) => check_amount(v.get(), currency, "", signed)
            .or_else(|_| check_amount(v.get(), currency, &format!("{path}.{field}"), signed)),
    }
}

/// An amount as an input document may carry it in `currency` (an ISO 4217 code), written
/// with exactly the currency's minor-unit digits: `49.9` in USD gives `49.90`.
///
/// The checks are those every signed amount of an input document passes (an adjustment's):
/// a known currency (`UnknownCurrency`, path `currency`), at most 10^18 either way
/// (`LimitExceeded`) and no more decimals than the minor unit (`InvalidValue`: partnerkit
/// never rounds an input), both at path `amount`. Hosts use it to check an amount before
/// they write it into an event, and bindings to prove that decimals cross both ways intact.
///
/// ```
/// use rust_decimal::Decimal;
/// let usd = partnerkit::input::amount_in(Decimal::new(499, 1), "USD").unwrap();
/// assert_eq!(usd.to_string(), "49.90");
/// let jpy = partnerkit::input::amount_in(Decimal::new(499, 1), "JPY").unwrap_err();
/// assert_eq!(jpy.code(), partnerkit::ErrorCode::InvalidValue);
/// ```
pub fn amount_in(amount: Decimal, currency: &str) -> Result<Decimal> {
    let c = Currency::parse(currency).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownCurrency,
            "currency",
            format!("unknown ISO 4217 currency {currency:?}"),
        )
    })?;
    let d = check_amount(amount, c, "amount", true)?;
    Ok(crate::money::with_minor_unit(d, c.digits()))
}

/// The checks of [`money`] on a value.
fn check_amount(d: Decimal, currency: Currency, path: &str, signed: bool) -> Result<Decimal> {
    if !within_limits(d) {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            path,
            format!("{d} is beyond the largest amount partnerkit accepts, 10^18"),
        ));
    }
    if !signed && d < Decimal::ZERO {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            path,
            format!("{d} is negative: expected an amount of 0 or more"),
        ));
    }
    if !fits_minor_unit(d, currency.digits()) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            path,
            format!(
                "{d} has more than {} decimal places, the minor unit of {currency}",
                currency.digits()
            ),
        ));
    }
    Ok(d)
}

fn fx_rate(f: FxDoc, i: usize) -> Result<FxRate> {
    fx_rate_at(f, &format!("fx[{i}]"))
}

fn fx_rate_at(f: FxDoc, path: &str) -> Result<FxRate> {
    if f.from == f.to {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{path}.to"),
            format!("a rate from {} to itself", f.from),
        ));
    }
    // A rate outside 10^-12..10^12 is a data error, and bounding it keeps conversions of
    // bounded amounts exact.
    let bound = Decimal::from(1_000_000_000_000_i64);
    if f.rate.get() > bound || (f.rate.get() > Decimal::ZERO && Decimal::ONE / f.rate.get() > bound)
    {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("{path}.rate"),
            format!(
                "rate {} is outside the accepted range 10^-12 to 10^12",
                f.rate
            ),
        ));
    }
    if f.rate.get() <= Decimal::ZERO {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{path}.rate"),
            format!("rate {} must be greater than 0", f.rate),
        ));
    }
    Ok(FxRate {
        date: f.date.0,
        from: f.from,
        to: f.to,
        rate: f.rate.get(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        crate::money::parse_decimal(s).expect("decimal")
    }

    #[test]
    fn amount_in_writes_the_minor_unit_and_checks_like_a_document() {
        assert_eq!(amount_in(dec("49.9"), "USD").unwrap().to_string(), "49.90");
        assert_eq!(amount_in(dec("-0.0"), "USD").unwrap().to_string(), "0.00");
        assert_eq!(amount_in(dec("1.500"), "JPY").unwrap_err().path(), "amount");
        assert_eq!(amount_in(dec("7"), "BHD").unwrap().to_string(), "7.000");
        let unknown = amount_in(dec("1"), "usd").unwrap_err();
        assert_eq!(
            (unknown.code(), unknown.path()),
            (ErrorCode::UnknownCurrency, "currency")
        );
        let big = amount_in(dec("1000000000000000000.01"), "USD").unwrap_err();
        assert_eq!(big.code(), ErrorCode::LimitExceeded);
        assert!(amount_in(dec("-1000000000000000000"), "USD").is_ok());
    }

    #[test]
    fn the_first_wrong_field_in_field_order_is_the_one_reported() {
        // A payment with `channel` (a touch's) and without `currency`: `channel` comes first
        // in the field order, so it is the error; without `channel`, the missing currency.
        let err = |v: serde_json::Value| {
            let e = event_from_value(&v, "events[3]").unwrap_err();
            (e.code(), e.path().to_owned())
        };
        let pay = serde_json::json!({"id": "p1", "kind": "payment", "at": "2026-01-05T00:00:00Z",
            "customer": "c1", "amount": "1.00", "channel": "link"});
        assert_eq!(
            err(pay.clone()),
            (ErrorCode::UnknownField, "events[3].channel".to_owned())
        );
        let mut without = pay;
        without.as_object_mut().expect("object").remove("channel");
        assert_eq!(
            err(without),
            (ErrorCode::MissingField, "events[3].currency".to_owned())
        );
        // A touch with `amount` (after `channel` in the order) and without `channel`.
        let touch = serde_json::json!({"id": "t1", "kind": "touch", "at": "2026-01-05T00:00:00Z",
            "partner": "ana", "customer": "c1", "amount": "1.00"});
        assert_eq!(
            err(touch),
            (ErrorCode::MissingField, "events[3].channel".to_owned())
        );
    }
}
