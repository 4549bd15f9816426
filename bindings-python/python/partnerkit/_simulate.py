"""The simulator (SPEC §13): Monte Carlo, backtests and parameter sweeps as DataFrames.

Every number comes from the Rust core (``partnerkit simulate``/``compare``/``sweep`` give the
same ones); this module only turns the core's JSON into pandas DataFrames, whose money columns
hold exact `Decimal` values. Results hold the core's JSON text, so they pickle; so do
`Scenario` and `Plan`. A sweep fans out on a Dask ``distributed`` client when one is given:
each grid point is simulated on a worker, and since every random draw is keyed by (seed, run,
partner), the table is the one a local run gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from partnerkit import _native
from partnerkit._native import Plan, Scenario

if TYPE_CHECKING:
    import pandas as pd

# A plan as the simulator takes it: a `Plan`, a dict, a list of versions (a plan history),
# or JSON text.
PlanLike: TypeAlias = Plan | Mapping[str, Any] | Sequence[Any] | str | bytes
ScenarioLike: TypeAlias = Scenario | Mapping[str, Any] | str | bytes

_STATS = ("mean", "p5", "p50", "p95")


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError(
            "the simulator's tables are pandas DataFrames: pip install pandas "
            "(or partnerkit[pandas])"
        ) from e
    return pd


def _dec(v: Any) -> Any:
    return Decimal(v) if isinstance(v, str) else v


def _flat_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's summary as one flat row: ``cost_p50``, ``cpa_mean``, ... (the core's
    ``summary_rows``)."""
    row: dict[str, Any] = {"plan": plan["plan"], "path": plan["path"]}
    for quantity, s in plan["summary"].items():
        for stat in _STATS:
            row[f"{quantity}_{stat}"] = None if s is None else _dec(s[stat])
    return row


class Simulation:
    """A Monte Carlo result: every run of every plan, summarised by the core (mean and
    nearest-rank p5/p50/p95 over runs). Pickles as its JSON."""

    __slots__ = ("_doc", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._doc: dict[str, Any] = json.loads(text)

    def to_json(self) -> str:
        """The core's JSON (``partnerkit/simulation@1``)."""
        return self._text

    def to_dict(self) -> dict[str, Any]:
        """The result as Python values (amounts as ``str``, as in JSON)."""
        result: dict[str, Any] = json.loads(self._text)
        return result

    def summary(self) -> pd.DataFrame:
        """One row per plan: ``plan``, ``path`` (``fast`` or ``engine``), then mean/p5/p50/p95
        of cost, CPA, ROI, sales, customers and the runs' median and p95 partner earnings
        (``cost_p50``, ``roi_p5``, ...), as `Decimal`."""
        pd = _pandas()
        return pd.DataFrame([_flat_summary(p) for p in self._doc["plans"]])

    def runs(self) -> pd.DataFrame:
        """One row per plan and run: cost, sales, customers, CPA, ROI, partner earnings p50
        and p95, then ``cost[<segment>]`` per segment and ``tier[<level>]`` (partners per tier
        at the horizon's end). Money as `Decimal`."""
        pd = _pandas()
        rows = []
        for p in self._doc["plans"]:
            for r in p["runs"]:
                row: dict[str, Any] = {"plan": p["plan"]}
                for k, v in r.items():
                    if k == "segments":
                        row.update({f"cost[{s}]": _dec(c) for s, c in v.items()})
                    elif k == "tiers":
                        row.update({f"tier[{t}]": n for t, n in v.items()})
                    else:
                        row[k] = _dec(v)
                rows.append(row)
        return pd.DataFrame(rows)

    def __reduce__(self) -> tuple[type[Simulation], tuple[str]]:
        return (Simulation, (self._text,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Simulation) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        d = self._doc
        plans = ", ".join(p["plan"] for p in d["plans"])
        return f"<Simulation runs={d['runs']} partners={d['partners']} plans=[{plans}]>"


class Comparison:
    """A backtest: the same input under several plans, the first being the baseline.
    Pickles as its JSON."""

    __slots__ = ("_doc", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._doc: dict[str, Any] = json.loads(text)

    def to_json(self) -> str:
        """The core's JSON (``partnerkit/comparison@1``)."""
        return self._text

    def summary(self) -> pd.DataFrame:
        """One row per plan: cost, CPA, referrals, revenue, partner earnings (mean, p5, p50,
        p95, max) and the winners and losers against the first plan."""
        pd = _pandas()
        rows = []
        for p in self._doc["plans"]:
            e = p["earnings"] or {}
            rows.append(
                {
                    "plan": p["plan"],
                    "cost": _dec(p["cost"]),
                    "cpa": _dec(p["cpa"]),
                    "referrals": p["referrals"],
                    "revenue": _dec(p["revenue"]),
                    **{f"earnings_{k}": _dec(e.get(k)) for k in (*_STATS, "max")},
                    **{k: _dec(v) for k, v in p["versus_first"].items()},
                }
            )
        return pd.DataFrame(rows)

    def partners(self) -> pd.DataFrame:
        """One row per partner: ``partner``, ``segment``, then its earnings and tier under
        each plan (``earnings[<plan>]``, ``tier[<plan>]``; a plan id given twice is numbered)."""
        pd = _pandas()
        names = _unique([p["plan"] for p in self._doc["plans"]])
        rows = []
        for r in self._doc["partners"]:
            row: dict[str, Any] = {"partner": r["partner"], "segment": r["segment"]}
            for name, e, t in zip(names, r["earnings"], r["tiers"], strict=True):
                row[f"earnings[{name}]"] = Decimal(e)
                row[f"tier[{name}]"] = t
            rows.append(row)
        return pd.DataFrame(rows)

    def segments(self) -> pd.DataFrame:
        """One row per plan and segment: partners and cost."""
        pd = _pandas()
        rows = [
            {
                "plan": p["plan"],
                "segment": s["segment"],
                "partners": s["partners"],
                "cost": Decimal(s["cost"]),
            }
            for p in self._doc["plans"]
            for s in p["segments"]
        ]
        return pd.DataFrame(rows, columns=["plan", "segment", "partners", "cost"])

    def __reduce__(self) -> tuple[type[Comparison], tuple[str]]:
        return (Comparison, (self._text,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Comparison) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"<Comparison plans=[{', '.join(p['plan'] for p in self._doc['plans'])}]>"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def simulate(
    scenario: ScenarioLike,
    plans: Sequence[PlanLike],
    *,
    runs: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    engine: bool = False,
) -> Simulation:
    """Monte Carlo (SPEC §13): generates the scenario's runs and evaluates every plan on each.

    ``runs`` and ``seed`` override the scenario's; ``threads`` sets the worker threads (the
    numbers do not depend on it); ``engine=True`` evaluates every plan with the engine on the
    generated events instead of the simulator's fast path (same numbers, much slower). The
    GIL is released while the core works. Use `Simulation.summary` and `Simulation.runs`
    for DataFrames.
    """
    return Simulation(_native.simulate_json(scenario, list(plans), runs, seed, threads, engine))


def compare(input: str | bytes | Mapping[str, Any], plans: Sequence[PlanLike]) -> Comparison:
    """Backtest: evaluates the input document's events (its own ``plan`` is ignored) under
    each plan; each plan's numbers are those of its own `evaluate` report."""
    return Comparison(_native.compare_json(input, list(plans)))


def sweep_points(base: PlanLike, vary: Sequence[str]) -> list[tuple[list[Any], Plan]]:
    """The grid of a sweep: for each point the value of each axis and its `Plan`. ``vary``
    holds ``POINTER=V1,V2`` or ``POINTER=FROM..TO:STEP`` specs, e.g.
    ``"/rules/0/reward/percent=10..30:5"``; every point is validated as a plan."""
    return [(json.loads(values), plan) for values, plan in _native.sweep_points(base, list(vary))]


def _point(
    scenario: ScenarioLike, plan: Plan, runs: int | None, seed: int | None
) -> dict[str, Any]:
    """One grid point's simulation, as its plan's part of the result (what a Dask worker
    computes and sends back)."""
    sim = json.loads(_native.simulate_json(scenario, [plan], runs, seed, None, False))
    result: dict[str, Any] = sim["plans"][0]
    return result


def sweep(
    scenario: ScenarioLike,
    base: PlanLike,
    vary: Sequence[str],
    *,
    runs: int | None = None,
    seed: int | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Parameter sweep: the base plan over the grid of ``vary`` (see `sweep_points`), each
    point simulated on the scenario; one row per point: the axes' values under their
    pointers, then the point's summary (``cost_p50``, ...).

    With a Dask ``distributed.Client`` as ``client``, the points are simulated on its workers
    (scenario and plans travel pickled); the table is the one a local run gives.
    """
    pd = _pandas()
    points = sweep_points(base, vary)
    plans = [p for _, p in points]
    if client is None:
        sim = json.loads(_native.simulate_json(scenario, plans, runs, seed, None, False))
        rows = [_flat_summary(p) for p in sim["plans"]]
    else:
        n = len(plans)
        futures = client.map(_point, [scenario] * n, plans, [runs] * n, [seed] * n, pure=False)
        rows = [_flat_summary(p) for p in client.gather(futures)]
    pointers = [v.split("=", 1)[0] for v in vary]
    table = []
    for (values, _), row in zip(points, rows, strict=True):
        table.append({**dict(zip(pointers, values, strict=True)), **row})
    return pd.DataFrame(table)


def sweep_backtest(
    input: str | bytes | Mapping[str, Any], base: PlanLike, vary: Sequence[str]
) -> pd.DataFrame:
    """Backtest sweep: the base plan over the grid of ``vary`` (see `sweep_points`), every
    point evaluated on the input document's events (its own ``plan`` is ignored), the first
    point being the baseline; one row per point: the axes' values under their pointers, then
    the point's row of `Comparison.summary` (``cost``, ``cpa``, ``winners``, ...)."""
    pd = _pandas()
    points = sweep_points(base, vary)
    rows = compare(input, [p for _, p in points]).summary().to_dict("records")
    pointers = [v.split("=", 1)[0] for v in vary]
    table = []
    for (values, _), row in zip(points, rows, strict=True):
        table.append({**dict(zip(pointers, values, strict=True)), **row})
    return pd.DataFrame(table)


def scenario_json_schema() -> str:
    """The JSON Schema of the scenario document, generated from the core's types."""
    return _native.scenario_json_schema()
