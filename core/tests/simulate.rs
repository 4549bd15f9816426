//! The simulator (SPEC §13): the fast path equals `evaluate` on generated events, the same
//! seed gives the same bytes on any thread count, the simulated mean cost of a simple
//! scenario matches its analytic expectation, backtests equal separate evaluations, and bad
//! scenarios get coded errors with paths.

use partnerkit::simulate::{self, EvalPath, Options, Scenario};
use partnerkit::{ErrorCode, Plan};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn scenario(v: Value) -> Scenario {
    Scenario::from_json(&v.to_string()).unwrap()
}

fn plan(v: Value) -> Plan {
    Plan::from_json(&v.to_string()).unwrap()
}

/// Two populations (one-off orders and subscriptions), refunds, a start mid-month.
fn mixed(currency: &str, runs: u32, seed: u64, refund_after_days: u32) -> Scenario {
    mixed_from("2026-01-15", currency, runs, seed, refund_after_days)
}

/// [`mixed`] from another start: on the 1st, the scenario's months are UTC calendar months,
/// and a plan without rules on a payment's instant or number is priced per customer.
fn mixed_from(
    start: &str,
    currency: &str,
    runs: u32,
    seed: u64,
    refund_after_days: u32,
) -> Scenario {
    scenario(json!({
        "schema": "partnerkit/scenario@1", "id": "mixed", "currency": currency,
        "start": start, "months": 7, "runs": runs, "seed": seed,
        "margin": "0.6", "refund_after_days": refund_after_days,
        "populations": [
            {"segment": "affiliate", "partners": 12,
             "touches_per_month": {"lognormal": {"median": "30", "sigma": "0.8"}},
             "conversion_rate": {"beta": {"alpha": "2", "beta": "30"}},
             "order_value": {"lognormal": {"median": "80", "sigma": "0.6"}},
             "refund_rate": {"uniform": {"min": "0", "max": "0.2"}}},
            {"segment": "agency", "partners": 5,
             "touches_per_month": {"fixed": "15"},
             "conversion_rate": {"fixed": "0.1"},
             "subscription": {"price": {"normal": {"mean": "49", "sd": "10"}},
                              "monthly_churn": {"uniform": {"min": "0.05", "max": "0.3"}}},
             "refund_rate": {"fixed": "0.05"}}
        ]
    }))
}

fn tiers(period: &str, window: &str, demotion: Value) -> Value {
    json!({
        "levels": [
            {"id": "bronze"},
            {"id": "silver", "requires": {"any": [
                {"metric": "referrals", "window": window, "at_least": "3"},
                {"metric": "revenue", "window": window, "at_least": "400"}]}},
            {"id": "gold", "requires": {"all": [
                {"metric": "conversions", "window": window, "at_least": "6"},
                {"metric": "commission", "window": window, "at_least": "60"},
                {"metric": "active_customers", "window": window, "at_least": "3"}]}}
        ],
        "period": period, "demotion": demotion
    })
}

/// Plans that the fast path must price exactly as `evaluate` does.
fn fast_plans(currency: &str) -> Vec<Value> {
    // Amounts fit every currency's minor unit (JPY has none).
    let amt = |usd: &'static str, jpy: &'static str| if currency == "JPY" { jpy } else { usd };
    let base = |rules: Value| json!({"schema": "partnerkit/plan@1", "id": "p", "currency": currency, "rules": rules});
    let mut out = vec![
        base(json!([{"id": "all", "reward": {"percent": "12.5"}}])),
        base(json!([
            {"id": "first", "when": {"payment_number": {"max": 1}}, "reward": {"percent": "30"}},
            {"id": "rest", "when": {"within_months": 3}, "reward": {"percent": "10"},
             "limits": {"max_per_event": amt("4.99", "5"), "min_per_event": amt("1.01", "1")}}])),
        base(json!([
            {"id": "flat", "when": {"segment": ["agency"]}, "reward": {"flat": amt("7.50", "8")}},
            {"id": "big", "when": {"min_amount": amt("90.05", "90")}, "reward": {"percent": "7.3"}},
            {"id": "dated", "when": {"from": "2026-03-01T00:00:00Z", "until": "2026-05-10T12:00:00Z"},
             "reward": {"percent": "3.33"}}])),
    ];
    let mut sum = out[2].clone();
    sum["combine"] = json!("sum");
    sum["rounding"] = json!("half_even");
    out.push(sum);
    let mut max = out[2].clone();
    max["combine"] = json!("max");
    max["rounding"] = json!("down");
    max["lifecycle"] = json!({"hold_days": 10, "clawback": "never"});
    out.push(max);
    let mut within = out[0].clone();
    within["rounding"] = json!("up");
    within["lifecycle"] = json!({"hold_days": 7, "clawback": {"within_days": 20}});
    within["timezone"] = json!("America/New_York");
    out.push(within);
    let by_tier = |t: Value, tz: &str| {
        json!({"schema": "partnerkit/plan@1", "id": "tiered", "currency": currency, "timezone": tz,
               "tiers": t,
               "rules": [
                   {"id": "gold-bonus", "when": {"tier": ["gold"], "payment_number": {"max": 1}},
                    "reward": {"flat": "25"}},
                   {"id": "by-tier", "reward": {"percent_by_tier": {"bronze": "10", "silver": "15", "gold": "20"}}}],
               "combine": "sum"})
    };
    out.push(by_tier(
        tiers("month", "period", json!({"after_periods": 1})),
        "UTC",
    ));
    out.push(by_tier(
        tiers("month", "lifetime", json!("never")),
        "Europe/London",
    ));
    out.push(by_tier(
        tiers("quarter", "period", json!({"after_periods": 2})),
        "Asia/Tokyo",
    ));
    let mut initial = by_tier(tiers("month", "period", json!({"after_periods": 1})), "UTC");
    initial["tiers"]["initial"] = json!("silver");
    out.push(initial);
    // One `percent_by_tier` rule alone: priced per customer and level by its rate. At the
    // silver floor with demotion after 2 periods, a period end with nothing in it counts a
    // failed period, so no period may be skipped; with lifetime metrics and no demotion,
    // the periods before a partner's first customer are.
    let plain = |t: Value| {
        json!({"schema": "partnerkit/plan@1", "id": "plain", "currency": currency, "tiers": t,
               "rules": [{"id": "by-tier", "reward": {"percent_by_tier":
                   {"bronze": "10", "silver": "15.5", "gold": "20"}}}]})
    };
    let mut failing = plain(tiers("month", "period", json!({"after_periods": 2})));
    failing["tiers"]["initial"] = json!("silver");
    out.push(failing);
    out.push(plain(tiers("month", "lifetime", json!("never"))));
    out
}

fn run(
    sc: &Scenario,
    plans: &[Plan],
    path: EvalPath,
    threads: Option<usize>,
) -> simulate::Simulation {
    simulate::simulate(
        sc,
        plans,
        &Options {
            threads,
            path,
            progress: None,
        },
    )
    .unwrap()
}

#[test]
fn fast_path_equals_evaluate() {
    // Mid-month starts price tiered plans payment by payment; starts on the 1st price the
    // UTC monthly tiers per customer (and the London ones payment by payment: in summer its
    // months end an hour before UTC's).
    for (start, currency, seed, refund_after) in [
        ("2026-01-15", "USD", 7, 14),
        ("2026-01-15", "USD", 99, 40),
        ("2026-01-15", "JPY", 3, 0),
        ("2026-01-15", "BHD", 11, 5),
        ("2026-01-15", "USD", 5, 20),
        ("2026-01-01", "USD", 17, 14),
        ("2026-03-01", "JPY", 23, 31),
    ] {
        let sc = mixed_from(start, currency, 3, seed, refund_after);
        let plans: Vec<Plan> = fast_plans(currency).into_iter().map(plan).collect();
        let fast = run(&sc, &plans, EvalPath::Auto, None);
        let engine = run(&sc, &plans, EvalPath::Engine, None);
        for (i, (f, e)) in fast.plans.iter().zip(&engine.plans).enumerate() {
            assert_eq!(f.path, "fast", "plan {i}: {:?}", f.engine_because);
            assert_eq!(e.path, "engine");
            assert_eq!(f.runs, e.runs, "plan {i} in {currency}, seed {seed}");
        }
        // Something happened: the comparison is not between two empty runs.
        assert!(
            fast.plans
                .iter()
                .all(|p| p.runs.iter().all(|r| r.customers > 0))
        );
        assert!(
            fast.plans[6]
                .runs
                .iter()
                .any(|r| r.tiers[1] + r.tiers[2] > 0)
        );
    }
}

#[test]
fn fast_path_clock_starts_at_the_first_event() {
    // Nobody converts in the first months: the tier clock starts with the first touch, as
    // in the engine (periods ending before the run's first event are not evaluated).
    let sc = scenario(json!({
        "schema": "partnerkit/scenario@1", "currency": "USD", "start": "2026-01-01",
        "months": 4, "runs": 30, "seed": 5,
        "populations": [{"segment": "s", "partners": 3,
            "touches_per_month": {"fixed": "0.4"}, "conversion_rate": {"fixed": "0.5"},
            "order_value": {"fixed": "100"}}]
    }));
    let mut t = fast_plans("USD")[6].clone();
    t["tiers"]["levels"][1]["requires"] =
        json!({"any": [{"metric": "referrals", "at_least": "0"}]});
    let plans = vec![plan(t)];
    let fast = run(&sc, &plans, EvalPath::Auto, None);
    let engine = run(&sc, &plans, EvalPath::Engine, None);
    assert_eq!(fast.plans[0].runs, engine.plans[0].runs);
}

#[test]
fn unsupported_plans_go_through_evaluate() {
    let sc = mixed("USD", 2, 1, 14);
    let p = plan(
        json!({"schema": "partnerkit/plan@1", "id": "bands", "currency": "USD",
        "rules": [{"id": "b", "reward": {"tiered": {"metric": "revenue", "period": "month",
            "mode": "graduated", "bands": [{"from": "0", "percent": "10"}, {"from": "500", "percent": "20"}]}}}]}),
    );
    let sim = run(&sc, &[p], EvalPath::Auto, None);
    assert_eq!(sim.plans[0].path, "engine");
    assert_eq!(
        sim.plans[0].engine_because.as_deref(),
        Some("rule b pays volume bands")
    );
    assert!(sim.plans[0].runs[0].cost > Decimal::ZERO);
}

#[test]
fn same_seed_same_bytes_on_any_thread_count() {
    let sc = mixed("USD", 40, 2026, 14);
    let plans: Vec<Plan> = fast_plans("USD").into_iter().take(7).map(plan).collect();
    let one = run(&sc, &plans, EvalPath::Auto, Some(1)).to_json();
    let again = run(&sc, &plans, EvalPath::Auto, Some(1)).to_json();
    let four = run(&sc, &plans, EvalPath::Auto, Some(4)).to_json();
    let default = run(&sc, &plans, EvalPath::Auto, None).to_json();
    assert_eq!(one, again);
    assert_eq!(one, four);
    assert_eq!(one, default);
    // Another seed gives other numbers.
    let other = run(
        &sc.with_runs(40, 2027).unwrap(),
        &plans,
        EvalPath::Auto,
        Some(2),
    )
    .to_json();
    assert_ne!(one, other);
    // The engine path is reproducible across thread counts too.
    let small = sc.with_runs(3, 1).unwrap();
    let a = run(&small, &plans[..1], EvalPath::Engine, Some(1)).to_json();
    let b = run(&small, &plans[..1], EvalPath::Engine, Some(3)).to_json();
    assert_eq!(a, b);
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// 10% of every payment.
fn ten_percent() -> Plan {
    plan(
        json!({"schema": "partnerkit/plan@1", "id": "ten", "currency": "USD",
        "rules": [{"id": "r", "reward": {"percent": "10"}}]}),
    )
}

/// A decimal as a float, for statistics.
fn f(d: Decimal) -> f64 {
    d.to_string().parse::<f64>().unwrap()
}

/// The mean of `values` is within 4 standard errors of `expected`.
fn assert_mean(name: &str, values: &[f64], expected: f64) {
    let (mean, se) = mean_se(values);
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "{name}: simulated mean {mean:.2} vs expected {expected:.2} (4 SE = {:.2})",
        4.0 * se
    );
}

#[test]
fn mean_cost_matches_the_analytic_expectation() {
    // 100 partners × 12 months, conversions Poisson(20 × 0.05 = 1) per partner-month, orders
    // lognormal(median 50, sigma 0.5) with mean 50·e^(0.125), 10% commission, 10% of
    // payments refunded at once (a cancel: the refund is at the payment's instant).
    //   E[cost]  = 100 × 12 × 1 × 50·e^0.125 × 0.10 × (1 − 0.10) = 6,118.77...
    //   E[sales] = 100 × 12 × 1 × 50·e^0.125 × (1 − 0.10)        = 61,187.7...
    // Cent rounding of orders and commissions is unbiased to well below a cent per payment.
    let sc = scenario(json!({
        "schema": "partnerkit/scenario@1", "currency": "USD", "start": "2026-01-01",
        "months": 12, "runs": 400, "seed": 42, "refund_after_days": 0, "margin": "0.5",
        "populations": [{"segment": "s", "partners": 100,
            "touches_per_month": {"fixed": "20"}, "conversion_rate": {"fixed": "0.05"},
            "order_value": {"lognormal": {"median": "50", "sigma": "0.5"}},
            "refund_rate": {"fixed": "0.1"}}]
    }));
    let sim = run(&sc, &[ten_percent()], EvalPath::Auto, None);
    let mean_order = 50.0 * (0.125f64).exp();
    for (name, values, expected) in [
        (
            "cost",
            sim.plans[0]
                .runs
                .iter()
                .map(|r| f(r.cost))
                .collect::<Vec<_>>(),
            1200.0 * mean_order * 0.1 * 0.9,
        ),
        (
            "sales",
            sim.plans[0].runs.iter().map(|r| f(r.sales)).collect(),
            1200.0 * mean_order * 0.9,
        ),
        (
            "customers",
            sim.plans[0]
                .runs
                .iter()
                .map(|r| r.customers as f64)
                .collect(),
            1200.0,
        ),
    ] {
        assert_mean(name, &values, expected);
    }
    // ROI = (margin × sales − cost) / cost = (0.5 × 10 × cost − cost) / cost = 4 exactly
    // whenever each commission is 10% of its order to the cent; within rounding otherwise.
    let roi = sim.plans[0].runs[0].roi.unwrap();
    assert!(
        (roi - Decimal::from(4)).abs() < Decimal::new(1, 2),
        "roi {roi}"
    );
}

#[test]
fn subscription_lifetimes_match_the_churn() {
    // 200 partners × 6 months, Poisson(10 × 0.1 = 1) new subscribers per partner-month at
    // 20.00 a month, monthly churn 0.25: a subscriber starting with `left` months to go pays
    // min(1 + Geometric, left) times, on average Σ_{j<left} 0.75^j = 4 × (1 − 0.75^left).
    // Over the starts (left = 6, 5, ..., 1):
    //   Σ 4 × (1 − 0.75^left) = 4 × (6 − 3 × (1 − 0.75^6)) = 4 × 3.533935546875
    //                         = 14.1357421875 payments per partner.
    // 10% of payments refunded at once, 10% commission of 20.00 = 2.00 exactly:
    //   E[sales] = 200 × 14.1357421875 × 20 × 0.9 = 50,888.671875
    //   E[cost]  = 200 × 14.1357421875 × 2 × 0.9  =  5,088.8671875
    let sc = scenario(json!({
        "schema": "partnerkit/scenario@1", "currency": "USD", "start": "2026-01-01",
        "months": 6, "runs": 300, "seed": 9, "refund_after_days": 0,
        "populations": [{"segment": "s", "partners": 200,
            "touches_per_month": {"fixed": "10"}, "conversion_rate": {"fixed": "0.1"},
            "subscription": {"price": {"fixed": "20"}, "monthly_churn": {"fixed": "0.25"}},
            "refund_rate": {"fixed": "0.1"}}]
    }));
    let sim = run(&sc, &[ten_percent()], EvalPath::Auto, None);
    let runs = &sim.plans[0].runs;
    for (name, values, expected) in [
        (
            "sales",
            runs.iter().map(|r| f(r.sales)).collect::<Vec<_>>(),
            50_888.671875,
        ),
        (
            "cost",
            runs.iter().map(|r| f(r.cost)).collect(),
            5_088.8671875,
        ),
        (
            "customers",
            runs.iter().map(|r| r.customers as f64).collect(),
            1200.0,
        ),
    ] {
        assert_mean(name, &values, expected);
    }
}

#[test]
fn summary_uses_nearest_rank() {
    let sc = mixed("USD", 20, 8, 14);
    let p = plan(fast_plans("USD")[0].clone());
    let sim = run(&sc, &[p], EvalPath::Auto, None);
    let mut costs: Vec<Decimal> = sim.plans[0].runs.iter().map(|r| r.cost).collect();
    costs.sort();
    let summary = sim.summary(0);
    let cost = summary[0].1.as_ref().unwrap();
    // 20 runs: p5 is the 1st value, p50 the 10th, p95 the 19th.
    assert_eq!(
        (cost.p5, cost.p50, cost.p95),
        (costs[0], costs[9], costs[18])
    );
    let v: Value = serde_json::from_str(&sim.to_json()).unwrap();
    assert_eq!(v["schema"], "partnerkit/simulation@1");
    assert_eq!(
        v["plans"][0]["summary"]["cost"]["p50"],
        costs[9].to_string()
    );
    assert_eq!(v["plans"][0]["runs"].as_array().unwrap().len(), 20);
}

#[test]
fn backtest_equals_separate_evaluations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/tiers");
    let text = std::fs::read_to_string(dir.join("bronze_silver_gold.json")).unwrap();
    let vector: Value = serde_json::from_str(&text).unwrap();
    let input = &vector["input"];
    let a = input["plan"].clone();
    let mut b = a.clone();
    b["id"] = json!("flat-ten");
    b["rules"] = json!([{"id": "flat", "reward": {"percent": "10"}}]);
    b.as_object_mut().unwrap().remove("tiers");
    let plans = [a.to_string(), b.to_string()];
    let cmp = simulate::compare_json(&input.to_string(), &[&plans[0], &plans[1]]).unwrap();
    for (i, p) in plans.iter().enumerate() {
        let mut doc = input.clone();
        doc["plan"] = serde_json::from_str(p).unwrap();
        let report = partnerkit::evaluate_json(&doc.to_string()).unwrap();
        let c = &cmp.plans[i];
        assert_eq!(c.cost, report.program.commission);
        assert_eq!(c.referrals, report.program.referrals);
        assert_eq!(c.revenue, report.program.revenue);
        for row in &cmp.partners {
            let m = &report
                .partners
                .iter()
                .find(|(id, _)| **id == *row.partner)
                .unwrap()
                .1;
            assert_eq!(row.earnings[i], m.commission, "{}", row.partner);
        }
        let seg_total: Decimal = c.segments.iter().map(|s| s.2).sum();
        assert_eq!(seg_total, c.cost);
    }
    // Winners and losers against the first plan add up to the difference in cost.
    let b = &cmp.plans[1];
    assert_eq!(b.won - b.lost, b.cost - cmp.plans[0].cost);
    assert_eq!(
        b.winners + b.losers + b.unchanged,
        cmp.partners.len() as u64
    );
    assert!(!cmp.plans[0].tiers.is_empty() && cmp.plans[1].tiers.is_empty());
    // A plan error names the plan.
    let err =
        simulate::compare_json(&input.to_string(), &[&plans[0], "{\"schema\": 1}"]).unwrap_err();
    assert_eq!(err.path(), "plans[1].schema");
}

#[test]
fn backtest_takes_plan_histories() {
    // The same events under a plan history (grandfathering) and under its first version
    // alone: each side equals its own evaluation.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/plans");
    let text = std::fs::read_to_string(dir.join("plan_change_with_grandfathering.json")).unwrap();
    let vector: Value = serde_json::from_str(&text).unwrap();
    let input = &vector["input"];
    let history = input["plan_history"].clone();
    let first = history[0]["plan"].clone();
    let plans = [history.to_string(), first.to_string()];
    let cmp = simulate::compare_json(&input.to_string(), &[&plans[0], &plans[1]]).unwrap();
    let with_history = partnerkit::evaluate_json(&input.to_string()).unwrap();
    assert_eq!(cmp.plans[0].cost, with_history.program.commission);
    let mut doc = input.clone();
    doc.as_object_mut().unwrap().remove("plan_history");
    doc["plan"] = first;
    let alone = partnerkit::evaluate_json(&doc.to_string()).unwrap();
    assert_eq!(cmp.plans[1].cost, alone.program.commission);
    assert_ne!(cmp.plans[0].cost, cmp.plans[1].cost);
}

#[test]
fn sweep_tabulates_the_grid() {
    let sc = mixed("USD", 5, 3, 14);
    let base = fast_plans("USD")[0].clone();
    let axis = simulate::parse_axis("/rules/0/reward/percent=10..30:10").unwrap();
    let points = simulate::sweep(&base, &[axis]).unwrap();
    assert_eq!(points.len(), 3);
    let plans: Vec<Plan> = points.iter().map(|p| p.plan.clone()).collect();
    let sim = run(&sc, &plans, EvalPath::Auto, None);
    // Same events, percent 10/20/30: the cost rises with the percent.
    let p50 = |i: usize| sim.summary(i)[0].1.as_ref().unwrap().p50;
    assert!(p50(0) < p50(1) && p50(1) < p50(2));
    let err = simulate::sweep(
        &base,
        &[simulate::parse_axis("/rules/0/reward/percent=150").unwrap()],
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidValue);
    assert_eq!(err.path(), "plan.rules[0].reward.percent");
    let err = simulate::sweep(&base, &[simulate::parse_axis("/rules/9/x=1").unwrap()]).unwrap_err();
    assert_eq!(err.path(), "vary[0]");
}

#[test]
fn bad_scenarios_list_every_problem() {
    let doc = json!({
        "schema": "partnerkit/scenario@2", "currency": "USD", "start": "2026-02-30",
        "months": 0, "runs": 10, "seed": 1, "margin": "1.5", "colour": "red",
        "populations": [
            {"segment": "a", "partners": 3, "touches_per_month": {"fixed": "10"},
             "conversion_rate": {"fixed": "5"}, "order_value": {"fixed": "10"}},
            {"segment": "b", "partners": 3, "touches_per_month": {"fixed": "-1"},
             "conversion_rate": {"lognormal": {"median": "0.1", "sigma": "1"}},
             "order_value": {"fixed": "10"}, "subscription": {"price": {"fixed": "5"},
             "monthly_churn": {"fixed": "0.1"}}},
            {"segment": "c", "partners": 1, "touches_per_mont": {"fixed": "1"}}
        ]
    })
    .to_string();
    let errors = Scenario::validate_json(&doc);
    let got: Vec<(ErrorCode, &str)> = errors.iter().map(|e| (e.code(), e.path())).collect();
    assert_eq!(
        got,
        vec![
            (ErrorCode::UnknownField, "scenario.colour"),
            (
                ErrorCode::UnknownField,
                "scenario.populations[2].touches_per_mont"
            ),
        ],
        "{errors:?}"
    );
    // Without the structural problems, every semantic one at once.
    let mut v: Value = serde_json::from_str(&doc).unwrap();
    v.as_object_mut().unwrap().remove("colour");
    v["populations"].as_array_mut().unwrap().pop();
    let errors = Scenario::validate_json(&v.to_string());
    let got: Vec<(ErrorCode, &str)> = errors.iter().map(|e| (e.code(), e.path())).collect();
    assert_eq!(
        got,
        vec![
            (ErrorCode::InvalidValue, "scenario.schema"),
            (ErrorCode::InvalidValue, "scenario.start"),
            (ErrorCode::InvalidValue, "scenario.months"),
            (ErrorCode::InvalidValue, "scenario.margin"),
            (
                ErrorCode::InvalidValue,
                "scenario.populations[0].conversion_rate.fixed"
            ),
            (ErrorCode::InvalidValue, "scenario.populations[1]"),
            (
                ErrorCode::InvalidValue,
                "scenario.populations[1].touches_per_month.fixed"
            ),
            (
                ErrorCode::InvalidValue,
                "scenario.populations[1].conversion_rate.lognormal"
            ),
        ],
        "{errors:?}"
    );
    let err = Scenario::from_json(&v.to_string()).unwrap_err();
    assert!(
        err.message().contains("and 7 more problems"),
        "{}",
        err.message()
    );
    assert_eq!(
        Scenario::from_json("{").unwrap_err().code(),
        ErrorCode::InvalidJson
    );
    // A plan in another currency than the scenario's.
    let sc = mixed("USD", 1, 1, 14);
    let eur =
        plan(json!({"schema": "partnerkit/plan@1", "id": "e", "currency": "EUR", "rules": []}));
    let err = simulate::simulate(&sc, &[eur], &Options::default()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        (ErrorCode::CurrencyMismatch, "plans[0].currency")
    );
    // A plan naming a partner the scenario does not have.
    let p = plan(
        json!({"schema": "partnerkit/plan@1", "id": "x", "currency": "USD",
        "rules": [{"id": "r", "when": {"partner": ["nobody"]}, "reward": {"percent": "5"}}]}),
    );
    let err = simulate::simulate(&sc, &[p], &Options::default()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        (
            ErrorCode::UnknownPartner,
            "plans[0].rules[0].when.partner[0]"
        )
    );
}

#[test]
fn shipped_scenario_schema_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.schema.json");
    let generated = simulate::scenario_json_schema();
    if std::env::var_os("PARTNERKIT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/scenario.schema.json is stale: run `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test simulate`"
    );
}
