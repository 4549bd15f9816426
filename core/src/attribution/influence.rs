//! Influenced revenue (SPEC §11): partners who touched a paying customer within the window
//! but got no credit for the payment.

use smallvec::SmallVec;

use super::{Credit, TouchRec, window_days};
use crate::plan::Attribution as Settings;
use crate::time::Instant;

/// The partners (indices, in order of their latest touch) who touched the customer within
/// their channel's window before a payment at `at` and are not among `credits`. Touches
/// that a fraud signal blocked do not count: a self-referral or a click farm influences
/// nothing.
pub(crate) fn influencers(
    settings: &Settings,
    touches: &[TouchRec],
    at: Instant,
    credits: &[Credit],
) -> SmallVec<[usize; 2]> {
    let mut out = SmallVec::new();
    let days = |n: u32| chrono::Duration::days(i64::from(n));
    // The oldest instant a touch may have to count, computed only once a touch of an
    // uncredited partner shows up: a renewal whose touches are all the credited partner's
    // (the common case) costs no date arithmetic.
    let mut oldest: Option<Option<Instant>> = None;
    // Touches are in canonical order: walk back from the newest and stop past the widest
    // window.
    for t in touches.iter().rev() {
        if credits.iter().any(|c| c.partner == t.partner) || out.contains(&t.partner) {
            continue;
        }
        let oldest = *oldest.get_or_insert_with(|| {
            let widest = settings
                .channels
                .values()
                .filter_map(|c| c.window_days)
                .fold(settings.window_days, u32::max);
            at.checked_sub_signed(days(widest))
        });
        if oldest.is_some_and(|o| t.at < o) {
            break;
        }
        if t.blocked.is_none() && at - t.at <= days(window_days(settings, t.channel)) {
            out.push(t.partner);
        }
    }
    out
}
