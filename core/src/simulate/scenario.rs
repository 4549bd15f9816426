//! The scenario document (`"schema": "partnerkit/scenario@1"`): who the partners are and
//! how their audiences behave, as distributions, for Monte Carlo simulation.
//!
//! A scenario is read like a plan: each top-level field and each population on its own, so
//! every structural problem is reported at once, then the semantic checks (ranges, rates
//! within 0..1, one purchase model per population) over the whole document.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::dec::Dec;
use crate::error::{Error, ErrorCode, Issues, Result};
use crate::json::{Fields, from_value_at, join, json_value, missing_fields, unknown_field};
use crate::money::Currency;
use crate::time::{Instant, parse_date};

/// The value of `schema` in a scenario document.
pub const SCENARIO_SCHEMA: &str = "partnerkit/scenario@1";

/// Most months a scenario may cover (20 years).
pub const MAX_MONTHS: u32 = 240;
/// Most runs a scenario may ask for.
pub const MAX_RUNS: u32 = 1_000_000;
/// Most partners a scenario may have, over all populations (the input limit's default).
pub const MAX_PARTNERS: u64 = 1_000_000;
/// Most expected conversions per partner and month (mean touches × mean conversion rate):
/// beyond it a typo would make a run generate billions of events.
pub const MAX_CONVERSIONS_PER_MONTH: f64 = 10_000.0;
/// The most touches a month one partner may draw: a far tail of a wide lognormal is capped
/// here, so one draw cannot exhaust memory.
pub const MAX_TOUCHES_PER_MONTH: f64 = 1_000_000.0;

/// A scenario document, as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerkit scenario")]
pub struct ScenarioDoc {
    /// Always `"partnerkit/scenario@1"`.
    pub schema: String,
    /// A name for reports.
    #[serde(default)]
    pub id: Option<String>,
    /// The currency of every generated payment (the plans simulated must use it).
    pub currency: Currency,
    /// The first day of the horizon (`YYYY-MM-DD`); the horizon starts at 00:00 UTC.
    pub start: String,
    /// The horizon in months (1..=240): month `m` runs from `start` + m calendar months.
    pub months: u32,
    /// How many independent runs (1..=1,000,000).
    pub runs: u32,
    /// The seed of every random draw: the same seed gives the same numbers.
    pub seed: u64,
    /// The gross margin on sales (0..1) for ROI; without it ROI is not computed.
    #[serde(default)]
    pub margin: Option<Dec>,
    /// Days from a payment to its refund, for refunded payments (default 14).
    #[serde(default = "default_refund_after_days")]
    pub refund_after_days: u32,
    /// The partner populations.
    pub populations: Vec<Population>,
}

fn default_refund_after_days() -> u32 {
    14
}

/// A population of partners that behave alike.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The partners' segment (`when.segment` in plans sees it).
    pub segment: String,
    /// How many partners.
    pub partners: u32,
    /// Each partner's mean number of touches (clicks) per month, drawn once per partner.
    pub touches_per_month: Dist,
    /// Each partner's share of touches that become paying customers (0..1), drawn once
    /// per partner.
    pub conversion_rate: Dist,
    /// One-off purchases: each new customer pays one order of this value (drawn per order).
    #[serde(default)]
    pub order_value: Option<Dist>,
    /// Subscriptions: each new customer pays `price` (drawn per customer) every month until
    /// it churns.
    #[serde(default)]
    pub subscription: Option<Subscription>,
    /// Each partner's share of payments refunded in full (0..1), drawn once per partner;
    /// default 0.
    #[serde(default)]
    pub refund_rate: Option<Dist>,
}

/// A subscription: a monthly price and the monthly probability of cancelling.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// The monthly price, drawn once per customer.
    pub price: Dist,
    /// The probability (0..1) that a customer cancels after each payment, drawn once per
    /// partner.
    pub monthly_churn: Dist,
}

/// A distribution; parameters are decimal strings.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// Always this value.
    Fixed(Dec),
    /// Uniform over `[min, max)`.
    Uniform {
        /// Lower bound.
        min: Dec,
        /// Upper bound.
        max: Dec,
    },
    /// Normal, with draws below zero taken as zero.
    Normal {
        /// Mean.
        mean: Dec,
        /// Standard deviation.
        sd: Dec,
    },
    /// Lognormal: `median × e^(sigma × Z)`; the mean is `median × e^(sigma²/2)`.
    Lognormal {
        /// The median (e^mu).
        median: Dec,
        /// The standard deviation of the logarithm.
        sigma: Dec,
    },
    /// Beta (for rates): mean `alpha / (alpha + beta)`.
    Beta {
        /// Alpha (> 0).
        alpha: Dec,
        /// Beta (> 0).
        beta: Dec,
    },
}

/// A distribution ready to sample: parameters as `f64` (statistics, not money: generated
/// amounts become exact minor units before any plan sees them).
#[derive(Clone, Debug)]
pub(crate) enum Sampler {
    Fixed(f64),
    Uniform(f64, f64),
    Normal(rand_distr::Normal<f64>),
    /// Median, sigma and the distribution.
    Lognormal(f64, f64, rand_distr::LogNormal<f64>),
    /// Alpha, beta and the distribution.
    Beta(f64, f64, rand_distr::Beta<f64>),
}

/// One population, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Pop {
    pub segment: String,
    /// Global index of its first partner.
    pub first: u32,
    pub partners: u32,
    pub touches: Sampler,
    pub conversion: Sampler,
    pub order: Option<Sampler>,
    pub price: Option<Sampler>,
    pub churn: Option<Sampler>,
    pub refund: Option<Sampler>,
}

/// A validated scenario, ready to simulate.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub(crate) doc: ScenarioDoc,
    /// The source text, kept so a scenario can be written back (pickling, workers).
    pub(crate) text: String,
    /// Month starts: `months + 1` instants, the last being the horizon's end (`as_of`).
    pub(crate) month_starts: Vec<Instant>,
    pub(crate) pops: Vec<Pop>,
    pub(crate) partners: u32,
    /// Distinct segments, sorted (the order of per-segment results).
    pub(crate) segments: Vec<String>,
    /// Each population's index in `segments`.
    pub(crate) pop_segment: Vec<usize>,
}

/// Top-level fields: name and whether it is required.
const FIELDS: Fields = &[
    ("schema", true),
    ("id", false),
    ("currency", true),
    ("start", true),
    ("months", true),
    ("runs", true),
    ("seed", true),
    ("margin", false),
    ("refund_after_days", false),
    ("populations", true),
];

impl Scenario {
    /// Parses and validates a scenario document. The error is the first problem found; its
    /// message counts the others ([`Scenario::validate_json`] lists them all).
    pub fn from_json(json: &str) -> Result<Scenario> {
        let (s, issues) = Scenario::check(json);
        issues.into_result()?;
        s.ok_or_else(|| Error::new(ErrorCode::Internal, "scenario", "scenario not built"))
    }

    /// Every problem of a scenario document, in document order; empty when it is valid.
    pub fn validate_json(json: &str) -> Vec<Error> {
        Scenario::check(json).1.0
    }

    /// The document as written (with defaults filled in).
    pub fn doc(&self) -> &ScenarioDoc {
        &self.doc
    }

    /// The source text of the document.
    pub fn to_json(&self) -> &str {
        &self.text
    }

    /// The number of runs.
    pub fn runs(&self) -> u32 {
        self.doc.runs
    }

    /// The number of partners over all populations.
    pub fn partners(&self) -> u32 {
        self.partners
    }

    /// The horizon's end: every generated event is at or before it, and plans are
    /// evaluated as of it.
    pub fn as_of(&self) -> Instant {
        self.month_starts[self.month_starts.len() - 1]
    }

    /// A copy with another number of runs (and seed), for quick looks and tests.
    pub fn with_runs(&self, runs: u32, seed: u64) -> Result<Scenario> {
        let mut v: Value = json_value(&self.text, "scenario")?;
        if let Some(o) = v.as_object_mut() {
            o.insert("runs".into(), Value::from(runs));
            o.insert("seed".into(), Value::from(seed));
        }
        Scenario::from_json(&v.to_string())
    }

    fn check(json: &str) -> (Option<Scenario>, Issues) {
        let mut issues = Issues::default();
        let root = "scenario";
        let value = match json_value(json, root) {
            Ok(v) => v,
            Err(e) => {
                issues.0.push(e);
                return (None, issues);
            }
        };
        let Some(doc) = structural(&value, root, &mut issues) else {
            return (None, issues);
        };
        let built = semantic(&doc, root, &mut issues);
        if !issues.is_empty() {
            return (None, issues);
        }
        let Some((month_starts, pops)) = built else {
            return (None, issues);
        };
        let partners = pops.iter().map(|p| p.partners).sum();
        let mut segments: Vec<String> = pops.iter().map(|p| p.segment.clone()).collect();
        segments.sort();
        segments.dedup();
        let pop_segment = pops
            .iter()
            .map(|p| segments.iter().position(|s| *s == p.segment).unwrap_or(0))
            .collect();
        let s = Scenario {
            doc,
            text: json.to_owned(),
            month_starts,
            pops,
            partners,
            segments,
            pop_segment,
        };
        (Some(s), issues)
    }

    /// The population of global partner index `p`.
    pub(crate) fn pop_of(&self, p: u32) -> usize {
        self.pops
            .iter()
            .position(|q| p < q.first + q.partners)
            .unwrap_or(self.pops.len() - 1)
    }

    /// The id of global partner index `p`: its segment and a zero-padded index, so ids
    /// sort like indices within a segment.
    pub(crate) fn partner_id(&self, p: u32) -> String {
        format!("{}-{p:06}", self.pops[self.pop_of(p)].segment)
    }
}

/// The JSON Schema of the scenario document, generated from the Rust types, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

fn structural(value: &Value, root: &str, issues: &mut Issues) -> Option<ScenarioDoc> {
    let Some(obj) = value.as_object() else {
        issues.push(
            ErrorCode::InvalidValue,
            root,
            "expected a scenario object like {\"schema\": \"partnerkit/scenario@1\", ...}",
        );
        return None;
    };
    let before = issues.0.len();
    for (key, v) in obj {
        let path = join(root, key);
        match key.as_str() {
            "populations" => match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check::<Population>(item, &format!("{path}[{i}]"), issues);
                    }
                }
                None => check::<Vec<Population>>(v, &path, issues),
            },
            "schema" | "start" => check::<String>(v, &path, issues),
            "id" => check::<Option<String>>(v, &path, issues),
            "currency" => check::<Currency>(v, &path, issues),
            "months" | "runs" | "refund_after_days" => check::<u32>(v, &path, issues),
            "seed" => check::<u64>(v, &path, issues),
            "margin" => check::<Option<Dec>>(v, &path, issues),
            _ => unknown_field(issues, root, key, FIELDS),
        }
    }
    missing_fields(issues, obj, root, FIELDS);
    if issues.0.len() > before {
        return None;
    }
    match from_value_at::<ScenarioDoc>(value, root) {
        Ok(doc) => Some(doc),
        Err(e) => {
            issues.0.push(e);
            None
        }
    }
}

fn check<T: DeserializeOwned>(v: &Value, path: &str, issues: &mut Issues) {
    if let Err(e) = from_value_at::<T>(v, path) {
        issues.0.push(e);
    }
}

type Built = (Vec<Instant>, Vec<Pop>);

fn semantic(doc: &ScenarioDoc, root: &str, issues: &mut Issues) -> Option<Built> {
    if doc.schema != SCENARIO_SCHEMA {
        issues.push(
            ErrorCode::InvalidValue,
            join(root, "schema"),
            format!("expected \"{SCENARIO_SCHEMA}\", found \"{}\"", doc.schema),
        );
    }
    let start = match parse_date(&doc.start) {
        Ok(d) => Some(d),
        Err(m) => {
            issues.push(ErrorCode::InvalidValue, join(root, "start"), m);
            None
        }
    };
    if !(1..=MAX_MONTHS).contains(&doc.months) {
        issues.push(
            ErrorCode::InvalidValue,
            join(root, "months"),
            format!("expected 1..={MAX_MONTHS} months, found {}", doc.months),
        );
    }
    if !(1..=MAX_RUNS).contains(&doc.runs) {
        issues.push(
            ErrorCode::InvalidValue,
            join(root, "runs"),
            format!("expected 1..={MAX_RUNS} runs, found {}", doc.runs),
        );
    }
    if let Some(m) = doc.margin {
        rate(m.get(), &join(root, "margin"), issues);
    }
    if doc.refund_after_days > 3650 {
        issues.push(
            ErrorCode::InvalidValue,
            join(root, "refund_after_days"),
            format!(
                "expected at most 3650 days, found {}",
                doc.refund_after_days
            ),
        );
    }
    let path = join(root, "populations");
    if doc.populations.is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            path.clone(),
            "a scenario needs at least one population",
        );
    }
    let total: u64 = doc.populations.iter().map(|p| u64::from(p.partners)).sum();
    if total > MAX_PARTNERS {
        issues.push(
            ErrorCode::LimitExceeded,
            path.clone(),
            format!("{total} partners: at most {MAX_PARTNERS} over all populations"),
        );
    }
    let mut pops = Vec::with_capacity(doc.populations.len());
    let mut first = 0u32;
    for (i, p) in doc.populations.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if let Some(pop) = population(p, &at, first, issues) {
            pops.push(pop);
        }
        first = first.saturating_add(p.partners);
    }
    let start = start?;
    if !issues.is_empty() {
        return None;
    }
    let zero = crate::time::day_start(chrono_tz::UTC, start);
    let mut months = Vec::with_capacity(doc.months as usize + 1);
    for m in 0..=doc.months {
        let Some(t) = crate::time::add_months_local(chrono_tz::UTC, zero, m as i32) else {
            issues.push(
                ErrorCode::LimitExceeded,
                join(root, "months"),
                "the horizon ends past year 9999",
            );
            return None;
        };
        months.push(t);
    }
    Some((months, pops))
}

fn population(p: &Population, at: &str, first: u32, issues: &mut Issues) -> Option<Pop> {
    let before = issues.0.len();
    if p.segment.is_empty() {
        issues.push(
            ErrorCode::InvalidValue,
            join(at, "segment"),
            "a segment name cannot be empty",
        );
    }
    if p.partners == 0 {
        issues.push(
            ErrorCode::InvalidValue,
            join(at, "partners"),
            "a population needs at least one partner",
        );
    }
    match (&p.order_value, &p.subscription) {
        (Some(_), Some(_)) => issues.push(
            ErrorCode::InvalidValue,
            at,
            "give either `order_value` (one-off orders) or `subscription`, not both: \
             model a mix as two populations of the same segment",
        ),
        (None, None) => issues.push(
            ErrorCode::MissingField,
            join(at, "order_value"),
            "give `order_value` (one-off orders) or `subscription`",
        ),
        _ => {}
    }
    let touches = sampler(
        &p.touches_per_month,
        &join(at, "touches_per_month"),
        Kind::Count,
        issues,
    );
    let conversion = sampler(
        &p.conversion_rate,
        &join(at, "conversion_rate"),
        Kind::Rate,
        issues,
    );
    let order = p
        .order_value
        .as_ref()
        .map(|d| sampler(d, &join(at, "order_value"), Kind::Money, issues));
    let price = p.subscription.as_ref().map(|s| {
        sampler(
            &s.price,
            &join(at, "subscription.price"),
            Kind::Money,
            issues,
        )
    });
    let churn = p.subscription.as_ref().map(|s| {
        sampler(
            &s.monthly_churn,
            &join(at, "subscription.monthly_churn"),
            Kind::Rate,
            issues,
        )
    });
    let refund = p
        .refund_rate
        .as_ref()
        .map(|d| sampler(d, &join(at, "refund_rate"), Kind::Rate, issues));
    if let (Some(t), Some(c)) = (&touches, &conversion)
        && t.mean() * c.mean() > MAX_CONVERSIONS_PER_MONTH
    {
        issues.push(
            ErrorCode::LimitExceeded,
            join(at, "touches_per_month"),
            format!(
                "a partner would expect more than {MAX_CONVERSIONS_PER_MONTH} conversions a \
                 month on average (mean touches × mean conversion rate)"
            ),
        );
    }
    if issues.0.len() > before {
        return None;
    }
    Some(Pop {
        segment: p.segment.clone(),
        first,
        partners: p.partners,
        touches: touches?,
        conversion: conversion?,
        order: order.flatten(),
        price: price.flatten(),
        churn: churn.flatten(),
        refund: refund.flatten(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A non-negative count (touches per month).
    Count,
    /// A probability in 0..1.
    Rate,
    /// A positive amount.
    Money,
}

impl Sampler {
    /// The mean (of the untruncated normal), for the sanity limit.
    fn mean(&self) -> f64 {
        match self {
            Sampler::Fixed(v) => *v,
            Sampler::Uniform(a, b) => (a + b) / 2.0,
            Sampler::Normal(n) => n.mean(),
            Sampler::Lognormal(median, sigma, _) => median * (sigma * sigma / 2.0).exp(),
            Sampler::Beta(a, b, _) => a / (a + b),
        }
    }
}

fn f(d: Dec) -> f64 {
    d.get().to_f64().unwrap_or(f64::NAN)
}

fn rate(d: Decimal, path: &str, issues: &mut Issues) {
    if d < Decimal::ZERO || d > Decimal::ONE {
        issues.push(
            ErrorCode::InvalidValue,
            path,
            format!("expected a rate within 0..1 (\"0.05\" for 5%), found {d}"),
        );
    }
}

fn sampler(d: &Dist, path: &str, kind: Kind, issues: &mut Issues) -> Option<Sampler> {
    let before = issues.0.len();
    let nonneg = |v: Dec, field: &str, issues: &mut Issues| {
        if v.get() < Decimal::ZERO {
            issues.push(
                ErrorCode::InvalidValue,
                join(path, field),
                format!("expected a value of at least 0, found {v}"),
            );
        }
    };
    let positive = |v: Dec, field: &str, issues: &mut Issues| {
        if v.get() <= Decimal::ZERO {
            issues.push(
                ErrorCode::InvalidValue,
                join(path, field),
                format!("expected a value above 0, found {v}"),
            );
        }
    };
    let in_range = |v: Dec, field: &str, issues: &mut Issues| match kind {
        Kind::Rate => rate(v.get(), &join(path, field), issues),
        Kind::Count => nonneg(v, field, issues),
        Kind::Money => positive(v, field, issues),
    };
    let s = match d {
        Dist::Fixed(v) => {
            in_range(*v, "fixed", issues);
            Sampler::Fixed(f(*v))
        }
        Dist::Uniform { min, max } => {
            in_range(*min, "uniform.min", issues);
            in_range(*max, "uniform.max", issues);
            if min.get() > max.get() {
                issues.push(
                    ErrorCode::InvalidValue,
                    join(path, "uniform"),
                    format!("min {min} is above max {max}"),
                );
            }
            Sampler::Uniform(f(*min), f(*max))
        }
        Dist::Normal { mean, sd } => {
            if kind == Kind::Rate {
                issues.push(
                    ErrorCode::InvalidValue,
                    join(path, "normal"),
                    "a rate takes `fixed`, `uniform` or `beta`: a normal draw can leave 0..1",
                );
            }
            nonneg(*sd, "normal.sd", issues);
            match rand_distr::Normal::new(f(*mean), f(*sd)) {
                Ok(n) => Sampler::Normal(n),
                Err(_) => return None,
            }
        }
        Dist::Lognormal { median, sigma } => {
            if kind == Kind::Rate {
                issues.push(
                    ErrorCode::InvalidValue,
                    join(path, "lognormal"),
                    "a rate takes `fixed`, `uniform` or `beta`: a lognormal draw can exceed 1",
                );
            }
            positive(*median, "lognormal.median", issues);
            nonneg(*sigma, "lognormal.sigma", issues);
            if sigma.get() > Decimal::from(5) {
                issues.push(
                    ErrorCode::InvalidValue,
                    join(path, "lognormal.sigma"),
                    format!("expected a sigma of at most 5, found {sigma}"),
                );
            }
            let (mu, s) = (f(*median).ln(), f(*sigma));
            if issues.0.len() > before {
                return None;
            }
            match rand_distr::LogNormal::new(mu, s) {
                Ok(l) => Sampler::Lognormal(f(*median), s, l),
                Err(_) => return None,
            }
        }
        Dist::Beta { alpha, beta } => {
            if kind != Kind::Rate {
                issues.push(
                    ErrorCode::InvalidValue,
                    join(path, "beta"),
                    "`beta` draws rates within 0..1; use it for conversion, churn and refund rates",
                );
            }
            positive(*alpha, "beta.alpha", issues);
            positive(*beta, "beta.beta", issues);
            if issues.0.len() > before {
                return None;
            }
            match rand_distr::Beta::new(f(*alpha), f(*beta)) {
                Ok(b) => Sampler::Beta(f(*alpha), f(*beta), b),
                Err(_) => return None,
            }
        }
    };
    (issues.0.len() == before).then_some(s)
}
