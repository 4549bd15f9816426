//! The typed report API beside the canonical JSON: balances and entry fields.

use rust_decimal::Decimal;

#[test]
fn balances_split_pending_and_available() {
    // 10% of 100.00 on Jan 1 (available Jan 31, paid by the January statement, NET-0), 10% of
    // 50.00 on Feb 20 (pending until Mar 22), a -2.00 penalty on Feb 25 (available at once,
    // carried as a negative February balance). As of Mar 1: pending 5.00, available -2.00.
    let input = r#"{
      "plan": {"schema": "partnerkit/plan@1", "id": "p", "currency": "USD",
               "rules": [{"id": "r", "reward": {"percent": "10"}}]},
      "partners": [{"id": "ana"}],
      "events": [
        {"id": "t", "kind": "touch", "at": "2025-12-31T00:00:00Z", "partner": "ana", "customer": "c", "channel": "link"},
        {"id": "p1", "kind": "payment", "at": "2026-01-01T00:00:00Z", "customer": "c", "amount": "100.00", "currency": "USD"},
        {"id": "p2", "kind": "payment", "at": "2026-02-20T00:00:00Z", "customer": "c", "amount": "50.00", "currency": "USD"},
        {"id": "a1", "kind": "adjustment", "at": "2026-02-25T00:00:00Z", "partner": "ana", "amount": "-2.00", "currency": "USD", "reason": "late report"}
      ],
      "as_of": "2026-03-01T00:00:00Z"
    }"#;
    let report = partnerkit::evaluate_json(input).unwrap();
    let usd = partnerkit::money::Currency::parse("USD").unwrap();
    assert_eq!(
        report.balances("ana"),
        vec![(usd, Decimal::new(500, 2), Decimal::new(-200, 2))]
    );
    assert!(report.balances("nobody").is_empty());
    let kinds: Vec<&str> = report.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["commission", "commission", "adjustment"]);
    let statuses: Vec<&str> = report.statuses.iter().map(|s| s.as_str()).collect();
    assert_eq!(statuses, ["paid", "pending", "available"]);
}
