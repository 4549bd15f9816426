//! Property tests for `partnerkit::time`, through the public API only.
//!
//! Instants are drawn from 1990..2100 in a handful of zones chosen for their
//! awkwardness: plain UTC, the usual one-hour DST shifts (London, New York),
//! a half-hour DST shift (Lord Howe), a skipped calendar day (Apia,
//! 2011-12-30) and a half-hour standard offset (Kolkata). Uniform sampling
//! rarely lands on a transition, so part of the samples cluster around known
//! transitions, and deterministic sweeps over every day and period of the
//! range complement the random cases.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use partnerkit::time::{
    Instant, Period, PeriodUnit, add_days_local, add_months, add_months_local, day_start,
    fmt_instant, local_date, parse_instant, resolve_local,
};
use proptest::prelude::*;

/// The zones under test.
const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Apia,
    chrono_tz::Asia::Kolkata,
];

const UNITS: [PeriodUnit; 3] = [PeriodUnit::Month, PeriodUnit::Quarter, PeriodUnit::Year];

/// 1990-01-01T00:00:00Z and 2100-01-01T00:00:00Z as Unix timestamps.
const FROM_SECS: i64 = 631_152_000;
const UNTIL_SECS: i64 = 4_102_444_800;

fn zone() -> impl Strategy<Value = Tz> {
    proptest::sample::select(ZONES.to_vec())
}

fn unit() -> impl Strategy<Value = PeriodUnit> {
    proptest::sample::select(UNITS.to_vec())
}

/// Instants in 1990..2100, at whole seconds half of the time because period
/// and day boundaries are whole seconds; a third of them near a known
/// transition (read as UTC, which is within a day of the local transition).
fn instant() -> impl Strategy<Value = Instant> {
    let uniform = (
        FROM_SECS..UNTIL_SECS,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
    )
        .prop_map(|(secs, nanos)| {
            DateTime::from_timestamp(secs, nanos).expect("1990..2100 is in chrono's range")
        });
    let near = local_time().prop_map(|local| local.and_utc());
    prop_oneof![2 => uniform, 1 => near]
}

/// Dates in 1990..2100.
fn date() -> impl Strategy<Value = NaiveDate> {
    instant().prop_map(|t| t.date_naive())
}

/// Local wall-clock times of 2026 (and Apia's 2011) transitions in the zones
/// under test, written as UTC-less local text.
const TRANSITIONS: [&str; 7] = [
    "2026-03-08T02:00:00", // New York: gap 02:00-03:00
    "2026-11-01T01:00:00", // New York: overlap 01:00-02:00
    "2026-03-29T01:00:00", // London: gap 01:00-02:00
    "2026-10-25T01:00:00", // London: overlap 01:00-02:00
    "2026-04-05T01:30:00", // Lord Howe: overlap 01:30-02:00
    "2026-10-04T02:00:00", // Lord Howe: gap 02:00-02:30
    "2011-12-30T00:00:00", // Apia: gap of the whole day
];

/// Local wall-clock date-times: uniformly in 1990..2100 on whole minutes, or
/// within a day and a bit of a known transition so that gaps and overlaps
/// are actually exercised.
fn local_time() -> impl Strategy<Value = NaiveDateTime> {
    let uniform = (FROM_SECS / 60..UNTIL_SECS / 60).prop_map(|minutes| {
        DateTime::from_timestamp(minutes * 60, 0)
            .expect("1990..2100 is in chrono's range")
            .naive_utc()
    });
    let near = (
        proptest::sample::select(TRANSITIONS.to_vec()),
        -30 * 3600i64..30 * 3600,
    )
        .prop_map(|(anchor, secs)| {
            let anchor: NaiveDateTime = anchor.parse().expect("valid local literal");
            anchor + TimeDelta::seconds(secs)
        });
    prop_oneof![uniform, near]
}

/// The wall-clock time of `t` in `tz` (safe here: far from chrono's limits).
fn wall(tz: Tz, t: Instant) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// True when local date `d` never happened in `tz` (a skipped day).
fn is_skipped(tz: Tz, d: NaiveDate) -> bool {
    let next = d.succ_opt().expect("in range");
    day_start(tz, d) == day_start(tz, next)
}

/// Checks the invariants that tie a date to its day start.
fn check_day(tz: Tz, d: NaiveDate) {
    let start = day_start(tz, d);
    let seen = local_date(tz, start);
    if is_skipped(tz, d) {
        assert!(seen > d, "{tz} {d}: skipped day starts on {seen}");
    } else {
        assert_eq!(seen, d, "{tz} {d}: day start is on another date");
        // The instant before the start is an earlier date.
        assert!(local_date(tz, start - TimeDelta::nanoseconds(1)) < d);
    }
}

proptest! {
    #[test]
    fn period_contains_its_instants(tz in zone(), unit in unit(), t in instant()) {
        let p = Period::containing(unit, tz, t);
        let (start, end) = (p.start(tz), p.end(tz));
        prop_assert!(start <= t, "{p} starts {} after {}", fmt_instant(start), fmt_instant(t));
        prop_assert!(t < end, "{p} ends {} at or before {}", fmt_instant(end), fmt_instant(t));
        prop_assert_eq!(end, p.next().start(tz));
        prop_assert_eq!(Period::containing(unit, tz, start), p);
        prop_assert!(p < p.next());
        prop_assert!(p.first_day() <= local_date(tz, t) && local_date(tz, t) <= p.last_day());
        prop_assert_eq!(p.last_day().succ_opt(), Some(p.next().first_day()));
    }

    #[test]
    fn local_date_is_between_day_starts(tz in zone(), t in instant()) {
        let d = local_date(tz, t);
        prop_assert!(day_start(tz, d) <= t);
        prop_assert!(t < day_start(tz, d.succ_opt().expect("in range")));
    }

    #[test]
    fn day_start_lands_on_its_day(tz in zone(), d in date()) {
        check_day(tz, d);
    }

    #[test]
    fn add_months_clamps_into_the_right_month(d in date(), n in -2400i32..2400) {
        let r = add_months(d, n).expect("in range");
        // The target month, counted in months since year 0.
        let months = |x: NaiveDate| i64::from(x.year()) * 12 + i64::from(x.month0());
        prop_assert_eq!(months(r), months(d) + i64::from(n));
        prop_assert!(r.day() <= d.day());
        let last = Period::of_date(PeriodUnit::Month, r).last_day().day();
        prop_assert_eq!(r.day(), d.day().min(last));
    }

    #[test]
    fn add_months_local_moves_the_wall_clock(tz in zone(), t in instant(), n in -240i32..240) {
        let r = add_months_local(tz, t, n).expect("in range");
        let target = add_months(local_date(tz, t), n).expect("in range")
            .and_time(wall(tz, t).time());
        check_resolved(tz, target, r)?;
    }

    #[test]
    fn add_days_local_moves_the_wall_clock(tz in zone(), t in instant(), n in -1000i64..1000) {
        let r = add_days_local(tz, t, n).expect("in range");
        let target = wall(tz, t) + TimeDelta::days(n);
        check_resolved(tz, target, r)?;
        if n == 0 {
            prop_assert_eq!(r, t);
        }
    }

    #[test]
    fn resolve_local_is_exact_earliest_or_gap_end(tz in zone(), local in local_time()) {
        check_resolved(tz, local, resolve_local(tz, local))?;
    }

    #[test]
    fn instants_round_trip_through_text(t in instant()) {
        let s = fmt_instant(t);
        prop_assert_eq!(parse_instant(&s), Ok(t));
        prop_assert!(s.ends_with('Z'));
    }
}

/// Checks that `r` is how wall-clock time `target` resolves in `tz`: either
/// exactly `target` and the earliest such instant, or, when `target` falls in
/// a gap, the instant the gap ends (the wall clock reads before `target` one
/// nanosecond earlier and after it at `r`).
fn check_resolved(tz: Tz, target: NaiveDateTime, r: Instant) -> Result<(), TestCaseError> {
    let before = wall(tz, r - TimeDelta::nanoseconds(1));
    if wall(tz, r) == target {
        // Earliest: no instant up to 3 hours earlier shows the same time
        // (overlaps in these zones are at most an hour).
        for minutes in 1..=180 {
            let earlier = r - TimeDelta::minutes(minutes);
            prop_assert_ne!(
                wall(tz, earlier),
                target,
                "{} is not earliest",
                fmt_instant(r)
            );
        }
    } else {
        prop_assert!(
            wall(tz, r) > target,
            "{target} resolved to {}",
            fmt_instant(r)
        );
        prop_assert!(before < target, "{target} resolved after the gap end");
    }
    Ok(())
}

/// Every day of 1990..2100 in every zone: day starts land on their day, and
/// only genuinely skipped days (Apia's 2011-12-30) are empty.
#[test]
fn every_day_has_a_consistent_start() {
    let first = NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid");
    let last = NaiveDate::from_ymd_opt(2100, 1, 1).expect("valid");
    for tz in ZONES {
        let mut skipped = Vec::new();
        for d in first.iter_days().take_while(|d| *d < last) {
            check_day(tz, d);
            if is_skipped(tz, d) {
                skipped.push(d.to_string());
            }
        }
        let expected: &[&str] = if tz == chrono_tz::Pacific::Apia {
            &["2011-12-30"]
        } else {
            &[]
        };
        assert_eq!(skipped, expected, "{tz}");
    }
}

/// Every month, quarter and year of 1990..2100 in every zone: periods tile
/// time, each one non-empty, with no gap or overlap between neighbours.
#[test]
fn periods_tile_time() {
    for tz in ZONES {
        for unit in UNITS {
            let first = Period::of_date(unit, NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid"));
            let mut p = first;
            while p.year < 2100 {
                let next = p.next();
                assert!(p.start(tz) < p.end(tz), "{tz} {p} is empty");
                assert_eq!(p.end(tz), next.start(tz), "{tz} {p}");
                assert_eq!(
                    Period::containing(unit, tz, p.end(tz) - TimeDelta::nanoseconds(1)),
                    p,
                    "{tz} {p}: last instant is elsewhere"
                );
                p = next;
            }
        }
    }
}

/// The skipped Apia day, through the public API.
#[test]
fn apia_skipped_day_is_empty() {
    let apia = chrono_tz::Pacific::Apia;
    let d = NaiveDate::from_ymd_opt(2011, 12, 30).expect("valid");
    let jump = parse_instant("2011-12-30T10:00:00Z").expect("valid");
    assert_eq!(day_start(apia, d), jump);
    assert_eq!(local_date(apia, jump).to_string(), "2011-12-31");
}
