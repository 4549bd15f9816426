//! The plan document, field for field as SPEC §2.1 writes it.
//!
//! These types are the single source of truth for the plan's shape: serde reads them, the
//! JSON Schema in `docs/` is generated from them, and validation checks what types cannot say.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::incentives::{Bands, Bonus, Grandfather, Instrument, Override, RefereeReward, Tiers};
use crate::dec::Dec;
use crate::money::{Currency, Rounding};
use crate::time::PeriodUnit;

/// The schema tag every plan document carries.
pub const PLAN_SCHEMA: &str = "partnerkit/plan@1";

/// A commission plan: who is paid what, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerkit plan")]
pub struct PlanDoc {
    /// Always `"partnerkit/plan@1"`.
    #[schemars(example = &"partnerkit/plan@1")]
    pub schema: String,
    /// Plan id, written into every report.
    #[schemars(example = &"affiliates")]
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Affiliate program 2026")]
    pub name: Option<String>,
    /// Plan currency (ISO 4217): flat rewards, limits and thresholds are written in it.
    #[schemars(example = &"USD")]
    pub currency: Currency,
    /// IANA time zone in which calendar periods (months, quarters) are cut.
    #[serde(default = "default_timezone")]
    #[schemars(example = &"Europe/London")]
    pub timezone: String,
    /// How every ledger amount is rounded to its currency's minor unit.
    #[serde(default)]
    pub rounding: Rounding,
    /// What a percentage is taken of.
    #[serde(default)]
    pub commission_base: CommissionBase,
    /// Who gets credit for a customer.
    #[serde(default)]
    pub attribution: Attribution,
    /// Commission rules, in order.
    #[serde(default)]
    #[schemars(example = serde_json::json!([{"id": "first-payment", "when": {"payment_number": {"max": 1}}, "reward": {"percent": "30"}}, {"id": "recurring", "when": {"within_months": 12}, "reward": {"percent": "10"}}]))]
    pub rules: Vec<Rule>,
    /// How several matching rules combine.
    #[serde(default)]
    pub combine: Combine,
    /// Tier levels (SPEC §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Tiers>,
    /// Milestone and period bonuses (SPEC §6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = serde_json::json!([{"id": "first-sale", "kind": "milestone", "metric": "conversions", "at_least": "1", "amount": "25"}]))]
    pub bonuses: Vec<Bonus>,
    /// Multi-level overrides: a parent's share of its child's commission (SPEC §7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = serde_json::json!([{"level": 1, "percent": "10"}, {"level": 2, "percent": "5"}]))]
    pub overrides: Vec<Override>,
    /// Two-sided referee rewards (SPEC §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referee_reward: Option<RefereeReward>,
    /// Holds, clawbacks and negative balances.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Statements: period, threshold, due dates, payout currency.
    #[serde(default)]
    pub payouts: Payouts,
    /// Fraud signals (SPEC §10).
    #[serde(default)]
    pub fraud: Fraud,
    /// Which plan version a customer's payments use (SPEC §2.5).
    #[serde(default)]
    pub grandfather: Grandfather,
    /// Partner health metrics settings.
    #[serde(default)]
    pub health: Health,
}

fn default_timezone() -> String {
    "UTC".to_owned()
}

/// What a percentage reward is taken of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommissionBase {
    /// amount − tax − discount.
    #[default]
    Net,
    /// The whole amount.
    Gross,
}

/// Attribution settings (SPEC §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"model": "last_touch", "window_days": 60, "channels": {"coupon": {"window_days": 365}}, "lock": "customer"}))]
pub struct Attribution {
    /// How eligible touches are weighted.
    #[serde(default)]
    pub model: Model,
    /// How old a touch may be at conversion, in days (inclusive).
    #[serde(default = "default_window")]
    #[schemars(example = 60)]
    pub window_days: u32,
    /// Per-channel window and model overrides.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"coupon": {"window_days": 365}}))]
    pub channels: BTreeMap<Channel, ChannelSettings>,
    /// Channels from highest priority to lowest. A channel left out ranks below every
    /// listed one; left-out channels rank among themselves in the default order.
    #[serde(default = "default_priority")]
    pub priority: Vec<Channel>,
    /// How long an attribution holds.
    #[serde(default)]
    pub lock: Lock,
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            model: Model::default(),
            window_days: default_window(),
            channels: BTreeMap::new(),
            priority: default_priority(),
            lock: Lock::default(),
        }
    }
}

fn default_window() -> u32 {
    30
}

/// The default channel priority, highest first; channels a custom `priority` leaves out
/// rank below the listed ones in this order (docs/semantics.md).
pub(crate) const DEFAULT_PRIORITY: [Channel; 4] = [
    Channel::Coupon,
    Channel::DealRegistration,
    Channel::Link,
    Channel::Manual,
];

fn default_priority() -> Vec<Channel> {
    DEFAULT_PRIORITY.to_vec()
}

/// Per-channel overrides of the attribution settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"window_days": 365, "model": "first_touch"}))]
pub struct ChannelSettings {
    /// Window for touches of this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 365)]
    pub window_days: Option<u32>,
    /// Model when this channel decides the conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
}

/// How a touch reached the customer.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A tracked link (cookie).
    Link,
    /// A coupon code.
    Coupon,
    /// A registered deal.
    DealRegistration,
    /// Entered by hand.
    Manual,
}

impl Channel {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Link => "link",
            Channel::Coupon => "coupon",
            Channel::DealRegistration => "deal_registration",
            Channel::Manual => "manual",
        }
    }
}

/// An attribution model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// All credit to the latest eligible touch.
    #[default]
    LastTouch,
    /// All credit to the earliest eligible touch.
    FirstTouch,
    /// Equal credit to every eligible touch.
    Linear,
    /// Credit halves every `half_life_days` of touch age.
    TimeDecay {
        /// Half-life in days.
        #[schemars(example = 7)]
        half_life_days: u32,
    },
    /// Shares for the first and last touches, the rest split among the middle ones.
    PositionBased {
        /// Share of the first touch.
        #[schemars(example = &"0.4")]
        first: Dec,
        /// Share of the last touch.
        #[schemars(example = &"0.4")]
        last: Dec,
    },
}

impl Model {
    /// The canonical name.
    pub fn name(&self) -> &'static str {
        match self {
            Model::LastTouch => "last_touch",
            Model::FirstTouch => "first_touch",
            Model::Linear => "linear",
            Model::TimeDecay { .. } => "time_decay",
            Model::PositionBased { .. } => "position_based",
        }
    }
}

/// How long an attribution decided at the first conversion holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lock {
    /// For the customer's lifetime (recurring commissions).
    #[default]
    Customer,
    /// Every payment is attributed afresh.
    Conversion,
    /// Locked for N calendar months from the first conversion, then afresh.
    Months(u32),
}

/// Fraud signals (SPEC §10): what is flagged, and what is blocked from attribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"self_referral": "block", "same_ip": {"max_customers": 3, "action": "flag"}}))]
pub struct Fraud {
    /// Touches of a partner on one of its own customers: blocked (the default) or only
    /// flagged.
    #[serde(default = "block")]
    pub self_referral: FraudAction,
    /// One partner's touches from one IP reaching too many distinct customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_ip: Option<SameIp>,
    /// Too many conversions for one partner in a short time (flag only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<Velocity>,
    /// Too many of a partner's attributed payments refunded (flag only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_rate: Option<RefundRate>,
}

impl Default for Fraud {
    fn default() -> Self {
        Fraud {
            self_referral: FraudAction::Block,
            same_ip: None,
            velocity: None,
            refund_rate: None,
        }
    }
}

fn block() -> FraudAction {
    FraudAction::Block
}

/// What a fraud signal does to the touches it concerns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FraudAction {
    /// Report a flag; the touches still take part in attribution.
    #[default]
    Flag,
    /// Report a flag, and the touches take no part in attribution (nor earn per click).
    Block,
}

impl FraudAction {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            FraudAction::Flag => "flag",
            FraudAction::Block => "block",
        }
    }
}

/// The same-IP signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"max_customers": 3, "action": "block"}))]
pub struct SameIp {
    /// How many distinct customers one partner may reach from one IP; touches that bring in
    /// further customers are flagged or blocked.
    #[schemars(example = 3)]
    pub max_customers: u32,
    /// `flag` (the default) or `block`.
    #[serde(default)]
    pub action: FraudAction,
}

/// The velocity signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"max_conversions": 20, "per_hours": 24}))]
pub struct Velocity {
    /// Most attributed payments one partner may have within `per_hours`.
    #[schemars(example = 20)]
    pub max_conversions: u32,
    /// Length of the sliding window, in hours.
    #[schemars(example = 24)]
    pub per_hours: u32,
}

/// The refund-rate signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"max": "0.3", "min_payments": 10}))]
pub struct RefundRate {
    /// Highest acceptable share of a partner's attributed payments that were refunded or
    /// charged back (0 to 1).
    #[schemars(example = &"0.3")]
    pub max: Dec,
    /// Attributed payments a partner needs before its rate is judged.
    #[serde(default = "default_min_payments")]
    #[schemars(example = 10)]
    pub min_payments: u32,
}

fn default_min_payments() -> u32 {
    10
}

/// A commission rule: when it applies, what it pays, within which limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"id": "first-year", "when": {"within_months": 12}, "reward": {"percent": "20"}, "limits": {"max_per_customer": "500"}}))]
pub struct Rule {
    /// Unique id, written into entries and their ids.
    #[schemars(example = &"first-year")]
    pub id: String,
    /// Conditions, all of which must hold.
    #[serde(default)]
    pub when: When,
    /// What the rule pays.
    pub reward: Reward,
    /// Floors and caps.
    #[serde(default)]
    pub limits: Limits,
}

/// The event kind a rule rewards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleEvent {
    /// A payment (the default).
    #[default]
    Payment,
    /// A signup (lead).
    Signup,
    /// A touch (pay per click).
    Touch,
}

impl RuleEvent {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleEvent::Payment => "payment",
            RuleEvent::Signup => "signup",
            RuleEvent::Touch => "touch",
        }
    }
}

/// Conditions of a rule (SPEC §4); absent ones always hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"segment": ["agency"], "within_months": 12}))]
pub struct When {
    /// The event kind rewarded.
    #[serde(default)]
    pub event: RuleEvent,
    /// Only these partners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["ana"]))]
    pub partner: Option<Vec<String>>,
    /// Only partners of these segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["agency"]))]
    pub segment: Option<Vec<String>>,
    /// Only partners in these tiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["gold"]))]
    pub tier: Option<Vec<String>>,
    /// Only payments for these products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["pro-annual"]))]
    pub product: Option<Vec<String>>,
    /// Only when the partner's deciding touch came through these channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Vec<Channel>>,
    /// Only when the partner's deciding touch carried one of these campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["black-friday"]))]
    pub campaign: Option<Vec<String>>,
    /// Only the customer's n-th payments, inclusive bounds (1 = first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_number: Option<Range>,
    /// Only payments strictly before the customer's first payment + N calendar months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 12)]
    pub within_months: Option<u32>,
    /// Only events at or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"2026-11-27T00:00:00Z")]
    pub from: Option<String>,
    /// Only events strictly before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"2026-12-01T00:00:00Z")]
    pub until: Option<String>,
    /// Only payments whose amount is at least this, in plan currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"100")]
    pub min_amount: Option<Dec>,
    /// Only payments in this currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"EUR")]
    pub currency: Option<Currency>,
    /// Only partners whose attributes include all of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!({"region": "emea"}))]
    pub attributes: Option<BTreeMap<String, String>>,
}

/// Inclusive integer bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"min": 2, "max": 12}))]
pub struct Range {
    /// Lowest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 2)]
    pub min: Option<u32>,
    /// Highest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 12)]
    pub max: Option<u32>,
}

/// What a rule pays: exactly one kind of reward, given as cash (default) or credit.
///
/// Written `{"percent": "20"}`, `{"flat": "50", "instrument": "credit"}`, ...: the kind's
/// key and an optional `instrument` side by side (SPEC §4, §8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RewardDoc", into = "RewardDoc")]
pub struct Reward {
    /// What is paid.
    pub kind: RewardKind,
    /// Cash, or an account credit (customer-refers-customer programs).
    pub instrument: Instrument,
}

impl Reward {
    /// A cash reward of `kind`.
    pub fn cash(kind: RewardKind) -> Reward {
        Reward {
            kind,
            instrument: Instrument::Cash,
        }
    }
}

/// The kinds of reward.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardKind {
    /// Percent of the partner's credited base.
    Percent(Dec),
    /// A fixed amount in plan currency per event.
    Flat(Dec),
    /// Percent depending on the partner's tier in force (SPEC §5).
    PercentByTier(BTreeMap<String, Dec>),
    /// Percent depending on the partner's running volume (SPEC §4 bands).
    Tiered(Bands),
}

impl RewardKind {
    /// The key the kind is written with.
    pub fn key(&self) -> &'static str {
        match self {
            RewardKind::Percent(_) => "percent",
            RewardKind::Flat(_) => "flat",
            RewardKind::PercentByTier(_) => "percent_by_tier",
            RewardKind::Tiered(_) => "tiered",
        }
    }
}

/// The written form of a [`Reward`]: every kind's key optional, so that "none" and
/// "several" get a message that says so instead of serde's untagged-enum shrug.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RewardDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<Dec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flat: Option<Dec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent_by_tier: Option<BTreeMap<String, Dec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tiered: Option<Bands>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instrument: Option<Instrument>,
}

impl TryFrom<RewardDoc> for Reward {
    type Error = String;

    fn try_from(d: RewardDoc) -> Result<Reward, String> {
        let mut kinds = Vec::new();
        if let Some(p) = d.percent {
            kinds.push(RewardKind::Percent(p));
        }
        if let Some(f) = d.flat {
            kinds.push(RewardKind::Flat(f));
        }
        if let Some(t) = d.percent_by_tier {
            kinds.push(RewardKind::PercentByTier(t));
        }
        if let Some(b) = d.tiered {
            kinds.push(RewardKind::Tiered(b));
        }
        if kinds.len() != 1 {
            let found: Vec<&str> = kinds.iter().map(RewardKind::key).collect();
            return Err(format!(
                "a reward is exactly one of `percent`, `flat`, `percent_by_tier`, `tiered` \
                 (with an optional `instrument`); found {}",
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(" and ")
                }
            ));
        }
        Ok(Reward {
            kind: kinds.remove(0),
            instrument: d.instrument.unwrap_or_default(),
        })
    }
}

impl From<Reward> for RewardDoc {
    fn from(r: Reward) -> RewardDoc {
        let mut d = RewardDoc {
            instrument: (r.instrument != Instrument::Cash).then_some(r.instrument),
            ..RewardDoc::default()
        };
        match r.kind {
            RewardKind::Percent(p) => d.percent = Some(p),
            RewardKind::Flat(f) => d.flat = Some(f),
            RewardKind::PercentByTier(t) => d.percent_by_tier = Some(t),
            RewardKind::Tiered(b) => d.tiered = Some(b),
        }
        d
    }
}

impl JsonSchema for Reward {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Reward".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The kinds as serde writes them (one key each), each allowing `instrument` too.
        let mut schema = RewardKind::json_schema(g);
        let instrument = g.subschema_for::<Instrument>();
        if let Some(one_of) = schema
            .as_object_mut()
            .and_then(|o| o.get_mut("oneOf"))
            .and_then(|v| v.as_array_mut())
        {
            for variant in one_of {
                if let Some(props) = variant
                    .get_mut("properties")
                    .and_then(|p| p.as_object_mut())
                {
                    props.insert("instrument".into(), instrument.clone().into());
                }
            }
        }
        // An example of each kind, on the kind's alternative (not on its value's schema, which
        // stays a plain reference so that generated types keep their names): the plan reference
        // shows it for the kind's field. `tiered` refers to `Bands`, which has its own.
        let examples = [
            serde_json::json!({"percent": "20"}),
            serde_json::json!({"flat": "50"}),
            serde_json::json!({"percent_by_tier": {"bronze": "10", "silver": "15", "gold": "20"}}),
        ];
        if let Some(one_of) = schema
            .as_object_mut()
            .and_then(|o| o.get_mut("oneOf"))
            .and_then(|v| v.as_array_mut())
        {
            for (variant, example) in one_of.iter_mut().zip(examples) {
                variant["examples"] = serde_json::json!([example]);
            }
        }
        schema.insert(
            "description".into(),
            "What a rule pays: exactly one kind, and optionally `instrument`.".into(),
        );
        schema.insert("examples".into(), serde_json::json!([{"percent": "20"}]));
        schema
    }
}

/// Floors and caps of one rule, in plan currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"max_per_customer": "500", "max_per_period": {"period": "month", "amount": "1000"}}))]
pub struct Limits {
    /// Most one event can earn from this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"100")]
    pub max_per_event: Option<Dec>,
    /// Least one matching event earns from this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"1")]
    pub min_per_event: Option<Dec>,
    /// Most a partner can earn from one customer under this rule, net of reversals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"500")]
    pub max_per_customer: Option<Dec>,
    /// Most a partner can earn under this rule in one calendar period, net of reversals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_period: Option<PeriodCap>,
}

/// A cap per calendar period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"period": "month", "amount": "1000"}))]
pub struct PeriodCap {
    /// The period.
    pub period: PeriodUnit,
    /// The cap in plan currency.
    #[schemars(example = &"1000")]
    pub amount: Dec,
}

/// How several matching rules combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The first matching rule pays.
    #[default]
    FirstMatch,
    /// Every matching rule pays.
    Sum,
    /// The matching rule with the largest amount (after limits) pays.
    Max,
}

impl Combine {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Combine::FirstMatch => "first_match",
            Combine::Sum => "sum",
            Combine::Max => "max",
        }
    }
}

/// Holds and reversals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"hold_days": 60, "clawback": {"within_days": 90}, "negative_balance": "carry"}))]
pub struct Lifecycle {
    /// Days an entry stays pending before it is available.
    #[serde(default = "default_hold")]
    #[schemars(example = 60)]
    pub hold_days: u32,
    /// Whether money already available is taken back on refunds.
    #[serde(default)]
    pub clawback: Clawback,
    /// What happens to a negative closing balance.
    #[serde(default)]
    pub negative_balance: NegativeBalance,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            hold_days: default_hold(),
            clawback: Clawback::default(),
            negative_balance: NegativeBalance::default(),
        }
    }
}

fn default_hold() -> u32 {
    30
}

/// Clawback policy for refunds of entries that are no longer pending.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clawback {
    /// Always claw back.
    #[default]
    Always,
    /// Never claw back available or paid money.
    Never,
    /// Claw back when the refund comes within N days of the original entry.
    WithinDays(u32),
}

/// What a negative closing balance does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NegativeBalance {
    /// Carried into the next statement.
    #[default]
    Carry,
    /// Shown, then reset to zero.
    WriteOff,
}

/// Statement settings (SPEC §9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"period": "month", "threshold": "50", "net_days": 15, "currency": "partner", "fx_date": "earned"}))]
pub struct Payouts {
    /// Statement period.
    #[serde(default = "default_payout_period")]
    pub period: PeriodUnit,
    /// Minimum closing balance paid out, in plan currency.
    #[serde(default)]
    #[schemars(example = &"50")]
    pub threshold: Dec,
    /// Days after the period's last day that the payout is due.
    #[serde(default)]
    #[schemars(example = 15)]
    pub net_days: u32,
    /// Which currency statements are in.
    #[serde(default)]
    pub currency: PayoutCurrency,
    /// Which date's rate converts an entry.
    #[serde(default)]
    pub fx_date: FxDate,
}

impl Default for Payouts {
    fn default() -> Self {
        Payouts {
            period: default_payout_period(),
            threshold: Dec::default(),
            net_days: 0,
            currency: PayoutCurrency::default(),
            fx_date: FxDate::default(),
        }
    }
}

fn default_payout_period() -> PeriodUnit {
    PeriodUnit::Month
}

/// Statement currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutCurrency {
    /// The partner's `payout_currency` (plan currency when unset).
    #[default]
    Partner,
    /// Always the plan currency.
    Plan,
}

/// Which date's rate converts an entry into the statement currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FxDate {
    /// The date the entry was earned, fixed forever.
    #[default]
    Earned,
    /// The date the entry became available.
    Available,
    /// The statement period's last day.
    Statement,
}

impl FxDate {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            FxDate::Earned => "earned",
            FxDate::Available => "available",
            FxDate::Statement => "statement",
        }
    }
}

/// Partner health metric settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"activation_days": 30, "inactive_days": 90}))]
pub struct Health {
    /// A partner is activated by a first referral within this many days of joining.
    #[serde(default = "default_activation")]
    #[schemars(example = 30)]
    pub activation_days: u32,
    /// A partner is inactive with no touch and no conversion in this many days before as_of.
    #[serde(default = "default_inactive")]
    #[schemars(example = 90)]
    pub inactive_days: u32,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            activation_days: default_activation(),
            inactive_days: default_inactive(),
        }
    }
}

fn default_activation() -> u32 {
    30
}

fn default_inactive() -> u32 {
    60
}
