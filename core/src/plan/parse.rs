//! The structural pass: each top-level field and each rule is read on its own, so that
//! every structural problem of a plan is reported at once instead of the first one only.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::types::{PlanDoc, Rule};
use crate::error::{ErrorCode, Issues};
use crate::json::{Fields, from_value_at, join, missing_fields, unknown_field};

pub(crate) use crate::json::json_value;

/// Top-level fields: name and whether it is required.
const FIELDS: Fields = &[
    ("schema", true),
    ("id", true),
    ("name", false),
    ("currency", true),
    ("timezone", false),
    ("rounding", false),
    ("commission_base", false),
    ("attribution", false),
    ("rules", false),
    ("combine", false),
    ("tiers", false),
    ("bonuses", false),
    ("overrides", false),
    ("referee_reward", false),
    ("lifecycle", false),
    ("payouts", false),
    ("fraud", false),
    ("grandfather", false),
    ("health", false),
];

/// Reads the plan document; records every structural problem in `issues`.
pub(crate) fn plan_doc(value: &Value, root: &str, issues: &mut Issues) -> Option<PlanDoc> {
    let Some(obj) = value.as_object() else {
        issues.push(
            ErrorCode::InvalidValue,
            root,
            "expected a plan object like {\"schema\": \"partnerkit/plan@1\", ...}",
        );
        return None;
    };
    let before = issues.0.len();
    let mut unknown = 0;
    for (key, v) in obj {
        let path = join(root, key);
        match key.as_str() {
            "rules" => check_rules(v, &path, issues),
            k if FIELDS.iter().any(|(f, _)| *f == k) => check_field(k, v, &path, issues),
            _ => {
                unknown += 1;
                unknown_field(issues, root, key, FIELDS);
            }
        }
    }
    missing_fields(issues, obj, root, FIELDS);
    // Unknown top-level fields do not stop the semantic pass: without them the plan still
    // reads, and its author gets every other problem in the same run.
    if issues.0.len() > before + unknown {
        return None;
    }
    let known: serde_json::Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| FIELDS.iter().any(|(f, _)| f == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match from_value_at::<PlanDoc>(&Value::Object(known), root) {
        Ok(doc) => Some(doc),
        Err(e) => {
            issues.0.push(e);
            None
        }
    }
}

fn check_rules(v: &Value, path: &str, issues: &mut Issues) {
    match v.as_array() {
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                check::<Rule>(item, &format!("{path}[{i}]"), issues);
            }
        }
        None => check::<Vec<Rule>>(v, path, issues),
    }
}

/// Reads one top-level field with the type `PlanDoc` gives it.
fn check_field(key: &str, v: &Value, path: &str, issues: &mut Issues) {
    use super::incentives::*;
    use super::types::*;
    use crate::money::{Currency, Rounding};
    match key {
        "schema" | "id" | "timezone" => check::<String>(v, path, issues),
        "name" => check::<Option<String>>(v, path, issues),
        "currency" => check::<Currency>(v, path, issues),
        "rounding" => check::<Rounding>(v, path, issues),
        "commission_base" => check::<CommissionBase>(v, path, issues),
        "attribution" => check::<Attribution>(v, path, issues),
        "combine" => check::<Combine>(v, path, issues),
        "lifecycle" => check::<Lifecycle>(v, path, issues),
        "payouts" => check::<Payouts>(v, path, issues),
        "health" => check::<Health>(v, path, issues),
        "fraud" => check::<Fraud>(v, path, issues),
        "tiers" => check::<Tiers>(v, path, issues),
        "bonuses" => check::<Vec<Bonus>>(v, path, issues),
        "overrides" => check::<Vec<Override>>(v, path, issues),
        "referee_reward" => check::<RefereeReward>(v, path, issues),
        "grandfather" => check::<Grandfather>(v, path, issues),
        _ => {}
    }
}

fn check<T: DeserializeOwned>(v: &Value, path: &str, issues: &mut Issues) {
    if let Err(e) = from_value_at::<T>(v, path) {
        issues.0.push(e);
    }
}
