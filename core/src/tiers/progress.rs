//! Tier progress for partner dashboards and apps (SPEC §11): each partner's tier as of the
//! report, the next level up, and per requirement of that level the value so far, the
//! target and what remains — "3 more referrals this month to reach Gold".

use std::sync::Arc;

use rust_decimal::Decimal;

use super::{Starts, TierBook};
use crate::error::Result;
use crate::incentives::metrics::PartnerMetrics;
use crate::plan::{Metric, RequiresMode, Tiers, Window};

/// One partner's progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The partner.
    pub partner: Arc<str>,
    /// The tier held as of the report.
    pub tier: Arc<str>,
    /// The level right above it (none at the top).
    pub next_tier: Option<Arc<str>>,
    /// Whether any one or every requirement of the next level is needed.
    pub requires: Option<RequiresMode>,
    /// The next level's requirements, measured as of the report.
    pub requirements: Vec<Remaining>,
}

/// One requirement of the next level: where the partner stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Remaining {
    /// The metric.
    pub metric: Metric,
    /// The window, measured up to the report's `as_of`.
    pub window: Window,
    /// The value so far.
    pub current: Decimal,
    /// The threshold.
    pub target: Decimal,
    /// max(0, target − current).
    pub remaining: Decimal,
}

/// Progress of every partner (in partner order) as of `as_of`.
pub(crate) fn build(
    t: &Tiers,
    book: &TierBook,
    metrics: &[PartnerMetrics],
    ids: &[Arc<str>],
    starts: &Starts,
) -> Result<Vec<Progress>> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let cur = book.current[i];
        let next = t.levels.get(cur + 1);
        let mut requirements = Vec::new();
        if let Some(r) = next.and_then(|l| l.requires.as_ref()) {
            for q in r.list() {
                let start = starts.of(q.window)?;
                let current = metrics
                    .get(i)
                    .map_or(Decimal::ZERO, |m| m.value(q.metric, start));
                let target = q.at_least.get();
                requirements.push(Remaining {
                    metric: q.metric,
                    window: q.window,
                    current,
                    target,
                    remaining: (target - current).max(Decimal::ZERO),
                });
            }
        }
        out.push(Progress {
            partner: id.clone(),
            tier: book.levels[cur].clone(),
            next_tier: next.map(|_| book.levels[cur + 1].clone()),
            requires: next.and_then(|l| l.requires.as_ref()).map(|r| r.mode()),
            requirements,
        });
    }
    Ok(out)
}
