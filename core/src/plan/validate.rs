//! The semantic pass: what the types cannot say. Every problem is recorded, none stops the
//! pass, so a plan author sees the whole list at once.

use std::collections::BTreeSet;

use chrono_tz::Tz;
use rust_decimal::Decimal;

mod incentives;

use super::RuleWindow;
use super::incentives::Tiers;
use super::types::*;
use crate::dec::Dec;
use crate::error::{ErrorCode, Issues};
use crate::money::{fits_minor_unit, within_limits};
use crate::time::{parse_instant, parse_zone};

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Checks `doc`; returns the parsed zone and rule windows (meaningful only when `issues`
/// stayed empty).
pub(crate) fn validate(
    doc: &PlanDoc,
    root: &str,
    issues: &mut Issues,
) -> Option<(Tz, Vec<RuleWindow>)> {
    let p = |s: &str| format!("{root}.{s}");
    if doc.schema != PLAN_SCHEMA {
        issues.push(
            ErrorCode::InvalidValue,
            p("schema"),
            format!(
                "unsupported plan schema \"{}\": expected \"{PLAN_SCHEMA}\"",
                doc.schema
            ),
        );
    }
    if doc.id.trim().is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            p("id"),
            "the plan id must not be empty",
        );
    }
    let tz = match parse_zone(&doc.timezone) {
        Ok(tz) => Some(tz),
        Err(m) => {
            issues.push(ErrorCode::InvalidValue, p("timezone"), m);
            None
        }
    };
    let digits = doc.currency.digits();
    attribution(&doc.attribution, &p("attribution"), issues);
    fraud(&doc.fraud, &p("fraud"), issues);
    let windows = rules(doc, &p("rules"), digits, issues);
    money(
        doc.payouts.threshold,
        &p("payouts.threshold"),
        digits,
        issues,
    );
    incentives::sections(doc, root, issues);
    tz.map(|tz| (tz, windows))
}

fn attribution(a: &Attribution, path: &str, issues: &mut Issues) {
    model(&a.model, &format!("{path}.model"), issues);
    for (ch, s) in &a.channels {
        if let Some(m) = &s.model {
            model(m, &format!("{path}.channels.{}.model", ch.as_str()), issues);
        }
    }
    let mut seen = BTreeSet::new();
    for (i, ch) in a.priority.iter().enumerate() {
        if !seen.insert(*ch) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.priority[{i}]"),
                format!("channel \"{}\" is listed twice", ch.as_str()),
            );
        }
    }
    if a.lock == Lock::Months(0) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.lock.months"),
            "a lock of 0 months never holds: use \"conversion\" to attribute every payment afresh",
        );
    }
}

fn model(m: &Model, path: &str, issues: &mut Issues) {
    match m {
        Model::LastTouch | Model::FirstTouch | Model::Linear => {}
        Model::TimeDecay { half_life_days } => {
            if *half_life_days == 0 {
                issues.push(
                    ErrorCode::InvalidValue,
                    format!("{path}.time_decay.half_life_days"),
                    "a half-life of 0 days is undefined: expected 1 or more",
                );
            }
        }
        Model::PositionBased { first, last } => {
            let (f, l) = (first.get(), last.get());
            for (field, v) in [("first", f), ("last", l)] {
                if v < Decimal::ZERO || v > Decimal::ONE {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.position_based.{field}"),
                        format!("share {v} is out of range: expected 0 to 1"),
                    );
                }
            }
            if f >= Decimal::ZERO && l >= Decimal::ZERO {
                if f + l > Decimal::ONE {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.position_based"),
                        format!(
                            "first {f} + last {l} is more than 1: the middle touches would \
                             get a negative share"
                        ),
                    );
                } else if f + l == Decimal::ZERO {
                    issues.push(
                        ErrorCode::InvalidValue,
                        format!("{path}.position_based"),
                        "first and last are both 0, which leaves two touches without any \
                         weight: use \"linear\" to weigh every touch equally",
                    );
                }
            }
        }
    }
}

/// Fraud settings: every threshold must be one that can be met.
fn fraud(f: &Fraud, path: &str, issues: &mut Issues) {
    let mut at_least_one = |v: u32, field: &str, what: &str| {
        if v == 0 {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.{field}"),
                format!("{what} of 0 would flag everything: expected 1 or more"),
            );
        }
    };
    if let Some(s) = &f.same_ip {
        at_least_one(s.max_customers, "same_ip.max_customers", "max_customers");
    }
    if let Some(v) = &f.velocity {
        at_least_one(
            v.max_conversions,
            "velocity.max_conversions",
            "max_conversions",
        );
        at_least_one(v.per_hours, "velocity.per_hours", "a window");
    }
    if let Some(r) = &f.refund_rate {
        at_least_one(r.min_payments, "refund_rate.min_payments", "min_payments");
        let m = r.max.get();
        if m < Decimal::ZERO || m > Decimal::ONE {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.refund_rate.max"),
                format!("refund rate {m} is out of range: expected a share from 0 to 1"),
            );
        }
    }
}

fn rules(doc: &PlanDoc, path: &str, digits: u32, issues: &mut Issues) -> Vec<RuleWindow> {
    let mut ids = BTreeSet::new();
    let mut windows = Vec::with_capacity(doc.rules.len());
    for (i, r) in doc.rules.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        if r.id.trim().is_empty() {
            issues.push(ErrorCode::InvalidValue, format!("{rp}.id"), "empty rule id");
        } else if !ids.insert(r.id.as_str()) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{rp}.id"),
                format!(
                    "rule id \"{}\" is used twice: entry ids derive from it",
                    r.id
                ),
            );
        }
        reward(r, doc.tiers.as_ref(), &rp, digits, issues);
        when(&r.when, doc.tiers.as_ref(), &rp, digits, issues);
        windows.push(window(&r.when, &rp, issues));
        limits(&r.limits, &format!("{rp}.limits"), digits, issues);
    }
    windows
}

fn reward(r: &Rule, tiers: Option<&Tiers>, rp: &str, digits: u32, issues: &mut Issues) {
    let path = format!("{rp}.reward");
    match &r.reward.kind {
        RewardKind::Percent(pct) => {
            let v = pct.get();
            if v < Decimal::ZERO || v > HUNDRED {
                issues.push(
                    ErrorCode::InvalidValue,
                    format!("{path}.percent"),
                    format!("percent {v} is out of range: expected 0 to 100"),
                );
            }
            if r.when.event != RuleEvent::Payment {
                issues.push(
                    ErrorCode::InvalidValue,
                    format!("{path}.percent"),
                    format!(
                        "a percent reward needs a payment to take a percentage of; \
                         {} rules pay a flat amount",
                        r.when.event.as_str()
                    ),
                );
            }
        }
        RewardKind::Flat(amount) => money(*amount, &format!("{path}.flat"), digits, issues),
        RewardKind::PercentByTier(rates) => {
            let path = format!("{path}.percent_by_tier");
            incentives::percent_by_tier(rates, tiers, &path, issues);
            payment_only(r, &path, "percent_by_tier", issues);
        }
        RewardKind::Tiered(bands) => {
            let path = format!("{path}.tiered");
            incentives::tiered(r, bands, &path, digits, issues);
            payment_only(r, &path, "tiered", issues);
        }
    }
}

/// Percentage rewards need a payment to take a percentage of.
fn payment_only(r: &Rule, path: &str, what: &str, issues: &mut Issues) {
    if r.when.event != RuleEvent::Payment {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!(
                "a {what} reward is a percentage of a payment; {} rules pay a flat amount",
                r.when.event.as_str()
            ),
        );
    }
}

/// Conditions that only make sense for payments.
fn when(w: &When, tiers: Option<&Tiers>, rp: &str, digits: u32, issues: &mut Issues) {
    let path = format!("{rp}.when");
    if w.event != RuleEvent::Payment {
        for (field, present) in [
            ("product", w.product.is_some()),
            ("payment_number", w.payment_number.is_some()),
            ("within_months", w.within_months.is_some()),
            ("min_amount", w.min_amount.is_some()),
            ("currency", w.currency.is_some()),
        ] {
            if present {
                issues.push(
                    ErrorCode::InvalidValue,
                    format!("{path}.{field}"),
                    format!(
                        "`{field}` applies to payment rules only, and this rule rewards {} events",
                        w.event.as_str()
                    ),
                );
            }
        }
    }
    if let Some(r) = w.payment_number {
        if r.min == Some(0) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.payment_number.min"),
                "payment numbers start at 1 (the customer's first payment)",
            );
        }
        if let (Some(lo), Some(hi)) = (r.min, r.max)
            && lo > hi
        {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.payment_number"),
                format!("min {lo} is greater than max {hi}: the rule could never match"),
            );
        }
    }
    if w.within_months == Some(0) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.within_months"),
            "within_months 0 could never match: expected 1 or more",
        );
    }
    if let Some(m) = w.min_amount {
        money(m, &format!("{path}.min_amount"), digits, issues);
    }
    for (field, list) in [
        ("partner", &w.partner),
        ("segment", &w.segment),
        ("tier", &w.tier),
        ("product", &w.product),
        ("campaign", &w.campaign),
    ] {
        if list.as_ref().is_some_and(|l| l.is_empty()) {
            issues.push(
                ErrorCode::InvalidValue,
                format!("{path}.{field}"),
                "an empty list could never match: remove the condition or name a value",
            );
        }
    }
    if w.channel.as_ref().is_some_and(|l| l.is_empty()) {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.channel"),
            "an empty list could never match: remove the condition or name a value",
        );
    }
    if let Some(list) = &w.tier
        && !list.is_empty()
    {
        incentives::tier_condition(list, tiers, &format!("{path}.tier"), issues);
    }
}

fn window(w: &When, rp: &str, issues: &mut Issues) -> RuleWindow {
    let mut out = RuleWindow::default();
    for (field, src, dst) in [
        ("from", &w.from, &mut out.from),
        ("until", &w.until, &mut out.until),
    ] {
        if let Some(s) = src {
            match parse_instant(s) {
                Ok(t) => *dst = Some(t),
                Err(m) => issues.push(ErrorCode::InvalidValue, format!("{rp}.when.{field}"), m),
            }
        }
    }
    if let (Some(f), Some(u)) = (out.from, out.until)
        && f >= u
    {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{rp}.when.until"),
            "until must be after from: the window [from, until) would be empty",
        );
    }
    out
}

fn limits(l: &Limits, path: &str, digits: u32, issues: &mut Issues) {
    for (field, v) in [
        ("max_per_event", l.max_per_event),
        ("min_per_event", l.min_per_event),
        ("max_per_customer", l.max_per_customer),
    ] {
        if let Some(v) = v {
            money(v, &format!("{path}.{field}"), digits, issues);
        }
    }
    if let Some(cap) = &l.max_per_period {
        money(
            cap.amount,
            &format!("{path}.max_per_period.amount"),
            digits,
            issues,
        );
    }
    if let (Some(lo), Some(hi)) = (l.min_per_event, l.max_per_event)
        && lo.get() > hi.get()
    {
        issues.push(
            ErrorCode::InvalidValue,
            format!("{path}.min_per_event"),
            format!("min_per_event {lo} is greater than max_per_event {hi}"),
        );
    }
}

/// A plan-currency amount: non-negative, within the currency's minor unit.
fn money(v: Dec, path: &str, digits: u32, issues: &mut Issues) {
    let d = v.get();
    if !within_limits(d) {
        issues.push(
            ErrorCode::LimitExceeded,
            path,
            format!("{d} is beyond the largest amount partnerkit accepts, 10^18"),
        );
    } else if d < Decimal::ZERO {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!("{d} is negative: expected an amount of 0 or more"),
        );
    } else if !fits_minor_unit(d, digits) {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!("{d} has more than {digits} decimal places, the plan currency's minor unit"),
        );
    }
}
