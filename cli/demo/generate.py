#!/usr/bin/env python3
"""Generates ../src/demo.json, the input document behind `partnerkit demo`.

The demo is "Acme Analytics partner program": a SaaS affiliate program over January to
June 2026, evaluated as of 2026-07-20T00:00:00Z with the plan cut in America/New_York.

Run from anywhere:

    python3 cli/demo/generate.py

Determinism
-----------
The output is a pure function of this file. It uses one `random.Random(SEED)` instance and
only its integer methods (`randint`, `choice`, `shuffle`), called in a fixed order while
walking fixed lists; nothing reads the clock or the environment, and dicts keep insertion order in the JSON. Running it twice gives
byte-identical output.

Money
-----
No floats ever touch money. Prices, taxes and refunds are integer cents; `cents()` formats
them as decimal strings ("52.92"), which is what partnerkit expects. Tax is computed in
integer thousandths of a percent with half-up rounding: `(price * rate + 50000) // 100000`
(8.875% is 8875). FX rates are
written as literal strings.

What is in it
-------------
* 8 partners: four affiliates (one paid in EUR, one suspended on 2026-04-15), two agencies,
  two integrations.
* 60 customers: each comes in through a partner's link or coupon (a handful have no eligible
  touch and stay unattributed), signs up, pays monthly after a 14-day trial at $49/$99/$299,
  some with sales tax or VAT, some churn.
* Specials, each placed deterministically: partial refunds inside the hold (cancels), one
  refund after the commission was paid (clawback after payout), one chargeback after the hold
  (clawback before payout), a competing link touch losing to a coupon, a manual adjustment
  bonus, and one payment webhook delivered twice.
"""

import datetime as dt
import json
import os
import random

SEED = 20260720

AS_OF = "2026-07-20T00:00:00Z"
LAST_DAY = dt.date(2026, 6, 30)  # no event after this day

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "demo.json")


def cents(c):
    """Integer cents -> decimal string with two digits ("-4.90", "299.00")."""
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def at(day, hour, minute):
    """A UTC instant string on `day` (a date)."""
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def add_months(day, n):
    """Same day-of-month n months later (callers keep the day <= 28)."""
    m = day.month - 1 + n
    return dt.date(day.year + m // 12, m % 12 + 1, day.day)


PLAN = {
    "schema": "partnerkit/plan@1",
    "id": "acme-analytics-partners",
    "name": "Acme Analytics partner program",
    "currency": "USD",
    "timezone": "America/New_York",
    "rounding": "half_up",
    "commission_base": "net",
    "attribution": {"model": "last_touch", "window_days": 30},
    "combine": "first_match",
    "rules": [
        {
            "id": "agency-recurring",
            "when": {"segment": ["agency"]},
            "reward": {"percent": "25"},
        },
        {
            "id": "affiliate-first-payment",
            "when": {"segment": ["affiliate"], "payment_number": {"max": 1}},
            "reward": {"percent": "30"},
        },
        {
            "id": "affiliate-first-year",
            "when": {"segment": ["affiliate"], "within_months": 12},
            "reward": {"percent": "20"},
        },
        {
            "id": "integration-capped",
            "when": {"segment": ["integration"]},
            "reward": {"percent": "15"},
            "limits": {"max_per_customer": "100"},
        },
    ],
    "lifecycle": {"hold_days": 30, "clawback": "always", "negative_balance": "carry"},
    "payouts": {
        "period": "month",
        "threshold": "50",
        "net_days": 15,
        "currency": "partner",
        "fx_date": "earned",
    },
}

# (id, segment, joined, extra fields). Order matters for the RNG: do not reorder.
PARTNERS = [
    ("analytics-weekly", "affiliate", "2025-11-03T15:00:00Z", {}),
    ("dataviz-daily", "affiliate", "2025-12-01T15:00:00Z", {}),
    (
        "saas-reviews",
        "affiliate",
        "2025-10-20T15:00:00Z",
        {"status": [{"at": "2026-04-15T13:00:00Z", "status": "suspended"}]},
    ),
    ("zahlenblog", "affiliate", "2025-12-10T09:00:00Z", {"payout_currency": "EUR"}),
    ("northwind-agency", "agency", "2025-09-15T15:00:00Z", {}),
    ("brightpath-digital", "agency", "2026-01-05T15:00:00Z", {}),
    ("pipewise", "integration", "2025-08-01T15:00:00Z", {}),
    ("sheetsync", "integration", "2026-02-01T15:00:00Z", {}),
]

# How many of the 60 customers each partner brings (None: came direct, unattributed).
BRINGS = [
    ("analytics-weekly", 12),
    ("dataviz-daily", 2),
    ("saas-reviews", 8),
    ("zahlenblog", 7),
    ("northwind-agency", 10),
    ("brightpath-digital", 6),
    ("pipewise", 6),
    ("sheetsync", 4),
    (None, 5),
]

# Monthly price in cents, per segment of the partner who brought the customer.
PRICES = {
    "affiliate": [4900, 4900, 4900, 9900, 9900, 29900],
    "agency": [9900, 29900, 29900],
    "integration": [9900, 9900, 29900],
    None: [4900, 9900],
}
PLAN_NAME = {4900: "starter", 9900: "team", 29900: "business"}

# Tax regions: (name, rate in thousandths of a percent). Amounts charged include the tax.
US_TAX = [("none", 0), ("none", 0), ("none", 0), ("us-ny", 8875), ("us-tx", 6250)]
EU_TAX = [("de-vat", 19000), ("at-vat", 20000)]

# 1 USD = rate EUR, from that date on.
FX = [
    ("2026-01-01", "0.9215"),
    ("2026-02-01", "0.9187"),
    ("2026-03-01", "0.9243"),
    ("2026-04-01", "0.9106"),
    ("2026-05-01", "0.9052"),
    ("2026-06-01", "0.9121"),
    ("2026-07-01", "0.9098"),
]


def segment_of(pid):
    return next(seg for (p, seg, _, _) in PARTNERS if p == pid) if pid else None


def build(rng):
    partners = []
    for pid, seg, joined, extra in PARTNERS:
        doc = {"id": pid, "segment": seg, "joined_at": joined}
        doc.update(extra)
        partners.append(doc)

    owners = [pid for pid, n in BRINGS for _ in range(n)]
    rng.shuffle(owners)

    events = []
    customers = []  # (customer id, owner, [payment event dicts])
    for i, owner in enumerate(owners, start=1):
        cust = f"cus-{i:03d}"
        seg = segment_of(owner)
        # Trial start (signup). saas-reviews customers all start before its suspension.
        last_start = 60 if owner == "saas-reviews" else 140
        signup = dt.date(2026, 1, 2) + dt.timedelta(days=rng.randint(0, last_start))
        if signup.day > 14:  # keeps every billing day <= 28
            signup = signup.replace(day=rng.randint(1, 14))
        first_pay = signup + dt.timedelta(days=14)
        price = rng.choice(PRICES[seg])
        region, rate = rng.choice(EU_TAX if owner == "zahlenblog" else US_TAX)
        tax = (price * rate + 50000) // 100000

        # Touches.
        if owner is None:
            # Direct: no touch at all, or a touch long out of the 30-day window.
            if i % 2 == 0:
                stale = signup - dt.timedelta(days=40)
                events.append(touch(rng, stale, "analytics-weekly", cust, "link"))
        else:
            channel = "coupon" if rng.randint(1, 5) == 1 else "link"
            tday = signup - dt.timedelta(days=rng.randint(0, 10))
            events.append(touch(rng, tday, owner, cust, channel))
            if channel == "coupon":
                # A later link click of another affiliate: the coupon still wins.
                rival = "dataviz-daily" if owner != "dataviz-daily" else "analytics-weekly"
                events.append(touch(rng, signup, rival, cust, "link", hour=11))
        events.append(
            {
                "id": f"sig-{cust}",
                "kind": "signup",
                "at": at(signup, 16, rng.randint(0, 59)),
                "customer": cust,
            }
        )

        # Monthly payments until churn or the end of June.
        pays = []
        n = 0
        while True:
            day = add_months(first_pay, n)
            if day > LAST_DAY:
                break
            if n > 0 and rng.randint(1, 12) == 1:
                break  # churned
            n += 1
            ev = {
                "id": f"pay-{cust}-{n:02d}",
                "kind": "payment",
                "at": at(day, 14, rng.randint(0, 59)),
                "customer": cust,
                "amount": cents(price + tax),
                "currency": "USD",
            }
            if tax:
                ev["tax"] = cents(tax)
            ev["product"] = PLAN_NAME[price]
            ev["subscription"] = f"sub-{cust}"
            pays.append(ev)
        events.extend(pays)
        customers.append((cust, owner, price + tax, pays, region))

    specials(rng, customers, events)

    fx = [{"date": d, "from": "USD", "to": "EUR", "rate": r} for d, r in FX]
    return {
        "plan": PLAN,
        "partners": partners,
        "events": events,
        "fx": fx,
        "as_of": AS_OF,
    }


def touch(rng, day, partner, cust, channel, hour=None):
    ev = {
        "id": f"tch-{cust}-{partner}",
        "kind": "touch",
        "at": at(day, hour if hour is not None else rng.randint(12, 22), rng.randint(0, 59)),
        "partner": partner,
        "customer": cust,
        "channel": channel,
    }
    if channel == "coupon":
        ev["campaign"] = f"{partner}-coupon"
    return ev


def pay_date(ev):
    return dt.date.fromisoformat(ev["at"][:10])


def find(customers, owner, pred):
    """The first customer (in id order) of `owner` with a payment satisfying `pred`."""
    for cust, o, amount, pays, _ in customers:
        if o != owner:
            continue
        for ev in pays:
            if pred(ev):
                return cust, amount, ev
    raise SystemExit(f"generator: no payment of {owner} fits a special case")


def specials(rng, customers, events):
    # Partial refunds a few days after the payment: inside the hold, so they cancel.
    for owner, month in [("analytics-weekly", 3), ("northwind-agency", 5), ("zahlenblog", 4)]:
        _, amount, p = find(customers, owner, lambda e: pay_date(e).month == month)
        day = pay_date(p) + dt.timedelta(days=rng.randint(2, 9))
        events.append(
            {
                "id": f"ref-{p['id']}",
                "kind": "refund",
                "at": at(day, 18, rng.randint(0, 59)),
                "payment": p["id"],
                "amount": cents(amount // 2),
            }
        )

    # A full refund long after the hold: the February commission was on the March
    # statement, paid on April 15; the refund on April 20 claws it back.
    _, amount, p = find(
        customers,
        "analytics-weekly",
        lambda e: pay_date(e).month == 2 and not e["id"].endswith("-01"),
    )
    events.append(
        {
            "id": f"ref-{p['id']}",
            "kind": "refund",
            "at": "2026-04-20T17:30:00Z",
            "payment": p["id"],
            "amount": cents(amount),
        }
    )

    # A chargeback on a March payment in May: the commission is available (April
    # statement, due May 15) but not yet paid, so it is clawed back too.
    _, _, p = find(customers, "brightpath-digital", lambda e: pay_date(e).month == 3)
    events.append(
        {
            "id": f"cbk-{p['id']}",
            "kind": "chargeback",
            "at": "2026-05-02T10:05:00Z",
            "payment": p["id"],
        }
    )

    # A manual bonus for co-hosting a webinar.
    events.append(
        {
            "id": "adj-northwind-webinar",
            "kind": "adjustment",
            "at": "2026-04-01T15:00:00Z",
            "partner": "northwind-agency",
            "amount": "150.00",
            "currency": "USD",
            "reason": "Co-marketing webinar bonus (March)",
        }
    )

    # The payment processor delivered one webhook twice.
    _, _, p = find(customers, "pipewise", lambda e: pay_date(e).month == 5)
    events.append(dict(p))


def main():
    doc = build(random.Random(SEED))
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(OUT)}: {len(doc['events'])} events")


if __name__ == "__main__":
    main()
