//! UTC calendar arithmetic on nanosecond instants: months as integers (`year × 12 +
//! month − 1`), so that a period lookup is a few integer operations instead of a time-zone
//! query per entry.

pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

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
}
