//! `Plan`: a commission plan document, validated as a whole.

use std::sync::Arc;

use partnerkit::guard;

use crate::{ErrorCode, PartnerKitError};

/// A validated plan (`"schema": "partnerkit/plan@1"`).
#[derive(uniffi::Object)]
pub struct Plan(partnerkit::Plan);

#[uniffi::export]
impl Plan {
    /// Parses and validates a plan document. The error is the first problem found, its
    /// message counting the others; [`validate_plan`] lists them all.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Plan>, PartnerKitError> {
        let plan = guard(|| partnerkit::Plan::from_json(&json))?;
        Ok(Arc::new(Plan(plan)))
    }

    /// The plan's id.
    pub fn id(&self) -> String {
        self.0.id().to_owned()
    }

    /// The plan currency (ISO 4217): limits, flat rewards and metrics are in it.
    pub fn currency(&self) -> String {
        self.0.doc().currency.as_str().to_owned()
    }

    /// The IANA time zone in which the plan cuts months and counts hold days.
    pub fn timezone(&self) -> String {
        self.0.tz().name().to_owned()
    }
}

/// One problem of a plan document.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ValidationIssue {
    /// The stable code.
    pub code: ErrorCode,
    /// The document path of the value at fault, e.g. `plan.rules[0].reward.percent`.
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
}

/// Every problem of a plan document at once, in document order; empty when it is valid.
#[uniffi::export]
pub fn validate_plan(json: String) -> Result<Vec<ValidationIssue>, PartnerKitError> {
    let issues = guard(|| Ok(partnerkit::Plan::validate_json(&json)))?;
    Ok(issues
        .into_iter()
        .map(|e| ValidationIssue {
            code: e.code().into(),
            path: e.path().to_owned(),
            message: e.message().to_owned(),
        })
        .collect())
}
