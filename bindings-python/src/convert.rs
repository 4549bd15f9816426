//! Python values to the JSON documents the core reads.
//!
//! Documents cross into the core as JSON text, exactly what the CLI reads, so Python adds no
//! semantics of its own: `Decimal` and `datetime`/`date` become the strings the JSON format
//! asks for, and the core judges everything else. The one rule enforced here is that money
//! is never a float: a `float` anywhere is `InvalidValue` at its document path, because a
//! float has already lost the exact cents before partnerkit could see it (no field of any
//! partnerkit document takes a fractional number). Tables arrive as [`Columns`], one Python
//! list per column, so a million rows never become a million dicts; their zoned timestamp
//! columns arrive as epoch integers and are written with the core's instant formatter.

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

use crate::error;
use crate::plan::Plan;

/// `decimal.Decimal`, looked up once.
pub(crate) static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `datetime.date`, looked up once.
pub(crate) static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Nesting deeper than this is refused (the core's JSON reader stops at the same depth),
/// which also stops a dict that contains itself.
pub(crate) const MAX_DEPTH: usize = 128;

/// A `Decimal` as a document holds it: plain digits. `str(Decimal)` may use an exponent
/// ("1E+2"); then its fixed-point format ("100").
pub(crate) fn decimal_text<'py>(v: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let s = v.str()?;
    if s.to_str()?.contains(['E', 'e']) {
        Ok(v.call_method1("__format__", ("f",))?
            .cast_into::<PyString>()
            .map_err(PyErr::from)?)
    } else {
        Ok(s)
    }
}

/// A table (a DataFrame or an Arrow table, taken apart by the facade) as one Python list per
/// column. It is written as a JSON array of row objects; a `None` cell is an absent field, so
/// one table can hold events of every kind.
#[pyclass(module = "partnerkit._native", frozen)]
pub struct Columns {
    names: Vec<String>,
    columns: Vec<Py<PyList>>,
    /// Per column: its cells are integers counting this many units per second since the
    /// Unix epoch (a zoned timestamp column taken apart without a Python object per value),
    /// written as UTC instants.
    epoch_units: Vec<Option<i64>>,
    rows: usize,
}

#[pymethods]
impl Columns {
    /// Columns `names[i]` holding the values `columns[i]`, all of one length;
    /// `epoch_units[i]`, when given, is `"s"`, `"ms"`, `"us"` or `"ns"` for a column of
    /// integer timestamps since the Unix epoch.
    #[new]
    #[pyo3(signature = (names, columns, epoch_units=None))]
    fn new(
        names: Vec<String>,
        columns: Vec<Bound<'_, PyList>>,
        epoch_units: Option<Vec<Option<String>>>,
    ) -> PyResult<Self> {
        let bad = |m: &str| {
            Err(pyo3::exceptions::PyValueError::new_err(format!(
                "Columns: {m}"
            )))
        };
        let rows = columns.first().map_or(0, |c| c.len());
        if names.len() != columns.len() || columns.iter().any(|c| c.len() != rows) {
            return bad("one name per column, and columns of one length");
        }
        let units = epoch_units.unwrap_or_else(|| vec![None; names.len()]);
        if units.len() != names.len() {
            return bad("one epoch unit (or None) per column");
        }
        let mut epoch_units = Vec::with_capacity(units.len());
        for u in units {
            epoch_units.push(match u.as_deref() {
                None => None,
                Some("s") => Some(1),
                Some("ms") => Some(1_000),
                Some("us") => Some(1_000_000),
                Some("ns") => Some(1_000_000_000),
                Some(other) => return bad(&format!("unknown epoch unit {other:?}")),
            });
        }
        Ok(Columns {
            names,
            columns: columns.into_iter().map(Bound::unbind).collect(),
            epoch_units,
            rows,
        })
    }

    fn __len__(&self) -> usize {
        self.rows
    }
}

/// The JSON text of a document: a `str` as it is, `bytes` as UTF-8, anything else written
/// from its Python values. `root` is the document's path in errors (`"plan"` for a plan).
pub fn document<'a>(obj: &'a Bound<'_, PyAny>, root: &str) -> PyResult<Cow<'a, str>> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return s.to_str().map(Cow::Borrowed).map_err(|_| {
            error::raise(
                py,
                "InvalidJson",
                root,
                "the document is not valid Unicode (it holds a lone surrogate)",
            )
        });
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return match std::str::from_utf8(b.as_bytes()) {
            Ok(s) => Ok(Cow::Borrowed(s)),
            Err(e) => Err(error::raise(
                py,
                "InvalidJson",
                root,
                &format!("the document is not UTF-8 text ({e})"),
            )),
        };
    }
    let mut w = Writer {
        out: Vec::with_capacity(4096),
        decimal: DECIMAL.import(py, "decimal", "Decimal")?.clone(),
        date: DATE.import(py, "datetime", "date")?.clone(),
    };
    match w.value(obj, 0) {
        Ok(()) => String::from_utf8(w.out)
            .map(Cow::Owned)
            .map_err(|_| error::raise(py, "Internal", root, "wrote a document that is not UTF-8")),
        Err(fault) => Err(fault.into_py(py, root)),
    }
}

/// The JSON text of optional host limits (`None` means the defaults), written like any
/// document: a float is refused at its path (`limits.max_events`).
pub fn limits_text(limits: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    match limits {
        Some(l) if !l.is_none() => document(l, "limits").map(|t| Some(t.into_owned())),
        _ => Ok(None),
    }
}

/// The core's limits from their JSON text (absent: the defaults). Errors name `limits.…`.
pub fn limits(text: Option<&str>) -> partnerkit::Result<partnerkit::Limits> {
    text.map_or_else(
        || Ok(partnerkit::Limits::default()),
        partnerkit::Limits::from_json,
    )
}

/// One step of a document path, collected while a fault unwinds (nothing is built on the
/// way down, so a correct document pays nothing for its error paths).
enum Step {
    Key(String),
    Index(usize),
}

enum What {
    Float(String),
    Unsupported(String),
    KeyType(String),
    NotUnicode,
    OutOfRange(i64),
    TooDeep,
    Python(PyErr),
}

struct Fault {
    /// Innermost step first.
    steps: Vec<Step>,
    what: What,
}

impl Fault {
    fn new(what: What) -> Self {
        Fault {
            steps: Vec::new(),
            what,
        }
    }

    fn at(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    fn into_py(self, py: Python<'_>, root: &str) -> PyErr {
        // The same path syntax as the core's errors: `events[3].amount`.
        let mut path = root.to_owned();
        for step in self.steps.iter().rev() {
            match step {
                Step::Key(k) if path.is_empty() => path.push_str(k),
                Step::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        let (code, message) = match self.what {
            What::Python(e) => return e,
            What::Float(repr) if root == "limits" => (
                "InvalidValue",
                format!("{repr} is a float: limits are whole numbers (pass an int)"),
            ),
            What::Float(repr) => (
                "InvalidValue",
                format!(
                    "{repr} is a float, and partnerkit never takes money as a float (it has \
                     already lost the exact cents): pass decimal.Decimal(\"{repr}\") or the \
                     string \"{repr}\""
                ),
            ),
            What::Unsupported(t) => (
                "InvalidValue",
                format!(
                    "a value of type {t} has no JSON form: pass str, decimal.Decimal, int, \
                     bool, None, datetime, date, list or dict"
                ),
            ),
            What::KeyType(t) => (
                "InvalidValue",
                format!("a mapping key of type {t}: document keys must be str"),
            ),
            What::NotUnicode => (
                "InvalidValue",
                "a str that is not valid Unicode (it holds a lone surrogate)".to_owned(),
            ),
            What::OutOfRange(n) => (
                "InvalidValue",
                format!("timestamp {n} is outside the years 0000 to 9999"),
            ),
            What::TooDeep => (
                "LimitExceeded",
                format!("the document nests deeper than {MAX_DEPTH} levels"),
            ),
        };
        error::raise(py, code, &path, &message)
    }
}

impl From<PyErr> for Fault {
    fn from(e: PyErr) -> Self {
        Fault::new(What::Python(e))
    }
}

struct Writer<'py> {
    out: Vec<u8>,
    decimal: Bound<'py, PyType>,
    date: Bound<'py, PyType>,
}

impl<'py> Writer<'py> {
    fn value(&mut self, v: &Bound<'py, PyAny>, depth: usize) -> Result<(), Fault> {
        if depth > MAX_DEPTH {
            return Err(Fault::new(What::TooDeep));
        }
        if let Ok(s) = v.cast::<PyString>() {
            self.string(text(s)?);
        } else if let Ok(d) = v.cast::<PyDict>() {
            self.out.push(b'{');
            for (n, (k, item)) in d.iter().enumerate() {
                let Ok(k) = k.cast::<PyString>() else {
                    return Err(Fault::new(What::KeyType(type_name(&k))));
                };
                let k = text(k).map_err(|f| f.at(Step::Key(k.to_string_lossy().into_owned())))?;
                if n > 0 {
                    self.out.push(b',');
                }
                self.string(k);
                self.out.push(b':');
                self.value(&item, depth + 1)
                    .map_err(|f| f.at(Step::Key(k.to_owned())))?;
            }
            self.out.push(b'}');
        } else if v.is_instance(&self.decimal)? {
            self.string(decimal_text(v)?.to_str()?);
        } else if v.is_instance_of::<PyBool>() {
            let b = v.is_truthy()?;
            self.out
                .extend_from_slice(if b { b"true" } else { b"false" });
        } else if v.is_instance_of::<PyInt>() {
            match v.extract::<i64>() {
                Ok(i) => self.out.extend_from_slice(i.to_string().as_bytes()),
                Err(_) => self.out.extend_from_slice(v.str()?.to_str()?.as_bytes()),
            }
        } else if v.is_none() {
            self.out.extend_from_slice(b"null");
        } else if v.is_instance_of::<PyFloat>() {
            return Err(Fault::new(What::Float(v.repr()?.to_str()?.to_owned())));
        } else if let Ok(l) = v.cast::<PyList>() {
            self.array(l.iter(), depth)?;
        } else if let Ok(t) = v.cast::<PyTuple>() {
            self.array(t.iter(), depth)?;
        } else if v.is_instance(&self.date)? {
            // datetime (a subclass of date, pandas' Timestamp too) and date both know their
            // ISO form; an instant without an offset is the core's to refuse.
            let iso = v.call_method0("isoformat")?;
            self.string(iso.cast::<PyString>().map_err(PyErr::from)?.to_str()?);
        } else if let Ok(c) = v.cast::<Columns>() {
            self.table(c.get(), v.py(), depth)?;
        } else if let Ok(p) = v.cast::<Plan>() {
            self.out.extend_from_slice(p.get().text().as_bytes());
        } else if let Ok(s) = v.cast::<crate::simulate::Scenario>() {
            self.out.extend_from_slice(s.get().text().as_bytes());
        } else if let Ok(i) = v.extract::<i64>() {
            // Integers of other libraries (numpy's int64) through `__index__`.
            self.out.extend_from_slice(i.to_string().as_bytes());
        } else {
            return Err(Fault::new(What::Unsupported(type_name(v))));
        }
        Ok(())
    }

    fn array(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        depth: usize,
    ) -> Result<(), Fault> {
        self.out.push(b'[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.value(&item, depth + 1)
                .map_err(|f| f.at(Step::Index(i)))?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn table(&mut self, t: &Columns, py: Python<'py>, depth: usize) -> Result<(), Fault> {
        let columns: Vec<&Bound<'py, PyList>> = t.columns.iter().map(|c| c.bind(py)).collect();
        self.out.push(b'[');
        for row in 0..t.rows {
            if row > 0 {
                self.out.push(b',');
            }
            self.out.push(b'{');
            let mut first = true;
            for ((name, column), unit) in t.names.iter().zip(&columns).zip(&t.epoch_units) {
                let cell = column.get_item(row)?;
                if cell.is_none() {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                first = false;
                self.string(name);
                self.out.push(b':');
                let at = |f: Fault| f.at(Step::Key(name.clone())).at(Step::Index(row));
                match unit {
                    Some(per_second) => {
                        let n = cell.extract::<i64>().map_err(|e: PyErr| at(e.into()))?;
                        let instant = epoch_instant(n, *per_second)
                            .ok_or_else(|| at(Fault::new(What::OutOfRange(n))))?;
                        self.string(&partnerkit::time::fmt_instant(instant));
                    }
                    None => self.value(&cell, depth + 2).map_err(at)?,
                }
            }
            self.out.push(b'}');
        }
        self.out.push(b']');
        Ok(())
    }

    /// A JSON string literal.
    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: Option<&[u8]> = match b {
                b'"' => Some(b"\\\""),
                b'\\' => Some(b"\\\\"),
                b'\n' => Some(b"\\n"),
                b'\r' => Some(b"\\r"),
                b'\t' => Some(b"\\t"),
                0..=0x1f => None,
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[start..i]);
            match escaped {
                Some(e) => self.out.extend_from_slice(e),
                None => self.out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            }
            start = i + 1;
        }
        self.out.extend_from_slice(&bytes[start..]);
        self.out.push(b'"');
    }
}

/// The instant `n` units after the Unix epoch, `per_second` units to the second.
fn epoch_instant(n: i64, per_second: i64) -> Option<partnerkit::time::Instant> {
    let secs = n.div_euclid(per_second);
    let nanos = n.rem_euclid(per_second) * (1_000_000_000 / per_second);
    let t = chrono::DateTime::from_timestamp(secs, u32::try_from(nanos).ok()?)?;
    // RFC 3339 (and so the core) knows four-digit years only.
    (0..=9999)
        .contains(&chrono::Datelike::year(&t))
        .then_some(t)
}

/// The UTF-8 of a `str`; a lone surrogate (which has none) is a fault at the value's path.
fn text<'a>(s: &'a Bound<'_, PyString>) -> Result<&'a str, Fault> {
    s.to_str().map_err(|_| Fault::new(What::NotUnicode))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .fully_qualified_name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// How the facade reads a typed string of the canonical JSON (`_READ` in `__init__.py`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Decimal,
    Instant,
    Date,
}

/// `report_field_types()` as the facade's `_READERS` uses it: key → reader, for the keys
/// whose type the facade reads (the others stay text).
pub(crate) fn reader(key: &str) -> Option<Reader> {
    static READERS: std::sync::OnceLock<std::collections::HashMap<&'static str, Reader>> =
        std::sync::OnceLock::new();
    READERS
        .get_or_init(|| {
            partnerkit::report::FIELD_TYPES
                .iter()
                .filter_map(|(k, t)| {
                    let r = match crate::report::field_type_name(*t) {
                        "decimal" => Reader::Decimal,
                        "instant" => Reader::Instant,
                        "date" => Reader::Date,
                        _ => return None,
                    };
                    Some((*k, r))
                })
                .collect()
        })
        .get(key)
        .copied()
}

static FROM_ISO_DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static FROM_ISO_DATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The core's canonical JSON as Python values, typed the way the facade's
/// `json.loads(text, object_pairs_hook=_typed)` types them — the same dicts, lists and
/// scalars, with the string under a typed key read as `Decimal`, an aware `datetime` or a
/// `date` — without a Python call per object. Built while the text is read (no JSON value
/// in between); keys keep the text's order.
pub fn typed_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let readers = Readers::new(py)?;
    let failed = std::cell::RefCell::new(None);
    let seed = Typed {
        py,
        readers: &readers,
        failed: &failed,
        read: None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let out = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|v| {
        de.end()?;
        Ok(v)
    });
    out.map_err(|e| match failed.take() {
        Some(py_err) => py_err,
        None => error::raise(
            py,
            "Internal",
            "",
            &format!("the core wrote JSON that does not read back: {e}"),
        ),
    })
}

/// One string of the canonical JSON found under `key`, typed as [`typed_json`] types it
/// there (`Decimal`, an aware `datetime`, a `date`, or the `str` itself).
pub fn typed_str<'py>(py: Python<'py>, key: &str, text: &str) -> PyResult<Bound<'py, PyAny>> {
    match reader(key) {
        None => Ok(PyString::new(py, text).into_any()),
        Some(read) => Readers::new(py)?.read(read, text),
    }
}

/// The callables behind [`Reader`], looked up once per call.
pub(crate) struct Readers<'py> {
    decimal: Bound<'py, PyAny>,
    datetime: Bound<'py, PyAny>,
    date: Bound<'py, PyAny>,
}

/// Texts longer than this are read anew each time rather than cached: every amount, rate
/// and instant of the canonical JSON is shorter (29 digits, a sign and a point at most).
const VALUE_MAX: usize = 40;

/// The typed values read lately, by reader and text (see [`TextCache`]). `Decimal`,
/// `datetime` and `date` values are immutable, so an equal text gets the value already made
/// rather than another call into Python (about 1,500 instructions for a `Decimal`). An
/// explanation repeats its amounts (a payment's amount is its base, its credited amount and
/// the reward's `of`; a weight of 1 is the touch's, the partner's and the entry's), and
/// entries repeat one another's: the plan's percents, zero tax, a customer's touch, the
/// prices of a subscription business.
static VALUES: TextCache<(Reader, Py<PyAny>)> = TextCache::new(0x7661_6c75);

impl<'py> Readers<'py> {
    pub(crate) fn new(py: Python<'py>) -> PyResult<Self> {
        let from_iso = |cell: &PyOnceLock<Py<PyAny>>, class: &str| -> PyResult<Bound<'py, PyAny>> {
            Ok(cell
                .get_or_try_init(py, || {
                    py.import("datetime")?
                        .getattr(class)?
                        .getattr("fromisoformat")
                        .map(Bound::unbind)
                })?
                .bind(py)
                .clone())
        };
        Ok(Readers {
            decimal: DECIMAL.import(py, "decimal", "Decimal")?.clone().into_any(),
            datetime: from_iso(&FROM_ISO_DATETIME, "datetime")?,
            date: from_iso(&FROM_ISO_DATE, "date")?,
        })
    }

    /// A string of the canonical JSON under a key whose reader is `read`: the `str` itself
    /// under an untyped key, else the value `read` makes of it.
    pub(crate) fn string(&self, read: Option<Reader>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        match read {
            None => Ok(PyString::new(self.decimal.py(), text).into_any()),
            Some(read) => self.read(read, text),
        }
    }

    /// `text` read by `read`: the value made for an equal text before, if [`VALUES`] still
    /// holds it, else a new one.
    pub(crate) fn read(&self, read: Reader, text: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = self.decimal.py();
        let slot = (text.len() <= VALUE_MAX).then(|| VALUES.slot(text));
        if let Some(slot) = slot
            && let Some(v) = VALUES.find(slot, text, |(r, v)| {
                (*r == read).then(|| v.bind(py).clone())
            })
        {
            return Ok(v);
        }
        let v = match read {
            Reader::Decimal => self.decimal.call1((text,)),
            Reader::Instant => self.datetime.call1((text,)),
            Reader::Date => self.date.call1((text,)),
        }?;
        if let Some(slot) = slot {
            VALUES.put(slot, text, (read, v.clone().unbind()));
        }
        Ok(v)
    }
}

/// A JSON value to read as a Python value; `read` is the reader of the key it is under. A
/// Python error while building is kept in `failed` (serde errors carry text only).
#[derive(Clone, Copy)]
struct Typed<'a, 'py> {
    py: Python<'py>,
    readers: &'a Readers<'py>,
    failed: &'a std::cell::RefCell<Option<PyErr>>,
    read: Option<Reader>,
}

impl<'py> Typed<'_, 'py> {
    fn fail<E: serde::de::Error>(&self, e: PyErr) -> E {
        *self.failed.borrow_mut() = Some(e);
        E::custom("a Python error")
    }

    fn done<E: serde::de::Error>(
        &self,
        v: PyResult<Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>, E> {
        v.map_err(|e| self.fail(e))
    }
}

impl<'de, 'py> serde::de::DeserializeSeed<'de> for Typed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for Typed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.done(pyo3::IntoPyObjectExt::into_bound_py_any(v, self.py))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.done(pyo3::IntoPyObjectExt::into_bound_py_any(v, self.py))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.done(pyo3::IntoPyObjectExt::into_bound_py_any(v, self.py))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.done(self.readers.string(self.read, v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Only the string right under a typed key is read as its type, as the hook does.
        let item = Typed { read: None, ..self };
        let list = PyList::empty(self.py);
        while let Some(v) = seq.next_element_seed(item)? {
            list.append(v).map_err(|e| self.fail::<A::Error>(e))?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some((key, read)) = map.next_key_seed(Key(self.py))? {
            let value = map.next_value_seed(Typed { read, ..self })?;
            dict.set_item(key, value)
                .map_err(|e| self.fail::<A::Error>(e))?;
        }
        Ok(dict.into_any())
    }
}

/// An object key: an interned Python string, and the reader of its values.
struct Key<'py>(Python<'py>);

impl<'de, 'py> serde::de::DeserializeSeed<'de> for Key<'py> {
    type Value = (Bound<'py, PyString>, Option<Reader>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for Key<'py> {
    type Value = (Bound<'py, PyString>, Option<Reader>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(cached_key(self.0, v))
    }
}

/// Keys longer than this are interned anew at each read rather than cached: the canonical
/// JSON's own keys are short, and a long key is a caller's (an attribute's name).
const KEY_MAX: usize = 48;

/// The object keys read lately, with their interned strings and readers (see
/// [`TextCache`]). A read of an entry's explanation meets some forty keys, and interning
/// each anew (a new `str`, then a lookup in Python's table of interned strings) was about a
/// fifth of the read; a hit is a hash, a comparison and a reference count.
static KEYS: TextCache<(Py<PyString>, Option<Reader>)> = TextCache::new(0x6b65_7973);

/// Slots of a [`TextCache`]: a power of two, several times the keys the canonical JSON uses
/// (about a hundred) and the distinct values an explanation holds, so that they rarely
/// evict one another.
const SLOTS: usize = 1024;

/// Python objects made from short texts, shared by every call of the process: each text has
/// one slot (its hash's), and a later text of the same slot takes its place, so the cache
/// holds at most [`SLOTS`] objects whatever texts a caller's data brings. The lock is never
/// held while Python runs (no Python call is made under it, and an evicted object is
/// released after it), so no thread can wait on it while holding the GIL another needs. A
/// poisoned lock (a panic elsewhere while it was held) only loses the cache.
struct TextCache<T> {
    seed: u64,
    slots: std::sync::Mutex<Vec<Slot<T>>>,
}

/// A [`TextCache`] slot: empty, or a text and the object made from it.
type Slot<T> = Option<(Box<str>, T)>;

impl<T> TextCache<T> {
    /// An empty cache whose slots are hashed with `seed`.
    const fn new(seed: u64) -> Self {
        TextCache {
            seed,
            slots: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The slot of `text`.
    fn slot(&self, text: &str) -> usize {
        use std::hash::BuildHasher;
        (foldhash::fast::FixedState::with_seed(self.seed).hash_one(text) as usize) & (SLOTS - 1)
    }

    /// What `take` makes of the object in `slot` when the slot holds `text`.
    fn find<R>(&self, slot: usize, text: &str, take: impl FnOnce(&T) -> Option<R>) -> Option<R> {
        let slots = self.slots.lock().ok()?;
        match slots.get(slot) {
            Some(Some((t, v))) if &**t == text => take(v),
            _ => None,
        }
    }

    /// Keeps `value`, made from `text`, in `slot`.
    fn put(&self, slot: usize, text: &str, value: T) {
        let evicted = self.slots.lock().ok().map(|mut slots| {
            if slots.is_empty() {
                slots.resize_with(SLOTS, || None);
            }
            slots[slot].replace((text.into(), value))
        });
        // Released once the lock is free.
        drop(evicted);
    }
}

/// The interned string of object key `v` and its reader, from [`KEYS`] when it is there.
pub(crate) fn cached_key<'py>(py: Python<'py>, v: &str) -> (Bound<'py, PyString>, Option<Reader>) {
    if v.len() > KEY_MAX {
        return (PyString::intern(py, v), reader(v));
    }
    let slot = KEYS.slot(v);
    if let Some(found) = KEYS.find(slot, v, |(k, read)| Some((k.bind(py).clone(), *read))) {
        return found;
    }
    let (key, read) = (PyString::intern(py, v), reader(v));
    KEYS.put(slot, v, (key.clone().unbind(), read));
    (key, read)
}
