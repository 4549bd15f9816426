"""The book's embedding guide runs as written: examples/stripe_sqlite/partner_ledger.py maps the
fixture Stripe webhooks to events, keeps the event log and the ledger in SQLite, ignores
redeliveries and reconciles April.

The amounts, worked by hand from the fixtures (plan: 20% of every payment's net, 30-day hold,
monthly statements due 15 days after the month):

- in_1A: cus_A (ana's click) pays 49.00 on March 2 -> ana 9.80, available April 1.
- in_2B: cus_B (ben's click) pays 118.80 of which 19.80 tax -> net 99.00 -> ben 19.80, available
  April 4. re_1B refunds 59.40 of 118.80 on March 20 (half; still within the hold) -> -9.90,
  available with the entry it cancels (April 4).
- in_3A: cus_A pays 49.00 on April 2 -> ana 9.80, available May 2; dp_3A disputes that charge on
  April 10 -> -9.80 (a cancel too, available May 2).
- April statements as of May 20: ana 9.80 (one row), ben 19.80 - 9.90 = 9.90 (two rows), due
  April 30 + 15 = May 15 -> paid.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import partnerkit

EXAMPLE = Path(__file__).parents[1] / "examples" / "stripe_sqlite" / "partner_ledger.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("partner_ledger", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["partner_ledger"] = module
    spec.loader.exec_module(module)
    return module


def tables(db: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
    events = db.execute("SELECT id, at, body FROM events ORDER BY id").fetchall()
    ledger = db.execute("SELECT * FROM ledger ORDER BY id").fetchall()
    return events, ledger


def ledger_with_clicks(example: ModuleType, db: sqlite3.Connection) -> Any:
    ledger = example.PartnerLedger(db, example.PROGRAM)
    ledger.record_click("click_1", "ana", "cus_A", "2026-03-01T18:00:00Z")
    ledger.record_click("click_2", "ben", "cus_B", "2026-03-04T11:00:00Z")
    return ledger


def test_webhooks_map_to_events(example: ModuleType) -> None:
    events = [e for w in example.webhooks() for e in example.events_from_webhook(w)]
    assert [(e["id"], e["kind"]) for e in events] == [
        ("ch_1A", "payment"),
        ("ch_2B", "payment"),
        ("re_1B", "refund"),
        ("ch_3A", "payment"),
        ("dp_3A", "chargeback"),
    ]
    pro = events[1]
    assert pro["amount"] == Decimal("118.80") and str(pro["amount"]) == "118.80"
    assert pro["tax"] == Decimal("19.80") and pro["currency"] == "USD"
    assert pro["at"] == "2026-03-05T10:00:00Z" and pro["product"] == "prod_pro"
    assert events[2]["payment"] == "ch_2B" and events[2]["amount"] == Decimal("59.40")
    assert events[4]["payment"] == "ch_3A"
    assert example.money(4900, "jpy") == Decimal(4900)


def test_the_guide_runs_and_april_reconciles(example: ModuleType, tmp_path: Path) -> None:
    db_path = str(tmp_path / "partners.db")
    results = example.main(db_path)
    assert [
        (r["partner"], r["rows"], r["ledger_total"], r["payout"], r["status"]) for r in results
    ] == [
        ("ana", 1, Decimal("9.80"), Decimal("9.80"), "paid"),
        ("ben", 2, Decimal("9.90"), Decimal("9.90"), "paid"),
    ]
    assert all(r["matches"] for r in results)
    events, ledger = tables(sqlite3.connect(db_path))
    assert len(events) == 7  # two clicks and five Stripe events, each once
    assert [(row[0], row[4], row[7]) for row in ledger] == [
        ("commission:ch_1A:recurring:ana", "9.80", "2026-04-01T10:00:00Z"),
        ("commission:ch_2B:recurring:ben", "19.80", "2026-04-04T10:00:00Z"),
        ("commission:ch_3A:recurring:ana", "9.80", "2026-05-02T10:00:00Z"),
        ("reversal:dp_3A:commission:ch_3A:recurring:ana", "-9.80", "2026-05-02T10:00:00Z"),
        ("reversal:re_1B:commission:ch_2B:recurring:ben", "-9.90", "2026-04-04T10:00:00Z"),
    ]


def test_redelivered_webhooks_change_nothing(example: ModuleType, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "partners.db")
    ledger = ledger_with_clicks(example, db)
    for w in example.webhooks():
        ledger.handle_webhook(w)
    before = tables(db)
    for w in example.webhooks():
        assert ledger.handle_webhook(w) == []
        assert ledger.handle_webhook(w) == []
    assert tables(db) == before
    report = ledger.engine.report("2026-05-20T00:00:00Z").to_dict()
    assert report["duplicates_ignored"] == 10  # five webhooks, each delivered twice more
    # A restart restores the engine from its snapshot: redeliveries are still recognized.
    db.close()
    db = sqlite3.connect(tmp_path / "partners.db")
    restarted = example.PartnerLedger(db, example.PROGRAM)
    assert restarted.engine.events_applied == 7
    assert restarted.handle_webhook(example.webhooks()[0]) == []
    assert tables(db) == before


def test_out_of_order_webhooks_give_the_same_ledger(example: ModuleType) -> None:
    in_order = ledger_with_clicks(example, sqlite3.connect(":memory:"))
    for w in example.webhooks():
        in_order.handle_webhook(w)
    shuffled = ledger_with_clicks(example, sqlite3.connect(":memory:"))
    hooks = example.webhooks()
    # The April invoice and the dispute arrive before March's refund: the refund is then
    # older than the last event applied, and the ledger is rebuilt from the log.
    for w in [hooks[0], hooks[1], hooks[3], hooks[4], hooks[2]]:
        shuffled.handle_webhook(w)
    assert tables(shuffled.db)[1] == tables(in_order.db)[1]
    assert sorted(e[0] for e in tables(shuffled.db)[0]) == sorted(
        e[0] for e in tables(in_order.db)[0]
    )
    april = shuffled.reconcile("ben", "2026-04", "2026-05-20T00:00:00Z")
    assert april["matches"] and april["ledger_total"] == Decimal("9.90")


def test_a_changed_redelivery_is_refused_and_stores_nothing(example: ModuleType) -> None:
    ledger = ledger_with_clicks(example, sqlite3.connect(":memory:"))
    first = example.webhooks()[0]
    ledger.handle_webhook(first)
    before = tables(ledger.db)
    tampered = json.loads(json.dumps(first))
    tampered["data"]["object"]["amount_paid"] = 5900
    with pytest.raises(partnerkit.ConflictingEventError):
        ledger.handle_webhook(tampered)
    assert tables(ledger.db) == before
