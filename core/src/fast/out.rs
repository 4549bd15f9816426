//! The ledger the fold writes: entries as columns, then statuses from monthly statements
//! (as `payouts` builds them) and the report order (`earned_at`, then id).

use super::cal::{self, DAY_NS};
use super::columns::{Events, NONE};
use super::compile::FastPlan;
use super::ledger::{Ids, Ledger};
use super::run::{Bail, bail};
use crate::input::Partner;
use crate::ledger::EntryKind;
use crate::report::Status;

/// One ledger entry as the fold reads and writes it.
#[derive(Clone, Copy)]
pub(super) struct Rec {
    pub(super) amount: i64,
    pub(super) earned: i64,
    pub(super) available: i64,
    pub(super) event: u32,
    pub(super) partner: u32,
    pub(super) customer: u32,
    /// The reversed entry, or NONE.
    pub(super) reverses: u32,
    pub(super) kind: EntryKind,
}

/// The ledger being written, as the columns it will have (entries go straight into the
/// [`Ledger`]'s vectors: no second copy of ten million entries).
pub(super) struct Cols {
    pub(super) kind: Vec<EntryKind>,
    pub(super) partner: Vec<u32>,
    pub(super) event: Vec<u32>,
    pub(super) customer: Vec<u32>,
    pub(super) reverses: Vec<u32>,
    pub(super) amount: Vec<i128>,
    pub(super) earned: Vec<i64>,
    pub(super) available: Vec<i64>,
}

impl Cols {
    pub(super) fn with_capacity(n: usize) -> Cols {
        Cols {
            kind: Vec::with_capacity(n),
            partner: Vec::with_capacity(n),
            event: Vec::with_capacity(n),
            customer: Vec::with_capacity(n),
            reverses: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
            earned: Vec::with_capacity(n),
            available: Vec::with_capacity(n),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.kind.len()
    }

    #[inline]
    pub(super) fn push(&mut self, e: Rec) {
        self.kind.push(e.kind);
        self.partner.push(e.partner);
        self.event.push(e.event);
        self.customer.push(e.customer);
        self.reverses.push(e.reverses);
        self.amount.push(i128::from(e.amount));
        self.earned.push(e.earned);
        self.available.push(e.available);
    }

    pub(super) fn get(&self, i: usize) -> Rec {
        Rec {
            kind: self.kind[i],
            partner: self.partner[i],
            event: self.event[i],
            customer: self.customer[i],
            reverses: self.reverses[i],
            // Written from an i64 by `push`.
            amount: self.amount[i] as i64,
            earned: self.earned[i],
            available: self.available[i],
        }
    }
}

/// The month of an instant, remembered across calls: instants come nearly in order, so
/// the calendar arithmetic runs once a month rather than once an entry.
pub(super) struct Months {
    pub(super) lo: i64,
    pub(super) hi: i64,
    pub(super) m: i64,
}

impl Months {
    pub(super) fn new() -> Months {
        Months { lo: 0, hi: 0, m: 0 }
    }

    #[inline]
    pub(super) fn of(&mut self, ns: i64) -> i64 {
        if ns >= self.lo && ns < self.hi {
            return self.m;
        }
        let m = cal::month_of(ns);
        self.lo = cal::month_start(m);
        self.hi = cal::month_start(m + 1);
        self.m = m;
        m
    }
}

/// Statement fates per partner per month (as payouts build them), then each entry's status.
#[inline(never)]
pub(super) fn settle(
    plan: &FastPlan,
    n_partners: usize,
    out: &Cols,
    as_of: i64,
) -> Result<Vec<Status>, Bail> {
    let n = out.len();
    let mut status = vec![Status::Pending; n];
    if n == 0 {
        return Ok(status);
    }
    // Months of availability, relative to the earliest.
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for &a in &out.available {
        lo = lo.min(a);
        hi = hi.max(a);
    }
    let (m0, m1) = (cal::month_of(lo), cal::month_of(hi));
    let span = (m1 - m0 + 1) as usize;
    if n_partners.saturating_mul(span) > 200_000_000 {
        return bail("statements over too many partner-months for the fast path's table");
    }
    let mut months = Months::new();
    let month: Vec<u32> = out
        .available
        .iter()
        .map(|&a| (months.of(a) - m0) as u32)
        .collect();
    let mut sums = vec![0i128; n_partners * span];
    let mut any = vec![false; n_partners * span];
    for ((&p, &a), &m) in out.partner.iter().zip(&out.amount).zip(&month) {
        let k = p as usize * span + m as usize;
        sums[k] += a;
        any[k] = true;
    }
    // Per partner-month: whether its entries end up on a paid statement.
    let mut paid = vec![false; n_partners * span];
    let digits = plan.digits;
    let mut unsettled: Vec<usize> = Vec::new();
    for p in 0..n_partners {
        let row = p * span;
        let Some(first) = (0..span).find(|&m| any[row + m]) else {
            continue;
        };
        let last_with = (0..span).rev().find(|&m| any[row + m]).unwrap_or(first);
        let mut carry: i128 = 0;
        unsettled.clear();
        let mut emitted = 0usize;
        let mut m = first;
        loop {
            let month = m0 + m as i64;
            if cal::month_start(month + 1) > as_of {
                break;
            }
            let has = m < span && any[row + m];
            if !has && carry == 0 {
                if m >= last_with {
                    break;
                }
                m += 1;
                continue;
            }
            let closing = carry + if has { sums[row + m] } else { 0 };
            if has {
                unsettled.push(m);
            }
            let payable = closing > 0 && plan.threshold.le_minor(closing, digits);
            emitted += 1;
            if emitted > crate::Limits::default().max_statements_per_partner {
                return bail("a partner with more statements than the canonical limit");
            }
            if payable {
                let due = cal::month_last_day(month) + i64::from(plan.net_days);
                let is_paid = i128::from(as_of) >= i128::from(due) * i128::from(DAY_NS);
                for k in unsettled.drain(..) {
                    paid[row + k] = is_paid;
                }
                carry = 0;
            } else if closing < 0 && plan.write_off {
                unsettled.clear();
                carry = 0;
            } else {
                carry = closing;
            }
            m += 1;
        }
    }
    for (((&a, &p), &m), st) in out
        .available
        .iter()
        .zip(&out.partner)
        .zip(&month)
        .zip(status.iter_mut())
    {
        if as_of < a {
            continue;
        }
        *st = if paid[p as usize * span + m as usize] {
            Status::Paid
        } else {
            Status::Available
        };
    }
    Ok(status)
}

/// Puts the ledger in report order (`earned_at`, then id) and attaches the names.
#[inline(never)]
pub(super) fn finish(
    plan: &FastPlan,
    partners: &[Partner],
    ev: &Events,
    out: Cols,
    status: Vec<Status>,
) -> Result<Ledger, Bail> {
    let n = out.len();
    let mut partner_names = super::columns::Strings::with_capacity(partners.len(), 0);
    for p in partners {
        partner_names.push(&p.id);
    }
    let mut rule_names = super::columns::Strings::default();
    rule_names.push(&plan.rule_id);
    let mut ledger = Ledger {
        kind: out.kind,
        status,
        partner: out.partner,
        partner_names,
        event: out.event,
        event_names: ev.id.clone(),
        customer: out.customer,
        customer_names: ev.customers.strings.clone(),
        rule: vec![0; n],
        rule_names,
        ids: Ids::Derived {
            reverses: out.reverses,
        },
        amount: out.amount,
        currency: vec![plan.currency; n],
        earned_at: out.earned,
        available_at: out.available,
        explain: None,
    };
    // Entries come in canonical event order: sorted by instant already; ids decide ties,
    // and only ties need the ids written out.
    let (mut a, mut b) = (String::new(), String::new());
    let mut sorted = true;
    for i in 1..n {
        if ledger.earned_at[i] == ledger.earned_at[i - 1] {
            a.clear();
            b.clear();
            ledger.write_id(i - 1, &mut a);
            ledger.write_id(i, &mut b);
            if a > b {
                sorted = false;
                break;
            }
        }
    }
    if !sorted {
        reorder(&mut ledger);
    }
    Ok(ledger)
}

/// Sorts a derived-id ledger by (earned_at, id), renumbering the reversed-entry links.
pub(super) fn reorder(l: &mut Ledger) {
    let n = l.len();
    let ids: Vec<String> = (0..n).map(|i| l.id(i)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| (l.earned_at[x], &ids[x]).cmp(&(l.earned_at[y], &ids[y])));
    let mut new_pos = vec![0u32; n];
    for (k, &i) in order.iter().enumerate() {
        new_pos[i] = k as u32;
    }
    fn permute<T: Copy>(v: &mut Vec<T>, order: &[usize]) {
        *v = order.iter().map(|&i| v[i]).collect();
    }
    permute(&mut l.kind, &order);
    permute(&mut l.status, &order);
    permute(&mut l.partner, &order);
    permute(&mut l.event, &order);
    permute(&mut l.customer, &order);
    permute(&mut l.rule, &order);
    permute(&mut l.amount, &order);
    permute(&mut l.currency, &order);
    permute(&mut l.earned_at, &order);
    permute(&mut l.available_at, &order);
    if let Ids::Derived { reverses } = &mut l.ids {
        permute(reverses, &order);
        for r in reverses.iter_mut() {
            if *r != NONE {
                *r = new_pos[*r as usize];
            }
        }
    }
}
