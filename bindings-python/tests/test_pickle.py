"""Plans travel to worker processes by pickling; so do errors raised there."""

from __future__ import annotations

import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import partnerkit
from test_errors import doc


def work(plan: partnerkit.Plan, amount: str) -> str:
    """Runs in a worker: evaluates with the plan the parent sent."""
    d: dict[str, Any] = doc(amount=amount)
    d["plan"] = plan
    return partnerkit.evaluate(d).to_json()


def test_plan_pickles() -> None:
    plan = partnerkit.Plan.from_dict(doc()["plan"])
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(plan, protocol=protocol))
        assert isinstance(back, partnerkit.Plan)
        assert back == plan and hash(back) == hash(plan)
        assert back.to_json() == plan.to_json()
    assert json.loads(plan.to_json()) == doc()["plan"]
    assert partnerkit.Plan.from_json(plan.to_json().encode()) == plan
    with pytest.raises(TypeError):
        partnerkit.Plan.from_dict(plan.to_json())  # type: ignore[arg-type]


def test_plans_and_errors_travel_to_worker_processes() -> None:
    plan = partnerkit.Plan.from_dict(doc()["plan"])
    amounts = ["49.99", "10.00", "0.05"]
    want = [work(plan, a) for a in amounts]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert list(pool.map(work, [plan] * 3, amounts)) == want
        with pytest.raises(partnerkit.InvalidValueError) as info:
            pool.submit(work, plan, "0.001").result()
    assert info.value.path == "events[1].amount"
