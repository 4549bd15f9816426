//! Every conformance vector through the incremental engine (SPEC §12): the report of the
//! engine must be the batch report byte for byte, and its errors batch's errors (code and
//! path), however the events are fed:
//!
//! - the whole document at once (`Engine::from_json`, `Engine::new`);
//! - one event at a time in the order `Input::feed_order` gives;
//! - one at a time with the partners added only just before the first event that names
//!   them (exercising `upsert_partner` with every feature a vector uses);
//! - with every event delivered twice (the copies are ignored and counted);
//! - through `apply_json`, whose entries must be the bytes of the same entries in a report
//!   as of the event;
//! - for vectors of up to 40 events, with a snapshot and a restore at every cut (one run
//!   per cut, and one chained run that restores after every event);
//! - and as of every instant at which an event happened, against batch with that `as_of`
//!   (the engine replays its log for instants before its last event).
//!
//! The snapshot checked into `tests/snapshots/` (format 1, written by the first version of
//! the engine) must keep restoring with the same report.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{vector_files, vectors_dir};
use partnerkit::time::parse_instant;
use partnerkit::{Engine, Error, Input, evaluate_json};
use serde_json::Value;

/// Vectors with at most this many events also run with a snapshot at every cut.
const CUT_LIMIT: usize = 40;

fn input_text(v: &Value) -> String {
    match v.get("input_text") {
        Some(Value::String(s)) => s.clone(),
        _ => serde_json::to_string(&v["input"]).expect("input"),
    }
}

fn err_str(e: &Error) -> String {
    format!("{} at {}", e.code(), e.path())
}

type Outcome = Result<String, String>;

fn outcome(r: partnerkit::Result<partnerkit::Report>) -> Outcome {
    r.map(|r| r.to_canonical_json()).map_err(|e| err_str(&e))
}

/// Feeds `input`'s events one by one (in `feed_order`), calling `between(k, engine)` before
/// the k-th, which may replace the engine (a snapshot and restore).
fn one_by_one(
    input: &Input,
    mut between: impl FnMut(usize, Engine) -> partnerkit::Result<Engine>,
) -> Outcome {
    let mut run = || -> partnerkit::Result<String> {
        let order = input.feed_order()?;
        let mut engine =
            Engine::from_parts(input.plan.clone(), input.partners.clone(), input.fx.clone())?;
        for (k, &i) in order.iter().enumerate() {
            engine = between(k, engine)?;
            engine.apply_at(input.events[i].clone(), i)?;
        }
        engine = between(order.len(), engine)?;
        Ok(engine.report(input.as_of)?.to_canonical_json())
    };
    run().map_err(|e| err_str(&e))
}

fn restored(engine: Engine) -> partnerkit::Result<Engine> {
    let bytes = engine.snapshot();
    let back = Engine::restore(&bytes)?;
    assert_eq!(
        back.snapshot(),
        bytes,
        "a restored engine snapshots to the same bytes"
    );
    Ok(back)
}

/// Partners the engine must know from the start: those the plan's rules name, and the
/// parents of those (a parent must exist when its child is declared).
fn upfront(input: &Input) -> BTreeSet<String> {
    let mut need: BTreeSet<String> = input
        .plan
        .doc()
        .rules
        .iter()
        .flat_map(|r| r.when.partner.iter().flatten().cloned())
        .collect();
    loop {
        let parents: Vec<String> = input
            .partners
            .iter()
            .filter(|p| need.contains(&p.id))
            .filter_map(|p| p.parent.clone())
            .filter(|p| !need.contains(p))
            .collect();
        if parents.is_empty() {
            return need;
        }
        need.extend(parents);
    }
}

/// One by one, declaring each partner just before the first event that names it (parents
/// first), and the rest at the end.
fn partners_on_demand(input: &Input) -> Outcome {
    let run = || -> partnerkit::Result<String> {
        let order = input.feed_order()?;
        let first: BTreeSet<String> = upfront(input);
        let mut engine = Engine::from_parts(
            input.plan.clone(),
            input
                .partners
                .iter()
                .filter(|p| first.contains(&p.id))
                .cloned()
                .collect(),
            input.fx.clone(),
        )?;
        let mut known = first;
        fn add(
            engine: &mut Engine,
            input: &Input,
            known: &mut BTreeSet<String>,
            id: &str,
        ) -> partnerkit::Result<()> {
            if known.contains(id) {
                return Ok(());
            }
            let Some(p) = input.partners.iter().find(|p| p.id == id) else {
                return Ok(()); // an undeclared partner: the event's own error follows
            };
            known.insert(id.to_owned());
            if let Some(parent) = &p.parent {
                add(engine, input, known, parent)?;
            }
            engine.upsert_partner(p.clone())
        }
        for &i in &order {
            let ev = &input.events[i];
            let named: Vec<&String> = match &ev.body {
                partnerkit::input::Body::Touch(t) => vec![&t.partner],
                partnerkit::input::Body::Adjustment { partner, .. } => vec![partner],
                partnerkit::input::Body::Assign { partners, .. } => {
                    partners.iter().map(|s| &s.partner).collect()
                }
                _ => vec![],
            };
            for p in named {
                add(&mut engine, input, &mut known, p)?;
            }
            engine.apply_at(ev.clone(), i)?;
        }
        for p in &input.partners {
            add(&mut engine, input, &mut known, &p.id)?;
        }
        Ok(engine.report(input.as_of)?.to_canonical_json())
    };
    run().map_err(|e| err_str(&e))
}

/// Every event delivered twice in a row: the copies must change only `duplicates_ignored`,
/// exactly as the same doubled log does in batch.
fn doubled(v: &Value, input: &Input) -> Option<(Outcome, Outcome)> {
    let events = v.pointer("/input/events")?.as_array()?;
    let mut doc = v["input"].clone();
    doc["events"] = Value::Array(events.iter().flat_map(|e| [e.clone(), e.clone()]).collect());
    let batch = outcome(evaluate_json(&doc.to_string()));
    let incremental = {
        let run = || -> partnerkit::Result<String> {
            let order = input.feed_order()?;
            let mut engine =
                Engine::from_parts(input.plan.clone(), input.partners.clone(), input.fx.clone())?;
            for &i in &order {
                engine.apply_at(input.events[i].clone(), i)?;
                let again = engine.apply_at(input.events[i].clone(), i)?;
                assert!(again.is_empty(), "a redelivery writes nothing");
            }
            Ok(engine.report(input.as_of)?.to_canonical_json())
        };
        run().map_err(|e| err_str(&e))
    };
    Some((batch, incremental))
}

/// Through `apply_json`: each call's entries are the bytes of those entries in the report
/// as of the event's instant.
fn via_json(v: &Value, input: &Input, failures: &mut Vec<String>) -> Outcome {
    let events = v
        .pointer("/input/events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let run = |failures: &mut Vec<String>| -> partnerkit::Result<String> {
        let order = input.feed_order()?;
        let mut doc = v["input"].clone();
        doc["events"] = Value::Array(Vec::new());
        if let Some(o) = doc.as_object_mut() {
            o.remove("as_of");
        }
        let mut engine = Engine::from_json(&doc.to_string())?;
        for &i in &order {
            let written = engine.apply_json(&events[i].to_string())?;
            let at = partnerkit::time::fmt_instant(input.events[i].at);
            let report: Value =
                serde_json::from_str(&engine.report_json(&at)?).expect("report JSON");
            let written: Vec<Value> = serde_json::from_str(&written).expect("entries JSON");
            let ids: BTreeSet<&str> = written.iter().filter_map(|e| e["id"].as_str()).collect();
            let in_report: Vec<&Value> = report["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .filter(|e| e["id"].as_str().is_some_and(|id| ids.contains(id)))
                .collect();
            let a = serde_json::to_string(&written).expect("json");
            let b = serde_json::to_string(&in_report).expect("json");
            if a != b {
                failures.push(format!(
                    "apply_json of events[{i}] wrote\n  {a}\nbut the report as of {at} has\n  {b}"
                ));
            }
        }
        Ok(engine.report(input.as_of)?.to_canonical_json())
    };
    run(failures).map_err(|e| err_str(&e))
}

/// The engine with every event up to `as_of` applied, as of each instant at which an
/// event happened, against batch with that `as_of`.
fn as_of_every_event(v: &Value, input: &Input, failures: &mut Vec<String>) {
    let Ok(engine) = Engine::new(input) else {
        return;
    };
    let instants: BTreeSet<_> = input
        .events
        .iter()
        .map(|e| e.at)
        .filter(|&t| t <= input.as_of)
        .collect();
    for t in instants {
        let at = partnerkit::time::fmt_instant(t);
        let mut doc = v["input"].clone();
        doc["as_of"] = Value::String(at.clone());
        let batch = outcome(evaluate_json(&doc.to_string()));
        let inc = outcome(engine.report(t));
        if batch != inc {
            failures.push(format!("as of {at}: engine {inc:?}\n  batch {batch:?}"));
        }
    }
}

fn run_vector(path: &Path) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read vector"))
        .expect("vector is JSON");
    let text = input_text(&v);
    let batch = outcome(evaluate_json(&text));
    let mut failures = Vec::new();
    let mut check = |how: &str, got: Outcome| {
        if got != batch {
            failures.push(format!("{how}: {got:?}\n  batch: {batch:?}"));
        }
    };
    let input = match Input::from_json(&text) {
        Ok(i) => i,
        Err(e) => {
            // A document that does not parse fails the same way for the engine.
            check(
                "Engine::from_json",
                Engine::from_json(&text)
                    .map(|_| String::new())
                    .map_err(|e| err_str(&e)),
            );
            check("Input::from_json", Err(err_str(&e)));
            return failures;
        }
    };
    check(
        "Engine::from_json",
        Engine::from_json(&text)
            .and_then(|e| e.report(input.as_of))
            .map(|r| r.to_canonical_json())
            .map_err(|e| err_str(&e)),
    );
    check(
        "Engine::new",
        outcome(Engine::new(&input).and_then(|e| e.report(input.as_of))),
    );
    check("one by one", one_by_one(&input, |_, e| Ok(e)));
    // Partners that cannot all be declared together (a parent cycle) cannot be added one
    // by one either, and fail differently (a parent not declared yet).
    if Engine::from_parts(input.plan.clone(), input.partners.clone(), input.fx.clone()).is_ok() {
        check("partners on demand", partners_on_demand(&input));
    }
    if batch.is_ok()
        && let Some((b, i)) = doubled(&v, &input)
        && b != i
    {
        failures.push(format!("doubled events: {i:?}\n  batch: {b:?}"));
    }
    let mut json_failures = Vec::new();
    if v.get("input_text").is_none() {
        let got = via_json(&v, &input, &mut json_failures);
        // apply_json names a single event events[0]: compare codes only on errors.
        let same = match (&got, &batch) {
            (Err(a), Err(b)) => a.split(' ').next() == b.split(' ').next(),
            (a, b) => a == b,
        };
        if !same {
            json_failures.push(format!("apply_json: {got:?}\n  batch: {batch:?}"));
        }
    }
    failures.extend(json_failures);
    let n = input.feed_order().map(|o| o.len()).unwrap_or(0);
    if n <= CUT_LIMIT {
        for cut in 0..=n {
            let got = one_by_one(&input, |k, e| if k == cut { restored(e) } else { Ok(e) });
            if got != batch {
                failures.push(format!(
                    "snapshot at cut {cut}: {got:?}\n  batch: {batch:?}"
                ));
            }
        }
        let chained = one_by_one(&input, |_, e| restored(e));
        if chained != batch {
            failures.push(format!("snapshot after every event: {chained:?}"));
        }
    }
    if batch.is_ok() {
        as_of_every_event(&v, &input, &mut failures);
        progress_agrees(&input, &mut failures);
    }
    failures
}

/// `Engine::progress_json` gives each partner the same object as its item in the report's
/// `progress`, and `null` for a partner the report has none for (a plan without tiers).
fn progress_agrees(input: &Input, failures: &mut Vec<String>) {
    let e = Engine::new(input).expect("engine");
    let at = partnerkit::time::fmt_instant(input.as_of);
    let report: Value =
        serde_json::from_str(&e.report_json(&at).expect("report")).expect("report is JSON");
    for p in &input.partners {
        let want = report["progress"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["partner"] == p.id.as_str()))
            .map_or_else(|| "null".to_owned(), Value::to_string);
        let got = e.progress_json(&p.id, &at).expect("progress");
        if got != want {
            failures.push(format!("progress of {}: {got}\n  report: {want}", p.id));
        }
    }
}

#[test]
fn every_vector_through_the_engine() {
    let files = vector_files();
    assert!(files.len() >= 40, "found {} vectors", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let name = f
            .strip_prefix(vectors_dir())
            .unwrap_or(f)
            .display()
            .to_string();
        for e in run_vector(f) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------------------------------------------
// The snapshot checked in with the first version of the format.
// -------------------------------------------------------------------------------------

fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/snapshots")
}

/// The fixture: the input document the snapshot was made from, the snapshot, and the
/// canonical report expected from it.
const INPUT: &str = "engine-v1.input.json";
const SNAPSHOT: &str = "engine-v1.snapshot";
const REPORT: &str = "engine-v1.report.json";

/// How the fixture was made (run once with `PARTNERKIT_WRITE_SNAPSHOT=1`; never again, or
/// the test would no longer test what old snapshots need): the input's events fed one by
/// one, each redelivered once.
fn make_fixture(input: &Input) -> Engine {
    let mut engine =
        Engine::from_parts(input.plan.clone(), input.partners.clone(), input.fx.clone())
            .expect("fixture engine");
    for i in input.feed_order().expect("order") {
        engine.apply_at(input.events[i].clone(), i).expect("apply");
        if i % 10 == 0 {
            engine
                .apply_at(input.events[i].clone(), i)
                .expect("redelivery");
        }
    }
    engine
}

#[test]
fn the_format_1_snapshot_restores_with_the_same_report() {
    let dir = snapshots_dir();
    let text = std::fs::read_to_string(dir.join(INPUT)).expect("fixture input");
    let input = Input::from_json(&text).expect("fixture input parses");
    if std::env::var_os("PARTNERKIT_WRITE_SNAPSHOT").is_some() {
        let engine = make_fixture(&input);
        std::fs::write(dir.join(SNAPSHOT), engine.snapshot()).expect("write snapshot");
        let mut report = engine
            .report(input.as_of)
            .expect("report")
            .to_canonical_json();
        report.push('\n');
        std::fs::write(dir.join(REPORT), report).expect("write report");
    }
    let bytes = std::fs::read(dir.join(SNAPSHOT)).expect("fixture snapshot");
    let engine = Engine::restore(&bytes).expect("a format-1 snapshot restores");
    if std::env::var_os("PARTNERKIT_BLESS").is_some() {
        // The report's format grows with features (new metrics, sections): re-pin it from
        // the unchanged snapshot. The check below against batch keeps the pin honest.
        let mut report = engine
            .report(input.as_of)
            .expect("report")
            .to_canonical_json();
        report.push('\n');
        std::fs::write(dir.join(REPORT), report).expect("write report");
    }
    let want = std::fs::read_to_string(dir.join(REPORT)).expect("fixture report");
    let got = engine
        .report(input.as_of)
        .expect("report")
        .to_canonical_json();
    assert_eq!(got, want.trim_end(), "the restored engine's report changed");
    // The pinned report is the batch evaluation of the same log, redeliveries included.
    let mut doc: Value = serde_json::from_str(&text).expect("json");
    let events = doc["events"].as_array().cloned().expect("events");
    let mut with_copies = Vec::new();
    for (i, e) in events.into_iter().enumerate() {
        if parse_instant(e["at"].as_str().expect("at")).expect("at") <= input.as_of && i % 10 == 0 {
            with_copies.push(e.clone());
        }
        with_copies.push(e);
    }
    doc["events"] = Value::Array(with_copies);
    let batch = evaluate_json(&doc.to_string())
        .expect("batch")
        .to_canonical_json();
    assert_eq!(got, batch, "restored report = batch report of the same log");
    let distinct: BTreeSet<&str> = input
        .feed_order()
        .expect("order")
        .into_iter()
        .map(|i| &*input.events[i].id)
        .collect();
    assert_eq!(engine.events_applied(), distinct.len() as u64);
}
