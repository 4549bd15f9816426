"""`evaluate_arrow`: the columnar fast path from Arrow, with `evaluate`'s ledger."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import partnerkit
from conftest import input_text, load, vector_files

# Event fields the Arrow columns carry; a vector whose events use others (a touch's `meta`,
# assignments, adjustments) cannot be written as a table.
COLUMNS = [
    "id",
    "kind",
    "at",
    "partner",
    "customer",
    "channel",
    "amount",
    "currency",
    "tax",
    "discount",
    "payment",
    "qualified",
    "campaign",
    "ip",
    "product",
    "subscription",
    "order",
]
KINDS = {"touch", "signup", "payment", "refund", "chargeback"}


def instant_ns(s: str) -> int:
    """An RFC 3339 instant as nanoseconds since the epoch, fractions kept exactly."""
    head, frac = s, ""
    for sep in ("Z", "z", "+", "-"):
        i = s.rfind(sep)
        if i > 10:
            head, tail = s[:i], s[i:]
            break
    else:
        tail = ""
    if "." in head:
        head, frac = head.split(".")
    whole = dt.datetime.fromisoformat(head + (tail if tail not in ("Z", "z") else "+00:00"))
    if whole.tzinfo is None:
        raise ValueError(f"no offset: {s}")
    ns = int(whole.timestamp()) * 10**9
    return ns + int((frac + "000000000")[:9]) if frac else ns


def table(events: list[dict[str, Any]]) -> pa.Table | None:
    """The events as an Arrow table (amounts as decimal strings), or None when they do not
    fit the columns."""
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for e in events:
        if e.get("kind") not in KINDS or any(k not in COLUMNS for k in e):
            return None
        for c in COLUMNS:
            v = e.get(c)
            # Only strings are cells (a JSON number or object has no Arrow string form),
            # and booleans in `qualified`.
            if v is not None and not isinstance(v, bool if c == "qualified" else str):
                return None
            cols[c].append(v)
    try:
        at = pa.array([instant_ns(a) for a in cols["at"]], pa.int64())
    except (TypeError, ValueError):
        # A malformed instant is the JSON parser's business: no timestamp holds it.
        return None
    fields: dict[str, pa.Array] = {
        c: pa.array(v, pa.bool_() if c == "qualified" else pa.string())
        for c, v in cols.items()
        if c != "at"
    }
    fields["at"] = at.cast(pa.timestamp("ns", tz="UTC"))
    return pa.table({c: fields[c] for c in COLUMNS})


def arrow_args(v: dict[str, Any]) -> dict[str, Any] | None:
    inp = v.get("input")
    if not isinstance(inp, dict) or "plan" not in inp:
        return None
    if set(inp) - {"plan", "partners", "events", "fx", "as_of"}:
        # Other document fields (a vector of the JSON parser's limits) have no Arrow form.
        return None
    t = table(inp.get("events", []))
    if t is None:
        return None
    return {
        "plan": inp["plan"],
        "events": t,
        "as_of": inp.get("as_of"),
        "partners": inp.get("partners", []),
        "fx": inp.get("fx", []),
    }


def ledger_rows(ledger: pa.Table) -> list[dict[str, Any]]:
    """Ledger rows with decimals and instants as the canonical report writes them."""
    out = []
    for r in ledger.to_pylist():
        row = {}
        for k, val in r.items():
            if isinstance(val, dt.datetime):
                row[k] = val.astimezone(dt.UTC)
            else:
                row[k] = val
        out.append(row)
    return out


def want_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for e in report["entries"]:
        row = {k: v for k, v in e.items() if k != "explain"}
        row["amount"] = Decimal(row["amount"])
        for k in ("earned_at", "available_at"):
            row[k] = dt.datetime.fromisoformat(row[k])
        out.append(row)
    return out


def test_every_vector_table_gives_the_canonical_ledger() -> None:
    native = compared = 0
    for path in vector_files():
        v = load(path)
        args = arrow_args(v)
        if args is None or args["as_of"] is None:
            continue
        try:
            report = json.loads(partnerkit.evaluate(input_text(v)).to_json())
        except partnerkit.PartnerkitError as e:
            with pytest.raises(partnerkit.PartnerkitError) as got:
                partnerkit.evaluate_arrow(**args)
            assert (got.value.code, got.value.path) == (e.code, e.path), (path, got.value, e)
            continue
        res = partnerkit.evaluate_arrow(**args)
        assert ledger_rows(res.ledger) == want_rows(report), path
        compared += 1
        native += res.fallback is None
    assert compared >= 100, compared
    assert native >= 40, native


PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "p",
    "currency": "USD",
    "rules": [{"id": "r", "reward": {"percent": "10"}}],
}
UTC = dt.UTC


def frame() -> dict[str, list[Any]]:
    return {
        "id": ["t1", "p1", "p2", "r1"],
        "kind": ["touch", "payment", "payment", "refund"],
        "at": [
            dt.datetime(2026, 1, 2, tzinfo=UTC),
            dt.datetime(2026, 1, 5, tzinfo=UTC),
            dt.datetime(2026, 2, 5, tzinfo=UTC),
            dt.datetime(2026, 3, 20, tzinfo=UTC),
        ],
        "partner": ["ana", None, None, None],
        "customer": ["c1", "c1", "c1", None],
        "channel": ["link", None, None, None],
        "amount": [None, Decimal("49.00"), Decimal("100.00"), Decimal("50.00")],
        "currency": [None, "USD", "USD", None],
        "payment": [None, None, None, "p2"],
    }


def test_limits_reach_the_evaluation() -> None:
    # By 05-01 the partner has two statements (February: p1; March: p2 and r1): under a
    # limit of one, the fast path hands the input over and the canonical path reports it.
    t = pa.table(frame())
    args: dict[str, Any] = {"partners": ["ana"], "as_of": "2026-05-01T00:00:00Z"}
    assert partnerkit.evaluate_arrow(PLAN, t, **args).fallback is None
    with pytest.raises(partnerkit.PartnerkitError) as got:
        partnerkit.evaluate_arrow(PLAN, t, **args, limits={"max_statements_per_partner": 1})
    assert got.value.code == "LimitExceeded", got.value
    assert "max_statements_per_partner" in got.value.message


def test_hand_worked_ledger_and_totals() -> None:
    # p1 49.00 × 10% = 4.90 and p2 100.00 × 10% = 10.00 (30-day hold: available 02-04 and
    # 03-07); r1 refunds half of p2 on 03-20, after its hold: a clawback of 10.00 × 50/100 =
    # 5.00, available at once. As of 03-25: the February statement (p1's 4.90, due 02-28
    # with no net days) is paid; March has not closed, so p2 and r1 are available.
    # Net 14.90 - 5.00 = 9.90; paid 4.90, available 10.00 - 5.00 = 5.00, pending 0.
    t = pa.table(frame())
    res = partnerkit.evaluate_arrow(PLAN, t, partners=["ana"], as_of="2026-03-25T00:00:00Z")
    assert res.fallback is None
    rows = res.ledger.to_pylist()
    assert [r["id"] for r in rows] == [
        "commission:p1:r:ana",
        "commission:p2:r:ana",
        "reversal:r1:commission:p2:r:ana",
    ]
    assert [r["amount"] for r in rows] == [Decimal("4.90"), Decimal("10.00"), Decimal("-5.00")]
    assert [r["status"] for r in rows] == ["paid", "available", "available"]
    totals = res.totals.to_pylist()
    assert totals == [
        {
            "partner": "ana",
            "currency": "USD",
            "entries": 3,
            "earned": Decimal("14.90"),
            "reversed": Decimal("-5.00"),
            "net": Decimal("9.90"),
            "pending": Decimal("0.00"),
            "available": Decimal("5.00"),
            "paid": Decimal("4.90"),
        }
    ]


def test_polars_and_pandas_give_the_pyarrow_ledger() -> None:
    t = pa.table(frame())
    want = partnerkit.evaluate_arrow(PLAN, t, partners=["ana"], as_of="2026-04-01T00:00:00Z")
    for events in (pl.from_arrow(t), t.to_pandas(), t.to_reader()):
        got = partnerkit.evaluate_arrow(
            PLAN, events, partners=["ana"], as_of="2026-04-01T00:00:00Z"
        )
        assert got.ledger.to_pylist() == want.ledger.to_pylist(), type(events)
        assert got.totals.equals(want.totals)


def test_dictionary_and_view_columns() -> None:
    t = pa.table(frame())
    cats = t.set_column(4, "customer", t["customer"].dictionary_encode())
    views = t.set_column(0, "id", t["id"].cast(pa.string_view()))
    want = partnerkit.evaluate_arrow(PLAN, t, partners=["ana"], as_of="2026-04-01T00:00:00Z")
    for events in (cats, views):
        got = partnerkit.evaluate_arrow(
            PLAN, events, partners=["ana"], as_of="2026-04-01T00:00:00Z"
        )
        assert got.ledger.to_pylist() == want.ledger.to_pylist()


def test_explanations_on_request_are_the_reports() -> None:
    t = pa.table(frame())
    res = partnerkit.evaluate_arrow(
        PLAN, t, partners=["ana"], as_of="2026-04-01T00:00:00Z", explain=True
    )
    assert res.fallback == "explanations asked for"
    doc = {
        "plan": PLAN,
        "partners": [{"id": "ana"}],
        "events": t,
        "as_of": "2026-04-01T00:00:00Z",
    }
    report = json.loads(partnerkit.evaluate(doc).to_json())
    got = [json.loads(x) for x in res.ledger.column("explain").to_pylist()]
    assert got == [e["explain"] for e in report["entries"]]


def test_zoned_quarterly_conditional_and_capped_plans_take_the_fast_path() -> None:
    # Each plan folds natively and gives the canonical ledger. Under the customer cap of
    # 12.00: p1 earns 4.90, p2 the 7.10 left of 12.00 (not 10.00), and r1's refund of half
    # of p2 after its hold claws back 7.10 x 50/100 = 3.55.
    capped = {
        "id": "r",
        "reward": {"percent": "10"},
        "limits": {
            "max_per_customer": "12.00",
            "max_per_period": {"period": "year", "amount": "100"},
        },
    }
    plans = [
        dict(PLAN, timezone="America/New_York"),
        dict(PLAN, timezone="Australia/Lord_Howe", payouts={"period": "quarter"}),
        dict(PLAN, rules=[{"id": "r", "reward": {"percent": "10"}, "when": {"within_months": 1}}]),
        dict(PLAN, rules=[capped]),
    ]
    t = pa.table(frame())
    as_of = "2026-04-01T00:00:00Z"
    for plan in plans:
        res = partnerkit.evaluate_arrow(plan, t, partners=["ana"], as_of=as_of)
        assert res.fallback is None, plan
        doc = {"plan": plan, "partners": [{"id": "ana"}], "events": t, "as_of": as_of}
        report = json.loads(partnerkit.evaluate(doc).to_json())
        assert ledger_rows(res.ledger) == want_rows(report), plan
    amounts = [r["amount"] for r in res.ledger.to_pylist()]
    assert amounts == [Decimal("4.90"), Decimal("7.10"), Decimal("-3.55")]


def test_several_rules_take_the_fast_path() -> None:
    # "30% of the first payment, 10% after" (SPEC 4): p1 (49.00, c1's first payment) earns
    # 30% = 14.70 under "first"; p2 (100.00) 10% = 10.00 under "recurring"; r1 refunds
    # half of p2, reversing 10.00 x 50/100 = 5.00 under the rule of the entry it reverses.
    plan = dict(
        PLAN,
        rules=[
            {"id": "first", "when": {"payment_number": {"max": 1}}, "reward": {"percent": "30"}},
            {"id": "recurring", "reward": {"percent": "10"}},
        ],
    )
    t = pa.table(frame())
    as_of = "2026-04-01T00:00:00Z"
    res = partnerkit.evaluate_arrow(plan, t, partners=["ana"], as_of=as_of)
    assert res.fallback is None
    rows = res.ledger.to_pylist()
    assert [r["amount"] for r in rows] == [Decimal("14.70"), Decimal("10.00"), Decimal("-5.00")]
    assert [r["rule"] for r in rows] == ["first", "recurring", "recurring"]
    doc = {"plan": plan, "partners": [{"id": "ana"}], "events": t, "as_of": as_of}
    assert ledger_rows(res.ledger) == want_rows(json.loads(partnerkit.evaluate(doc).to_json()))


def test_campaigns_and_products_take_the_fast_path() -> None:
    # frame() with ana's touch in the "spring" campaign, p1 of product "pro" and p2 of
    # "basic" (with subscription and order ids, carried along). Rules, first match: 30% on
    # "pro" bought through a "spring" touch, else 10%. p1: 30% of 49.00 = 14.70 under
    # "spring-pro"; p2: 10.00 under "base"; r1 refunds half of p2: -5.00. With the touch in
    # "fall", p1 earns 10% = 4.90.
    plan = dict(
        PLAN,
        rules=[
            {
                "id": "spring-pro",
                "when": {"campaign": ["spring"], "product": ["pro"]},
                "reward": {"percent": "30"},
            },
            {"id": "base", "reward": {"percent": "10"}},
        ],
    )
    f = frame()
    f["campaign"] = ["spring", None, None, None]
    f["ip"] = ["203.0.113.7", None, None, None]
    f["product"] = [None, "pro", "basic", None]
    f["subscription"] = [None, "sub-1", "sub-1", None]
    f["order"] = [None, "o-1", "o-2", None]
    as_of = "2026-04-01T00:00:00Z"
    t = pa.table(f)
    # Polars' categoricals arrive as Arrow dictionaries.
    cats = pl.from_arrow(t).with_columns(pl.col("campaign", "product").cast(pl.Categorical))
    assert isinstance(cats, pl.DataFrame)
    for events in (t, cats):
        res = partnerkit.evaluate_arrow(plan, events, partners=["ana"], as_of=as_of)
        assert res.fallback is None
        rows = res.ledger.to_pylist()
        assert [r["amount"] for r in rows] == [Decimal("14.70"), Decimal("10.00"), Decimal("-5.00")]
        assert [r["rule"] for r in rows] == ["spring-pro", "base", "base"]
        doc = {"plan": plan, "partners": [{"id": "ana"}], "events": t, "as_of": as_of}
        want = want_rows(json.loads(partnerkit.evaluate(doc).to_json()))
        assert ledger_rows(res.ledger) == want
    f["campaign"] = ["fall", None, None, None]
    res = partnerkit.evaluate_arrow(plan, pa.table(f), partners=["ana"], as_of=as_of)
    assert res.fallback is None
    assert res.ledger.column("amount")[0].as_py() == Decimal("4.90")
    # A product belongs to payments only.
    f["product"][0] = "pro"
    with pytest.raises(partnerkit.UnknownFieldError) as e:
        partnerkit.evaluate_arrow(plan, pa.table(f), partners=["ana"], as_of=as_of)
    assert e.value.path == "events[0].product"


def test_signups_are_read_and_take_the_fast_path() -> None:
    # A signup (c1's, qualified, and one that does not say) changes nothing under a plan
    # that rewards payments: the ledger is frame()'s, 4.90, 10.00 and -5.00, natively.
    f = frame()
    f["id"] += ["s1", "s2"]
    f["kind"] += ["signup", "signup"]
    f["at"] += [dt.datetime(2026, 1, 3, tzinfo=UTC), dt.datetime(2026, 2, 1, tzinfo=UTC)]
    f["partner"] += [None, None]
    f["customer"] += ["c1", "c2"]
    f["channel"] += [None, None]
    f["amount"] += [None, None]
    f["currency"] += [None, None]
    f["payment"] += [None, None]
    f["qualified"] = [None, None, None, None, True, None]
    t = pa.table(f)
    as_of = "2026-04-01T00:00:00Z"
    res = partnerkit.evaluate_arrow(PLAN, t, partners=["ana"], as_of=as_of)
    assert res.fallback is None
    amounts = [r["amount"] for r in res.ledger.to_pylist()]
    assert amounts == [Decimal("4.90"), Decimal("10.00"), Decimal("-5.00")]
    doc = {"plan": PLAN, "partners": [{"id": "ana"}], "events": t, "as_of": as_of}
    assert ledger_rows(res.ledger) == want_rows(json.loads(partnerkit.evaluate(doc).to_json()))
    # `qualified` belongs to signups only.
    f["qualified"][1] = False
    with pytest.raises(partnerkit.UnknownFieldError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of=as_of)
    assert e.value.path == "events[1].qualified"


def test_statements_in_a_partners_currency_take_the_fast_path() -> None:
    # frame()'s entries, ana paid in EUR: p1 4.90 (earned 01-05, available 02-04), p2 10.00
    # (earned 02-05), r1 -5.00 (half of p2). The threshold is 4.50 USD; a USD→EUR rate of
    # 0.90 from 01-01 and 1.00 from 02-01. As of 03-25 only February's statement has closed
    # (threshold 4.50 × 1.00 = 4.50 EUR on 02-28), holding p1 alone:
    # - fx_date earned: 4.90 × 0.90 = 4.41 EUR < 4.50, carried: p1 stays available;
    # - fx_date available: 4.90 × 1.00 = 4.90 EUR ≥ 4.50, paid (due 02-28).
    # In USD (4.90 ≥ 4.50) p1 would be paid either way.
    plan = dict(PLAN, payouts={"threshold": "4.50"})
    t = pa.table(frame())
    fx = [
        {"date": "2026-01-01", "from": "USD", "to": "EUR", "rate": "0.90"},
        {"date": "2026-02-01", "from": "USD", "to": "EUR", "rate": "1.00"},
    ]
    partners = [{"id": "ana", "payout_currency": "EUR"}]
    as_of = "2026-03-25T00:00:00Z"
    for fx_date, first in [("earned", "available"), ("available", "paid")]:
        p = dict(plan, payouts={"threshold": "4.50", "fx_date": fx_date})
        res = partnerkit.evaluate_arrow(p, t, partners=partners, fx=fx, as_of=as_of)
        assert res.fallback is None, fx_date
        assert [r["status"] for r in res.ledger.to_pylist()] == [first, "available", "available"]
        doc = {"plan": p, "partners": partners, "events": t, "fx": fx, "as_of": as_of}
        want = want_rows(json.loads(partnerkit.evaluate(doc).to_json()))
        assert ledger_rows(res.ledger) == want, fx_date
    # Without the January rate, p1 has none under `earned`: an error once February's
    # statement shows it, the canonical path's own; before it closes, no statement needs it.
    late = fx[1:]
    p = dict(plan, payouts={"threshold": "4.50", "fx_date": "earned"})
    with pytest.raises(partnerkit.PartnerkitError) as e:
        partnerkit.evaluate_arrow(p, t, partners=partners, fx=late, as_of=as_of)
    assert e.value.code == "MissingFxRate", e.value
    res = partnerkit.evaluate_arrow(p, t, partners=partners, fx=late, as_of="2026-02-20T00:00:00Z")
    assert res.fallback is None
    assert [r["status"] for r in res.ledger.to_pylist()] == ["available", "pending"]


def test_payments_in_other_currencies_convert_with_the_rates_given() -> None:
    # p2 in EUR: its commission is 10% of 100.00 EUR, 10.00 EUR, and r1 takes back half
    # of it, 5.00 EUR: entries in the payment's currency. The canonical path converts
    # p2's base and commission to USD on its date (the rate 1.10), and the USD statements
    # convert its entries. A plain percentage folds such payments on the fast path.
    f = frame()
    f["currency"][2] = "EUR"
    fx = [{"date": "2026-01-01", "from": "EUR", "to": "USD", "rate": "1.10"}]
    args: dict[str, Any] = {"partners": ["ana"], "fx": fx, "as_of": "2026-03-25T00:00:00Z"}
    res = partnerkit.evaluate_arrow(PLAN, pa.table(f), **args)
    assert res.fallback is None
    rows = res.ledger.to_pylist()
    assert [(r["amount"], r["currency"]) for r in rows] == [
        (Decimal("4.90"), "USD"),
        (Decimal("10.00"), "EUR"),
        (Decimal("-5.00"), "EUR"),
    ]
    doc = {**args, "plan": PLAN, "events": pa.table(f), "partners": [{"id": "ana"}]}
    want = want_rows(json.loads(partnerkit.evaluate(doc).to_json()))
    assert ledger_rows(res.ledger) == want
    # Without the rate, p2's base cannot be converted: the canonical path's error.
    with pytest.raises(partnerkit.PartnerkitError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), **dict(args, fx=[]))
    assert e.value.code == "MissingFxRate", e.value
    # A cap in USD reads amounts in the plan currency: such a plan leaves these payments
    # to the canonical path, which gives the same entries.
    capped = dict(PLAN, rules=[dict(PLAN["rules"][0], limits={"max_per_event": "50"})])
    res = partnerkit.evaluate_arrow(capped, pa.table(f), **args)
    assert res.fallback is not None
    assert res.fallback.startswith("the input has a payment in a currency other than the plan's")
    assert [(r["amount"], r["currency"]) for r in res.ledger.to_pylist()] == [
        (Decimal("4.90"), "USD"),
        (Decimal("10.00"), "EUR"),
        (Decimal("-5.00"), "EUR"),
    ]


def test_a_plan_off_the_fast_path_says_why() -> None:
    plan = dict(PLAN, attribution={"model": "linear"})
    res = partnerkit.evaluate_arrow(
        plan, pa.table(frame()), partners=["ana"], as_of="2026-04-01T00:00:00Z"
    )
    assert res.fallback == "the plan uses attribution model linear"
    assert res.ledger.num_rows == 3


def test_floats_are_refused() -> None:
    f = frame()
    f["amount"] = [None, 49.0, 100.0, 50.0]
    with pytest.raises(partnerkit.InvalidValueError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert e.value.path == "events.amount"


def test_naive_timestamps_are_refused() -> None:
    f = frame()
    f["at"] = [a.replace(tzinfo=None) for a in f["at"]]
    with pytest.raises(partnerkit.InvalidValueError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert e.value.path == "events.at"


def test_row_errors_name_the_row() -> None:
    f = frame()
    f["currency"] = [None, "USD", None, None]
    with pytest.raises(partnerkit.MissingFieldError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert e.value.path == "events[2].currency"
    f = frame()
    f["extra"] = [1, 2, 3, 4]
    with pytest.raises(partnerkit.UnknownFieldError) as u:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert u.value.path == "events.extra"


def test_canonical_errors_come_through() -> None:
    f = frame()
    f["payment"] = [None, None, None, "nope"]
    with pytest.raises(partnerkit.UnknownPaymentError) as e:
        partnerkit.evaluate_arrow(PLAN, pa.table(f), partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert e.value.path == "events[3].payment"


def test_pandas_frame_of_decimals() -> None:
    df = pd.DataFrame(frame())
    res = partnerkit.evaluate_arrow(PLAN, df, partners=["ana"], as_of="2026-04-01T00:00:00Z")
    assert [str(a) for a in res.ledger.column("amount").to_pylist()] == ["4.90", "10.00", "-5.00"]
