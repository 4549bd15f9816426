//! Property tests for attribution (SPEC §3), through the public JSON API only.
//!
//! Each case is one customer with 1–8 touches by up to four partners over the 40 days before
//! a single payment (some outside the window, some at the same instant, through any channel),
//! under a random model (every one of the five, with random parameters), window and base
//! amount in USD or JPY. The properties:
//! - the weights an explanation shows sum to exactly 1, per touch and per partner;
//! - credited revenue sums exactly to the payment's base, and the commissions of a percent
//!   rule sum exactly to the rule's amount on the whole base, rounded once;
//! - a touch outside the window changes no entry and no weight;
//! - renaming partners in the same order changes nothing but the names; renaming them in
//!   any order changes weights by at most one 10^-12 unit per touch and credits by at most
//!   one minor unit (the partner-id tie-break), and never the winner of last/first touch.
//!
//! 256 cases per property by default; `PROPTEST_CASES` raises it (5,000 were run locally).

use std::collections::BTreeMap;
use std::str::FromStr;

use partnerkit::evaluate_json;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const PARTNERS: [&str; 4] = ["ana", "ben", "cy", "dee"];
const CHANNELS: [&str; 4] = ["link", "coupon", "deal_registration", "manual"];
/// The payment's instant; touches come before it.
const PAY_AT: i64 = 1_767_225_600 + 60 * 86_400; // 2026-03-02T00:00:00Z

#[derive(Clone, Debug)]
struct TouchP {
    partner: usize,
    channel: usize,
    /// Seconds before the payment.
    age: i64,
}

#[derive(Clone, Debug)]
struct Case {
    model: Value,
    window_days: i64,
    touches: Vec<TouchP>,
    /// Minor units of the payment.
    units: i64,
    jpy: bool,
    /// Percent of the one rule, in hundredths.
    percent_bp: u32,
}

fn model() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("last_touch")),
        Just(json!("first_touch")),
        Just(json!("linear")),
        (1_u32..=30).prop_map(|h| json!({"time_decay": {"half_life_days": h}})),
        prop::sample::select(vec![
            ("0.4", "0.4"),
            ("0.3", "0.5"),
            ("0.5", "0.5"),
            ("0.1", "0"),
            ("1", "0"),
            ("0.333", "0.333"),
        ])
        .prop_map(|(f, l)| json!({"position_based": {"first": f, "last": l}})),
    ]
}

fn touch() -> impl Strategy<Value = TouchP> {
    (
        0..PARTNERS.len(),
        // Mostly links, so that several touches share the winning channel.
        prop::sample::select(vec![0_usize, 0, 0, 0, 1, 2, 3]),
        // A few distinct instants so that ties at one instant are common.
        prop_oneof![
            prop::sample::select(vec![0_i64, 3_600, 86_400, 7 * 86_400]),
            0_i64..40 * 86_400,
        ],
    )
        .prop_map(|(partner, channel, age)| TouchP {
            partner,
            channel,
            age,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        model(),
        1_i64..=40,
        prop::collection::vec(touch(), 1..=8),
        1_i64..=10_000_000,
        any::<bool>(),
        0_u32..=10_000,
    )
        .prop_map(
            |(model, window_days, touches, units, jpy, percent_bp)| Case {
                model,
                window_days,
                touches,
                units,
                jpy,
                percent_bp,
            },
        )
}

fn instant(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("instant in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn currency(c: &Case) -> (&'static str, u32) {
    if c.jpy { ("JPY", 0) } else { ("USD", 2) }
}

fn base(c: &Case) -> Decimal {
    Decimal::new(c.units, currency(c).1)
}

fn percent(c: &Case) -> Decimal {
    Decimal::new(i64::from(c.percent_bp), 2)
}

/// The input document, with partner ids given by `names`.
fn input(c: &Case, names: &[&str; 4], extra: Option<&TouchP>) -> String {
    let (cur, _) = currency(c);
    let mut events: Vec<Value> = c
        .touches
        .iter()
        .chain(extra)
        .enumerate()
        .map(|(i, t)| {
            json!({"id": format!("t{i}"), "kind": "touch", "at": instant(PAY_AT - t.age),
                   "partner": names[t.partner], "customer": "c1", "channel": CHANNELS[t.channel]})
        })
        .collect();
    events.push(
        json!({"id": "p1", "kind": "payment", "at": instant(PAY_AT), "customer": "c1",
                       "amount": base(c).to_string(), "currency": cur}),
    );
    json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "props", "currency": cur,
                 "attribution": {"model": c.model, "window_days": c.window_days},
                 "rules": [{"id": "r", "reward": {"percent": percent(c).to_string()}}]},
        "partners": names.iter().map(|p| json!({"id": p})).collect::<Vec<_>>(),
        "events": events,
        "as_of": instant(PAY_AT + 86_400),
    })
    .to_string()
}

fn report(text: &str) -> Value {
    let r = evaluate_json(text).unwrap_or_else(|e| panic!("evaluation failed: {}", e.to_json()));
    serde_json::from_str(&r.to_canonical_json()).expect("canonical JSON")
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("decimal string")).expect("decimal")
}

/// Partner → credited revenue, from the metrics (every credited partner has a row).
fn revenue(r: &Value) -> BTreeMap<String, Decimal> {
    r["metrics"]["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .map(|m| {
            (
                m["partner"].as_str().unwrap().to_owned(),
                dec(&m["revenue"]),
            )
        })
        .filter(|(_, v)| !v.is_zero())
        .collect()
}

/// Partner → weight, from the first entry's explanation (empty without entries).
fn weights(r: &Value) -> BTreeMap<String, Decimal> {
    r["entries"]
        .get(0)
        .map(|e| {
            e["explain"]["attribution"]["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| (w["partner"].as_str().unwrap().to_owned(), dec(&w["weight"])))
                .collect()
        })
        .unwrap_or_default()
}

/// Partner → commission amount.
fn paid(r: &Value) -> BTreeMap<String, Decimal> {
    r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["partner"].as_str().unwrap().to_owned(), dec(&e["amount"])))
        .collect()
}

fn rename<V: Clone>(
    m: &BTreeMap<String, V>,
    from: &[&str; 4],
    to: &[&str; 4],
) -> BTreeMap<String, V> {
    m.iter()
        .map(|(k, v)| {
            let i = from.iter().position(|p| p == k).expect("known partner");
            (to[i].to_owned(), v.clone())
        })
        .collect()
}

/// half_up, as the plan's default rounding.
fn half_up(x: Decimal, digits: u32) -> Decimal {
    x.round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

proptest! {
    #[test]
    fn weights_sum_to_one_and_credits_to_the_base(c in case()) {
        let r = report(&input(&c, &PARTNERS, None));
        let rev = revenue(&r);
        let attributed = r["unattributed"].as_array().unwrap().is_empty();
        if !attributed {
            prop_assert!(rev.is_empty());
            prop_assert!(r["entries"].as_array().unwrap().is_empty());
            return Ok(());
        }
        prop_assert_eq!(rev.values().sum::<Decimal>(), base(&c), "credited revenue {:?}", rev);
        let digits = currency(&c).1;
        let whole = half_up(base(&c) * percent(&c) / Decimal::ONE_HUNDRED, digits);
        prop_assert_eq!(paid(&r).values().sum::<Decimal>(), whole, "commissions {:?}", paid(&r));
        if let Some(e) = r["entries"].get(0) {
            let a = &e["explain"]["attribution"];
            let per_partner: Decimal = a["weights"].as_array().unwrap().iter().map(|w| dec(&w["weight"])).sum();
            let per_touch: Decimal = a["touches"].as_array().unwrap().iter().map(|t| dec(&t["weight"])).sum();
            prop_assert_eq!(per_partner, Decimal::ONE);
            prop_assert_eq!(per_touch, Decimal::ONE);
            for t in a["touches"].as_array().unwrap() {
                prop_assert!(dec(&t["weight"]).scale() <= 12);
            }
        }
    }

    #[test]
    fn a_touch_outside_the_window_changes_nothing(
        c in case(),
        partner in 0..PARTNERS.len(),
        channel in 0..CHANNELS.len(),
        past in 1_i64..100 * 86_400,
    ) {
        let before = report(&input(&c, &PARTNERS, None));
        let extra = TouchP { partner, channel, age: c.window_days * 86_400 + past };
        let after = report(&input(&c, &PARTNERS, Some(&extra)));
        prop_assert_eq!(paid(&before), paid(&after));
        prop_assert_eq!(weights(&before), weights(&after));
        prop_assert_eq!(revenue(&before), revenue(&after));
        prop_assert_eq!(&before["unattributed"], &after["unattributed"]);
    }

    #[test]
    fn renaming_partners_changes_only_through_the_id_tie_break(c in case()) {
        let r = report(&input(&c, &PARTNERS, None));
        // Same order: nothing but the names changes.
        let same_order = ["b", "c", "d", "e"];
        let s = report(&input(&c, &same_order, None));
        prop_assert_eq!(rename(&paid(&r), &PARTNERS, &same_order), paid(&s));
        prop_assert_eq!(rename(&weights(&r), &PARTNERS, &same_order), weights(&s));
        prop_assert_eq!(rename(&revenue(&r), &PARTNERS, &same_order), revenue(&s));
        // Reversed order: ties between partners may now break the other way.
        let reversed = ["zz", "yy", "xx", "ww"];
        let v = report(&input(&c, &reversed, None));
        let unit = Decimal::new(1, currency(&c).1);
        let touch_unit = Decimal::new(c.touches.len() as i64, 12);
        let close = |a: &BTreeMap<String, Decimal>, b: &BTreeMap<String, Decimal>, tol: Decimal| {
            a.keys().chain(b.keys()).all(|k| {
                let x = a.get(k).copied().unwrap_or_default();
                let y = b.get(k).copied().unwrap_or_default();
                (x - y).abs() <= tol
            })
        };
        let (rw, vw) = (rename(&weights(&r), &PARTNERS, &reversed), weights(&v));
        prop_assert!(close(&rw, &vw, touch_unit), "weights {:?} vs {:?}", rw, vw);
        let (rr, vr) = (rename(&revenue(&r), &PARTNERS, &reversed), revenue(&v));
        prop_assert!(close(&rr, &vr, unit), "credits {:?} vs {:?}", rr, vr);
        // Last and first touch pick a touch by instant and event id, never by partner id.
        if c.model == json!("last_touch") || c.model == json!("first_touch") {
            prop_assert_eq!(rr, vr);
            prop_assert_eq!(rename(&paid(&r), &PARTNERS, &reversed), paid(&v));
        }
    }
}
