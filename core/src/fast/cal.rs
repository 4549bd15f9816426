//! Calendar arithmetic on nanosecond instants: months as integers (`year × 12 + month −
//! 1`). In UTC a period lookup is a few integer operations instead of a time-zone query per
//! entry; in any other zone [`Calendar`] asks the canonical path's own functions
//! (`crate::time`), so every local month, day start and hold is the one it computes.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use super::columns::ns_instant as instant;
use crate::time::{Instant, add_days_local, day_start, local_date};

pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

/// The plan's calendar, in its time zone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Calendar {
    tz: Tz,
}

impl Calendar {
    /// The calendar of zone `tz`.
    pub(crate) fn new(tz: Tz) -> Calendar {
        Calendar { tz }
    }

    /// The zone.
    #[inline]
    pub(crate) fn tz(self) -> Tz {
        self.tz
    }

    /// Whether the zone is UTC, whose days are all 24 hours.
    #[inline]
    pub(crate) fn is_utc(self) -> bool {
        self.tz == Tz::UTC
    }

    /// The month containing an instant's local date (`Period::containing`).
    #[inline]
    pub(crate) fn month_of(self, ns: i64) -> i64 {
        if self.is_utc() {
            return month_of(ns);
        }
        let d = local_date(self.tz, instant(ns));
        i64::from(d.year()) * 12 + i64::from(d.month0())
    }

    /// The first instant of a month (`Period::start`: local midnight of its first day),
    /// saturating where that is outside what `i64` nanoseconds count.
    pub(crate) fn month_start(self, month: i64) -> i64 {
        if self.is_utc() {
            return month_start(month);
        }
        let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
        let first = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m as u32, 1));
        match first {
            Some(d) => nanos(day_start(self.tz, d), y),
            None => saturated(y),
        }
    }

    /// The first instant of day `day` (days since 1970-01-01), as `day_start` resolves
    /// local midnight; in `i128`, which holds every day's.
    pub(crate) fn day_start(self, day: i64) -> i128 {
        if self.is_utc() {
            return i128::from(day) * i128::from(DAY_NS);
        }
        let date = NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::TimeDelta::try_days(day)?));
        match date {
            Some(d) => nanos_wide(day_start(self.tz, d)),
            // Past chrono's calendar (hundreds of thousands of years): no instant of the
            // fast path comes near it.
            None if day < 0 => i128::MIN,
            None => i128::MAX,
        }
    }

    /// The instant `days` local days after `ns` at the same local time (`add_days_local`),
    /// or `None` past what `i64` nanoseconds count. Inlined: the merge asks it for every
    /// commission's end of hold, and a UTC plan's answer is one addition.
    #[inline(always)]
    pub(crate) fn add_days(self, ns: i64, days: u32, days_ns: i64) -> Option<i64> {
        if self.is_utc() {
            return ns.checked_add(days_ns);
        }
        add_days_local(self.tz, instant(ns), i64::from(days))?.timestamp_nanos_opt()
    }

    /// Whether local months follow instants over months `from..=to`: no clock change sets
    /// the local time back across midnight of a month's first day. Then month `m` is every
    /// instant from [`Calendar::month_start`]`(m)` up to that of `m + 1`, and a month once
    /// left never comes back. Where a clock went back across that midnight, an hour or so
    /// after a month began belongs to the month before (`Period::containing` goes by local
    /// date), which the fast path does not model.
    ///
    /// Offsets and transitions are whole seconds in the time-zone data, so a clock set back
    /// across midnight shows the last second before it twice, the second time after the
    /// month began.
    pub(crate) fn months_follow_instants(self, from: i64, to: i64) -> bool {
        if self.is_utc() {
            return true;
        }
        use chrono::TimeZone;
        (from..=to).all(|m| {
            let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) + 1);
            let Some(midnight) = i32::try_from(y)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, mo as u32, 1))
                .and_then(|d| d.and_hms_opt(0, 0, 0))
            else {
                return true;
            };
            let start = day_start(self.tz, midnight.date());
            let Some(before) = midnight.checked_sub_signed(chrono::TimeDelta::seconds(1)) else {
                return true;
            };
            match self.tz.from_local_datetime(&before).latest() {
                Some(t) => t.with_timezone(&chrono::Utc) < start,
                None => true,
            }
        })
    }
}

/// An instant's nanoseconds since the Unix epoch, exact: `i128` holds every instant's.
pub(crate) fn nanos_wide(t: Instant) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

/// An instant's nanoseconds, saturating (by the side of year `y`) outside `i64`.
fn nanos(t: Instant, y: i64) -> i64 {
    t.timestamp_nanos_opt().unwrap_or_else(|| saturated(y))
}

/// The saturated instant of a year outside `i64` nanoseconds: before 1677 or after 2262.
fn saturated(y: i64) -> i64 {
    if y < 1970 { i64::MIN } else { i64::MAX }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The month (`year × 12 + month − 1`) containing an instant, in UTC.
#[inline]
pub(crate) fn month_of(ns: i64) -> i64 {
    let (y, m, _) = civil_from_days(ns.div_euclid(DAY_NS));
    y * 12 + m - 1
}

/// The first instant of a month, in nanoseconds (saturating far outside `i64`).
pub(crate) fn month_start(month: i64) -> i64 {
    let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
    days_from_civil(y, m, 1).saturating_mul(DAY_NS)
}

/// Days since 1970-01-01 of the month's last day.
pub(crate) fn month_last_day(month: i64) -> i64 {
    days_from_civil(month.div_euclid(12), month.rem_euclid(12) + 1, 1)
        + i64::from(days_in_month(month))
        - 1
}

fn days_in_month(month: i64) -> u32 {
    let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Period, PeriodUnit};

    #[test]
    fn months_match_the_calendar() {
        let tz = chrono_tz::UTC;
        for s in [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00Z",
            "2026-12-31T23:59:59Z",
            "2027-01-01T00:00:00Z",
            "1700-03-01T00:00:00Z",
            "2200-02-28T00:00:00Z",
        ] {
            let t = crate::time::parse_instant(s).unwrap();
            let ns = t.timestamp_nanos_opt().unwrap();
            let m = month_of(ns);
            let p = Period::containing(PeriodUnit::Month, tz, t);
            assert_eq!(m, i64::from(p.year) * 12 + i64::from(p.index) - 1, "{s}");
            assert_eq!(
                month_start(m),
                p.start(tz).timestamp_nanos_opt().unwrap(),
                "{s}"
            );
            assert_eq!(
                month_start(m + 1),
                p.end(tz).timestamp_nanos_opt().unwrap(),
                "{s}"
            );
            let last = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .unwrap()
                .checked_add_signed(chrono::TimeDelta::days(month_last_day(m)))
                .unwrap();
            assert_eq!(last, p.last_day(), "{s}");
        }
    }

    /// Zones with clock changes of every kind: an hour (New York, London), half an hour
    /// (Lord Howe), a skipped day (Apia, 2011-12-30), a clock set back across midnight of
    /// a month's first day (St. John's, 2009-11-01 00:01 back to 2009-10-31 23:01), and
    /// a zone with none (Tokyo).
    const ZONES: [(&str, i32, i32); 6] = [
        ("America/New_York", 2025, 2027),
        ("Europe/London", 2025, 2027),
        ("Australia/Lord_Howe", 2025, 2027),
        ("Pacific/Apia", 2011, 2012),
        ("America/St_Johns", 2009, 2010),
        ("Asia/Tokyo", 2026, 2026),
    ];

    /// Every calendar question a zone's fold asks gets the canonical path's answer, at
    /// instants 17 minutes apart across whole years (every local time of day, every clock
    /// change) and at every month's first instant.
    #[test]
    fn zones_match_the_canonical_calendar() {
        use crate::time::{Period, PeriodUnit, add_days_local, day_start};
        for (name, from, to) in ZONES {
            let tz: Tz = name.parse().unwrap();
            let cal = Calendar::new(tz);
            let start = NaiveDate::from_ymd_opt(from, 1, 1).unwrap();
            let end = NaiveDate::from_ymd_opt(to + 1, 1, 1).unwrap();
            let (lo, hi) = (
                start.and_hms_opt(0, 0, 0).unwrap().and_utc(),
                end.and_hms_opt(0, 0, 0).unwrap().and_utc(),
            );
            let mut t = lo;
            while t < hi {
                let ns = t.timestamp_nanos_opt().unwrap();
                let p = Period::containing(PeriodUnit::Month, tz, t);
                let m = i64::from(p.year) * 12 + i64::from(p.index) - 1;
                assert_eq!(cal.month_of(ns), m, "{name} {t}");
                for days in [0u32, 1, 30, 45] {
                    let want = add_days_local(tz, t, i64::from(days)).unwrap();
                    let got = cal.add_days(ns, days, i64::from(days) * DAY_NS);
                    assert_eq!(got, want.timestamp_nanos_opt(), "{name} {t} +{days}");
                }
                t += chrono::TimeDelta::minutes(17);
            }
            let (m0, m1) = (i64::from(from) * 12, i64::from(to + 1) * 12);
            for m in m0..m1 {
                let p = Period::containing(
                    PeriodUnit::Month,
                    tz,
                    instant(cal.month_start(m) + DAY_NS * 3),
                );
                assert_eq!(
                    cal.month_start(m),
                    p.start(tz).timestamp_nanos_opt().unwrap(),
                    "{name} {m}"
                );
                let last = days_from_civil(m.div_euclid(12), m.rem_euclid(12) + 1, 1) - 1;
                let date =
                    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::TimeDelta::days(last);
                let want = day_start(tz, date);
                let want = i128::from(want.timestamp_nanos_opt().unwrap());
                assert_eq!(cal.day_start(last), want, "{name} {date}");
            }
        }
    }

    /// `months_follow_instants` says whether any instant after a month's start falls in an
    /// earlier month, as a walk a minute at a time over the 30 hours after every start
    /// finds (a clock goes back a day at most); it is false only at St. John's November
    /// 2009 among these zones and years.
    #[test]
    fn months_follow_instants_where_no_clock_goes_back_across_a_month() {
        let mut not = Vec::new();
        for (name, from, to) in ZONES {
            let cal = Calendar::new(name.parse().unwrap());
            for m in i64::from(from) * 12..i64::from(to + 1) * 12 {
                let start = cal.month_start(m);
                assert!(
                    cal.month_of(start - 1) < m && cal.month_of(start) == m,
                    "{name} {m}"
                );
                let back = (0..30 * 60).any(|k| cal.month_of(start + k * 60_000_000_000) < m);
                assert_eq!(cal.months_follow_instants(m, m), !back, "{name} {m}");
                if back {
                    not.push(format!("{name} {}-{:02}", m / 12, m % 12 + 1));
                }
            }
        }
        assert_eq!(not, ["America/St_Johns 2009-11"]);
        assert!(Calendar::new(Tz::UTC).months_follow_instants(0, 12 * 3000));
    }
}
