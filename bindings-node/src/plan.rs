//! `Plan`: parse a plan document, or list every problem in it.

use napi::Env;
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;

use crate::convert;
use crate::error;

/// A validated commission plan (SPEC §2.1).
#[napi]
pub struct Plan {
    inner: partnerkit::Plan,
}

/// One problem of a document: the same three fields as a thrown error.
#[napi(object)]
pub struct Problem {
    /// Stable error code, e.g. `"InvalidValue"`.
    pub code: String,
    /// Document path of the offending value, e.g. `"plan.rules[0].reward.percent"`.
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
}

#[napi]
impl Plan {
    /// Parses and validates a plan (a JSON string or an object). Throws the first problem;
    /// its message counts the others, which `Plan.validate` lists.
    #[napi(factory, ts_args_type = "plan: string | PlanDocument")]
    pub fn from_json(env: Env, plan: Unknown) -> napi::Result<Plan> {
        let text = convert::document_text(&env, "the plan", plan)?;
        let inner = error::call(&env, || partnerkit::Plan::from_json(&text))?;
        Ok(Plan { inner })
    }

    /// Every problem of a plan document at once, in document order; empty when it is valid.
    #[napi(ts_args_type = "plan: string | PlanDocument")]
    pub fn validate(env: Env, plan: Unknown) -> napi::Result<Vec<Problem>> {
        let text = convert::document_text(&env, "the plan", plan)?;
        let problems = error::call(&env, || Ok(partnerkit::Plan::validate_json(&text)))?;
        Ok(problems
            .iter()
            .map(|e| Problem {
                code: e.code().as_str().to_owned(),
                path: e.path().to_owned(),
                message: e.message().to_owned(),
            })
            .collect())
    }

    /// The plan id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_owned()
    }

    /// The plan currency (ISO 4217).
    #[napi(getter)]
    pub fn currency(&self) -> String {
        self.inner.doc().currency.as_str().to_owned()
    }

    /// The IANA time zone in which the plan cuts calendar periods.
    #[napi(getter)]
    pub fn timezone(&self) -> String {
        self.inner.doc().timezone.clone()
    }
}
