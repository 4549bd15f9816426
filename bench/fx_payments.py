"""Times `evaluate_arrow` against the canonical `evaluate` on compare.py's dataset with half
of the customers paying in EUR under its USD plan, and checks that both give the same
ledger.

    python bench/fx_payments.py [--events N] [--repeat R] [--no-canonical]

Half of the customers (every other customer index) pay in EUR; their refunds state no
currency, so they are in their payment's. Rates cover every day from December 2025, in
each variant's form: EUR quoted into USD (a statement line multiplies), USD quoted into
EUR (it divides by the opposite quote), or with half the partners paid in EUR. The fast
path checks that every EUR payment has a rate to USD on its date, writes commissions and
reversals in EUR, and converts them for the statements. Each variant runs `--repeat` times
on the fast path and once on the canonical path; the script then compares every entry's
id, status, amount and currency, in order, and exits non-zero if they differ. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from compare import AS_OF, PARTNERS, PLAN, against_canonical, arrow_table, dataset

import partnerkit

COLUMNS = ("id", "status", "amount", "currency")


def in_euros(table: pa.Table) -> tuple[pa.Table, int]:
    """The table with every other customer's payments in EUR, and how many there are."""
    customer = pc.fill_null(table.column("customer").combine_chunks().indices, 0).to_numpy()
    payment = table.column("kind").combine_chunks().indices.to_numpy() == 1
    euro = payment & (customer % 2 == 1)
    codes = pa.array(euro.astype(np.int32), mask=~payment)
    currency = pa.DictionaryArray.from_arrays(codes, pa.array(["USD", "EUR"]))
    at = table.schema.get_field_index("currency")
    return table.set_column(at, "currency", currency), int(euro.sum())


def rates(direct: bool) -> list[dict[str, str]]:
    """A rate for every day from 2025-12-01, EUR→USD (`direct`) or USD→EUR."""
    first = dt.date(2025, 12, 1)
    src, dst = ("EUR", "USD") if direct else ("USD", "EUR")
    out = []
    for k in range(800):
        date = (first + dt.timedelta(days=k)).isoformat()
        rate = f"1.{800 + k * 37 % 400}" if direct else f"0.{9000 + k * 37 % 400}"
        out.append({"date": date, "from": src, "to": dst, "rate": rate})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-canonical", action="store_true", help="time the fast path only")
    args = parser.parse_args()

    table, euros = in_euros(arrow_table(dataset(args.events, 20260101)))
    print(f"{table.num_rows:,} events, {euros:,} payments in EUR", flush=True)
    ids = [f"partner{p:05d}" for p in range(PARTNERS)]
    half = [{"id": p, "payout_currency": "EUR"} if k % 2 else {"id": p} for k, p in enumerate(ids)]
    threshold = {**PLAN, "payouts": {**PLAN["payouts"], "threshold": "500"}}
    variants: list[tuple[str, dict[str, Any], list[Any], list[dict[str, str]]]] = [
        ("EUR→USD quotes, statements in USD", PLAN, ids, rates(True)),
        ("USD→EUR quotes (inverse), statements in USD", PLAN, ids, rates(False)),
        ("EUR→USD quotes, half the partners paid in EUR", PLAN, half, rates(True)),
        ("EUR→USD quotes, threshold 500 USD", threshold, ids, rates(True)),
    ]
    differ = False
    for name, plan, partners, fx in variants:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            res = partnerkit.evaluate_arrow(
                plan, table, partners=partners, fx=fx, as_of=AS_OF, columns=COLUMNS
            )
            times.append(time.perf_counter() - start)
        path = "fast path" if res.fallback is None else f"fell back: {res.fallback}"
        median = statistics.median(times)
        line = f"{name}: {path}; " + ", ".join(f"{t:.3f}" for t in times) + " s"
        if not args.no_canonical:
            doc = {
                "plan": plan,
                "partners": [p if isinstance(p, dict) else {"id": p} for p in partners],
                "events": table,
                "fx": fx,
                "as_of": AS_OF,
            }
            same, tail = against_canonical(doc, res.ledger, COLUMNS, median)
            differ |= not same
            line += tail
        print(line, flush=True)
    if differ:
        sys.exit("the fast path's ledger differs from the canonical one")


if __name__ == "__main__":
    main()
