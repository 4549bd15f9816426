//! `Plan`: a plan document held as JSON text, validated by the core on demand (the shape
//! shared with `Scenario` is in [`crate::document`]).

use pyo3::prelude::*;

use crate::document::document_class;

document_class!(
    /// A plan document (`{"schema": "partnerkit/plan@1", ...}`).
    Plan,
    "plan",
    partnerkit::Plan::validate_json
);
