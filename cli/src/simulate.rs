//! `simulate`, `compare` and `sweep`: the simulator (SPEC §13) with readable tables, a
//! progress bar on long runs (only when stderr is a terminal) and `--json` for machines.

use std::io::IsTerminal;

use partnerkit::simulate::{
    self, Axis, Comparison, EvalPath, Options, Scenario, Simulation, SweepPoint,
};
use partnerkit::{Error, ErrorCode, Plan};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::read;

/// Options shared by `simulate` and `sweep --scenario`.
pub struct RunOpts {
    pub runs: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub engine: bool,
}

fn plans(paths: &[String]) -> Result<Vec<Plan>, Error> {
    let mut out = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        let root = format!("plans[{i}]");
        let text = read(p)?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            Error::new(
                ErrorCode::InvalidJson,
                &root,
                format!("{p}: not well-formed JSON: {e}"),
            )
        })?;
        out.push(simulate::plan_or_history(&v, &root)?);
    }
    Ok(out)
}

fn scenario(path: &str, o: &RunOpts) -> Result<Scenario, Error> {
    let sc = Scenario::from_json(&read(path)?)?;
    match (o.runs, o.seed) {
        (None, None) => Ok(sc),
        (runs, seed) => sc.with_runs(runs.unwrap_or(sc.runs()), seed.unwrap_or(sc.doc().seed)),
    }
}

/// A progress bar over `total` runs, drawn only when stderr is a terminal.
fn bar(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || total < 2 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({eta} left)",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    Some(pb)
}

fn run_sim(sc: &Scenario, plans: &[Plan], o: &RunOpts) -> Result<Simulation, Error> {
    let pb = bar(u64::from(sc.runs()));
    let tick = |n: u64| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    };
    let sim = simulate::simulate(
        sc,
        plans,
        &Options {
            threads: o.threads,
            path: if o.engine {
                EvalPath::Engine
            } else {
                EvalPath::Auto
            },
            progress: Some(&tick),
        },
    );
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    sim
}

/// `partnerkit simulate SCENARIO --plan A --plan B`.
pub fn simulate_cmd(
    path: &str,
    plan_paths: &[String],
    o: &RunOpts,
    json: bool,
) -> Result<String, Error> {
    let sc = scenario(path, o)?;
    let plans = plans(plan_paths)?;
    let started = std::time::Instant::now();
    let sim = run_sim(&sc, &plans, o)?;
    if json {
        return Ok(sim.to_json() + "\n");
    }
    Ok(simulation_table(&sim, started.elapsed()))
}

/// `partnerkit compare INPUT --plan A --plan B`.
pub fn compare_cmd(input: &str, plan_paths: &[String], json: bool) -> Result<String, Error> {
    let input = read(input)?;
    let texts = plan_paths
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let cmp = simulate::compare_json(&input, &refs)?;
    if json {
        return Ok(cmp.to_json() + "\n");
    }
    Ok(comparison_table(&cmp))
}

/// `partnerkit sweep BASE --vary P=V.. (--scenario S | --input I)`.
pub fn sweep_cmd(
    base: &str,
    vary: &[String],
    scenario_path: Option<&str>,
    input: Option<&str>,
    o: &RunOpts,
    json: bool,
) -> Result<String, Error> {
    let base_text = read(base)?;
    let base: Value = serde_json::from_str(&base_text).map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            "plan",
            format!("{base}: not well-formed JSON: {e}"),
        )
    })?;
    let axes = vary
        .iter()
        .enumerate()
        .map(|(i, v)| {
            simulate::parse_axis(v)
                .map_err(|e| Error::new(e.code(), format!("vary[{i}]"), e.message().to_owned()))
        })
        .collect::<Result<Vec<Axis>, _>>()?;
    let points = simulate::sweep(&base, &axes)?;
    let plans: Vec<Plan> = points.iter().map(|p| p.plan.clone()).collect();
    let rows = match (scenario_path, input) {
        (Some(s), None) => {
            let sc = scenario(s, o)?;
            run_sim(&sc, &plans, o)?.summary_rows()
        }
        (None, Some(i)) => {
            let text = read(i)?;
            let mut doc: Value = serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidJson,
                    "",
                    format!("{i}: not well-formed JSON: {e}"),
                )
            })?;
            if let Some(obj) = doc.as_object_mut() {
                obj.remove("plan_history");
                obj.insert("plan".into(), base.clone());
            }
            let input = partnerkit::Input::from_json(&doc.to_string())?;
            simulate::compare(&input, &plans)?.summary_rows()
        }
        _ => {
            return Err(Error::new(
                ErrorCode::MissingField,
                "",
                "give --scenario SCENARIO.json (Monte Carlo) or --input INPUT.json (backtest)",
            ));
        }
    };
    let table = simulate::table_json(&axes, &points, &rows);
    if json {
        return Ok(table + "\n");
    }
    Ok(sweep_table(&axes, &points, &rows, scenario_path.is_some()))
}

/// Left-aligned first column, right-aligned others, two spaces between.
fn render(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn dash(x: Option<Decimal>) -> String {
    x.map_or_else(|| "-".into(), |d| d.to_string())
}

fn simulation_table(sim: &Simulation, took: std::time::Duration) -> String {
    let sc = &sim.scenario;
    let doc = sc.doc();
    let mut out = format!(
        "Scenario {}: {} partners, {} months from {}, {} runs (seed {}), {}; {:.1} s\n\n",
        doc.id.as_deref().unwrap_or("(unnamed)"),
        sc.partners(),
        doc.months,
        doc.start,
        doc.runs,
        doc.seed,
        doc.currency.as_str(),
        took.as_secs_f64()
    );
    let mut rows = vec![
        [
            "plan",
            "path",
            "cost p5",
            "cost p50",
            "cost p95",
            "CPA p50",
            "ROI p50",
            "customers p50",
            "earnings p50",
            "earnings p95",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (i, p) in sim.plans.iter().enumerate() {
        let s = sim.summary(i);
        let get = |k: usize, f: fn(&partnerkit::simulate::Summary) -> Decimal| {
            dash(s[k].1.as_ref().map(f))
        };
        rows.push(vec![
            p.plan.clone(),
            p.path.to_owned(),
            get(0, |s| s.p5),
            get(0, |s| s.p50),
            get(0, |s| s.p95),
            get(1, |s| s.p50),
            get(2, |s| s.p50),
            get(4, |s| s.p50),
            get(5, |s| s.p50),
            get(6, |s| s.p50),
        ]);
    }
    out.push_str(&render(&rows));
    for p in &sim.plans {
        if let Some(w) = &p.engine_because {
            out.push_str(&format!("{}: evaluated by the engine ({w})\n", p.plan));
        }
    }
    // Per segment: the median cost of each plan.
    out.push_str("\nCost per segment (p50 over runs)\n");
    let mut rows = vec![
        std::iter::once("segment".to_owned())
            .chain(std::iter::once("partners".to_owned()))
            .chain(sim.plans.iter().map(|p| p.plan.clone()))
            .collect::<Vec<_>>(),
    ];
    for (si, (name, n)) in sim.segments.iter().enumerate() {
        let mut row = vec![name.clone(), n.to_string()];
        for p in &sim.plans {
            let v: Vec<Decimal> = p.runs.iter().map(|r| r.segments[si]).collect();
            row.push(dash(simulate::stats::summarize(v, 2).map(|s| s.p50)));
        }
        rows.push(row);
    }
    out.push_str(&render(&rows));
    for p in sim.plans.iter().filter(|p| !p.levels.is_empty()) {
        out.push_str(&format!(
            "\nTier mix at the horizon's end, {} (partners: p5 / p50 / p95)\n",
            p.plan
        ));
        let mut rows = vec![["tier", "p5", "p50", "p95"].map(String::from).to_vec()];
        for (li, l) in p.levels.iter().enumerate() {
            let v: Vec<Decimal> = p.runs.iter().map(|r| Decimal::from(r.tiers[li])).collect();
            let s = simulate::stats::summarize(v, 2);
            rows.push(vec![
                l.clone(),
                dash(s.as_ref().map(|s| s.p5)),
                dash(s.as_ref().map(|s| s.p50)),
                dash(s.as_ref().map(|s| s.p95)),
            ]);
        }
        out.push_str(&render(&rows));
    }
    out
}

fn comparison_table(c: &Comparison) -> String {
    let mut out = format!(
        "Backtest as of {} ({}); winners and losers against {}\n\n",
        partnerkit::time::fmt_instant(c.as_of),
        c.currency.as_str(),
        c.plans.first().map_or("-", |p| p.plan.as_str())
    );
    let mut rows = vec![
        [
            "plan",
            "cost",
            "CPA",
            "referrals",
            "earnings p50",
            "p95",
            "max",
            "winners",
            "won",
            "losers",
            "lost",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for p in &c.plans {
        rows.push(vec![
            p.plan.clone(),
            p.cost.to_string(),
            dash(p.cpa),
            p.referrals.to_string(),
            dash(p.earnings.as_ref().map(|s| s.p50)),
            dash(p.earnings.as_ref().map(|s| s.p95)),
            p.earnings_max.to_string(),
            p.winners.to_string(),
            p.won.to_string(),
            p.losers.to_string(),
            p.lost.to_string(),
        ]);
    }
    out.push_str(&render(&rows));
    out.push_str("\nCost per segment\n");
    let mut segs: Vec<Option<String>> = c
        .plans
        .iter()
        .flat_map(|p| p.segments.iter().map(|s| s.0.clone()))
        .collect();
    segs.sort();
    segs.dedup();
    let mut rows = vec![
        std::iter::once("segment".to_owned())
            .chain(c.plans.iter().map(|p| p.plan.clone()))
            .collect::<Vec<_>>(),
    ];
    for s in &segs {
        let mut row = vec![s.clone().unwrap_or_else(|| "(none)".into())];
        for p in &c.plans {
            row.push(dash(p.segments.iter().find(|x| x.0 == *s).map(|x| x.2)));
        }
        rows.push(row);
    }
    out.push_str(&render(&rows));
    for p in c.plans.iter().filter(|p| !p.tiers.is_empty()) {
        out.push_str(&format!("\nCost per tier held at as_of, {}\n", p.plan));
        let mut rows = vec![["tier", "partners", "cost"].map(String::from).to_vec()];
        for (t, n, a) in &p.tiers {
            rows.push(vec![t.clone(), n.to_string(), a.to_string()]);
        }
        out.push_str(&render(&rows));
    }
    if c.plans.len() > 1 {
        // The partners whose earnings move most between the first and the last plan.
        let last = c.plans.len() - 1;
        let mut moved: Vec<(Decimal, &str)> = c
            .partners
            .iter()
            .map(|r| (r.earnings[last] - r.earnings[0], r.partner.as_str()))
            .filter(|(d, _)| !d.is_zero())
            .collect();
        moved.sort_by(|a, b| b.0.abs().cmp(&a.0.abs()).then(a.1.cmp(b.1)));
        if !moved.is_empty() {
            out.push_str(&format!(
                "\nLargest changes, {} versus {}\n",
                c.plans[last].plan, c.plans[0].plan
            ));
            let mut rows = vec![
                ["partner", "before", "after", "change"]
                    .map(String::from)
                    .to_vec(),
            ];
            for (d, id) in moved.iter().take(10) {
                let r = c.partners.iter().find(|r| r.partner == *id);
                if let Some(r) = r {
                    rows.push(vec![
                        id.to_string(),
                        r.earnings[0].to_string(),
                        r.earnings[last].to_string(),
                        format!("{}{d}", if *d > Decimal::ZERO { "+" } else { "" }),
                    ]);
                }
            }
            out.push_str(&render(&rows));
        }
    }
    out
}

fn sweep_table(axes: &[Axis], points: &[SweepPoint], rows: &[Value], mc: bool) -> String {
    let cols: &[(&str, &str)] = if mc {
        &[
            ("cost_p5", "cost p5"),
            ("cost_p50", "cost p50"),
            ("cost_p95", "cost p95"),
            ("cpa_p50", "CPA p50"),
            ("roi_p50", "ROI p50"),
            ("earnings_p50_p50", "median partner p50"),
        ]
    } else {
        &[
            ("cost", "cost"),
            ("cpa", "CPA"),
            ("referrals", "referrals"),
            ("earnings_p50", "earnings p50"),
            ("winners", "winners"),
            ("losers", "losers"),
            ("won", "won"),
            ("lost", "lost"),
        ]
    };
    let mut table = vec![
        axes.iter()
            .map(|a| a.pointer.clone())
            .chain(cols.iter().map(|c| c.1.to_owned()))
            .collect::<Vec<_>>(),
    ];
    for (p, r) in points.iter().zip(rows) {
        let mut row: Vec<String> = p
            .values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        for (c, _) in cols {
            row.push(match &r[*c] {
                Value::Null => "-".into(),
                Value::String(s) => s.clone(),
                v => v.to_string(),
            });
        }
        table.push(row);
    }
    render(&table)
}
