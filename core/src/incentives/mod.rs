//! What the per-event fold keeps for incentives — partner metrics, tiers, retroactive band
//! books, milestones, overrides, referee rewards — and the hooks it calls.
//!
//! The engine calls three hooks and nothing else: [`State::close_periods`] before each
//! event (every period that ended at or before it is closed: tiers are evaluated and
//! period bonuses paid), [`State::after_pricing`] when an event's commissions are written
//! (retroactive true-ups, then overrides, so both belong to the event's entries and follow
//! its refunds), and [`State::after_event`] (metrics, milestones, immediate tier
//! promotions, referee rewards). Period ends are driven by event instants and `as_of`
//! only, so evaluating a log in one batch or event by event gives the same answer.
//!
//! Everything here is plain data (vectors, ordered maps, decimals, instants).

pub(crate) mod metrics;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::commission::bands::{self, RetroItem};
use crate::commission::referee::RefereeRecord;
use crate::engine::{HashMap, State, make_id};
use crate::error::{Error, ErrorCode, Result};
use crate::input::{Body, Event, Partner, PartnerStatus};
use crate::ledger::{BandWhy, Entry, EntryKind, Explain, TrueUpWhy};
use crate::money::Currency;
use crate::plan::{BandMode, Instrument, Plan, TierEvaluation};
use crate::tiers::{self, ChangeWhy, Starts, TierBook};
use crate::time::{Instant, Period, PeriodUnit, local_date};
use metrics::PartnerMetrics;

/// A priced `tiered` reward, noted while an event is priced so that a retroactive
/// crossing can be topped up once the event's commissions are written.
#[derive(Clone, Debug)]
pub(crate) struct Quote {
    /// The rule's index in its plan version, and that version.
    pub rule: usize,
    pub version: usize,
    pub partner: usize,
    pub credited: Decimal,
    pub currency: Currency,
    pub band: BandWhy,
    /// The commission entry written, if the amount was not zero.
    pub entry: Option<usize>,
    pub instrument: Instrument,
}

/// Revenue credited by one payment, per partner, in plan currency: what refunds take back
/// from the revenue metric.
#[derive(Clone, Debug)]
pub(crate) struct Credited {
    /// The refunded amount already taken into account.
    pub refunded: Decimal,
    pub parts: SmallVec<[(usize, Decimal); 1]>,
}

/// An override entry and the child entry it follows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Follow {
    pub child: usize,
    pub percent: Decimal,
}

/// The incentive state of an evaluation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Incentives {
    /// Partner metrics are kept: some tier, band or bonus measures them.
    pub on: bool,
    /// Something happens after an event (metrics, referee rewards, first conversions of
    /// grandfathered customers); plans without any skip the hook.
    pub after: bool,
    pub metrics: Vec<PartnerMetrics>,
    /// Each partner's parent (overrides).
    pub parents: Vec<Option<usize>>,
    pub tiers: Option<TierBook>,
    /// Calendar units whose period ends do something (tier evaluation, period bonuses).
    pub units: Vec<PeriodUnit>,
    /// Periods are closed up to this instant (none before the first event).
    pub clock: Option<Instant>,
    /// Period ends closed so far (bounded by `Limits::max_periods`).
    pub closed: usize,
    /// Retroactive books: (plan version, rule, partner) → events paid, in time order.
    pub retro: BTreeMap<(usize, usize, usize), Vec<RetroItem>>,
    /// Milestones already crossed: (bonus id, partner).
    pub milestones: BTreeSet<(String, usize)>,
    /// Override entries → the child entry each follows.
    pub follows: BTreeMap<usize, Follow>,
    pub referee: Vec<RefereeRecord>,
    /// Customers whose referee reward was given.
    pub referee_done: BTreeSet<Arc<str>>,
    /// Per remembered payment, the revenue it credited.
    pub credited: BTreeMap<Arc<str>, Credited>,
    /// Each customer's first conversion, when plan versions grandfather customers.
    pub first_conversion: BTreeMap<Arc<str>, Instant>,
    /// Scratch of the event being applied (empty between events).
    pub pending_credits: Vec<(usize, Decimal)>,
    pub pending_referrals: Vec<usize>,
    pub quotes: Vec<Quote>,
    /// Where each plan version's rules start in the engine's list of rule ids.
    pub rule_bases: Vec<usize>,
    /// Each version's rules' cap slots: one slot per rule id, shared across versions.
    pub slots: Vec<Vec<usize>>,
}

impl Incentives {
    /// The incentive state of `plan` for `partners` (`index`: partner id → index).
    pub fn new(
        plan: &Plan,
        partners: &[Partner],
        ids: &[Arc<str>],
        index: &HashMap<Arc<str>, usize>,
    ) -> Result<Incentives> {
        let mut on = false;
        let mut referee = false;
        let mut units = BTreeSet::new();
        let mut tiers = None;
        let mut rule_bases = Vec::new();
        let mut slots = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut base = 0;
        for (_, version) in plan.versions() {
            let doc = version.doc();
            rule_bases.push(base);
            base += doc.rules.len();
            slots.push(
                doc.rules
                    .iter()
                    .map(|r| match names.iter().position(|n| *n == r.id) {
                        Some(k) => k,
                        None => {
                            names.push(&r.id);
                            names.len() - 1
                        }
                    })
                    .collect(),
            );
            let bands = doc
                .rules
                .iter()
                .any(|r| matches!(r.reward.kind, crate::plan::RewardKind::Tiered(_)));
            on |= doc.tiers.is_some() || bands || !doc.bonuses.is_empty();
            referee |= doc.referee_reward.is_some();
            for b in &doc.bonuses {
                if let Some(u) = b.period {
                    units.insert(u);
                }
            }
            if let Some(t) = &doc.tiers {
                units.insert(t.period);
                if tiers.is_none() {
                    tiers = Some(TierBook::new(t, partners, ids)?);
                }
            }
        }
        let parents = partners
            .iter()
            .map(|p| p.parent.as_deref().and_then(|id| index.get(id).copied()))
            .collect();
        Ok(Incentives {
            on,
            after: on || referee || plan.grandfathers(),
            metrics: if on {
                vec![PartnerMetrics::default(); partners.len()]
            } else {
                Vec::new()
            },
            parents,
            tiers,
            units: units.into_iter().collect(),
            rule_bases,
            slots,
            ..Incentives::default()
        })
    }

    /// Adds partner `p` (the next index, declared between events by an incremental engine)
    /// with its starting tier and empty metrics.
    pub fn add_partner(
        &mut self,
        p: &Partner,
        id: Arc<str>,
        index: &HashMap<Arc<str>, usize>,
    ) -> Result<()> {
        if let Some(t) = &mut self.tiers {
            t.add(p, id)?;
        }
        if self.on {
            self.metrics.push(PartnerMetrics::default());
        }
        self.parents
            .push(p.parent.as_deref().and_then(|id| index.get(id).copied()));
        Ok(())
    }

    /// Where version `v`'s rules start in the engine's list of rule ids.
    #[inline]
    pub fn rule_base(&self, v: usize) -> usize {
        self.rule_bases.get(v).copied().unwrap_or(0)
    }

    /// Version `v`'s rules' cap slots.
    #[inline]
    pub fn cap_slots(&self, v: usize) -> &[usize] {
        self.slots.get(v).map_or(&[], Vec::as_slice)
    }

    /// The partner's tier in force now (plans with tiers).
    #[inline]
    pub fn tier(&self, partner: usize) -> Option<&Arc<str>> {
        self.tiers.as_ref().and_then(|t| t.tier(partner))
    }

    /// The partner's metrics so far (plans that keep them).
    #[inline]
    pub fn metrics(&self, partner: usize) -> Option<&PartnerMetrics> {
        self.metrics.get(partner)
    }
}

/// Whether a partner was active just before `t` (at the end of a period that ends at `t`).
pub(crate) fn active_before(p: &Partner, t: Instant) -> bool {
    p.status
        .iter()
        .take_while(|(at, _)| *at < t)
        .last()
        .is_none_or(|(_, s)| *s == PartnerStatus::Active)
}

impl State {
    /// Closes every period that ended after the last close and at or before `until`:
    /// evaluates tiers and pays period bonuses at each period end, in time order. The
    /// first call (the first event) only starts the clock. `path` names what brought
    /// `until` (an event, or `as_of`) should the period ends exceed `max_periods`.
    pub(crate) fn close_periods(
        &mut self,
        until: Instant,
        path: impl Fn() -> String,
    ) -> Result<()> {
        if self.incentives.units.is_empty() {
            return Ok(());
        }
        let Some(mut clock) = self.incentives.clock else {
            self.incentives.clock = Some(until);
            return Ok(());
        };
        let tz = self.plan.tz();
        let units = self.incentives.units.clone();
        loop {
            let next = units
                .iter()
                .map(|u| Period::containing(*u, tz, clock).end(tz))
                .min();
            let Some(end) = next.filter(|e| *e <= until && *e > clock) else {
                break;
            };
            // Every period end evaluates every partner: an event or `as_of` centuries after
            // the first event would do so at each of a million month ends (found by fuzzing).
            let max = self.limits.max_periods;
            if self.incentives.closed >= max {
                return Err(Error::new(
                    ErrorCode::LimitExceeded,
                    path(),
                    format!(
                        "max_periods is {max}, and more period ends (tier evaluations, period \
                         bonuses) fall between the first event and {} (the host can raise it \
                         through Limits)",
                        crate::time::fmt_instant(until)
                    ),
                ));
            }
            self.incentives.closed += 1;
            for u in &units {
                let p = Period::containing(*u, tz, clock);
                if p.end(tz) == end {
                    self.close_period(p)?;
                }
            }
            clock = end;
            self.incentives.clock = Some(clock);
        }
        self.incentives.clock = Some(clock.max(until));
        Ok(())
    }

    /// Whether the plan has periods to close (tiers or period bonuses): only then does a
    /// report need [`State::settle`].
    pub(crate) fn closes_periods(&self) -> bool {
        !self.incentives.units.is_empty()
    }

    /// Closes everything up to `as_of` before a report. An incremental engine does this on a
    /// copy of its state: an event may still come between its last event and `as_of`.
    pub(crate) fn settle(&mut self, as_of: Instant) -> Result<()> {
        self.close_periods(as_of, || "as_of".to_owned())
    }

    /// One period end: tiers of that period unit are evaluated, then its period bonuses.
    fn close_period(&mut self, p: Period) -> Result<()> {
        let tz = self.plan.tz();
        let end = p.end(tz);
        let version = self.plan.version_before(end);
        let plan = self.plan.version(version).clone();
        if let Some(t) = plan.doc().tiers.as_ref().filter(|t| t.period == p.unit) {
            let starts = Starts::period_end(tz, p);
            for i in 0..self.partners.len() {
                if self.partners[i].joined_at.is_some_and(|j| j >= end) {
                    continue;
                }
                let Some(book) = self.incentives.tiers.as_mut() else {
                    break;
                };
                let (best, levels) =
                    tiers::check(t, &book.levels, &self.incentives.metrics[i], &starts)?;
                let previous = book.levels[book.current[i]].clone();
                if let Some(d) = tiers::at_period_end(t, book, i, best) {
                    let why = ChangeWhy {
                        change: d.change,
                        previous,
                        evaluation: TierEvaluation::PeriodEnd,
                        period: Some(p),
                        event: None,
                        evaluated_at: end,
                        failed_periods: d.failed_periods,
                        levels,
                    };
                    tiers::apply(book, i, &self.partner_ids[i], d, end, why);
                }
            }
        }
        self.period_bonuses(&plan, p, end)
    }

    /// After an event's commissions are written (from entry `start` on): retroactive
    /// true-ups, then each new commission's and true-up's overrides.
    pub(crate) fn after_pricing(
        &mut self,
        ev: &Event,
        start: usize,
        version: usize,
        hold: Instant,
    ) -> Result<()> {
        let quotes = std::mem::take(&mut self.incentives.quotes);
        let overrides = !self.plan.version(version).doc().overrides.is_empty();
        if quotes.is_empty() && !overrides {
            return Ok(());
        }
        let plan = self.plan.version(version).clone();
        for q in quotes {
            if q.band.mode == BandMode::Retroactive {
                self.retroactive(ev, &plan, q, hold)?;
            }
        }
        self.write_overrides(&plan, start)
    }

    /// Records a retroactive rule's event in its book and, when the event's band rate is
    /// above the previous event's, tops every earlier event of the window up to it.
    fn retroactive(&mut self, ev: &Event, plan: &Plan, q: Quote, hold: Instant) -> Result<()> {
        let Some(part) = q.band.parts.first() else {
            return Ok(());
        };
        let percent = part.percent;
        let key = (q.version, q.rule, q.partner);
        let items = self.incentives.retro.entry(key).or_default();
        let start = q.band.window_start;
        // Windows only move forward: events before this one's window are never topped up
        // again, so the book forgets them.
        if let Some(s) = start {
            let old = items.partition_point(|i| i.at < s);
            items.drain(..old);
        }
        let previous = items.last();
        let crossing = previous.is_some_and(|i| percent > i.percent);
        let mut tops = Vec::new();
        if crossing {
            let payments = &self.payments;
            let refunded = |id: &str| payments.get(id).map(|r| (r.amount, r.refunded));
            let (entries, side) = (&self.entries, &self.side);
            let net = |i: usize| entries[i].amount - side[i].accounted;
            tops = bands::true_up(items, start, percent, plan.doc().rounding, &refunded, &net)
                .ok_or_else(|| Error::overflow(format!("plan.rules[{}].reward.tiered", q.rule)))?;
            for t in &tops {
                items[t.item].topped += t.line.top_up;
            }
        }
        items.push(RetroItem {
            at: ev.at,
            payment: ev.id.clone(),
            currency: q.currency,
            credited: q.credited,
            percent,
            entry: q.entry,
            topped: Decimal::ZERO,
        });
        if tops.is_empty() {
            return Ok(());
        }
        // One true-up per currency of the events topped up; the crossing event's currency
        // first (its id carries no currency suffix).
        let mut currencies: Vec<Currency> = tops.iter().map(|t| t.currency).collect();
        currencies.sort_by_key(|c| (*c != q.currency, *c));
        currencies.dedup();
        let rule = &plan.doc().rules[q.rule];
        let partner = self.partner_ids[q.partner].clone();
        for c in currencies {
            let lines: Vec<_> = tops
                .iter()
                .filter(|t| t.currency == c)
                .map(|t| t.line.clone())
                .collect();
            let amount: Decimal = lines.iter().map(|l| l.top_up).sum();
            let suffix = if c == q.currency { "" } else { c.as_str() };
            let mut parts = vec!["true_up", &*ev.id, rule.id.as_str(), &*partner];
            if !suffix.is_empty() {
                parts.push(suffix);
            }
            let id = make_id(&mut self.id_buf, &parts);
            self.push(
                Entry {
                    id,
                    partner: partner.clone(),
                    kind: EntryKind::TrueUp,
                    event: ev.id.clone(),
                    customer: None,
                    rule: Some(Arc::from(rule.id.as_str())),
                    amount,
                    currency: c,
                    earned_at: ev.at,
                    available_at: hold,
                    fx_anchor: ev.at,
                    explain: Explain::TrueUp(std::sync::Arc::new(TrueUpWhy {
                        band: Box::new(q.band.clone()),
                        percent,
                        events: lines,
                        instrument: q.instrument,
                    })),
                },
                None,
            );
        }
        Ok(())
    }

    /// After an event: metrics, milestones, immediate promotions, referee rewards.
    /// `first` is the index of the event's first entry.
    pub(crate) fn after_event(&mut self, ev: &Event, first: usize) -> Result<()> {
        if !self.incentives.after {
            return Ok(());
        }
        let mut touched: Vec<usize> = Vec::new();
        if self.incentives.on {
            self.record_metrics(ev, first, &mut touched)?;
        } else {
            self.incentives.pending_credits.clear();
            self.incentives.pending_referrals.clear();
        }
        touched.sort_unstable();
        touched.dedup();
        if !touched.is_empty() {
            let plan = self.plan.version(self.plan.version_at(ev.at)).clone();
            self.milestones(ev, &plan, &touched)?;
            self.promote_now(ev, &plan, &touched)?;
        }
        self.referee_reward(ev)?;
        self.note_first_conversion(ev);
        Ok(())
    }

    /// Feeds the event into the partner metrics; `touched` gets the partners changed.
    fn record_metrics(&mut self, ev: &Event, first: usize, touched: &mut Vec<usize>) -> Result<()> {
        let at = ev.at;
        for p in std::mem::take(&mut self.incentives.pending_referrals) {
            self.incentives.metrics[p].referrals.add(at, Decimal::ONE);
            touched.push(p);
        }
        let credits = std::mem::take(&mut self.incentives.pending_credits);
        if let Body::Payment(pay) = &ev.body {
            let customer = self.customer_key(&pay.customer);
            for &(p, revenue) in &credits {
                let m = &mut self.incentives.metrics[p];
                m.conversions.add(at, Decimal::ONE);
                m.revenue.add(at, revenue);
                m.paid(&customer, at);
                touched.push(p);
            }
            if !credits.is_empty() && self.remembers(&ev.id) {
                self.incentives.credited.insert(
                    ev.id.clone(),
                    Credited {
                        refunded: Decimal::ZERO,
                        parts: credits.into_iter().collect(),
                    },
                );
            }
        }
        if let Body::Refund { payment, .. } | Body::Chargeback { payment, .. } = &ev.body {
            self.refund_revenue(payment, at, touched)?;
        }
        let plan_currency = self.plan.doc().currency;
        let tz = self.plan.tz();
        for idx in first..self.entries.len() {
            let e = &self.entries[idx];
            let counted = |k: EntryKind| {
                matches!(
                    k,
                    EntryKind::Commission | EntryKind::TrueUp | EntryKind::Override
                )
            };
            let counts = match self.side[idx].reverses {
                Some(orig) => counted(self.entries[orig].kind),
                None => counted(e.kind),
            };
            if !counts {
                continue;
            }
            let amount = self
                .converted(idx, plan_currency, local_date(tz, e.fx_anchor), true)?
                .0;
            let owner = self.side[idx].owner;
            self.incentives.metrics[owner]
                .commission
                .add(e.earned_at, amount);
            touched.push(owner);
        }
        Ok(())
    }

    /// A refund takes back from each credited partner's revenue the same cumulative
    /// fraction of what the payment credited it: `round(c × R_k / A) − round(c × R_{k−1} / A)`.
    fn refund_revenue(
        &mut self,
        payment: &str,
        at: Instant,
        touched: &mut Vec<usize>,
    ) -> Result<()> {
        let Some((amount, refunded)) = self.payments.get(payment).map(|r| (r.amount, r.refunded))
        else {
            return Ok(());
        };
        let Some(rec) = self.incentives.credited.get_mut(payment) else {
            return Ok(());
        };
        if refunded == rec.refunded || amount.is_zero() {
            return Ok(());
        }
        let doc = self.plan.doc();
        let digits = doc.currency.digits();
        let cut = |c: Decimal, r: Decimal| -> Result<Decimal> {
            if r >= amount {
                return Ok(c);
            }
            let raw = c
                .checked_mul(r)
                .and_then(|x| x.checked_div(amount))
                .ok_or_else(|| Error::overflow("refund"))?;
            Ok(doc.rounding.round(raw, digits))
        };
        for &(p, c) in &rec.parts {
            let delta = cut(c, refunded)? - cut(c, rec.refunded)?;
            self.incentives.metrics[p].revenue.add(at, -delta);
            touched.push(p);
        }
        rec.refunded = refunded;
        Ok(())
    }

    /// Immediate evaluation: promote each partner the event qualified for a higher level.
    fn promote_now(&mut self, ev: &Event, plan: &Plan, touched: &[usize]) -> Result<()> {
        let Some(t) = plan
            .doc()
            .tiers
            .as_ref()
            .filter(|t| t.evaluation == TierEvaluation::Immediate)
        else {
            return Ok(());
        };
        let starts = Starts::now(self.plan.tz(), t.period, ev.at);
        for &i in touched {
            let Some(book) = self.incentives.tiers.as_mut() else {
                return Ok(());
            };
            let (best, levels) =
                tiers::check(t, &book.levels, &self.incentives.metrics[i], &starts)?;
            let previous = book.levels[book.current[i]].clone();
            if let Some(d) = tiers::at_event(book, i, best) {
                let why = ChangeWhy {
                    change: d.change,
                    previous,
                    evaluation: TierEvaluation::Immediate,
                    period: None,
                    event: Some(ev.id.clone()),
                    evaluated_at: ev.at,
                    failed_periods: None,
                    levels,
                };
                tiers::apply(book, i, &self.partner_ids[i], d, ev.at, why);
            }
        }
        Ok(())
    }

    /// Remembers a customer's first conversion (plan versions that grandfather customers).
    fn note_first_conversion(&mut self, ev: &Event) {
        if !self.plan.grandfathers() {
            return;
        }
        let customer = match &ev.body {
            Body::Signup { customer, .. } => customer,
            Body::Payment(p) => &p.customer,
            _ => return,
        };
        if self
            .incentives
            .first_conversion
            .contains_key(customer.as_str())
        {
            return;
        }
        let converted = self
            .customer(customer)
            .is_some_and(|c| c.decision.is_some());
        if converted {
            let key = self.customer_key(customer);
            self.incentives.first_conversion.insert(key, ev.at);
        }
    }

    /// The plan version an event of `customer` (if any) is priced under: the version in
    /// force at `at`, unless it grandfathers customers, then the version in force at the
    /// customer's first conversion.
    pub(crate) fn version_for(&self, at: Instant, customer: Option<&str>) -> usize {
        let now = self.plan.version_at(at);
        if self.plan.version(now).doc().grandfather != crate::plan::Grandfather::Customer {
            return now;
        }
        match customer.and_then(|c| self.incentives.first_conversion.get(c)) {
            Some(first) => self.plan.version_at(*first),
            None => now,
        }
    }

    /// The progress of every partner as of the state's last close (plans with tiers).
    pub(crate) fn progress(&self, as_of: Instant) -> Result<Vec<tiers::progress::Progress>> {
        let version = self.plan.version_at(as_of);
        let plan = self.plan.version(version);
        let (Some(t), Some(book)) = (plan.doc().tiers.as_ref(), self.incentives.tiers.as_ref())
        else {
            return Ok(Vec::new());
        };
        let starts = Starts::now(self.plan.tz(), t.period, as_of);
        tiers::progress::build(
            t,
            book,
            &self.incentives.metrics,
            &self.partner_ids,
            &starts,
        )
    }
}
