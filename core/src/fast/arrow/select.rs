//! Which of the ledger's columns to write: [`LedgerColumns`].
//!
//! A backtest usually aggregates a few columns (`partner`, `amount`, `earned_at`); the `id`
//! column alone, one derived string per entry, is the largest part of writing a ledger. A
//! column not asked for is never built, and the ledger's data behind it is freed before the
//! others are written.

use crate::error::{Error, ErrorCode, Result};
use crate::ledger::ENTRY_COLUMNS;

/// The ledger batch's columns in the order they are written: the entry columns
/// ([`ENTRY_COLUMNS`]), then `explain`. Built from that list, so that the two cannot
/// disagree.
pub(super) const NAMES: [&str; ENTRY_COLUMNS.len() + 1] = {
    let mut names = [""; ENTRY_COLUMNS.len() + 1];
    let mut i = 0;
    while i < ENTRY_COLUMNS.len() {
        names[i] = ENTRY_COLUMNS[i];
        i += 1;
    }
    names[EXPLAIN] = "explain";
    names
};

/// The place of `explain` in [`NAMES`].
const EXPLAIN: usize = ENTRY_COLUMNS.len();

/// The columns of the ledger batch to write (see [`super::ledger_into_batch_with`]).
///
/// [`LedgerColumns::all`] is every entry column, and `explain` when the ledger carries
/// explanations: what [`super::ledger_into_batch`] writes. [`LedgerColumns::from_names`]
/// is exactly the columns named. Either way the batch holds them in the canonical order
/// (`id`, `partner`, `kind`, `event`, `customer`, `rule`, `amount`, `currency`, `status`,
/// `earned_at`, `available_at`, `explain`), whatever the order they were named in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LedgerColumns {
    /// Bit `i` set: column [`NAMES`]`[i]` is written.
    bits: u16,
    /// `None` for [`LedgerColumns::all`] (explanations follow the ledger); else where
    /// `explain` was named, if it was, for the path of an error.
    named_explain: Option<Option<u32>>,
}

impl Default for LedgerColumns {
    fn default() -> Self {
        LedgerColumns::all()
    }
}

impl LedgerColumns {
    /// Every entry column, and `explain` when the ledger has explanations.
    pub fn all() -> LedgerColumns {
        LedgerColumns {
            bits: (1 << ENTRY_COLUMNS.len()) - 1,
            named_explain: None,
        }
    }

    /// Exactly the columns `names` names, each one of [`ENTRY_COLUMNS`] or `explain`, each at
    /// most once, at least one (to count entries without any column, sum the totals'
    /// `entries`). Errors carry the path `columns[i]` of the name at fault.
    ///
    /// # Errors
    ///
    /// `UnknownField` for a name that is not a ledger column, `InvalidValue` for a name
    /// given twice (at the second one) or for an empty list (at `columns`). Every bad name
    /// is reported at once: the error is the first one's code and path, and its message
    /// lists the others with theirs.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<LedgerColumns> {
        if names.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "columns",
                format!(
                    "no column asked for: name at least one of {} (or leave the columns out \
                     for every one)",
                    NAMES.join(", ")
                ),
            ));
        }
        let mut bits = 0u16;
        let mut first_at = [0usize; NAMES.len()];
        let mut named_explain = None;
        let mut problems: Vec<Error> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.as_ref();
            let path = format!("columns[{i}]");
            match NAMES.iter().position(|n| *n == name) {
                None => problems.push(Error::new(
                    ErrorCode::UnknownField,
                    path,
                    format!(
                        "{name:?} is not a ledger column (the columns: {})",
                        NAMES.join(", ")
                    ),
                )),
                Some(c) if bits & (1 << c) != 0 => problems.push(Error::new(
                    ErrorCode::InvalidValue,
                    path,
                    format!(
                        "{name:?} is asked for twice (first at columns[{}])",
                        first_at[c]
                    ),
                )),
                Some(c) => {
                    bits |= 1 << c;
                    first_at[c] = i;
                    if c == EXPLAIN {
                        named_explain = u32::try_from(i).ok();
                    }
                }
            }
        }
        let mut it = problems.into_iter();
        match it.next() {
            None => Ok(LedgerColumns {
                bits,
                named_explain: Some(named_explain),
            }),
            Some(first) => {
                let others: Vec<String> = it
                    .map(|e| format!("{}: {}", e.path(), e.message()))
                    .collect();
                let message = if others.is_empty() {
                    first.message().to_owned()
                } else {
                    format!("{}; also {}", first.message(), others.join("; "))
                };
                Err(Error::new(first.code(), first.path(), message))
            }
        }
    }

    /// Whether column `name` is asked for (for `explain`: named, or [`LedgerColumns::all`]).
    pub fn contains(&self, name: &str) -> bool {
        match NAMES.iter().position(|n| *n == name) {
            Some(EXPLAIN) => self.named_explain.is_none_or(|at| at.is_some()),
            Some(c) => self.bits & (1 << c) != 0,
            None => false,
        }
    }

    /// The names of the columns a ledger with (`explained`) or without explanations is
    /// written with, in the batch's order.
    pub fn names(&self, explained: bool) -> Vec<&'static str> {
        let mask = self.mask(explained);
        NAMES
            .iter()
            .zip(mask)
            .filter_map(|(n, m)| m.then_some(*n))
            .collect()
    }

    /// Checks the columns against whether the ledger has explanations (`explained`, the
    /// evaluation's `explain` option). Asking for explanations costs the canonical path, so
    /// a selection that drops them is a mistake to report, not a guess to make; naming
    /// `explain` for a ledger without explanations would give a column that does not exist.
    ///
    /// # Errors
    ///
    /// `InvalidValue`: at `columns` when the ledger is explained and `explain` is not named,
    /// at `columns[i]` when `explain` is named and the ledger is not explained.
    pub fn check_explain(&self, explained: bool) -> Result<()> {
        match (self.named_explain, explained) {
            (Some(None), true) => Err(Error::new(
                ErrorCode::InvalidValue,
                "columns",
                "explanations were asked for but `explain` is not among the columns: name it, \
                 or leave explanations off (they run the canonical path)",
            )),
            (Some(Some(at)), false) => Err(Error::new(
                ErrorCode::InvalidValue,
                format!("columns[{at}]"),
                "the `explain` column needs explanations asked for (the explain option)",
            )),
            _ => Ok(()),
        }
    }

    /// For each of [`NAMES`], whether it is written for a ledger with or without
    /// explanations (`explained`); call after [`LedgerColumns::check_explain`].
    pub(super) fn mask(&self, explained: bool) -> [bool; NAMES.len()] {
        let mut m = [false; NAMES.len()];
        for (c, w) in m.iter_mut().enumerate() {
            *w = if c == EXPLAIN {
                explained && self.contains("explain")
            } else {
                self.bits & (1 << c) != 0
            };
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::{LedgerColumns, NAMES};
    use crate::error::ErrorCode;
    use crate::ledger::ENTRY_COLUMNS;

    /// The batch's names are the entry columns then `explain`: the two lists agree.
    #[test]
    fn names_are_the_entry_columns_then_explain() {
        assert_eq!(&NAMES[..ENTRY_COLUMNS.len()], &ENTRY_COLUMNS[..]);
        assert_eq!(NAMES[ENTRY_COLUMNS.len()], "explain");
        assert_eq!(LedgerColumns::all().names(false), ENTRY_COLUMNS.to_vec());
        assert_eq!(LedgerColumns::all().names(true), NAMES.to_vec());
        assert_eq!(LedgerColumns::default(), LedgerColumns::all());
    }

    /// A selection is written in the canonical order whatever the order it was named in.
    #[test]
    fn canonical_order_whatever_the_order_named() {
        let c = LedgerColumns::from_names(&["earned_at", "amount", "partner"]).expect("ok");
        assert_eq!(c.names(false), vec!["partner", "amount", "earned_at"]);
        assert!(c.contains("amount") && !c.contains("id") && !c.contains("explain"));
        assert!(!c.contains("nope"));
        let e = LedgerColumns::from_names(&["explain", "id"]).expect("ok");
        assert_eq!(e.names(true), vec!["id", "explain"]);
    }

    /// Every bad name at once: the first one's code and path, the others in the message.
    #[test]
    fn bad_names_are_all_reported() {
        let err = LedgerColumns::from_names(&["amount", "amout", "status", "amount", "ID"])
            .expect_err("bad");
        assert_eq!(err.code(), ErrorCode::UnknownField);
        assert_eq!(err.path(), "columns[1]");
        assert!(
            err.message()
                .starts_with("\"amout\" is not a ledger column")
        );
        assert!(
            err.message()
                .contains("columns[3]: \"amount\" is asked for twice (first at columns[0])"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("columns[4]: \"ID\" is not"));
        let twice = LedgerColumns::from_names(&["id", "id"]).expect_err("twice");
        assert_eq!(
            (twice.code(), twice.path()),
            (ErrorCode::InvalidValue, "columns[1]")
        );
        assert!(!twice.message().contains("also"));
        let none = LedgerColumns::from_names::<&str>(&[]).expect_err("empty");
        assert_eq!(
            (none.code(), none.path()),
            (ErrorCode::InvalidValue, "columns")
        );
    }

    /// `explain` is written exactly when the ledger is explained and the selection names it
    /// (or is every column); a mismatch is an error, not a silent choice.
    #[test]
    fn explain_must_match_the_ledger() {
        let all = LedgerColumns::all();
        assert!(all.check_explain(true).is_ok() && all.check_explain(false).is_ok());
        let plain = LedgerColumns::from_names(&["amount"]).expect("ok");
        assert!(plain.check_explain(false).is_ok());
        let err = plain.check_explain(true).expect_err("dropped");
        assert_eq!(
            (err.code(), err.path()),
            (ErrorCode::InvalidValue, "columns")
        );
        let named = LedgerColumns::from_names(&["amount", "explain"]).expect("ok");
        assert!(named.check_explain(true).is_ok());
        let err = named.check_explain(false).expect_err("no explanations");
        assert_eq!(
            (err.code(), err.path()),
            (ErrorCode::InvalidValue, "columns[1]")
        );
        assert_eq!(named.names(true), vec!["amount", "explain"]);
    }

    /// A selection's batch is the full batch's projection onto those columns, and the
    /// totals are the full call's, on one thread and on two and three (the id column split
    /// in halves, the dictionaries on rayon's threads): for every single column, a few
    /// subsets, a ledger of two currencies (amounts rescaled), and an explained ledger.
    #[test]
    fn a_selection_is_the_full_batch_projected() {
        use crate::fast::arrow::{
            ledger_and_totals_into_batches, ledger_and_totals_into_batches_with,
            ledger_into_batch_with,
        };
        use crate::fast::columns::Strings;
        use crate::money::Currency;
        let plain = super::super::write::tests::ledger(70_001);
        let mut mixed = plain.clone();
        let jpy = Currency::parse("JPY").expect("JPY");
        for i in (0..mixed.len()).step_by(3) {
            mixed.currency[i] = jpy;
            mixed.amount[i] = i as i128 - 9;
        }
        let mut explained = plain.clone();
        let mut ex = Strings::default();
        for i in 0..explained.len() {
            ex.push(&format!("{{\"n\":{i}}}"));
        }
        explained.explain = Some(ex);
        let mut subsets: Vec<Vec<&str>> = ENTRY_COLUMNS.iter().map(|c| vec![*c]).collect();
        subsets.push(vec!["earned_at", "amount"]);
        subsets.push(vec!["status", "partner", "id"]);
        subsets.push(vec![
            "available_at",
            "customer",
            "rule",
            "event",
            "kind",
            "currency",
        ]);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| {
                for (l, explain) in [(&plain, false), (&mixed, false), (&explained, true)] {
                    let (full, totals) = ledger_and_totals_into_batches(l.clone()).expect("full");
                    assert_eq!(
                        full.num_columns(),
                        ENTRY_COLUMNS.len() + usize::from(explain)
                    );
                    for names in &subsets {
                        let mut names = names.clone();
                        if explain {
                            names.push("explain");
                        }
                        let cols = LedgerColumns::from_names(&names).expect("columns");
                        let (got, got_totals) =
                            ledger_and_totals_into_batches_with(l.clone(), &cols)
                                .expect("selected");
                        let at: Vec<usize> = cols
                            .names(explain)
                            .iter()
                            .map(|n| full.schema().index_of(n).expect("in full"))
                            .collect();
                        let want = full.project(&at).expect("project");
                        assert!(got == want, "{threads} threads, {names:?}");
                        assert!(got_totals == totals, "{threads} threads, {names:?}");
                        let alone = ledger_into_batch_with(l.clone(), &cols).expect("alone");
                        assert!(alone == want, "{threads} threads, {names:?}");
                    }
                    let wrong = LedgerColumns::from_names(&["amount"]).expect("columns");
                    let res = ledger_and_totals_into_batches_with(l.clone(), &wrong);
                    assert_eq!(res.is_err(), explain, "{threads} threads");
                }
            });
        }
    }
}
