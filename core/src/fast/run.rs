//! The fast path's fold: the canonical engine's arithmetic on integer columns.
//!
//! Every step mirrors a step of the canonical path for the plans [`FastPlan`] compiles
//! (`engine.rs` attribution and pricing, `commission` limits, `lifecycle` reversals,
//! `incentives` metrics and tier closes, `payouts` statements), with minor units in `i64`
//! and rounding by [`round_div`], which rounds the exact quotient as `Rounding::round`
//! does. Anything the canonical path would treat differently — an error, a duplicate id, a
//! currency other than the plan's, a partner with a status history — stops the fold with
//! [`Bail`], and the caller runs the canonical path instead.
//!
//! Nothing is allocated per event: per-customer, per-payment and per-partner state lives in
//! vectors indexed by the dense ids of the columns, and the ledger is written as integers.

use std::cmp::Ordering;

use super::cal::{self, DAY_NS};
use super::columns::{Events, NONE, REFUND_DIGITS};
use super::compile::{FastPlan, Price, TiersC, pow10, round_div};
use super::ledger::{Ids, Ledger};
use crate::input::{Kind, Partner};
use crate::ledger::EntryKind;
use crate::money::Rounding;
use crate::plan::{Channel, Clawback, Metric};
use crate::report::Status;

/// Why the fold gave up: the canonical path decides this input.
pub(crate) struct Bail(pub String);

fn bail<T>(why: impl Into<String>) -> Result<T, Bail> {
    Err(Bail(why.into()))
}

/// A touch kept until its customer's first conversion (a linked list per customer).
#[derive(Clone, Copy)]
struct TouchRec {
    at: i64,
    row: u32,
    partner: u32,
    rank: u8,
    channel: Channel,
    /// The customer's previous touch, or NONE.
    next: u32,
}

/// What refunds need of a payment they name.
#[derive(Clone, Copy, Default)]
struct PayRec {
    applied: bool,
    amount: i64,
    refunded: i64,
    /// The commission entry, or NONE.
    entry: u32,
    /// What has been reversed of it so far.
    accounted: i64,
    /// The credited partner (NONE: unattributed) and the revenue credited.
    partner: u32,
    revenue: i64,
}

/// Per-partner metric accumulators for tiers: this month and lifetime.
#[derive(Clone, Copy, Default)]
struct Acc {
    referrals: i64,
    conversions: i64,
    revenue: i64,
    commission: i64,
}

impl Acc {
    fn get(&self, m: Metric) -> i64 {
        match m {
            Metric::Referrals => self.referrals,
            Metric::Conversions => self.conversions,
            Metric::Revenue => self.revenue,
            Metric::Commission => self.commission,
            Metric::ActiveCustomers => 0,
        }
    }

    fn add(&mut self, other: Acc) {
        self.referrals += other.referrals;
        self.conversions += other.conversions;
        self.revenue += other.revenue;
        self.commission += other.commission;
    }
}

/// The tier book: current level, failed periods, metrics.
struct Book<'a> {
    t: &'a TiersC,
    current: Vec<u16>,
    failed: Vec<u32>,
    month: Vec<Acc>,
    life: Vec<Acc>,
    /// Partners' `joined_at` (ns), or i64::MIN.
    joined: Vec<i64>,
}

impl Book<'_> {
    fn close(&mut self, end: i64, digits: u32) {
        for i in 0..self.current.len() {
            if self.joined[i] >= end {
                // Not evaluated before joining; what it did in the month is forgotten as
                // the month ends, as the canonical period window forgets it.
                self.life[i].add(self.month[i]);
                self.month[i] = Acc::default();
                continue;
            }
            let mut life = self.life[i];
            life.add(self.month[i]);
            let mut best: Option<usize> = None;
            for (li, l) in self.t.levels.iter().enumerate() {
                let holds = match l.all {
                    None => true,
                    Some(all) => {
                        let met = |q: &super::compile::Req| {
                            let v = if q.period {
                                self.month[i].get(q.metric)
                            } else {
                                life.get(q.metric)
                            };
                            let d = if q.metric.is_money() { digits } else { 0 };
                            q.at_least.le_minor(i128::from(v), d)
                        };
                        if all {
                            l.reqs.iter().all(met)
                        } else {
                            l.reqs.iter().any(met)
                        }
                    }
                };
                if holds {
                    best = Some(li);
                }
            }
            let cur = usize::from(self.current[i]);
            if best.is_some_and(|b| b > cur) {
                self.failed[i] = 0;
                self.current[i] = best.map_or(0, |b| b as u16);
            } else if best == Some(cur) {
                self.failed[i] = 0;
            } else {
                self.failed[i] += 1;
                if let Some(k) = self.t.demote_after
                    && self.failed[i] >= k
                {
                    self.failed[i] = 0;
                    let to = best.unwrap_or(0).max(self.t.floor);
                    if to < cur {
                        self.current[i] = to as u16;
                    }
                }
            }
            self.life[i] = life;
            self.month[i] = Acc::default();
        }
    }
}

/// The ledger being written, in canonical event order.
#[derive(Default)]
struct Out {
    kind: Vec<EntryKind>,
    partner: Vec<u32>,
    event: Vec<u32>,
    customer: Vec<u32>,
    reverses: Vec<u32>,
    amount: Vec<i64>,
    earned: Vec<i64>,
    available: Vec<i64>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn push(
        &mut self,
        kind: EntryKind,
        partner: u32,
        event: u32,
        customer: u32,
        reverses: u32,
        amount: i64,
        earned: i64,
        available: i64,
    ) -> u32 {
        let i = self.kind.len() as u32;
        self.kind.push(kind);
        self.partner.push(partner);
        self.event.push(event);
        self.customer.push(customer);
        self.reverses.push(reverses);
        self.amount.push(amount);
        self.earned.push(earned);
        self.available.push(available);
        i
    }
}

/// Checks the partners the fold can take: unique ids, no parents, no status history, no
/// own customers, statements in the plan currency. Returns declared index by id.
fn partner_index<'a>(
    plan: &FastPlan,
    partner_currency: bool,
    partners: &'a [Partner],
) -> Result<std::collections::HashMap<&'a str, u32, foldhash::fast::RandomState>, Bail> {
    let mut index: std::collections::HashMap<&str, u32, foldhash::fast::RandomState> =
        Default::default();
    index.reserve(partners.len());
    for (i, p) in partners.iter().enumerate() {
        if index.insert(p.id.as_str(), i as u32).is_some() {
            return bail("a partner id declared twice");
        }
        if p.parent.is_some() {
            return bail("partner parents");
        }
        if !p.status.is_empty() {
            return bail("partner status histories");
        }
        if !p.own_customers.is_empty() {
            return bail("partners' own customers (self-referral checks)");
        }
        if partner_currency && p.payout_currency.is_some_and(|c| c != plan.currency) {
            return bail("statements in a partner's own currency");
        }
    }
    Ok(index)
}

/// Event ids must be unique: a repeated id is a duplicate to drop or a conflict to report,
/// which the canonical path does. Ids are grouped by hash (sorted), compared on a match.
fn check_unique(ev: &Events) -> Result<(), Bail> {
    let hasher = foldhash::fast::FixedState::with_seed(0x7061_7274_6e65_726b);
    let mut h: Vec<u64> = (0..ev.len())
        .map(|i| std::hash::BuildHasher::hash_one(&hasher, ev.id.get(i)))
        .collect();
    radix_sort(&mut h);
    for w in h.windows(2) {
        if w[0] == w[1] {
            // Rare: a real duplicate or a 64-bit collision; either way the canonical path
            // sorts it out exactly.
            return bail("repeated event ids");
        }
    }
    Ok(())
}

/// LSD radix sort of 64-bit keys, 16 bits a pass.
fn radix_sort(v: &mut Vec<u64>) {
    if v.len() < 4096 {
        v.sort_unstable();
        return;
    }
    let mut tmp = vec![0u64; v.len()];
    for pass in 0..4 {
        let shift = pass * 16;
        let mut count = vec![0usize; 1 << 16];
        for &x in v.iter() {
            count[((x >> shift) & 0xffff) as usize] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in v.iter() {
            let k = ((x >> shift) & 0xffff) as usize;
            tmp[count[k]] = x;
            count[k] += 1;
        }
        std::mem::swap(v, &mut tmp);
    }
}

/// The rows to apply (at ≤ as_of) in canonical order: (at, kind rank, id).
fn canonical_rows(ev: &Events, as_of: i64) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..ev.len() as u32)
        .filter(|&i| ev.at[i as usize] <= as_of)
        .collect();
    let cmp = |a: &u32, b: &u32| {
        let (a, b) = (*a as usize, *b as usize);
        ev.at[a]
            .cmp(&ev.at[b])
            .then(ev.kind[a].cmp(&ev.kind[b]))
            .then_with(|| ev.id.get(a).cmp(ev.id.get(b)))
    };
    if !rows.is_sorted_by(|a, b| cmp(a, b) != Ordering::Greater) {
        rows.sort_unstable_by(cmp);
    }
    rows
}

/// Runs the fold. `Err(Bail)` hands the input to the canonical path.
pub(crate) fn run(
    plan: &FastPlan,
    partner_currency: bool,
    partners: &[Partner],
    ev: &Events,
    as_of: i64,
) -> Result<Ledger, Bail> {
    let index = partner_index(plan, partner_currency, partners)?;
    // Touch partners → declared partners.
    let mut touch_partner = Vec::with_capacity(ev.partners.strings.len());
    for k in 0..ev.partners.strings.len() {
        match index.get(ev.partners.strings.get(k)) {
            Some(&p) => touch_partner.push(p),
            None => return bail("a touch names an undeclared partner"),
        }
    }
    check_unique(ev)?;
    // Payments that refunds name: their row, found through the id hashes of payments.
    let n_refs = ev.payments.strings.len();
    let mut ref_slot = vec![NONE; if n_refs > 0 { ev.len() } else { 0 }];
    if n_refs > 0 {
        for i in 0..ev.len() {
            if ev.kind[i] == Kind::Payment
                && let Some(s) = ev.payments.find(ev.id.get(i))
            {
                ref_slot[i] = s;
            }
        }
    }
    let rows = canonical_rows(ev, as_of);

    let digits = plan.digits;
    let rounding = plan.rounding;
    let n_customers = ev.customers.strings.len();
    // Per customer: NONE = undecided; NONE - 1 = decided, unattributed; else the partner.
    const UNATTRIBUTED: u32 = NONE - 1;
    let mut credit = vec![NONE; n_customers];
    let mut head = vec![NONE; n_customers];
    let mut touches: Vec<TouchRec> = Vec::new();
    let mut pays = vec![PayRec::default(); n_refs];

    // Cap tallies per partner per month, over the months the events span.
    let (m0, m1) = match (rows.first(), rows.last()) {
        (Some(&a), Some(&b)) => (
            cal::month_of(ev.at[a as usize]),
            cal::month_of(ev.at[b as usize]),
        ),
        _ => (0, 0),
    };
    let span = (m1 - m0 + 1) as usize;
    let mut tally: Vec<i64> = if plan.max_month.is_some() {
        if partners.len().saturating_mul(span) > 200_000_000 {
            return bail("a cap over too many partner-months for the fast path's table");
        }
        vec![0; partners.len() * span]
    } else {
        Vec::new()
    };

    let mut book = plan.tiers.as_ref().map(|t| {
        let n = partners.len();
        Book {
            t,
            current: vec![t.floor as u16; n],
            failed: vec![0; n],
            month: vec![Acc::default(); n],
            life: vec![Acc::default(); n],
            joined: partners
                .iter()
                .map(|p| {
                    p.joined_at
                        .map_or(i64::MIN, |j| j.timestamp_nanos_opt().unwrap_or(i64::MAX))
                })
                .collect(),
        }
    });
    if let (Some(b), Some(t)) = (book.as_mut(), plan.tiers.as_ref()) {
        for (i, p) in partners.iter().enumerate() {
            if let Some(tier) = &p.tier {
                match t.ids.iter().position(|l| l == tier) {
                    Some(l) => b.current[i] = l as u16,
                    None => return bail("a partner tier that is not a level"),
                }
            }
        }
    }
    // Tier clock: the month whose end is the next close, once the first event came.
    let mut clock_month: Option<i64> = None;

    let mut out = Out::default();
    let per_payment = rows.len();
    out.kind.reserve(per_payment);
    out.partner.reserve(per_payment);
    out.event.reserve(per_payment);
    out.customer.reserve(per_payment);
    out.reverses.reserve(per_payment);
    out.amount.reserve(per_payment);
    out.earned.reserve(per_payment);
    out.available.reserve(per_payment);

    let pct_den = |f: &super::compile::Fixed| pow10(f.scale + 2);
    for &row in &rows {
        let r = row as usize;
        let at = ev.at[r];
        if let Some(b) = book.as_mut() {
            match clock_month {
                None => clock_month = Some(cal::month_of(at)),
                Some(mut m) => {
                    while cal::month_start(m + 1) <= at {
                        b.close(cal::month_start(m + 1), digits);
                        m += 1;
                    }
                    clock_month = Some(m);
                }
            }
        }
        match ev.kind[r] {
            Kind::Touch => {
                let c = ev.customer[r] as usize;
                if credit[c] != NONE {
                    // Decided for life (customer lock): later touches cannot matter.
                    continue;
                }
                let ch = ev.channel[r];
                touches.push(TouchRec {
                    at,
                    row,
                    partner: touch_partner[ev.partner[r] as usize],
                    rank: plan.rank[super::compile::channel_index(ch)],
                    channel: ch,
                    next: head[c],
                });
                head[c] = (touches.len() - 1) as u32;
            }
            Kind::Payment => {
                if ev.currency[r] != Some(plan.currency) {
                    return bail("a payment in a currency other than the plan's");
                }
                let c = ev.customer[r] as usize;
                let mut new_referral = false;
                if credit[c] == NONE {
                    credit[c] = decide(plan, ev, &touches, head[c], at).unwrap_or(UNATTRIBUTED);
                    head[c] = NONE;
                    new_referral = credit[c] != UNATTRIBUTED;
                }
                let p = credit[c];
                let amount = ev.amount[r];
                let base = if plan.net {
                    amount - ev.tax[r] - ev.discount[r]
                } else {
                    amount
                };
                let mut entry = NONE;
                if p != UNATTRIBUTED {
                    let pi = p as usize;
                    let pct = match &plan.price {
                        Price::Percent(f) => Some(f),
                        Price::ByTier(by) => {
                            let l = book.as_ref().map_or(0, |b| usize::from(b.current[pi]));
                            by.get(l)
                        }
                        Price::Flat(_) => None,
                    };
                    let mut amt = match (&plan.price, pct) {
                        (Price::Flat(f), _) => *f,
                        (_, Some(f)) => {
                            round_div(i128::from(base) * f.mantissa, pct_den(f), rounding)
                        }
                        (_, None) => return bail("a tier without a rate"),
                    };
                    if let Some(min) = plan.min_event
                        && amt < min
                    {
                        amt = min;
                    }
                    if let Some(max) = plan.max_event
                        && amt > max
                    {
                        amt = max;
                    }
                    let month = if plan.max_month.is_some() {
                        (cal::month_of(at) - m0) as usize
                    } else {
                        0
                    };
                    if let Some(cap) = plan.max_month {
                        let used = i128::from(tally[pi * span + month]);
                        // room = max(cap − used, 0), rounded down to minor units.
                        let s = cap.scale;
                        let num = cap.mantissa * pow10(digits) - used * pow10(s);
                        let room = if num <= 0 {
                            0
                        } else {
                            round_div(num, pow10(s), Rounding::Down)
                        };
                        if amt > room {
                            amt = room;
                        }
                    }
                    let Ok(a64) = i64::try_from(amt) else {
                        return bail("an amount beyond 64-bit minor units");
                    };
                    if a64 != 0 {
                        entry = out.push(
                            EntryKind::Commission,
                            p,
                            row,
                            c as u32,
                            NONE,
                            a64,
                            at,
                            at + plan.hold_ns,
                        );
                        if plan.max_month.is_some() {
                            tally[pi * span + month] += a64;
                        }
                    }
                    if let Some(b) = book.as_mut() {
                        let m = &mut b.month[pi];
                        m.conversions += 1;
                        m.revenue += base;
                        m.referrals += i64::from(new_referral);
                        m.commission += a64;
                    }
                }
                let s = if ref_slot.is_empty() {
                    NONE
                } else {
                    ref_slot[r]
                };
                if s != NONE {
                    pays[s as usize] = PayRec {
                        applied: true,
                        amount,
                        refunded: 0,
                        entry,
                        accounted: 0,
                        partner: if p == UNATTRIBUTED { NONE } else { p },
                        revenue: base,
                    };
                }
            }
            Kind::Refund | Kind::Chargeback => {
                let s = ev.payment[r] as usize;
                let rec = pays[s];
                if !rec.applied {
                    return bail("a refund of a payment not applied before it");
                }
                if ev.currency[r].is_some_and(|c| c != plan.currency) {
                    return bail("a refund in another currency than its payment");
                }
                let left = rec.amount - rec.refunded;
                let now = if ev.kind[r] == Kind::Refund {
                    let scale = pow10(REFUND_DIGITS - digits.min(REFUND_DIGITS)) as i64;
                    let a = ev.amount[r];
                    if a % scale != 0 {
                        return bail("a refund with more decimals than its currency");
                    }
                    let a = a / scale;
                    if a > left {
                        return bail("a refund exceeding its payment");
                    }
                    a
                } else {
                    left
                };
                if now == 0 {
                    continue;
                }
                let before = rec.refunded;
                let total = before + now;
                let full = total == rec.amount;
                let mut rec = rec;
                rec.refunded = total;
                if rec.entry != NONE {
                    let idx = rec.entry as usize;
                    let e = out.amount[idx];
                    let target = if full {
                        e
                    } else {
                        round_div(
                            i128::from(e) * i128::from(total),
                            i128::from(rec.amount),
                            rounding,
                        ) as i64
                    };
                    let delta = target - rec.accounted;
                    rec.accounted = target;
                    if delta != 0 {
                        let orig_available = out.available[idx];
                        let earned = out.earned[idx];
                        let available = if at < orig_available {
                            Some(orig_available)
                        } else {
                            match &plan.clawback {
                                Clawback::Always => Some(at),
                                Clawback::Never => None,
                                Clawback::WithinDays(n) => {
                                    (at <= earned + i64::from(*n) * DAY_NS).then_some(at)
                                }
                            }
                        };
                        if let Some(available) = available {
                            let pi = out.partner[idx];
                            let cu = out.customer[idx];
                            out.push(
                                EntryKind::Reversal,
                                pi,
                                row,
                                cu,
                                idx as u32,
                                -delta,
                                at,
                                available,
                            );
                            if plan.max_month.is_some() {
                                let month = (cal::month_of(earned) - m0) as usize;
                                tally[pi as usize * span + month] -= delta;
                            }
                            if let Some(b) = book.as_mut() {
                                b.month[pi as usize].commission -= delta;
                            }
                        }
                    }
                }
                if let Some(b) = book.as_mut()
                    && rec.partner != NONE
                    && rec.amount != 0
                {
                    let cut = |x: i64| -> i64 {
                        if x >= rec.amount {
                            rec.revenue
                        } else {
                            round_div(
                                i128::from(rec.revenue) * i128::from(x),
                                i128::from(rec.amount),
                                rounding,
                            ) as i64
                        }
                    };
                    b.month[rec.partner as usize].revenue -= cut(total) - cut(before);
                }
                pays[s] = rec;
            }
            _ => return bail("an event kind the fast path does not fold"),
        }
    }
    drop(rows);

    let status = settle(plan, partners.len(), &out, as_of)?;
    finish(plan, partners, ev, out, status)
}

/// Attribution at a customer's first conversion: the eligible touches (within the window),
/// the best-ranked channel among them, then the latest (or, under first touch or for deal
/// registrations, the earliest) by instant then event id.
fn decide(plan: &FastPlan, ev: &Events, touches: &[TouchRec], head: u32, at: i64) -> Option<u32> {
    let mut best: Option<&TouchRec> = None;
    let mut k = head;
    // The best rank first: one pass finds it, a second picks the touch.
    let mut rank = u8::MAX;
    while k != NONE {
        let t = &touches[k as usize];
        if at - t.at <= plan.window_ns && t.rank < rank {
            rank = t.rank;
        }
        k = t.next;
    }
    if rank == u8::MAX {
        return None;
    }
    let mut k = head;
    while k != NONE {
        let t = &touches[k as usize];
        k = t.next;
        if at - t.at > plan.window_ns || t.rank != rank {
            continue;
        }
        let first = plan.first_touch || t.channel == Channel::DealRegistration;
        best = match best {
            None => Some(t),
            Some(b) => {
                let ord = t
                    .at
                    .cmp(&b.at)
                    .then_with(|| ev.id.get(t.row as usize).cmp(ev.id.get(b.row as usize)));
                let better = if first {
                    ord == Ordering::Less
                } else {
                    ord == Ordering::Greater
                };
                Some(if better { t } else { b })
            }
        };
    }
    best.map(|t| t.partner)
}

/// Statement fates per partner per month (as payouts build them), then each entry's status.
fn settle(plan: &FastPlan, n_partners: usize, out: &Out, as_of: i64) -> Result<Vec<Status>, Bail> {
    let n = out.kind.len();
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
    let mut sums = vec![0i128; n_partners * span];
    let mut any = vec![false; n_partners * span];
    for i in 0..n {
        let k = out.partner[i] as usize * span + (cal::month_of(out.available[i]) - m0) as usize;
        sums[k] += i128::from(out.amount[i]);
        any[k] = true;
    }
    // Per partner-month: whether its entries end up on a paid statement.
    let mut paid = vec![false; n_partners * span];
    let digits = plan.digits;
    for p in 0..n_partners {
        let row = p * span;
        let Some(first) = (0..span).find(|&m| any[row + m]) else {
            continue;
        };
        let last_with = (0..span).rev().find(|&m| any[row + m]).unwrap_or(first);
        let mut carry: i128 = 0;
        let mut unsettled: Vec<usize> = Vec::new();
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
            if emitted > crate::payouts::MAX_STATEMENTS_PER_PARTNER {
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
    for i in 0..n {
        if as_of < out.available[i] {
            continue;
        }
        let k = out.partner[i] as usize * span + (cal::month_of(out.available[i]) - m0) as usize;
        status[i] = if paid[k] {
            Status::Paid
        } else {
            Status::Available
        };
    }
    Ok(status)
}

/// Puts the ledger in report order (`earned_at`, then id) and attaches the names.
fn finish(
    plan: &FastPlan,
    partners: &[Partner],
    ev: &Events,
    out: Out,
    status: Vec<Status>,
) -> Result<Ledger, Bail> {
    let n = out.kind.len();
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
        amount: out.amount.into_iter().map(i128::from).collect(),
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
fn reorder(l: &mut Ledger) {
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
