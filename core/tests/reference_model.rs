//! The incremental engine against the reference evaluator (`reference/`, written
//! separately and sharing no code with the engine) on 10,000 generated event streams of the
//! reference's subset: entries (id, partner, kind, amount, status, instants), statements,
//! unattributed customers and per-partner metrics must agree exactly.
//!
//! Each stream is a function of its seed (a splitmix64 generator), so a failure names a
//! seed that reproduces it. The engine is fed either one event at a time up to `as_of`, or
//! in batches of random size including events after `as_of` (its report then replays the
//! log up to `as_of`), with a snapshot and restore at a random point; one stream in ten
//! through the JSON surface, the others through Rust values.
//! `PARTNERKIT_REFERENCE_STREAMS` changes the number of streams (default 10,000).

mod reference;

use chrono::{DateTime, TimeDelta, Utc};
use partnerkit::Engine;
use reference::{Clawback, Event, Mode, Plan, Reward, Rule, What};
use rust_decimal::Decimal;
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc)
}

fn ts(t: DateTime<Utc>) -> String {
    partnerkit::time::fmt_instant(t)
}

fn dec(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// One stream: the reference's view and the engine's documents.
struct Stream {
    plan: Plan,
    partners: Vec<String>,
    events: Vec<Event>,
    as_of: DateTime<Utc>,
    plan_json: Value,
    events_json: Vec<Value>,
}

fn stream(seed: u64) -> Stream {
    let mut r = Rng(seed);
    let modes = [
        (Mode::HalfUp, "half_up"),
        (Mode::HalfEven, "half_even"),
        (Mode::Down, "down"),
        (Mode::Up, "up"),
    ];
    let (mode, mode_name) = modes[r.range(0, 3) as usize];
    let mut rules = Vec::new();
    let mut rules_json = Vec::new();
    for k in 0..r.range(1, 3) {
        let id = format!("r{k}");
        let (reward, reward_json) = if r.chance(70) {
            // Percents with up to three decimals make half-cent ties common.
            let p = Decimal::new(r.range(0, 50_000), 3);
            (Reward::Percent(p), json!({"percent": p.to_string()}))
        } else {
            let f = dec(r.range(1, 3_000));
            (Reward::Flat(f), json!({"flat": f.to_string()}))
        };
        let mut when = serde_json::Map::new();
        let (mut min_number, mut max_number, mut min_amount) = (None, None, None);
        if r.chance(30) {
            let lo = r.range(1, 3) as u32;
            min_number = Some(lo);
            when.insert("payment_number".into(), json!({"min": lo}));
        }
        if r.chance(30) {
            let hi = r.range(1, 4) as u32;
            if min_number.is_none_or(|lo| lo <= hi) {
                max_number = Some(hi);
                let pn = when.entry("payment_number").or_insert_with(|| json!({}));
                pn["max"] = json!(hi);
            }
        }
        if r.chance(25) {
            let a = dec(r.range(0, 20_000));
            min_amount = Some(a);
            when.insert("min_amount".into(), json!(a.to_string()));
        }
        rules.push(Rule {
            id: id.clone(),
            reward,
            min_number,
            max_number,
            min_amount,
        });
        rules_json.push(json!({"id": id, "when": when, "reward": reward_json}));
    }
    let sum = r.chance(30);
    let (clawback, clawback_json) = match r.range(0, 2) {
        0 => (Clawback::Always, json!("always")),
        1 => (Clawback::Never, json!("never")),
        _ => {
            let n = r.range(0, 30);
            (Clawback::WithinDays(n), json!({"within_days": n}))
        }
    };
    let plan = Plan {
        mode,
        window_days: r.range(1, 30),
        hold_days: r.range(0, 40),
        rules,
        sum,
        clawback,
        write_off: r.chance(40),
        threshold: dec(r.range(0, 3) * 2_500),
        net_days: r.range(0, 20),
    };
    let plan_json = json!({
        "schema": "partnerkit/plan@1", "id": "reference", "currency": "USD",
        "rounding": mode_name,
        "attribution": {"model": "last_touch", "window_days": plan.window_days},
        "rules": rules_json,
        "combine": if sum { "sum" } else { "first_match" },
        "lifecycle": {"hold_days": plan.hold_days, "clawback": clawback_json,
                      "negative_balance": if plan.write_off { "write_off" } else { "carry" }},
        "payouts": {"period": "month", "threshold": plan.threshold.to_string(),
                    "net_days": plan.net_days},
    });
    let partners: Vec<String> = (0..r.range(1, 4)).map(|i| format!("a{i}")).collect();
    let n_customers = r.range(1, 5);
    let mut events: Vec<Event> = Vec::new();
    let mut events_json: Vec<Value> = Vec::new();
    let mut t = start();
    // payment id → (amount, refunded) in cents
    let mut paid: Vec<(String, i64, i64)> = Vec::new();
    let n = r.range(3, 30);
    for k in 0..n {
        if !r.chance(15) {
            t += TimeDelta::hours(r.range(0, 24 * 12));
        }
        let customer = format!("c{}", r.range(0, n_customers - 1));
        let partner = partners[r.range(0, partners.len() as i64 - 1) as usize].clone();
        let roll = r.range(0, 99);
        let (id, what, doc) = if roll < 35 {
            // A touch, sometimes exactly at a window's edge before the current instant.
            let at = if r.chance(20) {
                t - TimeDelta::days(plan.window_days) - TimeDelta::seconds(r.range(0, 1))
            } else {
                t
            };
            let id = format!("t{k:02}");
            let doc = json!({"id": id, "kind": "touch", "at": ts(at), "partner": partner,
                             "customer": customer, "channel": "link"});
            events.push(Event {
                id: id.clone(),
                at,
                what: What::Touch { partner, customer },
            });
            events_json.push(doc);
            continue;
        } else if roll < 75 || paid.is_empty() {
            if r.chance(60) {
                // A touch of the paying customer shortly before (or at the same instant:
                // touches rank before payments).
                let at = t - TimeDelta::hours(r.range(0, 24 * plan.window_days));
                let id = format!("s{k:02}");
                events_json.push(json!({"id": id, "kind": "touch", "at": ts(at),
                                        "partner": partner, "customer": customer,
                                        "channel": "link"}));
                events.push(Event {
                    id,
                    at,
                    what: What::Touch {
                        partner: partner.clone(),
                        customer: customer.clone(),
                    },
                });
            }
            let amount = r.range(0, 40_000);
            let tax = if r.chance(25) {
                r.range(0, amount / 5)
            } else {
                0
            };
            let id = format!("p{k:02}");
            paid.push((id.clone(), amount, 0));
            let mut doc = json!({"id": id, "kind": "payment", "at": ts(t),
                                 "customer": customer, "amount": dec(amount).to_string(),
                                 "currency": "USD"});
            if tax > 0 {
                doc["tax"] = json!(dec(tax).to_string());
            }
            (
                id,
                What::Payment {
                    customer,
                    amount: dec(amount),
                    tax: dec(tax),
                },
                doc,
            )
        } else {
            let j = r.range(0, paid.len() as i64 - 1) as usize;
            let (pid, amount, refunded) = paid[j].clone();
            let left = amount - refunded;
            if left == 0 {
                continue;
            }
            if r.chance(20) {
                paid[j].2 = amount;
                let id = format!("x{k:02}");
                let doc = json!({"id": id, "kind": "chargeback", "at": ts(t), "payment": pid});
                (id, What::Chargeback { payment: pid }, doc)
            } else {
                let a = if r.chance(30) { left } else { r.range(1, left) };
                paid[j].2 += a;
                let id = format!("r{k:02}");
                let doc = json!({"id": id, "kind": "refund", "at": ts(t), "payment": pid,
                                 "amount": dec(a).to_string()});
                (
                    id,
                    What::Refund {
                        payment: pid,
                        amount: dec(a),
                    },
                    doc,
                )
            }
        };
        events.push(Event { id, at: t, what });
        events_json.push(doc);
    }
    let as_of = if r.chance(70) {
        t + TimeDelta::hours(r.range(0, 24 * 120))
    } else {
        start() + TimeDelta::hours(r.range(0, (t - start()).num_hours().max(0)))
    };
    Stream {
        plan,
        partners,
        events,
        as_of,
        plan_json,
        events_json,
    }
}

/// The report's fields that the reference computes, read from its canonical JSON.
fn from_report_json(report: &Value) -> reference::Outcome {
    let s = |v: &Value| v.as_str().expect("string").to_owned();
    let t = |v: &Value| {
        DateTime::parse_from_rfc3339(v.as_str().expect("instant"))
            .expect("instant")
            .with_timezone(&Utc)
    };
    let kind = |v: &Value| -> &'static str {
        match v.as_str().expect("kind") {
            "commission" => "commission",
            "reversal" => "reversal",
            other => panic!("kind {other} is outside the reference's subset"),
        }
    };
    let status = |v: &Value| -> &'static str {
        match v.as_str().expect("status") {
            "pending" => "pending",
            "available" => "available",
            "paid" => "paid",
            "scheduled" => "scheduled",
            "carried" => "carried",
            "written_off" => "written_off",
            other => panic!("status {other}"),
        }
    };
    let list = |k: &str| report[k].as_array().expect("list").clone();
    reference::Outcome {
        entries: list("entries")
            .iter()
            .map(|e| reference::Line {
                id: s(&e["id"]),
                partner: s(&e["partner"]),
                kind: kind(&e["kind"]),
                amount: s(&e["amount"]),
                status: status(&e["status"]),
                earned_at: t(&e["earned_at"]),
                available_at: t(&e["available_at"]),
            })
            .collect(),
        statements: list("statements")
            .iter()
            .map(|st| reference::Statement {
                partner: s(&st["partner"]),
                period: s(&st["period"]),
                opening: s(&st["opening_balance"]),
                credits: s(&st["credits"]),
                debits: s(&st["debits"]),
                closing: s(&st["closing_balance"]),
                payable: st["payable"].as_bool().expect("bool"),
                payout: s(&st["payout"]),
                carried: s(&st["carried_forward"]),
                written_off: s(&st["written_off"]),
                due: s(&st["due"]),
                status: status(&st["status"]),
            })
            .collect(),
        unattributed: list("unattributed").iter().map(s).collect(),
        metrics: report["metrics"]["partners"]
            .as_array()
            .expect("metrics")
            .iter()
            .map(|m| {
                (
                    s(&m["partner"]),
                    reference::Metrics {
                        clicks: m["clicks"].as_u64().expect("n"),
                        referrals: m["referrals"].as_u64().expect("n"),
                        conversions: m["conversions"].as_u64().expect("n"),
                        revenue: s(&m["revenue"]),
                        commission: s(&m["commission"]),
                    },
                )
            })
            .collect(),
    }
}

/// The engine's amounts as the reference writes them, refusing to round: an amount with
/// more than two decimals would be an engine bug, and must not be hidden by formatting.
fn exact(x: Decimal) -> String {
    if (x * Decimal::ONE_HUNDRED).fract().is_zero() {
        reference::cents(x)
    } else {
        format!("unrounded {x}")
    }
}

/// The report's fields that the reference computes, read from the report's types.
fn from_report(report: &partnerkit::Report) -> reference::Outcome {
    let kind = |k: partnerkit::ledger::EntryKind| -> &'static str {
        match k.as_str() {
            "commission" => "commission",
            "reversal" => "reversal",
            other => panic!("kind {other} is outside the reference's subset"),
        }
    };
    reference::Outcome {
        entries: report
            .entries
            .iter()
            .zip(&report.statuses)
            .map(|(e, st)| reference::Line {
                id: e.id.to_string(),
                partner: e.partner.to_string(),
                kind: kind(e.kind),
                amount: exact(e.amount),
                status: st.as_str(),
                earned_at: e.earned_at,
                available_at: e.available_at,
            })
            .collect(),
        statements: report
            .statements
            .iter()
            .map(|st| reference::Statement {
                partner: st.partner.to_string(),
                period: st.period.label(),
                opening: exact(st.opening_balance),
                credits: exact(st.credits),
                debits: exact(st.debits),
                closing: exact(st.closing_balance),
                payable: st.payable,
                payout: exact(st.payout),
                carried: exact(st.carried_forward),
                written_off: exact(st.written_off),
                due: st.due.to_string(),
                status: st.status.as_str(),
            })
            .collect(),
        unattributed: report.unattributed.iter().map(|c| c.to_string()).collect(),
        metrics: report
            .partners
            .iter()
            .map(|(p, m)| {
                (
                    p.to_string(),
                    reference::Metrics {
                        clicks: m.clicks,
                        referrals: m.referrals,
                        conversions: m.conversions,
                        revenue: exact(m.revenue),
                        commission: exact(m.commission),
                    },
                )
            })
            .collect(),
    }
}

/// Feeds the stream to an engine and returns what it reports as of the stream's `as_of`.
/// One stream in ten goes through the JSON surface (`apply_json`, `report_json`), the
/// others through Rust values (which is faster in a debug build).
fn engine_outcome(st: &Stream, seed: u64) -> reference::Outcome {
    let mut r = Rng(seed ^ 0x5EED_5EED);
    let json = seed.is_multiple_of(10);
    let doc = json!({"plan": st.plan_json,
                     "partners": st.partners.iter().map(|p| json!({"id": p})).collect::<Vec<_>>()});
    let mut engine = Engine::from_json(&doc.to_string()).expect("engine");
    // The engine needs canonical order; the reference sorts for itself.
    let mut order: Vec<partnerkit::input::Event> = st
        .events_json
        .iter()
        .map(|v| partnerkit::input::event_from_value(v, "event").expect("event"))
        .collect();
    order.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let restore_at = r.range(0, order.len() as i64) as usize;
    if r.chance(50) {
        // One by one, only what has happened by as_of.
        for (k, ev) in order.into_iter().enumerate() {
            if k == restore_at {
                engine = Engine::restore(&engine.snapshot()).expect("restore");
            }
            if ev.at > st.as_of {
                break;
            }
            if json {
                engine.apply_json(&event_json(st, &ev)).expect("apply");
            } else {
                engine.apply(ev).expect("apply");
            }
        }
    } else {
        // In batches of random size, everything, given newest first within a batch.
        let mut k = 0;
        while k < order.len() {
            let end = (k + r.range(1, 6) as usize).min(order.len());
            let batch: Vec<partnerkit::input::Event> =
                order[k..end].iter().rev().cloned().collect();
            if json {
                let list: Vec<String> = batch.iter().map(|e| event_json(st, e)).collect();
                engine
                    .apply_json(&format!("[{}]", list.join(",")))
                    .expect("apply batch");
            } else {
                engine.apply_many(batch).expect("apply batch");
            }
            if (k + 1..=end).contains(&restore_at) {
                engine = Engine::restore(&engine.snapshot()).expect("restore");
            }
            k = end;
        }
    }
    if json {
        let text = engine.report_json(&ts(st.as_of)).expect("report");
        from_report_json(&serde_json::from_str(&text).expect("json"))
    } else {
        from_report(&engine.report(st.as_of).expect("report"))
    }
}

/// The stream's JSON of an event.
fn event_json(st: &Stream, ev: &partnerkit::input::Event) -> String {
    st.events_json
        .iter()
        .find(|v| v["id"] == *ev.id)
        .expect("event")
        .to_string()
}

fn check(seeds: std::ops::Range<u64>) {
    let mut failures = Vec::new();
    for seed in seeds {
        let st = stream(seed);
        let want = reference::evaluate(&st.plan, &st.partners, &st.events, st.as_of);
        let got = engine_outcome(&st, seed);
        if got != want {
            failures.push(format!(
                "seed {seed}:\n  engine:    {got:?}\n  reference: {want:?}\n  events: {}\n  plan: {}\n  as_of: {}",
                Value::Array(st.events_json.clone()),
                st.plan_json,
                ts(st.as_of)
            ));
            if failures.len() >= 3 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn streams() -> u64 {
    std::env::var("PARTNERKIT_REFERENCE_STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

// Two halves, so that the test harness runs them on two threads.
#[test]
fn engine_equals_reference_first_half() {
    check(0..streams() / 2);
}

#[test]
fn engine_equals_reference_second_half() {
    check(streams() / 2..streams());
}

#[test]
fn reference_rounding_by_hand() {
    use reference::round;
    let d = |s: &str| s.parse::<Decimal>().expect("decimal");
    for (x, mode, want) in [
        ("2.345", Mode::HalfUp, "2.35"),
        ("2.345", Mode::HalfEven, "2.34"),
        ("2.355", Mode::HalfEven, "2.36"),
        ("2.341", Mode::Up, "2.35"),
        ("2.349", Mode::Down, "2.34"),
        ("-2.345", Mode::HalfUp, "-2.35"),
        ("-2.341", Mode::Up, "-2.35"),
        ("7", Mode::HalfUp, "7.00"),
    ] {
        assert_eq!(round(d(x), 2, mode).to_string(), want, "{x} {mode:?}");
    }
}
