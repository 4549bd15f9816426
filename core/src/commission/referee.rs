//! Referee (two-sided) rewards (SPEC §8): what the referred customer gets — a discount, an
//! account credit, free months — recorded for the host to apply. Once per customer, at its
//! first signup (not marked unqualified) or its first payment, when the customer was
//! referred (attributed to at least one partner).

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::engine::State;
use crate::error::Result;
use crate::input::{Body, Event};
use crate::money::Currency;
use crate::plan::{RefereeKind, RefereeOn};
use crate::time::Instant;

/// A reward for a referred customer, for the host to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct RefereeRecord {
    /// The referred customer.
    pub customer: Arc<str>,
    /// Who referred it (sorted by id).
    pub referred_by: Vec<Arc<str>>,
    /// What it gets.
    pub kind: RefereeKind,
    /// Percent off, credit amount, or number of months.
    pub value: Decimal,
    /// The credit's currency (the plan's), for credits.
    pub currency: Option<Currency>,
    /// How long a discount lasts, in months.
    pub months: Option<u32>,
    /// Which event earned it.
    pub on: RefereeOn,
    /// That event.
    pub event: Arc<str>,
    /// Its instant.
    pub at: Instant,
}

impl State {
    /// Records the referee reward the event earns, if any.
    pub(crate) fn referee_reward(&mut self, ev: &Event) -> Result<()> {
        let (customer, on) = match &ev.body {
            Body::Signup {
                customer,
                qualified,
            } if *qualified != Some(false) => (customer.as_str(), RefereeOn::Signup),
            Body::Payment(p) => (p.customer.as_str(), RefereeOn::FirstPayment),
            _ => return Ok(()),
        };
        let version = self.version_for(ev.at, Some(customer));
        let plan = self.plan.version(version);
        let Some(r) = plan.doc().referee_reward.as_ref().filter(|r| r.on == on) else {
            return Ok(());
        };
        if self.incentives.referee_done.contains(customer) {
            return Ok(());
        }
        let Some(c) = self.customer(customer) else {
            return Ok(());
        };
        if on == RefereeOn::FirstPayment && c.payments != 1 {
            return Ok(());
        }
        let Some(decision) = c.decision.as_ref().filter(|d| !d.credits.is_empty()) else {
            return Ok(());
        };
        let mut referred_by: Vec<Arc<str>> = decision
            .credits
            .iter()
            .map(|cr| self.partner_ids[cr.partner].clone())
            .collect();
        referred_by.sort();
        let record = RefereeRecord {
            customer: self.customer_key(customer),
            referred_by,
            kind: r.kind,
            value: r.value.get(),
            currency: (r.kind == RefereeKind::Credit).then_some(plan.doc().currency),
            months: r.months,
            on,
            event: ev.id.clone(),
            at: ev.at,
        };
        self.incentives.referee_done.insert(record.customer.clone());
        self.incentives.referee.push(record);
        Ok(())
    }
}
