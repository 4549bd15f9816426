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
/// which the canonical path does. Ids are grouped by hash (radix-sorted); equal hashes hand
/// the input over.
#[inline(never)]
pub(super) fn check_unique(mut h: Vec<u64>) -> Result<(), Bail> {
    radix_sort(&mut h);
    if h.windows(2).any(|w| w[0] == w[1]) {
        // A real duplicate or a 64-bit collision; either way the canonical path sorts it
        // out exactly.
        return bail("repeated event ids");
    }
    Ok(())
}

/// Sorts 64-bit keys: one counting pass on the top 11 bits into 2,048 buckets, then each
/// bucket (a few thousand keys, cache-resident) sorted on its own. Equal keys share a
/// bucket, so adjacent-pair checks see them.
pub(super) fn radix_sort(v: &mut Vec<u64>) {
    const BITS: u32 = 11;
    if v.len() < 1 << 14 {
        v.sort_unstable();
        return;
    }
    let bucket = |x: u64| (x >> (64 - BITS)) as usize;
    let mut count = vec![0usize; (1 << BITS) + 1];
    for &x in v.iter() {
        count[bucket(x) + 1] += 1;
    }
    for k in 1..count.len() {
        count[k] += count[k - 1];
    }
    let starts = count.clone();
    let mut tmp = vec![0u64; v.len()];
    for &x in v.iter() {
        let b = bucket(x);
        tmp[count[b]] = x;
        count[b] += 1;
    }
    for w in starts.windows(2) {
        tmp[w[0]..w[1]].sort_unstable();
    }
    *v = tmp;
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
