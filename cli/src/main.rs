//! `partnerkit`: the command-line face of the library.
//!
//! `evaluate` prints the canonical report (exit 0) or `{"code","path","message"}` on stderr
//! (exit 2); `validate` lists every problem of a plan; `schema` prints the plan JSON Schema;
//! `demo` runs an embedded SaaS affiliate program and summarises it for humans.

mod demo;

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
    },
    /// Validate PLAN.json and list every problem (exit 2 when there is one).
    Validate {
        /// Plan document (`-` for stdin).
        plan: String,
    },
    /// Print the plan JSON Schema.
    Schema,
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

fn fail(e: &Error) -> ExitCode {
    eprintln!("{}", e.to_json());
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Evaluate { input, pretty } => {
            let report = match read(&input).and_then(|t| partnerkit::evaluate_json(&t)) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            if pretty {
                println!("{}", report.to_pretty_json());
            } else {
                println!("{}", report.to_canonical_json());
            }
            ExitCode::SUCCESS
        }
        Command::Validate { plan } => {
            let text = match read(&plan) {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            let problems = partnerkit::Plan::validate_json(&text);
            if problems.is_empty() {
                println!("ok: the plan is valid");
                return ExitCode::SUCCESS;
            }
            for p in &problems {
                eprintln!("{}", p.to_json());
            }
            eprintln!(
                "{} problem{} found",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(2)
        }
        Command::Schema => {
            print!("{}", partnerkit::json_schema());
            ExitCode::SUCCESS
        }
        Command::Demo { input, json } => {
            if input {
                print!("{}", demo::INPUT);
                return ExitCode::SUCCESS;
            }
            match partnerkit::evaluate_json(demo::INPUT) {
                Ok(r) if json => {
                    println!("{}", r.to_canonical_json());
                    ExitCode::SUCCESS
                }
                Ok(r) => {
                    print!("{}", demo::summary(&r));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}
