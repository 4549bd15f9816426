"""Draws the cost distributions of two plans over a Monte Carlo simulation to a PNG.

    python docs/examples/plot_cost_distributions.py OUT.png [--runs N]

The scenario and the plans are the ones under ``bench/simulate/``, scaled down with
``--partners`` so the example runs in seconds; every number comes from
`partnerkit.simulate`, which returns exact `Decimal` money (converted to floats here for
drawing only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt

import partnerkit

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "simulate"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--partners", type=int, default=500, help="partners over all segments")
    args = parser.parse_args()

    doc = json.loads((BENCH / "scenario_10k.json").read_text())
    total = sum(p["partners"] for p in doc["populations"])
    for p in doc["populations"]:
        p["partners"] = max(1, p["partners"] * args.partners // total)
    scenario = partnerkit.Scenario.from_dict(doc)
    plans = [
        partnerkit.Plan.from_json((BENCH / name).read_text())
        for name in ("plan_tiered.json", "plan_flat.json")
    ]
    sim = partnerkit.simulate(scenario, plans, runs=args.runs)
    runs = sim.runs()
    summary = sim.summary().set_index("plan")

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, group in runs.groupby("plan", sort=False):
        costs = group["cost"].astype(float)
        ax.hist(costs, bins=30, alpha=0.55, label=name)
        for stat, style in (("p5", ":"), ("p50", "-"), ("p95", ":")):
            ax.axvline(
                float(summary.loc[name, f"cost_{stat}"]),
                linestyle=style,
                linewidth=1,
                color=ax.patches[-1].get_facecolor(),
                alpha=1.0,
            )
    ax.set_title(
        f"Partner cost over {args.runs} simulated years "
        f"({scenario_partners(doc)} partners): p5 / p50 / p95"
    )
    ax.set_xlabel(f"net partner cost ({doc['currency']})")
    ax.set_ylabel("runs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(summary[["cost_p5", "cost_p50", "cost_p95", "cpa_p50", "roi_p50"]].to_string())


def scenario_partners(doc: dict[str, object]) -> int:
    pops = doc["populations"]
    assert isinstance(pops, list)
    return sum(int(p["partners"]) for p in pops)


if __name__ == "__main__":
    main()
