//! Property tests of SPEC §12: for random programs, random event streams and random cut
//! points, batch evaluation, the incremental engine fed in batches, and the engine fed one
//! by one with a snapshot and restore at every cut give the same canonical report, byte for
//! byte; so do reports as of instants before the engine's last event; and a failed call
//! (late, conflicting or bad event) changes nothing.
//!
//! Each case is built from one seed by `scenario`: a plan drawing on everything this
//! version implements (percent and flat rules combined by `first_match`, `sum` or `max`,
//! per-customer and per-period caps, signup rewards, both touch models, every rounding
//! mode, holds, every clawback and negative-balance policy, monthly or quarterly statements
//! with thresholds, payout in the partner's currency through every `fx_date`), 2–4
//! partners (some paid in EUR, some suspended for a while), and about 10–40 events within
//! four months: touches, signups, USD and EUR payments with tax, partial and full refunds,
//! chargebacks, adjustments, and redeliveries, several sharing an instant so that the kind
//! rank decides their order.

use std::collections::BTreeMap;

use partnerkit::{Engine, ErrorCode, Input, evaluate_json};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A small, seedable generator (splitmix64): a case is a function of its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn at(hours: i64) -> String {
    let t = chrono::DateTime::from_timestamp(START + hours * 3600, 0).expect("instant");
    partnerkit::time::fmt_instant(t)
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A random valid input document, and the hours of its `as_of`.
fn scenario(seed: u64) -> (Value, i64) {
    let mut r = Rng(seed);
    let combine = *r.pick(&["first_match", "sum", "max"]);
    let mut rules = vec![json!({
        "id": "pct",
        "when": if r.chance(30) { json!({"payment_number": {"max": r.range(1, 3)}}) } else { json!({}) },
        "reward": {"percent": format!("{}.{:02}", r.range(0, 40), r.range(0, 99))},
    })];
    if r.chance(50) {
        rules.push(json!({"id": "flat", "reward": {"flat": money(r.range(100, 2_000))}}));
    }
    if r.chance(40) {
        let cap = if r.chance(50) {
            json!({"max_per_customer": money(r.range(500, 6_000))})
        } else {
            json!({"max_per_period": {"period": "month", "amount": money(r.range(1_000, 9_000))}})
        };
        rules[0]["limits"] = cap;
    }
    if r.chance(30) {
        rules.push(json!({"id": "lead", "when": {"event": "signup"},
                          "reward": {"flat": money(r.range(100, 1_000))}}));
    }
    let clawback = match r.range(0, 2) {
        0 => json!("always"),
        1 => json!("never"),
        _ => json!({"within_days": r.range(0, 40)}),
    };
    let plan = json!({
        "schema": "partnerkit/plan@1",
        "id": "props",
        "currency": "USD",
        "timezone": r.pick(&["UTC", "America/New_York", "Europe/London"]),
        "rounding": r.pick(&["half_up", "half_even", "down", "up"]),
        "attribution": {"model": r.pick(&["last_touch", "first_touch"]),
                        "window_days": r.range(1, 40)},
        "rules": rules,
        "combine": combine,
        "lifecycle": {"hold_days": r.range(0, 40), "clawback": clawback,
                      "negative_balance": r.pick(&["carry", "write_off"])},
        "payouts": {"period": r.pick(&["month", "month", "quarter"]),
                    "threshold": money(r.range(0, 5_000)),
                    "net_days": r.range(0, 20),
                    "currency": r.pick(&["partner", "plan"]),
                    "fx_date": r.pick(&["earned", "available", "statement"])},
    });
    let n_partners = r.range(2, 4) as usize;
    let partners: Vec<Value> = (0..n_partners)
        .map(|i| {
            let mut p = json!({"id": format!("p{i}")});
            if r.chance(30) {
                p["payout_currency"] = json!("EUR");
            }
            if r.chance(25) {
                let from = r.range(0, 2_000);
                p["status"] = json!([
                    {"at": at(from), "status": "suspended"},
                    {"at": at(from + r.range(1, 600)), "status": "active"},
                ]);
            }
            p
        })
        .collect();
    // USD→EUR from before the first event (some months quoted the other way round).
    let fx: Vec<Value> = (0..6)
        .map(|m| {
            let rate = format!("0.{}", r.range(8_000, 9_999));
            if r.chance(20) {
                json!({"date": format!("2026-{:02}-01", m + 1), "from": "EUR", "to": "USD",
                       "rate": format!("1.{}", r.range(1_000, 2_000))})
            } else if m == 0 {
                json!({"date": "2025-12-01", "from": "USD", "to": "EUR", "rate": rate})
            } else {
                json!({"date": format!("2026-{:02}-01", m + 1), "from": "USD", "to": "EUR",
                       "rate": rate})
            }
        })
        .collect();
    let fx = {
        // Keep a USD→EUR quote before every date.
        let mut fx = fx;
        fx.push(json!({"date": "2025-11-01", "from": "USD", "to": "EUR", "rate": "0.9"}));
        fx
    };
    let n = r.range(10, 40);
    let mut hours = 0;
    let mut events: Vec<Value> = Vec::new();
    // payment id → (currency, cents left unrefunded)
    let mut payments: BTreeMap<String, (&str, i64)> = BTreeMap::new();
    for k in 0..n {
        if !r.chance(20) {
            hours += r.range(0, 120);
        }
        let t = at(hours);
        let customer = format!("c{}", r.range(0, 5));
        let partner = format!("p{}", r.range(0, n_partners as i64 - 1));
        let id = format!("e{k:02}");
        let roll = r.range(0, 99);
        let ev = if roll < 30 {
            json!({"id": id, "kind": "touch", "at": t, "partner": partner, "customer": customer,
                   "channel": r.pick(&["link", "link", "coupon"])})
        } else if roll < 38 {
            json!({"id": id, "kind": "signup", "at": t, "customer": customer})
        } else if roll < 70 {
            let currency = *r.pick(&["USD", "USD", "USD", "EUR"]);
            let cents = r.range(100, 50_000);
            if r.chance(50) {
                // A touch of the paying customer at the same instant: it ranks first.
                events.push(json!({"id": format!("{id}t"), "kind": "touch", "at": t,
                                   "partner": partner, "customer": customer,
                                   "channel": "link"}));
            }
            payments.insert(id.clone(), (currency, cents));
            let mut p = json!({"id": id, "kind": "payment", "at": t, "customer": customer,
                               "amount": money(cents), "currency": currency});
            if r.chance(25) {
                p["tax"] = json!(money(cents / 10));
            }
            p
        } else if roll < 88 && !payments.is_empty() {
            let keys: Vec<String> = payments.keys().cloned().collect();
            let pid = r.pick(&keys).clone();
            let (currency, left) = payments[&pid];
            if left == 0 {
                continue;
            }
            if r.chance(20) {
                payments.insert(pid.clone(), (currency, 0));
                json!({"id": id, "kind": "chargeback", "at": t, "payment": pid})
            } else {
                let amount = if r.chance(30) { left } else { r.range(1, left) };
                payments.insert(pid.clone(), (currency, left - amount));
                json!({"id": id, "kind": "refund", "at": t, "payment": pid,
                       "amount": money(amount)})
            }
        } else if roll < 94 {
            json!({"id": id, "kind": "adjustment", "at": t, "partner": partner,
                   "amount": money(r.range(-2_000, 5_000)),
                   "currency": r.pick(&["USD", "EUR"]), "reason": "manual"})
        } else if !events.is_empty() {
            // A redelivery of an earlier event (an identical copy).
            let i = r.range(0, events.len() as i64 - 1) as usize;
            events[i].clone()
        } else {
            continue;
        };
        events.push(ev);
    }
    // Events are given out of order, as logs often are.
    for i in (1..events.len()).rev() {
        if r.chance(30) {
            let j = r.range(0, i as i64) as usize;
            events.swap(i, j);
        }
    }
    let as_of = hours + r.range(0, 24 * 200);
    let doc = json!({"plan": plan, "partners": partners, "events": events, "fx": fx,
                     "as_of": at(as_of)});
    (doc, as_of)
}

type Outcome = Result<String, String>;

fn outcome(r: partnerkit::Result<partnerkit::Report>) -> Outcome {
    r.map(|r| r.to_canonical_json())
        .map_err(|e| format!("{} at {}", e.code(), e.path()))
}

fn json_of(doc: &Value, events: &[usize]) -> String {
    let all = doc["events"].as_array().expect("events");
    Value::Array(events.iter().map(|&i| all[i].clone()).collect()).to_string()
}

/// Sorted, distinct cut points in `0..=n` drawn from `seed`.
fn cuts(seed: u64, n: usize) -> Vec<usize> {
    let mut r = Rng(seed ^ 0x00C0_FFEE);
    let mut c: Vec<usize> = (0..r.range(0, 5))
        .map(|_| r.range(0, n as i64) as usize)
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

fn empty_engine(input: &Input) -> Engine {
    Engine::from_parts(input.plan.clone(), input.partners.clone(), input.fx.clone())
        .expect("engine")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// batch = incremental in batches = one by one with snapshot/restore at every cut.
    #[test]
    fn batch_equals_incremental_at_every_cut(seed in any::<u64>()) {
        let (doc, _) = scenario(seed);
        let text = doc.to_string();
        let batch = outcome(evaluate_json(&text));
        prop_assert!(batch.is_ok(), "generated input must evaluate: {batch:?}");
        let input = Input::from_json(&text).expect("parses");
        let order = input.feed_order().expect("order");
        let cuts = cuts(seed, order.len());

        // In batches cut at the cut points, each given in reverse (the engine sorts it).
        let mut e = empty_engine(&input);
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied());
        bounds.push(order.len());
        for w in bounds.windows(2) {
            let mut part: Vec<usize> = order[w[0]..w[1]].to_vec();
            part.reverse();
            if !part.is_empty() {
                e.apply_json(&json_of(&doc, &part)).expect("batch applies");
            }
        }
        prop_assert_eq!(&outcome(e.report(input.as_of)), &batch, "in batches");

        // One by one, through a snapshot and a restore at every cut.
        let mut e = empty_engine(&input);
        for (k, &i) in order.iter().enumerate() {
            if cuts.contains(&k) {
                e = Engine::restore(&e.snapshot()).expect("restore");
            }
            e.apply_at(input.events[i].clone(), i).expect("apply");
        }
        if cuts.contains(&order.len()) {
            e = Engine::restore(&e.snapshot()).expect("restore");
        }
        prop_assert_eq!(&outcome(e.report(input.as_of)), &batch, "with snapshots");

        // As of an earlier instant (the engine replays its log up to it).
        if let Some(&k) = cuts.first() && k < order.len() {
            let t = input.events[order[k]].at;
            let mut early = doc.clone();
            early["as_of"] = json!(partnerkit::time::fmt_instant(t));
            let want = outcome(evaluate_json(&early.to_string()));
            prop_assert_eq!(outcome(e.report(t)), want, "as of an earlier instant");
        }
    }

    /// A partner's statements are the report's, byte for byte, and its balance adds up the
    /// report's entries by status (less what statements wrote off).
    #[test]
    fn balances_and_statements_agree_with_the_report(seed in any::<u64>()) {
        let (doc, as_of_h) = scenario(seed);
        let text = doc.to_string();
        let e = Engine::from_json(&text).expect("engine");
        // As of the end, and as of mid-stream (replaying the log).
        for t in [as_of_h, as_of_h / 2] {
            let at = at(t);
            let report: Value = serde_json::from_str(&e.report_json(&at).expect("report"))
                .expect("json");
            for p in e.partners().iter().map(|p| p.id.clone()) {
                let st: Value = serde_json::from_str(&e.statements_json(&p, &at).expect("st"))
                    .expect("json");
                let want: Vec<&Value> = report["statements"].as_array().expect("list").iter()
                    .filter(|s| s["partner"] == p.as_str()).collect();
                prop_assert_eq!(st.to_string(), serde_json::to_string(&want).expect("json"));
                let bal: Value = serde_json::from_str(&e.balance_json(&p, &at).expect("balance"))
                    .expect("json");
                let mut sums: BTreeMap<(String, String), rust_decimal::Decimal> = BTreeMap::new();
                for en in report["entries"].as_array().expect("list") {
                    if en["partner"] != p.as_str() {
                        continue;
                    }
                    let amount: rust_decimal::Decimal =
                        en["amount"].as_str().expect("amount").parse().expect("decimal");
                    *sums.entry((en["currency"].as_str().expect("c").to_owned(),
                                 en["status"].as_str().expect("s").to_owned()))
                        .or_default() += amount;
                }
                let currencies: std::collections::BTreeSet<&String> =
                    sums.keys().map(|(c, _)| c).collect();
                let single = currencies.len() == 1
                    && want.iter().all(|s| currencies.contains(&s["currency"].as_str()
                        .expect("c").to_owned()));
                let written_off: rust_decimal::Decimal = want.iter()
                    .map(|s| s["written_off"].as_str().expect("w").parse::<rust_decimal::Decimal>()
                        .expect("decimal"))
                    .sum();
                for b in bal["balances"].as_array().expect("list") {
                    let c = b["currency"].as_str().expect("c").to_owned();
                    let get = |k: &str| sums.get(&(c.clone(), k.to_owned())).copied()
                        .unwrap_or_default();
                    let num = |k: &str| b[k].as_str().expect("n").parse::<rust_decimal::Decimal>()
                        .expect("decimal");
                    prop_assert_eq!(num("pending"), get("pending"));
                    prop_assert_eq!(num("paid"), get("paid"));
                    if single {
                        prop_assert_eq!(num("available"), get("available") + written_off);
                    }
                }
            }
        }
    }

    /// A call that fails — a late event, a conflicting redelivery, a refund of an unknown
    /// payment or beyond what is left, a touch by an undeclared partner, a bad batch —
    /// leaves the engine byte for byte as it was, and the stream then goes on to the batch
    /// report.
    #[test]
    fn failed_calls_change_nothing(seed in any::<u64>(), bad in 0_usize..7) {
        let (doc, _) = scenario(seed);
        let text = doc.to_string();
        let batch = outcome(evaluate_json(&text));
        let input = Input::from_json(&text).expect("parses");
        let order = input.feed_order().expect("order");
        let cut = cuts(seed, order.len()).first().copied().unwrap_or(order.len() / 2);
        let mut e = empty_engine(&input);
        for &i in &order[..cut] {
            e.apply_at(input.events[i].clone(), i).expect("apply");
        }
        let before = e.snapshot();
        let last = e.last_event().cloned();
        // Reports are written from the state itself (the snapshot holds only the log).
        let report_at = |e: &Engine| last.as_ref().map(|l| {
            e.report_json(&partnerkit::time::fmt_instant(l.at)).expect("report")
        });
        let report_before = report_at(&e);
        let attempt = match (bad, &last) {
            (0, Some(l)) if l.at.timestamp() > START => {
                let t = partnerkit::time::fmt_instant(l.at - chrono::TimeDelta::seconds(1));
                Some((ErrorCode::LateEvent, json!({"id": "late", "kind": "touch", "at": t,
                    "partner": "p0", "customer": "c0", "channel": "link"}).to_string()))
            }
            (1, Some(l)) if matches!(l.body, partnerkit::input::Body::Payment(_)) => {
                let all = doc["events"].as_array().expect("events");
                let mut copy = all.iter().find(|v| v["id"] == *l.id).expect("event").clone();
                copy["amount"] = json!("1234.56");
                Some((ErrorCode::ConflictingEvent, copy.to_string()))
            }
            (2, Some(l)) => Some((ErrorCode::UnknownPayment, json!({"id": "rx", "kind": "refund",
                "at": partnerkit::time::fmt_instant(l.at + chrono::TimeDelta::hours(1)),
                "payment": "nope",
                "amount": "1.00"}).to_string())),
            (3, Some(l)) => Some((ErrorCode::UnknownPartner, json!({"id": "tx", "kind": "touch",
                "at": partnerkit::time::fmt_instant(l.at + chrono::TimeDelta::hours(1)),
                "partner": "stranger", "customer": "c0", "channel": "link"}).to_string())),
            (4, Some(l)) => {
                // A batch whose last event fails after the others were folded.
                let t = partnerkit::time::fmt_instant(l.at + chrono::TimeDelta::hours(1));
                Some((ErrorCode::UnknownPayment, json!([
                    {"id": "ta", "kind": "touch", "at": t, "partner": "p0", "customer": "c9",
                     "channel": "link"},
                    {"id": "pa", "kind": "payment", "at": t, "customer": "c9",
                     "amount": "10.00", "currency": "USD"},
                    {"id": "ra", "kind": "refund", "at": t, "payment": "none",
                     "amount": "1.00"}]).to_string()))
            }
            (5, Some(l)) => {
                let paid: Vec<&partnerkit::input::Event> = order[..cut].iter()
                    .map(|&i| &input.events[i])
                    .filter(|ev| matches!(ev.body, partnerkit::input::Body::Payment(_)))
                    .collect();
                paid.first().map(|p| (ErrorCode::RefundExceedsPayment, json!({"id": "rb",
                    "kind": "refund",
                    "at": partnerkit::time::fmt_instant(l.at + chrono::TimeDelta::hours(1)),
                    "payment": &*p.id, "amount": "99999.00"}).to_string()))
            }
            (6, Some(l)) => {
                // A refund in another currency than its payment's.
                let paid: Vec<(&str, &str)> = order[..cut].iter()
                    .map(|&i| &input.events[i])
                    .filter_map(|ev| match &ev.body {
                        partnerkit::input::Body::Payment(p) => Some((&*ev.id,
                            if p.currency.as_str() == "USD" { "EUR" } else { "USD" })),
                        _ => None,
                    })
                    .collect();
                paid.first().map(|(p, other)| (ErrorCode::CurrencyMismatch, json!({"id": "rc",
                    "kind": "refund",
                    "at": partnerkit::time::fmt_instant(l.at + chrono::TimeDelta::hours(1)),
                    "payment": p, "amount": "0.01", "currency": other}).to_string()))
            }
            _ => None,
        };
        if let Some((code, event)) = attempt {
            let err = e.apply_json(&event).expect_err("must fail");
            prop_assert_eq!(err.code(), code, "{}", err.to_json());
            prop_assert!(e.snapshot() == before, "the failed call changed the engine");
            prop_assert!(report_at(&e) == report_before, "the failed call changed the state");
        }
        for &i in &order[cut..] {
            e.apply_at(input.events[i].clone(), i).expect("apply");
        }
        prop_assert_eq!(outcome(e.report(input.as_of)), batch);
    }
}
