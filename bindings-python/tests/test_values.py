"""Typed values out (to_dict, DataFrames, balances) and in (Decimal, datetime, date)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import partnerkit
from conftest import input_text, load, vector_params
from test_errors import doc


def encode(value: Any) -> str:
    """Python values back to the canonical strings (what the core writes)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        assert value.tzinfo is dt.UTC
        text = value.isoformat().replace("+00:00", "Z")
        # The canonical form shows fractional seconds only when non-zero, in 3, 6 or 9 digits.
        return text.replace(".000Z", "Z").replace("000Z", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def reports() -> list[Any]:
    return [p for p in vector_params() if "expect_report" in load(p.values[0])]


@pytest.mark.parametrize("path", reports())
def test_to_dict_round_trips_to_the_canonical_bytes(path: Path) -> None:
    report = partnerkit.evaluate(input_text(load(path)))
    d = report.to_dict()
    assert isinstance(d["as_of"], dt.datetime) and d["as_of"].tzinfo is not None
    for e in d["entries"]:
        assert isinstance(e["amount"], Decimal) and isinstance(e["earned_at"], dt.datetime)
    for s in d["statements"]:
        assert isinstance(s["closing_balance"], Decimal) and isinstance(s["due"], dt.date)
    back = json.dumps(d, separators=(",", ":"), ensure_ascii=False, default=encode)
    assert back == report.to_json()


@pytest.mark.parametrize("path", reports())
def test_to_dict_is_what_the_typing_hook_reads(path: Path) -> None:
    # `to_dict()` reads the canonical JSON natively; the facade's `_typed` hook over
    # `json.loads` is the reference: the same dicts, key order and types (`repr` tells
    # Decimal("5.00") from Decimal("5.0") and a str from a Decimal).
    text = partnerkit.evaluate(input_text(load(path))).to_json()
    want = json.loads(text, object_pairs_hook=partnerkit._typed)
    assert repr(partnerkit.evaluate(input_text(load(path))).to_dict()) == repr(want)


def test_typed_json_keys_and_values_past_its_caches() -> None:
    # The native reader keeps interned keys, and the typed values it made, in two hashed
    # tables of 1,024 slots shared by every call: 3,000 keys of one length and some 9,000
    # distinct values must share slots, and values equal but for their scale ("5.0",
    # "5.00"), or equal text under keys of other types, must not be taken for one another.
    # Read three times: cold tables, warm ones, and ones that other keys and values went
    # through in between.
    rows = {
        f"k{i:04}": {
            "amount": f"{i % 7}.{'0' * (i % 3)}".rstrip("."),
            "base": f"{i}.{'0' * (i % 3)}".rstrip("."),
            "earned_at": f"2026-0{1 + i % 9}-01T00:00:{i % 60:02}Z",
            "due": f"2026-0{1 + i % 9}-{1 + i % 28:02}",
            "note": f"{i % 7}",
            "rate": [f"{i % 5}.5"],
        }
        for i in range(3_000)
    }
    text = json.dumps({"rows": rows, "amount": "5.0", "fee": "5.00", "total": "5.00"})
    want = repr(json.loads(text, object_pairs_hook=partnerkit._typed))
    other = json.dumps({f"z{i:04}": {"amount": f"{i}.5"} for i in range(3_000)})
    for _ in range(2):
        assert repr(partnerkit._native._typed_json(text)) == want
    partnerkit._native._typed_json(other)
    assert repr(partnerkit._native._typed_json(text)) == want
    # The serializer that builds entries and reports from the core's views, on the same
    # document: a list under a typed key keeps its strings, nulls, numbers and booleans
    # stay what JSON reads.
    extra = json.dumps({"rows": rows, "n": 3, "ok": True, "none": None, "amount": ["1.5"]})
    for source in (text, extra):
        hooked = repr(json.loads(source, object_pairs_hook=partnerkit._typed))
        assert repr(partnerkit._native._typed_serialized(source)) == hooked


def test_typed_values_are_made_once_per_text() -> None:
    # `Decimal`, `datetime` and `date` values are immutable, so the reader hands out the
    # value it made for a text while its table holds it, to every call: an entry read
    # twice, two entries with the same amounts, and a report's entries share their objects
    # (a `Decimal` costs about 1,500 instructions to make; bench/README, twenty-third
    # session). Equal values of another scale stay their own.
    text = json.dumps({"amount": "5.00", "base": "5.00", "credited": "5.0", "due": "2026-02-01"})
    first, again = partnerkit._native._typed_json(text), partnerkit._native._typed_json(text)
    assert first["amount"] is first["base"] is again["amount"]
    assert first["due"] is again["due"] and first["due"] == dt.date(2026, 2, 1)
    assert first["credited"] == first["amount"] and first["credited"] is not first["amount"]
    assert str(first["credited"]) == "5.0"
    # A text made into a `Decimal` is not a date: the date reader still refuses it.
    with pytest.raises(ValueError, match="isoformat"):
        partnerkit._native._typed_json(json.dumps({"due": "5.00"}))
    report = partnerkit.evaluate(input_text(load(reports()[0].values[0])))
    one, two = report.to_dict()["entries"][0], report.to_dict()["entries"][0]
    assert one == two and one["amount"] is two["amount"]
    assert one["earned_at"] is two["earned_at"]


@pytest.mark.parametrize("path", reports())
def test_dataframes_match_to_dict(path: Path) -> None:
    report = partnerkit.evaluate(input_text(load(path)))
    d = report.to_dict()
    for frame, rows, nested in (
        (report.entries_df(), d["entries"], "explain"),
        (report.statements_df(), d["statements"], "lines"),
    ):
        want = [{k: v for k, v in row.items() if k != nested} for row in rows]
        assert list(frame.columns) == (list(want[0]) if want else list(frame.columns))
        got = frame.to_dict("records")
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            for k, v in w.items():
                if v is None:
                    assert pd.isna(g[k]), (k, g[k])
                else:
                    assert g[k] == v, (k, g[k], v)


def test_dataframe_types() -> None:
    d = doc()
    d["plan"]["payouts"] = {"net_days": 5}
    report = partnerkit.evaluate(d)
    entries = report.entries_df()
    assert entries["amount"].tolist() == [Decimal("5.00")]
    assert str(entries["earned_at"].dtype) == "datetime64[us, UTC]" or "UTC" in str(
        entries["earned_at"].dtype
    )
    statements = report.statements_df()
    assert statements["payable"].tolist() == [True]
    assert statements["due"].tolist() == [dt.date(2026, 3, 5)]
    assert statements["payout"].tolist() == [Decimal("5.00")]


def test_empty_report_frames() -> None:
    d = doc()
    d["events"] = []
    report = partnerkit.evaluate(d)
    assert len(report) == 0
    assert report.entries_df().empty and "amount" in report.entries_df().columns
    assert report.statements_df().empty


def test_to_dict_keeps_digits_and_nulls() -> None:
    d = doc()
    d["plan"]["currency"] = "JPY"
    d["events"][1].update(amount="4999", currency="JPY")
    out = partnerkit.evaluate(d).to_dict()
    e = out["entries"][0]
    assert str(e["amount"]) == "500"  # 4999 × 10% = 499.9 → half_up 500 (JPY has no decimals)
    assert e["explain"]["base"]["amount"] == Decimal("4999")
    assert out["metrics"]["program"]["epc"] == Decimal("500")
    assert e["explain"]["attribution"]["touches"][0]["excluded"] is None
    assert out["entries"][0]["available_at"] == dt.datetime(2026, 2, 4, tzinfo=dt.UTC)


def test_balances_are_decimals() -> None:
    d = doc()
    d["as_of"] = "2026-01-20T00:00:00Z"  # 49.99 × 10% = 4.999 → 5.00, pending until Feb 4
    report = partnerkit.evaluate(d)
    assert report.balances("ana") == {"USD": partnerkit.Balance(Decimal("5.00"), Decimal("0.00"))}
    assert report.balances("nobody") == {}


def test_aware_datetimes_in_any_zone_and_dates() -> None:
    want = partnerkit.evaluate(doc()).to_json()
    paris = ZoneInfo("Europe/Paris")
    d = doc(at=dt.datetime(2026, 1, 5, 1, 0, tzinfo=paris))  # = 00:00 UTC
    d["events"][0]["at"] = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    d["as_of"] = pd.Timestamp("2026-03-01T00:00:00Z")
    assert partnerkit.evaluate(d).to_json() == want
    # A date stands where the format wants a date (FX rates).
    d = doc(currency="EUR", amount=Decimal("10.00"))
    d["fx"] = [{"date": dt.date(2026, 1, 1), "from": "EUR", "to": "USD", "rate": Decimal("1.1")}]
    out = partnerkit.evaluate(d).to_dict()
    assert out["entries"][0]["amount"] == Decimal("1.00")


def test_naive_datetime_is_refused_at_its_path() -> None:
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.evaluate(doc(at=dt.datetime(2026, 1, 5)))
    assert info.value.path == "events[1].at"


def test_plan_objects_and_mappings_as_input() -> None:
    want = partnerkit.evaluate(doc()).to_json()
    d = doc()
    d["plan"] = partnerkit.Plan.from_dict(d["plan"])
    assert partnerkit.evaluate(d).to_json() == want
    d["plan"] = partnerkit.Plan.from_json(json.dumps(doc()["plan"]))
    assert partnerkit.evaluate(d).to_json() == want
    tuples = doc()
    tuples["events"] = tuple(tuples["events"])
    assert partnerkit.evaluate(tuples).to_json() == want


def test_report_repr() -> None:
    r = partnerkit.evaluate(doc())
    assert repr(r) == '<Report plan="p" as_of=2026-03-01T00:00:00Z entries=1 statements=1>'
