//! The CLI reproduces every conformance vector byte for byte, and reports errors as JSON on
//! stderr with exit code 2.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

// The vector walker shared with the core's suites.
#[path = "../../core/tests/common/mod.rs"]
mod common;
mod run;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_partnerkit"))
}

#[test]
fn evaluate_reproduces_every_vector() {
    let failures = run::every_vector(&[&[]]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_input_is_json_on_stderr_with_exit_2() {
    let (code, stdout, stderr) = run::evaluate(&[], "{not json");
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    let e: Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(e["code"], "InvalidJson");
    assert!(e["message"].as_str().unwrap().contains("line 1"));
}

fn validate(plan: &str) -> (Option<i32>, Vec<String>, String) {
    let dir = std::env::temp_dir().join(format!("pk-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plan.json");
    std::fs::write(&path, plan).unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let paths = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|l| l["path"].as_str().unwrap().to_owned())
        .collect();
    (out.status.code(), paths, stderr)
}

#[test]
fn validate_lists_every_problem() {
    let plan = r#"{"schema":"partnerkit/plan@1","id":"p","currency":"USD","colour":"red",
        "rules":[{"id":"a","reward":{"percent":"150"}},{"id":"a","reward":{"flat":"1.001"}}]}"#;
    let (code, paths, stderr) = validate(plan);
    assert_eq!(code, Some(2));
    assert_eq!(
        paths,
        [
            "plan.colour",
            "plan.rules[0].reward.percent",
            "plan.rules[1].id",
            "plan.rules[1].reward.flat"
        ],
        "{stderr}"
    );
    assert!(stderr.contains("4 problems found"));
    // Structural problems in several sections are all reported too.
    let plan = r#"{"schema":"partnerkit/plan@1","id":"p","currency":"usd","rounding":"nearest",
        "rules":[{"id":"a","reward":{"percent":5}},{"id":"b","rewards":{"flat":"1"}}]}"#;
    let (_, paths, stderr) = validate(plan);
    assert_eq!(
        paths,
        [
            "plan.currency",
            "plan.rounding",
            "plan.rules[0].reward.percent",
            "plan.rules[1].rewards"
        ],
        "{stderr}"
    );
    let (code, paths, _) = validate(r#"{"schema":"partnerkit/plan@1","id":"p","currency":"USD"}"#);
    assert_eq!((code, paths.len()), (Some(0), 0));
}

#[test]
fn schema_command_prints_the_shipped_schema() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/plan.schema.json"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shipped);
}

#[test]
fn explain_puts_the_cent_in_words() {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/vectors/commission/first_year_recurring.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut child = bin()
        .args(["explain", "-", "--entry", "commission:p01:first-year:ana"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&v["input"]).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("49.00 * 20% = 9.8 -> 9.80 (half_up)"),
        "{text}"
    );
    assert!(text.contains("touch t1 by ana via link"), "{text}");
    assert_eq!(text.matches("commission:").count(), 1, "{text}");
}
