//! The incremental engine's contract, case by case: canonical order (`LateEvent`),
//! redeliveries and conflicts, all-or-nothing calls, snapshot errors (`InvalidSnapshot`),
//! partners and FX rates added between events, and the JSON surface bindings wrap.
//! Amounts are worked by hand in the comments.

use partnerkit::input::{Body, Event};
use partnerkit::{Engine, ErrorCode, Input, evaluate_json};
use serde_json::{Value, json};

/// 20% of every payment, 30-day hold, monthly statements without threshold, USD.
fn plan() -> Value {
    json!({
        "schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
        "rules": [{"id": "base", "reward": {"percent": "20"}}],
        "payouts": {"period": "month", "threshold": "0"}
    })
}

fn engine() -> Engine {
    Engine::from_json(&json!({"plan": plan(), "partners": [{"id": "ana"}]}).to_string())
        .expect("engine")
}

fn touch(id: &str, at: &str, partner: &str, customer: &str) -> Value {
    json!({"id": id, "kind": "touch", "at": at, "partner": partner, "customer": customer,
           "channel": "link"})
}

fn pay(id: &str, at: &str, customer: &str, amount: &str) -> Value {
    json!({"id": id, "kind": "payment", "at": at, "customer": customer, "amount": amount,
           "currency": "USD"})
}

fn refund(id: &str, at: &str, payment: &str, amount: &str) -> Value {
    json!({"id": id, "kind": "refund", "at": at, "payment": payment, "amount": amount})
}

fn apply(e: &mut Engine, v: &Value) -> partnerkit::Result<String> {
    e.apply_json(&v.to_string())
}

fn code_path(r: partnerkit::Result<impl std::fmt::Debug>) -> (ErrorCode, String, String) {
    let e = r.expect_err("an error");
    (e.code(), e.path().to_owned(), e.message().to_owned())
}

/// A touch then a $100.00 payment: $20.00 pending until 2026-02-14T12:00Z.
fn started() -> Engine {
    let mut e = engine();
    apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap();
    apply(&mut e, &pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00")).unwrap();
    e
}

#[test]
fn entries_come_back_as_canonical_json_with_their_status_then() {
    let mut e = engine();
    assert_eq!(
        apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap(),
        "[]"
    );
    let out = apply(&mut e, &pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00")).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    // 100.00 × 20% = 20.00, pending for 30 days.
    assert_eq!(v[0]["id"], "commission:p1:base:ana");
    assert_eq!(v[0]["amount"], "20.00");
    assert_eq!(v[0]["status"], "pending");
    assert_eq!(v[0]["available_at"], "2026-02-14T12:00:00Z");
    assert_eq!(e.events_applied(), 2);
}

#[test]
fn an_earlier_event_is_late_and_says_how_to_recover() {
    let mut e = started();
    let before = e.snapshot();
    let (code, path, msg) = code_path(apply(
        &mut e,
        &touch("t0", "2026-01-12T00:00:00Z", "ana", "c2"),
    ));
    assert_eq!((code, path.as_str()), (ErrorCode::LateEvent, "events[0]"));
    assert!(msg.contains("re-evaluate from the event log"), "{msg}");
    // Same instant as the payment, but a touch ranks before a payment.
    let (code, _, _) = code_path(apply(
        &mut e,
        &touch("t9", "2026-01-15T12:00:00Z", "ana", "c2"),
    ));
    assert_eq!(code, ErrorCode::LateEvent);
    assert_eq!(e.snapshot(), before, "a late event changes nothing");
    // Same instant, a later kind rank: in order.
    let adj = json!({"id": "a1", "kind": "adjustment", "at": "2026-01-15T12:00:00Z",
                     "partner": "ana", "amount": "5.00", "currency": "USD", "reason": "bonus"});
    apply(&mut e, &adj).unwrap();
}

#[test]
fn a_redelivery_is_ignored_and_counted_a_changed_one_conflicts() {
    let mut e = started();
    // The same payment spelled differently (trailing zero dropped, another offset).
    let again = pay("p1", "2026-01-15T13:00:00+01:00", "c1", "100.0");
    assert_eq!(apply(&mut e, &again).unwrap(), "[]");
    // An old touch redelivered after later events: still a redelivery, not late.
    assert_eq!(
        apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap(),
        "[]"
    );
    assert_eq!(e.events_applied(), 2);
    let report = e.report_json("2026-03-01T00:00:00Z").unwrap();
    assert!(report.contains(r#""duplicates_ignored":2"#), "{report}");
    // As of before the touch, no redelivery had happened.
    let early = e.report_json("2026-01-09T00:00:00Z").unwrap();
    assert!(early.contains(r#""duplicates_ignored":0"#));
    let before = e.snapshot();
    let (code, path, msg) = code_path(apply(
        &mut e,
        &pay("p1", "2026-01-15T12:00:00Z", "c1", "120.00"),
    ));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::ConflictingEvent, "events[0]")
    );
    assert!(msg.contains("needs a new id"), "{msg}");
    assert_eq!(e.snapshot(), before);
}

#[test]
fn apply_many_is_all_or_nothing_and_sorts_its_batch() {
    let mut e = started();
    let before = e.snapshot();
    let batch = json!([
        refund("r1", "2026-01-20T00:00:00Z", "p1", "50.00"),
        refund("r2", "2026-01-21T00:00:00Z", "nope", "1.00"),
    ]);
    let (code, path, _) = code_path(e.apply_json(&batch.to_string()));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::UnknownPayment, "events[1].payment")
    );
    assert_eq!(e.snapshot(), before, "the first refund was rolled back");
    // A batch given out of order is applied in canonical order: the payment of c2 comes
    // after its touch although listed first. 80.00 × 20% = 16.00.
    let batch = json!([
        pay("p2", "2026-01-25T00:00:00Z", "c2", "80.00"),
        touch("t2", "2026-01-24T00:00:00Z", "ana", "c2"),
    ]);
    let out: Value = serde_json::from_str(&e.apply_json(&batch.to_string()).unwrap()).unwrap();
    assert_eq!(out[0]["amount"], "16.00");
    // Two copies of one id in a batch: identical is a redelivery, different a conflict.
    let dup = json!([
        touch("t3", "2026-01-26T00:00:00Z", "ana", "c3"),
        touch("t3", "2026-01-26T00:00:00Z", "ana", "c3")
    ]);
    e.apply_json(&dup.to_string()).unwrap();
    let clash = json!([
        touch("t4", "2026-01-27T00:00:00Z", "ana", "c4"),
        touch("t4", "2026-01-27T00:00:00Z", "ana", "c5")
    ]);
    let (code, path, _) = code_path(e.apply_json(&clash.to_string()));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::ConflictingEvent, "events[1]")
    );
    assert_eq!(e.events_applied(), 5);
}

#[test]
fn an_event_failing_half_way_leaves_the_engine_as_it_was() {
    // A EUR payment with no EUR→USD rate: c2's attribution is decided (state written),
    // then converting the credited revenue to plan currency fails.
    let mut e = started();
    apply(&mut e, &touch("t2", "2026-01-16T00:00:00Z", "ana", "c2")).unwrap();
    let before = e.snapshot();
    let report = e.report_json("2026-03-01T00:00:00Z").unwrap();
    let eur = json!({"id": "p2", "kind": "payment", "at": "2026-01-17T00:00:00Z",
                     "customer": "c2", "amount": "50.00", "currency": "EUR"});
    let (code, path, _) = code_path(apply(&mut e, &eur));
    assert_eq!((code, path.as_str()), (ErrorCode::MissingFxRate, "fx"));
    assert_eq!(e.snapshot(), before);
    assert_eq!(e.report_json("2026-03-01T00:00:00Z").unwrap(), report);
    assert_eq!(e.events_applied(), 3);
    // c2 is still undecided: a USD payment now attributes it and pays 20% of 10.00.
    let out = apply(&mut e, &pay("p3", "2026-01-18T00:00:00Z", "c2", "10.00")).unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out[0]["amount"], "2.00");
}

#[test]
fn fx_rates_are_added_for_the_days_to_come() {
    let mut e = started();
    let eur = json!({"id": "p2", "kind": "payment", "at": "2026-01-17T00:00:00Z",
                     "customer": "c1", "amount": "50.00", "currency": "EUR"});
    // The last event was on 2026-01-15: a rate for that day could change what is done.
    let (code, path, msg) = code_path(
        e.add_fx_json(r#"{"date": "2026-01-15", "from": "EUR", "to": "USD", "rate": "1.1"}"#),
    );
    assert_eq!((code, path.as_str()), (ErrorCode::LateEvent, "fx[0].date"));
    assert!(msg.contains("re-evaluate from the event log"), "{msg}");
    e.add_fx_json(r#"[{"date": "2026-01-16", "from": "EUR", "to": "USD", "rate": "1.1"}]"#)
        .unwrap();
    // 50.00 EUR × 20% = 10.00 EUR, in the payment's currency.
    let out: Value = serde_json::from_str(&apply(&mut e, &eur).unwrap()).unwrap();
    assert_eq!(out[0]["amount"], "10.00");
    assert_eq!(out[0]["currency"], "EUR");
    // A different rate for a pair and day already quoted is refused, naming the new one.
    let (code, path, _) = code_path(e.add_fx_json(
        r#"[{"date": "2026-01-18", "from": "EUR", "to": "USD", "rate": "1.1"},
            {"date": "2026-01-18", "from": "EUR", "to": "USD", "rate": "1.2"}]"#,
    ));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::InvalidValue, "fx[1].rate")
    );
    // Revenue is credited in plan currency at 1.1: 55.00 USD, and 100.00 before it.
    let r: Value = serde_json::from_str(&e.report_json("2026-03-01T00:00:00Z").unwrap()).unwrap();
    assert_eq!(r["metrics"]["program"]["revenue"], "155.00");
    let back = Engine::restore(&e.snapshot()).unwrap();
    assert_eq!(
        back.report_json("2026-03-01T00:00:00Z").unwrap(),
        e.report_json("2026-03-01T00:00:00Z").unwrap()
    );
}

#[test]
fn bad_snapshots_are_invalid_snapshot_errors_that_say_why() {
    let good = started().snapshot();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty"),
        (
            "garbage",
            b"hello world, not a snapshot at all".to_vec(),
            "not a partnerkit",
        ),
        ("cut in the magic", good[..3].to_vec(), "truncated"),
        ("cut in the header", good[..20].to_vec(), "truncated"),
        (
            "cut in the content",
            good[..good.len() - 1].to_vec(),
            "truncated or padded",
        ),
        (
            "padded",
            [good.clone(), vec![b' ']].concat(),
            "truncated or padded",
        ),
        ("newer format", with(&good, 8, 2), "newer than this version"),
        ("format 0", with(&good, 8, 0), "not a format"),
        ("flipped byte", with(&good, 100, good[100] ^ 1), "checksum"),
    ];
    for (name, bytes, says) in cases {
        let e = Engine::restore(&bytes).expect_err(name);
        assert_eq!(e.code(), ErrorCode::InvalidSnapshot, "{name}");
        assert_eq!(e.path(), "snapshot", "{name}");
        assert!(e.message().contains(says), "{name}: {}", e.message());
    }
    assert!(Engine::restore(&good).is_ok());
}

fn with(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] = value;
    b
}

/// Rewrites section A of a snapshot and fixes its checksum: content a build could not
/// have written, which must still be refused clearly.
fn tampered(bytes: &[u8], edit: impl Fn(&mut Value)) -> Vec<u8> {
    let len = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (a, b) = (len(16), len(24));
    let mut doc: Value = serde_json::from_slice(&bytes[32..32 + a]).unwrap();
    edit(&mut doc);
    let a_new = serde_json::to_vec(&doc).unwrap();
    let b_part = &bytes[32 + a..32 + a + b];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&a_new);
    crc.update(b_part);
    let mut out = bytes[..12].to_vec();
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&(a_new.len() as u64).to_le_bytes());
    out.extend_from_slice(&(b as u64).to_le_bytes());
    out.extend_from_slice(&a_new);
    out.extend_from_slice(b_part);
    out
}

#[test]
fn snapshot_content_that_does_not_replay_is_refused_with_its_path() {
    let good = started().snapshot();
    // Unchanged content re-encoded restores: the helper is faithful.
    assert!(Engine::restore(&tampered(&good, |_| {})).is_ok());
    let swapped = tampered(&good, |doc| {
        let ev = doc["events"].as_array_mut().unwrap();
        ev.swap(0, 1);
    });
    let e = Engine::restore(&swapped).expect_err("out of order");
    assert_eq!(e.code(), ErrorCode::InvalidSnapshot);
    assert_eq!(e.path(), "snapshot.events[1]");
    let typo = tampered(&good, |doc| {
        doc["events"][1]["amount"] = json!("100.001");
    });
    let e = Engine::restore(&typo).expect_err("bad amount");
    assert_eq!(e.code(), ErrorCode::InvalidSnapshot);
    assert_eq!(e.path(), "snapshot.events[1].amount");
    assert!(e.message().contains("InvalidValue"), "{}", e.message());
}

#[test]
fn partners_join_between_events_and_status_changes_only_ahead() {
    let mut e = started();
    let (code, path, _) = code_path(apply(
        &mut e,
        &touch("t2", "2026-01-20T00:00:00Z", "ben", "c2"),
    ));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::UnknownPartner, "events[0].partner")
    );
    let (code, path, _) = code_path(e.upsert_partner_json(r#"{"id": "ben", "parent": "zed"}"#));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::UnknownPartner, "partner.parent")
    );
    let (code, path, _) = code_path(e.upsert_partner_json(r#"{"id": "ben", "colour": "red"}"#));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::UnknownField, "partner.colour")
    );
    e.upsert_partner_json(r#"{"id": "ben", "parent": "ana", "segment": "agency"}"#)
        .unwrap();
    apply(&mut e, &touch("t2", "2026-01-20T00:00:00Z", "ben", "c2")).unwrap();
    // Identical again: nothing to do. A new segment would re-price applied events.
    e.upsert_partner_json(r#"{"id": "ben", "parent": "ana", "segment": "agency"}"#)
        .unwrap();
    let (code, path, _) =
        code_path(e.upsert_partner_json(r#"{"id": "ben", "parent": "ana", "segment": "x"}"#));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::InvalidValue, "partner.segment")
    );
    // A suspension before the last event would change it; one after it is fine.
    let (code, path, _) = code_path(e.upsert_partner_json(
        r#"{"id": "ben", "parent": "ana", "segment": "agency",
            "status": [{"at": "2026-01-19T00:00:00Z", "status": "suspended"}]}"#,
    ));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::InvalidValue, "partner.status")
    );
    let ben = r#"{"id": "ben", "parent": "ana", "segment": "agency",
                  "status": [{"at": "2026-01-21T00:00:00Z", "status": "suspended"}]}"#;
    e.upsert_partner_json(ben).unwrap();
    // c2 converts while ben is suspended: credited to ben, but nothing is earned.
    let out = apply(&mut e, &pay("p2", "2026-01-22T00:00:00Z", "c2", "50.00")).unwrap();
    assert_eq!(out, "[]");
    // The engine equals batch over the final partner list and the same events.
    let doc = json!({
        "plan": plan(),
        "partners": [{"id": "ana"}, serde_json::from_str::<Value>(ben).unwrap()],
        "events": [
            touch("t1", "2026-01-10T09:00:00Z", "ana", "c1"),
            pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00"),
            touch("t2", "2026-01-20T00:00:00Z", "ben", "c2"),
            pay("p2", "2026-01-22T00:00:00Z", "c2", "50.00"),
        ],
        "as_of": "2026-04-01T00:00:00Z"
    });
    let batch = evaluate_json(&doc.to_string()).unwrap().to_canonical_json();
    assert_eq!(e.report_json("2026-04-01T00:00:00Z").unwrap(), batch);
    let back = Engine::restore(&e.snapshot()).unwrap();
    assert_eq!(back.report_json("2026-04-01T00:00:00Z").unwrap(), batch);
    assert_eq!(back.partners().len(), 2);
}

#[test]
fn before_any_event_a_partner_may_change_freely() {
    let mut e = engine();
    e.upsert_partner_json(r#"{"id": "ben"}"#).unwrap();
    e.upsert_partner_json(r#"{"id": "ana", "segment": "agency", "parent": "ben"}"#)
        .unwrap();
    let (code, path, _) = code_path(e.upsert_partner_json(r#"{"id": "ben", "parent": "ana"}"#));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::CyclicParent, "partners[0].parent")
    );
    assert_eq!(e.partners()[0].segment.as_deref(), Some("agency"));
}

#[test]
fn balances_and_statements_for_one_partner() {
    let mut e = started();
    // Half refunded on 2026-01-20, within the hold: a cancel of 10.00 (20.00 × 50/100).
    apply(&mut e, &refund("r1", "2026-01-20T00:00:00Z", "p1", "50.00")).unwrap();
    let b: Value =
        serde_json::from_str(&e.balance_json("ana", "2026-02-01T00:00:00Z").unwrap()).unwrap();
    assert_eq!(
        b,
        json!({"partner": "ana", "as_of": "2026-02-01T00:00:00Z",
               "balances": [{"currency": "USD", "pending": "10.00", "available": "0.00",
                             "paid": "0.00"}]})
    );
    // Both lines became available on 2026-02-14: the February statement pays 10.00 with
    // NET-0 due 2026-02-28, paid as of March.
    let b: Value =
        serde_json::from_str(&e.balance_json("ana", "2026-03-01T00:00:00Z").unwrap()).unwrap();
    assert_eq!(b["balances"][0]["available"], "0.00");
    assert_eq!(b["balances"][0]["paid"], "10.00");
    let s: Value =
        serde_json::from_str(&e.statements_json("ana", "2026-03-01T00:00:00Z").unwrap()).unwrap();
    assert_eq!(s[0]["period"], "2026-02");
    assert_eq!(s[0]["payout"], "10.00");
    assert_eq!(s[0]["status"], "paid");
    // The same bytes as in the report.
    let r: Value = serde_json::from_str(&e.report_json("2026-03-01T00:00:00Z").unwrap()).unwrap();
    assert_eq!(s, r["statements"]);
    let (code, path, _) = code_path(e.balance_json("zed", "2026-03-01T00:00:00Z"));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::UnknownPartner, "partner")
    );
    let (code, path, _) = code_path(e.report_json("March"));
    assert_eq!((code, path.as_str()), (ErrorCode::InvalidValue, "as_of"));
}

#[test]
fn a_written_off_balance_is_not_available() {
    // No hold, write-off of negative balances. January: 20.00 (20% of 100.00), paid by the
    // January statement (NET-0, due 2026-01-31). February: the payment is refunded in full,
    // a clawback of -20.00; the February statement closes at -20.00 and writes it off.
    let plan = json!({
        "schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
        "rules": [{"id": "base", "reward": {"percent": "20"}}],
        "lifecycle": {"hold_days": 0, "negative_balance": "write_off"},
        "payouts": {"period": "month", "threshold": "0"}
    });
    let mut e =
        Engine::from_json(&json!({"plan": plan, "partners": [{"id": "ana"}]}).to_string()).unwrap();
    apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap();
    apply(&mut e, &pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00")).unwrap();
    apply(
        &mut e,
        &refund("r1", "2026-02-10T00:00:00Z", "p1", "100.00"),
    )
    .unwrap();
    let b: Value =
        serde_json::from_str(&e.balance_json("ana", "2026-02-20T00:00:00Z").unwrap()).unwrap();
    // Before February closes the clawback is owed: -20.00 available.
    assert_eq!(b["balances"][0]["available"], "-20.00");
    assert_eq!(b["balances"][0]["paid"], "20.00");
    let b: Value =
        serde_json::from_str(&e.balance_json("ana", "2026-03-02T00:00:00Z").unwrap()).unwrap();
    assert_eq!(b["balances"][0]["available"], "0.00");
    assert_eq!(b["balances"][0]["paid"], "20.00");
    let s: Value =
        serde_json::from_str(&e.statements_json("ana", "2026-03-02T00:00:00Z").unwrap()).unwrap();
    assert_eq!(s[1]["status"], "written_off");
    assert_eq!(s[1]["written_off"], "20.00");
}

#[test]
fn engines_from_documents_leave_out_events_after_as_of() {
    let doc = json!({
        "plan": plan(), "partners": [{"id": "ana"}],
        "events": [
            touch("t1", "2026-01-10T09:00:00Z", "ana", "c1"),
            pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00"),
            pay("p2", "2026-02-15T12:00:00Z", "c1", "100.00"),
        ],
        "as_of": "2026-02-01T00:00:00Z"
    });
    let text = doc.to_string();
    let mut e = Engine::from_json(&text).unwrap();
    assert_eq!(e.events_applied(), 2);
    assert_eq!(
        e.report_json("2026-02-01T00:00:00Z").unwrap(),
        evaluate_json(&text).unwrap().to_canonical_json()
    );
    let input = Input::from_json(&text).unwrap();
    assert_eq!(Engine::new(&input).unwrap().events_applied(), 2);
    // The later payment is applied when it happens.
    apply(&mut e, &pay("p2", "2026-02-15T12:00:00Z", "c1", "100.00")).unwrap();
    // Without as_of, a document's events are all applied.
    let mut open = doc.clone();
    open.as_object_mut().unwrap().remove("as_of");
    assert_eq!(
        Engine::from_json(&open.to_string())
            .unwrap()
            .events_applied(),
        3
    );
    // A document without `as_of` is still an error for evaluation.
    let (code, path, _) = code_path(evaluate_json(&open.to_string()));
    assert_eq!((code, path.as_str()), (ErrorCode::MissingField, "as_of"));
}

#[test]
fn events_built_in_rust_get_the_document_checks() {
    let mut e = started();
    let Body::Payment(mut p) =
        partnerkit::input::event_from_value(&pay("p9", "2026-01-30T00:00:00Z", "c1", "10.00"), "e")
            .unwrap()
            .body
    else {
        unreachable!()
    };
    p.amount = rust_decimal::Decimal::new(10_001, 3); // 10.001 USD: below the cent
    let ev = Event {
        id: "p9".into(),
        at: partnerkit::time::parse_instant("2026-01-30T00:00:00Z").unwrap(),
        body: Body::Payment(p),
    };
    let (code, path, _) = code_path(e.apply(ev));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::InvalidValue, "events[0].amount")
    );
    let (code, path, _) = code_path(e.apply_json("[1]"));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::InvalidValue, "events[0]")
    );
    let (code, _, _) = code_path(e.apply_json("42"));
    assert_eq!(code, ErrorCode::InvalidValue);
    let (code, _, _) = code_path(e.apply_json("{"));
    assert_eq!(code, ErrorCode::InvalidJson);
}

#[test]
fn clones_are_independent_and_the_engine_crosses_threads() {
    let e = started();
    let mut c = e.clone();
    apply(
        &mut c,
        &refund("r1", "2026-01-20T00:00:00Z", "p1", "100.00"),
    )
    .unwrap();
    assert_eq!(e.events_applied(), 2);
    assert_eq!(c.events_applied(), 3);
    let shared = std::sync::Arc::new(std::sync::Mutex::new(e));
    let s = shared.clone();
    std::thread::spawn(move || {
        let mut e = s.lock().unwrap();
        apply(
            &mut e,
            &refund("r1", "2026-01-20T00:00:00Z", "p1", "100.00"),
        )
        .unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(shared.lock().unwrap().events_applied(), 3);
}

#[test]
fn an_engine_keeps_its_limits_through_apply_replay_and_restore() {
    let limits = partnerkit::Limits::from_json(r#"{"max_touches_per_customer": 2}"#).unwrap();
    let doc = json!({"plan": plan(), "partners": [{"id": "ana"}]}).to_string();
    let mut e = Engine::from_json_with(&doc, &limits).unwrap();
    apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap();
    apply(&mut e, &touch("t2", "2026-01-11T09:00:00Z", "ana", "c1")).unwrap();
    let third = touch("t3", "2026-01-12T09:00:00Z", "ana", "c1");
    let (code, path, message) = code_path(apply(&mut e, &third));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::LimitExceeded, "events[0]")
    );
    assert!(
        message.starts_with("max_touches_per_customer is 2,"),
        "{message}"
    );
    // The failed call changed nothing, and the rebuilt state kept the limit.
    assert_eq!(e.events_applied(), 2);
    assert_eq!(code_path(apply(&mut e, &third)).0, ErrorCode::LimitExceeded);
    // Restored under the same limits: still enforced. Under the defaults: accepted.
    let bytes = e.snapshot();
    let mut back = Engine::restore_with(&bytes, &limits).unwrap();
    assert_eq!(
        code_path(apply(&mut back, &third)).0,
        ErrorCode::LimitExceeded
    );
    let mut free = Engine::restore(&bytes).unwrap();
    apply(&mut free, &third).unwrap();
    // A snapshot over the host's limits is LimitExceeded at its place in the snapshot (the
    // bytes are sound), not InvalidSnapshot.
    let tight = partnerkit::Limits::from_json(r#"{"max_touches_per_customer": 1}"#).unwrap();
    let (code, path, _) = code_path(Engine::restore_with(&bytes, &tight));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::LimitExceeded, "snapshot.events[1]")
    );
    let few = partnerkit::Limits::from_json(r#"{"max_events": 1}"#).unwrap();
    let (code, path, _) = code_path(Engine::restore_with(&bytes, &few));
    assert_eq!(
        (code, path.as_str()),
        (ErrorCode::LimitExceeded, "snapshot.events")
    );
}

#[test]
fn statements_per_partner_bind_engine_reports_and_queries() {
    let limits = partnerkit::Limits::from_json(r#"{"max_statements_per_partner": 1}"#).unwrap();
    let doc = json!({"plan": plan(), "partners": [{"id": "ana"}]}).to_string();
    let mut e = Engine::from_json_with(&doc, &limits).unwrap();
    // A negative balance, available at once, carries forward: a statement every month.
    let adjustment = json!({"id": "a1", "kind": "adjustment", "at": "2026-01-05T10:00:00Z",
        "partner": "ana", "amount": "-10.00", "currency": "USD", "reason": "clawback"});
    apply(&mut e, &adjustment).unwrap();
    // January has closed by 15 February: one statement; by 15 March February too: two.
    e.report_json("2026-02-15T00:00:00Z").unwrap();
    let (code, path, _) = code_path(e.report_json("2026-03-15T00:00:00Z"));
    assert_eq!((code, path.as_str()), (ErrorCode::LimitExceeded, "as_of"));
    let (code, _, _) = code_path(e.statements_json("ana", "2026-03-15T00:00:00Z"));
    assert_eq!(code, ErrorCode::LimitExceeded);
}

#[test]
fn an_engine_holds_no_more_events_partners_or_rates_than_its_limits() {
    let limits =
        partnerkit::Limits::from_json(r#"{"max_events": 2, "max_partners": 2, "max_fx_rates": 1}"#)
            .unwrap();
    let doc = json!({"plan": plan(), "partners": [{"id": "ana"}]}).to_string();
    let mut e = Engine::from_json_with(&doc, &limits).unwrap();
    apply(&mut e, &touch("t1", "2026-01-10T09:00:00Z", "ana", "c1")).unwrap();
    apply(&mut e, &pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00")).unwrap();
    // A redelivery is not a new event; a third distinct one is one too many.
    apply(&mut e, &pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00")).unwrap();
    let (code, path, message) = code_path(apply(
        &mut e,
        &refund("r1", "2026-01-20T00:00:00Z", "p1", "10.00"),
    ));
    assert_eq!((code, path.as_str()), (ErrorCode::LimitExceeded, "events"));
    assert!(
        message.starts_with("max_events is 2, and this has 3"),
        "{message}"
    );
    assert_eq!(e.events_applied(), 2);
    e.upsert_partner_json(r#"{"id": "ben"}"#).unwrap();
    let (code, path, _) = code_path(e.upsert_partner_json(r#"{"id": "cy"}"#));
    assert_eq!((code, path.as_str()), (ErrorCode::LimitExceeded, "partner"));
    let rate = |d: &str| format!(r#"{{"date": "{d}", "from": "EUR", "to": "USD", "rate": "1.1"}}"#);
    e.add_fx_json(&rate("2026-02-01")).unwrap();
    let (code, path, _) = code_path(e.add_fx_json(&rate("2026-02-02")));
    assert_eq!((code, path.as_str()), (ErrorCode::LimitExceeded, "fx"));
}

#[test]
fn a_checked_event_applies_as_its_json_text_does() {
    // The binding's route: an event read by `event_from_deserializer` goes straight to the
    // fold (`apply_checked_with_status`). It writes what the same event as JSON text writes
    // (100.00 × 20% = 20.00, pending until 2026-02-14T12:00Z), leaves the same engine, and a
    // redelivery or a late event is refused or counted as on the JSON route.
    let (mut native, mut text) = (engine(), engine());
    let events = [
        touch("t1", "2026-01-10T09:00:00Z", "ana", "c1"),
        pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00"),
        pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00"),
    ];
    for v in &events {
        let checked = partnerkit::input::event_from_deserializer(v, "events[0]").unwrap();
        let got = native.apply_checked_with_status(checked).unwrap();
        let want = text.apply_json_with_status(&v.to_string()).unwrap();
        assert_eq!(got, want);
    }
    let late = partnerkit::input::event_from_deserializer(
        pay("p0", "2026-01-01T00:00:00Z", "c1", "1.00"),
        "events[0]",
    )
    .unwrap();
    let (code, path, _) = code_path(native.apply_checked_with_status(late));
    assert_eq!((code, path.as_str()), (ErrorCode::LateEvent, "events[0]"));
    assert_eq!(native.events_applied(), 2);
    assert_eq!(native.snapshot(), text.snapshot());
}

#[test]
fn a_failed_events_rebuild_runs_where_the_caller_says() {
    // A touch past `max_touches_per_customer` fails inside the fold, after the fraud
    // tracker saw it: the engine rebuilds from its log. `apply_checked_with_status_then`
    // hands that job to `slow` (a binding releases its interpreter lock there); a `slow`
    // that does not run it still leaves the engine as it was, and a call that does not fail
    // never calls `slow`.
    let limits = partnerkit::Limits::from_json(r#"{"max_touches_per_customer": 1}"#).unwrap();
    let doc = json!({"plan": plan(), "partners": [{"id": "ana"}]}).to_string();
    let mut e = Engine::from_json_with(&doc, &limits).unwrap();
    let checked = |v: &Value| partnerkit::input::event_from_deserializer(v, "events[0]").unwrap();
    let mut calls = 0;
    let first = touch("t1", "2026-01-10T09:00:00Z", "ana", "c1");
    e.apply_checked_with_status_then(checked(&first), |_| calls += 1)
        .unwrap();
    assert_eq!(calls, 0);
    let before = e.snapshot();
    let report = e.report_json("2026-01-31T00:00:00Z").unwrap();
    let second = touch("t2", "2026-01-11T09:00:00Z", "ana", "c1");
    for runs in [true, false] {
        let mut ran = 0;
        let got = e.apply_checked_with_status_then(checked(&second), |job| {
            calls += 1;
            if runs {
                job();
                ran += 1;
            }
        });
        let (code, path, _) = code_path(got);
        assert_eq!(
            (code, path.as_str()),
            (ErrorCode::LimitExceeded, "events[0]")
        );
        assert_eq!(ran, usize::from(runs));
        assert_eq!(e.snapshot(), before);
        assert_eq!(e.report_json("2026-01-31T00:00:00Z").unwrap(), report);
    }
    assert_eq!(calls, 2);
    // A failure that changes nothing (an unknown partner) needs no rebuild.
    let stranger = touch("t3", "2026-01-12T09:00:00Z", "zed", "c2");
    let (code, _, _) =
        code_path(e.apply_checked_with_status_then(checked(&stranger), |_| calls += 1));
    assert_eq!((code, calls), (ErrorCode::UnknownPartner, 2));
    // And the engine goes on: the first touch's customer pays, 100.00 × 20% = 20.00.
    let p = pay("p1", "2026-01-15T12:00:00Z", "c1", "100.00");
    let got = e
        .apply_checked_with_status_then(checked(&p), |_| calls += 1)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.amount.to_string(), "20.00");
    assert_eq!(calls, 2);
}
