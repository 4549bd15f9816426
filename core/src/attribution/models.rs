//! The attribution models (SPEC §3): a weight for each eligible touch.
//!
//! Each model first gives every touch a raw score; the scores are then normalized to
//! weights with [`WEIGHT_DIGITS`] decimals by the largest-remainder method, so the weights
//! are exactly the numbers the explanation shows, sum to exactly 1, and a partner can
//! recompute its credit from them. A leftover unit goes to the largest remainder, then the
//! larger score, then the smaller partner id, then the earlier touch — the credit
//! tie-break of SPEC §3, one level down.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::TouchRec;
use crate::error::{Error, ErrorCode, Result};
use crate::money::allocate;
use crate::plan::Model;

/// Decimal places of a weight. With twelve, a split differs from the exact-fraction one by
/// less than a cent on any amount below 10^10 divided by the number of touches, far beyond a
/// single payment, while staying readable.
pub(crate) const WEIGHT_DIGITS: u32 = 12;

/// ln 2 to 28 decimal places.
const LN_2: Decimal = Decimal::from_parts(0xaa7a_65bf, 0x81f5_2f01, 0x1665_943f, false, 28);

/// Weights of the eligible touches (indices into `touches`, canonical order): each has
/// [`WEIGHT_DIGITS`] decimals and they sum to exactly 1 (no touches: no weights).
pub(crate) fn weigh(
    model: &Model,
    touches: &[TouchRec],
    eligible: &[usize],
    partner_ids: &[Arc<str>],
) -> Result<Vec<Decimal>> {
    let n = eligible.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    // Ties at one instant: the lowest event id is the earliest, the highest the latest.
    let key = |j: usize| (touches[eligible[j]].at, &touches[eligible[j]].event);
    let earliest = (0..n).min_by_key(|&j| key(j)).unwrap_or(0);
    let latest = (0..n).max_by_key(|&j| key(j)).unwrap_or(n - 1);
    let mut raw = vec![Decimal::ZERO; n];
    match model {
        Model::LastTouch => raw[latest] = Decimal::ONE,
        Model::FirstTouch => raw[earliest] = Decimal::ONE,
        Model::Linear => raw.fill(Decimal::ONE),
        Model::TimeDecay { half_life_days } => {
            // Scores relative to the newest touch: the same ratios as 2^(−age/half_life)
            // measured from the conversion, without all of them vanishing for old touches.
            let newest = touches[eligible[latest]].at;
            let half_life = Decimal::from(*half_life_days) * Decimal::from(86_400);
            for (j, &i) in eligible.iter().enumerate() {
                let age = newest - touches[i].at;
                let secs = Decimal::from(age.num_seconds())
                    + Decimal::new(i64::from(age.subsec_nanos()), 9);
                raw[j] = secs.checked_div(half_life).map_or(Decimal::ZERO, exp2_neg);
            }
        }
        Model::PositionBased { first, last } => {
            let (first, last) = (first.get(), last.get());
            match n {
                1 => raw[0] = Decimal::ONE,
                // Two touches: first and last, scaled to sum to 1 by the normalization.
                2 => {
                    raw[earliest] = first;
                    raw[latest] = last;
                }
                // Scores scaled by the number of middle touches so that they stay exact:
                // first × m, last × m and the rest once each for m middle touches.
                _ => {
                    let m = Decimal::from(n as u64 - 2);
                    raw.fill(Decimal::ONE - first - last);
                    raw[earliest] = first * m;
                    raw[latest] = last * m;
                }
            }
        }
    }
    // One scored touch (last or first touch, or a single touch) takes everything: no
    // normalization needed.
    let mut scored = raw.iter().enumerate().filter(|(_, w)| !w.is_zero());
    if let (Some((j, _)), None) = (scored.next(), scored.next()) {
        let mut w = vec![Decimal::ZERO; n];
        w[j] = Decimal::ONE;
        return Ok(w);
    }
    let shares: Vec<(Decimal, &str)> = eligible
        .iter()
        .zip(&raw)
        .map(|(&i, &w)| (w, &*partner_ids[touches[i].partner]))
        .collect();
    allocate(Decimal::ONE, WEIGHT_DIGITS, &shares).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            "",
            "attribution weights could not be normalized",
        )
    })
}

/// 2^(−x) for x ≥ 0, to about 26 significant digits, in exact decimal arithmetic (no
/// floats: the same digits on every platform).
pub(crate) fn exp2_neg(x: Decimal) -> Decimal {
    if x <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let whole = x.trunc();
    // 2^−94 is below the 28th decimal place.
    if whole >= Decimal::from(94) {
        return Decimal::ZERO;
    }
    let k = u32::try_from(whole.mantissa() / 10_i128.pow(whole.scale())).unwrap_or(94);
    let y = (x - whole).checked_mul(LN_2).unwrap_or(Decimal::ZERO);
    // e^y by its Taylor series: 0 ≤ y < ln 2, so the terms fall below 10^−28 within about
    // 30 steps, and every term is positive (no cancellation).
    let mut sum = Decimal::ONE;
    let mut term = Decimal::ONE;
    for i in 1..=60_u32 {
        term = term
            .checked_mul(y)
            .and_then(|t| t.checked_div(Decimal::from(i)))
            .unwrap_or(Decimal::ZERO);
        if term.is_zero() {
            break;
        }
        sum += term;
    }
    let pow = Decimal::from(1_u128 << k);
    sum.checked_mul(pow)
        .and_then(|d| Decimal::ONE.checked_div(d))
        .unwrap_or(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn ln2_constant() {
        assert_eq!(LN_2.to_string(), "0.6931471805599453094172321215");
    }

    #[test]
    fn powers_of_two_are_exact() {
        assert_eq!(exp2_neg(d("0")), Decimal::ONE);
        assert_eq!(exp2_neg(d("1")), d("0.5"));
        assert_eq!(exp2_neg(d("3")), d("0.125"));
        assert_eq!(exp2_neg(d("100")), Decimal::ZERO);
    }

    #[test]
    fn fractional_exponents_match_a_reference() {
        // 2^−0.5 = 0.70710678118654752440084436210…, 2^−1.25 = 0.42044820762685727151556…
        let close = |got: Decimal, want: &str| (got - d(want)).abs() < d("0.000000000000000000001");
        assert!(close(exp2_neg(d("0.5")), "0.7071067811865475244008443621"));
        assert!(close(exp2_neg(d("1.25")), "0.4204482076268572715155627381"));
    }
}
