//! The `when` conditions of a rule. [`check`] returns the first condition that fails, in
//! words a partner can read in the explanation, or `None` when the rule matches.

use rust_decimal::Decimal;

use crate::error::Result;
use crate::fx::FxTable;
use crate::input::{Partner, Payment};
use crate::plan::{Channel, Plan, Rule, RuleEvent};
use crate::time::{Instant, add_months_local, fmt_instant, local_date};

/// What the conditions are checked against.
pub(crate) struct Ctx<'a> {
    pub event: RuleEvent,
    pub at: Instant,
    pub partner: &'a Partner,
    pub channel: Option<Channel>,
    pub campaign: Option<&'a str>,
    pub payment: Option<&'a Payment>,
    pub payment_number: Option<u32>,
    pub first_payment_at: Option<Instant>,
    /// The partner's tier in force at the event (plans with tiers).
    pub tier: Option<&'a str>,
}

/// Whether `v` is on `list` (`None`: no list, anything is).
pub(crate) fn listed(list: &Option<Vec<String>>, v: Option<&str>) -> bool {
    match list {
        None => true,
        Some(l) => v.is_some_and(|v| l.iter().any(|x| x == v)),
    }
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "none".to_owned(), |s| format!("\"{s}\""))
}

/// The first failing condition of rule `idx`, or `None` when every condition holds.
pub(crate) fn check(
    plan: &Plan,
    fx: &FxTable,
    idx: usize,
    rule: &Rule,
    c: &Ctx<'_>,
) -> Result<Option<String>> {
    let w = &rule.when;
    if w.event != c.event {
        return Ok(Some(format!("rewards {} events", w.event.as_str())));
    }
    if !listed(&w.partner, Some(&c.partner.id)) {
        return Ok(Some(format!("partner \"{}\" is not listed", c.partner.id)));
    }
    if !listed(&w.segment, c.partner.segment.as_deref()) {
        return Ok(Some(format!(
            "segment {} is not listed",
            show(c.partner.segment.as_deref())
        )));
    }
    if !listed(&w.tier, c.tier) {
        return Ok(Some(format!("tier {} is not listed", show(c.tier))));
    }
    if let Some(chs) = &w.channel
        && !c.channel.is_some_and(|ch| chs.contains(&ch))
    {
        return Ok(Some(format!(
            "channel {} is not listed",
            show(c.channel.map(|c| c.as_str()))
        )));
    }
    if !listed(&w.campaign, c.campaign) {
        return Ok(Some(format!("campaign {} is not listed", show(c.campaign))));
    }
    let win = plan.window(idx);
    if let Some(from) = win.from
        && c.at < from
    {
        return Ok(Some(format!("before `from` {}", fmt_instant(from))));
    }
    if let Some(until) = win.until
        && c.at >= until
    {
        return Ok(Some(format!("at or after `until` {}", fmt_instant(until))));
    }
    if let Some(attrs) = &w.attributes {
        for (k, v) in attrs {
            if c.partner.attributes.get(k) != Some(v) {
                return Ok(Some(format!(
                    "partner attribute \"{k}\" is {}, not \"{v}\"",
                    show(c.partner.attributes.get(k).map(String::as_str))
                )));
            }
        }
    }
    if let Some(p) = c.payment {
        if !listed(&w.product, p.product.as_deref()) {
            return Ok(Some(format!(
                "product {} is not listed",
                show(p.product.as_deref())
            )));
        }
        if let Some(cur) = w.currency
            && cur != p.currency
        {
            return Ok(Some(format!("currency {} is not {cur}", p.currency)));
        }
        if let (Some(r), Some(n)) = (w.payment_number, c.payment_number) {
            if let Some(min) = r.min
                && n < min
            {
                return Ok(Some(format!("payment number {n} is below min {min}")));
            }
            if let Some(max) = r.max
                && n > max
            {
                return Ok(Some(format!("payment number {n} is above max {max}")));
            }
        }
        if let (Some(months), Some(first)) = (w.within_months, c.first_payment_at) {
            let end = add_months_local(plan.tz(), first, months as i32).ok_or_else(|| {
                crate::error::Error::overflow(format!("plan.rules[{idx}].when.within_months"))
            })?;
            if c.at >= end {
                return Ok(Some(format!(
                    "not within {months} months of the first payment at {} (ended {})",
                    fmt_instant(first),
                    fmt_instant(end)
                )));
            }
        }
        if let Some(min) = w.min_amount {
            let date = local_date(plan.tz(), c.at);
            let doc = plan.doc();
            let (min_here, _) =
                fx.convert(min.get(), doc.currency, p.currency, date, doc.rounding)?;
            if p.amount < min_here {
                return Ok(Some(format!(
                    "amount {} is below min_amount {}",
                    p.amount,
                    fmt_min(min.get(), min_here, doc.currency, p.currency)
                )));
            }
        }
    }
    Ok(None)
}

fn fmt_min(
    plan_amount: Decimal,
    here: Decimal,
    plan: crate::money::Currency,
    cur: crate::money::Currency,
) -> String {
    if plan == cur {
        format!("{plan_amount} {plan}")
    } else {
        format!("{plan_amount} {plan} ({here} {cur})")
    }
}
