"""The Monte Carlo simulation of ``bench/simulate/``, written plainly in numpy and pandas.

An independent implementation of the same model as partnerkit's simulator, for comparison:
per run, each partner draws its monthly touches (lognormal), conversion rate (beta), churn
(uniform) and refund rate; each month brings Poisson(touches × rate) new customers, who pay
one order (agencies) or a monthly subscription until they churn; a refunded payment is
reversed 14 days later. The tiered plan pays ``percent_by_tier`` on each payment (rounded
half up to the cent); tiers are evaluated at each month's end on the month's referrals,
revenue (net of the refunds booked in the month) and active customers, promoting to the
highest level that holds and demoting after two failed months.

It is vectorised over partners and customers with numpy (bincount for the per-partner monthly
metrics) and uses pandas for the summary, as a data scientist would write it. Its random
streams are numpy's, not partnerkit's: the two agree in distribution (the runner prints
both medians), not draw for draw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent / "simulate"


def _draw(rng: np.random.Generator, dist: dict[str, Any], n: int) -> np.ndarray:
    ((kind, p),) = dist.items()
    if kind == "fixed":
        return np.full(n, float(p))
    if kind == "uniform":
        return rng.uniform(float(p["min"]), float(p["max"]), n)
    if kind == "lognormal":
        return np.exp(np.log(float(p["median"])) + float(p["sigma"]) * rng.standard_normal(n))
    if kind == "beta":
        return rng.beta(float(p["alpha"]), float(p["beta"]), n)
    if kind == "normal":
        return np.maximum(rng.normal(float(p["mean"]), float(p["sd"]), n), 0.0)
    raise ValueError(kind)


def _cents(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(x * 100), 1).astype(np.int64)


def _tiers(plan: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    levels = [lv["id"] for lv in plan["tiers"]["levels"]]
    rates = plan["rules"][0]["reward"]["percent_by_tier"]
    return levels, np.array([int(rates[lv]) for lv in levels], dtype=np.int64)


def one_run(scenario: dict[str, Any], plan: dict[str, Any], rng: np.random.Generator) -> dict:
    """One simulated horizon: cost, sales, customers and the tier mix at the end."""
    months = int(scenario["months"])
    refund_days = int(scenario.get("refund_after_days", 14))
    month_secs = 30 * 86400  # partnerkit uses calendar months; 30 days is close enough here
    pops = scenario["populations"]
    sizes = [int(p["partners"]) for p in pops]
    n = sum(sizes)
    pop_of = np.repeat(np.arange(len(pops)), sizes)
    lam = np.empty(n)
    conv = np.empty(n)
    churn = np.ones(n)
    refund = np.zeros(n)
    for i, p in enumerate(pops):
        sel = pop_of == i
        k = int(sel.sum())
        lam[sel] = _draw(rng, p["touches_per_month"], k)
        conv[sel] = np.clip(_draw(rng, p["conversion_rate"], k), 0, 1)
        if "subscription" in p:
            churn[sel] = np.clip(_draw(rng, p["subscription"]["monthly_churn"], k), 0, 1)
        if "refund_rate" in p:
            refund[sel] = np.clip(_draw(rng, p["refund_rate"], k), 0, 1)
    levels, rates = _tiers(plan)
    tier = np.zeros(n, dtype=np.int64)
    failed = np.zeros(n, dtype=np.int64)
    # Active subscriptions: partner, price (cents), offset into the month (seconds).
    sub_partner = np.empty(0, dtype=np.int64)
    sub_price = np.empty(0, dtype=np.int64)
    sub_offset = np.empty(0, dtype=np.int64)
    carried_revenue = np.zeros(n, dtype=np.int64)  # refunds falling into the next month
    cost = sales = customers = 0
    for _ in range(months):
        k = rng.poisson(lam * conv)
        new_partner = np.repeat(np.arange(n), k)
        customers += len(new_partner)
        new_offset = rng.integers(0, month_secs, len(new_partner))
        price = np.empty(len(new_partner), dtype=np.int64)
        subscribes = np.zeros(len(new_partner), dtype=bool)
        for i, p in enumerate(pops):
            sel = pop_of[new_partner] == i
            dist = p["subscription"]["price"] if "subscription" in p else p["order_value"]
            price[sel] = _cents(_draw(rng, dist, int(sel.sum())))
            subscribes[sel] = "subscription" in p
        pay_partner = np.concatenate([sub_partner, new_partner])
        pay_amount = np.concatenate([sub_price, price])
        pay_offset = np.concatenate([sub_offset, new_offset])
        is_sub = np.concatenate([np.ones(len(sub_partner), dtype=bool), subscribes])
        refunded = rng.random(len(pay_partner)) < refund[pay_partner]
        commission = (pay_amount * rates[tier[pay_partner]] + 50) // 100
        kept = np.where(refunded, 0, commission)
        cost += int(kept.sum())
        sales += int(np.where(refunded, 0, pay_amount).sum())
        # Month metrics per partner: referrals, active customers, revenue net of refunds.
        referrals = np.bincount(new_partner, minlength=n)
        active = np.bincount(pay_partner, minlength=n)
        revenue = np.bincount(pay_partner, weights=pay_amount, minlength=n).astype(np.int64)
        late = refunded & (pay_offset + refund_days * 86400 >= month_secs)
        now = refunded & ~late
        revenue -= np.bincount(pay_partner[now], weights=pay_amount[now], minlength=n).astype(
            np.int64
        )
        revenue -= carried_revenue
        carried_revenue = np.bincount(
            pay_partner[late], weights=pay_amount[late], minlength=n
        ).astype(np.int64)
        # Month end: silver = 3 referrals or $1,000; gold = 6 referrals and 10 active.
        silver = (referrals >= 3) | (revenue >= 100_000)
        gold = (referrals >= 6) & (active >= 10)
        best = np.where(gold, 2, np.where(silver, 1, 0))
        up = best > tier
        holds = best == tier
        failed = np.where(up | holds, 0, failed + 1)
        down = failed >= 2
        tier = np.where(up, best, np.where(down, np.maximum(best, 0), tier))
        failed = np.where(down, 0, failed)
        # Subscribers who stay pay again next month.
        stay = is_sub & (rng.random(len(pay_partner)) >= churn[pay_partner])
        sub_partner, sub_price, sub_offset = pay_partner[stay], pay_amount[stay], pay_offset[stay]
    mix = np.bincount(tier, minlength=len(levels))
    return {
        "cost": cost / 100,
        "sales": sales / 100,
        "customers": customers,
        **{f"tier[{lv}]": int(c) for lv, c in zip(levels, mix, strict=True)},
    }


def simulate(scenario: dict[str, Any], plan: dict[str, Any], runs: int, seed: int) -> pd.DataFrame:
    """Every run as a row, like ``partnerkit.Simulation.runs()``."""
    rng = np.random.default_rng(seed)
    rows = [one_run(scenario, plan, rng) for _ in range(runs)]
    return pd.DataFrame(rows)


def load() -> tuple[dict[str, Any], dict[str, Any]]:
    scenario = json.loads((HERE / "scenario_10k.json").read_text())
    plan = json.loads((HERE / "plan_tiered.json").read_text())
    return scenario, plan


if __name__ == "__main__":
    sc, pl = load()
    df = simulate(sc, pl, runs=5, seed=1)
    print(df.describe(percentiles=[0.05, 0.5, 0.95]).T)
