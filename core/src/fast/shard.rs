//! The fold sharded by customer, for plans whose pricing reads no partner state.
//!
//! Without tiers, volume bands and caps (by the period or the customer), nothing the
//! fold reads of a partner changes while it folds: a payment's commission depends on its customer's attribution (the customer's
//! own touches), on the customer's own payments (a rule's `payment_number` and
//! `within_months`), on the payment (its amount, product, currency and instant) and on
//! the partner's declared fields (`partner`, `segment`, `attributes` conditions); a
//! refund's reversal depends on the payment it names and that payment's earlier refunds.
//! The serial fold keeps tiers, bands and caps, and
//! [`FastPlan::compile`] every other partner- or program-level state (bonuses,
//! overrides, statuses, fraud checks) on the canonical path, so a plan the shards take
//! couples no two customers. Each shard then folds the rows of its own
//! customers (a refund belongs to its payment's customer) in canonical order, exactly as
//! the serial fold would, and keeps the entries with their canonical positions. A row
//! makes one entry at most, so merging the shards' entries by position gives the serial
//! fold's entries in the serial fold's order; statements and the report order then run
//! on them as they do after the serial fold.
//!
//! A bail is kept with its position: the serial fold stops at the first row it cannot
//! fold, which is the earliest bail of any shard (a shard's rows see the same state as in
//! the serial fold, and rows before the earliest bail folded in every shard), so the same
//! reason reaches the canonical path.

use rayon::prelude::*;

use super::columns::{Events, NONE};
use super::compile::{FastPlan, Price};
use super::fx::Payout;
use super::out::{Cols, free_later};
use super::prepare::{Named, Rows};
use super::run::{
    Back, Bail, Credit, Customers, Pay, PayCurrencies, RuleCond, TouchRec, UNATTRIBUTED, Unit,
    Units, credited, deciding, flat_in, foreign_payment, minor64, priced, refund, revenue,
};
use crate::input::{Kind, Partner};
use crate::ledger::EntryKind;

/// Most shards: each shard reads every row's kind and owner, so past a few the reading
/// costs more than the split saves.
const MAX_SHARDS: usize = 8;
/// Fewest rows worth sharding: below this the pool's hand-over costs more than the fold.
const MIN_ROWS: usize = 1 << 12;
/// Entries a task of the merge's pass over reversal links takes.
const CHUNK: usize = 1 << 16;

/// How many shards fold `rows` rows under `plan` on the current pool; 1: the serial fold
/// (one thread, a small input, or a plan whose pricing reads partner state).
pub(super) fn count(plan: &FastPlan, rows: usize) -> usize {
    let threads = rayon::current_num_threads().min(MAX_SHARDS);
    // Tiers (levels and their metrics), volume bands (the partner's running metric) and
    // the period cap (the partner's period tally) are the partner state a compiled plan
    // reads; `percent_by_tier` needs tiers. The customer cap is the serial fold's too.
    // Conditions read the payment, its customer (in its shard) and the partner's declared
    // fields, and without caps a rule's quote is its price and limits: several rules
    // shard, under `first_match` or `max`.
    let independent = plan.tiers.is_none()
        && plan
            .rules
            .iter()
            .all(|rule| !rule.capped() && matches!(rule.price, Price::Percent(_) | Price::Flat(_)));
    if threads < 2 || rows < MIN_ROWS || !independent {
        1
    } else {
        threads
    }
}

/// One shard's entries in canonical order, with their positions in it.
///
/// A commission is a position, a partner and an amount: its customer is its row's, and
/// it is available `hold_ns` after its row's instant, so the merge reads both from the
/// row rather than the fold writing them for every entry. Reversals (a refund's, a
/// chargeback's: a few in a hundred entries) keep what the row does not say beside.
struct Part {
    pos: Vec<u32>,
    partner: Vec<u32>,
    amount: Vec<i64>,
    /// Each entry's rule (a reversal's is its commission's), when the plan has several;
    /// else empty.
    rule: Vec<u32>,
    /// The shard's reversals, by entry index ascending.
    reversals: Vec<Reversal>,
    /// Whether a payment of the shard is in another currency than the plan's.
    foreign: bool,
}

/// What a reversal entry holds beyond its position, partner and amount.
#[derive(Clone, Copy)]
struct Reversal {
    /// Its index among the shard's entries.
    entry: u32,
    /// The shard's index of the commission it reverses.
    reverses: u32,
    /// The customer of the payment it reverses.
    customer: u32,
    /// When it comes off the partner's balance.
    available: i64,
}

impl Part {
    fn with_capacity(n: usize) -> Part {
        // Sized for every row: only the pages written are ever touched.
        Part {
            pos: Vec::with_capacity(n),
            partner: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
            rule: Vec::new(),
            reversals: Vec::new(),
            foreign: false,
        }
    }

    /// Appends a commission at canonical position `pos`; its index among the shard's
    /// entries.
    #[inline(always)]
    fn commission(&mut self, pos: usize, partner: u32, amount: i64) -> u32 {
        let entry = self.pos.len() as u32;
        self.pos.push(pos as u32);
        self.partner.push(partner);
        self.amount.push(amount);
        entry
    }

    /// Appends a reversal at canonical position `pos` of the shard's entry `reverses`.
    fn reversal(
        &mut self,
        pos: usize,
        partner: u32,
        amount: i64,
        reverses: u32,
        customer: u32,
        available: i64,
    ) {
        let entry = self.commission(pos, partner, amount);
        self.reversals.push(Reversal {
            entry,
            reverses,
            customer,
            available,
        });
    }
}

/// What every shard reads.
struct Ctx<'a> {
    plan: &'a FastPlan,
    n_partners: usize,
    ev: &'a Events,
    rows: &'a Rows,
    touch_partner: &'a [u32],
    named: &'a Named,
    /// How many shards.
    shards: usize,
    /// Per payment a refund names: the shard of its customer (0 for a payment the input
    /// does not hold: that shard's fold then bails where the serial fold does).
    slot_owner: Vec<u8>,
    touches: usize,
    /// Each rule's price (no tiers: every partner at level 0).
    units: Vec<Unit>,
    /// The declared partners (for the rules' partner conditions).
    partners: &'a [Partner],
    /// The input's rates (a flat reward converts to a payment's currency).
    payout: &'a Payout,
}

/// The fold on `shards` shards: the serial fold's entries, in its order, written into
/// columns sized for `rows` (the instant columns reuse `spare`).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    plan: &FastPlan,
    partners: &[Partner],
    ev: &Events,
    rows: &Rows,
    touch_partner: &[u32],
    named: &Named,
    touches: usize,
    spare: [Vec<u64>; 2],
    shards: usize,
    payout: &Payout,
) -> Result<Cols, Bail> {
    // Without tiers every partner is at level 0; rates by tier fold serially (`count`).
    let mut units = Vec::with_capacity(plan.rules.len());
    for rule in &plan.rules {
        match Units::of(&rule.price).at(0) {
            Some(unit) if !matches!(rule.price, Price::ByTier(_)) => units.push(unit),
            _ => return super::run::bail("a tier without a rate"),
        }
    }
    let mut slot_owner = vec![0u8; ev.payments.strings.len()];
    for &(row, s) in named.pairs() {
        slot_owner[s as usize] = owner(ev.customer[row as usize], shards);
    }
    let cx = Ctx {
        plan,
        n_partners: partners.len(),
        ev,
        rows,
        touch_partner,
        named,
        shards,
        slot_owner,
        touches,
        units,
        partners,
        payout,
    };
    // Credits in two bytes a customer when every partner's index fits: at half a million
    // customers on two shards, a shard's credits are then half a megabyte, which stays in
    // a core's L2 cache where four bytes a customer (a megabyte) did not.
    let narrow = cx.n_partners <= usize::from(Credit16::UNATTRIBUTED);
    let folded: Vec<Result<Part, (usize, Bail)>> = (0..shards)
        .into_par_iter()
        .map(|s| {
            if narrow {
                fold::<Credit16>(&cx, s as u8)
            } else {
                fold::<u32>(&cx, s as u8)
            }
        })
        .collect();
    let mut parts = Vec::with_capacity(shards);
    let mut first: Option<(usize, Bail)> = None;
    for f in folded {
        match f {
            Ok(p) => parts.push(p),
            Err((pos, why)) => {
                if first.as_ref().is_none_or(|(at, _)| pos < *at) {
                    first = Some((pos, why));
                }
            }
        }
    }
    if let Some((_, why)) = first {
        return Err(why);
    }
    // The merged columns, sized for the entries the shards wrote, are made ready once
    // they are known: zeroing them beside the fold (at the bound of a row each) took one
    // of the fold's threads away.
    let total = parts.iter().map(|p| p.pos.len()).sum();
    let mut out = Cols::zeroed(total, spare);
    out.foreign = parts.iter().any(|p| p.foreign);
    if !merge(&parts, shards, ev, rows, plan, &mut out) {
        return super::run::bail(super::run::PAST_LAST_INSTANT);
    }
    // The shards' entries (over a hundred MB at ten million rows) are given back on another
    // thread while statements are drawn up.
    free_later((parts, cx.slot_owner));
    Ok(out)
}

/// Shard `me`'s fold: the serial fold's steps for its own rows, through the same functions
/// (`run`'s `credited`, `revenue`, `priced`, `minor64`, `Pay::paid` and `refund`); the
/// serial fold's tier, cap and tier-metric steps do nothing for these plans.
fn fold<C: Credit>(cx: &Ctx, me: u8) -> Result<Part, (usize, Bail)> {
    let (plan, ev, rows) = (cx.plan, cx.ev, cx.rows);
    let n_customers = ev.customers.strings.len();
    // A shard's own customers only (`c % shards == me`), each at `c / shards`: the
    // shard's customer state is a `shards`-th of the whole, so more of it stays in the
    // core's cache when customers come in no order.
    let shards = cx.shards;
    let n_local = n_customers.div_ceil(shards);
    let mut credit = vec![C::NONE; n_local];
    let mut head = vec![NONE; n_local];
    // The rules' conditions over the shard's customers (by their local index).
    let mut conds: Vec<Option<RuleCond>> = plan
        .rules
        .iter()
        .map(|rule| {
            rule.cond
                .as_ref()
                .map(|k| RuleCond::new(plan, ev, k, cx.partners, n_local))
        })
        .collect();
    let mut customers = Customers::new(&plan.rules, n_local);
    let several = plan.rules.len() > 1;
    let mut touches: Vec<TouchRec> = Vec::with_capacity(cx.touches);
    let mut pays = vec![Pay::default(); ev.payments.strings.len()];
    let mut pay_currency = PayCurrencies::new(pays.len());
    let mut fx = cx.payout.converter();
    let mut part = Part::with_capacity(rows.len());
    let mut slots = cx.named.cursor();
    let owners = Owners {
        ev,
        slot_owner: &cx.slot_owner,
        shards,
    };
    // Which rows are this shard's, 64 at a time as the bits of a word, then a visit of
    // the set bits: whether a row is the shard's own is a coin toss for the branch
    // predictor when customers come in no order, where the loop over a word's bits
    // mispredicts about once a word.
    let n = rows.len();
    let mut block = 0;
    while block < n {
        let first = block;
        let end = (first + 64).min(n);
        block = end;
        let mut mine = owners.mine(rows, me, first, end);
        while mine != 0 {
            let i = first + mine.trailing_zeros() as usize;
            mine &= mine - 1;
            let row = rows.get(i);
            let r = row as usize;
            let kind = ev.kind[r];
            let stop = |why: &str| Err((i, Bail(why.to_owned())));
            let at = ev.at[r];
            match kind {
                Kind::Touch => {
                    let c = ev.customer[r] as usize;
                    let lc = local(c, shards);
                    if credit[lc] != C::NONE {
                        continue;
                    }
                    touches.push(TouchRec::of(
                        plan,
                        ev,
                        cx.touch_partner,
                        r,
                        row,
                        at,
                        head[lc],
                    ));
                    head[lc] = (touches.len() - 1) as u32;
                }
                Kind::Payment => {
                    if ev.currency[r] != Some(plan.currency) {
                        if let Err(why) = foreign_payment(plan) {
                            return stop(why);
                        }
                        part.foreign = true;
                    }
                    let c = ev.customer[r] as usize;
                    let lc = local(c, shards);
                    // The serial fold's steps for the rules' conditions: the deciding
                    // touch's channel and campaign while the customer is undecided, the
                    // payment counted whether credited or not.
                    if customers.reads_touch() && credit[lc] == C::NONE {
                        let t = deciding(plan, ev, &touches, head[lc], at);
                        customers.deciding(lc, ev, t);
                    }
                    let (p, _) = credited(plan, ev, &touches, &mut credit[lc], &mut head[lc], at);
                    let base = revenue(plan, ev, r);
                    let n = if customers.counted() {
                        match customers.paying(plan, conds.iter_mut().flatten(), lc, at) {
                            Ok(n) => n,
                            Err(why) => return stop(why),
                        }
                    } else {
                        0
                    };
                    let mut entry = NONE;
                    let mut commission = 0;
                    if p != UNATTRIBUTED {
                        if p as usize >= cx.n_partners {
                            return stop("a credit to an undeclared partner");
                        }
                        // `first_match`: the first rule whose conditions hold; `max`: of
                        // those that hold, the largest amount, the earlier rule on a tie
                        // (as the serial fold quotes them).
                        let (amount, currency, product) =
                            (ev.amount[r], ev.currency[r], ev.product.get(r));
                        let mut paying: Option<(usize, i128)> = None;
                        for (ri, k) in conds.iter().enumerate() {
                            let holds = k.as_ref().is_none_or(|k| {
                                k.holds(
                                    &customers, p as usize, lc, 0, at, amount, currency, product, n,
                                )
                            });
                            if !holds {
                                continue;
                            }
                            let amt = priced(plan, &plan.rules[ri], cx.units[ri], base);
                            if paying.is_none_or(|(_, best)| amt > best) {
                                paying = Some((ri, amt));
                            }
                            if !plan.combine_max {
                                break;
                            }
                        }
                        if let Some((ri, mut amt)) = paying {
                            let unit = cx.units[ri];
                            if let (true, Unit::Flat(flat)) = (part.foreign, unit) {
                                amt = match flat_in(plan, &mut fx, ev, r, flat) {
                                    Ok(x) => x,
                                    Err(why) => return Err((i, why)),
                                };
                            }
                            let a64 = match minor64(amt) {
                                Ok(a64) => a64,
                                Err(why) => return stop(why),
                            };
                            if a64 != 0 {
                                entry = part.commission(i, p, a64);
                                if several {
                                    part.rule.push(ri as u32);
                                }
                            }
                            commission = a64;
                        }
                    }
                    let s = slots.at(row);
                    if s != 0 {
                        pays[s as usize - 1] =
                            Pay::paid(ev.amount[r], base, at, p, c as u32, entry, commission);
                        if part.foreign {
                            pay_currency.note(plan, ev, r, s as usize - 1);
                        }
                    }
                }
                Kind::Refund | Kind::Chargeback => {
                    let slot = ev.payment[r] as usize;
                    let cur = pay_currency.get(plan, slot);
                    let rec = &mut pays[slot];
                    match refund(plan, ev, r, at, rec, cur) {
                        Ok(Some(Back {
                            reversal: Some((delta, available)),
                            ..
                        })) => {
                            part.reversal(
                                i,
                                rec.partner,
                                -delta,
                                rec.entry,
                                rec.customer,
                                available,
                            );
                            // A reversal is under its commission's rule.
                            if several {
                                let ri = part.rule.get(rec.entry as usize).copied();
                                part.rule.push(ri.unwrap_or(NONE));
                            }
                        }
                        Ok(_) => {}
                        Err(why) => return stop(why),
                    }
                }
                // No compiled plan rewards signups (see the serial fold).
                Kind::Signup => {}
                _ => return stop("an event kind the fast path does not fold"),
            }
        }
    }
    Ok(part)
}

/// A credit in two bytes, for at most [`Credit16::UNATTRIBUTED`] partners (indices below
/// it; the two values above it mark no partner and no decision).
#[derive(Clone, Copy, PartialEq)]
struct Credit16(u16);

impl Credit16 {
    /// [`UNATTRIBUTED`] in two bytes.
    const UNATTRIBUTED: u16 = u16::MAX - 1;
}

impl Credit for Credit16 {
    const NONE: Credit16 = Credit16(u16::MAX);
    #[inline(always)]
    fn of(p: u32) -> Credit16 {
        // Partner indices are below `UNATTRIBUTED` when this type is used (`run`): a credit
        // past them stops the fold right after it is stored (a credit to an undeclared
        // partner), so the clamped value is never read.
        Credit16(match p {
            UNATTRIBUTED => Credit16::UNATTRIBUTED,
            p => u16::try_from(p).unwrap_or(Credit16::UNATTRIBUTED),
        })
    }
    #[inline(always)]
    fn partner(self) -> u32 {
        match self.0 {
            Credit16::UNATTRIBUTED => UNATTRIBUTED,
            p => u32::from(p),
        }
    }
}

/// What decides which shard folds a row: the rows' kinds, customers and named payments,
/// and the shard of each named payment's customer.
#[derive(Clone, Copy)]
struct Owners<'a> {
    ev: &'a Events,
    /// Per payment a refund names: the shard of its customer (`Ctx::slot_owner`).
    slot_owner: &'a [u8],
    shards: usize,
}

impl Owners<'_> {
    /// The shard whose customer row `r` concerns: a touch's or a payment's customer's, a
    /// refund's or a chargeback's payment's customer's (shard 0 for a payment the input
    /// does not hold, and for a kind the shards do not fold: that shard's fold bails where
    /// the serial fold does).
    #[inline(always)]
    fn of(&self, r: usize) -> u8 {
        let ev = self.ev;
        match ev.kind[r] {
            Kind::Touch | Kind::Payment => owner(ev.customer[r], self.shards),
            Kind::Refund | Kind::Chargeback => self
                .slot_owner
                .get(ev.payment[r] as usize)
                .copied()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Which of the canonical positions `first..end` (at most 64) of `rows` are shard
    /// `me`'s, as the bits of a word (bit `i - first` for position `i`).
    #[inline(always)]
    fn mine(&self, rows: &Rows, me: u8, first: usize, end: usize) -> u64 {
        match rows {
            Rows::InOrder(_) => self.mine_in_order(me, first, end),
            Rows::Sorted(_) => {
                let mut mine = 0u64;
                for i in first..end {
                    mine |= u64::from(self.of(rows.get(i) as usize) == me) << (i - first);
                }
                mine
            }
        }
    }

    /// [`Owners::mine`] for a log in canonical order (position `i` is row `i`), in two
    /// steps: every row by its kind and customer without a branch (a touch's or a
    /// payment's shard is its customer's, a kind the shards do not fold is shard 0's),
    /// then only the refunds and chargebacks, through their payment's shard. Every shard
    /// runs this on every row: row by row through [`Owners::of`]'s `match`, it took 27
    /// instructions a row more, two shards together (see `bench/README.md`, twenty-second
    /// session).
    #[inline(always)]
    fn mine_in_order(&self, me: u8, first: usize, end: usize) -> u64 {
        let ev = self.ev;
        let (kinds, customers) = (&ev.kind[first..end], &ev.customer[first..end]);
        // The usual two shards by a mask, the rest by the general `owner`.
        let (mut mine, mut refunds) = match self.shards {
            2 => by_customer(kinds, customers, me, |c| (c & 1) as u8),
            shards => by_customer(kinds, customers, me, |c| owner(c, shards)),
        };
        while refunds != 0 {
            let b = refunds.trailing_zeros();
            refunds &= refunds - 1;
            if self.of(first + b as usize) == me {
                mine |= 1 << b;
            }
        }
        mine
    }
}

/// [`Owners::mine_in_order`]'s first step: the bits of the rows that are shard `me`'s by
/// their kind and customer (`owner_of`), and the bits of the refunds and chargebacks,
/// which that step leaves out. A flag byte per row first, in a loop without a branch or a
/// value carried from row to row (which the compiler can run on vector registers), then
/// the flags packed eight at a time.
#[inline(always)]
fn by_customer(
    kinds: &[Kind],
    customers: &[u32],
    me: u8,
    owner_of: impl Fn(u32) -> u8,
) -> (u64, u64) {
    let (mut mine, mut refunds) = ([0u8; 64], [0u8; 64]);
    let rows = kinds.iter().zip(customers);
    for ((m, f), (&k, &c)) in mine.iter_mut().zip(refunds.iter_mut()).zip(rows) {
        let direct = matches!(k, Kind::Touch | Kind::Payment);
        let refund = matches!(k, Kind::Refund | Kind::Chargeback);
        let who = if direct { owner_of(c) } else { 0 };
        *m = u8::from(!refund & (who == me));
        *f = u8::from(refund);
    }
    (packed(&mine), packed(&refunds))
}

/// 64 flags (each byte 0 or 1) as the bits of a word, flag `i` at bit `i`: each eight
/// bytes read as a little-endian word whose one multiply gathers byte `i`'s low bit into
/// bit `56 + i` (every other product lands below bit 56 without carries, or above bit 63).
#[inline(always)]
fn packed(flags: &[u8; 64]) -> u64 {
    let mut bits = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(eight);
        let byte = u64::from_le_bytes(w).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        bits |= byte << (8 * k);
    }
    bits
}

/// The shard of customer `c`: customers are dealt round-robin, balanced whatever the order
/// they appear in. Computed rather than looked up: a table of a byte per customer is half
/// a megabyte at 500,000 customers, which every shard would read at random for every row.
/// [`local`] is the customer's index within that shard.
#[inline(always)]
fn owner(c: u32, shards: usize) -> u8 {
    let c = c as usize;
    (match shards {
        2 => c % 2,
        3 => c % 3,
        4 => c % 4,
        _ => c % shards,
    }) as u8
}

/// Customer `c`'s index among its shard's customers (`c % shards` is the shard). The usual
/// shard counts divide by a constant (a multiply and a shift, not a hardware division per
/// event).
#[inline(always)]
fn local(c: usize, shards: usize) -> usize {
    match shards {
        2 => c / 2,
        3 => c / 3,
        4 => c / 4,
        _ => c / shards,
    }
}

/// The output of one task of the merge: its share of every column of the merged entries.
struct Dest<'a> {
    /// The index in the merged columns of the first entry.
    first: usize,
    kind: &'a mut [EntryKind],
    partner: &'a mut [u32],
    event: &'a mut [u32],
    customer: &'a mut [u32],
    reverses: &'a mut [u32],
    amount: &'a mut [i128],
    earned: &'a mut [i64],
    available: &'a mut [i64],
    /// Per shard: the merged index of each of its entries this task merges.
    index: Vec<&'a mut [u32]>,
    /// Per shard: the first of its entries this task merges.
    from: Vec<usize>,
}

/// Cuts `v` into consecutive pieces at the offsets `at` (ascending, the last at most
/// `v.len()`; the first piece starts at `at[0]`).
fn pieces<'a, T>(v: &'a mut [T], at: &[usize]) -> Vec<&'a mut [T]> {
    let mut rest = &mut v[at[0]..];
    let mut out = Vec::with_capacity(at.len() - 1);
    for w in at.windows(2) {
        let (piece, after) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
        out.push(piece);
        rest = after;
    }
    out
}

/// The shards' entries by canonical position (a row makes one entry at most, so the
/// position orders them as the serial fold wrote them), each reversal then pointed at its
/// commission's index in the merged columns. Ranges of positions merge on rayon's
/// threads: a range's entries are a slice of each shard's, and its place in the merged
/// columns is the count of entries before it.
fn merge(
    parts: &[Part],
    shards: usize,
    ev: &Events,
    rows: &Rows,
    plan: &FastPlan,
    out: &mut Cols,
) -> bool {
    let n = rows.len();
    let total: usize = parts.iter().map(|p| p.pos.len()).sum();
    let tasks = (rayon::current_num_threads() * 4).clamp(1, n.max(1));
    // Per shard, per task boundary: its first entry at or after the boundary's position.
    let cut: Vec<Vec<usize>> = parts
        .iter()
        .map(|p| {
            (0..=tasks)
                .map(|g| {
                    let b = (g * n / tasks) as u64;
                    p.pos.partition_point(|&q| u64::from(q) < b)
                })
                .collect()
        })
        .collect();
    let at: Vec<usize> = (0..=tasks)
        .map(|g| cut.iter().map(|c| c[g]).sum())
        .collect();
    out.kind.resize(total, EntryKind::Commission);
    let mut index: Vec<Vec<u32>> = parts.iter().map(|p| vec![0; p.pos.len()]).collect();
    {
        let mut by_shard: Vec<std::vec::IntoIter<&mut [u32]>> = index
            .iter_mut()
            .zip(&cut)
            .map(|(v, c)| pieces(v, c).into_iter())
            .collect();
        let mut dests: Vec<Dest> = pieces(&mut out.kind, &at)
            .into_iter()
            .zip(pieces(&mut out.partner, &at))
            .zip(pieces(&mut out.event, &at))
            .zip(pieces(&mut out.customer, &at))
            .zip(pieces(&mut out.reverses, &at))
            .zip(pieces(&mut out.amount, &at))
            .zip(pieces(&mut out.earned, &at))
            .zip(pieces(&mut out.available, &at))
            .enumerate()
            .map(
                |(
                    g,
                    (
                        ((((((kind, partner), event), customer), reverses), amount), earned),
                        available,
                    ),
                )| {
                    Dest {
                        first: at[g],
                        kind,
                        partner,
                        event,
                        customer,
                        reverses,
                        amount,
                        earned,
                        available,
                        index: Vec::new(),
                        from: cut.iter().map(|c| c[g]).collect(),
                    }
                },
            )
            .collect();
        for d in &mut dests {
            d.index = by_shard.iter_mut().filter_map(Iterator::next).collect();
        }
        let fit = dests
            .par_iter_mut()
            .map(|d| merge_range(parts, ev, rows, plan, d))
            .reduce(|| true, |a, b| a && b);
        if !fit {
            return false;
        }
    }
    // Every entry placed: a reversal's commission is its customer's, so in its shard.
    let links = &index;
    out.reverses[..total]
        .par_chunks_mut(CHUNK)
        .zip(out.customer[..total].par_chunks(CHUNK))
        .for_each(|(rs, cs)| {
            for (r, &c) in rs.iter_mut().zip(cs) {
                if *r != NONE {
                    *r = links[usize::from(owner(c, shards))][*r as usize];
                }
            }
        });
    // Each entry's rule, when the plan has several: from its shard's entry to its place.
    if parts.iter().any(|p| !p.rule.is_empty()) {
        out.rule = vec![NONE; total];
        for (p, places) in parts.iter().zip(&index) {
            for (&ri, &k) in p.rule.iter().zip(places) {
                out.rule[k as usize] = ri;
            }
        }
    }
    free_later(index);
    true
}

/// One task of [`merge`]: its range's entries of every shard, by position. `false`: an
/// availability past what `i64` nanoseconds count (which `run` rules out before the fold).
fn merge_range(parts: &[Part], ev: &Events, rows: &Rows, plan: &FastPlan, d: &mut Dest) -> bool {
    let mut fit = true;
    let mut next = d.from.clone();
    let end: Vec<usize> = d
        .from
        .iter()
        .zip(&d.index)
        .map(|(f, i)| f + i.len())
        .collect();
    // Per shard, its first reversal at or after the range's first entry.
    let mut rev: Vec<usize> = parts
        .iter()
        .zip(&d.from)
        .map(|(p, &f)| p.reversals.partition_point(|r| (r.entry as usize) < f))
        .collect();
    // Per shard, the position of its next entry (u32::MAX once it has none left in the
    // range: no position reaches it), kept as entries are taken, so that choosing the
    // next entry compares one word per shard.
    let head_of = |t: usize, next: &[usize]| match next[t] < end[t] {
        true => parts[t].pos[next[t]],
        false => u32::MAX,
    };
    let mut head: Vec<u32> = (0..parts.len()).map(|t| head_of(t, &next)).collect();
    for k in 0..d.kind.len() {
        // The earliest position; the first shard's on a tie (positions are distinct).
        let (s, best) = match head[..] {
            [a, b] if b < a => (1, b),
            [a, _] => (0, a),
            _ => {
                let (mut s, mut best) = (0, u32::MAX);
                for (t, &h) in head.iter().enumerate() {
                    if h < best {
                        (s, best) = (t, h);
                    }
                }
                (s, best)
            }
        };
        let p = &parts[s];
        let j = next[s];
        next[s] += 1;
        head[s] = head_of(s, &next);
        d.index[s][j - d.from[s]] = (d.first + k) as u32;
        let row = rows.get(best as usize);
        let at = ev.at[row as usize];
        d.partner[k] = p.partner[j];
        d.event[k] = row;
        d.amount[k] = i128::from(p.amount[j]);
        d.earned[k] = at;
        match p.reversals.get(rev[s]) {
            // A reversal keeps its commission's index in the shard until every task has
            // placed its entries.
            Some(r) if r.entry as usize == j => {
                rev[s] += 1;
                d.kind[k] = EntryKind::Reversal;
                d.customer[k] = r.customer;
                d.reverses[k] = r.reverses;
                d.available[k] = r.available;
            }
            // A commission: its row's customer, available after the hold (as the serial
            // fold writes it).
            _ => {
                d.kind[k] = EntryKind::Commission;
                d.customer[k] = ev.customer[row as usize];
                d.reverses[k] = NONE;
                d.available[k] = match plan.available(at) {
                    Some(a) => a,
                    None => {
                        fit = false;
                        i64::MAX
                    }
                };
            }
        }
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::super::columns::Events;
    use super::super::compile::FastPlan;
    use super::super::run;
    use crate::Limits;
    use crate::input::Partner;
    use crate::money::Currency;
    use crate::plan::{Channel, Plan};

    const DAY: i64 = 86_400_000_000_000;
    /// 2026-01-01T00:00:00Z.
    const START: i64 = 1_767_225_600_000_000_000;

    /// The fold's bail reason (None: it folded) on a pool of `threads`.
    fn bail(threads: usize, ev: &Events) -> Option<String> {
        let plan = Plan::from_json(
            r#"{"schema": "partnerkit/plan@1", "id": "b", "currency": "USD",
                "rules": [{"id": "base", "reward": {"percent": "20"}}],
                "payouts": {"period": "month"}}"#,
        )
        .expect("plan");
        let fast = FastPlan::compile(&plan).expect("compiles");
        let partners = vec![
            Partner::new("ana".to_owned()),
            Partner::new("ben".to_owned()),
        ];
        let as_of = START + 400 * DAY;
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                // The input is large enough to shard: one shard a thread.
                assert_eq!(super::count(&fast, ev.len()), threads);
                run::run(&fast, false, &partners, ev, &[], as_of, &Limits::default())
                    .err()
                    .map(|run::Bail(why)| why)
            })
    }

    /// A fault added to an input: (instant, customer, what).
    type Fault = (i64, usize, u8);

    /// Several thousand customers, each touched then paying twice, a payment in ten
    /// refunded; `faults` are (instant, customer, what) rows added: 0 a refund in EUR of a
    /// payment in USD, 1 a refund of a payment the input lacks, 2 a refund beyond its
    /// payment.
    fn events(faults: &[Fault]) -> Events {
        let usd = Currency::parse("USD").expect("USD");
        let eur = Currency::parse("EUR").expect("EUR");
        let mut ev = Events::with_capacity(30_000);
        let n = 4_000;
        // Rows in time order: customer c's touch at c hours, payments a day and 100 days
        // later, refunds of every tenth payment 20 days after it.
        let hour = DAY / 24;
        let mut rows: Vec<(i64, u8, usize, usize)> = Vec::new();
        for c in 0..n {
            let t = START + c as i64 * hour;
            rows.push((t, 0, c, 0));
            rows.push((t + DAY, 1, c, 0));
            rows.push((t + 100 * DAY, 1, c, 1));
            if c % 10 == 0 {
                rows.push((t + 120 * DAY, 2, c, 1));
            }
        }
        for &(at, c, what) in faults {
            rows.push((at, 10 + what, c, 0));
        }
        rows.sort_unstable();
        for (at, k, c, j) in rows {
            let cust = format!("c{c}");
            match k {
                0 => ev.push_touch(
                    &format!("t{c}"),
                    at,
                    ["ana", "ben"][c % 2],
                    &cust,
                    Channel::Link,
                ),
                1 => ev.push_payment(&format!("p{c}-{j}"), at, &cust, 10_000, 0, 0, usd),
                2 => ev.push_reversal(
                    &format!("r{c}"),
                    at,
                    &format!("p{c}-{j}"),
                    Some(500_000),
                    Some(usd),
                ),
                10 => ev.push_reversal(
                    &format!("f{c}"),
                    at,
                    &format!("p{c}-0"),
                    Some(100),
                    Some(eur),
                ),
                11 => ev.push_reversal(&format!("u{c}"), at, "p-none", Some(100), Some(usd)),
                _ => ev.push_reversal(
                    &format!("x{c}"),
                    at,
                    &format!("p{c}-0"),
                    Some(10_000_000),
                    Some(usd),
                ),
            }
        }
        ev
    }

    /// The serial fold's reason (one thread) is every shard count's, whichever shard the
    /// earliest fault falls in and whatever faults other shards meet later.
    #[test]
    fn the_earliest_fault_decides_on_any_number_of_threads() {
        let foreign = "a refund in another currency than its payment";
        let unknown = "a refund of a payment not applied before it";
        let beyond = "a refund exceeding its payment";
        let t = |d: i64| START + d * DAY;
        let cases: [(&[Fault], Option<&str>); 6] = [
            (&[], None),
            (&[(t(50), 7, 0), (t(90), 8, 1)], Some(foreign)),
            (&[(t(90), 7, 0), (t(50), 8, 1)], Some(unknown)),
            (&[(t(60), 3, 2), (t(61), 4, 0), (t(62), 5, 1)], Some(beyond)),
            (
                &[(t(62), 3, 2), (t(61), 4, 0), (t(60), 5, 1)],
                Some(unknown),
            ),
            (
                &[(t(62), 3, 2), (t(60), 4, 0), (t(61), 5, 1)],
                Some(foreign),
            ),
        ];
        for (faults, want) in cases {
            let ev = events(faults);
            assert!(ev.len() > 12_000);
            for threads in [1, 2, 3] {
                assert_eq!(
                    bail(threads, &ev).as_deref(),
                    want,
                    "{faults:?} on {threads} threads"
                );
            }
        }
    }
}

#[cfg(test)]
mod owners_tests {
    use rand::{Rng, SeedableRng};

    use super::super::columns::Events;
    use super::super::prepare::Rows;
    use super::{Owners, packed};
    use crate::input::Kind;

    const KINDS: [Kind; 7] = [
        Kind::Touch,
        Kind::Assign,
        Kind::Signup,
        Kind::Payment,
        Kind::Refund,
        Kind::Chargeback,
        Kind::Adjustment,
    ];

    /// A shard's rows, 64 positions at a time, are those `Owners::of` gives row by row: on a
    /// log in order (the branch-free step, then the refunds) and on a sorted list alike,
    /// for every kind, any customer, named payments inside and past the slots, one to five
    /// shards, and blocks that start anywhere and end short.
    #[test]
    fn a_shards_rows_are_found_alike_in_order_and_row_by_row() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20_261_124);
        let n = 1_000;
        let ev = Events {
            kind: (0..n)
                .map(|_| KINDS[rng.random_range(0..KINDS.len())])
                .collect(),
            customer: (0..n).map(|_| rng.random()).collect(),
            payment: (0..n).map(|_| rng.random_range(0..40)).collect(),
            ..Events::default()
        };
        let sorted = Rows::Sorted((0..n as u32).collect());
        let starts = (0..n).step_by(64).chain([1, 5, 63, 900, 990]);
        let starts: Vec<usize> = starts.collect();
        for shards in 1..=5usize {
            let slot_owner: Vec<u8> = (0..30).map(|_| rng.random_range(0..shards as u8)).collect();
            let owners = Owners {
                ev: &ev,
                slot_owner: &slot_owner,
                shards,
            };
            for me in 0..shards as u8 {
                for &first in &starts {
                    let end = (first + 64).min(n);
                    let want = (first..end).fold(0u64, |m, i| {
                        m | (u64::from(owners.of(i) == me) << (i - first))
                    });
                    assert_eq!(owners.mine(&Rows::InOrder(n), me, first, end), want);
                    assert_eq!(owners.mine(&sorted, me, first, end), want);
                }
            }
        }
    }

    /// Flag `i` of 64 lands on bit `i`, whatever the others are.
    #[test]
    fn flags_pack_onto_their_bits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(64);
        for round in 0..2_000 {
            let mut flags = [0u8; 64];
            for f in &mut flags {
                *f = u8::from(match round {
                    0 => false,
                    1 => true,
                    _ => rng.random_bool(0.5),
                });
            }
            let want = (0..64).fold(0u64, |m, i| m | (u64::from(flags[i]) << i));
            assert_eq!(packed(&flags), want);
        }
    }
}
