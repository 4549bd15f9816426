//! Payout statements (SPEC §9): one per partner per closed period with activity.
//!
//! An entry belongs to the statement of the period in which it became available (clawbacks
//! become available at the refund). A statement pays its whole closing balance when that is
//! positive and at least the threshold; otherwise the balance carries forward (or, when
//! negative under `negative_balance: "write_off"`, is shown and reset to zero).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::engine::State;
use crate::error::{Error, ErrorCode, Result};
use crate::fx::AppliedRate;
use crate::money::Currency;
use crate::plan::{FxDate, NegativeBalance, PayoutCurrency};
use crate::time::{Instant, Period, day_start, local_date};

/// What became of a statement as of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementStatus {
    /// Payable and due on or before `as_of`: paid.
    Paid,
    /// Payable, due after `as_of`.
    Scheduled,
    /// Below the threshold or not positive: carried into the next statement.
    Carried,
    /// Negative, shown and reset to zero (`negative_balance: "write_off"`).
    WrittenOff,
}

impl StatementStatus {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Paid => "paid",
            StatementStatus::Scheduled => "scheduled",
            StatementStatus::Carried => "carried",
            StatementStatus::WrittenOff => "written_off",
        }
    }
}

/// One entry on a statement, converted to the statement currency.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The entry id.
    pub entry: Arc<str>,
    /// The entry's amount in its own currency.
    pub amount: Decimal,
    /// The entry's currency.
    pub currency: Currency,
    /// The rate used, when the currencies differ.
    pub rate: Option<AppliedRate>,
    /// The date whose rate was used, when the currencies differ.
    pub fx_date: Option<NaiveDate>,
    /// The amount in the statement currency, rounded once.
    pub converted: Decimal,
}

/// A partner's statement for one period.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The partner.
    pub partner: Arc<str>,
    /// The period.
    pub period: Period,
    /// Its first instant.
    pub start: Instant,
    /// Its end (exclusive).
    pub end: Instant,
    /// Statement currency.
    pub currency: Currency,
    /// Balance carried in.
    pub opening_balance: Decimal,
    /// Sum of the positive lines.
    pub credits: Decimal,
    /// Sum of the negative lines (clawbacks and penalties), zero or less.
    pub debits: Decimal,
    /// opening + credits + debits.
    pub closing_balance: Decimal,
    /// The plan threshold, in the statement currency.
    pub threshold: Decimal,
    /// Whether the closing balance is paid out.
    pub payable: bool,
    /// What is paid (the closing balance when payable, else 0).
    pub payout: Decimal,
    /// What the next statement opens with.
    pub carried_forward: Decimal,
    /// What was written off (a negative balance reset to zero), zero or more.
    pub written_off: Decimal,
    /// Last day of the period + `net_days`.
    pub due: NaiveDate,
    /// Paid, scheduled, carried or written off, as of the report.
    pub status: StatementStatus,
    /// The entries that became available in the period.
    pub lines: Vec<Line>,
}

/// Statements of every partner, and for each entry the statement (index) that paid it.
///
/// `owner[i]` is the index of entry `i`'s partner.
pub(crate) fn build(
    state: &State,
    owner: &[usize],
    as_of: Instant,
) -> Result<(Vec<Statement>, Vec<Option<usize>>)> {
    build_for(state, owner, as_of, None)
}

/// [`build`] for one partner (index `only`) or all: a partner's balance needs only its own
/// statements.
pub(crate) fn build_for(
    state: &State,
    owner: &[usize],
    as_of: Instant,
    only: Option<usize>,
) -> Result<(Vec<Statement>, Vec<Option<usize>>)> {
    let doc = state.plan.doc();
    let tz = state.plan.tz();
    let unit = doc.payouts.period;
    let mut by_partner: Vec<Vec<usize>> = vec![Vec::new(); state.partners.len()];
    // Credit is applied by the host to the partner's account: never paid out in cash.
    let credit = state.plan.versions().iter().any(|(_, v)| {
        v.doc()
            .rules
            .iter()
            .any(|r| r.reward.instrument == crate::plan::Instrument::Credit)
    });
    for (i, &pi) in owner.iter().enumerate() {
        if credit && state.entries[i].instrument() == crate::plan::Instrument::Credit {
            continue;
        }
        by_partner[pi].push(i);
    }
    // Statements are listed by partner id.
    let mut partner_order: Vec<usize> = (0..state.partners.len()).collect();
    partner_order.sort_by(|&a, &b| state.partner_ids[a].cmp(&state.partner_ids[b]));
    let mut out = Vec::new();
    let mut paid_by: Vec<Option<usize>> = vec![None; state.entries.len()];
    for pi in partner_order {
        let mut idx = std::mem::take(&mut by_partner[pi]);
        if idx.is_empty() || only.is_some_and(|o| o != pi) {
            continue;
        }
        let partner = &state.partner_ids[pi];
        let p = &state.partners[pi];
        let currency = match doc.payouts.currency {
            PayoutCurrency::Partner => p.payout_currency.unwrap_or(doc.currency),
            PayoutCurrency::Plan => doc.currency,
        };
        idx.sort_by(|&a, &b| {
            let (ea, eb) = (&state.entries[a], &state.entries[b]);
            (ea.available_at, &ea.id).cmp(&(eb.available_at, &eb.id))
        });
        let mut buckets: BTreeMap<Period, Vec<usize>> = BTreeMap::new();
        for i in idx {
            let per = Period::containing(unit, tz, state.entries[i].available_at);
            buckets.entry(per).or_default().push(i);
        }
        let Some(first) = buckets.keys().next().copied() else {
            continue;
        };
        let mut carry = Decimal::ZERO;
        let mut unsettled: Vec<usize> = Vec::new();
        let mut per = first;
        let mut emitted = 0usize;
        while per.end(tz) <= as_of {
            let lines_idx = buckets.get(&per).map(Vec::as_slice).unwrap_or(&[]);
            if lines_idx.is_empty() && carry.is_zero() {
                if buckets.range(per..).next().is_none() {
                    break;
                }
                per = per.next();
                continue;
            }
            let mut lines = Vec::with_capacity(lines_idx.len());
            let (mut credits, mut debits) = (Decimal::ZERO, Decimal::ZERO);
            for &i in lines_idx {
                let line = convert_line(state, i, currency, per)?;
                if line.converted.is_sign_negative() {
                    debits += line.converted;
                } else {
                    credits += line.converted;
                }
                lines.push(line);
                unsettled.push(i);
            }
            let threshold = if currency == doc.currency {
                doc.payouts.threshold.get()
            } else {
                state
                    .fx
                    .convert(
                        doc.payouts.threshold.get(),
                        doc.currency,
                        currency,
                        per.last_day(),
                        doc.rounding,
                    )?
                    .0
            };
            let opening = carry;
            let closing = opening + credits + debits;
            let payable = closing > Decimal::ZERO && closing >= threshold;
            let due = per
                .last_day()
                .checked_add_days(chrono::Days::new(u64::from(doc.payouts.net_days)))
                .unwrap_or(NaiveDate::MAX);
            let (status, payout, carried, written_off) = if payable {
                let st = if as_of >= day_start(tz, due) {
                    StatementStatus::Paid
                } else {
                    StatementStatus::Scheduled
                };
                (st, closing, Decimal::ZERO, Decimal::ZERO)
            } else if closing < Decimal::ZERO
                && doc.lifecycle.negative_balance == NegativeBalance::WriteOff
            {
                (
                    StatementStatus::WrittenOff,
                    Decimal::ZERO,
                    Decimal::ZERO,
                    -closing,
                )
            } else {
                (
                    StatementStatus::Carried,
                    Decimal::ZERO,
                    closing,
                    Decimal::ZERO,
                )
            };
            let sidx = out.len();
            if payable {
                for i in unsettled.drain(..) {
                    paid_by[i] = Some(sidx);
                }
            } else if status == StatementStatus::WrittenOff {
                unsettled.clear();
            }
            carry = carried;
            emitted += 1;
            // A balance carried forward gives a statement every period, so without this
            // ceiling a distant `as_of` (year 9999) turns a one-kilobyte input into a hundred
            // thousand statements (found by fuzzing).
            let max = state.limits.max_statements_per_partner;
            if emitted > max {
                return Err(Error::new(
                    ErrorCode::LimitExceeded,
                    "as_of",
                    format!(
                        "max_statements_per_partner is {max}, and partner \"{partner}\" would \
                         have more by as_of: its balance carries forward every period (the host \
                         can raise it through Limits)"
                    ),
                ));
            }
            out.push(Statement {
                partner: partner.clone(),
                period: per,
                start: per.start(tz),
                end: per.end(tz),
                currency,
                opening_balance: opening,
                credits,
                debits,
                closing_balance: closing,
                threshold,
                payable,
                payout,
                carried_forward: carried,
                written_off,
                due,
                status,
                lines,
            });
            per = per.next();
        }
    }
    Ok((out, paid_by))
}

fn convert_line(state: &State, i: usize, currency: Currency, per: Period) -> Result<Line> {
    let e = &state.entries[i];
    let doc = state.plan.doc();
    let tz = state.plan.tz();
    if e.currency == currency {
        return Ok(Line {
            entry: e.id.clone(),
            amount: e.amount,
            currency: e.currency,
            rate: None,
            fx_date: None,
            converted: e.amount,
        });
    }
    let date = match doc.payouts.fx_date {
        FxDate::Earned => local_date(tz, e.fx_anchor),
        FxDate::Available => local_date(tz, e.available_at),
        FxDate::Statement => per.last_day(),
    };
    // Under "earned" a reversal converts at its original's date, and so as a fraction of
    // the original's converted amount: a full refund nets to zero in the payout currency.
    let same_date = doc.payouts.fx_date == FxDate::Earned;
    let (converted, rate) = state.converted(i, currency, date, same_date)?;
    Ok(Line {
        entry: e.id.clone(),
        amount: e.amount,
        currency: e.currency,
        rate,
        fx_date: Some(date),
        converted,
    })
}
