//! The tier book of the fold: each partner's level, failed periods and month and lifetime
//! metrics, evaluated at every month end as the canonical `tiers::at_period_end` does.

use super::compile::TiersC;
use crate::plan::Metric;

/// Per-partner metric accumulators for tiers: this month and lifetime.
#[derive(Clone, Copy, Default)]
pub(super) struct Acc {
    pub(super) referrals: i64,
    pub(super) conversions: i64,
    pub(super) revenue: i64,
    pub(super) commission: i64,
}

impl Acc {
    pub(super) fn get(&self, m: Metric) -> i64 {
        match m {
            Metric::Referrals => self.referrals,
            Metric::Conversions => self.conversions,
            Metric::Revenue => self.revenue,
            Metric::Commission => self.commission,
            Metric::ActiveCustomers => 0,
        }
    }

    pub(super) fn add(&mut self, other: Acc) {
        self.referrals += other.referrals;
        self.conversions += other.conversions;
        self.revenue += other.revenue;
        self.commission += other.commission;
    }
}

/// The tier book: current level, failed periods, metrics.
pub(super) struct Book<'a> {
    pub(super) t: &'a TiersC,
    pub(super) current: Vec<u16>,
    pub(super) failed: Vec<u32>,
    pub(super) month: Vec<Acc>,
    pub(super) life: Vec<Acc>,
    /// Partners' `joined_at` (ns), or i64::MIN.
    pub(super) joined: Vec<i64>,
}

impl Book<'_> {
    #[inline(never)]
    pub(super) fn close(&mut self, end: i64, digits: u32) {
        for i in 0..self.current.len() {
            if self.joined[i] >= end {
                // Not evaluated before joining; what it did in the month is forgotten as
                // the month ends, as the canonical period window forgets it.
                self.life[i].add(self.month[i]);
                self.month[i] = Acc::default();
                continue;
            }
            let mut life = self.life[i];
            life.add(self.month[i]);
            let mut best: Option<usize> = None;
            for (li, l) in self.t.levels.iter().enumerate() {
                let holds = match l.all {
                    None => true,
                    Some(all) => {
                        let met = |q: &super::compile::Req| {
                            let v = if q.period {
                                self.month[i].get(q.metric)
                            } else {
                                life.get(q.metric)
                            };
                            let d = if q.metric.is_money() { digits } else { 0 };
                            q.at_least.le_minor(i128::from(v), d)
                        };
                        if all {
                            l.reqs.iter().all(met)
                        } else {
                            l.reqs.iter().any(met)
                        }
                    }
                };
                if holds {
                    best = Some(li);
                }
            }
            let cur = usize::from(self.current[i]);
            if best.is_some_and(|b| b > cur) {
                self.failed[i] = 0;
                self.current[i] = best.map_or(0, |b| b as u16);
            } else if best == Some(cur) {
                self.failed[i] = 0;
            } else {
                self.failed[i] += 1;
                if let Some(k) = self.t.demote_after
                    && self.failed[i] >= k
                {
                    self.failed[i] = 0;
                    let to = best.unwrap_or(0).max(self.t.floor);
                    if to < cur {
                        self.current[i] = to as u16;
                    }
                }
            }
            self.life[i] = life;
            self.month[i] = Acc::default();
        }
    }
}
