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
    let widest = settings
        .channels
        .values()
        .filter_map(|c| c.window_days)
        .fold(settings.window_days, u32::max);
    let days = |n: u32| chrono::Duration::days(i64::from(n));
    // Touches are in canonical order: walk back from the newest and stop past the widest
    // window, so a renewal long after the last touch costs one comparison.
    for t in touches.iter().rev() {
        let age = at - t.at;
        if age > days(widest) {
            break;
        }
        if t.blocked.is_some()
            || age > days(window_days(settings, t.channel))
            || credits.iter().any(|c| c.partner == t.partner)
            || out.contains(&t.partner)
        {
            continue;
        }
        out.push(t.partner);
    }
    out
}
