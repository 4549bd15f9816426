//! What may change between events besides events: partners (new ones, and status changes
//! from now on) and FX rates (for the days to come). Anything that would change what was
//! already computed is refused, with the way to make the change: a new engine built from
//! the event log.

use crate::engine::State;
use crate::error::{Error, ErrorCode, Result};
use crate::fx::FxTable;
use crate::input::{Partner, PartnerStatus};
use crate::json::json_value;
use crate::time::{Instant, fmt_instant, local_date};

use super::Engine;
use super::write::checked_partner;

impl Engine {
    /// Adds a partner, or updates one, between events (see [`Engine::upsert_partner`]).
    pub fn upsert_partner_json(&mut self, json: &str) -> Result<()> {
        let value = json_value(json, "partner")?;
        let partner = crate::input::partner_from_value(&value, "partner")?;
        self.upsert(partner)
    }

    /// Adds a partner, or updates one, between events.
    ///
    /// A new partner is added as if it had been declared from the start (no applied event
    /// can name it, so nothing already computed changes). Once events were applied, an
    /// existing partner may only gain or lose status changes *after* the last one (a
    /// suspension from now on): any other change would re-price events already applied in
    /// a batch evaluation of the same log, so it is `InvalidValue`, and the way to make it
    /// is to build a new engine from the event log with the new record.
    pub fn upsert_partner(&mut self, partner: Partner) -> Result<()> {
        let partner = checked_partner(&partner, "partner")?;
        self.upsert(partner)
    }

    fn upsert(&mut self, partner: Partner) -> Result<()> {
        // Errors about the partner's place in the list are about the record given.
        let named = |e: Error, index: usize| {
            let path = match e.path().strip_prefix(&format!("partners[{index}]")) {
                Some(rest) => format!("partner{rest}"),
                None => e.path().to_owned(),
            };
            Error::new(e.code(), path, e.message())
        };
        let Ok(i) = self.check_partner(&partner.id) else {
            let index = self.state.partners.len();
            // The engine's partners are its input's: the same ceiling holds.
            let max = self.state.limits.max_partners;
            if index >= max {
                return Err(crate::limits::exceeded(
                    "partner",
                    "max_partners",
                    index + 1,
                    max,
                ));
            }
            return self.state.add_partner(partner).map_err(|e| named(e, index));
        };
        let current = &self.state.partners[i];
        if *current == partner {
            return Ok(());
        }
        if self.log.is_empty() {
            // Nothing applied yet, nothing to re-price: any change is a new start.
            let mut partners = self.state.partners.clone();
            partners[i] = partner;
            let table = FxTable::new(&self.fx)?;
            let limits = self.state.limits.clone();
            self.state =
                State::new(self.state.plan.clone(), partners, table).map_err(|e| named(e, i))?;
            self.state.limits = limits;
            return Ok(());
        }
        let Partner {
            id: _,
            segment,
            parent,
            joined_at,
            status,
            tier,
            own_customers,
            attributes,
            payout_currency,
        } = current;
        let changed = [
            ("segment", *segment != partner.segment),
            ("parent", *parent != partner.parent),
            ("joined_at", *joined_at != partner.joined_at),
            ("tier", *tier != partner.tier),
            ("own_customers", *own_customers != partner.own_customers),
            ("attributes", *attributes != partner.attributes),
            (
                "payout_currency",
                *payout_currency != partner.payout_currency,
            ),
        ];
        if let Some((field, _)) = changed.iter().find(|(_, c)| *c) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("partner.{field}"),
                format!(
                    "`{field}` of partner \"{}\" cannot change between events: a batch \
                     evaluation applies one partner record to every event, so the change \
                     would re-price events already applied; build a new engine from the event \
                     log with the new record",
                    partner.id
                ),
            ));
        }
        if let Some(last) = self.log.last() {
            let past = |list: &[(Instant, PartnerStatus)]| {
                list.iter()
                    .copied()
                    .filter(|(at, _)| *at <= last.at)
                    .collect::<Vec<_>>()
            };
            if past(status) != past(&partner.status) {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    "partner.status",
                    format!(
                        "status changes of partner \"{}\" at or before the last applied event \
                         ({}) cannot change: they decided events already applied; add changes \
                         after it, or build a new engine from the event log with the new record",
                        partner.id,
                        fmt_instant(last.at)
                    ),
                ));
            }
        }
        self.state.partners[i] = partner;
        Ok(())
    }

    /// Adds FX rates (one `{date, from, to, rate}` object or an array) for events to come.
    ///
    /// A rate must be dated after the last applied event's date in the plan's time zone:
    /// an earlier one could change a conversion already made (`LateEvent`; to correct past
    /// rates, build a new engine from the event log). Paths name `fx[i]` in what is given.
    pub fn add_fx_json(&mut self, json: &str) -> Result<()> {
        let value = json_value(json, "fx")?;
        let rates = match &value {
            serde_json::Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| crate::input::fx_rate_from_value(v, &format!("fx[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            _ => vec![crate::input::fx_rate_from_value(&value, "fx[0]")?],
        };
        if let Some(last) = self.log.last() {
            let day = local_date(self.state.plan.tz(), last.at);
            if let Some((i, r)) = rates.iter().enumerate().find(|(_, r)| r.date <= day) {
                return Err(Error::new(
                    ErrorCode::LateEvent,
                    format!("fx[{i}].date"),
                    format!(
                        "a {}→{} rate dated {} arrives after events up to {day} were applied: \
                         it could change conversions already made; add each day's rates before \
                         that day's events, or re-evaluate from the event log (build a new \
                         engine from it) to correct past rates",
                        r.from, r.to, r.date
                    ),
                ));
            }
        }
        let n = self.fx.len();
        let max = self.state.limits.max_fx_rates;
        if n + rates.len() > max {
            return Err(crate::limits::exceeded(
                "fx",
                "max_fx_rates",
                n + rates.len(),
                max,
            ));
        }
        let mut all = self.fx.clone();
        all.extend(rates);
        let table = FxTable::new(&all).map_err(|e| {
            // Conflicts name the later rate, which is one of the new ones.
            let path = e
                .path()
                .strip_prefix("fx[")
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(k, rest)| {
                    let k: usize = k.parse().ok()?;
                    Some(format!("fx[{}]{rest}", k.checked_sub(n)?))
                })
                .unwrap_or_else(|| e.path().to_owned());
            Error::new(e.code(), path, e.message())
        })?;
        self.fx = all;
        self.state.fx = table;
        Ok(())
    }
}
