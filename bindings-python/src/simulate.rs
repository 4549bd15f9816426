//! The simulator (SPEC §13): `Scenario` (a scenario document held as JSON text, like
//! `Plan`) and the Monte Carlo, backtest and sweep functions. Results cross back as the
//! core's JSON text; the facade (`partnerkit/_simulate.py`) makes DataFrames of it.

use pyo3::prelude::*;

use crate::document::document_class;
use crate::plan::Plan;
use crate::{convert, error};

document_class!(
    /// A scenario document (`{"schema": "partnerkit/scenario@1", ...}`).
    Scenario,
    "scenario",
    partnerkit::simulate::Scenario::validate_json
);

/// Each plan's JSON text (a `Plan`, a dict, a list of versions, or JSON text).
fn plan_texts(plans: &[Bound<'_, PyAny>]) -> PyResult<Vec<String>> {
    plans
        .iter()
        .enumerate()
        .map(|(i, p)| convert::document(p, &format!("plans[{i}]")).map(|t| t.into_owned()))
        .collect()
}

fn parse_plans(texts: &[String]) -> partnerkit::Result<Vec<partnerkit::Plan>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let root = format!("plans[{i}]");
            let v: serde_json::Value = serde_json::from_str(t).map_err(|e| {
                partnerkit::Error::new(
                    partnerkit::ErrorCode::InvalidJson,
                    &root,
                    format!("not well-formed JSON: {e}"),
                )
            })?;
            partnerkit::simulate::plan_or_history(&v, &root)
        })
        .collect()
}

/// Runs the scenario's Monte Carlo simulation under each plan; the result's JSON
/// (`partnerkit/simulation@1`). `runs` and `seed` override the scenario's.
#[pyfunction]
#[pyo3(signature = (scenario, plans, runs=None, seed=None, threads=None, engine=false))]
pub fn simulate_json(
    py: Python<'_>,
    scenario: &Bound<'_, PyAny>,
    plans: Vec<Bound<'_, PyAny>>,
    runs: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
    engine: bool,
) -> PyResult<String> {
    let text = convert::document(scenario, "scenario")?.into_owned();
    let plans = plan_texts(&plans)?;
    error::run(py, || {
        use partnerkit::simulate::{self, EvalPath, Options};
        let mut sc = simulate::Scenario::from_json(&text)?;
        if runs.is_some() || seed.is_some() {
            sc = sc.with_runs(runs.unwrap_or(sc.runs()), seed.unwrap_or(sc.doc().seed))?;
        }
        let plans = parse_plans(&plans)?;
        let path = if engine {
            EvalPath::Engine
        } else {
            EvalPath::Auto
        };
        let opts = Options {
            threads,
            path,
            progress: None,
        };
        Ok(simulate::simulate(&sc, &plans, &opts)?.to_json())
    })
}

/// Backtest: the input document's events under each plan; the comparison's JSON
/// (`partnerkit/comparison@1`).
#[pyfunction]
pub fn compare_json(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    plans: Vec<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let input = convert::document(input, "")?.into_owned();
    let plans = plan_texts(&plans)?;
    error::run(py, || {
        let refs: Vec<&str> = plans.iter().map(String::as_str).collect();
        Ok(partnerkit::simulate::compare_json(&input, &refs)?.to_json())
    })
}

/// The grid points of a sweep: for each, the JSON list of the axes' values and its plan.
/// `vary` holds `POINTER=V1,V2` or `POINTER=FROM..TO:STEP` specs.
#[pyfunction]
pub fn sweep_points(
    py: Python<'_>,
    base: &Bound<'_, PyAny>,
    vary: Vec<String>,
) -> PyResult<Vec<(String, Plan)>> {
    let base = convert::document(base, "plan")?.into_owned();
    let points = error::run(py, || {
        use partnerkit::simulate;
        let v: serde_json::Value = serde_json::from_str(&base).map_err(|e| {
            partnerkit::Error::new(
                partnerkit::ErrorCode::InvalidJson,
                "plan",
                format!("not well-formed JSON: {e}"),
            )
        })?;
        let axes = vary
            .iter()
            .enumerate()
            .map(|(i, s)| {
                simulate::parse_axis(s).map_err(|e| {
                    partnerkit::Error::new(e.code(), format!("vary[{i}]"), e.message().to_owned())
                })
            })
            .collect::<partnerkit::Result<Vec<_>>>()?;
        let points = simulate::sweep(&v, &axes)?;
        Ok(points
            .into_iter()
            .map(|p| {
                (
                    serde_json::Value::Array(p.values).to_string(),
                    p.doc.to_string(),
                )
            })
            .collect::<Vec<_>>())
    })?;
    Ok(points
        .into_iter()
        .map(|(values, plan)| (values, Plan::from_text(plan)))
        .collect())
}

/// The scenario JSON Schema, generated from the core's types.
#[pyfunction]
pub fn scenario_json_schema(py: Python<'_>) -> PyResult<String> {
    error::run(py, || Ok(partnerkit::simulate::scenario_json_schema()))
}
