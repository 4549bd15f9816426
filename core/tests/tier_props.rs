//! Property tests for volume bands, overrides and tiers, through the public JSON API.
//!
//! - Retroactive bands: once the period is over, every event of it has been paid exactly
//!   what it earns at the final rate (its own entry plus its top-ups), so the period's
//!   commissions and true-ups add up to Σ round(base × final rate) (SPEC §4).
//! - Graduated bands pay exactly the piecewise integral of the band rates over the running
//!   total: the unrounded amounts of a period add up to ∫ rate, and each entry is that
//!   amount rounded once.
//! - Overrides never exceed their share of the child's net commission: whatever the
//!   refunds, at every cut an override's net is round(percent × its child's net), and it is
//!   never negative nor more than it was (SPEC §7, §9).
//! - Tiers, bonuses and bands are driven by event instants and `as_of` only: the order the
//!   events are given in does not matter, and a report as of an earlier instant has exactly
//!   the tier changes and entries of the later one up to that instant.

use std::collections::BTreeMap;
use std::str::FromStr;

use partnerkit::money::Rounding;
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const ROUNDINGS: [&str; 4] = ["half_up", "half_even", "down", "up"];

fn rounding(name: &str) -> Rounding {
    serde_json::from_value(json!(name)).expect("rounding name")
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("decimal string")).expect("decimal")
}

fn cents(c: i64) -> String {
    Decimal::new(c, 2).to_string()
}

/// Basis points (hundredths of a percent) as a percent string.
fn pct(bp: i64) -> String {
    Decimal::new(bp, 2).normalize().to_string()
}

fn evaluate(input: &Value) -> Value {
    let report = partnerkit::evaluate_json(&input.to_string())
        .unwrap_or_else(|e| panic!("evaluation failed: {}\n{input}", e.to_json()));
    serde_json::from_str(&report.to_canonical_json()).expect("canonical JSON")
}

/// One partner, one customer, sales in March 2026 (one every six hours).
fn band_input(mode: &str, bands: &[(i64, i64)], sales: &[i64], rounding: &str) -> Value {
    let bands: Vec<Value> = bands
        .iter()
        .map(|(from, bp)| json!({"from": from.to_string(), "percent": pct(*bp)}))
        .collect();
    let mut events = vec![
        json!({"id": "t", "kind": "touch", "at": "2026-03-01T00:00:00Z",
        "partner": "ana", "customer": "c", "channel": "link"}),
    ];
    for (i, c) in sales.iter().enumerate() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z").unwrap()
            + chrono::TimeDelta::hours(6 * i as i64);
        events.push(json!({"id": format!("p{i:02}"), "kind": "payment",
            "at": at.to_rfc3339(), "customer": "c", "amount": cents(*c), "currency": "USD"}));
    }
    json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "bands", "currency": "USD",
                 "rounding": rounding,
                 "rules": [{"id": "vol", "reward": {"tiered": {"metric": "revenue",
                     "period": "month", "mode": mode, "bands": bands}}}]},
        "partners": [{"id": "ana"}],
        "events": events,
        "as_of": "2026-04-01T00:00:00Z",
    })
}

/// Band starts (whole dollars, the first 0) and percents in basis points.
fn bands(monotone: bool, min_bp: i64) -> impl Strategy<Value = Vec<(i64, i64)>> {
    (
        min_bp..=2_000_i64,
        proptest::collection::vec((1_i64..=6_000, 0_i64..=1_500), 1..=3),
    )
        .prop_map(move |(first, rest)| {
            let mut out = vec![(0, first)];
            let (mut from, mut bp) = (0, first);
            for (step, d) in rest {
                from += step;
                bp = if monotone {
                    bp + d
                } else {
                    min_bp + (d * 7 + bp) % 2_500
                };
                out.push((from, bp));
            }
            out
        })
}

/// The percent (basis points) of the band a running total (in cents) is in.
fn band_bp(bands: &[(i64, i64)], total_cents: i64) -> i64 {
    bands
        .iter()
        .rev()
        .find(|(from, _)| from * 100 <= total_cents)
        .map_or(bands[0].1, |b| b.1)
}

fn amount_of(entries: &[Value], kinds: &[&str]) -> Decimal {
    entries
        .iter()
        .filter(|e| kinds.contains(&e["kind"].as_str().unwrap_or("")))
        .map(|e| dec(&e["amount"]))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn retroactive_pays_every_event_at_the_final_rate(
        bands in bands(true, 0),
        sales in proptest::collection::vec(1_i64..=400_000, 1..10),
        r in select(ROUNDINGS.to_vec()),
    ) {
        let report = evaluate(&band_input("retroactive", &bands, &sales, r));
        let entries = report["entries"].as_array().unwrap();
        let total: i64 = sales.iter().sum();
        let rate = Decimal::new(band_bp(&bands, total), 4);
        let want: Decimal = sales
            .iter()
            .map(|c| rounding(r).round(Decimal::new(*c, 2) * rate, 2))
            .sum();
        prop_assert_eq!(amount_of(entries, &["commission", "true_up"]), want);
        for e in entries.iter().filter(|e| e["kind"] == "true_up") {
            prop_assert!(dec(&e["amount"]) > Decimal::ZERO, "a true-up only tops up: {e}");
        }
    }

    #[test]
    fn graduated_pays_the_integral_of_the_bands(
        bands in bands(false, 100),
        sales in proptest::collection::vec(100_i64..=400_000, 1..10),
        r in select(ROUNDINGS.to_vec()),
    ) {
        let report = evaluate(&band_input("graduated", &bands, &sales, r));
        let entries = report["entries"].as_array().unwrap();
        prop_assert_eq!(entries.len(), sales.len());
        // ∫ over [0, total) of the band rate, band by band.
        let total = Decimal::new(sales.iter().sum(), 2);
        let mut integral = Decimal::ZERO;
        for (i, (from, bp)) in bands.iter().enumerate() {
            let lo = Decimal::from(*from);
            let hi = bands.get(i + 1).map_or(total, |n| Decimal::from(n.0).min(total));
            if hi > lo {
                integral += (hi - lo) * Decimal::new(*bp, 4);
            }
        }
        let mut computed = Decimal::ZERO;
        for e in entries {
            let c = dec(&e["explain"]["computed"]);
            prop_assert_eq!(dec(&e["amount"]), rounding(r).round(c, 2));
            computed += c;
        }
        prop_assert_eq!(computed, integral);
    }
}

/// A chain child → p1 → p2 → p3 with overrides on three levels, payments of the child's
/// customers and refunds of them.
#[derive(Clone, Debug)]
struct Chain {
    rule_bp: i64,
    levels: Vec<i64>,
    suspended: Vec<bool>,
    rounding: &'static str,
    /// (amount in cents, refunds as (hours after the previous, thousandths of what is left)).
    payments: Vec<(i64, Vec<(i64, i64)>)>,
}

fn chain() -> impl Strategy<Value = Chain> {
    (
        100_i64..=5_000,
        proptest::collection::vec(0_i64..=3_300, 3),
        proptest::collection::vec(proptest::bool::weighted(0.3), 3),
        select(ROUNDINGS.to_vec()),
        proptest::collection::vec(
            (
                1_i64..=50_000,
                proptest::collection::vec((1_i64..=400, 1_i64..=1_000), 0..4),
            ),
            1..4,
        ),
    )
        .prop_map(|(rule_bp, levels, suspended, rounding, payments)| Chain {
            rule_bp,
            levels,
            suspended,
            rounding,
            payments,
        })
}

impl Chain {
    /// The input as of `as_of`, and every refund's instant.
    fn input(&self, as_of: &str) -> (Value, Vec<String>) {
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-05T00:00:00Z").unwrap();
        let at = |h: i64| (start + chrono::TimeDelta::hours(h)).to_rfc3339();
        let mut partners = vec![json!({"id": "kid", "parent": "p1"})];
        for l in 1..=3 {
            let mut p = json!({"id": format!("p{l}")});
            if l < 3 {
                p["parent"] = json!(format!("p{}", l + 1));
            }
            if self.suspended[l - 1] {
                p["status"] = json!([{"at": "2026-01-01T00:00:00Z", "status": "suspended"}]);
            }
            partners.push(p);
        }
        let mut events = Vec::new();
        let mut cuts = Vec::new();
        for (i, (amount, refunds)) in self.payments.iter().enumerate() {
            let c = format!("c{i}");
            let h = 24 * i as i64;
            events.push(json!({"id": format!("t{i}"), "kind": "touch", "at": at(h),
                "partner": "kid", "customer": c, "channel": "link"}));
            events.push(
                json!({"id": format!("pay{i}"), "kind": "payment", "at": at(h + 1),
                "customer": c, "amount": cents(*amount), "currency": "USD"}),
            );
            let (mut left, mut t) = (*amount, h + 1);
            for (k, (dh, permille)) in refunds.iter().enumerate() {
                let r = (left * permille / 1_000).max(1).min(left);
                if left == 0 {
                    break;
                }
                left -= r;
                t += dh;
                cuts.push(at(t));
                events.push(
                    json!({"id": format!("r{i}-{k}"), "kind": "refund", "at": at(t),
                    "payment": format!("pay{i}"), "amount": cents(r)}),
                );
            }
        }
        let overrides: Vec<Value> = self
            .levels
            .iter()
            .enumerate()
            .map(|(i, bp)| json!({"level": i + 1, "percent": pct(*bp)}))
            .collect();
        let input = json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "mlm", "currency": "USD",
                     "rounding": self.rounding, "overrides": overrides,
                     "rules": [{"id": "base", "reward": {"percent": pct(self.rule_bp)}}]},
            "partners": partners,
            "events": events,
            "as_of": as_of,
        });
        (input, cuts)
    }
}

/// Net amount of each entry (its amount plus its reversals), by entry id.
fn nets(entries: &[Value]) -> BTreeMap<String, Decimal> {
    let mut net: BTreeMap<String, Decimal> = BTreeMap::new();
    for e in entries {
        let amount = dec(&e["amount"]);
        let id = match e["kind"].as_str() {
            Some("reversal") => e["explain"]["reverses"].as_str().unwrap().to_owned(),
            _ => e["id"].as_str().unwrap().to_owned(),
        };
        *net.entry(id).or_default() += amount;
    }
    net
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn overrides_never_exceed_their_share_of_the_child_net(c in chain()) {
        let (_, cuts) = c.input("2026-12-31T00:00:00Z");
        let mut as_ofs = cuts;
        as_ofs.push("2026-12-31T00:00:00+00:00".to_owned());
        for as_of in as_ofs {
            let (input, _) = c.input(&as_of);
            let report = evaluate(&input);
            let entries = report["entries"].as_array().unwrap();
            let net = nets(entries);
            for o in entries.iter().filter(|e| e["kind"] == "override") {
                let w = &o["explain"]["override"];
                let child = w["child_entry"].as_str().unwrap();
                let percent = dec(&w["percent"]);
                let level = w["level"].as_u64().unwrap() as usize;
                prop_assert!(!c.suspended[level - 1], "a suspended parent earned: {o}");
                let kept = net[o["id"].as_str().unwrap()];
                let share = rounding(c.rounding).round(net[child] * percent / Decimal::ONE_HUNDRED, 2);
                prop_assert_eq!(kept, share, "override {} at {}", o["id"], as_of);
                prop_assert!(kept >= Decimal::ZERO && kept <= dec(&o["amount"]));
                let child_entry = entries.iter().find(|e| e["id"] == child).unwrap();
                prop_assert_eq!(&o["available_at"], &child_entry["available_at"]);
            }
        }
    }
}

/// A random program with tiers (both evaluations), bands, bonuses and overrides.
#[derive(Clone, Debug)]
struct Program {
    zone: &'static str,
    immediate: bool,
    demotion: Option<u32>,
    silver: (u32, i64),
    gold: (u32, u32),
    /// (partner, customer, hour, cents) payments, each after a touch of its partner.
    payments: Vec<(usize, usize, i64, i64)>,
    as_of_hours: i64,
    cut_hours: i64,
    shuffle: Vec<usize>,
}

fn program() -> impl Strategy<Value = Program> {
    (
        select(vec!["UTC", "Europe/London", "America/New_York"]),
        any::<bool>(),
        select(vec![None, Some(1_u32), Some(2)]),
        (1_u32..=4, 1_i64..=300_000),
        (2_u32..=8, 1_u32..=6),
        proptest::collection::vec(
            (0_usize..3, 0_usize..8, 0_i64..4_000, 100_i64..=200_000),
            1..25,
        ),
        4_000_i64..4_800,
        0_i64..4_800,
        Just((0..50).collect::<Vec<usize>>()).prop_shuffle(),
    )
        .prop_map(
            |(
                zone,
                immediate,
                demotion,
                silver,
                gold,
                payments,
                as_of_hours,
                cut_hours,
                shuffle,
            )| {
                Program {
                    zone,
                    immediate,
                    demotion,
                    silver,
                    gold,
                    payments,
                    as_of_hours,
                    cut_hours,
                    shuffle,
                }
            },
        )
}

impl Program {
    fn at(h: i64) -> String {
        (chrono::DateTime::parse_from_rfc3339("2026-01-03T05:00:00Z").unwrap()
            + chrono::TimeDelta::hours(h))
        .to_rfc3339()
    }

    fn events(&self) -> Vec<Value> {
        let partners = ["ana", "ben", "cy"];
        let mut out = Vec::new();
        for (i, (p, c, h, amount)) in self.payments.iter().enumerate() {
            let customer = format!("{}-{c}", partners[*p]);
            out.push(
                json!({"id": format!("t{i:02}"), "kind": "touch", "at": Self::at(*h),
                "partner": partners[*p], "customer": customer, "channel": "link"}),
            );
            out.push(
                json!({"id": format!("p{i:02}"), "kind": "payment", "at": Self::at(h + 1),
                "customer": customer, "amount": cents(*amount), "currency": "USD"}),
            );
        }
        out
    }

    fn input(&self, events: Vec<Value>, as_of_hours: i64) -> Value {
        let demotion = match self.demotion {
            None => json!("never"),
            Some(k) => json!({"after_periods": k}),
        };
        json!({
            "plan": {
                "schema": "partnerkit/plan@1", "id": "prog", "currency": "USD",
                "timezone": self.zone,
                "tiers": {
                    "evaluation": if self.immediate { "immediate" } else { "period_end" },
                    "demotion": demotion,
                    "levels": [
                        {"id": "bronze"},
                        {"id": "silver", "requires": {"any": [
                            {"metric": "referrals", "at_least": self.silver.0.to_string()},
                            {"metric": "revenue", "window": {"rolling_days": 30},
                             "at_least": cents(self.silver.1)}]}},
                        {"id": "gold", "requires": {"all": [
                            {"metric": "conversions", "window": "lifetime",
                             "at_least": self.gold.0.to_string()},
                            {"metric": "active_customers", "at_least": self.gold.1.to_string()}]}}
                    ]
                },
                "rules": [
                    {"id": "tier", "reward": {"percent_by_tier":
                        {"bronze": "5", "silver": "7.5", "gold": "10"}}},
                    {"id": "vol", "reward": {"tiered": {"metric": "revenue", "period": "quarter",
                        "mode": "retroactive",
                        "bands": [{"from": "0", "percent": "1"}, {"from": "1000", "percent": "2"}]}}}
                ],
                "combine": "sum",
                "bonuses": [
                    {"id": "first", "kind": "milestone", "metric": "referrals", "at_least": "1",
                     "amount": "5.00"},
                    {"id": "month", "kind": "period", "metric": "commission", "period": "month",
                     "at_least": "20.00", "percent": "10"}
                ],
                "overrides": [{"level": 1, "percent": "10"}]
            },
            "partners": [{"id": "ana"}, {"id": "ben", "parent": "ana"}, {"id": "cy", "parent": "ben"}],
            "events": events,
            "as_of": Self::at(as_of_hours),
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn tiers_depend_on_instants_only(p in program()) {
        let events = p.events();
        let report = partnerkit::evaluate_json(&p.input(events.clone(), p.as_of_hours).to_string())
            .expect("valid program")
            .to_canonical_json();
        // Given in another order: the same bytes.
        // `shuffle` is a permutation of 0..50, and there are at most 48 events.
        let shuffled: Vec<Value> = p.shuffle.iter().filter_map(|&i| events.get(i).cloned()).collect();
        let again = partnerkit::evaluate_json(&p.input(shuffled, p.as_of_hours).to_string())
            .expect("valid program")
            .to_canonical_json();
        prop_assert_eq!(&report, &again);

        // As of an earlier instant: the same tier changes and entries up to it.
        let cut = p.cut_hours.min(p.as_of_hours);
        let late: Value = serde_json::from_str(&report).unwrap();
        let early = evaluate(&p.input(events, cut));
        let cut_at = chrono::DateTime::parse_from_rfc3339(&Program::at(cut)).unwrap();
        let upto = |v: &Value, field: &str| -> bool {
            v[field].as_str().is_none_or(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap() <= cut_at)
        };
        let tiers_late: Vec<&Value> = late["tiers"].as_array().unwrap().iter()
            .filter(|t| upto(t, "from")).collect();
        let tiers_early: Vec<&Value> = early["tiers"].as_array().unwrap().iter().collect();
        prop_assert_eq!(tiers_early, tiers_late);
        let key = |e: &Value| (e["id"].clone(), e["amount"].clone());
        let entries_late: Vec<_> = late["entries"].as_array().unwrap().iter()
            .filter(|e| upto(e, "earned_at")).map(key).collect();
        let entries_early: Vec<_> = early["entries"].as_array().unwrap().iter().map(key).collect();
        prop_assert_eq!(entries_early, entries_late);
        // Every promotion lands on a level that holds.
        for t in late["tiers"].as_array().unwrap() {
            if t["reason"]["change"] == "promotion" {
                let held = t["reason"]["levels"].as_array().unwrap().iter()
                    .find(|l| l["level"] == t["tier"]).unwrap();
                prop_assert_eq!(&held["holds"], &json!(true));
            }
        }
    }
}
