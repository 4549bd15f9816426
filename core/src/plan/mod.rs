//! Plans: parsing with every problem reported at once, validation, and the JSON Schema.
//!
//! A plan is parsed in two passes. The structural pass reads each top-level field (and each
//! rule) on its own, so one typo does not hide the next one; the semantic pass then checks
//! what types cannot say (ranges, uniqueness, features this version does not implement).
//! Only a plan with no problem at all becomes a [`Plan`].

mod history;
mod incentives;
mod parse;
mod types;
mod validate;

pub use incentives::*;
pub use types::*;

use std::sync::Arc;

use chrono_tz::Tz;

use crate::error::{Error, Issues, Result};
use crate::time::Instant;

/// A validated plan, ready to evaluate: one document, or a history of versions.
///
/// Cloning is cheap (shared parts), so the engine can hold the version it prices with.
#[derive(Clone, Debug)]
pub struct Plan {
    doc: Arc<PlanDoc>,
    tz: Tz,
    windows: Arc<[RuleWindow]>,
    /// Plan versions (SPEC §2.5) with the instant each takes effect, earliest first; empty
    /// for a single plan. The outer plan is the first version: the settings every version
    /// shares (currency, time zone, rounding, attribution, lifecycle, payouts, health) are
    /// read from it.
    history: Arc<[(Instant, Plan)]>,
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
        let plan = Plan {
            doc: Arc::new(doc),
            tz,
            windows: windows.into(),
            history: Arc::new([]),
        };
        (Some(plan), issues)
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

    /// Every version with the instant it takes effect (`None`: a single plan).
    pub fn versions(&self) -> Vec<(Option<Instant>, &Plan)> {
        if self.history.is_empty() {
            return vec![(None, self)];
        }
        self.history.iter().map(|(at, p)| (Some(*at), p)).collect()
    }

    /// Version `i` (the plan itself when it has no history).
    #[inline]
    pub fn version(&self, i: usize) -> &Plan {
        self.history.get(i).map_or(self, |(_, p)| p)
    }

    /// When version `i` takes effect (`None` for a single plan).
    #[inline]
    pub fn effective_from(&self, i: usize) -> Option<Instant> {
        self.history.get(i).map(|(at, _)| *at)
    }

    /// The version in force at `t`: the last one taking effect at or before it (the first
    /// version also covers everything before it).
    pub fn version_at(&self, t: Instant) -> usize {
        self.history
            .partition_point(|(from, _)| *from <= t)
            .saturating_sub(1)
    }

    /// The version in force just before `t`: the one a period ending at `t` is judged by.
    pub fn version_before(&self, t: Instant) -> usize {
        self.history
            .partition_point(|(from, _)| *from < t)
            .saturating_sub(1)
    }

    /// Where version `v` sits in the input, for error paths: `plan`, or
    /// `plan_history[v].plan`.
    pub fn version_root(&self, v: usize) -> String {
        if self.history.is_empty() {
            "plan".to_owned()
        } else {
            format!("plan_history[{v}].plan")
        }
    }

    /// Whether some version keeps customers on the version of their first conversion.
    pub fn grandfathers(&self) -> bool {
        self.history
            .iter()
            .any(|(_, p)| p.doc.grandfather == Grandfather::Customer)
    }
}

/// The JSON Schema of the plan document, generated from the Rust types, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PlanDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
