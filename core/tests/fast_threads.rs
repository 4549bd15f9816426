//! The fast path gives the same result on any number of threads.
//!
//! The id pass, the uniqueness check and the Arrow output split their work over rayon's
//! threads (chunks of rows, ranges of hash buckets, columns). Each input here is large
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
        program.evaluate_columns(&partners, &ev, as_of(), &Options::default())
    })
    .expect("evaluates");
    assert!(one.path.is_native(), "{:?}", one.path);
    assert!(one.ledger.len() > 200_000, "{} entries", one.ledger.len());
    for threads in [2, 3] {
        let other = on(threads, || {
            program.evaluate_columns(&partners, &ev, as_of(), &Options::default())
        })
        .expect("evaluates");
        assert_eq!(other.path, one.path);
        same_ledger(&one.ledger, &other.ledger, &format!("{threads} threads"));
        // Handing the events over gives the same ledger.
        let owned = on(threads, || {
            program.evaluate_columns_owned(&partners, ev.clone(), as_of(), &Options::default())
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
        (Spoil::RepeatedId, "repeated event ids"),
        (
            Spoil::UnknownPayment,
            "a refund of a payment not applied before it",
        ),
    ] {
        let ev = events(spoil);
        let one = on(1, || {
            program.evaluate_columns(&partners, &ev, as_of(), &Options::default())
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
                program.evaluate_columns(&partners, &ev, as_of(), &Options::default())
            });
            assert_eq!(outcome(&other), outcome(&one), "{what}, {threads} threads");
            if let (Ok(a), Ok(b)) = (&one, &other) {
                assert_eq!(a.path, b.path, "{what}, {threads} threads");
                same_ledger(&a.ledger, &b.ledger, what);
            }
        }
    }
}
