//! Columns to record batches: the ledger, the totals, and events (for tests and benches).

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Int32Array, Int64Array,
    RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{Field, Schema};

use super::COLUMNS;
use super::select::{LedgerColumns, NAMES};
use crate::error::{Error, ErrorCode, Result};
use crate::fast::columns::{Events, LABELS, NONE, REFUND_DIGITS, Strings};
use crate::fast::ledger::{Ids, Ledger, Total, TotalsOf, totals_of};
use crate::fast::out::free_later;
use crate::money::Currency;

/// The events as one record batch (the schema [`super::events_from_batches`] reads): for tests
/// and benchmarks that need Arrow input.
///
/// # Errors
///
/// `InvalidValue` when strings exceed Arrow's 2 GiB `utf8` offsets.
pub fn events_to_batch(ev: &Events) -> Result<RecordBatch> {
    use arrow_array::types::Decimal128Type;
    let n = ev.len();
    let kind: Vec<i32> = ev
        .kind
        .iter()
        .map(|k| match k {
            crate::input::Kind::Touch => 0,
            crate::input::Kind::Payment => 1,
            crate::input::Kind::Refund => 2,
            crate::input::Kind::Signup => 4,
            _ => 3,
        })
        .collect();
    let kinds = strings_of(["touch", "payment", "refund", "chargeback", "signup"])?;
    let idx = |v: &[u32]| {
        Int32Array::new(
            ScalarBuffer::from(v.iter().map(|&x| x as i32).collect::<Vec<_>>()),
            Some(NullBuffer::from(
                v.iter().map(|&x| x != NONE).collect::<Vec<_>>(),
            )),
        )
    };
    let is = |k: crate::input::Kind| -> Vec<bool> { ev.kind.iter().map(|x| *x == k).collect() };
    let pay = is(crate::input::Kind::Payment);
    let refund = is(crate::input::Kind::Refund);
    let touch = is(crate::input::Kind::Touch);
    let signup = is(crate::input::Kind::Signup);
    let channel: Vec<i32> = ev
        .channel
        .iter()
        .map(|c| crate::fast::compile::channel_index(*c) as i32)
        .collect();
    // Payments in their currency's digits and refunds at REFUND_DIGITS: one scale, 4.
    let amount: Vec<i128> = (0..n)
        .map(|i| {
            let d = ev.currency[i].map_or(REFUND_DIGITS, |c| c.digits());
            let d = if refund[i] { REFUND_DIGITS } else { d };
            ev.amounts(i).0 * 10i128.pow(REFUND_DIGITS - d)
        })
        .collect();
    let scaled = |pick: fn((i128, i128, i128)) -> i128| -> Vec<i128> {
        (0..n)
            .map(|i| {
                let d = ev.currency[i].map_or(REFUND_DIGITS, |c| c.digits());
                pick(ev.amounts(i)) * 10i128.pow(REFUND_DIGITS - d)
            })
            .collect()
    };
    let dec = |v: Vec<i128>, valid: Vec<bool>| -> Result<ArrayRef> {
        Ok(Arc::new(
            arrow_array::PrimitiveArray::<Decimal128Type>::new(
                ScalarBuffer::from(v),
                Some(NullBuffer::from(valid)),
            )
            .with_precision_and_scale(38, REFUND_DIGITS as i8)
            .map_err(arrow_err)?,
        ))
    };
    let amount_valid: Vec<bool> = (0..n).map(|i| pay[i] || refund[i]).collect();
    let mut codes = Strings::default();
    let mut code_of: Vec<(Currency, i32)> = Vec::new();
    let currency: Vec<u32> = ev
        .currency
        .iter()
        .map(|c| match c {
            None => NONE,
            Some(c) => match code_of.iter().find(|(x, _)| x == c) {
                Some((_, k)) => *k as u32,
                None => {
                    codes.push(c.as_str());
                    code_of.push((*c, codes.len() as i32 - 1));
                    codes.len() as u32 - 1
                }
            },
        })
        .collect();
    let dict = |keys: Int32Array, values: ArrayRef| -> Result<ArrayRef> {
        Ok(Arc::new(
            DictionaryArray::<Int32Type>::try_new(keys, values).map_err(arrow_err)?,
        ))
    };
    let masked = |v: &[u32], keep: &[bool]| -> Vec<u32> {
        v.iter()
            .zip(keep)
            .map(|(&x, &k)| if k { x } else { NONE })
            .collect()
    };
    let customer_rows: Vec<bool> = (0..n).map(|i| touch[i] || pay[i] || signup[i]).collect();
    let reversal_rows: Vec<bool> = (0..n).map(|i| !touch[i] && !pay[i] && !signup[i]).collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(&ev.id)?),
        dict(
            Int32Array::new(ScalarBuffer::from(kind), None),
            Arc::new(kinds),
        )?,
        Arc::new(
            TimestampNanosecondArray::new(ScalarBuffer::from(ev.at.clone()), None)
                .with_timezone("UTC"),
        ),
        dict(
            idx(&masked(&ev.partner, &touch)),
            Arc::new(string_array(&ev.partners.strings)?),
        )?,
        dict(
            idx(&masked(&ev.customer, &customer_rows)),
            Arc::new(string_array(&ev.customers.strings)?),
        )?,
        dict(
            Int32Array::new(
                ScalarBuffer::from(channel),
                Some(NullBuffer::from(touch.clone())),
            ),
            Arc::new(strings_of([
                "coupon",
                "deal_registration",
                "link",
                "manual",
            ])?),
        )?,
        dec(amount, amount_valid)?,
        dict(idx(&currency), Arc::new(string_array(&codes)?))?,
        dec(scaled(|a| a.1), pay.clone())?,
        dec(scaled(|a| a.2), pay.clone())?,
        dict(
            idx(&masked(&ev.payment, &reversal_rows)),
            Arc::new(string_array(&ev.payments.strings)?),
        )?,
    ];
    let mut names: Vec<&str> = COLUMNS[..columns.len()].to_vec();
    // `qualified` only when a signup says, and an optional text field only when a row
    // has one (the reader takes a column left out as all nulls).
    if !ev.qualified.is_empty() {
        columns.push(Arc::new(BooleanArray::from(ev.qualified.clone())));
        names.push("qualified");
    }
    for ((name, _), labels) in LABELS.iter().zip(ev.labels()) {
        if !labels.is_empty() {
            columns.push(dict(
                idx(&labels.rows),
                Arc::new(string_array(&labels.values.strings)?),
            )?);
            names.push(name);
        }
    }
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(name, c)| {
            Field::new(
                *name,
                c.data_type().clone(),
                *name != "id" && *name != "kind" && *name != "at",
            )
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}

fn arrow_err(e: arrow_schema::ArrowError) -> Error {
    Error::new(ErrorCode::Internal, "", format!("arrow: {e}"))
}

fn strings_of<const N: usize>(v: [&str; N]) -> Result<StringArray> {
    let mut s = Strings::default();
    for x in v {
        s.push(x);
    }
    string_array(&s)
}

/// A `utf8` array sharing the layout of `s` (offsets narrowed to 32 bits).
fn string_array(s: &Strings) -> Result<StringArray> {
    let (bytes, offsets) = s.parts();
    Ok(StringArray::new(
        OffsetBuffer::new(ScalarBuffer::from(narrow(offsets)?)),
        Buffer::from(bytes.as_bytes().to_vec()),
        None,
    ))
}

/// Offsets narrowed to `i32`. They never decrease ([`Strings`] keeps them so), so the last
/// one fitting means all do: one check, then a plain conversion the compiler vectorizes.
fn narrow(offsets: &[usize]) -> Result<Vec<i32>> {
    match offsets.last().map(|&o| i32::try_from(o)) {
        Some(Err(_)) => Err(too_long()),
        _ => Ok(offsets.iter().map(|&o| o as i32).collect()),
    }
}

/// Strings past an `i32` offset.
fn too_long() -> Error {
    Error::new(
        ErrorCode::InvalidValue,
        "",
        "strings beyond 2 GiB do not fit an Arrow utf8 column",
    )
}

/// Entries below which the id column is written in one piece.
const SPLIT_IDS: usize = 1 << 16;

/// The ledger's entry ids as one utf8 column, written straight into the buffers Arrow takes
/// over (no `String` per entry, no second copy of ten million ids). With more than one
/// thread the two halves of the entries are written at once and then joined (the second
/// half's bytes copied once, a fraction of the cost of writing them); the bytes are the
/// same either way.
fn id_column(l: &Ledger) -> Result<ArrayRef> {
    let n = l.len();
    // Entries `range`'s ids and their offsets (a leading 0, then where each id ends),
    // counted from the first one's start.
    let write = |range: std::ops::Range<usize>| -> Result<(String, Vec<i32>)> {
        let mut bytes = String::with_capacity(range.len() * 40);
        let mut offsets: Vec<i32> = Vec::with_capacity(range.len() + 1);
        offsets.push(0);
        for i in range {
            l.write_id(i, &mut bytes);
            offsets.push(i32::try_from(bytes.len()).map_err(|_| too_long())?);
        }
        Ok((bytes, offsets))
    };
    let (bytes, offsets) = if n < SPLIT_IDS || rayon::current_num_threads() == 1 {
        write(0..n)?
    } else {
        let (a, b) = rayon::join(|| write(0..n / 2), || write(n / 2..n));
        let ((mut bytes, mut offsets), (more, more_offsets)) = (a?, b?);
        let base = i32::try_from(bytes.len()).map_err(|_| too_long())?;
        bytes.push_str(&more);
        offsets.reserve(more_offsets.len());
        for o in &more_offsets[1..] {
            offsets.push(base.checked_add(*o).ok_or_else(too_long)?);
        }
        (bytes, offsets)
    };
    Ok(Arc::new(StringArray::new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes.into_bytes()),
        None,
    )))
}

/// The ledger as one record batch:
///
/// `id` utf8, `partner` dictionary, `kind` dictionary, `event` dictionary, `customer`
/// dictionary (null for entries without one), `rule` dictionary (nullable), `amount`
/// decimal128(38, s) with `s` the largest minor unit among the ledger's currencies (2 for
/// USD), `currency` dictionary, `status` dictionary (`pending`, `available`, `paid`),
/// `earned_at` and `available_at` timestamp[ns, UTC], and `explain` utf8 (canonical JSON)
/// when explanations were asked for.
///
/// # Errors
///
/// `InvalidValue` when a text column exceeds 2 GiB.
pub fn ledger_to_batch(l: &Ledger) -> Result<RecordBatch> {
    ledger_into_batch(l.clone())
}

/// [`ledger_to_batch`] taking the ledger: its number columns become the batch's buffers
/// where their layout allows (amounts, instants, dictionary keys), and its names' bytes
/// the dictionaries' value buffers, instead of being copied. At ten million entries that
/// is about 800 MB neither copied nor faulted in.
///
/// # Errors
///
/// As [`ledger_to_batch`].
pub fn ledger_into_batch(l: Ledger) -> Result<RecordBatch> {
    ledger_into_batch_with(l, &LedgerColumns::all())
}

/// [`ledger_into_batch`] writing only `columns` (in the canonical order, see
/// [`LedgerColumns`]): a column not asked for is not built (no id strings written, no
/// dictionary checked), and the ledger's data behind it is freed before the others are
/// written. [`LedgerColumns::all`] gives [`ledger_into_batch`]'s batch.
///
/// # Errors
///
/// As [`ledger_to_batch`], and `InvalidValue` when `columns` and the ledger's explanations
/// disagree ([`LedgerColumns::check_explain`]).
pub fn ledger_into_batch_with(l: Ledger, columns: &LedgerColumns) -> Result<RecordBatch> {
    Ok(ledger_batch(l, false, columns)?.0)
}

/// [`ledger_into_batch`] and [`totals_to_batch`] of the ledger's [`Ledger::totals`] at
/// once: the totals are summed while the ledger's id column is written, on another of
/// rayon's threads. The same batches as the two calls.
///
/// # Errors
///
/// As [`ledger_to_batch`].
pub fn ledger_and_totals_into_batches(l: Ledger) -> Result<(RecordBatch, RecordBatch)> {
    ledger_and_totals_into_batches_with(l, &LedgerColumns::all())
}

/// [`ledger_and_totals_into_batches`] writing only `columns` of the ledger (as
/// [`ledger_into_batch_with`]). The totals are summed from every entry, and the columns
/// they read are kept until they are (only the others are freed first): the same totals
/// whatever the columns.
///
/// # Errors
///
/// As [`ledger_into_batch_with`].
pub fn ledger_and_totals_into_batches_with(
    l: Ledger,
    columns: &LedgerColumns,
) -> Result<(RecordBatch, RecordBatch)> {
    let (ledger, totals) = ledger_batch(l, true, columns)?;
    Ok((ledger, totals_to_batch(&totals.unwrap_or_default())?))
}

/// What the second thread of [`ledger_batch`] derives from the ledger while the first
/// writes the id column: each part only when its column (or the totals) is asked for.
struct Side {
    totals: Option<Vec<Total>>,
    kind: Vec<u32>,
    status: Vec<u32>,
    currency: Vec<u32>,
    codes: Strings,
}

/// The entry kinds in the order of the `kind` dictionary.
const KINDS: [crate::ledger::EntryKind; 6] = [
    crate::ledger::EntryKind::Commission,
    crate::ledger::EntryKind::Override,
    crate::ledger::EntryKind::Bonus,
    crate::ledger::EntryKind::TrueUp,
    crate::ledger::EntryKind::Reversal,
    crate::ledger::EntryKind::Adjustment,
];

/// The places of the batch's columns in [`NAMES`] (and in [`ledger_batch`]'s slots).
mod col {
    pub const ID: usize = 0;
    pub const PARTNER: usize = 1;
    pub const KIND: usize = 2;
    pub const EVENT: usize = 3;
    pub const CUSTOMER: usize = 4;
    pub const RULE: usize = 5;
    pub const AMOUNT: usize = 6;
    pub const CURRENCY: usize = 7;
    pub const STATUS: usize = 8;
    pub const EARNED_AT: usize = 9;
    pub const AVAILABLE_AT: usize = 10;
    pub const EXPLAIN: usize = 11;
}

/// The ledger's `columns` as a record batch, and its totals when `with_totals`.
fn ledger_batch(
    mut l: Ledger,
    with_totals: bool,
    columns: &LedgerColumns,
) -> Result<(RecordBatch, Option<Vec<Total>>)> {
    use rayon::prelude::*;
    use std::mem::take;
    columns.check_explain(l.explain.is_some())?;
    let want = columns.mask(l.explain.is_some());
    // What neither a column asked for nor the totals read (the id column reads the kinds,
    // events, rules, partners and reversal links) is taken out of the ledger at once and
    // given back on another of rayon's threads: at ten million entries that is hundreds of
    // MB whose unmapping the writer need not wait for.
    let id = want[col::ID];
    free_later((
        (!want[col::EVENT] && !id).then(|| (take(&mut l.event), take(&mut l.event_names))),
        (!want[col::CUSTOMER]).then(|| (take(&mut l.customer), take(&mut l.customer_names))),
        (!want[col::RULE] && !id).then(|| (take(&mut l.rule), take(&mut l.rule_names))),
        (!id).then(|| std::mem::replace(&mut l.ids, Ids::Text(Strings::default()))),
        (!want[col::EARNED_AT]).then(|| take(&mut l.earned_at)),
        (!want[col::AVAILABLE_AT]).then(|| take(&mut l.available_at)),
        l.explain.take_if(|_| !want[col::EXPLAIN]),
    ));
    let totals_of = |l: &Ledger| totals_of(TotalsOf::of(l));
    // The id column (the largest, one string an entry) is written on one thread; what
    // only reads the ledger (the totals, the small dictionaries' keys) is done on another
    // (the totals' chunks spread over every thread that is free). Without the id column
    // the totals take the first thread's place.
    let totals_first = with_totals && !id;
    let ((ids, first_totals), side) = rayon::join(
        || {
            (
                id.then(|| id_column(&l)).transpose(),
                totals_first.then(|| totals_of(&l)),
            )
        },
        || {
            let side = Side {
                totals: (with_totals && !totals_first).then(|| totals_of(&l)),
                kind: if want[col::KIND] {
                    l.kind.iter().map(|&k| kind_key(k)).collect()
                } else {
                    Vec::new()
                },
                status: if want[col::STATUS] {
                    l.status.iter().map(|&s| status_key(s)).collect()
                } else {
                    Vec::new()
                },
                currency: Vec::new(),
                codes: Strings::default(),
            };
            if want[col::CURRENCY] {
                side.with_currencies(&l.currency)
            } else {
                side
            }
        },
    );
    let ids = ids?;
    let totals = first_totals.or(side.totals);
    // The ledger taken apart; what no column needs is freed (on another thread) before
    // the columns asked for are built.
    let Ledger {
        kind,
        status,
        partner,
        partner_names,
        event,
        event_names,
        customer,
        customer_names,
        rule,
        rule_names,
        ids: entry_ids,
        amount,
        currency,
        earned_at,
        available_at,
        explain,
    } = l;
    let amount = want[col::AMOUNT].then(|| {
        // The totals hold every currency the ledger does (one total at least each): their
        // minor units give the scale without another pass over the entries.
        let digits: Option<Vec<u32>> = totals
            .as_ref()
            .map(|t| t.iter().map(|t| t.currency.digits()).collect());
        scaled_amounts(amount, &currency, digits.as_deref())
    });
    free_later((kind, status, entry_ids, currency));
    let mut kind_names = Strings::default();
    for k in KINDS {
        kind_names.push(k.as_str());
    }
    let mut status_names = Strings::default();
    for s in ["pending", "available", "paid"] {
        status_names.push(s);
    }
    // Each dictionary column (its keys narrowed in place, a validity bitmap where keys are
    // missing, Arrow's check of every key against the values) is independent of the
    // others: they are built on rayon's threads, and collected in column order.
    let (dicts, unused): (Vec<_>, Vec<_>) = [
        (col::PARTNER, partner, partner_names),
        (col::KIND, side.kind, kind_names),
        (col::EVENT, event, event_names),
        (col::CUSTOMER, customer, customer_names),
        (col::RULE, rule, rule_names),
        (col::CURRENCY, side.currency, side.codes),
        (col::STATUS, side.status, status_names),
    ]
    .into_iter()
    .partition(|(c, _, _)| want[*c]);
    free_later(unused);
    let dicts: Vec<(usize, ArrayRef)> = dicts
        .into_par_iter()
        .map(|(c, k, names)| -> Result<(usize, ArrayRef)> {
            Ok((
                c,
                Arc::new(
                    DictionaryArray::<Int32Type>::try_new(keys(k), Arc::new(owned_strings(names)?))
                        .map_err(arrow_err)?,
                ),
            ))
        })
        .collect::<Result<_>>()?;
    let ts = |v: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampNanosecondArray::new(ScalarBuffer::from(v), None).with_timezone("UTC"))
    };
    let mut slots: [Option<ArrayRef>; NAMES.len()] = Default::default();
    slots[col::ID] = ids;
    for (c, a) in dicts {
        slots[c] = Some(a);
    }
    if let Some((amount, scale)) = amount {
        slots[col::AMOUNT] = Some(Arc::new(
            Decimal128Array::new(ScalarBuffer::from(amount), None)
                .with_precision_and_scale(38, scale as i8)
                .map_err(arrow_err)?,
        ));
    }
    slots[col::EARNED_AT] = want[col::EARNED_AT].then(|| ts(earned_at));
    slots[col::AVAILABLE_AT] = want[col::AVAILABLE_AT].then(|| ts(available_at));
    if let Some(ex) = explain {
        slots[col::EXPLAIN] = Some(Arc::new(owned_strings(ex)?));
    }
    let (fields, columns): (Vec<Field>, Vec<ArrayRef>) = NAMES
        .iter()
        .zip(slots)
        .filter_map(|(name, c)| {
            c.map(|c| {
                (
                    Field::new(*name, c.data_type().clone(), c.null_count() > 0),
                    c,
                )
            })
        })
        .unzip();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)?;
    Ok((batch, totals))
}

/// The amounts at one scale, the largest minor unit among the ledger's currencies (2 for
/// USD), and that scale. `digits`, when known, are the minor units of every currency the
/// ledger holds (the same scale, without a pass over `currency`).
fn scaled_amounts(
    mut amount: Vec<i128>,
    currency: &[Currency],
    digits: Option<&[u32]>,
) -> (Vec<i128>, u32) {
    let (scale, mixed) = match digits {
        Some(d) => {
            let scale = d.iter().copied().max().unwrap_or(2);
            (scale, d.iter().any(|&x| x != scale))
        }
        None => {
            let scale = currency.iter().map(|c| c.digits()).max().unwrap_or(2);
            (scale, currency.iter().any(|c| c.digits() != scale))
        }
    };
    // One currency (the usual case) scales every amount alike; otherwise a factor per
    // entry, from a table rather than a power per entry.
    if mixed {
        let factor: Vec<i128> = (0..=scale).map(|d| 10i128.pow(scale - d)).collect();
        for (a, c) in amount.iter_mut().zip(currency) {
            *a *= factor[c.digits() as usize];
        }
    }
    (amount, scale)
}

/// A status's key in the `status` dictionary (`pending`, `available`, `paid`).
fn status_key(s: crate::report::Status) -> u32 {
    match s {
        crate::report::Status::Pending => 0,
        crate::report::Status::Available => 1,
        crate::report::Status::Paid => 2,
    }
}

/// An entry kind's key in the `kind` dictionary ([`KINDS`] order, which a test holds it
/// to): a match, not a search per entry.
fn kind_key(k: crate::ledger::EntryKind) -> u32 {
    use crate::ledger::EntryKind;
    match k {
        EntryKind::Commission => 0,
        EntryKind::Override => 1,
        EntryKind::Bonus => 2,
        EntryKind::TrueUp => 3,
        EntryKind::Reversal => 4,
        EntryKind::Adjustment => 5,
    }
}

impl Side {
    /// The currency column's keys and codes, in first-seen order.
    fn with_currencies(mut self, currency: &[Currency]) -> Side {
        // One currency (a fast-path ledger always): every key is 0, zero pages as
        // allocated, rather than a search per entry.
        if let Some(&first) = currency.first()
            && currency.iter().all(|&c| c == first)
        {
            self.codes.push(first.as_str());
            self.currency = vec![0; currency.len()];
            return self;
        }
        let mut seen: Vec<Currency> = Vec::new();
        self.currency = currency
            .iter()
            .map(|c| match seen.iter().position(|x| x == c) {
                Some(k) => k as u32,
                None => {
                    seen.push(*c);
                    self.codes.push(c.as_str());
                    seen.len() as u32 - 1
                }
            })
            .collect();
        self
    }
}

/// Dictionary keys: indices narrowed to `i32` in place, with a validity bitmap only for a
/// column with nulls ([`NONE`]).
fn keys(v: Vec<u32>) -> Int32Array {
    let nulls = v.contains(&NONE).then(|| {
        NullBuffer::new(arrow_buffer::BooleanBuffer::collect_bool(v.len(), |i| {
            v[i] != NONE
        }))
    });
    // Same size and alignment: the collect reuses the vector's allocation.
    let values: Vec<i32> = v.into_iter().map(|x| x as i32).collect();
    Int32Array::new(ScalarBuffer::from(values), nulls)
}

/// [`string_array`] taking the strings: the bytes become the array's value buffer as they
/// are; only the offsets are narrowed.
fn owned_strings(s: Strings) -> Result<StringArray> {
    let (bytes, offsets) = s.into_parts();
    Ok(StringArray::new(
        OffsetBuffer::new(ScalarBuffer::from(narrow(&offsets)?)),
        Buffer::from_vec(bytes.into_bytes()),
        None,
    ))
}

/// Totals per partner and currency as a record batch: `partner` and `currency` utf8,
/// `entries` int64, and `earned`, `reversed`, `net`, `pending`, `available`, `paid` as
/// decimal128(38, s) with `s` the largest minor unit among the currencies.
///
/// # Errors
///
/// As [`ledger_to_batch`].
pub fn totals_to_batch(totals: &[Total]) -> Result<RecordBatch> {
    let scale = totals
        .iter()
        .map(|t| t.currency.digits())
        .max()
        .unwrap_or(2);
    let mut partner = Strings::default();
    let mut currency = Strings::default();
    for t in totals {
        partner.push(&t.partner);
        currency.push(t.currency.as_str());
    }
    let dec = |f: &dyn Fn(&Total) -> i128| -> Result<ArrayRef> {
        let v: Vec<i128> = totals
            .iter()
            .map(|t| f(t) * 10i128.pow(scale - t.currency.digits()))
            .collect();
        Ok(Arc::new(
            Decimal128Array::new(ScalarBuffer::from(v), None)
                .with_precision_and_scale(38, scale as i8)
                .map_err(arrow_err)?,
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(&partner)?),
        Arc::new(string_array(&currency)?),
        Arc::new(Int64Array::from(
            totals.iter().map(|t| t.entries as i64).collect::<Vec<_>>(),
        )),
        dec(&|t| t.earned)?,
        dec(&|t| t.reversed)?,
        dec(&|t| t.net())?,
        dec(&|t| t.pending)?,
        dec(&|t| t.available)?,
        dec(&|t| t.paid)?,
    ];
    let names = [
        "partner",
        "currency",
        "entries",
        "earned",
        "reversed",
        "net",
        "pending",
        "available",
        "paid",
    ];
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(name, c)| Field::new(*name, c.data_type().clone(), false))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}

#[cfg(test)]
pub(super) mod tests {
    use super::{KINDS, id_column, kind_key};
    use crate::fast::columns::{NONE, Strings};
    use crate::fast::ledger::{Ids, Ledger};
    use crate::ledger::EntryKind;
    use crate::money::Currency;
    use crate::report::Status;
    use arrow_array::{Array, StringArray};

    /// A ledger of `n` entries with derived ids: commissions with and without a rule, and
    /// reversals (of an entry a few places back, so some chunk boundaries fall between a
    /// reversal and what it reverses), over names of different lengths.
    pub(in crate::fast::arrow) fn ledger(n: usize) -> Ledger {
        let names = |prefix: &str, k: usize| {
            let mut s = Strings::default();
            for i in 0..k {
                s.push(&format!("{prefix}{}", "x".repeat(i % 7) + &i.to_string()));
            }
            s
        };
        let mut rule_names = Strings::default();
        rule_names.push("base");
        let mut l = Ledger {
            kind: Vec::new(),
            status: vec![Status::Pending; n],
            partner: Vec::new(),
            partner_names: names("partner", 37),
            event: Vec::new(),
            event_names: names("e", n),
            customer: vec![NONE; n],
            customer_names: Strings::default(),
            rule: Vec::new(),
            rule_names,
            ids: Ids::Derived {
                reverses: Vec::new(),
            },
            amount: vec![0; n],
            currency: vec![Currency::parse("USD").expect("USD"); n],
            earned_at: vec![0; n],
            available_at: vec![0; n],
            explain: None,
        };
        let mut reverses = Vec::with_capacity(n);
        for i in 0..n {
            let reversal = i % 5 == 4;
            l.kind.push(if reversal {
                EntryKind::Reversal
            } else {
                EntryKind::Commission
            });
            l.partner.push((i % 37) as u32);
            l.event.push(i as u32);
            l.rule.push(if i % 3 == 0 { NONE } else { 0 });
            reverses.push(if reversal { (i - 3) as u32 } else { NONE });
        }
        l.ids = Ids::Derived { reverses };
        l
    }

    fn values(a: &arrow_array::ArrayRef) -> Vec<String> {
        let s = a.as_any().downcast_ref::<StringArray>().expect("utf8");
        (0..s.len()).map(|i| s.value(i).to_owned()).collect()
    }

    /// The id column holds each entry's id as `Ledger::id` writes it, on one thread (one
    /// loop) and on two and three (two halves written at once, then joined), for derived
    /// and for written-out ids.
    #[test]
    fn id_column_holds_every_id_on_any_number_of_threads() {
        let derived = ledger(200_003);
        let want: Vec<String> = (0..derived.len()).map(|i| derived.id(i)).collect();
        assert_eq!(want[4], "reversal:exxxx4:commission:ex1:base:partnerx1");
        assert_eq!(want[3], "commission:exxx3:partnerxxx3");
        let mut text = derived.clone();
        let mut written = Strings::default();
        for id in &want {
            written.push(id);
        }
        text.ids = Ids::Text(written);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            for l in [&derived, &text] {
                let col = pool.install(|| id_column(l)).expect("id column");
                assert!(values(&col) == want, "{threads} threads");
            }
        }
        let empty = ledger(0);
        assert_eq!(id_column(&empty).expect("empty").len(), 0);
    }

    /// The slots of `ledger_batch` (`col`) name the columns of `NAMES` they hold.
    #[test]
    fn column_slots_follow_the_names() {
        use super::NAMES;
        use super::col;
        let slots = [
            (col::ID, "id"),
            (col::PARTNER, "partner"),
            (col::KIND, "kind"),
            (col::EVENT, "event"),
            (col::CUSTOMER, "customer"),
            (col::RULE, "rule"),
            (col::AMOUNT, "amount"),
            (col::CURRENCY, "currency"),
            (col::STATUS, "status"),
            (col::EARNED_AT, "earned_at"),
            (col::AVAILABLE_AT, "available_at"),
            (col::EXPLAIN, "explain"),
        ];
        assert_eq!(slots.len(), NAMES.len());
        for (c, name) in slots {
            assert_eq!(NAMES[c], name);
        }
    }

    /// `kind_key`'s match and the `kind` dictionary's values (`KINDS`) are two lists of the
    /// same order: every kind's key is its place in the dictionary.
    #[test]
    fn kind_keys_follow_the_dictionary() {
        for (i, &k) in KINDS.iter().enumerate() {
            assert_eq!(kind_key(k) as usize, i, "{}", k.as_str());
        }
    }
}
