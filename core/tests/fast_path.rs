//! The columnar fast path gives the canonical path's ledger, byte for byte.
//!
//! Every conformance vector runs through `fast::evaluate` (from the parsed input) and
//! through `Program::evaluate_columns` (from columns built of its events); each entry,
//! written as the canonical report writes it without its explanation, must be identical,
//! and an input the canonical path rejects must be rejected with the same error. Most
//! vectors use features the fast path hands to the canonical path, so a second test
//! generates inputs inside the compiled subset (tiers, caps, holds, clawbacks, thresholds,
//! partial refunds and chargebacks, same-instant ties) and checks that the fast path both
//! ran natively and agreed.

mod common;
mod fast_inputs;

use common::{vector_files, vectors_dir};
use fast_inputs::{Bytes, Draw, SplitMix, canonical_lines, folds_other_currencies, input, plan};
use partnerkit::fast::{self, Events, Ledger, Options, Program};
use partnerkit::{Input, Limits};
use serde_json::Value;

/// The fast path's reason for a payment in another currency than the plan's under a plan
/// that reads amounts in its own.
const FOREIGN_PLAN: &str = "the input has a payment in a currency other than the plan's, under";

fn input_text(v: &Value) -> String {
    match v.get("input_text") {
        Some(Value::String(s)) => s.clone(),
        _ => serde_json::to_string(&v["input"]).expect("input"),
    }
}

/// Compares both paths on one input; returns whether the fast path ran natively.
/// The first column in which two sets of event columns differ, if any.
#[cfg(feature = "arrow")]
fn columns_differ(a: &Events, b: &Events) -> Option<&'static str> {
    let names = [
        ("id", a.id == b.id),
        ("kind", a.kind == b.kind),
        ("at", a.at == b.at),
        ("partner", a.partner == b.partner),
        ("customer", a.customer == b.customer),
        ("channel", a.channel == b.channel),
        ("amount", a.amount == b.amount),
        // By value: a column no event has a value in may be kept empty (`Events::tax`).
        ("tax", (0..a.len()).all(|i| a.tax(i) == b.tax(i))),
        (
            "discount",
            (0..a.len()).all(|i| a.discount(i) == b.discount(i)),
        ),
        ("currency", a.currency == b.currency),
        ("payment", a.payment == b.payment),
        (
            "qualified",
            (0..a.len()).all(|i| a.qualified(i) == b.qualified(i)),
        ),
        ("partners", a.partners.strings == b.partners.strings),
        ("customers", a.customers.strings == b.customers.strings),
        ("payments", a.payments.strings == b.payments.strings),
        ("wide", a.wide == b.wide),
    ];
    names.into_iter().find(|(_, same)| !same).map(|(n, _)| n)
}

fn compare(input: &Input, name: &str, errs: &mut Vec<String>) -> bool {
    let canonical = partnerkit::evaluate(input);
    let fast = fast::evaluate(input, &Options::default());
    let program = Program::new(input.plan.clone());
    let columns = Events::from_events(&input.events).map(|ev| {
        program.evaluate_columns(
            &input.partners,
            &ev,
            &input.fx,
            input.as_of,
            &Options::default(),
        )
    });
    match (&canonical, &fast) {
        (Err(c), Err(f)) => {
            if c.to_json() != f.to_json() {
                errs.push(format!(
                    "{name}: errors differ: {} vs {}",
                    c.to_json(),
                    f.to_json()
                ));
            }
            match &columns {
                Some(Ok(_)) => errs.push(format!(
                    "{name}: columns evaluated an input the canonical path rejects"
                )),
                // The columns keep amounts as integers, not as written: the error must
                // still read the same.
                Some(Err(col)) if col.to_json() != c.to_json() => errs.push(format!(
                    "{name}: column errors differ: {} vs {}",
                    c.to_json(),
                    col.to_json()
                )),
                _ => {}
            }
            false
        }
        (Ok(report), Ok(out)) => {
            let want = canonical_lines(report);
            let got = out.ledger.to_json_lines();
            if want != got {
                errs.push(format!(
                    "{name}: ledgers differ ({:?})\n want:\n{want}\n got:\n{got}",
                    out.path
                ));
            }
            let back = Ledger::from_report(report, false).expect("report fits the columns");
            if back.to_json_lines() != want {
                errs.push(format!(
                    "{name}: Ledger::from_report differs from the report"
                ));
            }
            #[cfg(feature = "arrow")]
            if let Some(ev) = Events::from_events(&input.events) {
                // Through Arrow and back: the record batch reads as the same columns.
                use partnerkit::fast::arrow::{
                    events_from_batches, events_from_batches_by_rows, events_to_batch,
                    ledger_to_batch,
                };
                let batch = events_to_batch(&ev).expect("events batch");
                let currency = input.plan.doc().currency;
                let back = events_from_batches(std::slice::from_ref(&batch), currency)
                    .expect("reads its own batch");
                // The column-wise reader (or the row reader it hands over to) reads the
                // columns written, as the row reader alone does.
                let rows = events_from_batches_by_rows(&[batch], currency)
                    .expect("the row reader reads the batch");
                if let Some(diff) = columns_differ(&back, &ev).or(columns_differ(&back, &rows)) {
                    errs.push(format!("{name}: events from Arrow differ in {diff}"));
                }
                let out = program
                    .evaluate_columns(
                        &input.partners,
                        &back,
                        &input.fx,
                        input.as_of,
                        &Options::default(),
                    )
                    .expect("evaluates");
                if out.ledger.to_json_lines() != want {
                    errs.push(format!(
                        "{name}: ledger from Arrow differs ({:?})",
                        out.path
                    ));
                }
                let l = ledger_to_batch(&out.ledger).expect("ledger batch");
                assert_eq!(l.num_rows(), out.ledger.len());
            }
            match columns {
                Some(Ok(c)) => {
                    if c.ledger.to_json_lines() != want {
                        errs.push(format!("{name}: column ledger differs ({:?})", c.path));
                    }
                    if c.path != out.path {
                        errs.push(format!(
                            "{name}: paths differ: {:?} vs {:?}",
                            c.path, out.path
                        ));
                    }
                }
                Some(Err(e)) => errs.push(format!("{name}: columns failed: {}", e.to_json())),
                None => {}
            }
            // Explanations on demand are the report's.
            let ex = fast::evaluate(input, &Options { explain: true }).expect("explained");
            let col = ex.ledger.explain.as_ref().expect("explain column");
            let v: Value = serde_json::from_str(&report.to_canonical_json()).expect("JSON");
            for (i, e) in v["entries"].as_array().expect("entries").iter().enumerate() {
                let want = e["explain"].to_string();
                if want.as_str() != col.get(i) {
                    errs.push(format!("{name}: explanation {i} differs"));
                }
            }
            out.path.is_native()
        }
        (c, f) => {
            errs.push(format!(
                "{name}: one path failed: canonical {:?}, fast {:?}",
                c.as_ref().err().map(|e| e.to_json()),
                f.as_ref().err().map(|e| e.to_json())
            ));
            false
        }
    }
}

#[test]
fn every_vector_gives_the_canonical_ledger() {
    let mut errs = Vec::new();
    let (mut native, mut total) = (0, 0);
    for f in vector_files() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let name = f
            .strip_prefix(vectors_dir())
            .unwrap_or(&f)
            .display()
            .to_string();
        let limits = match v.get("limits") {
            Some(l) => Limits::from_json(&l.to_string()).expect("limits"),
            None => Limits::default(),
        };
        // Parse errors come before either path: both take the parsed input.
        let Ok(input) = limits.parse_input(&input_text(&v)) else {
            continue;
        };
        total += 1;
        if compare(&input, &name, &mut errs) {
            native += 1;
        }
    }
    eprintln!("fast path: {native} of {total} parsed vectors ran natively, the rest fell back");
    assert!(
        errs.is_empty(),
        "{} difference(s):\n{}",
        errs.len(),
        errs.join("\n")
    );
    assert!(total > 150, "only {total} vectors parsed");
    assert!(native >= 20, "only {native} vectors ran natively");
}

#[test]
fn generated_inputs_run_natively_and_agree() {
    let mut r = SplitMix(0x5eed);
    let mut errs = Vec::new();
    let (mut native, mut ran, mut foreign, mut handed_over) = (0, 0, 0, 0);
    // Inputs run natively under a rule with a `product` or `campaign` condition, and
    // under a channel's own attribution settings.
    let (mut labelled, mut channelled, mut redelivered) = (0, 0, 0);
    for case in 0..400 {
        let p = plan(&mut r);
        let folds = folds_other_currencies(&p);
        let reads_labels = p["rules"].as_array().is_some_and(|rules| {
            rules
                .iter()
                .any(|k| k["when"].get("product").is_some() || k["when"].get("campaign").is_some())
        });
        let per_channel = p["attribution"].get("channels").is_some();
        let text = input(&mut r, p);
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        let events = doc["events"].as_array().expect("events");
        let mut ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        ids.sort_unstable();
        let repeats = ids.windows(2).any(|w| w[0] == w[1]);
        let input = match Input::from_json(&text) {
            Ok(i) => i,
            Err(e) => panic!(
                "case {case}: generated input does not parse: {}\n{text}",
                e.to_json()
            ),
        };
        let before = errs.len();
        ran += 1;
        if compare(&input, &format!("case {case}"), &mut errs) {
            native += 1;
            labelled += usize::from(reads_labels);
            channelled += usize::from(per_channel);
            redelivered += usize::from(repeats);
            let plan_currency = input.plan.doc().currency;
            if input.events.iter().any(|e| match &e.body {
                partnerkit::input::Body::Payment(p) => p.currency != plan_currency,
                _ => false,
            }) {
                foreign += 1;
            }
        } else if partnerkit::evaluate(&input).is_ok() {
            let out = fast::evaluate(&input, &Options::default()).expect("evaluates");
            // A payment in another currency under a plan that reads amounts in its own is
            // the canonical path's; nothing else the generator draws is.
            let handed = matches!(&out.path, fast::Path::Canonical { reason }
                if reason.starts_with(FOREIGN_PLAN));
            if handed && !folds {
                handed_over += 1;
            } else {
                errs.push(format!("case {case}: fell back: {:?}", out.path));
            }
        }
        if errs.len() > before {
            errs.push(format!("case {case} input: {text}"));
        }
    }
    eprintln!(
        "{native} of {ran} generated inputs ran natively, {foreign} with payments in other \
         currencies than the plan's, {labelled} under a rule on products or campaigns, \
         {channelled} under a channel's own window or model, {redelivered} with redeliveries; \
         {handed_over} with such payments under plans that read amounts in their own \
         currency were handed over"
    );
    assert!(
        foreign >= 20
            && handed_over >= 5
            && labelled >= 20
            && channelled >= 20
            && redelivered >= 20,
        "{foreign}, {handed_over}, {labelled}, {channelled}, {redelivered}"
    );
    assert!(
        errs.is_empty(),
        "{} problem(s):\n{}",
        errs.len(),
        errs.join("\n")
    );
}

/// The `fast` fuzz target's premise: any byte string, read as the generator's choices, is an
/// input that parses (here: none, all ones, and random strings of several lengths), and the
/// paths agree on it.
#[test]
fn any_bytes_draw_an_input_the_paths_agree_on() {
    let mut r = SplitMix(0xb17e5);
    let mut strings: Vec<Vec<u8>> = vec![Vec::new(), vec![0xff; 2_000]];
    for len in [1, 7, 64, 300, 1_500] {
        strings.push((0..len).map(|_| r.below(256) as u8).collect());
    }
    let mut errs = Vec::new();
    for (case, bytes) in strings.iter().enumerate() {
        let mut d = Bytes(bytes);
        let p = plan(&mut d);
        let text = input(&mut d, p);
        let input = Input::from_json(&text)
            .unwrap_or_else(|e| panic!("bytes {case}: does not parse: {}\n{text}", e.to_json()));
        compare(&input, &format!("bytes {case}"), &mut errs);
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// A refund's error reads the same on every path, whatever scale the input wrote its amounts
/// in: the columns keep amounts as integers (found by the `fast` fuzz target, where the column
/// path said "refund of 32.5 USD" and the canonical path "32.50 USD").
#[test]
fn refund_errors_read_the_same_whatever_scale_the_amounts_were_written_in() {
    let doc = |refund: &str| {
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
                     "rules": [{"id": "base", "reward": {"percent": "10"}}]},
            "partners": [{"id": "ana"}],
            "events": [
                {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
                 "partner": "ana", "customer": "c1", "channel": "link"},
                {"id": "p1", "kind": "payment", "at": "2026-01-02T00:00:00Z",
                 "customer": "c1", "amount": "126.9", "currency": "USD"},
                {"id": "r1", "kind": "refund", "at": "2026-01-03T00:00:00Z",
                 "payment": "p1", "amount": refund}
            ],
            "as_of": "2026-02-01T00:00:00Z"
        })
        .to_string()
    };
    // 126.9 is 126.90 USD, none of it refunded yet; 130 is 130.00 USD.
    let over = "refund of 130.00 USD exceeds what is left unrefunded of payment \"p1\": \
                126.90 of 126.90";
    // 32.5050 is 32.505: three decimal places, one more than a cent.
    let places = "32.505 has more than 2 decimal places, the minor unit of the payment's \
                  currency USD";
    for (refund, code, says) in [
        ("130", "RefundExceedsPayment", over),
        ("130.0000", "RefundExceedsPayment", over),
        ("32.5050", "InvalidValue", places),
    ] {
        let input = Input::from_json(&doc(refund)).expect("parses");
        let canonical = partnerkit::evaluate(&input).expect_err("refused");
        assert_eq!(canonical.code().as_str(), code, "{refund}");
        assert_eq!(canonical.path(), "events[2].amount", "{refund}");
        assert_eq!(canonical.message(), says, "{refund}");
        let fast = fast::evaluate(&input, &Options::default()).expect_err("refused");
        assert_eq!(
            fast.to_json(),
            canonical.to_json(),
            "{refund}: fast::evaluate"
        );
        let ev = Events::from_events(&input.events).expect("columns");
        let col = Program::new(input.plan.clone())
            .evaluate_columns(
                &input.partners,
                &ev,
                &input.fx,
                input.as_of,
                &Options::default(),
            )
            .expect_err("refused");
        assert_eq!(
            col.to_json(),
            canonical.to_json(),
            "{refund}: evaluate_columns"
        );
    }
}

/// Days counted in nanoseconds pass what `i64` holds (106,751 days, and instants 584 years
/// apart). The fast path then computes exactly, or leaves the input to the canonical path:
/// the ledger (or the error) is the canonical one, and a canonical entry available past the
/// columnar ledger's instants (2262-04-11) is its `InvalidValue`, never a wrapped instant.
/// Before, a long hold, window or clawback, or a hold ending past 2262, overflowed: a panic
/// with overflow checks on, a wrong instant or attribution without them.
#[test]
fn day_arithmetic_past_64_bit_nanoseconds_agrees_with_the_canonical_path() {
    let doc = |lifecycle: Value, window: u64, touch: &str, pay: &str, refund: &str| {
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "days", "currency": "USD",
                     "attribution": {"window_days": window},
                     "rules": [{"id": "base", "reward": {"percent": "10"}}],
                     "lifecycle": lifecycle},
            "partners": [{"id": "ana"}],
            "events": [
                {"id": "t1", "kind": "touch", "at": touch,
                 "partner": "ana", "customer": "c1", "channel": "link"},
                {"id": "p1", "kind": "payment", "at": pay,
                 "customer": "c1", "amount": "100.00", "currency": "USD"},
                {"id": "r1", "kind": "refund", "at": refund, "payment": "p1", "amount": "40.00"}
            ],
            "as_of": "2262-04-01T00:00:00Z"
        })
        .to_string()
    };
    /// What the canonical path gives, worked out by hand.
    enum Want {
        /// A ledger of this many entries (the commission and the refund's reversal, or
        /// none when the touch is outside the window), which the fast path gives too.
        Entries(usize),
        /// A commission available after 2262-04-11: the columnar ledger cannot hold it.
        PastColumns,
        /// `LimitExceeded` at this path: days past chrono's calendar.
        Refused(&'static str),
    }
    let hold = |days: u64| serde_json::json!({"hold_days": days});
    let (t, p, r) = (
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
        "2026-01-03T00:00:00Z",
    );
    let u32_max = u64::from(u32::MAX);
    let (old, new) = ("1700-01-01T00:00:00Z", "2200-01-01T00:00:00Z");
    let clawback =
        |days: u64| serde_json::json!({"hold_days": 0, "clawback": {"within_days": days}});
    let cases = [
        // 200,000 days are more nanoseconds than `i64` counts: available in 2573.
        (
            "hold of 200,000 days",
            doc(hold(200_000), 30, t, p, r),
            Want::PastColumns,
        ),
        // 100,000 days fit, 2026 plus them do not: available in 2299.
        (
            "hold of 100,000 days",
            doc(hold(100_000), 30, t, p, r),
            Want::PastColumns,
        ),
        (
            "hold of u32::MAX days",
            doc(hold(u32_max), 30, t, p, r),
            Want::Refused("plan.lifecycle.hold_days"),
        ),
        // 30 days from 2262-03-31 is 2262-04-30.
        (
            "hold ending past 2262",
            doc(
                hold(30),
                30,
                "2262-03-30T00:00:00Z",
                "2262-03-31T00:00:00Z",
                "2262-03-31T12:00:00Z",
            ),
            Want::PastColumns,
        ),
        // A touch 500 years before the payment: within a window of u32::MAX days, not
        // within 30 days (the difference is more nanoseconds than `i64` counts).
        (
            "window of u32::MAX days",
            doc(hold(0), u32_max, old, new, "2200-01-02T00:00:00Z"),
            Want::Entries(2),
        ),
        (
            "window of 30 days, 500 years",
            doc(hold(0), 30, old, new, "2200-01-02T00:00:00Z"),
            Want::Entries(0),
        ),
        // A refund a day after payout: within 200,000 days (to 2573) it is clawed back; a
        // window of u32::MAX days ends past the calendar, which the canonical path refuses.
        (
            "clawback within 200,000 days",
            doc(clawback(200_000), 30, t, p, r),
            Want::Entries(2),
        ),
        (
            "clawback within u32::MAX days",
            doc(clawback(u32_max), 30, t, p, r),
            Want::Refused("plan.lifecycle.clawback.within_days"),
        ),
    ];
    let mut errs = Vec::new();
    for (name, text, want) in cases {
        let input = Input::from_json(&text).expect(name);
        let canonical = partnerkit::evaluate(&input);
        match want {
            Want::Entries(n) => {
                assert_eq!(canonical.expect(name).entries.len(), n, "{name}");
                compare(&input, name, &mut errs);
            }
            Want::Refused(path) => {
                let e = canonical.expect_err(name);
                assert_eq!(
                    (e.code().as_str(), e.path()),
                    ("LimitExceeded", path),
                    "{name}"
                );
                compare(&input, name, &mut errs);
            }
            Want::PastColumns => {
                let report = canonical.expect(name);
                assert!(
                    report.entries[0]
                        .available_at
                        .timestamp_nanos_opt()
                        .is_none(),
                    "{name}"
                );
                let ev = Events::from_events(&input.events).expect("columns");
                let columns = Program::new(input.plan.clone()).evaluate_columns(
                    &input.partners,
                    &ev,
                    &input.fx,
                    input.as_of,
                    &Options::default(),
                );
                for (route, got) in [
                    (
                        "fast::evaluate",
                        fast::evaluate(&input, &Options::default()).map(|_| ()),
                    ),
                    ("evaluate_columns", columns.map(|_| ())),
                ] {
                    let e = got.expect_err(name);
                    assert_eq!(
                        (e.code().as_str(), e.path()),
                        ("InvalidValue", "entries[0].available_at"),
                        "{name}: {route}"
                    );
                }
            }
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// The caller's limits decide: an input inside the default limits runs natively, and the
/// same input under a tighter `max_periods` (tier evaluations) or
/// `max_statements_per_partner` goes to the canonical path, which reports the limit.
#[test]
fn tightened_limits_send_the_input_to_the_canonical_path() {
    let text = serde_json::json!({
        "plan": {
            "schema": "partnerkit/plan@1", "id": "limits", "currency": "USD",
            "tiers": {"levels": [
                {"id": "bronze"},
                {"id": "gold", "requires": {"any": [
                    {"metric": "revenue", "window": "period", "at_least": "100"}]}}
            ]},
            "rules": [{"id": "base", "reward": {"percent_by_tier": {"bronze": "10", "gold": "20"}}}],
            "payouts": {"period": "month", "threshold": "0"}
        },
        "partners": [{"id": "ana"}],
        "events": [
            {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z", "partner": "ana",
             "customer": "c1", "channel": "link"},
            {"id": "p1", "kind": "payment", "at": "2026-01-02T00:00:00Z", "customer": "c1",
             "amount": "150.00", "currency": "USD"},
            {"id": "p2", "kind": "payment", "at": "2026-02-02T00:00:00Z", "customer": "c1",
             "amount": "50.00", "currency": "USD"},
            {"id": "p3", "kind": "payment", "at": "2026-03-02T00:00:00Z", "customer": "c1",
             "amount": "50.00", "currency": "USD"}
        ],
        "as_of": "2026-12-01T00:00:00Z"
    })
    .to_string();
    let input = Input::from_json(&text).expect("input");
    let events = Events::from_events(&input.events).expect("columns");
    let run = |limits: &str| {
        Program::with_limits(
            input.plan.clone(),
            Limits::from_json(limits).expect("limits"),
        )
        .evaluate_columns(
            &input.partners,
            &events,
            &input.fx,
            input.as_of,
            &Options::default(),
        )
    };
    let out = run("{}").expect("evaluates under the default limits");
    assert!(out.path.is_native(), "{:?}", out.path);
    assert_eq!(out.ledger.len(), 3);
    for (limits, what) in [
        (r#"{"max_periods": 5}"#, "max_periods"),
        (
            r#"{"max_statements_per_partner": 2}"#,
            "max_statements_per_partner",
        ),
    ] {
        let err = run(limits).expect_err(limits);
        assert_eq!(err.code(), partnerkit::ErrorCode::LimitExceeded, "{limits}");
        assert!(err.message().contains(what), "{limits}: {}", err.to_json());
        let want = partnerkit::evaluate_with(&input, &Limits::from_json(limits).unwrap())
            .expect_err("the canonical path rejects it");
        assert_eq!(err.to_json(), want.to_json(), "{limits}");
    }
}

/// A plan in any time zone folds natively, with the canonical calendar: months and due days
/// begin at local midnight, a hold ends at the same local time (across a clock change, 29
/// days 23 hours of elapsed time). Where a clock goes back across midnight of a month's
/// first day (St. John's, 2009-11-01 00:01 NDT back to 2009-10-31 23:01 NST), an instant
/// after the month began belongs to the month before, and the input runs on the canonical
/// path; the same plan a year later folds natively.
#[test]
fn zoned_plans_fold_natively_unless_a_clock_goes_back_across_a_month() {
    let doc = |zone: &str, year: i32| {
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "zoned", "currency": "USD",
                     "timezone": zone,
                     "rules": [{"id": "base", "reward": {"percent": "10"},
                                "limits": {"max_per_period": {"period": "month", "amount": "15.00"}}}],
                     "lifecycle": {"hold_days": 30},
                     "payouts": {"period": "month"}},
            "partners": [{"id": "ana"}],
            "events": [
                {"id": "t1", "kind": "touch", "at": format!("{year}-10-01T12:00:00Z"),
                 "partner": "ana", "customer": "c1", "channel": "link"},
                {"id": "p1", "kind": "payment", "at": format!("{year}-10-31T12:00:00Z"),
                 "customer": "c1", "amount": "100.00", "currency": "USD"},
                {"id": "p2", "kind": "payment", "at": format!("{year}-11-01T03:00:00Z"),
                 "customer": "c1", "amount": "100.00", "currency": "USD"}
            ],
            "as_of": format!("{}-03-01T00:00:00Z", year + 1)
        })
        .to_string()
    };
    // At 2009-11-01T03:00Z St. John's reads 2009-10-31 23:30 NST: p2 is October's, so the
    // October cap of 15.00 leaves it 5.00 after p1's 10.00. A year later 03:00Z is
    // 2010-11-01 00:30 NDT (the clock goes back on the 7th): November's, a full 10.00.
    // New York reads 2026-10-31 23:00 EDT at 2026-11-01T03:00Z: October's, 5.00 again.
    for (zone, year, native, p2) in [
        ("America/St_Johns", 2009, false, "5.00"),
        ("America/St_Johns", 2010, true, "10.00"),
        ("America/New_York", 2026, true, "5.00"),
    ] {
        let input = Input::from_json(&doc(zone, year)).expect("input");
        let report = partnerkit::evaluate(&input).expect("evaluates");
        let amounts: Vec<String> = report
            .entries
            .iter()
            .map(|e| e.amount.to_string())
            .collect();
        assert_eq!(amounts, ["10.00", p2], "{zone} {year}");
        let mut errs = Vec::new();
        assert_eq!(compare(&input, zone, &mut errs), native, "{zone} {year}");
        assert!(errs.is_empty(), "{}", errs.join("\n"));
        if !native {
            let out = fast::evaluate(&input, &Options::default()).expect("evaluates");
            assert_eq!(
                format!("{:?}", out.path),
                "Canonical { reason: \"the input has a month whose first midnight the plan's clock passes twice\" }"
            );
        }
    }
}

/// The input of `text` and its fast-path ledger's lines, which must be the fold's own.
fn native_ledger(text: &str) -> (Input, String) {
    let input = Input::from_json(text).expect("input");
    let out = fast::evaluate(&input, &Options::default()).expect("evaluates");
    assert!(out.path.is_native(), "{:?}", out.path);
    let lines = out.ledger.to_json_lines();
    (input, lines)
}

/// Each ledger line's amount, in order.
fn amounts_of(lines: &str) -> Vec<&str> {
    field_of(lines, "amount")
}

/// Each ledger line's string `field`, in order ("" where it has none).
fn field_of<'a>(lines: &'a str, field: &str) -> Vec<&'a str> {
    let key = format!("\"{field}\":\"");
    lines
        .lines()
        .map(|l| {
            l.split(key.as_str())
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
        })
        .collect()
}

/// A touch of `customer` by `partner` through a link at `at`.
fn link_touch(id: &str, at: &str, partner: &str, customer: &str) -> Value {
    serde_json::json!({"id": id, "kind": "touch", "at": at,
                       "partner": partner, "customer": customer, "channel": "link"})
}

/// A payment of `amount` USD by `customer` at `at`.
fn usd_payment(id: &str, at: &str, customer: &str, amount: &str) -> Value {
    serde_json::json!({"id": id, "kind": "payment", "at": at, "customer": customer,
                       "amount": amount, "currency": "USD"})
}

/// Asserts that `input` gives the canonical ledger (or error) on every route, and that it
/// ran natively.
fn agrees(input: &Input, name: &str) {
    let mut errs = Vec::new();
    assert!(
        compare(input, name, &mut errs),
        "{name} did not run natively"
    );
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// Caps, statements and tiers by the quarter or the year fold natively. A 10% commission on
/// payments of 100.00 under a quarterly cap of 15.00: January's earns 10.00, February's the
/// 5.00 left of the first quarter, April's 10.00 again in the second. Yearly statements
/// close 2026 on 2027-01-01, due on its last day (net 0): paid as of 2027-02-01.
#[test]
fn quarterly_and_yearly_periods_fold_natively() {
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "periods", "currency": "USD",
                 "rules": [{"id": "base", "reward": {"percent": "10"},
                            "limits": {"max_per_period": {"period": "quarter", "amount": "15.00"}}}],
                 "lifecycle": {"hold_days": 0},
                 "payouts": {"period": "year", "net_days": 0}},
        "partners": [{"id": "ana"}],
        "events": [
            {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
             "partner": "ana", "customer": "c1", "channel": "link"},
            {"id": "p1", "kind": "payment", "at": "2026-01-10T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"},
            {"id": "p2", "kind": "payment", "at": "2026-02-10T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"},
            {"id": "p3", "kind": "payment", "at": "2026-04-10T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"}
        ],
        "as_of": "2027-02-01T00:00:00Z"
    })
    .to_string();
    let (input, lines) = native_ledger(&text);
    let amounts = amounts_of(&lines);
    assert_eq!(amounts, ["10.00", "5.00", "10.00"], "{lines}");
    assert_eq!(lines.matches("\"status\":\"paid\"").count(), 3, "{lines}");
    agrees(&input, "periods");
}

/// `max_per_customer` folds natively. A 10% commission on payments of 100.00 under a cap
/// of 15.00 per customer: p1 earns 10.00, p2 the 5.00 left; p1's full refund while held
/// reverses its 10.00 and gives that room back, so p3 earns 10.00 again. Another customer
/// has a cap of its own: p4 earns 10.00.
#[test]
fn customer_caps_fold_natively_and_reversals_give_room_back() {
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "per-customer", "currency": "USD",
                 "rules": [{"id": "base", "reward": {"percent": "10"},
                            "limits": {"max_per_customer": "15.00"}}],
                 "lifecycle": {"hold_days": 30}},
        "partners": [{"id": "ana"}],
        "events": [
            {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
             "partner": "ana", "customer": "c1", "channel": "link"},
            {"id": "t2", "kind": "touch", "at": "2026-01-01T00:00:00Z",
             "partner": "ana", "customer": "c2", "channel": "link"},
            {"id": "p1", "kind": "payment", "at": "2026-01-10T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"},
            {"id": "p2", "kind": "payment", "at": "2026-01-11T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"},
            {"id": "r1", "kind": "refund", "at": "2026-01-12T00:00:00Z",
             "payment": "p1", "amount": "100.00"},
            {"id": "p3", "kind": "payment", "at": "2026-01-13T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"},
            {"id": "p4", "kind": "payment", "at": "2026-01-14T00:00:00Z",
             "customer": "c2", "amount": "100.00", "currency": "USD"}
        ],
        "as_of": "2026-03-01T00:00:00Z"
    })
    .to_string();
    let (input, lines) = native_ledger(&text);
    let amounts = amounts_of(&lines);
    assert_eq!(
        amounts,
        ["10.00", "5.00", "-10.00", "10.00", "10.00"],
        "{lines}"
    );
    agrees(&input, "per-customer");
}

/// Several rules fold natively under `first_match`: the first whose conditions hold pays,
/// with its own rate and caps. Rules: "partner-ben" (ben only, 25%, 30.00 a month),
/// "first" (a customer's first payment, 30%), "recurring" (10%, 15.00 per customer).
/// Every payment is 100.00.
/// - c1 (ana): p1, its first, is not ben's: "first" pays 30.00. p2 and p3 go to
///   "recurring": 10.00, then the 5.00 left of its customer cap. r1 refunds p2 in full:
///   -10.00 under "recurring", which gives 10.00 of room back, so p4 earns 10.00.
/// - c2 (ben): "partner-ben" comes first, so p5 (c2's first payment) earns 25.00, not 30%;
///   p6 the 5.00 left of January's 30.00; p7, in February, 25.00 again.
#[test]
fn several_rules_fold_natively_the_first_that_matches_paying() {
    let touch = |id: &str, partner: &str, customer: &str| {
        link_touch(id, "2026-01-01T00:00:00Z", partner, customer)
    };
    let pay = |id: &str, at: &str, customer: &str| usd_payment(id, at, customer, "100.00");
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "first-match", "currency": "USD",
                 "rules": [
                     {"id": "partner-ben", "when": {"partner": ["ben"]},
                      "reward": {"percent": "25"},
                      "limits": {"max_per_period": {"period": "month", "amount": "30.00"}}},
                     {"id": "first", "when": {"payment_number": {"max": 1}},
                      "reward": {"percent": "30"}},
                     {"id": "recurring", "reward": {"percent": "10"},
                      "limits": {"max_per_customer": "15.00"}}],
                 "lifecycle": {"hold_days": 30}},
        "partners": [{"id": "ana"}, {"id": "ben"}],
        "events": [
            touch("t1", "ana", "c1"),
            touch("t2", "ben", "c2"),
            pay("p1", "2026-01-10T00:00:00Z", "c1"),
            pay("p2", "2026-01-11T00:00:00Z", "c1"),
            pay("p3", "2026-01-12T00:00:00Z", "c1"),
            {"id": "r1", "kind": "refund", "at": "2026-01-13T00:00:00Z",
             "payment": "p2", "amount": "100.00"},
            pay("p4", "2026-01-14T00:00:00Z", "c1"),
            pay("p5", "2026-01-15T00:00:00Z", "c2"),
            pay("p6", "2026-01-16T00:00:00Z", "c2"),
            pay("p7", "2026-02-01T00:00:00Z", "c2")
        ],
        "as_of": "2026-03-01T00:00:00Z"
    })
    .to_string();
    let (input, lines) = native_ledger(&text);
    assert_eq!(
        amounts_of(&lines),
        [
            "30.00", "10.00", "5.00", "-10.00", "10.00", "25.00", "5.00", "25.00"
        ],
        "{lines}"
    );
    assert_eq!(
        field_of(&lines, "rule"),
        [
            "first",
            "recurring",
            "recurring",
            "recurring",
            "recurring",
            "partner-ben",
            "partner-ben",
            "partner-ben"
        ],
        "{lines}"
    );
    agrees(&input, "first-match");
}

/// `combine: max` folds natively: every rule whose conditions hold is priced after its
/// caps, and the largest amount pays (the earlier rule on a tie).
/// - "a" 20% capped at 30.00 a month, "b" 15%, payments of 100.00: p1 20.00 under "a"; p2
///   "a" has 10.00 of room left, so "b"'s 15.00 pays; p3 (February) 20.00 under "a" again.
/// - "a" 20%, "b" a flat 20.00: p1 (100.00) ties at 20.00, "a" pays; p2 (200.00) 40.00
///   under "a"; p3 (50.00) "b"'s 20.00 against "a"'s 10.00.
#[test]
fn combine_max_folds_natively_after_caps_and_ties() {
    let cap = serde_json::json!({"max_per_period": {"period": "month", "amount": "30.00"}});
    for (limits, second, amounts, want, rules) in [
        (
            cap,
            serde_json::json!({"id": "b", "reward": {"percent": "15"}}),
            ["100.00", "100.00", "100.00"],
            ["20.00", "15.00", "20.00"],
            ["a", "b", "a"],
        ),
        (
            serde_json::json!({}),
            serde_json::json!({"id": "b", "reward": {"flat": "20.00"}}),
            ["100.00", "200.00", "50.00"],
            ["20.00", "40.00", "20.00"],
            ["a", "a", "b"],
        ),
    ] {
        let text = serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "max", "currency": "USD",
                     "combine": "max",
                     "rules": [{"id": "a", "reward": {"percent": "20"}, "limits": limits},
                               second]},
            "partners": [{"id": "ana"}],
            "events": [
                link_touch("t1", "2026-01-01T00:00:00Z", "ana", "c1"),
                usd_payment("p1", "2026-01-10T00:00:00Z", "c1", amounts[0]),
                usd_payment("p2", "2026-01-11T00:00:00Z", "c1", amounts[1]),
                usd_payment("p3", "2026-02-01T00:00:00Z", "c1", amounts[2])
            ],
            "as_of": "2026-03-01T00:00:00Z"
        })
        .to_string();
        let (input, lines) = native_ledger(&text);
        assert_eq!(amounts_of(&lines), want, "{lines}");
        assert_eq!(field_of(&lines, "rule"), rules, "{lines}");
        agrees(&input, "max");
    }
}

/// Volume bands fold natively, with the partner's running metric in the rule's window.
/// One partner's customer pays 30.00 (01-05), 40.00 (01-06), 20.00 (01-08) and 60.00
/// (02-01); the first payment is refunded in full on 01-07 (reversing its commission).
/// - graduated on monthly revenue, 10% to 50.00 and 15% above: 30 × 10% = 3.00; 20 × 10% +
///   20 × 15% = 5.00; the refund takes revenue back to 40.00, so 10 × 10% + 10 × 15% = 2.50
///   (not 3.00 at 15%); February starts at 0: 50 × 10% + 10 × 15% = 6.50.
/// - this_event on lifetime conversions, 10% below 2 and 20% from 2: 3.00, 8.00 (the 2nd),
///   4.00, 12.00 (a refund takes no conversion back, a month starts no new count).
/// - next_event on monthly conversions: 3.00 and 4.00 (1 before), 4.00 (2 before, 20%),
///   then February's first at 10%: 6.00.
#[test]
fn volume_bands_fold_natively() {
    let pay = |id: &str, at: &str, amount: &str| usd_payment(id, at, "c1", amount);
    let events = serde_json::json!([
        {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
         "partner": "ana", "customer": "c1", "channel": "link"},
        pay("p1", "2026-01-05T00:00:00Z", "30.00"),
        pay("p2", "2026-01-06T00:00:00Z", "40.00"),
        {"id": "r1", "kind": "refund", "at": "2026-01-07T00:00:00Z",
         "payment": "p1", "amount": "30.00"},
        pay("p3", "2026-01-08T00:00:00Z", "20.00"),
        pay("p4", "2026-02-01T00:00:00Z", "60.00")
    ]);
    for (metric, period, mode, second, want) in [
        (
            "revenue",
            "month",
            "graduated",
            "50.00",
            ["3.00", "5.00", "-3.00", "2.50", "6.50"],
        ),
        (
            "conversions",
            "lifetime",
            "this_event",
            "2",
            ["3.00", "8.00", "-3.00", "4.00", "12.00"],
        ),
        (
            "conversions",
            "month",
            "next_event",
            "2",
            ["3.00", "4.00", "-3.00", "4.00", "6.00"],
        ),
    ] {
        let text = serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "bands", "currency": "USD",
                     "rules": [{"id": "base", "reward": {"tiered": {
                         "metric": metric, "period": period, "mode": mode,
                         "bands": [{"from": "0", "percent": "10"},
                                   {"from": second, "percent": if metric == "revenue" { "15" } else { "20" }}]}}}]},
            "partners": [{"id": "ana"}],
            "events": events,
            "as_of": "2026-03-01T00:00:00Z"
        })
        .to_string();
        let (input, lines) = native_ledger(&text);
        assert_eq!(amounts_of(&lines), want, "{mode}: {lines}");
        agrees(&input, mode);
    }
}

/// The canonical path checks every rule's conditions for the explanation, even after a
/// rule has paid: a `within_months` whose end is past the calendar is its error whichever
/// rule pays. The fast path used to fold such a plan (its first rule has no conditions)
/// and return entries; it now leaves a `within_months` that long to the canonical path.
#[test]
fn a_later_rule_past_the_calendar_is_the_canonical_error() {
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "far", "currency": "USD",
                 "rules": [{"id": "base", "reward": {"percent": "10"}},
                           {"id": "later", "when": {"within_months": 5_000_000},
                            "reward": {"percent": "5"}}]},
        "partners": [{"id": "ana"}],
        "events": [
            {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
             "partner": "ana", "customer": "c1", "channel": "link"},
            {"id": "p1", "kind": "payment", "at": "2026-01-10T00:00:00Z",
             "customer": "c1", "amount": "100.00", "currency": "USD"}
        ],
        "as_of": "2026-03-01T00:00:00Z"
    })
    .to_string();
    let input = Input::from_json(&text).expect("input");
    let err = partnerkit::evaluate(&input).expect_err("the canonical path rejects it");
    assert!(
        err.to_json().contains("plan.rules[1].when.within_months"),
        "{}",
        err.to_json()
    );
    let mut errs = Vec::new();
    assert!(!compare(&input, "far", &mut errs));
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// The conditions of a plan's only rule fold natively. 10% under `payment_number` 2 to 3,
/// `from` 2026-01-03, `until` 2026-03-01, `within_months` 1 and partners ana and ben:
/// - c1 (ana): p1 is its first payment; p2, its second, at `from` exactly, within a month
///   of p1 (until 02-02), earns 10.00; p3 at 02-02 00:00 is a month after p1: nothing.
/// - c2 (ben, touched 02-01: within the default 30-day window of p4): p4 is its first;
///   p5, its second, on 02-28, earns 10.00; p6 at `until` exactly: nothing.
/// - c3 (cy, not listed): p8, its second payment, earns nothing.
#[test]
fn rule_conditions_fold_natively() {
    let touch = link_touch;
    let pay = |id: &str, at: &str, customer: &str| usd_payment(id, at, customer, "100.00");
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "when", "currency": "USD",
                 "rules": [{"id": "base", "reward": {"percent": "10"},
                            "when": {"payment_number": {"min": 2, "max": 3},
                                     "from": "2026-01-03T00:00:00Z",
                                     "until": "2026-03-01T00:00:00Z",
                                     "within_months": 1,
                                     "partner": ["ana", "ben"]}}]},
        "partners": [{"id": "ana"}, {"id": "ben"}, {"id": "cy"}],
        "events": [
            touch("t1", "2026-01-01T00:00:00Z", "ana", "c1"),
            touch("t2", "2026-02-01T00:00:00Z", "ben", "c2"),
            touch("t3", "2026-01-01T00:00:00Z", "cy", "c3"),
            pay("p1", "2026-01-02T00:00:00Z", "c1"),
            pay("p2", "2026-01-03T00:00:00Z", "c1"),
            pay("p3", "2026-02-02T00:00:00Z", "c1"),
            pay("p4", "2026-02-20T00:00:00Z", "c2"),
            pay("p5", "2026-02-28T00:00:00Z", "c2"),
            pay("p6", "2026-03-01T00:00:00Z", "c2"),
            pay("p7", "2026-01-05T00:00:00Z", "c3"),
            pay("p8", "2026-01-06T00:00:00Z", "c3")
        ],
        "as_of": "2026-06-01T00:00:00Z"
    })
    .to_string();
    let (input, lines) = native_ledger(&text);
    assert_eq!(amounts_of(&lines), ["10.00", "10.00"], "{lines}");
    assert!(lines.contains("commission:p2:base:ana") && lines.contains("commission:p5:base:ben"));
    agrees(&input, "conditions");
}

/// `min_amount`, `campaign` and `channel` conditions fold natively. 10% of payments of at
/// least 50.00: 49.99 earns nothing, 50.00 earns 5.00, 100.00 earns 10.00. A rule for one
/// campaign pays nothing here: the deciding touch carries no campaign. The customer came
/// through a link: a rule for links pays every payment (49.99 × 10% = 4.999, 5.00
/// rounded), one for coupons none.
#[test]
fn min_amount_campaign_and_channel_conditions_fold_natively() {
    let doc = |when: Value| {
        let pay = |id: &str, day: u32, amount: &str| {
            usd_payment(id, &format!("2026-01-{day:02}T00:00:00Z"), "c1", amount)
        };
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "min", "currency": "USD",
                     "rules": [{"id": "base", "reward": {"percent": "10"}, "when": when}]},
            "partners": [{"id": "ana"}],
            "events": [
                {"id": "t1", "kind": "touch", "at": "2026-01-01T00:00:00Z",
                 "partner": "ana", "customer": "c1", "channel": "link"},
                pay("p1", 2, "49.99"), pay("p2", 3, "50.00"), pay("p3", 4, "100.00")
            ],
            "as_of": "2026-03-01T00:00:00Z"
        })
        .to_string()
    };
    for (when, want) in [
        (
            serde_json::json!({"min_amount": "50.00"}),
            &["5.00", "10.00"][..],
        ),
        (serde_json::json!({"campaign": ["spring"]}), &[][..]),
        (
            serde_json::json!({"channel": ["link"]}),
            &["5.00", "5.00", "10.00"][..],
        ),
        (serde_json::json!({"channel": ["coupon"]}), &[][..]),
    ] {
        let (input, lines) = native_ledger(&doc(when.clone()));
        assert_eq!(amounts_of(&lines), want, "{when}: {lines}");
        agrees(&input, "min_amount");
    }
}

/// `campaign` and `product` conditions fold natively, with a touch's campaign and a
/// payment's product, subscription and order carried in the columns (and in Arrow).
/// Rules, first match: `spring` campaign 20%, `pro` product 10%, else 5%.
///
/// - c1: ana's link touch (spring) on Jan 1, ben's (fall) on Jan 2: the last touch, ben's,
///   decides, with campaign fall. p1 (pro, 100.00): not spring, pro: 10% = 10.00 to ben.
///   Ana's spring touch on Jan 6 changes nothing (the customer is decided for life): p2
///   (basic, 50.00) earns 5% = 2.50.
/// - c2: ana's coupon touch (spring) on Jan 1 beats ben's later link touch (coupons rank
///   first): p3 (pro, 200.00) earns the spring rule's 20% = 40.00 to ana, though it is pro.
/// - c3: cy's touch without a campaign; p4 without a product (80.00): 5% = 4.00.
///
/// In report order (earned_at): 10.00 (p1, Jan 5 10:00), 40.00 (p3, 11:00), 4.00 (p4,
/// 12:00), 2.50 (p2, Jan 7).
#[test]
fn campaign_and_product_conditions_fold_natively() {
    let touch = |id: &str, day: u32, partner: &str, customer: &str, channel: &str, campaign| {
        let mut t = serde_json::json!({"id": id, "kind": "touch",
            "at": format!("2026-01-{day:02}T00:00:00Z"), "partner": partner,
            "customer": customer, "channel": channel, "ip": "10.0.0.1"});
        if let Some(c) = campaign {
            t["campaign"] = serde_json::json!(c);
        }
        t
    };
    let pay = |id: &str, at: &str, customer: &str, amount: &str, product: Option<&str>| {
        let mut p = usd_payment(id, at, customer, amount);
        if let Some(x) = product {
            p["product"] = serde_json::json!(x);
            p["subscription"] = serde_json::json!(format!("sub-{customer}"));
            p["order"] = serde_json::json!(format!("order-{id}"));
        }
        p
    };
    let text = serde_json::json!({
        "plan": {"schema": "partnerkit/plan@1", "id": "labels", "currency": "USD",
                 "rules": [
                     {"id": "spring", "when": {"campaign": ["spring"]}, "reward": {"percent": "20"}},
                     {"id": "pro", "when": {"product": ["pro"]}, "reward": {"percent": "10"}},
                     {"id": "base", "reward": {"percent": "5"}}]},
        "partners": [{"id": "ana"}, {"id": "ben"}, {"id": "cy"}],
        "events": [
            touch("t1", 1, "ana", "c1", "link", Some("spring")),
            touch("t2", 2, "ben", "c1", "link", Some("fall")),
            touch("t3", 6, "ana", "c1", "link", Some("spring")),
            touch("t4", 1, "ana", "c2", "coupon", Some("spring")),
            touch("t5", 2, "ben", "c2", "link", None),
            touch("t6", 1, "cy", "c3", "link", None),
            pay("p1", "2026-01-05T10:00:00Z", "c1", "100.00", Some("pro")),
            pay("p2", "2026-01-07T00:00:00Z", "c1", "50.00", Some("basic")),
            pay("p3", "2026-01-05T11:00:00Z", "c2", "200.00", Some("pro")),
            pay("p4", "2026-01-05T12:00:00Z", "c3", "80.00", None),
        ],
        "as_of": "2026-03-01T00:00:00Z"
    })
    .to_string();
    let (input, lines) = native_ledger(&text);
    assert_eq!(
        amounts_of(&lines),
        ["10.00", "40.00", "4.00", "2.50"],
        "{lines}"
    );
    assert_eq!(
        field_of(&lines, "partner"),
        ["ben", "ana", "cy", "ben"],
        "{lines}"
    );
    assert_eq!(
        field_of(&lines, "rule"),
        ["pro", "spring", "base", "base"],
        "{lines}"
    );
    // The fields go back to the canonical path as they came (the columns' events).
    let cols = fast::Events::from_events(&input.events).expect("columns");
    assert_eq!(cols.to_events(input.plan.doc().currency), input.events);
    agrees(&input, "labels");
}

/// Payments in other currencies than the plan's fold natively under a plan of plain
/// percentages: entries in the payment's currency, rounded to its minor unit, and a rate
/// to the plan currency on each such payment's date, which the canonical path needs to
/// convert its base and commission.
#[test]
fn payments_in_other_currencies_need_a_rate_to_the_plan_currency() {
    let doc = |events: serde_json::Value, fx: serde_json::Value| {
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
                     "rules": [{"id": "base", "reward": {"percent": "12.5"}}]},
            "partners": [{"id": "ana"}],
            "events": events,
            "fx": fx,
            "as_of": "2026-03-01T00:00:00Z"
        })
        .to_string()
    };
    let touch = serde_json::json!({"id": "t1", "kind": "touch", "at": "2026-01-02T00:00:00Z",
                                   "partner": "ana", "customer": "c1", "channel": "link"});
    let p1 = serde_json::json!({"id": "p1", "kind": "payment", "at": "2026-01-05T00:00:00Z",
                                "customer": "c1", "amount": "1999", "currency": "JPY"});
    let p2 = serde_json::json!({"id": "p2", "kind": "payment", "at": "2026-01-06T00:00:00Z",
                                "customer": "c1", "amount": "80.05", "currency": "EUR"});
    let r1 = serde_json::json!({"id": "r1", "kind": "refund", "at": "2026-01-10T00:00:00Z",
                                "payment": "p1", "amount": "999", "currency": "JPY"});
    // JPY is quoted from USD (so JPY → USD divides), EUR into it.
    let jpy = serde_json::json!({"date": "2026-01-01", "from": "USD", "to": "JPY", "rate": "150"});
    let eur = serde_json::json!({"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.10"});
    let run = |events: serde_json::Value, fx: serde_json::Value| {
        let input = Input::from_json(&doc(events, fx)).expect("parses");
        (
            partnerkit::evaluate(&input),
            fast::evaluate(&input, &Options::default()),
        )
    };

    // 12.5% of 1,999 JPY is 249.875, 250 JPY; of 80.05 EUR 10.00625, 10.01 EUR. Refunding
    // 999 of 1,999 JPY reverses round(250 × 999 / 1,999) = round(124.94) = 125 JPY.
    let (canonical, got) = run(
        serde_json::json!([touch, p1, p2, r1]),
        serde_json::json!([jpy, eur]),
    );
    let got = got.expect("evaluates");
    assert!(got.path.is_native(), "{:?}", got.path);
    let l = &got.ledger;
    let amounts: Vec<(String, &str)> = (0..l.len())
        .map(|i| (l.amount_decimal(i).to_string(), l.currency[i].as_str()))
        .collect();
    assert_eq!(
        amounts,
        [
            ("250".into(), "JPY"),
            ("10.01".into(), "EUR"),
            ("-125".into(), "JPY")
        ]
    );
    assert_eq!(
        l.to_json_lines(),
        canonical_lines(&canonical.expect("canonical"))
    );

    // Without the EUR rate, p2's base (credited to ana) does not convert: the canonical
    // path's error, on both paths.
    let (canonical, got) = run(
        serde_json::json!([touch, p1, p2, r1]),
        serde_json::json!([jpy]),
    );
    let canonical = canonical.expect_err("no EUR rate");
    assert_eq!(canonical.code().as_str(), "MissingFxRate");
    assert_eq!(got.expect_err("no EUR rate").to_json(), canonical.to_json());

    // A payment no partner is credited with and no touch influenced converts nothing on
    // the canonical path, so it needs no rate there; the fast path checks every payment in
    // another currency, and hands this input over (with the same ledger).
    let lone = serde_json::json!({"id": "p9", "kind": "payment", "at": "2026-01-07T00:00:00Z",
                                  "customer": "c9", "amount": "20.00", "currency": "EUR"});
    let (canonical, got) = run(
        serde_json::json!([touch, p1, lone]),
        serde_json::json!([jpy]),
    );
    let got = got.expect("evaluates");
    assert_eq!(
        got.path,
        fast::Path::Canonical {
            reason: "the input has a payment in another currency without a rate to the \
                     plan's on its date"
                .into()
        }
    );
    assert_eq!(
        got.ledger.to_json_lines(),
        canonical_lines(&canonical.expect("canonical"))
    );
}

/// A flat reward converts to a payment's currency on its date (12.00 USD at 0.9137 is
/// 10.9644, 10.96 EUR), and its commission must convert back to the plan currency as the
/// canonical path converts it: with rates that let the base convert but not the commission
/// (80,000 USD is 8 × 10^16 EUR at 10^12, the most a rate may be, and 8 × 10^28 USD back
/// at 10^12, past `Decimal`'s 7.9 × 10^28), both paths give the canonical path's error,
/// with no statement shown yet that would convert it too.
#[test]
fn a_flat_reward_converts_to_the_payments_currency_and_back() {
    let doc = |flat: &str, fx: serde_json::Value, as_of: &str| {
        serde_json::json!({
            "plan": {"schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
                     "rules": [{"id": "base", "reward": {"flat": flat}}]},
            "partners": [{"id": "ana"}],
            "events": [
                {"id": "t1", "kind": "touch", "at": "2026-01-02T00:00:00Z",
                 "partner": "ana", "customer": "c1", "channel": "link"},
                {"id": "p1", "kind": "payment", "at": "2026-01-05T00:00:00Z",
                 "customer": "c1", "amount": "100.00", "currency": "EUR"}
            ],
            "fx": fx,
            "as_of": as_of
        })
        .to_string()
    };
    let rate = |from: &str, to: &str, rate: &str| serde_json::json!({"date": "2026-01-01", "from": from, "to": to, "rate": rate});
    let input = Input::from_json(&doc(
        "12",
        serde_json::json!([rate("USD", "EUR", "0.9137")]),
        "2026-03-01T00:00:00Z",
    ))
    .expect("parses");
    let got = fast::evaluate(&input, &Options::default()).expect("evaluates");
    assert!(got.path.is_native(), "{:?}", got.path);
    assert_eq!(got.ledger.amount_decimal(0).to_string(), "10.96");
    assert_eq!(got.ledger.currency[0].as_str(), "EUR");
    let canonical = partnerkit::evaluate(&input).expect("canonical");
    assert_eq!(got.ledger.to_json_lines(), canonical_lines(&canonical));

    let fx = serde_json::json!([
        rate("USD", "EUR", "1000000000000"),
        rate("EUR", "USD", "1000000000000")
    ]);
    let input = Input::from_json(&doc("80000", fx, "2026-01-20T00:00:00Z")).expect("parses");
    let canonical = partnerkit::evaluate(&input).expect_err("the commission overflows");
    let got = fast::evaluate(&input, &Options::default()).expect_err("the canonical error");
    assert_eq!(got.to_json(), canonical.to_json());
}
