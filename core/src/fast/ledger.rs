//! The ledger as columns, and totals computed from it.
//!
//! Text columns are dictionary-encoded (an index per entry into a list of names), the way
//! Arrow's dictionary arrays are, so writing an entry copies no strings: the fast path
//! writes a dozen integers per entry. Entry ids are derived from the entry's causes
//! (`commission:{event}:{rule}:{partner}`, `reversal:{event}:{original id}`) when the
//! ledger came from the fast path, and kept as text when it came from a canonical report.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::columns::{NONE, Strings, ns_instant};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::EntryKind;
use crate::money::{Currency, fmt_amount};
use crate::report::{Report, Status};
use crate::time::fmt_instant;

/// How the ledger knows its entry ids.
#[derive(Clone, Debug)]
pub enum Ids {
    /// Derived from the causes; for a reversal, the index of the entry it reverses.
    Derived {
        /// Per entry: the reversed entry's index, or [`NONE`].
        reverses: Vec<u32>,
    },
    /// Written out (ledgers from the canonical path).
    Text(Strings),
}

/// Ledger entries in report order (`earned_at`, then id), as columns.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// What each entry is.
    pub kind: Vec<EntryKind>,
    /// Where each entry stands as of the evaluation.
    pub status: Vec<Status>,
    /// The partner: an index into `partner_names`.
    pub partner: Vec<u32>,
    /// Partner ids.
    pub partner_names: Strings,
    /// The event that caused the entry: an index into `event_names`.
    pub event: Vec<u32>,
    /// Event ids.
    pub event_names: Strings,
    /// The customer: an index into `customer_names`, or [`NONE`].
    pub customer: Vec<u32>,
    /// Customer keys.
    pub customer_names: Strings,
    /// The rule: an index into `rule_names`, or [`NONE`].
    pub rule: Vec<u32>,
    /// Rule ids.
    pub rule_names: Strings,
    /// Entry ids.
    pub ids: Ids,
    /// Signed amount in minor units of `currency`.
    pub amount: Vec<i128>,
    /// The amount's currency.
    pub currency: Vec<Currency>,
    /// When it was earned, nanoseconds since the Unix epoch.
    pub earned_at: Vec<i64>,
    /// When it stops being pending, nanoseconds since the Unix epoch.
    pub available_at: Vec<i64>,
    /// Each entry's explanation as canonical JSON, when asked for.
    pub explain: Option<Strings>,
}

impl Ledger {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Writes entry `i`'s id into `out`.
    pub fn write_id(&self, i: usize, out: &mut String) {
        match &self.ids {
            Ids::Text(s) => out.push_str(s.get(i)),
            Ids::Derived { reverses } => {
                let r = reverses[i];
                out.push_str(self.kind[i].as_str());
                out.push(':');
                out.push_str(self.event_names.get(self.event[i] as usize));
                out.push(':');
                if r != NONE {
                    self.write_id(r as usize, out);
                } else {
                    if self.rule[i] != NONE {
                        out.push_str(self.rule_names.get(self.rule[i] as usize));
                        out.push(':');
                    }
                    out.push_str(self.partner_names.get(self.partner[i] as usize));
                }
            }
        }
    }

    /// Entry `i`'s id.
    pub fn id(&self, i: usize) -> String {
        let mut s = String::new();
        self.write_id(i, &mut s);
        s
    }

    /// Entry `i`'s amount as a decimal.
    pub fn amount_decimal(&self, i: usize) -> Decimal {
        Decimal::from_i128_with_scale(self.amount[i], self.currency[i].digits())
    }

    /// The ledger of a canonical report (explanations as canonical JSON when `explain`).
    ///
    /// # Errors
    ///
    /// `InvalidValue` when an amount does not fit 64-bit minor units or an instant falls
    /// outside the nanosecond range (1677–2262) the columns use.
    pub fn from_report(report: &Report, explain: bool) -> Result<Ledger> {
        let n = report.entries.len();
        let mut partners = Dict::default();
        let mut events = Dict::default();
        let mut customers = Dict::default();
        let mut rules = Dict::default();
        let mut ids = Strings::with_capacity(n, n * 32);
        let mut out = Ledger {
            kind: Vec::with_capacity(n),
            status: report.statuses.clone(),
            partner: Vec::with_capacity(n),
            partner_names: Strings::default(),
            event: Vec::with_capacity(n),
            event_names: Strings::default(),
            customer: Vec::with_capacity(n),
            customer_names: Strings::default(),
            rule: Vec::with_capacity(n),
            rule_names: Strings::default(),
            ids: Ids::Text(Strings::default()),
            amount: Vec::with_capacity(n),
            currency: Vec::with_capacity(n),
            earned_at: Vec::with_capacity(n),
            available_at: Vec::with_capacity(n),
            explain: None,
        };
        let range = |what: &str, i: usize| {
            Error::new(
                ErrorCode::InvalidValue,
                format!("entries[{i}].{what}"),
                format!("{what} does not fit the columnar ledger (nanosecond instants 1677–2262)"),
            )
        };
        for (i, e) in report.entries.iter().enumerate() {
            out.kind.push(e.kind);
            out.partner.push(partners.of(&e.partner));
            out.event.push(events.of(&e.event));
            out.customer
                .push(e.customer.as_deref().map_or(NONE, |c| customers.of(c)));
            out.rule
                .push(e.rule.as_deref().map_or(NONE, |r| rules.of(r)));
            ids.push(&e.id);
            out.amount.push(
                super::columns::minor128(e.amount, e.currency.digits())
                    .ok_or_else(|| range("amount", i))?,
            );
            out.currency.push(e.currency);
            out.earned_at.push(
                e.earned_at
                    .timestamp_nanos_opt()
                    .ok_or_else(|| range("earned_at", i))?,
            );
            out.available_at.push(
                e.available_at
                    .timestamp_nanos_opt()
                    .ok_or_else(|| range("available_at", i))?,
            );
        }
        if explain {
            let mut col = Strings::with_capacity(n, n * 512);
            for (e, s) in report.entries.iter().zip(&report.statuses) {
                let json =
                    crate::canonical::entries_json(&[(e, *s)], report.rounding, report.currency);
                // The entry's object is the array's one element; its explanation is the
                // last field.
                let v: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| Error::new(ErrorCode::Internal, "", format!("entry JSON: {e}")))?;
                col.push(&v[0]["explain"].to_string());
            }
            out.explain = Some(col);
        }
        out.partner_names = partners.names;
        out.event_names = events.names;
        out.customer_names = customers.names;
        out.rule_names = rules.names;
        out.ids = Ids::Text(ids);
        Ok(out)
    }

    /// The entries as JSON lines, each the canonical report's entry object without its
    /// explanation (same field order, same digits): what the equality tests compare.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut id = String::new();
        for i in 0..self.len() {
            id.clear();
            self.write_id(i, &mut id);
            let c = self.customer[i];
            let r = self.rule[i];
            let v = serde_json::json!({
                "id": id,
                "partner": self.partner_names.get(self.partner[i] as usize),
                "kind": self.kind[i].as_str(),
                "event": self.event_names.get(self.event[i] as usize),
                "customer": (c != NONE).then(|| self.customer_names.get(c as usize)),
                "rule": (r != NONE).then(|| self.rule_names.get(r as usize)),
                "amount": fmt_amount(self.amount_decimal(i), self.currency[i].digits()),
                "currency": self.currency[i].as_str(),
                "status": self.status[i].as_str(),
                "earned_at": fmt_instant(ns_instant(self.earned_at[i])),
                "available_at": fmt_instant(ns_instant(self.available_at[i])),
            });
            let _ = writeln!(out, "{v}");
        }
        out
    }

    /// Totals per partner and currency, sorted by partner id then currency code.
    pub fn totals(&self) -> Vec<Total> {
        // Accumulated by (partner index, currency) in a vector: one lookup per entry
        // without hashing a string; names are compared once per total at the end.
        let mut currencies: Vec<Currency> = Vec::new();
        let mut by: Vec<Option<Total>> = Vec::new();
        let n_partners = self.partner_names.len().max(1);
        for i in 0..self.len() {
            let c = self.currency[i];
            let ci = match currencies.iter().position(|x| *x == c) {
                Some(k) => k,
                None => {
                    currencies.push(c);
                    by.resize(currencies.len() * n_partners, None);
                    currencies.len() - 1
                }
            };
            let p = self.partner[i] as usize;
            let t = by[ci * n_partners + p].get_or_insert_with(|| Total {
                partner: self.partner_names.get(p).to_owned(),
                currency: c,
                entries: 0,
                earned: 0,
                reversed: 0,
                pending: 0,
                available: 0,
                paid: 0,
            });
            let a = self.amount[i];
            t.entries += 1;
            if self.kind[i] == EntryKind::Reversal {
                t.reversed += a;
            } else {
                t.earned += a;
            }
            match self.status[i] {
                Status::Pending => t.pending += a,
                Status::Available => t.available += a,
                Status::Paid => t.paid += a,
            }
        }
        let mut out: Vec<Total> = by.into_iter().flatten().collect();
        out.sort_by(|a, b| {
            (&a.partner, a.currency.as_str()).cmp(&(&b.partner, b.currency.as_str()))
        });
        out
    }
}

/// One partner's totals in one currency, in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    /// The partner.
    pub partner: String,
    /// The currency.
    pub currency: Currency,
    /// Entries.
    pub entries: u64,
    /// Sum of every entry that is not a reversal.
    pub earned: i128,
    /// Sum of the reversals (zero or less).
    pub reversed: i128,
    /// Sum of pending entries.
    pub pending: i128,
    /// Sum of available entries.
    pub available: i128,
    /// Sum of paid entries.
    pub paid: i128,
}

impl Total {
    /// earned + reversed.
    pub fn net(&self) -> i128 {
        self.earned + self.reversed
    }
}

/// A dictionary built in first-seen order.
#[derive(Default)]
struct Dict {
    index: std::collections::HashMap<String, u32>,
    names: Strings,
}

impl Dict {
    fn of(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.index.insert(s.to_owned(), i);
        self.names.push(s);
        i
    }
}
