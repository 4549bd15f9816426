//! A reference evaluator for a subset of the plan language, written plainly and
//! separately from the engine (it shares no code with it: its own rounding, window, hold,
//! refund and statement logic over `rust_decimal` and `chrono`), straight from SPEC §3, §4,
//! §9 and docs/semantics.md.
//!
//! The subset: one currency (USD, two decimals), the UTC time zone, every rounding mode,
//! last-touch attribution with a window, decided at a customer's first payment and locked,
//! percent and flat rules with `payment_number` and `min_amount` conditions combined by
//! `first_match` or `sum`, holds, partial and full refunds and chargebacks under every
//! clawback policy, and monthly statements with a threshold, NET days, and carried or
//! written-off negative balances. Everything is recomputed from the whole log; nothing is
//! optimised.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;

pub type Instant = DateTime<Utc>;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    HalfUp,
    HalfEven,
    Down,
    Up,
}

/// Rounds to `dp` decimal places, by hand: split off the digits beyond `dp`, compare them
/// with one half, move away from zero or not.
pub fn round(x: Decimal, dp: u32, mode: Mode) -> Decimal {
    let unit = Decimal::from(10_i64.pow(dp));
    let scaled = x * unit;
    let kept = scaled.trunc();
    let rest = (scaled - kept).abs();
    let half = Decimal::new(5, 1);
    let away = match mode {
        Mode::Down => false,
        Mode::Up => !rest.is_zero(),
        Mode::HalfUp => rest >= half,
        Mode::HalfEven => rest > half || (rest == half && kept % Decimal::TWO != Decimal::ZERO),
    };
    let sign = if x.is_sign_negative() {
        -Decimal::ONE
    } else {
        Decimal::ONE
    };
    let mut out = (if away { kept + sign } else { kept }) / unit;
    out.rescale(dp);
    out
}

#[derive(Clone, Debug)]
pub enum Reward {
    Percent(Decimal),
    Flat(Decimal),
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub reward: Reward,
    pub min_number: Option<u32>,
    pub max_number: Option<u32>,
    pub min_amount: Option<Decimal>,
}

#[derive(Clone, Debug)]
pub enum Clawback {
    Always,
    Never,
    WithinDays(i64),
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub mode: Mode,
    pub window_days: i64,
    pub hold_days: i64,
    pub rules: Vec<Rule>,
    pub sum: bool,
    pub clawback: Clawback,
    pub write_off: bool,
    pub threshold: Decimal,
    pub net_days: i64,
}

#[derive(Clone, Debug)]
pub enum What {
    Touch {
        partner: String,
        customer: String,
    },
    Payment {
        customer: String,
        amount: Decimal,
        tax: Decimal,
    },
    Refund {
        payment: String,
        amount: Decimal,
    },
    Chargeback {
        payment: String,
    },
}

impl What {
    /// SPEC §1.2: touch < payment < refund < chargeback.
    fn rank(&self) -> u8 {
        match self {
            What::Touch { .. } => 0,
            What::Payment { .. } => 3,
            What::Refund { .. } => 4,
            What::Chargeback { .. } => 5,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub at: Instant,
    pub what: What,
}

/// One ledger line as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub id: String,
    pub partner: String,
    pub kind: &'static str,
    pub amount: String,
    pub status: &'static str,
    pub earned_at: Instant,
    pub available_at: Instant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub partner: String,
    pub period: String,
    pub opening: String,
    pub credits: String,
    pub debits: String,
    pub closing: String,
    pub payable: bool,
    pub payout: String,
    pub carried: String,
    pub written_off: String,
    pub due: String,
    pub status: &'static str,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Metrics {
    pub clicks: u64,
    pub referrals: u64,
    pub conversions: u64,
    pub revenue: String,
    pub commission: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub entries: Vec<Line>,
    pub statements: Vec<Statement>,
    pub unattributed: Vec<String>,
    pub metrics: Vec<(String, Metrics)>,
}

pub fn cents(x: Decimal) -> String {
    let mut y = x;
    y.rescale(2);
    if y.is_zero() {
        y = Decimal::new(0, 2);
    }
    y.to_string()
}

struct Written {
    id: String,
    partner: String,
    kind: &'static str,
    amount: Decimal,
    earned_at: Instant,
    available_at: Instant,
}

struct PaymentState {
    amount: Decimal,
    refunded: Decimal,
    /// Indices (in `ledger`) of the commissions it caused, and what was reversed of each.
    caused: Vec<(usize, Decimal)>,
}

/// Evaluates the subset as of `as_of`. Ids are unique; every refund names an earlier
/// payment and stays within what is left of it (the generator guarantees it).
pub fn evaluate(plan: &Plan, partners: &[String], events: &[Event], as_of: Instant) -> Outcome {
    let mut log: Vec<&Event> = events.iter().filter(|e| e.at <= as_of).collect();
    log.sort_by(|a, b| (a.at, a.what.rank(), &a.id).cmp(&(b.at, b.what.rank(), &b.id)));

    let window = TimeDelta::days(plan.window_days);
    let hold = TimeDelta::days(plan.hold_days);
    let mut touches: BTreeMap<String, Vec<(Instant, String, String)>> = BTreeMap::new();
    // customer → (credited partner or none, payments so far)
    let mut customers: BTreeMap<String, (Option<String>, u32)> = BTreeMap::new();
    let mut payments: BTreeMap<String, PaymentState> = BTreeMap::new();
    let mut ledger: Vec<Written> = Vec::new();
    let mut metrics: BTreeMap<String, (u64, u64, u64, Decimal)> = partners
        .iter()
        .map(|p| (p.clone(), (0, 0, 0, Decimal::ZERO)))
        .collect();
    let mut unattributed = Vec::new();

    for ev in log {
        match &ev.what {
            What::Touch { partner, customer } => {
                metrics.get_mut(partner).expect("declared").0 += 1;
                touches.entry(customer.clone()).or_default().push((
                    ev.at,
                    ev.id.clone(),
                    partner.clone(),
                ));
            }
            What::Payment {
                customer,
                amount,
                tax,
            } => {
                let known = customers.contains_key(customer);
                let entry = customers.entry(customer.clone()).or_insert((None, 0));
                if !known {
                    // First conversion: the latest touch within the window (ties: the
                    // highest event id), decided now and kept for life.
                    let winner = touches
                        .get(customer)
                        .into_iter()
                        .flatten()
                        .filter(|(t, _, _)| *t <= ev.at && ev.at - *t <= window)
                        .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)))
                        .map(|(_, _, p)| p.clone());
                    match &winner {
                        Some(p) => metrics.get_mut(p).expect("declared").1 += 1,
                        None => unattributed.push(customer.clone()),
                    }
                    entry.0 = winner;
                }
                entry.1 += 1;
                let number = entry.1;
                let mut caused = Vec::new();
                if let Some(partner) = entry.0.clone() {
                    let base = *amount - *tax;
                    let m = metrics.get_mut(&partner).expect("declared");
                    m.2 += 1;
                    m.3 += base;
                    for rule in &plan.rules {
                        let holds = rule.min_number.is_none_or(|n| number >= n)
                            && rule.max_number.is_none_or(|n| number <= n)
                            && rule.min_amount.is_none_or(|a| *amount >= a);
                        if !holds {
                            continue;
                        }
                        let pay = match &rule.reward {
                            Reward::Percent(p) => {
                                round(base * *p / Decimal::ONE_HUNDRED, 2, plan.mode)
                            }
                            Reward::Flat(f) => round(*f, 2, plan.mode),
                        };
                        if !pay.is_zero() {
                            caused.push((ledger.len(), Decimal::ZERO));
                            ledger.push(Written {
                                id: format!("commission:{}:{}:{}", ev.id, rule.id, partner),
                                partner: partner.clone(),
                                kind: "commission",
                                amount: pay,
                                earned_at: ev.at,
                                available_at: ev.at + hold,
                            });
                        }
                        if !plan.sum {
                            break;
                        }
                    }
                }
                payments.insert(
                    ev.id.clone(),
                    PaymentState {
                        amount: *amount,
                        refunded: Decimal::ZERO,
                        caused,
                    },
                );
            }
            What::Refund { payment, .. } | What::Chargeback { payment } => {
                let p = payments
                    .get_mut(payment)
                    .expect("refund of a known payment");
                let now = match &ev.what {
                    What::Refund { amount, .. } => *amount,
                    _ => p.amount - p.refunded,
                };
                if now.is_zero() {
                    continue;
                }
                p.refunded += now;
                let full = p.refunded == p.amount;
                for (idx, reversed) in p.caused.iter_mut() {
                    let (amount, earned_at, available_at, id, partner) = {
                        let o = &ledger[*idx];
                        (
                            o.amount,
                            o.earned_at,
                            o.available_at,
                            o.id.clone(),
                            o.partner.clone(),
                        )
                    };
                    // The cumulative fraction refunded so far, rounded; the last refund
                    // takes exactly what is left.
                    let target = if full {
                        amount
                    } else {
                        round(amount * p.refunded / p.amount, 2, plan.mode)
                    };
                    let delta = target - *reversed;
                    *reversed = target;
                    if delta.is_zero() {
                        continue;
                    }
                    let available = if ev.at < available_at {
                        available_at // a cancel nets out with its original
                    } else {
                        let claw = match plan.clawback {
                            Clawback::Always => true,
                            Clawback::Never => false,
                            Clawback::WithinDays(n) => ev.at <= earned_at + TimeDelta::days(n),
                        };
                        if !claw {
                            continue;
                        }
                        ev.at
                    };
                    ledger.push(Written {
                        id: format!("reversal:{}:{}", ev.id, id),
                        partner,
                        kind: "reversal",
                        amount: -delta,
                        earned_at: ev.at,
                        available_at: available,
                    });
                }
            }
        }
    }

    // Statements: per partner, one per closed month from its first line on.
    let mut statements = Vec::new();
    let mut paid_by: BTreeMap<usize, usize> = BTreeMap::new();
    for partner in partners {
        let mut mine: Vec<usize> = (0..ledger.len())
            .filter(|&i| &ledger[i].partner == partner)
            .collect();
        if mine.is_empty() {
            continue;
        }
        mine.sort_by(|&a, &b| {
            (ledger[a].available_at, &ledger[a].id).cmp(&(ledger[b].available_at, &ledger[b].id))
        });
        let month = |t: Instant| (t.year(), t.month());
        let mut by_month: BTreeMap<(i32, u32), Vec<usize>> = BTreeMap::new();
        for &i in &mine {
            by_month
                .entry(month(ledger[i].available_at))
                .or_default()
                .push(i);
        }
        let mut m = *by_month.keys().next().expect("non-empty");
        let mut carry = Decimal::ZERO;
        let mut unsettled: Vec<usize> = Vec::new();
        loop {
            let next = if m.1 == 12 {
                (m.0 + 1, 1)
            } else {
                (m.0, m.1 + 1)
            };
            let end = NaiveDate::from_ymd_opt(next.0, next.1, 1)
                .expect("date")
                .and_hms_opt(0, 0, 0)
                .expect("time")
                .and_utc();
            if end > as_of {
                break;
            }
            let lines = by_month.get(&m).cloned().unwrap_or_default();
            if lines.is_empty() && carry.is_zero() {
                if by_month.range(m..).next().is_none() {
                    break;
                }
                m = next;
                continue;
            }
            let credits: Decimal = lines
                .iter()
                .map(|&i| ledger[i].amount)
                .filter(|a| *a > Decimal::ZERO)
                .sum();
            let debits: Decimal = lines
                .iter()
                .map(|&i| ledger[i].amount)
                .filter(|a| *a < Decimal::ZERO)
                .sum();
            unsettled.extend(&lines);
            let opening = carry;
            let closing = opening + credits + debits;
            let payable = closing > Decimal::ZERO && closing >= plan.threshold;
            let last_day = end.date_naive().pred_opt().expect("date");
            let due = last_day + TimeDelta::days(plan.net_days);
            let (status, payout, carried, written_off) = if payable {
                let due_start = due.and_hms_opt(0, 0, 0).expect("time").and_utc();
                let st = if as_of >= due_start {
                    "paid"
                } else {
                    "scheduled"
                };
                (st, closing, Decimal::ZERO, Decimal::ZERO)
            } else if closing < Decimal::ZERO && plan.write_off {
                ("written_off", Decimal::ZERO, Decimal::ZERO, -closing)
            } else {
                ("carried", Decimal::ZERO, closing, Decimal::ZERO)
            };
            if payable {
                for i in unsettled.drain(..) {
                    paid_by.insert(i, statements.len());
                }
            } else if status == "written_off" {
                unsettled.clear();
            }
            carry = carried;
            statements.push(Statement {
                partner: partner.clone(),
                period: format!("{:04}-{:02}", m.0, m.1),
                opening: cents(opening),
                credits: cents(credits),
                debits: cents(debits),
                closing: cents(closing),
                payable,
                payout: cents(payout),
                carried: cents(carried),
                written_off: cents(written_off),
                due: due.to_string(),
                status,
            });
            m = next;
        }
    }

    let mut entries: Vec<Line> = ledger
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let status = if as_of < w.available_at {
                "pending"
            } else if paid_by
                .get(&i)
                .is_some_and(|&s| statements[s].status == "paid")
            {
                "paid"
            } else {
                "available"
            };
            Line {
                id: w.id.clone(),
                partner: w.partner.clone(),
                kind: w.kind,
                amount: cents(w.amount),
                status,
                earned_at: w.earned_at,
                available_at: w.available_at,
            }
        })
        .collect();
    entries.sort_by(|a, b| (a.earned_at, &a.id).cmp(&(b.earned_at, &b.id)));
    unattributed.sort();
    let mut metrics: Vec<(String, Metrics)> = metrics
        .into_iter()
        .map(|(p, (clicks, referrals, conversions, revenue))| {
            let commission: Decimal = ledger
                .iter()
                .filter(|w| w.partner == p)
                .map(|w| w.amount)
                .sum();
            let m = Metrics {
                clicks,
                referrals,
                conversions,
                revenue: cents(revenue),
                commission: cents(commission),
            };
            (p, m)
        })
        .collect();
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    Outcome {
        entries,
        statements,
        unattributed,
        metrics,
    }
}
