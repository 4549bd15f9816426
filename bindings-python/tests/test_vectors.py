"""Every conformance vector through every way the Python API takes an input.

Each vector goes in (under its host `limits`, if any) as JSON text, as the dict `json.loads`
gives, as a dict of typed Python values (`Decimal`, aware `datetime`, `date`), with its events
and partners as pandas DataFrames, as pyarrow Tables, and through the incremental `Engine`
(whole, and event by event with a snapshot and restore half-way; `engine_feed.py`). Every way
must give the canonical report byte for byte (`expect_report`) or the expected error code and
path (`expect_error`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import partnerkit
from conftest import canonical, input_text, load, vector_params
from engine_feed import feed_one, feed_whole


def check(v: dict[str, Any], run: Any) -> None:
    """Runs `run()` and compares its outcome with the vector's expectation."""
    if "expect_error" in v:
        with pytest.raises(partnerkit.PartnerkitError) as info:
            run()
        err = info.value
        want = v["expect_error"]
        assert err.code == want["code"], str(err)
        if "path" in want:
            assert err.path == want["path"], str(err)
        assert type(err) is partnerkit._errors.ERRORS[err.code]
        return
    report = run()
    assert report.to_json() == canonical(v["expect_report"])


@pytest.mark.parametrize("path", vector_params())
def test_text(path: Path) -> None:
    v = load(path)
    text = input_text(v)
    limits = v.get("limits")
    check(v, lambda: partnerkit.evaluate(text, limits))
    check(v, lambda: partnerkit.evaluate(text.encode(), limits))
    if limits is not None:
        # Limits as JSON text too.
        check(v, lambda: partnerkit.evaluate(text, json.dumps(limits)))


@pytest.mark.parametrize("path", vector_params())
def test_dict(path: Path) -> None:
    v = load(path)
    if "input_text" in v:
        # Text that is malformed on purpose has no dict form.
        assert v["expect_error"]["code"] == "InvalidJson"
        return
    check(v, lambda: partnerkit.evaluate(v["input"], v.get("limits")))


def typed(value: Any) -> Any:
    """Strings that are exact decimals, aware instants or dates as Python values, wherever
    they stand (ids too): each writes back to the same text or the same instant."""
    if isinstance(value, dict):
        return {k: typed(x) for k, x in value.items()}
    if isinstance(value, list):
        return [typed(x) for x in value]
    if not isinstance(value, str):
        return value
    try:
        d = Decimal(value)
        if str(d) == value and d.is_finite():
            return d
    except InvalidOperation:
        pass
    if len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return t if t.tzinfo is not None and "T" in value else value


@pytest.mark.parametrize("path", vector_params())
def test_typed_dict(path: Path) -> None:
    v = load(path)
    if "input_text" in v:
        assert v["expect_error"]["code"] == "InvalidJson"
        return
    check(v, lambda: partnerkit.evaluate(typed(v["input"]), v.get("limits")))


@pytest.mark.parametrize("path", vector_params())
def test_dataframes(path: Path) -> None:
    v = load(path)
    if "input_text" in v:
        assert v["expect_error"]["code"] == "InvalidJson"
        return
    doc = dict(v["input"])
    for key in ("events", "partners"):
        if key in doc:
            doc[key] = pd.DataFrame(typed(doc[key]))
    check(v, lambda: partnerkit.evaluate(doc, v.get("limits")))


def arrow_table(rows: list[dict[str, Any]]) -> pa.Table:
    # `from_pylist` takes its columns from the first row only: use every row's keys.
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.Table.from_pydict({k: [row.get(k) for row in rows] for k in names})


@pytest.mark.parametrize("path", vector_params())
def test_arrow(path: Path) -> None:
    v = load(path)
    if "input_text" in v:
        assert v["expect_error"]["code"] == "InvalidJson"
        return
    doc = dict(v["input"])
    for key in ("events", "partners"):
        if key in doc:
            try:
                doc[key] = arrow_table(doc[key])
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                # A column Arrow cannot type (a number among strings) is bad input anyway.
                assert "expect_error" in v
                return
    check(v, lambda: partnerkit.evaluate(doc, v.get("limits")))


@pytest.mark.parametrize("path", vector_params())
def test_engine(path: Path) -> None:
    v = load(path)
    as_of = v["input"]["as_of"] if "input" in v else None
    check(v, lambda: feed_whole(input_text(v), as_of, v.get("limits")))
    if "expect_report" in v:
        check(v, lambda: feed_one(v["input"], v.get("limits")))


def test_every_vector_is_found() -> None:
    # The walk reads the directory at test time; make sure it is the real suite.
    assert len(vector_params()) >= 100
    codes = {
        load(p.values[0])["expect_error"]["code"]
        for p in vector_params()
        if "expect_error" in load(p.values[0])
    }
    assert "InvalidJson" in codes and "UnknownField" in codes


def test_report_json_round_trips_through_json() -> None:
    # The canonical JSON is already canonical: re-serializing it changes nothing.
    for p in vector_params():
        v = load(p.values[0])
        if "expect_report" in v:
            text = partnerkit.evaluate(input_text(v), v.get("limits")).to_json()
            assert canonical(json.loads(text)) == text
