//! How long an attribution holds (SPEC §3 `lock`), and manual assignments (SPEC §2.3
//! `assign`), which override the model and every lock from their instant on.
//!
//! The first conversion's decision is kept with the customer. Under `customer` it holds for
//! life; under `conversion` never past its own event; under `{"months": N}` for payments
//! strictly before the first conversion + N calendar months (plan zone, month-end clamped),
//! after which every payment is attributed afresh.

use std::sync::Arc;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::models::WEIGHT_DIGITS;
use super::{Credit, Decision};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::AttributionWhy;
use crate::money::allocate;
use crate::plan::{Channel, Lock, Model};
use crate::time::{Instant, add_months_local};

/// The lock's name in explanations.
pub(crate) fn label(lock: &Lock) -> &'static str {
    match lock {
        Lock::Customer => "customer",
        Lock::Conversion => "conversion",
        Lock::Months(_) => "months",
    }
}

/// When a first conversion at `first_at` stops holding (`None`: it never expires, or the
/// lock is not `months`). A lock reaching past the calendar's range holds for life.
pub(crate) fn until(lock: &Lock, tz: Tz, first_at: Instant) -> Option<Instant> {
    match lock {
        Lock::Months(n) => i32::try_from(*n)
            .ok()
            .and_then(|n| add_months_local(tz, first_at, n)),
        Lock::Customer | Lock::Conversion => None,
    }
}

/// Whether the first conversion's decision still holds for a conversion at `at`.
pub(crate) fn holds(lock: &Lock, first: &Decision, at: Instant) -> bool {
    match lock {
        Lock::Customer => true,
        Lock::Conversion => false,
        Lock::Months(_) => first.why.locked_until.is_none_or(|end| at < end),
    }
}

/// A manual assignment of `shares` (partner index, weight as given), by `event` at `at`.
/// Weights are normalized to [`WEIGHT_DIGITS`] decimals summing to 1, like a model's.
pub(crate) fn assigned(
    shares: &[(usize, Decimal)],
    partner_ids: &[Arc<str>],
    model: &Model,
    event: &Arc<str>,
    at: Instant,
    reason: &str,
) -> Result<Decision> {
    let weights = if shares.is_empty() {
        Vec::new()
    } else {
        let keys: Vec<(Decimal, &str)> =
            shares.iter().map(|&(p, w)| (w, &*partner_ids[p])).collect();
        allocate(Decimal::ONE, WEIGHT_DIGITS, &keys).ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "",
                "assignment weights could not be normalized",
            )
        })?
    };
    let mut credits: Vec<Credit> = shares
        .iter()
        .zip(weights)
        .filter(|(_, w)| !w.is_zero())
        .map(|(&(partner, _), weight)| Credit {
            partner,
            weight,
            // Rules that test the channel see an assignment as entered by hand.
            channel: Channel::Manual,
            campaign: None,
        })
        .collect();
    credits.sort_by(|a, b| partner_ids[a.partner].cmp(&partner_ids[b.partner]));
    let why = AttributionWhy {
        model: model.clone(),
        lock: "assign",
        locked_until: None,
        reason: Some(reason.to_owned()),
        decided_by: event.clone(),
        decided_at: at,
        touches: Vec::new(),
        weights: credits
            .iter()
            .map(|c| (partner_ids[c.partner].clone(), c.weight))
            .collect(),
    };
    Ok(Decision {
        credits,
        why: Arc::new(why),
    })
}
