//! Partner health (SPEC §11 `activated`, `inactive`): what a partner manager checks every
//! week — did new partners start referring, and which ones went quiet.

use chrono_tz::Tz;

use crate::input::Partner;
use crate::plan::Health;
use crate::time::{Instant, add_days_local};

/// What health is judged from, per partner.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Activity {
    /// When the partner was first credited for a customer.
    pub first_referral: Option<Instant>,
    /// Its latest touch or attributed payment.
    pub last_active: Option<Instant>,
}

/// `(activated, inactive)` as of `as_of`.
///
/// Activated: the first referral came within `activation_days` calendar days (plan zone) of
/// `joined_at`, inclusive; unknown (`None`) without a `joined_at`. Inactive: no touch and no
/// attributed payment at or after `as_of` − `inactive_days` calendar days; a partner that
/// joined within that span is too new to be called inactive.
pub(crate) fn judge(
    partner: &Partner,
    a: Activity,
    h: &Health,
    tz: Tz,
    as_of: Instant,
) -> (Option<bool>, bool) {
    let activated = partner.joined_at.map(|joined| {
        let deadline = add_days_local(tz, joined, i64::from(h.activation_days));
        match (a.first_referral, deadline) {
            (Some(first), Some(deadline)) => first <= deadline,
            // A deadline past the calendar's range has not passed.
            (Some(_), None) => true,
            (None, _) => false,
        }
    });
    let inactive = match add_days_local(tz, as_of, -i64::from(h.inactive_days)) {
        Some(since) => {
            let new = partner.joined_at.is_some_and(|j| j > since);
            !new && a.last_active.is_none_or(|t| t < since)
        }
        // The span reaches back past the calendar's range: nothing can be that old.
        None => a.last_active.is_none() && partner.joined_at.is_none(),
    };
    (activated, inactive)
}
