//! Volume bands (SPEC §4 `tiered`): the rate depends on the partner's running metric in
//! the band period, paid in one of four named modes.
//!
//! - *graduated*: the part of this event's contribution that falls in each band is paid at
//!   that band's rate (a marginal schedule, like income tax);
//! - *this_event*: the whole event at the band of the running total including it;
//! - *next_event*: the whole event at the band of the running total before it;
//! - *retroactive*: like this_event, and every earlier event of the window is topped up to
//!   the new rate by one `true_up` entry at the crossing (written by the engine after the
//!   event is priced, see [`true_up`]).
//!
//! Band starts are inclusive: a running total equal to `from` is in that band.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::Pricing;
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{BandPart, BandWhy, TrueUpLine};
use crate::money::{Currency, Rounding, allocate};
use crate::plan::{Band, BandMode, BandPeriod, Bands, Metric};
use crate::time::{Instant, Period, PeriodUnit, add_days_local};

/// `x` percent of `of`, exactly (the percent's decimal point moved, no division).
#[inline]
pub(crate) fn percent_of(of: Decimal, percent: Decimal) -> Option<Decimal> {
    let rate = Decimal::try_from_i128_with_scale(percent.mantissa(), percent.scale() + 2)
        .ok()
        .or_else(|| percent.checked_div(Decimal::ONE_HUNDRED))?;
    of.checked_mul(rate)
}

/// The window a band metric runs over at `at`: its first instant and its label.
pub(crate) fn window(
    period: BandPeriod,
    tz: chrono_tz::Tz,
    at: Instant,
) -> Result<(Option<Instant>, String)> {
    let unit = match period {
        BandPeriod::Month => PeriodUnit::Month,
        BandPeriod::Quarter => PeriodUnit::Quarter,
        BandPeriod::Year => PeriodUnit::Year,
        BandPeriod::Lifetime => return Ok((None, "lifetime".to_owned())),
        BandPeriod::RollingDays(n) => {
            let start = add_days_local(tz, at, -i64::from(n))
                .ok_or_else(|| Error::overflow("plan.rules.reward.tiered.period"))?;
            return Ok((Some(start), format!("rolling {n} days")));
        }
    };
    let p = Period::containing(unit, tz, at);
    Ok((Some(p.start(tz)), p.label()))
}

/// The band a running total is in: the last whose start is at or below it (totals below 0,
/// after refunds, are in the first band).
fn band_of(bands: &[Band], x: Decimal) -> &Band {
    bands
        .iter()
        .rev()
        .find(|b| b.from.get() <= x)
        .unwrap_or(&bands[0])
}

/// Prices a `tiered` reward for the partner in `p`: the explanation and the unrounded amount.
pub(crate) fn quote(b: &Bands, p: &Pricing<'_>, idx: usize) -> Result<(BandWhy, Decimal)> {
    let overflow = || Error::overflow(format!("plan.rules[{idx}].reward.tiered"));
    if b.bands.is_empty() {
        return Err(Error::new(
            ErrorCode::Internal,
            "",
            "validated bands are empty",
        ));
    }
    let (start, label) = window(b.period, p.plan.tz(), p.at)?;
    let before = p
        .metrics
        .map_or(Decimal::ZERO, |m| m.value(b.metric, start));
    let delta = match b.metric {
        Metric::Revenue => p.credited_plan,
        Metric::Conversions => Decimal::ONE,
        Metric::Referrals => Decimal::from(u8::from(p.new_referral)),
        Metric::ActiveCustomers => {
            let seen = match (p.metrics, p.customer) {
                (Some(m), Some(c)) => m.paid_since(c, start),
                _ => false,
            };
            Decimal::from(u8::from(!seen))
        }
        // Validation rejects a band on the commission it would produce.
        Metric::Commission => Decimal::ZERO,
    };
    let after = before + delta;
    let parts = match b.mode {
        BandMode::ThisEvent | BandMode::Retroactive => vec![whole(band_of(&b.bands, after), p)],
        BandMode::NextEvent => vec![whole(band_of(&b.bands, before), p)],
        BandMode::Graduated => graduated(&b.bands, before, delta, p).ok_or_else(overflow)?,
    };
    let mut computed = Decimal::ZERO;
    for part in &parts {
        computed = percent_of(part.base, part.percent)
            .and_then(|x| computed.checked_add(x))
            .ok_or_else(overflow)?;
    }
    Ok((
        BandWhy {
            metric: b.metric,
            mode: b.mode,
            window: label,
            window_start: start,
            before,
            after,
            parts,
        },
        computed,
    ))
}

fn whole(band: &Band, p: &Pricing<'_>) -> BandPart {
    BandPart {
        from: band.from.get(),
        percent: band.percent.get(),
        base: p.credited,
    }
}

/// The marginal split: how much of `[before, before + delta)` lies in each band (the first
/// band reaching down to −∞), in plan currency; then the credited base (event currency)
/// split in the same proportions by the largest-remainder method, so that the parts add
/// up to the base exactly.
fn graduated(
    bands: &[Band],
    before: Decimal,
    delta: Decimal,
    p: &Pricing<'_>,
) -> Option<Vec<BandPart>> {
    let end = before.checked_add(delta)?;
    let mut plan_parts = Vec::new();
    for (i, b) in bands.iter().enumerate() {
        let lo = if i == 0 {
            before
        } else {
            before.max(b.from.get())
        };
        let hi = match bands.get(i + 1) {
            Some(next) => end.min(next.from.get()),
            None => end,
        };
        if hi > lo {
            plan_parts.push((b, hi - lo));
        }
    }
    if plan_parts.is_empty() {
        return Some(vec![whole(band_of(bands, before), p)]);
    }
    let same = p.credited == p.credited_plan;
    let event_parts: Vec<Decimal> = if same || plan_parts.len() == 1 {
        if plan_parts.len() == 1 {
            vec![p.credited]
        } else {
            plan_parts.iter().map(|(_, x)| *x).collect()
        }
    } else {
        let keys: Vec<String> = (0..plan_parts.len()).map(|i| format!("{i:04}")).collect();
        let shares: Vec<(Decimal, &str)> = plan_parts
            .iter()
            .zip(&keys)
            .map(|((_, x), k)| (*x, k.as_str()))
            .collect();
        allocate(p.credited, p.currency.digits(), &shares)?
    };
    Some(
        plan_parts
            .iter()
            .zip(event_parts)
            .map(|((b, _), base)| BandPart {
                from: b.from.get(),
                percent: b.percent.get(),
                base,
            })
            .collect(),
    )
}

/// One event paid under a retroactive rule, kept until its window has passed.
#[derive(Clone, Debug)]
pub(crate) struct RetroItem {
    pub at: Instant,
    /// The payment event.
    pub payment: Arc<str>,
    pub currency: Currency,
    /// The partner's credited base (event currency).
    pub credited: Decimal,
    /// The band percent the event was priced at.
    pub percent: Decimal,
    /// Its commission entry, when one was written (a 0% band writes none).
    pub entry: Option<usize>,
    /// What true-ups have added for it so far.
    pub topped: Decimal,
}

/// What one earlier event needs to reach `percent`: the line of the true-up.
pub(crate) struct Top {
    pub item: usize,
    pub currency: Currency,
    pub line: TrueUpLine,
}

/// The refund state of a payment: (amount, refunded so far).
pub(crate) type Refunded<'a> = &'a dyn Fn(&str) -> Option<(Decimal, Decimal)>;
/// An entry's amount net of its reversals.
pub(crate) type Net<'a> = &'a dyn Fn(usize) -> Decimal;

/// The top-ups that bring every event of `items` from `start` on up to `percent`: each
/// event's target is what it would earn at the new rate, `round(base × percent)`, less the
/// same cumulative refund fraction its own entries were reversed by; its top-up is that
/// target less what it has been paid (its entry net of reversals, plus earlier top-ups).
/// Only positive top-ups are returned: retroactive bands only ever top up.
pub(crate) fn true_up(
    items: &[RetroItem],
    start: Option<Instant>,
    percent: Decimal,
    rounding: Rounding,
    refunded: Refunded<'_>,
    net: Net<'_>,
) -> Option<Vec<Top>> {
    let from = start.map_or(0, |s| items.partition_point(|i| i.at < s));
    let mut out = Vec::new();
    for (k, it) in items.iter().enumerate().skip(from) {
        let digits = it.currency.digits();
        let target = rounding.round(percent_of(it.credited, percent)?, digits);
        let (net_base, target_net) = match refunded(&it.payment) {
            Some((amount, done)) if !done.is_zero() => {
                if done >= amount {
                    (Decimal::ZERO, Decimal::ZERO)
                } else {
                    let cut = |x: Decimal| -> Option<Decimal> {
                        Some(rounding.round(x.checked_mul(done)?.checked_div(amount)?, digits))
                    };
                    (it.credited - cut(it.credited)?, target - cut(target)?)
                }
            }
            _ => (it.credited, target),
        };
        let paid = it.entry.map_or(Decimal::ZERO, net) + it.topped;
        let top = target_net - paid;
        if top > Decimal::ZERO {
            out.push(Top {
                item: k,
                currency: it.currency,
                line: TrueUpLine {
                    event: it.payment.clone(),
                    base: it.credited,
                    net_base,
                    paid,
                    target: target_net,
                    top_up: top,
                },
            });
        }
    }
    Some(out)
}
