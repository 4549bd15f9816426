//! Parameter sweeps: a base plan varied over a grid of values addressed by JSON pointers
//! (`/rules/0/reward/percent`), one plan per grid point, every point validated like a plan.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::plan::Plan;

/// Most grid points a sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// One axis of the grid: a JSON pointer into the plan and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// RFC 6901 pointer to an existing value of the base plan.
    pub pointer: String,
    /// The values, in order.
    pub values: Vec<Value>,
}

/// One grid point: the value of each axis and the plan it gives.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    /// The value of each axis, in axis order.
    pub values: Vec<Value>,
    /// The plan document with those values.
    pub doc: Value,
    /// The plan with those values.
    pub plan: Plan,
}

/// Parses `POINTER=V1,V2,...` or `POINTER=FROM..TO:STEP` (decimal, `TO` included when a
/// step lands on it). Values are decimal strings unless they are JSON literals (`true`,
/// `null`, `"text"`, objects, lists); a number given for a field that holds a JSON number
/// in the base plan is written as a number (see [`sweep`]).
pub fn parse_axis(spec: &str) -> Result<Axis> {
    let bad = |m: String| Error::new(ErrorCode::InvalidValue, "vary", m);
    let Some((pointer, values)) = spec.split_once('=') else {
        return Err(bad(format!(
            "expected POINTER=VALUES like /rules/0/reward/percent=10..30:5, found {spec:?}"
        )));
    };
    if !pointer.starts_with('/') {
        return Err(bad(format!(
            "a JSON pointer starts with '/', found {pointer:?}"
        )));
    }
    let values = if let Some((range, step)) = values.split_once(':')
        && let Some((from, to)) = range.split_once("..")
    {
        let num = |s: &str| {
            crate::money::parse_decimal(s.trim())
                .ok_or_else(|| bad(format!("{s:?} is not a decimal in range {values:?}")))
        };
        let (from, to, step) = (num(from)?, num(to)?, num(step)?);
        if step <= Decimal::ZERO || from > to {
            return Err(bad(format!(
                "a range FROM..TO:STEP needs FROM ≤ TO and STEP > 0, found {values:?}"
            )));
        }
        let mut out = Vec::new();
        let mut x = from;
        while x <= to {
            out.push(Value::String(x.normalize().to_string()));
            if out.len() > MAX_POINTS {
                return Err(Error::new(
                    ErrorCode::LimitExceeded,
                    "vary",
                    format!("the range {values:?} has more than {MAX_POINTS} values"),
                ));
            }
            x += step;
        }
        out
    } else {
        values
            .split(',')
            .map(|v| {
                let v = v.trim();
                match serde_json::from_str::<Value>(v) {
                    Ok(j) if !j.is_number() => j,
                    _ => Value::String(v.to_owned()),
                }
            })
            .collect()
    };
    if values.is_empty() {
        return Err(bad(format!("no values for {pointer}")));
    }
    Ok(Axis {
        pointer: pointer.to_owned(),
        values,
    })
}

/// Every grid point of `axes` over the base plan document, in row-major order (the last
/// axis varies fastest), each validated as a plan. A pointer must name an existing value
/// of the base plan; a decimal string given for a JSON number there is written as a number.
pub fn sweep(base: &Value, axes: &[Axis]) -> Result<Vec<SweepPoint>> {
    // A pointer may name a setting the base plan leaves at its default
    // (`/lifecycle/hold_days`): the default is written into the base first, so the sweep
    // varies what the plan really uses.
    let mut base = base.clone();
    if axes.iter().any(|a| base.pointer(&a.pointer).is_none())
        && let Ok(plan) = Plan::from_value(&base, "plan")
        && let Ok(filled) = serde_json::to_value(plan.doc())
    {
        for a in axes {
            materialize(&mut base, &filled, &a.pointer);
        }
    }
    let base = &base;
    let mut total = 1usize;
    for (i, a) in axes.iter().enumerate() {
        if base.pointer(&a.pointer).is_none() {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("vary[{i}]"),
                format!("{} names no value of the base plan", a.pointer),
            ));
        }
        total = total.saturating_mul(a.values.len());
    }
    if total > MAX_POINTS {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            "vary",
            format!("the grid has {total} points, at most {MAX_POINTS}"),
        ));
    }
    let mut points = Vec::with_capacity(total);
    for k in 0..total {
        let mut rest = k;
        let mut idx = vec![0; axes.len()];
        for (i, a) in axes.iter().enumerate().rev() {
            idx[i] = rest % a.values.len();
            rest /= a.values.len();
        }
        let mut doc = base.clone();
        let mut values = Vec::with_capacity(axes.len());
        for (a, &j) in axes.iter().zip(&idx) {
            let mut v = a.values[j].clone();
            if let Some(slot) = doc.pointer_mut(&a.pointer) {
                if slot.is_number()
                    && let Some(n) = v
                        .as_str()
                        .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    && n.is_number()
                {
                    v = n;
                }
                *slot = v.clone();
            }
            values.push(v);
        }
        let plan = Plan::from_value(&doc, "plan").map_err(|e| {
            let at: Vec<String> = axes
                .iter()
                .zip(&values)
                .map(|(a, v)| format!("{} = {v}", a.pointer))
                .collect();
            Error::new(
                e.code(),
                e.path(),
                format!("at {}: {}", at.join(", "), e.message()),
            )
        })?;
        points.push(SweepPoint { values, doc, plan });
    }
    Ok(points)
}

/// Copies into `doc` the part of `filled` (the same plan with its defaults written out) that
/// `pointer` needs: the first missing object on the way, whole.
fn materialize(doc: &mut Value, filled: &Value, pointer: &str) {
    if doc.pointer(pointer).is_some() {
        return;
    }
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut prefix = String::new();
    for t in tokens {
        let next = format!("{prefix}/{t}");
        if doc.pointer(&next).is_none() {
            let key = t.replace("~1", "/").replace("~0", "~");
            if let (Some(parent), Some(v)) = (
                doc.pointer_mut(&prefix).and_then(Value::as_object_mut),
                filled.pointer(&next),
            ) {
                parent.insert(key, v.clone());
            }
            return;
        }
        prefix = next;
    }
}

/// A sweep's table as JSON (`"schema": "partnerkit/sweep@1"`): one row per grid point,
/// the value of each axis under its pointer, then the point's summary row.
pub fn table_json(axes: &[Axis], points: &[SweepPoint], rows: &[Value]) -> String {
    let rows: Vec<Value> = points
        .iter()
        .zip(rows)
        .map(|(p, r)| {
            let mut row = serde_json::Map::new();
            for (a, v) in axes.iter().zip(&p.values) {
                row.insert(a.pointer.clone(), v.clone());
            }
            if let Some(o) = r.as_object() {
                for (k, v) in o {
                    row.insert(k.clone(), v.clone());
                }
            }
            Value::Object(row)
        })
        .collect();
    serde_json::json!({
        "schema": "partnerkit/sweep@1",
        "axes": axes.iter().map(|a| a.pointer.clone()).collect::<Vec<_>>(),
        "rows": rows,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        let a = parse_axis("/rules/0/reward/percent=10..30:5").unwrap();
        assert_eq!(
            a.values,
            ["10", "15", "20", "25", "30"].map(|s| Value::String(s.into()))
        );
        let a = parse_axis("/x=1.5,true,\"a\"").unwrap();
        assert_eq!(
            a.values,
            vec![
                Value::String("1.5".into()),
                Value::Bool(true),
                Value::String("a".into())
            ]
        );
        assert!(parse_axis("/x=3..1:1").is_err());
        assert!(parse_axis("x=1").is_err());
    }
}
