//! The two readers against each other and against the columns written.

use std::sync::Arc;

use arrow_array::types::{
    ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, RecordBatch, StringArray};

use super::{columns, events_from_batches, events_from_batches_by_rows as read_rows};
use crate::error::Result;
use crate::fast::arrow::events_to_batch;
use crate::fast::columns::{Events, LABELS};
use crate::money::Currency;
use crate::plan::Channel;

/// Turns plain strings into a dictionary column.
type Encode = fn(&[Option<String>]) -> ArrayRef;

/// A string column, plain or an `Int32` dictionary, as plain strings (`None`: neither).
fn decoded(a: &ArrayRef) -> Option<Vec<Option<String>>> {
    if let Some(s) = a.as_any().downcast_ref::<StringArray>() {
        return Some(
            (0..s.len())
                .map(|i| s.is_valid(i).then(|| s.value(i).to_owned()))
                .collect(),
        );
    }
    let d = a.as_any().downcast_ref::<DictionaryArray<Int32Type>>()?;
    let values = d.values().as_any().downcast_ref::<StringArray>()?;
    Some(
        (0..d.len())
            .map(|i| {
                d.is_valid(i)
                    .then(|| values.value(d.keys().value(i) as usize).to_owned())
            })
            .collect(),
    )
}

/// Strings as a dictionary with keys of type `K`: one value per row, reversed, plus one
/// value no row uses, so that a key is never its row number.
fn dictionary<K: ArrowDictionaryKeyType>(s: &[Option<String>]) -> ArrayRef
where
    K::Native: TryFrom<usize>,
{
    let n = s.len();
    let mut values: Vec<&str> = vec!["unused"];
    values.extend(s.iter().rev().map(|v| v.as_deref().unwrap_or("")));
    let keys: PrimitiveArray<K> = (0..n)
        .map(|i| {
            s[i].is_some().then(|| {
                K::Native::try_from(n - i)
                    .ok()
                    .expect("the test's keys fit")
            })
        })
        .collect();
    let values: ArrayRef = Arc::new(StringArray::from(values));
    Arc::new(DictionaryArray::<K>::try_new(keys, values).expect("dictionary"))
}

fn same(a: &Events, b: &Events) {
    assert_eq!(a.id, b.id);
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.at, b.at);
    assert_eq!(a.partner, b.partner);
    assert_eq!(a.customer, b.customer);
    assert_eq!(a.channel, b.channel);
    assert_eq!(a.amount, b.amount);
    // By value: a column no event has a value in may be kept empty (`Events::tax`).
    let extras = |e: &Events| -> Vec<(i64, i64)> {
        (0..e.len()).map(|i| (e.tax(i), e.discount(i))).collect()
    };
    assert_eq!(extras(a), extras(b));
    let flags =
        |e: &Events| -> Vec<Option<bool>> { (0..e.len()).map(|i| e.qualified(i)).collect() };
    assert_eq!(flags(a), flags(b));
    assert_eq!(a.wide, b.wide);
    assert_eq!(a.currency, b.currency);
    assert_eq!(a.payment, b.payment);
    assert_eq!(a.partners.strings, b.partners.strings);
    assert_eq!(a.customers.strings, b.customers.strings);
    assert_eq!(a.payments.strings, b.payments.strings);
    // The optional text fields by value too, and their values in first-seen order.
    let labels = |e: &Events| -> Vec<Vec<Option<String>>> {
        (0..e.len())
            .map(|i| {
                e.labels()
                    .iter()
                    .map(|l| l.text(i).map(str::to_owned))
                    .collect()
            })
            .collect()
    };
    assert_eq!(labels(a), labels(b));
    for (x, y) in a.labels().iter().zip(b.labels()) {
        assert_eq!(x.values.strings, y.values.strings);
    }
}

#[test]
fn dictionary_columns_of_every_key_width_read_as_plain_strings() {
    let usd = Currency::parse("USD").expect("USD");
    let mut ev = Events::default();
    ev.push_touch("t1", 10, "p1", "c1", Channel::Link);
    ev.push_touch("t2", 20, "p2", "c2", Channel::Coupon);
    ev.push_payment("pay1", 30, "c1", 1_000, 0, 0, usd);
    ev.push_payment("pay2", 40, "c2", 2_000, 0, 0, usd);
    ev.push_reversal("r1", 50, "pay1", Some(5_000_000), Some(usd));
    let plain = events_to_batch(&ev).expect("batch");
    let want = events_from_batches(std::slice::from_ref(&plain), usd).expect("plain");
    same(&want, &ev);
    let encode: [Encode; 8] = [
        dictionary::<Int8Type>,
        dictionary::<Int16Type>,
        dictionary::<Int32Type>,
        dictionary::<Int64Type>,
        dictionary::<UInt8Type>,
        dictionary::<UInt16Type>,
        dictionary::<UInt32Type>,
        dictionary::<UInt64Type>,
    ];
    for (w, f) in encode.iter().enumerate() {
        let schema = plain.schema();
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        let mut encoded = 0;
        for (field, col) in schema.fields().iter().zip(plain.columns()) {
            let col = match decoded(col) {
                Some(s) if field.name() != "id" => {
                    encoded += 1;
                    f(&s)
                }
                _ => col.clone(),
            };
            fields.push(arrow_schema::Field::new(
                field.name(),
                col.data_type().clone(),
                true,
            ));
            columns.push(col);
        }
        assert_eq!(encoded, 6, "every string column but the id is a dictionary");
        let batch = RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns)
            .expect("dictionary batch");
        let got = column_wise(std::slice::from_ref(&batch));
        same(&got, &want);
        // A slice keeps reading its own rows.
        let tail = column_wise(&[batch.slice(2, 3)]);
        assert_eq!(tail.len(), 3, "width {w}");
        assert_eq!(tail.customers.strings.get(0), "c1");
        assert_eq!(tail.payments.strings.get(0), "pay1");
    }
}

/// Reads `batches` with both readers: the column reader must read them (`Some`) and read
/// them as the row reader does.
fn column_wise(batches: &[RecordBatch]) -> Events {
    let usd = Currency::parse("USD").expect("USD");
    let rows = read_rows(batches, usd).expect("the row reader reads the batches");
    let cols = columns::read(batches).expect("the column reader reads the batches");
    same(&cols, &rows);
    let public = events_from_batches(batches, usd).expect("reads");
    same(&public, &rows);
    cols
}

/// Reads `batches` with both readers when the row reader may refuse them: the column reader
/// never accepts what the row reader refuses and never reads differently, and the public
/// reader answers exactly as the row reader does. The row reader's answer.
fn either(batches: &[RecordBatch]) -> (Result<Events>, bool) {
    let usd = Currency::parse("USD").expect("USD");
    let rows = read_rows(batches, usd);
    let cols = columns::read(batches);
    let public = events_from_batches(batches, usd);
    match (&rows, &cols, &public) {
        (Ok(r), Some(c), Ok(p)) => {
            same(c, r);
            same(p, r);
        }
        (Ok(r), None, Ok(p)) => same(p, r),
        (Err(r), None, Err(p)) => assert_eq!(p.to_json(), r.to_json()),
        (r, c, p) => panic!(
            "readers disagree: rows {:?}, columns {}, public {:?}",
            r.as_ref().map(Events::len),
            c.is_some(),
            p.as_ref().map(Events::len)
        ),
    }
    let fast = cols.is_some();
    (rows, fast)
}

/// How a test table writes its string columns.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Utf8,
    Large,
    View,
    /// A dictionary with `Int16` keys over values in reverse order of first use, with a
    /// value no row uses.
    Dict,
}

/// Events as plain cells, one vector per column, to build batches of any layout from and
/// to break one cell at a time.
#[derive(Clone)]
struct Table {
    id: Vec<Option<&'static str>>,
    kind: Vec<Option<&'static str>>,
    at: Vec<Option<i64>>,
    partner: Vec<Option<&'static str>>,
    customer: Vec<Option<&'static str>>,
    channel: Vec<Option<&'static str>>,
    /// Decimal128 mantissas at `scale`.
    amount: Vec<Option<i128>>,
    currency: Vec<Option<&'static str>>,
    tax: Vec<Option<i128>>,
    discount: Vec<Option<i128>>,
    payment: Vec<Option<&'static str>>,
    /// The optional text fields, in the order of `LABELS` (campaign, ip, product,
    /// subscription, order).
    labels: [Vec<Option<&'static str>>; 5],
    scale: i8,
}

impl Table {
    /// Every kind, three currencies of 2, 0 and 3 digits, tax and discount, refunds with and
    /// without a currency, a chargeback: each row valid.
    fn valid() -> Table {
        type Row = (
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<i128>,
            Option<&'static str>,
            Option<i128>,
            Option<i128>,
            Option<&'static str>,
        );
        let rows: [Row; 10] = [
            (
                "t1",
                "touch",
                Some("p1"),
                Some("c1"),
                Some("link"),
                None,
                None,
                None,
                None,
                None,
            ),
            (
                "t2",
                "touch",
                Some("p2"),
                Some("c2"),
                Some("coupon"),
                None,
                None,
                None,
                None,
                None,
            ),
            (
                "t3",
                "touch",
                Some("p1"),
                Some("c3"),
                Some("deal_registration"),
                None,
                None,
                None,
                None,
                None,
            ),
            (
                "y1",
                "payment",
                None,
                Some("c1"),
                None,
                Some(1_000_000),
                Some("USD"),
                Some(100_000),
                Some(50_000),
                None,
            ),
            (
                "y2",
                "payment",
                None,
                Some("c2"),
                None,
                Some(20_000),
                Some("JPY"),
                None,
                Some(10_000),
                None,
            ),
            (
                "y3",
                "payment",
                None,
                Some("c3"),
                None,
                Some(12_345_000),
                Some("BHD"),
                Some(0),
                None,
                None,
            ),
            (
                "r1",
                "refund",
                None,
                None,
                None,
                Some(2_500),
                None,
                None,
                None,
                Some("y1"),
            ),
            (
                "r2",
                "refund",
                None,
                None,
                None,
                Some(5_000),
                Some("JPY"),
                None,
                None,
                Some("y2"),
            ),
            (
                "k1",
                "chargeback",
                None,
                None,
                None,
                None,
                Some("BHD"),
                None,
                None,
                Some("y3"),
            ),
            (
                "t4",
                "touch",
                Some("p3"),
                Some("c1"),
                Some("manual"),
                None,
                None,
                None,
                None,
                None,
            ),
        ];
        let mut t = Table {
            id: vec![],
            kind: vec![],
            at: vec![],
            partner: vec![],
            customer: vec![],
            channel: vec![],
            amount: vec![],
            currency: vec![],
            tax: vec![],
            discount: vec![],
            payment: vec![],
            labels: Default::default(),
            scale: 4,
        };
        // Campaigns and an IP on two touches; a product, subscription and order on two
        // payments (the other rows have none).
        let labels_of = |id: &str| -> [Option<&'static str>; 5] {
            match id {
                "t1" => [Some("spring"), Some("10.0.0.1"), None, None, None],
                "t2" => [Some("fall"), None, None, None, None],
                "y1" => [None, None, Some("pro"), Some("s1"), Some("o1")],
                "y2" => [None, None, Some("basic"), None, Some("o2")],
                _ => [None; 5],
            }
        };
        for (i, r) in rows.into_iter().enumerate() {
            for (col, v) in t.labels.iter_mut().zip(labels_of(r.0)) {
                col.push(v);
            }
            t.id.push(Some(r.0));
            t.kind.push(Some(r.1));
            t.at.push(Some(1_767_225_600_000_000_000 + i as i64 * 1_000_000_000));
            t.partner.push(r.2);
            t.customer.push(r.3);
            t.channel.push(r.4);
            t.amount.push(r.5);
            t.currency.push(r.6);
            t.tax.push(r.7);
            t.discount.push(r.8);
            t.payment.push(r.9);
        }
        t
    }

    /// The table repeated `k` times (ids made unique need not be: the readers do not check).
    fn times(&self, k: usize) -> Table {
        let mut t = self.clone();
        for _ in 1..k {
            t.id.extend(&self.id);
            t.kind.extend(&self.kind);
            t.at.extend(&self.at);
            t.partner.extend(&self.partner);
            t.customer.extend(&self.customer);
            t.channel.extend(&self.channel);
            t.amount.extend(&self.amount);
            t.currency.extend(&self.currency);
            t.tax.extend(&self.tax);
            t.discount.extend(&self.discount);
            t.payment.extend(&self.payment);
            for (col, more) in t.labels.iter_mut().zip(&self.labels) {
                col.extend(more);
            }
        }
        t
    }

    fn strings(v: &[Option<&str>], layout: Layout) -> ArrayRef {
        match layout {
            Layout::Utf8 => Arc::new(StringArray::from(v.to_vec())),
            Layout::Large => Arc::new(arrow_array::LargeStringArray::from(v.to_vec())),
            Layout::View => Arc::new(arrow_array::StringViewArray::from(v.to_vec())),
            Layout::Dict => {
                let mut values: Vec<&str> = Vec::new();
                for s in v.iter().flatten() {
                    if !values.contains(s) {
                        values.push(s);
                    }
                }
                values.reverse();
                values.push("unused");
                let keys: PrimitiveArray<Int16Type> = v
                    .iter()
                    .map(|s| s.map(|s| values.iter().position(|x| *x == s).expect("value") as i16))
                    .collect();
                Arc::new(
                    DictionaryArray::<Int16Type>::try_new(
                        keys,
                        Arc::new(StringArray::from(values)),
                    )
                    .expect("dictionary"),
                )
            }
        }
    }

    fn decimals(&self, v: &[Option<i128>]) -> ArrayRef {
        Arc::new(
            arrow_array::Decimal128Array::from(v.to_vec())
                .with_precision_and_scale(38, self.scale)
                .expect("decimal"),
        )
    }

    /// The table as one batch: ids in `id_layout`, the other string columns in `layout`.
    fn batch(&self, id_layout: Layout, layout: Layout) -> RecordBatch {
        let at: ArrayRef = Arc::new(
            arrow_array::TimestampNanosecondArray::from(self.at.clone()).with_timezone("UTC"),
        );
        let mut columns = vec![
            ("id", Table::strings(&self.id, id_layout)),
            ("kind", Table::strings(&self.kind, layout)),
            ("at", at),
            ("partner", Table::strings(&self.partner, layout)),
            ("customer", Table::strings(&self.customer, layout)),
            ("channel", Table::strings(&self.channel, layout)),
            ("amount", self.decimals(&self.amount)),
            ("currency", Table::strings(&self.currency, layout)),
            ("tax", self.decimals(&self.tax)),
            ("discount", self.decimals(&self.discount)),
            ("payment", Table::strings(&self.payment, layout)),
        ];
        for ((name, _), col) in LABELS.iter().zip(&self.labels) {
            columns.push((name, Table::strings(col, layout)));
        }
        RecordBatch::try_from_iter(columns).expect("batch")
    }
}

const LAYOUTS: [Layout; 4] = [Layout::Utf8, Layout::Large, Layout::View, Layout::Dict];

#[test]
fn every_string_layout_reads_column_wise_as_row_wise() {
    let t = Table::valid().times(7);
    let want = column_wise(&[t.batch(Layout::Utf8, Layout::Utf8)]);
    assert_eq!(want.len(), 70);
    assert_eq!(want.partners.strings.get(0), "p1");
    for id in LAYOUTS {
        for text in LAYOUTS {
            let got = column_wise(&[t.batch(id, text)]);
            same(&got, &want);
        }
    }
}

#[test]
fn slices_and_several_batches_read_column_wise_as_row_wise() {
    // 70 rows: slices at offsets that are not multiples of 8 or 64 read their null bitmaps
    // from the middle of a byte.
    let t = Table::valid().times(7);
    for (i, layout) in LAYOUTS.into_iter().enumerate() {
        let b = t.batch(layout, layout);
        for (off, len) in [(0, 70), (3, 61), (13, 5), (69, 1), (70, 0), (1, 64)] {
            column_wise(&[b.slice(off, len)]);
        }
        // Several batches, each its own layout and dictionary, rows numbered across them.
        let other = t.batch(LAYOUTS[(i + 1) % 4], LAYOUTS[(i + 2) % 4]);
        let parts = [
            b.slice(0, 9),
            other.slice(9, 30),
            b.slice(39, 31),
            other.slice(0, 0),
        ];
        let whole = column_wise(&parts);
        same(&whole, &column_wise(std::slice::from_ref(&b)));
    }
}

#[test]
fn every_timestamp_unit_and_decimal_strings_read_column_wise() {
    let t = Table::valid();
    let b = t.batch(Layout::Utf8, Layout::Dict);
    let want = column_wise(std::slice::from_ref(&b));
    let with = |name: &str, col: ArrayRef| {
        let schema = b.schema();
        let columns: Vec<(String, ArrayRef)> = schema
            .fields()
            .iter()
            .zip(b.columns())
            .map(|(f, c)| {
                let c = if f.name() == name {
                    col.clone()
                } else {
                    c.clone()
                };
                (f.name().clone(), c)
            })
            .collect();
        RecordBatch::try_from_iter(columns).expect("batch")
    };
    let secs: Vec<Option<i64>> = t.at.iter().map(|a| a.map(|a| a / 1_000_000_000)).collect();
    let units: [ArrayRef; 3] = [
        Arc::new(arrow_array::TimestampSecondArray::from(secs.clone()).with_timezone("UTC")),
        Arc::new(
            arrow_array::TimestampMillisecondArray::from(
                secs.iter()
                    .map(|s| s.map(|s| s * 1_000))
                    .collect::<Vec<_>>(),
            )
            .with_timezone("+02:00"),
        ),
        Arc::new(
            arrow_array::TimestampMicrosecondArray::from(
                secs.iter()
                    .map(|s| s.map(|s| s * 1_000_000))
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
    ];
    for u in units {
        same(&column_wise(&[with("at", u)]), &want);
    }
    // Amounts as decimal strings, in any scale.
    let text: Vec<Option<String>> = t
        .amount
        .iter()
        .map(|a| a.map(|m| format!("{}.{:04}", m / 10_000, m % 10_000)))
        .collect();
    let text: ArrayRef = Arc::new(StringArray::from(text));
    same(&column_wise(&[with("amount", text)]), &want);
}

/// A cell broken, the error code and the path the row reader gives.
type Case = (fn(&mut Table), &'static str, &'static str);

/// One broken cell: the row reader's error, and the column reader gives up.
fn refused(t: &Table, code: &str, path: &str) {
    for layout in LAYOUTS {
        let b = t.batch(layout, layout);
        let (rows, fast) = either(std::slice::from_ref(&b));
        let e = rows.expect_err("refused");
        assert!(!fast);
        assert_eq!(e.code().as_str(), code, "{layout:?}: {}", e.to_json());
        assert_eq!(e.path(), path, "{layout:?}");
        // The same row in a second batch keeps its number across batches.
        let ok = Table::valid().batch(layout, layout);
        let (rows, _) = either(&[ok, b]);
        let e = rows.expect_err("refused");
        assert_eq!(
            e.path(),
            path.replacen(
                &format!("[{}]", row_of(path)),
                &format!("[{}]", row_of(path) + 10),
                1,
            )
        );
    }
}

fn row_of(path: &str) -> usize {
    path["events[".len()..path.find(']').expect("row")]
        .parse()
        .expect("row number")
}

#[test]
fn every_refusal_is_the_row_readers() {
    let base = Table::valid();
    let cases: Vec<Case> = vec![
        (|t| t.id[4] = None, "MissingField", "events[4].id"),
        (|t| t.id[2] = Some(""), "InvalidValue", "events[2].id"),
        (|t| t.kind[5] = None, "MissingField", "events[5].kind"),
        (
            |t| t.kind[1] = Some("tap"),
            "InvalidValue",
            "events[1].kind",
        ),
        (
            |t| t.kind[1] = Some("assign"),
            "InvalidValue",
            "events[1].kind",
        ),
        (|t| t.at[7] = None, "MissingField", "events[7].at"),
        (
            |t| t.partner[3] = Some("p1"),
            "UnknownField",
            "events[3].partner",
        ),
        (|t| t.partner[0] = None, "MissingField", "events[0].partner"),
        (
            |t| t.customer[4] = None,
            "MissingField",
            "events[4].customer",
        ),
        (
            |t| t.customer[6] = Some("c1"),
            "UnknownField",
            "events[6].customer",
        ),
        (
            |t| t.channel[2] = Some("tv"),
            "InvalidValue",
            "events[2].channel",
        ),
        (|t| t.channel[2] = None, "MissingField", "events[2].channel"),
        (
            |t| t.channel[8] = Some("link"),
            "UnknownField",
            "events[8].channel",
        ),
        (
            |t| t.currency[3] = None,
            "MissingField",
            "events[3].currency",
        ),
        (
            |t| t.currency[3] = Some("XYZ"),
            "UnknownCurrency",
            "events[3].currency",
        ),
        (
            |t| t.currency[0] = Some("USD"),
            "UnknownField",
            "events[0].currency",
        ),
        (|t| t.amount[3] = None, "MissingField", "events[3].amount"),
        (
            |t| t.amount[3] = Some(-10_000),
            "InvalidValue",
            "events[3].amount",
        ),
        (
            |t| t.amount[4] = Some(20_500),
            "InvalidValue",
            "events[4].amount",
        ),
        (
            |t| t.amount[6] = Some(0),
            "InvalidValue",
            "events[6].amount",
        ),
        (
            |t| t.amount[7] = Some(-5),
            "InvalidValue",
            "events[7].amount",
        ),
        (
            |t| t.amount[8] = Some(100),
            "UnknownField",
            "events[8].amount",
        ),
        (
            |t| t.amount[0] = Some(100),
            "UnknownField",
            "events[0].amount",
        ),
        (
            |t| t.amount[3] = Some(10i128.pow(23)),
            "LimitExceeded",
            "events[3].amount",
        ),
        (
            |t| t.tax[3] = Some(2_000_000),
            "InvalidValue",
            "events[3].discount",
        ),
        (|t| t.tax[6] = Some(1), "UnknownField", "events[6].tax"),
        (
            |t| t.discount[5] = Some(1),
            "InvalidValue",
            "events[5].discount",
        ),
        (|t| t.payment[6] = None, "MissingField", "events[6].payment"),
        (|t| t.payment[8] = None, "MissingField", "events[8].payment"),
        (
            |t| t.payment[3] = Some("y1"),
            "UnknownField",
            "events[3].payment",
        ),
        // The optional text fields belong to touches (campaign, ip) or payments (product,
        // subscription, order).
        (
            |t| t.labels[2][0] = Some("pro"),
            "UnknownField",
            "events[0].product",
        ),
        (
            |t| t.labels[0][3] = Some("spring"),
            "UnknownField",
            "events[3].campaign",
        ),
        (
            |t| t.labels[1][6] = Some("1.2.3.4"),
            "UnknownField",
            "events[6].ip",
        ),
        (
            |t| t.labels[4][8] = Some("o9"),
            "UnknownField",
            "events[8].order",
        ),
        (
            |t| t.labels[3][9] = Some("s9"),
            "UnknownField",
            "events[9].subscription",
        ),
    ];
    for (i, (f, code, path)) in cases.into_iter().enumerate() {
        let mut t = base.clone();
        f(&mut t);
        eprintln!("case {i}: {path}");
        refused(&t, code, path);
    }
}

#[test]
fn what_the_column_reader_leaves_to_the_row_reader_reads_the_same() {
    // Amounts past 64-bit minor units: the row reader keeps them wide.
    let mut t = Table::valid();
    t.amount[3] = Some(9 * 10i128.pow(21));
    let (rows, fast) = either(&[t.batch(Layout::Utf8, Layout::Dict)]);
    assert!(!fast);
    assert_eq!(rows.expect("wide reads").wide.len(), 1);
    // A refund's currency that is a null dictionary value reads as no currency.
    let b = Table::valid().batch(Layout::Utf8, Layout::Utf8);
    let values: ArrayRef = Arc::new(StringArray::from(vec![
        Some("USD"),
        None,
        Some("JPY"),
        Some("BHD"),
    ]));
    let keys: PrimitiveArray<Int8Type> = vec![
        None,
        None,
        None,
        Some(0),
        Some(2),
        Some(3),
        Some(1),
        Some(2),
        Some(3),
        None,
    ]
    .into();
    let currency: ArrayRef =
        Arc::new(DictionaryArray::<Int8Type>::try_new(keys, values).expect("dictionary"));
    let columns: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| {
            let c = if f.name() == "currency" {
                currency.clone()
            } else {
                c.clone()
            };
            (f.name().clone(), c)
        })
        .collect();
    let b = RecordBatch::try_from_iter(columns).expect("batch");
    let (rows, fast) = either(&[b]);
    assert!(!fast);
    assert_eq!(rows.expect("reads").currency[6], None);
    // An unknown column and a floating-point amount: the row reader's errors.
    let b = Table::valid().batch(Layout::Utf8, Layout::Utf8);
    let extra = with_added(&b, "note", Table::strings(&Table::valid().id, Layout::Utf8));
    let (rows, fast) = either(&[extra]);
    assert!(!fast);
    assert_eq!(rows.expect_err("refused").path(), "events.note");
    let floats: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![1.0; 10]));
    let columns: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| {
            let c = if f.name() == "amount" {
                floats.clone()
            } else {
                c.clone()
            };
            (f.name().clone(), c)
        })
        .collect();
    let (rows, fast) = either(&[RecordBatch::try_from_iter(columns).expect("batch")]);
    assert!(!fast);
    assert_eq!(rows.expect_err("refused").path(), "events.amount");
}

/// `batch` without its `tax` and `discount` columns (the usual case: most event logs have
/// neither).
fn without_extras(b: &RecordBatch) -> RecordBatch {
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|&i| !matches!(b.schema().field(i).name().as_str(), "tax" | "discount"))
        .collect();
    b.project(&keep).expect("projection")
}

/// `batch` without the optional text columns (campaign, ip, product, subscription,
/// order).
fn without_labels(b: &RecordBatch) -> RecordBatch {
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|&i| !LABELS.iter().any(|(n, _)| b.schema().field(i).name() == n))
        .collect();
    b.project(&keep).expect("projection")
}

/// The optional text fields are kept only once a row has one, batch after batch, as the
/// row reader keeps them; written back by `events_to_batch` (only the columns that hold a
/// value), they read the same.
#[test]
fn optional_text_columns_are_kept_once_a_row_has_a_value() {
    let t = Table::valid();
    for layout in LAYOUTS {
        let with = t.batch(layout, layout);
        let bare = without_labels(&with);
        let none = column_wise(&[bare.clone(), bare.clone()]);
        assert!(none.labels().iter().all(|l| l.is_empty()));
        // All null: nothing kept either.
        let mut nulls = t.clone();
        for col in &mut nulls.labels {
            col.iter_mut().for_each(|v| *v = None);
        }
        let e = column_wise(&[nulls.batch(layout, layout)]);
        assert!(e.labels().iter().all(|l| l.is_empty()));
        for batches in [[bare.clone(), with.clone()], [with.clone(), bare.clone()]] {
            let e = column_wise(&batches);
            let first = if batches[0].num_columns() == bare.num_columns() {
                10
            } else {
                0
            };
            assert_eq!(e.product.text(first + 3), Some("pro"));
            assert_eq!(e.order.text(first + 4), Some("o2"));
            assert_eq!(e.campaign.text(first + 1), Some("fall"));
            assert_eq!(e.ip.text(first), Some("10.0.0.1"));
            let other = 10 - first;
            assert!((other..other + 10).all(|i| e.labels().iter().all(|l| l.get(i).is_none())));
            assert_eq!(e.subscription.values.strings.len(), 1);
            // Written back: the columns that hold a value, read the same.
            let back = events_to_batch(&e).expect("batch");
            let again = column_wise(std::slice::from_ref(&back));
            same(&again, &e);
        }
    }
}

#[test]
fn batches_without_tax_or_discount_read_as_zeros() {
    let mut t = Table::valid();
    t.tax = vec![None; t.tax.len()];
    t.discount = vec![None; t.discount.len()];
    for layout in LAYOUTS {
        let b = without_extras(&t.batch(layout, layout));
        assert_eq!(b.num_columns(), 9 + LABELS.len());
        // Without the columns, nothing is kept for them, batch after batch: every row
        // reads 0.
        let one = column_wise(std::slice::from_ref(&b));
        let two = column_wise(&[b.clone(), b.clone()]);
        for e in [&one, &two] {
            assert!(e.tax.is_empty() && e.discount.is_empty());
            assert!((0..e.len()).all(|i| (e.tax(i), e.discount(i)) == (0, 0)));
        }
        assert_eq!(two.len(), 20);
        // With the columns, all null: the same events.
        same(&one, &column_wise(&[t.batch(layout, layout)]));
    }
    // A batch without the columns next to one with them, in either order: the rows of the
    // first read 0, the others their own values, as the row reader reads them (the
    // column is kept for every row once one batch has it).
    let full = Table::valid();
    for layout in LAYOUTS {
        let with = full.batch(layout, layout);
        let bare = without_extras(&t.batch(layout, layout));
        let n = bare.num_rows();
        // The full batch's own values, as the row reader reads it alone.
        let usd = Currency::parse("USD").expect("USD");
        let alone = read_rows(std::slice::from_ref(&with), usd).expect("reads");
        let want: Vec<(i64, i64)> = (0..n).map(|i| (alone.tax(i), alone.discount(i))).collect();
        assert!(
            want.iter().any(|&x| x != (0, 0)),
            "the table has tax and discount"
        );
        for (batches, offset) in [([bare.clone(), with.clone()], n), ([with, bare], 0)] {
            let e = column_wise(&batches);
            assert_eq!((e.tax.len(), e.discount.len()), (2 * n, 2 * n));
            for i in 0..2 * n {
                let got = (e.tax(i), e.discount(i));
                match i.checked_sub(offset) {
                    Some(k) if k < n => assert_eq!(got, want[k], "row {i}"),
                    _ => assert_eq!(got, (0, 0), "row {i}"),
                }
            }
        }
    }
    // A payment below zero is still refused where the row reader refuses it, at its path,
    // when there is no tax or discount to fit in it (the fit check is skipped then: the
    // amount's own reading refuses it).
    let mut neg = t.clone();
    neg.amount[3] = Some(-10_000);
    for layout in LAYOUTS {
        let b = without_extras(&neg.batch(layout, layout));
        let (rows, fast) = either(std::slice::from_ref(&b));
        let e = rows.expect_err("refused");
        assert!(!fast);
        assert_eq!(
            (e.code().as_str(), e.path()),
            ("InvalidValue", "events[3].amount")
        );
    }
}

/// The `customer` column as an `Int16` dictionary whose value for key 1 is null, and
/// whose null rows' key slots hold key 0 (a used value: only the validity bitmap says they
/// are null).
fn customers_with_a_null_value(t: &Table, null_at: usize) -> ArrayRef {
    let values: ArrayRef = Arc::new(StringArray::from(vec![
        Some("c1"),
        None,
        Some("c2"),
        Some("c3"),
    ]));
    let key = |s: &str| match s {
        "c1" => 0i16,
        "c2" => 2,
        _ => 3,
    };
    let slots: Vec<i16> = t
        .customer
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            _ if i == null_at => 1,
            Some(c) => key(c),
            None => 0,
        })
        .collect();
    let valid: Vec<bool> = t.customer.iter().map(Option::is_some).collect();
    let keys = PrimitiveArray::<Int16Type>::new(slots.into(), Some(valid.into()));
    Arc::new(DictionaryArray::<Int16Type>::try_new(keys, values).expect("dictionary"))
}

/// `b` with its `customer` column replaced by `customer`.
fn with_customer(b: &RecordBatch, customer: &ArrayRef) -> RecordBatch {
    with_column(b, "customer", customer)
}

/// `b` with its column `name` replaced by `column`.
fn with_column(b: &RecordBatch, name: &str, column: &ArrayRef) -> RecordBatch {
    RecordBatch::try_from_iter(b.schema().fields().iter().zip(b.columns()).map(|(f, c)| {
        let c = if f.name() == name {
            column.clone()
        } else {
            c.clone()
        };
        (f.name().clone(), c)
    }))
    .expect("batch")
}

/// `b` with a column `name` added after its own.
fn with_added(b: &RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
    RecordBatch::try_from_iter(
        b.schema()
            .fields()
            .iter()
            .zip(b.columns())
            .map(|(f, c)| (f.name().clone(), c.clone()))
            .chain([(name.to_owned(), column)]),
    )
    .expect("batch")
}

/// Signups read with their `qualified` flag, column-wise as row-wise, and what does not
/// belong to them is refused as in a JSON document.
#[test]
fn signups_read_with_their_flag_and_are_checked() {
    use arrow_array::BooleanArray;
    let usd = Currency::parse("USD").expect("USD");
    let mut ev = Events::default();
    ev.push_touch("t1", 1, "p1", "c1", Channel::Link);
    ev.push_signup("s1", 2, "c1", None);
    ev.push_signup("s2", 3, "c2", Some(false));
    ev.push_payment("p1", 4, "c1", 4_900, 0, 0, usd);
    ev.push_signup("s3", 5, "c3", Some(true));
    let batch = events_to_batch(&ev).expect("batch");
    let (read, fast) = either(std::slice::from_ref(&batch));
    let read = read.expect("reads");
    assert!(fast, "the column reader reads signups");
    same(&read, &ev);
    let flags: Vec<Option<bool>> = (0..read.len()).map(|i| read.qualified(i)).collect();
    assert_eq!(flags, [None, None, Some(false), None, Some(true)]);
    // Signups that do not say: no `qualified` column at all, and read back as not said.
    let mut quiet = Events::default();
    quiet.push_signup("s1", 2, "c1", None);
    let b = events_to_batch(&quiet).expect("batch");
    assert!(b.column_by_name("qualified").is_none());
    let (read, fast) = either(std::slice::from_ref(&b));
    let read = read.expect("reads");
    assert!(fast && read.qualified.is_empty() && read.qualified(0).is_none());
    // Over batches: a flag in the second fills the column for the first's rows.
    let (read, fast) = either(&[b.clone(), batch.clone()]);
    let read = read.expect("reads");
    assert!(fast);
    let flags: Vec<Option<bool>> = (0..read.len()).map(|i| read.qualified(i)).collect();
    assert_eq!(flags, [None, None, None, Some(false), None, Some(true)]);
    // And a batch without flags after one with them keeps the column whole.
    let (read, _) = either(&[batch.clone(), b.clone()]);
    assert_eq!(read.expect("reads").qualified.len(), 6);
    // A column of nulls only does not keep a batch from the column reader.
    let mut plain = Events::default();
    plain.push_touch("t1", 1, "p1", "c1", Channel::Link);
    let b = events_to_batch(&plain).expect("batch");
    let nulls: ArrayRef = Arc::new(BooleanArray::from(vec![None::<bool>]));
    let b = with_added(&b, "qualified", nulls);
    assert!(either(std::slice::from_ref(&b)).1);
    // Refusals, each the row reader's, with the row's path.
    let refusal = |b: &RecordBatch, code: &str, path: &str| {
        let (got, _) = either(std::slice::from_ref(b));
        let e = got.expect_err("refused").to_json();
        assert!(e.contains(code) && e.contains(path), "{e}");
    };
    // `qualified` on the touch.
    let on_touch: ArrayRef = Arc::new(BooleanArray::from(vec![
        Some(true),
        None,
        Some(false),
        None,
        Some(true),
    ]));
    refusal(
        &with_column(&batch, "qualified", &on_touch),
        "UnknownField",
        "events[0].qualified",
    );
    // A signup without its customer.
    let customers: ArrayRef = Arc::new(StringArray::from(vec![
        Some("c1"),
        None,
        Some("c2"),
        Some("c1"),
        Some("c3"),
    ]));
    refusal(
        &with_column(&batch, "customer", &customers),
        "MissingField",
        "events[1].customer",
    );
    // Flags written as strings.
    let words: ArrayRef = Arc::new(StringArray::from(vec![
        None,
        None,
        Some("false"),
        None,
        Some("true"),
    ]));
    refusal(
        &with_column(&batch, "qualified", &words),
        "InvalidValue",
        "events.qualified",
    );
}

#[test]
fn interned_dictionaries_read_their_validity_and_refuse_a_null_value() {
    let t = Table::valid();
    let b = t.batch(Layout::Utf8, Layout::Utf8);
    // No row on the null value: the rows whose key slot holds a used key but whose bit
    // says null read as no customer, exactly as the row reader reads them.
    let unused = t.customer.len();
    let got = column_wise(&[with_customer(&b, &customers_with_a_null_value(&t, unused))]);
    for (i, c) in t.customer.iter().enumerate() {
        match c {
            Some(c) => assert_eq!(got.customers.strings.get(got.customer[i] as usize), *c),
            None => assert_eq!(got.customer[i], crate::fast::columns::NONE, "row {i}"),
        }
    }
    // A touch (row 1) on the null value: the row reader's missing customer.
    let b = with_customer(&b, &customers_with_a_null_value(&t, 1));
    let (rows, fast) = either(&[b]);
    assert!(!fast);
    let e = rows.expect_err("refused");
    assert_eq!(e.code().as_str(), "MissingField");
    assert_eq!(e.path(), "events[1].customer");
}

/// The `customer` column as an `Int16` dictionary that holds each value twice (keys `2v`
/// and `2v + 1`), rows alternating between the two keys of their value.
fn customers_each_twice(t: &Table) -> ArrayRef {
    let mut names: Vec<&str> = Vec::new();
    for c in t.customer.iter().flatten() {
        if !names.contains(c) {
            names.push(c);
        }
    }
    let values: Vec<&str> = names.iter().flat_map(|c| [*c, *c]).collect();
    let keys: PrimitiveArray<Int16Type> = t
        .customer
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.map(|c| {
                let v = names.iter().position(|x| *x == c).expect("name") as i16;
                2 * v + (i % 2) as i16
            })
        })
        .collect();
    Arc::new(
        DictionaryArray::<Int16Type>::try_new(keys, Arc::new(StringArray::from(values)))
            .expect("dictionary"),
    )
}

#[test]
fn a_dictionary_holding_a_value_under_two_keys_interns_it_once() {
    // The column reader numbers keys, not values: two keys of one value must end as one
    // customer, alone in one batch and after a batch that interned the customers already.
    let t = Table::valid().times(3);
    let plain = t.batch(Layout::Utf8, Layout::Utf8);
    let want = column_wise(std::slice::from_ref(&plain));
    let twice = with_customer(&plain, &customers_each_twice(&t));
    let got = column_wise(std::slice::from_ref(&twice));
    same(&got, &want);
    let names = want.customers.strings.len();
    assert!(names >= 2, "the table names several customers");
    assert_eq!(got.customers.strings.len(), names);
    let split = column_wise(&[twice.slice(0, 7), twice.slice(7, t.id.len() - 7)]);
    same(&split, &want);
}

/// The kinds as an `Int8` dictionary of `values`, each row's key the position of its kind
/// among them.
fn kinds_in(t: &Table, values: Vec<Option<&str>>) -> ArrayRef {
    let keys: PrimitiveArray<arrow_array::types::Int8Type> = t
        .kind
        .iter()
        .map(|k| {
            let k = k.expect("every row has a kind");
            Some(values.iter().position(|v| *v == Some(k)).expect("kind") as i8)
        })
        .collect();
    Arc::new(
        DictionaryArray::try_new(keys, Arc::new(StringArray::from(values))).expect("dictionary"),
    )
}

#[test]
fn a_kinds_dictionary_is_read_by_its_used_values_only() {
    // The kinds are read from a table of the dictionary's values: a value no row uses,
    // even a null or one that names no kind, is never read as a row's kind.
    let t = Table::valid().times(2);
    let plain = t.batch(Layout::Utf8, Layout::Utf8);
    let want = column_wise(std::slice::from_ref(&plain));
    let used = vec![
        Some("signup"),
        None,
        Some("refund"),
        Some("tap"),
        Some("touch"),
        Some("chargeback"),
        Some("payment"),
    ];
    let b = with_column(&plain, "kind", &kinds_in(&t, used));
    same(&column_wise(std::slice::from_ref(&b)), &want);
    // A row on a value that names no kind, or on a null value, is the row reader's to
    // refuse, with its error and path.
    for (bad, code) in [(Some("tap"), "InvalidValue"), (None, "MissingField")] {
        let mut values = vec![
            Some("touch"),
            Some("payment"),
            Some("refund"),
            Some("chargeback"),
            Some("signup"),
        ];
        let row = 3;
        let kind = t.kind[row].expect("kind");
        let at = values.iter().position(|v| *v == Some(kind)).expect("kind");
        let mut keys: Vec<i8> = t
            .kind
            .iter()
            .map(|k| values.iter().position(|v| *v == *k).expect("kind") as i8)
            .collect();
        values.push(bad);
        keys[row] = (values.len() - 1) as i8;
        assert!(
            keys.iter().any(|&k| k as usize == at),
            "the kind is still used"
        );
        let kinds = DictionaryArray::try_new(
            PrimitiveArray::<arrow_array::types::Int8Type>::from(keys),
            Arc::new(StringArray::from(values)),
        )
        .expect("dictionary");
        let b = with_column(&plain, "kind", &(Arc::new(kinds) as ArrayRef));
        let (rows, fast) = either(&[b]);
        assert!(!fast, "{bad:?}");
        let e = rows.expect_err("refused");
        assert_eq!(e.code().as_str(), code, "{bad:?}: {}", e.to_json());
        assert_eq!(e.path(), format!("events[{row}].kind"));
    }
}
