//! Attribution (SPEC §3): who gets credit for a customer.
//!
//! A decision is made from the touches seen so far: touches outside their channel's window,
//! blocked by a fraud signal (self-referrals by default) or of partners not active at the
//! conversion are excluded; of the rest only the highest-priority channel takes part; the
//! model then weighs them ([`models`]). How long a decision holds is the lock's business
//! ([`locks`]); a manual `assign` overrides both. [`fraud`] raises the flags of SPEC §10,
//! [`influence`] and [`health`] feed the attribution metrics of SPEC §11.

pub(crate) mod fraud;
pub(crate) mod health;
pub(crate) mod influence;
pub(crate) mod locks;
pub(crate) mod models;

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::error::Result;
use crate::input::{Partner, PartnerStatus};
use crate::ledger::{AttributionWhy, Exclusion, FlagKind, TouchNote};
use crate::plan::{Attribution as Settings, Channel, Model};
use crate::time::Instant;

/// A touch as kept in a customer's history.
#[derive(Clone, Debug)]
pub(crate) struct TouchRec {
    pub event: Arc<str>,
    pub partner: usize,
    pub channel: Channel,
    pub campaign: Option<Arc<str>>,
    pub at: Instant,
    /// The fraud signal that blocked the touch when it arrived, if any.
    pub blocked: Option<FlagKind>,
}

/// The outcome for one credited partner.
#[derive(Clone, Debug)]
pub(crate) struct Credit {
    pub partner: usize,
    pub weight: Decimal,
    /// Channel and campaign of the partner's deciding touch (its heaviest, then latest).
    pub channel: Channel,
    pub campaign: Option<Arc<str>>,
}

/// An attribution decision: credits sorted by partner id (empty: unattributed).
#[derive(Clone, Debug)]
pub(crate) struct Decision {
    pub credits: Vec<Credit>,
    pub why: Arc<AttributionWhy>,
}

/// Context of one decision.
pub(crate) struct Conversion<'a> {
    pub event: &'a Arc<str>,
    pub at: Instant,
    /// The lock's name, for the explanation.
    pub lock: &'static str,
    /// Under a `months` lock, when the first conversion's attribution stops holding.
    pub locked_until: Option<Instant>,
}

/// The rank of `channel` under the plan's priority (0 first): its place in `priority`, or
/// for a channel the list leaves out, after every listed one in the default order
/// (`DEFAULT_PRIORITY`), so that two left-out channels never tie (docs/semantics.md).
pub(crate) fn channel_rank(settings: &Settings, channel: Channel) -> usize {
    match settings.priority.iter().position(|p| *p == channel) {
        Some(i) => i,
        None => {
            let default = crate::plan::DEFAULT_PRIORITY
                .iter()
                .position(|p| *p == channel)
                .unwrap_or(0);
            settings.priority.len() + default
        }
    }
}

/// The window of a channel: its own, or the plan's.
pub(crate) fn window_days(settings: &Settings, channel: Channel) -> u32 {
    settings
        .channels
        .get(&channel)
        .and_then(|c| c.window_days)
        .unwrap_or(settings.window_days)
}

/// The model that weighs touches of `channel` when that channel decides: its own, else
/// first touch for deal registrations (the first registrant wins), else the plan's.
fn model_for(settings: &Settings, channel: Channel) -> Model {
    match settings
        .channels
        .get(&channel)
        .and_then(|c| c.model.clone())
    {
        Some(m) => m,
        None if channel == Channel::DealRegistration => Model::FirstTouch,
        None => settings.model.clone(),
    }
}

/// Decides attribution for a conversion from the customer's touches (canonical order).
pub(crate) fn decide(
    settings: &Settings,
    partners: &[Partner],
    partner_ids: &[Arc<str>],
    touches: &[TouchRec],
    conv: &Conversion<'_>,
) -> Result<Decision> {
    let mut notes: Vec<TouchNote> = Vec::with_capacity(touches.len());
    let mut eligible: Vec<usize> = Vec::with_capacity(touches.len());
    for (i, t) in touches.iter().enumerate() {
        let window = window_days(settings, t.channel);
        let age = conv.at - t.at;
        let excluded = if age > chrono::Duration::days(i64::from(window)) {
            Some(Exclusion::OutsideWindow {
                window_days: window,
            })
        } else if let Some(kind) = t.blocked {
            Some(match kind {
                FlagKind::SelfReferral => Exclusion::SelfReferral,
                kind => Exclusion::Fraud { kind },
            })
        } else {
            match partners[t.partner].status_at(conv.at) {
                PartnerStatus::Active => None,
                PartnerStatus::Suspended => Some(Exclusion::InactivePartner {
                    status: "suspended",
                }),
                PartnerStatus::Terminated => Some(Exclusion::InactivePartner {
                    status: "terminated",
                }),
            }
        };
        if excluded.is_none() {
            eligible.push(i);
        }
        notes.push(TouchNote {
            event: t.event.clone(),
            partner: partner_ids[t.partner].clone(),
            channel: t.channel,
            at: t.at,
            weight: Decimal::ZERO,
            excluded,
        });
    }

    // Priority: only the best-ranked channel present among eligible touches takes part.
    let best = eligible
        .iter()
        .map(|&i| touches[i].channel)
        .min_by_key(|c| channel_rank(settings, *c));
    let mut model = settings.model.clone();
    if let Some(best) = best {
        eligible.retain(|&i| {
            let keep = touches[i].channel == best;
            if !keep {
                notes[i].excluded = Some(Exclusion::LowerPriority { beaten_by: best });
            }
            keep
        });
        model = model_for(settings, best);
    }

    let weights = models::weigh(&model, touches, &eligible, partner_ids)?;
    for (&i, w) in eligible.iter().zip(&weights) {
        notes[i].weight = *w;
        if w.is_zero() {
            notes[i].excluded = Some(Exclusion::NotSelected);
        }
    }

    // Sum per partner; the deciding touch of a partner is its heaviest, then latest.
    let mut credits: Vec<Credit> = Vec::new();
    let mut deciding: Vec<Decimal> = Vec::new();
    for (&i, w) in eligible.iter().zip(&weights) {
        if w.is_zero() {
            continue;
        }
        let t = &touches[i];
        match credits.iter().position(|c| c.partner == t.partner) {
            Some(k) => {
                let c = &mut credits[k];
                c.weight += *w;
                // Touches come in canonical order, so a tie goes to the later one.
                if *w >= deciding[k] {
                    deciding[k] = *w;
                    c.channel = t.channel;
                    c.campaign = t.campaign.clone();
                }
            }
            None => {
                deciding.push(*w);
                credits.push(Credit {
                    partner: t.partner,
                    weight: *w,
                    channel: t.channel,
                    campaign: t.campaign.clone(),
                });
            }
        }
    }
    credits.sort_by(|a, b| partner_ids[a.partner].cmp(&partner_ids[b.partner]));
    let why = AttributionWhy {
        model,
        lock: conv.lock,
        locked_until: conv.locked_until,
        reason: None,
        decided_by: conv.event.clone(),
        decided_at: conv.at,
        touches: notes,
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
