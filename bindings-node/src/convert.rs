//! Documents cross the boundary as JSON text, in both directions (host limits too).
//!
//! An input given as an object is written with the engine's own `JSON.stringify`, which keeps
//! decimal strings as strings: a JS `number` where money belongs therefore reaches the core as
//! a JSON number, which the core rejects with a message saying why. Reports come back as the
//! core's canonical bytes; `toObject()` is `JSON.parse` of exactly those bytes.

use napi::bindgen_prelude::{Function, JsObjectValue, Object, Unknown};
use napi::{Env, JsString, JsValue, ValueType};

use crate::error::invalid;

/// The JSON text of a document given as a string or as a plain object.
pub fn document_text(env: &Env, what: &str, doc: Unknown) -> napi::Result<String> {
    text_at(env, what, "", doc)
}

/// [`document_text`] for a value whose own errors (not JSON, not a string or an object)
/// name `path`.
pub fn text_at(env: &Env, what: &str, path: &str, doc: Unknown) -> napi::Result<String> {
    match doc.get_type()? {
        ValueType::String => utf8(doc.coerce_to_string()?),
        ValueType::Object => {
            let json: Object = env.get_global()?.get_named_property("JSON")?;
            let stringify: Function<Unknown, Unknown> = json.get_named_property("stringify")?;
            match stringify.call(doc) {
                Ok(text) if text.get_type()? == ValueType::String => utf8(text.coerce_to_string()?),
                Ok(_) => Err(crate::error::to_js(
                    env,
                    &invalid(path, format!("{what} could not be written as JSON")),
                )),
                Err(e) => Err(crate::error::to_js(
                    env,
                    &partnerkit::Error::new(
                        partnerkit::ErrorCode::InvalidJson,
                        path,
                        format!(
                            "{what} could not be written as JSON ({}); money must be decimal \
                             strings like \"49.99\", never BigInt or number",
                            e.reason
                        ),
                    ),
                )),
            }
        }
        other => Err(crate::error::to_js(
            env,
            &invalid(
                path,
                format!(
                    "{what} must be a JSON string or a plain object, found {}",
                    type_name(other)
                ),
            ),
        )),
    }
}

/// The JSON text of optional host limits (`undefined` and `null` mean the defaults).
pub fn limits_text(env: &Env, limits: Option<Unknown>) -> napi::Result<Option<String>> {
    match limits {
        Some(l) if !matches!(l.get_type()?, ValueType::Undefined | ValueType::Null) => {
            text_at(env, "the limits", "limits", l).map(Some)
        }
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

fn utf8(s: JsString) -> napi::Result<String> {
    s.into_utf8()?.into_owned()
}

/// How an argument's type is named in errors ("a number").
pub fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::External => "an external",
        ValueType::BigInt => "a bigint",
        _ => "an unknown value",
    }
}

/// `JSON.parse(text)`: the core's bytes become a JS value without a second serializer.
pub fn parse_json<'env>(env: &'env Env, text: &str) -> napi::Result<Unknown<'env>> {
    let json: Object = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<JsString, Unknown> = json.get_named_property("parse")?;
    parse.call(env.create_string(text)?)
}
