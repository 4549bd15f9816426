"""Times `evaluate_arrow` against the canonical `evaluate` on compare.py's dataset with a
product on every payment and a campaign on most touches, under plans whose rules read them,
and checks that both give the same ledger.

    python bench/conditions.py [--events N] [--repeat R] [--no-canonical]

The products (`basic`, `pro`, `team`) and campaigns (`spring`, `fall`, or none) are drawn
with a fixed seed and written as Arrow dictionaries, as a categorical column of pandas or
polars arrives. Three plans, each compare.py's otherwise (last touch within 30 days, the
`customer` lock, a 30-day hold, clawbacks, monthly statements): a rule on the product, a
rule on the campaign of the touch that decided the customer, and a rule on both before one
on the product; each falls through to 20%. Each runs `--repeat` times on the fast path and
once on the canonical path; the script compares every entry's id, status, amount and rule,
in order. It also times compare.py's plan on the table with and without the two columns
(what reading them costs), whose ledgers must be the same. Exits non-zero if a ledger
differs or the fast path falls back. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import numpy as np
import pyarrow as pa
from compare import AS_OF, PARTNERS, PLAN, against_canonical, arrow_table, dataset, ledger_rows

import partnerkit

COLUMNS = ("id", "status", "amount", "rule")


def labelled(table: pa.Table, seed: int) -> tuple[pa.Table, int, int]:
    """The table with a product on every payment and a campaign on two touches in three,
    and how many of each."""
    rng = np.random.default_rng(seed)
    kind = table.column("kind").combine_chunks().indices.to_numpy()
    touch, payment = kind == 0, kind == 1
    product = pa.DictionaryArray.from_arrays(
        pa.array(rng.choice(3, kind.size, p=[0.5, 0.3, 0.2]).astype(np.int32), mask=~payment),
        pa.array(["basic", "pro", "team"]),
    )
    drawn = rng.choice(3, kind.size)
    campaign = pa.DictionaryArray.from_arrays(
        pa.array(drawn.astype(np.int32), mask=~touch | (drawn == 2)),
        pa.array(["spring", "fall", "unused"]),
    )
    out = table.append_column("product", product).append_column("campaign", campaign)
    return out, int(payment.sum()), int((touch & (drawn != 2)).sum())


def rules(*extra: dict[str, Any]) -> dict[str, Any]:
    return {**PLAN, "rules": [*extra, {"id": "base", "reward": {"percent": "20"}}]}


def timed(plan: dict[str, Any], table: pa.Table, partners: list[str], repeat: int) -> Any:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        res = partnerkit.evaluate_arrow(
            plan, table, partners=partners, as_of=AS_OF, columns=COLUMNS
        )
        times.append(time.perf_counter() - start)
    return res, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-canonical", action="store_true", help="time the fast path only")
    args = parser.parse_args()

    plain = arrow_table(dataset(args.events, 20260101))
    table, products, campaigns = labelled(plain, 7)
    print(
        f"{table.num_rows:,} events: {products:,} payments with a product, "
        f"{campaigns:,} touches with a campaign",
        flush=True,
    )
    ids = [f"partner{p:05d}" for p in range(PARTNERS)]
    variants: list[tuple[str, dict[str, Any]]] = [
        (
            "30% on pro, else 20%",
            rules({"id": "pro", "when": {"product": ["pro"]}, "reward": {"percent": "30"}}),
        ),
        (
            "25% through a spring campaign, else 20%",
            rules({"id": "spring", "when": {"campaign": ["spring"]}, "reward": {"percent": "25"}}),
        ),
        (
            "35% on pro or team through spring, 30% on pro, else 20%",
            rules(
                {
                    "id": "spring-paid",
                    "when": {"campaign": ["spring"], "product": ["pro", "team"]},
                    "reward": {"percent": "35"},
                },
                {"id": "pro", "when": {"product": ["pro"]}, "reward": {"percent": "30"}},
            ),
        ),
    ]
    differ = False
    for name, plan in variants:
        res, times = timed(plan, table, ids, args.repeat)
        path = "fast path" if res.fallback is None else f"fell back: {res.fallback}"
        differ |= res.fallback is not None
        median = statistics.median(times)
        line = f"{name}: {path}; " + ", ".join(f"{t:.3f}" for t in times) + " s"
        if not args.no_canonical:
            doc = {
                "plan": plan,
                "partners": [{"id": p} for p in ids],
                "events": table,
                "as_of": AS_OF,
            }
            same, tail = against_canonical(doc, res.ledger, COLUMNS, median)
            differ |= not same
            line += tail
        print(line, flush=True)
    # What the two columns cost to read: compare.py's plan (which reads neither) on the
    # table with them and without, alternated; the ledgers must be the same.
    with_t: list[float] = []
    without_t: list[float] = []
    for _ in range(args.repeat):
        bare, t = timed(PLAN, plain, ids, 1)
        without_t += t
        res, t = timed(PLAN, table, ids, 1)
        with_t += t
    same = ledger_rows(res.ledger, COLUMNS) == ledger_rows(bare.ledger, COLUMNS)
    differ |= not same
    extra = statistics.median(with_t) - statistics.median(without_t)
    print(
        f"compare.py's plan: {statistics.median(without_t):.3f} s without the two columns, "
        f"{statistics.median(with_t):.3f} s with them (medians of {args.repeat}): "
        f"{extra / table.num_rows * 1e9:+.1f} ns a row; "
        + ("the same ledger" if same else "the ledgers DIFFER"),
        flush=True,
    )
    if differ:
        sys.exit("a ledger differs, or the fast path fell back")


if __name__ == "__main__":
    main()
