//! The columnar fast path against the canonical path, on inputs the fuzzer's bytes choose
//! inside the fast path's compiled subset (the generator of `tests/fast_path.rs`, with the
//! bytes as its choices: every byte string is a valid input).
//!
//! Must hold, byte for byte: `fast::evaluate` gives the canonical report's ledger (each entry
//! as the report writes it, without its explanation) or the canonical path's error, and
//! `Program::evaluate_columns` on the input's columns the same ledger. When the plan is one
//! the sharded fold takes (no tiers, no monthly cap), the input is also copied onto disjoint
//! customers and ids until it passes the sharded fold's minimum (4,096 rows), and that larger
//! input must give the canonical ledger on pools of 1, 2 and 3 threads (the serial fold, two
//! and three shards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnerkit::fast::{self, Events, Options, Program};
use partnerkit::{Input, Report};
use serde_json::Value;

// The tests' seeded generator in it goes unused here.
#[allow(dead_code)]
#[path = "../../tests/fast_inputs/mod.rs"]
mod fast_inputs;

use fast_inputs::{Bytes, input, plan};

/// Rows past the sharded fold's minimum (`shard::MIN_ROWS`, 4,096).
const SHARDED_ROWS: usize = 4_200;

/// The canonical report's entries as JSON lines without their explanations.
fn canonical_lines(report: &Report) -> String {
    let v: Value = serde_json::from_str(&report.to_canonical_json()).expect("report JSON");
    let mut out = String::new();
    for e in v["entries"].as_array().expect("entries") {
        let mut e = e.clone();
        e.as_object_mut().expect("entry object").remove("explain");
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// Both paths on `input`, on the current rayon pool; panics (a finding) when they differ.
/// The canonical ledger's lines, or None when the input is refused.
fn agree(input: &Input, what: &str) -> Option<String> {
    let canonical = partnerkit::evaluate(input);
    let fast = fast::evaluate(input, &Options::default());
    let ev = Events::from_events(&input.events).expect("a drawn input fits the columns");
    let columns = Program::new(input.plan.clone()).evaluate_columns(
        &input.partners,
        &ev,
        input.as_of,
        &Options::default(),
    );
    match (canonical, fast, columns) {
        (Ok(report), Ok(out), Ok(cols)) => {
            let want = canonical_lines(&report);
            assert_eq!(out.ledger.to_json_lines(), want, "{what}: fast::evaluate");
            assert_eq!(
                cols.ledger.to_json_lines(),
                want,
                "{what}: evaluate_columns"
            );
            Some(want)
        }
        (Err(c), Err(f), Err(col)) => {
            assert_eq!(c.to_json(), f.to_json(), "{what}: fast::evaluate's error");
            assert_eq!(
                c.to_json(),
                col.to_json(),
                "{what}: evaluate_columns' error"
            );
            None
        }
        (c, f, col) => panic!(
            "{what}: one path failed: canonical {:?}, fast {:?}, columns {:?}",
            c.err().map(|e| e.to_json()),
            f.err().map(|e| e.to_json()),
            col.err().map(|e| e.to_json()),
        ),
    }
}

/// `doc`'s events copied `times` times, copy `k`'s ids, customers and payment references
/// suffixed `.k`: the copies share the partners (and so their statements) and nothing else.
fn copied(doc: &Value, times: usize) -> Value {
    let mut out = doc.clone();
    let events = doc["events"].as_array().expect("events");
    let mut all = Vec::with_capacity(events.len() * times);
    for k in 0..times {
        for e in events {
            let mut e = e.clone();
            for field in ["id", "customer", "payment"] {
                if let Some(s) = e.get(field).and_then(Value::as_str) {
                    e[field] = Value::String(format!("{s}.{k}"));
                }
            }
            all.push(e);
        }
    }
    out["events"] = Value::Array(all);
    out
}

fn on<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let p = plan(&mut bytes);
    let text = input(&mut bytes, p);
    let small = Input::from_json(&text).expect("a drawn input parses");
    agree(&small, "drawn input");
    // The sharded fold: plans whose pricing reads no partner state, on enough rows.
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    let sharded = doc["plan"].get("tiers").is_none()
        && doc["plan"]["rules"][0]["limits"]
            .get("max_per_period")
            .is_none();
    let n = small.events.len();
    if !sharded || n == 0 {
        return;
    }
    let big = Input::from_json(&copied(&doc, SHARDED_ROWS.div_ceil(n)).to_string())
        .expect("copies parse");
    let want = on(1, || agree(&big, "copied input, 1 thread"));
    for threads in [2, 3] {
        let got = on(threads, || {
            agree(&big, &format!("copied input, {threads} threads"))
        });
        assert_eq!(got, want, "{threads} threads against 1");
    }
});
