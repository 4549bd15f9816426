//! Multi-level overrides (SPEC §7): the parent at level N of a partner earns a share of
//! that partner's commission (not of the sale).
//!
//! An override entry is written right after the child entry it shares, with the child's
//! hold, so it becomes available with it; a refund then reverses it to follow the child's
//! *net* amount — its net is always `round(percent × child net)` — so an override never
//! exceeds its share of what the child keeps. Inactive parents are skipped and their level
//! is not re-assigned: the grandparent stays at level 2.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::bands::percent_of;
use crate::engine::{State, make_id};
use crate::error::{Error, Result};
use crate::incentives::Follow;
use crate::input::PartnerStatus;
use crate::ledger::{Entry, EntryKind, Explain, OverrideWhy};
use crate::money::Rounding;
use crate::plan::Plan;

impl State {
    /// Writes the overrides of every commission and true-up entry from `start` on.
    pub(crate) fn write_overrides(&mut self, plan: &Plan, start: usize) -> Result<()> {
        let levels = &plan.doc().overrides;
        if levels.is_empty() {
            return Ok(());
        }
        let deepest = levels.iter().map(|o| o.level).max().unwrap_or(0);
        let rounding = plan.doc().rounding;
        let end = self.entries.len();
        for child in start..end {
            if !matches!(
                self.entries[child].kind,
                EntryKind::Commission | EntryKind::TrueUp
            ) {
                continue;
            }
            let owner = self.side[child].owner;
            let mut skipped: Vec<(u32, Arc<str>, PartnerStatus)> = Vec::new();
            let mut cur = owner;
            for level in 1..=deepest {
                let Some(parent) = self.incentives.parents.get(cur).copied().flatten() else {
                    break;
                };
                cur = parent;
                let Some(o) = levels.iter().find(|o| o.level == level) else {
                    continue;
                };
                let e = &self.entries[child];
                let status = self.partners[parent].status_at(e.earned_at);
                if status != PartnerStatus::Active {
                    skipped.push((level, self.partner_ids[parent].clone(), status));
                    continue;
                }
                let computed = percent_of(e.amount, o.percent.get())
                    .ok_or_else(|| Error::overflow(format!("plan.overrides[{level}]")))?;
                let amount = rounding.round(computed, e.currency.digits());
                if amount.is_zero() {
                    continue;
                }
                let id = make_id(
                    &mut self.id_buf,
                    &["override", &self.partner_ids[parent], &e.id],
                );
                let entry = Entry {
                    id,
                    partner: self.partner_ids[parent].clone(),
                    kind: EntryKind::Override,
                    event: e.event.clone(),
                    customer: e.customer.clone(),
                    rule: e.rule.clone(),
                    amount,
                    currency: e.currency,
                    earned_at: e.earned_at,
                    available_at: e.available_at,
                    fx_anchor: e.fx_anchor,
                    explain: Explain::Override(std::sync::Arc::new(OverrideWhy {
                        level,
                        percent: o.percent.get(),
                        child: self.partner_ids[owner].clone(),
                        child_entry: e.id.clone(),
                        of: e.amount,
                        computed,
                        skipped: skipped.clone(),
                    })),
                };
                let idx = self.push(entry, None);
                self.incentives.follows.insert(
                    idx,
                    Follow {
                        child,
                        percent: o.percent.get(),
                    },
                );
            }
        }
        Ok(())
    }
}

/// What a refund has reversed of override `amount` once its child is at `child_net`: the
/// override keeps `round(percent × child net)`, and reverses the rest. Never less than
/// what was already reversed, never more than the override.
pub(crate) fn follow_target(
    amount: Decimal,
    f: &Follow,
    child_net: Decimal,
    before: Decimal,
    rounding: Rounding,
    digits: u32,
) -> Option<Decimal> {
    let keep = rounding.round(percent_of(child_net, f.percent)?, digits);
    Some((amount - keep).clamp(before, amount))
}
