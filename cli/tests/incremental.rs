//! `partnerkit evaluate --incremental` reproduces every conformance vector byte for byte
//! (and its errors, code and path), with and without snapshots on the way.

#[path = "../../core/tests/common/mod.rs"]
mod common;
mod run;

#[test]
fn incremental_evaluation_reproduces_every_vector() {
    let failures = run::every_vector(&[
        &["--incremental"],
        &["--incremental", "--snapshot-every", "1"],
        &["--incremental", "--snapshot-every", "3"],
    ]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn snapshot_every_needs_incremental_and_a_positive_count() {
    let (code, _, stderr) = run::evaluate(&["--snapshot-every", "2"], "{}");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--incremental"), "{stderr}");
    let (code, _, stderr) = run::evaluate(&["--incremental", "--snapshot-every", "0"], "{}");
    assert_eq!(code, 2, "{stderr}");
}
