//! Semantic checks of the incentive sections: tiers, `percent_by_tier` and `tiered`
//! rewards, the `tier` condition, bonuses, overrides and the referee reward.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::{HUNDRED, money};
use crate::dec::Dec;
use crate::error::{ErrorCode, Issues};
use crate::plan::{
    BandMode, BandPeriod, Bands, BonusKind, Demotion, Metric, PlanDoc, RefereeKind, Requirement,
    Rule, Tiers, Window,
};

/// Checks `doc.tiers`, `bonuses`, `overrides` and `referee_reward`.
pub(super) fn sections(doc: &PlanDoc, root: &str, issues: &mut Issues) {
    let digits = doc.currency.digits();
    if let Some(t) = &doc.tiers {
        tiers(t, &format!("{root}.tiers"), digits, issues);
    }
    let mut ids = BTreeSet::new();
    for (i, b) in doc.bonuses.iter().enumerate() {
        let path = format!("{root}.bonuses[{i}]");
        if b.id.trim().is_empty() {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.id"),
                "empty bonus id",
            );
        } else if !ids.insert(b.id.as_str()) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.id"),
                format!(
                    "bonus id \"{}\" is used twice: entry ids derive from it",
                    b.id
                ),
            );
        }
        threshold(
            b.metric,
            b.at_least,
            &format!("{path}.at_least"),
            digits,
            issues,
        );
        match b.kind {
            BonusKind::Milestone => {
                if b.at_least.get() <= Decimal::ZERO {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.at_least"),
                        "a milestone is crossed by reaching a value above 0: expected 1 or more",
                    );
                }
                for (field, present) in [
                    ("period", b.period.is_some()),
                    ("percent", b.percent.is_some()),
                ] {
                    if present {
                        issues.push(
                            ErrorCode::InvalidValue,
                            format!("{path}.{field}"),
                            format!(
                                "`{field}` belongs to period bonuses; a milestone pays a fixed \
                                 `amount` once"
                            ),
                        );
                    }
                }
                match b.amount {
                    Some(a) => money(a, &format!("{path}.amount"), digits, issues),
                    None => issues.push(
                        ErrorCode::MissingField,
                        format!("{path}.amount"),
                        "missing field `amount`: a milestone pays a fixed amount",
                    ),
                }
            }
            BonusKind::Period => {
                if b.period.is_none() {
                    issues.push(
                        ErrorCode::MissingField,
                        format!("{path}.period"),
                        "missing field `period`: \"month\", \"quarter\" or \"year\"",
                    );
                }
                match (b.amount, b.percent) {
                    (Some(a), None) => money(a, &format!("{path}.amount"), digits, issues),
                    (None, Some(p)) => {
                        percent(p, &format!("{path}.percent"), issues);
                        if !b.metric.is_money() {
                            issues.push(
                                ErrorCode::InvalidValue,
                                format!("{path}.percent"),
                                format!(
                                    "a percent bonus is a share of the period's {}, which is a \
                                     count, not money: use `amount`, or measure revenue or \
                                     commission",
                                    b.metric.as_str()
                                ),
                            );
                        }
                    }
                    _ => issues.push(
                        ErrorCode::InvalidValue,
                        path.clone(),
                        "a period bonus pays exactly one of `amount` or `percent`",
                    ),
                }
            }
        }
    }
    let mut levels = BTreeSet::new();
    let mut total = Decimal::ZERO;
    for (i, o) in doc.overrides.iter().enumerate() {
        let path = format!("{root}.overrides[{i}]");
        if o.level == 0 {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.level"),
                "override levels start at 1 (the partner's parent)",
            );
        } else if !levels.insert(o.level) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.level"),
                format!("override level {} is listed twice", o.level),
            );
        }
        percent(o.percent, &format!("{path}.percent"), issues);
        total += o.percent.get();
    }
    if total > HUNDRED {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{root}.overrides"),
            format!(
                "override percents add up to {total}: the parents would share more than the \
                 child's whole commission (expected 100 or less)"
            ),
        );
    }
    if let Some(r) = &doc.referee_reward {
        let path = format!("{root}.referee_reward");
        let v = r.value.get();
        match r.kind {
            RefereeKind::DiscountPercent => {
                if v <= Decimal::ZERO || v > HUNDRED {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.value"),
                        format!(
                            "a discount of {v}% is out of range: expected more than 0, up to 100"
                        ),
                    );
                }
                match r.months {
                    None => issues.push(
                        ErrorCode::MissingField,
                        format!("{path}.months"),
                        "missing field `months`: how many months the discount lasts",
                    ),
                    Some(0) => issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.months"),
                        "a discount lasting 0 months gives nothing: expected 1 or more",
                    ),
                    Some(_) => {}
                }
            }
            RefereeKind::Credit | RefereeKind::FreeMonths => {
                if r.kind == RefereeKind::Credit {
                    money(r.value, &format!("{path}.value"), digits, issues);
                } else if v.fract() != Decimal::ZERO || v < Decimal::ONE {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.value"),
                        format!("{v} free months: expected a whole number of months, 1 or more"),
                    );
                }
                if r.kind == RefereeKind::Credit && v <= Decimal::ZERO {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.value"),
                        "a credit of 0 gives nothing: expected an amount above 0",
                    );
                }
                if r.months.is_some() {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.months"),
                        format!(
                            "`months` is the length of a discount; a {} reward has none",
                            r.kind.as_str()
                        ),
                    );
                }
            }
        }
    }
}

fn tiers(t: &Tiers, path: &str, digits: u32, issues: &mut Issues) {
    if t.levels.is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.levels"),
            "tiers need at least one level",
        );
    }
    let mut ids = BTreeSet::new();
    for (i, l) in t.levels.iter().enumerate() {
        let lp = format!("{path}.levels[{i}]");
        if l.id.trim().is_empty() {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{lp}.id"),
                "empty level id",
            );
        } else if !ids.insert(l.id.as_str()) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{lp}.id"),
                format!("level id \"{}\" is used twice", l.id),
            );
        }
        match &l.requires {
            None if i > 0 => issues.push(
                ErrorCode::MissingField,
                format!("{lp}.requires"),
                "missing field `requires`: only the first level may have none (every partner \
                 holds it); a higher level without requirements would hold for everyone",
            ),
            None => {}
            Some(r) => {
                let rp = format!("{lp}.requires.{}", r.mode().as_str());
                if r.list().is_empty() {
                    issues.push(
                        ErrorCode::InvalidValue,
                        rp.clone(),
                        format!(
                            "an empty `{}` list is ambiguous (vacuously true or never true): \
                             list requirements, or omit `requires` on the first level",
                            r.mode().as_str()
                        ),
                    );
                }
                for (j, q) in r.list().iter().enumerate() {
                    requirement(q, &format!("{rp}[{j}]"), digits, issues);
                }
            }
        }
    }
    if let Some(init) = &t.initial
        && !t.levels.iter().any(|l| &l.id == init)
    {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.initial"),
            format!("initial level \"{init}\" is not one of the levels"),
        );
    }
    if t.demotion == Demotion::AfterPeriods(0) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.demotion.after_periods"),
            "demotion after 0 failed periods would demote before any period failed: expected 1 or more",
        );
    }
}

fn requirement(q: &Requirement, path: &str, digits: u32, issues: &mut Issues) {
    if q.window == Window::RollingDays(0) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.window.rolling_days"),
            "a window of 0 days holds nothing: expected 1 or more",
        );
    }
    threshold(
        q.metric,
        q.at_least,
        &format!("{path}.at_least"),
        digits,
        issues,
    );
}

/// A metric threshold: a whole count, or money of the plan currency; never negative.
fn threshold(metric: Metric, v: Dec, path: &str, digits: u32, issues: &mut Issues) {
    if metric.is_money() {
        money(v, path, digits, issues);
    } else if v.get() < Decimal::ZERO || v.get().fract() != Decimal::ZERO {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!(
                "{v} is not a count: {} is counted in whole numbers, 0 or more",
                metric.as_str()
            ),
        );
    }
}

fn percent(p: Dec, path: &str, issues: &mut Issues) {
    let v = p.get();
    if v < Decimal::ZERO || v > HUNDRED {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!("percent {v} is out of range: expected 0 to 100"),
        );
    }
}

/// Checks a `percent_by_tier` reward against the plan's tiers.
pub(super) fn percent_by_tier(
    rates: &std::collections::BTreeMap<String, Dec>,
    tiers: Option<&Tiers>,
    path: &str,
    issues: &mut Issues,
) {
    let Some(t) = tiers else {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            "`percent_by_tier` needs tier levels: the plan has no `tiers`",
        );
        return;
    };
    for (id, p) in rates {
        if !t.levels.iter().any(|l| &l.id == id) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.{id}"),
                format!("\"{id}\" is not a tier level"),
            );
        }
        percent(*p, &format!("{path}.{id}"), issues);
    }
    let missing: Vec<&str> = t
        .levels
        .iter()
        .filter(|l| !rates.contains_key(&l.id))
        .map(|l| l.id.as_str())
        .collect();
    if !missing.is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!(
                "no rate for level(s) {}: every level needs one (write \"0\" to pay nothing)",
                missing.join(", ")
            ),
        );
    }
}

/// Checks a `tiered` reward (`path` is `...reward.tiered`).
pub(super) fn tiered(r: &Rule, b: &Bands, path: &str, digits: u32, issues: &mut Issues) {
    if b.metric == Metric::Commission {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.metric"),
            "a band rate cannot depend on the commission it produces: measure revenue, \
             conversions, referrals or active_customers",
        );
    }
    if b.mode == BandMode::Graduated && !b.metric.is_money() {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.mode"),
            format!(
                "graduated bands split an amount across bands, and {} is a count: use \
                 this_event, next_event or retroactive",
                b.metric.as_str()
            ),
        );
    }
    if b.period == BandPeriod::RollingDays(0) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.period.rolling_days"),
            "a window of 0 days holds nothing: expected 1 or more",
        );
    }
    if b.bands.is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.bands"),
            "at least one band is needed",
        );
    }
    for (i, band) in b.bands.iter().enumerate() {
        let bp = format!("{path}.bands[{i}]");
        threshold(b.metric, band.from, &format!("{bp}.from"), digits, issues);
        if i == 0 && !band.from.get().is_zero() {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{bp}.from"),
                "the first band must start at 0, so that every running total has a rate",
            );
        }
        if i > 0 && band.from.get() <= b.bands[i - 1].from.get() {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{bp}.from"),
                format!(
                    "bands must start at increasing values: {} does not follow {}",
                    band.from,
                    b.bands[i - 1].from
                ),
            );
        }
        percent(band.percent, &format!("{bp}.percent"), issues);
        if b.mode == BandMode::Retroactive
            && i > 0
            && band.percent.get() < b.bands[i - 1].percent.get()
        {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{bp}.percent"),
                "retroactive bands top earlier events up to the new rate, so rates must not \
                 decrease from one band to the next",
            );
        }
    }
    let l = &r.limits;
    if b.mode == BandMode::Retroactive
        && (l.max_per_event.is_some()
            || l.min_per_event.is_some()
            || l.max_per_customer.is_some()
            || l.max_per_period.is_some())
    {
        issues.push(
            ErrorCode::InvalidValue,
            path.replace(".reward.tiered", ".limits"),
            "limits on a retroactive rule are ambiguous (a true-up spans many events and \
             customers): cap the rate with bands instead",
        );
    }
}

/// Checks a `when.tier` condition against the plan's tiers.
pub(super) fn tier_condition(
    list: &[String],
    tiers: Option<&Tiers>,
    path: &str,
    issues: &mut Issues,
) {
    let Some(t) = tiers else {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            "the `tier` condition needs tier levels: the plan has no `tiers`",
        );
        return;
    };
    for (i, id) in list.iter().enumerate() {
        if !t.levels.iter().any(|l| &l.id == id) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}[{i}]"),
                format!("\"{id}\" is not a tier level"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::Plan;

    /// Every problem of a plan, as `CODE path`.
    fn problems(plan: serde_json::Value) -> Vec<String> {
        Plan::validate_json(&plan.to_string())
            .iter()
            .map(|e| format!("{} {}", e.code(), e.path()))
            .collect()
    }

    #[test]
    fn every_incentive_problem_is_reported() {
        let got = problems(serde_json::json!({
            "schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
            "tiers": {
                "initial": "platinum",
                "demotion": {"after_periods": 0},
                "levels": [
                    {"id": "bronze"},
                    {"id": "silver"},
                    {"id": "silver", "requires": {"all": [
                        {"metric": "referrals", "at_least": "1.5"},
                        {"metric": "revenue", "window": {"rolling_days": 0}, "at_least": "1.001"}
                    ]}}
                ]
            },
            "rules": [
                {"id": "a", "reward": {"percent_by_tier": {"bronze": "10", "gold": "120"}}},
                {"id": "b", "when": {"event": "signup", "tier": ["gold"]},
                 "reward": {"tiered": {"metric": "commission", "period": {"rolling_days": 0},
                    "mode": "retroactive",
                    "bands": [{"from": "5", "percent": "10"}, {"from": "5", "percent": "5"}]}},
                 "limits": {"max_per_event": "1.00"}},
                {"id": "c", "reward": {"tiered": {"metric": "conversions", "period": "month",
                    "mode": "graduated", "bands": []}}}
            ],
            "bonuses": [
                {"id": "m", "kind": "milestone", "metric": "referrals", "at_least": "0",
                 "period": "month"},
                {"id": "m", "kind": "period", "metric": "conversions", "at_least": "1",
                 "percent": "5"}
            ],
            "overrides": [{"level": 0, "percent": "60"}, {"level": 2, "percent": "60"},
                          {"level": 2, "percent": "1"}],
            "referee_reward": {"kind": "free_months", "value": "1.5", "on": "signup", "months": 2}
        }));
        let want = [
            "MissingField plan.tiers.levels[1].requires",
            "InvalidValue plan.tiers.levels[2].id",
            "InvalidValue plan.tiers.levels[2].requires.all[0].at_least",
            "InvalidValue plan.tiers.levels[2].requires.all[1].window.rolling_days",
            "InvalidValue plan.tiers.levels[2].requires.all[1].at_least",
            "InvalidValue plan.tiers.initial",
            "InvalidValue plan.tiers.demotion.after_periods",
            "InvalidValue plan.bonuses[0].at_least",
            "InvalidValue plan.bonuses[0].period",
            "MissingField plan.bonuses[0].amount",
            "InvalidValue plan.bonuses[1].id",
            "InvalidValue plan.bonuses[1].percent",
            "InvalidValue plan.overrides[0].level",
            "InvalidValue plan.overrides[2].level",
            "InvalidValue plan.overrides",
            "InvalidValue plan.referee_reward.value",
            "InvalidValue plan.referee_reward.months",
        ];
        for w in want {
            assert!(got.iter().any(|g| g == w), "missing {w} in {got:#?}");
        }
        let rules = [
            "InvalidValue plan.rules[0].reward.percent_by_tier.gold",
            "InvalidValue plan.rules[0].reward.percent_by_tier",
            "InvalidValue plan.rules[1].reward.tiered.metric",
            "InvalidValue plan.rules[1].reward.tiered.period.rolling_days",
            "InvalidValue plan.rules[1].reward.tiered.bands[0].from",
            "InvalidValue plan.rules[1].reward.tiered.bands[1].from",
            "InvalidValue plan.rules[1].reward.tiered.bands[1].percent",
            "InvalidValue plan.rules[1].limits",
            "InvalidValue plan.rules[1].reward.tiered",
            "InvalidValue plan.rules[1].when.tier[0]",
            "InvalidValue plan.rules[2].reward.tiered.mode",
            "InvalidValue plan.rules[2].reward.tiered.bands",
        ];
        for w in rules {
            assert!(got.iter().any(|g| g == w), "missing {w} in {got:#?}");
        }
    }

    #[test]
    fn a_reward_is_exactly_one_kind() {
        let plan = |reward: serde_json::Value| {
            problems(serde_json::json!({
                "schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
                "rules": [{"id": "r", "reward": reward}]
            }))
        };
        assert_eq!(
            plan(serde_json::json!({"percent": "10", "flat": "5.00"})),
            ["InvalidValue plan.rules[0].reward"]
        );
        assert_eq!(
            plan(serde_json::json!({"instrument": "credit"})),
            ["InvalidValue plan.rules[0].reward"]
        );
        assert_eq!(
            plan(serde_json::json!({"percent": "10", "instrument": "coupon"})),
            ["InvalidValue plan.rules[0].reward.instrument"]
        );
        assert!(plan(serde_json::json!({"percent": "10", "instrument": "credit"})).is_empty());
    }
}
