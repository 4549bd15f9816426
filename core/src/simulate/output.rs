//! Simulation results as JSON: fixed field order, decimals as strings with their digits.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::stats::{Summary, summarize};
use super::{RunRow, Simulation};
use crate::money::fmt_amount;

fn dec(x: Decimal) -> Value {
    Value::String(x.to_string())
}

fn money(x: Decimal, digits: u32) -> Value {
    Value::String(fmt_amount(x, digits))
}

fn opt(x: Option<Decimal>) -> Value {
    x.map_or(Value::Null, dec)
}

fn summary_json(s: &Option<Summary>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => json!({"mean": dec(s.mean), "p5": dec(s.p5), "p50": dec(s.p50),
                          "p95": dec(s.p95), "n": s.n}),
    }
}

fn over(runs: &[RunRow], f: impl Fn(&RunRow) -> Option<Decimal>, digits: u32) -> Option<Summary> {
    summarize(runs.iter().filter_map(f).collect(), digits)
}

/// The summary rows of plan `i`.
pub(super) fn summary(sim: &Simulation, i: usize) -> Vec<(&'static str, Option<Summary>)> {
    let d = sim.scenario.doc.currency.digits();
    let runs = &sim.plans[i].runs;
    vec![
        ("cost", over(runs, |r| Some(r.cost), d)),
        ("cpa", over(runs, |r| r.cpa, d)),
        ("roi", over(runs, |r| r.roi, 4)),
        ("sales", over(runs, |r| Some(r.sales), d)),
        (
            "customers",
            over(runs, |r| Some(Decimal::from(r.customers)), 2),
        ),
        ("earnings_p50", over(runs, |r| Some(r.earnings_p50), d)),
        ("earnings_p95", over(runs, |r| Some(r.earnings_p95), d)),
    ]
}

pub(super) fn simulation_json(sim: &Simulation) -> Value {
    let sc = &sim.scenario;
    let doc = &sc.doc;
    let d = doc.currency.digits();
    let mut plans = Vec::new();
    for (i, p) in sim.plans.iter().enumerate() {
        let mut sums = Map::new();
        for (k, s) in summary(sim, i) {
            sums.insert(k.into(), summary_json(&s));
        }
        let segments: Vec<Value> = sim
            .segments
            .iter()
            .enumerate()
            .map(|(si, (name, _))| {
                json!({"segment": name,
                       "cost": summary_json(&over(&p.runs, |r| Some(r.segments[si]), d))})
            })
            .collect();
        let tiers: Vec<Value> = p
            .levels
            .iter()
            .enumerate()
            .map(|(li, name)| {
                json!({"tier": name,
                       "partners": summary_json(&over(&p.runs, |r| Some(Decimal::from(r.tiers[li])), 2))})
            })
            .collect();
        let runs: Vec<Value> = p
            .runs
            .iter()
            .map(|r| {
                let mut segs = Map::new();
                for ((name, _), c) in sim.segments.iter().zip(&r.segments) {
                    segs.insert(name.clone(), money(*c, d));
                }
                let mut tiers = Map::new();
                for (name, c) in p.levels.iter().zip(&r.tiers) {
                    tiers.insert(name.clone(), Value::from(*c));
                }
                json!({"run": r.run, "cost": money(r.cost, d), "sales": money(r.sales, d),
                       "customers": r.customers, "cpa": r.cpa.map_or(Value::Null, |x| money(x, d)),
                       "roi": opt(r.roi), "earnings_p50": money(r.earnings_p50, d),
                       "earnings_p95": money(r.earnings_p95, d), "segments": segs, "tiers": tiers})
            })
            .collect();
        plans.push(json!({
            "plan": p.plan, "path": p.path, "engine_because": p.engine_because,
            "summary": sums, "segments": segments, "tiers": tiers, "runs": runs,
        }));
    }
    json!({
        "schema": "partnerkit/simulation@1",
        "scenario": doc.id,
        "currency": doc.currency.as_str(),
        "seed": doc.seed,
        "runs": doc.runs,
        "months": doc.months,
        "partners": sc.partners,
        "as_of": crate::time::fmt_instant(sc.as_of()),
        "margin": doc.margin.map(|m| m.get().to_string()),
        "segments": sim.segments.iter().map(|(s, n)| json!({"segment": s, "partners": n})).collect::<Vec<_>>(),
        "plans": plans,
    })
}

/// One flat row per plan: the plan, its path, and mean/p5/p50/p95 of each summary
/// quantity as `{quantity}_{stat}` (for tables and data frames).
pub(super) fn summary_rows(sim: &Simulation) -> Vec<Value> {
    (0..sim.plans.len())
        .map(|i| {
            let p = &sim.plans[i];
            let mut row = Map::new();
            row.insert("plan".into(), Value::String(p.plan.clone()));
            row.insert("path".into(), Value::String(p.path.into()));
            for (k, s) in summary(sim, i) {
                for (stat, v) in [
                    ("mean", s.as_ref().map(|s| s.mean)),
                    ("p5", s.as_ref().map(|s| s.p5)),
                    ("p50", s.as_ref().map(|s| s.p50)),
                    ("p95", s.as_ref().map(|s| s.p95)),
                ] {
                    row.insert(format!("{k}_{stat}"), opt(v));
                }
            }
            Value::Object(row)
        })
        .collect()
}
