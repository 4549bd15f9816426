//! The incremental engine on a hostile stream: the first line is the starting document
//! (`{plan | plan_history, partners, fx}`), every later line an event (or an array of them)
//! applied on its own, and a line `S` snapshots the engine and restores it from the bytes.
//! Never a panic or hang; a restored engine snapshots to the same bytes; and when every
//! event line was accepted, the report is batch `evaluate` of the same events, byte for byte
//! (or the same error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnerkit::{Engine, evaluate_json};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let start_text = lines.next().unwrap_or("");
    // The batch document is the starting one plus the events: it must not bring its own.
    let Ok(Value::Object(start)) = serde_json::from_str::<Value>(start_text) else {
        let _ = Engine::from_json(start_text);
        return;
    };
    if start.contains_key("events") || start.contains_key("as_of") {
        return;
    }
    let Ok(mut engine) = Engine::from_json(start_text) else {
        return;
    };
    let mut applied: Vec<Value> = Vec::new();
    let mut all_accepted = true;
    for line in lines {
        if line == "S" {
            let bytes = engine.snapshot();
            let back = Engine::restore(&bytes).expect("an engine's own snapshot restores");
            assert_eq!(
                back.snapshot(),
                bytes,
                "a restored engine snapshots the same"
            );
            engine = back;
            continue;
        }
        match engine.apply_json(line) {
            Ok(entries) => {
                assert!(serde_json::from_str::<Value>(&entries).is_ok());
                match serde_json::from_str::<Value>(line) {
                    Ok(Value::Array(list)) => applied.extend(list),
                    Ok(v) => applied.push(v),
                    Err(_) => unreachable!("an accepted line is JSON"),
                }
            }
            Err(e) => {
                assert!(!e.code().as_str().is_empty());
                all_accepted = false;
            }
        }
    }
    let Some(last) = engine.last_event() else {
        return;
    };
    let as_of = partnerkit::time::fmt_instant(last.at);
    let incremental = engine.report(last.at).map(|r| r.to_canonical_json());
    if !all_accepted {
        return;
    }
    let mut doc = start;
    doc.insert("events".into(), Value::Array(applied));
    doc.insert("as_of".into(), Value::String(as_of));
    let batch = evaluate_json(&Value::Object(doc).to_string()).map(|r| r.to_canonical_json());
    match (&incremental, &batch) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "engine and batch reports differ"),
        (Err(a), Err(b)) => assert_eq!(
            (a.code(), a.path()),
            (b.code(), b.path()),
            "engine and batch fail differently"
        ),
        _ => panic!("engine {incremental:?}, batch {batch:?}"),
    }
});
