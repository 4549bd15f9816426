//! `partnerkit`: the command-line face of the library.
//!
//! `evaluate` prints the canonical report (exit 0) or `{"code","path","message"}` on stderr
//! (exit 2), computed in batch or, with `--incremental`, event by event through the engine; `explain` puts entries' explanations in words; `validate` lists every problem of
//! a plan; `schema` prints the plan JSON Schema; `demo` runs an embedded SaaS affiliate
//! program and summarises it for humans; `simulate`, `compare` and `sweep` run the simulator
//! (Monte Carlo, backtests, parameter sweeps) and print tables, or JSON with `--json`.

mod demo;
mod explain;
mod incremental;
mod simulate;

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use partnerkit::{Error, ErrorCode};

#[derive(Parser)]
#[command(
    name = "partnerkit",
    version,
    about = "Exact, explainable partner program money maths"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate INPUT.json ({plan, partners, events, fx, as_of}; `-` for stdin) and print
    /// the canonical report.
    Evaluate {
        /// Input document.
        input: String,
        /// Indent the report for humans (the canonical form is compact).
        #[arg(long)]
        pretty: bool,
        /// Feed the events one by one through the incremental engine (same report).
        #[arg(long)]
        incremental: bool,
        /// With --incremental: snapshot the engine to bytes and restore it every N events.
        #[arg(long, value_name = "N", requires = "incremental",
              value_parser = clap::value_parser!(u64).range(1..))]
        snapshot_every: Option<u64>,
        /// Limits on the input, as a JSON object of the fields to change from their
        /// defaults, e.g. '{"max_events": 100000000}' (see docs/semantics.md, Limits).
        #[arg(long, value_name = "JSON")]
        limits: Option<String>,
    },
    /// Evaluate INPUT.json and explain its entries in words (all, one, or one partner's).
    Explain {
        /// Input document (`-` for stdin).
        input: String,
        /// Only the entry with this id.
        #[arg(long)]
        entry: Option<String>,
        /// Only the entries of this partner.
        #[arg(long)]
        partner: Option<String>,
    },
    /// Validate PLAN.json and list every problem (exit 2 when there is one).
    Validate {
        /// Plan document (`-` for stdin).
        plan: String,
    },
    /// Print the plan JSON Schema (`--scenario`: the scenario document's).
    Schema {
        /// The scenario document's schema instead of the plan's.
        #[arg(long)]
        scenario: bool,
    },
    /// Monte Carlo: generate SCENARIO.json's runs and evaluate each plan on them.
    Simulate {
        /// Scenario document (`-` for stdin).
        scenario: String,
        /// A plan (or plan history) document; repeat to compare plans.
        #[arg(long = "plan", value_name = "PLAN.json", required = true)]
        plans: Vec<String>,
        #[command(flatten)]
        run: RunArgs,
        /// Print the whole result as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Backtest: evaluate INPUT.json's events under each plan and compare them.
    Compare {
        /// Input document ({partners, events, fx, as_of}; a `plan` in it is ignored).
        input: String,
        /// A plan (or plan history) document; repeat; the first is the baseline.
        #[arg(long = "plan", value_name = "PLAN.json", required = true)]
        plans: Vec<String>,
        /// Print the comparison as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Vary BASE.json's parameters over a grid and tabulate a simulation or backtest of each.
    Sweep {
        /// The base plan document.
        base: String,
        /// POINTER=V1,V2,... or POINTER=FROM..TO:STEP, e.g. /rules/0/reward/percent=10..30:5;
        /// repeat for a grid.
        #[arg(long, value_name = "POINTER=VALUES", required = true)]
        vary: Vec<String>,
        /// Simulate each point on this scenario (Monte Carlo).
        #[arg(long, conflicts_with = "input")]
        scenario: Option<String>,
        /// Backtest each point on this input document.
        #[arg(long)]
        input: Option<String>,
        #[command(flatten)]
        run: RunArgs,
        /// Print the table as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the embedded sample program and print a readable summary.
    Demo {
        /// Print the demo's input document instead of running it.
        #[arg(long)]
        input: bool,
        /// Print the full canonical report instead of the summary.
        #[arg(long)]
        json: bool,
    },
}

/// How a Monte Carlo simulation runs.
#[derive(clap::Args)]
struct RunArgs {
    /// Override the scenario's number of runs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: one per core); the numbers do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// Evaluate every plan with the engine on the generated events (slow; for checks).
    #[arg(long)]
    engine: bool,
}

impl RunArgs {
    fn opts(&self) -> simulate::RunOpts {
        simulate::RunOpts {
            runs: self.runs,
            seed: self.seed,
            threads: self
                .threads
                .map(|t| usize::try_from(t).unwrap_or(usize::MAX)),
            engine: self.engine,
        }
    }
}

fn print(result: Result<String, Error>) -> ExitCode {
    match result {
        Ok(text) => {
            emit(&text);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn read(path: &str) -> Result<String, Error> {
    let mut s = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut s).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| s = t)
    };
    res.map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            "",
            format!("cannot read {path}: {e}"),
        )
    })?;
    Ok(s)
}

/// Writes to stdout without `print!`, which panics when the reader has gone away
/// (`partnerkit demo | head`): a closed pipe just ends the output.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes a line to stderr; like [`emit`], a closed stream is not a reason to panic.
fn emit_err(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn fail(e: &Error) -> ExitCode {
    emit_err(&e.to_json());
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Evaluate {
            input,
            pretty,
            incremental,
            snapshot_every,
            limits,
        } => {
            let limits = match limits.as_deref().map(partnerkit::Limits::from_json) {
                None => partnerkit::Limits::default(),
                Some(Ok(l)) => l,
                Some(Err(e)) => return fail(&e),
            };
            let every = snapshot_every.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            let run = |t: String| {
                if incremental {
                    incremental::evaluate(&t, every, &limits)
                } else {
                    partnerkit::evaluate_json_with(&t, &limits)
                }
            };
            let report = match read(&input).and_then(run) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            let mut text = if pretty {
                report.to_pretty_json()
            } else {
                report.to_canonical_json()
            };
            text.push('\n');
            emit(&text);
            ExitCode::SUCCESS
        }
        Command::Explain {
            input,
            entry,
            partner,
        } => {
            let report = match read(&input).and_then(|t| partnerkit::evaluate_json(&t)) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            let filter = explain::Filter {
                entry: entry.as_deref(),
                partner: partner.as_deref(),
            };
            match explain::render(&report.to_canonical_json(), &filter) {
                Some(text) => {
                    emit(&text);
                    ExitCode::SUCCESS
                }
                None => {
                    emit_err("no entry matches");
                    ExitCode::from(1)
                }
            }
        }
        Command::Validate { plan } => {
            let text = match read(&plan) {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            let problems = partnerkit::Plan::validate_json(&text);
            if problems.is_empty() {
                emit("ok: the plan is valid\n");
                return ExitCode::SUCCESS;
            }
            for p in &problems {
                emit_err(&p.to_json());
            }
            emit_err(&format!(
                "{} problem{} found",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            ExitCode::from(2)
        }
        Command::Schema { scenario } => {
            emit(&if scenario {
                partnerkit::simulate::scenario_json_schema()
            } else {
                partnerkit::json_schema()
            });
            ExitCode::SUCCESS
        }
        Command::Simulate {
            scenario,
            plans,
            run,
            json,
        } => print(simulate::simulate_cmd(&scenario, &plans, &run.opts(), json)),
        Command::Compare { input, plans, json } => {
            print(simulate::compare_cmd(&input, &plans, json))
        }
        Command::Sweep {
            base,
            vary,
            scenario,
            input,
            run,
            json,
        } => print(simulate::sweep_cmd(
            &base,
            &vary,
            scenario.as_deref(),
            input.as_deref(),
            &run.opts(),
            json,
        )),
        Command::Demo { input, json } => {
            if input {
                emit(demo::INPUT);
                return ExitCode::SUCCESS;
            }
            match partnerkit::evaluate_json(demo::INPUT) {
                Ok(r) if json => {
                    emit(&(r.to_canonical_json() + "\n"));
                    ExitCode::SUCCESS
                }
                Ok(r) => {
                    emit(&demo::summary(&r));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}
