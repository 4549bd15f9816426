//! The core's canonical views (an entry's explanation, an entry, a report) as typed Python
//! values built straight from their `Serialize` impls: what `convert::typed_json` makes of
//! their canonical JSON, without writing the JSON text and parsing it back.
//!
//! The serializer maps serde's data model as `serde_json` writes it (a struct or a map is an
//! object, a sequence or a tuple an array, a unit variant its name, a newtype variant a
//! one-key object, `None` and units `null`), and a string right under a typed key is read as
//! `convert::typed_json` reads it (`Decimal`, aware `datetime`, `date`). The tests compare
//! both routes on every vector, by `repr`.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde::Serialize;
use serde::ser::{self, Impossible};

use crate::convert::{Reader, Readers, cached_key};

/// `value` as the Python values `convert::typed_json` gives for its JSON text.
pub fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let readers = Readers::new(py)?;
    value
        .serialize(Typed {
            py,
            readers: &readers,
            read: None,
        })
        .map_err(|e| e.0)
}

/// A Python error, or a value the JSON data model has no form for (a core bug: a failed
/// serialization is an `Internal` error).
#[derive(Debug)]
pub struct Error(PyErr);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        Python::attach(|py| {
            Error(crate::error::raise(
                py,
                "Internal",
                "",
                &format!("a canonical view has no typed form: {msg}"),
            ))
        })
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

/// The ten `Serializer::serialize_<integer>` methods, each passing its value to
/// `Self::$to` (both serializers here treat every integer alike).
macro_rules! integers {
    ($out:ty, $to:ident) => {
        integers!(@each $out, $to;
            serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_u128: u128);
    };
    (@each $out:ty, $to:ident; $($method:ident: $int:ty),*) => {$(
        fn $method(self, v: $int) -> $out {
            Self::$to(self, v)
        }
    )*};
}

/// The serializer: one value, with the reader of the key it is under (if any).
#[derive(Clone, Copy)]
struct Typed<'a, 'py> {
    py: Python<'py>,
    readers: &'a Readers<'py>,
    read: Option<Reader>,
}

type Out<'py> = Result<Bound<'py, PyAny>, Error>;

impl<'a, 'py> Typed<'a, 'py> {
    /// The serializer of an item or of a key's value: `read` is the key's reader.
    fn under(self, read: Option<Reader>) -> Typed<'a, 'py> {
        Typed { read, ..self }
    }

    fn scalar<T: for<'x> IntoPyObject<'x>>(self, v: T) -> Out<'py> {
        Ok(pyo3::IntoPyObjectExt::into_bound_py_any(v, self.py)?)
    }

    /// `{variant: value}`, as `serde_json` writes a newtype, tuple or struct variant.
    fn variant(self, variant: &'static str, value: Bound<'py, PyAny>) -> Out<'py> {
        let dict = PyDict::new(self.py);
        dict.set_item(cached_key(self.py, variant).0, value)?;
        Ok(dict.into_any())
    }
}

impl<'a, 'py> ser::Serializer for Typed<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Seq<'a, 'py>;
    type SerializeTuple = Seq<'a, 'py>;
    type SerializeTupleStruct = Seq<'a, 'py>;
    type SerializeTupleVariant = Seq<'a, 'py>;
    type SerializeMap = Map<'a, 'py>;
    type SerializeStruct = Map<'a, 'py>;
    type SerializeStructVariant = Map<'a, 'py>;

    fn serialize_bool(self, v: bool) -> Out<'py> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }
    integers!(Out<'py>, scalar);
    fn serialize_f32(self, v: f32) -> Out<'py> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Out<'py> {
        // JSON has no NaN or infinity: serde_json writes them as null.
        if v.is_finite() {
            self.scalar(v)
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Out<'py> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Out<'py> {
        Ok(self.readers.string(self.read, v)?)
    }
    fn serialize_bytes(self, v: &[u8]) -> Out<'py> {
        // serde_json writes bytes as an array of numbers.
        Ok(PyList::new(self.py, v)?.into_any())
    }
    fn serialize_none(self) -> Out<'py> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Out<'py> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Out<'py> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Out<'py> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        let inner = value.serialize(self.under(crate::convert::reader(variant)))?;
        self.variant(variant, inner)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a, 'py>, Error> {
        Ok(Seq {
            to: self.under(None),
            list: PyList::empty(self.py),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Seq<'a, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'a, 'py>, Error> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a, 'py>, Error> {
        Ok(Map {
            to: self,
            dict: PyDict::new(self.py),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'a, 'py>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'a, 'py>, Error> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

/// An array being built.
struct Seq<'a, 'py> {
    /// The items' serializer (no reader: only a string right under a typed key is typed).
    to: Typed<'a, 'py>,
    list: Bound<'py, PyList>,
    /// The variant a tuple variant's array is under.
    variant: Option<&'static str>,
}

impl<'py> Seq<'_, 'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.list.append(value.serialize(self.to)?)?;
        Ok(())
    }

    fn done(self) -> Out<'py> {
        let list = self.list.into_any();
        match self.variant {
            None => Ok(list),
            Some(v) => self.to.variant(v, list),
        }
    }
}

/// serde's four array traits, one method each that adds an item: all push onto the list.
macro_rules! array_traits {
    ($($trait:ident :: $add:ident),*) => {$(
        impl<'py> ser::$trait for Seq<'_, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Out<'py> {
                self.done()
            }
        }
    )*};
}

array_traits!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object being built.
struct Map<'a, 'py> {
    to: Typed<'a, 'py>,
    dict: Bound<'py, PyDict>,
    /// The key whose value comes next (`serialize_key` then `serialize_value`), with its
    /// reader.
    key: Option<(Bound<'py, PyString>, Option<Reader>)>,
    /// The variant a struct variant's object is under.
    variant: Option<&'static str>,
}

impl<'py> Map<'_, 'py> {
    fn entry<T: Serialize + ?Sized>(
        &mut self,
        (key, read): (Bound<'py, PyString>, Option<Reader>),
        value: &T,
    ) -> Result<(), Error> {
        let value = value.serialize(self.to.under(read))?;
        self.dict.set_item(key, value)?;
        Ok(())
    }

    fn done(self) -> Out<'py> {
        let dict = self.dict.into_any();
        match self.variant {
            None => Ok(dict),
            Some(v) => self.to.variant(v, dict),
        }
    }
}

impl<'py> ser::SerializeMap for Map<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let text = key.serialize(KeyText)?;
        self.key = Some(cached_key(self.to.py, &text));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value without its key"))?;
        self.entry(key, value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        let text = key.serialize(KeyText)?;
        let key = cached_key(self.to.py, &text);
        self.entry(key, value)
    }
    fn end(self) -> Out<'py> {
        self.done()
    }
}

/// serde's two struct traits: a field is an entry under its name.
macro_rules! struct_traits {
    ($($trait:ident),*) => {$(
        impl<'py> ser::$trait for Map<'_, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                let key = cached_key(self.to.py, key);
                self.entry(key, value)
            }
            fn end(self) -> Out<'py> {
                self.done()
            }
        }
    )*};
}

struct_traits!(SerializeStruct, SerializeStructVariant);

/// An object key's text, as `serde_json` writes keys: a string (or a unit variant's name),
/// or an integer or a bool written as its digits or word; anything else has no key form.
struct KeyText;

impl KeyText {
    /// A key written as its value's text (an integer's digits, a bool's word, a char).
    fn text(self, v: impl std::fmt::Display) -> Result<std::borrow::Cow<'static, str>, Error> {
        Ok(std::borrow::Cow::Owned(v.to_string()))
    }
    fn refused() -> Error {
        <Error as ser::Error>::custom("an object key that is not a string")
    }
}

// Keys arrive as `&str` from every canonical view; the owned copy of a borrowed key is the
// price of a `Serializer` (whose output cannot borrow its input). Keys are short.
impl ser::Serializer for KeyText {
    type Ok = std::borrow::Cow<'static, str>;
    type Error = Error;
    type SerializeSeq = Impossible<Self::Ok, Error>;
    type SerializeTuple = Impossible<Self::Ok, Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Error>;
    type SerializeMap = Impossible<Self::Ok, Error>;
    type SerializeStruct = Impossible<Self::Ok, Error>;
    type SerializeStructVariant = Impossible<Self::Ok, Error>;

    fn serialize_str(self, v: &str) -> Result<Self::Ok, Error> {
        Ok(std::borrow::Cow::Owned(v.to_owned()))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, Error> {
        Ok(std::borrow::Cow::Borrowed(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, Error> {
        self.text(v)
    }
    fn serialize_bool(self, v: bool) -> Result<Self::Ok, Error> {
        self.text(v)
    }
    integers!(Result<Self::Ok, Error>, text);
    fn serialize_f32(self, _v: f32) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_f64(self, _v: f64) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_none(self) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_unit(self) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Error> {
        Err(Self::refused())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Self::refused())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Self::refused())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(Self::refused())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Self::refused())
    }
}
