//! The plan sections that motivate partners beyond a flat rate: tiers (SPEC §5), volume
//! bands (§4 `tiered`), bonuses (§6), multi-level overrides (§7), referee rewards (§8) and
//! plan versions (§2.5). Types only; validation checks what types cannot say.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dec::Dec;
use crate::time::PeriodUnit;

/// Tier levels and how partners move between them (SPEC §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"levels": [{"id": "bronze"}, {"id": "silver", "requires": {"any": [{"metric": "referrals", "window": "period", "at_least": "10"}, {"metric": "revenue", "window": "period", "at_least": "5000"}]}}], "evaluation": "period_end", "period": "month", "demotion": {"after_periods": 2}}))]
pub struct Tiers {
    /// Levels, lowest first.
    #[schemars(example = serde_json::json!([{"id": "bronze"}, {"id": "silver", "requires": {"any": [{"metric": "referrals", "window": "period", "at_least": "10"}]}}]))]
    pub levels: Vec<Level>,
    /// The level every partner starts at (default: the first) and is never demoted below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"bronze")]
    pub initial: Option<String>,
    /// When requirements are checked.
    #[serde(default)]
    pub evaluation: TierEvaluation,
    /// The calendar period of `"period"` windows, period-end evaluation and demotion.
    #[serde(default = "default_tier_period")]
    pub period: PeriodUnit,
    /// When a partner that no longer qualifies moves down.
    #[serde(default)]
    pub demotion: Demotion,
}

fn default_tier_period() -> PeriodUnit {
    PeriodUnit::Month
}

/// One tier level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"id": "silver", "requires": {"any": [{"metric": "referrals", "window": "period", "at_least": "10"}]}}))]
pub struct Level {
    /// Level id, used by `percent_by_tier`, `when.tier` and partners' `tier`.
    #[schemars(example = &"silver")]
    pub id: String,
    /// What a partner must reach to hold the level; absent only on the first level, which
    /// every partner holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Requires>,
}

/// Requirements of a level: any one of them, or all of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(example = serde_json::json!({"any": [{"metric": "referrals", "window": "period", "at_least": "10"}, {"metric": "revenue", "window": "period", "at_least": "5000"}]}))]
pub enum Requires {
    /// At least one requirement holds.
    Any(Vec<Requirement>),
    /// Every requirement holds.
    All(Vec<Requirement>),
}

impl Requires {
    /// The requirements.
    pub fn list(&self) -> &[Requirement] {
        match self {
            Requires::Any(l) | Requires::All(l) => l,
        }
    }

    /// Any or all.
    pub fn mode(&self) -> RequiresMode {
        match self {
            Requires::Any(_) => RequiresMode::Any,
            Requires::All(_) => RequiresMode::All,
        }
    }
}

/// Whether any one or all requirements of a level must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequiresMode {
    /// At least one.
    Any,
    /// Every one.
    All,
}

impl RequiresMode {
    /// `"any"` or `"all"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequiresMode::Any => "any",
            RequiresMode::All => "all",
        }
    }
}

/// One requirement: a partner metric over a window reaches a value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"metric": "referrals", "window": "period", "at_least": "10"}))]
pub struct Requirement {
    /// The metric.
    pub metric: Metric,
    /// Over which time it is measured (default: the current calendar period).
    #[serde(default)]
    pub window: Window,
    /// The least value that meets the requirement (inclusive).
    #[schemars(example = &"10")]
    pub at_least: Dec,
}

/// A partner metric that tiers, bands and bonuses measure.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// New customers attributed to the partner (counted at their first conversion).
    Referrals,
    /// Attributed payments.
    Conversions,
    /// Credited base in plan currency, net of refunds.
    Revenue,
    /// Commission, true-up and override entries net of their reversals, in plan currency.
    Commission,
    /// Distinct attributed customers with a payment in the window.
    ActiveCustomers,
}

impl Metric {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Referrals => "referrals",
            Metric::Conversions => "conversions",
            Metric::Revenue => "revenue",
            Metric::Commission => "commission",
            Metric::ActiveCustomers => "active_customers",
        }
    }

    /// Whether the metric is an amount of money (plan currency) rather than a count.
    pub fn is_money(self) -> bool {
        matches!(self, Metric::Revenue | Metric::Commission)
    }
}

/// The time over which a requirement's metric is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The current calendar period of the tiers (`tiers.period`).
    #[default]
    Period,
    /// Everything so far.
    Lifetime,
    /// The last N calendar days (plan zone), up to the evaluation instant.
    RollingDays(u32),
}

/// When tier requirements are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierEvaluation {
    /// At the end of each period; a new tier applies from the next period.
    #[default]
    PeriodEnd,
    /// After every event; the qualifying event is paid at the old tier.
    Immediate,
}

impl TierEvaluation {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            TierEvaluation::PeriodEnd => "period_end",
            TierEvaluation::Immediate => "immediate",
        }
    }
}

/// When a partner that no longer meets its level's requirements moves down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Demotion {
    /// Never.
    Never,
    /// After the requirements failed this many periods in a row.
    AfterPeriods(u32),
}

impl Default for Demotion {
    fn default() -> Self {
        Demotion::AfterPeriods(1)
    }
}

/// A `tiered` reward: the rate depends on the partner's running metric (SPEC §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"metric": "revenue", "period": "month", "mode": "graduated", "bands": [{"from": "0", "percent": "10"}, {"from": "5000", "percent": "15"}]}))]
pub struct Bands {
    /// The running metric that selects the band.
    pub metric: Metric,
    /// Over which time the metric runs.
    pub period: BandPeriod,
    /// How a crossing is paid.
    pub mode: BandMode,
    /// Bands by increasing `from`; the first starts at 0.
    #[schemars(example = serde_json::json!([{"from": "0", "percent": "10"}, {"from": "5000", "percent": "15"}]))]
    pub bands: Vec<Band>,
}

/// Over which time a band metric runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BandPeriod {
    /// The calendar month (plan zone).
    Month,
    /// The calendar quarter.
    Quarter,
    /// The calendar year.
    Year,
    /// Never resets.
    Lifetime,
    /// The last N calendar days up to the event.
    RollingDays(u32),
}

/// How the band of a crossing is paid (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BandMode {
    /// The part of the event in each band is paid at that band's rate.
    Graduated,
    /// The whole event at the band the running total reaches including it.
    ThisEvent,
    /// The whole event at the band of the running total before it.
    NextEvent,
    /// Like `this_event`, and earlier events of the period are topped up by a true-up.
    Retroactive,
}

impl BandMode {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            BandMode::Graduated => "graduated",
            BandMode::ThisEvent => "this_event",
            BandMode::NextEvent => "next_event",
            BandMode::Retroactive => "retroactive",
        }
    }
}

/// One band: from this running total on (inclusive), this percent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"from": "5000", "percent": "15"}))]
pub struct Band {
    /// The running total at which the band starts (inclusive).
    #[schemars(example = &"5000")]
    pub from: Dec,
    /// The percent paid in the band.
    #[schemars(example = &"15")]
    pub percent: Dec,
}

/// A bonus (SPEC §6): a milestone paid once, or a period bonus paid at each period end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"id": "ten-sales", "kind": "milestone", "metric": "conversions", "at_least": "10", "amount": "100"}))]
pub struct Bonus {
    /// Unique id, written into bonus entries.
    #[schemars(example = &"ten-sales")]
    pub id: String,
    /// Milestone or period.
    pub kind: BonusKind,
    /// The metric measured.
    pub metric: Metric,
    /// For period bonuses: the calendar period measured and paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodUnit>,
    /// The least value that earns the bonus (inclusive).
    #[schemars(example = &"10")]
    pub at_least: Dec,
    /// A fixed bonus in plan currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"100")]
    pub amount: Option<Dec>,
    /// For period bonuses on a money metric: this percent of the period's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"2")]
    pub percent: Option<Dec>,
}

/// The kind of a bonus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusKind {
    /// Paid once per partner, at the event whose lifetime metric reaches `at_least`.
    Milestone,
    /// Paid at the end of every period whose metric reached `at_least`.
    Period,
}

impl BonusKind {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            BonusKind::Milestone => "milestone",
            BonusKind::Period => "period",
        }
    }
}

/// One level of multi-level overrides (SPEC §7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"level": 1, "percent": "10"}))]
pub struct Override {
    /// 1 = the partner's parent, 2 = the parent's parent, ...
    #[schemars(example = 1)]
    pub level: u32,
    /// The share of the child's commission the parent at this level earns.
    #[schemars(example = &"10")]
    pub percent: Dec,
}

/// A reward for the referred customer (SPEC §8), for the host to apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"kind": "credit", "value": "10", "on": "first_payment"}))]
pub struct RefereeReward {
    /// What the customer gets.
    pub kind: RefereeKind,
    /// Percent off, credit amount (plan currency) or number of free months.
    #[schemars(example = &"10")]
    pub value: Dec,
    /// Which event of the customer earns it.
    pub on: RefereeOn,
    /// For discounts: how many months the discount lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 3)]
    pub months: Option<u32>,
}

/// What a referred customer gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefereeKind {
    /// A percentage off, for `months` months.
    DiscountPercent,
    /// An account credit in plan currency.
    Credit,
    /// Free months of the subscription.
    FreeMonths,
}

impl RefereeKind {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefereeKind::DiscountPercent => "discount_percent",
            RefereeKind::Credit => "credit",
            RefereeKind::FreeMonths => "free_months",
        }
    }
}

/// The customer event that earns a referee reward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefereeOn {
    /// The customer's first signup not marked unqualified.
    Signup,
    /// The customer's first payment.
    FirstPayment,
}

impl RefereeOn {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefereeOn::Signup => "signup",
            RefereeOn::FirstPayment => "first_payment",
        }
    }
}

/// Which plan version a customer's payments use (SPEC §2.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grandfather {
    /// The version in force at each event.
    #[default]
    None,
    /// The version in force at the customer's first conversion.
    Customer,
}

/// How a reward is given to the partner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Money, paid out on statements.
    #[default]
    Cash,
    /// An account credit the host applies; never on a payout statement.
    Credit,
}

impl Instrument {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Instrument::Cash => "cash",
            Instrument::Credit => "credit",
        }
    }
}
