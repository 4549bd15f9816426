//! What the fold checks and orders before it starts: the partners it can take, unique event
//! ids (by hash), the payments refunds name, and the canonical order of the rows.

use super::columns::Events;
use super::run::{Bail, bail};
use crate::input::{Kind, Partner};

/// Checks the partners the fold can take: unique ids, no parents, no status history, no
/// own customers. Returns declared index by id.
pub(super) fn partner_index(
    partners: &[Partner],
) -> Result<std::collections::HashMap<&str, u32, foldhash::fast::RandomState>, Bail> {
    let mut index: std::collections::HashMap<&str, u32, foldhash::fast::RandomState> =
        Default::default();
    index.reserve(partners.len());
    for (i, p) in partners.iter().enumerate() {
        if index.insert(p.id.as_str(), i as u32).is_some() {
            return bail("a partner id declared twice");
        }
        if p.parent.is_some() {
            return bail("partner parents");
        }
        if !p.status.is_empty() {
            return bail("partner status histories");
        }
        if !p.own_customers.is_empty() {
            return bail("partners' own customers (self-referral checks)");
        }
    }
    Ok(index)
}

/// The seed of the id hashes: fixed, so that whether an input goes to the canonical path
/// (on a 64-bit collision) is the same on every run.
const SEED: u64 = 0x7061_7274_6e65_726b;
/// Radix bits of the uniqueness check: 512 buckets. Few enough that the scatter's stores
/// stay within the TLB's reach (2,048 buckets made most of them a page walk), and each
/// bucket and its set still fit the L2 cache at ten million events (about 180 KB and
/// 512 KB).
const BITS: u32 = 9;
/// Rows a task of the id pass takes at least: below this, splitting costs more than it
/// saves.
const MIN_CHUNK: usize = 1 << 16;

/// What one pass over the event ids finds: whether they are unique, and for each payment
/// a refund names, its slot among the named payments.
pub(super) struct Ids {
    /// The payment rows refunds name, with their slots in `Events::payments` (empty when
    /// no refund names a payment of the events).
    pub(super) named: Named,
    /// How many touches the events hold (the fold's touch list is sized to it).
    pub(super) touches: usize,
    /// The uniqueness check's two buffers of a word an event, handed on for the ledger's
    /// instant columns: memory already faulted in, rather than fresh pages to clear.
    pub(super) spare: [Vec<u64>; 2],
    /// Rows that repeat an earlier row's event exactly (redeliveries), ascending: the
    /// fold skips them, as the canonical path ignores them.
    pub(super) dropped: Vec<u32>,
}

/// The entries of one task of the id pass: how many make a chunk (the last may be
/// shorter). A few chunks a thread, so that a slow thread does not hold the others up; on
/// one thread, one chunk (the pass as a single loop, scattering without shares). The split
/// changes how the work is shared, never what it finds.
fn chunk_len(n: usize) -> usize {
    let threads = rayon::current_num_threads();
    let chunks = match threads {
        1 => 1,
        t => (t * 4).min(n.div_ceil(MIN_CHUNK)).max(1),
    };
    n.div_ceil(chunks).max(1)
}

/// What one chunk of the id pass counted.
struct Part {
    /// Entries per radix bucket.
    count: Vec<usize>,
    /// Touches.
    touches: usize,
}

/// Hashes every event id and every payment id a refund names, once, and counts the
/// uniqueness check's buckets in the same sequential pass; the check then finds repeated
/// event ids and the rows of the named payments bucket by bucket, in cache (see
/// [`check_unique`]), rather than by a random lookup per payment. Entry `i < n` of the
/// hashes is row `i`'s id, entry `n + k` the `k`-th named payment's. Chunks of entries
/// run on rayon's threads, each writing its own entries and counting into its own
/// buckets: the outcome is the same on any number of threads.
#[inline(never)]
pub(super) fn scan_ids(ev: &Events) -> Result<Ids, Bail> {
    use rayon::prelude::*;
    let hasher = foldhash::fast::FixedState::with_seed(SEED);
    let n = ev.len();
    let len = n + ev.payments.strings.len();
    // The check's words hold an entry's index in 32 bits.
    if u32::try_from(len).is_err() {
        return bail("more than 2^32 - 1 event ids and payment ids named by refunds");
    }
    // Zero-filled rather than pushed to: a fresh allocation this large is the kernel's
    // zero pages (no memset), and chunks write their own entries in place.
    let mut hashes = vec![0u64; len];
    let chunk = chunk_len(len);
    let scan = |c: usize, hs: &mut [u64]| -> Part {
        let start = c * chunk;
        // A chunk holds rows, then named payments (only the one across `n` holds both).
        let (rows, named) = hs.split_at_mut(n.saturating_sub(start).min(hs.len()));
        let mut count = vec![0usize; 1 << BITS];
        let mut touches = 0usize;
        let kinds = &ev.kind[start.min(n)..start.min(n) + rows.len()];
        for (j, (out, &kind)) in rows.iter_mut().zip(kinds).enumerate() {
            let h = id_hash(&hasher, ev.id.get_bytes(start + j));
            *out = h;
            count[bucket(h)] += 1;
            touches += usize::from(kind == Kind::Touch);
        }
        let first = (start + rows.len()).saturating_sub(n);
        for (j, out) in named.iter_mut().enumerate() {
            let h = id_hash(&hasher, ev.payments.strings.get_bytes(first + j));
            *out = h;
            count[bucket(h)] += 1;
        }
        Part { count, touches }
    };
    // One chunk (one thread) runs here, without handing a job to the pool.
    let parts: Vec<Part> = if len <= chunk {
        vec![scan(0, &mut hashes)]
    } else {
        hashes
            .par_chunks_mut(chunk)
            .enumerate()
            .map(|(c, hs)| scan(c, hs))
            .collect()
    };
    let touches = parts.iter().map(|p| p.touches).sum();
    let counts: Vec<Vec<usize>> = parts.into_iter().map(|p| p.count).collect();
    let Checked {
        found,
        repeats,
        spare,
    } = check_unique(hashes, n, chunk, &counts);
    let dropped = drop_redeliveries(ev, &repeats)?;
    let named = named(found, |row, k| is_named_payment(ev, row, k));
    Ok(Ids {
        named,
        touches,
        spare,
        dropped,
    })
}

/// The payment rows refunds name, in row order, each with its slot `k` (the `k`-th id of
/// `Events::payments`): half a million pairs where a slot per row would be ten million
/// words of fresh memory, and the fold reads them with a [`Cursor`] as it meets the rows.
#[derive(Default)]
pub(super) struct Named {
    /// `(row, slot)`, rows ascending and distinct.
    pairs: Vec<(u32, u32)>,
}

impl Named {
    /// The `(row, slot)` pairs, rows ascending.
    pub(super) fn pairs(&self) -> &[(u32, u32)] {
        &self.pairs
    }

    /// A reader of the slots by row, from the first row.
    pub(super) fn cursor(&self) -> Cursor<'_> {
        Cursor {
            pairs: &self.pairs,
            pos: 0,
        }
    }
}

/// Reads [`Named`] by row: rows asked for in ascending order (the fold in a log's own
/// order) cost a comparison or two each; any other order a binary search at a jump back.
pub(super) struct Cursor<'a> {
    pairs: &'a [(u32, u32)],
    /// The first pair whose row is not below the last row asked for.
    pos: usize,
}

impl Cursor<'_> {
    /// 1 + the slot of the payment on row `row` when a refund names it, else 0.
    #[inline(always)]
    pub(super) fn at(&mut self, row: u32) -> u32 {
        match self.pairs.get(self.pos) {
            Some(&(r, k)) if r == row => {
                self.pos += 1;
                return k + 1;
            }
            // Not named: the next named row is past it, and the one before (if any) is
            // before it.
            Some(&(r, _)) if r > row && (self.pos == 0 || self.pairs[self.pos - 1].0 < row) => {
                return 0;
            }
            None if self.pairs.last().is_none_or(|&(r, _)| r < row) => return 0,
            _ => {}
        }
        self.seek(row)
    }

    /// [`Cursor::at`] after a skip (rows another shard folds) or a jump back: a few steps
    /// forward, else a binary search.
    #[inline(never)]
    fn seek(&mut self, row: u32) -> u32 {
        let p = &self.pairs;
        let ahead = self.pos < p.len() && p[self.pos].0 < row;
        let near = (self.pos + 16).min(p.len());
        self.pos = match ahead {
            true if near > self.pos && p[near - 1].0 >= row => {
                self.pos + p[self.pos..near].partition_point(|&(r, _)| r < row)
            }
            _ => p.partition_point(|&(r, _)| r < row),
        };
        match p.get(self.pos) {
            Some(&(r, k)) if r == row => {
                self.pos += 1;
                k + 1
            }
            _ => 0,
        }
    }
}

/// The named payment rows from the buckets' candidates (`found`: a row and a named
/// payment whose hashes agree on the bits the check keeps): `(row, k)` when `same(row, k)`
/// confirms it (a payment with the `k`-th named id). The candidates are sorted by row and
/// confirmed in that order, so the ids and kinds are read in row order rather than at
/// random. A row with more than one candidate (hashes alike by chance) keeps the one that
/// confirms (two cannot: the named ids are distinct strings). On several threads the sort
/// runs on rayon's threads and chunks of candidates (as the id pass makes chunks) are
/// confirmed apart, with the same outcome.
fn named(mut found: Vec<Found>, same: impl Fn(usize, usize) -> bool + Sync) -> Named {
    use rayon::prelude::*;
    if found.is_empty() {
        return Named::default();
    }
    let keep = |&(row, k): &Found| same(row as usize, k as usize);
    let mut pairs: Vec<(u32, u32)> = if rayon::current_num_threads() == 1 {
        found.sort_unstable();
        found.retain(keep);
        found
    } else {
        found.par_sort_unstable();
        found
            .par_chunks(chunk_len(found.len()))
            .flat_map_iter(|part| part.iter().filter(|f| keep(f)).copied())
            .collect()
    };
    // Same strings, same slot: a second confirmed pair of a row cannot happen, and is
    // dropped rather than trusted if it did.
    pairs.dedup_by_key(|&mut (row, _)| row);
    Named { pairs }
}

/// Whether row `row` is the payment refunds name as the `k`-th named payment: a payment
/// with that id. The strings confirm what the hashes found; two named payments with one
/// hash are told apart here.
#[inline]
fn is_named_payment(ev: &Events, row: usize, k: usize) -> bool {
    ev.kind[row] == Kind::Payment && ev.id.get_bytes(row) == ev.payments.strings.get_bytes(k)
}

/// An id's hash (the refund lookup and the uniqueness check share it).
#[inline]
fn id_hash(state: &foldhash::fast::FixedState, bytes: &[u8]) -> u64 {
    std::hash::BuildHasher::hash_one(state, bytes)
}

/// The radix bucket of a hash: its top bits.
#[inline]
fn bucket(x: u64) -> usize {
    (x >> (64 - BITS)) as usize
}

/// The low half of a word or hash.
const LOW: u64 = 0xffff_ffff;

/// A candidate for a named payment: a row and the named payment's slot, whose hashes agree
/// on the bits the uniqueness check keeps (the strings confirm it in [`slots`]).
type Found = (u32, u32);

/// Event ids must be unique: a repeated id is a redelivery to drop or a conflict to
/// report, as the canonical path does. The hashes `h` (entries `0..n` the events' ids by row,
/// the rest the named payments' ids) are spread over 512 buckets by their top bits
/// (`counts[c][b]`: how many of chunk `c`'s hashes, `h[c * chunk..]`, fall in bucket `b`),
/// as words of the entry's index (high half) and the hash's low half: the bucket and the
/// low half hold 41 bits of the hash, and the index reaches the rest in `h` when those
/// agree. Each bucket, small enough to stay in cache, then goes through an open-addressing
/// set of its events: an event whose hash is already there stays out of it, paired with
/// the one that is (see [`drop_redeliveries`]). The bucket's named payments
/// come after its events and look their hash up in the set: every event they agree with
/// on those 41 bits is a candidate. Both steps run on rayon's threads (chunks scatter into
/// their own share of each bucket; ranges of buckets are checked apart), and what they
/// find does not depend on how the work is shared. Returns the candidates, in no
/// particular order, the repeats by row, and the buffers for reuse (`n` words each).
#[inline(never)]
pub(super) fn check_unique(h: Vec<u64>, n: usize, chunk: usize, counts: &[Vec<usize>]) -> Checked {
    use rayon::prelude::*;
    let buckets = 1usize << BITS;
    // Where each bucket starts in the scattered copy.
    let mut starts = vec![0usize; buckets + 1];
    for c in counts {
        for (b, &k) in c.iter().enumerate() {
            starts[b + 1] += k;
        }
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let word = |i: usize, x: u64| ((i as u64) << 32) | (x & LOW);
    let mut tmp = vec![0u64; h.len()];
    if counts.len() == 1 {
        // One chunk (one thread): a cursor per bucket over the whole copy.
        let mut at = starts.clone();
        for (i, &x) in h.iter().enumerate() {
            let b = bucket(x);
            tmp[at[b]] = word(i, x);
            at[b] += 1;
        }
    } else {
        // Each chunk's share of each bucket, in chunk order within the bucket: disjoint
        // slices, so that chunks scatter at once without sharing a cursor.
        let mut shares: Vec<Vec<&mut [u64]>> =
            counts.iter().map(|_| Vec::with_capacity(buckets)).collect();
        let mut rest: &mut [u64] = &mut tmp;
        for b in 0..buckets {
            for (c, share) in counts.iter().zip(shares.iter_mut()) {
                let (mine, after) = std::mem::take(&mut rest).split_at_mut(c[b]);
                share.push(mine);
                rest = after;
            }
        }
        h.par_chunks(chunk)
            .zip(shares.par_iter_mut())
            .enumerate()
            .for_each(|(c, (hs, share))| {
                for (j, &x) in hs.iter().enumerate() {
                    // The share's next slot, then the share shrinks past it; the counts
                    // sized every share for exactly its hashes.
                    let slot = &mut share[bucket(x)];
                    if let Some((first, after)) = std::mem::take(slot).split_first_mut() {
                        *first = word(c * chunk + j, x);
                        *slot = after;
                    }
                }
            });
    }
    check_buckets(h, n, tmp, &starts)
}

/// The second half of [`check_unique`]: each bucket of the scattered copy `tmp` (bucket
/// `b` at `starts[b]..starts[b + 1]`, its events before its named payments) through an
/// open-addressing set, ranges of buckets on rayon's threads.
fn check_buckets(mut h: Vec<u64>, n: usize, mut tmp: Vec<u64>, starts: &[usize]) -> Checked {
    use rayon::prelude::*;
    let buckets = starts.len() - 1;
    // One table per range of buckets, reused without clearing: a power of two at least
    // twice the largest bucket. A slot holds a hash's low half (high half) and 1 + the
    // position in `tmp` of its word (low half); it belongs to the bucket being checked
    // only when that position is in the bucket, so what earlier buckets left (at lower
    // positions) and the zeros it starts with read as empty.
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let size = (2 * largest).next_power_of_two().max(16);
    let (h_ref, tmp_ref) = (&h, &tmp);
    // The entry index of the word a slot points at.
    let index = |slot: u64| (tmp_ref[(slot & LOW) as usize - 1] >> 32) as usize;
    let check = |g: usize, ranges: usize| -> (Vec<Found>, Vec<Repeat>) {
        let mut table = vec![0u64; size];
        // From the table's own length, so that `k & mask` is seen to be in bounds.
        let mask = table.len() - 1;
        let mut found = Vec::new();
        let mut repeats = Vec::new();
        for b in g * buckets / ranges..(g + 1) * buckets / ranges {
            let (start, end) = (starts[b], starts[b + 1]);
            let words = &tmp_ref[start..end];
            // The bucket's events, then its named payments.
            let events = words.partition_point(|&w| ((w >> 32) as usize) < n);
            for (pos, &w) in (start as u64 + 1..).zip(&words[..events]) {
                let low = w & LOW;
                let mut k = low as usize & mask;
                loop {
                    let slot = table[k];
                    if (slot & LOW) as usize <= start {
                        table[k] = (low << 32) | pos;
                        break;
                    }
                    if slot >> 32 == low && h_ref[index(slot)] == h_ref[(w >> 32) as usize] {
                        // The same hash as an event already in the set: a redelivery, a
                        // conflict or a collision, which the caller tells apart. Only
                        // the first stays in the set, so every later one pairs with it.
                        let (a, b) = (index(slot) as u32, (w >> 32) as u32);
                        repeats.push((a.min(b), a.max(b)));
                        break;
                    }
                    k = (k + 1) & mask;
                }
            }
            for &w in &words[events..] {
                let (low, named) = (w & LOW, (w >> 32) as usize - n);
                let mut k = low as usize & mask;
                loop {
                    let slot = table[k];
                    if (slot & LOW) as usize <= start {
                        break;
                    }
                    if slot >> 32 == low {
                        found.push((index(slot) as u32, named as u32));
                    }
                    k = (k + 1) & mask;
                }
            }
        }
        (found, repeats)
    };
    // On one thread, one range checked here; else a few ranges a thread.
    let (found, mut repeats) = match rayon::current_num_threads() {
        1 => check(0, 1),
        t => {
            let ranges = (t * 4).min(buckets);
            let parts: Vec<(Vec<Found>, Vec<Repeat>)> = (0..ranges)
                .into_par_iter()
                .map(|g| check(g, ranges))
                .collect();
            let mut found = Vec::new();
            let mut repeats = Vec::new();
            for (f, r) in parts {
                found.extend(f);
                repeats.extend(r);
            }
            (found, repeats)
        }
    };
    // In row order, whichever range found them.
    repeats.sort_unstable();
    h.truncate(n);
    tmp.truncate(n);
    Checked {
        found,
        repeats,
        spare: [h, tmp],
    }
}

/// Two event rows (by index, the first lower) whose ids have one hash: a redelivery of
/// one event, a conflict, or a 64-bit collision ([`drop_redeliveries`] tells them apart).
type Repeat = (u32, u32);

/// What the uniqueness check found.
pub(super) struct Checked {
    /// Candidates for the named payments (see [`named`]).
    found: Vec<Found>,
    /// Rows whose id hash an earlier row's has, each with that row, by row.
    repeats: Vec<Repeat>,
    /// The check's two buffers of a word an event, handed on.
    spare: [Vec<u64>; 2],
}

/// The rows to drop as redeliveries, ascending: of the rows `repeats` pairs, each later
/// one whose event is exactly the earlier one's (the canonical path keeps the first of
/// identical events with one id and ignores the others). Two events with one id that
/// differ are a conflict, which the canonical path reports, and two ids with one hash a
/// collision it tells apart: either hands the input over.
fn drop_redeliveries(ev: &Events, repeats: &[Repeat]) -> Result<Vec<u32>, Bail> {
    let mut dropped = Vec::with_capacity(repeats.len());
    for &(a, b) in repeats {
        let (a, b) = (a as usize, b as usize);
        if ev.id.get_bytes(a) != ev.id.get_bytes(b) {
            return bail("two event ids with one 64-bit hash");
        }
        if !same_event(ev, a, b) {
            return bail("two different events with one id");
        }
        dropped.push(b as u32);
    }
    dropped.sort_unstable();
    dropped.dedup();
    Ok(dropped)
}

/// Whether rows `a` and `b` hold the same event in every field but the id (interned
/// values compare by index: one string, one index).
fn same_event(ev: &Events, a: usize, b: usize) -> bool {
    ev.kind[a] == ev.kind[b]
        && ev.at[a] == ev.at[b]
        && ev.partner[a] == ev.partner[b]
        && ev.customer[a] == ev.customer[b]
        && ev.channel[a] == ev.channel[b]
        && ev.amounts(a) == ev.amounts(b)
        && ev.currency[a] == ev.currency[b]
        && ev.payment[a] == ev.payment[b]
        && ev.qualified(a) == ev.qualified(b)
        && ev.labels().iter().all(|l| l.get(a) == l.get(b))
}

/// The rows to apply (at ≤ as_of), in canonical order.
pub(super) enum Rows {
    /// Rows `0..n`: the log was in canonical order (the usual case: no list is built).
    InOrder(usize),
    /// The rows, sorted.
    Sorted(Vec<u32>),
}

impl Rows {
    /// How many rows.
    pub(super) fn len(&self) -> usize {
        match self {
            Rows::InOrder(n) => *n,
            Rows::Sorted(v) => v.len(),
        }
    }

    /// The `i`-th row in canonical order.
    #[inline]
    pub(super) fn get(&self, i: usize) -> u32 {
        match self {
            Rows::InOrder(_) => i as u32,
            Rows::Sorted(v) => v[i],
        }
    }

    /// These rows but `dropped` (ascending): the redeliveries the fold skips. No list is
    /// built when there are none.
    pub(super) fn without(self, dropped: &[u32]) -> Rows {
        if dropped.is_empty() {
            return self;
        }
        let keep = |r: &u32| dropped.binary_search(r).is_err();
        match self {
            Rows::InOrder(n) => Rows::Sorted((0..n as u32).filter(keep).collect()),
            Rows::Sorted(mut v) => {
                v.retain(keep);
                Rows::Sorted(v)
            }
        }
    }

    /// The first and the last row, if any.
    pub(super) fn ends(&self) -> Option<(usize, usize)> {
        match self.len() {
            0 => None,
            n => Some((self.get(0) as usize, self.get(n - 1) as usize)),
        }
    }
}

/// The rows to apply (at ≤ as_of) in canonical order: (at, kind rank, id). Logs usually
/// come in order: one branch-free pass over the instants checks it, comparing kinds and
/// ids only at equal instants; then the rows are a prefix of the log.
#[inline(never)]
pub(super) fn canonical_rows(ev: &Events, as_of: i64) -> Rows {
    let at = &ev.at;
    let (mut down, mut ties) = (false, false);
    for w in at.windows(2) {
        down |= w[0] > w[1];
        ties |= w[0] == w[1];
    }
    let in_order = !down
        && (!ties
            || (1..at.len()).all(|i| {
                at[i - 1] != at[i]
                    || (ev.kind[i - 1], ev.id.get(i - 1)) < (ev.kind[i], ev.id.get(i))
            }));
    if in_order {
        return Rows::InOrder(at.partition_point(|&a| a <= as_of));
    }
    // Sorted by (instant, kind) as plain keys, then each run of equal keys (rare) by id.
    let mut keys: Vec<(i64, u8, u32)> = (0..at.len())
        .filter(|&r| at[r] <= as_of)
        .map(|r| (at[r], ev.kind[r] as u8, r as u32))
        .collect();
    keys.sort_unstable();
    let mut start = 0;
    while start < keys.len() {
        let mut end = start + 1;
        while end < keys.len() && keys[end].0 == keys[start].0 && keys[end].1 == keys[start].1 {
            end += 1;
        }
        if end - start > 1 {
            keys[start..end].sort_by(|a, b| ev.id.get(a.2 as usize).cmp(ev.id.get(b.2 as usize)));
        }
        start = end;
    }
    Rows::Sorted(keys.into_iter().map(|k| k.2).collect())
}

#[cfg(test)]
mod tests {
    use super::{BITS, Checked, Found, Repeat, bucket};
    use crate::fast::Events;
    use crate::money::Currency;
    use crate::plan::Channel;

    /// Counts the buckets of `h` as the id pass does (chunks as it makes them on this
    /// many threads) and runs the check; entries from `n` on are named payments. The
    /// candidates sorted, and the repeats.
    fn check(h: Vec<u64>, n: usize) -> (Vec<Found>, Vec<Repeat>) {
        let len = h.len();
        let chunk = super::chunk_len(len);
        let counts: Vec<Vec<usize>> = h
            .chunks(chunk)
            .map(|c| {
                let mut count = vec![0usize; 1 << BITS];
                for &x in c {
                    count[bucket(x)] += 1;
                }
                count
            })
            .collect();
        let Checked {
            mut found,
            repeats,
            spare: [a, b],
        } = super::check_unique(h, n, chunk, &counts);
        assert_eq!((a.len(), b.len()), (n, n), "the buffers handed on");
        found.sort_unstable();
        (found, repeats)
    }

    /// The uniqueness check on bare hashes (no named payments): the repeats it finds.
    fn check_unique(h: Vec<u64>) -> Vec<Repeat> {
        let n = h.len();
        check(h, n).1
    }

    /// A SplitMix64 stream: distinct, well-spread 64-bit values.
    fn hashes(n: usize) -> Vec<u64> {
        let mut x = 0x5eed_u64;
        (0..n)
            .map(|_| {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            })
            .collect()
    }

    /// Runs `f` on 1, 2 and 3 threads (chunks and bucket ranges split differently).
    fn on_threads(f: fn()) {
        for threads in [1, 2, 3] {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(f);
        }
    }

    /// On 1, 2 and 3 threads: the same findings.
    #[test]
    fn finds_a_repeat_among_many_and_none_where_there_is_none() {
        on_threads(finds_a_repeat);
    }

    fn finds_a_repeat() {
        for n in [1, 10, 20_000, 200_000, 300_001] {
            let h = hashes(n);
            assert!(check_unique(h.clone()).is_empty(), "{n} distinct");
            if n < 10 {
                continue;
            }
            for (a, b) in [(0, n - 1), (n / 2, n / 3), (7, 8)] {
                let mut d = h.clone();
                d[b] = d[a];
                let want = (a.min(b) as u32, a.max(b) as u32);
                assert_eq!(check_unique(d), [want], "{n}: {a} repeated at {b}");
            }
            // The largest and smallest hashes, alone and twice.
            let mut m = h.clone();
            m[3] = u64::MAX;
            m[4] = u64::MAX - 1;
            assert!(check_unique(m.clone()).is_empty());
            m[5] = u64::MAX;
            assert_eq!(check_unique(m.clone()), [(3, 5)]);
            // Three rows with one hash: each later one paired with the first.
            m[n - 1] = u64::MAX;
            assert_eq!(check_unique(m), [(3, 5), (3, n as u32 - 1)]);
            // Zero is an ordinary hash.
            let mut z = h;
            z[1] = 0;
            z[9] = 1;
            assert!(check_unique(z.clone()).is_empty());
            z[2] = 0;
            assert_eq!(check_unique(z), [(1, 2)]);
        }
    }

    /// Hashes that agree on the bucket and the low half (the 41 bits the scattered words
    /// keep) but differ between: distinct, which only the full hashes tell.
    #[test]
    fn hashes_alike_in_the_scattered_bits_are_told_apart() {
        on_threads(alike);
    }

    fn alike() {
        for n in [100, 200_000] {
            let mut h = hashes(n);
            let base = h[10];
            for (j, i) in [20, n / 2, n - 1].into_iter().enumerate() {
                h[i] = base ^ ((j as u64 + 1) << 40);
            }
            assert!(check_unique(h.clone()).is_empty(), "{n}");
            h[n / 3] = h[n / 2];
            let want = ((n / 3) as u32, (n / 2) as u32);
            assert_eq!(check_unique(h), [want], "{n}: a real repeat among them");
        }
    }

    /// Named payments (entries from `n` on) by forced hashes, `ids` standing for the
    /// strings: the buckets give every event alike in the kept bits as a candidate; a
    /// named payment gets the event with its id, not one with only its hash; two named
    /// payments with one hash are told apart by their strings; one without an event, or
    /// alike only in the scattered bits, gets nothing.
    #[test]
    fn named_payments_are_found_by_hash_and_confirmed_by_string() {
        on_threads(named);
    }

    fn named() {
        for n in [50, 200_000] {
            let events = hashes(n + 5);
            let mut h = events[..n].to_vec();
            // The ids: event row i is "i"; named payment k is given below.
            let mut named = Vec::new();
            let mut ids = Vec::new();
            // Rows 20 and 21 alike in the scattered bits: 21's named payment passes 20.
            h[21] = h[20] ^ (1 << 40);
            // 0: row 3 by hash and id. 1: row 7's hash, another id (a collision).
            // 2 and 3: row 11's hash, only 3 with its id. 4: no event. 5: row 13's bucket
            // and low half, another hash (and id). 6: the last row.
            for (x, id) in [
                (h[3], 3),
                (h[7], usize::MAX),
                (h[11], usize::MAX - 1),
                (h[11], 11),
                (events[n + 1], n + 1),
                (h[13] ^ (1 << 40), n + 2),
                (h[n - 1], n - 1),
                (h[21], 21),
            ] {
                named.push(x);
                ids.push(id);
            }
            h.extend(&named);
            let (found, repeats) = check(h.clone(), n);
            assert!(repeats.is_empty());
            // Candidates: every event alike in the kept bits, the strings not yet read.
            let last = n as u32 - 1;
            let want: Vec<Found> = vec![
                (3, 0),
                (7, 1),
                (11, 2),
                (11, 3),
                (13, 5),
                (20, 7),
                (21, 7),
                (last, 6),
            ];
            assert_eq!(found, want, "{n}");
            // Confirmed by string, whatever the candidates' order.
            let same = |row: usize, k: usize| ids[k] == row;
            for order in [found.clone(), found.iter().rev().copied().collect()] {
                let named = super::named(order, same);
                assert_eq!(named.pairs(), [(3, 0), (11, 3), (21, 7), (last, 6)], "{n}");
            }
            // Only payment rows are found: `same` decides (here: none is a payment).
            assert!(super::named(found.clone(), |_, _| false).pairs().is_empty());
            // No candidates: none named.
            assert!(super::named(Vec::new(), same).pairs().is_empty());
            // A repeat among the events is found, and the named payments still are.
            let mut d = h;
            d[n / 2] = d[5];
            let (again, repeats) = check(d, n);
            assert_eq!(repeats, [(5, n as u32 / 2)]);
            assert_eq!(again, want);
        }
    }

    /// Events with `payments` payments `p{i}` (a touch before each), refunds `r{i}` of
    /// every third payment (every ninth twice), and refunds naming an unknown payment, a
    /// touch and a refund.
    fn events(payments: usize, refunds: bool) -> Events {
        let usd = Currency::parse("USD").expect("USD");
        let mut ev = Events::with_capacity(2 * payments + payments / 3);
        for i in 0..payments {
            let at = i as i64 * 1_000;
            ev.push_touch(
                &format!("t{i}"),
                at,
                "partner",
                &format!("c{i}"),
                Channel::Link,
            );
            ev.push_payment(&format!("p{i}"), at + 1, &format!("c{i}"), 1_000, 0, 0, usd);
            if refunds && i % 3 == 0 {
                ev.push_reversal(&format!("r{i}"), at + 2, &format!("p{i}"), Some(10), None);
                if i % 9 == 0 {
                    ev.push_reversal(&format!("s{i}"), at + 3, &format!("p{i}"), Some(10), None);
                }
            }
        }
        if refunds {
            let at = payments as i64 * 1_000;
            ev.push_reversal("r-unknown", at, "p-nowhere", Some(10), None);
            ev.push_reversal("r-touch", at + 1, "t1", Some(10), None);
            ev.push_reversal("r-refund", at + 2, "r0", None, None);
        }
        ev
    }

    /// The id pass on real ids: each refunded payment's row gets its slot (one, however
    /// many refunds name it); payment ids that name no payment row (unknown, a touch's, a
    /// refund's) get none; without refunds none is named. The same on 1, 2 and
    /// 3 threads, one chunk or many.
    #[test]
    fn the_id_pass_finds_each_refunded_payment() {
        on_threads(id_pass);
    }

    fn id_pass() {
        for payments in [10, 100_000] {
            let ev = events(payments, true);
            let ids = super::scan_ids(&ev).ok().expect("unique ids");
            assert_eq!(ids.touches, payments);
            // The slot of every row, read through a cursor in row order, as the fold reads.
            let mut cursor = ids.named.cursor();
            let mut slots = 0;
            for row in 0..ev.len() {
                let id = ev.id.get(row);
                let want = match ev.kind[row] {
                    crate::input::Kind::Payment => ev.payments.find(id).map_or(0, |k| k + 1),
                    _ => 0,
                };
                assert_eq!(cursor.at(row as u32), want, "{payments}: row {row} ({id})");
                slots += usize::from(want != 0);
            }
            assert_eq!(slots, ids.named.pairs().len(), "{payments}");
            assert_eq!(slots, payments.div_ceil(3), "{payments}");
            let [a, b] = &ids.spare;
            assert_eq!((a.len(), b.len()), (ev.len(), ev.len()));

            let plain = events(payments, false);
            let ids = super::scan_ids(&plain).ok().expect("unique ids");
            assert!(ids.named.pairs().is_empty());
            assert_eq!(ids.touches, payments);

            // The confirmation itself: a payment with the named id, nothing else.
            let p3 = ev.payments.find("p3").expect("named") as usize;
            let row = |id: &str| (0..ev.len()).find(|&r| ev.id.get(r) == id).expect("row");
            assert!(super::is_named_payment(&ev, row("p3"), p3));
            assert!(!super::is_named_payment(&ev, row("p6"), p3), "another id");
            let t1 = ev.payments.find("t1").expect("named") as usize;
            assert!(!super::is_named_payment(&ev, row("t1"), t1), "a touch");
            let r0 = ev.payments.find("r0").expect("named") as usize;
            assert!(!super::is_named_payment(&ev, row("r0"), r0), "a refund");

            // A refund whose id repeats a payment's: handed over.
            let mut dup = events(payments, true);
            dup.push_reversal("p1", 0, "p3", Some(10), None);
            assert!(super::scan_ids(&dup).is_err());
        }
    }

    /// The cursor gives each row's slot (1 + k, or 0) whatever order rows are asked in:
    /// ascending (the fold), ascending with rows skipped (a shard), descending, and
    /// scattered (a log out of order), against the same slots as a column.
    #[test]
    fn the_cursor_reads_slots_in_any_order() {
        // Named rows: every third row from 5 below 2,000, and a run of adjacent rows.
        let mut pairs: Vec<(u32, u32)> = (5..2_000).step_by(3).map(|r| (r, r * 7)).collect();
        pairs.extend((2_000..2_040).map(|r| (r, r)));
        let named = super::Named {
            pairs: pairs.clone(),
        };
        let n = 2_100u32;
        let mut column = vec![0u32; n as usize];
        for &(r, k) in &pairs {
            column[r as usize] = k + 1;
        }
        let ascending: Vec<u32> = (0..n).collect();
        let skipping: Vec<u32> = (0..n).filter(|r| r % 2 == 0 || r % 5 == 0).collect();
        let sparse: Vec<u32> = (0..n).step_by(97).collect();
        let descending: Vec<u32> = (0..n).rev().collect();
        // A fixed scatter: r * 1,237 mod n visits every row once (1,237 and 2,100 coprime).
        let scattered: Vec<u32> = (0..n).map(|r| r * 1_237 % n).collect();
        for (name, order) in [
            ("ascending", ascending),
            ("skipping", skipping),
            ("sparse", sparse),
            ("descending", descending),
            ("scattered", scattered),
        ] {
            let mut cursor = named.cursor();
            for r in order {
                assert_eq!(cursor.at(r), column[r as usize], "{name}: row {r}");
            }
        }
        // Past the last named row, and with none named.
        let mut cursor = named.cursor();
        assert_eq!(cursor.at(5), 36);
        assert_eq!(cursor.at(5_000), 0);
        assert_eq!(cursor.at(2_039), 2_040);
        assert_eq!(super::Named::default().cursor().at(0), 0);
    }
}
