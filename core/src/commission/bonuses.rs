//! Bonuses (SPEC §6): milestones, paid once per partner at the event whose lifetime metric
//! reaches the threshold ("first referral $25", "10 sales $100"), and period bonuses, paid
//! at the end of each period whose metric reached it.
//!
//! A bonus is earned by the partner, not caused by one sale: a refund does not reverse it
//! ("bonuses already crossed stay"), so it is written after the event's own entries and
//! outside its payment's range. It has the plan's hold like any money entry, and is earned
//! only by a partner active at that moment (a milestone crossed while suspended is spent).

use std::sync::Arc;

use rust_decimal::Decimal;

use super::bands::percent_of;
use crate::engine::{State, make_id};
use crate::error::{Error, Result};
use crate::incentives::active_before;
use crate::input::{Body, Event, PartnerStatus};
use crate::ledger::{BonusWhy, Entry, EntryKind, Explain};
use crate::plan::{BonusKind, Plan};
use crate::time::{Instant, Period, add_days_local};

impl State {
    /// Pays the milestones that the event made `touched` partners cross.
    pub(crate) fn milestones(&mut self, ev: &Event, plan: &Plan, touched: &[usize]) -> Result<()> {
        let doc = plan.doc();
        let customer = match &ev.body {
            Body::Touch(t) => Some(t.customer.as_str()),
            Body::Signup { customer, .. } => Some(customer.as_str()),
            Body::Payment(p) => Some(p.customer.as_str()),
            _ => None,
        };
        for b in doc
            .bonuses
            .iter()
            .filter(|b| b.kind == BonusKind::Milestone)
        {
            for &i in touched {
                let key = (b.id.clone(), i);
                if self.incentives.milestones.contains(&key) {
                    continue;
                }
                let value = self.incentives.metrics[i].value(b.metric, None);
                if value < b.at_least.get() {
                    continue;
                }
                self.incentives.milestones.insert(key);
                if self.partners[i].status_at(ev.at) != PartnerStatus::Active {
                    continue;
                }
                let amount = b.amount.map(|a| a.get()).unwrap_or_default();
                let why = BonusWhy {
                    kind: b.kind,
                    metric: b.metric,
                    window: "lifetime".to_owned(),
                    at_least: b.at_least.get(),
                    value,
                    amount: Some(amount),
                    percent: None,
                    computed: amount,
                };
                let id = make_id(&mut self.id_buf, &["bonus", &b.id, &self.partner_ids[i]]);
                let customer = customer.map(|c| self.customer_key(c));
                self.bonus_entry(i, id, ev.id.clone(), customer, &b.id, amount, ev.at, why)?;
            }
        }
        Ok(())
    }

    /// Pays the period bonuses of the period `p`, which ends at `end`.
    pub(crate) fn period_bonuses(&mut self, plan: &Plan, p: Period, end: Instant) -> Result<()> {
        let doc = plan.doc();
        let tz = self.plan.tz();
        let start = p.start(tz);
        let label = p.label();
        let event: Arc<str> = Arc::from(format!("period:{label}"));
        for b in doc
            .bonuses
            .iter()
            .filter(|b| b.kind == BonusKind::Period && b.period == Some(p.unit))
        {
            for i in 0..self.partners.len() {
                let partner = &self.partners[i];
                if partner.joined_at.is_some_and(|j| j >= end) || !active_before(partner, end) {
                    continue;
                }
                let value = self.incentives.metrics[i].value(b.metric, Some(start));
                if value < b.at_least.get() {
                    continue;
                }
                let computed = match (b.amount, b.percent) {
                    (Some(a), _) => a.get(),
                    (None, Some(pct)) => percent_of(value, pct.get())
                        .ok_or_else(|| Error::overflow(format!("plan.bonuses.{}", b.id)))?,
                    (None, None) => Decimal::ZERO,
                };
                let amount = doc.rounding.round(computed, doc.currency.digits());
                if amount <= Decimal::ZERO {
                    continue;
                }
                let why = BonusWhy {
                    kind: b.kind,
                    metric: b.metric,
                    window: label.clone(),
                    at_least: b.at_least.get(),
                    value,
                    amount: b.amount.map(|a| a.get()),
                    percent: b.percent.map(|p| p.get()),
                    computed,
                };
                let id = make_id(
                    &mut self.id_buf,
                    &["bonus", &b.id, &self.partner_ids[i], &label],
                );
                self.bonus_entry(i, id, event.clone(), None, &b.id, amount, end, why)?;
            }
        }
        Ok(())
    }

    /// Writes one bonus entry in plan currency, with the plan's hold.
    #[allow(clippy::too_many_arguments)]
    fn bonus_entry(
        &mut self,
        partner: usize,
        id: Arc<str>,
        event: Arc<str>,
        customer: Option<Arc<str>>,
        bonus: &str,
        amount: Decimal,
        at: Instant,
        why: BonusWhy,
    ) -> Result<()> {
        let doc = self.plan.doc();
        let hold = add_days_local(self.plan.tz(), at, i64::from(doc.lifecycle.hold_days))
            .ok_or_else(|| Error::overflow("plan.lifecycle.hold_days"))?;
        let entry = Entry {
            id,
            partner: self.partner_ids[partner].clone(),
            kind: EntryKind::Bonus,
            event,
            customer,
            rule: Some(Arc::from(bonus)),
            amount,
            currency: doc.currency,
            earned_at: at,
            available_at: hold,
            fx_anchor: at,
            explain: Explain::Bonus(std::sync::Arc::new(why)),
        };
        self.push(entry, None);
        Ok(())
    }
}
