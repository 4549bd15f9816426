//! What the fold checks and orders before it starts: the partners it can take, unique event
//! ids (by hash), the payments refunds name, and the canonical order of the rows.

use super::columns::Events;
use super::compile::FastPlan;
use super::run::{Bail, bail};
use crate::input::Partner;

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

/// The hash of every event id (the same seed as the canonical path's duplicate check).
#[inline(never)]
pub(super) fn id_hashes(ev: &Events) -> Vec<u64> {
    let hasher = foldhash::fast::FixedState::with_seed(0x7061_7274_6e65_726b);
    (0..ev.len())
        .map(|i| std::hash::BuildHasher::hash_one(&hasher, ev.id.get_bytes(i)))
        .collect()
}

/// Event ids must be unique: a repeated id is a duplicate to drop or a conflict to report,
/// which the canonical path does. Hashes are spread over 2,048 buckets by their top bits
/// (one counting pass), then each bucket, small enough to stay in cache, goes through an
/// open-addressing set on its low bits. An equal hash hands the input over.
#[inline(never)]
pub(super) fn check_unique(h: Vec<u64>) -> Result<(), Bail> {
    const BITS: u32 = 11;
    if h.len() < 1 << 14 {
        let mut h = h;
        h.sort_unstable();
        return match h.windows(2).any(|w| w[0] == w[1]) {
            true => repeated(),
            false => Ok(()),
        };
    }
    let bucket = |x: u64| (x >> (64 - BITS)) as usize;
    let mut count = vec![0usize; (1 << BITS) + 1];
    for &x in &h {
        count[bucket(x) + 1] += 1;
    }
    for k in 1..count.len() {
        count[k] += count[k - 1];
    }
    let starts = count.clone();
    let mut tmp = vec![0u64; h.len()];
    for &x in &h {
        let b = bucket(x);
        tmp[count[b]] = x;
        count[b] += 1;
    }
    drop(h);
    // One table, reused: a power of two at least twice the largest bucket. Slots hold
    // hash + 1 (0 is empty); a hash of u64::MAX wraps to 0 and is checked on its own.
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let size = (2 * largest).next_power_of_two().max(16);
    let mask = size - 1;
    let mut table = vec![0u64; size];
    let mut saw_max = false;
    for w in starts.windows(2) {
        let keys = &tmp[w[0]..w[1]];
        for &x in keys {
            if x == u64::MAX {
                if saw_max {
                    return repeated();
                }
                saw_max = true;
                continue;
            }
            let mut k = (x as usize) & mask;
            loop {
                let slot = table[k];
                if slot == 0 {
                    table[k] = x + 1;
                    break;
                }
                if slot == x + 1 {
                    return repeated();
                }
                k = (k + 1) & mask;
            }
        }
        // Clear only what this bucket wrote.
        for &x in keys {
            if x != u64::MAX {
                let mut k = (x as usize) & mask;
                while table[k] != 0 {
                    table[k] = 0;
                    k = (k + 1) & mask;
                }
            }
        }
    }
    Ok(())
}

/// A repeated id hash: a real duplicate or a 64-bit collision; either way the canonical
/// path sorts it out exactly.
fn repeated() -> Result<(), Bail> {
    bail("repeated event ids")
}

/// The rows to apply (at ≤ as_of) in canonical order: (at, kind rank, id). Logs usually
/// come in order: one pass checks it as it collects, comparing ids only at equal instants.
#[inline(never)]
pub(super) fn canonical_rows(ev: &Events, as_of: i64) -> Vec<u32> {
    let mut rows: Vec<u32> = Vec::with_capacity(ev.len());
    let mut sorted = true;
    let mut prev: Option<usize> = None;
    for (i, &at) in ev.at.iter().enumerate() {
        if at > as_of {
            continue;
        }
        if let Some(p) = prev
            && sorted
        {
            let pa = ev.at[p];
            if pa > at || (pa == at && (ev.kind[p], ev.id.get(p)) >= (ev.kind[i], ev.id.get(i))) {
                sorted = false;
            }
        }
        prev = Some(i);
        rows.push(i as u32);
    }
    if !sorted {
        // Sorted by (instant, kind) as plain keys, then each run of equal keys (rare) by id.
        let mut keys: Vec<(i64, u8, u32)> = rows
            .iter()
            .map(|&r| (ev.at[r as usize], ev.kind[r as usize] as u8, r))
            .collect();
        keys.sort_unstable();
        let mut start = 0;
        while start < keys.len() {
            let mut end = start + 1;
            while end < keys.len() && keys[end].0 == keys[start].0 && keys[end].1 == keys[start].1 {
                end += 1;
            }
            if end - start > 1 {
                keys[start..end]
                    .sort_by(|a, b| ev.id.get(a.2 as usize).cmp(ev.id.get(b.2 as usize)));
            }
            start = end;
        }
        rows = keys.into_iter().map(|k| k.2).collect();
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::check_unique;

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
            // The one value the table cannot store as itself, alone and twice.
            let mut m = h.clone();
            m[3] = u64::MAX;
            assert!(check_unique(m.clone()).is_ok());
            m[5] = u64::MAX;
            assert!(check_unique(m).is_err());
            // Zero is an ordinary hash.
            let mut z = h;
            z[1] = 0;
            z[2] = 0;
            assert!(check_unique(z).is_err());
        }
    }
}
