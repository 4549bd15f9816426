//! Statistics over exact decimals: nearest-rank percentiles and exact means.
//!
//! The p-th percentile of n values is the value of rank ⌈p·n/100⌉ (1-based, at least 1) in
//! ascending order: always one of the values observed, exact, with no interpolation and no
//! float, so the same runs give the same digits everywhere.

use rust_decimal::Decimal;

use crate::money::Rounding;

/// The three percentiles reported, and the mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Mean, rounded half-even to the summary's digits.
    pub mean: Decimal,
    /// 5th percentile (nearest rank).
    pub p5: Decimal,
    /// Median (nearest rank).
    pub p50: Decimal,
    /// 95th percentile (nearest rank).
    pub p95: Decimal,
    /// How many values (runs where the quantity is defined).
    pub n: usize,
}

/// The rank (0-based) of the p-th percentile of `n` sorted values: ⌈p·n/100⌉ − 1.
pub fn rank(p: u32, n: usize) -> usize {
    let r = (p as usize * n).div_ceil(100);
    r.max(1) - 1
}

/// Nearest-rank percentile `p` (0..=100) of `values` (sorted in place); `None` if empty.
pub fn percentile(values: &mut [Decimal], p: u32) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[rank(p, values.len())])
}

/// Mean and p5/p50/p95 of `values`; the mean is rounded half-even to `digits`.
pub fn summarize(mut values: Vec<Decimal>, digits: u32) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let sum: Decimal = values.iter().copied().sum();
    let mean = Rounding::HalfEven.round(sum / Decimal::from(n as u64), digits);
    Some(Summary {
        mean,
        p5: values[rank(5, n)],
        p50: values[rank(50, n)],
        p95: values[rank(95, n)],
        n,
    })
}

/// Nearest-rank percentile of integers (partner earnings in minor units), by selection.
pub(crate) fn percentile_i64(values: &mut [i64], p: u32) -> i64 {
    if values.is_empty() {
        return 0;
    }
    let k = rank(p, values.len());
    *values.select_nth_unstable(k).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        // 20 values 1..=20: p5 is rank 1, p50 rank 10, p95 rank 19.
        let v: Vec<Decimal> = (1..=20).rev().map(Decimal::from).collect();
        let s = summarize(v, 2).unwrap();
        assert_eq!((s.p5, s.p50, s.p95), (1.into(), 10.into(), 19.into()));
        assert_eq!(s.mean.to_string(), "10.50");
        // One value is every percentile.
        assert_eq!(rank(5, 1), 0);
        assert_eq!(rank(95, 1), 0);
        let mut xs = [5i64, 1, 4, 2, 3];
        assert_eq!(percentile_i64(&mut xs, 50), 3);
        assert_eq!(percentile(&mut [], 50), None);
    }
}
