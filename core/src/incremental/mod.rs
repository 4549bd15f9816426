//! The incremental engine (SPEC §12): events applied one at a time as they arrive, reports
//! as of any instant, snapshots to bytes.
//!
//! An [`Engine`] keeps the same `State` fold that batch evaluation runs, so the two cannot
//! drift apart: batch sorts a whole log and folds it; the engine folds each event as it
//! comes, once it has checked that the event comes in canonical order and is not a
//! redelivery. Beside the state it keeps the log of the events it applied, which answers
//! "identical or conflicting?" for a redelivered id, rebuilds the state when an event fails
//! half-way (so a failed call changes nothing), serves reports as of instants before the
//! last event, and is what a snapshot holds (docs/adr/0003-snapshot-format.md).

mod snapshot;
mod write;

use std::sync::Arc;

use crate::engine::{HashMap, State, canonical_order};
use crate::error::{Error, ErrorCode, Result};
use crate::fx::FxTable;
use crate::input::{Event, FxRate, Input, Partner, event_from_value};
use crate::json::json_value;
use crate::ledger::Entry;
use crate::money::fmt_amount;
use crate::plan::Plan;
use crate::report::{self, Report, Status};
use crate::time::{Instant, fmt_instant, local_date, parse_instant};

use write::{checked_event, checked_fx, checked_partner};

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
    seen: HashMap<Arc<str>, usize>,
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
        let partners = input
            .partners
            .iter()
            .enumerate()
            .map(|(i, p)| checked_partner(p, &format!("partners[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let fx = input
            .fx
            .iter()
            .enumerate()
            .map(|(i, r)| checked_fx(r, &format!("fx[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let events = input
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| checked_event(e, &format!("events[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let mut engine = Engine::start(input.plan.clone(), partners, fx)?;
        engine.take_log(&events, input.as_of)?;
        Ok(engine)
    }

    /// [`Engine::new`] from the same document as [`crate::evaluate_json`], in which
    /// `events` and `as_of` are optional: without `as_of`, every event is applied.
    pub fn from_json(json: &str) -> Result<Engine> {
        let (input, _) = Input::parse(json, false)?;
        let mut engine = Engine::start(input.plan, input.partners, input.fx)?;
        engine.take_log(&input.events, input.as_of)?;
        Ok(engine)
    }

    /// An engine with no events yet.
    pub fn from_parts(plan: Plan, partners: Vec<Partner>, fx: Vec<FxRate>) -> Result<Engine> {
        let partners = partners
            .iter()
            .enumerate()
            .map(|(i, p)| checked_partner(p, &format!("partners[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let fx = fx
            .iter()
            .enumerate()
            .map(|(i, r)| checked_fx(r, &format!("fx[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Engine::start(plan, partners, fx)
    }

    /// An engine over checked parts.
    fn start(plan: Plan, partners: Vec<Partner>, fx: Vec<FxRate>) -> Result<Engine> {
        let table = FxTable::new(&fx)?;
        Ok(Engine {
            state: State::new(plan, partners, table)?,
            fx,
            log: Vec::new(),
            seen: HashMap::default(),
            duplicates: Vec::new(),
        })
    }

    /// Applies the events of a whole document the way evaluation does: conflicts are
    /// checked among all of them (whatever `as_of`), then those up to `as_of` are applied
    /// in canonical order, with error paths naming their place in the document.
    fn take_log(&mut self, events: &[Event], as_of: Instant) -> Result<()> {
        let (order, _) = canonical_order(events, as_of)?;
        let mut kept = vec![false; events.len()];
        for &i in &order {
            kept[i] = true;
        }
        let items: Vec<Item> = order
            .iter()
            .map(|&i| Item {
                event: events[i].clone(),
                index: i,
            })
            .collect();
        self.fold(items, Vec::new())?;
        for (i, ev) in events.iter().enumerate() {
            if !kept[i] && ev.at <= as_of {
                self.duplicates.push((ev.at, ev.id.clone()));
            }
        }
        Ok(())
    }

    /// Applies one event and returns the ledger entries it wrote, sorted like a report's
    /// (by `earned_at`, then id). Error paths name it `events[0]`.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Entry>> {
        self.apply_at(event, 0)
    }

    /// [`Engine::apply`] for an event taken from a larger document: error paths name it
    /// `events[index]` (how the CLI reproduces `evaluate`'s errors event by event).
    pub fn apply_at(&mut self, event: Event, index: usize) -> Result<Vec<Entry>> {
        let event = checked_event(&event, &format!("events[{index}]"))?;
        let written = self.apply_items(vec![Item { event, index }])?;
        Ok(written.into_iter().map(|(e, _)| e).collect())
    }

    /// Applies several events, all or nothing: on error the engine is unchanged. The
    /// events are sorted into canonical order first (a batch need not be in order, but must
    /// come after every event already applied); error paths name `events[i]`, the position
    /// in `events`.
    pub fn apply_many(&mut self, events: Vec<Event>) -> Result<Vec<Entry>> {
        let items = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Ok(Item {
                    event: checked_event(e, &format!("events[{i}]"))?,
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
        // One event (the webhook case) is read straight into its type.
        if json.trim_start().starts_with('{') {
            let event = crate::input::event_from_str(json, "events[0]")?;
            let written = self.apply_items(vec![Item { event, index: 0 }])?;
            return Ok(self.entries_json(&written));
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
        let written = self.apply_items(items)?;
        Ok(self.entries_json(&written))
    }

    fn entries_json(&self, written: &[(Entry, Status)]) -> String {
        let view: Vec<(&Entry, Status)> = written.iter().map(|(e, s)| (e, *s)).collect();
        crate::canonical::entries_json(&view, self.state.plan.doc().rounding)
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
            match self.seen.get(&ev.id) {
                Some(&j) if self.log[j] == *ev => dups.push((ev.at, ev.id.clone())),
                Some(&j) => {
                    return Err(Error::new(
                        ErrorCode::ConflictingEvent,
                        format!("events[{}]", index[i]),
                        format!(
                            "event id \"{}\" was already applied (event {} of the log) with \
                             different content; a corrected event needs a new id",
                            ev.id,
                            j + 1
                        ),
                    ));
                }
                None => fresh.push(i),
            }
        }
        if let (Some(&i), Some(last)) = (fresh.first(), self.log.last())
            && events[i].order_key() < last.order_key()
        {
            return Err(late(&events[i], last, index[i]));
        }
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
        self.fold(taken, dups)
    }

    /// Folds checked events into the state; on any error (or panic) the state is rebuilt
    /// from the log, so the engine is as it was. Returns the entries written, each with its
    /// status as of the instant of the event that wrote it.
    fn fold(
        &mut self,
        items: Vec<Item>,
        dups: Vec<(Instant, Arc<str>)>,
    ) -> Result<Vec<(Entry, Status)>> {
        let state = &mut self.state;
        let mut marks: Vec<(usize, Instant)> = Vec::with_capacity(items.len());
        // A panic half-way is contained like an error (and the state rebuilt): a binding
        // keeps using the engine after it.
        let outcome = crate::guard::guard(|| {
            for it in &items {
                marks.push((state.entries.len(), it.event.at));
                state.apply(&it.event, it.index)?;
            }
            Ok(())
        });
        if let Err(e) = outcome {
            self.state = self.replay(&self.log).map_err(|r| {
                Error::new(
                    ErrorCode::Internal,
                    "",
                    format!(
                        "after {}, rebuilding the engine from its log failed: {}",
                        e.code(),
                        r.to_json()
                    ),
                )
            })?;
            return Err(e);
        }
        let mut written: Vec<(Entry, Status)> = Vec::new();
        for (k, &(start, at)) in marks.iter().enumerate() {
            let end = marks.get(k + 1).map_or(self.state.entries.len(), |m| m.0);
            for e in &self.state.entries[start..end] {
                let status = if at < e.available_at {
                    Status::Pending
                } else {
                    Status::Available
                };
                written.push((e.clone(), status));
            }
        }
        written.sort_by(|a, b| (a.0.earned_at, &a.0.id).cmp(&(b.0.earned_at, &b.0.id)));
        for it in items {
            self.seen.insert(it.event.id.clone(), self.log.len());
            self.log.push(it.event);
        }
        self.duplicates.extend(dups);
        Ok(written)
    }

    /// A fresh state with `events` (a prefix of the log) applied.
    fn replay(&self, events: &[Event]) -> Result<State> {
        let mut state = State::new(
            self.state.plan.clone(),
            self.state.partners.clone(),
            FxTable::new(&self.fx)?,
        )?;
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
        let mut report = match self.prefix(as_of) {
            Some(n) => report::build_owned(self.replay(&self.log[..n])?, as_of)?,
            None => report::build(&self.state, as_of)?,
        };
        report.duplicates_ignored = self.duplicates_until(as_of);
        Ok(report)
    }

    /// [`Engine::report`] with an RFC 3339 `as_of`, as canonical JSON.
    pub fn report_json(&self, as_of: &str) -> Result<String> {
        Ok(self.report(instant(as_of)?)?.to_canonical_json())
    }

    /// A partner's balance as of `as_of`, per currency of its entries:
    /// `{"partner", "as_of", "balances": [{"currency", "pending", "available", "paid"}]}` —
    /// `pending` within holds, `available` past them and not yet paid by a statement (less
    /// what a statement wrote off), `paid` settled by statements, each net of reversals.
    pub fn balance_json(&self, partner: &str, as_of: &str) -> Result<String> {
        use rust_decimal::Decimal;
        let at = instant(as_of)?;
        let pi = self.check_partner(partner)?;
        let balances = self.partner_view(at, pi, |state, statements, mine| {
            let written_off = written_off(statements);
            let mut by: std::collections::BTreeMap<crate::money::Currency, [Decimal; 3]> =
                std::collections::BTreeMap::new();
            for &(i, status) in mine {
                let e = &state.entries[i];
                let slot = match status {
                    Status::Pending => 0,
                    // A written-off balance was reset to zero: nothing of it is owed.
                    Status::Available if written_off.contains(&*e.id) => continue,
                    Status::Available => 1,
                    Status::Paid => 2,
                };
                by.entry(e.currency).or_default()[slot] += e.amount;
            }
            by.into_iter()
                .map(|(c, [pending, available, paid])| {
                    serde_json::json!({
                        "currency": c.as_str(),
                        "pending": fmt_amount(pending, c.digits()),
                        "available": fmt_amount(available, c.digits()),
                        "paid": fmt_amount(paid, c.digits()),
                    })
                })
                .collect::<Vec<_>>()
        })?;
        Ok(serde_json::json!({
            "partner": partner,
            "as_of": fmt_instant(at),
            "balances": balances,
        })
        .to_string())
    }

    /// A partner's statements as of `as_of` as a canonical JSON array: each statement the
    /// same bytes as in the report.
    pub fn statements_json(&self, partner: &str, as_of: &str) -> Result<String> {
        let at = instant(as_of)?;
        let pi = self.check_partner(partner)?;
        self.partner_view(at, pi, |_, statements, _| {
            crate::canonical::statements_json(&statements.iter().collect::<Vec<_>>())
        })
    }

    /// Runs `f` on the state as of `as_of`, partner `pi`'s statements, and its entries
    /// (indices in the ledger) with their statuses. Beyond one pass over the ledger, only
    /// the partner's own entries are worked on.
    fn partner_view<T>(
        &self,
        as_of: Instant,
        pi: usize,
        f: impl FnOnce(&State, &[crate::payouts::Statement], &[(usize, Status)]) -> T,
    ) -> Result<T> {
        let replayed;
        let state = match self.prefix(as_of) {
            Some(n) => {
                replayed = self.replay(&self.log[..n])?;
                &replayed
            }
            None => &self.state,
        };
        let owner = state.entry_owners()?;
        let (statements, paid_by) = crate::payouts::build_for(state, &owner, as_of, Some(pi))?;
        let mine: Vec<(usize, Status)> = (0..state.entries.len())
            .filter(|&i| owner[i] == pi)
            .map(|i| {
                let settled_by = paid_by[i].map(|s| &statements[s]);
                (i, report::status_of(&state.entries[i], settled_by, as_of))
            })
            .collect();
        Ok(f(state, &statements, &mine))
    }

    /// The length of the log prefix up to `as_of` when it is shorter than the log.
    fn prefix(&self, as_of: Instant) -> Option<usize> {
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

    fn check_partner(&self, id: &str) -> Result<usize> {
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

    /// Adds a partner, or updates one, between events (see [`Engine::upsert_partner`]).
    pub fn upsert_partner_json(&mut self, json: &str) -> Result<()> {
        let value = json_value(json, "partner")?;
        let partner = crate::input::partner_from_value(&value, "partner")?;
        self.upsert(partner)
    }

    /// Adds a partner, or updates one, between events.
    ///
    /// A new partner is added as if it had been declared from the start (no applied event
    /// can name it, so nothing already computed changes). Once events were applied, an
    /// existing partner may only gain or lose status changes *after* the last one (a
    /// suspension from now on): any other change would re-price events already applied in
    /// a batch evaluation of the same log, so it is `InvalidValue`, and the way to make it
    /// is to build a new engine from the event log with the new record.
    pub fn upsert_partner(&mut self, partner: Partner) -> Result<()> {
        let partner = checked_partner(&partner, "partner")?;
        self.upsert(partner)
    }

    fn upsert(&mut self, partner: Partner) -> Result<()> {
        // Errors about the partner's place in the list are about the record given.
        let named = |e: Error, index: usize| {
            let path = match e.path().strip_prefix(&format!("partners[{index}]")) {
                Some(rest) => format!("partner{rest}"),
                None => e.path().to_owned(),
            };
            Error::new(e.code(), path, e.message())
        };
        let Ok(i) = self.check_partner(&partner.id) else {
            let index = self.state.partners.len();
            return self.state.add_partner(partner).map_err(|e| named(e, index));
        };
        let current = &self.state.partners[i];
        if *current == partner {
            return Ok(());
        }
        if self.log.is_empty() {
            // Nothing applied yet, nothing to re-price: any change is a new start.
            let mut partners = self.state.partners.clone();
            partners[i] = partner;
            let table = FxTable::new(&self.fx)?;
            self.state =
                State::new(self.state.plan.clone(), partners, table).map_err(|e| named(e, i))?;
            return Ok(());
        }
        let Partner {
            id: _,
            segment,
            parent,
            joined_at,
            status,
            tier,
            own_customers,
            attributes,
            payout_currency,
        } = current;
        let changed = [
            ("segment", *segment != partner.segment),
            ("parent", *parent != partner.parent),
            ("joined_at", *joined_at != partner.joined_at),
            ("tier", *tier != partner.tier),
            ("own_customers", *own_customers != partner.own_customers),
            ("attributes", *attributes != partner.attributes),
            (
                "payout_currency",
                *payout_currency != partner.payout_currency,
            ),
        ];
        if let Some((field, _)) = changed.iter().find(|(_, c)| *c) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("partner.{field}"),
                format!(
                    "`{field}` of partner \"{}\" cannot change between events: a batch \
                     evaluation applies one partner record to every event, so the change \
                     would re-price events already applied; build a new engine from the event \
                     log with the new record",
                    partner.id
                ),
            ));
        }
        if let Some(last) = self.log.last() {
            let past = |list: &[(Instant, crate::input::PartnerStatus)]| {
                list.iter()
                    .copied()
                    .filter(|(at, _)| *at <= last.at)
                    .collect::<Vec<_>>()
            };
            if past(status) != past(&partner.status) {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    "partner.status",
                    format!(
                        "status changes of partner \"{}\" at or before the last applied event \
                         ({}) cannot change: they decided events already applied; add changes \
                         after it, or build a new engine from the event log with the new record",
                        partner.id,
                        fmt_instant(last.at)
                    ),
                ));
            }
        }
        self.state.partners[i] = partner;
        Ok(())
    }

    /// Adds FX rates (one `{date, from, to, rate}` object or an array) for events to come.
    ///
    /// A rate must be dated after the last applied event's date in the plan's time zone:
    /// an earlier one could change a conversion already made (`LateEvent`; to correct past
    /// rates, build a new engine from the event log). Paths name `fx[i]` in what is given.
    pub fn add_fx_json(&mut self, json: &str) -> Result<()> {
        let value = json_value(json, "fx")?;
        let rates = match &value {
            serde_json::Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| crate::input::fx_rate_from_value(v, &format!("fx[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            _ => vec![crate::input::fx_rate_from_value(&value, "fx[0]")?],
        };
        if let Some(last) = self.log.last() {
            let day = local_date(self.state.plan.tz(), last.at);
            if let Some((i, r)) = rates.iter().enumerate().find(|(_, r)| r.date <= day) {
                return Err(Error::new(
                    ErrorCode::LateEvent,
                    format!("fx[{i}].date"),
                    format!(
                        "a {}→{} rate dated {} arrives after events up to {day} were applied: \
                         it could change conversions already made; add each day's rates before \
                         that day's events, or re-evaluate from the event log (build a new \
                         engine from it) to correct past rates",
                        r.from, r.to, r.date
                    ),
                ));
            }
        }
        let n = self.fx.len();
        let mut all = self.fx.clone();
        all.extend(rates);
        let table = FxTable::new(&all).map_err(|e| {
            // Conflicts name the later rate, which is one of the new ones.
            let path = e
                .path()
                .strip_prefix("fx[")
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(k, rest)| {
                    let k: usize = k.parse().ok()?;
                    Some(format!("fx[{}]{rest}", k.checked_sub(n)?))
                })
                .unwrap_or_else(|| e.path().to_owned());
            Error::new(e.code(), path, e.message())
        })?;
        self.fx = all;
        self.state.fx = table;
        Ok(())
    }

    /// The engine as bytes: a versioned header and its input document (plan, partners,
    /// FX rates, applied events) — see docs/adr/0003-snapshot-format.md.
    pub fn snapshot(&self) -> Vec<u8> {
        snapshot::write(&snapshot::Parts {
            plan: &self.state.plan,
            partners: &self.state.partners,
            fx: &self.fx,
            events: &self.log,
            duplicates: &self.duplicates,
        })
    }

    /// Rebuilds an engine from [`Engine::snapshot`] bytes by replaying its events.
    /// Anything else (garbage, truncated or corrupted bytes, a newer format) is
    /// `InvalidSnapshot`, with a message saying which.
    pub fn restore(bytes: &[u8]) -> Result<Engine> {
        let contents = snapshot::read(bytes)?;
        let input = contents.input;
        let mut engine =
            Engine::start(input.plan, input.partners, input.fx).map_err(|e| snapshot::inner(&e))?;
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
            engine.state.apply(ev, i).map_err(|e| snapshot::inner(&e))?;
            engine.seen.insert(ev.id.clone(), engine.log.len());
            engine.log.push(ev.clone());
        }
        for (k, (at, id)) in contents.duplicates.iter().enumerate() {
            let known = engine
                .seen
                .get(id)
                .is_some_and(|&j| engine.log[j].at == *at);
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

/// Ids of the entries settled by a written-off statement among one partner's statements:
/// the lines of that statement and of the carried ones before it since the last payable
/// one (as statements settle them).
fn written_off(statements: &[crate::payouts::Statement]) -> std::collections::HashSet<&str> {
    use crate::payouts::StatementStatus;
    let mut out = std::collections::HashSet::new();
    let mut unsettled: Vec<&str> = Vec::new();
    for st in statements {
        unsettled.extend(st.lines.iter().map(|l| &*l.entry));
        match st.status {
            StatementStatus::WrittenOff => out.extend(unsettled.drain(..)),
            StatementStatus::Paid | StatementStatus::Scheduled => unsettled.clear(),
            StatementStatus::Carried => {}
        }
    }
    out
}

fn instant(s: &str) -> Result<Instant> {
    parse_instant(s).map_err(|m| Error::new(ErrorCode::InvalidValue, "as_of", m))
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
