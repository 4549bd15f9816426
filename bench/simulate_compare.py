"""Times partnerkit's simulator and the plain numpy/pandas version on the same scenario, in
one run, and prints both medians (they agree in distribution, not draw for draw).

    python bench/simulate_compare.py                    # 1,000 runs × 10,000 partners × 12 months
    python bench/simulate_compare.py --runs 20 --partners 500   # what CI runs

Needs the Python binding installed (``pip install ./bindings-python``), numpy and pandas.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import time

import simulate_numpy

import partnerkit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--partners", type=int, default=10_000, help="over all segments")
    parser.add_argument(
        "--numpy-runs", type=int, default=None, help="runs of the numpy version (default: --runs)"
    )
    args = parser.parse_args()
    scenario, plan = simulate_numpy.load()
    total = sum(p["partners"] for p in scenario["populations"])
    for p in scenario["populations"]:
        p["partners"] = max(1, p["partners"] * args.partners // total)
    partners = sum(p["partners"] for p in scenario["populations"])
    scenario["runs"] = args.runs
    months = scenario["months"]

    t0 = time.perf_counter()
    sim = partnerkit.simulate(partnerkit.Scenario.from_dict(scenario), [plan])
    t_pk = time.perf_counter() - t0
    pk = sim.summary().iloc[0]

    np_runs = args.numpy_runs or args.runs
    t0 = time.perf_counter()
    df = simulate_numpy.simulate(scenario, plan, runs=np_runs, seed=scenario["seed"])
    t_np = time.perf_counter() - t0

    print(
        f"{args.runs} runs × {partners} partners × {months} months, tiered plan, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':24}{'wall s':>10}{'ms/run':>10}{'cost p50':>16}{'customers p50':>16}")
    print(
        f"{'partnerkit (' + pk['path'] + ' path)':24}{t_pk:>10.2f}{1000 * t_pk / args.runs:>10.1f}"
        f"{float(pk['cost_p50']):>16,.2f}{float(pk['customers_p50']):>16,.0f}"
    )
    print(
        f"{'numpy/pandas':24}{t_np:>10.2f}{1000 * t_np / np_runs:>10.1f}"
        f"{df['cost'].median():>16,.2f}{df['customers'].median():>16,.0f}"
        + (f"   ({np_runs} runs)" if np_runs != args.runs else "")
    )
    per_run = (t_np / np_runs) / (t_pk / args.runs)
    print(f"partnerkit is {per_run:.1f}× faster per run")


if __name__ == "__main__":
    main()
