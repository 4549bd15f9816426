//! `report::FIELD_TYPES` stays true to the canonical report: over every vector's report,
//! each string under a typed key reads as its type, and every key is either typed or known
//! to be text. A new report field fails here until it is classified, so bindings that hand
//! typed values to their host (Python's `Decimal`, `datetime`) never see it as a bare string.

mod common;

use std::collections::BTreeSet;
use std::str::FromStr;

use partnerkit::report::{FieldType, field_type};
use rust_decimal::Decimal;
use serde_json::Value;

/// Keys of the canonical report whose values are text, numbers, booleans or containers.
const TEXT_KEYS: &[&str] = &[
    "activated",
    "attribution",
    "basis",
    "beaten_by",
    "because",
    "bonus",
    "cause",
    "change",
    "channel",
    "child",
    "child_entry",
    "clicks",
    "combine",
    "conversions",
    "currency",
    "customer",
    "decided_by",
    "detail",
    "duplicates_ignored",
    "effect",
    "entries",
    "entry",
    "evaluation",
    "event",
    "events",
    "excluded",
    "explain",
    "failed_periods",
    "flag",
    "flags",
    "follows",
    "formula",
    // A band's start (a decimal) in `tiered` explanations, a tier change's instant in the
    // timeline: one key, two types, so read as text.
    "from",
    "fx",
    "grandfathered",
    "half_life_days",
    "holds",
    "id",
    "inactive",
    "index",
    "instrument",
    "inverse",
    "kind",
    "level",
    "levels",
    "limit",
    "limits",
    "lines",
    "lock",
    "matched",
    "met",
    "metric",
    "metrics",
    "mode",
    "model",
    "months",
    "next_tier",
    "on",
    "override",
    "paid",
    "partner",
    "partners",
    "parts",
    "payable",
    "payment",
    "payment_number",
    "percent_by_tier",
    "period",
    "plan",
    "plan_currency",
    "plan_version",
    "previous",
    "program",
    "progress",
    "reason",
    "referee_rewards",
    "referrals",
    "referred_by",
    "requirements",
    "requires",
    "reverses",
    "reward",
    "rolling_days",
    "rounding",
    "rule",
    "rules",
    "schema",
    "skipped",
    "source",
    "statements",
    "status",
    "tier",
    "tiered",
    "tiers",
    "touches",
    "unattributed",
    "weights",
    "why_this_rule",
    "window",
    "window_days",
];

fn walk(v: &Value, path: &str, errs: &mut Vec<String>, unknown: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let here = format!("{path}.{k}");
                match (field_type(k), child) {
                    (Some(t), Value::String(s)) => {
                        let ok = match t {
                            FieldType::Decimal => Decimal::from_str(s).is_ok(),
                            FieldType::Instant => partnerkit::time::parse_instant(s).is_ok(),
                            FieldType::Date => partnerkit::time::parse_date(s).is_ok(),
                            _ => false,
                        };
                        if !ok {
                            errs.push(format!("{here}: {s:?} does not read as {t:?}"));
                        }
                    }
                    (Some(_), _) => {}
                    (None, _) if TEXT_KEYS.contains(&k.as_str()) => {}
                    (None, _) => {
                        unknown.insert(k.clone());
                    }
                }
                walk(child, &here, errs, unknown);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), errs, unknown);
            }
        }
        _ => {}
    }
}

#[test]
fn typed_fields_read_as_their_type_and_every_key_is_classified() {
    let mut errs = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut reports = 0;
    for f in common::vector_files() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("read"))
            .expect("vector is JSON");
        if let Some(report) = v.get("expect_report") {
            reports += 1;
            walk(report, &f.display().to_string(), &mut errs, &mut unknown);
        }
    }
    assert!(reports > 0, "no vector reports found");
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    assert!(
        unknown.is_empty(),
        "report keys neither typed in report::FIELD_TYPES nor listed as text here: {unknown:?}"
    );
}

#[test]
fn typed_and_text_keys_are_disjoint() {
    for k in TEXT_KEYS {
        assert_eq!(field_type(k), None, "{k} is both typed and text");
    }
    assert_eq!(field_type("amount"), Some(FieldType::Decimal));
    assert_eq!(field_type("earned_at"), Some(FieldType::Instant));
    assert_eq!(field_type("due"), Some(FieldType::Date));
}
