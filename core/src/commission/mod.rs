//! Commission rules (SPEC §4): conditions, rewards, limits and the combine policies.
//!
//! Pricing is split in two: [`price`] computes what a rule would pay (after floors and caps)
//! without touching any state, and the engine commits the winner's amount to the cap
//! tallies. That split is what lets `combine: "max"` compare rules in money, after caps.

pub(crate) mod bands;
mod bonuses;
pub(crate) mod conditions;
mod overrides;
pub(crate) mod referee;

use std::sync::Arc;

use rust_decimal::Decimal;

pub(crate) use conditions::{Ctx, check};
pub(crate) use overrides::follow_target;

use crate::engine::HashMap;
use crate::error::{Error, ErrorCode, Result};
use crate::fx::FxTable;
use crate::ledger::{LimitNote, RewardWhy};
use crate::money::{Currency, Rounding};
use crate::plan::{Plan, RewardKind, Rule};
use crate::time::{Instant, Period, local_date};

/// Net amounts earned so far under capped rules, in plan currency.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tallies {
    /// (rule slot, partner, customer) → net earned: `max_per_customer`.
    pub per_customer: HashMap<(usize, usize, Arc<str>), Decimal>,
    /// (rule slot, partner, period) → net earned: `max_per_period`.
    pub per_period: HashMap<(usize, usize, Period), Decimal>,
}

/// Where an entry counts against caps, so a reversal can give the room back.
#[derive(Clone, Debug)]
pub(crate) struct CapKeys {
    /// The rule's index in its plan version.
    pub rule: usize,
    /// That version.
    pub version: usize,
    /// The rule's cap slot (one per rule id across versions).
    pub slot: usize,
    pub partner: usize,
    pub customer: Option<Arc<str>>,
    pub period: Option<Period>,
}

/// What a rule would pay one partner for one event.
#[derive(Clone, Debug)]
pub(crate) struct Priced {
    pub reward: RewardWhy,
    pub computed: Decimal,
    pub rounded: Decimal,
    pub limits: Vec<LimitNote>,
    pub amount: Decimal,
    pub keys: CapKeys,
}

/// The event being priced, as pricing needs it.
pub(crate) struct Pricing<'a> {
    pub plan: &'a Plan,
    pub fx: &'a FxTable,
    pub at: Instant,
    pub currency: Currency,
    pub partner: usize,
    pub customer: Option<&'a Arc<str>>,
    /// The partner's credited base (payment rules).
    pub credited: Decimal,
    /// The partner's part of each flat reward, computed by the caller across partners.
    pub flat_share:
        &'a dyn Fn(Decimal) -> Result<(Decimal, Option<crate::fx::AppliedRate>, Decimal)>,
    /// The whole base, when several partners share the payment.
    pub whole: Option<Decimal>,
    /// The partner's part of an amount of the whole event (largest remainder by weight).
    pub share: &'a dyn Fn(Decimal) -> Result<Decimal>,
    /// The partner's tier in force at the event (plans with tiers).
    pub tier: Option<&'a Arc<str>>,
    /// The partner's metrics before this event (plans with tiers, bands or bonuses).
    pub metrics: Option<&'a crate::incentives::metrics::PartnerMetrics>,
    /// `credited` in plan currency.
    pub credited_plan: Decimal,
    /// Whether this event is the customer's first conversion (a new referral).
    pub new_referral: bool,
    /// The plan version pricing the event.
    pub version: usize,
    /// Each rule's cap slot in that version: rules of one id share caps across versions.
    pub slots: &'a [usize],
}

/// Prices `rule` (index `idx`) for the partner in `p`, given the tallies so far.
pub(crate) fn price(idx: usize, rule: &Rule, p: &Pricing<'_>, tallies: &Tallies) -> Result<Priced> {
    let plan = p.plan.doc();
    let rounding = plan.rounding;
    let digits = p.currency.digits();
    // `split`: the amount after rounding and splitting, for a percent shared by partners.
    let mut split = None;
    let (reward, computed) = match &rule.reward.kind {
        RewardKind::Percent(pct) => {
            // Shared by several partners: taken of the whole base, rounded once, then split.
            let of = p.whole.unwrap_or(p.credited);
            // percent / 100 exactly, by moving the decimal point: cheaper than a division,
            // and it keeps the product exact.
            let raw = bands::percent_of(of, pct.get())
                .ok_or_else(|| Error::overflow(format!("plan.rules[{idx}].reward.percent")))?;
            let parts = match p.whole {
                Some(_) => {
                    let whole = rounding.round(raw, digits);
                    let share = (p.share)(whole)?;
                    split = Some(share);
                    Some(crate::ledger::Split { whole, share })
                }
                None => None,
            };
            (
                RewardWhy::Percent {
                    percent: pct.get(),
                    of,
                    split: parts,
                },
                raw,
            )
        }
        RewardKind::Flat(flat) => {
            let (converted, rate, share) = (p.flat_share)(flat.get())?;
            (
                RewardWhy::Flat {
                    flat: flat.get(),
                    plan_currency: plan.currency,
                    converted: rate.map(|r| (converted, r)),
                    share,
                },
                share,
            )
        }
        RewardKind::PercentByTier(rates) => {
            // Validation makes every level's rate explicit and plans with this reward have
            // tiers, so a partner always has a tier and the tier a rate.
            let tier = p.tier.ok_or_else(|| {
                Error::new(ErrorCode::Internal, "", "percent_by_tier without a tier")
            })?;
            let pct = rates.get(&**tier).map(|d| d.get()).ok_or_else(|| {
                Error::new(
                    ErrorCode::Internal,
                    "",
                    "percent_by_tier without the tier's rate",
                )
            })?;
            let raw = bands::percent_of(p.credited, pct).ok_or_else(|| {
                Error::overflow(format!("plan.rules[{idx}].reward.percent_by_tier"))
            })?;
            (
                RewardWhy::PercentByTier {
                    tier: tier.clone(),
                    percent: pct,
                    of: p.credited,
                },
                raw,
            )
        }
        RewardKind::Tiered(b) => {
            let (band, raw) = bands::quote(b, p, idx)?;
            (
                RewardWhy::Tiered {
                    band: Box::new(band),
                    of: p.credited,
                },
                raw,
            )
        }
    };
    let rounded = split.unwrap_or_else(|| rounding.round(computed, digits));
    let mut amount = rounded;
    let mut limits = Vec::new();
    let l = &rule.limits;
    // Limits are in plan currency; they convert at the event's date, and only when a
    // limit exists (the local date costs a time-zone lookup).
    let to_event = |v: Decimal, r: Rounding| -> Result<Decimal> {
        if plan.currency == p.currency {
            return Ok(r.round(v, digits));
        }
        let date = local_date(p.plan.tz(), p.at);
        Ok(p.fx.convert(v, plan.currency, p.currency, date, r)?.0)
    };
    let period = l
        .max_per_period
        .as_ref()
        .map(|c| Period::containing(c.period, p.plan.tz(), p.at));
    let slot = p.slots.get(idx).copied().unwrap_or(idx);
    let keys = CapKeys {
        rule: idx,
        version: p.version,
        slot,
        partner: p.partner,
        // Only a per-customer cap needs the customer (and an Arc clone is an atomic op).
        customer: l.max_per_customer.and(p.customer.cloned()),
        period,
    };
    if let Some(min) = l.min_per_event {
        let v = to_event(min.get(), rounding)?;
        if amount < v {
            limits.push(note("min_per_event", v, None, None, amount, v));
            amount = v;
        }
    }
    if let Some(max) = l.max_per_event {
        // Caps convert rounding down: a converted cap must never pay more than the cap.
        let v = to_event(max.get(), Rounding::Down)?;
        if amount > v {
            limits.push(note("max_per_event", v, None, None, amount, v));
            amount = v;
        }
    }
    if let (Some(max), Some(customer)) = (l.max_per_customer, &keys.customer) {
        let used = tallies
            .per_customer
            .get(&(slot, p.partner, customer.clone()))
            .copied()
            .unwrap_or_default();
        amount = cap(
            "max_per_customer",
            max.get(),
            used,
            None,
            amount,
            &to_event,
            &mut limits,
        )?;
    }
    if let (Some(c), Some(per)) = (&l.max_per_period, period) {
        let used = tallies
            .per_period
            .get(&(slot, p.partner, per))
            .copied()
            .unwrap_or_default();
        amount = cap(
            "max_per_period",
            c.amount.get(),
            used,
            Some(per),
            amount,
            &to_event,
            &mut limits,
        )?;
    }
    Ok(Priced {
        reward,
        computed,
        rounded,
        limits,
        amount,
        keys,
    })
}

fn note(
    limit: &'static str,
    value: Decimal,
    used: Option<Decimal>,
    period: Option<Period>,
    before: Decimal,
    after: Decimal,
) -> LimitNote {
    LimitNote {
        limit,
        value,
        used,
        period,
        before,
        after,
    }
}

/// Applies a cap over several events: what is left of `max` (plan currency) after `used`.
fn cap(
    limit: &'static str,
    max: Decimal,
    used: Decimal,
    period: Option<Period>,
    amount: Decimal,
    to_event: &dyn Fn(Decimal, Rounding) -> Result<Decimal>,
    limits: &mut Vec<LimitNote>,
) -> Result<Decimal> {
    let room_plan = (max - used).max(Decimal::ZERO);
    let room = to_event(room_plan, Rounding::Down)?;
    if amount > room {
        limits.push(note(
            limit,
            to_event(max, Rounding::Down)?,
            Some(to_event(used, Rounding::Down)?),
            period,
            amount,
            room,
        ));
        return Ok(room);
    }
    Ok(amount)
}

/// Records `amount_plan` (plan currency, signed) against the caps an entry counts toward.
pub(crate) fn commit(rule: &Rule, keys: &CapKeys, amount_plan: Decimal, tallies: &mut Tallies) {
    if rule.limits.max_per_customer.is_some()
        && let Some(c) = &keys.customer
    {
        *tallies
            .per_customer
            .entry((keys.slot, keys.partner, c.clone()))
            .or_default() += amount_plan;
    }
    if rule.limits.max_per_period.is_some()
        && let Some(per) = keys.period
    {
        *tallies
            .per_period
            .entry((keys.slot, keys.partner, per))
            .or_default() += amount_plan;
    }
}
