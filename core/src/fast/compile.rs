//! The plan compiled into the fast path's evaluation form: every amount in integer minor
//! units with its scale, every choice the canonical path makes per event made once here.
//!
//! [`FastPlan::compile`] either gives the compiled form or says, in words, which feature
//! keeps the plan on the canonical path (`Err(reason)`). The features compiled natively are
//! listed on [`FastPlan`].

use rust_decimal::Decimal;

use crate::commission::conditions::listed;
use crate::money::{Currency, Rounding};
use crate::plan::{
    BandMode, BandPeriod, Bands, Channel, Clawback, Combine, CommissionBase, Demotion, FraudAction,
    FxDate, Lock, Metric, NegativeBalance, PayoutCurrency, Plan, Requires, RewardKind, Rule,
    RuleEvent, TierEvaluation, Window,
};

use super::cal::{Calendar, nanos_wide};

/// An exact decimal as `mantissa / 10^scale`, for amounts compared with minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub mantissa: i128,
    pub scale: u32,
}

/// Largest scale the compiled form accepts: `10^(scale + 2)` and the products with minor
/// units stay far inside `i128`.
const MAX_SCALE: u32 = 12;
/// Largest mantissa the compiled form accepts (10^18): with minor units below 10^17 every
/// product stays below 2^127.
const MAX_MANTISSA: i128 = 1_000_000_000_000_000_000;

impl Fixed {
    fn of(d: Decimal, what: &str) -> Result<Fixed, String> {
        let f = Fixed {
            mantissa: d.mantissa(),
            scale: d.scale(),
        };
        if f.scale > MAX_SCALE || f.mantissa.abs() > MAX_MANTISSA {
            return Err(format!(
                "{what} {d} has more digits than the fast path's integer form"
            ));
        }
        Ok(f)
    }

    /// `self` in units of `10^-digits`, rounded with `mode`.
    pub fn to_minor(self, digits: u32, mode: Rounding) -> i128 {
        if self.scale <= digits {
            self.mantissa * pow10(digits - self.scale)
        } else {
            round_div(self.mantissa, pow10(self.scale - digits), mode)
        }
    }

    /// Whether `minor` (units of `10^-digits`) is at least `self`.
    pub fn le_minor(self, minor: i128, digits: u32) -> bool {
        // Both sides at the larger scale: minor × 10^(s − d) ≥ mantissa × 10^(d − s).
        let s = self.scale.max(digits);
        minor * pow10(s - digits) >= self.mantissa * pow10(s - self.scale)
    }
}

/// 10^n for n ≤ 36.
pub(crate) fn pow10(n: u32) -> i128 {
    10i128.pow(n)
}

/// The integer widths [`round_div`] works in: `i32` for everyday commissions and `i64` in
/// the fold's hot loop (each division several times cheaper than the next width's), `i128`
/// where products can exceed 64 bits.
pub(crate) trait Int:
    Copy
    + Ord
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Rem<Output = Self>
    + std::ops::Neg<Output = Self>
    + From<i8>
{
}

impl Int for i32 {}
impl Int for i64 {}
impl Int for i128 {}

/// `num / den` (den > 0) rounded to an integer with `mode`, exactly as `Rounding::round`
/// rounds the exact quotient. The one rounding routine of the fast path, in either width.
/// Always inlined: the fold calls it per payment, and an out-of-line generic call there
/// spills the fold's registers (the profile showed it as its own symbol).
#[inline(always)]
pub(crate) fn round_div<T: Int>(num: T, den: T, mode: Rounding) -> T {
    let zero = T::from(0);
    let one = T::from(1);
    let two = T::from(2);
    let q = num / den;
    let r = num % den;
    if r == zero {
        return q;
    }
    // r ≠ 0, so num ≠ 0: rounding away from zero adds num's sign.
    let away = if num < zero { q + -one } else { q + one };
    // The remainder against half the denominator, as |r| against den − |r|: doubling |r|
    // could overflow the width when den is near its top.
    let r = if r < zero { -r } else { r };
    let rest = den - r;
    match mode {
        Rounding::Down => q,
        Rounding::Up => away,
        Rounding::HalfUp => {
            if r >= rest {
                away
            } else {
                q
            }
        }
        Rounding::HalfEven => {
            if r > rest || (r == rest && q % two != zero) {
                away
            } else {
                q
            }
        }
    }
}

/// How the paying rule prices a credited base.
#[derive(Clone, Debug)]
pub(crate) enum Price {
    /// A percent of the base: `base × mantissa / 10^(scale + 2)`.
    Percent(Fixed),
    /// A fixed amount, already in minor units (rounded once, as the canonical path does).
    Flat(i128),
    /// A percent per tier level (index: level).
    ByTier(Vec<Fixed>),
    /// Volume bands on the partner's running metric (`tiered`).
    Bands(BandsC),
}

/// A `tiered` reward, compiled: the band starts in the metric's integer units (minor units
/// of the plan currency for revenue, a count otherwise) and each band's percent.
#[derive(Clone, Debug)]
pub(crate) struct BandsC {
    /// `revenue`, `conversions` or `referrals`.
    pub metric: Metric,
    /// Months per window (1, 3 or 12); `None`: the lifetime.
    pub months: Option<i64>,
    /// `graduated`, `this_event` or `next_event`.
    pub mode: BandMode,
    /// Each band's start, increasing.
    pub from: Vec<i128>,
    /// Each band's percent.
    pub percent: Vec<Fixed>,
}

impl BandsC {
    fn compile(b: &Bands, digits: u32) -> Result<BandsC, String> {
        match b.metric {
            Metric::Revenue | Metric::Conversions | Metric::Referrals => {}
            m => return Err(format!("volume bands on {}", m.as_str())),
        }
        let months = match b.period {
            BandPeriod::Month => Some(1),
            BandPeriod::Quarter => Some(3),
            BandPeriod::Year => Some(12),
            BandPeriod::Lifetime => None,
            BandPeriod::RollingDays(_) => return Err("rolling band windows".into()),
        };
        if b.mode == BandMode::Retroactive {
            return Err("retroactive bands (true-ups)".into());
        }
        if b.bands.is_empty() {
            return Err("volume bands without a band".into());
        }
        // Band starts in the metric's own integer units: whole minor units of money, whole
        // counts (validation asks for both; anything else is left to the canonical path).
        let scale = if b.metric == Metric::Revenue {
            digits
        } else {
            0
        };
        let mut from = Vec::with_capacity(b.bands.len());
        let mut percent = Vec::with_capacity(b.bands.len());
        for band in &b.bands {
            let f = Fixed::of(band.from.get().normalize(), "a band start")?;
            if f.scale > scale {
                return Err("a band start finer than the metric's unit".into());
            }
            from.push(f.to_minor(scale, Rounding::Down));
            percent.push(Fixed::of(band.percent.get(), "a band percent")?);
        }
        Ok(BandsC {
            metric: b.metric,
            months,
            mode: b.mode,
            from,
            percent,
        })
    }
}

/// The conditions of a rule (`when`), compiled: a payment they refuse goes to the next rule,
/// or earns nothing after the last (as `commission::conditions::check` decides).
#[derive(Clone, Debug)]
pub(crate) struct Cond {
    /// `product`: the payment's product.
    pub product: Option<Vec<String>>,
    /// `campaign`: the campaign of the touch that decided the customer.
    pub campaign: Option<Vec<String>>,
    /// `currency`: the payment's currency.
    pub currency: Option<Currency>,
    /// `min_amount` in minor units (the payment's currency is the plan's: the canonical
    /// conversion only rounds it, with the plan's mode).
    pub min_amount: Option<i128>,
    /// `channel`: the channels the deciding touch may have come through.
    pub channel: Option<Vec<Channel>>,
    /// `from` and `until`, in nanoseconds (in `i128`: the plan may name any instant).
    pub from: Option<i128>,
    pub until: Option<i128>,
    /// `payment_number`: the customer's n-th payment, inclusive bounds.
    pub number: Option<(Option<u32>, Option<u32>)>,
    /// `within_months` of the customer's first payment.
    pub within_months: Option<u32>,
    /// The partner's conditions (`partner`, `segment`, `attributes`), checked once per
    /// partner when the fold starts, and the tier's, once per level.
    pub partner: Option<Vec<String>>,
    pub segment: Option<Vec<String>>,
    pub attributes: Option<std::collections::BTreeMap<String, String>>,
    pub tier: Option<Vec<String>>,
}

impl Cond {
    /// Whether the partner-only conditions hold for `p`.
    pub(crate) fn partner_ok(&self, p: &crate::input::Partner) -> bool {
        listed(&self.partner, Some(&p.id))
            && listed(&self.segment, p.segment.as_deref())
            && self
                .attributes
                .as_ref()
                .is_none_or(|a| a.iter().all(|(k, v)| p.attributes.get(k) == Some(v)))
    }
}

/// One tier requirement, compiled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Req {
    pub metric: Metric,
    /// Over the tiers' period (true) or the lifetime (false).
    pub period: bool,
    pub at_least: Fixed,
}

/// One tier level, compiled.
#[derive(Clone, Debug)]
pub(crate) struct LevelC {
    /// `None`: held by everyone (the first level).
    pub all: Option<bool>,
    pub reqs: Vec<Req>,
}

/// Period-end tiers, compiled.
#[derive(Clone, Debug)]
pub(crate) struct TiersC {
    pub levels: Vec<LevelC>,
    /// Months per tier period (1, 3 or 12).
    pub months: i64,
    pub ids: Vec<String>,
    pub floor: usize,
    pub demote_after: Option<u32>,
}

/// A plan in the fast path's evaluation form.
///
/// Compiled natively (anything else runs on the canonical path, with the same results):
///
/// - one plan (no `plan_history`) in any time zone, any rounding mode, `net` or `gross`
///   commission base (in a zone whose clock goes back across midnight of a month's first
///   day within the input's months, the input runs on the canonical path);
/// - attribution by `last_touch` or `first_touch` (deal registrations by first touch, as
///   always), any `window_days`, the channel `priority`, the `customer` lock, and each
///   channel's own `window_days` and model (`last_touch` or `first_touch`);
/// - any number of payment rules under `first_match` (the first whose conditions hold pays)
///   or `max` (the largest amount after caps pays, the earlier rule on a tie), each with:
///   any conditions (partner, segment, attributes, tier, channel, campaign, product,
///   currency, payment number, `within_months` up to 1,000,000 months, `from`, `until`,
///   `min_amount`); a cash reward of `percent`, `flat`, `percent_by_tier` or volume bands
///   (`tiered`: graduated, this_event or next_event on revenue, conversions or referrals by
///   the month, quarter, year or lifetime); its own `min_per_event`, `max_per_event`,
///   `max_per_customer` and `max_per_period` cap by the month, quarter or year;
/// - tiers evaluated at the ends of their periods (months, quarters or years) over
///   `referrals`, `conversions`, `revenue` or `commission` in the period or the lifetime,
///   any demotion rule and `initial` level;
/// - any hold, clawback policy and negative-balance policy; statements by the month,
///   quarter or year with any threshold and `net_days`, in the plan currency or in each
///   partner's own (converted with the input's FX rates at any `fx_date`);
/// - payments in other currencies than the plan's when every rule is a plain `percent` (or
///   a `flat` reward, not under `combine: max`) without limits or a `min_amount`
///   condition and there are no tiers;
/// - the default fraud settings (self-referrals blocked) with no partner declaring
///   `own_customers`.
#[derive(Clone, Debug)]
pub struct FastPlan {
    /// The plan's calendar (its time zone's months, days and holds).
    pub(crate) cal: Calendar,
    pub(crate) currency: Currency,
    pub(crate) digits: u32,
    pub(crate) rounding: Rounding,
    pub(crate) net: bool,
    /// Per channel (index: [`channel_index`]): whether, when its touches decide, the
    /// earliest wins (first touch: the plan's model, a deal registration's default, or
    /// the channel's own) rather than the latest.
    pub(crate) first: [bool; 4],
    /// Per channel: the attribution window of its touches in nanoseconds (the plan's, or
    /// the channel's own), exact: wider than `i64` for windows past 106,751 days, compared
    /// with differences of instants that may be as wide.
    pub(crate) window_ns: [i128; 4],
    /// Rank of each channel in the priority list (index: [`channel_index`]).
    pub(crate) rank: [u8; 4],
    /// The payment rules in order (at least one): the first whose conditions hold pays, or
    /// under `combine_max` the one whose amount is largest.
    pub(crate) rules: Vec<RuleC>,
    /// `combine: max` (every matching rule is priced and the largest amount pays), else
    /// `first_match`.
    pub(crate) combine_max: bool,
    /// The hold in local days (`lifecycle.hold_days`).
    pub(crate) hold_days: u32,
    /// The hold in nanoseconds (in UTC, where every day is 24 hours: the hold itself). A
    /// hold past what `i64` counts (106,751 days) is not compiled; the fold checks that its
    /// latest entry's availability fits too.
    pub(crate) hold_ns: i64,
    pub(crate) clawback: Clawback,
    pub(crate) write_off: bool,
    pub(crate) threshold: Fixed,
    pub(crate) net_days: u32,
    /// Months per statement period (1, 3 or 12).
    pub(crate) statement_months: i64,
    /// Which date's rate converts an entry for a statement in another currency.
    pub(crate) fx_date: FxDate,
    pub(crate) tiers: Option<TiersC>,
    /// Whether payments in currencies other than the plan's fold: every rule a plain
    /// `percent` (or a `flat` reward, not under `combine: max`) without limits or a
    /// `min_amount` condition, and no tiers. A percent of a payment's base, rounded to the
    /// payment currency's minor unit, is the same integer arithmetic on minor units
    /// whatever their digits, and a flat reward converts to the payment's currency as the
    /// canonical pricing converts it; everything else of such a plan reads amounts in the
    /// plan currency (caps, limits, money metrics), which the canonical path converts
    /// payment by payment.
    pub(crate) foreign: bool,
}

/// The longest `within_months` compiled: 83,333 years.
const MAX_WITHIN_MONTHS: u32 = 1_000_000;

/// One payment rule, compiled: its conditions, its price and its limits.
#[derive(Clone, Debug)]
pub(crate) struct RuleC {
    pub(crate) id: String,
    pub(crate) price: Price,
    /// `min_per_event` in minor units (rounded with the plan's mode).
    pub(crate) min_event: Option<i128>,
    /// `max_per_event` in minor units (rounded down).
    pub(crate) max_event: Option<i128>,
    /// The rule's conditions, if it has any.
    pub(crate) cond: Option<Cond>,
    /// The `max_per_customer` cap, exact: the net commission of this rule on one customer
    /// (whose partner the `customer` lock fixes for life).
    pub(crate) max_customer: Option<Fixed>,
    /// The `max_per_period` cap, exact: this rule's net commission per partner and period.
    pub(crate) max_period: Option<Fixed>,
    /// Months per cap period (1, 3 or 12: a month, a quarter, a year).
    pub(crate) cap_months: i64,
}

impl RuleC {
    /// Compiles rule `i` of `plan` (its price by tier is filled in once the tiers are).
    fn compile(plan: &Plan, i: usize, rule: &Rule, digits: u32) -> Result<RuleC, String> {
        let doc = plan.doc();
        let w = &rule.when;
        let window = plan.window(i);
        let conditional = w.partner.is_some()
            || w.segment.is_some()
            || w.tier.is_some()
            || w.product.is_some()
            || w.payment_number.is_some()
            || w.within_months.is_some()
            || window.from.is_some()
            || window.until.is_some()
            || w.currency.is_some()
            || w.attributes.is_some()
            || w.campaign.is_some()
            || w.min_amount.is_some()
            || w.channel.is_some();
        // A window of more months than the calendar has years to spare (its end past the
        // year 262,142 is the canonical path's error, which its check of the rule reports
        // even when another rule pays) is left to the canonical path: below this bound no
        // instant the fold sees, before 2262, ends past the calendar.
        if w.within_months.is_some_and(|m| m > MAX_WITHIN_MONTHS) {
            return Err(format!(
                "a within_months of more than {MAX_WITHIN_MONTHS} months"
            ));
        }
        let min_amount = w
            .min_amount
            .map(|m| Fixed::of(m.get(), "min_amount").map(|f| f.to_minor(digits, doc.rounding)))
            .transpose()?;
        let cond = conditional.then(|| Cond {
            product: w.product.clone(),
            campaign: w.campaign.clone(),
            currency: w.currency,
            min_amount,
            channel: w.channel.clone(),
            from: window.from.map(nanos_wide),
            until: window.until.map(nanos_wide),
            number: w.payment_number.map(|r| (r.min, r.max)),
            within_months: w.within_months,
            partner: w.partner.clone(),
            segment: w.segment.clone(),
            attributes: w.attributes.clone(),
            tier: w.tier.clone(),
        });
        let price = match &rule.reward.kind {
            RewardKind::Percent(p) => Price::Percent(Fixed::of(p.get(), "percent")?),
            RewardKind::Flat(f) => {
                let fixed = Fixed::of(f.get(), "flat")?;
                if fixed.scale > digits {
                    return Err("a flat reward with more decimals than the currency".into());
                }
                Price::Flat(fixed.to_minor(digits, doc.rounding))
            }
            RewardKind::PercentByTier(_) => Price::ByTier(Vec::new()),
            RewardKind::Tiered(b) => Price::Bands(BandsC::compile(b, digits)?),
        };
        let l = &rule.limits;
        let max_customer = match l.max_per_customer {
            None => None,
            Some(c) if !c.get().is_sign_negative() => Some(Fixed::of(c.get(), "max_per_customer")?),
            Some(_) => return Err("a negative max_per_customer".into()),
        };
        let (max_period, cap_months) = match &l.max_per_period {
            None => (None, 1),
            Some(c) if !c.amount.get().is_sign_negative() => (
                Some(Fixed::of(c.amount.get(), "cap")?),
                i64::from(c.period.months()),
            ),
            Some(_) => return Err("a negative max_per_period cap".into()),
        };
        let min_event = l
            .min_per_event
            .map(|m| Fixed::of(m.get(), "min_per_event").map(|f| f.to_minor(digits, doc.rounding)))
            .transpose()?;
        let max_event = l
            .max_per_event
            .map(|m| {
                Fixed::of(m.get(), "max_per_event").map(|f| f.to_minor(digits, Rounding::Down))
            })
            .transpose()?;
        Ok(RuleC {
            id: rule.id.clone(),
            price,
            min_event,
            max_event,
            cond,
            max_customer,
            max_period,
            cap_months,
        })
    }

    /// Whether the rule has a `max_per_customer` or `max_per_period` cap.
    pub(crate) fn capped(&self) -> bool {
        self.max_customer.is_some() || self.max_period.is_some()
    }
}

/// The position of a channel in [`FastPlan::rank`].
pub(crate) fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Coupon => 0,
        Channel::DealRegistration => 1,
        Channel::Link => 2,
        Channel::Manual => 3,
    }
}

const DAY_NS: i64 = 86_400_000_000_000;

impl FastPlan {
    /// Compiles `plan`, or says which of its features the fast path does not compile.
    pub fn compile(plan: &Plan) -> Result<FastPlan, String> {
        let doc = plan.doc();
        if plan.versions()[0].0.is_some() {
            return Err("plan_history".into());
        }
        let a = &doc.attribution;
        let first_of = |m: &crate::plan::Model| match m {
            crate::plan::Model::LastTouch => Ok(false),
            crate::plan::Model::FirstTouch => Ok(true),
            _ => Err(format!("attribution model {}", m.name())),
        };
        // Each channel's model and window: the plan's, a deal registration's first touch
        // (the first registrant wins), or the channel's own (`attribution::model_for`,
        // `attribution::window_days`).
        let mut first = [first_of(&a.model)?; 4];
        first[channel_index(Channel::DealRegistration)] = true;
        let mut window_ns = [i128::from(a.window_days) * i128::from(DAY_NS); 4];
        for (&c, settings) in &a.channels {
            if let Some(m) = &settings.model {
                first[channel_index(c)] = first_of(m)?;
            }
            if let Some(w) = settings.window_days {
                window_ns[channel_index(c)] = i128::from(w) * i128::from(DAY_NS);
            }
        }
        if a.lock != Lock::Customer {
            return Err("an attribution lock other than `customer`".into());
        }
        // Each channel's rank as the canonical attribution ranks it (a channel the
        // priority leaves out after the listed ones, in the default order).
        let mut rank = [0u8; 4];
        for c in crate::plan::DEFAULT_PRIORITY {
            let r = crate::attribution::channel_rank(a, c);
            rank[channel_index(c)] = u8::try_from(r).unwrap_or(u8::MAX - 1);
        }
        let combine_max = match doc.combine {
            Combine::FirstMatch => false,
            Combine::Max => true,
            // Several entries per payment, each reversed on its own.
            Combine::Sum => return Err("combine sum".into()),
        };
        if doc.rules.is_empty() {
            return Err("a plan without rules".into());
        }
        if doc.rules.iter().any(|r| r.when.event != RuleEvent::Payment) {
            return Err("signup or touch rules".into());
        }
        if doc
            .rules
            .iter()
            .any(|r| r.reward.instrument != crate::plan::Instrument::Cash)
        {
            return Err("credit rewards".into());
        }
        let digits = doc.currency.digits();
        // Every rule is compiled, even one after a rule without conditions that no payment
        // reaches: the canonical path checks every rule's conditions for the explanation,
        // and a `within_months` past the calendar is its error whichever rule paid.
        let mut rules = Vec::with_capacity(doc.rules.len());
        for (i, rule) in doc.rules.iter().enumerate() {
            rules.push(RuleC::compile(plan, i, rule, digits)?);
        }
        if !doc.bonuses.is_empty() {
            return Err("bonuses".into());
        }
        if !doc.overrides.is_empty() {
            return Err("overrides".into());
        }
        if doc.referee_reward.is_some() {
            return Err("referee rewards".into());
        }
        let f = &doc.fraud;
        if f.self_referral != FraudAction::Block
            || f.same_ip.is_some()
            || f.velocity.is_some()
            || f.refund_rate.is_some()
        {
            return Err("fraud settings other than the default".into());
        }
        let tiers = match &doc.tiers {
            None => None,
            Some(t) => {
                if t.evaluation != TierEvaluation::PeriodEnd {
                    return Err("tiers evaluated other than at period end".into());
                }
                let mut levels = Vec::with_capacity(t.levels.len());
                for lv in &t.levels {
                    let (all, list) = match &lv.requires {
                        None => (None, &[][..]),
                        Some(r @ Requires::Any(l)) | Some(r @ Requires::All(l)) => {
                            (Some(matches!(r, Requires::All(_))), &l[..])
                        }
                    };
                    let mut reqs = Vec::with_capacity(list.len());
                    for q in list {
                        if q.metric == Metric::ActiveCustomers {
                            return Err("the active_customers tier metric".into());
                        }
                        let period = match q.window {
                            Window::Period => true,
                            Window::Lifetime => false,
                            Window::RollingDays(_) => {
                                return Err("rolling tier windows".into());
                            }
                        };
                        reqs.push(Req {
                            metric: q.metric,
                            period,
                            at_least: Fixed::of(q.at_least.get(), "at_least")?,
                        });
                    }
                    levels.push(LevelC { all, reqs });
                }
                let ids: Vec<String> = t.levels.iter().map(|l| l.id.clone()).collect();
                let floor = t
                    .initial
                    .as_ref()
                    .and_then(|i| ids.iter().position(|l| l == i))
                    .unwrap_or(0);
                Some(TiersC {
                    levels,
                    months: i64::from(t.period.months()),
                    floor,
                    demote_after: match t.demotion {
                        Demotion::Never => None,
                        Demotion::AfterPeriods(k) => Some(k),
                    },
                    ids,
                })
            }
        };
        for (rule, r) in rules.iter_mut().zip(&doc.rules) {
            match (&rule.price, &r.reward.kind, &tiers) {
                (Price::ByTier(_), RewardKind::PercentByTier(rates), Some(t)) => {
                    let mut by = Vec::with_capacity(t.ids.len());
                    for id in &t.ids {
                        let Some(r) = rates.get(id) else {
                            return Err("percent_by_tier without a level's rate".into());
                        };
                        by.push(Fixed::of(r.get(), "percent_by_tier")?);
                    }
                    rule.price = Price::ByTier(by);
                }
                (Price::ByTier(_), _, None) => {
                    return Err("percent_by_tier without tiers".into());
                }
                _ => {}
            }
        }
        let clawback = doc.lifecycle.clawback.clone();
        // A flat reward converts to each payment's currency: the amount compares with
        // other rules' under `max` only once converted, so such a plan picks the first.
        let foreign = tiers.is_none()
            && rules.iter().all(|r| {
                (matches!(r.price, Price::Percent(_))
                    || matches!(r.price, Price::Flat(_)) && !combine_max)
                    && r.min_event.is_none()
                    && r.max_event.is_none()
                    && !r.capped()
            })
            && doc.rules.iter().all(|r| r.when.min_amount.is_none());
        Ok(FastPlan {
            cal: Calendar::new(plan.tz()),
            currency: doc.currency,
            digits,
            rounding: doc.rounding,
            net: doc.commission_base == CommissionBase::Net,
            first,
            window_ns,
            rank,
            rules,
            combine_max,
            hold_days: doc.lifecycle.hold_days,
            hold_ns: i64::from(doc.lifecycle.hold_days)
                .checked_mul(DAY_NS)
                .ok_or("a hold longer than the fast path's instants span")?,
            clawback,
            write_off: doc.lifecycle.negative_balance == NegativeBalance::WriteOff,
            threshold: Fixed::of(doc.payouts.threshold.get(), "threshold")?,
            net_days: doc.payouts.net_days,
            statement_months: i64::from(doc.payouts.period.months()),
            fx_date: doc.payouts.fx_date,
            tiers,
            foreign,
        })
    }

    /// When an entry earned at `at` becomes available: the hold's local days later, at the
    /// same local time (`add_days_local`). `None` past what `i64` nanoseconds count, which
    /// [`super::run::run`] rules out for every entry before it folds.
    #[inline]
    pub(crate) fn available(&self, at: i64) -> Option<i64> {
        self.cal.add_days(at, self.hold_days, self.hold_ns)
    }

    /// Whether partners' own payout currencies can matter (statements in the partner's
    /// currency).
    pub(crate) fn partner_currency(plan: &Plan) -> bool {
        plan.doc().payouts.currency == PayoutCurrency::Partner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_div_matches_decimal_rounding() {
        for num in -250i128..=250 {
            for den in [1i128, 2, 3, 4, 7, 10, 100] {
                for mode in [
                    Rounding::HalfUp,
                    Rounding::HalfEven,
                    Rounding::Down,
                    Rounding::Up,
                ] {
                    let exact = Decimal::from(num as i64) / Decimal::from(den as i64);
                    let want = mode.round(exact, 0);
                    let got = round_div(num, den, mode);
                    assert_eq!(Decimal::from(got as i64), want, "{num}/{den} {mode:?}");
                    let narrow = round_div(num as i64, den as i64, mode);
                    assert_eq!(Decimal::from(narrow), want, "i64 {num}/{den} {mode:?}");
                    let narrower = round_div(num as i32, den as i32, mode);
                    assert_eq!(Decimal::from(narrower), want, "i32 {num}/{den} {mode:?}");
                }
            }
        }
    }

    #[test]
    fn fixed_compares_with_minor_units() {
        let f = Fixed::of(Decimal::new(50005, 3), "x").unwrap(); // 50.005
        assert!(!f.le_minor(5000, 2));
        assert!(f.le_minor(5001, 2));
        assert_eq!(f.to_minor(2, Rounding::Down), 5000);
        assert_eq!(f.to_minor(2, Rounding::HalfUp), 5001);
    }
}
