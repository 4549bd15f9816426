"""The GIL is released while the core works (evaluating, building an engine from a
document, or rebuilding an engine after a failed event): other Python threads run meanwhile.
`Engine.apply` of one dict keeps it for its microseconds of work."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal

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


def assert_others_run_during(call: Callable[[], object]) -> None:
    """Runs `call` on a thread of its own and counts this thread's loop turns meanwhile.

    Held, the turns would be what fits in ~2 switch intervals (10 ms); released, a good
    share of the whole call. The call takes far longer than 10 ms (asserted, not assumed).
    """
    rate = spin(0.05) / 0.05  # loop turns per second on this machine, now
    started, done = threading.Event(), threading.Event()
    took: list[float] = []

    def worker() -> None:
        started.set()
        t0 = time.perf_counter()
        call()
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
    assert took[0] > 0.1
    assert turns > rate * min(took[0] * 0.25, 0.05), (turns, rate, took)


@pytest.mark.parametrize(
    "call", [partnerkit.evaluate, partnerkit.Engine], ids=["evaluate", "Engine"]
)
def test_other_threads_run_during_core_work(call: Callable[[str], object]) -> None:
    # Text input: the whole call is core work, so with the GIL held this thread could not run
    # at all until it returned (beyond a switch interval or two). An engine built from a
    # document applies its events in the core just as `evaluate` does.
    text = slow_input()
    assert_others_run_during(lambda: call(text))


def test_other_threads_run_while_a_failed_apply_rebuilds_the_engine() -> None:
    # `apply` of one event dict holds the GIL: its fold takes microseconds, less than
    # releasing and retaking the GIL would cost. An event that fails half-way makes the
    # engine rebuild itself from its log, as long as evaluating the whole log: that part
    # runs with the GIL released. A second touch for c1 past `max_touches_per_customer`
    # fails after the fraud checks saw it, so the engine rebuilds.
    text = slow_input()
    engine = partnerkit.Engine(text, {"max_touches_per_customer": 1})
    applied, report = engine.events_applied, engine.report("2026-02-01T00:00:00Z").to_json()
    again = {
        "id": "t2",
        "kind": "touch",
        "at": dt.datetime(2026, 1, 6, tzinfo=dt.UTC),
        "partner": "ana",
        "customer": "c1",
        "channel": "link",
    }
    failed: list[BaseException] = []

    def fail() -> None:
        try:
            engine.apply(again)
        except partnerkit.LimitExceededError as e:
            failed.append(e)

    assert_others_run_during(fail)
    assert [type(e) for e in failed] == [partnerkit.LimitExceededError]
    # The engine is as it was, and goes on.
    assert engine.events_applied == applied
    assert engine.report("2026-02-01T00:00:00Z").to_json() == report
    [entry] = engine.apply(
        {
            "id": "p-next",
            "kind": "payment",
            "at": dt.datetime(2026, 1, 7, tzinfo=dt.UTC),
            "customer": "c1",
            "amount": Decimal("10.00"),
            "currency": "USD",
        }
    )
    assert entry["amount"] == Decimal("1.00")
