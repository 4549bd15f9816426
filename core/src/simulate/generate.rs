//! Event generation: what each partner's audience does in one run.
//!
//! Every random draw comes from a counter-based generator (ChaCha8) keyed by the seed and
//! addressed by `(run, partner, stream)`: a partner's draws do not depend on which thread
//! generates it, in which order, or on any other partner, so the same seed gives the same
//! events on any number of threads. Two streams per partner keep the parts independent:
//! its parameters then its customers (conversions, amounts, lifetimes, refunds), and its
//! other touches, so the fast path can skip the touches it does not need without changing a
//! draw. (The parameters take a handful of words: a stream of their own would cost a
//! ChaCha8 block refill and a key setup per partner for nothing.)
//!
//! Floats are used for the statistics only: every amount becomes an exact count of minor
//! units (at least one) before any plan sees it.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Poisson};
use rust_decimal::Decimal;

use super::scenario::{Sampler, Scenario};
use crate::input::{Body, Event, Partner, Payment, Touch};
use crate::plan::Channel;
use crate::time::Instant;

const CUSTOMERS: u64 = 0;
const TOUCHES: u64 = 1;

/// The ChaCha8 key for `seed` (SplitMix64 spreads the 64 bits over the 256-bit key).
pub(crate) fn key(seed: u64) -> [u8; 32] {
    let mut x = seed;
    let mut out = [0u8; 32];
    for chunk in out.chunks_exact_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// The generator of `(run, partner, stream)`: a stream of ChaCha8 under the seed's key.
fn rng(key: &[u8; 32], run: u32, partner: u32, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::from_seed(*key);
    // run < 2^30 (MAX_RUNS), partner < 2^32, stream < 4: the stream id is unique.
    r.set_stream((u64::from(run) << 34) | (u64::from(partner) << 2) | stream);
    r
}

fn draw(s: &Sampler, r: &mut ChaCha8Rng) -> f64 {
    match s {
        Sampler::Fixed(v) => *v,
        Sampler::Uniform(a, b) => {
            if a < b {
                r.random_range(*a..*b)
            } else {
                *a
            }
        }
        Sampler::Normal(n) => n.sample(r).max(0.0),
        Sampler::Lognormal(_, _, l) => l.sample(r),
        Sampler::Beta(_, _, b) => b.sample(r),
    }
}

/// A generated amount in minor units: rounded half away from zero, at least one unit (a
/// payment of nothing is not a payment), at most 10^15 units.
fn minor(x: f64, scale: f64) -> i64 {
    let v = (x * scale).round();
    if v.is_nan() || v < 1.0 {
        1
    } else if v > 1e15 {
        1_000_000_000_000_000
    } else {
        v as i64
    }
}

/// One partner's parameters in one run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// Mean touches per month.
    pub touches: f64,
    /// Conversion rate.
    pub conversion: f64,
    /// Monthly churn (subscriptions).
    pub churn: f64,
    /// Refund rate.
    pub refund: f64,
}

/// Partner `p`'s parameters: the first draws of its customer stream `r`.
fn params(sc: &Scenario, p: u32, r: &mut ChaCha8Rng) -> Params {
    let pop = &sc.pops[sc.pop_of(p)];
    let touches = draw(&pop.touches, r).min(super::scenario::MAX_TOUCHES_PER_MONTH);
    let conversion = draw(&pop.conversion, r).clamp(0.0, 1.0);
    let churn = pop
        .churn
        .as_ref()
        .map_or(1.0, |c| draw(c, r).clamp(0.0, 1.0));
    let refund = pop
        .refund
        .as_ref()
        .map_or(0.0, |c| draw(c, r).clamp(0.0, 1.0));
    Params {
        touches,
        conversion,
        churn,
        refund,
    }
}

/// A generated payment. Instants are Unix seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pay {
    pub at: i64,
    /// The customer's index among the partner's customers.
    pub cust: u32,
    /// 1 for the customer's first payment.
    pub n: u32,
    /// Minor units of the scenario currency.
    pub amount: i64,
    /// When it is refunded in full, if it is by the horizon's end; else [`NO_REFUND`].
    pub refund_at: i64,
}

/// `Pay::refund_at` of a payment not refunded by the horizon's end.
pub(crate) const NO_REFUND: i64 = i64::MAX;

/// What one partner's customers did in one run.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Drawn {
    pub customers: u32,
    /// Payments less refunds, minor units, up to the horizon's end.
    pub sales: i64,
    /// The partner's earliest conversion.
    pub first: Option<i64>,
}

/// Precomputed calendar of a scenario: month starts and lengths in Unix seconds.
#[derive(Clone, Debug)]
pub(crate) struct Calendar {
    pub starts: Vec<i64>,
    pub lens: Vec<i64>,
    pub end: i64,
    pub refund_after: i64,
    pub scale: f64,
}

impl Calendar {
    pub fn new(sc: &Scenario) -> Calendar {
        let starts: Vec<i64> = sc.month_starts.iter().map(|t| t.timestamp()).collect();
        let lens = starts.windows(2).map(|w| w[1] - w[0]).collect();
        let end = starts[starts.len() - 1];
        Calendar {
            starts: starts[..starts.len() - 1].to_vec(),
            lens,
            end,
            refund_after: i64::from(sc.doc.refund_after_days) * 86_400,
            scale: 10f64.powi(sc.doc.currency.digits() as i32),
        }
    }
}

/// A generated customer, in compact form: it converts at `starts[month] + offset` and pays
/// `amount` in each of `payments` consecutive months (a renewal falls at the same offset into
/// its month, clamped to the month's last second); `refunds` indexes its refunded payments in
/// [`GenScratch::refunds`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Customer {
    pub month: u32,
    pub offset: i64,
    /// Minor units of the scenario currency.
    pub amount: i64,
    /// At least 1; the last payment is in month `month + payments - 1`, within the horizon.
    pub payments: u32,
    /// `GenScratch::refunds[refunds.0..refunds.1]`.
    pub refunds: (u32, u32),
}

/// A refunded payment of a customer, refunded by the horizon's end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refund {
    /// The payment's index among the customer's payments (0: the first).
    pub k: u32,
    /// The refund's instant.
    pub at: i64,
}

impl Calendar {
    /// The instant of the payment of a customer converting at `offset` into its month, in
    /// month `m`.
    #[inline]
    pub fn pay_at(&self, m: usize, offset: i64) -> i64 {
        self.starts[m] + offset.min(self.lens[m] - 1)
    }
}

/// Reusable buffers of the generator (one set per thread).
#[derive(Default)]
pub(crate) struct GenScratch {
    /// The partner's customers, in order of conversion month, then draw.
    pub customers: Vec<Customer>,
    /// Their refunds, per customer in payment order.
    pub refunds: Vec<Refund>,
    /// New customers per month.
    counts: Vec<u64>,
}

/// Geometric draws: the failures before the first success of trials that succeed with
/// chance `p` (the months a subscriber stays, the payments before the next refund).
///
/// `⌊E / −ln(1 − p)⌋` with `E` a standard exponential is geometric: it is at least `k` with
/// chance `e^(k·ln(1 − p)) = (1 − p)^k`. `rand_distr`'s exponential (a ziggurat, one
/// 64-bit draw nearly always) makes this a few times cheaper than its `Geometric`, whose
/// rejection loop calls `powi` per try.
#[derive(Clone, Copy, Debug)]
struct Gaps {
    /// `−1 / ln(1 − p)`: 0 when `p = 1` (always 0), +∞ when `p = 0` (never).
    scale: f64,
}

impl Gaps {
    fn new(p: f64) -> Gaps {
        // `ln_1p` keeps small rates exact (`ln(1 − p)` would lose them to cancellation).
        Gaps {
            scale: -1.0 / (-p.clamp(0.0, 1.0)).ln_1p(),
        }
    }

    #[inline]
    fn draw(&self, r: &mut ChaCha8Rng) -> u64 {
        if self.scale == f64::INFINITY {
            // p = 0: no success ever (and no draw, so no 0 × ∞).
            return u64::MAX;
        }
        let e: f64 = Exp1.sample(r);
        // `as` saturates: a product past 2^64 is "never" too.
        (e * self.scale) as u64
    }
}

/// Generates partner `p`'s customers of run `run` into `g` (cleared first).
///
/// A Poisson count of new customers over the horizon, each in a uniform month (so each
/// month's count is Poisson with the partner's monthly rate, independent of the others, as
/// one Poisson draw per month would give at a draw per month more), then month by month each
/// with a uniform offset into the month and an amount. A subscriber's number of payments is one plus a geometric draw
/// (the months it stays after each payment, with its partner's churn as the chance to
/// leave), cut at the horizon; which of its payments are refunded comes from geometric gaps
/// at the refund rate. Both are the same distributions as a Bernoulli draw per payment, at a
/// handful of draws per customer instead of two per payment.
pub(crate) fn customers(
    sc: &Scenario,
    cal: &Calendar,
    key: &[u8; 32],
    run: u32,
    p: u32,
    g: &mut GenScratch,
) -> Drawn {
    g.customers.clear();
    g.refunds.clear();
    let pop = &sc.pops[sc.pop_of(p)];
    let mut drawn = Drawn::default();
    let mut r = rng(key, run, p, CUSTOMERS);
    let prm = params(sc, p, &mut r);
    let months = cal.starts.len();
    let lambda = prm.touches * prm.conversion * months as f64;
    let Ok(poisson) = Poisson::new(lambda) else {
        // λ = 0 (or not finite): nobody converts.
        return drawn;
    };
    let counts = &mut g.counts;
    counts.clear();
    counts.resize(months, 0);
    for _ in 0..poisson.sample(&mut r) as u64 {
        counts[r.random_range(0..months)] += 1;
    }
    let amount_of = pop.order.as_ref().or(pop.price.as_ref());
    let stay = pop.price.is_some().then(|| Gaps::new(prm.churn));
    let refund = (prm.refund > 0.0).then(|| Gaps::new(prm.refund));
    for m in 0..months {
        for _ in 0..g.counts[m] {
            let offset = r.random_range(0..cal.lens[m]);
            let amount = amount_of.map_or(1, |s| minor(draw(s, &mut r), cal.scale));
            let left = (months - m) as u64;
            let payments = stay.map_or(1, |g| g.draw(&mut r).saturating_add(1).min(left)) as u32;
            let first = g.refunds.len() as u32;
            if let Some(gap) = &refund {
                let mut k = gap.draw(&mut r);
                while k < u64::from(payments) {
                    let at = cal.pay_at(m + k as usize, offset) + cal.refund_after;
                    // A refund after the horizon's end has not happened yet.
                    if at <= cal.end {
                        g.refunds.push(Refund { k: k as u32, at });
                        drawn.sales -= amount;
                    }
                    k = k.saturating_add(gap.draw(&mut r)).saturating_add(1);
                }
            }
            g.customers.push(Customer {
                month: m as u32,
                offset,
                amount,
                payments,
                refunds: (first, g.refunds.len() as u32),
            });
            drawn.sales += amount * i64::from(payments);
            let conv = cal.starts[m] + offset;
            drawn.first = Some(drawn.first.map_or(conv, |f: i64| f.min(conv)));
        }
    }
    drawn.customers = g.customers.len() as u32;
    drawn
}

/// The payments of the customers in `g`, into `out` (cleared first), in canonical order: by
/// instant, then customer (a payment's id is `p{partner}-{customer}-{n}`).
pub(crate) fn pays(cal: &Calendar, g: &GenScratch, out: &mut Vec<Pay>) {
    out.clear();
    for (ci, c) in g.customers.iter().enumerate() {
        let refunds = &g.refunds[c.refunds.0 as usize..c.refunds.1 as usize];
        let mut next = 0;
        for k in 0..c.payments {
            let refund_at = match refunds.get(next) {
                Some(r) if r.k == k => {
                    next += 1;
                    r.at
                }
                _ => NO_REFUND,
            };
            out.push(Pay {
                at: cal.pay_at(c.month as usize + k as usize, c.offset),
                cust: ci as u32,
                n: k + 1,
                amount: c.amount,
                refund_at,
            });
        }
    }
    out.sort_unstable_by_key(|p| (p.at, p.cust));
}

/// Partner `p`'s touches that did not convert, per month.
pub(crate) fn other_touches(
    sc: &Scenario,
    cal: &Calendar,
    key: &[u8; 32],
    run: u32,
    p: u32,
) -> Vec<u64> {
    let prm = params(sc, p, &mut rng(key, run, p, CUSTOMERS));
    let lambda = prm.touches * (1.0 - prm.conversion);
    let Ok(poisson) = Poisson::new(lambda) else {
        return vec![0; cal.starts.len()];
    };
    let mut r = rng(key, run, p, TOUCHES);
    (0..cal.starts.len())
        .map(|_| poisson.sample(&mut r) as u64)
        .collect()
}

/// The instant of the `j`-th of `n` other touches of month `m`: spread evenly from the
/// month's start (no draw: the count is the random part).
pub(crate) fn touch_at(cal: &Calendar, m: usize, j: u64, n: u64) -> i64 {
    cal.starts[m] + (i128::from(cal.lens[m]) * i128::from(j) / i128::from(n.max(1))) as i64
}

fn instant(secs: i64) -> Instant {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The partner records of a scenario: ids `{segment}-{index:06}`, no parent, no tier.
pub(crate) fn partners(sc: &Scenario) -> Vec<Partner> {
    (0..sc.partners)
        .map(|p| Partner {
            segment: Some(sc.pops[sc.pop_of(p)].segment.clone()),
            ..Partner::new(sc.partner_id(p))
        })
        .collect()
}

/// The events of run `run`, as documents would state them: for each customer a link touch,
/// a signup and its first payment at the conversion instant, its renewals and refunds; and
/// each partner's other touches, on visitors who never buy. Also the run's sales.
pub(crate) fn events(sc: &Scenario, cal: &Calendar, key: &[u8; 32], run: u32) -> (Vec<Event>, i64) {
    let currency = sc.doc.currency;
    let digits = currency.digits();
    let mut events = Vec::new();
    let mut buf = Vec::new();
    let mut g = GenScratch::default();
    let mut sales = 0;
    let ev = |id: String, at: i64, body: Body| Event {
        id: Arc::from(id.as_str()),
        at: instant(at),
        body,
    };
    let touch = |partner: &str, customer: String| {
        Body::Touch(Touch {
            partner: partner.to_owned(),
            customer,
            channel: Channel::Link,
            campaign: None,
            ip: None,
            meta: BTreeMap::new(),
        })
    };
    for p in 0..sc.partners {
        let pid = sc.partner_id(p);
        sales += customers(sc, cal, key, run, p, &mut g).sales;
        pays(cal, &g, &mut buf);
        for pay in &buf {
            let c = format!("{p:06}-{:07}", pay.cust);
            let customer = format!("c{c}");
            if pay.n == 1 {
                events.push(ev(format!("t{c}"), pay.at, touch(&pid, customer.clone())));
                events.push(ev(
                    format!("s{c}"),
                    pay.at,
                    Body::Signup {
                        customer: customer.clone(),
                        qualified: None,
                    },
                ));
            }
            let pay_id = format!("p{c}-{:03}", pay.n);
            if pay.refund_at != NO_REFUND {
                let r = pay.refund_at;
                events.push(ev(
                    format!("r{c}-{:03}", pay.n),
                    r,
                    Body::Refund {
                        payment: pay_id.clone(),
                        amount: Decimal::new(pay.amount, digits),
                        currency: None,
                    },
                ));
            }
            events.push(ev(
                pay_id,
                pay.at,
                Body::Payment(Payment {
                    customer,
                    amount: Decimal::new(pay.amount, digits),
                    currency,
                    tax: Decimal::ZERO,
                    discount: Decimal::ZERO,
                    product: None,
                    subscription: None,
                    order: None,
                }),
            ));
        }
        for (m, &n) in other_touches(sc, cal, key, run, p).iter().enumerate() {
            for j in 0..n {
                let v = format!("{p:06}-{m:03}-{j:06}");
                events.push(ev(
                    format!("n{v}"),
                    touch_at(cal, m, j, n),
                    touch(&pid, format!("v{v}")),
                ));
            }
        }
    }
    (events, sales)
}
