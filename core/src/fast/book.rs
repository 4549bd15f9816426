//! The tier book of the fold: each partner's level, failed periods and period and lifetime
//! metrics, evaluated at every tier period's end (a month's, a quarter's or a year's) as
//! the canonical `tiers::at_period_end` does.

use super::compile::TiersC;
use crate::plan::Metric;

/// Per-partner metric accumulators for tiers: this tier period and lifetime.
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

/// What the fold reads and writes of a partner at each payment, in one cache line: the
/// tier level that prices it, the tier period's metrics, and the cap period's tally of the
/// plan's first rule (a later rule keeps its own beside it).
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
pub(super) struct Hot {
    /// This tier period's metrics.
    pub(super) month: Acc,
    /// Commission counted against the cap in the cap period starting at `tally_from`.
    pub(super) tally: i64,
    /// The first instant of the cap period of the partner's latest payment (`i64::MIN`:
    /// none). Payments come in time order, so an older period's tally is never read again
    /// and one period per partner is all the cap needs.
    pub(super) tally_from: i64,
    /// The current tier level.
    pub(super) level: u16,
}

/// The tier book: failed periods, lifetime metrics and join instants (the current level
/// and the tier period's metrics live in each partner's [`Hot`]).
pub(super) struct Book<'a> {
    pub(super) t: &'a TiersC,
    pub(super) failed: Vec<u32>,
    pub(super) life: Vec<Acc>,
    /// Partners' `joined_at` (ns), or i64::MIN.
    pub(super) joined: Vec<i64>,
}

impl Book<'_> {
    /// Evaluates every partner's level at the tier period's end `end` and starts a new
    /// period.
    #[inline(never)]
    pub(super) fn close(&mut self, hot: &mut [Hot], end: i64, digits: u32) {
        for (i, h) in hot.iter_mut().enumerate() {
            if self.joined[i] >= end {
                // Not evaluated before joining; what it did in the period is forgotten as
                // the period ends, as the canonical period window forgets it.
                self.life[i].add(h.month);
                h.month = Acc::default();
                continue;
            }
            let mut life = self.life[i];
            life.add(h.month);
            let mut best: Option<usize> = None;
            for (li, l) in self.t.levels.iter().enumerate() {
                let holds = match l.all {
                    None => true,
                    Some(all) => {
                        let met = |q: &super::compile::Req| {
                            let v = if q.period {
                                h.month.get(q.metric)
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
            let cur = usize::from(h.level);
            if best.is_some_and(|b| b > cur) {
                self.failed[i] = 0;
                h.level = best.map_or(0, |b| b as u16);
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
                        h.level = to as u16;
                    }
                }
            }
            self.life[i] = life;
            h.month = Acc::default();
        }
    }
}
