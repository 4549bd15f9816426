//! Plans: parsing with every problem reported at once, validation, and the JSON Schema.
//!
//! A plan is parsed in two passes. The structural pass reads each top-level field (and each
//! rule) on its own, so one typo does not hide the next one; the semantic pass then checks
//! what types cannot say (ranges, uniqueness, features this version does not implement).
//! Only a plan with no problem at all becomes a [`Plan`].

mod incentives;
mod parse;
mod types;
mod validate;

pub use incentives::*;
pub use types::*;

use chrono_tz::Tz;

use crate::error::{Error, Issues, Result};
use crate::time::Instant;

/// A validated plan, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Plan {
    doc: PlanDoc,
    tz: Tz,
    windows: Vec<RuleWindow>,
}

/// A rule's `[from, until)` campaign dates, parsed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RuleWindow {
    pub from: Option<Instant>,
    pub until: Option<Instant>,
}

impl Plan {
    /// Parses and validates a plan document. The error is the first problem found; its
    /// message counts the others ([`Plan::validate_json`] lists them all).
    pub fn from_json(json: &str) -> Result<Plan> {
        let value = parse::json_value(json, "plan")?;
        Plan::from_value(&value, "plan")
    }

    /// Parses and validates a plan given as a JSON value; `root` prefixes error paths.
    pub fn from_value(value: &serde_json::Value, root: &str) -> Result<Plan> {
        let (plan, issues) = Plan::check(value, root);
        issues.into_result()?;
        plan.ok_or_else(|| Error::new(crate::ErrorCode::Internal, root, "plan not built"))
    }

    /// Every problem of a plan document, in document order; empty when it is valid.
    pub fn validate_json(json: &str) -> Vec<Error> {
        match parse::json_value(json, "plan") {
            Err(e) => vec![e],
            Ok(v) => Plan::check(&v, "plan").1.0,
        }
    }

    fn check(value: &serde_json::Value, root: &str) -> (Option<Plan>, Issues) {
        let mut issues = Issues::default();
        let Some(doc) = parse::plan_doc(value, root, &mut issues) else {
            return (None, issues);
        };
        let checked = validate::validate(&doc, root, &mut issues);
        if !issues.is_empty() {
            return (None, issues);
        }
        let Some((tz, windows)) = checked else {
            return (None, issues);
        };
        (Some(Plan { doc, tz, windows }), issues)
    }

    /// The plan document as written (with defaults filled in).
    pub fn doc(&self) -> &PlanDoc {
        &self.doc
    }

    /// The plan id.
    pub fn id(&self) -> &str {
        &self.doc.id
    }

    /// The plan's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub(crate) fn window(&self, rule: usize) -> RuleWindow {
        self.windows.get(rule).copied().unwrap_or_default()
    }
}

/// The JSON Schema of the plan document, generated from the Rust types, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PlanDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
