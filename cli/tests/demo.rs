//! End-to-end checks of `partnerkit demo`: the embedded document evaluates, the summary
//! names every partner and the clawbacks, and `--json` / `--input` print the documents.

use std::process::{Command, Output};

const PARTNERS: [&str; 8] = [
    "analytics-weekly",
    "dataviz-daily",
    "saas-reviews",
    "zahlenblog",
    "northwind-agency",
    "brightpath-digital",
    "pipewise",
    "sheetsync",
];

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partnerkit"))
        .args(args)
        .output()
        .expect("the partnerkit binary runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn summary_names_every_partner_and_the_clawbacks() {
    let text = stdout(&run(&["demo"]));
    for p in PARTNERS {
        assert!(
            text.contains(p),
            "partner {p} missing from the summary:\n{text}"
        );
    }
    assert!(text.contains("Clawed back"), "no clawback section:\n{text}");
    assert!(
        text.contains("chargeback"),
        "the chargeback clawback is missing:\n{text}"
    );
    assert!(text.contains("Duplicate events ignored: 1"), "{text}");
    assert!(text.contains("as of 2026-07-20T00:00:00Z"), "{text}");
}

#[test]
fn json_prints_the_canonical_report() {
    let text = stdout(&run(&["demo", "--json"]));
    assert!(
        text.starts_with(r#"{"schema":"partnerkit/report@1""#),
        "{}",
        &text[..text.len().min(200)]
    );
}

#[test]
fn input_prints_the_embedded_document() {
    let text = stdout(&run(&["demo", "--input"]));
    assert!(text.contains(r#""id": "acme-analytics-partners""#));
    assert!(text.contains(r#""as_of": "2026-07-20T00:00:00Z""#));
}
