//! Refunds, chargebacks and clawbacks (SPEC §9).
//!
//! A refund of part of a payment reverses the same fraction of every entry the payment
//! caused. Fractions are applied to the *cumulative* refunded amount — the k-th refund
//! reverses `round(E × R_k / A) − round(E × R_{k−1} / A)` — so reversals never drift, never
//! exceed the entry, and the refund that completes the payment takes exactly what is left.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::engine::{Loc, State};
use crate::error::{Error, ErrorCode, Result};
use crate::input::Event;
use crate::ledger::{Entry, EntryKind, Explain, FollowWhy, ReversalWhy};
use crate::money::{fits_minor_unit, fmt_amount};
use crate::plan::Clawback;
use crate::time::{Instant, add_days_local, local_date};

/// Applies a refund (`amount: Some`) or a chargeback (`None`: whatever is left).
pub(crate) fn refund(
    state: &mut State,
    ev: &Event,
    id: &Arc<str>,
    payment_id: &str,
    amount: Option<Decimal>,
    currency: Option<crate::money::Currency>,
    path: &Loc,
) -> Result<()> {
    let cause = if amount.is_some() {
        "refund"
    } else {
        "chargeback"
    };
    let Some(rec) = state.payment_mut(payment_id) else {
        return Err(Error::new(
            ErrorCode::UnknownPayment,
            format!("{path}.payment"),
            format!(
                "no payment \"{payment_id}\" at or before this {cause} (payments are matched \
                 by event id, and a {cause} cannot precede its payment)"
            ),
        ));
    };
    if let Some(c) = currency
        && c != rec.currency
    {
        return Err(Error::new(
            ErrorCode::CurrencyMismatch,
            format!("{path}.currency"),
            format!(
                "this {cause} is in {c} but payment \"{payment_id}\" is in {}: a {cause} is \
                 always in its payment's currency",
                rec.currency
            ),
        ));
    }
    let left = rec.amount - rec.refunded;
    let now = match amount {
        Some(a) => {
            if !fits_minor_unit(a, rec.currency.digits()) {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("{path}.amount"),
                    // Without trailing zeros, so the amount reads the same whatever scale
                    // it was written in (the columnar path keeps it as an integer).
                    format!(
                        "{} has more than {} decimal places, the minor unit of the payment's \
                         currency {}",
                        a.normalize(),
                        rec.currency.digits(),
                        rec.currency
                    ),
                ));
            }
            if a > left {
                // Amounts at the currency's minor unit, whatever scale the input wrote them
                // in: the columnar path, which keeps amounts as integers, says the same.
                let digits = rec.currency.digits();
                return Err(Error::new(
                    ErrorCode::RefundExceedsPayment,
                    format!("{path}.amount"),
                    format!(
                        "refund of {} {} exceeds what is left unrefunded of payment \
                         \"{payment_id}\": {} of {}",
                        fmt_amount(a, digits),
                        rec.currency,
                        fmt_amount(left, digits),
                        fmt_amount(rec.amount, digits)
                    ),
                ));
            }
            a
        }
        None => left,
    };
    if now.is_zero() {
        return Ok(());
    }
    let before = rec.refunded;
    let total = before + now;
    rec.refunded = total;
    let full = total == rec.amount;
    let payment_amount = rec.amount;
    let range = rec.first..rec.first + rec.count as usize;

    let doc = state.plan.doc();
    let tz = state.plan.tz();
    let rounding = doc.rounding;
    let policy = doc.lifecycle.clawback.clone();
    let mut out = Vec::new();
    for idx in range {
        let orig = &state.entries[idx];
        let e = orig.amount;
        let follow = state.incentives.follows.get(&idx).copied();
        let mut follows = None;
        let target = if full {
            e
        } else if let Some(f) = follow {
            // An override follows its child entry's net, not the payment fraction: its net
            // stays round(percent × child net), never more than its share.
            let child = &state.entries[f.child];
            let child_net = child.amount - state.side[f.child].accounted;
            follows = Some(Box::new(FollowWhy {
                child_entry: child.id.clone(),
                percent: f.percent,
                child_net,
            }));
            crate::commission::follow_target(
                e,
                &f,
                child_net,
                state.side[idx].accounted,
                rounding,
                orig.currency.digits(),
            )
            .ok_or_else(|| Error::overflow(format!("{path}.amount")))?
        } else {
            let raw = e
                .checked_mul(total)
                .and_then(|x| x.checked_div(payment_amount))
                .ok_or_else(|| Error::overflow(format!("{path}.amount")))?;
            rounding.round(raw, orig.currency.digits())
        };
        let reversed_before = state.side[idx].accounted;
        let delta = target - reversed_before;
        state.side[idx].accounted = target;
        if delta.is_zero() {
            continue;
        }
        let pending = ev.at < orig.available_at;
        let (effect, available_at) = if pending {
            // Cancelling a pending entry: the reversal becomes available with the original,
            // so the two net out in the same statement and nothing is ever clawed back.
            ("cancel", orig.available_at)
        } else if clawback_applies(&policy, tz, orig.earned_at, ev.at)? {
            ("clawback", ev.at)
        } else {
            continue;
        };
        let rid = crate::engine::make_id(&mut state.id_buf, &["reversal", id, &orig.id]);
        let orig = &state.entries[idx];
        if full && let Some(f) = follow {
            let child = &state.entries[f.child];
            follows = Some(Box::new(FollowWhy {
                child_entry: child.id.clone(),
                percent: f.percent,
                child_net: child.amount - state.side[f.child].accounted,
            }));
        }
        out.push((
            idx,
            Entry {
                id: rid,
                partner: orig.partner.clone(),
                kind: EntryKind::Reversal,
                event: id.clone(),
                customer: orig.customer.clone(),
                rule: orig.rule.clone(),
                amount: -delta,
                currency: orig.currency,
                earned_at: ev.at,
                available_at,
                fx_anchor: orig.fx_anchor,
                explain: Explain::Reversal(std::sync::Arc::new(ReversalWhy {
                    reverses: orig.id.clone(),
                    original: e,
                    cause,
                    payment: Arc::from(payment_id),
                    payment_amount,
                    refunded_before: before,
                    refunded_now: now,
                    reversed_before,
                    reversed_total: target,
                    effect,
                    instrument: orig.instrument(),
                    follows,
                })),
            },
        ));
    }
    for (orig, entry) in out {
        // A reversal gives its cap room back: caps limit net commission.
        let caps = state.side[orig].caps.clone();
        let date = local_date(tz, state.entries[orig].earned_at);
        let idx = state.push_reversal(entry, caps.clone(), Some(orig));
        if let Some(keys) = &caps {
            let plan_amount = state
                .converted(idx, state.plan.doc().currency, date, true)?
                .0;
            let rule = state.plan.version(keys.version).doc().rules[keys.rule].clone();
            crate::commission::commit(&rule, keys, plan_amount, state.tallies_mut());
        }
    }
    Ok(())
}

/// Whether money no longer pending is taken back, per `lifecycle.clawback`.
fn clawback_applies(
    policy: &Clawback,
    tz: chrono_tz::Tz,
    earned_at: Instant,
    at: Instant,
) -> Result<bool> {
    Ok(match policy {
        Clawback::Always => true,
        Clawback::Never => false,
        Clawback::WithinDays(n) => {
            let end = add_days_local(tz, earned_at, i64::from(*n))
                .ok_or_else(|| Error::overflow("plan.lifecycle.clawback.within_days"))?;
            at <= end
        }
    })
}
