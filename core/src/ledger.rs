//! Ledger entries and their explanations.
//!
//! An entry is written once, when its cause is applied, and never changes: a refund adds a
//! `reversal` entry rather than editing the original, so the ledger reads like a bank
//! statement. Explanations are kept as typed data and rendered to JSON only when a report
//! is written, so evaluating a million payments does not build a million JSON trees.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::fx::AppliedRate;
use crate::plan::{BandMode, BonusKind, Channel, Combine, Instrument, Metric, Model};
use crate::time::{Instant, Period};

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    /// Earned by a rule on an attributed event.
    Commission,
    /// A parent's share of a child's commission (SPEC §7).
    Override,
    /// A milestone or period bonus (SPEC §6).
    Bonus,
    /// A retroactive band top-up (SPEC §4).
    TrueUp,
    /// Takes back (part of) an earlier entry after a refund or chargeback.
    Reversal,
    /// A manual bonus or penalty.
    Adjustment,
}

impl EntryKind {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Commission => "commission",
            EntryKind::Override => "override",
            EntryKind::Bonus => "bonus",
            EntryKind::TrueUp => "true_up",
            EntryKind::Reversal => "reversal",
            EntryKind::Adjustment => "adjustment",
        }
    }
}

/// An entry's fields as the columns of a ledger table (Arrow, a DataFrame), in the order of
/// its canonical JSON; the explanation, a tree, is a column only on request.
pub const ENTRY_COLUMNS: [&str; 11] = [
    "id",
    "partner",
    "kind",
    "event",
    "customer",
    "rule",
    "amount",
    "currency",
    "status",
    "earned_at",
    "available_at",
];

/// One ledger entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Derived from the entry's causes: `kind:event:rule:partner` and the like.
    pub id: Arc<str>,
    /// Who earns (or loses) it.
    pub partner: Arc<str>,
    /// What it is.
    pub kind: EntryKind,
    /// The event that caused it.
    pub event: Arc<str>,
    /// The customer concerned, if any.
    pub customer: Option<Arc<str>>,
    /// The rule that priced it, if any.
    pub rule: Option<Arc<str>>,
    /// Signed amount, rounded to the currency's minor unit.
    pub amount: Decimal,
    /// Currency of the amount (the event's currency).
    pub currency: crate::money::Currency,
    /// When it was earned (the cause's instant).
    pub earned_at: Instant,
    /// When it stops being pending.
    pub available_at: Instant,
    /// The instant whose date fixes an `fx_date: "earned"` conversion: the entry's own
    /// `earned_at`, or for a reversal the original's, so that a full refund nets to zero in
    /// the payout currency too.
    pub fx_anchor: Instant,
    /// Why it exists.
    pub explain: Explain,
}

/// Why an entry exists, with every number needed to recompute it.
///
/// The explanations are shared (`Arc`), not boxed: an incremental engine hands each entry it
/// writes to its caller and keeps it in its ledger too, and a shared explanation makes that
/// copy a few reference counts rather than a deep copy of every rule check.
#[derive(Clone, Debug, PartialEq)]
pub enum Explain {
    /// A rule priced an attributed event.
    Commission(Arc<CommissionWhy>),
    /// A refund or chargeback took back part of an entry.
    Reversal(Arc<ReversalWhy>),
    /// A manual adjustment.
    Adjustment {
        /// The reason given with the event.
        reason: String,
    },
    /// A parent's share of a child's commission (SPEC §7).
    Override(Arc<OverrideWhy>),
    /// A retroactive band crossing topped earlier events up (SPEC §4).
    TrueUp(Arc<TrueUpWhy>),
    /// A milestone or period bonus (SPEC §6).
    Bonus(Arc<BonusWhy>),
}

impl Entry {
    /// The entry's canonical JSON with its `status`: the same bytes as its item in a
    /// report's `entries`. `rounding` and `plan_currency` are the plan's (the explanation
    /// shows them); an incremental engine's entries keep them beside the entry.
    pub fn to_canonical_json(
        &self,
        status: crate::report::Status,
        rounding: crate::money::Rounding,
        plan_currency: crate::money::Currency,
    ) -> String {
        crate::canonical::entry_json(self, status, rounding, plan_currency)
    }

    /// The canonical JSON of the entry's `explain` object alone (what
    /// [`Entry::to_canonical_json`] writes under `"explain"`), for a binding that types the
    /// other fields itself and builds the explanation only when it is read.
    pub fn explain_canonical_json(
        &self,
        rounding: crate::money::Rounding,
        plan_currency: crate::money::Currency,
    ) -> String {
        crate::canonical::explain_json(self, rounding, plan_currency)
    }

    /// The entry with its `status` as serde data: [`Entry::to_canonical_json`] is this
    /// written by `serde_json`. For a binding that builds its host's values through its own
    /// `Serializer` rather than parsing the JSON text.
    pub fn canonical_view(
        &self,
        status: crate::report::Status,
        rounding: crate::money::Rounding,
        plan_currency: crate::money::Currency,
    ) -> impl serde::Serialize + '_ {
        crate::canonical::entry_view(self, status, rounding, plan_currency)
    }

    /// The entry's `explain` object as serde data: [`Entry::explain_canonical_json`] is this
    /// written by `serde_json`.
    pub fn explain_view(
        &self,
        rounding: crate::money::Rounding,
        plan_currency: crate::money::Currency,
    ) -> impl serde::Serialize + '_ {
        crate::canonical::explain_view(self, rounding, plan_currency)
    }

    /// Cash, or an account credit the host applies (never on a payout statement).
    pub fn instrument(&self) -> Instrument {
        match &self.explain {
            Explain::Commission(w) => w.instrument,
            Explain::Reversal(w) => w.instrument,
            Explain::TrueUp(w) => w.instrument,
            Explain::Adjustment { .. } | Explain::Override(_) | Explain::Bonus(_) => {
                Instrument::Cash
            }
        }
    }
}

/// How a commission was computed.
#[derive(Clone, Debug, PartialEq)]
pub struct CommissionWhy {
    /// Who got credit for the customer, and why.
    pub attribution: Arc<AttributionWhy>,
    /// This partner's weight in the attribution.
    pub weight: Decimal,
    /// The payment's base, for payment rules.
    pub base: Option<BaseWhy>,
    /// The customer's payment number (1 = first), for payment rules.
    pub payment_number: Option<u32>,
    /// Every rule considered, in plan order (inline for the common one-rule plan: no
    /// allocation per entry).
    pub rules: smallvec::SmallVec<[RuleCheck; 1]>,
    /// The combine policy that chose the paying rule(s).
    pub combine: Combine,
    /// The reward of the paying rule.
    pub reward: RewardWhy,
    /// The amount before rounding.
    pub computed: Decimal,
    /// The amount after the one rounding.
    pub rounded: Decimal,
    /// Floors and caps applied, in order.
    pub limits: Vec<LimitNote>,
    /// The partner's tier in force at the event, when the plan has tiers.
    pub tier: Option<Arc<str>>,
    /// Cash or credit, as the paying rule says.
    pub instrument: Instrument,
    /// The plan version that priced the entry, when the plan has a history.
    pub version: Option<VersionWhy>,
}

/// Which plan version priced an entry (SPEC §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionWhy {
    /// Its position in `plan_history`.
    pub index: usize,
    /// When it took effect.
    pub effective_from: Instant,
    /// True when it is not the version in force at the event: the customer keeps the
    /// version of its first conversion (`grandfather: "customer"`).
    pub grandfathered: bool,
}

/// A payment's commission base.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseWhy {
    /// `net` or `gross`.
    pub basis: crate::plan::CommissionBase,
    /// Payment amount.
    pub amount: Decimal,
    /// Tax in it.
    pub tax: Decimal,
    /// Discount in it.
    pub discount: Decimal,
    /// The base of the whole payment.
    pub base: Decimal,
    /// This partner's share of it (largest-remainder split by weight).
    pub credited: Decimal,
}

/// Whether one rule matched, and if not, the first condition that failed.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleCheck {
    /// Rule id.
    pub rule: Arc<str>,
    /// Whether every condition held.
    pub matched: bool,
    /// The first failing condition, in words.
    pub because: Option<String>,
    /// Under `combine: "max"`, the amount this rule would pay after limits.
    pub amount: Option<Decimal>,
    /// Whether this rule is the one that paid this entry.
    pub paid: bool,
}

/// The reward that priced an entry.
#[derive(Clone, Debug, PartialEq)]
pub enum RewardWhy {
    /// `percent` of the credited base.
    Percent {
        /// The percentage.
        percent: Decimal,
        /// What it was taken of: the partner's credited base, or the whole base when the
        /// event is split among several partners.
        of: Decimal,
        /// When several partners share the event: the rule's amount on the whole base,
        /// rounded once, and this partner's part of it (largest remainder by weight).
        split: Option<Split>,
    },
    /// A flat amount in plan currency.
    Flat {
        /// The amount in plan currency.
        flat: Decimal,
        /// Plan currency.
        plan_currency: crate::money::Currency,
        /// The flat converted to the event currency, with the rate, when they differ.
        converted: Option<(Decimal, AppliedRate)>,
        /// The partner's part when several partners share the event (largest remainder).
        share: Decimal,
    },
    /// `percent_by_tier`: the percent of the tier in force.
    PercentByTier {
        /// The tier in force at the event.
        tier: Arc<str>,
        /// Its percent.
        percent: Decimal,
        /// What it was taken of.
        of: Decimal,
    },
    /// `tiered`: band rates on the partner's running metric.
    Tiered {
        /// The bands used and why.
        band: Box<BandWhy>,
        /// The credited base they were applied to.
        of: Decimal,
    },
}

/// How a `tiered` reward chose its rate(s).
#[derive(Clone, Debug, PartialEq)]
pub struct BandWhy {
    /// The running metric.
    pub metric: Metric,
    /// How a crossing is paid.
    pub mode: BandMode,
    /// The window the metric runs over: a period label, `lifetime` or `rolling N days`.
    pub window: String,
    /// The window's first instant (none for lifetime).
    pub window_start: Option<Instant>,
    /// The running total before this event.
    pub before: Decimal,
    /// The running total including this event.
    pub after: Decimal,
    /// The base paid in each band (one part unless graduated), in the event currency.
    pub parts: Vec<BandPart>,
}

/// The part of a base paid at one band.
#[derive(Clone, Debug, PartialEq)]
pub struct BandPart {
    /// The band's start.
    pub from: Decimal,
    /// The band's percent.
    pub percent: Decimal,
    /// The base paid at it.
    pub base: Decimal,
}

/// A parent's override: its share of one child entry.
#[derive(Clone, Debug, PartialEq)]
pub struct OverrideWhy {
    /// 1 = parent, 2 = grandparent, ...
    pub level: u32,
    /// The share.
    pub percent: Decimal,
    /// The child partner.
    pub child: Arc<str>,
    /// The child's entry.
    pub child_entry: Arc<str>,
    /// The child entry's amount.
    pub of: Decimal,
    /// Before rounding.
    pub computed: Decimal,
    /// Levels between the child and this parent that were skipped (inactive parents).
    pub skipped: Vec<(u32, Arc<str>, crate::input::PartnerStatus)>,
}

/// A retroactive true-up: every earlier event of the window topped up to the new rate.
#[derive(Clone, Debug, PartialEq)]
pub struct TrueUpWhy {
    /// The crossing that caused it.
    pub band: Box<BandWhy>,
    /// The new rate.
    pub percent: Decimal,
    /// The events topped up, in order.
    pub events: Vec<TrueUpLine>,
    /// Cash or credit, as the rule says.
    pub instrument: Instrument,
}

/// One earlier event in a true-up.
#[derive(Clone, Debug, PartialEq)]
pub struct TrueUpLine {
    /// The payment event.
    pub event: Arc<str>,
    /// Its credited base.
    pub base: Decimal,
    /// Its base net of refunds so far.
    pub net_base: Decimal,
    /// What it had been paid, net of reversals, before this true-up.
    pub paid: Decimal,
    /// What it earns at the new rate: round(net base × percent).
    pub target: Decimal,
    /// target − paid.
    pub top_up: Decimal,
}

/// A bonus: which threshold was reached and what it pays.
#[derive(Clone, Debug, PartialEq)]
pub struct BonusWhy {
    /// Milestone or period.
    pub kind: BonusKind,
    /// The metric measured.
    pub metric: Metric,
    /// `lifetime` for milestones, the period label for period bonuses.
    pub window: String,
    /// The threshold.
    pub at_least: Decimal,
    /// The metric's value that reached it.
    pub value: Decimal,
    /// A fixed amount, or...
    pub amount: Option<Decimal>,
    /// ...a percent of the value.
    pub percent: Option<Decimal>,
    /// Before rounding.
    pub computed: Decimal,
}

/// How an override's reversal follows its child entry.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowWhy {
    /// The child entry.
    pub child_entry: Arc<str>,
    /// The override's share.
    pub percent: Decimal,
    /// The child entry's amount net of its reversals, after this refund.
    pub child_net: Decimal,
}

/// A reward computed on a whole event and split among the partners credited for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    /// The reward on the whole event, rounded once.
    pub whole: Decimal,
    /// This partner's part of it.
    pub share: Decimal,
}

/// A floor or cap that changed an amount.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitNote {
    /// `min_per_event`, `max_per_event`, `max_per_customer` or `max_per_period`.
    pub limit: &'static str,
    /// The limit in the entry's currency.
    pub value: Decimal,
    /// What had been earned under it before (caps over several events).
    pub used: Option<Decimal>,
    /// The period of a `max_per_period` cap.
    pub period: Option<Period>,
    /// The amount before this limit.
    pub before: Decimal,
    /// The amount after it.
    pub after: Decimal,
}

/// Who got credit for a customer, decided at the customer's first conversion.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributionWhy {
    /// Model used.
    pub model: Model,
    /// The lock in force: `customer`, `conversion`, `months`, `assign` (a manual
    /// assignment) or `touch` (pay per click).
    pub lock: &'static str,
    /// Under a `months` lock, when the attribution of the first conversion stops holding.
    pub locked_until: Option<Instant>,
    /// For a manual assignment, the reason given with it.
    pub reason: Option<String>,
    /// The event that decided it (the first conversion), or the touch for pay-per-click.
    pub decided_by: Arc<str>,
    /// When it was decided.
    pub decided_at: Instant,
    /// Every touch of the customer up to then, with what became of it.
    pub touches: Vec<TouchNote>,
    /// Weights per partner (summed over the partner's touches), sorted by partner id.
    pub weights: Vec<(Arc<str>, Decimal)>,
}

/// One touch considered for attribution.
#[derive(Clone, Debug, PartialEq)]
pub struct TouchNote {
    /// The touch event id.
    pub event: Arc<str>,
    /// Its partner.
    pub partner: Arc<str>,
    /// Its channel.
    pub channel: Channel,
    /// When it happened.
    pub at: Instant,
    /// Its weight (0 for a touch the model did not credit).
    pub weight: Decimal,
    /// Why it took no part, if it did not.
    pub excluded: Option<Exclusion>,
}

/// Why a touch took no part in attribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// Older than the window at conversion time.
    OutsideWindow {
        /// The window that applied.
        window_days: u32,
    },
    /// A touch of a higher-priority channel was eligible.
    LowerPriority {
        /// The channel that won.
        beaten_by: Channel,
    },
    /// The partner was not active at conversion time.
    InactivePartner {
        /// Its status then.
        status: &'static str,
    },
    /// The customer is one the partner controls itself.
    SelfReferral,
    /// A fraud signal blocked the touch (see the report's flags).
    Fraud {
        /// The signal.
        kind: FlagKind,
    },
    /// The model gave all credit to other touches.
    NotSelected,
}

/// A fraud signal (SPEC §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagKind {
    /// A partner touched one of its own customers.
    SelfReferral,
    /// One partner's touches from one IP reached too many customers.
    SameIp,
    /// Too many conversions for one partner in a short time.
    Velocity,
    /// Too many of a partner's attributed payments were refunded.
    RefundRate,
}

impl FlagKind {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::SelfReferral => "self_referral",
            FlagKind::SameIp => "same_ip",
            FlagKind::Velocity => "velocity",
            FlagKind::RefundRate => "refund_rate",
        }
    }
}

/// Why and how much of an entry was reversed.
#[derive(Clone, Debug, PartialEq)]
pub struct ReversalWhy {
    /// The entry reversed.
    pub reverses: Arc<str>,
    /// Its amount.
    pub original: Decimal,
    /// `refund` or `chargeback`.
    pub cause: &'static str,
    /// The payment refunded.
    pub payment: Arc<str>,
    /// The payment's amount.
    pub payment_amount: Decimal,
    /// Refunded before this event.
    pub refunded_before: Decimal,
    /// Refunded by this event.
    pub refunded_now: Decimal,
    /// Reversed (or waived) before this event: round(original × refunded_before / payment).
    pub reversed_before: Decimal,
    /// round(original × (refunded_before + refunded_now) / payment), or the whole original
    /// when the payment is now fully refunded.
    pub reversed_total: Decimal,
    /// `cancel` (the original was pending) or `clawback` (it was available or paid).
    pub effect: &'static str,
    /// Cash or credit, as the original.
    pub instrument: Instrument,
    /// For an override: it follows its child entry's net amount, not the payment fraction.
    pub follows: Option<Box<FollowWhy>>,
}
