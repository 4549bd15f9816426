//! Plan versions (SPEC §2.5): `plan_history: [{effective_from, plan}]`.
//!
//! Each version is a whole plan, validated on its own. An event is priced under the version
//! in force at its instant (or, when that version says `grandfather: "customer"`, under the
//! version in force at the customer's first conversion). What spans versions must not
//! change between them: the plan id, currency, time zone and rounding, attribution, the
//! lifecycle and payout settings and health (one ledger, one set of statements), and the
//! shape of the tiers (levels, initial level, period and evaluation), because a partner's
//! tier carries over from one version to the next.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::Plan;
use crate::error::{Error, ErrorCode, Issues, Result};
use crate::input::At;
use crate::json::from_value_at;
use crate::time::Instant;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionDoc {
    effective_from: At,
    plan: Value,
}

impl Plan {
    /// Parses and validates a plan history given as a JSON value; `root` prefixes paths.
    pub fn from_history_value(value: &Value, root: &str) -> Result<Plan> {
        let docs: Vec<VersionDoc> = from_value_at(value, root)?;
        if docs.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                root,
                "a plan history needs at least one version",
            ));
        }
        let mut versions: Vec<(Instant, Plan)> = Vec::with_capacity(docs.len());
        for (i, d) in docs.iter().enumerate() {
            let path = format!("{root}[{i}]");
            let plan = Plan::from_value(&d.plan, &format!("{path}.plan"))?;
            if let Some((prev, _)) = versions.last()
                && d.effective_from.0 <= *prev
            {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!("{path}.effective_from"),
                    "versions must be listed in the order they take effect, each strictly \
                     after the previous one",
                ));
            }
            versions.push((d.effective_from.0, plan));
        }
        let mut issues = Issues::default();
        let first = &versions[0].1;
        for (i, (_, v)) in versions.iter().enumerate().skip(1) {
            same_shared(first, v, &format!("{root}[{i}].plan"), &mut issues);
        }
        issues.into_result()?;
        let outer = versions[0].1.clone();
        Ok(Plan {
            history: Arc::from(versions),
            ..outer
        })
    }
}

/// Records every setting of `v` that must equal the first version's but does not.
fn same_shared(first: &Plan, v: &Plan, path: &str, issues: &mut Issues) {
    let (a, b) = (first.doc(), v.doc());
    let mut differs = |field: &str, same: bool| {
        if !same {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.{field}"),
                format!(
                    "`{field}` must be the same in every version of a plan: it spans \
                     versions (one ledger, one set of statements); start a new plan instead"
                ),
            );
        }
    };
    differs("id", a.id == b.id);
    differs("currency", a.currency == b.currency);
    differs("timezone", a.timezone == b.timezone);
    differs("rounding", a.rounding == b.rounding);
    differs("attribution", a.attribution == b.attribution);
    differs("lifecycle", a.lifecycle == b.lifecycle);
    differs("payouts", a.payouts == b.payouts);
    differs("health", a.health == b.health);
    differs("fraud", a.fraud == b.fraud);
    let shape = |p: &super::PlanDoc| {
        p.tiers.as_ref().map(|t| {
            (
                t.levels.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
                t.initial.clone(),
                t.period,
                t.evaluation,
            )
        })
    };
    differs("tiers", shape(a) == shape(b));
}
