//! Property tests for `partnerkit::money`, through the public API only.
//!
//! They pin the invariants other modules rely on: allocation never creates or
//! loses a minor unit and does not depend on share order, and rounding lands
//! on the currency scale, within one minor unit, symmetrically around zero.

use partnerkit::money::{Rounding, allocate, fits_minor_unit};
use proptest::prelude::*;
use rust_decimal::Decimal;

const MODES: [Rounding; 4] = [
    Rounding::HalfUp,
    Rounding::HalfEven,
    Rounding::Down,
    Rounding::Up,
];

/// One minor unit at `digits`, e.g. 0.01 for 2.
fn minor_unit(digits: u32) -> Decimal {
    Decimal::new(1, digits)
}

/// A total as a whole number of minor units, with its digit count.
fn total_strategy() -> impl Strategy<Value = (Decimal, u32)> {
    (-10_000_000_000_i64..=10_000_000_000_i64, 0_u32..=4)
        .prop_map(|(units, digits)| (Decimal::new(units, digits), digits))
}

/// A non-negative weight with up to 4 decimals; about one in six is zero.
fn weight_strategy() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        1 => Just(Decimal::ZERO),
        5 => (1_i64..=1_000_000, 0_u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
    ]
}

/// 1 to 8 weights, at least one of them positive.
fn weights_strategy() -> impl Strategy<Value = Vec<Decimal>> {
    prop::collection::vec(weight_strategy(), 1..=8)
        .prop_filter("some weight must be positive", |ws| {
            ws.iter().any(|w| !w.is_zero())
        })
}

/// Unique keys, deliberately not in the same order as the positions.
fn keys(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("k{:02}", (i * 7 + 3) % 100))
        .collect()
}

/// An arbitrary amount with up to 8 decimals.
fn amount_strategy() -> impl Strategy<Value = Decimal> {
    (
        -1_000_000_000_000_000_i64..=1_000_000_000_000_000_i64,
        0_u32..=8,
    )
        .prop_map(|(m, s)| Decimal::new(m, s))
}

proptest! {
    #[test]
    fn allocate_sums_exactly_and_stays_within_one_unit(
        (total, digits) in total_strategy(),
        weights in weights_strategy(),
    ) {
        let keys = keys(weights.len());
        let shares: Vec<(Decimal, &str)> =
            weights.iter().zip(&keys).map(|(w, k)| (*w, k.as_str())).collect();
        let parts = allocate(total, digits, &shares).expect("valid input allocates");
        prop_assert_eq!(parts.len(), shares.len());

        let sum = parts.iter().fold(Decimal::ZERO, |acc, p| acc + p);
        prop_assert_eq!(sum, total);

        let weight_sum = weights.iter().fold(Decimal::ZERO, |acc, w| acc + w);
        for (part, w) in parts.iter().zip(&weights) {
            prop_assert_eq!(part.scale(), digits);
            let quota = total * w / weight_sum;
            prop_assert!(
                (*part - quota).abs() < minor_unit(digits),
                "part {} vs quota {}", part, quota
            );
            if w.is_zero() {
                prop_assert!(part.is_zero());
            }
            if total >= Decimal::ZERO {
                prop_assert!(*part >= Decimal::ZERO);
            } else {
                prop_assert!(*part <= Decimal::ZERO);
            }
        }
    }

    #[test]
    fn allocate_is_order_independent(
        (total, digits) in total_strategy(),
        weights in weights_strategy(),
        seed in any::<u64>(),
    ) {
        let keys = keys(weights.len());
        let shares: Vec<(Decimal, &str)> =
            weights.iter().zip(&keys).map(|(w, k)| (*w, k.as_str())).collect();

        // A seeded Fisher-Yates permutation of the positions.
        let mut perm: Vec<usize> = (0..shares.len()).collect();
        let mut state = seed;
        for i in (1..perm.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap_or(0);
            perm.swap(i, j);
        }
        let permuted: Vec<(Decimal, &str)> = perm.iter().map(|&i| shares[i]).collect();

        let parts = allocate(total, digits, &shares).expect("valid input allocates");
        let permuted_parts = allocate(total, digits, &permuted).expect("valid input allocates");
        for (pos, &orig) in perm.iter().enumerate() {
            prop_assert_eq!(permuted_parts[pos], parts[orig]);
        }
    }

    #[test]
    fn round_has_exact_scale_and_is_within_one_unit(
        x in amount_strategy(),
        digits in 0_u32..=4,
    ) {
        for mode in MODES {
            let r = mode.round(x, digits);
            prop_assert_eq!(r.scale(), digits, "{:?} {} @{}", mode, x, digits);
            prop_assert!((r - x).abs() < minor_unit(digits), "{:?} {} -> {}", mode, x, r);
            prop_assert!(fits_minor_unit(r, digits));
        }
    }

    #[test]
    fn round_is_symmetric_around_zero(
        x in amount_strategy(),
        digits in 0_u32..=4,
    ) {
        for mode in MODES {
            prop_assert_eq!(mode.round(-x, digits), -mode.round(x, digits), "{:?} {}", mode, x);
        }
    }
}
