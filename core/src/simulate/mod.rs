//! Simulation for plan design (SPEC §13): backtests, Monte Carlo and parameter sweeps.
//!
//! - [`compare`] (backtest) evaluates the same input under several plans with
//!   [`crate::evaluate`] and compares them: cost, CPA, cost per segment and tier, the
//!   distribution of partner earnings, and who wins or loses against the first plan.
//! - [`simulate`] (Monte Carlo) generates each run's events from a [`Scenario`] and
//!   evaluates every plan on them. Runs are independent and go in parallel (rayon); each
//!   random draw is addressed by (seed, run, partner), so the numbers do not depend on the
//!   thread count. Plans within the fast path's reach are priced by the simulator's own
//!   integer path (`fast.rs`, checked against `evaluate` by the tests); the others by
//!   `evaluate` on the generated events.
//! - [`sweep`] varies plan parameters over a grid of JSON-pointer values and runs either.
//!
//! Money in results is exact: minor units summed as integers, percentiles by nearest rank
//! over decimals (`stats.rs`).

mod backtest;
mod fast;
mod generate;
mod output;
pub mod scenario;
pub mod stats;
mod sweep;

use std::sync::Arc;

use rayon::prelude::*;
use rust_decimal::Decimal;

pub use backtest::{
    Comparison, PartnerRow, PlanComparison, compare, compare_json, plan_or_history,
};
pub use scenario::{
    Dist, Population, SCENARIO_SCHEMA, Scenario, ScenarioDoc, Subscription,
    json_schema as scenario_json_schema,
};
pub use stats::Summary;
pub use sweep::{Axis, SweepPoint, parse_axis, sweep, table_json};

use crate::error::{Error, ErrorCode, Result};
use crate::input::Input;
use crate::money::Rounding;
use crate::plan::Plan;
use fast::{FastPlan, Outcome, Scratch};
use generate::{Calendar, Pay};

/// Which evaluation path prices the plans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EvalPath {
    /// The fast path where a plan is within its reach, else `evaluate`.
    #[default]
    Auto,
    /// Always `evaluate` on the generated events (slow; for checks).
    Engine,
}

/// How to run a simulation.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// Worker threads (`None`: rayon's default, one per core). The numbers do not depend
    /// on it.
    pub threads: Option<usize>,
    /// Which path evaluates the plans.
    pub path: EvalPath,
    /// Called with the number of runs finished so far, from any thread.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// One run of one plan.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// The run's index (0-based).
    pub run: u32,
    /// Net partner cost: commissions less reversals, plan currency.
    pub cost: Decimal,
    /// Sales of the generated customers up to the horizon's end, less refunds.
    pub sales: Decimal,
    /// Customers acquired (attributed).
    pub customers: u64,
    /// Cost per acquired customer (plan rounding); `None` without customers.
    pub cpa: Option<Decimal>,
    /// `(margin × sales − cost) / cost`, 4 decimals half-even; `None` without a margin or
    /// without cost.
    pub roi: Option<Decimal>,
    /// Median partner earnings in the run (nearest rank over partners).
    pub earnings_p50: Decimal,
    /// 95th percentile of partner earnings in the run.
    pub earnings_p95: Decimal,
    /// Cost per segment, in the order of [`Simulation::segments`].
    pub segments: Vec<Decimal>,
    /// Partners per tier level at the horizon's end, in the order of
    /// [`PlanResult::levels`].
    pub tiers: Vec<u64>,
}

/// One plan's runs.
#[derive(Clone, Debug)]
pub struct PlanResult {
    /// The plan's id.
    pub plan: String,
    /// `"fast"` or `"engine"`.
    pub path: &'static str,
    /// Why the plan went through `evaluate` (the feature the fast path lacks).
    pub engine_because: Option<String>,
    /// Tier levels, lowest first (empty without tiers).
    pub levels: Vec<String>,
    /// Every run, in run order.
    pub runs: Vec<RunRow>,
}

/// The result of a Monte Carlo simulation.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// The scenario's source, for reports.
    pub scenario: Arc<Scenario>,
    /// Distinct segments, sorted, with their partner counts.
    pub segments: Vec<(String, u64)>,
    /// One result per plan, in the order given.
    pub plans: Vec<PlanResult>,
}

enum Path {
    Fast(Box<FastPlan>),
    Engine(String),
}

/// Runs the scenario's Monte Carlo simulation under each plan.
///
/// Every plan must be in the scenario's currency. Errors of a plan against the scenario's
/// partners (a rule naming an unknown partner) are those of `evaluate`, at `plans[i]`.
pub fn simulate(sc: &Scenario, plans: &[Plan], opts: &Options<'_>) -> Result<Simulation> {
    let partners = generate::partners(sc);
    let mut paths = Vec::with_capacity(plans.len());
    for (i, plan) in plans.iter().enumerate() {
        if plan.doc().currency != sc.doc.currency {
            return Err(Error::new(
                ErrorCode::CurrencyMismatch,
                format!("plans[{i}].currency"),
                format!(
                    "the scenario's payments are in {}; simulate plans in {} (plan \"{}\" is in {})",
                    sc.doc.currency,
                    sc.doc.currency,
                    plan.id(),
                    plan.doc().currency
                ),
            ));
        }
        // The same checks `evaluate` makes of partners against the plan, once.
        crate::evaluate(&Input {
            plan: plan.clone(),
            partners: partners.clone(),
            events: Vec::new(),
            fx: Vec::new(),
            as_of: sc.as_of(),
        })
        .map_err(|e| backtest::located(e, i))?;
        paths.push(match (opts.path, FastPlan::compile(plan, sc)) {
            (EvalPath::Auto, Ok(f)) => Path::Fast(Box::new(f)),
            (EvalPath::Auto, Err(why)) => Path::Engine(why),
            (EvalPath::Engine, _) => Path::Engine("the engine path was asked for".into()),
        });
    }
    let ctx = Ctx {
        sc,
        cal: Calendar::new(sc),
        key: generate::key(sc.doc.seed),
        plans,
        paths: &paths,
        partners: &partners,
    };
    let done = std::sync::atomic::AtomicU64::new(0);
    let run_all = || -> Result<Vec<Vec<RunRow>>> {
        (0..sc.doc.runs)
            .into_par_iter()
            .map_init(Scratches::default, |s, run| {
                let rows = ctx.run(run, s);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if let Some(p) = opts.progress {
                    p(n);
                }
                rows
            })
            .collect()
    };
    let per_run = match opts.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, "", format!("thread pool: {e}")))?
            .install(run_all)?,
        None => run_all()?,
    };
    let mut results: Vec<PlanResult> = plans
        .iter()
        .zip(&paths)
        .map(|(plan, path)| PlanResult {
            plan: plan.id().to_owned(),
            path: match path {
                Path::Fast(_) => "fast",
                Path::Engine(_) => "engine",
            },
            engine_because: match path {
                Path::Fast(_) => None,
                Path::Engine(w) => Some(w.clone()),
            },
            levels: levels(plan),
            runs: Vec::with_capacity(sc.doc.runs as usize),
        })
        .collect();
    for rows in per_run {
        for (r, row) in results.iter_mut().zip(rows) {
            r.runs.push(row);
        }
    }
    let mut segments: Vec<(String, u64)> = sc.segments.iter().map(|s| (s.clone(), 0)).collect();
    for (pop, &si) in sc.pops.iter().zip(&sc.pop_segment) {
        segments[si].1 += u64::from(pop.partners);
    }
    Ok(Simulation {
        scenario: Arc::new(sc.clone()),
        segments,
        plans: results,
    })
}

fn levels(plan: &Plan) -> Vec<String> {
    plan.doc()
        .tiers
        .as_ref()
        .map(|t| t.levels.iter().map(|l| l.id.clone()).collect())
        .unwrap_or_default()
}

#[derive(Default)]
struct Scratches {
    pays: Vec<Pay>,
    generator: generate::GenScratch,
    fast: Scratch,
    /// Per fast plan: each partner's outcome.
    outcomes: Vec<Vec<Outcome>>,
}

struct Ctx<'a> {
    sc: &'a Scenario,
    cal: Calendar,
    key: [u8; 32],
    plans: &'a [Plan],
    paths: &'a [Path],
    partners: &'a [crate::input::Partner],
}

/// One run's per-partner results under one plan, before they become a [`RunRow`].
struct Tally {
    earned: Vec<i64>,
    levels: Vec<usize>,
    customers: u64,
}

impl Ctx<'_> {
    fn run(&self, run: u32, s: &mut Scratches) -> Result<Vec<RunRow>> {
        let n = self.sc.partners as usize;
        let fast: Vec<&FastPlan> = self
            .paths
            .iter()
            .filter_map(|p| match p {
                Path::Fast(f) => Some(&**f),
                Path::Engine(_) => None,
            })
            .collect();
        let mut sales = 0i64;
        let mut fast_tallies = Vec::new();
        if !fast.is_empty() {
            let (first, s1, customers) = self.fast_pass(run, &fast, i64::MIN, s);
            sales = s1;
            // The engine starts the tier clock at the run's first event: periods ending at
            // or before it are not evaluated. Assuming it comes before the first period end
            // is exact unless nobody converted by then; only then look at the touches.
            let first_end = fast.iter().filter_map(|f| f.first_end()).min();
            if let Some(e1) = first_end
                && first.is_none_or(|f| f >= e1)
            {
                let clock = self.first_event(run).min(first.unwrap_or(i64::MAX));
                if clock >= e1 {
                    self.fast_pass(run, &fast, clock, s);
                }
            }
            for o in &s.outcomes[..fast.len()] {
                fast_tallies.push(Tally {
                    earned: o.iter().map(|x| x.earned).collect(),
                    levels: o.iter().map(|x| x.level).collect(),
                    customers,
                });
            }
        }
        let mut engine_tallies = Vec::new();
        if self.paths.iter().any(|p| matches!(p, Path::Engine(_))) {
            let (events, s1) = generate::events(self.sc, &self.cal, &self.key, run);
            sales = s1;
            let mut input = Input {
                plan: self.plans[0].clone(),
                partners: self.partners.to_vec(),
                events,
                fx: Vec::new(),
                as_of: self.sc.as_of(),
            };
            for (plan, path) in self.plans.iter().zip(self.paths) {
                if let Path::Engine(_) = path {
                    input.plan = plan.clone();
                    let report = crate::evaluate(&input)?;
                    engine_tallies.push(self.tally(&report, plan, n)?);
                }
            }
        }
        let (mut fi, mut ei) = (fast_tallies.into_iter(), engine_tallies.into_iter());
        let mut rows = Vec::with_capacity(self.plans.len());
        for (plan, path) in self.plans.iter().zip(self.paths) {
            let t = match path {
                Path::Fast(_) => fi.next(),
                Path::Engine(_) => ei.next(),
            };
            let t = t.ok_or_else(|| Error::new(ErrorCode::Internal, "", "missing tally"))?;
            rows.push(self.row(run, plan, t, sales));
        }
        Ok(rows)
    }

    /// Generates every partner once and prices it under each fast plan; returns the run's
    /// first conversion, its sales and its customers.
    fn fast_pass(
        &self,
        run: u32,
        fast: &[&FastPlan],
        clock: i64,
        s: &mut Scratches,
    ) -> (Option<i64>, i64, u64) {
        let n = self.sc.partners as usize;
        s.outcomes.resize_with(fast.len(), Vec::new);
        for o in &mut s.outcomes {
            o.clear();
            o.reserve(n);
        }
        let (mut first, mut sales, mut customers) = (None::<i64>, 0i64, 0u64);
        for p in 0..self.sc.partners {
            let d = generate::customers(self.sc, &self.cal, &self.key, run, p, &mut s.generator);
            if let Some(f) = d.first {
                first = Some(first.map_or(f, |x| x.min(f)));
            }
            sales += d.sales;
            customers += u64::from(d.customers);
            // Payments are materialised only for a plan priced payment by payment.
            let mut pays = false;
            for (j, f) in fast.iter().enumerate() {
                let o = if f.grouped() {
                    f.partner_grouped(p, &s.generator, &self.cal, clock, &mut s.fast.grouped)
                } else {
                    if !pays {
                        generate::pays(&self.cal, &s.generator, &mut s.pays);
                        pays = true;
                    }
                    f.partner(p, &s.pays, d.customers, clock, &mut s.fast)
                };
                s.outcomes[j].push(o);
            }
        }
        (first, sales, customers)
    }

    /// The run's first event among the touches that did not convert (the conversions are
    /// known to the caller).
    fn first_event(&self, run: u32) -> i64 {
        let mut first = i64::MAX;
        for p in 0..self.sc.partners {
            let counts = generate::other_touches(self.sc, &self.cal, &self.key, run, p);
            if let Some(m) = counts.iter().position(|&c| c > 0) {
                first = first.min(generate::touch_at(&self.cal, m, 0, counts[m]));
            }
        }
        first
    }

    fn tally(&self, report: &crate::Report, plan: &Plan, n: usize) -> Result<Tally> {
        let digits = self.sc.doc.currency.digits();
        let index: std::collections::HashMap<&str, usize> = self
            .partners
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut earned = vec![0i64; n];
        for (id, m) in &report.partners {
            if let Some(&i) = index.get(&**id) {
                earned[i] = minor(m.commission, digits);
            }
        }
        let lv = levels(plan);
        let mut levels_at = vec![0usize; n];
        // The timeline lists each partner's changes in the order made: the last one holds.
        for t in &report.tiers {
            if let (Some(&i), Some(l)) = (
                index.get(&*t.partner),
                lv.iter().position(|l| **l == *t.tier),
            ) {
                levels_at[i] = l;
            }
        }
        Ok(Tally {
            earned,
            levels: levels_at,
            customers: report.program.referrals,
        })
    }

    fn row(&self, run: u32, plan: &Plan, mut t: Tally, sales: i64) -> RunRow {
        let cur = self.sc.doc.currency;
        let digits = cur.digits();
        let dec = |m: i64| Decimal::new(m, digits);
        let cost: i64 = t.earned.iter().sum();
        let mut segments = vec![0i64; self.sc.segments.len()];
        for (pi, pop) in self.sc.pops.iter().enumerate() {
            let si = self.sc.pop_segment[pi];
            let range = pop.first as usize..(pop.first + pop.partners) as usize;
            segments[si] += t.earned[range].iter().sum::<i64>();
        }
        let nlev = levels(plan).len();
        let mut tiers = vec![0u64; nlev];
        if nlev > 0 {
            for &l in &t.levels {
                tiers[l] += 1;
            }
        }
        let doc = plan.doc();
        let cpa = crate::report::Metrics {
            commission: dec(cost),
            referrals: t.customers,
            ..Default::default()
        }
        .cpa(digits, doc.rounding);
        let roi = self.sc.doc.margin.and_then(|m| {
            if cost == 0 {
                return None;
            }
            let gain = m.get() * dec(sales) - dec(cost);
            gain.checked_div(dec(cost))
                .map(|r| Rounding::HalfEven.round(r, 4))
        });
        let p50 = stats::percentile_i64(&mut t.earned, 50);
        let p95 = stats::percentile_i64(&mut t.earned, 95);
        RunRow {
            run,
            cost: dec(cost),
            sales: dec(sales),
            customers: t.customers,
            cpa,
            roi,
            earnings_p50: dec(p50),
            earnings_p95: dec(p95),
            segments: segments.into_iter().map(dec).collect(),
            tiers,
        }
    }
}

/// An amount of the scenario currency in minor units.
fn minor(x: Decimal, digits: u32) -> i64 {
    let v = Rounding::HalfEven.round(x, digits);
    i64::try_from(v.mantissa()).unwrap_or(i64::MAX)
}

impl Simulation {
    /// The summary of plan `i`: mean and p5/p50/p95 over runs of cost, CPA, ROI, sales,
    /// customers and partner earnings.
    pub fn summary(&self, i: usize) -> Vec<(&'static str, Option<Summary>)> {
        output::summary(self, i)
    }

    /// The result as JSON (`"schema": "partnerkit/simulation@1"`): per plan the summary,
    /// per-segment and per-tier distributions and every run.
    pub fn to_json(&self) -> String {
        output::simulation_json(self).to_string()
    }

    /// One flat row per plan with mean/p5/p50/p95 of each summary quantity
    /// (`cost_p50`, `cpa_mean`, ...), as JSON objects.
    pub fn summary_rows(&self) -> Vec<serde_json::Value> {
        output::summary_rows(self)
    }
}
