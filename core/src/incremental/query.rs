//! What a host asks an engine about one partner: its balance, its statements and its tier
//! progress.
//!
//! Both need the partner's statements (an entry is paid once the statement that settled it
//! is paid), and only that partner's: beyond one pass over the ledger, the cost is the
//! partner's own share of it.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;

use crate::engine::State;
use crate::error::Result;
use crate::money::{Currency, fmt_amount};
use crate::payouts::{self, Statement, StatementStatus};
use crate::report::{self, Status};
use crate::time::{Instant, fmt_instant};

use super::{Engine, instant};

impl Engine {
    /// A partner's balance as of `as_of`, per currency of its entries:
    /// `{"partner", "as_of", "balances": [{"currency", "pending", "available", "paid"}]}` —
    /// `pending` within holds, `available` past them and not yet paid by a statement (less
    /// what a statement wrote off), `paid` settled by statements, each net of reversals.
    pub fn balance_json(&self, partner: &str, as_of: &str) -> Result<String> {
        let at = instant(as_of)?;
        let pi = self.check_partner(partner)?;
        let balances = self.partner_view(at, pi, |state, statements, mine| {
            let written_off = written_off(statements);
            let mut by: BTreeMap<Currency, [Decimal; 3]> = BTreeMap::new();
            for &(i, status) in mine {
                let e = &state.entries[i];
                let slot = match status {
                    Status::Pending => 0,
                    // A written-off balance was reset to zero: nothing of it is owed.
                    Status::Available if written_off.contains(&*e.id) => continue,
                    Status::Available => 1,
                    Status::Paid => 2,
                };
                by.entry(e.currency).or_default()[slot] += e.amount;
            }
            by.into_iter()
                .map(|(c, [pending, available, paid])| {
                    serde_json::json!({
                        "currency": c.as_str(),
                        "pending": fmt_amount(pending, c.digits()),
                        "available": fmt_amount(available, c.digits()),
                        "paid": fmt_amount(paid, c.digits()),
                    })
                })
                .collect::<Vec<_>>()
        })?;
        Ok(serde_json::json!({
            "partner": partner,
            "as_of": fmt_instant(at),
            "balances": balances,
        })
        .to_string())
    }

    /// A partner's statements as of `as_of` as a canonical JSON array: each statement the
    /// same bytes as in the report.
    pub fn statements_json(&self, partner: &str, as_of: &str) -> Result<String> {
        let at = instant(as_of)?;
        let pi = self.check_partner(partner)?;
        self.partner_view(at, pi, |_, statements, _| {
            crate::canonical::statements_json(&statements.iter().collect::<Vec<_>>())
        })
    }

    /// A partner's tier progress as of `as_of` (SPEC §11): the same object as the partner's
    /// item in the report's `progress` — its tier, the next one, and per requirement the
    /// current value, the target and what remains — or `null` when the plan in force has no
    /// tiers. What a partner dashboard or an app shows, without building the whole report.
    pub fn progress_json(&self, partner: &str, as_of: &str) -> Result<String> {
        let at = instant(as_of)?;
        let pi = self.check_partner(partner)?;
        let state = self.state_as_of(at)?;
        let id = &state.partner_ids[pi];
        let currency = state.plan.doc().currency;
        Ok(state
            .progress(at)?
            .iter()
            .find(|p| p.partner == *id)
            .map_or_else(
                || "null".to_owned(),
                |p| crate::canonical::progress_json(p, currency),
            ))
    }

    /// Runs `f` on the state as of `as_of`, partner `pi`'s statements, and its entries
    /// (indices in the ledger) with their statuses. Beyond one pass over the ledger, only
    /// the partner's own entries are worked on.
    fn partner_view<T>(
        &self,
        as_of: Instant,
        pi: usize,
        f: impl FnOnce(&State, &[Statement], &[(usize, Status)]) -> T,
    ) -> Result<T> {
        let state = self.state_as_of(as_of)?;
        let state = &*state;
        let owner = state.entry_owners()?;
        let (statements, paid_by) = payouts::build_for(state, &owner, as_of, Some(pi))?;
        let mine: Vec<(usize, Status)> = (0..state.entries.len())
            .filter(|&i| owner[i] == pi)
            .map(|i| {
                let settled_by = paid_by[i].map(|s| &statements[s]);
                (i, report::status_of(&state.entries[i], settled_by, as_of))
            })
            .collect();
        Ok(f(state, &statements, &mine))
    }
}

/// Ids of the entries settled by a written-off statement among one partner's statements:
/// the lines of that statement and of the carried ones before it since the last payable
/// one (as statements settle them).
fn written_off(statements: &[Statement]) -> HashSet<&str> {
    let mut out = HashSet::new();
    let mut unsettled: Vec<&str> = Vec::new();
    for st in statements {
        unsettled.extend(st.lines.iter().map(|l| &*l.entry));
        match st.status {
            StatementStatus::WrittenOff => out.extend(unsettled.drain(..)),
            StatementStatus::Paid | StatementStatus::Scheduled => unsettled.clear(),
            StatementStatus::Carried => {}
        }
    }
    out
}
