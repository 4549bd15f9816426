//! `Engine`: the incremental engine (SPEC §12) as a Swift and Kotlin object.
//!
//! An app or backend keeps one engine per program, applies each event as it arrives and
//! asks for reports and balances; `snapshot()` persists it (`Data` / `ByteArray`) and
//! `Engine.restore` reads it back. Events, partners and FX rates cross as JSON text like
//! every document; what comes back is typed records.
//!
//! The core engine is held behind a mutex: uniffi objects may be called from any thread,
//! and the engine is the one piece of binding state that calls change.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use partnerkit::time::{Instant, fmt_instant, parse_instant};
use partnerkit::{Error, ErrorCode as Core, Result as CoreResult, guard};
use rust_decimal::Decimal;

use crate::report::{Entry, EntryKind, EntryStatus, Report};
use crate::{PartnerKitError, limits};

/// An incremental evaluation: a plan, its partners and FX rates, and the events applied so
/// far. `engine.report(t)` is byte for byte `evaluate` of the same inputs with `as_of: t`.
///
/// Events must come in canonical order (`at`, then kind, then id): an earlier one is
/// `LateEvent`. A redelivered event (same id, same content) is ignored; the same id with
/// other content is `ConflictingEvent`. A call that fails changes nothing.
#[derive(uniffi::Object)]
pub struct Engine {
    inner: Mutex<partnerkit::Engine>,
}

/// What a partner holds in one currency as of an instant, according to an engine.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct PartnerBalance {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the entries still in their hold.
    pub pending: Decimal,
    /// Sum of the entries past their hold and not yet paid by a statement (less what a
    /// statement wrote off).
    pub available: Decimal,
    /// Sum of the entries settled by statements.
    pub paid: Decimal,
}

/// A partner's tier and what it still needs for the next one.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TierProgress {
    /// The partner id.
    pub partner: String,
    /// Its tier as of the instant asked.
    pub tier: String,
    /// The next tier up, or `null` at the top.
    pub next_tier: Option<String>,
    /// `"any"` or `"all"`: how the next tier's requirements combine (`null` at the top).
    pub requires: Option<String>,
    /// The next tier's requirements, in plan order.
    pub requirements: Vec<TierRequirement>,
}

/// One requirement of the next tier: where the partner stands on its metric.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TierRequirement {
    /// `referrals`, `conversions`, `revenue`, `commission` or `active_customers`.
    pub metric: String,
    /// `period`, `lifetime` or `rolling_days`.
    pub window: String,
    /// The length of a `rolling_days` window; `null` otherwise.
    pub rolling_days: Option<u32>,
    /// The metric's value now (money in the plan currency for revenue and commission).
    pub current: Decimal,
    /// The value the tier requires.
    pub target: Decimal,
    /// What is left to reach it (zero when reached).
    pub remaining: Decimal,
}

impl Engine {
    fn wrap(inner: partnerkit::Engine) -> Arc<Engine> {
        Arc::new(Engine {
            inner: Mutex::new(inner),
        })
    }

    /// Runs `f` on the engine inside the core's panic guard. The core engine already rolls
    /// its own state back on an error or a panic inside an apply; a panic anywhere else
    /// while the engine is locked poisons the mutex, and every later call is refused
    /// (`Internal`) rather than answered from a state nobody can vouch for.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut partnerkit::Engine) -> CoreResult<T>,
    ) -> Result<T, PartnerKitError> {
        Ok(guard(|| {
            let mut engine = self.inner.lock().map_err(|_| {
                Error::new(
                    Core::Internal,
                    "",
                    "an earlier call panicked inside this engine (a bug: please report it), so \
                     its state cannot be trusted: restore it from a snapshot taken before, or \
                     build a new engine from the event log",
                )
            })?;
            f(&mut engine)
        })?)
    }
}

#[uniffi::export]
impl Engine {
    /// An engine for the plan, partners and FX rates of `document_json` (`{plan, partners,
    /// fx, events?, as_of?}`), with its events (up to `as_of`, if given) applied, under the
    /// host's limits (`limits_json`, as for `evaluate`; absent, the defaults).
    #[uniffi::constructor(default(limits_json = None))]
    pub fn new(
        document_json: String,
        limits_json: Option<String>,
    ) -> Result<Arc<Engine>, PartnerKitError> {
        let inner = guard(|| {
            partnerkit::Engine::from_json_with(&document_json, &limits(limits_json.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Rebuilds an engine from `snapshot()` bytes (of this or an earlier version), under
    /// the host's limits (`limits_json`; a snapshot does not carry them: pass those the
    /// engine was built with). Anything else — garbage, truncated or corrupted bytes — is a
    /// `PartnerKitError`.
    #[uniffi::constructor(default(limits_json = None))]
    pub fn restore(
        snapshot: Vec<u8>,
        limits_json: Option<String>,
    ) -> Result<Arc<Engine>, PartnerKitError> {
        let inner = guard(|| {
            partnerkit::Engine::restore_with(&snapshot, &limits(limits_json.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Applies one event (a JSON object) or several (a JSON array, all or nothing) and
    /// returns the ledger entries they wrote, sorted like a report's, each with its status
    /// as of the event that wrote it (`pending` or `available`). A redelivery writes nothing.
    pub fn apply(&self, events_json: String) -> Result<Vec<Entry>, PartnerKitError> {
        let text = self.apply_json(events_json)?;
        Ok(guard(|| entries(&text))?)
    }

    /// [`Engine::apply`], returning the entries as the core's canonical JSON array (each
    /// entry the same bytes, explanation included, as in a report as of its event).
    pub fn apply_json(&self, events_json: String) -> Result<String, PartnerKitError> {
        self.with(|e| e.apply_json(&events_json))
    }

    /// Adds a partner (a JSON object), or updates one between events: once events were
    /// applied, an existing partner may only gain status changes after the last one.
    pub fn upsert_partner(&self, partner_json: String) -> Result<(), PartnerKitError> {
        self.with(|e| e.upsert_partner_json(&partner_json))
    }

    /// Adds FX rates (one `{date, from, to, rate}` object or an array) for events to come;
    /// a rate dated on or before the last applied event's day is `LateEvent`.
    pub fn add_fx(&self, rates_json: String) -> Result<(), PartnerKitError> {
        self.with(|e| e.add_fx_json(&rates_json))
    }

    /// The report as of `as_of`: byte for byte `evaluate` of the same plan, partners, FX
    /// rates and events with that `as_of`.
    pub fn report(&self, as_of: SystemTime) -> Result<Arc<Report>, PartnerKitError> {
        let report = self.with(|e| e.report(instant(as_of)?))?;
        Ok(Arc::new(Report::from(report)))
    }

    /// A partner's balance in each currency of its entries as of `as_of`. An undeclared
    /// partner is `UnknownPartner`.
    pub fn balances(
        &self,
        partner: String,
        as_of: SystemTime,
    ) -> Result<Vec<PartnerBalance>, PartnerKitError> {
        let text = self.with(|e| e.balance_json(&partner, &fmt_instant(instant(as_of)?)))?;
        Ok(guard(|| balances(&text))?)
    }

    /// A partner's progress toward its next tier as of `as_of` (SPEC §11): what a partner
    /// dashboard shows ("3 more referrals this month to reach Gold"). `null` when the plan
    /// in force has no tiers; an undeclared partner is `UnknownPartner`.
    pub fn progress(
        &self,
        partner: String,
        as_of: SystemTime,
    ) -> Result<Option<TierProgress>, PartnerKitError> {
        let text = self.with(|e| e.progress_json(&partner, &fmt_instant(instant(as_of)?)))?;
        Ok(guard(|| progress(&text))?)
    }

    /// The engine as bytes (a versioned, checksummed format that `Engine.restore` reads
    /// back in this and every later version).
    pub fn snapshot(&self) -> Result<Vec<u8>, PartnerKitError> {
        self.with(|e| Ok(e.snapshot()))
    }

    /// How many distinct events were applied (redeliveries not counted).
    pub fn events_applied(&self) -> Result<u64, PartnerKitError> {
        self.with(|e| Ok(e.events_applied()))
    }
}

/// A host instant (`Date` / `java.time.Instant`) as the core's instant. Instants beyond
/// the years the core can hold are `InvalidValue` at `as_of`.
fn instant(t: SystemTime) -> CoreResult<Instant> {
    let out_of_range = || Error::new(Core::InvalidValue, "as_of", "the instant is out of range");
    let dt = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs())
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, d.subsec_nanos())),
        // Before 1970: whole seconds down, nanoseconds up.
        Err(e) => {
            let d = e.duration();
            let (secs, nanos) = match d.subsec_nanos() {
                0 => (d.as_secs(), 0),
                n => (d.as_secs() + 1, 1_000_000_000 - n),
            };
            i64::try_from(secs)
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(-s, nanos))
        }
    };
    dt.ok_or_else(out_of_range)
}

/// The entry of the core's canonical entries JSON that the records carry (the explanation
/// is skipped).
#[derive(serde::Deserialize)]
struct EntryDoc {
    id: String,
    partner: String,
    kind: String,
    event: String,
    customer: Option<String>,
    rule: Option<String>,
    amount: String,
    currency: String,
    status: String,
    earned_at: String,
    available_at: String,
}

/// A document the core wrote that this binding cannot read: a bug, so `Internal`.
fn internal(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(Core::Internal, "", format!("{what}: {detail}"))
}

/// The entries `apply_json` wrote, as records. They are read from the core's canonical
/// bytes because only those carry each entry's status as of the event that wrote it; the
/// amounts keep their written digits.
fn entries(text: &str) -> CoreResult<Vec<Entry>> {
    let docs: Vec<EntryDoc> =
        serde_json::from_str(text).map_err(|e| internal("entries JSON of the engine", e))?;
    docs.into_iter().map(entry).collect()
}

fn entry(d: EntryDoc) -> CoreResult<Entry> {
    let kind = match d.kind.as_str() {
        "commission" => EntryKind::Commission,
        "override" => EntryKind::Override,
        "bonus" => EntryKind::Bonus,
        "true_up" => EntryKind::TrueUp,
        "reversal" => EntryKind::Reversal,
        "adjustment" => EntryKind::Adjustment,
        other => return Err(internal("entry kind", other)),
    };
    let status = match d.status.as_str() {
        "pending" => EntryStatus::Pending,
        "available" => EntryStatus::Available,
        "paid" => EntryStatus::Paid,
        other => return Err(internal("entry status", other)),
    };
    let at = |s: &str| {
        parse_instant(s)
            .map(SystemTime::from)
            .map_err(|e| internal("entry instant", e))
    };
    Ok(Entry {
        amount: exact(&d.amount)?,
        kind,
        status,
        earned_at: at(&d.earned_at)?,
        available_at: at(&d.available_at)?,
        id: d.id,
        partner: d.partner,
        event: d.event,
        customer: d.customer,
        rule: d.rule,
        currency: d.currency,
    })
}

/// A decimal the core wrote, scale kept (`9.80` stays `9.80`).
fn exact(text: &str) -> CoreResult<Decimal> {
    text.parse::<Decimal>()
        .map_err(|e| internal(&format!("decimal {text:?}"), e))
}

/// The core's balance document as records.
fn balances(text: &str) -> CoreResult<Vec<PartnerBalance>> {
    #[derive(serde::Deserialize)]
    struct Doc {
        balances: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        currency: String,
        pending: String,
        available: String,
        paid: String,
    }
    let doc: Doc =
        serde_json::from_str(text).map_err(|e| internal("balance JSON of the engine", e))?;
    doc.balances
        .into_iter()
        .map(|r| {
            Ok(PartnerBalance {
                pending: exact(&r.pending)?,
                available: exact(&r.available)?,
                paid: exact(&r.paid)?,
                currency: r.currency,
            })
        })
        .collect()
}

/// The core's progress document as a record (`null` when the plan has no tiers).
fn progress(text: &str) -> CoreResult<Option<TierProgress>> {
    #[derive(serde::Deserialize)]
    struct Doc {
        partner: String,
        tier: String,
        next_tier: Option<String>,
        requires: Option<String>,
        requirements: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Window {
        Named(String),
        Rolling { rolling_days: u32 },
    }
    #[derive(serde::Deserialize)]
    struct Row {
        metric: String,
        window: Window,
        current: String,
        target: String,
        remaining: String,
    }
    let doc: Option<Doc> =
        serde_json::from_str(text).map_err(|e| internal("progress JSON of the engine", e))?;
    let Some(doc) = doc else { return Ok(None) };
    let requirements = doc
        .requirements
        .into_iter()
        .map(|r| {
            let (window, rolling_days) = match r.window {
                Window::Named(w) => (w, None),
                Window::Rolling { rolling_days } => ("rolling_days".to_owned(), Some(rolling_days)),
            };
            Ok(TierRequirement {
                metric: r.metric,
                window,
                rolling_days,
                current: exact(&r.current)?,
                target: exact(&r.target)?,
                remaining: exact(&r.remaining)?,
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(Some(TierProgress {
        partner: doc.partner,
        tier: doc.tier,
        next_tier: doc.next_tier,
        requires: doc.requires,
        requirements,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn host_instants_cross_exactly() {
        let at = |t: SystemTime| fmt_instant(instant(t).unwrap());
        let epoch = SystemTime::UNIX_EPOCH;
        assert_eq!(at(epoch), "1970-01-01T00:00:00Z");
        assert_eq!(
            at(epoch + Duration::new(1_768_478_400, 250_000_000)),
            "2026-01-15T12:00:00.250Z"
        );
        assert_eq!(
            at(epoch - Duration::new(1, 250_000_000)),
            "1969-12-31T23:59:58.750Z"
        );
    }

    #[test]
    fn entries_keep_the_written_digits() {
        let text = r#"[{"id": "commission:p1:r:ana", "partner": "ana", "kind": "true_up",
            "event": "p1", "customer": null, "rule": "r", "amount": "9.80", "currency": "USD",
            "status": "pending", "earned_at": "2026-01-15T12:00:00Z",
            "available_at": "2026-02-14T12:00:00Z", "explain": {"formula": "x"}}]"#;
        let e = entries(text).unwrap().remove(0);
        assert_eq!(e.amount.to_string(), "9.80");
        assert_eq!(e.kind, EntryKind::TrueUp);
        assert_eq!(e.customer, None);
        let bad = text.replace("true_up", "gift");
        assert_eq!(entries(&bad).unwrap_err().code(), Core::Internal);
    }
}
