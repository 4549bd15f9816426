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
    // The oldest instant a touch may have to count, computed only when it can save work:
    // once a touch of an uncredited partner shows up, or once the walk has passed
    // `UNDATED` touches. A renewal whose few touches are all the credited partner's (the
    // common case) costs no date arithmetic, and a customer with thousands of touches (a
    // link clicked on every visit) costs the touches inside the widest window, not every
    // touch of its history, at each payment.
    let mut oldest: Option<Option<Instant>> = None;
    let cutoff = || {
        let widest = settings
            .channels
            .values()
            .filter_map(|c| c.window_days)
            .fold(settings.window_days, u32::max);
        at.checked_sub_signed(days(widest))
    };
    // Touches are in canonical order: walk back from the newest and stop past the widest
    // window.
    for (walked, t) in touches.iter().rev().enumerate() {
        // A credited partner's touch, or an earlier touch of a partner already counted.
        let counted = credits.iter().any(|c| c.partner == t.partner) || out.contains(&t.partner);
        if counted && walked < UNDATED && oldest.is_none() {
            continue;
        }
        if (*oldest.get_or_insert_with(cutoff)).is_some_and(|o| t.at < o) {
            break;
        }
        if !counted && t.blocked.is_none() && at - t.at <= days(window_days(settings, t.channel)) {
            out.push(t.partner);
        }
    }
    out
}

/// How many touches [`influencers`] walks back past before it computes the widest window's
/// edge and stops at it: enough for the touches of a usual customer, few enough that a long
/// history costs little more than its last weeks.
const UNDATED: usize = 16;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use smallvec::SmallVec;

    use super::{Credit, Settings, TouchRec, influencers, window_days};
    use crate::ledger::FlagKind;
    use crate::plan::{Channel, ChannelSettings};
    use crate::time::Instant;

    fn payment_at() -> Instant {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .expect("instant")
    }

    fn touch(partner: usize, channel: Channel, days_before: i64, blocked: bool) -> TouchRec {
        TouchRec {
            event: Arc::from(format!("t{partner}-{days_before}")),
            partner,
            channel,
            campaign: None,
            at: payment_at() - Duration::days(days_before),
            blocked: blocked.then_some(FlagKind::SelfReferral),
        }
    }

    fn credit(partner: usize) -> Credit {
        Credit {
            partner,
            weight: Decimal::ONE,
            channel: Channel::Link,
            campaign: None,
        }
    }

    /// The definition without the early stop: every touch, newest first; a partner counts
    /// once, by its latest touch that is unblocked and inside its channel's window.
    fn reference(
        settings: &Settings,
        touches: &[TouchRec],
        at: Instant,
        credits: &[Credit],
    ) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for t in touches.iter().rev() {
            let counts = !credits.iter().any(|c| c.partner == t.partner)
                && !out.contains(&t.partner)
                && t.blocked.is_none()
                && at - t.at <= Duration::days(i64::from(window_days(settings, t.channel)));
            if counts {
                out.push(t.partner);
            }
        }
        out
    }

    #[test]
    fn a_long_credited_history_still_finds_an_influencer_inside_the_window() {
        // Partner 0 (credited) touched the customer every day for 400 days, partner 1 ten
        // days before the payment and partner 2 forty days before: with a 30-day window,
        // partner 1 influenced the payment and partner 2 did not.
        let settings = Settings {
            window_days: 30,
            ..Settings::default()
        };
        let mut touches: Vec<TouchRec> = (0..400)
            .rev()
            .map(|d| touch(0, Channel::Link, d, false))
            .collect();
        touches.push(touch(1, Channel::Link, 10, false));
        touches.push(touch(2, Channel::Link, 40, false));
        touches.sort_by_key(|t| t.at);
        let got = influencers(&settings, &touches, payment_at(), &[credit(0)]);
        assert_eq!(got.as_slice(), &[1]);
    }

    #[test]
    fn a_coupon_window_wider_than_the_plans_keeps_an_old_coupon_touch() {
        // Coupons count for 365 days, links for 30: partner 1's coupon 200 days back is
        // behind 50 daily touches of credited partner 0, and still counts.
        let mut settings = Settings {
            window_days: 30,
            ..Settings::default()
        };
        settings.channels.insert(
            Channel::Coupon,
            ChannelSettings {
                window_days: Some(365),
                model: None,
            },
        );
        let mut touches: Vec<TouchRec> = (0..50)
            .rev()
            .map(|d| touch(0, Channel::Link, d, false))
            .collect();
        touches.insert(0, touch(1, Channel::Coupon, 200, false));
        touches.insert(0, touch(2, Channel::Coupon, 400, false));
        let got = influencers(&settings, &touches, payment_at(), &[credit(0)]);
        assert_eq!(got.as_slice(), &[1]);
    }

    proptest! {
        #[test]
        fn the_early_stop_finds_what_the_whole_walk_finds(
            raw in prop::collection::vec((0usize..4, 0u8..4, 0i64..120, any::<bool>()), 0..60),
            credited in prop::collection::vec(0usize..4, 0..2),
            link_window in 1u32..60,
            coupon_window in prop::option::of(1u32..90),
        ) {
            let mut settings = Settings { window_days: link_window, ..Settings::default() };
            if let Some(w) = coupon_window {
                settings.channels.insert(
                    Channel::Coupon,
                    ChannelSettings { window_days: Some(w), model: None },
                );
            }
            let channels = [Channel::Link, Channel::Coupon, Channel::DealRegistration, Channel::Manual];
            // Touches in canonical order: oldest first.
            let mut touches: Vec<TouchRec> = raw
                .iter()
                .map(|&(p, c, d, blocked)| touch(p, channels[usize::from(c)], d, blocked))
                .collect();
            touches.sort_by_key(|t| t.at);
            let credits: Vec<Credit> = credited.iter().map(|&p| credit(p)).collect();
            let got: SmallVec<[usize; 2]> = influencers(&settings, &touches, payment_at(), &credits);
            prop_assert_eq!(got.to_vec(), reference(&settings, &touches, payment_at(), &credits));
        }
    }
}
