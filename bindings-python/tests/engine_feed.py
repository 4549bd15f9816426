"""Feeding a vector through the incremental `Engine`, as a webhook consumer would (a helper of
the vector suite, not a test module)."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
from collections.abc import Mapping
from typing import Any

import partnerkit

# SPEC §1: events are processed in the order (at, kind rank, id).
KIND_RANK = {
    "touch": 0,
    "assign": 1,
    "signup": 2,
    "payment": 3,
    "refund": 4,
    "chargeback": 5,
    "adjustment": 6,
}
INSTANT = re.compile(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def instant_key(text: str) -> tuple[dt.datetime, int]:
    """An RFC 3339 instant as (its whole seconds, nanoseconds): `fromisoformat` keeps
    microseconds only, and instants may carry up to nine fraction digits."""
    m = INSTANT.match(text)
    assert m, f"an RFC 3339 instant: {text}"
    whole = dt.datetime.fromisoformat(m[1] + m[3])
    return whole, int((m[2] or "").ljust(9, "0"))


def canonical_order(events: list[dict[str, Any]], as_of: str) -> list[dict[str, Any]]:
    """The events up to `as_of` in canonical order. Ids compare by code point, which is the
    order of their UTF-8 bytes (the core's); the sort is stable, so a redelivered copy follows
    its first copy."""
    end = instant_key(as_of)
    kept = [e for e in events if instant_key(e["at"]) <= end]
    return sorted(kept, key=lambda e: (instant_key(e["at"]), KIND_RANK[e["kind"]], e["id"]))


def feed_whole(text: str, as_of: str | None, limits: Any) -> partnerkit.Report:
    """The whole document at once (its events up to `as_of` applied), a snapshot and restore,
    then the report as of `as_of`."""
    engine = partnerkit.Engine.restore(partnerkit.Engine(text, limits).snapshot(), limits)
    assert as_of is not None, "an engine over malformed text cannot be built"
    return engine.report(as_of)


def feed_one(doc: dict[str, Any], limits: Any) -> partnerkit.Report:
    """The plan, partners and FX rates first, then the events one by one in canonical order:
    the first half as dicts through `apply`, then a pickle round trip (a snapshot and
    restore), then the rest as JSON text through `apply_json`. The entries each call returns
    are checked against the report."""
    start = {k: v for k, v in doc.items() if k not in ("events", "as_of")}
    order = canonical_order(doc.get("events", []), doc["as_of"])
    half = len(order) // 2
    engine = partnerkit.Engine(start, limits)
    written: list[Mapping[str, Any]] = []
    for e in order[:half]:
        written.extend(engine.apply(e))
    snapshot = engine.snapshot()
    engine = pickle.loads(pickle.dumps(engine))
    assert engine.snapshot() == snapshot, "a restored engine snapshots to the same bytes"
    for e in order[half:]:
        written.extend(json.loads(engine.apply_json(json.dumps(e))))
    assert engine.events_applied == len({e["id"] for e in order})
    report = engine.report(doc["as_of"])

    # Every entry of the report was returned by the call that applied its event, and once;
    # except entries of periods that only the report's `as_of` closed (earned after the last
    # event: period bonuses, tier true-ups), which no call wrote.
    def ids(entries: list[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((e["id"], str(e["amount"]), e["currency"]) for e in entries)

    last = instant_key(order[-1]["at"]) if order else None
    by_events = [
        e
        for e in json.loads(report.to_json())["entries"]
        if last is not None and instant_key(e["earned_at"]) <= last
    ]
    assert ids(written) == ids(by_events)
    return report
