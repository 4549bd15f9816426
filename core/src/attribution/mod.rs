//! Attribution (SPEC §3): who gets credit for a customer.
//!
//! Decided once, at the customer's first conversion, from the touches seen so far: touches
//! outside their channel's window, of inactive partners or self-referrals are excluded; of the
//! rest only the highest-priority channel takes part; the model then weights them.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::input::{Partner, PartnerStatus};
use crate::ledger::{AttributionWhy, Exclusion, TouchNote};
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
    pub customer: &'a str,
}

/// Decides attribution for a conversion from the customer's touches (canonical order).
pub(crate) fn decide(
    settings: &Settings,
    partners: &[Partner],
    partner_ids: &[Arc<str>],
    touches: &[TouchRec],
    conv: &Conversion<'_>,
) -> Decision {
    let mut notes: Vec<TouchNote> = Vec::with_capacity(touches.len());
    let mut eligible: Vec<usize> = Vec::with_capacity(touches.len());
    for (i, t) in touches.iter().enumerate() {
        let window = settings
            .channels
            .get(&t.channel)
            .and_then(|c| c.window_days)
            .unwrap_or(settings.window_days);
        let age = conv.at - t.at;
        let partner = &partners[t.partner];
        let excluded = if age > chrono::Duration::days(i64::from(window)) {
            Some(Exclusion::OutsideWindow {
                window_days: window,
            })
        } else if partner
            .own_customers
            .binary_search_by(|c| c.as_str().cmp(conv.customer))
            .is_ok()
        {
            Some(Exclusion::SelfReferral)
        } else {
            match partner.status_at(conv.at) {
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
    let rank = |c: Channel| {
        settings
            .priority
            .iter()
            .position(|p| *p == c)
            .unwrap_or(settings.priority.len())
    };
    let best = eligible
        .iter()
        .map(|&i| touches[i].channel)
        .min_by_key(|c| rank(*c));
    let mut model = settings.model.clone();
    if let Some(best) = best {
        eligible.retain(|&i| {
            let keep = touches[i].channel == best;
            if !keep {
                notes[i].excluded = Some(Exclusion::LowerPriority { beaten_by: best });
            }
            keep
        });
        if let Some(m) = settings.channels.get(&best).and_then(|c| c.model.clone()) {
            model = m;
        }
    }

    let weights = weigh(&model, touches, &eligible);
    for (&i, w) in eligible.iter().zip(&weights) {
        notes[i].weight = *w;
        if w.is_zero() {
            notes[i].excluded = Some(Exclusion::NotSelected);
        }
    }

    // Sum per partner; the deciding touch of a partner is its heaviest, then latest.
    let mut credits: Vec<Credit> = Vec::new();
    for (&i, w) in eligible.iter().zip(&weights) {
        if w.is_zero() {
            continue;
        }
        let t = &touches[i];
        match credits.iter_mut().find(|c| c.partner == t.partner) {
            Some(c) => {
                c.weight += *w;
                c.channel = t.channel;
                c.campaign = t.campaign.clone();
            }
            None => credits.push(Credit {
                partner: t.partner,
                weight: *w,
                channel: t.channel,
                campaign: t.campaign.clone(),
            }),
        }
    }
    credits.sort_by(|a, b| partner_ids[a.partner].cmp(&partner_ids[b.partner]));
    let why = AttributionWhy {
        model,
        lock: "customer",
        decided_by: conv.event.clone(),
        decided_at: conv.at,
        touches: notes,
        weights: credits
            .iter()
            .map(|c| (partner_ids[c.partner].clone(), c.weight))
            .collect(),
    };
    Decision {
        credits,
        why: Arc::new(why),
    }
}

/// Weights of the eligible touches (indices into `touches`, canonical order).
fn weigh(model: &Model, touches: &[TouchRec], eligible: &[usize]) -> Vec<Decimal> {
    let mut w = vec![Decimal::ZERO; eligible.len()];
    if eligible.is_empty() {
        return w;
    }
    // Ties at one instant: the lowest event id is the earliest, the highest the latest.
    let key = |&(_, &i): &(usize, &usize)| (touches[i].at, touches[i].event.clone());
    let pick = match model {
        Model::FirstTouch => eligible.iter().enumerate().min_by_key(key),
        // Validation admits only last and first touch in this version.
        _ => eligible.iter().enumerate().max_by_key(key),
    };
    if let Some((j, _)) = pick {
        w[j] = Decimal::ONE;
    }
    w
}
