"""Embedding partnerkit in a billing backend: Stripe webhooks in, a partner ledger in SQLite out.

The book's embedding guide (docs/src/embedding/stripe-sqlite.md) walks through this file, and
bindings-python/tests/test_stripe_example.py runs it. It shows four things a real integration
needs:

1. mapping Stripe webhook events (``invoice.paid``, ``charge.refunded``,
   ``charge.dispute.created``) to partnerkit events, with ids taken from Stripe's objects;
2. storing the event log and the ledger entries in a database (stdlib ``sqlite3``);
3. idempotent re-delivery: Stripe delivers a webhook at least once, and the same webhook twice
   changes nothing (partnerkit ignores a redelivered event; the tables have UNIQUE ids);
4. reconciling a month: the ledger rows that became available in a period add up to the
   statement partnerkit computes for it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import partnerkit

# ANCHOR: mapping
# Stripe writes amounts in the currency's minor unit (cents) as integers; these currencies
# have none (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())


def money(minor: int, currency: str) -> Decimal:
    """Stripe's integer minor units as an exact Decimal: 4900 USD is Decimal("49.00")."""
    return Decimal(minor).scaleb(0 if currency.lower() in ZERO_DECIMAL else -2)


def instant(unix: int) -> str:
    """Stripe's Unix timestamps as RFC 3339 instants in UTC."""
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def events_from_webhook(webhook: dict[str, Any]) -> list[dict[str, Any]]:
    """The partnerkit events a Stripe webhook stands for (none for the types we ignore).

    Ids come from Stripe's objects, never from the webhook delivery: a payment is its charge
    (refunds and disputes name the charge), a refund its ``re_`` id, a chargeback its dispute.
    So a redelivered webhook, or a later ``charge.refunded`` that lists earlier refunds again,
    maps to events partnerkit has already seen, and they are ignored.
    """
    obj = webhook["data"]["object"]
    kind = webhook["type"]
    if kind == "invoice.paid":
        if obj["amount_paid"] == 0:  # a trial or fully discounted invoice: no sale
            return []
        cur = obj["currency"]
        return [
            {
                "id": obj["charge"],
                "kind": "payment",
                "at": instant(obj["status_transitions"]["paid_at"]),
                "customer": obj["customer"],
                "amount": money(obj["amount_paid"], cur),  # what was charged, tax included
                "currency": cur.upper(),
                "tax": money(obj["tax"] or 0, cur),  # partnerkit pays on amount - tax
                "product": obj["lines"]["data"][0]["price"]["product"],
                "subscription": obj["subscription"],
                "order": obj["id"],
            }
        ]
    if kind == "charge.refunded":
        return [
            {
                "id": refund["id"],
                "kind": "refund",
                "at": instant(refund["created"]),
                "payment": obj["id"],
                "amount": money(refund["amount"], refund["currency"]),
                "currency": refund["currency"].upper(),
            }
            for refund in obj["refunds"]["data"]
        ]
    if kind == "charge.dispute.created":
        # A dispute takes the money back until it is won: partnerkit's chargeback reverses
        # whatever is left of the payment.
        return [
            {
                "id": obj["id"],
                "kind": "chargeback",
                "at": instant(obj["created"]),
                "payment": obj["charge"],
                "currency": obj["currency"].upper(),
            }
        ]
    return []


# ANCHOR_END: mapping

# ANCHOR: schema
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (       -- the event log: partnerkit's input, append-only
    id   TEXT PRIMARY KEY,                -- partnerkit's event id: a redelivery cannot add a row
    at   TEXT NOT NULL,
    body TEXT NOT NULL                    -- the event as JSON, decimals as strings
);
CREATE TABLE IF NOT EXISTS ledger (       -- partnerkit's ledger entries, as they are written
    id           TEXT PRIMARY KEY,        -- entry ids derive from their causes
    partner      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    event        TEXT NOT NULL,
    amount       TEXT NOT NULL,           -- exact decimal text, never REAL
    currency     TEXT NOT NULL,
    earned_at    TEXT NOT NULL,
    available_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS engine (       -- the engine's latest snapshot, for a fast restart
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    snapshot BLOB NOT NULL
);
"""
# ANCHOR_END: schema


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(event: dict[str, Any]) -> str:
    return json.dumps(event, default=str, sort_keys=True)


class PartnerLedger:
    """A partner program kept in SQLite: the event log, the ledger and the engine's snapshot."""

    # ANCHOR: open
    def __init__(self, db: sqlite3.Connection, program: dict[str, Any]) -> None:
        """Opens the program (``{plan, partners}``) on ``db``, restoring its engine if saved."""
        self.db = db
        self.program = program
        db.executescript(SCHEMA)
        self.engine = self._load()

    def _load(self) -> partnerkit.Engine:
        row = self.db.execute("SELECT snapshot FROM engine WHERE id = 1").fetchone()
        if row is not None:
            return partnerkit.Engine.restore(row[0])
        return partnerkit.Engine(self.program)

    # ANCHOR_END: open

    # ANCHOR: apply
    def record_click(self, click_id: str, partner: str, customer: str, at: str) -> None:
        """A referral click from the host's own tracking (``?ref=ana``, then the signup that
        tied the visitor to a Stripe customer id)."""
        touch = {
            "id": click_id,
            "kind": "touch",
            "at": at,
            "partner": partner,
            "customer": customer,
            "channel": "link",
        }
        self._apply([touch])

    def handle_webhook(self, webhook: dict[str, Any]) -> list[dict[str, Any]]:
        """Applies one Stripe webhook; returns the ledger entries it wrote ([] for a redelivery)."""
        return self._apply(events_from_webhook(webhook))

    def _apply(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not events:
            return []
        try:
            entries = self.engine.apply(events)
        except partnerkit.LateEventError:
            # Stripe does not promise order: an event older than the last one applied means
            # the past changed. Rebuild from the whole log, in canonical order.
            return self._rebuild(events)
        try:
            with self.db:  # one transaction: the events, their entries, the snapshot
                self._store(events, entries)
        except BaseException:
            self.engine = self._load()  # the database is the truth: forget what it refused
            raise
        return entries

    def _store(self, events: Iterable[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT INTO events (id, at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            [(e["id"], e["at"], _json(e)) for e in events],
        )
        self.db.executemany(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e["id"],
                    e["partner"],
                    e["kind"],
                    e["event"],
                    str(e["amount"]),
                    e["currency"],
                    _iso(e["earned_at"]),
                    _iso(e["available_at"]),
                )
                for e in entries
            ],
        )
        self.db.execute(
            "INSERT INTO engine (id, snapshot) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot",
            (self.engine.snapshot(),),
        )

    def _rebuild(self, late: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = [json.loads(b) for (b,) in self.db.execute("SELECT body FROM events")]
        known = {e["id"] for e in stored}
        log = stored + [e for e in late if e["id"] not in known]
        engine = partnerkit.Engine({**self.program, "events": log})
        as_of = max(e["at"] for e in log)
        entries = engine.report(as_of).to_dict()["entries"]
        self.engine = engine
        with self.db:  # the ledger is a projection of the log: write it again, whole
            self.db.execute("DELETE FROM ledger")
            self._store(late, entries)
        return [e for e in entries if e["event"] in {x["id"] for x in late}]

    # ANCHOR_END: apply

    # ANCHOR: reconcile
    def reconcile(self, partner: str, period: str, as_of: str) -> dict[str, Any]:
        """Checks one statement against the ledger rows: the entries that became available in
        the statement's period add up to its credits and debits, to the cent."""
        [statement] = [s for s in self.engine.statements(partner, as_of) if s["period"] == period]
        rows = self.db.execute(
            "SELECT amount, currency FROM ledger"
            " WHERE partner = ? AND available_at >= ? AND available_at < ?",
            (partner, _iso(statement["start"]), _iso(statement["end"])),
        ).fetchall()
        assert all(cur == statement["currency"] for _, cur in rows), "no FX in this example"
        # Sum in Decimal: SQL's SUM() over text would go through floating point.
        ledger_total = sum((Decimal(amount) for amount, _ in rows), Decimal("0.00"))
        statement_total = statement["credits"] + statement["debits"]
        return {
            "partner": partner,
            "period": period,
            "rows": len(rows),
            "ledger_total": ledger_total,
            "statement_total": statement_total,
            "closing_balance": statement["closing_balance"],
            "payout": statement["payout"],
            "status": statement["status"],
            "matches": ledger_total == statement_total,
        }

    # ANCHOR_END: reconcile


# ANCHOR: program
PROGRAM: dict[str, Any] = {
    "plan": {
        "schema": "partnerkit/plan@1",
        "id": "saas-affiliates",
        "currency": "USD",
        "rules": [{"id": "recurring", "reward": {"percent": "20"}}],
        "lifecycle": {"hold_days": 30},
        "payouts": {"period": "month", "threshold": "0", "net_days": 15},
    },
    "partners": [{"id": "ana"}, {"id": "ben"}],
}
# ANCHOR_END: program

WEBHOOKS = Path(__file__).parent / "webhooks"


def webhooks() -> list[dict[str, Any]]:
    """The fixture webhooks, in the order Stripe sent them."""
    return [json.loads(p.read_text()) for p in sorted(WEBHOOKS.glob("*.json"))]


# ANCHOR: main
def main(db_path: str = ":memory:") -> list[dict[str, Any]]:
    ledger = PartnerLedger(sqlite3.connect(db_path), PROGRAM)
    ledger.record_click("click_1", "ana", "cus_A", "2026-03-01T18:00:00Z")
    ledger.record_click("click_2", "ben", "cus_B", "2026-03-04T11:00:00Z")
    for webhook in webhooks():
        ledger.handle_webhook(webhook)
    for webhook in webhooks():  # Stripe retries: every webhook again, nothing changes
        assert ledger.handle_webhook(webhook) == []
    results = [ledger.reconcile(p, "2026-04", "2026-05-20T00:00:00Z") for p in ("ana", "ben")]
    for r in results:
        print(
            f"{r['partner']} {r['period']}: ledger {r['ledger_total']} ({r['rows']} row(s)),"
            f" statement {r['statement_total']}, payout {r['payout']} {r['status']}"
        )
    return results


# ANCHOR_END: main

if __name__ == "__main__":
    main()
