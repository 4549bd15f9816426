//! The evaluation state machine: events in, ledger entries out.
//!
//! [`State`] applies one event at a time, in canonical order, and keeps only what later
//! events need (touches per customer, attribution locks, payments and their entries, cap
//! tallies). Batch evaluation ([`evaluate`]) is: check the input, sort, drop duplicates,
//! apply every event up to `as_of`, then write the report. An incremental engine is the same
//! state kept between calls.

use std::collections::BTreeSet;

use smallvec::SmallVec;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::attribution::fraud::Tracker;
use crate::attribution::{self, Conversion, Decision, TouchRec, influence, locks};
use crate::commission::{self, Ctx, Pricing, Tallies};
use crate::error::{Error, ErrorCode, Result};
use crate::fx::FxTable;
use crate::incentives::{Incentives, Quote};
use crate::input::{AssignShare, Body, Event, Input, Partner, PartnerStatus, Payment, Touch};
use crate::ledger::{BaseWhy, CommissionWhy, Entry, EntryKind, Explain, RuleCheck, VersionWhy};
use crate::lifecycle;
use crate::limits::Limits;
use crate::money::allocate;
use crate::plan::{BandMode, Combine, CommissionBase, Plan, RefereeOn, RuleEvent};
use crate::report::{self, Report};
use crate::time::{Instant, add_days_local, local_date};

/// Lookup-only maps: no output ever depends on their iteration order, so a fast hasher
/// (randomly seeded per map, like std's, against collision floods from hostile ids) is safe.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Per-customer memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct Customer {
    pub touches: Vec<TouchRec>,
    /// The attribution decided at the first conversion (empty credits: unattributed).
    pub decision: Option<Arc<Decision>>,
    /// The latest manual assignment, which overrides `decision` from its instant on.
    pub assigned: Option<Arc<Decision>>,
    /// Whether some conversion of the customer was credited to a partner.
    pub attributed: bool,
    /// The partners that counted the customer as a referral.
    pub referred: Vec<usize>,
    pub payments: u32,
    pub first_payment_at: Option<Instant>,
    pub signup_paid: bool,
}

/// A payment, as refunds need it.
#[derive(Clone, Debug)]
pub(crate) struct PaymentRec {
    pub amount: Decimal,
    pub currency: crate::money::Currency,
    pub refunded: Decimal,
    /// The entries caused by the payment: `entries[first..first + count]` (a payment's
    /// entries are written together, so they are contiguous).
    pub first: usize,
    pub count: u32,
    /// The partners credited for the payment (for the refund-rate signal). Inline for one
    /// partner (the usual case): a payment's record then needs no allocation of its own.
    pub credited: SmallVec<[usize; 1]>,
}

/// An amount of a whole event and its split among the event's credited partners.
type Split = (Decimal, Vec<Decimal>);

/// Joins `parts` with `:` into a shared entry id through a reused buffer: one allocation.
pub(crate) fn make_id(buf: &mut String, parts: &[&str]) -> Arc<str> {
    buf.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push(':');
        }
        buf.push_str(p);
    }
    Arc::from(buf.as_str())
}

/// The payment being priced, with the customer's payment count and first payment.
pub(crate) struct Paying<'a> {
    pub number: u32,
    pub first_at: Instant,
    pub payment: &'a Payment,
}

/// Where an entry counts for caps (None for entries outside capped rules). Boxed: every
/// entry keeps a [`Side`], and under a plan without caps (or outside its capped rules) the
/// keys, 64 bytes, would sit empty beside each one; an entry under a capped rule pays one
/// allocation instead.
pub(crate) type EntryCaps = Option<Box<commission::CapKeys>>;

/// What the engine keeps beside each ledger entry.
#[derive(Clone, Debug)]
pub(crate) struct Side {
    /// Where the entry counts for caps.
    pub caps: EntryCaps,
    /// For a reversal, the index of the entry it reverses.
    pub reverses: Option<usize>,
    /// What has been reversed (or waived) of the entry so far.
    pub accounted: Decimal,
    /// The index of the entry's partner.
    pub owner: usize,
}

/// Per-partner counters for metrics.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub clicks: u64,
    pub referrals: u64,
    pub conversions: u64,
    /// Credited base in plan currency.
    pub revenue: Decimal,
    /// Base of payments the partner touched within the window without credit, plan currency.
    pub influenced: Decimal,
    /// When the partner was first credited for a customer, and its latest touch or
    /// attributed payment (health metrics).
    pub activity: attribution::health::Activity,
}

/// Everything evaluation has learned so far.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub plan: Plan,
    pub partners: Vec<Partner>,
    pub partner_ids: Vec<Arc<str>>,
    partner_index: HashMap<Arc<str>, usize>,
    pub fx: FxTable,
    pub(crate) customers: HashMap<Arc<str>, Customer>,
    pub(crate) payments: HashMap<Arc<str>, PaymentRec>,
    pub entries: Vec<Entry>,
    /// What the engine keeps beside each entry (parallel to `entries`).
    pub side: Vec<Side>,
    /// Reused buffer for building entry ids.
    pub(crate) id_buf: String,
    /// When set, only these payments are remembered: batch evaluation knows up front which
    /// payments refunds and chargebacks name, and a million-payment map nobody reads is
    /// most of the memory traffic. `None` (the incremental case) remembers every payment.
    only_payments: Option<std::collections::HashSet<Arc<str>, foldhash::fast::RandomState>>,
    tallies: Tallies,
    pub counters: Vec<Counters>,
    pub unattributed: BTreeSet<Arc<str>>,
    pub duplicates_ignored: u64,
    attributed: u64,
    /// Base of payments that some partner influenced without credit (program metric).
    pub influenced: Decimal,
    /// What the fraud signals have seen.
    pub fraud: Tracker,
    rewards_signups: bool,
    /// Rule ids as shared strings, so entries and explanations do not copy them (every
    /// plan version's, one after the other).
    rule_ids: Vec<Arc<str>>,
    /// Tiers, bands, bonuses, overrides, referee rewards (`incentives/`).
    pub(crate) incentives: Incentives,
    /// The host's limits: the fold enforces those that only evaluation can see (touches per
    /// customer, statements per partner); the rest were checked on the input.
    pub(crate) limits: Limits,
}

impl State {
    /// Checks partners against each other and the plan, and indexes them.
    pub(crate) fn new(plan: Plan, partners: Vec<Partner>, fx: FxTable) -> Result<State> {
        let mut partner_index =
            HashMap::with_capacity_and_hasher(partners.len(), Default::default());
        let partner_ids: Vec<Arc<str>> =
            partners.iter().map(|p| Arc::from(p.id.as_str())).collect();
        for (i, id) in partner_ids.iter().enumerate() {
            if partner_index.insert(id.clone(), i).is_some() {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("partners[{i}].id"),
                    format!("partner id \"{id}\" is declared twice"),
                ));
            }
        }
        check_parents(&partners, &partner_index)?;
        let versions = plan.versions();
        for (v, (_, version)) in versions.iter().enumerate() {
            for (i, r) in version.doc().rules.iter().enumerate() {
                for (j, p) in r.when.partner.iter().flatten().enumerate() {
                    if !partner_index.contains_key(p.as_str()) {
                        return Err(Error::new(
                            ErrorCode::UnknownPartner,
                            format!("{}.rules[{i}].when.partner[{j}]", plan.version_root(v)),
                            format!("partner \"{p}\" is not declared in `partners`"),
                        ));
                    }
                }
            }
        }
        // A signup is a conversion when a rule rewards it or a referee reward is earned by it.
        let rewards_signups = versions.iter().any(|(_, v)| {
            v.doc()
                .rules
                .iter()
                .any(|r| r.when.event == RuleEvent::Signup)
                || v.doc()
                    .referee_reward
                    .as_ref()
                    .is_some_and(|r| r.on == RefereeOn::Signup)
        });
        let n = partners.len();
        let rule_ids = versions
            .iter()
            .flat_map(|(_, v)| v.doc().rules.iter().map(|r| Arc::from(r.id.as_str())))
            .collect();
        drop(versions);
        let incentives = Incentives::new(&plan, &partners, &partner_ids, &partner_index)?;
        Ok(State {
            plan,
            partners,
            partner_ids,
            partner_index,
            fx,
            customers: HashMap::default(),
            payments: HashMap::default(),
            entries: Vec::new(),
            side: Vec::new(),
            id_buf: String::new(),
            only_payments: None,
            tallies: Tallies::default(),
            counters: vec![Counters::default(); n],
            unattributed: BTreeSet::new(),
            duplicates_ignored: 0,
            attributed: 0,
            influenced: Decimal::ZERO,
            fraud: Tracker::default(),
            rewards_signups,
            rule_ids,
            incentives,
            limits: Limits::default(),
        })
    }

    /// Adds a partner between events (the incremental engine). Everything [`State::new`]
    /// sizes by the partner list grows here too; the state is unchanged on error.
    pub(crate) fn add_partner(&mut self, partner: Partner) -> Result<()> {
        let i = self.partners.len();
        let id: Arc<str> = Arc::from(partner.id.as_str());
        if self.partner_index.contains_key(&id) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("partners[{i}].id"),
                format!("partner id \"{id}\" is declared twice"),
            ));
        }
        self.partners.push(partner);
        self.partner_ids.push(id.clone());
        self.partner_index.insert(id.clone(), i);
        let added = check_parents(&self.partners, &self.partner_index).and_then(|()| {
            self.incentives
                .add_partner(&self.partners[i], id.clone(), &self.partner_index)
        });
        if let Err(e) = added {
            self.partners.pop();
            self.partner_ids.pop();
            self.partner_index.remove(&id);
            return Err(e);
        }
        self.counters.push(Counters::default());
        Ok(())
    }

    fn partner(&self, id: &str, path: impl FnOnce() -> String) -> Result<usize> {
        self.partner_index.get(id).copied().ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownPartner,
                path(),
                format!("partner \"{id}\" is not declared in `partners`"),
            )
        })
    }

    /// Applies one event. `pos` is its index in the input's `events`, for error paths; the
    /// path string is only built when an error needs it.
    pub(crate) fn apply(&mut self, ev: &Event, pos: usize) -> Result<()> {
        // Periods that ended at or before the event close first (tiers, period bonuses);
        // what the event changed then feeds metrics, milestones and tiers.
        self.close_periods(ev.at, || Loc(pos).to_string())?;
        let first = self.entries.len();
        self.apply_event(ev, pos)?;
        self.after_event(ev, first)
    }

    fn apply_event(&mut self, ev: &Event, pos: usize) -> Result<()> {
        let path = &Loc(pos);
        let id: Arc<str> = ev.id.clone();
        match &ev.body {
            Body::Touch(t) => self.on_touch(ev, &id, t, path),
            Body::Signup {
                customer,
                qualified,
            } => self.on_signup(ev, &id, customer, *qualified),
            Body::Payment(p) => self.on_payment(ev, &id, p),
            Body::Refund {
                payment,
                amount,
                currency,
            } => {
                let first = self.first_reversal(payment);
                lifecycle::refund(self, ev, &id, payment, Some(*amount), *currency, path)?;
                self.reversed(first, &id);
                Ok(())
            }
            Body::Chargeback { payment, currency } => {
                let first = self.first_reversal(payment);
                lifecycle::refund(self, ev, &id, payment, None, *currency, path)?;
                self.reversed(first, &id);
                Ok(())
            }
            Body::Assign {
                customer,
                partners,
                reason,
            } => self.on_assign(ev, &id, customer, partners, reason, path),
            Body::Adjustment {
                partner,
                amount,
                currency,
                reason,
            } => {
                let pi = self.partner(partner, || format!("{path}.partner"))?;
                if amount.is_zero() {
                    return Ok(());
                }
                // A manual adjustment carries no refund risk, so no hold: it is available
                // at once (docs/semantics.md).
                let entry_id = make_id(&mut self.id_buf, &["adjustment", &id]);
                self.push(
                    Entry {
                        id: entry_id,
                        partner: self.partner_ids[pi].clone(),
                        kind: EntryKind::Adjustment,
                        event: id,
                        customer: None,
                        rule: None,
                        amount: *amount,
                        currency: *currency,
                        earned_at: ev.at,
                        available_at: ev.at,
                        fx_anchor: ev.at,
                        explain: Explain::Adjustment {
                            reason: reason.clone(),
                        },
                    },
                    None,
                );
                Ok(())
            }
        }
    }

    pub(crate) fn push(&mut self, e: Entry, caps: EntryCaps) -> usize {
        self.push_reversal(e, caps, None)
    }

    /// Appends an entry; `reverses` is the index of the entry a reversal takes back.
    pub(crate) fn push_reversal(
        &mut self,
        e: Entry,
        caps: EntryCaps,
        reverses: Option<usize>,
    ) -> usize {
        let owner = match reverses {
            Some(o) => self.side[o].owner,
            None => self
                .partner_index
                .get(&e.partner)
                .copied()
                .unwrap_or(usize::MAX),
        };
        self.entries.push(e);
        self.side.push(Side {
            caps,
            reverses,
            accounted: Decimal::ZERO,
            owner,
        });
        self.entries.len() - 1
    }

    /// For the refund-rate signal: the partners credited for `payment` when this is its
    /// first refund or chargeback.
    fn first_reversal(&self, payment: &str) -> Option<Vec<usize>> {
        self.plan.doc().fraud.refund_rate.as_ref()?;
        self.payments
            .get(payment)
            .filter(|r| r.refunded.is_zero())
            .map(|r| r.credited.to_vec())
    }

    fn reversed(&mut self, first: Option<Vec<usize>>, event: &Arc<str>) {
        if let Some(partners) = first {
            self.fraud
                .refunded(&self.plan.doc().fraud, &partners, event);
        }
    }

    /// A manual assignment: from now on it credits the customer's conversions.
    fn on_assign(
        &mut self,
        ev: &Event,
        id: &Arc<str>,
        customer: &str,
        partners: &[AssignShare],
        reason: &str,
        path: &Loc,
    ) -> Result<()> {
        let mut shares = Vec::with_capacity(partners.len());
        for (j, s) in partners.iter().enumerate() {
            let pi = self.partner(&s.partner, || format!("{path}.partners[{j}].partner"))?;
            shares.push((pi, s.weight));
        }
        let d = locks::assigned(
            &shares,
            &self.partner_ids,
            &self.plan.doc().attribution.model,
            id,
            ev.at,
            reason,
        )?;
        let key = self.customer_key(customer);
        self.customers.entry(key).or_default().assigned = Some(Arc::new(d));
        Ok(())
    }

    /// A customer's memory, if the customer was seen.
    pub(crate) fn customer(&self, key: &str) -> Option<&Customer> {
        self.customers.get(key)
    }

    /// Whether payment `id` is remembered for refunds (batch evaluation remembers only the
    /// payments that some refund names).
    pub(crate) fn remembers(&self, id: &str) -> bool {
        self.only_payments
            .as_ref()
            .is_none_or(|only| only.contains(id))
    }

    /// The customer's key, shared with the map when the customer is already known.
    pub(crate) fn customer_key(&self, key: &str) -> Arc<str> {
        match self.customers.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None => Arc::from(key),
        }
    }

    /// Reserves room for `payments` more payments (batch evaluation knows the count).
    pub(crate) fn reserve(&mut self, payments: usize, entries: usize) {
        self.payments.reserve(payments);
        self.entries.reserve(entries);
        self.side.reserve(entries);
    }

    /// Entry `idx` in currency `to` at the rate of `date`, rounded once.
    ///
    /// A reversal converted at its original's date (`same_date`) is not converted on its
    /// own: it takes the same cumulative fraction of the original's *converted* amount that
    /// it takes of the original, `round(C × reversed_total / E) − round(C × reversed_before
    /// / E)`. Converting each partial reversal separately would drift by a cent, and a fully
    /// refunded entry must net to exactly zero in every currency (SPEC §1.3).
    pub(crate) fn converted(
        &self,
        idx: usize,
        to: crate::money::Currency,
        date: chrono::NaiveDate,
        same_date: bool,
    ) -> Result<(Decimal, Option<crate::fx::AppliedRate>)> {
        let e = &self.entries[idx];
        let rounding = self.plan.doc().rounding;
        if e.currency == to {
            return Ok((e.amount, None));
        }
        if let (true, Some(orig), Explain::Reversal(w)) =
            (same_date, self.side[idx].reverses, &e.explain)
        {
            let (c, rate) = self.converted(orig, to, date, false)?;
            let cum = |x: Decimal| -> Result<Decimal> {
                if x == w.original {
                    return Ok(c);
                }
                let raw = c
                    .checked_mul(x)
                    .and_then(|v| v.checked_div(w.original))
                    .ok_or_else(|| Error::overflow("fx"))?;
                Ok(rounding.round(raw, to.digits()))
            };
            return Ok((-(cum(w.reversed_total)? - cum(w.reversed_before)?), rate));
        }
        self.fx.convert(e.amount, e.currency, to, date, rounding)
    }

    fn on_touch(&mut self, ev: &Event, id: &Arc<str>, t: &Touch, path: &Loc) -> Result<()> {
        let pi = self.partner(&t.partner, || format!("{path}.partner"))?;
        let ctr = &mut self.counters[pi];
        ctr.clicks += 1;
        ctr.activity.last_active = Some(ev.at);
        let blocked = self
            .fraud
            .touch(&self.plan.doc().fraud, &self.partners[pi], pi, t, id);
        let customer: Arc<str> = Arc::from(t.customer.as_str());
        let rec = TouchRec {
            event: id.clone(),
            partner: pi,
            channel: t.channel,
            campaign: t.campaign.as_deref().map(Arc::from),
            at: ev.at,
            blocked,
        };
        let touches = &mut self.customers.entry(customer.clone()).or_default().touches;
        // Every conversion weighs and explains all of a customer's touches: a flood of
        // touches for one customer would make each conversion cost (and report) as much.
        if touches.len() >= self.limits.max_touches_per_customer {
            return Err(crate::limits::exceeded(
                &path.to_string(),
                "max_touches_per_customer",
                touches.len() + 1,
                self.limits.max_touches_per_customer,
            ));
        }
        touches.push(rec);
        // Pay per click: paid to the touch's partner directly, when it may earn.
        if !self
            .plan
            .version(self.plan.version_at(ev.at))
            .doc()
            .rules
            .iter()
            .any(|r| r.when.event == RuleEvent::Touch)
        {
            return Ok(());
        }
        // A touch that a fraud signal blocked earns nothing either.
        if blocked.is_some() || self.partners[pi].status_at(ev.at) != PartnerStatus::Active {
            return Ok(());
        }
        let why = Arc::new(crate::ledger::AttributionWhy {
            model: self.plan.doc().attribution.model.clone(),
            lock: "touch",
            locked_until: None,
            reason: None,
            decided_by: id.clone(),
            decided_at: ev.at,
            touches: Vec::new(),
            weights: vec![(self.partner_ids[pi].clone(), Decimal::ONE)],
        });
        let credit = attribution::Credit {
            partner: pi,
            weight: Decimal::ONE,
            channel: t.channel,
            campaign: t.campaign.as_deref().map(Arc::from),
        };
        let currency = self.plan.doc().currency;
        self.pay(
            ev,
            id,
            RuleEvent::Touch,
            &customer,
            &why,
            std::slice::from_ref(&credit),
            None,
            currency,
        )
    }

    fn on_signup(
        &mut self,
        ev: &Event,
        id: &Arc<str>,
        customer: &str,
        qualified: Option<bool>,
    ) -> Result<()> {
        if !self.rewards_signups {
            return Ok(());
        }
        let customer: Arc<str> = Arc::from(customer);
        let decision = self.attribution(&customer, id, ev.at)?;
        let c = self.customers.entry(customer.clone()).or_default();
        // A signup reward is paid once per customer, at its first signup that the host did
        // not mark unqualified.
        if c.signup_paid || qualified == Some(false) || decision.credits.is_empty() {
            return Ok(());
        }
        c.signup_paid = true;
        let currency = self.plan.doc().currency;
        self.pay(
            ev,
            id,
            RuleEvent::Signup,
            &customer,
            &decision.why,
            &decision.credits,
            None,
            currency,
        )
    }

    /// The attribution that credits a conversion of `customer` at `at`: the latest manual
    /// assignment, else the first conversion's decision while the lock holds, else one
    /// decided now (which is kept as the first conversion's when there was none).
    fn attribution(
        &mut self,
        customer: &Arc<str>,
        event: &Arc<str>,
        at: Instant,
    ) -> Result<Arc<Decision>> {
        let settings = &self.plan.doc().attribution;
        let c = self.customers.entry(customer.clone()).or_default();
        let d = if let Some(a) = &c.assigned {
            a.clone()
        } else if let Some(first) = c
            .decision
            .as_ref()
            .filter(|d| locks::holds(&settings.lock, d, at))
        {
            first.clone()
        } else {
            let locked_until = match &c.decision {
                Some(first) => first.why.locked_until,
                None => locks::until(&settings.lock, self.plan.tz(), at),
            };
            let d = Arc::new(attribution::decide(
                settings,
                &self.partners,
                &self.partner_ids,
                &c.touches,
                &Conversion {
                    event,
                    at,
                    lock: locks::label(&settings.lock),
                    locked_until,
                },
            )?);
            c.decision.get_or_insert_with(|| d.clone());
            d
        };
        // A customer is unattributed until some conversion of it is credited; each partner
        // counts it as a referral once, from the first conversion credited to it.
        if d.credits.is_empty() {
            if !c.attributed && !self.unattributed.contains(customer) {
                self.unattributed.insert(customer.clone());
            }
        } else {
            if !c.attributed {
                c.attributed = true;
                self.attributed += 1;
                self.unattributed.remove(customer);
            }
            for cr in &d.credits {
                if !c.referred.contains(&cr.partner) {
                    c.referred.push(cr.partner);
                    let ctr = &mut self.counters[cr.partner];
                    ctr.referrals += 1;
                    ctr.activity.first_referral.get_or_insert(at);
                    if self.incentives.on {
                        self.incentives.pending_referrals.push(cr.partner);
                    }
                }
            }
        }
        Ok(d)
    }

    fn on_payment(&mut self, ev: &Event, id: &Arc<str>, p: &Payment) -> Result<()> {
        let doc = self.plan.doc();
        // A returning customer whose first attribution still holds (the common case) costs
        // one lookup; an assignment goes the long way, which does its metrics bookkeeping.
        let known = self
            .customers
            .get_key_value(p.customer.as_str())
            .and_then(|(k, c)| {
                c.decision
                    .as_ref()
                    .filter(|d| {
                        c.assigned.is_none() && locks::holds(&doc.attribution.lock, d, ev.at)
                    })
                    .map(|d| (k.clone(), d.clone()))
            });
        let (customer, decision) = match known {
            Some(kd) => kd,
            None => {
                let customer = self.customer_key(&p.customer);
                let decision = self.attribution(&customer, id, ev.at)?;
                (customer, decision)
            }
        };
        let doc = self.plan.doc();
        let (number, first_at, influencers) = match self.customers.get_mut(&*customer) {
            Some(c) => {
                c.payments += 1;
                (
                    c.payments,
                    *c.first_payment_at.get_or_insert(ev.at),
                    influence::influencers(&doc.attribution, &c.touches, ev.at, &decision.credits),
                )
            }
            None => (1, ev.at, SmallVec::new()),
        };
        if !influencers.is_empty() {
            let base = match doc.commission_base {
                CommissionBase::Net => p.amount - p.tax - p.discount,
                CommissionBase::Gross => p.amount,
            };
            let date = local_date(self.plan.tz(), ev.at);
            let amount = self.to_plan(base, p.currency, &|| date)?;
            for &pi in &influencers {
                self.counters[pi].influenced += amount;
            }
            self.influenced += amount;
        }
        let first = self.entries.len();
        if !decision.credits.is_empty() {
            let paying = Paying {
                number,
                first_at,
                payment: p,
            };
            self.pay(
                ev,
                id,
                RuleEvent::Payment,
                &customer,
                &decision.why,
                &decision.credits,
                Some(paying),
                p.currency,
            )?;
        }
        if self
            .only_payments
            .as_ref()
            .is_some_and(|only| !only.contains(id))
        {
            return Ok(());
        }
        self.payments.insert(
            id.clone(),
            PaymentRec {
                amount: p.amount,
                currency: p.currency,
                refunded: Decimal::ZERO,
                first,
                count: u32::try_from(self.entries.len() - first).unwrap_or(u32::MAX),
                credited: decision.credits.iter().map(|c| c.partner).collect(),
            },
        );
        Ok(())
    }

    /// Prices every credited partner's share of an event and writes the entries.
    #[allow(clippy::too_many_arguments)]
    fn pay(
        &mut self,
        ev: &Event,
        id: &Arc<str>,
        kind: RuleEvent,
        customer: &Arc<str>,
        why: &Arc<crate::ledger::AttributionWhy>,
        credits: &[attribution::Credit],
        paying: Option<Paying<'_>>,
        currency: crate::money::Currency,
    ) -> Result<()> {
        // The plan version in force (or the customer's grandfathered one) prices the event.
        let version = match kind {
            RuleEvent::Touch => self.plan.version_at(ev.at),
            _ => self.version_for(ev.at, Some(customer)),
        };
        let plan = self.plan.version(version);
        let version_why = self.plan.effective_from(version).map(|from| VersionWhy {
            index: version,
            effective_from: from,
            grandfathered: version != self.plan.version_at(ev.at),
        });
        let doc = plan.doc();
        let rule_base = self.incentives.rule_base(version);
        let start = self.entries.len();
        let digits = currency.digits();
        let payment = paying.as_ref().map(|p| p.payment);
        let payment_number = paying.as_ref().map(|p| p.number);
        let first_payment_at = paying.as_ref().map(|p| p.first_at);
        let keys: SmallVec<[(Decimal, &str); 2]> = credits
            .iter()
            .map(|c| (c.weight, &*self.partner_ids[c.partner]))
            .collect();
        let base = payment.map(|p| match doc.commission_base {
            CommissionBase::Net => p.amount - p.tax - p.discount,
            CommissionBase::Gross => p.amount,
        });
        // One credited partner takes the whole base; several split it by largest remainder.
        let credited: SmallVec<[Decimal; 2]> = match base {
            Some(b) if credits.len() == 1 => smallvec::smallvec![b],
            Some(b) => allocate(b, digits, &keys)
                .ok_or_else(|| Error::new(ErrorCode::Internal, "", "allocation failed"))?
                .into(),
            None => smallvec::smallvec![Decimal::ZERO; credits.len()],
        };
        // The local date costs a zone lookup: only conversions need it.
        let date = std::cell::OnceCell::new();
        let date = || *date.get_or_init(|| local_date(self.plan.tz(), ev.at));
        let hold = add_days_local(self.plan.tz(), ev.at, i64::from(doc.lifecycle.hold_days))
            .ok_or_else(|| Error::overflow("plan.lifecycle.hold_days"))?;
        // Partner `ci`'s part of an amount of the whole event. Every partner usually shares the
        // same amounts (one rule), so each split is computed once per event, not per partner.
        let splits: std::cell::RefCell<SmallVec<[Split; 1]>> = Default::default();
        let part = |whole: Decimal, ci: usize| -> Result<Decimal> {
            let mut splits = splits.borrow_mut();
            if let Some((_, parts)) = splits.iter().find(|(w, _)| *w == whole) {
                return Ok(parts[ci]);
            }
            let parts = allocate(whole, digits, &keys)
                .ok_or_else(|| Error::new(ErrorCode::Internal, "", "allocation failed"))?;
            let p = parts[ci];
            splits.push((whole, parts));
            Ok(p)
        };
        for (ci, credit) in credits.iter().enumerate() {
            // A new referral for this partner: its first credited conversion of the customer
            // (counted by `attribution` just before, for the partner metrics).
            let new_referral = self.incentives.pending_referrals.contains(&credit.partner);
            let partner = &self.partners[credit.partner];
            let mut credited_plan = Decimal::ZERO;
            if payment.is_some() {
                let plan_amount = self.to_plan(credited[ci], currency, &date)?;
                let ctr = &mut self.counters[credit.partner];
                ctr.conversions += 1;
                ctr.revenue += plan_amount;
                ctr.activity.last_active = Some(ev.at);
                if doc.fraud.velocity.is_some() {
                    self.fraud.conversion(&doc.fraud, credit.partner, ev.at, id);
                }
                credited_plan = plan_amount;
                if self.incentives.on {
                    self.incentives
                        .pending_credits
                        .push((credit.partner, plan_amount));
                }
            }
            // A partner earns only while active; the credit (and the revenue it sourced)
            // stays with it.
            if partner.status_at(ev.at) != PartnerStatus::Active {
                continue;
            }
            let ctx = Ctx {
                event: kind,
                at: ev.at,
                partner,
                channel: Some(credit.channel),
                campaign: credit.campaign.as_deref(),
                payment,
                payment_number,
                first_payment_at,
                tier: self.incentives.tier(credit.partner).map(|t| &**t),
            };
            let flat_share = |flat: Decimal| {
                let (converted, rate) =
                    self.fx
                        .convert(flat, doc.currency, currency, date(), doc.rounding)?;
                Ok((converted, rate, part(converted, ci)?))
            };
            // A percent of a payment shared by several partners is taken of the whole base,
            // rounded once, and split like the base, so the shares add up to exactly what
            // one partner would have earned.
            let share = |whole: Decimal| part(whole, ci);
            let pricing = Pricing {
                plan,
                fx: &self.fx,
                at: ev.at,
                currency,
                partner: credit.partner,
                customer: Some(customer),
                credited: credited[ci],
                flat_share: &flat_share,
                whole: base.filter(|_| credits.len() > 1),
                share: &share,
                tier: self.incentives.tier(credit.partner),
                metrics: self.incentives.metrics(credit.partner),
                credited_plan,
                new_referral,
                version,
                slots: self.incentives.cap_slots(version),
            };
            let mut checks: SmallVec<[RuleCheck; 1]> = SmallVec::with_capacity(doc.rules.len());
            let mut priced: SmallVec<[(usize, commission::Priced); 1]> = SmallVec::new();
            for (ri, rule) in doc.rules.iter().enumerate() {
                let because = commission::check(plan, &self.fx, ri, rule, &ctx)?;
                let matched = because.is_none();
                let mut amount = None;
                if matched && (doc.combine != Combine::FirstMatch || priced.is_empty()) {
                    let pr = commission::price(ri, rule, &pricing, &self.tallies)?;
                    if doc.combine == Combine::Max {
                        amount = Some(pr.amount);
                    }
                    priced.push((ri, pr));
                }
                checks.push(RuleCheck {
                    rule: self.rule_ids[rule_base + ri].clone(),
                    matched,
                    because,
                    amount,
                    paid: false,
                });
            }
            if doc.combine == Combine::Max && priced.len() > 1 {
                // Ties go to the earlier rule: keep the first maximum.
                let best = priced.iter().enumerate().fold(0, |b, (i, (_, p))| {
                    if p.amount > priced[b].1.amount { i } else { b }
                });
                let winner = priced.swap_remove(best);
                priced = smallvec::smallvec![winner];
            }
            let n_priced = priced.len();
            for (k, (ri, pr)) in priced.into_iter().enumerate() {
                // A retroactive rule remembers every event it prices, paid or not (a 0% band
                // writes no entry, and a later crossing tops it up).
                if let crate::ledger::RewardWhy::Tiered { band, .. } = &pr.reward
                    && band.mode == BandMode::Retroactive
                {
                    self.incentives.quotes.push(Quote {
                        rule: ri,
                        version,
                        partner: credit.partner,
                        credited: credited[ci],
                        currency,
                        band: (**band).clone(),
                        entry: (!pr.amount.is_zero()).then_some(self.entries.len()),
                        instrument: doc.rules[ri].reward.instrument,
                    });
                }
                if pr.amount.is_zero() {
                    continue;
                }
                let rule = &doc.rules[ri];
                // Every entry carries the whole rule check; only the last one takes it.
                let mut checks = if k + 1 == n_priced {
                    std::mem::take(&mut checks)
                } else {
                    checks.clone()
                };
                checks[ri].paid = true;
                let plan_amount = self.to_plan(pr.amount, currency, &date)?;
                let capped =
                    rule.limits.max_per_customer.is_some() || rule.limits.max_per_period.is_some();
                let entry = Entry {
                    id: make_id(
                        &mut self.id_buf,
                        &[
                            "commission",
                            id,
                            &rule.id,
                            &self.partner_ids[credit.partner],
                        ],
                    ),
                    partner: self.partner_ids[credit.partner].clone(),
                    kind: EntryKind::Commission,
                    event: id.clone(),
                    customer: Some(customer.clone()),
                    rule: Some(checks[ri].rule.clone()),
                    amount: pr.amount,
                    currency,
                    earned_at: ev.at,
                    available_at: hold,
                    fx_anchor: ev.at,
                    explain: Explain::Commission(Arc::new(CommissionWhy {
                        attribution: why.clone(),
                        weight: credit.weight,
                        base: payment.zip(base).map(|(p, b)| BaseWhy {
                            basis: doc.commission_base,
                            amount: p.amount,
                            tax: p.tax,
                            discount: p.discount,
                            base: b,
                            credited: credited[ci],
                        }),
                        payment_number,
                        rules: checks,
                        combine: doc.combine,
                        reward: pr.reward,
                        computed: pr.computed,
                        rounded: pr.rounded,
                        limits: pr.limits,
                        tier: self.incentives.tier(credit.partner).cloned(),
                        instrument: rule.reward.instrument,
                        version: version_why,
                    })),
                };
                if capped {
                    commission::commit(rule, &pr.keys, plan_amount, &mut self.tallies);
                }
                // Written straight into the ledger (field by field, so the borrows of the
                // plan and partners above stay valid): an entry is moved once, not thrice.
                self.entries.push(entry);
                self.side.push(Side {
                    caps: capped.then(|| Box::new(pr.keys)),
                    reverses: None,
                    accounted: Decimal::ZERO,
                    owner: credit.partner,
                });
            }
        }
        drop(keys);
        self.after_pricing(ev, start, version, hold)
    }

    /// Converts an amount to plan currency on `date()` (exact, and no date asked for, when
    /// already in it).
    pub(crate) fn to_plan(
        &self,
        amount: Decimal,
        currency: crate::money::Currency,
        date: &dyn Fn() -> chrono::NaiveDate,
    ) -> Result<Decimal> {
        let doc = self.plan.doc();
        if currency == doc.currency {
            return Ok(amount);
        }
        Ok(self
            .fx
            .convert(amount, currency, doc.currency, date(), doc.rounding)?
            .0)
    }

    /// The partner index of every entry, parallel to `entries`.
    pub(crate) fn entry_owners(&self) -> Result<Vec<usize>> {
        self.side
            .iter()
            .map(|s| {
                (s.owner < self.partners.len())
                    .then_some(s.owner)
                    .ok_or_else(|| {
                        Error::new(ErrorCode::Internal, "", "entry of an undeclared partner")
                    })
            })
            .collect()
    }

    /// Customers attributed to at least one partner.
    pub(crate) fn attributed_customers(&self) -> u64 {
        self.attributed
    }

    pub(crate) fn payment_mut(&mut self, id: &str) -> Option<&mut PaymentRec> {
        self.payments.get_mut(id)
    }

    pub(crate) fn tallies_mut(&mut self) -> &mut Tallies {
        &mut self.tallies
    }
}

/// Where an event sits in the input, rendered as `events[17]` only when an error needs it.
pub(crate) struct Loc(pub usize);

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "events[{}]", self.0)
    }
}

/// Parents must exist and must not form a cycle.
fn check_parents(partners: &[Partner], index: &HashMap<Arc<str>, usize>) -> Result<()> {
    for (i, p) in partners.iter().enumerate() {
        if let Some(parent) = &p.parent
            && !index.contains_key(parent.as_str())
        {
            return Err(Error::new(
                ErrorCode::UnknownPartner,
                format!("partners[{i}].parent"),
                format!("parent \"{parent}\" is not declared in `partners`"),
            ));
        }
    }
    for (i, p) in partners.iter().enumerate() {
        let mut seen = vec![i];
        let mut cur = p.parent.as_deref();
        while let Some(id) = cur {
            let j = index[id];
            if seen.contains(&j) {
                let chain: Vec<&str> = seen
                    .iter()
                    .map(|&k| partners[k].id.as_str())
                    .chain(std::iter::once(id))
                    .collect();
                return Err(Error::new(
                    ErrorCode::CyclicParent,
                    format!("partners[{i}].parent"),
                    format!("parents form a cycle: {}", chain.join(" → ")),
                ));
            }
            seen.push(j);
            cur = partners[j].parent.as_deref();
        }
    }
    Ok(())
}

/// Canonical order with duplicates resolved: the indices of the events to apply, and how
/// many identical duplicates were dropped (counted only among events up to `as_of`).
pub(crate) fn canonical_order(events: &[Event], as_of: Instant) -> Result<(Vec<usize>, u64)> {
    // Same id: identical content is a duplicate (the first in input order is kept), anything
    // else a conflict, whatever the instants. Ids are grouped by sorting (hash, position)
    // pairs — far cheaper than a map over every id — and compared for real only when their
    // hashes agree.
    let hasher = foldhash::fast::FixedState::with_seed(0x7061_7274_6e65_726b);
    let mut by_hash: Vec<(u64, usize)> = events
        .iter()
        .enumerate()
        .map(|(i, ev)| (std::hash::BuildHasher::hash_one(&hasher, &*ev.id), i))
        .collect();
    by_hash.sort_unstable();
    let mut dropped = vec![false; events.len()];
    // (later, first) of the conflict earliest in input order, so that the error does not
    // depend on hash order.
    let mut conflict: Option<(usize, usize)> = None;
    let mut start = 0;
    while start < by_hash.len() {
        let mut end = start + 1;
        while end < by_hash.len() && by_hash[end].0 == by_hash[start].0 {
            end += 1;
        }
        // Within a run of equal hashes (almost always one event), each event meets the
        // first event of its id. A long run (a flood of crafted collisions) goes through a
        // map rather than pairwise comparisons.
        let run = &by_hash[start..end];
        let mut firsts: Option<HashMap<&str, usize>> = None;
        for (k, &(_, i)) in run.iter().enumerate().skip(1) {
            let j = if run.len() <= 8 {
                run[..k]
                    .iter()
                    .map(|&(_, j)| j)
                    .find(|&j| events[j].id == events[i].id && !dropped[j])
            } else {
                let firsts = firsts.get_or_insert_with(|| {
                    let mut m = HashMap::default();
                    m.insert(&*events[run[0].1].id, run[0].1);
                    m
                });
                match firsts.entry(&*events[i].id) {
                    std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(i);
                        None
                    }
                }
            };
            let Some(j) = j else { continue };
            if events[j] == events[i] {
                dropped[i] = true;
            } else if conflict.is_none_or(|(later, _)| i < later) {
                conflict = Some((i, j));
            }
        }
        start = end;
    }
    if let Some((i, j)) = conflict {
        return Err(Error::new(
            ErrorCode::ConflictingEvent,
            format!("events[{i}]"),
            format!(
                "event id \"{}\" was already given (events[{j}]) with different content; \
                 a corrected event needs a new id",
                events[i].id
            ),
        ));
    }
    drop(by_hash);
    let mut dups = 0;
    let mut keys: Vec<((Instant, crate::input::Kind, &str), usize)> =
        Vec::with_capacity(events.len());
    for (i, ev) in events.iter().enumerate() {
        if ev.at > as_of {
            continue;
        }
        if dropped[i] {
            dups += 1;
        } else {
            keys.push((ev.order_key(), i));
        }
    }
    // Ids are unique now, so (at, kind rank, id) is a total order: an unstable sort is
    // deterministic. Event logs usually arrive in order already: then no sort at all.
    if !keys.is_sorted_by(|a, b| a.0 <= b.0) {
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
    Ok((keys.into_iter().map(|(_, i)| i).collect(), dups))
}

/// Evaluates a whole input: the reference path (SPEC §12 batch), under the default
/// [`Limits`] for what only evaluation can count (touches per customer, statements per
/// partner).
pub fn evaluate(input: &Input) -> Result<Report> {
    evaluate_with(input, &Limits::default())
}

/// [`evaluate`] under the host's `limits`. The input's own counts are not checked here
/// ([`Limits::check_input`] does that, and [`Limits::parse_input`] calls it).
pub fn evaluate_with(input: &Input, limits: &Limits) -> Result<Report> {
    let fx = FxTable::new(&input.fx)?;
    let mut state = State::new(input.plan.clone(), input.partners.clone(), fx)?;
    state.limits = limits.clone();
    let (order, dups) = canonical_order(&input.events, input.as_of)?;
    state.duplicates_ignored = dups;
    let payments = order
        .iter()
        .filter(|&&i| matches!(input.events[i].body, Body::Payment(_)))
        .count();
    let reversals = order
        .iter()
        .filter(|&&i| {
            matches!(
                input.events[i].body,
                Body::Refund { .. } | Body::Chargeback { .. }
            )
        })
        .count();
    let referenced: std::collections::HashSet<Arc<str>, foldhash::fast::RandomState> = order
        .iter()
        .filter_map(|&i| match &input.events[i].body {
            Body::Refund { payment, .. } | Body::Chargeback { payment, .. } => {
                Some(Arc::from(payment.as_str()))
            }
            _ => None,
        })
        .collect();
    state.only_payments = Some(referenced);
    state.reserve(reversals, payments + reversals);
    for i in order {
        state.apply(&input.events[i], i)?;
    }
    state.settle(input.as_of)?;
    report::build_owned(state, input.as_of)
}

/// Parses an input document and evaluates it, under the default [`Limits`].
pub fn evaluate_json(json: &str) -> Result<Report> {
    evaluate_json_with(json, &Limits::default())
}

/// Parses an input document under the host's `limits` and evaluates it.
pub fn evaluate_json_with(json: &str, limits: &Limits) -> Result<Report> {
    evaluate_with(&limits.parse_input(json)?, limits)
}
