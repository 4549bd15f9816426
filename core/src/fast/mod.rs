//! The columnar fast path: the same ledger as [`crate::evaluate`], for large inputs.
//!
//! A backtest over a year of events needs the ledger, not a million explanation trees. The
//! fast path compiles the plan once ([`Program::new`]: every rate, cap and threshold in
//! integer minor units, see [`FastPlan`]), reads events as columns ([`Events`]: ids and
//! customers interned to dense integers, amounts in minor units, instants in nanoseconds),
//! folds them with integer arithmetic that rounds exactly where and how the canonical path
//! rounds, and writes the ledger as columns ([`Ledger`]) with statuses.
//!
//! **Results are always the canonical path's.** When the plan uses a feature the fast path
//! does not compile, or the input holds something it does not fold (an error to report, a
//! repeated event id, a payment in another currency under a plan that reads amounts in its
//! own, a partner with a status history), the evaluation
//! runs on the canonical path and its report is turned into the same columns;
//! [`Outcome::path`] says which path ran and why. A test runs every conformance vector
//! through both and compares the entries byte for byte.
//!
//! **Time zones.** A plan in UTC folds with integer calendar arithmetic. In any other zone
//! every local month (statements, monthly caps, tier periods), due day and hold asks the
//! canonical path's own calendar functions (`crate::time`), so clock changes, half-hour
//! offsets and skipped days come out as the canonical path has them; it costs a zone
//! lookup per entry. Month lookups stay cached per month, which is exact while local months
//! follow instants: an input whose months include one where the zone's clock goes back
//! across midnight of the first day (St. John's, November 2009) runs on the canonical path.
//!
//! **FX.** The input's rates come beside the events. Statements in partners' own currencies
//! fold natively: each entry is converted as a statement line converts it, with the
//! canonical rate table's arithmetic (a missing rate a shown statement needs leaves the
//! error to the canonical path). Payments in other currencies than the plan's fold under a
//! plan of plain percentages or flat rewards (no limits, tiers or `min_amount` conditions,
//! which read amounts in the plan currency; a flat reward not under `combine: max`): their
//! entries are in the payment's currency (a flat reward converted to it), and each such
//! payment must have a rate to the plan currency on its date, which the canonical path
//! needs to convert it (else the canonical path decides).
//!
//! Explanations are built only on request ([`Options::explain`]): they are the canonical
//! path's, so asking for them runs it.
//!
//! With the `arrow` feature, `fast::arrow` reads events from Arrow record batches and
//! writes the ledger as one.
//!
//! **Memory.** Ten million events make columns of hundreds of megabytes: the id pass's
//! buffers, the ledger, and the events themselves when handed over. The library sets no
//! global allocator. With glibc's malloc every block above 32 MB is mapped on allocation
//! and unmapped on free, so every evaluation pays again for the kernel to fault in and
//! clear its pages (about a quarter of the time of `benches/fast.rs` on one core). An
//! application that evaluates again and again, such as a backtest loop or a service, may
//! choose an allocator that keeps freed memory for reuse, and see that it keeps the pages
//! too: mimalloc's default purge of memory free for a second gives the pages back
//! (`MADV_DONTNEED`), which cost evaluations a second apart about a quarter of their time
//! again. The Python module uses mimalloc with purged pages left for the kernel to take
//! when it needs them (`MADV_FREE`), and the `fast_alloc` bench measures the same benchmarks
//! with that allocator, the workspace crate `partnerkit-alloc` (see `bench/README.md`).

#[cfg(feature = "arrow")]
pub mod arrow;
mod book;
mod cal;
pub mod columns;
pub(crate) mod compile;
mod fx;
pub mod ledger;
mod out;
mod prepare;
mod run;
mod shard;

use crate::Limits;
use crate::error::Result;
use crate::input::{FxRate, Input, Partner};
use crate::plan::Plan;
use crate::time::Instant;

pub use columns::{Events, Interner, LABELS, Labels, NONE, Strings};
pub use compile::FastPlan;
pub use ledger::{Ids, Ledger, Total};

/// What the caller wants besides the ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Each entry's explanation as canonical JSON (runs the canonical path).
    pub explain: bool,
}

/// Which path produced a ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// The fast path's integer fold.
    Native,
    /// The canonical path, and why.
    Canonical {
        /// The feature or input that kept the evaluation off the fast path.
        reason: String,
    },
}

impl Path {
    /// Whether the fast path's fold ran.
    pub fn is_native(&self) -> bool {
        matches!(self, Path::Native)
    }
}

/// A ledger and the path that produced it.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The ledger in report order, with statuses as of `as_of`.
    pub ledger: Ledger,
    /// Which path ran.
    pub path: Path,
}

/// A plan compiled once for many evaluations, under the host's limits.
#[derive(Clone, Debug)]
pub struct Program {
    plan: Plan,
    fast: std::result::Result<FastPlan, String>,
    limits: Limits,
}

impl Program {
    /// Compiles `plan` (a plan the fast path does not compile still evaluates, on the
    /// canonical path) under the default [`Limits`].
    pub fn new(plan: Plan) -> Program {
        Program::with_limits(plan, Limits::default())
    }

    /// Compiles `plan` for evaluations under `limits`: the canonical path runs with them,
    /// and the fast path hands it every input near a limit the canonical path enforces
    /// while folding (period ends, statements per partner), so that the error is its own.
    pub fn with_limits(plan: Plan, limits: Limits) -> Program {
        let fast = FastPlan::compile(&plan);
        Program { plan, fast, limits }
    }

    /// The limits evaluations run under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// `None` when the fast path compiles the plan, else the feature that keeps it on the
    /// canonical path.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fast.as_ref().err().map(String::as_str)
    }

    /// The fast path's fold (and the compiled plan it ran), or why the canonical path must
    /// decide.
    fn native(
        &self,
        partners: &[Partner],
        events: &Events,
        fx: &[FxRate],
        as_of: Instant,
        opts: &Options,
    ) -> std::result::Result<(&FastPlan, out::Folded), String> {
        match (&self.fast, opts.explain, columns::instant_ns(as_of)) {
            (_, true, _) => Err("explanations asked for".to_owned()),
            (Err(why), _, _) => Err(format!("the plan uses {why}")),
            (Ok(_), _, None) => Err("an as_of outside the nanosecond range".to_owned()),
            (Ok(fast), false, Some(ns)) => run::run(
                fast,
                FastPlan::partner_currency(&self.plan),
                partners,
                events,
                fx,
                ns,
                &self.limits,
            )
            .map(|folded| (fast, folded))
            .map_err(|run::Bail(why)| format!("the input has {why}")),
        }
    }

    /// Evaluates column events for `partners`, with the FX rates `fx` (SPEC §2.4; empty
    /// when every amount is in one currency), as of `as_of`.
    ///
    /// # Errors
    ///
    /// The canonical path's error for an input it rejects (the fast path never decides an
    /// error itself); `InvalidValue` when a ledger from the canonical path does not fit the
    /// columns (see [`Ledger::from_report`]).
    pub fn evaluate_columns(
        &self,
        partners: &[Partner],
        events: &Events,
        fx: &[FxRate],
        as_of: Instant,
        opts: &Options,
    ) -> Result<Outcome> {
        match self.native(partners, events, fx, as_of, opts) {
            Ok((fast, folded)) => Ok(Outcome {
                ledger: out::finish(
                    fast,
                    partners,
                    events.id.clone(),
                    events.customers.strings.clone(),
                    folded,
                ),
                path: Path::Native,
            }),
            Err(reason) => self.canonical_columns(partners, events, fx, as_of, opts, reason),
        }
    }

    /// [`Program::evaluate_columns`] taking the events: the ledger takes over their ids and
    /// customer keys instead of copying them (ten million ids are a few hundred MB of fresh
    /// memory), and the other columns are freed while the ledger is put in order. The same
    /// ledger either way.
    ///
    /// # Errors
    ///
    /// As [`Program::evaluate_columns`].
    pub fn evaluate_columns_owned(
        &self,
        partners: &[Partner],
        mut events: Events,
        fx: &[FxRate],
        as_of: Instant,
        opts: &Options,
    ) -> Result<Outcome> {
        match self.native(partners, &events, fx, as_of, opts) {
            Ok((fast, folded)) => {
                let ids = std::mem::take(&mut events.id);
                let customers = std::mem::take(&mut events.customers.strings);
                // The rest of the events is freed on another thread, not waited for.
                out::free_later(events);
                let ledger = out::finish(fast, partners, ids, customers, folded);
                Ok(Outcome {
                    ledger,
                    path: Path::Native,
                })
            }
            Err(reason) => self.canonical_columns(partners, &events, fx, as_of, opts, reason),
        }
    }

    /// The canonical path on column events.
    fn canonical_columns(
        &self,
        partners: &[Partner],
        events: &Events,
        fx: &[FxRate],
        as_of: Instant,
        opts: &Options,
        reason: String,
    ) -> Result<Outcome> {
        let input = Input {
            plan: self.plan.clone(),
            partners: partners.to_vec(),
            events: events.to_events(self.plan.doc().currency),
            fx: fx.to_vec(),
            as_of,
        };
        canonical(&input, &self.limits, opts, reason)
    }

    /// Evaluates an [`Input`]: through the columns when its events fit them, else on the
    /// canonical path (with the input as given, so that errors name its own values).
    ///
    /// # Errors
    ///
    /// As [`Program::evaluate_columns`].
    pub fn evaluate(&self, input: &Input, opts: &Options) -> Result<Outcome> {
        let reason = if self.fast.is_err() || opts.explain {
            self.native(&[], &Events::default(), &[], input.as_of, opts)
                .err()
                .unwrap_or_default()
        } else {
            match Events::from_events(&input.events) {
                Some(mut events) => {
                    match self.native(&input.partners, &events, &input.fx, input.as_of, opts) {
                        Ok((fast, folded)) => {
                            // The events were built here: their names move into the ledger.
                            return Ok(Outcome {
                                ledger: out::finish(
                                    fast,
                                    &input.partners,
                                    std::mem::take(&mut events.id),
                                    std::mem::take(&mut events.customers.strings),
                                    folded,
                                ),
                                path: Path::Native,
                            });
                        }
                        Err(reason) => reason,
                    }
                }
                None => "the input has events the columns do not hold".to_owned(),
            }
        };
        canonical(input, &self.limits, opts, reason)
    }
}

/// Runs the canonical path and turns its report into columns.
fn canonical(input: &Input, limits: &Limits, opts: &Options, reason: String) -> Result<Outcome> {
    let report = crate::evaluate_with(input, limits)?;
    Ok(Outcome {
        ledger: Ledger::from_report(&report, opts.explain)?,
        path: Path::Canonical { reason },
    })
}

/// Evaluates `input` on the fast path when it can, else on the canonical path: the same
/// ledger either way.
///
/// # Errors
///
/// As [`Program::evaluate_columns`].
pub fn evaluate(input: &Input, opts: &Options) -> Result<Outcome> {
    Program::new(input.plan.clone()).evaluate(input, opts)
}
