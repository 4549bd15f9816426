//! Canonical JSON of the incentive parts of a report: band rewards, overrides, true-ups,
//! bonuses, override reversals, the tier timeline, tier progress and referee rewards.
//!
//! Metric values are money in the plan currency (revenue, commission) or counts; money is
//! written with the currency's digits, counts as whole numbers, both as strings.

use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde_json::{Value, json};

use super::{money, num};
use crate::commission::referee::RefereeRecord;
use crate::input::PartnerStatus;
use crate::ledger::{BandWhy, BonusWhy, Entry, FollowWhy, OverrideWhy, ReversalWhy, TrueUpWhy};
use crate::money::{Currency, Rounding};
use crate::plan::{Instrument, Metric, RefereeKind, Window};
use crate::tiers::progress::Progress;
use crate::tiers::{LevelCheck, TierChange, TierReason};
use crate::time::fmt_instant;

/// A metric value: money of the plan currency, or a count.
pub(super) fn metric_value(m: Metric, x: Decimal, plan: Currency) -> String {
    if m.is_money() { money(x, plan) } else { num(x) }
}

/// A requirement window as plans write it.
fn window_json(w: Window) -> Value {
    match w {
        Window::Period => "period".into(),
        Window::Lifetime => "lifetime".into(),
        Window::RollingDays(n) => json!({ "rolling_days": n }),
    }
}

/// How a band reward or true-up chose its rate.
pub(super) fn band_json(b: &BandWhy, c: Currency, plan: Currency) -> Value {
    json!({
        "metric": b.metric.as_str(),
        "mode": b.mode.as_str(),
        "window": b.window,
        "window_start": b.window_start.map(fmt_instant),
        "before": metric_value(b.metric, b.before, plan),
        "after": metric_value(b.metric, b.after, plan),
        "parts": b.parts.iter().map(|p| json!({
            "from": metric_value(b.metric, p.from, plan),
            "percent": num(p.percent),
            "base": money(p.base, c),
        })).collect::<Vec<_>>(),
    })
}

/// The formula of a band reward: each part times its percent.
pub(super) fn band_formula(b: &BandWhy, c: Currency, plan: Currency, computed: Decimal) -> String {
    let parts: Vec<String> = b
        .parts
        .iter()
        .map(|p| {
            format!(
                "{} * {}% (band from {})",
                money(p.base, c),
                num(p.percent),
                metric_value(b.metric, p.from, plan)
            )
        })
        .collect();
    format!("{} = {}", parts.join(" + "), num(computed))
}

fn instrument<M: SerializeMap>(m: &mut M, i: Instrument) -> Result<(), M::Error> {
    if i == Instrument::Credit {
        m.serialize_entry("instrument", i.as_str())?;
    }
    Ok(())
}

pub(super) struct OverrideView<'a>(pub &'a OverrideWhy, pub &'a Entry, pub Rounding);

impl Serialize for OverrideView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, e) = (self.0, self.1);
        let c = e.currency;
        let mut m = s.serialize_map(None)?;
        let skipped: Vec<Value> = w
            .skipped
            .iter()
            .map(|(level, p, status)| {
                let status = match status {
                    PartnerStatus::Active => "active",
                    PartnerStatus::Suspended => "suspended",
                    PartnerStatus::Terminated => "terminated",
                };
                json!({"level": level, "partner": &**p, "status": status})
            })
            .collect();
        m.serialize_entry(
            "override",
            &json!({
                "level": w.level,
                "percent": num(w.percent),
                "child": &*w.child,
                "child_entry": &*w.child_entry,
                "skipped": skipped,
            }),
        )?;
        m.serialize_entry("of", &money(w.of, c))?;
        m.serialize_entry("computed", &num(w.computed))?;
        m.serialize_entry("rounding", self.2.as_str())?;
        m.serialize_entry("amount", &money(e.amount, c))?;
        m.serialize_entry(
            "formula",
            &format!(
                "{} * {}% (level {} override of {}) = {} -> {} ({})",
                money(w.of, c),
                num(w.percent),
                w.level,
                w.child,
                num(w.computed),
                money(e.amount, c),
                self.2.as_str()
            ),
        )?;
        m.end()
    }
}

pub(super) struct TrueUpView<'a>(pub &'a TrueUpWhy, pub &'a Entry, pub Currency);

impl Serialize for TrueUpView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, e, plan) = (self.0, self.1, self.2);
        let c = e.currency;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tiered", &band_json(&w.band, c, plan))?;
        m.serialize_entry("percent", &num(w.percent))?;
        let events: Vec<Value> = w
            .events
            .iter()
            .map(|l| {
                json!({
                    "event": &*l.event,
                    "base": money(l.base, c),
                    "net_base": money(l.net_base, c),
                    "paid": money(l.paid, c),
                    "target": money(l.target, c),
                    "top_up": money(l.top_up, c),
                })
            })
            .collect();
        m.serialize_entry("events", &events)?;
        m.serialize_entry("amount", &money(e.amount, c))?;
        let tops: Vec<String> = w.events.iter().map(|l| money(l.top_up, c)).collect();
        m.serialize_entry(
            "formula",
            &format!(
                "earlier events topped up to {}%: each round(net base * {}%) - paid; {} = {}",
                num(w.percent),
                num(w.percent),
                tops.join(" + "),
                money(e.amount, c)
            ),
        )?;
        instrument(&mut m, w.instrument)?;
        m.end()
    }
}

pub(super) struct BonusView<'a>(pub &'a BonusWhy, pub &'a Entry, pub Rounding);

impl Serialize for BonusView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, e) = (self.0, self.1);
        let c = e.currency;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(
            "bonus",
            &json!({
                "kind": w.kind.as_str(),
                "metric": w.metric.as_str(),
                "window": w.window,
                "at_least": metric_value(w.metric, w.at_least, c),
                "value": metric_value(w.metric, w.value, c),
            }),
        )?;
        let formula = match (w.amount, w.percent) {
            (Some(a), _) => {
                m.serialize_entry("flat", &money(a, c))?;
                format!(
                    "{} {} >= {}: {}",
                    w.metric.as_str(),
                    metric_value(w.metric, w.value, c),
                    metric_value(w.metric, w.at_least, c),
                    money(a, c)
                )
            }
            (None, p) => {
                let p = p.unwrap_or_default();
                m.serialize_entry("percent", &num(p))?;
                format!(
                    "{} {} >= {}: {} * {}% = {} -> {} ({})",
                    w.metric.as_str(),
                    metric_value(w.metric, w.value, c),
                    metric_value(w.metric, w.at_least, c),
                    metric_value(w.metric, w.value, c),
                    num(p),
                    num(w.computed),
                    money(e.amount, c),
                    self.2.as_str()
                )
            }
        };
        m.serialize_entry("computed", &num(w.computed))?;
        m.serialize_entry("rounding", self.2.as_str())?;
        m.serialize_entry("amount", &money(e.amount, c))?;
        m.serialize_entry("formula", &formula)?;
        m.end()
    }
}

/// The extra fields of a reversal: its instrument, and for an override what it follows.
pub(super) fn reversal_extras<M: SerializeMap>(
    m: &mut M,
    w: &ReversalWhy,
    c: Currency,
) -> Result<(), M::Error> {
    if let Some(f) = &w.follows {
        let FollowWhy {
            child_entry,
            percent,
            child_net,
        } = &**f;
        m.serialize_entry(
            "follows",
            &json!({
                "child_entry": &**child_entry,
                "percent": num(*percent),
                "child_net": money(*child_net, c),
            }),
        )?;
    }
    instrument(m, w.instrument)
}

/// The formula of an override's reversal: the override keeps its share of the child's net.
pub(super) fn follow_formula(
    w: &ReversalWhy,
    f: &FollowWhy,
    c: Currency,
    amount: Decimal,
) -> String {
    format!(
        "override follows {}: keeps round({} * {}%) = {}; reverses {} - {} - {} = {}",
        f.child_entry,
        money(f.child_net, c),
        num(f.percent),
        money(w.original - w.reversed_total, c),
        money(w.original, c),
        money(w.original - w.reversed_total, c),
        money(w.reversed_before, c),
        money(-amount, c)
    )
}

pub(super) struct Tiers<'a>(pub &'a [TierChange], pub Currency);

impl Serialize for Tiers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plan = self.1;
        let items: Vec<Value> = self
            .0
            .iter()
            .map(|t| {
                let reason = match &t.reason {
                    TierReason::Initial { source } => {
                        json!({"change": "initial", "source": source.as_str()})
                    }
                    TierReason::Change(w) => json!({
                        "change": w.change.as_str(),
                        "previous": &*w.previous,
                        "evaluation": w.evaluation.as_str(),
                        "period": w.period.map(|p| p.label()),
                        "event": w.event.as_deref(),
                        "evaluated_at": fmt_instant(w.evaluated_at),
                        "failed_periods": w.failed_periods,
                        "levels": w.levels.iter().map(|l| level_json(l, plan)).collect::<Vec<_>>(),
                    }),
                };
                json!({
                    "partner": &*t.partner,
                    "tier": &*t.tier,
                    "from": t.from.map(fmt_instant),
                    "reason": reason,
                })
            })
            .collect();
        items.serialize(s)
    }
}

fn level_json(l: &LevelCheck, plan: Currency) -> Value {
    json!({
        "level": &*l.level,
        "holds": l.holds,
        "requires": l.requires.map(|r| r.as_str()),
        "requirements": l.requirements.iter().map(|q| json!({
            "metric": q.metric.as_str(),
            "window": window_json(q.window),
            "window_start": q.window_start.map(fmt_instant),
            "value": metric_value(q.metric, q.value, plan),
            "at_least": metric_value(q.metric, q.at_least, plan),
            "met": q.met,
        })).collect::<Vec<_>>(),
    })
}

pub(super) struct ProgressList<'a>(pub &'a [Progress], pub Currency);

impl Serialize for ProgressList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<Value> = self.0.iter().map(|p| progress_value(p, self.1)).collect();
        items.serialize(s)
    }
}

/// One partner's progress; metric values of money metrics in the plan currency's digits.
pub(super) fn progress_value(p: &Progress, plan: Currency) -> Value {
    json!({
        "partner": &*p.partner,
        "tier": &*p.tier,
        "next_tier": p.next_tier.as_deref(),
        "requires": p.requires.map(|r| r.as_str()),
        "requirements": p.requirements.iter().map(|r| json!({
            "metric": r.metric.as_str(),
            "window": window_json(r.window),
            "current": metric_value(r.metric, r.current, plan),
            "target": metric_value(r.metric, r.target, plan),
            "remaining": metric_value(r.metric, r.remaining, plan),
        })).collect::<Vec<_>>(),
    })
}

pub(super) struct RefereeList<'a>(pub &'a [RefereeRecord]);

impl Serialize for RefereeList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<RefereeView> = self.0.iter().map(RefereeView).collect();
        items.serialize(s)
    }
}

struct RefereeView<'a>(&'a RefereeRecord);

impl Serialize for RefereeView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut st = s.serialize_struct("RefereeReward", 9)?;
        st.serialize_field("customer", &*r.customer)?;
        let by: Vec<&str> = r.referred_by.iter().map(|p| &**p).collect();
        st.serialize_field("referred_by", &by)?;
        st.serialize_field("kind", r.kind.as_str())?;
        let value = match (r.kind, r.currency) {
            (RefereeKind::Credit, Some(c)) => money(r.value, c),
            _ => num(r.value),
        };
        st.serialize_field("value", &value)?;
        st.serialize_field("currency", &r.currency.map(|c| c.as_str().to_owned()))?;
        st.serialize_field("months", &r.months)?;
        st.serialize_field("on", r.on.as_str())?;
        st.serialize_field("event", &*r.event)?;
        st.serialize_field("at", &fmt_instant(r.at))?;
        st.end()
    }
}
