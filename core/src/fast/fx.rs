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

use rayon::prelude::*;

use super::cal::DAY_NS;
use super::columns::NONE;
use super::compile::{FastPlan, pow10, round_div};
use super::out::{Cols, Periods};
use super::run::{Bail, bail};
use crate::fx::{FxTable, Quote};
use crate::input::{FxRate, Partner};
use crate::money::{Currency, Rounding};
use crate::plan::FxDate;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAY_CE: i64 = 719_163;

/// The partners' statement currencies and the input's rates.
pub(super) struct Payout {
    table: FxTable,
    /// Per declared partner: its statement currency when it is not the plan's.
    pub(super) currency: Vec<Option<Currency>>,
}

/// Entries a task of [`Payout::convert_entries`] converts.
const CHUNK: usize = 1 << 16;

impl Payout {
    /// The statement currencies of `partners` and the rates of `fx`. Rates the canonical
    /// path refuses (two rates for one pair and date, more than the limit) hand the input
    /// to it, whether or not anything needs them: the canonical path checks them all.
    pub(super) fn new(
        plan: &FastPlan,
        partner_currency: bool,
        partners: &[Partner],
        fx: &[FxRate],
        limits: &crate::Limits,
    ) -> Result<Payout, Bail> {
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
        Ok(Payout { table, currency })
    }

    /// Whether a statement is in another currency than the plan's.
    pub(super) fn partners(&self) -> bool {
        self.currency.iter().any(Option::is_some)
    }

    /// Checks that every payment in another currency than the plan's converts to it on
    /// its local date, as the canonical path converts a credited payment's base and its
    /// commission (`Engine::to_plan`). A payment without a rate, or a conversion past
    /// `Decimal`'s range, hands the input to the canonical path. A percentage of at most
    /// 100 converts wherever its base does; `flats` are the commissions of flat rewards in
    /// such currencies, `(row, amount)`, which may exceed their base and are checked
    /// apart. (The canonical path converts a base only for a payment it credits or that
    /// other partners' touches influenced; every foreign payment is checked here, so an
    /// uncredited one without a rate falls back where the canonical path would not need
    /// its rate.)
    pub(super) fn check_payments(
        &self,
        plan: &FastPlan,
        ev: &crate::fast::Events,
        flats: &[(u32, i128)],
    ) -> Result<(), Bail> {
        let to = plan.currency;
        let ok = (0..ev.len())
            .into_par_iter()
            .with_min_len(CHUNK)
            .map_init(
                || self.converter(),
                |cv, r| {
                    if ev.kind[r] != crate::input::Kind::Payment {
                        return true;
                    }
                    match ev.currency[r] {
                        Some(from) if from != to => {
                            let base = super::run::revenue(plan, ev, r);
                            cv.fits(plan, i128::from(base), from, to, On::Instant(ev.at[r]))
                        }
                        _ => true,
                    }
                },
            )
            .all(|ok| ok)
            && flats
                .par_iter()
                .with_min_len(CHUNK)
                .map_init(
                    || self.converter(),
                    |cv, &(r, amount)| {
                        let r = r as usize;
                        ev.currency[r].is_some_and(|from| {
                            cv.fits(plan, amount, from, to, On::Instant(ev.at[r]))
                        })
                    },
                )
                .all(|ok| ok);
        if ok {
            Ok(())
        } else {
            bail("a payment in another currency without a rate to the plan's on its date")
        }
    }

    /// A converter with its own cache of quotes (one per task).
    pub(super) fn converter(&self) -> Converter<'_> {
        Converter {
            table: &self.table,
            last: None,
            last_day: None,
            quotes: HashMap::default(),
        }
    }

    /// Every entry's amount in its partner's statement currency (in that currency's minor
    /// units; an entry of a partner paid in the plan currency as it is), and the entries
    /// no rate converts, in order. `periods` finds the statement period of an availability
    /// instant, for `fx_date: "statement"`.
    ///
    /// Entries convert on rayon's threads, a slice each; under `fx_date: "earned"` the
    /// reversals then convert in order on one, each a fraction of its original's
    /// conversion and of what its earlier reversals took back.
    pub(super) fn convert_entries(
        &self,
        plan: &FastPlan,
        out: &Cols,
        entry_currency: Option<&[Currency]>,
        periods: Periods,
    ) -> (Vec<i128>, Vec<usize>) {
        let from = |i: usize| entry_currency.map_or(plan.currency, |c| c[i]);
        let n = out.len();
        let earned = plan.fx_date == FxDate::Earned;
        let mut converted = vec![0i128; n];
        // Per slice: the entries no rate converts (reversals under `earned` left for later).
        let failed: Vec<Vec<usize>> = converted
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(k, conv)| {
                let mut cv = self.converter();
                let mut periods = periods;
                let mut failed = Vec::new();
                for (j, c) in conv.iter_mut().enumerate() {
                    let i = k * CHUNK + j;
                    let amount = out.amount[i];
                    let (from, to) = (from(i), self.to(plan, out.partner[i]));
                    if from == to {
                        *c = amount;
                        continue;
                    }
                    if earned && out.reverses[i] != NONE {
                        continue;
                    }
                    let on = match plan.fx_date {
                        FxDate::Earned => Some(On::Instant(out.earned[i])),
                        FxDate::Available => Some(On::Instant(out.available[i])),
                        FxDate::Statement => {
                            let p = periods.of(out.available[i]);
                            day(periods.last_day(p)).map(On::Date)
                        }
                    };
                    match on.and_then(|on| cv.convert(plan, amount, from, to, on)) {
                        Some(x) => *c = x,
                        None => failed.push(i),
                    }
                }
                failed
            })
            .collect();
        let mut failed: Vec<usize> = failed.into_iter().flatten().collect();
        if earned {
            let mut late = Vec::new();
            // Per reversed entry: what its reversals have taken back so far, in the plan
            // currency's minor units.
            let mut reversed: HashMap<u32, i128, foldhash::fast::RandomState> = HashMap::default();
            for i in (0..n).filter(|&i| out.reverses[i] != NONE) {
                let (from, to) = (from(i), self.to(plan, out.partner[i]));
                if from == to {
                    continue;
                }
                let orig = out.reverses[i];
                let before = reversed.get(&orig).copied().unwrap_or(0);
                let total = before - out.amount[i];
                reversed.insert(orig, total);
                let o = orig as usize;
                // The original (a commission of the same partner) was converted at its own
                // earned date above, unless no rate did.
                let c = match failed.binary_search(&o) {
                    Ok(_) => None,
                    Err(_) => fraction(plan, converted[o], out.amount[o], before, total, from, to),
                };
                match c {
                    Some(x) => converted[i] = x,
                    None => late.push(i),
                }
            }
            if !late.is_empty() {
                failed.extend(late);
                failed.sort_unstable();
            }
        }
        (converted, failed)
    }

    /// The statement currency of partner `p`.
    fn to(&self, plan: &FastPlan, p: u32) -> Currency {
        self.currency[p as usize].unwrap_or(plan.currency)
    }
}

/// A reversal's conversion under `fx_date: "earned"` (`State::converted`): of an original
/// of `original` (`from`'s minor units) converted to `c` (`to`'s minor units), what takes
/// its reversed total from `before` to `total` (`from`'s minor units), negative.
fn fraction(
    plan: &FastPlan,
    c: i128,
    original: i128,
    before: i128,
    total: i128,
    from: Currency,
    to: Currency,
) -> Option<i128> {
    let value = |m: i128, digits: u32| Decimal::try_from_i128_with_scale(m, digits).ok();
    let cum = |x: i128| -> Option<Decimal> {
        let c = value(c, to.digits())?;
        if x == original {
            return Some(c);
        }
        let raw = c
            .checked_mul(value(x, from.digits())?)?
            .checked_div(value(original, from.digits())?)?;
        Some(plan.rounding.round(raw, to.digits()))
    };
    minor(cum(total)? - cum(before)?, to).map(|m| -m)
}

/// A conversion's currencies and date.
type Pair = (Currency, Currency, NaiveDate);

/// The day a conversion takes its rate on: a date, or the plan's local date of an instant.
#[derive(Clone, Copy)]
pub(super) enum On {
    Date(NaiveDate),
    Instant(i64),
}

/// Conversions between currencies, with the quotes looked up so far.
pub(super) struct Converter<'a> {
    table: &'a FxTable,
    /// The quote looked up last (entries come about in date order).
    last: Option<(Pair, Option<Quote>)>,
    /// In a UTC plan, the quote looked up last for an instant, by UTC day number: an
    /// instant's date is then a division, with no calendar lookup while the day repeats.
    last_day: Option<(Currency, Currency, i64, Option<Quote>)>,
    /// Quotes looked up, by currencies and date (`None`: no rate, or one the canonical
    /// path cannot invert).
    quotes: HashMap<Pair, Option<Quote>, foldhash::fast::RandomState>,
}

impl Converter<'_> {
    fn quote(&mut self, from: Currency, to: Currency, date: NaiveDate) -> Option<Quote> {
        let key = (from, to, date);
        if let Some((k, q)) = self.last
            && k == key
        {
            return q;
        }
        let q = match self.quotes.get(&key) {
            Some(q) => *q,
            None => {
                let q = self.table.quote(from, to, date).ok();
                self.quotes.insert(key, q);
                q
            }
        };
        self.last = Some((key, q));
        q
    }

    /// The quote from `from` to `to` on `on`.
    #[inline]
    fn quote_on(&mut self, plan: &FastPlan, from: Currency, to: Currency, on: On) -> Option<Quote> {
        match on {
            On::Date(date) => self.quote(from, to, date),
            On::Instant(ns) if plan.cal.is_utc() => {
                let d = ns.div_euclid(DAY_NS);
                if let Some((f, t, x, q)) = self.last_day
                    && (f, t, x) == (from, to, d)
                {
                    return q;
                }
                let q = day(d).and_then(|date| self.quote(from, to, date));
                self.last_day = Some((from, to, d, q));
                q
            }
            On::Instant(ns) => {
                let date =
                    crate::time::local_date(plan.cal.tz(), DateTime::from_timestamp_nanos(ns));
                self.quote(from, to, date)
            }
        }
    }

    /// `amount` (minor units of `from`) converted to `to` on `on`, rounded once with the
    /// plan's rounding, in `to`'s minor units; `None` where the canonical conversion fails
    /// (no rate, an overflow).
    pub(super) fn convert(
        &mut self,
        plan: &FastPlan,
        amount: i128,
        from: Currency,
        to: Currency,
        on: On,
    ) -> Option<i128> {
        let quote = self.quote_on(plan, from, to, on)?;
        converted(plan, amount, from, to, quote)
    }

    /// Whether `amount` (minor units of `from`) converts to `to` on `on` as the canonical
    /// path converts it: a rate, and no overflow. A direct rate whose product the integer
    /// route holds, or an inverse one of at least 10^-9 (an `i64` amount over it stays
    /// within `Decimal`'s 7.9 × 10^28), cannot overflow: only other cases convert.
    fn fits(
        &mut self,
        plan: &FastPlan,
        amount: i128,
        from: Currency,
        to: Currency,
        on: On,
    ) -> bool {
        match self.quote_on(plan, from, to, on) {
            None => false,
            Some(Quote::Times(rate))
                if times(amount, from.digits(), rate, to.digits(), plan.rounding).is_some() =>
            {
                true
            }
            Some(Quote::Over(rate))
                if rate >= Decimal::new(1, 9) && amount.abs() <= i128::from(i64::MAX) =>
            {
                true
            }
            Some(quote) => converted(plan, amount, from, to, quote).is_some(),
        }
    }

    /// The plan's threshold in `to`, converted on `date` (days since 1970-01-01) as a
    /// statement converts it, in `to`'s minor units; `None` where the canonical conversion
    /// fails.
    pub(super) fn threshold(&mut self, plan: &FastPlan, to: Currency, date: i64) -> Option<i128> {
        let t = plan.threshold;
        let quote = self.quote(plan.currency, to, day(date)?)?;
        decimal(
            plan,
            quote,
            Decimal::try_from_i128_with_scale(t.mantissa, t.scale).ok()?,
            to,
        )
    }
}

/// `amount` (minor units of `from`) converted to `to` by `quote`, rounded once with the
/// plan's rounding, in `to`'s minor units: in integers where [`times`] holds the product,
/// else in `Decimal`s; `None` where the canonical conversion fails (an overflow).
fn converted(
    plan: &FastPlan,
    amount: i128,
    from: Currency,
    to: Currency,
    quote: Quote,
) -> Option<i128> {
    if let Quote::Times(rate) = quote
        && let Some(x) = times(amount, from.digits(), rate, to.digits(), plan.rounding)
    {
        return Some(x);
    }
    decimal(
        plan,
        quote,
        Decimal::try_from_i128_with_scale(amount, from.digits()).ok()?,
        to,
    )
}

/// `amount` converted by `quote` in `Decimal`s and rounded once with the plan's rounding
/// (`FxTable::convert`'s own steps), in `to`'s minor units.
fn decimal(plan: &FastPlan, quote: Quote, amount: Decimal, to: Currency) -> Option<i128> {
    let raw = quote.raw(amount).ok()?;
    minor(plan.rounding.round(raw, to.digits()), to)
}

/// `amount × rate` in integers, rounded once: `Decimal`'s product is exact while its
/// mantissa fits 96 bits and its scale 28 digits, and [`round_div`] rounds an exact
/// quotient as [`crate::money::Rounding::round`] does, so this is the canonical
/// conversion. `None` outside those bounds (the caller then takes `Decimal`'s way).
fn times(amount: i128, from: u32, rate: Decimal, to: u32, mode: Rounding) -> Option<i128> {
    let product = amount.checked_mul(rate.mantissa())?;
    let scale = from + rate.scale();
    if product.unsigned_abs() >= 1 << 96 || scale > 28 {
        return None;
    }
    if scale <= to {
        product.checked_mul(pow10(to - scale))
    } else {
        Some(round_div(product, pow10(scale - to), mode))
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
    d.mantissa().checked_mul(pow10(digits - scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    /// The fast path's conversions are the canonical table's, in every rounding mode, for
    /// direct and inverse quotes, between currencies of 0, 2 and 3 decimals, with rates of
    /// few and many digits and amounts from a minor unit to the integer form's bounds: the
    /// integer route (`times`) where it applies, `Decimal`'s elsewhere.
    #[test]
    fn conversions_are_the_canonical_tables() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        let rates = [
            "0.9137",
            "151.37",
            "0.0066",
            "1.2719",
            "3",
            "0.333333333333",
            "123456.789",
            "0.0000000001234567891234",
        ];
        let amounts: Vec<i128> = [1i128, 5, 49, 50, 99, 101, 12_345, 999_999_995]
            .into_iter()
            .chain([10i128.pow(15) + 5, (1 << 62) + 7, (1 << 95) / 7])
            .flat_map(|a| [a, -a])
            .collect();
        let (mut integer, mut checked) = (0, 0);
        for (plan_cur, to) in [
            ("USD", "EUR"),
            ("USD", "JPY"),
            ("JPY", "BHD"),
            ("BHD", "USD"),
        ] {
            for rounding in ["half_up", "half_even", "down", "up"] {
                let plan = Plan::from_json(&format!(
                    r#"{{"schema": "partnerkit/plan@1", "id": "x", "currency": "{plan_cur}",
                        "rounding": "{rounding}",
                        "rules": [{{"id": "r", "reward": {{"percent": "10"}}}}]}}"#
                ))
                .expect("plan");
                let fast = FastPlan::compile(&plan).expect("compiles");
                let to = Currency::parse(to).expect("currency");
                for rate in rates {
                    let rate: Decimal = rate.parse().expect("rate");
                    for inverse in [false, true] {
                        let (from, into) = if inverse {
                            (to, fast.currency)
                        } else {
                            (fast.currency, to)
                        };
                        let table = FxTable::new(&[FxRate {
                            date,
                            from,
                            to: into,
                            rate,
                        }])
                        .expect("table");
                        let mut cv = Converter {
                            table: &table,
                            last: None,
                            last_day: None,
                            quotes: HashMap::default(),
                        };
                        // Both ways: a statement in `to` of the plan's entries, and
                        // entries in `to` converted to the plan currency (a payment's
                        // check, or its statement in the plan currency).
                        for (a_cur, b_cur) in [(fast.currency, to), (to, fast.currency)] {
                            for &a in &amounts {
                                let want = Decimal::try_from_i128_with_scale(a, a_cur.digits())
                                    .ok()
                                    .and_then(|d| {
                                        table.convert(d, a_cur, b_cur, date, fast.rounding).ok()
                                    })
                                    .and_then(|(d, _)| minor(d, b_cur));
                                let got = cv.convert(&fast, a, a_cur, b_cur, On::Date(date));
                                assert_eq!(got, want, "{a} {a_cur}→{b_cur} at {rate} {rounding}");
                                // Whether it converts at all, without the amount.
                                if i64::try_from(a).is_ok() {
                                    let fits = cv.fits(&fast, a, a_cur, b_cur, On::Date(date));
                                    assert_eq!(fits, want.is_some(), "{a} {a_cur}→{b_cur}");
                                }
                                checked += 1;
                                let direct = a_cur == from;
                                if direct
                                    && times(a, a_cur.digits(), rate, b_cur.digits(), fast.rounding)
                                        .is_some()
                                {
                                    integer += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        // Both routes ran.
        assert!(integer > checked / 4, "{integer} of {checked}");
        assert!(integer < checked / 2, "{integer} of {checked}");
    }

    /// An instant converts at the rate of the plan's local date of it (the canonical
    /// `local_date`), in UTC (through the day-number cache) and in zones ahead of and
    /// behind it, around midnights and a change of rate, with pairs interleaved so that
    /// the caches change hands.
    #[test]
    fn instants_take_the_rate_of_their_local_date() {
        let eur = Currency::parse("EUR").expect("EUR");
        let usd = Currency::parse("USD").expect("USD");
        let date = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
        let rate = |r: &str, d: u32, from, to| FxRate {
            date: date(d),
            from,
            to,
            rate: r.parse().expect("rate"),
        };
        let table = FxTable::new(&[
            rate("1.10", 1, eur, usd),
            rate("1.20", 2, eur, usd),
            rate("1.30", 3, eur, usd),
        ])
        .expect("table");
        let start = DateTime::parse_from_rfc3339("2026-02-28T00:00:00Z")
            .expect("instant")
            .timestamp_nanos_opt()
            .expect("ns");
        let mut instants = Vec::new();
        for half_hour in 0..4 * 48 {
            let ns = start + half_hour * DAY_NS / 48;
            instants.extend([ns - 1, ns, ns + 1]);
        }
        let mut checked = 0;
        for zone in ["UTC", "Pacific/Kiritimati", "America/New_York"] {
            let plan = Plan::from_json(&format!(
                r#"{{"schema": "partnerkit/plan@1", "id": "x", "currency": "USD",
                    "timezone": "{zone}",
                    "rules": [{{"id": "r", "reward": {{"percent": "10"}}}}]}}"#
            ))
            .expect("plan");
            let fast = FastPlan::compile(&plan).expect("compiles");
            let converter = || Converter {
                table: &table,
                last: None,
                last_day: None,
                quotes: HashMap::default(),
            };
            let mut cv = converter();
            for &ns in &instants {
                let local =
                    crate::time::local_date(fast.cal.tz(), DateTime::from_timestamp_nanos(ns));
                for (from, to) in [(eur, usd), (usd, eur)] {
                    let got = cv.convert(&fast, 10_000, from, to, On::Instant(ns));
                    let want = converter().convert(&fast, 10_000, from, to, On::Date(local));
                    assert_eq!(got, want, "{zone} {ns} {from}→{to}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 2 * 3 * 4 * 48);
    }
}
