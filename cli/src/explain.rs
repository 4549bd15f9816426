//! `partnerkit explain`: the explanation of ledger entries, as text a partner manager can
//! read out in a dispute. It renders the `explain` objects of the canonical report; it
//! computes nothing itself.

use std::fmt::Write;

use serde_json::Value;

/// Which entries to explain.
pub struct Filter<'a> {
    /// Only the entry with this id.
    pub entry: Option<&'a str>,
    /// Only entries of this partner.
    pub partner: Option<&'a str>,
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Renders the selected entries of a canonical report; `None` when nothing matches.
pub fn render(report_json: &str, filter: &Filter<'_>) -> Option<String> {
    let report: Value = serde_json::from_str(report_json).ok()?;
    let mut out = String::new();
    for e in report["entries"].as_array()? {
        if filter.entry.is_some_and(|id| s(&e["id"]) != id)
            || filter.partner.is_some_and(|p| s(&e["partner"]) != p)
        {
            continue;
        }
        entry(&mut out, e);
    }
    (!out.is_empty()).then_some(out)
}

fn entry(out: &mut String, e: &Value) {
    let x = &e["explain"];
    let _ = writeln!(
        out,
        "{}\n  {} {} {} {} ({}), earned {}, available {}",
        s(&e["id"]),
        s(&e["partner"]),
        s(&e["kind"]),
        s(&e["amount"]),
        s(&e["currency"]),
        s(&e["status"]),
        s(&e["earned_at"]),
        s(&e["available_at"]),
    );
    match s(&e["kind"]) {
        "reversal" => {
            let _ = writeln!(
                out,
                "  {} of payment {} ({} of {} refunded so far): {} of {}",
                s(&x["cause"]),
                s(&x["payment"]),
                s(&x["refunded_total"]),
                s(&x["payment_amount"]),
                s(&x["effect"]),
                s(&x["reverses"]),
            );
            let _ = writeln!(out, "  {}", s(&x["formula"]));
        }
        "adjustment" => {
            let _ = writeln!(out, "  manual adjustment: {}", s(&x["reason"]));
        }
        "override" => {
            let o = &x["override"];
            let _ = writeln!(
                out,
                "  level {} override on {} of {}",
                o["level"],
                s(&o["child_entry"]),
                s(&o["child"]),
            );
            for k in o["skipped"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    level {} parent {} skipped: {}",
                    k["level"],
                    s(&k["partner"]),
                    s(&k["status"])
                );
            }
            let _ = writeln!(out, "  {}", s(&x["formula"]));
        }
        "true_up" => {
            let t = &x["tiered"];
            let _ = writeln!(
                out,
                "  {} band crossing on {} ({}): {} -> {}",
                s(&t["mode"]),
                s(&t["metric"]),
                s(&t["window"]),
                s(&t["before"]),
                s(&t["after"]),
            );
            for l in x["events"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    {}: base {} (net {}), paid {}, at the new rate {}, top-up {}",
                    s(&l["event"]),
                    s(&l["base"]),
                    s(&l["net_base"]),
                    s(&l["paid"]),
                    s(&l["target"]),
                    s(&l["top_up"]),
                );
            }
            let _ = writeln!(out, "  {}", s(&x["formula"]));
        }
        "bonus" => {
            let b = &x["bonus"];
            let _ = writeln!(
                out,
                "  {} bonus: {} over {} reached {} (at least {})",
                s(&b["kind"]),
                s(&b["metric"]),
                s(&b["window"]),
                s(&b["value"]),
                s(&b["at_least"]),
            );
            let _ = writeln!(out, "  {}", s(&x["formula"]));
        }
        _ => commission(out, x),
    }
    out.push('\n');
}

fn commission(out: &mut String, x: &Value) {
    let a = &x["attribution"];
    let _ = writeln!(
        out,
        "  attribution: {} (lock: {}), decided by {} at {}",
        s(&a["model"]),
        s(&a["lock"]),
        s(&a["decided_by"]),
        s(&a["decided_at"]),
    );
    if let Some(until) = a.get("locked_until") {
        let _ = writeln!(out, "    locked until {}", s(until));
    }
    if let Some(reason) = a.get("reason") {
        let _ = writeln!(out, "    assigned by hand: {}", s(reason));
    }
    for t in a["touches"].as_array().into_iter().flatten() {
        let why = match t["excluded"].get("reason") {
            Some(r) if t["excluded"].get("flag").is_some() => {
                format!("excluded: {} ({})", s(r), s(&t["excluded"]["flag"]))
            }
            Some(r) => format!("excluded: {}", s(r)),
            None => format!("weight {}", s(&t["weight"])),
        };
        let _ = writeln!(
            out,
            "    touch {} by {} via {} at {}: {why}",
            s(&t["event"]),
            s(&t["partner"]),
            s(&t["channel"]),
            s(&t["at"]),
        );
    }
    if let Some(b) = x["base"].as_object() {
        let _ = writeln!(
            out,
            "  base ({}): amount {} - tax {} - discount {} = {}; credited to this partner {}",
            s(&b["basis"]),
            s(&b["amount"]),
            s(&b["tax"]),
            s(&b["discount"]),
            s(&b["base"]),
            s(&b["credited"]),
        );
    }
    for r in x["rules"].as_array().into_iter().flatten() {
        let state = match (r["paid"].as_bool(), r.get("because")) {
            (Some(true), _) => "paid".to_owned(),
            (_, Some(b)) => format!("no match: {}", s(b)),
            _ => "matched".to_owned(),
        };
        let _ = writeln!(out, "  rule {}: {state}", s(&r["rule"]));
    }
    let _ = writeln!(out, "  {}", s(&x["why_this_rule"]));
    let _ = writeln!(out, "  {}", s(&x["formula"]));
}
