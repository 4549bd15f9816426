//! Bad input gets an error, never a panic: every conformance vector's input, mutated at
//! random (values replaced by other types, extreme numbers and strings, fields removed,
//! events duplicated or reordered), must evaluate to `Ok` or to an `Err` with a known code.

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};

fn vector_inputs() -> &'static [Value] {
    static INPUTS: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    INPUTS.get_or_init(load)
}

fn load() -> Vec<Value> {
    common::vector_files()
        .iter()
        .filter_map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            v.get("input").cloned()
        })
        .collect()
}

/// Values that tend to break parsers and arithmetic.
fn nasty(k: usize) -> Value {
    let all = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("-0"),
        json!("79228162514264337593543950335"),
        json!("-79228162514264337593543950335"),
        json!("0.0000000000000000000000000001"),
        json!("1e9"),
        json!("9999-12-31T23:59:59Z"),
        json!("0001-01-01T00:00:00+14:00"),
        json!("-262143-01-01T00:00:00Z"),
        json!("Pacific/Apia"),
        json!("XXX"),
        json!([]),
        json!({}),
        json!(4294967295_u64),
        json!("payment"),
        json!("p1"),
    ];
    all[k % all.len()].clone()
}

/// Collects the JSON pointers of every value in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn mutate(input: &Value, ops: &[(usize, usize, u8)]) -> Value {
    let mut v = input.clone();
    for &(which, value, op) in ops {
        let mut ptrs = Vec::new();
        pointers(&v, String::new(), &mut ptrs);
        let ptr = ptrs[which % ptrs.len()].clone();
        if ptr.is_empty() {
            continue;
        }
        let (parent, last) = ptr.rsplit_once('/').unwrap();
        match op % 4 {
            // Replace the value.
            0 | 1 => {
                if let Some(x) = v.pointer_mut(&ptr) {
                    *x = nasty(value);
                }
            }
            // Remove it.
            2 => match v.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(last);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            },
            // Duplicate it within its array (a re-delivered webhook, a repeated rule).
            _ => {
                if let Some(Value::Array(a)) = v.pointer_mut(parent)
                    && let Ok(i) = last.parse::<usize>()
                    && i < a.len()
                {
                    let x = a[i].clone();
                    a.insert(value % (a.len() + 1), x);
                }
            }
        }
    }
    v
}

proptest! {
    // PROPTEST_CASES raises the count for a longer local run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn mutated_inputs_never_panic(
        pick in any::<usize>(),
        ops in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        let inputs = vector_inputs();
        let input = mutate(&inputs[pick % inputs.len()], &ops);
        let text = serde_json::to_string(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| {
            partnerkit::evaluate_json(&text).map(|r| r.to_canonical_json())
        });
        match outcome {
            Err(_) => prop_assert!(false, "panicked on {text}"),
            Ok(Err(e)) => {
                prop_assert!(partnerkit::ErrorCode::parse(e.code().as_str()).is_some());
                prop_assert!(e.code() != partnerkit::ErrorCode::Internal, "Internal on {text}: {}", e.to_json());
            }
            Ok(Ok(json)) => {
                let ok = json.starts_with(r#"{"schema":"partnerkit/report@1""#);
                prop_assert!(ok, "not a report: {}", json);
            }
        }
    }
}
