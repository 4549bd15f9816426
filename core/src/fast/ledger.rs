//! The ledger as columns, and totals computed from it.
//!
//! Text columns are dictionary-encoded (an index per entry into a list of names), the way
//! Arrow's dictionary arrays are, so writing an entry copies no strings: the fast path
//! writes a dozen integers per entry. Entry ids are derived from the entry's causes
//! (`commission:{event}:{rule}:{partner}`, `reversal:{event}:{original id}`) when the
//! ledger came from the fast path, and kept as text when it came from a canonical report.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::columns::{NONE, Strings, ns_instant};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::EntryKind;
use crate::money::{Currency, fmt_amount};
use crate::report::{Report, Status};
use crate::time::fmt_instant;

/// How the ledger knows its entry ids.
#[derive(Clone, Debug)]
pub enum Ids {
    /// Derived from the causes; for a reversal, the index of the entry it reverses.
    Derived {
        /// Per entry: the reversed entry's index, or [`NONE`].
        reverses: Vec<u32>,
    },
    /// Written out (ledgers from the canonical path).
    Text(Strings),
}

/// Ledger entries in report order (`earned_at`, then id), as columns.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// What each entry is.
    pub kind: Vec<EntryKind>,
    /// Where each entry stands as of the evaluation.
    pub status: Vec<Status>,
    /// The partner: an index into `partner_names`.
    pub partner: Vec<u32>,
    /// Partner ids.
    pub partner_names: Strings,
    /// The event that caused the entry: an index into `event_names`.
    pub event: Vec<u32>,
    /// Event ids.
    pub event_names: Strings,
    /// The customer: an index into `customer_names`, or [`NONE`].
    pub customer: Vec<u32>,
    /// Customer keys.
    pub customer_names: Strings,
    /// The rule: an index into `rule_names`, or [`NONE`].
    pub rule: Vec<u32>,
    /// Rule ids.
    pub rule_names: Strings,
    /// Entry ids.
    pub ids: Ids,
    /// Signed amount in minor units of `currency`.
    pub amount: Vec<i128>,
    /// The amount's currency.
    pub currency: Vec<Currency>,
    /// When it was earned, nanoseconds since the Unix epoch.
    pub earned_at: Vec<i64>,
    /// When it stops being pending, nanoseconds since the Unix epoch.
    pub available_at: Vec<i64>,
    /// Each entry's explanation as canonical JSON, when asked for.
    pub explain: Option<Strings>,
}

impl Ledger {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Writes entry `i`'s id into `out`.
    pub fn write_id(&self, i: usize, out: &mut String) {
        match &self.ids {
            Ids::Text(s) => out.push_str(s.get(i)),
            Ids::Derived { reverses } => {
                let r = reverses[i];
                out.push_str(self.kind[i].as_str());
                out.push(':');
                out.push_str(self.event_names.get(self.event[i] as usize));
                out.push(':');
                if r != NONE {
                    self.write_id(r as usize, out);
                } else {
                    if self.rule[i] != NONE {
                        out.push_str(self.rule_names.get(self.rule[i] as usize));
                        out.push(':');
                    }
                    out.push_str(self.partner_names.get(self.partner[i] as usize));
                }
            }
        }
    }

    /// Entry `i`'s id.
    pub fn id(&self, i: usize) -> String {
        let mut s = String::new();
        self.write_id(i, &mut s);
        s
    }

    /// Entry `i`'s amount as a decimal.
    pub fn amount_decimal(&self, i: usize) -> Decimal {
        Decimal::from_i128_with_scale(self.amount[i], self.currency[i].digits())
    }

    /// The ledger of a canonical report (explanations as canonical JSON when `explain`).
    ///
    /// # Errors
    ///
    /// `InvalidValue` when an amount does not fit 64-bit minor units or an instant falls
    /// outside the nanosecond range (1677–2262) the columns use.
    pub fn from_report(report: &Report, explain: bool) -> Result<Ledger> {
        let n = report.entries.len();
        let mut partners = Dict::default();
        let mut events = Dict::default();
        let mut customers = Dict::default();
        let mut rules = Dict::default();
        let mut ids = Strings::with_capacity(n, n * 32);
        let mut out = Ledger {
            kind: Vec::with_capacity(n),
            status: report.statuses.clone(),
            partner: Vec::with_capacity(n),
            partner_names: Strings::default(),
            event: Vec::with_capacity(n),
            event_names: Strings::default(),
            customer: Vec::with_capacity(n),
            customer_names: Strings::default(),
            rule: Vec::with_capacity(n),
            rule_names: Strings::default(),
            ids: Ids::Text(Strings::default()),
            amount: Vec::with_capacity(n),
            currency: Vec::with_capacity(n),
            earned_at: Vec::with_capacity(n),
            available_at: Vec::with_capacity(n),
            explain: None,
        };
        let range = |what: &str, i: usize| {
            Error::new(
                ErrorCode::InvalidValue,
                format!("entries[{i}].{what}"),
                format!("{what} does not fit the columnar ledger (nanosecond instants 1677–2262)"),
            )
        };
        for (i, e) in report.entries.iter().enumerate() {
            out.kind.push(e.kind);
            out.partner.push(partners.of(&e.partner));
            out.event.push(events.of(&e.event));
            out.customer
                .push(e.customer.as_ref().map_or(NONE, |c| customers.of(c)));
            out.rule.push(e.rule.as_ref().map_or(NONE, |r| rules.of(r)));
            ids.push(&e.id);
            out.amount.push(
                super::columns::minor128(e.amount, e.currency.digits())
                    .ok_or_else(|| range("amount", i))?,
            );
            out.currency.push(e.currency);
            out.earned_at.push(
                e.earned_at
                    .timestamp_nanos_opt()
                    .ok_or_else(|| range("earned_at", i))?,
            );
            out.available_at.push(
                e.available_at
                    .timestamp_nanos_opt()
                    .ok_or_else(|| range("available_at", i))?,
            );
        }
        if explain {
            let mut col = Strings::with_capacity(n, n * 512);
            for (e, s) in report.entries.iter().zip(&report.statuses) {
                let json =
                    crate::canonical::entries_json(&[(e, *s)], report.rounding, report.currency);
                // The entry's object is the array's one element; its explanation is the
                // last field.
                let v: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| Error::new(ErrorCode::Internal, "", format!("entry JSON: {e}")))?;
                col.push(&v[0]["explain"].to_string());
            }
            out.explain = Some(col);
        }
        out.partner_names = partners.names;
        out.event_names = events.names;
        out.customer_names = customers.names;
        out.rule_names = rules.names;
        out.ids = Ids::Text(ids);
        Ok(out)
    }

    /// The entries as JSON lines, each the canonical report's entry object without its
    /// explanation (same field order, same digits): what the equality tests compare.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut id = String::new();
        for i in 0..self.len() {
            id.clear();
            self.write_id(i, &mut id);
            let c = self.customer[i];
            let r = self.rule[i];
            let v = serde_json::json!({
                "id": id,
                "partner": self.partner_names.get(self.partner[i] as usize),
                "kind": self.kind[i].as_str(),
                "event": self.event_names.get(self.event[i] as usize),
                "customer": (c != NONE).then(|| self.customer_names.get(c as usize)),
                "rule": (r != NONE).then(|| self.rule_names.get(r as usize)),
                "amount": fmt_amount(self.amount_decimal(i), self.currency[i].digits()),
                "currency": self.currency[i].as_str(),
                "status": self.status[i].as_str(),
                "earned_at": fmt_instant(ns_instant(self.earned_at[i])),
                "available_at": fmt_instant(ns_instant(self.available_at[i])),
            });
            let _ = writeln!(out, "{v}");
        }
        out
    }

    /// Totals per partner and currency, sorted by partner id then currency code.
    ///
    /// Summed on rayon's threads, a block of about a million entries a task, the blocks
    /// added up in order: the same totals on any number of threads.
    pub fn totals(&self) -> Vec<Total> {
        totals_of(TotalsOf::of(self))
    }
}

/// The columns [`Ledger::totals`] reads, borrowed apart from the ledger so that a caller
/// taking the ledger apart (the Arrow writer) can free the others first.
pub(crate) struct TotalsOf<'a> {
    pub(crate) partner: &'a [u32],
    pub(crate) partner_names: &'a Strings,
    pub(crate) kind: &'a [EntryKind],
    pub(crate) status: &'a [Status],
    pub(crate) amount: &'a [i128],
    pub(crate) currency: &'a [Currency],
}

impl<'a> TotalsOf<'a> {
    /// The columns of `l` the totals read.
    pub(crate) fn of(l: &'a Ledger) -> TotalsOf<'a> {
        TotalsOf {
            partner: &l.partner,
            partner_names: &l.partner_names,
            kind: &l.kind,
            status: &l.status,
            amount: &l.amount,
            currency: &l.currency,
        }
    }
}

/// Entries one task of [`totals_of`] sums: enough that a task's table of sums (a slot per
/// partner, ~100 bytes each) costs little beside its entries, few enough that the tasks
/// spread over the threads.
const TOTALS_CHUNK: usize = 1 << 20;

/// One partner's sums in one currency while they are added up: kept apart by kind
/// (`[not a reversal, reversal]`) and by status (`[pending, available, paid]`) so that an
/// entry is two indexed additions rather than two branches.
#[derive(Clone, Copy, Default)]
struct Sums {
    entries: u64,
    kind: [i128; 2],
    status: [i128; 3],
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.entries += other.entries;
        for (a, b) in self.kind.iter_mut().zip(&other.kind) {
            *a += b;
        }
        for (a, b) in self.status.iter_mut().zip(&other.status) {
            *a += b;
        }
    }
}

/// A chunk's sums: per currency in first-seen order, a slot per partner index.
struct ChunkSums {
    currencies: Vec<Currency>,
    /// Currency-major: currency `k`'s slots are `k * n_partners ..`.
    sums: Vec<Sums>,
}

/// Entries `range`'s sums over `n_partners` partner slots.
fn chunk_sums(c: &TotalsOf, n_partners: usize, range: std::ops::Range<usize>) -> ChunkSums {
    let mut out = ChunkSums {
        currencies: Vec::new(),
        sums: Vec::new(),
    };
    // The currency's slots are found again only when it changes from the previous entry's
    // (never, in a single-currency ledger).
    let mut last: Option<(Currency, usize)> = None;
    let rows = c.partner[range.clone()]
        .iter()
        .zip(&c.kind[range.clone()])
        .zip(&c.status[range.clone()])
        .zip(&c.amount[range.clone()])
        .zip(&c.currency[range]);
    for ((((&p, &kind), &status), &a), &cur) in rows {
        let base = match last {
            Some((x, base)) if x == cur => base,
            _ => {
                let k = match out.currencies.iter().position(|x| *x == cur) {
                    Some(k) => k,
                    None => {
                        out.currencies.push(cur);
                        out.sums
                            .resize(out.currencies.len() * n_partners, Sums::default());
                        out.currencies.len() - 1
                    }
                };
                last = Some((cur, k * n_partners));
                k * n_partners
            }
        };
        let s = &mut out.sums[base + p as usize];
        s.entries += 1;
        s.kind[usize::from(kind == EntryKind::Reversal)] += a;
        s.status[match status {
            Status::Pending => 0,
            Status::Available => 1,
            Status::Paid => 2,
        }] += a;
    }
    out
}

/// The totals of the entries `c` describes, sorted by partner id then currency code.
///
/// Chunks of [`TOTALS_CHUNK`] entries are summed on rayon's threads into a table of slots
/// (currency × partner index: no hashing, no name, no allocation per entry), and the
/// chunks' tables are added up in chunk order; integer sums are the same in any grouping,
/// so the totals do not depend on the thread count. A total is written for each (partner,
/// currency) with at least one entry, named once at the end.
pub(crate) fn totals_of(c: TotalsOf) -> Vec<Total> {
    totals_in_chunks(c, TOTALS_CHUNK)
}

/// [`totals_of`] with chunks of `chunk` entries (the tests use small ones).
fn totals_in_chunks(c: TotalsOf, chunk: usize) -> Vec<Total> {
    use rayon::prelude::*;
    let n = c.partner.len();
    let n_partners = c.partner_names.len().max(1);
    let chunk = chunk.max(1);
    let chunks: Vec<ChunkSums> = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|k| chunk_sums(&c, n_partners, k * chunk..((k + 1) * chunk).min(n)))
        .collect();
    // Currencies in the order the entries first show them: the chunks' lists in chunk
    // order, each chunk's in its own first-seen order.
    let mut currencies: Vec<Currency> = Vec::new();
    let mut sums: Vec<Sums> = Vec::new();
    for chunk in &chunks {
        for (k, cur) in chunk.currencies.iter().enumerate() {
            let g = match currencies.iter().position(|x| x == cur) {
                Some(g) => g,
                None => {
                    currencies.push(*cur);
                    sums.resize(currencies.len() * n_partners, Sums::default());
                    currencies.len() - 1
                }
            };
            let (to, from) = (
                &mut sums[g * n_partners..(g + 1) * n_partners],
                &chunk.sums[k * n_partners..(k + 1) * n_partners],
            );
            for (a, b) in to.iter_mut().zip(from) {
                a.add(b);
            }
        }
    }
    drop(chunks);
    let mut out: Vec<Total> = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.entries > 0)
        .map(|(slot, s)| Total {
            partner: c.partner_names.get(slot % n_partners).to_owned(),
            currency: currencies[slot / n_partners],
            entries: s.entries,
            earned: s.kind[0],
            reversed: s.kind[1],
            pending: s.status[0],
            available: s.status[1],
            paid: s.status[2],
        })
        .collect();
    // Stable: totals of one name and currency (a ledger naming a partner twice) keep the
    // order of their slots.
    out.sort_by(|a, b| (&a.partner, a.currency.as_str()).cmp(&(&b.partner, b.currency.as_str())));
    out
}

/// One partner's totals in one currency, in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    /// The partner.
    pub partner: String,
    /// The currency.
    pub currency: Currency,
    /// Entries.
    pub entries: u64,
    /// Sum of every entry that is not a reversal.
    pub earned: i128,
    /// Sum of the reversals (zero or less).
    pub reversed: i128,
    /// Sum of pending entries.
    pub pending: i128,
    /// Sum of available entries.
    pub available: i128,
    /// Sum of paid entries.
    pub paid: i128,
}

impl Total {
    /// earned + reversed.
    pub fn net(&self) -> i128 {
        self.earned + self.reversed
    }
}

/// A dictionary built in first-seen order, of the report's shared strings.
///
/// Keyed by the entries' own `Arc`s (a reference count, not a copy, per new name: nearly
/// every entry of a report names an event no other entry names) and hashed with foldhash:
/// SipHash's rounds took 5.5% of a canonical `evaluate_arrow`'s time, and this map with them
/// 11.6% (bench/README, eighteenth session). Indices follow first appearance, so no output
/// depends on the hash.
#[derive(Default)]
struct Dict {
    index: std::collections::HashMap<std::sync::Arc<str>, u32, foldhash::fast::RandomState>,
    names: Strings,
}

impl Dict {
    fn of(&mut self, s: &std::sync::Arc<str>) -> u32 {
        if let Some(&i) = self.index.get(&**s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.index.insert(s.clone(), i);
        self.names.push(s);
        i
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Ids, Ledger, NONE, Strings, Total, TotalsOf, totals_in_chunks};
    use crate::ledger::EntryKind;
    use crate::money::Currency;
    use crate::report::Status;

    /// A ledger of `n` entries over 13 partners (named so that their order by name is not
    /// their index order) in three currencies, the second and third first seen far into
    /// the entries; every kind and status, amounts of either sign.
    fn ledger(n: usize) -> Ledger {
        let currencies = ["USD", "JPY", "BHD"].map(|c| Currency::parse(c).expect("currency"));
        let kinds = [
            EntryKind::Commission,
            EntryKind::Reversal,
            EntryKind::Bonus,
            EntryKind::Override,
            EntryKind::TrueUp,
            EntryKind::Adjustment,
        ];
        let statuses = [Status::Pending, Status::Available, Status::Paid];
        let mut partner_names = Strings::default();
        for p in 0..13 {
            partner_names.push(&format!("p{}", (p * 7) % 13));
        }
        let mut l = Ledger {
            kind: Vec::new(),
            status: Vec::new(),
            partner: Vec::new(),
            partner_names,
            event: vec![0; n],
            event_names: Strings::default(),
            customer: vec![NONE; n],
            customer_names: Strings::default(),
            rule: vec![NONE; n],
            rule_names: Strings::default(),
            ids: Ids::Text(Strings::default()),
            amount: Vec::new(),
            currency: Vec::new(),
            earned_at: vec![0; n],
            available_at: vec![0; n],
            explain: None,
        };
        for i in 0..n {
            let kind = kinds[i % 5 + usize::from(i % 11 == 0)];
            l.kind.push(kind);
            l.status.push(statuses[(i / 3) % 3]);
            // Partner 12 only in the ledger's second half.
            l.partner.push(if i >= n / 2 && i % 17 == 0 {
                12
            } else {
                (i % 12) as u32
            });
            let c = if i > n / 3 && (i / 12) % 4 == 1 {
                1
            } else if i > 2 * n / 3 && (i / 12) % 9 == 2 {
                2
            } else {
                0
            };
            l.currency.push(currencies[c]);
            let a = (i as i128 * 7919) % 100_003 + 1;
            l.amount
                .push(if kind == EntryKind::Reversal { -a } else { a });
        }
        l
    }

    /// The totals as a first reading of their definition gives them: one pass, a sorted
    /// map by (partner id, currency code).
    fn reference(l: &Ledger) -> Vec<Total> {
        let mut by: BTreeMap<(String, &str), Total> = BTreeMap::new();
        for i in 0..l.len() {
            let name = l.partner_names.get(l.partner[i] as usize).to_owned();
            let c = &l.currency[i];
            let t = by.entry((name.clone(), c.as_str())).or_insert(Total {
                partner: name,
                currency: *c,
                entries: 0,
                earned: 0,
                reversed: 0,
                pending: 0,
                available: 0,
                paid: 0,
            });
            let a = l.amount[i];
            t.entries += 1;
            if l.kind[i] == EntryKind::Reversal {
                t.reversed += a;
            } else {
                t.earned += a;
            }
            match l.status[i] {
                Status::Pending => t.pending += a,
                Status::Available => t.available += a,
                Status::Paid => t.paid += a,
            }
        }
        by.into_values().collect()
    }

    /// Whatever the chunks (one entry each, a few per chunk, one for everything) and the
    /// threads, the totals are the reference's: every chunk's partial sums count, and the
    /// currencies first seen in later chunks are kept.
    #[test]
    fn totals_are_the_same_in_any_chunks_on_any_number_of_threads() {
        let l = ledger(20_011);
        let want = reference(&l);
        assert_eq!(want.len(), 13 * 3, "every partner in every currency");
        assert_eq!(want[0].partner, "p0");
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            for chunk in [1, 7, 1000, 6_700, 20_011, 1 << 20] {
                let got = pool.install(|| totals_in_chunks(TotalsOf::of(&l), chunk));
                assert!(got == want, "{threads} threads, chunks of {chunk}");
            }
            assert!(pool.install(|| l.totals()) == want, "{threads} threads");
        }
        assert!(ledger(0).totals().is_empty());
    }
}
