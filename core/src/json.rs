//! Reading JSON documents into typed values with errors that carry a document path.
//!
//! serde says *what* failed; `serde_path_to_error` says *where*. This module turns the pair
//! into an [`Error`] with a stable code (`UnknownField`, `MissingField`, `UnknownCurrency`,
//! `InvalidValue`) and a path like `plan.rules[2].reward.percent`.

use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorCode};

/// Parses text into a JSON value; malformed text is `InvalidJson` at `root`.
pub(crate) fn json_value(text: &str, root: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| invalid_json(&e, root))
}

/// `InvalidJson` with the line and column serde_json reports.
pub(crate) fn invalid_json(e: &serde_json::Error, root: &str) -> Error {
    Error::new(
        ErrorCode::InvalidJson,
        root,
        format!(
            "not well-formed JSON: {} (line {}, column {})",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        ),
    )
}

/// Deserializes `value` as `T`; errors are located under `path`.
pub(crate) fn from_value_at<T: DeserializeOwned>(
    value: &serde_json::Value,
    path: &str,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| located(e, path))
}

/// Deserializes text as `T`; syntax errors are `InvalidJson`, the rest are located under
/// `root`.
pub(crate) fn from_str_at<T: DeserializeOwned>(text: &str, root: &str) -> Result<T, Error> {
    // Most documents are correct: read them without tracking the path (which costs about
    // as much as the reading), and read again, tracking it, only to locate an error. The
    // same `Deserialize` runs both times, so what is accepted does not change.
    if let Ok(v) = serde_json::from_str(text) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let out: Result<T, _> = serde_path_to_error::deserialize(&mut *de);
    match out {
        Ok(v) => {
            // Trailing characters after the document are a syntax error too.
            de.end().map_err(|e| invalid_json(&e, root))?;
            Ok(v)
        }
        Err(e) => {
            let inner = e.inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(invalid_json(inner, root))
            } else {
                Err(located(e, root))
            }
        }
    }
}

fn located(e: serde_path_to_error::Error<serde_json::Error>, root: &str) -> Error {
    let inner = strip_position(&e.inner().to_string());
    let mut path = join(root, &e.path().to_string());
    let code = if let Some(field) = between(&inner, "unknown field `", "`") {
        // serde_path_to_error already ends the path with the unknown key itself.
        if !path.ends_with(&format!(".{field}")) {
            path = join(&path, field);
        }
        ErrorCode::UnknownField
    } else if let Some(field) = between(&inner, "missing field `", "`") {
        path = join(&path, field);
        ErrorCode::MissingField
    } else if inner.contains(crate::dec::TOO_LONG) {
        ErrorCode::LimitExceeded
    } else if inner.contains("ISO 4217") {
        ErrorCode::UnknownCurrency
    } else {
        ErrorCode::InvalidValue
    };
    Error::new(code, path, inner)
}

/// Joins a document path and a child path (`.`-separated, `[i]` for indices).
pub(crate) fn join(root: &str, child: &str) -> String {
    if child.is_empty() || child == "." {
        root.to_owned()
    } else if root.is_empty() {
        child.to_owned()
    } else if child.starts_with('[') {
        format!("{root}{child}")
    } else {
        format!("{root}.{child}")
    }
}

/// The fields a document object may hold: each name and whether it is required.
pub(crate) type Fields = &'static [(&'static str, bool)];

/// Records `key` of the object at `root` as an unknown field, naming the ones expected.
pub(crate) fn unknown_field(
    issues: &mut crate::error::Issues,
    root: &str,
    key: &str,
    fields: Fields,
) {
    let expected = fields
        .iter()
        .map(|(f, _)| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    issues.push(
        ErrorCode::UnknownField,
        join(root, key),
        format!("unknown field `{key}`, expected one of {expected}"),
    );
}

/// Records every required field of `fields` that `obj` (at `root`) lacks.
pub(crate) fn missing_fields(
    issues: &mut crate::error::Issues,
    obj: &serde_json::Map<String, serde_json::Value>,
    root: &str,
    fields: Fields,
) {
    for (field, required) in fields {
        if *required && !obj.contains_key(*field) {
            issues.push(
                ErrorCode::MissingField,
                join(root, field),
                format!("missing field `{field}`"),
            );
        }
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// serde_json appends " at line L column C"; the path already says where.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        percent: crate::dec::Dec,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        rules: Vec<Inner>,
    }

    #[test]
    fn paths() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"rules":[{"percent":"1"},{"percent":2}]}"#).unwrap();
        let e = from_value_at::<Outer>(&v, "plan").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidValue);
        assert_eq!(e.path(), "plan.rules[1].percent");
        let v: serde_json::Value =
            serde_json::from_str(r#"{"rules":[{"percent":"1","pct":"2"}]}"#).unwrap();
        let e = from_value_at::<Outer>(&v, "plan").unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnknownField);
        assert_eq!(e.path(), "plan.rules[0].pct");
        let v: serde_json::Value = serde_json::from_str(r#"{"rules":[{}]}"#).unwrap();
        let e = from_value_at::<Outer>(&v, "plan").unwrap_err();
        assert_eq!(e.code(), ErrorCode::MissingField);
        assert_eq!(e.path(), "plan.rules[0].percent");
        let e = from_str_at::<Outer>(r#"{"rules":[}"#, "input").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
    }
}
