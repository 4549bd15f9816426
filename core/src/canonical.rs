//! Canonical JSON of a report: the one serialized form every binding hands through.
//!
//! Field order is fixed by the order of the `serialize_field` calls below (SPEC §11), money
//! is written with exactly its currency's digits, other decimals (rates, weights, percents)
//! in their shortest exact form, instants as UTC `Z` strings, dates as `YYYY-MM-DD`.

mod incentives;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use crate::fx::AppliedRate;
use crate::ledger::{
    AttributionWhy, CommissionWhy, Entry, Exclusion, Explain, LimitNote, ReversalWhy, RewardWhy,
};
use crate::money::{Currency, fmt_amount};
use crate::payouts::{Line, Statement};
use crate::report::{Metrics, Report, Status};
use crate::tiers::progress::Progress;
use crate::time::fmt_instant;

/// Serializes `report` compactly (canonical) or indented.
pub(crate) fn report_json(report: &Report, pretty: bool) -> String {
    let view = report_view(report);
    let out = if pretty {
        serde_json::to_string_pretty(&view)
    } else {
        serde_json::to_string(&view)
    };
    // Serializing plain data into a String cannot fail; an empty string would be caught by
    // every byte-for-byte test.
    out.unwrap_or_default()
}

/// Entries with their statuses as a canonical JSON array: each entry is the same bytes as
/// in a report's `entries` (what the incremental engine returns for an applied event).
pub(crate) fn entries_json(
    entries: &[(&Entry, Status)],
    rounding: crate::money::Rounding,
    plan_currency: Currency,
) -> String {
    let views: Vec<EntryView> = entries
        .iter()
        .map(|(e, st)| EntryView(e, *st, (rounding, plan_currency)))
        .collect();
    serde_json::to_string(&views).unwrap_or_default()
}

/// One entry with its status as a canonical JSON object (its bytes in a report's `entries`).
pub(crate) fn entry_json(
    entry: &Entry,
    status: Status,
    rounding: crate::money::Rounding,
    plan_currency: Currency,
) -> String {
    serde_json::to_string(&entry_view(entry, status, rounding, plan_currency)).unwrap_or_default()
}

/// An entry's `explain` object as canonical JSON (its bytes inside [`entry_json`]).
pub(crate) fn explain_json(
    entry: &Entry,
    rounding: crate::money::Rounding,
    plan_currency: Currency,
) -> String {
    serde_json::to_string(&explain_view(entry, rounding, plan_currency)).unwrap_or_default()
}

/// An entry's `explain` object as serde data: what [`explain_json`] writes (through this
/// same function), for a binding that builds its own values through its own `Serializer`.
pub(crate) fn explain_view(
    entry: &Entry,
    rounding: crate::money::Rounding,
    plan_currency: Currency,
) -> impl Serialize + '_ {
    ExplainView(entry, (rounding, plan_currency))
}

/// One entry with its status as serde data: what [`entry_json`] writes.
pub(crate) fn entry_view(
    entry: &Entry,
    status: Status,
    rounding: crate::money::Rounding,
    plan_currency: Currency,
) -> impl Serialize + '_ {
    EntryView(entry, status, (rounding, plan_currency))
}

/// A report as serde data: what [`report_json`] writes.
pub(crate) fn report_view(report: &Report) -> impl Serialize + '_ {
    ReportView(report)
}

/// Statements as a canonical JSON array, each the same bytes as in a report's `statements`.
pub(crate) fn statements_json(statements: &[&Statement]) -> String {
    let views: Vec<StatementView> = statements.iter().map(|s| StatementView(s)).collect();
    serde_json::to_string(&views).unwrap_or_default()
}

/// One partner's tier progress as a canonical JSON object, the same bytes as its item in a
/// report's `progress`.
pub(crate) fn progress_json(progress: &Progress, currency: Currency) -> String {
    incentives::progress_value(progress, currency).to_string()
}

/// Money with its currency's digits.
fn money(x: Decimal, c: Currency) -> String {
    fmt_amount(x, c.digits())
}

/// A non-money decimal in its shortest exact form ("20", "0.5", "1.0825").
fn num(x: Decimal) -> String {
    let n = x.normalize();
    if n.is_zero() {
        "0".to_owned()
    } else {
        crate::money::decimal_text(n)
    }
}

struct ReportView<'a>(&'a Report);

impl Serialize for ReportView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut st = s.serialize_struct("Report", 13)?;
        st.serialize_field("schema", "partnerkit/report@1")?;
        st.serialize_field("plan", &r.plan)?;
        st.serialize_field("as_of", &fmt_instant(r.as_of))?;
        st.serialize_field("entries", &Entries(r))?;
        st.serialize_field("tiers", &incentives::Tiers(&r.tiers, r.currency))?;
        st.serialize_field(
            "progress",
            &incentives::ProgressList(&r.progress, r.currency),
        )?;
        st.serialize_field("statements", &Statements(&r.statements))?;
        st.serialize_field(
            "referee_rewards",
            &incentives::RefereeList(&r.referee_rewards),
        )?;
        st.serialize_field("flags", &Flags(&r.flags))?;
        st.serialize_field("duplicates_ignored", &r.duplicates_ignored)?;
        let un: Vec<&str> = r.unattributed.iter().map(|c| &**c).collect();
        st.serialize_field("unattributed", &un)?;
        st.serialize_field("metrics", &MetricsView(r))?;
        st.end()
    }
}

struct Flags<'a>(&'a [crate::report::Flag]);

impl Serialize for Flags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            let events: Vec<&str> = f.events.iter().map(|e| &**e).collect();
            seq.serialize_element(&serde_json::json!({
                "partner": &*f.partner,
                "kind": f.kind.as_str(),
                "events": events,
                "detail": f.detail,
            }))?;
        }
        seq.end()
    }
}

struct Entries<'a>(&'a Report);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.entries.len()))?;
        for (e, st) in self.0.entries.iter().zip(&self.0.statuses) {
            seq.serialize_element(&EntryView(e, *st, (self.0.rounding, self.0.currency)))?;
        }
        seq.end()
    }
}

/// An entry, with the plan's rounding and currency its explanation shows.
struct EntryView<'a>(&'a Entry, Status, (crate::money::Rounding, Currency));

impl Serialize for EntryView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut st = s.serialize_struct("Entry", 12)?;
        st.serialize_field("id", &*e.id)?;
        st.serialize_field("partner", &*e.partner)?;
        st.serialize_field("kind", e.kind.as_str())?;
        st.serialize_field("event", &*e.event)?;
        st.serialize_field("customer", &e.customer.as_deref())?;
        st.serialize_field("rule", &e.rule.as_deref())?;
        st.serialize_field("amount", &money(e.amount, e.currency))?;
        st.serialize_field("currency", e.currency.as_str())?;
        st.serialize_field("status", self.1.as_str())?;
        st.serialize_field("earned_at", &fmt_instant(e.earned_at))?;
        st.serialize_field("available_at", &fmt_instant(e.available_at))?;
        st.serialize_field("explain", &ExplainView(e, self.2))?;
        st.end()
    }
}

struct ExplainView<'a>(&'a Entry, (crate::money::Rounding, Currency));

impl Serialize for ExplainView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (e, (rounding, currency)) = (self.0, self.1);
        match &e.explain {
            Explain::Commission(w) => CommissionView(w, e, rounding, currency).serialize(s),
            Explain::Reversal(w) => ReversalView(w, e.currency, e.amount).serialize(s),
            Explain::Adjustment { reason } => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("reason", reason)?;
                m.end()
            }
            Explain::Override(w) => incentives::OverrideView(w, e, rounding).serialize(s),
            Explain::TrueUp(w) => incentives::TrueUpView(w, e, currency).serialize(s),
            Explain::Bonus(w) => incentives::BonusView(w, e, rounding).serialize(s),
        }
    }
}

struct CommissionView<'a>(
    &'a CommissionWhy,
    &'a Entry,
    crate::money::Rounding,
    Currency,
);

impl Serialize for CommissionView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, e) = (self.0, self.1);
        let c = e.currency;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("attribution", &AttributionView(&w.attribution))?;
        m.serialize_entry("weight", &num(w.weight))?;
        match &w.base {
            Some(b) => m.serialize_entry(
                "base",
                &BaseJson {
                    basis: match b.basis {
                        crate::plan::CommissionBase::Net => "net",
                        crate::plan::CommissionBase::Gross => "gross",
                    },
                    amount: money(b.amount, c),
                    tax: money(b.tax, c),
                    discount: money(b.discount, c),
                    base: money(b.base, c),
                    credited: money(b.credited, c),
                },
            )?,
            None => m.serialize_entry("base", &())?,
        }
        m.serialize_entry("payment_number", &w.payment_number)?;
        if let Some(t) = &w.tier {
            m.serialize_entry("tier", &**t)?;
        }
        if let Some(v) = &w.version {
            m.serialize_entry(
                "plan_version",
                &serde_json::json!({
                    "index": v.index,
                    "effective_from": fmt_instant(v.effective_from),
                    "grandfathered": v.grandfathered,
                }),
            )?;
        }
        let rules: Vec<RuleJson> = w
            .rules
            .iter()
            .map(|r| RuleJson {
                rule: &r.rule,
                matched: r.matched,
                paid: r.paid,
                because: r.because.as_deref(),
                amount: r.amount.map(|a| money(a, c)),
            })
            .collect();
        m.serialize_entry("rules", &rules)?;
        m.serialize_entry("combine", w.combine.as_str())?;
        m.serialize_entry("why_this_rule", &why_this_rule(w))?;
        let formula = match &w.reward {
            RewardWhy::Percent {
                percent,
                of,
                split: None,
            } => {
                m.serialize_entry(
                    "reward",
                    &PercentJson {
                        percent: num(*percent),
                        of: money(*of, c),
                    },
                )?;
                format!(
                    "{} * {}% = {}",
                    money(*of, c),
                    num(*percent),
                    num(w.computed)
                )
            }
            RewardWhy::Percent {
                percent,
                of,
                split: Some(sp),
            } => {
                m.serialize_entry(
                    "reward",
                    &serde_json::json!({
                        "percent": num(*percent),
                        "of": money(*of, c),
                        "whole": money(sp.whole, c),
                        "share": money(sp.share, c),
                    }),
                )?;
                // The one rounding is of the whole; the share is exact from there.
                format!(
                    "{} * {}% = {} -> {} ({}), split by weight {} (largest remainder)",
                    money(*of, c),
                    num(*percent),
                    num(w.computed),
                    money(sp.whole, c),
                    self.2.as_str(),
                    num(w.weight)
                )
            }
            RewardWhy::Flat {
                flat,
                plan_currency,
                converted,
                share,
            } => {
                let mut o = serde_json::Map::new();
                o.insert("flat".into(), money(*flat, *plan_currency).into());
                o.insert("plan_currency".into(), plan_currency.as_str().into());
                if let Some((amount, rate)) = converted {
                    o.insert("converted".into(), money(*amount, c).into());
                    o.insert("fx".into(), rate_json(rate));
                }
                o.insert("share".into(), money(*share, c).into());
                m.serialize_entry("reward", &o)?;
                format!(
                    "flat {} {}, share {}",
                    money(*flat, *plan_currency),
                    plan_currency,
                    money(*share, c)
                )
            }
            RewardWhy::PercentByTier { tier, percent, of } => {
                m.serialize_entry(
                    "reward",
                    &serde_json::json!({
                        "percent_by_tier": {"tier": &**tier, "percent": num(*percent)},
                        "of": money(*of, c),
                    }),
                )?;
                format!(
                    "{} * {}% (tier {tier}) = {}",
                    money(*of, c),
                    num(*percent),
                    num(w.computed)
                )
            }
            RewardWhy::Tiered { band, of } => {
                m.serialize_entry(
                    "reward",
                    &serde_json::json!({
                        "tiered": incentives::band_json(band, c, self.3),
                        "of": money(*of, c),
                    }),
                )?;
                incentives::band_formula(band, c, self.3, w.computed)
            }
        };
        m.serialize_entry("computed", &num(w.computed))?;
        m.serialize_entry("rounding", self.2.as_str())?;
        m.serialize_entry("rounded", &money(w.rounded, c))?;
        let limits: Vec<LimitJson> = w.limits.iter().map(|l| limit_json(l, c)).collect();
        m.serialize_entry("limits", &limits)?;
        m.serialize_entry("amount", &money(e.amount, c))?;
        let mut f = match &w.reward {
            RewardWhy::Percent { split: Some(_), .. } => {
                format!("{formula} -> {}", money(w.rounded, c))
            }
            _ => format!("{formula} -> {} ({})", money(w.rounded, c), self.2.as_str()),
        };
        for l in &w.limits {
            f.push_str(&format!(" -> {} ({})", money(l.after, c), l.limit));
        }
        m.serialize_entry("formula", &f)?;
        if w.instrument == crate::plan::Instrument::Credit {
            m.serialize_entry("instrument", w.instrument.as_str())?;
        }
        m.end()
    }
}

fn why_this_rule(w: &CommissionWhy) -> String {
    let paid: Vec<&str> = w
        .rules
        .iter()
        .filter(|r| r.paid)
        .map(|r| &*r.rule)
        .collect();
    let matched: Vec<&str> = w
        .rules
        .iter()
        .filter(|r| r.matched)
        .map(|r| &*r.rule)
        .collect();
    let rule = paid.first().copied().unwrap_or("");
    match w.combine {
        crate::plan::Combine::FirstMatch => {
            format!("\"{rule}\" is the first rule in plan order whose conditions all hold")
        }
        crate::plan::Combine::Sum => format!(
            "combine \"sum\": every matching rule pays ({})",
            matched.join(", ")
        ),
        crate::plan::Combine::Max => format!(
            "combine \"max\": \"{rule}\" pays the largest amount after limits among the matching rules ({}); ties go to the earlier rule",
            matched.join(", ")
        ),
    }
}

fn rate_json(r: &AppliedRate) -> serde_json::Value {
    serde_json::json!({
        "rate": num(r.rate.round_dp(12)),
        "quoted": r.quoted.to_string(),
        "inverse": r.inverse,
    })
}

fn limit_json(l: &LimitNote, c: Currency) -> LimitJson {
    LimitJson {
        limit: l.limit,
        value: money(l.value, c),
        used: l.used.map(|u| money(u, c)),
        period: l.period.map(|p| p.label()),
        before: money(l.before, c),
        after: money(l.after, c),
    }
}

// The explanation's most written objects as plain structs rather than `serde_json::Value`s:
// a `Value` object is a map built (its keys and values allocated, each key hashed) only to
// be written once. Fields are written in declaration order, the order of the keys below;
// an absent optional field is left out, as the map left it out.

/// A commission's `base`.
#[derive(Serialize)]
struct BaseJson {
    basis: &'static str,
    amount: String,
    tax: String,
    discount: String,
    base: String,
    credited: String,
}

/// One rule's line in a commission's `rules`.
#[derive(Serialize)]
struct RuleJson<'a> {
    rule: &'a str,
    matched: bool,
    paid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    because: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
}

/// A percent reward of an amount.
#[derive(Serialize)]
struct PercentJson {
    percent: String,
    of: String,
}

/// One limit applied to a commission.
#[derive(Serialize)]
struct LimitJson {
    limit: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<String>,
    before: String,
    after: String,
}

/// One touch an attribution looked at.
#[derive(Serialize)]
struct TouchJson<'a> {
    event: &'a str,
    partner: &'a str,
    channel: &'static str,
    at: String,
    weight: String,
    excluded: Option<serde_json::Value>,
}

/// A partner's weight in an attribution.
#[derive(Serialize)]
struct WeightJson<'a> {
    partner: &'a str,
    weight: String,
}

struct AttributionView<'a>(&'a AttributionWhy);

impl Serialize for AttributionView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(None)?;
        // A manual assignment replaces the model.
        let model = if a.reason.is_some() {
            "assign"
        } else {
            a.model.name()
        };
        m.serialize_entry("model", model)?;
        // The model's parameters, so that every weight can be recomputed from the explanation.
        if a.reason.is_none() {
            match &a.model {
                crate::plan::Model::TimeDecay { half_life_days } => {
                    m.serialize_entry("half_life_days", half_life_days)?;
                }
                crate::plan::Model::PositionBased { first, last } => {
                    m.serialize_entry("first", &num(first.get()))?;
                    m.serialize_entry("last", &num(last.get()))?;
                }
                _ => {}
            }
        }
        m.serialize_entry("lock", a.lock)?;
        if let Some(until) = a.locked_until {
            m.serialize_entry("locked_until", &fmt_instant(until))?;
        }
        if let Some(reason) = &a.reason {
            m.serialize_entry("reason", reason)?;
        }
        m.serialize_entry("decided_by", &*a.decided_by)?;
        m.serialize_entry("decided_at", &fmt_instant(a.decided_at))?;
        let touches: Vec<TouchJson> = a
            .touches
            .iter()
            .map(|t| TouchJson {
                event: &t.event,
                partner: &t.partner,
                channel: t.channel.as_str(),
                at: fmt_instant(t.at),
                weight: num(t.weight),
                excluded: t.excluded.as_ref().map(exclusion_json),
            })
            .collect();
        m.serialize_entry("touches", &touches)?;
        let weights: Vec<WeightJson> = a
            .weights
            .iter()
            .map(|(p, w)| WeightJson {
                partner: p,
                weight: num(*w),
            })
            .collect();
        m.serialize_entry("weights", &weights)?;
        m.end()
    }
}

fn exclusion_json(x: &Exclusion) -> serde_json::Value {
    match x {
        Exclusion::OutsideWindow { window_days } => {
            serde_json::json!({"reason": "outside_window", "window_days": window_days})
        }
        Exclusion::LowerPriority { beaten_by } => {
            serde_json::json!({"reason": "lower_priority_channel", "beaten_by": beaten_by.as_str()})
        }
        Exclusion::InactivePartner { status } => {
            serde_json::json!({"reason": "inactive_partner", "status": status})
        }
        Exclusion::SelfReferral => serde_json::json!({"reason": "self_referral"}),
        Exclusion::Fraud { kind } => {
            serde_json::json!({"reason": "fraud_blocked", "flag": kind.as_str()})
        }
        Exclusion::NotSelected => serde_json::json!({"reason": "not_selected_by_model"}),
    }
}

struct ReversalView<'a>(&'a ReversalWhy, Currency, Decimal);

impl Serialize for ReversalView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, c) = (self.0, self.1);
        let total = w.refunded_before + w.refunded_now;
        let full = total == w.payment_amount;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("reverses", &*w.reverses)?;
        m.serialize_entry("cause", w.cause)?;
        m.serialize_entry("payment", &*w.payment)?;
        m.serialize_entry("payment_amount", &money(w.payment_amount, c))?;
        m.serialize_entry("refunded_before", &money(w.refunded_before, c))?;
        m.serialize_entry("refunded_now", &money(w.refunded_now, c))?;
        m.serialize_entry("refunded_total", &money(total, c))?;
        m.serialize_entry("original", &money(w.original, c))?;
        m.serialize_entry("reversed_before", &money(w.reversed_before, c))?;
        m.serialize_entry("reversed_total", &money(w.reversed_total, c))?;
        m.serialize_entry("effect", w.effect)?;
        let formula = if let Some(f) = &w.follows {
            incentives::follow_formula(w, f, c, self.2)
        } else if full {
            format!(
                "payment fully refunded: reverse what is left, {} - {} = {}",
                money(w.original, c),
                money(w.reversed_before, c),
                money(-self.2, c)
            )
        } else {
            format!(
                "round({} * {} / {}) - {} = {} - {} = {}",
                money(w.original, c),
                money(total, c),
                money(w.payment_amount, c),
                money(w.reversed_before, c),
                money(w.reversed_total, c),
                money(w.reversed_before, c),
                money(-self.2, c)
            )
        };
        m.serialize_entry("formula", &formula)?;
        incentives::reversal_extras(&mut m, w, c)?;
        m.end()
    }
}

struct Statements<'a>(&'a [Statement]);

impl Serialize for Statements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for st in self.0 {
            seq.serialize_element(&StatementView(st))?;
        }
        seq.end()
    }
}

struct StatementView<'a>(&'a Statement);

impl Serialize for StatementView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let c = t.currency;
        let mut st = s.serialize_struct("Statement", 18)?;
        st.serialize_field("partner", &*t.partner)?;
        st.serialize_field("period", &t.period.label())?;
        st.serialize_field("start", &fmt_instant(t.start))?;
        st.serialize_field("end", &fmt_instant(t.end))?;
        st.serialize_field("currency", c.as_str())?;
        st.serialize_field("opening_balance", &money(t.opening_balance, c))?;
        st.serialize_field("credits", &money(t.credits, c))?;
        st.serialize_field("debits", &money(t.debits, c))?;
        st.serialize_field("closing_balance", &money(t.closing_balance, c))?;
        st.serialize_field("threshold", &money(t.threshold, c))?;
        st.serialize_field("payable", &t.payable)?;
        st.serialize_field("payout", &money(t.payout, c))?;
        st.serialize_field("carried_forward", &money(t.carried_forward, c))?;
        st.serialize_field("written_off", &money(t.written_off, c))?;
        st.serialize_field("due", &t.due.to_string())?;
        st.serialize_field("status", t.status.as_str())?;
        let lines: Vec<LineView> = t.lines.iter().map(|l| LineView(l, c)).collect();
        st.serialize_field("lines", &lines)?;
        st.end()
    }
}

struct LineView<'a>(&'a Line, Currency);

impl Serialize for LineView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0;
        let mut st = s.serialize_struct("Line", 6)?;
        st.serialize_field("entry", &*l.entry)?;
        st.serialize_field("amount", &money(l.amount, l.currency))?;
        st.serialize_field("currency", l.currency.as_str())?;
        st.serialize_field("fx", &l.rate.as_ref().map(rate_json))?;
        st.serialize_field("fx_date", &l.fx_date.map(|d| d.to_string()))?;
        st.serialize_field("converted", &money(l.converted, self.1))?;
        st.end()
    }
}

struct MetricsView<'a>(&'a Report);

impl Serialize for MetricsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut st = s.serialize_struct("Metrics", 2)?;
        st.serialize_field("program", &OneMetrics(None, &r.program, r))?;
        let partners: Vec<OneMetrics> = r
            .partners
            .iter()
            .map(|(p, m)| OneMetrics(Some(p), m, r))
            .collect();
        st.serialize_field("partners", &partners)?;
        st.end()
    }
}

struct OneMetrics<'a>(Option<&'a str>, &'a Metrics, &'a Report);

impl Serialize for OneMetrics<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, r) = (self.1, self.2);
        let (c, d, rd) = (r.currency, r.currency.digits(), r.rounding);
        let mut map = s.serialize_map(None)?;
        if let Some(p) = self.0 {
            map.serialize_entry("partner", p)?;
        }
        map.serialize_entry("clicks", &m.clicks)?;
        map.serialize_entry("referrals", &m.referrals)?;
        map.serialize_entry("conversions", &m.conversions)?;
        map.serialize_entry(
            "conversion_rate",
            &m.conversion_rate().map(|x| fmt_amount(x, 4)),
        )?;
        map.serialize_entry("revenue", &money(m.revenue, c))?;
        map.serialize_entry("influenced_revenue", &money(m.influenced_revenue, c))?;
        map.serialize_entry("commission", &money(m.commission, c))?;
        map.serialize_entry("epc", &m.epc(d, rd).map(|x| money(x, c)))?;
        map.serialize_entry("cpa", &m.cpa(d, rd).map(|x| money(x, c)))?;
        // One partner: a yes/no (null when it has no join date); the program: counts.
        if self.0.is_some() {
            map.serialize_entry("activated", &m.activated.map(|a| a > 0))?;
            map.serialize_entry("inactive", &(m.inactive > 0))?;
        } else {
            map.serialize_entry("activated", &m.activated.unwrap_or(0))?;
            map.serialize_entry("inactive", &m.inactive)?;
        }
        map.end()
    }
}
