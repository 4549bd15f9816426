//! `evaluate --incremental`: the same report through the incremental engine.
//!
//! The input's events (up to `as_of`) are fed one by one in canonical order, as a webhook
//! consumer would receive them, optionally snapshotting the engine to bytes and restoring it
//! every N events; the report is the batch report byte for byte, and so are the errors:
//! each event is applied under its place in the document (`events[i]`).

use partnerkit::{Engine, Error, Limits, Report};

/// Evaluates `text` event by event; `every` restores the engine from a snapshot after every
/// that many events. `limits` apply to the document as in batch evaluation.
pub fn evaluate(text: &str, every: Option<usize>, limits: &Limits) -> Result<Report, Error> {
    let input = limits.parse_input(text)?;
    let order = input.feed_order()?;
    let mut engine = Engine::from_parts_with(
        input.plan.clone(),
        input.partners.clone(),
        input.fx.clone(),
        limits,
    )?;
    for (k, &i) in order.iter().enumerate() {
        engine.apply_at(input.events[i].clone(), i)?;
        if every.is_some_and(|n| (k + 1) % n == 0) {
            engine = Engine::restore_with(&engine.snapshot(), limits)?;
        }
    }
    engine.report(input.as_of)
}
