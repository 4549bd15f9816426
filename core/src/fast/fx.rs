//! Statements in partners' own currencies (SPEC §2.4, §9): each entry converted to its
//! partner's payout currency as `payouts` converts a statement line, and the threshold
//! converted at each statement's last day.
//!
//! The conversions are the canonical path's own arithmetic ([`FxTable::quote`] and
//! [`Quote::raw`], then the plan's rounding once), looked up once per currency and date
//! rather than once per entry. Under `fx_date: "earned"` a reversal converts as a fraction
//! of its original's converted amount (`State::converted`), so that a full refund nets to
//! zero in the payout currency too. A rate the input lacks is an error only for a
//! statement the report shows (a closed period): the entries it would convert are marked,
//! and [`super::out::settle`] hands the input to the canonical path when a statement needs
//! one, so that the error is the canonical path's own.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use super::columns::NONE;
use super::compile::FastPlan;
use super::out::Cols;
use super::run::{Bail, bail};
use crate::fx::{FxTable, Quote};
use crate::input::{FxRate, Partner};
use crate::money::Currency;
use crate::plan::FxDate;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAY_CE: i64 = 719_163;

/// The partners' statement currencies and the rates that convert to them.
pub(super) struct Payout {
    table: FxTable,
    /// Per declared partner: its statement currency when it is not the plan's.
    pub(super) currency: Vec<Option<Currency>>,
    /// Quotes looked up, by target currency and date (`None`: no rate, or one the
    /// canonical path cannot invert).
    quotes: HashMap<(Currency, NaiveDate), Option<Quote>, foldhash::fast::RandomState>,
}

impl Payout {
    /// The statement currencies of `partners` and the rates of `fx`: `None` when every
    /// statement is in the plan currency. Rates the canonical path refuses (two rates for
    /// one pair and date, more than the limit) hand the input to it, whether or not a
    /// statement needs them: the canonical path checks them all.
    pub(super) fn new(
        plan: &FastPlan,
        partner_currency: bool,
        partners: &[Partner],
        fx: &[FxRate],
        limits: &crate::Limits,
    ) -> Result<Option<Payout>, Bail> {
        if fx.len() > limits.max_fx_rates {
            return bail("more FX rates than the canonical limit");
        }
        let table =
            FxTable::new(fx).map_err(|_| Bail("FX rates the canonical path refuses".into()))?;
        let currency: Vec<Option<Currency>> = partners
            .iter()
            .map(|p| {
                p.payout_currency
                    .filter(|&c| partner_currency && c != plan.currency)
            })
            .collect();
        if currency.iter().all(Option::is_none) {
            return Ok(None);
        }
        Ok(Some(Payout {
            table,
            currency,
            quotes: HashMap::default(),
        }))
    }

    /// `amount` (in units of `10^-from_digits` of the plan currency `from`) converted to
    /// `to` on `date`, rounded once with `plan`'s rounding, in `to`'s minor units; `None`
    /// where the canonical conversion fails (no rate, an overflow).
    fn convert(
        &mut self,
        plan: &FastPlan,
        amount: Decimal,
        to: Currency,
        date: NaiveDate,
    ) -> Option<i128> {
        let quote = match self.quotes.get(&(to, date)) {
            Some(q) => *q,
            None => {
                let q = self.table.quote(plan.currency, to, date).ok();
                self.quotes.insert((to, date), q);
                q
            }
        }?;
        let raw = quote.raw(amount).ok()?;
        minor(plan.rounding.round(raw, to.digits()), to)
    }

    /// The plan's threshold in `to`, converted on `date` as a statement converts it, in
    /// `to`'s minor units; `None` where the canonical conversion fails.
    pub(super) fn threshold(&mut self, plan: &FastPlan, to: Currency, date: i64) -> Option<i128> {
        let t = Decimal::try_from_i128_with_scale(plan.threshold.mantissa, plan.threshold.scale)
            .ok()?;
        self.convert(plan, t, to, day(date)?)
    }

    /// Every entry's amount in its partner's statement currency (in that currency's minor
    /// units; an entry of a partner paid in the plan currency as it is), and the entries
    /// no rate converts. `last_day` gives the last day (days since 1970-01-01) of the
    /// statement period of an availability instant, for `fx_date: "statement"`.
    pub(super) fn convert_entries(
        &mut self,
        plan: &FastPlan,
        out: &Cols,
        mut last_day: impl FnMut(i64) -> i64,
    ) -> (Vec<i128>, Vec<usize>) {
        let n = out.len();
        let mut converted = Vec::with_capacity(n);
        let mut failed = Vec::new();
        // Per reversed entry (of a partner paid in another currency): what its reversals
        // have taken back so far, in the plan currency's minor units.
        let mut reversed: HashMap<u32, i128, foldhash::fast::RandomState> = HashMap::default();
        let local =
            |ns: i64| crate::time::local_date(plan.cal.tz(), DateTime::from_timestamp_nanos(ns));
        for i in 0..n {
            let amount = out.amount[i];
            let Some(to) = self.currency[out.partner[i] as usize] else {
                converted.push(amount);
                continue;
            };
            let value = |m: i128| Decimal::try_from_i128_with_scale(m, plan.digits).ok();
            let orig = out.reverses[i];
            let c = if orig != NONE && plan.fx_date == FxDate::Earned {
                // A fraction of the original's conversion at the original's date.
                let o = orig as usize;
                let before = reversed.get(&orig).copied().unwrap_or(0);
                let total = before - amount;
                reversed.insert(orig, total);
                let original = out.amount[o];
                value(original)
                    .and_then(|v| self.convert(plan, v, to, local(out.earned[o])))
                    .and_then(|c| {
                        let cum = |x: i128| -> Option<Decimal> {
                            let c = Decimal::try_from_i128_with_scale(c, to.digits()).ok()?;
                            if x == original {
                                return Some(c);
                            }
                            let raw = c.checked_mul(value(x)?)?.checked_div(value(original)?)?;
                            Some(plan.rounding.round(raw, to.digits()))
                        };
                        minor(cum(total)? - cum(before)?, to).map(|m| -m)
                    })
            } else {
                let date = match plan.fx_date {
                    FxDate::Earned => Some(local(out.earned[i])),
                    FxDate::Available => Some(local(out.available[i])),
                    FxDate::Statement => day(last_day(out.available[i])),
                };
                date.zip(value(amount))
                    .and_then(|(d, v)| self.convert(plan, v, to, d))
            };
            match c {
                Some(c) => converted.push(c),
                None => {
                    converted.push(0);
                    failed.push(i);
                }
            }
        }
        (converted, failed)
    }
}

/// The date of a day number (days since 1970-01-01).
fn day(d: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(d.checked_add(UNIX_EPOCH_DAY_CE)?).ok()?)
}

/// A rounded amount of `to` in its minor units.
fn minor(d: Decimal, to: Currency) -> Option<i128> {
    let scale = d.scale();
    let digits = to.digits();
    if scale > digits {
        return None;
    }
    d.mantissa()
        .checked_mul(super::compile::pow10(digits - scale))
}
