"""The GIL is released while the core works (evaluating, or building an engine from a
document): other Python threads run meanwhile."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest

import partnerkit
from test_errors import doc


def big_input(payments: int) -> str:
    d = doc()
    events = [d["events"][0]]
    for i in range(payments):
        events.append(
            {
                "id": f"p{i:07}",
                "kind": "payment",
                "at": "2026-01-05T00:00:00Z",
                "customer": "c1",
                "amount": "1.00",
                "currency": "USD",
            }
        )
    d["events"] = events
    return json.dumps(d)


def slow_input() -> str:
    """An input whose evaluation takes a good fraction of a second on this machine."""
    n = 10_000
    while True:
        text = big_input(n)
        t0 = time.perf_counter()
        partnerkit.evaluate(text)
        if time.perf_counter() - t0 > 0.3 or n >= 1_000_000:
            return text
        n *= 2


def spin(seconds: float) -> int:
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        n += 1
    return n


@pytest.mark.parametrize(
    "call", [partnerkit.evaluate, partnerkit.Engine], ids=["evaluate", "Engine"]
)
def test_other_threads_run_during_core_work(call: Callable[[str], object]) -> None:
    # Text input: the whole call is core work, so with the GIL held this thread could not run
    # at all until it returned (beyond a switch interval or two). An engine built from a
    # document applies its events in the core just as `evaluate` does.
    text = slow_input()
    rate = spin(0.05) / 0.05  # loop turns per second on this machine, now
    started, done = threading.Event(), threading.Event()
    took: list[float] = []

    def worker() -> None:
        started.set()
        t0 = time.perf_counter()
        call(text)
        took.append(time.perf_counter() - t0)
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    turns = 0
    while not done.is_set():
        turns += 1
        time.perf_counter()  # the same work per turn as in `spin`
    t.join()
    # Held, turns would be what fits in ~2 switch intervals (10 ms); released, a good share
    # of the whole call. The call takes far longer than 10 ms (asserted, not assumed).
    assert took[0] > 0.1
    assert turns > rate * min(took[0] * 0.25, 0.05), (turns, rate, took)
