//! FX rates (SPEC §2.4): the latest rate dated on or before the conversion date, the
//! inverse of the opposite direction when no direct rate applies, never a guess.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Error, ErrorCode, Result};
use crate::input::FxRate;
use crate::money::{Currency, Rounding};

/// The rate used for one conversion, for explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedRate {
    /// Units of the target currency per unit of the source, as given or inverted.
    pub rate: Decimal,
    /// The date of the quote used.
    pub quoted: NaiveDate,
    /// True when the quote was for the opposite direction and was inverted.
    pub inverse: bool,
}

/// All rates of an input, indexed by currency pair, each list sorted by date.
#[derive(Clone, Debug, Default)]
pub struct FxTable {
    pairs: BTreeMap<(Currency, Currency), Vec<(NaiveDate, Decimal)>>,
}

impl FxTable {
    /// Indexes `rates`; two different rates for the same pair and date are an error.
    pub fn new(rates: &[FxRate]) -> Result<FxTable> {
        // (date, rate, index in the input) per pair; the index names a conflict's path.
        type Quotes = Vec<(NaiveDate, Decimal, usize)>;
        let mut pairs: BTreeMap<(Currency, Currency), Quotes> = BTreeMap::new();
        for (i, r) in rates.iter().enumerate() {
            pairs
                .entry((r.from, r.to))
                .or_default()
                .push((r.date, r.rate, i));
        }
        let mut out = BTreeMap::new();
        for (pair, mut list) in pairs {
            list.sort_by_key(|(d, _, i)| (*d, *i));
            for w in list.windows(2) {
                if w[0].0 == w[1].0 && w[0].1 != w[1].1 {
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        format!("fx[{}].rate", w[1].2),
                        format!(
                            "two different {}→{} rates on {}: {} and {}",
                            pair.0, pair.1, w[0].0, w[0].1, w[1].1
                        ),
                    ));
                }
            }
            list.dedup_by_key(|(d, _, _)| *d);
            out.insert(pair, list.into_iter().map(|(d, r, _)| (d, r)).collect());
        }
        Ok(FxTable { pairs: out })
    }

    fn latest(
        &self,
        from: Currency,
        to: Currency,
        date: NaiveDate,
    ) -> Option<(NaiveDate, Decimal)> {
        let list = self.pairs.get(&(from, to))?;
        let n = list.partition_point(|(d, _)| *d <= date);
        n.checked_sub(1).map(|i| list[i])
    }

    /// The rate from `from` to `to` on `date`; `MissingFxRate` when there is none.
    pub fn rate(&self, from: Currency, to: Currency, date: NaiveDate) -> Result<AppliedRate> {
        if let Some((quoted, rate)) = self.latest(from, to, date) {
            return Ok(AppliedRate {
                rate,
                quoted,
                inverse: false,
            });
        }
        if let Some((quoted, rate)) = self.latest(to, from, date) {
            let inv = Decimal::ONE
                .checked_div(rate)
                .ok_or_else(|| Error::overflow("fx"))?;
            return Ok(AppliedRate {
                rate: inv,
                quoted,
                inverse: true,
            });
        }
        Err(missing(from, to, date))
    }

    /// How to convert from `from` to `to` on `date` (the latest direct quote, else the latest
    /// opposite one to divide by); `MissingFxRate` when there is none. With
    /// [`Quote::raw`], the arithmetic of [`FxTable::convert`] before its one rounding: the
    /// fast path looks a quote up once per date and applies it to many amounts.
    pub(crate) fn quote(&self, from: Currency, to: Currency, date: NaiveDate) -> Result<Quote> {
        if let Some((_, rate)) = self.latest(from, to, date) {
            return Ok(Quote::Times(rate));
        }
        if let Some((_, rate)) = self.latest(to, from, date) {
            // The inverse must exist, as `rate` computes it for the explanation.
            Decimal::ONE
                .checked_div(rate)
                .ok_or_else(|| Error::overflow("fx"))?;
            return Ok(Quote::Over(rate));
        }
        Err(missing(from, to, date))
    }

    /// Converts `amount` of `from` into `to` on `date`, rounded once to `to`'s minor unit.
    /// An inverse rate divides by the quoted rate rather than multiplying by a truncated
    /// inverse, so that no precision is lost before the one rounding.
    pub fn convert(
        &self,
        amount: Decimal,
        from: Currency,
        to: Currency,
        date: NaiveDate,
        rounding: Rounding,
    ) -> Result<(Decimal, Option<AppliedRate>)> {
        if from == to {
            return Ok((rounding.round(amount, to.digits()), None));
        }
        let applied = self.rate(from, to, date)?;
        let raw = self.quote(from, to, date)?.raw(amount)?;
        Ok((rounding.round(raw, to.digits()), Some(applied)))
    }
}

/// `MissingFxRate`: no rate converts `from` into `to` on `date`.
fn missing(from: Currency, to: Currency, date: NaiveDate) -> Error {
    Error::new(
        ErrorCode::MissingFxRate,
        "fx",
        format!("no {from}→{to} (or {to}→{from}) rate dated on or before {date}"),
    )
}

/// A conversion's arithmetic on one date: times the direct quote, or over the opposite one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    /// Multiply by the direct rate.
    Times(Decimal),
    /// Divide by the rate quoted for the opposite direction.
    Over(Decimal),
}

impl Quote {
    /// The converted amount before rounding; an overflow is `InvalidValue` at `fx`.
    pub(crate) fn raw(self, amount: Decimal) -> Result<Decimal> {
        match self {
            Quote::Times(r) => amount.checked_mul(r),
            Quote::Over(r) => amount.checked_div(r),
        }
        .ok_or_else(|| Error::overflow("fx"))
    }
}
