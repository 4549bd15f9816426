//! The fast path gives the same result on any number of threads.
//!
//! The id pass, the uniqueness check and the Arrow output split their work over rayon's
//! threads (chunks of rows, ranges of hash buckets, columns), and for plans without tiers
//! or caps the fold itself runs as one shard of customers a thread (one thread: the
//! serial fold, which the other counts are compared with). Each input here is large
//! enough for every split to take several pieces, and is evaluated in pools of 1, 2 and 3
//! threads: the ledgers must be equal column for column, and an input the fold hands over
//! (a repeated event id, a refund of a payment that never came) must be handed over, with
//! the same outcome, on every count.

use partnerkit::fast::{Events, Ledger, Options, Outcome, Program};
use partnerkit::input::Partner;
use partnerkit::money::Currency;
use partnerkit::plan::Channel;
use partnerkit::{Plan, Result};

const PLAN: &str = r#"{
  "schema": "partnerkit/plan@1",
  "id": "threads",
  "currency": "USD",
  "attribution": {"model": "last_touch", "window_days": 30},
  "rules": [{"id": "base", "reward": {"percent": "20"}}],
  "lifecycle": {"hold_days": 30, "clawback": "always"},
  "payouts": {"period": "month", "threshold": "50"}
}"#;

const PARTNERS: usize = 500;
const DAY_NS: i64 = 86_400_000_000_000;
/// 2026-01-01T00:00:00Z.
const START_NS: i64 = 1_767_225_600_000_000_000;

/// What to spoil in an otherwise clean input.
#[derive(Clone, Copy, PartialEq)]
enum Spoil {
    Nothing,
    /// The last payment repeats the first payment's id (rows far apart: other chunks).
    RepeatedId,
    /// One refund names a payment that is not in the input.
    UnknownPayment,
}

/// About 300,000 events in canonical order: a touch per customer a day before its first
/// payment, payments cycling through the customers over 2026, one in twenty refunded by
/// half 10 or 40 days later.
fn events(spoil: Spoil) -> Events {
    let usd = Currency::parse("USD").expect("USD");
    let payments = 240_000usize;
    let customers = 40_000usize;
    let step = 365 * DAY_NS / payments as i64;
    let mut rows: Vec<(i64, u8, usize)> = Vec::new();
    for i in 0..payments {
        let at = START_NS + step * i as i64;
        if i < customers {
            rows.push((at - DAY_NS, 0, i));
        }
        rows.push((at, 1, i));
        if i % 20 == 3 {
            let after = if (i / 20) % 2 == 0 { 10 } else { 40 };
            rows.push((at + after * DAY_NS, 2, i));
        }
    }
    rows.sort_unstable();
    let last_payment = rows.iter().rev().find(|r| r.1 == 1).map(|r| r.2);
    let first_refund = rows.iter().find(|r| r.1 == 2).map(|r| r.2);
    let mut ev = Events::with_capacity(rows.len());
    for (at, k, i) in rows {
        let c = i % customers;
        let cust = format!("cust{c:06}");
        let cents = 900 + (i as i64 * 7_919) % 20_000;
        match k {
            0 => {
                let partner = format!("partner{:04}", (c * 7) % PARTNERS);
                ev.push_touch(&format!("t{c:07}"), at, &partner, &cust, Channel::Link);
            }
            1 => {
                let id = if spoil == Spoil::RepeatedId && Some(i) == last_payment {
                    "p00000000".to_owned()
                } else {
                    format!("p{i:08}")
                };
                ev.push_payment(&id, at, &cust, cents, 0, 0, usd);
            }
            _ => {
                let paid = if spoil == Spoil::UnknownPayment && Some(i) == first_refund {
                    "p-missing".to_owned()
                } else {
                    format!("p{i:08}")
                };
                ev.push_reversal(
                    &format!("r{i:08}"),
                    at,
                    &paid,
                    Some(cents / 2 * 100),
                    Some(usd),
                );
            }
        }
    }
    ev
}

fn as_of() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2027-03-01T00:00:00Z")
        .expect("instant")
        .with_timezone(&chrono::Utc)
}

/// Runs `f` in a pool of `threads` threads.
fn on<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

/// Every column of two ledgers, entry ids included.
fn same_ledger(a: &Ledger, b: &Ledger, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: entries");
    assert_eq!(a.kind, b.kind, "{what}: kind");
    assert_eq!(a.status, b.status, "{what}: status");
    assert_eq!(a.partner, b.partner, "{what}: partner");
    assert_eq!(a.event, b.event, "{what}: event");
    assert_eq!(a.customer, b.customer, "{what}: customer");
    assert_eq!(a.amount, b.amount, "{what}: amount");
    assert_eq!(a.rule, b.rule, "{what}: rule");
    assert_eq!(a.rule_names, b.rule_names, "{what}: rule names");
    assert_eq!(a.earned_at, b.earned_at, "{what}: earned_at");
    assert_eq!(a.available_at, b.available_at, "{what}: available_at");
    assert_eq!(a.event_names, b.event_names, "{what}: event names");
    assert_eq!(a.customer_names, b.customer_names, "{what}: customer names");
    for i in 0..a.len() {
        assert_eq!(a.id(i), b.id(i), "{what}: id of entry {i}");
    }
}

/// The outcome's path and ledger, or its error, as one comparable value.
fn outcome(r: &Result<Outcome>) -> (Option<String>, Option<bool>) {
    match r {
        Ok(o) => (None, Some(o.path.is_native())),
        Err(e) => (Some(e.to_json()), None),
    }
}

fn partners() -> Vec<Partner> {
    (0..PARTNERS)
        .map(|p| Partner::new(format!("partner{p:04}")))
        .collect()
}

#[test]
fn a_clean_input_gives_one_ledger_on_any_number_of_threads() {
    let program = Program::new(Plan::from_json(PLAN).expect("plan"));
    let partners = partners();
    let ev = events(Spoil::Nothing);
    assert!(ev.len() > 250_000, "{} events", ev.len());
    let one = on(1, || {
        program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
    })
    .expect("evaluates");
    assert!(one.path.is_native(), "{:?}", one.path);
    assert!(one.ledger.len() > 200_000, "{} entries", one.ledger.len());
    for threads in [2, 3] {
        let other = on(threads, || {
            program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        assert_eq!(other.path, one.path);
        same_ledger(&one.ledger, &other.ledger, &format!("{threads} threads"));
        // Handing the events over gives the same ledger.
        let owned = on(threads, || {
            program.evaluate_columns_owned(&partners, ev.clone(), &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        assert_eq!(owned.path, one.path);
        same_ledger(
            &one.ledger,
            &owned.ledger,
            &format!("owned, {threads} threads"),
        );
    }
    #[cfg(feature = "arrow")]
    {
        use partnerkit::fast::arrow::{
            ledger_and_totals_into_batches, ledger_into_batch, totals_to_batch,
        };
        let want = (
            ledger_into_batch(one.ledger.clone()).expect("ledger batch"),
            totals_to_batch(&one.ledger.totals()).expect("totals batch"),
        );
        for threads in [1, 2, 3] {
            let got = on(threads, || {
                ledger_and_totals_into_batches(one.ledger.clone())
            })
            .expect("batches");
            assert!(
                got.0 == want.0,
                "{threads} threads: the ledger batch differs"
            );
            assert!(
                got.1 == want.1,
                "{threads} threads: the totals batch differs"
            );
        }
    }
}

#[test]
fn inputs_the_fold_hands_over_are_handed_over_on_any_number_of_threads() {
    let program = Program::new(Plan::from_json(PLAN).expect("plan"));
    let partners = partners();
    for (spoil, what) in [
        (Spoil::RepeatedId, "two different events with one id"),
        (
            Spoil::UnknownPayment,
            "a refund of a payment not applied before it",
        ),
    ] {
        let ev = events(spoil);
        let one = on(1, || {
            program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
        });
        // The fold did not decide it: the canonical path did (here, an error or a ledger
        // on the canonical path, never a native one).
        if let Ok(o) = &one {
            match &o.path {
                partnerkit::fast::Path::Canonical { reason } => {
                    assert!(reason.contains(what), "{what}: {reason}")
                }
                partnerkit::fast::Path::Native => panic!("{what}: ran natively"),
            }
        }
        for threads in [2, 3] {
            let other = on(threads, || {
                program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
            });
            assert_eq!(outcome(&other), outcome(&one), "{what}, {threads} threads");
            if let (Ok(a), Ok(b)) = (&one, &other) {
                assert_eq!(a.path, b.path, "{what}, {threads} threads");
                same_ledger(&a.ledger, &b.ledger, what);
            }
        }
    }
}

// The fold sharded by customer: plans without tiers or caps fold on several threads, a
// shard of customers each. The inputs below hold what a shard must see exactly as the
// serial fold (one thread) does: customers without payments, customers without touches,
// touches outside the window or after the customer is decided, several partners and
// channels per customer, partial refunds (several per payment), chargebacks after a
// partial refund, refunds inside the hold and after the payout (clawbacks under each
// policy), refunds of unattributed payments, and instants shared by many events.

/// Plans the sharded fold takes: no tiers, no monthly cap.
const SHARD_PLANS: [&str; 5] = [
    r#"{
  "schema": "partnerkit/plan@1", "id": "shard-a", "currency": "USD", "rounding": "half_even",
  "commission_base": "net",
  "attribution": {"model": "last_touch", "window_days": 30},
  "rules": [{"id": "base", "reward": {"percent": "7.5"},
             "limits": {"min_per_event": "0.50", "max_per_event": "40"}}],
  "lifecycle": {"hold_days": 20, "clawback": {"within_days": 60}, "negative_balance": "write_off"},
  "payouts": {"period": "month", "threshold": "0"}
}"#,
    r#"{
  "schema": "partnerkit/plan@1", "id": "shard-b", "currency": "USD", "rounding": "down",
  "attribution": {"model": "first_touch", "window_days": 10},
  "rules": [{"id": "flat", "reward": {"flat": "3.25"}}],
  "lifecycle": {"hold_days": 15, "clawback": "never"},
  "payouts": {"period": "month", "threshold": "25", "net_days": 5}
}"#,
    r#"{
  "schema": "partnerkit/plan@1", "id": "shard-c", "currency": "USD", "rounding": "up",
  "attribution": {"model": "last_touch", "window_days": 30},
  "rules": [{"id": "base", "reward": {"percent": "33.333"}}],
  "lifecycle": {"hold_days": 45, "clawback": "always"},
  "payouts": {"period": "month", "threshold": "50"}
}"#,
    // Several rules, the first whose conditions hold paying: conditions on the deciding
    // touch's campaign and channel, the payment's product, the customer's payment number
    // and first payment, the partner, the date.
    r#"{
  "schema": "partnerkit/plan@1", "id": "shard-d", "currency": "USD", "rounding": "half_up",
  "attribution": {"model": "last_touch", "window_days": 30},
  "rules": [
    {"id": "spring-pro", "when": {"campaign": ["spring"], "product": ["pro", "team"]},
     "reward": {"percent": "30"}},
    {"id": "first", "when": {"payment_number": {"max": 1}, "channel": ["coupon", "link"]},
     "reward": {"flat": "4.00"}},
    {"id": "half-year", "when": {"within_months": 6, "until": "2026-10-01T00:00:00Z"},
     "reward": {"percent": "12.5"}, "limits": {"max_per_event": "20"}},
    {"id": "some", "when": {"partner": ["partner0001", "partner0002", "partner0003"]},
     "reward": {"percent": "9"}},
    {"id": "base", "when": {"product": ["basic"]}, "reward": {"percent": "5"}}
  ],
  "lifecycle": {"hold_days": 30, "clawback": "always"},
  "payouts": {"period": "month"}
}"#,
    // Several rules, the largest amount paying (the earlier rule on a tie): a flat reward
    // against percentages with limits and conditions.
    r#"{
  "schema": "partnerkit/plan@1", "id": "shard-e", "currency": "USD", "rounding": "half_even",
  "combine": "max",
  "attribution": {"model": "first_touch", "window_days": 20},
  "rules": [
    {"id": "flat", "reward": {"flat": "6.00"}},
    {"id": "pro", "when": {"product": ["pro"]}, "reward": {"percent": "4"},
     "limits": {"max_per_event": "9.00"}},
    {"id": "fall", "when": {"campaign": ["fall"], "payment_number": {"min": 2}},
     "reward": {"percent": "3"}, "limits": {"min_per_event": "6.00"}},
    {"id": "team", "when": {"product": ["team"]}, "reward": {"percent": "2.5"}}
  ],
  "lifecycle": {"hold_days": 10, "clawback": "always"},
  "payouts": {"period": "month", "threshold": "20"}
}"#,
];

/// SplitMix64: the same stream on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// One generated event before it becomes a row.
enum Gen {
    Touch(String, Channel),
    Payment(i64, i64),
    Refund(String, Option<i64>),
}

/// `customers` customers' events over 2026, on the hour (so that many share an instant):
/// in canonical order when `sorted`, else in generation order (the fold sorts them).
fn mixed(seed: u64, customers: usize, sorted: bool) -> Events {
    let usd = Currency::parse("USD").expect("USD");
    let mut r = Rng(seed);
    let hour = DAY_NS / 24;
    let channels = [
        Channel::Link,
        Channel::Link,
        Channel::Coupon,
        Channel::DealRegistration,
        Channel::Manual,
    ];
    // (at, kind rank as the canonical order ranks kinds, id, customer, event)
    let mut rows: Vec<(i64, u8, String, usize, Gen)> = Vec::new();
    for c in 0..customers {
        let first = START_NS + r.below(360 * 24) as i64 * hour;
        let shape = r.below(10);
        // 0: touches only (never pays); 1: pays without any touch.
        if shape != 1 {
            for k in 0..1 + r.below(3) {
                // Up to 45 days before the first payment (some outside a 30-day window),
                // now and then after it (too late to matter).
                let at = if r.below(8) == 0 {
                    first + (1 + r.below(30 * 24) as i64) * hour
                } else {
                    first - r.below(45 * 24) as i64 * hour
                };
                let partner = format!("partner{:04}", r.below(PARTNERS as u64));
                let ch = channels[r.below(channels.len() as u64) as usize];
                rows.push((at, 0, format!("t{c}-{k}"), c, Gen::Touch(partner, ch)));
            }
        }
        if shape == 0 {
            continue;
        }
        let mut at = first;
        for k in 0..1 + r.below(5) {
            let cents = 1 + r.below(40_000) as i64;
            let tax = if r.below(3) == 0 {
                r.below(cents as u64 / 10 + 1) as i64
            } else {
                0
            };
            let id = format!("p{c}-{k}");
            rows.push((at, 3, id.clone(), c, Gen::Payment(cents, tax)));
            if r.below(5) == 0 {
                // One to three reversals, 1 to 100 days later: inside the hold, after the
                // payout, past a `within_days` policy.
                let mut left = cents;
                let mut when = at;
                for j in 0..1 + r.below(3) {
                    when += (1 + r.below(100 * 24) as i64) * hour;
                    if left > 0 && r.below(4) == 0 {
                        rows.push((
                            when,
                            5,
                            format!("x{c}-{k}-{j}"),
                            c,
                            Gen::Refund(id.clone(), None),
                        ));
                        left = 0;
                    } else if left > 0 {
                        let part = 1 + r.below(left as u64) as i64;
                        left -= part;
                        let rid = format!("r{c}-{k}-{j}");
                        rows.push((when, 4, rid, c, Gen::Refund(id.clone(), Some(part * 100))));
                    }
                }
            }
            at += (1 + r.below(60 * 24) as i64) * hour;
        }
    }
    if sorted {
        rows.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    }
    let mut ev = Events::with_capacity(rows.len());
    // Campaigns on half the touches and products on two payments in three, from a stream
    // of their own (so the other draws stay as they were).
    let mut labels = Rng(seed ^ 0x1abe1);
    for (at, _, id, c, g) in rows {
        let cust = format!("cust{c:06}");
        match g {
            Gen::Touch(partner, ch) => {
                ev.push_touch(&id, at, &partner, &cust, ch);
                let campaign = ["spring", "fall", "", ""][labels.below(4) as usize];
                let i = ev.len() - 1;
                ev.campaign.set(i, Some(campaign).filter(|s| !s.is_empty()));
            }
            Gen::Payment(cents, tax) => {
                ev.push_payment(&id, at, &cust, cents, tax, 0, usd);
                let product = ["pro", "basic", "team", ""][labels.below(4) as usize];
                let i = ev.len() - 1;
                ev.product.set(i, Some(product).filter(|s| !s.is_empty()));
            }
            Gen::Refund(paid, amount) => ev.push_reversal(&id, at, &paid, amount, Some(usd)),
        }
    }
    ev
}

#[test]
fn the_sharded_fold_gives_the_serial_folds_ledger() {
    let partners = partners();
    for (k, plan) in SHARD_PLANS.iter().enumerate() {
        let program = Program::new(Plan::from_json(plan).expect("plan"));
        assert_eq!(program.fallback_reason(), None);
        for sorted in [true, false] {
            let ev = mixed(0x5eed + k as u64, 30_000, sorted);
            assert!(ev.len() > 60_000, "{} events", ev.len());
            let what = format!("plan {k}, sorted {sorted}");
            // One thread: the serial fold.
            let one = on(1, || {
                program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
            })
            .expect("evaluates");
            assert!(one.path.is_native(), "{what}: {:?}", one.path);
            assert!(
                one.ledger.len() > 20_000,
                "{what}: {} entries",
                one.ledger.len()
            );
            let reversals = (0..one.ledger.len())
                .filter(|&i| one.ledger.kind[i] == partnerkit::ledger::EntryKind::Reversal)
                .count();
            assert!(reversals > 500, "{what}: {reversals} reversals");
            for threads in [2, 3] {
                let other = on(threads, || {
                    program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
                })
                .expect("evaluates");
                assert_eq!(other.path, one.path, "{what}");
                same_ledger(
                    &one.ledger,
                    &other.ledger,
                    &format!("{what}, {threads} threads"),
                );
                assert_eq!(one.ledger.totals(), other.ledger.totals(), "{what}");
            }
        }
    }
}

/// A smaller input (still sharded on two threads) against the canonical path itself.
#[test]
fn the_sharded_fold_gives_the_canonical_ledger() {
    let partners = partners();
    for (k, plan) in SHARD_PLANS.iter().enumerate() {
        let plan = Plan::from_json(plan).expect("plan");
        let ev = mixed(0xca11 + k as u64, 2_500, false);
        assert!(ev.len() > 5_000, "{} events", ev.len());
        let input = partnerkit::Input {
            plan: plan.clone(),
            partners: partners.clone(),
            events: ev.to_events(Currency::parse("USD").expect("USD")),
            fx: Vec::new(),
            as_of: as_of(),
        };
        let report = partnerkit::evaluate(&input).expect("canonical");
        let want = Ledger::from_report(&report, false)
            .expect("fits")
            .to_json_lines();
        let got = on(2, || {
            Program::new(plan).evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        assert!(got.path.is_native(), "plan {k}: {:?}", got.path);
        assert!(
            got.ledger.to_json_lines() == want,
            "plan {k}: ledgers differ"
        );
    }
}

/// The serial fold stops at the first row it cannot fold; a shard stops at the first of
/// its own. Two faults in different customers' rows (so in different shards on two and
/// three threads), in either order: the reason handed over is the earlier one's, on any
/// number of threads, and so is what the canonical path then decides.
#[test]
fn the_earliest_fault_of_any_shard_is_the_one_handed_over() {
    let usd = Currency::parse("USD").expect("USD");
    let eur = Currency::parse("EUR").expect("EUR");
    // A plan whose limits are in its own currency: a payment in another stops the fold.
    let program = Program::new(Plan::from_json(SHARD_PLANS[0]).expect("plan"));
    let partners = partners();
    let base = mixed(0xfa17, 6_000, true);
    // 2026-01-02 and 2027-02-20 (before `as_of`).
    let (early, late) = (START_NS + DAY_NS, START_NS + 415 * DAY_NS);
    for (early_foreign, want) in [
        (
            true,
            "a payment in a currency other than the plan's, under rules or tiers that read \
             amounts in the plan's (only plain percentages and flat rewards fold such payments)",
        ),
        (false, "a refund of a payment not applied before it"),
    ] {
        let (foreign_at, unknown_at) = if early_foreign {
            (early, late)
        } else {
            (late, early)
        };
        // Two touches before everything intern `cust-a` and `cust-foreign` first: the
        // foreign payment's customer is the second (shard 1 of 2 or 3), while a refund
        // of a payment the input lacks goes to shard 0.
        let mut ev = Events::with_capacity(base.len() + 4);
        let before = START_NS - 100 * DAY_NS;
        ev.push_touch("t-a", before, "partner0001", "cust-a", Channel::Link);
        ev.push_touch(
            "t-foreign",
            before,
            "partner0002",
            "cust-foreign",
            Channel::Link,
        );
        let mut rows: Vec<(i64, u8, String, u8)> = vec![
            (foreign_at, 3, "p-foreign".to_owned(), 0),
            (unknown_at, 4, "r-unknown".to_owned(), 1),
        ];
        for i in 0..base.len() {
            rows.push((base.at[i], 9, i.to_string(), 2));
        }
        rows.sort_by_key(|a| (a.0, a.1));
        for (at, _, id, what) in rows {
            match what {
                0 => ev.push_payment(&id, at, "cust-foreign", 5_000, 0, 0, eur),
                1 => ev.push_reversal(&id, at, "p-never-paid", Some(100), Some(usd)),
                _ => copy_row(&base, id.parse().expect("row"), &mut ev),
            }
        }
        let mut outcomes = Vec::new();
        for threads in [1, 2, 3] {
            let got = on(threads, || {
                program.evaluate_columns(&partners, &ev, &[], as_of(), &Options::default())
            });
            if let Ok(o) = &got {
                match &o.path {
                    partnerkit::fast::Path::Canonical { reason } => {
                        assert_eq!(
                            reason,
                            &format!("the input has {want}"),
                            "{threads} threads"
                        )
                    }
                    partnerkit::fast::Path::Native => panic!("{want}: ran natively"),
                }
            }
            outcomes.push(outcome(&got));
        }
        assert_eq!(outcomes[0], outcomes[1], "{want}: 2 threads");
        assert_eq!(outcomes[0], outcomes[2], "{want}: 3 threads");
    }
}

/// Appends row `i` of `from` to `to`.
fn copy_row(from: &Events, i: usize, to: &mut Events) {
    use partnerkit::input::Kind;
    let usd = Currency::parse("USD").expect("USD");
    let id = from.id.get(i);
    let at = from.at[i];
    match from.kind[i] {
        Kind::Touch => to.push_touch(
            id,
            at,
            from.partners.strings.get(from.partner[i] as usize),
            from.customers.strings.get(from.customer[i] as usize),
            from.channel[i],
        ),
        Kind::Payment => to.push_payment(
            id,
            at,
            from.customers.strings.get(from.customer[i] as usize),
            from.amount[i],
            from.tax(i),
            from.discount(i),
            usd,
        ),
        Kind::Refund | Kind::Chargeback => to.push_reversal(
            id,
            at,
            from.payments.strings.get(from.payment[i] as usize),
            (from.kind[i] == Kind::Refund).then_some(from.amount[i]),
            Some(usd),
        ),
        k => panic!("row {i}: {k:?}"),
    }
    let j = to.len() - 1;
    for (src, dst) in from.labels().into_iter().zip(to.labels_mut()) {
        dst.set(j, src.text(i));
    }
}

/// Redeliveries: a webhook log repeats some events verbatim, anywhere in it (the first
/// copy of each counts, as on the canonical path). The log with every fifth row sent
/// again (after a later row, or as the last one) folds to the same ledger as the log
/// without them, on 1, 2 and 3 threads and under every shard plan; a copy that differs
/// (a payment's amount) is a conflict the canonical path reports.
#[test]
fn redelivered_events_are_dropped_on_any_number_of_threads() {
    let partners = partners();
    let clean = mixed(0xd0b1e, 3_000, false);
    let mut twice = Events::with_capacity(clean.len() + clean.len() / 5);
    let mut again = Vec::new();
    for i in 0..clean.len() {
        copy_row(&clean, i, &mut twice);
        if i % 5 == 0 {
            again.push(i);
        }
        // A redelivery comes a few rows after its first copy.
        if i % 5 == 2 {
            for k in again.drain(..) {
                copy_row(&clean, k, &mut twice);
            }
        }
    }
    for k in again {
        copy_row(&clean, k, &mut twice);
    }
    assert!(
        twice.len() > clean.len() + clean.len() / 6,
        "{} rows",
        twice.len()
    );
    for (k, plan) in SHARD_PLANS.iter().enumerate() {
        let program = Program::new(Plan::from_json(plan).expect("plan"));
        let want = on(1, || {
            program.evaluate_columns(&partners, &clean, &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        assert!(want.path.is_native(), "plan {k}: {:?}", want.path);
        for threads in [1, 2, 3] {
            let got = on(threads, || {
                program.evaluate_columns(&partners, &twice, &[], as_of(), &Options::default())
            })
            .expect("evaluates");
            let what = format!("plan {k}, {threads} threads");
            assert!(got.path.is_native(), "{what}: {:?}", got.path);
            // The entries' rows differ (a redelivery's row is past its first copy's): the
            // ledgers are compared as the report writes them.
            assert_eq!(
                got.ledger.to_json_lines(),
                want.ledger.to_json_lines(),
                "{what}"
            );
            assert_eq!(got.ledger.totals(), want.ledger.totals(), "{what}");
        }
    }
    // The same id with another amount: handed over, and the canonical path's error. The
    // payment's row is copied whole (labels included), so only the amount differs.
    let mut conflict = twice.clone();
    let p = (0..clean.len())
        .find(|&i| clean.kind[i] == partnerkit::input::Kind::Payment)
        .expect("a payment");
    copy_row(&clean, p, &mut conflict);
    let j = conflict.len() - 1;
    conflict.amount[j] += 1;
    let program = Program::new(Plan::from_json(SHARD_PLANS[0]).expect("plan"));
    for threads in [1, 2] {
        let got = on(threads, || {
            program.evaluate_columns(&partners, &conflict, &[], as_of(), &Options::default())
        });
        let e = got.expect_err("a conflict");
        assert_eq!(e.code().as_str(), "ConflictingEvent", "{}", e.to_json());
    }
}

/// A shard keeps a customer's credit in two bytes while every partner's index fits below
/// the two values it reserves (at most 65,534 partners) and in four otherwise. Partners
/// declared before the touched ones push the touched partners' indices to the edge of two
/// bytes and past it: the sharded fold gives the serial fold's ledger either way.
#[test]
fn credits_to_partners_past_two_bytes_of_index_shard_alike() {
    let ev = mixed(0xb16, 30_000, false);
    let program = Program::new(Plan::from_json(SHARD_PLANS[0]).expect("plan"));
    // 65,534 partners in all: the last index two-byte credits take (65,533); then one
    // more (65,534 is what two bytes mean "unattributed" by), and well past.
    for before in [65_534 - PARTNERS, 65_535 - PARTNERS, 70_000] {
        let mut all: Vec<Partner> = (0..before)
            .map(|p| Partner::new(format!("other{p:06}")))
            .collect();
        all.extend(partners());
        let what = format!("{} partners", all.len());
        let one = on(1, || {
            program.evaluate_columns(&all, &ev, &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        assert!(one.path.is_native(), "{what}: {:?}", one.path);
        let credited = (0..one.ledger.len())
            .filter(|&i| one.ledger.partner[i] as usize >= before)
            .count();
        assert!(credited > 1_000, "{what}: {credited} entries");
        // The last partner earns on customers' later payments too (their credit read
        // back), so a credit stored in too few bytes shows in the ledger.
        let last = (0..one.ledger.len())
            .filter(|&i| one.ledger.partner[i] as usize == all.len() - 1)
            .count();
        assert!(last > 20, "{what}: {last} entries to the last partner");
        let two = on(2, || {
            program.evaluate_columns(&all, &ev, &[], as_of(), &Options::default())
        })
        .expect("evaluates");
        same_ledger(&one.ledger, &two.ledger, &what);
    }
}

/// `ev` with a third of the customers paying in EUR and a third in JPY (amounts read as
/// the same number of minor units; refunds scaled to stay whole yen), refunds stating no
/// currency.
fn in_currencies(ev: &Events) -> Events {
    use partnerkit::input::Kind;
    let cur = |c: u32| ["USD", "EUR", "JPY"][c as usize % 3];
    let mut out = Events::with_capacity(ev.len());
    let mut paid_in = std::collections::HashMap::new();
    for i in 0..ev.len() {
        let id = ev.id.get(i);
        let at = ev.at[i];
        match ev.kind[i] {
            Kind::Payment => {
                let c = cur(ev.customer[i]);
                paid_in.insert(id.to_owned(), c);
                out.push_payment(
                    id,
                    at,
                    ev.customers.strings.get(ev.customer[i] as usize),
                    ev.amount[i],
                    ev.tax(i),
                    ev.discount(i),
                    Currency::parse(c).expect("currency"),
                );
            }
            Kind::Refund | Kind::Chargeback => {
                let paid = ev.payments.strings.get(ev.payment[i] as usize);
                // Refunds are kept at four decimals: a whole yen is 10^4.
                let yen = paid_in.get(paid) == Some(&"JPY");
                let amount =
                    (ev.kind[i] == Kind::Refund).then(|| ev.amount[i] * if yen { 100 } else { 1 });
                out.push_reversal(id, at, paid, amount, None);
            }
            _ => copy_row(ev, i, &mut out),
        }
    }
    out
}

/// Payments in other currencies than the plan's fold alike on one, two and three threads,
/// and give the canonical ledger: entries in each payment's currency (a percentage of it,
/// or a flat reward converted to it), statements converting them (half the partners paid
/// in EUR).
#[test]
fn payments_in_other_currencies_fold_alike_on_shards() {
    for plan in [SHARD_PLANS[2], SHARD_PLANS[1]] {
        in_currencies_on_shards(Plan::from_json(plan).expect("plan"));
    }
}

/// [`payments_in_other_currencies_fold_alike_on_shards`] under `plan`.
fn in_currencies_on_shards(plan: Plan) {
    let mut partners = partners();
    for p in partners.iter_mut().step_by(2) {
        p.payout_currency = Some(Currency::parse("EUR").expect("EUR"));
    }
    // Rates every day from before the first event: EUR quoted into USD, JPY from USD and
    // from EUR.
    let mut fx = Vec::new();
    let first = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).expect("date");
    for d in 0..500u32 {
        let date = first + chrono::Days::new(u64::from(d));
        let rate = |s: String| s.parse().expect("rate");
        fx.push(partnerkit::input::FxRate {
            date,
            from: Currency::parse("EUR").expect("EUR"),
            to: Currency::parse("USD").expect("USD"),
            rate: rate(format!("1.{}", 800 + (d * 37) % 400)),
        });
        fx.push(partnerkit::input::FxRate {
            date,
            from: Currency::parse("USD").expect("USD"),
            to: Currency::parse("JPY").expect("JPY"),
            rate: rate(format!("1{}.{}", 40 + d % 20, d % 97)),
        });
        fx.push(partnerkit::input::FxRate {
            date,
            from: Currency::parse("EUR").expect("EUR"),
            to: Currency::parse("JPY").expect("JPY"),
            rate: rate(format!("16{}.{}", d % 10, d % 89)),
        });
    }
    for sorted in [true, false] {
        let ev = in_currencies(&mixed(0xc0ffee, 3_000, sorted));
        assert!(ev.len() > 6_000, "{} events", ev.len());
        let input = partnerkit::Input {
            plan: plan.clone(),
            partners: partners.clone(),
            events: ev.to_events(Currency::parse("USD").expect("USD")),
            fx: fx.clone(),
            as_of: as_of(),
        };
        let report = partnerkit::evaluate(&input).expect("canonical");
        let want = Ledger::from_report(&report, false).expect("fits");
        let currencies: std::collections::BTreeSet<&str> =
            want.currency.iter().map(|c| c.as_str()).collect();
        assert_eq!(currencies.len(), 3, "{currencies:?}");
        let program = Program::new(plan.clone());
        for threads in [1, 2, 3] {
            let got = on(threads, || {
                program.evaluate_columns(&partners, &ev, &fx, as_of(), &Options::default())
            })
            .expect("evaluates");
            assert!(got.path.is_native(), "{threads} threads: {:?}", got.path);
            assert!(
                got.ledger.to_json_lines() == want.to_json_lines(),
                "sorted {sorted}, {threads} threads: ledgers differ"
            );
            assert_eq!(got.ledger.totals(), want.totals(), "{threads} threads");
        }
    }
}
