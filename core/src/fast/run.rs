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

use super::book::{Acc, Book, Hot};
use super::cal::{self, DAY_NS};
use super::columns::{Events, NONE, REFUND_DIGITS};
use super::compile::{FastPlan, Price, pow10, round_div};
use super::out::{Cols, Folded, Months, Rec, settle};
use super::prepare::{canonical_rows, partner_index, scan_ids};
use crate::input::{Kind, Partner};
use crate::ledger::EntryKind;
use crate::money::Rounding;
use crate::plan::{Channel, Clawback};

/// Why the fold gave up: the canonical path decides this input.
pub(crate) struct Bail(pub String);

pub(super) fn bail<T>(why: impl Into<String>) -> Result<T, Bail> {
    Err(Bail(why.into()))
}

/// A customer's credit once decided without a partner (`NONE`: not decided yet).
pub(super) const UNATTRIBUTED: u32 = NONE - 1;

/// A touch kept until its customer's first conversion (a linked list per customer).
#[derive(Clone, Copy)]
pub(super) struct TouchRec {
    pub(super) at: i64,
    pub(super) row: u32,
    pub(super) partner: u32,
    pub(super) rank: u8,
    pub(super) channel: Channel,
    /// The customer's previous touch, or NONE.
    pub(super) next: u32,
}

impl TouchRec {
    /// The touch on row `r` (canonical position `row`, at `at`) as both folds keep it:
    /// its declared partner (through `touch_partner`), its channel and the channel's rank
    /// under `plan`, linked to the customer's previous touch `next`.
    #[inline(always)]
    pub(super) fn of(
        plan: &FastPlan,
        ev: &Events,
        touch_partner: &[u32],
        r: usize,
        row: u32,
        at: i64,
        next: u32,
    ) -> TouchRec {
        let ch = ev.channel[r];
        TouchRec {
            at,
            row,
            partner: touch_partner[ev.partner[r] as usize],
            rank: plan.rank[super::compile::channel_index(ch)],
            channel: ch,
            next,
        }
    }
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

/// `a × b / den` rounded with `mode`: in 32 bits when the product and the denominator fit
/// (a commission on an everyday amount: a 32-bit division is several times cheaper than a
/// 64-bit one), else in 64 bits when the product fits, else in 128. Inlined into the fold:
/// a call per payment would spill its registers.
#[inline(always)]
pub(super) fn mul_div(a: i64, b: i64, den: i64, mode: Rounding) -> i128 {
    match a.checked_mul(b) {
        Some(p) => match (i32::try_from(p), i32::try_from(den)) {
            // A percentage divides by a power of ten: as a constant, the division is a
            // multiply and a shift, where a divisor known only at run time is a hardware
            // division whose latency the commission waits on (the fold's costliest
            // instruction in the profile). Anything else divides as it comes.
            (Ok(p), Ok(d)) if d > 0 => i128::from(match d {
                100 => round_div(p, 100, mode),
                1_000 => round_div(p, 1_000, mode),
                10_000 => round_div(p, 10_000, mode),
                100_000 => round_div(p, 100_000, mode),
                _ => round_div(p, d, mode),
            }),
            _ => i128::from(round_div(p, den, mode)),
        },
        None => round_div(i128::from(a) * i128::from(b), i128::from(den), mode),
    }
}

/// What a refund or chargeback at row `r` takes back of a payment that was `applied` and of
/// which `left` minor units are not refunded yet: the refund's amount in the plan's minor
/// units, or all that is left for a chargeback. `Err` names what the canonical path must
/// decide. Both folds (serial and sharded) call this, so they check and take back alike.
#[inline(always)]
pub(super) fn taken_back(
    plan: &FastPlan,
    ev: &Events,
    r: usize,
    applied: bool,
    left: i64,
) -> Result<i64, &'static str> {
    if !applied {
        return Err("a refund of a payment not applied before it");
    }
    if ev.currency[r].is_some_and(|c| c != plan.currency) {
        return Err("a refund in another currency than its payment");
    }
    if ev.kind[r] != Kind::Refund {
        return Ok(left);
    }
    let digits = plan.digits;
    let scale = pow10(REFUND_DIGITS - digits.min(REFUND_DIGITS)) as i64;
    let a = ev.amount[r];
    if a % scale != 0 {
        return Err("a refund with more decimals than its currency");
    }
    let a = a / scale;
    if a > left {
        return Err("a refund exceeding its payment");
    }
    Ok(a)
}

/// The part of a commission `commission` reversed once `refunded` of the payment's
/// `amount` is refunded, short of all of it (a full refund reverses the commission
/// exactly), rounded as the plan rounds.
#[inline(always)]
pub(super) fn reversed_by(commission: i64, refunded: i64, amount: i64, mode: Rounding) -> i64 {
    mul_div(commission, refunded, amount, mode) as i64
}

/// When a reversal written at `at` of a commission earned at `earned` and available at
/// `available` becomes available: with the commission while it is held; after payout, at
/// once if the plan claws back (within its days), else `None` (no reversal entry).
#[inline(always)]
pub(super) fn reversal_available(
    plan: &FastPlan,
    at: i64,
    earned: i64,
    available: i64,
) -> Option<i64> {
    if at < available {
        return Some(available);
    }
    match &plan.clawback {
        Clawback::Always => Some(at),
        Clawback::Never => None,
        Clawback::WithinDays(n) => (at <= earned + i64::from(*n) * DAY_NS).then_some(at),
    }
}

/// Runs the fold: the entries and their statuses, in canonical event order (names are
/// attached by [`super::out::finish`]). `Err(Bail)` hands the input to the canonical path.
pub(crate) fn run(
    plan: &FastPlan,
    partner_currency: bool,
    partners: &[Partner],
    ev: &Events,
    as_of: i64,
    limits: &crate::Limits,
) -> Result<Folded, Bail> {
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
    let ids = scan_ids(ev)?;
    let n_refs = ev.payments.strings.len();
    let rows = canonical_rows(ev, as_of);
    // The canonical fold closes at most `max_periods` period ends (each a tier evaluation)
    // between the first event and `as_of`: a span near that is left to it, and it decides
    // whether the input is an error. Two months of margin cover the plan's zone offset.
    if plan.tiers.is_some()
        && let Some((first, _)) = rows.ends()
    {
        let months = cal::month_of(as_of) - cal::month_of(ev.at[first]);
        let max = i64::try_from(limits.max_periods).unwrap_or(i64::MAX);
        if months >= max - 2 {
            return bail("more month ends than the canonical limit on period ends");
        }
    }

    let digits = plan.digits;
    let rounding = plan.rounding;
    let n_customers = ev.customers.strings.len();
    // Plans whose pricing reads no partner state fold on several threads, a shard of
    // customers each, and give these same entries (see `shard`).
    let shards = super::shard::count(plan, rows.len());
    if shards > 1 {
        let out = super::shard::run(
            plan,
            partners.len(),
            ev,
            &rows,
            &touch_partner,
            &ids.named,
            ids.touches,
            ids.spare,
            shards,
        )?;
        drop(rows);
        return settled(plan, partners.len(), out, as_of, limits);
    }

    // Per customer: NONE = undecided; UNATTRIBUTED = decided, unattributed; else the
    // partner.
    let mut credit = vec![NONE; n_customers];
    let mut head = vec![NONE; n_customers];
    let mut touches: Vec<TouchRec> = Vec::with_capacity(ids.touches);
    let mut pays = vec![PayRec::default(); n_refs];

    // Per partner: the level, the month's tier metrics and the month's cap tally, in one
    // cache line (a payment touches one partner line, not three tables).
    let mut hot = vec![
        Hot {
            level: plan.tiers.as_ref().map_or(0, |t| t.floor as u16),
            tally_from: i64::MIN,
            ..Hot::default()
        };
        partners.len()
    ];
    let mut book = plan.tiers.as_ref().map(|t| {
        let n = partners.len();
        Book {
            t,
            failed: vec![0; n],
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
    if let Some(t) = plan.tiers.as_ref() {
        for (i, p) in partners.iter().enumerate() {
            if let Some(tier) = &p.tier {
                match t.ids.iter().position(|l| l == tier) {
                    Some(l) => hot[i].level = l as u16,
                    None => return bail("a partner tier that is not a level"),
                }
            }
        }
    }
    // Tier clock: the month whose end is the next close, once the first event came.
    let mut clock_month = rows.ends().map_or(0, |(r, _)| cal::month_of(ev.at[r]));
    let mut next_close = cal::month_start(clock_month + 1);
    let mut months = Months::new();

    let mut out = Cols::with_capacity(rows.len(), ids.spare);
    let mut named = ids.named.cursor();
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
    for i in 0..rows.len() {
        let row = rows.get(i);
        let r = row as usize;
        let at = ev.at[r];
        if at >= next_close
            && let Some(b) = book.as_mut()
        {
            while cal::month_start(clock_month + 1) <= at {
                b.close(&mut hot, cal::month_start(clock_month + 1), digits);
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
                touches.push(TouchRec::of(plan, ev, &touch_partner, r, row, at, head[c]));
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
                    let Some(h) = hot.get_mut(p as usize) else {
                        return bail("a credit to an undeclared partner");
                    };
                    let mut amt = match flat {
                        Some(f) => f,
                        None => {
                            let Some(&(m, den)) = rates.get(usize::from(h.level)) else {
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
                    if let Some(cap) = cap_floor {
                        months.of(at);
                        if h.tally_from != months.lo {
                            h.tally_from = months.lo;
                            h.tally = 0;
                        }
                        let room = (cap - i128::from(h.tally)).max(0);
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
                        })?;
                        h.tally += a64;
                    }
                    if book.is_some() {
                        let m = &mut h.month;
                        m.conversions += 1;
                        m.revenue += base;
                        m.referrals += i64::from(new_referral);
                        m.commission += a64;
                    }
                }
                let s = named.at(row);
                if s != 0 {
                    pays[s as usize - 1] = PayRec {
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
                let now = match taken_back(plan, ev, r, rec.applied, rec.amount - rec.refunded) {
                    Ok(now) => now,
                    Err(why) => return bail(why),
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
                    let target = if full {
                        orig.amount
                    } else {
                        reversed_by(orig.amount, total, rec.amount, rounding)
                    };
                    let delta = target - rec.accounted;
                    rec.accounted = target;
                    if delta != 0 {
                        let orig_available = orig.available;
                        let earned = orig.earned;
                        if let Some(available) =
                            reversal_available(plan, at, earned, orig_available)
                        {
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
                            })?;
                            let h = &mut hot[pi as usize];
                            // Only the month of the partner's latest payment is read again
                            // (see `Hot::tally_from`): an entry earned before it is
                            // counted in a month that is over.
                            if earned >= h.tally_from {
                                h.tally -= delta;
                            }
                            if book.is_some() {
                                h.month.commission -= delta;
                            }
                        }
                    }
                }
                if book.is_some() && rec.partner != NONE && rec.amount != 0 {
                    let cut = |x: i64| -> i64 {
                        if x >= rec.amount {
                            rec.revenue
                        } else {
                            mul_div(rec.revenue, x, rec.amount, rounding) as i64
                        }
                    };
                    hot[rec.partner as usize].month.revenue -= cut(total) - cut(before);
                }
                pays[s] = rec;
            }
            _ => return bail("an event kind the fast path does not fold"),
        }
    }
    drop(rows);
    settled(plan, partners.len(), out, as_of, limits)
}

/// The folded entries with their statuses from the statements (`settle`): the end of
/// [`run`], whichever fold wrote the entries.
fn settled(
    plan: &FastPlan,
    n_partners: usize,
    out: Cols,
    as_of: i64,
    limits: &crate::Limits,
) -> Result<Folded, Bail> {
    let status = settle(
        plan,
        n_partners,
        &out,
        as_of,
        limits.max_statements_per_partner,
    )?;
    Ok(Folded { out, status })
}

/// Attribution at a customer's first conversion: the eligible touches (within the window),
/// the best-ranked channel among them, then the latest (or, under first touch or for deal
/// registrations, the earliest) by instant then event id.
#[inline(never)]
pub(super) fn decide(
    plan: &FastPlan,
    ev: &Events,
    touches: &[TouchRec],
    head: u32,
    at: i64,
) -> Option<u32> {
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

#[cfg(test)]
mod tests {
    use super::{mul_div, round_div};
    use crate::money::Rounding;

    /// The 32-bit route rounds as the 64-bit one does, in every mode, across halves, exact
    /// quotients, zero, negatives and the edges of the 32-bit range.
    #[test]
    fn mul_div_agrees_with_round_div() {
        let modes = [
            Rounding::Down,
            Rounding::Up,
            Rounding::HalfUp,
            Rounding::HalfEven,
        ];
        let values = [
            0i64,
            1,
            5,
            15,
            25,
            35,
            49,
            50,
            51,
            99,
            100,
            149,
            150,
            250,
            12_345,
            429_496_729,
            4_294_967_295,
            4_294_967_296,
            -1,
            -50,
            -150,
        ];
        for mode in modes {
            for &a in &values {
                for (b, den) in [
                    (1, 1),
                    (1, 2),
                    (10, 100),
                    (15, 100),
                    (1, 3),
                    (7, 4_294_967_295),
                    (20, 100),
                    (-3, 100),
                    (75, 1_000),
                    (125, 10_000),
                    (33_333, 100_000),
                    (1, 1_000_000),
                ] {
                    let want = i128::from(round_div(a * b, den, mode));
                    assert_eq!(mul_div(a, b, den, mode), want, "{a} × {b} / {den} {mode:?}");
                }
            }
        }
    }
}
