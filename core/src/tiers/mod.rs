//! Tiers (SPEC §5): levels with `any`/`all` requirements over partner metrics, evaluated at
//! period ends or immediately, promotions that may skip levels, demotion after K failed
//! periods (never below `initial`), and the timeline of changes with the values that
//! decided each one.
//!
//! The book keeps, per partner, the current level and how many periods in a row its
//! requirements failed; a change is appended to the timeline and takes effect from its
//! instant (the next period's start for period-end evaluation, the qualifying event for
//! immediate evaluation: that event itself was already priced at the old tier).

pub mod progress;

use std::sync::Arc;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::error::{Error, ErrorCode, Result};
use crate::incentives::metrics::PartnerMetrics;
use crate::input::Partner;
use crate::plan::{Demotion, Metric, Requires, RequiresMode, TierEvaluation, Tiers, Window};
use crate::time::{Instant, Period, PeriodUnit, add_days_local};

/// One entry of the tier timeline: a partner holds `tier` from `from` on.
#[derive(Clone, Debug, PartialEq)]
pub struct TierChange {
    /// The partner.
    pub partner: Arc<str>,
    /// The level held from `from` on.
    pub tier: Arc<str>,
    /// When it took effect (`None` for the starting tier of a partner without `joined_at`).
    pub from: Option<Instant>,
    /// Why.
    pub reason: TierReason,
}

/// Why a partner holds a tier.
#[derive(Clone, Debug, PartialEq)]
pub enum TierReason {
    /// The starting tier: the partner's own `tier`, or the plan's `initial`.
    Initial {
        /// Where it comes from.
        source: TierSource,
    },
    /// A promotion or demotion.
    Change(Box<ChangeWhy>),
}

/// Where a starting tier comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierSource {
    /// The partner record's `tier`.
    Partner,
    /// The plan's `initial` level.
    Plan,
}

impl TierSource {
    /// `"partner"` or `"plan"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TierSource::Partner => "partner",
            TierSource::Plan => "plan",
        }
    }
}

/// Up or down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierMove {
    /// To a higher level.
    Promotion,
    /// To a lower level.
    Demotion,
}

impl TierMove {
    /// `"promotion"` or `"demotion"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TierMove::Promotion => "promotion",
            TierMove::Demotion => "demotion",
        }
    }
}

/// The evaluation that moved a partner.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeWhy {
    /// Up or down.
    pub change: TierMove,
    /// The previous tier.
    pub previous: Arc<str>,
    /// `period_end` or `immediate`.
    pub evaluation: TierEvaluation,
    /// The period evaluated (period-end evaluation).
    pub period: Option<Period>,
    /// The event that qualified the partner (immediate evaluation).
    pub event: Option<Arc<str>>,
    /// The instant the metrics were measured at.
    pub evaluated_at: Instant,
    /// For a demotion: the periods in a row the previous tier's requirements failed.
    pub failed_periods: Option<u32>,
    /// Every level's requirements, with the values measured.
    pub levels: Vec<LevelCheck>,
}

/// Whether a level's requirements hold, with the values measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelCheck {
    /// The level.
    pub level: Arc<str>,
    /// Whether it holds.
    pub holds: bool,
    /// Any, all, or none (the first level, held by every partner).
    pub requires: Option<RequiresMode>,
    /// Each requirement.
    pub requirements: Vec<RequirementCheck>,
}

/// One requirement, measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementCheck {
    /// The metric.
    pub metric: Metric,
    /// The window.
    pub window: Window,
    /// Its first instant (none for lifetime).
    pub window_start: Option<Instant>,
    /// The value measured.
    pub value: Decimal,
    /// The threshold.
    pub at_least: Decimal,
    /// value ≥ at_least.
    pub met: bool,
}

/// Where each partner stands.
#[derive(Clone, Debug)]
pub(crate) struct TierBook {
    /// Level ids, lowest first.
    pub levels: Vec<Arc<str>>,
    /// The floor of demotions (the plan's `initial`).
    pub floor: usize,
    /// Each partner's current level.
    pub current: Vec<usize>,
    /// Each partner's periods in a row with its level's requirements failed.
    pub failed: Vec<u32>,
    /// Every change, in the order made (starting tiers first).
    pub timeline: Vec<TierChange>,
}

impl TierBook {
    /// Every partner at its starting tier: its own `tier`, else the plan's `initial`.
    pub fn new(t: &Tiers, partners: &[Partner], ids: &[Arc<str>]) -> Result<TierBook> {
        let levels: Vec<Arc<str>> = t.levels.iter().map(|l| Arc::from(l.id.as_str())).collect();
        let floor = match &t.initial {
            Some(i) => levels.iter().position(|l| &**l == i).unwrap_or(0),
            None => 0,
        };
        let mut book = TierBook {
            levels,
            floor,
            failed: Vec::with_capacity(partners.len()),
            current: Vec::with_capacity(partners.len()),
            timeline: Vec::with_capacity(partners.len()),
        };
        for (p, id) in partners.iter().zip(ids) {
            book.add(p, id.clone())?;
        }
        Ok(book)
    }

    /// Adds partner `p` (the next index) at its starting tier: its own `tier`, else the
    /// plan's `initial`.
    pub fn add(&mut self, p: &Partner, id: Arc<str>) -> Result<()> {
        let i = self.current.len();
        let (level, source) = match &p.tier {
            Some(tier) => {
                let level = self
                    .levels
                    .iter()
                    .position(|l| **l == **tier)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::InvalidValue,
                            format!("partners[{i}].tier"),
                            format!(
                                "\"{tier}\" is not a tier level of the plan (levels: {})",
                                self.levels
                                    .iter()
                                    .map(|l| &**l)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                (level, TierSource::Partner)
            }
            None => (self.floor, TierSource::Plan),
        };
        self.current.push(level);
        self.failed.push(0);
        self.timeline.push(TierChange {
            partner: id,
            tier: self.levels[level].clone(),
            from: p.joined_at,
            reason: TierReason::Initial { source },
        });
        Ok(())
    }
}

impl TierBook {
    /// The tier a partner holds now.
    pub fn tier(&self, partner: usize) -> Option<&Arc<str>> {
        self.current.get(partner).map(|&l| &self.levels[l])
    }
}

/// Where each kind of window starts when measured at `at`.
#[derive(Clone, Copy)]
pub(crate) struct Starts {
    pub tz: Tz,
    pub at: Instant,
    /// The start of the tiers' calendar period measured.
    pub period_start: Instant,
}

impl Starts {
    /// Measuring the period `p` at its end.
    pub fn period_end(tz: Tz, p: Period) -> Starts {
        Starts {
            tz,
            at: p.end(tz),
            period_start: p.start(tz),
        }
    }

    /// Measuring at `at`, inside the period of `unit` that contains it.
    pub fn now(tz: Tz, unit: PeriodUnit, at: Instant) -> Starts {
        Starts {
            tz,
            at,
            period_start: Period::containing(unit, tz, at).start(tz),
        }
    }

    /// The first instant of `w`: the period's start, N local days back, or none.
    pub fn of(&self, w: Window) -> Result<Option<Instant>> {
        Ok(match w {
            Window::Period => Some(self.period_start),
            Window::Lifetime => None,
            Window::RollingDays(n) => Some(
                add_days_local(self.tz, self.at, -i64::from(n))
                    .ok_or_else(|| Error::overflow("plan.tiers.levels.requires.window"))?,
            ),
        })
    }
}

/// Every level's requirements measured on `m`, and the highest level that holds.
pub(crate) fn check(
    t: &Tiers,
    levels: &[Arc<str>],
    m: &PartnerMetrics,
    starts: &Starts,
) -> Result<(Option<usize>, Vec<LevelCheck>)> {
    let mut best = None;
    let mut out = Vec::with_capacity(t.levels.len());
    for (i, l) in t.levels.iter().enumerate() {
        let mut reqs = Vec::new();
        let holds = match &l.requires {
            None => true,
            Some(r) => {
                for q in r.list() {
                    let start = starts.of(q.window)?;
                    let value = m.value(q.metric, start);
                    reqs.push(RequirementCheck {
                        metric: q.metric,
                        window: q.window,
                        window_start: start,
                        value,
                        at_least: q.at_least.get(),
                        met: value >= q.at_least.get(),
                    });
                }
                match r {
                    Requires::Any(_) => reqs.iter().any(|c| c.met),
                    Requires::All(_) => reqs.iter().all(|c| c.met),
                }
            }
        };
        if holds {
            best = Some(i);
        }
        out.push(LevelCheck {
            level: levels[i].clone(),
            holds,
            requires: l.requires.as_ref().map(Requires::mode),
            requirements: reqs,
        });
    }
    Ok((best, out))
}

/// A level change decided by an evaluation.
pub(crate) struct Decision {
    pub to: usize,
    pub change: TierMove,
    pub failed_periods: Option<u32>,
}

/// The period-end rule: promote to the highest level that holds (skipping levels if need
/// be); otherwise count a failed period when the current level does not hold, and after K
/// in a row demote to the highest level that holds, never below the floor.
pub(crate) fn at_period_end(
    t: &Tiers,
    book: &mut TierBook,
    partner: usize,
    best: Option<usize>,
) -> Option<Decision> {
    let cur = book.current[partner];
    if best.is_some_and(|b| b > cur) {
        book.failed[partner] = 0;
        return best.map(|to| Decision {
            to,
            change: TierMove::Promotion,
            failed_periods: None,
        });
    }
    if best == Some(cur) {
        book.failed[partner] = 0;
        return None;
    }
    book.failed[partner] += 1;
    let Demotion::AfterPeriods(k) = t.demotion else {
        return None;
    };
    if book.failed[partner] < k {
        return None;
    }
    let failed = book.failed[partner];
    book.failed[partner] = 0;
    let to = best.unwrap_or(0).max(book.floor);
    (to < cur).then_some(Decision {
        to,
        change: TierMove::Demotion,
        failed_periods: Some(failed),
    })
}

/// The immediate rule: promote as soon as a higher level holds (demotions wait for period
/// ends).
pub(crate) fn at_event(book: &TierBook, partner: usize, best: Option<usize>) -> Option<Decision> {
    let cur = book.current[partner];
    best.filter(|b| *b > cur).map(|to| Decision {
        to,
        change: TierMove::Promotion,
        failed_periods: None,
    })
}

/// Applies a decision: the partner holds `to` from `from` on.
pub(crate) fn apply(
    book: &mut TierBook,
    partner: usize,
    id: &Arc<str>,
    d: Decision,
    from: Instant,
    why: ChangeWhy,
) {
    book.current[partner] = d.to;
    book.failed[partner] = 0;
    book.timeline.push(TierChange {
        partner: id.clone(),
        tier: book.levels[d.to].clone(),
        from: Some(from),
        reason: TierReason::Change(Box::new(why)),
    });
}
