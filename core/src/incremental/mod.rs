//! The incremental engine (SPEC §12): events applied one at a time as they arrive, reports
//! as of any instant, snapshots to bytes.
//!
//! An [`Engine`] keeps the same `State` fold that batch evaluation runs, so the two cannot
//! drift apart: batch sorts a whole log and folds it; the engine folds each event as it
//! comes, once it has checked that the event comes in canonical order and is not a
//! redelivery. Beside the state it keeps the log of the events it applied, which answers
//! "identical or conflicting?" for a redelivered id, rebuilds the state when an event fails
//! half-way (so a failed call changes nothing), serves reports as of instants before the
//! last event, and is what a snapshot holds (docs/adr/0004-snapshot-format.md).

mod between;
mod ids;
mod query;
mod snapshot;
mod write;

use std::sync::Arc;

use crate::engine::{State, canonical_order};
use crate::error::{Error, ErrorCode, Result};
use crate::fx::FxTable;
use crate::input::{Event, FxRate, Input, Partner, event_from_value};
use crate::json::json_value;
use crate::ledger::Entry;
use crate::limits::Limits;
use crate::plan::Plan;
use crate::report::{self, Report, Status};
use crate::time::{Instant, fmt_instant, parse_instant};

use write::{checked_event, checked_partners, checked_rates};

/// An incremental evaluation: a plan, its partners and FX rates, and the events applied so
/// far. `engine.report(t)` is byte for byte `evaluate` of the same inputs with `as_of: t`.
///
/// Events must come in canonical order `(at, kind rank, id)`; an earlier one is
/// `LateEvent`. A redelivered event (same id, same content) is ignored and counted in
/// `duplicates_ignored`; the same id with different content is `ConflictingEvent`. Every
/// call that fails leaves the engine as it was.
///
/// ```
/// use partnerkit::Engine;
///
/// let mut engine = Engine::from_json(r#"{
///   "plan": {"schema": "partnerkit/plan@1", "id": "affiliates", "currency": "USD",
///            "rules": [{"id": "base", "reward": {"percent": "20"}}]},
///   "partners": [{"id": "ana"}]
/// }"#).unwrap();
/// engine.apply_json(r#"{"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z",
///                       "partner": "ana", "customer": "c1", "channel": "link"}"#).unwrap();
/// let entries = engine.apply_json(r#"{"id": "p1", "kind": "payment", "at": "2026-01-15T12:00:00Z",
///                                     "customer": "c1", "amount": "49.00", "currency": "USD"}"#).unwrap();
/// assert!(entries.contains(r#""amount":"9.80","currency":"USD","status":"pending""#));
///
/// // Persist between webhooks, restore later: the same answers.
/// let bytes = engine.snapshot();
/// let engine = Engine::restore(&bytes).unwrap();
/// let balance = engine.balance_json("ana", "2026-02-20T00:00:00Z").unwrap(); // past the 30-day hold
/// assert!(balance.contains(r#""available":"9.80""#));
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    /// The fold shared with batch evaluation.
    state: State,
    /// Every FX rate given (the state's table is built from them).
    fx: Vec<FxRate>,
    /// The events applied, in canonical order.
    log: Vec<Event>,
    /// Event id → its index in `log`.
    seen: ids::Ids,
    /// Redeliveries ignored: (instant, id), counted in reports as of that instant or later.
    duplicates: Vec<(Instant, Arc<str>)>,
}

// Bindings hold an engine behind a mutex and move it across threads.
const _: fn() = || {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Engine>();
};

/// Where an event came from, for error paths: `events[index]`.
struct Item {
    event: Event,
    index: usize,
}

impl Engine {
    /// An engine for the plan, partners and FX rates of `input`, with its events up to
    /// `as_of` applied in canonical order — so that `Engine::new(&input)?.report(input.as_of)`
    /// is `evaluate(&input)`, errors included. Events after `as_of` are left out, as
    /// evaluation leaves them out; apply them when they happen.
    pub fn new(input: &Input) -> Result<Engine> {
        let partners = checked_partners(&input.partners)?;
        let fx = checked_rates(&input.fx)?;
        let events = input
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| checked_event(e.clone(), || format!("events[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let mut engine = Engine::start(input.plan.clone(), partners, fx)?;
        engine.take_log(events, input.as_of)?;
        Ok(engine)
    }

    /// [`Engine::new`] from the same document as [`crate::evaluate_json`], in which
    /// `events` and `as_of` are optional: without `as_of`, every event is applied.
    ///
    /// The default [`Limits`] apply; see [`Engine::from_json_with`].
    pub fn from_json(json: &str) -> Result<Engine> {
        Engine::from_json_with(json, &Limits::default())
    }

    /// [`Engine::from_json`] under the host's `limits`.
    pub fn from_json_with(json: &str, limits: &Limits) -> Result<Engine> {
        let (input, _) = limits.parse_input_doc(json, false)?;
        let mut engine = Engine::start(input.plan, input.partners, input.fx)?;
        engine.state.limits = limits.clone();
        engine.take_log(input.events, input.as_of)?;
        Ok(engine)
    }

    /// An engine with no events yet, under the default [`Limits`].
    pub fn from_parts(plan: Plan, partners: Vec<Partner>, fx: Vec<FxRate>) -> Result<Engine> {
        Engine::from_parts_with(plan, partners, fx, &Limits::default())
    }

    /// [`Engine::from_parts`] under the host's `limits`: the parts are checked against them
    /// like an input document, and the engine keeps them for the limits only evaluation can
    /// count (touches per customer, statements per partner).
    pub fn from_parts_with(
        plan: Plan,
        partners: Vec<Partner>,
        fx: Vec<FxRate>,
        limits: &Limits,
    ) -> Result<Engine> {
        limits.check_plan(&plan, "plan")?;
        let counts = [
            (
                "partners",
                partners.len(),
                limits.max_partners,
                "max_partners",
            ),
            ("fx", fx.len(), limits.max_fx_rates, "max_fx_rates"),
        ];
        for (path, n, max, name) in counts {
            if n > max {
                return Err(crate::limits::exceeded(path, name, n, max));
            }
        }
        let mut engine = Engine::start(plan, checked_partners(&partners)?, checked_rates(&fx)?)?;
        engine.state.limits = limits.clone();
        Ok(engine)
    }

    /// An engine over checked parts.
    fn start(plan: Plan, partners: Vec<Partner>, fx: Vec<FxRate>) -> Result<Engine> {
        let table = FxTable::new(&fx)?;
        Ok(Engine {
            state: State::new(plan, partners, table)?,
            fx,
            log: Vec::new(),
            seen: ids::Ids::default(),
            duplicates: Vec::new(),
        })
    }

    /// Applies the events of a whole document the way evaluation does: conflicts are
    /// checked among all of them (whatever `as_of`), then those up to `as_of` are applied
    /// in canonical order, with error paths naming their place in the document.
    fn take_log(&mut self, events: Vec<Event>, as_of: Instant) -> Result<()> {
        let (order, _) = canonical_order(&events, as_of)?;
        let mut kept = vec![false; events.len()];
        for &i in &order {
            kept[i] = true;
        }
        let mut slots: Vec<Option<Event>> = Vec::with_capacity(events.len());
        let mut dups = Vec::new();
        for (i, ev) in events.into_iter().enumerate() {
            if !kept[i] && ev.at <= as_of {
                dups.push((ev.at, ev.id.clone()));
            }
            slots.push(kept[i].then_some(ev));
        }
        let items: Vec<Item> = order
            .into_iter()
            .filter_map(|i| {
                Some(Item {
                    event: slots[i].take()?,
                    index: i,
                })
            })
            .collect();
        self.fold(items, dups, false)?;
        Ok(())
    }

    /// Applies one event and returns the ledger entries it wrote, sorted like a report's
    /// (by `earned_at`, then id). Error paths name it `events[0]`.
    ///
    /// Entries of a period that closes between the previous event and this one (period
    /// bonuses, `period_end` tier changes and what they price) are written by this call and
    /// returned with its own. A period that closes after the last applied event is closed by
    /// the query that asks past its end (`report`, `balance_json`, ...): its entries appear
    /// there, not in any `apply` result, until a later event arrives and writes them.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Entry>> {
        self.apply_at(event, 0)
    }

    /// [`Engine::apply`] for an event taken from a larger document: error paths name it
    /// `events[index]` (how the CLI reproduces `evaluate`'s errors event by event).
    pub fn apply_at(&mut self, event: Event, index: usize) -> Result<Vec<Entry>> {
        let event = checked_event(event, || format!("events[{index}]"))?;
        let written = self.apply_one(event, index, run_here)?;
        Ok(written.into_iter().map(|(e, _)| e).collect())
    }

    /// Applies several events, all or nothing: on error the engine is unchanged. The
    /// events are sorted into canonical order first (a batch need not be in order, but must
    /// come after every event already applied); error paths name `events[i]`, the position
    /// in `events`.
    pub fn apply_many(&mut self, events: Vec<Event>) -> Result<Vec<Entry>> {
        let items = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                Ok(Item {
                    event: checked_event(e, || format!("events[{i}]"))?,
                    index: i,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let written = self.apply_items(items)?;
        Ok(written.into_iter().map(|(e, _)| e).collect())
    }

    /// Applies one event object or an array of them (all or nothing) and returns the
    /// entries written as a canonical JSON array: each entry the same bytes as in a report
    /// as of the instant of the event that wrote it (so `"status"` is `pending` or
    /// `available`). Error paths name `events[i]` (`events[0]` for a single object).
    pub fn apply_json(&mut self, json: &str) -> Result<String> {
        let written = self.apply_json_with_status(json)?;
        Ok(self.entries_json(&written))
    }

    /// [`Engine::apply`], returning each entry with its status as of the instant of the
    /// event that wrote it (`pending` or `available`): what a binding needs to hand entries
    /// over as values and write their canonical JSON ([`Entry::to_canonical_json`]) only
    /// when asked.
    pub fn apply_with_status(&mut self, event: Event) -> Result<Vec<(Entry, Status)>> {
        let event = checked_event(event, || "events[0]".to_owned())?;
        self.apply_one(event, 0, run_here)
    }

    /// [`Engine::apply_with_status`] for an event read by the document reader
    /// ([`crate::input::event_from_deserializer`]): it passed the checks that
    /// `apply_with_status` makes again on a Rust-built event, so it goes straight to the
    /// fold, as the one event of [`Engine::apply_json_with_status`] does.
    pub fn apply_checked_with_status(
        &mut self,
        event: crate::input::CheckedEvent,
    ) -> Result<Vec<(Entry, Status)>> {
        self.apply_one(event.into_event(), 0, run_here)
    }

    /// [`Engine::apply_checked_with_status`], with the slow part of a failure handed to
    /// `slow`. An event that fails half-way leaves the state to rebuild from the log (a cost
    /// linear in the log, [`Engine::apply`]); `slow` is given that job and must run it, as
    /// a binding that holds its interpreter's lock during the call runs it with the lock
    /// released, so a bad webhook does not stop the host's other threads while the engine
    /// rebuilds. A job `slow` leaves unrun runs when `slow` returns. The outcome is
    /// [`Engine::apply_checked_with_status`]'s in every case.
    pub fn apply_checked_with_status_then(
        &mut self,
        event: crate::input::CheckedEvent,
        slow: impl FnOnce(&mut (dyn FnMut() + Send)),
    ) -> Result<Vec<(Entry, Status)>> {
        self.apply_one(event.into_event(), 0, slow)
    }

    /// [`Engine::apply_json`], returning the entries as values with their statuses (see
    /// [`Engine::apply_with_status`]) rather than as JSON.
    pub fn apply_json_with_status(&mut self, json: &str) -> Result<Vec<(Entry, Status)>> {
        // One event (the webhook case) is read straight into its type.
        if json.trim_start().starts_with('{') {
            let event = crate::input::event_from_str(json, "events[0]")?;
            return self.apply_one(event, 0, run_here);
        }
        let value = json_value(json, "")?;
        let items = match &value {
            serde_json::Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Ok(Item {
                        event: event_from_value(v, &format!("events[{i}]"))?,
                        index: i,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    "",
                    "expected an event object or an array of events",
                ));
            }
        };
        self.apply_items(items)
    }

    fn entries_json(&self, written: &[(Entry, Status)]) -> String {
        let view: Vec<(&Entry, Status)> = written.iter().map(|(e, s)| (e, *s)).collect();
        crate::canonical::entries_json(
            &view,
            self.state.plan.doc().rounding,
            self.state.plan.doc().currency,
        )
    }

    /// [`Engine::apply_items`] for one event (every webhook): the same checks and fold,
    /// without the batch's sorting and bookkeeping vectors.
    fn apply_one(
        &mut self,
        event: Event,
        index: usize,
        slow: impl FnOnce(&mut (dyn FnMut() + Send)),
    ) -> Result<Vec<(Entry, Status)>> {
        let h = self.seen.hash(&event.id);
        match self.seen.get(&self.log, h, &event.id) {
            Some(j) if self.log[j] == event => {
                self.duplicates.push((event.at, event.id));
                return Ok(Vec::new());
            }
            Some(j) => return Err(conflict(&event, j, index)),
            None => {}
        }
        if let Some(last) = self.log.last()
            && event.order_key() < last.order_key()
        {
            return Err(late(&event, last, index));
        }
        self.room_for(1)?;
        let start = self.state.entries.len();
        let state = &mut self.state;
        let outcome = crate::guard::guard(|| state.apply(&event, index));
        if let Err(e) = outcome {
            return Err(self.recover_in(e, 0, slow));
        }
        let at = event.at;
        let mut out: Vec<(Entry, Status)> = self.state.entries[start..]
            .iter()
            .map(|e| (e.clone(), status_at(e, at)))
            .collect();
        report_order(&mut out);
        self.seen.insert(&self.log, h, &event.id, self.log.len());
        self.log.push(event);
        Ok(out)
    }

    /// Checks a batch (conflicts, redeliveries, order) and folds it.
    fn apply_items(&mut self, items: Vec<Item>) -> Result<Vec<(Entry, Status)>> {
        let (events, index): (Vec<Event>, Vec<usize>) =
            items.into_iter().map(|it| (it.event, it.index)).unzip();
        // Within the batch: the same id twice is a redelivery or a conflict, as in a
        // document; what remains goes in canonical order.
        let mut dups = Vec::new();
        let order = if events.len() == 1 {
            vec![0]
        } else {
            let order = canonical_order(&events, chrono::DateTime::<chrono::Utc>::MAX_UTC)?.0;
            let mut first_copy = vec![false; events.len()];
            for &i in &order {
                first_copy[i] = true;
            }
            for (ev, first) in events.iter().zip(first_copy) {
                if !first {
                    dups.push((ev.at, ev.id.clone()));
                }
            }
            order
        };
        // Against the log: an applied id is a redelivery or a conflict, wherever it falls.
        let mut fresh = Vec::with_capacity(order.len());
        for i in order {
            let ev = &events[i];
            let h = self.seen.hash(&ev.id);
            match self.seen.get(&self.log, h, &ev.id) {
                Some(j) if self.log[j] == *ev => dups.push((ev.at, ev.id.clone())),
                Some(j) => return Err(conflict(ev, j, index[i])),
                None => fresh.push(i),
            }
        }
        if let (Some(&i), Some(last)) = (fresh.first(), self.log.last())
            && events[i].order_key() < last.order_key()
        {
            return Err(late(&events[i], last, index[i]));
        }
        self.room_for(fresh.len())?;
        let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
        let taken: Vec<Item> = fresh
            .into_iter()
            .filter_map(|i| {
                Some(Item {
                    event: slots[i].take()?,
                    index: index[i],
                })
            })
            .collect();
        self.fold(taken, dups, true)
    }

    /// Folds checked events into the state; on any error (or panic) the state is rebuilt
    /// from the log, so the engine is as it was. Returns the entries written (when asked:
    /// a whole document's are not), each with its status as of the instant of the event
    /// that wrote it.
    fn fold(
        &mut self,
        items: Vec<Item>,
        dups: Vec<(Instant, Arc<str>)>,
        written: bool,
    ) -> Result<Vec<(Entry, Status)>> {
        let state = &mut self.state;
        let mut marks: Vec<(usize, Instant)> = Vec::with_capacity(items.len());
        let mut done = 0;
        // A panic half-way is contained like an error (and the state rebuilt): a binding
        // keeps using the engine after it.
        let outcome = crate::guard::guard(|| {
            for it in &items {
                marks.push((state.entries.len(), it.event.at));
                state.apply(&it.event, it.index)?;
                done += 1;
            }
            Ok(())
        });
        if let Err(e) = outcome {
            return Err(self.recover(e, done));
        }
        let mut out: Vec<(Entry, Status)> = Vec::new();
        for (k, &(start, at)) in marks.iter().enumerate().filter(|_| written) {
            let end = marks.get(k + 1).map_or(self.state.entries.len(), |m| m.0);
            for e in &self.state.entries[start..end] {
                out.push((e.clone(), status_at(e, at)));
            }
        }
        report_order(&mut out);
        for it in items {
            let h = self.seen.hash(&it.event.id);
            self.seen.insert(&self.log, h, &it.event.id, self.log.len());
            self.log.push(it.event);
        }
        self.duplicates.extend(dups);
        Ok(out)
    }

    /// The log is the engine's input: it holds at most `max_events` distinct events, so
    /// `fresh` more must fit.
    fn room_for(&self, fresh: usize) -> Result<()> {
        let max = self.state.limits.max_events;
        if self.log.len() + fresh > max {
            return Err(crate::limits::exceeded(
                "events",
                "max_events",
                self.log.len() + fresh,
                max,
            ));
        }
        Ok(())
    }

    /// After a fold failed with `e` once `done` of its events were applied: the state
    /// rebuilt from the log (so the engine is as it was), and the error to return.
    fn recover(&mut self, e: Error, done: usize) -> Error {
        self.recover_in(e, done, run_here)
    }

    /// [`Engine::recover`], the rebuild from the log run by `slow` (see
    /// [`Engine::apply_checked_with_status_then`]).
    fn recover_in(
        &mut self,
        e: Error,
        done: usize,
        slow: impl FnOnce(&mut (dyn FnMut() + Send)),
    ) -> Error {
        // `State::apply` raises these while it checks an event, before it changes
        // anything (`State::partner`, `lifecycle::refund`): when the call's first event
        // fails so, there is nothing to undo, and a bad webhook costs no rebuild.
        // `failed_calls_change_nothing` (tests/incremental_props.rs) holds it to that.
        let untouched = done == 0
            && matches!(
                e.code(),
                ErrorCode::UnknownPartner
                    | ErrorCode::UnknownPayment
                    | ErrorCode::CurrencyMismatch
                    | ErrorCode::RefundExceedsPayment
            );
        if untouched {
            return e;
        }
        let mut pending = Some(e);
        let mut outcome: Option<Error> = None;
        let mut job = || {
            if let Some(e) = pending.take() {
                outcome = Some(self.rebuild(e));
            }
        };
        slow(&mut job);
        // A `slow` that did not run the job leaves it to run here: the engine is never
        // left half-applied.
        job();
        outcome.unwrap_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "",
                "the engine's rebuild after a failed event gave no outcome",
            )
        })
    }

    /// The state rebuilt from the log after the error `e` (so the engine is as it was), and
    /// the error to return.
    fn rebuild(&mut self, e: Error) -> Error {
        match self.replay(&self.log) {
            Ok(state) => {
                self.state = state;
                e
            }
            Err(r) => Error::new(
                ErrorCode::Internal,
                "",
                format!(
                    "after {}, rebuilding the engine from its log failed: {}",
                    e.code(),
                    r.to_json()
                ),
            ),
        }
    }

    /// A fresh state with `events` (a prefix of the log) applied.
    pub(super) fn replay(&self, events: &[Event]) -> Result<State> {
        let mut state = State::new(
            self.state.plan.clone(),
            self.state.partners.clone(),
            FxTable::new(&self.fx)?,
        )?;
        state.limits = self.state.limits.clone();
        for (i, ev) in events.iter().enumerate() {
            state.apply(ev, i)?;
        }
        Ok(state)
    }

    /// The report as of `as_of`: byte for byte what `evaluate` gives for the same plan,
    /// partners, FX rates and events with that `as_of`. As of the last applied event or
    /// later it is written from the live state; as of an earlier instant the log is
    /// replayed up to it (a cost linear in the log).
    pub fn report(&self, as_of: Instant) -> Result<Report> {
        let mut report = match self.state_as_of(as_of)? {
            std::borrow::Cow::Owned(state) => report::build_owned(state, as_of)?,
            std::borrow::Cow::Borrowed(state) => report::build(state, as_of)?,
        };
        report.duplicates_ignored = self.duplicates_until(as_of);
        Ok(report)
    }

    /// [`Engine::report`] with an RFC 3339 `as_of`, as canonical JSON.
    pub fn report_json(&self, as_of: &str) -> Result<String> {
        Ok(self.report(instant(as_of)?)?.to_canonical_json())
    }

    /// The state as of `as_of`: the live one, or the log replayed up to `as_of`; with every
    /// period that ended by `as_of` closed (tier evaluations, period bonuses). The live
    /// state is closed on a copy, since an event may still arrive before `as_of`
    /// (docs/adr/0005-period-ends-driven-by-instants.md).
    pub(super) fn state_as_of(&self, as_of: Instant) -> Result<std::borrow::Cow<'_, State>> {
        let mut state = match self.prefix(as_of) {
            Some(n) => std::borrow::Cow::Owned(self.replay(&self.log[..n])?),
            None => std::borrow::Cow::Borrowed(&self.state),
        };
        if state.closes_periods() {
            state.to_mut().settle(as_of)?;
        }
        Ok(state)
    }

    /// The length of the log prefix up to `as_of` when it is shorter than the log.
    pub(super) fn prefix(&self, as_of: Instant) -> Option<usize> {
        match self.log.last() {
            Some(last) if as_of < last.at => Some(self.log.partition_point(|e| e.at <= as_of)),
            _ => None,
        }
    }

    fn duplicates_until(&self, as_of: Instant) -> u64 {
        self.duplicates
            .iter()
            .filter(|(at, _)| *at <= as_of)
            .count() as u64
    }

    pub(super) fn check_partner(&self, id: &str) -> Result<usize> {
        self.state
            .partner_ids
            .iter()
            .position(|p| &**p == id)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownPartner,
                    "partner",
                    format!("partner \"{id}\" is not declared in `partners`"),
                )
            })
    }

    /// The engine as bytes: a versioned header and its input document (plan, partners,
    /// FX rates, applied events) — see docs/adr/0004-snapshot-format.md.
    pub fn snapshot(&self) -> Vec<u8> {
        snapshot::write(&snapshot::Parts {
            plan: &self.state.plan,
            partners: &self.state.partners,
            fx: &self.fx,
            events: &self.log,
            duplicates: &self.duplicates,
        })
    }

    /// Rebuilds an engine from [`Engine::snapshot`] bytes by replaying its events, under
    /// the default [`Limits`] (a snapshot does not carry the host's limits: see
    /// [`Engine::restore_with`]). Anything else (garbage, truncated or corrupted bytes, a
    /// newer format) is `InvalidSnapshot`, with a message saying which.
    pub fn restore(bytes: &[u8]) -> Result<Engine> {
        Engine::restore_with(bytes, &Limits::default())
    }

    /// [`Engine::restore`] under the host's `limits`, which the snapshot's content must
    /// meet like any input (an engine started with raised limits is restored with them).
    /// Content over a limit is `LimitExceeded` at `snapshot.<path>`: the bytes are sound,
    /// the host's limits are lower than those they were written under.
    pub fn restore_with(bytes: &[u8], limits: &Limits) -> Result<Engine> {
        let inner = |e: Error| {
            if e.code() == ErrorCode::LimitExceeded {
                let path = format!("snapshot.{}", e.path());
                Error::new(
                    ErrorCode::LimitExceeded,
                    path.trim_end_matches('.'),
                    e.message(),
                )
            } else {
                snapshot::inner(&e)
            }
        };
        let contents = snapshot::read(bytes)?;
        let input = contents.input;
        limits.check_input(&input).map_err(inner)?;
        let mut engine = Engine::start(input.plan, input.partners, input.fx).map_err(inner)?;
        engine.state.limits = limits.clone();
        for (i, ev) in input.events.iter().enumerate() {
            if let Some(last) = engine.log.last()
                && ev.order_key() <= last.order_key()
            {
                return Err(snapshot::inner(&Error::new(
                    ErrorCode::InvalidValue,
                    format!("events[{i}]"),
                    "events out of canonical order",
                )));
            }
            engine.state.apply(ev, i).map_err(inner)?;
            let h = engine.seen.hash(&ev.id);
            engine.seen.insert(&engine.log, h, &ev.id, engine.log.len());
            engine.log.push(ev.clone());
        }
        for (k, (at, id)) in contents.duplicates.iter().enumerate() {
            let h = engine.seen.hash(id);
            let known = engine
                .seen
                .get(&engine.log, h, id)
                .is_some_and(|j| engine.log[j].at == *at);
            if !known {
                return Err(snapshot::inner(&Error::new(
                    ErrorCode::InvalidValue,
                    format!("duplicates[{k}]"),
                    format!("a redelivery of \"{id}\", which is not an applied event"),
                )));
            }
        }
        engine.duplicates = contents.duplicates;
        Ok(engine)
    }

    /// How many distinct events were applied (redeliveries not counted).
    pub fn events_applied(&self) -> u64 {
        self.log.len() as u64
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.state.plan
    }

    /// The partners, in the order they were declared or added.
    pub fn partners(&self) -> &[Partner] {
        &self.state.partners
    }

    /// The last event applied: every new event must come after it in canonical order.
    pub fn last_event(&self) -> Option<&Event> {
        self.log.last()
    }
}

impl Input {
    /// The order in which an incremental engine must receive this document's events to
    /// reproduce `evaluate(self)`: the indices of the events up to `as_of` in canonical
    /// order, each redelivered copy right after its first copy. Same-id conflicts are
    /// `ConflictingEvent` exactly as `evaluate` reports them, whatever `as_of`.
    pub fn feed_order(&self) -> Result<Vec<usize>> {
        canonical_order(&self.events, self.as_of)?;
        let mut order: Vec<usize> = (0..self.events.len())
            .filter(|&i| self.events[i].at <= self.as_of)
            .collect();
        order.sort_by(|&a, &b| {
            (self.events[a].order_key(), a).cmp(&(self.events[b].order_key(), b))
        });
        Ok(order)
    }
}

/// An RFC 3339 `as_of` argument.
fn instant(s: &str) -> Result<Instant> {
    parse_instant(s).map_err(|m| Error::new(ErrorCode::InvalidValue, "as_of", m))
}

/// The `slow` of callers with nothing to release: the rebuild runs on the spot.
fn run_here(job: &mut (dyn FnMut() + Send)) {
    job();
}

/// Entries in a report's order: `earned_at`, then id.
fn report_order(out: &mut [(Entry, Status)]) {
    out.sort_by(|a, b| (a.0.earned_at, &a.0.id).cmp(&(b.0.earned_at, &b.0.id)));
}

/// An entry's status as of `at`, the instant of the event that wrote it.
fn status_at(e: &Entry, at: Instant) -> Status {
    if at < e.available_at {
        Status::Pending
    } else {
        Status::Available
    }
}

/// `ConflictingEvent`: `ev` has the id of the log's event `j` but other content.
fn conflict(ev: &Event, j: usize, index: usize) -> Error {
    Error::new(
        ErrorCode::ConflictingEvent,
        format!("events[{index}]"),
        format!(
            "event id \"{}\" was already applied (event {} of the log) with different \
             content; a corrected event needs a new id",
            ev.id,
            j + 1
        ),
    )
}

/// `LateEvent`, saying how to recover.
fn late(ev: &Event, last: &Event, index: usize) -> Error {
    Error::new(
        ErrorCode::LateEvent,
        format!("events[{index}]"),
        format!(
            "event \"{}\" ({} at {}) comes before the last applied event \"{}\" ({} at {}): an \
             engine takes events in canonical order (at, then kind: touch < assign < signup < \
             payment < refund < chargeback < adjustment, then id). To take a late event, \
             re-evaluate from the event log: run `evaluate` on the whole log, or build a new \
             engine from it (Engine::new / Engine::from_json) and continue with that one",
            ev.id,
            ev.kind(),
            fmt_instant(ev.at),
            last.id,
            last.kind(),
            fmt_instant(last.at)
        ),
    )
}
