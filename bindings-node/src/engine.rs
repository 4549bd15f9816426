//! `Engine`: the incremental engine (SPEC §12) as a JS object.
//!
//! A backend keeps one engine per program in memory, applies each webhook's event as it
//! arrives and asks for balances and reports; a snapshot (a `Buffer`) persists it. The core
//! engine is held behind a mutex: JS calls come from one thread today, but an engine is the
//! one piece of binding state that calls change, and the mutex is what keeps a half-done
//! change from being seen if a call ever panics (see [`Engine::with`]).
//!
//! Events, partners and FX rates cross as JSON text like every document; entries and
//! statements come back as `JSON.parse` of the core's canonical bytes.

use std::sync::Mutex;

use napi::bindgen_prelude::{Buffer, FromNapiValue, Uint8Array, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;

use crate::report::Report;
use crate::{convert, error};

/// An incremental evaluation: a plan, its partners and FX rates, and the events applied so
/// far. `engine.report(t)` is byte for byte `evaluate` of the same inputs with `as_of: t`.
#[napi]
pub struct Engine {
    inner: Mutex<partnerkit::Engine>,
}

/// What a partner holds in one currency as of an instant, according to an engine.
#[napi(object)]
pub struct PartnerBalance {
    /// ISO 4217 code.
    pub currency: String,
    /// Within its hold, as a decimal string with the currency's digits.
    pub pending: String,
    /// Past its hold and not yet paid by a statement, as a decimal string.
    pub available: String,
    /// Settled by statements, as a decimal string.
    pub paid: String,
}

impl Engine {
    fn wrap(inner: partnerkit::Engine) -> Engine {
        Engine {
            inner: Mutex::new(inner),
        }
    }

    fn start(env: &Env, document: Unknown, limits: Option<Unknown>) -> napi::Result<Engine> {
        let text = convert::document_text(env, "the document", document)?;
        let limits = convert::limits_text(env, limits)?;
        let inner = error::call(env, || {
            partnerkit::Engine::from_json_with(&text, &convert::limits(limits.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Runs `f` on the engine inside the core's panic guard. A panic while the engine is
    /// locked poisons the mutex: the engine may then hold half a change, so every later call
    /// is refused (`Internal`) rather than answered from a state nobody can vouch for.
    fn with<T>(
        &self,
        env: &Env,
        f: impl FnOnce(&mut partnerkit::Engine) -> partnerkit::Result<T>,
    ) -> napi::Result<T> {
        error::call(env, || {
            let mut engine = self.inner.lock().map_err(|_| {
                partnerkit::Error::new(
                    partnerkit::ErrorCode::Internal,
                    "",
                    "an earlier call panicked inside this engine (a bug: please report it), so \
                     its state cannot be trusted: restore it from a snapshot taken before, or \
                     build a new engine from the event log",
                )
            })?;
            f(&mut engine)
        })
    }
}

#[napi]
impl Engine {
    /// An engine for the plan, partners and FX rates of `document` (`{plan, partners, fx,
    /// events?, as_of?}`, a JSON string or an object), with its events (up to `as_of`, if
    /// given) applied, under the host's `limits`.
    #[napi(
        constructor,
        ts_args_type = "document: string | InputDocument, limits?: string | HostLimits | null"
    )]
    pub fn new(env: Env, document: Unknown, limits: Option<Unknown>) -> napi::Result<Engine> {
        Engine::start(&env, document, limits)
    }

    /// The same as `new Engine(document, limits)`.
    #[napi(
        factory,
        ts_args_type = "document: string | InputDocument, limits?: string | HostLimits | null"
    )]
    pub fn from_json(env: Env, document: Unknown, limits: Option<Unknown>) -> napi::Result<Engine> {
        Engine::start(&env, document, limits)
    }

    /// Rebuilds an engine from `snapshot()` bytes, under the host's `limits` (a snapshot
    /// does not carry them: pass those the engine was built with). Anything else is
    /// `InvalidSnapshot`.
    #[napi(
        factory,
        ts_args_type = "snapshot: Buffer | Uint8Array, limits?: string | HostLimits | null"
    )]
    pub fn restore(env: Env, snapshot: Unknown, limits: Option<Unknown>) -> napi::Result<Engine> {
        let bytes = bytes(&env, snapshot)?;
        let limits = convert::limits_text(&env, limits)?;
        let inner = error::call(&env, || {
            partnerkit::Engine::restore_with(&bytes, &convert::limits(limits.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Applies one event, or an array of them (all or nothing), given as objects or JSON
    /// text, and returns the ledger entries they wrote, with their status as of their event.
    /// Events must come in canonical order: an earlier one is `LateEvent`; a redelivered one
    /// is ignored, a changed one is `ConflictingEvent`. A failed call changes nothing.
    #[napi(
        ts_args_type = "events: string | Event | Event[]",
        ts_return_type = "Array<Entry>"
    )]
    pub fn apply<'env>(&self, env: &'env Env, events: Unknown) -> napi::Result<Unknown<'env>> {
        let text = self.apply_text(env, events)?;
        convert::parse_json(env, &text)
    }

    /// `apply`, returning the entries as the core's canonical JSON array.
    #[napi(ts_args_type = "events: string | Event | Event[]")]
    pub fn apply_json(&self, env: Env, events: Unknown) -> napi::Result<String> {
        self.apply_text(&env, events)
    }

    /// Adds a partner (object or JSON text), or updates one between events: see the core's
    /// `Engine::upsert_partner` for what may change once events were applied.
    #[napi(ts_args_type = "partner: string | Partner")]
    pub fn upsert_partner(&self, env: Env, partner: Unknown) -> napi::Result<()> {
        let text = convert::text_at(&env, "the partner", "partner", partner)?;
        self.with(&env, |e| e.upsert_partner_json(&text))
    }

    /// Adds FX rates (one or an array) for events to come; a rate dated on or before the
    /// last applied event's day is `LateEvent`.
    #[napi(ts_args_type = "rates: string | FxRate | FxRate[]")]
    pub fn add_fx(&self, env: Env, rates: Unknown) -> napi::Result<()> {
        let text = convert::text_at(&env, "the rates", "fx", rates)?;
        self.with(&env, |e| e.add_fx_json(&text))
    }

    /// The report as of `asOf` (RFC 3339): byte for byte `evaluate` of the same inputs.
    #[napi]
    pub fn report(&self, env: Env, as_of: String) -> napi::Result<Report> {
        let report = self.with(&env, |e| {
            let at = partnerkit::time::parse_instant(&as_of).map_err(|m| {
                partnerkit::Error::new(partnerkit::ErrorCode::InvalidValue, "as_of", m)
            })?;
            e.report(at)
        })?;
        Ok(Report::new(report))
    }

    /// A partner's balance in each currency of its entries as of `asOf`.
    #[napi]
    pub fn balance(
        &self,
        env: Env,
        partner: String,
        as_of: String,
    ) -> napi::Result<Vec<PartnerBalance>> {
        let text = self.with(&env, |e| e.balance_json(&partner, &as_of))?;
        error::call(&env, || balances(&text))
    }

    /// A partner's statements as of `asOf`: each the same object as in the report.
    #[napi(ts_return_type = "Array<Statement>")]
    pub fn statements<'env>(
        &self,
        env: &'env Env,
        partner: String,
        as_of: String,
    ) -> napi::Result<Unknown<'env>> {
        let text = self.with(env, |e| e.statements_json(&partner, &as_of))?;
        convert::parse_json(env, &text)
    }

    /// A partner's tier progress as of `asOf`: the same object as its item in the report's
    /// `progress` (tier, next tier, and per requirement current / target / remaining), or
    /// `null` when the plan in force has no tiers.
    #[napi(ts_return_type = "Progress | null")]
    pub fn progress<'env>(
        &self,
        env: &'env Env,
        partner: String,
        as_of: String,
    ) -> napi::Result<Unknown<'env>> {
        let text = self.with(env, |e| e.progress_json(&partner, &as_of))?;
        convert::parse_json(env, &text)
    }

    /// The engine as bytes (a versioned, checksummed format: `Engine.restore` reads it back
    /// in this and every later version).
    #[napi]
    pub fn snapshot(&self, env: Env) -> napi::Result<Buffer> {
        self.with(&env, |e| Ok(e.snapshot())).map(Buffer::from)
    }

    /// How many distinct events were applied (redeliveries not counted).
    #[napi(getter)]
    pub fn events_applied(&self, env: Env) -> napi::Result<i64> {
        self.with(&env, |e| Ok(e.events_applied()))
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Not part of the API: panics inside the core while this engine is locked, so tests can
    /// check that the panic throws `Internal` and that the engine then refuses every call.
    #[napi(js_name = "_debugPanic")]
    pub fn debug_panic(&self, env: Env, message: String) -> napi::Result<()> {
        self.with(&env, |_| partnerkit::guard::debug_panic(&message))
    }

    fn apply_text(&self, env: &Env, events: Unknown) -> napi::Result<String> {
        let text = convert::text_at(env, "the events", "events", events)?;
        self.with(env, |e| e.apply_json(&text))
    }
}

/// The bytes of a `Buffer` or `Uint8Array` argument.
fn bytes(env: &Env, value: Unknown) -> napi::Result<Uint8Array> {
    let wrong = |found: &str| {
        error::to_js(
            env,
            &error::invalid(
                "snapshot",
                format!("a snapshot is a Buffer or a Uint8Array, found {found}"),
            ),
        )
    };
    let t = value.get_type()?;
    if t == ValueType::Object && value.is_typedarray()? {
        // Buffers are Uint8Arrays; any other typed array is refused here.
        return Uint8Array::from_unknown(value).map_err(|_| wrong("another typed array"));
    }
    Err(wrong(convert::type_name(t)))
}

/// The core's balance document as records.
fn balances(text: &str) -> partnerkit::Result<Vec<PartnerBalance>> {
    let internal = |m: &str| partnerkit::Error::new(partnerkit::ErrorCode::Internal, "", m);
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| internal(&format!("balance JSON: {e}")))?;
    let rows = doc["balances"]
        .as_array()
        .ok_or_else(|| internal("balance JSON without balances"))?;
    rows.iter()
        .map(|row| {
            let field = |k: &str| {
                row[k]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| internal(&format!("balance JSON without {k}")))
            };
            Ok(PartnerBalance {
                currency: field("currency")?,
                pending: field("pending")?,
                available: field("available")?,
                paid: field("paid")?,
            })
        })
        .collect()
}
