"""`evaluate_arrow(..., columns=...)`: only the ledger columns asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

import partnerkit
from test_arrow import PLAN, frame

# The ledger's columns in the order every table holds them.
CANONICAL = [
    "id",
    "partner",
    "kind",
    "event",
    "customer",
    "rule",
    "amount",
    "currency",
    "status",
    "earned_at",
    "available_at",
]
AS_OF = "2026-03-25T00:00:00Z"
# A plan the fast path does not compile: the canonical path runs and must honour `columns`.
LINEAR = dict(PLAN, attribution={"model": "linear"})


def run(plan: dict[str, Any], **kw: Any) -> partnerkit.ArrowResult:
    return partnerkit.evaluate_arrow(plan, pa.table(frame()), partners=["ana"], as_of=AS_OF, **kw)


def plans() -> Iterator[tuple[dict[str, Any], bool]]:
    """Each plan with whether the fast path runs it natively."""
    yield PLAN, True
    yield LINEAR, False


def test_the_default_is_every_column() -> None:
    for plan, native in plans():
        res = run(plan)
        assert (res.fallback is None) == native
        assert res.ledger.column_names == CANONICAL
        assert res.ledger.num_rows == 3


def test_each_single_column_is_that_column_of_the_full_table() -> None:
    for plan, native in plans():
        full = run(plan)
        for name in CANONICAL:
            res = run(plan, columns=[name])
            assert (res.fallback is None) == native
            assert res.ledger.column_names == [name]
            assert res.ledger.num_rows == full.ledger.num_rows
            assert res.ledger.equals(full.ledger.select([name])), (plan, name)
            assert res.totals.equals(full.totals), (plan, name)


def test_a_subset_comes_in_the_canonical_order() -> None:
    for plan, _ in plans():
        full = run(plan)
        for names in (
            ["earned_at", "amount"],
            ("status", "partner", "amount", "earned_at"),
            ["available_at", "rule", "id", "customer", "event", "kind", "currency"],
            list(reversed(CANONICAL)),
        ):
            res = run(plan, columns=names)
            order = [c for c in CANONICAL if c in names]
            assert res.ledger.column_names == order
            assert res.ledger.equals(full.ledger.select(order)), (plan, names)
            assert res.totals.equals(full.totals)


def test_explain_must_be_named_with_explanations() -> None:
    full = run(PLAN, explain=True)
    assert full.ledger.column_names == [*CANONICAL, "explain"]
    res = run(PLAN, explain=True, columns=["explain", "amount"])
    assert res.ledger.column_names == ["amount", "explain"]
    assert res.ledger.equals(full.ledger.select(["amount", "explain"]))
    assert res.totals.equals(full.totals)
    with pytest.raises(partnerkit.InvalidValueError) as dropped:
        run(PLAN, explain=True, columns=["amount"])
    assert dropped.value.path == "columns"
    assert "explain" in dropped.value.message
    with pytest.raises(partnerkit.InvalidValueError) as unexplained:
        run(PLAN, columns=["amount", "explain"])
    assert unexplained.value.path == "columns[1]"


def test_unknown_and_repeated_names_are_all_reported() -> None:
    with pytest.raises(partnerkit.UnknownFieldError) as unknown:
        run(PLAN, columns=["amount", "amout"])
    assert (unknown.value.code, unknown.value.path) == ("UnknownField", "columns[1]")
    assert "not a ledger column" in unknown.value.message
    with pytest.raises(partnerkit.InvalidValueError) as twice:
        run(PLAN, columns=["amount", "status", "amount"])
    assert (twice.value.code, twice.value.path) == ("InvalidValue", "columns[2]")
    assert "columns[0]" in twice.value.message
    # Several at once: the first one's code and path, every other one in the message.
    with pytest.raises(partnerkit.PartnerkitError) as many:
        run(PLAN, columns=["status", "status", "Amount", "id", "nope"])
    assert (many.value.code, many.value.path) == ("InvalidValue", "columns[1]")
    assert "columns[2]" in many.value.message
    assert "columns[4]" in many.value.message
    assert "columns[3]" not in many.value.message


def test_no_column_and_wrong_types_are_refused() -> None:
    with pytest.raises(partnerkit.InvalidValueError) as empty:
        run(PLAN, columns=[])
    assert empty.value.path == "columns"
    with pytest.raises(partnerkit.InvalidValueError) as text:
        run(PLAN, columns="amount")
    assert text.value.path == "columns"
    with pytest.raises(partnerkit.InvalidValueError) as number:
        run(PLAN, columns=["amount", 3])
    assert number.value.path == "columns[1]"
    with pytest.raises(partnerkit.InvalidValueError) as scalar:
        run(PLAN, columns=3)
    assert scalar.value.path == "columns"


def test_columns_are_checked_before_the_events() -> None:
    # The events are bad too (a float amount): the columns' error comes first, before any
    # evaluation.
    f = frame()
    f["amount"] = [None, 49.0, 100.0, 50.0]
    with pytest.raises(partnerkit.UnknownFieldError) as e:
        partnerkit.evaluate_arrow(
            PLAN, pa.table(f), partners=["ana"], as_of=AS_OF, columns=["amout"]
        )
    assert e.value.path == "columns[0]"
