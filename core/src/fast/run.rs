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
use super::cal::{self, DAY_NS, nanos_wide};
use super::columns::ns_instant as instant;
use super::columns::{Events, NONE, REFUND_DIGITS, Strings};
use super::compile::{BandsC, Cond, FastPlan, Price, RuleC, pow10, round_div};
use super::out::{Cols, Folded, Periods, Rec, settle};
use super::prepare::{Ids, Rows, canonical_rows, partner_index, scan_ids};
use crate::commission::conditions::listed;
use crate::input::{Kind, Partner};
use crate::ledger::EntryKind;
use crate::money::{Currency, Rounding};
use crate::plan::{BandMode, Channel, Clawback, Metric};
use crate::time::{add_days_local, add_months_local};

/// Why the fold gave up: the canonical path decides this input.
pub(crate) struct Bail(pub String);

pub(super) fn bail<T>(why: impl Into<String>) -> Result<T, Bail> {
    Err(Bail(why.into()))
}

/// Why a payment in another currency than the plan's stops the fold: the plan reads
/// amounts in its own currency ([`FastPlan::foreign`]).
pub(super) const FOREIGN: &str = "a payment in a currency other than the plan's, under rules or tiers that read amounts \
     in the plan's (only plain percentages and flat rewards fold such payments)";

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

/// What a refund needs of the payment it names, in one record for both folds: the
/// payment, what is refunded and reversed of it so far, and its commission entry's fields
/// (so a reversal reads this record, not the entry columns written 10–30 days of events
/// earlier), with the revenue credited for the serial fold's tier metrics. 64 bytes on a
/// line of its own: a refund's one cache miss for its payment.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
pub(super) struct Pay {
    /// The payment's amount in the plan's minor units.
    pub(super) amount: i64,
    /// What refunds and chargebacks took back of it so far.
    pub(super) refunded: i64,
    /// What has been reversed of the commission so far.
    pub(super) accounted: i64,
    /// The commission's amount (0 without an entry).
    pub(super) commission: i64,
    /// The payment's instant: the commission's `earned` (its `available` is this plus
    /// the plan's hold).
    pub(super) earned: i64,
    /// The revenue credited (the commission's base).
    pub(super) revenue: i64,
    /// The commission entry (its index in the fold's output), or NONE.
    pub(super) entry: u32,
    /// The credited partner, or NONE (unattributed).
    pub(super) partner: u32,
    /// The paying customer (the commission's and its reversals').
    pub(super) customer: u32,
    /// Whether the payment was folded (false: the record of a payment not seen yet).
    pub(super) applied: bool,
}

impl Pay {
    /// The record of a payment of `amount` at `at` by `customer`, credited to `partner`
    /// (or UNATTRIBUTED) on `revenue`, whose commission `commission` is entry `entry`
    /// (NONE: no entry).
    #[inline(always)]
    pub(super) fn paid(
        amount: i64,
        revenue: i64,
        at: i64,
        partner: u32,
        customer: u32,
        entry: u32,
        commission: i64,
    ) -> Pay {
        Pay {
            amount,
            refunded: 0,
            accounted: 0,
            commission,
            earned: at,
            revenue,
            entry,
            partner: if partner == UNATTRIBUTED {
                NONE
            } else {
                partner
            },
            customer,
            applied: true,
        }
    }
}

/// Whether the fold may take a payment in another currency than the plan's: `Err` (for
/// [`bail`]) unless the plan is one that folds such payments ([`FastPlan::foreign`]).
#[cold]
pub(super) fn foreign_payment(plan: &FastPlan) -> Result<(), &'static str> {
    if plan.foreign { Ok(()) } else { Err(FOREIGN) }
}

/// A flat reward `flat` (the plan currency's minor units) for the payment on row `r`: as
/// it is in the plan currency, else converted to the payment's on its local date as the
/// canonical pricing converts it (`None` from the converter: the canonical path reports
/// the missing rate).
#[cold]
pub(super) fn flat_in(
    plan: &FastPlan,
    fx: &mut super::fx::Converter,
    ev: &Events,
    r: usize,
    flat: i128,
) -> Result<i128, Bail> {
    match ev.currency[r] {
        Some(to) if to != plan.currency => {
            match fx.convert(
                plan,
                flat,
                plan.currency,
                to,
                super::fx::On::Instant(ev.at[r]),
            ) {
                Some(x) => Ok(x),
                None => bail("a flat reward with no rate into its payment's currency"),
            }
        }
        _ => Ok(flat),
    }
}

/// The currencies of the payments refunds name, where not the plan's (a plan that folds
/// payments in other currencies, [`FastPlan::foreign`]): by slot, like the [`Pay`]
/// records, and kept apart from them so that the record stays one cache line. Nothing is
/// allocated until the first such payment.
pub(super) struct PayCurrencies {
    of: Vec<Currency>,
    /// Payment slots.
    n: usize,
}

impl PayCurrencies {
    /// The currencies of `n` payment slots, all the plan's so far.
    pub(super) fn new(n: usize) -> PayCurrencies {
        PayCurrencies { of: Vec::new(), n }
    }

    /// Payment slot `slot` is row `r`'s payment: keeps its currency if not the plan's.
    #[cold]
    pub(super) fn note(&mut self, plan: &FastPlan, ev: &Events, r: usize, slot: usize) {
        let Some(currency) = ev.currency[r].filter(|&c| c != plan.currency) else {
            return;
        };
        if self.of.is_empty() {
            self.of = vec![plan.currency; self.n];
        }
        if let Some(c) = self.of.get_mut(slot) {
            *c = currency;
        }
    }

    /// The currency of the payment in slot `slot`.
    #[inline(always)]
    pub(super) fn get(&self, plan: &FastPlan, slot: usize) -> Currency {
        self.of.get(slot).copied().unwrap_or(plan.currency)
    }
}

/// What a refund took back of its payment: the payment's refunded total before it, and
/// the reversal entry to write, if any: (the commission reversed now, when the reversal
/// becomes available).
pub(super) struct Back {
    pub(super) before: i64,
    pub(super) reversal: Option<(i64, i64)>,
}

/// The refund or chargeback at row `r` (at `at`) on its payment's record `rec`: what it
/// takes back ([`taken_back`]), the commission's reversal target (all of it once the
/// payment is fully refunded, else its share, [`reversed_by`]), what that adds to the
/// reversal so far, and when the reversal becomes available ([`reversal_available`]).
/// `Ok(None)`: nothing taken back, `rec` unchanged. `Err` names what the canonical path
/// must decide. Both folds call this; the serial fold then adjusts its cap tally and tier
/// metrics.
#[inline(always)]
pub(super) fn refund(
    plan: &FastPlan,
    ev: &Events,
    r: usize,
    at: i64,
    rec: &mut Pay,
    currency: Currency,
) -> Result<Option<Back>, &'static str> {
    let now = taken_back(ev, r, rec.applied, rec.amount - rec.refunded, currency)?;
    if now == 0 {
        return Ok(None);
    }
    let before = rec.refunded;
    let total = before + now;
    rec.refunded = total;
    let mut reversal = None;
    if rec.entry != NONE {
        let target = if total == rec.amount {
            rec.commission
        } else {
            reversed_by(rec.commission, total, rec.amount, plan.rounding)
        };
        let delta = target - rec.accounted;
        rec.accounted = target;
        if delta != 0 {
            let held = plan.available(rec.earned).ok_or(PAST_LAST_INSTANT)?;
            reversal = reversal_available(plan, at, rec.earned, held)?.map(|a| (delta, a));
        }
    }
    Ok(Some(Back { before, reversal }))
}

/// How a credited payment is priced: a flat amount, or a rate as (mantissa,
/// 10^(scale + 2)).
#[derive(Clone, Copy)]
pub(super) enum Unit {
    Flat(i128),
    Rate(i64, i64),
}

/// The plan's price at each tier level: a flat amount at every level, or a rate per level
/// (one for a plain percent).
pub(super) struct Units {
    flat: Option<i128>,
    rates: Vec<(i64, i64)>,
}

impl Units {
    /// The units of `price`, percentages in 64 bits (the compiler checked their scales).
    pub(super) fn of(price: &Price) -> Units {
        let pct64 = |f: &super::compile::Fixed| -> (i64, i64) {
            (f.mantissa as i64, pow10(f.scale + 2) as i64)
        };
        match price {
            Price::Percent(f) => Units {
                flat: None,
                rates: vec![pct64(f)],
            },
            Price::ByTier(by) => Units {
                flat: None,
                rates: by.iter().map(pct64).collect(),
            },
            Price::Flat(f) => Units {
                flat: Some(*f),
                rates: Vec::new(),
            },
            // Priced by the partner's running metric instead (`BandRun`).
            Price::Bands(_) => Units {
                flat: None,
                rates: Vec::new(),
            },
        }
    }

    /// The unit at tier `level`; `None`: the plan has no rate for it.
    #[inline(always)]
    pub(super) fn at(&self, level: u16) -> Option<Unit> {
        match self.flat {
            Some(f) => Some(Unit::Flat(f)),
            None => self
                .rates
                .get(usize::from(level))
                .map(|&(m, den)| Unit::Rate(m, den)),
        }
    }
}

/// The revenue a payment at row `r` is credited with: net of tax and discount if the plan
/// says so.
#[inline(always)]
pub(super) fn revenue(plan: &FastPlan, ev: &Events, r: usize) -> i64 {
    if plan.net {
        ev.amount[r] - ev.tax(r) - ev.discount(r)
    } else {
        ev.amount[r]
    }
}

/// A credited payment's commission under `rule` on `base` before any cap: the unit's
/// amount, then the rule's per-event minimum and maximum.
#[inline(always)]
pub(super) fn priced(plan: &FastPlan, rule: &RuleC, unit: Unit, base: i64) -> i128 {
    priced_with(plan.rounding, rule, unit, base)
}

/// [`priced`] with the plan's rounding `mode`.
#[inline(always)]
fn priced_with(mode: Rounding, rule: &RuleC, unit: Unit, base: i64) -> i128 {
    let amt = match unit {
        Unit::Flat(f) => f,
        Unit::Rate(m, den) => mul_div(base, m, den, mode),
    };
    limited(rule, amt)
}

/// A commission `amt` after the rule's per-event minimum and maximum.
#[inline(always)]
fn limited(rule: &RuleC, mut amt: i128) -> i128 {
    if let Some(min) = rule.min_event
        && amt < min
    {
        amt = min;
    }
    if let Some(max) = rule.max_event
        && amt > max
    {
        amt = max;
    }
    amt
}

/// A commission in 64-bit minor units, or what the canonical path must decide.
#[inline(always)]
pub(super) fn minor64(amt: i128) -> Result<i64, &'static str> {
    i64::try_from(amt).map_err(|_| "an amount beyond 64-bit minor units")
}

/// The partner a payment at `at` by a customer is credited to (UNATTRIBUTED: none), and
/// whether this payment decided it (a new referral): the customer's `credit` is decided
/// at its first payment from its touches (`head`, then dropped), and kept for life.
#[inline(always)]
pub(super) fn credited<C: Credit>(
    plan: &FastPlan,
    ev: &Events,
    touches: &[TouchRec],
    credit: &mut C,
    head: &mut u32,
    at: i64,
) -> (u32, bool) {
    if *credit != C::NONE {
        return (credit.partner(), false);
    }
    let p = decide(plan, ev, touches, *head, at).unwrap_or(UNATTRIBUTED);
    *credit = C::of(p);
    *head = NONE;
    (p, p != UNATTRIBUTED)
}

/// A customer's credit as a fold keeps it: undecided ([`Credit::NONE`]), or the partner
/// decided at its first payment ([`UNATTRIBUTED`] for none). Four bytes (`u32`) in the
/// serial fold; the sharded fold may keep two (`shard::Credit16`).
pub(super) trait Credit: Copy + PartialEq {
    /// Undecided.
    const NONE: Self;
    /// The credit of partner `p` (or [`UNATTRIBUTED`]).
    fn of(p: u32) -> Self;
    /// The partner (or [`UNATTRIBUTED`]) of a decided credit.
    fn partner(self) -> u32;
}

impl Credit for u32 {
    const NONE: u32 = NONE;
    #[inline(always)]
    fn of(p: u32) -> u32 {
        p
    }
    #[inline(always)]
    fn partner(self) -> u32 {
        self
    }
}

/// `a × b / den` rounded with `mode`: in 32 bits when the product and the denominator fit
/// (a commission on an everyday amount: a 32-bit division is several times cheaper than a
/// 64-bit one), else in 64 bits when the product fits, else in 128. Inlined into the fold:
/// a call per payment would spill its registers.
#[inline(always)]
fn mul_div(a: i64, b: i64, den: i64, mode: Rounding) -> i128 {
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

/// What a refund or chargeback at row `r` takes back of a payment in `currency` that was
/// `applied` and of which `left` minor units are not refunded yet: the refund's amount in
/// the payment currency's minor units, or all that is left for a chargeback. `Err` names
/// what the canonical path must decide. Both folds (serial and sharded) call this, so they
/// check and take back alike.
#[inline(always)]
fn taken_back(
    ev: &Events,
    r: usize,
    applied: bool,
    left: i64,
    currency: Currency,
) -> Result<i64, &'static str> {
    if !applied {
        return Err("a refund of a payment not applied before it");
    }
    if ev.currency[r].is_some_and(|c| c != currency) {
        return Err("a refund in another currency than its payment");
    }
    if ev.kind[r] != Kind::Refund {
        return Ok(left);
    }
    let digits = currency.digits();
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
fn reversed_by(commission: i64, refunded: i64, amount: i64, mode: Rounding) -> i64 {
    mul_div(commission, refunded, amount, mode) as i64
}

/// When a reversal written at `at` of a commission earned at `earned` and available at
/// `available` becomes available: with the commission while it is held; after payout, at
/// once if the plan claws back (within its days), else `None` (no reversal entry). `Err`:
/// the clawback window ends past the calendar's range, which the canonical path reports.
#[inline(always)]
fn reversal_available(
    plan: &FastPlan,
    at: i64,
    earned: i64,
    available: i64,
) -> Result<Option<i64>, &'static str> {
    if at < available {
        return Ok(Some(available));
    }
    Ok(match &plan.clawback {
        Clawback::Always => Some(at),
        Clawback::Never => None,
        // The canonical path's own day arithmetic (a refund after payout is rare): the
        // window's end may lie past the instants `i64` nanoseconds count, or past the
        // calendar.
        Clawback::WithinDays(n) => {
            let end = add_days_local(plan.cal.tz(), instant(earned), i64::from(*n))
                .ok_or("a clawback window that ends past the calendar's range")?;
            (instant(at) <= end).then_some(at)
        }
    })
}

/// Runs the fold: the entries and their statuses, in canonical event order (names are
/// attached by [`super::out::finish`]). `Err(Bail)` hands the input to the canonical path.
pub(crate) fn run(
    plan: &FastPlan,
    partner_currency: bool,
    partners: &[Partner],
    ev: &Events,
    fx: &[crate::input::FxRate],
    as_of: i64,
    limits: &crate::Limits,
) -> Result<Folded, Bail> {
    if !ev.wide.is_empty() {
        return bail("amounts beyond 64-bit minor units");
    }
    let index = partner_index(partners)?;
    let payout = super::fx::Payout::new(plan, partner_currency, partners, fx, limits)?;
    // A rule naming a partner not declared is the canonical path's error.
    if plan
        .rules
        .iter()
        .filter_map(|rule| rule.cond.as_ref().and_then(|k| k.partner.as_ref()))
        .any(|names| names.iter().any(|n| !index.contains_key(n.as_str())))
    {
        return bail("a rule condition naming an undeclared partner");
    }
    // Touch partners → declared partners.
    let mut touch_partner = Vec::with_capacity(ev.partners.strings.len());
    for k in 0..ev.partners.strings.len() {
        match index.get(ev.partners.strings.get(k)) {
            Some(&p) => touch_partner.push(p),
            None => return bail("a touch names an undeclared partner"),
        }
    }
    let ids = scan_ids(ev)?;
    let rows = canonical_rows(ev, as_of).without(&ids.dropped);
    if let Some((first, last)) = rows.ends() {
        // Every entry is available at most a hold after the latest event (`rows` are in
        // time order), and in a zone whose clocks change at most a day more: one check here
        // keeps every availability the fold writes inside `i64`.
        let spare = if plan.cal.is_utc() { 0 } else { 2 * DAY_NS };
        let Some(end) = ev.at[last]
            .checked_add(plan.hold_ns)
            .and_then(|t| t.checked_add(spare))
        else {
            return bail(PAST_LAST_INSTANT);
        };
        // The months of every instant the fold and the statements look up (a month's margin
        // either side covers the zone's offset).
        let (m0, m1) = (cal::month_of(ev.at[first]) - 1, cal::month_of(end) + 1);
        if !plan.cal.months_follow_instants(m0, m1) {
            return bail("a month whose first midnight the plan's clock passes twice");
        }
    }
    // The canonical fold closes at most `max_periods` period ends (each a tier evaluation)
    // between the first event and `as_of`: a span near that is left to it, and it decides
    // whether the input is an error. Two periods of margin cover the plan's zone offset.
    if plan.tiers.is_some()
        && let Some((first, _)) = rows.ends()
    {
        let len = plan.tiers.as_ref().map_or(1, |t| t.months);
        let ends =
            cal::month_of(as_of).div_euclid(len) - cal::month_of(ev.at[first]).div_euclid(len);
        let max = i64::try_from(limits.max_periods).unwrap_or(i64::MAX);
        if ends >= max - 2 {
            return bail("more tier period ends than the canonical limit on period ends");
        }
    }

    // Plans whose pricing reads no partner state fold on several threads, a shard of
    // customers each, and give these same entries (see `shard`).
    let shards = super::shard::count(plan, rows.len());
    if shards > 1 {
        let out = super::shard::run(
            plan,
            partners,
            ev,
            &rows,
            &touch_partner,
            &ids.named,
            ids.touches,
            ids.spare,
            shards,
            &payout,
        )?;
        drop(rows);
        return settled(plan, ev, partners.len(), out, as_of, limits, &payout);
    }

    // One rule folds in a copy of the loop of its own, with no rule to choose per payment.
    let out = if plan.rules.len() > 1 {
        serial::<true>(plan, partners, ev, rows, &touch_partner, ids, &payout)?
    } else {
        serial::<false>(plan, partners, ev, rows, &touch_partner, ids, &payout)?
    };
    settled(plan, ev, partners.len(), out, as_of, limits, &payout)
}

/// The serial fold over `rows` (in canonical order): the entries in that order.
/// `SEVERAL`: the plan has more than one rule (else the choice of rule and the rule column
/// compile away).
fn serial<const SEVERAL: bool>(
    plan: &FastPlan,
    partners: &[Partner],
    ev: &Events,
    rows: Rows,
    touch_partner: &[u32],
    ids: Ids,
    payout: &super::fx::Payout,
) -> Result<Cols, Bail> {
    let mut fx = payout.converter();
    let digits = plan.digits;
    let rounding = plan.rounding;
    let n_customers = ev.customers.strings.len();
    let n_refs = ev.payments.strings.len();
    // Per customer: NONE = undecided; UNATTRIBUTED = decided, unattributed; else the
    // partner.
    let mut credit = vec![NONE; n_customers];
    let mut head = vec![NONE; n_customers];
    let mut touches: Vec<TouchRec> = Vec::with_capacity(ids.touches);
    let mut pays = vec![Pay::default(); n_refs];
    let mut pay_currency = PayCurrencies::new(n_refs);

    // Per partner: the level, the tier period's metrics and the cap period's tally, in one
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
    // Tier clock: the tier period whose end is the next close, once the first event came.
    let mut clock = Periods::new(plan.cal, plan.tiers.as_ref().map_or(1, |t| t.months));
    let mut period = rows.ends().map_or(0, |(r, _)| clock.of(ev.at[r]));
    let mut next_close = clock.start(period + 1);

    let mut out = Cols::with_capacity(rows.len(), ids.spare);
    let mut named = ids.named.cursor();
    // The first rule apart from the others, in locals of its own: most plans have one
    // rule, and its state (units, cap period) then stays as close as the fold's locals.
    let Some((rule0, more)) = plan.rules.split_first() else {
        return bail("a plan without rules");
    };
    let mut first = RuleRun::new(plan, ev, rule0, 0, partners, n_customers);
    let mut rest: Vec<RuleRun> = more
        .iter()
        .enumerate()
        .map(|(i, rule)| RuleRun::new(plan, ev, rule, i + 1, partners, n_customers))
        .collect();
    // The rule of each entry, kept when there is more than one to tell apart.
    if SEVERAL {
        out.rule = Vec::with_capacity(rows.len());
    }
    let mut customers = Customers::new(&plan.rules, n_customers);
    // Whether a rule prices by volume bands (whose running metrics every credited payment
    // and every refund then feed).
    let banded = plan
        .rules
        .iter()
        .any(|r| matches!(r.price, Price::Bands(_)));
    for i in 0..rows.len() {
        let row = rows.get(i);
        let r = row as usize;
        let at = ev.at[r];
        if at >= next_close
            && let Some(b) = book.as_mut()
        {
            while clock.start(period + 1) <= at {
                b.close(&mut hot, clock.start(period + 1), digits);
                period += 1;
            }
            next_close = clock.start(period + 1);
        }
        match ev.kind[r] {
            Kind::Touch => {
                let c = ev.customer[r] as usize;
                if credit[c] != NONE {
                    // Decided for life (customer lock): later touches cannot matter.
                    continue;
                }
                touches.push(TouchRec::of(plan, ev, touch_partner, r, row, at, head[c]));
                head[c] = (touches.len() - 1) as u32;
            }
            Kind::Payment => {
                // (Nothing about the currency is kept in a local across the payment: a
                // value live through it costs the fold a register, and the rest of the
                // payment reads it again where a rare case needs it.)
                if ev.currency[r] != Some(plan.currency) {
                    foreign_payment(plan).or_else(bail)?;
                    out.foreign = true;
                }
                let c = ev.customer[r] as usize;
                // A `channel` condition reads the deciding touch's channel, known only
                // while the customer's touches are (before `credited` decides).
                if customers.reads_touch() && credit[c] == NONE {
                    customers.deciding(c, ev, deciding(plan, ev, &touches, head[c], at));
                }
                let (p, new_referral) =
                    credited(plan, ev, &touches, &mut credit[c], &mut head[c], at);
                let base = revenue(plan, ev, r);
                let mut entry = NONE;
                let mut commission = 0;
                // The customer's payment count and first payment count every payment,
                // credited or not, as the canonical customer record does.
                // (Not called when no rule reads them: a call per payment costs the fold
                // its registers.)
                let n = if customers.counted {
                    customers
                        .paying(
                            plan,
                            std::iter::once(&mut first)
                                .chain(&mut rest)
                                .filter_map(|k| k.cond.as_mut()),
                            c,
                            at,
                        )
                        .or_else(bail)?
                } else {
                    0
                };
                if p != UNATTRIBUTED {
                    let Some(h) = hot.get_mut(p as usize) else {
                        return bail("a credit to an undeclared partner");
                    };
                    // `first_match`: the first rule whose conditions hold prices the
                    // payment. A payment no rule takes is not priced at all: no minimum,
                    // nothing against the caps.
                    let amount = ev.amount[r];
                    // (A loop rather than `position`, which is not inlined: a call per
                    // payment costs the fold its registers.)
                    let mut paying = None;
                    let level = h.level;
                    let holds = |k: &RuleRun| {
                        k.holds(
                            &customers,
                            p as usize,
                            c,
                            level,
                            at,
                            amount,
                            ev.currency[r],
                            ev.product.get(r),
                            n,
                        )
                    };
                    if holds(&first) {
                        paying = Some(0);
                    } else if SEVERAL {
                        for (i, k) in rest.iter().enumerate() {
                            if holds(k) {
                                paying = Some(i + 1);
                                break;
                            }
                        }
                    }
                    // The paying rule quoted once: its price, limits and the room its caps
                    // leave.
                    let mut quoted = match paying {
                        Some(ri) => {
                            let k = if SEVERAL {
                                first_or(&mut first, &mut rest, ri)
                            } else {
                                &mut first
                            };
                            let amt =
                                k.quote(ri, h, (p as usize, c), at, base, new_referral, rounding)?;
                            Some((ri, amt))
                        }
                        None => None,
                    };
                    // `max`: every later rule whose conditions hold is quoted too, and the
                    // largest amount pays; ties go to the earlier rule.
                    if SEVERAL
                        && plan.combine_max
                        && let Some((ri, _)) = quoted
                    {
                        for i in ri + 1..=rest.len() {
                            let k = &mut rest[i - 1];
                            if holds(k) {
                                let amt = k.quote(
                                    i,
                                    h,
                                    (p as usize, c),
                                    at,
                                    base,
                                    new_referral,
                                    rounding,
                                )?;
                                if quoted.is_some_and(|(_, best)| amt > best) {
                                    quoted = Some((i, amt));
                                }
                            }
                        }
                    }
                    // A flat reward in another currency is converted to the payment's (a
                    // plan that folds such payments has no limits, and picks the first
                    // rule that holds, so the conversion is the amount).
                    if out.foreign
                        && let Some((ri, amt)) = quoted.as_mut()
                        && let Price::Flat(flat) = plan.rules[*ri].price
                    {
                        *amt = flat_in(plan, &mut fx, ev, r, flat)?;
                    }
                    let mut a64 = 0;
                    if let Some((ri, amt)) = quoted {
                        let k = if SEVERAL {
                            first_or(&mut first, &mut rest, ri)
                        } else {
                            &mut first
                        };
                        a64 = minor64(amt).or_else(bail)?;
                        if a64 != 0 {
                            let Some(available) = plan.available(at) else {
                                return bail(PAST_LAST_INSTANT);
                            };
                            entry = out.len() as u32;
                            out.push(Rec {
                                kind: EntryKind::Commission,
                                partner: p,
                                event: row,
                                customer: c as u32,
                                reverses: NONE,
                                amount: a64,
                                earned: at,
                                available,
                            })?;
                            if SEVERAL {
                                out.rule.push(ri as u32);
                            }
                            if ri == 0 {
                                h.tally += a64;
                            } else if let Some((_, tally)) = k.tally.get_mut(p as usize) {
                                *tally += a64;
                            }
                            if let Some(used) = k.customer_used.get_mut(c) {
                                *used += a64;
                            }
                        }
                    }
                    // The partner's metrics take the payment once it is priced.
                    if banded {
                        for k in std::iter::once(&mut first).chain(&mut rest) {
                            if let Some(bands) = k.bands.as_mut() {
                                bands.paid(p as usize, at, base, new_referral);
                            }
                        }
                    }
                    if book.is_some() {
                        let m = &mut h.month;
                        m.conversions += 1;
                        m.revenue += base;
                        m.referrals += i64::from(new_referral);
                        m.commission += a64;
                    }
                    commission = a64;
                }
                let s = named.at(row);
                if s != 0 {
                    pays[s as usize - 1] =
                        Pay::paid(ev.amount[r], base, at, p, c as u32, entry, commission);
                    if out.foreign {
                        pay_currency.note(plan, ev, r, s as usize - 1);
                    }
                }
            }
            Kind::Refund | Kind::Chargeback => {
                let slot = ev.payment[r] as usize;
                let cur = pay_currency.get(plan, slot);
                let rec = &mut pays[slot];
                let back = match refund(plan, ev, r, at, rec, cur) {
                    Ok(Some(back)) => back,
                    Ok(None) => continue,
                    Err(why) => return bail(why),
                };
                let rec = *rec;
                if let Some((delta, available)) = back.reversal {
                    out.push(Rec {
                        kind: EntryKind::Reversal,
                        partner: rec.partner,
                        event: row,
                        customer: rec.customer,
                        reverses: rec.entry,
                        amount: -delta,
                        earned: at,
                        available,
                    })?;
                    let ri = if SEVERAL {
                        let ri = out.rule[rec.entry as usize];
                        out.rule.push(ri);
                        ri as usize
                    } else {
                        0
                    };
                    let h = &mut hot[rec.partner as usize];
                    let k = if !SEVERAL || ri == 0 {
                        &mut first
                    } else {
                        &mut rest[ri - 1]
                    };
                    // Only the cap period of the partner's latest payment under the rule is
                    // read again (see `Hot::tally_from`): an entry earned before it is
                    // counted in a period that is over.
                    if ri == 0 {
                        if rec.earned >= h.tally_from {
                            h.tally -= delta;
                        }
                    } else if let Some((from, tally)) = k.tally.get_mut(rec.partner as usize)
                        && rec.earned >= *from
                    {
                        *tally -= delta;
                    }
                    // A reversal gives its customer's cap room back too.
                    if let Some(used) = k.customer_used.get_mut(rec.customer as usize) {
                        *used -= delta;
                    }
                    if book.is_some() {
                        h.month.commission -= delta;
                    }
                }
                if (book.is_some() || banded) && rec.partner != NONE && rec.amount != 0 {
                    let cut = |x: i64| -> i64 {
                        if x >= rec.amount {
                            rec.revenue
                        } else {
                            mul_div(rec.revenue, x, rec.amount, rounding) as i64
                        }
                    };
                    let revenue = cut(rec.refunded) - cut(back.before);
                    if book.is_some() {
                        hot[rec.partner as usize].month.revenue -= revenue;
                    }
                    if banded {
                        for k in std::iter::once(&mut first).chain(&mut rest) {
                            if let Some(bands) = k.bands.as_mut() {
                                bands.refunded(rec.partner as usize, at, revenue);
                            }
                        }
                    }
                }
            }
            // No compiled plan rewards signups (no signup rule, no referee reward): the
            // canonical path then passes them by, once the periods before them are closed.
            Kind::Signup => {}
            _ => return bail("an event kind the fast path does not fold"),
        }
    }
    drop(rows);
    Ok(out)
}

/// Rule `ri` of a fold's rules: the first, or one of the rest.
#[inline(always)]
fn first_or<'r, 'a>(
    first: &'r mut RuleRun<'a>,
    rest: &'r mut [RuleRun<'a>],
    ri: usize,
) -> &'r mut RuleRun<'a> {
    if ri == 0 { first } else { &mut rest[ri - 1] }
}

/// The folded entries with their statuses from the statements (`settle`): the end of
/// [`run`], whichever fold wrote the entries.
fn settled(
    plan: &FastPlan,
    ev: &Events,
    n_partners: usize,
    out: Cols,
    as_of: i64,
    limits: &crate::Limits,
    payout: &super::fx::Payout,
) -> Result<Folded, Bail> {
    let currency = out.currencies(plan, ev);
    if let Some(cur) = &currency {
        // Every payment in another currency must convert to the plan currency as the
        // canonical path converts it, and so must a flat reward's commission on one.
        let flat = plan.rules.iter().any(|r| matches!(r.price, Price::Flat(_)));
        let flats: Vec<(u32, i128)> = if flat {
            (0..out.len())
                .filter(|&i| out.kind[i] == EntryKind::Commission && cur[i] != plan.currency)
                .map(|i| (out.event[i], out.amount[i]))
                .collect()
        } else {
            Vec::new()
        };
        payout.check_payments(plan, ev, &flats)?;
    }
    // Statements convert when a partner is paid in another currency, or an entry is in one.
    let converts = payout.partners() || currency.is_some();
    let status = settle(
        plan,
        n_partners,
        &out,
        currency.as_deref(),
        as_of,
        limits.max_statements_per_partner,
        converts.then_some(payout),
    )?;
    Ok(Folded {
        out,
        status,
        currency,
    })
}

/// A rule during the serial fold: its units, its conditions worked out once per partner
/// and per tier level, and its caps' state.
struct RuleRun<'a> {
    rule: &'a RuleC,
    units: Units,
    /// The conditions, if the rule has any.
    cond: Option<RuleCond<'a>>,
    /// The period cap rounded down to minor units: room = max(cap − used, 0) rounded down
    /// is floor(cap) − used for whole-unit `used` (caps are not negative).
    cap_floor: Option<i128>,
    /// The customer cap, its floor in minor units like the period cap's.
    customer_cap: Option<i128>,
    /// Per customer (with a customer cap): the net commission counted against it.
    customer_used: Vec<i64>,
    /// The cap's period of a payment.
    capped: Periods,
    /// Per partner, for a capped rule after the first: the start of the cap period of its
    /// latest payment under the rule, and the rule's net commission in it (the first
    /// rule's pair is on the partner's hot line, [`Hot`]).
    tally: Vec<(i64, i64)>,
    /// A `tiered` rule's running metric.
    bands: Option<BandRun<'a>>,
}

/// A `tiered` rule's running metric per partner in the serial fold: the partner metrics
/// the canonical pricing reads (`incentives::metrics`), in the rule's window.
struct BandRun<'a> {
    b: &'a BandsC,
    /// The window of an instant (months), or `None` for the lifetime.
    window: Option<Periods>,
    /// Per partner: the start of the window its value is of, and the value (minor units
    /// of revenue, or a count) from that start up to now.
    acc: Vec<(i64, i128)>,
}

impl BandRun<'_> {
    /// Partner `p`'s value in the window of `at`, started afresh when a window began since
    /// the partner's last change.
    #[inline]
    fn value(&mut self, p: usize, at: i64) -> Option<&mut i128> {
        let lo = match self.window.as_mut() {
            Some(w) => {
                w.of(at);
                w.lo
            }
            None => i64::MIN,
        };
        let (start, v) = self.acc.get_mut(p)?;
        if *start != lo {
            *start = lo;
            *v = 0;
        }
        Some(v)
    }

    /// What a payment credited on `base` (a new referral or not) adds to the metric.
    #[inline]
    fn delta(&self, base: i64, new_referral: bool) -> i128 {
        match self.b.metric {
            Metric::Revenue => i128::from(base),
            Metric::Referrals => i128::from(new_referral),
            _ => 1,
        }
    }

    /// Counts a payment credited to `p` at `at` on `base` (a new referral or not), after
    /// it is priced: the canonical metrics take each event once it is applied.
    #[inline]
    fn paid(&mut self, p: usize, at: i64, base: i64, new_referral: bool) {
        let delta = self.delta(base, new_referral);
        if let Some(v) = self.value(p, at) {
            *v += delta;
        }
    }

    /// The commission on `base` (the partner's credited base in the plan's currency, which
    /// is also what it adds to revenue) of a payment at `at` credited to `p`, rounded
    /// with `mode`, before the rule's limits (as `commission::bands::quote` prices it).
    fn price(
        &mut self,
        p: usize,
        at: i64,
        base: i64,
        new_referral: bool,
        mode: Rounding,
    ) -> Option<i128> {
        let before = *self.value(p, at)?;
        let b = self.b;
        let delta = self.delta(base, new_referral);
        let after = before + delta;
        // The band a running total is in: the last whose start is at or below it (below
        // 0, after refunds, the first).
        let band_of = |x: i128| b.from.iter().rposition(|&f| f <= x).unwrap_or(0);
        let base = i128::from(base);
        let mut parts: smallvec::SmallVec<[(usize, i128); 2]> = smallvec::SmallVec::new();
        match b.mode {
            BandMode::NextEvent => parts.push((band_of(before), base)),
            BandMode::Graduated => {
                // The part of [before, after) in each band (the first reaching down to
                // −∞); revenue is in the plan's currency, so the parts are the base's.
                for i in 0..b.from.len() {
                    let lo = if i == 0 {
                        before
                    } else {
                        before.max(b.from[i])
                    };
                    let hi = b.from.get(i + 1).map_or(after, |&next| after.min(next));
                    if hi > lo {
                        parts.push((i, hi - lo));
                    }
                }
                match parts.len() {
                    0 => parts.push((band_of(before), base)),
                    1 => parts[0].1 = base,
                    _ => {}
                }
            }
            _ => parts.push((band_of(after), base)),
        }
        // Σ part × percent, exact at the largest scale of the percents used, rounded once.
        let top = parts.iter().map(|&(i, _)| b.percent[i].scale).max()?;
        let mut num: i128 = 0;
        for &(i, part) in &parts {
            let f = b.percent[i];
            let term = part
                .checked_mul(f.mantissa)?
                .checked_mul(pow10(top - f.scale))?;
            num = num.checked_add(term)?;
        }
        Some(round_div(num, pow10(top + 2), mode))
    }

    /// Takes `revenue` of a refunded payment credited to `p` back at `at` (the canonical
    /// metrics subtract it when the refund is applied).
    #[inline]
    fn refunded(&mut self, p: usize, at: i64, revenue: i64) {
        if self.b.metric == Metric::Revenue
            && let Some(v) = self.value(p, at)
        {
            *v -= i128::from(revenue);
        }
    }
}

impl<'a> RuleRun<'a> {
    /// Rule `i` of `plan` for a fold of `ev` over `partners` and `n_customers` customers.
    fn new(
        plan: &FastPlan,
        ev: &Events,
        rule: &'a RuleC,
        i: usize,
        partners: &[Partner],
        n_customers: usize,
    ) -> RuleRun<'a> {
        let digits = plan.digits;
        let cap_floor = rule.max_period.map(|c| c.to_minor(digits, Rounding::Down));
        let customer_cap = rule
            .max_customer
            .map(|c| c.to_minor(digits, Rounding::Down));
        RuleRun {
            rule,
            units: Units::of(&rule.price),
            cond: rule
                .cond
                .as_ref()
                .map(|k| RuleCond::new(plan, ev, k, partners, n_customers)),
            cap_floor,
            customer_cap,
            customer_used: vec![
                0;
                if customer_cap.is_some() {
                    n_customers
                } else {
                    0
                }
            ],
            capped: Periods::new(plan.cal, rule.cap_months),
            tally: vec![
                (i64::MIN, 0);
                if i > 0 && cap_floor.is_some() {
                    partners.len()
                } else {
                    0
                }
            ],
            bands: match &rule.price {
                Price::Bands(b) => Some(BandRun {
                    b,
                    window: b.months.map(|m| Periods::new(plan.cal, m)),
                    acc: vec![(i64::MIN, 0); partners.len()],
                }),
                _ => None,
            },
        }
    }

    /// The commission of a payment at `at` of `base` credited to partner `p` (its hot
    /// line `h`) by customer `c`, under this rule (rule `ri` of the plan): its price, then
    /// its limits and the room its caps leave, as `commission::price` computes it (which
    /// commits nothing: a cap's tally only moves on to the payment's period).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn quote(
        &mut self,
        ri: usize,
        h: &mut Hot,
        (p, c): (usize, usize),
        at: i64,
        base: i64,
        new_referral: bool,
        rounding: Rounding,
    ) -> Result<i128, Bail> {
        let mut amt = match self.bands.as_mut() {
            Some(bands) => match bands.price(p, at, base, new_referral, rounding) {
                Some(amt) => limited(self.rule, amt),
                None => return bail("a band commission beyond 128 bits"),
            },
            None => {
                let Some(unit) = self.units.at(h.level) else {
                    return bail("a tier without a rate");
                };
                priced_with(rounding, self.rule, unit, base)
            }
        };
        // The customer's cap, then the period's, as the canonical pricing applies them.
        if let Some(cap) = self.customer_cap {
            let room = (cap - i128::from(self.customer_used[c])).max(0);
            if amt > room {
                amt = room;
            }
        }
        if let Some(cap) = self.cap_floor {
            self.capped.of(at);
            // The first rule's tally is on the partner's hot line.
            let (from, tally) = if ri == 0 {
                (&mut h.tally_from, &mut h.tally)
            } else {
                match self.tally.get_mut(p) {
                    Some((from, tally)) => (from, tally),
                    None => return bail("a capped rule without its tallies"),
                }
            };
            if *from != self.capped.lo {
                *from = self.capped.lo;
                *tally = 0;
            }
            let room = (cap - i128::from(*tally)).max(0);
            if amt > room {
                amt = room;
            }
        }
        Ok(amt)
    }

    /// Whether the rule's conditions hold ([`RuleCond::holds`]; a rule without any
    /// holds for every payment).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn holds(
        &self,
        customers: &Customers,
        p: usize,
        c: usize,
        level: u16,
        at: i64,
        amount: i64,
        currency: Option<Currency>,
        product: Option<u32>,
        n: u32,
    ) -> bool {
        self.cond
            .as_ref()
            .is_none_or(|rc| rc.holds(customers, p, c, level, at, amount, currency, product, n))
    }
}

/// A rule's conditions during a fold: what is fixed per partner and per tier level, and
/// per product and campaign of the input, worked out once, and the customers'
/// `within_months` ends.
pub(super) struct RuleCond<'a> {
    k: &'a Cond,
    /// Per partner: its `partner`, `segment` and `attributes` conditions hold.
    partner: Vec<bool>,
    /// Per tier level (one level, 0, without tiers): the `tier` condition holds.
    level: Vec<bool>,
    /// Per customer (with `within_months`): the end of the window after its first
    /// payment (`i128::MIN`: no payment yet).
    end: Vec<i128>,
    /// Per product of the input (with `product`): it is listed.
    product: Vec<bool>,
    /// Per campaign of the input's touches (with `campaign`): it is listed.
    campaign: Vec<bool>,
}

impl<'a> RuleCond<'a> {
    /// The conditions `k` of a fold of `ev` over `partners` and `n_customers` customers
    /// (the customer indices [`RuleCond::holds`] and [`Customers::paying`] are given).
    pub(super) fn new(
        plan: &FastPlan,
        ev: &Events,
        k: &'a Cond,
        partners: &[Partner],
        n_customers: usize,
    ) -> Self {
        let level = match plan.tiers.as_ref() {
            Some(t) => t.ids.iter().map(|id| listed(&k.tier, Some(id))).collect(),
            None => vec![listed(&k.tier, None)],
        };
        // A list checked once per distinct value of the input rather than per payment.
        let each = |list: &Option<Vec<String>>, values: &Strings| -> Vec<bool> {
            match list {
                None => Vec::new(),
                Some(_) => (0..values.len())
                    .map(|v| listed(list, Some(values.get(v))))
                    .collect(),
            }
        };
        RuleCond {
            k,
            partner: partners.iter().map(|p| k.partner_ok(p)).collect(),
            product: each(&k.product, &ev.product.values.strings),
            campaign: each(&k.campaign, &ev.campaign.values.strings),
            level,
            end: vec![
                i128::MIN;
                if k.within_months.is_some() {
                    n_customers
                } else {
                    0
                }
            ],
        }
    }
}

impl RuleCond<'_> {
    /// Whether the conditions hold for partner `p` at tier level `level` on a payment by
    /// customer `c` of `amount` (minor units) in `currency` at `at` (of the product
    /// `product`, an index into [`Events::product`]'s values), the customer's `n`-th
    /// (from [`Customers::paying`], which also worked out the `within_months` end).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn holds(
        &self,
        customers: &Customers,
        p: usize,
        c: usize,
        level: u16,
        at: i64,
        amount: i64,
        currency: Option<Currency>,
        product: Option<u32>,
        n: u32,
    ) -> bool {
        let k = self.k;
        let end = self.end.get(c).copied().unwrap_or(i128::MAX);
        let at = i128::from(at);
        k.currency.is_none_or(|x| Some(x) == currency)
            && (k.product.is_none() || listed_at(&self.product, product))
            && (k.campaign.is_none() || listed_at(&self.campaign, customers.campaign(c)))
            && self.partner.get(p).copied().unwrap_or(false)
            && self.level.get(usize::from(level)).copied().unwrap_or(false)
            && k.from.is_none_or(|f| at >= f)
            && k.until.is_none_or(|u| at < u)
            && k.number
                .is_none_or(|(min, max)| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m))
            && at < end
            && k.min_amount.is_none_or(|m| i128::from(amount) >= m)
            && k.channel.as_ref().is_none_or(|chs| {
                customers
                    .channel
                    .get(c)
                    .copied()
                    .flatten()
                    .is_some_and(|ch| chs.contains(&ch))
            })
    }
}

/// Whether a value (an index into an input's distinct values, `None` for none) is one a
/// condition lists (`listed`: per distinct value); no value never is, as in
/// `commission::conditions`.
#[inline(always)]
fn listed_at(listed: &[bool], value: Option<u32>) -> bool {
    value.is_some_and(|v| listed.get(v as usize).copied().unwrap_or(false))
}

/// What the rules' conditions read of each customer, whichever rule reads it: its
/// payments so far and the channel and campaign of the touch that decided it.
pub(super) struct Customers {
    /// Per customer (when a rule has `payment_number`): payments so far.
    count: Vec<u32>,
    /// Per customer (when a rule has `channel`): the deciding touch's channel.
    channel: Vec<Option<Channel>>,
    /// Per customer (when a rule has `campaign`): the deciding touch's campaign, an index
    /// into [`Events::campaign`]'s values ([`NONE`]: no touch, or a touch without one).
    campaign: Vec<u32>,
    /// Whether a rule reads the payment count or the first payment (`payment_number`,
    /// `within_months`): [`Customers::paying`] is called only then.
    counted: bool,
}

impl Customers {
    /// For `rules` over `n_customers` customers.
    pub(super) fn new(rules: &[RuleC], n_customers: usize) -> Customers {
        let per = |on: bool| if on { n_customers } else { 0 };
        let any = |f: fn(&Cond) -> bool| rules.iter().any(|r| r.cond.as_ref().is_some_and(f));
        Customers {
            count: vec![0; per(any(|k| k.number.is_some()))],
            channel: vec![None; per(any(|k| k.channel.is_some()))],
            campaign: vec![NONE; per(any(|k| k.campaign.is_some()))],
            counted: any(|k| k.number.is_some() || k.within_months.is_some()),
        }
    }

    /// Whether a rule reads the payment count or the first payment: [`Customers::paying`]
    /// is called only then (a call per payment costs a fold its registers).
    #[inline(always)]
    pub(super) fn counted(&self) -> bool {
        self.counted
    }

    /// Whether a rule reads the deciding touch (its channel or campaign).
    pub(super) fn reads_touch(&self) -> bool {
        !self.channel.is_empty() || !self.campaign.is_empty()
    }

    /// Keeps the channel and campaign of the touch `t` of `ev` deciding customer `c`
    /// (`None`: no touch does).
    pub(super) fn deciding(&mut self, c: usize, ev: &Events, t: Option<&TouchRec>) {
        if let Some(ch) = self.channel.get_mut(c) {
            *ch = t.map(|t| t.channel);
        }
        if let Some(k) = self.campaign.get_mut(c) {
            *k = t
                .and_then(|t| ev.campaign.get(t.row as usize))
                .unwrap_or(NONE);
        }
    }

    /// The campaign of the touch that decided customer `c`, if any (see
    /// [`Customers::deciding`]).
    #[inline(always)]
    fn campaign(&self, c: usize) -> Option<u32> {
        self.campaign.get(c).copied().filter(|&k| k != NONE)
    }

    /// Counts a payment of customer `c` at `at`: its number (0 when no rule asks), and
    /// at its first payment the end of each rule's `within_months` (by the canonical
    /// `add_months_local`; the compiled bound on the months keeps it inside the calendar,
    /// and past it the canonical path would decide).
    pub(super) fn paying<'r, 'a: 'r>(
        &mut self,
        plan: &FastPlan,
        conds: impl Iterator<Item = &'r mut RuleCond<'a>>,
        c: usize,
        at: i64,
    ) -> Result<u32, &'static str> {
        let n = match self.count.get_mut(c) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => 0,
        };
        for rc in conds {
            if let (Some(months), Some(end)) = (rc.k.within_months, rc.end.get_mut(c))
                && *end == i128::MIN
            {
                // The canonical check's own conversion of the month count.
                #[allow(clippy::cast_possible_wrap)]
                let t = add_months_local(plan.cal.tz(), instant(at), months as i32)
                    .ok_or("a within_months that ends past the calendar's range")?;
                *end = nanos_wide(t);
            }
        }
        Ok(n)
    }
}

/// Why an input whose entries become available past 2262-04-11 (the last instant of `i64`
/// nanoseconds) is left to the canonical path.
pub(super) const PAST_LAST_INSTANT: &str =
    "an entry available past the fast path's last instant (2262-04-11)";

/// Whether touch `t` is within its channel's attribution window of a conversion at `at`.
/// In i128: instants centuries apart differ by more than `i64` counts.
#[inline]
fn within(plan: &FastPlan, at: i64, t: &TouchRec) -> bool {
    i128::from(at) - i128::from(t.at) <= plan.window_ns[super::compile::channel_index(t.channel)]
}

/// Attribution at a customer's first conversion: the eligible touches (within the window),
/// the best-ranked channel among them, then the latest (or, under first touch or for deal
/// registrations, the earliest) by instant then event id.
#[inline(never)]
fn decide(plan: &FastPlan, ev: &Events, touches: &[TouchRec], head: u32, at: i64) -> Option<u32> {
    deciding(plan, ev, touches, head, at).map(|t| t.partner)
}

/// The touch that decides a customer's attribution at its first conversion ([`decide`]).
#[inline(always)]
pub(super) fn deciding<'a>(
    plan: &FastPlan,
    ev: &Events,
    touches: &'a [TouchRec],
    head: u32,
    at: i64,
) -> Option<&'a TouchRec> {
    let mut best: Option<&TouchRec> = None;
    let mut k = head;
    // The best rank first: one pass finds it, a second picks the touch.
    let mut rank = u8::MAX;
    while k != NONE {
        let t = &touches[k as usize];
        if within(plan, at, t) && t.rank < rank {
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
        if !within(plan, at, t) || t.rank != rank {
            continue;
        }
        let first = plan.first[super::compile::channel_index(t.channel)];
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
    best
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
