//! Property tests for whole evaluations, through the public JSON API only.
//!
//! Each case is a small random program that is valid by construction: 2–4 partners,
//! 1–6 customers, link and coupon touches (random ones, and most payments get one shortly
//! before them so that attribution usually succeeds), USD payments of whole cents (some
//! with tax), partial refunds that never exceed what is left of their payment (the
//! generator tracks the remainder, and sometimes refunds it all), an optional chargeback,
//! manual adjustments, all within about four months of 2026. The plan has a random percent
//! rule, sometimes a second flat rule combined with `sum` or `max`, sometimes a
//! `max_per_customer` cap, and a random rounding mode, model, window, hold, clawback
//! policy, negative-balance policy, threshold and time zone; `as_of` comes after every
//! event.
//!
//! The properties are the SPEC's promises that hold whatever the numbers:
//! - the order events are given in does not matter (§1.2);
//! - reversals never exceed what they reverse, and a fully refunded payment with
//!   `clawback: "always"` nets every entry it caused to zero (§1.3, §9);
//! - statements create and lose nothing: every line of a closed period is on exactly one
//!   statement, each statement adds up, and per partner the lines equal what was paid out,
//!   plus what is still carried, less what was written off (§9);
//! - money in the canonical JSON has exactly the currency's minor-unit digits (§11);
//! - evaluation is a pure function of the text, and a redelivered event (same id, same
//!   content, even spelled differently) changes only `duplicates_ignored` (§1.5).
//!
//! That `allocate` parts sum exactly to the total for random weights is covered by
//! `money_props.rs`, which this file does not repeat.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use partnerkit::ledger::{EntryKind, Explain};
use partnerkit::payouts::Statement;
use partnerkit::time::{Period, PeriodUnit};
use partnerkit::{Report, evaluate_json};
use proptest::prelude::*;
use proptest::sample::Index;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const PARTNERS: [&str; 4] = ["ana", "ben", "cy", "dee"];
const ROUNDINGS: [&str; 4] = ["half_up", "half_even", "down", "up"];
const ZONES: [&str; 2] = ["UTC", "America/New_York"];

/// Every event lies within this many hours of 2026-01-01T00:00:00Z (about four months,
/// refunds included), so holds of up to 40 days fall both before and after refunds.
const SPAN_HOURS: i64 = 2_400;

// ---------------------------------------------------------------------------------------
// Raw material drawn by proptest; turned into a valid input document by `build`.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct PlanParams {
    /// Percent of the first rule, in hundredths of a percent (0..=100.00).
    percent_bp: u32,
    /// A second, flat rule (cents) and how the two combine.
    flat: Option<(u32, &'static str)>,
    /// A `max_per_customer` cap (cents) and the rule it sits on (0 percent, 1 flat).
    cap: Option<(u32, usize)>,
    rounding: &'static str,
    model: &'static str,
    window_days: u32,
    hold_days: u32,
    clawback_always: bool,
    write_off: bool,
    threshold_cents: u32,
    timezone: &'static str,
}

#[derive(Clone, Debug)]
struct RawTouch {
    partner: usize,
    customer: usize,
    coupon: bool,
    at: i64,
}

#[derive(Clone, Debug)]
struct RawPayment {
    customer: usize,
    at: i64,
    /// A touch of the paying customer shortly before: (partner, coupon, hours before).
    lead: Option<(usize, bool, i64)>,
    cents: i64,
    /// Tax as thousandths of the amount.
    tax_permille: Option<i64>,
    /// (hours after the previous refund or the payment, thousandths of what is left).
    refunds: Vec<(i64, i64)>,
    /// Hours after the last refund (or the payment).
    chargeback: Option<i64>,
}

#[derive(Clone, Debug)]
struct RawAdjustment {
    partner: usize,
    at: i64,
    cents: i64,
}

#[derive(Clone, Debug)]
struct Raw {
    plan: PlanParams,
    partners: usize,
    customers: usize,
    touches: Vec<RawTouch>,
    payments: Vec<RawPayment>,
    adjustments: Vec<RawAdjustment>,
    as_of_after: i64,
}

/// A valid input, as JSON pieces, with what the generator knows about it.
#[derive(Clone, Debug)]
struct Scenario {
    plan: Value,
    partners: Value,
    events: Vec<Value>,
    as_of: String,
    rounding: &'static str,
    clawback_always: bool,
    /// Payments whose refunds add up to the whole amount, or that were charged back.
    fully_refunded: BTreeSet<String>,
    /// Payment id → (amount, total refunded), in cents; a chargeback refunds the rest.
    payments: BTreeMap<String, (i64, i64)>,
    /// Refund event id → amount in cents.
    refunds: BTreeMap<String, i64>,
}

impl Scenario {
    fn json(&self, events: &[Value]) -> String {
        json!({
            "plan": self.plan,
            "partners": self.partners,
            "events": events,
            "as_of": self.as_of,
        })
        .to_string()
    }

    fn text(&self) -> String {
        self.json(&self.events)
    }
}

fn plan_params() -> impl Strategy<Value = PlanParams> {
    (
        (
            0_u32..=10_000,
            proptest::option::weighted(
                0.4,
                (0_u32..=5_000, proptest::sample::select(vec!["sum", "max"])),
            ),
            proptest::option::weighted(0.3, (0_u32..=20_000, 0_usize..2)),
            proptest::sample::select(ROUNDINGS.to_vec()),
            proptest::sample::select(vec!["last_touch", "first_touch"]),
            1_u32..=60,
        ),
        (
            0_u32..=40,
            any::<bool>(),
            any::<bool>(),
            0_u32..=10_000,
            proptest::sample::select(ZONES.to_vec()),
        ),
    )
        .prop_map(
            |(
                (percent_bp, flat, cap, rounding, model, window_days),
                (hold_days, clawback_always, write_off, threshold_cents, timezone),
            )| PlanParams {
                percent_bp,
                flat,
                cap,
                rounding,
                model,
                window_days,
                hold_days,
                clawback_always,
                write_off,
                threshold_cents,
                timezone,
            },
        )
}

fn raw_touch() -> impl Strategy<Value = RawTouch> {
    (0_usize..4, 0_usize..6, any::<bool>(), 0..SPAN_HOURS / 2).prop_map(
        |(partner, customer, coupon, at)| RawTouch {
            partner,
            customer,
            coupon,
            at,
        },
    )
}

fn raw_payment() -> impl Strategy<Value = RawPayment> {
    let refund = (
        0_i64..=800,
        prop_oneof![1 => Just(1_000_i64), 3 => 1_i64..1_000],
    );
    (
        0_usize..6,
        0..SPAN_HOURS / 2,
        proptest::option::weighted(0.6, (0_usize..4, any::<bool>(), 0_i64..=96)),
        1_i64..=200_000,
        proptest::option::weighted(0.3, 0_i64..=300),
        prop::collection::vec(refund, 0..=3),
        proptest::option::weighted(0.2, 0_i64..=400),
    )
        .prop_map(
            |(customer, at, lead, cents, tax_permille, refunds, chargeback)| RawPayment {
                customer,
                at,
                lead,
                cents,
                tax_permille,
                refunds,
                chargeback,
            },
        )
}

fn raw_adjustment() -> impl Strategy<Value = RawAdjustment> {
    (0_usize..4, 0..SPAN_HOURS, -50_000_i64..=50_000)
        .prop_map(|(partner, at, cents)| RawAdjustment { partner, at, cents })
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        plan_params(),
        2_usize..=4,
        1_usize..=6,
        prop::collection::vec(raw_touch(), 0..=10),
        prop::collection::vec(raw_payment(), 0..=8),
        prop::collection::vec(raw_adjustment(), 0..=3),
        0_i64..=3_000,
    )
        .prop_map(
            |(plan, partners, customers, touches, payments, adjustments, as_of_after)| Raw {
                plan,
                partners,
                customers,
                touches,
                payments,
                adjustments,
                as_of_after,
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    raw().prop_map(|r| build(&r))
}

// ---------------------------------------------------------------------------------------
// Building the document.
// ---------------------------------------------------------------------------------------

fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid instant")
        .with_timezone(&Utc)
}

fn instant(hours: i64) -> String {
    (base() + TimeDelta::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Whole cents as a USD amount string: 1234 → "12.34", -5 → "-0.05".
fn usd(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A percentage from hundredths: 1250 → "12.5", 2000 → "20".
fn percent(bp: u32) -> String {
    Decimal::new(i64::from(bp), 2).normalize().to_string()
}

fn build(r: &Raw) -> Scenario {
    let p = &r.plan;
    let mut rules = vec![json!({"id": "pct", "reward": {"percent": percent(p.percent_bp)}})];
    if let Some((cents, _)) = p.flat {
        rules.push(json!({"id": "flat", "reward": {"flat": usd(i64::from(cents))}}));
    }
    if let Some((cents, on)) = p.cap {
        let on = on.min(rules.len() - 1);
        rules[on]["limits"] = json!({"max_per_customer": usd(i64::from(cents))});
    }
    let mut plan = json!({
        "schema": "partnerkit/plan@1",
        "id": "props",
        "currency": "USD",
        "timezone": p.timezone,
        "rounding": p.rounding,
        "attribution": {"model": p.model, "window_days": p.window_days},
        "rules": rules,
        "lifecycle": {
            "hold_days": p.hold_days,
            "clawback": if p.clawback_always { "always" } else { "never" },
            "negative_balance": if p.write_off { "write_off" } else { "carry" },
        },
        "payouts": {"threshold": usd(i64::from(p.threshold_cents))},
    });
    if let Some((_, combine)) = p.flat {
        plan["combine"] = json!(combine);
    }
    let partners: Vec<Value> = PARTNERS[..r.partners]
        .iter()
        .map(|id| json!({"id": id}))
        .collect();
    let partner = |i: usize| PARTNERS[i % r.partners];
    let customer = |i: usize| format!("c{}", i % r.customers);

    let mut events = Vec::new();
    let mut last = 0_i64;
    for (i, t) in r.touches.iter().enumerate() {
        last = last.max(t.at);
        events.push(json!({
            "id": format!("t{i:02}"),
            "kind": "touch",
            "at": instant(t.at),
            "partner": partner(t.partner),
            "customer": customer(t.customer),
            "channel": if t.coupon { "coupon" } else { "link" },
        }));
    }
    let mut fully_refunded = BTreeSet::new();
    let mut payments = BTreeMap::new();
    let mut refunds = BTreeMap::new();
    for (i, pay) in r.payments.iter().enumerate() {
        let id = format!("pay{i:02}");
        if let Some((p, coupon, before)) = pay.lead {
            events.push(json!({
                "id": format!("lead{i:02}"),
                "kind": "touch",
                "at": instant(pay.at - before),
                "partner": partner(p),
                "customer": customer(pay.customer),
                "channel": if coupon { "coupon" } else { "link" },
            }));
        }
        let mut ev = json!({
            "id": id,
            "kind": "payment",
            "at": instant(pay.at),
            "customer": customer(pay.customer),
            "amount": usd(pay.cents),
            "currency": "USD",
        });
        if let Some(t) = pay.tax_permille {
            ev["tax"] = json!(usd(pay.cents * t / 1_000));
        }
        events.push(ev);
        let mut at = pay.at;
        let mut left = pay.cents;
        for (k, &(delay, permille)) in pay.refunds.iter().enumerate() {
            if left == 0 {
                break;
            }
            at += delay;
            let amount = (left * permille / 1_000).clamp(1, left);
            left -= amount;
            refunds.insert(format!("ref{i:02}_{k}"), amount);
            let mut ev = json!({
                "id": format!("ref{i:02}_{k}"),
                "kind": "refund",
                "at": instant(at),
                "payment": id,
                "amount": usd(amount),
            });
            if k % 2 == 1 {
                // The refund's own (optional) currency, the payment's.
                ev["currency"] = json!("USD");
            }
            events.push(ev);
        }
        if let Some(delay) = pay.chargeback {
            at += delay;
            events.push(json!({
                "id": format!("cb{i:02}"),
                "kind": "chargeback",
                "at": instant(at),
                "payment": id,
            }));
        }
        if pay.chargeback.is_some() {
            left = 0;
        }
        if left == 0 {
            fully_refunded.insert(id.clone());
        }
        payments.insert(id, (pay.cents, pay.cents - left));
        last = last.max(at);
    }
    for (i, a) in r.adjustments.iter().enumerate() {
        last = last.max(a.at);
        events.push(json!({
            "id": format!("adj{i}"),
            "kind": "adjustment",
            "at": instant(a.at),
            "partner": partner(a.partner),
            "amount": usd(a.cents),
            "currency": "USD",
            "reason": "manual",
        }));
    }
    Scenario {
        plan,
        partners: Value::Array(partners),
        events,
        as_of: instant(last + r.as_of_after),
        rounding: p.rounding,
        clawback_always: p.clawback_always,
        fully_refunded,
        payments,
        refunds,
    }
}

/// Evaluates a document the generator built, which must be valid.
fn eval(text: &str) -> Result<Report, TestCaseError> {
    evaluate_json(text)
        .map_err(|e| TestCaseError::fail(format!("valid input rejected: {e:?}\ninput: {text}")))
}

/// The same event, spelled differently but equal after parsing: the instant with a
/// +02:00 offset, and money with one more trailing zero.
fn respelled(ev: &Value) -> Value {
    let mut out = ev.clone();
    let at = ev["at"].as_str().expect("every event has an instant");
    let t = DateTime::parse_from_rfc3339(at).expect("valid instant");
    let offset = FixedOffset::east_opt(2 * 3_600).expect("valid offset");
    out["at"] = json!(t.with_timezone(&offset).to_rfc3339());
    for field in ["amount", "tax"] {
        if let Some(s) = ev[field].as_str() {
            out[field] = json!(format!("{s}0"));
        }
    }
    out
}

/// A USD amount in canonical JSON: optional minus, digits, a point, exactly two digits.
fn is_usd(v: &Value) -> bool {
    let Some(s) = v.as_str() else {
        return false;
    };
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.len() == 2
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Whole cents of a USD amount that fits them.
fn cents(d: Decimal) -> i128 {
    let mut x = d;
    x.rescale(2);
    x.mantissa()
}

/// `e × r / a` rounded to a whole number with the plan's mode, in exact integer arithmetic
/// (an oracle independent of the engine's decimals): what the cumulative rule of
/// docs/semantics.md says is reversed of an entry of `e` cents once `r` of `a` cents are
/// refunded. All three are non-negative, `a` positive.
fn reversed_oracle(e: i128, r: i128, a: i128, rounding: &str) -> i128 {
    let (q, rem) = ((e * r) / a, (e * r) % a);
    let up = match rounding {
        "down" => false,
        "up" => rem > 0,
        "half_up" => 2 * rem >= a,
        "half_even" => 2 * rem > a || (2 * rem == a && q % 2 == 1),
        other => panic!("unknown rounding {other}"),
    };
    q + i128::from(up)
}

/// Fails the case with a message (for checks that are not a plain comparison).
fn fail<T>(msg: String) -> Result<T, TestCaseError> {
    Err(TestCaseError::fail(msg))
}

/// SPEC §1.3, §9 and docs/semantics.md "Refunds and clawbacks".
///
/// Reversals never exceed what they reverse and have the opposite sign. Each one follows
/// the cumulative rule, checked against an integer oracle: once `R` of a payment of `A` is
/// refunded, `round(E × R / A)` of an entry of `E` is reversed (all of it when `R = A`),
/// and a reversal takes the difference from what the previous ones took. A reversal of a
/// still pending entry is a cancel, available with it; of an available one a clawback,
/// available at once, and only under `clawback: "always"`. With `"always"` the reversals
/// of an entry add up to exactly the oracle's total, so a fully refunded or charged-back
/// payment nets each entry it caused to zero.
fn check_reversals(s: &Scenario, report: &Report) -> Result<(), TestCaseError> {
    let mut reversed: BTreeMap<&str, Decimal> = BTreeMap::new();
    for e in &report.entries {
        let Explain::Reversal(w) = &e.explain else {
            prop_assert_ne!(e.kind, EntryKind::Reversal, "{} explains no reversal", e.id);
            continue;
        };
        prop_assert_eq!(e.kind, EntryKind::Reversal);
        let Some(orig) = report.entries.iter().find(|o| o.id == w.reverses) else {
            return fail(format!("{} reverses no entry", e.id));
        };
        let ctx = format!("{} (of {})", e.id, orig.id);
        prop_assert_eq!(orig.kind, EntryKind::Commission, "{}", ctx);
        prop_assert_eq!(&orig.partner, &e.partner, "{}", ctx);
        prop_assert_eq!(orig.currency, e.currency, "{}", ctx);
        prop_assert_eq!(&*orig.event, &*w.payment, "{}", ctx);
        prop_assert_eq!(w.original, orig.amount, "{}", ctx);
        let Some(&(amount, _)) = s.payments.get(&*w.payment) else {
            return fail(format!("{ctx}: unknown payment {}", w.payment));
        };
        prop_assert_eq!(cents(w.payment_amount), i128::from(amount), "{}", ctx);
        let (before, now) = (cents(w.refunded_before), cents(w.refunded_now));
        match s.refunds.get(&*e.event) {
            Some(&r) => {
                prop_assert_eq!(w.cause, "refund", "{}", ctx);
                prop_assert_eq!(now, i128::from(r), "{}: refunded now", ctx);
            }
            None => {
                prop_assert_eq!(w.cause, "chargeback", "{}", ctx);
                prop_assert_eq!(before + now, i128::from(amount), "{}: charged back", ctx);
            }
        }
        let total = reversed_oracle(
            cents(orig.amount),
            before + now,
            i128::from(amount),
            s.rounding,
        );
        prop_assert_eq!(cents(w.reversed_total), total, "{}: reversed total", ctx);
        prop_assert_eq!(
            cents(-e.amount),
            cents(w.reversed_total - w.reversed_before),
            "{}: amount vs reversed before {}",
            ctx,
            w.reversed_before
        );
        if e.earned_at < orig.available_at {
            prop_assert_eq!(w.effect, "cancel", "{}", ctx);
            prop_assert_eq!(e.available_at, orig.available_at, "{}", ctx);
        } else {
            prop_assert_eq!(w.effect, "clawback", "{}", ctx);
            prop_assert!(s.clawback_always, "{}: clawback under \"never\"", ctx);
            prop_assert_eq!(e.available_at, e.earned_at, "{}", ctx);
        }
        *reversed.entry(&*w.reverses).or_default() += e.amount;
    }
    for e in report
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Commission)
    {
        let r = reversed.get(&*e.id).copied().unwrap_or_default();
        prop_assert!(
            e.amount > Decimal::ZERO,
            "commission {} is {}",
            e.id,
            e.amount
        );
        prop_assert!(
            r <= Decimal::ZERO,
            "reversals of {} add up to {} > 0",
            e.id,
            r
        );
        prop_assert!(
            r.abs() <= e.amount,
            "reversals of {} ({}) exceed the entry {}",
            e.id,
            r,
            e.amount
        );
        if !s.clawback_always {
            continue;
        }
        let Some(&(amount, refunded)) = s.payments.get(&*e.event) else {
            return fail(format!(
                "commission {} of unknown payment {}",
                e.id, e.event
            ));
        };
        let total = reversed_oracle(
            cents(e.amount),
            i128::from(refunded),
            i128::from(amount),
            s.rounding,
        );
        prop_assert_eq!(
            cents(-r),
            total,
            "entry {}: reversals {} for {} of {} refunded",
            e.id,
            r,
            usd(refunded),
            usd(amount)
        );
        if s.fully_refunded.contains(&*e.event) {
            prop_assert_eq!(
                e.amount + r,
                Decimal::ZERO,
                "payment {} fully refunded, but entry {} nets to {}",
                e.event,
                e.id,
                e.amount + r
            );
        }
    }
    Ok(())
}

/// SPEC §9: statements create and lose nothing.
///
/// Every entry that became available in a closed period is on exactly one statement, the
/// one of that period, at its own amount (all USD: nothing to convert). Each statement
/// adds up (`closing = opening + credits + debits`, `credits ≥ 0 ≥ debits`, both the sums
/// of its lines), opens with what the previous one carried, and sends its closing balance
/// exactly one way: paid out, carried, or written off. So per partner,
/// `Σ payout + last carried − Σ written_off = Σ lines` (`written_off` is the positive size
/// of a negative balance that was reset to zero).
fn check_statements(s: &Scenario, report: &Report) -> Result<(), TestCaseError> {
    let zone = s.plan["timezone"].as_str().unwrap_or("UTC");
    let Ok(tz) = zone.parse::<chrono_tz::Tz>() else {
        return fail(format!("bad zone {zone}"));
    };
    let write_off = s.plan["lifecycle"]["negative_balance"] == "write_off";
    let mut expected: BTreeMap<&str, BTreeMap<&str, Decimal>> = BTreeMap::new();
    for e in &report.entries {
        let per = Period::containing(PeriodUnit::Month, tz, e.available_at);
        if per.end(tz) <= report.as_of {
            let old = expected
                .entry(&e.partner)
                .or_default()
                .insert(&e.id, e.amount);
            prop_assert!(old.is_none(), "entry id {} used twice", e.id);
        }
    }
    let mut by_partner: BTreeMap<&str, Vec<&Statement>> = BTreeMap::new();
    for st in &report.statements {
        by_partner.entry(&st.partner).or_default().push(st);
    }
    let mut seen: BTreeMap<&str, BTreeMap<&str, Decimal>> = BTreeMap::new();
    for (partner, sts) in &by_partner {
        let mut carried = Decimal::ZERO;
        let mut paid = Decimal::ZERO;
        let mut written_off = Decimal::ZERO;
        let mut lines_total = Decimal::ZERO;
        for (k, st) in sts.iter().enumerate() {
            let ctx = format!("{partner} {}", st.period);
            if k > 0 {
                prop_assert!(sts[k - 1].period < st.period, "{}: out of order", ctx);
            }
            prop_assert!(st.end <= report.as_of, "{}: period not closed", ctx);
            prop_assert_eq!(st.opening_balance, carried, "{}: opening", &ctx);
            let closing = st.closing_balance;
            prop_assert_eq!(
                closing,
                st.opening_balance + st.credits + st.debits,
                "{}: closing",
                &ctx
            );
            prop_assert!(
                st.credits >= Decimal::ZERO,
                "{}: credits {}",
                ctx,
                st.credits
            );
            prop_assert!(st.debits <= Decimal::ZERO, "{}: debits {}", ctx, st.debits);
            let mut credits = Decimal::ZERO;
            let mut debits = Decimal::ZERO;
            for line in &st.lines {
                prop_assert_eq!(line.converted, line.amount, "{}: USD line converted", &ctx);
                if line.converted < Decimal::ZERO {
                    debits += line.converted;
                } else {
                    credits += line.converted;
                }
                let Some(e) = report.entries.iter().find(|e| e.id == line.entry) else {
                    return fail(format!("{ctx}: line {} has no entry", line.entry));
                };
                prop_assert_eq!(&*e.partner, *partner);
                prop_assert!(
                    st.start <= e.available_at && e.available_at < st.end,
                    "{}: {} available at {} is outside the period",
                    ctx,
                    e.id,
                    e.available_at
                );
                let twice = seen
                    .entry(partner)
                    .or_default()
                    .insert(&line.entry, line.amount);
                prop_assert!(twice.is_none(), "{}: {} on two statements", ctx, line.entry);
            }
            prop_assert_eq!(credits, st.credits, "{}: credits", &ctx);
            prop_assert_eq!(debits, st.debits, "{}: debits", &ctx);
            lines_total += credits + debits;
            let (payout, carry, off) = if st.payable {
                prop_assert!(closing > Decimal::ZERO, "{}: payable at {}", ctx, closing);
                prop_assert!(closing >= st.threshold, "{}: payable under threshold", ctx);
                (closing, Decimal::ZERO, Decimal::ZERO)
            } else if write_off && closing < Decimal::ZERO {
                (Decimal::ZERO, Decimal::ZERO, -closing)
            } else {
                prop_assert!(
                    closing <= Decimal::ZERO || closing < st.threshold,
                    "{}: {} not paid",
                    ctx,
                    closing
                );
                (Decimal::ZERO, closing, Decimal::ZERO)
            };
            prop_assert_eq!(st.payout, payout, "{}: payout", &ctx);
            prop_assert_eq!(st.carried_forward, carry, "{}: carried forward", &ctx);
            prop_assert_eq!(st.written_off, off, "{}: written off", &ctx);
            paid += st.payout;
            written_off += st.written_off;
            carried = st.carried_forward;
        }
        prop_assert_eq!(
            paid + carried - written_off,
            lines_total,
            "{}: paid {} + carried {} - written off {} != lines {}",
            partner,
            paid,
            carried,
            written_off,
            lines_total
        );
    }
    prop_assert_eq!(seen, expected, "closed-period entries vs statement lines");
    Ok(())
}

/// SPEC §11: every money string of the canonical JSON has exactly USD's two digits.
fn check_money_digits(canonical: &str) -> Result<(), TestCaseError> {
    let doc: Value = match serde_json::from_str(canonical) {
        Ok(v) => v,
        Err(e) => return fail(format!("canonical JSON does not parse: {e}")),
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    for e in list(&doc["entries"]) {
        prop_assert_eq!(&e["currency"], "USD");
        prop_assert!(
            is_usd(&e["amount"]),
            "entry {} amount {}",
            e["id"],
            e["amount"]
        );
    }
    for st in list(&doc["statements"]) {
        for f in [
            "opening_balance",
            "credits",
            "debits",
            "closing_balance",
            "threshold",
            "payout",
            "carried_forward",
            "written_off",
        ] {
            prop_assert!(
                is_usd(&st[f]),
                "statement {} {}: {}",
                st["period"],
                f,
                st[f]
            );
        }
        for line in list(&st["lines"]) {
            prop_assert!(is_usd(&line["amount"]), "line {}", line);
            prop_assert!(is_usd(&line["converted"]), "line {}", line);
        }
    }
    let metrics = &doc["metrics"];
    for m in std::iter::once(metrics["program"].clone()).chain(list(&metrics["partners"])) {
        for f in ["revenue", "commission"] {
            prop_assert!(is_usd(&m[f]), "metrics {}: {}", f, m[f]);
        }
        for f in ["epc", "cpa"] {
            prop_assert!(m[f].is_null() || is_usd(&m[f]), "metrics {}: {}", f, m[f]);
        }
    }
    Ok(())
}

/// The canonical JSON with `duplicates_ignored` read out and set to 0.
fn without_duplicates(canonical: &str) -> Result<(Option<u64>, String), TestCaseError> {
    let mut v: Value = match serde_json::from_str(canonical) {
        Ok(v) => v,
        Err(e) => return fail(format!("canonical JSON does not parse: {e}")),
    };
    let n = v["duplicates_ignored"].as_u64();
    v["duplicates_ignored"] = json!(0);
    Ok((n, v.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// SPEC §1.2: events are processed in canonical order whatever order they come in.
    #[test]
    fn event_order_does_not_matter(
        (s, shuffled) in scenario().prop_flat_map(|s| {
            let events = s.events.clone();
            (Just(s), Just(events).prop_shuffle())
        })
    ) {
        let a = eval(&s.text())?.to_canonical_json();
        let b = eval(&s.json(&shuffled))?.to_canonical_json();
        prop_assert_eq!(a, b);
    }

    /// SPEC §1.3, §9: see `check_reversals`.
    #[test]
    fn reversals_are_bounded(s in scenario()) {
        check_reversals(&s, &eval(&s.text())?)?;
    }

    /// SPEC §9: see `check_statements`.
    #[test]
    fn statements_conserve_money(s in scenario()) {
        check_statements(&s, &eval(&s.text())?)?;
    }

    /// SPEC §11: money has exactly the currency's minor-unit digits.
    #[test]
    fn money_has_minor_unit_digits(s in scenario()) {
        check_money_digits(&eval(&s.text())?.to_canonical_json())?;
    }

    /// SPEC §1.1, §1.5: the same text gives the same bytes, and a redelivered event (same
    /// id, same content, possibly spelled differently) only bumps `duplicates_ignored`.
    #[test]
    fn duplicates_change_nothing_else(
        s in scenario().prop_filter("needs an event", |s| !s.events.is_empty()),
        pick in any::<Index>(),
        position in any::<Index>(),
        respell in any::<bool>(),
    ) {
        let text = s.text();
        let once = eval(&text)?.to_canonical_json();
        prop_assert_eq!(&once, &eval(&text)?.to_canonical_json());

        let original = &s.events[pick.index(s.events.len())];
        let copy = if respell { respelled(original) } else { original.clone() };
        let mut events = s.events.clone();
        events.insert(position.index(events.len() + 1), copy);
        let twice = eval(&s.json(&events))?.to_canonical_json();

        let (n_once, once) = without_duplicates(&once)?;
        let (n_twice, twice) = without_duplicates(&twice)?;
        prop_assert_eq!(n_once, Some(0));
        prop_assert_eq!(n_twice, Some(1));
        prop_assert_eq!(once, twice);
    }
}
