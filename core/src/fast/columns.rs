//! Events as columns: one vector per field, ids and customer keys interned to dense
//! integers, amounts in integer minor units, instants in nanoseconds since the Unix epoch
//! (Arrow's `timestamp[ns, UTC]`).
//!
//! Columns are what the fast path reads: built from [`Input`](crate::input::Input) events
//! (every vector runs through them) or from Arrow record batches (`fast::arrow`). They keep
//! everything an [`Event`] of the kinds they hold says, so they can always be turned back
//! into events for the canonical path.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::input::{Body, Event, Kind, Payment, Touch};
use crate::money::Currency;
use crate::plan::Channel;
use crate::time::Instant;

/// "No value" in an index column.
pub const NONE: u32 = u32::MAX;

/// Strings stored one after the other, Arrow style: string `i` is
/// `bytes[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Strings {
    offsets: Vec<usize>,
    bytes: String,
}

impl Strings {
    /// An empty column with room for `n` strings of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Strings {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Strings {
            offsets,
            bytes: String::with_capacity(bytes),
        }
    }

    /// Appends a string.
    pub fn push(&mut self, s: &str) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.bytes.push_str(s);
        self.offsets.push(self.bytes.len());
    }

    /// Appends the string written by `f` into the column's own buffer (no allocation per
    /// string once the buffer has grown).
    pub fn push_with(&mut self, f: impl FnOnce(&mut String)) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        f(&mut self.bytes);
        self.offsets.push(self.bytes.len());
    }

    /// Room for `n` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, n: usize, bytes: usize) {
        self.offsets
            .reserve(n + usize::from(self.offsets.is_empty()));
        self.bytes.reserve(bytes);
    }

    /// Appends strings stored back to back in `block` (Arrow's layout, one copy of the
    /// block rather than a push per string): `ends` gives where each string ends, counted
    /// from the start of `block`, in order, the last one `block.len()`.
    ///
    /// The caller checks that every end is a character boundary of `block` and that the
    /// ends do not decrease; [`Strings::get`] relies on both.
    pub fn extend_from_block(&mut self, block: &str, ends: impl IntoIterator<Item = usize>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let base = self.bytes.len();
        self.bytes.push_str(block);
        self.offsets.extend(ends.into_iter().map(|e| base + e));
    }

    /// String `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// String `i` as bytes (no character-boundary checks: hashing needs only the bytes).
    #[inline]
    pub fn get_bytes(&self, i: usize) -> &[u8] {
        &self.bytes.as_bytes()[self.offsets[i]..self.offsets[i + 1]]
    }

    /// How many strings.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The concatenated bytes and the `len() + 1` offsets (Arrow's layout).
    pub fn parts(&self) -> (&str, &[usize]) {
        if self.offsets.is_empty() {
            return ("", &[0]);
        }
        (&self.bytes, &self.offsets)
    }

    /// [`Strings::parts`] by value: the bytes as they are (an Arrow buffer can take them
    /// over without a copy) and the `len() + 1` offsets.
    pub fn into_parts(self) -> (String, Vec<usize>) {
        if self.offsets.is_empty() {
            return (String::new(), vec![0]);
        }
        (self.bytes, self.offsets)
    }
}

/// Appends row `i`'s value `v` to a column kept empty while every value is 0 (`tax`,
/// `discount`): the first value other than 0 fills the rows before it with zeros.
fn push_sparse(col: &mut Vec<i64>, i: usize, v: i64) {
    if col.is_empty() && v == 0 {
        return;
    }
    col.resize(i, 0);
    col.push(v);
}

/// Interns strings to dense indices in first-seen order.
///
/// The map holds each string's 64-bit hash, not the string: interning a new string appends
/// it to `strings` and allocates nothing else. Two strings with one hash (a collision) are
/// told apart by comparing them; the later one goes to a small spill map.
///
/// Strings known to be new and distinct can be appended without the map
/// ([`Interner::adopt`]): a customer dictionary of half a million keys read once is never
/// looked up again, and filling the map cost a few random memory reads a key. They are
/// put in the map when the interner is next asked to intern.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    index: HashMap<u64, u32, foldhash::fast::RandomState>,
    spill: HashMap<String, u32, foldhash::fast::RandomState>,
    /// How many of `strings` (the first ones) `index` and `spill` hold.
    indexed: usize,
    /// The strings, by index.
    pub strings: Strings,
}

/// The hash strings are interned by (fixed: the order of `strings` never depends on it).
fn hash_str(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x696e_7465_726e).hash_one(s.as_bytes())
}

impl Interner {
    /// Room for `n` more strings.
    pub fn reserve(&mut self, n: usize) {
        self.index.reserve(n);
    }

    /// The index of `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if self.indexed < self.strings.len() {
            self.index_adopted();
        }
        let next = u32::try_from(self.strings.len()).unwrap_or(NONE);
        match self.index.entry(hash_str(s)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let i = *e.get();
                if self.strings.get(i as usize) == s {
                    return i;
                }
                if let Some(&j) = self.spill.get(s) {
                    return j;
                }
                self.spill.insert(s.to_owned(), next);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(next);
            }
        }
        self.strings.push(s);
        self.indexed = self.strings.len();
        next
    }

    /// The index of `s`, if it was interned.
    pub fn find(&self, s: &str) -> Option<u32> {
        if let Some(&i) = self.index.get(&hash_str(s))
            && self.strings.get(i as usize) == s
        {
            return Some(i);
        }
        if let Some(&j) = self.spill.get(s) {
            return Some(j);
        }
        // Strings adopted and not yet indexed, one by one: the readers adopt only
        // customer keys, which nothing looks up.
        (self.indexed..self.strings.len())
            .find(|&i| self.strings.get(i) == s)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Appends `values` in order, each at the next index, when the interner holds no string
    /// yet and no two of them are equal; otherwise appends nothing and returns `false`, and
    /// the caller interns them one by one.
    ///
    /// Their distinctness is checked by sorting their hashes, which reads memory in order,
    /// instead of probing a map at random a value. Two values with one hash count as equal
    /// here (the caller's interning then tells them apart exactly).
    pub fn adopt<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a str> + Clone) -> bool {
        if self.indexed != 0 || !self.strings.is_empty() || u32::try_from(values.len()).is_err() {
            return false;
        }
        let mut hashes: Vec<u64> = values.clone().map(hash_str).collect();
        hashes.sort_unstable();
        if hashes.windows(2).any(|w| w[0] == w[1]) {
            return false;
        }
        for v in values {
            self.strings.push(v);
        }
        true
    }

    /// Puts the adopted strings in the map (they are distinct from one another and from
    /// the ones before them: [`Interner::adopt`]).
    #[cold]
    fn index_adopted(&mut self) {
        let Interner {
            index,
            spill,
            indexed,
            strings,
        } = self;
        index.reserve(strings.len() - *indexed);
        for i in *indexed..strings.len() {
            let s = strings.get(i);
            // `adopt` takes at most u32::MAX strings into an empty interner.
            let at = u32::try_from(i).unwrap_or(NONE);
            match index.entry(hash_str(s)) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    spill.insert(s.to_owned(), at);
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(at);
                }
            }
        }
        *indexed = strings.len();
    }
}

/// An optional text field of some kinds' rows (a touch's `campaign` or `ip`, a payment's
/// `product`, `subscription` or `order`), interned: `rows[i]` is row `i`'s value as an
/// index into `values`, [`NONE`] where the row has none.
///
/// `rows` stays empty while no row has a value (most logs hold none of these fields), so
/// that such a log costs no memory for it; read it with [`Labels::get`], which gives `None`
/// for every row then. Once a row has a value `rows` holds a cell for every row, like
/// [`Events::tax`].
#[derive(Clone, Debug, Default)]
pub struct Labels {
    /// The distinct values, in first-seen order.
    pub values: Interner,
    /// Per row, the index of its value in `values`, or [`NONE`]; empty while no row has one.
    pub rows: Vec<u32>,
}

impl Labels {
    /// Row `i`'s value as an index into [`Labels::values`], if it has one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<u32> {
        self.rows.get(i).copied().filter(|&v| v != NONE)
    }

    /// Row `i`'s value, if it has one.
    pub fn text(&self, i: usize) -> Option<&str> {
        self.get(i).map(|v| self.values.strings.get(v as usize))
    }

    /// Row `i`'s value as an owned string (for an [`Event`] of the canonical path).
    fn owned(&self, i: usize) -> Option<String> {
        self.text(i).map(str::to_owned)
    }

    /// Whether no row has a value.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Sets the value of row `i`, the last row appended (of `i + 1`), to `value`; `None`
    /// leaves it without one.
    pub fn set(&mut self, i: usize, value: Option<&str>) {
        let Some(s) = value else { return };
        let v = self.values.intern(s);
        // The first value fills the rows before it with NONE; later rows already have
        // their cell (written by `Events::row` once the column exists).
        self.rows.resize(i + 1, NONE);
        self.rows[i] = v;
    }

    /// A cell without a value for the row just appended, once the column exists.
    #[inline]
    fn pad(&mut self) {
        if !self.rows.is_empty() {
            self.rows.push(NONE);
        }
    }
}

/// Events of the kinds the columns hold (touch, signup, payment, refund, chargeback), as
/// columns: every field of those kinds but a touch's `meta`.
///
/// Row `i` of every column belongs to event `i` (the order given, not yet canonical).
/// Columns a kind does not use hold [`NONE`] or zero.
#[derive(Clone, Debug, Default)]
pub struct Events {
    /// Event ids.
    pub id: Strings,
    /// Event kinds.
    pub kind: Vec<Kind>,
    /// Instants, nanoseconds since the Unix epoch.
    pub at: Vec<i64>,
    /// Touches: the partner, an index into [`Events::partners`].
    pub partner: Vec<u32>,
    /// Touches, signups and payments: the customer, an index into [`Events::customers`].
    pub customer: Vec<u32>,
    /// Touches: the channel.
    pub channel: Vec<Channel>,
    /// Payments and refunds: the amount in minor units of `currency`.
    pub amount: Vec<i64>,
    /// Payments: tax in minor units. Empty while no event has any: read it with
    /// [`Events::tax`], which gives 0 for every row then. Once an event has tax the column
    /// holds a value for every row (0 where there is none), so that a log of payments
    /// without tax (most logs) costs no memory for it.
    pub tax: Vec<i64>,
    /// Payments: discount in minor units. Empty while no event has any, like
    /// [`Events::tax`]; read it with [`Events::discount`].
    pub discount: Vec<i64>,
    /// Payments: the currency; refunds and chargebacks: the currency given, if any.
    pub currency: Vec<Option<Currency>>,
    /// Refunds and chargebacks: the payment's id, an index into [`Events::payments`].
    pub payment: Vec<u32>,
    /// Partner ids named by touches.
    pub partners: Interner,
    /// Customer keys.
    pub customers: Interner,
    /// Payment ids named by refunds and chargebacks.
    pub payments: Interner,
    /// Signups: whether the lead qualified (`None`: not said). Empty while no signup says
    /// either: read it with [`Events::qualified`]. Once one does the column holds a value
    /// for every row (`None` for the other kinds), like [`Events::tax`].
    pub qualified: Vec<Option<bool>>,
    /// Touches: the campaign tag, if any ([`Labels`]: empty while no touch has one). A
    /// rule's `campaign` condition reads the deciding touch's.
    pub campaign: Labels,
    /// Touches: the IP (or its hash), if any; read only by the `same_ip` fraud check, which
    /// the canonical path runs.
    pub ip: Labels,
    /// Payments: the product, if any. A rule's `product` condition reads it.
    pub product: Labels,
    /// Payments: the subscription id, if any (carried for the canonical path).
    pub subscription: Labels,
    /// Payments: the order id, if any (carried for the canonical path).
    pub order: Labels,
    /// Rows whose amounts do not fit 64-bit minor units (above about 9 × 10^16 in cents):
    /// `(row, amount, tax, discount)` in minor units, by row. Their `amount`, `tax` and
    /// `discount` cells hold 0; the fast path hands such inputs to the canonical path.
    pub wide: Vec<(u32, i128, i128, i128)>,
}

/// An instant as nanoseconds since the epoch, if it fits an `i64`.
pub fn instant_ns(t: Instant) -> Option<i64> {
    t.timestamp_nanos_opt()
}

/// Nanoseconds since the epoch as an instant.
pub fn ns_instant(ns: i64) -> Instant {
    chrono::DateTime::from_timestamp_nanos(ns)
}

/// `d` in minor units of a currency with `digits` decimals, when exact and in range.
pub fn minor(d: Decimal, digits: u32) -> Option<i64> {
    minor128(d, digits).and_then(|m| i64::try_from(m).ok())
}

/// `d` in minor units of a currency with `digits` decimals, when exact.
pub fn minor128(d: Decimal, digits: u32) -> Option<i128> {
    if d.scale() > digits {
        let r = d.round_dp(digits);
        if r != d {
            return None;
        }
        return minor128(r.trunc_with_scale(digits), digits);
    }
    d.mantissa()
        .checked_mul(10i128.checked_pow(digits - d.scale())?)
}

impl Events {
    /// An empty set of columns with room for `n` events.
    pub fn with_capacity(n: usize) -> Events {
        Events {
            id: Strings::with_capacity(n, n * 8),
            kind: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            partner: Vec::with_capacity(n),
            customer: Vec::with_capacity(n),
            channel: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
            // `tax` and `discount` stay empty until an event has one.
            currency: Vec::with_capacity(n),
            payment: Vec::with_capacity(n),
            ..Events::default()
        }
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Row `i`'s tax in minor units (0 while the column is empty: no event has tax).
    #[inline(always)]
    pub fn tax(&self, i: usize) -> i64 {
        self.tax.get(i).copied().unwrap_or(0)
    }

    /// Row `i`'s discount in minor units (0 while the column is empty).
    #[inline(always)]
    pub fn discount(&self, i: usize) -> i64 {
        self.discount.get(i).copied().unwrap_or(0)
    }

    /// Row `i`'s `qualified` (`None` while the column is empty: no signup says).
    #[inline]
    pub fn qualified(&self, i: usize) -> Option<bool> {
        self.qualified.get(i).copied().flatten()
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        id: &str,
        kind: Kind,
        at: i64,
        partner: u32,
        customer: u32,
        channel: Channel,
        amount: i64,
        tax: i64,
        discount: i64,
        currency: Option<Currency>,
        payment: u32,
    ) {
        self.id.push(id);
        self.kind.push(kind);
        self.at.push(at);
        self.partner.push(partner);
        self.customer.push(customer);
        self.channel.push(channel);
        self.amount.push(amount);
        let i = self.kind.len() - 1;
        push_sparse(&mut self.tax, i, tax);
        push_sparse(&mut self.discount, i, discount);
        self.currency.push(currency);
        self.payment.push(payment);
        if !self.qualified.is_empty() {
            self.qualified.push(None);
        }
        for labels in self.labels_mut() {
            labels.pad();
        }
    }

    /// The optional text columns, in the order of [`LABELS`].
    pub fn labels(&self) -> [&Labels; 5] {
        [
            &self.campaign,
            &self.ip,
            &self.product,
            &self.subscription,
            &self.order,
        ]
    }

    /// [`Events::labels`], to write.
    pub fn labels_mut(&mut self) -> [&mut Labels; 5] {
        [
            &mut self.campaign,
            &mut self.ip,
            &mut self.product,
            &mut self.subscription,
            &mut self.order,
        ]
    }

    /// Appends a touch whose partner and customer are already interned (indices into
    /// [`Events::partners`] and [`Events::customers`]).
    pub fn push_touch_interned(
        &mut self,
        id: &str,
        at: i64,
        partner: u32,
        customer: u32,
        c: Channel,
    ) {
        self.row(
            id,
            Kind::Touch,
            at,
            partner,
            customer,
            c,
            0,
            0,
            0,
            None,
            NONE,
        );
    }

    /// Appends a signup whose customer is already interned (an index into
    /// [`Events::customers`]), with its `qualified` flag.
    pub fn push_signup_interned(
        &mut self,
        id: &str,
        at: i64,
        customer: u32,
        qualified: Option<bool>,
    ) {
        self.row(
            id,
            Kind::Signup,
            at,
            NONE,
            customer,
            Channel::Link,
            0,
            0,
            0,
            None,
            NONE,
        );
        if qualified.is_some() {
            // Its cell (written `None` by `row` once the column exists): the first signup
            // that says fills the column for every row before it.
            let i = self.kind.len() - 1;
            self.qualified.resize(i, None);
            self.qualified.push(qualified);
        }
    }

    /// Appends a signup of `customer`.
    pub fn push_signup(&mut self, id: &str, at: i64, customer: &str, qualified: Option<bool>) {
        let c = self.customers.intern(customer);
        self.push_signup_interned(id, at, c, qualified);
    }

    /// Appends a payment whose customer is already interned.
    #[allow(clippy::too_many_arguments)]
    pub fn push_payment_interned(
        &mut self,
        id: &str,
        at: i64,
        customer: u32,
        amount: i64,
        tax: i64,
        discount: i64,
        currency: Currency,
    ) {
        self.row(
            id,
            Kind::Payment,
            at,
            NONE,
            customer,
            Channel::Link,
            amount,
            tax,
            discount,
            Some(currency),
            NONE,
        );
    }

    /// Appends a refund or chargeback whose payment id is already interned.
    pub fn push_reversal_interned(
        &mut self,
        id: &str,
        at: i64,
        payment: u32,
        amount: Option<i64>,
        currency: Option<Currency>,
    ) {
        let kind = if amount.is_some() {
            Kind::Refund
        } else {
            Kind::Chargeback
        };
        self.row(
            id,
            kind,
            at,
            NONE,
            NONE,
            Channel::Link,
            amount.unwrap_or(0),
            0,
            0,
            currency,
            payment,
        );
    }

    /// Appends a payment whose customer is interned, with amounts in minor units of any
    /// size (kept in [`Events::wide`] when they do not fit 64 bits).
    #[allow(clippy::too_many_arguments)]
    pub fn push_payment_wide(
        &mut self,
        id: &str,
        at: i64,
        customer: u32,
        amount: i128,
        tax: i128,
        discount: i128,
        currency: Currency,
    ) {
        match (
            i64::try_from(amount),
            i64::try_from(tax),
            i64::try_from(discount),
        ) {
            (Ok(a), Ok(t), Ok(d)) => {
                self.push_payment_interned(id, at, customer, a, t, d, currency);
            }
            _ => {
                self.wide.push((self.len() as u32, amount, tax, discount));
                self.push_payment_interned(id, at, customer, 0, 0, 0, currency);
            }
        }
    }

    /// Appends a refund whose payment id is interned; `amount` at [`REFUND_DIGITS`], of
    /// any size.
    pub fn push_refund_wide(
        &mut self,
        id: &str,
        at: i64,
        payment: u32,
        amount: i128,
        currency: Option<Currency>,
    ) {
        match i64::try_from(amount) {
            Ok(a) => self.push_reversal_interned(id, at, payment, Some(a), currency),
            Err(_) => {
                self.wide.push((self.len() as u32, amount, 0, 0));
                self.push_reversal_interned(id, at, payment, Some(0), currency);
            }
        }
    }

    /// Row `i`'s (amount, tax, discount) in minor units.
    pub fn amounts(&self, i: usize) -> (i128, i128, i128) {
        match self.wide.binary_search_by_key(&(i as u32), |w| w.0) {
            Ok(k) => (self.wide[k].1, self.wide[k].2, self.wide[k].3),
            Err(_) => (
                i128::from(self.amount[i]),
                i128::from(self.tax(i)),
                i128::from(self.discount(i)),
            ),
        }
    }

    /// Appends a touch.
    pub fn push_touch(&mut self, id: &str, at: i64, partner: &str, customer: &str, c: Channel) {
        let p = self.partners.intern(partner);
        let cu = self.customers.intern(customer);
        self.push_touch_interned(id, at, p, cu, c);
    }

    /// Appends a payment; amounts in minor units of `currency`.
    #[allow(clippy::too_many_arguments)]
    pub fn push_payment(
        &mut self,
        id: &str,
        at: i64,
        customer: &str,
        amount: i64,
        tax: i64,
        discount: i64,
        currency: Currency,
    ) {
        let cu = self.customers.intern(customer);
        self.push_payment_interned(id, at, cu, amount, tax, discount, currency);
    }

    /// Appends a refund (`amount: Some`, in ten-thousandths of the currency's unit,
    /// [`REFUND_DIGITS`], whatever the payment currency's minor unit: 5.00 USD is 50,000)
    /// or a chargeback (`None`) of payment `payment`. The fold checks the amount against
    /// the payment's currency when it applies it.
    pub fn push_reversal(
        &mut self,
        id: &str,
        at: i64,
        payment: &str,
        amount: Option<i64>,
        currency: Option<Currency>,
    ) {
        let p = self.payments.intern(payment);
        self.push_reversal_interned(id, at, p, amount, currency);
    }

    /// The columns of `events`, or `None` when some event does not fit them (a kind they
    /// do not hold, a touch's `meta`, an amount not in whole minor units, an instant
    /// outside `i64` nanoseconds).
    pub fn from_events(events: &[Event]) -> Option<Events> {
        let mut out = Events::with_capacity(events.len());
        for ev in events {
            let at = instant_ns(ev.at)?;
            match &ev.body {
                Body::Touch(Touch {
                    partner,
                    customer,
                    channel,
                    campaign,
                    ip,
                    meta,
                }) if meta.is_empty() => {
                    out.push_touch(&ev.id, at, partner, customer, *channel);
                    let i = out.len() - 1;
                    out.campaign.set(i, campaign.as_deref());
                    out.ip.set(i, ip.as_deref());
                }
                Body::Payment(Payment {
                    customer,
                    amount,
                    currency,
                    tax,
                    discount,
                    product,
                    subscription,
                    order,
                }) => {
                    let d = currency.digits();
                    let (a, t, x) = (
                        minor128(*amount, d)?,
                        minor128(*tax, d)?,
                        minor128(*discount, d)?,
                    );
                    let cu = out.customers.intern(customer);
                    out.push_payment_wide(&ev.id, at, cu, a, t, x, *currency);
                    let i = out.len() - 1;
                    out.product.set(i, product.as_deref());
                    out.subscription.set(i, subscription.as_deref());
                    out.order.set(i, order.as_deref());
                }
                Body::Refund {
                    payment,
                    amount,
                    currency,
                } => {
                    // The refund's digits are its payment's: whole cents at the largest
                    // minor unit a currency has (4) keep the exact value; the fast path
                    // checks them against the payment's currency when it applies it.
                    let m = minor128(*amount, REFUND_DIGITS)?;
                    let p = out.payments.intern(payment);
                    out.push_refund_wide(&ev.id, at, p, m, *currency);
                }
                Body::Chargeback { payment, currency } => {
                    out.push_reversal(&ev.id, at, payment, None, *currency);
                }
                Body::Signup {
                    customer,
                    qualified,
                } => out.push_signup(&ev.id, at, customer, *qualified),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The events back as [`Event`]s, for the canonical path (`currency`: the one a
    /// payment row without a currency is read in; the builders always give one).
    pub fn to_events(&self, currency: Currency) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.len());
        let customer = |i: usize| {
            self.customers
                .strings
                .get(self.customer[i] as usize)
                .to_owned()
        };
        let payment = |i: usize| {
            self.payments
                .strings
                .get(self.payment[i] as usize)
                .to_owned()
        };
        for i in 0..self.len() {
            let at = ns_instant(self.at[i]);
            let body = match self.kind[i] {
                Kind::Touch => Body::Touch(Touch {
                    partner: self
                        .partners
                        .strings
                        .get(self.partner[i] as usize)
                        .to_owned(),
                    customer: customer(i),
                    channel: self.channel[i],
                    campaign: self.campaign.owned(i),
                    ip: self.ip.owned(i),
                    meta: Default::default(),
                }),
                Kind::Payment => {
                    let c = self.currency[i].unwrap_or(currency);
                    let d = c.digits();
                    let (a, t, x) = self.amounts(i);
                    Body::Payment(Payment {
                        customer: customer(i),
                        amount: Decimal::from_i128_with_scale(a, d),
                        currency: c,
                        tax: Decimal::from_i128_with_scale(t, d),
                        discount: Decimal::from_i128_with_scale(x, d),
                        product: self.product.owned(i),
                        subscription: self.subscription.owned(i),
                        order: self.order.owned(i),
                    })
                }
                Kind::Signup => Body::Signup {
                    customer: customer(i),
                    qualified: self.qualified(i),
                },
                Kind::Refund => Body::Refund {
                    payment: payment(i),
                    amount: Decimal::from_i128_with_scale(self.amounts(i).0, REFUND_DIGITS)
                        .normalize(),
                    currency: self.currency[i],
                },
                _ => Body::Chargeback {
                    payment: payment(i),
                    currency: self.currency[i],
                },
            };
            out.push(Event {
                id: Arc::from(self.id.get(i)),
                at,
                body,
            });
        }
        out
    }
}

/// The optional text fields the columns hold ([`Events::labels`], in this order), each
/// with the kind of event it belongs to.
pub const LABELS: [(&str, Kind); 5] = [
    ("campaign", Kind::Touch),
    ("ip", Kind::Touch),
    ("product", Kind::Payment),
    ("subscription", Kind::Payment),
    ("order", Kind::Payment),
];

/// Refund amounts are kept at this scale (the largest minor unit of any currency), and
/// checked against the payment's currency when applied.
pub const REFUND_DIGITS: u32 = 4;

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn adopted_strings_are_found_and_interned_at_their_index() {
        let mut i = Interner::default();
        assert!(i.adopt(["b", "a", "c"].into_iter()));
        assert_eq!(i.strings.len(), 3);
        // Looked up before they are indexed, then interned (which indexes them first).
        assert_eq!(i.find("a"), Some(1));
        assert_eq!(i.find("d"), None);
        assert_eq!(i.intern("c"), 2);
        assert_eq!(i.intern("b"), 0);
        assert_eq!(i.intern("d"), 3);
        assert_eq!(i.find("a"), Some(1));
        assert_eq!(i.find("d"), Some(3));
        assert_eq!(i.strings.len(), 4);
    }

    #[test]
    fn adopt_refuses_equal_values_and_a_non_empty_interner() {
        let mut i = Interner::default();
        assert!(!i.adopt(["a", "b", "a"].into_iter()));
        assert!(i.strings.is_empty());
        assert_eq!(i.intern("x"), 0);
        assert!(!i.adopt(["y"].into_iter()));
        assert_eq!(i.strings.len(), 1);
    }
}
