//! One event given as a plain `dict`, read straight into the core's `Event` (the webhook
//! path of `Engine.apply`), without writing it as JSON text and parsing that back.
//!
//! The dict is walked as a serde deserializer that presents exactly what `convert::document`
//! would write for it — a `Decimal` as its plain digits, a `date`/`datetime` as its
//! `isoformat()`, ints, bools, `None`, nested dicts and lists as themselves — and the core
//! reads it with the same `Deserialize` and checks (`input::event_from_deserializer`) as the
//! JSON text. What is accepted, and the event it gives, therefore cannot differ between the
//! two routes. One value skips the text: the event's `at`, when it is a `datetime` in UTC,
//! goes over as the instant itself (`input::INSTANT_TOKEN`), the instant its text gives. Anything this reader refuses (a float, a naive datetime, an unknown key, a
//! value of another type, any error at all) is not reported from here: the caller takes the
//! JSON route, whose error (code, path and message) is the one the binding always gave.

use std::fmt;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::convert::{DATE, DECIMAL, MAX_DEPTH, decimal_text};

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The event of a plain dict, or `None` when the JSON route must read it (to accept it the
/// way it always did, or to give its error).
pub fn read(dict: &Bound<'_, PyDict>) -> Option<partnerkit::input::CheckedEvent> {
    let py = dict.py();
    // Borrowed from the cells: no reference count taken and dropped per call.
    let types = Types {
        decimal: DECIMAL.import(py, "decimal", "Decimal").ok()?,
        date: DATE.import(py, "datetime", "date").ok()?,
        datetime: DATETIME.import(py, "datetime", "datetime").ok()?,
        utc: UTC.import(py, "datetime", "UTC").ok()?,
    };
    let de = Value {
        v: dict.as_any(),
        depth: 0,
        types: &types,
    };
    partnerkit::input::event_from_deserializer(de, "events[0]").ok()
}

/// Whether `event` is a dict that [`read`] takes (the others take the JSON route): lets the
/// tests show that the webhook path does not silently fall back to JSON text.
#[pyfunction]
pub fn _reads_natively(event: &Bound<'_, PyAny>) -> bool {
    event
        .cast_exact::<PyDict>()
        .is_ok_and(|d| read(d).is_some())
}

/// The Python types a value is checked against, looked up once per call.
struct Types<'py> {
    decimal: &'py Bound<'py, PyType>,
    date: &'py Bound<'py, PyType>,
    datetime: &'py Bound<'py, PyType>,
    utc: &'py Bound<'py, PyAny>,
}

/// A `datetime` exactly (no subclass: pandas' `Timestamp` has nanoseconds) in
/// `timezone.utc` (what `datetime.now(UTC)` and webhook parsers give) as the core's instant,
/// for an event's `at` (see [`partnerkit::input::INSTANT_TOKEN`]). Anything else (another
/// zone, a naive datetime, what this does not recognise) is `None`, and read as the JSON
/// route writes it.
///
/// The fields come from the datetime's pickle state, `__reduce__()` = `(datetime, (state,
/// tzinfo))` with `state` ten bytes: year (two, big-endian), month, day, hour, minute,
/// second, microsecond (three, big-endian). Pickles must load across Python versions, so
/// that layout is fixed; one call gives every field and the zone, where attribute reads
/// (or `isoformat()`) cost several calls and objects. A state of another shape is `None`.
fn utc_instant(v: &Bound<'_, PyAny>, types: &Types<'_>) -> Option<partnerkit::time::Instant> {
    let py = v.py();
    if !v.get_type().is(types.datetime) {
        return None;
    }
    // Interned name: a fresh string per lookup would be hashed on every call.
    let reduced = v.call_method0(intern!(py, "__reduce__")).ok()?;
    let args = reduced.cast_into::<PyTuple>().ok()?.get_item(1).ok()?;
    let args = args.cast_into::<PyTuple>().ok()?;
    if args.len() != 2 || !args.get_item(1).ok()?.is(types.utc) {
        return None;
    }
    let state = args.get_item(0).ok()?;
    let b = state.cast::<PyBytes>().ok()?.as_bytes();
    let &[y0, y1, month, day, hour, minute, second, u0, u1, u2] = b else {
        return None;
    };
    let micros = u32::from_be_bytes([0, u0, u1, u2]);
    let t = chrono::NaiveDate::from_ymd_opt(
        i32::from(u16::from_be_bytes([y0, y1])),
        u32::from(month),
        u32::from(day),
    )?
    .and_hms_micro_opt(
        u32::from(hour),
        u32::from(minute),
        u32::from(second),
        micros,
    )?;
    Some(t.and_utc())
}

/// This reader does not take the value: the JSON route decides.
#[derive(Debug)]
pub struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("read through the JSON route")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

impl From<PyErr> for Refused {
    fn from(_: PyErr) -> Self {
        Refused
    }
}

/// A Python value as a serde deserializer.
#[derive(Clone, Copy)]
struct Value<'a, 'py> {
    v: &'a Bound<'py, PyAny>,
    depth: usize,
    types: &'a Types<'py>,
}

impl<'de> de::Deserializer<'de> for Value<'_, '_> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        let v = self.v;
        // Deeper than the JSON writer's limit is the JSON route's to refuse.
        if self.depth > MAX_DEPTH {
            return Err(Refused);
        }
        // The order of `convert::Writer::value`, so a value of two types reads as it writes.
        if let Ok(s) = v.cast::<PyString>() {
            visitor.visit_str(s.to_str()?)
        } else if let Ok(d) = v.cast::<PyDict>() {
            visitor.visit_map(Entries {
                items: d.iter(),
                value: None,
                depth: self.depth + 1,
                types: self.types,
            })
        } else if v.is_instance(self.types.decimal)? {
            visitor.visit_str(decimal_text(v)?.to_str()?)
        } else if v.is_instance_of::<PyBool>() {
            visitor.visit_bool(v.is_truthy()?)
        } else if v.is_instance_of::<PyInt>() {
            // Past i64 the JSON route writes the digits; it decides.
            visitor.visit_i64(v.extract::<i64>()?)
        } else if v.is_none() {
            visitor.visit_unit()
        } else if v.is_instance_of::<PyFloat>() {
            Err(Refused)
        } else if let Ok(l) = v.cast::<PyList>() {
            visitor.visit_seq(Items {
                items: l.iter().collect::<Vec<_>>().into_iter(),
                depth: self.depth + 1,
                types: self.types,
            })
        } else if let Ok(t) = v.cast::<PyTuple>() {
            visitor.visit_seq(Items {
                items: t.iter().collect::<Vec<_>>().into_iter(),
                depth: self.depth + 1,
                types: self.types,
            })
        } else if v.is_instance(self.types.date)? {
            // An aware datetime writes its offset; a naive one does not, and the core refuses
            // it (the JSON route then gives that error).
            let iso = v.call_method0("isoformat")?;
            visitor.visit_str(iso.cast::<PyString>().map_err(PyErr::from)?.to_str()?)
        } else {
            // Tables, plans, other libraries' integers: as the JSON route writes them.
            Err(Refused)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        // A unit variant is its name, as in JSON text (`"kind": "payment"`); nothing else.
        let s = self.v.cast::<PyString>().map_err(|_| Refused)?;
        visitor.visit_enum(de::IntoDeserializer::<Refused>::into_deserializer(
            s.to_str()?,
        ))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        // An event's instant, given as a UTC `datetime`: handed over as a value. Anything
        // else reads as it writes, like any value.
        if name == partnerkit::input::INSTANT_TOKEN
            && let Some(t) = utc_instant(self.v, self.types)
            && let Some(nanos) = t.timestamp_nanos_opt()
        {
            return visitor.visit_i128(i128::from(nanos));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        if self.v.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// A dict's items, in its order (the order its JSON text would have).
struct Entries<'a, 'py> {
    items: pyo3::types::iter::BoundDictIterator<'py>,
    value: Option<Bound<'py, PyAny>>,
    depth: usize,
    types: &'a Types<'py>,
}

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let Some((k, v)) = self.items.next() else {
            return Ok(None);
        };
        // A key that is not a str is the JSON route's error.
        let k = k.cast_into::<PyString>().map_err(|_| Refused)?;
        self.value = Some(v);
        seed.deserialize(Key(k.to_str()?)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let v = self.value.take().ok_or(Refused)?;
        seed.deserialize(Value {
            v: &v,
            depth: self.depth,
            types: self.types,
        })
    }
}

/// A list's or tuple's items.
struct Items<'a, 'py> {
    items: std::vec::IntoIter<Bound<'py, PyAny>>,
    depth: usize,
    types: &'a Types<'py>,
}

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        match self.items.next() {
            None => Ok(None),
            Some(v) => seed
                .deserialize(Value {
                    v: &v,
                    depth: self.depth,
                    types: self.types,
                })
                .map(Some),
        }
    }
}

/// A dict key, as its text.
struct Key<'a>(&'a str);

impl<'de> de::Deserializer<'de> for Key<'_> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_str(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
