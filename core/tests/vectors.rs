//! The conformance suite: every JSON case under `tests/vectors/` (see `tests/vectors/README.md`).
//!
//! Each vector states its amounts by hand (`expect_entries`, `expect_statements`,
//! `expect_flags`, `expect_metrics`) or its error (`expect_error`); those hand-worked expectations are what
//! this test checks first. `expect_report` then pins the whole canonical report byte for byte,
//! so every binding can compare the exact bytes. `PARTNERKIT_BLESS=1` rewrites
//! `expect_report` — only for vectors whose hand-written expectations already pass.

mod common;

use std::path::Path;

use common::{vector_files, vectors_dir};

use serde_json::Value;

/// The input text of a vector: `input_text` verbatim, or `input` re-serialized.
fn input_text(v: &Value) -> String {
    match v.get("input_text") {
        Some(Value::String(s)) => s.clone(),
        _ => serde_json::to_string(&v["input"]).expect("input"),
    }
}

/// Checks that every field of `want` equals the same field of `got`.
fn subset(want: &Value, got: &Value, path: &str, errs: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => subset(wv, gv, &format!("{path}.{k}"), errs),
                    None => errs.push(format!("{path}.{k}: missing in report")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                errs.push(format!(
                    "{path}: expected {} items, report has {}: {}",
                    w.len(),
                    g.len(),
                    serde_json::to_string(g).unwrap_or_default()
                ));
                return;
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                subset(wv, gv, &format!("{path}[{i}]"), errs);
            }
        }
        _ => {
            if want != got {
                errs.push(format!("{path}: expected {want}, report has {got}"));
            }
        }
    }
}

/// Runs one vector; returns failures and, when blessing, the new file content.
fn run(path: &Path, bless: bool) -> (Vec<String>, Option<String>) {
    let text = std::fs::read_to_string(path).expect("read vector");
    let mut v: Value = serde_json::from_str(&text).expect("vector is JSON");
    let mut errs = Vec::new();
    for field in ["description", "spec"] {
        if v.get(field).is_none() {
            errs.push(format!("vector lacks `{field}`"));
        }
    }
    // A vector may set host limits (`"limits": {"max_events": 2}`) to exercise a limit
    // whose default is too large to write down.
    let limits = match v.get("limits") {
        Some(l) => match partnerkit::Limits::from_json(&l.to_string()) {
            Ok(l) => l,
            Err(e) => return (vec![format!("bad limits: {e}")], None),
        },
        None => partnerkit::Limits::default(),
    };
    let result = partnerkit::evaluate_json_with(&input_text(&v), &limits);
    if let Some(want) = v.get("expect_error") {
        match result {
            Ok(_) => errs.push(format!("expected error {want}, evaluation succeeded")),
            Err(e) => {
                let got = serde_json::json!({"code": e.code().as_str(), "path": e.path()});
                subset(want, &got, "expect_error", &mut errs);
            }
        }
        return (errs, None);
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            errs.push(format!("evaluation failed: {}", e.to_json()));
            return (errs, None);
        }
    };
    let canonical = report.to_canonical_json();
    let got: Value = serde_json::from_str(&canonical).expect("canonical JSON parses");
    let mut hand = 0;
    for (field, key) in [
        ("expect_entries", "entries"),
        ("expect_statements", "statements"),
        ("expect_flags", "flags"),
        ("expect_unattributed", "unattributed"),
        ("expect_duplicates_ignored", "duplicates_ignored"),
        ("expect_metrics", "metrics"),
        ("expect_tiers", "tiers"),
        ("expect_progress", "progress"),
        ("expect_referee_rewards", "referee_rewards"),
    ] {
        if let Some(want) = v.get(field) {
            hand += 1;
            subset(want, &got[key], field, &mut errs);
        }
    }
    if hand == 0 {
        errs.push("a vector must state its expected amounts by hand (expect_entries, …)".into());
    }
    if !errs.is_empty() {
        return (errs, None);
    }
    if bless {
        v["expect_report"] = got;
        let mut out = serde_json::to_string_pretty(&v).expect("serialize");
        out.push('\n');
        return (errs, Some(out));
    }
    match v.get("expect_report") {
        None => errs.push("no expect_report: run with PARTNERKIT_BLESS=1 to pin it".into()),
        Some(want) => {
            let want = serde_json::to_string(want).expect("serialize");
            if want != canonical {
                errs.push(format!(
                    "canonical report differs from expect_report\n  want: {want}\n  got:  {canonical}"
                ));
            }
        }
    }
    (errs, None)
}

#[test]
fn conformance_vectors() {
    let bless = std::env::var_os("PARTNERKIT_BLESS").is_some();
    let files = vector_files();
    let mut failures = Vec::new();
    for f in &files {
        let (errs, blessed) = run(f, bless);
        if let Some(out) = blessed {
            std::fs::write(f, out).expect("write vector");
        }
        let name = f
            .strip_prefix(vectors_dir())
            .unwrap_or(f)
            .display()
            .to_string();
        for e in errs {
            failures.push(format!("{name}: {e}"));
        }
    }
    if files.len() < 40 {
        failures.push(format!(
            "expected at least 40 vectors, found {}",
            files.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} vector failure(s) in {} vectors:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_error_code_has_a_vector() {
    let files = vector_files();
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        if let Some(c) = v.pointer("/expect_error/code").and_then(Value::as_str) {
            seen.insert(c.to_owned());
        }
    }
    // LateEvent and InvalidSnapshot belong to the incremental engine, which a vector (one
    // input document) cannot drive: `incremental.rs` pins them instead.
    let missing: Vec<&str> = partnerkit::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(*c) && !["LateEvent", "InvalidSnapshot", "Internal"].contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes without a vector: {missing:?}"
    );
}
