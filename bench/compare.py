"""partnerkit's columnar fast path against the code a data scientist would write by hand.

    python bench/compare.py [--events N] [--seed S]

Builds one synthetic program (fixed seed): 10,000 partners whose popularity is Zipf
distributed, a year of events (2026), customers touched by one or two partners before their
first payment (some touches older than the 30-day window), repeat payments, and 5% of
payments half refunded 10 days later (inside the 30-day hold) or 45 days later (after the
month's payout: a clawback). The plan: 20% of each payment, last touch within 30 days
decides the customer at its first payment and keeps it (the `customer` lock), half-up
rounding to the cent, a refund reversing the same fraction of the commission.

Four implementations, written separately, run in this one process on the same data:

- partnerkit: `partnerkit.evaluate_arrow` on a pyarrow Table (the full engine: statuses,
  holds, clawbacks, statements), then the ledger's totals per month with pyarrow (one
  decimal sum per month's slice of the ledger, which is in `earned_at` order). It asks for
  the two ledger columns it reads (`columns=["earned_at", "amount"]`); the same call with
  every column (the entry ids and dictionaries too) is timed once beside it and must give
  the same totals;
- pure Python: dicts and loops, the way a backtest is first written;
- pandas and polars: vectorized, for the subset they can express without a per-event loop
  (percent commission, last touch within a window, monthly totals).

Each gives the net commission per calendar month (UTC) in cents. The script first checks
that all four agree, then prints events per second, partnerkit's ratio to each, and the
process's peak memory. Times are wall clock on whatever else the machine runs: note the
load average printed with them.

Each implementation runs `--repeat` times in a row (5 by default; every run must give the
same totals), and the ratios are of the medians: the first run of each pays for memory the
process has not used before, the later ones reuse what the allocator kept, as a notebook
running backtest after backtest does. The first runs' times and ratios are printed too, and
every run's time. Pure Python (about a minute a run at ten million events) runs
`--python-repeat` times, once by default: its loop's cost dwarfs its memory's.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import resource
import statistics
import sys
import time
import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

import partnerkit

PARTNERS = 10_000
WINDOW_DAYS = 30
PERCENT = 20
DAY_NS = 86_400 * 10**9
YEAR_START = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()) * 10**9
YEAR_NS = 365 * DAY_NS
AS_OF = "2027-03-01T00:00:00Z"

PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "compare",
    "currency": "USD",
    "attribution": {"model": "last_touch", "window_days": WINDOW_DAYS},
    "rules": [{"id": "base", "reward": {"percent": str(PERCENT)}}],
    "lifecycle": {"hold_days": 30, "clawback": "always"},
    "payouts": {"period": "month"},
}

Totals = dict[tuple[int, int], int]


def dataset(n_events: int, seed: int) -> dict[str, np.ndarray]:
    """About `n_events` events as numpy columns, in no particular order."""
    rng = np.random.default_rng(seed)
    customers = max(n_events // 20, 1)
    weights = 1.0 / np.arange(1, PARTNERS + 1) ** 1.1
    weights /= weights.sum()
    first = YEAR_START + rng.integers(0, YEAR_NS, customers)
    # One touch per customer up to 40 days before the first payment (a quarter outside the
    # window), and a second, more recent one for 30% of them.
    t1 = first - rng.integers(0, 40 * DAY_NS, customers)
    p1 = rng.choice(PARTNERS, customers, p=weights)
    second = rng.random(customers) < 0.3
    c2 = np.nonzero(second)[0]
    t2 = first[c2] - rng.integers(0, 20 * DAY_NS, c2.size)
    p2 = rng.choice(PARTNERS, c2.size, p=weights)
    touches = customers + c2.size
    n_pay = max(int((n_events - touches) / 1.05), customers)
    # Every customer's first payment, then repeat payments at random later instants.
    extra = n_pay - customers
    pc_ = rng.integers(0, customers, extra)
    pat = first[pc_] + (rng.random(extra) * (YEAR_START + YEAR_NS - first[pc_])).astype(np.int64)
    pay_customer = np.concatenate([np.arange(customers), pc_])
    pay_at = np.concatenate([first, pat])
    amount = rng.integers(500, 50_000, n_pay)
    refunded = np.nonzero(rng.random(n_pay) < 0.05)[0]
    later = np.where(rng.random(refunded.size) < 0.5, 10, 45) * DAY_NS
    return {
        "touch_customer": np.concatenate([np.arange(customers), c2]),
        "touch_partner": np.concatenate([p1, p2]),
        "touch_at": np.concatenate([t1, t2]),
        "pay_customer": pay_customer,
        "pay_at": pay_at,
        "pay_amount": amount,
        "refund_payment": refunded,
        "refund_at": pay_at[refunded] + later,
        "refund_amount": np.maximum(amount[refunded] // 2, 1),
    }


def _prefixed(prefix: str, numbers: np.ndarray) -> pa.Array:
    """Strings `prefix + number`, built by Arrow kernels (no Python string per row)."""
    digits = pc.cast(pa.array(numbers, pa.int64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _cents(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
    """decimal128(18, 2) from integer cents, written straight into the Arrow buffer."""
    words = np.empty((cents.size, 2), np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    mask = pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(
        pa.decimal128(18, 2),
        cents.size,
        [mask, pa.py_buffer(words.tobytes())],
        null_count=int((~valid).sum()),
    )


def arrow_table(d: dict[str, np.ndarray]) -> pa.Table:
    """The events as partnerkit's Arrow columns, in time order: ids and references as
    strings, customers and partners as dictionaries, amounts as decimal128."""
    nt, npay, nr = d["touch_at"].size, d["pay_at"].size, d["refund_at"].size
    ids = pa.concat_arrays(
        [
            _prefixed("t", np.arange(nt)),
            _prefixed("p", np.arange(npay)),
            _prefixed("r", np.arange(nr)),
        ]
    )
    customers = int(d["pay_customer"].max()) + 1
    cust = np.concatenate([d["touch_customer"], d["pay_customer"], np.zeros(nr, np.int64)])
    cust_valid = np.concatenate([np.ones(nt + npay, bool), np.zeros(nr, bool)])
    customer = pa.DictionaryArray.from_arrays(
        pa.array(cust.astype(np.int32), mask=~cust_valid), _prefixed("c", np.arange(customers))
    )
    part = np.concatenate([d["touch_partner"], np.zeros(npay + nr, np.int64)])
    part_valid = np.concatenate([np.ones(nt, bool), np.zeros(npay + nr, bool)])
    names = pa.array([f"partner{p:05d}" for p in range(PARTNERS)], pa.string())
    partner = pa.DictionaryArray.from_arrays(
        pa.array(part.astype(np.int32), mask=~part_valid), names
    )
    cents = np.concatenate([np.zeros(nt, np.int64), d["pay_amount"], d["refund_amount"]])
    amount_valid = np.concatenate([np.zeros(nt, bool), np.ones(npay + nr, bool)])
    kind = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.array([0, 1, 2], np.int32), [nt, npay, nr])),
        pa.array(["touch", "payment", "refund"]),
    )
    channel = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(nt + npay + nr, np.int32), mask=~part_valid), pa.array(["link"])
    )
    currency = pa.DictionaryArray.from_arrays(
        pa.array(
            np.zeros(nt + npay + nr, np.int32),
            mask=~np.concatenate([np.zeros(nt, bool), np.ones(npay, bool), np.zeros(nr, bool)]),
        ),
        pa.array(["USD"]),
    )
    payment = pa.concat_arrays(
        [pa.nulls(nt + npay, pa.string()), _prefixed("p", d["refund_payment"])]
    )
    table = pa.table(
        {
            "id": ids,
            "kind": kind,
            "at": pa.array(
                np.concatenate([d["touch_at"], d["pay_at"], d["refund_at"]]), pa.int64()
            ).cast(pa.timestamp("ns", tz="UTC")),
            "partner": partner,
            "customer": customer,
            "channel": channel,
            "amount": _cents(cents, amount_valid),
            "currency": currency,
            "payment": payment,
        }
    )
    # An event log arrives in time order (the engine sorts whatever it gets, but a log out
    # of order costs it a sort and scattered reads).
    return table.sort_by("at")


# --- partnerkit -----------------------------------------------------------------------


# The ledger columns `run_partnerkit` reads.
READS = ("earned_at", "amount")


def run_partnerkit(events: pa.Table, columns: tuple[str, ...] | None = READS) -> Totals:
    """Monthly totals from the ledger's `columns` (None: every column written)."""
    partners = [f"partner{p:05d}" for p in range(PARTNERS)]
    res = partnerkit.evaluate_arrow(PLAN, events, partners=partners, as_of=AS_OF, columns=columns)
    if res.fallback is not None:
        sys.exit(f"partnerkit did not run natively: {res.fallback}")
    led = res.ledger
    # The ledger comes in report order (`earned_at`, then id: SPEC §11), so each month is one
    # contiguous slice: its edges by binary search, its net by one decimal sum. The order
    # is checked, not assumed.
    ns = led.column("earned_at").cast(pa.int64()).to_numpy()
    if ns.size > 1 and not bool(np.all(ns[1:] >= ns[:-1])):
        sys.exit("partnerkit's ledger is not in earned_at order")
    amount = led.column("amount")
    totals: Totals = {}
    if ns.size == 0:
        return totals
    first = dt.datetime.fromtimestamp(int(ns[0]) // 10**9, dt.UTC)
    y, m = first.year, first.month
    start = 0
    while start < ns.size:
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        edge = int(dt.datetime(ny, nm, 1, tzinfo=dt.UTC).timestamp()) * 10**9
        end = int(np.searchsorted(ns, edge, side="left"))
        if end > start:
            net = pc.sum(amount.slice(start, end - start)).as_py()
            totals[(y, m)] = int(net.scaleb(2))
        start = end
        y, m = ny, nm
    return totals


# --- pure Python ----------------------------------------------------------------------


def half_up_div(num: int, den: int) -> int:
    """round(num / den) half away from zero, for num ≥ 0."""
    return (2 * num + den) // (2 * den)


MONTH_STARTS = [
    int(dt.datetime(2026 + (k // 12), k % 12 + 1, 1, tzinfo=dt.UTC).timestamp()) * 10**9
    for k in range(36)
]


def month_of(ns: int) -> tuple[int, int]:
    k = bisect.bisect_right(MONTH_STARTS, ns) - 1
    return (2026 + k // 12, k % 12 + 1)


def run_python(rows: list[tuple[Any, ...]]) -> Totals:
    """One pass over the events in time order, as a backtest loop is first written."""
    touches: dict[int, list[tuple[int, int]]] = defaultdict(list)
    credit: dict[int, int | None] = {}
    commission: dict[int, tuple[int, int]] = {}
    totals: Totals = defaultdict(int)
    window = WINDOW_DAYS * DAY_NS
    for at, rank, key, a, b in rows:
        if rank == 0:  # touch: key = customer, a = partner
            if key not in credit:
                touches[key].append((at, a))
        elif rank == 1:  # payment: key = payment, a = customer, b = cents
            if a not in credit:
                best = None
                for t_at, partner in touches.pop(a, ()):
                    if at - t_at <= window and (best is None or t_at >= best[0]):
                        best = (t_at, partner)
                credit[a] = None if best is None else best[1]
            if credit[a] is not None:
                c = half_up_div(b * PERCENT, 100)
                if c:
                    commission[key] = (c, b)
                    totals[month_of(at)] += c
        else:  # refund: key = payment, a = cents
            if key in commission:
                c, amount = commission[key]
                r = half_up_div(c * a, amount)
                if r:
                    totals[month_of(at)] -= r
    return dict(totals)


def python_rows(d: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
    """The events as plain tuples in time order (touches before payments at one instant)."""
    rows: list[tuple[Any, ...]] = []
    for c, p, at in zip(
        d["touch_customer"].tolist(),
        d["touch_partner"].tolist(),
        d["touch_at"].tolist(),
        strict=True,
    ):
        rows.append((at, 0, c, p, 0))
    for i, (c, at, amount) in enumerate(
        zip(d["pay_customer"].tolist(), d["pay_at"].tolist(), d["pay_amount"].tolist(), strict=True)
    ):
        rows.append((at, 1, i, c, amount))
    for p, at, amount in zip(
        d["refund_payment"].tolist(),
        d["refund_at"].tolist(),
        d["refund_amount"].tolist(),
        strict=True,
    ):
        rows.append((at, 2, p, amount, 0))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


# --- pandas ---------------------------------------------------------------------------


def run_pandas(d: dict[str, np.ndarray]) -> Totals:
    touches = pd.DataFrame(
        {"customer": d["touch_customer"], "partner": d["touch_partner"], "at": d["touch_at"]}
    )
    pays = pd.DataFrame(
        {"customer": d["pay_customer"], "at": d["pay_at"], "cents": d["pay_amount"]}
    )
    pays["payment"] = np.arange(len(pays))
    first = pays.groupby("customer", as_index=False)["at"].min()
    # Last touch at or before the first payment, within the window.
    credit = pd.merge_asof(
        first.sort_values("at"),
        touches.sort_values("at"),
        on="at",
        by="customer",
        direction="backward",
        tolerance=WINDOW_DAYS * DAY_NS,
    )[["customer", "partner"]]
    paid = pays.merge(credit.dropna(), on="customer")
    paid["commission"] = (2 * paid["cents"] * PERCENT + 100) // 200
    paid = paid[paid["commission"] > 0]
    refunds = pd.DataFrame(
        {"payment": d["refund_payment"], "at": d["refund_at"], "cents": d["refund_amount"]}
    ).merge(paid[["payment", "commission", "cents"]], on="payment", suffixes=("", "_paid"))
    refunds["reversal"] = -(
        (2 * refunds["commission"] * refunds["cents"] + refunds["cents_paid"])
        // (2 * refunds["cents_paid"])
    )
    lines = pd.concat(
        [
            paid[["at", "commission"]].rename(columns={"commission": "c"}),
            refunds[["at", "reversal"]].rename(columns={"reversal": "c"}),
        ]
    )
    when = pd.to_datetime(lines["at"], unit="ns", utc=True)
    by = lines.groupby([when.dt.year, when.dt.month])["c"].sum()
    return {(int(y), int(m)): int(c) for (y, m), c in by.items()}


# --- polars ---------------------------------------------------------------------------


def run_polars(d: dict[str, np.ndarray]) -> Totals:
    # The frames are sorted by `at` just above; polars cannot check that per group.
    warnings.filterwarnings("ignore", message="Sortedness of columns cannot be checked")
    touches = pl.DataFrame(
        {"customer": d["touch_customer"], "partner": d["touch_partner"], "at": d["touch_at"]}
    ).lazy()
    pays = pl.DataFrame(
        {
            "customer": d["pay_customer"],
            "at": d["pay_at"],
            "cents": d["pay_amount"],
            "payment": np.arange(d["pay_at"].size),
        }
    ).lazy()
    first = pays.group_by("customer").agg(pl.col("at").min()).sort("at")
    credit = first.join_asof(
        touches.sort("at"),
        on="at",
        by="customer",
        strategy="backward",
        tolerance=WINDOW_DAYS * DAY_NS,
    ).select("customer", "partner")
    paid = (
        pays.join(credit.drop_nulls(), on="customer")
        .with_columns(commission=(2 * pl.col("cents") * PERCENT + 100) // 200)
        .filter(pl.col("commission") > 0)
    )
    refunds = (
        pl.DataFrame(
            {"payment": d["refund_payment"], "at": d["refund_at"], "cents": d["refund_amount"]}
        )
        .lazy()
        .join(paid.select("payment", "commission", pl.col("cents").alias("paid")), on="payment")
        .select(
            "at",
            c=-(
                (2 * pl.col("commission") * pl.col("cents") + pl.col("paid"))
                // (2 * pl.col("paid"))
            ),
        )
    )
    lines = pl.concat([paid.select("at", c=pl.col("commission")), refunds])
    when = pl.from_epoch(pl.col("at"), time_unit="ns")
    by = lines.group_by(y=when.dt.year(), m=when.dt.month()).agg(pl.col("c").sum()).collect()
    return {(y, m): c for y, m, c in by.iter_rows()}


# --- checks shared with the other scripts of bench/ --------------------------------------


def ledger_rows(ledger: pa.Table, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The ledger's `columns`, row by row."""
    return list(zip(*(ledger.column(c).to_pylist() for c in columns), strict=True))


def against_canonical(
    doc: dict[str, Any], ledger: pa.Table, columns: tuple[str, ...], fast_median: float
) -> tuple[bool, str]:
    """Evaluates `doc` on the canonical path and compares its entries' `columns`, in order,
    with `ledger`'s: whether they are the same, and the figures as a line's tail."""
    start = time.perf_counter()
    report = partnerkit.evaluate(doc)
    canonical = time.perf_counter() - start
    frame = report.entries_df()
    same = ledger_rows(ledger, columns) == list(
        zip(*(frame[c].tolist() for c in columns), strict=True)
    )
    tail = (
        f"; canonical {canonical:.3f} s ({canonical / fast_median:.1f}x the fast path's "
        f"median); {ledger.num_rows:,} entries "
        + (f"identical ({', '.join(columns)})" if same else "DIFFER")
    )
    return same, tail


# --- main -----------------------------------------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="about how many events")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument(
        "--skip-python", action="store_true", help="leave the pure-Python loop out (slow at 10M)"
    )
    ap.add_argument(
        "--repeat", type=int, default=5, help="runs of each implementation (the median counts)"
    )
    ap.add_argument("--python-repeat", type=int, default=1, help="runs of the pure-Python loop")
    args = ap.parse_args()
    if args.repeat < 1 or args.python_repeat < 1:
        sys.exit("--repeat and --python-repeat must be at least 1")

    t = time.perf_counter()
    d = dataset(args.events, args.seed)
    events = arrow_table(d)
    n = events.num_rows
    print(
        f"dataset: {n:,} events ({d['touch_at'].size:,} touches, {d['pay_at'].size:,} payments, "
        f"{d['refund_at'].size:,} refunds), {PARTNERS:,} partners (Zipf), built in "
        f"{time.perf_counter() - t:.1f}s; peak memory so far {peak_mb():,.0f} MB"
    )
    results: dict[str, Totals] = {}
    seconds: dict[str, list[float]] = {}
    memory: dict[str, float] = {}

    def timed(name: str, runs: int, f: Any, *a: Any) -> None:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            got = f(*a)
            times.append(time.perf_counter() - t0)
            if results.setdefault(name, got) != got:
                sys.exit(f"{name} gave different totals on two runs")
            del got
        seconds[name] = times
        memory[name] = peak_mb()

    timed("partnerkit", args.repeat, run_partnerkit, events)
    # The same evaluation writing every ledger column, once, for the README's two figures;
    # its totals must be the same.
    t0 = time.perf_counter()
    every_column = run_partnerkit(events, None)
    full_ledger_s = time.perf_counter() - t0
    if every_column != results["partnerkit"]:
        sys.exit("partnerkit's monthly totals differ with every ledger column written")
    del events
    if not args.skip_python:
        rows = python_rows(d)
        timed("pure Python", args.python_repeat, run_python, rows)
        del rows
    timed("pandas", args.repeat, run_pandas, d)
    timed("polars", args.repeat, run_polars, d)

    want = results["partnerkit"]
    for name, got in results.items():
        if got != want:
            months = sorted(set(got) | set(want))
            diff = [(m, want.get(m), got.get(m)) for m in months if want.get(m) != got.get(m)]
            sys.exit(f"{name} disagrees with partnerkit on the monthly totals: {diff[:5]}")
    total = sum(want.values())
    print(
        f"all {len(results)} agree: {len(want)} months, net commission "
        f"{total // 100:,}.{total % 100:02d} USD"
    )
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    print(
        f"{'':>12}  {'median':>8}  {'first run':>9}  {'events/s (median)':>17}"
        "   partnerkit's speed-up: medians (first runs)"
    )
    pk = seconds["partnerkit"]
    for name, times in seconds.items():
        med, first = statistics.median(times), times[0]
        ratio = (
            f"   {med / statistics.median(pk):,.1f}x ({first / pk[0]:,.1f}x)"
            if name != "partnerkit"
            else ""
        )
        print(f"{name:>12}: {med:7.3f}s  {first:8.3f}s  {n / med:>17,.0f}{ratio}")
    print(
        f"{'(every col.)':>12}: {full_ledger_s:7.3f}s  {'':>9}  {n / full_ledger_s:>17,.0f}"
        f"   partnerkit writing every ledger column, once, not only {', '.join(READS)}"
    )
    for name, times in seconds.items():
        print(f"{name:>12}  runs: {', '.join(f'{t:.3f}s' for t in times)}")
    print(f"peak memory of the process after partnerkit: {memory['partnerkit']:,.0f} MB")


if __name__ == "__main__":
    main()
