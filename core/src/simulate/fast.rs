//! The simulator's own evaluation path: the engine's semantics for the event shapes a
//! scenario generates, in integer minor units, one partner at a time.
//!
//! A generated customer is reached by exactly one partner, by one `link` touch at the
//! instant of its conversion, and pays in the plan's currency without tax or discount;
//! nobody has a parent, an attribute, a campaign or a product. For those shapes the engine's
//! rules reduce to simple arithmetic:
//! - every attribution model gives the one touch the whole credit, and a `customer` lock
//!   keeps it for every later payment, so each payment is credited in full to its partner;
//! - a percent is `round(amount × P / (100 × 10^s))` with the plan's rounding mode, exactly
//!   what the engine's decimal arithmetic gives (an integer division with the same tie
//!   rule), a flat reward is its minor units, floors and caps per event compare integers;
//! - partners share no state (no overrides, no program-wide caps), so each partner's events
//!   are priced on their own, in canonical order `(at, kind, id)`;
//! - tiers evaluated at period ends read the partner's metrics of the period (or lifetime)
//!   as running sums, with the engine's rule for the clock (periods ending after the run's
//!   first event, up to `as_of`);
//! - a full refund reverses every entry of its payment (a cancel while pending, else a
//!   clawback as `lifecycle.clawback` says) and lowers revenue when it happens.
//!
//! Plans that use anything else (plan histories, other locks, signup or touch rules, volume
//! bands, bonuses, per-customer or per-period caps, immediate tiers, rolling windows, another
//! currency) go through [`crate::evaluate`] instead; [`FastPlan::compile`] says why.
//! `tests/simulate.rs` checks this path against `evaluate` run by run.

mod grouped;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::generate::{Calendar, NO_REFUND, Pay};
use super::scenario::Scenario;
use crate::fast::compile::round_div;
use crate::money::Rounding;
use crate::plan::{
    Channel, Clawback, Combine, Demotion, Lock, Metric, Plan, Requires, RewardKind, RuleEvent,
    TierEvaluation, Window,
};
use crate::time::{Instant, Period, add_days_local, add_months_local};
use grouped::month_periods;

#[derive(Clone, Debug)]
enum Reward {
    /// `round(amount × p / d)`, and the magic number of `d`.
    Percent(i128, i128, u64),
    Flat(i64),
    /// A rate per tier level.
    ByTier(Vec<(i128, i128, u64)>),
}

#[derive(Clone, Debug)]
struct Rule {
    reward: Reward,
    min: Option<i64>,
    max: Option<i64>,
    /// Levels the rule applies at (`when.tier`); `None`: any.
    tiers: Option<Vec<bool>>,
    from: Option<i64>,
    until: Option<i64>,
    number: (u32, u32),
    within_months: Option<u32>,
    min_amount: Option<i64>,
}

#[derive(Clone, Debug)]
struct Req {
    metric: Metric,
    lifetime: bool,
    /// The least value in minor units (money) or units (counts), rounded up.
    at_least: i64,
}

#[derive(Clone, Debug)]
struct Tiers {
    floor: usize,
    demotion: Option<u32>,
    /// Per level: `None` (held by every partner) or (all?, requirements).
    levels: Vec<Option<(bool, Vec<Req>)>>,
    /// Period ends up to `as_of`, in order (Unix seconds).
    ends: Vec<i64>,
}

/// A plan compiled for the fast path.
#[derive(Clone, Debug)]
pub(crate) struct FastPlan {
    rounding: Rounding,
    combine: Combine,
    rules: Vec<Rule>,
    /// Per partner: the rules whose static conditions (partner, segment, channel, ...)
    /// hold, as a bit mask.
    masks: Vec<u64>,
    tiers: Option<Tiers>,
    hold_days: i64,
    clawback: Clawback,
    tz: Tz,
    /// Each scenario month's tier period, when every month lies within one period and no
    /// rule looks at a payment's instant or number: then the plan is priced per customer
    /// (`partner_grouped`), else payment by payment (`partner`).
    month_period: Option<Vec<u32>>,
    /// Tier levels (1 without tiers).
    levels: usize,
    /// Whether a period end with nothing in the period or before it leaves a partner at
    /// the floor level where it is (nothing held above the floor at zero metrics): then the
    /// periods before a partner's first customer, and a partner without customers, need no
    /// walk.
    idle: bool,
    /// Per level, when the plan is one percent rule without floor, cap, amount or tier
    /// condition (the usual plan): its rate, so a customer is priced by one integer
    /// division instead of a walk through the rules.
    plain: Option<Vec<(i128, i128, u64)>>,
}

/// Decimal → (numerator, denominator, magic of the denominator) of `x / 100`.
fn percent(x: Decimal) -> (i128, i128, u64) {
    let d = 100 * 10i128.pow(x.scale());
    (x.mantissa(), d, magic(d))
}

/// The least integer count of minor units `≥ x` at `digits`.
fn ceil_minor(x: Decimal, digits: u32) -> i64 {
    let v = (x * Decimal::from(10i64.pow(digits))).ceil();
    i64::try_from(v.mantissa() / 10i128.pow(v.scale())).unwrap_or(i64::MAX)
}

fn to_minor(x: Decimal, digits: u32) -> i64 {
    let v = x * Decimal::from(10i64.pow(digits));
    i64::try_from(v.trunc().mantissa() / 10i128.pow(v.trunc().scale())).unwrap_or(i64::MAX)
}

fn secs(t: Instant) -> i64 {
    t.timestamp()
}

/// `amount × p / d` rounded with the plan's mode. When the product and the divisor fit
/// 32 bits (nearly every payment), the quotient comes from one multiplication by a
/// precomputed `c = ⌈2^64 / d⌉` (Lemire, Kaser and Kurz 2019: `⌊c·n / 2^64⌋ = ⌊n / d⌋` for
/// every 32-bit `n` and `d`), as a hardware division costs several times more; otherwise
/// 128-bit arithmetic.
#[inline(always)]
fn mul_div_round(amount: i64, p: i128, d: i128, c: u64, mode: Rounding) -> i128 {
    if let (Ok(p), Ok(d32)) = (u64::try_from(p), u32::try_from(d))
        && let Ok(a) = u64::try_from(amount)
        && let Some(n) = a.checked_mul(p)
        && n <= u64::from(u32::MAX)
        && c != 0
    {
        let d = u64::from(d32);
        let q = ((u128::from(c) * u128::from(n)) >> 64) as u64;
        let r = n - q * d;
        let up = match mode {
            Rounding::Down => false,
            Rounding::Up => r > 0,
            Rounding::HalfUp => 2 * r >= d,
            Rounding::HalfEven => 2 * r > d || (2 * r == d && q % 2 == 1),
        };
        return i128::from(q + u64::from(up));
    }
    round_div(i128::from(amount) * p, d, mode)
}

/// `⌈2^64 / d⌉` for a divisor of 2..2^32 (0 when `d` is outside: no fast division).
fn magic(d: i128) -> u64 {
    match u32::try_from(d) {
        Ok(d) if d > 1 => u64::MAX / u64::from(d) + 1,
        _ => 0,
    }
}

impl FastPlan {
    /// Compiles `plan` for the scenario, or says which feature needs the engine.
    pub(crate) fn compile(plan: &Plan, sc: &Scenario) -> Result<FastPlan, String> {
        if plan.versions().len() > 1 {
            return Err("a plan history".into());
        }
        let doc = plan.doc();
        if doc.currency != sc.doc.currency {
            return Err(format!(
                "plan currency {} differs from the scenario's {}",
                doc.currency, sc.doc.currency
            ));
        }
        if doc.attribution.lock != Lock::Customer {
            return Err("an attribution lock other than `customer`".into());
        }
        if !doc.bonuses.is_empty() {
            return Err("bonuses".into());
        }
        if doc.rules.len() > 64 {
            return Err("more than 64 rules".into());
        }
        let digits = doc.currency.digits();
        let levels: Vec<String> = doc
            .tiers
            .as_ref()
            .map(|t| t.levels.iter().map(|l| l.id.clone()).collect())
            .unwrap_or_default();
        let mut rules = Vec::new();
        for (i, r) in doc.rules.iter().enumerate() {
            if r.when.event != RuleEvent::Payment {
                return Err(format!(
                    "rule {} rewards {} events",
                    r.id,
                    r.when.event.as_str()
                ));
            }
            if r.limits.max_per_customer.is_some() || r.limits.max_per_period.is_some() {
                return Err(format!(
                    "rule {} has a per-customer or per-period cap",
                    r.id
                ));
            }
            let reward = match &r.reward.kind {
                RewardKind::Percent(p) => {
                    let (a, b, c) = percent(p.get());
                    Reward::Percent(a, b, c)
                }
                RewardKind::Flat(f) => {
                    Reward::Flat(to_minor(doc.rounding.round(f.get(), digits), digits))
                }
                RewardKind::PercentByTier(rates) => Reward::ByTier(
                    levels
                        .iter()
                        .map(|l| percent(rates.get(l).map(|d| d.get()).unwrap_or_default()))
                        .collect(),
                ),
                RewardKind::Tiered(_) => return Err(format!("rule {} pays volume bands", r.id)),
            };
            let w = &r.when;
            let win = plan.window(i);
            rules.push(Rule {
                reward,
                min: r
                    .limits
                    .min_per_event
                    .map(|m| to_minor(doc.rounding.round(m.get(), digits), digits)),
                max: r
                    .limits
                    .max_per_event
                    .map(|m| to_minor(Rounding::Down.round(m.get(), digits), digits)),
                tiers: w
                    .tier
                    .as_ref()
                    .map(|list| levels.iter().map(|l| list.contains(l)).collect()),
                from: win.from.map(secs),
                until: win.until.map(secs),
                number: w.payment_number.map_or((0, u32::MAX), |n| {
                    (n.min.unwrap_or(0), n.max.unwrap_or(u32::MAX))
                }),
                within_months: w.within_months,
                min_amount: w.min_amount.map(|m| ceil_minor(m.get(), digits)),
            });
        }
        // Static conditions, per partner.
        let partners = super::generate::partners(sc);
        let masks = partners
            .iter()
            .map(|p| {
                let mut mask = 0u64;
                for (i, r) in doc.rules.iter().enumerate() {
                    let w = &r.when;
                    let listed = |l: &Option<Vec<String>>, v: Option<&str>| {
                        l.as_ref()
                            .is_none_or(|l| v.is_some_and(|v| l.iter().any(|x| x == v)))
                    };
                    let ok = listed(&w.partner, Some(&p.id))
                        && listed(&w.segment, p.segment.as_deref())
                        && (w.tier.is_none() || doc.tiers.is_some())
                        && w.channel
                            .as_ref()
                            .is_none_or(|c| c.contains(&Channel::Link))
                        && w.campaign.is_none()
                        && w.product.is_none()
                        && w.currency.is_none_or(|c| c == sc.doc.currency)
                        && w.attributes.as_ref().is_none_or(|a| a.is_empty());
                    if ok {
                        mask |= 1 << i;
                    }
                }
                mask
            })
            .collect();
        let tiers = match &doc.tiers {
            None => None,
            Some(t) => {
                if t.evaluation != TierEvaluation::PeriodEnd {
                    return Err("immediate tier evaluation".into());
                }
                let mut lv = Vec::new();
                for l in &t.levels {
                    lv.push(match &l.requires {
                        None => None,
                        Some(r) => {
                            let mut reqs = Vec::new();
                            for q in r.list() {
                                let lifetime = match q.window {
                                    Window::Period => false,
                                    Window::Lifetime => true,
                                    Window::RollingDays(_) => {
                                        return Err("a rolling tier window".into());
                                    }
                                };
                                let money =
                                    matches!(q.metric, Metric::Revenue | Metric::Commission);
                                reqs.push(Req {
                                    metric: q.metric,
                                    lifetime,
                                    at_least: ceil_minor(
                                        q.at_least.get(),
                                        if money { digits } else { 0 },
                                    ),
                                });
                            }
                            Some((matches!(r, Requires::All(_)), reqs))
                        }
                    });
                }
                let tz = plan.tz();
                let as_of = sc.as_of();
                let mut p = Period::containing(t.period, tz, sc.month_starts[0]);
                let mut ends = Vec::new();
                while p.end(tz) <= as_of {
                    ends.push(secs(p.end(tz)));
                    p = p.next();
                }
                Some(Tiers {
                    floor: t
                        .initial
                        .as_ref()
                        .and_then(|i| levels.iter().position(|l| l == i))
                        .unwrap_or(0),
                    demotion: match t.demotion {
                        Demotion::Never => None,
                        Demotion::AfterPeriods(k) => Some(k),
                    },
                    levels: lv,
                    ends,
                })
            }
        };
        let per_customer = rules.iter().all(|r| {
            r.from.is_none()
                && r.until.is_none()
                && r.number.0 <= 1
                && r.number.1 == u32::MAX
                && r.within_months.is_none()
        });
        let month_period = per_customer
            .then(|| {
                month_periods(
                    &Calendar::new(sc),
                    tiers.as_ref().map_or(&[][..], |t| &t.ends),
                )
            })
            .flatten();
        let mut f = FastPlan {
            month_period,
            levels: tiers.as_ref().map_or(1, |t| t.levels.len().max(1)),
            rounding: doc.rounding,
            combine: doc.combine,
            rules,
            masks,
            tiers,
            hold_days: i64::from(doc.lifecycle.hold_days),
            clawback: doc.lifecycle.clawback.clone(),
            tz: plan.tz(),
            idle: false,
            plain: None,
        };
        if let [r] = &f.rules[..]
            && r.min.is_none()
            && r.max.is_none()
            && r.tiers.is_none()
            && r.min_amount.is_none()
        {
            f.plain = match &r.reward {
                Reward::Percent(p, d, c) => Some(vec![(*p, *d, *c); f.levels]),
                Reward::ByTier(rates) => Some(
                    (0..f.levels)
                        .map(|l| rates.get(l).copied().unwrap_or((0, 1, 0)))
                        .collect(),
                ),
                Reward::Flat(_) => None,
            };
        }
        let floor = f.tiers.as_ref().map_or(0, |t| t.floor);
        let (mut level, mut failed) = (floor, 0);
        f.close(
            &mut level,
            &mut failed,
            &Metrics::default(),
            &Metrics::default(),
        );
        f.idle = (level, failed) == (floor, 0);
        Ok(f)
    }

    /// The first period end (tiers), if any: the clock matters only when no event comes
    /// before it.
    pub(crate) fn first_end(&self) -> Option<i64> {
        self.tiers.as_ref().and_then(|t| t.ends.first().copied())
    }

    fn add_days(&self, t: i64, n: i64) -> i64 {
        if self.tz == Tz::UTC {
            return t + n * 86_400;
        }
        let at = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        add_days_local(self.tz, at, n).map_or(i64::MAX, secs)
    }

    #[inline(always)]
    fn price(&self, r: &Rule, level: usize, amount: i64) -> i64 {
        let raw = match &r.reward {
            Reward::Percent(p, d, c) => mul_div_round(amount, *p, *d, *c, self.rounding),
            Reward::Flat(f) => i128::from(*f),
            Reward::ByTier(rates) => {
                let (p, d, c) = rates.get(level).copied().unwrap_or((0, 1, 0));
                mul_div_round(amount, p, d, c, self.rounding)
            }
        };
        let mut a = i64::try_from(raw).unwrap_or(i64::MAX);
        if let Some(min) = r.min
            && a < min
        {
            a = min;
        }
        if let Some(max) = r.max
            && a > max
        {
            a = max;
        }
        a
    }
}

/// One customer's state in the fast path.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cust {
    first: i64,
    /// 1 + the index of the last period in which the customer paid (0: never).
    last_period: u32,
    /// The end of `within_months` for the months cached (0: none yet).
    within: (u32, i64),
}

/// Reusable buffers of the fast path (one set per thread).
#[derive(Default)]
pub(crate) struct Scratch {
    custs: Vec<Cust>,
    /// Net entries written per payment.
    written: Vec<i64>,
    /// Indices of the refunded payments.
    refunds: Vec<u32>,
    /// The per-customer path's buffers.
    pub grouped: grouped::Buffers,
}

/// What one partner earned in one run under one plan.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outcome {
    /// Net commission, minor units.
    pub earned: i64,
    /// Tier level at `as_of`.
    pub level: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_division_equals_division() {
        let modes = [
            Rounding::HalfUp,
            Rounding::HalfEven,
            Rounding::Down,
            Rounding::Up,
        ];
        for d in [100i128, 1000, 10_000, 100_000, 300, 7] {
            let c = magic(d);
            for amount in (0..5000).chain([4_294_967_295 / 99, 1 << 40]) {
                for p in [1i128, 3, 25, 99, 125, 9999] {
                    for mode in modes {
                        assert_eq!(
                            mul_div_round(amount, p, d, c, mode),
                            round_div(i128::from(amount) * p, d, mode),
                            "{amount} × {p} / {d} {mode:?}"
                        );
                    }
                }
            }
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Metrics {
    referrals: i64,
    conversions: i64,
    revenue: i64,
    commission: i64,
    active: i64,
}

impl Metrics {
    #[inline(always)]
    fn get(&self, m: Metric) -> i64 {
        match m {
            Metric::Referrals => self.referrals,
            Metric::Conversions => self.conversions,
            Metric::Revenue => self.revenue,
            Metric::Commission => self.commission,
            Metric::ActiveCustomers => self.active,
        }
    }
}

/// One partner's walk through its events under one plan.
struct Walk<'a> {
    plan: &'a FastPlan,
    mask: u64,
    ends: &'a [i64],
    clock: i64,
    level: usize,
    failed: u32,
    next_end: usize,
    period: Metrics,
    life: Metrics,
    earned: i64,
}

impl Walk<'_> {
    /// Closes the periods that ended at or before `t` (evaluating those after the clock).
    // Forced: left to itself the compiler keeps these calls in the per-payment loop, and
    // inlining them saves about a tenth of a simulation's time.
    #[inline(always)]
    fn advance(&mut self, t: i64) {
        while self.next_end < self.ends.len() && self.ends[self.next_end] <= t {
            if self.ends[self.next_end] > self.clock {
                self.plan
                    .close(&mut self.level, &mut self.failed, &self.period, &self.life);
            }
            self.period = Metrics::default();
            self.next_end += 1;
        }
    }

    /// A full refund: revenue falls now; the payment's entries (`written`) are cancelled
    /// while pending, else clawed back as the plan says.
    fn refund(&mut self, pay: &Pay, written: i64) {
        let at = pay.refund_at;
        self.advance(at);
        self.period.revenue -= pay.amount;
        self.life.revenue -= pay.amount;
        if written != 0 && self.plan.reverses(pay.at, at) {
            self.earned -= written;
            self.period.commission -= written;
            self.life.commission -= written;
        }
    }

    /// A payment: metrics, then the rules; returns what its entries add up to.
    #[inline]
    fn pay(&mut self, pay: &Pay, c: &mut Cust) -> i64 {
        let at = pay.at;
        self.advance(at);
        if pay.n == 1 {
            c.first = at;
            self.period.referrals += 1;
            self.life.referrals += 1;
            self.life.active += 1;
        }
        let marker = self.next_end as u32 + 1;
        if c.last_period != marker {
            c.last_period = marker;
            self.period.active += 1;
        }
        self.period.conversions += 1;
        self.life.conversions += 1;
        self.period.revenue += pay.amount;
        self.life.revenue += pay.amount;
        let w = self
            .plan
            .written(self.mask, self.level, at, pay.n, pay.amount, c);
        self.earned += w;
        self.period.commission += w;
        self.life.commission += w;
        w
    }
}

impl FastPlan {
    /// Prices partner `p`'s generated payments (`pays`, of `customers` customers, in
    /// canonical order); `clock` is the run's first event (periods ending at or before it
    /// are not evaluated).
    pub(crate) fn partner(
        &self,
        p: u32,
        pays: &[Pay],
        customers: u32,
        clock: i64,
        s: &mut Scratch,
    ) -> Outcome {
        s.custs.clear();
        s.custs.resize(customers as usize, Cust::default());
        s.written.clear();
        s.written.resize(pays.len(), 0);
        // Refunds come a fixed delay after their payments, so they are in canonical order
        // too; they are few, so they wait in their own list and go in before the first
        // payment after them (at one instant a payment goes first: kind rank).
        s.refunds.clear();
        s.refunds
            .extend((0..pays.len() as u32).filter(|&i| pays[i as usize].refund_at != NO_REFUND));
        let mut w = Walk {
            plan: self,
            mask: self.masks[p as usize],
            ends: self.tiers.as_ref().map_or(&[][..], |t| &t.ends[..]),
            clock,
            level: self.tiers.as_ref().map_or(0, |t| t.floor),
            failed: 0,
            next_end: 0,
            period: Metrics::default(),
            life: Metrics::default(),
            earned: 0,
        };
        let mut j = 0;
        for (i, pay) in pays.iter().enumerate() {
            while j < s.refunds.len() && pays[s.refunds[j] as usize].refund_at < pay.at {
                let k = s.refunds[j] as usize;
                w.refund(&pays[k], s.written[k]);
                j += 1;
            }
            s.written[i] = w.pay(pay, &mut s.custs[pay.cust as usize]);
        }
        for &k in &s.refunds[j..] {
            w.refund(&pays[k as usize], s.written[k as usize]);
        }
        w.advance(i64::MAX);
        Outcome {
            earned: w.earned,
            level: w.level,
        }
    }

    /// What a payment's entries add up to: every rule that holds, combined as the plan says.
    #[inline(always)]
    fn written(&self, mask: u64, level: usize, at: i64, n: u32, amount: i64, c: &mut Cust) -> i64 {
        let mut w = 0i64;
        let mut best: Option<i64> = None;
        for (ri, r) in self.rules.iter().enumerate() {
            if mask & (1 << ri) == 0 || !self.matches(r, level, at, n, amount, c) {
                continue;
            }
            let a = self.price(r, level, amount);
            match self.combine {
                Combine::FirstMatch => {
                    w = a;
                    break;
                }
                Combine::Sum => w += a,
                Combine::Max => {
                    if best.is_none_or(|b| a > b) {
                        best = Some(a);
                    }
                }
            }
        }
        best.unwrap_or(w)
    }

    #[inline(always)]
    fn matches(&self, r: &Rule, level: usize, at: i64, n: u32, amount: i64, c: &mut Cust) -> bool {
        if let Some(t) = &r.tiers
            && !t.get(level).copied().unwrap_or(false)
        {
            return false;
        }
        if r.from.is_some_and(|f| at < f) || r.until.is_some_and(|u| at >= u) {
            return false;
        }
        if n < r.number.0 || n > r.number.1 {
            return false;
        }
        if let Some(months) = r.within_months {
            if c.within.0 != months {
                let first = chrono::DateTime::from_timestamp(c.first, 0).unwrap_or_default();
                let end = add_months_local(self.tz, first, months as i32).map_or(i64::MAX, secs);
                c.within = (months, end);
            }
            if at >= c.within.1 {
                return false;
            }
        }
        r.min_amount.is_none_or(|m| amount >= m)
    }

    /// Whether a refund at `at` of a payment at `paid` writes reversals.
    fn reverses(&self, paid: i64, at: i64) -> bool {
        if matches!(self.clawback, Clawback::Always) {
            return true;
        }
        if at < self.add_days(paid, self.hold_days) {
            return true;
        }
        match self.clawback {
            Clawback::Always => true,
            Clawback::Never => false,
            Clawback::WithinDays(n) => at <= self.add_days(paid, i64::from(n)),
        }
    }

    /// A period end: promote to the highest level that holds, or count a failed period and
    /// demote after K of them (never below the floor), as `tiers::at_period_end`.
    #[inline]
    fn close(&self, level: &mut usize, failed: &mut u32, period: &Metrics, life: &Metrics) {
        let Some(t) = &self.tiers else {
            return;
        };
        // The highest level that holds: from the top, stopping at the first.
        let best = t.levels.iter().rposition(|l| match l {
            None => true,
            Some((all, reqs)) => {
                let met = |q: &Req| {
                    let m = if q.lifetime { life } else { period };
                    m.get(q.metric) >= q.at_least
                };
                if *all {
                    reqs.iter().all(met)
                } else {
                    reqs.iter().any(met)
                }
            }
        });
        let cur = *level;
        if best.is_some_and(|b| b > cur) {
            *failed = 0;
            *level = best.unwrap_or(cur);
            return;
        }
        if best == Some(cur) {
            *failed = 0;
            return;
        }
        *failed += 1;
        let Some(k) = t.demotion else {
            return;
        };
        if *failed < k {
            return;
        }
        *failed = 0;
        let to = best.unwrap_or(0).max(t.floor);
        if to < cur {
            *level = to;
        }
    }
}
