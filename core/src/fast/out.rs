//! The ledger the fold writes: entries as columns, then statuses from the statements
//! (as `payouts` builds them) and the report order (`earned_at`, then id).

use rayon::prelude::*;

use super::cal::{self, Calendar, DAY_NS};
use super::columns::{Events, NONE, Strings};
use super::compile::FastPlan;
use super::fx::Payout;
use super::ledger::{Ids, Ledger};
use super::run::{Bail, bail};
use crate::input::Partner;
use crate::ledger::EntryKind;
use crate::money::Currency;
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
///
/// Every column but `kind` is zero-filled and written by index. The serial fold allocates
/// them at its final bound (the rows it applies: an entry per payment or refund at most),
/// so an entry costs one length check and a store per column rather than a growth check
/// per column, and pages past the last entry are never touched; [`Cols::trim`] cuts them
/// off. The sharded fold's merge knows its count and sizes them exactly
/// ([`Cols::zeroed`]).
pub(super) struct Cols {
    pub(super) kind: Vec<EntryKind>,
    pub(super) partner: Vec<u32>,
    pub(super) event: Vec<u32>,
    pub(super) customer: Vec<u32>,
    pub(super) reverses: Vec<u32>,
    pub(super) amount: Vec<i128>,
    pub(super) earned: Vec<i64>,
    pub(super) available: Vec<i64>,
    /// Each entry's rule (an index into the plan's rules), kept by the serial fold only
    /// for a plan of several rules (pushed by the fold after each entry); empty: every
    /// entry is the only rule's.
    pub(super) rule: Vec<u32>,
    /// Whether a payment folded is in another currency than the plan's (its entries are
    /// then in that currency: see [`Cols::currencies`]).
    pub(super) foreign: bool,
}

impl Cols {
    /// Columns for `n` entries; the instant columns reuse `spare` buffers of at least `n`
    /// words (their contents are overwritten entry by entry and cut at the end).
    pub(super) fn with_capacity(n: usize, spare: [Vec<u64>; 2]) -> Cols {
        let [a, b] = spare;
        Cols {
            kind: Vec::with_capacity(n),
            partner: vec![0; n],
            event: vec![0; n],
            customer: vec![0; n],
            reverses: vec![0; n],
            amount: vec![0; n],
            earned: instants(a, n),
            available: instants(b, n),
            rule: Vec::new(),
            foreign: false,
        }
    }

    /// Columns of exactly `n` entries, written by index (the sharded fold's merge, which
    /// knows its count): zeros written on rayon's threads rather than by the allocator on
    /// one (memory it reuses is cleared entry by entry, ten million entries a few hundred
    /// MB); the instant columns reuse `spare`, cut to `n` first.
    pub(super) fn zeroed(n: usize, spare: [Vec<u64>; 2]) -> Cols {
        fn zeros<T: Copy + Default + Send>(n: usize) -> Vec<T> {
            let mut v = Vec::with_capacity(n);
            v.par_extend(rayon::iter::repeat_n(T::default(), n));
            v
        }
        let [a, b] = spare;
        // The instant columns' conversion on one thread, the zeros (each column split
        // among the threads) on the other and whichever is free.
        let ((earned, available), (partner, event, customer, reverses, amount)) = rayon::join(
            || (instants(a, n), instants(b, n)),
            || (zeros(n), zeros(n), zeros(n), zeros(n), zeros(n)),
        );
        Cols {
            kind: Vec::with_capacity(n),
            partner,
            event,
            customer,
            reverses,
            amount,
            earned,
            available,
            rule: Vec::new(),
            foreign: false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.kind.len()
    }

    /// Appends an entry. The caller sized the columns for every entry the fold can write:
    /// more is a bug, reported as a bail rather than a panic. Inlined: a call would spill
    /// and restore the fold's registers for every entry.
    #[inline(always)]
    pub(super) fn push(&mut self, e: Rec) -> Result<(), Bail> {
        let i = self.kind.len();
        if i >= self.partner.len() {
            return more_entries_than_rows();
        }
        self.kind.push(e.kind);
        self.partner[i] = e.partner;
        self.event[i] = e.event;
        self.customer[i] = e.customer;
        self.reverses[i] = e.reverses;
        self.amount[i] = i128::from(e.amount);
        self.earned[i] = e.earned;
        self.available[i] = e.available;
        Ok(())
    }

    /// Each entry's currency when a payment folded was in another currency than the
    /// plan's (`None`: every entry is in the plan's): a commission's is its payment's, a
    /// reversal's its commission's (whatever its refund states, which the fold checked).
    pub(super) fn currencies(&self, plan: &FastPlan, ev: &Events) -> Option<Vec<Currency>> {
        if !self.foreign {
            return None;
        }
        let of = |i: usize| ev.currency[self.event[i] as usize].unwrap_or(plan.currency);
        let mut v = Vec::with_capacity(self.len());
        (0..self.len())
            .into_par_iter()
            .map(|i| match self.reverses[i] {
                NONE => of(i),
                o => of(o as usize),
            })
            .collect_into_vec(&mut v);
        Some(v)
    }

    /// The written columns, trimmed to the entries.
    fn trim(&mut self) {
        let n = self.len();
        fn cut<T>(v: &mut Vec<T>, n: usize) {
            v.truncate(n);
            v.shrink_to_fit();
        }
        cut(&mut self.partner, n);
        cut(&mut self.event, n);
        cut(&mut self.customer, n);
        cut(&mut self.reverses, n);
        cut(&mut self.amount, n);
        cut(&mut self.earned, n);
        cut(&mut self.available, n);
        if !self.rule.is_empty() {
            cut(&mut self.rule, n);
        }
    }
}

/// An instant column of `n` entries in `spare`, a buffer of at least `n` words cut to `n`
/// and converted in place (the same allocation: no fresh pages), or zeros when it is
/// shorter.
fn instants(mut spare: Vec<u64>, n: usize) -> Vec<i64> {
    if spare.len() >= n {
        spare.truncate(n);
        spare.into_iter().map(|x| x as i64).collect()
    } else {
        vec![0; n]
    }
}

#[cold]
fn more_entries_than_rows() -> Result<(), Bail> {
    bail("more entries than the fold sized its columns for")
}

/// The period (of `len` months: a month, a quarter or a year, counted `year × 12 / len +
/// …` from year 0) of an instant, remembered across calls: instants come nearly in order,
/// so the calendar arithmetic runs once a period rather than once an entry. Exact in any
/// zone whose local months follow instants over the input
/// (`Calendar::months_follow_instants`, which the fold checks first): period `p` is then
/// every instant from its start to the next period's.
#[derive(Clone, Copy)]
pub(super) struct Periods {
    pub(super) cal: Calendar,
    /// Months per period: 1, 3 or 12.
    pub(super) len: i64,
    pub(super) lo: i64,
    pub(super) hi: i64,
    pub(super) p: i64,
}

impl Periods {
    pub(super) fn new(cal: Calendar, len: i64) -> Periods {
        Periods {
            cal,
            len,
            lo: 0,
            hi: 0,
            p: 0,
        }
    }

    /// The period containing an instant's local date (`Period::containing`).
    #[inline]
    pub(super) fn of(&mut self, ns: i64) -> i64 {
        if ns >= self.lo && ns < self.hi {
            return self.p;
        }
        let p = self.cal.month_of(ns).div_euclid(self.len);
        self.lo = self.start(p);
        self.hi = self.start(p + 1);
        self.p = p;
        p
    }

    /// The first instant of period `p` (saturating, as [`Calendar::month_start`]).
    pub(super) fn start(&self, p: i64) -> i64 {
        self.cal.month_start(p.saturating_mul(self.len))
    }

    /// Days since 1970-01-01 of period `p`'s last day.
    pub(super) fn last_day(&self, p: i64) -> i64 {
        cal::month_last_day(p * self.len + self.len - 1)
    }
}

/// Period numbers (relative to the first) of availability instants, by a table per UTC
/// day: an entry's period is a division and a load rather than calendar arithmetic.
struct PeriodTable {
    /// The first instant of the first day: every instant looked up is at or after it.
    base: i64,
    period: Vec<u32>,
}

impl PeriodTable {
    /// The table over the days of `lo..=hi`, periods counted from `p0`; `None` past a
    /// million days (the caller then asks the calendar). Periods must begin at UTC
    /// midnight: a UTC plan's.
    fn new(periods: &Periods, lo: i64, hi: i64, p0: i64) -> Option<PeriodTable> {
        let (day0, day1) = (lo.div_euclid(DAY_NS), hi.div_euclid(DAY_NS));
        if day1 - day0 >= 1 << 20 {
            return None;
        }
        let base = day0.checked_mul(DAY_NS)?;
        let mut period = Vec::with_capacity((day1 - day0 + 1) as usize);
        let mut p = p0;
        // The first day of the period after `p`, as a day number.
        let mut next = periods.start(p + 1).div_euclid(DAY_NS);
        for d in day0..=day1 {
            while d >= next {
                p += 1;
                next = periods.start(p + 1).div_euclid(DAY_NS);
            }
            period.push((p - p0) as u32);
        }
        Some(PeriodTable { base, period })
    }
}

/// The period (relative to `p0`) of each availability instant, by the table when there is
/// one. A task of [`settle`] keeps its own (the calendar's cache is per task).
#[derive(Clone, Copy)]
struct PeriodOf<'a> {
    table: Option<&'a PeriodTable>,
    periods: Periods,
    p0: i64,
}

impl PeriodOf<'_> {
    #[inline]
    fn of(&mut self, ns: i64) -> usize {
        match self.table {
            // Unsigned: a division by a constant is a multiplication.
            Some(t) => t.period[((ns - t.base) as u64 / DAY_NS as u64) as usize] as usize,
            None => (self.periods.of(ns) - self.p0) as usize,
        }
    }
}

/// Entries a task of [`settle`]'s and [`finish`]'s passes over every entry takes.
const SETTLE_CHUNK: usize = 1 << 16;

/// Statement fates per partner per statement period (as payouts build them), then each
/// entry's status.
///
/// The passes over every entry (the span of periods, the partner-period sums, the statuses)
/// run on rayon's threads: the sums a part of the entries each, added up after (integers:
/// the same sums in any grouping), the statuses a slice each. The statements themselves,
/// a walk over each partner's periods, stay serial: they are a few per partner.
#[inline(never)]
pub(super) fn settle(
    plan: &FastPlan,
    n_partners: usize,
    out: &Cols,
    entry_currency: Option<&[Currency]>,
    as_of: i64,
    max_statements: usize,
    payout: Option<&Payout>,
) -> Result<Vec<Status>, Bail> {
    let n = out.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let available = &out.available[..n];
    let partner = &out.partner[..n];
    // Statements in partners' own currencies sum each entry converted (`fx`).
    let (converted, failed) = match payout {
        Some(pay) => pay.convert_entries(
            plan,
            out,
            entry_currency,
            Periods::new(plan.cal, plan.statement_months),
        ),
        None => (Vec::new(), Vec::new()),
    };
    // The thresholds' conversions, a few per partner.
    let mut thresholds = payout.map(Payout::converter);
    let amount = if payout.is_some() {
        &converted[..n]
    } else {
        &out.amount[..n]
    };
    // Statement periods of availability, relative to the earliest.
    let (lo, hi) = available
        .par_chunks(SETTLE_CHUNK)
        .map(|c| {
            c.iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)))
        })
        .reduce(
            || (i64::MAX, i64::MIN),
            |(a, b), (c, d)| (a.min(c), b.max(d)),
        );
    let mut periods = Periods::new(plan.cal, plan.statement_months);
    let (p0, p1) = (periods.of(lo), periods.of(hi));
    let span = (p1 - p0 + 1) as usize;
    if n_partners.saturating_mul(span) > 200_000_000 {
        return bail("statements over too many partner-periods for the fast path's table");
    }
    // A table by UTC day needs periods that begin at UTC midnight.
    let table = plan
        .cal
        .is_utc()
        .then(|| PeriodTable::new(&periods, lo, hi, p0))
        .flatten();
    let period = PeriodOf {
        table: table.as_ref(),
        periods,
        p0,
    };
    // Partner-periods period-major: entries come in about the order of their availability,
    // so the sums they add to stay within a period's row (a cache-sized slice) at a time.
    let key = |p: usize, m: usize| m * n_partners + p;
    // A part of the entries per thread, each into its own table, then the tables added
    // up. One part (the serial loop) on one thread, or when the table is large beside the
    // entries (zeroing and adding another would cost more than the part saves).
    let table_len = n_partners * span;
    let parts = if table_len <= n / 8 {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    let per = n.div_ceil(parts);
    let parts: Vec<(Vec<i128>, Vec<bool>)> = partner
        .par_chunks(per)
        .zip(amount.par_chunks(per))
        .zip(available.par_chunks(per))
        .map(|((partner, amount), available)| {
            let mut period = period;
            let mut sums = vec![0i128; table_len];
            let mut any = vec![false; table_len];
            for ((&p, &a), &at) in partner.iter().zip(amount).zip(available) {
                let k = key(p as usize, period.of(at));
                sums[k] += a;
                any[k] = true;
            }
            (sums, any)
        })
        .collect();
    let mut parts = parts.into_iter();
    let (mut sums, mut any) = parts.next().unwrap_or_default();
    for (s, a) in parts {
        for (x, y) in sums.iter_mut().zip(s) {
            *x += y;
        }
        for (x, y) in any.iter_mut().zip(a) {
            *x |= y;
        }
    }
    // Partner-periods with an entry no rate converts: an error if a statement shows it.
    let mut unconverted = vec![false; if failed.is_empty() { 0 } else { table_len }];
    let mut of = period;
    for &i in &failed {
        unconverted[key(partner[i] as usize, of.of(available[i]))] = true;
    }
    // Per partner-period: whether its entries end up on a paid statement.
    let mut paid = vec![false; n_partners * span];
    let digits = plan.digits;
    let mut unsettled: Vec<usize> = Vec::new();
    for p in 0..n_partners {
        let foreign = payout.and_then(|pay| pay.currency[p]);
        let Some(first) = (0..span).find(|&m| any[key(p, m)]) else {
            continue;
        };
        let last_with = (0..span).rev().find(|&m| any[key(p, m)]).unwrap_or(first);
        let mut carry: i128 = 0;
        unsettled.clear();
        let mut emitted = 0usize;
        let mut m = first;
        loop {
            let this = p0 + m as i64;
            if periods.start(this + 1) > as_of {
                break;
            }
            let has = m < span && any[key(p, m)];
            if !has && carry == 0 {
                if m >= last_with {
                    break;
                }
                m += 1;
                continue;
            }
            let closing = carry + if has { sums[key(p, m)] } else { 0 };
            if has {
                if !unconverted.is_empty() && unconverted[key(p, m)] {
                    return bail("a statement an FX rate is missing for");
                }
                unsettled.push(m);
            }
            // Every statement states its threshold: in another currency, converted on the
            // period's last day, an error when no rate does (whether or not it pays).
            let reaches = match (foreign, thresholds.as_mut()) {
                (Some(to), Some(cv)) => match cv.threshold(plan, to, periods.last_day(this)) {
                    Some(t) => closing >= t,
                    None => return bail("a statement an FX rate is missing for"),
                },
                _ => plan.threshold.le_minor(closing, digits),
            };
            let payable = closing > 0 && reaches;
            emitted += 1;
            if emitted > max_statements {
                return bail("a partner with more statements than the canonical limit");
            }
            if payable {
                let due = periods.last_day(this) + i64::from(plan.net_days);
                let is_paid = i128::from(as_of) >= plan.cal.day_start(due);
                for k in unsettled.drain(..) {
                    paid[key(p, k)] = is_paid;
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
    let mut status = vec![Status::Pending; n];
    status
        .par_chunks_mut(SETTLE_CHUNK)
        .zip(available.par_chunks(SETTLE_CHUNK))
        .zip(partner.par_chunks(SETTLE_CHUNK))
        .for_each(|((status, available), partner)| {
            let mut period = period;
            for ((&a, &p), st) in available.iter().zip(partner).zip(status.iter_mut()) {
                if as_of < a {
                    continue;
                }
                *st = if paid[key(p as usize, period.of(a))] {
                    Status::Paid
                } else {
                    Status::Available
                };
            }
        });
    Ok(status)
}

/// Frees `x` on one of rayon's threads rather than on the caller's: giving back the pages
/// of hundreds of MB (the kernel unmapping each one) takes tens of milliseconds that the
/// caller, with more to do, need not wait for. Nothing observable depends on when.
pub(crate) fn free_later<T: Send + 'static>(x: T) {
    rayon::spawn(move || drop(x));
}

/// What the fold leaves for [`finish`]: the entries in canonical event order, and their
/// statuses.
pub(super) struct Folded {
    pub(super) out: Cols,
    pub(super) status: Vec<Status>,
    /// Each entry's currency ([`Cols::currencies`]); `None`: the plan's, every entry.
    pub(super) currency: Option<Vec<Currency>>,
}

/// Puts the ledger in report order (`earned_at`, then id) and attaches the names: the
/// events' ids and the customers' keys, taken by value so that a caller done with its
/// events hands them over instead of copying ten million ids.
#[inline(never)]
pub(super) fn finish(
    plan: &FastPlan,
    partners: &[Partner],
    event_names: Strings,
    customer_names: Strings,
    folded: Folded,
) -> Ledger {
    let Folded {
        mut out,
        status,
        currency: entry_currency,
    } = folded;
    out.trim();
    let n = out.len();
    let mut partner_names = Strings::with_capacity(partners.len(), 0);
    for p in partners {
        partner_names.push(&p.id);
    }
    let mut rule_names = Strings::default();
    for rule in &plan.rules {
        rule_names.push(&rule.id);
    }
    // One rule: every entry is its, and the fold kept no column of rules.
    let rule = if out.rule.is_empty() {
        vec![0; n]
    } else {
        std::mem::take(&mut out.rule)
    };
    let mut ledger = Ledger {
        kind: out.kind,
        status,
        partner: out.partner,
        partner_names,
        event: out.event,
        event_names,
        customer: out.customer,
        customer_names,
        rule,
        rule_names,
        ids: Ids::Derived {
            reverses: out.reverses,
        },
        amount: out.amount,
        currency: Vec::new(),
        earned_at: out.earned,
        available_at: out.available,
        explain: None,
    };
    // Entries come in canonical event order: sorted by instant already; ids decide ties,
    // and only ties need the ids written out. Checked a slice of entries a task (each
    // slice's first entry against the one before it too) while the currency column (the
    // plan's, every entry, unless the fold gave each entry's: pages written, not just
    // allocated) is filled.
    let (sorted, currency) = rayon::join(
        || {
            (0..n.div_ceil(SETTLE_CHUNK))
                .into_par_iter()
                .all(|k| in_order(&ledger, k * SETTLE_CHUNK..((k + 1) * SETTLE_CHUNK).min(n)))
        },
        || match entry_currency {
            Some(mut v) => {
                v.truncate(n);
                v
            }
            None => {
                let mut v = Vec::with_capacity(n);
                (0..n)
                    .into_par_iter()
                    .map(|_| plan.currency)
                    .collect_into_vec(&mut v);
                v
            }
        },
    );
    ledger.currency = currency;
    if !sorted {
        reorder(&mut ledger);
    }
    ledger
}

/// Whether each entry of `range` comes after the one before it in report order
/// (`earned_at`, then id).
fn in_order(l: &Ledger, range: std::ops::Range<usize>) -> bool {
    let (mut a, mut b) = (String::new(), String::new());
    for i in range.start.max(1)..range.end {
        if l.earned_at[i] == l.earned_at[i - 1] {
            a.clear();
            b.clear();
            l.write_id(i - 1, &mut a);
            l.write_id(i, &mut b);
            if a > b {
                return false;
            }
        }
    }
    true
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
