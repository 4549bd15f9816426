//! The column-at-a-time reader: each column of a batch in one loop over its Arrow buffers.
//!
//! It reads only what it can read *exactly* as the row reader does, and reads it the same
//! way: it returns `None` on anything unusual (a null where a value is required, a value in
//! a column its kind does not use, an unknown kind, channel or currency, an amount that is
//! negative, inexact, out of range or wider than 64 bits, a column of a type it does not
//! read, a dictionary key past its dictionary) and the row reader then runs from the start
//! and gives its answer: the first bad row's error, or the events. So `Some` here always
//! equals the row reader's `Ok`, and every error is the row reader's.
//!
//! Interned columns (partner, customer, payment) intern in row order, as the row reader
//! does, so the interners' first-seen order is the same: a dictionary's keys are numbered
//! in the order of their first rows, and their values interned in that order after the
//! rows are read.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_buffer::NullBuffer;

use super::{Amounts, Keys, Text, Times};
use crate::fast::arrow::COLUMNS;
use crate::fast::columns::{Events, Interner, LABELS, Labels, NONE, REFUND_DIGITS, Strings};
use crate::input::Kind;
use crate::money::Currency;
use crate::plan::Channel;

/// Kind codes, their bits in a field's masks, and the kinds they stand for.
const TOUCH: u8 = 0;
const PAYMENT: u8 = 1;
const REFUND: u8 = 2;
const CHARGEBACK: u8 = 3;
const SIGNUP: u8 = 4;
/// How many kinds the reader reads.
const N_KINDS: usize = 5;
const KINDS: [Kind; N_KINDS] = [
    Kind::Touch,
    Kind::Payment,
    Kind::Refund,
    Kind::Chargeback,
    Kind::Signup,
];
const T: u8 = 1 << TOUCH;
const P: u8 = 1 << PAYMENT;
const R: u8 = 1 << REFUND;
const C: u8 = 1 << CHARGEBACK;
const S: u8 = 1 << SIGNUP;
/// Every kind's bit.
const ALL: u8 = T | P | R | C | S;

/// Which kinds a field is required by (`need`) and allowed for (`may`): the row reader's
/// `uses` lists and missing-field checks, as bit masks over kind codes.
#[derive(Clone, Copy)]
struct Rule {
    need: u8,
    may: u8,
}

const PARTNER: Rule = Rule { need: T, may: T };
const CUSTOMER: Rule = Rule {
    need: T | P | S,
    may: T | P | S,
};
const CHANNEL: Rule = Rule { need: T, may: T };
const AMOUNT: Rule = Rule {
    need: P | R,
    may: P | R,
};
const CURRENCY: Rule = Rule {
    need: P,
    may: P | R | C,
};
const EXTRA: Rule = Rule { need: 0, may: P };
/// A touch's optional `campaign` and `ip`.
const TOUCH_LABEL: Rule = Rule { need: 0, may: T };
const QUALIFIED: Rule = Rule { need: 0, may: S };
const PAYMENT_ID: Rule = Rule {
    need: R | C,
    may: R | C,
};

impl Rule {
    /// Whether a row of kind `code` may hold (`present`) or lack the field.
    #[inline]
    fn admits(self, code: u8, present: bool) -> bool {
        let bit = 1u8 << code;
        if present {
            self.may & bit != 0
        } else {
            self.need & bit == 0
        }
    }
}

/// Reads every batch column-wise into one set of columns; `None` when the row reader must
/// decide (see the module comment).
pub(super) fn read(batches: &[RecordBatch]) -> Option<Events> {
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut ev = Events::with_capacity(n);
    let id_bytes: usize = batches
        .iter()
        .filter_map(|b| b.column_by_name("id"))
        .map(|a| match a.data_type() {
            arrow_schema::DataType::Utf8 => a.as_any().downcast_ref().map_or(0, block_len::<i32>),
            arrow_schema::DataType::LargeUtf8 => {
                a.as_any().downcast_ref().map_or(0, block_len::<i64>)
            }
            _ => 0,
        })
        .sum();
    ev.id.reserve(0, id_bytes);
    let mut scratch = Scratch::default();
    for batch in batches {
        read_batch(&mut ev, batch, &mut scratch)?;
    }
    Some(ev)
}

/// Per-batch working memory, kept across batches.
#[derive(Default)]
struct Scratch {
    /// Each row's kind code.
    codes: Vec<u8>,
    /// Each row's minor-unit digits.
    digits: Vec<u8>,
    /// The rows of each kind.
    kinds: KindBits,
}

/// Per kind code, the rows of that kind as a bitmap (bit `i % 64` of word `i / 64`).
#[derive(Default)]
struct KindBits([Vec<u64>; N_KINDS]);

/// The bytes an offset-layout string column's rows span.
fn block_len<O: arrow_array::OffsetSizeTrait>(a: &arrow_array::GenericStringArray<O>) -> usize {
    let o = a.value_offsets();
    o[o.len() - 1].as_usize() - o[0].as_usize()
}

/// A column's rows with a value, for [`Scratch::admits`].
enum Presence<'a> {
    /// No row has a value.
    None,
    /// Every row has one.
    All,
    /// The rows whose bit is set.
    Bits(&'a NullBuffer),
}

impl<'a> Presence<'a> {
    fn of_nulls(nulls: Option<&'a NullBuffer>) -> Presence<'a> {
        match nulls {
            Some(b) if b.null_count() > 0 => Presence::Bits(b),
            _ => Presence::All,
        }
    }

    fn of_text(t: &Text<'a>) -> Presence<'a> {
        // By value: the arrays' references live for `'a`, not for the borrow of `t`.
        match *t {
            Text::Absent => Presence::None,
            Text::Utf8(a) => Presence::of_nulls(a.nulls()),
            Text::Large(a) => Presence::of_nulls(a.nulls()),
            Text::View(a) => Presence::of_nulls(a.nulls()),
            Text::Dict { array, .. } => Presence::of_nulls(array.nulls()),
        }
    }
}

impl KindBits {
    /// Fills the bitmaps from each row's kind code.
    fn index(&mut self, codes: &[u8]) {
        let words = codes.len().div_ceil(64);
        for k in &mut self.0 {
            k.clear();
            k.resize(words, 0);
        }
        // A word of each bitmap at a time, built in registers from its 64 codes: one
        // store per word and kind rather than a read and a write of memory per row.
        for (j, block) in codes.chunks(64).enumerate() {
            let mut words = [0u64; N_KINDS];
            for (b, &c) in block.iter().enumerate() {
                if let Some(w) = words.get_mut(usize::from(c)) {
                    *w |= 1 << b;
                }
            }
            for (k, w) in self.0.iter_mut().zip(words) {
                k[j] = w;
            }
        }
    }

    /// Word `j` of the bitmap of rows whose kind is in `mask`.
    #[inline]
    fn rows_of(&self, mask: u8, j: usize) -> u64 {
        (0..N_KINDS).fold(0, |w, k| {
            if mask & (1 << k) != 0 {
                w | self.0[k][j]
            } else {
                w
            }
        })
    }

    /// Whether every row holds the field when its kind needs it, and only when its kind
    /// uses it: 64 rows a step.
    fn admits(&self, rule: Rule, present: Presence<'_>) -> bool {
        let words = self.0[0].len();
        let check = |j: usize, v: u64| {
            (v & !self.rows_of(rule.may, j)) | (!v & self.rows_of(rule.need, j)) == 0
        };
        match present {
            Presence::None => (0..words).all(|j| check(j, 0)),
            Presence::All => (0..words).all(|j| check(j, self.rows_of(ALL, j))),
            Presence::Bits(b) => b
                .inner()
                .bit_chunks()
                .iter_padded()
                // The padded remainder comes even when empty (a multiple of 64 rows).
                .take(words)
                .enumerate()
                .all(|(j, v)| check(j, v)),
        }
    }
}

/// One batch appended to `ev`.
fn read_batch(ev: &mut Events, batch: &RecordBatch, scratch: &mut Scratch) -> Option<()> {
    let schema = batch.schema();
    if schema
        .fields()
        .iter()
        .any(|f| !COLUMNS.contains(&f.name().as_str()))
    {
        return None;
    }
    let col = |name: &str| batch.column_by_name(name);
    // `qualified`: booleans (another type is the row reader's error).
    let flags = match col("qualified") {
        None => None,
        Some(q) => Some(q.as_boolean_opt()?),
    };
    let text = |name: &str| Text::of(col(name), name).ok();
    let amounts = |name: &str| Amounts::of(col(name), name).ok();
    let n = batch.num_rows();
    let start = ev.len();
    let Events {
        id,
        kind,
        at,
        partner,
        customer,
        channel,
        amount,
        tax,
        discount,
        currency,
        payment,
        partners,
        customers,
        payments,
        qualified,
        campaign,
        ip,
        product,
        subscription,
        order,
        wide: _,
    } = ev;
    let labels = [campaign, ip, product, subscription, order];

    // Kinds first: every other column's presence is checked against them.
    let kinds = text("kind")?;
    if !matches!(Presence::of_text(&kinds), Presence::All) {
        return None;
    }
    scratch.codes.clear();
    kind_codes(&kinds, n, &mut scratch.codes)?;
    let columns = [
        ("partner", PARTNER),
        ("customer", CUSTOMER),
        ("channel", CHANNEL),
        ("currency", CURRENCY),
        ("payment", PAYMENT_ID),
    ];
    let texts = columns
        .iter()
        .map(|(name, _)| text(name))
        .collect::<Option<Vec<_>>>()?;
    let [partner_t, customer_t, channel_t, currency_t, payment_t] = &texts[..] else {
        return None;
    };
    // The optional text fields, in the order of `LABELS`: a touch's or a payment's.
    let label_t = LABELS
        .iter()
        .map(|(name, _)| text(name))
        .collect::<Option<Vec<_>>>()?;
    let label_rule = |k: Kind| if k == Kind::Touch { TOUCH_LABEL } else { EXTRA };
    let amount_a = amounts("amount")?;
    let tax_a = amounts("tax")?;
    let discount_a = amounts("discount")?;
    // Whether every column holds a value exactly where its rows' kinds need or allow one,
    // checked 64 rows a step against the kinds' bitmaps.
    let admitted = |bits: &KindBits| -> bool {
        let texts_fit = texts
            .iter()
            .zip(columns)
            .all(|(t, (_, rule))| bits.admits(rule, Presence::of_text(t)));
        let amounts_fit = [(&amount_a, AMOUNT), (&tax_a, EXTRA), (&discount_a, EXTRA)]
            .into_iter()
            .all(|(a, rule)| match a {
                Amounts::Absent => bits.admits(rule, Presence::None),
                Amounts::Decimal(arr, _) => bits.admits(rule, Presence::of_nulls(arr.nulls())),
                // Decimal strings are present when they read: row by row in `Money`.
                Amounts::Text(_) => true,
            });
        let flags_fit = match flags {
            None => bits.admits(QUALIFIED, Presence::None),
            Some(q) => bits.admits(QUALIFIED, Presence::of_nulls(q.nulls())),
        };
        let labels_fit = label_t
            .iter()
            .zip(LABELS)
            .all(|(t, (_, k))| bits.admits(label_rule(k), Presence::of_text(t)));
        texts_fit && amounts_fit && flags_fit && labels_fit
    };
    let Scratch {
        codes,
        digits,
        kinds: bits,
    } = scratch;
    let codes = &codes[..];
    // Two halves on two threads, of about equal work. On one: the kinds' column and
    // bitmaps, the check of every column's presence against them, the customer column (a
    // dictionary lookup for nearly every row, then the customers' keys interned) and the
    // payment references (an interning for each refund). On the other: the ids, instants,
    // channels, currencies, amounts and partners. The halves write disjoint columns, and
    // each interner still sees its rows in order, so the result is the one a single thread
    // gives; a batch that fails the check is read in vain and left to the row reader.
    let (rest, names) = rayon::join(
        || -> Option<()> {
            ids(&text("id")?, n, id)?;
            times(&Times::of(col("at")).ok()?, at)?;
            each_value(channel_t, n, Channel::Link, channel, |s| match s {
                "link" => Some(Channel::Link),
                "coupon" => Some(Channel::Coupon),
                "deal_registration" => Some(Channel::DealRegistration),
                "manual" => Some(Channel::Manual),
                _ => None,
            })?;
            each_value(currency_t, n, None, currency, |s| {
                Currency::parse(s).map(Some)
            })?;
            // A row's minor-unit digits: its currency's for a payment, REFUND_DIGITS
            // otherwise (refunds; the other kinds hold no amount).
            digits.clear();
            digits.extend(
                codes
                    .iter()
                    .zip(&currency[start..])
                    .map(|(&k, c)| match (k, c) {
                        (PAYMENT, Some(c)) => c.digits() as u8,
                        _ => REFUND_DIGITS as u8,
                    }),
            );
            let money = Money {
                codes,
                digits,
                start,
                n,
            };
            money.read([&amount_a, &tax_a, &discount_a], [amount, tax, discount])?;
            interned(partner_t, n, partner, partners)?;
            for (t, l) in label_t.iter().zip(labels) {
                labels_of(t, n, start, l)?;
            }
            Some(())
        },
        || {
            kind.extend(codes.iter().map(|&c| KINDS[usize::from(c)]));
            bits.index(codes);
            if !admitted(bits) {
                return None;
            }
            interned(customer_t, n, customer, customers)?;
            // Kept only once a signup says (see `Events::qualified`).
            match flags.filter(|q| q.null_count() < q.len()) {
                Some(q) => {
                    qualified.resize(start, None);
                    qualified.extend((0..n).map(|i| q.is_valid(i).then(|| q.value(i))));
                }
                None if !qualified.is_empty() => qualified.resize(start + n, None),
                None => {}
            }
            interned(payment_t, n, payment, payments)
        },
    );
    rest?;
    names
}

/// What the amounts' columns are read with: each row's kind code and minor-unit digits,
/// for the `n` rows appended from `start`.
struct Money<'a> {
    codes: &'a [u8],
    digits: &'a [u8],
    start: usize,
    n: usize,
}

impl Money<'_> {
    /// The amount, tax and discount columns in minor units, with their checks.
    fn read(&self, a: [&Amounts<'_>; 3], out: [&mut Vec<i64>; 3]) -> Option<()> {
        let (codes, digits, start, n) = (self.codes, self.digits, self.start, self.n);
        let [amount_a, tax_a, discount_a] = a;
        let [amount, tax, discount] = out;
        // A refund of nothing is refused; a payment of 0 is an amount like any other.
        minor_units(amount_a, n, by(codes, AMOUNT), digits, amount, |i, m| {
            codes[i] != REFUND || m > 0
        })?;
        // Tax and discount are kept only once some batch has the column (see
        // `Events::tax`): a column a batch lacks is zeros, nothing written while the
        // column is still empty.
        for (a, out) in [(tax_a, &mut *tax), (discount_a, &mut *discount)] {
            match a {
                Amounts::Absent if out.is_empty() => {}
                Amounts::Absent => out.resize(start + n, 0),
                _ => {
                    out.resize(start, 0);
                    minor_units(a, n, by(codes, EXTRA), digits, out, |_, _| true)?;
                }
            }
        }
        // `amount` is the total charged: tax and discount fit in it. Without either
        // column both are zero, and zero fits in any amount read (`minor` refuses a
        // negative one): nothing to check.
        if matches!((tax_a, discount_a), (Amounts::Absent, Amounts::Absent)) {
            return Some(());
        }
        let a = &amount[start..];
        let extra = |col: &Vec<i64>, i: usize| i128::from(col.get(start + i).copied().unwrap_or(0));
        let fits = (0..n).fold(true, |ok, i| {
            ok & (extra(tax, i) + extra(discount, i) <= i128::from(a[i]))
        });
        fits.then_some(())
    }
}

/// Row by row, whether row `i` may hold (or lack) a field under `rule`.
fn by(codes: &[u8], rule: Rule) -> impl Fn(usize, bool) -> bool + '_ {
    move |i, present| rule.admits(codes[i], present)
}

/// Appends one value per row `i < n` to `out`: `f(i)` where the row holds a value, `none`
/// elsewhere. The null bitmap is read a 64-bit word at a time and only its set bits are
/// visited, so a sparse column (partners: touches only) costs little; `f` reports failure
/// through its own flag rather than an early return, so the loops stay straight.
#[inline(always)]
fn fill<T: Copy>(
    out: &mut Vec<T>,
    nulls: Option<&NullBuffer>,
    n: usize,
    none: T,
    mut f: impl FnMut(usize) -> T,
) {
    match nulls.filter(|b| b.null_count() > 0) {
        // Every row a value: written once, no `none` first.
        None => out.extend((0..n).map(f)),
        Some(b) => {
            let start = out.len();
            out.resize(start + n, none);
            let dst = &mut out[start..];
            let words = b.inner().bit_chunks().iter_padded().take(n.div_ceil(64));
            for (j, mut w) in words.enumerate() {
                while w != 0 {
                    let i = j * 64 + w.trailing_zeros() as usize;
                    dst[i] = f(i);
                    w &= w - 1;
                }
            }
        }
    }
}

/// A dictionary key as an index; a negative key reads as `usize::MAX`, past any dictionary.
trait Key: Copy {
    fn as_index(self) -> usize;
}

macro_rules! key {
    ($($t:ty),*) => {$(
        impl Key for $t {
            #[inline]
            fn as_index(self) -> usize {
                usize::try_from(self).unwrap_or(usize::MAX)
            }
        }
    )*};
}
key!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Calls `$body` with `$k` bound to the keys' slice in their own width.
macro_rules! with_keys {
    ($keys:expr, $k:ident => $body:expr) => {
        match $keys {
            Keys::I8($k) => $body,
            Keys::I16($k) => $body,
            Keys::I32($k) => $body,
            Keys::I64($k) => $body,
            Keys::U8($k) => $body,
            Keys::U16($k) => $body,
            Keys::U32($k) => $body,
            Keys::U64($k) => $body,
        }
    };
}

/// A kind's code (its index in [`KINDS`]), `None` for a string that names no kind.
fn kind_code(s: &str) -> Option<u8> {
    match s {
        "touch" => Some(TOUCH),
        "payment" => Some(PAYMENT),
        "refund" => Some(REFUND),
        "chargeback" => Some(CHARGEBACK),
        "signup" => Some(SIGNUP),
        _ => None,
    }
}

/// A dictionary value that names no kind, or a key past the dictionary: not a code.
const NO_KIND: u8 = u8::MAX;

/// Appends each of the `n` rows' kind code to `out` (every row has a kind: checked
/// before); `None` when a row's kind is not one.
///
/// This runs before the batch's columns are split between two threads, so its cost per
/// row is paid alone. A dictionary (what a log of a few kinds usually is) has its values
/// read once each into a table of codes, and each row is then a lookup of its key with no
/// branch, the check that every row found a kind a separate pass; [`each_value`] checks
/// at every row whether its key's value was read yet, several times the work a row (see
/// bench/README, twenty-first session). A value no row refers to is never an error, as
/// with `each_value`.
fn kind_codes(kinds: &Text<'_>, n: usize, out: &mut Vec<u8>) -> Option<()> {
    let Text::Dict {
        keys, values, len, ..
    } = kinds
    else {
        return each_value(kinds, n, 0, out, kind_code);
    };
    let table: Vec<u8> = (0..*len)
        .map(|k| values.get(k).and_then(kind_code).unwrap_or(NO_KIND))
        .collect();
    let code = |key: usize| table.get(key).copied().unwrap_or(NO_KIND);
    let start = out.len();
    with_keys!(keys, k => out.extend(k[..n].iter().map(|&key| code(key.as_index()))));
    (!out[start..].contains(&NO_KIND)).then_some(())
}

/// Appends one value per row of a dictionary column (`array`, its `keys` in their own
/// width) to `out`: `none` where the row is null, else `f` of the row's key as an index (a
/// negative key as `usize::MAX`, past any dictionary). Only the rows with a value are
/// visited ([`fill`]).
#[inline(always)]
fn each_key<T: Copy>(
    array: &dyn Array,
    keys: &Keys<'_>,
    n: usize,
    none: T,
    out: &mut Vec<T>,
    mut f: impl FnMut(usize) -> T,
) {
    with_keys!(keys, k => {
        let k = &k[..n];
        fill(out, array.nulls(), n, none, |i| f(k[i].as_index()))
    });
}

/// Appends one value per row to `out`: `none` where the row has no value, else `f` of the
/// row's string (`None` from `f` gives up). A dictionary's values go through `f` once
/// each, at their first row, so `f` may intern. Which rows may hold a value is checked
/// before ([`Scratch::admits`]).
fn each_value<T: Copy>(
    text: &Text<'_>,
    n: usize,
    none: T,
    out: &mut Vec<T>,
    mut f: impl FnMut(&str) -> Option<T>,
) -> Option<()> {
    out.reserve(n);
    let ok = std::cell::Cell::new(true);
    let mut cell = |s: Option<&str>| {
        s.and_then(&mut f).unwrap_or_else(|| {
            ok.set(false);
            none
        })
    };
    match text {
        Text::Absent => out.extend(std::iter::repeat_n(none, n)),
        Text::Utf8(a) => fill(out, a.nulls(), n, none, |i| cell(Some(a.value(i)))),
        Text::Large(a) => fill(out, a.nulls(), n, none, |i| cell(Some(a.value(i)))),
        Text::View(a) => fill(out, a.nulls(), n, none, |i| cell(Some(a.value(i)))),
        Text::Dict {
            array,
            keys,
            values,
            len,
        } => {
            // Each dictionary value mapped once, at its first row; a key past the
            // dictionary or a null value gives up.
            let mut seen: Vec<Option<T>> = vec![None; *len];
            each_key(*array, keys, n, none, out, |key| match seen.get(key) {
                Some(Some(v)) => *v,
                Some(None) => {
                    let v = cell(values.get(key));
                    seen[key] = Some(v);
                    v
                }
                None => {
                    ok.set(false);
                    none
                }
            });
        }
    }
    ok.get().then_some(())
}

/// An optional text column's `n` rows appended from row `start` (see [`Labels`]): kept
/// empty while no row has a value, as the row reader keeps it.
fn labels_of(text: &Text<'_>, n: usize, start: usize, out: &mut Labels) -> Option<()> {
    let any = match Presence::of_text(text) {
        Presence::None => false,
        Presence::All => n > 0,
        Presence::Bits(b) => b.null_count() < n,
    };
    if !any {
        if !out.rows.is_empty() {
            out.rows.resize(start + n, NONE);
        }
        return Some(());
    }
    out.rows.resize(start, NONE);
    interned(text, n, &mut out.rows, &mut out.values)
}

/// An interned column: indices into `into`, [`NONE`] where a row has no value.
fn interned(text: &Text<'_>, n: usize, out: &mut Vec<u32>, into: &mut Interner) -> Option<()> {
    match text {
        Text::Dict {
            array,
            keys,
            values,
            len,
        } => {
            // First the rows: each key numbered in the order its first row comes, without
            // reading its value; the numbers are written for the rows. Then the keys'
            // values, in that order, go to the interner: its first-seen order, as the row
            // reader's. A number is the value's index when the interner adopts them all
            // (new and distinct: the usual dictionary read once), and is mapped to it
            // otherwise. Adopting spares a probe of the interner's map at a random place
            // for each of hundreds of thousands of customers.
            //
            // `seen` holds four bytes a key (not `each_value`'s table of `Option`s): half
            // the table is half the cache misses when keys come in no order.
            let start = out.len();
            let mut seen: Vec<u32> = vec![NONE; *len];
            let mut order: Vec<usize> = Vec::new();
            let mut ok = true;
            out.reserve(n);
            each_key(*array, keys, n, NONE, out, |key| match seen.get_mut(key) {
                Some(v) if *v != NONE => *v,
                Some(v) => {
                    *v = u32::try_from(order.len()).unwrap_or_else(|_| {
                        ok = false;
                        NONE
                    });
                    order.push(key);
                    *v
                }
                None => {
                    ok = false;
                    NONE
                }
            });
            if !ok {
                return None;
            }
            let firsts: Vec<&str> = order
                .iter()
                .map(|&k| values.get(k))
                .collect::<Option<_>>()?;
            into.strings
                .reserve(firsts.len(), firsts.iter().map(|s| s.len()).sum());
            if into.adopt(firsts.iter().copied()) {
                return Some(());
            }
            into.reserve(firsts.len());
            let index: Vec<u32> = firsts.iter().map(|s| into.intern(s)).collect();
            if index.iter().enumerate().any(|(j, &i)| i as usize != j) {
                for v in &mut out[start..] {
                    if *v != NONE {
                        *v = index[*v as usize];
                    }
                }
            }
            Some(())
        }
        // Plain strings intern as they come: how many are distinct is not known, and room
        // for one a row would be a map sized for every row (ten million customers' rows
        // are half a million customers).
        _ => each_value(text, n, NONE, out, |s| Some(into.intern(s))),
    }
}

/// The id column: every row a non-empty string. An offset-layout column is copied as one
/// block with its offsets rebased.
fn ids(text: &Text<'_>, n: usize, out: &mut Strings) -> Option<()> {
    match text {
        Text::Utf8(a) => id_block(a, out),
        Text::Large(a) => id_block(a, out),
        // Views and dictionaries of ids: row by row, still without the row reader's checks
        // of the other columns.
        _ => {
            for i in 0..n {
                let s = text.get(i).filter(|s| !s.is_empty())?;
                out.push(s);
            }
            Some(())
        }
    }
}

/// [`ids`] over `utf8` or `large_utf8`.
fn id_block<O: arrow_array::OffsetSizeTrait>(
    a: &arrow_array::GenericStringArray<O>,
    out: &mut Strings,
) -> Option<()> {
    if a.null_count() > 0 {
        return None;
    }
    let offsets = a.value_offsets();
    let first = offsets[0].as_usize();
    let last = offsets[offsets.len() - 1].as_usize();
    // Arrow's strings are UTF-8 one by one; checking the block once also proves it a
    // `str` without unsafe code.
    let block = std::str::from_utf8(a.value_data().get(first..last)?).ok()?;
    let bytes = block.as_bytes();
    // Every id non-empty (so the offsets rise) and every end a character boundary (so
    // `Strings::get` can slice there): one pass, no early exit, so the loop vectorizes.
    let ok = offsets.windows(2).fold(true, |ok, w| {
        let end = w[1].as_usize() - first;
        ok & (w[1] > w[0]) & bytes.get(end).is_none_or(|&b| (b as i8) >= -0x40)
    });
    if !ok {
        return None;
    }
    out.extend_from_block(block, offsets[1..].iter().map(|o| o.as_usize() - first));
    Some(())
}

/// The `at` column in nanoseconds: every row a value, none outside `i64` nanoseconds.
fn times(t: &Times<'_>, out: &mut Vec<i64>) -> Option<()> {
    fn scaled<X: arrow_array::ArrowPrimitiveType<Native = i64>>(
        a: &arrow_array::PrimitiveArray<X>,
        mul: i64,
        out: &mut Vec<i64>,
    ) -> Option<()> {
        if a.null_count() > 0 {
            return None;
        }
        if mul == 1 {
            out.extend_from_slice(a.values());
            return Some(());
        }
        let mut ok = true;
        out.extend(a.values().iter().map(|&v| {
            let (x, over) = v.overflowing_mul(mul);
            ok &= !over;
            x
        }));
        ok.then_some(())
    }
    match t {
        Times::Absent => None,
        Times::Ns(a) => scaled(*a, 1, out),
        Times::Us(a) => scaled(*a, 1_000, out),
        Times::Ms(a) => scaled(*a, 1_000_000, out),
        Times::S(a) => scaled(*a, 1_000_000_000, out),
    }
}

/// Powers of ten that fit an `i64`.
const POW10: [i64; 19] = {
    let mut p = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// `m × 10^-s` in minor units of `digits` decimals: the row reader's common case (a
/// non-negative amount below 10^18 whose conversion fits 64 bits), `None` otherwise (the
/// row reader then decides, with its wide and error cases).
#[inline]
fn minor(m: i128, s: u32, digits: u32) -> Option<i64> {
    if !(0..1_000_000_000_000_000).contains(&m) {
        return None;
    }
    let m = m as i64;
    if s <= digits {
        return m.checked_mul(*POW10.get((digits - s) as usize)?);
    }
    // Exact division by the usual powers spelled out, so that each is a multiplication.
    let exact = |f: i64| (m % f == 0).then(|| m / f);
    match s - digits {
        1 => exact(10),
        2 => exact(100),
        3 => exact(1_000),
        4 => exact(10_000),
        e => exact(*POW10.get(e as usize)?),
    }
}

/// A decimal column in minor units: `digits[i]` decimals for row `i`, 0 where the row has
/// no value; `keep(i, m)` checks the row's mantissa. Which rows may hold a value is checked
/// before ([`Scratch::admits`]), but for decimal strings: `admits` row by row.
fn minor_units(
    a: &Amounts<'_>,
    n: usize,
    admits: impl Fn(usize, bool) -> bool,
    digits: &[u8],
    out: &mut Vec<i64>,
    keep: impl Fn(usize, i128) -> bool,
) -> Option<()> {
    match a {
        // A column the batch does not have is zeros: the kernel's zero pages when it is
        // the first batch, so that rows of nothing cost no memory until something writes
        // them. (Tax and discount do not come here: see `Money::read`.)
        Amounts::Absent if out.is_empty() => *out = vec![0; n],
        Amounts::Absent => out.extend(std::iter::repeat_n(0, n)),
        Amounts::Decimal(arr, s) => {
            let values = &arr.values()[..n];
            let digits = &digits[..n];
            let mut ok = true;
            out.reserve(n);
            fill(out, arr.nulls(), n, 0, |i| {
                let m = values[i];
                match minor(m, *s, u32::from(digits[i])) {
                    Some(x) if keep(i, m) => x,
                    _ => {
                        ok = false;
                        0
                    }
                }
            });
            if !ok {
                return None;
            }
        }
        Amounts::Text(_) => {
            out.reserve(n);
            for (i, &d) in digits[..n].iter().enumerate() {
                // The row reader's parse; its refusals are errors, so give up on them.
                let v = a.get(i, &String::new).ok()?;
                if !admits(i, v.is_some()) {
                    return None;
                }
                out.push(match v {
                    Some((m, s)) if keep(i, m) => minor(m, s, u32::from(d))?,
                    Some(_) => return None,
                    None => 0,
                });
            }
        }
    }
    Some(())
}
