"""`partnerkit.evaluate` over a million events, by input form. Prints figures, asserts nothing.

The program follows core/benches/evaluate.rs: 10,000 partners and 50,000 customers, each
customer touched through a link by one partner a day before its first payment; 950,000
payments spread evenly over 2026 cycle through the customers; one rule pays 20%; monthly
statements; `as_of` 2027-02-01. 1,000,000 events in all, given in time order.

Each form is evaluated once (one run, single-threaded core; wall and CPU time, since a shared
machine inflates wall time), and every form must give the same
report (checked by its length and a hash of the canonical JSON of the first form):

- JSON text: the core's own parse, the floor for any other form;
- list of dicts, str values: what `json.loads` gives;
- list of dicts, typed: `Decimal` amounts, aware `datetime` instants;
- pyarrow Table: `decimal128` amounts, `timestamp[us, UTC]` instants, dictionary `kind`;
- pandas DataFrame: `Decimal` object column, `datetime64[us, UTC]` instants.

Run from the repository root with a release build installed (`pip install ./bindings-python`):
`python bindings-python/bench/evaluate_1m.py [EVENTS]`.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import sys
import time
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

import partnerkit

PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "bench",
    "currency": "USD",
    "rules": [{"id": "base", "reward": {"percent": "20"}}],
    "lifecycle": {"hold_days": 30},
    "payouts": {"period": "month"},
}
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=365)


def columns(events: int) -> dict[str, list[Any]]:
    """The events as typed columns (None where a field does not belong to the kind)."""
    customers = max(1, events // 20)
    partners = max(1, customers // 5)
    payments = events - customers
    step = YEAR / payments
    rows: list[tuple[dt.datetime, int, str, str | None, str, Decimal | None]] = []
    for c in range(customers):
        first = START + step * c
        rows.append((first - dt.timedelta(days=1), 0, f"t{c}", f"a{c % partners}", f"c{c}", None))
    for k in range(payments):
        amount = Decimal(1000 + (k % 9000)).scaleb(-2)  # 10.00 .. 99.99
        rows.append((START + step * k, 1, f"p{k}", None, f"c{k % customers}", amount))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return {
        "id": [r[2] for r in rows],
        "kind": ["touch" if r[1] == 0 else "payment" for r in rows],
        "at": [r[0] for r in rows],
        "partner": [r[3] for r in rows],
        "customer": [r[4] for r in rows],
        "channel": ["link" if r[1] == 0 else None for r in rows],
        "amount": [r[5] for r in rows],
        "currency": [None if r[1] == 0 else "USD" for r in rows],
    }


def dicts(cols: dict[str, list[Any]], text: bool) -> list[dict[str, Any]]:
    names = list(cols)
    out = []
    for values in zip(*cols.values(), strict=True):
        row = {}
        for name, v in zip(names, values, strict=True):
            if v is None:
                continue
            if text and not isinstance(v, str):
                v = v.isoformat().replace("+00:00", "Z") if name == "at" else str(v)
            row[name] = v
        out.append(row)
    return out


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    cols = columns(events)
    partners = [{"id": f"a{i}"} for i in range(max(1, events // 100))]
    doc = {"plan": PLAN, "partners": partners, "as_of": "2027-02-01T00:00:00Z"}
    plain = dicts(cols, text=True)
    forms: list[tuple[str, Any]] = [
        ("JSON text", lambda: json.dumps({**doc, "events": plain})),
        ("list of dicts, str values", lambda: {**doc, "events": plain}),
        ("list of dicts, Decimal + datetime", lambda: {**doc, "events": dicts(cols, text=False)}),
        (
            "pyarrow Table (decimal128, timestamp)",
            lambda: {
                **doc,
                "events": pa.table(
                    {
                        "id": pa.array(cols["id"]),
                        "kind": pa.array(cols["kind"]).dictionary_encode(),
                        "at": pa.array(cols["at"], pa.timestamp("us", tz="UTC")),
                        "partner": pa.array(cols["partner"]),
                        "customer": pa.array(cols["customer"]),
                        "channel": pa.array(cols["channel"]),
                        "amount": pa.array(cols["amount"], pa.decimal128(12, 2)),
                        "currency": pa.array(cols["currency"]),
                    }
                ),
            },
        ),
        (
            "pandas DataFrame (Decimal objects, datetime64)",
            lambda: {**doc, "events": pd.DataFrame(cols)},
        ),
    ]
    print(
        f"{len(cols['id']):,} events, {len(partners):,} partners (built in "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    reference: tuple[int, str] | None = None
    for name, build in forms:
        data = build()
        gc.collect()
        t, cpu = time.perf_counter(), time.process_time()
        report = partnerkit.evaluate(data)
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
        digest = hashlib.sha256(report.to_json().encode()).hexdigest()[:16]
        if reference is None:
            reference = (len(report), digest)
        same = (len(report), digest) == reference
        print(
            f"  {name:<48} {took:6.2f} s wall {cpu:6.2f} s CPU"
            f"  {events / cpu / 1e6:5.2f} M events per CPU-second"
            f"  entries={len(report):,} {'same report' if same else 'DIFFERENT REPORT'}"
        )
        del data, report


if __name__ == "__main__":
    main()
