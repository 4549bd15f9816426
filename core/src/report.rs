//! The report (SPEC §11): ledger with statuses, statements, metrics.
//!
//! A report is a value: everything in it is decided by the inputs and `as_of`. Its one
//! serialized form is [`Report::to_canonical_json`]; bindings hand those bytes through.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::commission::referee::RefereeRecord;
use crate::engine::State;
use crate::error::Result;
use crate::ledger::{Entry, EntryKind, FlagKind};
use crate::money::{Currency, Rounding};
use crate::payouts::{self, Statement, StatementStatus};
use crate::tiers::TierChange;
use crate::tiers::progress::Progress;
use crate::time::{Instant, local_date};

/// Where an entry stands as of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Within its hold.
    Pending,
    /// Past its hold, not yet paid by a statement.
    Available,
    /// Settled by a statement that was due on or before `as_of`.
    Paid,
}

impl Status {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Available => "available",
            Status::Paid => "paid",
        }
    }
}

/// How a host with decimal and date types reads a string of the canonical report.
///
/// The canonical JSON writes every decimal, instant and date as a string (SPEC §11). A
/// binding that hands typed values to its host (Python's `Decimal` and `datetime`) reads
/// them by key through [`field_type`], so a field added to the report becomes typed in every
/// binding by one line here rather than by binding code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// An exact decimal: money (`"49.00"`) or a rate, weight or percent (`"0.5"`).
    Decimal,
    /// An RFC 3339 instant in UTC (`"2026-01-15T12:00:00Z"`).
    Instant,
    /// A calendar date (`"2026-02-28"`).
    Date,
}

/// Every key of the canonical report whose string values are typed, with their type.
///
/// A key means the same thing wherever it appears in a report; a key holding an object or a
/// `null` somewhere (`explain.base`, `lines[].fx_date`) is typed only where it holds a string.
pub const FIELD_TYPES: &[(&str, FieldType)] = &[
    ("after", FieldType::Decimal),
    ("amount", FieldType::Decimal),
    ("at_least", FieldType::Decimal),
    ("base", FieldType::Decimal),
    ("before", FieldType::Decimal),
    ("carried_forward", FieldType::Decimal),
    ("child_net", FieldType::Decimal),
    ("closing_balance", FieldType::Decimal),
    ("commission", FieldType::Decimal),
    ("computed", FieldType::Decimal),
    ("conversion_rate", FieldType::Decimal),
    ("converted", FieldType::Decimal),
    ("cpa", FieldType::Decimal),
    ("credited", FieldType::Decimal),
    ("credits", FieldType::Decimal),
    ("current", FieldType::Decimal),
    ("debits", FieldType::Decimal),
    ("discount", FieldType::Decimal),
    ("epc", FieldType::Decimal),
    ("first", FieldType::Decimal),
    ("flat", FieldType::Decimal),
    ("influenced_revenue", FieldType::Decimal),
    ("last", FieldType::Decimal),
    ("net_base", FieldType::Decimal),
    ("of", FieldType::Decimal),
    ("opening_balance", FieldType::Decimal),
    ("original", FieldType::Decimal),
    ("payment_amount", FieldType::Decimal),
    ("payout", FieldType::Decimal),
    ("percent", FieldType::Decimal),
    ("rate", FieldType::Decimal),
    ("refunded_before", FieldType::Decimal),
    ("refunded_now", FieldType::Decimal),
    ("refunded_total", FieldType::Decimal),
    ("remaining", FieldType::Decimal),
    ("revenue", FieldType::Decimal),
    ("reversed_before", FieldType::Decimal),
    ("reversed_total", FieldType::Decimal),
    ("rounded", FieldType::Decimal),
    ("share", FieldType::Decimal),
    ("target", FieldType::Decimal),
    ("tax", FieldType::Decimal),
    ("threshold", FieldType::Decimal),
    ("top_up", FieldType::Decimal),
    ("used", FieldType::Decimal),
    ("value", FieldType::Decimal),
    ("weight", FieldType::Decimal),
    ("whole", FieldType::Decimal),
    ("written_off", FieldType::Decimal),
    ("as_of", FieldType::Instant),
    ("at", FieldType::Instant),
    ("available_at", FieldType::Instant),
    ("decided_at", FieldType::Instant),
    ("earned_at", FieldType::Instant),
    ("locked_until", FieldType::Instant),
    ("end", FieldType::Instant),
    ("start", FieldType::Instant),
    ("effective_from", FieldType::Instant),
    ("evaluated_at", FieldType::Instant),
    ("window_start", FieldType::Instant),
    ("due", FieldType::Date),
    ("fx_date", FieldType::Date),
    ("quoted", FieldType::Date),
];

/// The type of the string values under `key` in a canonical report; `None` for text.
pub fn field_type(key: &str) -> Option<FieldType> {
    FIELD_TYPES.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// Counts and sums for one partner, or for the whole program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Touches.
    pub clicks: u64,
    /// Customers attributed (a customer shared by two partners counts for both).
    pub referrals: u64,
    /// Attributed payments.
    pub conversions: u64,
    /// Credited base (sourced revenue) in plan currency, before refunds.
    pub revenue: Decimal,
    /// Base of payments the partner touched within the window but got no credit for, in
    /// plan currency, before refunds (program: each such payment once).
    pub influenced_revenue: Decimal,
    /// Net earned (commissions less reversals; adjustments excluded) in plan currency.
    pub commission: Decimal,
    /// Activated partners: for one partner 1 or 0 (`None` without a `joined_at`), for the
    /// program the count.
    pub activated: Option<u64>,
    /// Inactive partners: for one partner 1 or 0, for the program the count.
    pub inactive: u64,
}

impl Metrics {
    /// referrals / clicks, to 4 decimal places (None without clicks).
    pub fn conversion_rate(&self) -> Option<Decimal> {
        ratio(Decimal::from(self.referrals), self.clicks, 4)
    }

    /// Commission per click in plan currency (None without clicks).
    pub fn epc(&self, digits: u32, r: Rounding) -> Option<Decimal> {
        ratio(self.commission, self.clicks, 28).map(|x| r.round(x, digits))
    }

    /// Commission per referral in plan currency (None without referrals).
    pub fn cpa(&self, digits: u32, r: Rounding) -> Option<Decimal> {
        ratio(self.commission, self.referrals, 28).map(|x| r.round(x, digits))
    }
}

fn ratio(num: Decimal, den: u64, dp: u32) -> Option<Decimal> {
    if den == 0 {
        return None;
    }
    let q = num.checked_div(Decimal::from(den))?;
    Some(Rounding::HalfEven.round(q, dp.min(28)))
}

/// A fraud signal that fired (SPEC §10).
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    /// The partner concerned.
    pub partner: Arc<str>,
    /// The signal.
    pub kind: FlagKind,
    /// The events that raised it, in canonical order.
    pub events: Vec<Arc<str>>,
    /// What was seen, and what it did, in words.
    pub detail: String,
}

/// The result of an evaluation.
#[derive(Clone, Debug)]
pub struct Report {
    /// Plan id.
    pub plan: String,
    /// Plan currency (metrics are in it).
    pub currency: Currency,
    /// Plan rounding (for derived money metrics).
    pub rounding: Rounding,
    /// The instant the report is as of.
    pub as_of: Instant,
    /// Ledger entries sorted by `(earned_at, id)`.
    pub entries: Vec<Entry>,
    /// Status of each entry, parallel to `entries`.
    pub statuses: Vec<Status>,
    /// Statements sorted by partner, then period.
    pub statements: Vec<Statement>,
    /// Fraud flags sorted by partner, kind name, then subject (customer or IP).
    pub flags: Vec<Flag>,
    /// Identical events ignored.
    pub duplicates_ignored: u64,
    /// Customers that converted with no eligible touch, sorted.
    pub unattributed: Vec<Arc<str>>,
    /// Program-wide metrics.
    pub program: Metrics,
    /// Per-partner metrics, sorted by partner id.
    pub partners: Vec<(Arc<str>, Metrics)>,
    /// The tier timeline: each partner's starting tier and every change, by partner id
    /// then time (plans with tiers).
    pub tiers: Vec<TierChange>,
    /// Each partner's tier progress as of `as_of`, by partner id (plans with tiers).
    pub progress: Vec<Progress>,
    /// Rewards for referred customers, by instant then customer.
    pub referee_rewards: Vec<RefereeRecord>,
}

impl Report {
    /// The canonical JSON of SPEC §11: fixed field order, decimals with the currency's
    /// digits, sorted lists. Byte-identical for identical inputs on every platform.
    pub fn to_canonical_json(&self) -> String {
        crate::canonical::report_json(self, false)
    }

    /// The canonical document as serde data: [`Report::to_canonical_json`] is this written
    /// by `serde_json`. For a binding that builds its host's values through its own
    /// `Serializer` rather than parsing the JSON text.
    pub fn canonical_view(&self) -> impl serde::Serialize + '_ {
        crate::canonical::report_view(self)
    }

    /// The same document, indented for humans.
    pub fn to_pretty_json(&self) -> String {
        crate::canonical::report_json(self, true)
    }

    /// Balance of a partner as of the report, in each currency: (pending, available).
    /// Paid entries are excluded.
    pub fn balances(&self, partner: &str) -> Vec<(Currency, Decimal, Decimal)> {
        let mut by: std::collections::BTreeMap<Currency, (Decimal, Decimal)> =
            std::collections::BTreeMap::new();
        for (e, s) in self.entries.iter().zip(&self.statuses) {
            if &*e.partner != partner || *s == Status::Paid {
                continue;
            }
            let slot = by.entry(e.currency).or_default();
            match s {
                Status::Pending => slot.0 += e.amount,
                _ => slot.1 += e.amount,
            }
        }
        by.into_iter().map(|(c, (p, a))| (c, p, a)).collect()
    }
}

/// Writes the report of `state` as of `as_of`, copying the ledger: the incremental engine
/// keeps its state after the report.
pub(crate) fn build(state: &State, as_of: Instant) -> Result<Report> {
    let (mut report, order) = assemble(state, as_of)?;
    report.entries = order.iter().map(|&i| state.entries[i].clone()).collect();
    Ok(report)
}

/// Writes the report of `state` as of `as_of`, moving the ledger out of it: batch
/// evaluation has no use for the state afterwards, and a million boxed explanations are
/// not worth copying.
pub(crate) fn build_owned(mut state: State, as_of: Instant) -> Result<Report> {
    let (mut report, order) = assemble(&state, as_of)?;
    let entries = std::mem::take(&mut state.entries);
    // Entries are written in canonical event order, which is nearly always report order
    // already: then the ledger moves over whole.
    if order.iter().enumerate().all(|(k, &i)| k == i) {
        report.entries = entries;
        return Ok(report);
    }
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    report.entries = order.iter().filter_map(|&i| slots[i].take()).collect();
    Ok(report)
}

/// An entry's status as of `as_of`, given the statement that settled it, if any.
pub(crate) fn status_of(e: &Entry, settled_by: Option<&Statement>, as_of: Instant) -> Status {
    if as_of < e.available_at {
        Status::Pending
    } else if settled_by.is_some_and(|s| s.status == StatementStatus::Paid) {
        Status::Paid
    } else {
        Status::Available
    }
}

/// Everything but the entries, and the order in which the entries go into the report.
fn assemble(state: &State, as_of: Instant) -> Result<(Report, Vec<usize>)> {
    let owner = state.entry_owners()?;
    let (statements, paid_by) = payouts::build(state, &owner, as_of)?;
    let doc = state.plan.doc();
    let tz = state.plan.tz();
    let mut order: Vec<usize> = (0..state.entries.len()).collect();
    let key = |i: usize| (state.entries[i].earned_at, &state.entries[i].id);
    // Entries are written in canonical event order, so this is nearly always sorted already.
    if !order.is_sorted_by(|&a, &b| key(a) <= key(b)) {
        order.sort_by(|&a, &b| key(a).cmp(&key(b)));
    }
    let mut partners: Vec<(Arc<str>, Metrics)> = state
        .partner_ids
        .iter()
        .zip(&state.counters)
        .zip(&state.partners)
        .map(|((id, c), p)| {
            let (activated, inactive) =
                crate::attribution::health::judge(p, c.activity, &doc.health, tz, as_of);
            (
                id.clone(),
                Metrics {
                    clicks: c.clicks,
                    referrals: c.referrals,
                    conversions: c.conversions,
                    revenue: c.revenue,
                    influenced_revenue: c.influenced,
                    commission: Decimal::ZERO,
                    activated: activated.map(u64::from),
                    inactive: u64::from(inactive),
                },
            )
        })
        .collect();
    let mut statuses = Vec::with_capacity(order.len());
    for &i in &order {
        let e = &state.entries[i];
        let status = status_of(e, paid_by[i].map(|s| &statements[s]), as_of);
        if e.kind != EntryKind::Adjustment {
            let pi = owner[i];
            let date = local_date(tz, e.fx_anchor);
            let amount = state.converted(i, state.plan.doc().currency, date, true)?.0;
            partners[pi].1.commission += amount;
        }
        statuses.push(status);
    }
    partners.sort_by(|a, b| a.0.cmp(&b.0));
    let mut program = Metrics {
        activated: Some(0),
        ..Metrics::default()
    };
    for (_, m) in &partners {
        program.clicks += m.clicks;
        program.conversions += m.conversions;
        program.revenue += m.revenue;
        program.commission += m.commission;
        program.activated = Some(program.activated.unwrap_or(0) + m.activated.unwrap_or(0));
        program.inactive += m.inactive;
    }
    // A payment influenced by two partners counts once for the program.
    program.influenced_revenue = state.influenced;
    // Program referrals count customers, not (customer, partner) pairs.
    program.referrals = state.attributed_customers();
    let mut tiers: Vec<TierChange> = state
        .incentives
        .tiers
        .as_ref()
        .map(|b| b.timeline.clone())
        .unwrap_or_default();
    // Stable: each partner's changes stay in the order they were made.
    tiers.sort_by(|a, b| a.partner.cmp(&b.partner));
    let mut progress = state.progress(as_of)?;
    progress.sort_by(|a, b| a.partner.cmp(&b.partner));
    let mut referee_rewards = state.incentives.referee.clone();
    referee_rewards.sort_by(|a, b| (a.at, &a.customer).cmp(&(b.at, &b.customer)));
    let report = Report {
        plan: doc.id.clone(),
        currency: doc.currency,
        rounding: doc.rounding,
        as_of,
        entries: Vec::new(),
        statuses,
        statements,
        flags: state.fraud.flags(&doc.fraud, &state.partner_ids, |p| {
            state.counters[p].conversions
        }),
        duplicates_ignored: state.duplicates_ignored,
        unattributed: state.unattributed.iter().cloned().collect(),
        program,
        partners,
        tiers,
        progress,
        referee_rewards,
    };
    Ok((report, order))
}
