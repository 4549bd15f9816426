//! The columnar fast path against the canonical path, on inputs the fuzzer's bytes choose
//! inside the fast path's compiled subset (the generator of `tests/fast_path.rs`, with the
//! bytes as its choices: every byte string is a valid input).
//!
//! Must hold, byte for byte: `fast::evaluate` gives the canonical report's ledger (each entry
//! as the report writes it, without its explanation) or the canonical path's error, and so
//! does `Program::evaluate_columns`, on the input's columns and on those columns written to
//! Arrow (two record batches) and read back; explanations asked for are the report's. When
//! the plan is one the sharded fold takes (no tiers, no monthly cap), the input is also
//! copied onto disjoint customers and ids until it passes the sharded fold's minimum (4,096
//! rows), and that larger input must give the canonical ledger on pools of 1, 2 and 3
//! threads (the serial fold, two and three shards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnerkit::fast::arrow::{events_from_batches, events_to_batch};
use partnerkit::fast::{self, Events, Options, Program};
use partnerkit::{Input, Report};
use serde_json::Value;

// The tests' seeded generator in it goes unused here.
#[allow(dead_code)]
#[path = "../../tests/fast_inputs/mod.rs"]
mod fast_inputs;

use fast_inputs::{Bytes, canonical_lines, input, plan};

/// Rows past the sharded fold's minimum (`shard::MIN_ROWS`, 4,096).
const SHARDED_ROWS: usize = 4_200;

/// The canonical path's answer: its ledger as `canonical_lines` gives it, or its error's JSON.
fn canonical(input: &Input) -> Result<String, String> {
    partnerkit::evaluate(input)
        .map(|report| canonical_lines(&report))
        .map_err(|e| e.to_json())
}

/// The fast path's answers on `input`, on the current rayon pool (`fast::evaluate`, then
/// `evaluate_columns` on the input's columns): each must be `want` byte for byte, or the
/// target panics (a finding).
fn agree(input: &Input, want: &Result<String, String>, what: &str) {
    let fast = fast::evaluate(input, &Options::default())
        .map(|out| out.ledger.to_json_lines())
        .map_err(|e| e.to_json());
    assert_eq!(&fast, want, "{what}: fast::evaluate");
    let ev = Events::from_events(&input.events).expect("a drawn input fits the columns");
    let program = Program::new(input.plan.clone());
    let evaluate = |ev: &Events| {
        program
            .evaluate_columns(&input.partners, ev, &input.fx, input.as_of, &Options::default())
            .map(|out| out.ledger.to_json_lines())
            .map_err(|e| e.to_json())
    };
    assert_eq!(&evaluate(&ev), want, "{what}: evaluate_columns");
    // Through Arrow: the columns as a record batch (customers and partners as dictionaries),
    // cut in two so that the reader meets a second batch, read back column-wise.
    let batch = events_to_batch(&ev).expect("a batch of the columns");
    let cut = batch.num_rows() / 2;
    let halves = [
        batch.slice(0, cut),
        batch.slice(cut, batch.num_rows() - cut),
    ];
    let back = events_from_batches(&halves, input.plan.doc().currency)
        .expect("the reader reads the batches written");
    assert_eq!(
        &evaluate(&back),
        want,
        "{what}: evaluate_columns from Arrow"
    );
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

/// Explanations on request (`fast::evaluate` and `evaluate_columns` with `explain`): each
/// entry's must be that of `report`, the canonical report of `input`, byte for byte.
fn explained(input: &Input, report: &Report, what: &str) {
    let v: Value = serde_json::from_str(&report.to_canonical_json()).expect("report JSON");
    let want: Vec<String> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["explain"].to_string())
        .collect();
    let explain = Options { explain: true };
    let ev = Events::from_events(&input.events).expect("a drawn input fits the columns");
    let outs = [
        ("fast::evaluate", fast::evaluate(input, &explain)),
        (
            "evaluate_columns",
            Program::new(input.plan.clone()).evaluate_columns(
                &input.partners,
                &ev,
                &input.fx,
                input.as_of,
                &explain,
            ),
        ),
    ];
    for (route, out) in outs {
        let out = out.unwrap_or_else(|e| panic!("{what}: {route} explained: {}", e.to_json()));
        let col = out.ledger.explain.as_ref().expect("the explain column");
        assert_eq!(col.len(), want.len(), "{what}: {route}: explanations");
        for (i, w) in want.iter().enumerate() {
            assert_eq!(col.get(i), w, "{what}: {route}: explanation {i}");
        }
    }
}

/// Runs `f` on a pool of `threads` threads (the fast path shards by the pool's size).
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
    // The canonical report once: its ledger for `agree`, its explanations for `explained`.
    let report = partnerkit::evaluate(&small);
    let want = report
        .as_ref()
        .map(canonical_lines)
        .map_err(|e| e.to_json());
    agree(&small, &want, "drawn input");
    if let Ok(report) = &report {
        explained(&small, report, "drawn input");
    }
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
    let want = canonical(&big);
    for threads in [1, 2, 3] {
        on(threads, || {
            agree(&big, &want, &format!("copied input, {threads} threads"));
        });
    }
});
