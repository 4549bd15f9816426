//! Running `partnerkit evaluate` on conformance vectors: shared by the CLI's batch and
//! incremental suites so that both judge a vector by the same rules.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `partnerkit evaluate <args> -` with `input` on stdin: (exit code, stdout, stderr).
pub fn evaluate(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerkit"))
        .arg("evaluate")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn partnerkit");
    // A usage error exits before reading stdin: a closed pipe is not a failure here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs every vector once per set of `modes` arguments (plus the vector's `--limits`) and
/// returns what differs from its `expect_report`, or from its `expect_error` code and path.
pub fn every_vector(modes: &[&[&str]]) -> Vec<String> {
    let files = super::common::vector_files();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let input = match v.get("input_text") {
            Some(Value::String(s)) => s.clone(),
            _ => serde_json::to_string(&v["input"]).unwrap(),
        };
        let name = f.display().to_string();
        // Host limits a vector sets go through the CLI's --limits.
        let limits = v.get("limits").map(Value::to_string);
        for mode in modes {
            let mut args = mode.to_vec();
            if let Some(l) = &limits {
                args.extend(["--limits", l.as_str()]);
            }
            let (code, stdout, stderr) = evaluate(&args, &input);
            if let Some(want) = v.get("expect_error") {
                let got: Value = serde_json::from_str(stderr.trim()).unwrap_or(Value::Null);
                let path_ok = want.get("path").is_none() || got["path"] == want["path"];
                if code != 2 || got["code"] != want["code"] || !path_ok {
                    failures.push(format!(
                        "{name} {args:?}: want error {want}, got exit {code} stderr {stderr}"
                    ));
                }
                if !stdout.is_empty() {
                    failures.push(format!("{name} {args:?}: stdout not empty on error"));
                }
            } else if let Some(want) = v.get("expect_report") {
                let want = serde_json::to_string(want).unwrap();
                if code != 0 || stdout.trim_end_matches('\n') != want {
                    failures.push(format!(
                        "{name} {args:?}: exit {code}, report differs from expect_report; \
                         stderr {stderr}"
                    ));
                }
            }
        }
    }
    failures
}
