//! Backtests: the same input evaluated under several plans, side by side.
//!
//! Each plan's numbers are read from its own [`crate::evaluate`] report, so a backtest is
//! exactly a set of separate evaluations: cost is the report's program `commission` (every
//! plan-driven entry net of reversals, plan currency; manual adjustments are the same under
//! every plan and left out), CPA the report's, per-partner earnings the partners'
//! `commission`. The first plan is the baseline that winners and losers are measured against.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::stats::{Summary, summarize};
use crate::error::{Error, ErrorCode, Result};
use crate::input::Input;
use crate::money::{Currency, fmt_amount};
use crate::plan::Plan;
use crate::time::Instant;

/// One plan's totals in a backtest.
#[derive(Clone, Debug)]
pub struct PlanComparison {
    /// The plan's id.
    pub plan: String,
    /// Net partner cost (program commission), plan currency.
    pub cost: Decimal,
    /// The report's program CPA.
    pub cpa: Option<Decimal>,
    /// Customers attributed.
    pub referrals: u64,
    /// Credited revenue, before refunds.
    pub revenue: Decimal,
    /// Per segment (`None`: partners without one): partners and cost.
    pub segments: Vec<(Option<String>, u64, Decimal)>,
    /// Per tier held at `as_of` (plans with tiers): partners and cost.
    pub tiers: Vec<(String, u64, Decimal)>,
    /// Partner earnings: mean and nearest-rank p5/p50/p95.
    pub earnings: Option<Summary>,
    /// The largest partner earnings.
    pub earnings_max: Decimal,
    /// Against the first plan: partners earning more, less, the same.
    pub winners: u64,
    /// Partners earning less than under the first plan.
    pub losers: u64,
    /// Partners earning the same.
    pub unchanged: u64,
    /// Sum of the winners' gains.
    pub won: Decimal,
    /// Sum of the losers' losses (a positive amount).
    pub lost: Decimal,
}

/// One partner across the plans.
#[derive(Clone, Debug)]
pub struct PartnerRow {
    /// The partner's id.
    pub partner: String,
    /// Its segment.
    pub segment: Option<String>,
    /// Earnings under each plan (plan order).
    pub earnings: Vec<Decimal>,
    /// Tier held at `as_of` under each plan (`None` for plans without tiers).
    pub tiers: Vec<Option<String>>,
}

/// A backtest's result.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The instant evaluated.
    pub as_of: Instant,
    /// The plans' currency.
    pub currency: Currency,
    /// One per plan, in the order given; the first is the baseline.
    pub plans: Vec<PlanComparison>,
    /// One per partner, in input order.
    pub partners: Vec<PartnerRow>,
}

/// Evaluates `input` (its own plan is ignored) under each plan and compares them.
pub fn compare(input: &Input, plans: &[Plan]) -> Result<Comparison> {
    let Some(first) = plans.first() else {
        return Err(Error::new(
            ErrorCode::MissingField,
            "plans",
            "a backtest needs at least one plan",
        ));
    };
    let currency = first.doc().currency;
    for (i, p) in plans.iter().enumerate() {
        if p.doc().currency != currency {
            return Err(Error::new(
                ErrorCode::CurrencyMismatch,
                format!("plans[{i}].currency"),
                format!(
                    "plans compared side by side must share a currency: {} is in {}, the first plan in {currency}",
                    p.id(),
                    p.doc().currency
                ),
            ));
        }
    }
    let mut input = input.clone();
    let n = input.partners.len();
    let ids: Vec<String> = input.partners.iter().map(|p| p.id.clone()).collect();
    let position: BTreeMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let segments: Vec<Option<String>> = input.partners.iter().map(|p| p.segment.clone()).collect();
    let mut rows: Vec<PartnerRow> = ids
        .iter()
        .zip(&segments)
        .map(|(id, seg)| PartnerRow {
            partner: id.clone(),
            segment: seg.clone(),
            earnings: Vec::with_capacity(plans.len()),
            tiers: Vec::with_capacity(plans.len()),
        })
        .collect();
    let mut out = Vec::with_capacity(plans.len());
    for (i, plan) in plans.iter().enumerate() {
        input.plan = plan.clone();
        let report = crate::evaluate(&input).map_err(|e| located(e, i))?;
        let mut earned = vec![Decimal::ZERO; n];
        for (id, m) in &report.partners {
            if let Some(&k) = position.get(&**id) {
                earned[k] = m.commission;
            }
        }
        let has_tiers = plan.doc().tiers.is_some();
        let mut tier: Vec<Option<String>> = vec![None; n];
        for t in &report.tiers {
            if let Some(&k) = position.get(&*t.partner) {
                tier[k] = Some(t.tier.to_string());
            }
        }
        let mut by_segment: BTreeMap<Option<String>, (u64, Decimal)> = BTreeMap::new();
        let mut by_tier: BTreeMap<usize, (u64, Decimal)> = BTreeMap::new();
        let levels: Vec<String> = plan
            .doc()
            .tiers
            .as_ref()
            .map(|t| t.levels.iter().map(|l| l.id.clone()).collect())
            .unwrap_or_default();
        for k in 0..n {
            let e = by_segment.entry(segments[k].clone()).or_default();
            e.0 += 1;
            e.1 += earned[k];
            if let Some(l) = tier[k]
                .as_ref()
                .and_then(|t| levels.iter().position(|x| x == t))
            {
                let e = by_tier.entry(l).or_default();
                e.0 += 1;
                e.1 += earned[k];
            }
        }
        let (mut winners, mut losers, mut unchanged) = (0, 0, 0);
        let (mut won, mut lost) = (Decimal::ZERO, Decimal::ZERO);
        for (k, row) in rows.iter_mut().enumerate() {
            let delta = earned[k] - row.earnings.first().copied().unwrap_or(earned[k]);
            if delta > Decimal::ZERO {
                winners += 1;
                won += delta;
            } else if delta < Decimal::ZERO {
                losers += 1;
                lost -= delta;
            } else {
                unchanged += 1;
            }
            row.earnings.push(earned[k]);
            row.tiers
                .push(if has_tiers { tier[k].clone() } else { None });
        }
        let digits = currency.digits();
        out.push(PlanComparison {
            plan: plan.id().to_owned(),
            cost: report.program.commission,
            cpa: report.program.cpa(digits, plan.doc().rounding),
            referrals: report.program.referrals,
            revenue: report.program.revenue,
            segments: by_segment
                .into_iter()
                .map(|(s, (c, a))| (s, c, a))
                .collect(),
            tiers: by_tier
                .into_iter()
                .map(|(l, (c, a))| (levels[l].clone(), c, a))
                .collect(),
            earnings: summarize(earned.clone(), digits),
            earnings_max: earned.iter().copied().max().unwrap_or_default(),
            winners,
            losers,
            unchanged,
            won,
            lost,
        });
    }
    Ok(Comparison {
        as_of: input.as_of,
        currency,
        plans: out,
        partners: rows,
    })
}

/// `e` with its `plan` path (`plan.rules[0]`) moved under `plans[i]`.
pub(crate) fn located(e: Error, i: usize) -> Error {
    let path = if e.path().starts_with("plan") {
        e.path().replacen("plan", &format!("plans[{i}]"), 1)
    } else {
        e.path().to_owned()
    };
    Error::new(e.code(), path, e.message().to_owned())
}

/// Parses a plan given as a plan object or as a plan history (a list of
/// `{effective_from, plan}`); errors are located at `root`.
pub fn plan_or_history(v: &Value, root: &str) -> Result<Plan> {
    if v.is_array() {
        Plan::from_history_value(v, root)
    } else {
        Plan::from_value(v, root)
    }
}

/// [`compare`] from JSON: an input document (its `plan` optional and ignored) and plan
/// documents, each a plan object or a plan history.
pub fn compare_json(input: &str, plans: &[&str]) -> Result<Comparison> {
    let mut parsed = Vec::with_capacity(plans.len());
    let mut values = Vec::with_capacity(plans.len());
    for (i, text) in plans.iter().enumerate() {
        let root = format!("plans[{i}]");
        let v = crate::json::json_value(text, &root)?;
        parsed.push(plan_or_history(&v, &root)?);
        values.push(v);
    }
    let Some(first) = values.first() else {
        return Err(Error::new(
            ErrorCode::MissingField,
            "plans",
            "a backtest needs at least one plan",
        ));
    };
    let mut doc = crate::json::json_value(input, "")?;
    let Some(obj) = doc.as_object_mut() else {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "",
            "expected an input object",
        ));
    };
    obj.remove("plan");
    obj.remove("plan_history");
    let key = if first.is_array() {
        "plan_history"
    } else {
        "plan"
    };
    obj.insert(key.into(), first.clone());
    let input = Input::from_json(&doc.to_string())?;
    compare(&input, &parsed)
}

impl Comparison {
    /// One flat row per plan: cost, CPA, referrals, revenue, earnings percentiles and the
    /// winners and losers against the first plan (for tables and data frames).
    pub fn summary_rows(&self) -> Vec<Value> {
        let d = self.currency.digits();
        let m = |x: Decimal| Value::String(fmt_amount(x, d));
        self.plans
            .iter()
            .map(|p| {
                let e = p.earnings.as_ref();
                json!({
                    "plan": p.plan, "cost": m(p.cost), "cpa": p.cpa.map(m),
                    "referrals": p.referrals, "revenue": m(p.revenue),
                    "earnings_mean": e.map(|s| s.mean.to_string()),
                    "earnings_p5": e.map(|s| m(s.p5)), "earnings_p50": e.map(|s| m(s.p50)),
                    "earnings_p95": e.map(|s| m(s.p95)), "earnings_max": m(p.earnings_max),
                    "winners": p.winners, "losers": p.losers, "unchanged": p.unchanged,
                    "won": m(p.won), "lost": m(p.lost),
                })
            })
            .collect()
    }

    /// The comparison as JSON (`"schema": "partnerkit/comparison@1"`).
    pub fn to_json(&self) -> String {
        let d = self.currency.digits();
        let m = |x: Decimal| Value::String(fmt_amount(x, d));
        let plans: Vec<Value> = self
            .plans
            .iter()
            .map(|p| {
                json!({
                    "plan": p.plan, "cost": m(p.cost), "cpa": p.cpa.map(m),
                    "referrals": p.referrals, "revenue": m(p.revenue),
                    "segments": p.segments.iter().map(|(s, c, a)| json!({"segment": s, "partners": c, "cost": m(*a)})).collect::<Vec<_>>(),
                    "tiers": p.tiers.iter().map(|(t, c, a)| json!({"tier": t, "partners": c, "cost": m(*a)})).collect::<Vec<_>>(),
                    "earnings": p.earnings.as_ref().map(|s| json!({"mean": s.mean.to_string(), "p5": m(s.p5), "p50": m(s.p50), "p95": m(s.p95), "max": m(p.earnings_max)})),
                    "versus_first": {"winners": p.winners, "losers": p.losers, "unchanged": p.unchanged, "won": m(p.won), "lost": m(p.lost)},
                })
            })
            .collect();
        let partners: Vec<Value> = self
            .partners
            .iter()
            .map(|r| {
                json!({"partner": r.partner, "segment": r.segment,
                       "earnings": r.earnings.iter().map(|x| m(*x)).collect::<Vec<_>>(),
                       "tiers": r.tiers})
            })
            .collect();
        json!({
            "schema": "partnerkit/comparison@1",
            "as_of": crate::time::fmt_instant(self.as_of),
            "currency": self.currency.as_str(),
            "plans": plans,
            "partners": partners,
        })
        .to_string()
    }
}
