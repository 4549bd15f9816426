//! The fast path per customer instead of per payment.
//!
//! When no rule looks at a payment's instant or number (no `from`/`until`,
//! `payment_number` or `within_months`) and every scenario month lies within one tier
//! period, a payment's entries depend only on its amount and the tier level of its month.
//! A customer pays one amount every month of its lifetime, so its payment at each level is
//! priced once (rounded per payment, as the engine does) and spread over its months with
//! difference arrays; the period metrics are sums over months. Within a period the level is
//! fixed and every metric is a sum, so the order of the period's events does not matter:
//! the months go in order, then the refunds of the period, then the period's close. The
//! result is the payment-by-payment walk's (`tests/simulate.rs` checks both against
//! `evaluate`), at a cost per customer and level, not per payment.

use super::super::generate::{Calendar, GenScratch};
use super::{Cust, FastPlan, Metrics, Outcome, mul_div_round};

/// Each month's tier period (the number of period ends at or before its start), or `None`
/// when a period ends inside a month.
pub(super) fn month_periods(cal: &Calendar, ends: &[i64]) -> Option<Vec<u32>> {
    cal.starts
        .iter()
        .zip(&cal.lens)
        .map(|(&start, &len)| {
            let k = ends.partition_point(|&e| e <= start);
            (k == ends.len() || ends[k] >= start + len).then_some(k as u32)
        })
        .collect()
}

/// A refund seen per customer: its period, the month of its payment, the payment.
#[derive(Clone, Copy, Debug)]
struct Reversal {
    period: u32,
    month: u32,
    amount: i64,
    paid: i64,
    at: i64,
}

/// One month's counts, in one place as the walk reads them together.
#[derive(Clone, Copy, Debug, Default)]
struct Month {
    /// New customers.
    new: i64,
    /// Customers whose last payment was the month before.
    gone: i64,
    /// Difference arrays: paying customers, revenue.
    paying: i64,
    revenue: i64,
}

/// Reusable buffers (one set per thread).
#[derive(Default)]
pub(crate) struct Buffers {
    /// Per month (and one past the horizon).
    months: Vec<Month>,
    /// Per level and month (level-major): the commission of the month's payments.
    commission: Vec<i64>,
    /// The level each month was priced at.
    level_of: Vec<usize>,
    /// Per level: whether `commission` holds it yet (most partners never leave their
    /// first level, so the others are priced when first reached).
    priced: Vec<bool>,
    reversals: Vec<Reversal>,
}

impl FastPlan {
    /// Fills `b.commission` of `level`: each customer's payment priced once, added over its
    /// months (a difference array, then running sums).
    fn price_level(&self, level: usize, mask: u64, g: &GenScratch, width: usize, b: &mut Buffers) {
        let row = &mut b.commission[level * width..(level + 1) * width];
        match &self.plain {
            // The one rule applies to this partner: its rate at the level, nothing else.
            Some(rates) if mask & 1 == 1 => {
                let (p, d, m) = rates[level];
                for c in &g.customers {
                    let w = i64::try_from(mul_div_round(c.amount, p, d, m, self.rounding))
                        .unwrap_or(i64::MAX);
                    row[c.month as usize] += w;
                    row[(c.month + c.payments) as usize] -= w;
                }
            }
            _ => {
                let mut none = Cust::default();
                for c in &g.customers {
                    // No rule reads the instant, the number or the customer: placeholders.
                    let w = self.written(mask, level, 0, 1, c.amount, &mut none);
                    row[c.month as usize] += w;
                    row[(c.month + c.payments) as usize] -= w;
                }
            }
        }
        let mut sum = 0;
        for v in row {
            sum += *v;
            *v = sum;
        }
        b.priced[level] = true;
    }

    /// Whether the plan is priced per customer ([`FastPlan::partner_grouped`]).
    pub(crate) fn grouped(&self) -> bool {
        self.month_period.is_some()
    }

    /// Prices partner `p`'s generated customers (`g`) as [`FastPlan::partner`] prices their
    /// payments; only for a plan that is [`FastPlan::grouped`].
    pub(crate) fn partner_grouped(
        &self,
        p: u32,
        g: &GenScratch,
        cal: &Calendar,
        clock: i64,
        b: &mut Buffers,
    ) -> Outcome {
        let Some(month_period) = &self.month_period else {
            return Outcome::default();
        };
        let floor = self.tiers.as_ref().map_or(0, |t| t.floor);
        // The month of the partner's first customer: before it every metric is zero.
        let first_month = g.customers.iter().map(|c| c.month as usize).min();
        if self.idle && first_month.is_none() {
            return Outcome {
                earned: 0,
                level: floor,
            };
        }
        let months = cal.starts.len();
        let width = months + 1;
        let mask = self.masks[p as usize];
        b.months.clear();
        b.months.resize(width, Month::default());
        b.commission.clear();
        b.commission.resize(width * self.levels, 0);
        b.priced.clear();
        b.priced.resize(self.levels, false);
        b.level_of.clear();
        b.level_of.resize(months, 0);
        b.reversals.clear();
        let ends = self.tiers.as_ref().map_or(&[][..], |t| &t.ends[..]);
        let mut none = Cust::default();
        for c in &g.customers {
            let (from, to) = (c.month as usize, (c.month + c.payments) as usize);
            let start = &mut b.months[from];
            start.new += 1;
            start.paying += 1;
            start.revenue += c.amount;
            let end = &mut b.months[to];
            end.gone += 1;
            end.paying -= 1;
            end.revenue -= c.amount;
            for r in &g.refunds[c.refunds.0 as usize..c.refunds.1 as usize] {
                let month = c.month + r.k;
                b.reversals.push(Reversal {
                    period: ends.partition_point(|&e| e <= r.at) as u32,
                    month,
                    amount: c.amount,
                    paid: cal.pay_at(month as usize, c.offset),
                    at: r.at,
                });
            }
        }
        b.reversals.sort_unstable_by_key(|r| r.period);
        let mut level = floor;
        let mut failed = 0u32;
        let (mut period, mut life) = (Metrics::default(), Metrics::default());
        let mut earned = 0i64;
        let (mut paying, mut revenue, mut started, mut gone) = (0i64, 0i64, 0i64, 0i64);
        let (mut m, mut ri, mut k0) = (0usize, 0usize, 0usize);
        if self.idle
            && let Some(f) = first_month
        {
            // The periods before the first customer's close on zero metrics and change
            // nothing: start at the period of its month, at that period's first month (a
            // refund follows its payment, so none falls earlier).
            k0 = month_period[f] as usize;
            m = month_period.partition_point(|&x| (x as usize) < k0);
        }
        for k in k0..=ends.len() {
            let first = m;
            let mut gone_before = gone;
            while m < months && month_period[m] as usize == k {
                let month = b.months[m];
                paying += month.paying;
                revenue += month.revenue;
                started += month.new;
                gone += month.gone;
                if m == first {
                    // Customers whose last payment came before the period's first month.
                    gone_before = gone;
                }
                let new = month.new;
                period.referrals += new;
                life.referrals += new;
                life.active += new;
                period.conversions += paying;
                life.conversions += paying;
                period.revenue += revenue;
                life.revenue += revenue;
                if !b.priced[level] {
                    self.price_level(level, mask, g, width, b);
                }
                let w = b.commission[level * width + m];
                earned += w;
                period.commission += w;
                life.commission += w;
                b.level_of[m] = level;
                m += 1;
            }
            if m > first {
                // Distinct customers paying in the period: converted by its last month, less
                // those gone before its first.
                period.active = started - gone_before;
            }
            while ri < b.reversals.len() && b.reversals[ri].period as usize == k {
                let r = b.reversals[ri];
                ri += 1;
                period.revenue -= r.amount;
                life.revenue -= r.amount;
                let w = self.written(
                    mask,
                    b.level_of[r.month as usize],
                    0,
                    1,
                    r.amount,
                    &mut none,
                );
                if w != 0 && self.reverses(r.paid, r.at) {
                    earned -= w;
                    period.commission -= w;
                    life.commission -= w;
                }
            }
            if k < ends.len() {
                if ends[k] > clock {
                    self.close(&mut level, &mut failed, &period, &life);
                }
                period = Metrics::default();
            }
        }
        Outcome { earned, level }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::generate::{self, Calendar, GenScratch};
    use super::super::{FastPlan, Scratch};
    use crate::plan::Plan;
    use crate::simulate::Scenario;

    /// Per customer and payment by payment give the same outcome for every partner of
    /// every run, under a plan with monthly tiers (refunds crossing period ends, demotion).
    #[test]
    fn per_customer_equals_per_payment() {
        let sc = Scenario::from_json(
            r#"{"schema": "partnerkit/scenario@1", "currency": "USD", "start": "2026-01-01",
            "months": 9, "runs": 1, "seed": 4, "refund_after_days": 20,
            "populations": [{"segment": "s", "partners": 40,
                "touches_per_month": {"lognormal": {"median": "40", "sigma": "1"}},
                "conversion_rate": {"fixed": "0.05"},
                "subscription": {"price": {"lognormal": {"median": "30", "sigma": "0.5"}},
                                 "monthly_churn": {"fixed": "0.2"}},
                "refund_rate": {"fixed": "0.1"}}]}"#,
        )
        .unwrap();
        let plan = Plan::from_json(
            r#"{"schema": "partnerkit/plan@1", "id": "t", "currency": "USD",
            "rules": [{"id": "r", "reward": {"percent_by_tier":
                {"bronze": "10", "silver": "15.5", "gold": "20"}}}],
            "tiers": {"levels": [{"id": "bronze"},
                {"id": "silver", "requires": {"any": [{"metric": "referrals", "at_least": "2"}]}},
                {"id": "gold", "requires": {"all": [
                    {"metric": "active_customers", "at_least": "4"},
                    {"metric": "commission", "at_least": "20"}]}}],
                "demotion": {"after_periods": 1}}}"#,
        )
        .unwrap();
        let f = FastPlan::compile(&plan, &sc).unwrap();
        assert!(f.grouped());
        let cal = Calendar::new(&sc);
        let key = generate::key(4);
        let (mut g, mut s, mut pays) = (GenScratch::default(), Scratch::default(), Vec::new());
        let mut levels = [0; 3];
        for run in 0..5 {
            for p in 0..40 {
                let d = generate::customers(&sc, &cal, &key, run, p, &mut g);
                generate::pays(&cal, &g, &mut pays);
                let a = f.partner(p, &pays, d.customers, i64::MIN, &mut s);
                let b = f.partner_grouped(p, &g, &cal, i64::MIN, &mut s.grouped);
                assert_eq!(
                    (a.earned, a.level),
                    (b.earned, b.level),
                    "run {run}, partner {p}"
                );
                levels[a.level] += 1;
            }
        }
        // Every level was reached: the comparison covers the tier logic.
        assert!(levels.iter().all(|&n| n > 0), "{levels:?}");
    }
}
