"""The cost of one `Engine.apply` call from Python, one event per call, as a webhook consumer
makes it. Prints figures, asserts nothing about time.

The program is the one of bindings-node/bench/engine.js (a smaller one than
core/benches/engine.rs's: no refunds, no history before the timing): a 20% rule, a 30-day
hold, monthly statements, 1,000 partners and 5,000 customers (each touched by a link the day
before its first payment), then 100,000 payments spread over 2026, every one applied in
canonical order into the growing engine. Each way of calling runs once on a fresh engine
(one run: the machine is shared, so wall and CPU time are both printed, with the load average
before the runs):

- `apply(dict)` with `Decimal` amounts and aware `datetime` instants, returning `Entry`
  mappings whose values are typed when read (the form the issue's target, 2 µs per call, is
  about): the dict is read into the core's event without JSON text, and nothing of the
  entries is built until it is read;
- the same into a new engine once another engine of the process was dropped: a growing
  engine (the first figure) pays for fresh memory, page faults included, which this one
  mostly reuses;
- `apply(dict)`, then reading every key of every entry (the explanation's nested dicts
  included): what a caller that looks at everything pays, so the lazy saving is honest;
- `apply(dict)`, then `to_dict()` of every entry: the typed dicts `apply` used to return;
- `apply_json(dict)`, the same events, returning the core's JSON text;
- `apply_json(str)`, events already JSON text (a webhook body), returning JSON text;
- `apply_json(dict)` typed by `json.loads` with the facade's `_typed` hook in Python: how
  `apply(dict)` typed its entries before it built them natively (for comparison).

Every engine's report must be the batch report of the same log.

Run from the repository root with a release build installed (`pip install ./bindings-python`):
`python bindings-python/bench/engine_apply.py [PAYMENTS]`.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import partnerkit
from partnerkit import _typed

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
RANK = {"touch": 0, "payment": 3}


def program(payments: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    customers = max(1, payments // 20)
    partners = max(1, customers // 5)
    step = YEAR / payments
    events: list[dict[str, Any]] = []
    for i in range(payments):
        at = START + step * i
        at -= dt.timedelta(microseconds=at.microsecond)
        c = i % customers
        if i < customers:
            events.append(
                {
                    "id": f"t{c:06}",
                    "kind": "touch",
                    "at": at - dt.timedelta(days=1),
                    "partner": f"a{c % partners:05}",
                    "customer": f"c{c:06}",
                    "channel": "link",
                }
            )
        cents = 900 + (i * 7919) % 20000
        events.append(
            {
                "id": f"p{i:07}",
                "kind": "payment",
                "at": at,
                "customer": f"c{c:06}",
                "amount": Decimal(cents).scaleb(-2),
                "currency": "USD",
            }
        )
    events.sort(key=lambda e: (e["at"], RANK[e["kind"]], e["id"]))
    start = {"plan": PLAN, "partners": [{"id": f"a{p:05}"} for p in range(partners)]}
    return start, events


def text(event: dict[str, Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.isoformat().replace("+00:00", "Z")
        return str(v) if isinstance(v, Decimal) else v

    return json.dumps({k: plain(v) for k, v in event.items()})


def timed(label: str, n: int, f: Callable[[], Any]) -> Any:
    gc.collect()
    t, cpu = time.perf_counter(), time.process_time()
    out = f()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    each = f"  per call: {wall / n * 1e6:8.2f} µs wall {cpu / n * 1e6:8.2f} µs CPU" if n > 1 else ""
    print(f"  {label:<44} {wall:6.2f} s wall {cpu:6.2f} s CPU{each}")
    return out


def main() -> None:
    payments = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    start, events = program(payments)
    texts = [text(e) for e in events]
    n = len(events)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{n:,} events ({payments:,} payments), {len(start['partners']):,} partners; "
        f"one event per call, one run; load average {load}"
    )
    as_of = "2027-02-01T00:00:00Z"

    typed = partnerkit.Engine(start)
    entries = timed(
        "engine.apply(dict) -> Entry (lazy)", n, lambda: sum(len(typed.apply(e)) for e in events)
    )
    # A service's engine grows into fresh memory (the figure above); a process that dropped
    # an engine before (a restore, a rebuilt tenant) reuses what that one freed.
    dropped = partnerkit.Engine(start)
    for e in events:
        dropped.apply(e)
    del dropped
    reused = partnerkit.Engine(start)
    timed(
        "engine.apply(dict), memory of a dropped one",
        n,
        lambda: sum(len(reused.apply(e)) for e in events),
    )
    every = partnerkit.Engine(start)

    def read_every_key() -> None:
        for e in events:
            for entry in every.apply(e):
                for key in entry:
                    entry[key]

    timed("engine.apply(dict), every key of every entry", n, read_every_key)
    dicts_of = partnerkit.Engine(start)
    timed(
        "engine.apply(dict), to_dict() of every entry",
        n,
        lambda: sum(len(x.to_dict()) for e in events for x in dicts_of.apply(e)),
    )
    dicts = partnerkit.Engine(start)
    timed("engine.apply_json(dict) -> str", n, lambda: [dicts.apply_json(e) for e in events])
    hooked = partnerkit.Engine(start)
    timed(
        "json.loads(apply_json(dict), _typed hook)",
        n,
        lambda: [json.loads(hooked.apply_json(e), object_pairs_hook=_typed) for e in events],
    )
    raw = partnerkit.Engine(start)
    timed("engine.apply_json(str) -> str", n, lambda: [raw.apply_json(t) for t in texts])
    data = timed("engine.snapshot()", 1, typed.snapshot)
    restored = timed(
        "Engine.restore(bytes)  (a replay of the log)", 1, lambda: partnerkit.Engine.restore(data)
    )
    report = timed("engine.report(as_of).to_json()", 1, lambda: typed.report(as_of).to_json())
    batch = timed(
        "evaluate(whole log)  (for comparison)",
        1,
        lambda: partnerkit.evaluate({**start, "events": events, "as_of": as_of}).to_json(),
    )
    others = [
        e.report(as_of).to_json() for e in (reused, every, dicts_of, dicts, hooked, raw, restored)
    ]
    same = report == batch and all(o == batch for o in others)
    print(
        f"{entries:,} entries; snapshot {len(data) / 1e6:.1f} MB; "
        f"{'every report equals the batch report' if same else 'REPORTS DIFFER'}"
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
