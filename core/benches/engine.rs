//! The incremental engine: the cost of `apply` per event, and snapshot size and time.
//!
//! ```text
//! cargo bench -p partnerkit --bench engine                 # apply per event, then sizes
//! cargo bench -p partnerkit --bench engine -- apply        # only the criterion groups
//! cargo bench -p partnerkit --bench engine -- clicks       # a customer's long history
//! PARTNERKIT_BENCH_EVENTS=1100000 cargo bench -p partnerkit --bench engine -- snapshot
//! PARTNERKIT_BENCH_CALLS=20000 cargo bench -p partnerkit --bench engine -- calls
//! ```
//!
//! The program is the one of `evaluate.rs` at 10,000 partners and 50,000 customers: one
//! 20% rule, a 30-day hold, monthly statements; each customer is touched by one partner a
//! day before its first payment, payments cycle through the customers, one in twenty is
//! half refunded 10 or 31 days later. The engine first takes a history (by default 155,000
//! events: 100,000 payments over 2026 with their touches and refunds); criterion then times
//! `apply` of the events that follow, one call per event, into that engine (the state keeps
//! growing, as a live one does): `apply` (a Rust `Event`, run through the document checks)
//! and `apply_json` (a JSON event in, the canonical JSON of its entries out: what bindings
//! call). The `snapshot` group prints, for the engine with its history: the snapshot's size,
//! the time to write it and to restore it, and what the costs linear in the log amount to
//! (a report, a balance, adding a partner, a failed event). The `calls` run applies exactly
//! `PARTNERKIT_BENCH_CALLS` events (default 20,000) one by one after the history, timed once:
//! a fixed amount of work, to count instructions per call under a profiler
//! (`valgrind --tool=callgrind --toggle-collect='partnerkit::incremental::Engine::apply'`)
//! and compare versions. The `clicks` group times `apply` of a payment by a customer whose
//! history is 990 daily touches by the partner it is credited to (see [`clicks`]).
//! Benchmarks print figures; they assert nothing about time.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use partnerkit::input::{Body, Event, Partner, Payment, Touch};
use partnerkit::money::Currency;
use partnerkit::plan::Channel;
use partnerkit::{Engine, Input, Plan};
use rust_decimal::Decimal;

const PLAN: &str = r#"{
  "schema": "partnerkit/plan@1",
  "id": "bench",
  "currency": "USD",
  "rules": [{"id": "base", "reward": {"percent": "20"}}],
  "lifecycle": {"hold_days": 30},
  "payouts": {"period": "month"}
}"#;

const PARTNERS: usize = 10_000;
const CUSTOMERS: usize = 50_000;
/// Payments per year: one every 31.5 seconds.
const PER_YEAR: i64 = 1_000_000;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc)
}

fn usd() -> Currency {
    Currency::parse("USD").expect("USD")
}

/// The events of payment `i` (its customer's touch first, for a new customer; a refund
/// later for one payment in twenty), at their instants.
fn events_of(i: usize) -> Vec<Event> {
    let step = TimeDelta::seconds(365 * 24 * 3600) / i32::try_from(PER_YEAR).expect("fits");
    let at = start() + step * i32::try_from(i).expect("fits");
    let c = i % CUSTOMERS;
    let customer = format!("cust{c:06}");
    let mut out = Vec::new();
    if i < CUSTOMERS {
        out.push(link_touch(
            format!("t{c:06}"),
            at - TimeDelta::days(1),
            format!("partner{:05}", c % PARTNERS),
            customer.clone(),
        ));
    }
    let cents = 900 + (i as i64 * 7_919) % 20_000;
    out.push(payment(format!("p{i:07}"), at, customer, cents));
    if i % 20 == 7 {
        let after = if (i / 20).is_multiple_of(2) { 10 } else { 31 };
        out.push(Event {
            id: format!("r{i:07}").into(),
            at: at + TimeDelta::days(after),
            body: Body::Refund {
                payment: format!("p{i:07}"),
                amount: Decimal::new(cents / 2, 2),
                currency: Some(usd()),
            },
        });
    }
    out
}

/// A touch by link.
fn link_touch(id: String, at: DateTime<Utc>, partner: String, customer: String) -> Event {
    Event {
        id: id.into(),
        at,
        body: Body::Touch(Touch {
            partner,
            customer,
            channel: Channel::Link,
            campaign: None,
            ip: None,
            meta: BTreeMap::new(),
        }),
    }
}

/// A payment of `cents` US cents, without tax or discount.
fn payment(id: String, at: DateTime<Utc>, customer: String, cents: i64) -> Event {
    Event {
        id: id.into(),
        at,
        body: Body::Payment(Payment {
            customer,
            amount: Decimal::new(cents, 2),
            currency: usd(),
            tax: Decimal::ZERO,
            discount: Decimal::ZERO,
            product: None,
            subscription: None,
            order: None,
        }),
    }
}

/// The bench plan and partners with `events`, as of `as_of`.
fn input(events: Vec<Event>, as_of: DateTime<Utc>) -> Input {
    Input {
        plan: Plan::from_json(PLAN).expect("plan"),
        partners: partners(),
        events,
        fx: Vec::new(),
        as_of,
    }
}

/// Payments `range` and their events, in canonical order.
fn stream(range: std::ops::Range<usize>) -> Vec<Event> {
    let mut events: Vec<Event> = range.flat_map(events_of).collect();
    events.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    events
}

fn partners() -> Vec<Partner> {
    (0..PARTNERS)
        .map(|p| Partner::new(format!("partner{p:05}")))
        .collect()
}

/// Number of payments in the history (`PARTNERKIT_BENCH_EVENTS` counts events; about 1.55
/// events per payment in the first 50,000, 1.05 after).
fn history_payments() -> usize {
    let events: usize = std::env::var("PARTNERKIT_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(155_000);
    if events <= 77_500 {
        events * 2 / 3
    } else {
        50_000 + (events - 77_500) * 20 / 21
    }
}

/// The engine with its history, and where the history stops. Refunds of late history
/// payments fall after it: they are left for the timed stream to skip (its events must
/// come after the history's last one).
fn with_history() -> (Engine, usize, DateTime<Utc>, Input) {
    let n = history_payments();
    let mut events = stream(0..n);
    let cutoff = events_of(n)
        .into_iter()
        .map(|e| e.at)
        .min()
        .expect("an event");
    events.retain(|e| e.at < cutoff);
    let input = input(events, cutoff);
    let t = Instant::now();
    let engine = Engine::new(&input).expect("history applies");
    let took = t.elapsed();
    eprintln!(
        "history: {} events applied by Engine::new in {took:.2?} ({:.2} µs per event)",
        engine.events_applied(),
        took.as_secs_f64() * 1e6 / engine.events_applied() as f64
    );
    (engine, n, cutoff, input)
}

/// The events after the history, in canonical order, generated as they are taken: a
/// payment's events wait in a queue until no later payment can produce an earlier event.
struct Feed {
    next_payment: usize,
    queue: BTreeMap<(DateTime<Utc>, partnerkit::input::Kind, String), Event>,
}

impl Feed {
    fn new(next_payment: usize) -> Feed {
        Feed {
            next_payment,
            queue: BTreeMap::new(),
        }
    }

    fn take(&mut self) -> Event {
        loop {
            let next = events_of(self.next_payment);
            let horizon = next.iter().map(|e| e.at).min().expect("an event");
            if let Some(entry) = self.queue.first_entry()
                && entry.key().0 < horizon
            {
                return entry.remove();
            }
            for e in next {
                self.queue.insert((e.at, e.kind(), e.id.to_string()), e);
            }
            self.next_payment += 1;
        }
    }
}

fn apply(c: &mut Criterion) {
    let (engine, n, _, _) = with_history();
    let mut group = c.benchmark_group("apply");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    let mut e = engine.clone();
    let mut feed = Feed::new(n);
    group.bench_function("apply", |b| {
        b.iter_custom(|iters| {
            let events: Vec<Event> = (0..iters).map(|_| feed.take()).collect();
            let t = Instant::now();
            for ev in events {
                black_box(e.apply(ev).expect("applies"));
            }
            t.elapsed()
        })
    });
    let mut feed = Feed::new(n);
    let mut e = engine;
    group.bench_function("apply_json", |b| {
        b.iter_custom(|iters| {
            let events: Vec<String> = (0..iters).map(|_| event_json(&feed.take())).collect();
            let t = Instant::now();
            for ev in &events {
                black_box(e.apply_json(ev).expect("applies"));
            }
            t.elapsed()
        })
    });
    group.finish();
}

/// An event as its webhook JSON.
fn event_json(ev: &Event) -> String {
    let at = partnerkit::time::fmt_instant(ev.at);
    match &ev.body {
        Body::Touch(t) => format!(
            r#"{{"id":"{}","kind":"touch","at":"{at}","partner":"{}","customer":"{}","channel":"link"}}"#,
            ev.id, t.partner, t.customer
        ),
        Body::Payment(p) => format!(
            r#"{{"id":"{}","kind":"payment","at":"{at}","customer":"{}","amount":"{}","currency":"USD"}}"#,
            ev.id, p.customer, p.amount
        ),
        Body::Refund {
            payment, amount, ..
        } => format!(
            r#"{{"id":"{}","kind":"refund","at":"{at}","payment":"{payment}","amount":"{amount}"}}"#,
            ev.id
        ),
        _ => unreachable!("the bench stream has touches, payments and refunds"),
    }
}

/// Touches in the `clicks` group's history: a customer who clicked its partner's link every
/// day for 990 days, near the default limit of 1,000 touches a customer.
const CLICKS: usize = 990;

/// `apply` of a payment by a customer with a long history of touches, all by the partner it
/// is credited to: [`CLICKS`] daily clicks, then one payment a second. Each payment checks
/// which other partners influenced it (SPEC §11), which looks at the touches inside the
/// widest window (30 days here: the last 30 clicks, fewer as the payments move on), not at
/// every click since the first.
fn clicks(c: &mut Criterion) {
    let day = TimeDelta::days(1);
    let events: Vec<Event> = (0..CLICKS)
        .map(|i| {
            let at = start() + day * i32::try_from(i).expect("fits");
            link_touch(
                format!("k{i:04}"),
                at,
                "partner00000".to_owned(),
                "clickr".to_owned(),
            )
        })
        .collect();
    let after = start() + day * i32::try_from(CLICKS).expect("fits");
    let mut e = Engine::new(&input(events, after)).expect("history applies");
    let mut next = 0i64;
    let mut group = c.benchmark_group("clicks");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("payment", |b| {
        b.iter_custom(|iters| {
            let payments: Vec<Event> = (0..iters)
                .map(|_| {
                    next += 1;
                    let at = after + TimeDelta::seconds(next);
                    payment(format!("q{next:08}"), at, "clickr".to_owned(), 4_900)
                })
                .collect();
            let t = Instant::now();
            for ev in payments {
                black_box(e.apply(ev).expect("applies"));
            }
            t.elapsed()
        })
    });
    group.finish();
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    eprintln!("{what}: {:.2?}", t.elapsed());
    out
}

/// Whether the command line's filters select `name` (as criterion filters its groups, so
/// that `-- apply` skips the runs below).
fn wanted(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .all(|f| name.contains(f.as_str()))
}

fn calls(c: &mut Criterion) {
    if !wanted("calls") {
        return;
    }
    let _ = c;
    let n: usize = std::env::var("PARTNERKIT_BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let (mut engine, next, _, _) = with_history();
    let mut feed = Feed::new(next);
    let events: Vec<Event> = (0..n).map(|_| feed.take()).collect();
    let t = Instant::now();
    let mut entries = 0;
    for ev in events {
        entries += black_box(engine.apply(ev).expect("applies")).len();
    }
    let took = t.elapsed();
    eprintln!(
        "calls: {n} events applied one by one in {took:.2?} ({:.2} µs per call), {entries} entries",
        took.as_secs_f64() * 1e6 / n as f64
    );
}

fn snapshot(c: &mut Criterion) {
    if !wanted("snapshot") {
        return;
    }
    let _ = c;
    let (engine, _, cutoff, input) = with_history();
    // The batch baseline on the same log, under the same machine load.
    let t = Instant::now();
    let report = partnerkit::evaluate(&input).expect("evaluates");
    let took = t.elapsed();
    eprintln!(
        "evaluate (batch) of the same log: {took:.2?} ({:.2} µs per event)",
        took.as_secs_f64() * 1e6 / input.events.len() as f64
    );
    drop((report, input));
    let bytes = timed("snapshot", || engine.snapshot());
    eprintln!(
        "snapshot size: {} bytes ({:.1} MB) for {} events and {PARTNERS} partners, {:.0} bytes per event",
        bytes.len(),
        bytes.len() as f64 / 1e6,
        engine.events_applied(),
        bytes.len() as f64 / engine.events_applied() as f64
    );
    let restored = timed("restore", || Engine::restore(&bytes).expect("restores"));
    assert_eq!(restored.events_applied(), engine.events_applied());
    let as_of = partnerkit::time::fmt_instant(cutoff);
    let report = timed("report_json as of the last event", || {
        engine.report_json(&as_of).expect("report")
    });
    eprintln!("report size: {:.1} MB", report.len() as f64 / 1e6);
    timed("balance_json of one partner", || {
        engine
            .balance_json("partner00042", &as_of)
            .expect("balance")
    });
    let mut e = engine.clone();
    timed(
        "upsert_partner_json of an existing partner's future suspension",
        || {
            e.upsert_partner_json(
            r#"{"id": "partner00042", "status": [{"at": "2030-01-01T00:00:00Z", "status": "suspended"}]}"#,
        )
        .expect("upsert")
        },
    );
    timed("upsert_partner_json of a new partner", || {
        e.upsert_partner_json(r#"{"id": "newcomer"}"#)
            .expect("upsert")
    });
    let bad = format!(
        r#"{{"id":"bad","kind":"refund","at":"{}","payment":"nope","amount":"1.00"}}"#,
        partnerkit::time::fmt_instant(cutoff + TimeDelta::days(1))
    );
    timed(
        "a failed apply_json (rolled back by replaying the log)",
        || e.apply_json(&bad).expect_err("unknown payment"),
    );
    let early = partnerkit::time::fmt_instant(start() + TimeDelta::days(100));
    timed(
        "report_json as of an earlier instant (replays the log up to it)",
        || engine.report_json(&early).expect("report"),
    );
}

criterion_group!(benches, apply, clicks, calls, snapshot);
criterion_main!(benches);
