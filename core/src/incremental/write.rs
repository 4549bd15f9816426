//! Writes an engine's inputs back as the input document (SPEC §2) they are read from.
//!
//! A snapshot is an input document (docs/adr/0004-snapshot-format.md), and every event,
//! partner and rate an engine takes from Rust code goes through this writer and the
//! document parser once, so that anything an engine holds can be written and read back.
//! The destructuring below is exhaustive on purpose: a field added to `Partner`, `Event`
//! or `FxRate` does not compile here until it is written.

use chrono::{Datelike, Timelike};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::error::{Error, ErrorCode, Result};
use crate::input::{
    self, Body, Event, FxRate, Partner, PartnerStatus, Payment, Touch, event_from_str,
};
use crate::money::{fits_minor_unit, within_limits};
use crate::plan::Plan;
use crate::time::fmt_instant;

/// The canonical name of a partner status, as the document writes it.
fn status_name(s: PartnerStatus) -> &'static str {
    match s {
        PartnerStatus::Active => "active",
        PartnerStatus::Suspended => "suspended",
        PartnerStatus::Terminated => "terminated",
    }
}

/// A partner as a `partners[]` item.
pub(crate) struct PartnerDoc<'a>(pub &'a Partner);

impl Serialize for PartnerDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Partner {
            id,
            segment,
            parent,
            joined_at,
            status,
            tier,
            own_customers,
            attributes,
            payout_currency,
        } = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", id)?;
        if let Some(v) = segment {
            m.serialize_entry("segment", v)?;
        }
        if let Some(v) = parent {
            m.serialize_entry("parent", v)?;
        }
        if let Some(v) = joined_at {
            m.serialize_entry("joined_at", &fmt_instant(*v))?;
        }
        if !status.is_empty() {
            let list: Vec<StatusDoc> = status.iter().map(|&(at, st)| StatusDoc(at, st)).collect();
            m.serialize_entry("status", &list)?;
        }
        if let Some(v) = tier {
            m.serialize_entry("tier", v)?;
        }
        if !own_customers.is_empty() {
            m.serialize_entry("own_customers", own_customers)?;
        }
        if !attributes.is_empty() {
            m.serialize_entry("attributes", attributes)?;
        }
        if let Some(v) = payout_currency {
            m.serialize_entry("payout_currency", v.as_str())?;
        }
        m.end()
    }
}

struct StatusDoc(crate::time::Instant, PartnerStatus);

impl Serialize for StatusDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("at", &fmt_instant(self.0))?;
        m.serialize_entry("status", status_name(self.1))?;
        m.end()
    }
}

/// An event as an `events[]` item. Amounts keep their written scale (`"49.90"`).
pub(crate) struct EventDoc<'a>(pub &'a Event);

impl Serialize for EventDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ev = self.0;
        let Event { id, at, body } = ev;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &**id)?;
        m.serialize_entry("kind", ev.kind().as_str())?;
        m.serialize_entry("at", &fmt_instant(*at))?;
        match body {
            Body::Touch(Touch {
                partner,
                customer,
                channel,
                campaign,
                ip,
                meta,
            }) => {
                m.serialize_entry("partner", partner)?;
                m.serialize_entry("customer", customer)?;
                m.serialize_entry("channel", channel.as_str())?;
                if let Some(v) = campaign {
                    m.serialize_entry("campaign", v)?;
                }
                if let Some(v) = ip {
                    m.serialize_entry("ip", v)?;
                }
                if !meta.is_empty() {
                    m.serialize_entry("meta", meta)?;
                }
            }
            Body::Signup {
                customer,
                qualified,
            } => {
                m.serialize_entry("customer", customer)?;
                if let Some(q) = qualified {
                    m.serialize_entry("qualified", q)?;
                }
            }
            Body::Payment(Payment {
                customer,
                amount,
                currency,
                tax,
                discount,
                product,
                subscription,
                order,
            }) => {
                m.serialize_entry("customer", customer)?;
                m.serialize_entry("amount", &amount.to_string())?;
                m.serialize_entry("currency", currency.as_str())?;
                m.serialize_entry("tax", &tax.to_string())?;
                m.serialize_entry("discount", &discount.to_string())?;
                if let Some(v) = product {
                    m.serialize_entry("product", v)?;
                }
                if let Some(v) = subscription {
                    m.serialize_entry("subscription", v)?;
                }
                if let Some(v) = order {
                    m.serialize_entry("order", v)?;
                }
            }
            Body::Refund {
                payment,
                amount,
                currency,
            } => {
                m.serialize_entry("payment", payment)?;
                m.serialize_entry("amount", &amount.to_string())?;
                if let Some(c) = currency {
                    m.serialize_entry("currency", c.as_str())?;
                }
            }
            Body::Chargeback { payment, currency } => {
                m.serialize_entry("payment", payment)?;
                if let Some(c) = currency {
                    m.serialize_entry("currency", c.as_str())?;
                }
            }
            Body::Adjustment {
                partner,
                amount,
                currency,
                reason,
            } => {
                m.serialize_entry("partner", partner)?;
                m.serialize_entry("amount", &amount.to_string())?;
                m.serialize_entry("currency", currency.as_str())?;
                m.serialize_entry("reason", reason)?;
            }
            Body::Assign {
                customer,
                partners,
                reason,
            } => {
                m.serialize_entry("customer", customer)?;
                let shares: Vec<_> = partners
                    .iter()
                    .map(|p| AssignShareDoc {
                        partner: &p.partner,
                        weight: p.weight.to_string(),
                    })
                    .collect();
                m.serialize_entry("partners", &shares)?;
                m.serialize_entry("reason", reason)?;
            }
        }
        m.end()
    }
}

/// One share of an assign event, written as the input reads it (the weight as given).
#[derive(Serialize)]
struct AssignShareDoc<'a> {
    partner: &'a str,
    weight: String,
}

/// An FX rate as an `fx[]` item.
pub(crate) struct FxDoc<'a>(pub &'a FxRate);

impl Serialize for FxDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let FxRate {
            date,
            from,
            to,
            rate,
        } = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("date", &date.to_string())?;
        m.serialize_entry("from", from.as_str())?;
        m.serialize_entry("to", to.as_str())?;
        m.serialize_entry("rate", &rate.to_string())?;
        m.end()
    }
}

/// The input document `{plan, partners, fx, events}` of an engine (no `as_of`: an engine
/// answers as of any instant). A plan with versions is written as `plan_history`.
pub(crate) struct InputDoc<'a> {
    pub plan: &'a Plan,
    pub partners: &'a [Partner],
    pub fx: &'a [FxRate],
    pub events: &'a [Event],
}

impl Serialize for InputDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        match &self.plan.versions()[..] {
            [(None, plan)] => m.serialize_entry("plan", plan.doc())?,
            versions => {
                let list: Vec<VersionDoc> = versions
                    .iter()
                    .map(|(from, plan)| VersionDoc {
                        effective_from: from.map(fmt_instant),
                        plan: plan.doc(),
                    })
                    .collect();
                m.serialize_entry("plan_history", &list)?;
            }
        }
        m.serialize_entry("partners", &Seq(self.partners, PartnerDoc))?;
        m.serialize_entry("fx", &Seq(self.fx, FxDoc))?;
        m.serialize_entry("events", &Seq(self.events, EventDoc))?;
        m.end()
    }
}

/// One `plan_history[]` item: a version and the instant it takes effect.
#[derive(Serialize)]
struct VersionDoc<'a> {
    effective_from: Option<String>,
    plan: &'a crate::plan::PlanDoc,
}

/// A slice written item by item through a view, without building a vector of views.
struct Seq<'a, T, V>(&'a [T], fn(&'a T) -> V);

impl<'a, T, V: Serialize> Serialize for Seq<'a, T, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

fn to_value(v: impl Serialize, path: &str) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            path,
            format!("cannot write the value as JSON: {e}"),
        )
    })
}

/// Runs an event built in Rust through the document checks: it gets the same checks as a
/// parsed one (amounts within their minor unit, tax and discount within the amount, …),
/// and whatever an engine holds can be written to a snapshot and read back. `path` (e.g.
/// `events[3]`) is built only when an error needs it.
///
/// An event that [`reads_back`] is taken as it is: writing it and parsing it back would
/// give an equal event. Anything else goes through the writer and the parser, which give
/// the error (or, for an event the quick check was too strict about, the event).
pub(crate) fn checked_event(ev: Event, path: impl FnOnce() -> String) -> Result<Event> {
    if reads_back(&ev) {
        return Ok(ev);
    }
    reparsed_event(&ev, &path())
}

/// The event written as a document item and parsed back (errors at `path`).
fn reparsed_event(ev: &Event, path: &str) -> Result<Event> {
    let text = serde_json::to_string(&EventDoc(ev)).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            path,
            format!("cannot write the event as JSON: {e}"),
        )
    })?;
    event_from_str(&text, path)
}

/// Whether [`reparsed_event`] would surely give back an equal event without an error: the
/// checks `input::event_at` makes, on the typed fields. Conservative: `false` only sends
/// the event the slow way, which decides. (A typed event always has the fields its kind
/// requires, a known currency and channel, and strings JSON writes and reads back as they
/// are.)
fn reads_back(ev: &Event) -> bool {
    if ev.id.is_empty() || !instant_reads_back(ev.at) {
        return false;
    }
    match &ev.body {
        Body::Touch(_) | Body::Signup { .. } | Body::Chargeback { .. } => true,
        Body::Payment(p) => {
            let digits = p.currency.digits();
            // `d >= 0` as signs: a decimal comparison costs a rescale.
            let money = |d: Decimal| {
                decimal_reads_back(d)
                    && (!d.is_sign_negative() || d.is_zero())
                    && within_limits(d)
                    && fits_minor_unit(d, digits)
            };
            money(p.amount)
                && money(p.tax)
                && money(p.discount)
                // No tax and no discount (the common payment) are within any amount ≥ 0.
                && ((p.tax.is_zero() && p.discount.is_zero())
                    || p.tax
                        .checked_add(p.discount)
                        .is_some_and(|sum| sum <= p.amount))
        }
        Body::Refund { amount, .. } => decimal_reads_back(*amount) && *amount > Decimal::ZERO,
        Body::Adjustment {
            amount, currency, ..
        } => {
            decimal_reads_back(*amount)
                && within_limits(*amount)
                && fits_minor_unit(*amount, currency.digits())
        }
        Body::Assign { partners, .. } => partners.iter().enumerate().all(|(j, s)| {
            decimal_reads_back(s.weight)
                && within_limits(s.weight)
                && s.weight > Decimal::ZERO
                && partners[..j].iter().all(|o| o.partner != s.partner)
        }),
    }
}

/// An instant `fmt_instant` writes in a form `parse_instant` reads back: a four-digit year
/// and no leap second.
fn instant_reads_back(t: crate::time::Instant) -> bool {
    // The UTC fields, read as stored (`t.year()` would first add the zero offset).
    let utc = t.naive_utc();
    (0..=9999).contains(&utc.year()) && utc.nanosecond() < 1_000_000_000
}

/// A decimal whose text (`Decimal::to_string`) the document parser reads back with the same
/// digits and scale: at most 28 significant digits, and not a negative zero (which reads
/// back unsigned).
fn decimal_reads_back(d: Decimal) -> bool {
    d.mantissa().unsigned_abs() < 10u128.pow(28) && !(d.is_zero() && d.is_sign_negative())
}

/// Runs a partner built in Rust through the document parser (see [`checked_event`]).
pub(crate) fn checked_partner(p: &Partner, path: &str) -> Result<Partner> {
    input::partner_from_value(&to_value(PartnerDoc(p), path)?, path)
}

/// Runs an FX rate built in Rust through the document parser (see [`checked_event`]).
pub(crate) fn checked_fx(r: &FxRate, path: &str) -> Result<FxRate> {
    input::fx_rate_from_value(&to_value(FxDoc(r), path)?, path)
}

/// [`checked_partner`] for a `partners` list.
pub(crate) fn checked_partners(list: &[Partner]) -> Result<Vec<Partner>> {
    list.iter()
        .enumerate()
        .map(|(i, p)| checked_partner(p, &format!("partners[{i}]")))
        .collect()
}

/// [`checked_fx`] for an `fx` list.
pub(crate) fn checked_rates(list: &[FxRate]) -> Result<Vec<FxRate>> {
    list.iter()
        .enumerate()
        .map(|(i, r)| checked_fx(r, &format!("fx[{i}]")))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::input::AssignShare;
    use crate::money::Currency;
    use crate::plan::Channel;

    fn event(at: &str, body: Body) -> Event {
        Event {
            id: "e1".into(),
            at: crate::time::parse_instant(at).expect("instant"),
            body,
        }
    }

    fn payment(amount: Decimal, tax: Decimal, discount: Decimal, currency: &str) -> Body {
        Body::Payment(Payment {
            customer: "c1".into(),
            amount,
            currency: Currency::parse(currency).expect("currency"),
            tax,
            discount,
            product: None,
            subscription: None,
            order: None,
        })
    }

    fn dec(s: &str) -> Decimal {
        crate::money::parse_decimal(s).expect("decimal")
    }

    /// Events on both sides of every quick check: whenever the quick check takes one as it
    /// is, writing and parsing it gives an equal event with the same written form; and
    /// what the quick check sends the slow way gets the parser's answer.
    #[test]
    fn the_quick_check_agrees_with_the_parser() {
        let at = "2026-01-15T12:00:00Z";
        let mut cases = vec![
            event(
                at,
                Body::Touch(Touch {
                    partner: "ana".into(),
                    customer: "c\"1\n".into(),
                    channel: Channel::Coupon,
                    campaign: Some(String::new()),
                    ip: None,
                    meta: BTreeMap::from([("k".into(), "v".into())]),
                }),
            ),
            event(at, payment(dec("49.90"), dec("0"), dec("0.00"), "USD")),
            event(at, payment(dec("49.9"), dec("10"), dec("39.9"), "USD")),
            event(at, payment(dec("49.90"), dec("10"), dec("40"), "USD")),
            event(at, payment(dec("49.999"), dec("0"), dec("0"), "USD")),
            event(at, payment(dec("-1"), dec("0"), dec("0"), "USD")),
            event(at, payment(dec("5"), dec("0"), dec("0"), "JPY")),
            event(at, payment(dec("5.5"), dec("0"), dec("0"), "JPY")),
            event(
                at,
                payment(dec("1000000000000000001"), dec("0"), dec("0"), "USD"),
            ),
            event(
                at,
                Body::Refund {
                    payment: "p1".into(),
                    amount: dec("0.001"),
                    currency: None,
                },
            ),
            event(
                at,
                Body::Refund {
                    payment: "p1".into(),
                    amount: Decimal::ZERO,
                    currency: None,
                },
            ),
            event(
                at,
                Body::Refund {
                    payment: "p1".into(),
                    amount: Decimal::MAX,
                    currency: None,
                },
            ),
            event(
                at,
                Body::Adjustment {
                    partner: "ana".into(),
                    amount: -dec("12.50"),
                    currency: Currency::parse("EUR").expect("EUR"),
                    reason: "bonus".into(),
                },
            ),
            event(
                at,
                Body::Adjustment {
                    partner: "ana".into(),
                    amount: -Decimal::ZERO,
                    currency: Currency::parse("EUR").expect("EUR"),
                    reason: "negative zero".into(),
                },
            ),
            event(
                "2026-01-15T12:00:00.000000001Z",
                Body::Chargeback {
                    payment: "p1".into(),
                    currency: None,
                },
            ),
            event(
                at,
                Body::Signup {
                    customer: "c1".into(),
                    qualified: Some(false),
                },
            ),
        ];
        for weights in [["1", "2"], ["0", "1"], ["1.5", "1.5"]] {
            for second in ["bo", "ana"] {
                cases.push(event(
                    at,
                    Body::Assign {
                        customer: "c1".into(),
                        partners: vec![
                            AssignShare {
                                partner: "ana".into(),
                                weight: dec(weights[0]),
                            },
                            AssignShare {
                                partner: second.into(),
                                weight: dec(weights[1]),
                            },
                        ],
                        reason: "deal".into(),
                    },
                ));
            }
        }
        let mut no_id = cases[0].clone();
        no_id.id = "".into();
        cases.push(no_id);
        let mut far = cases[0].clone();
        far.at = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        cases.push(far);
        let mut quick = 0;
        for ev in &cases {
            let slow = reparsed_event(ev, "events[7]");
            let got = checked_event(ev.clone(), || "events[7]".to_owned());
            if reads_back(ev) {
                quick += 1;
                let back = slow.as_ref().expect("a quick event reads back");
                assert_eq!(back, ev);
                let text = |e: &Event| serde_json::to_string(&EventDoc(e)).expect("writes");
                assert_eq!(text(back), text(ev));
            }
            match (got, slow) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_json(), b.to_json()),
                (a, b) => panic!("{ev:?}: checked {a:?}, parsed {b:?}"),
            }
        }
        // Both sides are exercised.
        assert!(
            quick >= 8 && quick < cases.len(),
            "{quick} of {}",
            cases.len()
        );
    }
}
