"""The incremental Engine from Python (the vector suite also feeds every vector through it):
entries per event, ordering and redeliveries, snapshots and pickling, partners and FX rates
between events, host limits, and errors for every misuse."""

from __future__ import annotations

import copy
import datetime as dt
import json
import multiprocessing
import pickle
import re
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import partnerkit
from partnerkit import PartnerBalance

ROOT = Path(__file__).parents[2]
PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "affiliates",
    "currency": "USD",
    "rules": [{"id": "base", "reward": {"percent": "20"}}],
}
START: dict[str, Any] = {"plan": PLAN, "partners": [{"id": "ana"}]}
UTC = dt.UTC
TOUCH = {
    "id": "t1",
    "kind": "touch",
    "at": "2026-01-10T09:00:00Z",
    "partner": "ana",
    "customer": "c1",
    "channel": "link",
}
PAYMENT = {
    "id": "p1",
    "kind": "payment",
    "at": dt.datetime(2026, 1, 15, 12, tzinfo=UTC),
    "customer": "c1",
    "amount": Decimal("49.00"),
    "currency": "USD",
}
REFUND = {
    "id": "r1",
    "kind": "refund",
    "at": "2026-01-20T00:00:00Z",
    "payment": "p1",
    "amount": "19.60",
}
MARCH = "2026-03-01T00:00:00Z"


def engine_with_payment() -> partnerkit.Engine:
    engine = partnerkit.Engine(START)
    engine.apply(TOUCH)
    engine.apply(PAYMENT)
    return engine


@contextmanager
def raises(code: str, path: str, message: str = "") -> Iterator[None]:
    """Expects a coded error of exactly the class of its code."""
    with pytest.raises(partnerkit.PartnerkitError) as info:
        yield
    err = info.value
    assert (err.code, err.path) == (code, path), str(err)
    assert type(err) is partnerkit._errors.ERRORS[code]
    assert re.search(message, err.message), err.message


def test_apply_returns_the_entries_each_event_wrote_typed() -> None:
    engine = partnerkit.Engine(START)
    assert engine.apply(TOUCH) == []
    [entry] = engine.apply(PAYMENT)
    # 49.00 × 20% = 9.80, held 30 days from 15 Jan: pending as of the payment.
    assert entry["amount"] == Decimal("9.80") and str(entry["amount"]) == "9.80"
    assert entry["status"] == "pending"
    assert entry["available_at"] == dt.datetime(2026, 2, 14, 12, tzinfo=UTC)
    assert entry["explain"]["reward"]["percent"] == Decimal("20")
    # 19.60 of 49.00 refunded (40%): the reversal takes 40% of 9.80 = 3.92.
    text = engine.apply_json(REFUND)
    assert text.startswith('[{"id":"reversal:') and '"amount":"-3.92"' in text
    assert engine.events_applied == 3
    assert repr(engine) == "<Engine events_applied=3>"


def test_reports_balances_and_statements_are_those_of_evaluate() -> None:
    engine = engine_with_payment()
    for as_of in ("2026-01-12T00:00:00Z", "2026-01-20T00:00:00Z", MARCH):
        batch = partnerkit.evaluate({**START, "events": [PAYMENT, TOUCH], "as_of": as_of})
        assert engine.report(as_of).to_json() == batch.to_json()
        assert engine.statements("ana", as_of) == batch.to_dict()["statements"]
    # An aware datetime in any zone stands for an instant.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert engine.report(dt.datetime(2026, 3, 1, 1, tzinfo=paris)).to_json() == (
        engine.report(MARCH).to_json()
    )

    # Earned 15 Jan with the default 30-day hold: available 14 Feb, so a credit of February's
    # statement, which exists once February closes (1 Mar) and is due by then (its last day,
    # NET 0): paid as of 1 March.
    def usd(pending: str, available: str, paid: str) -> dict[str, PartnerBalance]:
        return {"USD": PartnerBalance(Decimal(pending), Decimal(available), Decimal(paid))}

    assert engine.balance("ana", "2026-01-20T00:00:00Z") == usd("9.80", "0.00", "0.00")
    assert engine.balance("ana", "2026-02-28T23:59:59Z") == usd("0.00", "9.80", "0.00")
    assert engine.balance("ana", dt.datetime(2026, 3, 1, tzinfo=UTC)) == usd("0.00", "0.00", "9.80")
    assert engine.balance("ana", "2026-01-01T00:00:00Z") == {}
    [february] = engine.statements("ana", MARCH)
    assert (february["period"], february["payout"], february["status"]) == (
        "2026-02",
        Decimal("9.80"),
        "paid",
    )
    assert february["due"] == dt.date(2026, 2, 28)


def test_an_earlier_event_is_late_and_changes_nothing() -> None:
    engine = engine_with_payment()
    before = engine.snapshot()
    early = {**TOUCH, "id": "t0", "at": "2026-01-11T00:00:00Z"}
    with raises("LateEvent", "events[0]", "re-evaluate from the event log"):
        engine.apply(early)
    assert isinstance(partnerkit.LateEventError("LateEvent", "", ""), ValueError)
    assert engine.events_applied == 2
    assert engine.snapshot() == before


def test_a_redelivery_is_a_counted_no_op_and_a_change_conflicts() -> None:
    engine = engine_with_payment()
    assert engine.apply(PAYMENT) == []
    assert (
        engine.apply_json(
            '{"id": "t1", "kind": "touch", "at": "2026-01-10T09:00:00Z", '
            '"partner": "ana", "customer": "c1", "channel": "link"}'
        )
        == "[]"
    )
    assert engine.events_applied == 2
    assert engine.report(MARCH).to_dict()["duplicates_ignored"] == 2
    with raises("ConflictingEvent", "events[0]", "already applied.*new id"):
        engine.apply({**PAYMENT, "amount": Decimal("50.00")})
    assert engine.report(MARCH).to_dict()["duplicates_ignored"] == 2


def test_a_batch_is_all_or_nothing_in_canonical_order() -> None:
    engine = partnerkit.Engine(START)
    with raises("RefundExceedsPayment", "events[2].amount"):
        engine.apply([PAYMENT, TOUCH, {**REFUND, "amount": "99.00"}])
    assert engine.events_applied == 0
    entries = engine.apply([REFUND, PAYMENT, TOUCH])
    assert [e["amount"] for e in entries] == [Decimal("9.80"), Decimal("-3.92")]
    # A DataFrame of events (a null cell is an absent field) works like a list.
    other = partnerkit.Engine(START)
    frame = pd.DataFrame([TOUCH, {**PAYMENT, "at": "2026-01-15T12:00:00Z"}, REFUND])
    assert other.apply(frame) == entries


def test_an_engines_apply_is_the_native_method_and_does_what_the_class_says() -> None:
    # `engine.apply` is the native method itself (`Engine._bind`: a webhook's call runs no
    # Python in between), on every way an engine comes to be.
    made = partnerkit.Engine(START)
    for engine in (
        made,
        partnerkit.Engine.restore(made.snapshot()),
        pickle.loads(pickle.dumps(made)),
        copy.deepcopy(made),
    ):
        assert engine.apply.__self__ is engine._engine  # type: ignore[attr-defined]
    # It must do what `Engine.apply` on the class does, for each form of input: entries,
    # reports and errors alike.
    paid = {**PAYMENT, "at": "2026-01-15T12:00:00Z", "amount": "49.00"}
    forms: list[Any] = [
        [TOUCH, PAYMENT, REFUND],
        json.dumps([TOUCH, paid, REFUND]),
        pd.DataFrame([TOUCH, paid, REFUND]),
        pa.Table.from_pandas(pd.DataFrame([TOUCH, paid, REFUND])),
        pa.RecordBatch.from_pandas(pd.DataFrame([TOUCH, paid, REFUND])),
    ]
    for form in forms:
        bound, unbound = partnerkit.Engine(START), partnerkit.Engine(START)
        got = bound.apply(form)
        assert got == partnerkit.Engine.apply(unbound, form), type(form)
        assert [e["amount"] for e in got] == [Decimal("9.80"), Decimal("-3.92")]
        assert bound.report(MARCH).to_json() == unbound.report(MARCH).to_json()
    too_much = pd.DataFrame([TOUCH, paid, {**REFUND, "amount": "49.01"}])
    for apply in (
        partnerkit.Engine(START).apply,
        partial(partnerkit.Engine.apply, partnerkit.Engine(START)),
    ):
        with raises("RefundExceedsPayment", "events[2].amount"):
            apply(too_much)
    # A subclass's own `apply` is not shadowed; one that keeps the facade's is bound too.

    class Counting(partnerkit.Engine):
        calls = 0

        def apply(self, events: Any) -> list[partnerkit.Entry]:
            Counting.calls += 1
            return super().apply(events)

    class Plain(partnerkit.Engine):
        pass

    for counting in (Counting(START), Counting.restore(made.snapshot())):
        assert "apply" not in vars(counting)
        assert [e["amount"] for e in counting.apply([TOUCH, PAYMENT])] == [Decimal("9.80")]
    assert Counting.calls == 2
    plain = Plain(START)
    assert plain.apply.__self__ is plain._engine  # type: ignore[attr-defined]


def test_snapshots_restore_to_the_same_engine() -> None:
    engine = engine_with_payment()
    data = engine.snapshot()
    assert isinstance(data, bytes) and data[:8] == b"PKENGINE"
    want = engine.report(MARCH).to_json()
    for back in (data, bytearray(data), memoryview(data)):
        restored = partnerkit.Engine.restore(back)
        assert restored.report(MARCH).to_json() == want
        assert restored.snapshot() == data
    # A restored engine goes on where the first one was.
    restored = partnerkit.Engine.restore(data)
    assert restored.apply(REFUND) == engine.apply(REFUND)
    assert restored.snapshot() == engine.snapshot()


def test_the_snapshot_checked_in_by_the_first_engine_restores_with_its_report() -> None:
    snapshots = ROOT / "tests" / "snapshots"
    engine = partnerkit.Engine.restore((snapshots / "engine-v1.snapshot").read_bytes())
    want = (snapshots / "engine-v1.report.json").read_text(encoding="utf-8").strip()
    assert engine.report("2026-07-20T00:00:00Z").to_json() == want


def test_anything_but_a_snapshot_is_invalid() -> None:
    data = engine_with_payment().snapshot()
    flipped = bytearray(data)
    flipped[-10] ^= 1
    newer = bytearray(data)
    newer[8:12] = (99).to_bytes(4, "little")
    for bad, why in (
        (b"", "empty"),
        (b"not a snapshot at all, just some text", "not a partnerkit engine snapshot"),
        (data[:-1], "truncated"),
        (data + b"x", "padded"),
        (bytes(flipped), "corrupt"),
        (bytes(newer), "newer"),
    ):
        with raises("InvalidSnapshot", "snapshot", why):
            partnerkit.Engine.restore(bad)
    for wrong in ("PKENGINE", 42, None):
        with pytest.raises(TypeError):
            partnerkit.Engine.restore(wrong)  # type: ignore[arg-type]


def restore_and_report(engine: partnerkit.Engine, refund: str) -> str:
    """Runs in a worker process: the engine arrives pickled (as its snapshot)."""
    engine.apply({**REFUND, "amount": refund})
    return engine.report(MARCH).to_json()


def test_engines_pickle_and_travel_to_worker_processes() -> None:
    engine = engine_with_payment()
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(engine, protocol=protocol))
        assert isinstance(back, partnerkit.Engine)
        assert back.snapshot() == engine.snapshot()
    refunds = ["19.60", "49.00", "0.01"]
    want = [restore_and_report(pickle.loads(pickle.dumps(engine)), r) for r in refunds]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert list(pool.map(restore_and_report, [engine] * 3, refunds)) == want
        with pytest.raises(partnerkit.RefundExceedsPaymentError) as info:
            pool.submit(restore_and_report, engine, "49.01").result()
    assert info.value.path == "events[0].amount"
    # The parent's engine never saw the workers' refunds.
    assert engine.events_applied == 2


def test_partners_and_fx_rates_between_events() -> None:
    engine = engine_with_payment()
    engine.upsert_partner({"id": "bo"})
    engine.apply(
        {**TOUCH, "id": "t2", "at": "2026-01-16T00:00:00Z", "partner": "bo", "customer": "c2"}
    )
    with raises("InvalidValue", "partner.segment", "new engine from the event log"):
        engine.upsert_partner('{"id": "ana", "segment": "gold"}')
    with raises("UnknownField", "partner.extra"):
        engine.upsert_partner({"id": "cy", "extra": 1})
    engine.add_fx(
        [{"date": dt.date(2026, 1, 17), "from": "EUR", "to": "USD", "rate": Decimal("1.1")}]
    )
    engine.add_fx({"date": "2026-01-18", "from": "EUR", "to": "USD", "rate": "1.2"})
    with raises("LateEvent", "fx[1].date"):
        engine.add_fx(
            [
                {"date": "2026-01-19", "from": "EUR", "to": "USD", "rate": "1.2"},
                {"date": "2026-01-16", "from": "EUR", "to": "USD", "rate": "1.0"},
            ]
        )
    with raises("InvalidValue", "fx[0].rate", "float"):
        engine.add_fx({"date": "2026-01-19", "from": "EUR", "to": "USD", "rate": 1.3})
    # A EUR payment earns in EUR (20% of 100.00 = 20.00); the rates convert it on bo's
    # statement: available 18 Feb, so February's, converted at the latest rate on or before
    # its end (1.2 from 18 Jan): 20.00 × 1.2 = 24.00 USD.
    [entry] = engine.apply(
        {
            "id": "p2",
            "kind": "payment",
            "at": "2026-01-19T00:00:00Z",
            "customer": "c2",
            "amount": "100.00",
            "currency": "EUR",
        }
    )
    assert (entry["partner"], entry["amount"], entry["currency"]) == ("bo", Decimal("20.00"), "EUR")
    [statement] = engine.statements("bo", MARCH)
    assert (statement["currency"], statement["payout"]) == ("USD", Decimal("24.00"))


def test_arguments_are_checked_with_coded_errors() -> None:
    engine = engine_with_payment()
    later = {**PAYMENT, "id": "p9", "at": "2026-02-01T00:00:00Z"}
    with raises("InvalidValue", "events[0].amount", "float"):
        engine.apply({**later, "amount": 5.0})
    with raises("InvalidValue", "events[1].amount", "float"):
        engine.apply([later, {**later, "id": "p10", "amount": 5.0}])
    with raises("InvalidJson", "events[0]"):
        engine.apply("{")
    with raises("UnknownField", "events[0].coupon"):
        engine.apply({**TOUCH, "id": "t9", "at": "2026-02-01T00:00:00Z", "coupon": "x"})
    with raises("InvalidValue", "as_of"):
        engine.report("yesterday")
    with raises("InvalidValue", "as_of"):
        engine.report(dt.datetime(2026, 3, 1))  # naive: which instant is it?
    with raises("UnknownPartner", "partner"):
        engine.balance("nobody", MARCH)
    with raises("UnknownCurrency", "plan.currency"):
        partnerkit.Engine({**START, "plan": {**PLAN, "currency": "XYZ"}})
    assert engine.events_applied == 2


def test_a_document_with_events_and_as_of_starts_where_evaluate_ends() -> None:
    doc = {**START, "events": [REFUND, PAYMENT, TOUCH], "as_of": "2026-01-16T00:00:00Z"}
    engine = partnerkit.Engine(doc)
    # The refund is after as_of: left out, as evaluate leaves it out; apply it when it happens.
    assert engine.events_applied == 2
    assert engine.report(doc["as_of"]).to_json() == partnerkit.evaluate(doc).to_json()
    assert engine.apply(REFUND)[0]["amount"] == Decimal("-3.92")


def test_host_limits_reach_the_core() -> None:
    doc = {**START, "events": [TOUCH, PAYMENT], "as_of": MARCH}
    for limits in ({"max_events": 1}, '{"max_events": 1}', b'{"max_events": 1}'):
        with raises("LimitExceeded", "events", "max_events is 1, and this has 2"):
            partnerkit.evaluate(doc, limits)
        with raises("LimitExceeded", "events"):
            partnerkit.Engine(doc, limits)
    want = partnerkit.evaluate(doc).to_json()
    assert partnerkit.evaluate(doc, None).to_json() == want
    assert partnerkit.evaluate(doc, {"max_events": 2}).to_json() == want
    assert partnerkit.Engine(doc, {}).report(MARCH).to_json() == want
    with raises("UnknownField", "limits.max_evnts"):
        partnerkit.evaluate(doc, {"max_evnts": 1})
    with raises("InvalidValue", "limits.max_events"):
        partnerkit.evaluate(doc, {"max_events": -1})
    with raises("InvalidValue", "limits.max_events", "whole numbers"):
        partnerkit.evaluate(doc, {"max_events": 1.0})


def test_an_engine_keeps_its_limits_through_restore_and_pickling() -> None:
    limits = {"max_touches_per_customer": 1}
    engine = partnerkit.Engine(START, limits)
    engine.apply(TOUCH)
    second = {**TOUCH, "id": "t2", "at": "2026-01-11T09:00:00Z"}
    with raises("LimitExceeded", "events[0]", "^max_touches_per_customer is 1,"):
        engine.apply(second)
    for back in (
        partnerkit.Engine.restore(engine.snapshot(), limits),
        pickle.loads(pickle.dumps(engine)),
    ):
        with raises("LimitExceeded", "events[0]"):
            back.apply(second)
    # Restored without limits, the defaults apply; a snapshot over the given ones is refused.
    assert partnerkit.Engine.restore(engine.snapshot()).apply(second) == []
    with raises("LimitExceeded", "snapshot.events"):
        partnerkit.Engine.restore(engine.snapshot(), {"max_events": 0})


def test_host_limits_typed_dict_names_exactly_the_core_limits() -> None:
    core = (ROOT / "core" / "src" / "limits.rs").read_text()
    fields = re.findall(r"^ {4}pub (max_\w+): usize,$", core, re.M)
    assert list(partnerkit.HostLimits.__annotations__) == fields
    # Each is a limit the core enforces: at 0, a one-of-everything document exceeds it (a
    # band, a tier level, an override, a bonus, a touch, a closed statement).
    bands = [{"from": "0", "percent": "10"}]
    plan = {
        **START["plan"],
        "rules": [
            {
                "id": "vol",
                "reward": {
                    "tiered": {
                        "metric": "revenue",
                        "period": "month",
                        "mode": "graduated",
                        "bands": bands,
                    }
                },
            }
        ],
        "tiers": {"levels": [{"id": "base"}]},
        "overrides": [{"level": 1, "percent": "5"}],
        "bonuses": [
            {
                "id": "first",
                "kind": "milestone",
                "metric": "referrals",
                "at_least": "1",
                "amount": "5.00",
            }
        ],
    }
    doc = {
        "plan": plan,
        "partners": [{"id": "ana"}],
        "events": [TOUCH, PAYMENT],
        "fx": [{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.1"}],
        "as_of": MARCH,
    }
    partnerkit.evaluate(doc)
    for name in fields:
        with pytest.raises(partnerkit.LimitExceededError) as info:
            partnerkit.evaluate(doc, {name: 0})
        assert info.value.message.startswith(f"{name} is 0,"), info.value.message


def test_a_panic_inside_a_locked_engine_poisons_only_that_engine() -> None:
    engine = engine_with_payment()
    data = engine.snapshot()
    with raises("Internal", "", "panicked.*boom"):
        engine._engine._debug_panic("boom")
    for call in (
        lambda: engine.apply(REFUND),
        lambda: engine.report(MARCH),
        engine.snapshot,
        lambda: engine.events_applied,
    ):
        with raises("Internal", "", "cannot be trusted: restore it from a snapshot"):
            call()
    # The snapshot taken before still restores.
    assert partnerkit.Engine.restore(data).apply(REFUND)[0]["amount"] == Decimal("-3.92")


def test_threads_share_an_engine() -> None:
    # One thread applies payments in order while others read reports: calls take turns on
    # the engine, so every reader sees the state after some whole number of payments.
    engine = partnerkit.Engine(START)
    engine.apply(TOUCH)
    payments = [
        {**PAYMENT, "id": f"p{i:03}", "at": f"2026-01-15T12:{i // 60:02}:{i % 60:02}Z"}
        for i in range(200)
    ]
    done = threading.Event()
    seen: list[list[int]] = [[] for _ in range(3)]

    def write() -> None:
        for p in payments:
            engine.apply(p)
        done.set()

    def read(k: int) -> None:
        while not done.is_set():
            seen[k].append(len(engine.report(MARCH)))

    threads = [threading.Thread(target=write)]
    threads += [threading.Thread(target=read, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for counts in seen:
        assert counts == sorted(counts) and all(0 <= n <= 200 for n in counts)
    batch = partnerkit.evaluate({**START, "events": [TOUCH, *payments], "as_of": MARCH})
    assert engine.report(MARCH).to_json() == batch.to_json()


def test_progress_is_the_reports_item_for_the_partner() -> None:
    vector = json.loads((ROOT / "tests/vectors/tiers/bronze_silver_gold.json").read_text())
    doc = vector["input"]
    engine = partnerkit.Engine(doc)
    want = partnerkit.evaluate(doc).to_dict()["progress"]
    assert [engine.progress(p["partner"], doc["as_of"]) for p in want] == want
    # cy is bronze; silver needs 10 referrals or 5,000.00 of revenue this period, and cy
    # has 200.00 of April revenue: 4,800.00 to go.
    cy = engine.progress("cy", doc["as_of"])
    assert cy is not None
    assert (cy["tier"], cy["next_tier"], cy["requires"]) == ("bronze", "silver", "any")
    revenue = cy["requirements"][1]
    assert (revenue["current"], revenue["target"], revenue["remaining"]) == (
        Decimal("200.00"),
        Decimal("5000.00"),
        Decimal("4800.00"),
    )
    # A plan without tiers has no progress to show; an unknown partner is an error.
    assert engine_with_payment().progress("ana", MARCH) is None
    with raises("UnknownPartner", "partner", "zed"):
        engine.progress("zed", doc["as_of"])


def test_apply_types_the_entries_as_the_facade_reads_their_json() -> None:
    # `apply` reads each event dict natively and returns lazily typed `Entry` mappings: every
    # vector's events, one by one, give what `json.loads(apply_json(e), object_pairs_hook=
    # _typed)` gives — through `to_dict()` and through key access, key order, `Decimal`
    # scales and `datetime`s included (compared by repr) — and the same errors.
    from conftest import load, vector_files
    from engine_feed import INSTANT, KIND_RANK, canonical_order

    def feedable(doc: Any) -> bool:
        events = doc.get("events") if isinstance(doc, dict) else None
        return (
            isinstance(events, list)
            and INSTANT.match(str(doc.get("as_of"))) is not None
            and all(
                isinstance(e, dict)
                and INSTANT.match(str(e.get("at"))) is not None
                and e.get("kind") in KIND_RANK
                for e in events
            )
        )

    fed = 0
    for path in vector_files():
        doc = load(path).get("input")
        if not feedable(doc):
            continue
        start = {k: v for k, v in doc.items() if k not in ("events", "as_of")}
        try:
            native, hooked = partnerkit.Engine(start), partnerkit.Engine(start)
        except partnerkit.PartnerkitError:
            continue
        for e in canonical_order(doc["events"], doc["as_of"]):
            try:
                got = native.apply(e)
            except partnerkit.PartnerkitError as err:
                with raises(err.code, err.path, re.escape(err.message)):
                    hooked.apply_json(e)
                break
            want = json.loads(hooked.apply_json(e), object_pairs_hook=partnerkit._typed)
            # `repr` tells Decimal("5.00") from Decimal("5.0") and str from Decimal.
            assert repr([g.to_dict() for g in got]) == repr(want), path
            # The webhook path read the dict itself (JSON text only for what it refuses).
            assert partnerkit._native._reads_natively(e), (path, e)
            for g, w in zip(got, want, strict=True):
                assert isinstance(g, partnerkit.Entry) and g == w and w == g, path
                assert list(g) == list(w) and len(g) == len(w), path
                assert repr({k: g[k] for k in w}) == repr(w), path
            fed += 1
    assert fed > 300, fed


class _Odd:
    """A value of a type with no JSON form."""


class _Str(str):
    """A str subclass, as some webhook libraries hand over."""

    __slots__ = ()


class _Dec(Decimal):
    """A Decimal subclass."""

    __slots__ = ()


class _When(dt.datetime):
    """A datetime subclass (no nanoseconds: it reads as its isoformat())."""

    __slots__ = ()


def _deep(n: int) -> Any:
    inner: Any = "x"
    for _ in range(n):
        inner = {"k": inner}
    return inner


# Events that go wrong (or are merely unusual) in every way a webhook handler's dict can: each
# gives exactly the same answer read natively by `apply` as written to JSON by `apply_json`.
_EVENTS: list[tuple[str, dict[Any, Any]]] = [
    ("a float amount", {**PAYMENT, "amount": 49.0}),
    ("a float in a nested list", {**PAYMENT, "amount": [1.5]}),
    ("a naive datetime", {**PAYMENT, "at": dt.datetime(2026, 1, 15, 12)}),
    ("a date for an instant", {**PAYMENT, "at": dt.date(2026, 1, 15)}),
    (
        "another zone",
        {**PAYMENT, "at": dt.datetime(2026, 1, 15, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))},
    ),
    ("microseconds", {**PAYMENT, "at": dt.datetime(2026, 1, 15, 12, 0, 0, 5, tzinfo=UTC)}),
    ("the last microsecond", {**PAYMENT, "at": dt.datetime.max.replace(tzinfo=UTC)}),
    ("year 1", {**TOUCH, "id": "t0", "at": dt.datetime(1, 1, 1, tzinfo=UTC)}),
    (
        "a zero offset",
        {**PAYMENT, "at": dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone(dt.timedelta(0)))},
    ),
    (
        "a seconds offset",
        {
            **PAYMENT,
            "at": dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone(dt.timedelta(seconds=30))),
        },
    ),
    ("a pandas Timestamp", {**PAYMENT, "at": pd.Timestamp("2026-01-15T12:00:00.000000001Z")}),
    ("an unknown key", {**PAYMENT, "colour": "blue"}),
    ("a key of another kind", {**PAYMENT, "channel": "link"}),
    ("a missing field", {k: v for k, v in PAYMENT.items() if k != "currency"}),
    ("no kind", {k: v for k, v in PAYMENT.items() if k != "kind"}),
    ("an unknown kind", {**PAYMENT, "kind": "purchase"}),
    ("a non-str key", {**PAYMENT, 7: "x"}),
    ("an empty id", {**PAYMENT, "id": ""}),
    ("an int id", {**PAYMENT, "id": 7}),
    ("an unknown currency", {**PAYMENT, "currency": "XYZ"}),
    ("NaN", {**PAYMENT, "amount": Decimal("NaN")}),
    ("an exponent", {**PAYMENT, "amount": Decimal("4.9E+1")}),
    ("too many digits", {**PAYMENT, "amount": Decimal("49.001")}),
    ("a negative amount", {**PAYMENT, "amount": Decimal("-1.00")}),
    ("an int amount", {**PAYMENT, "amount": 49}),
    ("a huge int amount", {**PAYMENT, "amount": 10**30}),
    ("a bool amount", {**PAYMENT, "amount": True}),
    ("a str amount", {**PAYMENT, "amount": "49.00"}),
    ("a str instant", {**PAYMENT, "at": "2026-01-15T12:00:00Z"}),
    ("tax over the amount", {**PAYMENT, "tax": Decimal("50.00")}),
    ("None for an optional field", {**PAYMENT, "product": None}),
    ("None for a required field", {**PAYMENT, "customer": None}),
    ("a list for a str", {**PAYMENT, "customer": ["c1"]}),
    ("a tuple for a str", {**PAYMENT, "customer": ("c1",)}),
    ("a lone surrogate", {**PAYMENT, "customer": "c\ud800"}),
    ("bytes", {**PAYMENT, "customer": b"c1"}),
    ("an object", {**PAYMENT, "customer": _Odd()}),
    ("a set", {**PAYMENT, "customer": {"c1"}}),
    ("an unknown partner", {**TOUCH, "id": "t2", "at": "2026-01-16T00:00:00Z", "partner": "zed"}),
    ("meta of str", {**TOUCH, "id": "t2", "at": "2026-01-16T00:00:00Z", "meta": {"a": "b"}}),
    ("meta of int", {**TOUCH, "id": "t2", "at": "2026-01-16T00:00:00Z", "meta": {"a": 1}}),
    (
        "meta nested too deep",
        {**TOUCH, "id": "t2", "at": "2026-01-16T00:00:00Z", "meta": _deep(200)},
    ),
    ("a late event", {**PAYMENT, "id": "p0", "at": dt.datetime(2026, 1, 1, tzinfo=UTC)}),
    ("a conflicting redelivery", {**TOUCH, "channel": "coupon"}),
    ("a redelivery", dict(TOUCH)),
    (
        "an assign",
        {
            "id": "a1",
            "kind": "assign",
            "at": "2026-01-16T00:00:00Z",
            "customer": "c1",
            "partners": [{"partner": "ana", "weight": Decimal("1")}],
            "reason": "r",
        },
    ),
    (
        "an assign with a float weight",
        {
            "id": "a1",
            "kind": "assign",
            "at": "2026-01-16T00:00:00Z",
            "customer": "c1",
            "partners": [{"partner": "ana", "weight": 0.5}],
            "reason": "r",
        },
    ),
    ("a refund of an unknown payment", {**REFUND, "payment": "p9"}),
    # What the native reader tells apart by type or form (issue 10, fourth pass): each
    # still reads exactly as its JSON text does.
    ("a str subclass key", {**{k: v for k, v in PAYMENT.items() if k != "id"}, _Str("id"): "p2"}),
    ("a str subclass id", {**PAYMENT, "id": _Str("p2")}),
    ("a str subclass kind", {**PAYMENT, "id": "p2", "kind": _Str("payment")}),
    ("a str subclass currency", {**PAYMENT, "id": "p2", "currency": _Str("USD")}),
    ("a Decimal subclass amount", {**PAYMENT, "id": "p2", "amount": _Dec("49.00")}),
    ("Infinity", {**PAYMENT, "amount": Decimal("Infinity")}),
    ("-Infinity", {**PAYMENT, "amount": Decimal("-Infinity")}),
    ("sNaN", {**PAYMENT, "amount": Decimal("sNaN")}),
    ("a negative zero amount", {**PAYMENT, "id": "p2", "amount": Decimal("-0.00")}),
    ("a negative zero tax", {**PAYMENT, "id": "p2", "tax": Decimal("-0")}),
    ("a zero exponent", {**PAYMENT, "id": "p2", "amount": Decimal("4900E-2")}),
    ("an exponent of zero", {**PAYMENT, "id": "p2", "amount": Decimal("0E-2")}),
    ("a positive exponent", {**PAYMENT, "id": "p2", "amount": Decimal("5E+1")}),
    ("a tiny exponent", {**PAYMENT, "id": "p2", "amount": Decimal("1E-7")}),
    ("an int for a str", {**PAYMENT, "id": "p2", "customer": 7}),
    ("a bool for a str", {**PAYMENT, "id": "p2", "customer": True}),
    ("a bool tax", {**PAYMENT, "id": "p2", "tax": False}),
    ("an int currency", {**PAYMENT, "id": "p2", "currency": 840}),
    (
        "a datetime subclass in UTC",
        {**PAYMENT, "id": "p2", "at": _When(2026, 1, 15, 13, tzinfo=UTC)},
    ),
    (
        "a UTC datetime with fold",
        {**PAYMENT, "id": "p2", "at": dt.datetime(2026, 1, 15, 13, fold=1, tzinfo=UTC)},
    ),
    ("an int instant", {**PAYMENT, "id": "p2", "at": 1768478400}),
    ("a Decimal instant", {**PAYMENT, "id": "p2", "at": Decimal("1768478400")}),
    ("a datetime id", {**PAYMENT, "id": dt.datetime(2026, 1, 15, tzinfo=UTC)}),
    ("a Decimal id", {**PAYMENT, "id": Decimal("12")}),
    ("an id of one space", {**PAYMENT, "id": " "}),
    ("a non-ASCII id", {**PAYMENT, "id": "p\u00e9\U0001f600"}),
    ("a key with a NUL", {**PAYMENT, "id\x00": "p2"}),
    ("a kind in capitals", {**PAYMENT, "id": "p2", "kind": "PAYMENT"}),
    ("a chargeback", {"id": "cb1", "kind": "chargeback", "at": MARCH, "payment": "p1"}),
    (
        "a signup qualified by an int",
        {
            "id": "s1",
            "kind": "signup",
            "at": "2026-01-16T00:00:00Z",
            "customer": "c2",
            "qualified": 1,
        },
    ),
]


@pytest.mark.parametrize(("case", "event"), _EVENTS, ids=[c for c, _ in _EVENTS])
def test_apply_reads_a_dict_as_its_json_would_read(case: str, event: dict[Any, Any]) -> None:
    # `apply` reads a plain dict natively; `apply_json` writes it as JSON text for the core.
    # Both must accept the same events (giving the same entries and engines) and refuse the
    # rest with the same code, path and message.
    native, written = engine_with_payment(), engine_with_payment()
    try:
        got = native.apply(event)
    except partnerkit.PartnerkitError as err:
        with raises(err.code, err.path, "^" + re.escape(err.message) + "$"):
            written.apply_json(event)
        assert native.snapshot() == written.snapshot(), case
        return
    want = json.loads(written.apply_json(event), object_pairs_hook=partnerkit._typed)
    assert repr([g.to_dict() for g in got]) == repr(want), case
    assert native.snapshot() == written.snapshot(), case


def test_apply_reads_event_dicts_natively() -> None:
    # What a webhook handler hands over is read without JSON text: every kind, `Decimal`s,
    # aware `datetime`s in any zone, strings; a refused value takes the JSON route.
    reads = partnerkit._native._reads_natively
    assert reads(PAYMENT) and reads(TOUCH) and reads(REFUND)
    assert reads({**PAYMENT, "at": dt.datetime(2026, 1, 15, tzinfo=dt.timezone.min)})
    assert reads({**TOUCH, "meta": {"a": "b"}, "campaign": None})
    assert not reads({**PAYMENT, "amount": 49.0}) and not reads({**PAYMENT, "colour": "x"})
    assert not reads({**PAYMENT, "at": dt.datetime(2026, 1, 15)}) and not reads([PAYMENT])


def test_a_utc_instant_crosses_as_a_value_and_other_datetimes_as_text() -> None:
    # An event's `at` in UTC reaches the core as the instant itself (before the epoch and
    # to the microsecond too); a `datetime` in a text field is its isoformat(). Either way
    # the engine holds the event the JSON route gives: the snapshots are the same bytes.
    stamp = dt.datetime(2026, 1, 9, 8, 30, tzinfo=UTC)
    events = [
        {**TOUCH, "id": "t0", "at": dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)},
        {**TOUCH, "meta": {"seen": stamp}, "campaign": stamp},  # type: ignore[dict-item]
        {**PAYMENT, "at": dt.datetime(2026, 1, 15, 12, 0, 0, 123456, tzinfo=UTC)},
        {**PAYMENT, "id": "p2", "at": dt.datetime(2026, 1, 15, 12, 0, 0, 999999, tzinfo=UTC)},
    ]
    native, text = partnerkit.Engine(START), partnerkit.Engine(START)
    for e in events:
        assert partnerkit._native._reads_natively(e), e
        assert [x.to_dict() for x in native.apply(e)] == json.loads(
            text.apply_json(e), object_pairs_hook=partnerkit._typed
        )
    assert native.snapshot() == text.snapshot()
    # The text field holds the isoformat() text, as the JSON route writes it.
    assert b'"campaign":"2026-01-09T08:30:00+00:00"' in native.snapshot()


def test_apply_refuses_what_it_always_refused() -> None:
    # The errors of today's route, pinned: a float, a naive instant, an unknown key.
    with raises("InvalidValue", "events[0].amount", "is a float"):
        engine_with_payment().apply({**PAYMENT, "id": "p2", "amount": 49.0})
    with raises("InvalidValue", "events[0].at", "RFC 3339 instant with offset"):
        engine_with_payment().apply({**PAYMENT, "id": "p2", "at": dt.datetime(2026, 1, 16)})
    with raises("UnknownField", "events[0].colour"):
        engine_with_payment().apply({**PAYMENT, "id": "p2", "colour": "blue"})


def test_an_entry_is_a_read_only_mapping_typed_on_access() -> None:
    engine = partnerkit.Engine(START)
    engine.apply(TOUCH)
    [entry] = engine.apply(PAYMENT)
    [again] = partnerkit.Engine.restore(engine_with_payment().snapshot()).apply(
        {**PAYMENT, "id": "p2", "at": dt.datetime(2026, 1, 16, tzinfo=UTC)}
    )
    as_dict = entry.to_dict()
    assert type(as_dict) is dict and as_dict == engine.report(MARCH).to_dict()["entries"][0] | {
        "status": "pending"
    }
    assert isinstance(entry, Mapping) and isinstance(entry, partnerkit.Entry)
    assert len(entry) == 12 and list(entry) == list(as_dict)
    assert entry.keys() == as_dict.keys() and list(entry.values()) == list(as_dict.values())
    assert list(entry.items()) == list(as_dict.items())
    assert dict(entry) == as_dict and {**entry} == as_dict
    assert entry["amount"] == Decimal("9.80") and type(entry["earned_at"]) is dt.datetime
    assert entry["earned_at"].tzinfo is not None and entry["customer"] == "c1"
    assert entry["explain"]["base"]["amount"] == Decimal("49.00")
    assert "amount" in entry and "colour" not in entry and 3 not in entry
    assert entry.get("colour") is None and entry.get("colour", 0) == 0
    assert entry.get("status") == "pending"
    with pytest.raises(KeyError, match="colour"):
        entry["colour"]
    # Equality is the dict's, with a dict or another entry; values are rebuilt on each read,
    # so mutating what was read (or `to_dict()`) changes nothing.
    assert entry == as_dict and as_dict == entry and not (entry != as_dict)
    twin = partnerkit.Engine(START)
    twin.apply(TOUCH)
    assert twin.apply(PAYMENT) == [entry] and not (twin.apply(REFUND)[0] == entry)
    assert entry != again and entry != {**as_dict, "status": "available"}
    assert entry != [] and entry != "x"
    as_dict["amount"] = Decimal("0")
    entry["explain"]["base"]["amount"] = Decimal("0")
    assert entry["amount"] == Decimal("9.80") and entry["explain"]["base"]["amount"] == Decimal(
        "49.00"
    )
    with pytest.raises(TypeError):
        entry["amount"] = Decimal("1")  # type: ignore[index]
    with pytest.raises(TypeError, match="unhashable"):
        hash(entry)
    assert repr(entry) == "<Entry commission:p1:base:ana 9.80 USD pending>"
    # Immutable: a copy is the entry itself. Pickling is refused, saying what to pickle.
    assert copy.copy(entry) is entry and copy.deepcopy(entry) is entry
    assert copy.deepcopy([entry]) == [entry]
    with pytest.raises(TypeError, match=r"pickle entry\.to_dict\(\)"):
        pickle.dumps(entry)
    assert pickle.loads(pickle.dumps(entry.to_dict())) == entry
