//! partnerkit: exact, deterministic, explainable money maths for partner programs.
#![forbid(unsafe_code)]

pub mod money;
pub mod time;
