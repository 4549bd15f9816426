//! Time: instants, local calendar arithmetic and calendar periods in the plan zone.
//!
//! # Model
//!
//! Every point in time the engine handles is an [`Instant`], a UTC
//! `DateTime`. Instants are totally ordered and unambiguous, so they are what
//! events, holds and period boundaries are compared with.
//!
//! Calendar questions ("which month does this sale belong to?", "when does a
//! 30-day hold end?", "when does Q2 start?") only make sense on a wall clock,
//! and a plan's wall clock is its IANA zone ([`chrono_tz::Tz`]). So calendar
//! reasoning converts an instant to local wall-clock time in the plan zone,
//! does the calendar arithmetic on dates, and converts the resulting wall-clock
//! time back to an instant with [`resolve_local`].
//!
//! The library is pure: nothing here reads the system clock. "Now" is always
//! an argument supplied by the caller.
//!
//! # Wall-clock times that do not map to exactly one instant
//!
//! Turning a local wall-clock time back into an instant has two awkward cases.
//! How they resolve decides which period a boundary transaction falls into
//! and when a hold ends, so they are finance decisions, made once, here:
//!
//! * **Gap** (the clocks jump forward, e.g. 02:30 on a spring DST day, or the
//!   whole of 2011-12-30 in `Pacific/Apia`, which skipped that day when it
//!   moved across the date line): the local time never happened. It resolves
//!   to the *first instant at or after the gap*, which is the transition
//!   instant itself. Rationale: a deadline or period start that falls in a gap
//!   is reached as soon as the wall clock passes it, never before, and every
//!   wall-clock time in one gap maps to the same instant (so "start of
//!   2011-12-30" and "start of 2011-12-31" in Apia are the same instant, and
//!   that skipped day is an empty interval).
//! * **Overlap** (the clocks fall back, e.g. 01:30 on an autumn DST day
//!   happens twice): the local time resolves to the *earliest* of its
//!   instants. Rationale: it keeps period boundaries at the first moment the
//!   wall clock shows the boundary, and it is the conventional choice
//!   (RFC 5545 and most schedulers do the same).
//!
//! Consequently "n days later" is measured on the wall clock: a 30-day hold
//! that crosses a DST change ends at the same local time of day, which is 29
//! days 23 hours or 30 days 1 hour of elapsed time (or 30 days and half an
//! hour in `Australia/Lord_Howe`).
//!
//! # Robustness
//!
//! No function here panics. Functions whose result may leave chrono's date
//! range (about ±262,000 years) return `Option`; the others clamp. A
//! [`Period`] with out-of-range public fields (say month 13) is treated as the
//! nearest valid period rather than rejected, because its fields are public
//! and cannot be validated at construction.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat,
    TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A point in time, always in UTC. Local calendar views are derived from it
/// on demand with a plan zone.
pub type Instant = DateTime<Utc>;

/// Human message shared by all instant parse failures, so every caller sees
/// the same expected format.
const INSTANT_EXPECTED: &str =
    r#"expected an RFC 3339 instant with offset, like "2026-01-15T10:00:00Z""#;

/// Parses an RFC 3339 instant with a mandatory UTC offset, e.g.
/// `"2026-01-15T10:00:00Z"` or `"2026-01-15T10:00:00.250+01:00"`.
///
/// As RFC 3339 permits, `T` and `Z` may be lowercase and a space may separate
/// date and time; fractional seconds beyond nanoseconds are truncated.
///
/// A missing offset is an error rather than "assume UTC": guessing the zone of
/// a money-relevant timestamp silently shifts it between days or periods.
/// Leap seconds (`:60`) are rejected too, because they have no unique
/// position on the timestamp line that payouts and holds are computed on.
///
/// # Errors
///
/// Returns a human-readable message naming the input when it is not a valid
/// RFC 3339 instant with offset.
pub fn parse_instant(s: &str) -> Result<Instant, String> {
    let parsed = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("invalid instant {s:?}: {INSTANT_EXPECTED} ({e})"))?;
    // chrono encodes a leap second as a nanosecond value of one second or more.
    if parsed.nanosecond() >= 1_000_000_000 {
        return Err(format!(
            "invalid instant {s:?}: leap seconds are not supported; {INSTANT_EXPECTED}"
        ));
    }
    Ok(parsed.with_timezone(&Utc))
}

/// Formats an instant canonically: UTC with a `Z` suffix, whole seconds, plus
/// fractional digits (3, 6 or 9) only when they are non-zero.
///
/// `fmt_instant(parse_instant(s)?)` is the canonical form of `s`, so equal
/// instants always print identically whatever offset they were written with.
/// Instants outside years 0000..=9999 (reachable only through arithmetic,
/// never through [`parse_instant`]) print with a signed or longer year that
/// RFC 3339, and hence [`parse_instant`], does not accept.
pub fn fmt_instant(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an IANA time zone name such as `"Europe/London"` or `"UTC"`.
///
/// Names are case-sensitive, as in the tz database.
///
/// # Errors
///
/// Returns a message naming the value when it is not a known zone name.
pub fn parse_zone(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>().map_err(|_| {
        format!(r#"unknown time zone {s:?}: expected an IANA zone name, like "Europe/London""#)
    })
}

/// Parses a calendar date written exactly as `YYYY-MM-DD` (four-digit year,
/// two-digit month and day).
///
/// The shape is checked by hand because chrono's `%Y-%m-%d` also accepts
/// signed or longer years and single-digit fields, and a date in a plan file
/// should have exactly one spelling.
///
/// # Errors
///
/// Returns a message naming the value when it is not of that shape or is not
/// a real date (e.g. `2026-02-30`).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let err = || format!(r#"invalid date {s:?}: expected a date as YYYY-MM-DD, like "2026-01-15""#);
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(err());
    }
    // The shape check guarantees ASCII digits at these positions, so the
    // slices are on char boundaries and the numbers parse.
    let year: i32 = s[0..4].parse().map_err(|_| err())?;
    let month: u32 = s[5..7].parse().map_err(|_| err())?;
    let day: u32 = s[8..10].parse().map_err(|_| err())?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("invalid date {s:?}: no such calendar day"))
}

/// Step of [`resolve_local`]'s fallback walk: modern tzdb offsets change in
/// multiples of 15 minutes, so the walk stops at most this far past the end
/// of a gap.
const GAP_SEARCH_STEP_MINUTES: i64 = 15;
/// Upper bound for that search: the longest real gap (Apia, 2011) is 24 hours.
const GAP_SEARCH_LIMIT_HOURS: i64 = 48;

/// The instant at which local wall-clock time `local` occurs in `tz`.
///
/// * Unique local time: that instant.
/// * Overlap (the time happens twice): the earliest instant.
/// * Gap (the time never happens): the first instant after the gap, i.e. the
///   transition instant. For example 02:30 on 2026-03-08 in
///   `America/New_York` resolves to 03:00 EDT = `2026-03-08T07:00:00Z`.
///
/// This never fails. When the tz data cannot name the end of a gap (no real
/// tzdb zone needs this) or the instant would leave chrono's range (within a
/// day of its ends), it walks the wall clock forward in 15-minute steps for
/// up to 48 hours and takes the first time that exists, and failing that
/// interprets `local` as UTC.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> Instant {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap: the tz data knows exactly where the gap ends, which is the
    // transition instant even when `local` is not on a 15-minute boundary.
    if let Some(end) = chrono_tz::GapInfo::new(&local, &tz).and_then(|g| g.end) {
        return end.with_timezone(&Utc);
    }
    // Defensive fallback, only reached at chrono's range limits with real
    // tzdb data: walk the wall clock forward until it exists again.
    let step = TimeDelta::minutes(GAP_SEARCH_STEP_MINUTES);
    let steps = GAP_SEARCH_LIMIT_HOURS * 60 / GAP_SEARCH_STEP_MINUTES;
    let mut probe = local;
    for _ in 0..steps {
        let Some(next) = probe.checked_add_signed(step) else {
            break;
        };
        probe = next;
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    local.and_utc()
}

/// The start of local calendar day `d` in `tz`: local midnight, resolved with
/// [`resolve_local`].
///
/// Where midnight falls in a gap the day starts at the transition; a day that
/// was skipped entirely (`Pacific/Apia` 2011-12-30) starts at the same instant
/// as the following day, i.e. it is empty.
pub fn day_start(tz: Tz, d: NaiveDate) -> Instant {
    resolve_local(tz, d.and_time(NaiveTime::MIN))
}

/// The local wall-clock date-time of `t` in `tz`, or `None` when it falls
/// outside chrono's range (only possible within a day of that range's ends).
///
/// chrono's own `naive_local()` panics in that case, hence this helper.
fn local_naive(tz: Tz, t: Instant) -> Option<NaiveDateTime> {
    let utc = t.naive_utc();
    utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
}

/// The local calendar date of instant `t` in `tz`.
///
/// An instant exactly at local midnight belongs to the day that starts then.
/// At the very ends of chrono's range, where the local date is not
/// representable, the result is clamped to the first or last representable
/// date.
pub fn local_date(tz: Tz, t: Instant) -> NaiveDate {
    // UTC needs no zone lookup (statements of a UTC plan ask this for every entry).
    if tz == Tz::UTC {
        return t.date_naive();
    }
    match local_naive(tz, t) {
        Some(local) => local.date(),
        // Only overflow past the end of the range is possible here: the local
        // date lies on the side the offset pushes it to.
        None if tz
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
            > 0 =>
        {
            NaiveDate::MAX
        }
        None => NaiveDate::MIN,
    }
}

/// The number of days in `month` of `year`, or `None` for an invalid month
/// or a year outside chrono's range.
fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next_first = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    match next_first {
        Some(nf) => u32::try_from(nf.signed_duration_since(first).num_days()).ok(),
        // December of chrono's last year: it is always 31 days long.
        None => Some(31),
    }
}

/// Adds `n` calendar months to `d` (`n` may be negative), clamping the day to
/// the end of the target month: 2026-01-31 + 1 month is 2026-02-28, and
/// 2024-01-31 + 1 month is 2024-02-29.
///
/// Clamping rather than overflowing into the next month keeps "one month
/// after" inside the following month, which is what monthly schedules and
/// subscription anniversaries mean.
///
/// Returns `None` when the result is outside chrono's date range.
pub fn add_months(d: NaiveDate, n: i32) -> Option<NaiveDate> {
    // Count months from year 0 in i64 so no intermediate step can overflow.
    let total = i64::from(d.year()) * 12 + i64::from(d.month0()) + i64::from(n);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    // rem_euclid(12) is in 0..12, so the conversion cannot fail.
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let day = d.day().min(days_in_month(year, month)?);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Adds `n` calendar months to instant `t` on the wall clock of `tz`: the
/// local date moves by `n` months (day clamped as in [`add_months`]), the
/// local time of day stays, and the result is resolved with
/// [`resolve_local`].
///
/// `n == 0` returns `t` unchanged, even when `t` is the later of two instants
/// sharing an ambiguous local time (re-resolving would move it to the
/// earlier one).
///
/// Returns `None` when the result is outside chrono's range.
pub fn add_months_local(tz: Tz, t: Instant, n: i32) -> Option<Instant> {
    if n == 0 {
        return Some(t);
    }
    let local = local_naive(tz, t)?;
    let date = add_months(local.date(), n)?;
    Some(resolve_local(tz, date.and_time(local.time())))
}

/// Adds `n` calendar days to instant `t` on the wall clock of `tz` (`n` may be
/// negative): the same local time of day `n` local dates later, resolved with
/// [`resolve_local`].
///
/// So a 30-day hold that crosses a DST change ends at the same local time,
/// which is 29 days 23 hours or 30 days 1 hour of elapsed time. `n == 0`
/// returns `t` unchanged, as in [`add_months_local`].
///
/// Returns `None` when the result is outside chrono's range.
pub fn add_days_local(tz: Tz, t: Instant, n: i64) -> Option<Instant> {
    if n == 0 {
        return Some(t);
    }
    // UTC has no transitions: a calendar day is 24 hours (and this is every hold's path in
    // a UTC plan, so skip the zone lookups).
    if tz == Tz::UTC {
        return t.checked_add_signed(chrono::TimeDelta::try_days(n)?);
    }
    let local = local_naive(tz, t)?;
    let days = Days::new(n.unsigned_abs());
    let shifted = if n > 0 {
        local.checked_add_days(days)?
    } else {
        local.checked_sub_days(days)?
    };
    Some(resolve_local(tz, shifted))
}

/// A calendar period unit, written `"month"`, `"quarter"` or `"year"` in
/// plans.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    /// A calendar month.
    Month,
    /// A calendar quarter: January–March, April–June, July–September,
    /// October–December.
    Quarter,
    /// A calendar year.
    Year,
}

impl PeriodUnit {
    /// How many periods of this unit make up a year, i.e. the largest valid
    /// [`Period::index`].
    fn per_year(self) -> u32 {
        match self {
            PeriodUnit::Month => 12,
            PeriodUnit::Quarter => 4,
            PeriodUnit::Year => 1,
        }
    }

    /// The length of one period of this unit in months.
    pub(crate) fn months(self) -> u32 {
        12 / self.per_year()
    }
}

/// One concrete calendar period, e.g. March 2026, 2026-Q1 or 2026.
///
/// `index` is 1..=12 for months, 1..=4 for quarters and 1 for years. The
/// derived order is chronological among periods of the same unit (fields are
/// compared as unit, then year, then index).
///
/// Periods are calendar-only; boundaries become instants only with a zone, via
/// [`Period::start`] and [`Period::end`]. A period covers the half-open
/// interval `[start, end)`, so an instant at exactly local midnight on the
/// first day belongs to it and not to the previous one.
///
/// The fields are public, so a period can hold an out-of-range `index` (e.g.
/// month 13) or a year beyond chrono's range; methods then treat it as the
/// nearest valid period instead of panicking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// The period's unit.
    pub unit: PeriodUnit,
    /// The calendar year.
    pub year: i32,
    /// The position within the year, starting at 1.
    pub index: u32,
}

impl Period {
    /// The period of `unit` containing instant `t`, judged by `t`'s local
    /// date in zone `tz`.
    pub fn containing(unit: PeriodUnit, tz: Tz, t: Instant) -> Period {
        Period::of_date(unit, local_date(tz, t))
    }

    /// The period of `unit` containing local date `d`.
    pub fn of_date(unit: PeriodUnit, d: NaiveDate) -> Period {
        Period {
            unit,
            year: d.year(),
            index: d.month0() / unit.months() + 1,
        }
    }

    /// `index` clamped into the valid range for the unit.
    fn clamped_index(&self) -> u32 {
        self.index.clamp(1, self.unit.per_year())
    }

    /// The first calendar month (1..=12) of the period.
    fn first_month(&self) -> u32 {
        (self.clamped_index() - 1) * self.unit.months() + 1
    }

    /// The date clamped into chrono's range for a year that may lie outside it.
    fn out_of_range_date(&self) -> NaiveDate {
        if self.year < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        }
    }

    /// The first local date of the period.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1)
            .unwrap_or_else(|| self.out_of_range_date())
    }

    /// The last local date of the period: March 2026 → 2026-03-31, 2026-Q1 →
    /// 2026-03-31, 2026 → 2026-12-31, February 2024 → 2024-02-29.
    pub fn last_day(&self) -> NaiveDate {
        let last_month = self.first_month() + self.unit.months() - 1;
        days_in_month(self.year, last_month)
            .and_then(|days| NaiveDate::from_ymd_opt(self.year, last_month, days))
            .unwrap_or_else(|| self.out_of_range_date())
    }

    /// The first instant of the period in `tz`: local midnight of
    /// [`Period::first_day`], resolved with [`resolve_local`].
    pub fn start(&self, tz: Tz) -> Instant {
        day_start(tz, self.first_day())
    }

    /// The end of the period in `tz`, exclusive: the start of the next
    /// period, so consecutive periods tile time without gaps or overlaps.
    pub fn end(&self, tz: Tz) -> Instant {
        self.next().start(tz)
    }

    /// The next period of the same unit (December 2026 → January 2027).
    ///
    /// The year saturates at `i32::MAX`, far outside chrono's range anyway.
    pub fn next(&self) -> Period {
        let index = self.clamped_index();
        if index < self.unit.per_year() {
            Period {
                index: index + 1,
                ..*self
            }
        } else {
            Period {
                year: self.year.saturating_add(1),
                index: 1,
                ..*self
            }
        }
    }

    /// The canonical label: `"2026-03"` for months, `"2026-Q1"` for quarters,
    /// `"2026"` for years.
    pub fn label(&self) -> String {
        let (year, index) = (self.year, self.clamped_index());
        match self.unit {
            PeriodUnit::Month => format!("{year:04}-{index:02}"),
            PeriodUnit::Quarter => format!("{year:04}-Q{index}"),
            PeriodUnit::Year => format!("{year:04}"),
        }
    }
}

impl fmt::Display for Period {
    /// Writes [`Period::label`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test helper: parses a known-good instant literal.
    fn at(s: &str) -> Instant {
        parse_instant(s).expect("test literal is a valid instant")
    }

    /// Test helper: a known-good date literal.
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test literal is a valid date")
    }

    /// Test helper: a known-good local date-time literal.
    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        date(y, mo, d)
            .and_hms_opt(h, mi, 0)
            .expect("test literal is a valid time")
    }

    fn zone(name: &str) -> Tz {
        parse_zone(name).expect("test literal is a valid zone")
    }

    fn month(year: i32, index: u32) -> Period {
        Period {
            unit: PeriodUnit::Month,
            year,
            index,
        }
    }

    fn quarter(year: i32, index: u32) -> Period {
        Period {
            unit: PeriodUnit::Quarter,
            year,
            index,
        }
    }

    // ---- parsing and formatting -------------------------------------------

    #[test]
    fn parse_instant_accepts_offsets_and_fractions() {
        assert_eq!(
            fmt_instant(at("2026-01-15T10:00:00Z")),
            "2026-01-15T10:00:00Z"
        );
        // 10:00 at +01:00 is 09:00 UTC.
        assert_eq!(
            fmt_instant(at("2026-01-15T10:00:00+01:00")),
            "2026-01-15T09:00:00Z"
        );
        // 10:00 at -05:30 is 15:30 UTC.
        assert_eq!(
            fmt_instant(at("2026-01-15T10:00:00-05:30")),
            "2026-01-15T15:30:00Z"
        );
        let t = at("2026-01-15T10:00:00.25Z");
        assert_eq!(t.timestamp_subsec_millis(), 250);
        // AutoSi pads to whole milli/micro/nanoseconds.
        assert_eq!(fmt_instant(t), "2026-01-15T10:00:00.250Z");
        assert_eq!(
            fmt_instant(at("2026-01-15T10:00:00.000001Z")),
            "2026-01-15T10:00:00.000001Z"
        );
        // Lowercase letters and a space separator are valid RFC 3339.
        assert_eq!(at("2026-01-15 10:00:00z"), at("2026-01-15T10:00:00Z"));
        // Zero fractions vanish from the canonical form.
        assert_eq!(
            fmt_instant(at("2026-01-15T10:00:00.000Z")),
            "2026-01-15T10:00:00Z"
        );
    }

    #[test]
    fn parse_instant_rejects_non_instants() {
        for bad in [
            "2026-01-15",
            "2026-01-15T10:00:00",
            "",
            "garbage",
            "2026-13-01T00:00:00Z",
            "2026-01-15T10:00Z",
            " 2026-01-15T10:00:00Z",
            "2026-01-15T10:00:00Z ",
            // A leap second: valid RFC 3339, deliberately unsupported.
            "2016-12-31T23:59:60Z",
        ] {
            let err = parse_instant(bad).expect_err(bad);
            assert!(err.contains("RFC 3339"), "{bad:?}: {err}");
            assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
        }
    }

    #[test]
    fn fmt_instant_round_trips() {
        for s in [
            "2026-01-15T10:00:00Z",
            "1999-12-31T23:59:59.999999999Z",
            "2026-03-08T07:00:00.123Z",
        ] {
            assert_eq!(fmt_instant(at(s)), s);
            assert_eq!(at(&fmt_instant(at(s))), at(s));
        }
    }

    #[test]
    fn parse_zone_and_date() {
        assert_eq!(zone("Europe/London"), chrono_tz::Europe::London);
        assert_eq!(zone("UTC"), chrono_tz::UTC);
        let err = parse_zone("Mars/Olympus").expect_err("not a zone");
        assert!(err.contains("\"Mars/Olympus\""), "{err}");
        assert!(parse_zone("").is_err());

        assert_eq!(parse_date("2026-01-15"), Ok(date(2026, 1, 15)));
        assert_eq!(parse_date("2024-02-29"), Ok(date(2024, 2, 29)));
        for bad in [
            "2025-02-29",
            "2026-1-15",
            "2026-01-5",
            "+2026-01-15",
            "02026-01-15",
            "2026/01/15",
            "2026-01-15T00:00:00Z",
            "",
            "2026-0a-15",
            "２０２６-01-15",
        ] {
            let err = parse_date(bad).expect_err(bad);
            assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
        }
    }

    // ---- periods ------------------------------------------------------------

    #[test]
    fn containing_uses_the_local_date() {
        let london = zone("Europe/London");
        // 23:30 UTC on 31 March is 00:30 BST (UTC+1) on 1 April.
        let t = at("2026-03-31T23:30:00Z");
        assert_eq!(
            Period::containing(PeriodUnit::Month, london, t),
            month(2026, 4)
        );
        assert_eq!(
            Period::containing(PeriodUnit::Quarter, london, t),
            quarter(2026, 2)
        );
        // In January London is on GMT = UTC, so midnight UTC is local midnight.
        let t = at("2026-01-01T00:00:00Z");
        assert_eq!(
            Period::containing(PeriodUnit::Month, london, t),
            month(2026, 1)
        );

        let ny = zone("America/New_York");
        // 04:59:59 UTC at EST (UTC-5) is 23:59:59 on 28 February.
        let t = at("2026-03-01T04:59:59Z");
        assert_eq!(local_date(ny, t), date(2026, 2, 28));
        assert_eq!(Period::containing(PeriodUnit::Month, ny, t), month(2026, 2));
        // One second later is local midnight, which belongs to March.
        let t = at("2026-03-01T05:00:00Z");
        assert_eq!(local_date(ny, t), date(2026, 3, 1));
        assert_eq!(Period::containing(PeriodUnit::Month, ny, t), month(2026, 3));
    }

    #[test]
    fn midnight_belongs_to_the_new_day_and_period() {
        let ny = zone("America/New_York");
        // Local midnight 2027-01-01 at EST is 05:00 UTC.
        let t = at("2027-01-01T05:00:00Z");
        assert_eq!(t, day_start(ny, date(2027, 1, 1)));
        assert_eq!(local_date(ny, t), date(2027, 1, 1));
        let year = Period::containing(PeriodUnit::Year, ny, t);
        assert_eq!(year.label(), "2027");
        assert_eq!(year.start(ny), t);
        // The previous year ends exactly there, exclusively.
        let prev = Period::containing(PeriodUnit::Year, ny, t - TimeDelta::nanoseconds(1));
        assert_eq!(prev.label(), "2026");
        assert_eq!(prev.end(ny), t);
    }

    #[test]
    fn period_bounds_across_dst() {
        let london = zone("Europe/London");
        // BST began 2026-03-29, so 1 April 00:00 BST is 31 March 23:00 UTC.
        let april = month(2026, 4);
        assert_eq!(april.start(london), at("2026-03-31T23:00:00Z"));
        // May 00:00 BST is 30 April 23:00 UTC.
        assert_eq!(april.end(london), at("2026-04-30T23:00:00Z"));

        let ny = zone("America/New_York");
        // DST ends at 02:00 on 2026-11-01, after midnight: midnight is still
        // EDT (UTC-4) = 04:00 UTC. 1 December is EST (UTC-5): 05:00 UTC.
        let november = month(2026, 11);
        assert_eq!(november.start(ny), at("2026-11-01T04:00:00Z"));
        assert_eq!(november.end(ny), at("2026-12-01T05:00:00Z"));
        // November 2026 is therefore 30 days + 1 hour long.
        assert_eq!(
            november.end(ny) - november.start(ny),
            TimeDelta::days(30) + TimeDelta::hours(1)
        );
    }

    #[test]
    fn labels_next_and_last_days() {
        assert_eq!(month(2026, 3).label(), "2026-03");
        assert_eq!(quarter(2026, 1).label(), "2026-Q1");
        assert_eq!(quarter(2026, 1).to_string(), "2026-Q1");
        let y = Period::of_date(PeriodUnit::Year, date(2026, 7, 4));
        assert_eq!(
            y,
            Period {
                unit: PeriodUnit::Year,
                year: 2026,
                index: 1
            }
        );
        assert_eq!(y.label(), "2026");
        assert_eq!(y.next().label(), "2027");

        assert_eq!(month(2026, 12).next(), month(2027, 1));
        assert_eq!(quarter(2026, 4).next(), quarter(2027, 1));
        assert_eq!(month(2026, 4).next(), month(2026, 5));

        assert_eq!(
            Period::of_date(PeriodUnit::Quarter, date(2026, 3, 31)),
            quarter(2026, 1)
        );
        assert_eq!(
            Period::of_date(PeriodUnit::Quarter, date(2026, 4, 1)),
            quarter(2026, 2)
        );
        assert_eq!(
            Period::of_date(PeriodUnit::Quarter, date(2026, 12, 31)),
            quarter(2026, 4)
        );

        assert_eq!(month(2026, 3).first_day(), date(2026, 3, 1));
        assert_eq!(month(2026, 3).last_day(), date(2026, 3, 31));
        assert_eq!(quarter(2026, 1).last_day(), date(2026, 3, 31));
        assert_eq!(quarter(2026, 3).first_day(), date(2026, 7, 1));
        assert_eq!(quarter(2026, 3).last_day(), date(2026, 9, 30));
        assert_eq!(y.first_day(), date(2026, 1, 1));
        assert_eq!(y.last_day(), date(2026, 12, 31));
        // 2024 is a leap year; 2026 is not; 2100 is not (divisible by 100);
        // 2000 is (divisible by 400).
        assert_eq!(month(2024, 2).last_day(), date(2024, 2, 29));
        assert_eq!(month(2026, 2).last_day(), date(2026, 2, 28));
        assert_eq!(month(2100, 2).last_day(), date(2100, 2, 28));
        assert_eq!(month(2000, 2).last_day(), date(2000, 2, 29));

        // Chronological order within a unit.
        assert!(month(2026, 12) < month(2027, 1));
        assert!(quarter(2026, 2) < quarter(2026, 3));
    }

    #[test]
    fn out_of_range_periods_do_not_panic() {
        let utc = chrono_tz::UTC;
        // Month 13 and month 0 clamp to December and January.
        assert_eq!(month(2026, 13).first_day(), date(2026, 12, 1));
        assert_eq!(month(2026, 13).next(), month(2027, 1));
        assert_eq!(month(2026, 0).last_day(), date(2026, 1, 31));
        let huge = month(i32::MAX, 12);
        assert_eq!(huge.first_day(), NaiveDate::MAX);
        assert_eq!(huge.next().year, i32::MAX);
        let _ = (huge.start(utc), huge.end(utc), huge.label());
        let tiny = quarter(i32::MIN, 1);
        assert_eq!(tiny.last_day(), NaiveDate::MIN);
        let _ = (tiny.start(utc), tiny.end(utc), tiny.label());
        // chrono's last representable month.
        assert_eq!(month(NaiveDate::MAX.year(), 12).last_day(), NaiveDate::MAX);
    }

    // ---- calendar arithmetic -------------------------------------------------

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(add_months(date(2026, 1, 31), 1), Some(date(2026, 2, 28)));
        assert_eq!(add_months(date(2024, 1, 31), 1), Some(date(2024, 2, 29)));
        assert_eq!(add_months(date(2026, 3, 31), -1), Some(date(2026, 2, 28)));
        assert_eq!(add_months(date(2026, 1, 15), 12), Some(date(2027, 1, 15)));
        assert_eq!(add_months(date(2024, 2, 29), 12), Some(date(2025, 2, 28)));
        // Crossing year ends both ways: month index 0 - 1 = -1 → December of
        // the previous year.
        assert_eq!(add_months(date(2026, 1, 15), -1), Some(date(2025, 12, 15)));
        assert_eq!(add_months(date(2026, 12, 31), 2), Some(date(2027, 2, 28)));
        assert_eq!(add_months(date(2026, 5, 31), 0), Some(date(2026, 5, 31)));
        assert_eq!(add_months(NaiveDate::MAX, 1), None);
        assert_eq!(add_months(NaiveDate::MIN, -1), None);
        assert_eq!(add_months(date(2026, 1, 1), i32::MAX), None);
        assert_eq!(add_months(date(2026, 1, 1), i32::MIN), None);
    }

    #[test]
    fn add_months_local_keeps_local_time() {
        let london = zone("Europe/London");
        // 31 January 2026 09:00 GMT + 1 month: clamped to 28 February 09:00
        // GMT; + 2 months: 31 March 09:00 BST = 08:00 UTC.
        let t = at("2026-01-31T09:00:00Z");
        assert_eq!(
            add_months_local(london, t, 1),
            Some(at("2026-02-28T09:00:00Z"))
        );
        assert_eq!(
            add_months_local(london, t, 2),
            Some(at("2026-03-31T08:00:00Z"))
        );
        assert_eq!(add_months_local(london, t, 0), Some(t));
        assert_eq!(add_months_local(london, Instant::MAX_UTC, 1), None);
    }

    #[test]
    fn add_days_local_across_new_york_dst() {
        let ny = zone("America/New_York");
        // 10:00 EST (UTC-5) on 1 March + 30 days = 10:00 EDT (UTC-4) on
        // 31 March, i.e. only 29 days 23 hours later.
        let t = at("2026-03-01T15:00:00Z");
        let end = add_days_local(ny, t, 30).expect("in range");
        assert_eq!(end, at("2026-03-31T14:00:00Z"));
        assert_eq!(end - t, TimeDelta::days(30) - TimeDelta::hours(1));
        // And back again.
        assert_eq!(add_days_local(ny, end, -30), Some(t));
        // Across the autumn change the hold is 30 days 1 hour.
        let t = at("2026-10-15T14:00:00Z"); // 10:00 EDT
        let end = add_days_local(ny, t, 30).expect("in range");
        assert_eq!(end, at("2026-11-14T15:00:00Z")); // 10:00 EST
        assert_eq!(end - t, TimeDelta::days(30) + TimeDelta::hours(1));
        assert_eq!(add_days_local(ny, Instant::MAX_UTC, 1), None);
        assert_eq!(add_days_local(ny, Instant::MIN_UTC, i64::MIN), None);
    }

    #[test]
    fn resolve_local_gap_and_overlap_new_york() {
        let ny = zone("America/New_York");
        // 2026-03-08 02:00 EST jumps to 03:00 EDT; 02:30 does not exist and
        // resolves to the transition, 03:00 EDT = 07:00 UTC.
        assert_eq!(
            resolve_local(ny, local(2026, 3, 8, 2, 30)),
            at("2026-03-08T07:00:00Z")
        );
        // Also when the gap time is not on a 15-minute boundary.
        assert_eq!(
            resolve_local(ny, local(2026, 3, 8, 2, 7)),
            at("2026-03-08T07:00:00Z")
        );
        // One day before the gap + 1 day lands in it.
        let before = at("2026-03-07T07:30:00Z"); // 02:30 EST on 7 March
        assert_eq!(
            add_days_local(ny, before, 1),
            Some(at("2026-03-08T07:00:00Z"))
        );
        // 2026-11-01 02:00 EDT falls back to 01:00 EST; 01:30 happens twice,
        // at 05:30 UTC (EDT) and 06:30 UTC (EST). The earliest wins.
        assert_eq!(
            resolve_local(ny, local(2026, 11, 1, 1, 30)),
            at("2026-11-01T05:30:00Z")
        );
        // Adding zero days to the later one leaves it alone.
        let later = at("2026-11-01T06:30:00Z");
        assert_eq!(add_days_local(ny, later, 0), Some(later));
        assert_eq!(
            add_days_local(ny, later, -1),
            Some(at("2026-10-31T05:30:00Z"))
        );
    }

    #[test]
    fn lord_howe_half_hour_shift() {
        let lh = zone("Australia/Lord_Howe");
        // Summer time +11:00 ends 2026-04-05 at 02:00 local, which becomes
        // 01:30 at +10:30 (transition 2026-04-04T15:00:00Z).
        // Midnight of 5 April is still +11:00: 2026-04-04T13:00:00Z.
        assert_eq!(day_start(lh, date(2026, 4, 5)), at("2026-04-04T13:00:00Z"));
        // Midnight of 6 April is +10:30: 2026-04-05T13:30:00Z, so 5 April is
        // 24.5 hours long.
        assert_eq!(day_start(lh, date(2026, 4, 6)), at("2026-04-05T13:30:00Z"));
        // Noon on 4 April (+11:00 = 01:00 UTC) + 1 day = noon on 5 April
        // (+10:30 = 01:30 UTC): 24 h 30 min elapsed.
        let t = at("2026-04-04T01:00:00Z");
        assert_eq!(add_days_local(lh, t, 1), Some(at("2026-04-05T01:30:00Z")));
        // 01:45 on 5 April happens at +11:00 (14:45 UTC) and at +10:30
        // (15:15 UTC); the earliest wins.
        assert_eq!(
            resolve_local(lh, local(2026, 4, 5, 1, 45)),
            at("2026-04-04T14:45:00Z")
        );
        // Summer time starts 2026-10-04 at 02:00 +10:30 (= 15:30 UTC on
        // 3 October) which becomes 02:30 +11:00. 02:10 is in the gap and
        // resolves to the transition, not to 02:40 (which a 15-minute walk
        // from 02:10 would find).
        assert_eq!(
            resolve_local(lh, local(2026, 10, 4, 2, 10)),
            at("2026-10-03T15:30:00Z")
        );
    }

    #[test]
    fn apia_skipped_day() {
        let apia = zone("Pacific/Apia");
        // 2011-12-29 23:59:59 at -10:00 was followed by 2011-12-31 00:00 at
        // +14:00, i.e. 2011-12-30T10:00:00Z. 30 December never happened.
        let jump = at("2011-12-30T10:00:00Z");
        assert_eq!(day_start(apia, date(2011, 12, 30)), jump);
        assert_eq!(day_start(apia, date(2011, 12, 31)), jump);
        assert_eq!(local_date(apia, jump), date(2011, 12, 31));
        // One second earlier is still the 29th.
        assert_eq!(
            local_date(apia, jump - TimeDelta::seconds(1)),
            date(2011, 12, 29)
        );
        // 29 December 12:00 at -10:00 = 22:00 UTC; + 1 day is 30 December
        // 12:00, inside the skipped day, so it resolves to the jump.
        let noon = at("2011-12-29T22:00:00Z");
        assert_eq!(local_date(apia, noon), date(2011, 12, 29));
        assert_eq!(add_days_local(apia, noon, 1), Some(jump));
        // + 2 days is 31 December 12:00 at +14:00 = 22:00 UTC on the 30th.
        assert_eq!(
            add_days_local(apia, noon, 2),
            Some(at("2011-12-30T22:00:00Z"))
        );
        // December 2011 in Apia is 30 days of wall-clock time minus the
        // skipped day: start 2011-12-01 00:00 -10:00 = 10:00 UTC; end
        // 2012-01-01 00:00 +14:00 = 2011-12-31T10:00:00Z.
        let december = month(2011, 12);
        assert_eq!(december.start(apia), at("2011-12-01T10:00:00Z"));
        assert_eq!(december.end(apia), at("2011-12-31T10:00:00Z"));
    }

    #[test]
    fn extremes_do_not_panic() {
        let kiritimati = zone("Pacific/Kiritimati"); // UTC+14
        let honolulu = zone("Pacific/Honolulu"); // UTC-10
        for tz in [kiritimati, honolulu, chrono_tz::UTC] {
            for t in [Instant::MIN_UTC, Instant::MAX_UTC] {
                let _ = local_date(tz, t);
                for unit in [PeriodUnit::Month, PeriodUnit::Quarter, PeriodUnit::Year] {
                    let p = Period::containing(unit, tz, t);
                    let _ = (p.start(tz), p.end(tz), p.label());
                }
                let _ = (add_months_local(tz, t, -1), add_months_local(tz, t, 1));
                let _ = (add_days_local(tz, t, -1), add_days_local(tz, t, 1));
            }
            for d in [NaiveDate::MIN, NaiveDate::MAX] {
                let _ = day_start(tz, d);
            }
            let _ = resolve_local(tz, NaiveDateTime::MAX);
            let _ = resolve_local(tz, NaiveDateTime::MIN);
        }
        // Local date past the end of the range clamps.
        assert_eq!(local_date(kiritimati, Instant::MAX_UTC), NaiveDate::MAX);
        assert_eq!(local_date(honolulu, Instant::MIN_UTC), NaiveDate::MIN);
    }
}
