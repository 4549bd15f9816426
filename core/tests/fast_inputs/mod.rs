//! Random inputs inside the fast path's compiled subset (time zones, tiers, period and
//! customer caps, several rules and their conditions, volume bands, holds, clawbacks,
//! thresholds, partial refunds and chargebacks, signups, same-instant ties), drawn from any
//! source of choices: a seeded generator in `tests/fast_path.rs`, the fuzzer's bytes in the
//! `fast` fuzz target (`core/fuzz/fuzz_targets/fast.rs`, which includes this file by path).
//! Also the form both compare ledgers in.

use partnerkit::Report;
use serde_json::Value;

/// The canonical report's entries as JSON lines without their explanations.
pub fn canonical_lines(report: &Report) -> String {
    let v: Value = serde_json::from_str(&report.to_canonical_json()).expect("report JSON");
    let mut out = String::new();
    for e in v["entries"].as_array().expect("entries") {
        let mut e = e.clone();
        e.as_object_mut().expect("entry object").remove("explain");
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// A source of choices: each `below(n)` is a number in `0..n`.
pub trait Draw {
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64;

    /// One of `xs` (not empty).
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A small deterministic generator (SplitMix64): the cases are the same on every run.
pub struct SplitMix(pub u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Draw for SplitMix {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The fuzzer's bytes as choices: each takes as many bytes as its range needs (one for up
/// to 256 choices), little-endian, and reads zeros once the bytes run out, so every byte
/// string is a valid input and a short one a small case.
pub struct Bytes<'a>(pub &'a [u8]);

impl Draw for Bytes<'_> {
    fn below(&mut self, n: u64) -> u64 {
        let width = ((64 - (n - 1).leading_zeros()) as usize).div_ceil(8);
        let take = width.min(self.0.len());
        let (head, rest) = self.0.split_at(take);
        self.0 = rest;
        let v = head
            .iter()
            .rev()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b));
        v % n
    }
}

/// A random plan inside the compiled subset.
pub fn plan<D: Draw>(r: &mut D) -> Value {
    let currency = r.pick(&["USD", "JPY", "BHD"]);
    let rounding = r.pick(&["half_up", "half_even", "down", "up"]);
    // One plan in four pays plain percentages or flat amounts, without limits, tiers or
    // conditions on amounts: plans whose payments the fast path folds in any currency
    // (see `folds_other_currencies`; a flat reward not under `combine: max`).
    let simple = r.below(4) == 0;
    let tiers = !simple && r.below(2) == 0;
    // One plan in three has one or two more rules (`first_match`: the first whose
    // conditions hold pays), each with its own reward, limits and caps; its first rule
    // then always has conditions (else no payment reaches the others), the others one
    // time in two.
    let more = if r.below(3) == 0 {
        1 + r.below(2) as usize
    } else {
        0
    };
    let first = rule(
        r,
        "base",
        currency,
        tiers,
        simple,
        if more > 0 { 1 } else { 3 },
    );
    // Now and then days whose nanoseconds pass what `i64` counts (106,751 days): a window
    // or clawback past 2262, or past the calendar (u32::MAX days, an error the canonical
    // path reports when a refund asks), and a hold still ending before 2262.
    let far = |r: &mut D, usual: u64, far: &[u64]| {
        if r.below(32) == 0 {
            far[r.below(far.len() as u64) as usize]
        } else {
            usual
        }
    };
    let clawback = match r.below(3) {
        0 => serde_json::json!("always"),
        1 => serde_json::json!("never"),
        _ => serde_json::json!({"within_days": far(r, 45, &[200_000, u64::from(u32::MAX)])}),
    };
    let window = r.below(40) + 1;
    let window = far(r, window, &[106_752, u64::from(u32::MAX)]);
    let hold = r.below(40);
    let hold = far(r, hold, &[50_000]);
    let mut p = serde_json::json!({
        "schema": "partnerkit/plan@1",
        "id": "generated",
        "currency": currency,
        "rounding": rounding,
        "commission_base": r.pick(&["net", "gross"]),
        "attribution": {
            "model": r.pick(&["last_touch", "first_touch"]),
            "window_days": window,
        },
        "rules": [first],
        "lifecycle": {
            "hold_days": hold,
            "clawback": clawback,
            "negative_balance": r.pick(&["carry", "write_off"]),
        },
        "payouts": {
            "period": period(r),
            "threshold": r.pick(&["0", "50", "120"]),
            "net_days": r.below(20),
        },
    });
    // Half the plans keep a zone's calendar: hour, half-hour and 45-minute offsets, clock
    // changes of an hour (New York, London, St. John's) and half an hour (Lord Howe), the
    // first zone to start a day (Kiritimati, +14) and one of the last (Pago Pago, −11).
    if r.below(2) == 0 {
        p["timezone"] = serde_json::json!(r.pick(&[
            "America/New_York",
            "Europe/London",
            "America/St_Johns",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "Pacific/Chatham",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
        ]));
    }
    if tiers {
        let metric = |r: &mut D| r.pick(&["referrals", "conversions", "revenue", "commission"]);
        let (m1, m2) = (metric(r), metric(r));
        let window = |r: &mut D| r.pick(&["period", "lifetime"]);
        let (w1, w2) = (window(r), window(r));
        let money = |m: &str| m == "revenue" || m == "commission";
        let gold = if money(m2) {
            dec(r, currency, "300", "300.5")
        } else {
            "300"
        };
        let tier_period = period(r);
        p["tiers"] = serde_json::json!({
            "period": tier_period,
            "levels": [
                {"id": "bronze"},
                {"id": "silver", "requires": {"any": [
                    {"metric": m1, "window": w1, "at_least": "2"},
                    {"metric": m2, "window": w2, "at_least": "150"}]}},
                {"id": "gold", "requires": {"all": [
                    {"metric": m1, "window": w1, "at_least": "4"},
                    {"metric": m2, "window": w2, "at_least": gold}]}}
            ],
            "demotion": if r.below(2) == 0 { serde_json::json!("never") } else { serde_json::json!({"after_periods": r.below(3) + 1}) },
        });
        if r.below(3) == 0 {
            p["tiers"]["initial"] = serde_json::json!("silver");
        }
    }
    for id in ["second", "third"].into_iter().take(more) {
        let next = rule(r, id, currency, tiers, simple, 2);
        p["rules"].as_array_mut().expect("rules").push(next);
    }
    // Half of those pay the largest amount instead of the first match.
    if more > 0 && r.below(2) == 0 {
        p["combine"] = serde_json::json!("max");
    }
    // Statements in partners' own currencies (the default) or always in the plan's, with
    // each date an entry may convert on.
    if r.below(4) == 0 {
        p["payouts"]["currency"] = serde_json::json!("plan");
    }
    p["payouts"]["fx_date"] = serde_json::json!(r.pick(&["earned", "available", "statement"]));
    // One plan in four ranks channels its own way, often leaving some out (they rank
    // after the listed ones, in the default order).
    if r.below(4) == 0 {
        let mut left: Vec<&str> = vec!["coupon", "deal_registration", "link", "manual"];
        let mut priority = Vec::new();
        for _ in 0..1 + r.below(4) {
            let k = r.below(left.len() as u64) as usize;
            priority.push(left.remove(k));
        }
        p["attribution"]["priority"] = serde_json::json!(priority);
    }
    // One plan in four sets a channel's own window or model (a deal registration's model
    // may then be the latest touch).
    if r.below(4) == 0 {
        let mut channels = serde_json::Map::new();
        for _ in 0..1 + r.below(2) {
            let channel = r.pick(&["link", "coupon", "deal_registration", "manual"]);
            let mut settings = serde_json::Map::new();
            if r.below(2) == 0 {
                settings.insert("window_days".into(), serde_json::json!(r.below(60) + 1));
            }
            if r.below(2) == 0 {
                let model = r.pick(&["last_touch", "first_touch"]);
                settings.insert("model".into(), serde_json::json!(model));
            }
            channels.insert(channel.into(), Value::Object(settings));
        }
        p["attribution"]["channels"] = Value::Object(channels);
    }
    p
}

/// A plan amount: `whole`, or now and then `frac` where the currency has decimals.
fn dec<D: Draw>(
    r: &mut D,
    currency: &str,
    whole: &'static str,
    frac: &'static str,
) -> &'static str {
    if currency == "JPY" || r.below(2) == 0 {
        whole
    } else {
        frac
    }
}

/// Statements, caps and tiers by the month mostly, now and then by the quarter or year.
fn period<D: Draw>(r: &mut D) -> &'static str {
    match r.below(4) {
        0 => "quarter",
        1 => "year",
        _ => "month",
    }
}

/// A payment rule `id` of a plan in `currency` (with `tiers` or not): its reward, its
/// limits and, one rule in `odds`, a condition or two. A `simple` rule pays a plain
/// percentage or a flat amount, without limits or a condition on the payment's amount.
fn rule<D: Draw>(
    r: &mut D,
    id: &str,
    currency: &str,
    tiers: bool,
    simple: bool,
    odds: u64,
) -> Value {
    let dec = |r: &mut D, whole, frac| dec(r, currency, whole, frac);
    let reward = if simple && r.below(4) == 0 {
        serde_json::json!({"flat": dec(r, "5", "0.99")})
    } else if simple {
        serde_json::json!({"percent": r.pick(&["20", "7.5", "33.333", "0.125"])})
    } else if r.below(4) == 0 {
        // Volume bands on a running metric, by the month, quarter, year or lifetime, in
        // each mode the fast path compiles (graduated splits money only).
        let metric = r.pick(&["revenue", "revenue", "conversions", "referrals"]);
        let mode = if metric == "revenue" {
            r.pick(&["graduated", "this_event", "next_event"])
        } else {
            r.pick(&["this_event", "next_event"])
        };
        let (second, third) = if metric == "revenue" {
            // Starts a month's revenue crosses early or late (a payment is up to 300).
            if r.below(2) == 0 {
                (dec(r, "150", "99.99"), dec(r, "400", "400.01"))
            } else {
                (dec(r, "300", "299.99"), dec(r, "900", "900.01"))
            }
        } else {
            ("2", "4")
        };
        serde_json::json!({"tiered": {
            "metric": metric,
            "period": r.pick(&["month", "quarter", "year", "lifetime"]),
            "mode": mode,
            "bands": [{"from": "0", "percent": r.pick(&["10", "7.5"])},
                      {"from": second, "percent": r.pick(&["15", "12.125"])},
                      {"from": third, "percent": "20"}],
        }})
    } else if tiers {
        serde_json::json!({"percent_by_tier": {"bronze": "10", "silver": "12.5", "gold": "17.25"}})
    } else if r.below(4) == 0 {
        serde_json::json!({"flat": dec(r, "5", "0.99")})
    } else {
        serde_json::json!({"percent": r.pick(&["20", "7.5", "33.333", "0.125"])})
    };
    let mut limits = serde_json::Map::new();
    if !simple && r.below(2) == 0 {
        limits.insert(
            "max_per_period".into(),
            serde_json::json!({"period": period(r), "amount": dec(r, "60", "30.01")}),
        );
    }
    if !simple && r.below(3) == 0 {
        limits.insert(
            "max_per_customer".into(),
            serde_json::json!(dec(r, "40", "20.05")),
        );
    }
    if !simple && r.below(3) == 0 {
        limits.insert(
            "max_per_event".into(),
            serde_json::json!(dec(r, "25", "9.99")),
        );
    }
    if !simple && r.below(3) == 0 {
        limits.insert(
            "min_per_event".into(),
            serde_json::json!(dec(r, "1", "0.51")),
        );
    }
    // A condition or two (one rule in `odds`): which payments of a customer, how long
    // after its first, a date window, which partners (rarely one not declared, the
    // canonical path's error), which tier levels, the plan's currency or another, a
    // minimum amount, the deciding touch's campaign, the payment's product, the deciding
    // touch's channel.
    let mut when = serde_json::Map::new();
    if r.below(odds) == 0 {
        for _ in 0..1 + r.below(2) {
            match r.below(10) {
                0 => {
                    let min = 1 + r.below(3);
                    let range = if r.below(2) == 0 {
                        serde_json::json!({"min": min})
                    } else {
                        serde_json::json!({"min": min, "max": min + r.below(3)})
                    };
                    when.insert("payment_number".into(), range);
                }
                1 => {
                    when.insert("within_months".into(), serde_json::json!(1 + r.below(12)));
                }
                2 => {
                    let from = format!("2026-{:02}-01T00:00:00Z", 1 + r.below(6));
                    when.insert("from".into(), serde_json::json!(from));
                    if r.below(2) == 0 {
                        let until = format!("2026-{:02}-15T12:00:00Z", 7 + r.below(6));
                        when.insert("until".into(), serde_json::json!(until));
                    }
                }
                3 => {
                    let lists: [&[&str]; 4] = [&["ana", "ben"], &["cy"], &["dee", "ana"], &["zed"]];
                    let names = lists[r.below(4) as usize];
                    when.insert("partner".into(), serde_json::json!(names));
                }
                // A `tier` condition needs the plan's tiers.
                4 if tiers => {
                    when.insert("tier".into(), serde_json::json!(["silver", "gold"]));
                }
                4 => {}
                6 if simple => {}
                5 => {
                    let c = if simple {
                        // Payments may then be in these currencies too.
                        r.pick(&["EUR", "GBP", "JPY", currency])
                    } else if r.below(4) == 0 {
                        "EUR"
                    } else {
                        currency
                    };
                    when.insert("currency".into(), serde_json::json!(c));
                }
                6 => {
                    let min = dec(r, "100", "99.99");
                    when.insert("min_amount".into(), serde_json::json!(min));
                }
                7 => {
                    let lists: [&[&str]; 3] = [&["spring"], &["spring", "fall"], &["fall"]];
                    when.insert(
                        "campaign".into(),
                        serde_json::json!(lists[r.below(3) as usize]),
                    );
                }
                8 => {
                    let lists: [&[&str]; 3] = [&["pro"], &["pro", "team"], &["basic"]];
                    when.insert(
                        "product".into(),
                        serde_json::json!(lists[r.below(3) as usize]),
                    );
                }
                _ => {
                    let chs: [&[&str]; 3] =
                        [&["link"], &["coupon", "deal_registration"], &["manual"]];
                    when.insert(
                        "channel".into(),
                        serde_json::json!(chs[r.below(3) as usize]),
                    );
                }
            }
        }
    }
    serde_json::json!({"id": id, "reward": reward, "limits": limits, "when": when})
}

/// A random input for `plan`: touches, payments (some at one instant, some with tax or a
/// discount), partial and full refunds (some stating a currency, rarely not the payment's),
/// chargebacks.
pub fn input<D: Draw>(r: &mut D, plan: Value) -> String {
    let digits_of = |c: &str| match c {
        "JPY" => 0,
        "BHD" => 3,
        _ => 2,
    };
    let plan_currency = plan["currency"].as_str().unwrap_or("USD").to_owned();
    let money = |units: u64, digits: usize| -> String {
        let s = format!("{units:0>width$}", width = digits + 1);
        if digits == 0 {
            s
        } else {
            format!("{}.{}", &s[..s.len() - digits], &s[s.len() - digits..])
        }
    };
    // Half the inputs of a plan that folds them have payments in one or two other
    // currencies (each then has rates to the plan currency from before the first event);
    // one in eight of other plans' inputs too, which the fast path hands over.
    let folds = folds_other_currencies(&plan);
    let others: Vec<&str> = if r.below(if folds { 2 } else { 8 }) == 0 {
        let pool: Vec<&str> = ["EUR", "GBP", "JPY"]
            .into_iter()
            .filter(|&c| c != plan_currency)
            .collect();
        let first = r.below(pool.len() as u64) as usize;
        let mut v = vec![pool[first]];
        if r.below(2) == 0 {
            v.push(pool[(first + 1) % pool.len()]);
        }
        v
    } else {
        Vec::new()
    };
    let partners = ["ana", "ben", "cy", "dee"];
    let mut ps = Vec::new();
    for p in partners {
        let mut o = serde_json::json!({"id": p});
        if plan.get("tiers").is_some() && r.below(4) == 0 {
            o["tier"] = serde_json::json!(r.pick(&["bronze", "gold"]));
        }
        if r.below(5) == 0 {
            o["joined_at"] = serde_json::json!("2026-03-01T00:00:00Z");
        }
        ps.push(o);
    }
    let mut events = Vec::new();
    // id, amount, refunded, at, currency
    let mut payments: Vec<(String, u64, u64, u64, String)> = Vec::new();
    let day = 86_400u64;
    let start = 1_767_225_600u64; // 2026-01-01T00:00:00Z
    let n = 20 + r.below(60);
    for k in 0..n {
        // Coarse instants make same-instant ties common; one in four at any half hour of
        // the day, so that local midnights and clock changes are met in every zone.
        let t = start + r.below(200) * day / 2 + r.below(3) * 3600;
        let t = t + if r.below(4) == 0 {
            r.below(48) * 1800
        } else {
            0
        };
        let at = chrono::DateTime::from_timestamp(t as i64, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let customer = format!("c{}", r.below(12));
        match r.below(10) {
            0..=3 => {
                let mut touch = serde_json::json!({
                    "id": format!("t{k}"), "kind": "touch", "at": at,
                    "partner": r.pick(&partners), "customer": customer,
                    "channel": r.pick(&["link", "link", "coupon", "deal_registration", "manual"]),
                });
                // A campaign on one touch in three; now and then an IP (carried only).
                if r.below(3) == 0 {
                    touch["campaign"] = serde_json::json!(r.pick(&["spring", "fall", "winter"]));
                }
                if r.below(8) == 0 {
                    touch["ip"] = serde_json::json!(format!("10.0.0.{}", r.below(4)));
                }
                events.push(touch);
            }
            4..=7 => {
                let amount = r.below(30_000) + 1;
                let tax = if r.below(3) == 0 {
                    r.below(amount / 10 + 1)
                } else {
                    0
                };
                let discount = if r.below(4) == 0 {
                    r.below(amount / 10 + 1)
                } else {
                    0
                };
                let id = format!("p{k}");
                let cur = if !others.is_empty() && r.below(2) == 0 {
                    others[r.below(others.len() as u64) as usize]
                } else {
                    plan_currency.as_str()
                };
                let d = digits_of(cur);
                let mut payment = serde_json::json!({
                    "id": id, "kind": "payment", "at": at, "customer": customer,
                    "amount": money(amount, d), "currency": cur, "tax": money(tax, d),
                    "discount": money(discount, d),
                });
                // A product on half the payments; a subscription or an order id now and
                // then (carried only).
                if r.below(2) == 0 {
                    payment["product"] = serde_json::json!(r.pick(&["pro", "basic", "team"]));
                }
                if r.below(4) == 0 {
                    payment["subscription"] = serde_json::json!(format!("s-{customer}"));
                }
                if r.below(6) == 0 {
                    payment["order"] = serde_json::json!(format!("o{k}"));
                }
                events.push(payment);
                payments.push((id, amount, 0, t, cur.to_owned()));
            }
            _ if !payments.is_empty() => {
                let i = r.below(payments.len() as u64) as usize;
                let (id, amount, refunded, paid, cur) = payments[i].clone();
                // Reversals come after their payment: ids sort after it at one instant too.
                // Some a few days after it, among later payments (whose running metrics they
                // change), the others after every payment.
                let later = format!("2026-12-{:02}T00:00:00Z", 1 + r.below(28));
                let at = match r.below(3) {
                    0 => later,
                    1 => "2026-08-01T00:00:00Z".to_owned(),
                    _ => {
                        chrono::DateTime::from_timestamp((paid + (1 + r.below(20)) * day) as i64, 0)
                            .unwrap()
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    }
                };
                if r.below(4) == 0 {
                    events.push(serde_json::json!({"id": format!("x{k}"), "kind": "chargeback", "at": at, "payment": id}));
                    payments[i].2 = amount;
                } else if refunded < amount {
                    let part = r.below(amount - refunded) + 1;
                    let mut refund = serde_json::json!({
                        "id": format!("r{k}"), "kind": "refund", "at": at, "payment": id,
                        "amount": money(part, digits_of(&cur)),
                    });
                    // Now and then the refund states its currency: its payment's, or rarely
                    // another (an error both paths must report alike).
                    if r.below(8) == 0 {
                        refund["currency"] = if r.below(8) == 0 {
                            serde_json::json!(if cur == "EUR" { "USD" } else { "EUR" })
                        } else {
                            serde_json::json!(cur)
                        };
                    }
                    events.push(refund);
                    payments[i].2 += part;
                }
            }
            _ => {}
        }
    }
    // One input in three has signups, which no compiled plan rewards: some at the start
    // of a month (where tier periods close), some saying whether the lead qualified.
    if r.below(3) == 0 {
        for k in 0..1 + r.below(4) {
            let at = if r.below(2) == 0 {
                format!("2026-{:02}-01T00:00:00Z", 1 + r.below(12))
            } else {
                let t = start + r.below(200) * day / 2;
                chrono::DateTime::from_timestamp(t as i64, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            let mut signup = serde_json::json!({
                "id": format!("s{k}"), "kind": "signup", "at": at,
                "customer": format!("c{}", r.below(12)),
            });
            if r.below(2) == 0 {
                signup["qualified"] = serde_json::json!(r.below(2) == 0);
            }
            events.push(signup);
        }
    }
    // One input in four has redeliveries (an event sent again verbatim, later in the log:
    // dropped by both paths); now and then one of them differs (a conflict, the canonical
    // path's error).
    if !events.is_empty() && r.below(4) == 0 {
        for _ in 0..1 + r.below(3) {
            let k = r.below(events.len() as u64) as usize;
            let mut copy = events[k].clone();
            if r.below(16) == 0 {
                copy["at"] = serde_json::json!("2026-12-31T23:00:00Z");
            }
            let at = k + 1 + r.below((events.len() - k) as u64) as usize;
            events.insert(at, copy);
        }
    }
    // Midnight in UTC, or any hour: due days and month ends begin at local midnight.
    let as_of = format!(
        "{}T{:02}:00:00Z",
        r.pick(&["2026-05-15", "2026-09-01", "2027-03-01"]),
        if r.below(2) == 0 { 0 } else { r.below(24) }
    );
    // One input in three pays some partners in their own currencies, with FX rates: EUR
    // quoted from the plan currency, GBP quoted into it (so inverted), JPY from it. Now and
    // then the rates start in March (earlier entries then have none: an error for a
    // statement that shows one) or a currency has none at all.
    let mut fx = Vec::new();
    let payouts = r.below(3) == 0;
    if payouts || !others.is_empty() {
        let plan_currency = plan_currency.as_str();
        if payouts {
            for o in &mut ps {
                if r.below(2) == 0 {
                    o["payout_currency"] = serde_json::json!(r.pick(&["EUR", "GBP", "JPY"]));
                }
            }
        }
        // Payments in other currencies convert from their first day (in any zone).
        let first = if others.is_empty() && r.below(5) == 0 {
            2
        } else {
            0
        };
        let dates = [
            "2026-01-01",
            "2026-02-14",
            "2026-03-01",
            "2026-05-20",
            "2026-08-31",
        ];
        for (to, rates, inverse) in [
            ("EUR", ["0.9137", "0.92", "1.0825"], false),
            ("GBP", ["1.2719", "1.3", "0.785"], true),
            ("JPY", ["151.37", "149", "0.0066"], false),
        ] {
            let paid_in = others.contains(&to);
            if to == plan_currency || (!paid_in && (!payouts || r.below(8) == 0)) {
                continue;
            }
            let (from, to) = if inverse {
                (to, plan_currency)
            } else {
                (plan_currency, to)
            };
            if paid_in {
                fx.push(serde_json::json!({
                    "date": "2025-12-01", "from": from, "to": to, "rate": r.pick(&rates),
                }));
            }
            for date in &dates[first..] {
                if r.below(3) == 0 {
                    continue;
                }
                fx.push(serde_json::json!({
                    "date": date, "from": from, "to": to, "rate": r.pick(&rates),
                }));
            }
        }
    }
    serde_json::json!({"plan": plan, "partners": ps, "events": events, "fx": fx, "as_of": as_of})
        .to_string()
}

/// Whether the fast path folds payments in other currencies than `plan`'s: every rule a
/// plain `percent` (or a `flat` reward, unless the plan pays the largest amount) without
/// limits or a `min_amount` condition, and no tiers (`FastPlan`'s `foreign`).
pub fn folds_other_currencies(plan: &Value) -> bool {
    let max = plan["combine"] == "max";
    plan.get("tiers").is_none()
        && plan["rules"].as_array().is_some_and(|rules| {
            rules.iter().all(|rule| {
                (rule["reward"].get("percent").is_some()
                    || rule["reward"].get("flat").is_some() && !max)
                    && rule["limits"].as_object().is_none_or(|l| l.is_empty())
                    && rule["when"].get("min_amount").is_none()
            })
        })
}
