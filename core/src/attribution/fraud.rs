//! Fraud signals (SPEC §10): self-referrals, same-IP clusters, conversion velocity and
//! refund rates.
//!
//! Signals that concern touches are judged when the touch arrives, with what is known
//! then, so a decision never changes after the fact: a touch that a `block` signal catches
//! is kept in the customer's history, marked, and takes no part in attribution. Velocity
//! is judged at each attributed payment; the refund rate only in the report, as of
//! `as_of`. Every signal that fired is one flag per partner, kind and subject (the
//! customer of a self-referral, the IP of a cluster), listing its events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::input::{Partner, Touch};
use crate::ledger::FlagKind;
use crate::money::Rounding;
use crate::plan::{Fraud, FraudAction};
use crate::report::Flag;
use crate::time::{Instant, fmt_instant};

/// What the fraud signals have seen so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tracker {
    /// partner → IP → the distinct customers reached within `same_ip.max_customers`.
    ip_customers: BTreeMap<usize, BTreeMap<String, BTreeSet<String>>>,
    /// partner → instants of its attributed payments within the velocity window.
    recent: BTreeMap<usize, VecDeque<Instant>>,
    /// partner → the first refund or chargeback event of each of its refunded payments.
    refunds: BTreeMap<usize, Vec<Arc<str>>>,
    /// (partner, kind, subject) → what raised the flag.
    raised: BTreeMap<(usize, FlagKind, String), Evidence>,
}

/// What raised one flag.
#[derive(Clone, Debug, Default)]
struct Evidence {
    events: Vec<Arc<str>>,
    /// Same IP: the customers beyond the limit.
    customers: BTreeSet<String>,
    /// Velocity: the most payments seen within one window, and when.
    peak: usize,
    peak_at: Option<Instant>,
}

impl Tracker {
    fn raise(&mut self, partner: usize, kind: FlagKind, subject: &str) -> &mut Evidence {
        self.raised
            .entry((partner, kind, subject.to_owned()))
            .or_default()
    }

    /// Judges a touch of partner `pi` when it arrives; returns the signal that blocks it.
    pub(crate) fn touch(
        &mut self,
        fraud: &Fraud,
        partner: &Partner,
        pi: usize,
        t: &Touch,
        event: &Arc<str>,
    ) -> Option<FlagKind> {
        let mut blocked = None;
        if partner.own_customers.binary_search(&t.customer).is_ok() {
            self.raise(pi, FlagKind::SelfReferral, &t.customer)
                .events
                .push(event.clone());
            if fraud.self_referral == FraudAction::Block {
                blocked = Some(FlagKind::SelfReferral);
            }
        }
        if let (Some(cfg), Some(ip)) = (&fraud.same_ip, &t.ip) {
            let by_ip = self.ip_customers.entry(pi).or_default();
            let seen = match by_ip.get_mut(ip.as_str()) {
                Some(s) => s,
                None => by_ip.entry(ip.clone()).or_default(),
            };
            // The first `max_customers` customers of an IP are fine, and stay fine; a touch
            // that brings in one more is the signal.
            if !seen.contains(&t.customer) {
                if seen.len() < cfg.max_customers as usize {
                    seen.insert(t.customer.clone());
                } else {
                    let ev = self.raise(pi, FlagKind::SameIp, ip);
                    ev.events.push(event.clone());
                    ev.customers.insert(t.customer.clone());
                    if cfg.action == FraudAction::Block {
                        blocked = blocked.or(Some(FlagKind::SameIp));
                    }
                }
            }
        }
        blocked
    }

    /// Counts an attributed payment of partner `pi` for the velocity signal.
    pub(crate) fn conversion(&mut self, fraud: &Fraud, pi: usize, at: Instant, event: &Arc<str>) {
        let Some(v) = &fraud.velocity else { return };
        let window = chrono::Duration::hours(i64::from(v.per_hours));
        let q = self.recent.entry(pi).or_default();
        // Payments exactly `per_hours` apart are in different windows.
        while q.front().is_some_and(|&t| at - t >= window) {
            q.pop_front();
        }
        q.push_back(at);
        let n = q.len();
        if n > v.max_conversions as usize {
            let ev = self.raise(pi, FlagKind::Velocity, "");
            ev.events.push(event.clone());
            if n > ev.peak {
                ev.peak = n;
                ev.peak_at = Some(at);
            }
        }
    }

    /// Records the first refund or chargeback of a payment credited to `partners`.
    pub(crate) fn refunded(&mut self, fraud: &Fraud, partners: &[usize], event: &Arc<str>) {
        if fraud.refund_rate.is_none() {
            return;
        }
        for &p in partners {
            self.refunds.entry(p).or_default().push(event.clone());
        }
    }

    /// The flags as of the report, sorted by partner id, kind name and subject.
    /// `conversions(p)` is partner `p`'s count of attributed payments.
    pub(crate) fn flags(
        &self,
        fraud: &Fraud,
        partner_ids: &[Arc<str>],
        conversions: impl Fn(usize) -> u64,
    ) -> Vec<Flag> {
        let mut out: Vec<(String, Flag)> = Vec::new();
        for ((p, kind, subject), ev) in &self.raised {
            let n = ev.events.len();
            let detail = match kind {
                FlagKind::SelfReferral => match fraud.self_referral {
                    FraudAction::Block => format!(
                        "customer \"{subject}\" is one of the partner's own customers: {n} \
                         touch(es) blocked, they take no part in attribution"
                    ),
                    FraudAction::Flag => format!(
                        "customer \"{subject}\" is one of the partner's own customers: {n} \
                         touch(es) flagged; they still take part in attribution \
                         (self_referral: \"flag\")"
                    ),
                },
                FlagKind::SameIp => {
                    let max = fraud.same_ip.as_ref().map_or(0, |c| c.max_customers);
                    let customers: Vec<String> =
                        ev.customers.iter().map(|c| format!("\"{c}\"")).collect();
                    let effect = match fraud.same_ip.as_ref().map(|c| c.action) {
                        Some(FraudAction::Block) => "were blocked and take no part in attribution",
                        _ => "are flagged; they still take part in attribution",
                    };
                    format!(
                        "touches from ip \"{subject}\" reached {} distinct customers, more than \
                         max_customers {max}: the touches of {} {effect}",
                        max as usize + ev.customers.len(),
                        customers.join(", ")
                    )
                }
                FlagKind::Velocity => {
                    let (max, hours) = fraud
                        .velocity
                        .as_ref()
                        .map_or((0, 0), |v| (v.max_conversions, v.per_hours));
                    format!(
                        "{} attributed payments within {hours} hours (up to {}), more than \
                         max_conversions {max}; the events listed are the payments past the \
                         limit",
                        ev.peak,
                        ev.peak_at.map(fmt_instant).unwrap_or_default()
                    )
                }
                // Judged below, from the final counts.
                FlagKind::RefundRate => continue,
            };
            out.push((
                subject.clone(),
                Flag {
                    partner: partner_ids[*p].clone(),
                    kind: *kind,
                    events: ev.events.clone(),
                    detail,
                },
            ));
        }
        if let Some(r) = &fraud.refund_rate {
            for (&p, events) in &self.refunds {
                let n = conversions(p);
                let k = events.len() as u64;
                // k / n > max, compared exactly.
                if n < u64::from(r.min_payments)
                    || Decimal::from(k) <= r.max.get() * Decimal::from(n)
                {
                    continue;
                }
                let rate = Decimal::from(k)
                    .checked_div(Decimal::from(n))
                    .map(|x| Rounding::HalfEven.round(x, 4))
                    .unwrap_or_default();
                out.push((
                    String::new(),
                    Flag {
                        partner: partner_ids[p].clone(),
                        kind: FlagKind::RefundRate,
                        events: events.clone(),
                        detail: format!(
                            "{k} of {n} attributed payments were refunded or charged back: \
                             rate {} is above the maximum {} (judged from {} payments on)",
                            crate::money::fmt_amount(rate, 4),
                            r.max,
                            r.min_payments
                        ),
                    },
                ));
            }
        }
        out.sort_by(|a, b| {
            (&a.1.partner, a.1.kind.as_str(), &a.0).cmp(&(&b.1.partner, b.1.kind.as_str(), &b.0))
        });
        out.into_iter().map(|(_, f)| f).collect()
    }
}
