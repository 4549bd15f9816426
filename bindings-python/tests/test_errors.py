"""Errors: one class per code, with code, path and message; floats refused; panics contained."""

from __future__ import annotations

import copy
import json
import pickle
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import partnerkit
from partnerkit import _native
from partnerkit._errors import ERRORS


def doc(**events_patch: Any) -> dict[str, Any]:
    """A small valid input; `events_patch` replaces fields of the payment."""
    d: dict[str, Any] = {
        "plan": {
            "schema": "partnerkit/plan@1",
            "id": "p",
            "currency": "USD",
            "rules": [{"id": "r", "reward": {"percent": "10"}}],
        },
        "partners": [{"id": "ana"}],
        "events": [
            {
                "id": "t1",
                "kind": "touch",
                "at": "2026-01-02T00:00:00Z",
                "partner": "ana",
                "customer": "c1",
                "channel": "link",
            },
            {
                "id": "p1",
                "kind": "payment",
                "at": "2026-01-05T00:00:00Z",
                "customer": "c1",
                "amount": "49.99",
                "currency": "USD",
            },
        ],
        "as_of": "2026-03-01T00:00:00Z",
    }
    d["events"][1].update(events_patch)
    return d


def raises(input: Any, code: str, path: str) -> partnerkit.PartnerkitError:
    with pytest.raises(partnerkit.PartnerkitError) as info:
        partnerkit.evaluate(input)
    err = info.value
    assert (err.code, err.path) == (code, path), str(err)
    assert isinstance(err, ERRORS[code])
    return err


def test_one_class_per_core_code() -> None:
    codes = _native.error_codes()
    assert codes == list(ERRORS)
    for code in codes:
        cls = ERRORS[code]
        assert cls.__name__ == f"{code}Error"
        assert issubclass(cls, partnerkit.PartnerkitError)
        assert getattr(partnerkit, cls.__name__) is cls
        # Every code but Internal means the input was wrong.
        assert issubclass(cls, ValueError) == (code != "Internal")


def test_error_fields_and_text() -> None:
    err = raises(doc(currency="XXY"), "UnknownCurrency", "events[1].currency")
    assert "XXY" in err.message
    assert str(err) == f"UnknownCurrency at events[1].currency: {err.message}"
    assert isinstance(err, ValueError)


def test_errors_pickle() -> None:
    err = raises(doc(currency="XXY"), "UnknownCurrency", "events[1].currency")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert (back.code, back.path, back.message) == (err.code, err.path, err.message)


def test_float_money_is_refused_with_its_path() -> None:
    err = raises(doc(amount=49.99), "InvalidValue", "events[1].amount")
    assert "Decimal" in err.message and '"49.99"' in err.message
    # numpy's float64 is a float too.
    raises(doc(amount=np.float64(49.99)), "InvalidValue", "events[1].amount")
    d = doc()
    d["plan"]["rules"][0]["reward"]["percent"] = 10.0
    raises(d, "InvalidValue", "plan.rules[0].reward.percent")
    d = doc()
    d["fx"] = [{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": 1.1}]
    raises(d, "InvalidValue", "fx[0].rate")
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.Plan.from_dict({"schema": "partnerkit/plan@1", "limits": {"x": 1.5}})
    assert info.value.path == "plan.limits.x"


def test_exact_money_is_accepted() -> None:
    want = partnerkit.evaluate(doc()).to_json()
    assert partnerkit.evaluate(doc(amount=Decimal("49.99"))).to_json() == want
    # An exponent form is written out as plain digits.
    assert partnerkit.evaluate(doc(amount=Decimal("4999E-2"))).to_json() == want


def test_integer_money_is_the_cores_to_refuse() -> None:
    # An int is exact, but the document format takes money as strings only (like the CLI).
    err = raises(doc(amount=49), "InvalidValue", "events[1].amount")
    assert "string" in err.message


def test_values_without_a_json_form() -> None:
    err = raises(doc(customer={"c1"}), "InvalidValue", "events[1].customer")
    assert "set" in err.message
    d = doc()
    d["events"][0]["meta"] = {1: "x"}
    raises(d, "InvalidValue", "events[0].meta")
    raises(doc(amount=Decimal("NaN")), "InvalidValue", "events[1].amount")
    raises(doc(customer="c\udc00"), "InvalidValue", "events[1].customer")
    raises('{"as_of": "\udc00"}', "InvalidJson", "")


def test_depth_and_cycles_are_bounded() -> None:
    d = doc()
    deep: dict[str, Any] = {}
    d["events"][0]["meta"] = deep
    for _ in range(200):
        deep["x"] = {}
        deep = deep["x"]
    with pytest.raises(partnerkit.LimitExceededError) as info:
        partnerkit.evaluate(d)
    assert info.value.path.startswith("events[0].meta.x.x")
    assert "deeper" in info.value.message
    d = doc()
    loop: dict[str, Any] = {}
    loop["self"] = loop
    d["events"][0]["meta"] = loop
    with pytest.raises(partnerkit.LimitExceededError):
        partnerkit.evaluate(d)


def test_malformed_text() -> None:
    raises("{", "InvalidJson", "")
    raises(b"\xff", "InvalidJson", "")
    with pytest.raises(partnerkit.InvalidJsonError) as info:
        partnerkit.Plan.from_json("{")
    assert info.value.path == "plan"


def test_core_errors_keep_their_paths() -> None:
    raises(doc(amount="49.999"), "InvalidValue", "events[1].amount")
    raises(doc(extra="x"), "UnknownField", "events[1].extra")
    raises(doc(at="2026-01-05T00:00:00"), "InvalidValue", "events[1].at")
    d = doc()
    d["events"][0]["partner"] = "bob"
    raises(d, "UnknownPartner", "events[0].partner")


def test_plan_validate_lists_every_problem() -> None:
    # An unknown rounding mode and an unknown field (structural problems, in key order); the
    # percent out of range is a semantic one, checked once the structure is sound.
    plan = {
        "schema": "partnerkit/plan@1",
        "id": "many",
        "currency": "USD",
        "rules": [{"id": "r", "reward": {"percent": "150"}}],
        "rounding": "nearest",
        "payoutz": {"period": "month"},
    }
    p = partnerkit.Plan.from_dict(plan)
    problems = p.validate()
    for e in problems:
        assert isinstance(e, partnerkit.PartnerkitError)
        assert e.code in ERRORS
    assert [(e.code, e.path) for e in problems] == [
        ("InvalidValue", "plan.rounding"),
        ("UnknownField", "plan.payoutz"),
    ]
    # The core checks meaning once the structure is sound: then every semantic problem.
    semantic = dict(
        plan,
        rounding="half_up",
        rules=[
            {"id": "a", "reward": {"percent": "150"}},
            {"id": "b", "reward": {"percent": "-1"}},
        ],
    )
    del semantic["payoutz"]
    assert [(e.code, e.path) for e in partnerkit.Plan.from_dict(semantic).validate()] == [
        ("InvalidValue", "plan.rules[0].reward.percent"),
        ("InvalidValue", "plan.rules[1].reward.percent"),
    ]
    # `evaluate` refuses the plan with its first problem, and counts the others.
    d = doc()
    d["plan"] = p
    err = raises(d, problems[0].code, problems[0].path)
    assert "more problem" in err.message
    assert partnerkit.Plan.from_dict(doc()["plan"]).validate() == []


def test_a_panic_is_an_internal_error_and_the_process_lives_on() -> None:
    for _ in range(3):
        with pytest.raises(partnerkit.InternalError) as info:
            _native._debug_panic("boom")
        assert info.value.code == "Internal"
        assert "boom" in info.value.message
        assert not isinstance(info.value, ValueError)
    assert len(partnerkit.evaluate(doc())) == 1


def test_input_is_not_modified() -> None:
    d = doc()
    before = copy.deepcopy(d)
    partnerkit.evaluate(d)
    assert d == before
    assert json.loads(json.dumps(d)) == before
