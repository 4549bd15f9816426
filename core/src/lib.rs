//! partnerkit: exact, deterministic, explainable money maths for partner, affiliate and
//! referral programs.
//!
//! Everything is a pure function of its inputs — plan, partners, events, FX rates and
//! `as_of` — so the same inputs give byte-identical reports on every platform and in every
//! binding. Money is `rust_decimal`, rounded once per ledger entry with the plan's declared
//! mode; every entry carries an explanation from which a partner can recompute its cent.
//!
//! ```
//! let input = r#"{
//!   "plan": {"schema": "partnerkit/plan@1", "id": "affiliates", "currency": "USD",
//!            "rules": [{"id": "base", "reward": {"percent": "20"}}]},
//!   "partners": [{"id": "ana"}],
//!   "events": [
//!     {"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z",
//!      "partner": "ana", "customer": "c1", "channel": "link"},
//!     {"id": "p1", "kind": "payment", "at": "2026-01-15T12:00:00Z",
//!      "customer": "c1", "amount": "49.00", "currency": "USD"}
//!   ],
//!   "as_of": "2026-03-01T00:00:00Z"
//! }"#;
//! let report = partnerkit::evaluate_json(input).unwrap();
//! assert_eq!(report.entries[0].amount.to_string(), "9.80");
//! assert!(report.to_canonical_json().starts_with(r#"{"schema":"partnerkit/report@1""#));
//! ```
#![forbid(unsafe_code)]

mod attribution;
mod canonical;
mod commission;
pub mod dec;
mod engine;
pub mod error;
pub mod fast;
pub mod fx;
pub mod guard;
mod incentives;
mod incremental;
pub mod input;
mod json;
pub mod ledger;
mod lifecycle;
mod limits;
pub mod money;
pub mod payouts;
pub mod plan;
pub mod report;
pub mod simulate;
pub mod tiers;
pub mod time;

pub use engine::{evaluate, evaluate_json, evaluate_json_with, evaluate_with};
pub use limits::Limits;

/// The README's Rust example, compiled and run as a doctest so that it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use error::{Error, ErrorCode, Problem, Result};
pub use guard::guard;
pub use incremental::Engine;
pub use input::{Input, json_schema as input_json_schema};
pub use plan::{Plan, json_schema};
pub use report::Report;
