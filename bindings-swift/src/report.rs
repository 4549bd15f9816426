//! `Report`: the result of an evaluation, held on the Rust side and read through a handle.
//!
//! The canonical JSON is the core's own bytes (never re-serialized here); entries,
//! statements and balances are mirrored as typed records for apps that show them, with
//! money in the exact digits of the canonical report.

use std::time::SystemTime;

use partnerkit::guard;
use partnerkit::ledger::EntryKind as CoreKind;
use partnerkit::payouts::StatementStatus as CoreStatementStatus;
use partnerkit::report::Status as CoreStatus;
use rust_decimal::Decimal;

use crate::PartnerKitError;
use crate::convert::{money, time};

/// An evaluated program as of one instant (SPEC §11).
#[derive(uniffi::Object)]
pub struct Report(partnerkit::Report);

impl From<partnerkit::Report> for Report {
    fn from(report: partnerkit::Report) -> Self {
        Report(report)
    }
}

#[uniffi::export]
impl Report {
    /// The canonical JSON of the report: fixed field order, exact decimals, sorted lists.
    /// The same bytes as the CLI, the Rust library and every other binding.
    pub fn canonical_json(&self) -> Result<String, PartnerKitError> {
        Ok(guard(|| Ok(self.0.to_canonical_json()))?)
    }

    /// The same document indented for people.
    pub fn pretty_json(&self) -> Result<String, PartnerKitError> {
        Ok(guard(|| Ok(self.0.to_pretty_json()))?)
    }

    /// The plan's id.
    pub fn plan_id(&self) -> String {
        self.0.plan.clone()
    }

    /// The instant the report is as of.
    pub fn as_of(&self) -> SystemTime {
        time(self.0.as_of)
    }

    /// Ledger entries in report order (`earned_at`, then `id`), with their statuses.
    pub fn entries(&self) -> Result<Vec<Entry>, PartnerKitError> {
        let r = &self.0;
        Ok(guard(|| {
            Ok(r.entries.iter().zip(&r.statuses).map(entry).collect())
        })?)
    }

    /// Payout statements, by partner, then period.
    pub fn statements(&self) -> Result<Vec<Statement>, PartnerKitError> {
        Ok(guard(|| {
            Ok(self.0.statements.iter().map(statement).collect())
        })?)
    }

    /// What `partner` has earned and not yet been paid, per currency: still in its hold
    /// (`pending`) and past it (`available`). Empty for a partner with no open entries.
    pub fn balances(&self, partner: String) -> Result<Vec<Balance>, PartnerKitError> {
        Ok(guard(|| {
            Ok(self
                .0
                .balances(&partner)
                .into_iter()
                .map(|(c, pending, available)| Balance {
                    currency: c.as_str().to_owned(),
                    pending: money(pending, c),
                    available: money(available, c),
                })
                .collect())
        })?)
    }

    /// Identical events that were ignored (webhooks delivered twice).
    pub fn duplicates_ignored(&self) -> u64 {
        self.0.duplicates_ignored
    }

    /// Customers that converted with no eligible touch, sorted.
    pub fn unattributed(&self) -> Vec<String> {
        self.0.unattributed.iter().map(|c| c.to_string()).collect()
    }
}

/// What a ledger entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum EntryKind {
    /// Earned by a rule on an attributed event.
    Commission,
    /// A parent's share of a child's commission.
    Override,
    /// A milestone or period bonus.
    Bonus,
    /// A retroactive band top-up.
    TrueUp,
    /// Takes back (part of) an earlier entry after a refund or chargeback.
    Reversal,
    /// A manual bonus or penalty.
    Adjustment,
}

/// Where an entry stands as of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum EntryStatus {
    /// Within its hold.
    Pending,
    /// Past its hold, not yet paid by a statement.
    Available,
    /// Settled by a statement that was due on or before the report's instant.
    Paid,
}

/// One ledger entry; its explanation is in the canonical JSON.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Entry {
    /// Derived from the entry's causes, e.g. `commission:p1:first-year:ana`.
    pub id: String,
    /// Who earns (or loses) it.
    pub partner: String,
    /// What it is.
    pub kind: EntryKind,
    /// The event that caused it.
    pub event: String,
    /// The customer concerned, if any.
    pub customer: Option<String>,
    /// The rule that priced it, if any.
    pub rule: Option<String>,
    /// Signed amount with the currency's minor-unit digits.
    pub amount: Decimal,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// Pending, available or paid.
    pub status: EntryStatus,
    /// When it was earned.
    pub earned_at: SystemTime,
    /// When its hold ends.
    pub available_at: SystemTime,
}

/// What became of a statement as of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum StatementStatus {
    /// Payable and due: paid.
    Paid,
    /// Payable, not yet due.
    Scheduled,
    /// Below the threshold or not positive: carried into the next statement.
    Carried,
    /// Negative, shown and reset to zero (`negative_balance: "write_off"`).
    WrittenOff,
}

/// A partner's statement for one closed period, in the statement currency.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Statement {
    /// The partner.
    pub partner: String,
    /// `2026-03` for a month, `2026-Q1` for a quarter.
    pub period: String,
    /// The period's first instant.
    pub start: SystemTime,
    /// The period's end (exclusive).
    pub end: SystemTime,
    /// ISO 4217 code of every amount below.
    pub currency: String,
    /// Balance carried in.
    pub opening_balance: Decimal,
    /// Sum of the positive lines.
    pub credits: Decimal,
    /// Sum of the negative lines, zero or less.
    pub debits: Decimal,
    /// opening + credits + debits.
    pub closing_balance: Decimal,
    /// The plan's payout threshold in the statement currency.
    pub threshold: Decimal,
    /// Whether the closing balance is paid out.
    pub payable: bool,
    /// What is paid: the closing balance when payable, else zero.
    pub payout: Decimal,
    /// What the next statement opens with.
    pub carried_forward: Decimal,
    /// A negative balance written off, zero or more.
    pub written_off: Decimal,
    /// The due date, `YYYY-MM-DD` in the plan's zone.
    pub due: String,
    /// Paid, scheduled, carried or written off.
    pub status: StatementStatus,
    /// The entries that became available in the period.
    pub lines: Vec<StatementLine>,
}

/// One entry on a statement.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StatementLine {
    /// The entry id.
    pub entry: String,
    /// The entry's amount in its own currency.
    pub amount: Decimal,
    /// The entry's currency.
    pub currency: String,
    /// The date whose FX rate converted it (`YYYY-MM-DD`), when the currencies differ.
    pub fx_date: Option<String>,
    /// The amount in the statement currency, rounded once.
    pub converted: Decimal,
}

/// What a partner has earned and not yet been paid, in one currency.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Balance {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the entries still in their hold.
    pub pending: Decimal,
    /// Sum of the entries past their hold and not yet paid.
    pub available: Decimal,
}

fn entry((e, s): (&partnerkit::ledger::Entry, &CoreStatus)) -> Entry {
    Entry {
        id: e.id.to_string(),
        partner: e.partner.to_string(),
        kind: match e.kind {
            CoreKind::Commission => EntryKind::Commission,
            CoreKind::Override => EntryKind::Override,
            CoreKind::Bonus => EntryKind::Bonus,
            CoreKind::TrueUp => EntryKind::TrueUp,
            CoreKind::Reversal => EntryKind::Reversal,
            CoreKind::Adjustment => EntryKind::Adjustment,
        },
        event: e.event.to_string(),
        customer: e.customer.as_deref().map(str::to_owned),
        rule: e.rule.as_deref().map(str::to_owned),
        amount: money(e.amount, e.currency),
        currency: e.currency.as_str().to_owned(),
        status: match s {
            CoreStatus::Pending => EntryStatus::Pending,
            CoreStatus::Available => EntryStatus::Available,
            CoreStatus::Paid => EntryStatus::Paid,
        },
        earned_at: time(e.earned_at),
        available_at: time(e.available_at),
    }
}

fn statement(t: &partnerkit::payouts::Statement) -> Statement {
    let c = t.currency;
    Statement {
        partner: t.partner.to_string(),
        period: t.period.label(),
        start: time(t.start),
        end: time(t.end),
        currency: c.as_str().to_owned(),
        opening_balance: money(t.opening_balance, c),
        credits: money(t.credits, c),
        debits: money(t.debits, c),
        closing_balance: money(t.closing_balance, c),
        threshold: money(t.threshold, c),
        payable: t.payable,
        payout: money(t.payout, c),
        carried_forward: money(t.carried_forward, c),
        written_off: money(t.written_off, c),
        due: t.due.to_string(),
        status: match t.status {
            CoreStatementStatus::Paid => StatementStatus::Paid,
            CoreStatementStatus::Scheduled => StatementStatus::Scheduled,
            CoreStatementStatus::Carried => StatementStatus::Carried,
            CoreStatementStatus::WrittenOff => StatementStatus::WrittenOff,
        },
        lines: t
            .lines
            .iter()
            .map(|l| StatementLine {
                entry: l.entry.to_string(),
                amount: money(l.amount, l.currency),
                currency: l.currency.as_str().to_owned(),
                fx_date: l.fx_date.map(|d| d.to_string()),
                converted: money(l.converted, c),
            })
            .collect(),
    }
}
