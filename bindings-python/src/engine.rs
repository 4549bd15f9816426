//! `Engine`: the incremental engine (SPEC §12) as a Python object.
//!
//! A service keeps one engine per program in memory, applies each webhook's event as it
//! arrives and asks for balances and reports; `snapshot()` persists it and pickling goes
//! through it. The core engine is held behind a mutex, so threads may share an engine. A
//! thread waits for the mutex only with the GIL released (inside [`error::run`]), so it never
//! holds the GIL that the mutex's holder needs to finish. `apply` of one event dict takes
//! the mutex with the GIL held when the mutex is free, and releases the GIL only for a
//! failure's rebuild ([`Engine::apply_held`]).
//!
//! Events, partners and FX rates cross as JSON text like every document, except the one
//! event dict of `apply` (the webhook path), which is read straight into the core's event
//! (`event.rs`). Balances and statements come back as the core's canonical JSON, which the
//! facade types; `apply`'s entries come back as [`Entry`] mappings that type a value when
//! it is read (`entry.rs`).

use std::sync::{Mutex, TryLockError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::entry::Entry;
use crate::report::Report;
use crate::{convert, error};

/// An incremental evaluation: a plan, its partners and FX rates, and the events applied so
/// far. `report(t)` is byte for byte `evaluate` of the same inputs with `as_of` `t`.
#[pyclass(module = "partnerkit._native", frozen)]
pub struct Engine {
    inner: Mutex<partnerkit::Engine>,
}

impl Engine {
    fn wrap(inner: partnerkit::Engine) -> Engine {
        Engine {
            inner: Mutex::new(inner),
        }
    }

    /// Runs `f` on the engine with the GIL released, inside the core's panic guard. A panic
    /// while the engine is locked poisons the mutex: the engine may then hold half a change,
    /// so every later call is refused (`Internal`) rather than answered from a state nobody
    /// can vouch for.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut partnerkit::Engine) -> partnerkit::Result<T> + Send,
    ) -> PyResult<T> {
        error::run(py, || {
            let mut engine = self.inner.lock().map_err(|_| poisoned())?;
            f(&mut engine)
        })
    }

    /// Applies one event read from a dict with the GIL held, when no other thread holds the
    /// engine; `Err(event)` hands the event back when one does, for [`Engine::with`].
    ///
    /// Releasing the GIL and taking it back costs about 430 instructions of a call's
    /// 12,800 (bench/README, eighteenth session), and no other thread would get far in the
    /// call's microseconds anyway. Only a failed event's rebuild of the engine from its log,
    /// a cost linear in the log, runs with the GIL released
    /// (`partnerkit::Engine::apply_checked_with_status_then`): a bad webhook does not stop
    /// the host's other threads. Waiting for the mutex with the GIL held could deadlock
    /// against a holder that needs the GIL back to finish, hence `try_lock`. A panic
    /// poisons the mutex as in [`Engine::with`].
    fn apply_held(
        &self,
        py: Python<'_>,
        event: partnerkit::input::CheckedEvent,
    ) -> PyResult<Result<Applied, partnerkit::input::CheckedEvent>> {
        partnerkit::guard(|| {
            let mut engine = match self.inner.try_lock() {
                Ok(engine) => engine,
                Err(TryLockError::WouldBlock) => return Ok(Err(event)),
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
            };
            let written = engine.apply_checked_with_status_then(event, |job| py.detach(job))?;
            Ok(Ok(applied(&engine, written)))
        })
        .map_err(|e| error::to_py(py, &e))
    }
}

/// `partnerkit._tables.as_columns`, looked up once per process.
static AS_COLUMNS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The columns of a pandas DataFrame or a pyarrow Table (`_native.Columns`), or `None` for
/// any other value: what the facade passes for a table everywhere else.
fn as_columns<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = value.py();
    let f = AS_COLUMNS.get_or_try_init(py, || {
        py.import("partnerkit._tables")?
            .getattr("as_columns")
            .map(Bound::unbind)
    })?;
    let columns = f.bind(py).call1((value,))?;
    Ok((!columns.is_none()).then_some(columns))
}

/// What `apply` wrote, with the plan's rounding and currency that type the entries.
type Applied = (
    Vec<(partnerkit::ledger::Entry, partnerkit::report::Status)>,
    partnerkit::money::Rounding,
    partnerkit::money::Currency,
);

/// `written` by `engine`, with its plan's rounding and currency (every route of `apply`).
fn applied(
    engine: &partnerkit::Engine,
    written: Vec<(partnerkit::ledger::Entry, partnerkit::report::Status)>,
) -> Applied {
    let plan = engine.plan().doc();
    (written, plan.rounding, plan.currency)
}

/// The error of every call after a panic inside the engine poisoned its mutex.
fn poisoned() -> partnerkit::Error {
    partnerkit::Error::new(
        partnerkit::ErrorCode::Internal,
        "",
        "an earlier call panicked inside this engine (a bug: please report it), so its state \
         cannot be trusted: restore it from a snapshot taken before, or build a new engine \
         from the event log",
    )
}

/// The document path of what is given: `one` for a single object (a dict), `many` for a
/// list, a table or JSON text (whose own paths the core names).
fn root<'a>(value: &Bound<'_, PyAny>, one: &'a str, many: &'a str) -> &'a str {
    if value.is_instance_of::<PyDict>() {
        one
    } else {
        many
    }
}

#[pymethods]
impl Engine {
    /// An engine for the plan, partners and FX rates of `document` (JSON text or a dict),
    /// with its events (up to `as_of`, if given) applied, under the host's `limits` (a dict
    /// or JSON text of the fields to change).
    #[new]
    #[pyo3(signature = (document, limits=None))]
    fn new(
        py: Python<'_>,
        document: &Bound<'_, PyAny>,
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Engine> {
        let text = convert::document(document, "")?;
        let limits = convert::limits_text(limits)?;
        let inner = error::run(py, || {
            partnerkit::Engine::from_json_with(&text, &convert::limits(limits.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Rebuilds an engine from `snapshot()` bytes, under the host's `limits` (a snapshot
    /// does not carry them); anything else is `InvalidSnapshot`.
    #[staticmethod]
    #[pyo3(signature = (snapshot, limits=None))]
    fn restore(
        py: Python<'_>,
        snapshot: &[u8],
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Engine> {
        let limits = convert::limits_text(limits)?;
        let inner = error::run(py, || {
            partnerkit::Engine::restore_with(snapshot, &convert::limits(limits.as_deref())?)
        })?;
        Ok(Engine::wrap(inner))
    }

    /// Applies one event (a dict) or several (a list, a table, or JSON text; all or
    /// nothing) and returns the entries written as the core's canonical JSON array.
    fn apply_json(&self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<String> {
        let text = convert::document(events, root(events, "events[0]", "events"))?;
        self.with(py, |e| e.apply_json(&text))
    }

    /// `apply_json`, with the entries as [`Entry`] mappings whose values are typed like
    /// `Report.to_dict` (`Decimal` amounts, aware `datetime`s) when they are read.
    ///
    /// A plain dict (the webhook case) is read straight into the core's event
    /// (`event::read`); anything else, and a dict that reader refuses, goes as JSON text, so
    /// errors are those the JSON route always gave. A pandas DataFrame or a pyarrow Table
    /// goes as its columns (`partnerkit._tables.as_columns`), as everywhere in the facade:
    /// the facade's `Engine.apply` is this method itself, so that a webhook's call runs no
    /// Python in between (`Engine._bind` in `__init__.py`).
    fn apply<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (direct, columns) = match events.cast_exact::<PyDict>() {
            Ok(d) => (crate::event::read(d), None),
            Err(_) => (None, as_columns(events)?),
        };
        let events = columns.as_ref().unwrap_or(events);
        let (written, rounding, currency) = match direct {
            Some(event) => match self.apply_held(py, event)? {
                Ok(applied) => applied,
                Err(event) => self.with(py, move |e| {
                    let written = e.apply_checked_with_status(event)?;
                    Ok(applied(e, written))
                })?,
            },
            None => {
                let text = convert::document(events, root(events, "events[0]", "events"))?;
                self.with(py, |e| {
                    let written = e.apply_json_with_status(&text)?;
                    Ok(applied(e, written))
                })?
            }
        };
        // Straight into the list: no `Vec<Entry>` in between, each entry moved once.
        PyList::new(
            py,
            written
                .into_iter()
                .map(|(entry, status)| Entry::new(entry, status, rounding, currency)),
        )
    }

    /// Adds a partner (a dict or JSON text), or updates one between events.
    fn upsert_partner(&self, py: Python<'_>, partner: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = convert::document(partner, "partner")?;
        self.with(py, |e| e.upsert_partner_json(&text))
    }

    /// Adds FX rates (a dict, a list, a table or JSON text) for events to come.
    fn add_fx(&self, py: Python<'_>, rates: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = convert::document(rates, root(rates, "fx[0]", "fx"))?;
        self.with(py, |e| e.add_fx_json(&text))
    }

    /// The report as of `as_of` (RFC 3339).
    fn report(&self, py: Python<'_>, as_of: &str) -> PyResult<Report> {
        let report = self.with(py, |e| {
            let at = partnerkit::time::parse_instant(as_of).map_err(|m| {
                partnerkit::Error::new(partnerkit::ErrorCode::InvalidValue, "as_of", m)
            })?;
            e.report(at)
        })?;
        Ok(Report::new(report))
    }

    /// A partner's balance as of `as_of`, as the core's JSON document.
    fn balance_json(&self, py: Python<'_>, partner: &str, as_of: &str) -> PyResult<String> {
        self.with(py, |e| e.balance_json(partner, as_of))
    }

    /// A partner's statements as of `as_of`, as the core's canonical JSON array.
    fn statements_json(&self, py: Python<'_>, partner: &str, as_of: &str) -> PyResult<String> {
        self.with(py, |e| e.statements_json(partner, as_of))
    }

    /// A partner's tier progress as of `as_of`, as the core's canonical JSON (`null` when
    /// the plan in force has no tiers).
    fn progress_json(&self, py: Python<'_>, partner: &str, as_of: &str) -> PyResult<String> {
        self.with(py, |e| e.progress_json(partner, as_of))
    }

    /// The engine as bytes: a versioned, checksummed format that `restore` reads back in this
    /// and every later version.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.with(py, |e| Ok(e.snapshot()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// How many distinct events were applied (redeliveries not counted).
    #[getter]
    fn events_applied(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |e| Ok(e.events_applied()))
    }

    /// Panics inside the core while this engine is locked, so tests can show that the panic
    /// arrives as `InternalError` and that the engine then refuses every call.
    fn _debug_panic(&self, py: Python<'_>, message: &str) -> PyResult<()> {
        self.with(py, |_| partnerkit::guard::debug_panic(message))
    }
}
