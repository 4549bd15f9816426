"""The simulator from Python: DataFrames with exact money, the same numbers as the core's
JSON, pickling of scenarios, plans and results, errors with codes and paths, a sweep fanned
out on a Dask LocalCluster equal to the local one, and the docs' plotting example."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import partnerkit

ROOT = Path(__file__).resolve().parents[2]


def scenario_doc(runs: int = 20) -> dict[str, Any]:
    return {
        "schema": "partnerkit/scenario@1",
        "id": "py",
        "currency": "USD",
        "start": "2026-01-01",
        "months": 6,
        "runs": runs,
        "seed": 11,
        "margin": "0.6",
        "populations": [
            {
                "segment": "affiliate",
                "partners": 30,
                "touches_per_month": {"lognormal": {"median": "20", "sigma": "0.7"}},
                "conversion_rate": {"beta": {"alpha": "2", "beta": "30"}},
                "subscription": {
                    "price": {"fixed": "29"},
                    "monthly_churn": {"fixed": "0.1"},
                },
                "refund_rate": {"fixed": "0.05"},
            },
            {
                "segment": "agency",
                "partners": 10,
                "touches_per_month": {"fixed": "10"},
                "conversion_rate": {"fixed": Decimal("0.08")},
                "order_value": {"lognormal": {"median": "300", "sigma": "0.5"}},
            },
        ],
    }


def plan(pid: str = "p", percent: str = "20") -> dict[str, Any]:
    return {
        "schema": "partnerkit/plan@1",
        "id": pid,
        "currency": "USD",
        "rules": [{"id": "r", "reward": {"percent": percent}}],
    }


def tiered() -> dict[str, Any]:
    doc = plan("tiered")
    doc["rules"] = [{"id": "t", "reward": {"percent_by_tier": {"bronze": "15", "gold": "30"}}}]
    doc["tiers"] = {
        "levels": [
            {"id": "bronze"},
            {"id": "gold", "requires": {"any": [{"metric": "referrals", "at_least": "2"}]}},
        ]
    }
    return doc


def test_simulate_gives_dataframes_of_the_core_numbers() -> None:
    sim = partnerkit.simulate(partnerkit.Scenario.from_dict(scenario_doc()), [plan(), tiered()])
    doc = json.loads(sim.to_json())
    summary = sim.summary()
    assert list(summary["plan"]) == ["p", "tiered"]
    assert list(summary["path"]) == ["fast", "fast"]
    assert summary.loc[0, "cost_p50"] == Decimal(doc["plans"][0]["summary"]["cost"]["p50"])
    assert isinstance(summary.loc[1, "roi_p95"], Decimal)
    runs = sim.runs()
    assert len(runs) == 40
    assert {"cost[affiliate]", "cost[agency]", "tier[bronze]", "tier[gold]"} <= set(runs.columns)
    first = runs[runs["plan"] == "p"].iloc[0]
    assert first["cost"] == first["cost[affiliate]"] + first["cost[agency]"]
    assert first["cost"] == Decimal(doc["plans"][0]["runs"][0]["cost"])
    # The same seed gives the same bytes, whatever the thread count.
    again = partnerkit.simulate(scenario_doc(), [plan(), tiered()], threads=1)
    assert again == sim


def test_engine_path_gives_the_same_numbers() -> None:
    fast = partnerkit.simulate(scenario_doc(runs=2), [tiered()])
    slow = partnerkit.simulate(scenario_doc(runs=2), [tiered()], engine=True)
    assert fast.runs().equals(slow.runs())


def test_scenarios_plans_and_results_pickle() -> None:
    scenario = partnerkit.Scenario.from_dict(scenario_doc())
    back = pickle.loads(pickle.dumps(scenario))
    assert back == scenario and hash(back) == hash(scenario)
    sim = partnerkit.simulate(scenario, [partnerkit.Plan.from_dict(plan())], runs=3)
    assert pickle.loads(pickle.dumps(sim)) == sim
    inp = backtest_input()
    cmp = partnerkit.compare(inp, [plan("a", "10"), plan("b", "30")])
    assert pickle.loads(pickle.dumps(cmp)) == cmp


def backtest_input() -> dict[str, Any]:
    events = []
    for i, (partner, amount) in enumerate([("ana", "100.00"), ("bo", "40.00"), ("ana", "60.00")]):
        events.append(
            {
                "id": f"t{i}",
                "kind": "touch",
                "at": f"2026-01-0{i + 1}T10:00:00Z",
                "partner": partner,
                "customer": f"c{i}",
                "channel": "link",
            }
        )
        events.append(
            {
                "id": f"p{i}",
                "kind": "payment",
                "at": f"2026-01-0{i + 1}T11:00:00Z",
                "customer": f"c{i}",
                "amount": amount,
                "currency": "USD",
            }
        )
    return {
        "partners": [{"id": "ana", "segment": "affiliate"}, {"id": "bo", "segment": "agency"}],
        "events": events,
        "as_of": "2026-03-01T00:00:00Z",
    }


def test_compare_equals_separate_evaluations() -> None:
    inp = backtest_input()
    plans = [plan("ten", "10"), plan("thirty", "30")]
    cmp = partnerkit.compare(inp, plans)
    summary = cmp.summary()
    for i, p in enumerate(plans):
        report = partnerkit.evaluate({**inp, "plan": p}).to_dict()
        assert summary.loc[i, "cost"] == report["metrics"]["program"]["commission"]
    # ana: 160 → 16.00 vs 48.00; bo: 40 → 4.00 vs 12.00. Everybody wins 32.00 + 8.00.
    partners = cmp.partners().set_index("partner")
    assert partners.loc["ana", "earnings[ten]"] == Decimal("16.00")
    assert partners.loc["ana", "earnings[thirty]"] == Decimal("48.00")
    assert summary.loc[1, "winners"] == 2 and summary.loc[1, "won"] == Decimal("40.00")
    seg = cmp.segments()
    assert list(seg[seg["plan"] == "ten"]["cost"]) == [Decimal("16.00"), Decimal("4.00")]


def test_errors_carry_codes_and_paths() -> None:
    bad = scenario_doc()
    bad["months"] = 0
    bad["populations"][0]["conversion_rate"] = {"fixed": "5"}
    problems = partnerkit.Scenario.from_dict(bad).validate()
    assert [(p.code, p.path) for p in problems] == [
        ("InvalidValue", "scenario.months"),
        ("InvalidValue", "scenario.populations[0].conversion_rate.fixed"),
    ]
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.simulate(bad, [plan()])
    assert info.value.path == "scenario.months"
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.simulate(scenario_doc(), [plan(percent="150")])
    assert info.value.path == "plans[0].rules[0].reward.percent"
    with pytest.raises(partnerkit.InvalidValueError):
        partnerkit.Scenario.from_dict({"runs": 1.5})
    with pytest.raises(partnerkit.InvalidValueError) as info:
        partnerkit.sweep_points(plan(), ["/rules/0/reward/percent=10,500"])
    assert info.value.path == "plan.rules[0].reward.percent"


def test_sweep_tabulates_the_grid() -> None:
    table = partnerkit.sweep(scenario_doc(runs=5), plan(), ["/rules/0/reward/percent=10..30:10"])
    assert list(table["/rules/0/reward/percent"]) == ["10", "20", "30"]
    assert table["cost_p50"].is_monotonic_increasing
    # Each point is the plan a direct simulation of it gives.
    direct = partnerkit.simulate(scenario_doc(runs=5), [plan(percent="20")]).summary()
    assert table.loc[1, "cost_p50"] == direct.loc[0, "cost_p50"]


def test_backtest_sweep_tabulates_the_grid() -> None:
    # The input's payments are 100 + 40 + 60 = 200.00, all attributed: 10% costs 20.00, 20%
    # 40.00, 30% 60.00; against the first point every partner wins at 20% and 30%.
    table = partnerkit.sweep_backtest(
        backtest_input(), plan(), ["/rules/0/reward/percent=10..30:10"]
    )
    assert list(table["/rules/0/reward/percent"]) == ["10", "20", "30"]
    assert list(table["cost"]) == [Decimal("20.00"), Decimal("40.00"), Decimal("60.00")]
    assert list(table["winners"]) == [0, 2, 2]
    assert table.loc[2, "won"] == Decimal("40.00")


def test_sweep_fans_out_on_dask_with_the_same_table() -> None:
    distributed = pytest.importorskip("distributed")
    vary = ["/rules/0/reward/percent=10..25:5"]
    scenario = partnerkit.Scenario.from_dict(scenario_doc(runs=8))
    local = partnerkit.sweep(scenario, plan(), vary)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        fanned = partnerkit.sweep(scenario, plan(), vary, client=client)
    assert fanned.equals(local)
    assert len(local) == 4


def test_docs_example_draws_the_cost_distributions(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "costs.png"
    script = ROOT / "docs" / "examples" / "plot_cost_distributions.py"
    done = subprocess.run(
        [sys.executable, str(script), str(out), "--runs", "60", "--partners", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cost_p50" in done.stdout


def test_scenario_schema() -> None:
    schema = json.loads(partnerkit.scenario_json_schema())
    assert schema["title"] == "partnerkit scenario"
    assert (ROOT / "docs" / "scenario.schema.json").read_text() == partnerkit.scenario_json_schema()
