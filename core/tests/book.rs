//! The book in `docs/` (an mdBook: `mdbook build docs`) is partly generated and wholly checked.
//!
//! - `docs/src/reference/plan.md` is generated from the plan JSON Schema that the core derives
//!   from its types: every field with its type, default and an example, so the reference
//!   cannot drift from what the parser accepts.
//! - `docs/src/cookbook/<name>.md` is generated from each vector in `tests/vectors/cookbook/`:
//!   its worked description, plan, partners, events, and the ledger and statements of its
//!   pinned report (which every binding's vector runner checks byte for byte).
//! - Every `{{#include}}` names a file (and anchor) that exists, hand-written pages hold no
//!   code blocks of their own (code comes from files that tests run), and `SUMMARY.md` lists
//!   every page.
//!
//! `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test book` rewrites the generated pages.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

mod common;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn bless() -> bool {
    std::env::var_os("PARTNERKIT_BLESS").is_some()
}

/// Writes `content` to `path` when blessing; otherwise fails if the file differs.
fn check_generated(path: &Path, content: &str) -> Result<(), String> {
    if bless() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write generated page");
    }
    let shipped = std::fs::read_to_string(path).unwrap_or_default();
    if shipped == content {
        Ok(())
    } else {
        Err(format!(
            "{} is stale: run `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test book`",
            path.display()
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The plan reference
// ---------------------------------------------------------------------------------------

/// A `$ref` target's name.
fn ref_name(s: &Value) -> Option<&str> {
    s.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

/// A markdown link to a type's section (mdBook ids are lowercased headings).
fn type_link(name: &str) -> String {
    format!("[`{name}`](#{})", name.to_lowercase())
}

/// The schema without its `null` alternative (how `Option` fields are written).
fn non_null(s: &Value) -> &Value {
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let rest: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type") != Some(&Value::from("null")))
            .collect();
        if rest.len() == 1 {
            return rest[0];
        }
    }
    s
}

/// The JSON type of a schema, in words, with links to named types.
fn type_words(s: &Value) -> String {
    let s = non_null(s);
    if let Some(name) = ref_name(s) {
        return type_link(name);
    }
    if let Some(c) = s.get("const") {
        return format!("`{c}`");
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "",
    };
    match ty {
        "array" => format!("array of {}", type_words(&s["items"])),
        "object" => match s.get("additionalProperties") {
            Some(v @ Value::Object(_)) => format!("map of string to {}", type_words(v)),
            _ => "object".to_owned(),
        },
        "integer" if s.get("minimum") == Some(&Value::from(0)) => "integer ≥ 0".to_owned(),
        "" => "any".to_owned(),
        t => t.to_owned(),
    }
}

/// An example of a value of schema `s`: its own `examples`, else its type's, else one derived
/// from its parts (an array of one example item; the first value of an enumeration).
fn example_of(s: &Value, defs: &Map<String, Value>) -> Option<Value> {
    if let Some(e) = s.get("examples").and_then(|e| e.get(0)) {
        return Some(e.clone());
    }
    let inner = non_null(s);
    if !std::ptr::eq(inner, s) {
        return example_of(inner, defs);
    }
    if let Some(name) = ref_name(s) {
        return example_of(&defs[name], defs);
    }
    if let Some(c) = s.get("const") {
        return Some(c.clone());
    }
    if let Some(first) = s.get("oneOf").and_then(|v| v.get(0)) {
        return example_of(first, defs);
    }
    let is_array = match s.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
        _ => false,
    };
    if is_array {
        return example_of(&s["items"], defs).map(|e| Value::Array(vec![e]));
    }
    None
}

/// JSON as a reader wants it: on one line when short, indented otherwise.
fn json_block(v: &Value, indent: &str) -> String {
    let compact = compact_spaced(v);
    if compact.chars().count() <= 72 {
        format!("`{compact}`")
    } else {
        let pretty = serde_json::to_string_pretty(v).expect("json");
        let body: Vec<String> = pretty.lines().map(|l| format!("{indent}{l}")).collect();
        format!("\n\n{indent}```json\n{}\n{indent}```", body.join("\n"))
    }
}

/// Compact JSON with a space after `:` and `,`, as people write it.
fn compact_spaced(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(compact_spaced).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), compact_spaced(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// A doc comment as markdown on one indented block (single line breaks are soft).
fn prose(text: &str, indent: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(&format!("\n\n{indent}"))
}

/// The fields of an object schema as a list; records fields that lack an example.
fn fields(
    out: &mut String,
    owner: &str,
    s: &Value,
    defs: &Map<String, Value>,
    indent: &str,
    missing: &mut Vec<String>,
) {
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: BTreeSet<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, field) in props {
        let mut line = format!("{indent}- **`{name}`** · {}", type_words(field));
        if required.contains(name.as_str()) {
            line.push_str(" · required");
        } else if let Some(d) = field.get("default") {
            let _ = write!(line, " · default `{}`", compact_spaced(d));
        } else {
            line.push_str(" · optional");
        }
        out.push_str(&line);
        out.push_str("  \n");
        let inner = format!("{indent}  ");
        if let Some(d) = field.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{inner}{}  ", prose(d, &inner));
        }
        // A field without an example of its own takes its value in its object's example.
        let from_owner = || {
            s.get("examples")
                .and_then(|e| e.get(0))
                .and_then(|e| e.get(name))
                .cloned()
        };
        match example_of(field, defs).or_else(from_owner) {
            Some(e) => {
                let _ = writeln!(out, "{inner}Example: {}", json_block(&e, &inner));
            }
            None => missing.push(format!("{owner}.{name}")),
        }
        // An inline object (a variant's payload) lists its own fields below it.
        let f = non_null(field);
        if ref_name(f).is_none() && f.get("properties").is_some() {
            fields(out, &format!("{owner}.{name}"), f, defs, &inner, missing);
        }
    }
}

/// One named type: its description, then its fields or its alternatives.
fn type_section(
    out: &mut String,
    name: &str,
    s: &Value,
    defs: &Map<String, Value>,
    missing: &mut Vec<String>,
) {
    let _ = writeln!(out, "## {name}\n");
    if let Some(d) = s.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{}\n", prose(d, ""));
    }
    if s.get("properties").is_some() {
        out.push_str("An object; fields not listed are rejected (`UnknownField`).\n\n");
        fields(out, name, s, defs, "", missing);
    } else if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        out.push_str("One of:\n\n");
        for (i, alt) in alts.iter().enumerate() {
            let shape = match (alt.get("const"), alt.get("properties")) {
                (Some(c), _) => format!("`{c}`"),
                (None, Some(Value::Object(p))) if p.len() == 1 => {
                    let (key, inner) = p.iter().next().expect("one key");
                    format!("`{{\"{key}\": …}}` with `{key}` a {}", type_words(inner))
                }
                _ => "an object".to_owned(),
            };
            let mut line = format!("- {shape}");
            if let Some(d) = alt.get("description").and_then(Value::as_str) {
                let _ = write!(line, ": {}", prose(d, "  "));
            }
            out.push_str(&line);
            out.push('\n');
            match alt.get("properties").and_then(Value::as_object) {
                // A variant whose one key holds a plain value says all in its line; one whose
                // key holds an object, or with several keys, lists its fields.
                Some(p) if p.len() == 1 => {
                    let inner = p.values().next().expect("one key");
                    if inner.get("properties").is_some() {
                        fields(out, &format!("{name}[{i}]"), inner, defs, "  ", missing);
                    }
                }
                Some(_) => fields(out, &format!("{name}[{i}]"), alt, defs, "  ", missing),
                None => {}
            }
        }
        out.push('\n');
    } else {
        let _ = writeln!(out, "Type: {}.", type_words(s));
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            let _ = write!(out, " Pattern: `{p}`.");
        }
        out.push('\n');
    }
    match example_of(s, defs) {
        Some(e) => {
            let _ = writeln!(out, "\nExample: {}\n", json_block(&e, ""));
        }
        None if s.get("properties").is_some() => missing.push(name.to_owned()),
        None => {}
    }
}

/// The whole plan reference page.
fn plan_reference() -> (String, Vec<String>) {
    let schema: Value = serde_json::from_str(&partnerkit::json_schema()).expect("schema");
    let defs = schema["$defs"].as_object().expect("$defs").clone();
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from the plan JSON Schema by core/tests/book.rs: do not edit. \
         `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test book` regenerates it. -->\n\n",
    );
    out.push_str("# Plan reference\n\n");
    out.push_str(
        "Every field of a plan document (`\"schema\": \"partnerkit/plan@1\"`), generated from \
         the JSON Schema that partnerkit derives from the Rust types that read plans \
         (`docs/plan.schema.json`, also printed by `partnerkit schema` and returned by \
         `plan_json_schema()` in Python). Each field gives its type, whether it is required \
         or its default, what it means and an example. Decimals are JSON strings (`\"20\"`, \
         `\"49.99\"`), never numbers. What the schema cannot say (ranges, references between \
         fields) is checked when the plan is validated; see [Semantics](../semantics.md).\n\n",
    );
    let mut missing = Vec::new();
    // The plan's own example is its fields' examples together (a valid plan: see the test).
    let mut root = schema.clone();
    root["examples"] = Value::Array(vec![plan_example(&schema, &defs)]);
    type_section(&mut out, "Plan", &root, &defs, &mut missing);
    for (name, def) in &defs {
        type_section(&mut out, name, def, &defs, &mut missing);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    (out, missing)
}

#[test]
fn plan_reference_is_current_and_complete() {
    let (page, missing) = plan_reference();
    assert!(
        missing.is_empty(),
        "plan fields without an example (add `#[schemars(example = ...)]` to the field or its \
         type): {missing:?}"
    );
    check_generated(&docs().join("src/reference/plan.md"), &page).unwrap();
}

/// The examples of the plan's top-level fields, put together.
fn plan_example(schema: &Value, defs: &Map<String, Value>) -> Value {
    let mut plan = Map::new();
    for (name, field) in schema["properties"].as_object().expect("properties") {
        if let Some(e) = example_of(field, defs) {
            plan.insert(name.clone(), e);
        }
    }
    Value::Object(plan)
}

/// The examples of the plan's top-level fields, put together, are a valid plan: a reader
/// can paste them.
#[test]
fn plan_reference_examples_make_a_valid_plan() {
    let schema: Value = serde_json::from_str(&partnerkit::json_schema()).expect("schema");
    let defs = schema["$defs"].as_object().expect("$defs");
    let text = plan_example(&schema, defs).to_string();
    let problems = partnerkit::Plan::validate_json(&text);
    let problems: Vec<String> = problems.iter().map(|e| e.to_json()).collect();
    assert!(problems.is_empty(), "{text}\n{problems:#?}");
}

// ---------------------------------------------------------------------------------------
// The cookbook
// ---------------------------------------------------------------------------------------

fn cookbook_vectors() -> Vec<PathBuf> {
    let dir = common::vectors_dir().join("cookbook");
    common::vector_files()
        .into_iter()
        .filter(|p| p.parent() == Some(dir.as_path()))
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A JSON list, one item per line (how an event log reads best).
fn json_lines(items: &[Value]) -> String {
    let lines: Vec<String> = items
        .iter()
        .map(|i| format!("  {}", compact_spaced(i)))
        .collect();
    format!("```json\n[\n{}\n]\n```\n", lines.join(",\n"))
}

fn pretty(v: &Value) -> String {
    format!(
        "```json\n{}\n```\n",
        serde_json::to_string_pretty(v).expect("json")
    )
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

/// An instant as a reader scans it: `2026-03-05 09:00Z`.
fn short_instant(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) if t.ends_with('Z') => format!("{d} {hm}Z"),
        _ => t.to_owned(),
    }
}

/// The page of one cookbook vector.
fn cookbook_page(path: &Path) -> Result<String, String> {
    let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read"))
        .map_err(|e| format!("{name}: {e}"))?;
    let title = s(&v, "title");
    if title.is_empty() {
        return Err(format!(
            "cookbook/{name}: a cookbook vector needs a `title`"
        ));
    }
    let report = v
        .get("expect_report")
        .ok_or_else(|| format!("cookbook/{name}: no expect_report (bless the vector first)"))?;
    let input = &v["input"];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- Generated by core/tests/book.rs from tests/vectors/cookbook/{name}.json: edit the \
         vector, then run `PARTNERKIT_BLESS=1 cargo test -p partnerkit --test book`. -->\n"
    );
    let _ = writeln!(out, "# {title}\n");
    let _ = writeln!(out, "{}\n", s(&v, "description").trim());
    let _ = writeln!(
        out,
        "This program is the conformance vector `tests/vectors/cookbook/{name}.json`: every \
         binding evaluates it and compares the report byte for byte, and the amounts above are \
         checked against the report by hand-written expectations. To run it yourself, give its \
         `input` to `partnerkit evaluate` (or to `evaluate` in any binding).\n"
    );
    if let Some(history) = input.get("plan_history").and_then(Value::as_array) {
        out.push_str("## The plan, version by version\n\n");
        for (i, version) in history.iter().enumerate() {
            let _ = writeln!(
                out,
                "Version {i}, in force from `{}`:\n",
                s(version, "effective_from")
            );
            out.push_str(&pretty(&version["plan"]));
            out.push('\n');
        }
    } else {
        out.push_str("## The plan\n\n");
        out.push_str(&pretty(&input["plan"]));
        out.push('\n');
    }
    let list = |key: &str| input.get(key).and_then(Value::as_array).cloned();
    if let Some(partners) = list("partners") {
        out.push_str("## Partners\n\n");
        out.push_str(&json_lines(&partners));
        out.push('\n');
    }
    if let Some(events) = list("events") {
        out.push_str("## Events\n\n");
        out.push_str(&json_lines(&events));
        out.push('\n');
    }
    if let Some(fx) = list("fx").filter(|f| !f.is_empty()) {
        out.push_str("## FX rates\n\n");
        out.push_str(&json_lines(&fx));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Evaluated as of `{}`.\n\n## The ledger\n",
        s(input, "as_of")
    );
    let entries = report["entries"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                format!("`{}`", s(e, "id")),
                s(e, "partner").to_owned(),
                s(e, "kind").to_owned(),
                format!("{} {}", s(e, "amount"), s(e, "currency")),
                s(e, "status").to_owned(),
                short_instant(s(e, "earned_at")),
                short_instant(s(e, "available_at")),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "Entry",
            "Partner",
            "Kind",
            "Amount",
            "Status",
            "Earned",
            "Available",
        ],
        &rows,
    );
    if let Some(first) = entries.first() {
        let _ = writeln!(
            out,
            "Each entry carries its explanation; the first one's formula reads `{}`. See \
             [Reading an explain](../concepts/explain.md).\n",
            first["explain"]["formula"]
                .as_str()
                .unwrap_or("(see its explain)")
        );
    }
    out.push_str("## The statements\n\n");
    let statements = report["statements"].as_array().cloned().unwrap_or_default();
    if statements.is_empty() {
        out.push_str("No period has closed with money on it as of this date.\n\n");
    } else {
        let rows: Vec<Vec<String>> = statements
            .iter()
            .map(|st| {
                vec![
                    st["partner"].as_str().unwrap_or("").to_owned(),
                    s(st, "period").to_owned(),
                    s(st, "currency").to_owned(),
                    s(st, "opening_balance").to_owned(),
                    s(st, "credits").to_owned(),
                    s(st, "debits").to_owned(),
                    s(st, "closing_balance").to_owned(),
                    s(st, "payout").to_owned(),
                    s(st, "carried_forward").to_owned(),
                    s(st, "due").to_owned(),
                    s(st, "status").to_owned(),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "Partner", "Period", "Currency", "Opening", "Credits", "Debits", "Closing",
                "Payout", "Carried", "Due", "Status",
            ],
            &rows,
        );
    }
    let tiers = report["tiers"].as_array().cloned().unwrap_or_default();
    if !tiers.is_empty() {
        out.push_str("## The tier timeline\n\n");
        let rows: Vec<Vec<String>> = tiers
            .iter()
            .map(|t| {
                vec![
                    s(t, "partner").to_owned(),
                    s(t, "tier").to_owned(),
                    t["from"]
                        .as_str()
                        .map(short_instant)
                        .unwrap_or_else(|| "(start)".into()),
                    s(&t["reason"], "change").to_owned(),
                ]
            })
            .collect();
        table(&mut out, &["Partner", "Tier", "From", "Change"], &rows);
    }
    let rewards = report["referee_rewards"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !rewards.is_empty() {
        out.push_str("## Referee rewards\n\nRecords for the host to apply to the referred customer's account:\n\n");
        let rows: Vec<Vec<String>> = rewards
            .iter()
            .map(|r| {
                vec![
                    s(r, "customer").to_owned(),
                    s(r, "kind").to_owned(),
                    format!("{} {}", s(r, "value"), s(r, "currency")),
                    s(r, "on").to_owned(),
                    format!("`{}`", s(r, "event")),
                ]
            })
            .collect();
        table(
            &mut out,
            &["Customer", "Kind", "Value", "On", "Event"],
            &rows,
        );
    }
    out.push_str("## The whole report\n\n<details><summary>The canonical report, as every binding writes it</summary>\n\n");
    out.push_str(&pretty(report));
    out.push_str("\n</details>\n");
    Ok(out)
}

#[test]
fn cookbook_pages_are_current() {
    let files = cookbook_vectors();
    assert!(
        files.len() >= 12,
        "the cookbook has {} programs",
        files.len()
    );
    let summary = std::fs::read_to_string(docs().join("src/SUMMARY.md")).expect("SUMMARY.md");
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_stem().and_then(|s| s.to_str()).expect("name");
        if !summary.contains(&format!("(cookbook/{name}.md)")) {
            failures.push(format!("SUMMARY.md does not list cookbook/{name}.md"));
        }
        match cookbook_page(f) {
            Ok(page) => {
                let path = docs().join("src/cookbook").join(format!("{name}.md"));
                if let Err(e) = check_generated(&path, &page) {
                    failures.push(e);
                }
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// The book as a whole
// ---------------------------------------------------------------------------------------

fn pages() -> Vec<PathBuf> {
    common::files_under(&docs().join("src"), "md")
}

fn is_generated(text: &str) -> bool {
    text.starts_with("<!-- Generated ")
}

/// Every `{{#include path}}` or `{{#include path:anchor}}` in the book resolves, and
/// hand-written pages take their code from included files only (files that tests run: the
/// README's examples, the bindings' example tests, the CLI quickstart, the Stripe example).
#[test]
fn includes_resolve_and_code_comes_from_tested_files() {
    let mut failures = Vec::new();
    let pages = pages();
    let summary = std::fs::read_to_string(docs().join("src/SUMMARY.md")).expect("SUMMARY.md");
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("read page");
        let rel = page
            .strip_prefix(docs().join("src"))
            .expect("in src")
            .display()
            .to_string();
        if rel != "SUMMARY.md" && !summary.contains(&format!("]({rel})")) {
            failures.push(format!("SUMMARY.md does not list {rel}"));
        }
        // A hand-written page may fence code only around `{{#include}}` lines.
        let mut in_block = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
            } else if in_block && !is_generated(&text) && !line.trim().starts_with("{{#include ") {
                failures.push(format!(
                    "{rel}:{}: code written in the page; include it from a file a test runs",
                    i + 1
                ));
            }
            let mut rest = line;
            while let Some(at) = rest.find("{{#include ") {
                let after = &rest[at + "{{#include ".len()..];
                let Some(end) = after.find("}}") else {
                    failures.push(format!("{rel}:{}: unclosed include", i + 1));
                    break;
                };
                let target = after[..end].trim();
                rest = &after[end..];
                let (file, anchor) = match target.split_once(':') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let path = page.parent().expect("dir").join(file);
                let Ok(included) = std::fs::read_to_string(&path) else {
                    failures.push(format!("{rel}:{}: {file} does not exist", i + 1));
                    continue;
                };
                if let Some(a) = anchor {
                    let start = format!("ANCHOR: {a}");
                    let stop = format!("ANCHOR_END: {a}");
                    let has = |needle: &str| {
                        included.lines().any(|l| {
                            l.split_once(needle).is_some_and(|(_, tail)| {
                                !tail.starts_with(|c: char| c == '_' || c.is_alphanumeric())
                            })
                        })
                    };
                    if !has(&start) || !has(&stop) {
                        failures.push(format!("{rel}:{}: {file} has no anchor {a}", i + 1));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The explanations that "Reading an explain" walks through, taken from the cookbook's pinned
/// reports (so they are what the engine writes, and change when it does).
#[test]
fn explain_examples_are_current() {
    let entry = |vector: &str, event: &str| -> Value {
        let path = common::vectors_dir()
            .join("cookbook")
            .join(format!("{vector}.json"));
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("vector");
        v["expect_report"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["event"] == event)
            .cloned()
            .unwrap_or_else(|| panic!("{vector} has no entry for {event}"))
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("json") + "\n";
    let dir = docs().join("src/concepts");
    let capped = entry("agency_vs_affiliate", "p4");
    check_generated(&dir.join("explain-capped-entry.json"), &pretty(&capped)).unwrap();
    let coupon = entry("coupon_beats_link", "p1");
    check_generated(
        &dir.join("explain-coupon-attribution.json"),
        &pretty(&coupon["explain"]["attribution"]),
    )
    .unwrap();
}
