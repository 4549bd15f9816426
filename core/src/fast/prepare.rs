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

/// Hashes every event id once, for the uniqueness check and for the payments refunds name
/// (found by hash among the named payments, then compared as strings), and counts the
/// uniqueness check's buckets in the same pass.
#[inline(never)]
pub(super) fn scan_ids(ev: &Events) -> Result<Ids, Bail> {
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
    let mut hashes: Vec<u64> = Vec::with_capacity(n);
    let mut count = vec![0usize; (1 << BITS) + 1];
    let mut touches = 0usize;
    for (i, &kind) in ev.kind.iter().enumerate() {
        let h = id_hash(&hasher, ev.id.get_bytes(i));
        hashes.push(h);
        count[bucket(h) + 1] += 1;
        touches += usize::from(kind == Kind::Touch);
        if n_refs > 0
            && kind == Kind::Payment
            && filter[bit(h) / 64] & (1 << (bit(h) % 64)) != 0
            && let Some(&k) = named.get(&h)
            && ev.payments.strings.get(k as usize) == ev.id.get(i)
        {
            ref_slot[i] = k + 1;
        }
    }
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
    let spare = check_unique(hashes, &mut count)?;
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
/// (`count[b + 1]` holds bucket `b`'s size), then each bucket, small enough to stay in
/// cache, goes through an open-addressing set on its low bits. An equal hash hands the
/// input over. Returns its buffers for reuse.
#[inline(never)]
pub(super) fn check_unique(h: Vec<u64>, count: &mut [usize]) -> Result<[Vec<u64>; 2], Bail> {
    if h.len() < 1 << 14 {
        let mut h = h;
        h.sort_unstable();
        return match h.windows(2).any(|w| w[0] == w[1]) {
            true => repeated(),
            false => Ok([h, Vec::new()]),
        };
    }
    for k in 1..count.len() {
        count[k] += count[k - 1];
    }
    let starts = count.to_vec();
    let mut tmp = vec![0u64; h.len()];
    for &x in &h {
        let b = bucket(x);
        tmp[count[b]] = x;
        count[b] += 1;
    }
    // One table, reused without clearing: a power of two at least twice the largest
    // bucket. A slot holds a hash as itself; it belongs to the bucket being checked only
    // when its top bits are that bucket's, so what earlier buckets left reads as empty.
    // The table starts filled with the top bucket's bits (empty for every other bucket)
    // and is zeroed once before the top bucket.
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let size = (2 * largest).next_power_of_two().max(16);
    let mask = size - 1;
    let mut table = vec![u64::MAX; size];
    let top = (1usize << BITS) - 1;
    for (b, w) in starts.windows(2).enumerate() {
        if b == top {
            table.fill(0);
        }
        for &x in &tmp[w[0]..w[1]] {
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

    /// The uniqueness check on bare hashes, with the bucket counts the id pass gathers.
    fn check_unique(h: Vec<u64>) -> Result<[Vec<u64>; 2], super::Bail> {
        let mut count = vec![0usize; (1 << BITS) + 1];
        for &x in &h {
            count[bucket(x) + 1] += 1;
        }
        super::check_unique(h, &mut count)
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

    #[test]
    fn finds_a_repeat_among_many_and_none_where_there_is_none() {
        for n in [10, 20_000, 200_000] {
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
