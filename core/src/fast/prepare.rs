//! What the fold checks and orders before it starts: the partners it can take, unique event
//! ids (by hash), the payments refunds name, and the canonical order of the rows.

use super::columns::Events;
use super::compile::FastPlan;
use super::run::{Bail, bail};
use crate::input::{Kind, Partner};

/// Checks the partners the fold can take: unique ids, no parents, no status history, no
/// own customers, statements in the plan currency. Returns declared index by id.
pub(super) fn partner_index<'a>(
    plan: &FastPlan,
    partner_currency: bool,
    partners: &'a [Partner],
) -> Result<std::collections::HashMap<&'a str, u32, foldhash::fast::RandomState>, Bail> {
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
        if partner_currency && p.payout_currency.is_some_and(|c| c != plan.currency) {
            return bail("statements in a partner's own currency");
        }
    }
    Ok(index)
}

/// The seed of the id hashes: fixed, so that whether an input goes to the canonical path
/// (on a 64-bit collision) is the same on every run.
const SEED: u64 = 0x7061_7274_6e65_726b;
/// Radix bits of the uniqueness check: 2,048 buckets, each small enough to stay in cache.
const BITS: u32 = 11;
/// Rows a task of the id pass takes at least: below this, splitting costs more than it
/// saves.
const MIN_CHUNK: usize = 1 << 16;

/// What one pass over the event ids finds: whether they are unique, and for each payment
/// a refund names, its slot among the named payments.
pub(super) struct Ids {
    /// Per row: 1 + the slot in `Events::payments` of the payment on that row when a refund
    /// names it, else 0 (zero-filled, so untouched pages cost nothing). Empty when no
    /// refund names a payment.
    pub(super) ref_slot: Vec<u32>,
    /// How many touches the events hold (the fold's touch list is sized to it).
    pub(super) touches: usize,
    /// The uniqueness check's two buffers of a word an event, handed on for the ledger's
    /// instant columns: memory already faulted in, rather than fresh pages to clear.
    pub(super) spare: [Vec<u64>; 2],
}

/// The rows of one task of the id pass: how many make a chunk (the last may be shorter).
/// A few chunks a thread, so that a slow thread does not hold the others up; on one
/// thread, one chunk (the pass as a single loop, scattering without shares). The split
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
    /// Rows per radix bucket.
    count: Vec<usize>,
    /// Touches.
    touches: usize,
}

/// Hashes every event id once, for the uniqueness check and for the payments refunds name
/// (found by hash among the named payments, then compared as strings), and counts the
/// uniqueness check's buckets in the same pass. Chunks of rows run on rayon's threads,
/// each writing its own rows and counting into its own buckets: the outcome is the same
/// on any number of threads.
#[inline(never)]
pub(super) fn scan_ids(ev: &Events) -> Result<Ids, Bail> {
    use rayon::prelude::*;
    let hasher = foldhash::fast::FixedState::with_seed(SEED);
    let n = ev.len();
    let n_refs = ev.payments.strings.len();
    let mut named: std::collections::HashMap<u64, u32, foldhash::fast::RandomState> =
        Default::default();
    // Most payments are never refunded: a bit per hash (16 bits a named payment, a
    // cache-sized filter) turns most map probes, each a cache miss, into one bit test.
    let bits = (n_refs * 16).next_power_of_two().max(64);
    let mut filter = vec![0u64; if n_refs > 0 { bits / 64 } else { 0 }];
    let bit = |h: u64| (h >> 32) as usize & (bits - 1);
    if n_refs > 0 {
        named.reserve(n_refs);
        for k in 0..n_refs {
            let h = id_hash(&hasher, ev.payments.strings.get_bytes(k));
            named.insert(h, k as u32);
            filter[bit(h) / 64] |= 1 << (bit(h) % 64);
        }
    }
    let mut ref_slot = vec![0u32; if n_refs > 0 { n } else { 0 }];
    // Zero-filled rather than pushed to: a fresh allocation this large is the kernel's
    // zero pages (no memset), and chunks write their own rows in place.
    let mut hashes = vec![0u64; n];
    let chunk = chunk_len(n);
    let slots: Vec<Option<&mut [u32]>> = if n_refs > 0 {
        ref_slot.chunks_mut(chunk).map(Some).collect()
    } else {
        hashes.chunks(chunk).map(|_| None).collect()
    };
    let scan = |c: usize, hs: &mut [u64], mut slots: Option<&mut [u32]>| -> Part {
        let start = c * chunk;
        let kinds = &ev.kind[start..start + hs.len()];
        let mut count = vec![0usize; 1 << BITS];
        let mut touches = 0usize;
        for (j, (out, &kind)) in hs.iter_mut().zip(kinds).enumerate() {
            let i = start + j;
            let h = id_hash(&hasher, ev.id.get_bytes(i));
            *out = h;
            count[bucket(h)] += 1;
            touches += usize::from(kind == Kind::Touch);
            if let Some(slots) = slots.as_deref_mut()
                && kind == Kind::Payment
                && filter[bit(h) / 64] & (1 << (bit(h) % 64)) != 0
                && let Some(&k) = named.get(&h)
                && ev.payments.strings.get(k as usize) == ev.id.get(i)
            {
                slots[j] = k + 1;
            }
        }
        Part { count, touches }
    };
    // One chunk (one thread) runs here, without handing a job to the pool.
    let parts: Vec<Part> = if slots.len() <= 1 {
        let slot = slots.into_iter().next().flatten();
        vec![scan(0, &mut hashes, slot)]
    } else {
        hashes
            .par_chunks_mut(chunk)
            .zip(slots)
            .enumerate()
            .map(|(c, (hs, slots))| scan(c, hs, slots))
            .collect()
    };
    // Two named payments with one hash: the map kept one; find the other by string.
    if named.len() < n_refs {
        for (i, slot) in ref_slot.iter_mut().enumerate() {
            if ev.kind[i] == Kind::Payment
                && *slot == 0
                && let Some(k) = ev.payments.find(ev.id.get(i))
            {
                *slot = k + 1;
            }
        }
    }
    let touches = parts.iter().map(|p| p.touches).sum();
    let counts: Vec<Vec<usize>> = parts.into_iter().map(|p| p.count).collect();
    let spare = check_unique(hashes, chunk, &counts)?;
    Ok(Ids {
        ref_slot,
        touches,
        spare,
    })
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

/// Event ids must be unique: a repeated id is a duplicate to drop or a conflict to report,
/// which the canonical path does. Hashes are spread over 2,048 buckets by their top bits
/// (`counts[c][b]`: how many of chunk `c`'s hashes, `h[c * chunk..]`, fall in bucket
/// `b`), then each bucket, small enough to stay in cache, goes through an open-addressing
/// set on its low bits. An equal hash hands the input over. Both steps run on rayon's
/// threads (chunks scatter into their own share of each bucket; ranges of buckets are
/// checked apart), and whether a hash repeats does not depend on how the work is shared.
/// Returns its buffers for reuse.
#[inline(never)]
pub(super) fn check_unique(
    h: Vec<u64>,
    chunk: usize,
    counts: &[Vec<usize>],
) -> Result<[Vec<u64>; 2], Bail> {
    use rayon::prelude::*;
    if h.len() < 1 << 14 {
        let mut h = h;
        h.sort_unstable();
        return match h.windows(2).any(|w| w[0] == w[1]) {
            true => repeated(),
            false => Ok([h, Vec::new()]),
        };
    }
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
    let mut tmp = vec![0u64; h.len()];
    if counts.len() == 1 {
        // One chunk (one thread): a cursor per bucket over the whole copy.
        let mut at = starts.clone();
        for &x in &h {
            let b = bucket(x);
            tmp[at[b]] = x;
            at[b] += 1;
        }
        return check_buckets(h, tmp, &starts);
    }
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
        .for_each(|(hs, share)| {
            for &x in hs {
                // The share's next slot, then the share shrinks past it; the counts sized
                // every share for exactly its hashes.
                let slot = &mut share[bucket(x)];
                if let Some((first, after)) = std::mem::take(slot).split_first_mut() {
                    *first = x;
                    *slot = after;
                }
            }
        });
    drop(shares);
    check_buckets(h, tmp, &starts)
}

/// The second half of [`check_unique`]: each bucket of the scattered copy `tmp` (bucket
/// `b` at `starts[b]..starts[b + 1]`) through an open-addressing set, ranges of buckets on
/// rayon's threads.
fn check_buckets(h: Vec<u64>, tmp: Vec<u64>, starts: &[usize]) -> Result<[Vec<u64>; 2], Bail> {
    use rayon::prelude::*;
    let buckets = starts.len() - 1;
    // One table per range of buckets, reused without clearing: a power of two at least
    // twice the largest bucket. A slot holds a hash as itself; it belongs to the bucket
    // being checked only when its top bits are that bucket's, so what earlier buckets left
    // reads as empty. The table starts filled with the top bucket's bits (empty for every
    // other bucket) and is zeroed once before the top bucket.
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let size = (2 * largest).next_power_of_two().max(16);
    let mask = size - 1;
    let top = buckets - 1;
    let check = |g: usize, ranges: usize| -> Result<(), Bail> {
        let mut table = vec![u64::MAX; size];
        for b in g * buckets / ranges..(g + 1) * buckets / ranges {
            if b == top {
                table.fill(0);
            }
            for &x in &tmp[starts[b]..starts[b + 1]] {
                let mut k = (x as usize) & mask;
                loop {
                    let slot = table[k];
                    if bucket(slot) != b {
                        table[k] = x;
                        break;
                    }
                    if slot == x {
                        return repeated();
                    }
                    k = (k + 1) & mask;
                }
            }
        }
        Ok(())
    };
    // On one thread, one range checked here; else a few ranges a thread.
    match rayon::current_num_threads() {
        1 => check(0, 1)?,
        t => {
            let ranges = (t * 4).min(buckets);
            (0..ranges)
                .into_par_iter()
                .try_for_each(|g| check(g, ranges))?;
        }
    }
    Ok([h, tmp])
}

/// A repeated id hash: a real duplicate or a 64-bit collision; either way the canonical
/// path sorts it out exactly.
#[cold]
fn repeated<T>() -> Result<T, Bail> {
    bail("repeated event ids")
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
    use super::{BITS, bucket};

    /// The uniqueness check on bare hashes, with the bucket counts the id pass gathers
    /// (chunks as the id pass makes them on this many threads).
    fn check_unique(h: Vec<u64>) -> Result<[Vec<u64>; 2], super::Bail> {
        let chunk = super::chunk_len(h.len());
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
        super::check_unique(h, chunk, &counts)
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

    /// On 1, 2 and 3 threads (chunks and bucket ranges split differently): the same
    /// findings.
    #[test]
    fn finds_a_repeat_among_many_and_none_where_there_is_none() {
        for threads in [1, 2, 3] {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(finds_a_repeat);
        }
    }

    fn finds_a_repeat() {
        for n in [10, 20_000, 200_000, 300_001] {
            let h = hashes(n);
            assert!(check_unique(h.clone()).is_ok(), "{n} distinct");
            for (a, b) in [(0, n - 1), (n / 2, n / 3), (7, 8)] {
                let mut d = h.clone();
                d[b] = d[a];
                assert!(check_unique(d).is_err(), "{n}: {a} repeated at {b}");
            }
            // The largest and smallest hashes, alone and twice (the table's fill values).
            let mut m = h.clone();
            m[3] = u64::MAX;
            m[4] = u64::MAX - 1;
            assert!(check_unique(m.clone()).is_ok());
            m[5] = u64::MAX;
            assert!(check_unique(m).is_err());
            // Zero is an ordinary hash.
            let mut z = h;
            z[1] = 0;
            z[9] = 1;
            assert!(check_unique(z.clone()).is_ok());
            z[2] = 0;
            assert!(check_unique(z).is_err());
        }
    }
}
