//! Batch evaluation throughput on a year of a large affiliate program.
//!
//! Run the full-size benchmark (1,000,000 payments, 1.1 million events; about two minutes)
//! with
//!
//! ```text
//! cargo bench -p partnerkit --bench evaluate -- evaluate_1m
//! ```
//!
//! and the ten-times smaller ones, for quick comparisons, with `-- evaluate_100k`. A shorter
//! run on a shared machine: `-- evaluate_1m --warm-up-time 1 --measurement-time 5`.
//!
//! The program: 10,000 partners and 50,000 customers (1,000 and 5,000 in the small one),
//! each customer touched through a link by one partner a day before its first payment; the payments are spread evenly
//! over the twelve months of 2026 and cycle through the customers, so every customer pays
//! about every 18 days. One payment in twenty is refunded by half, alternately 10 days
//! after the payment (inside the 30-day hold: a cancel) and 31 days after (a clawback).
//! One rule pays 20%; statements are monthly; `as_of` is 2027-02-01, after every event.
//!
//! `evaluate_1m_position_based_10` is the same program with ten touches per customer, by ten
//! different partners on the ten days before its first payment, under `position_based`
//! {first 0.4, last 0.4}: every first payment splits its base and commission ten ways
//! (1.5 million events).
//!
//! The input is built once, outside the timed section, already in canonical order (as an
//! event log would be); the timed section is `evaluate(&input)` (the report is dropped
//! outside it). Criterion reports events per second (`Throughput::Elements`); evaluation
//! is single-threaded. Criterion needs at least 10 samples, and the full-size evaluation
//! takes seconds, so that run takes about two minutes whatever the measurement time.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use partnerkit::input::{Body, Event, Partner, Payment, Touch};
use partnerkit::money::Currency;
use partnerkit::plan::Channel;
use partnerkit::{Input, Plan, evaluate};
use rust_decimal::Decimal;

const PLAN_POSITION_BASED: &str = r#"{
  "schema": "partnerkit/plan@1",
  "id": "bench-position-based",
  "currency": "USD",
  "attribution": {"model": {"position_based": {"first": "0.4", "last": "0.4"}}},
  "rules": [{"id": "base", "reward": {"percent": "20"}}],
  "lifecycle": {"hold_days": 30},
  "payouts": {"period": "month"}
}"#;

const PLAN: &str = r#"{
  "schema": "partnerkit/plan@1",
  "id": "bench",
  "currency": "USD",
  "rules": [{"id": "base", "reward": {"percent": "20"}}],
  "lifecycle": {"hold_days": 30},
  "payouts": {"period": "month"}
}"#;

/// Size of one benchmark program.
#[derive(Clone, Copy)]
struct Size {
    payments: usize,
    partners: usize,
    customers: usize,
}

const SIZE_1M: Size = Size {
    payments: 1_000_000,
    partners: 10_000,
    customers: 50_000,
};

const SIZE_100K: Size = Size {
    payments: 100_000,
    partners: 1_000,
    customers: 5_000,
};

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid instant")
        .with_timezone(&Utc)
}

/// The program of `size` with `touches` touches per customer under `plan`, with its events in
/// canonical order.
fn program(size: Size, touches: usize, plan: &str) -> Input {
    let usd = Currency::parse("USD").expect("USD is a currency");
    let start = instant("2026-01-01T00:00:00Z");
    let year = instant("2027-01-01T00:00:00Z") - start;
    let step = year / i32::try_from(size.payments).expect("payment count fits i32");
    let day = TimeDelta::days(1);
    let customer_id = |c: usize| format!("cust{c:06}");

    let mut events = Vec::with_capacity(size.payments + size.customers + size.payments / 20);
    for i in 0..size.payments {
        let at = start + step * i32::try_from(i).expect("index fits i32");
        let c = i % size.customers;
        if i < size.customers {
            // The customer's first payment: links of `touches` partners on the days before,
            // the customer's own partner last.
            for k in 0..touches {
                let days_before = i32::try_from(touches - k).expect("touch count fits i32");
                events.push(Event {
                    id: format!("t{c:06}-{k:02}").into(),
                    at: at - day * days_before,
                    body: Body::Touch(Touch {
                        partner: format!("partner{:05}", (c + touches - 1 - k) % size.partners),
                        customer: customer_id(c),
                        channel: Channel::Link,
                        campaign: None,
                        ip: None,
                        meta: BTreeMap::new(),
                    }),
                });
            }
        }
        // $9.00 to $208.99, odd cents included, so that 20% often needs rounding.
        let cents = 900 + (i as i64 * 7_919) % 20_000;
        events.push(Event {
            id: format!("p{i:07}").into(),
            at,
            body: Body::Payment(Payment {
                customer: customer_id(c),
                amount: Decimal::new(cents, 2),
                currency: usd,
                tax: Decimal::ZERO,
                discount: Decimal::ZERO,
                product: None,
                subscription: None,
                order: None,
            }),
        });
        if refunded(i) {
            let after = if (i / 20) % 2 == 0 { 10 } else { 31 };
            events.push(Event {
                id: format!("r{i:07}").into(),
                at: at + day * after,
                body: Body::Refund {
                    payment: format!("p{i:07}"),
                    amount: Decimal::new(cents / 2, 2),
                    currency: Some(usd),
                },
            });
        }
    }
    events.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    Input {
        plan: Plan::from_json(plan).expect("valid plan"),
        partners: (0..size.partners)
            .map(|p| Partner::new(format!("partner{p:05}")))
            .collect(),
        events,
        fx: Vec::new(),
        as_of: instant("2027-02-01T00:00:00Z"),
    }
}

/// One payment in twenty is refunded.
fn refunded(i: usize) -> bool {
    i % 20 == 7
}

/// One benchmark group. Warm-up and measurement times come from the `criterion_group!`
/// configuration below, which command-line options override.
fn bench(c: &mut Criterion, name: &str, size: Size, touches: usize, plan: &str) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    // Counted without building the input, so that a filtered-out group costs nothing.
    let n_events = size.payments
        + size.customers * touches
        + (0..size.payments).filter(|&i| refunded(i)).count();
    group.throughput(Throughput::Elements(n_events as u64));
    // Built on first use only, and only once: the closure runs for the warm-up and again
    // for every sample.
    let mut input: Option<Input> = None;
    group.bench_function("evaluate", |b| {
        let input = input.get_or_insert_with(|| {
            let input = program(size, touches, plan);
            assert_eq!(input.events.len(), n_events, "event count");
            input
        });
        // The report is dropped outside the timed section (dropping a million-entry
        // report is the caller's cost, about a sixth of the total).
        b.iter_with_large_drop(|| evaluate(black_box(input)).expect("valid input"));
    });
    group.finish();
}

fn evaluate_1m(c: &mut Criterion) {
    bench(c, "evaluate_1m", SIZE_1M, 1, PLAN);
}

fn evaluate_1m_position_based_10(c: &mut Criterion) {
    bench(
        c,
        "evaluate_1m_position_based_10",
        SIZE_1M,
        10,
        PLAN_POSITION_BASED,
    );
}

fn evaluate_100k(c: &mut Criterion) {
    bench(c, "evaluate_100k", SIZE_100K, 1, PLAN);
}

fn evaluate_100k_position_based_10(c: &mut Criterion) {
    bench(
        c,
        "evaluate_100k_position_based_10",
        SIZE_100K,
        10,
        PLAN_POSITION_BASED,
    );
}

fn config(measurement: Duration) -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measurement)
}

criterion_group! {
    name = small;
    config = config(Duration::from_secs(10));
    targets = evaluate_100k, evaluate_100k_position_based_10
}
criterion_group! {
    name = large;
    config = config(Duration::from_secs(90));
    targets = evaluate_1m, evaluate_1m_position_based_10
}
criterion_main!(small, large);
