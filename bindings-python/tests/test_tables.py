"""Events and partners as pandas DataFrames and pyarrow Tables, with typed columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import partnerkit

PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "p",
    "currency": "USD",
    "rules": [{"id": "r", "reward": {"percent": "10"}}],
}
UTC = dt.UTC


def rows() -> list[dict[str, Any]]:
    """Events of three kinds: each row has only its kind's fields."""
    return [
        {
            "id": "t1",
            "kind": "touch",
            "at": dt.datetime(2026, 1, 2, tzinfo=UTC),
            "partner": "ana",
            "customer": "c1",
            "channel": "link",
            "meta": {"src": "blog"},
        },
        {
            "id": "p1",
            "kind": "payment",
            "at": dt.datetime(2026, 1, 5, tzinfo=UTC),
            "customer": "c1",
            "amount": Decimal("49.99"),
            "currency": "USD",
        },
        {
            "id": "r1",
            "kind": "refund",
            "at": dt.datetime(2026, 1, 9, 12, 30, tzinfo=UTC),
            "payment": "p1",
            "amount": Decimal("20.00"),
        },
    ]


def doc(events: Any, partners: Any = None) -> dict[str, Any]:
    return {
        "plan": PLAN,
        "partners": partners if partners is not None else [{"id": "ana"}],
        "events": events,
        "as_of": "2026-03-01T00:00:00Z",
    }


WANT = partnerkit.evaluate(doc(rows())).to_json()


def test_pandas_typed_columns() -> None:
    df = pd.DataFrame(rows())
    assert "UTC" in str(df["at"].dtype)
    assert partnerkit.evaluate(doc(df)).to_json() == WANT
    # Money as strings, instants as strings: the same report.
    df2 = pd.DataFrame(rows())
    df2["amount"] = [None, "49.99", "20.00"]
    df2["at"] = [r["at"].isoformat() for r in rows()]
    assert partnerkit.evaluate(doc(df2)).to_json() == WANT


def test_pandas_float_money_is_refused_at_its_row() -> None:
    df = pd.DataFrame(rows())
    df["amount"] = [None, 49.99, 20.0]
    assert df["amount"].dtype == "float64"
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.evaluate(doc(df))
    assert info.value.path == "events[1].amount"
    assert "Decimal" in info.value.message


def test_pandas_partners() -> None:
    partners = pd.DataFrame([{"id": "ana", "segment": "affiliate"}, {"id": "bob"}])
    want = partnerkit.evaluate(
        doc(rows(), [{"id": "ana", "segment": "affiliate"}, {"id": "bob"}])
    ).to_json()
    assert partnerkit.evaluate(doc(pd.DataFrame(rows()), partners)).to_json() == want


def arrow_events(tz: str = "UTC") -> pa.Table:
    r = rows()
    return pa.table(
        {
            "id": pa.array([e["id"] for e in r]),
            "kind": pa.array([e["kind"] for e in r]).dictionary_encode(),
            "at": pa.array([e["at"] for e in r], pa.timestamp("us", tz=tz)),
            "partner": pa.array([e.get("partner") for e in r]),
            "customer": pa.array([e.get("customer") for e in r]),
            "channel": pa.array([e.get("channel") for e in r]),
            "meta": pa.array([e.get("meta") for e in r], pa.map_(pa.string(), pa.string())),
            "amount": pa.array([e.get("amount") for e in r], pa.decimal128(12, 2)),
            "currency": pa.array([e.get("currency") for e in r]),
            "payment": pa.array([e.get("payment") for e in r]),
        }
    )


def test_arrow_typed_columns() -> None:
    assert partnerkit.evaluate(doc(arrow_events())).to_json() == WANT
    # Another zone: the same instants.
    assert partnerkit.evaluate(doc(arrow_events("Asia/Tokyo"))).to_json() == WANT
    # A record batch, and a struct column for meta.
    assert partnerkit.evaluate(doc(arrow_events().to_batches()[0])).to_json() == WANT
    t = arrow_events()
    i = t.column_names.index("meta")
    t = t.set_column(i, "meta", pa.array([{"src": "blog"}, None, None]))
    assert partnerkit.evaluate(doc(t)).to_json() == WANT


def test_arrow_seconds_and_nanoseconds() -> None:
    for unit in ("s", "ms", "ns"):
        t = arrow_events()
        i = t.column_names.index("at")
        t = t.set_column(i, "at", t.column("at").cast(pa.timestamp(unit, "UTC")))
        assert partnerkit.evaluate(doc(t)).to_json() == WANT


def test_arrow_naive_timestamps_and_floats_are_refused() -> None:
    t = arrow_events()
    i = t.column_names.index("at")
    naive = t.set_column(i, "at", t.column("at").cast(pa.timestamp("us")))
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.evaluate(doc(naive))
    assert info.value.path == "events[0].at"
    i = t.column_names.index("amount")
    floats = t.set_column(i, "amount", t.column("amount").cast(pa.float64()))
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.evaluate(doc(floats))
    assert info.value.path == "events[1].amount"


def test_arrow_partners_and_fx() -> None:
    partners = pa.table({"id": ["ana", "bob"], "segment": ["affiliate", None]})
    fx = pa.table(
        {
            "date": pa.array([dt.date(2026, 1, 1)]),
            "from": ["EUR"],
            "to": ["USD"],
            "rate": pa.array([Decimal("1.1")], pa.decimal128(6, 4)),
        }
    )
    d = doc(arrow_events(), partners)
    d["fx"] = fx
    want = doc(rows(), [{"id": "ana", "segment": "affiliate"}, {"id": "bob"}])
    want["fx"] = [{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.1000"}]
    assert partnerkit.evaluate(d).to_json() == partnerkit.evaluate(want).to_json()


def test_empty_tables() -> None:
    empty = partnerkit.evaluate(doc([])).to_json()
    assert partnerkit.evaluate(doc(pd.DataFrame())).to_json() == empty
    assert partnerkit.evaluate(doc(arrow_events().slice(0, 0))).to_json() == empty


def test_zoned_timestamps_in_any_zone_and_unit() -> None:
    df = pd.DataFrame(rows())
    df["at"] = df["at"].dt.tz_convert("Europe/Paris").dt.as_unit("ns")
    assert partnerkit.evaluate(doc(df)).to_json() == WANT
    df["at"] = df["at"].dt.as_unit("s")
    assert partnerkit.evaluate(doc(df)).to_json() == WANT


def test_missing_timestamps_are_absent_fields() -> None:
    joined = pd.to_datetime(["2025-06-01T00:00:00Z", None], utc=True)
    partners = pd.DataFrame({"id": ["ana", "bob"], "joined_at": joined})
    want = partnerkit.evaluate(
        doc(rows(), [{"id": "ana", "joined_at": "2025-06-01T00:00:00Z"}, {"id": "bob"}])
    ).to_json()
    assert partnerkit.evaluate(doc(rows(), partners)).to_json() == want
    arrow_partners = pa.table(
        {
            "id": ["ana", "bob"],
            "joined_at": pa.array(
                [dt.datetime(2025, 6, 1, tzinfo=UTC), None], pa.timestamp("ms", "UTC")
            ),
        }
    )
    assert partnerkit.evaluate(doc(rows(), arrow_partners)).to_json() == want


def test_timestamps_before_the_epoch_and_beyond_year_9999() -> None:
    partners = pa.table(
        {"id": ["ana"], "joined_at": pa.array([-1_500_000], pa.timestamp("ms", "UTC"))}
    )
    want = doc(rows(), [{"id": "ana", "joined_at": "1969-12-31T23:35:00Z"}])
    assert (
        partnerkit.evaluate(doc(rows(), partners)).to_json() == partnerkit.evaluate(want).to_json()
    )
    t = arrow_events()
    i = t.column_names.index("at")
    far = pa.array([253_402_300_800 * 10**6] * 3, pa.timestamp("us", "UTC"))  # year 10000
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.evaluate(doc(t.set_column(i, "at", far)))
    assert info.value.path == "events[0].at"
