//! Partner metrics as time series, for tiers, volume bands and bonuses.
//!
//! Every change of a metric is recorded at the instant of the event that caused it (a
//! refund lowers revenue when it happens), as a running total. A window's value is then
//! the total so far less the running total just before the window starts: one binary
//! search, whatever the window ("period", rolling days, lifetime). Events are applied in
//! canonical order, so points are appended in time order; nothing needs a clock.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::plan::Metric;
use crate::time::Instant;

/// The running total of one additive metric: `(instant, total after it)`, in time order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    points: Vec<(Instant, Decimal)>,
}

impl Series {
    /// Records a change at `at` (never earlier than the last one recorded).
    pub fn add(&mut self, at: Instant, x: Decimal) {
        if x.is_zero() {
            return;
        }
        let total = self.total() + x;
        match self.points.last_mut() {
            Some(last) if last.0 == at => last.1 = total,
            _ => self.points.push((at, total)),
        }
    }

    /// Everything recorded so far.
    pub fn total(&self) -> Decimal {
        self.points.last().map_or(Decimal::ZERO, |p| p.1)
    }

    /// What was recorded from `start` on (inclusive); `None` is the beginning of time.
    pub fn since(&self, start: Option<Instant>) -> Decimal {
        let Some(start) = start else {
            return self.total();
        };
        let n = self.points.partition_point(|p| p.0 < start);
        let before = n.checked_sub(1).map_or(Decimal::ZERO, |i| self.points[i].1);
        self.total() - before
    }
}

/// One partner's metrics.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartnerMetrics {
    pub referrals: Series,
    pub conversions: Series,
    /// Credited base in plan currency, net of refunds.
    pub revenue: Series,
    /// Commission, true-up and override entries net of their reversals, plan currency.
    pub commission: Series,
    /// Each attributed customer's latest credited payment.
    last_paid: BTreeMap<Arc<str>, Instant>,
    /// The same, ordered by instant, to count the customers active in a window.
    by_time: BTreeSet<(Instant, Arc<str>)>,
}

impl PartnerMetrics {
    /// The metric's value from `start` (inclusive; `None`: lifetime) up to now.
    pub fn value(&self, metric: Metric, start: Option<Instant>) -> Decimal {
        match metric {
            Metric::Referrals => self.referrals.since(start),
            Metric::Conversions => self.conversions.since(start),
            Metric::Revenue => self.revenue.since(start),
            Metric::Commission => self.commission.since(start),
            Metric::ActiveCustomers => {
                let n = match start {
                    None => self.by_time.len(),
                    Some(s) => self.by_time.range((s, Arc::from(""))..).count(),
                };
                Decimal::from(n)
            }
        }
    }

    /// Whether `customer` paid (credited to this partner) at or after `start`.
    pub fn paid_since(&self, customer: &str, start: Option<Instant>) -> bool {
        self.last_paid
            .get(customer)
            .is_some_and(|at| start.is_none_or(|s| *at >= s))
    }

    /// Records a credited payment of `customer` at `at`.
    pub fn paid(&mut self, customer: &Arc<str>, at: Instant) {
        if let Some(prev) = self.last_paid.insert(customer.clone(), at) {
            self.by_time.remove(&(prev, customer.clone()));
        }
        self.by_time.insert((at, customer.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    fn at(s: &str) -> Instant {
        parse_instant(s).unwrap()
    }

    #[test]
    fn windows_are_suffix_sums() {
        let mut s = Series::default();
        s.add(at("2026-01-10T00:00:00Z"), Decimal::from(3));
        s.add(at("2026-02-01T00:00:00Z"), Decimal::from(4));
        s.add(at("2026-02-01T00:00:00Z"), Decimal::from(1));
        s.add(at("2026-02-20T00:00:00Z"), Decimal::from(-2));
        assert_eq!(s.total(), Decimal::from(6));
        assert_eq!(s.since(None), Decimal::from(6));
        assert_eq!(s.since(Some(at("2026-02-01T00:00:00Z"))), Decimal::from(3));
        assert_eq!(s.since(Some(at("2026-02-01T00:00:01Z"))), Decimal::from(-2));
        assert_eq!(s.since(Some(at("2027-01-01T00:00:00Z"))), Decimal::ZERO);
    }

    #[test]
    fn active_customers_count_latest_payments() {
        let mut m = PartnerMetrics::default();
        let (c1, c2): (Arc<str>, Arc<str>) = (Arc::from("c1"), Arc::from("c2"));
        m.paid(&c1, at("2026-01-05T00:00:00Z"));
        m.paid(&c2, at("2026-01-20T00:00:00Z"));
        m.paid(&c1, at("2026-02-03T00:00:00Z"));
        let feb = Some(at("2026-02-01T00:00:00Z"));
        assert_eq!(m.value(Metric::ActiveCustomers, None), Decimal::from(2));
        assert_eq!(m.value(Metric::ActiveCustomers, feb), Decimal::ONE);
        assert!(m.paid_since("c1", feb));
        assert!(!m.paid_since("c2", feb));
    }
}
