//! The plan and input JSON Schemas shipped in `docs/` must be the ones generated from the
//! Rust types. `PARTNERKIT_BLESS=1` regenerates them.

use std::path::Path;

#[test]
fn shipped_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/plan.schema.json");
    let generated = partnerkit::json_schema();
    if std::env::var_os("PARTNERKIT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/plan.schema.json is stale: run `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test schema`"
    );
}

#[test]
fn shipped_input_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/input.schema.json");
    let generated = partnerkit::input_json_schema();
    if std::env::var_os("PARTNERKIT_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/input.schema.json is stale: run `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test schema`"
    );
}

#[test]
fn input_schema_describes_the_input() {
    let v: serde_json::Value = serde_json::from_str(&partnerkit::input_json_schema()).unwrap();
    assert_eq!(v["title"], "partnerkit input");
    assert_eq!(v["additionalProperties"], false);
    for field in ["plan", "partners", "events", "fx", "as_of"] {
        assert!(v["properties"].get(field).is_some(), "schema lacks {field}");
    }
    for def in [
        "PlanDoc", "Partner", "Event", "FxRate", "Decimal", "Instant",
    ] {
        assert!(v["$defs"].get(def).is_some(), "schema lacks $defs.{def}");
    }
    // Money is a string in the schema, as in the documents.
    assert_eq!(v["$defs"]["Decimal"]["type"], "string");
}

#[test]
fn schema_describes_the_plan() {
    let v: serde_json::Value = serde_json::from_str(&partnerkit::json_schema()).unwrap();
    assert_eq!(v["title"], "partnerkit plan");
    let props = v["properties"].as_object().unwrap();
    for field in ["schema", "id", "currency", "rules", "lifecycle", "payouts"] {
        assert!(props.contains_key(field), "schema lacks {field}");
    }
    assert_eq!(v["additionalProperties"], false);
    let required: Vec<&str> = v["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert_eq!(required, ["schema", "id", "currency"]);
}
