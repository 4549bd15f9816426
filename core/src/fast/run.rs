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
    #[inline(never)]
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

/// One ledger entry as the fold reads and writes it.
#[derive(Clone, Copy)]
struct Rec {
    amount: i64,
    earned: i64,
    available: i64,
    event: u32,
    partner: u32,
    customer: u32,
    /// The reversed entry, or NONE.
    reverses: u32,
    kind: EntryKind,
}

/// The ledger being written, as the columns it will have (entries go straight into the
/// [`Ledger`]'s vectors: no second copy of ten million entries).
struct Cols {
    kind: Vec<EntryKind>,
    partner: Vec<u32>,
    event: Vec<u32>,
    customer: Vec<u32>,
    reverses: Vec<u32>,
    amount: Vec<i128>,
    earned: Vec<i64>,
    available: Vec<i64>,
}

impl Cols {
    fn with_capacity(n: usize) -> Cols {
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

    fn len(&self) -> usize {
        self.kind.len()
    }

    #[inline]
    fn push(&mut self, e: Rec) {
        self.kind.push(e.kind);
        self.partner.push(e.partner);
        self.event.push(e.event);
        self.customer.push(e.customer);
        self.reverses.push(e.reverses);
        self.amount.push(i128::from(e.amount));
        self.earned.push(e.earned);
        self.available.push(e.available);
    }

    fn get(&self, i: usize) -> Rec {
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
struct Months {
    lo: i64,
    hi: i64,
    m: i64,
}

impl Months {
    fn new() -> Months {
        Months { lo: 0, hi: 0, m: 0 }
    }

    #[inline]
    fn of(&mut self, ns: i64) -> i64 {
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

/// `a × b / den` rounded with `mode`, in 64 bits when the product fits.
#[inline]
fn mul_div(a: i64, b: i64, den: i64, mode: Rounding) -> i128 {
    match a.checked_mul(b) {
        Some(p) => i128::from(round_div64(p, den, mode)),
        None => round_div(i128::from(a) * i128::from(b), i128::from(den), mode),
    }
}

/// [`round_div`] in 64 bits.
#[inline]
fn round_div64(num: i64, den: i64, mode: Rounding) -> i64 {
    let q = num / den;
    let r = num % den;
    if r == 0 {
        return q;
    }
    let away = q + num.signum();
    let twice = 2 * r.abs();
    match mode {
        Rounding::Down => q,
        Rounding::Up => away,
        Rounding::HalfUp => {
            if twice >= den {
                away
            } else {
                q
            }
        }
        Rounding::HalfEven => {
            if twice > den || (twice == den && q % 2 != 0) {
                away
            } else {
                q
            }
        }
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

/// The hash of every event id (the same seed as the canonical path's duplicate check).
#[inline(never)]
fn id_hashes(ev: &Events) -> Vec<u64> {
    let hasher = foldhash::fast::FixedState::with_seed(0x7061_7274_6e65_726b);
    (0..ev.len())
        .map(|i| std::hash::BuildHasher::hash_one(&hasher, ev.id.get_bytes(i)))
        .collect()
}

/// Event ids must be unique: a repeated id is a duplicate to drop or a conflict to report,
/// which the canonical path does. Ids are grouped by hash (radix-sorted); equal hashes hand
/// the input over.
#[inline(never)]
fn check_unique(mut h: Vec<u64>) -> Result<(), Bail> {
    radix_sort(&mut h);
    if h.windows(2).any(|w| w[0] == w[1]) {
        // A real duplicate or a 64-bit collision; either way the canonical path sorts it
        // out exactly.
        return bail("repeated event ids");
    }
    Ok(())
}

/// Sorts 64-bit keys: one counting pass on the top 11 bits into 2,048 buckets, then each
/// bucket (a few thousand keys, cache-resident) sorted on its own. Equal keys share a
/// bucket, so adjacent-pair checks see them.
fn radix_sort(v: &mut Vec<u64>) {
    const BITS: u32 = 11;
    if v.len() < 1 << 14 {
        v.sort_unstable();
        return;
    }
    let bucket = |x: u64| (x >> (64 - BITS)) as usize;
    let mut count = vec![0usize; (1 << BITS) + 1];
    for &x in v.iter() {
        count[bucket(x) + 1] += 1;
    }
    for k in 1..count.len() {
        count[k] += count[k - 1];
    }
    let starts = count.clone();
    let mut tmp = vec![0u64; v.len()];
    for &x in v.iter() {
        let b = bucket(x);
        tmp[count[b]] = x;
        count[b] += 1;
    }
    for w in starts.windows(2) {
        tmp[w[0]..w[1]].sort_unstable();
    }
    *v = tmp;
}

/// The rows to apply (at ≤ as_of) in canonical order: (at, kind rank, id). Logs usually
/// come in order: one pass checks it as it collects, comparing ids only at equal instants.
#[inline(never)]
fn canonical_rows(ev: &Events, as_of: i64) -> Vec<u32> {
    let mut rows: Vec<u32> = Vec::with_capacity(ev.len());
    let mut sorted = true;
    let mut prev: Option<usize> = None;
    for (i, &at) in ev.at.iter().enumerate() {
        if at > as_of {
            continue;
        }
        if let Some(p) = prev
            && sorted
        {
            let pa = ev.at[p];
            if pa > at || (pa == at && (ev.kind[p], ev.id.get(p)) >= (ev.kind[i], ev.id.get(i))) {
                sorted = false;
            }
        }
        prev = Some(i);
        rows.push(i as u32);
    }
    if !sorted {
        // Sorted by (instant, kind) as plain keys, then each run of equal keys (rare) by id.
        let mut keys: Vec<(i64, u8, u32)> = rows
            .iter()
            .map(|&r| (ev.at[r as usize], ev.kind[r as usize] as u8, r))
            .collect();
        keys.sort_unstable();
        let mut start = 0;
        while start < keys.len() {
            let mut end = start + 1;
            while end < keys.len() && keys[end].0 == keys[start].0 && keys[end].1 == keys[start].1 {
                end += 1;
            }
            if end - start > 1 {
                keys[start..end]
                    .sort_by(|a, b| ev.id.get(a.2 as usize).cmp(ev.id.get(b.2 as usize)));
            }
            start = end;
        }
        rows = keys.into_iter().map(|k| k.2).collect();
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
    if !ev.wide.is_empty() {
        return bail("amounts beyond 64-bit minor units");
    }
    let index = partner_index(plan, partner_currency, partners)?;
    // Touch partners → declared partners.
    let mut touch_partner = Vec::with_capacity(ev.partners.strings.len());
    for k in 0..ev.partners.strings.len() {
        match index.get(ev.partners.strings.get(k)) {
            Some(&p) => touch_partner.push(p),
            None => return bail("a touch names an undeclared partner"),
        }
    }
    let hashes = id_hashes(ev);
    // Payments that refunds name: found by id hash among the payments, then compared.
    let n_refs = ev.payments.strings.len();
    let mut ref_slot = vec![NONE; if n_refs > 0 { ev.len() } else { 0 }];
    if n_refs > 0 {
        let hasher = foldhash::fast::FixedState::with_seed(0x7061_7274_6e65_726b);
        let mut named: std::collections::HashMap<u64, u32, foldhash::fast::RandomState> =
            Default::default();
        named.reserve(n_refs);
        for k in 0..n_refs {
            let h = std::hash::BuildHasher::hash_one(&hasher, ev.payments.strings.get_bytes(k));
            named.insert(h, k as u32);
        }
        for (i, slot) in ref_slot.iter_mut().enumerate() {
            if ev.kind[i] == Kind::Payment
                && let Some(&k) = named.get(&hashes[i])
                && ev.payments.strings.get(k as usize) == ev.id.get(i)
            {
                *slot = k;
            }
        }
        // Two named payments with one hash: the map kept one; find the other by string.
        if named.len() < n_refs {
            for (i, slot) in ref_slot.iter_mut().enumerate() {
                if ev.kind[i] == Kind::Payment
                    && *slot == NONE
                    && let Some(k) = ev.payments.find(ev.id.get(i))
                {
                    *slot = k;
                }
            }
        }
    }
    check_unique(hashes)?;
    let rows = canonical_rows(ev, as_of);
    // The canonical fold closes at most `max_periods` period ends (each a tier evaluation)
    // between the first event and `as_of`: a span near that is left to it, and it decides
    // whether the input is an error. Two months of margin cover the plan's zone offset.
    if plan.tiers.is_some()
        && let Some(&first) = rows.first()
    {
        let months = cal::month_of(as_of) - cal::month_of(ev.at[first as usize]);
        let max = i64::try_from(crate::Limits::default().max_periods).unwrap_or(i64::MAX);
        if months >= max - 2 {
            return bail("more month ends than the canonical limit on period ends");
        }
    }

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
    let mut clock_month = rows
        .first()
        .map_or(0, |&r| cal::month_of(ev.at[r as usize]));
    let mut next_close = cal::month_start(clock_month + 1);
    let mut months = Months::new();

    let mut out = Cols::with_capacity(rows.len());
    // Percentages as (mantissa, 10^(scale + 2)) in 64 bits: the compiler checked scales.
    let pct64 = |f: &super::compile::Fixed| -> (i64, i64) {
        (f.mantissa as i64, pow10(f.scale + 2) as i64)
    };
    let rates: Vec<(i64, i64)> = match &plan.price {
        Price::Percent(f) => vec![pct64(f)],
        Price::ByTier(by) => by.iter().map(pct64).collect(),
        Price::Flat(_) => Vec::new(),
    };
    let flat = match &plan.price {
        Price::Flat(f) => Some(*f),
        _ => None,
    };
    // The cap rounded down to minor units: room = max(cap − used, 0) rounded down is
    // floor(cap) − used for whole-unit `used` (caps are not negative).
    let cap_floor = plan.max_month.map(|c| c.to_minor(digits, Rounding::Down));
    for &row in &rows {
        let r = row as usize;
        let at = ev.at[r];
        if at >= next_close
            && let Some(b) = book.as_mut()
        {
            while cal::month_start(clock_month + 1) <= at {
                b.close(cal::month_start(clock_month + 1), digits);
                clock_month += 1;
            }
            next_close = cal::month_start(clock_month + 1);
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
                    let mut amt = match flat {
                        Some(f) => f,
                        None => {
                            let l = book.as_ref().map_or(0, |b| usize::from(b.current[pi]));
                            let Some(&(m, den)) = rates.get(l) else {
                                return bail("a tier without a rate");
                            };
                            mul_div(base, m, den, rounding)
                        }
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
                    let month = if cap_floor.is_some() {
                        (months.of(at) - m0) as usize
                    } else {
                        0
                    };
                    if let Some(cap) = cap_floor {
                        let room = (cap - i128::from(tally[pi * span + month])).max(0);
                        if amt > room {
                            amt = room;
                        }
                    }
                    let Ok(a64) = i64::try_from(amt) else {
                        return bail("an amount beyond 64-bit minor units");
                    };
                    if a64 != 0 {
                        entry = out.len() as u32;
                        out.push(Rec {
                            kind: EntryKind::Commission,
                            partner: p,
                            event: row,
                            customer: c as u32,
                            reverses: NONE,
                            amount: a64,
                            earned: at,
                            available: at + plan.hold_ns,
                        });
                        if cap_floor.is_some() {
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
                    let orig = out.get(idx);
                    let e = orig.amount;
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
                        let orig_available = orig.available;
                        let earned = orig.earned;
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
                            let pi = orig.partner;
                            out.push(Rec {
                                kind: EntryKind::Reversal,
                                partner: pi,
                                event: row,
                                customer: orig.customer,
                                reverses: idx as u32,
                                amount: -delta,
                                earned: at,
                                available,
                            });
                            if cap_floor.is_some() {
                                let month = (months.of(earned) - m0) as usize;
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
#[inline(never)]
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
                let ord =
                    t.at.cmp(&b.at)
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
#[inline(never)]
fn settle(plan: &FastPlan, n_partners: usize, out: &Cols, as_of: i64) -> Result<Vec<Status>, Bail> {
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
fn finish(
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
